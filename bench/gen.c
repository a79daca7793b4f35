/* gen.c - writes the benchmark's synthetic capture and the truth file of its mail sessions.
 *
 * The capture is classic pcap (microsecond timestamps, Ethernet link type), written directly so
 * the generator needs nothing beyond libc. It holds thousands of concurrent flows interleaved
 * packet by packet: web (HTTP/1.1 on 80 and 8080), TLS 1.3 on 443 (ClientHello and ServerHello,
 * then opaque application data records), bulk transfers between high ports, DNS over UDP on 53
 * (RFC 1035), and a small share of mail sessions (POP3, SMTP and IMAP) with known credentials,
 * some of them on a port that only DPI recognises. IPv4 and IPv6 (one flow in ten).
 *
 * Every TCP flow has a three-way handshake, data acknowledged the way a receiver would (an ACK
 * never runs ahead of the bytes the capture has shown in order, RFC 9293 3.10.7.4), and a FIN
 * exchange. Mail commands are cut at random byte offsets, and some segments are swapped with the
 * next one or sent again a little later, so a reader must reassemble to find the credentials.
 *
 * Each flow is a producer: when its queue of segments is empty it appends the next "chunk" (the
 * handshake, one application write cut into segments with the peer's ACKs, or the close). The
 * main loop picks a random active flow and emits its next segments, so flows interleave; a flow
 * that ends is replaced by a new one until the file reaches its size, then the open flows are
 * closed. A mail session is a dialogue of turns built up front by its protocol's builder, which
 * also lists its credentials for the truth file: POP3 (RFC 1939, RFC 2449 CAPA, RFC 5034 AUTH),
 * SMTP (RFC 5321, RFC 4954 AUTH, RFC 2920 PIPELINING) and IMAP (RFC 3501 LOGIN with atoms,
 * quoted strings and literals, RFC 7888 LITERAL+, AUTHENTICATE with RFC 4959 SASL-IR), with
 * RFC 4616 PLAIN and LOGIN, a third of the sessions each (mail_protos). Message contents hold
 * command-like trap lines that are not credentials.
 *
 * With --flood N it writes instead N half-open connections (one SYN each, distinct tuples, half
 * to port 110 and half to other ports) over ten seconds, with mail sessions interleaved, to test
 * the memory cap.
 *
 * Same arguments, same bytes: all randomness comes from one seeded xoshiro256** generator. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Frame layout. Data segments carry the timestamp option (NOP NOP TS), as Linux sends them. */
#define GEN_ETH_LEN     14
#define GEN_IPV4_LEN    20
#define GEN_IPV6_LEN    40
#define GEN_TCP_LEN     32 /* 20 + NOP NOP timestamps */
#define GEN_TCP_SYN_LEN 40 /* 20 + MSS, SACK permitted, timestamps, NOP, window scale */
#define GEN_UDP_LEN     8
#define GEN_MTU         1500
#define GEN_MSS_V4      (GEN_MTU - GEN_IPV4_LEN - GEN_TCP_LEN)
#define GEN_MSS_V6      (GEN_MTU - GEN_IPV6_LEN - GEN_TCP_LEN)
#define GEN_FRAME_MAX   (GEN_ETH_LEN + GEN_MTU)
#define GEN_SNAPLEN     262144

#define GEN_TCP_FIN 0x01u
#define GEN_TCP_SYN 0x02u
#define GEN_TCP_RST 0x04u
#define GEN_TCP_PSH 0x08u
#define GEN_TCP_ACK 0x10u

/* Limits. */
#define GEN_POOL_LEN        ((size_t)1 << 20) /* random bytes that opaque payloads are cut from */
#define GEN_CHUNK_MAX       ((uint32_t)32 * 1024) /* bytes of one application write in a chunk */
#define GEN_MAX_PEND        32                    /* out-of-order ranges tracked per direction */
#define GEN_MAX_TURNS       64                    /* turns of one mail dialogue */
#define GEN_MAX_CREDS       4                     /* credentials of one mail session */
#define GEN_MAX_PROTOS      4                     /* entries of mail_protos */
#define GEN_FIELD_MAX       96                    /* user name, password, mechanism */
#define GEN_BODY_MAX        3072                  /* a mail message in a dialogue */
#define GEN_CLIENTS         4000                  /* client addresses */
#define GEN_MAX_CONCURRENCY 100000
#define GEN_FLOOD_MAX       ((uint64_t)1 << 22) /* distinct flood client addresses */
#define GEN_FLOOD_MAIL_PPM  5000 /* flood mode: share of steps that emit a mail packet */
#define GEN_FLOOD_MAIL_CONC 2    /* flood mode: mail sessions open at once */

/* Base64 of a PLAIN message (NUL user NUL password), with its padding and NUL. */
#define GEN_B64_MAX (4 * (2 * GEN_FIELD_MAX + 2) / 3 + 8)

/* getopt_long value of the options with no short form. */

/* Packet time starts here (2025-01-01T00:00:00Z), seconds since the epoch. */
#define GEN_T0_SEC 1735689600u

/* ---- random numbers: xoshiro256** seeded through splitmix64 ---- */

struct rng {
    uint64_t s[4];
};

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed)
{
    for (size_t i = 0; i < 4; i++) {
        r->s[i] = splitmix(&seed);
    }
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r)
{
    uint64_t result = rotl(r->s[1] * 5, 7) * 9;
    uint64_t t = r->s[1] << 17;
    r->s[2] ^= r->s[0];
    r->s[3] ^= r->s[1];
    r->s[1] ^= r->s[2];
    r->s[0] ^= r->s[3];
    r->s[2] ^= t;
    r->s[3] = rotl(r->s[3], 45);
    return result;
}

/* Uniform in [0, n); n > 0. */
static uint32_t rng_below(struct rng *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * n) >> 32);
}

/* Uniform in [lo, hi]. */
static uint32_t rng_range(struct rng *r, uint32_t lo, uint32_t hi)
{
    return lo + rng_below(r, hi - lo + 1);
}

/* True with probability ppm / 1e6. */
static bool rng_ppm(struct rng *r, uint32_t ppm)
{
    return rng_below(r, 1000000u) < ppm;
}

/* Roughly log-uniform in [lo, hi]: a random octave lo * 2^k, then uniform inside it. */
static uint32_t rng_logu(struct rng *r, uint32_t lo, uint32_t hi)
{
    uint32_t k_max = 0;
    while (((uint64_t)lo << (k_max + 1)) <= hi) {
        k_max++;
    }
    uint32_t v = lo << rng_below(r, k_max + 1);
    uint32_t w = v + rng_below(r, v);
    return w > hi ? hi : w;
}

/* ---- flows ---- */

enum gen_kind {
    GEN_WEB = 0,
    GEN_TLS,
    GEN_BULK,
    GEN_DNS,
    GEN_MAIL,
    GEN_N_KINDS,
};

/* One segment waiting in a flow's queue. Offsets count stream bytes from the byte after the SYN;
 * the payload lies in the flow's chunk buffer. */
struct gen_seg {
    uint32_t off;
    uint32_t len;
    uint32_t src;
    uint8_t dir;   /* 0: client to server, 1: server to client */
    uint8_t flags; /* GEN_TCP_* */
    bool is_copy;  /* a retransmission; not perturbed again */
};

struct gen_range {
    uint32_t lo, hi;
};

/* One turn of a mail dialogue: text[off, off + len) sent by dir. */
struct gen_turn {
    uint8_t dir;
    uint32_t off, len;
};

struct gen_cred {
    char mechanism[GEN_FIELD_MAX];
    char username[GEN_FIELD_MAX];
    char password[GEN_FIELD_MAX];
    bool is_success;
};

/* A mail session planned up front: the dialogue and what the truth file says about it. */
struct gen_mail {
    struct gen_turn turns[GEN_MAX_TURNS];
    size_t n_turns;
    char *text;
    size_t text_len, text_cap;
    struct gen_cred creds[GEN_MAX_CREDS];
    size_t n_creds;
    const char *starttls; /* the truth's verdict; NULL: the capture cannot tell */
};

struct gen_flow {
    enum gen_kind kind;
    bool is_v6;
    bool is_udp;
    uint8_t cli[16], srv[16];
    uint16_t cport, sport;
    uint32_t flow_label;
    uint32_t isn[2];
    uint32_t snd[2]; /* stream bytes (and FIN) each direction has queued */
    uint32_t rcv[2]; /* stream bytes of each direction the capture has shown in order */
    struct gen_range pend[2][GEN_MAX_PEND];
    size_t n_pend[2];
    bool has_fin[2]; /* the capture has shown this direction's FIN */
    uint16_t ip_id[2];
    uint32_t ts_off[2];
    uint32_t ppm_reorder, ppm_retx;
    int phase; /* producer state, per kind */
    uint32_t todo;
    uint32_t reqs;
    uint8_t bulk_dir;
    bool is_done;      /* the last chunk is queued */
    bool is_midstream; /* opened before the capture: no handshake in the file */
    struct gen_seg *segs;
    size_t n_segs, head, cap_segs;
    uint8_t *buf; /* payload of the queued chunk */
    uint32_t buf_len, buf_cap;
    struct gen_mail *mail;
    size_t turn;
};

/* --wrap: the mirror feed every frame arrives in (the bench's tunnel variants). */
enum gen_wrap {
    GEN_WRAP_NONE = 0,
    GEN_WRAP_VXLAN,   /* Ethernet, IPv4, UDP to 4789, VXLAN (VNI 4242) */
    GEN_WRAP_ERSPAN2, /* Ethernet, IPv4, GRE with a sequence number, ERSPAN II (session 7) */
};

/* Bytes --wrap puts in front of each frame: Ethernet 14, IPv4 20, and UDP 8 + VXLAN 8 or
 * GRE 8 + ERSPAN II 8. */
#define GEN_WRAP_LEN 50

struct gen {
    struct rng r;
    FILE *out;
    FILE *truth;
    const char *out_path;
    uint64_t target_bytes;
    uint64_t seed;
    uint32_t mail_ppm;
    uint32_t rate_mbit;
    size_t concurrency;
    uint64_t flood;
    uint64_t bytes;
    uint64_t packets;
    uint64_t now_ns;
    uint8_t *pool;
    uint8_t frame[GEN_FRAME_MAX];
    struct gen_flow **act;
    size_t n_act;
    bool is_draining;
    uint16_t cport_next[GEN_CLIENTS];
    uint64_t flows[GEN_N_KINDS];
    uint64_t mail_sessions, mail_creds, mail_alt_port, syns;
    uint64_t midstream;                      /* flows whose handshake came before the capture */
    uint64_t mail_per_proto[GEN_MAX_PROTOS]; /* sessions, by index in mail_protos */
    bool has_truth_session;
    enum gen_wrap wrap; /* --wrap: every frame inside a tunnel, as a remote mirror delivers it */
    bool is_frag_flood; /* --frags: the flood is of first IP fragments, never completed */
    uint32_t wrap_seq;  /* ERSPAN II: the GRE sequence number */
};

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (p == NULL) {
        fprintf(stderr, "gen: out of memory\n");
        exit(2);
    }
    return p;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (p == NULL) {
        fprintf(stderr, "gen: out of memory\n");
        exit(2);
    }
    return p;
}

static void *xrealloc(void *old, size_t n)
{
    void *p = realloc(old, n);
    if (p == NULL) {
        fprintf(stderr, "gen: out of memory\n");
        exit(2);
    }
    return p;
}

/* ---- mail dialogues ---- */

