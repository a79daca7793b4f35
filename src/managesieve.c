/* managesieve.c - the ManageSieve parser: cleartext logins, STARTTLS posture and the TLS version.
 *
 * RFC 5804 (ManageSieve: the capability greeting, AUTHENTICATE, STARTTLS, CAPABILITY,
 * UNAUTHENTICATE and the script commands), with the SASL mechanisms read by sasl.c (RFC 4616
 * PLAIN, LOGIN, RFC 2195 CRAM-MD5, RFC 2831 DIGEST-MD5, XOAUTH2, RFC 7628 OAUTHBEARER).
 *
 * The server speaks first: capability lines ("IMPLEMENTATION" "...", "SASL" "PLAIN LOGIN",
 * "STARTTLS", ...) ended by OK. Commands carry no tag and the server answers them in order with
 * OK, NO or BYE, so pending commands are a queue, oldest first, as in POP3. Arguments are atoms,
 * quoted strings or literals: "{n+}" (RFC 5804 literal-c2s) or "{n}" (which clients send too)
 * at the end of a line announces n bytes after its CRLF, after which the same command goes on
 * with the next line. Literal bytes are counted off, never split into lines: the script that
 * PUTSCRIPT or CHECKSCRIPT uploads, or GETSCRIPT returns, is never a command or an answer, so a
 * script holding "AUTHENTICATE" text is content. Only SASL strings are kept, up to
 * MANAGESIEVE_MAX_STRING bytes: the mechanism and initial response of AUTHENTICATE, the
 * client's responses and the server's challenges, each a quoted string or a literal (section
 * 2.1). A quoted "*" cancels the exchange. OK answers AUTHENTICATE with success; NO and BYE
 * with failure.
 *
 * STARTTLS posture: a capability list (the greeting, or the answer to CAPABILITY) in the
 * not-authenticated state holding "STARTTLS" means offered, one without it not offered. After
 * OK to STARTTLS the server's bytes go to the TLS sniffer for the version and nothing more is
 * parsed as cleartext; cleartext client commands after STARTTLS are counted as injected and
 * never read as credentials. NO (or BYE) means refused. ManageSieve has no implicit-TLS port,
 * but a client that opens with a TLS record is taken as implicit TLS, as in the other parsers.
 *
 * The first server answer of a session whose start the capture saw is the greeting, whatever
 * the client sent before it; in a session begun before the capture (PARSE_F_MIDSTREAM) every
 * answer pairs with the oldest pending command. After a gap the pending answers are forgotten
 * (outcomes stay unknown, never guessed), a SASL exchange is handled as sasl_gap says, and
 * parsing resumes at the next line; a gap inside a literal keeps the literal's count.
 *
 * Known limits: a line longer than LINE_MAX_LEN is discarded by line.c with its literal
 * announcement, so the literal's content that follows is then read as lines, and a SASL string
 * longer than MANAGESIEVE_MAX_STRING is skipped, so the exchange reads the next message in its
 * place. A capture that starts inside a literal reads its content as lines; a command among
 * them gets no answer that fits, and parse_end drops unanswered credentials of a session begun
 * before the capture. */
#include "managesieve.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "line.h"
#include "ps.h"
#include "sasl.h"
#include "tlssniff.h"
#include "tunables.h"

enum ms_cmd {
    MS_CMD_OTHER = 0,
    MS_CMD_AUTHENTICATE,
    MS_CMD_STARTTLS,
    MS_CMD_CAPABILITY,
    MS_CMD_UNAUTHENTICATE,
};

enum ms_phase {
    MS_CLEAR = 0, /* cleartext commands */
    MS_SASL,      /* inside AUTHENTICATE: client strings are SASL responses */
    MS_TLS_WAIT,  /* STARTTLS sent, answer not seen yet */
    MS_TLS,       /* TLS: server bytes to the sniffer */
};

/* The connection state of RFC 5804 section 1.2, as far as the capture shows it. */
enum ms_auth {
    MS_AUTH_UNKNOWN = 0, /* no greeting seen (the capture started mid-session) */
    MS_AUTH_NOT,         /* not authenticated: capabilities here are the pre-login ones */
    MS_AUTH_DONE,        /* AUTHENTICATE succeeded */
};

/* What the client's logical line (a line and the lines that go on after its literals) is. */
enum ms_unit {
    MS_UNIT_COMMAND = 0,
    MS_UNIT_SASL, /* a SASL response sent as a literal */
};

/* Where the bytes of the literal being counted off go. */
enum ms_keep {
    MS_KEEP_NONE = 0, /* content: skipped */
    MS_KEEP_MECH,     /* AUTHENTICATE's mechanism */
    MS_KEEP_STR,      /* a SASL string: initial response, response or challenge */
};

