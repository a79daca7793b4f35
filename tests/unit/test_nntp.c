/* test_nntp.c - the NNTP parser, table-driven (script.h): each script fed whole and with every
 * chunk cut into pieces of 1 to 64 bytes; all must give the same record. Then the limits and
 * counters on a parser fed by hand: lines at LINE_MAX_LEN and one past, pending commands,
 * credentials, the TLS verdict ending the parse. */
#include "nntp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "script.h"
#include "test.h"

/* A TLS 1.2 ServerHello record (RFC 5246 section 7.4.1.3): legacy_version 0x0303. */
#define HELLO_TLS12                                                                                \
    "\x16\x03\x03\x00\x2c\x02\x00\x00\x28\x03\x03"                                                 \
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"                                                             \
    "\x00\xc0\x2f\x00\x00\x00"
/* A TLS 1.3 ServerHello (RFC 8446 section 4.1.3): supported_versions 0x0304. */
#define HELLO_TLS13                                                                                \
    "\x16\x03\x03\x00\x32\x02\x00\x00\x2e\x03\x03"                                                 \
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"                                                             \
    "\x00\x13\x01\x00\x00\x06\x00\x2b\x00\x02\x03\x04"
#define CLIENT_HELLO "\x16\x03\x01\x00\x05hello"
/* A ClientHello whose server_name (RFC 6066 section 3) is "news.example". */
#define CLIENT_HELLO_SNI                                                                           \
    "\x16\x03\x01\x00\x44\x01\x00\x00\x40\x03\x03"                                                 \
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"                                                             \
    "\x00\x00\x02\x13\x01\x01\x00\x00\x15\x00\x00\x00\x11\x00\x0f\x00\x00\x0cnews.example"

#define GREET S "200 news.example.test InterNetNews NNRP server INN 2.7.1 ready (posting ok)\r\n"
#define CAPA_TLS                                                                                   \
    C "CAPABILITIES\r\n" S "101 Capability list:\r\nVERSION 2\r\nIMPLEMENTATION INN 2.7.1\r\n"     \
      "AUTHINFO USER\r\nLIST ACTIVE NEWSGROUPS\r\nREADER\r\nSASL PLAIN\r\nSTARTTLS\r\n.\r\n"
#define CAPA_PLAIN                                                                                 \
    C "CAPABILITIES\r\n" S "101 Capability list:\r\nVERSION 2\r\nAUTHINFO USER\r\nREADER\r\n.\r\n"
#define LOGIN_OK                                                                                   \
    C "AUTHINFO USER alice\r\n" S "381 Enter password\r\n" C "AUTHINFO PASS s3cret\r\n" S          \
      "281 Authentication succeeded\r\n"
/* An article whose text holds commands and responses. */
#define TRAP_ARTICLE                                                                               \
    "From: a@example.test\r\nNewsgroups: local.test\r\nSubject: trap\r\n\r\n"                      \
    "AUTHINFO USER evil\r\nAUTHINFO PASS notasecret\r\n281 fake\r\nSTARTTLS\r\n..\r\n.\r\n"

