/* http.c - the HTTP/1.x parser: Authorization and Proxy-Authorization logins and their outcomes.
 *
 * RFC 9112 (messages: a start line, header lines up to an empty line, then a body framed by
 * Transfer-Encoding: chunked or Content-Length; lines end in LF with an optional CR; empty lines
 * before a request line are skipped, section 2.2; obs-fold continuation lines, section 5.2, are
 * joined to their field with a space), RFC 9110 (methods, status codes, section 11's fields;
 * field names in any case; a response to HEAD, a 1xx, 204 or 304 has no body, section 6.4.1; a
 * response without a length runs to the close), httpauth.h for what the fields carry.
 *
 * Each direction is read on its own, a message at a time: the start line, the header lines
 * (only Authorization, Proxy-Authorization, WWW-Authenticate, Proxy-Authenticate,
 * Content-Length and Transfer-Encoding are kept, the first four in a buffer made at the first
 * one, since most sessions never send them), then the body, skipped by its count with no look
 * at its bytes: a body is never read, and nothing in one is ever a credential. Requests go on
 * a queue (parse_ring) and each final answer settles the oldest (keep-alive and pipelining);
 * a 1xx other than 101 is interim. A credential is recorded when its request's header section
 * ends and settled by its answer (httpauth_settle): 2xx or 3xx success, 401 or 407 failure.
 * CONNECT answered 2xx and 101 Switching Protocols turn the connection into a tunnel, and
 * nothing more is read. A connection whose first request is CONNECT is a proxy's, and is handed
 * to the wrapper the registry names for it (http-connect), which follows a tunnel to a mail
 * server; an HTTP session then holds only what the wrapper finds.
 *
 * The session record: a session without a credential is no record (is_login_only), so that
 * the web traffic of a link does not fill the database; STARTTLS does not apply (HTTP has none
 * in use: RFC 2817's Upgrade to TLS is not implemented by browsers or servers), so its verdict
 * is "n/a".
 *
 * A session whose start the capture missed is read from the first request line and the first
 * status line found at a line's start; after a gap that no body's count absorbs, answers no
 * longer pair with requests (results stay unknown) and each direction resumes at its next start
 * line. Known limits: HTTP/2 and HTTP/3 are not read (HTTP/2 in the clear, h2c, is rare; its
 * HPACK-compressed fields would need the whole connection's table). A session begun before the
 * capture may resume inside a body on a line shaped like a request; its credential is then kept
 * only if an answer came, as for mail (parse_end). An answer to HEAD that pairs with no request
 * (after a gap) is taken to have the body its Content-Length announces. */
#include "http.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "httpauth.h"
#include "ps.h"
#include "tunables.h"

enum http_state {
    HTTP_START = 0,  /* a start line is due (empty lines before a request line skipped) */
    HTTP_HEADERS,    /* header lines, up to the empty line */
    HTTP_BODY,       /* remain bytes of a body framed by Content-Length */
    HTTP_CHUNK_SIZE, /* a chunk-size line */
    HTTP_CHUNK_DATA, /* remain bytes of a chunk's data */
    HTTP_CHUNK_END,  /* the empty line that ends a chunk's data */
    HTTP_TRAILERS,   /* trailer lines, up to the empty line */
    HTTP_RESYNC,     /* lost: lines skipped up to the next start line */
    HTTP_OPAQUE,     /* nothing more is read: a tunnel, a body to the close, an unframed body */
};

/* The header field whose value is being gathered (its obs-fold lines may follow). */
enum http_pend {
    HTTP_PEND_NONE = 0,
    HTTP_PEND_LENGTH,    /* Content-Length */
    HTTP_PEND_ENCODING,  /* Transfer-Encoding */
    HTTP_PEND_AUTH,      /* Authorization or Proxy-Authorization (pend_field says which) */
    HTTP_PEND_CHALLENGE, /* WWW-Authenticate or Proxy-Authenticate with an NTLM challenge */
};

/* Credentials of a request: index + 1 into the session's credentials, 0 for none (indexes
 * stay: credentials are dropped only by parse_end, after parsing). Slot 0 is Authorization's,
 * slot 1 Proxy-Authorization's. */
