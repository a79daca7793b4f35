/* test_classify.c - unit tests for classify: ports, and the verdict on undecided flows.
 *
 * Undecided flows are driven directly, without flow: each case is a script of segments (who
 * sends, TCP flags, stream offset, payload) with the verdict expected after each, then the
 * protocol named, which end the result says the server is, and every counter. Segments are
 * built as real IPv4 or IPv6 packets and decoded with decode_packet, because classify keeps
 * the IP bytes and decodes them again. Each script runs twice, once with the client as the
 * "a" end and once with the server, and must come out the same. After each segment the bytes
 * the flow says it holds must be what it asked the charge callback for; at the end the held
 * packets must replay exactly as fed. The server's ISN sits just below 2^32, so every greeting
 * crosses the wrap. Cases that run nDPI (a flow seen mid-stream) check the counters nDPI's
 * pace does not decide. Known failures of classify run last and print a note; they do not
 * fail the run. */
#include "classify.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "registry.h"
#include "test.h"
#include "tunables.h"

#define F_SYN DECODE_TCP_SYN
#define F_SA  (DECODE_TCP_SYN | DECODE_TCP_ACK)
#define F_A   DECODE_TCP_ACK
#define F_PA  (DECODE_TCP_PSH | DECODE_TCP_ACK)
#define F_FA  (DECODE_TCP_FIN | DECODE_TCP_ACK)
#define F_FPA (DECODE_TCP_FIN | DECODE_TCP_PSH | DECODE_TCP_ACK)
#define F_RA  (DECODE_TCP_RST | DECODE_TCP_ACK)
#define USEC  1000000u
#define T0    ((uint64_t)1700000000 * USEC)

#define CL 0 /* the client sends */
#define SV 1 /* the server sends */

#define CLIENT_ISN  1000u
#define SERVER_ISN  0xfffffffeu /* the server's stream crosses 2^32 at its second byte */
#define CLIENT_PORT 48000u
#define SERVER_PORT 8110u /* no registry port: only the content (or nDPI) decides */

#define MAX_STEPS 12
#define MAX_SENT  (CLASSIFY_MAX_PACKETS + 8)
#define NEXT      UINT32_MAX /* a step's offset: where the sender's stream is */
#define ANY       (-1)       /* a step's verdict: not checked (nDPI's pace) */
#define WIRE_CAP  (40 + 20 + CLASSIFY_MAX_BYTES + 64)

struct step {
    uint8_t who; /* CL or SV */
    uint8_t flags;
    uint32_t off;     /* stream offset of the payload (0: the byte after the SYN), or NEXT */
    const char *data; /* NULL with len > 0: len bytes of 'x' */
    size_t len;
    unsigned repeat; /* sent this many times (0 as 1) */
    int want;        /* enum classify_verdict after it, or ANY */
};

#define SEG(w, fl, s, v)                                                                           \
    {                                                                                              \
        w, fl, NEXT, s, sizeof(s) - 1, 1, v                                                        \
    }
#define SEG_AT(w, fl, off, s, v)                                                                   \
    {                                                                                              \
        w, fl, off, s, sizeof(s) - 1, 1, v                                                         \
    }
#define BARE(w, fl, v)                                                                             \
    {                                                                                              \
        w, fl, NEXT, NULL, 0, 1, v                                                                 \
    }
#define BARE_N(w, fl, n, v)                                                                        \
    {                                                                                              \
        w, fl, NEXT, NULL, 0, n, v                                                                 \
    }
#define FILL_AT(w, fl, off, n, v)                                                                  \
    {                                                                                              \
        w, fl, off, NULL, n, 1, v                                                                  \
    }
#define HANDSHAKE                                                                                  \
    BARE(CL, F_SYN, CLASSIFY_MORE), BARE(SV, F_SA, CLASSIFY_MORE), BARE(CL, F_A, CLASSIFY_MORE)

struct cls_case {
    const char *name;
    uint8_t ip_version; /* 4 (or 0) or 6 */
    uint16_t vlan;
    bool is_ndpi;           /* classify_new(true); the nDPI counters' pace is not checked */
    bool is_charge_limited; /* the charge callback grants charge_grants calls, then refuses */
    unsigned charge_grants;
    struct step steps[MAX_STEPS];
    const char *proto;    /* the row named on CLASSIFY_MAIL; NULL: not mail */
    bool is_server_dst;   /* of the result, on CLASSIFY_MAIL */
    bool is_last_dropped; /* the last packet was not held: the flow gave up instead */
    struct classify_stats st;
};

