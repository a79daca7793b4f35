/* test_pop3.c - the POP3 parser, table-driven (script.h): each script fed whole, byte by byte, and
 * with every chunk split at every offset; all three must give the same record. */
#include "pop3.h"

#include <string.h>

#include "finding.h"
#include "script.h"
#include "test.h"

static const struct script_case cases[] = {
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

static void not_pop3(void)
{
    struct script_fx f;
    script_fx_open(&f, &pop3_parser_ops, 0);
    CHECK(script_fx_str(&f, PARSE_DIR_SERVER, "HTTP/1.1 200 OK\r\n") == PARSE_ERROR);
    script_fx_free(&f);
}

static void overlong_line(void)
{
    struct script_fx f;
    script_fx_open(&f, &pop3_parser_ops, 0);
    uint8_t big[LINE_MAX_LEN + 100];
    memset(big, 'A', sizeof big);
    memcpy(big, "PASS ", 5);
    script_fx_str(&f, PARSE_DIR_SERVER, "+OK\r\n");
    script_fx_feed(&f, PARSE_DIR_CLIENT, big, sizeof big);
    script_fx_str(&f, PARSE_DIR_CLIENT, "\r\nUSER x\r\nPASS y\r\n");
    script_fx_end(&f);
    CHECK_EQ_U(f.st.overlong_lines, 1);
    CHECK_EQ_U(f.s->n_creds, 1);
    script_fx_free(&f);
}

static void credential_limit(void)
{
    struct script_fx f;
    script_fx_open(&f, &pop3_parser_ops, 0);
    for (int i = 0; i < FINDING_MAX_CREDS + 3; i++) {
        script_fx_str(&f, PARSE_DIR_CLIENT, "PASS x\r\n");
    }
    CHECK_EQ_U(f.s->n_creds, FINDING_MAX_CREDS);
    CHECK_EQ_U(f.s->creds_dropped, 3);
    script_fx_free(&f);
}

/* The greeting is the banner (+OK or -ERR). */
static void context(void)
{
    script_check_context(&pop3_parser_ops, SCRIPT(S "+OK Dovecot ready. <1.2@h>\r\n" C "CAPA\r\n"),
                         0, FINDING_CONTEXT_BANNER, "+OK Dovecot ready. <1.2@h>");
    script_check_context(&pop3_parser_ops, SCRIPT(S "-ERR busy\r\n"), 0, FINDING_CONTEXT_BANNER,
                         "-ERR busy");
    script_check_context(&pop3_parser_ops, SCRIPT(C "CAPA\r\n" S "+OK\r\n"), 0,
                         FINDING_CONTEXT_BANNER, NULL);
}

int main(void)
{
    script_run_table(&pop3_parser_ops, cases, sizeof cases / sizeof cases[0], NULL);
    RUN(not_pop3);
    RUN(overlong_line);
    RUN(credential_limit);
    RUN(context);
    return TEST_SUMMARY();
}
