/* test_http.c - the HTTP parser, table-driven (script.h): each script fed whole and with every
 * chunk cut into pieces of 1 to 64 bytes; all must give the same record. Then on parsers fed by
 * hand: the counters, the limits of a field, the session record's rule (no credential, no
 * record), a CONNECT-first session handed to the wrapper, classification by the request line. */
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "registry.h"
#include "script.h"
#include "test.h"

/* base64 of "alice:Secr3t-alice" and "bob:hunter2 with spaces". */
#define B64_ALICE "YWxpY2U6U2VjcjN0LWFsaWNl"
#define B64_BOB   "Ym9iOmh1bnRlcjIgd2l0aCBzcGFjZXM="
/* NTLM (MS-NLMP): a NEGOTIATE message; a CHALLENGE with the server challenge 0123456789abcdef
 * and Unicode; AUTHENTICATE messages for CORP\alice from WS with the NT response 00 01 .. 17, in
 * UTF-16LE and in OEM; an anonymous one; one whose user field points past its end; one for
 * "jürgen" and an emoji (a surrogate pair) with no domain. */
#define NTLM1 "TlRMTVNTUAABAAAAB4IIAAAAAAAAAAAAAAAAAAAAAAA="
#define NTLM2 "TlRMTVNTUAACAAAAAAAAADAAAAAFggIAASNFZ4mrze8AAAAAAAAAAAAAAAAwAAAA"
#define NTLM3                                                                                      \
    "TlRMTVNTUAADAAAAGAAYAEAAAAAYABgAWAAAAAgACABwAAAACgAKAHgAAAAEAAQAggAAAAAAAACGAAAABYIIAAAAAAAA" \
    "AAAAAAAAAAAAAAAAAAAAAAAAAAABAgMEBQYHCAkKCwwNDg8QERITFBUWF0MATwBSAFAAYQBsAGkAYwBlAFcAUwA="
#define NTLM3_OEM                                                                                  \
    "TlRMTVNTUAADAAAAGAAYAEAAAAAYABgAWAAAAAQABABwAAAABQAFAHQAAAACAAIAeQAAAAAAAAB7AAAABoIIAAAAAAAA" \
    "AAAAAAAAAAAAAAAAAAAAAAAAAAABAgMEBQYHCAkKCwwNDg8QERITFBUWF0NPUlBhbGljZVdT"
#define NTLM3_ANON                                                                                 \
    "TlRMTVNTUAADAAAAAQABAEAAAAAAAAAAQQAAAAAAAABBAAAAAAAAAEEAAAAAAAAAQQAAAAAAAABBAAAABYIIAAA="
#define NTLM3_BAD                                                                                  \
    "TlRMTVNTUAADAAAAGAAYAEAAAAAYABgAWAAAAAgACABwAAAACgAKAIgTAAAEAAQAggAAAAAAAACGAAAABYIIAAAAAAAA" \
    "AAAAAAAAAAAAAAAAAAAAAAAAAAABAgMEBQYHCAkKCwwNDg8QERITFBUWF0MATwBSAFAAYQBsAGkAYwBlAFcAUwA="
#define NTLM3_UTF16                                                                                \
    "TlRMTVNTUAADAAAAGAAYAEAAAAAYABgAWAAAAAAAAABwAAAAEAAQAHAAAAAEAAQAgAAAAAAAAACEAAAABYIIAAAAAAAA" \
    "AAAAAAAAAAAAAAAAAAAAAAAAAAABAgMEBQYHCAkKCwwNDg8QERITFBUWF2oA/AByAGcAZQBuAD3YAN5XAFMA"
#define NT_RESP "000102030405060708090a0b0c0d0e0f1011121314151617"

