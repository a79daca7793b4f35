/* reasm.c - TCP reassembly of one direction: ordered bytes, an out-of-order queue, gaps. */
/*
 * Sequence numbers follow RFC 9293 (RFC 793) section 3.4: they are compared modulo 2^32 with
 * the SEQ_ macros, and a stream position is kept as a 64-bit offset (next_off) so nothing
 * breaks after 4 GiB. Inside this file every queued position is held relative to next_seq
 * ("at" = seq - next_seq, as an unsigned 32-bit distance widened to 64 bits). That distance is
 * exact because next_seq never moves past the start of a queued segment: bytes are delivered
 * from the caller only up to the head of the queue, and gaps stop at it.
 *
 * Policies, as coded:
 * - Start: SYN seq gives next_seq = seq + 1; otherwise the first data segment's seq. A FIN-only
 *   segment before the stream has started is ignored (nothing to anchor it to).
 * - A segment claims [seq, seq + seg_len); its first caplen bytes are present, the rest was cut
 *   by the snap length. Claims are cut to 1 GiB so that every distance stays below 2^31.
 * - Bytes before next_seq are old. A segment with no new byte (all old, or all already queued)
 *   is a retransmission; otherwise the old and already-queued bytes it carried are overlap.
 * - First copy wins, for every byte: delivered bytes are never replaced, queued bytes are not
 *   replaced by a later copy (a later segment only fills the holes between queued ones), and a
 *   snap-length cut counts as a copy (a retransmission is cut at the same place anyway).
 * - A segment at next_seq is delivered from the caller's buffer, with no copy and no
 *   allocation; where it runs into queued bytes, those win. A segment ahead of next_seq is
 *   copied into the sorted queue, one node per hole it fills.
 * - Gaps are reported with on_gap when delivery reaches bytes that will never come: the cut
 *   tail of a segment, a hole the peer has acknowledged (RFC 9293 3.10.7.4: the receiver
 *   holds those bytes, so they will not be resent), a hole skipped because a limit was
 *   reached, and every hole at flush. Adjacent missing bytes within one call form one gap.
 * - Peer ACK: remembered when it is at or ahead of next_seq by at most 1 GiB (the largest
 *   scaled window, RFC 7323). It declares a gap only up to data of this direction that was
 *   seen: an ACK ahead with nothing queued may just have overtaken its data on a mirror port.
 *   Data past the FIN is dropped before any ACK is consulted, so the sequence number the FIN
 *   consumes (an ACK of fin_seq + 1) is never mistaken for a hole.
 * - Limits: queueing that would pass REASM_MAX_OOO_BYTES or REASM_MAX_OOO_SEGS for the
 *   direction, or the shared mem_cap (payload plus node size), forces a gap up to the first
 *   queued segment, which is then delivered; this repeats until the new segment fits or is in
 *   order. Each forced gap counts in ooo_limit.
 * - FIN: the first FIN at or after next_seq fixes fin_seq = seq + seg_len; bytes at or past
 *   it are dropped (queued ones too) and counted in after_fin_bytes.
 * Known limitation: a crafted segment up to 2 GiB ahead is queued like any other; it costs a
 * queue slot and, at flush, one large gap.
 */
#include "reasm.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "ps.h"
#include "tunables.h"

/* Longest claim of one segment, bytes. TCP segments carry at most 64 KiB (the IPv4 total
 * length; IPv6 jumbograms are not decoded); the cut keeps seq + seg_len within 2^31 of seq. */
#define REASM_SEG_MAX_LEN ((size_t)1 << 30)
/* Farthest an ACK can be ahead of next_seq and still be believed, sequence numbers: the
 * largest window RFC 7323 window scaling allows. */
#define REASM_ACK_MAX_AHEAD ((uint64_t)1 << 30)

struct reasm_seg {
    struct reasm_seg *next;
    uint32_t seq;   /* first sequence number held */
    size_t len;     /* sequence numbers held: [seq, seq + len), never 0 */
    size_t present; /* bytes in data: the first present of len; the rest was cut (a gap) */
    uint8_t data[];
};

/* One public call's delivery: missing bytes accumulate in gap_len and are reported once, just
 * before the next data or at the end of the call, so adjacent holes make one gap. */
struct emit {
    struct reasm *r;
    struct reasm_ctx *rc;
    const struct reasm_out *out;
    uint64_t gap_len;
};

