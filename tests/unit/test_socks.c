/* test_socks.c - unit tests for the SOCKS5 wrapper: handshakes that lead to a mail server are
 * unwrapped into that protocol's parser; every other handshake is not mail.
 *
 * Each case is a list of segments (client or server bytes, or a gap), fed through proto.h as
 * flow.c feeds them: whole, then byte by byte, then with each SOCKS message of the client fed
 * after the proxy's answer to it (capture order need not follow the handshake). The outcome
 * must be the same each time. */
#include "socks.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "finding.h"
#include "proto.h"
#include "registry.h"
#include "script.h"
#include "test.h"

/* Both NULL, or the same text. */
static bool str_eq(const char *a, const char *b)
{
    return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}
#include "tunables.h"

#define MAX_SEGS 16

struct seg {
    char who; /* 'C' client, 'S' server, 'G' a gap in the client's direction */
    const char *bytes;
    size_t len;
};

#define SEG(w, s)                                                                                  \
    {                                                                                              \
        w, s, sizeof(s) - 1                                                                        \
    }

struct tcase {
    const char *name;
    struct seg segs[MAX_SEGS];
    bool want_dead;
    const char *want_proto;
    enum finding_tls want_tls;
    const char *want_creds; /* "MECH user secret result; ..." */
};

/* The credentials of s as "MECH user secret result; ...". */
static void creds_text(const struct session *s, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < s->n_creds && n < cap; i++) {
        const struct credential *c = s->creds[i];
        int k = snprintf(out + n, cap - n, "%s%s %.*s %.*s %s", i > 0 ? "; " : "", c->mechanism,
                         (int)c->username_len, (const char *)c->username,
                         c->secret != NULL ? (int)c->secret_len : 1,
                         c->secret != NULL ? (const char *)c->secret : "-",
                         finding_result_name(c->result));
        if (k < 0) {
            break;
        }
        n += (size_t)k;
    }
}

enum mode {
    MODE_WHOLE = 0,
    MODE_BYTES,
    MODE_SERVER_FIRST, /* each server segment is fed before the client segment before it */
};

static bool feed(void *p, enum parse_dir dir, const char *b, size_t len, bool is_bytewise)
{
    size_t step = is_bytewise ? 1 : len;
    for (size_t off = 0; off < len; off += step) {
        size_t n = len - off < step ? len - off : step;
        size_t consumed = 0;
        enum parse_status r = socks_parser_ops.feed(p, dir, (const uint8_t *)b + off, n, &consumed);
        if (r == PARSE_ERROR) {
            return false;
        }
        CHECK_EQ_U(consumed, n);
    }
    return true;
}

/* A SOCKS message (version 5, or 1 for RFC 1929) rather than tunnel bytes: only those are
 * reordered, since the mail parser inside pairs replies with commands in capture order. */
static bool is_handshake(const struct seg *g)
{
    return g->len > 0 && (g->bytes[0] == 5 || g->bytes[0] == 1);
}

static void run(const struct tcase *tc, enum mode mode)
{
    struct session *s = finding_new();
    struct parse_stats st;
    memset(&st, 0, sizeof st);
    struct parse_ctx ctx = { s, &st, 0, registry_parser_for_port, NULL };
    void *p = parse_open(&socks_parser_ops, &ctx);
    bool is_dead = false;
    size_t n = 0;
    while (n < MAX_SEGS && tc->segs[n].bytes != NULL) {
        n++;
    }
    for (size_t i = 0; i < n && !is_dead; i++) {
        const struct seg *g = &tc->segs[i];
        if (mode == MODE_SERVER_FIRST && g->who == 'C' && is_handshake(g) && i + 1 < n &&
            tc->segs[i + 1].who == 'S') {
            const struct seg *h = &tc->segs[i + 1];
            is_dead = !feed(p, PARSE_DIR_SERVER, h->bytes, h->len, false) ||
                      !feed(p, PARSE_DIR_CLIENT, g->bytes, g->len, false);
            i++;
            continue;
        }
        if (g->who == 'G') {
            socks_parser_ops.gap(p, PARSE_DIR_CLIENT, 10);
            continue;
        }
        is_dead = !feed(p, g->who == 'C' ? PARSE_DIR_CLIENT : PARSE_DIR_SERVER, g->bytes, g->len,
                        mode == MODE_BYTES);
    }
    socks_parser_ops.end(p);
    char got[512];
    creds_text(s, got, sizeof got);
    if (is_dead != tc->want_dead || !str_eq(s->protocol, tc->want_proto) ||
        s->tls != tc->want_tls || strcmp(got, tc->want_creds) != 0) {
        printf("  mode %d: dead %d proto %s tls %s creds \"%s\"\n", (int)mode, is_dead,
               finding_proto_name(s->protocol), finding_tls_name(s->tls), got);
    }
    CHECK_EQ_U(is_dead, tc->want_dead);
    CHECK(str_eq(s->protocol, tc->want_proto));
    CHECK_EQ_U(s->tls, tc->want_tls);
    CHECK(strcmp(got, tc->want_creds) == 0);
    CHECK_EQ_U(st.socks_tunnels + st.socks_not_mail, tc->want_dead ? st.socks_not_mail : 1u);
    socks_parser_ops.free_parser(p);
    finding_free(s);
}

