/* pop3.c - the POP3 parser: cleartext logins, STLS posture and the TLS version.
 *
 * RFC 1939 (USER/PASS, APOP, multi-line responses ending in a lone "."), RFC 2449 (CAPA),
 * RFC 2595 (STLS), RFC 5034 (AUTH with SASL, "+ " continuations, "*" to cancel).
 *
 * The client's commands go on a queue; each "+OK"/"-ERR" from the server answers the oldest,
 * which is how a credential gets its outcome and how we know that a multi-line response (CAPA,
 * LIST, UIDL, RETR, TOP, bare AUTH) follows. Multi-line bodies are content, never commands or
 * answers: a mail containing "+OK" or "PASS x" changes nothing. After a successful STLS, or
 * from the first byte on port 995, the server's bytes go to the TLS sniffer for the version and
 * nothing more is parsed as cleartext; client commands that arrive between STLS and the
 * handshake are counted as injected (CVE-2011-0411 style). After a gap the pending answers are
 * forgotten (outcomes become unknown, never guessed) and parsing resumes at the next line. */
#include "pop3.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "line.h"
#include "ps.h"
#include "sasl.h"
#include "tlssniff.h"
#include "tunables.h"

enum pop3_cmd {
    POP3_CMD_OTHER = 0, /* single-line answer */
    POP3_CMD_USER,
    POP3_CMD_PASS,
    POP3_CMD_APOP,
    POP3_CMD_AUTH,      /* SASL exchange */
    POP3_CMD_AUTH_LIST, /* bare AUTH: multi-line list of mechanisms on +OK */
    POP3_CMD_CAPA,
    POP3_CMD_STLS,
    POP3_CMD_MULTI, /* LIST/UIDL without argument, RETR, TOP: multi-line on +OK */
};

enum pop3_phase {
    POP3_CLEAR = 0, /* cleartext commands */
    POP3_SASL,      /* inside AUTH: client lines are SASL responses */
    POP3_TLS_WAIT,  /* STLS sent, answer not seen yet */
    POP3_TLS,       /* TLS: server bytes to the sniffer, client bytes ignored */
};

struct pop3_pending {
    enum pop3_cmd cmd;
    struct credential *cred; /* borrowed from the session; PASS and APOP */
};

struct pop3 {
    struct session *s;
    struct parse_stats *st;
    struct line_buf lb[2];
    struct pop3_pending q[PARSE_MAX_PENDING];
    struct parse_ring ring; /* the indexes of q */
    enum pop3_phase phase;
    bool is_client_tls;   /* the client's bytes are TLS now */
    bool has_server_line; /* the first server line (the greeting) was seen */
    bool in_multiline;    /* server lines are a multi-line body until "." */
    bool in_capa;         /* that body is a CAPA list */
    bool has_capa;
    bool has_capa_stls;
    bool is_stls_refused;
    uint8_t user[FINDING_MAX_USER];
    size_t user_len;
    bool has_user;
    uint8_t timestamp[POP3_MAX_TIMESTAMP];
    size_t timestamp_len;
    struct sasl sasl;
    struct tlssniff_leg tls; /* after STARTTLS, or from the start on implicit TLS */
};

static void *pop3_new(const struct parse_ctx *ctx)
{
    struct pop3 *p = xcalloc(1, sizeof *p);
    p->s = ctx->s;
    p->st = ctx->st;
    line_open(&p->lb[0], &p->st->line_mem);
    line_open(&p->lb[1], &p->st->line_mem);
    if ((ctx->flags & PARSE_F_IMPLICIT_TLS) != 0) {
        p->phase = POP3_TLS;
        p->is_client_tls = true;
    }
    return p;
}

static void push(struct pop3 *p, enum pop3_cmd cmd, struct credential *cred)
{
    size_t slot = parse_ring_push(&p->ring, p->st);
    if (slot == PARSE_MAX_PENDING) {
        return; /* its answer will pair with nothing: outcome stays unknown */
    }
    p->q[slot].cmd = cmd;
    p->q[slot].cred = cred;
}

