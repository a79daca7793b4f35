/* decode.h - link, VLAN, tunnels, IPv4/IPv6 and TCP headers of one captured packet into a
 * struct pkt.
 *
 * decode allocates nothing and keeps no globals: it reads the captured bytes through rd.h and
 * fills a view that points into them. Tunnels (MPLS, PPPoE, GRE, ERSPAN, VXLAN, Geneve, IP in
 * IP, Teredo) are peeled, and the view is the innermost TCP segment. Anything that is not a
 * well-formed TCP segment is counted in struct decode_stats and skipped. Checksums are not
 * validated: captures taken on the sending host carry blank checksums (offload).
 *
 * An IP fragment, outer or inner, stops the walk: decode_frame describes it in a struct
 * decode_frag (the IP header or IPv6 unfragmentable part, the fragment's bytes, the outer
 * context) for defrag, which copies it; the datagram defrag gives back is decoded again from
 * its IP header by decode_frame with that outer context, so the VLAN id and the layers already
 * peeled carry over. decode itself still allocates nothing. */
#ifndef PLAINSIGHT_DECODE_H
#define PLAINSIGHT_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tunables.h"

/* Link layers we decode; capture maps libpcap's DLT_ values onto these. */
enum decode_link {
    DECODE_LINK_UNKNOWN = 0,
    DECODE_LINK_ETHERNET, /* DLT_EN10MB */
    DECODE_LINK_RAW,      /* DLT_RAW / LINKTYPE_RAW: IPv4 or IPv6 by version nibble */
    DECODE_LINK_IPV4,     /* LINKTYPE_IPV4 */
    DECODE_LINK_IPV6,     /* LINKTYPE_IPV6 */
    DECODE_LINK_NULL,     /* DLT_NULL: 4-byte address family in host byte order of the writer */
    DECODE_LINK_LOOP,     /* DLT_LOOP: 4-byte address family, network byte order */
    DECODE_LINK_SLL,      /* DLT_LINUX_SLL: Linux cooked v1, 16-byte header */
    DECODE_LINK_SLL2,     /* DLT_LINUX_SLL2: Linux cooked v2, 20-byte header */
};

enum decode_status {
    DECODE_OK = 0,   /* a TCP segment: *out is filled */
    DECODE_SKIP,     /* not TCP (or a fragment when the caller takes none): counted, skip it */
    DECODE_BAD,      /* malformed or truncated headers: counted, skip it */
    DECODE_FRAGMENT, /* an IP fragment (decode_frame only): *frag is filled, counted in
                        ip_fragments; hand it to defrag */
};

/* TCP flag bits as on the wire. */
#define DECODE_TCP_FIN 0x01u
#define DECODE_TCP_SYN 0x02u
#define DECODE_TCP_RST 0x04u
#define DECODE_TCP_PSH 0x08u
#define DECODE_TCP_ACK 0x10u

/* The layers a packet arrived in, outside its innermost IP header and other than the capture's
 * own link header, outermost first: 802.1Q tags, MPLS stacks, PPPoE sessions and tunnels. A
 * layer that a tunnel's outer IP header carried (GRE, IP in IP, the UDP tunnels) keeps that
 * header's addresses. Filled only on the general path: an untagged Ethernet frame has none. */
enum decode_layer_kind {
    DECODE_LAYER_VLAN = 1, /* id: the VLAN id */
    DECODE_LAYER_MPLS,     /* id: the bottom label */
    DECODE_LAYER_MPLS_PW,  /* an Ethernet pseudowire after the stack; no id */
    DECODE_LAYER_PPPOE,    /* id: the session id */
    DECODE_LAYER_GRE,      /* id: the key, when present */
    DECODE_LAYER_GRE_UDP,  /* GRE in UDP; the GRE header itself is a layer of its own */
    DECODE_LAYER_PPTP,     /* id: the call id */
    DECODE_LAYER_ERSPAN1,  /* no id */
    DECODE_LAYER_ERSPAN2,  /* id: the session id */
    DECODE_LAYER_ERSPAN3,  /* id: the session id */
    DECODE_LAYER_VXLAN,    /* id: the VNI */
    DECODE_LAYER_GENEVE,   /* id: the VNI */
    DECODE_LAYER_IPIP,     /* IPv4 or IPv6 in IPv4 or IPv6; no id */
    DECODE_LAYER_TEREDO,   /* no id */
};

