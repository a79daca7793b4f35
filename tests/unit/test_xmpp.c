/* test_xmpp.c - the XMPP parser, table-driven (script.h): each script fed whole and with every
 * chunk cut into pieces of 1 to 64 bytes; all must give the same record. Then the limits and
 * counters on a parser fed by hand: tags and texts at XMPP_MAX_TAG / XMPP_MAX_TEXT and past
 * them, credentials, the TLS verdict ending the parse, the classification opening. */
#include "xmpp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "script.h"
#include "test.h"

#define HELLO_TLS12                                                                                \
    "\x16\x03\x03\x00\x2c\x02\x00\x00\x28\x03\x03"                                                 \
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"                                                             \
    "\x00\xc0\x2f\x00\x00\x00"
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

#define C_OPEN                                                                                     \
    C "<?xml version='1.0'?><stream:stream to='localhost' xmlns='jabber:client' "                  \
      "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
#define S_OPEN                                                                                     \
    S "<?xml version='1.0'?><stream:stream from='localhost' id='abc123' version='1.0' "            \
      "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"
#define MECHS                                                                                      \
    "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism>"      \
    "<mechanism>PLAIN</mechanism></mechanisms>"
#define FEAT_TLS                                                                                   \
    S "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" MECHS                 \
      "</stream:features>"
#define FEAT_PLAIN S "<stream:features>" MECHS "</stream:features>"
#define SASL_NS    "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'"
#define PLAIN_OK                                                                                   \
    C "<auth " SASL_NS " mechanism='PLAIN'>AGFsaWNlAHMzY3JldA==</auth>" S "<success " SASL_NS "/>"
#define RESTART                                                                                    \
    C_OPEN S_OPEN S "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"            \
                    "</stream:features>"
#define IQ_AUTH(pw)                                                                                \
    C "<iq type='set' id='auth2'><query xmlns='jabber:iq:auth'><username>bill</username>"          \
      "<password>" pw "</password><resource>globe</resource></query></iq>"

