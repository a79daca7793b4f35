/* decode.c - link, VLAN, IPv4/IPv6 and TCP headers of one captured packet into a struct pkt.
 *
 * One struct rd walks the packet from the link header to the TCP payload, starting from the
 * captured length (wirelen is never trusted). Each layer reads its whole fixed header, checks
 * the sticky bad flag once, then checks its length fields against their minimum and against
 * what remains before using them. An IP header cuts the reader to the length it claims, so
 * Ethernet padding never becomes payload, and it passes the claimed TCP length on so that a
 * segment cut by the snap length is told apart from a malformed one. IPv4 follows RFC 791
 * (options skipped; fragments counted, not reassembled), IPv6 RFC 8200 (extension header chain
 * of at most DECODE_MAX_IPV6_EXT headers; AH lengths per RFC 4302), TCP RFC 9293 (which
 * obsoletes RFC 793). 802.1Q and 802.1ad tags are peeled up to DECODE_MAX_VLAN_TAGS.
 *
 * Most packets on a link are untagged Ethernet, IPv4 without options or IPv6 without
 * extension headers, and TCP: decode_fast reads those at fixed offsets after one length check
 * and hands everything else, including anything a counter other than tcp would count, to the
 * general path above. The two must agree; the unit tests and fuzz_decode hold them to it.
 */
#include "decode.h"

#include <assert.h>
#include <stdbool.h>
#include <string.h>

#include "rd.h"
#include "tunables.h"

/* Ethertypes. Values below 0x0600 are IEEE 802.3 length fields (LLC frames), not types. */
#define DECODE_ETHERTYPE_IPV4      0x0800u
#define DECODE_ETHERTYPE_IPV6      0x86ddu
#define DECODE_ETHERTYPE_8021Q     0x8100u
#define DECODE_ETHERTYPE_8021AD    0x88a8u
#define DECODE_ETHERTYPE_QINQ_9100 0x9100u /* pre-802.1ad QinQ, still sent by some switches */
#define DECODE_VLAN_ID_MASK        0x0fffu

/* Link header sizes, bytes. SLL carries the ethertype in its last two bytes, SLL2 in its
 * first two. */
#define DECODE_ETH_ADDRS_LEN    12
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

/* IP protocol / IPv6 next-header numbers. */
#define DECODE_IPPROTO_HOPOPTS  0u
#define DECODE_IPPROTO_TCP      6u
#define DECODE_IPPROTO_ROUTING  43u
#define DECODE_IPPROTO_FRAGMENT 44u
#define DECODE_IPPROTO_AH       51u
#define DECODE_IPPROTO_DSTOPTS  60u

/* IPv6 fragment header: 8 bytes; offset in the top 13 bits of the field, M in the lowest. */
#define DECODE_IPV6_FRAG_LEN         8
#define DECODE_IPV6_FRAG_OFFSET_MASK 0xfff8u
#define DECODE_IPV6_FRAG_M           0x0001u

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

/* Cuts r so that at most n bytes remain from its position: an IP length field shorter than
 * the capture wins (trailing bytes are link padding); a longer one changes nothing, because
 * the capture bounds every read. */
