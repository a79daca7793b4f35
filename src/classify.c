/* classify.c - which protocol a TCP flow speaks: the registry's ports, greetings, then nDPI.
 *
 * Ports: an index of the registry's ports (a byte per port: the row, and whether it is an
 * implicit-TLS port) built when the classifier is made.
 *
 * Undecided flows keep their packets as raw IP bytes behind a 16-byte header in one buffer that
 * doubles as it fills, and decode them again when they are needed (the greeting rules read the
 * stream's first bytes in sequence order from them; nDPI and the parser get them replayed): a
 * handshake packet costs its header and its 40 to 80 bytes, not a whole struct pkt. Every
 * byte is charged to the flow's owner first, which may evict other flows to make room.
 *
 * nDPI follows the call sequence of its example reader: one detection module per run, one
 * ndpi_flow_struct per flow, ndpi_detection_process_packet with the IP packet of either
 * direction until it names a protocol, ndpi_detection_giveup when we stop asking. Its ids are
 * matched to registry rows through the names the rows give (ndpi_get_protocol_id), so no id
 * is written here. nDPI's POP3/IMAP/SMTP dissectors recognise the server's greeting and the
 * client's commands, which is what makes mail on another port visible mid-stream. */
#include "classify.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ndpi/ndpi_api.h>

#include "decode.h"
#include "log.h"
#include "proto.h"
#include "ps.h"
#include "registry.h"
#include "tlssniff.h"
#include "tunables.h"

/* The nDPI API changes between releases (module and flow set-up, protocol ids); this file was
 * written against 4.2, the version Debian 12 ships. */
_Static_assert(NDPI_MAJOR == 4 && NDPI_MINOR == 2, "classify.c is written for nDPI 4.2");

_Static_assert(CLASSIFY_MAX_DATA_PACKETS <= CLASSIFY_MAX_PACKETS,
               "nDPI gives its final word before the flow holds all it may");

/* port_row: 0 for no protocol, else the registry row + 1, with this bit for implicit TLS. */
#define CLASSIFY_PORT_TLS 0x80u
_Static_assert(REGISTRY_MAX_PROTOS < CLASSIFY_PORT_TLS, "a row index fits beside the TLS bit");
/* nDPI ids mapped to rows: each row names its cleartext and TLS ids. */
#define CLASSIFY_MAX_NDPI_IDS (2 * REGISTRY_MAX_PROTOS)

struct classify_ndpi_id {
    uint16_t id;
    const struct registry_proto *proto;
};

struct classify {
    struct ndpi_detection_module_struct *ndpi; /* NULL until set up */
    bool is_ndpi;                              /* nDPI is wanted: set up, or when first needed */
    struct classify_stats st;
    struct classify_ndpi_id ndpi_ids[CLASSIFY_MAX_NDPI_IDS];
    size_t n_ndpi_ids;
    uint8_t port_row[65536];
    uint32_t enabled; /* bit i: registry row i is looked for (classify_set_protocols) */
};

/* A held packet's header, copied in and out with memcpy (no alignment in the buffer). */
struct held_hdr {
    uint64_t ts_usec;
    uint32_t l3_len;
    uint16_t vlan;
    uint8_t is_from_a;
    uint8_t iface;
};
#define CLASSIFY_HELD_HDR sizeof(struct held_hdr)
/* The held buffer's first size, doubled as it fills: a SYN and its SYN-ACK fit. */
#define CLASSIFY_HELD_FIRST_CAP 128u
/* The held buffer's largest size: CLASSIFY_MAX_BYTES of packets plus their headers. */
#define CLASSIFY_HELD_MAX_CAP (CLASSIFY_MAX_BYTES + CLASSIFY_MAX_PACKETS * CLASSIFY_HELD_HDR)

struct classify_flow {
    struct ndpi_flow_struct *nf; /* nDPI's state, made when the content rules cannot tell */
    size_t n_held;               /* packets held in bytes */
    uint8_t *bytes;              /* the held packets, each a struct held_hdr and its IP bytes */
    size_t held_bytes;           /* used of bytes */
    size_t bytes_cap;            /* allocated (and charged) of bytes */
    uint32_t data_packets;
    bool has_sides;            /* the start was seen (SYN or SYN-ACK): the client is known */
    bool is_client_a;          /* the client is the "a" end */
    bool has_server;           /* the server spoke first with a greeting: it is known */
    bool is_server_a;          /* the server is the "a" end */
    bool is_confirm_wait;      /* a shared greeting: the client's first word will tell */
    bool is_ndpi;              /* the content rules could not tell: nDPI decides */
    bool has_isn_a, has_isn_b; /* the SYN of that end was seen: its stream start is known */
    uint32_t candidates;       /* is_confirm_wait: the rows whose greeting it was (bits) */
    uint32_t isn_a, isn_b;
};

