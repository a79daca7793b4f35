/* test_httpconnect.c - unit tests for the HTTP CONNECT wrapper: requests that the proxy opens
 * to a mail server are unwrapped into that protocol's parser; every other one is not mail.
 *
 * The table runs on script.h (each case whole, then every chunk cut into pieces of 1 to 64
 * bytes), and again with one chunk at a time cut in two at every offset, and with each proxy
 * answer fed before the client chunk before it (the capture order of the two directions need
 * not follow the handshake). The description must be the same every way. */
#include "httpconnect.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "finding.h"
#include "script.h"
#include "test.h"
#include "tunables.h"

#define OK_200        "HTTP/1.1 200 Connection established\r\n\r\n"
#define SMTP_GREETING "220 mail.example.test ESMTP\r\n"
#define PLAIN_ALICE   "AGFsaWNlAHMzY3JldA==" /* \0alice\0s3cret */
#define SMTP_AUTH                                                                                  \
    S SMTP_GREETING C "EHLO me\r\n" S "250-mail\r\n250 AUTH PLAIN\r\n" C "AUTH PLAIN " PLAIN_ALICE \
                      "\r\n" S "235 ok\r\n"
#define POP3_USER                                                                                  \
    S "+OK ready\r\n" C "USER alice\r\n" S "+OK\r\n" C "PASS s3cret\r\n" S "+OK in\r\n"
/* A TLS 1.2 ServerHello (RFC 5246 section 7.4.1.3) and the client's first record. */
#define HELLO_TLS12                                                                                \
    "\x16\x03\x03\x00\x2c\x02\x00\x00\x28\x03\x03"                                                 \
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"                                                             \
    "\x00\xc0\x2f\x00\x00\x00"
#define CLIENT_HELLO "\x16\x03\x01\x00\x05hello"
/* NTLM (MS-NLMP), as in test_http.c: NEGOTIATE; CHALLENGE with the server challenge
 * 0123456789abcdef; AUTHENTICATE for CORP\alice with the NT response 00 01 .. 17. */
#define NTLM1 "TlRMTVNTUAABAAAAB4IIAAAAAAAAAAAAAAAAAAAAAAA="
#define NTLM2 "TlRMTVNTUAACAAAAAAAAADAAAAAFggIAASNFZ4mrze8AAAAAAAAAAAAAAAAwAAAA"
#define NTLM3                                                                                      \
    "TlRMTVNTUAADAAAAGAAYAEAAAAAYABgAWAAAAAgACABwAAAACgAKAHgAAAAEAAQAggAAAAAAAACGAAAABYIIAAAAAAAA" \
    "AAAAAAAAAAAAAAAAAAAAAAAAAAABAgMEBQYHCAkKCwwNDg8QERITFBUWF0MATwBSAFAAYQBsAGkAYwBlAFcAUwA="
#define NT_RESP "000102030405060708090a0b0c0d0e0f1011121314151617"
#define AUTH_407                                                                                   \
    "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic "                     \
    "realm=\"p\"\r\n"

