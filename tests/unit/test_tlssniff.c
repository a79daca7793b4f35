/* test_tlssniff.c - unit tests for tlssniff.c: the TLS version from hand-built ServerHellos.
 *
 * Each row builds a server byte stream (records per RFC 8446 section 5.1 and RFC 5246 section
 * 6.2, ServerHello per RFC 8446 section 4.1.3 and RFC 5246 section 7.4.1.3, SSLv3 per RFC 6101)
 * and the verdict it must give. The stream is fed whole, byte by byte, cut once at every
 * offset and, for short streams, twice at every pair of offsets: the verdict and version must
 * not change. Every prefix is also fed on its own, in a buffer of its exact size: before the
 * verdict point it must say MORE (and ASan sees any read past the end), from it on the verdict. */
#include "tlssniff.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "tunables.h"

/* A growing byte buffer for building streams. */
struct out {
    uint8_t *p;
    size_t len, cap;
};

static void put(struct out *o, const void *p, size_t n)
{
    if (o->len + n > o->cap) {
        o->cap = (o->len + n) * 2 + 64;
        o->p = realloc(o->p, o->cap);
        if (o->p == NULL) {
            abort();
        }
    }
    if (n > 0) {
        memcpy(o->p + o->len, p, n);
    }
    o->len += n;
}

static void put8(struct out *o, unsigned v)
{
    uint8_t b = (uint8_t)v;
    put(o, &b, 1);
}

static void put16(struct out *o, unsigned v)
{
    put8(o, v >> 8 & 0xff);
    put8(o, v & 0xff);
}

static void put24(struct out *o, size_t v)
{
    put8(o, (unsigned)(v >> 16 & 0xff));
    put8(o, (unsigned)(v >> 8 & 0xff));
    put8(o, (unsigned)(v & 0xff));
}

static void put_fill(struct out *o, uint8_t b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        put8(o, b);
    }
}

#define PUT_LIT(o, lit) put((o), (lit), sizeof(lit) - 1)

/* RFC 8446 4.1.3 */
static const uint8_t hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

/* What goes into a ServerHello. */
struct sh {
    uint16_t legacy;
    bool is_hrr; /* use the HelloRetryRequest random */
    size_t sid_len;
    bool has_exts;  /* write an extensions block (maybe empty) */
    int sv;         /* supported_versions selected_version, or -1 for none */
    size_t pad_len; /* an unknown extension with this many data bytes, 0 for none */
    bool has_reneg; /* renegotiation_info (RFC 5746), as TLS 1.0-1.2 servers send */
};

/* A whole handshake message: header, then the ServerHello body. */
static void sh_msg(struct out *o, const struct sh *s)
{
    struct out b = { NULL, 0, 0 };
    put16(&b, s->legacy);
    if (s->is_hrr) {
        put(&b, hrr_random, sizeof hrr_random);
    } else {
        for (unsigned i = 0; i < 32; i++) {
            put8(&b, 0x40 + i);
        }
    }
    put8(&b, (unsigned)s->sid_len);
    put_fill(&b, 0x5a, s->sid_len);
    put16(&b, 0x1301);
    put8(&b, 0);
    if (s->has_exts) {
        struct out e = { NULL, 0, 0 };
        if (s->has_reneg) {
            put16(&e, 0xff01);
            put16(&e, 1);
            put8(&e, 0);
        }
        if (s->sv >= 0) {
            put16(&e, 43);
            put16(&e, 2);
            put16(&e, (unsigned)s->sv);
            put16(&e, 51); /* key_share: group x25519, a 32-byte key */
            put16(&e, 36);
            put16(&e, 0x001d);
            put16(&e, 32);
            put_fill(&e, 0x11, 32);
        }
        if (s->pad_len > 0) {
            put16(&e, 0xfe0d);
            put16(&e, (unsigned)s->pad_len);
            put_fill(&e, 0x22, s->pad_len);
        }
        put16(&b, (unsigned)e.len);
        put(&b, e.p, e.len);
        free(e.p);
    }
    put8(o, 2);
    put24(o, b.len);
    put(o, b.p, b.len);
    free(b.p);
}

/* Wraps p[0..n) into records of the given type and version, frag bytes of body at most. */
static void records(struct out *o, uint8_t type, uint16_t ver, const uint8_t *p, size_t n,
                    size_t frag)
{
    size_t off = 0;
    do {
        size_t k = n - off < frag ? n - off : frag;
        put8(o, type);
        put16(o, ver);
        put16(o, (unsigned)k);
        put(o, p + off, k);
        off += k;
    } while (off < n);
}

/* One ServerHello in one handshake record. */
static void sh_record(struct out *o, uint16_t rec_ver, const struct sh *s)
{
    struct out m = { NULL, 0, 0 };
    sh_msg(&m, s);
    records(o, 22, rec_ver, m.p, m.len, 1u << 14);
    free(m.p);
}

static const struct sh sh_tls12 = { 0x0303, false, 32, true, -1, 0, true };
static const struct sh sh_tls13 = { 0x0303, false, 32, true, 0x0304, 0, false };
static const struct sh sh_hrr = { 0x0303, true, 32, true, 0x0304, 0, false };

static void build_sslv3(struct out *o)
{
    static const struct sh s = { 0x0300, false, 32, false, -1, 0, false };
    sh_record(o, 0x0300, &s);
}

static void build_tls10(struct out *o)
{
    static const struct sh s = { 0x0301, false, 0, true, -1, 0, true };
    sh_record(o, 0x0301, &s);
}

static void build_tls11(struct out *o)
{
    static const struct sh s = { 0x0302, false, 16, false, -1, 0, false };
    sh_record(o, 0x0302, &s);
}

static void build_tls12(struct out *o)
{
    sh_record(o, 0x0303, &sh_tls12);
}

/* Many TLS 1.2 servers keep 0x0301 in the record layer. */
static void build_tls12_rec10(struct out *o)
{
    sh_record(o, 0x0301, &sh_tls12);
}

static void build_tls12_empty_exts(struct out *o)
{
    static const struct sh s = { 0x0303, false, 0, true, -1, 0, false };
    sh_record(o, 0x0303, &s);
}