struct http_req {
    uint8_t cred[2];
    bool is_head;
    bool is_connect;
};

/* One direction's message in progress. */
struct http_side {
    enum http_state state;
    uint64_t remain;  /* HTTP_BODY, HTTP_CHUNK_DATA: bytes left */
    bool has_message; /* a start line of this direction was read */
    enum http_pend pend;
    enum httpauth_field pend_field;
    bool is_pend_over;                  /* the gathered value passed its limit */
    uint8_t fv[HTTP_MAX_FRAMING_FIELD]; /* a framing field's value */
    size_t fv_len;
    uint8_t *av; /* an authentication field's value; owned, made at the first (av_cap bytes) */
    size_t av_len;
    /* The message's framing: Content-Length (has_length, length, is_length_bad) and
     * Transfer-Encoding (has_coding, is_chunked: chunked is its last coding). */
    bool has_length, is_length_bad, has_coding, is_chunked;
    uint64_t length;
};

struct http {
    struct session *s;
    struct parse_stats *st;
    parse_lookup_fn *lookup;
    parse_opener_fn *opener;
    unsigned flags;
    struct line_buf lb[2];
    struct http_side side[2];
    struct http_req req; /* the request being read */
    unsigned status;     /* the answer being read */
    struct http_req q[PARSE_MAX_PENDING];
    struct parse_ring ring;
    bool is_unpaired; /* after a gap or an overflow of the queue: answers pair with nothing */
    size_t n_requests;
    struct httpauth_ntlm ntlm[2]; /* 0: the origin server's challenge, 1: the proxy's */
    struct parse_tunnel wrap;     /* the wrapper a CONNECT-first session was handed to */
    size_t wrap_charge;
};

enum line_prefix http_opens(const uint8_t *p, size_t len)
{
#define HTTP_METHOD(m)                                                                             \
    {                                                                                              \
        m, sizeof m - 1                                                                            \
    }
    static const struct {
        const char *m;
        size_t len;
    } methods[] = {
        HTTP_METHOD("GET "),       HTTP_METHOD("POST "),   HTTP_METHOD("PUT "),
        HTTP_METHOD("HEAD "),      HTTP_METHOD("DELETE "), HTTP_METHOD("OPTIONS "),
        HTTP_METHOD("PATCH "),     HTTP_METHOD("TRACE "),  HTTP_METHOD("PROPFIND "),
        HTTP_METHOD("PROPPATCH "), HTTP_METHOD("MKCOL "),  HTTP_METHOD("COPY "),
        HTTP_METHOD("MOVE "),      HTTP_METHOD("LOCK "),   HTTP_METHOD("UNLOCK "),
        HTTP_METHOD("REPORT "),
    };
#undef HTTP_METHOD
    enum line_prefix best = LINE_PREFIX_NO;
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        /* Methods are case-sensitive: an exact comparison, not line_prefix. Most flows that
         * get here (TLS, SSH...) differ at the first byte. */
        size_t k = len < methods[i].len ? len : methods[i].len;
        if (k > 0 && p[0] != (uint8_t)methods[i].m[0]) {
            continue;
        }
        if (memcmp(p, methods[i].m, k) != 0) {
            continue;
        }
        if (len >= methods[i].len) {
            return LINE_PREFIX_YES;
        }
        best = LINE_PREFIX_SHORT;
    }
    return best;
}

static void *http_new(const struct parse_ctx *ctx)
{
    struct http *p = xcalloc(1, sizeof *p);
    p->s = ctx->s;
    p->st = ctx->st;
    p->lookup = ctx->lookup;
    p->opener = ctx->opener;
    p->flags = ctx->flags;
    line_init(&p->lb[0]);
    line_init(&p->lb[1]);
    if ((ctx->flags & PARSE_F_MIDSTREAM) != 0) {
        p->side[0].state = HTTP_RESYNC;
        p->side[1].state = HTTP_RESYNC;
    }
    return p;
}

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* A tchar of RFC 9110 section 5.6.2 (a method is a token). */
static bool is_tchar(uint8_t c)
{
    static const char marks[] = "!#$%&'*+-.^_`|~";
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) ||
           memchr(marks, c, sizeof marks - 1) != NULL;
}