enum ms_tok {
    MS_TOK_END = 0, /* no token left */
    MS_TOK_ATOM,    /* a run of other bytes, or one parenthesis */
    MS_TOK_QUOTED,  /* "...": p and len are the bytes between the quotes, escapes still in */
    MS_TOK_LITERAL, /* "{n}" or "{n+}" ending the line */
    MS_TOK_BAD,     /* an unclosed quoted string, or a literal count past 64 bits */
};

struct ms_token {
    const uint8_t *p;
    size_t len;
    uint64_t lit_len;
};

/* A SASL string being gathered; is_over once more came than the buffer holds. */
struct ms_str {
    uint8_t buf[MANAGESIEVE_MAX_STRING];
    size_t len;
    bool is_over;
};

struct ms_pending {
    enum ms_cmd cmd;
    uint64_t seq; /* order of issue, from 1 */
};

struct managesieve {
    struct session *s;
    struct parse_stats *st;
    struct line_buf lb[2];
    struct ms_pending q[PARSE_MAX_PENDING];
    struct parse_ring ring; /* the indexes of q */
    uint64_t next_seq;
    enum ms_phase phase;
    enum ms_auth auth;
    bool is_midstream;
    bool is_client_tls;   /* the client's bytes are TLS now */
    bool has_server_line; /* the first server line was seen */
    bool has_cap_preauth; /* a capability list seen in the not-authenticated state */
    bool has_cap_unknown; /* one seen before that state was known */
    bool has_cap_starttls;
    bool is_starttls_refused;

    /* The client's logical line being read; it stays open while it goes on after a literal. */
    bool cl_is_open;
    enum ms_unit cl_unit;
    bool cmd_is_injected; /* sent after STARTTLS: counted, never read */
    enum ms_cmd cmd;
    uint64_t cmd_seq; /* its pending entry, 0 when untracked */
    bool cmd_has_result;
    bool cmd_is_ok;     /* its answer, when that came before its last byte */
    unsigned auth_argn; /* AUTHENTICATE arguments complete (mechanism, initial response) */
    bool auth_is_bad;   /* the arguments cannot be read: no exchange */
    uint8_t mech[FINDING_MAX_MECH];
    size_t mech_len;    /* at most sizeof mech, which means too long */
    struct ms_str cstr; /* the client's SASL string */
    uint64_t cl_lit_left;
    enum ms_keep cl_lit_keep;

    /* The server's logical line being read. */
    bool sv_is_open;
    bool sv_is_challenge;  /* it is a SASL challenge sent as a literal */
    bool sv_in_greeting;   /* no answer seen yet in a session whose start was captured */
    bool sv_is_at_gap;     /* no server byte came since a gap: the next one starts a segment */
    unsigned sv_cap_lines; /* capability lines of the list being read */
    struct ms_str sstr;    /* the server's SASL challenge */
    uint64_t sv_lit_left;

    struct sasl sasl;
    struct tlssniff_leg tls; /* after STARTTLS, or from the start on implicit TLS */
};

static void *ms_new(const struct parse_ctx *ctx)
{
    struct managesieve *p = xcalloc(1, sizeof *p);
    p->s = ctx->s;
    p->st = ctx->st;
    line_open(&p->lb[0], &p->st->line_mem);
    line_open(&p->lb[1], &p->st->line_mem);
    p->is_midstream = (ctx->flags & PARSE_F_MIDSTREAM) != 0;
    p->sv_in_greeting = !p->is_midstream;
    if ((ctx->flags & PARSE_F_IMPLICIT_TLS) != 0) {
        p->phase = MS_TLS;
        p->is_client_tls = true;
        p->sv_in_greeting = false;
    }
    return p;
}

/* ---- pending commands ---- */

/* Queues a command; returns its sequence number, or 0 when it cannot be tracked. */
static uint64_t push(struct managesieve *p, enum ms_cmd cmd)
{
    size_t slot = parse_ring_push(&p->ring, p->st);
    if (slot == PARSE_MAX_PENDING) {
        return 0; /* its answer will pair with nothing: outcome stays unknown */
    }
    p->q[slot].cmd = cmd;
    p->q[slot].seq = ++p->next_seq;
    return p->q[slot].seq;
}

static const struct ms_pending *peek(const struct managesieve *p)
{
    size_t slot = parse_ring_peek(&p->ring);
    return slot < PARSE_MAX_PENDING ? &p->q[slot] : NULL;
}

/* ---- wire syntax (RFC 5804 section 4) ---- */

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* Does line[i..len) hold exactly a literal announcement, "{n}" or "{n+}"? Sets *n; *is_bad when
 * the count does not fit 64 bits. */
