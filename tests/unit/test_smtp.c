/* test_smtp.c - the SMTP parser, table-driven (script.h): each script fed whole and with every
 * chunk cut into pieces of 1 to 64 bytes; every way must give the same record. */
#include "smtp.h"

#include <stdint.h>
#include <string.h>

#include "finding.h"
#include "script.h"
#include "test.h"

/* A ClientHello stub (the parser only looks at its first byte). */
#define CLIENT_HELLO "\x16\x03\x01\x00\x05hello"
/* A TLS 1.2 ServerHello without extensions: legacy_version 0x0303. */
#define SERVER_HELLO_12                                                                            \
    "\x16\x03\x03\x00\x2a\x02\x00\x00\x26\x03\x03"                                                 \
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\x00\xc0\x2f\x00"
/* A TLS 1.3 ServerHello: supported_versions says 0x0304. */
#define SERVER_HELLO_13                                                                            \
    "\x16\x03\x03\x00\x32\x02\x00\x00\x2e\x03\x03"                                                 \
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\x00\x13\x01\x00\x00\x06\x00\x2b\x00\x02\x03\x04"

/* \0alice\0s3cret and \0bob\0x in base64. */
#define PLAIN_ALICE "AGFsaWNlAHMzY3JldA=="
#define PLAIN_BOB   "AGJvYgB4"

#define GREETING "220 mx.example.org ESMTP\r\n"

