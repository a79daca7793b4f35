/* test_reasm.c - unit tests for reasm: order, retransmission, overlap, wrap, gaps, limits. */
/*
 * A recorder sink writes delivered bytes into a log and each gap as "[GAP n]", so a scenario
 * is checked by comparing one string. Scripted scenarios are a table; orderings (every
 * permutation, every split point, a shuffled random stream) must give identical logs.
 */
#include "reasm.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ps.h"
#include "test.h"
#include "tunables.h"

/* Largest log a test writes: the 300 KiB oversized segment plus markers. */
#define REC_CAP ((size_t)512 * 1024)

struct rec {
    uint8_t *log; /* delivered bytes, with "[GAP n]" where bytes are missing */
    size_t len;
    bool is_overflow;
    uint64_t data_bytes;
    uint64_t gap_calls;
    uint64_t gap_bytes;
    const uint8_t *last_data; /* pointer of the last on_data call, to check zero copy */
    bool is_checking;         /* each byte must be content_at() its sequence number */
    uint32_t base_seq;        /* sequence number of stream offset 0, when is_checking */
    uint64_t off;             /* stream offset reached: data plus gap bytes */
    uint64_t bad_bytes;       /* bytes delivered at the wrong place, when is_checking */
};

/* The byte every copy of sequence number seq carries in the chaos test. */
static uint8_t content_at(uint32_t seq)
{
    return (uint8_t)((seq * 2654435761u) >> 24);
}

struct fx {
    struct reasm r;
    struct reasm_ctx rc;
    struct rec rec;
    struct reasm_out out;
};

static void rec_append(struct rec *rec, const void *p, size_t len)
{
    if (len > REC_CAP - rec->len) {
        rec->is_overflow = true;
        return;
    }
    memcpy(rec->log + rec->len, p, len);
    rec->len += len;
}

static void rec_data(void *ctx, const uint8_t *data, size_t len)
{
    struct rec *rec = ctx;
    CHECK(len > 0);
    rec->last_data = data;
    rec->data_bytes += len;
    if (rec->is_checking) {
        for (size_t i = 0; i < len; i++) {
            if (data[i] != content_at(rec->base_seq + (uint32_t)(rec->off + i))) {
                rec->bad_bytes++;
            }
        }
        rec->off += len;
        /* The log would overflow: keep only the checks. */
        return;
    }
    rec->off += len;
    rec_append(rec, data, len);
}

static void rec_gap(void *ctx, uint64_t len)
{
    struct rec *rec = ctx;
    char mark[40];
    int n = snprintf(mark, sizeof mark, "[GAP %llu]", (unsigned long long)len);
    CHECK(len > 0);
    CHECK(n > 0 && (size_t)n < sizeof mark);
    rec->gap_calls++;
    rec->gap_bytes += len;
    rec->off += len;
    if (rec->is_checking) {
        return;
    }
    rec_append(rec, mark, (size_t)n);
}

static void fx_init(struct fx *f)
{
    memset(f, 0, sizeof *f);
    reasm_init(&f->r);
    f->rc.mem_cap = FLOW_MEMCAP_BYTES;
    f->rec.log = xmalloc(REC_CAP);
    f->out.on_data = rec_data;
    f->out.on_gap = rec_gap;
    f->out.ctx = &f->rec;
}

/* Frees the queue and checks what holds for every test: the sink saw what the counters say,
 * and no memory stays accounted. */
static void fx_fini(struct fx *f)
{
    reasm_free(&f->r, &f->rc);
    CHECK_EQ_U(f->rc.mem_used, 0);
    CHECK_EQ_U(f->r.ooo_segs, 0);
    CHECK_EQ_U(f->r.ooo_bytes, 0);
    CHECK(!f->rec.is_overflow);
    CHECK_EQ_U(f->rec.data_bytes, f->rc.st.bytes_delivered);
    CHECK_EQ_U(f->rec.gap_calls, f->rc.st.gaps);
    CHECK_EQ_U(f->rec.gap_bytes, f->rc.st.gap_bytes);
    CHECK_EQ_U(f->rec.data_bytes + f->rec.gap_bytes, reasm_offset(&f->r));
    CHECK_EQ_U(f->rec.off, reasm_offset(&f->r));
    free(f->rec.log);
    f->rec.log = NULL;
}

static void seg(struct fx *f, uint32_t seq, const char *s)
{
    size_t len = strlen(s);
    reasm_segment(&f->r, &f->rc, &f->out, seq, (const uint8_t *)s, len, len, false);
}

static bool log_is(const struct fx *f, const char *want)
{
    size_t len = strlen(want);
    return f->rec.len == len && memcmp(f->rec.log, want, len) == 0;
}

static bool logs_equal(const struct fx *a, const struct fx *b)
{
    return a->rec.len == b->rec.len && memcmp(a->rec.log, b->rec.log, a->rec.len) == 0;
}

/* ---- scripted scenarios ---- */

enum op_kind {
    OP_END,
    OP_SYN,
    OP_SEG,
    OP_ACK,
    OP_FLUSH,
};

struct op {
    enum op_kind kind;
    uint32_t seq;     /* SYN or segment sequence number, or the peer's ACK */
    const char *data; /* OP_SEG: the captured bytes, NULL for none */
    size_t cut;       /* OP_SEG: bytes claimed past data, cut by the snap length */
    bool is_fin;
};

#define SYN(s)                                                                                     \
    {                                                                                              \
        OP_SYN, (s), NULL, 0, false                                                                \
    }
#define SEG(s, d)                                                                                  \
    {                                                                                              \
        OP_SEG, (s), (d), 0, false                                                                 \
    }
#define SEG_FIN(s, d)                                                                              \
    {                                                                                              \
        OP_SEG, (s), (d), 0, true                                                                  \
    }
