/* flow.h - the bidirectional flow table: TCP segments to sessions.
 *
 * flow_packet looks a segment up by its 5-tuple, creates a flow for mail traffic (classify),
 * feeds its two reasm directions and, through them, the protocol parser, and hands each
 * finished session to the emit callback. Client is the SYN sender, else the side not on the
 * mail port. Flows end on RST, on FIN from both sides, on idle timeout, on eviction (flow
 * count or memory cap, least recently seen first) and at flow_flush_all. A session is emitted
 * only if it carried payload. Time is packet time, so offline and live runs agree. */
#ifndef PLAINSIGHT_FLOW_H
#define PLAINSIGHT_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "reasm.h"

struct classify;
struct flow_table;
struct pkt;
struct session;

/* Receives a finished session (borrowed: valid during the call; flow frees it after). */
typedef void flow_emit_fn(void *ctx, struct session *s);

/* Receives a credential event: credential i of s (borrowed, valid during the call) is ready
 * (finding_credential_is_ready), or its result changed since its last event. */
typedef void flow_cred_fn(void *ctx, struct session *s, size_t i);

struct flow_config {
    size_t max_flows;           /* FLOW_MAX_FLOWS */
    size_t memcap_bytes;        /* FLOW_MEMCAP_BYTES: flow state plus reassembly queues */
    uint32_t idle_sec;          /* FLOW_IDLE_SEC */
    struct classify *cls;       /* borrowed; NULL: the table makes its own, for the ports alone */
    uint16_t community_id_seed; /* each session's Community ID seed (--community-id-seed) */
    const char *sensor;  /* borrowed for the table's life: each session's sensor, in its uid */
    unsigned key_layers; /* FLOW_KEY_*: outer layers that tell apart flows of one 5-tuple */
};

/* What identifies a flow besides its 5-tuple (--flow-key). By default nothing: the copies a
 * mirror delivers of one packet (both directions of a port spanned, two mirror sessions, each
 * with its own VLAN tag or tunnel) are one flow, and the second copy is counted in
 * flow.duplicates. Where VLANs or tunnels separate address spaces (overlapping private
 * networks behind one VXLAN collector), they can take part in the key. */
#define FLOW_KEY_VLAN 0x1u /* the VLAN ids of the packet's tags */
#define FLOW_KEY_TUNNEL                                                                            \
    0x2u /* the tunnels' ids (VNI, GRE key, ERSPAN session, PPPoE session,                         \
            MPLS label, PPTP call) and outer addresses */

/* The table's counters; each is a run counter "flow.<name>" (counters.h). */
#define FLOW_STATS(X)                                                                              \
    X(created, "flows given an entry")                                                             \
    X(active, "flows with an entry now (not closed)")                                              \
    X(active_max, "high-water mark of active")                                                     \
    X(ended_fin, "flows ended by FIN from both sides (or a new SYN on the port pair)")             \
    X(ended_rst, "flows ended by RST")                                                             \
    X(ended_idle, "flows ended by the idle timeout")                                               \
    X(evicted, "flows ended early by the flow or memory cap")                                      \
    X(evicted_late, "segments of an evicted mail flow that came later: dropped, not made a new "   \
                    "session mid-stream (until the flow is quiet for --idle seconds)")             \
    X(not_mail_segments, "segments of flows that are not mail (skipped early)")                    \
    X(late_packets, "segments of a closed flow, absorbed")                                         \
    X(duplicates, "segments of a session that repeat the one before in their direction (same "     \
                  "seq, ack, flags and length, within FLOW_DUP_WINDOW_USEC, with data or "         \
                  "SYN/FIN/RST): a mirror's second copy, dropped")                                 \
    X(sessions_emitted, "sessions handed to the emit callback")                                    \
    X(sessions_empty, "mail-port flows with no payload, or not the protocol: not emitted")         \
    X(classified_mail, "flows on other ports classify named mail: their held packets replayed")    \
    X(mem_used, "bytes charged now: flow state, reassembly queues, TLS sniffers, IP fragments")    \
    X(mem_used_max, "high-water mark of mem_used")

#define FLOW_STATS_FIELD(name, doc) uint64_t name;
struct flow_stats {
    FLOW_STATS(FLOW_STATS_FIELD)
};

/* Returns a new table (free with flow_table_free). emit and ctx are borrowed. */
struct flow_table *flow_table_new(const struct flow_config *cfg, flow_emit_fn *emit, void *ctx);

/* Ends every flow (flushing reassembly, emitting sessions) and frees the table. NULL does
 * nothing. */
void flow_table_free(struct flow_table *ft);

/* Processes one decoded TCP segment (borrowed). Also runs idle expiry when packet time has
 * moved on by FLOW_EXPIRE_INTERVAL_USEC. */
void flow_packet(struct flow_table *ft, const struct pkt *p);

/* Asks for credential events (fn, with the emit callback's ctx) as soon as a credential is
 * ready and again when its result changes, so that a login on a session that stays open for
 * hours is written at once (live capture). A credential that the rule for sessions begun before
 * the capture may still drop waits for its answer or its session's end. NULL: none (offline
 * runs write each session whole at its end). The session's own record still follows at its end,
 * with is_published set. */
void flow_set_cred_events(struct flow_table *ft, flow_cred_fn *fn);

/* Ends flows idle since before now_usec - idle_sec (live capture calls this on a clock tick). */
void flow_expire(struct flow_table *ft, uint64_t now_usec);

/* Ends every flow, emitting its session with end reason FINDING_END_CAPTURE. */
void flow_flush_all(struct flow_table *ft);

/* Charges bytes held outside the table (IP fragments in defrag) against its memory cap, evicting
 * the oldest closed and cheap flows (never a mail session) to make room. Returns false when there
 * is no room even so; then nothing was charged. */
bool flow_mem_charge(struct flow_table *ft, size_t bytes);

/* Gives back bytes charged with flow_mem_charge. */
void flow_mem_release(struct flow_table *ft, size_t bytes);

/* Counters (borrowed; live as long as ft). */
const struct flow_stats *flow_get_stats(const struct flow_table *ft);
const struct reasm_stats *flow_get_reasm_stats(const struct flow_table *ft);
const struct parse_stats *flow_get_parse_stats(const struct flow_table *ft);

#endif
