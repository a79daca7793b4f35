/* test_decode.c - unit tests for decode: crafted link, VLAN, tunnel, IPv4/IPv6 and TCP packets.
 *
 * Each table row describes one packet layer by layer; build() assembles it byte by byte and
 * the row says what decode must report. Every row is then decoded again cut at every length
 * from 0 to the whole packet, each cut in a heap buffer of exactly that size (so ASan catches
 * any read past caplen), and with every byte corrupted in turn; each run must bump exactly
 * one counter that agrees with the returned status. Tunnel rows are stacks of layers
 * (MPLS, PPPoE, GRE, PPTP, ERSPAN I/II/III, VXLAN, Geneve, Teredo, IP in IP) built the same
 * way, up to DECODE_MAX_ENCAP layers and one past it. */
#include "decode.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "tunables.h"

#define T_SPORT 49152u
#define T_DPORT 25u
#define T_SEQ   0x01020304u
#define T_ACK   0xa0b0c0d0u
#define T_FLAGS (0x80u | DECODE_TCP_PSH | DECODE_TCP_ACK) /* CWR: all 8 bits are kept */
#define T_TS    1700000000123456u

#define T_MAX_TAGS 4 /* explicit tags per row; vlan_repeat adds more */
#define T_MAX_EXT  4 /* explicit IPv6 extension headers per row; ext_repeat adds more */

static const uint8_t src4[4] = { 192, 0, 2, 1 };
static const uint8_t dst4[4] = { 198, 51, 100, 25 };
static const uint8_t src6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t dst6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x25 };

#define STAT(field) offsetof(struct decode_stats, field)

struct row {
    const char *name;
    enum decode_link link;
    /* link layer */
    uint32_t af;           /* NULL/LOOP family; 0 picks 2 or 24 from ip_version */
    bool af_little_endian; /* NULL: the writer was little-endian */
    uint16_t ethertype;    /* 0 picks 0x0800 or 0x86dd from ip_version */
    size_t n_tags;         /* explicit VLAN tags, outermost first */
    uint16_t tpid[T_MAX_TAGS];
    uint16_t tci[T_MAX_TAGS];
    size_t vlan_repeat; /* then this many 0x8100 tags with ids 1, 2, ... */
    /* network layer */
    int ip_version; /* 4, 6, or 0 for a 28-byte ARP body */
    bool ihl_set;   /* use ihl as the IPv4 IHL field instead of 5 + options */
    uint8_t ihl;
    size_t ip4_opt_len; /* IPv4 option bytes (multiple of 4) */
    uint16_t frag;      /* IPv4 flags and fragment offset field */
    uint8_t proto;      /* IPv4 protocol / last IPv6 next header; 0 = TCP */
    bool l3_len_set;    /* use l3_len as IPv4 total length / IPv6 payload length */
    uint16_t l3_len;
    size_t n_ext; /* IPv6 extension headers in order */
    uint8_t ext[T_MAX_EXT];
    size_t ext_repeat; /* then this many destination options headers */
    uint16_t frag6;    /* IPv6 fragment header offset/flags field */
    /* TCP */
    bool doff_set; /* use doff as the data offset field instead of 5 + options */
    uint8_t doff;
    size_t tcp_opt_len;
    size_t payload_len;
    size_t pad;      /* bytes after the IP packet (Ethernet padding) */
    size_t snap_cut; /* bytes the snap length removes from the end */
    /* expected */
    enum decode_status want;
    size_t counter; /* STAT(field) that must be 1 */
    bool want_truncated;
    uint16_t want_vlan;
    size_t want_payload_len, want_seg_len;
};

#define OK_ROW .want = DECODE_OK, .counter = STAT(tcp)
#define MAXV   DECODE_MAX_VLAN_TAGS
#define MAXE   DECODE_MAX_IPV6_EXT

