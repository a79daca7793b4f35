/* test_defrag.c - unit tests for defrag: IPv4 and IPv6 fragments through decode_frame, defrag_add
 * and decode_frame again, as run drives them.
 *
 * A table of datagrams, each cut into fragments and fed in order, reversed, in random orders
 * with duplicates: every order gives back the original datagram byte for byte, or a counted
 * drop. Then the policies one by one: overlaps (IPv4 and IPv6 alike: exact duplicates ignored,
 * any other overlap drops the datagram), the tiny first fragment (IPv4 reassembled, IPv6 dropped
 * per RFC 7112), a missing middle fragment timing out, too big, bad lengths and offsets, a
 * fragment cut by the snap length, the memory share and the owner's cap refusing, eviction of
 * the oldest, the table limit, the duplicate window after completion, the outer context carried
 * into the reassembled datagram, and every byte charged given back. */
#include "defrag.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "ps.h"
#include "test.h"
#include "tunables.h"

#define T_TS  1700000000000000u
#define T_MAX 2048

/* The owner's side of the charges: what the table holds, and a switch to refuse. */
struct owner {
    size_t held;
    size_t limit; /* 0: no limit */
};

static bool owner_charge(void *ctx, size_t bytes)
{
    struct owner *o = ctx;
    if (o->limit != 0 && o->held + bytes > o->limit) {
        return false;
    }
    o->held += bytes;
    return true;
}

static void owner_release(void *ctx, size_t bytes)
{
    struct owner *o = ctx;
    CHECK(bytes <= o->held);
    o->held -= bytes;
}

static struct defrag *new_table(struct owner *o, size_t memcap)
{
    memset(o, 0, sizeof *o);
    struct defrag_config cfg = { memcap, owner_charge, owner_release, o };
    return defrag_new(&cfg);
}

