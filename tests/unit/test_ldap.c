/* test_ldap.c - the LDAP parser, table-driven (script.h): each script fed whole and with every
 * chunk cut into pieces of 1 to 64 bytes; all must give the same record. Then the limits and
 * counters on a parser fed by hand: a bind at LDAP_MAX_MESSAGE and one past, a large search
 * result skipped without a byte buffered, a bind gathered across segments and released, and the
 * content test that finds an LDAP client on another port (random bytes never pass it). */
#include "ldap.h"

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
/* The client's first TLS record (only its first byte matters to the parser). */
#define CLIENT_HELLO "\x16\x03\x01\x00\x05hello"

/* LDAPMessages in BER (RFC 4511 section 4): "0" is the SEQUENCE tag 0x30, "a" a BindResponse
 * (0x61), "w" and "x" an ExtendedRequest and Response (0x77, 0x78). Those with long-form
 * lengths (0x84 and four bytes) are encoded as OpenLDAP's liblber encodes them. */
/* Simple bind, message 1, cn=admin,dc=example,dc=org with "secret"; success and
 * invalidCredentials (49). */
#define BIND_ADMIN                                                                                 \
    "0\x84\x00\x00\x00"                                                                            \
    "0\x02\x01\x01\x60\x84\x00\x00\x00\x27\x02\x01\x03\x04\x1a"                                    \
    "cn=admin,dc=example,dc=org\x80\x06secret"
#define BIND_OK_1                                                                                  \
    "0\x84\x00\x00\x00\x10\x02\x01\x01"                                                            \
    "a\x84\x00\x00\x00\x07\x0a\x01\x00\x04\x00\x04\x00"
#define BIND_FAIL_1                                                                                \
    "0\x84\x00\x00\x00\x10\x02\x01\x01"                                                            \
    "a\x84\x00\x00\x00\x07\x0a\x01"                                                                \
    "1\x04\x00\x04\x00"
/* An anonymous bind (empty name and password) and an unauthenticated one (a DN, no password),
 * refused with unwillingToPerform (53); success and a referral (10) to message 2. */
#define BIND_ANON_1 "0\x0c\x02\x01\x01\x60\x07\x02\x01\x03\x04\x00\x80\x00"
#define BIND_UNAUTH_2                                                                              \
    "0\x24\x02\x01\x02\x60\x1f\x02\x01\x03\x04\x18"                                                \
    "cn=bob,dc=example,dc=org\x80\x00"
#define BIND_OK_2                                                                                  \
    "0\x0c\x02\x01\x02"                                                                            \
    "a\x07\x0a\x01\x00\x04\x00\x04\x00"
#define BIND_UNWILLING_2                                                                           \
    "0\x0c\x02\x01\x02"                                                                            \
    "a\x07\x0a\x01"                                                                                \
    "5\x04\x00\x04\x00"
#define BIND_REFERRAL_2                                                                            \
    "0\x0c\x02\x01\x02"                                                                            \
    "a\x07\x0a\x01\x0a\x04\x00\x04\x00"
/* cn=bob,dc=example,dc=org with "hunter2" as messages 2 and 3; a bind with a control after it
 * (RFC 4511 section 4.1.11). */
#define BIND_BOB_2                                                                                 \
    "0+\x02\x01\x02\x60\x26\x02\x01\x03\x04\x18"                                                   \
    "cn=bob,dc=example,dc=org\x80\x07hunter2"
#define BIND_BOB_3                                                                                 \
    "0+\x02\x01\x03\x60\x26\x02\x01\x03\x04\x18"                                                   \
    "cn=bob,dc=example,dc=org\x80\x07hunter2"
#define BIND_OK_3                                                                                  \
    "0\x0c\x02\x01\x03"                                                                            \
    "a\x07\x0a\x01\x00\x04\x00\x04\x00"
#define BIND_CTRL_2                                                                                \
    "06\x02\x01\x02\x60\x12\x02\x01\x03\x04\x09uid=carol\x80\x02pw\xa0\x1d"                        \
    "0\x1b\x04\x19"                                                                                \
    "1.3.6.1.4.1.42.2.27.8.5.1"
/* SASL binds ([3] SaslCredentials): PLAIN with its credentials; CRAM-MD5 (RFC 2195 example) and
 * DIGEST-MD5, each answered saslBindInProgress (14) with the challenge in serverSaslCreds;
 * EXTERNAL. */
