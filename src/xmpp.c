/* xmpp.c - the XMPP client-to-server parser: SASL and legacy logins, STARTTLS posture, the TLS
 * version.
 *
 * RFC 6120: each side opens a stream (<stream:stream ...>, after an optional <?xml ...?>) and
 * sends top-level elements inside it. The server's <stream:features> offers <starttls/> (section
 * 5.4.1) and SASL mechanisms; the client's <starttls/> is answered <proceed/> (TLS starts after
 * its '>') or <failure/> (section 5.4.2). SASL (section 6.4): <auth mechanism="..."> with the
 * initial response as base64 text ("=" for an empty one), <challenge>/<response>, <abort/>, and
 * <success/> or <failure/>; after <success/> both sides open a new stream. XEP-0078 (legacy
 * jabber:iq:auth): an <iq type="set"> whose <query xmlns="jabber:iq:auth"> holds <username> and
 * <password> (a secret in the clear) or <digest> (SHA-1 of the stream id and the password, a
 * crackable response to that id); the server's <iq> with the same id, of type "result" or
 * "error", is its outcome. The credential's mechanism is then "IQ-AUTH".
 *
 * The XML is never handed to a general parser: a small lexer cuts each direction into tags
 * ("<" to the ">" outside quotes) and character data, keeps at most XMPP_MAX_TAG bytes of a
 * tag and XMPP_MAX_TEXT bytes of the text of the few elements it reads (SASL payloads, the
 * jabber:iq:auth fields), and counts what it cuts (parse.xmpp_overlong). Everything else,
 * messages and presence included, is content: passed over without being kept. Since '<' can
 * only open markup in XML (in text it is written &lt;), a login-like string inside a message
 * body is text and is never read as an element.
 *
 * After <proceed/> the server's bytes go to the TLS sniffer for the version and nothing more
 * is parsed; top-level elements the client sends after <starttls/>, before its handshake, are
 * counted as injected. A client that opens with a TLS record, or port 5223, is implicit TLS.
 * After a gap the lexer resynchronises at the next '<' as if at the stream's top level, pending
 * outcomes become unknown and an open SASL exchange follows sasl_gap.
 *
 * Known limits: the stream prefix must be "stream" (every client and server in use writes
 * <stream:stream>); XMPP over WebSocket or BOSH (HTTP) is not read; only one jabber:iq:auth
 * login awaits its answer at a time. Server-to-server streams (port 5269) have no row. */
#include "xmpp.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "line.h"
#include "ps.h"
#include "sasl.h"
#include "tlssniff.h"
#include "tunables.h"

/* The elements read; every other one is XMPP_EL_OTHER. */
enum xmpp_el {
    XMPP_EL_NONE = 0,
    XMPP_EL_OTHER,
    XMPP_EL_STARTTLS,  /* client, top level */
    XMPP_EL_AUTH,      /* client, top level */
    XMPP_EL_RESPONSE,  /* client, top level */
    XMPP_EL_ABORT,     /* client, top level */
    XMPP_EL_IQ,        /* either side, top level */
    XMPP_EL_FEATURES,  /* server, top level */
    XMPP_EL_PROCEED,   /* server, top level */
    XMPP_EL_FAILURE,   /* server, top level */
    XMPP_EL_CHALLENGE, /* server, top level */
    XMPP_EL_SUCCESS,   /* server, top level */
    XMPP_EL_USERNAME,  /* jabber:iq:auth fields */
    XMPP_EL_PASSWORD,
    XMPP_EL_DIGEST,
};

enum xmpp_phase {
    XMPP_CLEAR = 0, /* cleartext */
    XMPP_TLS_WAIT,  /* <starttls/> sent, no answer yet */
    XMPP_TLS,       /* TLS: server bytes to the sniffer */
};

/* One direction's lexer. */
struct xmpp_dir {
    uint8_t tag[XMPP_MAX_TAG]; /* the tag being read, without '<' and '>' */
    size_t tag_len;
    bool in_tag;
    bool is_tag_cut;
    uint8_t quote;      /* inside a tag's attribute value: its quote, else 0 */
    bool has_stream;    /* a stream header was seen (or assumed mid-session) */
    unsigned depth;     /* 0 outside a stream, 1 at its top level, 2 inside an element ... */
    enum xmpp_el top;   /* the top-level element open (depth >= 2) */
    enum xmpp_el field; /* the element whose text is read (depth > 2), else NONE */
    bool in_text;       /* character data is kept */
    uint8_t *text;      /* owned, XMPP_MAX_TEXT bytes, made on first use */
    size_t text_len;
    bool is_text_cut;
};