static void build_tls13(struct out *o)
{
    sh_record(o, 0x0303, &sh_tls13);
}

/* A TLS 1.3 ServerHello, then ChangeCipherSpec and encrypted records (middlebox compatibility,
 * RFC 8446 appendix D.4). */
static void build_tls13_then_ccs(struct out *o)
{
    sh_record(o, 0x0303, &sh_tls13);
    PUT_LIT(o, "\x14\x03\x03\x00\x01\x01");
    PUT_LIT(o, "\x17\x03\x03\x00\x05\xaa\xbb\xcc\xdd\xee");
}

/* supported_versions names TLS 1.2 while legacy_version says 1.0: the extension wins. */
static void build_sv_overrides(struct out *o)
{
    static const struct sh s = { 0x0301, false, 0, true, 0x0303, 0, false };
    sh_record(o, 0x0301, &s);
}

/* The ServerHello cut across two records. */
static void build_two_records(struct out *o)
{
    struct out m = { NULL, 0, 0 };
    sh_msg(&m, &sh_tls12);
    records(o, 22, 0x0303, m.p, m.len, m.len / 2);
    free(m.p);
}

/* The ServerHello in one-byte records. */
static void build_byte_records(struct out *o)
{
    struct out m = { NULL, 0, 0 };
    sh_msg(&m, &sh_tls13);
    records(o, 22, 0x0303, m.p, m.len, 1);
    free(m.p);
}

/* ServerHello, Certificate and ServerHelloDone in one record (TLS 1.2). */
static void build_with_certificate(struct out *o)
{
    struct out m = { NULL, 0, 0 };
    sh_msg(&m, &sh_tls12);
    put8(&m, 11);
    put24(&m, 600);
    put_fill(&m, 0x30, 600);
    PUT_LIT(&m, "\x0e\x00\x00\x00");
    records(o, 22, 0x0303, m.p, m.len, 1u << 14);
    free(m.p);
}

/* HelloRetryRequest, ChangeCipherSpec, then the real ServerHello. */
static void build_hrr(struct out *o)
{
    sh_record(o, 0x0303, &sh_hrr);
    PUT_LIT(o, "\x14\x03\x03\x00\x01\x01");
    sh_record(o, 0x0303, &sh_tls13);
}

/* HelloRetryRequest and ServerHello back to back in one record: the second message is read
 * from where the first ended. */
static void build_hrr_same_record(struct out *o)
{
    struct out m = { NULL, 0, 0 };
    sh_msg(&m, &sh_hrr);
    sh_msg(&m, &sh_tls13);
    records(o, 22, 0x0303, m.p, m.len, 1u << 14);
    free(m.p);
}

static void build_two_hrr(struct out *o)
{
    sh_record(o, 0x0303, &sh_hrr);
    sh_record(o, 0x0303, &sh_hrr);
    sh_record(o, 0x0303, &sh_tls13);
}

/* Empty records (of any type) before the ServerHello are passed over. */
static void build_empty_records(struct out *o)
{
    PUT_LIT(o, "\x16\x03\x03\x00\x00");
    PUT_LIT(o, "\x14\x03\x03\x00\x00");
    sh_record(o, 0x0303, &sh_tls12);
}

static void build_appdata_first(struct out *o)
{
    PUT_LIT(o, "\x17\x03\x03\x00\x03xyz");
    sh_record(o, 0x0303, &sh_tls12);
}

/* A record of exactly 2^14 + 2048 bytes: the ServerHello, then certificate bytes. */
static void build_max_record(struct out *o)
{
    struct out m = { NULL, 0, 0 };
    sh_msg(&m, &sh_tls12);
    size_t rest = 16384 + 2048 - m.len;
    put8(&m, 11);
    put24(&m, rest - 4);
    put_fill(&m, 0x30, rest - 4);
    records(o, 22, 0x0303, m.p, m.len, m.len);
    free(m.p);
}

/* The ServerHello ends exactly at stream byte TLSSNIFF_MAX_BYTES (extra = 0) or one past. */
static void build_budget(struct out *o, size_t extra)
{
    struct sh s = { 0x0303, false, 0, true, -1, 0, false };
    /* record header 5 + message header 4 + fixed body 38 + extensions length 2 + ext header 4 */
    s.pad_len = TLSSNIFF_MAX_BYTES - 5 - 4 - 38 - 2 - 4 + extra;
    sh_record(o, 0x0303, &s);
}

static void build_budget_at(struct out *o)
{
    build_budget(o, 0);
}

static void build_budget_past(struct out *o)
{
    build_budget(o, 1);
}

/* ChangeCipherSpec records and nothing else, past the budget. */
static void build_only_ccs(struct out *o)
{
    for (size_t n = 0; n < TLSSNIFF_MAX_BYTES + 12; n += 6) {
        PUT_LIT(o, "\x14\x03\x03\x00\x01\x01");
    }
}

static void build_plain_pop3(struct out *o)
{
    PUT_LIT(o, "+OK");
}

static void build_plain_pop3_line(struct out *o)
{
    PUT_LIT(o, "+OK Begin TLS negotiation\r\n");
}

static void build_plain_smtp(struct out *o)
{
    PUT_LIT(o, "220 2.0.0 Ready to start TLS\r\n");
}

static void build_plain_imap(struct out *o)
{
    PUT_LIT(o, "* OK [CAPABILITY IMAP4rev1] ready\r\n");
}

static void build_garbage(struct out *o)
{
    PUT_LIT(o, "\x00\x01\x02\x03\x04\x05\x06\x07");
}

static void build_alert(struct out *o)
{
    PUT_LIT(o, "\x15\x03\x03\x00\x02\x02\x28"); /* fatal handshake_failure */
}

static void build_alert_ssl3(struct out *o)
{
    PUT_LIT(o, "\x15\x03\x00\x00\x02\x02\x28");
}

static void build_alert_after_hrr(struct out *o)
{
    sh_record(o, 0x0303, &sh_hrr);
    PUT_LIT(o, "\x15\x03\x03\x00\x02\x02\x2f");
}

static void build_heartbeat(struct out *o)
{
    PUT_LIT(o, "\x18\x03\x03\x00\x03\x01\x00\x00");
}

