/* decode.c - link, VLAN, tunnels, IPv4/IPv6 and TCP headers of one captured packet into a
 * struct pkt.
 *
 * One struct rd walks the packet from the link header to the TCP payload, starting from the
 * captured length (wirelen is never trusted). Each layer reads its whole fixed header, checks
 * the sticky bad flag once, then checks its length fields against their minimum and against
 * what remains before using them. An IP header cuts the reader to the length it claims, so
 * Ethernet padding never becomes payload, and it passes the claimed TCP length on so that a
 * segment cut by the snap length is told apart from a malformed one. IPv4 follows RFC 791
 * (options skipped; a fragment ends the walk: decode_frame hands it to its caller for defrag,
 * whose datagram comes back through decode_frame with the outer context), IPv6 RFC 8200
 * (extension header chain
 * of at most DECODE_MAX_IPV6_EXT headers; AH lengths per RFC 4302), TCP RFC 9293 (which
 * obsoletes RFC 793). 802.1Q and 802.1ad tags are peeled up to DECODE_MAX_VLAN_TAGS.
 *
 * Tunnels are peeled on the way in, each layer counted (decode.encap_*) and charged against
 * DECODE_MAX_ENCAP, which also bounds the recursion: MPLS label stacks (RFC 3032) with IP after
 * the bottom label or an Ethernet pseudowire (RFC 4448, with or without the RFC 4385 control
 * word); PPPoE sessions (RFC 2516) carrying PPP (RFC 1661, protocol field compression too);
 * GRE (RFC 2784 with RFC 2890's key and sequence number) carrying IP, MPLS (RFC 4023),
 * Ethernet (transparent bridging, 0x6558) or ERSPAN types I, II and III; PPTP's enhanced GRE
 * (RFC 2637); GRE in UDP (RFC 8086); VXLAN (RFC 7348); Geneve (RFC 8926, options skipped by
 * their length); IPv4 and IPv6 in IPv4 or IPv6 (RFC 2003, RFC 4213, RFC 2473); Teredo (RFC
 * 4380). The view is the innermost segment: its addresses, ports and IP header. A layer's
 * own reader view is cut to what the layer claims wherever it claims a length (IP, UDP,
 * PPPoE, PPTP), so an inner packet can never read its outer packet's trailer.
 *
 * Most packets on a link are untagged Ethernet, IPv4 without options or IPv6 without
 * extension headers, and TCP: decode_fast reads those at fixed offsets after one length check
 * and hands everything else, including anything a counter other than tcp would count, to the
 * general path above. The two must agree; the unit tests and fuzz_decode hold them to it.
 */
#include "decode.h"

#include <arpa/inet.h>
#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "rd.h"
#include "tunables.h"

/* Ethertypes (also GRE and Geneve protocol types). Values below 0x0600 are IEEE 802.3 length
 * fields (LLC frames), not types. */
#define DECODE_ETHERTYPE_IPV4       0x0800u
#define DECODE_ETHERTYPE_ARP        0x0806u
#define DECODE_ETHERTYPE_IPV6       0x86ddu
#define DECODE_ETHERTYPE_8021Q      0x8100u
#define DECODE_ETHERTYPE_8021AD     0x88a8u
#define DECODE_ETHERTYPE_QINQ_9100  0x9100u /* pre-802.1ad QinQ, still sent by some switches */
#define DECODE_ETHERTYPE_MPLS       0x8847u
#define DECODE_ETHERTYPE_MPLS_MCAST 0x8848u
#define DECODE_ETHERTYPE_PPPOE_DISC 0x8863u
#define DECODE_ETHERTYPE_PPPOE_SESS 0x8864u
#define DECODE_ETHERTYPE_LLDP       0x88ccu
#define DECODE_ETHERTYPE_TEB        0x6558u /* transparent Ethernet bridging: Ethernet follows */
#define DECODE_ETHERTYPE_ERSPAN_1_2 0x88beu
#define DECODE_ETHERTYPE_ERSPAN_3   0x22ebu
#define DECODE_ETHERTYPE_PPP        0x880bu /* PPTP's enhanced GRE */
#define DECODE_VLAN_ID_MASK         0x0fffu

/* Link header sizes, bytes. SLL carries the ethertype in its last two bytes, SLL2 in its
 * first two. */
#define DECODE_ETH_ADDRS_LEN    12
#define DECODE_ETH_HDR_LEN      14
#define DECODE_SLL_PROTO_OFF    14
#define DECODE_SLL2_AFTER_PROTO 18

/* BSD loopback address families. AF_INET is 2 everywhere; AF_INET6 is 24 on
 * OpenBSD/NetBSD/BSD/OS, 28 on FreeBSD and DragonFly, 30 on macOS. */
#define DECODE_AF_INET          2u
#define DECODE_AF_INET6_BSD     24u
#define DECODE_AF_INET6_FREEBSD 28u
#define DECODE_AF_INET6_DARWIN  30u

#define DECODE_IPV4_MIN_HDR     20
#define DECODE_IPV4_ADDR_LEN    4
#define DECODE_IPV4_MF          0x2000u
#define DECODE_IPV4_OFFSET_MASK 0x1fffu
#define DECODE_IPV6_ADDR_LEN    16
#define DECODE_IPV6_HDR_LEN     40
#define DECODE_TCP_MIN_HDR      20
#define DECODE_UDP_HDR_LEN      8

/* IP protocol / IPv6 next-header numbers. */
#define DECODE_IPPROTO_HOPOPTS  0u
#define DECODE_IPPROTO_IPIP     4u
#define DECODE_IPPROTO_TCP      6u
#define DECODE_IPPROTO_UDP      17u
#define DECODE_IPPROTO_IPV6     41u
#define DECODE_IPPROTO_ROUTING  43u
#define DECODE_IPPROTO_FRAGMENT 44u
#define DECODE_IPPROTO_GRE      47u
#define DECODE_IPPROTO_ESP      50u
#define DECODE_IPPROTO_AH       51u
#define DECODE_IPPROTO_DSTOPTS  60u
#define DECODE_IPPROTO_L2TP     115u

/* IPv6 fragment header: 8 bytes; offset in the top 13 bits of the field, M in the lowest. */
#define DECODE_IPV6_FRAG_LEN         8
#define DECODE_IPV6_FRAG_OFFSET_MASK 0xfff8u
#define DECODE_IPV6_FRAG_M           0x0001u

/* UDP destination ports of the tunnels peeled (IANA; 8472 is the Linux kernel's VXLAN
 * default), and of those recognised but not peeled. Teredo is recognised on either port. */
#define DECODE_PORT_VXLAN       4789u
#define DECODE_PORT_VXLAN_LINUX 8472u
#define DECODE_PORT_GENEVE      6081u
#define DECODE_PORT_GRE_UDP     4754u
#define DECODE_PORT_TEREDO      3544u
#define DECODE_PORT_L2TP        1701u
#define DECODE_PORT_GTP_U       2152u
#define DECODE_PORT_VXLAN_GPE   4790u

/* GRE (RFC 2784, RFC 2890; version 1 RFC 2637): flags and version in the first 16 bits. */
#define DECODE_GRE_C        0x8000u /* checksum and reserved1 present */
#define DECODE_GRE_R        0x4000u /* RFC 1701 routing: a receiver of RFC 2784 discards */
#define DECODE_GRE_K        0x2000u /* key present */
#define DECODE_GRE_S        0x1000u /* sequence number present */
#define DECODE_GRE_SSR      0x0800u /* RFC 1701 strict source route: discarded likewise */
#define DECODE_GRE_RECUR    0x0700u /* RFC 1701 recursion control; 0 in PPTP */
#define DECODE_GRE_A        0x0080u /* PPTP: acknowledgment number present */
#define DECODE_GRE_V1_FLAGS 0x0078u /* PPTP: flags that must be 0 */
#define DECODE_GRE_VER      0x0007u
#define DECODE_GRE_OPT_LEN  4 /* each optional field: checksum+reserved1, key, sequence */

