/* socks.c - the SOCKS5 wrapper: unwraps a proxy connection to a mail server.
 *
 * RFC 1928 (greeting with the client's methods, the proxy's choice, the request with the
 * destination, the reply) and RFC 1929 (username/password sub-negotiation). The handshake is
 * strictly alternating, so it is read as one sequence of steps, each taking one message from
 * its direction's queue; a direction's bytes wait in its queue until their step comes, so the
 * capture order of the two directions does not matter. Only the methods "no authentication"
 * and "username/password" are followed; GSSAPI and private methods wrap the stream in their
 * own framing, which cannot be read. Once the proxy accepts a CONNECT to a mail port, the
 * protocol's own parser is made, exactly as classification by port would make it (implicit
 * TLS included): the lookup it was created with (the registry's) names it, so this file names
 * no other parser. Everything after the handshake goes to it. */
#include "socks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "ps.h"
#include "tunables.h"

#define SOCKS_VERSION      5u
#define SOCKS_AUTH_VERSION 1u /* RFC 1929's sub-negotiation version */
#define SOCKS_NO_AUTH      0x00u
#define SOCKS_USER_PASS    0x02u
#define SOCKS_NO_METHOD    0xffu
#define SOCKS_CMD_CONNECT  1u
#define SOCKS_ATYP_IPV4    1u
#define SOCKS_ATYP_DOMAIN  3u
#define SOCKS_ATYP_IPV6    4u
/* A greeting (version, count, methods) that fits the stream start classification reads. */
#define SOCKS_MAX_METHODS (CLASSIFY_PREFIX_LEN - 2u)

/* A client may send its greeting (255 methods at most), its RFC 1929 credentials (two fields
 * of 255 bytes) and its request (a 255-byte domain) before the proxy answers any. */
_Static_assert(SOCKS_MAX_HANDSHAKE >= (2 + 255) + (3 + 255 + 255) + (4 + 1 + 255 + 2),
               "a client's whole side of the handshake fits its queue");

enum socks_step {
    SOCKS_C_GREETING = 0, /* client: version, methods */
    SOCKS_S_METHOD,       /* proxy: the method chosen */
    SOCKS_C_AUTH,         /* client: username and password (method 2 only) */
    SOCKS_S_AUTH,         /* proxy: the verdict on them */
    SOCKS_C_REQUEST,      /* client: CONNECT and the destination */
    SOCKS_S_REPLY,        /* proxy: succeeded or not */
    SOCKS_TUNNEL,         /* the inner parser reads the rest */
    SOCKS_DEAD,           /* not a tunnel to mail, or a broken handshake */
};

struct socks {
    struct session *s;
    struct parse_stats *st;
    enum socks_step step;
    uint8_t method;
    uint8_t q[2][SOCKS_MAX_HANDSHAKE]; /* each direction's bytes not yet read */
    size_t q_len[2];
    uint8_t user[255], pass[255]; /* RFC 1929 fields, one length byte each */
    size_t user_len, pass_len;
    bool has_user_pass;
    uint16_t dst_port;
    parse_lookup_fn *lookup;
    struct parse_tunnel tunnel;
};

enum line_prefix socks_greeting(const uint8_t *p, size_t len)
{
    if (len >= 1 && p[0] != SOCKS_VERSION) {
        return LINE_PREFIX_NO;
    }
    if (len >= 2 && (p[1] == 0 || p[1] > SOCKS_MAX_METHODS)) {
        return LINE_PREFIX_NO;
    }
    size_t end = len >= 2 ? 2u + p[1] : 2u;
    for (size_t i = 2; i < end && i < len; i++) {
        if (p[i] == SOCKS_NO_METHOD) {
            return LINE_PREFIX_NO;
        }
    }
    return len < end ? LINE_PREFIX_SHORT : LINE_PREFIX_YES;
}

static void *socks_new(const struct parse_ctx *ctx)
{
    struct socks *p = xcalloc(1, sizeof *p);
    p->s = ctx->s;
    p->st = ctx->st;
    p->lookup = ctx->lookup;
    p->step = SOCKS_C_GREETING;
    return p;
}

/* Bytes of an address of type atyp whose first byte is at a (len bytes there); 0 when more
 * bytes are needed to tell, SIZE_MAX for an unknown type. */
static size_t addr_len(uint8_t atyp, const uint8_t *a, size_t len)
{
    switch (atyp) {
    case SOCKS_ATYP_IPV4:
        return 4;
    case SOCKS_ATYP_IPV6:
        return 16;
    case SOCKS_ATYP_DOMAIN:
        return len < 1 ? 0 : 1u + a[0];
    default:
        return SIZE_MAX;
    }
}