/* The cases: each runs with the client as the "a" end, then with the server. */
static const struct cls_case cases[] = {
    { .name = "POP3 +OK after the handshake",
      .steps = { HANDSHAKE, SEG(SV, F_PA, "+OK POP3 ready\r\n", CLASSIFY_MAIL) },
      .proto = "pop3",
      .is_server_dst = true,
      .st = { .by_content = 1 } },
    { .name = "POP3 +OK over IPv6, VLAN 7",
      .ip_version = 6,
      .vlan = 7,
      .steps = { HANDSHAKE, SEG(SV, F_PA, "+OK dovecot ready.\r\n", CLASSIFY_MAIL) },
      .proto = "pop3",
      .is_server_dst = true,
      .st = { .by_content = 1 } },
    { .name = "POP3 +OK cut after the +",
      .steps = { HANDSHAKE, SEG(SV, F_PA, "+", CLASSIFY_MORE),
                 SEG(SV, F_PA, "OK ready\r\n", CLASSIFY_MAIL) },
      .proto = "pop3",
      .is_server_dst = true,
      .st = { .by_content = 1 } },
    { .name = "POP3 with the client's SYN missed: the SYN-ACK names the sides",
      .steps = { BARE(SV, F_SA, CLASSIFY_MORE), BARE(CL, F_A, CLASSIFY_MORE),
                 SEG(SV, F_PA, "+OK\r\n", CLASSIFY_MAIL) },
      .proto = "pop3",
      .is_server_dst = false, /* the first held packet is the server's */
      .st = { .by_content = 1 } },
    { .name = "IMAP * OK",
      .steps = { HANDSHAKE, SEG(SV, F_PA, "* OK IMAP4rev2 Service Ready\r\n", CLASSIFY_MAIL) },
      .proto = "imap",
      .is_server_dst = true,
      .st = { .by_content = 1 } },
    { .name = "IMAP * OK over IPv6",
      .ip_version = 6,
      .steps = { HANDSHAKE, SEG(SV, F_PA, "* OK ready\r\n", CLASSIFY_MAIL) },
      .proto = "imap",
      .is_server_dst = true,
      .st = { .by_content = 1 } },
    { .name = "IMAP * PREAUTH cut into * P and REAUTH",
      .steps = { HANDSHAKE, SEG(SV, F_PA, "* P", CLASSIFY_MORE),
                 SEG(SV, F_PA, "REAUTH IMAP4rev2 logged in as Smith\r\n", CLASSIFY_MAIL) },
      .proto = "imap",
      .is_server_dst = true,
      .st = { .by_content = 1 } },
    { .name = "IMAP * PREAUTH, its two segments out of order",
      .steps = { HANDSHAKE, SEG_AT(SV, F_PA, 3, "REAUTH ready\r\n", CLASSIFY_MORE),
                 SEG_AT(SV, F_PA, 0, "* P", CLASSIFY_MAIL) },
      .proto = "imap",
      .is_server_dst = true,
      .st = { .by_content = 1 } },
    { .name = "IMAP * BYE",
      .steps = { HANDSHAKE, SEG(SV, F_PA, "* BYE too busy\r\n", CLASSIFY_MAIL) },
      .proto = "imap",
      .is_server_dst = true,
      .st = { .by_content = 1 } },
    { .name = "SMTP 220 then EHLO",
      .steps = { HANDSHAKE, SEG(SV, F_PA, "220 mail.example.net ESMTP\r\n", CLASSIFY_MORE),
                 SEG(CL, F_PA, "EHLO laptop\r\n", CLASSIFY_MAIL) },
      .proto = "smtp",
      .is_server_dst = true,
      .st = { .by_content = 1 } },
    { .name = "SMTP 220- over two lines then helo",
      .steps = { HANDSHAKE, SEG(SV, F_PA, "220-mail.example.net ESMTP\r\n", CLASSIFY_MORE),
                 SEG(SV, F_PA, "220 ready\r\n", CLASSIFY_MORE), BARE(CL, F_A, CLASSIFY_MORE),
                 SEG(CL, F_PA, "helo laptop\r\n", CLASSIFY_MAIL) },
      .proto = "smtp",
      .is_server_dst = true,
      .st = { .by_content = 1 } },
    { .name = "FTP: 220 then USER",
      .steps = { HANDSHAKE, SEG(SV, F_PA, "220 ProFTPD Server\r\n", CLASSIFY_MORE),
                 SEG(CL, F_PA, "USER anonymous\r\n", CLASSIFY_MAIL) },
      .proto = "ftp",
      .is_server_dst = true,
      .st = { .by_content = 1 } },
    { .name = "FTP: 220- over two lines, then AUTH TLS cut into AU and TH",
      .steps = { HANDSHAKE, SEG(SV, F_PA, "220-Welcome\r\n", CLASSIFY_MORE),
                 SEG(SV, F_PA, "220 (vsFTPd 3.0.3)\r\n", CLASSIFY_MORE),
                 SEG(CL, F_PA, "AU", CLASSIFY_MORE), SEG(CL, F_PA, "TH TLS\r\n", CLASSIFY_MAIL) },
      .proto = "ftp",
      .is_server_dst = true,
      .st = { .by_content = 1 } },
    { .name = "FTP: 220 then feat in lower case",
      .steps = { HANDSHAKE, SEG(SV, F_PA, "220 ready\r\n", CLASSIFY_MORE),
                 SEG(CL, F_PA, "feat\r\n", CLASSIFY_MAIL) },
      .proto = "ftp",
      .is_server_dst = true,
      .st = { .by_content = 1 } },
    { .name = "NNTP: 200 decides alone",
      .steps = { HANDSHAKE,
                 SEG(SV, F_PA, "200 news.example.test InterNetNews NNRP server ready\r\n",
                     CLASSIFY_MAIL) },
      .proto = "nntp",
      .is_server_dst = true,
      .st = { .by_content = 1 } },
    { .name = "NNTP: 201 cut into 20 and 1",
      .steps = { HANDSHAKE, SEG(SV, F_PA, "20", CLASSIFY_MORE),
                 SEG(SV, F_PA, "1 no posting\r\n", CLASSIFY_MAIL) },
      .proto = "nntp",
      .is_server_dst = true,
      .st = { .by_content = 1 } },
    { .name = "220 then a word neither SMTP nor FTP opens with",
      .steps = { HANDSHAKE, SEG(SV, F_PA, "220 ready\r\n", CLASSIFY_MORE),
                 SEG(CL, F_PA, "QUIT\r\n", CLASSIFY_NOT_MAIL) },
      .st = { 0 } },
    { .name = "SMTP 220 then EH and LO in two segments",
      .steps = { HANDSHAKE, SEG(SV, F_PA, "220 mail ESMTP\r\n", CLASSIFY_MORE),
                 SEG(CL, F_PA, "EH", CLASSIFY_MORE),
                 SEG(CL, F_PA, "LO laptop\r\n", CLASSIFY_MAIL) },
      .proto = "smtp",
      .is_server_dst = true,
      .st = { .by_content = 1 } },
    { .name = "SMTP 220 then LO before EH (out of order)",
      .steps = { HANDSHAKE, SEG(SV, F_PA, "220 mail ESMTP\r\n", CLASSIFY_MORE),
                 SEG_AT(CL, F_PA, 2, "LO laptop\r\n", CLASSIFY_MORE),
                 SEG_AT(CL, F_PA, 0, "EH", CLASSIFY_MAIL) },
      .proto = "smtp",
      .is_server_dst = true,
      .st = { .by_content = 1 } },
    { .name = "the client speaks first with an HTTP request line",
      .steps = { HANDSHAKE,
                 SEG(CL, F_PA, "GET / HTTP/1.1\r\nHost: example.net\r\n\r\n", CLASSIFY_MAIL) },
      .proto = "http",
      .is_server_dst = true,
      .st = { .by_content = 1 } },
    { .name = "an HTTP method cut short",
      .steps = { HANDSHAKE, SEG(CL, F_PA, "PRO", CLASSIFY_MORE),
                 SEG_AT(CL, F_PA, 3, "PFIND /dav/ HTTP/1.1\r\n\r\n", CLASSIFY_MAIL) },
      .proto = "http",
      .is_server_dst = true,
      .st = { .by_content = 1 } },
    { .name = "the client speaks first with no method",
      .steps = { HANDSHAKE, SEG(CL, F_PA, "PING\r\n", CLASSIFY_NOT_MAIL) },
      .st = { .client_first = 1 } },
    { .name = "the client speaks first with EHLO (no greeting)",
      .steps = { HANDSHAKE, SEG(CL, F_PA, "EHLO laptop\r\n", CLASSIFY_NOT_MAIL) },
      .st = { .client_first = 1 } },
    { .name = "SOCKS5 greeting",
      .steps = { HANDSHAKE, SEG(CL, F_PA, "\x05\x01\x00", CLASSIFY_MAIL) },
      .proto = "socks5",
      .is_server_dst = true,
      .st = { .socks = 1 } },
    { .name = "SOCKS5 greeting over IPv6 with a request pipelined",
      .ip_version = 6,
      .steps = { HANDSHAKE,
                 SEG(CL, F_PA, "\x05\x02\x00\x02\x05\x01\x00\x01\xc6\x33\x64\x01\x00\x19",
                     CLASSIFY_MAIL) },
      .proto = "socks5",
      .is_server_dst = true,
      .st = { .socks = 1 } },
    { .name = "XMPP stream header cut after <stream:",
      .steps = { HANDSHAKE, SEG(CL, F_PA, "<stream:", CLASSIFY_MORE),
                 SEG_AT(CL, F_PA, 8, "stream to='example.com' version='1.0'>", CLASSIFY_MAIL) },
      .proto = "xmpp",
      .is_server_dst = true,
      .st = { .socks = 1 } },
    { .name = "HTTP CONNECT request",
      .steps = { HANDSHAKE,
                 SEG(CL, F_PA, "CONNECT mail.example.test:25 HTTP/1.1\r\n\r\n", CLASSIFY_MAIL) },
      .proto = "http-connect",
      .is_server_dst = true,
      .st = { .socks = 1 } },
    { .name = "HTTP CONNECT cut after its method",
      .steps = { HANDSHAKE, SEG(CL, F_PA, "CONNE", CLASSIFY_MORE),
                 SEG_AT(CL, F_PA, 5, "CT mx:25 HTTP/1.1\r\n\r\n", CLASSIFY_MAIL) },
      .proto = "http-connect",
      .is_server_dst = true,
      .st = { .socks = 1 } },
    { .name = "LDAP simple bind (OpenLDAP's long-form lengths)",
      .steps = { HANDSHAKE, SEG(CL, F_PA,
                                "0\x84\x00\x00\x00\x1b\x02\x01\x01\x60\x84\x00\x00\x00\x12"
                                "\x02\x01\x03\x04\x07"
                                "cn=root\x80\x04pass",
                                CLASSIFY_MAIL) },
      .proto = "ldap",
      .is_server_dst = true,
      .st = { .socks = 1 } },
    { .name = "LDAP StartTLS cut inside its header",
      .steps = { HANDSHAKE, SEG(CL, F_PA, "0\x1d\x02\x01\x01", CLASSIFY_MORE),
                 SEG_AT(CL, F_PA, 5,
                        "w\x18\x80\x16"
                        "1.3.6.1.4.1.1466.20037",
                        CLASSIFY_MAIL) },
      .proto = "ldap",
      .is_server_dst = true,
      .st = { .socks = 1 } },
    { .name = "a BER SEQUENCE that is no LDAP request",
      .steps = { HANDSHAKE, SEG(CL, F_PA, "0\x0c\x02\x01\x01\x61\x07\x0a\x01\x00\x04\x00\x04\x00",
                                CLASSIFY_NOT_MAIL) },
      .st = { .client_first = 1 } },
    { .name = "HTTP CONNECT in lower case is no method",
      .steps = { HANDSHAKE, SEG(CL, F_PA, "connect mx:25 HTTP/1.1\r\n\r\n", CLASSIFY_NOT_MAIL) },
      .st = { .client_first = 1 } },
    { .name = "mid-stream, the client's first payload a TLS record",
      .steps = { SEG(CL, F_PA, "\x17\x03\x03\x00\x10 ciphertext....", CLASSIFY_NOT_MAIL) },
      .st = { .tls_midstream = 1 } },
    { .name = "mid-stream, an ACK then the server's TLS record",
      .steps = { BARE(CL, F_A, CLASSIFY_MORE),
                 SEG(SV, F_PA, "\x16\x03\x01\x00\x05hello", CLASSIFY_NOT_MAIL) },
      .st = { .tls_midstream = 1 } },
    { .name = "SSH greeting",
      .steps = { HANDSHAKE,
                 SEG(SV, F_PA, "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", CLASSIFY_NOT_MAIL) },
      .st = { 0 } },
    { .name = "a TLS record after the handshake is no greeting",
      .steps = { HANDSHAKE, SEG(SV, F_PA, "\x16\x03\x03\x00\x05hello", CLASSIFY_NOT_MAIL) },
      .st = { 0 } },
    { .name = "held-packet limit: 32 without payload, then one more",
      .steps = { BARE(CL, F_SYN, CLASSIFY_MORE), BARE(SV, F_SA, CLASSIFY_MORE),
                 BARE_N(CL, F_A, CLASSIFY_MAX_PACKETS - 2, CLASSIFY_MORE),
                 BARE(SV, F_A, CLASSIFY_NOT_MAIL) },
      .is_last_dropped = true,
      .st = { .gave_up = 1 } },
    { .name = "held-packet limit mid-stream: 32 ACKs, then a greeting",
      .steps = { BARE_N(CL, F_A, CLASSIFY_MAX_PACKETS, CLASSIFY_MORE),
                 SEG(SV, F_PA, "+OK\r\n", CLASSIFY_NOT_MAIL) },
      .is_last_dropped = true,
      .st = { .gave_up = 1 } },
    /* The handshake's three IPv4 packets are 120 bytes; a 40-byte header brings the fourth to
     * the limit. Its payload lies past the greeting's first bytes, so the rules wait. */
    { .name = "byte limit: held exactly at the bound, then one packet more",
      .steps = { HANDSHAKE, FILL_AT(SV, F_A, 100, CLASSIFY_MAX_BYTES - 160, CLASSIFY_MORE),
                 BARE(CL, F_A, CLASSIFY_NOT_MAIL) },
      .is_last_dropped = true,
      .st = { .gave_up = 1 } },
    { .name = "byte limit: one byte past the bound",
      .steps = { HANDSHAKE, FILL_AT(SV, F_A, 100, CLASSIFY_MAX_BYTES - 159, CLASSIFY_NOT_MAIL) },
      .is_last_dropped = true,
      .st = { .gave_up = 1 } },
    { .name = "the charge callback refuses the first packet",
      .is_charge_limited = true,
      .charge_grants = 0,
      .steps = { BARE(CL, F_SYN, CLASSIFY_NOT_MAIL) },
      .is_last_dropped = true,
      .st = { .gave_up = 1 } },
    /* The first buffer holds a SYN and its SYN-ACK (classify.c); the ACK makes it grow. */
    { .name = "the charge callback refuses the held buffer's growth",
      .is_charge_limited = true,
      .charge_grants = 1,
      .steps = { BARE(CL, F_SYN, CLASSIFY_MORE), BARE(SV, F_SA, CLASSIFY_MORE),
                 BARE(CL, F_A, CLASSIFY_NOT_MAIL) },
      .is_last_dropped = true,
      .st = { .gave_up = 1 } },
    { .name = "FIN while a shared greeting waits for the client",
      .steps = { HANDSHAKE, SEG(SV, F_PA, "220 mail ESMTP\r\n", CLASSIFY_MORE),
                 SEG(SV, F_FPA, "221 bye\r\n", CLASSIFY_NOT_MAIL) },
      .st = { .gave_up = 1 } },
    { .name = "FIN on a greeting cut short",
      .steps = { HANDSHAKE, SEG(SV, F_PA, "* ", CLASSIFY_MORE),
                 SEG(SV, F_FPA, "O", CLASSIFY_NOT_MAIL) },
      .st = { .gave_up = 1 } },
    { .name = "RST with the client's first bytes, too few to tell",
      .steps = { HANDSHAKE, SEG(SV, F_PA, "220 mail ESMTP\r\n", CLASSIFY_MORE),
                 SEG(CL, F_RA | DECODE_TCP_PSH, "EH", CLASSIFY_NOT_MAIL) },
      .st = { .gave_up = 1 } },
    /* nDPI: flows seen mid-stream. */
    { .name = "mid-stream POP3 through nDPI",
      .is_ndpi = true,
      .steps = { SEG(SV, F_PA, "+OK POP3 server ready\r\n", ANY),
                 SEG(CL, F_PA, "USER alice\r\n", ANY), SEG(SV, F_PA, "+OK\r\n", ANY),
                 SEG(CL, F_PA, "PASS s3cret\r\n", ANY),
                 SEG(SV, F_PA, "+OK logged in\r\n", CLASSIFY_MAIL) },
      .proto = "pop3",
      .is_server_dst = false, /* the first held packet is the server's */
      .st = { .ndpi_flows = 1, .ndpi_mail = 1, .ndpi_started = 1 } },
    { .name = "mid-stream POP3 through nDPI, the client's packet first",
      .is_ndpi = true,
      .steps = { SEG(CL, F_PA, "USER alice\r\n", ANY), SEG(SV, F_PA, "+OK\r\n", ANY),
                 SEG(CL, F_PA, "PASS s3cret\r\n", ANY),
                 SEG(SV, F_PA, "+OK logged in\r\n", CLASSIFY_MAIL) },
      .proto = "pop3",
      .is_server_dst = true,
      .st = { .ndpi_flows = 1, .ndpi_mail = 1, .ndpi_started = 1 } },
    { .name = "mid-stream HTTP through nDPI",
      .is_ndpi = true,
      .steps = { SEG(CL, F_PA, "GET / HTTP/1.1\r\nHost: example.net\r\n\r\n", ANY),
                 SEG(SV, F_PA, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", ANY) },
      .proto = "http",
      .is_server_dst = true,
      .st = { .ndpi_flows = 1, .ndpi_mail = 1, .ndpi_started = 1 } },
    { .name = "mid-stream, nDPI's flow state refused by the charge callback",
      .is_ndpi = true,
      .is_charge_limited = true,
      .charge_grants = 1,
      .steps = { SEG(SV, F_PA, "+OK POP3 server ready\r\n", CLASSIFY_NOT_MAIL) },
      .st = { .ndpi_started = 1 } },
    { .name = "IMAP * PREAUTH cut in two, the server's SYN-ACK missed",
      .steps = { BARE(CL, F_SYN, CLASSIFY_MORE), BARE(CL, F_A, CLASSIFY_MORE),
                 SEG(SV, F_PA, "* P", CLASSIFY_MORE),
                 SEG(SV, F_PA, "REAUTH ready\r\n", CLASSIFY_MAIL) },
      .proto = "imap",
      .is_server_dst = true,
      .st = { .by_content = 1 } },
    { .name = "SMTP EH and LO in two segments, the client's SYN missed",
      .steps = { BARE(SV, F_SA, CLASSIFY_MORE), BARE(CL, F_A, CLASSIFY_MORE),
                 SEG(SV, F_PA, "220 mail ESMTP\r\n", CLASSIFY_MORE),
                 SEG(CL, F_PA, "EH", CLASSIFY_MORE),
                 SEG(CL, F_PA, "LO laptop\r\n", CLASSIFY_MAIL) },
      .proto = "smtp",
      .is_server_dst = false,
      .st = { .by_content = 1 } },
    { .name = "a bare FIN while a shared greeting waits",
      .steps = { HANDSHAKE, SEG(SV, F_PA, "220 mail ESMTP\r\n", CLASSIFY_MORE),
                 BARE(CL, F_FA, CLASSIFY_NOT_MAIL) },
      .st = { .gave_up = 1 } },
    { .name = "a bare RST while waiting for the greeting",
      .steps = { HANDSHAKE, BARE(SV, F_RA, CLASSIFY_NOT_MAIL) },
      .st = { .gave_up = 1 } },
};

/* ---- checks ---- */

#define EXPECT(cond)      CHECK(cond)
#define EXPECT_EQ_U(a, b) CHECK_EQ_U(a, b)

/* Both NULL, or the same text. */
static bool str_eq(const char *a, const char *b)
{
    return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

/* ---- packets ---- */

struct conn {
    uint8_t ip_version;
    uint16_t vlan;
    uint32_t isn[2];  /* [CL], [SV] */
    uint32_t next[2]; /* stream offset past the highest byte each end sent */
    uint64_t ts_usec;
};

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v & 0xffffu);
}

static const uint8_t ip4[2][4] = { { 192, 0, 2, 10 }, { 198, 51, 100, 1 } };
static const uint8_t ip6[2][16] = {
    { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10 },
    { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 },
};

/* The IP packet of one segment from end who into wire (WIRE_CAP bytes); returns its length. */
static size_t build(uint8_t *wire, const struct conn *c, int who, uint8_t flags, uint32_t seq,
                    uint32_t ack, const uint8_t *data, size_t len)
{
    size_t ip_len = c->ip_version == 6 ? 40 : 20;
    memset(wire, 0, ip_len + 20);
    if (c->ip_version == 6) {
        wire[0] = 0x60;
        put16(wire + 4, (uint32_t)(20 + len));
        wire[6] = 6;
        wire[7] = 64;
        memcpy(wire + 8, ip6[who], 16);
        memcpy(wire + 24, ip6[!who], 16);
    } else {
        wire[0] = 0x45;
        put16(wire + 2, (uint32_t)(ip_len + 20 + len));
        wire[8] = 64;
        wire[9] = 6;
        memcpy(wire + 12, ip4[who], 4);
        memcpy(wire + 16, ip4[!who], 4);
    }
    uint8_t *tcp = wire + ip_len;
    put16(tcp, who == CL ? CLIENT_PORT : SERVER_PORT);
    put16(tcp + 2, who == CL ? SERVER_PORT : CLIENT_PORT);
    put32(tcp + 4, seq);
    put32(tcp + 8, ack);
    tcp[12] = 5 << 4;
    tcp[13] = flags;
    put16(tcp + 14, 65535);
    if (data != NULL) {
        memcpy(tcp + 20, data, len);
    } else {
        memset(tcp + 20, 'x', len);
    }
    return ip_len + 20 + len;
}

/* ---- the charge callback ---- */

struct charger {
    bool is_limited;
    unsigned grants; /* calls still granted when is_limited */
    size_t granted;  /* bytes granted in all */
    size_t asked;    /* bytes asked for in all, refused or not */
};

static bool charge(void *ctx, size_t bytes)
{
    struct charger *ch = ctx;
    ch->asked += bytes;
    if (ch->is_limited) {
        if (ch->grants == 0) {
            return false;
        }
        ch->grants--;
    }
    ch->granted += bytes;
    return true;
}

/* ---- running a case ---- */

/* A packet fed and held: where its IP bytes are kept for the replay check. */
struct sent {
    size_t off, len;
    uint64_t ts_usec;
};

static uint8_t wire[WIRE_CAP];
static uint8_t kept[CLASSIFY_MAX_BYTES + 4096];

static void check_stats(const struct classify_stats *got, const struct classify_stats *want,
                        bool is_ndpi)
{
    EXPECT_EQ_U(got->ndpi_flows, want->ndpi_flows);
    if (!is_ndpi) {
        EXPECT_EQ_U(got->ndpi_packets, want->ndpi_packets);
    }
    EXPECT_EQ_U(got->ndpi_mail, want->ndpi_mail);
    EXPECT_EQ_U(got->ndpi_not_mail, want->ndpi_not_mail);
    EXPECT_EQ_U(got->ndpi_started, want->ndpi_started);
    EXPECT_EQ_U(got->ndpi_failed, want->ndpi_failed);
    EXPECT_EQ_U(got->gave_up, want->gave_up);
    EXPECT_EQ_U(got->by_content, want->by_content);
    EXPECT_EQ_U(got->client_first, want->client_first);
    EXPECT_EQ_U(got->socks, want->socks);
    EXPECT_EQ_U(got->tls_midstream, want->tls_midstream);
}

/* The packets the flow holds replay exactly as they were fed, in order. */
static void check_held(const struct classify_flow *cf, const struct sent *sent, size_t n_sent,
                       uint16_t vlan)
{
    size_t off = 0;
    size_t n = 0;
    struct pkt p;
    while (classify_flow_held(cf, &off, &p)) {
        EXPECT(n < n_sent);
        if (n < n_sent) {
            EXPECT_EQ_U(p.l3_len, sent[n].len);
            EXPECT(p.l3_len == sent[n].len && memcmp(p.l3, kept + sent[n].off, p.l3_len) == 0);
            EXPECT_EQ_U(p.ts_usec, sent[n].ts_usec);
            EXPECT_EQ_U(p.vlan, vlan);
        }
        n++;
    }
    EXPECT_EQ_U(n, n_sent);
    EXPECT(!classify_flow_held(cf, &off, &p)); /* and stays past the end */
}

/* Runs tc with the client as the "a" end or not. Returns the final verdict. */
static enum classify_verdict run_case(const struct cls_case *tc, bool is_client_a)
{
    struct classify *c = tc->is_ndpi ? classify_new(true) : classify_new_lazy();
    CHECK(c != NULL); /* nDPI that cannot start fails the case: it must, on this build */
    if (c == NULL) {
        return CLASSIFY_NOT_MAIL;
    }
    struct classify_flow *cf = classify_flow_new();
    struct charger ch = { tc->is_charge_limited, tc->charge_grants, 0, 0 };
    struct conn cn = {
        tc->ip_version == 6 ? 6 : 4, tc->vlan, { CLIENT_ISN, SERVER_ISN }, { 0, 0 }, T0
    };
    struct sent sent[MAX_SENT];
    size_t n_sent = 0;
    size_t kept_len = 0;
    size_t n_steps = 0;
    while (n_steps < MAX_STEPS && tc->steps[n_steps].flags != 0) {
        n_steps++;
    }
    enum classify_verdict v = CLASSIFY_MORE;
    struct classify_result res;
    memset(&res, 0, sizeof res);
    size_t was_charged = classify_flow_charged(cf);
    EXPECT_EQ_U(was_charged, classify_flow_charge_new());
    for (size_t i = 0; i < n_steps && v == CLASSIFY_MORE; i++) {
        const struct step *s = &tc->steps[i];
        unsigned times = s->repeat > 0 ? s->repeat : 1;
        for (unsigned k = 0; k < times && v == CLASSIFY_MORE; k++) {
            int who = s->who;
            uint32_t off = s->off == NEXT ? cn.next[who] : s->off;
            uint32_t seq = (s->flags & DECODE_TCP_SYN) != 0 ? cn.isn[who] : cn.isn[who] + 1 + off;
            uint32_t ack = (s->flags & DECODE_TCP_ACK) != 0 ? cn.isn[!who] + 1 + cn.next[!who] : 0;
            size_t n = build(wire, &cn, who, s->flags, seq, ack, (const uint8_t *)s->data, s->len);
            if (off + s->len > cn.next[who]) {
                cn.next[who] = off + (uint32_t)s->len;
            }
            struct pkt p;
            struct decode_stats ds;
            memset(&ds, 0, sizeof ds);
            enum decode_status st = decode_packet(DECODE_LINK_RAW, wire, n, n, cn.ts_usec, &p, &ds);
            CHECK(st == DECODE_OK);
            if (st != DECODE_OK) {
                break;
            }
            p.vlan = cn.vlan;
            bool is_from_a = (who == CL) == is_client_a;
            v = classify_flow_packet(c, cf, &p, is_from_a, charge, &ch, &res);
            if (s->want != ANY) {
                EXPECT_EQ_U(v, s->want);
            }
            bool is_last = i + 1 == n_steps && k + 1 == times;
            /* No verdict before the script's end, unless nDPI's pace decides. */
            EXPECT(v == CLASSIFY_MORE || is_last || s->want == ANY);
            if (res.is_pkt_held) {
                EXPECT(n_sent < MAX_SENT && kept_len + n <= sizeof kept);
                if (n_sent < MAX_SENT && kept_len + n <= sizeof kept) {
                    memcpy(kept + kept_len, wire, n);
                    sent[n_sent].off = kept_len;
                    sent[n_sent].len = n;
                    sent[n_sent].ts_usec = cn.ts_usec;
                    kept_len += n;
                    n_sent++;
                }
            }
            /* What the flow holds is what it was granted, and it only grows. */
            size_t now = classify_flow_charged(cf);
            EXPECT_EQ_U(now, classify_flow_charge_new() + ch.granted);
            EXPECT(now >= was_charged);
            was_charged = now;
            cn.ts_usec += 1000;
        }
    }
    /* The last step's verdict is the final one. */
    if (n_steps > 0 && tc->steps[n_steps - 1].want != ANY) {
        EXPECT_EQ_U(v, tc->steps[n_steps - 1].want);
    }
    const char *name = res.proto != NULL ? res.proto->name : NULL;
    EXPECT(str_eq(name, v == CLASSIFY_MAIL ? tc->proto : NULL));
    if (v == CLASSIFY_MAIL) {
        EXPECT(res.is_server_dst == tc->is_server_dst);
        EXPECT(!res.is_implicit_tls);
    }
    EXPECT(res.is_pkt_held == !tc->is_last_dropped);
    EXPECT(ch.granted <= ch.asked);
    if (!tc->is_charge_limited) {
        EXPECT_EQ_U(ch.granted, ch.asked);
    }
    check_stats(classify_get_stats(c), &tc->st, tc->is_ndpi);
    if (tc->is_ndpi) {
        EXPECT(classify_get_stats(c)->ndpi_packets > 0 || tc->st.ndpi_flows == 0);
    }
    check_held(cf, sent, n_sent, tc->vlan);
    if (v == CLASSIFY_MORE) {
        /* Given up on without nDPI: not mail. */
        struct classify_result g;
        EXPECT_EQ_U(classify_flow_giveup(c, cf, &g), CLASSIFY_NOT_MAIL);
        EXPECT(g.proto == NULL);
    }
    classify_flow_free(cf);
    classify_free(c);
    return v;
}

static void case_name(char *buf, size_t cap, const struct cls_case *tc, bool is_client_a)
{
    snprintf(buf, cap, "%s (%s is a)", tc->name, is_client_a ? "client" : "server");
}

static void test_cases(void)
{
    test_case_failed = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum classify_verdict got[2];
        for (int a = 0; a < 2; a++) {
            char name[160];
            case_name(name, sizeof name, &cases[i], a == 0);
            got[a] = run_case(&cases[i], a == 0);
            CASE_DONE(name);
        }
        /* Each run met the same expectations; the verdicts agree even where none was set. */
        CHECK_EQ_U(got[0], got[1]);
        CASE_DONE(cases[i].name);
    }
}

