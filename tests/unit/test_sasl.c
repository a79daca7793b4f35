/* test_sasl.c - unit tests for sasl.c: base64, each mechanism's messages, counters, verdicts.
 *
 * The exchange table replays what a parser would pass on (start with or without an initial
 * response, server challenges, client lines, the verdict) and checks the credential and the
 * counters. Vectors come from the RFCs: RFC 4648 section 10 (base64), RFC 4616 section 4
 * (PLAIN), RFC 2195 section 2 (CRAM-MD5), RFC 2831 section 4 (DIGEST-MD5), RFC 7628 sections
 * 4.1 and 4.3 (OAUTHBEARER), RFC 7677 section 3 (SCRAM-SHA-256), and Google's XOAUTH2 format.
 * Every message is copied into a buffer of its exact size, so a read past it is an ASan
 * report; limits are checked at the bound and one past it. */
#include "sasl.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "proto.h"
#include "test.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Test-side encoder (padded), into a new NUL-terminated buffer (free with free). */
static char *b64_encode(const uint8_t *p, size_t n, size_t *out_len)
{
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    if (out == NULL) {
        abort();
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n) {
            v |= (uint32_t)p[i + 1] << 8;
        }
        if (i + 2 < n) {
            v |= p[i + 2];
        }
        out[o++] = b64_alphabet[v >> 18 & 63];
        out[o++] = b64_alphabet[v >> 12 & 63];
        out[o++] = i + 1 < n ? b64_alphabet[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? b64_alphabet[v & 63] : '=';
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

/* A copy of p[0..n) in its own allocation of exactly n bytes (at least 1). */
static uint8_t *exact_copy(const void *p, size_t n)
{
    uint8_t *q = malloc(n > 0 ? n : 1);
    if (q == NULL) {
        abort();
    }
    if (n > 0) {
        memcpy(q, p, n);
    }
    return q;
}

/* ---- base64 ---- */

struct b64_case {
    const char *in;
    size_t in_len;
    bool is_ok;
    const char *out;
    size_t out_len;
};

#define B64_OK(in, out)                                                                            \
    {                                                                                              \
        in, sizeof(in) - 1, true, out, sizeof(out) - 1                                             \
    }
#define B64_BAD(in)                                                                                \
    {                                                                                              \
        in, sizeof(in) - 1, false, "", 0                                                           \
    }

static const struct b64_case b64_cases[] = {
    /* RFC 4648 section 10 */
    B64_OK("", ""),
    B64_OK("Zg==", "f"),
    B64_OK("Zm8=", "fo"),
    B64_OK("Zm9v", "foo"),
    B64_OK("Zm9vYg==", "foob"),
    B64_OK("Zm9vYmE=", "fooba"),
    B64_OK("Zm9vYmFy", "foobar"),
    /* the SASL empty response */
    B64_OK("=", ""),
    /* unpadded tails of 2 and 3 characters */
    B64_OK("Zg", "f"),
    B64_OK("Zm8", "fo"),
    B64_OK("Zm9vYg", "foob"),
    B64_OK("Zm9vYmE", "fooba"),
    /* every character of the alphabet */
    B64_OK("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
           "\x00\x10\x83\x10\x51\x87\x20\x92\x8b\x30\xd3\x8f\x41\x14\x93\x51\x55\x97\x61\x96"
           "\x9b\x71\xd7\x9f\x82\x18\xa3\x92\x59\xa7\xa2\x9a\xab\xb2\xdb\xaf\xc3\x1c\xb3\xd3"
           "\x5d\xb7\xe3\x9e\xbb\xf3\xdf\xbf"),
    B64_OK("////", "\xff\xff\xff"),
    B64_OK("++++", "\xfb\xef\xbe"),
    B64_OK("AAAA", "\0\0\0"),
    /* non-zero pad bits are ignored (RFC 4648 section 3.5 lets a decoder accept them) */
    B64_OK("Zh==", "f"),
    B64_OK("Zm9=", "fo"),
    /* length one past a multiple of 4 */
    B64_BAD("Z"),
    B64_BAD("Zm9vY"),
    /* padding in the wrong place or of the wrong length */
    B64_BAD("=="),
    B64_BAD("==="),
    B64_BAD("===="),
    B64_BAD("Z==="),
    B64_BAD("Zg="),
    B64_BAD("Zm9=="),
    B64_BAD("Zg==Zg=="),
    B64_BAD("Zg=="
            "="),
    B64_BAD("Z=9v"),
    B64_BAD("=m9v"),
    B64_BAD("Zm9v===="),
    B64_BAD("Zm9v="),
    /* bytes outside the alphabet */
    B64_BAD("Zm9v "),
    B64_BAD(" Zm9v"),
    B64_BAD("Zm 9v"),
    B64_BAD("Zm9v\r\n"),
    B64_BAD("Zm9\tv"),
    B64_BAD("Zm9-"), /* base64url is not SASL's alphabet */
    B64_BAD("Zm9_"),
    B64_BAD("Zm9."),
    B64_BAD("Zm9\x80"),
    B64_BAD("Zm9\xff"),
    B64_BAD("Zm9\0"),
    B64_BAD("Zm9:"), /* '9' + 1 */
    B64_BAD("Zm9@"), /* 'A' - 1 */
    B64_BAD("Zm9["), /* 'Z' + 1 */
    B64_BAD("Zm9`"), /* 'a' - 1 */
    B64_BAD("Zm9{"), /* 'z' + 1 */
    B64_BAD("Zm9*"), /* '+' - 1 */
    B64_BAD("Zm9,"), /* '+' + 1 */
    B64_BAD("*"),
};

static void test_b64_table(void)
{
    for (size_t i = 0; i < sizeof b64_cases / sizeof b64_cases[0]; i++) {
        const struct b64_case *c = &b64_cases[i];
        uint8_t *in = exact_copy(c->in, c->in_len);
        uint8_t out[64];
        size_t out_len = 9999;
        bool is_ok = sasl_b64_decode(in, c->in_len, out, sizeof out, &out_len);
        if (is_ok != c->is_ok ||
            (is_ok && (out_len != c->out_len || memcmp(out, c->out, out_len) != 0))) {
            fprintf(stderr, "  base64 \"%s\": got %d, %zu bytes\n", c->in, is_ok,
                    is_ok ? out_len : 0);
            test_case_failed = 1;
        }
        /* The same with an output buffer of exactly the decoded size, then one byte less. */
        if (c->is_ok) {
            uint8_t *exact = malloc(c->out_len > 0 ? c->out_len : 1);
            if (exact == NULL) {
                abort();
            }
            CHECK(sasl_b64_decode(in, c->in_len, exact, c->out_len, &out_len));
            CHECK(out_len == c->out_len && memcmp(exact, c->out, out_len) == 0);
            if (c->out_len > 0) {
                CHECK(!sasl_b64_decode(in, c->in_len, exact, c->out_len - 1, &out_len));
            }
            free(exact);
        }
        free(in);
    }
}

/* The output cap at the bound and one past it, on the longest line a parser passes on. */
static void test_b64_cap(void)
{
    size_t len = LINE_MAX_LEN;
    uint8_t *in = malloc(len);
    if (in == NULL) {
        abort();
    }
    memset(in, 'A', len);
    size_t cap = LINE_MAX_LEN / 4 * 3;
    uint8_t *out = malloc(cap);
    if (out == NULL) {
        abort();
    }
    size_t out_len = 0;
    CHECK(sasl_b64_decode(in, len, out, cap, &out_len));
    CHECK_EQ_U(out_len, cap);
    CHECK(!sasl_b64_decode(in, len, out, cap - 1, &out_len));
    /* Unpadded, 3 past a multiple of 4: two bytes more than the quads give. */
    CHECK(sasl_b64_decode(in, 7, out, 5, &out_len));
    CHECK_EQ_U(out_len, 5);
    CHECK(!sasl_b64_decode(in, 7, out, 4, &out_len));
    /* Nothing to write: a zero cap is enough. */
    CHECK(sasl_b64_decode(in, 0, NULL, 0, &out_len));
    CHECK_EQ_U(out_len, 0);
    free(out);
    free(in);
}

/* ---- exchanges ---- */

struct bytes {
    const char *p; /* NULL: absent */
    size_t len;
};

/* Expected bytes; a field left out of a row is { NULL, 0 }: absent. */
#define B(lit)                                                                                     \
    {                                                                                              \
        .p = (lit), .len = sizeof(lit) - 1                                                         \
    }

/* One thing the parser passes on. Kinds: 'I'/'i' initial response, 'C'/'c' client line,
 * 'S'/'s' server challenge (upper case: base64 as on the wire; lower case: raw bytes the test
 * encodes); 'Y' success verdict, 'F' failure verdict, 'A' abort. */
struct ev {
    char kind;
    const char *data;
    size_t len;
};

#define EV(k, lit)                                                                                 \
    {                                                                                              \
        .kind = (k), .data = (lit), .len = sizeof(lit) - 1                                         \
    }
#define VERDICT(k)                                                                                 \
    {                                                                                              \
        .kind = (k)                                                                                \
    }

struct counts {
    uint64_t bad_base64, malformed, cancelled, unsupported;
};

struct sasl_case {
    const char *name;
    const char *mech;
    struct ev ir; /* kind 0: no initial response */
    struct ev evs[8];
    size_t n_creds;
    const char *cred_mech;
    struct bytes user, secret, challenge, response;
    enum finding_result result;
    struct counts counts;
};

static const struct sasl_case sasl_cases[] = {
    {
        .name = "PLAIN RFC 4616 tim",
        .mech = "PLAIN",
        .evs = { EV('S', ""), EV('c', "\0tim\0tanstaaftanstaaf"), VERDICT('Y') },
        .n_creds = 1,
        .cred_mech = "PLAIN",
        .user = B("tim"),
        .secret = B("tanstaaftanstaaf"),
        .result = FINDING_RESULT_SUCCESS,
    },
    {
        .name = "PLAIN RFC 4616 authzid Ursel, authcid Kurt",
        .mech = "PLAIN",
        .evs = { EV('S', ""), EV('c', "Ursel\0Kurt\0xipj3plmq"), VERDICT('F') },
        .n_creds = 1,
        .cred_mech = "PLAIN",
        .user = B("Kurt"),
        .secret = B("xipj3plmq"),
        .result = FINDING_RESULT_FAILURE,
    },
    {
        .name = "PLAIN initial response",
        .mech = "PLAIN",
        .ir = EV('I', "AGRpZ2l0YWxpbnZlc3RpZ2F0b3JAbmV0d29ya3NpbXMuY29tAG5hcGllcg=="),
        .evs = { VERDICT('Y') },
        .n_creds = 1,
        .cred_mech = "PLAIN",
        .user = B("digitalinvestigator@networksims.com"),
        .secret = B("napier"),
        .result = FINDING_RESULT_SUCCESS,
    },
    {
        .name = "PLAIN unpadded initial response",
        .mech = "PLAIN",
        .ir = EV('I', "AGRpZ2l0YWxpbnZlc3RpZ2F0b3JAbmV0d29ya3NpbXMuY29tAG5hcGllcg"),
        .evs = { VERDICT('Y') },
        .n_creds = 1,
        .cred_mech = "PLAIN",
        .user = B("digitalinvestigator@networksims.com"),
        .secret = B("napier"),
        .result = FINDING_RESULT_SUCCESS,
    },
    {
        .name = "PLAIN authzid with empty authcid",
        .mech = "PLAIN",
        .ir = EV('i', "admin\0\0s3cret"),
        .evs = { VERDICT('F') },
        .n_creds = 1,
        .cred_mech = "PLAIN",
        .user = B("admin"),
        .secret = B("s3cret"),
        .result = FINDING_RESULT_FAILURE,
    },
    {
        .name = "PLAIN empty password",
        .mech = "PLAIN",
        .ir = EV('i', "\0bob\0"),
        .evs = { VERDICT('F') },
        .n_creds = 1,
        .cred_mech = "PLAIN",
        .user = B("bob"),
        .secret = B(""),
        .result = FINDING_RESULT_FAILURE,
    },
    {
        .name = "PLAIN no user, a password",
        .mech = "PLAIN",
        .ir = EV('i', "\0\0pw"),
        .evs = { VERDICT('F') },
        .n_creds = 1,
        .cred_mech = "PLAIN",
        .secret = B("pw"),
        .result = FINDING_RESULT_FAILURE,
    },
    {
        .name = "PLAIN one NUL",
        .mech = "PLAIN",
        .ir = EV('i', "bob\0pw"),
        .evs = { VERDICT('F') },
        .counts = { .malformed = 1 },
    },
    {
        .name = "PLAIN three NULs",
        .mech = "PLAIN",
        .ir = EV('i', "a\0b\0c\0d"),
        .evs = { VERDICT('F') },
        .counts = { .malformed = 1 },
    },
    {
        .name = "PLAIN no NUL",
        .mech = "PLAIN",
        .ir = EV('i', "bobpw"),
        .evs = { VERDICT('F') },
        .counts = { .malformed = 1 },
    },
    {
        .name = "PLAIN nothing but NULs",
        .mech = "PLAIN",
        .ir = EV('i', "\0\0"),
        .evs = { VERDICT('F') },
        .counts = { .malformed = 1 },
    },
    {
        .name = "PLAIN empty initial response",
        .mech = "PLAIN",
        .ir = EV('I', "="),
        .evs = { VERDICT('F') },
        .counts = { .malformed = 1 },
    },
    {
        .name = "PLAIN bad base64",
        .mech = "PLAIN",
        .ir = EV('I', "AGJvYgBwdw=!"),
        .evs = { VERDICT('F') },
        .counts = { .bad_base64 = 1 },
    },
    {
        .name = "PLAIN lower-case mechanism",
        .mech = "plain",
        .ir = EV('i', "\0u\0p"),
        .evs = { VERDICT('Y') },
        .n_creds = 1,
        .cred_mech = "PLAIN",
        .user = B("u"),
        .secret = B("p"),
        .result = FINDING_RESULT_SUCCESS,
    },
    {
        .name = "PLAIN second message ignored",
        .mech = "PLAIN",
        .ir = EV('i', "\0u\0p"),
        .evs = { EV('c', "\0v\0q"), VERDICT('Y') },
        .n_creds = 1,
        .cred_mech = "PLAIN",
        .user = B("u"),
        .secret = B("p"),
        .result = FINDING_RESULT_SUCCESS,
    },
    {
        .name = "PLAIN cancelled",
        .mech = "PLAIN",
        .evs = { EV('S', ""), EV('C', "*"), VERDICT('F') },
        .counts = { .cancelled = 1 },
    },
    {
        .name = "LOGIN in three steps",
        .mech = "LOGIN",
        .evs = { EV('S', "VXNlcm5hbWU6"), EV('C', "dGlt"), EV('S', "UGFzc3dvcmQ6"),
                 EV('c', "tanstaaf"), VERDICT('Y') },
        .n_creds = 1,
        .cred_mech = "LOGIN",
        .user = B("tim"),
        .secret = B("tanstaaf"),
        .result = FINDING_RESULT_SUCCESS,
    },
    {
        .name = "LOGIN with initial response",
        .mech = "LOGIN",
        .ir = EV('I', "dGlt"),
        .evs = { EV('S', "UGFzc3dvcmQ6"), EV('c', "tanstaaf"), VERDICT('F') },
        .n_creds = 1,
        .cred_mech = "LOGIN",
        .user = B("tim"),
        .secret = B("tanstaaf"),
        .result = FINDING_RESULT_FAILURE,
    },
    {
        .name = "LOGIN empty initial response",
        .mech = "LOGIN",
        .ir = EV('I', "="),
        .evs = { EV('S', "VXNlcm5hbWU6"), EV('c', "tim"), EV('S', "UGFzc3dvcmQ6"), EV('c', "pw"),
                 VERDICT('Y') },
        .n_creds = 1,
        .cred_mech = "LOGIN",
        .user = B("tim"),
        .secret = B("pw"),
        .result = FINDING_RESULT_SUCCESS,
    },
    {
        .name = "LOGIN odd prompts are not read",
        .mech = "LOGIN",
        .evs = { EV('S', ""), EV('c', "tim"), EV('S', "Ready for password"), EV('c', "pw"),
                 VERDICT('Y') },
        .n_creds = 1,
        .cred_mech = "LOGIN",
        .user = B("tim"),
        .secret = B("pw"),
        .result = FINDING_RESULT_SUCCESS,
    },
    {
        .name = "LOGIN cancelled after the user name",
        .mech = "LOGIN",
        .evs = { EV('S', "VXNlcm5hbWU6"), EV('c', "tim"), EV('S', "UGFzc3dvcmQ6"), EV('C', "*"),
                 VERDICT('F') },
        .n_creds = 1,
        .cred_mech = "LOGIN",
        .user = B("tim"),
        .counts = { .cancelled = 1 },
    },
    {
        .name = "LOGIN bad base64 user name, then password",
        .mech = "LOGIN",
        .evs = { EV('S', "VXNlcm5hbWU6"), EV('C', "dGl!"), EV('S', "UGFzc3dvcmQ6"), EV('c', "pw"),
                 VERDICT('F') },
        .n_creds = 1,
        .cred_mech = "LOGIN",
        .secret = B("pw"),
        .result = FINDING_RESULT_FAILURE,
        .counts = { .bad_base64 = 1 },
    },
    {
        .name = "LOGIN messages after the password",
        .mech = "LOGIN",
        .evs = { EV('c', "u"), EV('c', "p"), EV('c', "extra"), VERDICT('A') },
        .n_creds = 1,
        .cred_mech = "LOGIN",
        .user = B("u"),
        .secret = B("p"),
    },
    {
        .name = "CRAM-MD5 RFC 2195",
        .mech = "CRAM-MD5",
        .evs = { EV('S', "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+"),
                 EV('C', "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw"), VERDICT('Y') },
        .n_creds = 1,
        .cred_mech = "CRAM-MD5",
        .user = B("tim"),
        .challenge = B("<1896.697170952@postoffice.reston.mci.net>"),
        .response = B("b913a602c7eda7a495b4e6e7334d3890"),
        .result = FINDING_RESULT_SUCCESS,
    },
    {
        .name = "CRAM-MD5 user with a space",
        .mech = "CRAM-MD5",
        .evs = { EV('s', "<1.2@h>"), EV('c', "a b 0123456789ABCDEF0123456789abcdef"),
                 VERDICT('F') },
        .n_creds = 1,
        .cred_mech = "CRAM-MD5",
        .user = B("a b"),
        .challenge = B("<1.2@h>"),
        .response = B("0123456789ABCDEF0123456789abcdef"),
        .result = FINDING_RESULT_FAILURE,
    },
    {
        .name = "CRAM-MD5 digest not hex",
        .mech = "CRAM-MD5",
        .evs = { EV('s', "<1.2@h>"), EV('c', "tim b913a602c7eda7a495b4e6e7334d389g"),
                 VERDICT('F') },
        .counts = { .malformed = 1 },
    },
    {
        .name = "CRAM-MD5 digest too short",
        .mech = "CRAM-MD5",
        .evs = { EV('s', "<1.2@h>"), EV('c', "tim b913a602c7eda7a495b4e6e7334d389"), VERDICT('F') },
        .counts = { .malformed = 1 },
    },
    {
        .name = "CRAM-MD5 no user",
        .mech = "CRAM-MD5",
        .evs = { EV('s', "<1.2@h>"), EV('c', " b913a602c7eda7a495b4e6e7334d3890"), VERDICT('F') },
        .counts = { .malformed = 1 },
    },
    {
        .name = "CRAM-MD5 bad base64 challenge",
        .mech = "CRAM-MD5",
        .evs = { EV('S', "PDE4OTY!"), EV('c', "tim b913a602c7eda7a495b4e6e7334d3890"),
                 VERDICT('F') },
        .n_creds = 1,
        .cred_mech = "CRAM-MD5",
        .user = B("tim"),
        .response = B("b913a602c7eda7a495b4e6e7334d3890"),
        .result = FINDING_RESULT_FAILURE,
        .counts = { .bad_base64 = 1 },
    },
    {
        .name = "DIGEST-MD5 RFC 2831",
        .mech = "DIGEST-MD5",
        .evs = { EV('S', "cmVhbG09ImVsd29vZC5pbm5vc29mdC5jb20iLG5vbmNlPSJPQTZNRzl0RVFHbTJoaCIscW9wP"
                         "SJhdXRo"
                         "IixhbGdvcml0aG09bWQ1LXNlc3MsY2hhcnNldD11dGYtOA=="),
                 EV('C', "Y2hhcnNldD11dGYtOCx1c2VybmFtZT0iY2hyaXMiLHJlYWxtPSJlbHdvb2QuaW5ub3NvZnQuY"
                         "29tIixu"
                         "b25jZT0iT0E2TUc5dEVRR20yaGgiLG5jPTAwMDAwMDAxLGNub25jZT0iT0E2TUhYaDZWcVRyU"
                         "msiLGRp"
                         "Z2VzdC11cmk9ImltYXAvZWx3b29kLmlubm9zb2Z0LmNvbSIscmVzcG9uc2U9ZDM4OGRhZDkwZ"
                         "DRiYmQ3"
                         "NjBhMTUyMzIxZjIxNDNhZjcscW9wPWF1dGg="),
                 EV('S', "cnNwYXV0aD1lYTQwZjYwMzM1YzQyN2I1NTI3Yjg0ZGJhYmNkZmZmZA=="), EV('C', ""),
                 VERDICT('Y') },
        .n_creds = 1,
        .cred_mech = "DIGEST-MD5",
        .user = B("chris"),
        .challenge = B("realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\",qop=\"auth\","
                       "algorithm=md5-sess,"
                       "charset=utf-8"),
        .response =
            B("charset=utf-8,username=\"chris\",realm=\"elwood.innosoft.com\",nonce="
              "\"OA6MG9tEQGm2hh\","
              "nc=00000001,cnonce=\"OA6MHXh6VqTrRk\",digest-uri=\"imap/elwood.innosoft.com\","
              "response=d388dad90d4bbd760a152321f2143af7,qop=auth"),
        .result = FINDING_RESULT_SUCCESS,
    },
    {
        .name = "DIGEST-MD5 escaped user name",
        .mech = "DIGEST-MD5",
        .evs = { EV('s', "nonce=\"n\""),
                 EV('c', "realm=\"r,x\", UserName = \"a\\\"b\\\\c,d\" ,nonce=\"n\",response=00"),
                 VERDICT('F') },
        .n_creds = 1,
        .cred_mech = "DIGEST-MD5",
        .user = B("a\"b\\c,d"),
        .challenge = B("nonce=\"n\""),
        .response = B("realm=\"r,x\", UserName = \"a\\\"b\\\\c,d\" ,nonce=\"n\",response=00"),
        .result = FINDING_RESULT_FAILURE,
    },
    {
        .name = "DIGEST-MD5 unquoted user name",
        .mech = "DIGEST-MD5",
        .evs = { EV('s', "nonce=\"n\""), EV('c', "username=bob ,response=00"), VERDICT('F') },
        .n_creds = 1,
        .cred_mech = "DIGEST-MD5",
        .user = B("bob"),
        .challenge = B("nonce=\"n\""),
        .response = B("username=bob ,response=00"),
        .result = FINDING_RESULT_FAILURE,
    },
    {
        .name = "DIGEST-MD5 empty initial response",
        .mech = "DIGEST-MD5",
        .ir = EV('I', "="),
        .evs = { EV('s', "nonce=\"n\""), EV('c', "username=\"u\",response=00"), VERDICT('F') },
        .n_creds = 1,
        .cred_mech = "DIGEST-MD5",
        .user = B("u"),
        .challenge = B("nonce=\"n\""),
        .response = B("username=\"u\",response=00"),
        .result = FINDING_RESULT_FAILURE,
    },
    {
        .name = "DIGEST-MD5 no user name",
        .mech = "DIGEST-MD5",
        .evs = { EV('s', "nonce=\"n\""), EV('c', "realm=\"r\",response=00"), VERDICT('F') },
        .counts = { .malformed = 1 },
    },
    {
        .name = "DIGEST-MD5 unterminated quote",
        .mech = "DIGEST-MD5",
        .evs = { EV('s', "nonce=\"n\""), EV('c', "username=\"chris"), VERDICT('F') },
        .counts = { .malformed = 1 },
    },
    {
        .name = "DIGEST-MD5 not a list",
        .mech = "DIGEST-MD5",
        .evs = { EV('s', "nonce=\"n\""), EV('c', "just some text"), VERDICT('F') },
        .counts = { .malformed = 1 },
    },
    {
        .name = "XOAUTH2 initial response",
        .mech = "XOAUTH2",
        .ir = EV(
            'I',
            "dXNlcj1qb2Uuc3BlZWRib2F0AWF1dGg9QmVhcmVyIEFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUEBAQ=="),
        .evs = { VERDICT('Y') },
        .n_creds = 1,
        .cred_mech = "XOAUTH2",
        .user = B("joe.speedboat"),
        .secret = B("AAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        .result = FINDING_RESULT_SUCCESS,
    },
    {
        .name = "XOAUTH2 error challenge, empty reply",
        .mech = "XOAUTH2",
        .evs = { EV('S', ""),
                 EV('c', "user=someone@example.com\x01"
                         "auth=Bearer ya29.tok\x01\x01"),
                 EV('s', "{\"status\":\"401\",\"schemes\":\"bearer\",\"scope\":\"https://"
                         "mail.google.com/\"}"),
                 EV('C', ""), VERDICT('F') },
        .n_creds = 1,
        .cred_mech = "XOAUTH2",
        .user = B("someone@example.com"),
        .secret = B("ya29.tok"),
        .result = FINDING_RESULT_FAILURE,
    },
    {
        .name = "XOAUTH2 nothing readable",
        .mech = "XOAUTH2",
        .ir = EV('i', "hello\x01\x01"),
        .evs = { VERDICT('F') },
        .counts = { .malformed = 1 },
    },
    {
        .name = "OAUTHBEARER RFC 7628 4.1",
        .mech = "OAUTHBEARER",
        .ir =
            EV('I',
               "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9Qm"
               "VhcmVyIHZGOWRmdDRxbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB"),
        .evs = { VERDICT('Y') },
        .n_creds = 1,
        .cred_mech = "OAUTHBEARER",
        .user = B("user@example.com"),
        .secret = B("vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg=="),
        .result = FINDING_RESULT_SUCCESS,
    },
    {
        .name = "OAUTHBEARER RFC 7628 4.3 failure",
        .mech = "OAUTHBEARER",
        .ir =
            EV('I',
               "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9NTg3AWF1dGg9Qm"
               "VhcmVyIHZGOWRmdDRxbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB"),
        .evs = { EV('S', "eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIiwic2NvcGUiOiJleGFtcGxlX3Njb3BlIiwib3Blb"
                         "mlkLWNvbm"
                         "ZpZ3VyYXRpb24iOiJodHRwczovL2V4YW1wbGUuY29tLy53ZWxsLWtub3duL29wZW5pZC1jb25"
                         "maWd1cmF0"
                         "aW9uIn0="),
                 EV('C', "AQ=="), VERDICT('F') },
        .n_creds = 1,
        .cred_mech = "OAUTHBEARER",
        .user = B("user@example.com"),
        .secret = B("vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg=="),
        .result = FINDING_RESULT_FAILURE,
    },
    {
        .name = "OAUTHBEARER bad base64, then the dummy 0x01",
        .mech = "OAUTHBEARER",
        .ir = EV('I', "bixhPX!!"),
        .evs = { EV('s', "{\"status\":\"invalid_token\"}"), EV('C', "AQ=="), VERDICT('F') },
        .counts = { .bad_base64 = 1 },
    },
    {
        .name = "OAUTHBEARER without a=",
        .mech = "OAUTHBEARER",
        .ir = EV('i', "n,,\x01"
                      "auth=Bearer tok123\x01\x01"),
        .evs = { VERDICT('Y') },
        .n_creds = 1,
        .cred_mech = "OAUTHBEARER",
        .secret = B("tok123"),
        .result = FINDING_RESULT_SUCCESS,
    },
    {
        .name = "OAUTHBEARER escaped user, channel binding flag",
        .mech = "OAUTHBEARER",
        .ir = EV('i', "y,a=us=2Cer=3Dx,\x01host=h\x01"
                      "auth=Bearer t\x01\x01"),
        .evs = { VERDICT('Y') },
        .n_creds = 1,
        .cred_mech = "OAUTHBEARER",
        .user = B("us,er=x"),
        .secret = B("t"),
        .result = FINDING_RESULT_SUCCESS,
    },
    {
        .name = "OAUTHBEARER bad saslname escape",
        .mech = "OAUTHBEARER",
        .ir = EV('i', "n,a=us=2Xer,\x01"
                      "auth=Bearer t\x01\x01"),
        .evs = { VERDICT('F') },
        .counts = { .malformed = 1 },
    },
    {
        .name = "OAUTHBEARER no kvsep after header",
        .mech = "OAUTHBEARER",
        .ir = EV('i', "n,a=u,auth=Bearer t\x01\x01"),
        .evs = { VERDICT('F') },
        .counts = { .malformed = 1 },
    },
    {
        .name = "OAUTHBEARER user only",
        .mech = "OAUTHBEARER",
        .ir = EV('i', "n,a=u,\x01\x01"),
        .evs = { VERDICT('F') },
        .n_creds = 1,
        .cred_mech = "OAUTHBEARER",
        .user = B("u"),
        .result = FINDING_RESULT_FAILURE,
    },
    {
        .name = "SCRAM-SHA-256 RFC 7677",
        .mech = "SCRAM-SHA-256",
        .ir = EV('I', "biwsbj11c2VyLHI9ck9wck5HZndFYmVSV2diTkVrcU8="),
        .evs = { EV('s', "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s="
                         "W22ZaJ0SNY7soEsUEjb6gQ==,"
                         "i=4096"),
                 EV('c', "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p="
                         "dHzbZapWIk4jUhN+Ut"
                         "e9ytag9zjfMHgsqmmiz7AndVQ="),
                 EV('s', "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="), EV('C', ""),
                 VERDICT('Y') },
        .n_creds = 1,
        .cred_mech = "SCRAM-SHA-256",
        .user = B("user"),
        .challenge = B("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s="
                       "W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"),
        .response = B("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p="
                      "dHzbZapWIk4jUhN+Ute9ytag9zj"
                      "fMHgsqmmiz7AndVQ="),
        .result = FINDING_RESULT_SUCCESS,
    },
    {
        .name = "SCRAM later messages do not replace the client-final one",
        .mech = "SCRAM-SHA-1",
        .ir = EV('i', "n,,n=bob,r=c1"),
        .evs = { EV('s', "r=c1s1,s=QQ==,i=4096"), EV('c', "c=biws,r=c1s1,p=cA=="),
                 EV('s', "v=dg=="), EV('c', "junk"), VERDICT('Y') },
        .n_creds = 1,
        .cred_mech = "SCRAM-SHA-1",
        .user = B("bob"),
        .challenge = B("r=c1s1,s=QQ==,i=4096"),
        .response = B("c=biws,r=c1s1,p=cA=="),
        .result = FINDING_RESULT_SUCCESS,
    },
    {
        .name = "SCRAM-SHA-256 client-first only",
        .mech = "SCRAM-SHA-256",
        .evs = { EV('S', ""), EV('C', "biwsbj11c2VyLHI9ck9wck5HZndFYmVSV2diTkVrcU8="),
                 VERDICT('A') },
        .n_creds = 1,
        .cred_mech = "SCRAM-SHA-256",
        .user = B("user"),
    },
    {
        .name = "SCRAM-SHA-1-PLUS channel binding, escaped name",
        .mech = "scram-sha-1-plus",
        .ir = EV('i', "p=tls-unique,,n=a=2Cb=3Dc,r=abc"),
        .evs = { VERDICT('F') },
        .n_creds = 1,
        .cred_mech = "SCRAM-SHA-1-PLUS",
        .user = B("a,b=c"),
        .result = FINDING_RESULT_FAILURE,
    },
    {
        .name = "SCRAM-SHA-1 client supports binding, with authzid",
        .mech = "SCRAM-SHA-1",
        .ir = EV('i', "y,a=admin,n=bob,r=xyz"),
        .evs = { VERDICT('F') },
        .n_creds = 1,
        .cred_mech = "SCRAM-SHA-1",
        .user = B("bob"),
        .result = FINDING_RESULT_FAILURE,
    },
    {
        .name = "SCRAM bad saslname escape",
        .mech = "SCRAM-SHA-1",
        .ir = EV('i', "n,,n=a=2Xb,r=abc"),
        .evs = { VERDICT('F') },
        .counts = { .malformed = 1 },
    },
    {
        .name = "SCRAM no n=",
        .mech = "SCRAM-SHA-1",
        .ir = EV('i', "n,,r=abc"),
        .evs = { VERDICT('F') },
        .counts = { .malformed = 1 },
    },
    {
        .name = "SCRAM bad gs2 flag",
        .mech = "SCRAM-SHA-1",
        .ir = EV('i', "x,,n=bob,r=abc"),
        .evs = { VERDICT('F') },
        .counts = { .malformed = 1 },
    },
    {
        .name = "GSSAPI is unsupported",
        .mech = "GSSAPI",
        .ir = EV('I', "YIIB!garbage"),
        .evs = { EV('S', "YGgGCSqGSIb3EgECAgIAb1kwV6ADAgEFoQMCAQ+iSzBJoAMCARCiQgRA"),
                 EV('C', "%%%"), VERDICT('Y') },
        .counts = { .unsupported = 1 },
    },
    {
        .name = "NTLM cancelled",
        .mech = "NTLM",
        .evs = { EV('C', "TlRMTVNTUAABAAAAB4IIAAAAAAAAAAAAAAAAAAAAAAA="), EV('C', "*") },
        .counts = { .cancelled = 1, .unsupported = 1 },
    },
    {
        .name = "PLAINX is not PLAIN",
        .mech = "PLAINX",
        .ir = EV('i', "\0u\0p"),
        .evs = { VERDICT('Y') },
        .counts = { .unsupported = 1 },
    },
    {
        .name = "SCRAM- alone is not SCRAM",
        .mech = "SCRAM-",
        .ir = EV('i', "n,,n=u,r=x"),
        .evs = { VERDICT('Y') },
        .counts = { .unsupported = 1 },
    },
    {
        .name = "SCRAM name with a bad character",
        .mech = "SCRAM-SHA-1\x01",
        .ir = EV('i', "n,,n=u,r=x"),
        .evs = { VERDICT('Y') },
        .counts = { .unsupported = 1 },
    },
    {
        .name = "mechanism with a NUL",
        .mech = "PLAIN\0",
        .ir = EV('i', "\0u\0p"),
        .evs = { VERDICT('Y') },
        .counts = { .unsupported = 1 },
    },
};

/* The mechanism names above that hold a NUL need their length spelled out. */
static size_t mech_len_of(const struct sasl_case *c)
{
    if (strcmp(c->name, "mechanism with a NUL") == 0) {
        return 6;
    }
    return strlen(c->mech);
}

static bool same_bytes(const uint8_t *p, size_t len, bool is_present, struct bytes want)
{
    if (want.p == NULL) {
        return !is_present;
    }
    return is_present && len == want.len && (len == 0 || memcmp(p, want.p, len) == 0);
}

/* One message as the parser passes it on (raw kinds are encoded here), in a buffer of its exact
 * size (free with free); *to_free is the encoder's buffer, or NULL. */
static uint8_t *ev_wire(const struct ev *e, size_t *len, char **to_free)
{
    *to_free = NULL;
    if (e->kind == 'i' || e->kind == 'c' || e->kind == 's') {
        *to_free = b64_encode((const uint8_t *)e->data, e->len, len);
        return exact_copy(*to_free, *len);
    }
    *len = e->len;
    return exact_copy(e->data, e->len);
}

static bool all_zero(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i] != 0) {
            return false;
        }
    }
    return true;
}

