/* fuzz_reasm.c - libFuzzer target for TCP reassembly: the input is a segment script.
 *
 * Byte 0 is the mode: bit 0 makes every payload synthetic (byte = f(sequence number), taken
 * from no input; see synth_table), bits 1-7 give the shared memory cap in units of 256 bytes, so
 * the cap is often reached. Then records, as long as the input lasts: flags     1 byte: bit 0
 * direction, bit 1 SYN, bit 2 FIN, bit 3 ACK present, bit 4 the snap length cut the segment (a
 * caplen field follows), bit 5 no segment (only the SYN and ACK of the record are applied) seq 4
 * bytes, big-endian, a signed offset from the direction's ISN; the ISNs sit just below 2^32 so
 * streams wrap ack       4 bytes when ACK: a signed offset from the other direction's ISN len 2
 * bytes: the segment's length (seg_len) caplen    2 bytes when cut: the bytes present (at most len)
 *   payload   caplen bytes, unless synthetic; cut short where the input ends
 * A synthetic script ends early once it has asked for FUZZ_SYNTH_BUDGET payload bytes.
 * Both directions share one struct reasm_ctx, as the flows of a run do. The calls follow
 * flow.c: SYN, segment (at seq + 1 after a SYN), then the ACK to the other direction.
 *
 * Checked besides memory safety: deliveries are never empty, the stream offset reasm_offset
 * equals the bytes delivered plus the gap bytes after every call, the counters agree with what
 * the sink saw, with synthetic payloads every delivered byte is the one sent at its sequence
 * number (the stream starting where reasm.h says), and after flush and free nothing is held
 * (mem_used == 0). */
#include "reasm.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "tunables.h"

/* Initial sequence numbers of the two directions: a few hundred bytes below the wrap. */
#define FUZZ_ISN_0 0xffffff00u
#define FUZZ_ISN_1 0xfffff800u

/* Record flags. */
#define FUZZ_F_DIR   0x01u
#define FUZZ_F_SYN   0x02u
#define FUZZ_F_FIN   0x04u
#define FUZZ_F_ACK   0x08u
#define FUZZ_F_CUT   0x10u
#define FUZZ_F_NOSEG 0x20u

/* Synthetic payload bytes made per input before the script is cut short: each 7-byte record
 * can ask for 64 KiB, and filling that for every record would make the target crawl. */
#define FUZZ_SYNTH_BUDGET ((size_t)512 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One direction as the sink sees it. */
struct sink {
    const struct reasm *r;
    uint64_t delivered; /* bytes given to on_data */
    uint64_t gap_bytes; /* bytes reported by on_gap */
    uint64_t gaps;      /* on_gap calls */
    bool is_synthetic;  /* check the bytes against synth_table */
    bool is_started;    /* start_seq is known (mirrors reasm.h's start policy) */
    uint32_t start_seq; /* sequence number of stream offset 0 */
};

/* Synthetic payload: the byte at sequence number seq is synth_table[seq % 65536], a fixed
 * pseudo-random table stored twice over so that any run of up to 65536 bytes is one memcpy
 * (a wrong offset that is a multiple of 64 KiB would go unseen). */
#define FUZZ_SYNTH_PERIOD 65536u
static uint8_t synth_table[2 * FUZZ_SYNTH_PERIOD];
static bool is_synth_ready;

FUZZ_NO_COVERAGE static void synth_init(void)
{
    uint32_t x = 2463534242u; /* xorshift32 */
    for (size_t i = 0; i < FUZZ_SYNTH_PERIOD; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        synth_table[i] = synth_table[i + FUZZ_SYNTH_PERIOD] = (uint8_t)x;
    }
}

/* Fills p[0..len) (len <= FUZZ_SYNTH_PERIOD) with the bytes from sequence number first on. */
static void synth_fill(uint8_t *p, size_t len, uint32_t first)
{
    memcpy(p, synth_table + (first % FUZZ_SYNTH_PERIOD), len);
}

static void on_data(void *ctx, const uint8_t *data, size_t len)
{
    struct sink *k = ctx;
    FUZZ_CHECK(len > 0);
    FUZZ_CHECK(data != NULL);
    FUZZ_CHECK(k->is_started);
    if (k->is_synthetic) {
        uint64_t off = k->delivered + k->gap_bytes;
        for (size_t done = 0; done < len;) {
            uint32_t seq = k->start_seq + (uint32_t)(off + done);
            size_t n = len - done < FUZZ_SYNTH_PERIOD ? len - done : FUZZ_SYNTH_PERIOD;
            if (memcmp(data + done, synth_table + (seq % FUZZ_SYNTH_PERIOD), n) != 0) {
                fprintf(stderr, "fuzz_reasm: bytes at offset %llu (seq %u) are not those sent\n",
                        (unsigned long long)(off + done), seq);
                fuzz_fail("a delivered byte is not the byte sent at its sequence number");
            }
            done += n;
        }
    } else {
        fuzz_touch(data, len);
    }
    k->delivered += len;
}

