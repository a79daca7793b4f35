/* fuzz_defrag.c - libFuzzer target for defrag, driven as run drives it: decode_frame, defrag_add,
 * decode_frame again on what it completes.
 *
 * Input: byte 0 picks the IP version (bit 0), a small memory share (bit 1), IPv4 options (bit
 * 2) and the fragment size (bits 3..7: 8 to 256 bytes); byte 1 the datagram's payload length in
 * 4-byte units; then a script, one byte a step: below 0xc0 it sends fragment (byte mod n) of the
 * datagram cut at that size (any order, any duplication), from 0xc0 a hostile fragment whose
 * offset, length and MF come from the next three bytes (overlaps, bad lengths, offsets past
 * 65535). After the script every fragment not yet sent is sent, in order. Packet time moves a
 * microsecond a step, so nothing times out.
 *
 * Checked: with no hostile fragment, the datagram comes back exactly once and byte for byte,
 * or its drop is counted (an IPv6 first fragment without the whole TCP header, RFC 7112); with
 * hostile ones, whatever comes back decodes without reading past it; the table never holds
 * more than its share; every byte charged is given back when the table is freed. */
#include "defrag.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "fuzz_util.h"

#define FUZZ_MAX_DG 2048
#define FUZZ_TS     1700000000000000u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct owner {
    size_t held;
};

static bool owner_charge(void *ctx, size_t bytes)
{
    ((struct owner *)ctx)->held += bytes;
    return true;
}

static void owner_release(void *ctx, size_t bytes)
{
    struct owner *o = ctx;
    FUZZ_CHECK(bytes <= o->held);
    o->held -= bytes;
}