static void run_sasl_case(const struct sasl_case *c)
{
    struct session *s = finding_new();
    struct parse_stats st;
    struct sasl x;
    memset(&st, 0, sizeof st);
    memset(&x, 0xa5, sizeof x); /* sasl_start must not depend on what was there */

    size_t ir_len = 0;
    char *ir_free = NULL;
    uint8_t *ir = NULL;
    if (c->ir.kind != 0) {
        ir = ev_wire(&c->ir, &ir_len, &ir_free);
    }
    size_t ml = mech_len_of(c);
    uint8_t *mech = exact_copy(c->mech, ml);
    sasl_start(&x, s, &st, mech, ml, ir, ir_len, c->ir.kind != 0);
    free(mech);
    free(ir);
    free(ir_free);

    bool is_active = true;
    for (size_t i = 0; i < sizeof c->evs / sizeof c->evs[0] && c->evs[i].kind != 0; i++) {
        const struct ev *e = &c->evs[i];
        if (e->kind == 'Y' || e->kind == 'F') {
            sasl_finish(&x, e->kind == 'Y');
            is_active = false;
            continue;
        }
        if (e->kind == 'A') {
            sasl_abort(&x);
            is_active = false;
            continue;
        }
        size_t len;
        char *to_free;
        uint8_t *wire = ev_wire(e, &len, &to_free);
        if (e->kind == 'S' || e->kind == 's') {
            sasl_server(&x, wire, len);
        } else {
            bool is_cancel = len == 1 && wire[0] == '*';
            bool want = is_active && !is_cancel;
            CHECK(sasl_client(&x, wire, len) == want);
            if (is_cancel) {
                is_active = false;
            }
        }
        free(wire);
        free(to_free);
    }

    CHECK_EQ_U(s->n_creds, c->n_creds);
    if (c->n_creds > 0 && s->n_creds > 0) {
        const struct credential *cr = s->creds[0];
        CHECK(strcmp(cr->mechanism, c->cred_mech) == 0);
        CHECK(same_bytes(cr->username, cr->username_len, cr->has_username, c->user));
        CHECK(same_bytes(cr->secret, cr->secret_len, cr->secret != NULL, c->secret));
        CHECK(same_bytes(cr->challenge, cr->challenge_len, cr->challenge != NULL, c->challenge));
        CHECK(same_bytes(cr->response, cr->response_len, cr->response != NULL, c->response));
        CHECK(cr->result == c->result);
        CHECK(!cr->is_truncated);
    }
    CHECK_EQ_U(st.sasl_bad_base64, c->counts.bad_base64);
    CHECK_EQ_U(st.sasl_malformed, c->counts.malformed);
    CHECK_EQ_U(st.sasl_cancelled, c->counts.cancelled);
    CHECK_EQ_U(st.sasl_unsupported, c->counts.unsupported);
    CHECK_EQ_U(st.creds_dropped, 0);

    /* Once over, the exchange holds no challenge and takes no more lines. */
    if (!is_active) {
        CHECK(!x.is_active);
        CHECK_EQ_U(x.challenge_len, 0);
        CHECK(all_zero(x.challenge, sizeof x.challenge));
        CHECK(!sasl_client(&x, (const uint8_t *)"AGEAYg==", 8));
        CHECK_EQ_U(s->n_creds, c->n_creds);
    }
    sasl_wipe(&x);
    CHECK(all_zero(x.challenge, sizeof x.challenge));
    finding_free(s);
}

