/* nntp.c - the NNTP parser: cleartext logins, STARTTLS posture and the TLS version.
 *
 * RFC 3977 (responses of three digits and text; multi-line data blocks ended by a lone "." with
 * dot-stuffing; POST and IHAVE, whose article the client sends after 340 or 335), RFC 4643
 * (AUTHINFO USER and AUTHINFO PASS, answered 381 "password required", 281 accepted, 481 rejected,
 * 482 out of sequence; AUTHINFO SASL with "383 challenge" continuations, "*" to cancel, 281 or
 * "283 data" for success), RFC 4642 (STARTTLS, answered 382, then TLS), RFC 4644 (TAKETHIS,
 * whose article follows the command at once), RFC 8054 (COMPRESS DEFLATE: after 206 neither
 * direction is readable any more).
 *
 * Commands go on a queue and each final response answers the oldest: that is how a credential
 * gets its outcome. A 3xx response to POST, IHAVE or AUTHINFO SASL asks the client for more (the
 * article, the next SASL message) and leaves the command at the head for its final response.
 * Multi-line responses (RFC 3977 section 3.1: 100, 101, 215, 220 to 225, 230, 231, 282, and 211
 * to LISTGROUP) are content: their lines up to the lone "." are never responses, whatever they
 * say, and only CAPABILITIES' list (101) is read, for STARTTLS. The articles the client sends
 * (POST, IHAVE, TAKETHIS) are content too: nothing in them is read, an AUTHINFO line included,
 * until their lone ".". The first response of a session whose start the capture saw is the
 * greeting (200 or 201; 400 or 502 refuse the session).
 *
 * STARTTLS posture: CAPABILITIES answered 101 is the list; it offers TLS when a line of it is
 * STARTTLS. After 382 the server's bytes go to the TLS sniffer for the version and nothing more
 * is parsed as cleartext; commands the client sends after STARTTLS, before its handshake, are
 * counted as injected. A client that opens with a TLS record, or port 563, is implicit TLS.
 *
 * After a gap the pending answers are forgotten (outcomes stay unknown, never guessed) and
 * parsing resumes at the next line; a multi-line block the server was sending is taken as ended.
 * A client gap inside an article keeps the client in it until its "." or, since the terminator
 * may have been lost, until the server answers the article.
 *
 * Known limits: AUTHINFO SIMPLE and AUTHINFO GENERIC (RFC 2980, obsolete) are not read. A capture
 * begun inside a server's multi-line block may take one of its lines shaped like a response for
 * one. A login answered 281 to AUTHINFO USER alone (no password asked) gives no credential. */
#include "nntp.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "line.h"
#include "ps.h"
#include "sasl.h"
#include "tlssniff.h"
#include "tunables.h"

enum nntp_cmd {
    NNTP_CMD_OTHER = 0,
    NNTP_CMD_USER,      /* AUTHINFO USER */
    NNTP_CMD_PASS,      /* AUTHINFO PASS */
    NNTP_CMD_SASL,      /* AUTHINFO SASL */
    NNTP_CMD_STARTTLS,  /* STARTTLS */
    NNTP_CMD_CAPA,      /* CAPABILITIES */
    NNTP_CMD_ARTICLE,   /* POST, IHAVE: 340/335, the article, then the final response */
    NNTP_CMD_TAKETHIS,  /* TAKETHIS: the article follows the command */
    NNTP_CMD_LISTGROUP, /* LISTGROUP: its 211 is multi-line */
    NNTP_CMD_COMPRESS,  /* COMPRESS: 206, then compressed both ways */
};

enum nntp_phase {
    NNTP_CLEAR = 0, /* cleartext commands */
    NNTP_SASL,      /* inside AUTHINFO SASL: client lines are SASL responses */
    NNTP_TLS_WAIT,  /* STARTTLS sent, its response not seen yet */
    NNTP_TLS,       /* TLS: server bytes to the sniffer */
    NNTP_OPAQUE,    /* compressed (RFC 8054): nothing more can be read */
};

