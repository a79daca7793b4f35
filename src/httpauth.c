/* httpauth.c - HTTP authentication fields: Basic, Digest, Bearer and NTLM credentials.
 *
 * RFC 9110 section 11 (the fields: a scheme, then a token68 or auth-params; scheme names in any
 * case), RFC 7617 (Basic: base64 of "user:password"), RFC 7616 (Digest: username, or the
 * extended username* of section 3.4.4, nonce and response as parameters; the password never
 * crosses the wire, so the credential is a challenge-response), RFC 6750 section 2.1 (Bearer:
 * the token is the secret; whose it is, the capture cannot tell), MS-NLMP (NTLM over HTTP,
 * RFC 4559's "NTLM" and "Negotiate" schemes: the client's NEGOTIATE message, the server's
 * CHALLENGE in a 401 or 407, the client's AUTHENTICATE message with the user, the domain and the
 * responses to the challenge; a Negotiate token is read only when it holds NTLMSSP rather than
 * Kerberos). Every NTLM field is read through rd.h and checked against the message's bounds.
 *
 * The NTLM credential's user is "DOMAIN\user" (the domain left out when empty), its challenge
 * the server challenge and its response the NT response (the LM response when the NT one is
 * empty), both in lower-case hex, the form password crackers take them in. An AUTHENTICATE
 * message with an empty user and no NT response is the anonymous login (MS-NLMP 3.2.5.1.2):
 * flagged, no account's secret. */
#include "httpauth.h"

#include <stdio.h>
#include <string.h>

#include "finding.h"
#include "line.h"
#include "proto.h"
#include "rd.h"
#include "sasl.h"
#include "tunables.h"

/* The largest base64-decoded value: a field's value is at most LINE_MAX_LEN bytes. */
#define HTTPAUTH_MAX_DECODED (LINE_MAX_LEN / 4 * 3 + 3)
/* The NTLMSSP signature that opens every NTLM message (MS-NLMP 2.2.1). */
#define HTTPAUTH_NTLMSSP "NTLMSSP"
/* NegotiateFlags (MS-NLMP 2.2.2.5): strings in UTF-16LE rather than the OEM code page. */
#define HTTPAUTH_NTLM_UNICODE 0x00000001u

enum httpauth_field httpauth_field(const uint8_t *h, size_t len, size_t *value_off)
{
    /* Most header lines of a request or an answer are none of these: the first letter settles
     * them before any comparison. */
    const char *name = NULL;
    enum httpauth_field f = HTTPAUTH_F_NONE;
    switch (len > 0 ? line_upper(h[0]) : 0) {
    case 'A':
        name = "AUTHORIZATION:";
        f = HTTPAUTH_F_AUTHORIZATION;
        break;
    case 'W':
        name = "WWW-AUTHENTICATE:";
        f = HTTPAUTH_F_WWW_AUTHENTICATE;
        break;
    case 'P':
        if (line_has_prefix(h, len, "PROXY-AUTHORIZATION:")) {
            name = "PROXY-AUTHORIZATION:";
            f = HTTPAUTH_F_PROXY_AUTHORIZATION;
        } else {
            name = "PROXY-AUTHENTICATE:";
            f = HTTPAUTH_F_PROXY_AUTHENTICATE;
        }
        break;
    default:
        return HTTPAUTH_F_NONE;
    }
    if (!line_has_prefix(h, len, name)) {
        return HTTPAUTH_F_NONE;
    }
    size_t off = strlen(name);
    while (off < len && (h[off] == ' ' || h[off] == '\t')) {
        off++;
    }
    *value_off = off;
    return f;
}

/* The value's scheme: v[0..len) begins with scheme (upper case) and then a space, or ends
 * there. Sets *rest past the scheme and the spaces after it. */
static bool is_scheme(const uint8_t *v, size_t len, const char *scheme, size_t *rest)
{
    size_t n = strlen(scheme);
    if (!line_has_prefix(v, len, scheme) || (len > n && v[n] != ' ' && v[n] != '\t')) {
        return false;
    }
    while (n < len && (v[n] == ' ' || v[n] == '\t')) {
        n++;
    }
    *rest = n;
    return true;
}

