/* sasl.c - SASL exchanges seen in the clear: base64, and the user and secret of each mechanism.
 *
 * The parsers frame the exchange; this module decodes each message (RFC 4648 base64) and reads
 * the mechanism's form: PLAIN (RFC 4616: authzid NUL authcid NUL passwd), LOGIN
 * (draft-murchison-sasl-login: user name, then password, whatever the server's prompts say),
 * CRAM-MD5 (RFC 2195: "user SP hex-digest" answering the server's msg-id), DIGEST-MD5 (RFC 2831:
 * username="..." in the digest-response), XOAUTH2 (Google: user= and auth=Bearer, 0x01
 * separated), OAUTHBEARER (RFC 7628: GS2 header with a=, then auth=Bearer) and the user name of
 * SCRAM-* (RFC 5802 client-first message; RFC 5801 saslname escapes). What a message shows is
 * copied into the session record through finding.h; decoded bytes live only in stack buffers
 * that are wiped before each function returns. Base64 that does not decode is counted and
 * never reported; a decoded message without its mechanism's form is counted as malformed. */
#include "sasl.h"

#include <string.h>

#include "finding.h"
#include "line.h"
#include "proto.h"
#include "tunables.h"

/* A PLAIN message of the longest user names and secret we keep, in base64, fits one line: a
 * longer one is dropped as overlong, never cut. */
_Static_assert(LINE_MAX_LEN >= (2 * FINDING_MAX_USER + FINDING_MAX_SECRET + 2 + 2) / 3 * 4,
               "a SASL response with the longest kept fields fits a line");

/* A decoded message: a base64 line is at most LINE_MAX_LEN bytes, three bytes per four. */
#define SASL_MAX_DECODED (LINE_MAX_LEN / 4 * 3)
/* An unescaped user name is kept one byte past FINDING_MAX_USER, so finding_set_username
 * sees that it was longer and flags the credential as truncated. */
#define SASL_USER_BUF (FINDING_MAX_USER + 1)
/* CRAM-MD5: an HMAC-MD5 digest in hex (RFC 2195 section 2). */
#define SASL_CRAM_HEX 32
/* The SASL control byte of XOAUTH2 and OAUTHBEARER (RFC 7628 section 3.1 kvsep). */
#define SASL_KVSEP 0x01

static int b64_value(uint8_t c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    return -1;
}

/* RFC 4648 section 4. Padded input must be a multiple of 4 with "=" only at the end;
 * unpadded input of 2 or 3 characters past a multiple of 4 is accepted too, because some
 * clients leave the padding off. Non-zero pad bits are ignored, which RFC 4648 section 3.5
 * allows: they change nothing we record. */
bool sasl_b64_decode(const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
    if (len == 0 || (len == 1 && in[0] == '=')) {
        *out_len = 0;
        return true;
    }
    size_t body = len;
    if (len % 4 == 0) {
        if (in[len - 1] == '=') {
            body--;
            if (in[len - 2] == '=') {
                body--;
            }
        }
    } else if (len % 4 == 1) {
        return false;
    }
    /* body % 4 is now 0, 2 or 3: a quad gives 3 bytes, a tail of k characters k - 1. */
    size_t need = body / 4 * 3 + (body % 4 == 0 ? 0 : body % 4 - 1);
    if (need > cap) {
        return false;
    }

    size_t o = 0;
    uint32_t acc = 0;
    for (size_t i = 0; i < body; i++) {
        int v = b64_value(in[i]);
        if (v < 0) {
            return false;
        }
        acc = acc << 6 | (uint32_t)v;
        if (i % 4 == 3) {
            out[o++] = (uint8_t)(acc >> 16);
            out[o++] = (uint8_t)(acc >> 8);
            out[o++] = (uint8_t)acc;
            acc = 0;
        }
    }
    if (body % 4 == 2) {
        out[o++] = (uint8_t)(acc >> 4);
    } else if (body % 4 == 3) {
        out[o++] = (uint8_t)(acc >> 10);
        out[o++] = (uint8_t)(acc >> 2);
    }
    *out_len = o;
    return true;
}

