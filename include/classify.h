/* classify.h - which mail protocol a TCP flow speaks, and which side is the server.
 *
 * Known mail ports decide first: SMTP 25/587/2525, POP3 110, IMAP 143, and the implicit-TLS
 * ports 465, 995, 993. On every other TCP port nDPI looks at the first packets of the flow
 * (both directions) and names POP3, IMAP and SMTP flows, so mail on 8110 or 10143 is found as
 * surely as on 110 and 143. The only module that includes nDPI's headers. */
#ifndef PLAINSIGHT_CLASSIFY_H
#define PLAINSIGHT_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "finding.h"

struct parser_ops;
struct pkt;
struct classify;
struct classify_flow;

struct classify_result {
    enum finding_proto protocol; /* FINDING_PROTO_UNKNOWN: not mail */
    bool is_implicit_tls;
    bool is_server_dst;           /* the destination port is the mail port (port verdicts) */
    const struct parser_ops *ops; /* the parser to use; NULL when not mail */
};

enum classify_verdict {
    CLASSIFY_MORE = 0, /* no verdict yet: feed the flow's next packet */
    CLASSIFY_MAIL,     /* *out names the protocol and parser */
    CLASSIFY_NOT_MAIL, /* another protocol, or nDPI gave up */
};

struct classify_stats {
    uint64_t flows;        /* flows nDPI looked at */
    uint64_t packets;      /* packets handed to nDPI */
    uint64_t mail;         /* flows nDPI named POP3, IMAP or SMTP */
    uint64_t not_mail;     /* flows nDPI named something else */
    uint64_t unsupported;  /* mail flows of a protocol with no parser in this build */
    uint64_t ndpi_started; /* 1 once nDPI's module is set up (a lazy classifier may never) */
    uint64_t ndpi_failed;  /* 1 when setting it up failed: flows it would judge are not mail */
};

/* What the first bytes a server sends say, on a flow whose start was seen (so that these are
 * its first bytes): mail servers speak first, with a greeting of a known form. */
enum classify_greeting {
    CLASSIFY_GREETING_NONE = 0, /* not a mail greeting */
    CLASSIFY_GREETING_SHORT,    /* too few bytes to tell: wait for more */
    CLASSIFY_GREETING_POP3,     /* "+OK" (RFC 1939) */
    CLASSIFY_GREETING_IMAP,     /* "* OK", "* PREAUTH", "* BYE" (RFC 9051) */
    CLASSIFY_GREETING_SMTP,     /* "220" (RFC 5321); FTP greets alike, so the client's first
                                   line must confirm it (classify_is_smtp_hello) */
};

/* Reads the first len bytes a server sent (borrowed). */
enum classify_greeting classify_greeting(const uint8_t *p, size_t len);

/* True when p begins with a TLS record header (RFC 8446 section 5.1: content type 20 to 23,
 * legacy version 3.x): no cleartext mail stream has such bytes where a segment starts. */
bool classify_is_tls_record(const uint8_t *p, size_t len);

/* True when the client's first bytes begin with EHLO or HELO (any case): SMTP, not FTP. */
bool classify_is_smtp_hello(const uint8_t *p, size_t len);

/* Fills *out for a SOCKS5 connection: the wrapper parser, protocol unknown until it sees a
 * CONNECT to a mail port. */
void classify_for_socks(struct classify_result *out);

/* Fills *out for protocol (cleartext start). Returns false when the build has no parser. */
bool classify_for_protocol(enum finding_proto protocol, struct classify_result *out);

/* True for a mail port with a parser in this build (a few instructions: the fast path asks it
 * of every packet). */
bool classify_is_mail_port(uint16_t port);

/* Classifies by port alone: sport and dport of one packet. Returns true for a mail port with
 * a parser in this build. */
bool classify_port(uint16_t sport, uint16_t dport, struct classify_result *out);

/* Returns a classifier (free with classify_free): with is_ndpi, nDPI is set up for flows on
 * other ports; without it (port-only mode) classify_flow_new always returns NULL. NULL when
 * nDPI cannot be set up. */
struct classify *classify_new(bool is_ndpi);

/* A classifier that sets nDPI up when the first flow needs it: nDPI's start-up (tens of
 * milliseconds and a few MiB) is spared when every flow is judged by its port or by the
 * content rules, as in a capture whose connections start inside it. If it then fails, the
 * flows it would have judged are not mail (counted in ndpi_failed). */
struct classify *classify_new_lazy(void);
void classify_free(struct classify *c);

/* True when nDPI looks at flows on other ports (not port-only mode), lazily or not. */
bool classify_is_active(const struct classify *c);

/* Bytes of per-flow state classify_flow_new allocates (for the memory cap). */
size_t classify_flow_size(void);

/* Returns new per-flow nDPI state (free with classify_flow_free), or NULL in port-only
 * mode. */
struct classify_flow *classify_flow_new(struct classify *c);
void classify_flow_free(struct classify_flow *cf);

/* Hands one packet of the flow (borrowed; its l3 bytes) to nDPI. On CLASSIFY_MAIL fills *out
 * (is_server_dst is not set: the caller knows the sides). */
enum classify_verdict classify_packet(struct classify *c, struct classify_flow *cf,
                                      const struct pkt *p, struct classify_result *out);

/* Gives up on the flow: nDPI's final word from what it saw. */
enum classify_verdict classify_giveup(struct classify *c, struct classify_flow *cf,
                                      struct classify_result *out);

/* Counters (borrowed). */
const struct classify_stats *classify_get_stats(const struct classify *c);

/* nDPI's version string, or "none". */
const char *classify_lib_version(void);

#endif
