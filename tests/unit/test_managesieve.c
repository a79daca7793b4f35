/* test_managesieve.c - the ManageSieve parser, table-driven (script.h): each script fed whole and
 * with every chunk cut into pieces of 1 to 64 bytes; all must give the same record. Then the
 * limits: SASL strings at MANAGESIEVE_MAX_STRING and one past, overlong lines, pending commands,
 * credentials, and a script literal of a billion bytes counted off without being kept. */
#include "managesieve.h"

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

/* Dovecot Pigeonhole's greeting, with and without STARTTLS. */
#define CAPS_HEAD                                                                                  \
    "\"IMPLEMENTATION\" \"Dovecot Pigeonhole\"\r\n\"SIEVE\" \"fileinto reject envelope\"\r\n"      \
    "\"NOTIFY\" \"mailto\"\r\n\"SASL\" \"PLAIN LOGIN\"\r\n"
#define CAPS_TAIL "\"VERSION\" \"1.0\"\r\nOK \"Dovecot ready.\"\r\n"
#define GREET_TLS S CAPS_HEAD "\"STARTTLS\"\r\n" CAPS_TAIL
#define GREET     S CAPS_HEAD CAPS_TAIL

/* base64 of "\0alice\0s3cret" (RFC 4616 PLAIN), 20 characters. */
#define PLAIN_ALICE "AGFsaWNlAHMzY3JldA=="

/* A script whose text looks like commands and answers: 94 bytes. */
#define TRAP_SCRIPT                                                                                \
    "require \"fileinto\";\r\n"                                                                    \
    "AUTHENTICATE \"PLAIN\" \"AGV2aWwAcGFzcw==\"\r\n"                                              \
    "OK\r\n"                                                                                       \
    "\"STARTTLS\"\r\n"                                                                             \
    "STARTTLS\r\n"                                                                                 \
    "{5+}\r\n"
_Static_assert(sizeof(TRAP_SCRIPT) - 1 == 94, "the literals below announce 94 bytes");

/* RFC 5804 section 2.6: the second PUTSCRIPT example's script, 99 bytes with CRLF line ends (the
 * RFC announces {110+}, which does not match its own text). */
#define RFC_SCRIPT                                                                                 \
    "require [\"fileinto\"];\r\n"                                                                  \
    "\r\n"                                                                                         \
    "if envelope :contains \"to\" \"tmartin+sent\" {\r\n"                                          \
    "  fileinto \"INBOX.sent\";\r\n"                                                               \
    "}\r\n"
_Static_assert(sizeof(RFC_SCRIPT) - 1 == 99, "the literal below announces 99 bytes");

/* RFC 2831 section 4's DIGEST-MD5 exchange, as RFC 5804 section 2.1 carries it. */
#define DIGEST_CHALLENGE                                                                           \
    "cmVhbG09ImVsd29vZC5pbm5vc29mdC5jb20iLG5vbmNlPSJPQTZNRzl0RVFHbTJoaCIscW9wPSJhdXRoIixhbGdvcml0" \
    "aG09bWQ1LXNlc3MsY2hhcnNldD11dGYtOA=="
#define DIGEST_RESPONSE                                                                            \
    "Y2hhcnNldD11dGYtOCx1c2VybmFtZT0iY2hyaXMiLHJlYWxtPSJlbHdvb2QuaW5ub3NvZnQuY29tIixub25jZT0iT0E2" \
    "TUc5dEVRR20yaGgiLG5jPTAwMDAwMDAxLGNub25jZT0iT0E2TUhYaDZWcVRyUmsiLGRpZ2VzdC11cmk9ImltYXAvZWx3" \
    "b29kLmlubm9zb2Z0LmNvbSIscmVzcG9uc2U9ZDM4OGRhZDkwZDRiYmQ3NjBhMTUyMzIxZjIxNDNhZjcscW9wPWF1dGg="
#define DIGEST_WANT                                                                                \
    "DIGEST-MD5 chris - success "                                                                  \
    "ch=realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\",qop=\"auth\",algorithm=md5-sess,"   \
    "charset=utf-8 resp=charset=utf-8,username=\"chris\",realm=\"elwood.innosoft.com\","           \
    "nonce=\"OA6MG9tEQGm2hh\",nc=00000001,cnonce=\"OA6MHXh6VqTrRk\",digest-uri=\"imap/"            \
    "elwood.innosoft.com\",response=d388dad90d4bbd760a152321f2143af7,qop=auth"