/* clang-format off */
static const struct row rows[] = {
    /* Ethernet, IPv4 */
    { "eth ipv4 tcp payload", DECODE_LINK_ETHERNET, .ip_version = 4, .frag = 0x4000,
      .payload_len = 30, OK_ROW, .want_payload_len = 30, .want_seg_len = 30 },
    { "eth ipv4 padding not payload", DECODE_LINK_ETHERNET, .ip_version = 4, .pad = 6,
      OK_ROW, .want_payload_len = 0, .want_seg_len = 0 },
    { "eth ipv4 short payload + padding", DECODE_LINK_ETHERNET, .ip_version = 4,
      .payload_len = 2, .pad = 4, OK_ROW, .want_payload_len = 2, .want_seg_len = 2 },
    { "eth ipv4 options", DECODE_LINK_ETHERNET, .ip_version = 4, .ip4_opt_len = 12,
      .payload_len = 7, OK_ROW, .want_payload_len = 7, .want_seg_len = 7 },
    { "eth ipv4 max options", DECODE_LINK_ETHERNET, .ip_version = 4, .ip4_opt_len = 40,
      .payload_len = 3, OK_ROW, .want_payload_len = 3, .want_seg_len = 3 },
    { "eth ipv4 tcp options", DECODE_LINK_ETHERNET, .ip_version = 4, .tcp_opt_len = 12,
      .payload_len = 9, OK_ROW, .want_payload_len = 9, .want_seg_len = 9 },
    { "snaplen cuts payload", DECODE_LINK_ETHERNET, .ip_version = 4, .payload_len = 100,
      .snap_cut = 60, OK_ROW, .want_truncated = true, .want_payload_len = 40,
      .want_seg_len = 100 },
    { "snaplen cuts all payload", DECODE_LINK_ETHERNET, .ip_version = 4, .payload_len = 10,
      .snap_cut = 10, OK_ROW, .want_truncated = true, .want_payload_len = 0,
      .want_seg_len = 10 },
    { "snaplen cuts padding only", DECODE_LINK_ETHERNET, .ip_version = 4, .payload_len = 4,
      .pad = 6, .snap_cut = 6, OK_ROW, .want_payload_len = 4, .want_seg_len = 4 },
    { "eth ipv4 udp", DECODE_LINK_ETHERNET, .ip_version = 4, .proto = 17, .payload_len = 4,
      .want = DECODE_SKIP, .counter = STAT(not_tcp) },
    { "eth ipv4 MF fragment", DECODE_LINK_ETHERNET, .ip_version = 4, .frag = 0x2000,
      .payload_len = 8, .want = DECODE_SKIP, .counter = STAT(ip_fragments) },
    { "eth ipv4 offset fragment", DECODE_LINK_ETHERNET, .ip_version = 4, .frag = 0x0010,
      .payload_len = 8, .want = DECODE_SKIP, .counter = STAT(ip_fragments) },
    { "eth ipv4 last fragment DF", DECODE_LINK_ETHERNET, .ip_version = 4, .frag = 0x4001,
      .payload_len = 8, .want = DECODE_SKIP, .counter = STAT(ip_fragments) },
    { "ipv4 ihl 4", DECODE_LINK_ETHERNET, .ip_version = 4, .ihl_set = true, .ihl = 4,
      .payload_len = 4,
      .want = DECODE_BAD, .counter = STAT(bad_ipv4) },
    { "ipv4 ihl 0", DECODE_LINK_ETHERNET, .ip_version = 4, .ihl_set = true, .ihl = 0,
      .payload_len = 4,
      .want = DECODE_BAD, .counter = STAT(bad_ipv4) },
    { "ipv4 total length < 20", DECODE_LINK_ETHERNET, .ip_version = 4, .l3_len_set = true,
      .l3_len = 19, .payload_len = 4, .want = DECODE_BAD, .counter = STAT(bad_ipv4) },
    { "ipv4 total length < IHL", DECODE_LINK_ETHERNET, .ip_version = 4, .ip4_opt_len = 8,
      .l3_len_set = true, .l3_len = 24, .payload_len = 4, .want = DECODE_BAD,
      .counter = STAT(bad_ipv4) },
    { "ipv4 IHL past capture", DECODE_LINK_ETHERNET, .ip_version = 4, .ihl_set = true,
      .ihl = 15, .l3_len_set = true, .l3_len = 60, .want = DECODE_BAD,
      .counter = STAT(bad_ipv4) },
    { "ethertype ipv4, version 6", DECODE_LINK_ETHERNET, .ip_version = 6, .ethertype = 0x0800,
      .want = DECODE_BAD, .counter = STAT(bad_ipv4) },
    { "ethertype ipv6, version 4", DECODE_LINK_ETHERNET, .ip_version = 4, .ethertype = 0x86dd,
      .want = DECODE_BAD, .counter = STAT(bad_ipv6) },
    { "tcp doff 4", DECODE_LINK_ETHERNET, .ip_version = 4, .doff_set = true, .doff = 4,
      .payload_len = 10,
      .want = DECODE_BAD, .counter = STAT(bad_tcp) },
    { "tcp doff 0", DECODE_LINK_ETHERNET, .ip_version = 4, .doff_set = true, .doff = 0,
      .payload_len = 10,
      .want = DECODE_BAD, .counter = STAT(bad_tcp) },
    { "tcp doff past segment", DECODE_LINK_ETHERNET, .ip_version = 4, .doff_set = true,
      .doff = 15,
      .payload_len = 30, .want = DECODE_BAD, .counter = STAT(bad_tcp) },
    { "tcp doff = segment (max options)", DECODE_LINK_ETHERNET, .ip_version = 4,
      .tcp_opt_len = 40, OK_ROW, .want_payload_len = 0, .want_seg_len = 0 },
    { "tcp doff past ip claim, captured", DECODE_LINK_ETHERNET, .ip_version = 4,
      .tcp_opt_len = 8, .l3_len_set = true, .l3_len = 20 + 24, .payload_len = 10,
      .want = DECODE_BAD, .counter = STAT(bad_tcp) },
    { "ip claims < tcp header", DECODE_LINK_ETHERNET, .ip_version = 4, .l3_len_set = true,
      .l3_len = 20 + 10, .payload_len = 10, .want = DECODE_BAD, .counter = STAT(bad_tcp) },
    { "arp", DECODE_LINK_ETHERNET, .ip_version = 0, .ethertype = 0x0806, .want = DECODE_SKIP,
      .counter = STAT(not_ip) },
    { "llc length field", DECODE_LINK_ETHERNET, .ip_version = 0, .ethertype = 0x002e,
      .want = DECODE_SKIP, .counter = STAT(not_ip) },
    /* VLAN */
    { "802.1Q", DECODE_LINK_ETHERNET, .ip_version = 4, .n_tags = 1, .tpid = { 0x8100 },
      .tci = { 0xa064 }, .payload_len = 5, OK_ROW, .want_vlan = 100, .want_payload_len = 5,
      .want_seg_len = 5 },
    { "QinQ 88a8", DECODE_LINK_ETHERNET, .ip_version = 4, .n_tags = 2,
      .tpid = { 0x88a8, 0x8100 }, .tci = { 0x00c8, 0x312c }, .payload_len = 5, OK_ROW,
      .want_vlan = 300, .want_payload_len = 5, .want_seg_len = 5 },
    { "QinQ 9100 ipv6", DECODE_LINK_ETHERNET, .ip_version = 6, .n_tags = 2,
      .tpid = { 0x9100, 0x8100 }, .tci = { 0x0fff, 0x0001 }, .payload_len = 5, OK_ROW,
      .want_vlan = 1, .want_payload_len = 5, .want_seg_len = 5 },
    { "vlan tags at limit", DECODE_LINK_ETHERNET, .ip_version = 4, .vlan_repeat = MAXV,
      .payload_len = 5, OK_ROW, .want_vlan = MAXV, .want_payload_len = 5, .want_seg_len = 5 },
    { "vlan tags past limit", DECODE_LINK_ETHERNET, .ip_version = 4, .vlan_repeat = MAXV + 1,
      .payload_len = 5, .want = DECODE_BAD, .counter = STAT(vlan_too_deep) },
    { "vlan arp", DECODE_LINK_ETHERNET, .ip_version = 0, .ethertype = 0x0806, .n_tags = 1,
      .tpid = { 0x8100 }, .tci = { 7 }, .want = DECODE_SKIP, .counter = STAT(not_ip) },
    /* Linux cooked */
    { "sll ipv4", DECODE_LINK_SLL, .ip_version = 4, .payload_len = 11, OK_ROW,
      .want_payload_len = 11, .want_seg_len = 11 },
    { "sll ipv6", DECODE_LINK_SLL, .ip_version = 6, .payload_len = 11, OK_ROW,
      .want_payload_len = 11, .want_seg_len = 11 },
    { "sll 802.1Q", DECODE_LINK_SLL, .ip_version = 4, .n_tags = 1, .tpid = { 0x8100 },
      .tci = { 42 }, .payload_len = 3, OK_ROW, .want_vlan = 42, .want_payload_len = 3,
      .want_seg_len = 3 },
    { "sll arp", DECODE_LINK_SLL, .ip_version = 0, .ethertype = 0x0806, .want = DECODE_SKIP,
      .counter = STAT(not_ip) },
    { "sll2 ipv4", DECODE_LINK_SLL2, .ip_version = 4, .payload_len = 13, OK_ROW,
      .want_payload_len = 13, .want_seg_len = 13 },
    { "sll2 ipv6", DECODE_LINK_SLL2, .ip_version = 6, .payload_len = 13, .pad = 3, OK_ROW,
      .want_payload_len = 13, .want_seg_len = 13 },
    { "sll2 802.1Q", DECODE_LINK_SLL2, .ip_version = 6, .n_tags = 1, .tpid = { 0x8100 },
      .tci = { 4094 }, .payload_len = 3, OK_ROW, .want_vlan = 4094, .want_payload_len = 3,
      .want_seg_len = 3 },
    /* BSD loopback */
    { "null ipv4 le", DECODE_LINK_NULL, .ip_version = 4, .af_little_endian = true,
      .payload_len = 6, OK_ROW, .want_payload_len = 6, .want_seg_len = 6 },
    { "null ipv4 be", DECODE_LINK_NULL, .ip_version = 4, .payload_len = 6, OK_ROW,
      .want_payload_len = 6, .want_seg_len = 6 },
    { "null ipv6 24 le", DECODE_LINK_NULL, .ip_version = 6, .af = 24, .af_little_endian = true,
      .payload_len = 6, OK_ROW, .want_payload_len = 6, .want_seg_len = 6 },
    { "null ipv6 24 be", DECODE_LINK_NULL, .ip_version = 6, .af = 24, .payload_len = 6, OK_ROW,
      .want_payload_len = 6, .want_seg_len = 6 },
    { "null ipv6 28 le", DECODE_LINK_NULL, .ip_version = 6, .af = 28, .af_little_endian = true,
      .payload_len = 6, OK_ROW, .want_payload_len = 6, .want_seg_len = 6 },
    { "null ipv6 28 be", DECODE_LINK_NULL, .ip_version = 6, .af = 28, .payload_len = 6, OK_ROW,
      .want_payload_len = 6, .want_seg_len = 6 },
    { "null ipv6 30 le", DECODE_LINK_NULL, .ip_version = 6, .af = 30, .af_little_endian = true,
      .payload_len = 6, OK_ROW, .want_payload_len = 6, .want_seg_len = 6 },
    { "null ipv6 30 be", DECODE_LINK_NULL, .ip_version = 6, .af = 30, .payload_len = 6, OK_ROW,
      .want_payload_len = 6, .want_seg_len = 6 },
    { "null unknown family", DECODE_LINK_NULL, .ip_version = 4, .af = 7,
      .af_little_endian = true, .want = DECODE_SKIP, .counter = STAT(not_ip) },
    { "null linux AF_INET6 10", DECODE_LINK_NULL, .ip_version = 6, .af = 10,
      .want = DECODE_SKIP, .counter = STAT(not_ip) },
    { "loop ipv4", DECODE_LINK_LOOP, .ip_version = 4, .payload_len = 6, OK_ROW,
      .want_payload_len = 6, .want_seg_len = 6 },
    { "loop ipv6", DECODE_LINK_LOOP, .ip_version = 6, .payload_len = 6, OK_ROW,
      .want_payload_len = 6, .want_seg_len = 6 },
    { "loop family le", DECODE_LINK_LOOP, .ip_version = 4, .af_little_endian = true,
      .payload_len = 6, .want = DECODE_SKIP, .counter = STAT(not_ip) },
    /* raw IP */
    { "raw ipv4", DECODE_LINK_RAW, .ip_version = 4, .payload_len = 8, OK_ROW,
      .want_payload_len = 8, .want_seg_len = 8 },
    { "raw ipv6", DECODE_LINK_RAW, .ip_version = 6, .payload_len = 8, OK_ROW,
      .want_payload_len = 8, .want_seg_len = 8 },
    { "raw version 0", DECODE_LINK_RAW, .ip_version = 0, .want = DECODE_SKIP,
      .counter = STAT(not_ip) },
    { "linktype ipv4", DECODE_LINK_IPV4, .ip_version = 4, .payload_len = 8, OK_ROW,
      .want_payload_len = 8, .want_seg_len = 8 },
    { "linktype ipv4, version 6", DECODE_LINK_IPV4, .ip_version = 6, .payload_len = 8,
      .want = DECODE_BAD, .counter = STAT(bad_ipv4) },
    { "linktype ipv6", DECODE_LINK_IPV6, .ip_version = 6, .payload_len = 8, OK_ROW,
      .want_payload_len = 8, .want_seg_len = 8 },
    { "linktype ipv6, version 4", DECODE_LINK_IPV6, .ip_version = 4, .payload_len = 8,
      .want = DECODE_BAD, .counter = STAT(bad_ipv6) },
    { "unknown link", DECODE_LINK_UNKNOWN, .ip_version = 4, .payload_len = 8,
      .want = DECODE_SKIP, .counter = STAT(unknown_link) },
    { "link out of range", (enum decode_link)99, .ip_version = 4, .payload_len = 8,
      .want = DECODE_SKIP, .counter = STAT(unknown_link) },
    /* IPv6 */
    { "eth ipv6 tcp payload", DECODE_LINK_ETHERNET, .ip_version = 6, .payload_len = 25,
      OK_ROW, .want_payload_len = 25, .want_seg_len = 25 },
    { "ipv6 hop-by-hop + dstopts", DECODE_LINK_ETHERNET, .ip_version = 6, .n_ext = 2,
      .ext = { 0, 60 }, .payload_len = 17, OK_ROW, .want_payload_len = 17,
      .want_seg_len = 17 },
    { "ipv6 routing + AH", DECODE_LINK_ETHERNET, .ip_version = 6, .n_ext = 2,
      .ext = { 43, 51 }, .payload_len = 17, OK_ROW, .want_payload_len = 17,
      .want_seg_len = 17 },
    { "ipv6 ext at limit", DECODE_LINK_ETHERNET, .ip_version = 6, .ext_repeat = MAXE,
      .payload_len = 4, OK_ROW, .want_payload_len = 4, .want_seg_len = 4 },
    { "ipv6 ext past limit", DECODE_LINK_ETHERNET, .ip_version = 6, .ext_repeat = MAXE + 1,
      .payload_len = 4, .want = DECODE_BAD, .counter = STAT(bad_ipv6) },
    { "ipv6 fragment M", DECODE_LINK_ETHERNET, .ip_version = 6, .n_ext = 1, .ext = { 44 },
      .frag6 = 0x0001, .payload_len = 16, .want = DECODE_SKIP, .counter = STAT(ip_fragments) },
    { "ipv6 fragment offset", DECODE_LINK_ETHERNET, .ip_version = 6, .n_ext = 2,
      .ext = { 0, 44 }, .frag6 = 0x00b8, .payload_len = 16, .want = DECODE_SKIP,
      .counter = STAT(ip_fragments) },
    { "ipv6 atomic fragment", DECODE_LINK_ETHERNET, .ip_version = 6, .n_ext = 1,
      .ext = { 44 }, .frag6 = 0x0000, .payload_len = 16, OK_ROW, .want_payload_len = 16,
      .want_seg_len = 16 },
    { "ipv6 no next header", DECODE_LINK_ETHERNET, .ip_version = 6, .n_ext = 1, .ext = { 60 },
      .proto = 59, .want = DECODE_SKIP, .counter = STAT(not_tcp) },
    { "ipv6 udp", DECODE_LINK_ETHERNET, .ip_version = 6, .proto = 17, .payload_len = 4,
      .want = DECODE_SKIP, .counter = STAT(not_tcp) },
    { "ipv6 esp", DECODE_LINK_ETHERNET, .ip_version = 6, .n_ext = 1, .ext = { 0 },
      .proto = 50, .payload_len = 4, .want = DECODE_SKIP, .counter = STAT(encap_unsupported) },
    { "ipv6 jumbogram", DECODE_LINK_ETHERNET, .ip_version = 6, .n_ext = 1, .ext = { 0 },
      .l3_len_set = true, .l3_len = 0, .payload_len = 4, .want = DECODE_BAD,
      .counter = STAT(bad_ipv6) },
    { "ipv6 payload length 0, tcp", DECODE_LINK_ETHERNET, .ip_version = 6, .l3_len_set = true,
      .l3_len = 0, .payload_len = 4, .want = DECODE_BAD, .counter = STAT(bad_tcp) },
    { "ipv6 ext past payload length", DECODE_LINK_ETHERNET, .ip_version = 6, .n_ext = 1,
      .ext = { 60 }, .l3_len_set = true, .l3_len = 12, .payload_len = 4, .want = DECODE_BAD,
      .counter = STAT(bad_ipv6) },
    { "ipv6 padding not payload", DECODE_LINK_ETHERNET, .ip_version = 6, .n_ext = 1,
      .ext = { 0 }, .pad = 8, OK_ROW, .want_payload_len = 0, .want_seg_len = 0 },
    { "ipv6 snaplen cuts payload", DECODE_LINK_ETHERNET, .ip_version = 6, .n_ext = 1,
      .ext = { 60 }, .payload_len = 50, .snap_cut = 20, OK_ROW, .want_truncated = true,
      .want_payload_len = 30, .want_seg_len = 50 },
    { "ipv6 claims < tcp header", DECODE_LINK_ETHERNET, .ip_version = 6, .l3_len_set = true,
      .l3_len = 19, .payload_len = 4, .want = DECODE_BAD, .counter = STAT(bad_tcp) },
    { "ipv6 snaplen cuts ext header", DECODE_LINK_ETHERNET, .ip_version = 6, .n_ext = 1,
      .ext = { 60 }, .payload_len = 0, .snap_cut = 20 + 4, .want = DECODE_BAD,
      .counter = STAT(bad_ipv6) },
};
/* clang-format on */