/* v[0..*len) without the spaces at its end. */
static void trim_end(const uint8_t *v, size_t *len)
{
    while (*len > 0 && (v[*len - 1] == ' ' || v[*len - 1] == '\t')) {
        (*len)--;
    }
}

/* The token68 at v[0..len), decoded into out (HTTPAUTH_MAX_DECODED bytes); false when it is
 * not base64. */
static bool decode_token(const uint8_t *v, size_t len, uint8_t *out, size_t *out_len)
{
    trim_end(v, &len);
    return len > 0 && sasl_b64_decode(v, len, out, HTTPAUTH_MAX_DECODED, out_len);
}

/* ---- NTLM (MS-NLMP) ---- */

/* A decoded NTLM message of type want: its signature and type read. */
static bool is_ntlm(const uint8_t *m, size_t n, uint32_t want)
{
    struct rd r = rd_make(m, n);
    const uint8_t *sig = rd_take(&r, sizeof HTTPAUTH_NTLMSSP);
    uint32_t type = rd_le32(&r);
    return !r.bad && memcmp(sig, HTTPAUTH_NTLMSSP, sizeof HTTPAUTH_NTLMSSP) == 0 && type == want;
}

/* The NTLM message a challenge or credentials value carries (scheme NTLM, or Negotiate holding
 * NTLMSSP), decoded into out; false when there is none. */
static bool ntlm_message(const uint8_t *v, size_t len, uint8_t *out, size_t *n)
{
    size_t rest = 0;
    if (!is_scheme(v, len, "NTLM", &rest) && !is_scheme(v, len, "NEGOTIATE", &rest)) {
        return false;
    }
    return decode_token(v + rest, len - rest, out, n);
}

void httpauth_challenge(struct httpauth_ntlm *ntlm, const uint8_t *v, size_t len)
{
    uint8_t m[HTTPAUTH_MAX_DECODED];
    size_t n = 0;
    if (!ntlm_message(v, len, m, &n) || !is_ntlm(m, n, 2)) {
        return;
    }
    /* CHALLENGE_MESSAGE: signature, type, TargetNameFields (8), NegotiateFlags, ServerChallenge. */
    struct rd r = rd_make(m, n);
    rd_skip(&r, 12 + 8);
    uint32_t flags = rd_le32(&r);
    const uint8_t *ch = rd_take(&r, sizeof ntlm->challenge);
    if (!r.bad) {
        memcpy(ntlm->challenge, ch, sizeof ntlm->challenge);
        ntlm->has_challenge = true;
        ntlm->is_unicode = (flags & HTTPAUTH_NTLM_UNICODE) != 0;
    }
    explicit_bzero(m, n);
}

/* One of an AUTHENTICATE message's fields (MS-NLMP 2.2.1.3: length, allocated length, offset
 * from the message's start), read at r: its bytes in m[0..n), or false when they lie outside. */
static bool ntlm_field(struct rd *r, const uint8_t *m, size_t n, const uint8_t **p, size_t *len)
{
    size_t flen = rd_le16(r);
    rd_skip(r, 2);
    size_t off = rd_le32(r);
    if (r->bad || off > n || flen > n - off) {
        return false;
    }
    *p = m + off;
    *len = flen;
    return true;
}