/* Where the client's article stands. */
enum nntp_article {
    NNTP_ART_NONE = 0, /* the client sends commands */
    NNTP_ART_WAIT,     /* POST or IHAVE sent, no 340/335 yet */
    NNTP_ART_IN,       /* inside an article: content up to its lone "." */
};

struct nntp_pending {
    enum nntp_cmd cmd;
    struct credential *cred; /* borrowed from the session; AUTHINFO PASS */
};

struct nntp {
    struct session *s;
    struct parse_stats *st;
    struct line_buf lb[2];
    struct nntp_pending q[PARSE_MAX_PENDING];
    struct parse_ring ring; /* the indexes of q */
    enum nntp_phase phase;
    enum nntp_article article;
    bool is_article_gapped; /* a client gap inside the article: its "." may be lost */
    bool is_midstream;
    bool is_client_tls;   /* the client's bytes are TLS now */
    bool has_server_line; /* the first server line was seen */
    bool in_greeting;     /* no response seen yet in a session whose start was captured */
    bool in_multi;        /* inside a multi-line block, until its lone "." */
    bool in_capa;         /* that block is CAPABILITIES' list */
    bool has_capa;
    bool has_capa_tls;
    bool is_starttls_refused;
    uint8_t user[FINDING_MAX_USER];
    size_t user_len;
    bool has_user;
    struct sasl sasl;
    struct tlssniff_leg tls; /* after STARTTLS, or from the start on implicit TLS */
};

static void *nntp_new(const struct parse_ctx *ctx)
{
    struct nntp *p = xcalloc(1, sizeof *p);
    p->s = ctx->s;
    p->st = ctx->st;
    line_open(&p->lb[0], &p->st->line_mem);
    line_open(&p->lb[1], &p->st->line_mem);
    p->is_midstream = (ctx->flags & PARSE_F_MIDSTREAM) != 0;
    p->in_greeting = !p->is_midstream;
    if ((ctx->flags & PARSE_F_IMPLICIT_TLS) != 0) {
        p->phase = NNTP_TLS;
        p->is_client_tls = true;
        p->in_greeting = false;
    }
    return p;
}

static void push(struct nntp *p, enum nntp_cmd cmd, struct credential *cred)
{
    size_t slot = parse_ring_push(&p->ring, p->st);
    if (slot == PARSE_MAX_PENDING) {
        return; /* its response will pair with nothing: outcome stays unknown */
    }
    p->q[slot].cmd = cmd;
    p->q[slot].cred = cred;
}

static const struct nntp_pending *peek(const struct nntp *p)
{
    size_t slot = parse_ring_peek(&p->ring);
    return slot < PARSE_MAX_PENDING ? &p->q[slot] : NULL;
}

/* ---- the client's commands ---- */

/* Commands of RFC 3977, 2980, 4642, 4643, 4644, 6048, 8054: any other is counted as unknown (the
 * server answers 500, which still pairs). */
static bool is_known_command(const uint8_t *line, size_t len)
{
    static const char *const known[] = {
        "ARTICLE", "BODY",    "HEAD",      "STAT",    "GROUP", "LAST",   "NEXT",     "POST",
        "IHAVE",   "QUIT",    "HELP",      "MODE",    "LIST",  "DATE",   "OVER",     "XOVER",
        "HDR",     "XHDR",    "XPAT",      "XGTITLE", "NEWS",  "SLAVE",  "XROVER",   "XTHREAD",
        "CHECK",   "NEWNEWS", "NEWGROUPS", "XREPLIC", "XPATH", "XINDEX", "XFEATURE", NULL
    };
    for (size_t i = 0; known[i] != NULL; i++) {
        if (line_is_word(line, len, known[i])) {
            return true;
        }
    }
    return false;
}

/* AUTHINFO PASS: a credential with the user AUTHINFO USER named. The password is the rest of
 * the line after one space (RFC 4643 section 2.3.2 allows no space in it, but servers such as
 * INN take the rest of the line). */