#define N_ROWS (sizeof rows / sizeof rows[0])

/* Every DECODE_OUTCOMES counter, with the status it goes with. */
static const struct {
    const char *name;
    size_t off;
    enum decode_status status;
} counters[] = {
    { "tcp", STAT(tcp), DECODE_OK },
    { "not_ip", STAT(not_ip), DECODE_SKIP },
    { "not_tcp", STAT(not_tcp), DECODE_SKIP },
    { "unknown_link", STAT(unknown_link), DECODE_SKIP },
    { "ip_fragments", STAT(ip_fragments), DECODE_SKIP },
    { "encap_unsupported", STAT(encap_unsupported), DECODE_SKIP },
    { "bad_link", STAT(bad_link), DECODE_BAD },
    { "vlan_too_deep", STAT(vlan_too_deep), DECODE_BAD },
    { "bad_ipv4", STAT(bad_ipv4), DECODE_BAD },
    { "bad_ipv6", STAT(bad_ipv6), DECODE_BAD },
    { "bad_tcp", STAT(bad_tcp), DECODE_BAD },
    { "encap_too_deep", STAT(encap_too_deep), DECODE_BAD },
    { "mpls_too_deep", STAT(mpls_too_deep), DECODE_BAD },
    { "bad_mpls", STAT(bad_mpls), DECODE_BAD },
    { "bad_pppoe", STAT(bad_pppoe), DECODE_BAD },
    { "bad_gre", STAT(bad_gre), DECODE_BAD },
    { "bad_erspan", STAT(bad_erspan), DECODE_BAD },
    { "bad_udp", STAT(bad_udp), DECODE_BAD },
    { "bad_vxlan", STAT(bad_vxlan), DECODE_BAD },
    { "bad_geneve", STAT(bad_geneve), DECODE_BAD },
    { "bad_teredo", STAT(bad_teredo), DECODE_BAD },
};

#define N_COUNTERS (sizeof counters / sizeof counters[0])

/* The table above names every outcome counter decode.h lists. */
#define T_ONE(field, doc) +1
enum {
    T_N_OUTCOMES = 0 DECODE_OUTCOMES(T_ONE)
};

static uint64_t stat_at(const struct decode_stats *st, size_t off)
{
    uint64_t v;
    memcpy(&v, (const unsigned char *)st + off, sizeof v);
    return v;
}

struct built {
    uint8_t b[512];
    size_t len;         /* bytes built, padding included */
    size_t caplen;      /* len minus the snap cut */
    size_t payload_off; /* where the TCP payload starts */
    bool overflow;
};

static void put8(struct built *w, unsigned v)
{
    if (w->len >= sizeof w->b) {
        w->overflow = true;
        return;
    }
    w->b[w->len++] = (uint8_t)v;
}

static void put16(struct built *w, unsigned v)
{
    put8(w, (v >> 8) & 0xffu);
    put8(w, v & 0xffu);
}

static void put32(struct built *w, uint32_t v)
{
    put16(w, (unsigned)(v >> 16));
    put16(w, (unsigned)(v & 0xffffu));
}

static void put32le(struct built *w, uint32_t v)
{
    put8(w, (unsigned)(v & 0xffu));
    put8(w, (unsigned)((v >> 8) & 0xffu));
    put8(w, (unsigned)((v >> 16) & 0xffu));
    put8(w, (unsigned)(v >> 24));
}

static void put_bytes(struct built *w, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        put8(w, p[i]);
    }
}

static void put_fill(struct built *w, unsigned v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        put8(w, v);
    }
}

/* The VLAN tags of a row, explicit ones first; returns how many. */
static size_t row_tags(const struct row *row, uint16_t *tpid, uint16_t *tci, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < row->n_tags && n < cap; i++, n++) {
        tpid[n] = row->tpid[i];
        tci[n] = row->tci[i];
    }
    for (size_t i = 0; i < row->vlan_repeat && n < cap; i++, n++) {
        tpid[n] = 0x8100;
        tci[n] = (uint16_t)(i + 1);
    }
    return n;
}

/* The IPv6 extension headers of a row, explicit ones first; returns how many. */
static size_t row_exts(const struct row *row, uint8_t *ext, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < row->n_ext && n < cap; i++) {
        ext[n++] = row->ext[i];
    }
    for (size_t i = 0; i < row->ext_repeat && n < cap; i++) {
        ext[n++] = 60;
    }
    return n;
}

static size_t ext_size(uint8_t type)
{
    switch (type) {
    case 60:
        return 16; /* length field 1 */
    case 51:
        return 24; /* AH with a 12-byte ICV: length field 4 */
    default:
        return 8; /* hop-by-hop, routing, fragment */
    }
}

static uint16_t ethertype_of(const struct row *row)
{
    if (row->ethertype != 0) {
        return row->ethertype;
    }
    return row->ip_version == 6 ? 0x86dd : 0x0800;
}

/* Writes the tags after the first type field: each tag's TCI, then the next type. */
static void put_tag_chain(struct built *w, const struct row *row, const uint16_t *tpid,
                          const uint16_t *tci, size_t n_tags)
{
    for (size_t i = 0; i < n_tags; i++) {
        put16(w, tci[i]);
        put16(w, i + 1 < n_tags ? tpid[i + 1] : ethertype_of(row));
    }
}

