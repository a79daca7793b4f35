/* smtp.c - the SMTP parser: cleartext AUTH, STARTTLS posture and the TLS version.
 *
 * RFC 5321 (commands; replies of three digits, "-" on every line but the last; DATA bodies
 * ending in a lone "."), RFC 4954 (AUTH with SASL: "334" challenges, "*" to cancel, 235 or
 * 4xx/5xx as the verdict), RFC 3207 (STARTTLS), RFC 2920 (PIPELINING: several commands sent
 * before their replies), RFC 3030 (CHUNKING: "BDAT n" followed by exactly n bytes of message).
 *
 * The client's commands go on a queue; each complete reply (at its final line) answers the
 * oldest, except the greeting, which answers nothing, and a 3xx to AUTH, which continues the
 * exchange. That is how a credential gets its outcome and how the EHLO reply's extension list
 * (STARTTLS, AUTH) is told from other replies. Message content is never read as commands: the
 * client's lines are a body from the moment DATA is read (a client sends the body only after
 * 354, but the body lines must never be taken for commands whatever the capture order) until
 * the lone "." or a 4xx/5xx reply to DATA; a BDAT chunk is skipped by its byte count. After a
 * successful STARTTLS, or from the first byte on port 465, the server's bytes go to the TLS
 * sniffer for the version and nothing more is parsed as cleartext; client commands that arrive
 * between STARTTLS and its reply are counted as injected (the CVE-2011-0411 pattern). After a
 * gap the pending replies are forgotten (outcomes become unknown, never guessed), an AUTH
 * exchange is aborted and parsing resumes at the next line; bytes lost inside a DATA body or a
 * BDAT chunk get no reply, so there the body goes on (a BDAT count even absorbs the gap). When
 * the reply to STARTTLS is lost, a TLS record from the client shows that it was a 220.
 *
 * Only CR LF "." CR LF ends a DATA body: a "." next to a bare LF is content (counted), so a
 * message smuggling commands past a lenient server is not read as the client's commands.
 *
 * Known limitations: commands injected after STARTTLS are counted, not parsed, so a
 * credential in them is not recorded even when the server refuses STARTTLS and answers them in
 * the clear. Reassembly reports a server hole only when a later server segment arrives, so a
 * gap that really came before an AUTH can abort it: the responses after it are then read as
 * (unknown) commands and the credential is missed rather than guessed. */
#include "smtp.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "line.h"
#include "ps.h"
#include "sasl.h"
#include "tlssniff.h"
#include "tunables.h"

/* What a pending command's reply settles. */
enum smtp_cmd {
    SMTP_CMD_OTHER = 0, /* nothing we record (MAIL, RCPT, BDAT, HELO, unknown ...) */
    SMTP_CMD_EHLO,      /* 2xx: the extension list; 5xx: the client may fall back to HELO */
    SMTP_CMD_AUTH,      /* 3xx continues the exchange; 2xx/4xx/5xx ends it */
    SMTP_CMD_DATA,      /* 354 lets the body come; 4xx/5xx means no body follows */
    SMTP_CMD_BODY_END,  /* the lone "." of a DATA body: the message's own reply */
    SMTP_CMD_STARTTLS,  /* 2xx: TLS; 4xx/5xx: refused */
};

enum smtp_phase {
    SMTP_CLEAR = 0, /* cleartext commands */
    SMTP_SASL,      /* inside AUTH: client lines are SASL responses */
    SMTP_TLS_WAIT,  /* STARTTLS sent, its reply not seen yet */
    SMTP_TLS,       /* TLS: server bytes to the sniffer, client bytes ignored */
};