static void client_pass(struct nntp *p, const uint8_t *arg, size_t arg_len)
{
    struct credential *c = finding_add_credential(p->s, "AUTHINFO");
    if (c != NULL) {
        if (p->has_user) {
            finding_set_username(c, p->user, p->user_len);
        }
        finding_set_secret(c, arg, arg_len);
    } else {
        p->st->creds_dropped++;
    }
    push(p, NNTP_CMD_PASS, c);
}

/* AUTHINFO USER, PASS or SASL (RFC 4643 section 2); sub is the word after AUTHINFO, which line
 * holds at off. */
static void client_authinfo(struct nntp *p, const uint8_t *line, size_t len)
{
    size_t off = 0;
    const uint8_t *w, *sub;
    size_t w_len, sub_len;
    line_token(line, len, &off, &w, &w_len);
    if (!line_token(line, len, &off, &sub, &sub_len)) {
        push(p, NNTP_CMD_OTHER, NULL);
        return;
    }
    /* The argument: after the sub-command and one space. */
    size_t arg_off = (size_t)(sub - line) + sub_len;
    arg_off = arg_off < len ? arg_off + 1 : len;
    if (sub_len == 4 && line_is_word(sub, sub_len, "USER")) {
        p->user_len = len - arg_off < sizeof p->user ? len - arg_off : sizeof p->user;
        memcpy(p->user, line + arg_off, p->user_len);
        p->has_user = true;
        push(p, NNTP_CMD_USER, NULL);
    } else if (sub_len == 4 && line_is_word(sub, sub_len, "PASS")) {
        client_pass(p, line + arg_off, len - arg_off);
    } else if (sub_len == 4 && line_is_word(sub, sub_len, "SASL")) {
        const uint8_t *mech = NULL, *ir = NULL;
        size_t mech_len = 0, ir_len = 0;
        if (!line_token(line, len, &off, &mech, &mech_len)) {
            push(p, NNTP_CMD_OTHER, NULL); /* no mechanism: the server answers 501 */
            return;
        }
        bool has_ir = line_token(line, len, &off, &ir, &ir_len);
        sasl_start(&p->sasl, p->s, p->st, mech, mech_len, ir, ir_len, has_ir);
        p->phase = NNTP_SASL;
        push(p, NNTP_CMD_SASL, NULL);
    } else {
        push(p, NNTP_CMD_OTHER, NULL); /* SIMPLE, GENERIC (RFC 2980): not read */
    }
}

/* A line of the client's article: content, up to the lone ".". */
static void article_line(struct nntp *p, const uint8_t *line, size_t len)
{
    if (len == 1 && line[0] == '.') {
        p->article = NNTP_ART_NONE;
        p->is_article_gapped = false;
    }
}

static void client_command(struct nntp *p, const uint8_t *line, size_t len)
{
    if (line_is_word(line, len, "AUTHINFO")) {
        client_authinfo(p, line, len);
    } else if (line_is_word(line, len, "STARTTLS")) {
        p->phase = NNTP_TLS_WAIT;
        push(p, NNTP_CMD_STARTTLS, NULL);
    } else if (line_is_word(line, len, "CAPABILITIES")) {
        push(p, NNTP_CMD_CAPA, NULL);
    } else if (line_is_word(line, len, "POST") || line_is_word(line, len, "IHAVE")) {
        p->article = NNTP_ART_WAIT;
        push(p, NNTP_CMD_ARTICLE, NULL);
    } else if (line_is_word(line, len, "TAKETHIS")) {
        p->article = NNTP_ART_IN;
        push(p, NNTP_CMD_TAKETHIS, NULL);
    } else if (line_is_word(line, len, "LISTGROUP")) {
        push(p, NNTP_CMD_LISTGROUP, NULL);
    } else if (line_is_word(line, len, "COMPRESS")) {
        push(p, NNTP_CMD_COMPRESS, NULL);
    } else {
        if (!is_known_command(line, len)) {
            p->st->unknown_commands++;
        }
        push(p, NNTP_CMD_OTHER, NULL);
    }
}