static void put_link(struct built *w, const struct row *row)
{
    uint16_t tpid[T_MAX_TAGS + DECODE_MAX_VLAN_TAGS + 1];
    uint16_t tci[T_MAX_TAGS + DECODE_MAX_VLAN_TAGS + 1];
    size_t n_tags = row_tags(row, tpid, tci, sizeof tpid / sizeof tpid[0]);
    uint16_t first = n_tags > 0 ? tpid[0] : ethertype_of(row);
    static const uint8_t mac_dst[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
    static const uint8_t mac_src[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
    uint32_t af = row->af != 0 ? row->af : (row->ip_version == 6 ? 24u : 2u);

    switch (row->link) {
    case DECODE_LINK_ETHERNET:
        put_bytes(w, mac_dst, 6);
        put_bytes(w, mac_src, 6);
        put16(w, first);
        put_tag_chain(w, row, tpid, tci, n_tags);
        break;
    case DECODE_LINK_SLL:
        put16(w, 0); /* packet type: to us */
        put16(w, 1); /* ARPHRD_ETHER */
        put16(w, 6); /* address length */
        put_bytes(w, mac_src, 6);
        put16(w, 0); /* address padding */
        put16(w, first);
        put_tag_chain(w, row, tpid, tci, n_tags);
        break;
    case DECODE_LINK_SLL2:
        put16(w, first);
        put16(w, 0); /* reserved */
        put32(w, 3); /* interface index */
        put16(w, 1); /* ARPHRD_ETHER */
        put8(w, 4);  /* packet type: outgoing */
        put8(w, 6);  /* address length */
        put_bytes(w, mac_src, 6);
        put16(w, 0);
        put_tag_chain(w, row, tpid, tci, n_tags);
        break;
    case DECODE_LINK_NULL:
    case DECODE_LINK_LOOP:
        if (row->af_little_endian) {
            put32le(w, af);
        } else {
            put32(w, af);
        }
        break;
    case DECODE_LINK_UNKNOWN:
    case DECODE_LINK_RAW:
    case DECODE_LINK_IPV4:
    case DECODE_LINK_IPV6:
    default:
        break;
    }
}

static void put_tcp(struct built *w, const struct row *row)
{
    unsigned doff = row->doff_set ? row->doff : (unsigned)(5 + row->tcp_opt_len / 4);
    put16(w, T_SPORT);
    put16(w, T_DPORT);
    put32(w, T_SEQ);
    put32(w, T_ACK);
    put8(w, ((doff << 4) | 0x01u) & 0xffu); /* low nibble: reserved bits and AE, not offset */
    put8(w, T_FLAGS);
    put16(w, 0xffff);                    /* window */
    put16(w, 0);                         /* checksum */
    put16(w, 0);                         /* urgent pointer */
    put_fill(w, 0x01, row->tcp_opt_len); /* NOPs */
    w->payload_off = w->len;
    for (size_t i = 0; i < row->payload_len; i++) {
        put8(w, (unsigned)('a' + i % 26));
    }
}

static void put_ipv4(struct built *w, const struct row *row, size_t tcp_len)
{
    unsigned ihl = row->ihl_set ? row->ihl : (unsigned)(5 + row->ip4_opt_len / 4);
    size_t total = row->l3_len_set ? row->l3_len : 20 + row->ip4_opt_len + tcp_len;
    put8(w, (0x40u | ihl) & 0xffu);
    put8(w, 0);
    put16(w, (unsigned)total);
    put16(w, 0x1234); /* identification */
    put16(w, row->frag);
    put8(w, 64);
    put8(w, row->proto != 0 ? row->proto : 6);
    put16(w, 0); /* checksum */
    put_bytes(w, src4, 4);
    put_bytes(w, dst4, 4);
    put_fill(w, 0x01, row->ip4_opt_len); /* NOPs */
}

static void put_ipv6(struct built *w, const struct row *row, size_t tcp_len)
{
    uint8_t ext[T_MAX_EXT + DECODE_MAX_IPV6_EXT + 1];
    size_t n_ext = row_exts(row, ext, sizeof ext);
    uint8_t last = row->proto != 0 ? row->proto : 6;
    size_t ext_len = 0;
    for (size_t i = 0; i < n_ext; i++) {
        ext_len += ext_size(ext[i]);
    }
    size_t plen = row->l3_len_set ? row->l3_len : ext_len + tcp_len;

    put32(w, 0x60012345u); /* version, traffic class, flow label */
    put16(w, (unsigned)plen);
    put8(w, n_ext > 0 ? ext[0] : last);
    put8(w, 64);
    put_bytes(w, src6, 16);
    put_bytes(w, dst6, 16);
    for (size_t i = 0; i < n_ext; i++) {
        put8(w, i + 1 < n_ext ? ext[i + 1] : last);
        switch (ext[i]) {
        case 44:
            put8(w, 0);
            put16(w, row->frag6);
            put32(w, 0xdeadbeefu);
            break;
        case 51:
            put8(w, 4);
            put16(w, 0);
            put32(w, 0x100); /* SPI */
            put32(w, 1);     /* sequence number */
            put_fill(w, 0xaa, 12);
            break;
        case 60:
            put8(w, 1);
            put8(w, 1); /* PadN of 12 */
            put8(w, 12);
            put_fill(w, 0, 12);
            break;
        case 43:
            put8(w, 0);
            put8(w, 4); /* segment routing type, nothing left */
            put8(w, 0);
            put32(w, 0);
            break;
        default: /* hop-by-hop */
            put8(w, 0);
            put8(w, 1); /* PadN of 4 */
            put8(w, 4);
            put32(w, 0);
            break;
        }
    }
}

static void build(const struct row *row, struct built *w)
{
    size_t tcp_len = 20 + row->tcp_opt_len + row->payload_len;

    memset(w, 0, sizeof *w);
    put_link(w, row);
    if (row->ip_version == 4) {
        put_ipv4(w, row, tcp_len);
        put_tcp(w, row);
    } else if (row->ip_version == 6) {
        put_ipv6(w, row, tcp_len);
        put_tcp(w, row);
    } else {
        put16(w, 1);      /* ARP: Ethernet */
        put16(w, 0x0800); /* IPv4 */
        put8(w, 6);
        put8(w, 4);
        put16(w, 1); /* request */
        put_fill(w, 0x02, 6);
        put_bytes(w, src4, 4);
        put_fill(w, 0, 6);
        put_bytes(w, dst4, 4);
    }
    put_fill(w, 0, row->pad);
    w->caplen = w->len >= row->snap_cut ? w->len - row->snap_cut : 0;
    CHECK(!w->overflow);
}

/* Checks the counters after one decode_packet call on fresh stats: packets is 1 and exactly
 * one counter moved, the one that goes with status. Returns that counter's offset. */
static size_t check_one_counter(const struct decode_stats *st, enum decode_status status)
{
    size_t moved = 0, which = 0;
    CHECK_EQ_U(st->packets, 1);
    for (size_t i = 0; i < N_COUNTERS; i++) {
        uint64_t v = stat_at(st, counters[i].off);
        CHECK(v <= 1);
        if (v != 0) {
            moved++;
            which = i;
            CHECK_EQ_U(status, counters[i].status);
        }
    }
    CHECK_EQ_U(moved, 1);
    if (status != DECODE_OK) {
        CHECK_EQ_U(st->truncated, 0);
    }
    return counters[which].off;
}

static void check_pkt(const struct row *row, const struct built *w, const struct pkt *p,
                      uint64_t ts)
{
    CHECK_EQ_U(p->ts_usec, ts);
    CHECK_EQ_U(p->ip_version, row->ip_version);
    CHECK_EQ_U(p->tcp_flags, T_FLAGS);
    CHECK_EQ_U(p->sport, T_SPORT);
    CHECK_EQ_U(p->dport, T_DPORT);
    CHECK_EQ_U(p->seq, T_SEQ);
    CHECK_EQ_U(p->ack, T_ACK);
    CHECK_EQ_U(p->vlan, row->want_vlan);
    if (row->ip_version == 4) {
        static const uint8_t zero[12];
        CHECK(memcmp(p->src, src4, 4) == 0);
        CHECK(memcmp(p->dst, dst4, 4) == 0);
        CHECK(memcmp(p->src + 4, zero, 12) == 0);
        CHECK(memcmp(p->dst + 4, zero, 12) == 0);
    } else {
        CHECK(memcmp(p->src, src6, 16) == 0);
        CHECK(memcmp(p->dst, dst6, 16) == 0);
    }
    CHECK(p->payload == w->b + w->payload_off);
    CHECK_EQ_U(p->payload_len, row->want_payload_len);
    CHECK_EQ_U(p->seg_len, row->want_seg_len);
    for (size_t i = 0; i < p->payload_len && i < row->payload_len; i++) {
        CHECK_EQ_U(p->payload[i], 'a' + i % 26);
    }
}

/* The row decoded as built: status, counters, and every field of struct pkt. */
static void check_row(size_t idx)
{
    const struct row *row = &rows[idx];
    struct built w;
    struct decode_stats st;
    struct pkt p;
    uint64_t ts = T_TS + idx;

    build(row, &w);
    memset(&st, 0, sizeof st);
    memset(&p, 0, sizeof p);
    enum decode_status status = decode_packet(row->link, w.b, w.caplen, w.len, ts, &p, &st);
    CHECK_EQ_U(status, row->want);
    size_t moved = check_one_counter(&st, status);
    CHECK_EQ_U(moved, row->counter);
    CHECK_EQ_U(st.truncated, row->want_truncated ? 1 : 0);
    if (status == DECODE_OK && row->want == DECODE_OK) {
        check_pkt(row, &w, &p, ts);
    }
}

/* An untagged Ethernet frame of IPv4 or IPv6 decoded again from its IP header, which takes
 * the general path only: the fast path must agree with it on status, counters and view. */
static void check_fast_path(const uint8_t *b, size_t caplen, enum decode_status status,
                            const struct pkt *p, const struct decode_stats *st)
{
    if (caplen < 14) {
        return;
    }
    unsigned type = (unsigned)b[12] << 8 | b[13];
    if (type != 0x0800u && type != 0x86ddu) {
        return;
    }
    struct decode_stats st2;
    struct pkt p2;
    memset(&st2, 0, sizeof st2);
    memset(&p2, 0, sizeof p2);
    enum decode_status s2 = decode_packet(type == 0x0800u ? DECODE_LINK_IPV4 : DECODE_LINK_IPV6,
                                          b + 14, caplen - 14, caplen - 14, T_TS, &p2, &st2);
    CHECK_EQ_U(s2, status);
    CHECK(memcmp(&st2, st, sizeof st2) == 0);
    if (status == DECODE_OK && s2 == DECODE_OK) {
        CHECK_EQ_U(p2.ip_version, p->ip_version);
        CHECK_EQ_U(p2.tcp_flags, p->tcp_flags);
        CHECK_EQ_U(p2.sport, p->sport);
        CHECK_EQ_U(p2.dport, p->dport);
        CHECK_EQ_U(p2.seq, p->seq);
        CHECK_EQ_U(p2.ack, p->ack);
        CHECK_EQ_U(p2.vlan, p->vlan);
        CHECK(memcmp(p2.src, p->src, sizeof p->src) == 0);
        CHECK(memcmp(p2.dst, p->dst, sizeof p->dst) == 0);
        CHECK(p2.l3 == p->l3);
        CHECK_EQ_U(p2.l3_len, p->l3_len);
        CHECK(p2.payload == p->payload);
        CHECK_EQ_U(p2.payload_len, p->payload_len);
        CHECK_EQ_U(p2.seg_len, p->seg_len);
    }
}

/* Invariants of any call: one counter, and an OK view inside the buffer. */
static void decode_checked(enum decode_link link, const uint8_t *b, size_t caplen,
                           enum decode_status *status, struct pkt *p)
{
    struct decode_stats st;
    memset(&st, 0, sizeof st);
    memset(p, 0, sizeof *p);
    *status = decode_packet(link, b, caplen, caplen, T_TS, p, &st);
    check_one_counter(&st, *status);
    if (link == DECODE_LINK_ETHERNET) {
        check_fast_path(b, caplen, *status, p, &st);
    }
    if (*status == DECODE_OK) {
        CHECK(p->payload >= b && p->payload_len <= caplen);
        CHECK((size_t)(p->payload - b) <= caplen - p->payload_len);
        CHECK(p->payload_len <= p->seg_len);
        CHECK_EQ_U(st.truncated, p->payload_len < p->seg_len ? 1 : 0);
    }
}

/* The row cut at every length, each in a heap buffer of exactly that size, then with each
 * byte corrupted. A row that decodes whole must be BAD while a header is cut, and OK with the
 * payload it still holds once the headers are complete. */
static void check_row_robust(size_t idx)
{
    const struct row *row = &rows[idx];
    struct built w;
    struct pkt p;
    enum decode_status status;

    build(row, &w);
    for (size_t cut = 0; cut <= w.len; cut++) {
        uint8_t *b = malloc(cut);
        if (cut > 0) {
            CHECK(b != NULL);
            if (b == NULL) {
                return;
            }
            memcpy(b, w.b, cut);
        }
        decode_checked(row->link, b, cut, &status, &p);
        if (row->want == DECODE_OK) {
            if (cut < w.payload_off) {
                CHECK_EQ_U(status, DECODE_BAD);
            } else {
                size_t ip_end = w.payload_off + row->want_seg_len;
                CHECK_EQ_U(status, DECODE_OK);
                CHECK_EQ_U(p.payload_len, (cut < ip_end ? cut : ip_end) - w.payload_off);
                CHECK_EQ_U(p.seg_len, row->want_seg_len);
            }
        }
        free(b);
    }
    for (size_t off = 0; off < w.caplen; off++) {
        uint8_t saved = w.b[off];
        const uint8_t variants[] = { 0x00, 0xff, (uint8_t)(saved ^ 0x80u),
                                     (uint8_t)(saved ^ 0x01u) };
        for (size_t v = 0; v < sizeof variants; v++) {
            w.b[off] = variants[v];
            decode_checked(row->link, w.b, w.caplen, &status, &p);
        }
        w.b[off] = saved;
    }
}

/* Counters accumulate across calls: packets counts every call, each call bumps one more. */
static void test_stats_accumulate(void)
{
    struct decode_stats st;
    struct pkt p;
    uint64_t sum = 0;

    memset(&st, 0, sizeof st);
    for (size_t i = 0; i < N_ROWS; i++) {
        struct built w;
        build(&rows[i], &w);
        (void)decode_packet(rows[i].link, w.b, w.caplen, w.len, T_TS, &p, &st);
    }
    CHECK_EQ_U(st.packets, N_ROWS);
    for (size_t i = 0; i < N_COUNTERS; i++) {
        sum += stat_at(&st, counters[i].off);
    }
    CHECK_EQ_U(sum, N_ROWS);
}

/* A view is written only on DECODE_OK. */
static void test_out_untouched_on_skip(void)
{
    struct built w;
    struct decode_stats st;
    struct pkt p, before;

    build(&rows[0], &w);
    memset(&st, 0, sizeof st);
    memset(&p, 0x5a, sizeof p);
    memcpy(&before, &p, sizeof p);
    CHECK_EQ_U(decode_packet(DECODE_LINK_ETHERNET, w.b, 10, w.len, T_TS, &p, &st), DECODE_BAD);
    CHECK(memcmp(&p, &before, sizeof p) == 0);
}

/* A sending host's TSO segment: IPv4 total length 0. The captured bytes are taken as the
 * packet, counted in ipv4_len_zero, and every shorter capture of it is safe. */
static void test_ipv4_tso_len_zero(void)
{
    static const uint8_t frame[] = { /* Ethernet */
                                     0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00,
                                     /* IPv4, total length 0, TCP */
                                     0x45, 0, 0x00, 0x00, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1,
                                     10, 0, 0, 2,
                                     /* TCP 40000 -> 110, data offset 5, PSH ACK */
                                     0x9c, 0x40, 0x00, 0x6e, 0, 0, 0x03, 0xe8, 0, 0, 0x13, 0x88,
                                     0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0,
                                     /* payload */
                                     'P', 'A', 'S', 'S'
    };
    struct decode_stats st;
    struct pkt p;
    memset(&st, 0, sizeof st);
    CHECK(decode_packet(DECODE_LINK_ETHERNET, frame, sizeof frame, sizeof frame, 1, &p, &st) ==
          DECODE_OK);
    CHECK_EQ_U(p.payload_len, 4);
    CHECK_EQ_U(p.seg_len, 4);
    CHECK_MEM(p.payload, p.payload_len, "PASS");
    CHECK_EQ_U(st.ipv4_len_zero, 1);
    CHECK_EQ_U(st.tcp, 1);
    for (size_t cut = 0; cut < sizeof frame; cut++) {
        uint8_t *b = malloc(cut > 0 ? cut : 1);
        memcpy(b, frame, cut);
        memset(&st, 0, sizeof st);
        enum decode_status r =
            decode_packet(DECODE_LINK_ETHERNET, b, cut, sizeof frame, 1, &p, &st);
        CHECK(r != DECODE_OK || p.payload_len + 54 == cut);
        free(b);
    }
}

/* Tunnels: each row is a stack of layers, outermost first, ending in TCP with T_PAYLOAD_LEN
 * bytes of payload. Length fields (IP, UDP, PPPoE, PPTP) are filled in once the packet is
 * built; types and protocols are taken from the next layer unless a row sets them. */
enum layer_kind {
    L_END = 0,
    L_ETH,     /* a: ethertype (0: from the next layer); b: 1 = destination a2:..., 2 = both
                  addresses 00:50:56:... (first nibble 0, as a pseudowire control word) */
    L_VLAN,    /* a: TCI; b: the next ethertype (0: from the next layer) */
    L_MPLS,    /* a: labels (0: 1); b: 1 = no bottom-of-stack bit anywhere */
    L_PWCW,    /* a pseudowire control word */
    L_PPPOE,   /* a: version/type byte (0: 0x11); b: code */
    L_PPP,     /* a: protocol (0: from the next layer); b: 1 = FF 03 in front; c: 1 = 1 byte */
    L_IPV4,    /* a: 1 = outer addresses; b: protocol (0: from the next layer) */
    L_IPV6,    /* a: 1 = outer addresses; b: next header (0: from the next layer) */
    L_UDP,     /* a: destination port; b: source port (0: 50000); c: 1 = length field 7 */
    L_GRE,     /* a: flags and version; b: protocol type (0: from the next layer) */
    L_PPTP,    /* a: flags and version (0: K, S, version 1); b: protocol type (0: 0x880b) */
    L_ERSPAN2, /* a: version (0: 1) */
    L_ERSPAN3, /* a: version (0: 2); b: 1 = platform sub-header; c: frame type */
    L_VXLAN,   /* a: flags (0: 0x08) */
    L_GENEVE,  /* a: options, 4-byte words; b: version */
    L_TEREDO,  /* a: 1 authentication, 2 origin, 3 both */
    L_TCP,
};

struct layer {
    enum layer_kind kind;
    uint32_t a, b, c;
};

#define T_MAX_LAYERS  24
#define T_PAYLOAD_LEN 10

struct trow {
    const char *name;
    struct layer l[T_MAX_LAYERS];
    enum decode_status want;
    size_t counter;  /* STAT(field) of the outcome that must be 1 */
    size_t note;     /* STAT(field) of a DECODE_NOTES counter ... */
    uint64_t note_n; /* ... that must be this (0: not checked) */
    uint16_t want_vlan;
};

static const uint8_t outer4_src[4] = { 203, 0, 113, 1 };
static const uint8_t outer4_dst[4] = { 203, 0, 113, 2 };
static const uint8_t outer6_src[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0, 0, 0,
                                        0,    0,    0,    0,    0,    0, 0, 1 };
static const uint8_t outer6_dst[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0, 0, 0,
                                        0,    0,    0,    0,    0,    0, 0, 2 };

#define TOK(note_) .want = DECODE_OK, .counter = STAT(tcp), .note = STAT(note_)
#define ETH                                                                                        \
    {                                                                                              \
        L_ETH, 0, 0, 0                                                                             \
    }
#define IP4                                                                                        \
    {                                                                                              \
        L_IPV4, 0, 0, 0                                                                            \
    }
#define IP6                                                                                        \
    {                                                                                              \
        L_IPV6, 0, 0, 0                                                                            \
    }
#define OIP4                                                                                       \
    {                                                                                              \
        L_IPV4, 1, 0, 0                                                                            \
    }
#define OIP6                                                                                       \
    {                                                                                              \
        L_IPV6, 1, 0, 0                                                                            \
    }
#define TCP                                                                                        \
    {                                                                                              \
        L_TCP, 0, 0, 0                                                                             \
    }
#define IPIP4 OIP4
#define GRE_S 0x1000u
#define GRE_K 0x2000u
#define GRE_C 0x8000u

/* clang-format off */
static const struct trow trows[] = {
    /* MPLS */
    { "mpls ipv4", { ETH, { L_MPLS, 1, 0, 0 }, IP4, TCP }, TOK(encap_mpls), .note_n = 1 },
    { "mpls 3 labels ipv6", { ETH, { L_MPLS, 3, 0, 0 }, IP6, TCP }, TOK(encap_mpls), .note_n = 1 },
    { "mpls 0x8848 in vlan", { ETH, { L_VLAN, 77, 0x8848, 0 }, { L_MPLS, 2, 0, 0 }, IP4, TCP }, TOK(encap_mpls), .note_n = 1, .want_vlan = 77 },
    { "mpls labels at limit", { ETH, { L_MPLS, DECODE_MAX_MPLS_LABELS, 0, 0 }, IP4, TCP },
      TOK(encap_mpls), .note_n = 1 },
    { "mpls labels past limit", { ETH, { L_MPLS, DECODE_MAX_MPLS_LABELS + 1, 0, 0 }, IP4, TCP },
      .want = DECODE_BAD, .counter = STAT(mpls_too_deep) },
    { "mpls no bottom of stack", { ETH, { L_MPLS, 3, 1, 0 } }, .want = DECODE_BAD,
      .counter = STAT(bad_mpls) },
    { "mpls pw with control word", { ETH, { L_MPLS, 2, 0, 0 }, { L_PWCW, 0, 0, 0 }, ETH, IP4,
      TCP }, TOK(encap_mpls_pw), .note_n = 1 },
    { "mpls pw without control word", { ETH, { L_MPLS, 1, 0, 0 }, { L_ETH, 0, 1, 0 },
      { L_VLAN, 5, 0, 0 }, IP6, TCP }, TOK(encap_mpls_pw), .note_n = 1, .want_vlan = 5 },
    { "mpls pw without cw, address 00:", { ETH, { L_MPLS, 1, 0, 0 }, { L_ETH, 0, 2, 0 }, IP4,
      TCP }, TOK(encap_mpls_pw), .note_n = 1 },
    { "mpls associated channel", { ETH, { L_MPLS, 1, 0, 0 }, { L_PWCW, 0x10000000u, 0, 0 } },
      .want = DECODE_SKIP, .counter = STAT(not_ip) },
    /* PPPoE */
    { "pppoe ipv4", { ETH, { L_PPPOE, 0, 0, 0 }, { L_PPP, 0, 0, 0 }, IP4, TCP },
      TOK(encap_pppoe), .note_n = 1 },
    { "pppoe qinq ipv6", { ETH, { L_VLAN, 100, 0, 0 }, { L_VLAN, 200, 0, 0 },
      { L_PPPOE, 0, 0, 0 }, { L_PPP, 0, 0, 0 }, IP6, TCP }, TOK(encap_pppoe), .note_n = 1,
      .want_vlan = 200 },
    { "pppoe compressed protocol", { ETH, { L_PPPOE, 0, 0, 0 }, { L_PPP, 0, 0, 1 }, IP4, TCP },
      TOK(encap_pppoe), .note_n = 1 },
    { "pppoe mpls", { ETH, { L_PPPOE, 0, 0, 0 }, { L_PPP, 0x0281, 0, 0 }, { L_MPLS, 1, 0, 0 },
      IP4, TCP }, TOK(encap_mpls), .note_n = 1 },
    { "pppoe lcp", { ETH, { L_PPPOE, 0, 0, 0 }, { L_PPP, 0xc021, 0, 0 }, IP4, TCP },
      .want = DECODE_SKIP, .counter = STAT(not_ip) },
    { "pppoe ccp compressed", { ETH, { L_PPPOE, 0, 0, 0 }, { L_PPP, 0x00fd, 0, 0 }, IP4, TCP },
      .want = DECODE_SKIP, .counter = STAT(encap_unsupported) },
    { "pppoe version 2", { ETH, { L_PPPOE, 0x21, 0, 0 }, { L_PPP, 0, 0, 0 }, IP4, TCP },
      .want = DECODE_BAD, .counter = STAT(bad_pppoe) },
    { "pppoe code PADT", { ETH, { L_PPPOE, 0, 0xa7, 0 }, { L_PPP, 0, 0, 0 }, IP4, TCP },
      .want = DECODE_BAD, .counter = STAT(bad_pppoe) },
    { "pppoe discovery", { { L_ETH, 0x8863, 0, 0 }, { L_PPPOE, 0, 0x09, 0 } },
      .want = DECODE_SKIP, .counter = STAT(not_ip) },
    /* GRE */
    { "gre ipv4", { ETH, OIP4, { L_GRE, 0, 0, 0 }, IP4, TCP }, TOK(encap_gre), .note_n = 1 },
    { "gre csum key seq ipv6", { ETH, OIP4, { L_GRE, GRE_C | GRE_K | GRE_S, 0, 0 }, IP6, TCP },
      TOK(encap_gre), .note_n = 1 },
    { "gre over ipv6, bridging, vlan", { ETH, OIP6, { L_GRE, GRE_K, 0, 0 }, ETH,
      { L_VLAN, 0x2abc, 0, 0 }, IP4, TCP }, TOK(encap_gre), .note_n = 1, .want_vlan = 0xabc },
    { "gre mpls", { ETH, OIP4, { L_GRE, 0, 0, 0 }, { L_MPLS, 1, 0, 0 }, IP4, TCP },
      TOK(encap_mpls), .note_n = 1 },
    { "gre in gre", { ETH, OIP4, { L_GRE, 0, 0, 0 }, OIP4, { L_GRE, GRE_K, 0, 0 }, IP4, TCP },
      TOK(encap_gre), .note_n = 2 },
    { "gre routing bit", { ETH, OIP4, { L_GRE, 0x4000, 0, 0 }, IP4, TCP }, .want = DECODE_BAD,
      .counter = STAT(bad_gre) },
    { "gre version 2", { ETH, OIP4, { L_GRE, 2, 0, 0 }, IP4, TCP }, .want = DECODE_BAD,
      .counter = STAT(bad_gre) },
    { "gre arp", { ETH, OIP4, { L_GRE, 0, 0x0806, 0 }, IP4, TCP }, .want = DECODE_SKIP,
      .counter = STAT(not_ip) },
    { "gre over udp 4754", { ETH, OIP4, { L_UDP, 4754, 0, 0 }, { L_GRE, 0, 0, 0 }, IP4, TCP },
      TOK(encap_gre_udp), .note_n = 1 },
    /* ERSPAN */
    { "erspan type I", { ETH, OIP4, { L_GRE, 0, 0x88be, 0 }, ETH, IP4, TCP }, TOK(encap_erspan1),
      .note_n = 1 },
    { "erspan type II", { ETH, OIP4, { L_GRE, GRE_S, 0, 0 }, { L_ERSPAN2, 0, 0, 0 }, ETH, IP4,
      TCP }, TOK(encap_erspan2), .note_n = 1 },
    { "erspan type II over ipv6", { ETH, OIP6, { L_GRE, GRE_S, 0, 0 }, { L_ERSPAN2, 0, 0, 0 }, ETH,
      IP6, TCP }, TOK(encap_erspan2), .note_n = 1 },
    { "erspan type II version 2", { ETH, OIP4, { L_GRE, GRE_S, 0, 0 }, { L_ERSPAN2, 2, 0, 0 }, ETH,
      IP4, TCP }, .want = DECODE_BAD, .counter = STAT(bad_erspan) },
    { "erspan type III", { ETH, OIP4, { L_GRE, GRE_S, 0, 0 }, { L_ERSPAN3, 0, 0, 0 }, ETH, IP4,
      TCP }, TOK(encap_erspan3), .note_n = 1 },
    { "erspan type III platform, vlan", { ETH, OIP4, { L_GRE, GRE_S, 0, 0 },
      { L_ERSPAN3, 0, 1, 0 }, ETH, { L_VLAN, 10, 0, 0 }, IP4, TCP }, TOK(encap_erspan3),
      .note_n = 1, .want_vlan = 10 },
    { "erspan type III ip frame", { ETH, OIP6, { L_GRE, 0, 0, 0 }, { L_ERSPAN3, 0, 0, 2 }, IP6,
      TCP }, TOK(encap_erspan3), .note_n = 1 },
    { "erspan type III version 1", { ETH, OIP4, { L_GRE, GRE_S, 0, 0 }, { L_ERSPAN3, 1, 0, 0 },
      ETH, IP4, TCP }, .want = DECODE_BAD, .counter = STAT(bad_erspan) },
    /* PPTP */
    { "pptp ppp ipv4", { ETH, OIP4, { L_PPTP, 0, 0, 0 }, { L_PPP, 0, 1, 0 }, IP4, TCP },
      TOK(encap_pptp), .note_n = 1 },
    { "pptp ack, compressed ppp ipv6", { ETH, OIP4, { L_PPTP, 0x3081, 0, 0 }, { L_PPP, 0, 0, 1 },
      IP6, TCP }, TOK(encap_pptp), .note_n = 1 },
    { "pptp checksum bit", { ETH, OIP4, { L_PPTP, 0xb001, 0, 0 }, { L_PPP, 0, 1, 0 }, IP4, TCP },
      .want = DECODE_BAD, .counter = STAT(bad_gre) },
    { "pptp no key", { ETH, OIP4, { L_PPTP, 0x1001, 0, 0 }, { L_PPP, 0, 1, 0 }, IP4, TCP },
      .want = DECODE_BAD, .counter = STAT(bad_gre) },
    { "pptp not ppp", { ETH, OIP4, { L_PPTP, 0, 0x0800, 0 }, { L_PPP, 0, 1, 0 }, IP4, TCP },
      .want = DECODE_BAD, .counter = STAT(bad_gre) },
    /* UDP tunnels */
    { "vxlan", { ETH, OIP4, { L_UDP, 4789, 0, 0 }, { L_VXLAN, 0, 0, 0 }, ETH, IP4, TCP },
      TOK(encap_vxlan), .note_n = 1 },
    { "vxlan 8472 over ipv6, qinq inside", { ETH, OIP6, { L_UDP, 8472, 0, 0 }, { L_VXLAN, 0, 0, 0 },
      ETH, { L_VLAN, 30, 0, 0 }, { L_VLAN, 31, 0, 0 }, IP6, TCP }, TOK(encap_vxlan), .note_n = 1,
      .want_vlan = 31 },
    { "vxlan I flag clear", { ETH, OIP4, { L_UDP, 4789, 0, 0 }, { L_VXLAN, 0x80, 0, 0 }, ETH, IP4,
      TCP }, .want = DECODE_BAD, .counter = STAT(bad_vxlan) },
    { "vxlan udp length 7", { ETH, OIP4, { L_UDP, 4789, 0, 1 }, { L_VXLAN, 0, 0, 0 }, ETH, IP4,
      TCP }, .want = DECODE_BAD, .counter = STAT(bad_udp) },
    { "vxlan source port only", { ETH, OIP4, { L_UDP, 53, 4789, 0 }, { L_VXLAN, 0, 0, 0 }, ETH,
      IP4, TCP }, .want = DECODE_SKIP, .counter = STAT(not_tcp) },
    { "geneve", { ETH, OIP4, { L_UDP, 6081, 0, 0 }, { L_GENEVE, 0, 0, 0 }, ETH, IP4, TCP },
      TOK(encap_geneve), .note_n = 1 },
    { "geneve options, ipv4 inside", { ETH, OIP6, { L_UDP, 6081, 0, 0 }, { L_GENEVE, 5, 0, 0 },
      IP4, TCP }, TOK(encap_geneve), .note_n = 1 },
    { "geneve version 1", { ETH, OIP4, { L_UDP, 6081, 0, 0 }, { L_GENEVE, 0, 1, 0 }, ETH, IP4,
      TCP }, .want = DECODE_BAD, .counter = STAT(bad_geneve) },
    { "teredo", { ETH, OIP4, { L_UDP, 3544, 0, 0 }, { L_TEREDO, 0, 0, 0 }, IP6, TCP },
      TOK(encap_teredo), .note_n = 1 },
    { "teredo auth and origin", { ETH, OIP4, { L_UDP, 40000, 3544, 0 }, { L_TEREDO, 3, 0, 0 },
      IP6, TCP }, TOK(encap_teredo), .note_n = 1 },
    { "teredo origin", { ETH, OIP4, { L_UDP, 3544, 0, 0 }, { L_TEREDO, 2, 0, 0 }, IP6, TCP },
      TOK(encap_teredo), .note_n = 1 },
    { "teredo not ipv6", { ETH, OIP4, { L_UDP, 3544, 0, 0 }, IP4, TCP }, .want = DECODE_SKIP,
      .counter = STAT(not_tcp) },
    { "l2tp", { ETH, OIP4, { L_UDP, 1701, 0, 0 }, IP4, TCP }, .want = DECODE_SKIP,
      .counter = STAT(encap_unsupported) },
    { "esp", { ETH, { L_IPV4, 1, 50, 0 }, IP4, TCP }, .want = DECODE_SKIP,
      .counter = STAT(encap_unsupported) },
    /* IP in IP */
    { "4in4", { ETH, OIP4, IP4, TCP }, TOK(encap_ipip), .note_n = 1 },
    { "6in4", { ETH, OIP4, IP6, TCP }, TOK(encap_ipip), .note_n = 1 },
    { "4in6", { ETH, OIP6, IP4, TCP }, TOK(encap_ipip), .note_n = 1 },
    { "6in6 raw link", { OIP6, IP6, TCP }, TOK(encap_ipip), .note_n = 1 },
    { "ipip at the depth limit", { ETH, IPIP4, IPIP4, IPIP4, IPIP4, IPIP4, IPIP4, IPIP4, IPIP4,
      IP4, TCP }, TOK(encap_ipip), .note_n = 8 },
    { "ipip at the depth limit, tagged", { { L_ETH, 0x8100, 0, 0 }, { L_VLAN, 7, 0, 0 }, IPIP4,
      IPIP4, IPIP4, IPIP4, IPIP4, IPIP4, IPIP4, IPIP4, IP4, TCP }, TOK(encap_ipip), .note_n = 8,
      .want_vlan = 7 },
    { "ipip past the depth limit", { ETH, IPIP4, IPIP4, IPIP4, IPIP4, IPIP4, IPIP4, IPIP4, IPIP4,
      IPIP4, IP4, TCP }, .want = DECODE_BAD, .counter = STAT(encap_too_deep) },
    { "mixed to the depth limit", { ETH, { L_MPLS, 1, 0, 0 }, { L_PWCW, 0, 0, 0 }, ETH, OIP4,
      { L_GRE, GRE_S, 0, 0 }, { L_ERSPAN2, 0, 0, 0 }, ETH, OIP6, { L_UDP, 4789, 0, 0 },
      { L_VXLAN, 0, 0, 0 }, ETH, { L_PPPOE, 0, 0, 0 }, { L_PPP, 0, 0, 0 }, OIP4,
      { L_UDP, 6081, 0, 0 }, { L_GENEVE, 1, 0, 0 }, OIP4, IP4, TCP }, TOK(encap_ipip),
      .note_n = 1 },
    { "mixed past the depth limit", { ETH, { L_MPLS, 1, 0, 0 }, { L_PWCW, 0, 0, 0 }, ETH, OIP4,
      { L_GRE, GRE_S, 0, 0 }, { L_ERSPAN2, 0, 0, 0 }, ETH, OIP6, { L_UDP, 4789, 0, 0 },
      { L_VXLAN, 0, 0, 0 }, ETH, { L_PPPOE, 0, 0, 0 }, { L_PPP, 0, 0, 0 }, OIP4,
      { L_UDP, 6081, 0, 0 }, { L_GENEVE, 1, 0, 0 }, OIP4, OIP4, IP4, TCP }, .want = DECODE_BAD,
      .counter = STAT(encap_too_deep) },
};
/* clang-format on */

#define N_TROWS (sizeof trows / sizeof trows[0])

/* A length field to fill in once the packet is built: the bytes from start to the end. */
struct patch {
    size_t field, start;
};

/* The ethertype (or GRE/Geneve protocol type) that announces layer l. */
static unsigned type_of(const struct layer *l)
{
    switch (l->kind) {
    case L_IPV4:
        return 0x0800;
    case L_IPV6:
        return 0x86dd;
    case L_VLAN:
        return 0x8100;
    case L_MPLS:
        return 0x8847;
    case L_PPPOE:
        return 0x8864;
    case L_ETH:
        return 0x6558;
    case L_ERSPAN2:
        return 0x88be;
    case L_ERSPAN3:
        return 0x22eb;
    default:
        return 0xffff;
    }
}

static unsigned proto_of(const struct layer *l)
{
    switch (l->kind) {
    case L_IPV4:
        return 4;
    case L_IPV6:
        return 41;
    case L_UDP:
        return 17;
    case L_GRE:
    case L_PPTP:
        return 47;
    case L_TCP:
        return 6;
    default:
        return 253; /* experimental */
    }
}

/* Builds a tunnel row; *l3_off is where the innermost IP header starts. */
static void tbuild(const struct trow *row, struct built *w, size_t *l3_off)
{
    struct patch patch[T_MAX_LAYERS];
    size_t n_patch = 0;
    static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 1 };
    static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0, 2 };
    static const uint8_t mac_vmware[6] = { 0x00, 0x50, 0x56, 0, 0, 1 };
    static const uint8_t mac_local[6] = { 0xa2, 0, 0, 0, 0, 3 };

    memset(w, 0, sizeof *w);
    *l3_off = 0;
    for (size_t i = 0; i < T_MAX_LAYERS && row->l[i].kind != L_END; i++) {
        const struct layer *l = &row->l[i];
        const struct layer *next = i + 1 < T_MAX_LAYERS ? &row->l[i + 1] : &row->l[i];
        switch (l->kind) {
        case L_ETH:
            put_bytes(w, l->b == 2 ? mac_vmware : l->b == 1 ? mac_local : mac_a, 6);
            put_bytes(w, l->b == 2 ? mac_vmware : mac_b, 6);
            put16(w, l->a != 0 ? l->a : type_of(next));
            break;
        case L_VLAN: {
            /* The tag's TPID was written by the layer before; the TCI and the next type. */
            put16(w, l->a);
            put16(w, l->b != 0 ? l->b : type_of(next));
            break;
        }
        case L_MPLS: {
            uint32_t n = l->a != 0 ? l->a : 1;
            for (uint32_t k = 0; k < n; k++) {
                uint32_t bottom = k + 1 == n && l->b == 0 ? 0x100u : 0;
                put32(w, (uint32_t)(16 + k) << 12 | bottom | 64u);
            }
            break;
        }
        case L_PWCW:
            put32(w, l->a);
            break;
        case L_PPPOE:
            put8(w, l->a != 0 ? l->a : 0x11);
            put8(w, l->b);
            put16(w, 0x1234); /* session id */
            patch[n_patch++] = (struct patch){ w->len, w->len + 2 };
            put16(w, 0);
            break;
        case L_PPP: {
            unsigned proto = l->a != 0 ? l->a : (next->kind == L_IPV6 ? 0x57u : 0x21u);
            if (l->b != 0) {
                put8(w, 0xff);
                put8(w, 0x03);
            }
            if (l->c != 0) {
                put8(w, proto);
            } else {
                put16(w, proto);
            }
            break;
        }
        case L_IPV4:
            if (l->a == 0) {
                *l3_off = w->len;
            }
            patch[n_patch++] = (struct patch){ w->len + 2, w->len };
            put8(w, 0x45);
            put8(w, 0);
            put16(w, 0);
            put16(w, 0x1234);
            put16(w, 0x4000);
            put8(w, 64);
            put8(w, l->b != 0 ? l->b : proto_of(next));
            put16(w, 0);
            put_bytes(w, l->a != 0 ? outer4_src : src4, 4);
            put_bytes(w, l->a != 0 ? outer4_dst : dst4, 4);
            break;
        case L_IPV6:
            if (l->a == 0) {
                *l3_off = w->len;
            }
            put32(w, 0x60000000u);
            patch[n_patch++] = (struct patch){ w->len, w->len + 36 };
            put16(w, 0);
            put8(w, l->b != 0 ? l->b : proto_of(next));
            put8(w, 64);
            put_bytes(w, l->a != 0 ? outer6_src : src6, 16);
            put_bytes(w, l->a != 0 ? outer6_dst : dst6, 16);
            break;
        case L_UDP:
            put16(w, l->b != 0 ? l->b : 50000);
            put16(w, l->a);
            if (l->c != 0) {
                put16(w, 7);
            } else {
                patch[n_patch++] = (struct patch){ w->len, w->len - 4 };
                put16(w, 0);
            }
            put16(w, 0);
            break;
        case L_GRE:
            put16(w, l->a);
            put16(w, l->b != 0 ? l->b : type_of(next));
            for (unsigned bit = 0x8000; bit >= 0x1000; bit >>= 1) {
                if (bit != 0x4000 && (l->a & bit) != 0) {
                    put32(w, 0xc0ffee00u);
                }
            }
            break;
        case L_PPTP: {
            unsigned flags = l->a != 0 ? l->a : 0x3001;
            put16(w, flags);
            put16(w, l->b != 0 ? l->b : 0x880b);
            size_t field = w->len;
            put16(w, 0);
            put16(w, 0x0042); /* call id */
            if ((flags & 0x1000) != 0) {
                put32(w, 7);
            }
            if ((flags & 0x0080) != 0) {
                put32(w, 6);
            }
            patch[n_patch++] = (struct patch){ field, w->len };
            break;
        }
        case L_ERSPAN2:
            put16(w, (l->a != 0 ? l->a : 1) << 12 | 100); /* version, VLAN */
            put16(w, 0x0801);                             /* COS, En, T, session 1 */
            put32(w, 0x00000abcu);                        /* index */
            break;
        case L_ERSPAN3:
            put16(w, (l->a != 0 ? l->a : 2) << 12 | 100);
            put16(w, 0x0801);
            put32(w, 0x12345678u); /* timestamp */
            put32(w, (l->c & 0x1fu) << 10 | (l->b != 0 ? 1u : 0u));
            if (l->b != 0) {
                put32(w, 0x0c000003u);
                put32(w, 0x15f742e8u);
            }
            break;
        case L_VXLAN:
            put8(w, l->a != 0 ? l->a : 0x08);
            put_fill(w, 0, 3);
            put32(w, 4242u << 8);
            break;
        case L_GENEVE:
            put8(w, (l->b << 6 | l->a) & 0xffu);
            put8(w, 0);
            put16(w, type_of(next));
            put32(w, 4242u << 8);
            put_fill(w, 0xee, (size_t)l->a * 4);
            break;
        case L_TEREDO:
            if ((l->a & 1u) != 0) {
                put8(w, 0);
                put8(w, 1);
                put8(w, 3); /* id length */
                put8(w, 2); /* auth length */
                put_fill(w, 0x41, 5);
                put_fill(w, 0x99, 9); /* nonce, confirmation */
            }
            if ((l->a & 2u) != 0) {
                put8(w, 0);
                put8(w, 0);
                put_fill(w, 0xab, 6);
            }
            break;
        case L_TCP:
            put16(w, T_SPORT);
            put16(w, T_DPORT);
            put32(w, T_SEQ);
            put32(w, T_ACK);
            put8(w, 0x50);
            put8(w, T_FLAGS);
            put16(w, 0xffff);
            put16(w, 0);
            put16(w, 0);
            w->payload_off = w->len;
            for (size_t k = 0; k < T_PAYLOAD_LEN; k++) {
                put8(w, (unsigned)('a' + k));
            }
            break;
        case L_END:
        default:
            break;
        }
    }
    for (size_t i = 0; i < n_patch; i++) {
        size_t v = w->len - patch[i].start;
        w->b[patch[i].field] = (uint8_t)(v >> 8);
        w->b[patch[i].field + 1] = (uint8_t)(v & 0xffu);
    }
    w->caplen = w->len;
    CHECK(!w->overflow);
}