static void put16(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* A datagram: version 4 (opt_len bytes of options) or 6 (n_ext 8-byte extension headers before
 * where the fragment header goes: hop-by-hop first, then destination options), carrying TCP
 * with n_payload bytes of payload. Returns its length. Checksums stay 0 (decode ignores them). */
static size_t make_dg(uint8_t *b, int version, size_t opt_len, size_t n_ext, size_t n_payload,
                      uint16_t id)
{
    size_t h;
    memset(b, 0, T_MAX);
    if (version == 4) {
        h = 20 + opt_len;
        b[0] = (uint8_t)(0x40 | h / 4);
        put16(b + 4, id);
        b[8] = 64;
        b[9] = 6;
        memcpy(b + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
        for (size_t i = 20; i < h; i++) {
            b[i] = 1; /* NOP options */
        }
    } else {
        h = 40 + 8 * n_ext;
        b[0] = 0x60;
        b[6] = n_ext > 0 ? 0 : 6;
        b[7] = 64;
        b[8] = 0x20;
        b[9] = 0x01;
        b[23] = 1;
        b[24] = 0x20;
        b[25] = 0x01;
        b[39] = 2;
        for (size_t i = 0; i < n_ext; i++) {
            b[40 + 8 * i] = i + 1 < n_ext ? 60 : 6; /* next: destination options, then TCP */
        }
    }
    uint8_t *t = b + h;
    put16(t, 40000);
    put16(t + 2, 110);
    t[4] = 0x11;
    t[12] = 0x50;
    t[13] = 0x18;
    for (size_t i = 0; i < n_payload; i++) {
        t[20 + i] = (uint8_t)('a' + i % 26);
    }
    size_t len = h + 20 + n_payload;
    if (version == 4) {
        put16(b + 2, len);
    } else {
        put16(b + 4, len - 40);
    }
    return len;
}

/* The header length of dg (IPv4 with options; IPv6 with its extension headers). */
static size_t hdr_of(const uint8_t *dg, size_t n_ext)
{
    return (dg[0] >> 4) == 4 ? (size_t)(dg[0] & 15) * 4 : 40 + 8 * n_ext;
}

/* Fragment i of dg (data bytes [off, off+len) of the part after the header), into out. */
static size_t make_frag(const uint8_t *dg, size_t dg_len, size_t n_ext, uint32_t id, size_t off,
                        size_t len, bool more, uint8_t *out)
{
    size_t h = hdr_of(dg, n_ext);
    if ((dg[0] >> 4) == 4) {
        memcpy(out, dg, h);
        put16(out + 2, h + len);
        put16(out + 6, (more ? 0x2000u : 0) | off / 8);
        memcpy(out + h, dg + h + off, len);
        return h + len;
    }
    (void)dg_len;
    memcpy(out, dg, h);
    uint8_t next = n_ext > 0 ? dg[h - 8] : dg[6];
    if (n_ext > 0) {
        out[h - 8] = 44;
    } else {
        out[6] = 44;
    }
    uint8_t *f = out + h;
    f[0] = next;
    f[1] = 0;
    put16(f + 2, (off & 0xfff8u) | (more ? 1u : 0u));
    f[4] = (uint8_t)(id >> 24);
    f[5] = (uint8_t)(id >> 16);
    f[6] = (uint8_t)(id >> 8);
    f[7] = (uint8_t)id;
    memcpy(out + h + 8, dg + h + off, len);
    put16(out + 4, h + 8 + len - 40);
    return h + 8 + len;
}

struct frag_pkt {
    uint8_t b[T_MAX];
    size_t len;
};

/* dg cut into pieces of size bytes (the last shorter). Returns the number of fragments. */
static size_t cut(const uint8_t *dg, size_t dg_len, size_t n_ext, uint32_t id, size_t size,
                  struct frag_pkt *out, size_t max)
{
    size_t body = dg_len - hdr_of(dg, n_ext);
    size_t n = 0;
    for (size_t off = 0; off < body && n < max; off += size, n++) {
        size_t len = body - off < size ? body - off : size;
        out[n].len = make_frag(dg, dg_len, n_ext, id, off, len, off + len < body, out[n].b);
    }
    return n;
}

/* What feeding a list of fragments gave: the datagrams completed (the last kept), and whether
 * each decoded again to a TCP segment. */
struct fed {
    size_t n_done;
    size_t n_tcp;
    uint8_t last[T_MAX];
    size_t last_len;
    struct pkt p;
};

static void feed_one(struct defrag *d, const uint8_t *b, size_t len, uint64_t ts,
                     struct decode_stats *ds, struct fed *out)
{
    struct pkt p;
    struct decode_frag fr;
    enum decode_status st = decode_frame(DECODE_LINK_RAW, b, len, ts, NULL, &p, &fr, ds, NULL);
    CHECK_EQ_U(st, DECODE_FRAGMENT);
    if (st != DECODE_FRAGMENT) {
        return;
    }
    uint8_t *dg = NULL;
    size_t dg_len = 0;
    enum defrag_status s = defrag_add(d, &fr, ts, &dg, &dg_len);
    CHECK((s == DEFRAG_DONE) == (dg != NULL));
    if (dg == NULL) {
        return;
    }
    out->n_done++;
    CHECK(dg_len <= T_MAX);
    if (dg_len <= T_MAX) {
        memcpy(out->last, dg, dg_len);
        out->last_len = dg_len;
    }
    struct decode_outer outer = fr.outer;
    if (decode_frame(DECODE_LINK_RAW, dg, dg_len, ts, &outer, &out->p, &fr, ds, NULL) ==
        DECODE_OK) {
        out->n_tcp++;
    }
    defrag_datagram_free(dg);
}

static void feed(struct defrag *d, const struct frag_pkt *f, const size_t *order, size_t n,
                 struct decode_stats *ds, struct fed *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        feed_one(d, f[order[i]].b, f[order[i]].len, T_TS + i, ds, out);
    }
}

/* A small deterministic generator for the random orders. */
static uint32_t rnd(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

struct row {
    const char *name;
    int version;
    size_t opt_len; /* IPv4 options, bytes */
    size_t n_ext;   /* IPv6 extension headers before the fragment header */
    size_t payload; /* TCP payload bytes */
    size_t size;    /* fragment data bytes (a multiple of 8) */
};

static const struct row rows[] = {
    { "ipv4 8-byte fragments", 4, 0, 0, 100, 8 },
    { "ipv4 with options", 4, 8, 0, 60, 16 },
    { "ipv4 full-size pieces", 4, 0, 0, 1400, 256 },
    { "ipv6 24-byte fragments", 6, 0, 0, 100, 24 },
    { "ipv6 extension headers before the fragment header", 6, 0, 2, 90, 32 },
    { "ipv6 one extension header", 6, 0, 1, 200, 64 },
};

/* Every row: in order, reversed, and random orders with duplicates give the datagram. */
static void test_orders(void)
{
    static struct frag_pkt f[256];
    uint8_t dg[T_MAX];
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        const struct row *row = &rows[r];
        size_t dg_len = make_dg(dg, row->version, row->opt_len, row->n_ext, row->payload, 77);
        size_t n = cut(dg, dg_len, row->n_ext, 77, row->size, f, 256);
        CHECK(n >= 3 && n < 128);
        size_t order[256];
        for (int kind = 0; kind < 12; kind++) {
            size_t m = n;
            uint32_t seed = (uint32_t)kind * 7919u + (uint32_t)r;
            for (size_t i = 0; i < n; i++) {
                order[i] = kind == 1 ? n - 1 - i : i;
            }
            if (kind >= 2) {
                for (size_t i = n - 1; i > 0; i--) {
                    size_t j = rnd(&seed) % (i + 1);
                    size_t t = order[i];
                    order[i] = order[j];
                    order[j] = t;
                }
            }
            if (kind >= 6) { /* duplicates, placed anywhere before the end */
                size_t extra = 1 + rnd(&seed) % 4;
                for (size_t e = 0; e < extra; e++) {
                    size_t at = rnd(&seed) % m;
                    memmove(order + at + 1, order + at, (m - at) * sizeof *order);
                    order[at] = order[rnd(&seed) % n];
                    m++;
                }
            }
            struct owner o;
            struct defrag *d = new_table(&o, 1u << 20);
            struct decode_stats ds;
            memset(&ds, 0, sizeof ds);
            struct fed out;
            feed(d, f, order, m, &ds, &out);
            const struct defrag_stats *st = defrag_get_stats(d);
            CHECK_EQ_U(out.n_done, 1);
            CHECK_EQ_U(out.n_tcp, 1);
            CHECK_EQ_U(out.last_len, dg_len);
            CHECK(memcmp(out.last, dg, dg_len) == 0);
            CHECK_EQ_U(out.p.payload_len, row->payload);
            CHECK_EQ_U(out.p.sport, 40000);
            CHECK_EQ_U(st->reassembled, 1);
            CHECK_EQ_U(st->fragments, m);
            /* Every fragment seen into: duplicates after completion too. */
            CHECK_EQ_U(st->fragments_used, m);
            CHECK_EQ_U(st->duplicates, m - n);
            CHECK_EQ_U(ds.ip_fragments, m);
            CHECK_EQ_U(ds.reassembled, 1);
            CHECK_EQ_U(defrag_mem_used(d), o.held);
            defrag_free(d);
            CHECK_EQ_U(o.held, 0);
            char name[160];
            snprintf(name, sizeof name, "%s, order %d", row->name, kind);
            CASE_DONE(name);
        }
    }
}

/* Every order of a four-fragment datagram plus a duplicate (120 orders of 5): the datagram. */
static void test_every_order(void)
{
    struct frag_pkt f[8];
    uint8_t dg[T_MAX];
    for (int version = 4; version <= 6; version += 2) {
        size_t dg_len = make_dg(dg, version, 0, 0, 12, 5);
        size_t n = cut(dg, dg_len, 0, 5, 8, f, 8);
        CHECK_EQ_U(n, 4);
        f[4] = f[2]; /* the duplicate */
        size_t idx[5] = { 0, 1, 2, 3, 4 };
        size_t c[5] = { 0 };
        size_t good = 0;
        size_t total = 0;
        /* Heap's algorithm. */
        for (size_t i = 0;;) {
            struct owner o;
            struct defrag *d = new_table(&o, 1u << 20);
            struct decode_stats ds;
            memset(&ds, 0, sizeof ds);
            struct fed out;
            feed(d, f, idx, 5, &ds, &out);
            const struct defrag_stats *st = defrag_get_stats(d);
            /* IPv6 needs the whole TCP header in the first fragment (RFC 7112): 8 bytes is a
             * counted drop, the same in every order. */
            if (version == 4) {
                good += out.n_done == 1 && out.last_len == dg_len &&
                        memcmp(out.last, dg, dg_len) == 0 && st->tiny_first == 1;
            } else {
                good += out.n_done == 0 && st->tiny_first_v6 == 1;
            }
            total++;
            defrag_free(d);
            CHECK_EQ_U(o.held, 0);
            while (i < 5 && c[i] >= i) {
                c[i++] = 0;
            }
            if (i >= 5) {
                break;
            }
            size_t j = i % 2 == 0 ? 0 : c[i];
            size_t t = idx[j];
            idx[j] = idx[i];
            idx[i] = t;
            c[i]++;
            i = 0;
        }
        CHECK_EQ_U(total, 120);
        CHECK_EQ_U(good, 120);
    }
}

/* Feeds fragments given as (offset, length, more) of dg, in that order; returns the table. */
struct piece {
    size_t off, len;
    bool more;
};

static struct defrag *feed_pieces(struct owner *o, int version, const struct piece *pc, size_t n,
                                  struct decode_stats *ds, struct fed *out, uint8_t *dg,
                                  size_t *dg_len)
{
    struct defrag *d = new_table(o, 1u << 20);
    *dg_len = make_dg(dg, version, 0, 0, 100, 9);
    memset(ds, 0, sizeof *ds);
    memset(out, 0, sizeof *out);
    uint8_t b[T_MAX];
    for (size_t i = 0; i < n; i++) {
        size_t len = make_frag(dg, *dg_len, 0, 9, pc[i].off, pc[i].len, pc[i].more, b);
        feed_one(d, b, len, T_TS + i, ds, out);
    }
    return d;
}

/* Overlaps drop the datagram, IPv4 and IPv6 alike; exact duplicates do not. */
static void test_overlaps(void)
{
    static const struct piece overlap[] = { { 0, 40, true }, { 32, 40, true }, { 72, 48, false } };
    static const struct piece inside[] = { { 0, 64, true }, { 16, 16, true }, { 64, 56, false } };
    static const struct piece dup[] = { { 0, 64, true }, { 0, 64, true }, { 64, 56, false } };
    static const struct piece rewrite[] = { { 64, 56, false }, { 0, 64, true }, { 8, 8, true } };
    for (int version = 4; version <= 6; version += 2) {
        struct owner o;
        struct decode_stats ds;
        struct fed out;
        uint8_t dg[T_MAX];
        size_t dg_len;
        struct defrag *d = feed_pieces(&o, version, overlap, 3, &ds, &out, dg, &dg_len);
        CHECK_EQ_U(out.n_done, 0);
        CHECK_EQ_U(defrag_get_stats(d)->overlaps, 1);
        defrag_free(d);
        d = feed_pieces(&o, version, inside, 3, &ds, &out, dg, &dg_len);
        CHECK_EQ_U(out.n_done, 0);
        CHECK_EQ_U(defrag_get_stats(d)->overlaps, 1);
        defrag_free(d);
        d = feed_pieces(&o, version, dup, 3, &ds, &out, dg, &dg_len);
        CHECK_EQ_U(out.n_done, 1);
        CHECK(out.last_len == dg_len && memcmp(out.last, dg, dg_len) == 0);
        CHECK_EQ_U(defrag_get_stats(d)->duplicates, 1);
        defrag_free(d);
        /* A fragment rewriting the TCP header after completion (RFC 1858's overlap) meets the
         * completed record: not a duplicate, so a new datagram that never completes. */
        d = feed_pieces(&o, version, rewrite, 3, &ds, &out, dg, &dg_len);
        CHECK_EQ_U(out.n_done, 1);
        CHECK(out.last_len == dg_len && memcmp(out.last, dg, dg_len) == 0);
        defrag_flush(d);
        CHECK_EQ_U(defrag_get_stats(d)->incomplete_at_end, 1);
        defrag_free(d);
        CHECK_EQ_U(o.held, 0);
    }
}

/* Lengths and offsets that cannot be: counted, never a datagram. */
static void test_bad(void)
{
    static const struct piece odd[] = { { 0, 60, true }, { 60, 60, false } };    /* not 8n */
    static const struct piece ends[] = { { 64, 56, false }, { 120, 8, false } }; /* two ends */
    static const struct piece past[] = { { 64, 16, false }, { 80, 16, true } };  /* past end */
    static const struct piece before[] = { { 0, 64, true }, { 32, 8, false } };  /* end inside */
    for (int version = 4; version <= 6; version += 2) {
        struct owner o;
        struct decode_stats ds;
        struct fed out;
        uint8_t dg[T_MAX];
        size_t dg_len;
        struct defrag *d = feed_pieces(&o, version, odd, 2, &ds, &out, dg, &dg_len);
        CHECK_EQ_U(defrag_get_stats(d)->bad_fragments, 1);
        defrag_free(d);
        d = feed_pieces(&o, version, ends, 2, &ds, &out, dg, &dg_len);
        CHECK_EQ_U(defrag_get_stats(d)->bad_offsets, 1);
        defrag_free(d);
        d = feed_pieces(&o, version, past, 2, &ds, &out, dg, &dg_len);
        CHECK_EQ_U(defrag_get_stats(d)->bad_offsets, 1);
        defrag_free(d);
        d = feed_pieces(&o, version, before, 2, &ds, &out, dg, &dg_len);
        CHECK_EQ_U(defrag_get_stats(d)->bad_offsets + defrag_get_stats(d)->overlaps, 1);
        CHECK_EQ_U(out.n_done, 0);
        defrag_free(d);
        CHECK_EQ_U(o.held, 0);
    }
}

/* A fragment at the largest offset with more than the datagram may hold: too big. */
static void test_too_big(void)
{
    for (int version = 4; version <= 6; version += 2) {
        struct owner o;
        struct decode_stats ds;
        struct fed out;
        uint8_t dg[T_MAX];
        size_t dg_len;
        static const struct piece pc[] = { { 0, 64, true } };
        struct defrag *d = feed_pieces(&o, version, pc, 1, &ds, &out, dg, &dg_len);
        uint8_t b[T_MAX];
        size_t len = make_frag(dg, dg_len, 0, 9, 0, 64, false, b);
        put16(version == 4 ? b + 6 : b + 42, version == 4 ? 8190u : 65520u); /* offset */
        feed_one(d, b, len, T_TS + 10, &ds, &out);
        CHECK_EQ_U(defrag_get_stats(d)->too_big, 1);
        CHECK_EQ_U(out.n_done, 0);
        defrag_flush(d);
        CHECK_EQ_U(defrag_get_stats(d)->incomplete_at_end, 0); /* dropped with it */
        defrag_free(d);
        CHECK_EQ_U(o.held, 0);
    }
}

/* A missing middle fragment: the datagram times out DEFRAG_TIMEOUT_SEC later, counted, and its
 * memory is given back. */
static void test_timeout(void)
{
    static const struct piece pc[] = { { 0, 32, true }, { 64, 56, false } };
    struct owner o;
    struct decode_stats ds;
    struct fed out;
    uint8_t dg[T_MAX];
    size_t dg_len;
    struct defrag *d = feed_pieces(&o, 4, pc, 2, &ds, &out, dg, &dg_len);
    size_t empty = 0;
    CHECK(o.held > empty);
    defrag_expire(d, T_TS + (uint64_t)DEFRAG_TIMEOUT_SEC * 1000000u);
    CHECK_EQ_U(defrag_get_stats(d)->timed_out, 0);
    defrag_expire(d, T_TS + (uint64_t)DEFRAG_TIMEOUT_SEC * 1000000u + 10);
    CHECK_EQ_U(defrag_get_stats(d)->timed_out, 1);
    /* Only the table's buckets are left charged. */
    CHECK_EQ_U(o.held, PS_HEAP_COST(DEFRAG_BUCKETS * sizeof(void *)));
    /* The middle now starts a datagram of its own, which the end of the run counts. */
    uint8_t b[T_MAX];
    size_t len = make_frag(dg, dg_len, 0, 9, 32, 32, true, b);
    feed_one(d, b, len, T_TS + 40000000u, &ds, &out);
    CHECK_EQ_U(out.n_done, 0);
    defrag_flush(d);
    CHECK_EQ_U(defrag_get_stats(d)->incomplete_at_end, 1);
    defrag_free(d);
    CHECK_EQ_U(o.held, 0);
}

/* A fragment the snap length cut cannot be used. */
static void test_truncated(void)
{
    struct owner o;
    struct defrag *d = new_table(&o, 1u << 20);
    uint8_t dg[T_MAX];
    uint8_t b[T_MAX];
    size_t dg_len = make_dg(dg, 4, 0, 0, 100, 3);
    size_t len = make_frag(dg, dg_len, 0, 3, 0, 64, true, b);
    struct decode_stats ds;
    memset(&ds, 0, sizeof ds);
    struct fed out;
    memset(&out, 0, sizeof out);
    feed_one(d, b, len - 10, T_TS, &ds, &out);
    CHECK_EQ_U(defrag_get_stats(d)->truncated, 1);
    defrag_free(d);
    CHECK_EQ_U(o.held, 0);
}

/* Starts datagram id with its first fragment (64 of 1400 bytes of data). */
static void start(struct defrag *d, uint16_t id, uint64_t ts, struct decode_stats *ds)
{
    uint8_t dg[T_MAX];
    uint8_t b[T_MAX];
    size_t dg_len = make_dg(dg, 4, 0, 0, 1380, id);
    size_t len = make_frag(dg, dg_len, 0, id, 0, 64, true, b);
    struct fed out;
    memset(&out, 0, sizeof out);
    feed_one(d, b, len, ts, ds, &out);
}

/* Completes datagram id (started by start) with its last fragment at offset 64. */
static size_t finish(struct defrag *d, uint16_t id, uint64_t ts, struct decode_stats *ds)
{
    uint8_t dg[T_MAX];
    uint8_t b[T_MAX];
    size_t dg_len = make_dg(dg, 4, 0, 0, 1380, id);
    size_t len = make_frag(dg, dg_len, 0, id, 64, dg_len - 20 - 64, false, b);
    struct fed out;
    memset(&out, 0, sizeof out);
    feed_one(d, b, len, ts, ds, &out);
    return out.n_done;
}

/* The memory share: the oldest datagram is evicted for a new one; a datagram larger than the
 * share is refused; the owner refusing evicts too, then refuses. */
static void test_memory(void)
{
    struct owner o;
    struct decode_stats ds;
    memset(&ds, 0, sizeof ds);
    /* Measured: the buckets, a started datagram, a completed one's record. */
    size_t base = PS_HEAP_COST(DEFRAG_BUCKETS * sizeof(void *));
    struct defrag *d = new_table(&o, 1u << 20);
    start(d, 1, T_TS, &ds);
    size_t one = defrag_mem_used(d) - base;
    CHECK_EQ_U(finish(d, 1, T_TS + 1, &ds), 1);
    size_t rec = defrag_mem_used(d) - base;
    size_t full = (size_t)defrag_get_stats(d)->mem_used_max - base; /* one at its largest */
    defrag_free(d);
    /* Room for one datagram at its largest beside one started, not two. */
    size_t cap = base + full + one;
    d = new_table(&o, cap);
    start(d, 1, T_TS, &ds);
    start(d, 2, T_TS + 1, &ds);
    start(d, 3, T_TS + 2, &ds);
    CHECK_EQ_U(finish(d, 3, T_TS + 3, &ds), 1);
    CHECK_EQ_U(defrag_get_stats(d)->evicted, 1); /* 1, the oldest */
    CHECK_EQ_U(finish(d, 1, T_TS + 4, &ds), 0);
    CHECK_EQ_U(finish(d, 2, T_TS + 5, &ds), 1); /* 3's record and 1's end make room */
    (void)rec;
    CHECK(defrag_get_stats(d)->mem_used_max <= cap);
    defrag_free(d);
    CHECK_EQ_U(o.held, 0);

    /* A share too small for the datagram at all. */
    d = new_table(&o, base + 1000);
    start(d, 1, T_TS, &ds);
    CHECK_EQ_U(finish(d, 1, T_TS + 1, &ds), 0);
    CHECK_EQ_U(defrag_get_stats(d)->no_memory, 1);
    defrag_free(d);
    CHECK_EQ_U(o.held, 0);

    /* The owner's cap says no: the oldest is evicted, then the datagram itself is refused. */
    d = new_table(&o, 1u << 20);
    o.limit = base + full + one - 1;
    start(d, 1, T_TS, &ds);
    start(d, 2, T_TS + 1, &ds);
    CHECK_EQ_U(finish(d, 2, T_TS + 2, &ds), 1);
    CHECK_EQ_U(defrag_get_stats(d)->evicted, 1);
    o.limit = o.held + one; /* room to start one, not to finish it */
    start(d, 3, T_TS + 3, &ds);
    CHECK_EQ_U(finish(d, 3, T_TS + 4, &ds), 0);
    CHECK_EQ_U(defrag_get_stats(d)->no_memory, 1);
    defrag_free(d);
    CHECK_EQ_U(o.held, 0);

    /* Nothing charged before the first fragment. */
    d = new_table(&o, 1u << 20);
    CHECK_EQ_U(o.held, 0);
    defrag_free(d);
}

/* DEFRAG_MAX_DATAGRAMS first fragments and one more: the oldest goes. */
static void test_table_limit(void)
{
    struct owner o;
    struct decode_stats ds;
    memset(&ds, 0, sizeof ds);
    struct defrag *d = new_table(&o, (size_t)256 << 20);
    for (uint32_t i = 0; i <= DEFRAG_MAX_DATAGRAMS; i++) {
        start(d, (uint16_t)i, T_TS + i, &ds); /* ids wrap at 65536: more than the limit */
    }
    CHECK_EQ_U(defrag_get_stats(d)->evicted, 1);
    CHECK_EQ_U(defrag_get_stats(d)->active_max, DEFRAG_MAX_DATAGRAMS);
    CHECK_EQ_U(finish(d, 1, T_TS + 99999, &ds), 1);
    CHECK_EQ_U(finish(d, 0, T_TS + 99999, &ds), 0); /* the oldest: gone (its end alone now) */
    defrag_flush(d);
    CHECK_EQ_U(defrag_get_stats(d)->incomplete_at_end, DEFRAG_MAX_DATAGRAMS);
    defrag_free(d);
    CHECK_EQ_U(o.held, 0);
}

/* After completion, copies of the fragments are duplicates for DEFRAG_DUP_WINDOW_USEC; later
 * they start a datagram of their own, and so do fragments of the same sizes with other bytes. */
static void test_dup_window(void)
{
    struct owner o;
    struct decode_stats ds;
    memset(&ds, 0, sizeof ds);
    struct defrag *d = new_table(&o, 1u << 20);
    start(d, 7, T_TS, &ds);
    CHECK_EQ_U(finish(d, 7, T_TS + 1, &ds), 1);
    start(d, 7, T_TS + 2, &ds);
    CHECK_EQ_U(finish(d, 7, T_TS + 3, &ds), 0);
    CHECK_EQ_U(defrag_get_stats(d)->duplicates, 2);
    CHECK_EQ_U(defrag_get_stats(d)->fragments_used, 4);
    start(d, 7, T_TS + 10 + DEFRAG_DUP_WINDOW_USEC, &ds);
    CHECK_EQ_U(finish(d, 7, T_TS + 11 + DEFRAG_DUP_WINDOW_USEC, &ds), 1);
    CHECK_EQ_U(defrag_get_stats(d)->reassembled, 2);

    /* Within the window, the same identification and fragment sizes with other bytes: a new
     * datagram (a sender that picks identifications at random and cuts equal segments, as
     * fragroute does), not a copy. */
    uint8_t dg[T_MAX];
    uint8_t b[T_MAX];
    size_t dg_len = make_dg(dg, 4, 0, 0, 1380, 7);
    dg[20 + 30] ^= 0xffu;
    dg[dg_len - 1] ^= 0xffu;
    struct fed out;
    memset(&out, 0, sizeof out);
    size_t len = make_frag(dg, dg_len, 0, 7, 0, 64, true, b);
    feed_one(d, b, len, T_TS + 12 + DEFRAG_DUP_WINDOW_USEC, &ds, &out);
    len = make_frag(dg, dg_len, 0, 7, 64, dg_len - 20 - 64, false, b);
    feed_one(d, b, len, T_TS + 13 + DEFRAG_DUP_WINDOW_USEC, &ds, &out);
    CHECK_EQ_U(out.n_done, 1);
    CHECK_EQ_U(defrag_get_stats(d)->reassembled, 3);
    CHECK_EQ_U(defrag_get_stats(d)->duplicates, 2);
    defrag_free(d);
    CHECK_EQ_U(o.held, 0);
}

/* The outer context (VLAN id, layers peeled) goes into the reassembled datagram's decode, and a
 * reassembly counts as a layer against DECODE_MAX_ENCAP. */
static void test_outer_context(void)
{
    uint8_t dg[T_MAX];
    size_t dg_len = make_dg(dg, 4, 0, 0, 40, 1);
    struct decode_stats ds;
    memset(&ds, 0, sizeof ds);
    struct pkt p;
    struct decode_frag fr;
    struct decode_outer outer;
    memset(&outer, 0, sizeof outer);
    outer.vlan = 42;
    outer.depth = 2;
    outer.trail.n = 1; /* the layers peeled before the fragments: the datagram keeps them */
    outer.trail.l[0] = (struct decode_layer){ .kind = DECODE_LAYER_VXLAN, .has_id = 1, .id = 7 };
    CHECK_EQ_U(decode_frame(DECODE_LINK_RAW, dg, dg_len, T_TS, &outer, &p, &fr, &ds, NULL),
               DECODE_OK);
    CHECK_EQ_U(p.vlan, 42);
    CHECK_EQ_U(p.trail.n, 1);
    CHECK_EQ_U(p.trail.l[0].kind, DECODE_LAYER_VXLAN);
    CHECK_EQ_U(p.trail.l[0].id, 7);
    CHECK_EQ_U(ds.packets, 0);
    CHECK_EQ_U(ds.reassembled, 1);
    outer.depth = DECODE_MAX_ENCAP;
    CHECK_EQ_U(decode_frame(DECODE_LINK_RAW, dg, dg_len, T_TS, &outer, &p, &fr, &ds, NULL),
               DECODE_BAD);
    CHECK_EQ_U(ds.encap_too_deep, 1);

    /* A fragment in an 802.1Q frame: the tag travels with it. */
    uint8_t frame[T_MAX];
    memset(frame, 0, 12);
    put16(frame + 12, 0x8100);
    put16(frame + 14, 7);
    put16(frame + 16, 0x0800);
    size_t len = make_frag(dg, dg_len, 0, 1, 0, 32, true, frame + 18);
    CHECK_EQ_U(decode_frame(DECODE_LINK_ETHERNET, frame, 18 + len, T_TS, NULL, &p, &fr, &ds, NULL),
               DECODE_FRAGMENT);
    CHECK_EQ_U(fr.outer.vlan, 7);
    CHECK_EQ_U(fr.offset, 0);
    CHECK_EQ_U(fr.data_len, 32);
    CHECK_EQ_U(fr.hdr_len, 20);
    CHECK_EQ_U(fr.proto, 6);
    CHECK(fr.is_more);
    /* Without a place for it, a fragment is skipped as before. */
    CHECK_EQ_U(decode_packet(DECODE_LINK_ETHERNET, frame, 18 + len, 18 + len, T_TS, &p, &ds),
               DECODE_SKIP);
}

int main(void)
{
    test_orders();
    RUN(test_every_order);
    RUN(test_overlaps);
    RUN(test_bad);
    RUN(test_too_big);
    RUN(test_timeout);
    RUN(test_truncated);
    RUN(test_memory);
    RUN(test_table_limit);
    RUN(test_dup_window);
    RUN(test_outer_context);
    return TEST_SUMMARY();
}