/* ERSPAN: types II and III carry the version in the top nibble of their first word. Type
 * III's third word ends in the O bit, which announces an 8-byte platform-specific sub-header,
 * and carries a 5-bit frame type (0 Ethernet, 2 IP) in bits 10..14. */
#define DECODE_ERSPAN2_HDR_LEN  8
#define DECODE_ERSPAN2_VERSION  1u
#define DECODE_ERSPAN3_HDR_LEN  12
#define DECODE_ERSPAN3_VERSION  2u
#define DECODE_ERSPAN3_O        0x00000001u
#define DECODE_ERSPAN3_FT_SHIFT 10
#define DECODE_ERSPAN3_FT_MASK  0x1fu
#define DECODE_ERSPAN3_FT_ETH   0u
#define DECODE_ERSPAN3_FT_IP    2u
#define DECODE_ERSPAN3_PLATFORM 8
#define DECODE_ERSPAN_SESSION_MASK                                                                 \
    0x03ffu /* both types: the low 10 bits of the second half-word                                 \
             */

/* MPLS (RFC 3032): 4-byte label stack entries, bottom of stack in bit 8. After the stack the
 * first nibble tells (RFC 4385, RFC 4928): 4 IPv4, 6 IPv6, 0 a pseudowire control word, 1 the
 * associated channel (OAM, not data); anything else is an Ethernet pseudowire without one. */
#define DECODE_MPLS_ENTRY_LEN   4
#define DECODE_MPLS_BOTTOM      0x00000100u
#define DECODE_MPLS_LABEL_SHIFT 12 /* the label: the top 20 bits */
#define DECODE_PW_CW_LEN        4

/* PPPoE session header (RFC 2516 4.4): version 1 and type 1 in one byte, code 0. */
#define DECODE_PPPOE_VERTYPE 0x11u
#define DECODE_PPPOE_HDR_LEN 6

/* PPP (RFC 1661, RFC 1662): the address and control bytes HDLC framing may leave in front, and
 * the protocols peeled; a protocol field's first byte is odd when it was compressed to one. */
#define DECODE_PPP_ADDRESS   0xffu
#define DECODE_PPP_CONTROL   0x03u
#define DECODE_PPP_IPV4      0x0021u
#define DECODE_PPP_IPV6      0x0057u
#define DECODE_PPP_MPLS      0x0281u
#define DECODE_PPP_COMP      0x00fdu /* compressed datagram (MPPE, encrypted too) */
#define DECODE_PPP_COMP_LINK 0x00fbu /* individual link compressed datagram */

/* VXLAN (RFC 7348): 8 bytes, the I flag says the VNI is valid; other bits are ignored. */
#define DECODE_VXLAN_HDR_LEN 8
#define DECODE_VXLAN_I       0x08u

/* Geneve (RFC 8926): 8 bytes, version in the top 2 bits and the options' length in 4-byte
 * words in the low 6 bits of the first byte. */
#define DECODE_GENEVE_HDR_LEN  8
#define DECODE_GENEVE_OPT_MASK 0x3fu
#define DECODE_GENEVE_OPT_UNIT 4

/* Teredo (RFC 4380 5.1.1): indications in front of the IPv6 packet, each opening with a zero
 * byte: authentication (type 1: id length, auth length, id, auth, 8-byte nonce, confirmation
 * byte) and origin (type 0: port and address, 8 bytes), in that order. */
#define DECODE_TEREDO_AUTH       1u
#define DECODE_TEREDO_ORIGIN     0u
#define DECODE_TEREDO_AUTH_TAIL  9 /* nonce and confirmation */
#define DECODE_TEREDO_ORIGIN_LEN 8

/* One walk through a packet: the view being filled, the counters, and the encapsulation
 * layers peeled so far. */
struct walk {
    struct pkt *p;
    struct decode_stats *st;
    size_t depth;
    struct decode_frag *frag; /* where a fragment is described; NULL: fragments are skipped */
    const struct decode_config *cfg; /* extra tunnel ports; NULL: the defaults alone */
    /* The IP header just read, when the next layer is carried in it directly (or in its UDP):
     * that layer's record in the trail takes the addresses. */
    const uint8_t *ip_src, *ip_dst;
    uint8_t ip_version; /* 0: no IP header waiting for a layer */
};

static enum decode_status count_skip(uint64_t *counter)
{
    (*counter)++;
    return DECODE_SKIP;
}

static enum decode_status count_bad(uint64_t *counter)
{
    (*counter)++;
    return DECODE_BAD;
}

static void trail_copy(struct decode_trail *to, const struct decode_trail *from)
{
    to->n = from->n;
    to->is_cut = from->is_cut;
    memcpy(to->l, from->l, (size_t)from->n * sizeof from->l[0]);
}

/* Records one layer in the packet's trail: its kind, its id when has_id, and the addresses of
 * the IP header that carried it when one is waiting (see struct walk). */
static void trail_add(struct walk *w, enum decode_layer_kind kind, bool has_id, uint32_t id)
{
    struct decode_trail *t = &w->p->trail;
    uint8_t ip_version = w->ip_version;
    w->ip_version = 0;
    if (t->n == DECODE_TRAIL_MAX) {
        t->is_cut = 1;
        return;
    }
    struct decode_layer *l = &t->l[t->n++];
    l->kind = (uint8_t)kind;
    l->has_id = has_id ? 1 : 0;
    l->id = has_id ? id : 0;
    l->ip_version = ip_version;
    size_t len = ip_version == 6 ? DECODE_IPV6_ADDR_LEN : DECODE_IPV4_ADDR_LEN;
    memset(l->src, 0, sizeof l->src);
    memset(l->dst, 0, sizeof l->dst);
    if (ip_version != 0) {
        memcpy(l->src, w->ip_src, len);
        memcpy(l->dst, w->ip_dst, len);
    }
}

/* A fragment met at l3 (version and addresses known, hdr_len bytes of header before its data,
 * r cut to the claim and standing at the data, claim data bytes claimed): counted, and
 * described in *w->frag when the caller takes fragments. */
static enum decode_status take_fragment(struct rd *r, const uint8_t *l3, size_t hdr_len,
                                        size_t claim, struct walk *w)
{
    struct decode_stats *st = w->st;
    struct decode_frag *f = w->frag;
    st->ip_fragments++;
    if (f == NULL) {
        return DECODE_SKIP;
    }
    f->l3 = l3;
    f->hdr_len = hdr_len;
    f->data = r->p + r->off;
    f->data_len = rd_left(r);
    f->data_claim = claim;
    f->outer.vlan = w->p->vlan;
    f->outer.depth = (uint8_t)w->depth;
    trail_copy(&f->outer.trail, &w->p->trail);
    return DECODE_FRAGMENT;
}

/* One more encapsulation layer, counted in *layer and recorded in the trail as kind with id
 * (has_id). False (and encap_too_deep counted) when DECODE_MAX_ENCAP layers are peeled
 * already. */
static bool peel_id(struct walk *w, uint64_t *layer, enum decode_layer_kind kind, bool has_id,
                    uint32_t id)
{
    if (w->depth >= DECODE_MAX_ENCAP) {
        w->st->encap_too_deep++;
        return false;
    }
    w->depth++;
    (*layer)++;
    trail_add(w, kind, has_id, id);
    return true;
}

/* peel_id for a layer without an id. */
static bool peel(struct walk *w, uint64_t *layer, enum decode_layer_kind kind)
{
    return peel_id(w, layer, kind, false, 0);
}

const char *decode_layer_name(uint8_t kind)
{
    static const char *const names[] = {
        [DECODE_LAYER_VLAN] = "vlan",       [DECODE_LAYER_MPLS] = "mpls",
        [DECODE_LAYER_MPLS_PW] = "mpls-pw", [DECODE_LAYER_PPPOE] = "pppoe",
        [DECODE_LAYER_GRE] = "gre",         [DECODE_LAYER_GRE_UDP] = "gre-udp",
        [DECODE_LAYER_PPTP] = "pptp",       [DECODE_LAYER_ERSPAN1] = "erspan1",
        [DECODE_LAYER_ERSPAN2] = "erspan2", [DECODE_LAYER_ERSPAN3] = "erspan3",
        [DECODE_LAYER_VXLAN] = "vxlan",     [DECODE_LAYER_GENEVE] = "geneve",
        [DECODE_LAYER_IPIP] = "ipip",       [DECODE_LAYER_TEREDO] = "teredo",
    };
    if (kind >= sizeof names / sizeof names[0] || names[kind] == NULL) {
        return "unknown";
    }
    return names[kind];
}