static bool is_enabled(const struct classify *c, const struct registry_proto *r)
{
    return (c->enabled & (1u << registry_index(r))) != 0;
}

static void index_ports(struct classify *c)
{
    memset(c->port_row, 0, sizeof c->port_row);
    for (size_t i = 0; i < registry_count(); i++) {
        const struct registry_proto *r = registry_at(i);
        if ((c->enabled & (1u << i)) == 0) {
            continue;
        }
        for (size_t k = 0; r->ports[k] != 0; k++) {
            c->port_row[r->ports[k]] = (uint8_t)(i + 1);
        }
        for (size_t k = 0; r->tls_ports[k] != 0; k++) {
            c->port_row[r->tls_ports[k]] = (uint8_t)((i + 1) | CLASSIFY_PORT_TLS);
        }
    }
}

/* Sets nDPI's module up, once; false when that failed (now or before). */
static bool start_ndpi(struct classify *c)
{
    if (c->ndpi != NULL || c->st.ndpi_failed != 0) {
        return c->ndpi != NULL;
    }
    /* Tor hosts and libgcrypt serve verdicts plainsight does not ask for; skipping them makes
     * start-up cheaper. */
    c->ndpi = ndpi_init_detection_module(ndpi_dont_load_tor_hosts | ndpi_dont_init_libgcrypt);
    if (c->ndpi == NULL) {
        c->st.ndpi_failed = 1;
        log_warn("cannot set up nDPI: flows on other ports seen mid-stream are taken as not "
                 "mail");
        return false;
    }
    NDPI_PROTOCOL_BITMASK all;
    NDPI_BITMASK_SET_ALL(all);
    ndpi_set_protocol_detection_bitmask2(c->ndpi, &all);
    ndpi_finalize_initialization(c->ndpi);
    for (size_t i = 0; i < registry_count(); i++) {
        const struct registry_proto *r = registry_at(i);
        for (size_t k = 0; r->ndpi_names[k] != NULL; k++) {
            /* nDPI takes a char *, and only reads it. */
            char name[32];
            snprintf(name, sizeof name, "%s", r->ndpi_names[k]);
            int id = ndpi_get_protocol_id(c->ndpi, name);
            assert(id > 0 && c->n_ndpi_ids < CLASSIFY_MAX_NDPI_IDS);
            if (id > 0 && id <= 0xffff && c->n_ndpi_ids < CLASSIFY_MAX_NDPI_IDS) {
                c->ndpi_ids[c->n_ndpi_ids].id = (uint16_t)id;
                c->ndpi_ids[c->n_ndpi_ids].proto = r;
                c->n_ndpi_ids++;
            }
        }
    }
    c->st.ndpi_started = 1;
    return true;
}

struct classify *classify_new(bool is_ndpi)
{
    struct classify *c = xcalloc(1, sizeof *c);
    c->is_ndpi = is_ndpi;
    c->enabled = UINT32_MAX;
    index_ports(c);
    if (is_ndpi && !start_ndpi(c)) {
        free(c);
        return NULL;
    }
    return c;
}

struct classify *classify_new_lazy(void)
{
    struct classify *c = xcalloc(1, sizeof *c);
    c->is_ndpi = true;
    c->enabled = UINT32_MAX;
    index_ports(c);
    return c;
}

void classify_set_protocols(struct classify *c, uint32_t rows)
{
    c->enabled = rows;
    index_ports(c);
}

void classify_free(struct classify *c)
{
    if (c == NULL) {
        return;
    }
    if (c->ndpi != NULL) {
        ndpi_exit_detection_module(c->ndpi);
    }
    free(c);
}

bool classify_is_active(const struct classify *c)
{
    return c->is_ndpi;
}

bool classify_is_mail_port(const struct classify *c, uint16_t port)
{
    return c->port_row[port] != 0;
}

/* Fills *out for row r, cleartext unless is_tls. */
static void result_for(struct classify_result *out, const struct registry_proto *r, bool is_tls)
{
    out->proto = r;
    out->is_implicit_tls = is_tls;
}

