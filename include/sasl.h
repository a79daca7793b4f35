/* sasl.h - SASL exchanges seen in the clear, shared by POP3 AUTH, IMAP AUTHENTICATE and
 * SMTP AUTH.
 *
 * The protocol parser frames the exchange (which line is the client's response, which the
 * server's challenge, when the server gave its verdict); sasl decodes the base64 and reads the
 * mechanism's messages: PLAIN (RFC 4616), LOGIN (draft-murchison-sasl-login), CRAM-MD5
 * (RFC 2195), DIGEST-MD5 (RFC 2831), XOAUTH2 (Google), OAUTHBEARER (RFC 7628) and the user
 * name of SCRAM-* (RFC 5802). A credential is added to the session only when a message showed
 * a user or a secret; malformed base64 is counted and never reported. */
#ifndef PLAINSIGHT_SASL_H
#define PLAINSIGHT_SASL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tunables.h"

struct session;
struct credential;
struct parse_stats;

enum sasl_mech {
    SASL_MECH_OTHER = 0, /* a mechanism we cannot read: counted, no credential */
    SASL_MECH_PLAIN,
    SASL_MECH_LOGIN,
    SASL_MECH_CRAM_MD5,
    SASL_MECH_DIGEST_MD5,
    SASL_MECH_XOAUTH2,
    SASL_MECH_OAUTHBEARER,
    SASL_MECH_SCRAM, /* SCRAM-SHA-1, SCRAM-SHA-256 and -PLUS variants */
};

/* One exchange in progress. Lives inside the parser state; fields are private to sasl.c. */
struct sasl {
    enum sasl_mech mech;
    char name[FINDING_MAX_MECH]; /* upper-cased mechanism name as the client sent it */
    unsigned step;               /* client messages seen so far */
    bool is_active;
    bool is_blind;           /* a gap in the server's bytes may have hidden the verdict */
    bool has_server;         /* the server sent a challenge (or bytes a gap lost) in it */
    struct session *s;       /* borrowed */
    struct parse_stats *st;  /* borrowed */
    struct credential *cred; /* borrowed from s; NULL until a message showed something */
    uint8_t challenge[FINDING_MAX_CHALLENGE]; /* last decoded server challenge */
    size_t challenge_len;
};

/* Decodes RFC 4648 base64 (padded to a multiple of 4, or unpadded with 2 or 3 characters past
 * one, as some clients send; no whitespace inside) from in[0..len) into out[0..cap). Returns
 * true and sets *out_len on success; false for a bad character, bad padding, or output past
 * cap. An empty input, or "=" alone (the SASL empty response), decodes to zero bytes. */
bool sasl_b64_decode(const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *out_len);

/* Starts an exchange: the client named mechanism mech[0..mech_len) and, when has_ir, sent the
 * initial response ir[0..ir_len) (base64, "=" for empty) on the same line. Borrows s and st
 * for the exchange's life. */
void sasl_start(struct sasl *x, struct session *s, struct parse_stats *st, const uint8_t *mech,
                size_t mech_len, const uint8_t *ir, size_t ir_len, bool has_ir);

/* A server challenge (the text after "+ " or "334 "), base64. */
void sasl_server(struct sasl *x, const uint8_t *b64, size_t len);

/* A client response line during the exchange. "*" cancels it (counted). Returns false when
 * the exchange is over (cancelled), true while it goes on. */
bool sasl_client(struct sasl *x, const uint8_t *line, size_t len);

/* What a client line did to the exchange (sasl_client_line). */
enum sasl_line {
    SASL_LINE_MORE = 0, /* a message of the exchange, which goes on */
    SASL_LINE_END,      /* the exchange is over (cancelled, or its last message after a gap);
                           what follows is commands, and the server's verdict may still come */
    SASL_LINE_COMMAND,  /* after a gap: not a SASL message, so the exchange ended unseen and
                           this line is a command for the parser to read */
};

/* A client line during the exchange, as sasl_client. After a gap in the server's bytes the
 * exchange is read only up to the mechanism's last message that can carry the user or secret
 * (PLAIN, CRAM-MD5, XOAUTH2, OAUTHBEARER: one; LOGIN, DIGEST-MD5, SCRAM: two), and a line
 * that cannot be a SASL message (a space or a colon: not base64, "=" or "*") ends it, so a
 * later command is never taken for a SASL message. */
enum sasl_line sasl_client_line(struct sasl *x, const uint8_t *line, size_t len);

/* A gap in the exchange. When is_server_side and the client still owes messages that can
 * carry the user or secret, they are read on (the server's bytes cannot change what the
 * client sends), with the outcome unknown; returns true. Otherwise the exchange is abandoned
 * with the outcome unknown; returns false. */
bool sasl_gap(struct sasl *x, bool is_server_side);

/* The server's verdict: sets the credential's result (if one was added) and ends the
 * exchange. */
void sasl_finish(struct sasl *x, int is_success);

/* The server's reply cannot answer this exchange (the stream was out of step, as when a
 * capture starts inside a message body that holds an AUTH line): the credential it added, if
 * any, is dropped (counted in parse_stats.auth_desync) and the exchange ends. */
void sasl_discard(struct sasl *x);

/* Ends the exchange with the result unknown (gap, session end). */
void sasl_abort(struct sasl *x);

/* Wipes the challenge buffer. */
void sasl_wipe(struct sasl *x);

#endif