static const struct script_case cases[] = {
    /* The greeting and CAPABILITY (RFC 5804 sections 1.7 and 2.4) */
    { "greeting example (RFC 5804 1.7), nothing more",
      SCRIPT(S "\"IMPlemENTATION\" \"Example1 ManageSieved v001\"\r\n"
               "\"SASl\" \"DIGEST-MD5 GSSAPI\"\r\n\"SIeVE\" \"fileinto vacation\"\r\n"
               "\"StartTLS\"\r\n\"NOTIFY\" \"xmpp mailto\"\r\n\"MAXREDIRECTS\" \"5\"\r\n"
               "\"VERSION\" \"1.0\"\r\nOK\r\n" C "Logout\r\n" S "Ok\r\n"),
      0, "tls=none starttls=offered-not-used inj=0" },
    { "greeting without STARTTLS", SCRIPT(GREET C "LOGOUT\r\n" S "OK\r\n"), 0,
      "tls=none starttls=not-offered inj=0" },
    { "greeting BYE", SCRIPT(S "BYE \"Too many connections\"\r\n"), 0,
      "tls=none starttls=null inj=0" },
    { "capability command (RFC 5804 2.4) lists STARTTLS",
      SCRIPT(S "OK\r\n" C "CAPABILITY\r\n" S "\"IMPLEMENTATION\" \"Example1 ManageSieved v001\"\r\n"
               "\"VERSION\" \"1.0\"\r\n\"SASL\" \"PLAIN SCRAM-SHA-1 GSSAPI\"\r\n"
               "\"SIEVE\" \"fileinto vacation\"\r\n\"STARTTLS\"\r\nOK\r\n"),
      0, "tls=none starttls=offered-not-used inj=0" },
    { "capability value \"STARTTLS\" is no capability",
      SCRIPT(S "\"IMPLEMENTATION\" \"STARTTLS\"\r\n\"SASL\" \"PLAIN\"\r\nOK\r\n"), 0,
      "tls=none starttls=not-offered inj=0" },
    { "mid-session: a list after a login is no verdict",
      SCRIPT(C "AUTHENTICATE \"PLAIN\" \"" PLAIN_ALICE "\"\r\n" S "OK\r\n" C "CAPABILITY\r\n" S
               "\"IMPLEMENTATION\" \"x\"\r\n\"SASL\" \"\"\r\nOK\r\n"),
      PARSE_F_MIDSTREAM, "tls=none starttls=null inj=0 | PLAIN alice s3cret success" },
    { "mid-session: a list before a login is the pre-login one",
      SCRIPT(C "CAPABILITY\r\n" S "\"IMPLEMENTATION\" \"x\"\r\n\"SASL\" \"PLAIN\"\r\nOK\r\n" C
               "AUTHENTICATE \"PLAIN\" \"" PLAIN_ALICE "\"\r\n" S "NO\r\n"),
      PARSE_F_MIDSTREAM, "tls=none starttls=not-offered inj=0 | PLAIN alice s3cret failure" },
    { "mid-session: a listscripts line is no capability",
      SCRIPT(C "LISTSCRIPTS\r\n" S "\"STARTTLS\" ACTIVE\r\n\"summer\"\r\nOK\r\n"),
      PARSE_F_MIDSTREAM, "tls=none starttls=null inj=0" },

    /* AUTHENTICATE */
    { "plain, quoted initial response",
      SCRIPT(GREET_TLS C "AUTHENTICATE \"PLAIN\" \"" PLAIN_ALICE "\"\r\n" S
                         "OK \"Logged in.\"\r\n"),
      0, "tls=none starttls=offered-not-used inj=0 | PLAIN alice s3cret success" },
    { "plain, lower case, atom mechanism",
      SCRIPT(GREET C "authenticate plain \"" PLAIN_ALICE "\"\r\n" S "ok\r\n"), 0,
      "tls=none starttls=not-offered inj=0 | PLAIN alice s3cret success" },
    { "plain, {n+} literal initial response",
      SCRIPT(GREET C "AUTHENTICATE \"PLAIN\" {20+}\r\n" PLAIN_ALICE "\r\n" S "OK\r\n"), 0,
      "tls=none starttls=not-offered inj=0 | PLAIN alice s3cret success" },
    { "plain, {n} literal initial response, literal mechanism",
      SCRIPT(GREET C "AUTHENTICATE {5}\r\nPLAIN {20}\r\n" PLAIN_ALICE "\r\n" S "OK\r\n"), 0,
      "tls=none starttls=not-offered inj=0 | PLAIN alice s3cret success" },
    { "plain, continuation with an empty challenge",
      SCRIPT(GREET C "AUTHENTICATE \"PLAIN\"\r\n" S "\"\"\r\n" C
                     "\"AGJvYgBodW50ZXIyIHdpdGggc3BhY2Vz\"\r\n" S "OK\r\n"),
      0, "tls=none starttls=not-offered inj=0 | PLAIN bob hunter2 with spaces success" },
    { "plain, empty quoted initial response, then a literal response",
      SCRIPT(GREET C "AUTHENTICATE \"PLAIN\" \"\"\r\n" S "{0}\r\n\r\n" C "{20+}\r\n" PLAIN_ALICE
                     "\r\n" S "NO \"Authentication failed.\"\r\n"),
      0, "tls=none starttls=not-offered inj=0 | PLAIN alice s3cret failure" },
    { "login in steps, quoted strings",
      SCRIPT(GREET C "AUTHENTICATE \"LOGIN\"\r\n" S "\"VXNlcm5hbWU6\"\r\n" C "\"YWxpY2U=\"\r\n" S
                     "\"UGFzc3dvcmQ6\"\r\n" C "\"czNjcmV0\"\r\n" S "OK\r\n"),
      0, "tls=none starttls=not-offered inj=0 | LOGIN alice s3cret success" },
    { "login in steps, literals both ways",
      SCRIPT(GREET C "AUTHENTICATE \"LOGIN\"\r\n" S "{12}\r\nVXNlcm5hbWU6\r\n" C
                     "{8+}\r\nYWxpY2U=\r\n" S "{12}\r\nUGFzc3dvcmQ6\r\n" C "{8+}\r\nczNjcmV0\r\n" S
                     "OK\r\n"),
      0, "tls=none starttls=not-offered inj=0 | LOGIN alice s3cret success" },
    { "login, user as initial response",
      SCRIPT(GREET C "AUTHENTICATE \"LOGIN\" \"YWxpY2U=\"\r\n" S "\"UGFzc3dvcmQ6\"\r\n" C
                     "\"czNjcmV0\"\r\n" S "NO\r\n"),
      0, "tls=none starttls=not-offered inj=0 | LOGIN alice s3cret failure" },
    { "cancelled with \"*\", then plain",
      SCRIPT(GREET C "AUTHENTICATE \"LOGIN\"\r\n" S "\"VXNlcm5hbWU6\"\r\n" C "\"*\"\r\n" S
                     "NO \"Authentication aborted by client.\"\r\n" C
                     "AUTHENTICATE \"PLAIN\" \"" PLAIN_ALICE "\"\r\n" S "OK\r\n"),
      0, "tls=none starttls=not-offered inj=0 | PLAIN alice s3cret success" },
    { "failures then BYE (RFC 5804 2.1)",
      SCRIPT(GREET C "AUTHENTICATE \"PLAIN\" \"" PLAIN_ALICE "\"\r\n" S "NO\r\n" C
                     "Authenticate \"PLAIN\" \"AGJvYgBodW50ZXIyIHdpdGggc3BhY2Vz\"\r\n" S
                     "BYE \"Too many failed authentication attempts\"\r\n"),
      0,
      "tls=none starttls=not-offered inj=0 | PLAIN alice s3cret failure | PLAIN bob hunter2 with "
      "spaces failure" },
    { "not base64 (RFC 5804 2.1's example) is no credential",
      SCRIPT(GREET C "Authenticate \"PLAIN\" \"QJIrweAPyo6Q1T9xu\"\r\n" S "NO\r\n"), 0,
      "tls=none starttls=not-offered inj=0" },
    { "digest-md5 (RFC 5804 2.1), final data in the OK",
      SCRIPT(GREET C "AUTHENTICATE \"DIGEST-MD5\"\r\n" S "\"" DIGEST_CHALLENGE "\"\r\n" C
                     "\"" DIGEST_RESPONSE "\"\r\n" S
                     "OK (SASL \"cnNwYXV0aD1lYTQwZjYwMzM1YzQyN2I1NTI3Yjg0ZGJhYmNkZmZmZA==\")\r\n"),
      0, "tls=none starttls=not-offered inj=0 | " DIGEST_WANT },
    { "cram-md5, challenge as a literal",
      SCRIPT(GREET C "AUTHENTICATE \"CRAM-MD5\"\r\n" S
                     "{52}\r\nPDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UuZXhhbXBsZS5uZXQ+\r\n" C
                     "\"dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\"\r\n" S "OK\r\n"),
      0,
      "tls=none starttls=not-offered inj=0 | CRAM-MD5 tim - success "
      "ch=<1896.697170952@postoffice.example.net> resp=b913a602c7eda7a495b4e6e7334d3890" },
    { "xoauth2",
      SCRIPT(GREET C "AUTHENTICATE \"XOAUTH2\" "
                     "\"dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk"
                     "52YjMBAQ==\"\r\n" S "OK\r\n"),
      0,
      "tls=none starttls=not-offered inj=0 | XOAUTH2 someuser@example.com ya29.vF9dft4qmTc2Nvb3 "
      "success" },
    { "gssapi with literals (RFC 5804 2.1) shows nothing",
      SCRIPT(GREET C "AUTHENTICATE \"GSSAPI\" {12+}\r\nYIIE+dAABBB=\r\n" S "{8}\r\nYIGZBgkq\r\n" C
                     "{0+}\r\n\r\n" S "{8}\r\nBQQF/wAM\r\n" C "{8+}\r\nBQQE/wAM\r\n" S "OK\r\n" C
                     "LOGOUT\r\n" S "OK\r\n"),
      0, "tls=none starttls=not-offered inj=0" },
    { "answer before the literal initial response",
      SCRIPT(GREET C "AUTHENTICATE \"PLAIN\" {20+}\r\n" S "NO \"busy\"\r\n" C PLAIN_ALICE
                     "\r\nLOGOUT\r\n" S "OK\r\n"),
      0, "tls=none starttls=not-offered inj=0 | PLAIN alice s3cret failure" },
    { "authenticate without a mechanism",
      SCRIPT(GREET C "AUTHENTICATE\r\n" S "NO\r\n" C "AUTHENTICATE \"PLAIN\" \"" PLAIN_ALICE
                     "\"\r\n" S "OK\r\n"),
      0, "tls=none starttls=not-offered inj=0 | PLAIN alice s3cret success" },
    { "authenticate with an unclosed quote",
      SCRIPT(GREET C "AUTHENTICATE \"PLAIN \"" PLAIN_ALICE "\r\n" S "NO\r\n"), 0,
      "tls=none starttls=not-offered inj=0" },
    { "unauthenticate (RFC 5804 2.14.1), then a login",
      SCRIPT(GREET_TLS C "AUTHENTICATE \"PLAIN\" \"" PLAIN_ALICE "\"\r\n" S "OK\r\n" C
                         "UNAUTHENTICATE\r\n" S "OK\r\n" C
                         "AUTHENTICATE \"PLAIN\" \"AGJvYgBodW50ZXIyIHdpdGggc3BhY2Vz\"\r\n" S
                         "OK\r\n"),
      0,
      "tls=none starttls=offered-not-used inj=0 | PLAIN alice s3cret success | PLAIN bob hunter2 "
      "with spaces success" },

    /* STARTTLS (RFC 5804 section 2.2) */
    { "starttls used, TLS 1.2",
      SCRIPT(GREET_TLS C "StartTls\r\n" S "oK\r\n" C CLIENT_HELLO S HELLO_TLS12), 0,
      "tls=starttls starttls=used inj=0 v=0303" },
    { "starttls used, answer and ServerHello in one chunk, TLS 1.3",
      SCRIPT(GREET_TLS C "STARTTLS\r\n" CLIENT_HELLO S
                         "OK \"Begin TLS negotiation now.\"\r\n" HELLO_TLS13),
      0, "tls=starttls starttls=used inj=0 v=0304" },
    { "starttls refused, then a login",
      SCRIPT(GREET_TLS C "STARTTLS\r\n" S "NO \"not now\"\r\n" C
                         "AUTHENTICATE \"PLAIN\" \"" PLAIN_ALICE "\"\r\n" S "OK\r\n"),
      0, "tls=none starttls=refused inj=0 | PLAIN alice s3cret success" },
    { "starttls refused with BYE", SCRIPT(GREET C "STARTTLS\r\n" S "BYE\r\n"), 0,
      "tls=none starttls=refused inj=0" },
    { "commands injected after STARTTLS, literal content not counted",
      SCRIPT(GREET_TLS C "STARTTLS\r\nAUTHENTICATE \"PLAIN\" \"AGV2aWwAcGFzcw==\"\r\n"
                         "PUTSCRIPT \"x\" {94+}\r\n" TRAP_SCRIPT "\r\n" S "OK\r\n"),
      0, "tls=starttls starttls=used inj=2" },
    { "cleartext command after the STARTTLS answer is injected",
      SCRIPT(GREET_TLS C "STARTTLS\r\n" S "OK\r\n" C "AUTHENTICATE \"PLAIN\" \"" PLAIN_ALICE
                         "\"\r\n" CLIENT_HELLO S HELLO_TLS12),
      0, "tls=starttls starttls=used inj=1 v=0303" },
    { "text after the STARTTLS answer is never parsed",
      SCRIPT(GREET C "STARTTLS\r\n" S "OK\r\n\"STARTTLS\"\r\nOK\r\n"), 0,
      "tls=starttls starttls=used inj=0" },
    { "tls spoken on the cleartext port", SCRIPT(C CLIENT_HELLO S HELLO_TLS12), 0,
      "tls=implicit starttls=n/a inj=0 v=0303" },
    { "implicit tls flag", SCRIPT(S HELLO_TLS13 C "AUTHENTICATE \"PLAIN\" \"x\"\r\n"),
      PARSE_F_IMPLICIT_TLS, "tls=implicit starttls=n/a inj=0 v=0304" },

    /* Literals are content */
    { "putscript literal holding AUTHENTICATE text is no credential",
      SCRIPT(GREET C "AUTHENTICATE \"PLAIN\" \"" PLAIN_ALICE "\"\r\n" S "OK\r\n" C
                     "PUTSCRIPT \"trap\" {94+}\r\n" TRAP_SCRIPT "\r\n" S "OK\r\n" C "LOGOUT\r\n" S
                     "OK\r\n"),
      0, "tls=none starttls=not-offered inj=0 | PLAIN alice s3cret success" },
    { "checkscript and havespace literals, answers in order",
      SCRIPT(GREET C "HAVESPACE \"s\" 94\r\nCHECKSCRIPT {94}\r\n" TRAP_SCRIPT
                     "\r\nAUTHENTICATE \"PLAIN\" \"" PLAIN_ALICE "\"\r\n" S
                     "OK\r\nNO \"line 2: error\"\r\nOK\r\n"),
      0, "tls=none starttls=not-offered inj=0 | PLAIN alice s3cret success" },
    { "putscript examples (RFC 5804 2.6)",
      SCRIPT(GREET C "Putscript \"foo\" {31+}\r\n#comment\r\nInvalidSieveCommand\r\n\r\n" S
                     "NO \"line 2: Syntax error\"\r\n" C
                     "Putscript \"mysievescript\" {99+}\r\n" RFC_SCRIPT "\r\n" S "OK\r\n"),
      0, "tls=none starttls=not-offered inj=0" },
    { "getscript literal holding answers is content",
      SCRIPT(GREET C "AUTHENTICATE \"PLAIN\" \"" PLAIN_ALICE "\"\r\n" S "OK\r\n" C
                     "GETSCRIPT \"trap\"\r\nLOGOUT\r\n" S "{94}\r\n" TRAP_SCRIPT
                     "\r\nOK\r\nNO\r\n"),
      0, "tls=none starttls=not-offered inj=0 | PLAIN alice s3cret success" },
    { "a NO with a literal string",
      SCRIPT(GREET C "AUTHENTICATE \"PLAIN\" \"" PLAIN_ALICE "\"\r\n" S
                     "NO {10}\r\nOK\r\nOK\r\nxx\r\n" C "NOOP\r\n" S "OK\r\n"),
      0, "tls=none starttls=not-offered inj=0 | PLAIN alice s3cret failure" },
    { "a literal count past 64 bits is no literal",
      SCRIPT(GREET C
             "PUTSCRIPT \"x\" {99999999999999999999+}\r\nAUTHENTICATE \"PLAIN\" \"" PLAIN_ALICE
             "\"\r\n" S "NO\r\nOK\r\n"),
      0, "tls=none starttls=not-offered inj=0 | PLAIN alice s3cret success" },
    { "a billion-byte literal is counted off",
      SCRIPT(GREET C "PUTSCRIPT \"x\" {1000000000+}\r\nAUTHENTICATE \"PLAIN\" \"" PLAIN_ALICE
                     "\"\r\n" S "NO \"too big\"\r\n"),
      0, "tls=none starttls=not-offered inj=0" },

    /* Not ManageSieve, mid-session, one side */
    { "not managesieve: POP3 greeting", SCRIPT(S "+OK POP3 ready\r\n"), 0, "PARSE_ERROR" },
    { "not managesieve: IMAP greeting", SCRIPT(S "* OK IMAP4rev1 ready\r\n"), 0, "PARSE_ERROR" },
    { "not managesieve: empty line", SCRIPT(S "\r\nOK\r\n"), 0, "PARSE_ERROR" },
    { "mid-session: any line first",
      SCRIPT(S "fileinto \"x\";\r\n}\r\nOK\r\n" C "NOOP\r\n" S "OK\r\n"), PARSE_F_MIDSTREAM,
      "tls=none starttls=null inj=0" },
    { "mid-session: an answer pairs with the oldest command",
      SCRIPT(C "AUTHENTICATE \"PLAIN\" \"" PLAIN_ALICE "\"\r\nNOOP\r\n" S "NO\r\nOK\r\n"),
      PARSE_F_MIDSTREAM, "tls=none starttls=null inj=0 | PLAIN alice s3cret failure" },
    { "a whole session: the first answer is the greeting",
      SCRIPT(C "AUTHENTICATE \"PLAIN\" \"" PLAIN_ALICE "\"\r\n" S "OK\r\nNO\r\n"), 0,
      "tls=none starttls=null inj=0 | PLAIN alice s3cret failure" },
    { "client side only",
      SCRIPT(C "CAPABILITY\r\nAUTHENTICATE \"PLAIN\" \"" PLAIN_ALICE "\"\r\nLISTSCRIPTS\r\n"), 0,
      "tls=none starttls=null inj=0 | PLAIN alice s3cret unknown" },

    /* Gaps */
    { "gap before the answer makes it unknown",
      SCRIPT(GREET C "AUTHENTICATE \"PLAIN\" \"" PLAIN_ALICE "\"\r\n" G S S "OK\r\n"), 0,
      "tls=none starttls=not-offered inj=0 | PLAIN alice s3cret unknown" },
    { "gap in a client line resynchronises",
      SCRIPT(GREET C "AUTHENTICATE \"PLA" G C C "junk\r\n" S "NO\r\n" C
                     "AUTHENTICATE \"PLAIN\" \"" PLAIN_ALICE "\"\r\n" S "OK\r\n"),
      0, "tls=none starttls=not-offered inj=0 | PLAIN alice s3cret success" },
    { "gap inside a script literal keeps its count and the answers",
      SCRIPT(GREET C "PUTSCRIPT \"x\" {94+}\r\nrequire" G C C
                     "\";\r\nAUTHENTICATE \"PLAIN\" \"AGV2aWwAcGFzcw==\"\r\nOK\r\n\"STARTTLS\"\r\n"
                     "STARTTLS\r\n{5+}\r\n\r\nAUTHENTICATE \"PLAIN\" \"" PLAIN_ALICE "\"\r\n" S
                     "OK\r\nNO\r\n"),
      0, "tls=none starttls=not-offered inj=0 | PLAIN alice s3cret failure" },
    { "gap past the end of a literal resynchronises",
      SCRIPT(GREET C "PUTSCRIPT \"x\" {5+}\r\nab" G C C "zz\r\n" S "OK\r\n" C
                     "AUTHENTICATE \"PLAIN\" \"" PLAIN_ALICE "\"\r\n" S "OK\r\n"),
      0, "tls=none starttls=not-offered inj=0 | PLAIN alice s3cret success" },
    { "gap inside a literal initial response: no credential",
      SCRIPT(GREET C "AUTHENTICATE \"PLAIN\" {30+}\r\n0123456789" G C C "abcdefghij\r\n" S
                     "NO\r\n"),
      0, "tls=none starttls=not-offered inj=0" },
    { "gap inside a server literal keeps its count",
      SCRIPT(GREET C "GETSCRIPT \"x\"\r\n" S "{94}\r\nrequire" G S S
                     "\";\r\nAUTHENTICATE \"PLAIN\" \"AGV2aWwAcGFzcw==\"\r\nOK\r\n\"STARTTLS\"\r\n"
                     "STARTTLS\r\n{5+}\r\n\r\nOK\r\n" C "AUTHENTICATE \"PLAIN\" \"" PLAIN_ALICE
                     "\"\r\n" S "OK\r\n"),
      0, "tls=none starttls=not-offered inj=0 | PLAIN alice s3cret success" },
    { "gap in the greeting",
      SCRIPT(S "\"IMPLEMENTATION\" \"x\"\r\n" G S S "\r\nOK\r\n" C
               "AUTHENTICATE \"PLAIN\" \"" PLAIN_ALICE "\"\r\n" S "OK\r\n"),
      0, "tls=none starttls=null inj=0 | PLAIN alice s3cret success" },
    { "server gap in sasl: the client's messages are still read",
      SCRIPT(GREET C "AUTHENTICATE \"LOGIN\"\r\n" S "\"VXNlcm5hbWU6\"\r\n" C
                     "\"YWxpY2U=\"\r\n" G S C "\"czNjcmV0\"\r\nNOOP\r\n" S "OK\r\nOK\r\n"),
      0, "tls=none starttls=not-offered inj=0 | LOGIN alice s3cret unknown" },
    { "client gap in sasl abandons the exchange",
      SCRIPT(GREET C "AUTHENTICATE \"LOGIN\"\r\n" S "\"VXNlcm5hbWU6\"\r\n" C
                     "\"YWxpY2U=\"\r\n" G C C "UGFzcw==\"\r\n" S "NO\r\n" C
                     "AUTHENTICATE \"PLAIN\" \"" PLAIN_ALICE "\"\r\n" S "OK\r\n"),
      0,
      "tls=none starttls=not-offered inj=0 | LOGIN alice - unknown | PLAIN alice s3cret "
      "success" },
    { "starttls answer lost in a gap, then TLS",
      SCRIPT(GREET_TLS C "STARTTLS\r\n" G S S HELLO_TLS12), 0,
      "tls=starttls starttls=used inj=0 v=0303" },
    { "gap in the server's TLS: no version", SCRIPT(S "\x16\x03\x03" G S S "\x00\x05hello"),
      PARSE_F_IMPLICIT_TLS, "tls=implicit starttls=n/a inj=0" },
    { "gap in the client's TLS changes nothing",
      SCRIPT(GREET_TLS C "STARTTLS\r\n" CLIENT_HELLO G C S "OK\r\n" HELLO_TLS12), 0,
      "tls=starttls starttls=used inj=0 v=0303" },
};