struct xmpp {
    struct session *s;
    struct parse_stats *st;
    struct xmpp_dir d[2];
    enum xmpp_phase phase;
    bool is_midstream;
    bool is_client_tls;
    bool has_features; /* stream features seen before any login succeeded */
    bool has_features_tls;
    bool is_starttls_refused;
    bool is_authed; /* SASL succeeded: later features say nothing of STARTTLS */
    char mech[FINDING_MAX_MECH];
    bool in_sasl;
    struct sasl sasl;
    /* The client's <iq> being read and the jabber:iq:auth login awaiting its answer. */
    bool iq_is_set, iq_is_auth;
    uint8_t iq_id[XMPP_MAX_ID];
    size_t iq_id_len;
    uint8_t iq_user[FINDING_MAX_USER];
    size_t iq_user_len;
    bool has_iq_user;
    struct credential *iq_cred; /* borrowed from the session */
    uint8_t wait_id[XMPP_MAX_ID];
    size_t wait_id_len;
    struct credential *wait_cred; /* borrowed; NULL when no login awaits */
    bool sv_iq_ok, sv_iq_err;     /* the server's <iq> being read: its type */
    uint8_t sv_iq_id[XMPP_MAX_ID];
    size_t sv_iq_id_len;
    uint8_t stream_id[XMPP_MAX_ID]; /* the server's stream id, the digest's challenge */
    size_t stream_id_len;
    struct tlssniff_leg tls;
};

/* The lexer of direction dir. */
static struct xmpp_dir *dir_of(struct xmpp *p, enum parse_dir dir)
{
    return &p->d[dir == PARSE_DIR_SERVER ? 1 : 0];
}

static void *xmpp_new(const struct parse_ctx *ctx)
{
    struct xmpp *p = xcalloc(1, sizeof *p);
    p->s = ctx->s;
    p->st = ctx->st;
    p->is_midstream = (ctx->flags & PARSE_F_MIDSTREAM) != 0;
    if (p->is_midstream) {
        for (int i = 0; i < 2; i++) {
            p->d[i].has_stream = true;
            p->d[i].depth = 1;
        }
    }
    if ((ctx->flags & PARSE_F_IMPLICIT_TLS) != 0) {
        p->phase = XMPP_TLS;
        p->is_client_tls = true;
    }
    return p;
}

/* ---- reading a tag ---- */

static bool is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The tag's name: after any '/', up to a space, '/' or the end. */
static void tag_name(const uint8_t *tag, size_t len, const uint8_t **name, size_t *name_len)
{
    size_t i = len > 0 && tag[0] == '/' ? 1 : 0;
    size_t start = i;
    while (i < len && !is_space(tag[i]) && tag[i] != '/') {
        i++;
    }
    *name = tag + start;
    *name_len = i - start;
}

/* Is the name n[0..len) the literal w (case-sensitive, as XML is), or does its local part
 * (after a prefix and ':') equal w? */
static bool name_is(const uint8_t *n, size_t len, const char *w)
{
    size_t wl = strlen(w);
    const uint8_t *colon = memchr(n, ':', len);
    if (colon != NULL) {
        size_t off = (size_t)(colon - n) + 1;
        n += off;
        len -= off;
    }
    return len == wl && memcmp(n, w, wl) == 0;
}

/* The value of attribute a (exact name) in the tag, quotes removed. False when absent. */
static bool attr(const uint8_t *tag, size_t len, const char *a, const uint8_t **val,
                 size_t *val_len)
{
    size_t al = strlen(a);
    size_t i = 0;
    while (i < len && !is_space(tag[i])) {
        i++; /* the name */
    }
    while (i < len) {
        while (i < len && is_space(tag[i])) {
            i++;
        }
        size_t ns = i;
        while (i < len && tag[i] != '=' && !is_space(tag[i])) {
            i++;
        }
        size_t ne = i;
        while (i < len && (is_space(tag[i]) || tag[i] == '=')) {
            i++;
        }
        if (i >= len || (tag[i] != '\'' && tag[i] != '"')) {
            return false;
        }
        uint8_t q = tag[i++];
        size_t vs = i;
        while (i < len && tag[i] != q) {
            i++;
        }
        if (ne - ns == al && memcmp(tag + ns, a, al) == 0) {
            *val = tag + vs;
            *val_len = i - vs;
            return true;
        }
        i++;
    }
    return false;
}