static void cut_to(struct rd *r, size_t n)
{
    if (n < rd_left(r)) {
        r->len = r->off + n;
    }
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
static enum decode_status decode_tcp(struct rd *r, size_t claim, struct pkt *p,
                                     struct decode_stats *st)
{
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
    fill_tcp(h, hdr_len, avail, claim, p);
    if (p->payload_len < p->seg_len) {
        st->truncated++;
    }
    st->tcp++;
    return DECODE_OK;
}

/* RFC 791. r starts at the IPv4 header. */
static enum decode_status decode_ipv4(struct rd *r, struct pkt *p, struct decode_stats *st)
{
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
    if ((frag & (DECODE_IPV4_MF | DECODE_IPV4_OFFSET_MASK)) != 0) {
        return count_skip(&st->ip_fragments);
    }
    if (proto != DECODE_IPPROTO_TCP) {
        return count_skip(&st->not_tcp);
    }
    p->ip_version = 4;
    memcpy(p->src, src, DECODE_IPV4_ADDR_LEN);
    memset(p->src + DECODE_IPV4_ADDR_LEN, 0, sizeof p->src - DECODE_IPV4_ADDR_LEN);
    memcpy(p->dst, dst, DECODE_IPV4_ADDR_LEN);
    memset(p->dst + DECODE_IPV4_ADDR_LEN, 0, sizeof p->dst - DECODE_IPV4_ADDR_LEN);
    size_t claim = ip_len - hdr_len;
    cut_to(r, claim);
    p->l3 = l3;
    p->l3_len = (size_t)(r->p + r->len - l3);
    return decode_tcp(r, claim, p, st);
}

static int is_ipv6_ext(uint8_t next)
{
    return next == DECODE_IPPROTO_HOPOPTS || next == DECODE_IPPROTO_ROUTING ||
           next == DECODE_IPPROTO_FRAGMENT || next == DECODE_IPPROTO_AH ||
           next == DECODE_IPPROTO_DSTOPTS;
}

/* RFC 8200. r starts at the IPv6 header. Next headers other than TCP and the extension
 * headers above (ESP, no next header, UDP, ICMPv6, mobility, ...) are not_tcp. */
static enum decode_status decode_ipv6(struct rd *r, struct pkt *p, struct decode_stats *st)
{
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
    /* Payload length 0 announces a jumbogram (RFC 2675), whose length hides in a hop-by-hop
     * option; no mail session needs one, so it is counted as malformed. */
    if ((h[0] >> 4) != 6 || payload_len == 0) {
        return count_bad(&st->bad_ipv6);
    }
    size_t claim = payload_len;
    cut_to(r, claim);
    p->l3 = l3;
    p->l3_len = (size_t)(r->p + r->len - l3);

    for (size_t n_ext = 0; is_ipv6_ext(next); n_ext++) {
        if (n_ext == DECODE_MAX_IPV6_EXT) {
            return count_bad(&st->bad_ipv6);
        }
        uint8_t hdr = next;
        next = rd_u8(r);
        uint8_t len_field = rd_u8(r);
        uint16_t frag = 0;
        size_t ext_len;
        if (hdr == DECODE_IPPROTO_FRAGMENT) {
            ext_len = DECODE_IPV6_FRAG_LEN;
            frag = rd_be16(r);
            rd_skip(r, 4); /* identification */
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
            return count_skip(&st->ip_fragments);
        }
    }
    if (next != DECODE_IPPROTO_TCP) {
        return count_skip(&st->not_tcp);
    }
    p->ip_version = 6;
    memcpy(p->src, src, DECODE_IPV6_ADDR_LEN);
    memcpy(p->dst, dst, DECODE_IPV6_ADDR_LEN);
    return decode_tcp(r, claim, p, st);
}

static int is_vlan_tpid(uint16_t type)
{
    return type == DECODE_ETHERTYPE_8021Q || type == DECODE_ETHERTYPE_8021AD ||
           type == DECODE_ETHERTYPE_QINQ_9100;
}

/* type has just been read from a link header and r stands after it. VLAN tags (a TCI, then
 * the next ethertype) are peeled here, so a cooked capture with a tag in it works too. */
static enum decode_status decode_ethertype(struct rd *r, uint16_t type, struct pkt *p,
                                           struct decode_stats *st)
{
    for (size_t n_tags = 0; is_vlan_tpid(type); n_tags++) {
        if (n_tags == DECODE_MAX_VLAN_TAGS) {
            return count_bad(&st->vlan_too_deep);
        }
        uint16_t tci = rd_be16(r);
        type = rd_be16(r);
        if (r->bad) {
            return count_bad(&st->bad_link);
        }
        p->vlan = (uint16_t)(tci & DECODE_VLAN_ID_MASK); /* the last tag read is innermost */
    }
    if (type == DECODE_ETHERTYPE_IPV4) {
        return decode_ipv4(r, p, st);
    }
    if (type == DECODE_ETHERTYPE_IPV6) {
        return decode_ipv6(r, p, st);
    }
    /* ARP, LLDP, ..., and 802.3 length fields (LLC/SNAP frames). */
    return count_skip(&st->not_ip);
}

static int is_af_ip(uint32_t af)
{
    return af == DECODE_AF_INET || af == DECODE_AF_INET6_BSD || af == DECODE_AF_INET6_FREEBSD ||
           af == DECODE_AF_INET6_DARWIN;
}

static enum decode_status decode_af(struct rd *r, uint32_t af, struct pkt *p,
                                    struct decode_stats *st)
{
    if (af == DECODE_AF_INET) {
        return decode_ipv4(r, p, st);
    }
    if (is_af_ip(af)) {
        return decode_ipv6(r, p, st);
    }
    return count_skip(&st->not_ip);
}

static enum decode_status decode_link_layer(enum decode_link link, struct rd *r, struct pkt *p,
                                            struct decode_stats *st)
{
    struct rd peek;
    uint16_t type;
    uint32_t af;
    uint8_t version;

    switch (link) {
    case DECODE_LINK_ETHERNET:
        rd_skip(r, DECODE_ETH_ADDRS_LEN);
        type = rd_be16(r);
        if (r->bad) {
            return count_bad(&st->bad_link);
        }
        return decode_ethertype(r, type, p, st);
    case DECODE_LINK_SLL:
        rd_skip(r, DECODE_SLL_PROTO_OFF);
        type = rd_be16(r);
        if (r->bad) {
            return count_bad(&st->bad_link);
        }
        return decode_ethertype(r, type, p, st);
    case DECODE_LINK_SLL2:
        type = rd_be16(r);
        rd_skip(r, DECODE_SLL2_AFTER_PROTO);
        if (r->bad) {
            return count_bad(&st->bad_link);
        }
        return decode_ethertype(r, type, p, st);
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
        return decode_af(r, af, p, st);
    case DECODE_LINK_LOOP:
        af = rd_be32(r);
        if (r->bad) {
            return count_bad(&st->bad_link);
        }
        return decode_af(r, af, p, st);
    case DECODE_LINK_RAW:
        /* No link header: the version nibble decides, and an empty packet has none. */
        peek = *r;
        version = (uint8_t)(rd_u8(&peek) >> 4);
        if (peek.bad) {
            return count_bad(&st->bad_link);
        }
        if (version == 4) {
            return decode_ipv4(r, p, st);
        }
        if (version == 6) {
            return decode_ipv6(r, p, st);
        }
        return count_skip(&st->not_ip);
    case DECODE_LINK_IPV4:
        return decode_ipv4(r, p, st);
    case DECODE_LINK_IPV6:
        return decode_ipv6(r, p, st);
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

enum decode_status decode_packet(enum decode_link link, const uint8_t *data, size_t caplen,
                                 size_t wirelen, uint64_t ts_usec, struct pkt *out,
                                 struct decode_stats *st)
{
    struct rd r = rd_make(data, caplen);
    struct pkt p;

    (void)wirelen; /* informational: every bound comes from caplen */
    /* Every layer sets the fields it owns, so p needs no clearing; only vlan is optional. */
    p.ts_usec = ts_usec;
    p.vlan = 0;
    st->packets++;
    if (link == DECODE_LINK_ETHERNET && decode_fast(data, caplen, &p, st)) {
        *out = p;
        return DECODE_OK;
    }
    /* Decode into a local view so *out changes only when a whole segment decoded. */
    enum decode_status status = decode_link_layer(link, &r, &p, st);
    if (status == DECODE_OK) {
        *out = p;
    }
    return status;
}