static enum decode_link trow_link(const struct trow *row)
{
    return row->l[0].kind == L_ETH ? DECODE_LINK_ETHERNET : DECODE_LINK_RAW;
}

/* The innermost IP version of a row. */
static int trow_ip_version(const struct trow *row)
{
    int v = 0;
    for (size_t i = 0; i < T_MAX_LAYERS && row->l[i].kind != L_END; i++) {
        if (row->l[i].kind == L_IPV4 || row->l[i].kind == L_IPV6) {
            v = row->l[i].kind == L_IPV4 ? 4 : 6;
        }
    }
    return v;
}

/* A tunnel row decoded as built: status, the one outcome counter, the layer's counter, the
 * innermost segment's view; and decoded again from its innermost IP header alone (which
 * classify relies on when it replays held packets), to the same segment. */
/* The trail each tunnel row's packet arrives with (decode_trail_format), by row name. */
#define O4 "203.0.113.1>203.0.113.2"
#define O6 "2001:db8:ff00::1>2001:db8:ff00::2"
static const struct {
    const char *row, *trail;
} trow_trails[] = {
    { "mpls ipv4", "mpls label=16" },
    { "mpls 3 labels ipv6", "mpls label=18" },
    { "mpls 0x8848 in vlan", "vlan id=77, mpls label=17" },
    { "mpls labels at limit", "mpls label=31" },
    { "mpls pw with control word", "mpls label=17, mpls-pw" },
    { "mpls pw without control word", "mpls label=16, mpls-pw, vlan id=5" },
    { "mpls pw without cw, address 00:", "mpls label=16, mpls-pw" },
    { "pppoe ipv4", "pppoe session=4660" },
    { "pppoe qinq ipv6", "vlan id=100, vlan id=200, pppoe session=4660" },
    { "pppoe compressed protocol", "pppoe session=4660" },
    { "pppoe mpls", "pppoe session=4660, mpls label=16" },
    { "gre ipv4", "gre " O4 },
    { "gre csum key seq ipv6", "gre key=3237998080 " O4 },
    { "gre over ipv6, bridging, vlan", "gre key=3237998080 " O6 ", vlan id=2748" },
    { "gre mpls", "gre " O4 ", mpls label=16" },
    { "gre in gre", "gre " O4 ", gre key=3237998080 " O4 },
    { "gre over udp 4754", "gre-udp " O4 ", gre" },
    { "erspan type I", "gre " O4 ", erspan1" },
    { "erspan type II", "gre " O4 ", erspan2 session=1" },
    { "erspan type II over ipv6", "gre " O6 ", erspan2 session=1" },
    { "erspan type III", "gre " O4 ", erspan3 session=1" },
    { "erspan type III platform, vlan", "gre " O4 ", erspan3 session=1, vlan id=10" },
    { "erspan type III ip frame", "gre " O6 ", erspan3 session=1" },
    { "pptp ppp ipv4", "pptp call=66 " O4 },
    { "pptp ack, compressed ppp ipv6", "pptp call=66 " O4 },
    { "vxlan", "vxlan vni=4242 " O4 },
    { "vxlan 8472 over ipv6, qinq inside", "vxlan vni=4242 " O6 ", vlan id=30, vlan id=31" },
    { "geneve", "geneve vni=4242 " O4 },
    { "geneve options, ipv4 inside", "geneve vni=4242 " O6 },
    { "teredo", "teredo " O4 },
    { "teredo auth and origin", "teredo " O4 },
    { "teredo origin", "teredo " O4 },
    { "4in4", "ipip " O4 },
    { "6in4", "ipip " O4 },
    { "4in6", "ipip " O6 },
    { "6in6 raw link", "ipip " O6 },
    { "ipip at the depth limit", "ipip " O4 ", ipip " O4 ", ipip " O4 ", ipip " O4 ", ipip " O4
                                 ", ipip " O4 ", ipip " O4 ", ipip " O4 },
    { "mixed to the depth limit",
      "mpls label=16, mpls-pw, gre " O4 ", erspan2 session=1, vxlan vni=4242 " O6
      ", pppoe session=4660, geneve vni=4242 " O4 ", ipip " O4 },
    { "ipip at the depth limit, tagged",
      "vlan id=7, ipip " O4 ", ipip " O4 ", ipip " O4 ", ipip " O4 ", ipip " O4 ", ipip " O4
      ", ipip " O4 ", ..." },
};

