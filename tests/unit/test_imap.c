/* test_imap.c - the IMAP parser, table-driven (script.h): each script fed whole and with every
 * chunk cut into pieces of 1 to 64 bytes; all must give the same record. Then the limits: argument
 * truncation at the bound and one past it, pending commands, credentials, overlong lines, and
 * a literal of a billion bytes counted off without being kept. */
#include "imap.h"

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

/* Message content that looks like commands and replies: 110 bytes. */
#define TRAP_APPEND                                                                                \
    "Subject: trap\r\n\r\na1 LOGIN evil pass\r\na2 AUTHENTICATE PLAIN AGV2aWwAcGFzcw==\r\n+OK\r\n" \
    "* OK [CAPABILITY STARTTLS]\r\n"
/* 81 bytes. */
#define TRAP_FETCH                                                                                 \
    "Subject: x\r\n\r\na2 OK\r\n* CAPABILITY IMAP4rev1 STARTTLS\r\n+ \r\n* 2 FETCH (BODY[] "       \
    "{5}\r\n"

/* RFC 9051 section 6.3.12: the APPEND example's message, 326 bytes. */
#define RFC_MESSAGE                                                                                \
    "Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\r\n"                                               \
    "From: Fred Foobar <foobar@Blurdybloop.example>\r\n"                                           \
    "Subject: afternoon meeting\r\n"                                                               \
    "To: mooch@owatagu.siam.edu.example\r\n"                                                       \
    "Message-Id: <B27397-0100000@Blurdybloop.example>\r\n"                                         \
    "MIME-Version: 1.0\r\n"                                                                        \
    "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"                                               \
    "\r\n"                                                                                         \
    "Hello Joe, do you think we can meet at 3:30 tomorrow?\r\n"