static void build_bad_type_low(struct out *o)
{
    PUT_LIT(o, "\x13\x03\x03\x00\x01\x00");
}

static void build_bad_major(struct out *o)
{
    PUT_LIT(o, "\x16\x02\x00\x00\x10");
}

static void build_bad_minor(struct out *o)
{
    PUT_LIT(o, "\x16\x03\x05\x00\x10");
}

static void build_sslv2_hello(struct out *o)
{
    PUT_LIT(o, "\x80\x2e\x04\x00\x01\x00\x02");
}

/* A record length one past 2^14 + 2048. */
static void build_oversized(struct out *o)
{
    put8(o, 22);
    put16(o, 0x0303);
    put16(o, 16384 + 2048 + 1);
}

static void build_length_ffff(struct out *o)
{
    PUT_LIT(o, "\x16\x03\x03\xff\xff\x02\x00\x00\x26");
}

static void build_not_server_hello(struct out *o)
{
    PUT_LIT(o, "\x16\x03\x03\x00\x08\x0b\x00\x00\x04\x00\x00\x00\x00"); /* Certificate */
}

static void build_client_hello(struct out *o)
{
    PUT_LIT(o, "\x16\x03\x01\x00\x08\x01\x00\x00\x04\x03\x03\x00\x00");
}

/* A ServerHello whose declared length cannot fit the buffer. */
static void build_huge_hello(struct out *o)
{
    PUT_LIT(o, "\x16\x03\x03\x00\x10\x02\x00\x40\x00");
    put_fill(o, 0, 12);
}

static void build_hello_just_fits(struct out *o)
{
    /* Declared body TLSSNIFF_MAX_BYTES - 4: accepted at the header, stream still short. */
    PUT_LIT(o, "\x16\x03\x03\x00\x10\x02");
    put24(o, TLSSNIFF_MAX_BYTES - 4);
    put(o, "\x03\x03", 2);
}

static void build_sid_too_long(struct out *o)
{
    struct sh s = sh_tls12;
    s.sid_len = 33;
    sh_record(o, 0x0303, &s);
}

static void build_legacy_0305(struct out *o)
{
    struct sh s = sh_tls12;
    s.legacy = 0x0305;
    sh_record(o, 0x0303, &s);
}

static void build_legacy_0200(struct out *o)
{
    struct sh s = sh_tls12;
    s.legacy = 0x0200;
    sh_record(o, 0x0303, &s);
}

static void build_sv_draft(struct out *o)
{
    struct sh s = sh_tls13;
    s.sv = 0x7f1c;
    sh_record(o, 0x0303, &s);
}

/* A ServerHello body handed in raw, in one record. */
static void raw_hello(struct out *o, const uint8_t *body, size_t n)
{
    struct out m = { NULL, 0, 0 };
    put8(&m, 2);
    put24(&m, n);
    put(&m, body, n);
    records(o, 22, 0x0303, m.p, m.len, m.len);
    free(m.p);
}

/* legacy_version, random, empty session id, suite, compression. */
#define HELLO_FIXED                                                                                \
    "\x03\x03"                                                                                     \
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"                                                             \
    "\x00\x13\x01\x00"

static void build_sv_bad_len(struct out *o)
{
    static const char b[] = HELLO_FIXED "\x00\x07\x00\x2b\x00\x03\x03\x04\x00";
    raw_hello(o, (const uint8_t *)b, sizeof b - 1);
}

static void build_ext_total_short(struct out *o)
{
    static const char b[] = HELLO_FIXED "\x00\x05\x00\x2b\x00\x02\x03\x04";
    raw_hello(o, (const uint8_t *)b, sizeof b - 1);
}

static void build_ext_total_long(struct out *o)
{
    static const char b[] = HELLO_FIXED "\x00\x07\x00\x2b\x00\x02\x03\x04";
    raw_hello(o, (const uint8_t *)b, sizeof b - 1);
}

static void build_ext_overrun(struct out *o)
{
    static const char b[] = HELLO_FIXED "\x00\x06\x00\x2b\x00\x03\x03\x04";
    raw_hello(o, (const uint8_t *)b, sizeof b - 1);
}

static void build_one_trailing_byte(struct out *o)
{
    static const char b[] = HELLO_FIXED "\x00";
    raw_hello(o, (const uint8_t *)b, sizeof b - 1);
}

static void build_hello_cut_short(struct out *o)
{
    /* The message says 20 bytes: too few for legacy_version + random. */
    static const char b[] = "\x03\x03"
                            "AAAAAAAAAAAAAAAAAA";
    raw_hello(o, (const uint8_t *)b, sizeof b - 1);
}

static void build_raw_sv13(struct out *o)
{
    static const char b[] = HELLO_FIXED "\x00\x06\x00\x2b\x00\x02\x03\x04";
    raw_hello(o, (const uint8_t *)b, sizeof b - 1);
}

struct tls_case {
    const char *name;
    void (*build)(struct out *o);
    enum tlssniff_status status;
    uint16_t version;
};