/* ManageSieve's part of a credential: SASL strings are cut at their limits (the tests below). */
static void describe_cred(const struct credential *c, char *out, size_t cap)
{
    if (c->is_truncated) {
        script_appendf(out, cap, " truncated");
    }
}

/* ---- limits and counters, on a parser fed by hand ---- */

static const char b64_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* RFC 4648 base64 of in[0..len) into out (4 * ((len + 2) / 3) bytes, not NUL-terminated). */
static size_t b64_encode(const uint8_t *in, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len) {
            v |= (uint32_t)in[i + 1] << 8;
        }
        if (i + 2 < len) {
            v |= in[i + 2];
        }
        out[o++] = b64_chars[(v >> 18) & 63];
        out[o++] = b64_chars[(v >> 12) & 63];
        out[o++] = i + 1 < len ? b64_chars[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? b64_chars[v & 63] : '=';
    }
    return o;
}

/* AUTHENTICATE PLAIN for user "u" with a secret of pass_len bytes, the initial response sent as
 * a literal (or a quoted string when is_quoted): its base64 is 4 * ((pass_len + 5) / 3) bytes.
 * Checks whether a credential is read (want_cred), its secret's length, and the counters. */
static void plain_sized(size_t pass_len, bool is_quoted, bool want_cred)
{
    struct script_fx f;
    script_fx_open(&f, &managesieve_parser_ops, 0);
    size_t raw_len = 3 + pass_len;
    uint8_t *raw = malloc(raw_len);
    char *b64 = malloc(4 * ((raw_len + 2) / 3));
    CHECK(raw != NULL && b64 != NULL);
    if (raw == NULL || b64 == NULL) {
        free(raw);
        free(b64);
        script_fx_close(&f);
        return;
    }
    memcpy(raw, "\0u\0", 3);
    memset(raw + 3, 'p', pass_len);
    size_t b64_len = b64_encode(raw, raw_len, b64);
    char head[64];
    script_fx_str(&f, PARSE_DIR_SERVER, CAPS_HEAD CAPS_TAIL);
    if (is_quoted) {
        script_fx_str(&f, PARSE_DIR_CLIENT, "AUTHENTICATE \"PLAIN\" \"");
        script_fx_feed(&f, PARSE_DIR_CLIENT, b64, b64_len);
        script_fx_str(&f, PARSE_DIR_CLIENT, "\"\r\n");
    } else {
        snprintf(head, sizeof head, "AUTHENTICATE \"PLAIN\" {%zu+}\r\n", b64_len);
        script_fx_str(&f, PARSE_DIR_CLIENT, head);
        script_fx_feed(&f, PARSE_DIR_CLIENT, b64, b64_len);
        script_fx_str(&f, PARSE_DIR_CLIENT, "\r\n");
    }
    script_fx_str(&f, PARSE_DIR_SERVER, "OK\r\n");
    CHECK_EQ_U(f.s->n_creds, want_cred ? 1 : 0);
    CHECK_EQ_U(f.st.overlong_lines, want_cred ? 0 : 1);
    if (f.s->n_creds == 1) {
        const struct credential *c = f.s->creds[0];
        size_t want = pass_len < FINDING_MAX_SECRET ? pass_len : FINDING_MAX_SECRET;
        CHECK_EQ_U(c->secret_len, want);
        CHECK_EQ_U(c->is_truncated, pass_len > FINDING_MAX_SECRET);
        CHECK_EQ_U(c->result, FINDING_RESULT_SUCCESS);
    }
    /* The parser reads on: a login after it is seen. */
    script_fx_str(&f, PARSE_DIR_CLIENT, "AUTHENTICATE \"PLAIN\" \"" PLAIN_ALICE "\"\r\n");
    script_fx_str(&f, PARSE_DIR_SERVER, "NO\r\n");
    CHECK_EQ_U(f.s->n_creds, want_cred ? 2 : 1);
    free(raw);
    free(b64);
    script_fx_close(&f);
}