static const struct script_case cases[] = {
    /* LOGIN */
    { "login atoms (RFC 9051 6.2.3)",
      SCRIPT(S "* OK IMAP4rev2 Service Ready\r\n" C "a001 LOGIN SMITH SESAME\r\n" S
               "a001 OK LOGIN completed\r\n"),
      0, "tls=none starttls=null inj=0 | IMAP LOGIN SMITH SESAME success" },
    { "login quoted strings with escapes, lower case",
      SCRIPT(S "* OK ready\r\n" C "a1 login \"al\\\"ice\" \"p\\\\a ss\\\"\"\r\n" S "a1 OK\r\n"), 0,
      "tls=none starttls=null inj=0 | IMAP LOGIN al\"ice p\\a ss\" success" },
    { "login empty quoted password",
      SCRIPT(S "* OK ready\r\n" C "a1 LOGIN alice \"\"\r\n" S "a1 NO\r\n"), 0,
      "tls=none starttls=null inj=0 | IMAP LOGIN alice  failure" },
    { "login synchronising literals, + seen between",
      SCRIPT(S "* OK\r\n" C "a1 LOGIN {5}\r\n" S "+ Ready\r\n" C "alice {6}\r\n" S "+ Ready\r\n" C
               "secret\r\n" S "a1 OK done\r\n"),
      0, "tls=none starttls=null inj=0 | IMAP LOGIN alice secret success" },
    { "login synchronising literals, + not seen",
      SCRIPT(S "* OK\r\n" C "a1 LOGIN {5}\r\nalice {6}\r\nsecret\r\n" S "a1 OK done\r\n"), 0,
      "tls=none starttls=null inj=0 | IMAP LOGIN alice secret success" },
    { "login synchronising literals, + after the data",
      SCRIPT(S "* OK\r\n" C "a1 LOGIN {5}\r\nalice {6}\r\nsecret\r\n" S
               "+ go\r\n+ go\r\na1 OK\r\n"),
      0, "tls=none starttls=null inj=0 | IMAP LOGIN alice secret success" },
    { "login non-synchronising literals (LITERAL+)",
      SCRIPT(S "* OK\r\n" C "a1 LOGIN {5+}\r\nalice {6+}\r\nsecret\r\n" S
               "a1 NO [AUTHENTICATIONFAILED] bad\r\n"),
      0, "tls=none starttls=null inj=0 | IMAP LOGIN alice secret failure" },
    { "login mixed: quoted user, literal password",
      SCRIPT(S "* OK\r\n" C "a1 LOGIN \"alice smith\" {8+}\r\npa ss\"\\x\r\n" S "a1 OK\r\n"), 0,
      "tls=none starttls=null inj=0 | IMAP LOGIN alice smith pa ss\"\\x success" },
    { "login mixed: literal user, atom password",
      SCRIPT(S "* OK\r\n" C "a2 LOGIN {3}\r\nbob hunter2\r\n" S "a2 OK\r\n"), 0,
      "tls=none starttls=null inj=0 | IMAP LOGIN bob hunter2 success" },
    { "login literal password holding a literal announcement and CRLF",
      SCRIPT(S "* OK\r\n" C "a1 LOGIN alice {6}\r\nx{5}\r\n\r\na2 NOOP\r\n" S "a1 OK\r\na2 OK\r\n"),
      0, "tls=none starttls=null inj=0 | IMAP LOGIN alice x{5}\r\n success" },
    { "login empty literal", SCRIPT(S "* OK\r\n" C "a1 LOGIN alice {0}\r\n\r\n" S "a1 NO\r\n"), 0,
      "tls=none starttls=null inj=0 | IMAP LOGIN alice  failure" },
    { "login NO",
      SCRIPT(S "* OK\r\n" C "a1 LOGIN alice wrong\r\n" S
               "a1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n" C
               "a2 LOGIN alice right\r\n" S "a2 OK\r\n"),
      0,
      "tls=none starttls=null inj=0 | IMAP LOGIN alice wrong failure | IMAP LOGIN alice right "
      "success" },
    { "login BAD", SCRIPT(S "* OK\r\n" C "a1 LOGIN alice wrong\r\n" S "a1 BAD syntax\r\n"), 0,
      "tls=none starttls=null inj=0 | IMAP LOGIN alice wrong failure" },
    { "login without answer", SCRIPT(S "* OK\r\n" C "a1 LOGIN alice pw\r\n"), 0,
      "tls=none starttls=null inj=0 | IMAP LOGIN alice pw unknown" },
    { "login with one argument is no credential",
      SCRIPT(S "* OK\r\n" C "a1 LOGIN alice\r\n" S "a1 BAD\r\n"), 0,
      "tls=none starttls=null inj=0" },
    { "login unclosed quote is no credential",
      SCRIPT(S "* OK\r\n" C "a1 LOGIN alice \"pw\r\n" S "a1 BAD\r\n"), 0,
      "tls=none starttls=null inj=0" },

    /* AUTHENTICATE */
    { "authenticate plain with SASL-IR (RFC 4959)",
      SCRIPT(S "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready\r\n" C
               "A01 AUTHENTICATE PLAIN dGVzdAB0ZXN0AHRlc3Q=\r\n" S "A01 OK Success\r\n"),
      0, "tls=none starttls=not-offered inj=0 | PLAIN test test success" },
    { "authenticate plain via \"+ \", lower case",
      SCRIPT(S "* OK\r\n" C "a1 authenticate plain\r\n" S "+ \r\n" C
               "AGRpZ2l0YWxpbnZlc3RpZ2F0b3JAbmV0d29ya3NpbXMuY29tAG5hcGllcjEyMw==\r\n" S
               "a1 OK AUTHENTICATE completed\r\n"),
      0,
      "tls=none starttls=null inj=0 | PLAIN digitalinvestigator@networksims.com napier123 "
      "success" },
    { "authenticate plain via bare +",
      SCRIPT(S "* OK\r\n" C "a1 AUTHENTICATE PLAIN\r\n" S "+\r\n" C "dGVzdAB0ZXN0AHRlc3Q=\r\n" S
               "a1 NO\r\n"),
      0, "tls=none starttls=null inj=0 | PLAIN test test failure" },
    { "authenticate login",
      SCRIPT(S "* OK\r\n" C "a1 AUTHENTICATE LOGIN\r\n" S "+ VXNlcm5hbWU6\r\n" C "YWxpY2U=\r\n" S
               "+ UGFzc3dvcmQ6\r\n" C "czNjcmV0\r\n" S "a1 OK\r\n"),
      0, "tls=none starttls=null inj=0 | LOGIN alice s3cret success" },
    { "authenticate cram-md5 (RFC 2195)",
      SCRIPT(S "* OK IMAP4 Server\r\n" C "A0001 AUTHENTICATE CRAM-MD5\r\n" S
               "+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n" C
               "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\n" S
               "A0001 OK CRAM authentication successful\r\n"),
      0,
      "tls=none starttls=null inj=0 | CRAM-MD5 tim - success "
      "ch=<1896.697170952@postoffice.reston.mci.net> resp=b913a602c7eda7a495b4e6e7334d3890" },
    { "authenticate digest-md5 (RFC 2831)",
      SCRIPT(S "* OK elwood.innosoft.com PMDF IMAP4rev1 V6.0-9\r\n" C "c CAPABILITY\r\n" S
               "* CAPABILITY IMAP4 IMAP4rev1 ACL LITERAL+ NAMESPACE QUOTA UIDPLUS AUTH=CRAM-MD5 "
               "AUTH=DIGEST-MD5 AUTH=PLAIN\r\nc OK Completed\r\n" C
               "a AUTHENTICATE DIGEST-MD5\r\n" S
               "+ cmVhbG09ImVsd29vZC5pbm5vc29mdC5jb20iLG5vbmNlPSJPQTZNRzl0RVFHbTJoaCIscW9wPSJhdX"
               "RoIixhbGdvcml0aG09bWQ1LXNlc3MsY2hhcnNldD11dGYtOA==\r\n" C
               "Y2hhcnNldD11dGYtOCx1c2VybmFtZT0iY2hyaXMiLHJlYWxtPSJlbHdvb2QuaW5ub3NvZnQuY29tIixub"
               "25jZT0iT0E2TUc5dEVRR20yaGgiLG5jPTAwMDAwMDAxLGNub25jZT0iT0E2TUhYaDZWcVRyUmsiLGRpZ2"
               "VzdC11cmk9ImltYXAvZWx3b29kLmlubm9zb2Z0LmNvbSIscmVzcG9uc2U9ZDM4OGRhZDkwZDRiYmQ3NjB"
               "hMTUyMzIxZjIxNDNhZjcscW9wPWF1dGg=\r\n" S
               "+ cnNwYXV0aD1lYTQwZjYwMzM1YzQyN2I1NTI3Yjg0ZGJhYmNkZmZmZA==\r\n" C "\r\n" S
               "a OK User logged in\r\n"),
      0,
      "tls=none starttls=not-offered inj=0 | DIGEST-MD5 chris - success "
      "ch=realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\",qop=\"auth\",algorithm=md5-sess,"
      "charset=utf-8 resp=charset=utf-8,username=\"chris\",realm=\"elwood.innosoft.com\","
      "nonce=\"OA6MG9tEQGm2hh\",nc=00000001,cnonce=\"OA6MHXh6VqTrRk\",digest-uri=\"imap/"
      "elwood.innosoft.com\",response=d388dad90d4bbd760a152321f2143af7,qop=auth" },
    { "authenticate cancelled with *, then login",
      SCRIPT(S "* OK\r\n" C "a1 AUTHENTICATE LOGIN\r\n" S "+ VXNlcm5hbWU6\r\n" C "*\r\n" S
               "a1 BAD cancelled\r\n" C "a2 LOGIN u p\r\n" S "a2 OK\r\n"),
      0, "tls=none starttls=null inj=0 | IMAP LOGIN u p success" },
    { "authenticate gssapi (RFC 9051 6.2.2) shows nothing",
      SCRIPT(S "* OK IMAP4rev2 Server\r\n" C "A001 AUTHENTICATE GSSAPI\r\n" S "+\r\n" C
               "YIIB+wYJKoZIhvcSAQICAQBuggHqMIIB5qADAgEFoQMCAQ6iBw\r\n" S
               "+ YGgGCSqGSIb3EgECAgIAb1kwV6ADAgEFoQMCAQ+iSzBJoAMC\r\n" C "\r\n" S
               "A001 OK GSSAPI authentication successful\r\n"),
      0, "tls=none starttls=null inj=0" },

    /* CAPABILITY and the STARTTLS verdict */
    { "greeting lists STARTTLS and LOGINDISABLED, not used",
      SCRIPT(S "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ "
               "STARTTLS LOGINDISABLED] Dovecot ready.\r\n" C "a1 LOGOUT\r\n" S
               "* BYE Logging out\r\na1 OK Logout completed.\r\n"),
      0, "tls=none starttls=offered-not-used inj=0" },
    { "capability command without STARTTLS",
      SCRIPT(S "* OK hi\r\n" C "C00001 CAPABILITY\r\n" S
               "* CAPABILITY IMAP4rev1 IDLE AUTH=LOGIN AUTH=PLAIN AUTH=CRAM-MD5\r\n"
               "C00001 OK CAPABILITY completed\r\n" C "C00002 LOGIN samir pfres\r\n" S
               "C00002 OK [CAPABILITY IMAP4rev1 IDLE] done\r\n"),
      0, "tls=none starttls=not-offered inj=0 | IMAP LOGIN samir pfres success" },
    { "capability command with STARTTLS",
      SCRIPT(S "* OK hi\r\n" C "c1 capability\r\n" S
               "* CAPABILITY IMAP4rev1 starttls AUTH=PLAIN\r\nc1 OK\r\n" C "c2 LOGIN u p\r\n" S
               "c2 OK\r\n"),
      0, "tls=none starttls=offered-not-used inj=0 | IMAP LOGIN u p success" },
    { "post-login list without STARTTLS keeps it offered",
      SCRIPT(S "* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] ready\r\n" C "a1 LOGIN u p\r\n" S
               "a1 OK [CAPABILITY IMAP4rev1 IDLE SORT] Logged in\r\n" C "a2 CAPABILITY\r\n" S
               "* CAPABILITY IMAP4rev1 IDLE SORT\r\na2 OK\r\n"),
      0, "tls=none starttls=offered-not-used inj=0 | IMAP LOGIN u p success" },
    { "post-login list alone is no verdict",
      SCRIPT(S "* OK ready\r\n" C "a1 LOGIN u p\r\n" S
               "a1 OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n"),
      0, "tls=none starttls=null inj=0 | IMAP LOGIN u p success" },
    { "mid-session list without STARTTLS is no verdict",
      SCRIPT(C "a5 NOOP\r\n" S "* 3 EXISTS\r\na5 OK\r\n" C "a6 CAPABILITY\r\n" S
               "* CAPABILITY IMAP4rev1 IDLE\r\na6 OK\r\n"),
      0, "tls=none starttls=null inj=0" },
    { "mid-session list before a login is the pre-login one",
      SCRIPT(C "a1 CAPABILITY\r\n" S "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\na1 OK\r\n" C
               "a2 LOGIN u p\r\n" S "a2 OK\r\n"),
      0, "tls=none starttls=not-offered inj=0 | IMAP LOGIN u p success" },
    { "capability in the OK of an unseen command is no verdict",
      SCRIPT(S "* OK ready\r\nC3 OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n"), 0,
      "tls=none starttls=null inj=0" },
    { "capability in the OK of an unseen command still shows STARTTLS",
      SCRIPT(S "* OK ready\r\nC3 OK [CAPABILITY IMAP4rev1 STARTTLS] done\r\n"), 0,
      "tls=none starttls=offered-not-used inj=0" },
    { "mid-session: capability in the OK of an unseen command, then login",
      SCRIPT(C "a1 NOOP\r\n" S "x9 OK [CAPABILITY IMAP4rev1] done\r\na1 OK\r\n" C
               "a2 LOGIN u p\r\n" S "a2 OK\r\n"),
      0, "tls=none starttls=null inj=0 | IMAP LOGIN u p success" },
    { "preauth greeting (RFC 9051 7.1.4)",
      SCRIPT(S "* PREAUTH [CAPABILITY IMAP4rev2] IMAP4rev2 server logged in as Smith\r\n" C
               "a1 SELECT INBOX\r\n" S "a1 OK\r\n"),
      0, "tls=none starttls=null inj=0" },
    { "bye greeting (RFC 9051 7.1.5)", SCRIPT(S "* BYE Autologout; idle for too long\r\n"), 0,
      "tls=none starttls=null inj=0" },

    /* STARTTLS */
    { "starttls used, TLS 1.2 (RFC 9051 6.2.1)",
      SCRIPT(S "* OK [CAPABILITY IMAP4rev2 STARTTLS LOGINDISABLED] ready\r\n" C
               "a001 CAPABILITY\r\n" S
               "* CAPABILITY IMAP4rev2 STARTTLS LOGINDISABLED\r\na001 OK CAPABILITY completed\r\n" C
               "a002 STARTTLS\r\n" S
               "a002 OK Begin TLS negotiation now\r\n" C CLIENT_HELLO S HELLO_TLS12),
      0, "tls=starttls starttls=used inj=0 v=0303" },
    { "starttls used, answer and ServerHello in one chunk, TLS 1.3",
      SCRIPT(S "* OK [CAPABILITY IMAP4rev1 STARTTLS]\r\n" C ". STARTTLS\r\n" CLIENT_HELLO S
               ". OK Begin TLS\r\n" HELLO_TLS13),
      0, "tls=starttls starttls=used inj=0 v=0304" },
    { "starttls refused with NO, then login",
      SCRIPT(S "* OK [CAPABILITY IMAP4rev1 STARTTLS]\r\n" C "a1 STARTTLS\r\n" S
               "a1 NO not now\r\n" C "a2 LOGIN u p\r\n" S "a2 OK\r\n"),
      0, "tls=none starttls=refused inj=0 | IMAP LOGIN u p success" },
    { "starttls refused with BAD",
      SCRIPT(S "* OK\r\n" C "a1 STARTTLS\r\n" S "a1 BAD unknown command\r\n"), 0,
      "tls=none starttls=refused inj=0" },
    { "commands injected after STARTTLS, literal content not counted",
      SCRIPT(S "* OK [CAPABILITY IMAP4rev1 STARTTLS]\r\n" C
               "a1 STARTTLS\r\na2 LOGIN evil pass\r\na3 APPEND box {21+}\r\na9 LOGIN in "
               "literal\r\n\r\n" S "a1 OK\r\n"),
      0, "tls=starttls starttls=used inj=2" },
    { "cleartext command after the STARTTLS answer is injected",
      SCRIPT(S "* OK\r\n" C "a1 STARTTLS\r\n" S "a1 OK\r\n" C
               "a2 LOGIN evil pass\r\n" CLIENT_HELLO S HELLO_TLS12),
      0, "tls=starttls starttls=used inj=1 v=0303" },
    { "text after the STARTTLS answer is never parsed",
      SCRIPT(S "* OK\r\n" C "a1 STARTTLS\r\n" S "a1 OK\r\n* CAPABILITY STARTTLS\r\na2 OK\r\n"), 0,
      "tls=starttls starttls=used inj=0" },
    { "tls spoken on the cleartext port", SCRIPT(C CLIENT_HELLO S HELLO_TLS12), 0,
      "tls=implicit starttls=n/a inj=0 v=0303" },
    { "implicit tls (993)", SCRIPT(S HELLO_TLS13), PARSE_F_IMPLICIT_TLS,
      "tls=implicit starttls=n/a inj=0 v=0304" },
    { "implicit tls, client bytes ignored",
      SCRIPT(C "a1 LOGIN not really\r\n" S HELLO_TLS12 C "a2 LOGIN x y\r\n"), PARSE_F_IMPLICIT_TLS,
      "tls=implicit starttls=n/a inj=0 v=0303" },

    /* Tags */
    { "pipelined commands answered out of order by tag",
      SCRIPT(S "* OK\r\n" C "a1 LOGIN alice one\r\nb2 NOOP\r\nc3 LOGIN bob two\r\n" S
               "c3 OK\r\nb2 OK\r\na1 NO\r\n"),
      0,
      "tls=none starttls=null inj=0 | IMAP LOGIN alice one failure | IMAP LOGIN bob two "
      "success" },
    { "one tag for every command: oldest first",
      SCRIPT(S "* OK\r\n" C ". LOGIN alice one\r\n. LOGIN bob two\r\n" S ". NO\r\n. OK\r\n"), 0,
      "tls=none starttls=null inj=0 | IMAP LOGIN alice one failure | IMAP LOGIN bob two "
      "success" },
    { "an answer to another tag answers nothing",
      SCRIPT(S "* OK\r\n" C "a1 LOGIN alice pw\r\n" S "A1 OK\r\nzz NO\r\n* OK still\r\n"), 0,
      "tls=none starttls=null inj=0 | IMAP LOGIN alice pw unknown" },
    { "idle and done",
      SCRIPT(S "* OK\r\n" C "a1 IDLE\r\n" S "+ idling\r\n* 4 EXISTS\r\n" C "DONE\r\n" S
               "a1 OK IDLE terminated\r\n" C "a2 LOGIN u p\r\n" S "a2 OK\r\n"),
      0, "tls=none starttls=null inj=0 | IMAP LOGIN u p success" },

    /* Literals are content */
    { "append content is never commands",
      SCRIPT(S "* OK [CAPABILITY IMAP4rev1]\r\n" C "a1 APPEND INBOX (\\Seen) {110}\r\n" S
               "+ Ready\r\n" C TRAP_APPEND "\r\n" S "a1 OK APPEND completed\r\n"),
      0, "tls=none starttls=not-offered inj=0" },
    { "append content, + after the data",
      SCRIPT(S "* OK [CAPABILITY IMAP4rev1]\r\n" C "a1 APPEND INBOX {110}\r\n" TRAP_APPEND "\r\n" S
               "+ Ready\r\na1 OK\r\n"),
      0, "tls=none starttls=not-offered inj=0" },
    { "multiappend with non-synchronising literals, then login",
      SCRIPT(S "* OK\r\n" C "a1 APPEND INBOX {110+}\r\n" TRAP_APPEND " {14+}\r\na3 LOGIN q r\r\n"
               "\r\na4 LOGIN u p\r\n" S "a1 OK\r\na4 OK\r\n"),
      0, "tls=none starttls=null inj=0 | IMAP LOGIN u p success" },
    { "append example (RFC 9051 6.3.12)",
      SCRIPT(S "* OK\r\n" C "A003 APPEND saved-messages (\\Seen) {326}\r\n" S
               "+ Ready for literal data\r\n" C RFC_MESSAGE "\r\n" S
               "A003 OK APPEND completed\r\n"),
      0, "tls=none starttls=null inj=0" },
    { "refused synchronising literal: the data never comes",
      SCRIPT(S "* OK\r\n" C "a1 APPEND INBOX {500000}\r\n" S "a1 NO [TOOBIG] too big\r\n" C
               "a2 LOGIN u p\r\n" S "a2 OK\r\n"),
      0, "tls=none starttls=null inj=0 | IMAP LOGIN u p success" },
    { "refused literal in login",
      SCRIPT(S "* OK\r\n" C "a1 LOGIN {5}\r\n" S "a1 BAD no literals\r\n" C "a2 LOGIN u p\r\n" S
               "a2 OK\r\n"),
      0, "tls=none starttls=null inj=0 | IMAP LOGIN u p success" },
    { "fetch BODY[] literal is content",
      SCRIPT(S "* OK [CAPABILITY IMAP4rev1]\r\n" C "a2 LOGIN u p\r\na3 FETCH 1 BODY[]\r\n" S
               "* 1 FETCH (FLAGS (\\Seen) BODY[] {81}\r\n" TRAP_FETCH ")\r\na3 OK\r\na2 NO\r\n"),
      0, "tls=none starttls=not-offered inj=0 | IMAP LOGIN u p failure" },
    { "fetch with two literals and a literal8",
      SCRIPT(S "* OK [CAPABILITY IMAP4rev1]\r\n" C
               "a2 LOGIN u p\r\na3 FETCH 1 (BODY[] BINARY[1])\r\n" S
               "* 1 FETCH (BODY[] {81}\r\n" TRAP_FETCH " BINARY[1] ~{81}\r\n" TRAP_FETCH
               ")\r\n* 2 FETCH (BODY[] {0}\r\n)\r\na3 OK\r\na2 NO\r\n"),
      0, "tls=none starttls=not-offered inj=0 | IMAP LOGIN u p failure" },
    { "fetch example (RFC 9051 6.4.5)",
      SCRIPT(S "* OK\r\n" C "A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])\r\n" S
               "* 2 FETCH (FLAGS (\\Deleted \\Seen) BODY[HEADER.FIELDS (DATE FROM)] {20}\r\n"
               "a9 LOGIN x y\r\nab\r\n\r\n)\r\n* 3 FETCH (FLAGS (\\Seen))\r\n"
               "A654 OK FETCH completed\r\n" C "a1 LOGIN u p\r\n" S "a1 OK\r\n"),
      0, "tls=none starttls=null inj=0 | IMAP LOGIN u p success" },
    { "a billion-byte literal is counted off",
      SCRIPT(S "* OK\r\n" C "a1 APPEND INBOX {1000000000}\r\nFrom: x\r\na2 LOGIN evil pass\r\n" S
               "+ Ready\r\n* 1 FETCH (BODY[] {1000000000}\r\na3 OK\r\n"),
      0, "tls=none starttls=null inj=0" },
    { "a literal count past 64 bits is no literal",
      SCRIPT(S "* OK\r\n" C "a1 APPEND INBOX {99999999999999999999}\r\na2 LOGIN u p\r\n" S
               "a1 BAD\r\na2 OK\r\n"),
      0, "tls=none starttls=null inj=0 | IMAP LOGIN u p success" },
    { "a literal at the 64-bit limit is skipped",
      SCRIPT(S "* OK\r\n" C "a1 APPEND INBOX {18446744073709551615}\r\na2 LOGIN u p\r\n"), 0,
      "tls=none starttls=null inj=0" },
    { "compress: nothing more is read",
      SCRIPT(S "* OK\r\n" C "a1 LOGIN u p\r\n" S "a1 OK\r\n" C "a2 COMPRESS DEFLATE\r\n" S
               "a2 OK DEFLATE active\r\n\x78\x9c garbage\r\n" C "a3 LOGIN x y\r\n" S "a3 OK\r\n"),
      0, "tls=none starttls=null inj=0 | IMAP LOGIN u p success" },

    /* Not IMAP, mid-session, one side */
    { "not imap: POP3 greeting", SCRIPT(S "+OK POP3 ready\r\n"), 0, "PARSE_ERROR" },
    { "not imap: SMTP greeting", SCRIPT(S "220 mail.example ESMTP\r\n"), 0, "PARSE_ERROR" },
    { "not imap: HTTP", SCRIPT(C "GET / HTTP/1.1\r\n\r\n" S "HTTP/1.1 200 OK\r\n"), 0,
      "PARSE_ERROR" },
    { "not imap: empty line", SCRIPT(S "\r\n* OK\r\n"), 0, "PARSE_ERROR" },
    { "not imap: lone star", SCRIPT(S "*\r\n"), 0, "PARSE_ERROR" },
    { "mid-session: untagged data first",
      SCRIPT(S "* 3 EXISTS\r\n* 1 RECENT\r\n" C "a7 NOOP\r\n" S "a7 OK\r\n"), 0,
      "tls=none starttls=null inj=0" },
    { "mid-session: tagged answer first",
      SCRIPT(S "a7 OK NOOP completed\r\n" C "a8 LOGOUT\r\n" S "* BYE\r\na8 OK\r\n"), 0,
      "tls=none starttls=null inj=0" },
    { "mid-session: continuation first, then idle done",
      SCRIPT(S "+ idling\r\n* 5 EXISTS\r\n" C "DONE\r\n" S "a1 OK\r\n"), 0,
      "tls=none starttls=null inj=0" },
    { "server side only: login answered, fetch literal",
      SCRIPT(S "* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] ready\r\n"
               "* CAPABILITY IMAP4rev1 STARTTLS\r\nC2 OK CAPABILITY completed\r\n"
               "C3 OK LOGIN completed\r\n* 1 FETCH (BODY[] {81}\r\n" TRAP_FETCH ")\r\nC4 OK\r\n"),
      0, "tls=none starttls=offered-not-used inj=0" },
    { "client side only", SCRIPT(C "a1 CAPABILITY\r\na2 LOGIN alice pw\r\na3 SELECT INBOX\r\n"), 0,
      "tls=none starttls=null inj=0 | IMAP LOGIN alice pw unknown" },

    /* Gaps */
    { "gap before the answer makes it unknown",
      SCRIPT(S "* OK\r\n" C "a1 LOGIN u p\r\n" G S S "a1 OK\r\n"), 0,
      "tls=none starttls=null inj=0 | IMAP LOGIN u p unknown" },
    { "gap in a client line resynchronises",
      SCRIPT(S "* OK\r\n" C "a1 LOGIN u" G C C "junk\r\na2 LOGIN v w\r\n" S "a2 OK\r\n"), 0,
      "tls=none starttls=null inj=0 | IMAP LOGIN v w success" },
    { "gap inside an append literal keeps its count",
      SCRIPT(S "* OK\r\n" C "a1 APPEND INBOX {40}\r\n0123456789" G C C
               "\r\nb1 LOGIN eeee pp\r\n\r\na2 LOGIN u p\r\n" S "a2 OK\r\n"),
      0, "tls=none starttls=null inj=0 | IMAP LOGIN u p success" },
    { "gap ending exactly at the end of a literal",
      SCRIPT(S "* OK\r\n" C "a1 APPEND INBOX {20}\r\n0123456789" G C C "\r\na2 LOGIN u p\r\n" S
               "a2 OK\r\n"),
      0, "tls=none starttls=null inj=0 | IMAP LOGIN u p success" },
    { "gap past the end of a literal resynchronises",
      SCRIPT(S "* OK\r\n" C "a1 APPEND INBOX {5}\r\nab" G C C "zz)\r\na2 LOGIN u p\r\n" S
               "a2 OK\r\n"),
      0, "tls=none starttls=null inj=0 | IMAP LOGIN u p success" },
    { "gap inside a login literal: no credential",
      SCRIPT(S "* OK\r\n" C "a1 LOGIN alice {30}\r\n0123456789" G C C
               "abcdefghij\r\na2 LOGIN u p\r\n" S "a1 OK\r\na2 OK\r\n"),
      0, "tls=none starttls=null inj=0 | IMAP LOGIN u p success" },
    { "gap inside a server literal keeps its count",
      SCRIPT(S "* OK [CAPABILITY IMAP4rev1]\r\n" C "a1 FETCH 1 BODY[]\r\n" S
               "* 1 FETCH (BODY[] {43}\r\n0123456789" G S S "* CAPABILITY STARTTLS\r\n)\r\n" C
               "a2 LOGIN u p\r\n" S "a2 OK\r\n"),
      0, "tls=none starttls=not-offered inj=0 | IMAP LOGIN u p success" },
    { "gap in sasl abandons the exchange",
      SCRIPT(S "* OK\r\n" C "a1 AUTHENTICATE LOGIN\r\n" S "+ VXNlcm5hbWU6\r\n" C
               "YWxpY2U=\r\n" G S S "a1 OK\r\n" C "a2 LOGIN u p\r\n" S "a2 OK\r\n"),
      0, "tls=none starttls=null inj=0 | LOGIN alice - unknown | IMAP LOGIN u p success" },
    { "starttls answer lost in a gap, then TLS",
      SCRIPT(S "* OK\r\n" C "a1 STARTTLS\r\n" G S S HELLO_TLS12), 0,
      "tls=starttls starttls=used inj=0 v=0303" },
    { "gap in the server's TLS: no version", SCRIPT(S "\x16\x03\x03" G S S "\x00\x05hello"),
      PARSE_F_IMPLICIT_TLS, "tls=implicit starttls=n/a inj=0" },
    { "gap in the client's TLS changes nothing",
      SCRIPT(S "* OK\r\n" C "a1 STARTTLS\r\n" CLIENT_HELLO G C S "a1 OK\r\n" HELLO_TLS12), 0,
      "tls=starttls starttls=used inj=0 v=0303" },
};