static const struct tls_case tls_cases[] = {
    { "SSLv3", build_sslv3, TLSSNIFF_DONE, 0x0300 },
    { "TLS 1.0", build_tls10, TLSSNIFF_DONE, 0x0301 },
    { "TLS 1.1 without extensions", build_tls11, TLSSNIFF_DONE, 0x0302 },
    { "TLS 1.2", build_tls12, TLSSNIFF_DONE, 0x0303 },
    { "TLS 1.2 in 0x0301 records", build_tls12_rec10, TLSSNIFF_DONE, 0x0303 },
    { "TLS 1.2 empty extensions block", build_tls12_empty_exts, TLSSNIFF_DONE, 0x0303 },
    { "TLS 1.3 supported_versions", build_tls13, TLSSNIFF_DONE, 0x0304 },
    { "TLS 1.3 then CCS and app data", build_tls13_then_ccs, TLSSNIFF_DONE, 0x0304 },
    { "TLS 1.3 minimal extensions", build_raw_sv13, TLSSNIFF_DONE, 0x0304 },
    { "supported_versions overrides legacy", build_sv_overrides, TLSSNIFF_DONE, 0x0303 },
    { "ServerHello across two records", build_two_records, TLSSNIFF_DONE, 0x0303 },
    { "ServerHello in one-byte records", build_byte_records, TLSSNIFF_DONE, 0x0304 },
    { "ServerHello then Certificate", build_with_certificate, TLSSNIFF_DONE, 0x0303 },
    { "HRR, CCS, ServerHello", build_hrr, TLSSNIFF_DONE, 0x0304 },
    { "HRR and ServerHello in one record", build_hrr_same_record, TLSSNIFF_DONE, 0x0304 },
    { "empty records first", build_empty_records, TLSSNIFF_DONE, 0x0303 },
    { "application data record first", build_appdata_first, TLSSNIFF_DONE, 0x0303 },
    { "record length at 2^14 + 2048", build_max_record, TLSSNIFF_DONE, 0x0303 },
    { "ServerHello ends at TLSSNIFF_MAX_BYTES", build_budget_at, TLSSNIFF_DONE, 0x0303 },
    { "ServerHello ends one past TLSSNIFF_MAX_BYTES", build_budget_past, TLSSNIFF_NOT_TLS, 0 },
    { "only ChangeCipherSpec", build_only_ccs, TLSSNIFF_NOT_TLS, 0 },
    { "two HRRs", build_two_hrr, TLSSNIFF_NOT_TLS, 0 },
    { "plaintext +OK", build_plain_pop3, TLSSNIFF_NOT_TLS, 0 },
    { "plaintext POP3 line", build_plain_pop3_line, TLSSNIFF_NOT_TLS, 0 },
    { "plaintext SMTP line", build_plain_smtp, TLSSNIFF_NOT_TLS, 0 },
    { "plaintext IMAP line", build_plain_imap, TLSSNIFF_NOT_TLS, 0 },
    { "garbage", build_garbage, TLSSNIFF_NOT_TLS, 0 },
    { "alert", build_alert, TLSSNIFF_NOT_TLS, 0 },
    { "SSLv3 alert", build_alert_ssl3, TLSSNIFF_NOT_TLS, 0 },
    { "alert after HRR", build_alert_after_hrr, TLSSNIFF_NOT_TLS, 0 },
    { "heartbeat record type", build_heartbeat, TLSSNIFF_NOT_TLS, 0 },
    { "record type 19", build_bad_type_low, TLSSNIFF_NOT_TLS, 0 },
    { "record version 2.0", build_bad_major, TLSSNIFF_NOT_TLS, 0 },
    { "record version 3.5", build_bad_minor, TLSSNIFF_NOT_TLS, 0 },
    { "SSLv2 hello", build_sslv2_hello, TLSSNIFF_NOT_TLS, 0 },
    { "record length one past 2^14 + 2048", build_oversized, TLSSNIFF_NOT_TLS, 0 },
    { "record length 0xffff", build_length_ffff, TLSSNIFF_NOT_TLS, 0 },
    { "first message a Certificate", build_not_server_hello, TLSSNIFF_NOT_TLS, 0 },
    { "first message a ClientHello", build_client_hello, TLSSNIFF_NOT_TLS, 0 },
    { "ServerHello longer than the buffer", build_huge_hello, TLSSNIFF_NOT_TLS, 0 },
    { "ServerHello just fitting, unfinished", build_hello_just_fits, TLSSNIFF_MORE, 0 },
    { "session id of 33 bytes", build_sid_too_long, TLSSNIFF_NOT_TLS, 0 },
    { "legacy_version 0x0305", build_legacy_0305, TLSSNIFF_NOT_TLS, 0 },
    { "legacy_version 0x0200", build_legacy_0200, TLSSNIFF_NOT_TLS, 0 },
    { "supported_versions draft 0x7f1c", build_sv_draft, TLSSNIFF_NOT_TLS, 0 },
    { "supported_versions of 3 bytes", build_sv_bad_len, TLSSNIFF_NOT_TLS, 0 },
    { "extensions total too short", build_ext_total_short, TLSSNIFF_NOT_TLS, 0 },
    { "extensions total too long", build_ext_total_long, TLSSNIFF_NOT_TLS, 0 },
    { "extension overruns the block", build_ext_overrun, TLSSNIFF_NOT_TLS, 0 },
    { "one byte after compression", build_one_trailing_byte, TLSSNIFF_NOT_TLS, 0 },
    { "ServerHello body too short", build_hello_cut_short, TLSSNIFF_NOT_TLS, 0 },
};

#define SENTINEL 0xbeef

struct result {
    enum tlssniff_status status;
    uint16_t version;
};

/* Feeds in[0..len) cut at cuts[], each chunk in a buffer of its exact size. Checks that a
 * verdict, once given, stays. */
static struct result feed_cuts(const uint8_t *in, size_t len, const size_t *cuts, size_t n_cuts)
{
    struct tlssniff *t = tlssniff_new();
    struct result r = { TLSSNIFF_MORE, SENTINEL };
    size_t off = 0;
    for (size_t i = 0; i <= n_cuts; i++) {
        size_t end = i < n_cuts ? cuts[i] : len;
        uint8_t *chunk = malloc(end - off + 1);
        if (chunk == NULL) {
            abort();
        }
        memcpy(chunk, in + off, end - off);
        uint16_t v = SENTINEL;
        enum tlssniff_status st = tlssniff_feed(t, chunk, end - off, &v);
        free(chunk);
        if (r.status != TLSSNIFF_MORE) {
            CHECK(st == r.status);
        }
        if (st == TLSSNIFF_DONE) {
            CHECK(v != SENTINEL);
            r.version = v;
        } else {
            CHECK_EQ_U(v, SENTINEL);
        }
        r.status = st;
        off = end;
    }
    tlssniff_free(t);
    return r;
}

static bool same(struct result a, struct result b)
{
    return a.status == b.status && (a.status != TLSSNIFF_DONE || a.version == b.version);
}