static bool attr_is(const uint8_t *tag, size_t len, const char *a, const char *want)
{
    const uint8_t *v;
    size_t vl;
    return attr(tag, len, a, &v, &vl) && vl == strlen(want) && memcmp(v, want, vl) == 0;
}

/* Copies attribute a of the tag into out[0..cap), cut to fit; its length, 0 when absent. */
static size_t attr_copy(const uint8_t *tag, size_t len, const char *a, uint8_t *out, size_t cap)
{
    const uint8_t *v;
    size_t vl;
    if (!attr(tag, len, a, &v, &vl)) {
        return 0;
    }
    vl = vl < cap ? vl : cap;
    memcpy(out, v, vl);
    return vl;
}

/* ---- character data ---- */

static void text_start(struct xmpp *p, struct xmpp_dir *d)
{
    if (d->text == NULL) {
        d->text = xmalloc(XMPP_MAX_TEXT);
        p->st->line_mem += XMPP_MAX_TEXT;
    }
    d->in_text = true;
    d->text_len = 0;
    d->is_text_cut = false;
}

static void text_add(struct xmpp *p, struct xmpp_dir *d, const uint8_t *b, size_t n)
{
    size_t room = XMPP_MAX_TEXT - d->text_len;
    if (n > room) {
        if (!d->is_text_cut) {
            p->st->xmpp_overlong++;
        }
        d->is_text_cut = true;
        n = room;
    }
    memcpy(d->text + d->text_len, b, n);
    d->text_len += n;
}

/* Decodes the predefined entities and character references (XML 1.0 sections 4.1 and 4.6) of
 * text[0..len) in place; returns the new length. An unknown or malformed one stays as it is. */
static size_t unescape(uint8_t *t, size_t len)
{
    static const struct {
        const char *name;
        uint8_t c;
    } ents[] = {
        { "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' }, { "apos;", '\'' }, { "quot;", '"' }
    };
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        if (t[i] != '&') {
            t[o++] = t[i++];
            continue;
        }
        bool done = false;
        for (size_t k = 0; k < sizeof ents / sizeof ents[0] && !done; k++) {
            size_t nl = strlen(ents[k].name);
            if (len - i - 1 >= nl && memcmp(t + i + 1, ents[k].name, nl) == 0) {
                t[o++] = ents[k].c;
                i += 1 + nl;
                done = true;
            }
        }
        if (!done && len - i >= 4 && t[i + 1] == '#') {
            size_t j = i + 2;
            uint32_t cp = 0;
            bool is_hex = j < len && t[j] == 'x';
            j += is_hex ? 1 : 0;
            size_t ds = j;
            while (j < len && j - ds < 7 && t[j] != ';') {
                uint8_t c = t[j];
                uint32_t v = c >= '0' && c <= '9'             ? (uint32_t)(c - '0')
                             : is_hex && c >= 'a' && c <= 'f' ? (uint32_t)(c - 'a' + 10)
                             : is_hex && c >= 'A' && c <= 'F' ? (uint32_t)(c - 'A' + 10)
                                                              : 0xffu;
                if (v == 0xffu) {
                    break;
                }
                cp = cp * (is_hex ? 16u : 10u) + v;
                j++;
            }
            if (j < len && t[j] == ';' && j > ds && cp > 0 && cp < 0x80) {
                t[o++] = (uint8_t)cp; /* ASCII only; others stay escaped */
                i = j + 1;
                done = true;
            }
        }
        if (!done) {
            t[o++] = t[i++];
        }
    }
    return o;
}

/* ---- the client's elements ---- */

