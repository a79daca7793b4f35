/* test_pop3.c - the POP3 parser, table-driven: each script fed whole, byte by byte, and with
 * every chunk split at every offset; all three must give the same record. */
#include "pop3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "test.h"

#define C           "\xfe" /* a client chunk follows */
#define S           "\xfd" /* a server chunk follows */
#define G           "\xfc" /* a gap in the direction named next: G C or G S */
#define MARK_C      0xfeu
#define MARK_S      0xfdu
#define MARK_GAP    0xfcu
#define SCRIPT(lit) lit, sizeof(lit) - 1

struct pop3_case {
    const char *name;
    const char *script; /* C/S/G markers before each chunk; may hold NUL bytes */
    size_t script_len;
    unsigned flags;
    const char *want;
};

static const struct pop3_case cases[] = {
    { "user-pass success",
      SCRIPT(S "+OK POP3 ready\r\n" C "USER alice\r\n" S "+OK\r\n" C "PASS s3cret\r\n" S
               "+OK logged in\r\n" C "QUIT\r\n" S "+OK bye\r\n"),
      0, "tls=none starttls=null inj=0 | USER/PASS alice s3cret success" },
    { "lower-case commands, password with spaces",
      SCRIPT(S "+OK\r\n" C "user bob\r\n" S "+OK\r\n" C "pass  two  words \r\n" S "-ERR no\r\n"), 0,
      "tls=none starttls=null inj=0 | USER/PASS bob  two  words  failure" },
    { "fail then success",
      SCRIPT(S "+OK\r\n" C "USER a\r\n" S "+OK\r\n" C "PASS x\r\n" S "-ERR bad\r\n" C "USER a\r\n" S
               "+OK\r\n" C "PASS y\r\n" S "+OK\r\n"),
      0, "tls=none starttls=null inj=0 | USER/PASS a x failure | USER/PASS a y success" },
    { "pass without answer", SCRIPT(S "+OK\r\n" C "USER a\r\n" S "+OK\r\n" C "PASS x\r\n"), 0,
      "tls=none starttls=null inj=0 | USER/PASS a x unknown" },
    { "pipelined user pass",
      SCRIPT(S "+OK\r\n" C "USER a\r\nPASS x\r\nSTAT\r\n" S "+OK\r\n+OK\r\n+OK 1 2\r\n"), 0,
      "tls=none starttls=null inj=0 | USER/PASS a x success" },
    { "apop",
      SCRIPT(S "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n" C
               "APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n" S
               "+OK maildrop has 1 message\r\n"),
      0,
      "tls=none starttls=null inj=0 | APOP mrose - success "
      "ch=<1896.697170952@dbc.mtview.ca.us> resp=c4c9334bac560ecc979e58001b3e22fb" },
    { "capa with stls, not used",
      SCRIPT(S "+OK\r\n" C "CAPA\r\n" S "+OK\r\nTOP\r\nSTLS\r\nSASL PLAIN\r\n.\r\n" C "USER u\r\n" S
               "+OK\r\n" C "PASS p\r\n" S "+OK\r\n"),
      0, "tls=none starttls=offered-not-used inj=0 | USER/PASS u p success" },
    { "capa without stls",
      SCRIPT(S "+OK\r\n" C "CAPA\r\n" S "+OK\r\nTOP\r\nUSER\r\n.\r\n" C "QUIT\r\n" S "+OK\r\n"), 0,
      "tls=none starttls=not-offered inj=0" },
    { "stls used, tls 1.3",
      SCRIPT(S "+OK\r\n" C "CAPA\r\n" S "+OK\r\nSTLS\r\n.\r\n" C "STLS\r\n" S "+OK Begin TLS\r\n" C
               "\x16\x03\x01\x00\x05hello" S "\x16\x03\x03\x00\x32\x02\x00\x00\x2e\x03\x03"
               "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\x00\x13\x01\x00\x00\x06\x00\x2b\x00\x02\x03\x04"),
      0, "tls=starttls starttls=used inj=0 v=0304" },
    { "stls refused",
      SCRIPT(S "+OK\r\n" C "STLS\r\n" S "-ERR not now\r\n" C "USER u\r\n" S "+OK\r\n" C
               "PASS p\r\n" S "+OK\r\n"),
      0, "tls=none starttls=refused inj=0 | USER/PASS u p success" },
    { "command injection after stls",
      SCRIPT(S "+OK\r\n" C "STLS\r\nUSER evil\r\nPASS evil\r\n" S "+OK\r\n"), 0,
      "tls=starttls starttls=used inj=2" },
    { "retr body is content",
      SCRIPT(S "+OK\r\n" C "RETR 1\r\n" S
               "+OK 120 octets\r\nUSER evil\r\nPASS notasecret\r\n+OK fake\r\n..dot\r\n.\r\n" C
               "USER real\r\n" S "+OK\r\n" C "PASS real\r\n" S "-ERR\r\n"),
      0, "tls=none starttls=null inj=0 | USER/PASS real real failure" },
    { "list multi-line, list with arg single-line",
      SCRIPT(S "+OK\r\n" C "LIST\r\n" S "+OK 2 messages\r\n1 120\r\n2 200\r\n.\r\n" C "LIST 1\r\n" S
               "+OK 1 120\r\n" C "USER u\r\n" S "+OK\r\n" C "PASS p\r\n" S "+OK\r\n"),
      0, "tls=none starttls=null inj=0 | USER/PASS u p success" },
    { "auth plain initial response",
      SCRIPT(S "+OK\r\n" C "AUTH PLAIN AGFsaWNlAHMzY3JldA==\r\n" S "+OK\r\n"), 0,
      "tls=none starttls=null inj=0 | PLAIN alice s3cret success" },
    { "auth plain continuation, bare auth first",
      SCRIPT(S "+OK\r\n" C "AUTH\r\n" S "-ERR\r\n" C "AUTH PLAIN\r\n" S "+ \r\n" C
               "AGRpZ2l0YWxpbnZlc3RpZ2F0b3JAbmV0d29ya3NpbXMuY29tAG5hcGllcg==\r\n" S
               "-ERR authentication failed\r\n"),
      0,
      "tls=none starttls=null inj=0 | PLAIN digitalinvestigator@networksims.com napier failure" },
    { "bare auth lists mechanisms",
      SCRIPT(S "+OK\r\n" C "AUTH\r\n" S "+OK\r\nPLAIN\r\n+OK not an answer\r\n.\r\n" C
               "USER u\r\n" S "+OK\r\n" C "PASS p\r\n" S "+OK\r\n"),
      0, "tls=none starttls=null inj=0 | USER/PASS u p success" },
    { "auth login",
      SCRIPT(S "+OK\r\n" C "AUTH LOGIN\r\n" S "+ VXNlcm5hbWU6\r\n" C "YWxpY2U=\r\n" S
               "+ UGFzc3dvcmQ6\r\n" C "czNjcmV0\r\n" S "+OK\r\n"),
      0, "tls=none starttls=null inj=0 | LOGIN alice s3cret success" },
    { "auth cancelled",
      SCRIPT(S "+OK\r\n" C "AUTH LOGIN\r\n" S "+ VXNlcm5hbWU6\r\n" C "*\r\n" S
               "-ERR cancelled\r\n"),
      0, "tls=none starttls=null inj=0" },
    { "auth xoauth2",
      SCRIPT(C "CAPA\r\n" S "+OK\r\nSASL PLAIN XOAUTH2\r\n.\r\n" C
               "AUTH XOAUTH2 dXNlcj1qb2Uuc3BlZWRib2F0AWF1dGg9QmVhcmVyIEFBQUEBAQ==\r\n" S "+OK\r\n"),
      0, "tls=none starttls=not-offered inj=0 | XOAUTH2 joe.speedboat AAAA success" },
    { "gap before the answer makes it unknown",
      SCRIPT(S "+OK\r\n" C "USER a\r\n" S "+OK\r\n" C "PASS x\r\n" G S S "+OK\r\n"), 0,
      "tls=none starttls=null inj=0 | USER/PASS a x unknown" },
    { "server gap in auth login: the password line is still read",
      SCRIPT(S "+OK\r\n" C "AUTH LOGIN\r\n" S "+ VXNlcm5hbWU6\r\n" C "YWxpY2U=\r\n" G S C
               "czNjcmV0\r\nUSER b\r\n" S "lost\r\n+OK\r\n" C "PASS y\r\n" S "+OK\r\n"),
      0, "tls=none starttls=null inj=0 | LOGIN alice s3cret unknown | USER/PASS b y success" },
    { "gap in a client line resynchronises",
      SCRIPT(S "+OK\r\n" C "USER a" G C C "junk\r\nUSER b\r\n" S "+OK\r\n" C "PASS y\r\n" S
               "+OK\r\n"),
      0, "tls=none starttls=null inj=0 | USER/PASS b y success" },
    { "implicit tls",
      SCRIPT(S "\x16\x03\x03\x00\x32\x02\x00\x00\x2e\x03\x03"
               "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\x00\x13\x01\x00\x00\x06\x00\x2b\x00\x02"
               "\x03\x03"),
      PARSE_F_IMPLICIT_TLS, "tls=implicit starttls=n/a inj=0 v=0303" },
    { "tls spoken on the cleartext port",
      SCRIPT(C "\x16\x03\x01\x00\x05hello" S "\x16\x03\x03\x00\x32\x02\x00\x00\x2e\x03\x03"
               "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\x00\x13\x01\x00"
               "\x00\x06\x00\x2b\x00\x02\x03\x01"),
      0, "tls=implicit starttls=n/a inj=0 v=0301" },
};