static const struct script_case cases[] = {
    /* RFC 4643 section 2.3.3's examples. */
    { "rfc 4643 user and pass",
      SCRIPT(GREET C "AUTHINFO USER wilma\r\n" S "381 Password required\r\n" C
                     "AUTHINFO PASS flintstone\r\n" S "281 Authentication accepted\r\n"),
      0, "tls=none starttls=null inj=0 | AUTHINFO wilma flintstone success" },
    { "rfc 4643 failure 481",
      SCRIPT(GREET C "AUTHINFO USER fred\r\n" S "381 Password required\r\n" C
                     "AUTHINFO PASS flintstone\r\n" S "481 Authentication failed\r\n"),
      0, "tls=none starttls=null inj=0 | AUTHINFO fred flintstone failure" },
    { "pass out of sequence 482",
      SCRIPT(GREET C "AUTHINFO PASS x\r\n" S
                     "482 Authentication commands issued out of sequence\r\n"),
      0, "tls=none starttls=null inj=0 | AUTHINFO  x failure" },
    { "user alone accepted: no credential",
      SCRIPT(GREET C "AUTHINFO USER alice\r\n" S "281 ok\r\n"), 0, "tls=none starttls=null inj=0" },
    { "lower case, password with spaces (nntplib)",
      SCRIPT(GREET C "authinfo user bob\r\n" S "381 more\r\n" C "authinfo pass two words \r\n" S
                     "281 ok\r\n"),
      0, "tls=none starttls=null inj=0 | AUTHINFO bob two words  success" },
    { "pass without response",
      SCRIPT(GREET C "AUTHINFO USER a\r\n" S "381 ok\r\n" C "AUTHINFO PASS x\r\n"), 0,
      "tls=none starttls=null inj=0 | AUTHINFO a x unknown" },
    { "pipelined",
      SCRIPT(GREET C "MODE READER\r\nAUTHINFO USER a\r\nAUTHINFO PASS x\r\nDATE\r\n" S
                     "200 ok\r\n381 ok\r\n281 ok\r\n111 20240101000000\r\n"),
      0, "tls=none starttls=null inj=0 | AUTHINFO a x success" },
    { "authinfo simple is not read",
      SCRIPT(GREET C "AUTHINFO SIMPLE\r\n" S "350 go\r\n" C "a b\r\n" S "250 ok\r\n"), 0,
      "tls=none starttls=null inj=0" },
    /* RFC 4643 section 2.4: AUTHINFO SASL. */
    { "sasl plain with initial response",
      SCRIPT(GREET C "AUTHINFO SASL PLAIN AHRlc3QAMTIzNA==\r\n" S
                     "281 Authentication accepted\r\n"),
      0, "tls=none starttls=null inj=0 | PLAIN test 1234 success" },
    { "sasl plain after an empty challenge",
      SCRIPT(GREET C "AUTHINFO SASL PLAIN\r\n" S "383 =\r\n" C "AHRlc3QAMTIzNA==\r\n" S
                     "481 no\r\n"),
      0, "tls=none starttls=null inj=0 | PLAIN test 1234 failure" },
    { "sasl success with data 283",
      SCRIPT(GREET C "AUTHINFO SASL PLAIN AHRlc3QAMTIzNA==\r\n" S "283 dj1zb21l\r\n"), 0,
      "tls=none starttls=null inj=0 | PLAIN test 1234 success" },
    { "sasl cram-md5",
      SCRIPT(GREET C "AUTHINFO SASL CRAM-MD5\r\n" S
                     "383 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n" C
                     "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\n" S "281 ok\r\n"),
      0,
      "tls=none starttls=null inj=0 | CRAM-MD5 tim - success "
      "ch=<1896.697170952@postoffice.reston.mci.net> resp=b913a602c7eda7a495b4e6e7334d3890" },
    { "sasl cancelled",
      SCRIPT(GREET C "AUTHINFO SASL PLAIN\r\n" S "383 =\r\n" C "*\r\n" S
                     "481 cancelled\r\n" LOGIN_OK),
      0, "tls=none starttls=null inj=0 | AUTHINFO alice s3cret success" },
    /* Multi-line blocks are content. */
    { "article text is not a response",
      SCRIPT(GREET LOGIN_OK C "ARTICLE 1\r\n" S "220 1 <a@b> article\r\n" TRAP_ARTICLE C
                              "AUTHINFO USER b\r\n" S "381 ok\r\n" C "AUTHINFO PASS y\r\n" S
                              "481 no\r\n"),
      0, "tls=none starttls=null inj=0 | AUTHINFO alice s3cret success | AUTHINFO b y failure" },
    { "body, head, over and listgroup blocks",
      SCRIPT(GREET C "BODY 1\r\nHEAD 1\r\nOVER 1-2\r\nLISTGROUP g\r\nGROUP g\r\n"
                     "AUTHINFO USER a\r\nAUTHINFO PASS x\r\n" S
                     "222 1 <a@b>\r\n281 x\r\n.\r\n221 1 <a@b>\r\nX: 481\r\n.\r\n"
                     "224 ok\r\n1\t481\r\n.\r\n211 2 1 2 g\r\n1\r\n2\r\n.\r\n211 2 1 2 g\r\n"
                     "381 ok\r\n481 no\r\n"),
      0, "tls=none starttls=null inj=0 | AUTHINFO a x failure" },
    { "help and list blocks",
      SCRIPT(GREET C "HELP\r\nLIST\r\nAUTHINFO USER a\r\nAUTHINFO PASS x\r\n" S
                     "100 help\r\n  AUTHINFO USER name\r\n281 x\r\n.\r\n215 list\r\n"
                     "local.test 2 1 y\r\n.\r\n381 ok\r\n281 yes\r\n"),
      0, "tls=none starttls=null inj=0 | AUTHINFO a x success" },
    /* The client's articles are content. */
    { "post: authinfo in the article never counts",
      SCRIPT(GREET C "POST\r\n" S "340 Ok, recommended Message-ID <x@y>\r\n" C TRAP_ARTICLE S
                     "240 Article received OK\r\n" LOGIN_OK),
      0, "tls=none starttls=null inj=0 | AUTHINFO alice s3cret success" },
    { "post refused, then a login",
      SCRIPT(GREET C "POST\r\n" S "440 Posting not permitted\r\n" LOGIN_OK), 0,
      "tls=none starttls=null inj=0 | AUTHINFO alice s3cret success" },
    { "ihave, article sent before its 335",
      SCRIPT(GREET C "IHAVE <x@y>\r\n" TRAP_ARTICLE S "335 send it\r\n437 rejected\r\n" LOGIN_OK),
      0, "tls=none starttls=null inj=0 | AUTHINFO alice s3cret success" },
    { "takethis streams its article at once",
      SCRIPT(GREET C "MODE STREAM\r\nTAKETHIS <x@y>\r\n" TRAP_ARTICLE "CHECK <z@y>\r\n" S
                     "203 Streaming permitted\r\n239 <x@y>\r\n238 <z@y>\r\n" LOGIN_OK),
      0, "tls=none starttls=null inj=0 | AUTHINFO alice s3cret success" },
    /* RFC 4642: STARTTLS. */
    { "starttls used, tls 1.3",
      SCRIPT(GREET CAPA_TLS C "STARTTLS\r\n" S
                              "382 Continue with TLS negotiation\r\n" C CLIENT_HELLO S HELLO_TLS13),
      0, "tls=starttls starttls=used inj=0 v=0304" },
    { "starttls refused 580",
      SCRIPT(GREET CAPA_TLS C "STARTTLS\r\n" S "580 Can not initiate TLS negotiation\r\n" LOGIN_OK),
      0, "tls=none starttls=refused inj=0 | AUTHINFO alice s3cret success" },
    { "starttls offered, not used", SCRIPT(GREET CAPA_TLS LOGIN_OK), 0,
      "tls=none starttls=offered-not-used inj=0 | AUTHINFO alice s3cret success" },
    { "capabilities without starttls", SCRIPT(GREET CAPA_PLAIN LOGIN_OK), 0,
      "tls=none starttls=not-offered inj=0 | AUTHINFO alice s3cret success" },
    { "commands pipelined after starttls",
      SCRIPT(GREET C "STARTTLS\r\nAUTHINFO USER evil\r\nAUTHINFO PASS evil\r\n" S "382 go\r\n"), 0,
      "tls=starttls starttls=used inj=2" },
    { "text after 382 is not read",
      SCRIPT(GREET C "STARTTLS\r\n" S "382 go\r\n381 x\r\n281 fake\r\n" C CLIENT_HELLO), 0,
      "tls=starttls starttls=used inj=0" },
    { "tls client hello on port 119", SCRIPT(C CLIENT_HELLO S HELLO_TLS12), 0,
      "tls=implicit starttls=n/a inj=0 v=0303" },
    { "implicit nntps (563)", SCRIPT(C CLIENT_HELLO S HELLO_TLS13), PARSE_F_IMPLICIT_TLS,
      "tls=implicit starttls=n/a inj=0 v=0304" },
    /* RFC 8054: after 206 nothing is readable. */
    { "compress deflate",
      SCRIPT(GREET C "COMPRESS DEFLATE\r\n" S "206 Compression active\r\n\x78\x9c" C
                     "\x78\x9c AUTHINFO PASS x\r\n"),
      0, "tls=none starttls=null inj=0" },
    /* Gaps. */
    { "server gap before the response makes it unknown",
      SCRIPT(GREET C "AUTHINFO USER a\r\n" S "381 ok\r\n" C "AUTHINFO PASS x\r\n" G S S
                     "281 ok\r\n"),
      0, "tls=none starttls=null inj=0 | AUTHINFO a x unknown" },
    { "server gap inside an article block",
      SCRIPT(GREET C "ARTICLE 1\r\n" S "220 1 <a@b>\r\nSubject: x\r\n" G S S "281 text\r\n.\r\n" C
                     "AUTHINFO USER b\r\n" S "381 ok\r\n" C "AUTHINFO PASS y\r\n" S "481 no\r\n"),
      0, "tls=none starttls=null inj=0 | AUTHINFO b y failure" },
    { "client gap inside a posted article: its answer ends it",
      SCRIPT(GREET C "POST\r\n" S "340 ok\r\n" C "Subject: x\r\n" G C C "AUTHINFO PASS z\r\n" S
                     "240 ok\r\n" LOGIN_OK),
      0, "tls=none starttls=null inj=0 | AUTHINFO alice s3cret success" },
    { "mid-session: a block's text first",
      SCRIPT(S "Subject: x\r\n.\r\n" C "AUTHINFO USER b\r\n" S "381 ok\r\n" C
               "AUTHINFO PASS y\r\n" S "281 ok\r\n"),
      PARSE_F_MIDSTREAM, "tls=none starttls=null inj=0 | AUTHINFO b y success" },
    /* Not NNTP. */
    { "ssh on port 119", SCRIPT(S "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"), 0, "PARSE_ERROR" },
    { "a code with no separator", SCRIPT(S "2001 x\r\n"), 0, "PARSE_ERROR" },
    { "a stray line later is ignored", SCRIPT(GREET S "hello\r\n" LOGIN_OK), 0,
      "tls=none starttls=null inj=0 | AUTHINFO alice s3cret success" },
};

