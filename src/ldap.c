/* ldap.c - the LDAP parser: simple and SASL binds, their results, StartTLS and the TLS version.
 *
 * RFC 4511 (LDAPv3: LDAPMessage, BindRequest, BindResponse, ExtendedRequest and Response, the
 * StartTLS operation of section 4.14), RFC 4513 (simple authentication with its anonymous and
 * unauthenticated binds, section 5.1; SASL, section 5.2), X.690 BER as RFC 4511 section 5.1
 * restricts it (definite lengths only). The SASL mechanisms are read by sasl.c.
 *
 * Each direction is a series of LDAPMessages, SEQUENCE { messageID, protocolOp, controls }.
 * Only the header of each is read (the SEQUENCE's tag and length, the messageID, the
 * operation's tag and length, at most LDAP_HEAD_MAX bytes, kept inline); the operation is read
 * only when it is a BindRequest, an ExtendedRequest, a BindResponse or an ExtendedResponse no
 * longer than LDAP_MAX_MESSAGE, and every other byte is counted off by its BER length, so a
 * search result of any size costs nothing. An operation that arrives in one piece is read
 * where it lies; one spread over segments is gathered in a buffer allocated for it and freed
 * (wiped) once read. Nothing of searches, modifications or other extended operations is read.
 *
 * A response answers the request with its messageID (section 4.1.1.1), so binds and StartTLS
 * pair with their results by id, not by order. A simple bind (section 4.2, [0] password) is a
 * credential "SIMPLE" with the bind DN as the user: resultCode 0 is success, 49
 * (invalidCredentials) and every other failure code a failure, a referral (10) leaves it
 * unknown. An empty DN with an empty password is an anonymous bind, a DN with an empty password
 * an unauthenticated one (RFC 4513 sections 5.1.1 and 5.1.2): both are flagged anonymous and
 * carry no secret. A SASL bind ([3] SaslCredentials) starts an exchange with its mechanism and
 * credentials (the initial response, when present); saslBindInProgress (14) carries the
 * server's challenge in serverSaslCreds, and the client's next bind of the same mechanism is
 * the exchange's next message. sasl.c reads base64 lines, so the raw OCTET STRINGs are encoded
 * for it here. EXTERNAL and GSSAPI show no secret.
 *
 * StartTLS (OID 1.3.6.1.4.1.1466.20037) answered success upgrades the session: the server's
 * bytes then go to the TLS sniffer, and requests the client sends before its handshake are
 * counted as injected. Any other resultCode means refused. LDAP advertises StartTLS only in the
 * root DSE, a search result this parser never reads, so the posture is unknown (null) unless
 * the client asked. Port 636 (LDAPS), or a client that opens with a TLS record, is implicit TLS.
 *
 * A header that is not a strict LDAPMessage (another tag, an indefinite or overlong length, a
 * messageID of more than four bytes or negative, an operation tag LDAP does not define, an
 * operation longer than its SEQUENCE) at the start of a direction whose first byte the capture
 * saw means the stream is not LDAP; later, the direction's framing is lost (counted) and its
 * bytes are ignored up to the next gap. A gap inside a message keeps the framing (its end is
 * known; an operation that lost bytes is not read); after any other gap the next byte must
 * begin a message, or the direction stays lost. A gap ends a SASL exchange in progress with
 * its outcome unknown.
 *
 * Known limits: a capture begun mid-message reads nothing of that direction until a gap puts
 * it back at a message boundary. A bind longer than LDAP_MAX_MESSAGE is skipped unread (a
 * GSSAPI token with a large ticket; counted), its response then settles nothing. */
#include "ldap.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "ps.h"
#include "rd.h"
#include "sasl.h"
#include "tlssniff.h"
#include "tunables.h"

/* BER tags (X.690 section 8) and LDAP's (RFC 4511 appendix B). */
#define LDAP_TAG_INTEGER    0x02u
#define LDAP_TAG_OCTETS     0x04u
#define LDAP_TAG_ENUMERATED 0x0au
#define LDAP_TAG_SEQUENCE   0x30u
#define LDAP_TAG_HIGH       0x1fu /* low bits of a tag whose number follows in more bytes */
#define LDAP_OP_BIND_REQ    0x60u /* [APPLICATION 0] */
#define LDAP_OP_BIND_RESP   0x61u
#define LDAP_OP_SEARCH_REQ  0x63u
#define LDAP_OP_EXT_REQ     0x77u /* [APPLICATION 23] */
#define LDAP_OP_EXT_RESP    0x78u
#define LDAP_AUTH_SIMPLE    0x80u /* [0] OCTET STRING */
#define LDAP_AUTH_SASL      0xa3u /* [3] SaslCredentials */
#define LDAP_SASL_CREDS     0x87u /* serverSaslCreds [7] */
#define LDAP_EXT_NAME       0x80u /* requestName [0] */
#define LDAP_EXT_RESP_NAME  0x8au /* responseName [10] */
/* resultCode values (RFC 4511 section 4.1.9). */
#define LDAP_RC_SUCCESS     0u
#define LDAP_RC_REFERRAL    10u
#define LDAP_RC_IN_PROGRESS 14u
/* Length octets of a long-form length we read: 4 covers every length a 32-bit maxInt allows
 * (RFC 4511 section 4.1.1), which is what real encoders emit at most (OpenLDAP: 0x84). */
