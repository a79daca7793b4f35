/* imap.c - the IMAP parser: cleartext logins, STARTTLS posture and the TLS version.
 *
 * RFC 9051 and RFC 3501 (IMAP4rev2/rev1: tagged commands, LOGIN, AUTHENTICATE, CAPABILITY,
 * literals), RFC 7888 (LITERAL+ / LITERAL-: "{n+}"), RFC 3516 (literal8 "~{n}"), RFC 4959
 * (SASL-IR), RFC 2595 (STARTTLS), RFC 2177 (IDLE ... DONE), RFC 4978 (COMPRESS).
 *
 * Each client command carries a tag, and the server's tagged OK/NO/BAD answers the command
 * with that tag, in whatever order: pending commands are kept in a small table searched by tag
 * (the oldest first, for clients that use one tag for everything). Untagged "*" replies and "+"
 * continuation requests answer nothing by themselves. A command line may go on after a literal:
 * "{n}" (or "{n+}") at the end of a line announces n bytes that follow its CRLF, after which the
 * same command continues on the next line; so "a1 LOGIN {5}\r\nalice {6}\r\nsecret\r\n" is one
 * command. Literal bytes are counted off, never split into lines: the content of an APPEND or of
 * a FETCH BODY[] reply is never a command or an answer, and only the first
 * FINDING_MAX_USER / FINDING_MAX_SECRET + 1 bytes of a LOGIN argument are kept (the extra byte
 * lets finding.c flag the truncation). The client's literal bytes are taken as they come,
 * whether or not the server's "+" was seen, because the two directions may be captured in
 * either order; only a tagged NO/BAD for that very command, before any "+" and before any byte
 * of a synchronising literal, means the server refused it and the client will not send it
 * (RFC 9051 section 7.5).
 *
 * STARTTLS posture: a capability list (an untagged CAPABILITY reply or a [CAPABILITY ...]
 * response code) naming STARTTLS means offered; one without it means not offered only when it
 * was seen in the not-authenticated state, since servers drop STARTTLS from the list after
 * login (RFC 9051 section 6.2.1 allows STARTTLS only before it). After a successful STARTTLS,
 * or from the first byte on port 993, the server's bytes go to the TLS sniffer for the version
 * and nothing more is parsed as cleartext; cleartext client commands after STARTTLS are counted
 * as injected (CVE-2011-0411 style) and never read as credentials.
 *
 * After a gap the pending answers are forgotten (outcomes stay unknown, never guessed), a SASL
 * exchange is abandoned, and parsing resumes at the next line. A gap that falls inside a
 * literal keeps the literal's count (TCP says exactly how many bytes were lost), so the rest of
 * the content is still skipped; a LOGIN argument that lost bytes gives no credential.
 *
 * Known limits: a command or reply line longer than LINE_MAX_LEN is discarded by line.c with
 * its literal announcement, so the literal's content that follows is then read as lines. A
 * capture that starts inside a literal reads its content as lines; a LOGIN among them gets no
 * answer, and flow drops such unanswered credentials of a session begun before the capture. */
#include "imap.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "line.h"
#include "ps.h"
#include "sasl.h"
#include "tlssniff.h"
#include "tunables.h"

enum imap_cmd {
    IMAP_CMD_OTHER = 0,
    IMAP_CMD_LOGIN,
    IMAP_CMD_AUTHENTICATE,
    IMAP_CMD_STARTTLS,
    IMAP_CMD_IDLE,
    IMAP_CMD_COMPRESS,
};

enum imap_phase {
    IMAP_CLEAR = 0, /* cleartext commands */
    IMAP_SASL,      /* inside AUTHENTICATE: client lines are SASL responses */
    IMAP_TLS_WAIT,  /* STARTTLS sent, answer not seen yet */
    IMAP_TLS,       /* TLS: server bytes to the sniffer */
};

/* The connection state of RFC 9051 section 3, as far as the capture shows it. */
enum imap_auth {
    IMAP_AUTH_UNKNOWN = 0, /* no greeting seen (the capture started mid-session) */
    IMAP_AUTH_NOT,         /* not authenticated: capabilities here are the pre-login ones */
    IMAP_AUTH_DONE,        /* authenticated (PREAUTH, or a login succeeded) */
};