void decode_trail_format(const struct decode_trail *t, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < t->n && used < cap; i++) {
        const struct decode_layer *l = &t->l[i];
        const char *id_name = decode_layer_id_name(l->kind);
        int n =
            snprintf(buf + used, cap - used, "%s%s", i > 0 ? ", " : "", decode_layer_name(l->kind));
        used += n > 0 ? (size_t)n : 0;
        if (l->has_id && id_name != NULL && used < cap) {
            n = snprintf(buf + used, cap - used, " %s=%u", id_name, (unsigned)l->id);
            used += n > 0 ? (size_t)n : 0;
        }
        if (l->ip_version != 0 && used < cap) {
            char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
            int af = l->ip_version == 6 ? AF_INET6 : AF_INET;
            if (inet_ntop(af, l->src, a, sizeof a) == NULL ||
                inet_ntop(af, l->dst, b, sizeof b) == NULL) {
                snprintf(a, sizeof a, "?");
                snprintf(b, sizeof b, "?");
            }
            n = snprintf(buf + used, cap - used, " %s>%s", a, b);
            used += n > 0 ? (size_t)n : 0;
        }
    }
    if (t->is_cut && used < cap) {
        snprintf(buf + used, cap - used, ", ...");
    }
}

const char *decode_layer_id_name(uint8_t kind)
{
    switch (kind) {
    case DECODE_LAYER_VLAN:
        return "id";
    case DECODE_LAYER_MPLS:
        return "label";
    case DECODE_LAYER_PPPOE:
    case DECODE_LAYER_ERSPAN2:
    case DECODE_LAYER_ERSPAN3:
        return "session";
    case DECODE_LAYER_GRE:
        return "key";
    case DECODE_LAYER_PPTP:
        return "call";
    case DECODE_LAYER_VXLAN:
    case DECODE_LAYER_GENEVE:
        return "vni";
    default:
        return NULL;
    }
}

/* Cuts r so that at most n bytes remain from its position: a length field shorter than the
 * capture wins (trailing bytes are link padding); a longer one changes nothing, because the
 * capture bounds every read. */
static void cut_to(struct rd *r, size_t n)
{
    if (n < rd_left(r)) {
        r->len = r->off + n;
    }
}

/* The first byte left in r, without moving; false when none is left. */
static bool peek_u8(const struct rd *r, uint8_t *v)
{
    struct rd peek = *r;
    *v = rd_u8(&peek);
    return !peek.bad;
}

/* The TCP fields of p from the header h of hdr_len bytes, of which avail bytes (header and
 * payload) were captured out of the claim the IP layer announced; hdr_len <= avail <= claim. */
static inline void fill_tcp(const uint8_t *h, size_t hdr_len, size_t avail, size_t claim,
                            struct pkt *p)
{
    p->sport = rd_get_be16(h);
    p->dport = rd_get_be16(h + 2);
    p->seq = rd_get_be32(h + 4);
    p->ack = rd_get_be32(h + 8);
    p->tcp_flags = h[13];
    p->payload = h + hdr_len;
    p->payload_len = avail - hdr_len;
    p->seg_len = claim - hdr_len;
}

/* r starts at the TCP header and ends at min(captured, claimed); claim is the segment length
 * (header and payload) the IP layer announced. */
static enum decode_status decode_tcp(struct rd *r, size_t claim, struct walk *w)
{
    struct decode_stats *st = w->st;
    size_t avail = rd_left(r);
    /* The IP layer cut r to its claim, so a header past the capture test below also covers one
     * past the segment, and a claim under 20 bytes fails the header read. */
    assert(avail <= claim);
    /* One bounds check for the fixed header, then fixed offsets into it (RFC 9293 3.1). */
    const uint8_t *h = rd_take(r, DECODE_TCP_MIN_HDR);
    if (h == NULL) {
        return count_bad(&st->bad_tcp);
    }
    size_t hdr_len = (size_t)(h[12] >> 4) * 4;
    if (hdr_len < DECODE_TCP_MIN_HDR || hdr_len > avail) {
        return count_bad(&st->bad_tcp);
    }
    /* Options and payload: hdr_len <= avail, so both lie inside the view. */
    fill_tcp(h, hdr_len, avail, claim, w->p);
    if (w->p->payload_len < w->p->seg_len) {
        st->truncated++;
    }
    st->tcp++;
    return DECODE_OK;
}

static enum decode_status decode_ipv4(struct rd *r, struct walk *w);
static enum decode_status decode_ipv6(struct rd *r, struct walk *w);
static enum decode_status decode_ethertype(struct rd *r, uint16_t type, struct walk *w);
static enum decode_status decode_eth(struct rd *r, uint64_t *bad, struct walk *w);
static enum decode_status decode_gre(struct rd *r, struct walk *w);
static enum decode_status decode_mpls(struct rd *r, struct walk *w);

/* An IP packet whose version nibble decides, for layers that carry either without saying
 * which (MPLS, ERSPAN III's IP frames). r has at least one byte. */
static enum decode_status decode_ip_by_version(struct rd *r, uint8_t first, struct walk *w)
{
    if ((first >> 4) == 4) {
        return decode_ipv4(r, w);
    }
    if ((first >> 4) == 6) {
        return decode_ipv6(r, w);
    }
    return count_skip(&w->st->not_ip);
}

/* Teredo (RFC 4380): r stands after the UDP header. Its indications are skipped; what follows
 * must look like IPv6, or the datagram is other UDP on the Teredo port. */
static enum decode_status decode_teredo(struct rd *r, struct walk *w)
{
    struct decode_stats *st = w->st;
    uint8_t b = 0;
    /* At most one authentication then one origin indication: each begins with a zero byte,
     * which an IPv6 header never does. */
    for (int n = 0; n < 2 && peek_u8(r, &b) && b == 0; n++) {
        rd_skip(r, 1);
        uint8_t type = rd_u8(r);
        if (type == DECODE_TEREDO_AUTH && n == 0) {
            size_t id_len = rd_u8(r);
            size_t au_len = rd_u8(r);
            rd_skip(r, id_len + au_len + DECODE_TEREDO_AUTH_TAIL);
        } else if (type == DECODE_TEREDO_ORIGIN) {
            rd_skip(r, DECODE_TEREDO_ORIGIN_LEN - 2);
        } else {
            return count_skip(&st->not_tcp); /* not an indication: not Teredo */
        }
        if (r->bad) {
            return count_bad(&st->bad_teredo);
        }
    }
    if (!peek_u8(r, &b) || (b >> 4) != 6 || rd_left(r) < DECODE_IPV6_HDR_LEN) {
        return count_skip(&st->not_tcp);
    }
    if (!peel(w, &st->encap_teredo, DECODE_LAYER_TEREDO)) {
        return DECODE_BAD;
    }
    return decode_ipv6(r, w);
}

/* VXLAN (RFC 7348): r stands after the UDP header; Ethernet follows. */
static enum decode_status decode_vxlan(struct rd *r, struct walk *w)
{
    struct decode_stats *st = w->st;
    const uint8_t *h = rd_take(r, DECODE_VXLAN_HDR_LEN);
    if (h == NULL || (h[0] & DECODE_VXLAN_I) == 0) {
        return count_bad(&st->bad_vxlan);
    }
    if (!peel_id(w, &st->encap_vxlan, DECODE_LAYER_VXLAN, true, rd_get_be32(h + 4) >> 8)) {
        return DECODE_BAD;
    }
    return decode_eth(r, &st->bad_vxlan, w);
}