static void test_sasl_table(void)
{
    for (size_t i = 0; i < sizeof sasl_cases / sizeof sasl_cases[0]; i++) {
        run_sasl_case(&sasl_cases[i]);
        CASE_DONE(sasl_cases[i].name);
    }
}

/* ---- limits and lifecycle ---- */

/* Starts mech on a fresh session; the caller frees *s. */
static void start(struct sasl *x, struct session **s, struct parse_stats *st, const char *mech)
{
    *s = finding_new();
    memset(st, 0, sizeof *st);
    sasl_start(x, *s, st, (const uint8_t *)mech, strlen(mech), NULL, 0, false);
}

/* Sends raw bytes as a client line, base64-encoded. */
static bool client_raw(struct sasl *x, const uint8_t *p, size_t n)
{
    size_t len;
    char *b = b64_encode(p, n, &len);
    uint8_t *wire = exact_copy(b, len);
    bool r = sasl_client(x, wire, len);
    free(wire);
    free(b);
    return r;
}

static void server_raw(struct sasl *x, const uint8_t *p, size_t n)
{
    size_t len;
    char *b = b64_encode(p, n, &len);
    uint8_t *wire = exact_copy(b, len);
    sasl_server(x, wire, len);
    free(wire);
    free(b);
}

/* User names unescaped by sasl (SCRAM, OAUTHBEARER, DIGEST-MD5) at FINDING_MAX_USER and one
 * past it: the second is cut and flagged. */