enum imap_lit {
    IMAP_LIT_NONE = 0, /* the line announces no literal */
    IMAP_LIT_OK,
    IMAP_LIT_BAD, /* "{digits}" whose number does not fit 64 bits: no literal */
};

struct imap_pending {
    uint8_t tag[IMAP_MAX_TAG];
    size_t tag_len;
    enum imap_cmd cmd;
    struct credential *cred; /* borrowed from the session; LOGIN */
    uint64_t seq;            /* order of issue, from 1; 0 marks a free slot */
};

struct imap {
    struct session *s;
    struct parse_stats *st;
    struct line_buf lb[2];
    struct imap_pending q[PARSE_MAX_PENDING];
    uint64_t next_seq;
    enum imap_phase phase;
    enum imap_auth auth;
    bool is_client_tls;   /* the client's bytes are TLS now */
    bool is_compressed;   /* COMPRESS succeeded: both directions are deflate streams */
    bool has_server_line; /* the first server line was seen */
    bool has_client_line; /* a client line was seen (then a first "* OK" is no greeting) */
    bool is_idle;         /* IDLE sent: the client's "DONE" ends it */
    bool has_cap_preauth; /* a capability list seen in the not-authenticated state */
    bool has_cap_unknown; /* one seen before that state was known */
    bool has_cap_starttls;
    bool is_starttls_refused;

    /* The client command being read; it stays open while its line goes on after a literal. */
    bool cmd_is_open;
    bool cmd_is_injected; /* sent after STARTTLS: counted, never read */
    enum imap_cmd cmd;
    uint64_t cmd_seq; /* its pending entry, 0 when untracked */
    bool cmd_has_result;
    enum finding_result cmd_result; /* its answer, when that came before its last byte */
    unsigned login_argn;            /* LOGIN arguments complete (user, password) */
    bool login_is_bad;              /* the arguments cannot be read: no credential */
    uint8_t user[FINDING_MAX_USER + 1];
    size_t user_len;
    uint8_t pass[FINDING_MAX_SECRET + 1];
    size_t pass_len;
    /* The client literal being counted off. */
    uint64_t cl_lit_left, cl_lit_len;
    bool cl_lit_is_sync;     /* "{n}": the client waits for the server's "+" */
    bool cl_lit_is_accepted; /* a "+" came after it was announced */
    bool cl_lit_is_arg;      /* its content is the next LOGIN argument */

    /* The server reply being read. */
    uint64_t sv_lit_left;
    bool sv_in_resp;   /* the next server line continues an untagged reply after a literal */
    bool sv_is_at_gap; /* no server byte came since a gap: the next one starts a segment */

    struct sasl sasl;
    struct tlssniff_leg tls; /* after STARTTLS, or from the start on implicit TLS */
};

static void *imap_new(const struct parse_ctx *ctx)
{
    struct imap *p = xcalloc(1, sizeof *p);
    p->s = ctx->s;
    p->st = ctx->st;
    line_open(&p->lb[0], &p->st->line_mem);
    line_open(&p->lb[1], &p->st->line_mem);
    if ((ctx->flags & PARSE_F_IMPLICIT_TLS) != 0) {
        p->phase = IMAP_TLS;
        p->is_client_tls = true;
    }
    return p;
}

/* ---- pending commands, by tag ---- */

/* Tracks a command; returns its sequence number, or 0 when it cannot be tracked. */
static uint64_t push(struct imap *p, enum imap_cmd cmd, const uint8_t *tag, size_t tag_len)
{
    if (tag_len > IMAP_MAX_TAG) {
        p->st->pending_overflow++;
        return 0;
    }
    for (size_t i = 0; i < PARSE_MAX_PENDING; i++) {
        struct imap_pending *e = &p->q[i];
        if (e->seq == 0) {
            memcpy(e->tag, tag, tag_len);
            e->tag_len = tag_len;
            e->cmd = cmd;
            e->cred = NULL;
            e->seq = ++p->next_seq;
            return e->seq;
        }
    }
    p->st->pending_overflow++;
    return 0; /* its answer will pair with nothing: outcome stays unknown */
}

/* The oldest pending command with this tag, or NULL. */
static struct imap_pending *find_tag(struct imap *p, const uint8_t *tag, size_t tag_len)
{
    struct imap_pending *best = NULL;
    for (size_t i = 0; i < PARSE_MAX_PENDING; i++) {
        struct imap_pending *e = &p->q[i];
        if (e->seq != 0 && e->tag_len == tag_len && memcmp(e->tag, tag, tag_len) == 0 &&
            (best == NULL || e->seq < best->seq)) {
            best = e;
        }
    }
    return best;
}