static bool is_hex(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Appends byte c to out[0..*len), keeping at most cap bytes but counting on to cap. */
static void put_capped(uint8_t *out, size_t cap, size_t *len, uint8_t c)
{
    if (*len < cap) {
        out[(*len)++] = c;
    }
}

/* RFC 5801 saslname: "=2C" is ',' and "=3D" is '='; any other '=' is an error. Writes at most
 * cap bytes (a longer name stops at cap). */
static bool saslname_decode(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                            size_t *out_len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = in[i];
        if (c == '=') {
            if (len - i < 3) {
                return false;
            }
            if (in[i + 1] == '2' && line_upper(in[i + 2]) == 'C') {
                c = ',';
            } else if (in[i + 1] == '3' && line_upper(in[i + 2]) == 'D') {
                c = '=';
            } else {
                return false;
            }
            i += 2;
        }
        put_capped(out, cap, &o, c);
    }
    *out_len = o;
    return true;
}

/* X-OAUTH2 (Google's, in XMPP) has PLAIN's form, the token in the password's place. */
static const struct {
    const char *name;
    enum sasl_mech mech;
} mech_names[] = {
    { "PLAIN", SASL_MECH_PLAIN },       { "LOGIN", SASL_MECH_LOGIN },
    { "CRAM-MD5", SASL_MECH_CRAM_MD5 }, { "DIGEST-MD5", SASL_MECH_DIGEST_MD5 },
    { "XOAUTH2", SASL_MECH_XOAUTH2 },   { "OAUTHBEARER", SASL_MECH_OAUTHBEARER },
    { "X-OAUTH2", SASL_MECH_PLAIN },
};

/* name[0..len) is upper-cased already. RFC 4422 section 3.1: a mechanism name is upper-case
 * letters, digits, '-' and '_'; anything else cannot be one we read. */
static enum sasl_mech mech_lookup(const char *name, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
            return SASL_MECH_OTHER;
        }
    }
    for (size_t i = 0; i < sizeof mech_names / sizeof mech_names[0]; i++) {
        if (strlen(mech_names[i].name) == len && memcmp(mech_names[i].name, name, len) == 0) {
            return mech_names[i].mech;
        }
    }
    if (len > 6 && memcmp(name, "SCRAM-", 6) == 0) {
        return SASL_MECH_SCRAM;
    }
    return SASL_MECH_OTHER;
}

/* The exchange's credential, added on first use. When the session has no room left the
 * exchange has nothing more to record: it goes on as an unreadable one, so the drop is
 * counted once. */
static struct credential *cred_get(struct sasl *x)
{
    if (x->cred == NULL) {
        x->cred = finding_add_credential(x->s, x->name);
        if (x->cred != NULL) {
            x->cred->is_answered = x->has_server;
        }
        if (x->cred == NULL) {
            x->st->creds_dropped++;
            x->mech = SASL_MECH_OTHER;
        }
    }
    return x->cred;
}

static void malformed(struct sasl *x)
{
    x->st->sasl_malformed++;
}

/* Records the remembered server challenge, when there is one. */
static void set_challenge(struct sasl *x, struct credential *c)
{
    if (x->challenge_len > 0) {
        finding_set_challenge(c, x->challenge, x->challenge_len);
    }
}

/* PLAIN: authzid NUL authcid NUL passwd, in the first message. The user is authcid, or
 * authzid when authcid is empty (whose password it is then). */
static void read_plain(struct sasl *x, const uint8_t *m, size_t n)
{
    if (x->cred != NULL) {
        return;
    }
    const uint8_t *nul1 = memchr(m, 0, n);
    if (nul1 == NULL) {
        malformed(x);
        return;
    }
    size_t a = (size_t)(nul1 - m);
    const uint8_t *nul2 = memchr(m + a + 1, 0, n - a - 1);
    if (nul2 == NULL) {
        malformed(x);
        return;
    }
    size_t b = (size_t)(nul2 - m);
    if (memchr(m + b + 1, 0, n - b - 1) != NULL) {
        malformed(x);
        return;
    }
    const uint8_t *user = m + a + 1;
    size_t user_len = b - a - 1;
    if (user_len == 0) {
        user = m;
        user_len = a;
    }
    size_t pass_len = n - b - 1;
    if (user_len == 0 && pass_len == 0) {
        malformed(x);
        return;
    }
    struct credential *c = cred_get(x);
    if (c == NULL) {
        return;
    }
    if (user_len > 0) {
        finding_set_username(c, user, user_len);
    }
    finding_set_secret(c, m + b + 1, pass_len);
}

/* LOGIN: the first message is the user name, the second the password. */
static void read_login(struct sasl *x, const uint8_t *m, size_t n)
{
    if (x->step > 1) {
        return;
    }
    struct credential *c = cred_get(x);
    if (c == NULL) {
        return;
    }
    if (x->step == 0) {
        finding_set_username(c, m, n);
    } else {
        finding_set_secret(c, m, n);
    }
}