static void test_user_limit(void)
{
    static const char *const mechs[] = { "SCRAM-SHA-1", "OAUTHBEARER", "DIGEST-MD5" };
    for (size_t m = 0; m < 3; m++) {
        for (size_t extra = 0; extra <= 1; extra++) {
            size_t ulen = FINDING_MAX_USER + extra;
            uint8_t msg[FINDING_MAX_USER + 64];
            size_t n = 0;
            const char *pre = m == 0 ? "n,,n=" : m == 1 ? "n,a=" : "username=\"";
            const char *post = m == 0   ? ",r=x"
                               : m == 1 ? ",\x01"
                                          "auth=Bearer t\x01\x01"
                                        : "\"";
            memcpy(msg, pre, strlen(pre));
            n += strlen(pre);
            memset(msg + n, 'u', ulen);
            n += ulen;
            memcpy(msg + n, post, strlen(post));
            n += strlen(post);

            struct sasl x;
            struct session *s;
            struct parse_stats st;
            start(&x, &s, &st, mechs[m]);
            CHECK(client_raw(&x, msg, n));
            CHECK_EQ_U(s->n_creds, 1);
            if (s->n_creds == 1) {
                CHECK_EQ_U(s->creds[0]->username_len, FINDING_MAX_USER);
                CHECK(s->creds[0]->is_truncated == (extra == 1));
            }
            sasl_abort(&x);
            finding_free(s);
        }
    }
}