/* Geneve (RFC 8926): r stands after the UDP header. The protocol type says what follows:
 * Ethernet (0x6558) or any ethertype. */
static enum decode_status decode_geneve(struct rd *r, struct walk *w)
{
    struct decode_stats *st = w->st;
    const uint8_t *h = rd_take(r, DECODE_GENEVE_HDR_LEN);
    if (h == NULL || (h[0] >> 6) != 0) {
        return count_bad(&st->bad_geneve);
    }
    rd_skip(r, (size_t)(h[0] & DECODE_GENEVE_OPT_MASK) * DECODE_GENEVE_OPT_UNIT);
    if (r->bad) {
        return count_bad(&st->bad_geneve);
    }
    if (!peel_id(w, &st->encap_geneve, DECODE_LAYER_GENEVE, true, rd_get_be32(h + 4) >> 8)) {
        return DECODE_BAD;
    }
    uint16_t type = rd_get_be16(h + 2);
    if (type == DECODE_ETHERTYPE_TEB) {
        return decode_eth(r, &st->bad_geneve, w);
    }
    return decode_ethertype(r, type, w);
}

/* Whether the bytes at r's position (an Ethernet header's) begin a frame that carries IP or a
 * VLAN tag. */
static bool is_eth_ip_at(const struct rd *r, size_t off)
{
    struct rd peek = *r;
    rd_skip(&peek, off + DECODE_ETH_ADDRS_LEN);
    uint16_t type = rd_be16(&peek);
    return !peek.bad && (type == DECODE_ETHERTYPE_IPV4 || type == DECODE_ETHERTYPE_IPV6 ||
                         type == DECODE_ETHERTYPE_8021Q);
}

/* UDP to a port decode does not peel (r at the UDP header): when its payload looks like VXLAN
 * (flags 0x08, reserved bytes zero) or Geneve (version 0, protocol 0x6558) with an Ethernet
 * frame carrying IP behind it, counted in udp_tunnel_like with the port, for the warning that
 * names it. Three header tests and an ethertype: a DNS or QUIC datagram rarely passes all. */
static void note_tunnel_like(const struct rd *r, uint16_t dport, struct decode_stats *st)
{
    struct rd peek = *r;
    rd_skip(&peek, DECODE_UDP_HDR_LEN);
    const uint8_t *h = rd_take(&peek, DECODE_VXLAN_HDR_LEN);
    if (h == NULL) {
        return;
    }
    bool is_vxlan = h[0] == DECODE_VXLAN_I && h[1] == 0 && h[2] == 0 && h[3] == 0 && h[7] == 0;
    bool is_geneve = (h[0] >> 6) == 0 && (h[1] & 0x3fu) == 0 &&
                     rd_get_be16(h + 2) == DECODE_ETHERTYPE_TEB && h[7] == 0;
    size_t opts = is_geneve ? (size_t)(h[0] & DECODE_GENEVE_OPT_MASK) * DECODE_GENEVE_OPT_UNIT : 0;
    if ((is_vxlan || is_geneve) && is_eth_ip_at(&peek, opts)) {
        st->udp_tunnel_like++;
        st->tunnel_like_port = dport;
        st->is_tunnel_like_geneve = !is_vxlan;
    }
}

enum udp_tunnel {
    UDP_TUNNEL_NONE = 0,
    UDP_TUNNEL_VXLAN,
    UDP_TUNNEL_GENEVE,
    UDP_TUNNEL_GRE,
};

static bool has_port(const uint16_t *ports, size_t n, uint16_t port)
{
    for (size_t i = 0; i < n; i++) {
        if (ports[i] == port) {
            return true;
        }
    }
    return false;
}

/* The tunnel a UDP destination port names: the IANA ports, Linux's VXLAN default, and the
 * operator's (cfg). */
static enum udp_tunnel udp_tunnel_of(const struct decode_config *cfg, uint16_t dport)
{
    switch (dport) {
    case DECODE_PORT_VXLAN:
    case DECODE_PORT_VXLAN_LINUX:
        return UDP_TUNNEL_VXLAN;
    case DECODE_PORT_GENEVE:
        return UDP_TUNNEL_GENEVE;
    case DECODE_PORT_GRE_UDP:
        return UDP_TUNNEL_GRE;
    default:
        break;
    }
    if (cfg == NULL) {
        return UDP_TUNNEL_NONE;
    }
    if (has_port(cfg->vxlan_ports, cfg->n_vxlan, dport)) {
        return UDP_TUNNEL_VXLAN;
    }
    if (has_port(cfg->geneve_ports, cfg->n_geneve, dport)) {
        return UDP_TUNNEL_GENEVE;
    }
    return UDP_TUNNEL_NONE;
}

/* UDP: peeled only when a port names a tunnel; anything else is not_tcp, as it was before
 * tunnels were peeled (its header is not even checked). r is cut to the IP claim. */
static enum decode_status decode_udp(struct rd *r, struct walk *w)
{
    struct decode_stats *st = w->st;
    struct rd peek = *r;
    uint16_t sport = rd_be16(&peek);
    uint16_t dport = rd_be16(&peek);
    if (peek.bad) {
        return count_skip(&st->not_tcp);
    }
    bool is_teredo = sport == DECODE_PORT_TEREDO || dport == DECODE_PORT_TEREDO;
    enum udp_tunnel kind = udp_tunnel_of(w->cfg, dport);
    if (kind == UDP_TUNNEL_NONE && !is_teredo) {
        if (sport == DECODE_PORT_L2TP || dport == DECODE_PORT_L2TP || dport == DECODE_PORT_GTP_U ||
            dport == DECODE_PORT_VXLAN_GPE) {
            return count_skip(&st->encap_unsupported);
        }
        note_tunnel_like(r, dport, st);
        return count_skip(&st->not_tcp);
    }
    const uint8_t *h = rd_take(r, DECODE_UDP_HDR_LEN);
    size_t len = h != NULL ? rd_get_be16(h + 4) : 0;
    if (len < DECODE_UDP_HDR_LEN) {
        return count_bad(&st->bad_udp);
    }
    cut_to(r, len - DECODE_UDP_HDR_LEN);
    switch (kind) {
    case UDP_TUNNEL_VXLAN:
        return decode_vxlan(r, w);
    case UDP_TUNNEL_GENEVE:
        return decode_geneve(r, w);
    case UDP_TUNNEL_GRE:
        if (!peel(w, &st->encap_gre_udp, DECODE_LAYER_GRE_UDP)) {
            return DECODE_BAD;
        }
        return decode_gre(r, w);
    default:
        return decode_teredo(r, w);
    }
}

/* What an IP header's protocol names, other than TCP: r stands after the IP header (and its
 * extension headers) and is cut to the claim. */
static enum decode_status decode_ip_payload(struct rd *r, uint8_t proto, struct walk *w)
{
    struct decode_stats *st = w->st;
    switch (proto) {
    case DECODE_IPPROTO_IPIP:
        if (!peel(w, &st->encap_ipip, DECODE_LAYER_IPIP)) {
            return DECODE_BAD;
        }
        return decode_ipv4(r, w);
    case DECODE_IPPROTO_IPV6:
        if (!peel(w, &st->encap_ipip, DECODE_LAYER_IPIP)) {
            return DECODE_BAD;
        }
        return decode_ipv6(r, w);
    case DECODE_IPPROTO_GRE:
        return decode_gre(r, w);
    case DECODE_IPPROTO_UDP:
        return decode_udp(r, w);
    case DECODE_IPPROTO_ESP:
    case DECODE_IPPROTO_L2TP:
        return count_skip(&st->encap_unsupported);
    default:
        return count_skip(&st->not_tcp);
    }
}