/* CRAM-MD5: "user SP digest", the digest 32 hex digits; the user may hold spaces, so the
 * digest is taken from the end. */
static void read_cram(struct sasl *x, const uint8_t *m, size_t n)
{
    if (x->cred != NULL) {
        return;
    }
    if (n < SASL_CRAM_HEX + 2 || m[n - SASL_CRAM_HEX - 1] != ' ') {
        malformed(x);
        return;
    }
    const uint8_t *digest = m + n - SASL_CRAM_HEX;
    for (size_t i = 0; i < SASL_CRAM_HEX; i++) {
        if (!is_hex(digest[i])) {
            malformed(x);
            return;
        }
    }
    struct credential *c = cred_get(x);
    if (c == NULL) {
        return;
    }
    finding_set_username(c, m, n - SASL_CRAM_HEX - 1);
    set_challenge(x, c);
    finding_set_response(c, digest, SASL_CRAM_HEX);
}

static bool is_lws(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* DIGEST-MD5 (RFC 2831 section 2.1.2): finds the username directive of a digest-response,
 * a comma-separated list of name=value where value is a token or a quoted-string with
 * backslash escapes, and unescapes it into out (capped at cap). False when the list does not
 * parse or has no username. */
static bool digest_username(const uint8_t *m, size_t n, uint8_t *out, size_t cap, size_t *out_len)
{
    size_t i = 0;
    for (;;) {
        while (i < n && (is_lws(m[i]) || m[i] == ',')) {
            i++;
        }
        if (i >= n) {
            return false;
        }
        size_t key = i;
        while (i < n && m[i] != '=' && m[i] != ',' && !is_lws(m[i])) {
            i++;
        }
        size_t key_len = i - key;
        while (i < n && is_lws(m[i])) {
            i++;
        }
        if (key_len == 0 || i >= n || m[i] != '=') {
            return false;
        }
        i++;
        while (i < n && is_lws(m[i])) {
            i++;
        }
        bool is_user = key_len == 8 && line_has_prefix(m + key, key_len, "USERNAME");
        size_t o = 0;
        if (i < n && m[i] == '"') {
            bool is_closed = false;
            for (i++; i < n; i++) {
                if (m[i] == '\\' && i + 1 < n) {
                    i++;
                } else if (m[i] == '"') {
                    is_closed = true;
                    i++;
                    break;
                }
                if (is_user) {
                    put_capped(out, cap, &o, m[i]);
                }
            }
            if (!is_closed) {
                return false;
            }
        } else {
            size_t start = i;
            while (i < n && m[i] != ',') {
                i++;
            }
            size_t end = i;
            while (end > start && is_lws(m[end - 1])) {
                end--;
            }
            for (size_t k = start; is_user && k < end; k++) {
                put_capped(out, cap, &o, m[k]);
            }
        }
        if (is_user) {
            *out_len = o;
            return true;
        }
        while (i < n && is_lws(m[i])) {
            i++;
        }
        if (i < n && m[i] != ',') {
            return false;
        }
    }
}

/* DIGEST-MD5: the first non-empty client message is the digest-response; the empty one after
 * the server's rspauth carries nothing. */
static void read_digest(struct sasl *x, const uint8_t *m, size_t n)
{
    if (x->cred != NULL || n == 0) {
        return;
    }
    uint8_t user[SASL_USER_BUF];
    size_t user_len = 0;
    if (!digest_username(m, n, user, sizeof user, &user_len)) {
        explicit_bzero(user, sizeof user);
        malformed(x);
        return;
    }
    struct credential *c = cred_get(x);
    if (c != NULL) {
        finding_set_username(c, user, user_len);
        set_challenge(x, c);
        finding_set_response(c, m, n);
    }
    explicit_bzero(user, sizeof user);
}

/* Finds "auth=" among the 0x01-separated fields of p[0..n) and returns its value without the
 * "Bearer " scheme (RFC 6750 section 2.1; any other scheme's whole value is the secret). */
static bool find_bearer(const uint8_t *p, size_t n, const uint8_t **tok, size_t *tok_len)
{
    size_t i = 0;
    while (i < n) {
        const uint8_t *sep = memchr(p + i, SASL_KVSEP, n - i);
        size_t end = sep != NULL ? (size_t)(sep - p) : n;
        if (line_has_prefix(p + i, end - i, "AUTH=")) {
            size_t v = i + 5;
            if (line_has_prefix(p + v, end - v, "BEARER ")) {
                v += 7;
                while (v < end && p[v] == ' ') {
                    v++;
                }
            }
            *tok = p + v;
            *tok_len = end - v;
            return true;
        }
        i = end + 1;
    }
    return false;
}

/* XOAUTH2: "user=" U 0x01 "auth=Bearer " TOKEN 0x01 0x01. After a failure the server sends a
 * JSON challenge and the client an empty message: nothing to read. */
static void read_xoauth2(struct sasl *x, const uint8_t *m, size_t n)
{
    if (x->cred != NULL || n == 0) {
        return;
    }
    const uint8_t *user = NULL;
    size_t user_len = 0;
    size_t i = 0;
    while (i < n) {
        const uint8_t *sep = memchr(m + i, SASL_KVSEP, n - i);
        size_t end = sep != NULL ? (size_t)(sep - m) : n;
        if (user == NULL && line_has_prefix(m + i, end - i, "USER=")) {
            user = m + i + 5;
            user_len = end - i - 5;
        }
        i = end + 1;
    }
    const uint8_t *tok = NULL;
    size_t tok_len = 0;
    bool has_tok = find_bearer(m, n, &tok, &tok_len);
    if (user == NULL && !has_tok) {
        malformed(x);
        return;
    }
    struct credential *c = cred_get(x);
    if (c == NULL) {
        return;
    }
    if (user != NULL) {
        finding_set_username(c, user, user_len);
    }
    if (has_tok) {
        finding_set_secret(c, tok, tok_len);
    }
}

/* Splits a GS2 header (RFC 5801 section 4: cbind-flag "," [authzid] ",") off m[0..n): sets
 * the authzid field (empty or "a=...") and the offset just past the header. */
static bool gs2_header(const uint8_t *m, size_t n, const uint8_t **authz, size_t *authz_len,
                       size_t *rest)
{
    if (n == 0 || (m[0] != 'n' && m[0] != 'y' && m[0] != 'p')) {
        return false;
    }
    const uint8_t *c1 = memchr(m, ',', n);
    if (c1 == NULL) {
        return false;
    }
    size_t a = (size_t)(c1 - m) + 1;
    const uint8_t *c2 = memchr(m + a, ',', n - a);
    if (c2 == NULL) {
        return false;
    }
    size_t b = (size_t)(c2 - m);
    *authz = m + a;
    *authz_len = b - a;
    *rest = b + 1;
    return true;
}

/* OAUTHBEARER (RFC 7628 section 3.1): gs2-header 0x01 *(key=value 0x01) 0x01. The user is the
 * header's a= (it may be absent); the secret is the auth= bearer token. The client's single
 * 0x01 after the server's error challenge (section 3.2.3) carries nothing. */
static void read_oauthbearer(struct sasl *x, const uint8_t *m, size_t n)
{
    if (x->cred != NULL || n == 0 || (n == 1 && m[0] == SASL_KVSEP)) {
        return;
    }
    const uint8_t *authz = NULL;
    size_t authz_len = 0, rest = 0;
    if (!gs2_header(m, n, &authz, &authz_len, &rest) || rest >= n || m[rest] != SASL_KVSEP) {
        malformed(x);
        return;
    }
    uint8_t user[SASL_USER_BUF];
    size_t user_len = 0;
    bool has_user = false;
    if (authz_len > 0) {
        if (authz_len < 2 || authz[0] != 'a' || authz[1] != '=' ||
            !saslname_decode(authz + 2, authz_len - 2, user, sizeof user, &user_len)) {
            explicit_bzero(user, sizeof user);
            malformed(x);
            return;
        }
        has_user = true;
    }
    const uint8_t *tok = NULL;
    size_t tok_len = 0;
    bool has_tok = find_bearer(m + rest + 1, n - rest - 1, &tok, &tok_len);
    if (!has_user && !has_tok) {
        malformed(x);
        return;
    }
    struct credential *c = cred_get(x);
    if (c != NULL) {
        if (has_user) {
            finding_set_username(c, user, user_len);
        }
        if (has_tok) {
            finding_set_secret(c, tok, tok_len);
        }
    }
    explicit_bzero(user, sizeof user);
}

/* SCRAM-* (RFC 5802 section 7): the client-first message is gs2-header "n=" saslname ",r="
 * nonce; the user is the saslname. The next non-empty client message is the client-final
 * message, recorded as the response to the server-first message (the challenge): that pair
 * is what an offline attack on the password needs. The empty message after the server-final
 * one carries nothing. */
static void read_scram(struct sasl *x, const uint8_t *m, size_t n)
{
    if (n == 0) {
        return;
    }
    if (x->cred != NULL) {
        if (x->cred->response == NULL) {
            set_challenge(x, x->cred);
            finding_set_response(x->cred, m, n);
        }
        return;
    }
    const uint8_t *authz = NULL;
    size_t authz_len = 0, rest = 0;
    if (!gs2_header(m, n, &authz, &authz_len, &rest) || n - rest < 2 || m[rest] != 'n' ||
        m[rest + 1] != '=') {
        malformed(x);
        return;
    }
    size_t u = rest + 2;
    const uint8_t *comma = memchr(m + u, ',', n - u);
    if (comma == NULL) {
        malformed(x);
        return;
    }
    uint8_t user[SASL_USER_BUF];
    size_t user_len = 0;
    if (!saslname_decode(m + u, (size_t)(comma - m) - u, user, sizeof user, &user_len)) {
        explicit_bzero(user, sizeof user);
        malformed(x);
        return;
    }
    struct credential *c = cred_get(x);
    if (c != NULL) {
        finding_set_username(c, user, user_len);
    }
    explicit_bzero(user, sizeof user);
}

/* One client message, base64 (the initial response or a line of the exchange). */
static void client_message(struct sasl *x, const uint8_t *b64, size_t len, bool is_ir)
{
    if (x->mech == SASL_MECH_OTHER) {
        x->step++;
        return;
    }
    uint8_t dec[SASL_MAX_DECODED];
    size_t n = 0;
    /* Decoding writes fewer bytes than it reads: those are all there is to clear. */
    size_t used = len < sizeof dec ? len : sizeof dec;
    if (!sasl_b64_decode(b64, len, dec, sizeof dec, &n)) {
        x->st->sasl_bad_base64++;
        explicit_bzero(dec, used);
        x->step++;
        return;
    }
    switch (x->mech) {
    case SASL_MECH_PLAIN:
        read_plain(x, dec, n);
        break;
    case SASL_MECH_LOGIN:
        /* An empty initial response ("=") is not the user name: that comes next. */
        if (is_ir && n == 0) {
            explicit_bzero(dec, used);
            return;
        }
        read_login(x, dec, n);
        break;
    case SASL_MECH_CRAM_MD5:
        read_cram(x, dec, n);
        break;
    case SASL_MECH_DIGEST_MD5:
        read_digest(x, dec, n);
        break;
    case SASL_MECH_XOAUTH2:
        read_xoauth2(x, dec, n);
        break;
    case SASL_MECH_OAUTHBEARER:
        read_oauthbearer(x, dec, n);
        break;
    case SASL_MECH_SCRAM:
        read_scram(x, dec, n);
        break;
    case SASL_MECH_OTHER:
        break;
    }
    explicit_bzero(dec, used);
    x->step++;
}

/* True when line could be a client's SASL message: base64 characters only, "=", "*" or empty. */
static bool is_response_line(const uint8_t *line, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        uint8_t c = line[i];
        bool is_b64 = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '+' || c == '/' || c == '=' || (c == '*' && len == 1);
        if (!is_b64) {
            return false;
        }
    }
    return true;
}