static void run_tls_case(const struct tls_case *c)
{
    struct out o = { NULL, 0, 0 };
    c->build(&o);
    size_t len = o.len;
    const uint8_t *in = o.p;

    struct result whole = feed_cuts(in, len, NULL, 0);
    CHECK(whole.status == c->status);
    if (c->status == TLSSNIFF_DONE) {
        CHECK_EQ_U(whole.version, c->version);
    }

    /* Every prefix on its own: MORE before the verdict point, the verdict from it on. */
    size_t point = len + 1;
    for (size_t k = 0; k <= len; k++) {
        struct result r = feed_cuts(in, k, NULL, 0);
        if (point > len && r.status != TLSSNIFF_MORE) {
            point = k;
        }
        if (point <= k && !same(r, whole)) {
            fprintf(stderr, "  prefix %zu of %zu: status %d\n", k, len, (int)r.status);
            test_case_failed = 1;
            break;
        }
        if (point > k && r.status != TLSSNIFF_MORE) {
            test_case_failed = 1;
            break;
        }
    }
    CHECK(c->status == TLSSNIFF_MORE ? point > len : point <= len);

    /* Byte by byte. */
    size_t *cuts = malloc((len + 1) * sizeof *cuts);
    if (cuts == NULL) {
        abort();
    }
    for (size_t i = 0; i + 1 < len; i++) {
        cuts[i] = i + 1;
    }
    CHECK(same(feed_cuts(in, len, cuts, len > 0 ? len - 1 : 0), whole));
    free(cuts);

    /* One cut at every offset (long streams: every offset near the verdict point and every
     * 97th elsewhere, to keep the run short). */
    for (size_t i = 0; i <= len; i++) {
        bool is_near = point <= len && (i + 64 >= point && i <= point + 64);
        if (len > 4096 && !is_near && i % 97 != 0) {
            continue;
        }
        size_t cut = i;
        if (!same(feed_cuts(in, len, &cut, 1), whole)) {
            fprintf(stderr, "  differs when cut at %zu\n", i);
            test_case_failed = 1;
        }
    }

    /* Two cuts at every pair of offsets, for short streams. */
    if (len <= 200) {
        for (size_t i = 0; i <= len; i++) {
            for (size_t j = i; j <= len; j++) {
                size_t two[2] = { i, j };
                if (!same(feed_cuts(in, len, two, 2), whole)) {
                    fprintf(stderr, "  differs when cut at %zu and %zu\n", i, j);
                    test_case_failed = 1;
                }
            }
        }
    }
    free(o.p);
}

static void test_tls_table(void)
{
    for (size_t i = 0; i < sizeof tls_cases / sizeof tls_cases[0]; i++) {
        run_tls_case(&tls_cases[i]);
        CASE_DONE(tls_cases[i].name);
    }
}

/* The verdict point of the plaintext and alert cases is their first byte. */
static void test_early_verdict(void)
{
    static const char *const firsts[] = { "+", "*", "2", "\x15", "\x13", "\x18", "\x80" };
    for (size_t i = 0; i < sizeof firsts / sizeof firsts[0]; i++) {
        struct tlssniff *t = tlssniff_new();
        uint16_t v = SENTINEL;
        CHECK(tlssniff_feed(t, (const uint8_t *)firsts[i], 1, &v) == TLSSNIFF_NOT_TLS);
        CHECK_EQ_U(v, SENTINEL);
        tlssniff_free(t);
    }
}

/* A gap before the verdict ends the sniff; after it, nothing changes. */
static void test_gap(void)
{
    struct out o = { NULL, 0, 0 };
    build_tls12(&o);
    uint16_t v = SENTINEL;

    struct tlssniff *t = tlssniff_new();
    CHECK(tlssniff_feed(t, o.p, 20, &v) == TLSSNIFF_MORE);
    tlssniff_gap(t);
    CHECK(tlssniff_feed(t, o.p + 20, o.len - 20, &v) == TLSSNIFF_NOT_TLS);
    CHECK_EQ_U(v, SENTINEL);
    tlssniff_free(t);

    t = tlssniff_new();
    tlssniff_gap(t);
    CHECK(tlssniff_feed(t, o.p, o.len, &v) == TLSSNIFF_NOT_TLS);
    tlssniff_free(t);

    t = tlssniff_new();
    CHECK(tlssniff_feed(t, o.p, o.len, &v) == TLSSNIFF_DONE);
    CHECK_EQ_U(v, 0x0303);
    tlssniff_gap(t);
    v = SENTINEL;
    CHECK(tlssniff_feed(t, (const uint8_t *)"junk", 4, &v) == TLSSNIFF_DONE);
    CHECK_EQ_U(v, 0x0303);
    v = SENTINEL;
    CHECK(tlssniff_feed(t, NULL, 0, &v) == TLSSNIFF_DONE);
    CHECK_EQ_U(v, 0x0303);
    tlssniff_free(t);
    free(o.p);
}

/* Freeing mid-handshake releases the gathered bytes (ASan reports a leak otherwise); an empty
 * feed changes nothing; NULL frees nothing. */
static void test_lifecycle(void)
{
    struct out o = { NULL, 0, 0 };
    build_two_records(&o);
    uint16_t v = SENTINEL;
    struct tlssniff *t = tlssniff_new();
    CHECK(tlssniff_feed(t, NULL, 0, &v) == TLSSNIFF_MORE);
    CHECK(tlssniff_feed(t, o.p, 30, &v) == TLSSNIFF_MORE);
    tlssniff_free(t);
    tlssniff_free(NULL);
    free(o.p);
}

/* ---- the client's ClientHello and the server's Certificate ---- */

#define CHECK_STR(got, want)                                                                       \
    do {                                                                                           \
        if (strcmp((got), (want)) != 0) {                                                          \
            fprintf(stderr, "%s:%d: got \"%s\"\n", __FILE__, __LINE__, (got));                     \
            test_case_failed = 1;                                                                  \
        }                                                                                          \
    } while (0)

/* Appends a DER element: tag, definite length (short or long form), content. */
static void der(struct out *o, uint8_t tag, const struct out *content)
{
    put8(o, tag);
    size_t n = content->len;
    if (n < 0x80) {
        put8(o, (unsigned)n);
    } else if (n < 0x100) {
        put8(o, 0x81);
        put8(o, (unsigned)n);
    } else {
        put8(o, 0x82);
        put16(o, (unsigned)n);
    }
    put(o, content->p, n);
}

static void der_raw(struct out *o, uint8_t tag, const void *p, size_t n)
{
    struct out c = { (uint8_t *)(uintptr_t)p, n, n };
    der(o, tag, &c);
}

