/* fuzz_decode.c - libFuzzer target for decode_packet.
 *
 * Input: byte 0 picks the link type (low nibble, modulo the number of enum decode_link values,
 * so DECODE_LINK_UNKNOWN is reachable too) and how much longer the wire length claims to be
 * (high nibble); the rest is the captured packet, caplen bytes exactly, so ASan sees any read
 * past it. Checked besides memory safety: a decoded segment's views lie inside the packet and
 * agree with each other, and every call bumps exactly one of the counters decode.h promises.
 * An untagged Ethernet frame of IPv4 or IPv6 is decoded a second time from its IP header (link
 * type IPv4/IPv6), which never takes decode's fast path: both must give the same segment and
 * the same counters, so the fast path is held to the general one. Every segment decoded, through
 * whatever tunnels (MPLS, PPPoE, GRE, PPTP, ERSPAN, VXLAN, Geneve, IP in IP, Teredo: seeds and
 * fuzz_decode.dict hold their headers), must decode again to itself from its innermost IP
 * header alone. */
#include "decode.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"

/* The values of enum decode_link: DECODE_LINK_UNKNOWN .. DECODE_LINK_SLL2. */
#define FUZZ_N_LINKS ((unsigned)DECODE_LINK_SLL2 + 1)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The outcome counters of which a DECODE_SKIP or DECODE_BAD bumps exactly one: every
 * DECODE_OUTCOMES counter but tcp. */
#define FUZZ_OUTCOME(field, doc) +st->field
static uint64_t skip_total(const struct decode_stats *st)
{
    return (0 DECODE_OUTCOMES(FUZZ_OUTCOME)) - st->tcp;
}

/* Whether p[0..len) lies inside base[0..cap). */
static bool inside(const uint8_t *base, size_t cap, const uint8_t *p, size_t len)
{
    if (len == 0) {
        return true;
    }
    if (p == NULL || p < base) {
        return false;
    }
    size_t off = (size_t)(p - base);
    return off <= cap && len <= cap - off;
}

static bool same_pkt(const struct pkt *a, const struct pkt *b)
{
    return a->ts_usec == b->ts_usec && a->ip_version == b->ip_version &&
           a->tcp_flags == b->tcp_flags && a->sport == b->sport && a->dport == b->dport &&
           memcmp(a->src, b->src, sizeof a->src) == 0 &&
           memcmp(a->dst, b->dst, sizeof a->dst) == 0 && a->seq == b->seq && a->ack == b->ack &&
           a->vlan == b->vlan && a->l3 == b->l3 && a->l3_len == b->l3_len &&
           a->payload == b->payload && a->payload_len == b->payload_len && a->seg_len == b->seg_len;
}

/* The trail: within its bounds, every layer a kind with a name, and its text within any buffer
 * (cut, never overrun). */
static void check_trail(const struct decode_trail *t, size_t cap)
{
    FUZZ_CHECK(t->n <= DECODE_TRAIL_MAX);
    FUZZ_CHECK(!t->is_cut || t->n == DECODE_TRAIL_MAX);
    for (size_t i = 0; i < t->n; i++) {
        FUZZ_CHECK(strcmp(decode_layer_name(t->l[i].kind), "unknown") != 0);
        FUZZ_CHECK(t->l[i].ip_version == 0 || t->l[i].ip_version == 4 || t->l[i].ip_version == 6);
    }
    char *buf = malloc(cap);
    FUZZ_CHECK(buf != NULL);
    decode_trail_format(t, buf, cap);
    FUZZ_CHECK(strlen(buf) < cap);
    free(buf);
}

/* A segment decoded through tunnels is the one its innermost IP header gives alone (classify
 * replays held packets from there). */
static void check_from_l3(const struct pkt *out)
{
    struct decode_stats st;
    memset(&st, 0, sizeof st);
    struct pkt again;
    memset(&again, 0, sizeof again);
    enum decode_status ds = decode_packet(DECODE_LINK_RAW, out->l3, out->l3_len, out->l3_len,
                                          out->ts_usec, &again, &st);
    FUZZ_CHECK(ds == DECODE_OK);
    again.vlan = out->vlan;
    FUZZ_CHECK(same_pkt(out, &again));
}