/* "HTTP/" DIGIT "." DIGIT at v[0..len) (RFC 9112 section 2.3). */
static bool is_version(const uint8_t *v, size_t len)
{
    return len == 8 && memcmp(v, "HTTP/", 5) == 0 && is_digit(v[5]) && v[6] == '.' &&
           is_digit(v[7]);
}

/* The request line l[0..len): method SP request-target SP HTTP-version. */
static bool is_request_line(const uint8_t *l, size_t len, size_t *method_len)
{
    size_t m = 0;
    while (m < len && is_tchar(l[m])) {
        m++;
    }
    if (m == 0 || m >= len || l[m] != ' ' || len < m + 1 + 1 + 1 + 8) {
        return false;
    }
    const uint8_t *v = l + len - 8;
    if (!is_version(v, 8) || v[-1] != ' ' || v - 1 <= l + m + 1) {
        return false;
    }
    *method_len = m;
    return memchr(l + m + 1, ' ', (size_t)(v - 1 - (l + m + 1))) == NULL;
}

/* The status line l[0..len): HTTP-version SP 3DIGIT [SP reason-phrase]; sets *status. */
static bool is_status_line(const uint8_t *l, size_t len, unsigned *status)
{
    if (len < 12 || !is_version(l, 8) || l[8] != ' ' || !is_digit(l[9]) || !is_digit(l[10]) ||
        !is_digit(l[11]) || (len > 12 && l[12] != ' ')) {
        return false;
    }
    *status =
        (unsigned)(l[9] - '0') * 100u + (unsigned)(l[10] - '0') * 10u + (unsigned)(l[11] - '0');
    return true;
}

/* ---- header fields ---- */

/* Appends v[0..len) to the value being gathered, at its limit; past it the value is dropped. */
static void pend_append(struct http *p, struct http_side *sd, const uint8_t *v, size_t len)
{
    bool is_auth = sd->pend == HTTP_PEND_AUTH || sd->pend == HTTP_PEND_CHALLENGE;
    size_t cap = is_auth ? HTTP_MAX_AUTH_FIELD : sizeof sd->fv;
    size_t *have = is_auth ? &sd->av_len : &sd->fv_len;
    if (sd->is_pend_over || len > cap - *have) {
        sd->is_pend_over = true;
        return;
    }
    if (is_auth && sd->av == NULL) {
        sd->av = xmalloc(HTTP_MAX_AUTH_FIELD);
        p->st->line_mem += PS_HEAP_COST(HTTP_MAX_AUTH_FIELD);
    }
    memcpy((is_auth ? sd->av : sd->fv) + *have, v, len);
    *have += len;
}

/* v[0..*len) without the spaces at its ends. */
static const uint8_t *trim(const uint8_t *v, size_t *len)
{
    while (*len > 0 && (v[0] == ' ' || v[0] == '\t')) {
        v++;
        (*len)--;
    }
    while (*len > 0 && (v[*len - 1] == ' ' || v[*len - 1] == '\t')) {
        (*len)--;
    }
    return v;
}

/* Content-Length's value: 1*DIGIT; a list of equal values is one (RFC 9110 section 8.6). */
static void read_length(struct http_side *sd, const uint8_t *v, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t n = i;
        while (n < len && v[n] != ',') {
            n++;
        }
        size_t e_len = n - i;
        const uint8_t *e = trim(v + i, &e_len);
        uint64_t x = 0;
        for (size_t k = 0; k < e_len && !sd->is_length_bad; k++) {
            if (!is_digit(e[k]) || x > (UINT64_MAX - 9) / 10) {
                sd->is_length_bad = true;
            }
            x = x * 10u + (uint64_t)(e[k] - '0');
        }
        if (e_len == 0 || (sd->has_length && x != sd->length)) {
            sd->is_length_bad = true;
        }
        sd->has_length = true;
        sd->length = x;
        i = n + 1;
    }
}

/* Transfer-Encoding's value: a list of codings, of which chunked must be the last. */
static void read_coding(struct http_side *sd, const uint8_t *v, size_t len)
{
    size_t last = len;
    while (last > 0 && v[last - 1] != ',') {
        last--;
    }
    size_t e_len = len - last;
    const uint8_t *e = trim(v + last, &e_len);
    sd->has_coding = true;
    sd->is_chunked = e_len == 7 && line_has_prefix(e, e_len, "CHUNKED");
}