__attribute__((format(printf, 3, 4))) static void turn_add(struct gen_mail *m, uint8_t dir,
                                                           const char *fmt, ...)
{
    char line[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line || m->n_turns == GEN_MAX_TURNS) {
        fprintf(stderr, "gen: dialogue turn too long\n");
        exit(2);
    }
    size_t len = (size_t)n;
    /* Two consecutive writes of the same side are one turn: the peer sent nothing between. */
    if (m->text_len + len > m->text_cap) {
        m->text_cap = (m->text_len + len) * 2 + 256;
        m->text = xrealloc(m->text, m->text_cap);
    }
    memcpy(m->text + m->text_len, line, len);
    if (m->n_turns > 0 && m->turns[m->n_turns - 1].dir == dir) {
        m->turns[m->n_turns - 1].len += (uint32_t)len;
    } else {
        m->turns[m->n_turns].dir = dir;
        m->turns[m->n_turns].off = (uint32_t)m->text_len;
        m->turns[m->n_turns].len = (uint32_t)len;
        m->n_turns++;
    }
    m->text_len += len;
}

static void base64(const uint8_t *in, size_t len, char *out, size_t cap)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < len && o + 5 <= cap; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len) {
            v |= (uint32_t)in[i + 1] << 8;
        }
        if (i + 2 < len) {
            v |= in[i + 2];
        }
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? tab[v & 63] : '=';
    }
    out[o] = '\0';
}

static void b64_str(const char *s, char *out, size_t cap)
{
    base64((const uint8_t *)s, strlen(s), out, cap);
}

/* The RFC 4616 PLAIN message for user and password, with an empty authorization identity (what
 * clients send), in base64. */
static void sasl_plain(const char *user, const char *password, char *out, size_t cap)
{
    uint8_t raw[2 * GEN_FIELD_MAX + 2];
    size_t ul = strlen(user), pl = strlen(password), n = 0;
    raw[n++] = 0;
    memcpy(raw + n, user, ul);
    n += ul;
    raw[n++] = 0;
    memcpy(raw + n, password, pl);
    n += pl;
    base64(raw, n, out, cap);
}

static void make_username(struct rng *r, char *out, size_t cap)
{
    static const char *const names[] = { "alice",  "bob",   "carol", "dave",  "erin",
                                         "frank",  "grace", "heidi", "ivan",  "judy",
                                         "mallet", "oscar", "peggy", "trent", "walter" };
    const char *n = names[rng_below(r, sizeof names / sizeof names[0])];
    uint32_t num = rng_below(r, 100000);
    switch (rng_below(r, 3)) {
    case 0:
        snprintf(out, cap, "%s%u", n, num);
        break;
    case 1:
        snprintf(out, cap, "%s.%u@example.org", n, num);
        break;
    default:
        snprintf(out, cap, "u%06u", num);
        break;
    }
}

/* Printable ASCII with inner spaces, never a leading or trailing space, no quote or backslash
 * (the truth file stays plain). */
static void make_password(struct rng *r, char *out, size_t cap)
{
    static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                "!#$%&*+-=?@^_~.,:;()[]{}<>| ";
    size_t len = rng_range(r, 6, 24);
    if (len >= cap) {
        len = cap - 1;
    }
    for (size_t i = 0; i < len; i++) {
        size_t n = sizeof chars - 1;
        if (i == 0 || i == len - 1) {
            n--; /* the space is last in chars */
        }
        out[i] = chars[rng_below(r, (uint32_t)n)];
    }
    out[len] = '\0';
}

/* A POP3 session as Dovecot answers it: greeting, CAPA (sometimes), one or two logins with
 * USER/PASS, AUTH PLAIN (initial response or after "+ "), or AUTH LOGIN; then STAT, LIST and a
 * RETR whose body holds command-like lines that are not credentials; QUIT. Some sessions only
 * look (CAPA, QUIT). */
/* Writes c's SASL exchange into m and names its mechanism: PLAIN with the initial response
 * or after an empty challenge, or LOGIN after both prompts or with the user name as its
 * initial response. cmd starts the client's command ("AUTH", "a001 AUTHENTICATE"), cont is
 * the server's continuation ("+ ", "334 "). */
static void sasl_turns(struct gen_mail *m, struct gen_cred *c, const char *cmd, const char *cont,
                       bool is_plain, bool has_ir)
{
    if (is_plain) {
        char b64[GEN_B64_MAX];
        sasl_plain(c->username, c->password, b64, sizeof b64);
        snprintf(c->mechanism, sizeof c->mechanism, "PLAIN");
        if (has_ir) {
            turn_add(m, 0, "%s PLAIN %s\r\n", cmd, b64);
        } else {
            turn_add(m, 0, "%s PLAIN\r\n", cmd);
            turn_add(m, 1, "%s\r\n", cont);
            turn_add(m, 0, "%s\r\n", b64);
        }
        return;
    }
    char bu[GEN_B64_MAX], bp[GEN_B64_MAX];
    b64_str(c->username, bu, sizeof bu);
    b64_str(c->password, bp, sizeof bp);
    snprintf(c->mechanism, sizeof c->mechanism, "LOGIN");
    if (has_ir) {
        turn_add(m, 0, "%s LOGIN %s\r\n", cmd, bu);
    } else {
        turn_add(m, 0, "%s LOGIN\r\n", cmd);
        turn_add(m, 1, "%sVXNlcm5hbWU6\r\n", cont);
        turn_add(m, 0, "%s\r\n", bu);
    }
    turn_add(m, 1, "%sUGFzc3dvcmQ6\r\n", cont);
    turn_add(m, 0, "%s\r\n", bp);
}

static void pop3_build(struct rng *r, struct gen_mail *m)
{
    bool has_stls = rng_below(r, 2) == 0;
    turn_add(m, 1, "+OK Dovecot (Debian) ready.\r\n");
    if (rng_below(r, 2) == 0) {
        turn_add(m, 0, "CAPA\r\n");
        turn_add(m, 1,
                 "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\n"
                 "AUTH-RESP-CODE\r\n%sUSER\r\nSASL PLAIN LOGIN\r\n.\r\n",
                 has_stls ? "STLS\r\n" : "");
        m->starttls = has_stls ? "offered-not-used" : "not-offered";
    }
    if (rng_below(r, 20) == 0) {
        turn_add(m, 0, "QUIT\r\n");
        turn_add(m, 1, "+OK Logging out\r\n");
        return;
    }
    size_t attempts = rng_below(r, 10) < 7 ? 1 : 2;
    bool is_in = false;
    for (size_t a = 0; a < attempts && !is_in; a++) {
        struct gen_cred *c = &m->creds[m->n_creds++];
        make_username(r, c->username, sizeof c->username);
        make_password(r, c->password, sizeof c->password);
        c->is_success = a == 0 && attempts == 2 ? false : rng_below(r, 10) < 8;
        const char *answer =
            c->is_success ? "+OK Logged in.\r\n" : "-ERR [AUTH] Authentication failed.\r\n";
        uint32_t pick = rng_below(r, 10);
        if (pick < 5) {
            snprintf(c->mechanism, sizeof c->mechanism, "USER/PASS");
            turn_add(m, 0, "USER %s\r\n", c->username);
            turn_add(m, 1, "+OK\r\n");
            turn_add(m, 0, "PASS %s\r\n", c->password);
        } else {
            sasl_turns(m, c, "AUTH", "+ ", pick < 9, pick < 7);
        }
        turn_add(m, 1, "%s", answer);
        is_in = c->is_success;
    }
    if (is_in) {
        uint32_t size = rng_range(r, 600, 3000);
        turn_add(m, 0, "STAT\r\n");
        turn_add(m, 1, "+OK 2 %u\r\n", size + 1200);
        turn_add(m, 0, "LIST\r\n");
        turn_add(m, 1, "+OK 2 messages:\r\n1 %u\r\n2 1200\r\n.\r\n", size);
        if (rng_below(r, 2) == 0) {
            turn_add(m, 0, "RETR 1\r\n");
            turn_add(m, 1,
                     "+OK %u octets\r\nReturn-Path: <carol@example.net>\r\n"
                     "From: Carol <carol@example.net>\r\nTo: <%s>\r\nSubject: the old server\r\n"
                     "Date: Wed, 01 Jan 2025 10:00:00 +0000\r\n\r\n"
                     "The old client configuration, for the record:\r\n"
                     "USER mallory\r\nPASS not-a-credential\r\n"
                     "AUTH PLAIN AG1hbGxvcnkAbm90LWEtY3JlZGVudGlhbA==\r\n"
                     "+OK this line is mail, not an answer\r\n"
                     "..a dot-stuffed line\r\n\r\nCarol\r\n.\r\n",
                     size, m->creds[m->n_creds - 1].username);
        }
    }
    turn_add(m, 0, "QUIT\r\n");
    turn_add(m, 1, "+OK Logging out.\r\n");
}

/* A mail message being written for a dialogue: CRLF lines, dot-stuffed for SMTP DATA. */
struct gen_body {
    char text[GEN_BODY_MAX];
    size_t len;
    bool is_stuffed; /* RFC 5321 4.5.2: a line starting with "." gets another "." */
};

__attribute__((format(printf, 2, 3))) static void body_line(struct gen_body *b, const char *fmt,
                                                            ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    size_t dot = b->is_stuffed && line[0] == '.' ? 1 : 0;
    if (n < 0 || (size_t)n >= sizeof line || b->len + dot + (size_t)n + 3 > sizeof b->text) {
        fprintf(stderr, "gen: message too long\n");
        exit(2);
    }
    if (dot != 0) {
        b->text[b->len++] = '.';
    }
    memcpy(b->text + b->len, line, (size_t)n);
    b->len += (size_t)n;
    memcpy(b->text + b->len, "\r\n", 3);
    b->len += 2;
}

/* The mail address of a user name: itself when it is one, else at example.org. */
static void mail_address(const char *user, char *out, size_t cap)
{
    if (strchr(user, '@') != NULL) {
        snprintf(out, cap, "%s", user);
    } else {
        snprintf(out, cap, "%s@example.org", user);
    }
}

/* A message from carol to rcpt whose text holds lines that look like commands and replies of
 * the three protocols (SMTP AUTH and envelope, POP3 USER/PASS, IMAP tagged LOGIN and status,
 * a literal announcement, a line starting with "." and a lone ".") but are content, never
 * credentials. The fake PLAIN credential is random, so a parser that takes it shows up as an
 * extra in the recall. */
static void make_body(struct rng *r, struct gen_body *b, const char *rcpt)
{
    char fake[GEN_FIELD_MAX], b64[GEN_B64_MAX];
    make_password(r, fake, sizeof fake);
    sasl_plain("mallory", fake, b64, sizeof b64);
    body_line(b, "From: Carol <carol@example.net>");
    body_line(b, "To: <%s>", rcpt);
    body_line(b, "Subject: the old server, report %u", rng_below(r, 10000));
    body_line(b, "Date: Wed, 01 Jan 2025 10:%02u:00 +0000", rng_below(r, 60));
    unsigned id = (unsigned)rng_next(r);
    body_line(b, "Message-ID: <%08x.%u@example.net>", id, rng_below(r, 1000));
    body_line(b, "%s", "");
    body_line(b, "The old client configuration, for the record:");
    body_line(b, "AUTH PLAIN %s", b64);
    body_line(b, "MAIL FROM:<mallory@example.com>");
    body_line(b, "RCPT TO:<root@example.net>");
    body_line(b, "235 2.7.0 Authentication successful");
    body_line(b, "USER mallory");
    body_line(b, "PASS not-a-credential");
    body_line(b, "a1 LOGIN mallory secret");
    body_line(b, "a1 OK fake tagged reply");
    body_line(b, "* OK fake");
    body_line(b, "a2 LOGIN {7}");
    body_line(b, "+ OK");
    body_line(b, ".a line that starts with a dot");
    uint32_t filler = rng_below(r, 12);
    for (uint32_t i = 0; i < filler; i++) {
        body_line(b, "Line %u of the old notes: nothing here is a command, only text.", i + 1);
    }
    body_line(b, ".");
    body_line(b, "Carol");
}