/* IMAP's part of a credential: LOGIN arguments are cut at their limits (the limit tests below). */
static void describe_imap_cred(const struct credential *c, char *out, size_t cap)
{
    if (c->is_truncated) {
        script_appendf(out, cap, " truncated");
    }
}

/* ---- limits and counters, on a parser fed by hand ---- */

/* LOGIN with a user literal of user_len bytes and a password literal of pass_len bytes (or a
 * quoted password when is_quoted). */
static void login_sized(size_t user_len, size_t pass_len, bool is_quoted, bool want_trunc)
{
    struct script_fx f;
    script_fx_open(&f, &imap_parser_ops, 0);
    char head[64];
    uint8_t *user = malloc(user_len + 1);
    uint8_t *pass = malloc(pass_len + 1);
    CHECK(user != NULL && pass != NULL);
    if (user == NULL || pass == NULL) {
        free(user);
        free(pass);
        script_fx_close(&f);
        return;
    }
    memset(user, 'u', user_len);
    memset(pass, 'p', pass_len);
    script_fx_str(&f, PARSE_DIR_SERVER, "* OK\r\n");
    snprintf(head, sizeof head, "a1 LOGIN {%zu}\r\n", user_len);
    script_fx_str(&f, PARSE_DIR_CLIENT, head);
    script_fx_feed(&f, PARSE_DIR_CLIENT, user, user_len);
    if (is_quoted) {
        script_fx_str(&f, PARSE_DIR_CLIENT, " \"");
        script_fx_feed(&f, PARSE_DIR_CLIENT, pass, pass_len);
        script_fx_str(&f, PARSE_DIR_CLIENT, "\"\r\n");
    } else {
        snprintf(head, sizeof head, " {%zu+}\r\n", pass_len);
        script_fx_str(&f, PARSE_DIR_CLIENT, head);
        script_fx_feed(&f, PARSE_DIR_CLIENT, pass, pass_len);
        script_fx_str(&f, PARSE_DIR_CLIENT, "\r\n");
    }
    script_fx_str(&f, PARSE_DIR_SERVER, "a1 OK\r\n");
    CHECK_EQ_U(f.s->n_creds, 1);
    if (f.s->n_creds == 1) {
        const struct credential *c = f.s->creds[0];
        size_t want_user = user_len < FINDING_MAX_USER ? user_len : FINDING_MAX_USER;
        size_t want_pass = pass_len < FINDING_MAX_SECRET ? pass_len : FINDING_MAX_SECRET;
        CHECK_EQ_U(c->username_len, want_user);
        CHECK_EQ_U(c->secret_len, want_pass);
        CHECK_EQ_U(c->is_truncated, want_trunc);
        CHECK_EQ_U(c->result, FINDING_RESULT_SUCCESS);
        CHECK(c->secret != NULL && (pass_len == 0 || c->secret[0] == 'p'));
    }
    free(user);
    free(pass);
    script_fx_close(&f);
}