/* The gathered field is whole (the next line is no continuation of it): what it says. */
static void field_done(struct http *p, enum parse_dir dir)
{
    struct http_side *sd = &p->side[dir];
    enum http_pend pend = sd->pend;
    sd->pend = HTTP_PEND_NONE;
    if (pend == HTTP_PEND_NONE) {
        return;
    }
    if (sd->is_pend_over) {
        p->st->http_field_overlong++;
        if (pend == HTTP_PEND_LENGTH || pend == HTTP_PEND_ENCODING) {
            sd->is_length_bad = true; /* a framing field not read: the end cannot be found */
        }
    } else if (pend == HTTP_PEND_LENGTH) {
        read_length(sd, sd->fv, sd->fv_len);
    } else if (pend == HTTP_PEND_ENCODING) {
        read_coding(sd, sd->fv, sd->fv_len);
    } else if (pend == HTTP_PEND_CHALLENGE) {
        httpauth_challenge(&p->ntlm[sd->pend_field == HTTPAUTH_F_PROXY_AUTHENTICATE], sd->av,
                           sd->av_len);
    } else {
        bool is_proxy = sd->pend_field == HTTPAUTH_F_PROXY_AUTHORIZATION;
        struct credential *c =
            httpauth_credential(p->s, p->st, "", &p->ntlm[is_proxy], sd->av, sd->av_len);
        for (size_t i = 0; c != NULL && i < p->s->n_creds; i++) {
            if (p->s->creds[i] == c) {
                p->req.cred[is_proxy] = (uint8_t)(i + 1);
            }
        }
    }
    if (sd->av != NULL) {
        explicit_bzero(sd->av, sd->av_len);
    }
    sd->av_len = 0;
    sd->fv_len = 0;
    sd->is_pend_over = false;
}

/* A header line h[0..len) that is not a continuation: the field it starts, if one is kept. Its
 * first letter rules out most lines (Host, Accept, User-Agent, Cookie...) at once. */
static void field_start(struct http *p, enum parse_dir dir, const uint8_t *h, size_t len)
{
    struct http_side *sd = &p->side[dir];
    size_t off = 0;
    enum httpauth_field f = HTTPAUTH_F_NONE;
    /* A letter further on rules out the common names that share the first (Content-Type,
     * Connection, Cookie; Accept-*) before the comparison. */
    switch (line_upper(h[0])) {
    case 'C':
        if (len < 15 || line_upper(h[8]) != 'L' || !line_has_prefix(h, len, "CONTENT-LENGTH:")) {
            return;
        }
        sd->pend = HTTP_PEND_LENGTH;
        off = sizeof "CONTENT-LENGTH:" - 1;
        break;
    case 'T':
        if (!line_has_prefix(h, len, "TRANSFER-ENCODING:")) {
            return;
        }
        sd->pend = HTTP_PEND_ENCODING;
        off = sizeof "TRANSFER-ENCODING:" - 1;
        break;
    case 'A':
        if (len < 2 || line_upper(h[1]) != 'U') {
            return;
        }
        /* fall through */
    case 'P':
    case 'W':
        f = httpauth_field(h, len, &off);
        if (f == HTTPAUTH_F_AUTHORIZATION || f == HTTPAUTH_F_PROXY_AUTHORIZATION) {
            if (dir != PARSE_DIR_CLIENT) {
                return;
            }
            sd->pend = HTTP_PEND_AUTH;
        } else if (f == HTTPAUTH_F_WWW_AUTHENTICATE || f == HTTPAUTH_F_PROXY_AUTHENTICATE) {
            /* Only NTLM's challenge is needed: a Digest response carries its own nonce. */
            if (dir != PARSE_DIR_SERVER || (!line_has_prefix(h + off, len - off, "NTLM ") &&
                                            !line_has_prefix(h + off, len - off, "NEGOTIATE "))) {
                return;
            }
            sd->pend = HTTP_PEND_CHALLENGE;
        } else {
            return;
        }
        break;
    default:
        return;
    }
    sd->pend_field = f;
    pend_append(p, sd, h + off, len - off);
}