/* An SMTP session as Postfix answers it: greeting, EHLO with its multi-line reply (STARTTLS
 * offered or not, AUTH PLAIN LOGIN), one or two logins by AUTH PLAIN (initial response or after
 * "334 ") or AUTH LOGIN (the user as initial response, or both after the 334 prompts); after a
 * success one message (MAIL, RCPT, DATA, 354, the dot-stuffed body with its trap lines, the lone
 * ".", 250 queued), the envelope pipelined in one write (RFC 2920) half the time; QUIT. One in
 * ten sessions relays a message without AUTH, after HELO (no extension list: the STARTTLS
 * verdict is unknown) or EHLO. RFC 5321, RFC 4954, RFC 3207. */
static void smtp_build(struct rng *r, struct gen_mail *m)
{
    bool has_stls = rng_below(r, 2) == 0;
    bool is_relay = rng_below(r, 10) == 0;
    turn_add(m, 1, "220 mail.example.net ESMTP Postfix (Debian/GNU)\r\n");
    if (is_relay && rng_below(r, 2) == 0) {
        turn_add(m, 0, "HELO mx%u.example.com\r\n", rng_below(r, 100));
        turn_add(m, 1, "250 mail.example.net\r\n");
    } else {
        turn_add(m, 0, "EHLO %s\r\n", rng_below(r, 2) == 0 ? "[192.168.1.20]" : "laptop.local");
        turn_add(m, 1,
                 "250-mail.example.net\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n"
                 "250-ETRN\r\n%s250-AUTH PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n"
                 "250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n",
                 has_stls ? "250-STARTTLS\r\n" : "");
        m->starttls = has_stls ? "offered-not-used" : "not-offered";
    }
    bool is_in = is_relay;
    size_t attempts = is_relay ? 0 : rng_below(r, 10) < 7 ? 1 : 2;
    for (size_t a = 0; a < attempts && !is_in; a++) {
        struct gen_cred *c = &m->creds[m->n_creds++];
        make_username(r, c->username, sizeof c->username);
        make_password(r, c->password, sizeof c->password);
        c->is_success = a == 0 && attempts == 2 ? false : rng_below(r, 10) < 8;
        uint32_t pick = rng_below(r, 10);
        /* PLAIN with the initial response or after "334 "; LOGIN after both prompts, or with
         * the user name as its initial response. */
        sasl_turns(m, c, "AUTH", "334 ", pick < 6, pick < 4 || pick >= 9);
        turn_add(m, 1, "%s",
                 c->is_success
                     ? "235 2.7.0 Authentication successful\r\n"
                     : "535 5.7.8 Error: authentication failed: authentication failure\r\n");
        is_in = c->is_success;
    }
    if (is_in) {
        char from[GEN_FIELD_MAX + 16], rcpt[32];
        mail_address(m->n_creds == 0 ? "newsletter@example.com" : m->creds[m->n_creds - 1].username,
                     from, sizeof from);
        snprintf(rcpt, sizeof rcpt, "u%06u@example.net", rng_below(r, 100000));
        struct gen_body b = { .is_stuffed = true };
        make_body(r, &b, rcpt);
        static const char ok_data[] = "354 End data with <CR><LF>.<CR><LF>\r\n";
        if (rng_below(r, 2) == 0) {
            turn_add(m, 0, "MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n", from, rcpt);
            turn_add(m, 1, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n%s", ok_data);
        } else {
            turn_add(m, 0, "MAIL FROM:<%s> SIZE=%zu\r\n", from, b.len);
            turn_add(m, 1, "250 2.1.0 Ok\r\n");
            turn_add(m, 0, "RCPT TO:<%s>\r\n", rcpt);
            turn_add(m, 1, "250 2.1.5 Ok\r\n");
            turn_add(m, 0, "DATA\r\n");
            turn_add(m, 1, "%s", ok_data);
        }
        turn_add(m, 0, "%s.\r\n", b.text);
        uint32_t queue_id = rng_below(r, 1u << 20);
        turn_add(m, 1, "250 2.0.0 Ok: queued as %05X%06X\r\n", queue_id, rng_below(r, 1u << 24));
    }
    turn_add(m, 0, "QUIT\r\n");
    turn_add(m, 1, "221 2.0.0 Bye\r\n");
}

/* RFC 3501 ASTRING-CHAR throughout: s can go as an atom. */
static bool is_imap_atom(const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s <= ' ' || *s >= 0x7f || strchr("(){%*\"\\", *s) != NULL) {
            return false;
        }
    }
    return true;
}

/* s as an RFC 3501 quoted string: in double quotes, with '"' and '\' escaped by a backslash. */
static void imap_quote(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    out[o++] = '"';
    for (; *s != '\0' && o + 4 <= cap; s++) {
        if (*s == '"' || *s == '\\') {
            out[o++] = '\\';
        }
        out[o++] = *s;
    }
    out[o++] = '"';
    out[o] = '\0';
}

/* The post-login capabilities Dovecot 2.3 lists. */
#define GEN_IMAP_CAPS_AUTHED                                                                       \
    "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES "        \
    "THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN "        \
    "NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES "       \
    "WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW "           \
    "STATUS=SIZE SAVEDATE LITERAL+ NOTIFY"

/* An IMAP session as Dovecot answers it: the greeting with its [CAPABILITY ...] code (STARTTLS
 * offered or not, so the STARTTLS verdict is always known), CAPABILITY (sometimes), one or two
 * logins: LOGIN with atoms, with quoted strings (the password sometimes holding a quote or a
 * backslash, escaped), with synchronising literals (each literal sent after the server's "+ OK",
 * so in a turn of its own) or a LITERAL+ one, AUTHENTICATE PLAIN with the initial response
 * (SASL-IR, RFC 4959) or after "+ ", AUTHENTICATE LOGIN; tagged OK or NO; after a success SELECT
 * INBOX and (mostly) a FETCH whose literal holds trap lines; LOGOUT with "* BYE". Some sessions
 * only look. RFC 3501, RFC 7888, RFC 4616. */
static void imap_build(struct rng *r, struct gen_mail *m)
{
    static const char caps[] = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+";
    bool has_stls = rng_below(r, 2) == 0;
    const char *stls = has_stls ? " STARTTLS" : "";
    unsigned tag = 1;
    turn_add(m, 1, "* OK [CAPABILITY %s%s AUTH=PLAIN AUTH=LOGIN] Dovecot (Debian) ready.\r\n", caps,
             stls);
    m->starttls = has_stls ? "offered-not-used" : "not-offered";
    bool has_asked_caps = rng_below(r, 2) == 0;
    if (has_asked_caps) {
        turn_add(m, 0, "a%03u CAPABILITY\r\n", tag);
        turn_add(m, 1,
                 "* CAPABILITY %s%s AUTH=PLAIN AUTH=LOGIN\r\na%03u OK Pre-login capabilities "
                 "listed, post-login capabilities have more.\r\n",
                 caps, stls, tag);
        tag++;
    }
    size_t attempts = rng_below(r, 20) == 0 ? 0 : rng_below(r, 10) < 7 ? 1 : 2;
    bool is_in = false;
    for (size_t a = 0; a < attempts && !is_in; a++) {
        struct gen_cred *c = &m->creds[m->n_creds++];
        make_username(r, c->username, sizeof c->username);
        make_password(r, c->password, sizeof c->password);
        c->is_success = a == 0 && attempts == 2 ? false : rng_below(r, 10) < 8;
        uint32_t pick = rng_below(r, 20);
        if (pick < 12) {
            snprintf(c->mechanism, sizeof c->mechanism, "IMAP LOGIN");
            size_t len = strlen(c->password);
            if (pick >= 4 && rng_below(r, 3) == 0) {
                /* A quote or a backslash inside, as the quoted and literal forms carry them. */
                c->password[rng_range(r, 1, (uint32_t)len - 2)] = rng_below(r, 2) == 0 ? '"' : '\\';
            }
            if (pick < 4 && is_imap_atom(c->password)) {
                turn_add(m, 0, "a%03u LOGIN %s %s\r\n", tag, c->username, c->password);
            } else if (pick < 8) {
                char qu[2 * GEN_FIELD_MAX + 3], qp[2 * GEN_FIELD_MAX + 3];
                imap_quote(c->username, qu, sizeof qu);
                imap_quote(c->password, qp, sizeof qp);
                turn_add(m, 0, "a%03u LOGIN %s %s\r\n", tag,
                         rng_below(r, 2) == 0 ? qu : c->username, qp);
            } else if (pick < 10) {
                /* Both arguments as synchronising literals: each waits for "+ OK". */
                turn_add(m, 0, "a%03u LOGIN {%zu}\r\n", tag, strlen(c->username));
                turn_add(m, 1, "+ OK\r\n");
                turn_add(m, 0, "%s {%zu}\r\n", c->username, len);
                turn_add(m, 1, "+ OK\r\n");
                turn_add(m, 0, "%s\r\n", c->password);
            } else if (pick < 11) {
                turn_add(m, 0, "a%03u LOGIN %s {%zu}\r\n", tag, c->username, len);
                turn_add(m, 1, "+ OK\r\n");
                turn_add(m, 0, "%s\r\n", c->password);
            } else {
                /* LITERAL+ (RFC 7888): the client does not wait. */
                turn_add(m, 0, "a%03u LOGIN %s {%zu+}\r\n%s\r\n", tag, c->username, len,
                         c->password);
            }
        } else {
            char cmd[32];
            snprintf(cmd, sizeof cmd, "a%03u AUTHENTICATE", tag);
            sasl_turns(m, c, cmd, "+ ", pick < 18, pick < 15);
        }
        if (!c->is_success) {
            turn_add(m, 1, "a%03u NO [AUTHENTICATIONFAILED] Authentication failed.\r\n", tag);
        } else if (has_asked_caps) {
            /* A client that asked gets the new list untagged. */
            turn_add(m, 1, "* CAPABILITY %s\r\na%03u OK Logged in\r\n", GEN_IMAP_CAPS_AUTHED, tag);
        } else {
            turn_add(m, 1, "a%03u OK [CAPABILITY %s] Logged in\r\n", tag, GEN_IMAP_CAPS_AUTHED);
        }
        tag++;
        is_in = c->is_success;
    }
    if (is_in) {
        turn_add(m, 0, "a%03u SELECT INBOX\r\n", tag);
        turn_add(m, 1,
                 "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
                 "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] "
                 "Flags permitted.\r\n* 2 EXISTS\r\n* 0 RECENT\r\n* OK [UNSEEN 1] First unseen.\r\n"
                 "* OK [UIDVALIDITY %u] UIDs valid\r\n* OK [UIDNEXT 3] Predicted next UID\r\n"
                 "a%03u OK [READ-WRITE] Select completed (0.001 + 0.000 secs).\r\n",
                 1700000000u + rng_below(r, 35000000), tag);
        tag++;
        if (rng_below(r, 4) != 0) {
            char to[GEN_FIELD_MAX + 16];
            mail_address(m->creds[m->n_creds - 1].username, to, sizeof to);
            struct gen_body b = { .is_stuffed = false };
            make_body(r, &b, to);
            turn_add(m, 0, "a%03u FETCH 1 BODY[]\r\n", tag);
            turn_add(m, 1, "* 1 FETCH (FLAGS (\\Seen) BODY[] {%zu}\r\n", b.len);
            turn_add(m, 1, "%s", b.text);
            turn_add(m, 1, ")\r\na%03u OK Fetch completed (0.001 + 0.000 secs).\r\n", tag);
            tag++;
        }
    }
    turn_add(m, 0, "a%03u LOGOUT\r\n", tag);
    turn_add(m, 1, "* BYE Logging out\r\na%03u OK Logout completed (0.001 + 0.000 secs).\r\n", tag);
}