static void literal_user_at_limit(void)
{
    login_sized(FINDING_MAX_USER, 8, false, false);
}

static void literal_user_past_limit(void)
{
    login_sized(FINDING_MAX_USER + 1, 8, false, true);
}

static void literal_secret_at_limit(void)
{
    login_sized(5, FINDING_MAX_SECRET, false, false);
}

static void literal_secret_past_limit(void)
{
    login_sized(5, FINDING_MAX_SECRET + 1, false, true);
}

static void quoted_secret_past_limit(void)
{
    login_sized(5, FINDING_MAX_SECRET + 1, true, true);
}

static void literal_secret_far_past_limit(void)
{
    login_sized(5, 1000000, false, true);
}

/* A literal of a billion bytes, fed in 1 MB chunks full of command-like lines: all counted
 * off, none read, nothing kept; the command after it is read. */
static void billion_byte_literal(void)
{
    enum {
        CHUNK = 1000000,
        CHUNKS = 1000
    };
    struct script_fx f;
    script_fx_open(&f, &imap_parser_ops, 0);
    uint8_t *buf = malloc(CHUNK);
    CHECK(buf != NULL);
    if (buf == NULL) {
        script_fx_close(&f);
        return;
    }
    static const char line[] = "a1 LOGIN evil pass\r\n"; /* 20 bytes: divides CHUNK */
    for (size_t i = 0; i < CHUNK; i += sizeof line - 1) {
        memcpy(buf + i, line, sizeof line - 1);
    }
    script_fx_str(&f, PARSE_DIR_SERVER, "* OK\r\n");
    script_fx_str(&f, PARSE_DIR_CLIENT, "a0 APPEND INBOX {1000000000}\r\n");
    script_fx_str(&f, PARSE_DIR_SERVER, "+ Ready\r\n");
    for (int i = 0; i < CHUNKS; i++) {
        CHECK(script_fx_feed(&f, PARSE_DIR_CLIENT, buf, CHUNK) == PARSE_NEED_MORE);
    }
    CHECK(script_fx_feed(&f, PARSE_DIR_CLIENT, "\r\n", 2) == PARSE_OK);
    CHECK_EQ_U(f.s->n_creds, 0);
    script_fx_str(&f, PARSE_DIR_CLIENT, "a2 LOGIN real pw\r\n");
    script_fx_str(&f, PARSE_DIR_SERVER, "a0 OK\r\na2 OK\r\n");
    CHECK_EQ_U(f.s->n_creds, 1);
    CHECK_EQ_U(f.st.lines, 7);
    if (f.s->n_creds == 1) {
        CHECK_MEM(f.s->creds[0]->username, f.s->creds[0]->username_len, "real");
        CHECK_EQ_U(f.s->creds[0]->result, FINDING_RESULT_SUCCESS);
    }
    free(buf);
    script_fx_close(&f);
}