static void describe_cred(const struct credential *c, char *out, size_t cap)
{
    if (c->is_truncated) {
        script_appendf(out, cap, " truncated");
    }
}

/* ---- limits and counters, on a parser fed by hand ---- */

/* An AUTHINFO PASS line of exactly len bytes: read at LINE_MAX_LEN, dropped one past. */
static void pass_line_sized(size_t len, bool want_cred)
{
    struct script_fx f;
    script_fx_open(&f, &nntp_parser_ops, 0);
    uint8_t *big = malloc(len);
    CHECK(big != NULL);
    if (big == NULL) {
        script_fx_free(&f);
        return;
    }
    memset(big, 'p', len);
    memcpy(big, "AUTHINFO PASS ", 14);
    script_fx_str(&f, PARSE_DIR_SERVER, "200 ready\r\n");
    script_fx_feed(&f, PARSE_DIR_CLIENT, big, len);
    script_fx_str(&f, PARSE_DIR_CLIENT, "\r\nAUTHINFO PASS y\r\n");
    script_fx_str(&f, PARSE_DIR_SERVER, "481 no\r\n281 ok\r\n");
    script_fx_end(&f);
    CHECK_EQ_U(f.st.overlong_lines, want_cred ? 0 : 1);
    CHECK_EQ_U(f.s->n_creds, want_cred ? 2 : 1);
    if (f.s->n_creds == 2) {
        CHECK(f.s->creds[0]->is_truncated);
        CHECK_EQ_U(f.s->creds[0]->result, FINDING_RESULT_FAILURE);
        CHECK_EQ_U(f.s->creds[1]->result, FINDING_RESULT_SUCCESS);
    } else if (f.s->n_creds == 1) {
        CHECK_MEM(f.s->creds[0]->secret, f.s->creds[0]->secret_len, "y");
        CHECK_EQ_U(f.s->creds[0]->result, FINDING_RESULT_SUCCESS);
    }
    free(big);
    script_fx_free(&f);
}