static void iq_cred(struct xmpp *p)
{
    if (p->iq_cred != NULL) {
        return;
    }
    p->iq_cred = finding_add_credential(p->s, "IQ-AUTH");
    if (p->iq_cred == NULL) {
        p->st->creds_dropped++;
        return;
    }
    if (p->has_iq_user) {
        finding_set_username(p->iq_cred, p->iq_user, p->iq_user_len);
    }
}

/* The text of a jabber:iq:auth field is complete. */
static void client_field(struct xmpp *p, struct xmpp_dir *d)
{
    size_t n = unescape(d->text, d->text_len);
    switch (d->field) {
    case XMPP_EL_USERNAME:
        p->iq_user_len = n < sizeof p->iq_user ? n : sizeof p->iq_user;
        memcpy(p->iq_user, d->text, p->iq_user_len);
        p->has_iq_user = true;
        if (p->iq_cred != NULL) {
            finding_set_username(p->iq_cred, p->iq_user, p->iq_user_len);
        }
        break;
    case XMPP_EL_PASSWORD:
        iq_cred(p);
        if (p->iq_cred != NULL) {
            finding_set_secret(p->iq_cred, d->text, n);
        }
        break;
    case XMPP_EL_DIGEST:
        iq_cred(p);
        if (p->iq_cred != NULL) {
            if (p->stream_id_len > 0) {
                finding_set_challenge(p->iq_cred, p->stream_id, p->stream_id_len);
            }
            finding_set_response(p->iq_cred, d->text, n);
        }
        break;
    default:
        break;
    }
}

static void client_open_top(struct xmpp *p, const uint8_t *tag, size_t len, enum xmpp_el el)
{
    struct xmpp_dir *d = &p->d[PARSE_DIR_CLIENT];
    switch (el) {
    case XMPP_EL_STARTTLS:
        p->phase = XMPP_TLS_WAIT;
        break;
    case XMPP_EL_AUTH: {
        uint8_t m[FINDING_MAX_MECH];
        size_t ml = attr_copy(tag, len, "mechanism", m, sizeof m - 1);
        memcpy(p->mech, m, ml);
        p->mech[ml] = '\0';
        text_start(p, d);
        break;
    }
    case XMPP_EL_RESPONSE:
        text_start(p, d);
        break;
    case XMPP_EL_IQ:
        p->iq_is_set = attr_is(tag, len, "type", "set");
        p->iq_is_auth = false;
        p->iq_id_len = attr_copy(tag, len, "id", p->iq_id, sizeof p->iq_id);
        p->has_iq_user = false;
        p->iq_cred = NULL;
        break;
    default:
        break;
    }
}

static void client_close_top(struct xmpp *p, enum xmpp_el el)
{
    struct xmpp_dir *d = &p->d[PARSE_DIR_CLIENT];
    const uint8_t *t = d->text != NULL ? d->text : (const uint8_t *)"";
    size_t n = d->in_text ? d->text_len : 0;
    d->in_text = false;
    switch (el) {
    case XMPP_EL_AUTH:
        if (p->in_sasl) {
            sasl_abort(&p->sasl);
        }
        sasl_start(&p->sasl, p->s, p->st, (const uint8_t *)p->mech, strlen(p->mech), t, n, n > 0);
        p->in_sasl = true;
        break;
    case XMPP_EL_RESPONSE:
        if (p->in_sasl) {
            /* An empty response is the empty string (RFC 6120 section 6.4.3). */
            p->in_sasl = sasl_client(&p->sasl, n > 0 ? t : (const uint8_t *)"=", n > 0 ? n : 1);
        }
        break;
    case XMPP_EL_ABORT:
        if (p->in_sasl) {
            p->in_sasl = sasl_client(&p->sasl, (const uint8_t *)"*", 1);
        }
        break;
    case XMPP_EL_IQ:
        if (p->iq_is_set && p->iq_is_auth && p->iq_cred != NULL) {
            p->wait_cred = p->iq_cred;
            memcpy(p->wait_id, p->iq_id, p->iq_id_len);
            p->wait_id_len = p->iq_id_len;
        }
        p->iq_cred = NULL;
        p->iq_is_auth = false;
        break;
    default:
        break;
    }
}