/* Parses a script into chunks: dir 0/1 for data, 2 for a gap. */
struct chunk {
    int dir;
    bool is_gap;
    const uint8_t *p;
    size_t len;
};

static size_t split_script(const char *script, size_t script_len, struct chunk *out, size_t cap)
{
    size_t n = 0, i = 0;
    while (i < script_len && n < cap) {
        uint8_t m = (uint8_t)script[i++];
        if (m == MARK_GAP) {
            out[n].is_gap = true;
            out[n].dir = (uint8_t)script[i++] == MARK_C ? 0 : 1;
            out[n].p = NULL;
            out[n].len = 0;
            n++;
            continue;
        }
        size_t start = i;
        while (i < script_len && (uint8_t)script[i] != MARK_C && (uint8_t)script[i] != MARK_S &&
               (uint8_t)script[i] != MARK_GAP) {
            i++;
        }
        out[n].is_gap = false;
        out[n].dir = m == MARK_C ? 0 : 1;
        out[n].p = (const uint8_t *)script + start;
        out[n].len = i - start;
        n++;
    }
    return n;
}

static void describe(const struct session *s, char *out, size_t cap)
{
    const char *st = finding_starttls_name(s->starttls);
    int n = snprintf(out, cap, "tls=%s starttls=%s inj=%u", finding_tls_name(s->tls),
                     st != NULL ? st : "null", s->injected_commands);
    if (s->tls_version != 0) {
        n += snprintf(out + n, cap - (size_t)n, " v=%04x", s->tls_version);
    }
    for (size_t i = 0; i < s->n_creds; i++) {
        const struct credential *c = s->creds[i];
        n += snprintf(
            out + n, cap - (size_t)n, " | %s %.*s %.*s %s", c->mechanism, (int)c->username_len,
            (const char *)c->username, c->secret != NULL ? (int)c->secret_len : 1,
            c->secret != NULL ? (const char *)c->secret : "-", finding_result_name(c->result));
        if (c->challenge != NULL) {
            n += snprintf(out + n, cap - (size_t)n, " ch=%.*s", (int)c->challenge_len,
                          (const char *)c->challenge);
        }
        if (c->response != NULL) {
            n += snprintf(out + n, cap - (size_t)n, " resp=%.*s", (int)c->response_len,
                          (const char *)c->response);
        }
    }
}