#define LDAP_MAX_LEN_OCTETS 4u
/* The longest header: SEQUENCE tag and length (1 + 5), messageID (2 + 4), operation tag and
 * length (1 + 5). */
#define LDAP_HEAD_MAX 18u

static const char ldap_starttls_oid[] = "1.3.6.1.4.1.1466.20037";

enum ldap_step {
    LDAP_HEAD = 0, /* reading a message's header */
    LDAP_BODY,     /* gathering an operation to read */
    LDAP_SKIP,     /* counting off bytes not read */
    LDAP_LOST,     /* framing lost: ignored up to the next gap */
};

enum ldap_phase {
    LDAP_CLEAR = 0, /* cleartext messages */
    LDAP_TLS_WAIT,  /* StartTLS requested, its response not seen yet */
    LDAP_TLS,       /* TLS: server bytes to the sniffer */
};

enum ldap_kind {
    LDAP_K_SIMPLE = 0, /* a simple bind: cred, when one was added */
    LDAP_K_SASL,       /* a SASL bind: the exchange */
    LDAP_K_STARTTLS,
    LDAP_K_UNREAD, /* a bind not read (too long, malformed): its response settles nothing */
};

/* A message's header (head_parse). */
struct ldap_head {
    size_t len;    /* bytes of the header */
    uint32_t id;   /* messageID */
    uint8_t op;    /* the operation's tag */
    size_t op_len; /* the operation's content */
    size_t rest;   /* bytes after the operation (controls) */
};

struct ldap_side {
    enum ldap_step step;
    uint8_t head[LDAP_HEAD_MAX];
    size_t head_len;
    struct ldap_head h; /* the message being read */
    uint8_t *buf;       /* owned: h.op_len bytes while gathering, else NULL */
    size_t buf_len;
    uint64_t skip;    /* bytes left to count off */
    bool has_message; /* a header was read in this direction */
    bool is_at_gap;   /* a gap came, and no header has been read since: the one after it must
                         begin a message */
};

struct ldap_pending {
    uint32_t id;
    enum ldap_kind kind;
    struct credential *cred; /* borrowed from the session; simple binds */
};

struct ldap {
    struct session *s;
    struct parse_stats *st;
    struct ldap_side side[2];
    struct ldap_pending q[PARSE_MAX_PENDING];
    struct parse_ring ring; /* the indexes of q */
    enum ldap_phase phase;
    bool is_midstream;
    bool is_client_tls;   /* the client's bytes are TLS now */
    bool is_refused;      /* StartTLS answered with an error */
    bool is_sasl_waiting; /* saslBindInProgress: the next bind of the mechanism goes on */
    struct sasl sasl;
    struct tlssniff_leg tls; /* after StartTLS, or from the start on implicit TLS */
};

static void *ldap_new(const struct parse_ctx *ctx)
{
    struct ldap *p = xcalloc(1, sizeof *p);
    p->s = ctx->s;
    p->st = ctx->st;
    p->is_midstream = (ctx->flags & PARSE_F_MIDSTREAM) != 0;
    if (p->is_midstream) {
        /* The first byte seen is likely inside a message: nothing to frame on. */
        p->side[0].step = LDAP_LOST;
        p->side[1].step = LDAP_LOST;
    }
    if ((ctx->flags & PARSE_F_IMPLICIT_TLS) != 0) {
        p->phase = LDAP_TLS;
        p->is_client_tls = true;
    }
    return p;
}

/* ---- BER ---- */

/* A definite length (X.690 section 8.1.3): short form, or long form of 1 to
 * LDAP_MAX_LEN_OCTETS octets. False for the indefinite form (RFC 4511 section 5.1 forbids it)
 * and longer forms; too few bytes set r->bad. */