static struct imap_pending *find_seq(struct imap *p, uint64_t seq)
{
    if (seq == 0) {
        return NULL;
    }
    for (size_t i = 0; i < PARSE_MAX_PENDING; i++) {
        if (p->q[i].seq == seq) {
            return &p->q[i];
        }
    }
    return NULL;
}

/* ---- wire syntax ---- */

/* RFC 9051 ATOM-CHAR: any CHAR except atom-specials. */
static bool is_atom_char(uint8_t c)
{
    if (c <= 0x20 || c >= 0x7f) {
        return false;
    }
    return c != '(' && c != ')' && c != '{' && c != '%' && c != '*' && c != '"' && c != '\\' &&
           c != ']';
}

/* RFC 9051 tag: 1*<any ASTRING-CHAR except "+">, ASTRING-CHAR being ATOM-CHAR or "]". */
static bool is_tag(const uint8_t *t, size_t len)
{
    if (len == 0) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (t[i] == '+' || (!is_atom_char(t[i]) && t[i] != ']')) {
            return false;
        }
    }
    return true;
}

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* Does line[0..len) end with a literal announcement, "{n}" (RFC 9051 literal; also literal8
 * "~{n}", the '~' being before the brace) or, when is_client, "{n+}" (RFC 7888)? On IMAP_LIT_OK
 * sets *n, *is_sync and *start, the offset of the '{'. */
static enum imap_lit trailing_literal(const uint8_t *line, size_t len, bool is_client, uint64_t *n,
                                      bool *is_sync, size_t *start)
{
    if (len < 3 || line[len - 1] != '}') {
        return IMAP_LIT_NONE;
    }
    size_t end = len - 1;
    bool sync = true;
    if (line[end - 1] == '+') {
        if (!is_client) {
            return IMAP_LIT_NONE;
        }
        sync = false;
        end--;
    }
    size_t i = end;
    while (i > 0 && is_digit(line[i - 1])) {
        i--;
    }
    if (i == end || i == 0 || line[i - 1] != '{') {
        return IMAP_LIT_NONE;
    }
    uint64_t v = 0;
    for (size_t k = i; k < end; k++) {
        uint64_t d = (uint64_t)(line[k] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return IMAP_LIT_BAD;
        }
        v = v * 10 + d;
    }
    *n = v;
    *is_sync = sync;
    *start = i - 1;
    return IMAP_LIT_OK;
}

/* ---- the client's commands ---- */

static void login_reset(struct imap *p)
{
    /* arg_append writes only below the lengths: those bytes are all there is to clear. */
    explicit_bzero(p->user, p->user_len);
    explicit_bzero(p->pass, p->pass_len);
    p->user_len = 0;
    p->pass_len = 0;
    p->login_argn = 0;
    p->login_is_bad = false;
}

/* Appends to LOGIN argument which (0 user, 1 password), keeping what fits. */
static void arg_append(struct imap *p, unsigned which, const uint8_t *d, size_t n)
{
    uint8_t *buf = which == 0 ? p->user : p->pass;
    size_t cap = which == 0 ? sizeof p->user : sizeof p->pass;
    size_t *len = which == 0 ? &p->user_len : &p->pass_len;
    size_t k = n < cap - *len ? n : cap - *len;
    memcpy(buf + *len, d, k);
    *len += k;
}

static void login_credential(struct imap *p)
{
    struct credential *c = finding_add_credential(p->s, "IMAP LOGIN");
    if (c == NULL) {
        p->st->creds_dropped++;
    } else {
        finding_set_username(c, p->user, p->user_len);
        finding_set_secret(c, p->pass, p->pass_len);
        struct imap_pending *e = find_seq(p, p->cmd_seq);
        if (e != NULL) {
            e->cred = c;
        } else if (p->cmd_has_result) {
            c->result = p->cmd_result;
        }
    }
    explicit_bzero(p->user, p->user_len);
    explicit_bzero(p->pass, p->pass_len);
}

static void arg_done(struct imap *p)
{
    p->login_argn++;
    if (p->login_argn == 2) {
        login_credential(p);
    }
}