/* 3 + 4605 bytes are exactly MANAGESIEVE_MAX_STRING (6144) base64 characters; 4606 are 6148. */
_Static_assert(4 * ((3 + 4605 + 2) / 3) == MANAGESIEVE_MAX_STRING, "the bound is a whole string");

static void literal_string_at_limit(void)
{
    plain_sized(4605, false, true);
}

static void literal_string_past_limit(void)
{
    plain_sized(4606, false, false);
}

static void quoted_string_at_limit(void)
{
    plain_sized(4605, true, true);
}

static void quoted_string_past_limit(void)
{
    plain_sized(4606, true, false);
}

static void secret_at_limit(void)
{
    plain_sized(FINDING_MAX_SECRET, false, true);
}

/* A script of a billion bytes, fed in 1 MB chunks full of command-like lines: all counted off,
 * none read, nothing kept; the command after it is read. */
static void billion_byte_literal(void)
{
    enum {
        CHUNK = 1000000,
        CHUNKS = 1000
    };
    struct script_fx f;
    script_fx_open(&f, &managesieve_parser_ops, 0);
    uint8_t *buf = malloc(CHUNK);
    CHECK(buf != NULL);
    if (buf == NULL) {
        script_fx_close(&f);
        return;
    }
    static const char line[] = "AUTHENTICATE \"PLAIN\" \"" PLAIN_ALICE "\"\r\n"; /* 45 bytes */
    memset(buf, '#', CHUNK);
    for (size_t i = 0; i + sizeof line - 1 <= CHUNK; i += sizeof line - 1) {
        memcpy(buf + i, line, sizeof line - 1);
    }
    script_fx_str(&f, PARSE_DIR_SERVER, CAPS_HEAD CAPS_TAIL);
    script_fx_str(&f, PARSE_DIR_CLIENT, "PUTSCRIPT \"big\" {1000000000+}\r\n");
    for (int i = 0; i < CHUNKS; i++) {
        CHECK(script_fx_feed(&f, PARSE_DIR_CLIENT, buf, CHUNK) == PARSE_NEED_MORE);
    }
    CHECK(script_fx_feed(&f, PARSE_DIR_CLIENT, "\r\n", 2) == PARSE_OK);
    CHECK_EQ_U(f.s->n_creds, 0);
    script_fx_str(&f, PARSE_DIR_CLIENT, "AUTHENTICATE \"PLAIN\" \"" PLAIN_ALICE "\"\r\n");
    script_fx_str(&f, PARSE_DIR_SERVER, "NO \"too big\"\r\nOK\r\n");
    CHECK_EQ_U(f.s->n_creds, 1);
    if (f.s->n_creds == 1) {
        CHECK_MEM(f.s->creds[0]->username, f.s->creds[0]->username_len, "alice");
        CHECK_EQ_U(f.s->creds[0]->result, FINDING_RESULT_SUCCESS);
    }
    free(buf);
    script_fx_close(&f);
}

