/* defrag.h - IPv4 and IPv6 fragment reassembly (RFC 791, RFC 8200, RFC 5722).
 *
 * Where it sits: decode stays allocation-free, so it only describes a fragment it meets (a
 * struct decode_frag from decode_frame, outer or inner: the fragmented UDP of a VXLAN underlay
 * or the fragmented IP inside a tunnel) and stops. run hands the fragment to defrag_add, which
 * copies it; when a datagram is complete defrag returns it as an owned buffer holding a plain IP
 * packet (fragment fields cleared, lengths set), which run decodes again from its IP header
 * (decode_frame with DECODE_LINK_RAW and the completing fragment's outer context: its VLAN id
 * and the layers already peeled), then hands on to flow like any packet. An unfragmented packet
 * never reaches this module: the fast path is decode's, untouched.
 *
 * A datagram in progress is keyed by (source, destination, identification, protocol) for IPv4
 * and (source, destination, identification) for IPv6 (RFC 8200 4.5); the VLAN and the tunnel
 * are not in the key, as they are not in a flow's. The header is the offset-0 fragment's (IPv4
 * options, the IPv6 unfragmentable part and its next header, as RFC 791 and RFC 8200 say).
 *
 * Overlap policy, IPv4 and IPv6 alike: a fragment covering exactly the bytes of one already held
 * is a duplicate and ignored (the first copy kept); any other overlap drops the whole datagram
 * and counts it. RFC 5722 requires this for IPv6 (with RFC 8200's errata 3089 reading for exact
 * duplicates); the Linux kernel applies it to IPv4 too since 2018 ("ip: discard IPv4 datagrams
 * with overlapping segments"), so what plainsight reassembles is what a Linux mail server would
 * have accepted, and no overlap trick can show plainsight other bytes than the server's. (RFC 791
 * lets a receiver reassemble overlaps; Suricata imitates the target's OS per host.)
 *
 * A first fragment too short to hold the TCP or UDP header (the RFC 1858 tiny fragment) is
 * reassembled for IPv4 and counted, since hosts accept it and an overlap cannot rewrite it later;
 * for IPv6, RFC 7112 says the first fragment must hold the whole header chain, and the datagram
 * is dropped and counted.
 *
 * Bounds: a datagram holds at most DEFRAG_MAX_FRAGS fragments and 65535 bytes (IPv4 total
 * length; IPv6 payload length: jumbograms are not reassembled), the table DEFRAG_MAX_DATAGRAMS
 * datagrams and its share of --memcap (cfg.memcap_bytes), every byte also charged to the flow
 * table's cap through cfg.charge. A datagram incomplete DEFRAG_TIMEOUT_SEC after its first
 * fragment (packet time, as Linux's ipfrag_time) is dropped; when a limit is reached the oldest
 * datagram goes first. A completed datagram leaves a small record behind for
 * DEFRAG_DUP_WINDOW_USEC, so copies of its fragments (a SPAN port delivering every packet twice)
 * are counted as duplicates instead of starting a datagram that never completes. Every outcome
 * is counted in struct defrag_stats. */
#ifndef PLAINSIGHT_DEFRAG_H
#define PLAINSIGHT_DEFRAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct decode_frag;
struct defrag;

/* Asks the memory cap's owner for bytes more; false when there is no room (nothing charged). */
typedef bool defrag_charge_fn(void *ctx, size_t bytes);
/* Gives bytes charged earlier back to the owner. */
typedef void defrag_release_fn(void *ctx, size_t bytes);

struct defrag_config {
    size_t memcap_bytes;        /* the most the table holds (its share of --memcap), bytes */
    defrag_charge_fn *charge;   /* NULL: nothing charged beyond memcap_bytes */
    defrag_release_fn *release; /* set when charge is */
    void *ctx;                  /* borrowed, for charge and release */
};

enum defrag_status {
    DEFRAG_HELD = 0, /* kept (or a duplicate ignored): the datagram is not complete */
    DEFRAG_DONE,     /* the datagram is complete: *out holds it */
    DEFRAG_DROPPED,  /* the fragment (or its whole datagram) was dropped: counted */
};