#define SEG_CUT(s, d, n)                                                                           \
    {                                                                                              \
        OP_SEG, (s), (d), (n), false                                                               \
    }
#define ACK(a)                                                                                     \
    {                                                                                              \
        OP_ACK, (a), NULL, 0, false                                                                \
    }
#define FLUSH                                                                                      \
    {                                                                                              \
        OP_FLUSH, 0, NULL, 0, false                                                                \
    }

struct want {
    uint64_t segments;
    uint64_t retrans_segs;
    uint64_t retrans_bytes;
    uint64_t overlap_bytes;
    uint64_t ooo_queued;
    uint64_t gaps;
    uint64_t gap_bytes;
    uint64_t after_fin_bytes;
    uint32_t held; /* segments still queued after the script */
};

struct scenario {
    const char *name;
    struct op ops[10];
    const char *log;
    struct want w;
};

/* 1 GiB ahead of sequence number 103, the largest believed ACK distance. */
#define ACK_MAX (103u + (1u << 30))

static const struct scenario scenarios[] = {
    { "in order, no SYN",
      { SEG(100, "hello "), SEG(106, "world") },
      "hello world",
      { .segments = 2 } },
    { "SYN then data", { SYN(99), SEG(100, "abc"), SEG(103, "def") }, "abcdef", { .segments = 2 } },
    { "data on the SYN's own number is old",
      { SYN(99), SEG(99, "xabc") },
      "abc",
      { .segments = 1, .overlap_bytes = 1 } },
    { "SYN ignored once started",
      { SEG(100, "abc"), SYN(50), SEG(103, "d") },
      "abcd",
      { .segments = 2 } },
    { "mid-stream start: earlier data is old",
      { SEG(5000, "mid"), SEG(4990, "0123456789"), SEG(5003, "dle") },
      "middle",
      { .segments = 3, .retrans_segs = 1, .retrans_bytes = 10 } },
    { "retransmission, exact",
      { SYN(99), SEG(100, "abcdef"), SEG(100, "abcdef") },
      "abcdef",
      { .segments = 2, .retrans_segs = 1, .retrans_bytes = 6 } },
    { "retransmission, partial",
      { SYN(99), SEG(100, "abcdef"), SEG(103, "defXYZ") },
      "abcdefXYZ",
      { .segments = 2, .overlap_bytes = 3 } },
    { "retransmission of a queued segment",
      { SYN(99), SEG(103, "def"), SEG(103, "DEF"), SEG(100, "abc") },
      "abcdef",
      { .segments = 3, .retrans_segs = 1, .retrans_bytes = 3, .ooo_queued = 1 } },
    { "overlap: later segment only fills the hole before a queued one",
      { SYN(99), SEG(104, "BBBB"), SEG(102, "CCCCCC"), SEG(100, "AA") },
      "AACCBBBB",
      { .segments = 3, .overlap_bytes = 4, .ooo_queued = 2 } },
    { "overlap: in-order segment runs into queued bytes, queued win",
      { SYN(99), SEG(103, "XX"), SEG(100, "yyyyyy") },
      "yyyXXy",
      { .segments = 2, .overlap_bytes = 2, .ooo_queued = 1 } },
    { "overlap: in-order segment spans two queued ones",
      { SYN(99), SEG(102, "BB"), SEG(106, "DD"), SEG(100, "aaaaaaaaaa") },
      "aaBBaaDDaa",
      { .segments = 3, .overlap_bytes = 4, .ooo_queued = 2 } },
    { "overlap: queued segment spans two holes",
      { SYN(99), SEG(102, "BB"), SEG(106, "DD"), SEG(101, "cccccccc"), SEG(100, "a") },
      "acBBccDDc",
      { .segments = 4, .overlap_bytes = 4, .ooo_queued = 3 } },
    { "hole then flush",
      { SEG(100, "abc"), SEG(110, "xyz"), FLUSH },
      "abc[GAP 7]xyz",
      { .segments = 2, .ooo_queued = 1, .gaps = 1, .gap_bytes = 7 } },
    { "two holes at flush",
      { SEG(100, "a"), SEG(104, "e"), SEG(102, "c"), FLUSH },
      "a[GAP 1]c[GAP 1]e",
      { .segments = 3, .ooo_queued = 2, .gaps = 2, .gap_bytes = 2 } },
    { "hole, no flush: nothing after it yet",
      { SEG(100, "abc"), SEG(110, "xyz") },
      "abc",
      { .segments = 2, .ooo_queued = 1, .held = 1 } },
    { "wrap: in order across 2^32",
      { SYN(0xFFFFFFEFu), SEG(0xFFFFFFF0u, "0123456789"), SEG(0xFFFFFFFAu, "abcdefghij"),
        SEG(4, "KLM") },
      "0123456789abcdefghijKLM",
      { .segments = 3 } },
    { "wrap: out of order across 2^32",
      { SYN(0xFFFFFFEFu), SEG(4, "KLM"), SEG(0xFFFFFFFAu, "abcdefghij"),
        SEG(0xFFFFFFF0u, "0123456789") },
      "0123456789abcdefghijKLM",
      { .segments = 3, .ooo_queued = 2 } },
    { "wrap: retransmission across 2^32",
      { SYN(0xFFFFFFEFu), SEG(0xFFFFFFF0u, "0123456789abcdefghij"), SEG(0xFFFFFFFEu, "efgh"),
        SEG(2, "ijKL") },
      "0123456789abcdefghijKL",
      { .segments = 3, .retrans_segs = 1, .retrans_bytes = 4, .overlap_bytes = 2 } },
    { "wrap: hole across 2^32 then flush",
      { SEG(0xFFFFFFFEu, "ab"), SEG(2, "yz"), FLUSH },
      "ab[GAP 2]yz",
      { .segments = 2, .ooo_queued = 1, .gaps = 1, .gap_bytes = 2 } },
    { "peer ack past a hole, then later data: gap at once",
      { SEG(100, "abc"), ACK(110), SEG(110, "xyz") },
      "abc[GAP 7]xyz",
      { .segments = 2, .gaps = 1, .gap_bytes = 7 } },
    { "peer ack ahead with nothing queued: no gap, data was just behind the ack",
      { SEG(100, "abc"), ACK(106), SEG(103, "def") },
      "abcdef",
      { .segments = 2 } },
    { "peer ack reaching a queued segment: gap and drain",
      { SEG(100, "abc"), SEG(110, "xyz"), ACK(110) },
      "abc[GAP 7]xyz",
      { .segments = 2, .ooo_queued = 1, .gaps = 1, .gap_bytes = 7 } },
    { "peer ack one short of a queued segment: no gap",
      { SEG(100, "abc"), SEG(110, "xyz"), ACK(109) },
      "abc",
      { .segments = 2, .ooo_queued = 1, .held = 1 } },
    { "peer ack short of a later segment: it is queued",
      { SEG(100, "abc"), ACK(109), SEG(110, "xyz") },
      "abc",
      { .segments = 2, .ooo_queued = 1, .held = 1 } },
    { "peer ack covering several holes",
      { SEG(100, "a"), SEG(102, "c"), SEG(104, "e"), SEG(107, "h"), ACK(104) },
      "a[GAP 1]c[GAP 1]e",
      { .segments = 4, .ooo_queued = 3, .gaps = 2, .gap_bytes = 2, .held = 1 } },
    { "peer ack exactly 1 GiB ahead is believed",
      { SEG(100, "abc"), ACK(ACK_MAX), SEG(110, "xyz") },
      "abc[GAP 7]xyz",
      { .segments = 2, .gaps = 1, .gap_bytes = 7 } },
    { "peer ack more than 1 GiB ahead is ignored",
      { SEG(100, "abc"), ACK(ACK_MAX + 1), SEG(110, "xyz") },
      "abc",
      { .segments = 2, .ooo_queued = 1, .held = 1 } },
    { "peer ack before the stream started is ignored",
      { ACK(200), SEG(100, "abc"), SEG(110, "xyz") },
      "abc",
      { .segments = 2, .ooo_queued = 1, .held = 1 } },
    { "peer ack passed by delivery is stale",
      { SEG(100, "abc"), ACK(110), SEG(103, "defghijklmnop"), SEG(120, "z") },
      "abcdefghijklmnop",
      { .segments = 3, .ooo_queued = 1, .held = 1 } },
    { "lower peer ack does not replace a higher one",
      { SEG(100, "abc"), ACK(110), ACK(105), SEG(110, "xyz") },
      "abc[GAP 7]xyz",
      { .segments = 2, .gaps = 1, .gap_bytes = 7 } },
    { "data after FIN dropped",
      { SEG_FIN(100, "abc"), SEG(103, "def"), SEG(101, "bcd") },
      "abc",
      { .segments = 3, .after_fin_bytes = 4, .retrans_segs = 1, .retrans_bytes = 2 } },
    { "bare FIN then data past it",
      { SEG(100, "abc"), SEG_FIN(103, NULL), SEG(103, "de") },
      "abc",
      { .segments = 2, .after_fin_bytes = 2 } },
    { "FIN ahead cuts a later in-order segment",
      { SYN(99), SEG_FIN(103, NULL), SEG(100, "abcdef") },
      "abc",
      { .segments = 1, .after_fin_bytes = 3 } },
    { "FIN drops queued data past it",
      { SYN(99), SEG(110, "zz"), SEG(100, "ab"), SEG_FIN(107, NULL), SEG(102, "cdefg") },
      "abcdefg",
      { .segments = 3, .ooo_queued = 1, .after_fin_bytes = 2 } },
    { "FIN at the start of a queued segment drops it",
      { SYN(99), SEG(102, "cdefg"), SEG_FIN(100, "ab"), FLUSH },
      "ab",
      { .segments = 2, .ooo_queued = 1, .after_fin_bytes = 5 } },
    { "FIN cuts the middle of a queued segment",
      { SYN(99), SEG(102, "cdefg"), SEG_FIN(104, NULL), SEG(100, "ab") },
      "abcd",
      { .segments = 2, .ooo_queued = 1, .after_fin_bytes = 3 } },
    { "a later FIN does not move the end",
      { SEG_FIN(100, "abc"), SEG_FIN(110, NULL), SEG(103, "de") },
      "abc",
      { .segments = 2, .after_fin_bytes = 2 } },
    { "a FIN behind delivered data is ignored",
      { SEG(100, "abcdef"), SEG_FIN(102, NULL), SEG(106, "gh") },
      "abcdefgh",
      { .segments = 2 } },
    { "an ack of fin_seq + 1 is not a hole",
      { SEG_FIN(100, "abc"), ACK(104), SEG(104, "x"), FLUSH },
      "abc",
      { .segments = 2, .after_fin_bytes = 1 } },
    { "FIN before the stream started is ignored",
      { SEG_FIN(90, NULL), SEG(100, "abc") },
      "abc",
      { .segments = 1 } },
    { "pure ACK segment is not data",
      { SEG(100, "abc"), SEG(300, ""), SEG(103, "d") },
      "abcd",
      { .segments = 2 } },
    { "cut segment in order",
      { SEG_CUT(100, "abc", 3), SEG(106, "ghi") },
      "abc[GAP 3]ghi",
      { .segments = 2, .gaps = 1, .gap_bytes = 3 } },
    { "cut segment out of order",
      { SYN(99), SEG_CUT(104, "xy", 2), SEG(100, "abcd"), SEG(108, "z") },
      "abcdxy[GAP 2]z",
      { .segments = 3, .ooo_queued = 1, .gaps = 1, .gap_bytes = 2 } },
    { "cut segment queued behind a hole, flushed",
      { SEG(100, "a"), SEG_CUT(105, "xy", 2), FLUSH },
      "a[GAP 4]xy[GAP 2]",
      { .segments = 2, .ooo_queued = 1, .gaps = 2, .gap_bytes = 6 } },
    { "fully cut segment in order",
      { SEG(100, "ab"), SEG_CUT(102, NULL, 5), SEG(107, "cd") },
      "ab[GAP 5]cd",
      { .segments = 3, .gaps = 1, .gap_bytes = 5 } },
    { "hole next to a cut segment makes one gap",
      { SEG(100, "a"), SEG_CUT(102, NULL, 3), SEG(105, "z"), FLUSH },
      "a[GAP 4]z",
      { .segments = 3, .ooo_queued = 2, .gaps = 1, .gap_bytes = 4 } },
    { "a cut is a first copy: a later full copy does not fill it",
      { SYN(99), SEG_CUT(104, "xy", 2), SEG(104, "xyZW"), SEG(100, "abcd") },
      "abcdxy[GAP 2]",
      { .segments = 3,
        .ooo_queued = 1,
        .retrans_segs = 1,
        .retrans_bytes = 4,
        .gaps = 1,
        .gap_bytes = 2 } },
    { "cut tail of an in-order segment meets queued bytes, queued win",
      { SYN(99), SEG(103, "XY"), SEG_CUT(100, "ab", 4) },
      "ab[GAP 1]XY[GAP 1]",
      { .segments = 2, .ooo_queued = 1, .overlap_bytes = 2, .gaps = 2, .gap_bytes = 2 } },
};