static enum xmpp_el client_top_of(const uint8_t *n, size_t len)
{
    if (name_is(n, len, "starttls")) {
        return XMPP_EL_STARTTLS;
    }
    if (name_is(n, len, "auth")) {
        return XMPP_EL_AUTH;
    }
    if (name_is(n, len, "response")) {
        return XMPP_EL_RESPONSE;
    }
    if (name_is(n, len, "abort")) {
        return XMPP_EL_ABORT;
    }
    return name_is(n, len, "iq") ? XMPP_EL_IQ : XMPP_EL_OTHER;
}

/* An element opens inside a client's top-level one, at depth (after the open). */
static void client_open_child(struct xmpp *p, const uint8_t *tag, size_t len, const uint8_t *n,
                              size_t nl, unsigned depth)
{
    struct xmpp_dir *d = &p->d[PARSE_DIR_CLIENT];
    if (d->top != XMPP_EL_IQ || !p->iq_is_set) {
        return;
    }
    if (depth == 3 && name_is(n, nl, "query")) {
        p->iq_is_auth = attr_is(tag, len, "xmlns", "jabber:iq:auth");
        return;
    }
    if (depth != 4 || !p->iq_is_auth) {
        return;
    }
    d->field = name_is(n, nl, "username")   ? XMPP_EL_USERNAME
               : name_is(n, nl, "password") ? XMPP_EL_PASSWORD
               : name_is(n, nl, "digest")   ? XMPP_EL_DIGEST
                                            : XMPP_EL_NONE;
    if (d->field != XMPP_EL_NONE) {
        text_start(p, d);
    }
}

/* ---- the server's elements ---- */

static enum xmpp_el server_top_of(const uint8_t *n, size_t len)
{
    if (name_is(n, len, "features")) {
        return XMPP_EL_FEATURES;
    }
    if (name_is(n, len, "proceed")) {
        return XMPP_EL_PROCEED;
    }
    if (name_is(n, len, "failure")) {
        return XMPP_EL_FAILURE;
    }
    if (name_is(n, len, "challenge")) {
        return XMPP_EL_CHALLENGE;
    }
    if (name_is(n, len, "success")) {
        return XMPP_EL_SUCCESS;
    }
    return name_is(n, len, "iq") ? XMPP_EL_IQ : XMPP_EL_OTHER;
}

static void server_open_top(struct xmpp *p, const uint8_t *tag, size_t len, enum xmpp_el el)
{
    struct xmpp_dir *d = &p->d[PARSE_DIR_SERVER];
    switch (el) {
    case XMPP_EL_FEATURES:
        if (!p->is_authed) {
            p->has_features = true;
        }
        break;
    case XMPP_EL_FAILURE:
        /* Whose failure: the namespace says it, else what is pending. */
        if (attr_is(tag, len, "xmlns", "urn:ietf:params:xml:ns:xmpp-tls") ||
            (p->phase == XMPP_TLS_WAIT && !p->in_sasl)) {
            p->is_starttls_refused = true;
            p->phase = XMPP_CLEAR;
        } else if (p->in_sasl) {
            sasl_finish(&p->sasl, 0);
            p->in_sasl = false;
        }
        break;
    case XMPP_EL_CHALLENGE:
        text_start(p, d);
        break;
    case XMPP_EL_SUCCESS:
        if (p->in_sasl) {
            sasl_finish(&p->sasl, 1);
            p->in_sasl = false;
        }
        p->is_authed = true;
        break;
    case XMPP_EL_IQ:
        p->sv_iq_ok = attr_is(tag, len, "type", "result");
        p->sv_iq_err = attr_is(tag, len, "type", "error");
        p->sv_iq_id_len = attr_copy(tag, len, "id", p->sv_iq_id, sizeof p->sv_iq_id);
        break;
    default:
        break;
    }
}

static void server_close_top(struct xmpp *p, enum xmpp_el el)
{
    struct xmpp_dir *d = &p->d[PARSE_DIR_SERVER];
    switch (el) {
    case XMPP_EL_PROCEED:
        if (p->phase == XMPP_TLS_WAIT) {
            finding_set_upgraded(p->s);
            p->phase = XMPP_TLS; /* TLS starts after this element */
        }
        break;
    case XMPP_EL_CHALLENGE:
        if (p->in_sasl && d->text != NULL) {
            sasl_server(&p->sasl, d->text, d->text_len);
        }
        break;
    case XMPP_EL_IQ:
        if (p->wait_cred != NULL && (p->sv_iq_ok || p->sv_iq_err) &&
            p->sv_iq_id_len == p->wait_id_len &&
            memcmp(p->sv_iq_id, p->wait_id, p->wait_id_len) == 0) {
            p->wait_cred->result = p->sv_iq_ok ? FINDING_RESULT_SUCCESS : FINDING_RESULT_FAILURE;
            p->wait_cred = NULL;
        }
        break;
    default:
        break;
    }
    d->in_text = false;
}