static bool pop(struct pop3 *p, struct pop3_pending *out)
{
    size_t slot = parse_ring_pop(&p->ring);
    if (slot == PARSE_MAX_PENDING) {
        return false;
    }
    *out = p->q[slot];
    return true;
}

static const struct pop3_pending *peek(const struct pop3 *p)
{
    size_t slot = parse_ring_peek(&p->ring);
    return slot < PARSE_MAX_PENDING ? &p->q[slot] : NULL;
}

/* Offset just past the command word and the one space after it (RFC 1939 arguments are
 * separated by a single space; a password may itself begin with a space). */
static size_t arg_off(size_t len, size_t word_len)
{
    return word_len < len ? word_len + 1 : len;
}

static void client_line(struct pop3 *p, const uint8_t *line, size_t len)
{
    p->st->lines++;
    if (p->phase == POP3_SASL) {
        enum sasl_line r = sasl_client_line(&p->sasl, line, len);
        if (r != SASL_LINE_MORE) {
            p->phase = POP3_CLEAR; /* on END after "*", the server's -ERR still answers AUTH */
        }
        if (r != SASL_LINE_COMMAND) {
            return;
        }
    }
    if (p->phase == POP3_TLS_WAIT) {
        p->s->injected_commands++;
        p->st->starttls_injection++;
        return;
    }
    if (line_is_word(line, len, "USER")) {
        size_t off = arg_off(len, 4);
        p->user_len = len - off < sizeof p->user ? len - off : sizeof p->user;
        memcpy(p->user, line + off, p->user_len);
        p->has_user = true;
        push(p, POP3_CMD_USER, NULL);
    } else if (line_is_word(line, len, "PASS")) {
        size_t off = arg_off(len, 4);
        struct credential *c = finding_add_credential(p->s, "USER/PASS");
        if (c != NULL) {
            if (p->has_user) {
                finding_set_username(c, p->user, p->user_len);
            }
            finding_set_secret(c, line + off, len - off);
        } else {
            p->st->creds_dropped++;
        }
        push(p, POP3_CMD_PASS, c);
    } else if (line_is_word(line, len, "APOP")) {
        size_t off = 0;
        const uint8_t *name = NULL, *digest = NULL;
        size_t name_len = 0, digest_len = 0;
        line_token(line, len, &off, &name, &name_len); /* the word APOP */
        name = NULL;
        line_token(line, len, &off, &name, &name_len);
        line_token(line, len, &off, &digest, &digest_len);
        struct credential *c = finding_add_credential(p->s, "APOP");
        if (c != NULL) {
            if (name != NULL) {
                finding_set_username(c, name, name_len);
            }
            if (p->timestamp_len > 0) {
                finding_set_challenge(c, p->timestamp, p->timestamp_len);
            }
            if (digest != NULL) {
                finding_set_response(c, digest, digest_len);
            }
        } else {
            p->st->creds_dropped++;
        }
        push(p, POP3_CMD_APOP, c);
    } else if (line_is_word(line, len, "AUTH")) {
        size_t off = 0;
        const uint8_t *w, *mech = NULL, *ir = NULL;
        size_t w_len, mech_len = 0, ir_len = 0;
        line_token(line, len, &off, &w, &w_len);
        bool has_mech = line_token(line, len, &off, &mech, &mech_len);
        bool has_ir = line_token(line, len, &off, &ir, &ir_len);
        if (!has_mech) {
            push(p, POP3_CMD_AUTH_LIST, NULL);
            return;
        }
        sasl_start(&p->sasl, p->s, p->st, mech, mech_len, ir, ir_len, has_ir);
        p->phase = POP3_SASL;
        push(p, POP3_CMD_AUTH, NULL);
    } else if (line_is_word(line, len, "CAPA")) {
        push(p, POP3_CMD_CAPA, NULL);
    } else if (line_is_word(line, len, "STLS")) {
        p->phase = POP3_TLS_WAIT;
        push(p, POP3_CMD_STLS, NULL);
    } else if (line_is_word(line, len, "RETR") || line_is_word(line, len, "TOP")) {
        push(p, POP3_CMD_MULTI, NULL);
    } else if (line_is_word(line, len, "LIST") || line_is_word(line, len, "UIDL")) {
        size_t off = 0;
        const uint8_t *w, *arg;
        size_t w_len, arg_len;
        line_token(line, len, &off, &w, &w_len);
        push(p, line_token(line, len, &off, &arg, &arg_len) ? POP3_CMD_OTHER : POP3_CMD_MULTI,
             NULL);
    } else if (line_is_word(line, len, "QUIT") || line_is_word(line, len, "STAT") ||
               line_is_word(line, len, "DELE") || line_is_word(line, len, "NOOP") ||
               line_is_word(line, len, "RSET") || line_is_word(line, len, "LAST") ||
               line_is_word(line, len, "UTF8") || line_is_word(line, len, "LANG")) {
        push(p, POP3_CMD_OTHER, NULL);
    } else {
        p->st->unknown_commands++;
        push(p, POP3_CMD_OTHER, NULL); /* servers answer unknown commands with -ERR */
    }
}

