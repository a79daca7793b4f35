/* httpconnect.c - the HTTP CONNECT wrapper: unwraps a proxy connection to a mail server.
 *
 * RFC 9110 section 9.3.6 (CONNECT: the request target is the authority, host and port; a 2xx
 * answer turns the connection into a tunnel), RFC 9112 (the request and status lines, the
 * header section up to an empty line, lines that end in LF with an optional CR), RFC 9110
 * section 11.7.1 and RFC 7617 (Proxy-Authorization: Basic, base64 of "user:password"; 407 asks
 * again). Like socks.c, the handshake is read as steps, each taking one head (a start line and
 * its header section) from its direction's queue, so bytes of a direction wait until their step
 * comes and the capture order of the two directions does not matter. Interim 1xx answers are
 * skipped; a 407 sends the client back to its request step, since an HTTP/1.1 client may retry
 * with credentials on the same connection. Once the proxy opens a tunnel to a mail port, the
 * protocol's own parser is made through the lookup this parser was created with (the
 * registry's), implicit TLS included, so this file names no other parser.
 *
 * Leniency, from real traffic: the request line "CONNECT host:port / HTTP/1.0" of old spam
 * tools (an extra token before the version; Zeek's connect-with-smtp trace) is read, and header
 * lines without a colon are skipped. Known limits: Digest, NTLM and Negotiate proxy logins are
 * not credentials read here (no cleartext secret); a tunnel whose handshake the capture missed
 * is never recognised (classification needs the client's first bytes).
 *
 * Proxy logins are read by httpauth (shared with the http parser): Basic, Digest, Bearer and
 * NTLM (its CHALLENGE from the 407's Proxy-Authenticate), recorded when the request's head ends
 * and settled by the answer: 2xx success, 407 failure. On the way to a mail server the
 * credential belongs to that session, named "HTTP-PROXY-" and the scheme; on the way anywhere
 * else (443, say) the proxy connection is an HTTP session of its own with that login (mechanism
 * "BASIC"...), so a proxy password is recorded wherever the tunnel leads, while the tunnel
 * itself is read only when it leads to a protocol of the registry. A request with more than one
 * Proxy-Authorization gives none (which one the proxy read cannot be told). */
#include "httpconnect.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "httpauth.h"
#include "ps.h"
#include "tunables.h"

#define HC_METHOD "CONNECT "
/* The mechanism names' prefix of a proxy login recorded in the session of another protocol. */
#define HC_PREFIX "HTTP-PROXY-"

enum hc_step {
    HC_C_REQUEST = 0, /* client: the CONNECT line and its header section */
    HC_S_RESPONSE,    /* proxy: the status line and its header section (1xx: again) */
    HC_TUNNEL,        /* the inner parser reads the rest */
    HC_DEAD,          /* not a tunnel to mail, or a broken handshake */
};

struct httpconnect {
    struct session *s;
    struct parse_stats *st;
    parse_lookup_fn *lookup;
    enum hc_step step;
    uint8_t q[2][HTTPCONNECT_MAX_HEAD]; /* each direction's bytes not yet taken by a step */
    size_t q_len[2];
    size_t line_off; /* in the current step's queue: where its next unread line starts */
    size_t n_lines;  /* lines of the current step's head read so far */
    uint16_t dst_port;
    unsigned status; /* the current answer's status code */
    /* The current answer's Content-Length (UINT64_MAX: none, or none that can be read) and
     * whether it is chunked: a 407's body must be skipped before the next answer. */
    uint64_t body_len;
    bool is_chunked;
    uint64_t skip; /* proxy bytes still to drop: the rest of a 407's body */
    /* The current request's Proxy-Authorization: how many, and the last one's value in the
     * client's queue (which holds the head until its empty line). */
    size_t n_auth, auth_off, auth_len;
    struct credential *cred;   /* borrowed from the session: the request's login, to settle */
    struct httpauth_ntlm ntlm; /* the proxy's NTLM challenge, from a 407 */
    struct parse_tunnel tunnel;
};