static bool ber_len(struct rd *r, size_t *len)
{
    uint8_t b = rd_u8(r);
    if (b < 0x80) {
        *len = b;
        return true;
    }
    size_t n = b & 0x7fu;
    if (n == 0 || n > LDAP_MAX_LEN_OCTETS) {
        return false;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        v = v << 8 | rd_u8(r);
    }
    *len = (size_t)v; /* at most 2^32 - 1 */
    return true;
}

/* One element whose bytes are all there: its tag, a single byte (no high tag numbers, which
 * LDAP does not use), and its content. False when malformed or cut. */
static bool ber_tlv(struct rd *r, uint8_t *tag, const uint8_t **val, size_t *len)
{
    *tag = rd_u8(r);
    if ((*tag & LDAP_TAG_HIGH) == LDAP_TAG_HIGH) {
        return false;
    }
    if (!ber_len(r, len) || r->bad) {
        return false;
    }
    *val = rd_take(r, *len);
    return *val != NULL;
}

/* A non-negative INTEGER or ENUMERATED content of 1 to 4 bytes (RFC 4511: messageID and
 * resultCode fit 0 .. maxInt). */
static bool ber_uint(const uint8_t *v, size_t len, uint32_t *out)
{
    if (len == 0 || len > 4 || (v[0] & 0x80u) != 0) {
        return false;
    }
    uint32_t x = 0;
    for (size_t i = 0; i < len; i++) {
        x = x << 8 | v[i];
    }
    *out = x;
    return true;
}

/* Is op one of the protocolOp tags of RFC 4511 section 4.2 to 4.14 and 4.13 (with its
 * constructed bit as defined: UnbindRequest, DelRequest and AbandonRequest are primitive)? */
static bool is_op(uint8_t op)
{
    static const uint8_t ops[] = { 0x60, 0x61, 0x42, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x4a,
                                   0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x50, 0x73, 0x77, 0x78, 0x79 };
    for (size_t i = 0; i < sizeof ops; i++) {
        if (ops[i] == op) {
            return true;
        }
    }
    return false;
}

enum ldap_head_status {
    LDAP_HEAD_MORE = 0, /* a proper prefix of a header: more bytes needed */
    LDAP_HEAD_OK,
    LDAP_HEAD_BAD, /* no LDAPMessage begins here */
};

/* Reads an LDAPMessage header from p[0..len): SEQUENCE, messageID, operation tag and length,
 * each checked against what encloses it. */
static enum ldap_head_status head_parse(const uint8_t *p, size_t len, struct ldap_head *h)
{
    struct rd r = rd_make(p, len);
    size_t seq_len = 0, id_len = 0;
    if (rd_u8(&r) != LDAP_TAG_SEQUENCE && !r.bad) {
        return LDAP_HEAD_BAD;
    }
    if (!ber_len(&r, &seq_len) && !r.bad) {
        return LDAP_HEAD_BAD;
    }
    size_t seq_start = r.off;
    if (rd_u8(&r) != LDAP_TAG_INTEGER && !r.bad) {
        return LDAP_HEAD_BAD;
    }
    if ((!ber_len(&r, &id_len) || id_len == 0 || id_len > 4) && !r.bad) {
        return LDAP_HEAD_BAD;
    }
    const uint8_t *id = rd_take(&r, r.bad ? 0 : id_len);
    if (id != NULL && !ber_uint(id, id_len, &h->id)) {
        return LDAP_HEAD_BAD;
    }
    h->op = rd_u8(&r);
    if (!r.bad && !is_op(h->op)) {
        return LDAP_HEAD_BAD;
    }
    if (!ber_len(&r, &h->op_len) && !r.bad) {
        return LDAP_HEAD_BAD;
    }
    if (r.bad) {
        return LDAP_HEAD_MORE;
    }
    size_t used = r.off - seq_start; /* messageID and operation header, inside the SEQUENCE */
    if (used > seq_len || h->op_len > seq_len - used) {
        return LDAP_HEAD_BAD;
    }
    h->len = r.off;
    h->rest = seq_len - used - h->op_len;
    return LDAP_HEAD_OK;
}