/* True once the client has sent every message of the mechanism that can carry the user or
 * the secret; at once for a mechanism we cannot read. */
static bool has_all(const struct sasl *x)
{
    switch (x->mech) {
    case SASL_MECH_LOGIN:
    case SASL_MECH_DIGEST_MD5:
    case SASL_MECH_SCRAM:
        return x->step >= 2;
    case SASL_MECH_PLAIN:
    case SASL_MECH_CRAM_MD5:
    case SASL_MECH_XOAUTH2:
    case SASL_MECH_OAUTHBEARER:
        return x->step >= 1;
    case SASL_MECH_OTHER:
        break;
    }
    return true;
}

void sasl_start(struct sasl *x, struct session *s, struct parse_stats *st, const uint8_t *mech,
                size_t mech_len, const uint8_t *ir, size_t ir_len, bool has_ir)
{
    sasl_wipe(x);
    x->mech = SASL_MECH_OTHER;
    x->step = 0;
    x->is_active = true;
    x->is_blind = false;
    x->has_server = false;
    x->s = s;
    x->st = st;
    x->cred = NULL;

    size_t n = mech_len < sizeof x->name - 1 ? mech_len : sizeof x->name - 1;
    for (size_t i = 0; i < n; i++) {
        x->name[i] = (char)line_upper(mech[i]);
    }
    x->name[n] = '\0';
    if (n == mech_len) {
        x->mech = mech_lookup(x->name, n);
    }
    if (x->mech == SASL_MECH_OTHER) {
        st->sasl_unsupported++;
    }
    if (has_ir) {
        client_message(x, ir, ir_len, true);
    }
}