static bool literal_at(const uint8_t *line, size_t len, size_t i, uint64_t *n, bool *is_bad)
{
    if (i >= len || line[i] != '{' || line[len - 1] != '}') {
        return false;
    }
    size_t end = len - 1;
    if (end > i + 1 && line[end - 1] == '+') {
        end--;
    }
    if (end == i + 1) {
        return false;
    }
    uint64_t v = 0;
    *is_bad = false;
    for (size_t k = i + 1; k < end; k++) {
        if (!is_digit(line[k])) {
            return false;
        }
        uint64_t d = (uint64_t)(line[k] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            *is_bad = true;
        } else {
            v = v * 10 + d;
        }
    }
    *n = v;
    return true;
}

/* The next token of line[*off..len), spaces skipped. A literal announcement counts only at the
 * end of the line; a quoted string only when closed. */
static enum ms_tok next_token(const uint8_t *line, size_t len, size_t *off, struct ms_token *t)
{
    size_t i = *off;
    while (i < len && line[i] == ' ') {
        i++;
    }
    if (i >= len) {
        *off = len;
        return MS_TOK_END;
    }
    if (line[i] == '"') {
        size_t start = ++i;
        while (i < len && line[i] != '"') {
            i += line[i] == '\\' && i + 1 < len ? 2 : 1;
        }
        if (i >= len) {
            *off = len;
            return MS_TOK_BAD;
        }
        t->p = line + start;
        t->len = i - start;
        *off = i + 1;
        return MS_TOK_QUOTED;
    }
    bool is_bad = false;
    if (literal_at(line, len, i, &t->lit_len, &is_bad)) {
        *off = len;
        return is_bad ? MS_TOK_BAD : MS_TOK_LITERAL;
    }
    size_t start = i;
    if (line[i] == '(' || line[i] == ')') {
        i++;
    } else {
        while (i < len && line[i] != ' ' && line[i] != '"' && line[i] != '(' && line[i] != ')') {
            i++;
        }
    }
    t->p = line + start;
    t->len = i - start;
    *off = i;
    return MS_TOK_ATOM;
}

/* The literal that ends line[off..len), if any: MS_TOK_LITERAL with *n set, MS_TOK_BAD for a
 * line that cannot be read to its end, MS_TOK_END otherwise. */
static enum ms_tok trailing_literal(const uint8_t *line, size_t len, size_t off, uint64_t *n)
{
    struct ms_token t;
    for (;;) {
        enum ms_tok k = next_token(line, len, &off, &t);
        if (k == MS_TOK_END || k == MS_TOK_BAD) {
            return k;
        }
        if (k == MS_TOK_LITERAL) {
            *n = t.lit_len;
            return k;
        }
    }
}

static void str_reset(struct ms_str *x)
{
    /* Only bytes below len were ever written since the last reset. */
    explicit_bzero(x->buf, x->len);
    x->len = 0;
    x->is_over = false;
}

static void str_append(struct ms_str *x, const uint8_t *d, size_t n)
{
    size_t room = sizeof x->buf - x->len;
    if (n > room) {
        x->is_over = true;
        n = room;
    }
    memcpy(x->buf + x->len, d, n);
    x->len += n;
}

/* Appends a quoted string's content (t from next_token), its \" and \\ escapes undone; any
 * other escaped character is taken as itself, as lenient servers do. */
static void str_unquote(struct ms_str *x, const struct ms_token *t)
{
    for (size_t i = 0; i < t->len; i++) {
        uint8_t c = t->p[i];
        if (c == '\\' && i + 1 < t->len) {
            c = t->p[++i];
        }
        str_append(x, &c, 1);
    }
}

/* ---- the client's commands ---- */

/* Appends to the mechanism name; one longer than the buffer keeps mech_len past it, which no
 * SASL name reaches (RFC 4422 allows 20 characters), so sasl reads it as unknown. */
static void mech_append(struct managesieve *p, const uint8_t *d, size_t n)
{
    size_t room = sizeof p->mech - p->mech_len;
    if (n > room) {
        memcpy(p->mech + p->mech_len, d, room);
        p->mech_len = sizeof p->mech;
        return;
    }
    memcpy(p->mech + p->mech_len, d, n);
    p->mech_len += n;
}

static void command_reset(struct managesieve *p)
{
    p->auth_argn = 0;
    p->auth_is_bad = false;
    p->mech_len = 0;
    str_reset(&p->cstr);
}