#define GET(extra) C "GET /private/ HTTP/1.1\r\nHost: www.example.test\r\n" extra "\r\n"
#define OK_EMPTY   S "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
#define DENIED     S "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"
#define NONE       "tls=none starttls=n/a inj=0"
/* A body whose text looks like requests and answers: never read. */
#define TRAP                                                                                       \
    "GET /x HTTP/1.1\r\nAuthorization: Basic ZXZpbDpub3Rhc2VjcmV0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"
#define TRAP_LEN "81"

static const struct script_case cases[] = {
    { "Basic, 200", SCRIPT(GET("Authorization: Basic " B64_ALICE "\r\n") OK_EMPTY), 0,
      NONE " | BASIC alice Secr3t-alice success" },
    { "no Authorization: no credential",
      SCRIPT(GET("Accept: */*\r\n") S "HTTP/1.1 200 OK\r\nContent-Length: " TRAP_LEN
                                      "\r\n\r\n" TRAP),
      0, NONE },
    { "401 with a body of trap text, then the right password on the same connection",
      SCRIPT(GET("Authorization: Basic Ym9iOndyb25n\r\n") S
             "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"x\"\r\n"
             "Content-Length: " TRAP_LEN "\r\n\r\n" TRAP GET("Authorization: Basic " B64_BOB "\r\n")
                 OK_EMPTY),
      0, NONE " | BASIC bob wrong failure | BASIC bob hunter2 with spaces success" },
    { "pipelined: three requests in one write, their answers in one",
      SCRIPT(C "GET /a HTTP/1.1\r\nAuthorization: Basic Ym9iOmE=\r\n\r\n"
               "HEAD /b HTTP/1.1\r\nAuthorization: Basic Ym9iOmI=\r\n\r\n"
               "GET /c HTTP/1.1\r\nAuthorization: Basic Ym9iOmM=\r\n\r\n" S
               "HTTP/1.1 401 No\r\nContent-Length: 3\r\n\r\nabc"
               "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n"
               "HTTP/1.1 302 Found\r\nLocation: /\r\nContent-Length: 0\r\n\r\n"),
      0, NONE " | BASIC bob a failure | BASIC bob b success | BASIC bob c success" },
    { "a chunked answer with extensions and trailers, trap text inside",
      SCRIPT(GET("") S "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "1f;ext=\"v\"\r\nGET / HTTP/1.1\r\nAuthorization: \r\n"
                       "0\r\nExpires: never\r\n\r\n" GET("Authorization: Basic " B64_ALICE "\r\n")
                           DENIED),
      0, NONE " | BASIC alice Secr3t-alice failure" },
    { "a chunked request body (upload) with trap text",
      SCRIPT(C "POST /up HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
               "51\r\n" TRAP "\r\n0\r\n\r\n" GET("Authorization: Basic " B64_ALICE "\r\n") S
             "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n" OK_EMPTY),
      0, NONE " | BASIC alice Secr3t-alice success" },
    { "100 Continue, then the final answer",
      SCRIPT(C "POST /form HTTP/1.1\r\nAuthorization: Basic " B64_ALICE
               "\r\nExpect: 100-continue\r\nContent-Length: " TRAP_LEN "\r\n\r\n" S
               "HTTP/1.1 100 Continue\r\n\r\n" C TRAP S "HTTP/1.1 403 Forbidden\r\n"
               "Content-Length: 0\r\n\r\n" GET("Authorization: Basic " B64_BOB "\r\n") DENIED),
      0, NONE " | BASIC alice Secr3t-alice unknown | BASIC bob hunter2 with spaces failure" },
    { "204 and 304 have no body whatever they say",
      SCRIPT(GET("") GET("Authorization: Basic " B64_ALICE "\r\n") S
             "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n"
             "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"),
      0, NONE " | BASIC alice Secr3t-alice success" },
    { "the same Basic on every request is one credential",
      SCRIPT(GET("Authorization: Basic " B64_ALICE "\r\n")
                 OK_EMPTY GET("Authorization: Basic " B64_ALICE "\r\n")
                     OK_EMPTY GET("authorization: BASIC " B64_ALICE "\r\n") DENIED),
      0, NONE " | BASIC alice Secr3t-alice success" },
    { "field names in any case, obs-fold, LF alone",
      SCRIPT(C "GET / HTTP/1.0\nAUTHORIZATION:  Basic\n\t " B64_BOB " \ncontent-length: 0\n\n" S
               "HTTP/1.0 200 OK\n\n"),
      0, NONE " | BASIC bob hunter2 with spaces success" },
    { "Proxy-Authorization on a forward proxy's request; 407",
      SCRIPT(C "GET http://www.example.test/ HTTP/1.1\r\nProxy-Authorization: Basic " B64_ALICE
               "\r\n\r\n" S "HTTP/1.1 407 Proxy Authentication Required\r\n"
               "Proxy-Authenticate: Basic realm=\"proxy\"\r\nContent-Length: 0\r\n\r\n"),
      0, NONE " | BASIC alice Secr3t-alice failure" },
    { "both fields: 401 fails the origin's, leaves the proxy's",
      SCRIPT(C "GET http://www.example.test/ HTTP/1.1\r\nProxy-Authorization: Basic " B64_ALICE
               "\r\nAuthorization: Basic " B64_BOB "\r\n\r\n" DENIED),
      0, NONE " | BASIC alice Secr3t-alice unknown | BASIC bob hunter2 with spaces failure" },
    { "Bearer: the token is the secret",
      SCRIPT(GET("Authorization: Bearer mF_9.B5f-4.1JqM  \r\n") OK_EMPTY), 0,
      NONE " | BEARER  mF_9.B5f-4.1JqM success" },
    { "Digest: 401 with the challenge, then the response",
      SCRIPT(GET("") S "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Digest realm=\"r\", "
                       "nonce=\"dcd98b\", qop=\"auth\"\r\nContent-Length: 0\r\n\r\n" GET(
                           "Authorization: Digest username=\"Mufasa\", realm=\"r\", "
                           "nonce=\"dcd98b\", uri=\"/private/\", qop=auth, nc=00000001, "
                           "cnonce=\"0a4f\", response=\"6629fae4\"\r\n") OK_EMPTY),
      0, NONE " | DIGEST Mufasa - success ch=dcd98b resp=6629fae4" },
    { "Digest: an escaped quote in the user, a token value, no username",
      SCRIPT(GET("Authorization: Digest realm=r, username=\"a\\\"b\", nonce=n1, response=ff\r\n")
                 DENIED GET("Authorization: Digest realm=\"r\", nonce=\"n\"\r\n") DENIED),
      0, NONE " | DIGEST a\"b - failure ch=n1 resp=ff" },
    { "NTLM: negotiate, challenge, authenticate (Unicode), success",
      SCRIPT(GET("Authorization: NTLM " NTLM1 "\r\n") S
             "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: NTLM " NTLM2
             "\r\nContent-Length: 0\r\n\r\n" GET("Authorization: NTLM " NTLM3 "\r\n") OK_EMPTY),
      0, NONE " | NTLM CORP\\alice - success ch=0123456789abcdef resp=" NT_RESP },
    { "NTLM in Negotiate, OEM strings, refused",
      SCRIPT(GET("Authorization: Negotiate " NTLM1 "\r\n") S
             "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Negotiate " NTLM2
             "\r\nContent-Length: 0\r\n\r\n" GET("Authorization: Negotiate " NTLM3_OEM "\r\n")
                 DENIED),
      0, NONE " | NTLM CORP\\alice - failure ch=0123456789abcdef resp=" NT_RESP },
    { "NTLM to a proxy; UTF-16 with a surrogate pair; challenge missed",
      SCRIPT(C "GET http://x.test/ HTTP/1.1\r\nProxy-Authorization: NTLM " NTLM3_UTF16 "\r\n\r\n" S
               "HTTP/1.1 200 OK\r\n\r\n"),
      0, NONE " | NTLM j\xc3\xbcrgen\xf0\x9f\x98\x80 - success resp=" NT_RESP },
    { "NTLM anonymous and out of bounds",
      SCRIPT(GET("Authorization: NTLM " NTLM3_ANON "\r\n")
                 OK_EMPTY GET("Authorization: NTLM " NTLM3_BAD "\r\n") OK_EMPTY),
      0, NONE " | NTLM  - success resp=00" },
    { "Basic that is not user:pass, other schemes: nothing",
      SCRIPT(GET("Authorization: Basic bm9jb2xvbg==\r\n") OK_EMPTY GET(
          "Authorization: Basic !!!\r\nAuthorization: AWS4-HMAC-SHA256 Credential=x\r\n"
          "Authorization: Negotiate YIIBhwYGKwYBBQUCoIIBezCCAXeg\r\nAuthorization: Basic\r\n")
                 OK_EMPTY),
      0, NONE },
    { "an answer without a length runs to the close",
      SCRIPT(GET("Authorization: Basic " B64_ALICE "\r\n") S
             "HTTP/1.0 200 OK\r\n\r\n" TRAP C "GET /again HTTP/1.1\r\nAuthorization: Basic " B64_BOB
             "\r\n\r\n" S TRAP),
      0, NONE " | BASIC alice Secr3t-alice success | BASIC bob hunter2 with spaces unknown" },
    { "CONNECT after a request: a tunnel, nothing more read",
      SCRIPT(GET("") OK_EMPTY C "CONNECT x.test:443 HTTP/1.1\r\nProxy-Authorization: Basic " B64_BOB
                                "\r\n\r\n" S "HTTP/1.1 200 Established\r\n\r\n" C TRAP S TRAP),
      0, NONE " | BASIC bob hunter2 with spaces success" },
    { "101 Switching Protocols: a tunnel",
      SCRIPT(GET("Upgrade: websocket\r\nConnection: Upgrade\r\n") S
             "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n" C TRAP),
      0, NONE },
    { "a request with a coding other than chunked: the client is not read further",
      SCRIPT(C "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n" TRAP S
               "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
      0, NONE },
    { "two different Content-Lengths: not read further",
      SCRIPT(C "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n" TRAP), 0, NONE },
    { "equal Content-Lengths as a list are one",
      SCRIPT(C "POST / HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\nabc" GET(
          "Authorization: Basic " B64_ALICE "\r\n") S "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
                                                      "\r\nHTTP/1.1 200 OK\r\n\r\n"),
      0, NONE " | BASIC alice Secr3t-alice success" },
    { "empty lines before a request line",
      SCRIPT(C "\r\n\r\nGET / HTTP/1.1\r\nAuthorization: Basic " B64_ALICE "\r\n\r\n" OK_EMPTY), 0,
      NONE " | BASIC alice Secr3t-alice success" },
    { "not HTTP: the first line is no request", SCRIPT(C "EHLO client.example.test\r\n"), 0,
      "PARSE_ERROR" },
    { "not HTTP: the first answer is no status line", SCRIPT(GET("") S "SSH-2.0-OpenSSH_9.2\r\n"),
      0, "PARSE_ERROR" },
    { "a broken request line later: resync at the next",
      SCRIPT(GET("") OK_EMPTY C
             "garbage\r\nmore garbage\r\n" GET("Authorization: Basic " B64_ALICE "\r\n") OK_EMPTY),
      0, NONE " | BASIC alice Secr3t-alice success" },
    { "a gap inside a body is absorbed by its count",
      SCRIPT(C "POST / HTTP/1.1\r\nContent-Length: 20\r\n\r\nab" G C C
               "cdefghij" GET("Authorization: Basic " B64_ALICE "\r\n") OK_EMPTY OK_EMPTY),
      0, NONE " | BASIC alice Secr3t-alice success" },
    { "a gap in a head: answers pair no more",
      SCRIPT(GET("") G S S "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" GET(
          "Authorization: Basic " B64_ALICE "\r\n") OK_EMPTY),
      0, NONE " | BASIC alice Secr3t-alice unknown" },
    { "begun mid-session: inside a body, then a request",
      SCRIPT(C "dy text\r\nmore\x01\x02\r\n" GET("Authorization: Basic " B64_ALICE "\r\n") S
             "tail of a body\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
      PARSE_F_MIDSTREAM, NONE " | BASIC alice Secr3t-alice success" },
    { "CONNECT first: the wrapper's, to a mail port",
      SCRIPT(C "CONNECT mail.example.test:110 HTTP/1.1\r\nProxy-Authorization: Basic " B64_BOB
               "\r\n\r\n" S "HTTP/1.1 200 Connection established\r\n\r\n+OK ready\r\n" C
               "USER alice\r\n" S "+OK\r\n" C "PASS s3cret\r\n" S "+OK logged in\r\n"),
      0,
      "tls=none starttls=null inj=0 | HTTP-PROXY-BASIC bob hunter2 with spaces success | "
      "USER/PASS alice s3cret success" },
};

/* Feeds tc's chunks, chunk cut (SIZE_MAX: none) in two at off, and writes the description. */
static void run_cut(const struct script_case *tc, size_t cut, size_t off, char *out, size_t cap)
{
    struct script_chunk ch[SCRIPT_MAX_CHUNKS];
    size_t n = script_split(tc->script, tc->script_len, ch, SCRIPT_MAX_CHUNKS);
    struct script_fx f;
    script_fx_open(&f, &http_parser_ops, tc->flags);
    bool is_dead = false;
    for (size_t i = 0; i < n && !is_dead; i++) {
        if (ch[i].is_gap) {
            f.ops->gap(f.p, ch[i].dir, SCRIPT_GAP_LEN);
            continue;
        }
        size_t at = i == cut ? off : ch[i].len;
        is_dead = script_fx_feed(&f, ch[i].dir, ch[i].p, at) == PARSE_ERROR;
        if (!is_dead && at < ch[i].len) {
            is_dead = script_fx_feed(&f, ch[i].dir, ch[i].p + at, ch[i].len - at) == PARSE_ERROR;
        }
    }
    f.ops->end(f.p);
    script_describe(f.s, NULL, out, cap);
    if (is_dead) {
        snprintf(out, cap, "PARSE_ERROR");
    }
    script_fx_free(&f);
}

/* Every chunk of every case cut in two at every offset: the same record. */
static void cut_everywhere(void)
{
    char got[SCRIPT_DESC_LEN];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct script_case *tc = &cases[i];
        struct script_chunk ch[SCRIPT_MAX_CHUNKS];
        size_t n = script_split(tc->script, tc->script_len, ch, SCRIPT_MAX_CHUNKS);
        for (size_t c = 0; c < n; c++) {
            for (size_t off = 1; off < ch[c].len; off++) {
                run_cut(tc, c, off, got, sizeof got);
                if (strcmp(got, tc->want) != 0) {
                    fprintf(stderr, "  %s: chunk %zu cut at %zu: %s\n", tc->name, c, off, got);
                    CHECK(strcmp(got, tc->want) == 0);
                    break;
                }
            }
        }
    }
}

/* A field at HTTP_MAX_AUTH_FIELD is read; one byte past it is dropped and counted. */
static void auth_field_limit(void)
{
    for (size_t extra = 0; extra < 2; extra++) {
        struct script_fx f;
        script_fx_open(&f, &http_parser_ops, 0);
        const char *head = "GET / HTTP/1.1\r\nAuthorization: Bearer ";
        /* Cut in two lines by an obs-fold, whose line break is read as a space and whose next
         * line starts with one: the limit holds the joined value, "Bearer " and both. */
        size_t token = HTTP_MAX_AUTH_FIELD - strlen("Bearer ") - 2 + extra;
        script_fx_feed(&f, PARSE_DIR_CLIENT, head, strlen(head));
        char *t = malloc(token);
        memset(t, 'x', token);
        script_fx_feed(&f, PARSE_DIR_CLIENT, t, token / 2);
        script_fx_feed(&f, PARSE_DIR_CLIENT, "\r\n ", 3);
        script_fx_feed(&f, PARSE_DIR_CLIENT, t, token - token / 2);
        script_fx_feed(&f, PARSE_DIR_CLIENT, "\r\n\r\n", 4);
        free(t);
        CHECK_EQ_U(f.s->n_creds, extra == 0 ? 1 : 0);
        CHECK_EQ_U(f.st.http_field_overlong, extra);
        if (f.s->n_creds == 1) {
            CHECK_EQ_U(f.s->creds[0]->secret_len, FINDING_MAX_SECRET);
            CHECK(f.s->creds[0]->is_truncated);
        }
        script_fx_free(&f);
    }
}

/* A first line past LINE_MAX_LEN (a TLS handshake on port 80 has no LF) is not HTTP. */
static void no_start_line(void)
{
    struct script_fx f;
    script_fx_open(&f, &http_parser_ops, 0);
    char *b = malloc(LINE_MAX_LEN + 2);
    memset(b, 0x16, LINE_MAX_LEN + 1);
    b[LINE_MAX_LEN + 1] = '\n';
    CHECK_EQ_U(script_fx_feed(&f, PARSE_DIR_CLIENT, b, LINE_MAX_LEN + 1), PARSE_NEED_MORE);
    CHECK_EQ_U(script_fx_feed(&f, PARSE_DIR_CLIENT, b + LINE_MAX_LEN + 1, 1), PARSE_ERROR);
    free(b);
    script_fx_free(&f);
}

/* The counters: bad credentials, resynchronisation, unframed bodies, tunnels. */
static void counters(void)
{
    struct script_fx f;
    script_fx_open(&f, &http_parser_ops, 0);
    const char *c = "GET / HTTP/1.1\r\nAuthorization: Basic bm9jb2xvbg==\r\n\r\n"
                    "junk\r\nGET / HTTP/1.1\r\nAuthorization: Digest realm=x\r\n\r\n"
                    "POST / HTTP/1.1\r\nTransfer-Encoding: br\r\n\r\n";
    CHECK(script_fx_feed(&f, PARSE_DIR_CLIENT, c, strlen(c)) == PARSE_OK);
    CHECK_EQ_U(f.st.http_bad_auth, 2);
    CHECK_EQ_U(f.st.http_resync, 1);
    CHECK_EQ_U(f.st.http_unframed, 1);
    const char *s = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
                    "HTTP/1.1 101 Switching\r\n\r\n";
    CHECK(script_fx_feed(&f, PARSE_DIR_SERVER, s, strlen(s)) == PARSE_OK);
    CHECK_EQ_U(f.st.http_tunnels, 1);
    CHECK(f.s->is_parse_done);
    script_fx_free(&f);
}

/* The record: a session without a credential is none; with one, it is; STARTTLS is n/a. */
static void record_rule(void)
{
    struct script_fx f;
    script_fx_open(&f, &http_parser_ops, 0);
    const char *c = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    script_fx_feed(&f, PARSE_DIR_CLIENT, c, strlen(c));
    CHECK(!parse_is_recorded(&http_parser_ops, f.p, f.s));
    const char *c2 = "GET / HTTP/1.1\r\nAuthorization: Bearer t\r\n\r\n";
    script_fx_feed(&f, PARSE_DIR_CLIENT, c2, strlen(c2));
    CHECK(parse_is_recorded(&http_parser_ops, f.p, f.s));
    parse_end(&http_parser_ops, f.p, f.s, 0, &f.st);
    CHECK(f.s->starttls == FINDING_STARTTLS_NA);
    CHECK(strcmp(finding_exposure(f.s), "credentials") == 0);
    script_fx_free(&f);
}

/* A CONNECT-first session goes to the wrapper: the protocol is the tunnel's, the wrapper's
 * memory is charged while it lives, and a CONNECT elsewhere with no login is no record. */
static void connect_handover(void)
{
    struct script_fx f;
    script_fx_open(&f, &http_parser_ops, 0);
    f.s->protocol = "http";
    const char *c = "CONNECT mail.example.test:25 HTTP/1.1\r\n\r\n";
    script_fx_feed(&f, PARSE_DIR_CLIENT, c, strlen(c));
    CHECK(f.s->protocol == NULL);
    CHECK(f.st.tunnel_mem > 0);
    const char *s = "HTTP/1.1 200 OK\r\n\r\n220 mail ESMTP\r\n";
    script_fx_feed(&f, PARSE_DIR_SERVER, s, strlen(s));
    CHECK(f.s->protocol != NULL && strcmp(f.s->protocol, "smtp") == 0);
    void *inner = NULL;
    CHECK(http_parser_ops.inner(f.p, &inner) != NULL && inner != NULL);
    CHECK(parse_is_recorded(&http_parser_ops, f.p, f.s));
    f.ops->free_parser(f.p);
    f.p = NULL;
    CHECK_EQ_U(f.st.tunnel_mem, 0);
    script_fx_free(&f);

    script_fx_open(&f, &http_parser_ops, 0);
    f.s->protocol = "http";
    const char *c2 = "CONNECT www.example.test:443 HTTP/1.1\r\n\r\n";
    script_fx_feed(&f, PARSE_DIR_CLIENT, c2, strlen(c2));
    CHECK(script_fx_feed(&f, PARSE_DIR_SERVER, "HTTP/1.1 200 OK\r\n\r\n", 19) == PARSE_ERROR);
    CHECK(f.s->protocol == NULL && f.s->n_creds == 0);
    script_fx_free(&f);
}

/* Classification by the client's first bytes: the methods, cut short, CONNECT not ours. */
static void opens(void)
{
    CHECK(http_opens((const uint8_t *)"GET /", 5) == LINE_PREFIX_YES);
    CHECK(http_opens((const uint8_t *)"PROPFIND ", 9) == LINE_PREFIX_YES);
    CHECK(http_opens((const uint8_t *)"PO", 2) == LINE_PREFIX_SHORT);
    CHECK(http_opens((const uint8_t *)"", 0) == LINE_PREFIX_SHORT);
    CHECK(http_opens((const uint8_t *)"get /", 5) == LINE_PREFIX_NO);
    CHECK(http_opens((const uint8_t *)"CONNECT ", 8) == LINE_PREFIX_NO);
    CHECK(http_opens((const uint8_t *)"\x16\x03\x01", 3) == LINE_PREFIX_NO);
    const struct registry_proto *r = NULL;
    CHECK(registry_client_opens((const uint8_t *)"CONNECT ", 8, &r) == REGISTRY_YES);
    CHECK(r != NULL && strcmp(r->name, "http-connect") == 0);
    CHECK(registry_client_opens((const uint8_t *)"POST /x", 7, &r) == REGISTRY_YES);
    CHECK(r != NULL && strcmp(r->name, "http") == 0);
    bool is_tls = true;
    r = registry_by_port(8080, &is_tls);
    CHECK(r != NULL && strcmp(r->name, "http") == 0 && !is_tls);
}

int main(void)
{
    script_run_table(&http_parser_ops, cases, sizeof cases / sizeof cases[0], NULL);
    RUN(cut_everywhere);
    RUN(auth_field_limit);
    RUN(no_start_line);
    RUN(counters);
    RUN(record_rule);
    RUN(connect_handover);
    RUN(opens);
    return TEST_SUMMARY();
}