enum line_prefix ldap_opens(const uint8_t *p, size_t len)
{
    struct ldap_head h;
    switch (head_parse(p, len, &h)) {
    case LDAP_HEAD_BAD:
        return LINE_PREFIX_NO;
    case LDAP_HEAD_MORE:
        return len < CLASSIFY_PREFIX_LEN ? LINE_PREFIX_SHORT : LINE_PREFIX_NO;
    case LDAP_HEAD_OK:
        break;
    }
    /* messageID 0 is for unsolicited notifications from the server (section 4.1.1.1). A client
     * opens with a bind, a search (of the root DSE) or an extended request (StartTLS), whose
     * content begins with the version INTEGER, the base DN OCTET STRING or the requestName. */
    uint8_t first;
    if (h.id == 0) {
        return LINE_PREFIX_NO;
    }
    if (h.op == LDAP_OP_BIND_REQ) {
        first = LDAP_TAG_INTEGER;
    } else if (h.op == LDAP_OP_SEARCH_REQ) {
        first = LDAP_TAG_OCTETS;
    } else if (h.op == LDAP_OP_EXT_REQ) {
        first = LDAP_EXT_NAME;
    } else {
        return LINE_PREFIX_NO;
    }
    if (h.op_len == 0) {
        return LINE_PREFIX_NO;
    }
    if (len == h.len) {
        return len < CLASSIFY_PREFIX_LEN ? LINE_PREFIX_SHORT : LINE_PREFIX_NO;
    }
    return p[h.len] == first ? LINE_PREFIX_YES : LINE_PREFIX_NO;
}

/* ---- pending requests ---- */

static void push(struct ldap *p, uint32_t id, enum ldap_kind kind, struct credential *cred)
{
    size_t slot = parse_ring_push(&p->ring, p->st);
    if (slot == PARSE_MAX_PENDING) {
        return; /* its response will pair with nothing: outcome stays unknown */
    }
    p->q[slot].id = id;
    p->q[slot].kind = kind;
    p->q[slot].cred = cred;
}

/* The pending request with messageID id, taken off the ring with every older one (a client
 * waits for a bind's or StartTLS's response before it sends more, section 4.2.1, so an older
 * one was answered in bytes we did not see); NULL when none has that id. */
static const struct ldap_pending *take(struct ldap *p, uint32_t id)
{
    for (size_t i = 0; i < p->ring.len; i++) {
        if (p->q[(p->ring.head + i) % PARSE_MAX_PENDING].id != id) {
            continue;
        }
        size_t slot = PARSE_MAX_PENDING;
        for (size_t k = 0; k <= i; k++) {
            slot = parse_ring_pop(&p->ring);
        }
        return slot < PARSE_MAX_PENDING ? &p->q[slot] : NULL;
    }
    return NULL;
}

/* ---- SASL ---- */

/* RFC 4648 base64 of in[0..len) into out (4 * ceil(len / 3) bytes); returns its length. */
static size_t b64_encode(const uint8_t *in, size_t len, uint8_t *out)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len) {
            v |= (uint32_t)in[i + 1] << 8;
        }
        if (i + 2 < len) {
            v |= in[i + 2];
        }
        out[o++] = (uint8_t)abc[v >> 18 & 63u];
        out[o++] = (uint8_t)abc[v >> 12 & 63u];
        out[o++] = i + 1 < len ? (uint8_t)abc[v >> 6 & 63u] : '=';
        out[o++] = i + 2 < len ? (uint8_t)abc[v & 63u] : '=';
    }
    return o;
}

/* The raw SASL message m[0..n) as the base64 sasl.c reads, into out (LINE_MAX_LEN bytes).
 * False when it is longer than sasl.c decodes (counted). */
static bool sasl_b64(struct ldap *p, const uint8_t *m, size_t n, uint8_t *out, size_t *out_len)
{
    if (n > LINE_MAX_LEN / 4 * 3) {
        p->st->ldap_overlong++;
        return false;
    }
    *out_len = b64_encode(m, n, out);
    return true;
}

/* A SASL bind: mechanism mech, credentials cred (has_cred: present). */
static void sasl_bind(struct ldap *p, const uint8_t *mech, size_t mech_len, const uint8_t *cred,
                      size_t cred_len, bool has_cred)
{
    uint8_t b64[LINE_MAX_LEN];
    size_t b64_len = 0;
    bool is_readable = !has_cred || sasl_b64(p, cred, cred_len, b64, &b64_len);
    bool is_same = p->sasl.is_active && p->is_sasl_waiting && strlen(p->sasl.name) == mech_len;
    for (size_t i = 0; is_same && i < mech_len; i++) {
        is_same = (uint8_t)p->sasl.name[i] == line_upper(mech[i]);
    }
    p->is_sasl_waiting = false;
    if (is_same) {
        /* The exchange's next message (RFC 4513 section 5.2.1.2); absent credentials are an
         * empty message. */
        if (is_readable) {
            sasl_client(&p->sasl, b64, b64_len);
        }
    } else {
        sasl_abort(&p->sasl); /* a new bind ends an exchange in progress (RFC 4513 5.2.1.2) */
        sasl_start(&p->sasl, p->s, p->st, mech, mech_len, b64, b64_len, has_cred && is_readable);
    }
    explicit_bzero(b64, b64_len);
}