static const char *trow_trail(const char *name)
{
    for (size_t i = 0; i < sizeof trow_trails / sizeof trow_trails[0]; i++) {
        if (strcmp(trow_trails[i].row, name) == 0) {
            return trow_trails[i].trail;
        }
    }
    return "(no trail listed for this row)";
}

static void check_trow(size_t idx)
{
    const struct trow *row = &trows[idx];
    struct built w;
    struct decode_stats st;
    struct pkt p;
    size_t l3_off;

    tbuild(row, &w, &l3_off);
    memset(&st, 0, sizeof st);
    memset(&p, 0, sizeof p);
    enum decode_status status = decode_packet(trow_link(row), w.b, w.caplen, w.len, T_TS, &p, &st);
    CHECK_EQ_U(status, row->want);
    CHECK_EQ_U(check_one_counter(&st, status), row->counter);
    if (row->note_n != 0) {
        CHECK_EQ_U(stat_at(&st, row->note), row->note_n);
    }
    if (status != DECODE_OK || row->want != DECODE_OK) {
        return;
    }
    int v = trow_ip_version(row);
    CHECK_EQ_U(p.ip_version, v);
    CHECK_EQ_U(p.sport, T_SPORT);
    CHECK_EQ_U(p.dport, T_DPORT);
    CHECK_EQ_U(p.seq, T_SEQ);
    CHECK_EQ_U(p.ack, T_ACK);
    CHECK_EQ_U(p.tcp_flags, T_FLAGS);
    CHECK_EQ_U(p.vlan, row->want_vlan);
    CHECK(memcmp(p.src, v == 4 ? src4 : src6, v == 4 ? 4 : 16) == 0);
    CHECK(memcmp(p.dst, v == 4 ? dst4 : dst6, v == 4 ? 4 : 16) == 0);
    CHECK(p.l3 == w.b + l3_off);
    CHECK_EQ_U(p.l3_len, w.len - l3_off);
    CHECK(p.payload == w.b + w.payload_off);
    CHECK_EQ_U(p.payload_len, T_PAYLOAD_LEN);
    CHECK_EQ_U(p.seg_len, T_PAYLOAD_LEN);
    CHECK_EQ_U(st.truncated, 0);
    char trail[FLOW_MAX_TUNNEL_TEXT];
    decode_trail_format(&p.trail, trail, sizeof trail);
    if (strcmp(trail, trow_trail(row->name)) != 0) {
        fprintf(stderr, "%s: trail \"%s\"\n", row->name, trail);
    }
    CHECK(strcmp(trail, trow_trail(row->name)) == 0);

    struct decode_stats st2;
    struct pkt p2;
    memset(&st2, 0, sizeof st2);
    CHECK_EQ_U(decode_packet(DECODE_LINK_RAW, p.l3, p.l3_len, p.l3_len, T_TS, &p2, &st2),
               DECODE_OK);
    CHECK(p2.payload == p.payload && p2.payload_len == p.payload_len && p2.seq == p.seq &&
          memcmp(p2.src, p.src, sizeof p.src) == 0 && memcmp(p2.dst, p.dst, sizeof p.dst) == 0);
}