static void line_at_limit(void)
{
    pass_line_sized(LINE_MAX_LEN, true);
}

static void line_past_limit(void)
{
    pass_line_sized(LINE_MAX_LEN + 1, false);
}

/* An overlong line in an article block is dropped; the block still ends at its ".". */
static void overlong_article_line(void)
{
    struct script_fx f;
    script_fx_open(&f, &nntp_parser_ops, 0);
    uint8_t big[LINE_MAX_LEN + 100];
    memset(big, 'A', sizeof big);
    script_fx_str(&f, PARSE_DIR_SERVER, "200 ready\r\n");
    script_fx_str(&f, PARSE_DIR_CLIENT, "BODY 1\r\nAUTHINFO USER u\r\nAUTHINFO PASS p\r\n");
    script_fx_str(&f, PARSE_DIR_SERVER, "222 1 <a@b>\r\n");
    script_fx_feed(&f, PARSE_DIR_SERVER, big, sizeof big);
    script_fx_str(&f, PARSE_DIR_SERVER, "\r\n281 x\r\n.\r\n381 ok\r\n281 ok\r\n");
    CHECK_EQ_U(f.st.overlong_lines, 1);
    CHECK_EQ_U(f.s->n_creds, 1);
    if (f.s->n_creds == 1) {
        CHECK_EQ_U(f.s->creds[0]->result, FINDING_RESULT_SUCCESS);
    }
    script_fx_close(&f);
}