static void run_scenario(const struct scenario *sc)
{
    struct fx f;
    fx_init(&f);
    for (size_t i = 0; i < sizeof sc->ops / sizeof sc->ops[0] && sc->ops[i].kind != OP_END; i++) {
        const struct op *op = &sc->ops[i];
        size_t len = op->data != NULL ? strlen(op->data) : 0;
        switch (op->kind) {
        case OP_SYN:
            reasm_syn(&f.r, op->seq);
            break;
        case OP_SEG:
            reasm_segment(&f.r, &f.rc, &f.out, op->seq, (const uint8_t *)op->data, len,
                          len + op->cut, op->is_fin);
            break;
        case OP_ACK:
            reasm_peer_ack(&f.r, &f.rc, &f.out, op->seq);
            break;
        case OP_FLUSH:
            reasm_flush(&f.r, &f.rc, &f.out);
            break;
        case OP_END:
            break;
        }
    }
    if (!log_is(&f, sc->log)) {
        fprintf(stderr, "  log: \"%.*s\", want \"%s\"\n", (int)f.rec.len, (const char *)f.rec.log,
                sc->log);
        CHECK(log_is(&f, sc->log));
    }
    CHECK_EQ_U(f.rc.st.segments, sc->w.segments);
    CHECK_EQ_U(f.rc.st.retrans_segs, sc->w.retrans_segs);
    CHECK_EQ_U(f.rc.st.retrans_bytes, sc->w.retrans_bytes);
    CHECK_EQ_U(f.rc.st.overlap_bytes, sc->w.overlap_bytes);
    CHECK_EQ_U(f.rc.st.ooo_queued, sc->w.ooo_queued);
    CHECK_EQ_U(f.rc.st.ooo_limit, 0);
    CHECK_EQ_U(f.rc.st.gaps, sc->w.gaps);
    CHECK_EQ_U(f.rc.st.gap_bytes, sc->w.gap_bytes);
    CHECK_EQ_U(f.rc.st.after_fin_bytes, sc->w.after_fin_bytes);
    CHECK_EQ_U(f.r.ooo_segs, sc->w.held);
    fx_fini(&f);
}