/* The server sent something in this exchange (a challenge, or bytes a gap lost): the
 * exchange is a real login, not client text that only looks like one. */
static void server_took_part(struct sasl *x)
{
    x->has_server = true;
    if (x->cred != NULL) {
        x->cred->is_answered = true;
    }
}

/* Only the challenge-response mechanisms need the server's challenge; the others' prompts
 * (LOGIN's "Username:", an OAuth JSON error) are neither decoded nor counted. A challenge
 * longer than the buffer is not kept (a cut one is no use to an offline attack) and is
 * counted as malformed. */
void sasl_server(struct sasl *x, const uint8_t *b64, size_t len)
{
    if (x->is_active) {
        server_took_part(x);
    }
    if (!x->is_active || (x->mech != SASL_MECH_CRAM_MD5 && x->mech != SASL_MECH_DIGEST_MD5 &&
                          x->mech != SASL_MECH_SCRAM)) {
        return;
    }
    sasl_wipe(x);
    uint8_t dec[SASL_MAX_DECODED];
    size_t n = 0;
    if (!sasl_b64_decode(b64, len, dec, sizeof dec, &n)) {
        x->st->sasl_bad_base64++;
    } else if (n > sizeof x->challenge) {
        x->st->sasl_malformed++;
    } else {
        memcpy(x->challenge, dec, n);
        x->challenge_len = n;
    }
    explicit_bzero(dec, sizeof dec);
}