#define PLAIN_1                                                                                    \
    "0\x22\x02\x01\x01\x60\x1d\x02\x01\x03\x04\x00\xa3\x16\x04\x05PLAIN\x04\x0d\x00"               \
    "alice\x00wonder"
#define CRAM_1                                                                                     \
    "0\x16\x02\x01\x01\x60\x11\x02\x01\x03\x04\x00\xa3\x0a\x04\x08"                                \
    "CRAM-MD5"
#define CRAM_CH_1                                                                                  \
    "05\x02\x01\x01"                                                                               \
    "a0\x0a\x01\x0e\x04\x00\x04\x00\x87\x27\x3c"                                                   \
    "1896.697170952@postoffice.example.net\x3e"
#define CRAM_2                                                                                     \
    "0\x3c\x02\x01\x02\x60"                                                                        \
    "7\x02\x01\x03\x04\x00\xa3"                                                                    \
    "0\x04\x08"                                                                                    \
    "CRAM-MD5\x04\x24tim b913a602c7eda7a495b4e6e7334d3890"
#define DIGEST_1                                                                                   \
    "0\x18\x02\x01\x01\x60\x13\x02\x01\x03\x04\x00\xa3\x0c\x04\x0a"                                \
    "DIGEST-MD5"
#define DIGEST_CH_1                                                                                \
    "0P\x02\x01\x01"                                                                               \
    "aK\x0a\x01\x0e\x04\x00\x04\x00\x87"                                                           \
    "Brealm=\x22"                                                                                  \
    "ex\x22,nonce=\x22"                                                                            \
    "abc\x22,qop=\x22"                                                                             \
    "auth\x22,algorithm=md5-sess,charset=utf-8"
#define DIGEST_2                                                                                   \
    "0\x81\xab\x02\x01\x02\x60\x81\xa5\x02\x01\x03\x04\x00\xa3\x81\x9d\x04\x0a"                    \
    "DIGEST-MD5\x04\x81\x8eusername=\x22"                                                          \
    "dora\x22,realm=\x22"                                                                          \
    "ex\x22,nonce=\x22"                                                                            \
    "abc\x22,cnonce=\x22xyz\x22,nc=00000001,qop=auth,digest-uri=\x22ldap/"                         \
    "localhost\x22,response=d388dad90d4bbd760a152321f2143af7"
#define DIGEST_RSP_2                                                                               \
    "06\x02\x01\x02"                                                                               \
    "a1\x0a\x01\x0e\x04\x00\x04\x00\x87\x28rspauth=ea40f60335c427b5527b84dbabcdfffd"
#define DIGEST_3                                                                                   \
    "0\x18\x02\x01\x03\x60\x13\x02\x01\x03\x04\x00\xa3\x0c\x04\x0a"                                \
    "DIGEST-MD5"
#define EXTERNAL_1                                                                                 \
    "0\x18\x02\x01\x01\x60\x13\x02\x01\x03\x04\x00\xa3\x0c\x04\x08"                                \
    "EXTERNAL\x04\x00"
/* StartTLS (RFC 4511 section 4.14) and its responses: success with the responseName, and
 * unavailable (52); Who am I? (RFC 4532) and its response; a Notice of Disconnection
 * (message 0). */
#define STARTTLS_1                                                                                 \
    "0\x84\x00\x00\x00\x21\x02\x01\x01w\x84\x00\x00\x00\x18\x80\x16"                               \
    "1.3.6.1.4.1.1466.20037"
#define STARTTLS_OK_1                                                                              \
    "0\x84\x00\x00\x00\x28\x02\x01\x01x\x84\x00\x00\x00\x1f\x0a\x01\x00\x04\x00\x04\x00\x8a\x16"   \
    "1.3.6.1.4.1.1466.20037"
#define STARTTLS_NO_1                                                                              \
    "0\x0c\x02\x01\x01x\x07\x0a\x01"                                                               \
    "4\x04\x00\x04\x00"
#define WHOAMI_4                                                                                   \
    "0\x1e\x02\x01\x04w\x19\x80\x17"                                                               \
    "1.3.6.1.4.1.4203.1.11.3"
#define WHOAMI_RESP_4                                                                              \
    "0\x19\x02\x01\x04x\x14\x0a\x01\x00\x04\x00\x04\x00\x8b\x0b"                                   \
    "dn:cn=admin"
#define NOTICE_0                                                                                   \
    "0\x24\x02\x01\x00x\x1f\x0a\x01"                                                               \
    "4\x04\x00\x04\x00\x8a\x16"                                                                    \
    "1.3.6.1.4.1.1466.20036"