static const struct script_case cases[] = {
    /* AUTH (RFC 4954) */
    { "auth plain initial response",
      SCRIPT(S GREETING C "EHLO client.example.org\r\n" S
                          "250-mx.example.org\r\n250-PIPELINING\r\n250 AUTH PLAIN LOGIN\r\n" C
                          "AUTH PLAIN " PLAIN_ALICE "\r\n" S
                          "235 2.7.0 Authentication successful\r\n" C "QUIT\r\n" S "221 bye\r\n"),
      0, "tls=none starttls=not-offered inj=0 | PLAIN alice s3cret success" },
    { "auth plain after an empty 334 with a space",
      SCRIPT(S GREETING C "auth plain\r\n" S "334 \r\n" C PLAIN_ALICE "\r\n" S "235 ok\r\n"), 0,
      "tls=none starttls=null inj=0 | PLAIN alice s3cret success" },
    { "auth plain after a bare 334",
      SCRIPT(S GREETING C "AUTH PLAIN\r\n" S "334\r\n" C PLAIN_ALICE "\r\n" S "235 ok\r\n"), 0,
      "tls=none starttls=null inj=0 | PLAIN alice s3cret success" },
    { "auth login in three steps",
      SCRIPT(S GREETING C "AUTH LOGIN\r\n" S "334 VXNlcm5hbWU6\r\n" C "YWxpY2U=\r\n" S
                          "334 UGFzc3dvcmQ6\r\n" C "czNjcmV0\r\n" S "235 2.7.0 ok\r\n"),
      0, "tls=none starttls=null inj=0 | LOGIN alice s3cret success" },
    { "auth login with the user as initial response",
      SCRIPT(S GREETING C "AUTH LOGIN YWxpY2U=\r\n" S "334 UGFzc3dvcmQ6\r\n" C "czNjcmV0\r\n" S
                          "235 2.7.0 ok\r\n"),
      0, "tls=none starttls=null inj=0 | LOGIN alice s3cret success" },
    { "cram-md5 (rfc 2195 example)",
      SCRIPT(S GREETING C "AUTH CRAM-MD5\r\n" S
                          "334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n" C
                          "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\n" S
                          "235 2.7.0 Authentication successful\r\n"),
      0,
      "tls=none starttls=null inj=0 | CRAM-MD5 tim - success "
      "ch=<1896.697170952@postoffice.reston.mci.net> resp=b913a602c7eda7a495b4e6e7334d3890" },
    { "cram-md5 challenge with trailing space",
      SCRIPT(S GREETING C "AUTH CRAM-MD5\r\n" S
                          "334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+ \r\n" C
                          "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\n" S "535 no\r\n"),
      0,
      "tls=none starttls=null inj=0 | CRAM-MD5 tim - failure "
      "ch=<1896.697170952@postoffice.reston.mci.net> resp=b913a602c7eda7a495b4e6e7334d3890" },
    { "auth failure 535",
      SCRIPT(S GREETING C "AUTH PLAIN " PLAIN_ALICE "\r\n" S
                          "535 5.7.8 Authentication credentials invalid\r\n" C "QUIT\r\n" S
                          "221 bye\r\n"),
      0, "tls=none starttls=null inj=0 | PLAIN alice s3cret failure" },
    { "auth 4xx temporary failure",
      SCRIPT(S GREETING C "AUTH PLAIN " PLAIN_ALICE "\r\n" S
                          "454 4.7.0 Temporary authentication failure\r\n" C "AUTH LOGIN\r\n" S
                          "334 VXNlcm5hbWU6\r\n" C "Ym9i\r\n" S "334 UGFzc3dvcmQ6\r\n" C
                          "eA==\r\n" S "432 4.7.12 A password transition is needed\r\n"),
      0, "tls=none starttls=null inj=0 | PLAIN alice s3cret failure | LOGIN bob x failure" },
    { "auth cancelled with * then 501",
      SCRIPT(S GREETING C
             "AUTH LOGIN\r\n" S "334 VXNlcm5hbWU6\r\n" C "YWxpY2U=\r\n" S "334 UGFzc3dvcmQ6\r\n" C
             "*\r\n" S "501 5.7.0 Authentication cancelled\r\n" C "AUTH PLAIN " PLAIN_BOB "\r\n" S
             "235 ok\r\n"),
      0, "tls=none starttls=null inj=0 | LOGIN alice - unknown | PLAIN bob x success" },
    { "auth answered 503 and 504",
      SCRIPT(S GREETING C
             "EHLO c\r\n" S "250-mx\r\n250-SIZE 52428800\r\n250 STARTTLS\r\n" C "AUTH LOGIN\r\n" S
             "503 AUTH command used when not advertised\r\n" C "AUTH PLAIN " PLAIN_ALICE "\r\n" S
             "503 5.5.1 Not now\r\n" C "AUTH XOAUTH2 dXNlcj1qb2UBYXV0aD1CZWFyZXIgdG9rMTIzAQE=\r\n" S
             "504 5.5.4 Unrecognized authentication type\r\n" C "QUIT\r\n" S "221 bye\r\n"),
      0,
      "tls=none starttls=offered-not-used inj=0 | PLAIN alice s3cret failure | XOAUTH2 joe tok123 "
      "failure" },
    { "auth with an unreadable mechanism",
      SCRIPT(S GREETING C "AUTH NTLM TlRMTVNTUAABAAAAB4IIAAAAAAAAAAAAAAAAAAAAAAA=\r\n" S
                          "334 TlRMTVNTUAACAAAA\r\n" C "TlRMTVNTUAADAAAA\r\n" S "235 ok\r\n" C
                          "AUTH PLAIN " PLAIN_BOB "\r\n" S "503 already authenticated\r\n"),
      0, "tls=none starttls=null inj=0 | PLAIN bob x failure" },
    /* RFC 4954 section 4 and 6 examples (the greeting's "220-" in the RFC text would never end;
     * it is a complete reply here). */
    { "rfc 4954: auth plain with empty challenge",
      SCRIPT(S "220 smtp.example.com ESMTP Server\r\n" C "EHLO client.example.com\r\n" S
               "250-smtp.example.com Hello client.example.com\r\n250-AUTH DIGEST-MD5 PLAIN\r\n"
               "250 DSN\r\n" C "AUTH PLAIN\r\n" S "334\r\n" C "dGVzdAB0ZXN0ADEyMzQ=\r\n" S
               "235 2.7.0 Authentication successful\r\n"),
      0, "tls=none starttls=not-offered inj=0 | PLAIN test 1234 success" },
    { "rfc 4954: auth plain with initial response",
      SCRIPT(S "220 smtp.example.com ESMTP Server\r\n" C "EHLO client.example.com\r\n" S
               "250-smtp.example.com Hello client.example.com\r\n250-AUTH DIGEST-MD5 PLAIN\r\n"
               "250 DSN\r\n" C "AUTH PLAIN dGVzdAB0ZXN0ADEyMzQ=\r\n" S
               "235 2.7.0 Authentication successful\r\n"),
      0, "tls=none starttls=not-offered inj=0 | PLAIN test 1234 success" },
    { "rfc 4954: unknown mechanism then cram-md5",
      SCRIPT(S "220 smtp.example.com ESMTP server ready\r\n" C "EHLO jgm.example.com\r\n" S
               "250-smtp.example.com\r\n250 AUTH CRAM-MD5 DIGEST-MD5\r\n" C "AUTH FOOBAR\r\n" S
               "504 5.5.4 Unrecognized authentication type.\r\n" C "AUTH CRAM-MD5\r\n" S
               "334 PENCeUxFREJoU0NnbmhNWitOMjNGNndAZWx3b29kLmlubm9zb2Z0LmNvbT4=\r\n" C
               "ZnJlZCA5ZTk1YWVlMDljNDBhZjJiODRhMGMyYjNiYmFlNzg2ZQ==\r\n" S
               "235 2.7.0 Authentication successful\r\n"),
      0,
      "tls=none starttls=not-offered inj=0 | CRAM-MD5 fred - success "
      "ch=<CByLEDBhSCgnhMZ+N23F6w@elwood.innosoft.com> resp=9e95aee09c40af2b84a0c2b3bbae786e" },
    { "rfc 4954: starttls before auth",
      SCRIPT(S "220 smtp.example.com ESMTP Server\r\n" C "EHLO client.example.com\r\n" S
               "250-smtp.example.com Hello client.example.com\r\n250-AUTH GSSAPI DIGEST-MD5\r\n"
               "250-ENHANCEDSTATUSCODES\r\n250 STARTTLS\r\n" C "STARTTLS\r\n" S
               "220 Ready to start TLS\r\n" C CLIENT_HELLO S SERVER_HELLO_12),
      0, "tls=starttls starttls=used inj=0 v=0303" },
    /* EHLO and STARTTLS posture (RFC 3207) */
    { "ehlo lists starttls, not used",
      SCRIPT(S GREETING C "EHLO c\r\n" S "250-mx\r\n250-STARTTLS\r\n250 AUTH=LOGIN PLAIN\r\n" C
                          "AUTH LOGIN\r\n" S "334 VXNlcm5hbWU6\r\n" C "YWxpY2U=\r\n" S
                          "334 UGFzc3dvcmQ6\r\n" C "czNjcmV0\r\n" S "235 ok\r\n"),
      0, "tls=none starttls=offered-not-used inj=0 | LOGIN alice s3cret success" },
    { "starttls used, tls 1.2",
      SCRIPT(S GREETING C "EHLO c\r\n" S "250-mx\r\n250 STARTTLS\r\n" C "STARTTLS\r\n" S
                          "220 2.0.0 Ready to start TLS\r\n" C CLIENT_HELLO S SERVER_HELLO_12),
      0, "tls=starttls starttls=used inj=0 v=0303" },
    { "starttls used, tls 1.3, server hello in the 220's segment",
      SCRIPT(S GREETING C "ehlo c\r\n" S "250-mx\r\n250-8BITMIME\r\n250 starttls\r\n" C
                          "starttls\r\n" S "220 go ahead\r\n" SERVER_HELLO_13),
      0, "tls=starttls starttls=used inj=0 v=0304" },
    { "client hello before the 220 in capture order",
      SCRIPT(S GREETING C "EHLO c\r\n" S "250-mx\r\n250 STARTTLS\r\n" C
                          "STARTTLS\r\n" CLIENT_HELLO S "220 go ahead\r\n" SERVER_HELLO_13),
      0, "tls=starttls starttls=used inj=0 v=0304" },
    { "starttls refused 454",
      SCRIPT(S GREETING C "EHLO c\r\n" S "250-mx\r\n250 STARTTLS\r\n" C "STARTTLS\r\n" S
                          "454 4.7.0 TLS not available due to temporary reason\r\n" C
                          "AUTH PLAIN " PLAIN_ALICE "\r\n" S "235 ok\r\n"),
      0, "tls=none starttls=refused inj=0 | PLAIN alice s3cret success" },
    { "command injection after starttls",
      SCRIPT(S GREETING C "EHLO c\r\n" S "250-mx\r\n250 STARTTLS\r\n" C
                          "STARTTLS\r\nRSET\r\nAUTH PLAIN " PLAIN_ALICE "\r\n" S
                          "220 ready\r\n" SERVER_HELLO_12),
      0, "tls=starttls starttls=used inj=2 v=0303" },
    { "injected data keeps its body a body when starttls is refused",
      SCRIPT(S GREETING C "STARTTLS\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n" S
                          "454 no tls\r\n250 ok\r\n250 ok\r\n354 go\r\n" C "AUTH PLAIN " PLAIN_BOB
                          "\r\n.\r\n" S "250 queued\r\n"),
      0, "tls=none starttls=refused inj=3" },
    { "ehlo rejected, helo fallback",
      SCRIPT(S "220 pigeon.example.mil ESMTP Sendmail 8.8.7\r\n" C "EHLO delta.example.mil\r\n" S
               "500 Command unrecognized\r\n" C "HELO delta.example.mil\r\n" S
               "250 pleased to meet you\r\n" C "MAIL From:<a@b>\r\n" S "250 Sender ok\r\n"),
      0, "tls=none starttls=not-offered inj=0" },
    { "ehlo answered 421: not a rejection of extensions",
      SCRIPT(S GREETING C "EHLO c\r\n" S "421 4.3.2 System not accepting network messages\r\n" C
                          "HELO c\r\n" S "250 hi\r\n"),
      0, "tls=none starttls=null inj=0" },
    { "a later ehlo reply without starttls keeps the offer",
      SCRIPT(S GREETING C "EHLO c\r\n" S "250-mx\r\n250 STARTTLS\r\n" C "RSET\r\nEHLO c\r\n" S
                          "250 ok\r\n250-mx\r\n250 SIZE\r\n"),
      0, "tls=none starttls=offered-not-used inj=0" },
    { "helo only: posture unknown",
      SCRIPT(S "220 ESMTP okay\r\n" C "HELO mudynamics.com\r\n" S "250 Nice to meet you\r\n" C
               "AUTH PLAIN dXNlcm5hbWUAAHBhc3N3b3Jk\r\n" S "235 Okay\r\n"),
      0, "tls=none starttls=null inj=0 | PLAIN username password success" },
    { "no ehlo seen (mid-session)",
      SCRIPT(C "MAIL FROM:<a@b>\r\n" S "250 ok\r\n" C "QUIT\r\n" S "221 bye\r\n"), 0,
      "tls=none starttls=null inj=0" },
    { "starttls only in a non-ehlo reply, or not as a keyword",
      SCRIPT(S GREETING C "HELP\r\n" S "214-Commands:\r\n214-STARTTLS AUTH\r\n214 End\r\n" C
                          "EHLO c\r\n" S
                          "250-mx\r\n250-250 STARTTLS\r\n250-XSTARTTLS\r\n250 SIZE\r\n"),
      0, "tls=none starttls=not-offered inj=0" },
    { "early talker: greeting answers nothing",
      SCRIPT(C "EHLO c\r\n" S "220-mx\r\n220 ready\r\n250-mx\r\n250 STARTTLS\r\n"), 0,
      "tls=none starttls=offered-not-used inj=0" },
    /* RFC 5321 replies and transactions */
    { "rfc 5321 4.2.1: multi-line reply with a number-led line",
      SCRIPT(S GREETING C
             "EHLO c\r\n" S "250-First line\r\n250-Second line\r\n250-234 Text beginning with "
             "numbers\r\n250 The last line\r\n" C "AUTH PLAIN " PLAIN_ALICE "\r\n" S "535 no\r\n"),
      0, "tls=none starttls=not-offered inj=0 | PLAIN alice s3cret failure" },
    { "rfc 5321 d.1: a typical transaction",
      SCRIPT(S "220 foo.com Simple Mail Transfer Service Ready\r\n" C "EHLO bar.com\r\n" S
               "250-foo.com greets bar.com\r\n250-8BITMIME\r\n250-SIZE\r\n250-DSN\r\n250 HELP\r\n" C
               "MAIL FROM:<Smith@bar.com>\r\n" S "250 OK\r\n" C "RCPT TO:<Jones@foo.com>\r\n" S
               "250 OK\r\n" C "RCPT TO:<Green@foo.com>\r\n" S "550 No such user here\r\n" C
               "RCPT TO:<Brown@foo.com>\r\n" S "250 OK\r\n" C "DATA\r\n" S
               "354 Start mail input; end with <CRLF>.<CRLF>\r\n" C
               "Blah blah blah...\r\n...etc. etc. etc.\r\n.\r\n" S "250 OK\r\n" C "QUIT\r\n" S
               "221 foo.com Service closing transmission channel\r\n"),
      0, "tls=none starttls=not-offered inj=0" },
    { "reply code alone ends a reply",
      SCRIPT(S "220\r\n" C "EHLO c\r\n" S "250-mx\r\n250-STARTTLS\r\n250\r\n" C
               "AUTH PLAIN " PLAIN_ALICE "\r\n" S "235\r\n"),
      0, "tls=none starttls=offered-not-used inj=0 | PLAIN alice s3cret success" },
    { "pipelining: commands in one chunk, replies in one chunk",
      SCRIPT(S GREETING C "EHLO c\r\n" S "250-mx\r\n250-PIPELINING\r\n250 AUTH PLAIN\r\n" C
                          "AUTH PLAIN " PLAIN_ALICE "\r\n" S "235 ok\r\n" C
                          "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nRCPT TO:<e@f>\r\nDATA\r\n" S
                          "250 ok\r\n550 no such user\r\n250 ok\r\n354 go ahead\r\n" C
                          "Subject: x\r\n\r\nAUTH PLAIN AGEAYg==\r\n.\r\n" S "250 queued\r\n" C
                          "AUTH PLAIN " PLAIN_BOB "\r\n" S "503 already authenticated\r\n"),
      0, "tls=none starttls=not-offered inj=0 | PLAIN alice s3cret success | PLAIN bob x failure" },
    { "data body is content",
      SCRIPT(S GREETING C "DATA\r\n" S "354 go\r\n" C
                          "AUTH PLAIN AGEAYg==\r\nUSER x\r\nPASS x\r\na1 LOGIN x y\r\n+OK\r\n"
                          "..AUTH PLAIN AGEAYg==\r\n..\r\n.x\r\nSTARTTLS\r\nEHLO x\r\n"
                          "\x16\x03\x01 not tls\r\nDATA\r\n.\r\n" S "250 ok\r\n" C "QUIT\r\n" S
                          "221 bye\r\n"),
      0, "tls=none starttls=null inj=0" },
    { "a dot next to a bare lf is content, not the end of the body",
      SCRIPT(S GREETING C
             "DATA\r\n" S "354 go\r\n" C "Subject: x\r\n\r\ntext\n.\nAUTH PLAIN " PLAIN_BOB
             "\r\n.\nMAIL FROM:<x@y>\r\ntext\n.\r\nAUTH PLAIN " PLAIN_BOB "\r\n"
             "\r\n.\r\n" S "250 ok\r\n" C "AUTH PLAIN " PLAIN_ALICE "\r\n" S "235 ok\r\n"),
      0, "tls=none starttls=null inj=0 | PLAIN alice s3cret success" },
    { "a body in bare lf lines ends at its first crlf dot crlf after a crlf",
      SCRIPT(S GREETING C "DATA\r\n" S "354 go\r\n" C "a\nb\n.\n.\r\nc\r\n.\r\n" S "250 ok\r\n" C
                          "AUTH PLAIN " PLAIN_ALICE "\r\n" S "235 ok\r\n"),
      0, "tls=none starttls=null inj=0 | PLAIN alice s3cret success" },
    { "body follows data at once, before the 354",
      SCRIPT(S GREETING C "DATA\r\nAUTH PLAIN AGEAYg==\r\n.\r\n" S "354 go\r\n250 ok\r\n" C
                          "AUTH PLAIN " PLAIN_BOB "\r\n" S "535 no\r\n"),
      0, "tls=none starttls=null inj=0 | PLAIN bob x failure" },
    { "capture starts inside a body: its auth line is no credential",
      SCRIPT(C "Subject: how to log in\r\n\r\nAUTH PLAIN " PLAIN_ALICE "\r\n.\r\n" S
               "250 2.0.0 Ok: queued as 4AbC\r\n" C "AUTH PLAIN " PLAIN_BOB "\r\n" S "535 no\r\n"),
      PARSE_F_MIDSTREAM, "tls=none starttls=null inj=0 | PLAIN bob x failure" },
    { "begun mid-session before a login: the login is read",
      SCRIPT(C "AUTH PLAIN " PLAIN_ALICE "\r\n" S "235 ok\r\n"), PARSE_F_MIDSTREAM,
      "tls=none starttls=null inj=0 | PLAIN alice s3cret success" },
    { "a 250 cannot answer auth: the credential is dropped",
      SCRIPT(S GREETING C "AUTH PLAIN " PLAIN_ALICE "\r\n" S "250 ok\r\n"), 0,
      "tls=none starttls=null inj=0" },
    { "data rejected 554, auth found after",
      SCRIPT(S GREETING C "MAIL FROM:<a@b>\r\n" S "250 ok\r\n" C "RCPT TO:<c@d>\r\n" S
                          "550 no\r\n" C "DATA\r\n" S "554 5.5.1 Error: no valid recipients\r\n" C
                          "AUTH PLAIN " PLAIN_ALICE "\r\n" S "235 ok\r\n"),
      0, "tls=none starttls=null inj=0 | PLAIN alice s3cret success" },
    { "data rejected 451, auth found after",
      SCRIPT(S GREETING C "DATA\r\n" S "451 4.3.0 try again later\r\n" C "AUTH PLAIN " PLAIN_ALICE
                          "\r\n" S "235 ok\r\n"),
      0, "tls=none starttls=null inj=0 | PLAIN alice s3cret success" },
    { "pipelined data rejected 503",
      SCRIPT(S GREETING C "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n" S
                          "553 bad sender\r\n503 need mail\r\n503 need rcpt\r\n" C
                          "AUTH PLAIN " PLAIN_ALICE "\r\n" S "235 ok\r\n"),
      0, "tls=none starttls=null inj=0 | PLAIN alice s3cret success" },
    { "bdat chunks are skipped by count",
      SCRIPT(S GREETING C "BDAT 39\r\nAUTH PLAIN AGEAYg==\r\nEHLO x\r\nSTARTTLS\r\n"
                          "BDAT 5\r\nAUTH BDAT 3\r\n\x16\x03\x01"
                          "bdat 0 LAST\r\n" S
                          "250 39 octets\r\n250 5 octets\r\n250 3 octets\r\n250 accepted\r\n" C
                          "AUTH PLAIN " PLAIN_ALICE "\r\n" S "235 ok\r\n"),
      0, "tls=none starttls=null inj=0 | PLAIN alice s3cret success" },
    { "bdat size at the 64-bit bound skips the rest",
      SCRIPT(S GREETING C "BDAT 18446744073709551615\r\nAUTH PLAIN " PLAIN_ALICE "\r\n" S
                          "250 ok\r\n"),
      0, "tls=none starttls=null inj=0" },
    { "bdat size past the 64-bit bound skips the rest",
      SCRIPT(S GREETING C "BDAT 18446744073709551616\r\nAUTH PLAIN " PLAIN_ALICE "\r\n" S
                          "250 ok\r\n"),
      0, "tls=none starttls=null inj=0" },
    { "bdat without a size skips nothing",
      SCRIPT(S GREETING C "BDAT\r\nBDAT x1\r\nAUTH PLAIN " PLAIN_ALICE "\r\n" S
                          "501 syntax\r\n501 syntax\r\n235 ok\r\n"),
      0, "tls=none starttls=null inj=0 | PLAIN alice s3cret success" },
    /* Not SMTP, implicit TLS */
    { "http on port 25", SCRIPT(C "GET / HTTP/1.1\r\n\r\n" S "HTTP/1.1 400 Bad Request\r\n"), 0,
      "PARSE_ERROR" },
    { "socks5 on port 25",
      SCRIPT(C "\x05\x01\x00" S "\x05\x00" C "\x05\x01\x00\x01\x0a\x00\x00\x01\x00\x19" S
               "\x05\x00\x00\x01\x0a\x00\x00\x01\x00\x19" GREETING),
      0, "PARSE_ERROR" },
    { "three digits without a separator are no reply", SCRIPT(S "2500 bytes follow\r\n"), 0,
      "PARSE_ERROR" },
    { "implicit tls", SCRIPT(C CLIENT_HELLO S SERVER_HELLO_12), PARSE_F_IMPLICIT_TLS,
      "tls=implicit starttls=n/a inj=0 v=0303" },
    { "plaintext banner on 465",
      SCRIPT(C CLIENT_HELLO S "220-gator.example.com ESMTP Exim\r\n220 no UCE\r\n"),
      PARSE_F_IMPLICIT_TLS, "tls=implicit starttls=n/a inj=0" },
    { "tls spoken on the cleartext port", SCRIPT(C CLIENT_HELLO S SERVER_HELLO_13), 0,
      "tls=implicit starttls=n/a inj=0 v=0304" },
    { "a tls record after a cleartext credential is no implicit tls",
      SCRIPT(C "AUTH LOGIN YWxpY2U=\r\n*\r\n" CLIENT_HELLO S "501 cancelled\r\n"), 0,
      "tls=none starttls=null inj=0 | LOGIN alice - unknown" },
    /* Gaps */
    { "gap before the auth verdict makes it unknown",
      SCRIPT(S GREETING C "AUTH PLAIN " PLAIN_ALICE "\r\n" G S S "235 ok\r\n" C "QUIT\r\n" S
                          "221 bye\r\n"),
      0, "tls=none starttls=null inj=0 | PLAIN alice s3cret unknown" },
    { "gap forgets the pending replies",
      SCRIPT(S GREETING C "EHLO c\r\n" G S S "ost tail\r\n250-mx\r\n250 STARTTLS\r\n" C
                          "AUTH PLAIN " PLAIN_ALICE "\r\n" S "235 ok\r\n"),
      0, "tls=none starttls=null inj=0 | PLAIN alice s3cret success" },
    { "server gap inside an auth exchange: the client's password is still read",
      SCRIPT(S GREETING C "AUTH LOGIN\r\n" S "334 VXNlcm5hbWU6\r\n" C "YWxpY2U=\r\n" G S S
                          "334 UGFzc3dvcmQ6\r\n" C "czNjcmV0\r\n" S "235 ok\r\n"),
      0, "tls=none starttls=null inj=0 | LOGIN alice s3cret unknown" },
    { "server gap inside an auth exchange: commands after its last message are commands",
      SCRIPT(S GREETING C "AUTH LOGIN\r\n" S "334 VXNlcm5hbWU6\r\n" C "YWxpY2U=\r\n" G S C
                          "czNjcmV0\r\nMAIL FROM:<a@b>\r\nAUTH PLAIN " PLAIN_BOB "\r\n" S
                          "tail of a lost reply\r\n250 ok\r\n235 ok\r\n"),
      0, "tls=none starttls=null inj=0 | LOGIN alice s3cret unknown | PLAIN bob x success" },
    { "client gap inside an auth exchange aborts it",
      SCRIPT(S GREETING C "AUTH LOGIN\r\n" S "334 VXNlcm5hbWU6\r\n" C "YWxpY2U=\r\n" G C S
                          "334 UGFzc3dvcmQ6\r\n" C "czNjcmV0\r\n" S "235 ok\r\n"),
      0, "tls=none starttls=null inj=0 | LOGIN alice - unknown" },
    { "gap in a client line resynchronises",
      SCRIPT(S GREETING C "NOOP\r\n" S "250 ok\r\n" C "MAIL FR" G C C
                          "OM:<x>\r\nAUTH PLAIN " PLAIN_BOB "\r\n" S "235 ok\r\n"),
      0, "tls=none starttls=null inj=0 | PLAIN bob x success" },
    { "gap in a data body: still a body until the dot",
      SCRIPT(S GREETING C "DATA\r\n" S "354 go\r\n" C "line one\r\nAUTH PL" G C C
                          "AIN junk\r\nAUTH PLAIN AGEAYg==\r\n.\r\n" S "250 ok\r\n" C
                          "AUTH PLAIN " PLAIN_ALICE "\r\n" S "235 ok\r\n"),
      0, "tls=none starttls=null inj=0 | PLAIN alice s3cret success" },
    { "gap inside a bdat chunk keeps the count",
      SCRIPT(S GREETING C "BDAT 40\r\nAUTH PLAIN" G C C " AGEAYg==\r\nEHLO xy\r\n"
                          "AUTH PLAIN " PLAIN_ALICE "\r\n" S "250 ok\r\n235 ok\r\n"),
      0, "tls=none starttls=null inj=0 | PLAIN alice s3cret success" },
    { "gap past the end of a bdat chunk resynchronises",
      SCRIPT(S GREETING C "BDAT 12\r\n0123456789" S "250 ok\r\n" G C C
                          "junk\r\nAUTH PLAIN " PLAIN_ALICE "\r\n" S "235 ok\r\n"),
      0, "tls=none starttls=null inj=0 | PLAIN alice s3cret success" },
    { "starttls reply lost, the client goes to tls",
      SCRIPT(S GREETING C "EHLO c\r\n" S "250-mx\r\n250 STARTTLS\r\n" C
                          "STARTTLS\r\n" G S C CLIENT_HELLO S SERVER_HELLO_12),
      0, "tls=starttls starttls=used inj=0 v=0303" },
    { "gap in the server's tls bytes",
      SCRIPT(S GREETING C "STARTTLS\r\n" S "220 go\r\n\x16\x03\x03" G S S "\x00\x2a\x02"), 0,
      "tls=starttls starttls=used inj=0" },
};