/* ---- ports ---- */

struct port_case {
    uint16_t sport, dport;
    bool is_mail;
    const char *proto;
    bool is_tls;
    bool is_server_dst;
};

static const struct port_case port_cases[] = {
    { 50000, 110, true, "pop3", false, true },
    { 110, 50000, true, "pop3", false, false },
    { 50000, 25, true, "smtp", false, true },
    { 587, 50000, true, "smtp", false, false },
    { 50000, 2525, true, "smtp", false, true },
    { 50000, 143, true, "imap", false, true },
    /* Both mail ports: the lower one serves. */
    { 110, 25, true, "smtp", false, true },
    { 25, 110, true, "smtp", false, false },
    { 143, 993, true, "imap", false, false },
    { 993, 143, true, "imap", false, true },
    { 465, 587, true, "smtp", true, false },
    { 587, 465, true, "smtp", true, true },
    /* Implicit TLS. */
    { 50000, 993, true, "imap", true, true },
    { 995, 50000, true, "pop3", true, false },
    { 50000, 465, true, "smtp", true, true },
    { 993, 995, true, "imap", true, false },
    /* FTP's control connection, in the clear and implicit FTPS. */
    { 50000, 21, true, "ftp", false, true },
    { 990, 50000, true, "ftp", true, false },
    /* LDAP, and LDAPS (implicit TLS). */
    { 50000, 389, true, "ldap", false, true },
    { 636, 50000, true, "ldap", true, false },
    /* NNTP, in the clear and NNTPS. */
    { 50000, 119, true, "nntp", false, true },
    { 563, 50000, true, "nntp", true, false },
    /* XMPP, in the clear and legacy implicit TLS. */
    { 50000, 5222, true, "xmpp", false, true },
    { 5223, 50000, true, "xmpp", true, false },
    /* Not mail. FTP's data connections: active mode from port 20, passive to a high port. */
    { 20, 50000, false, NULL, false, false },
    { 50000, 40123, false, NULL, false, false },
    { 50000, 8110, false, NULL, false, false },
    { 443, 50000, false, NULL, false, false },
    { 0, 0, false, NULL, false, false },
    { 1080, 8080, true, "http", false, true },
    { 80, 50000, true, "http", false, false },
    { 65535, 65535, false, NULL, false, false },
};