#define GREET_NOAUTH  "\x05\x01\x00"
#define METHOD_NOAUTH "\x05\x00"
#define CONNECT_V4_25 "\x05\x01\x00\x01\xc0\x00\x02\x0a\x00\x19"
#define REPLY_OK      "\x05\x00\x00\x01\x0a\x00\x00\x01\x04\x38"
#define SMTP_GREETING "220 mail.example.test ESMTP\r\n"
#define PLAIN_ALICE   "AGFsaWNlAHMzY3JldA==" /* \0alice\0s3cret */

static const struct tcase cases[] = {
    { "no auth, IPv4 CONNECT to 25, SMTP AUTH PLAIN",
      { SEG('C', GREET_NOAUTH), SEG('S', METHOD_NOAUTH), SEG('C', CONNECT_V4_25),
        SEG('S', REPLY_OK), SEG('S', SMTP_GREETING), SEG('C', "EHLO me\r\n"),
        SEG('S', "250-mail\r\n250 AUTH PLAIN\r\n"), SEG('C', "AUTH PLAIN " PLAIN_ALICE "\r\n"),
        SEG('S', "235 ok\r\n") },
      false,
      "smtp",
      FINDING_TLS_NONE,
      "PLAIN alice s3cret success" },
    { "username/password, domain CONNECT to 110, POP3 USER/PASS",
      { SEG('C', "\x05\x02\x00\x02"), SEG('S', "\x05\x02"),
        SEG('C', "\x01\x03"
                 "bob\x04pw:x"),
        SEG('S', "\x01\x00"), SEG('C', "\x05\x01\x00\x03\x0bpop.example\x00\x6e"),
        SEG('S', REPLY_OK "+OK ready\r\n"), SEG('C', "USER alice\r\n"), SEG('S', "+OK\r\n"),
        SEG('C', "PASS s3cret\r\n"), SEG('S', "+OK in\r\n") },
      false,
      "pop3",
      FINDING_TLS_NONE,
      "SOCKS5 bob pw:x success; USER/PASS alice s3cret success" },
    { "pipelined: greeting and request at once, IPv6 CONNECT to 993 (implicit TLS)",
      { SEG('C', GREET_NOAUTH "\x05\x01\x00\x04"
                              "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00"
                              "\x00\x00\x00\x01\x03\xe1"),
        SEG('S', METHOD_NOAUTH REPLY_OK "\x16\x03\x03\x00\x02hi") },
      false,
      "imap",
      FINDING_TLS_IMPLICIT,
      "" },
    { "CONNECT to 443 is not mail",
      { SEG('C', GREET_NOAUTH), SEG('S', METHOD_NOAUTH),
        SEG('C', "\x05\x01\x00\x01\xc0\x00\x02\x0a\x01\xbb"), SEG('S', REPLY_OK),
        SEG('C', "GET / HTTP/1.1\r\n") },
      true,
      NULL,
      FINDING_TLS_NONE,
      "" },
    { "the proxy refuses the CONNECT",
      { SEG('C', GREET_NOAUTH), SEG('S', METHOD_NOAUTH), SEG('C', CONNECT_V4_25),
        SEG('S', "\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00") },
      true,
      NULL,
      FINDING_TLS_NONE,
      "" },
    { "the proxy refuses the password: no tunnel, no credential",
      { SEG('C', "\x05\x01\x02"), SEG('S', "\x05\x02"),
        SEG('C', "\x01\x03"
                 "bob\x02pw"),
        SEG('S', "\x01\x01") },
      true,
      NULL,
      FINDING_TLS_NONE,
      "" },
    { "GSSAPI is not followed",
      { SEG('C', "\x05\x01\x01"), SEG('S', "\x05\x01"),
        SEG('C', "\x01\x01\x00\x04"
                 "abcd") },
      true,
      NULL,
      FINDING_TLS_NONE,
      "" },
    { "BIND is not a tunnel to follow",
      { SEG('C', GREET_NOAUTH), SEG('S', METHOD_NOAUTH),
        SEG('C', "\x05\x02\x00\x01\xc0\x00\x02\x0a\x00\x19") },
      true,
      NULL,
      FINDING_TLS_NONE,
      "" },
    { "a gap in the handshake ends it",
      { SEG('C', GREET_NOAUTH), SEG('S', METHOD_NOAUTH), SEG('G', ""), SEG('C', CONNECT_V4_25),
        SEG('S', REPLY_OK) },
      true,
      NULL,
      FINDING_TLS_NONE,
      "" },
    { "an unknown address type is not SOCKS5",
      { SEG('C', GREET_NOAUTH), SEG('S', METHOD_NOAUTH),
        SEG('C', "\x05\x01\x00\x09\xc0\x00\x02\x0a\x00\x19") },
      true,
      NULL,
      FINDING_TLS_NONE,
      "" },
};