static void test_scenarios(void)
{
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
        run_scenario(&scenarios[i]);
        CASE_DONE(scenarios[i].name);
    }
}

/* ---- orderings ---- */

/* Next permutation of idx[0..n) in lexicographic order; false after the last. */
static bool next_perm(size_t *idx, size_t n)
{
    size_t i = n - 1;
    while (i > 0 && idx[i - 1] >= idx[i]) {
        i--;
    }
    if (i == 0) {
        return false;
    }
    size_t j = n - 1;
    while (idx[j] <= idx[i - 1]) {
        j--;
    }
    size_t t = idx[i - 1];
    idx[i - 1] = idx[j];
    idx[j] = t;
    for (size_t a = i, b = n - 1; a < b; a++, b--) {
        t = idx[a];
        idx[a] = idx[b];
        idx[b] = t;
    }
    return true;
}

static void test_permutations_disjoint(void)
{
    static const struct {
        uint32_t seq;
        const char *data;
    } segs[3] = { { 100, "abc" }, { 103, "def" }, { 106, "ghi" } };
    size_t idx[3] = { 0, 1, 2 };
    int count = 0;
    do {
        struct fx f;
        fx_init(&f);
        reasm_syn(&f.r, 99);
        for (size_t i = 0; i < 3; i++) {
            seg(&f, segs[idx[i]].seq, segs[idx[i]].data);
        }
        CHECK(log_is(&f, "abcdefghi"));
        CHECK_EQ_U(f.rc.st.gaps, 0);
        CHECK_EQ_U(f.r.ooo_segs, 0);
        CHECK_EQ_U(f.rc.mem_used, 0);
        fx_fini(&f);
        count++;
    } while (next_perm(idx, 3));
    CHECK_EQ_U(count, 6);
}

/* Overlapping segments with different contents: in every arrival order each byte comes from
 * the first segment to arrive that holds it. */