/* Feeds the script with every chunk cut into pieces of at most piece bytes (0: whole). */
static void run_case(const struct pop3_case *tc, size_t script_len, size_t piece, char *out,
                     size_t cap)
{
    struct chunk ch[64];
    size_t n = split_script(tc->script, script_len, ch, 64);
    struct session *s = finding_new();
    struct parse_stats st;
    memset(&st, 0, sizeof st);
    void *p = pop3_parser_ops.new_parser(s, &st, tc->flags);
    bool is_dead = false;
    for (size_t i = 0; i < n && !is_dead; i++) {
        if (ch[i].is_gap) {
            pop3_parser_ops.gap(p, (enum parse_dir)ch[i].dir, 10);
            continue;
        }
        size_t off = 0;
        while (off < ch[i].len) {
            size_t k = piece == 0 ? ch[i].len - off : piece;
            if (k > ch[i].len - off) {
                k = ch[i].len - off;
            }
            size_t consumed = 0;
            enum parse_status r =
                pop3_parser_ops.feed(p, (enum parse_dir)ch[i].dir, ch[i].p + off, k, &consumed);
            if (r == PARSE_ERROR) {
                is_dead = true;
                break;
            }
            CHECK_EQ_U(consumed, k);
            off += k;
        }
    }
    pop3_parser_ops.end(p);
    describe(s, out, cap);
    if (is_dead) {
        snprintf(out, cap, "PARSE_ERROR");
    }
    pop3_parser_ops.free_parser(p);
    finding_free(s);
}