/* Counters of a script fed whole. */
static struct parse_stats stats_of(const char *script, size_t script_len, unsigned flags,
                                   size_t *n_creds)
{
    struct parse_stats st;
    bool is_dead;
    struct session *s = script_feed(&smtp_parser_ops, script, script_len, flags, 0, &st, &is_dead);
    *n_creds = s->n_creds;
    finding_free(s);
    return st;
}

static void counters(void)
{
    size_t n_creds;
    struct parse_stats st =
        stats_of(SCRIPT(S GREETING C "XYZZY\r\nEHLO\r\n\r\nSTARTTLS\r\nRSET\r\nQUIT\r\n" S
                                     "500 what\r\n501 syntax\r\n500 empty\r\n220 go\r\n"),
                 0, &n_creds);
    CHECK_EQ_U(st.unknown_commands, 2);
    CHECK_EQ_U(st.starttls_injection, 2);
    CHECK_EQ_U(n_creds, 0);

    st = stats_of(SCRIPT(S GREETING C "AUTH LOGIN\r\n" S "334 VXNlcm5hbWU6\r\n" C "*\r\n" S
                                      "501 cancelled\r\n" C "AUTH GSSAPI\r\n" S "504 no\r\n"),
                  0, &n_creds);
    CHECK_EQ_U(st.sasl_cancelled, 1);
    CHECK_EQ_U(st.sasl_unsupported, 1);
    CHECK_EQ_U(st.unknown_commands, 0);

    st = stats_of(SCRIPT(C CLIENT_HELLO S "220 smtp.example.com\r\n"), PARSE_F_IMPLICIT_TLS,
                  &n_creds);
    CHECK_EQ_U(st.tls_not_found, 1);

    st = stats_of(SCRIPT(S GREETING C "NOOP\r\n" G C S "250 ok\r\n"), 0, &n_creds);
    CHECK_EQ_U(st.gaps, 1);
}