struct decode_layer {
    uint8_t kind;       /* enum decode_layer_kind */
    uint8_t ip_version; /* 4 or 6 when src and dst hold the outer IP addresses, else 0 */
    uint8_t has_id;
    uint32_t id;
    uint8_t src[16], dst[16];
};

struct decode_trail {
    uint8_t n;      /* layers in l */
    uint8_t is_cut; /* more layers than DECODE_TRAIL_MAX: the innermost ones are missing */
    struct decode_layer l[DECODE_TRAIL_MAX];
};

/* The name of a layer kind as the session record spells it ("erspan2", "vxlan", ...). */
const char *decode_layer_name(uint8_t kind);

/* The name of a layer's id ("vni", "key", "session", ...), NULL for kinds without one. */
const char *decode_layer_id_name(uint8_t kind);

/* Writes t into buf[0..cap) as a session record spells it: each layer's name, its id and a
 * tunnel's outer addresses, outermost first, comma-separated ("vlan id=10, gre
 * 192.0.2.1>198.51.100.9, erspan2 session=123"), and ", ..." when the trail was cut. Cut to cap
 * (FLOW_MAX_TUNNEL_TEXT holds a full trail); "" for an empty trail. cap > 0. */
void decode_trail_format(const struct decode_trail *t, char *buf, size_t cap);

/* One decoded TCP segment. The pointers borrow the packet's bytes: valid until the capture
 * callback returns. Addresses are 16 bytes; IPv4 uses the first 4 and zeroes the rest. */
struct pkt {
    uint64_t ts_usec;      /* capture time, microseconds since the epoch */
    uint8_t ip_version;    /* 4 or 6 */
    uint8_t tcp_flags;     /* DECODE_TCP_* */
    uint16_t sport, dport; /* host byte order */
    uint8_t src[16], dst[16];
    uint32_t seq, ack;         /* host byte order */
    uint16_t vlan;             /* innermost 802.1Q VLAN id (the last tag read, inside tunnels
                                  too), 0 if none */
    const uint8_t *l3;         /* the innermost IP header, for classifiers that want the whole
                                  packet: decoding from it alone gives the same segment */
    size_t l3_len;             /* captured bytes from l3, cut to the IP header's length */
    const uint8_t *payload;    /* captured TCP payload bytes */
    size_t payload_len;        /* bytes of payload present in the capture */
    size_t seg_len;            /* payload length the IP header claims; > payload_len when the
                                  capture's snap length cut the packet */
    uint8_t iface;             /* which live source it came from (run sets it; decode: 0) */
    struct decode_trail trail; /* keep last: decode copies only the layers in use */
};

/* UDP ports peeled as tunnels besides the defaults (VXLAN 4789 and 8472, Geneve 6081): a
 * collector that listens elsewhere (--vxlan-port, --geneve-port). Zeroed: the defaults alone. */
struct decode_config {
    uint16_t vxlan_ports[DECODE_MAX_EXTRA_PORTS];
    uint16_t geneve_ports[DECODE_MAX_EXTRA_PORTS];
    uint8_t n_vxlan, n_geneve;
};

/* What a decode carries from the layers outside an IP packet into the IP packet: for a
 * reassembled datagram, what the walk had reached when it met the fragment that completed it. */
struct decode_outer {
    uint16_t vlan; /* innermost VLAN id so far (struct pkt's vlan), 0 if none */
    uint8_t depth; /* encapsulation layers peeled so far, charged against DECODE_MAX_ENCAP */
    struct decode_trail trail; /* the layers peeled so far */
};

/* One IP fragment, as decode_frame found it. The pointers borrow the packet's bytes (valid
 * until the capture callback returns, or until the buffer of a reassembled datagram that
 * carried it is freed); defrag copies what it keeps. Addresses as in struct pkt. */