static void test_port_table(void)
{
    struct classify *c = classify_new(false);
    CHECK(c != NULL);
    if (c == NULL) {
        return;
    }
    test_case_failed = 0;
    for (size_t i = 0; i < sizeof port_cases / sizeof port_cases[0]; i++) {
        const struct port_case *pc = &port_cases[i];
        struct classify_result r;
        memset(&r, 0xff, sizeof r);
        CHECK(classify_port(c, pc->sport, pc->dport, &r) == pc->is_mail);
        CHECK(str_eq(r.proto != NULL ? r.proto->name : NULL, pc->proto));
        CHECK(!r.is_pkt_held);
        if (pc->is_mail) {
            CHECK(r.is_implicit_tls == pc->is_tls);
            CHECK(r.is_server_dst == pc->is_server_dst);
        }
        if (test_case_failed) {
            fprintf(stderr, "  ports %u -> %u\n", pc->sport, pc->dport);
        }
        CASE_DONE("classify_port row");
    }
    classify_free(c);
}

/* Every port against the registry: classify's index says what registry_by_port says. */
static void test_every_port(void)
{
    struct classify *c = classify_new(false);
    CHECK(c != NULL && !classify_is_active(c));
    if (c == NULL) {
        return;
    }
    size_t n_mail = 0;
    for (uint32_t port = 0; port <= 0xffffu; port++) {
        bool is_tls = false;
        const struct registry_proto *want = registry_by_port((uint16_t)port, &is_tls);
        bool is_mail = classify_is_mail_port(c, (uint16_t)port);
        CHECK(is_mail == (want != NULL));
        struct classify_result r;
        CHECK(classify_port(c, 0, (uint16_t)port, &r) == is_mail);
        CHECK(r.proto == want);
        if (want != NULL) {
            CHECK(r.is_implicit_tls == is_tls);
            CHECK(r.is_server_dst);
            n_mail++;
        }
        if (test_case_failed) {
            fprintf(stderr, "  port %u\n", port);
            break;
        }
    }
    CHECK(n_mail >= 8);
    CHECK(!classify_is_mail_port(c, 0));
    CHECK(!classify_is_mail_port(c, 8110));
    CHECK(classify_is_mail_port(c, 25) && classify_is_mail_port(c, 993));
    classify_free(c);
}

