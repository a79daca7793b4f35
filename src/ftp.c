/* ftp.c - the FTP control connection parser: cleartext logins, AUTH TLS posture, the TLS version.
 *
 * RFC 959 (USER, PASS, ACCT; replies of three digits, multi-line replies "123-..." ended by a
 * line "123 ..."), RFC 2228 and RFC 4217 (AUTH TLS or AUTH SSL, answered 234, as the STARTTLS of
 * FTP), RFC 2389 (FEAT, whose multi-line 211 reply lists "AUTH TLS" when the server offers it),
 * RFC 1635 (anonymous logins, whose password is by custom an e-mail address).
 *
 * Commands go on a queue and each reply answers the oldest (RFC 959 section 4.2: a command gets
 * exactly one final reply, 2yz to 5yz, after any number of preliminary 1yz ones, such as the 150
 * before a transfer), which is how a credential gets its outcome and how pipelined commands
 * pair with their replies. PASS answered 230 (or 202) is a success, 4yz or 5yz (530) a failure;
 * 332 asks for ACCT, whose reply then settles the PASS credential. A multi-line reply is one
 * reply: its lines up to the one that starts with the same code and a space are text, never
 * replies, whatever they say (HELP and SITE lists, a STAT listing, a greeting banner), and only
 * its last line counts. The first reply of a session whose start the capture saw is the
 * greeting (220, after any 120), whatever the client sent before it.
 *
 * USER anonymous or USER ftp (any case) makes the PASS after it an anonymous credential
 * (finding_set_anonymous): recorded, but no account's secret.
 *
 * STARTTLS posture: a 2yz reply to FEAT is the list; it offers TLS when one of its lines is
 * AUTH with TLS or SSL among its arguments ("AUTH TLS", "AUTH SSL", "AUTH TLS;TLS-C;SSL"). After
 * 234 to AUTH TLS the server's bytes go to the TLS sniffer for the version and nothing more is
 * parsed as cleartext; cleartext commands the client sends after AUTH TLS, before its
 * handshake, are counted as injected and never read as credentials. 4yz or 5yz means refused.
 * Implicit FTPS (port 990), or a client that opens with a TLS record, is implicit TLS.
 *
 * File contents and listings go over separate data connections (PORT, PASV, EPRT, EPSV), which
 * are not sessions: on the control connection the client sends commands only. Telnet IAC
 * sequences in front of a command (the IP and Synch a client sends before ABOR) are skipped.
 * After a gap the pending answers are forgotten (outcomes stay unknown, never guessed) and
 * parsing resumes at the next line; a client line that cannot be read (overlong, or cut by the
 * gap) still takes its place in the queue, since the server answers it.
 *
 * Known limits: a login answered 230 to USER alone (no password asked) gives no credential, as
 * nothing secret crossed the wire. A client that leaves TLS again with CCC (RFC 4217 section
 * 12.3) sends its later commands in the clear, but they are not read: the parse ends with the
 * TLS version. After a server gap inside a multi-line reply, its remaining text lines are not
 * known to be text; a line among them shaped like a final reply may pair with a command sent
 * after the gap. */
#include "ftp.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "line.h"
#include "ps.h"
#include "tlssniff.h"
#include "tunables.h"

enum ftp_cmd {
    FTP_CMD_OTHER = 0,
    FTP_CMD_USER,
    FTP_CMD_PASS,
    FTP_CMD_ACCT,
    FTP_CMD_AUTH_TLS, /* AUTH TLS, AUTH SSL, AUTH TLS-C, AUTH TLS-P */
    FTP_CMD_FEAT,
};

enum ftp_phase {
    FTP_CLEAR = 0, /* cleartext commands */
    FTP_TLS_WAIT,  /* AUTH TLS sent, its reply not seen yet */
    FTP_TLS,       /* TLS: server bytes to the sniffer */
};

struct ftp_pending {
    enum ftp_cmd cmd;
    struct credential *cred; /* borrowed from the session; PASS and ACCT */
};

