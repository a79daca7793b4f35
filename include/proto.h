/* proto.h - the interface every mail protocol parser implements.
 *
 * A parser sees the two byte streams of one session in order, never packets: flow hands it
 * what reasm delivered, direction by direction, in capture order, and tells it about gaps.
 * It writes what it learns into the session record (finding.h). Parsers keep no globals; their
 * counters go into the struct parse_stats they were created with. */
#ifndef PLAINSIGHT_PROTO_H
#define PLAINSIGHT_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tunables.h"

struct credential;
struct session;

enum parse_status {
    PARSE_OK = 0,    /* every byte consumed, ends on a complete unit */
    PARSE_NEED_MORE, /* every byte consumed, a partial line or record is buffered */
    PARSE_ERROR,     /* the stream is not this protocol (or beyond repair): stop feeding it */
};

enum parse_dir {
    PARSE_DIR_CLIENT = 0, /* bytes the client sent */
    PARSE_DIR_SERVER = 1, /* bytes the server sent */
};

/* Counters shared by every parser of a run, each bumped by the module it names; each is a run
 * counter "parse.<name>" (counters.h). */
#define PARSE_STATS(X)                                                                             \
    X(lines, "complete lines parsed")                                                              \
    X(overlong_lines, "lines past LINE_MAX_LEN, discarded to their LF")                            \
    X(gaps, "gaps a parser resynchronised after")                                                  \
    X(unknown_commands, "client lines that are no command of the protocol")                        \
    X(pending_overflow, "commands past PARSE_MAX_PENDING awaiting a response")                     \
    X(sasl_bad_base64, "SASL lines that are not valid base64: not reported")                       \
    X(sasl_malformed, "decoded SASL messages without the mechanism's form")                        \
    X(sasl_cancelled, "exchanges the client cancelled with \"*\"")                                 \
    X(sasl_unsupported, "mechanisms whose messages we cannot read")                                \
    X(creds_dropped, "credentials past FINDING_MAX_CREDS in a session")                            \
    X(starttls_injection, "cleartext commands pipelined after STARTTLS/STLS")                      \
    X(smtp_bare_lf_dot, "DATA body lines \".\" with a bare LF before or after it: content, not "   \
                        "the end of the body (RFC 5321 4.1.1.4)")                                  \
    X(auth_desync, "credentials dropped: read from a message body that a capture begun "           \
                   "mid-session took for commands")                                                \
    X(midstream_unanswered, "credentials dropped at the end of a session begun before the "        \
                            "capture: never answered, they may have been message text")            \
    X(socks_tunnels, "SOCKS5 connections to a mail port, unwrapped")                               \
    X(socks_not_mail, "SOCKS5 connections elsewhere, refused or not followed")                     \
    X(httpconnect_tunnels, "HTTP CONNECT tunnels to a mail port, unwrapped")                       \
    X(httpconnect_not_mail, "HTTP CONNECT requests elsewhere, refused, malformed or not followed") \
    X(httpconnect_overlong, "HTTP CONNECT heads past HTTPCONNECT_MAX_HEAD: not followed")          \
    X(httpconnect_bad_auth, "HTTP CONNECT requests with more than one Proxy-Authorization: none "  \
                            "recorded (which the proxy read cannot be told)")                      \
    X(ldap_messages, "LDAP messages framed (each header read, its operation read or skipped)")     \
    X(ldap_overlong, "LDAP binds and StartTLS messages past LDAP_MAX_MESSAGE, or SASL "            \
                     "credentials longer than sasl.c reads: skipped unread")                       \
    X(ldap_bad_ber, "LDAP messages or operations whose BER could not be read")                     \
    X(http_bad_auth, "HTTP credentials that cannot be read (Basic not base64 of user:pass, "       \
                     "Digest without a username, an NTLM message out of its bounds)")              \
    X(http_field_overlong, "HTTP authentication or framing fields past HTTP_MAX_AUTH_FIELD or "    \
                           "HTTP_MAX_FRAMING_FIELD (folded lines included): not read")             \
    X(http_resync, "HTTP start lines that could not be read where one was due (after a gap, "      \
                   "a broken chunk): lines skipped up to the next request or status line")         \
    X(http_unframed, "HTTP bodies whose end cannot be found (a transfer coding other than "        \
                     "chunked, a bad Content-Length): that direction is not read further")         \
    X(http_tunnels, "HTTP connections that became tunnels (CONNECT answered 2xx, 101 Switching "   \
                    "Protocols): not read further")                                                \
    X(tls_not_found, "TLS expected but no ServerHello could be read")                              \
    X(xmpp_overlong, "XMPP tags past XMPP_MAX_TAG or texts past XMPP_MAX_TEXT, cut")               \
    X(not_protocol, "streams given up as not this protocol")