/* A header line h[0..len) of either direction. */
static void header_line(struct http *p, enum parse_dir dir, const uint8_t *h, size_t len)
{
    struct http_side *sd = &p->side[dir];
    if (h[0] == ' ' || h[0] == '\t') {
        /* obs-fold: the field goes on, the line break read as a space. */
        if (sd->pend != HTTP_PEND_NONE) {
            pend_append(p, sd, (const uint8_t *)" ", 1);
            pend_append(p, sd, h, len);
        }
        return;
    }
    if (sd->pend != HTTP_PEND_NONE) {
        field_done(p, dir);
    }
    field_start(p, dir, h, len);
}

/* ---- messages ---- */

/* Nothing more is read of direction dir; when both are so, of the session. */
static void go_opaque(struct http *p, enum parse_dir dir)
{
    p->side[dir].state = HTTP_OPAQUE;
    line_init(&p->lb[dir]);
    if (p->side[!dir].state == HTTP_OPAQUE) {
        p->s->is_parse_done = true;
    }
}

/* The body after a head of direction dir, from its framing fields; has_body false when the
 * message has none whatever they say. */
static void body_start(struct http *p, enum parse_dir dir, bool has_body)
{
    struct http_side *sd = &p->side[dir];
    bool is_response = dir == PARSE_DIR_SERVER;
    if (!has_body) {
        sd->state = HTTP_START;
    } else if (sd->has_coding) {
        /* RFC 9112 section 6.3: a coding other than chunked last leaves a request unframed and
         * runs a response to the close. */
        if (sd->is_chunked) {
            sd->state = HTTP_CHUNK_SIZE;
        } else {
            if (!is_response) {
                p->st->http_unframed++;
            }
            go_opaque(p, dir);
        }
    } else if (sd->is_length_bad) {
        p->st->http_unframed++;
        go_opaque(p, dir);
    } else if (sd->has_length) {
        sd->remain = sd->length;
        sd->state = sd->length > 0 ? HTTP_BODY : HTTP_START;
    } else if (is_response) {
        go_opaque(p, dir); /* read to the close (RFC 9112 section 6.3, rule 8) */
    } else {
        sd->state = HTTP_START; /* a request without either has no body */
    }
}

/* The request's header section ended: it waits for its answer. */
static void request_done(struct http *p)
{
    size_t slot = parse_ring_push(&p->ring, p->st);
    if (slot == PARSE_MAX_PENDING) {
        p->is_unpaired = true; /* an answer from now on might pair with the wrong request */
    } else {
        p->q[slot] = p->req;
    }
    body_start(p, PARSE_DIR_CLIENT, true);
}

/* The answer's header section ended: it settles its request's credentials. */
static void response_done(struct http *p)
{
    unsigned status = p->status;
    bool is_interim = status >= 100 && status < 200 && status != 101;
    struct http_req r = { { 0, 0 }, false, false };
    if (!is_interim && !p->is_unpaired) {
        size_t slot = parse_ring_pop(&p->ring);
        if (slot != PARSE_MAX_PENDING) {
            r = p->q[slot];
        }
    }
    for (size_t i = 0; i < 2 && !is_interim; i++) {
        if (r.cred[i] != 0 && r.cred[i] <= p->s->n_creds) {
            httpauth_settle(p->s->creds[r.cred[i] - 1],
                            i == 0 ? HTTPAUTH_F_AUTHORIZATION : HTTPAUTH_F_PROXY_AUTHORIZATION,
                            status);
        }
    }
    if (status == 101 || (r.is_connect && status >= 200 && status < 300)) {
        p->st->http_tunnels++;
        go_opaque(p, PARSE_DIR_CLIENT);
        go_opaque(p, PARSE_DIR_SERVER);
        return;
    }
    bool has_body = !is_interim && status >= 200 && status != 204 && status != 304 && !r.is_head;
    body_start(p, PARSE_DIR_SERVER, has_body);
}