/* RFC 791. r starts at the IPv4 header. */
static enum decode_status decode_ipv4(struct rd *r, struct walk *w)
{
    struct decode_stats *st = w->st;
    struct pkt *p = w->p;
    const uint8_t *l3 = r->p + r->off;
    size_t avail = rd_left(r);
    /* One bounds check for the fixed header, then fixed offsets into it (RFC 791 3.1). */
    const uint8_t *h = rd_take(r, DECODE_IPV4_MIN_HDR);
    if (h == NULL || (h[0] >> 4) != 4) {
        return count_bad(&st->bad_ipv4);
    }
    uint8_t ver_ihl = h[0];
    uint16_t total_len = rd_get_be16(h + 2);
    uint16_t frag = rd_get_be16(h + 6);
    uint8_t proto = h[9];
    const uint8_t *src = h + 12;
    const uint8_t *dst = h + 16;
    /* A total length of 0 is what a host captures for its own segmentation-offload (TSO)
     * segments, which the network card cuts up later: the captured bytes are then the
     * packet, as Wireshark also reads them. Counted, so a capture full of them shows. */
    size_t hdr_len = (size_t)(ver_ihl & 0x0fu) * 4;
    size_t ip_len = total_len;
    if (total_len == 0 && hdr_len <= avail) {
        ip_len = avail;
        st->ipv4_len_zero++;
    }
    if (hdr_len < DECODE_IPV4_MIN_HDR || ip_len < hdr_len || hdr_len > avail) {
        return count_bad(&st->bad_ipv4);
    }
    rd_skip(r, hdr_len - DECODE_IPV4_MIN_HDR); /* options: cannot fail, hdr_len <= avail */
    size_t claim = ip_len - hdr_len;
    cut_to(r, claim);
    if ((frag & (DECODE_IPV4_MF | DECODE_IPV4_OFFSET_MASK)) != 0) {
        struct decode_frag *f = w->frag;
        if (f != NULL) {
            f->unfrag_len = hdr_len;
            f->nh_off = 0;
            f->offset = (uint32_t)(frag & DECODE_IPV4_OFFSET_MASK) * 8u;
            f->id = rd_get_be16(h + 4);
            f->proto = proto;
            f->ip_version = 4;
            f->is_more = (frag & DECODE_IPV4_MF) != 0;
            memcpy(f->src, src, DECODE_IPV4_ADDR_LEN);
            memset(f->src + DECODE_IPV4_ADDR_LEN, 0, sizeof f->src - DECODE_IPV4_ADDR_LEN);
            memcpy(f->dst, dst, DECODE_IPV4_ADDR_LEN);
            memset(f->dst + DECODE_IPV4_ADDR_LEN, 0, sizeof f->dst - DECODE_IPV4_ADDR_LEN);
        }
        return take_fragment(r, l3, hdr_len, claim, w);
    }
    if (proto != DECODE_IPPROTO_TCP) {
        w->ip_src = src;
        w->ip_dst = dst;
        w->ip_version = 4;
        return decode_ip_payload(r, proto, w);
    }
    p->ip_version = 4;
    memcpy(p->src, src, DECODE_IPV4_ADDR_LEN);
    memset(p->src + DECODE_IPV4_ADDR_LEN, 0, sizeof p->src - DECODE_IPV4_ADDR_LEN);
    memcpy(p->dst, dst, DECODE_IPV4_ADDR_LEN);
    memset(p->dst + DECODE_IPV4_ADDR_LEN, 0, sizeof p->dst - DECODE_IPV4_ADDR_LEN);
    p->l3 = l3;
    p->l3_len = (size_t)(r->p + r->len - l3);
    return decode_tcp(r, claim, w);
}

static int is_ipv6_ext(uint8_t next)
{
    return next == DECODE_IPPROTO_HOPOPTS || next == DECODE_IPPROTO_ROUTING ||
           next == DECODE_IPPROTO_FRAGMENT || next == DECODE_IPPROTO_AH ||
           next == DECODE_IPPROTO_DSTOPTS;
}

/* RFC 8200. r starts at the IPv6 header. Next headers other than TCP, the tunnels and the
 * extension headers above (no next header, UDP to other ports, ICMPv6, mobility, ...) are
 * not_tcp. */
static enum decode_status decode_ipv6(struct rd *r, struct walk *w)
{
    struct decode_stats *st = w->st;
    struct pkt *p = w->p;
    const uint8_t *l3 = r->p + r->off;
    /* One bounds check for the fixed header, then fixed offsets into it (RFC 8200 3). */
    const uint8_t *h = rd_take(r, DECODE_IPV6_HDR_LEN);
    if (h == NULL) {
        return count_bad(&st->bad_ipv6);
    }
    uint16_t payload_len = rd_get_be16(h + 4);
    uint8_t next = h[6];
    const uint8_t *src = h + 8;
    const uint8_t *dst = h + 8 + DECODE_IPV6_ADDR_LEN;
    /* Payload length 0 before a hop-by-hop header announces a jumbogram (RFC 2675), whose
     * length hides in an option there; no mail session needs one, so it is counted as
     * malformed. Before any other header it is an empty packet (a Teredo bubble). */
    if ((h[0] >> 4) != 6 || (payload_len == 0 && next == DECODE_IPPROTO_HOPOPTS)) {
        return count_bad(&st->bad_ipv6);
    }
    size_t claim = payload_len;
    cut_to(r, claim);
    size_t nh_off = 6; /* the byte naming the next header, from l3 */

    for (size_t n_ext = 0; is_ipv6_ext(next); n_ext++) {
        if (n_ext == DECODE_MAX_IPV6_EXT) {
            return count_bad(&st->bad_ipv6);
        }
        uint8_t hdr = next;
        size_t hdr_off = (size_t)(r->p + r->off - l3);
        next = rd_u8(r);
        uint8_t len_field = rd_u8(r);
        uint16_t frag = 0;
        uint32_t ident = 0;
        size_t ext_len;
        if (hdr == DECODE_IPPROTO_FRAGMENT) {
            ext_len = DECODE_IPV6_FRAG_LEN;
            frag = rd_be16(r);
            ident = rd_be32(r);
        } else if (hdr == DECODE_IPPROTO_AH) {
            ext_len = ((size_t)len_field + 2) * 4; /* RFC 4302: 32-bit words, minus 2 */
            rd_skip(r, ext_len - 2);
        } else {
            ext_len = ((size_t)len_field + 1) * 8; /* 8-octet units, not counting the first */
            rd_skip(r, ext_len - 2);
        }
        if (r->bad) {
            return count_bad(&st->bad_ipv6);
        }
        /* r was cut to the claim and has just yielded ext_len bytes, so the claim holds them. */
        assert(ext_len <= claim);
        claim -= ext_len;
        /* RFC 8200 4.5: a fragment header with offset 0 and M clear (an atomic fragment)
         * holds the whole packet, which is processed as if reassembled. */
        if ((frag & (DECODE_IPV6_FRAG_OFFSET_MASK | DECODE_IPV6_FRAG_M)) != 0) {
            struct decode_frag *f = w->frag;
            if (f != NULL) {
                f->unfrag_len = hdr_off;
                f->nh_off = nh_off;
                f->offset = frag & DECODE_IPV6_FRAG_OFFSET_MASK; /* already times 8 */
                f->id = ident;
                f->proto = next;
                f->ip_version = 6;
                f->is_more = (frag & DECODE_IPV6_FRAG_M) != 0;
                memcpy(f->src, src, DECODE_IPV6_ADDR_LEN);
                memcpy(f->dst, dst, DECODE_IPV6_ADDR_LEN);
            }
            return take_fragment(r, l3, hdr_off + DECODE_IPV6_FRAG_LEN, claim, w);
        }
        nh_off = hdr_off;
    }
    if (next != DECODE_IPPROTO_TCP) {
        w->ip_src = src;
        w->ip_dst = dst;
        w->ip_version = 6;
        return decode_ip_payload(r, next, w);
    }
    p->ip_version = 6;
    memcpy(p->src, src, DECODE_IPV6_ADDR_LEN);
    memcpy(p->dst, dst, DECODE_IPV6_ADDR_LEN);
    p->l3 = l3;
    p->l3_len = (size_t)(r->p + r->len - l3);
    return decode_tcp(r, claim, w);
}