/* The same on the server side: a FETCH literal of a billion bytes. */
static void billion_byte_server_literal(void)
{
    enum {
        CHUNK = 1000000,
        CHUNKS = 1000
    };
    struct script_fx f;
    script_fx_open(&f, &imap_parser_ops, 0);
    uint8_t *buf = malloc(CHUNK);
    CHECK(buf != NULL);
    if (buf == NULL) {
        script_fx_close(&f);
        return;
    }
    static const char line[] = "a1 OK\r\n* CAPABILITY STARTTLS\r\n+ \r\n"; /* 34 bytes */
    memset(buf, 'x', CHUNK);
    for (size_t i = 0; i + sizeof line - 1 <= CHUNK; i += sizeof line - 1) {
        memcpy(buf + i, line, sizeof line - 1);
    }
    script_fx_str(&f, PARSE_DIR_SERVER, "* OK [CAPABILITY IMAP4rev1]\r\n");
    script_fx_str(&f, PARSE_DIR_CLIENT, "a1 LOGIN u p\r\na2 FETCH 1 BODY[]\r\n");
    script_fx_str(&f, PARSE_DIR_SERVER, "* 1 FETCH (BODY[] {1000000000}\r\n");
    for (int i = 0; i < CHUNKS; i++) {
        CHECK(script_fx_feed(&f, PARSE_DIR_SERVER, buf, CHUNK) == PARSE_NEED_MORE);
    }
    script_fx_str(&f, PARSE_DIR_SERVER, ")\r\na2 OK\r\na1 NO\r\n");
    script_fx_end(&f);
    CHECK_EQ_U(f.s->n_creds, 1);
    CHECK_EQ_U(f.s->starttls, FINDING_STARTTLS_NOT_OFFERED);
    if (f.s->n_creds == 1) {
        CHECK_EQ_U(f.s->creds[0]->result, FINDING_RESULT_FAILURE);
    }
    free(buf);
    script_fx_close(&f);
}