static void test_permutations_first_copy_wins(void)
{
    static const struct {
        uint32_t seq;
        const char *data;
    } segs[4] = { { 100, "aaaaaa" }, { 103, "bbbbbb" }, { 105, "ccccccc" }, { 101, "dd" } };
    size_t idx[4] = { 0, 1, 2, 3 };
    int count = 0;
    do {
        char want[13];
        memset(want, 0, sizeof want);
        for (size_t i = 0; i < 4; i++) {
            const char *d = segs[idx[i]].data;
            for (size_t k = 0; d[k] != '\0'; k++) {
                size_t pos = segs[idx[i]].seq - 100 + k;
                if (want[pos] == 0) {
                    want[pos] = d[k];
                }
            }
        }
        struct fx f;
        fx_init(&f);
        reasm_syn(&f.r, 99);
        for (size_t i = 0; i < 4; i++) {
            seg(&f, segs[idx[i]].seq, segs[idx[i]].data);
        }
        CHECK(log_is(&f, want));
        CHECK_EQ_U(f.rc.st.gaps, 0);
        CHECK_EQ_U(f.r.ooo_segs, 0);
        /* Every byte past the 12 distinct ones was dropped as a duplicate. */
        CHECK_EQ_U(f.rc.st.overlap_bytes + f.rc.st.retrans_bytes, 6 + 6 + 7 + 2 - 12);
        fx_fini(&f);
        count++;
    } while (next_perm(idx, 4));
    CHECK_EQ_U(count, 24);
}

static void test_split_points(void)
{
    static const char stream[] = "AUTH PLAIN AGFsaWNlAHMzY3IzdA==\r\nQUIT\r\n";
    const size_t n = sizeof stream - 1;
    const uint8_t *p = (const uint8_t *)stream;
    for (size_t k = 1; k < n; k++) {
        struct fx whole;
        struct fx halves;
        struct fx swapped;
        fx_init(&whole);
        fx_init(&halves);
        fx_init(&swapped);
        reasm_syn(&whole.r, 999);
        reasm_syn(&halves.r, 999);
        reasm_syn(&swapped.r, 999);
        reasm_segment(&whole.r, &whole.rc, &whole.out, 1000, p, n, n, false);
        reasm_segment(&halves.r, &halves.rc, &halves.out, 1000, p, k, k, false);
        reasm_segment(&halves.r, &halves.rc, &halves.out, (uint32_t)(1000 + k), p + k, n - k, n - k,
                      false);
        reasm_segment(&swapped.r, &swapped.rc, &swapped.out, (uint32_t)(1000 + k), p + k, n - k,
                      n - k, false);
        CHECK_EQ_U(swapped.rec.len, 0);
        reasm_segment(&swapped.r, &swapped.rc, &swapped.out, 1000, p, k, k, false);
        CHECK(log_is(&whole, stream));
        CHECK(logs_equal(&whole, &halves));
        CHECK(logs_equal(&whole, &swapped));
        CHECK_EQ_U(swapped.rc.st.ooo_queued, 1);
        fx_fini(&whole);
        fx_fini(&halves);
        fx_fini(&swapped);
    }
}

/* ---- delivery paths ---- */

static void test_zero_copy(void)
{
    static const uint8_t a[] = "abc";
    static const uint8_t b[] = "def";
    struct fx f;
    fx_init(&f);
    reasm_segment(&f.r, &f.rc, &f.out, 100, a, 3, 3, false);
    CHECK(f.rec.last_data == a);
    CHECK_EQ_U(f.rc.mem_used, 0);
    reasm_segment(&f.r, &f.rc, &f.out, 106, b, 3, 3, false);
    CHECK(f.rec.last_data == a);
    CHECK(f.rc.mem_used > 0);
    reasm_segment(&f.r, &f.rc, &f.out, 103, b, 3, 3, false);
    /* The in-order one went out from the caller's buffer, the queued one from a copy. */
    CHECK(f.rec.last_data != b);
    CHECK(log_is(&f, "abcdefdef"));
    CHECK_EQ_U(f.rc.mem_used, 0);
    fx_fini(&f);
}

static void test_mem_used_flush_and_free(void)
{
    struct fx f;
    fx_init(&f);
    seg(&f, 100, "a");
    seg(&f, 110, "0123456789");
    seg(&f, 130, "xyz");
    seg(&f, 125, "pq");
    CHECK_EQ_U(f.r.ooo_segs, 3);
    CHECK_EQ_U(f.r.ooo_bytes, 15);
    CHECK(f.rc.mem_used > 15);
    reasm_flush(&f.r, &f.rc, &f.out);
    CHECK_EQ_U(f.rc.mem_used, 0);
    CHECK_EQ_U(f.r.ooo_segs, 0);
    CHECK(log_is(&f, "a[GAP 9]0123456789[GAP 5]pq[GAP 3]xyz"));

    seg(&f, 140, "late");
    seg(&f, 150, "later");
    CHECK(f.rc.mem_used > 0);
    size_t before = f.rec.len;
    reasm_free(&f.r, &f.rc);
    CHECK_EQ_U(f.rc.mem_used, 0);
    CHECK_EQ_U(f.rec.len, before);
    CHECK(f.r.ooo == NULL);
    reasm_free(NULL, &f.rc);
    fx_fini(&f);
}

/* Stream offsets are 64-bit: five 1 GiB claims (all cut) run past 4 GiB and wrap the
 * sequence space. A claim longer than 1 GiB is cut to 1 GiB. */