/* The empty line: the head of direction dir is over. */
static void head_done(struct http *p, enum parse_dir dir)
{
    field_done(p, dir);
    if (dir == PARSE_DIR_CLIENT) {
        request_done(p);
    } else {
        response_done(p);
    }
}

/* The session's first request is CONNECT: it is a proxy's, handed to the wrapper the registry
 * names for it. line[0..len) and the rest of the chunk, data[0..len), are the wrapper's first
 * bytes. True when it was handed over. */
static bool hand_over(struct http *p, const uint8_t *line, size_t len, const uint8_t *data,
                      size_t data_len, enum parse_status *rs)
{
    const struct parser_ops *w = p->opener != NULL ? p->opener(line, len) : NULL;
    if (w == NULL) {
        return false;
    }
    struct parse_ctx ctx = { p->s, p->st, p->flags, p->lookup, NULL };
    p->s->protocol = NULL; /* as for a wrapper's session: unknown until its tunnel opens */
    p->wrap_charge = PS_HEAP_COST(w->state_size);
    p->st->tunnel_mem += p->wrap_charge;
    p->wrap.ops = w;
    p->wrap.p = parse_open(w, &ctx);
    enum parse_status r = parse_tunnel_feed(&p->wrap, PARSE_DIR_CLIENT, line, len);
    if (r != PARSE_ERROR) {
        bool is_crlf = p->lb[PARSE_DIR_CLIENT].is_crlf;
        r = parse_tunnel_feed(&p->wrap, PARSE_DIR_CLIENT,
                              (const uint8_t *)(is_crlf ? "\r\n" : "\n"), is_crlf ? 2 : 1);
    }
    if (r != PARSE_ERROR && data_len > 0) {
        r = parse_tunnel_feed(&p->wrap, PARSE_DIR_CLIENT, data, data_len);
    }
    *rs = r;
    return true;
}

/* A start line of direction dir; false when it is none. */
static bool start_line(struct http *p, enum parse_dir dir, const uint8_t *l, size_t len)
{
    struct http_side *sd = &p->side[dir];
    size_t method_len = 0;
    if (dir == PARSE_DIR_CLIENT) {
        if (!is_request_line(l, len, &method_len)) {
            return false;
        }
        memset(&p->req, 0, sizeof p->req);
        p->req.is_head = method_len == 4 && memcmp(l, "HEAD", 4) == 0;
        p->req.is_connect = method_len == 7 && memcmp(l, "CONNECT", 7) == 0;
        p->n_requests++;
    } else if (!is_status_line(l, len, &p->status)) {
        return false;
    }
    sd->has_message = true;
    sd->has_length = false;
    sd->is_length_bad = false;
    sd->has_coding = false;
    sd->is_chunked = false;
    sd->state = HTTP_HEADERS;
    return true;
}

/* A chunk-size line l[0..len): 1*HEXDIG [chunk-ext]; false when it is none. */
static bool chunk_size(struct http_side *sd, const uint8_t *l, size_t len)
{
    uint64_t x = 0;
    size_t i = 0;
    for (; i < len && i < 16; i++) {
        uint8_t c = line_upper(l[i]);
        unsigned d = is_digit(c) ? (unsigned)(c - '0') : c >= 'A' && c <= 'F' ? c - 'A' + 10u : 16u;
        if (d == 16) {
            break;
        }
        x = x << 4 | d;
    }
    if (i == 0 || (i < len && l[i] != ';' && l[i] != ' ' && l[i] != '\t')) {
        return false;
    }
    sd->remain = x;
    sd->state = x > 0 ? HTTP_CHUNK_DATA : HTTP_TRAILERS;
    return true;
}

/* Lost in direction dir: resumes at its next start line. */
static void resync(struct http *p, enum parse_dir dir)
{
    p->st->http_resync++;
    p->side[dir].state = HTTP_RESYNC;
    p->side[dir].pend = HTTP_PEND_NONE;
}