/* A search of the root DSE, a result entry whose value is a bind and a bind response (never
 * read), search done, and an unbind. */
#define SEARCH_2                                                                                   \
    "0\x25\x02\x01\x02"                                                                            \
    "c "                                                                                           \
    "\x04\x00\x0a\x01\x00\x0a\x01\x00\x02\x01\x00\x02\x01\x00\x01\x01\x00\x87\x0bobjectClass0\x00"
#define ENTRY_TRAP_2                                                                               \
    "0C\x02\x01\x02"                                                                               \
    "d\x3e\x04\x00"                                                                                \
    "0:08\x04\x0b"                                                                                 \
    "description1\x29\x04\x27"                                                                     \
    "0\x17\x02\x01\x09\x60\x12\x02\x01\x03\x04\x07"                                                \
    "cn=trap\x80\x04trap0\x0c\x02\x01\x03"                                                         \
    "a\x07\x0a\x01\x00\x04\x00\x04\x00"
#define DONE_2                                                                                     \
    "0\x0c\x02\x01\x02"                                                                            \
    "e\x07\x0a\x01\x00\x04\x00\x04\x00"
#define UNBIND_3                                                                                   \
    "0\x05\x02\x01\x03"                                                                            \
    "B\x00"

#define C_ADMIN C BIND_ADMIN
#define T_ADMIN "SIMPLE cn=admin,dc=example,dc=org secret"

