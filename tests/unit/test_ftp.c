/* test_ftp.c - the FTP parser, table-driven (script.h): each script fed whole and with every chunk
 * cut into pieces of 1 to 64 bytes; all must give the same record. Then the limits and counters
 * on a parser fed by hand: overlong lines at LINE_MAX_LEN and one past, pending commands,
 * credentials, the TLS verdict ending the parse. */
#include "ftp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "script.h"
#include "test.h"

/* A TLS 1.2 ServerHello record (RFC 5246 section 7.4.1.3): legacy_version 0x0303, no
 * extensions. */
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

/* vsftpd 3.0.3's greeting and its FEAT reply with TLS configured. */
#define GREET S "220 (vsFTPd 3.0.3)\r\n"
#define FEAT_TLS                                                                                   \
    C "FEAT\r\n" S "211-Features:\r\n AUTH SSL\r\n AUTH TLS\r\n EPRT\r\n EPSV\r\n MDTM\r\n"        \
      " PASV\r\n PBSZ\r\n PROT\r\n REST STREAM\r\n SIZE\r\n TVFS\r\n UTF8\r\n211 End\r\n"
#define FEAT_PLAIN                                                                                 \
    C "FEAT\r\n" S "211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n PASV\r\n REST STREAM\r\n"         \
      " SIZE\r\n TVFS\r\n UTF8\r\n211 End\r\n"
#define LOGIN_OK                                                                                   \
    C "USER alice\r\n" S "331 Please specify the password.\r\n" C "PASS s3cret\r\n" S              \
      "230 Login successful.\r\n"