struct ftp {
    struct session *s;
    struct parse_stats *st;
    struct line_buf lb[2];
    struct ftp_pending q[PARSE_MAX_PENDING];
    struct parse_ring ring; /* the indexes of q */
    enum ftp_phase phase;
    bool is_midstream;
    bool is_client_tls;   /* the client's bytes are TLS now */
    bool has_server_line; /* the first server line was seen */
    bool in_greeting;     /* no final reply seen yet in a session whose start was captured */
    bool sv_is_at_gap;    /* no server byte came since a gap: the next one starts a segment */
    bool in_multi;        /* inside a multi-line reply, until the line "<code> " */
    uint8_t multi_code[3];
    bool multi_is_feat; /* that reply is FEAT's list */
    bool has_feat;      /* FEAT answered 2yz */
    bool has_feat_tls;  /* its list holds AUTH TLS (or SSL) */
    bool is_auth_refused;
    uint8_t user[FINDING_MAX_USER];
    size_t user_len;
    bool has_user;
    bool is_user_anonymous;
    struct credential *acct_cred; /* PASS answered 332: the next ACCT's reply settles it */
    bool has_acct_cred;
    struct tlssniff_leg tls; /* after AUTH TLS, or from the start on implicit TLS */
};

static void *ftp_new(const struct parse_ctx *ctx)
{
    struct ftp *p = xcalloc(1, sizeof *p);
    p->s = ctx->s;
    p->st = ctx->st;
    line_init(&p->lb[0]);
    line_init(&p->lb[1]);
    p->is_midstream = (ctx->flags & PARSE_F_MIDSTREAM) != 0;
    p->in_greeting = !p->is_midstream;
    if ((ctx->flags & PARSE_F_IMPLICIT_TLS) != 0) {
        p->phase = FTP_TLS;
        p->is_client_tls = true;
        p->in_greeting = false;
    }
    return p;
}

static void push(struct ftp *p, enum ftp_cmd cmd, struct credential *cred)
{
    size_t slot = parse_ring_push(&p->ring, p->st);
    if (slot == PARSE_MAX_PENDING) {
        return; /* its reply will pair with nothing: outcome stays unknown */
    }
    p->q[slot].cmd = cmd;
    p->q[slot].cred = cred;
}

static const struct ftp_pending *peek(const struct ftp *p)
{
    size_t slot = parse_ring_peek(&p->ring);
    return slot < PARSE_MAX_PENDING ? &p->q[slot] : NULL;
}

/* ---- the client's commands ---- */

/* Offset just past the command word and the one space after it (RFC 959 section 5.3: one
 * space separates a command from its argument; a password may itself begin with a space). */
static size_t arg_off(size_t len, size_t word_len)
{
    return word_len < len ? word_len + 1 : len;
}

/* Telnet commands in front of a command (RFC 959 section 4.1.3: IAC IP, IAC DM before ABOR;
 * option negotiation IAC WILL/WONT/DO/DONT x): the offset of the command word. */
static size_t skip_telnet(const uint8_t *line, size_t len)
{
    size_t off = 0;
    while (off < len && line[off] == 0xff) {
        size_t n = off + 1 < len && line[off + 1] >= 0xfb && line[off + 1] <= 0xfe ? 3 : 2;
        off = n <= len - off ? off + n : len;
    }
    return off;
}

/* Is the user name one RFC 1635 anonymous logins use: "anonymous" or "ftp", any case? Trailing
 * spaces are ignored. */
static bool is_anonymous_name(const uint8_t *name, size_t len)
{
    while (len > 0 && name[len - 1] == ' ') {
        len--;
    }
    return (len == 9 && line_is_word(name, len, "ANONYMOUS")) ||
           (len == 3 && line_is_word(name, len, "FTP"));
}

/* Does the argument of AUTH (arg[0..len)) ask for TLS: TLS, SSL, TLS-C, TLS-P (RFC 4217
 * section 6, and the earlier drafts' names)? */
static bool is_tls_mechanism(const uint8_t *arg, size_t len)
{
    return line_has_prefix(arg, len, "TLS") || line_has_prefix(arg, len, "SSL");
}

/* Commands of RFC 959, 2228, 2389, 2428, 3659, 4217, 7151 and common extensions: any other is
 * counted as unknown (the server answers 500 or 502, which still pairs). */
static bool is_known_command(const uint8_t *line, size_t len)
{
    static const char *const known[] = {
        "ABOR", "ACCT", "ADAT", "ALLO", "APPE", "CCC",  "CDUP", "CLNT", "CONF", "CWD",
        "DELE", "ENC",  "EPRT", "EPSV", "HELP", "HOST", "LANG", "LIST", "LPRT", "LPSV",
        "MDTM", "MFMT", "MIC",  "MKD",  "MLSD", "MLST", "MODE", "NLST", "NOOP", "OPTS",
        "PASV", "PBSZ", "PORT", "PROT", "PWD",  "QUIT", "REIN", "REST", "RETR", "RMD",
        "RNFR", "RNTO", "SITE", "SIZE", "SMNT", "STAT", "STOR", "STOU", "STRU", "SYST",
        "TYPE", "XCUP", "XCWD", "XMKD", "XPWD", "XRMD", "CSID", "AVBL", "HASH", NULL
    };
    for (size_t i = 0; known[i] != NULL; i++) {
        if (line_is_word(line, len, known[i])) {
            return true;
        }
    }
    return false;
}