/* ---- one tag ---- */

/* A stream header: each side's first tag (after <?xml?>), and again after SASL success. */
static void stream_open(struct xmpp *p, enum parse_dir dir, const uint8_t *tag, size_t len)
{
    struct xmpp_dir *d = dir_of(p, dir);
    d->has_stream = true;
    d->depth = 1;
    d->top = XMPP_EL_NONE;
    d->field = XMPP_EL_NONE;
    d->in_text = false;
    if (dir == PARSE_DIR_SERVER) {
        size_t n = attr_copy(tag, len, "id", p->stream_id, sizeof p->stream_id);
        if (n > 0) {
            p->stream_id_len = n;
        }
    }
}

static void open_top(struct xmpp *p, enum parse_dir dir, const uint8_t *tag, size_t len,
                     const uint8_t *n, size_t nl)
{
    struct xmpp_dir *d = dir_of(p, dir);
    if (dir == PARSE_DIR_CLIENT) {
        d->top = client_top_of(n, nl);
        if (p->phase != XMPP_CLEAR) {
            /* Sent after <starttls/>, before the handshake: never part of this session. */
            p->s->injected_commands++;
            p->st->starttls_injection++;
            d->top = XMPP_EL_OTHER;
            return;
        }
        client_open_top(p, tag, len, d->top);
        return;
    }
    d->top = server_top_of(n, nl);
    server_open_top(p, tag, len, d->top);
}

static void close_top(struct xmpp *p, enum parse_dir dir)
{
    struct xmpp_dir *d = dir_of(p, dir);
    if (dir == PARSE_DIR_CLIENT) {
        client_close_top(p, d->top);
    } else {
        server_close_top(p, d->top);
    }
    d->top = XMPP_EL_NONE;
    d->in_text = false;
}

/* A child element opens (depth is its depth). */
static void open_child(struct xmpp *p, enum parse_dir dir, const uint8_t *tag, size_t len,
                       const uint8_t *n, size_t nl)
{
    struct xmpp_dir *d = dir_of(p, dir);
    if (dir == PARSE_DIR_CLIENT) {
        client_open_child(p, tag, len, n, nl, d->depth);
    } else if (d->top == XMPP_EL_FEATURES && d->depth == 3 && name_is(n, nl, "starttls") &&
               !p->is_authed) {
        p->has_features_tls = true;
    }
}

static void close_child(struct xmpp *p, enum parse_dir dir)
{
    struct xmpp_dir *d = dir_of(p, dir);
    if (d->field != XMPP_EL_NONE && d->depth == 4) {
        client_field(p, d);
        d->field = XMPP_EL_NONE;
        d->in_text = false;
    }
}

/* A complete tag of direction dir. Returns false when the stream is not XMPP. */
static bool tag_done(struct xmpp *p, enum parse_dir dir)
{
    struct xmpp_dir *d = dir_of(p, dir);
    const uint8_t *tag = d->tag;
    size_t len = d->tag_len;
    if (len > 0 && (tag[0] == '?' || tag[0] == '!')) {
        return true; /* <?xml ...?>, a comment or a declaration */
    }
    bool is_end = len > 0 && tag[0] == '/';
    bool is_empty = !is_end && len > 0 && tag[len - 1] == '/' && !d->is_tag_cut;
    const uint8_t *n;
    size_t nl;
    tag_name(tag, len, &n, &nl);
    if (nl == 13 && memcmp(n, "stream:stream", 13) == 0) {
        if (is_end) {
            d->depth = 0;
        } else {
            stream_open(p, dir, tag, len);
        }
        return true;
    }
    if (!d->has_stream) {
        return false; /* the first element of an XMPP stream is its header */
    }
    if (is_end) {
        if (d->depth == 2) {
            close_top(p, dir);
        } else if (d->depth > 2) {
            close_child(p, dir);
        }
        d->depth = d->depth > 1 ? d->depth - 1 : d->depth;
        return true;
    }
    if (d->depth == 0) {
        return true; /* after the stream's end */
    }
    d->depth++;
    if (d->depth == 2) {
        open_top(p, dir, tag, len, n, nl);
    } else {
        open_child(p, dir, tag, len, n, nl);
    }
    if (is_empty) {
        if (d->depth == 2) {
            close_top(p, dir);
        } else {
            close_child(p, dir);
        }
        d->depth--;
    }
    return true;
}