bool classify_port(const struct classify *c, uint16_t sport, uint16_t dport,
                   struct classify_result *out)
{
    uint8_t d = c->port_row[dport];
    uint8_t s = c->port_row[sport];
    uint8_t e = d;
    bool is_server_dst = true;
    if (s != 0 && (d == 0 || sport < dport)) {
        e = s;
        is_server_dst = false;
    }
    out->is_server_dst = is_server_dst;
    out->is_pkt_held = false;
    if (e == 0) {
        result_for(out, NULL, false);
        return false;
    }
    result_for(out, registry_at((size_t)(e & ~CLASSIFY_PORT_TLS) - 1),
               (e & CLASSIFY_PORT_TLS) != 0);
    return true;
}

/* ---- undecided flows: held packets ---- */

size_t classify_flow_charge_new(void)
{
    return PS_HEAP_COST(sizeof(struct classify_flow));
}

struct classify_flow *classify_flow_new(void)
{
    return xcalloc(1, sizeof(struct classify_flow));
}

size_t classify_flow_charged(const struct classify_flow *cf)
{
    return classify_flow_charge_new() + (cf->bytes_cap > 0 ? PS_HEAP_COST(cf->bytes_cap) : 0) +
           (cf->nf != NULL ? PS_HEAP_COST(ndpi_detection_get_sizeof_ndpi_flow_struct()) : 0);
}

void classify_flow_free(struct classify_flow *cf)
{
    if (cf == NULL) {
        return;
    }
    if (cf->nf != NULL) {
        ndpi_free_flow_data(cf->nf);
        free(cf->nf);
    }
    free(cf->bytes);
    free(cf);
}

bool classify_flow_held(const struct classify_flow *cf, size_t *off, struct pkt *p)
{
    if (*off + CLASSIFY_HELD_HDR > cf->held_bytes) {
        return false;
    }
    struct held_hdr h;
    memcpy(&h, cf->bytes + *off, sizeof h);
    const uint8_t *l3 = cf->bytes + *off + CLASSIFY_HELD_HDR;
    struct decode_stats scratch;
    memset(&scratch, 0, sizeof scratch);
    /* They decoded once, so they do again, to the same view. */
    enum decode_status ds =
        decode_packet(DECODE_LINK_RAW, l3, h.l3_len, h.l3_len, h.ts_usec, p, &scratch);
    assert(ds == DECODE_OK);
    if (ds != DECODE_OK) {
        *off = cf->held_bytes;
        return false;
    }
    p->vlan = h.vlan;
    p->iface = h.iface;
    *off += CLASSIFY_HELD_HDR + h.l3_len;
    return true;
}

/* Like classify_flow_held, and says which end sent it. */
static bool held_next(const struct classify_flow *cf, size_t *off, struct pkt *p, bool *is_from_a)
{
    if (*off + CLASSIFY_HELD_HDR <= cf->held_bytes) {
        struct held_hdr h;
        memcpy(&h, cf->bytes + *off, sizeof h);
        *is_from_a = h.is_from_a != 0;
    }
    return classify_flow_held(cf, off, p);
}

/* Keeps a copy of p. Returns false when the flow holds all it may. */
static bool hold(struct classify_flow *cf, const struct pkt *p, bool is_from_a,
                 classify_charge_fn *charge, void *ctx)
{
    size_t l3_held = cf->held_bytes - cf->n_held * CLASSIFY_HELD_HDR;
    if (cf->n_held == CLASSIFY_MAX_PACKETS || l3_held + p->l3_len > CLASSIFY_MAX_BYTES) {
        return false;
    }
    size_t need = cf->held_bytes + CLASSIFY_HELD_HDR + p->l3_len;
    if (need > cf->bytes_cap) {
        /* Grow by doubling, never past the limit; the growth is what is charged. */
        size_t cap = cf->bytes_cap > 0 ? 2 * cf->bytes_cap : CLASSIFY_HELD_FIRST_CAP;
        while (cap < need) {
            cap *= 2;
        }
        if (cap > CLASSIFY_HELD_MAX_CAP) {
            cap = CLASSIFY_HELD_MAX_CAP;
        }
        size_t was = cf->bytes_cap > 0 ? PS_HEAP_COST(cf->bytes_cap) : 0;
        if (!charge(ctx, PS_HEAP_COST(cap) - was)) {
            return false;
        }
        cf->bytes = xrealloc(cf->bytes, cap);
        cf->bytes_cap = cap;
    }
    struct held_hdr h = { p->ts_usec, (uint32_t)p->l3_len, p->vlan, is_from_a ? 1u : 0u, p->iface };
    memcpy(cf->bytes + cf->held_bytes, &h, sizeof h);
    memcpy(cf->bytes + cf->held_bytes + CLASSIFY_HELD_HDR, p->l3, p->l3_len);
    cf->held_bytes = need;
    cf->n_held++;
    return true;
}