/* Ends the exchange; the credential stays in the session with its result. */
static void end_exchange(struct sasl *x)
{
    x->is_active = false;
    x->is_blind = false;
    x->cred = NULL;
    sasl_wipe(x);
}

bool sasl_client(struct sasl *x, const uint8_t *line, size_t len)
{
    if (!x->is_active) {
        return false;
    }
    /* RFC 4954 section 4, RFC 5034 section 4, RFC 9051 section 6.2.2: "*" cancels. A
     * credential already added keeps its result unknown: the server never judged it. */
    if (len == 1 && line[0] == '*') {
        x->st->sasl_cancelled++;
        end_exchange(x);
        return false;
    }
    client_message(x, line, len, false);
    return true;
}

enum sasl_line sasl_client_line(struct sasl *x, const uint8_t *line, size_t len)
{
    if (x->is_blind && !is_response_line(line, len)) {
        sasl_abort(x);
        return SASL_LINE_COMMAND;
    }
    if (!sasl_client(x, line, len)) {
        return SASL_LINE_END;
    }
    if (x->is_blind && has_all(x)) {
        sasl_abort(x); /* the verdict may have been lost with the server's bytes */
        return SASL_LINE_END;
    }
    return SASL_LINE_MORE;
}

bool sasl_gap(struct sasl *x, bool is_server_side)
{
    if (is_server_side && x->is_active) {
        server_took_part(x);
    }
    if (is_server_side && x->is_active && !has_all(x)) {
        x->is_blind = true;
        return true;
    }
    sasl_abort(x);
    return false;
}

void sasl_finish(struct sasl *x, int is_success)
{
    if (!x->is_active) {
        return;
    }
    if (x->cred != NULL) {
        x->cred->result = is_success ? FINDING_RESULT_SUCCESS : FINDING_RESULT_FAILURE;
    }
    end_exchange(x);
}

void sasl_discard(struct sasl *x)
{
    if (!x->is_active) {
        return;
    }
    if (x->cred != NULL) {
        finding_drop_credential(x->s, x->cred);
        x->cred = NULL;
        x->st->auth_desync++;
    }
    end_exchange(x);
}

void sasl_abort(struct sasl *x)
{
    if (!x->is_active) {
        return;
    }
    end_exchange(x);
}

void sasl_wipe(struct sasl *x)
{
    explicit_bzero(x->challenge, sizeof x->challenge);
    x->challenge_len = 0;
}