/* The longest line a parser passes on: LOGIN's password of LINE_MAX_LEN base64 characters
 * decodes in full (and is cut at FINDING_MAX_SECRET by finding); a line four characters longer
 * does not fit the decode buffer and is counted as bad base64. */
static void test_line_limit(void)
{
    struct sasl x;
    struct session *s;
    struct parse_stats st;
    size_t len = LINE_MAX_LEN + 4;
    uint8_t *wire = malloc(len);
    if (wire == NULL) {
        abort();
    }
    memset(wire, 'c', len);

    start(&x, &s, &st, "LOGIN");
    CHECK(sasl_client(&x, (const uint8_t *)"dGlt", 4));
    CHECK(sasl_client(&x, wire, LINE_MAX_LEN));
    CHECK_EQ_U(s->n_creds, 1);
    if (s->n_creds == 1) {
        CHECK_EQ_U(s->creds[0]->secret_len, FINDING_MAX_SECRET);
        CHECK(s->creds[0]->is_truncated);
    }
    CHECK_EQ_U(st.sasl_bad_base64, 0);
    sasl_finish(&x, 1);
    finding_free(s);

    start(&x, &s, &st, "LOGIN");
    CHECK(sasl_client(&x, (const uint8_t *)"dGlt", 4));
    CHECK(sasl_client(&x, wire, LINE_MAX_LEN + 4));
    CHECK_EQ_U(st.sasl_bad_base64, 1);
    CHECK_EQ_U(s->n_creds, 1);
    if (s->n_creds == 1) {
        CHECK(s->creds[0]->secret == NULL);
    }
    sasl_finish(&x, 0);
    finding_free(s);
    free(wire);
}