static void test_offset_past_4gib(void)
{
    const size_t gib = (size_t)1 << 30;
    struct fx f;
    fx_init(&f);
    uint32_t seq = 0xFFFFFF00u;
    seg(&f, seq, "a");
    seq++;
    for (int i = 0; i < 5; i++) {
        reasm_segment(&f.r, &f.rc, &f.out, seq, NULL, 0, gib, false);
        seq += (uint32_t)gib;
    }
    seg(&f, seq, "b");
    CHECK_EQ_U(reasm_offset(&f.r), 2 + 5 * (uint64_t)gib);
    CHECK_EQ_U(f.rc.st.gaps, 5);
    CHECK_EQ_U(f.rc.st.gap_bytes, 5 * (uint64_t)gib);
    CHECK_EQ_U(f.rc.st.bytes_delivered, 2);
    fx_fini(&f);

    fx_init(&f);
    seg(&f, 100, "a");
    reasm_segment(&f.r, &f.rc, &f.out, 101, NULL, 0, gib + 1, false);
    CHECK_EQ_U(f.rc.st.gap_bytes, gib);
    CHECK_EQ_U(reasm_offset(&f.r), 1 + (uint64_t)gib);
    /* caplen larger than seg_len: the shorter wins. */
    reasm_segment(&f.r, &f.rc, &f.out, (uint32_t)(101 + gib), (const uint8_t *)"xyz", 3, 2, false);
    CHECK_EQ_U(f.rc.st.bytes_delivered, 3);
    fx_fini(&f);
}

/* ---- limits ---- */

#define BIG_SEG ((size_t)64 * 1024)

static uint8_t big[BIG_SEG];

/* Queues REASM_MAX_OOO_BYTES exactly as four 64 KiB segments with 1-byte holes before each:
 * at the bound nothing is forced. One more byte forces a gap before the first, which is
 * delivered, and then the byte fits. */
static void test_ooo_byte_limit(void)
{
    struct fx f;
    fx_init(&f);
    for (size_t i = 0; i < BIG_SEG; i++) {
        big[i] = (uint8_t)('A' + i % 26);
    }
    reasm_syn(&f.r, 999);
    uint32_t seq = 1001;
    for (int i = 0; i < 4; i++) {
        reasm_segment(&f.r, &f.rc, &f.out, seq, big, BIG_SEG, BIG_SEG, false);
        seq += (uint32_t)BIG_SEG + 1;
    }
    CHECK_EQ_U(4 * BIG_SEG, REASM_MAX_OOO_BYTES);
    CHECK_EQ_U(f.r.ooo_bytes, REASM_MAX_OOO_BYTES);
    CHECK_EQ_U(f.rc.st.ooo_limit, 0);
    CHECK_EQ_U(f.rec.len, 0);

    seg(&f, seq, "!");
    CHECK_EQ_U(f.rc.st.ooo_limit, 1);
    CHECK_EQ_U(f.rc.st.gaps, 1);
    CHECK_EQ_U(f.rc.st.gap_bytes, 1);
    CHECK_EQ_U(f.rc.st.bytes_delivered, BIG_SEG);
    CHECK_EQ_U(f.r.ooo_bytes, 3 * BIG_SEG + 1);
    CHECK_EQ_U(f.r.ooo_segs, 4);
    CHECK(f.r.ooo_bytes <= REASM_MAX_OOO_BYTES);
    reasm_flush(&f.r, &f.rc, &f.out);
    CHECK_EQ_U(f.rc.st.bytes_delivered, 4 * BIG_SEG + 1);
    CHECK_EQ_U(f.rc.st.gaps, 5);
    CHECK_EQ_U(reasm_offset(&f.r), 4 * BIG_SEG + 5 + 1);
    fx_fini(&f);
}

/* A segment larger than the whole per-direction budget can never be queued: the gap goes up
 * to the segment itself and it is delivered. */
static void test_ooo_oversized_segment(void)
{
    const size_t len = REASM_MAX_OOO_BYTES + 1;
    uint8_t *p = xcalloc(1, len);
    struct fx f;
    fx_init(&f);
    seg(&f, 100, "a");
    seg(&f, 105, "e");
    reasm_segment(&f.r, &f.rc, &f.out, 110, p, len, len, false);
    CHECK_EQ_U(f.rc.st.ooo_limit, 2);
    CHECK_EQ_U(f.rc.st.gaps, 2);
    CHECK_EQ_U(f.rc.st.gap_bytes, 4 + 4);
    CHECK_EQ_U(f.rc.st.bytes_delivered, 2 + len);
    CHECK_EQ_U(f.r.ooo_segs, 0);
    CHECK_EQ_U(f.rc.mem_used, 0);
    fx_fini(&f);
    free(p);
}

static void test_ooo_seg_limit(void)
{
    struct fx f;
    fx_init(&f);
    reasm_syn(&f.r, 999);
    for (uint32_t i = 0; i < REASM_MAX_OOO_SEGS; i++) {
        seg(&f, 1001 + 2 * i, "x");
    }
    CHECK_EQ_U(f.r.ooo_segs, REASM_MAX_OOO_SEGS);
    CHECK_EQ_U(f.rc.st.ooo_limit, 0);
    CHECK_EQ_U(f.rec.len, 0);

    seg(&f, 1001 + 2 * REASM_MAX_OOO_SEGS, "y");
    CHECK_EQ_U(f.rc.st.ooo_limit, 1);
    CHECK_EQ_U(f.rc.st.gaps, 1);
    CHECK(log_is(&f, "[GAP 1]x"));
    CHECK_EQ_U(f.r.ooo_segs, REASM_MAX_OOO_SEGS);
    reasm_flush(&f.r, &f.rc, &f.out);
    CHECK_EQ_U(f.rc.st.gaps, 1 + REASM_MAX_OOO_SEGS);
    CHECK_EQ_U(f.rc.st.bytes_delivered, REASM_MAX_OOO_SEGS + 1);
    fx_fini(&f);
}

/* A filler piece split around queued segments needs one node per hole: the count, not the
 * segment, must fit. */