/* LOGIN arguments in seg[0..len) (RFC 9051 astring: atom or quoted string; a literal is
 * announced at the end of the line and read by the caller). */
static void login_args(struct imap *p, const uint8_t *seg, size_t len)
{
    size_t i = 0;
    while (!p->login_is_bad && p->login_argn < 2) {
        while (i < len && seg[i] == ' ') {
            i++;
        }
        if (i >= len) {
            return;
        }
        unsigned which = p->login_argn;
        if (seg[i] == '"') {
            /* quoted = DQUOTE *QUOTED-CHAR DQUOTE, with \" and \\ escaped. Any other escaped
             * character is taken as itself, as lenient servers do. */
            bool is_closed = false;
            for (i++; i < len; i++) {
                uint8_t c = seg[i];
                if (c == '\\' && i + 1 < len) {
                    c = seg[++i];
                } else if (c == '"') {
                    is_closed = true;
                    i++;
                    break;
                }
                arg_append(p, which, &c, 1);
            }
            if (!is_closed) {
                p->login_is_bad = true;
                p->st->unknown_commands++;
                return;
            }
        } else {
            size_t start = i;
            while (i < len && seg[i] != ' ') {
                i++;
            }
            arg_append(p, which, seg + start, i - start);
        }
        arg_done(p);
    }
}

static void command_end(struct imap *p)
{
    p->cmd_is_open = false;
    p->cl_lit_left = 0;
    p->cl_lit_is_arg = false;
    login_reset(p);
}

static void literal_end(struct imap *p)
{
    if (p->cl_lit_is_arg && !p->login_is_bad) {
        arg_done(p);
    }
    p->cl_lit_is_arg = false;
}

/* A piece of a command line: the first line from off (past tag and name), or the line that
 * goes on after a literal. Reads LOGIN arguments and starts the literal the line announces. */
static void client_segment(struct imap *p, const uint8_t *line, size_t len, size_t off)
{
    uint64_t n = 0;
    bool is_sync = false;
    size_t start = len;
    enum imap_lit lit = trailing_literal(line, len, true, &n, &is_sync, &start);
    if (lit != IMAP_LIT_OK) {
        start = len;
        if (lit == IMAP_LIT_BAD) {
            p->st->unknown_commands++; /* a literal no client could send: the line ends here */
        }
    }
    if (p->cmd == IMAP_CMD_LOGIN && !p->cmd_is_injected) {
        login_args(p, line + (off < start ? off : start), off < start ? start - off : 0);
    }
    if (lit != IMAP_LIT_OK) {
        command_end(p);
        return;
    }
    p->cmd_is_open = true;
    p->cl_lit_left = n;
    p->cl_lit_len = n;
    p->cl_lit_is_sync = is_sync;
    p->cl_lit_is_accepted = false;
    p->cl_lit_is_arg =
        p->cmd == IMAP_CMD_LOGIN && !p->cmd_is_injected && !p->login_is_bad && p->login_argn < 2;
    if (n == 0) {
        literal_end(p);
    }
}

/* Counts off literal bytes from the front of *data. */
static void client_literal(struct imap *p, const uint8_t **data, size_t *len)
{
    size_t k = p->cl_lit_left < *len ? (size_t)p->cl_lit_left : *len;
    if (p->cl_lit_is_arg && !p->login_is_bad) {
        arg_append(p, p->login_argn, *data, k);
    }
    p->cl_lit_left -= k;
    *data += k;
    *len -= k;
    if (p->cl_lit_left == 0) {
        literal_end(p);
    }
}

static void command_begin(struct imap *p, enum imap_cmd cmd, const uint8_t *tag, size_t tag_len)
{
    login_reset(p);
    p->cmd = cmd;
    p->cmd_is_injected = false;
    p->cmd_has_result = false;
    p->cmd_seq = push(p, cmd, tag, tag_len);
}

/* A login command shows the session is (or was) in the not-authenticated state: a capability
 * list seen before, in a capture that started mid-session, was the pre-login one. */
static void learn_not_authenticated(struct imap *p)
{
    if (p->auth == IMAP_AUTH_UNKNOWN) {
        p->auth = IMAP_AUTH_NOT;
        if (p->has_cap_unknown) {
            p->has_cap_preauth = true;
        }
    }
}