#define PARSE_STATS_FIELD(name, doc) uint64_t name;
struct parse_stats {
    PARSE_STATS(PARSE_STATS_FIELD)
    /* Not counters: bytes the run's TLS sniffers (tlssniff_leg) and the parsers' line buffers
     * (line.h) hold now, charged by flow against the memory cap. */
    size_t tls_mem;
    size_t line_mem;
    /* Bytes of the wrappers that parsers opened inside themselves (HTTP's CONNECT on an HTTP
     * port), charged likewise while they live. */
    size_t tunnel_mem;
};

/* Commands awaiting their answers, oldest first (pipelining): the indexes of a ring of
 * PARSE_MAX_PENDING slots whose storage the parser keeps, since what a slot holds differs from
 * protocol to protocol. Zeroed to start. */
struct parse_ring {
    size_t head, len;
};

/* The slot for a new entry, or PARSE_MAX_PENDING when every slot is taken (counted in
 * st->pending_overflow: the entry's answer will pair with nothing, so its outcome stays
 * unknown). */
size_t parse_ring_push(struct parse_ring *r, struct parse_stats *st);

/* The oldest entry's slot, or PARSE_MAX_PENDING when there is none. */
size_t parse_ring_peek(const struct parse_ring *r);

/* Removes the oldest entry and returns its slot, or PARSE_MAX_PENDING when there is none. */
size_t parse_ring_pop(struct parse_ring *r);

/* Forgets every entry (after a gap: no answer may pair with a command it did not answer). */
void parse_ring_clear(struct parse_ring *r);

/* Flags a parser is created with. */
#define PARSE_F_IMPLICIT_TLS 0x1u /* the port speaks TLS from the first byte */
#define PARSE_F_MIDSTREAM    0x2u /* the capture began after the session did (no SYN seen) */

struct parser_ops;

/* The parser of the protocol served on port, for a wrapper that learns where its tunnel leads:
 * sets *name (static) and *is_tls (implicit TLS). NULL when no protocol is served there. The
 * registry provides it; the wrapper never names another parser. */
typedef const struct parser_ops *parse_lookup_fn(uint16_t port, const char **name, bool *is_tls);

/* The wrapper whose client opens with p[0..len) (the whole first line a client sent), for a
 * parser that finds its session is a wrapper's (HTTP's CONNECT on an HTTP port), or NULL. The
 * registry provides it. */
typedef const struct parser_ops *parse_opener_fn(const uint8_t *p, size_t len);

/* What a parser is created with; every pointer borrowed and outliving the parser. */
struct parse_ctx {
    struct session *s;       /* the record it writes into */
    struct parse_stats *st;  /* the run's parser counters */
    unsigned flags;          /* PARSE_F_* */
    parse_lookup_fn *lookup; /* for wrappers; may be NULL when none is used */
    parse_opener_fn *opener; /* for parsers that may hand over to a wrapper; may be NULL */
};

/* Returns a new parser state (free with the matching free function). Called through
 * parse_open, never directly. */
typedef void *parse_new_fn(const struct parse_ctx *ctx);
/* Feeds len bytes of direction dir (borrowed, valid during the call). Sets *consumed (always
 * len unless PARSE_ERROR) and returns the status above. */
typedef enum parse_status parse_feed_fn(void *p, enum parse_dir dir, const uint8_t *data,
                                        size_t len, size_t *consumed);
/* len bytes of direction dir were lost: drop any partial line, resynchronise at the next. */
typedef void parse_gap_fn(void *p, enum parse_dir dir, uint64_t len);
/* The session is over: settle verdicts (STARTTLS posture) into the record. Called through
 * parse_end. */