static void test_ooo_seg_limit_pieces(void)
{
    struct fx f;
    fx_init(&f);
    reasm_syn(&f.r, 999);
    for (uint32_t i = 0; i < REASM_MAX_OOO_SEGS - 1; i++) {
        seg(&f, 1002 + 2 * i, "x");
    }
    CHECK_EQ_U(f.r.ooo_segs, REASM_MAX_OOO_SEGS - 1);
    /* Covers the holes at 1005 and 1007: two more nodes, one past the bound. */
    seg(&f, 1005, "ppp");
    CHECK_EQ_U(f.rc.st.ooo_limit, 1);
    CHECK_EQ_U(f.r.ooo_segs, REASM_MAX_OOO_SEGS);
    CHECK(log_is(&f, "[GAP 2]x"));
    reasm_flush(&f.r, &f.rc, &f.out);
    CHECK_EQ_U(f.rc.st.overlap_bytes, 1);
    fx_fini(&f);
}

static void test_memcap(void)
{
    struct fx f;
    fx_init(&f);
    f.rc.mem_cap = SIZE_MAX;
    seg(&f, 100, "a");
    seg(&f, 110, "0123456789");
    size_t one = f.rc.mem_used;
    CHECK(one > 10);
    /* Exactly at the cap: queued. */
    f.rc.mem_cap = 2 * one;
    seg(&f, 130, "ABCDEFGHIJ");
    CHECK_EQ_U(f.rc.mem_used, f.rc.mem_cap);
    CHECK_EQ_U(f.rc.st.ooo_limit, 0);
    CHECK(log_is(&f, "a"));
    /* One past: the first queued segment is given up on. */
    seg(&f, 150, "klmnopqrst");
    CHECK_EQ_U(f.rc.st.ooo_limit, 1);
    CHECK(log_is(&f, "a[GAP 9]0123456789"));
    CHECK_EQ_U(f.rc.mem_used, f.rc.mem_cap);
    CHECK_EQ_U(f.r.ooo_segs, 2);
    reasm_flush(&f.r, &f.rc, &f.out);
    CHECK(log_is(&f, "a[GAP 9]0123456789[GAP 10]ABCDEFGHIJ[GAP 10]klmnopqrst"));
    fx_fini(&f);

    /* No memory at all: every out-of-order segment forces a gap up to itself. */
    fx_init(&f);
    f.rc.mem_cap = 0;
    seg(&f, 100, "abc");
    seg(&f, 110, "xyz");
    CHECK(log_is(&f, "abc[GAP 7]xyz"));
    CHECK_EQ_U(f.rc.st.ooo_limit, 1);
    CHECK_EQ_U(f.rc.st.ooo_queued, 0);
    fx_fini(&f);
}

/* The cap is shared: one direction holding it all makes the other one skip. */
static void test_memcap_shared(void)
{
    struct fx a;
    struct fx b;
    fx_init(&a);
    fx_init(&b);
    seg(&a, 100, "a");
    seg(&a, 110, "held");
    a.rc.mem_cap = a.rc.mem_used;
    /* b runs on a's context, as the other direction of the same flow would. */
    reasm_segment(&b.r, &a.rc, &b.out, 500, (const uint8_t *)"xy", 2, 2, false);
    reasm_segment(&b.r, &a.rc, &b.out, 510, (const uint8_t *)"zz", 2, 2, false);
    CHECK(log_is(&b, "xy[GAP 8]zz"));
    CHECK_EQ_U(a.rc.st.ooo_limit, 1);
    CHECK_EQ_U(b.r.ooo_segs, 0);
    CHECK_EQ_U(a.r.ooo_segs, 1);
    CHECK(log_is(&a, "a"));
    reasm_free(&a.r, &a.rc);
    reasm_free(&b.r, &a.rc);
    CHECK_EQ_U(a.rc.mem_used, 0);
    free(a.rec.log);
    free(b.rec.log);
}

/* ---- randomized ---- */

static uint64_t rng_state;