static void client_line(struct imap *p, const uint8_t *line, size_t len)
{
    p->st->lines++;
    p->has_client_line = true;
    if (p->cmd_is_open) {
        client_segment(p, line, len, 0);
        return;
    }
    if (p->phase == IMAP_SASL) {
        enum sasl_line r = sasl_client_line(&p->sasl, line, len);
        if (r != SASL_LINE_MORE) {
            p->phase =
                IMAP_CLEAR; /* on END after "*", the server's tagged NO/BAD still answers it */
        }
        if (r != SASL_LINE_COMMAND) {
            return;
        }
    }
    if (p->is_idle && len == 4 && line_is_word(line, len, "DONE")) {
        p->is_idle = false; /* RFC 2177: ends IDLE; the server answers the IDLE's tag */
        return;
    }
    size_t off = 0;
    const uint8_t *tag = NULL, *name = NULL;
    size_t tag_len = 0, name_len = 0;
    bool has_tag = line_token(line, len, &off, &tag, &tag_len);
    bool has_name = has_tag && line_token(line, len, &off, &name, &name_len);
    if (p->phase == IMAP_TLS_WAIT || p->phase == IMAP_TLS) {
        p->s->injected_commands++;
        p->st->starttls_injection++;
        login_reset(p);
        p->cmd = IMAP_CMD_OTHER;
        p->cmd_is_injected = true;
        p->cmd_seq = 0;
        client_segment(p, line, len, off); /* its literals are content, not commands */
        return;
    }
    if (!has_name) {
        p->st->unknown_commands++;
        return;
    }
    if (line_is_word(name, name_len, "LOGIN")) {
        learn_not_authenticated(p);
        command_begin(p, IMAP_CMD_LOGIN, tag, tag_len);
        client_segment(p, line, len, off);
    } else if (line_is_word(name, name_len, "AUTHENTICATE")) {
        /* RFC 9051 section 6.2.2: AUTHENTICATE SP auth-type [SP initial-response]; its
         * arguments are atoms, never literals. */
        const uint8_t *mech = NULL, *ir = NULL;
        size_t mech_len = 0, ir_len = 0;
        bool has_mech = line_token(line, len, &off, &mech, &mech_len);
        bool has_ir = has_mech && line_token(line, len, &off, &ir, &ir_len);
        learn_not_authenticated(p);
        command_begin(p, has_mech ? IMAP_CMD_AUTHENTICATE : IMAP_CMD_OTHER, tag, tag_len);
        if (has_mech) {
            sasl_start(&p->sasl, p->s, p->st, mech, mech_len, ir, ir_len, has_ir);
            p->phase = IMAP_SASL;
        }
    } else if (line_is_word(name, name_len, "STARTTLS")) {
        learn_not_authenticated(p);
        command_begin(p, IMAP_CMD_STARTTLS, tag, tag_len);
        p->phase = IMAP_TLS_WAIT;
    } else if (line_is_word(name, name_len, "IDLE")) {
        command_begin(p, IMAP_CMD_IDLE, tag, tag_len);
        p->is_idle = true;
    } else if (line_is_word(name, name_len, "COMPRESS")) {
        command_begin(p, IMAP_CMD_COMPRESS, tag, tag_len);
    } else {
        command_begin(p, IMAP_CMD_OTHER, tag, tag_len);
        client_segment(p, line, len, off);
    }
}

/* ---- the server's replies ---- */

/* A capability list: space-separated capability names (RFC 9051 section 7.2.2). is_state_known
 * is false when the list answers a command we did not see, which may have been a login. */
static void capability_list(struct imap *p, const uint8_t *list, size_t len, bool is_state_known)
{
    size_t off = 0;
    const uint8_t *t = NULL;
    size_t t_len = 0;
    while (line_token(list, len, &off, &t, &t_len)) {
        if (line_is_word(t, t_len, "STARTTLS")) {
            p->has_cap_starttls = true;
        }
    }
    if (p->auth == IMAP_AUTH_NOT && is_state_known) {
        p->has_cap_preauth = true;
    } else if (p->auth == IMAP_AUTH_UNKNOWN && is_state_known) {
        p->has_cap_unknown = true;
    }
}