/* A server challenge of exactly FINDING_MAX_CHALLENGE bytes is kept; one byte more is not
 * (counted as malformed), and the credential then has no challenge. */
static void test_challenge_limit(void)
{
    for (size_t extra = 0; extra <= 1; extra++) {
        size_t n = FINDING_MAX_CHALLENGE + extra;
        uint8_t *ch = malloc(n);
        if (ch == NULL) {
            abort();
        }
        memset(ch, '<', n);
        struct sasl x;
        struct session *s;
        struct parse_stats st;
        start(&x, &s, &st, "CRAM-MD5");
        server_raw(&x, ch, n);
        CHECK_EQ_U(x.challenge_len, extra == 0 ? n : 0);
        static const char resp[] = "tim b913a602c7eda7a495b4e6e7334d3890";
        CHECK(client_raw(&x, (const uint8_t *)resp, sizeof resp - 1));
        CHECK_EQ_U(st.sasl_malformed, extra);
        CHECK_EQ_U(s->n_creds, 1);
        if (s->n_creds == 1) {
            if (extra == 0) {
                CHECK(s->creds[0]->challenge != NULL &&
                      s->creds[0]->challenge_len == FINDING_MAX_CHALLENGE &&
                      memcmp(s->creds[0]->challenge, ch, n) == 0);
            } else {
                CHECK(s->creds[0]->challenge == NULL);
            }
            CHECK(!s->creds[0]->is_truncated);
        }
        sasl_finish(&x, 0);
        finding_free(s);
        free(ch);
    }
}