static void client_line(struct nntp *p, const uint8_t *line, size_t len)
{
    p->st->lines++;
    if (p->article == NNTP_ART_WAIT) {
        p->article = NNTP_ART_IN; /* sent before the 340: still the article */
    }
    if (p->article == NNTP_ART_IN) {
        article_line(p, line, len);
        return;
    }
    if (p->phase == NNTP_SASL) {
        enum sasl_line r = sasl_client_line(&p->sasl, line, len);
        if (r != SASL_LINE_MORE) {
            p->phase = NNTP_CLEAR; /* after "*", the server's 481 still answers AUTHINFO SASL */
        }
        if (r != SASL_LINE_COMMAND) {
            return;
        }
    }
    if (p->phase == NNTP_TLS_WAIT || p->phase == NNTP_TLS) {
        /* Sent after STARTTLS, before the handshake: never a command of this session. */
        p->s->injected_commands++;
        p->st->starttls_injection++;
        return;
    }
    client_command(p, line, len);
}

/* ---- the server's responses ---- */

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* Is line a response "xyz" or "xyz text" (RFC 3977 section 3.2: x from 1 to 5)? */
static bool response_line(const uint8_t *line, size_t len)
{
    if (len < 3 || line[0] < '1' || line[0] > '5' || !is_digit(line[1]) || !is_digit(line[2])) {
        return false;
    }
    return len == 3 || line[3] == ' ';
}

static bool code_is(const uint8_t *code, const char *want)
{
    return memcmp(code, want, 3) == 0;
}

/* Does the response with code to cmd start a multi-line block (RFC 3977 section 3.1.1 and the
 * commands' sections; RFC 2980's XGTITLE 282)? */
static bool is_multi(const uint8_t *code, enum nntp_cmd cmd)
{
    static const char *const multi[] = { "100", "101", "215", "220", "221", "222",
                                         "224", "225", "230", "231", "282", NULL };
    for (size_t i = 0; multi[i] != NULL; i++) {
        if (code_is(code, multi[i])) {
            return true;
        }
    }
    return cmd == NNTP_CMD_LISTGROUP && code_is(code, "211");
}

static enum finding_result result_of(uint8_t x)
{
    if (x == '2') {
        return FINDING_RESULT_SUCCESS;
    }
    return x == '4' || x == '5' ? FINDING_RESULT_FAILURE : FINDING_RESULT_UNKNOWN;
}

/* A 3xx to POST, IHAVE or AUTHINFO SASL: the command awaits more, not answered yet. */
static bool intermediate(struct nntp *p, const struct nntp_pending *h, const uint8_t *line,
                         size_t len)
{
    if (line[0] != '3') {
        return false;
    }
    if (h->cmd == NNTP_CMD_ARTICLE) {
        if (p->article == NNTP_ART_WAIT) {
            p->article = NNTP_ART_IN; /* 340 or 335: send the article */
        }
        return true;
    }
    if (h->cmd == NNTP_CMD_SASL) {
        size_t off = len > 4 ? 4 : len; /* "383 challenge" */
        sasl_server(&p->sasl, line + off, len - off);
        return true;
    }
    return false;
}

/* The final response with line's code to the oldest command. */
static void final(struct nntp *p, const struct nntp_pending *e, const uint8_t *line)
{
    enum finding_result r = result_of(line[0]);
    switch (e->cmd) {
    case NNTP_CMD_PASS:
        if (e->cred != NULL) {
            e->cred->result = r;
        }
        break;
    case NNTP_CMD_SASL:
        sasl_finish(&p->sasl, line[0] == '2');
        if (p->phase == NNTP_SASL) {
            p->phase = NNTP_CLEAR;
        }
        break;
    case NNTP_CMD_STARTTLS:
        if (code_is(line, "382")) {
            finding_set_upgraded(p->s);
            p->phase = NNTP_TLS; /* what follows is TLS */
            break;
        }
        p->is_starttls_refused = true;
        if (p->phase == NNTP_TLS_WAIT) {
            p->phase = NNTP_CLEAR;
        }
        break;
    case NNTP_CMD_CAPA:
        if (code_is(line, "101")) {
            p->has_capa = true;
            p->in_capa = true;
        }
        break;
    case NNTP_CMD_ARTICLE:
    case NNTP_CMD_TAKETHIS:
        /* The server answers an article after its end; a "." lost in a gap ends here. */
        if (p->is_article_gapped || p->article == NNTP_ART_WAIT) {
            p->article = NNTP_ART_NONE;
            p->is_article_gapped = false;
        }
        break;
    case NNTP_CMD_COMPRESS:
        if (code_is(line, "206")) {
            p->phase = NNTP_OPAQUE;
        }
        break;
    case NNTP_CMD_USER:
    case NNTP_CMD_LISTGROUP:
    case NNTP_CMD_OTHER:
        break;
    }
}