static const struct script_case cases[] = {
    /* RFC 4513 section 5.1.3: name and password. */
    { "simple bind, success", SCRIPT(C_ADMIN S BIND_OK_1 C UNBIND_3), 0,
      "tls=none starttls=null inj=0 | " T_ADMIN " success" },
    { "simple bind, invalid credentials (49)", SCRIPT(C_ADMIN S BIND_FAIL_1), 0,
      "tls=none starttls=null inj=0 | " T_ADMIN " failure" },
    { "simple bind unanswered", SCRIPT(C_ADMIN), 0,
      "tls=none starttls=null inj=0 | " T_ADMIN " unknown" },
    { "failure, then another bind that succeeds",
      SCRIPT(C_ADMIN S BIND_FAIL_1 C BIND_BOB_2 S BIND_OK_2), 0,
      "tls=none starttls=null inj=0 | " T_ADMIN
      " failure | SIMPLE cn=bob,dc=example,dc=org hunter2 success" },
    { "a referral leaves it unknown", SCRIPT(C BIND_BOB_2 S BIND_REFERRAL_2), 0,
      "tls=none starttls=null inj=0 | SIMPLE cn=bob,dc=example,dc=org hunter2 unknown" },
    { "a bind with controls", SCRIPT(C BIND_CTRL_2 S BIND_OK_2), 0,
      "tls=none starttls=null inj=0 | SIMPLE uid=carol pw success" },
    /* RFC 4513 sections 5.1.1 and 5.1.2: anonymous and unauthenticated binds carry no secret. */
    { "anonymous bind", SCRIPT(C BIND_ANON_1 S BIND_OK_1), 0,
      "tls=none starttls=null inj=0 | SIMPLE  - success anon" },
    { "unauthenticated bind refused (53)", SCRIPT(C BIND_UNAUTH_2 S BIND_UNWILLING_2), 0,
      "tls=none starttls=null inj=0 | SIMPLE cn=bob,dc=example,dc=org - failure anon" },
    /* Responses pair by messageID. */
    { "a response to another id settles nothing", SCRIPT(C BIND_BOB_3 S BIND_OK_2 C UNBIND_3), 0,
      "tls=none starttls=null inj=0 | SIMPLE cn=bob,dc=example,dc=org hunter2 unknown" },
    { "searches, results and an extended operation in one segment each",
      SCRIPT(C BIND_ANON_1 SEARCH_2 S BIND_OK_1 ENTRY_TRAP_2 DONE_2 C BIND_BOB_3 WHOAMI_4 S
                 BIND_OK_3 WHOAMI_RESP_4 NOTICE_0),
      0,
      "tls=none starttls=null inj=0 | SIMPLE  - success anon | SIMPLE cn=bob,dc=example,dc=org "
      "hunter2 success" },
    /* SASL (RFC 4513 section 5.2): mechanisms read by sasl.c. */
    { "sasl plain", SCRIPT(C PLAIN_1 S BIND_OK_1), 0,
      "tls=none starttls=null inj=0 | PLAIN alice wonder success" },
    { "sasl plain refused", SCRIPT(C PLAIN_1 S BIND_FAIL_1), 0,
      "tls=none starttls=null inj=0 | PLAIN alice wonder failure" },
    { "sasl cram-md5 (RFC 2195 example) with saslBindInProgress",
      SCRIPT(C CRAM_1 S CRAM_CH_1 C CRAM_2 S BIND_OK_2), 0,
      "tls=none starttls=null inj=0 | CRAM-MD5 tim - success "
      "ch=<1896.697170952@postoffice.example.net> resp=b913a602c7eda7a495b4e6e7334d3890" },
    { "sasl digest-md5, three binds",
      SCRIPT(C DIGEST_1 S DIGEST_CH_1 C DIGEST_2 S DIGEST_RSP_2 C DIGEST_3 S BIND_OK_3), 0,
      "tls=none starttls=null inj=0 | DIGEST-MD5 dora - success "
      "ch=realm=\"ex\",nonce=\"abc\",qop=\"auth\",algorithm=md5-sess,charset=utf-8 "
      "resp=username=\"dora\",realm=\"ex\",nonce=\"abc\",cnonce=\"xyz\",nc=00000001,qop=auth,"
      "digest-uri=\"ldap/localhost\",response=d388dad90d4bbd760a152321f2143af7" },
    { "a simple bind abandons a sasl exchange",
      SCRIPT(C CRAM_1 S CRAM_CH_1 C BIND_BOB_2 S BIND_OK_2), 0,
      "tls=none starttls=null inj=0 | SIMPLE cn=bob,dc=example,dc=org hunter2 success" },
    { "sasl external shows no secret", SCRIPT(C EXTERNAL_1 S BIND_OK_1), 0,
      "tls=none starttls=null inj=0" },
    /* StartTLS (RFC 4511 section 4.14). */
    { "starttls used, tls 1.3", SCRIPT(C STARTTLS_1 S STARTTLS_OK_1 C CLIENT_HELLO S HELLO_TLS13),
      0, "tls=starttls starttls=used inj=0 v=0304" },
    { "starttls refused (52), bind in the clear",
      SCRIPT(C STARTTLS_1 S STARTTLS_NO_1 C BIND_BOB_2 S BIND_OK_2), 0,
      "tls=none starttls=refused inj=0 | SIMPLE cn=bob,dc=example,dc=org hunter2 success" },
    { "a bind sent after starttls, before its response",
      SCRIPT(C STARTTLS_1 BIND_BOB_2 S STARTTLS_OK_1 C CLIENT_HELLO S HELLO_TLS12), 0,
      "tls=starttls starttls=used inj=1 v=0303" },
    { "text after the starttls response is tls", SCRIPT(C STARTTLS_1 S STARTTLS_OK_1 BIND_OK_2), 0,
      "tls=starttls starttls=used inj=0" },
    { "starttls response lost: the server's tls says it", SCRIPT(C STARTTLS_1 G S S HELLO_TLS12), 0,
      "tls=starttls starttls=used inj=0 v=0303" },
    { "whoami is no starttls", SCRIPT(C WHOAMI_4 S WHOAMI_RESP_4), 0,
      "tls=none starttls=null inj=0" },
    /* Implicit TLS: port 636, or a ClientHello on 389. */
    { "ldaps (636)", SCRIPT(C CLIENT_HELLO S HELLO_TLS13), PARSE_F_IMPLICIT_TLS,
      "tls=implicit starttls=n/a inj=0 v=0304" },
    { "tls client hello on 389", SCRIPT(C CLIENT_HELLO S HELLO_TLS12), 0,
      "tls=implicit starttls=n/a inj=0 v=0303" },
    /* Gaps. */
    { "server gap before the response makes it unknown",
      SCRIPT(C C_ADMIN G S S BIND_OK_1 C BIND_BOB_2 S BIND_OK_2), 0,
      "tls=none starttls=null inj=0 | " T_ADMIN
      " success | SIMPLE cn=bob,dc=example,dc=org hunter2 success" },
    { "server gap inside a message loses the direction",
      SCRIPT(C BIND_BOB_2 S "0\x0c\x02" G S S "\x01\x02" C BIND_BOB_3 S BIND_OK_3), 0,
      "tls=none starttls=null inj=0 | SIMPLE cn=bob,dc=example,dc=org hunter2 unknown | SIMPLE "
      "cn=bob,dc=example,dc=org hunter2 unknown" },
    { "gap inside a skipped search result keeps the framing",
      SCRIPT(
          C SEARCH_2 S
          "0C\x02\x01\x02"
          "d\x3e" G S S
          "0123456789012345678901234567890123456789012345678901" DONE_2 C BIND_BOB_3 S BIND_OK_3),
      0, "tls=none starttls=null inj=0 | SIMPLE cn=bob,dc=example,dc=org hunter2 success" },
    /* Found by fuzz_ldap: the verdict on a bad header after a gap must not depend on how the
     * header was cut. */
    { "a bad header after a gap loses the direction, however cut",
      SCRIPT(C BIND_BOB_2 G S S "0\x0c\x01\x01\x07" C BIND_BOB_3), 0,
      "tls=none starttls=null inj=0 | SIMPLE cn=bob,dc=example,dc=org hunter2 unknown | SIMPLE "
      "cn=bob,dc=example,dc=org hunter2 unknown" },
    { "client gap inside a bind's operation keeps the framing",
      SCRIPT(C "0+\x02\x01\x02\x60\x26\x02\x01\x03\x04\x18"
               "cn=bob," G C C ",dc=org\x80\x07hunter2" BIND_BOB_3 S BIND_OK_2 BIND_OK_3),
      0, "tls=none starttls=null inj=0 | SIMPLE cn=bob,dc=example,dc=org hunter2 success" },
    { "client gap in a bind drops it", SCRIPT(C "0+\x02\x01\x02\x60" G C C BIND_BOB_3 S BIND_OK_3),
      0, "tls=none starttls=null inj=0 | SIMPLE cn=bob,dc=example,dc=org hunter2 success" },
    /* The exchange ends at the gap; the next bind starts anew, its credentials read as an
     * initial response, the challenge unknown. */
    { "gap in a sasl exchange ends it", SCRIPT(C CRAM_1 S CRAM_CH_1 G C C CRAM_2 S BIND_OK_2), 0,
      "tls=none starttls=null inj=0 | CRAM-MD5 tim - success "
      "resp=b913a602c7eda7a495b4e6e7334d3890" },
    /* A capture begun mid-session. */
    { "mid-session: nothing framed", SCRIPT(C "ret" BIND_BOB_2 S BIND_OK_2), PARSE_F_MIDSTREAM,
      "tls=none starttls=null inj=0" },
    /* Not LDAP. */
    { "http from the client", SCRIPT(C "GET / HTTP/1.1\r\n"), 0, "PARSE_ERROR" },
    { "a text greeting from the server", SCRIPT(S "220 mail.example.org ESMTP\r\n"), 0,
      "PARSE_ERROR" },
    { "an indefinite length", SCRIPT(C "0\x80\x02\x01\x01\x60\x80"), 0, "PARSE_ERROR" },
    { "a length of five octets", SCRIPT(C "0\x85\x00\x00\x00\x00\x10"), 0, "PARSE_ERROR" },
    { "a negative message id", SCRIPT(C "0\x05\x02\x01\x80\x42\x00"), 0, "PARSE_ERROR" },
    { "an operation longer than its message", SCRIPT(C "0\x05\x02\x01\x01\x60\x10"), 0,
      "PARSE_ERROR" },
    { "an operation tag LDAP lacks", SCRIPT(C "0\x05\x02\x01\x01\x62\x00"), 0, "PARSE_ERROR" },
    { "junk after a good message loses the direction",
      SCRIPT(C BIND_BOB_2 "junk" BIND_BOB_3 S BIND_OK_2 BIND_OK_3), 0,
      "tls=none starttls=null inj=0 | SIMPLE cn=bob,dc=example,dc=org hunter2 success" },
};