static void client_line(struct ftp *p, const uint8_t *line, size_t len)
{
    p->st->lines++;
    size_t skip = skip_telnet(line, len);
    line += skip;
    len -= skip;
    if (p->phase == FTP_TLS_WAIT || p->phase == FTP_TLS) {
        /* Sent after AUTH TLS, before the handshake: never a command of this session. */
        p->s->injected_commands++;
        p->st->starttls_injection++;
        return;
    }
    if (line_is_word(line, len, "USER")) {
        size_t off = arg_off(len, 4);
        p->user_len = len - off < sizeof p->user ? len - off : sizeof p->user;
        memcpy(p->user, line + off, p->user_len);
        p->has_user = true;
        p->is_user_anonymous = is_anonymous_name(line + off, len - off);
        p->has_acct_cred = false; /* a new login */
        push(p, FTP_CMD_USER, NULL);
    } else if (line_is_word(line, len, "PASS")) {
        size_t off = arg_off(len, 4);
        struct credential *c = finding_add_credential(p->s, "USER/PASS");
        if (c != NULL) {
            if (p->has_user) {
                finding_set_username(c, p->user, p->user_len);
                if (p->is_user_anonymous) {
                    finding_set_anonymous(c);
                }
            }
            finding_set_secret(c, line + off, len - off);
        } else {
            p->st->creds_dropped++;
        }
        push(p, FTP_CMD_PASS, c);
    } else if (line_is_word(line, len, "ACCT")) {
        /* The account is no secret (RFC 959 section 4.1.1: it names whom to bill); its reply is
         * the outcome of the PASS that asked for it with 332. */
        push(p, FTP_CMD_ACCT, p->has_acct_cred ? p->acct_cred : NULL);
        p->has_acct_cred = false;
    } else if (line_is_word(line, len, "AUTH")) {
        size_t off = 0;
        const uint8_t *w, *mech = NULL;
        size_t w_len, mech_len = 0;
        line_token(line, len, &off, &w, &w_len);
        if (line_token(line, len, &off, &mech, &mech_len) && is_tls_mechanism(mech, mech_len)) {
            p->phase = FTP_TLS_WAIT;
            push(p, FTP_CMD_AUTH_TLS, NULL);
        } else {
            push(p, FTP_CMD_OTHER, NULL); /* GSSAPI and the like (RFC 2228): not TLS */
        }
    } else if (line_is_word(line, len, "FEAT")) {
        push(p, FTP_CMD_FEAT, NULL);
    } else {
        if (!is_known_command(line, len)) {
            p->st->unknown_commands++;
        }
        push(p, FTP_CMD_OTHER, NULL);
    }
}

/* A client line we could not read (longer than LINE_MAX_LEN, or cut by a gap) was still a command
 * the server answers: it holds a place in the queue, so the replies after it pair as before. */
static void client_dropped(struct ftp *p)
{
    if (p->phase == FTP_TLS_WAIT || p->phase == FTP_TLS) {
        p->s->injected_commands++;
        p->st->starttls_injection++;
        return;
    }
    push(p, FTP_CMD_OTHER, NULL);
}

/* ---- the server's replies ---- */

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* Is line a reply line "xyz", "xyz text" or "xyz-text" (RFC 959 section 4.2: x from 1 to 5)?
 * Sets *is_multi for the first line of a multi-line reply. */
static bool reply_line(const uint8_t *line, size_t len, bool *is_multi)
{
    if (len < 3 || line[0] < '1' || line[0] > '5' || !is_digit(line[1]) || !is_digit(line[2])) {
        return false;
    }
    if (len == 3 || line[3] == ' ') {
        *is_multi = false;
        return true;
    }
    if (line[3] == '-') {
        *is_multi = true;
        return true;
    }
    return false;
}

static enum finding_result result_of(uint8_t x)
{
    if (x == '2') {
        return FINDING_RESULT_SUCCESS;
    }
    return x == '4' || x == '5' ? FINDING_RESULT_FAILURE : FINDING_RESULT_UNKNOWN;
}

/* A line of FEAT's list (RFC 2389 section 3.2: a space, then a feature): AUTH with TLS or SSL
 * among its arguments offers TLS (RFC 4217 section 6). */