/* The AUTHENTICATE command is complete: start the exchange (RFC 5804 section 2.1). */
static void authenticate_done(struct managesieve *p)
{
    if (p->auth_argn == 0 || p->auth_is_bad) {
        p->st->unknown_commands++; /* the server answers NO */
        return;
    }
    bool has_ir = p->auth_argn >= 2;
    if (has_ir && p->cstr.is_over) {
        p->st->overlong_lines++; /* an initial response we cannot read */
        has_ir = false;
    }
    sasl_start(&p->sasl, p->s, p->st, p->mech, p->mech_len, p->cstr.buf, p->cstr.len, has_ir);
    str_reset(&p->cstr);
    if (p->cmd_has_result) {
        /* The server answered before the command's last byte reached us. */
        sasl_finish(&p->sasl, p->cmd_is_ok);
        if (p->cmd_is_ok) {
            p->auth = MS_AUTH_DONE;
        }
        return;
    }
    p->phase = MS_SASL;
}

/* One argument of AUTHENTICATE: the mechanism, then the initial response. */
static void authenticate_arg(struct managesieve *p, enum ms_tok k, const struct ms_token *t)
{
    if (p->auth_argn == 0) {
        if (k == MS_TOK_QUOTED) {
            struct ms_str *x = &p->cstr; /* unquoted through the string buffer, still empty */
            str_unquote(x, t);
            mech_append(p, x->buf, x->len);
            str_reset(x);
        } else {
            mech_append(p, t->p, t->len);
        }
    } else if (p->auth_argn == 1) {
        if (k == MS_TOK_QUOTED) {
            str_unquote(&p->cstr, t);
        } else {
            str_append(&p->cstr, t->p, t->len); /* an atom: not RFC 5804, taken as it is */
        }
    }
    p->auth_argn++;
}

/* The client's logical line ended (no literal follows). */
static void unit_end(struct managesieve *p)
{
    p->cl_is_open = false;
    p->cl_lit_left = 0;
    p->cl_lit_keep = MS_KEEP_NONE;
    if (p->cl_unit == MS_UNIT_SASL) {
        p->cl_unit = MS_UNIT_COMMAND;
        enum sasl_line r = SASL_LINE_MORE;
        if (p->cstr.is_over) {
            p->st->overlong_lines++;
        } else if (p->sasl.is_active) {
            r = sasl_client_line(&p->sasl, p->cstr.buf, p->cstr.len);
        }
        str_reset(&p->cstr);
        if (r != SASL_LINE_MORE || !p->sasl.is_active) {
            p->phase = MS_CLEAR; /* a literal is no command: nothing more to read here */
        }
        return;
    }
    if (p->cmd == MS_CMD_AUTHENTICATE && !p->cmd_is_injected) {
        authenticate_done(p);
    }
    command_reset(p);
}

/* A literal of the client's ended: an AUTHENTICATE argument is complete. */
static void client_literal_end(struct managesieve *p)
{
    if (p->cl_lit_keep != MS_KEEP_NONE && p->cl_unit == MS_UNIT_COMMAND) {
        p->auth_argn++;
    }
    p->cl_lit_keep = MS_KEEP_NONE;
}

/* Starts counting off a client literal of n bytes; kept when it is a SASL string. */
static void client_literal_begin(struct managesieve *p, uint64_t n)
{
    p->cl_is_open = true;
    p->cl_lit_left = n;
    p->cl_lit_keep = MS_KEEP_NONE;
    if (p->cl_unit == MS_UNIT_SASL) {
        p->cl_lit_keep = MS_KEEP_STR;
    } else if (p->cmd == MS_CMD_AUTHENTICATE && !p->cmd_is_injected && !p->auth_is_bad &&
               p->auth_argn < 2) {
        p->cl_lit_keep = p->auth_argn == 0 ? MS_KEEP_MECH : MS_KEEP_STR;
    }
    if (n == 0) {
        client_literal_end(p);
    }
}

/* A piece of the client's logical line from off: its arguments, and the literal it announces,
 * if any. */
static void client_segment(struct managesieve *p, const uint8_t *line, size_t len, size_t off)
{
    bool is_auth =
        p->cl_unit == MS_UNIT_COMMAND && p->cmd == MS_CMD_AUTHENTICATE && !p->cmd_is_injected;
    struct ms_token t;
    for (;;) {
        enum ms_tok k = next_token(line, len, &off, &t);
        if (k == MS_TOK_END) {
            break;
        }
        if (k == MS_TOK_BAD) {
            if (is_auth) {
                p->auth_is_bad = true;
            }
            break;
        }
        if (k == MS_TOK_LITERAL) {
            client_literal_begin(p, t.lit_len);
            return;
        }
        if (is_auth && !p->auth_is_bad) {
            authenticate_arg(p, k, &t);
        }
    }
    unit_end(p);
}