/* The table's counters; each is a run counter "defrag.<name>" (counters.h). Outcomes of
 * datagrams: reassembled, overlaps, too_big, too_many_frags, bad_offsets, tiny_first_v6,
 * timed_out, evicted, no_memory, incomplete_at_end; of single fragments: duplicates,
 * bad_fragments, truncated. */
#define DEFRAG_STATS(X)                                                                            \
    X(fragments, "fragments handed to defrag")                                                     \
    X(fragments_used, "fragments that went into a reassembled datagram, duplicates of them too")   \
    X(reassembled, "datagrams reassembled and decoded again")                                      \
    X(duplicates, "fragments covering exactly the bytes of one held (or just reassembled): "       \
                  "ignored, the first copy kept")                                                  \
    X(overlaps, "datagrams dropped: fragments overlapping other than exactly (RFC 5722)")          \
    X(too_big, "datagrams dropped: past 65535 bytes (IPv4 total, IPv6 payload length)")            \
    X(too_many_frags, "datagrams dropped: more than DEFRAG_MAX_FRAGS fragments")                   \
    X(bad_offsets, "datagrams dropped: two last fragments disagreeing, or a fragment past the "    \
                   "end the last one set")                                                         \
    X(bad_fragments, "fragments dropped: not last and empty or not a multiple of 8 bytes")         \
    X(truncated, "fragments dropped: cut by the snap length (their datagram cannot complete)")     \
    X(tiny_first, "IPv4 first fragments shorter than the TCP/UDP header (RFC 1858): reassembled")  \
    X(tiny_first_v6, "IPv6 datagrams dropped: first fragment without the whole TCP/UDP header "    \
                     "(RFC 7112)")                                                                 \
    X(timed_out, "datagrams dropped incomplete DEFRAG_TIMEOUT_SEC after their first fragment")     \
    X(evicted, "datagrams dropped incomplete, the oldest, for DEFRAG_MAX_DATAGRAMS or memory")     \
    X(no_memory, "datagrams dropped: no room for them even after evicting every other")            \
    X(incomplete_at_end, "datagrams still incomplete when the capture ended")                      \
    X(active_max, "high-water mark of datagrams in progress")                                      \
    X(mem_used_max, "high-water mark of bytes held (also in flow.mem_used)")

#define DEFRAG_STATS_FIELD(name, doc) uint64_t name;
struct defrag_stats {
    DEFRAG_STATS(DEFRAG_STATS_FIELD)
};

/* Returns an empty table (free with defrag_free). cfg is copied; its ctx is borrowed. Allocates
 * its hash buckets at the first fragment, so a run without fragments charges nothing. */
struct defrag *defrag_new(const struct defrag_config *cfg);

/* Releases every datagram (and its charge) and frees d. NULL does nothing. */
void defrag_free(struct defrag *d);

/* One fragment (borrowed; its bytes are copied) seen at ts_usec, packet time. First drops the
 * datagrams that timed out. On DEFRAG_DONE, *out is the reassembled IP packet, *out_len bytes:
 * returned owned (free with defrag_datagram_free), not charged; *out is NULL otherwise. */
enum defrag_status defrag_add(struct defrag *d, const struct decode_frag *f, uint64_t ts_usec,
                              uint8_t **out, size_t *out_len);

/* Frees a datagram defrag_add returned. NULL does nothing. */
void defrag_datagram_free(uint8_t *dg);

/* Drops the datagrams incomplete for DEFRAG_TIMEOUT_SEC before now_usec (live capture calls
 * this on a clock tick; defrag_add does it by itself). */
void defrag_expire(struct defrag *d, uint64_t now_usec);

/* Drops every datagram in progress, counting it in incomplete_at_end (the end of the run). */
void defrag_flush(struct defrag *d);

/* Bytes held now, all charged. */
size_t defrag_mem_used(const struct defrag *d);

/* Counters (borrowed; live as long as d). */
const struct defrag_stats *defrag_get_stats(const struct defrag *d);

#endif