/* LDAP's part of a credential: the anonymous flag. */
static void describe_cred(const struct credential *c, char *out, size_t cap)
{
    if (c->is_anonymous) {
        script_appendf(out, cap, " anon");
    }
    if (c->is_truncated) {
        script_appendf(out, cap, " truncated");
    }
}

/* ---- limits and counters, on a parser fed by hand ---- */

/* Appends a BER length in its 0x84 long form. */
static size_t put_len4(uint8_t *p, size_t len)
{
    p[0] = 0x84;
    p[1] = (uint8_t)(len >> 24);
    p[2] = (uint8_t)(len >> 16);
    p[3] = (uint8_t)(len >> 8);
    p[4] = (uint8_t)len;
    return 5;
}

/* A simple bind, message 2, whose operation is op_len bytes: DN "u", the password filling the
 * rest. Returns its length in buf (op_len + 32 bytes at least). */
static size_t big_bind(uint8_t *buf, size_t op_len)
{
    size_t pw_len = op_len - 3 - 3 - 6;
    size_t n = 0;
    buf[n++] = 0x30;
    n += put_len4(buf + n, 3 + 6 + op_len);
    memcpy(buf + n, "\x02\x01\x02\x60", 4);
    n += 4;
    n += put_len4(buf + n, op_len);
    memcpy(buf + n, "\x02\x01\x03\x04\x01u\x80", 7);
    n += 7;
    n += put_len4(buf + n, pw_len);
    memset(buf + n, 'p', pw_len);
    return n + pw_len;
}