/* Counts off literal bytes from *data, keeping those of a SASL string. */
static void client_literal(struct managesieve *p, const uint8_t **data, size_t *len)
{
    size_t k = p->cl_lit_left < *len ? (size_t)p->cl_lit_left : *len;
    if (p->cl_lit_keep == MS_KEEP_MECH) {
        mech_append(p, *data, k);
    } else if (p->cl_lit_keep == MS_KEEP_STR) {
        str_append(&p->cstr, *data, k);
    }
    p->cl_lit_left -= k;
    *data += k;
    *len -= k;
    if (p->cl_lit_left == 0) {
        client_literal_end(p);
    }
}

static void command_begin(struct managesieve *p, enum ms_cmd cmd)
{
    command_reset(p);
    p->cl_unit = MS_UNIT_COMMAND;
    p->cmd = cmd;
    p->cmd_is_injected = false;
    p->cmd_has_result = false;
    p->cmd_seq = push(p, cmd);
}

/* A login command shows the session is (or was) in the not-authenticated state: a capability
 * list seen before, in a capture that started mid-session, was the pre-login one. */
static void learn_not_authenticated(struct managesieve *p)
{
    if (p->auth == MS_AUTH_UNKNOWN) {
        p->auth = MS_AUTH_NOT;
        if (p->has_cap_unknown) {
            p->has_cap_preauth = true;
        }
    }
}

/* A client line in the SASL exchange: a SASL string (a quoted string, or a literal announced
 * alone on the line), or a bare line as sasl_client_line reads it. Returns true when the line
 * is a command after all (sasl_client_line said so, after a gap). */
static bool sasl_line(struct managesieve *p, const uint8_t *line, size_t len)
{
    size_t off = 0;
    struct ms_token t;
    enum ms_tok k = next_token(line, len, &off, &t);
    if (k == MS_TOK_LITERAL) {
        str_reset(&p->cstr);
        p->cl_unit = MS_UNIT_SASL;
        client_literal_begin(p, t.lit_len);
        return false;
    }
    enum sasl_line r;
    if (k == MS_TOK_QUOTED && off == len) {
        str_reset(&p->cstr);
        str_unquote(&p->cstr, &t);
        if (p->cstr.is_over) {
            p->st->overlong_lines++;
            str_reset(&p->cstr);
            return false;
        }
        r = sasl_client_line(&p->sasl, p->cstr.buf, p->cstr.len);
        str_reset(&p->cstr);
    } else {
        r = sasl_client_line(&p->sasl, line, len);
    }
    if (r != SASL_LINE_MORE) {
        p->phase = MS_CLEAR; /* on END after "*", the server's NO still answers AUTHENTICATE */
    }
    return r == SASL_LINE_COMMAND;
}

static void client_line(struct managesieve *p, const uint8_t *line, size_t len)
{
    p->st->lines++;
    if (p->cl_is_open) {
        client_segment(p, line, len, 0);
        return;
    }
    if (p->phase == MS_SASL && !sasl_line(p, line, len)) {
        return;
    }
    size_t off = 0;
    const uint8_t *name = NULL;
    size_t name_len = 0;
    bool has_name = line_token(line, len, &off, &name, &name_len);
    if (p->phase == MS_TLS_WAIT || p->phase == MS_TLS) {
        p->s->injected_commands++;
        p->st->starttls_injection++;
        command_reset(p);
        p->cl_unit = MS_UNIT_COMMAND;
        p->cmd = MS_CMD_OTHER;
        p->cmd_is_injected = true;
        p->cmd_seq = 0;
        client_segment(p, line, len, off); /* its literals are content, not commands */
        return;
    }
    if (!has_name) {
        p->st->unknown_commands++;
        return;
    }
    /* The command name is an atom (RFC 5804 section 4); the arguments follow it. */
    off = (size_t)(name - line) + name_len;
    if (line_is_word(name, name_len, "AUTHENTICATE")) {
        learn_not_authenticated(p);
        command_begin(p, MS_CMD_AUTHENTICATE);
    } else if (line_is_word(name, name_len, "STARTTLS")) {
        learn_not_authenticated(p);
        command_begin(p, MS_CMD_STARTTLS);
        p->phase = MS_TLS_WAIT;
    } else if (line_is_word(name, name_len, "CAPABILITY")) {
        command_begin(p, MS_CMD_CAPABILITY);
    } else if (line_is_word(name, name_len, "UNAUTHENTICATE")) {
        command_begin(p, MS_CMD_UNAUTHENTICATE);
    } else {
        static const char *const others[] = {
            "LOGOUT",       "HAVESPACE",    "PUTSCRIPT",   "LISTSCRIPTS", "SETACTIVE", "GETSCRIPT",
            "DELETESCRIPT", "RENAMESCRIPT", "CHECKSCRIPT", "NOOP",        NULL
        };
        bool is_known = false;
        for (size_t i = 0; others[i] != NULL && !is_known; i++) {
            is_known = line_is_word(name, name_len, others[i]);
        }
        if (!is_known) {
            p->st->unknown_commands++; /* the server answers NO */
        }
        command_begin(p, MS_CMD_OTHER);
    }
    client_segment(p, line, len, off);
}