/* A lazy classifier is active but has not started nDPI; a port-only one is not active. */
static void test_new(void)
{
    struct classify *lazy = classify_new_lazy();
    CHECK(lazy != NULL && classify_is_active(lazy));
    if (lazy != NULL) {
        CHECK_EQ_U(classify_get_stats(lazy)->ndpi_started, 0);
    }
    classify_free(lazy);
    struct classify *ports = classify_new(false);
    CHECK(ports != NULL && !classify_is_active(ports));
    if (ports != NULL) {
        CHECK_EQ_U(classify_get_stats(ports)->ndpi_started, 0);
    }
    classify_free(ports);
    classify_free(NULL);
    classify_flow_free(NULL);
    CHECK(classify_lib_version() != NULL);
}

/* A port-only classifier judges no undecided flow: its first payload is not mail. */
static void test_port_only_flow(void)
{
    struct classify *c = classify_new(false);
    CHECK(c != NULL);
    if (c == NULL) {
        return;
    }
    struct classify_flow *cf = classify_flow_new();
    struct charger ch = { false, 0, 0, 0 };
    struct conn cn = { 4, 0, { CLIENT_ISN, SERVER_ISN }, { 0, 0 }, T0 };
    static const char text[] = "+OK POP3 server ready\r\n";
    size_t n = build(wire, &cn, SV, F_PA, SERVER_ISN + 1, CLIENT_ISN + 1, (const uint8_t *)text,
                     sizeof text - 1);
    struct pkt p;
    struct decode_stats ds;
    memset(&ds, 0, sizeof ds);
    CHECK(decode_packet(DECODE_LINK_RAW, wire, n, n, T0, &p, &ds) == DECODE_OK);
    struct classify_result r;
    CHECK_EQ_U(classify_flow_packet(c, cf, &p, true, charge, &ch, &r), CLASSIFY_NOT_MAIL);
    CHECK(r.proto == NULL);
    CHECK_EQ_U(classify_get_stats(c)->ndpi_started, 0);
    CHECK_EQ_U(classify_get_stats(c)->ndpi_flows, 0);
    CHECK_EQ_U(classify_flow_charged(cf), classify_flow_charge_new() + ch.granted);
    classify_flow_free(cf);
    classify_free(c);
}

int main(void)
{
    RUN(test_new);
    test_port_table();
    RUN(test_every_port);
    RUN(test_port_only_flow);
    test_cases();
    return TEST_SUMMARY();
}