/* resp-text of a status reply: "[CAPABILITY ...] text" carries a capability list. */
static void resp_code(struct imap *p, const uint8_t *text, size_t len, bool is_state_known)
{
    if (len == 0 || text[0] != '[') {
        return;
    }
    const uint8_t *close = memchr(text, ']', len);
    if (close == NULL) {
        return;
    }
    size_t code_len = (size_t)(close - text) - 1;
    size_t off = 0;
    const uint8_t *w = NULL;
    size_t w_len = 0;
    if (line_token(text + 1, code_len, &off, &w, &w_len) && line_is_word(w, w_len, "CAPABILITY")) {
        capability_list(p, text + 1 + off, code_len - off, is_state_known);
    }
}

/* An untagged reply's first line or a line that goes on after one of its literals: does it
 * announce a literal? Servers send only synchronising ones. */
static void server_literal(struct imap *p, const uint8_t *line, size_t len)
{
    uint64_t n = 0;
    bool is_sync = false;
    size_t start = 0;
    if (trailing_literal(line, len, false, &n, &is_sync, &start) == IMAP_LIT_OK) {
        p->sv_lit_left = n;
        p->sv_in_resp = true;
    } else {
        p->sv_in_resp = false;
    }
}

/* "+ text": a sync literal's go-ahead, a SASL challenge, or IDLE's "+ idling". */
static void continuation(struct imap *p, const uint8_t *text, size_t len)
{
    if (p->cl_lit_left > 0 && p->cl_lit_is_sync) {
        p->cl_lit_is_accepted = true;
    } else if (p->phase == IMAP_SASL) {
        sasl_server(&p->sasl, text, len);
    }
}

/* "* ..." (without the "* "). Returns false when it cannot be IMAP's first line. */
static bool untagged(struct imap *p, const uint8_t *r, size_t len, bool is_first)
{
    if (len == 0 || !is_atom_char(r[0])) {
        return !is_first;
    }
    size_t off = 0;
    const uint8_t *w = NULL;
    size_t w_len = 0;
    line_token(r, len, &off, &w, &w_len);
    bool is_preauth = line_is_word(w, w_len, "PREAUTH");
    if (is_preauth || line_is_word(w, w_len, "OK")) {
        if (is_preauth) {
            p->auth = IMAP_AUTH_DONE;
        } else if (is_first && !p->has_client_line && p->auth == IMAP_AUTH_UNKNOWN) {
            p->auth = IMAP_AUTH_NOT; /* the greeting (RFC 9051 section 7.1.1) */
        }
        resp_code(p, r + off, len - off, true);
    } else if (line_is_word(w, w_len, "CAPABILITY")) {
        capability_list(p, r + off, len - off, true);
    } else if (!line_is_word(w, w_len, "NO") && !line_is_word(w, w_len, "BAD") &&
               !line_is_word(w, w_len, "BYE")) {
        /* Status replies carry resp-text, which holds no literal; data replies may. */
        server_literal(p, r, len);
    }
    return true;
}

/* The server answered the command being read from the client before its last byte. A
 * synchronising literal it refused (NO/BAD before any "+" and any byte of it) will not come. */
static void answer_open_command(struct imap *p, bool is_ok, enum finding_result r)
{
    if (!is_ok && p->cl_lit_left > 0 && p->cl_lit_is_sync && !p->cl_lit_is_accepted &&
        p->cl_lit_left == p->cl_lit_len) {
        command_end(p);
        return;
    }
    p->cmd_has_result = true;
    p->cmd_result = r;
}

