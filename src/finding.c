/* finding.c - the session record, its credentials, and the keyed fingerprint of secrets.
 *
 * Secrets live only here: copied in by the parsers, wiped with explicit_bzero when the record
 * is freed. The fingerprint is HMAC-SHA-256 (RFC 2104, FIPS 180-4) of the secret under the
 * run's key (struct finding_key: the one kept in the database, or random for a run without
 * one), cut to 128 bits: equal passwords give equal fingerprints within one database, and the
 * fingerprint cannot be checked against a password list without the key.
 * HMAC comes from nettle rather than code of our own. The session's identity is here too: its
 * uid (a hash of the sensor, the first packet's time and the endpoints) and its Community ID
 * v1 (SHA-1 and base64, also from nettle), the key Zeek and Suricata logs are joined on. */
#include "finding.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <nettle/base64.h>
#include <nettle/hmac.h>
#include <nettle/sha1.h>

#include "ps.h"
#include <nettle/sha2.h>

struct session *finding_new(void)
{
    return xcalloc(1, sizeof(struct session));
}

static void wipe_free(uint8_t *p, size_t len)
{
    if (p != NULL) {
        explicit_bzero(p, len);
        free(p);
    }
}

static void credential_free(struct credential *c)
{
    if (c == NULL) {
        return;
    }
    wipe_free(c->secret, c->secret_len);
    wipe_free(c->challenge, c->challenge_len);
    wipe_free(c->response, c->response_len);
    explicit_bzero(c, sizeof *c);
    free(c);
}

void finding_free(struct session *s)
{
    if (s == NULL) {
        return;
    }
    for (size_t i = 0; i < s->n_creds; i++) {
        credential_free(s->creds[i]);
    }
    free(s->tunnel);
    for (size_t i = 0; i < FINDING_CONTEXT_N; i++) {
        free(s->context[i]);
    }
    explicit_bzero(s, sizeof *s);
    free(s);
}

size_t finding_set_tunnel(struct session *s, const char *text)
{
    free(s->tunnel);
    s->tunnel = NULL;
    if (text == NULL || text[0] == '\0') {
        return 0;
    }
    size_t len = strlen(text) + 1;
    s->tunnel = xmalloc(len);
    memcpy(s->tunnel, text, len);
    return len;
}

/* Replaces s->context[which] with an owned copy of text[0..len) (len 0: none). */
static void context_store(struct session *s, enum finding_context which, const char *text,
                          size_t len)
{
    char **field = &s->context[which];
    if (*field != NULL) {
        s->ctx_mem -= PS_HEAP_COST(strlen(*field) + 1);
        free(*field);
        *field = NULL;
    }
    if (len == 0) {
        return;
    }
    *field = xmalloc(len + 1);
    memcpy(*field, text, len);
    (*field)[len] = '\0';
    s->ctx_mem += PS_HEAP_COST(len + 1);
}

void finding_set_context(struct session *s, enum finding_context which, const uint8_t *p,
                         size_t len)
{
    static const char hex[] = "0123456789abcdef";
    char text[FINDING_MAX_CONTEXT * 4];
    size_t o = 0;
    if (len > FINDING_MAX_CONTEXT) {
        len = FINDING_MAX_CONTEXT;
    }
    for (size_t i = 0; i < len; i++) {
        uint8_t b = p[i];
        if (b == '\\') {
            text[o++] = '\\';
            text[o++] = '\\';
        } else if (b >= 0x20 && b < 0x7f) {
            text[o++] = (char)b;
        } else {
            text[o++] = '\\';
            text[o++] = 'x';
            text[o++] = hex[b >> 4];
            text[o++] = hex[b & 0xf];
        }
    }
    context_store(s, which, text, o);
}

void finding_set_context_text(struct session *s, enum finding_context which, const char *text)
{
    char buf[FINDING_MAX_CONTEXT * 4];
    size_t o = 0;
    for (; o < sizeof buf && text[o] != '\0'; o++) {
        buf[o] = text[o] >= 0x20 && text[o] < 0x7f ? text[o] : '?';
    }
    context_store(s, which, buf, o);
}

const char *finding_context_name(enum finding_context which)
{
    static const char *const names[FINDING_CONTEXT_N] = {
        "banner", "client_name", "sni", "cert_subject", "cert_issuer", "proxy_target",
    };
    return which < FINDING_CONTEXT_N ? names[which] : "unknown";
}

void finding_drop_credential(struct session *s, struct credential *c)
{
    for (size_t i = 0; i < s->n_creds; i++) {
        if (s->creds[i] == c) {
            memmove(&s->creds[i], &s->creds[i + 1], (s->n_creds - i - 1) * sizeof s->creds[0]);
            s->n_creds--;
            s->creds[s->n_creds] = NULL;
            credential_free(c);
            return;
        }
    }
}