/* Distance from next_seq forward to seq. */
static uint64_t seq_at(const struct reasm *r, uint32_t seq)
{
    return (uint32_t)(seq - r->next_seq);
}

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

static void emit_report_gap(struct emit *e)
{
    if (e->gap_len == 0) {
        return;
    }
    e->rc->st.gaps++;
    e->rc->st.gap_bytes += e->gap_len;
    e->out->on_gap(e->out->ctx, e->gap_len);
    e->gap_len = 0;
}

/* len sequence numbers (< 2^32) will never be seen. */
static void emit_gap(struct emit *e, uint64_t len)
{
    e->r->next_seq += (uint32_t)len;
    e->r->next_off += len;
    e->gap_len += len;
}

static void emit_data(struct emit *e, const uint8_t *data, size_t len)
{
    if (len == 0) {
        return;
    }
    emit_report_gap(e);
    e->r->next_seq += (uint32_t)len;
    e->r->next_off += len;
    e->rc->st.bytes_delivered += len;
    e->out->on_data(e->out->ctx, data, len);
}

/* len sequence numbers of which the first present bytes are in data; the rest is a gap. */
static void emit_span(struct emit *e, const uint8_t *data, size_t present, size_t len)
{
    assert(present <= len);
    emit_data(e, data, present);
    if (len > present) {
        emit_gap(e, len - present);
    }
}

/* Unlinked by the caller; undoes the accounting done when it was queued. */
static void seg_free(struct reasm *r, struct reasm_ctx *rc, struct reasm_seg *s)
{
    assert(r->ooo_segs > 0 && r->ooo_bytes >= s->present);
    assert(rc->mem_used >= sizeof *s + s->present);
    r->ooo_segs--;
    r->ooo_bytes -= s->present;
    rc->mem_used -= sizeof *s + s->present;
    free(s);
}

/* Delivers the queued segments that start at next_seq, one after another. */
static void drain(struct emit *e)
{
    struct reasm *r = e->r;
    while (r->ooo != NULL && r->ooo->seq == r->next_seq) {
        struct reasm_seg *s = r->ooo;
        r->ooo = s->next;
        emit_span(e, s->data, s->present, s->len);
        seg_free(r, e->rc, s);
    }
}

/* Moves next_off up to at least off: what the queue holds on the way is delivered, every hole
 * is a gap. Queued segments contiguous with off are delivered too. */
static void skip_to(struct emit *e, uint64_t off)
{
    struct reasm *r = e->r;
    for (;;) {
        drain(e);
        if (r->next_off >= off) {
            return;
        }
        uint64_t step = off - r->next_off;
        if (r->ooo != NULL && seq_at(r, r->ooo->seq) < step) {
            step = seq_at(r, r->ooo->seq);
        }
        /* drain() left no segment at next_seq, so the head is strictly ahead. */
        assert(step > 0);
        emit_gap(e, step);
    }
}

/* A segment starting at next_seq: len sequence numbers, the first present in data (borrowed).
 * Its bytes go out straight from data except where the queue already holds a copy. */
static void deliver(struct emit *e, const uint8_t *data, size_t present, size_t len)
{
    struct reasm *r = e->r;
    size_t off = 0;
    while (off < len) {
        struct reasm_seg *s = r->ooo;
        size_t end = len;
        if (s != NULL) {
            uint64_t s_at = seq_at(r, s->seq);
            if (s_at == 0) {
                /* The queued copy came first: it wins over the rest of this one. */
                off += min_size(s->len, len - off);
                r->ooo = s->next;
                emit_span(e, s->data, s->present, s->len);
                seg_free(r, e->rc, s);
                continue;
            }
            if (s_at < len - off) {
                end = off + (size_t)s_at;
            }
        }
        if (off < present) {
            emit_span(e, data + off, min_size(present, end) - off, end - off);
        } else {
            emit_gap(e, end - off);
        }
        off = end;
    }
    drain(e);
}

/* Walks the holes the queue leaves in the segment [at, at + len) (at relative to next_seq),
 * whose first present bytes are in data. Counts the nodes and bytes needed to hold them; when
 * do_queue, copies them into the queue. Returns the sequence numbers in those holes. */