static void pending_limit(void)
{
    struct script_fx f;
    script_fx_open(&f, &nntp_parser_ops, 0);
    script_fx_str(&f, PARSE_DIR_SERVER, "200 ready\r\n");
    for (int i = 0; i < PARSE_MAX_PENDING; i++) {
        script_fx_str(&f, PARSE_DIR_CLIENT, "DATE\r\n");
    }
    CHECK_EQ_U(f.st.pending_overflow, 0);
    script_fx_str(&f, PARSE_DIR_CLIENT, "DATE\r\n");
    CHECK_EQ_U(f.st.pending_overflow, 1);
    for (int i = 0; i < PARSE_MAX_PENDING; i++) {
        script_fx_str(&f, PARSE_DIR_SERVER, "111 20240101000000\r\n");
    }
    script_fx_str(&f, PARSE_DIR_CLIENT, "AUTHINFO PASS p\r\n");
    script_fx_str(&f, PARSE_DIR_SERVER, "481 no\r\n");
    CHECK_EQ_U(f.s->n_creds, 1);
    if (f.s->n_creds == 1) {
        CHECK_EQ_U(f.s->creds[0]->result, FINDING_RESULT_FAILURE);
    }
    script_fx_close(&f);
}

static void credential_limit(void)
{
    struct script_fx f;
    script_fx_open(&f, &nntp_parser_ops, 0);
    script_fx_str(&f, PARSE_DIR_SERVER, "200 ready\r\n");
    for (int i = 0; i < FINDING_MAX_CREDS + 3; i++) {
        script_fx_str(&f, PARSE_DIR_CLIENT, "AUTHINFO USER u\r\nAUTHINFO PASS x\r\n");
        script_fx_str(&f, PARSE_DIR_SERVER, "381 ok\r\n481 no\r\n");
    }
    CHECK_EQ_U(f.s->n_creds, FINDING_MAX_CREDS);
    CHECK_EQ_U(f.s->creds_dropped, 3);
    CHECK_EQ_U(f.st.creds_dropped, 3);
    script_fx_close(&f);
}

static void counters(void)
{
    struct script_fx f;
    script_fx_open(&f, &nntp_parser_ops, 0);
    script_fx_str(&f, PARSE_DIR_SERVER, "200 ready\r\n");
    script_fx_str(&f, PARSE_DIR_CLIENT, "MODE READER\r\nGROUP x\r\nxover 1-2\r\n");
    CHECK_EQ_U(f.st.unknown_commands, 0);
    script_fx_str(&f, PARSE_DIR_CLIENT, "USER a\r\n\r\nEHLO x\r\n");
    CHECK_EQ_U(f.st.unknown_commands, 3);
    CHECK_EQ_U(f.st.lines, 7);
    script_fx_str(&f, PARSE_DIR_CLIENT, "STARTTLS\r\nAUTHINFO USER x\r\n");
    CHECK_EQ_U(f.st.starttls_injection, 1);
    CHECK_EQ_U(f.s->injected_commands, 1);
    nntp_parser_ops.gap(f.p, PARSE_DIR_SERVER, 5);
    CHECK_EQ_U(f.st.gaps, 1);
    CHECK_EQ_U(f.s->n_creds, 0);
    script_fx_close(&f);
}

static void parse_done_after_tls(void)
{
    struct script_fx f;
    script_fx_open(&f, &nntp_parser_ops, 0);
    script_fx_str(&f, PARSE_DIR_SERVER, "200 ready\r\n");
    script_fx_str(&f, PARSE_DIR_CLIENT, "STARTTLS\r\n");
    script_fx_str(&f, PARSE_DIR_SERVER, "382 go\r\n");
    CHECK(!f.s->is_parse_done);
    CHECK_EQ_U(f.s->tls, FINDING_TLS_STARTTLS);
    /* At TLS 1.2 the certificate comes next: the ServerHelloDone says there is none. */
    static const char hello[] = HELLO_TLS12 "\x16\x03\x03\x00\x04\x0e\x00\x00\x00";
    script_fx_feed(&f, PARSE_DIR_SERVER, hello, 20);
    CHECK(!f.s->is_parse_done);
    script_fx_feed(&f, PARSE_DIR_SERVER, hello + 20, sizeof hello - 1 - 20);
    CHECK(f.s->is_parse_done);
    CHECK_EQ_U(f.s->tls_version, 0x0303);
    script_fx_close(&f);
}