static void put16(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* The datagram: IPv4 (opt bytes of options) or IPv6, TCP, n payload bytes from pay. */
static size_t make_dg(uint8_t *b, bool is_v6, size_t opt, const uint8_t *pay, size_t n)
{
    size_t h = is_v6 ? 40 : 20 + opt;
    memset(b, 0, h + 20);
    if (is_v6) {
        b[0] = 0x60;
        b[6] = 6;
        b[7] = 64;
        b[23] = 1;
        b[39] = 2;
        put16(b + 4, 20 + n);
    } else {
        b[0] = (uint8_t)(0x40 | h / 4);
        put16(b + 2, h + 20 + n);
        put16(b + 4, 0x1234);
        b[8] = 64;
        b[9] = 6;
        b[15] = 1;
        b[19] = 2;
        memset(b + 20, 1, opt);
    }
    put16(b + h, 1025);
    put16(b + h + 2, 110);
    b[h + 12] = 0x50;
    b[h + 13] = 0x18;
    memcpy(b + h + 20, pay, n);
    return h + 20 + n;
}

/* Fragment [off, off+len) of dg's data (after its header of h bytes) into out; returns its
 * length. The bytes past the datagram's data are zeros. */
static size_t make_frag(const uint8_t *dg, size_t dg_len, size_t h, bool is_v6, size_t off,
                        size_t len, bool more, uint8_t *out)
{
    size_t body = dg_len - h;
    memcpy(out, dg, h);
    size_t at = is_v6 ? h + 8 : h;
    memset(out + at, 0, len);
    if (off < body) {
        memcpy(out + at, dg + h + off, body - off < len ? body - off : len);
    }
    if (is_v6) {
        out[6] = 44;
        out[h] = 6;
        out[h + 1] = 0;
        put16(out + h + 2, (off & 0xfff8u) | (more ? 1u : 0u));
        put16(out + h + 4, 0);
        put16(out + h + 6, 0x4321);
        put16(out + 4, 8 + len);
    } else {
        put16(out + 2, h + len);
        put16(out + 6, (more ? 0x2000u : 0) | ((off / 8) & 0x1fffu));
    }
    return at + len;
}

struct state {
    struct defrag *d;
    struct decode_stats ds;
    size_t n_done;
    bool is_same;
    const uint8_t *dg;
    size_t dg_len;
    size_t memcap;
};

/* One fragment packet (copied to a buffer of exactly its length) through decode and defrag. */
static void send(struct state *s, const uint8_t *frag, size_t len, uint64_t ts)
{
    uint8_t *pkt = malloc(len);
    FUZZ_CHECK(pkt != NULL);
    memcpy(pkt, frag, len);
    struct pkt p;
    struct decode_frag fr;
    enum decode_status st =
        decode_frame(DECODE_LINK_RAW, pkt, len, ts, NULL, &p, &fr, &s->ds, NULL);
    if (st == DECODE_FRAGMENT) {
        uint8_t *dg = NULL;
        size_t dg_len = 0;
        enum defrag_status ds = defrag_add(s->d, &fr, ts, &dg, &dg_len);
        FUZZ_CHECK((ds == DEFRAG_DONE) == (dg != NULL));
        FUZZ_CHECK(defrag_mem_used(s->d) <= s->memcap);
        if (dg != NULL) {
            s->n_done++;
            fuzz_touch(dg, dg_len);
            if (dg_len != s->dg_len || memcmp(dg, s->dg, dg_len) != 0) {
                s->is_same = false;
            }
            struct decode_outer outer = fr.outer;
            (void)decode_frame(DECODE_LINK_RAW, dg, dg_len, ts, &outer, &p, &fr, &s->ds, NULL);
            defrag_datagram_free(dg);
        }
    }
    free(pkt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) {
        return 0;
    }
    bool is_v6 = (data[0] & 1u) != 0;
    bool is_small = (data[0] & 2u) != 0;
    size_t opt = (data[0] & 4u) != 0 && !is_v6 ? 8 : 0;
    size_t frag_size = ((size_t)(data[0] >> 3) + 1) * 8;
    size_t n_pay = (size_t)data[1] * 4;
    const uint8_t *script = data + 2;
    size_t n_script = size - 2;
    uint8_t pay[1024];
    for (size_t i = 0; i < n_pay; i++) {
        pay[i] = i < n_script ? script[i] : (uint8_t)i;
    }
    static uint8_t dg[FUZZ_MAX_DG];
    size_t dg_len = make_dg(dg, is_v6, opt, pay, n_pay);
    size_t h = is_v6 ? 40 : 20 + opt;
    size_t body = dg_len - h;
    size_t n_frags = (body + frag_size - 1) / frag_size;

    struct owner o = { 0 };
    struct state s;
    memset(&s, 0, sizeof s);
    s.memcap = is_small ? 40000 : (size_t)1 << 22;
    struct defrag_config cfg = { s.memcap, owner_charge, owner_release, &o };
    s.d = defrag_new(&cfg);
    s.is_same = true;
    s.dg = dg;
    s.dg_len = dg_len;

    static uint8_t frag[70000];
    bool sent[FUZZ_MAX_DG / 8 + 1];
    memset(sent, 0, sizeof sent);
    bool is_hostile = false;
    uint64_t ts = FUZZ_TS;
    for (size_t i = 0; i < n_script; i++, ts++) {
        uint8_t b = script[i];
        if (b < 0xc0) {
            size_t k = b % n_frags;
            size_t off = k * frag_size;
            size_t len = body - off < frag_size ? body - off : frag_size;
            sent[k] = true;
            send(&s, frag, make_frag(dg, dg_len, h, is_v6, off, len, k + 1 < n_frags, frag), ts);
        } else if (i + 3 < n_script) {
            size_t off = ((size_t)script[i + 1] << 5 | (b & 0x1fu)) * 8;
            size_t len = (size_t)script[i + 2] * 4 + ((b & 0x20u) != 0 ? 60000 : 0);
            bool more = (script[i + 3] & 1u) != 0;
            is_hostile = true;
            send(&s, frag, make_frag(dg, dg_len, h, is_v6, off, len, more, frag), ts);
            i += 3;
        }
    }
    for (size_t k = 0; k < n_frags; k++, ts++) {
        if (!sent[k]) {
            size_t off = k * frag_size;
            size_t len = body - off < frag_size ? body - off : frag_size;
            send(&s, frag, make_frag(dg, dg_len, h, is_v6, off, len, k + 1 < n_frags, frag), ts);
        }
    }
    const struct defrag_stats *st = defrag_get_stats(s.d);
    FUZZ_CHECK(st->fragments_used <= st->fragments);
    if (!is_hostile && !is_small && n_frags >= 2) {
        /* The datagram exactly once, or the one drop RFC 7112 asks for. */
        if (st->tiny_first_v6 == 0) {
            FUZZ_CHECK(s.n_done == 1);
            FUZZ_CHECK(s.is_same);
            FUZZ_CHECK(st->overlaps == 0 && st->bad_offsets == 0);
        } else {
            FUZZ_CHECK(is_v6 && s.n_done == 0);
        }
    }
    defrag_flush(s.d);
    FUZZ_CHECK(defrag_get_stats(s.d)->mem_used_max <= s.memcap);
    defrag_free(s.d);
    FUZZ_CHECK(o.held == 0);
    return 0;
}