struct smtp {
    struct session *s;
    struct parse_stats *st;
    struct line_buf lb[2];
    enum smtp_cmd q[PARSE_MAX_PENDING];
    struct parse_ring ring; /* the indexes of q */
    enum smtp_phase phase;
    bool is_client_tls;   /* the client's bytes are TLS now */
    bool in_body;         /* client lines are a DATA body until a lone "." */
    bool is_body_crlf;    /* in_body: the line before the next one ended in CR LF */
    uint64_t bdat_left;   /* client bytes of a BDAT chunk still to skip */
    bool has_server_line; /* a server reply line was seen */
    bool has_reply;       /* a complete reply was seen: the first one is the greeting */
    /* The reply being read: its lines so far and the extensions they listed. */
    size_t reply_lines;
    bool reply_has_starttls;
    /* What the session showed. */
    bool has_ehlo_ok;       /* EHLO answered 2xx: the extensions are known */
    bool has_ehlo_starttls; /* ... and STARTTLS was among them */
    bool is_ehlo_rejected;  /* EHLO answered 5xx */
    bool has_helo;          /* the client sent HELO */
    bool is_unsynced;       /* begun mid-session, no server reply yet: client lines may be a
                               message body, until a lone "." shows it */
    bool is_starttls_refused;
    bool is_starttls_unanswered; /* STARTTLS sent, its reply lost in a gap */
    struct sasl sasl;
    struct tlssniff_leg tls; /* after STARTTLS, or from the start on implicit TLS */
};

static void *smtp_new(const struct parse_ctx *ctx)
{
    struct smtp *p = xcalloc(1, sizeof *p);
    p->s = ctx->s;
    p->st = ctx->st;
    line_open(&p->lb[0], &p->st->line_mem);
    line_open(&p->lb[1], &p->st->line_mem);
    if ((ctx->flags & PARSE_F_IMPLICIT_TLS) != 0) {
        p->phase = SMTP_TLS;
        p->is_client_tls = true;
    }
    p->is_unsynced = (ctx->flags & PARSE_F_MIDSTREAM) != 0;
    return p;
}

/* Queues a command awaiting its reply. False when PARSE_MAX_PENDING are waiting already (then
 * its reply will be paired with nothing we can trust, and the caller does not rely on it). */
static bool push(struct smtp *p, enum smtp_cmd cmd)
{
    size_t slot = parse_ring_push(&p->ring, p->st);
    if (slot == PARSE_MAX_PENDING) {
        return false;
    }
    p->q[slot] = cmd;
    return true;
}

static bool pop(struct smtp *p, enum smtp_cmd *out)
{
    size_t slot = parse_ring_pop(&p->ring);
    if (slot == PARSE_MAX_PENDING) {
        return false;
    }
    *out = p->q[slot];
    return true;
}

static const enum smtp_cmd *peek(const struct smtp *p)
{
    size_t slot = parse_ring_peek(&p->ring);
    return slot < PARSE_MAX_PENDING ? &p->q[slot] : NULL;
}

/* RFC 3030 section 2: "BDAT" SP chunk-size [SP end-marker], chunk-size = 1*DIGIT. A size past
 * UINT64_MAX saturates: no real client sends one, and skipping the rest of the stream keeps
 * message content from ever being read as commands. A size without digits gives 0: the server
 * answers 501 and what the client sends next cannot be known. */