/* Where the stream the end from_a sent starts: after its SYN, or, when the SYN was missed (the
 * capture saw the other end's), at the first byte of its first held segment. */
static uint32_t stream_start(const struct classify_flow *cf, bool from_a)
{
    if (from_a ? cf->has_isn_a : cf->has_isn_b) {
        return (from_a ? cf->isn_a : cf->isn_b) + 1;
    }
    struct pkt h;
    bool h_from_a = false;
    size_t at = 0;
    while (held_next(cf, &at, &h, &h_from_a)) {
        if (h.payload_len > 0 && h_from_a == from_a) {
            return h.seq;
        }
    }
    return 0; /* no segment of that end is held: nothing is read from it */
}

/* The first bytes of the stream the end from_a sent, put in order from the held packets (a
 * greeting split into segments that arrive out of order still reads as one). Writes up to
 * CLASSIFY_PREFIX_LEN bytes into out and returns how many lie contiguous from the stream's
 * start. */
static size_t stream_prefix(const struct classify_flow *cf, bool from_a,
                            uint8_t out[CLASSIFY_PREFIX_LEN])
{
    uint32_t start = stream_start(cf, from_a);
    bool have[CLASSIFY_PREFIX_LEN] = { false };
    struct pkt h;
    bool h_from_a = false;
    size_t at = 0;
    while (held_next(cf, &at, &h, &h_from_a)) {
        if (h.payload_len == 0 || h_from_a != from_a) {
            continue;
        }
        /* Modulo 2^32: a segment from before the start lands far past the prefix. */
        uint32_t off = h.seq - start;
        if (off >= CLASSIFY_PREFIX_LEN) {
            continue;
        }
        for (size_t k = 0; k < h.payload_len && off + k < CLASSIFY_PREFIX_LEN; k++) {
            if (!have[off + k]) {
                out[off + k] = h.payload[k];
                have[off + k] = true;
            }
        }
    }
    size_t n = 0;
    while (n < CLASSIFY_PREFIX_LEN && have[n]) {
        n++;
    }
    return n;
}

/* ---- the verdicts ---- */

/* What a registry match short of YES means for the flow: SHORT waits, NO is not mail. */
static enum classify_verdict short_of_yes(enum registry_match m)
{
    return m == REGISTRY_SHORT ? CLASSIFY_MORE : CLASSIFY_NOT_MAIL;
}

/* The client's first word after a greeting that two protocols share. */
static enum classify_verdict by_client_word(struct classify *c, struct classify_flow *cf,
                                            const uint8_t *prefix, size_t n,
                                            struct classify_result *out)
{
    const struct registry_proto *r = NULL;
    enum registry_match m = registry_confirm(cf->candidates, prefix, n, &r);
    if (m != REGISTRY_YES) {
        return short_of_yes(m);
    }
    if (!is_enabled(c, r)) {
        return CLASSIFY_NOT_MAIL; /* a protocol --protocols left out */
    }
    c->st.by_content++;
    result_for(out, r, false);
    return CLASSIFY_MAIL;
}

/* The content rules, for a flow whose start was seen: servers of the registry's protocols
 * speak first, with a greeting of a known form; a client that speaks first may open a
 * wrapper. Returns the verdict, or CLASSIFY_MORE to wait, and sets cf->is_ndpi when they
 * cannot tell (the capture started mid-stream). */