enum line_prefix httpconnect_opens(const uint8_t *p, size_t len)
{
    static const char method[] = HC_METHOD;
    size_t n = sizeof method - 1;
    for (size_t i = 0; i < n && i < len; i++) {
        if (p[i] != (uint8_t)method[i]) {
            return LINE_PREFIX_NO;
        }
    }
    return len < n ? LINE_PREFIX_SHORT : LINE_PREFIX_YES;
}

static void *hc_new(const struct parse_ctx *ctx)
{
    struct httpconnect *p = xcalloc(1, sizeof *p);
    p->s = ctx->s;
    p->st = ctx->st;
    p->lookup = ctx->lookup;
    p->step = HC_C_REQUEST;
    return p;
}

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* A host name or IPv4 address of a request target: letters, digits, '-', '.', '_'. */
static bool is_host(const uint8_t *h, size_t len)
{
    if (len == 0) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        uint8_t c = line_upper(h[i]);
        if (!is_digit(c) && !(c >= 'A' && c <= 'Z') && c != '-' && c != '.' && c != '_') {
            return false;
        }
    }
    return true;
}

/* A bracketed IPv6 literal's inside (RFC 3986 section 3.2.2, zone identifiers aside). */
static bool is_ipv6(const uint8_t *h, size_t len)
{
    if (len < 2) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        uint8_t c = line_upper(h[i]);
        if (!is_digit(c) && !(c >= 'A' && c <= 'F') && c != ':' && c != '.') {
            return false;
        }
    }
    return true;
}

/* The port of an authority t[0..len) ("host:port", "[v6]:port"): 1 to 65535, else 0. */
static uint16_t target_port(const uint8_t *t, size_t len)
{
    size_t colon;
    if (len > 0 && t[0] == '[') {
        const uint8_t *rb = memchr(t, ']', len);
        if (rb == NULL) {
            return 0;
        }
        colon = (size_t)(rb - t) + 1;
        if (!is_ipv6(t + 1, colon - 2) || colon >= len || t[colon] != ':') {
            return 0;
        }
    } else {
        colon = len;
        while (colon > 0 && t[colon - 1] != ':') {
            colon--;
        }
        if (colon == 0 || !is_host(t, colon - 1)) {
            return 0;
        }
        colon--;
    }
    size_t digits = len - colon - 1;
    if (digits == 0 || digits > 5) {
        return 0;
    }
    uint32_t port = 0;
    for (size_t i = colon + 1; i < len; i++) {
        if (!is_digit(t[i])) {
            return 0;
        }
        port = port * 10u + (uint32_t)(t[i] - '0');
    }
    return port >= 1 && port <= 65535 ? (uint16_t)port : 0;
}

/* "HTTP/1.x" at v[0..len): the only versions a CONNECT head is written in. */
static bool is_version(const uint8_t *v, size_t len)
{
    return len == 8 && memcmp(v, "HTTP/1.", 7) == 0 && is_digit(v[7]);
}

/* The request line l[0..len): "CONNECT" SP authority SP version, where old tools put an extra
 * token before the version. Sets dst_port; false when it is no CONNECT request to follow. */
static bool read_request_line(struct httpconnect *p, const uint8_t *l, size_t len)
{
    size_t m = sizeof HC_METHOD - 1;
    if (len < m || memcmp(l, HC_METHOD, m) != 0) {
        return false;
    }
    const uint8_t *t = l + m;
    size_t rest = len - m;
    const uint8_t *sp = memchr(t, ' ', rest);
    if (sp == NULL) {
        return false;
    }
    size_t t_len = (size_t)(sp - t);
    size_t v = len; /* the version: the line's last token */
    while (v > 0 && l[v - 1] != ' ') {
        v--;
    }
    if (!is_version(l + v, len - v)) {
        return false;
    }
    p->dst_port = target_port(t, t_len);
    if (p->dst_port != 0) {
        finding_set_context(p->s, FINDING_CONTEXT_PROXY_TARGET, t, t_len);
    }
    return p->dst_port != 0;
}

/* A header line h[0..len) of the request, at q_off in the client's queue: a Proxy-Authorization
 * is kept for the head's end. */