/* ---- the server's answers ---- */

/* A capability list ended with OK (the greeting's, or CAPABILITY's answer). */
static void capability_list_done(struct managesieve *p, bool is_state_known)
{
    if (p->sv_cap_lines == 0) {
        return;
    }
    p->sv_cap_lines = 0;
    if (p->auth == MS_AUTH_NOT && is_state_known) {
        p->has_cap_preauth = true;
    } else if (p->auth == MS_AUTH_UNKNOWN && is_state_known) {
        p->has_cap_unknown = true;
    }
}

/* OK, NO or BYE (RFC 5804 section 4: response-ok, response-nobye). */
static void response(struct managesieve *p, bool is_ok)
{
    if (p->sv_in_greeting) {
        /* The greeting (section 1.7): capability lines, then OK. */
        p->sv_in_greeting = false;
        if (is_ok) {
            if (p->auth == MS_AUTH_UNKNOWN) {
                p->auth = MS_AUTH_NOT;
            }
            capability_list_done(p, true);
        }
        p->sv_cap_lines = 0;
        return;
    }
    size_t slot = parse_ring_pop(&p->ring);
    if (slot == PARSE_MAX_PENDING) {
        p->sv_cap_lines = 0;
        return;
    }
    struct ms_pending e = p->q[slot];
    bool is_open = p->cl_is_open && p->cl_unit == MS_UNIT_COMMAND && p->cmd_seq == e.seq;
    switch (e.cmd) {
    case MS_CMD_AUTHENTICATE:
        if (is_open) {
            p->cmd_has_result = true;
            p->cmd_is_ok = is_ok;
            break;
        }
        sasl_finish(&p->sasl, is_ok);
        if (p->phase == MS_SASL) {
            p->phase = MS_CLEAR;
        }
        if (is_ok) {
            p->auth = MS_AUTH_DONE;
        }
        break;
    case MS_CMD_STARTTLS:
        if (is_ok) {
            finding_set_upgraded(p->s);
            p->phase = MS_TLS; /* what follows is TLS */
            break;
        }
        p->is_starttls_refused = true;
        if (p->phase == MS_TLS_WAIT) {
            p->phase = MS_CLEAR;
        }
        break;
    case MS_CMD_CAPABILITY:
        if (is_ok) {
            capability_list_done(p, true);
        }
        break;
    case MS_CMD_UNAUTHENTICATE:
        if (is_ok) {
            p->auth = MS_AUTH_NOT; /* section 2.14.1: back to the not-authenticated state */
        }
        break;
    case MS_CMD_OTHER:
        break;
    }
    p->sv_cap_lines = 0;
}

/* A capability line: its first string names the capability (RFC 5804 section 1.7). */
static void capability_line(struct managesieve *p, const struct ms_token *t)
{
    p->sv_cap_lines++;
    if (t->len == 8 && line_is_word(t->p, t->len, "STARTTLS")) {
        p->has_cap_starttls = true;
    }
}

/* Starts counting off a server literal of n bytes; kept when it is a SASL challenge. A
 * challenge whose line goes on with another literal is no challenge. */
static void server_literal_begin(struct managesieve *p, uint64_t n, bool is_challenge)
{
    p->sv_is_open = true;
    p->sv_lit_left = n;
    p->sv_is_challenge = is_challenge;
    str_reset(&p->sstr);
}

/* The server's logical line ended. */
static void server_unit_end(struct managesieve *p)
{
    p->sv_is_open = false;
    if (!p->sv_is_challenge) {
        return;
    }
    p->sv_is_challenge = false;
    if (p->sstr.is_over) {
        p->st->overlong_lines++;
    } else {
        sasl_server(&p->sasl, p->sstr.buf, p->sstr.len);
    }
    str_reset(&p->sstr);
}

/* The rest of a server line from off: the literal it announces, if any. */
static void server_segment(struct managesieve *p, const uint8_t *line, size_t len, size_t off)
{
    uint64_t n = 0;
    if (trailing_literal(line, len, off, &n) == MS_TOK_LITERAL) {
        server_literal_begin(p, n, false);
        return;
    }
    server_unit_end(p);
}