/* The Ethernet frame pkt[0..caplen) decoded from its IP header on, by the general path. */
static void check_against_general(const uint8_t *pkt, size_t caplen, enum decode_status ds,
                                  const struct pkt *out, const struct decode_stats *st)
{
    if (caplen < 14) {
        return;
    }
    unsigned type = (unsigned)pkt[12] << 8 | pkt[13];
    if (type != 0x0800u && type != 0x86ddu) {
        return;
    }
    enum decode_link l3_link = type == 0x0800u ? DECODE_LINK_IPV4 : DECODE_LINK_IPV6;
    struct decode_stats st2;
    memset(&st2, 0, sizeof st2);
    struct pkt out2;
    memset(&out2, 0, sizeof out2);
    enum decode_status ds2 =
        decode_packet(l3_link, pkt + 14, caplen - 14, caplen - 14, out->ts_usec, &out2, &st2);
    FUZZ_CHECK(ds2 == ds);
    FUZZ_CHECK(memcmp(&st2, st, sizeof st2) == 0);
    if (ds == DECODE_OK) {
        FUZZ_CHECK(same_pkt(out, &out2));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    enum decode_link link = (enum decode_link)((data[0] & 0x0fu) % FUZZ_N_LINKS);
    size_t extra = (size_t)(data[0] >> 4) * 97;
    size_t caplen = size - 1;
    /* A copy of exactly caplen bytes: a read past the packet is a heap overflow. */
    uint8_t *pkt = malloc(caplen > 0 ? caplen : 1);
    FUZZ_CHECK(pkt != NULL);
    if (caplen > 0) {
        memcpy(pkt, data + 1, caplen);
    }

    struct decode_stats st;
    memset(&st, 0, sizeof st);
    struct pkt out;
    memset(&out, 0, sizeof out);
    enum decode_status ds =
        decode_packet(link, pkt, caplen, caplen + extra, 1700000000000000u, &out, &st);

    FUZZ_CHECK(st.packets == 1);
    switch (ds) {
    case DECODE_OK:
        FUZZ_CHECK(st.tcp == 1);
        FUZZ_CHECK(skip_total(&st) == 0);
        FUZZ_CHECK(out.ip_version == 4 || out.ip_version == 6);
        FUZZ_CHECK(inside(pkt, caplen, out.l3, out.l3_len));
        FUZZ_CHECK(inside(pkt, caplen, out.payload, out.payload_len));
        FUZZ_CHECK(out.payload_len <= out.seg_len);
        FUZZ_CHECK(st.truncated == (out.payload_len < out.seg_len ? 1u : 0u));
        /* The payload follows the IP header, inside the IP packet's captured bytes. */
        FUZZ_CHECK(out.payload_len == 0 ||
                   (out.payload >= out.l3 &&
                    (size_t)(out.payload - out.l3) + out.payload_len <= out.l3_len));
        FUZZ_CHECK(out.ts_usec == 1700000000000000u);
        if (out.ip_version == 4) {
            static const uint8_t zero[12];
            FUZZ_CHECK(memcmp(out.src + 4, zero, sizeof zero) == 0);
            FUZZ_CHECK(memcmp(out.dst + 4, zero, sizeof zero) == 0);
        }
        fuzz_touch(out.payload, out.payload_len);
        fuzz_touch(out.l3, out.l3_len);
        check_from_l3(&out);
        check_trail(&out.trail, 1 + (size_t)(data[0] >> 4) * 16);
        break;
    case DECODE_SKIP:
    case DECODE_BAD:
        FUZZ_CHECK(st.tcp == 0);
        FUZZ_CHECK(skip_total(&st) == 1);
        break;
    default:
        fuzz_fail("decode_packet returned a status outside enum decode_status");
    }
    if (link == DECODE_LINK_UNKNOWN) {
        FUZZ_CHECK(ds != DECODE_OK && st.unknown_link == 1);
    }
    if (link == DECODE_LINK_ETHERNET) {
        out.ts_usec = 1700000000000000u;
        check_against_general(pkt, caplen, ds, &out, &st);
    }
    free(pkt);
    return 0;
}