static void read_request_header(struct httpconnect *p, const uint8_t *h, size_t len, size_t q_off)
{
    size_t off = 0;
    if (httpauth_field(h, len, &off) == HTTPAUTH_F_PROXY_AUTHORIZATION) {
        p->n_auth++;
        p->auth_off = q_off + off;
        p->auth_len = len - off;
    }
}

/* The request's head is over: its login, if it shows one, into the session of the protocol the
 * client asked for (HC_PREFIX and the scheme), or of HTTP when that is HTTP or nothing the
 * registry knows. */
static void record_login(struct httpconnect *p)
{
    size_t n = p->n_auth;
    p->n_auth = 0;
    p->cred = NULL;
    if (n > 1) {
        p->st->httpconnect_bad_auth++;
    }
    if (n != 1) {
        return;
    }
    const char *name = NULL;
    bool is_tls = false;
    if (p->lookup == NULL || p->lookup(p->dst_port, &name, &is_tls) == NULL) {
        name = HTTPAUTH_PROTOCOL;
    }
    bool is_http = strcmp(name, HTTPAUTH_PROTOCOL) == 0;
    p->cred = httpauth_credential(p->s, p->st, is_http ? "" : HC_PREFIX, &p->ntlm,
                                  p->q[PARSE_DIR_CLIENT] + p->auth_off, p->auth_len);
    if (p->cred != NULL) {
        p->s->protocol = name;
    }
}

/* A header line h[0..len) of the answer: its body's framing. */
static void read_response_header(struct httpconnect *p, const uint8_t *h, size_t len)
{
    static const char cl[] = "CONTENT-LENGTH:";
    static const char te[] = "TRANSFER-ENCODING:";
    size_t off = 0;
    if (httpauth_field(h, len, &off) == HTTPAUTH_F_PROXY_AUTHENTICATE) {
        httpauth_challenge(&p->ntlm, h + off, len - off);
        return;
    }
    if (line_has_prefix(h, len, te)) {
        p->is_chunked = true; /* any coding but none: its end cannot be found by a count */
        return;
    }
    if (!line_has_prefix(h, len, cl)) {
        return;
    }
    off = sizeof cl - 1;
    while (off < len && (h[off] == ' ' || h[off] == '\t')) {
        off++;
    }
    uint64_t v = 0;
    size_t digits = 0;
    for (; off < len && is_digit(h[off]); off++, digits++) {
        if (v > (UINT64_MAX - 9) / 10) {
            p->body_len = UINT64_MAX;
            return;
        }
        v = v * 10u + (uint64_t)(h[off] - '0');
    }
    while (off < len && (h[off] == ' ' || h[off] == '\t')) {
        off++;
    }
    p->body_len = digits > 0 && off == len ? v : UINT64_MAX;
}

/* Drops up to p->skip bytes from the front of the proxy's queue. */
static void skip_queued(struct httpconnect *p)
{
    size_t *q_len = &p->q_len[PARSE_DIR_SERVER];
    size_t n = p->skip < *q_len ? (size_t)p->skip : *q_len;
    memmove(p->q[PARSE_DIR_SERVER], p->q[PARSE_DIR_SERVER] + n, *q_len - n);
    *q_len -= n;
    p->skip -= n;
}

/* The status line l[0..len): version SP 3DIGIT [SP reason]. Sets status; false when it is
 * none. */
static bool read_status_line(struct httpconnect *p, const uint8_t *l, size_t len)
{
    if (len < 12 || !is_version(l, 8) || l[8] != ' ' || !is_digit(l[9]) || !is_digit(l[10]) ||
        !is_digit(l[11]) || (len > 12 && l[12] != ' ')) {
        return false;
    }
    p->body_len = 0;
    p->is_chunked = false;
    p->status =
        (unsigned)(l[9] - '0') * 100u + (unsigned)(l[10] - '0') * 10u + (unsigned)(l[11] - '0');
    return true;
}

/* The request's login, settled by the proxy's answer. */
static void settle_login(struct httpconnect *p)
{
    httpauth_settle(p->cred, HTTPAUTH_F_PROXY_AUTHORIZATION, p->status);
    p->cred = NULL;
}