/* The length of the request or reply at m (len bytes): version, command or reply code,
 * reserved, address type, address, port. 0 until all of it is there, SIZE_MAX when it is
 * malformed. */
static size_t target_len(const uint8_t *m, size_t len)
{
    if (len < 4) {
        return 0;
    }
    if (m[0] != SOCKS_VERSION) {
        return SIZE_MAX;
    }
    size_t a = addr_len(m[3], m + 4, len - 4);
    if (a == SIZE_MAX || a == 0) {
        return a;
    }
    return len < 4 + a + 2 ? 0 : 4 + a + 2;
}

/* Records the host:port of the CONNECT request m (n bytes, whole) as the session's proxy
 * target: a domain as sent, an address as text ("[2001:db8::1]:143" for IPv6). */
static void set_target(struct socks *p, const uint8_t *m, size_t n)
{
    char text[FINDING_MAX_CONTEXT + 16]; /* a domain (255 bytes) or an address, and the port */
    size_t a = n - 6;                    /* the address, its length byte included */
    size_t off = 0;
    if (m[3] == SOCKS_ATYP_DOMAIN) {
        memcpy(text, m + 5, a - 1); /* bytes as sent: finding escapes them */
        off = a - 1;
    } else {
        uint8_t ip[16] = { 0 };
        char buf[48];
        memcpy(ip, m + 4, a);
        finding_format_ip(a == 4 ? 4 : 6, ip, buf, sizeof buf);
        int k = snprintf(text, sizeof text, a == 4 ? "%s" : "[%s]", buf);
        off = k > 0 ? (size_t)k : 0;
    }
    int k = snprintf(text + off, sizeof text - off, ":%u", (unsigned)p->dst_port);
    if (k > 0) {
        finding_set_context(p->s, FINDING_CONTEXT_PROXY_TARGET, (const uint8_t *)text,
                            off + (size_t)k);
    }
}

/* Reads the message of the current step from m (len bytes). Returns its length, 0 when more
 * bytes are needed, SIZE_MAX when the handshake is not one to follow. */
static size_t step_once(struct socks *p, const uint8_t *m, size_t len)
{
    size_t n;
    switch (p->step) {
    case SOCKS_C_GREETING:
        if (len < 2) {
            return 0;
        }
        if (m[0] != SOCKS_VERSION || m[1] == 0) {
            return SIZE_MAX;
        }
        return len < 2u + m[1] ? 0 : 2u + m[1];
    case SOCKS_S_METHOD:
        if (len < 2) {
            return 0;
        }
        if (m[0] != SOCKS_VERSION || (m[1] != SOCKS_NO_AUTH && m[1] != SOCKS_USER_PASS)) {
            return SIZE_MAX;
        }
        p->method = m[1];
        return 2;
    case SOCKS_C_AUTH:
        if (len < 2) {
            return 0;
        }
        if (m[0] != SOCKS_AUTH_VERSION) {
            return SIZE_MAX;
        }
        n = 2u + m[1]; /* up to the password's length byte */
        if (len < n + 1 || len < n + 1 + m[n]) {
            return 0;
        }
        p->user_len = m[1];
        memcpy(p->user, m + 2, p->user_len);
        p->pass_len = m[n];
        memcpy(p->pass, m + n + 1, p->pass_len);
        p->has_user_pass = true;
        return n + 1 + m[n];
    case SOCKS_S_AUTH:
        if (len < 2) {
            return 0;
        }
        /* A refusal ends the connection: no tunnel follows. */
        return m[0] == SOCKS_AUTH_VERSION && m[1] == 0 ? 2 : SIZE_MAX;
    case SOCKS_C_REQUEST:
        n = target_len(m, len);
        if (n == 0 || n == SIZE_MAX) {
            return n;
        }
        if (m[1] != SOCKS_CMD_CONNECT) {
            return SIZE_MAX;
        }
        p->dst_port = (uint16_t)((uint16_t)m[n - 2] << 8 | m[n - 1]);
        set_target(p, m, n);
        return n;
    case SOCKS_S_REPLY:
        n = target_len(m, len);
        if (n == 0 || n == SIZE_MAX) {
            return n;
        }
        return m[1] == 0 ? n : SIZE_MAX;
    case SOCKS_TUNNEL:
    case SOCKS_DEAD:
        break;
    }
    return SIZE_MAX;
}

/* The direction whose message the current step reads. */
static enum parse_dir step_dir(enum socks_step step)
{
    return step == SOCKS_S_METHOD || step == SOCKS_S_AUTH || step == SOCKS_S_REPLY
               ? PARSE_DIR_SERVER
               : PARSE_DIR_CLIENT;
}

/* The proxy accepted: the parser of the destination's mail protocol takes over, or the
 * tunnel is not mail. */