static const struct script_case cases[] = {
    /* RFC 959 section 7, the typical scenario, and section 5.4's 1yz before a transfer. */
    { "rfc 959 scenario",
      SCRIPT(S "220 Service ready\r\n" C "USER doe\r\n" S "331 User name ok, need password\r\n" C
               "PASS mumble\r\n" S "230 User logged in\r\n" C "RETR file\r\n" S
               "150 File status okay; about to open data connection\r\n"
               "226 Closing data connection\r\n" C "QUIT\r\n" S "221 Goodbye\r\n"),
      0, "tls=none starttls=null inj=0 | USER/PASS doe mumble success" },
    { "530 failure, then success",
      SCRIPT(GREET C "USER alice\r\n" S "331 Please specify the password.\r\n" C
                     "PASS wrong-password\r\n" S "530 Login incorrect.\r\n" LOGIN_OK),
      0,
      "tls=none starttls=null inj=0 | USER/PASS alice wrong-password failure | USER/PASS alice "
      "s3cret success" },
    { "pass without reply", SCRIPT(GREET C "USER a\r\n" S "331 ok\r\n" C "PASS x\r\n"), 0,
      "tls=none starttls=null inj=0 | USER/PASS a x unknown" },
    { "lower case, password with spaces, 202 superfluous",
      SCRIPT(GREET C "user bob\r\n" S "331 ok\r\n" C "pass  two words \r\n" S
                     "202 Already logged in\r\n"),
      0, "tls=none starttls=null inj=0 | USER/PASS bob  two words  success" },
    { "empty password", SCRIPT(GREET C "USER bob\r\n" S "331 ok\r\n" C "PASS\r\n" S "530 no\r\n"),
      0, "tls=none starttls=null inj=0 | USER/PASS bob  failure" },
    { "pass with no user", SCRIPT(GREET C "PASS x\r\n" S "503 Login with USER first.\r\n"), 0,
      "tls=none starttls=null inj=0 | USER/PASS  x failure" },
    { "user alone logs in: no credential",
      SCRIPT(GREET C "USER alice\r\n" S "230 no password needed\r\n" C "PWD\r\n" S "257 \"/\"\r\n"),
      0, "tls=none starttls=null inj=0" },
    /* RFC 959 section 4.1.1: 332 asks for an account; ACCT's reply settles the login. */
    { "331, 332, then ACCT",
      SCRIPT(GREET C "USER doe\r\n" S "331 need password\r\n" C "PASS mumble\r\n" S
                     "332 Need account for login.\r\n" C "ACCT billing\r\n" S
                     "230 User logged in\r\n"),
      0, "tls=none starttls=null inj=0 | USER/PASS doe mumble success" },
    { "ACCT refused",
      SCRIPT(GREET C "USER doe\r\n" S "331 need password\r\n" C "PASS mumble\r\n" S
                     "332 Need account for login.\r\n" C "ACCT nobody\r\n" S
                     "530 Not logged in.\r\n"),
      0, "tls=none starttls=null inj=0 | USER/PASS doe mumble failure" },
    { "ACCT without 332 settles nothing",
      SCRIPT(GREET C "USER doe\r\n" S "331 need password\r\n" C "PASS mumble\r\n" S "530 no\r\n" C
                     "ACCT x\r\n" S "230 ok\r\n"),
      0, "tls=none starttls=null inj=0 | USER/PASS doe mumble failure" },
    /* RFC 959 section 4.2: the multi-line example; only the line "<code> " ends a reply. */
    { "rfc 959 multi-line reply: the last line rules",
      SCRIPT(GREET C "USER a\r\n" S "331 ok\r\n" C "PASS x\r\n" S
                     "230-First line\r\nSecond line\r\n  234 A line beginning with numbers\r\n"
                     "530 not the end\r\n230-still not\r\n230 The last line\r\n" C "NOOP\r\n" S
                     "200 ok\r\n"),
      0, "tls=none starttls=null inj=0 | USER/PASS a x success" },
    { "multi-line 530 holding 230 text",
      SCRIPT(GREET C "USER a\r\n" S "331 ok\r\n" C "PASS x\r\n" S
                     "530-Login incorrect.\r\n230 Login successful.\r\n530\r\n"),
      0, "tls=none starttls=null inj=0 | USER/PASS a x failure" },
    { "multi-line greeting, client pipelines before its end",
      SCRIPT(S "220-Welcome\r\n230 not a reply\r\n" C "USER a\r\nPASS x\r\n" S
               "220 ready\r\n331 ok\r\n530 no\r\n"),
      0, "tls=none starttls=null inj=0 | USER/PASS a x failure" },
    { "120 before the greeting",
      SCRIPT(S "120 Service ready in 1 minute\r\n" C "USER a\r\n" S "220 ready\r\n331 ok\r\n" C
               "PASS x\r\n" S "230 ok\r\n"),
      0, "tls=none starttls=null inj=0 | USER/PASS a x success" },
    { "pipelined login and commands",
      SCRIPT(GREET C "USER a\r\nPASS x\r\nSYST\r\nTYPE I\r\nPWD\r\n" S
                     "331 ok\r\n230 ok\r\n215 UNIX Type: L8\r\n200 Switching to Binary mode.\r\n"
                     "257 \"/\" is the current directory\r\n"),
      0, "tls=none starttls=null inj=0 | USER/PASS a x success" },
    { "pipelined after a transfer's 150",
      SCRIPT(GREET LOGIN_OK C "PASV\r\nRETR f\r\nUSER b\r\nPASS y\r\n" S
                              "227 Entering Passive Mode (127,0,0,1,200,10).\r\n150 Opening\r\n"
                              "226 Transfer complete.\r\n331 ok\r\n530 no\r\n"),
      0, "tls=none starttls=null inj=0 | USER/PASS alice s3cret success | USER/PASS b y failure" },
    { "HELP, SITE and STAT replies are text",
      SCRIPT(GREET C
             "HELP\r\n" S
             "214-The following commands are recognized.\r\n ABOR ACCT ALLO APPE CDUP\r\n"
             " USER PASS AUTH\r\n230 Login successful.\r\n214 Help OK.\r\n" C "SITE HELP\r\n" S
             "214-CHMOD UMASK\r\n530 x\r\n214 ok\r\n" C "STAT .\r\n" S
             "213-Status follows:\r\n-rw-r--r-- 1 0 0 5 x\r\n230 fake\r\n213 End\r\n" LOGIN_OK),
      0, "tls=none starttls=null inj=0 | USER/PASS alice s3cret success" },
    { "telnet IP and Synch before ABOR",
      SCRIPT(GREET LOGIN_OK C "RETR big\r\n" S "150 Opening\r\n" C "\xff\xf4\xff\xf2"
                              "ABOR\r\nUSER b\r\nPASS y\r\n" S "426 aborted\r\n226 ABOR ok\r\n"
                              "331 ok\r\n230 ok\r\n"),
      0, "tls=none starttls=null inj=0 | USER/PASS alice s3cret success | USER/PASS b y success" },
    /* RFC 1635: anonymous or ftp, any case, with an e-mail address as password. */
    { "anonymous",
      SCRIPT(GREET C "USER anonymous\r\n" S "331 Please specify the password.\r\n" C
                     "PASS guest@example.org\r\n" S "230 Login successful.\r\n"),
      0, "tls=none starttls=null inj=0 | USER/PASS anonymous guest@example.org success anon" },
    { "ftp in upper case, then a real login",
      SCRIPT(GREET C "USER FTP\r\n" S "331 ok\r\n" C "PASS -wget@\r\n" S "530 no\r\n" LOGIN_OK), 0,
      "tls=none starttls=null inj=0 | USER/PASS FTP -wget@ failure anon | USER/PASS alice "
      "s3cret success" },
    { "anonymous-like names are not anonymous",
      SCRIPT(GREET C "USER anonymousx\r\n" S "331 ok\r\n" C "PASS a\r\n" S "530 no\r\n" C
                     "USER ftpuser\r\n" S "331 ok\r\n" C "PASS b\r\n" S "530 no\r\n" C
                     "USER Anonymous \r\n" S "331 ok\r\n" C "PASS c\r\n" S "230 ok\r\n"),
      0,
      "tls=none starttls=null inj=0 | USER/PASS anonymousx a failure | USER/PASS ftpuser b "
      "failure | USER/PASS Anonymous  c success anon" },
    /* RFC 4217: AUTH TLS, 234, then TLS; FEAT lists AUTH TLS. */
    { "auth tls used, tls 1.3",
      SCRIPT(GREET FEAT_TLS C "AUTH TLS\r\n" S
                              "234 Proceed with negotiation.\r\n" C CLIENT_HELLO S HELLO_TLS13),
      0, "tls=starttls starttls=used inj=0 v=0304" },
    { "auth ssl used without feat, tls 1.2",
      SCRIPT(GREET C "AUTH SSL\r\n" S
                     "234 Proceed with negotiation.\r\n" C CLIENT_HELLO S HELLO_TLS12),
      0, "tls=starttls starttls=used inj=0 v=0303" },
    { "auth tls refused, login in the clear",
      SCRIPT(GREET C "AUTH TLS\r\n" S "530 Please login with USER and PASS.\r\n" LOGIN_OK), 0,
      "tls=none starttls=refused inj=0 | USER/PASS alice s3cret success" },
    { "auth tls refused with 4yz",
      SCRIPT(GREET FEAT_TLS C "AUTH TLS\r\n" S "431 Unable to accept security mechanism\r\n"), 0,
      "tls=none starttls=refused inj=0" },
    { "feat offers auth tls, not used", SCRIPT(GREET FEAT_TLS LOGIN_OK), 0,
      "tls=none starttls=offered-not-used inj=0 | USER/PASS alice s3cret success" },
    { "feat without auth", SCRIPT(GREET FEAT_PLAIN LOGIN_OK), 0,
      "tls=none starttls=not-offered inj=0 | USER/PASS alice s3cret success" },
    { "feat's one-line reply", SCRIPT(GREET C "FEAT\r\n" S "211 No features\r\n"), 0,
      "tls=none starttls=not-offered inj=0" },
    { "feat not implemented: cannot tell",
      SCRIPT(GREET C "FEAT\r\n" S "502 Command not implemented.\r\n" LOGIN_OK), 0,
      "tls=none starttls=null inj=0 | USER/PASS alice s3cret success" },
    { "feat: auth with a list of names, lower case",
      SCRIPT(GREET C "feat\r\n" S "211-Extensions supported:\r\n  auth tls-c;ssl;tls-p;\r\n"
                     "211 END\r\n"),
      0, "tls=none starttls=offered-not-used inj=0" },
    { "feat: auth gssapi only, and tls named elsewhere",
      SCRIPT(GREET C "FEAT\r\n" S "211-Features:\r\n AUTH GSSAPI\r\n TLS\r\n AUTHTLS\r\n"
                     "211 End\r\n"),
      0, "tls=none starttls=not-offered inj=0" },
    { "help listing auth tls is no feat",
      SCRIPT(GREET C "HELP\r\n" S "214-Commands:\r\n AUTH TLS\r\n214 ok\r\n"), 0,
      "tls=none starttls=null inj=0" },
    { "auth gssapi is not starttls",
      SCRIPT(GREET C "AUTH GSSAPI\r\n" S
                     "334 Using authentication type GSSAPI; ADAT must follow\r\n" C
                     "ADAT YIIB\r\n" S "535 failed\r\n" LOGIN_OK),
      0, "tls=none starttls=null inj=0 | USER/PASS alice s3cret success" },
    /* Text after AUTH TLS: the client's cleartext commands before its handshake are injected;
     * the server's bytes after 234 are TLS, whatever they look like. */
    { "commands pipelined after auth tls",
      SCRIPT(GREET C "AUTH TLS\r\nUSER evil\r\nPASS evil\r\n" S "234 Proceed\r\n"), 0,
      "tls=starttls starttls=used inj=2" },
    { "commands after 234, before the handshake",
      SCRIPT(GREET C "AUTH TLS\r\n" S "234 Proceed\r\n" C
                     "USER evil\r\nPASS evil\r\n" CLIENT_HELLO S HELLO_TLS12),
      0, "tls=starttls starttls=used inj=2 v=0303" },
    { "text after 234 is not read",
      SCRIPT(GREET C "AUTH TLS\r\n" S "234 Proceed\r\n331 ok\r\n230 fake\r\n" C CLIENT_HELLO), 0,
      "tls=starttls starttls=used inj=0" },
    { "auth tls answered by a lost reply: the server's tls says it",
      SCRIPT(GREET C "AUTH TLS\r\n" G S S HELLO_TLS12), 0,
      "tls=starttls starttls=used inj=0 v=0303" },
    /* Implicit TLS: a ClientHello where a command should be, or port 990. */
    { "tls client hello on port 21", SCRIPT(C CLIENT_HELLO S HELLO_TLS12), 0,
      "tls=implicit starttls=n/a inj=0 v=0303" },
    { "implicit ftps (990)", SCRIPT(C CLIENT_HELLO S HELLO_TLS13), PARSE_F_IMPLICIT_TLS,
      "tls=implicit starttls=n/a inj=0 v=0304" },
    { "client tls after a login is not implicit",
      SCRIPT(GREET LOGIN_OK C CLIENT_HELLO S "500 ?\r\n"), 0,
      "tls=none starttls=null inj=0 | USER/PASS alice s3cret success" },
    /* Gaps. */
    { "server gap before the reply makes it unknown",
      SCRIPT(GREET C "USER a\r\n" S "331 ok\r\n" C "PASS x\r\n" G S S "230 ok\r\n"), 0,
      "tls=none starttls=null inj=0 | USER/PASS a x unknown" },
    { "server gap inside a multi-line reply",
      SCRIPT(GREET C "USER a\r\n" S "331 ok\r\n" C "PASS x\r\n" S "230-Welcome" G S S
                     "more text\r\n230 end\r\n" C "USER b\r\n" S "331 ok\r\n" C "PASS y\r\n" S
                     "530 no\r\n"),
      0, "tls=none starttls=null inj=0 | USER/PASS a x unknown | USER/PASS b y failure" },
    { "client gap in a line resynchronises",
      SCRIPT(GREET C "USER a" G C C "junk\r\nUSER b\r\n" S "500 ?\r\n331 ok\r\n" C "PASS y\r\n" S
                     "230 ok\r\n"),
      0, "tls=none starttls=null inj=0 | USER/PASS b y success" },
    { "client gap forgets the pending commands",
      SCRIPT(GREET C "USER a\r\n" S "331 ok\r\n" C "PASS x\r\n" G C S "530 no\r\n" C
                     "SYST\r\nPASS y\r\n" S "215 UNIX\r\n230 ok\r\n"),
      0, "tls=none starttls=null inj=0 | USER/PASS a x unknown | USER/PASS a y success" },
    { "gap in the server's tls",
      SCRIPT(GREET C "AUTH TLS\r\n" S "234 go\r\n" C CLIENT_HELLO S "\x16\x03\x03" G S S "AAAA"), 0,
      "tls=starttls starttls=used inj=0" },
    { "gap in the client's tls changes nothing",
      SCRIPT(GREET FEAT_TLS C "AUTH TLS\r\n" CLIENT_HELLO G C S "234 go\r\n" HELLO_TLS12), 0,
      "tls=starttls starttls=used inj=0 v=0303" },
    /* A capture begun mid-session. */
    { "mid-session: inside a multi-line reply",
      SCRIPT(S " AUTH TLS\r\n PBSZ\r\n211 End\r\n" C "PASS x\r\n" S "230 ok\r\n"),
      PARSE_F_MIDSTREAM, "tls=none starttls=null inj=0 | USER/PASS  x success" },
    { "mid-session: a reply to a command before the capture",
      SCRIPT(S "226 Transfer complete.\r\n" C "USER b\r\n" S "331 ok\r\n" C "PASS y\r\n" S
               "530 no\r\n"),
      PARSE_F_MIDSTREAM, "tls=none starttls=null inj=0 | USER/PASS b y failure" },
    { "mid-session: no greeting taken", SCRIPT(C "PASS x\r\n" S "230 ok\r\n"), PARSE_F_MIDSTREAM,
      "tls=none starttls=null inj=0 | USER/PASS  x success" },
    /* Not FTP. */
    { "ssh on port 21", SCRIPT(S "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"), 0, "PARSE_ERROR" },
    { "a reply code with no separator", SCRIPT(S "2201 x\r\n"), 0, "PARSE_ERROR" },
    { "a stray line later is ignored", SCRIPT(GREET S "hello\r\n" LOGIN_OK), 0,
      "tls=none starttls=null inj=0 | USER/PASS alice s3cret success" },
};