/* ---- the client's requests ---- */

/* A simple bind: name (the DN) and password. */
static struct credential *simple_bind(struct ldap *p, const uint8_t *name, size_t name_len,
                                      const uint8_t *pw, size_t pw_len)
{
    sasl_abort(&p->sasl);
    p->is_sasl_waiting = false;
    struct credential *c = finding_add_credential(p->s, "SIMPLE");
    if (c == NULL) {
        p->st->creds_dropped++;
        return NULL;
    }
    if (name_len > 0) {
        finding_set_username(c, name, name_len);
    }
    if (pw_len == 0) {
        finding_set_anonymous(c); /* anonymous or unauthenticated: no secret (RFC 4513 5.1) */
    } else {
        finding_set_secret(c, pw, pw_len);
    }
    return c;
}

/* A BindRequest's content (section 4.2): version, name, authentication choice. */
static void bind_request(struct ldap *p, uint32_t id, const uint8_t *body, size_t len)
{
    struct rd r = rd_make(body, len);
    uint8_t tag, auth;
    const uint8_t *v, *name, *a;
    size_t v_len, name_len, a_len;
    if (!ber_tlv(&r, &tag, &v, &v_len) || tag != LDAP_TAG_INTEGER ||
        !ber_tlv(&r, &tag, &name, &name_len) || tag != LDAP_TAG_OCTETS ||
        !ber_tlv(&r, &auth, &a, &a_len)) {
        p->st->ldap_bad_ber++;
        push(p, id, LDAP_K_UNREAD, NULL);
        return;
    }
    if (auth == LDAP_AUTH_SIMPLE) {
        push(p, id, LDAP_K_SIMPLE, simple_bind(p, name, name_len, a, a_len));
        return;
    }
    struct rd sr = rd_make(a, a_len);
    const uint8_t *mech, *cred = NULL;
    size_t mech_len, cred_len = 0;
    if (auth != LDAP_AUTH_SASL || !ber_tlv(&sr, &tag, &mech, &mech_len) || tag != LDAP_TAG_OCTETS) {
        p->st->ldap_bad_ber++; /* a SASL bind without a mechanism, or a reserved choice */
        push(p, id, LDAP_K_UNREAD, NULL);
        return;
    }
    bool has_cred = rd_left(&sr) > 0;
    if (has_cred && (!ber_tlv(&sr, &tag, &cred, &cred_len) || tag != LDAP_TAG_OCTETS)) {
        p->st->ldap_bad_ber++;
        push(p, id, LDAP_K_UNREAD, NULL);
        return;
    }
    sasl_bind(p, mech, mech_len, cred, cred_len, has_cred);
    push(p, id, LDAP_K_SASL, NULL);
}

/* An ExtendedRequest (section 4.12): StartTLS is the only one read. */
static void ext_request(struct ldap *p, uint32_t id, const uint8_t *body, size_t len)
{
    struct rd r = rd_make(body, len);
    uint8_t tag;
    const uint8_t *oid;
    size_t oid_len;
    if (!ber_tlv(&r, &tag, &oid, &oid_len) || tag != LDAP_EXT_NAME) {
        p->st->ldap_bad_ber++;
        return;
    }
    if (oid_len == sizeof ldap_starttls_oid - 1 &&
        memcmp(oid, ldap_starttls_oid, sizeof ldap_starttls_oid - 1) == 0) {
        p->phase = LDAP_TLS_WAIT;
        push(p, id, LDAP_K_STARTTLS, NULL);
    }
}

/* ---- the server's responses ---- */

static enum finding_result result_of(uint32_t code)
{
    if (code == LDAP_RC_SUCCESS) {
        return FINDING_RESULT_SUCCESS;
    }
    /* A referral sends the client elsewhere: the server did not judge the bind. */
    return code == LDAP_RC_REFERRAL ? FINDING_RESULT_UNKNOWN : FINDING_RESULT_FAILURE;
}

/* An LDAPResult's resultCode, and the element with tag want after its fields, if present
 * (serverSaslCreds of a BindResponse). False when malformed. */