/* PARSE_MAX_PENDING commands are tracked; the next is counted and its answer pairs with
 * nothing. The queue works on after it. */
static void pending_limit(void)
{
    struct script_fx f;
    script_fx_open(&f, &managesieve_parser_ops, 0);
    script_fx_str(&f, PARSE_DIR_SERVER, CAPS_HEAD CAPS_TAIL);
    for (int i = 0; i < PARSE_MAX_PENDING; i++) {
        script_fx_str(&f, PARSE_DIR_CLIENT, "NOOP\r\n");
    }
    CHECK_EQ_U(f.st.pending_overflow, 0);
    script_fx_str(&f, PARSE_DIR_CLIENT, "NOOP\r\n");
    CHECK_EQ_U(f.st.pending_overflow, 1);
    for (int i = 0; i < PARSE_MAX_PENDING + 1; i++) {
        script_fx_str(&f, PARSE_DIR_SERVER, "OK\r\n");
    }
    script_fx_str(&f, PARSE_DIR_CLIENT, "AUTHENTICATE \"PLAIN\" \"" PLAIN_ALICE "\"\r\n");
    script_fx_str(&f, PARSE_DIR_SERVER, "NO\r\n");
    CHECK_EQ_U(f.s->n_creds, 1);
    if (f.s->n_creds == 1) {
        CHECK_EQ_U(f.s->creds[0]->result, FINDING_RESULT_FAILURE);
    }
    script_fx_close(&f);
}