/* A whole line of direction dir in a state that reads lines. False: not HTTP. */
static bool on_line(struct http *p, enum parse_dir dir, const uint8_t *l, size_t len)
{
    struct http_side *sd = &p->side[dir];
    switch (sd->state) {
    case HTTP_START:
        if (len == 0) {
            return true; /* before a request line (RFC 9112 section 2.2), or after a body */
        }
        if (!start_line(p, dir, l, len)) {
            /* The first line of a session whose start was seen says whether it is HTTP. */
            if (!sd->has_message && (p->flags & PARSE_F_MIDSTREAM) == 0) {
                return false;
            }
            resync(p, dir);
        }
        return true;
    case HTTP_RESYNC:
        start_line(p, dir, l, len);
        return true;
    case HTTP_HEADERS:
        if (len == 0) {
            head_done(p, dir);
        } else {
            header_line(p, dir, l, len);
        }
        return true;
    case HTTP_CHUNK_SIZE:
        if (!chunk_size(sd, l, len)) {
            resync(p, dir);
        }
        return true;
    case HTTP_CHUNK_END:
        if (len == 0) {
            sd->state = HTTP_CHUNK_SIZE;
        } else {
            resync(p, dir);
        }
        return true;
    case HTTP_TRAILERS:
        if (len == 0) {
            sd->state = HTTP_START;
        }
        return true;
    case HTTP_BODY:
    case HTTP_CHUNK_DATA:
    case HTTP_OPAQUE:
        break;
    }
    return true;
}

/* An overlong line (dropped by line_next) of direction dir. */
static void on_dropped(struct http *p, enum parse_dir dir)
{
    struct http_side *sd = &p->side[dir];
    if (sd->state == HTTP_HEADERS) {
        field_done(p, dir); /* the dropped line was no continuation of it that can be read */
    } else if (sd->state != HTTP_RESYNC && sd->state != HTTP_TRAILERS) {
        resync(p, dir);
    }
}

/* Skips up to remain bytes of a body; at its end, what follows it. */
static void skip_body(struct http_side *sd, const uint8_t **data, size_t *len)
{
    size_t k = sd->remain < *len ? (size_t)sd->remain : *len;
    sd->remain -= k;
    *data += k;
    *len -= k;
    if (sd->remain == 0) {
        sd->state = sd->state == HTTP_BODY ? HTTP_START : HTTP_CHUNK_END;
    }
}

/* Header lines that lie whole in the chunk, read in place up to the head's end: the common
 * case, at a memchr per line (line_next does the rest: lines cut by the chunk, overlong ones). */
static void headers_in_place(struct http *p, enum parse_dir dir, const uint8_t **data, size_t *len)
{
    struct http_side *sd = &p->side[dir];
    while (sd->state == HTTP_HEADERS && *len > 0) {
        const uint8_t *lf = memchr(*data, '\n', *len);
        size_t n = lf != NULL ? (size_t)(lf - *data) : 0;
        const uint8_t *l = *data;
        size_t l_len = n > 0 && l[n - 1] == '\r' ? n - 1 : n;
        if (lf == NULL || l_len > LINE_MAX_LEN) {
            return;
        }
        *data += n + 1;
        *len -= n + 1;
        p->st->lines++;
        if (l_len == 0) {
            head_done(p, dir);
        } else {
            header_line(p, dir, l, l_len);
        }
    }
}

static enum parse_status side_feed(struct http *p, enum parse_dir dir, const uint8_t *data,
                                   size_t len)
{
    struct http_side *sd = &p->side[dir];
    struct line_buf *lb = &p->lb[dir];
    while (len > 0) {
        if (sd->state == HTTP_OPAQUE) {
            return PARSE_OK;
        }
        if (sd->state == HTTP_BODY || sd->state == HTTP_CHUNK_DATA) {
            skip_body(sd, &data, &len);
            continue;
        }
        if (sd->state == HTTP_HEADERS && !line_has_partial(lb)) {
            size_t before = len;
            headers_in_place(p, dir, &data, &len);
            if (len != before) {
                continue;
            }
        }
        const uint8_t *line;
        size_t line_len;
        /* Lines skipped while lost are no protocol lines: their length is not counted. */
        uint64_t lost = 0;
        uint64_t *overlong = sd->state == HTTP_RESYNC ? &lost : &p->st->overlong_lines;
        enum line_status ls = line_next(lb, &data, &len, &line, &line_len, overlong);
        if (ls == LINE_DROPPED) {
            if (sd->state == HTTP_START && !sd->has_message &&
                (p->flags & PARSE_F_MIDSTREAM) == 0) {
                return PARSE_ERROR; /* no start line at all: not HTTP (TLS on 80, say) */
            }
            on_dropped(p, dir);
            continue;
        }
        if (ls != LINE_OK) {
            return PARSE_NEED_MORE;
        }
        p->st->lines++;
        bool is_first = dir == PARSE_DIR_CLIENT && p->n_requests == 0 &&
                        !p->side[PARSE_DIR_SERVER].has_message &&
                        (p->flags & PARSE_F_MIDSTREAM) == 0 && sd->state == HTTP_START;
        if (!on_line(p, dir, line, line_len)) {
            return PARSE_ERROR;
        }
        enum parse_status rs = PARSE_OK;
        if (is_first && p->req.is_connect && hand_over(p, line, line_len, data, len, &rs)) {
            return rs;
        }
    }
    return line_has_partial(lb) ? PARSE_NEED_MORE : PARSE_OK;
}