/* The proxy opened the tunnel: the parser of the destination's mail protocol takes over, or
 * the tunnel is not mail. */
static bool open_tunnel(struct httpconnect *p)
{
    if (!parse_tunnel_open(&p->tunnel, p->lookup, p->dst_port, p->s, p->st)) {
        p->st->httpconnect_not_mail++;
        return false;
    }
    p->st->httpconnect_tunnels++;
    p->step = HC_TUNNEL;
    return true;
}

/* The proxy answered 407 to a request to a mail port: its credential failed; the client may
 * ask again on this connection, once the answer's body has gone by. */
static void auth_refused(struct httpconnect *p)
{
    if (p->is_chunked || p->body_len == UINT64_MAX) {
        /* A body whose end we cannot count: the next answer cannot be found. */
        p->st->httpconnect_not_mail++;
        p->step = HC_DEAD;
        return;
    }
    p->skip = p->body_len;
    skip_queued(p);
    p->step = HC_C_REQUEST;
}

/* A complete head was read in the current step: where the handshake goes next. */
static void head_done(struct httpconnect *p)
{
    if (p->step == HC_C_REQUEST) {
        p->step = HC_S_RESPONSE;
        return;
    }
    if (p->status >= 100 && p->status < 200) {
        return; /* interim: the final answer follows */
    }
    settle_login(p);
    if (p->status >= 200 && p->status < 300) {
        if (!open_tunnel(p)) {
            p->step = HC_DEAD;
        }
        return;
    }
    if (p->status == 407) {
        auth_refused(p);
        return;
    }
    p->st->httpconnect_not_mail++;
    p->step = HC_DEAD;
}

/* The direction whose head the current step reads. */
static enum parse_dir step_dir(enum hc_step step)
{
    return step == HC_S_RESPONSE ? PARSE_DIR_SERVER : PARSE_DIR_CLIENT;
}

/* Reads the complete lines of the current step's queue: the start line, then headers up to
 * an empty line, which ends the head; its bytes leave the queue and the next step begins.
 * Loops while steps complete. */
static void advance(struct httpconnect *p)
{
    while (p->step < HC_TUNNEL) {
        enum parse_dir dir = step_dir(p->step);
        uint8_t *q = p->q[dir];
        size_t q_len = p->q_len[dir];
        const uint8_t *lf = memchr(q + p->line_off, '\n', q_len - p->line_off);
        if (lf == NULL) {
            if (q_len == sizeof p->q[dir]) {
                p->st->httpconnect_overlong++;
                p->step = HC_DEAD;
            }
            return;
        }
        const uint8_t *l = q + p->line_off;
        size_t next = (size_t)(lf - q) + 1;
        size_t len = (size_t)(lf - l);
        if (len > 0 && l[len - 1] == '\r') {
            len--;
        }
        p->line_off = next;
        bool is_first = p->n_lines++ == 0;
        if (is_first) {
            bool is_ok = p->step == HC_C_REQUEST ? read_request_line(p, l, len)
                                                 : read_status_line(p, l, len);
            if (!is_ok) {
                p->st->httpconnect_not_mail++;
                p->step = HC_DEAD;
                return;
            }
            continue;
        }
        if (len > 0) {
            if (p->step == HC_C_REQUEST) {
                read_request_header(p, l, len, (size_t)(l - q));
            } else {
                read_response_header(p, l, len);
            }
            continue;
        }
        /* The empty line: the head is over. */
        if (p->step == HC_C_REQUEST) {
            record_login(p); /* before the queue moves: the value lies in it */
        }
        memmove(q, q + next, q_len - next);
        p->q_len[dir] = q_len - next;
        p->line_off = 0;
        p->n_lines = 0;
        head_done(p);
    }
}

/* Hands dir's queued bytes to the inner parser. */
static enum parse_status drain(struct httpconnect *p, enum parse_dir dir)
{
    if (p->q_len[dir] == 0) {
        return PARSE_OK;
    }
    enum parse_status r = parse_tunnel_feed(&p->tunnel, dir, p->q[dir], p->q_len[dir]);
    p->q_len[dir] = 0;
    return r;
}

