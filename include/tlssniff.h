/* tlssniff.h - what a TLS handshake shows in the clear: the version, the SNI, the certificate.
 *
 * Fed the server's bytes once TLS starts (after STARTTLS/STLS or from the first byte on an
 * implicit-TLS port). Reads TLS records (RFC 8446 section 5.1), gathers the first handshake
 * message across records, and returns the ServerHello's version: the supported_versions
 * extension (RFC 8446 section 4.2.1) when present, else legacy_version. SSLv3 records are
 * read alike. At TLS 1.2 and older it then reads the server's Certificate (RFC 5246 section
 * 7.4.2) for its first certificate's subject and issuer. A client sniffer reads the client's
 * ClientHello for its server_name (RFC 6066 section 3) the same way. Buffers at most
 * TLSSNIFF_MAX_BYTES, allocated on first use. */
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

/* Returns a new sniffer of the server's bytes (free with tlssniff_free). */
struct tlssniff *tlssniff_new(void);
/* Returns a new sniffer of the client's bytes: DONE once a ClientHello is read (*version its
 * legacy_version), NOT_TLS when the first handshake message is none (free with tlssniff_free). */
struct tlssniff *tlssniff_new_client(void);

/* A DONE client sniffer's server_name (its first host_name, cut to TLSSNIFF_MAX_SNI bytes,
 * raw wire bytes in *name, borrowed from t): its length, 0 when the ClientHello had none. */
size_t tlssniff_sni(const struct tlssniff *t, const uint8_t **name);

/* True while a server sniffer, DONE at TLS 1.2 or older, still reads the Certificate: feeding
 * goes on (its verdict stays DONE) until this is false. */
bool tlssniff_wants_cert(const struct tlssniff *t);

/* The first certificate's subject and issuer in RFC 4514 form (printable ASCII), borrowed from
 * t; NULL when no Certificate was read (TLS 1.3, a resumed session, a malformed or cut one). */
const char *tlssniff_cert_subject(const struct tlssniff *t);
const char *tlssniff_cert_issuer(const struct tlssniff *t);

/* Renders the DER X.509 Name der[0..len) (a whole SEQUENCE; RFC 5280 section 4.1.2.4) into
 * out (cap >= 8) in RFC 4514 form: the RDNs last first, short names for CN, C, L, ST, STREET,
 * O, OU, DC and UID with their string values escaped (every byte outside printable ASCII as a
 * hex pair), other attributes in dotted form with '#' and the value's BER in hex. A name longer
 * than cap is cut and ends in "...". False, with out undefined, when the DER is malformed. */
bool tlssniff_dn_format(const uint8_t *der, size_t len, char *out, size_t cap);

/* Reads the issuer and subject of the DER certificate der[0..len), which may be cut after its
 * subject, into issuer and subject (each cap bytes, as tlssniff_dn_format). False when they
 * cannot be read. */
bool tlssniff_cert_names(const uint8_t *der, size_t len, char *subject, char *issuer, size_t cap);
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
    struct tlssniff *c; /* owned; the client's ClientHello reader, while it reads */
    bool is_over;       /* the verdict is in (and the certificate read, or never to be) */
    bool has_version;   /* the ServerHello was read */
    bool is_client_over;
};

/* Feeds server bytes (borrowed) of the session s (borrowed); does nothing once over. Writes
 * the version, then at TLS 1.2 and older the certificate's names (cert_subject, cert_issuer). */
void tlssniff_leg_feed(struct tlssniff_leg *l, struct session *s, struct parse_stats *st,
                       const uint8_t *data, size_t len);

/* Server bytes were lost: the record framing is gone and no version can be read any more. */
void tlssniff_leg_lost(struct tlssniff_leg *l, struct session *s, struct parse_stats *st);

/* Feeds client bytes (borrowed) once the client speaks TLS: the ClientHello's server_name
 * goes into s (sni). Does nothing once the client's hello is read or the leg is over. */
void tlssniff_leg_client(struct tlssniff_leg *l, struct session *s, struct parse_stats *st,
                         const uint8_t *data, size_t len);

/* Client bytes were lost: no ClientHello will be read. */
void tlssniff_leg_client_lost(struct tlssniff_leg *l, struct parse_stats *st);

/* Frees the sniffers, if any, releasing their charge in st. */
void tlssniff_leg_free(struct tlssniff_leg *l, struct parse_stats *st);

#endif