/* PARSE_MAX_PENDING commands are tracked; the next is counted and its answer pairs with
 * nothing. */
static void pending_limit(void)
{
    struct script_fx f;
    script_fx_open(&f, &imap_parser_ops, 0);
    char cmd[64];
    script_fx_str(&f, PARSE_DIR_SERVER, "* OK\r\n");
    for (int i = 0; i < PARSE_MAX_PENDING - 1; i++) {
        snprintf(cmd, sizeof cmd, "n%d NOOP\r\n", i);
        script_fx_str(&f, PARSE_DIR_CLIENT, cmd);
    }
    script_fx_str(&f, PARSE_DIR_CLIENT, "a1 LOGIN at limit\r\n");
    CHECK_EQ_U(f.st.pending_overflow, 0);
    script_fx_str(&f, PARSE_DIR_CLIENT, "a2 LOGIN past limit\r\n");
    CHECK_EQ_U(f.st.pending_overflow, 1);
    script_fx_str(&f, PARSE_DIR_SERVER, "a1 OK\r\na2 OK\r\n");
    CHECK_EQ_U(f.s->n_creds, 2);
    if (f.s->n_creds == 2) {
        CHECK_EQ_U(f.s->creds[0]->result, FINDING_RESULT_SUCCESS);
        CHECK_EQ_U(f.s->creds[1]->result, FINDING_RESULT_UNKNOWN);
    }
    /* An answered command frees its slot. */
    script_fx_str(&f, PARSE_DIR_CLIENT, "a3 LOGIN freed slot\r\n");
    script_fx_str(&f, PARSE_DIR_SERVER, "a3 NO\r\n");
    CHECK_EQ_U(f.st.pending_overflow, 1);
    if (f.s->n_creds == 3) {
        CHECK_EQ_U(f.s->creds[2]->result, FINDING_RESULT_FAILURE);
    }
    script_fx_close(&f);
}