static void feat_line(struct ftp *p, const uint8_t *line, size_t len)
{
    size_t off = 0;
    const uint8_t *w, *arg;
    size_t w_len, arg_len;
    if (!line_token(line, len, &off, &w, &w_len) || w_len != 4 || !line_is_word(w, w_len, "AUTH")) {
        return;
    }
    /* "AUTH TLS", "AUTH SSL TLS", "AUTH TLS;TLS-C;SSL;TLS-P;": any of the names will do. */
    while (line_token(line, len, &off, &arg, &arg_len)) {
        for (size_t i = 0; i + 3 <= arg_len; i++) {
            if (line_has_prefix(arg + i, arg_len - i, "TLS") ||
                line_has_prefix(arg + i, arg_len - i, "SSL")) {
                p->has_feat_tls = true;
                return;
            }
        }
    }
}

/* A complete reply with code (its last line's, which is its first line's). */
static void reply(struct ftp *p, const uint8_t code[3])
{
    if (code[0] == '1') {
        return; /* preliminary (RFC 959 section 4.2.1): the final reply is still to come */
    }
    if (p->in_greeting) {
        p->in_greeting = false; /* 220, or 421 to refuse the session */
        return;
    }
    size_t slot = parse_ring_pop(&p->ring);
    if (slot == PARSE_MAX_PENDING) {
        return;
    }
    struct ftp_pending e = p->q[slot];
    enum finding_result r = result_of(code[0]);
    switch (e.cmd) {
    case FTP_CMD_PASS:
        if (code[0] == '3' && code[1] == '3' && code[2] == '2') {
            p->acct_cred = e.cred; /* "need account for login": ACCT decides */
            p->has_acct_cred = e.cred != NULL;
            break;
        }
        if (e.cred != NULL) {
            e.cred->result = r;
        }
        break;
    case FTP_CMD_ACCT:
        if (e.cred != NULL) {
            e.cred->result = r;
        }
        break;
    case FTP_CMD_AUTH_TLS:
        if (code[0] == '2' && code[1] == '3' && code[2] == '4') {
            finding_set_upgraded(p->s);
            p->phase = FTP_TLS; /* what follows is TLS */
            break;
        }
        if (r == FINDING_RESULT_FAILURE) {
            p->is_auth_refused = true;
        }
        if (p->phase == FTP_TLS_WAIT) {
            p->phase = FTP_CLEAR;
        }
        break;
    case FTP_CMD_FEAT:
        if (code[0] == '2') {
            p->has_feat = true;
        }
        break;
    case FTP_CMD_USER:
    case FTP_CMD_OTHER:
        break;
    }
}

/* Returns false when the stream is not FTP. */
static bool server_line(struct ftp *p, const uint8_t *line, size_t len)
{
    p->st->lines++;
    bool is_first = !p->has_server_line;
    p->has_server_line = true;
    if (p->in_multi) {
        /* Only the line that starts with the reply's code and a space ends it. */
        if (len >= 3 && memcmp(line, p->multi_code, 3) == 0 && (len == 3 || line[3] == ' ')) {
            p->in_multi = false;
            p->multi_is_feat = false;
            reply(p, p->multi_code);
        } else if (p->multi_is_feat) {
            feat_line(p, line, len);
        }
        return true;
    }
    bool is_multi = false;
    if (!reply_line(line, len, &is_multi)) {
        /* The first thing an FTP server says is a reply; a capture begun mid-session may show
         * the text of a multi-line reply first. Otherwise a stray line is ignored. */
        return !is_first || p->is_midstream;
    }
    if (is_first && !p->is_midstream) {
        finding_set_context(p->s, FINDING_CONTEXT_BANNER, line, len); /* the greeting */
    }
    if (!is_multi) {
        reply(p, line);
        return true;
    }
    p->in_multi = true;
    memcpy(p->multi_code, line, 3);
    const struct ftp_pending *h = peek(p);
    p->multi_is_feat = !p->in_greeting && line[0] == '2' && h != NULL && h->cmd == FTP_CMD_FEAT;
    return true;
}

/* ---- the interface ---- */