static bool ldap_result(const uint8_t *body, size_t len, uint32_t *code, uint8_t want,
                        const uint8_t **extra, size_t *extra_len)
{
    struct rd r = rd_make(body, len);
    uint8_t tag;
    const uint8_t *v, *dn, *msg;
    size_t v_len, dn_len, msg_len;
    if (!ber_tlv(&r, &tag, &v, &v_len) || tag != LDAP_TAG_ENUMERATED || !ber_uint(v, v_len, code) ||
        !ber_tlv(&r, &tag, &dn, &dn_len) || tag != LDAP_TAG_OCTETS ||
        !ber_tlv(&r, &tag, &msg, &msg_len) || tag != LDAP_TAG_OCTETS) {
        return false;
    }
    *extra = NULL;
    *extra_len = 0;
    while (rd_left(&r) > 0) {
        const uint8_t *e;
        size_t e_len;
        if (!ber_tlv(&r, &tag, &e, &e_len)) {
            return false;
        }
        if (tag == want) {
            *extra = e;
            *extra_len = e_len;
        }
    }
    return true;
}

static void sasl_response(struct ldap *p, uint32_t code, const uint8_t *creds, size_t creds_len)
{
    if (code != LDAP_RC_IN_PROGRESS) {
        if (code == LDAP_RC_REFERRAL) {
            sasl_abort(&p->sasl);
        } else {
            sasl_finish(&p->sasl, code == LDAP_RC_SUCCESS);
        }
        return;
    }
    uint8_t b64[LINE_MAX_LEN];
    size_t b64_len = 0;
    if (creds == NULL || sasl_b64(p, creds, creds_len, b64, &b64_len)) {
        sasl_server(&p->sasl, b64, b64_len);
    }
    explicit_bzero(b64, b64_len);
    p->is_sasl_waiting = p->sasl.is_active;
}

static void bind_response(struct ldap *p, uint32_t id, const uint8_t *body, size_t len)
{
    uint32_t code;
    const uint8_t *creds;
    size_t creds_len;
    if (!ldap_result(body, len, &code, LDAP_SASL_CREDS, &creds, &creds_len)) {
        p->st->ldap_bad_ber++;
        return;
    }
    const struct ldap_pending *e = take(p, id);
    if (e == NULL) {
        return;
    }
    if (e->kind == LDAP_K_SIMPLE && e->cred != NULL) {
        e->cred->result = result_of(code);
    } else if (e->kind == LDAP_K_SASL) {
        sasl_response(p, code, creds, creds_len);
    }
}

static void ext_response(struct ldap *p, uint32_t id, const uint8_t *body, size_t len)
{
    uint32_t code;
    const uint8_t *name;
    size_t name_len;
    if (id == 0) {
        return; /* an unsolicited notification (section 4.4), such as Notice of Disconnection */
    }
    if (!ldap_result(body, len, &code, LDAP_EXT_RESP_NAME, &name, &name_len)) {
        p->st->ldap_bad_ber++;
        return;
    }
    const struct ldap_pending *e = take(p, id);
    if (e == NULL || e->kind != LDAP_K_STARTTLS) {
        return;
    }
    if (code == LDAP_RC_SUCCESS) {
        finding_set_upgraded(p->s);
        p->phase = LDAP_TLS; /* what follows is TLS */
        return;
    }
    p->is_refused = true;
    if (p->phase == LDAP_TLS_WAIT) {
        p->phase = LDAP_CLEAR;
    }
}

/* ---- framing ---- */

/* Is the operation of a message in direction dir one this parser reads? */
static bool is_read(enum parse_dir dir, uint8_t op)
{
    if (dir == PARSE_DIR_CLIENT) {
        return op == LDAP_OP_BIND_REQ || op == LDAP_OP_EXT_REQ;
    }
    return op == LDAP_OP_BIND_RESP || op == LDAP_OP_EXT_RESP;
}

/* A whole operation of direction dir, as the header h says, content body[0..h->op_len). */
static void message(struct ldap *p, const struct ldap_head *h, const uint8_t *body)
{
    switch (h->op) {
    case LDAP_OP_BIND_REQ:
        bind_request(p, h->id, body, h->op_len);
        break;
    case LDAP_OP_EXT_REQ:
        ext_request(p, h->id, body, h->op_len);
        break;
    case LDAP_OP_BIND_RESP:
        bind_response(p, h->id, body, h->op_len);
        break;
    case LDAP_OP_EXT_RESP:
        ext_response(p, h->id, body, h->op_len);
        break;
    default:
        break;
    }
}

static void buf_free(struct ldap *p, struct ldap_side *sd)
{
    if (sd->buf == NULL) {
        return;
    }
    explicit_bzero(sd->buf, sd->h.op_len);
    free(sd->buf);
    sd->buf = NULL;
    sd->buf_len = 0;
    p->st->line_mem -= sd->h.op_len;
}