/* A tunnel row cut at every length, each in a heap buffer of exactly that size, then with
 * each byte corrupted: one counter per call, and a row that decodes whole decodes with what
 * payload it still holds once every header is there, and not before. */
static void check_trow_robust(size_t idx)
{
    const struct trow *row = &trows[idx];
    struct built w;
    struct pkt p;
    enum decode_status status;
    size_t l3_off;
    enum decode_link link = trow_link(row);

    tbuild(row, &w, &l3_off);
    for (size_t cut = 0; cut <= w.len; cut++) {
        uint8_t *b = malloc(cut > 0 ? cut : 1);
        CHECK(b != NULL);
        if (b == NULL) {
            return;
        }
        memcpy(b, w.b, cut);
        decode_checked(link, b, cut, &status, &p);
        if (row->want == DECODE_OK) {
            if (cut < w.payload_off) {
                CHECK(status != DECODE_OK);
            } else {
                CHECK_EQ_U(status, DECODE_OK);
                CHECK_EQ_U(p.payload_len, cut - w.payload_off);
                CHECK_EQ_U(p.seg_len, T_PAYLOAD_LEN);
            }
        }
        free(b);
    }
    for (size_t off = 0; off < w.caplen; off++) {
        uint8_t saved = w.b[off];
        const uint8_t variants[] = { 0x00, 0xff, (uint8_t)(saved ^ 0x80u), (uint8_t)(saved ^ 0x01u),
                                     (uint8_t)(saved ^ 0x10u) };
        for (size_t v = 0; v < sizeof variants; v++) {
            w.b[off] = variants[v];
            decode_checked(link, w.b, w.caplen, &status, &p);
        }
        w.b[off] = saved;
    }
}

