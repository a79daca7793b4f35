/* test_finding.c - unit tests for finding: limits, fingerprints, exposure, names, formatting. */
/*
 * Every field limit is tried exactly at its bound and one past it. The fingerprint is checked
 * against HMAC-SHA-256 values computed independently (Python's hmac module) with a 32-byte
 * key of bytes 0x00..0x1f, so a wrong key length, a wrong hash or a wrong cut shows.
 * Community IDs are checked against the TCP vectors the Community ID spec publishes
 * (github.com/corelight/community-id-spec, baseline/baseline_deflt.json and
 * baseline_seed1.json, made by its reference implementation): the strings Zeek and Suricata
 * write.
 */
#include "finding.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "tunables.h"

#define LIT(s) (const uint8_t *)(s), sizeof(s) - 1

/* 0x00, 0x01, ... 0x1f. */
static void key_seq(uint8_t key[FINDING_KEY_LEN], uint8_t start)
{
    for (size_t i = 0; i < FINDING_KEY_LEN; i++) {
        key[i] = (uint8_t)(start + i);
    }
}

static bool is_fp_hex(const char *fp)
{
    if (strlen(fp) != FINDING_FP_HEX) {
        return false;
    }
    for (size_t i = 0; i < FINDING_FP_HEX; i++) {
        char c = fp[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

/* ---- credentials and their limits ---- */

static void test_new_is_zeroed(void)
{
    struct session *s = finding_new();
    CHECK(s != NULL);
    CHECK_EQ_U(s->n_creds, 0);
    CHECK_EQ_U(s->creds_dropped, 0);
    CHECK_EQ_U(s->tls, FINDING_TLS_NONE);
    CHECK_EQ_U(s->starttls, FINDING_STARTTLS_UNKNOWN);
    CHECK_EQ_U(s->end_reason, FINDING_END_CAPTURE);
    CHECK(!s->is_parse_done);
    finding_free(s);
    finding_free(NULL);
}

static void test_max_creds(void)
{
    struct session *s = finding_new();
    for (size_t i = 0; i < FINDING_MAX_CREDS; i++) {
        struct credential *c = finding_add_credential(s, "USER/PASS");
        CHECK(c != NULL);
        if (c != NULL) {
            CHECK_EQ_U(c->result, FINDING_RESULT_UNKNOWN);
            CHECK(!c->has_username);
            CHECK(c->secret == NULL);
            CHECK(!c->is_truncated);
            CHECK(strcmp(c->mechanism, "USER/PASS") == 0);
            CHECK(s->creds[i] == c);
        }
        CHECK_EQ_U(s->n_creds, i + 1);
    }
    CHECK_EQ_U(s->creds_dropped, 0);
    CHECK(finding_add_credential(s, "USER/PASS") == NULL);
    CHECK_EQ_U(s->n_creds, FINDING_MAX_CREDS);
    CHECK_EQ_U(s->creds_dropped, 1);
    CHECK(finding_add_credential(s, "PLAIN") == NULL);
    CHECK_EQ_U(s->creds_dropped, 2);
    finding_free(s);
}

static void test_mechanism_limit(void)
{
    char name[FINDING_MAX_MECH + 8];
    struct session *s = finding_new();
    /* FINDING_MAX_MECH - 1 characters fit; one more is cut. */
    memset(name, 'M', sizeof name);
    name[FINDING_MAX_MECH - 1] = '\0';
    struct credential *c = finding_add_credential(s, name);
    CHECK(c != NULL && strlen(c->mechanism) == FINDING_MAX_MECH - 1);
    name[FINDING_MAX_MECH - 1] = 'M';
    name[FINDING_MAX_MECH] = '\0';
    c = finding_add_credential(s, name);
    CHECK(c != NULL && strlen(c->mechanism) == FINDING_MAX_MECH - 1);
    CHECK(c != NULL && memcmp(c->mechanism, name, FINDING_MAX_MECH - 1) == 0);
    c = finding_add_credential(s, "");
    CHECK(c != NULL && c->mechanism[0] == '\0');
    finding_free(s);
}

/* One field setter at its limit and one past; get reads the field back. */
typedef void set_fn(struct credential *c, const uint8_t *p, size_t len);

static void check_field_limit(set_fn *set, size_t limit, int which)
{
    uint8_t *buf = malloc(limit + 2);
    CHECK(buf != NULL);
    if (buf == NULL) {
        return;
    }
    for (size_t i = 0; i < limit + 2; i++) {
        buf[i] = (uint8_t)(i * 7u + 1u);
    }
    struct session *s = finding_new();
    struct credential *at = finding_add_credential(s, "X");
    struct credential *past = finding_add_credential(s, "X");
    set(at, buf, limit);
    set(past, buf, limit + 1);
    const uint8_t *got_at = NULL, *got_past = NULL;
    size_t len_at = 0, len_past = 0;
    switch (which) {
    case 0:
        got_at = at->username, len_at = at->username_len;
        got_past = past->username, len_past = past->username_len;
        CHECK(at->has_username && past->has_username);
        break;
    case 1:
        got_at = at->secret, len_at = at->secret_len;
        got_past = past->secret, len_past = past->secret_len;
        break;
    case 2:
        got_at = at->challenge, len_at = at->challenge_len;
        got_past = past->challenge, len_past = past->challenge_len;
        break;
    default:
        got_at = at->response, len_at = at->response_len;
        got_past = past->response, len_past = past->response_len;
        break;
    }
    CHECK_EQ_U(len_at, limit);
    CHECK(got_at != NULL && memcmp(got_at, buf, limit) == 0);
    CHECK(!at->is_truncated);
    CHECK_EQ_U(len_past, limit);
    CHECK(got_past != NULL && memcmp(got_past, buf, limit) == 0);
    CHECK(past->is_truncated);
    finding_free(s);
    free(buf);
}

static void test_field_limits(void)
{
    test_case_failed = 0;
    check_field_limit(finding_set_username, FINDING_MAX_USER, 0);
    CASE_DONE("username limit");
    check_field_limit(finding_set_secret, FINDING_MAX_SECRET, 1);
    CASE_DONE("secret limit");
    check_field_limit(finding_set_challenge, FINDING_MAX_CHALLENGE, 2);
    CASE_DONE("challenge limit");
    check_field_limit(finding_set_response, FINDING_MAX_CHALLENGE, 3);
    CASE_DONE("response limit");
}

/* Wire bytes are kept as they are: NUL, 0xff, CR. An empty secret is still a secret. */
static void test_fields_binary(void)
{
    struct session *s = finding_new();
    struct credential *c = finding_add_credential(s, "PLAIN");
    finding_set_username(c, LIT("a\0b\xff\r"));
    CHECK_MEM(c->username, c->username_len, "a\0b\xff\r");
    finding_set_secret(c, LIT(""));
    CHECK(c->secret != NULL);
    CHECK_EQ_U(c->secret_len, 0);
    CHECK(!c->is_truncated);
    finding_set_username(c, LIT(""));
    CHECK(c->has_username);
    CHECK_EQ_U(c->username_len, 0);
    finding_free(s);
}

static void test_replace(void)
{
    struct session *s = finding_new();
    struct credential *c = finding_add_credential(s, "LOGIN");
    finding_set_secret(c, LIT("first-secret"));
    finding_set_secret(c, LIT("2nd"));
    CHECK_MEM(c->secret, c->secret_len, "2nd");
    finding_set_secret(c, LIT("a much longer third secret"));
    CHECK_MEM(c->secret, c->secret_len, "a much longer third secret");
    finding_set_username(c, LIT("someone-long"));
    finding_set_username(c, LIT("me"));
    CHECK_MEM(c->username, c->username_len, "me");
    finding_set_challenge(c, LIT("<1@x>"));
    finding_set_challenge(c, LIT("<22@y>"));
    CHECK_MEM(c->challenge, c->challenge_len, "<22@y>");
    finding_set_response(c, LIT("r1"));
    finding_set_response(c, LIT("r2!"));
    CHECK_MEM(c->response, c->response_len, "r2!");
    CHECK(!c->is_truncated);
    finding_free(s);
}

/* ---- fingerprints ---- */

static void test_fingerprint_known_answer(void)
{
    uint8_t key[FINDING_KEY_LEN];
    key_seq(key, 0);
    struct session *s = finding_new();
    struct credential *a = finding_add_credential(s, "USER/PASS");
    struct credential *b = finding_add_credential(s, "USER/PASS");
    struct credential *e = finding_add_credential(s, "USER/PASS");
    finding_set_secret(a, LIT("password"));
    finding_set_secret(b, LIT("a\0b"));
    finding_set_secret(e, LIT(""));
    finding_finalize(s, key);
    /* python3: hmac.new(bytes(range(32)), msg, hashlib.sha256).hexdigest()[:32] */
    CHECK(strcmp(a->fingerprint, "efbcd5f31747b7a0b2be6b463f604026") == 0);
    CHECK(strcmp(b->fingerprint, "09411d0a4c23be2bab6c6a23b29a6152") == 0);
    CHECK(strcmp(e->fingerprint, "d38b42096d80f45f826b44a9d5607de7") == 0);
    finding_free(s);
}

static void test_fingerprint_properties(void)
{
    uint8_t k1[FINDING_KEY_LEN], k2[FINDING_KEY_LEN];
    key_seq(k1, 0);
    key_seq(k2, 0);
    k2[FINDING_KEY_LEN - 1] ^= 0x01; /* the last key byte matters too */

    struct session *s1 = finding_new();
    struct session *s2 = finding_new();
    struct credential *x = finding_add_credential(s1, "USER/PASS");
    struct credential *y = finding_add_credential(s1, "PLAIN");
    struct credential *z = finding_add_credential(s1, "PLAIN");
    struct credential *cr = finding_add_credential(s1, "CRAM-MD5");
    struct credential *w = finding_add_credential(s2, "USER/PASS");
    finding_set_secret(x, LIT("hunter2"));
    finding_set_secret(y, LIT("hunter2"));
    finding_set_secret(z, LIT("hunter3"));
    finding_set_username(cr, LIT("bob"));
    finding_set_challenge(cr, LIT("<1.2@host>"));
    finding_set_response(cr, LIT("bob 0123"));
    finding_set_secret(w, LIT("hunter2"));
    finding_finalize(s1, k1);
    finding_finalize(s2, k2);

    CHECK(is_fp_hex(x->fingerprint));
    CHECK(is_fp_hex(y->fingerprint));
    CHECK(is_fp_hex(z->fingerprint));
    CHECK(is_fp_hex(w->fingerprint));
    CHECK(strcmp(x->fingerprint, y->fingerprint) == 0);
    CHECK(strcmp(x->fingerprint, z->fingerprint) != 0);
    CHECK(strcmp(x->fingerprint, w->fingerprint) != 0);
    CHECK_EQ_U(cr->fingerprint[0], '\0');

    /* Finalizing again under the same key gives the same text. */
    char before[FINDING_FP_HEX + 1];
    memcpy(before, x->fingerprint, sizeof before);
    finding_finalize(s1, k1);
    CHECK(strcmp(before, x->fingerprint) == 0);
    finding_free(s1);
    finding_free(s2);
}

/* The secret as a whole is hashed, not a prefix or a C string. */
static void test_fingerprint_whole_secret(void)
{
    uint8_t key[FINDING_KEY_LEN];
    key_seq(key, 0x40);
    struct session *s = finding_new();
    struct credential *a = finding_add_credential(s, "PLAIN");
    struct credential *b = finding_add_credential(s, "PLAIN");
    struct credential *c = finding_add_credential(s, "PLAIN");
    finding_set_secret(a, LIT("ab\0c"));
    finding_set_secret(b, LIT("ab\0d"));
    uint8_t big[FINDING_MAX_SECRET];
    memset(big, 'q', sizeof big);
    finding_set_secret(c, big, sizeof big);
    finding_finalize(s, key);
    CHECK(strcmp(a->fingerprint, b->fingerprint) != 0);
    CHECK(is_fp_hex(c->fingerprint));
    finding_free(s);
}

/* ---- exposure ---- */

static void test_exposure(void)
{
    struct session *s = finding_new();
    CHECK(strcmp(finding_exposure(s), "cleartext") == 0);
    CHECK(finding_is_exposed(s));
    s->tls = FINDING_TLS_STARTTLS;
    CHECK(strcmp(finding_exposure(s), "none") == 0);
    CHECK(!finding_is_exposed(s));
    s->tls = FINDING_TLS_IMPLICIT;
    CHECK(strcmp(finding_exposure(s), "none") == 0);
    CHECK(!finding_is_exposed(s));

    /* A challenge-response login, even when TLS followed. */
    struct credential *c = finding_add_credential(s, "APOP");
    finding_set_username(c, LIT("mrose"));
    finding_set_challenge(c, LIT("<1896.697170952@dbc.mtview.ca.us>"));
    finding_set_response(c, LIT("c4c9334bac560ecc979e58001b3e22fb"));
    CHECK(strcmp(finding_exposure(s), "challenge-response") == 0);
    CHECK(finding_is_exposed(s));
    s->tls = FINDING_TLS_NONE;
    CHECK(strcmp(finding_exposure(s), "challenge-response") == 0);

    /* A cleartext secret anywhere in the list is the most severe. */
    c = finding_add_credential(s, "USER/PASS");
    finding_set_secret(c, LIT("x"));
    CHECK(strcmp(finding_exposure(s), "credentials") == 0);
    s->tls = FINDING_TLS_STARTTLS;
    CHECK(strcmp(finding_exposure(s), "credentials") == 0);
    CHECK(finding_is_exposed(s));
    finding_free(s);

    /* A secret first, then a challenge-response. */
    s = finding_new();
    c = finding_add_credential(s, "PLAIN");
    finding_set_secret(c, LIT("pw"));
    c = finding_add_credential(s, "CRAM-MD5");
    finding_set_username(c, LIT("u"));
    CHECK(strcmp(finding_exposure(s), "credentials") == 0);
    finding_free(s);

    /* An anonymous login: seen in the clear, so "cleartext" even after TLS, never more. */
    s = finding_new();
    c = finding_add_credential(s, "USER/PASS");
    CHECK(!c->is_anonymous);
    finding_set_username(c, LIT("anonymous"));
    finding_set_secret(c, LIT("guest@example.org"));
    finding_set_anonymous(c);
    CHECK(c->is_anonymous);
    CHECK(strcmp(finding_exposure(s), "cleartext") == 0);
    s->tls = FINDING_TLS_STARTTLS;
    CHECK(strcmp(finding_exposure(s), "cleartext") == 0);
    CHECK(finding_is_exposed(s));
    /* A real password beside it still rules, and so does a challenge-response. */
    c = finding_add_credential(s, "CRAM-MD5");
    finding_set_username(c, LIT("u"));
    /* Cut before its response: incomplete, the user name its only exposure. */
    CHECK(finding_credential_is_incomplete(c));
    CHECK(strcmp(finding_exposure(s), "cleartext") == 0);
    finding_set_response(c, LIT("u 0123456789abcdef"));
    CHECK(!finding_credential_is_incomplete(c));
    CHECK(strcmp(finding_exposure(s), "challenge-response") == 0);
    c = finding_add_credential(s, "USER/PASS");
    finding_set_secret(c, LIT("pw"));
    CHECK(strcmp(finding_exposure(s), "credentials") == 0);
    finding_free(s);
}

/* ---- names ---- */

static bool str_is(const char *got, const char *want)
{
    if (got == NULL || want == NULL) {
        return got == want;
    }
    return strcmp(got, want) == 0;
}

static void test_names(void)
{
    CHECK(str_is(finding_proto_name(NULL), "unknown"));
    CHECK(str_is(finding_proto_name("smtp"), "smtp"));

    CHECK(str_is(finding_tls_name(FINDING_TLS_NONE), "none"));
    CHECK(str_is(finding_tls_name(FINDING_TLS_STARTTLS), "starttls"));
    CHECK(str_is(finding_tls_name(FINDING_TLS_IMPLICIT), "implicit"));

    CHECK(finding_starttls_name(FINDING_STARTTLS_UNKNOWN) == NULL);
    CHECK(str_is(finding_starttls_name(FINDING_STARTTLS_USED), "used"));
    CHECK(str_is(finding_starttls_name(FINDING_STARTTLS_OFFERED_NOT_USED), "offered-not-used"));
    CHECK(str_is(finding_starttls_name(FINDING_STARTTLS_NOT_OFFERED), "not-offered"));
    CHECK(str_is(finding_starttls_name(FINDING_STARTTLS_REFUSED), "refused"));
    CHECK(str_is(finding_starttls_name(FINDING_STARTTLS_NA), "n/a"));

    CHECK(str_is(finding_result_name(FINDING_RESULT_UNKNOWN), "unknown"));
    CHECK(str_is(finding_result_name(FINDING_RESULT_SUCCESS), "success"));
    CHECK(str_is(finding_result_name(FINDING_RESULT_FAILURE), "failure"));

    CHECK(str_is(finding_end_name(FINDING_END_CAPTURE), "capture-end"));
    CHECK(str_is(finding_end_name(FINDING_END_FIN), "fin"));
    CHECK(str_is(finding_end_name(FINDING_END_RST), "rst"));
    CHECK(str_is(finding_end_name(FINDING_END_IDLE), "idle"));
    CHECK(str_is(finding_end_name(FINDING_END_EVICTED), "evicted"));
}

static void test_tls_version(void)
{
    static const struct {
        uint16_t v;
        const char *name;
        bool is_weak;
    } known[] = {
        { 0x0300, "SSLv3", true },    { 0x0301, "TLSv1.0", true },  { 0x0302, "TLSv1.1", true },
        { 0x0303, "TLSv1.2", false }, { 0x0304, "TLSv1.3", false },
    };
    char buf[8];
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        memset(buf, 'X', sizeof buf);
        CHECK(str_is(finding_tls_version_name(known[i].v, buf, sizeof buf), known[i].name));
        CHECK_EQ_U(finding_tls_version_is_weak(known[i].v), known[i].is_weak);
    }
    CHECK(finding_tls_version_name(0, buf, sizeof buf) == NULL);
    CHECK(!finding_tls_version_is_weak(0));

    /* Unknown versions: "0xHHHH" in the caller's buffer (cap 8 is enough). */
    const char *n = finding_tls_version_name(0x7f1c, buf, sizeof buf); /* a TLS 1.3 draft */
    CHECK(n == buf);
    CHECK(str_is(n, "0x7f1c"));
    CHECK(!finding_tls_version_is_weak(0x7f1c));
    CHECK(str_is(finding_tls_version_name(0xfefd, buf, sizeof buf), "0xfefd")); /* DTLS 1.2 */
    CHECK(!finding_tls_version_is_weak(0xfefd));
    CHECK(str_is(finding_tls_version_name(0x0a0a, buf, sizeof buf), "0x0a0a")); /* GREASE */
    CHECK(!finding_tls_version_is_weak(0x0a0a));
    CHECK(str_is(finding_tls_version_name(0xffff, buf, sizeof buf), "0xffff"));
    CHECK(str_is(finding_tls_version_name(0x0305, buf, sizeof buf), "0x0305"));
    CHECK(!finding_tls_version_is_weak(0x0305));
    /* A small buffer is cut, never overrun. */
    char small[4] = { 'X', 'X', 'X', 'X' };
    n = finding_tls_version_name(0x7f1c, small, 3);
    CHECK(n == small && small[2] == '\0' && small[3] == 'X');
}

/* ---- formatting ---- */

static void test_format_time(void)
{
    char buf[32];
    CHECK(str_is(finding_format_time(0, buf, sizeof buf), "1970-01-01T00:00:00.000000Z"));
    CHECK(str_is(finding_format_time(1700000000123456u, buf, sizeof buf),
                 "2023-11-14T22:13:20.123456Z"));
    CHECK(str_is(finding_format_time(951782400000001u, buf, sizeof buf),
                 "2000-02-29T00:00:00.000001Z"));
    CHECK(str_is(finding_format_time(999999u, buf, sizeof buf), "1970-01-01T00:00:00.999999Z"));
    CHECK(str_is(finding_format_time(4102444799999999u, buf, sizeof buf),
                 "2099-12-31T23:59:59.999999Z"));
    /* 27 characters and the NUL: 28 bytes are enough. */
    char exact[28];
    CHECK(str_is(finding_format_time(1700000000123456u, exact, sizeof exact),
                 "2023-11-14T22:13:20.123456Z"));
    /* Whatever the value, a terminated string comes back. */
    char *t = finding_format_time(UINT64_MAX, buf, sizeof buf);
    CHECK(t == buf && memchr(buf, '\0', sizeof buf) != NULL);
}

static void check_ip(uint8_t version, const uint8_t ip[16], const char *want)
{
    char buf[46];
    memset(buf, 'X', sizeof buf);
    CHECK(str_is(finding_format_ip(version, ip, buf, sizeof buf), want));
}

static void test_format_ip(void)
{
    static const uint8_t v4[16] = { 192, 0, 2, 1 };
    static const uint8_t v4_zero[16] = { 0 };
    static const uint8_t v4_max[16] = { 255, 255, 255, 255 };
    static const uint8_t doc1[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
    /* 2001:db8:0:0:1:0:0:1: two runs of equal length, the first is compressed */
    static const uint8_t tie[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1 };
    /* 2001:0:0:1:0:0:0:1: the longer run is compressed */
    static const uint8_t longer[16] = { 0x20, 0x01, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 };
    /* 2001:db8:0:1:1:1:1:1: a single zero group is not compressed */
    static const uint8_t single[16] = {
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1
    };
    static const uint8_t upper[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0,    0,
                                       0,    0,    0,    0,    0, 0, 0xab, 0xcd };
    static const uint8_t any[16] = { 0 };
    static const uint8_t loop[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
    static const uint8_t mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1 };
    static const uint8_t link[16] = { 0xfe, 0x80 };
    static const uint8_t all_f[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                       0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

    check_ip(4, v4, "192.0.2.1");
    check_ip(4, v4_zero, "0.0.0.0");
    check_ip(4, v4_max, "255.255.255.255");
    check_ip(6, doc1, "2001:db8::1");
    check_ip(6, tie, "2001:db8::1:0:0:1");
    check_ip(6, longer, "2001:0:0:1::1");
    check_ip(6, single, "2001:db8:0:1:1:1:1:1");
    check_ip(6, upper, "2001:db8::abcd");
    check_ip(6, any, "::");
    check_ip(6, loop, "::1");
    check_ip(6, mapped, "::ffff:192.0.2.1");
    check_ip(6, link, "fe80::");
    check_ip(6, all_f, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");

    /* Too small a buffer: a placeholder, never an overrun. */
    char small[4] = { 'X', 'X', 'X', 'X' };
    CHECK(str_is(finding_format_ip(6, all_f, small, 2), "?"));
    CHECK_EQ_U(small[3], 'X');
}

/* One published vector: the tuple as the packet had it, the seed, the id. */
struct cid_vector {
    uint8_t ip_version;
    const char *saddr, *daddr;
    uint16_t sport, dport;
    uint16_t seed;
    const char *id;
};

static const struct cid_vector cid_vectors[] = {
    { 4, "128.232.110.120", "66.35.250.204", 34855, 80, 0, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=" },
    { 4, "66.35.250.204", "128.232.110.120", 80, 34855, 0, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=" },
    { 4, "128.232.110.120", "66.35.250.204", 34855, 80, 1, "1:3V71V58M3Ksw/yuFALMcW0LAHvc=" },
    { 4, "66.35.250.204", "128.232.110.120", 80, 34855, 1, "1:3V71V58M3Ksw/yuFALMcW0LAHvc=" },
    { 6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25, 0,
      "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=" },
    { 6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25, 63943, 0,
      "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=" },
    { 6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25, 1,
      "1:eJYTW6AOzFLlSUoESovMjnu7rMw=" },
    { 6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25, 63943, 1,
      "1:eJYTW6AOzFLlSUoESovMjnu7rMw=" },
};

/* A session with the tuple: the packet's source as the client. */
static void cid_session(struct session *s, uint8_t ip_version, const char *saddr, const char *daddr,
                        uint16_t sport, uint16_t dport)
{
    int af = ip_version == 6 ? AF_INET6 : AF_INET;
    memset(s, 0, sizeof *s);
    s->ip_version = ip_version;
    CHECK(inet_pton(af, saddr, s->client_ip) == 1);
    CHECK(inet_pton(af, daddr, s->server_ip) == 1);
    s->client_port = sport;
    s->server_port = dport;
}

static void test_community_id_vectors(void)
{
    for (size_t i = 0; i < sizeof cid_vectors / sizeof cid_vectors[0]; i++) {
        const struct cid_vector *v = &cid_vectors[i];
        struct session s;
        cid_session(&s, v->ip_version, v->saddr, v->daddr, v->sport, v->dport);
        finding_set_community_id(&s, v->seed);
        if (!str_is(s.community_id, v->id)) {
            fprintf(stderr, "vector %zu: %s, want %s\n", i, s.community_id, v->id);
            CHECK(false);
        }
        CHECK_EQ_U(strlen(s.community_id), FINDING_COMMUNITY_ID_LEN);
    }
}

/* The spec's ordering rules: the smaller address first, and the smaller port when the
 * addresses are equal; the seed changes the id. */
static void test_community_id_order(void)
{
    struct session a, b;
    /* The spec's example: both directions order into 10.0.0.1, 127.0.0.1, 1234, 80. */
    cid_session(&a, 4, "10.0.0.1", "127.0.0.1", 1234, 80);
    cid_session(&b, 4, "127.0.0.1", "10.0.0.1", 80, 1234);
    finding_set_community_id(&a, 0);
    finding_set_community_id(&b, 0);
    CHECK(str_is(a.community_id, b.community_id));
    /* Equal addresses: the ports decide. */
    cid_session(&a, 6, "::1", "::1", 40000, 143);
    cid_session(&b, 6, "::1", "::1", 143, 40000);
    finding_set_community_id(&a, 0);
    finding_set_community_id(&b, 0);
    CHECK(str_is(a.community_id, b.community_id));
    /* Another port is another flow; another seed is another id; the largest seed works. */
    cid_session(&b, 6, "::1", "::1", 143, 40001);
    finding_set_community_id(&b, 0);
    CHECK(!str_is(a.community_id, b.community_id));
    cid_session(&b, 6, "::1", "::1", 143, 40000);
    finding_set_community_id(&b, UINT16_MAX);
    CHECK(!str_is(a.community_id, b.community_id));
    CHECK(strncmp(b.community_id, "1:", 2) == 0);
    CHECK_EQ_U(strlen(b.community_id), FINDING_COMMUNITY_ID_LEN);
}

/* Sensor names: printable ASCII without spaces, 1 to FINDING_MAX_SENSOR bytes. */
static void test_sensor_name(void)
{
    char name[FINDING_MAX_SENSOR + 2];
    memset(name, 'a', sizeof name);
    name[FINDING_MAX_SENSOR] = '\0';
    CHECK(finding_sensor_is_valid(name)); /* at the bound */
    name[FINDING_MAX_SENSOR] = 'a';
    name[FINDING_MAX_SENSOR + 1] = '\0';
    CHECK(!finding_sensor_is_valid(name)); /* one past */
    CHECK(finding_sensor_is_valid("x"));
    CHECK(finding_sensor_is_valid("mx-1.dmz.example.org"));
    CHECK(finding_sensor_is_valid("!~"));
    CHECK(!finding_sensor_is_valid(""));
    CHECK(!finding_sensor_is_valid("two words"));
    CHECK(!finding_sensor_is_valid("tab\there"));
    CHECK(!finding_sensor_is_valid("nl\n"));
    CHECK(!finding_sensor_is_valid("del\x7f"));
    CHECK(!finding_sensor_is_valid("esc\x1b[31m"));
    CHECK(!finding_sensor_is_valid("caf\xc3\xa9"));
}

/* The sensor is in the uid: one session seen by two sensors has two uids; the record keeps the
 * sensor it was given. */
static void test_uid_sensor(void)
{
    struct session a, b;
    cid_session(&a, 4, "192.0.2.1", "192.0.2.25", 40000, 25);
    cid_session(&b, 4, "192.0.2.1", "192.0.2.25", 40000, 25);
    a.ts_start_usec = b.ts_start_usec = 1700000000123456u;
    finding_set_uid(&a, "sensor-a");
    finding_set_uid(&b, "sensor-a");
    CHECK(str_is(a.uid, b.uid));
    CHECK(str_is(a.sensor, "sensor-a"));
    finding_set_uid(&b, "sensor-b");
    CHECK(!str_is(a.uid, b.uid));
    CHECK(str_is(b.sensor, "sensor-b"));
    /* A sensor that is a prefix of another still differs. */
    finding_set_uid(&b, "sensor-");
    CHECK(!str_is(a.uid, b.uid));
    finding_set_uid(&b, NULL);
    CHECK(!str_is(a.uid, b.uid));
    CHECK(b.sensor == NULL);
    CHECK(b.uid[0] == 'C' && strlen(b.uid) == FINDING_UID_LEN);
}

/* Context fields: escaped, bounded at FINDING_MAX_CONTEXT wire bytes, replaced, cleared, and
 * their heap cost kept in ctx_mem; an already-escaped text keeps its backslashes. */
static void test_context(void)
{
    struct session *s = finding_new();
    CHECK(s->context[FINDING_CONTEXT_BANNER] == NULL);
    CHECK_EQ_U(s->ctx_mem, 0);
    finding_set_context(s, FINDING_CONTEXT_BANNER, (const uint8_t *)"220 a\x00\x1b\\\xff\"", 10);
    CHECK(strcmp(s->context[FINDING_CONTEXT_BANNER], "220 a\\x00\\x1b\\\\\\xff\"") == 0);
    size_t one = s->ctx_mem;
    CHECK(one > 0);
    uint8_t big[FINDING_MAX_CONTEXT + 1];
    memset(big, 'x', sizeof big);
    finding_set_context(s, FINDING_CONTEXT_SNI, big, FINDING_MAX_CONTEXT);
    CHECK_EQ_U(strlen(s->context[FINDING_CONTEXT_SNI]), FINDING_MAX_CONTEXT);
    finding_set_context(s, FINDING_CONTEXT_SNI, big, sizeof big);
    CHECK_EQ_U(strlen(s->context[FINDING_CONTEXT_SNI]), FINDING_MAX_CONTEXT);
    memset(big, 0x01, sizeof big);
    finding_set_context(s, FINDING_CONTEXT_SNI, big, sizeof big);
    CHECK_EQ_U(strlen(s->context[FINDING_CONTEXT_SNI]), 4 * FINDING_MAX_CONTEXT);
    finding_set_context(s, FINDING_CONTEXT_SNI, big, 0);
    CHECK(s->context[FINDING_CONTEXT_SNI] == NULL);
    CHECK_EQ_U(s->ctx_mem, one);
    finding_set_context_text(s, FINDING_CONTEXT_CERT_SUBJECT, "CN=a\\,b\x7f\n");
    CHECK(strcmp(s->context[FINDING_CONTEXT_CERT_SUBJECT], "CN=a\\,b??") == 0);
    CHECK(strcmp(finding_context_name(FINDING_CONTEXT_PROXY_TARGET), "proxy_target") == 0);
    CHECK(strcmp(finding_context_name(FINDING_CONTEXT_CLIENT_NAME), "client_name") == 0);
    finding_free(s);
}

int main(void)
{
    RUN(test_new_is_zeroed);
    RUN(test_max_creds);
    RUN(test_mechanism_limit);
    test_field_limits();
    RUN(test_fields_binary);
    RUN(test_replace);
    RUN(test_fingerprint_known_answer);
    RUN(test_fingerprint_properties);
    RUN(test_fingerprint_whole_secret);
    RUN(test_exposure);
    RUN(test_names);
    RUN(test_tls_version);
    RUN(test_format_time);
    RUN(test_format_ip);
    RUN(test_community_id_vectors);
    RUN(test_community_id_order);
    RUN(test_sensor_name);
    RUN(test_uid_sensor);
    RUN(test_context);
    return TEST_SUMMARY();
}