static void save_timestamp(struct pop3 *p, const uint8_t *line, size_t len)
{
    const uint8_t *lt = memchr(line, '<', len);
    if (lt == NULL) {
        return;
    }
    size_t off = (size_t)(lt - line);
    const uint8_t *gt = memchr(lt, '>', len - off);
    if (gt == NULL) {
        return;
    }
    size_t n = (size_t)(gt - lt) + 1;
    if (n <= sizeof p->timestamp) {
        memcpy(p->timestamp, lt, n);
        p->timestamp_len = n;
    }
}

static void capa_line(struct pop3 *p, const uint8_t *line, size_t len)
{
    if (line_is_word(line, len, "STLS")) {
        p->has_capa_stls = true;
    }
}

/* Returns false when the stream is not POP3. */
static bool server_line(struct pop3 *p, const uint8_t *line, size_t len)
{
    p->st->lines++;
    bool is_first = !p->has_server_line;
    p->has_server_line = true;

    if (p->in_multiline) {
        if (len == 1 && line[0] == '.') {
            p->in_multiline = false;
            p->in_capa = false;
        } else if (p->in_capa) {
            capa_line(p, line, len);
        }
        return true;
    }
    bool is_ok = len >= 3 && (line[0] == '+') && (line[1] == 'O' || line[1] == 'o') &&
                 (line[2] == 'K' || line[2] == 'k');
    bool is_err = len >= 4 && line[0] == '-' && (line[1] == 'E' || line[1] == 'e');
    bool is_cont = len >= 1 && line[0] == '+' && !is_ok;

    if (is_cont) {
        const struct pop3_pending *h = peek(p);
        if (h != NULL && h->cmd == POP3_CMD_AUTH) {
            size_t off = len > 1 && line[1] == ' ' ? 2 : 1;
            sasl_server(&p->sasl, line + off, len - off);
        }
        return true;
    }
    if (!is_ok && !is_err) {
        /* The first thing a POP3 server says is +OK or -ERR; anything else is not POP3. */
        return !is_first;
    }
    struct pop3_pending e;
    if (!pop(p, &e)) {
        if (is_first) {
            finding_set_context(p->s, FINDING_CONTEXT_BANNER, line, len); /* the greeting */
        }
        if (is_first && is_ok) {
            save_timestamp(p, line, len);
        }
        return true;
    }
    enum finding_result r = is_ok ? FINDING_RESULT_SUCCESS : FINDING_RESULT_FAILURE;
    switch (e.cmd) {
    case POP3_CMD_PASS:
    case POP3_CMD_APOP:
        if (e.cred != NULL) {
            e.cred->result = r;
        }
        break;
    case POP3_CMD_AUTH:
        sasl_finish(&p->sasl, is_ok);
        if (p->phase == POP3_SASL) {
            p->phase = POP3_CLEAR;
        }
        break;
    case POP3_CMD_CAPA:
        if (is_ok) {
            p->has_capa = true;
            p->in_capa = true;
            p->in_multiline = true;
        }
        break;
    case POP3_CMD_AUTH_LIST:
    case POP3_CMD_MULTI:
        p->in_multiline = is_ok;
        break;
    case POP3_CMD_STLS:
        if (is_ok) {
            finding_set_upgraded(p->s);
            p->phase = POP3_TLS;
        } else {
            p->is_stls_refused = true;
            if (p->phase == POP3_TLS_WAIT) {
                p->phase = POP3_CLEAR;
            }
        }
        break;
    case POP3_CMD_USER:
    case POP3_CMD_OTHER:
        break;
    }
    return true;
}