static enum classify_verdict by_content(struct classify *c, struct classify_flow *cf, bool from_a,
                                        struct classify_result *out)
{
    if (!cf->has_sides) {
        cf->is_ndpi = true;
        return CLASSIFY_MORE;
    }
    uint8_t prefix[CLASSIFY_PREFIX_LEN];
    size_t n = stream_prefix(cf, from_a, prefix);
    if (cf->is_confirm_wait) {
        if (from_a == cf->is_server_a) {
            return CLASSIFY_MORE; /* more greeting lines */
        }
        return by_client_word(c, cf, prefix, n, out);
    }
    if (from_a == cf->is_client_a) {
        /* The client spoke first: the registry's mail servers always speak first, but a
         * wrapper's client (SOCKS5) does, and its tunnel may lead to a mail server, as do the
         * clients of LDAP and XMPP, and an HTTP client, with a request line. */
        const struct registry_proto *w = NULL;
        switch (registry_client_opens(prefix, n, &w)) {
        case REGISTRY_SHORT:
            return CLASSIFY_MORE; /* a greeting cut short: wait for the rest */
        case REGISTRY_YES:
            if (!is_enabled(c, w)) {
                break; /* a protocol --protocols left out */
            }
            if (w->is_wrapper || !w->ops->is_login_only) {
                c->st.socks++; /* SOCKS5, HTTP CONNECT, LDAP, XMPP */
            } else {
                c->st.by_content++; /* HTTP's request line: mostly web traffic */
            }
            result_for(out, w, false);
            return CLASSIFY_MAIL;
        case REGISTRY_NO:
            break;
        }
        c->st.client_first++;
        return CLASSIFY_NOT_MAIL;
    }
    uint32_t rows = 0;
    enum registry_match m = registry_greeting(prefix, n, &rows);
    if (m != REGISTRY_YES) {
        return short_of_yes(m);
    }
    cf->has_server = true;
    cf->is_server_a = from_a;
    cf->candidates = rows;
    enum classify_verdict v = by_client_word(c, cf, NULL, 0, out);
    if (v == CLASSIFY_MORE) {
        cf->is_confirm_wait = true; /* a greeting another protocol shares */
    }
    return v;
}

/* nDPI's word on a flow: the registry row it names, CLASSIFY_MORE while it names nothing. */
static enum classify_verdict ndpi_verdict(struct classify *c, ndpi_protocol proto,
                                          struct classify_result *out)
{
    uint16_t ids[2] = { proto.app_protocol, proto.master_protocol };
    for (size_t i = 0; i < 2; i++) {
        for (size_t k = 0; k < c->n_ndpi_ids; k++) {
            if (c->ndpi_ids[k].id == ids[i] && is_enabled(c, c->ndpi_ids[k].proto)) {
                /* The parsers see for themselves when a client starts with a TLS record. */
                result_for(out, c->ndpi_ids[k].proto, false);
                c->st.ndpi_mail++;
                return CLASSIFY_MAIL;
            }
        }
    }
    if (proto.app_protocol == NDPI_PROTOCOL_UNKNOWN &&
        proto.master_protocol == NDPI_PROTOCOL_UNKNOWN) {
        return CLASSIFY_MORE;
    }
    c->st.ndpi_not_mail++;
    return CLASSIFY_NOT_MAIL;
}

static enum classify_verdict ndpi_packet(struct classify *c, struct classify_flow *cf,
                                         const struct pkt *p, struct classify_result *out)
{
    if (p->l3 == NULL || p->l3_len == 0) {
        return CLASSIFY_MORE;
    }
    c->st.ndpi_packets++;
    /* nDPI takes an unsigned short length: an IP packet is at most 65535 bytes anyway. */
    unsigned short len = p->l3_len > 0xffffu ? 0xffffu : (unsigned short)p->l3_len;
    ndpi_protocol proto =
        ndpi_detection_process_packet(c->ndpi, cf->nf, p->l3, len, p->ts_usec / 1000u);
    return ndpi_verdict(c, proto, out);
}

/* nDPI for a flow the content rules cannot judge: made at the first such packet, which gets
 * the held packets first. */
static enum classify_verdict by_ndpi(struct classify *c, struct classify_flow *cf,
                                     const struct pkt *p, classify_charge_fn *charge, void *ctx,
                                     struct classify_result *out)
{
    if (cf->nf != NULL) {
        return ndpi_packet(c, cf, p, out);
    }
    if (!c->is_ndpi || !start_ndpi(c) ||
        !charge(ctx, PS_HEAP_COST(ndpi_detection_get_sizeof_ndpi_flow_struct()))) {
        return CLASSIFY_NOT_MAIL;
    }
    cf->nf = xcalloc(1, ndpi_detection_get_sizeof_ndpi_flow_struct());
    c->st.ndpi_flows++;
    enum classify_verdict v = CLASSIFY_MORE;
    struct pkt h;
    size_t at = 0;
    while (v == CLASSIFY_MORE && classify_flow_held(cf, &at, &h)) {
        v = ndpi_packet(c, cf, &h, out);
    }
    return v;
}