static enum parse_status client_feed(struct ftp *p, const uint8_t *data, size_t len)
{
    struct line_buf *lb = &p->lb[PARSE_DIR_CLIENT];
    while (len > 0) {
        if (p->is_client_tls) {
            tlssniff_leg_client(&p->tls, p->s, p->st, data, len); /* its ClientHello */
            return PARSE_OK;
        }
        /* A TLS record where a command should be: the client went to TLS (after AUTH TLS, or
         * TLS spoken on the cleartext port from the start). */
        if (!line_has_partial(lb) && data[0] == TLSSNIFF_CT_HANDSHAKE) {
            p->is_client_tls = true;
            if (p->phase == FTP_CLEAR && !p->has_server_line && p->s->n_creds == 0) {
                finding_set_implicit_tls(p->s);
                p->phase = FTP_TLS;
                p->in_greeting = false;
            }
            continue;
        }
        const uint8_t *line;
        size_t line_len;
        enum line_status ls = line_next(lb, &data, &len, &line, &line_len, &p->st->overlong_lines);
        if (ls == LINE_DROPPED) {
            client_dropped(p);
            continue; /* at a line boundary again: look at what starts there */
        }
        if (ls != LINE_OK) {
            return PARSE_NEED_MORE;
        }
        client_line(p, line, line_len);
    }
    return line_has_partial(lb) ? PARSE_NEED_MORE : PARSE_OK;
}

static enum parse_status server_feed(struct ftp *p, const uint8_t *data, size_t len)
{
    struct line_buf *lb = &p->lb[PARSE_DIR_SERVER];
    while (len > 0) {
        if (p->phase == FTP_TLS) {
            tlssniff_leg_feed(&p->tls, p->s, p->st, data, len);
            return PARSE_OK;
        }
        /* AUTH TLS is outstanding and the server speaks TLS: its 234 was lost in a gap. Right
         * after the gap the line buffer is discarding, but a record starts a segment. */
        bool is_at_start = !line_has_partial(lb) || p->sv_is_at_gap;
        p->sv_is_at_gap = false;
        if (p->phase == FTP_TLS_WAIT && is_at_start && data[0] == TLSSNIFF_CT_HANDSHAKE) {
            finding_set_upgraded(p->s);
            line_init(lb);
            p->phase = FTP_TLS;
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
    return line_has_partial(lb) ? PARSE_NEED_MORE : PARSE_OK;
}

static enum parse_status ftp_feed(void *vp, enum parse_dir dir, const uint8_t *data, size_t len,
                                  size_t *consumed)
{
    struct ftp *p = vp;
    *consumed = len;
    if (dir == PARSE_DIR_CLIENT) {
        return client_feed(p, data, len);
    }
    return server_feed(p, data, len);
}

static void ftp_gap(void *vp, enum parse_dir dir, uint64_t len)
{
    struct ftp *p = vp;
    (void)len;
    p->st->gaps++;
    if (dir == PARSE_DIR_SERVER && p->phase == FTP_TLS) {
        /* The record framing is lost with the bytes: no version can be read any more. */
        tlssniff_leg_lost(&p->tls, p->s, p->st);
        return;
    }
    if (dir == PARSE_DIR_CLIENT && p->is_client_tls) {
        tlssniff_leg_client_lost(&p->tls, p->st);
        return; /* lost TLS bytes of the client: the server's replies still pair as before */
    }
    if (dir == PARSE_DIR_SERVER) {
        p->in_multi = false;
        p->multi_is_feat = false;
        p->in_greeting = false; /* its end may be among the lost bytes */
        p->sv_is_at_gap = true;
    }
    line_resync(&p->lb[dir]);
    /* What the lost bytes said is unknown: no reply may be paired with a command it did not
     * answer. Pending outcomes stay unknown. */
    parse_ring_clear(&p->ring);
}

static void ftp_end(void *vp)
{
    struct ftp *p = vp;
    /* The list is FEAT's reply (RFC 2389); without FEAT the capture cannot tell. */
    finding_settle_starttls(p->s, p->is_auth_refused, p->has_feat, p->has_feat && p->has_feat_tls);
}

static void ftp_free(void *vp)
{
    struct ftp *p = vp;
    if (p == NULL) {
        return;
    }
    tlssniff_leg_free(&p->tls, p->st);
    /* Clears everything, the buffered lines with their passwords included. */
    line_state_free(p, sizeof *p, p->lb);
}

const struct parser_ops ftp_parser_ops = {
    .name = "ftp",
    .state_size = sizeof(struct ftp),
    /* The client's stream carries commands only: file contents, STOR's included, and
     * listings go over data connections of their own (RFC 959 section 2.3), so a capture
     * begun mid-session cannot mistake a file's text for a PASS command. */
    .has_client_text = false,
    .new_parser = ftp_new,
    .feed = ftp_feed,
    .gap = ftp_gap,
    .end = ftp_end,
    .free_parser = ftp_free,
};