/* Builds one session's dialogue into m. */
typedef void gen_build_fn(struct rng *r, struct gen_mail *m);

struct gen_mail_proto {
    const char *name;  /* the truth's "protocol" */
    uint16_t ports[2]; /* IANA ports, where classification by port finds it (0: none) */
    uint16_t alt_port; /* a port only DPI finds it on */
    gen_build_fn *build;
};

/* Picked with equal odds. The alternative ports are none of plainsight's mail ports (25, 587,
 * 2525, 465, 110, 995, 143, 993): there only content classification finds the session. */
static const struct gen_mail_proto mail_protos[] = {
    { "pop3", { 110, 0 }, 8110, pop3_build },
    { "smtp", { 587, 25 }, 10025, smtp_build },
    { "imap", { 143, 0 }, 10143, imap_build },
};
_Static_assert(sizeof mail_protos / sizeof mail_protos[0] <= GEN_MAX_PROTOS, "GEN_MAX_PROTOS");

/* ---- truth file ---- */

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            fprintf(f, "\\%c", c);
        } else if (c < 0x20) {
            fprintf(f, "\\u%04x", c);
        } else {
            fputc(c, f);
        }
    }
    fputc('"', f);
}

static void endpoint(const struct gen_flow *f, bool is_client, char *out, size_t cap)
{
    char ip[INET6_ADDRSTRLEN];
    const uint8_t *a = is_client ? f->cli : f->srv;
    inet_ntop(f->is_v6 ? AF_INET6 : AF_INET, a, ip, sizeof ip);
    unsigned port = is_client ? f->cport : f->sport;
    if (f->is_v6) {
        snprintf(out, cap, "[%s]:%u", ip, port);
    } else {
        snprintf(out, cap, "%s:%u", ip, port);
    }
}

static void truth_session(struct gen *g, const struct gen_flow *f, const struct gen_mail_proto *mp)
{
    FILE *t = g->truth;
    if (t == NULL) {
        return;
    }
    char cli[INET6_ADDRSTRLEN + 16], srv[INET6_ADDRSTRLEN + 16];
    endpoint(f, true, cli, sizeof cli);
    endpoint(f, false, srv, sizeof srv);
    fprintf(t, "%s\n    {\"client\": \"%s\", \"server\": \"%s\", \"protocol\": \"%s\", ",
            g->has_truth_session ? "," : "", cli, srv, mp->name);
    fprintf(t, "\"port_is_standard\": %s, \"tls\": \"none\", \"starttls\": ",
            f->sport != mp->alt_port ? "true" : "false");
    if (f->mail->starttls != NULL) {
        json_str(t, f->mail->starttls);
    } else {
        fputs("null", t);
    }
    fputs(", \"tls_version\": null,\n     \"credentials\": [", t);
    for (size_t i = 0; i < f->mail->n_creds; i++) {
        const struct gen_cred *c = &f->mail->creds[i];
        fputs(i > 0 ? ",\n       {\"mechanism\": " : "\n       {\"mechanism\": ", t);
        json_str(t, c->mechanism);
        fputs(", \"username\": ", t);
        json_str(t, c->username);
        fputs(", \"password\": ", t);
        json_str(t, c->password);
        fprintf(t, ", \"result\": \"%s\"}", c->is_success ? "success" : "failure");
    }
    fputs(f->mail->n_creds > 0 ? "\n     ]}" : "]}", t);
    g->has_truth_session = true;
}

/* ---- packets ---- */

static void be16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* RFC 1071 one's-complement sum over 16-bit big-endian words (a last odd byte padded). */
static uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t len)
{
    while (len > 1) {
        sum += (uint32_t)p[0] << 8 | p[1];
        p += 2;
        len -= 2;
    }
    if (len == 1) {
        sum += (uint32_t)p[0] << 8;
    }
    return sum;
}