/* One AttributeTypeAndValue in an RDN of its own (multi: two AVAs in one RDN). */
static void rdn(struct out *name, const char *oid, size_t oid_len, uint8_t vtag, const char *v)
{
    struct out ava = { NULL, 0, 0 };
    struct out seq = { NULL, 0, 0 };
    der_raw(&ava, 0x06, oid, oid_len);
    der_raw(&ava, vtag, v, strlen(v));
    der(&seq, 0x30, &ava);
    der(name, 0x31, &seq);
    free(ava.p);
    free(seq.p);
}

#define OID_CN    "\x55\x04\x03"
#define OID_O     "\x55\x04\x0a"
#define OID_C     "\x55\x04\x06"
#define OID_EMAIL "\x2a\x86\x48\x86\xf7\x0d\x01\x09\x01"

/* The Name SEQUENCE of the RDNs in body. */
static void name_of(struct out *o, const struct out *rdns)
{
    der(o, 0x30, rdns);
}

/* A certificate: issuer "C=DE,O=Example CA" (written as RDNs C, O: RFC 4514 reverses them),
 * subject from subj (a Name's content), then a stub key and signature. */
static void cert_der(struct out *o, const struct out *subj)
{
    struct out tbs = { NULL, 0, 0 };
    struct out iss = { NULL, 0, 0 };
    struct out tmp = { NULL, 0, 0 };
    der_raw(&tmp, 0x02, "\x02", 1);
    der(&tbs, 0xa0, &tmp); /* version v3 */
    der_raw(&tbs, 0x02, "\x01\x23\x45", 3);
    tmp.len = 0;
    der_raw(&tmp, 0x06, "\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0b", 9);
    der_raw(&tmp, 0x05, "", 0);
    der(&tbs, 0x30, &tmp);
    rdn(&iss, OID_C, 3, 19, "DE");
    rdn(&iss, OID_O, 3, 12, "Example CA");
    name_of(&tbs, &iss);
    tmp.len = 0;
    der_raw(&tmp, 0x17, "240101000000Z", 13);
    der_raw(&tmp, 0x17, "340101000000Z", 13);
    der(&tbs, 0x30, &tmp);
    name_of(&tbs, subj);
    tmp.len = 0;
    put_fill(&tmp, 0x42, 300); /* subjectPublicKeyInfo and the rest, unread */
    der(&tbs, 0x30, &tmp);
    struct out c = { NULL, 0, 0 };
    der(&c, 0x30, &tbs);
    tmp.len = 0;
    put_fill(&tmp, 0x43, 64);
    der(&c, 0x03, &tmp);
    der(o, 0x30, &c);
    free(tbs.p);
    free(iss.p);
    free(tmp.p);
    free(c.p);
}

/* ServerHello (sh), then Certificate with the given DER certificates, ServerHelloDone, in
 * records of frag bytes. */
static void cert_stream(struct out *o, const struct sh *sh, const struct out *cert, size_t frag)
{
    struct out m = { NULL, 0, 0 };
    sh_msg(&m, sh);
    put8(&m, 11);
    put24(&m, cert->len + 3 + 3);
    put24(&m, cert->len + 3);
    put24(&m, cert->len);
    put(&m, cert->p, cert->len);
    PUT_LIT(&m, "\x0e\x00\x00\x00");
    records(o, 22, 0x0303, m.p, m.len, frag);
    free(m.p);
}

struct cert_case {
    const char *name;
    const char *subject, *issuer; /* NULL: none read */
    bool is_tls13;
    size_t frag;
    int mangle; /* 0 none; 1: a length inside the subject one too long; 2: issuer a SET */
};

static const struct cert_case cert_cases[] = {
    { "subject CN, issuer C and O", "CN=mail.example.test", "O=Example CA,C=DE", false, 16384, 0 },
    { "certificate in 100-byte records", "CN=mail.example.test", "O=Example CA,C=DE", false, 100,
      0 },
    { "TLS 1.3: no certificate in the clear", NULL, NULL, true, 16384, 0 },
    { "subject length overruns", NULL, NULL, false, 16384, 1 },
    { "issuer not a SEQUENCE", NULL, NULL, false, 16384, 2 },
};

/* Feeds the server stream in[0..len) cut at cut (len: whole) to a server sniffer; returns it. */
static struct tlssniff *feed_server(const uint8_t *in, size_t len, size_t cut)
{
    struct tlssniff *t = tlssniff_new();
    uint16_t v = 0;
    size_t k = cut < len ? cut : len;
    uint8_t *a = malloc(k + 1);
    uint8_t *b = malloc(len - k + 1);
    if (a == NULL || b == NULL) {
        abort();
    }
    memcpy(a, in, k);
    memcpy(b, in + k, len - k);
    tlssniff_feed(t, a, k, &v);
    tlssniff_feed(t, b, len - k, &v);
    free(a);
    free(b);
    return t;
}

static bool str_is(const char *got, const char *want)
{
    if (got == NULL || want == NULL) {
        return got == want;
    }
    return strcmp(got, want) == 0;
}