/* ---- the lexer ---- */

static void tag_byte(struct xmpp *p, struct xmpp_dir *d, uint8_t c)
{
    if (d->tag_len < XMPP_MAX_TAG) {
        d->tag[d->tag_len++] = c;
    } else if (!d->is_tag_cut) {
        d->is_tag_cut = true;
        p->st->xmpp_overlong++;
    }
}

/* The client's bytes are TLS from here on; before anything of the server's, that is implicit
 * TLS. */
static void client_tls(struct xmpp *p)
{
    p->is_client_tls = true;
    if (p->phase == XMPP_CLEAR && !p->d[PARSE_DIR_SERVER].has_stream && p->s->n_creds == 0) {
        finding_set_implicit_tls(p->s);
        p->phase = XMPP_TLS;
    }
}

/* Feeds len bytes of one direction; *used is set to the bytes read when TLS begins after them
 * (the rest is that direction's TLS), else len. Returns false when the stream is not XMPP. */
static bool lex(struct xmpp *p, enum parse_dir dir, const uint8_t *b, size_t len, size_t *used)
{
    struct xmpp_dir *d = dir_of(p, dir);
    size_t i = 0;
    while (i < len) {
        if (!d->in_tag) {
            const uint8_t *lt = memchr(b + i, '<', len - i);
            size_t end = lt != NULL ? (size_t)(lt - b) : len;
            /* Byte by byte, so that any chunking gives the same verdict: a TLS record where
             * text should be (XML has no byte 0x16) means the client went to TLS, after
             * <proceed/> or from the start on a cleartext port; text before the stream header
             * means the stream is not XMPP. */
            for (size_t k = i; k < end && (dir == PARSE_DIR_CLIENT || !d->has_stream); k++) {
                if (dir == PARSE_DIR_CLIENT && b[k] == TLSSNIFF_CT_HANDSHAKE) {
                    client_tls(p);
                    *used = k; /* its ClientHello starts here */
                    return true;
                }
                if (!d->has_stream && !is_space(b[k])) {
                    return false;
                }
            }
            if (d->in_text) {
                text_add(p, d, b + i, end - i);
            }
            i = end;
            if (lt == NULL) {
                break;
            }
            d->in_tag = true;
            d->tag_len = 0;
            d->is_tag_cut = false;
            d->quote = 0;
            i++;
            continue;
        }
        uint8_t c = b[i++];
        if (d->quote != 0) {
            d->quote = c == d->quote ? 0 : d->quote;
            tag_byte(p, d, c);
            continue;
        }
        if (c == '\'' || c == '"') {
            d->quote = c;
        } else if (c == '>') {
            d->in_tag = false;
            if (!tag_done(p, dir)) {
                return false;
            }
            if (dir == PARSE_DIR_SERVER && p->phase == XMPP_TLS) {
                *used = i;
                return true;
            }
            continue;
        } else if (c == '<') {
            d->tag_len = 0; /* a broken tag: start again here */
            d->is_tag_cut = false;
            continue;
        }
        tag_byte(p, d, c);
    }
    *used = len;
    return true;
}

/* ---- the interface ---- */