static void statuses(void)
{
    struct script_fx f;
    script_fx_open(&f, &nntp_parser_ops, 0);
    CHECK(script_fx_str(&f, PARSE_DIR_SERVER, "200 rea") == PARSE_NEED_MORE);
    CHECK(script_fx_str(&f, PARSE_DIR_SERVER, "dy\r\n") == PARSE_OK);
    CHECK(script_fx_str(&f, PARSE_DIR_CLIENT, "DATE") == PARSE_NEED_MORE);
    CHECK(script_fx_str(&f, PARSE_DIR_CLIENT, "\r\n") == PARSE_OK);
    CHECK_EQ_U(f.st.line_mem > 0, 1); /* the partial line was gathered */
    script_fx_close(&f);
}

static void free_paths(void)
{
    struct session *s = finding_new();
    struct parse_stats st;
    memset(&st, 0, sizeof st);
    struct parse_ctx ctx = { s, &st, 0, NULL, NULL };
    void *p = parse_open(&nntp_parser_ops, &ctx);
    size_t consumed;
    const char *t = "AUTHINFO USER a\r\nAUTHINFO PASS sec";
    nntp_parser_ops.feed(p, PARSE_DIR_CLIENT, (const uint8_t *)t, strlen(t), &consumed);
    nntp_parser_ops.free_parser(p);
    nntp_parser_ops.free_parser(NULL);
    CHECK_EQ_U(s->n_creds, 0);
    CHECK_EQ_U(st.line_mem, 0);
    finding_free(s);
}

/* The greeting (200 or 201) is the banner; the client's ClientHello gives the SNI after
 * STARTTLS, on implicit TLS and on TLS spoken on port 119 from the start. */
static void context(void)
{
    script_check_context(
        &nntp_parser_ops, SCRIPT(GREET C "CAPABILITIES\r\n"), 0, FINDING_CONTEXT_BANNER,
        "200 news.example.test InterNetNews NNRP server INN 2.7.1 ready (posting ok)");
    script_check_context(&nntp_parser_ops, SCRIPT(S "201 no posting\r\n"), 0,
                         FINDING_CONTEXT_BANNER, "201 no posting");
    script_check_context(&nntp_parser_ops, SCRIPT(S "400 busy\r\n"), 0, FINDING_CONTEXT_BANNER,
                         NULL);
    script_check_context(&nntp_parser_ops, SCRIPT(S "200 x\r\n"), PARSE_F_MIDSTREAM,
                         FINDING_CONTEXT_BANNER, NULL);
    script_check_context(&nntp_parser_ops,
                         SCRIPT(GREET C "STARTTLS\r\n" S "382 go\r\n" C CLIENT_HELLO_SNI), 0,
                         FINDING_CONTEXT_SNI, "news.example");
    script_check_context(&nntp_parser_ops, SCRIPT(C CLIENT_HELLO_SNI S HELLO_TLS13),
                         PARSE_F_IMPLICIT_TLS, FINDING_CONTEXT_SNI, "news.example");
    script_check_context(&nntp_parser_ops, SCRIPT(C CLIENT_HELLO_SNI S HELLO_TLS13), 0,
                         FINDING_CONTEXT_SNI, "news.example");
    script_check_context(&nntp_parser_ops,
                         SCRIPT(GREET C "STARTTLS\r\n" S "382 go\r\n" C CLIENT_HELLO), 0,
                         FINDING_CONTEXT_SNI, NULL);
}

int main(void)
{
    script_run_table(&nntp_parser_ops, cases, sizeof cases / sizeof cases[0], describe_cred);
    RUN(line_at_limit);
    RUN(line_past_limit);
    RUN(overlong_article_line);
    RUN(pending_limit);
    RUN(credential_limit);
    RUN(counters);
    RUN(parse_done_after_tls);
    RUN(statuses);
    RUN(free_paths);
    RUN(context);
    return TEST_SUMMARY();
}