static void credential_limit(void)
{
    struct script_fx f;
    script_fx_open(&f, &managesieve_parser_ops, 0);
    script_fx_str(&f, PARSE_DIR_SERVER, CAPS_HEAD CAPS_TAIL);
    for (int i = 0; i < FINDING_MAX_CREDS + 3; i++) {
        script_fx_str(&f, PARSE_DIR_CLIENT, "AUTHENTICATE \"PLAIN\" \"" PLAIN_ALICE "\"\r\n");
        script_fx_str(&f, PARSE_DIR_SERVER, "NO\r\n");
    }
    CHECK_EQ_U(f.s->n_creds, FINDING_MAX_CREDS);
    CHECK_EQ_U(f.s->creds_dropped, 3);
    script_fx_close(&f);
}

/* An overlong AUTHENTICATE line is discarded whole and counted; the next line is read. The
 * same on the server's side, for a capability line. */
static void overlong_lines(void)
{
    struct script_fx f;
    script_fx_open(&f, &managesieve_parser_ops, 0);
    uint8_t big[LINE_MAX_LEN + 100];
    memset(big, 'A', sizeof big);
    memcpy(big, "\"STARTTLS\" \"", 12);
    script_fx_feed(&f, PARSE_DIR_SERVER, big, sizeof big);
    script_fx_str(&f, PARSE_DIR_SERVER, "\"\r\n\"SASL\" \"PLAIN\"\r\nOK\r\n");
    memcpy(big, "AUTHENTICATE \"PLAIN\" \"", 22);
    script_fx_feed(&f, PARSE_DIR_CLIENT, big, sizeof big);
    script_fx_str(&f, PARSE_DIR_CLIENT, "\"\r\nAUTHENTICATE \"PLAIN\" \"" PLAIN_ALICE "\"\r\n");
    script_fx_str(&f, PARSE_DIR_SERVER, "OK\r\n");
    CHECK_EQ_U(f.st.overlong_lines, 2);
    CHECK_EQ_U(f.s->n_creds, 1);
    script_fx_end(&f);
    CHECK_EQ_U(f.s->starttls, FINDING_STARTTLS_NOT_OFFERED);
    if (f.s->n_creds == 1) {
        CHECK_EQ_U(f.s->creds[0]->result, FINDING_RESULT_SUCCESS);
    }
    script_fx_free(&f);
}