struct decode_frag {
    const uint8_t *l3;   /* the IP header: IPv4 with options, or IPv6 with the extension
                            headers before the fragment header (the unfragmentable part) */
    size_t hdr_len;      /* bytes from l3 to the fragment's data (IPv4 header, or the IPv6
                            unfragmentable part plus the 8-byte fragment header) */
    size_t unfrag_len;   /* IPv4: hdr_len; IPv6: the unfragmentable part (hdr_len - 8) */
    size_t nh_off;       /* IPv6: offset from l3 of the next-header byte that names the
                            fragment header (6, or inside the last extension header before it) */
    const uint8_t *data; /* the fragment's data: captured bytes, at most data_claim */
    size_t data_len;     /* captured bytes of data; < data_claim when the snap length cut it */
    size_t data_claim;   /* data bytes the IP header claims */
    uint32_t offset;     /* byte offset of data in the datagram (fragment offset * 8) */
    uint32_t id;         /* IPv4 identification (16 bits) or IPv6 fragment identification */
    uint8_t proto;       /* IPv4 protocol, or the fragment header's next header */
    uint8_t ip_version;  /* 4 or 6 */
    uint8_t is_more;     /* MF / M flag: more fragments follow */
    uint8_t src[16], dst[16];
    struct decode_outer outer; /* the context to decode the reassembled datagram with */
};

/* What decode made of each packet, one X(field, doc) per counter of packets: the fields of struct
 * decode_stats and the run record's "decode.<field>" counters (counters.h) are made from it.
 *
 * DECODE_OUTCOMES are exclusive: every call bumps exactly one of them (tcp on DECODE_OK, one of
 * the others on DECODE_SKIP/DECODE_BAD). DECODE_NOTES are counted besides the outcome: a
 * segment cut by the snap length, and every encapsulation layer peeled on the way in (so a
 * packet in GRE in GRE counts encap_gre twice). Each layer peeled is charged against
 * DECODE_MAX_ENCAP, except 802.1Q tags, which have DECODE_MAX_VLAN_TAGS per Ethernet header. */
#define DECODE_OUTCOMES(X)                                                                         \
    X(tcp, "TCP segments decoded (DECODE_OK)")                                                     \
    X(not_ip, "ARP, LLDP, other ethertypes (also inside tunnels), PPPoE discovery, PPP control "   \
              "protocols, MPLS OAM, non-IP loopback families")                                     \
    X(not_tcp, "IP packets carrying UDP, ICMP, ... (UDP to a tunnel port is peeled instead)")      \
    X(unknown_link, "link type decode does not know")                                              \
    X(bad_link, "link header shorter than its type needs")                                         \
    X(vlan_too_deep, "more than DECODE_MAX_VLAN_TAGS tags")                                        \
    X(bad_ipv4, "short header, version mismatch, IHL < 5, total length < IHL")                     \
    X(bad_ipv6, "short header, broken or too many extension headers")                              \
    X(ip_fragments, "IPv4 or IPv6 fragments, handed to defrag (defrag.* says what became of "      \
                    "them; without a defrag caller, skipped)")                                     \
    X(bad_tcp, "short TCP header, data offset < 5 or past the segment")                            \
    X(encap_too_deep, "more than DECODE_MAX_ENCAP encapsulation layers")                           \
    X(encap_unsupported, "tunnels recognised but not peeled: ESP, L2TP (IP 115, UDP 1701), "       \
                         "GTP-U (UDP 2152), VXLAN-GPE (UDP 4790), compressed or encrypted PPP")    \
    X(mpls_too_deep, "more than DECODE_MAX_MPLS_LABELS labels in one stack")                       \
    X(bad_mpls, "label stack or pseudowire control word cut short, nothing after the stack")       \
    X(bad_pppoe, "PPPoE session header not version 1 type 1 code 0, short, or no PPP protocol")    \
    X(bad_gre, "short GRE header, routing or strict source route bits, unknown version, PPTP "     \
               "header not as RFC 2637 has it")                                                    \
    X(bad_erspan, "short ERSPAN II/III header or platform sub-header, wrong ERSPAN version")       \
    X(bad_udp, "UDP to a tunnel port with a short header or a length field < 8")                   \
    X(bad_vxlan, "short VXLAN header, I flag clear, inner Ethernet header cut short")              \
    X(bad_geneve, "short Geneve header or options, version not 0, inner Ethernet cut short")       \
    X(bad_teredo, "Teredo authentication or origin indication cut short")
