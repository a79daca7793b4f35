/* classify.h - which protocol a TCP flow speaks, and which side is the server.
 *
 * The registry's ports decide first (classify_port), through a port index built once, so the
 * fast path pays a table load per port. A flow on any other port is undecided: classify holds
 * copies of its first packets (struct classify_flow) and judges it.
 *  - When the start was seen (SYN or SYN-ACK), content decides: a server whose first bytes are
 *    a registry greeting speaks that protocol (a greeting shared by two rows waits for the
 *    client's first word); a client that speaks first is not mail unless it opens a wrapper
 *    (SOCKS5, HTTP CONNECT), LDAP or XMPP, or sends an HTTP request line.
 *  - A flow seen mid-stream whose first payload is a TLS record is not cleartext mail.
 *  - Any other flow seen mid-stream goes to nDPI, with the held packets and the next ones, until
 *    it names a protocol, CLASSIFY_MAX_DATA_PACKETS have passed, or the flow ends.
 * On a verdict of mail, the held packets are replayed by flow to the protocol's parser, so
 * nothing of the session is lost to the wait. The only module that includes nDPI's headers. */
#ifndef PLAINSIGHT_CLASSIFY_H
#define PLAINSIGHT_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pkt;
struct classify;
struct classify_flow;
struct registry_proto;

struct classify_result {
    const struct registry_proto *proto; /* NULL: not mail */
    bool is_implicit_tls;
    /* The server is the destination: of the packet asked about (classify_port), or of the
     * first held packet (classify_flow_packet, classify_flow_giveup). */
    bool is_server_dst;
    bool is_pkt_held; /* classify_flow_packet: the packet asked about was held (and is
                         replayed with the others); false when the flow held all it may */
};

enum classify_verdict {
    CLASSIFY_MORE = 0, /* no verdict yet: feed the flow's next packet */
    CLASSIFY_MAIL,     /* the result names the protocol */
    CLASSIFY_NOT_MAIL, /* another protocol, or no verdict in time */
};

/* The classifier's counters; each is a run counter "classify.<name>" (counters.h). */
#define CLASSIFY_STATS(X)                                                                          \
    X(ndpi_flows, "flows nDPI looked at")                                                          \
    X(ndpi_packets, "packets handed to nDPI")                                                      \
    X(ndpi_mail, "flows nDPI named a registry protocol")                                           \
    X(ndpi_not_mail, "flows nDPI named something else")                                            \
    X(ndpi_started, "1 once nDPI's module is set up (a lazy classifier may never)")                \
    X(ndpi_failed, "1 when setting nDPI up failed: flows it would judge are not mail")             \
    X(gave_up, "undecided flows given up while their packets came: held all they may, "            \
               "CLASSIFY_MAX_DATA_PACKETS, or FIN or RST (not those still undecided at idle "      \
               "or at the end of the capture)")                                                    \
    X(by_content, "flows named by their greeting (or, for HTTP, the client's request line)")       \
    X(client_first, "flows whose client spoke first and opened no wrapper: not mail")              \
    X(socks, "flows a client opened as a wrapper's, LDAP's or XMPP's (SOCKS5, HTTP CONNECT, "      \
             "LDAP, XMPP)")                                                                        \
    X(tls_midstream, "flows seen mid-stream whose first payload is a TLS record: not "             \
                     "cleartext mail, nDPI not asked")

#define CLASSIFY_STATS_FIELD(name, doc) uint64_t name;
struct classify_stats {
    CLASSIFY_STATS(CLASSIFY_STATS_FIELD)
};

/* Asks the flow's owner for bytes more of memory (for held packets, nDPI's state); false when
 * there is no room even after evicting others, and then nothing was charged. */
typedef bool classify_charge_fn(void *ctx, size_t bytes);

/* Returns a classifier (free with classify_free). With is_ndpi, nDPI is set up at once for
 * flows seen mid-stream; without it (port-only mode) only the registry's ports are mail and
 * classify_is_active is false. NULL when nDPI cannot be set up. */
struct classify *classify_new(bool is_ndpi);

/* A classifier that sets nDPI up when the first flow needs it: nDPI's start-up (tens of
 * milliseconds and a few MiB) is spared when every flow is judged by its port or by the
 * content rules, as in a capture whose connections start inside it. If it then fails, the
 * flows it would have judged are not mail (counted in ndpi_failed). */
struct classify *classify_new_lazy(void);

/* Looks for the registry rows whose bits (1 << registry index) rows sets, and for no other:
 * their ports, greetings, client openings and nDPI names (--protocols). All of them by
 * default. */
void classify_set_protocols(struct classify *c, uint32_t rows);
void classify_free(struct classify *c);

/* True when flows on other ports are judged (not port-only mode), lazily or not. */
bool classify_is_active(const struct classify *c);

/* True for a port the registry serves a protocol on (one table load: the fast path asks it of
 * every packet). */
bool classify_is_mail_port(const struct classify *c, uint16_t port);

/* Classifies by port alone: sport and dport of one packet. When both are registry ports the
 * lower one is the server's. Returns false (proto NULL) when neither is. */
bool classify_port(const struct classify *c, uint16_t sport, uint16_t dport,
                   struct classify_result *out);

/* Bytes of a new classify_flow, as charged against the memory cap before it is made. */
size_t classify_flow_charge_new(void);

/* Returns the state of a new undecided flow (free with classify_flow_free). Owned. */
struct classify_flow *classify_flow_new(void);

/* Bytes the flow's state holds now (its own, held packets, nDPI's): what its owner charged,
 * and releases when it frees it. */
size_t classify_flow_charged(const struct classify_flow *cf);

/* Frees cf (NULL does nothing). */
void classify_flow_free(struct classify_flow *cf);

/* One packet (borrowed) of an undecided flow; is_from_a tells which end sent it (the owner's
 * fixed naming of the two ends). Holds a copy of it, charging through charge(ctx, n), and
 * returns the verdict so far; on CLASSIFY_MAIL fills *out. When the flow holds all it may, it
 * gives up (as classify_flow_giveup) and out->is_pkt_held is false. */
enum classify_verdict classify_flow_packet(struct classify *c, struct classify_flow *cf,
                                           const struct pkt *p, bool is_from_a,
                                           classify_charge_fn *charge, void *ctx,
                                           struct classify_result *out);

/* Gives up on the flow (its end, the capture's, idle): nDPI's final word from what it saw, if
 * it looked; CLASSIFY_MAIL or CLASSIFY_NOT_MAIL. */
enum classify_verdict classify_flow_giveup(struct classify *c, struct classify_flow *cf,
                                           struct classify_result *out);

/* The held packet at *off into *p, decoded again from its IP bytes; *off starts at 0 and moves
 * to the next. Returns false past the last. *p borrows cf's buffer: valid until cf is fed or
 * freed. */
bool classify_flow_held(const struct classify_flow *cf, size_t *off, struct pkt *p);

/* Counters (borrowed). */
const struct classify_stats *classify_get_stats(const struct classify *c);

/* nDPI's version string, or "none". */
const char *classify_lib_version(void);

#endif