static bool open_tunnel(struct socks *p)
{
    if (!parse_tunnel_open(&p->tunnel, p->lookup, p->dst_port, p->s, p->st)) {
        p->st->socks_not_mail++;
        return false;
    }
    p->st->socks_tunnels++;
    if (p->has_user_pass) {
        struct credential *c = finding_add_credential(p->s, "SOCKS5");
        if (c != NULL) {
            finding_set_username(c, p->user, p->user_len);
            finding_set_secret(c, p->pass, p->pass_len);
            c->result = FINDING_RESULT_SUCCESS; /* the proxy said yes (SOCKS_S_AUTH) */
        }
    }
    p->step = SOCKS_TUNNEL;
    return true;
}

/* Takes the messages of as many steps as the queues hold. */
static void advance(struct socks *p)
{
    while (p->step < SOCKS_TUNNEL) {
        enum parse_dir dir = step_dir(p->step);
        size_t n = step_once(p, p->q[dir], p->q_len[dir]);
        if (n == 0) {
            return;
        }
        if (n == SIZE_MAX) {
            p->st->socks_not_mail++;
            p->step = SOCKS_DEAD;
            return;
        }
        memmove(p->q[dir], p->q[dir] + n, p->q_len[dir] - n);
        p->q_len[dir] -= n;
        if (p->step == SOCKS_S_METHOD && p->method == SOCKS_NO_AUTH) {
            p->step = SOCKS_C_REQUEST;
        } else if (p->step == SOCKS_S_REPLY) {
            if (!open_tunnel(p)) {
                p->step = SOCKS_DEAD;
            }
            return;
        } else {
            p->step++;
        }
    }
}

/* Hands dir's queued bytes to the inner parser. */
static enum parse_status drain(struct socks *p, enum parse_dir dir)
{
    if (p->q_len[dir] == 0) {
        return PARSE_OK;
    }
    enum parse_status r = parse_tunnel_feed(&p->tunnel, dir, p->q[dir], p->q_len[dir]);
    p->q_len[dir] = 0;
    return r;
}

static enum parse_status socks_feed(void *vp, enum parse_dir dir, const uint8_t *data, size_t len,
                                    size_t *consumed)
{
    struct socks *p = vp;
    *consumed = len;
    while (p->step < SOCKS_TUNNEL && len > 0) {
        /* Queue what fits and read what it completes; a queue full of bytes whose step does
         * not come is no handshake this parser follows. How the bytes are chunked changes
         * nothing: every message is read as soon as it is whole. */
        size_t room = sizeof p->q[dir] - p->q_len[dir];
        if (room == 0) {
            p->st->socks_not_mail++;
            p->step = SOCKS_DEAD;
            break;
        }
        size_t n = len < room ? len : room;
        memcpy(p->q[dir] + p->q_len[dir], data, n);
        p->q_len[dir] += n;
        data += n;
        len -= n;
        advance(p);
        if (p->step == SOCKS_TUNNEL) {
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
    if (p->step == SOCKS_DEAD) {
        return PARSE_ERROR;
    }
    if (p->step != SOCKS_TUNNEL) {
        return PARSE_NEED_MORE;
    }
    return parse_tunnel_feed(&p->tunnel, dir, data, len);
}

static void socks_gap(void *vp, enum parse_dir dir, uint64_t len)
{
    struct socks *p = vp;
    if (p->step == SOCKS_TUNNEL) {
        parse_tunnel_gap(&p->tunnel, dir, len);
        return;
    }
    if (p->step != SOCKS_DEAD) {
        /* Lost handshake bytes cannot be told from the tunnel's own. */
        p->st->socks_not_mail++;
        p->step = SOCKS_DEAD;
    }
}

static void socks_end(void *vp)
{
    struct socks *p = vp;
    parse_tunnel_end(&p->tunnel);
}

static const struct parser_ops *socks_inner(void *vp, void **inner)
{
    struct socks *p = vp;
    return parse_tunnel_inner(&p->tunnel, inner);
}

static void socks_free(void *vp)
{
    struct socks *p = vp;
    if (p == NULL) {
        return;
    }
    parse_tunnel_free(&p->tunnel);
    explicit_bzero(p, sizeof *p);
    free(p);
}

const struct parser_ops socks_parser_ops = {
    .name = "socks5",
    .state_size = sizeof(struct socks) + SOCKS_INNER_MAX_STATE,
    .has_client_text = true, /* until the tunnel opens; then the inner protocol's */
    .new_parser = socks_new,
    .feed = socks_feed,
    .gap = socks_gap,
    .end = socks_end,
    .free_parser = socks_free,
    .inner = socks_inner,
};