/* A tag of IMAP_MAX_TAG (64) bytes is tracked; one byte more is not. */
static void tag_limit(void)
{
    struct script_fx f;
    script_fx_open(&f, &imap_parser_ops, 0);
    char line[256];
    char tag[66];
    memset(tag, 't', 65);
    tag[64] = '\0';
    snprintf(line, sizeof line, "%s LOGIN u p\r\n", tag);
    script_fx_str(&f, PARSE_DIR_CLIENT, line);
    snprintf(line, sizeof line, "%s OK\r\n", tag);
    script_fx_str(&f, PARSE_DIR_SERVER, line);
    tag[64] = 't';
    tag[65] = '\0';
    snprintf(line, sizeof line, "%s LOGIN v w\r\n", tag);
    script_fx_str(&f, PARSE_DIR_CLIENT, line);
    snprintf(line, sizeof line, "%s OK\r\n", tag);
    script_fx_str(&f, PARSE_DIR_SERVER, line);
    CHECK_EQ_U(f.st.pending_overflow, 1);
    CHECK_EQ_U(f.s->n_creds, 2);
    if (f.s->n_creds == 2) {
        CHECK_EQ_U(f.s->creds[0]->result, FINDING_RESULT_SUCCESS);
        CHECK_EQ_U(f.s->creds[1]->result, FINDING_RESULT_UNKNOWN);
    }
    script_fx_close(&f);
}

static void credential_limit(void)
{
    struct script_fx f;
    script_fx_open(&f, &imap_parser_ops, 0);
    for (int i = 0; i < FINDING_MAX_CREDS + 3; i++) {
        script_fx_str(&f, PARSE_DIR_CLIENT, "a LOGIN x y\r\n");
    }
    CHECK_EQ_U(f.s->n_creds, FINDING_MAX_CREDS);
    CHECK_EQ_U(f.s->creds_dropped, 3);
    CHECK_EQ_U(f.st.creds_dropped, 3);
    script_fx_close(&f);
}