struct credential *finding_add_credential(struct session *s, const char *mechanism)
{
    if (s->n_creds >= FINDING_MAX_CREDS) {
        s->creds_dropped++;
        return NULL;
    }
    struct credential *c = xcalloc(1, sizeof *c);
    size_t n = strnlen(mechanism, FINDING_MAX_MECH - 1);
    memcpy(c->mechanism, mechanism, n);
    c->mechanism[n] = '\0';
    c->result = FINDING_RESULT_UNKNOWN;
    s->creds[s->n_creds++] = c;
    return c;
}

void finding_set_username(struct credential *c, const uint8_t *p, size_t len)
{
    if (len > FINDING_MAX_USER) {
        len = FINDING_MAX_USER;
        c->is_truncated = true;
    }
    memcpy(c->username, p, len);
    c->username_len = len;
    c->has_username = true;
}

/* Replaces *dst with a copy of p[0..len), cut at cap. */
static void set_owned(struct credential *c, uint8_t **dst, size_t *dst_len, const uint8_t *p,
                      size_t len, size_t cap)
{
    wipe_free(*dst, *dst_len);
    if (len > cap) {
        len = cap;
        c->is_truncated = true;
    }
    *dst = xmalloc(len);
    if (len > 0) {
        memcpy(*dst, p, len);
    }
    *dst_len = len;
}

void finding_set_secret(struct credential *c, const uint8_t *p, size_t len)
{
    set_owned(c, &c->secret, &c->secret_len, p, len, FINDING_MAX_SECRET);
}

void finding_set_challenge(struct credential *c, const uint8_t *p, size_t len)
{
    set_owned(c, &c->challenge, &c->challenge_len, p, len, FINDING_MAX_CHALLENGE);
}

void finding_set_response(struct credential *c, const uint8_t *p, size_t len)
{
    set_owned(c, &c->response, &c->response_len, p, len, FINDING_MAX_CHALLENGE);
}

void finding_set_anonymous(struct credential *c)
{
    c->is_anonymous = true;
}

bool finding_sensor_is_valid(const char *name)
{
    size_t len = strnlen(name, FINDING_MAX_SENSOR + 1);
    if (len == 0 || len > FINDING_MAX_SENSOR) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (name[i] < 33 || name[i] > 126) {
            return false;
        }
    }
    return true;
}

void finding_set_uid(struct session *s, const char *sensor)
{
    static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    uint8_t in[8 + 1 + 16 + 2 + 16 + 2];
    size_t n = 0;
    for (int i = 7; i >= 0; i--) {
        in[n++] = (uint8_t)(s->ts_start_usec >> (8 * i));
    }
    in[n++] = s->ip_version;
    memcpy(in + n, s->client_ip, 16);
    n += 16;
    in[n++] = (uint8_t)(s->client_port >> 8);
    in[n++] = (uint8_t)s->client_port;
    memcpy(in + n, s->server_ip, 16);
    n += 16;
    in[n++] = (uint8_t)(s->server_port >> 8);
    in[n++] = (uint8_t)s->server_port;
    uint8_t digest[SHA256_DIGEST_SIZE];
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    sha256_update(&ctx, n, in);
    /* The sensor last, after its length: the fields before it have fixed sizes, so no two
     * (sensor, tuple) pairs hash the same input. No sensor hashes as before sensors existed. */
    s->sensor = sensor;
    if (sensor != NULL) {
        size_t len = strnlen(sensor, FINDING_MAX_SENSOR);
        uint8_t len_byte = (uint8_t)len;
        sha256_update(&ctx, 1, &len_byte);
        sha256_update(&ctx, len, (const uint8_t *)sensor);
    }
    sha256_digest(&ctx, sizeof digest, digest);
    /* 17 base62 digits from the first 13 bytes (104 bits; 62^17 > 2^101). */
    uint8_t num[13];
    memcpy(num, digest, sizeof num);
    s->uid[0] = 'C';
    for (size_t d = FINDING_UID_LEN - 1; d >= 1; d--) {
        unsigned rem = 0;
        for (size_t k = 0; k < sizeof num; k++) {
            unsigned cur = rem << 8 | num[k];
            num[k] = (uint8_t)(cur / 62);
            rem = cur % 62;
        }
        s->uid[d] = b62[rem];
    }
    s->uid[FINDING_UID_LEN] = '\0';
}

