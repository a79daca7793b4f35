/* decode.h - link, VLAN, IPv4/IPv6 and TCP headers of one captured packet into a struct pkt.
 *
 * decode allocates nothing and keeps no globals: it reads the captured bytes through rd.h and
 * fills a view that points into them. Anything that is not a well-formed TCP segment is
 * counted in struct decode_stats and skipped. Checksums are not validated: captures taken on
 * the sending host carry blank checksums (offload). */
#ifndef PLAINSIGHT_DECODE_H
#define PLAINSIGHT_DECODE_H

#include <stddef.h>
#include <stdint.h>

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
    DECODE_OK = 0, /* a TCP segment: *out is filled */
    DECODE_SKIP,   /* not TCP (or a fragment we do not reassemble): counted, skip it */
    DECODE_BAD,    /* malformed or truncated headers: counted, skip it */
};

/* TCP flag bits as on the wire. */
#define DECODE_TCP_FIN 0x01u
#define DECODE_TCP_SYN 0x02u
#define DECODE_TCP_RST 0x04u
#define DECODE_TCP_PSH 0x08u
#define DECODE_TCP_ACK 0x10u

/* One decoded TCP segment. The pointers borrow the packet's bytes: valid until the capture
 * callback returns. Addresses are 16 bytes; IPv4 uses the first 4 and zeroes the rest. */
struct pkt {
    uint64_t ts_usec;      /* capture time, microseconds since the epoch */
    uint8_t ip_version;    /* 4 or 6 */
    uint8_t tcp_flags;     /* DECODE_TCP_* */
    uint16_t sport, dport; /* host byte order */
    uint8_t src[16], dst[16];
    uint32_t seq, ack;      /* host byte order */
    uint16_t vlan;          /* innermost 802.1Q VLAN id, 0 if none */
    const uint8_t *l3;      /* the IP header, for classifiers that want the whole packet */
    size_t l3_len;          /* captured bytes from l3, cut to the IP header's length */
    const uint8_t *payload; /* captured TCP payload bytes */
    size_t payload_len;     /* bytes of payload present in the capture */
    size_t seg_len;         /* payload length the IP header claims; > payload_len when the
                               capture's snap length cut the packet */
};

/* What decode skipped, and why, one X(field, doc) per counter of packets: the fields of struct
 * decode_stats and the run record's "decode.<field>" counters (counters.h) are made from it. */
#define DECODE_STATS(X)                                                                            \
    X(tcp, "TCP segments decoded (DECODE_OK)")                                                     \
    X(not_ip, "ARP, LLDP, other ethertypes, non-IP loopback families")                             \
    X(not_tcp, "IP packets carrying UDP, ICMP, ...")                                               \
    X(unknown_link, "link type decode does not know")                                              \
    X(bad_link, "link header shorter than its type needs")                                         \
    X(vlan_too_deep, "more than DECODE_MAX_VLAN_TAGS tags")                                        \
    X(bad_ipv4, "short header, version mismatch, IHL < 5, total length < IHL")                     \
    X(bad_ipv6, "short header, broken or too many extension headers")                              \
    X(ip_fragments, "IPv4 or IPv6 fragments (not reassembled; see README limits)")                 \
    X(bad_tcp, "short TCP header, data offset < 5 or past the segment")                            \
    X(truncated, "segments whose payload the snap length cut (still decoded)")                     \
    X(ipv4_len_zero, "IPv4 total length 0 (a sending host's TSO segment): the captured bytes "     \
                     "taken as the packet (still decoded)")
#define DECODE_STATS_FIELD(name, doc) uint64_t name;
struct decode_stats {
    uint64_t packets; /* packets handed to decode_packet; not a run counter (the run record's
                         own packets column counts them) */
    DECODE_STATS(DECODE_STATS_FIELD)
};

/* Decodes one packet of link type link from data[0..caplen). wirelen is the original length
 * (only for information; all bounds come from caplen). Borrows data; fills *out on DECODE_OK;
 * bumps exactly one skip counter of *st on DECODE_SKIP/DECODE_BAD. Never reads past caplen. */
enum decode_status decode_packet(enum decode_link link, const uint8_t *data, size_t caplen,
                                 size_t wirelen, uint64_t ts_usec, struct pkt *out,
                                 struct decode_stats *st);

#endif
