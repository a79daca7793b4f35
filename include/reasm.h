/* reasm.h - TCP reassembly of one direction of a flow into ordered bytes, with gaps marked.
 *
 * A flow owns two struct reasm, one per direction. Segments arrive in capture order; reasm
 * delivers bytes in sequence order through struct reasm_out, zero-copy when a segment is the
 * next one expected, and holds out-of-order segments (copied) up to per-direction and global
 * limits. Sequence numbers are compared wrap-safely; progress is tracked as a 64-bit stream
 * offset so streams longer than 4 GiB are fine.
 *
 * Policies (documented in the README):
 * - start: the stream starts after the SYN's sequence number; with no SYN seen (capture
 *   started mid-stream) it starts at the first data segment seen.
 * - retransmission: bytes already delivered are dropped and counted.
 * - overlap: the first copy of a byte wins; later copies only fill holes (counted).
 * - gap: bytes that will never come are reported with on_gap(len) and the stream goes on
 *   after them. A gap is declared when the out-of-order queue passes its limit, when the peer
 *   has acknowledged past a hole and a later segment of this direction arrives, when the
 *   snap length cut a segment, and at flush.
 * - FIN: data past the FIN's sequence number is dropped and counted. */
#ifndef PLAINSIGHT_REASM_H
#define PLAINSIGHT_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Wrap-safe sequence comparisons (RFC 793 arithmetic modulo 2^32). */
#define SEQ_LT(a, b)  ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b)  ((int32_t)((uint32_t)(a) - (uint32_t)(b)) > 0)
#define SEQ_GEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) >= 0)

struct reasm_seg; /* a queued out-of-order segment; private to reasm.c */

/* One direction. Embedded in the flow; its fields are private to reasm.c. */
struct reasm {
    uint32_t next_seq; /* sequence number of the next byte to deliver */
    uint32_t fin_seq;  /* sequence number of the FIN, valid when has_fin */
    uint32_t peer_ack; /* highest ACK the other direction sent, valid when has_peer_ack */
    uint64_t next_off; /* stream offset of next_seq: bytes delivered plus gap bytes */
    bool is_started;   /* next_seq is known (SYN or first data seen) */
    bool has_fin;
    bool has_peer_ack;
    struct reasm_seg *ooo; /* out-of-order queue sorted by sequence number */
    size_t ooo_bytes;      /* payload bytes held in ooo */
    uint32_t ooo_segs;     /* segments held in ooo */
};

/* Counters over all flows, one X(field, doc) each: the fields of struct reasm_stats and the run
 * record's "reasm.<field>" counters (counters.h) are made from it. */
#define REASM_STATS(X)                                                                             \
    X(segments, "data segments handed to reasm_segment")                                           \
    X(bytes_delivered, "bytes given to on_data")                                                   \
    X(retrans_segs, "segments entirely already delivered or queued")                               \
    X(retrans_bytes, "bytes of those segments")                                                    \
    X(overlap_bytes, "bytes of partly new segments dropped because a copy was there")              \
    X(ooo_queued, "segments held out of order")                                                    \
    X(ooo_limit, "times a queue limit (per direction or memcap) forced a gap")                     \
    X(gaps, "gaps declared")                                                                       \
    X(gap_bytes, "bytes missing in those gaps")                                                    \
    X(after_fin_bytes, "bytes past the FIN, dropped")
#define REASM_STATS_FIELD(name, doc) uint64_t name;
struct reasm_stats {
    REASM_STATS(REASM_STATS_FIELD)
};

/* Shared by all flows of one run: memory accounting and counters. */
struct reasm_ctx {
    size_t mem_used; /* bytes held in out-of-order queues (payload plus node overhead) */
    size_t mem_cap;  /* when mem_used would pass it, a gap is forced instead of queueing */
    struct reasm_stats st;
};

/* Where ordered bytes go. data borrows: valid only during the call. */
typedef void reasm_data_fn(void *ctx, const uint8_t *data, size_t len);
/* len bytes of the stream will never be seen; the consumer resynchronises after them. */
typedef void reasm_gap_fn(void *ctx, uint64_t len);

struct reasm_out {
    reasm_data_fn *on_data;
    reasm_gap_fn *on_gap;
    void *ctx;
};

/* Sets *r to an empty, unstarted direction. */
void reasm_init(struct reasm *r);

/* The direction's SYN with sequence number seq: the stream starts at seq + 1. Ignored once
 * the stream has started. Data carried on the SYN is passed separately with reasm_segment
 * at seq + 1. */
void reasm_syn(struct reasm *r, uint32_t seq);

/* A segment of this direction: seg_len payload bytes starting at seq, of which the first
 * caplen are present in data (caplen <= seg_len; the rest was cut by the snap length and is a
 * gap). is_fin when the segment carries FIN. Borrows data; copies what it queues. Delivers
 * whatever became in-order through out. */
void reasm_segment(struct reasm *r, struct reasm_ctx *rc, const struct reasm_out *out, uint32_t seq,
                   const uint8_t *data, size_t caplen, size_t seg_len, bool is_fin);

/* The other direction acknowledged up to ack. Remembered to detect holes the receiver got but
 * the capture missed; may declare a gap and deliver queued bytes through out. Ignored before
 * the stream has started and for an ack more than 1 GiB ahead (crafted). */
void reasm_peer_ack(struct reasm *r, struct reasm_ctx *rc, const struct reasm_out *out,
                    uint32_t ack);

/* End of the flow: delivers every queued segment in order, with gaps for the holes, and
 * empties the queue. */
void reasm_flush(struct reasm *r, struct reasm_ctx *rc, const struct reasm_out *out);

/* Releases the queue without delivering (eviction under memory pressure uses flush first).
 * Leaves *r reusable after reasm_init. */
void reasm_free(struct reasm *r, struct reasm_ctx *rc);

/* Stream offset of the next byte to be delivered (bytes delivered plus gap bytes). */
static inline uint64_t reasm_offset(const struct reasm *r)
{
    return r->next_off;
}

#endif