#define DECODE_NOTES(X)                                                                            \
    X(truncated, "segments whose payload the snap length cut (still decoded)")                     \
    X(ipv4_len_zero, "IPv4 total length 0 (a sending host's TSO segment): the captured bytes "     \
                     "taken as the packet (still decoded)")                                        \
    X(encap_vlan, "802.1Q/802.1ad tags peeled")                                                    \
    X(encap_mpls, "MPLS label stacks peeled (ethertype 0x8847/0x8848, GRE, PPP)")                  \
    X(encap_mpls_pw, "Ethernet pseudowires peeled after an MPLS stack (RFC 4448)")                 \
    X(encap_pppoe, "PPPoE session headers peeled (ethertype 0x8864)")                              \
    X(encap_gre, "GRE headers peeled (IP protocol 47, or in UDP)")                                 \
    X(encap_gre_udp, "GRE in UDP peeled (RFC 8086, UDP port 4754)")                                \
    X(encap_pptp, "PPTP enhanced GRE (version 1) headers peeled")                                  \
    X(encap_erspan1, "ERSPAN type I headers peeled (GRE 0x88be without a sequence number)")        \
    X(encap_erspan2, "ERSPAN type II headers peeled (GRE 0x88be with a sequence number)")          \
    X(encap_erspan3, "ERSPAN type III headers peeled (GRE 0x22eb)")                                \
    X(encap_vxlan, "VXLAN headers peeled (UDP port 4789 or 8472)")                                 \
    X(encap_geneve, "Geneve headers peeled (UDP port 6081)")                                       \
    X(encap_ipip, "IPv4 or IPv6 in IPv4 or IPv6 peeled (IP protocols 4 and 41)")                   \
    X(encap_teredo, "Teredo headers peeled (IPv6 in UDP, port 3544)")                              \
    X(udp_tunnel_like, "UDP datagrams to a port not peeled whose payload looks like VXLAN or "     \
                       "Geneve carrying Ethernet (the warning names the port: see --vxlan-port, "  \
                       "--geneve-port); their outcome stays not_tcp")                              \
    X(reassembled, "datagrams defrag reassembled, decoded again from their IP header (each "       \
                   "also counts one outcome)")
#define DECODE_STATS(X)               DECODE_OUTCOMES(X) DECODE_NOTES(X)
#define DECODE_STATS_FIELD(name, doc) uint64_t name;
struct decode_stats {
    uint64_t packets; /* packets handed to decode_packet; not a run counter (the run record's
                         own packets column counts them) */
    DECODE_STATS(DECODE_STATS_FIELD)
    uint16_t tunnel_like_port;  /* the UDP port of the last udp_tunnel_like datagram; not a run
                                   counter */
    bool is_tunnel_like_geneve; /* it looked like Geneve rather than VXLAN */
};

/* Decodes one packet of link type link from data[0..caplen). wirelen is the original length
 * (only for information; all bounds come from caplen). Borrows data; fills *out on DECODE_OK;
 * bumps exactly one DECODE_OUTCOMES counter of *st, and a DECODE_NOTES counter per layer
 * peeled. Never reads past caplen. A fragment is DECODE_SKIP (decode_frame takes it). */
enum decode_status decode_packet(enum decode_link link, const uint8_t *data, size_t caplen,
                                 size_t wirelen, uint64_t ts_usec, struct pkt *out,
                                 struct decode_stats *st);

/* As decode_packet, and besides:
 *  - cfg not NULL: its UDP tunnel ports are peeled too (decode_packet: the defaults alone);
 *  - frag not NULL: a fragment returns DECODE_FRAGMENT and fills *frag (else DECODE_SKIP);
 *  - outer not NULL: data is a datagram defrag reassembled (link DECODE_LINK_RAW), decoded
 *    with the context of the packet that completed it; counted in reassembled, not packets.
 * Untagged Ethernet with IPv4/IPv6 and TCP takes the same fast path as decode_packet. */
enum decode_status decode_frame(enum decode_link link, const uint8_t *data, size_t caplen,
                                uint64_t ts_usec, const struct decode_outer *outer, struct pkt *out,
                                struct decode_frag *frag, struct decode_stats *st,
                                const struct decode_config *cfg);

/* Why most of the packets of a run may have gone unseen: of the outcomes a user can act on
 * (IP fragments never reassembled, an unknown link type, not IP, tunnels not peeled, a tunnel on
 * a UDP port not peeled, layers past a limit), the one that counted most packets. frags_used is
 * how many of ip_fragments went into a reassembled datagram (defrag's count): those were seen
 * into. Returns a phrase that completes "N% of packets ..." (static, or written into buf[0..cap)
 * when it names a port) and sets *count to its packets and *total to the packets of all those
 * outcomes together; NULL (with both 0) when none counted a packet. */
const char *decode_blind_reason(const struct decode_stats *st, uint64_t frags_used, uint64_t *count,
                                uint64_t *total, char *buf, size_t cap);

#endif