static uint64_t rng(void)
{
    /* xorshift64: fixed seed, same run every time. */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static size_t rng_below(size_t n)
{
    return (size_t)(rng() % n);
}

#define RAND_LEN      ((size_t)64 * 1024)
#define RAND_MAX_SEGS 4096

struct rand_seg {
    size_t off;
    size_t len;
};

static uint8_t rand_stream[RAND_LEN];
static bool rand_fed[RAND_LEN];
static struct rand_seg rand_segs[RAND_MAX_SEGS];

static void rand_feed(struct fx *f, uint32_t isn, size_t off, size_t len, size_t *acked)
{
    reasm_segment(&f->r, &f->rc, &f->out, isn + 1 + (uint32_t)off, rand_stream + off, len, len,
                  false);
    for (size_t i = off; i < off + len; i++) {
        rand_fed[i] = true;
    }
    /* The receiver acks its contiguous prefix: never past a byte the capture has not seen. */
    while (*acked < RAND_LEN && rand_fed[*acked]) {
        (*acked)++;
    }
    if (rng_below(3) == 0) {
        reasm_peer_ack(&f->r, &f->rc, &f->out, isn + 1 + (uint32_t)*acked);
    }
}

static void test_random_stream(void)
{
    rng_state = 0x9E3779B97F4A7C15u;
    for (int round = 0; round < 20; round++) {
        for (size_t i = 0; i < RAND_LEN; i++) {
            rand_stream[i] = (uint8_t)rng();
            rand_fed[i] = false;
        }
        size_t n = 0;
        for (size_t off = 0; off < RAND_LEN;) {
            size_t len = 1 + rng_below(round % 2 == 0 ? 1460 : 40);
            if (len > RAND_LEN - off) {
                len = RAND_LEN - off;
            }
            rand_segs[n].off = off;
            rand_segs[n].len = len;
            n++;
            off += len;
        }
        /* Shuffle within a window of 8. */
        for (size_t i = 0; i + 1 < n; i++) {
            size_t span = n - i < 8 ? n - i : 8;
            size_t j = i + rng_below(span);
            struct rand_seg t = rand_segs[i];
            rand_segs[i] = rand_segs[j];
            rand_segs[j] = t;
        }
        /* Start near 2^32 so the stream wraps the sequence space. */
        uint32_t isn = 0xFFFF8000u + (uint32_t)rng_below(0x10000);
        size_t acked = 0;
        struct fx f;
        fx_init(&f);
        reasm_syn(&f.r, isn);
        for (size_t i = 0; i < n; i++) {
            rand_feed(&f, isn, rand_segs[i].off, rand_segs[i].len, &acked);
            if (rng_below(4) == 0) {
                /* A duplicate of a nearby segment, or a resegmented copy of nearby bytes. */
                size_t k = i - rng_below(i + 1 < 16 ? i + 1 : 16);
                size_t off = rand_segs[k].off;
                size_t len = rand_segs[k].len;
                if (rng_below(2) == 0) {
                    off = off > 500 ? off - rng_below(500) : 0;
                    len = 1 + rng_below(3000);
                    if (len > RAND_LEN - off) {
                        len = RAND_LEN - off;
                    }
                }
                rand_feed(&f, isn, off, len, &acked);
            }
        }
        CHECK_EQ_U(f.r.ooo_segs, 0);
        reasm_flush(&f.r, &f.rc, &f.out);
        CHECK_EQ_U(f.rec.len, RAND_LEN);
        CHECK(f.rec.len == RAND_LEN && memcmp(f.rec.log, rand_stream, RAND_LEN) == 0);
        CHECK_EQ_U(f.rc.st.gaps, 0);
        CHECK_EQ_U(f.rc.st.ooo_limit, 0);
        CHECK_EQ_U(reasm_offset(&f.r), RAND_LEN);
        fx_fini(&f);
    }
}

/* Hostile mix: segments old and far ahead, cut, FINs, ACKs anywhere, a small and changing
 * memory cap. Every copy of a sequence number carries the same byte, so whatever comes out
 * must sit at its own stream offset, and the limits must hold after every call. */
static void test_random_chaos(void)
{
    static uint8_t buf[3000];
    struct reasm_stats sum;
    memset(&sum, 0, sizeof sum);
    rng_state = 0xD1B54A32D192ED03u;
    for (int round = 0; round < 40; round++) {
        struct fx f;
        fx_init(&f);
        uint32_t isn = (uint32_t)rng();
        f.rec.is_checking = true;
        f.rec.base_seq = isn + 1;
        reasm_syn(&f.r, isn);
        bool is_ok = true;
        for (int i = 0; i < 3000; i++) {
            f.rc.mem_cap = rng_below(8) == 0 ? rng_below(4096) : (size_t)1 << 20;
            uint32_t base = f.r.next_seq;
            uint32_t seq = base - 2000 + (uint32_t)rng_below(rng_below(4) == 0 ? 400000 : 20000);
            switch (rng_below(10)) {
            case 0:
                reasm_peer_ack(&f.r, &f.rc, &f.out, seq);
                break;
            case 1:
                if (rng_below(10) == 0) {
                    reasm_flush(&f.r, &f.rc, &f.out);
                }
                break;
            default: {
                size_t len = rng_below(rng_below(3) == 0 ? 8 : sizeof buf);
                size_t caplen = rng_below(5) == 0 ? rng_below(len + 1) : len;
                for (size_t k = 0; k < caplen; k++) {
                    buf[k] = content_at(seq + (uint32_t)k);
                }
                reasm_segment(&f.r, &f.rc, &f.out, seq, buf, caplen, len, rng_below(50) == 0);
                break;
            }
            }
            is_ok = is_ok && f.r.ooo_bytes <= REASM_MAX_OOO_BYTES &&
                    f.r.ooo_segs <= REASM_MAX_OOO_SEGS && f.rec.off == reasm_offset(&f.r);
        }
        reasm_flush(&f.r, &f.rc, &f.out);
        CHECK(is_ok);
        CHECK_EQ_U(f.rec.bad_bytes, 0);
        CHECK_EQ_U(f.r.ooo_segs, 0);
        sum.ooo_limit += f.rc.st.ooo_limit;
        sum.after_fin_bytes += f.rc.st.after_fin_bytes;
        sum.retrans_segs += f.rc.st.retrans_segs;
        sum.overlap_bytes += f.rc.st.overlap_bytes;
        sum.gaps += f.rc.st.gaps;
        sum.bytes_delivered += f.rc.st.bytes_delivered;
        fx_fini(&f);
    }
    /* The mix reached every path. */
    CHECK(sum.ooo_limit > 0);
    CHECK(sum.after_fin_bytes > 0);
    CHECK(sum.retrans_segs > 0);
    CHECK(sum.overlap_bytes > 0);
    CHECK(sum.gaps > 0);
    CHECK(sum.bytes_delivered > 0);
}

int main(void)
{
    test_scenarios();
    RUN(test_permutations_disjoint);
    RUN(test_permutations_first_copy_wins);
    RUN(test_split_points);
    RUN(test_zero_copy);
    RUN(test_mem_used_flush_and_free);
    RUN(test_offset_past_4gib);
    RUN(test_ooo_byte_limit);
    RUN(test_ooo_oversized_segment);
    RUN(test_ooo_seg_limit);
    RUN(test_ooo_seg_limit_pieces);
    RUN(test_memcap);
    RUN(test_memcap_shared);
    RUN(test_random_stream);
    RUN(test_random_chaos);
    return TEST_SUMMARY();
}