/* A bind of exactly len operation bytes: read at LDAP_MAX_MESSAGE, skipped and counted one
 * past; the bind after it is read either way, and byte by byte the buffer is charged and
 * released. */
static void bind_sized(size_t op_len, bool want_cred, size_t piece)
{
    struct script_fx f;
    script_fx_open(&f, &ldap_parser_ops, 0);
    uint8_t *big = malloc(op_len + 32);
    CHECK(big != NULL);
    if (big == NULL) {
        script_fx_free(&f);
        return;
    }
    size_t n = big_bind(big, op_len);
    bool was_charged = false;
    for (size_t off = 0; off < n; off += piece) {
        script_fx_feed(&f, PARSE_DIR_CLIENT, big + off, n - off < piece ? n - off : piece);
        was_charged = was_charged || f.st.line_mem > 0;
    }
    CHECK_EQ_U(f.st.line_mem, 0);
    CHECK(was_charged == (want_cred && piece < n));
    script_fx_feed(&f, PARSE_DIR_SERVER, SCRIPT(BIND_OK_2));
    script_fx_feed(&f, PARSE_DIR_CLIENT, SCRIPT(BIND_BOB_3));
    script_fx_feed(&f, PARSE_DIR_SERVER, SCRIPT(BIND_OK_3));
    script_fx_end(&f);
    CHECK_EQ_U(f.st.ldap_overlong, want_cred ? 0 : 1);
    CHECK_EQ_U(f.s->n_creds, want_cred ? 2 : 1);
    if (f.s->n_creds == 2) {
        const struct credential *c = f.s->creds[0];
        CHECK_EQ_U(c->secret_len, FINDING_MAX_SECRET);
        CHECK(c->is_truncated);
        CHECK_EQ_U(c->result, FINDING_RESULT_SUCCESS);
    }
    free(big);
    script_fx_free(&f);
}

static void bind_at_limit(void)
{
    bind_sized(LDAP_MAX_MESSAGE, true, LDAP_MAX_MESSAGE + 100);
    bind_sized(LDAP_MAX_MESSAGE, true, 1000);
}

static void bind_past_limit(void)
{
    bind_sized(LDAP_MAX_MESSAGE + 1, false, LDAP_MAX_MESSAGE + 100);
    bind_sized(LDAP_MAX_MESSAGE + 1, false, 1000);
}

/* A search result entry of 16 MB, announced in its header and fed in 64 KB segments: nothing is
 * buffered, and the bind after it is read. */
static void big_search_costs_nothing(void)
{
    struct script_fx f;
    script_fx_open(&f, &ldap_parser_ops, 0);
    size_t body = (size_t)16 << 20;
    uint8_t head[32];
    size_t n = 0;
    head[n++] = 0x30;
    n += put_len4(head + n, 3 + 1 + 5 + body);
    memcpy(head + n, "\x02\x01\x02\x64", 4);
    n += 4;
    n += put_len4(head + n, body);
    script_fx_feed(&f, PARSE_DIR_CLIENT, SCRIPT(SEARCH_2));
    script_fx_feed(&f, PARSE_DIR_SERVER, head, n);
    static uint8_t chunk[65536];
    memset(chunk, 0x30, sizeof chunk);
    for (size_t off = 0; off < body; off += sizeof chunk) {
        enum parse_status r = script_fx_feed(&f, PARSE_DIR_SERVER, chunk, sizeof chunk);
        CHECK(r == (off + sizeof chunk < body ? PARSE_NEED_MORE : PARSE_OK));
        CHECK_EQ_U(f.st.line_mem, 0);
    }
    CHECK(script_fx_feed(&f, PARSE_DIR_SERVER, SCRIPT(DONE_2)) == PARSE_OK);
    script_fx_feed(&f, PARSE_DIR_CLIENT, SCRIPT(BIND_BOB_3));
    script_fx_feed(&f, PARSE_DIR_SERVER, SCRIPT(BIND_OK_3));
    CHECK_EQ_U(f.st.ldap_messages, 5);
    CHECK_EQ_U(f.s->n_creds, 1);
    if (f.s->n_creds == 1) {
        CHECK_EQ_U(f.s->creds[0]->result, FINDING_RESULT_SUCCESS);
    }
    script_fx_close(&f);
}