/* "tag OK|NO|BAD ...". Returns false when the line is not one. */
static bool tagged(struct imap *p, const uint8_t *line, size_t len)
{
    size_t off = 0;
    const uint8_t *tag = NULL, *status = NULL;
    size_t tag_len = 0, status_len = 0;
    if (len == 0 || line[0] == ' ' || !line_token(line, len, &off, &tag, &tag_len) ||
        !is_tag(tag, tag_len) || !line_token(line, len, &off, &status, &status_len)) {
        return false;
    }
    bool is_ok = line_is_word(status, status_len, "OK");
    if (!is_ok && !line_is_word(status, status_len, "NO") &&
        !line_is_word(status, status_len, "BAD")) {
        return false;
    }
    enum finding_result r = is_ok ? FINDING_RESULT_SUCCESS : FINDING_RESULT_FAILURE;
    struct imap_pending *e = find_tag(p, tag, tag_len);
    if (e != NULL) {
        struct imap_pending done = *e;
        e->seq = 0;
        if (p->cmd_is_open && p->cmd_seq == done.seq) {
            answer_open_command(p, is_ok, r);
        }
        switch (done.cmd) {
        case IMAP_CMD_LOGIN:
            if (done.cred != NULL) {
                done.cred->result = r;
            }
            if (is_ok) {
                p->auth = IMAP_AUTH_DONE;
            }
            break;
        case IMAP_CMD_AUTHENTICATE:
            sasl_finish(&p->sasl, is_ok);
            if (p->phase == IMAP_SASL) {
                p->phase = IMAP_CLEAR;
            }
            if (is_ok) {
                p->auth = IMAP_AUTH_DONE;
            }
            break;
        case IMAP_CMD_STARTTLS:
            if (is_ok) {
                finding_set_upgraded(p->s);
                p->phase = IMAP_TLS;
                return true; /* what follows is TLS */
            }
            p->is_starttls_refused = true;
            if (p->phase == IMAP_TLS_WAIT) {
                p->phase = IMAP_CLEAR;
            }
            break;
        case IMAP_CMD_IDLE:
            p->is_idle = false;
            break;
        case IMAP_CMD_COMPRESS:
            if (is_ok) {
                /* RFC 4978: both directions are deflate streams from here on. */
                p->is_compressed = true;
                p->s->is_parse_done = true;
                return true;
            }
            break;
        case IMAP_CMD_OTHER:
            break;
        }
    }
    if (is_ok) {
        /* Servers put [CAPABILITY ...] in the OK of a login (Dovecot): when the command is
         * unknown to us, the list may be a post-login one. */
        resp_code(p, line + off, len - off, e != NULL);
    }
    return true;
}

/* Returns false when the stream is not IMAP. */
static bool server_line(struct imap *p, const uint8_t *line, size_t len)
{
    p->st->lines++;
    bool is_first = !p->has_server_line;
    p->has_server_line = true;

    if (p->sv_in_resp) {
        server_literal(p, line, len);
        return true;
    }
    if (len >= 1 && line[0] == '+' && (len == 1 || line[1] == ' ')) {
        size_t off = len > 1 ? 2 : 1;
        continuation(p, line + off, len - off);
        return true;
    }
    if (len >= 2 && line[0] == '*' && line[1] == ' ') {
        if (is_first && !p->has_client_line) {
            /* The greeting (RFC 9051 section 7.1: OK, PREAUTH or BYE). */
            finding_set_context(p->s, FINDING_CONTEXT_BANNER, line, len);
        }
        return untagged(p, line + 2, len - 2, is_first);
    }
    /* The first thing an IMAP server says is "* OK", "* PREAUTH" or "* BYE"; a capture that
     * starts mid-session may show any reply first, but never something that is none. */
    return tagged(p, line, len) || !is_first;
}

/* ---- the interface ---- */

