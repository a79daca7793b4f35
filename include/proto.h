/* proto.h - the interface every mail protocol parser implements.
 *
 * A parser sees the two byte streams of one session in order, never packets: flow hands it
 * what reasm delivered, direction by direction, in capture order, and tells it about gaps.
 * It writes what it learns into the session record (finding.h). Parsers keep no globals; their
 * counters go into the struct parse_stats they were created with. */
#ifndef PLAINSIGHT_PROTO_H
#define PLAINSIGHT_PROTO_H

#include <stddef.h>
#include <stdint.h>

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

/* Counters shared by every parser of a run; each module bumps its own fields. */
struct parse_stats {
    uint64_t lines;                /* complete lines parsed */
    uint64_t overlong_lines;       /* lines past LINE_MAX_LEN, discarded to their LF */
    uint64_t gaps;                 /* gaps a parser resynchronised after */
    uint64_t unknown_commands;     /* client lines that are no command of the protocol */
    uint64_t pending_overflow;     /* commands past PARSE_MAX_PENDING awaiting a response */
    uint64_t sasl_bad_base64;      /* SASL lines that are not valid base64: not reported */
    uint64_t sasl_malformed;       /* decoded SASL messages without the mechanism's form */
    uint64_t sasl_cancelled;       /* exchanges the client cancelled with "*" */
    uint64_t sasl_unsupported;     /* mechanisms whose messages we cannot read */
    uint64_t creds_dropped;        /* credentials past FINDING_MAX_CREDS in a session */
    uint64_t starttls_injection;   /* cleartext commands pipelined after STARTTLS/STLS */
    uint64_t tls_not_found;        /* TLS expected but no ServerHello could be read */
    uint64_t not_protocol;         /* streams given up as not this protocol */
    uint64_t auth_desync;          /* credentials dropped: read from a message body that a
                                      capture begun mid-session took for commands */
    uint64_t midstream_unanswered; /* credentials dropped at the end of a session begun
                                      before the capture: never answered, they may have been
                                      message text read as commands */
    uint64_t socks_tunnels;        /* SOCKS5 connections to a mail port, unwrapped */
    uint64_t socks_not_mail;       /* SOCKS5 connections elsewhere, refused or not followed */
    uint64_t smtp_bare_lf_dot;     /* DATA body lines "." with a bare LF before or after it:
                                      content, not the end of the body (RFC 5321 4.1.1.4) */
};

/* Flags a parser is created with. */
#define PARSE_F_IMPLICIT_TLS 0x1u /* the port speaks TLS from the first byte */
#define PARSE_F_MIDSTREAM    0x2u /* the capture began after the session did (no SYN seen) */

/* Returns a new parser state writing into s (borrowed; outlives the parser) and counting in
 * st (borrowed). Free with the matching free function. */
typedef void *parse_new_fn(struct session *s, struct parse_stats *st, unsigned flags);
/* Feeds len bytes of direction dir (borrowed, valid during the call). Sets *consumed (always
 * len unless PARSE_ERROR) and returns the status above. */
typedef enum parse_status parse_feed_fn(void *p, enum parse_dir dir, const uint8_t *data,
                                        size_t len, size_t *consumed);
/* len bytes of direction dir were lost: drop any partial line, resynchronise at the next. */
typedef void parse_gap_fn(void *p, enum parse_dir dir, uint64_t len);
/* The session is over: settle verdicts (STARTTLS posture) into the record. */
typedef void parse_end_fn(void *p);
/* Frees the state; wipes any buffered secret. NULL does nothing. */
typedef void parse_free_fn(void *p);

struct parser_ops {
    const char *name;
    size_t state_size; /* bytes new_parser allocates at most (nested parsers included), for
                          the memory cap; a TLS sniffer's buffer comes out of its headroom */
    parse_new_fn *new_parser;
    parse_feed_fn *feed;
    parse_gap_fn *gap;
    parse_end_fn *end;
    parse_free_fn *free_parser;
};

#endif