/* PARSE_MAX_PENDING binds are tracked; the next is counted and its response pairs with
 * nothing. */
static void pending_limit(void)
{
    struct script_fx f;
    script_fx_open(&f, &ldap_parser_ops, 0);
    for (int i = 0; i < PARSE_MAX_PENDING; i++) {
        script_fx_feed(&f, PARSE_DIR_CLIENT, SCRIPT(BIND_ANON_1));
    }
    CHECK_EQ_U(f.st.pending_overflow, 0);
    script_fx_feed(&f, PARSE_DIR_CLIENT, SCRIPT(BIND_ANON_1));
    CHECK_EQ_U(f.st.pending_overflow, 1);
    script_fx_close(&f);
}

static void credential_limit(void)
{
    struct script_fx f;
    script_fx_open(&f, &ldap_parser_ops, 0);
    for (int i = 0; i < FINDING_MAX_CREDS + 3; i++) {
        script_fx_feed(&f, PARSE_DIR_CLIENT, SCRIPT(BIND_BOB_2));
        script_fx_feed(&f, PARSE_DIR_SERVER, SCRIPT(BIND_UNWILLING_2));
    }
    CHECK_EQ_U(f.s->n_creds, FINDING_MAX_CREDS);
    CHECK_EQ_U(f.s->creds_dropped, 3);
    CHECK_EQ_U(f.st.creds_dropped, 3);
    script_fx_close(&f);
}

/* What each kind of odd input bumps. */
static void counters(void)
{
    struct script_fx f;
    script_fx_open(&f, &ldap_parser_ops, 0);
    script_fx_feed(&f, PARSE_DIR_CLIENT, SCRIPT(SEARCH_2 UNBIND_3));
    CHECK_EQ_U(f.st.ldap_messages, 2);
    /* A bind whose authentication choice is cut: read as a message, its BER bad. */
    script_fx_feed(&f, PARSE_DIR_CLIENT, SCRIPT("0\x0a\x02\x01\x05\x60\x05\x02\x01\x03\x04\x00"));
    CHECK_EQ_U(f.st.ldap_bad_ber, 1);
    script_fx_feed(&f, PARSE_DIR_CLIENT, SCRIPT(STARTTLS_1 BIND_BOB_2));
    CHECK_EQ_U(f.st.starttls_injection, 1);
    CHECK_EQ_U(f.s->injected_commands, 1);
    ldap_parser_ops.gap(f.p, PARSE_DIR_SERVER, 5);
    CHECK_EQ_U(f.st.gaps, 1);
    CHECK_EQ_U(f.s->n_creds, 0);
    script_fx_close(&f);
}

/* The parse status: NEED_MORE inside a message, OK at a message boundary; the TLS verdict
 * ends the parse. */
static void statuses(void)
{
    struct script_fx f;
    script_fx_open(&f, &ldap_parser_ops, 0);
    static const char bind[] = BIND_BOB_2;
    CHECK(script_fx_feed(&f, PARSE_DIR_CLIENT, bind, 3) == PARSE_NEED_MORE);
    CHECK(script_fx_feed(&f, PARSE_DIR_CLIENT, bind + 3, 20) == PARSE_NEED_MORE);
    CHECK(script_fx_feed(&f, PARSE_DIR_CLIENT, bind + 23, sizeof bind - 24) == PARSE_OK);
    CHECK(script_fx_feed(&f, PARSE_DIR_CLIENT, SCRIPT(STARTTLS_1)) == PARSE_OK);
    CHECK(script_fx_feed(&f, PARSE_DIR_SERVER, SCRIPT(BIND_OK_2 STARTTLS_OK_1)) == PARSE_OK);
    CHECK(!f.s->is_parse_done);
    /* At TLS 1.2 the certificate comes next: the ServerHelloDone says there is none. */
    static const char hello[] = HELLO_TLS12 "\x16\x03\x03\x00\x04\x0e\x00\x00\x00";
    script_fx_feed(&f, PARSE_DIR_SERVER, hello, sizeof hello - 1);
    CHECK(f.s->is_parse_done);
    CHECK_EQ_U(f.s->tls_version, 0x0303);
    script_fx_close(&f);
}