/* A response line (response_line said so). */
static void response(struct nntp *p, const uint8_t *line, size_t len)
{
    if (p->in_greeting) {
        p->in_greeting = false; /* 200 or 201, or 400 or 502 to refuse the session */
        if (code_is(line, "200") || code_is(line, "201")) {
            /* The greeting (RFC 3977 section 5.1.1): posting allowed or not. */
            finding_set_context(p->s, FINDING_CONTEXT_BANNER, line, len);
        }
        return;
    }
    const struct nntp_pending *h = peek(p);
    if (h == NULL) {
        p->in_multi = is_multi(line, NNTP_CMD_OTHER); /* an answer to a command before a gap */
        return;
    }
    if (intermediate(p, h, line, len)) {
        return;
    }
    struct nntp_pending e = p->q[parse_ring_pop(&p->ring)];
    p->in_multi = is_multi(line, e.cmd);
    final(p, &e, line);
}

/* A line of CAPABILITIES' list (RFC 3977 section 5.2): STARTTLS offers TLS (RFC 4642). */
static void capa_line(struct nntp *p, const uint8_t *line, size_t len)
{
    if (line_is_word(line, len, "STARTTLS")) {
        p->has_capa_tls = true;
    }
}

/* Returns false when the stream is not NNTP. */
static bool server_line(struct nntp *p, const uint8_t *line, size_t len)
{
    p->st->lines++;
    bool is_first = !p->has_server_line;
    p->has_server_line = true;
    if (p->in_multi) {
        /* Only the lone "." ends the block; a dot-stuffed ".." line is content. */
        if (len == 1 && line[0] == '.') {
            p->in_multi = false;
            p->in_capa = false;
        } else if (p->in_capa) {
            capa_line(p, line, len);
        }
        return true;
    }
    if (!response_line(line, len)) {
        /* The first thing an NNTP server says is its greeting; a capture begun mid-session may
         * show the text of a multi-line block first. Otherwise a stray line is ignored. */
        return !is_first || p->is_midstream;
    }
    response(p, line, len);
    return true;
}

/* ---- the interface ---- */

static enum parse_status client_feed(struct nntp *p, const uint8_t *data, size_t len)
{
    struct line_buf *lb = &p->lb[PARSE_DIR_CLIENT];
    while (len > 0) {
        if (p->is_client_tls) {
            tlssniff_leg_client(&p->tls, p->s, p->st, data, len); /* its ClientHello */
            return PARSE_OK;
        }
        if (p->phase == NNTP_OPAQUE) {
            return PARSE_OK;
        }
        /* A TLS record where a command should be: the client went to TLS (after STARTTLS, or
         * TLS spoken on the cleartext port from the start). */
        if (!line_has_partial(lb) && p->article == NNTP_ART_NONE &&
            data[0] == TLSSNIFF_CT_HANDSHAKE) {
            p->is_client_tls = true;
            if (p->phase == NNTP_CLEAR && !p->has_server_line && p->s->n_creds == 0) {
                finding_set_implicit_tls(p->s);
                p->phase = NNTP_TLS;
                p->in_greeting = false;
            }
            continue;
        }
        const uint8_t *line;
        size_t line_len;
        enum line_status ls = line_next(lb, &data, &len, &line, &line_len, &p->st->overlong_lines);
        if (ls == LINE_DROPPED) {
            /* An overlong command still gets its answer: it holds a place in the queue. */
            if (p->article == NNTP_ART_NONE && p->phase == NNTP_CLEAR) {
                push(p, NNTP_CMD_OTHER, NULL);
            }
            continue; /* at a line boundary again: look at what starts there */
        }
        if (ls != LINE_OK) {
            return PARSE_NEED_MORE;
        }
        client_line(p, line, line_len);
    }
    return line_has_partial(lb) ? PARSE_NEED_MORE : PARSE_OK;
}