/* Appends the UTF-8 of a code point to out[*o..cap); nothing when it does not fit. */
static void put_utf8(uint32_t cp, uint8_t *out, size_t cap, size_t *o)
{
    uint8_t b[4];
    size_t k;
    if (cp < 0x80) {
        b[0] = (uint8_t)cp;
        k = 1;
    } else if (cp < 0x800) {
        b[0] = (uint8_t)(0xc0 | cp >> 6);
        b[1] = (uint8_t)(0x80 | (cp & 0x3f));
        k = 2;
    } else if (cp < 0x10000) {
        b[0] = (uint8_t)(0xe0 | cp >> 12);
        b[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
        b[2] = (uint8_t)(0x80 | (cp & 0x3f));
        k = 3;
    } else {
        b[0] = (uint8_t)(0xf0 | cp >> 18);
        b[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
        b[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
        b[3] = (uint8_t)(0x80 | (cp & 0x3f));
        k = 4;
    }
    if (k <= cap - *o) {
        memcpy(out + *o, b, k);
        *o += k;
    }
}

/* Appends an NTLM string p[0..len) to out[*o..cap) as UTF-8 (from UTF-16LE when is_unicode,
 * an unpaired surrogate as U+FFFD) or as it is (the OEM code page). */
static void put_ntlm_string(const uint8_t *p, size_t len, bool is_unicode, uint8_t *out, size_t cap,
                            size_t *o)
{
    if (!is_unicode) {
        size_t k = len < cap - *o ? len : cap - *o;
        memcpy(out + *o, p, k);
        *o += k;
        return;
    }
    for (size_t i = 0; i + 1 < len; i += 2) {
        uint32_t u = (uint32_t)p[i] | (uint32_t)p[i + 1] << 8;
        if (u >= 0xd800 && u < 0xdc00 && i + 3 < len) {
            uint32_t lo = (uint32_t)p[i + 2] | (uint32_t)p[i + 3] << 8;
            if (lo >= 0xdc00 && lo < 0xe000) {
                u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
                i += 2;
            }
        }
        if (u >= 0xd800 && u < 0xe000) {
            u = 0xfffd;
        }
        put_utf8(u, out, cap, o);
    }
}

/* Lower-case hex of p[0..len) into out (room for 2 * len bytes). */
static void to_hex(const uint8_t *p, size_t len, uint8_t *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = (uint8_t)hex[p[i] >> 4];
        out[2 * i + 1] = (uint8_t)hex[p[i] & 0xf];
    }
}

/* An AUTHENTICATE message's fields, as read from the wire. */
struct ntlm_auth {
    const uint8_t *lm, *nt, *domain, *user;
    size_t lm_len, nt_len, domain_len, user_len;
    bool is_unicode;
};

/* Reads the AUTHENTICATE message m[0..n): false when a field lies outside it. */
static bool read_ntlm_auth(const uint8_t *m, size_t n, const struct httpauth_ntlm *ntlm,
                           struct ntlm_auth *a)
{
    struct rd r = rd_make(m, n);
    rd_skip(&r, 12);
    const uint8_t *ws = NULL;
    size_t ws_len = 0;
    if (!ntlm_field(&r, m, n, &a->lm, &a->lm_len) || !ntlm_field(&r, m, n, &a->nt, &a->nt_len) ||
        !ntlm_field(&r, m, n, &a->domain, &a->domain_len) ||
        !ntlm_field(&r, m, n, &a->user, &a->user_len) || !ntlm_field(&r, m, n, &ws, &ws_len)) {
        return false;
    }
    /* The session key's field, then NegotiateFlags; the oldest clients end the message before
     * them, and then the challenge's flags tell. */
    rd_skip(&r, 8);
    uint32_t flags = rd_le32(&r);
    a->is_unicode = !r.bad ? (flags & HTTPAUTH_NTLM_UNICODE) != 0 : ntlm->is_unicode;
    return true;
}

/* An NTLM AUTHENTICATE message m[0..n) into a new credential of s. */
static struct credential *ntlm_credential(struct session *s, struct parse_stats *st,
                                          const char *mech, const struct httpauth_ntlm *ntlm,
                                          const uint8_t *m, size_t n)
{
    struct ntlm_auth a;
    if (!read_ntlm_auth(m, n, ntlm, &a)) {
        st->http_bad_auth++;
        return NULL;
    }
    uint8_t user[FINDING_MAX_USER + 1];
    size_t u = 0;
    put_ntlm_string(a.domain, a.domain_len, a.is_unicode, user, sizeof user, &u);
    if (u > 0) {
        put_utf8('\\', user, sizeof user, &u);
    }
    put_ntlm_string(a.user, a.user_len, a.is_unicode, user, sizeof user, &u);
    struct credential *c = finding_add_credential(s, mech);
    if (c == NULL) {
        return NULL;
    }
    finding_set_username(c, user, u);
    const uint8_t *resp = a.nt_len > 0 ? a.nt : a.lm;
    size_t resp_len = a.nt_len > 0 ? a.nt_len : a.lm_len;
    if (resp_len > FINDING_MAX_CHALLENGE / 2) {
        resp_len = FINDING_MAX_CHALLENGE / 2;
        c->is_truncated = true;
    }
    uint8_t hex[FINDING_MAX_CHALLENGE];
    to_hex(resp, resp_len, hex);
    finding_set_response(c, hex, 2 * resp_len);
    if (ntlm->has_challenge) {
        to_hex(ntlm->challenge, sizeof ntlm->challenge, hex);
        finding_set_challenge(c, hex, 2 * sizeof ntlm->challenge);
        c->is_answered = true; /* the server's challenge was seen */
    }
    if (a.user_len == 0 && a.nt_len == 0) {
        finding_set_anonymous(c);
    }
    return c;
}

/* ---- Digest (RFC 7616) ---- */

/* The auth-param name (upper case) of the list v[0..len): its value, a token or a quoted string
 * unescaped, into out[0..cap) (cut there). False when the list has no such parameter. */
static bool digest_param(const uint8_t *v, size_t len, const char *name, uint8_t *out, size_t cap,
                         size_t *out_len)
{
    size_t i = 0;
    while (i < len) {
        while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) {
            i++;
        }
        size_t key = i;
        while (i < len && v[i] != '=' && v[i] != ',' && v[i] != ' ' && v[i] != '\t') {
            i++;
        }
        size_t key_len = i - key;
        while (i < len && (v[i] == ' ' || v[i] == '\t')) {
            i++;
        }
        if (i >= len || v[i] != '=') {
            continue; /* a parameter without a value, or the list's end */
        }
        i++;
        while (i < len && (v[i] == ' ' || v[i] == '\t')) {
            i++;
        }
        bool is_it = key_len == strlen(name) && line_has_prefix(v + key, key_len, name);
        size_t o = 0;
        if (i < len && v[i] == '"') {
            for (i++; i < len && v[i] != '"'; i++) {
                if (v[i] == '\\' && i + 1 < len) {
                    i++;
                }
                if (is_it && o < cap) {
                    out[o++] = v[i];
                }
            }
            i++; /* the closing quote */
        } else {
            for (; i < len && v[i] != ',' && v[i] != ' ' && v[i] != '\t'; i++) {
                if (is_it && o < cap) {
                    out[o++] = v[i];
                }
            }
        }
        if (is_it) {
            *out_len = o;
            return true;
        }
    }
    return false;
}

static struct credential *digest_credential(struct session *s, struct parse_stats *st,
                                            const char *mech, const uint8_t *v, size_t len)
{
    uint8_t user[FINDING_MAX_USER + 1];
    size_t user_len = 0;
    if (!digest_param(v, len, "USERNAME", user, sizeof user, &user_len) &&
        !digest_param(v, len, "USERNAME*", user, sizeof user, &user_len)) {
        st->http_bad_auth++;
        return NULL;
    }
    struct credential *c = finding_add_credential(s, mech);
    if (c == NULL) {
        return NULL;
    }
    finding_set_username(c, user, user_len);
    uint8_t p[FINDING_MAX_CHALLENGE];
    size_t n = 0;
    if (digest_param(v, len, "NONCE", p, sizeof p, &n)) {
        finding_set_challenge(c, p, n);
        c->is_answered = true; /* a nonce is the server's: it took part */
    }
    if (digest_param(v, len, "RESPONSE", p, sizeof p, &n)) {
        finding_set_response(c, p, n);
    }
    return c;
}

/* ---- Basic and Bearer ---- */

static struct credential *basic_credential(struct session *s, struct parse_stats *st,
                                           const char *mech, const uint8_t *v, size_t len)
{
    uint8_t m[HTTPAUTH_MAX_DECODED];
    size_t n = 0;
    const uint8_t *colon = NULL;
    if (decode_token(v, len, m, &n)) {
        colon = memchr(m, ':', n);
    }
    struct credential *c = NULL;
    if (colon == NULL) {
        st->http_bad_auth++;
    } else if ((c = finding_add_credential(s, mech)) != NULL) {
        size_t user_len = (size_t)(colon - m);
        finding_set_username(c, m, user_len);
        finding_set_secret(c, colon + 1, n - user_len - 1);
    }
    explicit_bzero(m, n);
    return c;
}

static struct credential *bearer_credential(struct session *s, struct parse_stats *st,
                                            const char *mech, const uint8_t *v, size_t len)
{
    trim_end(v, &len);
    if (len == 0) {
        st->http_bad_auth++;
        return NULL;
    }
    struct credential *c = finding_add_credential(s, mech);
    if (c != NULL) {
        finding_set_secret(c, v, len);
    }
    return c;
}

/* ---- one credential per login ---- */

static bool is_same_bytes(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
    return a_len == b_len && (a_len == 0 || memcmp(a, b, a_len) == 0);
}

/* An earlier credential of s that c repeats (mechanism, user and secret), or NULL. */
static struct credential *earlier_same(const struct session *s, const struct credential *c)
{
    for (size_t i = 0; i < s->n_creds; i++) {
        const struct credential *e = s->creds[i];
        if (e == c || strcmp(e->mechanism, c->mechanism) != 0 ||
            e->has_username != c->has_username ||
            !is_same_bytes(e->username, e->username_len, c->username, c->username_len) ||
            (e->secret == NULL) != (c->secret == NULL) ||
            (c->secret != NULL &&
             !is_same_bytes(e->secret, e->secret_len, c->secret, c->secret_len))) {
            continue;
        }
        return s->creds[i];
    }
    return NULL;
}

/* The credential a scheme's value v[0..len) shows, named mech. */
static struct credential *scheme_credential(struct session *s, struct parse_stats *st,
                                            const char *prefix, const struct httpauth_ntlm *ntlm,
                                            const uint8_t *v, size_t len)
{
    char mech[FINDING_MAX_MECH];
    size_t rest = 0;
    if (is_scheme(v, len, "BASIC", &rest)) {
        snprintf(mech, sizeof mech, "%sBASIC", prefix);
        return basic_credential(s, st, mech, v + rest, len - rest);
    }
    if (is_scheme(v, len, "DIGEST", &rest)) {
        snprintf(mech, sizeof mech, "%sDIGEST", prefix);
        return digest_credential(s, st, mech, v + rest, len - rest);
    }
    if (is_scheme(v, len, "BEARER", &rest)) {
        snprintf(mech, sizeof mech, "%sBEARER", prefix);
        return bearer_credential(s, st, mech, v + rest, len - rest);
    }
    uint8_t m[HTTPAUTH_MAX_DECODED];
    size_t n = 0;
    if (!ntlm_message(v, len, m, &n)) {
        return NULL; /* a scheme not read here (Kerberos in Negotiate, AWS4-HMAC-SHA256...) */
    }
    struct credential *c = NULL;
    if (is_ntlm(m, n, 3)) {
        snprintf(mech, sizeof mech, "%sNTLM", prefix);
        c = ntlm_credential(s, st, mech, ntlm, m, n);
    }
    explicit_bzero(m, n);
    return c;
}

struct credential *httpauth_credential(struct session *s, struct parse_stats *st,
                                       const char *prefix, const struct httpauth_ntlm *ntlm,
                                       const uint8_t *v, size_t len)
{
    struct credential *c = scheme_credential(s, st, prefix, ntlm, v, len);
    if (c == NULL) {
        return NULL;
    }
    struct credential *e = earlier_same(s, c);
    if (e != NULL) {
        finding_drop_credential(s, c);
        return e;
    }
    return c;
}

void httpauth_settle(struct credential *c, enum httpauth_field f, unsigned status)
{
    if (c == NULL || c->result == FINDING_RESULT_SUCCESS) {
        return;
    }
    if (status >= 200 && status < 400) {
        c->result = FINDING_RESULT_SUCCESS;
    } else if ((status == 401 && f == HTTPAUTH_F_AUTHORIZATION) ||
               (status == 407 && f == HTTPAUTH_F_PROXY_AUTHORIZATION)) {
        c->result = FINDING_RESULT_FAILURE;
    }
    c->is_answered = true;
}