static enum parse_status xmpp_feed(void *vp, enum parse_dir dir, const uint8_t *data, size_t len,
                                   size_t *consumed)
{
    struct xmpp *p = vp;
    struct xmpp_dir *d = dir_of(p, dir);
    *consumed = len;
    if (len == 0) {
        return PARSE_OK;
    }
    if (dir == PARSE_DIR_CLIENT && p->is_client_tls) {
        tlssniff_leg_client(&p->tls, p->s, p->st, data, len); /* its ClientHello */
        return PARSE_OK;
    }
    if (dir == PARSE_DIR_SERVER && p->phase == XMPP_TLS) {
        tlssniff_leg_feed(&p->tls, p->s, p->st, data, len);
        return PARSE_OK;
    }
    size_t used = len;
    if (!lex(p, dir, data, len, &used)) {
        return PARSE_ERROR;
    }
    if (used < len) {
        if (dir == PARSE_DIR_CLIENT) {
            tlssniff_leg_client(&p->tls, p->s, p->st, data + used, len - used);
        } else {
            tlssniff_leg_feed(&p->tls, p->s, p->st, data + used, len - used);
        }
        return PARSE_OK;
    }
    return d->in_tag || d->in_text ? PARSE_NEED_MORE : PARSE_OK;
}

static void xmpp_gap(void *vp, enum parse_dir dir, uint64_t len)
{
    struct xmpp *p = vp;
    struct xmpp_dir *d = dir_of(p, dir);
    (void)len;
    p->st->gaps++;
    if (dir == PARSE_DIR_SERVER && p->phase == XMPP_TLS) {
        tlssniff_leg_lost(&p->tls, p->s, p->st);
        return;
    }
    if (dir == PARSE_DIR_CLIENT && p->is_client_tls) {
        tlssniff_leg_client_lost(&p->tls, p->st);
        return;
    }
    /* Resynchronise at the next '<', as if at the stream's top level. */
    d->in_tag = false;
    d->in_text = false;
    d->has_stream = true;
    d->depth = 1;
    d->top = XMPP_EL_NONE;
    d->field = XMPP_EL_NONE;
    p->wait_cred = NULL; /* its answer may be among the lost bytes: unknown */
    if (dir == PARSE_DIR_CLIENT) {
        p->iq_cred = NULL;
    }
    if (p->in_sasl && !sasl_gap(&p->sasl, dir == PARSE_DIR_SERVER)) {
        p->in_sasl = false;
    }
}

static void xmpp_end(void *vp)
{
    struct xmpp *p = vp;
    if (p->in_sasl) {
        sasl_abort(&p->sasl);
        p->in_sasl = false;
    }
    /* The list is the stream features (RFC 6120 section 4.3.2). */
    finding_settle_starttls(p->s, p->is_starttls_refused, p->has_features,
                            p->has_features && p->has_features_tls);
}

static void xmpp_free(void *vp)
{
    struct xmpp *p = vp;
    if (p == NULL) {
        return;
    }
    tlssniff_leg_free(&p->tls, p->st);
    for (int i = 0; i < 2; i++) {
        if (p->d[i].text != NULL) {
            explicit_bzero(p->d[i].text, XMPP_MAX_TEXT);
            free(p->d[i].text);
            p->st->line_mem -= XMPP_MAX_TEXT;
        }
    }
    explicit_bzero(p, sizeof *p);
    free(p);
}

const struct parser_ops xmpp_parser_ops = {
    .name = "xmpp",
    .state_size = sizeof(struct xmpp),
    /* The client's stream carries messages, but as XML text: '<' in them is written &lt;, so no
     * login-like element can hide in one, and a capture begun mid-session resynchronises at a
     * real tag. Still, a capture begun inside an element may mistake where the top level is. */
    .has_client_text = true,
    .new_parser = xmpp_new,
    .feed = xmpp_feed,
    .gap = xmpp_gap,
    .end = xmpp_end,
    .free_parser = xmpp_free,
};

enum line_prefix xmpp_opens(const uint8_t *p, size_t len)
{
    /* RFC 6120 section 4.2: the client opens with its stream header, which an XML declaration
     * may precede. CLASSIFY_PREFIX_LEN bytes hold "<stream:stream" but not a declaration and
     * the header after it; the parser refuses a stream whose first element is no header. */
    enum line_prefix a = line_prefix(p, len, "<?XML ");
    enum line_prefix b = line_prefix(p, len, "<STREAM:STREAM");
    if (a == LINE_PREFIX_YES || b == LINE_PREFIX_YES) {
        return LINE_PREFIX_YES;
    }
    return a == LINE_PREFIX_SHORT || b == LINE_PREFIX_SHORT ? LINE_PREFIX_SHORT : LINE_PREFIX_NO;
}