/* What each kind of odd input bumps. */
static void counters(void)
{
    struct script_fx f;
    script_fx_open(&f, &managesieve_parser_ops, 0);
    script_fx_str(&f, PARSE_DIR_SERVER, CAPS_HEAD CAPS_TAIL);
    script_fx_str(&f, PARSE_DIR_CLIENT, "NOOP\r\nLISTSCRIPTS\r\n");
    CHECK_EQ_U(f.st.unknown_commands, 0);
    script_fx_str(&f, PARSE_DIR_CLIENT, "LOGIN a b\r\n\r\nAUTHENTICATE\r\n");
    CHECK_EQ_U(f.st.unknown_commands, 3);
    script_fx_str(&f, PARSE_DIR_CLIENT, "AUTHENTICATE \"LOGIN\"\r\n\"*\"\r\n");
    CHECK_EQ_U(f.st.sasl_cancelled, 1);
    script_fx_str(&f, PARSE_DIR_CLIENT, "AUTHENTICATE \"PLAIN\" \"!!!!\"\r\n");
    CHECK_EQ_U(f.st.sasl_bad_base64, 1);
    script_fx_str(&f, PARSE_DIR_SERVER, "OK\r\nOK\r\nNO\r\nNO\r\nNO\r\nNO\r\nNO\r\n");
    script_fx_str(&f, PARSE_DIR_CLIENT, "AUTHENTICATE \"X-UNKNOWN\"\r\n");
    CHECK_EQ_U(f.st.sasl_unsupported, 1);
    script_fx_str(&f, PARSE_DIR_SERVER, "NO\r\n");
    script_fx_str(&f, PARSE_DIR_CLIENT, "STARTTLS\r\nNOOP\r\nPUTSCRIPT \"a\" {3+}\r\nx\r\n\r\n");
    CHECK_EQ_U(f.st.starttls_injection, 2);
    CHECK_EQ_U(f.s->injected_commands, 2);
    managesieve_parser_ops.gap(f.p, PARSE_DIR_SERVER, 5);
    CHECK_EQ_U(f.st.gaps, 1);
    CHECK_EQ_U(f.s->n_creds, 0);
    script_fx_close(&f);
}