/* The operation is read (or skipped): what follows it in the message is counted off. */
static void after_op(struct ldap_side *sd)
{
    sd->skip = sd->h.rest;
    sd->step = sd->skip > 0 ? LDAP_SKIP : LDAP_HEAD;
}

/* A header was read: decides what becomes of the operation. data/len: the bytes after it. */
static void head_done(struct ldap *p, enum parse_dir dir, const uint8_t **data, size_t *len)
{
    struct ldap_side *sd = &p->side[dir];
    const struct ldap_head *h = &sd->h;
    sd->has_message = true;
    sd->is_at_gap = false;
    p->st->ldap_messages++;
    bool is_injected = dir == PARSE_DIR_CLIENT && p->phase != LDAP_CLEAR;
    if (is_injected) {
        /* Sent after StartTLS, before the handshake: never a request of this session. */
        p->s->injected_commands++;
        p->st->starttls_injection++;
    }
    if (is_injected || !is_read(dir, h->op)) {
        sd->skip = (uint64_t)h->op_len + h->rest;
        sd->step = sd->skip > 0 ? LDAP_SKIP : LDAP_HEAD;
        return;
    }
    if (h->op_len > LDAP_MAX_MESSAGE) {
        p->st->ldap_overlong++;
        if (h->op == LDAP_OP_BIND_REQ) {
            push(p, h->id, LDAP_K_UNREAD, NULL);
        }
        sd->skip = (uint64_t)h->op_len + h->rest;
        sd->step = LDAP_SKIP;
        return;
    }
    if (h->op_len <= *len) {
        message(p, h, *data);
        *data += h->op_len;
        *len -= h->op_len;
        after_op(sd);
        return;
    }
    sd->buf = xmalloc(h->op_len);
    sd->buf_len = 0;
    p->st->line_mem += h->op_len;
    sd->step = LDAP_BODY;
}

/* A TLS record where a message should begin. Returns true when the direction's bytes are TLS
 * from here on. */
static bool tls_start(struct ldap *p, enum parse_dir dir)
{
    if (dir == PARSE_DIR_CLIENT) {
        p->is_client_tls = true;
        if (p->phase == LDAP_CLEAR && !p->side[PARSE_DIR_SERVER].has_message &&
            p->s->n_creds == 0) {
            finding_set_implicit_tls(p->s);
            p->phase = LDAP_TLS;
        }
        return true;
    }
    if (p->phase == LDAP_TLS_WAIT) {
        /* StartTLS is outstanding and the server speaks TLS: its response was lost. */
        finding_set_upgraded(p->s);
        p->phase = LDAP_TLS;
        return true;
    }
    return false;
}

/* Reads a header from the front of data; returns false when no message begins there. */
static bool head_step(struct ldap *p, enum parse_dir dir, const uint8_t **data, size_t *len)
{
    struct ldap_side *sd = &p->side[dir];
    size_t old = sd->head_len;
    size_t k = LDAP_HEAD_MAX - old < *len ? LDAP_HEAD_MAX - old : *len;
    memcpy(sd->head + old, *data, k);
    switch (head_parse(sd->head, old + k, &sd->h)) {
    case LDAP_HEAD_MORE:
        if (old + k == LDAP_HEAD_MAX) {
            sd->head_len = 0; /* cannot happen: LDAP_HEAD_MAX holds the longest header */
            return false;
        }
        sd->head_len = old + k;
        *data += k;
        *len -= k;
        return true;
    case LDAP_HEAD_BAD:
        sd->head_len = 0;
        return false;
    case LDAP_HEAD_OK:
        break;
    }
    size_t used = sd->h.len - old; /* > 0: with old bytes alone the header was short */
    sd->head_len = 0;
    *data += used;
    *len -= used;
    head_done(p, dir, data, len);
    return true;
}

/* Gathers operation bytes; reads the operation once complete. */
static void body_step(struct ldap *p, enum parse_dir dir, const uint8_t **data, size_t *len)
{
    struct ldap_side *sd = &p->side[dir];
    size_t want = sd->h.op_len - sd->buf_len;
    size_t k = want < *len ? want : *len;
    memcpy(sd->buf + sd->buf_len, *data, k);
    sd->buf_len += k;
    *data += k;
    *len -= k;
    if (sd->buf_len == sd->h.op_len) {
        message(p, &sd->h, sd->buf);
        buf_free(p, sd);
        after_op(sd);
    }
}

/* ---- the interface ---- */