static void run_table(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct pop3_case *tc = &cases[i];
        size_t len = tc->script_len;
        char whole[2048], piece[2048];
        run_case(tc, len, 0, whole, sizeof whole);
        if (strcmp(whole, tc->want) != 0) {
            fprintf(stderr, "  got:  %s\n  want: %s\n", whole, tc->want);
            CHECK(strcmp(whole, tc->want) == 0);
        }
        for (size_t k = 1; k <= 64; k++) {
            run_case(tc, len, k, piece, sizeof piece);
            if (strcmp(whole, piece) != 0) {
                fprintf(stderr, "  split %zu: %s\n  whole:   %s\n", k, piece, whole);
                CHECK(strcmp(whole, piece) == 0);
                break;
            }
        }
        CASE_DONE(tc->name);
    }
}

static void not_pop3(void)
{
    struct session *s = finding_new();
    struct parse_stats st;
    memset(&st, 0, sizeof st);
    void *p = pop3_parser_ops.new_parser(s, &st, 0);
    size_t consumed;
    const char *http = "HTTP/1.1 200 OK\r\n";
    CHECK(pop3_parser_ops.feed(p, PARSE_DIR_SERVER, (const uint8_t *)http, strlen(http),
                               &consumed) == PARSE_ERROR);
    pop3_parser_ops.free_parser(p);
    finding_free(s);
}

static void overlong_line(void)
{
    struct session *s = finding_new();
    struct parse_stats st;
    memset(&st, 0, sizeof st);
    void *p = pop3_parser_ops.new_parser(s, &st, 0);
    size_t consumed;
    uint8_t big[LINE_MAX_LEN + 100];
    memset(big, 'A', sizeof big);
    memcpy(big, "PASS ", 5);
    pop3_parser_ops.feed(p, PARSE_DIR_SERVER, (const uint8_t *)"+OK\r\n", 5, &consumed);
    pop3_parser_ops.feed(p, PARSE_DIR_CLIENT, big, sizeof big, &consumed);
    pop3_parser_ops.feed(p, PARSE_DIR_CLIENT, (const uint8_t *)"\r\nUSER x\r\nPASS y\r\n", 18,
                         &consumed);
    pop3_parser_ops.end(p);
    CHECK_EQ_U(st.overlong_lines, 1);
    CHECK_EQ_U(s->n_creds, 1);
    pop3_parser_ops.free_parser(p);
    finding_free(s);
}

static void credential_limit(void)
{
    struct session *s = finding_new();
    struct parse_stats st;
    memset(&st, 0, sizeof st);
    void *p = pop3_parser_ops.new_parser(s, &st, 0);
    size_t consumed;
    for (int i = 0; i < FINDING_MAX_CREDS + 3; i++) {
        pop3_parser_ops.feed(p, PARSE_DIR_CLIENT, (const uint8_t *)"PASS x\r\n", 8, &consumed);
    }
    CHECK_EQ_U(s->n_creds, FINDING_MAX_CREDS);
    CHECK_EQ_U(s->creds_dropped, 3);
    pop3_parser_ops.free_parser(p);
    finding_free(s);
}

int main(void)
{
    run_table();
    RUN(not_pop3);
    RUN(overlong_line);
    RUN(credential_limit);
    return TEST_SUMMARY();
}