static void not_smtp_first_line_only(void)
{
    struct script_fx f;
    script_fx_open(&f, &smtp_parser_ops, 0);
    CHECK(script_fx_str(&f, PARSE_DIR_SERVER, GREETING) == PARSE_OK);
    /* Later non-reply lines are skipped, not fatal. */
    CHECK(script_fx_str(&f, PARSE_DIR_SERVER, "garbage\r\n") == PARSE_OK);
    CHECK(script_fx_str(&f, PARSE_DIR_SERVER, "250 partial") == PARSE_NEED_MORE);
    script_fx_free(&f);
}

/* An AUTH PLAIN line of exactly n bytes: spaces pad before a 4-aligned base64 argument. */
static size_t long_auth_line(uint8_t *buf, size_t n)
{
    size_t b64 = (n - 10) / 4 * 4; /* "AUTH PLAIN" is 10 bytes, then at least one space */
    if (10 + b64 >= n) {
        b64 -= 4;
    }
    size_t spaces = n - 10 - b64;
    memcpy(buf, "AUTH PLAIN", 10);
    memset(buf + 10, ' ', spaces);
    /* "AHUA" is \0u\0: an empty authzid, user "u"; the rest decodes to the password. */
    memcpy(buf + 10 + spaces, "AHUA", 4);
    memset(buf + 14 + spaces, 'Q', b64 - 4);
    memcpy(buf + n, "\r\n", 2);
    return n + 2;
}

