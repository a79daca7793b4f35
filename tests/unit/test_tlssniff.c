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

int main(void)
{
    test_tls_table();
    RUN(test_early_verdict);
    RUN(test_gap);
    RUN(test_lifecycle);
    return TEST_SUMMARY();
}