static uint64_t bdat_size(const uint8_t *line, size_t len)
{
    size_t off = 0;
    const uint8_t *w, *num;
    size_t w_len, num_len;
    line_token(line, len, &off, &w, &w_len); /* the word BDAT */
    if (!line_token(line, len, &off, &num, &num_len)) {
        return 0;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < num_len; i++) {
        if (num[i] < '0' || num[i] > '9') {
            return 0;
        }
        uint64_t d = (uint64_t)(num[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return UINT64_MAX;
        }
        v = v * 10 + d;
    }
    return v;
}

/* AUTH mechanism [initial-response] (RFC 4954 section 4). */
static void auth_command(struct smtp *p, const uint8_t *line, size_t len)
{
    size_t off = 0;
    const uint8_t *w, *mech = NULL, *ir = NULL;
    size_t w_len, mech_len = 0, ir_len = 0;
    line_token(line, len, &off, &w, &w_len);
    if (!line_token(line, len, &off, &mech, &mech_len)) {
        push(p, SMTP_CMD_OTHER); /* no mechanism: the server answers 501 */
        return;
    }
    bool has_ir = line_token(line, len, &off, &ir, &ir_len);
    bool is_queued = push(p, SMTP_CMD_AUTH);
    /* The initial response crossed the wire whatever the server says: record it. */
    sasl_start(&p->sasl, p->s, p->st, mech, mech_len, ir, ir_len, has_ir);
    if (is_queued) {
        p->phase = SMTP_SASL;
    } else {
        sasl_abort(&p->sasl); /* its verdict could never be paired: outcome unknown */
    }
}

/* Records the argument of an EHLO or HELO line (the client's name, RFC 5321 section 4.1.1.1),
 * unless the line was injected after STARTTLS. */
static void client_name(struct smtp *p, const uint8_t *line, size_t len, bool is_injected)
{
    size_t off = 4;
    while (off < len && line[off] == ' ') {
        off++;
    }
    if (!is_injected && off < len) {
        finding_set_context(p->s, FINDING_CONTEXT_CLIENT_NAME, line + off, len - off);
    }
}

/* A command line. Lines injected after STARTTLS keep the framing (DATA, BDAT) and the reply
 * pairing, but neither start an AUTH exchange nor another STARTTLS: such commands are the
 * injector's, not the user's, and are counted rather than read. */
static void command(struct smtp *p, const uint8_t *line, size_t len, bool is_injected)
{
    if (line_is_word(line, len, "EHLO")) {
        client_name(p, line, len, is_injected);
        push(p, SMTP_CMD_EHLO);
    } else if (line_is_word(line, len, "HELO")) {
        client_name(p, line, len, is_injected);
        p->has_helo = true;
        push(p, SMTP_CMD_OTHER);
    } else if (line_is_word(line, len, "DATA")) {
        /* The body may follow; entering it now means no body line is ever taken for a command.
         * Even when the queue is full the body is still a body. */
        p->in_body = true;
        p->is_body_crlf = p->lb[PARSE_DIR_CLIENT].is_crlf;
        push(p, SMTP_CMD_DATA);
    } else if (line_is_word(line, len, "BDAT")) {
        /* RFC 3030 section 2: the chunk follows the command line at once, no reply awaited. */
        p->bdat_left = bdat_size(line, len);
        push(p, SMTP_CMD_OTHER);
    } else if (line_is_word(line, len, "AUTH")) {
        if (is_injected) {
            push(p, SMTP_CMD_OTHER);
        } else {
            auth_command(p, line, len);
        }
    } else if (line_is_word(line, len, "STARTTLS")) {
        if (is_injected) {
            push(p, SMTP_CMD_OTHER);
        } else if (push(p, SMTP_CMD_STARTTLS)) {
            p->phase = SMTP_TLS_WAIT; /* when the queue is full its reply cannot be known */
        }
    } else if (line_is_word(line, len, "MAIL") || line_is_word(line, len, "RCPT") ||
               line_is_word(line, len, "RSET") || line_is_word(line, len, "NOOP") ||
               line_is_word(line, len, "QUIT") || line_is_word(line, len, "VRFY") ||
               line_is_word(line, len, "EXPN") || line_is_word(line, len, "HELP")) {
        push(p, SMTP_CMD_OTHER);
    } else {
        p->st->unknown_commands++;
        push(p, SMTP_CMD_OTHER); /* servers answer unknown commands with 500 */
    }
}

/* Begun mid-session, a lone "." before any server reply ends a message body the capture
 * came in on: the lines before it were message text, not commands. What they seemed to say
 * is undone: the commands queued (the server answers only the body's end) and any credential
 * an "AUTH" line among them produced. */
static void body_was_text(struct smtp *p)
{
    sasl_discard(&p->sasl);
    while (p->s->n_creds > 0) {
        finding_drop_credential(p->s, p->s->creds[p->s->n_creds - 1]);
        p->st->auth_desync++;
    }
    parse_ring_clear(&p->ring);
    p->phase = SMTP_CLEAR;
    p->bdat_left = 0;
    push(p, SMTP_CMD_BODY_END);
}

static void client_line(struct smtp *p, const uint8_t *line, size_t len)
{
    p->st->lines++;
    if (p->is_unsynced && !p->in_body && len == 1 && line[0] == '.') {
        body_was_text(p);
        return;
    }
    if (p->in_body) {
        /* RFC 5321 sections 4.1.1.4 and 4.5.2: CR LF "." CR LF ends the body; a line starting
         * with "." was dot-stuffed and is content, as is everything else. A "." with a bare LF
         * on either side is content too: servers that take it as the end let a message carry
         * commands of its own (the "SMTP smuggling" of 2023), and reading those as the
         * client's would report what is only mail text. */
        bool is_crlf = p->lb[PARSE_DIR_CLIENT].is_crlf;
        if (len == 1 && line[0] == '.') {
            if (is_crlf && p->is_body_crlf) {
                p->in_body = false;
                push(p, SMTP_CMD_BODY_END);
                return;
            }
            p->st->smtp_bare_lf_dot++;
        }
        p->is_body_crlf = is_crlf;
        return;
    }
    if (p->phase == SMTP_SASL) {
        enum sasl_line r = sasl_client_line(&p->sasl, line, len);
        if (r != SASL_LINE_MORE) {
            p->phase = SMTP_CLEAR; /* on END after "*", the server's 501 still answers AUTH */
        }
        if (r != SASL_LINE_COMMAND) {
            return;
        }
    }
    bool is_injected = p->phase == SMTP_TLS_WAIT;
    if (is_injected) {
        p->s->injected_commands++;
        p->st->starttls_injection++;
    }
    command(p, line, len, is_injected);
}

/* The text of a reply line past the first (RFC 5321 section 4.1.1.1: the first line of an EHLO
 * reply is the server's domain, each later one an ehlo-keyword with its parameters). Only
 * STARTTLS matters here: the mechanisms an AUTH line lists have no field in the record. */
static void ehlo_keyword(struct smtp *p, const uint8_t *t, size_t n)
{
    if (line_is_word(t, n, "STARTTLS")) {
        p->reply_has_starttls = true;
    }
}

/* RFC 5321 section 4.2: Reply-code [ ("-" / SP) textstring ], the code three digits, the first
 * 2..5. Sets *code and whether this is the reply's last line. */
static bool reply_code(const uint8_t *line, size_t len, unsigned *code, bool *is_final)
{
    if (len < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '9' ||
        line[2] < '0' || line[2] > '9') {
        return false;
    }
    if (len > 3 && line[3] != ' ' && line[3] != '-') {
        return false;
    }
    *code = (unsigned)(line[0] - '0') * 100 + (unsigned)(line[1] - '0') * 10 +
            (unsigned)(line[2] - '0');
    *is_final = len == 3 || line[3] == ' ';
    return true;
}

/* The first complete reply is the greeting (RFC 5321 section 4.3.2: 220, or 554 for a refusal),
 * which answers no command: with nothing queued, or when an early-talking client has queued
 * commands already and the code is a greeting's. */
static bool is_greeting(const struct smtp *p, unsigned code)
{
    const enum smtp_cmd *h = peek(p);
    return h == NULL || ((code == 220 || code == 554) && *h != SMTP_CMD_STARTTLS);
}

/* A complete reply: its final line's code and text. */
static void reply(struct smtp *p, unsigned code, const uint8_t *text, size_t text_len)
{
    unsigned cls = code / 100;
    bool is_first = !p->has_reply;
    p->has_reply = true;
    if (is_first && is_greeting(p, code)) {
        return;
    }
    const enum smtp_cmd *h = peek(p);
    /* A 3xx while the client is still in an AUTH exchange is its challenge even when a gap
     * in the server's bytes cleared the queue of what it answers. */
    bool is_in_auth = (h != NULL && *h == SMTP_CMD_AUTH) || (h == NULL && p->phase == SMTP_SASL);
    if (is_in_auth && cls == 3) {
        /* "334 <base64>", "334 " or "334": a challenge; the exchange goes on. */
        while (text_len > 0 && (text[text_len - 1] == ' ' || text[text_len - 1] == '\t')) {
            text_len--;
        }
        sasl_server(&p->sasl, text, text_len);
        return;
    }
    enum smtp_cmd cmd;
    if (!pop(p, &cmd)) {
        return;
    }
    bool is_fail = cls == 4 || cls == 5;
    switch (cmd) {
    case SMTP_CMD_EHLO:
        if (cls == 2) {
            p->has_ehlo_ok = true;
            p->has_ehlo_starttls = p->has_ehlo_starttls || p->reply_has_starttls;
        } else if (cls == 5) {
            p->is_ehlo_rejected = true;
        }
        break;
    case SMTP_CMD_AUTH:
        /* 235 success; 4xx (454 temporary failure) and 5xx (535 bad credentials, 503/504 AUTH
         * not available) end the exchange: an initial response already recorded keeps the
         * failure, it was sent in the clear all the same. Any other 2xx cannot answer AUTH
         * (RFC 4954 section 6): the "AUTH" was message text read before the capture showed
         * where the body ends, and the 250 ends that message; it was no credential. */
        if (code == 235) {
            sasl_finish(&p->sasl, true);
        } else if (is_fail) {
            sasl_finish(&p->sasl, false);
        } else {
            sasl_discard(&p->sasl);
        }
        if (p->phase == SMTP_SASL) {
            p->phase = SMTP_CLEAR;
        }
        break;
    case SMTP_CMD_DATA:
        if (is_fail) {
            p->in_body = false; /* no body follows a rejected DATA */
        }
        break;
    case SMTP_CMD_STARTTLS:
        if (cls == 2) {
            finding_set_upgraded(p->s);
            p->phase = SMTP_TLS;
        } else {
            p->is_starttls_refused = true;
            if (p->phase == SMTP_TLS_WAIT) {
                p->phase = SMTP_CLEAR;
            }
        }
        break;
    case SMTP_CMD_BODY_END:
    case SMTP_CMD_OTHER:
        break;
    }
}

static void reply_reset(struct smtp *p)
{
    p->reply_lines = 0;
    p->reply_has_starttls = false;
}

/* Returns false when the stream is not SMTP. */
static bool server_line(struct smtp *p, const uint8_t *line, size_t len)
{
    p->st->lines++;
    unsigned code = 0;
    bool is_final = false;
    if (!reply_code(line, len, &code, &is_final)) {
        /* The first thing an SMTP server says is a reply; later, a line that is none is
         * skipped. */
        return p->has_server_line;
    }
    if (!p->has_server_line && !p->is_unsynced) {
        /* The greeting, in a session whose start was captured. */
        finding_set_context(p->s, FINDING_CONTEXT_BANNER, line, len);
    }
    p->has_server_line = true;
    p->is_unsynced = false; /* replies pair with commands from here on */
    const uint8_t *text = line + (len > 3 ? 4 : 3);
    size_t text_len = len > 3 ? len - 4 : 0;
    if (p->reply_lines > 0) {
        ehlo_keyword(p, text, text_len);
    }
    p->reply_lines++;
    if (is_final) {
        reply(p, code, text, text_len);
        reply_reset(p);
    }
    return true;
}

/* A TLS record where the client's next command should be: the client went to TLS. */
static void client_tls(struct smtp *p)
{
    p->is_client_tls = true;
    if (p->phase == SMTP_TLS_WAIT || p->phase == SMTP_TLS) {
        return; /* the 220 to STARTTLS starts the sniffer (it may come later in the capture) */
    }
    if (p->is_starttls_unanswered) {
        /* STARTTLS was sent and its reply lost: a client speaks TLS only after a 220. */
        finding_set_upgraded(p->s);
        p->phase = SMTP_TLS;
    } else if (!p->has_server_line && p->s->n_creds == 0) {
        /* TLS from the first byte on a cleartext port: implicit TLS. */
        finding_set_implicit_tls(p->s);
        p->phase = SMTP_TLS;
    }
}

static enum parse_status smtp_feed(void *vp, enum parse_dir dir, const uint8_t *data, size_t len,
                                   size_t *consumed)
{
    struct smtp *p = vp;
    struct line_buf *lb = &p->lb[dir];
    *consumed = len;

    while (len > 0) {
        if (dir == PARSE_DIR_SERVER && p->phase == SMTP_TLS) {
            tlssniff_leg_feed(&p->tls, p->s, p->st, data, len);
            return PARSE_OK;
        }
        if (dir == PARSE_DIR_CLIENT) {
            if (p->is_client_tls || p->phase == SMTP_TLS) {
                tlssniff_leg_client(&p->tls, p->s, p->st, data, len); /* its ClientHello */
                return PARSE_OK;
            }
            if (p->bdat_left > 0) {
                size_t n = p->bdat_left < len ? (size_t)p->bdat_left : len;
                data += n;
                len -= n;
                p->bdat_left -= n;
                continue;
            }
            if (!line_has_partial(lb) && !p->in_body && p->phase != SMTP_SASL &&
                data[0] == TLSSNIFF_CT_HANDSHAKE) {
                client_tls(p);
                continue;
            }
        }
        const uint8_t *line;
        size_t line_len;
        enum line_status ls = line_next(lb, &data, &len, &line, &line_len, &p->st->overlong_lines);
        if (ls == LINE_DROPPED) {
            if (dir == PARSE_DIR_CLIENT && p->in_body) {
                p->is_body_crlf = lb->is_crlf;
            }
            continue; /* at a line boundary again: look at what starts there */
        }
        if (ls != LINE_OK) {
            return PARSE_NEED_MORE;
        }
        if (dir == PARSE_DIR_CLIENT) {
            client_line(p, line, line_len);
        } else if (!server_line(p, line, line_len)) {
            return PARSE_ERROR;
        }
    }
    if (dir == PARSE_DIR_CLIENT && p->bdat_left > 0) {
        return PARSE_NEED_MORE;
    }
    return line_has_partial(lb) ? PARSE_NEED_MORE : PARSE_OK;
}

static void smtp_gap(void *vp, enum parse_dir dir, uint64_t len)
{
    struct smtp *p = vp;
    p->st->gaps++;
    if (dir == PARSE_DIR_SERVER && p->phase == SMTP_TLS) {
        /* The record framing is lost with the bytes: no version can be read any more. */
        tlssniff_leg_lost(&p->tls, p->s, p->st);
        return;
    }
    if (dir == PARSE_DIR_CLIENT) {
        if (p->is_client_tls || p->phase == SMTP_TLS) {
            tlssniff_leg_client_lost(&p->tls, p->st);
            return; /* nothing of the client is read any more */
        }
        if (p->bdat_left > 0) {
            /* Inside a BDAT chunk the count says exactly where the next command starts; lost
             * message bytes get no reply, so the pending replies still pair. */
            if (len <= p->bdat_left) {
                p->bdat_left -= len;
                return;
            }
            p->bdat_left = 0;
        } else if (p->in_body) {
            /* Lost body bytes get no reply either: stay in the body, resynchronise at the next
             * line; the lone "." still ends it. Should the "." itself have been lost, the rest of
             * the session reads as body: findings missed, never invented. */
            line_resync(&p->lb[dir]);
            return;
        }
    } else {
        reply_reset(p);
    }
    line_resync(&p->lb[dir]);
    /* What the lost bytes said is unknown: no reply may be paired with a command it did not
     * answer. Pending outcomes stay unknown. */
    parse_ring_clear(&p->ring);
    if (p->phase == SMTP_SASL) {
        if (!sasl_gap(&p->sasl, dir == PARSE_DIR_SERVER)) {
            p->phase = SMTP_CLEAR;
        }
    } else if (p->phase == SMTP_TLS_WAIT) {
        /* The reply to STARTTLS may be among the lost bytes: the client's next bytes tell. */
        p->phase = SMTP_CLEAR;
        p->is_starttls_unanswered = true;
    }
}

static void smtp_end(void *vp)
{
    struct smtp *p = vp;
    struct session *s = p->s;
    if (p->sasl.is_active) {
        sasl_abort(&p->sasl);
    }
    /* The list is a positive EHLO reply. RFC 5321 section 4.1.4: a server without extensions
     * rejects EHLO, and the client's HELO fallback can never lead to STARTTLS, so that counts
     * as a list without it. With no EHLO reply seen, the capture cannot tell. */
    bool has_list = p->has_ehlo_ok || (p->is_ehlo_rejected && p->has_helo);
    finding_settle_starttls(s, p->is_starttls_refused, has_list,
                            p->has_ehlo_ok && p->has_ehlo_starttls);
}

static void smtp_free(void *vp)
{
    struct smtp *p = vp;
    if (p == NULL) {
        return;
    }
    tlssniff_leg_free(&p->tls, p->st);
    /* Clears everything, the SASL challenge and LOGIN arguments included. */
    line_state_free(p, sizeof *p, p->lb);
}

const struct parser_ops smtp_parser_ops = {
    .name = "smtp",
    .state_size = sizeof(struct smtp),
    .has_client_text = true,
    .new_parser = smtp_new,
    .feed = smtp_feed,
    .gap = smtp_gap,
    .end = smtp_end,
    .free_parser = smtp_free,
};