static enum parse_status pop3_feed(void *vp, enum parse_dir dir, const uint8_t *data, size_t len,
                                   size_t *consumed)
{
    struct pop3 *p = vp;
    struct line_buf *lb = &p->lb[dir];
    *consumed = len;

    while (len > 0) {
        if (dir == PARSE_DIR_SERVER && p->phase == POP3_TLS) {
            tlssniff_leg_feed(&p->tls, p->s, p->st, data, len);
            return PARSE_OK;
        }
        if (dir == PARSE_DIR_CLIENT) {
            if (p->is_client_tls) {
                tlssniff_leg_client(&p->tls, p->s, p->st, data, len); /* its ClientHello */
                return PARSE_OK;
            }
            /* A TLS record where a command should be: the client went to TLS (after STLS, or
             * TLS spoken on the cleartext port from the start). */
            if (!line_has_partial(lb) && data[0] == TLSSNIFF_CT_HANDSHAKE) {
                p->is_client_tls = true;
                if (p->phase != POP3_TLS_WAIT && p->phase != POP3_TLS && !p->has_server_line &&
                    p->s->n_creds == 0) {
                    finding_set_implicit_tls(p->s);
                    p->phase = POP3_TLS;
                }
                continue;
            }
        }
        const uint8_t *line;
        size_t line_len;
        enum line_status ls = line_next(lb, &data, &len, &line, &line_len, &p->st->overlong_lines);
        if (ls == LINE_DROPPED) {
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
    return line_has_partial(lb) ? PARSE_NEED_MORE : PARSE_OK;
}

static void pop3_gap(void *vp, enum parse_dir dir, uint64_t len)
{
    struct pop3 *p = vp;
    (void)len;
    p->st->gaps++;
    if (dir == PARSE_DIR_SERVER && p->phase == POP3_TLS) {
        /* The record framing is lost with the bytes: no version can be read any more. */
        tlssniff_leg_lost(&p->tls, p->s, p->st);
        return;
    }
    if (dir == PARSE_DIR_CLIENT && p->is_client_tls) {
        tlssniff_leg_client_lost(&p->tls, p->st);
    }
    line_resync(&p->lb[dir]);
    /* What the lost bytes said is unknown: no answer may be paired with a command it did not
     * answer. Pending outcomes stay unknown. */
    parse_ring_clear(&p->ring);
    p->in_multiline = false;
    p->in_capa = false;
    if (p->phase == POP3_SASL) {
        if (!sasl_gap(&p->sasl, dir == PARSE_DIR_SERVER)) {
            p->phase = POP3_CLEAR;
        }
    }
}

static void pop3_end(void *vp)
{
    struct pop3 *p = vp;
    struct session *s = p->s;
    if (p->sasl.is_active) {
        sasl_abort(&p->sasl);
    }
    /* The list is the CAPA response (RFC 2449); without CAPA the capture cannot tell. */
    finding_settle_starttls(s, p->is_stls_refused, p->has_capa, p->has_capa && p->has_capa_stls);
}

static void pop3_free(void *vp)
{
    struct pop3 *p = vp;
    if (p == NULL) {
        return;
    }
    tlssniff_leg_free(&p->tls, p->st);
    /* Clears everything, the SASL challenge and LOGIN arguments included. */
    line_state_free(p, sizeof *p, p->lb);
}

const struct parser_ops pop3_parser_ops = {
    .name = "pop3",
    .state_size = sizeof(struct pop3),
    .has_client_text = false,
    .new_parser = pop3_new,
    .feed = pop3_feed,
    .gap = pop3_gap,
    .end = pop3_end,
    .free_parser = pop3_free,
};