/* Sets out->is_server_dst for the first held packet, which starts the replay. */
static void settle_sides(const struct classify_flow *cf, struct classify_result *out)
{
    struct pkt first;
    bool is_from_a = false;
    size_t off = 0;
    if (!held_next(cf, &off, &first, &is_from_a)) {
        return;
    }
    if (cf->has_server) {
        out->is_server_dst = is_from_a != cf->is_server_a;
    } else if (cf->has_sides) {
        out->is_server_dst = is_from_a == cf->is_client_a;
    } else {
        out->is_server_dst = first.dport < first.sport; /* mid-stream: the lower port serves */
    }
}

/* The final word, without counting it. */
static enum classify_verdict giveup(struct classify *c, struct classify_flow *cf,
                                    struct classify_result *out)
{
    if (cf->nf == NULL) {
        return CLASSIFY_NOT_MAIL;
    }
    uint8_t guessed = 0;
    ndpi_protocol proto = ndpi_detection_giveup(c->ndpi, cf->nf, 0, &guessed);
    if (ndpi_verdict(c, proto, out) != CLASSIFY_MAIL) {
        return CLASSIFY_NOT_MAIL;
    }
    settle_sides(cf, out);
    return CLASSIFY_MAIL;
}

enum classify_verdict classify_flow_giveup(struct classify *c, struct classify_flow *cf,
                                           struct classify_result *out)
{
    memset(out, 0, sizeof *out);
    return giveup(c, cf, out);
}

/* Notes the stream start of a SYN or SYN-ACK (p), from the end is_from_a. */
static void note_syn(struct classify_flow *cf, const struct pkt *p, bool is_from_a)
{
    uint8_t syn_ack = p->tcp_flags & (DECODE_TCP_SYN | DECODE_TCP_ACK);
    if (!cf->has_sides && cf->data_packets == 0) {
        cf->has_sides = true;
        cf->is_client_a = is_from_a == (syn_ack == DECODE_TCP_SYN);
    }
    if (is_from_a) {
        cf->has_isn_a = true;
        cf->isn_a = p->seq;
    } else {
        cf->has_isn_b = true;
        cf->isn_b = p->seq;
    }
}

enum classify_verdict classify_flow_packet(struct classify *c, struct classify_flow *cf,
                                           const struct pkt *p, bool is_from_a,
                                           classify_charge_fn *charge, void *ctx,
                                           struct classify_result *out)
{
    memset(out, 0, sizeof *out);
    out->is_pkt_held = true;
    if (!hold(cf, p, is_from_a, charge, ctx)) {
        c->st.gave_up++;
        out->is_pkt_held = false;
        return giveup(c, cf, out);
    }
    if ((p->tcp_flags & DECODE_TCP_SYN) != 0) {
        note_syn(cf, p, is_from_a);
    }
    bool is_end = (p->tcp_flags & (DECODE_TCP_FIN | DECODE_TCP_RST)) != 0;
    if (p->payload_len == 0) {
        if (is_end) {
            /* The flow ends before a verdict: nothing more will tell. */
            c->st.gave_up++;
            return giveup(c, cf, out);
        }
        return CLASSIFY_MORE; /* the handshake is held, and replayed to nDPI or the parser */
    }
    cf->data_packets++;
    if (!cf->has_sides && cf->nf == NULL && tlssniff_is_record(p->payload, p->payload_len)) {
        /* Seen mid-stream inside TLS: nothing in the clear to read, and nDPI's TLS dissector
         * (fingerprints of each hello) is its costliest. */
        c->st.tls_midstream++;
        return CLASSIFY_NOT_MAIL;
    }
    enum classify_verdict v = cf->is_ndpi ? CLASSIFY_MORE : by_content(c, cf, is_from_a, out);
    if (cf->is_ndpi) {
        v = by_ndpi(c, cf, p, charge, ctx, out);
    }
    if (v == CLASSIFY_MORE &&
        ((cf->is_ndpi && cf->data_packets >= CLASSIFY_MAX_DATA_PACKETS) || is_end)) {
        c->st.gave_up++;
        return giveup(c, cf, out);
    }
    if (v == CLASSIFY_MAIL) {
        settle_sides(cf, out);
    }
    return v;
}

const struct classify_stats *classify_get_stats(const struct classify *c)
{
    return &c->st;
}

const char *classify_lib_version(void)
{
    return ndpi_revision();
}