/* Returns false when the stream is not ManageSieve. */
static bool server_line(struct managesieve *p, const uint8_t *line, size_t len)
{
    p->st->lines++;
    bool is_first = !p->has_server_line;
    p->has_server_line = true;
    if (is_first && !p->is_midstream) {
        /* The greeting's first line (RFC 5804 section 1.7: a capability). */
        finding_set_context(p->s, FINDING_CONTEXT_BANNER, line, len);
    }
    if (p->sv_is_open) {
        /* A line that goes on after a literal; a challenge's string is complete. */
        server_segment(p, line, len, 0);
        return true;
    }
    size_t off = 0;
    struct ms_token t;
    enum ms_tok k = next_token(line, len, &off, &t);
    const struct ms_pending *h = peek(p);
    bool is_challenge = p->phase == MS_SASL && p->sasl.is_active && h != NULL &&
                        h->cmd == MS_CMD_AUTHENTICATE && !p->sv_in_greeting;
    if (k == MS_TOK_QUOTED && is_challenge) {
        str_reset(&p->sstr);
        str_unquote(&p->sstr, &t);
        p->sv_is_challenge = true;
        server_unit_end(p);
        server_segment(p, line, len, off);
        return true;
    }
    if (k == MS_TOK_LITERAL) {
        server_literal_begin(p, t.lit_len, is_challenge);
        return true;
    }
    if (k == MS_TOK_QUOTED) {
        if (p->sv_in_greeting || (h != NULL && h->cmd == MS_CMD_CAPABILITY)) {
            capability_line(p, &t);
        }
        server_segment(p, line, len, off);
        return true;
    }
    if (k == MS_TOK_ATOM) {
        bool is_ok = line_is_word(t.p, t.len, "OK") && t.len == 2;
        bool is_no = (line_is_word(t.p, t.len, "NO") && t.len == 2) ||
                     (line_is_word(t.p, t.len, "BYE") && t.len == 3);
        if (is_ok || is_no) {
            response(p, is_ok);
            if (p->phase == MS_TLS) {
                return true; /* what follows is TLS */
            }
            server_segment(p, line, len, off);
            return true;
        }
    }
    /* The first thing a ManageSieve server says is a capability line or OK/NO/BYE; a capture
     * that starts mid-session may show any line first (a script's). */
    if (is_first && !p->is_midstream) {
        return false;
    }
    server_segment(p, line, len, off);
    return true;
}

/* ---- the interface ---- */