static size_t walk_holes(struct reasm *r, struct reasm_ctx *rc, uint64_t at, const uint8_t *data,
                         size_t present, size_t len, bool do_queue, size_t *nodes, size_t *bytes)
{
    struct reasm_seg **link = &r->ooo;
    size_t off = 0;
    size_t fresh = 0;
    *nodes = 0;
    *bytes = 0;
    while (off < len) {
        struct reasm_seg *s = *link;
        size_t end = len;
        if (s != NULL) {
            uint64_t s_at = seq_at(r, s->seq);
            if (s_at + s->len <= at + off) {
                link = &s->next;
                continue;
            }
            if (s_at <= at + off) {
                off = (size_t)(s_at + s->len - at);
                link = &s->next;
                continue;
            }
            if (s_at - at < len) {
                end = (size_t)(s_at - at);
            }
        }
        size_t n_present = off < present ? min_size(present, end) - off : 0;
        fresh += end - off;
        *nodes += 1;
        *bytes += n_present;
        if (do_queue) {
            struct reasm_seg *n = xmalloc(sizeof *n + n_present);
            n->next = s;
            n->seq = r->next_seq + (uint32_t)(at + off);
            n->len = end - off;
            n->present = n_present;
            if (n_present > 0) {
                memcpy(n->data, data + off, n_present);
            }
            *link = n;
            link = &n->next;
            r->ooo_segs++;
            r->ooo_bytes += n_present;
            rc->mem_used += sizeof *n + n_present;
        }
        off = end;
    }
    return fresh;
}

/* Whether nodes more nodes holding bytes more payload bytes stay within every limit. */
static bool queue_fits(const struct reasm *r, const struct reasm_ctx *rc, size_t nodes,
                       size_t bytes)
{
    assert(r->ooo_bytes <= REASM_MAX_OOO_BYTES && r->ooo_segs <= REASM_MAX_OOO_SEGS);
    size_t mem = bytes + nodes * sizeof(struct reasm_seg);
    return bytes <= REASM_MAX_OOO_BYTES - r->ooo_bytes &&
           nodes <= (size_t)REASM_MAX_OOO_SEGS - r->ooo_segs && rc->mem_used <= rc->mem_cap &&
           mem <= rc->mem_cap - rc->mem_used;
}

/* Whether the peer acknowledged every byte before the position at (ahead of next_seq). */
static bool peer_acked(const struct reasm *r, uint64_t at)
{
    if (!r->has_peer_ack) {
        return false;
    }
    uint64_t ack_at = seq_at(r, r->peer_ack);
    return ack_at <= REASM_ACK_MAX_AHEAD && ack_at >= at;
}

/* The first FIN at or after next_seq fixes the end; queued bytes past it are dropped. */
static void note_fin(struct reasm *r, struct reasm_ctx *rc, uint32_t fin_seq)
{
    if (r->has_fin || SEQ_LT(fin_seq, r->next_seq)) {
        return;
    }
    r->has_fin = true;
    r->fin_seq = fin_seq;
    uint64_t fin_at = seq_at(r, fin_seq);
    struct reasm_seg **link = &r->ooo;
    while (*link != NULL) {
        struct reasm_seg *s = *link;
        uint64_t s_at = seq_at(r, s->seq);
        if (s_at >= fin_at) {
            *link = s->next;
            rc->st.after_fin_bytes += s->len;
            seg_free(r, rc, s);
            continue;
        }
        if (s_at + s->len > fin_at) {
            size_t keep = (size_t)(fin_at - s_at);
            rc->st.after_fin_bytes += s->len - keep;
            s->len = keep;
            if (s->present > keep) {
                r->ooo_bytes -= s->present - keep;
                rc->mem_used -= s->present - keep;
                s->present = keep;
            }
        }
        link = &s->next;
    }
}

void reasm_init(struct reasm *r)
{
    memset(r, 0, sizeof *r);
    r->ooo = NULL;
}

void reasm_syn(struct reasm *r, uint32_t seq)
{
    if (r->is_started) {
        return;
    }
    r->next_seq = seq + 1;
    r->is_started = true;
}