static uint16_t csum_fold(uint64_t sum)
{
    while ((sum >> 16) != 0) {
        sum = (sum & 0xffffu) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

/* The tunnel headers --wrap puts in front of a frame of len bytes, into out
 * (GEN_WRAP_LEN bytes); returns their length. The outer addresses are a mirror source and its
 * collector in 203.0.113.0/24. */
static size_t wrap_header(struct gen *g, uint8_t *out, size_t len)
{
    static const uint8_t macs[12] = { 0x02, 0, 0, 0, 0x01, 0x01, 0x02, 0, 0, 0, 0x01, 0x02 };
    memcpy(out, macs, sizeof macs);
    be16(out + 12, 0x0800);
    uint8_t *ip = out + 14;
    bool is_vxlan = g->wrap == GEN_WRAP_VXLAN;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    be16(ip + 2, (uint32_t)(20 + 16 + len));
    ip[8] = 64;
    ip[9] = is_vxlan ? 17 : 47;
    static const uint8_t addrs[8] = { 203, 0, 113, 10, 203, 0, 113, 20 };
    memcpy(ip + 12, addrs, sizeof addrs);
    be16(ip + 10, csum_fold(csum_add(0, ip, 20)));
    uint8_t *t = ip + 20;
    if (is_vxlan) {
        be16(t, 49152);
        be16(t + 2, 4789);
        be16(t + 4, (uint32_t)(16 + len));
        be16(t + 6, 0); /* no UDP checksum, as VXLAN senders commonly send it */
        be32(t + 8, 0x08000000u);
        be32(t + 12, 4242u << 8);
    } else {
        be16(t, 0x1000);     /* S: a sequence number follows */
        be16(t + 2, 0x88be); /* ERSPAN type II */
        be32(t + 4, g->wrap_seq++);
        be16(t + 8, 1u << 12); /* version 1 (type II), VLAN 0 */
        be16(t + 10, 7);       /* COS, En, T 0; session 7 */
        be32(t + 12, 0);       /* index */
    }
    return GEN_WRAP_LEN;
}

/* Writes frame[0, len) as one pcap record at the current packet time, then moves the clock on
 * by the frame's time on a link of rate_mbit, with jitter. */
static void put_record(struct gen *g, size_t len)
{
    uint8_t h[16];
    uint8_t outer[GEN_WRAP_LEN];
    size_t outer_len = g->wrap != GEN_WRAP_NONE ? wrap_header(g, outer, len) : 0;
    uint64_t usec = g->now_ns / 1000u;
    le32(h, (uint32_t)(GEN_T0_SEC + usec / 1000000u));
    le32(h + 4, (uint32_t)(usec % 1000000u));
    le32(h + 8, (uint32_t)(outer_len + len));
    le32(h + 12, (uint32_t)(outer_len + len));
    fwrite(h, 1, sizeof h, g->out);
    fwrite(outer, 1, outer_len, g->out);
    fwrite(g->frame, 1, len, g->out);
    g->bytes += sizeof h + outer_len + len;
    g->packets++;
    uint64_t jitter = rng_range(&g->r, 500, 1500);
    g->now_ns += (uint64_t)(len + 24) * 8000u * jitter / ((uint64_t)g->rate_mbit * 1000u);
}

/* Ethernet and IP headers for dir of f carrying l4_len bytes of protocol proto. Returns the
 * offset of the transport header and the pseudo-header sum for its checksum. */
static size_t put_l2l3(struct gen *g, struct gen_flow *f, uint8_t dir, uint8_t proto, size_t l4_len,
                       uint64_t *pseudo)
{
    uint8_t *p = g->frame;
    const uint8_t *src = dir == 0 ? f->cli : f->srv;
    const uint8_t *dst = dir == 0 ? f->srv : f->cli;
    static const uint8_t router[6] = { 0x02, 0x00, 0x5e, 0x00, 0x00, 0x01 };
    uint8_t host[6] = { 0x02, 0x42, f->cli[12], f->cli[13], f->cli[14], f->cli[15] };
    if (!f->is_v6) {
        memcpy(host + 2, f->cli, 4);
    }
    memcpy(p, dir == 0 ? router : host, 6);
    memcpy(p + 6, dir == 0 ? host : router, 6);
    size_t off = GEN_ETH_LEN;
    uint64_t sum = 0;
    if (!f->is_v6) {
        be16(p + 12, 0x0800);
        uint8_t *ip = p + off;
        ip[0] = 0x45;
        ip[1] = 0;
        be16(ip + 2, (uint32_t)(GEN_IPV4_LEN + l4_len));
        be16(ip + 4, f->ip_id[dir]++);
        be16(ip + 6, proto == 6 ? 0x4000 : 0); /* DF on TCP */
        ip[8] = dir == 0 ? 64 : 57;
        ip[9] = proto;
        be16(ip + 10, 0);
        memcpy(ip + 12, src, 4);
        memcpy(ip + 16, dst, 4);
        be16(ip + 10, csum_fold(csum_add(0, ip, GEN_IPV4_LEN)));
        sum = csum_add(sum, src, 4);
        sum = csum_add(sum, dst, 4);
        off += GEN_IPV4_LEN;
    } else {
        be16(p + 12, 0x86dd);
        uint8_t *ip = p + off;
        be32(ip, 0x60000000u | (f->flow_label & 0xfffffu));
        be16(ip + 4, (uint32_t)l4_len);
        ip[6] = proto;
        ip[7] = dir == 0 ? 64 : 57;
        memcpy(ip + 8, src, 16);
        memcpy(ip + 24, dst, 16);
        sum = csum_add(sum, src, 16);
        sum = csum_add(sum, dst, 16);
        off += GEN_IPV6_LEN;
    }
    sum += proto;
    sum += (uint64_t)l4_len;
    *pseudo = sum;
    return off;
}

/* The capture now shows [off, off + len) of direction dir: advance what a receiver holds in
 * order, keeping ranges that arrived ahead of a hole. */
static void rcv_update(struct gen_flow *f, uint8_t dir, uint32_t off, uint32_t len)
{
    if (len == 0) {
        return;
    }
    if (off > f->rcv[dir]) {
        if (f->n_pend[dir] < GEN_MAX_PEND) {
            f->pend[dir][f->n_pend[dir]++] = (struct gen_range){ off, off + len };
        }
        return;
    }
    if (off + len > f->rcv[dir]) {
        f->rcv[dir] = off + len;
    }
    bool is_moved = true;
    while (is_moved) {
        is_moved = false;
        for (size_t i = 0; i < f->n_pend[dir]; i++) {
            struct gen_range *q = &f->pend[dir][i];
            if (q->lo <= f->rcv[dir]) {
                if (q->hi > f->rcv[dir]) {
                    f->rcv[dir] = q->hi;
                }
                *q = f->pend[dir][--f->n_pend[dir]];
                is_moved = true;
                break;
            }
        }
    }
}

static void emit_tcp(struct gen *g, struct gen_flow *f, const struct gen_seg *s)
{
    uint8_t d = s->dir, peer = (uint8_t)(s->dir ^ 1u);
    bool is_syn = (s->flags & GEN_TCP_SYN) != 0;
    size_t hl = is_syn ? GEN_TCP_SYN_LEN : GEN_TCP_LEN;
    uint64_t sum;
    size_t off = put_l2l3(g, f, d, 6, hl + s->len, &sum);
    uint8_t *t = g->frame + off;
    be16(t, d == 0 ? f->cport : f->sport);
    be16(t + 2, d == 0 ? f->sport : f->cport);
    be32(t + 4, is_syn ? f->isn[d] : f->isn[d] + 1 + s->off);
    uint32_t ack = 0;
    if ((s->flags & GEN_TCP_ACK) != 0) {
        ack = f->isn[peer] + 1 + f->rcv[peer] + (f->has_fin[peer] ? 1u : 0u);
    }
    be32(t + 8, ack);
    t[12] = (uint8_t)((hl / 4) << 4);
    t[13] = s->flags;
    be16(t + 14, is_syn ? 64240 : 502);
    be16(t + 16, 0);
    be16(t + 18, 0);
    uint32_t ms = (uint32_t)(g->now_ns / 1000000u);
    uint8_t *o = t + 20;
    if (is_syn) {
        static const uint8_t head[] = { 2, 4, 0, 0, 4, 2, 8, 10 };
        memcpy(o, head, sizeof head);
        be16(o + 2, f->is_v6 ? 1440 : 1460);
        be32(o + 8, ms + f->ts_off[d]);
        be32(o + 12, d == 0 ? 0 : ms - 1 + f->ts_off[peer]);
        o[16] = 1;
        o[17] = 3;
        o[18] = 3;
        o[19] = 7;
    } else {
        o[0] = 1;
        o[1] = 1;
        o[2] = 8;
        o[3] = 10;
        be32(o + 4, ms + f->ts_off[d]);
        be32(o + 8, ms - 1 + f->ts_off[peer]);
    }
    memcpy(t + hl, f->buf + s->src, s->len);
    sum = csum_add(sum, t, hl + s->len);
    be16(t + 16, csum_fold(sum));
    put_record(g, off + hl + s->len);
    rcv_update(f, d, s->off, s->len);
    if ((s->flags & GEN_TCP_FIN) != 0 && f->rcv[d] == s->off) {
        f->has_fin[d] = true;
    }
}

static void emit_udp(struct gen *g, struct gen_flow *f, const struct gen_seg *s)
{
    uint64_t sum;
    size_t off = put_l2l3(g, f, s->dir, 17, GEN_UDP_LEN + s->len, &sum);
    uint8_t *u = g->frame + off;
    be16(u, s->dir == 0 ? f->cport : f->sport);
    be16(u + 2, s->dir == 0 ? f->sport : f->cport);
    be16(u + 4, GEN_UDP_LEN + s->len);
    be16(u + 6, 0);
    memcpy(u + GEN_UDP_LEN, f->buf + s->src, s->len);
    uint16_t c = csum_fold(csum_add(sum, u, GEN_UDP_LEN + s->len));
    be16(u + 6, c == 0 ? 0xffff : c);
    put_record(g, off + GEN_UDP_LEN + s->len);
}

/* ---- chunks: what a flow queues next ---- */

static void seg_push(struct gen_flow *f, uint8_t dir, uint8_t flags, uint32_t len, uint32_t src)
{
    if (f->n_segs == f->cap_segs) {
        f->cap_segs = f->cap_segs == 0 ? 16 : f->cap_segs * 2;
        f->segs = xrealloc(f->segs, f->cap_segs * sizeof *f->segs);
    }
    f->segs[f->n_segs++] = (struct gen_seg){ f->snd[dir], len, src, dir, flags, false };
    f->snd[dir] += len;
    if ((flags & GEN_TCP_FIN) != 0) {
        f->snd[dir]++; /* the FIN takes a sequence number */
    }
}

/* Reserves len bytes of the chunk buffer; returns their offset. */
static uint32_t buf_take(struct gen_flow *f, uint32_t len)
{
    if (f->buf_len + len > f->buf_cap) {
        f->buf_cap = (f->buf_len + len) * 2;
        f->buf = xrealloc(f->buf, f->buf_cap);
    }
    uint32_t at = f->buf_len;
    f->buf_len += len;
    return at;
}

static uint32_t buf_put(struct gen_flow *f, const void *data, size_t len)
{
    uint32_t at = buf_take(f, (uint32_t)len);
    memcpy(f->buf + at, data, len);
    return at;
}

static uint32_t buf_pool(struct gen *g, struct gen_flow *f, uint32_t len)
{
    uint32_t at = buf_take(f, len);
    uint32_t done = 0;
    while (done < len) {
        uint32_t from = rng_below(&g->r, (uint32_t)GEN_POOL_LEN);
        uint32_t n = (uint32_t)GEN_POOL_LEN - from;
        if (n > len - done) {
            n = len - done;
        }
        memcpy(f->buf + at + done, g->pool + from, n);
        done += n;
    }
    return at;
}

static void chunk_handshake(struct gen_flow *f)
{
    seg_push(f, 0, GEN_TCP_SYN, 0, 0);
    seg_push(f, 1, GEN_TCP_SYN | GEN_TCP_ACK, 0, 0);
    seg_push(f, 0, GEN_TCP_ACK, 0, 0);
}

/* One application write of dir: buf[src, src + len) cut into segments, at the MSS or, when
 * is_split, also at random byte offsets. Bulk writes get an ACK from the peer every second
 * segment; a request/response write leaves the ACK to the answer. */
static void chunk_write(struct gen *g, struct gen_flow *f, uint8_t dir, uint32_t src, uint32_t len,
                        bool is_split)
{
    uint32_t mss = f->is_v6 ? GEN_MSS_V6 : GEN_MSS_V4;
    uint32_t done = 0, n_data = 0;
    while (done < len) {
        uint32_t take = len - done < mss ? len - done : mss;
        if (is_split && take > 1 && rng_below(&g->r, 2) == 0) {
            take = rng_range(&g->r, 1, take - 1);
        }
        bool is_last = done + take == len;
        seg_push(f, dir, (uint8_t)(GEN_TCP_ACK | (is_last ? GEN_TCP_PSH : 0)), take, src + done);
        done += take;
        n_data++;
        if (!is_split && len > mss && (n_data % 2 == 0 || is_last)) {
            seg_push(f, (uint8_t)(dir ^ 1u), GEN_TCP_ACK, 0, 0);
        }
    }
}

/* Some data segments of the chunk from index from on change place with the next data segment
 * of the same direction; some are sent again one to three segments later. */
static void perturb(struct gen *g, struct gen_flow *f, size_t from)
{
    for (size_t i = from; i < f->n_segs; i++) {
        struct gen_seg *s = &f->segs[i];
        if (s->len == 0 || s->is_copy) {
            continue;
        }
        if (rng_ppm(&g->r, f->ppm_reorder)) {
            size_t j = i + 1;
            while (j < f->n_segs && (f->segs[j].len == 0 || f->segs[j].dir != s->dir)) {
                j++;
            }
            if (j < f->n_segs) {
                struct gen_seg tmp = f->segs[i];
                f->segs[i] = f->segs[j];
                f->segs[j] = tmp;
                continue;
            }
        }
        if (rng_ppm(&g->r, f->ppm_retx)) {
            struct gen_seg copy = *s;
            copy.is_copy = true;
            size_t at = i + 1 + rng_below(&g->r, 3);
            if (at > f->n_segs) {
                at = f->n_segs;
            }
            if (f->n_segs == f->cap_segs) {
                f->cap_segs *= 2;
                f->segs = xrealloc(f->segs, f->cap_segs * sizeof *f->segs);
            }
            memmove(f->segs + at + 1, f->segs + at, (f->n_segs - at) * sizeof *f->segs);
            f->segs[at] = copy;
            f->n_segs++;
        }
    }
}

/* The close: FIN from first, FIN from the other side, the last ACK; or, rarely, a reset. */
static void chunk_close(struct gen *g, struct gen_flow *f, uint8_t first)
{
    uint8_t other = (uint8_t)(first ^ 1u);
    if (f->kind != GEN_MAIL && rng_below(&g->r, 100) == 0) {
        seg_push(f, first, GEN_TCP_RST | GEN_TCP_ACK, 0, 0);
    } else {
        seg_push(f, first, GEN_TCP_FIN | GEN_TCP_ACK, 0, 0);
        seg_push(f, other, GEN_TCP_FIN | GEN_TCP_ACK, 0, 0);
        seg_push(f, first, GEN_TCP_ACK, 0, 0);
    }
    f->is_done = true;
}

/* ---- producers ---- */

static void produce_web(struct gen *g, struct gen_flow *f)
{
    char text[1024];
    switch (f->phase) {
    case 1: { /* a request */
        static const char *const paths[] = {
            "", "index.html", "static/app.js", "img/logo.png", "api/v1/items?page=2", "css/site.css"
        };
        /* One draw a statement: argument order is unspecified, and the bytes must not depend
         * on the compiler. */
        const char *path = paths[rng_below(&g->r, 6)];
        int n = snprintf(text, sizeof text,
                         "GET /%s HTTP/1.1\r\nHost: www.example%u.com\r\n"
                         "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 "
                         "Firefox/115.0\r\nAccept: text/html,application/xhtml+xml,*/*;q=0.8\r\n"
                         "Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate\r\n"
                         "Connection: keep-alive\r\n\r\n",
                         path, rng_below(&g->r, 5000));
        chunk_write(g, f, 0, buf_put(f, text, (size_t)n), (uint32_t)n, false);
        f->todo = rng_logu(&g->r, 200, 64 * 1024);
        f->phase = 2;
        break;
    }
    case 2: { /* the response header and the body's first part */
        int n = snprintf(text, sizeof text,
                         "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\n"
                         "Date: Wed, 01 Jan 2025 10:00:00 GMT\r\n"
                         "Content-Type: text/html; charset=utf-8\r\nContent-Length: %u\r\n"
                         "Connection: keep-alive\r\n\r\n",
                         f->todo);
        uint32_t at = buf_put(f, text, (size_t)n);
        uint32_t body = f->todo < GEN_CHUNK_MAX ? f->todo : GEN_CHUNK_MAX;
        buf_pool(g, f, body);
        f->todo -= body;
        chunk_write(g, f, 1, at, (uint32_t)n + body, false);
        f->phase = 3;
        break;
    }
    default: /* 3: the rest of the body, then the next request or the close */
        if (f->todo > 0) {
            uint32_t body = f->todo < GEN_CHUNK_MAX ? f->todo : GEN_CHUNK_MAX;
            chunk_write(g, f, 1, buf_pool(g, f, body), body, false);
            f->todo -= body;
        } else if (--f->reqs > 0) {
            f->phase = 1;
            produce_web(g, f);
        } else {
            chunk_close(g, f, (uint8_t)rng_below(&g->r, 2));
        }
        break;
    }
}

/* A TLS 1.3 ClientHello (RFC 8446 4.1.2) with SNI, groups, signature algorithms, ALPN,
 * supported_versions and an X25519 key share, as one record. */
static uint32_t client_hello(struct gen *g, struct gen_flow *f)
{
    uint8_t h[512];
    size_t n = 0;
    char sni[64];
    int sl = snprintf(sni, sizeof sni, "www.example%u.com", rng_below(&g->r, 5000));
    static const uint8_t suites[] = { 0x13, 0x01, 0x13, 0x02, 0x13, 0x03, 0xc0, 0x2b, 0xc0, 0x2f,
                                      0xc0, 0x2c, 0xc0, 0x30, 0xcc, 0xa9, 0xcc, 0xa8, 0xc0, 0x13,
                                      0xc0, 0x14, 0x00, 0x9c, 0x00, 0x9d, 0x00, 0x2f, 0x00, 0x35 };
    static const uint8_t ext_fixed[] = {
        0x00, 0x0a, 0x00, 0x08, 0x00, 0x06, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18, /* groups */
        0x00, 0x0b, 0x00, 0x02, 0x01, 0x00,                                     /* ec points */
        0x00, 0x0d, 0x00, 0x12, 0x00, 0x10, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01,
        0x05, 0x03, 0x08, 0x05, 0x05, 0x01, 0x08, 0x06, 0x06, 0x01, /* signature algorithms */
        0x00, 0x10, 0x00, 0x0e, 0x00, 0x0c, 0x02, 'h',  '2',  0x08, 'h',  't',
        't',  'p',  '/',  '1',  '.',  '1',                          /* ALPN */
        0x00, 0x2b, 0x00, 0x05, 0x04, 0x03, 0x04, 0x03, 0x03,       /* versions */
        0x00, 0x2d, 0x00, 0x02, 0x01, 0x01,                         /* psk modes */
        0x00, 0x33, 0x00, 0x26, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20, /* key share */
    };
    h[n++] = 0x16;
    h[n++] = 0x03;
    h[n++] = 0x01;
    n += 2; /* record length */
    h[n++] = 0x01;
    n += 3; /* handshake length */
    h[n++] = 0x03;
    h[n++] = 0x03;
    memcpy(h + n, g->pool + rng_below(&g->r, (uint32_t)GEN_POOL_LEN - 64), 32); /* random */
    n += 32;
    h[n++] = 32;
    memcpy(h + n, g->pool + rng_below(&g->r, (uint32_t)GEN_POOL_LEN - 64), 32); /* session id */
    n += 32;
    be16(h + n, sizeof suites);
    n += 2;
    memcpy(h + n, suites, sizeof suites);
    n += sizeof suites;
    h[n++] = 1;
    h[n++] = 0;
    size_t ext_len_at = n;
    n += 2;
    be16(h + n, 0); /* server_name */
    be16(h + n + 2, (uint32_t)sl + 5);
    be16(h + n + 4, (uint32_t)sl + 3);
    h[n + 6] = 0;
    be16(h + n + 7, (uint32_t)sl);
    memcpy(h + n + 9, sni, (size_t)sl);
    n += 9 + (size_t)sl;
    memcpy(h + n, ext_fixed, sizeof ext_fixed);
    n += sizeof ext_fixed;
    memcpy(h + n, g->pool + rng_below(&g->r, (uint32_t)GEN_POOL_LEN - 64), 32); /* X25519 */
    n += 32;
    be16(h + ext_len_at, (uint32_t)(n - ext_len_at - 2));
    be16(h + 3, (uint32_t)(n - 5));
    h[6] = 0;
    be16(h + 7, (uint32_t)(n - 9));
    return buf_put(f, h, n);
}

/* ServerHello (TLS 1.3 through supported_versions), ChangeCipherSpec, then the encrypted
 * handshake as one application data record. Returns the bytes written at *at. */
static uint32_t server_hello(struct gen *g, struct gen_flow *f, uint32_t *at)
{
    uint8_t h[160];
    size_t n = 0;
    h[n++] = 0x16;
    h[n++] = 0x03;
    h[n++] = 0x03;
    n += 2;
    h[n++] = 0x02;
    n += 3;
    h[n++] = 0x03;
    h[n++] = 0x03;
    memcpy(h + n, g->pool + rng_below(&g->r, (uint32_t)GEN_POOL_LEN - 64), 32);
    n += 32;
    h[n++] = 32;
    memcpy(h + n, g->pool + rng_below(&g->r, (uint32_t)GEN_POOL_LEN - 64), 32);
    n += 32;
    h[n++] = 0x13;
    h[n++] = 0x01;
    h[n++] = 0;
    static const uint8_t ext[] = { 0x00, 0x2b, 0x00, 0x02, 0x03, 0x04, 0x00,
                                   0x33, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20 };
    be16(h + n, sizeof ext + 32);
    n += 2;
    memcpy(h + n, ext, sizeof ext);
    n += sizeof ext;
    memcpy(h + n, g->pool + rng_below(&g->r, (uint32_t)GEN_POOL_LEN - 64), 32);
    n += 32;
    be16(h + 3, (uint32_t)(n - 5));
    h[6] = 0;
    be16(h + 7, (uint32_t)(n - 9));
    static const uint8_t ccs[] = { 0x14, 0x03, 0x03, 0x00, 0x01, 0x01 };
    memcpy(h + n, ccs, sizeof ccs);
    n += sizeof ccs;
    uint32_t enc = rng_range(&g->r, 2500, 4500);
    h[n++] = 0x17;
    h[n++] = 0x03;
    h[n++] = 0x03;
    be16(h + n, enc);
    n += 2;
    *at = buf_put(f, h, n);
    buf_pool(g, f, enc);
    return (uint32_t)n + enc;
}

/* Application data records of up to 16 KiB, total payload bytes of at most cap. */
static uint32_t app_records(struct gen *g, struct gen_flow *f, uint32_t payload, uint32_t *at)
{
    uint32_t total = 0;
    *at = f->buf_len;
    while (payload > 0) {
        uint32_t rec = payload < 16384 ? payload : 16384;
        uint8_t hdr[5] = { 0x17, 0x03, 0x03, 0, 0 };
        be16(hdr + 3, rec + 17); /* the AEAD tag */
        buf_put(f, hdr, sizeof hdr);
        buf_pool(g, f, rec + 17);
        total += (uint32_t)sizeof hdr + rec + 17;
        payload -= rec;
    }
    return total;
}

static void produce_tls(struct gen *g, struct gen_flow *f)
{
    uint32_t at, n;
    switch (f->phase) {
    case 1: /* ClientHello */
        at = client_hello(g, f);
        chunk_write(g, f, 0, at, f->buf_len - at, false);
        f->phase = 2;
        break;
    case 2: /* ServerHello and the encrypted rest of the handshake */
        n = server_hello(g, f, &at);
        chunk_write(g, f, 1, at, n, false);
        f->phase = 3;
        break;
    case 3: { /* the client's ChangeCipherSpec and Finished, then a request */
        static const uint8_t ccs[] = { 0x14, 0x03, 0x03, 0x00, 0x01, 0x01 };
        at = buf_put(f, ccs, sizeof ccs);
        uint32_t a2;
        n = (uint32_t)sizeof ccs + app_records(g, f, 36, &a2);
        n += app_records(g, f, rng_range(&g->r, 200, 1400), &a2);
        chunk_write(g, f, 0, at, n, false);
        f->todo = rng_logu(&g->r, 1024, 512 * 1024);
        f->phase = 4;
        break;
    }
    case 4: /* the response, a chunk at a time; then another request or the close */
        if (f->todo > 0) {
            uint32_t part = f->todo < GEN_CHUNK_MAX - 256 ? f->todo : GEN_CHUNK_MAX - 256;
            n = app_records(g, f, part, &at);
            chunk_write(g, f, 1, at, n, false);
            f->todo -= part;
        } else if (--f->reqs > 0) {
            n = app_records(g, f, rng_range(&g->r, 200, 1400), &at);
            chunk_write(g, f, 0, at, n, false);
            f->todo = rng_logu(&g->r, 1024, 256 * 1024);
        } else {
            /* close_notify alert, then the close */
            n = app_records(g, f, 2, &at);
            chunk_write(g, f, 0, at, n, false);
            f->phase = 5;
        }
        break;
    default:
        chunk_close(g, f, 0);
        break;
    }
}

static void produce_bulk(struct gen *g, struct gen_flow *f)
{
    uint32_t n;
    switch (f->phase) {
    case 1: /* a short opaque command */
        n = rng_range(&g->r, 16, 300);
        chunk_write(g, f, 0, buf_pool(g, f, n), n, false);
        f->bulk_dir = rng_below(&g->r, 5) == 0 ? 0 : 1;
        f->todo = rng_logu(&g->r, 64 * 1024, 4 * 1024 * 1024);
        f->phase = 2;
        break;
    case 2:
        if (f->todo > 0) {
            n = f->todo < GEN_CHUNK_MAX ? f->todo : GEN_CHUNK_MAX;
            chunk_write(g, f, f->bulk_dir, buf_pool(g, f, n), n, false);
            f->todo -= n;
        } else {
            chunk_close(g, f, f->bulk_dir);
        }
        break;
    default:
        break;
    }
}

/* A DNS query for an A or AAAA record and its answer (RFC 1035 4.1). */
static void produce_dns(struct gen *g, struct gen_flow *f)
{
    uint8_t q[128];
    size_t n = 0;
    uint32_t id = rng_below(&g->r, 65536);
    bool is_aaaa = rng_below(&g->r, 3) == 0;
    be16(q, id);
    be16(q + 2, 0x0100);
    be16(q + 4, 1);
    be16(q + 6, 0);
    be16(q + 8, 0);
    be16(q + 10, 0);
    n = 12;
    char host[32];
    int hl = snprintf(host, sizeof host, "www%u", rng_below(&g->r, 5000));
    q[n++] = (uint8_t)hl;
    memcpy(q + n, host, (size_t)hl);
    n += (size_t)hl;
    static const uint8_t rest[] = { 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0 };
    memcpy(q + n, rest, sizeof rest);
    n += sizeof rest;
    be16(q + n, is_aaaa ? 28 : 1);
    be16(q + n + 2, 1);
    n += 4;
    uint32_t qat = buf_put(f, q, n);
    f->segs[0] = (struct gen_seg){ 0, (uint32_t)n, qat, 0, 0, false };
    be16(q + 2, 0x8180);
    be16(q + 6, 1);
    static const uint8_t ans[] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4 };
    memcpy(q + n, ans, sizeof ans);
    if (is_aaaa) {
        q[n + 3] = 28;
        q[n + 11] = 16;
    }
    n += sizeof ans;
    size_t rd = is_aaaa ? 16 : 4;
    memcpy(q + n, g->pool + rng_below(&g->r, (uint32_t)GEN_POOL_LEN - 64), rd);
    n += rd;
    uint32_t rat = buf_put(f, q, n);
    f->segs[1] = (struct gen_seg){ 0, (uint32_t)n, rat, 1, 0, false };
    f->n_segs = 2;
    f->is_done = true;
}

/* The next turn of the dialogue; the server closes after the last. Client turns are cut at
 * random offsets; server turns sometimes, except a greeting kept whole. */
static void produce_mail(struct gen *g, struct gen_flow *f)
{
    struct gen_mail *m = f->mail;
    if (f->turn == m->n_turns) {
        chunk_close(g, f, 1);
        return;
    }
    const struct gen_turn *t = &m->turns[f->turn++];
    uint32_t at = buf_put(f, m->text + t->off, t->len);
    bool is_split = t->dir == 0 || rng_below(&g->r, 10) < 3;
    size_t from = f->n_segs;
    chunk_write(g, f, t->dir, at, t->len, is_split);
    perturb(g, f, from);
}

/* Queues the flow's next chunk. Returns false when the flow has nothing more to send. While
 * draining, flows other than mail close at their next chunk (mail sessions run to the end, so
 * the truth holds). */
static bool produce(struct gen *g, struct gen_flow *f)
{
    f->n_segs = f->head = 0;
    f->buf_len = 0;
    if (f->is_done) {
        return false;
    }
    if (f->is_udp) {
        if (g->is_draining) {
            return false;
        }
        produce_dns(g, f);
        return true;
    }
    if (f->phase == 0) {
        if (g->is_draining && f->kind != GEN_MAIL) {
            return false;
        }
        f->phase = 1;
        if (!f->is_midstream) {
            chunk_handshake(f);
            return true;
        }
        /* Open before the capture started: its handshake is not in the file. */
    }
    if (g->is_draining && f->kind != GEN_MAIL) {
        chunk_close(g, f, 0);
        return true;
    }
    size_t from = f->n_segs;
    switch (f->kind) {
    case GEN_WEB:
        produce_web(g, f);
        break;
    case GEN_TLS:
        produce_tls(g, f);
        break;
    case GEN_BULK:
        produce_bulk(g, f);
        break;
    case GEN_MAIL:
        produce_mail(g, f);
        return f->n_segs > 0;
    case GEN_DNS:
    case GEN_N_KINDS:
        break;
    }
    perturb(g, f, from);
    return f->n_segs > 0;
}

/* ---- flow set-up ---- */

static void set_v4(uint8_t a[16], uint32_t v)
{
    memset(a, 0, 16);
    be32(a, v);
}

/* 2001:db8:<net>::<host> */
static void set_v6(uint8_t a[16], uint32_t net, uint32_t host)
{
    memset(a, 0, 16);
    be16(a, 0x2001);
    be16(a + 2, 0x0db8);
    be16(a + 4, net >> 16);
    be16(a + 6, net);
    be32(a + 12, host);
}

/* A port that bulk and flood flows must not use: one of plainsight's mail ports, or a mail
 * session's alternative port (the truth lists every session there). */
static bool is_mail_port(uint32_t port)
{
    static const uint16_t mail[] = { 25, 110, 143, 465, 587, 993, 995, 2525 };
    for (size_t i = 0; i < sizeof mail / sizeof mail[0]; i++) {
        if (port == mail[i]) {
            return true;
        }
    }
    for (size_t i = 0; i < sizeof mail_protos / sizeof mail_protos[0]; i++) {
        if (port == mail_protos[i].alt_port) {
            return true;
        }
    }
    return false;
}

/* A client address and an ephemeral port no earlier flow of that client used. */
static void pick_client(struct gen *g, struct gen_flow *f)
{
    uint32_t k = rng_below(&g->r, GEN_CLIENTS);
    if (f->is_v6) {
        set_v6(f->cli, 0x10000u + k / 250, k % 250 + 2);
    } else {
        set_v4(f->cli, 0x0a010000u | (k / 250) << 8 | (k % 250 + 2));
    }
    if (g->cport_next[k] == 0) {
        g->cport_next[k] = (uint16_t)rng_range(&g->r, 32768, 50000);
    }
    f->cport = g->cport_next[k];
    uint32_t next = f->cport + rng_range(&g->r, 1, 3);
    g->cport_next[k] = (uint16_t)(next > 60999 ? 32768 : next);
}

static struct gen_flow *flow_new(struct gen *g, enum gen_kind kind)
{
    struct gen_flow *f = xcalloc(1, sizeof *f);
    f->kind = kind;
    f->is_v6 = rng_below(&g->r, 10) == 0;
    f->flow_label = rng_below(&g->r, 1u << 20);
    for (size_t d = 0; d < 2; d++) {
        f->isn[d] = (uint32_t)rng_next(&g->r);
        f->ts_off[d] = (uint32_t)rng_next(&g->r);
        f->ip_id[d] = (uint16_t)rng_next(&g->r);
    }
    f->cap_segs = 16;
    f->segs = xmalloc(f->cap_segs * sizeof *f->segs);
    f->ppm_reorder = 2000;
    f->ppm_retx = 3000;
    pick_client(g, f);
    uint32_t s = rng_range(&g->r, 1, 254);
    switch (kind) {
    case GEN_WEB:
        f->sport = rng_below(&g->r, 10) == 0 ? 8080 : 80;
        f->reqs = rng_range(&g->r, 1, 3);
        break;
    case GEN_TLS:
        f->sport = 443;
        f->reqs = rng_range(&g->r, 1, 3);
        break;
    case GEN_BULK:
        do {
            f->sport = (uint16_t)rng_range(&g->r, 1024, 65535);
        } while (is_mail_port(f->sport));
        break;
    case GEN_DNS:
        f->is_udp = true;
        f->sport = 53;
        s = 53;
        break;
    case GEN_MAIL:
    case GEN_N_KINDS:
        break;
    }
    if (f->is_v6) {
        set_v6(f->srv, kind == GEN_DNS ? 0x53u : 0xffu, s);
    } else if (kind == GEN_DNS) {
        set_v4(f->srv, 0x0a000035u); /* 10.0.0.53 */
    } else if (kind == GEN_BULK) {
        set_v4(f->srv, 0x0a090000u | rng_below(&g->r, 1u << 16)); /* 10.9.0.0/16 */
    } else {
        set_v4(f->srv, (s & 1 ? 0xcb007100u : 0xc6336400u) | s); /* 203.0.113/198.51.100 */
    }
    g->flows[kind]++;
    return f;
}

static struct gen_flow *mail_flow_new(struct gen *g)
{
    struct gen_flow *f = flow_new(g, GEN_MAIL);
    const struct gen_mail_proto *mp =
        &mail_protos[rng_below(&g->r, sizeof mail_protos / sizeof mail_protos[0])];
    bool is_alt = rng_below(&g->r, 5) == 0;
    if (is_alt) {
        f->sport = mp->alt_port;
    } else if (mp->ports[1] != 0 && rng_below(&g->r, 3) == 0) {
        f->sport = mp->ports[1];
    } else {
        f->sport = mp->ports[0];
    }
    uint32_t s = 10 + rng_below(&g->r, 4);
    if (f->is_v6) {
        set_v6(f->srv, 0x2u, s);
    } else {
        set_v4(f->srv, 0xc0000200u | s); /* 192.0.2.10-13 */
    }
    f->ppm_reorder = 100000;
    f->ppm_retx = 80000;
    f->mail = xcalloc(1, sizeof *f->mail);
    mp->build(&g->r, f->mail);
    truth_session(g, f, mp);
    g->mail_sessions++;
    g->mail_per_proto[mp - mail_protos]++;
    g->mail_creds += f->mail->n_creds;
    g->mail_alt_port += is_alt ? 1u : 0u;
    return f;
}

static void flow_free(struct gen_flow *f)
{
    if (f->mail != NULL) {
        free(f->mail->text);
        free(f->mail);
    }
    free(f->segs);
    free(f->buf);
    free(f);
}

static void start_flow(struct gen *g)
{
    struct gen_flow *f;
    if (rng_ppm(&g->r, g->mail_ppm)) {
        f = mail_flow_new(g);
    } else {
        uint32_t k = rng_below(&g->r, 100);
        f = flow_new(g, k < 45 ? GEN_WEB : k < 75 ? GEN_TLS : k < 95 ? GEN_DNS : GEN_BULK);
    }
    g->act[g->n_act++] = f;
}

/* The flows open when the capture starts: half of the TCP ones other than mail began before
 * it, so the file holds no handshake for them (as a capture started on a busy link does), and
 * only nDPI can judge them. Mail sessions start inside the file, so the truth holds. */
static void start_first_flows(struct gen *g)
{
    for (size_t i = 0; i < g->concurrency; i++) {
        start_flow(g);
        struct gen_flow *f = g->act[g->n_act - 1];
        bool is_mid = rng_below(&g->r, 2) == 0;
        if (is_mid && f->kind != GEN_MAIL && !f->is_udp) {
            f->is_midstream = true;
            g->midstream++;
        }
    }
}

/* Emits up to burst segments of act[i]; ends the flow when it has nothing more. */
static void step(struct gen *g, size_t i, uint32_t burst)
{
    struct gen_flow *f = g->act[i];
    for (uint32_t b = 0; b < burst; b++) {
        if (f->head == f->n_segs && !produce(g, f)) {
            g->act[i] = g->act[--g->n_act];
            flow_free(f);
            return;
        }
        const struct gen_seg *s = &f->segs[f->head++];
        if (f->is_udp) {
            emit_udp(g, f, s);
        } else {
            emit_tcp(g, f, s);
        }
    }
}

/* The file has reached its size: flows other than mail drop the data they have queued and not
 * sent, so that their close comes next and each stream ends where the capture has shown it. */
static void drain(struct gen *g)
{
    g->is_draining = true;
    for (size_t i = 0; i < g->n_act; i++) {
        struct gen_flow *f = g->act[i];
        /* A flow with a hole the capture has not filled yet sends its chunk to the end. */
        if (f->kind == GEN_MAIL || f->is_udp || f->is_done || f->n_pend[0] > 0 ||
            f->n_pend[1] > 0) {
            continue;
        }
        /* A handshake in progress completes (it carries no data); any other queued segment,
         * data or the peer's ACK of it, is dropped. */
        bool is_handshake = false;
        for (size_t j = f->head; j < f->n_segs; j++) {
            is_handshake = is_handshake || (f->segs[j].flags & GEN_TCP_SYN) != 0;
        }
        if (!is_handshake) {
            f->n_segs = f->head;
        }
        for (size_t d = 0; d < 2; d++) {
            f->snd[d] = f->rcv[d];
            f->n_pend[d] = 0;
        }
    }
}

static void run_mix(struct gen *g)
{
    /* Drain early enough that closing the open flows (about 200 bytes each, and the mail
     * sessions' dialogues) lands near the target. */
    uint64_t reserve = (uint64_t)g->concurrency * 256;
    uint64_t drain_at =
        reserve < g->target_bytes / 2 ? g->target_bytes - reserve : g->target_bytes / 2;
    start_first_flows(g);
    while (g->n_act > 0) {
        if (!g->is_draining && g->bytes >= drain_at) {
            drain(g);
        }
        size_t i = rng_below(&g->r, (uint32_t)g->n_act);
        uint32_t burst = g->act[i]->kind == GEN_MAIL ? 1 : rng_range(&g->r, 1, 4);
        size_t before = g->n_act;
        step(g, i, burst);
        if (g->n_act < before && !g->is_draining) {
            start_flow(g);
        }
    }
}

/* One SYN from a distinct client address: n-th of the flood. */
static void emit_flood_syn(struct gen *g, uint64_t n)
{
    struct gen_flow f;
    memset(&f, 0, sizeof f);
    f.is_v6 = n % 10 == 9;
    uint32_t k = (uint32_t)(n % GEN_FLOOD_MAX);
    if (f.is_v6) {
        set_v6(f.cli, 0x40000u, k + 1);
        set_v6(f.srv, 0x2u, 20);
    } else {
        set_v4(f.cli, 0x0a400000u + k); /* 10.64.0.0/10 */
        set_v4(f.srv, 0xc0000214u);     /* 192.0.2.20 */
    }
    f.cport = (uint16_t)rng_range(&g->r, 1024, 65535);
    if (n % 2 == 0) {
        f.sport = 110;
    } else {
        do {
            f.sport = (uint16_t)rng_range(&g->r, 1, 65535);
        } while (is_mail_port(f.sport));
    }
    f.isn[0] = (uint32_t)rng_next(&g->r);
    f.ts_off[0] = (uint32_t)rng_next(&g->r);
    f.ip_id[0] = (uint16_t)rng_next(&g->r);
    uint8_t none = 0;
    f.buf = &none;
    struct gen_seg s = { 0, 0, 0, 0, GEN_TCP_SYN, false };
    emit_tcp(g, &f, &s);
    g->syns++;
}

/* One first fragment (MF set, offset 0) of a 1,500-byte UDP datagram whose other fragments
 * never come: what defrag must hold until its timeout or evict, from a source of its own. */
static void emit_flood_frag(struct gen *g, uint64_t n)
{
    struct gen_flow f;
    memset(&f, 0, sizeof f);
    uint32_t k = (uint32_t)(n % GEN_FLOOD_MAX);
    set_v4(f.cli, 0x0a400000u + k); /* 10.64.0.0/10 */
    set_v4(f.srv, 0xc0000214u);     /* 192.0.2.20 */
    f.cport = (uint16_t)rng_range(&g->r, 1024, 65535);
    f.sport = 4500;
    f.ip_id[0] = (uint16_t)rng_next(&g->r);
    enum {
        FIRST = 1024 /* data bytes in the first fragment: UDP header and payload */
    };
    uint64_t sum;
    size_t off = put_l2l3(g, &f, 0, 17, FIRST, &sum);
    uint8_t *ip = g->frame + GEN_ETH_LEN;
    be16(ip + 6, 0x2000); /* MF, offset 0 */
    be16(ip + 10, 0);
    be16(ip + 10, csum_fold(csum_add(0, ip, GEN_IPV4_LEN)));
    uint8_t *u = g->frame + off;
    be16(u, f.cport);
    be16(u + 2, f.sport);
    be16(u + 4, 1480); /* the whole datagram's UDP length */
    be16(u + 6, 0);
    memcpy(u + GEN_UDP_LEN, g->pool + (n * 64u) % (GEN_POOL_LEN - FIRST), FIRST - GEN_UDP_LEN);
    put_record(g, off + FIRST);
    g->syns++;
}

static void run_flood(struct gen *g)
{
    uint64_t syns = 0;
    while (syns < g->flood || g->n_act > 0) {
        while (syns < g->flood && g->n_act < GEN_FLOOD_MAIL_CONC) {
            g->act[g->n_act++] = mail_flow_new(g);
        }
        bool is_mail = g->n_act > 0 && (syns == g->flood || rng_ppm(&g->r, GEN_FLOOD_MAIL_PPM));
        if (is_mail) {
            step(g, rng_below(&g->r, (uint32_t)g->n_act), 1);
        } else {
            if (g->is_frag_flood) {
                emit_flood_frag(g, syns++);
            } else {
                emit_flood_syn(g, syns++);
            }
        }
    }
}

/* ---- main ---- */

static bool parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || s[0] == '-') {
        return false;
    }
    uint64_t mul = 1;
    if (*end == 'K' || *end == 'k') {
        mul = (uint64_t)1 << 10;
        end++;
    } else if (*end == 'M' || *end == 'm') {
        mul = (uint64_t)1 << 20;
        end++;
    } else if (*end == 'G' || *end == 'g') {
        mul = (uint64_t)1 << 30;
        end++;
    }
    if (*end == 'i' || *end == 'B') {
        end += *end == 'i' && end[1] == 'B' ? 2 : 1;
    }
    if (*end != '\0' || v > UINT64_MAX / mul) {
        return false;
    }
    *out = v * mul;
    return true;
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: gen -o FILE.pcap [--truth FILE.json] [options]\n"
            "\n"
            "Writes a synthetic capture of interleaved web, TLS, bulk, DNS and mail traffic, and\n"
            "the truth file of its mail sessions and credentials.\n"
            "\n"
            "  -o, --out FILE        the pcap file to write\n"
            "  -t, --truth FILE      the truth file (JSON) to write\n"
            "  -s, --size SIZE       about how large the capture is (default 1G; K, M, G)\n"
            "  -S, --seed N          random seed (default 1): same arguments, same bytes\n"
            "  -m, --mail-share F    share of new flows that are mail sessions (default 0.03)\n"
            "  -c, --concurrency N   flows open at once (default 2000)\n"
            "  -r, --rate MBIT       link rate that spaces the timestamps (default 200)\n"
            "  -f, --flood N         instead: N half-open connections (SYN only, half on port\n"
            "                        110) with a few mail sessions among them\n"
            "      --frags           with --flood: first IP fragments never completed (IPv4,\n"
            "                        1 KiB each, each from a source of its own) instead of SYNs\n"
            "  -w, --wrap KIND       every frame inside a mirror tunnel: vxlan (UDP 4789) or\n"
            "                        erspan2 (GRE); the truth is the same\n");
}