static enum parse_status client_feed(struct imap *p, const uint8_t *data, size_t len)
{
    struct line_buf *lb = &p->lb[PARSE_DIR_CLIENT];
    while (len > 0) {
        if (p->is_client_tls && !p->is_compressed) {
            tlssniff_leg_client(&p->tls, p->s, p->st, data, len); /* its ClientHello */
        }
        if (p->is_client_tls || p->is_compressed) {
            return PARSE_OK;
        }
        if (p->cl_lit_left > 0) {
            client_literal(p, &data, &len);
            continue;
        }
        /* A TLS record where a command should be: the client went to TLS (after STARTTLS, or
         * TLS spoken on the cleartext port from the start). */
        if (!line_has_partial(lb) && !p->cmd_is_open && data[0] == TLSSNIFF_CT_HANDSHAKE) {
            p->is_client_tls = true;
            if (p->phase != IMAP_TLS_WAIT && p->phase != IMAP_TLS && !p->has_server_line &&
                p->s->n_creds == 0) {
                finding_set_implicit_tls(p->s);
                p->phase = IMAP_TLS;
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
    return line_has_partial(lb) || p->cmd_is_open ? PARSE_NEED_MORE : PARSE_OK;
}

static enum parse_status server_feed(struct imap *p, const uint8_t *data, size_t len)
{
    struct line_buf *lb = &p->lb[PARSE_DIR_SERVER];
    while (len > 0) {
        if (p->is_compressed) {
            return PARSE_OK;
        }
        if (p->phase == IMAP_TLS) {
            tlssniff_leg_feed(&p->tls, p->s, p->st, data, len);
            return PARSE_OK;
        }
        if (p->sv_lit_left > 0) {
            size_t k = p->sv_lit_left < len ? (size_t)p->sv_lit_left : len;
            p->sv_lit_left -= k;
            data += k;
            len -= k;
            continue;
        }
        /* STARTTLS is outstanding and the server speaks TLS: its OK was lost in a gap. Right
         * after the gap the line buffer is discarding, but a record starts a segment. */
        bool is_at_start = (!line_has_partial(lb) && !p->sv_in_resp) || p->sv_is_at_gap;
        p->sv_is_at_gap = false;
        if (p->phase == IMAP_TLS_WAIT && is_at_start && data[0] == TLSSNIFF_CT_HANDSHAKE) {
            finding_set_upgraded(p->s);
            line_init(lb);
            p->phase = IMAP_TLS;
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
    return line_has_partial(lb) || p->sv_lit_left > 0 || p->sv_in_resp ? PARSE_NEED_MORE : PARSE_OK;
}

static enum parse_status imap_feed(void *vp, enum parse_dir dir, const uint8_t *data, size_t len,
                                   size_t *consumed)
{
    struct imap *p = vp;
    *consumed = len;
    if (dir == PARSE_DIR_CLIENT) {
        return client_feed(p, data, len);
    }
    return server_feed(p, data, len);
}

static void imap_gap(void *vp, enum parse_dir dir, uint64_t len)
{
    struct imap *p = vp;
    p->st->gaps++;
    if (p->is_compressed) {
        return;
    }
    if (dir == PARSE_DIR_SERVER && p->phase == IMAP_TLS) {
        /* The record framing is lost with the bytes: no version can be read any more. */
        tlssniff_leg_lost(&p->tls, p->s, p->st);
        return;
    }
    if (dir == PARSE_DIR_CLIENT && p->is_client_tls) {
        tlssniff_leg_client_lost(&p->tls, p->st);
        return; /* lost TLS bytes of the client: the server's answers still pair as before */
    }
    if (dir == PARSE_DIR_CLIENT) {
        if (p->cl_lit_left > 0 && len <= p->cl_lit_left) {
            /* Lost inside the literal: its end is still known. An argument missing bytes is
             * no credential. */
            if (p->cl_lit_is_arg) {
                p->login_is_bad = true;
            }
            p->cl_lit_left -= len;
            if (p->cl_lit_left == 0) {
                literal_end(p);
            }
        } else {
            command_end(p);
            line_resync(&p->lb[dir]);
        }
    } else if (p->sv_lit_left > 0 && len <= p->sv_lit_left) {
        p->sv_lit_left -= len;
    } else {
        p->sv_lit_left = 0;
        p->sv_in_resp = false;
        p->sv_is_at_gap = true;
        line_resync(&p->lb[dir]);
    }
    /* What the lost bytes said is unknown: no answer may be paired with a command it did not
     * answer. Pending outcomes stay unknown. */
    for (size_t i = 0; i < PARSE_MAX_PENDING; i++) {
        p->q[i].seq = 0;
    }
    p->cmd_has_result = false;
    if (p->phase == IMAP_SASL) {
        if (!sasl_gap(&p->sasl, dir == PARSE_DIR_SERVER)) {
            p->phase = IMAP_CLEAR;
        }
    }
}

static void imap_end(void *vp)
{
    struct imap *p = vp;
    struct session *s = p->s;
    if (p->sasl.is_active) {
        sasl_abort(&p->sasl);
    }
    login_reset(p);
    /* The list is any CAPABILITY seen before login (after it, servers drop STARTTLS). */
    finding_settle_starttls(s, p->is_starttls_refused, p->has_cap_preauth, p->has_cap_starttls);
}

static void imap_free(void *vp)
{
    struct imap *p = vp;
    if (p == NULL) {
        return;
    }
    tlssniff_leg_free(&p->tls, p->st);
    /* Clears everything, the SASL challenge and LOGIN arguments included. */
    line_state_free(p, sizeof *p, p->lb);
}

const struct parser_ops imap_parser_ops = {
    .name = "imap",
    .state_size = sizeof(struct imap),
    .has_client_text = true,
    .new_parser = imap_new,
    .feed = imap_feed,
    .gap = imap_gap,
    .end = imap_end,
    .free_parser = imap_free,
};