typedef void parse_end_fn(void *p);
/* Frees the state; wipes any buffered secret. NULL does nothing. */
typedef void parse_free_fn(void *p);
/* A wrapper's inner parser: its ops and state (*inner), or NULL before the tunnel opens. */
typedef const struct parser_ops *parse_inner_fn(void *p, void **inner);

struct parser_ops {
    const char *name;
    size_t state_size; /* bytes new_parser allocates at most (nested parsers included), for
                          the memory cap; a TLS sniffer's is charged while it lives
                          (parse_stats.tls_mem) */
    /* The client's stream may carry message text besides commands (SMTP DATA and BDAT, IMAP
     * APPEND literals). A parser that came in mid-session may have read a login-like line of
     * such text as a command, so parse_end keeps only the logins the server took part in.
     * False where the client sends commands only (POP3). */
    bool has_client_text;
    /* A session is worth a record only when it shows a credential (HTTP: every web request on
     * the link is a session, and one without a login exposes nothing of an account). False for
     * mail, whose sessions are recorded for their STARTTLS posture too. */
    bool is_login_only;
    parse_new_fn *new_parser;
    parse_feed_fn *feed;
    parse_gap_fn *gap;
    parse_end_fn *end;
    parse_free_fn *free_parser;
    parse_inner_fn *inner; /* wrappers only; NULL for a protocol's own parser */
};

/* Creates the parser of ops for ctx: marks the session as implicit TLS when the flags say so
 * (finding_set_implicit_tls), then calls new_parser. Returns owned state (free with
 * ops->free_parser). */
void *parse_open(const struct parser_ops *ops, const struct parse_ctx *ctx);

/* A wrapper's tunnel (SOCKS5, HTTP CONNECT): the parser of the protocol its proxy connects
 * to. Zeroed to start: closed until parse_tunnel_open. */
struct parse_tunnel {
    const struct parser_ops *ops; /* NULL while closed */
    void *p;                      /* owned */
};

/* Opens the tunnel to port: the parser lookup names (implicit TLS when the port is one),
 * writing into s and counting in st, and s->protocol its name. False, with nothing made, when
 * lookup is NULL or names no protocol there. */
bool parse_tunnel_open(struct parse_tunnel *t, parse_lookup_fn *lookup, uint16_t port,
                       struct session *s, struct parse_stats *st);

/* Feeds len bytes of direction dir (borrowed) to the open tunnel's parser; its status. */
enum parse_status parse_tunnel_feed(struct parse_tunnel *t, enum parse_dir dir, const uint8_t *data,
                                    size_t len);

/* What the wrapper's gap, end and inner ops forward to an open tunnel (nothing when closed),
 * and its free (closed: nothing). */
void parse_tunnel_gap(struct parse_tunnel *t, enum parse_dir dir, uint64_t len);
void parse_tunnel_end(struct parse_tunnel *t);
const struct parser_ops *parse_tunnel_inner(const struct parse_tunnel *t, void **inner);
void parse_tunnel_free(struct parse_tunnel *t);

/* True when credential c of the session the parser p of ops reads may yet be dropped by
 * parse_end (a session begun before the capture, a client that sends message text, a login
 * the server has not taken part in so far): not to be published before its session ends. */
bool parse_is_provisional(const struct parser_ops *ops, void *p, unsigned flags,
                          const struct credential *c);

/* True when the session s that the parser p of ops read (NULL: none was made) is worth a
 * record: always, but for a protocol whose sessions are records only with a credential
 * (is_login_only, of the innermost parser). */
bool parse_is_recorded(const struct parser_ops *ops, void *p, const struct session *s);

/* Ends the session the parser p of ops (with its creation flags) read: its end, then the rule
 * for sessions begun before the capture (has_client_text, of the innermost parser): a
 * credential whose result is unknown and that the server never took part in is dropped and
 * counted in st->midstream_unanswered. */
void parse_end(const struct parser_ops *ops, void *p, struct session *s, unsigned flags,
               struct parse_stats *st);

#endif