/* PPP (RFC 1661) inside PPPoE or PPTP: r stands at the PPP frame, whose address and control
 * bytes (RFC 1662) may be there when may_have_hdlc. A frame too short for its protocol field
 * counts in *bad. */
static enum decode_status decode_ppp(struct rd *r, bool may_have_hdlc, uint64_t *bad,
                                     struct walk *w)
{
    struct decode_stats *st = w->st;
    struct rd peek = *r;
    if (may_have_hdlc && rd_u8(&peek) == DECODE_PPP_ADDRESS && rd_u8(&peek) == DECODE_PPP_CONTROL) {
        rd_skip(r, 2);
    }
    uint16_t proto = rd_u8(r);
    if ((proto & 1u) == 0) {
        proto = (uint16_t)(proto << 8 | rd_u8(r)); /* not compressed: two bytes */
    }
    if (r->bad) {
        return count_bad(bad);
    }
    switch (proto) {
    case DECODE_PPP_IPV4:
        return decode_ipv4(r, w);
    case DECODE_PPP_IPV6:
        return decode_ipv6(r, w);
    case DECODE_PPP_MPLS:
        return decode_mpls(r, w);
    case DECODE_PPP_COMP:
    case DECODE_PPP_COMP_LINK:
        return count_skip(&st->encap_unsupported);
    default:
        return count_skip(&st->not_ip); /* LCP, IPCP, CHAP, ...: the link's own control */
    }
}

/* PPPoE session stage (RFC 2516): r stands after the ethertype 0x8864. */
static enum decode_status decode_pppoe(struct rd *r, struct walk *w)
{
    struct decode_stats *st = w->st;
    const uint8_t *h = rd_take(r, DECODE_PPPOE_HDR_LEN);
    if (h == NULL || h[0] != DECODE_PPPOE_VERTYPE || h[1] != 0) {
        return count_bad(&st->bad_pppoe);
    }
    cut_to(r, rd_get_be16(h + 4)); /* the PPP frame's length: trailing bytes are padding */
    if (!peel_id(w, &st->encap_pppoe, DECODE_LAYER_PPPOE, true, rd_get_be16(h + 2))) {
        return DECODE_BAD;
    }
    return decode_ppp(r, false, &st->bad_pppoe, w);
}

/* Whether the bytes at off of r look like an Ethernet header, the way Wireshark's pseudowire
 * heuristic tells (without its table of vendor prefixes): a source address that is not a
 * group address, then an ethertype that is one decode or a switch commonly sends. */
static bool looks_like_eth(const struct rd *r, size_t off)
{
    struct rd peek = *r;
    rd_skip(&peek, off);
    const uint8_t *h = rd_take(&peek, DECODE_ETH_HDR_LEN);
    if (h == NULL || (h[6] & 0x01u) != 0) {
        return false;
    }
    uint16_t type = rd_get_be16(h + DECODE_ETH_ADDRS_LEN);
    return type == DECODE_ETHERTYPE_IPV4 || type == DECODE_ETHERTYPE_IPV6 ||
           type == DECODE_ETHERTYPE_ARP || type == DECODE_ETHERTYPE_8021Q ||
           type == DECODE_ETHERTYPE_8021AD || type == DECODE_ETHERTYPE_QINQ_9100 ||
           type == DECODE_ETHERTYPE_MPLS || type == DECODE_ETHERTYPE_MPLS_MCAST ||
           type == DECODE_ETHERTYPE_PPPOE_DISC || type == DECODE_ETHERTYPE_PPPOE_SESS ||
           type == DECODE_ETHERTYPE_LLDP;
}

/* MPLS (RFC 3032): r stands at the top label stack entry. */
static enum decode_status decode_mpls(struct rd *r, struct walk *w)
{
    struct decode_stats *st = w->st;
    uint32_t entry = 0;
    for (size_t n_labels = 0;; n_labels++) {
        if (n_labels == DECODE_MAX_MPLS_LABELS) {
            return count_bad(&st->mpls_too_deep);
        }
        entry = rd_be32(r);
        if (r->bad) {
            return count_bad(&st->bad_mpls);
        }
        if ((entry & DECODE_MPLS_BOTTOM) != 0) {
            break;
        }
    }
    uint8_t first;
    if (!peek_u8(r, &first)) {
        return count_bad(&st->bad_mpls);
    }
    if (!peel_id(w, &st->encap_mpls, DECODE_LAYER_MPLS, true, entry >> DECODE_MPLS_LABEL_SHIFT)) {
        return DECODE_BAD;
    }
    uint8_t nibble = (uint8_t)(first >> 4);
    if (nibble == 4 || nibble == 6) {
        return decode_ip_by_version(r, first, w);
    }
    if (nibble == 1) {
        return count_skip(&st->not_ip); /* associated channel: OAM, BFD, ... */
    }
    /* A first nibble of 0 is a control word, unless what follows it looks less like Ethernet
     * than the bytes themselves do (a destination address starting 0x0: 00:50:56 is common);
     * a tie goes to the control word, which RFC 8469 makes the rule. Any other nibble is
     * Ethernet without one. Wireshark decides the same way; Suricata takes nibble 0 as a
     * control word always and gives up on the other nibbles. */
    if (nibble == 0 && (looks_like_eth(r, DECODE_PW_CW_LEN) || !looks_like_eth(r, 0))) {
        rd_skip(r, DECODE_PW_CW_LEN);
        if (r->bad) {
            return count_bad(&st->bad_mpls);
        }
    }
    if (!peel(w, &st->encap_mpls_pw, DECODE_LAYER_MPLS_PW)) {
        return DECODE_BAD;
    }
    return decode_eth(r, &st->bad_mpls, w);
}

/* ERSPAN type II or III (the draft-foschiano-erspan header): r stands after the GRE header.
 * Type I has no header of its own and goes straight to decode_eth. */
static enum decode_status decode_erspan(struct rd *r, bool is_type3, struct walk *w)
{
    struct decode_stats *st = w->st;
    if (!is_type3) {
        const uint8_t *h = rd_take(r, DECODE_ERSPAN2_HDR_LEN);
        if (h == NULL || (h[0] >> 4) != DECODE_ERSPAN2_VERSION) {
            return count_bad(&st->bad_erspan);
        }
        if (!peel_id(w, &st->encap_erspan2, DECODE_LAYER_ERSPAN2, true,
                     rd_get_be16(h + 2) & DECODE_ERSPAN_SESSION_MASK)) {
            return DECODE_BAD;
        }
        return decode_eth(r, &st->bad_erspan, w);
    }
    const uint8_t *h = rd_take(r, DECODE_ERSPAN3_HDR_LEN);
    if (h == NULL || (h[0] >> 4) != DECODE_ERSPAN3_VERSION) {
        return count_bad(&st->bad_erspan);
    }
    uint32_t word3 = rd_get_be32(h + 8);
    if ((word3 & DECODE_ERSPAN3_O) != 0) {
        rd_skip(r, DECODE_ERSPAN3_PLATFORM);
        if (r->bad) {
            return count_bad(&st->bad_erspan);
        }
    }
    if (!peel_id(w, &st->encap_erspan3, DECODE_LAYER_ERSPAN3, true,
                 rd_get_be16(h + 2) & DECODE_ERSPAN_SESSION_MASK)) {
        return DECODE_BAD;
    }
    uint32_t frame_type = (word3 >> DECODE_ERSPAN3_FT_SHIFT) & DECODE_ERSPAN3_FT_MASK;
    if (frame_type == DECODE_ERSPAN3_FT_ETH) {
        return decode_eth(r, &st->bad_erspan, w);
    }
    if (frame_type != DECODE_ERSPAN3_FT_IP) {
        return count_skip(&st->not_ip);
    }
    uint8_t first;
    if (!peek_u8(r, &first)) {
        return count_bad(&st->bad_erspan);
    }
    return decode_ip_by_version(r, first, w);
}

/* PPTP's enhanced GRE (RFC 2637 4.1): flags and type read; r stands after them. The key field
 * holds the payload length and the call id; PPP follows. */