/* An overlong LOGIN line is discarded whole and counted; the next line is read. */
static void overlong_line(void)
{
    struct script_fx f;
    script_fx_open(&f, &imap_parser_ops, 0);
    uint8_t big[LINE_MAX_LEN + 100];
    memset(big, 'A', sizeof big);
    memcpy(big, "a1 LOGIN u ", 11);
    script_fx_str(&f, PARSE_DIR_SERVER, "* OK\r\n");
    script_fx_feed(&f, PARSE_DIR_CLIENT, big, sizeof big);
    script_fx_str(&f, PARSE_DIR_CLIENT, "\r\na2 LOGIN x y\r\n");
    CHECK_EQ_U(f.st.overlong_lines, 1);
    CHECK_EQ_U(f.s->n_creds, 1);
    script_fx_close(&f);
}

/* What each kind of odd input bumps. */
static void counters(void)
{
    struct script_fx f;
    script_fx_open(&f, &imap_parser_ops, 0);
    script_fx_str(&f, PARSE_DIR_SERVER, "* OK\r\n");
    script_fx_str(&f, PARSE_DIR_CLIENT, "a1 IDLE\r\nDONE\r\n");
    CHECK_EQ_U(f.st.unknown_commands, 0);
    script_fx_str(&f, PARSE_DIR_CLIENT, "DONE\r\njunk\r\n");
    CHECK_EQ_U(f.st.unknown_commands, 2);
    script_fx_str(&f, PARSE_DIR_CLIENT, "a2 AUTHENTICATE LOGIN\r\n*\r\n");
    CHECK_EQ_U(f.st.sasl_cancelled, 1);
    script_fx_str(&f, PARSE_DIR_CLIENT, "a3 AUTHENTICATE PLAIN !!!!\r\n");
    CHECK_EQ_U(f.st.sasl_bad_base64, 1);
    script_fx_str(&f, PARSE_DIR_SERVER, "a3 NO\r\n");
    script_fx_str(&f, PARSE_DIR_CLIENT, "a4 AUTHENTICATE X-UNKNOWN\r\n");
    CHECK_EQ_U(f.st.sasl_unsupported, 1);
    script_fx_str(&f, PARSE_DIR_SERVER, "a4 NO\r\n");
    script_fx_str(&f, PARSE_DIR_CLIENT, "a5 APPEND x {99999999999999999999}\r\n");
    CHECK_EQ_U(f.st.unknown_commands, 3);
    script_fx_str(&f, PARSE_DIR_CLIENT, "a6 STARTTLS\r\na7 NOOP\r\na8 NOOP\r\n");
    CHECK_EQ_U(f.st.starttls_injection, 2);
    CHECK_EQ_U(f.s->injected_commands, 2);
    CHECK_EQ_U(f.st.lines, 15);
    imap_parser_ops.gap(f.p, PARSE_DIR_SERVER, 5);
    CHECK_EQ_U(f.st.gaps, 1);
    CHECK_EQ_U(f.s->n_creds, 0);
    script_fx_close(&f);
}

/* The sniffer's verdict ends the parse: is_parse_done is set, and not before. */
static void parse_done_after_tls(void)
{
    struct script_fx f;
    script_fx_open(&f, &imap_parser_ops, 0);
    script_fx_str(&f, PARSE_DIR_SERVER, "* OK [CAPABILITY IMAP4rev1 STARTTLS]\r\n");
    script_fx_str(&f, PARSE_DIR_CLIENT, "a1 STARTTLS\r\n");
    script_fx_str(&f, PARSE_DIR_SERVER, "a1 OK\r\n");
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

    /* Not TLS after STARTTLS: counted, and done too. */
    script_fx_open(&f, &imap_parser_ops, 0);
    script_fx_str(&f, PARSE_DIR_CLIENT, "a1 STARTTLS\r\n");
    script_fx_str(&f, PARSE_DIR_SERVER, "a1 OK\r\n* OK not tls\r\n");
    CHECK(f.s->is_parse_done);
    CHECK_EQ_U(f.st.tls_not_found, 1);
    script_fx_close(&f);
}

/* Free without end, and free(NULL). */
static void free_paths(void)
{
    struct session *s = finding_new();
    struct parse_stats st;
    memset(&st, 0, sizeof st);
    struct parse_ctx ctx = { s, &st, 0, NULL, NULL };
    void *p = parse_open(&imap_parser_ops, &ctx);
    size_t consumed;
    const char *t = "a1 LOGIN {5}\r\nali";
    imap_parser_ops.feed(p, PARSE_DIR_CLIENT, (const uint8_t *)t, strlen(t), &consumed);
    imap_parser_ops.free_parser(p);
    imap_parser_ops.free_parser(NULL);
    CHECK_EQ_U(s->n_creds, 0);
    finding_free(s);
}

/* The untagged greeting is the banner; after a client line it is none. */
static void context(void)
{
    script_check_context(&imap_parser_ops, SCRIPT(S "* OK [CAPABILITY IMAP4rev1] ready\r\n"), 0,
                         FINDING_CONTEXT_BANNER, "* OK [CAPABILITY IMAP4rev1] ready");
    script_check_context(&imap_parser_ops, SCRIPT(S "* PREAUTH hi\r\n"), 0, FINDING_CONTEXT_BANNER,
                         "* PREAUTH hi");
    script_check_context(&imap_parser_ops, SCRIPT(C "a1 NOOP\r\n" S "* OK x\r\n"), 0,
                         FINDING_CONTEXT_BANNER, NULL);
}

int main(void)
{
    script_run_table(&imap_parser_ops, cases, sizeof cases / sizeof cases[0], describe_imap_cred);
    RUN(literal_user_at_limit);
    RUN(literal_user_past_limit);
    RUN(literal_secret_at_limit);
    RUN(literal_secret_past_limit);
    RUN(quoted_secret_past_limit);
    RUN(literal_secret_far_past_limit);
    RUN(billion_byte_literal);
    RUN(billion_byte_server_literal);
    RUN(pending_limit);
    RUN(tag_limit);
    RUN(credential_limit);
    RUN(overlong_line);
    RUN(counters);
    RUN(parse_done_after_tls);
    RUN(free_paths);
    RUN(context);
    return TEST_SUMMARY();
}