static enum parse_status side_feed(struct ldap *p, enum parse_dir dir, const uint8_t *data,
                                   size_t len)
{
    struct ldap_side *sd = &p->side[dir];
    while (len > 0) {
        if (dir == PARSE_DIR_SERVER && p->phase == LDAP_TLS) {
            tlssniff_leg_feed(&p->tls, p->s, p->st, data, len);
            return PARSE_OK;
        }
        if (dir == PARSE_DIR_CLIENT && p->is_client_tls) {
            tlssniff_leg_client(&p->tls, p->s, p->st, data, len); /* its ClientHello */
            return PARSE_OK;
        }
        switch (sd->step) {
        case LDAP_LOST:
            return PARSE_OK;
        case LDAP_SKIP: {
            size_t k = sd->skip < len ? (size_t)sd->skip : len;
            sd->skip -= k;
            data += k;
            len -= k;
            if (sd->skip == 0) {
                sd->step = LDAP_HEAD;
            }
            continue;
        }
        case LDAP_BODY:
            body_step(p, dir, &data, &len);
            continue;
        case LDAP_HEAD:
            break;
        }
        if (sd->head_len == 0 && data[0] == TLSSNIFF_CT_HANDSHAKE && tls_start(p, dir)) {
            sd->is_at_gap = false;
            continue;
        }
        if (head_step(p, dir, &data, &len)) {
            continue;
        }
        if (!sd->has_message && !sd->is_at_gap && !p->is_midstream) {
            return PARSE_ERROR; /* the first thing said is no LDAPMessage: not LDAP */
        }
        sd->is_at_gap = false;
        p->st->ldap_bad_ber++;
        sd->step = LDAP_LOST;
        return PARSE_OK;
    }
    return sd->step == LDAP_HEAD && sd->head_len == 0 ? PARSE_OK : PARSE_NEED_MORE;
}

static enum parse_status ldap_feed(void *vp, enum parse_dir dir, const uint8_t *data, size_t len,
                                   size_t *consumed)
{
    struct ldap *p = vp;
    *consumed = len;
    enum parse_status r = side_feed(p, dir, data, len);
    if (r == PARSE_ERROR) {
        p->st->not_protocol++;
    }
    return r;
}

static void ldap_gap(void *vp, enum parse_dir dir, uint64_t len)
{
    struct ldap *p = vp;
    struct ldap_side *sd = &p->side[dir];
    p->st->gaps++;
    if (dir == PARSE_DIR_SERVER && p->phase == LDAP_TLS) {
        /* The record framing is lost with the bytes: no version can be read any more. */
        tlssniff_leg_lost(&p->tls, p->s, p->st);
        return;
    }
    if (dir == PARSE_DIR_CLIENT && p->is_client_tls) {
        tlssniff_leg_client_lost(&p->tls, p->st);
        return;
    }
    if (sd->step == LDAP_SKIP && len < sd->skip) {
        sd->skip -= len; /* lost inside bytes counted off: the framing holds */
        return;
    }
    if (sd->step == LDAP_BODY && len < sd->h.op_len - sd->buf_len) {
        /* Lost inside an operation being gathered: it cannot be read, but its end is known. */
        sd->skip = (uint64_t)(sd->h.op_len - sd->buf_len - len) + sd->h.rest;
        buf_free(p, sd);
        sd->step = LDAP_SKIP;
        sasl_abort(&p->sasl);
        p->is_sasl_waiting = false;
        return;
    }
    buf_free(p, sd);
    sd->head_len = 0;
    sd->skip = 0;
    sd->step = LDAP_HEAD;
    sd->is_at_gap = true;
    /* A message of the exchange may be among the lost bytes. */
    sasl_abort(&p->sasl);
    p->is_sasl_waiting = false;
}

static void ldap_end(void *vp)
{
    struct ldap *p = vp;
    sasl_abort(&p->sasl);
    /* StartTLS is offered only in the root DSE (RFC 4511 section 4.14.1), never read here. */
    finding_settle_starttls(p->s, p->is_refused, false, false);
}

static void ldap_free(void *vp)
{
    struct ldap *p = vp;
    if (p == NULL) {
        return;
    }
    buf_free(p, &p->side[0]);
    buf_free(p, &p->side[1]);
    tlssniff_leg_free(&p->tls, p->st);
    explicit_bzero(p, sizeof *p);
    free(p);
}

const struct parser_ops ldap_parser_ops = {
    .name = "ldap",
    .state_size = sizeof(struct ldap),
    /* The client sends requests only; an entry's values in an add or modify request are
     * skipped by their lengths, never read as a bind. */
    .has_client_text = false,
    .new_parser = ldap_new,
    .feed = ldap_feed,
    .gap = ldap_gap,
    .end = ldap_end,
    .free_parser = ldap_free,
};