static enum decode_status decode_pptp(struct rd *r, uint16_t flags, uint16_t type, struct walk *w)
{
    struct decode_stats *st = w->st;
    if (type != DECODE_ETHERTYPE_PPP || (flags & DECODE_GRE_K) == 0 ||
        (flags & (DECODE_GRE_C | DECODE_GRE_R | DECODE_GRE_SSR | DECODE_GRE_RECUR |
                  DECODE_GRE_V1_FLAGS)) != 0) {
        return count_bad(&st->bad_gre);
    }
    size_t payload_len = rd_be16(r);
    uint16_t call_id = rd_be16(r);
    if ((flags & DECODE_GRE_S) != 0) {
        rd_skip(r, DECODE_GRE_OPT_LEN);
    }
    if ((flags & DECODE_GRE_A) != 0) {
        rd_skip(r, DECODE_GRE_OPT_LEN);
    }
    if (r->bad) {
        return count_bad(&st->bad_gre);
    }
    if (payload_len == 0) {
        return count_skip(&st->not_ip); /* an acknowledgment alone */
    }
    cut_to(r, payload_len);
    if (!peel_id(w, &st->encap_pptp, DECODE_LAYER_PPTP, true, call_id)) {
        return DECODE_BAD;
    }
    return decode_ppp(r, true, &st->bad_gre, w);
}

/* GRE (RFC 2784, RFC 2890), over IP or UDP: r stands at the GRE header. */
static enum decode_status decode_gre(struct rd *r, struct walk *w)
{
    struct decode_stats *st = w->st;
    uint16_t flags = rd_be16(r);
    uint16_t type = rd_be16(r);
    if (r->bad) {
        return count_bad(&st->bad_gre);
    }
    if ((flags & DECODE_GRE_VER) == 1) {
        return decode_pptp(r, flags, type, w);
    }
    /* RFC 2784 2.3: a receiver discards a packet with bits 1..5 set (RFC 1701's routing,
     * strict source route and recursion are not followed); the other reserved bits are
     * ignored. */
    if ((flags & DECODE_GRE_VER) != 0 || (flags & (DECODE_GRE_R | DECODE_GRE_SSR)) != 0) {
        return count_bad(&st->bad_gre);
    }
    if ((flags & DECODE_GRE_C) != 0) {
        rd_skip(r, DECODE_GRE_OPT_LEN);
    }
    bool has_key = (flags & DECODE_GRE_K) != 0;
    uint32_t key = has_key ? rd_be32(r) : 0;
    if ((flags & DECODE_GRE_S) != 0) {
        rd_skip(r, DECODE_GRE_OPT_LEN);
    }
    if (r->bad) {
        return count_bad(&st->bad_gre);
    }
    if (!peel_id(w, &st->encap_gre, DECODE_LAYER_GRE, has_key, key)) {
        return DECODE_BAD;
    }
    switch (type) {
    case DECODE_ETHERTYPE_TEB:
        return decode_eth(r, &st->bad_gre, w);
    case DECODE_ETHERTYPE_ERSPAN_1_2:
        /* Type I has no sequence number and no header of its own; type II has both (as
         * Wireshark and Zeek tell them apart). */
        if ((flags & DECODE_GRE_S) == 0) {
            if (!peel(w, &st->encap_erspan1, DECODE_LAYER_ERSPAN1)) {
                return DECODE_BAD;
            }
            return decode_eth(r, &st->bad_erspan, w);
        }
        return decode_erspan(r, false, w);
    case DECODE_ETHERTYPE_ERSPAN_3:
        return decode_erspan(r, true, w);
    default:
        return decode_ethertype(r, type, w);
    }
}

static int is_vlan_tpid(uint16_t type)
{
    return type == DECODE_ETHERTYPE_8021Q || type == DECODE_ETHERTYPE_8021AD ||
           type == DECODE_ETHERTYPE_QINQ_9100;
}

/* type has just been read from a link header (or a tunnel's protocol field) and r stands
 * after it. VLAN tags (a TCI, then the next ethertype) are peeled here, so a cooked capture
 * or a tunnelled frame with a tag in it works too. */
static enum decode_status decode_ethertype(struct rd *r, uint16_t type, struct walk *w)
{
    struct decode_stats *st = w->st;
    for (size_t n_tags = 0; is_vlan_tpid(type); n_tags++) {
        if (n_tags == DECODE_MAX_VLAN_TAGS) {
            return count_bad(&st->vlan_too_deep);
        }
        uint16_t tci = rd_be16(r);
        type = rd_be16(r);
        if (r->bad) {
            return count_bad(&st->bad_link);
        }
        st->encap_vlan++;
        w->p->vlan = (uint16_t)(tci & DECODE_VLAN_ID_MASK); /* the last tag read is innermost */
        trail_add(w, DECODE_LAYER_VLAN, true, w->p->vlan);
    }
    switch (type) {
    case DECODE_ETHERTYPE_IPV4:
        return decode_ipv4(r, w);
    case DECODE_ETHERTYPE_IPV6:
        return decode_ipv6(r, w);
    case DECODE_ETHERTYPE_MPLS:
    case DECODE_ETHERTYPE_MPLS_MCAST:
        return decode_mpls(r, w);
    case DECODE_ETHERTYPE_PPPOE_SESS:
        return decode_pppoe(r, w);
    default:
        /* ARP, LLDP, PPPoE discovery, ..., and 802.3 length fields (LLC/SNAP frames). */
        return count_skip(&st->not_ip);
    }
}

/* An Ethernet header inside a tunnel (VXLAN, GRE bridging, ERSPAN, a pseudowire): one cut
 * short counts in the tunnel's *bad. */
static enum decode_status decode_eth(struct rd *r, uint64_t *bad, struct walk *w)
{
    rd_skip(r, DECODE_ETH_ADDRS_LEN);
    uint16_t type = rd_be16(r);
    if (r->bad) {
        return count_bad(bad);
    }
    return decode_ethertype(r, type, w);
}

static int is_af_ip(uint32_t af)
{
    return af == DECODE_AF_INET || af == DECODE_AF_INET6_BSD || af == DECODE_AF_INET6_FREEBSD ||
           af == DECODE_AF_INET6_DARWIN;
}

static enum decode_status decode_af(struct rd *r, uint32_t af, struct walk *w)
{
    if (af == DECODE_AF_INET) {
        return decode_ipv4(r, w);
    }
    if (is_af_ip(af)) {
        return decode_ipv6(r, w);
    }
    return count_skip(&w->st->not_ip);
}

static enum decode_status decode_link_layer(enum decode_link link, struct rd *r, struct walk *w)
{
    struct decode_stats *st = w->st;
    struct rd peek;
    uint16_t type;
    uint32_t af;
    uint8_t first;

    switch (link) {
    case DECODE_LINK_ETHERNET:
        rd_skip(r, DECODE_ETH_ADDRS_LEN);
        type = rd_be16(r);
        if (r->bad) {
            return count_bad(&st->bad_link);
        }
        return decode_ethertype(r, type, w);
    case DECODE_LINK_SLL:
        rd_skip(r, DECODE_SLL_PROTO_OFF);
        type = rd_be16(r);
        if (r->bad) {
            return count_bad(&st->bad_link);
        }
        return decode_ethertype(r, type, w);
    case DECODE_LINK_SLL2:
        type = rd_be16(r);
        rd_skip(r, DECODE_SLL2_AFTER_PROTO);
        if (r->bad) {
            return count_bad(&st->bad_link);
        }
        return decode_ethertype(r, type, w);
    case DECODE_LINK_NULL:
        /* The family is in the writer's byte order, which the file does not record: take
         * whichever order gives a known family (the values cannot collide when swapped). */
        peek = *r;
        af = rd_be32(r);
        if (r->bad) {
            return count_bad(&st->bad_link);
        }
        if (!is_af_ip(af)) {
            af = rd_le32(&peek);
        }
        return decode_af(r, af, w);
    case DECODE_LINK_LOOP:
        af = rd_be32(r);
        if (r->bad) {
            return count_bad(&st->bad_link);
        }
        return decode_af(r, af, w);
    case DECODE_LINK_RAW:
        /* No link header: the version nibble decides, and an empty packet has none. */
        if (!peek_u8(r, &first)) {
            return count_bad(&st->bad_link);
        }
        return decode_ip_by_version(r, first, w);
    case DECODE_LINK_IPV4:
        return decode_ipv4(r, w);
    case DECODE_LINK_IPV6:
        return decode_ipv6(r, w);
    case DECODE_LINK_UNKNOWN:
    default:
        return count_skip(&st->unknown_link);
    }
}