void finding_set_community_id(struct session *s, uint16_t seed)
{
    /* The TCP tuple only: plainsight follows nothing else. IPv4 addresses are the first 4 of
     * the 16 bytes (decode.h), and memcmp over network-order bytes compares them as numbers. */
    const size_t alen = s->ip_version == 6 ? 16 : 4;
    const uint8_t *a = s->client_ip, *b = s->server_ip;
    uint16_t ap = s->client_port, bp = s->server_port;
    int cmp = memcmp(a, b, alen);
    if (cmp > 0 || (cmp == 0 && ap > bp)) {
        a = s->server_ip, b = s->client_ip;
        ap = s->server_port, bp = s->client_port;
    }
    /* seed (2) . src ip . dst ip . proto (1) . padding 0 (1) . src port (2) . dst port (2) */
    uint8_t in[2 + 16 + 16 + 1 + 1 + 2 + 2];
    size_t n = 0;
    in[n++] = (uint8_t)(seed >> 8);
    in[n++] = (uint8_t)seed;
    memcpy(in + n, a, alen);
    n += alen;
    memcpy(in + n, b, alen);
    n += alen;
    in[n++] = 6; /* IPPROTO_TCP */
    in[n++] = 0;
    in[n++] = (uint8_t)(ap >> 8);
    in[n++] = (uint8_t)ap;
    in[n++] = (uint8_t)(bp >> 8);
    in[n++] = (uint8_t)bp;
    uint8_t digest[SHA1_DIGEST_SIZE];
    struct sha1_ctx ctx;
    sha1_init(&ctx);
    sha1_update(&ctx, n, in);
    sha1_digest(&ctx, sizeof digest, digest);
    _Static_assert(2 + BASE64_ENCODE_RAW_LENGTH(SHA1_DIGEST_SIZE) == FINDING_COMMUNITY_ID_LEN,
                   "\"1:\" and the padded base64 of the digest");
    s->community_id[0] = '1';
    s->community_id[1] = ':';
    base64_encode_raw(s->community_id + 2, sizeof digest, digest);
    s->community_id[FINDING_COMMUNITY_ID_LEN] = '\0';
}

bool finding_credential_is_ready(const struct credential *c)
{
    return c->secret != NULL || c->response != NULL || c->result != FINDING_RESULT_UNKNOWN;
}

void finding_set_implicit_tls(struct session *s)
{
    s->tls = FINDING_TLS_IMPLICIT;
    s->starttls = FINDING_STARTTLS_NA;
}

void finding_set_upgraded(struct session *s)
{
    s->tls = FINDING_TLS_STARTTLS;
}

void finding_settle_starttls(struct session *s, bool is_refused, bool has_list, bool is_offered)
{
    if (s->tls == FINDING_TLS_IMPLICIT) {
        s->starttls = FINDING_STARTTLS_NA;
    } else if (s->tls == FINDING_TLS_STARTTLS) {
        s->starttls = FINDING_STARTTLS_USED;
    } else if (is_refused) {
        s->starttls = FINDING_STARTTLS_REFUSED;
    } else if (is_offered) {
        s->starttls = FINDING_STARTTLS_OFFERED_NOT_USED;
    } else if (has_list) {
        s->starttls = FINDING_STARTTLS_NOT_OFFERED;
    } else {
        s->starttls = FINDING_STARTTLS_UNKNOWN;
    }
}

enum ps_err finding_key_random(struct finding_key *k)
{
    uint8_t bytes[FINDING_KEY_LEN];
    if (getrandom(bytes, sizeof bytes, 0) != (ssize_t)sizeof bytes) {
        return PS_ERR_IO;
    }
    finding_key_set(k, bytes);
    explicit_bzero(bytes, sizeof bytes);
    return PS_OK;
}

void finding_key_set(struct finding_key *k, const uint8_t bytes[FINDING_KEY_LEN])
{
    memcpy(k->bytes, bytes, FINDING_KEY_LEN);
    k->is_set = true;
}

void finding_key_wipe(struct finding_key *k)
{
    explicit_bzero(k, sizeof *k);
}

/* Lower-case hex of n bytes into out (2n digits and a NUL). */
static void to_hex(const uint8_t *p, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 0xf];
    }
    out[2 * n] = '\0';
}

void finding_key_id(const struct finding_key *k, char out[FINDING_KEY_ID_HEX + 1])
{
    /* A label keeps the id from ever equalling any other hash of the key. */
    static const char label[] = "plainsight fingerprint key id";
    struct sha256_ctx ctx;
    uint8_t digest[SHA256_DIGEST_SIZE];
    sha256_init(&ctx);
    sha256_update(&ctx, sizeof label - 1, (const uint8_t *)label);
    sha256_update(&ctx, FINDING_KEY_LEN, k->bytes);
    sha256_digest(&ctx, sizeof digest, digest);
    _Static_assert(FINDING_KEY_ID_HEX / 2 <= SHA256_DIGEST_SIZE, "the id is a prefix of the hash");
    to_hex(digest, FINDING_KEY_ID_HEX / 2, out);
    explicit_bzero(&ctx, sizeof ctx);
}