static void run_cert_case(const struct cert_case *c)
{
    struct out subj = { NULL, 0, 0 };
    rdn(&subj, OID_CN, 3, 12, "mail.example.test");
    struct out cert = { NULL, 0, 0 };
    cert_der(&cert, &subj);
    if (c->mangle == 1) {
        /* The subject's CN value length (17) made 18: the AVA overruns its SEQUENCE. */
        for (size_t i = cert.len; i > 17; i--) {
            if (memcmp(cert.p + i - 17, "mail.example.test", 17) == 0) {
                cert.p[i - 18] = 18;
                break;
            }
        }
    } else if (c->mangle == 2) {
        for (size_t i = 0; i + 6 < cert.len; i++) {
            if (cert.p[i] == 0x30 && cert.p[i + 2] == 0x31 && cert.p[i + 6] == 0x06) {
                cert.p[i] = 0x31; /* the first Name (the issuer) */
                break;
            }
        }
    }
    struct out o = { NULL, 0, 0 };
    cert_stream(&o, c->is_tls13 ? &sh_tls13 : &sh_tls12, &cert, c->frag);
    for (size_t cut = 0; cut <= o.len; cut++) {
        struct tlssniff *t = feed_server(o.p, o.len, cut);
        bool ok = str_is(tlssniff_cert_subject(t), c->subject) &&
                  str_is(tlssniff_cert_issuer(t), c->issuer) && !tlssniff_wants_cert(t);
        if (!ok) {
            fprintf(stderr, "  cut at %zu: subject %s issuer %s\n", cut,
                    tlssniff_cert_subject(t) ? tlssniff_cert_subject(t) : "(none)",
                    tlssniff_cert_issuer(t) ? tlssniff_cert_issuer(t) : "(none)");
            test_case_failed = 1;
            tlssniff_free(t);
            break;
        }
        tlssniff_free(t);
    }
    /* Every prefix: no name before the certificate is whole up to its subject. */
    for (size_t k = 0; k < o.len; k++) {
        struct tlssniff *t = feed_server(o.p, k, k);
        const char *got = tlssniff_cert_subject(t);
        CHECK(got == NULL || str_is(got, c->subject));
        tlssniff_free(t);
    }
    free(o.p);
    free(cert.p);
    free(subj.p);
}

static void test_cert_table(void)
{
    for (size_t i = 0; i < sizeof cert_cases / sizeof cert_cases[0]; i++) {
        run_cert_case(&cert_cases[i]);
        CASE_DONE(cert_cases[i].name);
    }
}

/* A Certificate message longer than the buffer: its first part still holds the names. */
static void test_cert_long_chain(void)
{
    struct out subj = { NULL, 0, 0 };
    rdn(&subj, OID_CN, 3, 12, "big.example.test");
    struct out cert = { NULL, 0, 0 };
    cert_der(&cert, &subj);
    struct out chain = { NULL, 0, 0 };
    put(&chain, cert.p, cert.len);
    put_fill(&chain, 0x44, 3 * TLSSNIFF_MAX_BYTES); /* the rest of a long chain */
    struct out o = { NULL, 0, 0 };
    cert_stream(&o, &sh_tls12, &chain, 16384);
    struct tlssniff *t = feed_server(o.p, o.len, o.len / 3);
    CHECK(str_is(tlssniff_cert_subject(t), "CN=big.example.test"));
    CHECK(!tlssniff_wants_cert(t));
    tlssniff_free(t);
    free(o.p);
    free(chain.p);
    free(cert.p);
    free(subj.p);
}

/* RFC 4514 rendering: order, multi-valued RDNs, escapes, dotted types, cut output. */
static void test_dn_format(void)
{
    char out[TLSSNIFF_MAX_DN + 1];
    struct out rdns = { NULL, 0, 0 };
    struct out name = { NULL, 0, 0 };
    rdn(&rdns, OID_C, 3, 19, "US");
    rdn(&rdns, OID_O, 3, 12, "A, \"B\"+C;<D>\\");
    rdn(&rdns, OID_CN, 3, 12, " #lead and trail ");
    rdn(&rdns, OID_EMAIL, 9, 22, "a@b");
    rdn(&rdns, OID_CN, 3, 12, "caf\xc3\xa9\x01");
    name_of(&name, &rdns);
    CHECK(tlssniff_dn_format(name.p, name.len, out, sizeof out));
    CHECK_STR(out, "CN=caf\\C3\\A9\\01,1.2.840.113549.1.9.1=#1603614062,"
                   "CN=\\ #lead and trail\\ ,O=A\\, \\\"B\\\"\\+C\\;\\<D\\>\\\\,C=US");
    /* Two AVAs in one RDN. */
    struct out ava = { NULL, 0, 0 };
    struct out set = { NULL, 0, 0 };
    struct out tmp = { NULL, 0, 0 };
    der_raw(&tmp, 0x06, OID_CN, 3);
    der_raw(&tmp, 12, "x", 1);
    der(&ava, 0x30, &tmp);
    tmp.len = 0;
    der_raw(&tmp, 0x06, OID_O, 3);
    der_raw(&tmp, 12, "y", 1);
    der(&ava, 0x30, &tmp);
    der(&set, 0x31, &ava);
    name.len = 0;
    name_of(&name, &set);
    CHECK(tlssniff_dn_format(name.p, name.len, out, sizeof out));
    CHECK_STR(out, "CN=x+O=y");
    /* A name past the cap is cut, ending in "...". */
    char longv[400];
    memset(longv, 'z', sizeof longv - 1);
    longv[sizeof longv - 1] = '\0';
    rdns.len = 0;
    rdn(&rdns, OID_CN, 3, 12, longv);
    name.len = 0;
    name_of(&name, &rdns);
    CHECK(tlssniff_dn_format(name.p, name.len, out, sizeof out));
    CHECK_EQ_U(strlen(out), TLSSNIFF_MAX_DN);
    CHECK(strcmp(out + TLSSNIFF_MAX_DN - 3, "...") == 0);
    /* An empty name; then every cut of a name is refused or read whole, never past its end. */
    CHECK(tlssniff_dn_format((const uint8_t *)"\x30\x00", 2, out, sizeof out));
    CHECK_STR(out, "");
    rdns.len = 0;
    rdn(&rdns, OID_CN, 3, 12, "cut");
    name.len = 0;
    name_of(&name, &rdns);
    for (size_t k = 0; k < name.len; k++) {
        uint8_t *cut = malloc(k + 1);
        if (cut == NULL) {
            abort();
        }
        memcpy(cut, name.p, k);
        CHECK(!tlssniff_dn_format(cut, k, out, sizeof out));
        free(cut);
    }
    /* Malformed: indefinite length, a 5-byte length, a high tag number, an empty RDN. */
    CHECK(!tlssniff_dn_format((const uint8_t *)"\x30\x80\x00\x00", 4, out, sizeof out));
    CHECK(!tlssniff_dn_format((const uint8_t *)"\x30\x85\x00\x00\x00\x00\x01\x00", 8, out,
                              sizeof out));
    CHECK(!tlssniff_dn_format((const uint8_t *)"\x3f\x01\x00", 3, out, sizeof out));
    CHECK(!tlssniff_dn_format((const uint8_t *)"\x30\x02\x31\x00", 4, out, sizeof out));
    free(rdns.p);
    free(name.p);
    free(ava.p);
    free(set.p);
    free(tmp.p);
}