void reasm_segment(struct reasm *r, struct reasm_ctx *rc, const struct reasm_out *out, uint32_t seq,
                   const uint8_t *data, size_t caplen, size_t seg_len, bool is_fin)
{
    struct emit e = { r, rc, out, 0 };

    seg_len = min_size(seg_len, REASM_SEG_MAX_LEN);
    caplen = data == NULL ? 0 : min_size(caplen, seg_len);
    if (!r->is_started) {
        if (seg_len == 0) {
            return;
        }
        r->next_seq = seq;
        r->is_started = true;
    }
    if (is_fin) {
        note_fin(r, rc, seq + (uint32_t)seg_len);
    }
    if (seg_len == 0) {
        return;
    }
    rc->st.segments++;

    /* Cut what is before next_seq (old) and what is at or past the FIN. */
    size_t old = 0;
    if (SEQ_LT(seq, r->next_seq)) {
        old = min_size((uint32_t)(r->next_seq - seq), seg_len);
    }
    size_t len = seg_len - old;
    size_t present = caplen > old ? caplen - old : 0;
    if (present > 0) {
        data += old;
    }
    uint64_t at = old > 0 ? 0 : seq_at(r, seq);
    if (r->has_fin && len > 0) {
        uint64_t fin_at = seq_at(r, r->fin_seq);
        size_t after = 0;
        if (at >= fin_at) {
            after = len;
        } else if (at + len > fin_at) {
            after = (size_t)(at + len - fin_at);
        }
        rc->st.after_fin_bytes += after;
        len -= after;
        present = min_size(present, len);
    }

    size_t nodes = 0;
    size_t bytes = 0;
    size_t fresh = len > 0 ? walk_holes(r, rc, at, data, present, len, false, &nodes, &bytes) : 0;
    size_t dup = old + (len - fresh);
    if (fresh == 0) {
        if (dup > 0) {
            rc->st.retrans_segs++;
            rc->st.retrans_bytes += dup;
        }
        return;
    }
    rc->st.overlap_bytes += dup;

    uint64_t seg_off = r->next_off + at;
    if (at > 0 && peer_acked(r, at)) {
        /* The receiver holds everything before this segment: the capture missed it. */
        skip_to(&e, seg_off);
    }
    for (;;) {
        if (r->next_off >= seg_off) {
            /* In order now; anything before next_off was held in the queue. */
            size_t skip = (size_t)(r->next_off - seg_off);
            if (skip < len) {
                deliver(&e, present > skip ? data + skip : data,
                        present > skip ? present - skip : 0, len - skip);
            }
            break;
        }
        at = seg_off - r->next_off;
        walk_holes(r, rc, at, data, present, len, false, &nodes, &bytes);
        if (queue_fits(r, rc, nodes, bytes)) {
            walk_holes(r, rc, at, data, present, len, true, &nodes, &bytes);
            rc->st.ooo_queued++;
            break;
        }
        rc->st.ooo_limit++;
        uint64_t target = seg_off;
        if (r->ooo != NULL && r->next_off + seq_at(r, r->ooo->seq) < target) {
            target = r->next_off + seq_at(r, r->ooo->seq);
        }
        skip_to(&e, target);
    }
    emit_report_gap(&e);
}

void reasm_peer_ack(struct reasm *r, struct reasm_ctx *rc, const struct reasm_out *out,
                    uint32_t ack)
{
    if (!r->is_started) {
        return;
    }
    /* Behind next_seq tells nothing new; too far ahead is crafted. */
    if (seq_at(r, ack) > REASM_ACK_MAX_AHEAD) {
        return;
    }
    /* Keep the highest; a stored ACK that delivery has passed is stale and is replaced. */
    if (r->has_peer_ack && seq_at(r, r->peer_ack) <= REASM_ACK_MAX_AHEAD &&
        SEQ_GT(r->peer_ack, ack)) {
        return;
    }
    r->peer_ack = ack;
    r->has_peer_ack = true;

    struct emit e = { r, rc, out, 0 };
    while (r->ooo != NULL && peer_acked(r, seq_at(r, r->ooo->seq))) {
        skip_to(&e, r->next_off + seq_at(r, r->ooo->seq));
    }
    emit_report_gap(&e);
}

void reasm_flush(struct reasm *r, struct reasm_ctx *rc, const struct reasm_out *out)
{
    struct emit e = { r, rc, out, 0 };
    while (r->ooo != NULL) {
        skip_to(&e, r->next_off + seq_at(r, r->ooo->seq));
    }
    emit_report_gap(&e);
}

void reasm_free(struct reasm *r, struct reasm_ctx *rc)
{
    if (r == NULL) {
        return;
    }
    while (r->ooo != NULL) {
        struct reasm_seg *s = r->ooo;
        r->ooo = s->next;
        seg_free(r, rc, s);
    }
}