void finding_finalize(struct session *s, const uint8_t key[FINDING_KEY_LEN])
{
    for (size_t i = 0; i < s->n_creds; i++) {
        struct credential *c = s->creds[i];
        if (c->secret == NULL) {
            c->fingerprint[0] = '\0';
            continue;
        }
        struct hmac_sha256_ctx ctx;
        uint8_t digest[SHA256_DIGEST_SIZE];
        hmac_sha256_set_key(&ctx, FINDING_KEY_LEN, key);
        hmac_sha256_update(&ctx, c->secret_len, c->secret);
        hmac_sha256_digest(&ctx, sizeof digest, digest);
        to_hex(digest, FINDING_FP_HEX / 2, c->fingerprint);
        explicit_bzero(&ctx, sizeof ctx);
        explicit_bzero(digest, sizeof digest);
    }
}

bool finding_credential_is_incomplete(const struct credential *c)
{
    return !c->is_anonymous && c->secret == NULL && c->response == NULL;
}

const char *finding_exposure(const struct session *s)
{
    bool has_challenge = false;
    bool has_anonymous = false;
    for (size_t i = 0; i < s->n_creds; i++) {
        if (s->creds[i]->is_anonymous || finding_credential_is_incomplete(s->creds[i])) {
            has_anonymous = true; /* seen in the clear, but nobody's secret (or not yet) */
        } else if (s->creds[i]->secret != NULL) {
            return "credentials";
        } else {
            has_challenge = true;
        }
    }
    if (has_challenge) {
        return "challenge-response";
    }
    if (has_anonymous || s->tls == FINDING_TLS_NONE) {
        return "cleartext";
    }
    return "none";
}

bool finding_is_exposed(const struct session *s)
{
    return strcmp(finding_exposure(s), "none") != 0;
}

const char *finding_proto_name(const char *protocol)
{
    return protocol != NULL ? protocol : "unknown";
}

const char *finding_tls_name(enum finding_tls t)
{
    switch (t) {
    case FINDING_TLS_STARTTLS:
        return "starttls";
    case FINDING_TLS_IMPLICIT:
        return "implicit";
    case FINDING_TLS_NONE:
        break;
    }
    return "none";
}

const char *finding_starttls_name(enum finding_starttls v)
{
    switch (v) {
    case FINDING_STARTTLS_USED:
        return "used";
    case FINDING_STARTTLS_OFFERED_NOT_USED:
        return "offered-not-used";
    case FINDING_STARTTLS_NOT_OFFERED:
        return "not-offered";
    case FINDING_STARTTLS_REFUSED:
        return "refused";
    case FINDING_STARTTLS_NA:
        return "n/a";
    case FINDING_STARTTLS_UNKNOWN:
        break;
    }
    return NULL;
}

const char *finding_result_name(enum finding_result r)
{
    switch (r) {
    case FINDING_RESULT_SUCCESS:
        return "success";
    case FINDING_RESULT_FAILURE:
        return "failure";
    case FINDING_RESULT_UNKNOWN:
        break;
    }
    return "unknown";
}

const char *finding_end_name(enum finding_end e)
{
    switch (e) {
    case FINDING_END_FIN:
        return "fin";
    case FINDING_END_RST:
        return "rst";
    case FINDING_END_IDLE:
        return "idle";
    case FINDING_END_EVICTED:
        return "evicted";
    case FINDING_END_OPEN:
        return "open";
    case FINDING_END_CAPTURE:
        break;
    }
    return "capture-end";
}

const char *finding_tls_version_name(uint16_t v, char *buf, size_t cap)
{
    switch (v) {
    case 0:
        return NULL;
    case 0x0300:
        return "SSLv3";
    case 0x0301:
        return "TLSv1.0";
    case 0x0302:
        return "TLSv1.1";
    case 0x0303:
        return "TLSv1.2";
    case 0x0304:
        return "TLSv1.3";
    default:
        snprintf(buf, cap, "0x%04x", v);
        return buf;
    }
}

bool finding_tls_version_is_weak(uint16_t v)
{
    return v != 0 && v < 0x0303;
}

char *finding_format_time(uint64_t ts_usec, char *buf, size_t cap)
{
    time_t sec = (time_t)(ts_usec / PS_USEC_PER_SEC);
    struct tm tm;
    if (gmtime_r(&sec, &tm) == NULL) {
        snprintf(buf, cap, "invalid");
        return buf;
    }
    char day[24];
    strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, cap, "%s.%06uZ", day, (unsigned)(ts_usec % PS_USEC_PER_SEC));
    return buf;
}

char *finding_format_ip(uint8_t ip_version, const uint8_t ip[16], char *buf, size_t cap)
{
    if (inet_ntop(ip_version == 6 ? AF_INET6 : AF_INET, ip, buf, (socklen_t)cap) == NULL) {
        snprintf(buf, cap, "?");
    }
    return buf;
}
