/* tlssniff.h - the negotiated TLS version from the server's ServerHello.
 *
 * Fed the server's bytes once TLS starts (after STARTTLS/STLS or from the first byte on an
 * implicit-TLS port). Reads TLS records (RFC 8446 section 5.1), gathers the first handshake
 * message across records, and returns the ServerHello's version: the supported_versions
 * extension (RFC 8446 section 4.2.1) when present, else legacy_version. SSLv3 records are
 * read alike. Buffers at most TLSSNIFF_MAX_BYTES, allocated on first use. */
#ifndef PLAINSIGHT_TLSSNIFF_H
#define PLAINSIGHT_TLSSNIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct parse_stats;
struct session;
struct tlssniff;

enum tlssniff_status {
    TLSSNIFF_MORE = 0, /* no verdict yet: feed more */
    TLSSNIFF_DONE,     /* *version holds the negotiated version (0x0300 .. 0x0304) */
    TLSSNIFF_NOT_TLS,  /* not a TLS stream, or no ServerHello within the limit: stop feeding */
};

/* TLS record content types (RFC 8446 section 5.1). A client that sends a handshake record's
 * first byte where a command should start has begun TLS. */
#define TLSSNIFF_CT_CHANGE_CIPHER_SPEC 20u
#define TLSSNIFF_CT_ALERT              21u
#define TLSSNIFF_CT_HANDSHAKE          22u
#define TLSSNIFF_CT_APPLICATION_DATA   23u

/* True when p begins with a TLS record header (RFC 8446 section 5.1: content type 20 to 23,
 * legacy version 3.0 to 3.4): no cleartext mail stream has such bytes where a segment starts. */
bool tlssniff_is_record(const uint8_t *p, size_t len);

/* Returns a new sniffer (free with tlssniff_free). */
struct tlssniff *tlssniff_new(void);
/* Frees t; NULL does nothing. */
void tlssniff_free(struct tlssniff *t);

/* Feeds server bytes (borrowed). Once DONE or NOT_TLS, later calls return the same verdict. */
enum tlssniff_status tlssniff_feed(struct tlssniff *t, const uint8_t *data, size_t len,
                                   uint16_t *version);

/* After a gap the record framing is lost: the sniffer gives up (NOT_TLS) unless done. */
void tlssniff_gap(struct tlssniff *t);

/* The TLS leg of a mail session, as every parser keeps it: a sniffer made on the server's
 * first TLS byte, its verdict written into the session (tls_version; is_parse_done, since
 * nothing more can be learnt), tls_not_found counted when there is none. While a sniffer
 * lives, its buffer's cost is added to st->tls_mem, which flow charges against the memory cap.
 * Zeroed to start. */
struct tlssniff_leg {
    struct tlssniff *t; /* owned; NULL before the first byte and after the verdict */
    bool is_over;       /* the verdict is in */
};

/* Feeds server bytes (borrowed) of the session s (borrowed); does nothing once over. */
void tlssniff_leg_feed(struct tlssniff_leg *l, struct session *s, struct parse_stats *st,
                       const uint8_t *data, size_t len);

/* Server bytes were lost: the record framing is gone and no version can be read any more. */
void tlssniff_leg_lost(struct tlssniff_leg *l, struct session *s, struct parse_stats *st);

/* Frees the sniffer, if any, releasing its charge in st. */
void tlssniff_leg_free(struct tlssniff_leg *l, struct parse_stats *st);

#endif