/* FTP's part of a credential: the anonymous flag. */
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

/* A PASS line of exactly len bytes (CR LF excluded): read at LINE_MAX_LEN, discarded and counted
 * one past; the login after it is read either way. */
static void pass_line_sized(size_t len, bool want_cred)
{
    struct script_fx f;
    script_fx_open(&f, &ftp_parser_ops, 0);
    uint8_t *big = malloc(len);
    CHECK(big != NULL);
    if (big == NULL) {
        script_fx_free(&f);
        return;
    }
    memset(big, 'p', len);
    memcpy(big, "PASS ", 5);
    script_fx_str(&f, PARSE_DIR_SERVER, "220 ready\r\n");
    script_fx_str(&f, PARSE_DIR_CLIENT, "USER u\r\n");
    script_fx_feed(&f, PARSE_DIR_CLIENT, big, len);
    script_fx_str(&f, PARSE_DIR_CLIENT, "\r\nPASS y\r\n");
    script_fx_str(&f, PARSE_DIR_SERVER, "331 ok\r\n530 no\r\n230 ok\r\n");
    script_fx_end(&f);
    CHECK_EQ_U(f.st.overlong_lines, want_cred ? 0 : 1);
    CHECK_EQ_U(f.s->n_creds, want_cred ? 2 : 1);
    if (f.s->n_creds == 2) {
        const struct credential *c = f.s->creds[0];
        size_t secret = len - 5;
        CHECK_EQ_U(c->secret_len, secret < FINDING_MAX_SECRET ? secret : FINDING_MAX_SECRET);
        CHECK(c->is_truncated);
        CHECK_EQ_U(c->result, FINDING_RESULT_FAILURE);
        CHECK_EQ_U(f.s->creds[1]->result, FINDING_RESULT_SUCCESS);
    } else if (f.s->n_creds == 1) {
        /* The overlong PASS gives nothing, but keeps its place: the 530 is its reply. */
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

/* An overlong server line inside a multi-line reply is dropped; the reply still ends. */
static void overlong_server_line(void)
{
    struct script_fx f;
    script_fx_open(&f, &ftp_parser_ops, 0);
    uint8_t big[LINE_MAX_LEN + 100];
    memset(big, 'A', sizeof big);
    script_fx_str(&f, PARSE_DIR_SERVER, "220 ready\r\n");
    script_fx_str(&f, PARSE_DIR_CLIENT, "USER u\r\nPASS p\r\n");
    script_fx_str(&f, PARSE_DIR_SERVER, "331 ok\r\n230-Welcome\r\n");
    script_fx_feed(&f, PARSE_DIR_SERVER, big, sizeof big);
    script_fx_str(&f, PARSE_DIR_SERVER, "\r\n230 done\r\n");
    CHECK_EQ_U(f.st.overlong_lines, 1);
    CHECK_EQ_U(f.s->n_creds, 1);
    if (f.s->n_creds == 1) {
        CHECK_EQ_U(f.s->creds[0]->result, FINDING_RESULT_SUCCESS);
    }
    script_fx_close(&f);
}

/* PARSE_MAX_PENDING commands are tracked; the next is counted and its reply pairs with nothing.
 * The queue works on after it. */
static void pending_limit(void)
{
    struct script_fx f;
    script_fx_open(&f, &ftp_parser_ops, 0);
    script_fx_str(&f, PARSE_DIR_SERVER, "220 ready\r\n");
    for (int i = 0; i < PARSE_MAX_PENDING; i++) {
        script_fx_str(&f, PARSE_DIR_CLIENT, "NOOP\r\n");
    }
    CHECK_EQ_U(f.st.pending_overflow, 0);
    script_fx_str(&f, PARSE_DIR_CLIENT, "NOOP\r\n");
    CHECK_EQ_U(f.st.pending_overflow, 1);
    for (int i = 0; i < PARSE_MAX_PENDING; i++) {
        script_fx_str(&f, PARSE_DIR_SERVER, "200 ok\r\n");
    }
    script_fx_str(&f, PARSE_DIR_CLIENT, "USER u\r\nPASS p\r\n");
    script_fx_str(&f, PARSE_DIR_SERVER, "331 ok\r\n530 no\r\n");
    CHECK_EQ_U(f.s->n_creds, 1);
    if (f.s->n_creds == 1) {
        CHECK_EQ_U(f.s->creds[0]->result, FINDING_RESULT_FAILURE);
    }
    script_fx_close(&f);
}

static void credential_limit(void)
{
    struct script_fx f;
    script_fx_open(&f, &ftp_parser_ops, 0);
    script_fx_str(&f, PARSE_DIR_SERVER, "220 ready\r\n");
    for (int i = 0; i < FINDING_MAX_CREDS + 3; i++) {
        script_fx_str(&f, PARSE_DIR_CLIENT, "USER u\r\nPASS x\r\n");
        script_fx_str(&f, PARSE_DIR_SERVER, "331 ok\r\n530 no\r\n");
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
    script_fx_open(&f, &ftp_parser_ops, 0);
    script_fx_str(&f, PARSE_DIR_SERVER, "220 ready\r\n");
    script_fx_str(&f, PARSE_DIR_CLIENT, "SYST\r\nEPSV\r\nMLSD\r\nsize x\r\nXPWD\r\n");
    CHECK_EQ_U(f.st.unknown_commands, 0);
    script_fx_str(&f, PARSE_DIR_CLIENT, "LOGIN a b\r\n\r\nEHLO x\r\n");
    CHECK_EQ_U(f.st.unknown_commands, 3);
    CHECK_EQ_U(f.st.lines, 9);
    script_fx_str(&f, PARSE_DIR_CLIENT, "AUTH TLS\r\nUSER x\r\n");
    CHECK_EQ_U(f.st.starttls_injection, 1);
    CHECK_EQ_U(f.s->injected_commands, 1);
    ftp_parser_ops.gap(f.p, PARSE_DIR_SERVER, 5);
    CHECK_EQ_U(f.st.gaps, 1);
    CHECK_EQ_U(f.s->n_creds, 0);
    script_fx_close(&f);
}

/* The sniffer's verdict ends the parse: is_parse_done is set, and not before. */
static void parse_done_after_tls(void)
{
    struct script_fx f;
    script_fx_open(&f, &ftp_parser_ops, 0);
    script_fx_str(&f, PARSE_DIR_SERVER, "220 ready\r\n");
    script_fx_str(&f, PARSE_DIR_CLIENT, "AUTH TLS\r\n");
    script_fx_str(&f, PARSE_DIR_SERVER, "234 go\r\n");
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

/* The parse status: NEED_MORE while a line is partial, OK on a line boundary. */
static void statuses(void)
{
    struct script_fx f;
    script_fx_open(&f, &ftp_parser_ops, 0);
    CHECK(script_fx_str(&f, PARSE_DIR_SERVER, "220 rea") == PARSE_NEED_MORE);
    CHECK(script_fx_str(&f, PARSE_DIR_SERVER, "dy\r\n") == PARSE_OK);
    CHECK(script_fx_str(&f, PARSE_DIR_CLIENT, "USER") == PARSE_NEED_MORE);
    CHECK(script_fx_str(&f, PARSE_DIR_CLIENT, " u\r\n") == PARSE_OK);
    script_fx_close(&f);
}

/* Free without end, with a password half read, and free(NULL). */
static void free_paths(void)
{
    struct session *s = finding_new();
    struct parse_stats st;
    memset(&st, 0, sizeof st);
    struct parse_ctx ctx = { s, &st, 0, NULL, NULL };
    void *p = parse_open(&ftp_parser_ops, &ctx);
    size_t consumed;
    const char *t = "USER a\r\nPASS sec";
    ftp_parser_ops.feed(p, PARSE_DIR_CLIENT, (const uint8_t *)t, strlen(t), &consumed);
    ftp_parser_ops.free_parser(p);
    ftp_parser_ops.free_parser(NULL);
    CHECK_EQ_U(s->n_creds, 0);
    finding_free(s);
}

/* The greeting's first line is the banner; none mid-stream. */
static void context(void)
{
    script_check_context(&ftp_parser_ops, SCRIPT(S "220 (vsFTPd 3.0.3)\r\n" C "USER a\r\n"), 0,
                         FINDING_CONTEXT_BANNER, "220 (vsFTPd 3.0.3)");
    script_check_context(&ftp_parser_ops, SCRIPT(S "220-Welcome\r\n220 go\r\n"), 0,
                         FINDING_CONTEXT_BANNER, "220-Welcome");
    script_check_context(&ftp_parser_ops, SCRIPT(S "331 pass\r\n"), PARSE_F_MIDSTREAM,
                         FINDING_CONTEXT_BANNER, NULL);
}

int main(void)
{
    script_run_table(&ftp_parser_ops, cases, sizeof cases / sizeof cases[0], describe_cred);
    RUN(line_at_limit);
    RUN(line_past_limit);
    RUN(overlong_server_line);
    RUN(pending_limit);
    RUN(credential_limit);
    RUN(counters);
    RUN(parse_done_after_tls);
    RUN(statuses);
    RUN(free_paths);
    RUN(context);
    return TEST_SUMMARY();
}