static const struct script_case cases[] = {
    /* RFC 6120 section 6.4: SASL. */
    { "plain success, stream restart", SCRIPT(C_OPEN S_OPEN FEAT_TLS PLAIN_OK RESTART), 0,
      "tls=none starttls=offered-not-used inj=0 | PLAIN alice s3cret success" },
    { "plain failure",
      SCRIPT(C_OPEN S_OPEN FEAT_PLAIN C "<auth " SASL_NS
                                        " mechanism=\"PLAIN\">AGFsaWNlAHMzY3JldA==</auth>" S
                                        "<failure " SASL_NS "><not-authorized/></failure>"),
      0, "tls=none starttls=not-offered inj=0 | PLAIN alice s3cret failure" },
    { "plain after an empty challenge",
      SCRIPT(C_OPEN S_OPEN FEAT_PLAIN C "<auth " SASL_NS " mechanism='PLAIN'/>" S
                                        "<challenge " SASL_NS "/>" C "<response " SASL_NS
                                        ">AGFsaWNlAHMzY3JldA==</response>" S "<success " SASL_NS
                                        "></success>"),
      0, "tls=none starttls=not-offered inj=0 | PLAIN alice s3cret success" },
    { "x-oauth2 token",
      SCRIPT(C_OPEN S_OPEN FEAT_PLAIN C "<auth " SASL_NS
                                        " mechanism='X-OAUTH2'>AGFsaWNlAHlhMjkudG9rZW4=</auth>" S
                                        "<success " SASL_NS "/>"),
      0, "tls=none starttls=not-offered inj=0 | X-OAUTH2 alice ya29.token success" },
    { "scram-sha-1",
      SCRIPT(C_OPEN S_OPEN FEAT_PLAIN C
             "<auth " SASL_NS " mechanism='SCRAM-SHA-1'>"
             "biwsbj1qdWxpZXQscj1vTXNUQUF3QUFBQU1BQUFBTlAwVEFBQUFBQUJQVTBBQQ==</auth>" S
             "<challenge " SASL_NS
             ">cj1vTXNUQUF3QUFBQU1BQUFBTlAwVEFBQUFBQUJQVTBBQSxzPWVQMWQsaT00MDk2</challenge>" C
             "<response " SASL_NS
             ">Yz1iaXdzLHI9b01zVEFBd0FBQUFNQUFBQU5QMFRBQUFBQUFCUFUwQUF4eCxwPWFiYz0=</response>" S
             "<success " SASL_NS ">dj1hYmM=</success>"),
      0,
      "tls=none starttls=not-offered inj=0 | SCRAM-SHA-1 juliet - success "
      "ch=r=oMsTAAwAAAAMAAAANP0TAAAAAABPU0AA,s=eP1d,i=4096 "
      "resp=c=biws,r=oMsTAAwAAAAMAAAANP0TAAAAAABPU0AAxx,p=abc=" },
    { "abort",
      SCRIPT(C_OPEN S_OPEN FEAT_PLAIN C "<auth " SASL_NS " mechanism='PLAIN'/>" S
                                        "<challenge " SASL_NS "/>" C "<abort " SASL_NS "/>" S
                                        "<failure " SASL_NS "><aborted/></failure>" PLAIN_OK),
      0, "tls=none starttls=not-offered inj=0 | PLAIN alice s3cret success" },
    /* XEP-0078: jabber:iq:auth. */
    { "iq-auth password",
      SCRIPT(C_OPEN S_OPEN FEAT_PLAIN IQ_AUTH("Calli0pe") S "<iq type='result' id='auth2'/>"), 0,
      "tls=none starttls=not-offered inj=0 | IQ-AUTH bill Calli0pe success" },
    { "iq-auth refused",
      SCRIPT(C_OPEN S_OPEN IQ_AUTH("x") S "<iq type='error' id='auth2'><error code='401' "
                                          "type='auth'><not-authorized/></error></iq>"),
      0, "tls=none starttls=null inj=0 | IQ-AUTH bill x failure" },
    { "iq-auth answer with another id is not its outcome",
      SCRIPT(C_OPEN S_OPEN IQ_AUTH("x") S "<iq type='result' id='other'/>"), 0,
      "tls=none starttls=null inj=0 | IQ-AUTH bill x unknown" },
    { "iq-auth escaped password",
      SCRIPT(C_OPEN S_OPEN IQ_AUTH("a&amp;b&lt;c&gt;&quot;&apos;&#33;&#x41;&bogus;") S
             "<iq type='result' id='auth2'/>"),
      0, "tls=none starttls=null inj=0 | IQ-AUTH bill a&b<c>\"'!A&bogus; success" },
    { "iq-auth digest answers the stream id",
      SCRIPT(C_OPEN S_OPEN C
             "<iq type='set' id='a1'><query xmlns='jabber:iq:auth'>"
             "<username>bill</username><digest>48fc78be9ec8f86d8ce1c39c320c97c21d62334d"
             "</digest><resource>globe</resource></query></iq>" S "<iq type='result' id='a1'/>"),
      0,
      "tls=none starttls=null inj=0 | IQ-AUTH bill - success ch=abc123 "
      "resp=48fc78be9ec8f86d8ce1c39c320c97c21d62334d" },
    { "iq get of the fields is no login",
      SCRIPT(C_OPEN S_OPEN C "<iq type='get' id='a0'><query xmlns='jabber:iq:auth'>"
                             "<username>bill</username></query></iq>" S
                             "<iq type='result' id='a0'><query xmlns='jabber:iq:auth'><username/>"
                             "<password/></query></iq>"),
      0, "tls=none starttls=null inj=0" },
    /* Content. */
    { "a message holding escaped auth text",
      SCRIPT(C_OPEN S_OPEN FEAT_PLAIN PLAIN_OK RESTART C
             "<message to='bob@localhost' type='chat'><body>&lt;auth mechanism='PLAIN'&gt;"
             "AGV2aWwAbm90YXNlY3JldA==&lt;/auth&gt; &lt;iq type='set'&gt;&lt;query "
             "xmlns='jabber:iq:auth'&gt;&lt;password&gt;x&lt;/password&gt;</body></message>"),
      0, "tls=none starttls=not-offered inj=0 | PLAIN alice s3cret success" },
    { "a password element outside jabber:iq:auth",
      SCRIPT(C_OPEN S_OPEN C "<iq type='set' id='r1'><query xmlns='jabber:iq:register'>"
                             "<username>bill</username><password>x</password></query></iq>"),
      0, "tls=none starttls=null inj=0" },
    { "a '>' inside a quoted attribute",
      SCRIPT(C_OPEN S_OPEN C "<message id='a>b'><body>x</body></message>" PLAIN_OK), 0,
      "tls=none starttls=null inj=0 | PLAIN alice s3cret success" },
    /* RFC 6120 section 5: STARTTLS. */
    { "starttls used, tls 1.3",
      SCRIPT(C_OPEN S_OPEN FEAT_TLS C
             "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" S
             "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" C CLIENT_HELLO S HELLO_TLS13),
      0, "tls=starttls starttls=used inj=0 v=0304" },
    { "tls right after proceed in one segment",
      SCRIPT(C_OPEN S_OPEN FEAT_TLS C
             "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" S
             "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" HELLO_TLS12),
      0, "tls=starttls starttls=used inj=0 v=0303" },
    { "starttls refused",
      SCRIPT(C_OPEN S_OPEN FEAT_TLS C
             "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" S
             "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" PLAIN_OK),
      0, "tls=none starttls=refused inj=0 | PLAIN alice s3cret success" },
    { "elements pipelined after starttls",
      SCRIPT(C_OPEN S_OPEN FEAT_TLS C
             "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><auth " SASL_NS
             " mechanism='PLAIN'>AGFsaWNlAHMzY3JldA==</auth>" S
             "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
      0, "tls=starttls starttls=used inj=1" },
    { "tls client hello on port 5222", SCRIPT(C CLIENT_HELLO S HELLO_TLS12), 0,
      "tls=implicit starttls=n/a inj=0 v=0303" },
    { "a client hello after whitespace", SCRIPT(C "\r\n" CLIENT_HELLO S HELLO_TLS12), 0,
      "tls=implicit starttls=n/a inj=0 v=0303" },
    { "text before the header, then a tls byte", SCRIPT(C "ab\x16\x03\x01"), 0, "PARSE_ERROR" },
    { "a client hello inside a message's text",
      SCRIPT(C_OPEN S_OPEN PLAIN_OK C "<message><body>x" CLIENT_HELLO S HELLO_TLS12), 0,
      "tls=none starttls=null inj=0 | PLAIN alice s3cret success" },
    { "implicit tls (5223)", SCRIPT(C CLIENT_HELLO S HELLO_TLS13), PARSE_F_IMPLICIT_TLS,
      "tls=implicit starttls=n/a inj=0 v=0304" },
    /* Gaps and mid-session starts. */
    { "server gap before success makes it unknown",
      SCRIPT(C_OPEN S_OPEN FEAT_PLAIN C "<auth " SASL_NS
                                        " mechanism='PLAIN'>AGFsaWNlAHMzY3JldA==</auth>" G S S
                                        "<success " SASL_NS "/>"),
      0, "tls=none starttls=not-offered inj=0 | PLAIN alice s3cret unknown" },
    { "client gap inside a message resynchronises",
      SCRIPT(C_OPEN S_OPEN C "<message><body>long te" G C C "xt</body></message>" PLAIN_OK), 0,
      "tls=none starttls=null inj=0 | PLAIN alice s3cret success" },
    { "mid-session: no header needed",
      SCRIPT(C "<auth " SASL_NS " mechanism='PLAIN'>AGFsaWNlAHMzY3JldA==</auth>" S
               "<success " SASL_NS "/>"),
      PARSE_F_MIDSTREAM, "tls=none starttls=null inj=0 | PLAIN alice s3cret success" },
    /* Not XMPP. */
    { "http server", SCRIPT(C_OPEN S "HTTP/1.1 400 Bad Request\r\n\r\n"), 0, "PARSE_ERROR" },
    { "xml that is no stream", SCRIPT(C "<?xml version='1.0'?><soap:Envelope>"), 0, "PARSE_ERROR" },
};

static void describe_cred(const struct credential *c, char *out, size_t cap)
{
    if (c->is_truncated) {
        script_appendf(out, cap, " truncated");
    }
}

/* ---- limits and counters, on a parser fed by hand ---- */

static void feed_open(struct script_fx *f)
{
    script_fx_str(f, PARSE_DIR_CLIENT, "<stream:stream to='localhost' version='1.0'>");
    script_fx_str(f, PARSE_DIR_SERVER, "<stream:stream from='localhost' id='x' version='1.0'>");
}

/* An <auth> whose text is n bytes of base64 'A's: kept whole at XMPP_MAX_TEXT, cut one past. */
static void text_sized(size_t n, bool want_cut)
{
    struct script_fx f;
    script_fx_open(&f, &xmpp_parser_ops, 0);
    feed_open(&f);
    char *big = malloc(n);
    CHECK(big != NULL);
    if (big == NULL) {
        script_fx_free(&f);
        return;
    }
    memset(big, 'A', n);
    script_fx_str(&f, PARSE_DIR_CLIENT, "<auth mechanism='PLAIN'>");
    script_fx_feed(&f, PARSE_DIR_CLIENT, big, n);
    script_fx_str(&f, PARSE_DIR_CLIENT, "</auth>");
    CHECK_EQ_U(f.st.xmpp_overlong, want_cut ? 1 : 0);
    CHECK(f.st.line_mem > 0);
    free(big);
    script_fx_close(&f);
    CHECK_EQ_U(f.st.line_mem, 0);
}

static void text_at_limit(void)
{
    text_sized(XMPP_MAX_TEXT, false);
}

static void text_past_limit(void)
{
    text_sized(XMPP_MAX_TEXT + 1, true);
}

/* A tag of n bytes between '<' and '>': kept at XMPP_MAX_TAG, cut one past; the parse goes on. */
static void tag_sized(size_t n, bool want_cut)
{
    struct script_fx f;
    script_fx_open(&f, &xmpp_parser_ops, 0);
    feed_open(&f);
    char *big = malloc(n);
    CHECK(big != NULL);
    if (big == NULL) {
        script_fx_free(&f);
        return;
    }
    memset(big, 'x', n);
    memcpy(big, "message a='", 11);
    big[n - 1] = '\'';
    script_fx_str(&f, PARSE_DIR_CLIENT, "<");
    script_fx_feed(&f, PARSE_DIR_CLIENT, big, n);
    script_fx_str(&f, PARSE_DIR_CLIENT, "></message>");
    CHECK_EQ_U(f.st.xmpp_overlong, want_cut ? 1 : 0);
    script_fx_str(&f, PARSE_DIR_CLIENT, "<auth mechanism='PLAIN'>AGFsaWNlAHMzY3JldA==</auth>");
    script_fx_str(&f, PARSE_DIR_SERVER, "<success/>");
    CHECK_EQ_U(f.s->n_creds, 1);
    if (f.s->n_creds == 1) {
        CHECK_EQ_U(f.s->creds[0]->result, FINDING_RESULT_SUCCESS);
    }
    free(big);
    script_fx_close(&f);
}

static void tag_at_limit(void)
{
    tag_sized(XMPP_MAX_TAG, false);
}

static void tag_past_limit(void)
{
    tag_sized(XMPP_MAX_TAG + 1, true);
}

static void credential_limit(void)
{
    struct script_fx f;
    script_fx_open(&f, &xmpp_parser_ops, 0);
    feed_open(&f);
    for (int i = 0; i < FINDING_MAX_CREDS + 3; i++) {
        script_fx_str(&f, PARSE_DIR_CLIENT,
                      "<iq type='set' id='a'><query xmlns='jabber:iq:auth'><username>u</username>"
                      "<password>p</password></query></iq>");
        script_fx_str(&f, PARSE_DIR_SERVER, "<iq type='error' id='a'/>");
    }
    CHECK_EQ_U(f.s->n_creds, FINDING_MAX_CREDS);
    CHECK_EQ_U(f.st.creds_dropped, 3);
    script_fx_close(&f);
}

static void parse_done_after_tls(void)
{
    struct script_fx f;
    script_fx_open(&f, &xmpp_parser_ops, 0);
    feed_open(&f);
    script_fx_str(&f, PARSE_DIR_CLIENT, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    script_fx_str(&f, PARSE_DIR_SERVER, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
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
    script_fx_open(&f, &xmpp_parser_ops, 0);
    CHECK(script_fx_str(&f, PARSE_DIR_CLIENT, "<stream:str") == PARSE_NEED_MORE);
    CHECK(script_fx_str(&f, PARSE_DIR_CLIENT, "eam>") == PARSE_OK);
    CHECK(script_fx_str(&f, PARSE_DIR_CLIENT, "<auth mechanism='PLAIN'>AGFs") == PARSE_NEED_MORE);
    script_fx_close(&f);
}

static void free_paths(void)
{
    struct session *s = finding_new();
    struct parse_stats st;
    memset(&st, 0, sizeof st);
    struct parse_ctx ctx = { s, &st, 0, NULL, NULL };
    void *p = parse_open(&xmpp_parser_ops, &ctx);
    size_t consumed;
    const char *t = "<stream:stream><iq type='set'><query xmlns='jabber:iq:auth'><password>sec";
    xmpp_parser_ops.feed(p, PARSE_DIR_CLIENT, (const uint8_t *)t, strlen(t), &consumed);
    xmpp_parser_ops.free_parser(p);
    xmpp_parser_ops.free_parser(NULL);
    CHECK_EQ_U(s->n_creds, 0);
    CHECK_EQ_U(st.line_mem, 0);
    finding_free(s);
}

static void opens(void)
{
    static const struct {
        const char *p;
        enum line_prefix want;
    } t[] = {
        { "<?xml version='1.0'?>", LINE_PREFIX_YES },
        { "<stream:stream to=", LINE_PREFIX_YES },
        { "<STREAM:STREAM", LINE_PREFIX_YES },
        { "<?xm", LINE_PREFIX_SHORT },
        { "<", LINE_PREFIX_SHORT },
        { "<stream:str", LINE_PREFIX_SHORT },
        { "", LINE_PREFIX_SHORT },
        { "<html>", LINE_PREFIX_NO },
        { "GET / HTTP/1.1", LINE_PREFIX_NO },
        { "<?xmlfoo", LINE_PREFIX_NO },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        CHECK_EQ_U(xmpp_opens((const uint8_t *)t[i].p, strlen(t[i].p)), t[i].want);
    }
}

/* No banner (XMPP has no greeting line); the client's ClientHello gives the SNI after
 * <proceed/>, on implicit TLS (5223) and on TLS spoken on 5222 from the start. */
static void context(void)
{
    script_check_context(&xmpp_parser_ops,
                         SCRIPT(C_OPEN S_OPEN C
                                "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" S
                                "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" C
                                "\n" CLIENT_HELLO_SNI),
                         0, FINDING_CONTEXT_SNI, "news.example");
    script_check_context(&xmpp_parser_ops, SCRIPT(C CLIENT_HELLO_SNI S HELLO_TLS13),
                         PARSE_F_IMPLICIT_TLS, FINDING_CONTEXT_SNI, "news.example");
    script_check_context(&xmpp_parser_ops, SCRIPT(C CLIENT_HELLO_SNI S HELLO_TLS13), 0,
                         FINDING_CONTEXT_SNI, "news.example");
    script_check_context(&xmpp_parser_ops, SCRIPT(C_OPEN S_OPEN), 0, FINDING_CONTEXT_BANNER, NULL);
}

int main(void)
{
    script_run_table(&xmpp_parser_ops, cases, sizeof cases / sizeof cases[0], describe_cred);
    RUN(text_at_limit);
    RUN(text_past_limit);
    RUN(tag_at_limit);
    RUN(tag_past_limit);
    RUN(credential_limit);
    RUN(parse_done_after_tls);
    RUN(statuses);
    RUN(free_paths);
    RUN(opens);
    RUN(context);
    return TEST_SUMMARY();
}