/* A session already holding FINDING_MAX_CREDS credentials: the exchange's credential is
 * dropped and counted once, however many messages follow. */
static void test_creds_limit(void)
{
    struct sasl x;
    struct session *s;
    struct parse_stats st;
    start(&x, &s, &st, "LOGIN");
    for (size_t i = 0; i < FINDING_MAX_CREDS; i++) {
        CHECK(finding_add_credential(s, "USER/PASS") != NULL);
    }
    CHECK(sasl_client(&x, (const uint8_t *)"dGlt", 4));
    CHECK(sasl_client(&x, (const uint8_t *)"cHc=", 4));
    sasl_finish(&x, 1);
    CHECK_EQ_U(s->n_creds, FINDING_MAX_CREDS);
    CHECK_EQ_U(st.creds_dropped, 1);
    CHECK_EQ_U(s->creds_dropped, 1);
    CHECK_EQ_U(st.sasl_unsupported, 0);
    for (size_t i = 0; i < FINDING_MAX_CREDS; i++) {
        CHECK(s->creds[i]->result == FINDING_RESULT_UNKNOWN);
    }
    finding_free(s);
}

/* Two exchanges in one session (a failed PLAIN, then a good LOGIN) give two credentials, each
 * with its own verdict; a new sasl_start forgets the previous challenge. */