/* Free without end, with a password half gathered, and free(NULL). */
static void free_paths(void)
{
    struct session *s = finding_new();
    struct parse_stats st;
    memset(&st, 0, sizeof st);
    struct parse_ctx ctx = { s, &st, 0, NULL, NULL };
    void *p = parse_open(&ldap_parser_ops, &ctx);
    size_t consumed;
    static const char bind[] = BIND_BOB_2;
    ldap_parser_ops.feed(p, PARSE_DIR_CLIENT, (const uint8_t *)bind, sizeof bind - 3, &consumed);
    CHECK(st.line_mem > 0);
    ldap_parser_ops.free_parser(p);
    ldap_parser_ops.free_parser(NULL);
    CHECK_EQ_U(st.line_mem, 0);
    CHECK_EQ_U(s->n_creds, 0);
    finding_free(s);
}

/* ---- the content test ---- */

struct opens_case {
    const char *bytes;
    size_t len;
    enum line_prefix want;
};

static void opens_cases(void)
{
    static const struct opens_case oc[] = {
        { SCRIPT(BIND_ADMIN), LINE_PREFIX_YES },
        { SCRIPT(BIND_ANON_1), LINE_PREFIX_YES },
        { SCRIPT(STARTTLS_1), LINE_PREFIX_YES },
        { SCRIPT(SEARCH_2), LINE_PREFIX_YES },
        { SCRIPT(PLAIN_1), LINE_PREFIX_YES },
        { "0\x84\x00\x00\x00", 5, LINE_PREFIX_SHORT },
        { "0\x0c\x02\x01\x01\x60\x07", 7, LINE_PREFIX_SHORT },
        { "", 0, LINE_PREFIX_SHORT },
        { SCRIPT(UNBIND_3), LINE_PREFIX_NO },
        { SCRIPT(BIND_OK_1), LINE_PREFIX_NO },
        { SCRIPT(NOTICE_0), LINE_PREFIX_NO },
        { SCRIPT("0\x0c\x02\x01\x01\x60\x07\x04\x01\x03\x04\x00\x80\x00"), LINE_PREFIX_NO },
        { SCRIPT("0\x80\x02\x01\x01\x60\x80\x02\x01\x03"), LINE_PREFIX_NO },
        { SCRIPT("0123456789abcdef"), LINE_PREFIX_NO },
        { SCRIPT("GET / HTTP/1.1\r\n"), LINE_PREFIX_NO },
        { SCRIPT("\x05\x01\x00"), LINE_PREFIX_NO },
        { SCRIPT(CLIENT_HELLO), LINE_PREFIX_NO },
    };
    for (size_t i = 0; i < sizeof oc / sizeof oc[0]; i++) {
        enum line_prefix m = ldap_opens((const uint8_t *)oc[i].bytes, oc[i].len);
        if (m != oc[i].want) {
            fprintf(stderr, "  case %zu: got %d, want %d\n", i, (int)m, (int)oc[i].want);
        }
        CHECK(m == oc[i].want);
    }
}

/* No prefix of a million random 16-byte strings is taken for LDAP, nor of those that begin
 * with the SEQUENCE tag. */
static void opens_random(void)
{
    uint64_t x = 0x9e3779b97f4a7c15u;
    size_t yes = 0;
    for (size_t i = 0; i < 1000000; i++) {
        uint8_t b[CLASSIFY_PREFIX_LEN];
        for (size_t k = 0; k < sizeof b; k++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b[k] = (uint8_t)x;
        }
        if (i % 2 == 0) {
            b[0] = 0x30;
        }
        yes += ldap_opens(b, sizeof b) == LINE_PREFIX_YES;
    }
    CHECK_EQ_U(yes, 0);
}

int main(void)
{
    script_run_table(&ldap_parser_ops, cases, sizeof cases / sizeof cases[0], describe_cred);
    RUN(bind_at_limit);
    RUN(bind_past_limit);
    RUN(big_search_costs_nothing);
    RUN(pending_limit);
    RUN(credential_limit);
    RUN(counters);
    RUN(statuses);
    RUN(free_paths);
    RUN(opens_cases);
    RUN(opens_random);
    return TEST_SUMMARY();
}