static void on_gap(void *ctx, uint64_t len)
{
    struct sink *k = ctx;
    FUZZ_CHECK(len > 0);
    FUZZ_CHECK(k->is_started);
    k->gap_bytes += len;
    k->gaps++;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* After every public call: the stream offset is what the sink was told. */
static void check_offsets(const struct sink *k)
{
    FUZZ_CHECK(reasm_offset(k->r) == k->delivered + k->gap_bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    bool is_synthetic = (data[0] & 1u) != 0;
    if (!is_synth_ready) {
        synth_init();
        is_synth_ready = true;
    }
    struct reasm_ctx rc;
    memset(&rc, 0, sizeof rc);
    rc.mem_cap = (size_t)(data[0] >> 1) * 256;

    const uint32_t isn[2] = { FUZZ_ISN_0, FUZZ_ISN_1 };
    struct reasm r[2];
    struct sink k[2];
    struct reasm_out out[2];
    for (int d = 0; d < 2; d++) {
        reasm_init(&r[d]);
        memset(&k[d], 0, sizeof k[d]);
        k[d].r = &r[d];
        k[d].is_synthetic = is_synthetic;
        out[d].on_data = on_data;
        out[d].on_gap = on_gap;
        out[d].ctx = &k[d];
    }

    size_t synth_left = FUZZ_SYNTH_BUDGET;
    size_t off = 1;
    while (off < size) {
        uint8_t flags = data[off++];
        size_t need =
            4 + ((flags & FUZZ_F_ACK) != 0 ? 4 : 0) + 2 + ((flags & FUZZ_F_CUT) != 0 ? 2 : 0);
        if (size - off < need) {
            break;
        }
        int d = (flags & FUZZ_F_DIR) != 0 ? 1 : 0;
        uint32_t seq = isn[d] + be32(data + off);
        off += 4;
        uint32_t ack = 0;
        if ((flags & FUZZ_F_ACK) != 0) {
            ack = isn[!d] + be32(data + off);
            off += 4;
        }
        size_t seg_len = be16(data + off);
        off += 2;
        size_t caplen = seg_len;
        if ((flags & FUZZ_F_CUT) != 0) {
            size_t c = be16(data + off);
            off += 2;
            caplen = c < seg_len ? c : seg_len;
        }
        if (!is_synthetic && caplen > size - off) {
            caplen = size - off;
        }
        if (is_synthetic) {
            if (caplen > synth_left) {
                break;
            }
            synth_left -= caplen;
        }
        /* A copy of exactly the bytes present: a read past them is a heap overflow. */
        uint8_t *payload = malloc(caplen > 0 ? caplen : 1);
        FUZZ_CHECK(payload != NULL);
        if (is_synthetic) {
            synth_fill(payload, caplen, (flags & FUZZ_F_SYN) != 0 ? seq + 1 : seq);
        } else {
            memcpy(payload, data + off, caplen);
            off += caplen;
        }
        bool is_fin = (flags & FUZZ_F_FIN) != 0;
        bool has_seg = (flags & FUZZ_F_NOSEG) == 0;

        if ((flags & FUZZ_F_SYN) != 0) {
            if (!k[d].is_started) {
                k[d].is_started = true;
                k[d].start_seq = seq + 1;
            }
            reasm_syn(&r[d], seq);
            check_offsets(&k[d]);
            seq += 1;
        }
        if (has_seg && (seg_len > 0 || is_fin)) {
            if (!k[d].is_started && seg_len > 0) {
                k[d].is_started = true;
                k[d].start_seq = seq;
            }
            reasm_segment(&r[d], &rc, &out[d], seq, caplen > 0 ? payload : NULL, caplen, seg_len,
                          is_fin);
            check_offsets(&k[d]);
        }
        if ((flags & FUZZ_F_ACK) != 0) {
            reasm_peer_ack(&r[!d], &rc, &out[!d], ack);
            check_offsets(&k[!d]);
        }
        free(payload);
        check_offsets(&k[0]);
        check_offsets(&k[1]);
        FUZZ_CHECK(rc.st.bytes_delivered == k[0].delivered + k[1].delivered);
        FUZZ_CHECK(rc.st.gap_bytes == k[0].gap_bytes + k[1].gap_bytes);
        FUZZ_CHECK(rc.st.gaps == k[0].gaps + k[1].gaps);
        FUZZ_CHECK(r[0].ooo_bytes + r[1].ooo_bytes <= rc.mem_used);
        FUZZ_CHECK(rc.mem_used <= rc.mem_cap);
        for (int i = 0; i < 2; i++) {
            FUZZ_CHECK(r[i].ooo_bytes <= REASM_MAX_OOO_BYTES);
            FUZZ_CHECK(r[i].ooo_segs <= REASM_MAX_OOO_SEGS);
            FUZZ_CHECK((r[i].ooo == NULL) == (r[i].ooo_segs == 0));
        }
    }

    for (int d = 0; d < 2; d++) {
        reasm_flush(&r[d], &rc, &out[d]);
        check_offsets(&k[d]);
        FUZZ_CHECK(r[d].ooo == NULL && r[d].ooo_bytes == 0 && r[d].ooo_segs == 0);
    }
    FUZZ_CHECK(rc.mem_used == 0);
    FUZZ_CHECK(rc.st.bytes_delivered == k[0].delivered + k[1].delivered);
    FUZZ_CHECK(rc.st.gap_bytes == k[0].gap_bytes + k[1].gap_bytes);
    for (int d = 0; d < 2; d++) {
        reasm_free(&r[d], &rc);
    }
    if (rc.mem_used != 0) {
        fprintf(stderr, "fuzz_reasm: mem_used %zu after flush and free\n", rc.mem_used);
        abort();
    }
    return 0;
}