static void test_cases(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        printf("case: %s\n", cases[i].name);
        run(&cases[i], MODE_WHOLE);
        run(&cases[i], MODE_BYTES);
        run(&cases[i], MODE_SERVER_FIRST);
    }
}

/* A client that queues more than a handshake can hold before the proxy answers. */
static void test_queue_limit(void)
{
    struct session *s = finding_new();
    struct parse_stats st;
    memset(&st, 0, sizeof st);
    struct parse_ctx ctx = { s, &st, 0, registry_parser_for_port, NULL };
    void *p = parse_open(&socks_parser_ops, &ctx);
    static uint8_t junk[4096];
    memset(junk, 'x', sizeof junk);
    memcpy(junk, GREET_NOAUTH CONNECT_V4_25, 13);
    size_t consumed = 0;
    CHECK_EQ_U(socks_parser_ops.feed(p, PARSE_DIR_CLIENT, junk, sizeof junk, &consumed),
               PARSE_ERROR);
    CHECK_EQ_U(st.socks_not_mail, 1);
    CHECK_EQ_U(s->protocol, NULL);
    socks_parser_ops.end(p);
    socks_parser_ops.free_parser(p);
    finding_free(s);
}

/* The wrapper is charged for the largest mail parser a tunnel can lead to: any row's that is
 * not itself a wrapper (registry_parser_for_port serves those alone). */
static void test_state_size(void)
{
    for (size_t i = 0; i < registry_count(); i++) {
        const struct registry_proto *r = registry_at(i);
        if (r->is_wrapper) {
            continue;
        }
        CHECK(r->ops->state_size <= SOCKS_INNER_MAX_STATE);
        if (test_case_failed) {
            fprintf(stderr, "  %s: %zu bytes\n", r->name, r->ops->state_size);
        }
    }
    CHECK(socks_parser_ops.state_size > SOCKS_INNER_MAX_STATE);
}

static void test_is_greeting(void)
{
    static const struct {
        const char *p;
        size_t len;
        enum line_prefix want;
    } greetings[] = {
        { "\x05\x01\x00", 3, LINE_PREFIX_YES },
        { "\x05\x02\x00\x02\x05\x01", 6, LINE_PREFIX_YES }, /* a request pipelined */
        { "\x05\x0e\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d", 16,
          LINE_PREFIX_YES }, /* SOCKS_MAX_METHODS: fills the prefix classify reads */
        { "", 0, LINE_PREFIX_SHORT },
        { "\x05", 1, LINE_PREFIX_SHORT },
        { "\x05\x02", 2, LINE_PREFIX_SHORT },
        { "\x05\x02\x00", 3, LINE_PREFIX_SHORT },  /* cut short */
        { "\x05\x0f\x00", 3, LINE_PREFIX_NO },     /* one method past the limit */
        { "\x05\x01\xff", 3, LINE_PREFIX_NO },     /* no method */
        { "\x05\x02\xff", 3, LINE_PREFIX_NO },     /* no method, before the rest came */
        { "\x04\x01\x00\x19", 4, LINE_PREFIX_NO }, /* SOCKS4 */
        { "\x05\x00", 2, LINE_PREFIX_NO },
        { "EHLO x\r\n", 8, LINE_PREFIX_NO },
    };
    for (size_t i = 0; i < sizeof greetings / sizeof greetings[0]; i++) {
        enum line_prefix got = socks_greeting((const uint8_t *)greetings[i].p, greetings[i].len);
        if (got != greetings[i].want) {
            printf("  greeting %zu: got %d, want %d\n", i, (int)got, (int)greetings[i].want);
        }
        CHECK_EQ_U(got, greetings[i].want);
    }
}

/* The CONNECT request's host and port are the proxy target. */
static void context(void)
{
    script_check_context(
        &socks_parser_ops,
        SCRIPT(C "\x05\x01\x00" S "\x05\x00" C "\x05\x01\x00\x03\x09localhost\x00\x8f"), 0,
        FINDING_CONTEXT_PROXY_TARGET, "localhost:143");
    script_check_context(
        &socks_parser_ops,
        SCRIPT(C "\x05\x01\x00" S "\x05\x00" C "\x05\x01\x00\x01\x7f\x00\x00\x01\x02\x4b"), 0,
        FINDING_CONTEXT_PROXY_TARGET, "127.0.0.1:587");
    script_check_context(&socks_parser_ops,
                         SCRIPT(C "\x05\x01\x00" S "\x05\x00" C "\x05\x01\x00\x04"
                                  "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"
                                  "\x03\xe1"),
                         0, FINDING_CONTEXT_PROXY_TARGET, "[2001:db8::1]:993");
}

int main(void)
{
    RUN(test_cases);
    RUN(test_queue_limit);
    RUN(test_is_greeting);
    RUN(test_state_size);
    RUN(context);
    return TEST_SUMMARY();
}