static enum parse_status hc_feed(void *vp, enum parse_dir dir, const uint8_t *data, size_t len,
                                 size_t *consumed)
{
    struct httpconnect *p = vp;
    *consumed = len;
    while (p->step < HC_TUNNEL && len > 0) {
        if (dir == PARSE_DIR_SERVER && p->skip > 0) {
            /* The rest of a 407's body, never queued. */
            size_t k = p->skip < len ? (size_t)p->skip : len;
            p->skip -= k;
            data += k;
            len -= k;
            continue;
        }
        /* Queue what fits and read what it completes; a full queue whose step does not come
         * (a client pipelining more than HTTPCONNECT_MAX_HEAD) is not followed. */
        size_t room = sizeof p->q[dir] - p->q_len[dir];
        if (room == 0) {
            p->st->httpconnect_overlong++;
            p->step = HC_DEAD;
            break;
        }
        size_t n = len < room ? len : room;
        if (dir == step_dir(p->step)) {
            /* A line at a time, so that a head ends at the same byte however the stream is
             * chunked: what follows it is the tunnel's, and must reach the inner parser after
             * the other direction's queued bytes, never before. */
            const uint8_t *lf = memchr(data, '\n', n);
            if (lf != NULL) {
                n = (size_t)(lf - data) + 1;
            }
        }
        memcpy(p->q[dir] + p->q_len[dir], data, n);
        p->q_len[dir] += n;
        data += n;
        len -= n;
        advance(p);
        if (p->step == HC_TUNNEL) {
            /* The client's bytes first, as flow hands them over at the end. */
            enum parse_status rc = drain(p, PARSE_DIR_CLIENT);
            enum parse_status rs = drain(p, PARSE_DIR_SERVER);
            if (rc == PARSE_ERROR || rs == PARSE_ERROR) {
                return PARSE_ERROR;
            }
            if (len == 0) {
                return dir == PARSE_DIR_CLIENT ? rc : rs;
            }
        }
    }
    if (p->step == HC_DEAD) {
        return PARSE_ERROR;
    }
    if (p->step != HC_TUNNEL) {
        return PARSE_NEED_MORE;
    }
    return parse_tunnel_feed(&p->tunnel, dir, data, len);
}

static void hc_gap(void *vp, enum parse_dir dir, uint64_t len)
{
    struct httpconnect *p = vp;
    if (p->step == HC_TUNNEL) {
        parse_tunnel_gap(&p->tunnel, dir, len);
        return;
    }
    if (p->step != HC_DEAD) {
        /* Lost handshake bytes cannot be told from the tunnel's own. */
        p->st->httpconnect_not_mail++;
        p->step = HC_DEAD;
    }
}

static void hc_end(void *vp)
{
    struct httpconnect *p = vp;
    if (p->tunnel.p == NULL && p->s->protocol != NULL &&
        strcmp(p->s->protocol, HTTPAUTH_PROTOCOL) == 0) {
        p->s->starttls = FINDING_STARTTLS_NA; /* the proxy's own HTTP session: no STARTTLS */
    }
    parse_tunnel_end(&p->tunnel);
}

static const struct parser_ops *hc_inner(void *vp, void **inner)
{
    struct httpconnect *p = vp;
    return parse_tunnel_inner(&p->tunnel, inner);
}

static void hc_free(void *vp)
{
    struct httpconnect *p = vp;
    if (p == NULL) {
        return;
    }
    parse_tunnel_free(&p->tunnel);
    explicit_bzero(p, sizeof *p);
    free(p);
}

const struct parser_ops httpconnect_parser_ops = {
    .name = "http-connect",
    .state_size = sizeof(struct httpconnect) + HTTPCONNECT_INNER_MAX_STATE,
    .has_client_text = true, /* until the tunnel opens; then the inner protocol's */
    .new_parser = hc_new,
    .feed = hc_feed,
    .gap = hc_gap,
    .end = hc_end,
    .free_parser = hc_free,
    .inner = hc_inner,
};