static enum parse_status server_feed(struct nntp *p, const uint8_t *data, size_t len)
{
    struct line_buf *lb = &p->lb[PARSE_DIR_SERVER];
    while (len > 0) {
        if (p->phase == NNTP_TLS) {
            tlssniff_leg_feed(&p->tls, p->s, p->st, data, len);
            return PARSE_OK;
        }
        if (p->phase == NNTP_OPAQUE) {
            return PARSE_OK;
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

static enum parse_status nntp_feed(void *vp, enum parse_dir dir, const uint8_t *data, size_t len,
                                   size_t *consumed)
{
    struct nntp *p = vp;
    *consumed = len;
    if (dir == PARSE_DIR_CLIENT) {
        return client_feed(p, data, len);
    }
    return server_feed(p, data, len);
}

static void nntp_gap(void *vp, enum parse_dir dir, uint64_t len)
{
    struct nntp *p = vp;
    (void)len;
    p->st->gaps++;
    if (dir == PARSE_DIR_SERVER && p->phase == NNTP_TLS) {
        /* The record framing is lost with the bytes: no version can be read any more. */
        tlssniff_leg_lost(&p->tls, p->s, p->st);
        return;
    }
    if (dir == PARSE_DIR_CLIENT && p->is_client_tls) {
        tlssniff_leg_client_lost(&p->tls, p->st);
        return; /* lost TLS bytes of the client: the server's responses still pair as before */
    }
    if (p->phase == NNTP_OPAQUE) {
        return; /* lost bytes nobody reads */
    }
    if (dir == PARSE_DIR_SERVER) {
        p->in_multi = false;
        p->in_capa = false;
        p->in_greeting = false; /* its end may be among the lost bytes */
    } else if (p->article != NNTP_ART_NONE) {
        p->is_article_gapped = true;
    }
    line_resync(&p->lb[dir]);
    /* What the lost bytes said is unknown: no response may be paired with a command it did not
     * answer. Pending outcomes stay unknown. An article's command stays, so that its final
     * response still ends the article. */
    const struct nntp_pending *h = peek(p);
    bool keep = h != NULL && (h->cmd == NNTP_CMD_ARTICLE || h->cmd == NNTP_CMD_TAKETHIS) &&
                p->article != NNTP_ART_NONE && p->ring.len == 1;
    if (!keep) {
        parse_ring_clear(&p->ring);
    }
    if (p->phase == NNTP_SASL && !sasl_gap(&p->sasl, dir == PARSE_DIR_SERVER)) {
        p->phase = NNTP_CLEAR;
    }
}

static void nntp_end(void *vp)
{
    struct nntp *p = vp;
    if (p->sasl.is_active) {
        sasl_abort(&p->sasl);
    }
    /* The list is CAPABILITIES' (RFC 3977 section 5.2); without it the capture cannot tell. */
    finding_settle_starttls(p->s, p->is_starttls_refused, p->has_capa,
                            p->has_capa && p->has_capa_tls);
}

static void nntp_free(void *vp)
{
    struct nntp *p = vp;
    if (p == NULL) {
        return;
    }
    tlssniff_leg_free(&p->tls, p->st);
    /* Clears everything, the buffered lines with their passwords and the SASL state included. */
    line_state_free(p, sizeof *p, p->lb);
}

const struct parser_ops nntp_parser_ops = {
    .name = "nntp",
    .state_size = sizeof(struct nntp),
    /* The client's stream carries articles (POST, IHAVE, TAKETHIS): a capture begun inside one
     * may read an AUTHINFO line of its text as a command. */
    .has_client_text = true,
    .new_parser = nntp_new,
    .feed = nntp_feed,
    .gap = nntp_gap,
    .end = nntp_end,
    .free_parser = nntp_free,
};