static enum parse_status http_feed(void *vp, enum parse_dir dir, const uint8_t *data, size_t len,
                                   size_t *consumed)
{
    struct http *p = vp;
    *consumed = len;
    struct http_side *sd = &p->side[dir];
    if (sd->state == HTTP_BODY && len < sd->remain) {
        sd->remain -= len; /* most segments of a download: inside a body, before its end */
        return PARSE_OK;
    }
    if (p->wrap.p != NULL) {
        return parse_tunnel_feed(&p->wrap, dir, data, len);
    }
    return side_feed(p, dir, data, len);
}

static void http_gap(void *vp, enum parse_dir dir, uint64_t len)
{
    struct http *p = vp;
    if (p->wrap.p != NULL) {
        parse_tunnel_gap(&p->wrap, dir, len);
        return;
    }
    struct http_side *sd = &p->side[dir];
    if (sd->state == HTTP_OPAQUE) {
        return;
    }
    p->st->gaps++;
    if ((sd->state == HTTP_BODY || sd->state == HTTP_CHUNK_DATA) && len <= sd->remain &&
        !line_has_partial(&p->lb[dir])) {
        /* Inside a body whose count covers the loss: nothing of the framing was lost. */
        sd->remain -= len;
        if (sd->remain == 0) {
            sd->state = sd->state == HTTP_BODY ? HTTP_START : HTTP_CHUNK_END;
        }
        return;
    }
    /* A request or an answer may have been lost: none pairs any more. */
    p->is_unpaired = true;
    parse_ring_clear(&p->ring);
    sd->pend = HTTP_PEND_NONE;
    sd->state = HTTP_RESYNC;
    line_resync(&p->lb[dir]);
}

static void http_end(void *vp)
{
    struct http *p = vp;
    if (p->wrap.p != NULL) {
        parse_tunnel_end(&p->wrap);
        return;
    }
    /* HTTP has no STARTTLS in use: the verdict does not apply. */
    p->s->starttls = FINDING_STARTTLS_NA;
}

static const struct parser_ops *http_inner(void *vp, void **inner)
{
    struct http *p = vp;
    return parse_tunnel_inner(&p->wrap, inner);
}

static void http_free(void *vp)
{
    struct http *p = vp;
    if (p == NULL) {
        return;
    }
    parse_tunnel_free(&p->wrap);
    p->st->tunnel_mem -= p->wrap_charge;
    for (size_t i = 0; i < 2; i++) {
        if (p->side[i].av != NULL) {
            explicit_bzero(p->side[i].av, HTTP_MAX_AUTH_FIELD);
            free(p->side[i].av);
            p->st->line_mem -= PS_HEAP_COST(HTTP_MAX_AUTH_FIELD);
        }
    }
    line_state_free(p, sizeof *p, p->lb);
}

const struct parser_ops http_parser_ops = {
    .name = "http",
    .state_size = sizeof(struct http),
    /* Request bodies (a POST's form, an upload) may hold text shaped like requests. */
    .has_client_text = true,
    .is_login_only = true,
    .new_parser = http_new,
    .feed = http_feed,
    .gap = http_gap,
    .end = http_end,
    .free_parser = http_free,
    .inner = http_inner,
};