/* A ClientHello (RFC 8446 4.1.2) with the given extensions block content (NULL: none). */
static void ch_stream(struct out *o, const struct out *exts, size_t frag)
{
    struct out b = { NULL, 0, 0 };
    put16(&b, 0x0303);
    put_fill(&b, 0x61, 32);
    put8(&b, 32);
    put_fill(&b, 0x62, 32);
    put16(&b, 4);
    put16(&b, 0x1301);
    put16(&b, 0xc02f);
    put8(&b, 1);
    put8(&b, 0);
    if (exts != NULL) {
        put16(&b, (unsigned)exts->len);
        put(&b, exts->p, exts->len);
    }
    struct out m = { NULL, 0, 0 };
    put8(&m, 1);
    put24(&m, b.len);
    put(&m, b.p, b.len);
    records(o, 22, 0x0301, m.p, m.len, frag);
    free(b.p);
    free(m.p);
}

/* A server_name extension naming host (list_fix and name_fix added to its two lengths). */
static void sni_ext(struct out *e, const char *host, int list_fix, int name_fix)
{
    size_t n = strlen(host);
    put16(e, 0);
    put16(e, (unsigned)(n + 5));
    put16(e, (unsigned)((int)n + 3 + list_fix));
    put8(e, 0);
    put16(e, (unsigned)((int)n + name_fix));
    put(e, host, n);
}

struct hello_case {
    const char *name;
    int kind; /* 0 sni; 1 no extensions; 2 other extensions only; 3 list length off; 4 name
                 length off; 5 extensions total off; 6 not a ClientHello */
    size_t frag;
    enum tlssniff_status status;
    const char *sni;
};

static const struct hello_case hello_cases[] = {
    { "ClientHello with SNI", 0, 16384, TLSSNIFF_DONE, "mail.example.test" },
    { "ClientHello in 7-byte records", 0, 7, TLSSNIFF_DONE, "mail.example.test" },
    { "ClientHello without extensions", 1, 16384, TLSSNIFF_DONE, NULL },
    { "ClientHello without server_name", 2, 16384, TLSSNIFF_DONE, NULL },
    { "server_name list length off by one", 3, 16384, TLSSNIFF_DONE, NULL },
    { "host_name length overruns", 4, 16384, TLSSNIFF_DONE, NULL },
    { "extensions total off by one", 5, 16384, TLSSNIFF_NOT_TLS, NULL },
    { "first message a ServerHello", 6, 16384, TLSSNIFF_NOT_TLS, NULL },
};

static void build_hello(struct out *o, const struct hello_case *c)
{
    struct out e = { NULL, 0, 0 };
    put16(&e, 0x000a); /* supported_groups */
    put16(&e, 4);
    put16(&e, 2);
    put16(&e, 0x001d);
    switch (c->kind) {
    case 0:
    case 5:
        sni_ext(&e, "mail.example.test", 0, 0);
        break;
    case 3:
        sni_ext(&e, "mail.example.test", 1, 0);
        break;
    case 4:
        sni_ext(&e, "mail.example.test", 0, 1);
        break;
    default:
        break;
    }
    if (c->kind == 6) {
        sh_record(o, 0x0303, &sh_tls12);
    } else {
        ch_stream(o, c->kind == 1 ? NULL : &e, c->frag);
    }
    if (c->kind == 5) {
        /* ch_stream wrote the total as e.len: make it e.len - 1 (the extensions' length field
         * sits at a fixed place: 5 + 4 + 2 + 32 + 1 + 32 + 2 + 4 + 1 + 1 into the stream). */
        size_t at = 5 + 4 + 2 + 32 + 1 + 32 + 2 + 4 + 1 + 1;
        unsigned v = (unsigned)(e.len - 1);
        o->p[at] = (uint8_t)(v >> 8);
        o->p[at + 1] = (uint8_t)v;
    }
    free(e.p);
}

static void run_hello_case(const struct hello_case *c)
{
    struct out o = { NULL, 0, 0 };
    build_hello(&o, c);
    for (size_t cut = 0; cut <= o.len; cut++) {
        struct tlssniff *t = tlssniff_new_client();
        uint16_t v = 0;
        tlssniff_feed(t, o.p, cut, &v);
        enum tlssniff_status st = tlssniff_feed(t, o.p + cut, o.len - cut, &v);
        const uint8_t *name = NULL;
        size_t n = tlssniff_sni(t, &name);
        bool ok = st == c->status &&
                  (c->sni == NULL ? n == 0 : n == strlen(c->sni) && memcmp(name, c->sni, n) == 0);
        tlssniff_free(t);
        if (!ok) {
            fprintf(stderr, "  cut at %zu: status %d sni length %zu\n", cut, (int)st, n);
            test_case_failed = 1;
            break;
        }
    }
    /* Every prefix of its exact size: MORE before the end, no name. */
    for (size_t k = 0; k + 1 < o.len; k++) {
        uint8_t *p = malloc(k + 1);
        if (p == NULL) {
            abort();
        }
        memcpy(p, o.p, k);
        struct tlssniff *t = tlssniff_new_client();
        uint16_t v = 0;
        enum tlssniff_status st = tlssniff_feed(t, p, k, &v);
        const uint8_t *name = NULL;
        CHECK(st != TLSSNIFF_DONE || c->status == TLSSNIFF_DONE);
        CHECK(st == TLSSNIFF_DONE || tlssniff_sni(t, &name) == 0);
        tlssniff_free(t);
        free(p);
    }
    free(o.p);
}

static void test_hello_table(void)
{
    for (size_t i = 0; i < sizeof hello_cases / sizeof hello_cases[0]; i++) {
        run_hello_case(&hello_cases[i]);
        CASE_DONE(hello_cases[i].name);
    }
}

int main(void)
{
    test_tls_table();
    test_cert_table();
    test_hello_table();
    RUN(test_cert_long_chain);
    RUN(test_dn_format);
    RUN(test_early_verdict);
    RUN(test_gap);
    RUN(test_lifecycle);
    return TEST_SUMMARY();
}