/* The sniffer's verdict ends the parse: is_parse_done is set, and not before. */
static void parse_done_after_tls(void)
{
    struct script_fx f;
    script_fx_open(&f, &managesieve_parser_ops, 0);
    script_fx_str(&f, PARSE_DIR_SERVER, CAPS_HEAD "\"STARTTLS\"\r\n" CAPS_TAIL);
    script_fx_str(&f, PARSE_DIR_CLIENT, "STARTTLS\r\n");
    script_fx_str(&f, PARSE_DIR_SERVER, "OK\r\n");
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

/* Free without end, with a SASL literal half read, and free(NULL). */
static void free_paths(void)
{
    struct session *s = finding_new();
    struct parse_stats st;
    memset(&st, 0, sizeof st);
    struct parse_ctx ctx = { s, &st, 0, NULL, NULL };
    void *p = parse_open(&managesieve_parser_ops, &ctx);
    size_t consumed;
    const char *t = "AUTHENTICATE \"PLAIN\" {20+}\r\nAGFsaW";
    managesieve_parser_ops.feed(p, PARSE_DIR_CLIENT, (const uint8_t *)t, strlen(t), &consumed);
    managesieve_parser_ops.free_parser(p);
    managesieve_parser_ops.free_parser(NULL);
    CHECK_EQ_U(s->n_creds, 0);
    finding_free(s);
}

/* The greeting's first line is the banner; none mid-stream. */
static void context(void)
{
    script_check_context(&managesieve_parser_ops,
                         SCRIPT(S "\"IMPLEMENTATION\" \"Dovecot Pigeonhole\"\r\nOK\r\n"), 0,
                         FINDING_CONTEXT_BANNER, "\"IMPLEMENTATION\" \"Dovecot Pigeonhole\"");
    script_check_context(&managesieve_parser_ops, SCRIPT(S "OK\r\n"), PARSE_F_MIDSTREAM,
                         FINDING_CONTEXT_BANNER, NULL);
}

int main(void)
{
    script_run_table(&managesieve_parser_ops, cases, sizeof cases / sizeof cases[0], describe_cred);
    RUN(literal_string_at_limit);
    RUN(literal_string_past_limit);
    RUN(quoted_string_at_limit);
    RUN(quoted_string_past_limit);
    RUN(secret_at_limit);
    RUN(billion_byte_literal);
    RUN(pending_limit);
    RUN(credential_limit);
    RUN(overlong_lines);
    RUN(counters);
    RUN(parse_done_after_tls);
    RUN(free_paths);
    RUN(context);
    return TEST_SUMMARY();
}