int main(int argc, char **argv)
{
    static const struct option longs[] = {
        { "out", required_argument, NULL, 'o' },
        { "truth", required_argument, NULL, 't' },
        { "size", required_argument, NULL, 's' },
        { "seed", required_argument, NULL, 'S' },
        { "mail-share", required_argument, NULL, 'm' },
        { "concurrency", required_argument, NULL, 'c' },
        { "rate", required_argument, NULL, 'r' },
        { "flood", required_argument, NULL, 'f' },
        { "wrap", required_argument, NULL, 'w' },
        { "frags", no_argument, NULL, 'F' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    static struct gen g;
    const char *truth_path = NULL;
    double share = 0.03;
    g.target_bytes = (uint64_t)1 << 30;
    g.seed = 1;
    g.concurrency = 2000;
    g.rate_mbit = 200;
    int c;
    while ((c = getopt_long(argc, argv, "o:t:s:S:m:c:r:f:w:Fh", longs, NULL)) != -1) {
        uint64_t v;
        char *end;
        switch (c) {
        case 'o':
            g.out_path = optarg;
            break;
        case 't':
            truth_path = optarg;
            break;
        case 's':
            if (!parse_size(optarg, &g.target_bytes) || g.target_bytes < 4096) {
                fprintf(stderr, "gen: --size: '%s' is not a size of at least 4K\n", optarg);
                return 1;
            }
            break;
        case 'S':
            if (!parse_size(optarg, &g.seed)) {
                fprintf(stderr, "gen: --seed: '%s' is not a number\n", optarg);
                return 1;
            }
            break;
        case 'm':
            errno = 0;
            share = strtod(optarg, &end);
            if (errno != 0 || *end != '\0' || !(share >= 0.0 && share <= 1.0)) {
                fprintf(stderr, "gen: --mail-share: '%s' is not between 0 and 1\n", optarg);
                return 1;
            }
            break;
        case 'c':
            if (!parse_size(optarg, &v) || v == 0 || v > GEN_MAX_CONCURRENCY) {
                fprintf(stderr, "gen: --concurrency: 1 to %d\n", GEN_MAX_CONCURRENCY);
                return 1;
            }
            g.concurrency = (size_t)v;
            break;
        case 'r':
            if (!parse_size(optarg, &v) || v == 0 || v > 1000000) {
                fprintf(stderr, "gen: --rate: 1 to 1000000 Mbit/s\n");
                return 1;
            }
            g.rate_mbit = (uint32_t)v;
            break;
        case 'f':
            if (!parse_size(optarg, &g.flood) || g.flood == 0 || g.flood > GEN_FLOOD_MAX) {
                fprintf(stderr, "gen: --flood: 1 to %llu connections\n",
                        (unsigned long long)GEN_FLOOD_MAX);
                return 1;
            }
            break;
        case 'F':
            g.is_frag_flood = true;
            break;
        case 'w':
            if (strcmp(optarg, "vxlan") == 0) {
                g.wrap = GEN_WRAP_VXLAN;
            } else if (strcmp(optarg, "erspan2") == 0) {
                g.wrap = GEN_WRAP_ERSPAN2;
            } else {
                fprintf(stderr, "gen: --wrap: '%s' is not vxlan or erspan2\n", optarg);
                return 1;
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 1;
        }
    }
    if (g.out_path == NULL || optind != argc) {
        usage(stderr);
        return 1;
    }
    g.mail_ppm = (uint32_t)(share * 1e6 + 0.5);
    rng_seed(&g.r, g.seed);
    g.pool = xmalloc(GEN_POOL_LEN);
    for (size_t i = 0; i < GEN_POOL_LEN; i += 8) {
        uint64_t v = rng_next(&g.r);
        memcpy(g.pool + i, &v, 8);
    }
    g.act = xcalloc(g.concurrency > GEN_FLOOD_MAIL_CONC ? g.concurrency : GEN_FLOOD_MAIL_CONC,
                    sizeof *g.act);
    g.out = fopen(g.out_path, "wb");
    if (g.out == NULL) {
        fprintf(stderr, "gen: %s: %s\n", g.out_path, strerror(errno));
        return 2;
    }
    static char obuf[1 << 22];
    setvbuf(g.out, obuf, _IOFBF, sizeof obuf);
    if (truth_path != NULL) {
        g.truth = fopen(truth_path, "w");
        if (g.truth == NULL) {
            fprintf(stderr, "gen: %s: %s\n", truth_path, strerror(errno));
            return 2;
        }
        const char *base = strrchr(g.out_path, '/');
        base = base != NULL ? base + 1 : g.out_path;
        fputs("{\n  \"file\": ", g.truth);
        json_str(g.truth, base);
        if (g.flood > 0) {
            fprintf(g.truth,
                    ",\n  \"description\": \"bench/gen --flood %llu --seed %llu: half-open "
                    "connections with mail sessions among them\",\n  \"sessions\": [",
                    (unsigned long long)g.flood, (unsigned long long)g.seed);
        } else {
            fprintf(g.truth,
                    ",\n  \"description\": \"bench/gen --size %llu --seed %llu --mail-share %g "
                    "--concurrency %zu: web, TLS, bulk, DNS and mail flows interleaved\",\n"
                    "  \"sessions\": [",
                    (unsigned long long)g.target_bytes, (unsigned long long)g.seed, share,
                    g.concurrency);
        }
    }
    uint8_t hdr[24];
    le32(hdr, 0xa1b2c3d4u);
    hdr[4] = 2;
    hdr[5] = 0;
    hdr[6] = 4;
    hdr[7] = 0;
    le32(hdr + 8, 0);
    le32(hdr + 12, 0);
    le32(hdr + 16, GEN_SNAPLEN);
    le32(hdr + 20, 1); /* LINKTYPE_ETHERNET */
    fwrite(hdr, 1, sizeof hdr, g.out);
    g.bytes = sizeof hdr;

    if (g.flood > 0) {
        run_flood(&g);
    } else {
        run_mix(&g);
    }

    int rc = 0;
    if (fclose(g.out) != 0) {
        fprintf(stderr, "gen: %s: %s\n", g.out_path, strerror(errno));
        rc = 2;
    }
    if (g.truth != NULL) {
        fputs(g.has_truth_session ? "\n  ]\n}\n" : "]\n}\n", g.truth);
        if (fclose(g.truth) != 0) {
            fprintf(stderr, "gen: %s: %s\n", truth_path, strerror(errno));
            rc = 2;
        }
    }
    fprintf(stderr,
            "gen: %s: %llu packets, %llu bytes; flows: web %llu, tls %llu, bulk %llu, dns %llu, "
            "mail %llu (",
            g.out_path, (unsigned long long)g.packets, (unsigned long long)g.bytes,
            (unsigned long long)g.flows[GEN_WEB], (unsigned long long)g.flows[GEN_TLS],
            (unsigned long long)g.flows[GEN_BULK], (unsigned long long)g.flows[GEN_DNS],
            (unsigned long long)g.mail_sessions);
    for (size_t i = 0; i < sizeof mail_protos / sizeof mail_protos[0]; i++) {
        fprintf(stderr, "%s %llu, ", mail_protos[i].name, (unsigned long long)g.mail_per_proto[i]);
    }
    fprintf(stderr,
            "%llu on a non-standard port, %llu credentials); %llu begun before the capture; "
            "flood SYNs %llu\n",
            (unsigned long long)g.mail_alt_port, (unsigned long long)g.mail_creds,
            (unsigned long long)g.midstream, (unsigned long long)g.syns);
    free(g.pool);
    free(g.act);
    return rc;
}