static enum parse_status client_feed(struct managesieve *p, const uint8_t *data, size_t len)
{
    struct line_buf *lb = &p->lb[PARSE_DIR_CLIENT];
    while (len > 0) {
        if (p->is_client_tls) {
            tlssniff_leg_client(&p->tls, p->s, p->st, data, len); /* its ClientHello */
            return PARSE_OK;
        }
        if (p->cl_lit_left > 0) {
            client_literal(p, &data, &len);
            continue;
        }
        /* A TLS record where a command should be: the client went to TLS (after STARTTLS, or
         * TLS spoken on the cleartext port from the start). */
        if (!line_has_partial(lb) && !p->cl_is_open && data[0] == TLSSNIFF_CT_HANDSHAKE) {
            p->is_client_tls = true;
            if (p->phase != MS_TLS_WAIT && p->phase != MS_TLS && !p->has_server_line &&
                p->s->n_creds == 0) {
                finding_set_implicit_tls(p->s);
                p->phase = MS_TLS;
                p->sv_in_greeting = false;
            }
            continue;
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
        client_line(p, line, line_len);
    }
    return line_has_partial(lb) || p->cl_is_open ? PARSE_NEED_MORE : PARSE_OK;
}

static enum parse_status server_feed(struct managesieve *p, const uint8_t *data, size_t len)
{
    struct line_buf *lb = &p->lb[PARSE_DIR_SERVER];
    while (len > 0) {
        if (p->phase == MS_TLS) {
            tlssniff_leg_feed(&p->tls, p->s, p->st, data, len);
            return PARSE_OK;
        }
        if (p->sv_lit_left > 0) {
            size_t k = p->sv_lit_left < len ? (size_t)p->sv_lit_left : len;
            if (p->sv_is_challenge) {
                str_append(&p->sstr, data, k);
            }
            p->sv_lit_left -= k;
            data += k;
            len -= k;
            continue;
        }
        /* STARTTLS is outstanding and the server speaks TLS: its OK was lost in a gap. Right
         * after the gap the line buffer is discarding, but a record starts a segment. */
        bool is_at_start = (!line_has_partial(lb) && !p->sv_is_open) || p->sv_is_at_gap;
        p->sv_is_at_gap = false;
        if (p->phase == MS_TLS_WAIT && is_at_start && data[0] == TLSSNIFF_CT_HANDSHAKE) {
            finding_set_upgraded(p->s);
            line_init(lb);
            p->phase = MS_TLS;
            continue;
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
        if (!server_line(p, line, line_len)) {
            return PARSE_ERROR;
        }
    }
    return line_has_partial(lb) || p->sv_is_open ? PARSE_NEED_MORE : PARSE_OK;
}

static enum parse_status ms_feed(void *vp, enum parse_dir dir, const uint8_t *data, size_t len,
                                 size_t *consumed)
{
    struct managesieve *p = vp;
    *consumed = len;
    if (dir == PARSE_DIR_CLIENT) {
        return client_feed(p, data, len);
    }
    return server_feed(p, data, len);
}

static void ms_gap(void *vp, enum parse_dir dir, uint64_t len)
{
    struct managesieve *p = vp;
    p->st->gaps++;
    if (dir == PARSE_DIR_SERVER && p->phase == MS_TLS) {
        /* The record framing is lost with the bytes: no version can be read any more. */
        tlssniff_leg_lost(&p->tls, p->s, p->st);
        return;
    }
    if (dir == PARSE_DIR_CLIENT && p->is_client_tls) {
        tlssniff_leg_client_lost(&p->tls, p->st);
        return; /* lost TLS bytes of the client: the server's answers still pair as before */
    }
    /* Lost inside a literal: its end is still known and no command or answer was lost, so the
     * answers still pair. A SASL string that lost bytes cannot be read. */
    if (dir == PARSE_DIR_CLIENT && p->cl_lit_left > 0 && len <= p->cl_lit_left) {
        if (p->cl_lit_keep != MS_KEEP_NONE) {
            if (p->cl_unit == MS_UNIT_SASL) {
                sasl_abort(&p->sasl); /* a response lost: the rest cannot be told apart */
            } else {
                p->auth_is_bad = true; /* the AUTHENTICATE starts nothing */
            }
            p->cl_lit_keep = MS_KEEP_NONE;
            str_reset(&p->cstr);
        }
        p->cl_lit_left -= len;
        if (p->cl_lit_left == 0) {
            client_literal_end(p);
        }
        return;
    }
    if (dir == PARSE_DIR_SERVER && p->sv_lit_left > 0 && len <= p->sv_lit_left) {
        p->sv_is_challenge = false; /* a challenge that lost bytes is not kept */
        str_reset(&p->sstr);
        p->sv_lit_left -= len;
        return;
    }
    if (dir == PARSE_DIR_CLIENT) {
        /* The command is abandoned: an AUTHENTICATE that lost bytes starts nothing. */
        p->cl_is_open = false;
        p->cl_lit_left = 0;
        p->cl_lit_keep = MS_KEEP_NONE;
        p->cl_unit = MS_UNIT_COMMAND;
        command_reset(p);
    } else {
        p->sv_lit_left = 0;
        p->sv_is_open = false;
        p->sv_is_challenge = false;
        str_reset(&p->sstr);
        p->sv_is_at_gap = true;
        p->sv_in_greeting = false; /* its end may be among the lost bytes */
        p->sv_cap_lines = 0;
    }
    line_resync(&p->lb[dir]);
    /* What the lost bytes said is unknown: no answer may be paired with a command it did not
     * answer. Pending outcomes stay unknown. */
    parse_ring_clear(&p->ring);
    p->cmd_has_result = false;
    if (p->phase == MS_SASL) {
        if (!sasl_gap(&p->sasl, dir == PARSE_DIR_SERVER)) {
            p->phase = MS_CLEAR;
        }
    }
}

static void ms_end(void *vp)
{
    struct managesieve *p = vp;
    if (p->sasl.is_active) {
        sasl_abort(&p->sasl);
    }
    command_reset(p);
    str_reset(&p->sstr);
    /* The list is a capability list seen before login (the greeting's, or CAPABILITY's). */
    finding_settle_starttls(p->s, p->is_starttls_refused, p->has_cap_preauth, p->has_cap_starttls);
}

static void ms_free(void *vp)
{
    struct managesieve *p = vp;
    if (p == NULL) {
        return;
    }
    tlssniff_leg_free(&p->tls, p->st);
    /* Clears everything, the SASL strings and the challenge included. */
    line_state_free(p, sizeof *p, p->lb);
}

const struct parser_ops managesieve_parser_ops = {
    .name = "managesieve",
    .state_size = sizeof(struct managesieve),
    /* PUTSCRIPT and CHECKSCRIPT upload scripts: text a capture begun inside one may misread. */
    .has_client_text = true,
    .new_parser = ms_new,
    .feed = ms_feed,
    .gap = ms_gap,
    .end = ms_end,
    .free_parser = ms_free,
};