static void line_limit(void)
{
    static uint8_t big[LINE_MAX_LEN + 8];
    for (size_t extra = 0; extra <= 1; extra++) {
        struct script_fx f;
        script_fx_open(&f, &smtp_parser_ops, 0);
        script_fx_str(&f, PARSE_DIR_SERVER, GREETING);
        size_t n = long_auth_line(big, LINE_MAX_LEN + extra);
        script_fx_feed(&f, PARSE_DIR_CLIENT, big, n);
        script_fx_str(&f, PARSE_DIR_SERVER, "535 no\r\n");
        script_fx_end(&f);
        /* At the limit the line is read (its password cut at FINDING_MAX_SECRET); one past it is
         * discarded and counted. */
        CHECK_EQ_U(f.st.overlong_lines, extra);
        CHECK_EQ_U(f.s->n_creds, 1 - extra);
        if (f.s->n_creds == 1) {
            CHECK(f.s->creds[0]->is_truncated);
            CHECK_EQ_U(f.s->creds[0]->secret_len, FINDING_MAX_SECRET);
            CHECK(f.s->creds[0]->result == FINDING_RESULT_FAILURE);
        }
        script_fx_free(&f);
    }
}

static void pending_limit(void)
{
    for (size_t extra = 0; extra <= 1; extra++) {
        struct script_fx f;
        script_fx_open(&f, &smtp_parser_ops, 0);
        script_fx_str(&f, PARSE_DIR_SERVER, GREETING);
        for (size_t i = 0; i < PARSE_MAX_PENDING - 1 + extra; i++) {
            script_fx_str(&f, PARSE_DIR_CLIENT, "NOOP\r\n");
        }
        /* The last command fills the queue exactly, or is one past it. */
        script_fx_str(&f, PARSE_DIR_CLIENT, "AUTH PLAIN " PLAIN_ALICE "\r\n");
        CHECK_EQ_U(f.st.pending_overflow, extra);
        for (size_t i = 0; i < PARSE_MAX_PENDING - 1 + extra; i++) {
            script_fx_str(&f, PARSE_DIR_SERVER, "250 ok\r\n");
        }
        script_fx_str(&f, PARSE_DIR_SERVER, "235 ok\r\n");
        /* The next exchange is read as usual either way. */
        script_fx_str(&f, PARSE_DIR_CLIENT, "AUTH PLAIN " PLAIN_BOB "\r\n");
        script_fx_str(&f, PARSE_DIR_SERVER, "535 no\r\n");
        script_fx_end(&f);
        CHECK_EQ_U(f.s->n_creds, 2);
        if (f.s->n_creds == 2) {
            /* Past the bound the verdict cannot be paired: unknown, never guessed. */
            CHECK(f.s->creds[0]->result ==
                  (extra == 0 ? FINDING_RESULT_SUCCESS : FINDING_RESULT_UNKNOWN));
            CHECK(f.s->creds[1]->result == FINDING_RESULT_FAILURE);
        }
        script_fx_free(&f);
    }
}