static void test_two_exchanges(void)
{
    struct sasl x;
    struct session *s;
    struct parse_stats st;
    start(&x, &s, &st, "CRAM-MD5");
    server_raw(&x, (const uint8_t *)"<1@h>", 5);
    CHECK_EQ_U(x.challenge_len, 5);
    sasl_abort(&x);
    CHECK_EQ_U(x.challenge_len, 0);

    static const uint8_t ir[] = "AHUAcA=="; /* \0u\0p */
    sasl_start(&x, s, &st, (const uint8_t *)"PLAIN", 5, ir, 8, true);
    sasl_finish(&x, 0);
    sasl_start(&x, s, &st, (const uint8_t *)"LOGIN", 5, NULL, 0, false);
    CHECK(sasl_client(&x, (const uint8_t *)"dg==", 4));
    CHECK(sasl_client(&x, (const uint8_t *)"cQ==", 4));
    sasl_finish(&x, 1);
    /* A verdict with no exchange running changes nothing. */
    sasl_finish(&x, 0);
    sasl_abort(&x);
    CHECK_EQ_U(s->n_creds, 2);
    if (s->n_creds == 2) {
        CHECK(strcmp(s->creds[0]->mechanism, "PLAIN") == 0);
        CHECK(s->creds[0]->result == FINDING_RESULT_FAILURE);
        CHECK_MEM(s->creds[0]->username, s->creds[0]->username_len, "u");
        CHECK(strcmp(s->creds[1]->mechanism, "LOGIN") == 0);
        CHECK(s->creds[1]->result == FINDING_RESULT_SUCCESS);
        CHECK_MEM(s->creds[1]->username, s->creds[1]->username_len, "v");
        CHECK_MEM(s->creds[1]->secret, s->creds[1]->secret_len, "q");
    }
    finding_free(s);
}

/* The mechanism name is upper-cased into the exchange; a name longer than the field is cut
 * there and is no mechanism we read. */
static void test_mech_name(void)
{
    struct sasl x;
    struct session *s;
    struct parse_stats st;
    start(&x, &s, &st, "cram-md5");
    CHECK(strcmp(x.name, "CRAM-MD5") == 0);
    CHECK(x.mech == SASL_MECH_CRAM_MD5);
    sasl_abort(&x);

    static const char long_name[] = "SCRAM-SHA-256-PLUS-AND-A-LOT-MORE-TEXT";
    sasl_start(&x, s, &st, (const uint8_t *)long_name, sizeof long_name - 1, NULL, 0, false);
    CHECK(x.mech == SASL_MECH_OTHER);
    CHECK_EQ_U(strlen(x.name), FINDING_MAX_MECH - 1);
    CHECK(memcmp(x.name, long_name, FINDING_MAX_MECH - 1) == 0);
    CHECK_EQ_U(st.sasl_unsupported, 1);
    sasl_abort(&x);

    /* Exactly FINDING_MAX_MECH - 1 characters is still read. */
    char name31[FINDING_MAX_MECH];
    memset(name31, 'X', sizeof name31);
    memcpy(name31, "SCRAM-", 6);
    sasl_start(&x, s, &st, (const uint8_t *)name31, FINDING_MAX_MECH - 1, NULL, 0, false);
    CHECK(x.mech == SASL_MECH_SCRAM);
    sasl_abort(&x);

    static const struct {
        const char *name;
        enum sasl_mech mech;
    } names[] = {
        { "PLAIN", SASL_MECH_PLAIN },         { "Login", SASL_MECH_LOGIN },
        { "CRAM-MD5", SASL_MECH_CRAM_MD5 },   { "digest-md5", SASL_MECH_DIGEST_MD5 },
        { "XOAUTH2", SASL_MECH_XOAUTH2 },     { "OAuthBearer", SASL_MECH_OAUTHBEARER },
        { "SCRAM-SHA-1", SASL_MECH_SCRAM },   { "SCRAM-SHA-256-PLUS", SASL_MECH_SCRAM },
        { "SCRAM-SHA-512", SASL_MECH_SCRAM }, { "GSSAPI", SASL_MECH_OTHER },
        { "EXTERNAL", SASL_MECH_OTHER },      { "ANONYMOUS", SASL_MECH_OTHER },
        { "XOAUTH", SASL_MECH_OTHER },        { "", SASL_MECH_OTHER },
        { "PLAI", SASL_MECH_OTHER },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t len = strlen(names[i].name);
        uint8_t *m = exact_copy(names[i].name, len);
        sasl_start(&x, s, &st, m, len, NULL, 0, false);
        free(m);
        if (x.mech != names[i].mech) {
            fprintf(stderr, "  mechanism \"%s\" read as %d\n", names[i].name, (int)x.mech);
            test_case_failed = 1;
        }
        sasl_abort(&x);
    }
    CHECK_EQ_U(s->n_creds, 0);
    finding_free(s);
}

/* Bad base64 from the server of a challenge-response mechanism is counted; a good challenge
 * replaced by a bad one is forgotten. */
static void test_server_bad_base64(void)
{
    struct sasl x;
    struct session *s;
    struct parse_stats st;
    start(&x, &s, &st, "DIGEST-MD5");
    sasl_server(&x, (const uint8_t *)"bm9uY2U9Im4i", 12);
    CHECK_EQ_U(x.challenge_len, 9);
    sasl_server(&x, (const uint8_t *)"bm9uY2U9Im4", 11);
    CHECK_EQ_U(x.challenge_len, 8);
    sasl_server(&x, (const uint8_t *)"bm9uY2U9I", 9);
    CHECK_EQ_U(x.challenge_len, 0);
    CHECK(all_zero(x.challenge, sizeof x.challenge));
    CHECK_EQ_U(st.sasl_bad_base64, 1);
    sasl_abort(&x);
    /* After the exchange, server lines are ignored. */
    sasl_server(&x, (const uint8_t *)"!!!!", 4);
    CHECK_EQ_U(st.sasl_bad_base64, 1);
    CHECK_EQ_U(x.challenge_len, 0);
    finding_free(s);
}

int main(void)
{
    RUN(test_b64_table);
    RUN(test_b64_cap);
    test_sasl_table();
    RUN(test_user_limit);
    RUN(test_line_limit);
    RUN(test_challenge_limit);
    RUN(test_creds_limit);
    RUN(test_two_exchanges);
    RUN(test_mech_name);
    RUN(test_server_bad_base64);
    return TEST_SUMMARY();
}