/* decode_blind_reason: the outcome a user can act on that counted most, and their total. */
static void test_blind_reason(void)
{
    char phrase[160];
    struct decode_stats st;
    uint64_t count, total;
    memset(&st, 0, sizeof st);
    st.tcp = 100;
    st.not_tcp = 1000; /* plain UDP: not a reason */
    CHECK(decode_blind_reason(&st, 0, &count, &total, phrase, sizeof phrase) == NULL);
    CHECK_EQ_U(count, 0);
    CHECK_EQ_U(total, 0);
    st.ip_fragments = 30;
    st.not_ip = 20;
    st.encap_too_deep = 3;
    st.vlan_too_deep = 4;
    const char *why = decode_blind_reason(&st, 0, &count, &total, phrase, sizeof phrase);
    CHECK(why != NULL && strstr(why, "fragments") != NULL);
    CHECK_EQ_U(count, 30);
    CHECK_EQ_U(total, 57);
    /* Fragments that went into a reassembled datagram were seen into. */
    why = decode_blind_reason(&st, 25, &count, &total, phrase, sizeof phrase);
    CHECK(why != NULL && strstr(why, "not IP") != NULL);
    CHECK_EQ_U(count, 20);
    CHECK_EQ_U(total, 32);
    why = decode_blind_reason(&st, 99, &count, &total, phrase, sizeof phrase); /* never below 0 */
    CHECK_EQ_U(total, 27);
    st.encap_unsupported = 31;
    why = decode_blind_reason(&st, 0, &count, &total, phrase, sizeof phrase);
    CHECK(why != NULL && strstr(why, "tunnels") != NULL);
    CHECK_EQ_U(count, 31);
    st.udp_tunnel_like = 40;
    st.tunnel_like_port = 6090;
    st.is_tunnel_like_geneve = true;
    why = decode_blind_reason(&st, 0, &count, &total, phrase, sizeof phrase);
    CHECK(why != NULL && strstr(why, "UDP to port 6090 that looks like Geneve") != NULL &&
          strstr(why, "--geneve-port") != NULL);
    CHECK_EQ_U(count, 40);
}

/* The outcome table covers every counter decode.h names as an outcome. */
static void test_outcome_table(void)
{
    CHECK_EQ_U(N_COUNTERS, T_N_OUTCOMES);
}

int main(void)
{
    RUN(test_ipv4_tso_len_zero);
    char name[128];

    for (size_t i = 0; i < N_ROWS; i++) {
        check_row(i);
        CASE_DONE(rows[i].name);
    }
    for (size_t i = 0; i < N_ROWS; i++) {
        check_row_robust(i);
        snprintf(name, sizeof name, "cut and corrupt: %s", rows[i].name);
        CASE_DONE(name);
    }
    for (size_t i = 0; i < N_TROWS; i++) {
        check_trow(i);
        CASE_DONE(trows[i].name);
    }
    for (size_t i = 0; i < N_TROWS; i++) {
        check_trow_robust(i);
        snprintf(name, sizeof name, "cut and corrupt: %s", trows[i].name);
        CASE_DONE(name);
    }
    RUN(test_stats_accumulate);
    RUN(test_out_untouched_on_skip);
    RUN(test_blind_reason);
    RUN(test_outcome_table);
    return TEST_SUMMARY();
}