static void credential_limit(void)
{
    struct script_fx f;
    script_fx_open(&f, &smtp_parser_ops, 0);
    script_fx_str(&f, PARSE_DIR_SERVER, GREETING);
    for (int i = 0; i < FINDING_MAX_CREDS + 3; i++) {
        script_fx_str(&f, PARSE_DIR_CLIENT, "AUTH PLAIN " PLAIN_BOB "\r\n");
        script_fx_str(&f, PARSE_DIR_SERVER, "535 no\r\n");
    }
    script_fx_end(&f);
    CHECK_EQ_U(f.s->n_creds, FINDING_MAX_CREDS);
    CHECK_EQ_U(f.s->creds_dropped, 3);
    CHECK_EQ_U(f.st.creds_dropped, 3);
    script_fx_free(&f);
}

/* The greeting's first line is the banner and the EHLO or HELO argument the client's name; a
 * session begun mid-stream has no banner; a control byte is escaped; an EHLO injected after
 * STARTTLS names nobody. */
static void context(void)
{
    script_check_context(
        &smtp_parser_ops,
        SCRIPT(S "220-mx.example.org ESMTP\r\n220 hi\r\n" C "EHLO client.test\r\n"), 0,
        FINDING_CONTEXT_BANNER, "220-mx.example.org ESMTP");
    script_check_context(&smtp_parser_ops,
                         SCRIPT(S GREETING C "EHLO client.test\r\n" S "250 ok\r\n"), 0,
                         FINDING_CONTEXT_CLIENT_NAME, "client.test");
    script_check_context(&smtp_parser_ops, SCRIPT(S GREETING C "HELO  [192.0.2.1]\r\n"), 0,
                         FINDING_CONTEXT_CLIENT_NAME, "[192.0.2.1]");
    script_check_context(&smtp_parser_ops, SCRIPT(S GREETING C "EHLO\r\n"), 0,
                         FINDING_CONTEXT_CLIENT_NAME, NULL);
    script_check_context(&smtp_parser_ops, SCRIPT(S "220 a\x1b[2Jb\\\r\n"), 0,
                         FINDING_CONTEXT_BANNER, "220 a\\x1b[2Jb\\\\");
    script_check_context(&smtp_parser_ops, SCRIPT(S "250 ok\r\n"), PARSE_F_MIDSTREAM,
                         FINDING_CONTEXT_BANNER, NULL);
    script_check_context(&smtp_parser_ops,
                         SCRIPT(S GREETING C "EHLO a\r\n" S "250 STARTTLS\r\n" C
                                             "STARTTLS\r\nEHLO evil\r\n" S "220 go\r\n"),
                         0, FINDING_CONTEXT_CLIENT_NAME, "a");
}

int main(void)
{
    script_run_table(&smtp_parser_ops, cases, sizeof cases / sizeof cases[0], NULL);
    RUN(counters);
    RUN(not_smtp_first_line_only);
    RUN(line_limit);
    RUN(pending_limit);
    RUN(credential_limit);
    RUN(context);
    return TEST_SUMMARY();
}