/* The common case, read at fixed offsets after one length check: Ethernet with no tag, then
 * IPv4 without options (no fragment, total length within the capture) or IPv6 with TCP as
 * its first next header (payload length within the capture), then a TCP header that fits the
 * segment. Anything else, including every case that bumps a counter other than tcp, returns
 * false and takes the general path. What it fills is what the general path would fill;
 * fuzz_decode and test_decode compare the two on the same bytes. */
static bool decode_fast(const uint8_t *d, size_t caplen, struct pkt *p, struct decode_stats *st)
{
    enum {
        ETH = DECODE_ETH_ADDRS_LEN + 2
    };
    if (caplen < ETH + DECODE_IPV4_MIN_HDR + DECODE_TCP_MIN_HDR) {
        return false;
    }
    uint16_t type = rd_get_be16(d + DECODE_ETH_ADDRS_LEN);
    const uint8_t *l3 = d + ETH;
    size_t l3_len;
    size_t seg;
    if (type == DECODE_ETHERTYPE_IPV4) {
        size_t total = rd_get_be16(l3 + 2);
        uint16_t frag = rd_get_be16(l3 + 6);
        if (l3[0] != 0x45 || l3[9] != DECODE_IPPROTO_TCP ||
            (frag & (DECODE_IPV4_MF | DECODE_IPV4_OFFSET_MASK)) != 0 ||
            total < DECODE_IPV4_MIN_HDR || total > caplen - ETH) {
            return false;
        }
        p->ip_version = 4;
        memcpy(p->src, l3 + 12, DECODE_IPV4_ADDR_LEN);
        memset(p->src + DECODE_IPV4_ADDR_LEN, 0, sizeof p->src - DECODE_IPV4_ADDR_LEN);
        memcpy(p->dst, l3 + 16, DECODE_IPV4_ADDR_LEN);
        memset(p->dst + DECODE_IPV4_ADDR_LEN, 0, sizeof p->dst - DECODE_IPV4_ADDR_LEN);
        l3_len = total;
        seg = total - DECODE_IPV4_MIN_HDR;
    } else if (type == DECODE_ETHERTYPE_IPV6) {
        if (caplen < ETH + DECODE_IPV6_HDR_LEN + DECODE_TCP_MIN_HDR) {
            return false;
        }
        size_t payload = rd_get_be16(l3 + 4);
        if ((l3[0] >> 4) != 6 || l3[6] != DECODE_IPPROTO_TCP || payload == 0 ||
            payload > caplen - ETH - DECODE_IPV6_HDR_LEN) {
            return false;
        }
        p->ip_version = 6;
        memcpy(p->src, l3 + 8, DECODE_IPV6_ADDR_LEN);
        memcpy(p->dst, l3 + 8 + DECODE_IPV6_ADDR_LEN, DECODE_IPV6_ADDR_LEN);
        l3_len = DECODE_IPV6_HDR_LEN + payload;
        seg = payload;
    } else {
        return false;
    }
    const uint8_t *h = l3 + (l3_len - seg);
    size_t hdr_len = (size_t)(seg >= DECODE_TCP_MIN_HDR ? h[12] >> 4 : 0) * 4;
    if (hdr_len < DECODE_TCP_MIN_HDR || hdr_len > seg) {
        return false;
    }
    p->l3 = l3;
    p->l3_len = l3_len;
    fill_tcp(h, hdr_len, seg, seg, p);
    st->tcp++;
    return true;
}

/* *to = *from, but only the trail's layers in use: a plain frame copies no layer. */
static void pkt_copy(struct pkt *to, const struct pkt *from)
{
    memcpy(to, from, offsetof(struct pkt, trail));
    trail_copy(&to->trail, &from->trail);
}

enum decode_status decode_packet(enum decode_link link, const uint8_t *data, size_t caplen,
                                 size_t wirelen, uint64_t ts_usec, struct pkt *out,
                                 struct decode_stats *st)
{
    (void)wirelen; /* informational: every bound comes from caplen */
    return decode_frame(link, data, caplen, ts_usec, NULL, out, NULL, st, NULL);
}

enum decode_status decode_frame(enum decode_link link, const uint8_t *data, size_t caplen,
                                uint64_t ts_usec, const struct decode_outer *outer, struct pkt *out,
                                struct decode_frag *frag, struct decode_stats *st,
                                const struct decode_config *cfg)
{
    struct rd r = rd_make(data, caplen);
    struct pkt p;

    /* Every layer sets the fields it owns, so p needs no clearing; only vlan is optional. */
    p.ts_usec = ts_usec;
    p.vlan = 0;
    p.iface = 0;
    p.trail.n = 0;
    p.trail.is_cut = 0;
    size_t depth = 0;
    if (outer == NULL) {
        st->packets++;
        if (link == DECODE_LINK_ETHERNET && decode_fast(data, caplen, &p, st)) {
            pkt_copy(out, &p);
            return DECODE_OK;
        }
    } else {
        /* A reassembly is a layer: it bounds nested reassembly (fragments inside a datagram
         * made of fragments) as DECODE_MAX_ENCAP bounds tunnels. */
        st->reassembled++;
        if (outer->depth >= DECODE_MAX_ENCAP) {
            return count_bad(&st->encap_too_deep);
        }
        p.vlan = outer->vlan;
        trail_copy(&p.trail, &outer->trail);
        depth = (size_t)outer->depth + 1;
    }
    /* Decode into a local view so *out changes only when a whole segment decoded. */
    struct walk w = { &p, st, depth, frag, cfg, NULL, NULL, 0 };
    enum decode_status status = decode_link_layer(link, &r, &w);
    if (status == DECODE_OK) {
        pkt_copy(out, &p);
    }
    return status;
}

const char *decode_blind_reason(const struct decode_stats *st, uint64_t frags_used, uint64_t *count,
                                uint64_t *total, char *buf, size_t cap)
{
    const char *kind = st->is_tunnel_like_geneve ? "Geneve" : "VXLAN";
    snprintf(buf, cap,
             "were UDP to port %u that looks like %s (is it %s on another port? see --%s-port)",
             st->tunnel_like_port, kind, kind, st->is_tunnel_like_geneve ? "geneve" : "vxlan");
    /* The outcomes a user can act on: fragments that never completed, another capture point or link
     * type, a tunnel to peel (or a port to name), a limit to raise. Plain UDP and ICMP
     * (not_tcp) and malformed packets are not among them. */
    const struct {
        uint64_t n;
        const char *phrase;
    } reasons[] = {
        { st->ip_fragments > frags_used ? st->ip_fragments - frags_used : 0,
          "were IP fragments never reassembled (incomplete, dropped or evicted; see defrag.* "
          "in run_counters)" },
        { st->unknown_link, "had a link type plainsight does not decode" },
        { st->not_ip, "were not IP (other EtherTypes, PPP control, non-IP tunnel payloads)" },
        { st->encap_unsupported, "were in tunnels plainsight does not peel (ESP, L2TP, GTP-U, "
                                 "VXLAN-GPE, compressed PPP)" },
        { st->udp_tunnel_like, buf },
        { st->encap_too_deep + st->mpls_too_deep + st->vlan_too_deep,
          "were wrapped in more layers, labels or tags than plainsight peels" },
    };
    const char *top = NULL;
    *count = 0;
    *total = 0;
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
        *total += reasons[i].n;
        if (reasons[i].n > *count) {
            *count = reasons[i].n;
            top = reasons[i].phrase;
        }
    }
    return top;
}