static const struct script_case cases[] = {
    { "CONNECT to 25, SMTP AUTH PLAIN inside",
      SCRIPT(C
             "CONNECT mail.example.test:25 HTTP/1.1\r\nHost: mail.example.test:25\r\n\r\n" S OK_200
                 SMTP_AUTH),
      0, "tls=none starttls=not-offered inj=0 | PLAIN alice s3cret success" },
    { "Basic proxy login, CONNECT to 110, POP3 USER/PASS inside",
      SCRIPT(C "CONNECT 192.0.2.10:110 HTTP/1.1\r\nHost: 192.0.2.10:110\r\n"
               "Proxy-Authorization: Basic Ym9iOnB3\r\nUser-Agent: curl/7.88.1\r\n\r\n" S
               "HTTP/1.1 200 OK\r\nVia: 1.1 proxy\r\n\r\n" POP3_USER),
      0,
      "tls=none starttls=null inj=0 | HTTP-PROXY-BASIC bob pw success | USER/PASS alice "
      "s3cret success" },
    { "CONNECT to 143, LF-only lines, IMAP LOGIN inside",
      SCRIPT(C "CONNECT imap.example.test:143 HTTP/1.0\n\n" S "HTTP/1.0 200\n\n" S
               "* OK ready\r\n" C "a LOGIN alice s3cret\r\n" S "a OK done\r\n"),
      0, "tls=none starttls=null inj=0 | IMAP LOGIN alice s3cret success" },
    { "CONNECT to 465: implicit TLS",
      SCRIPT(
          C "CONNECT smtp.example.test:465 HTTP/1.1\r\n\r\n" S OK_200 C CLIENT_HELLO S HELLO_TLS12),
      0, "tls=implicit starttls=n/a inj=0 v=0303" },
    { "CONNECT to [IPv6]:993, the ClientHello pipelined before the answer",
      SCRIPT(C "CONNECT [2001:db8::1]:993 HTTP/1.1\r\n\r\n" CLIENT_HELLO S OK_200 HELLO_TLS12), 0,
      "tls=implicit starttls=n/a inj=0 v=0303" },
    { "the answer and the greeting in one segment, a pipelined EHLO",
      SCRIPT(C "CONNECT mx.example.test:25 HTTP/1.1\r\n\r\nEHLO me\r\n" S OK_200 SMTP_GREETING
               "250 mail\r\n"),
      0, "tls=none starttls=not-offered inj=0" },
    { "old spam tool: an extra token, a header without a colon (Zeek's trace)",
      SCRIPT(C "CONNECT mailin03.example.test:25 / HTTP/1.0\r\nMozilla 4.0 (compatible; MSIE "
               "5.01; Windows NT 5.0)\r\n\r\n" S
               "HTTP/1.0 200 Connection established\r\n\r\n" S SMTP_GREETING C
               "HELO 192.0.2.1\r\n" S "250 Ok.\r\n"),
      0, "tls=none starttls=null inj=0" },
    { "the answer before the request's end, USER pipelined after it",
      SCRIPT(C "CONNECT pop.example.test:110 HTTP/1.1\r\n" S OK_200 "+OK ready\r\n" C
               "\r\nUSER alice\r\n" S "+OK\r\n" C "PASS s3cret\r\n" S "-ERR no\r\n"),
      0, "tls=none starttls=null inj=0 | USER/PASS alice s3cret failure" },
    { "an interim 100 before the 200",
      SCRIPT(C "CONNECT mail.example.test:25 HTTP/1.1\r\n\r\n" S
               "HTTP/1.1 100 Continue\r\n\r\n" OK_200 SMTP_AUTH),
      0, "tls=none starttls=not-offered inj=0 | PLAIN alice s3cret success" },
    { "407 on a Basic login to a mail port, then the connection closes",
      SCRIPT(C "CONNECT mail.example.test:25 HTTP/1.1\r\nProxy-Authorization: Basic "
               "Ym9iOndyb25n\r\n\r\n" S AUTH_407 "Content-Length: 0\r\n\r\n"),
      0, "tls=none starttls=null inj=0 | HTTP-PROXY-BASIC bob wrong failure" },
    { "407 with a body, then a retry on the same connection that succeeds",
      SCRIPT(C "CONNECT pop.example.test:110 HTTP/1.1\r\n\r\n" S AUTH_407
               "Content-Length: 13\r\n\r\n<html></html" S ">" C
               "CONNECT pop.example.test:110 HTTP/1.1\r\nProxy-Authorization: basic "
               "Ym9iOnJpZ2h0\r\n\r\n" S OK_200 POP3_USER),
      0,
      "tls=none starttls=null inj=0 | HTTP-PROXY-BASIC bob right success | USER/PASS "
      "alice s3cret success" },
    { "407 with a chunked body: the next answer cannot be found",
      SCRIPT(C "CONNECT pop.example.test:110 HTTP/1.1\r\nProxy-Authorization: Basic "
               "Ym9iOndyb25n\r\n\r\n" S AUTH_407 "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
      0, "PARSE_ERROR" },
    { "a password with colons: the user ends at the first",
      SCRIPT(C "CONNECT pop.example.test:110 HTTP/1.1\r\nProxy-Authorization: Basic "
               "Y2Fyb2w6cDphOnNz\r\n\r\n" S OK_200),
      0, "tls=none starttls=null inj=0 | HTTP-PROXY-BASIC carol p:a:ss success" },
    { "Basic that is not base64 of user:pass: no credential",
      SCRIPT(C "CONNECT pop.example.test:110 HTTP/1.1\r\nProxy-Authorization: Basic "
               "bm9jb2xvbg==\r\nProxy-Authorization: Basic Ym9iOnB3\r\nProxy-Authorization: "
               "Basic !!\r\n\r\n" S OK_200),
      0, "tls=none starttls=null inj=0" },
    { "Digest: the user, challenge-response",
      SCRIPT(C "CONNECT pop.example.test:110 HTTP/1.1\r\nProxy-Authorization: Digest "
               "username=\"bob\", nonce=\"n0\", response=\"ab12\"\r\n\r\n" S OK_200),
      0, "tls=none starttls=null inj=0 | HTTP-PROXY-DIGEST bob - success ch=n0 resp=ab12" },
    { "NTLM: NEGOTIATE, 407 with the CHALLENGE, AUTHENTICATE, then SMTP",
      SCRIPT(C "CONNECT mail.example.test:25 HTTP/1.1\r\nProxy-Authorization: NTLM " NTLM1
               "\r\n\r\n" S AUTH_407 "Proxy-Authenticate: NTLM " NTLM2
               "\r\nContent-Length: 0\r\n\r\n" C
               "CONNECT mail.example.test:25 HTTP/1.1\r\nProxy-Authorization: NTLM " NTLM3
               "\r\n\r\n" S OK_200 SMTP_AUTH),
      0,
      "tls=none starttls=not-offered inj=0 | HTTP-PROXY-NTLM CORP\\alice - success "
      "ch=0123456789abcdef resp=" NT_RESP " | PLAIN alice s3cret success" },
    { "two Proxy-Authorization fields: which the proxy read cannot be told",
      SCRIPT(C "CONNECT pop.example.test:110 HTTP/1.1\r\nProxy-Authorization: Basic "
               "Ym9iOnB3\r\nProxy-Authorization: Bearer t\r\n\r\n" S OK_200),
      0, "tls=none starttls=null inj=0" },
    { "403 refused",
      SCRIPT(C "CONNECT mail.example.test:25 HTTP/1.1\r\n\r\n" S "HTTP/1.1 403 Forbidden\r\n\r\n"),
      0, "PARSE_ERROR" },
    { "502 with Basic: the login is not reported",
      SCRIPT(C "CONNECT mail.example.test:25 HTTP/1.1\r\nProxy-Authorization: Basic "
               "Ym9iOnB3\r\n\r\n" S "HTTP/1.1 502 Bad Gateway\r\n\r\n"),
      0, "PARSE_ERROR" },
    { "CONNECT to 80: the HTTP parser reads the tunnel",
      SCRIPT(C "CONNECT www.example.test:80 HTTP/1.1\r\n\r\n" S OK_200 C
               "GET / HTTP/1.1\r\nAuthorization: Basic Ym9iOnB3\r\n\r\n" S
               "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
      0, "tls=none starttls=n/a inj=0 | BASIC bob pw success" },
    { "407 on a Basic login to port 443: the proxy's own HTTP session",
      SCRIPT(C "CONNECT www.example.test:443 HTTP/1.1\r\nProxy-Authorization: Basic "
               "Ym9iOnB3\r\n\r\n" S AUTH_407 "\r\n"),
      0, "tls=none starttls=n/a inj=0 | BASIC bob pw failure" },
    { "no port", SCRIPT(C "CONNECT mail.example.test HTTP/1.1\r\n\r\n"), 0, "PARSE_ERROR" },
    { "port 0", SCRIPT(C "CONNECT mail.example.test:0 HTTP/1.1\r\n\r\n"), 0, "PARSE_ERROR" },
    { "port past 65535", SCRIPT(C "CONNECT mail.example.test:65561 HTTP/1.1\r\n\r\n"), 0,
      "PARSE_ERROR" },
    { "six port digits", SCRIPT(C "CONNECT mail.example.test:000025 HTTP/1.1\r\n\r\n"), 0,
      "PARSE_ERROR" },
    { "no version", SCRIPT(C "CONNECT mail.example.test:25\r\n\r\n"), 0, "PARSE_ERROR" },
    { "HTTP/2.0", SCRIPT(C "CONNECT mail.example.test:25 HTTP/2.0\r\n\r\n"), 0, "PARSE_ERROR" },
    { "lower-case method", SCRIPT(C "connect mail.example.test:25 HTTP/1.1\r\n\r\n"), 0,
      "PARSE_ERROR" },
    { "unbracketed IPv6", SCRIPT(C "CONNECT 2001:db8::1:25 HTTP/1.1\r\n\r\n"), 0, "PARSE_ERROR" },
    { "a bracket never closed", SCRIPT(C "CONNECT [2001:db8::1:25 HTTP/1.1\r\n\r\n"), 0,
      "PARSE_ERROR" },
    { "a user in the authority", SCRIPT(C "CONNECT bob@mail.example.test:25 HTTP/1.1\r\n\r\n"), 0,
      "PARSE_ERROR" },
    { "a status line that is none",
      SCRIPT(C "CONNECT mail.example.test:25 HTTP/1.1\r\n\r\n" S "220 mail ESMTP\r\n"), 0,
      "PARSE_ERROR" },
    { "a gap in the handshake ends it",
      SCRIPT(C "CONNECT mail.example.test:25 HTTP/1.1\r\n" G C C "\r\n" S OK_200), 0,
      "PARSE_ERROR" },
    { "a gap inside the tunnel is the inner parser's (pop3 drops the line after it)",
      SCRIPT(C "CONNECT pop.example.test:110 HTTP/1.1\r\n\r\n" S OK_200 "+OK ready\r\n" G C C
               "USER alice\r\n" S "+OK\r\n" C "PASS s3cret\r\n" S "+OK in\r\n"),
      0, "tls=none starttls=null inj=0 | USER/PASS  s3cret success" },
};

/* A chunk that is one head and nothing after it: a request or an answer that carries no tunnel
 * bytes. */
static bool is_bare_head(const struct script_chunk *c)
{
    if (c->is_gap || c->len < 8 ||
        (memcmp(c->p, "HTTP/", 5) != 0 && memcmp(c->p, "CONNECT ", 8) != 0)) {
        return false;
    }
    for (size_t i = 1; i < c->len; i++) {
        bool is_end = c->p[i] == '\n' && (c->p[i - 1] == '\n' ||
                                          (i >= 2 && c->p[i - 1] == '\r' && c->p[i - 2] == '\n'));
        if (is_end) {
            return i + 1 == c->len;
        }
    }
    return false;
}

/* Feeds the chunks of tc; chunk cut (SIZE_MAX: none) in two at off, and when is_swapped each
 * server chunk before the client chunk before it. Writes the description into out. */
static void run_variant(const struct script_case *tc, size_t cut, size_t off, bool is_swapped,
                        char *out, size_t cap, struct parse_stats *out_st)
{
    struct script_chunk ch[SCRIPT_MAX_CHUNKS];
    size_t n = script_split(tc->script, tc->script_len, ch, SCRIPT_MAX_CHUNKS);
    if (is_swapped) {
        for (size_t i = 0; i + 1 < n; i++) {
            /* Only heads with nothing after them: the mail parser inside pairs answers with
             * commands in capture order, which a tunnel byte moved past another would change. */
            if (ch[i].dir == PARSE_DIR_CLIENT && ch[i + 1].dir == PARSE_DIR_SERVER &&
                is_bare_head(&ch[i]) && is_bare_head(&ch[i + 1])) {
                struct script_chunk t = ch[i];
                ch[i] = ch[i + 1];
                ch[i + 1] = t;
                i++;
            }
        }
    }
    struct session *s = finding_new();
    struct parse_stats st;
    memset(&st, 0, sizeof st);
    struct parse_ctx ctx = { s, &st, tc->flags, registry_parser_for_port, NULL };
    const struct parser_ops *ops = &httpconnect_parser_ops;
    void *p = parse_open(ops, &ctx);
    bool is_dead = false;
    for (size_t i = 0; i < n && !is_dead; i++) {
        if (ch[i].is_gap) {
            ops->gap(p, ch[i].dir, SCRIPT_GAP_LEN);
            continue;
        }
        size_t at = i == cut ? off : ch[i].len;
        size_t consumed = 0;
        is_dead = ops->feed(p, ch[i].dir, ch[i].p, at, &consumed) == PARSE_ERROR;
        if (!is_dead && at < ch[i].len) {
            is_dead =
                ops->feed(p, ch[i].dir, ch[i].p + at, ch[i].len - at, &consumed) == PARSE_ERROR;
        }
    }
    ops->end(p);
    script_describe(s, NULL, out, cap);
    if (is_dead) {
        snprintf(out, cap, "PARSE_ERROR");
    }
    /* Every request is counted once: a tunnel, or not mail (the refused ones among them);
     * a 407 that the client did not follow up is neither. */
    CHECK(st.httpconnect_tunnels + st.httpconnect_not_mail <= 2);
    ops->free_parser(p);
    finding_free(s);
    *out_st = st;
}

static void test_splits(void)
{
    char got[SCRIPT_DESC_LEN];
    struct parse_stats whole, st;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct script_case *tc = &cases[i];
        struct script_chunk ch[SCRIPT_MAX_CHUNKS];
        size_t n = script_split(tc->script, tc->script_len, ch, SCRIPT_MAX_CHUNKS);
        run_variant(tc, SIZE_MAX, 0, false, got, sizeof got, &whole);
        for (size_t c = 0; c < n; c++) {
            for (size_t off = 1; off < ch[c].len; off++) {
                run_variant(tc, c, off, false, got, sizeof got, &st);
                /* The counters too: where a head ends decides what the inner parser reads
                 * first, and a cut must not move it. */
                if (strcmp(got, tc->want) != 0 || memcmp(&st, &whole, sizeof st) != 0) {
                    fprintf(stderr, "  %s: chunk %zu cut at %zu: %s\n", tc->name, c, off, got);
                    CHECK(strcmp(got, tc->want) == 0);
                    CHECK(memcmp(&st, &whole, sizeof st) == 0);
                    break;
                }
            }
        }
        run_variant(tc, SIZE_MAX, 0, true, got, sizeof got, &st);
        if (strcmp(got, tc->want) != 0) {
            fprintf(stderr, "  %s: answers first: %s\n", tc->name, got);
            CHECK(strcmp(got, tc->want) == 0);
        }
    }
}

/* A head of exactly n bytes: the request line, filler headers, the empty line. */
static size_t make_head(char *buf, size_t n)
{
    static const char line[] = "CONNECT mail.example.test:25 HTTP/1.1\r\n";
    size_t len = sizeof line - 1;
    memcpy(buf, line, len);
    /* One header "X: aaa...\r\n" filling all but the final CR LF. */
    size_t fill = n - len - 2;
    memcpy(buf + len, "X: ", 3);
    memset(buf + len + 3, 'a', fill - 5);
    memcpy(buf + len + fill - 2, "\r\n", 2);
    memcpy(buf + n - 2, "\r\n", 2);
    return n;
}

static void test_head_at_limit(void)
{
    static char buf[HTTPCONNECT_MAX_HEAD + 1];
    struct script_fx f;
    script_fx_open(&f, &httpconnect_parser_ops, 0);
    size_t n = make_head(buf, HTTPCONNECT_MAX_HEAD);
    CHECK_EQ_U(script_fx_feed(&f, PARSE_DIR_CLIENT, buf, n), PARSE_NEED_MORE);
    CHECK_EQ_U(script_fx_str(&f, PARSE_DIR_SERVER, OK_200 SMTP_GREETING), PARSE_OK);
    CHECK_EQ_U(f.st.httpconnect_tunnels, 1);
    CHECK_EQ_U(f.st.httpconnect_overlong, 0);
    CHECK(f.s->protocol != NULL && strcmp(f.s->protocol, "smtp") == 0);
    script_fx_close(&f);
}

static void test_head_past_limit(void)
{
    static char buf[HTTPCONNECT_MAX_HEAD + 1];
    struct script_fx f;
    script_fx_open(&f, &httpconnect_parser_ops, 0);
    size_t n = make_head(buf, HTTPCONNECT_MAX_HEAD + 1);
    CHECK_EQ_U(script_fx_feed(&f, PARSE_DIR_CLIENT, buf, n), PARSE_ERROR);
    CHECK_EQ_U(f.st.httpconnect_overlong, 1);
    CHECK(f.s->protocol == NULL);
    script_fx_close(&f);
}

/* A client pipelining bytes after its head before the proxy answers: its queue holds
 * HTTPCONNECT_MAX_HEAD of them, and one more is not followed. */
static void test_pipelined_limit(void)
{
    static char buf[64 + HTTPCONNECT_MAX_HEAD];
    struct script_fx f;
    script_fx_open(&f, &httpconnect_parser_ops, 0);
    size_t n = make_head(buf, 64);
    memset(buf + n, 'x', sizeof buf - n);
    CHECK_EQ_U(script_fx_feed(&f, PARSE_DIR_CLIENT, buf, sizeof buf), PARSE_NEED_MORE);
    CHECK_EQ_U(f.st.httpconnect_overlong, 0);
    CHECK_EQ_U(script_fx_str(&f, PARSE_DIR_CLIENT, "x"), PARSE_ERROR);
    CHECK_EQ_U(f.st.httpconnect_overlong, 1);
    script_fx_close(&f);
}

static void test_counters(void)
{
    struct script_fx f;
    script_fx_open(&f, &httpconnect_parser_ops, 0);
    script_fx_str(&f, PARSE_DIR_CLIENT, "CONNECT mail.example.test:25 HTTP/1.1\r\n\r\n");
    CHECK_EQ_U(script_fx_str(&f, PARSE_DIR_SERVER, OK_200), PARSE_OK);
    CHECK_EQ_U(f.st.httpconnect_tunnels, 1);
    CHECK_EQ_U(f.st.httpconnect_not_mail, 0);
    script_fx_close(&f);

    script_fx_open(&f, &httpconnect_parser_ops, 0);
    script_fx_str(&f, PARSE_DIR_CLIENT,
                  "CONNECT www.example.test:443 HTTP/1.1\r\nProxy-Authorization: Basic !\r\n\r\n");
    CHECK_EQ_U(script_fx_str(&f, PARSE_DIR_SERVER, OK_200), PARSE_ERROR);
    CHECK_EQ_U(f.st.httpconnect_tunnels, 0);
    CHECK_EQ_U(f.st.httpconnect_not_mail, 1);
    CHECK_EQ_U(f.st.http_bad_auth, 1);
    CHECK_EQ_U(f.st.httpconnect_bad_auth, 0);
    script_fx_close(&f);

    /* A Bearer login on the way to 443: the proxy's session is HTTP's, its login kept. */
    script_fx_open(&f, &httpconnect_parser_ops, 0);
    script_fx_str(&f, PARSE_DIR_CLIENT,
                  "CONNECT www.example.test:443 HTTP/1.1\r\nProxy-Authorization: Bearer tok\r\n"
                  "Proxy-Authorization: Bearer tok\r\n\r\n");
    CHECK_EQ_U(f.st.httpconnect_bad_auth, 1);
    CHECK_EQ_U(f.s->n_creds, 0);
    script_fx_close(&f);
    script_fx_open(&f, &httpconnect_parser_ops, 0);
    script_fx_str(&f, PARSE_DIR_CLIENT,
                  "CONNECT www.example.test:443 HTTP/1.1\r\nProxy-Authorization: Bearer tok\r\n"
                  "\r\n");
    CHECK_EQ_U(script_fx_str(&f, PARSE_DIR_SERVER, OK_200), PARSE_ERROR);
    CHECK(f.s->protocol != NULL && strcmp(f.s->protocol, "http") == 0);
    CHECK_EQ_U(f.s->n_creds, 1);
    if (f.s->n_creds == 1) {
        CHECK(strcmp(f.s->creds[0]->mechanism, "BEARER") == 0);
        CHECK_EQ_U(f.s->creds[0]->result, FINDING_RESULT_SUCCESS);
    }
    script_fx_close(&f);
}

/* The wrapper is charged for the largest mail parser a tunnel can lead to. */
static void test_state_size(void)
{
    for (size_t i = 0; i < registry_count(); i++) {
        const struct registry_proto *r = registry_at(i);
        if (r->is_wrapper) {
            continue;
        }
        CHECK(r->ops->state_size <= HTTPCONNECT_INNER_MAX_STATE);
        if (test_case_failed) {
            fprintf(stderr, "  %s: %zu bytes\n", r->name, r->ops->state_size);
        }
    }
    CHECK(httpconnect_parser_ops.state_size > HTTPCONNECT_INNER_MAX_STATE);
}

static void test_opens(void)
{
    static const struct {
        const char *p;
        size_t len;
        enum line_prefix want;
    } opens[] = {
        { "", 0, LINE_PREFIX_SHORT },
        { "C", 1, LINE_PREFIX_SHORT },
        { "CONNECT", 7, LINE_PREFIX_SHORT },
        { "CONNECT ", 8, LINE_PREFIX_YES },
        { "CONNECT mail.example.test:25 HTTP/1.1\r\n", 39, LINE_PREFIX_YES },
        { "CONNECTX", 8, LINE_PREFIX_NO },
        { "connect ", 8, LINE_PREFIX_NO }, /* methods are case-sensitive */
        { "GET / HTTP/1.1\r\n", 16, LINE_PREFIX_NO },
        { "CO\x00", 3, LINE_PREFIX_NO },
        { "\x05\x01\x00", 3, LINE_PREFIX_NO },
    };
    for (size_t i = 0; i < sizeof opens / sizeof opens[0]; i++) {
        enum line_prefix got = httpconnect_opens((const uint8_t *)opens[i].p, opens[i].len);
        if (got != opens[i].want) {
            printf("  opens %zu: got %d, want %d\n", i, (int)got, (int)opens[i].want);
        }
        CHECK_EQ_U(got, opens[i].want);
    }
}

/* The CONNECT request's authority is the proxy target. */
static void context(void)
{
    script_check_context(&httpconnect_parser_ops,
                         SCRIPT(C "CONNECT mail.example.test:465 HTTP/1.1\r\n\r\n"), 0,
                         FINDING_CONTEXT_PROXY_TARGET, "mail.example.test:465");
}

int main(void)
{
    script_run_table(&httpconnect_parser_ops, cases, sizeof cases / sizeof cases[0], NULL);
    RUN(test_splits);
    RUN(test_head_at_limit);
    RUN(test_head_past_limit);
    RUN(test_pipelined_limit);
    RUN(test_counters);
    RUN(test_state_size);
    RUN(test_opens);
    RUN(context);
    return TEST_SUMMARY();
}
