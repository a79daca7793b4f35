/* flow.c - the bidirectional flow table: TCP segments to mail sessions.
 *
 * Flows are found by a seeded hash of the 5-tuple with both ends in a canonical order, so
 * both directions land on one entry and crafted tuples cannot pile into one chain. Only
 * mail flows get an entry (classify decides on the first packet); everything else is counted
 * and dropped here, the earliest point that knows the ports.
 *
 * A mail flow carries its session record, the parser, and one struct reasm per direction.
 * Ordered bytes flow reasm -> parser; gaps are passed on so the parser resynchronises.
 * When a flow ends (RST, FIN from both sides, idle, eviction, end of capture) both directions
 * are flushed, the parser settles its verdicts and the session is emitted, then the entry
 * lingers briefly as a tombstone so retransmissions and the last ACK do not start a phantom
 * session. Active and closed flows sit on two lists ordered by last packet time, so expiry
 * and eviction take the oldest in constant time.
 *
 * Memory: every entry, its session, parser and reassembly queue are counted against the cap;
 * a new flow that would pass it (or the flow count limit) evicts the oldest closed, then the
 * oldest active flow, whose session is emitted with end reason "evicted". */
#include "flow.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "classify.h"
#include "decode.h"
#include "finding.h"
#include "tunables.h"

/* Bytes charged for a mail flow's parser state: two line buffers and the rest. */
#define FLOW_PARSER_CHARGE (2 * LINE_MAX_LEN + 4096)
/* Bytes charged for a mail flow beyond its entry. */
#define FLOW_MAIL_CHARGE (sizeof(struct mail) + sizeof(struct session) + FLOW_PARSER_CHARGE)

struct flow_key {
    uint8_t a[16], b[16]; /* a:pa sorts before b:pb */
    uint16_t pa, pb;
    uint8_t ip_version;
};

enum flow_state {
    FLOW_ACTIVE = 0, /* a mail session being parsed */
    FLOW_UNDECIDED,  /* not on a mail port: nDPI is looking at its first packets */
    FLOW_NOT_MAIL,   /* decided not mail: its packets are counted and dropped */
    FLOW_CLOSED,     /* session emitted; absorbing late packets until the linger time passes */
};

/* A copy of one packet of an undecided flow, replayed to the parser if nDPI says mail. */
struct held_pkt {
    struct pkt p; /* l3 and payload point into copy */
    uint8_t *copy;
    size_t copy_len;
};

struct undecided {
    struct classify_flow *cf; /* allocated at the first packet with payload */
    struct held_pkt held[CLASSIFY_MAX_PACKETS];
    size_t n_held;
    size_t held_bytes;
    uint32_t data_packets;
};

struct mail {
    struct session *s;
    const struct parser_ops *ops;
    void *parser;
    bool is_parser_dead;
    bool has_client_syn;
    uint32_t client_isn;
    uint8_t fin_mask; /* bit 0: client sent FIN, bit 1: server sent FIN */
    struct reasm dir[2];
};

struct flow {
    struct flow *hnext;
    struct flow *prev, *next; /* on the active or the closed list */
    struct flow_key key;
    uint64_t last_usec;
    enum flow_state state;
    struct mail *m;      /* FLOW_ACTIVE only */
    struct undecided *u; /* FLOW_UNDECIDED only */
};

struct flow_list {
    struct flow *head, *tail; /* head: least recently seen */
};

struct flow_table {
    struct flow_config cfg;
    flow_emit_fn *emit;
    void *emit_ctx;
    struct flow **buckets;
    size_t n_buckets; /* a power of two */
    uint64_t seed;
    struct flow_list active, closed;
    uint64_t n_flows;
    uint64_t now_usec;
    uint64_t next_expire_usec;
    size_t mem_flows; /* bytes of entries, sessions, parser states */
    struct flow_stats st;
    struct reasm_ctx rc;
    struct parse_stats ps;
    struct classify *cls; /* borrowed; NULL: ports only */
};

struct dir_ctx {
    struct flow_table *ft;
    struct mail *m;
    enum parse_dir dir;
};

static void list_remove(struct flow_list *l, struct flow *f)
{
    if (f->prev != NULL) {
        f->prev->next = f->next;
    } else {
        l->head = f->next;
    }
    if (f->next != NULL) {
        f->next->prev = f->prev;
    } else {
        l->tail = f->prev;
    }
    f->prev = f->next = NULL;
}

static void list_append(struct flow_list *l, struct flow *f)
{
    f->next = NULL;
    f->prev = l->tail;
    if (l->tail != NULL) {
        l->tail->next = f;
    } else {
        l->head = f;
    }
    l->tail = f;
}

static void update_mem(struct flow_table *ft)
{
    /* Reassembly queues get what the entries, sessions and parsers leave of the cap, so the
     * two together never pass it. */
    ft->rc.mem_cap =
        ft->cfg.memcap_bytes > ft->mem_flows ? ft->cfg.memcap_bytes - ft->mem_flows : 0;
    ft->st.mem_used = ft->mem_flows + ft->rc.mem_used;
    if (ft->st.mem_used > ft->st.mem_used_max) {
        ft->st.mem_used_max = ft->st.mem_used;
    }
}

struct flow_table *flow_table_new(const struct flow_config *cfg, flow_emit_fn *emit, void *ctx)
{
    struct flow_table *ft = xcalloc(1, sizeof *ft);
    ft->cfg = *cfg;
    if (ft->cfg.max_flows == 0) {
        ft->cfg.max_flows = 1;
    }
    ft->emit = emit;
    ft->emit_ctx = ctx;
    ft->cls = cfg->cls;
    ft->n_buckets = 1024;
    while (ft->n_buckets < ft->cfg.max_flows / 2 && ft->n_buckets < ((size_t)1 << 20)) {
        ft->n_buckets <<= 1;
    }
    ft->buckets = xcalloc(ft->n_buckets, sizeof *ft->buckets);
    if (getrandom(&ft->seed, sizeof ft->seed, GRND_NONBLOCK) != (ssize_t)sizeof ft->seed) {
        ft->seed = (uint64_t)(uintptr_t)ft ^ 0x9e3779b97f4a7c15u;
    }
    ft->mem_flows = ft->n_buckets * sizeof *ft->buckets;
    update_mem(ft);
    return ft;
}

/* 64-bit mix (splitmix64 finaliser) over the key, seeded per table. */
static uint64_t mix(uint64_t h)
{
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9u;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebu;
    h ^= h >> 31;
    return h;
}

static size_t key_hash(const struct flow_table *ft, const struct flow_key *k)
{
    uint64_t h = ft->seed;
    for (size_t i = 0; i < 16; i += 8) {
        uint64_t wa = 0, wb = 0;
        for (size_t j = 0; j < 8; j++) {
            wa = wa << 8 | k->a[i + j];
            wb = wb << 8 | k->b[i + j];
        }
        h = mix(h ^ wa);
        h = mix(h ^ wb);
    }
    h = mix(h ^ ((uint64_t)k->pa << 24 | (uint64_t)k->pb << 8 | k->ip_version));
    return (size_t)(h & (ft->n_buckets - 1));
}

/* Fills *k from the packet; returns true when the source is the "a" end. */
static bool make_key(const struct pkt *p, struct flow_key *k)
{
    int c = memcmp(p->src, p->dst, 16);
    bool src_first = c < 0 || (c == 0 && p->sport <= p->dport);
    memset(k, 0, sizeof *k);
    k->ip_version = p->ip_version;
    if (src_first) {
        memcpy(k->a, p->src, 16);
        memcpy(k->b, p->dst, 16);
        k->pa = p->sport;
        k->pb = p->dport;
    } else {
        memcpy(k->a, p->dst, 16);
        memcpy(k->b, p->src, 16);
        k->pa = p->dport;
        k->pb = p->sport;
    }
    return src_first;
}

static bool key_eq(const struct flow_key *x, const struct flow_key *y)
{
    return x->pa == y->pa && x->pb == y->pb && x->ip_version == y->ip_version &&
           memcmp(x->a, y->a, 16) == 0 && memcmp(x->b, y->b, 16) == 0;
}

static struct flow *lookup(struct flow_table *ft, const struct flow_key *k, size_t h)
{
    for (struct flow *f = ft->buckets[h]; f != NULL; f = f->hnext) {
        if (key_eq(&f->key, k)) {
            return f;
        }
    }
    return NULL;
}

static void on_data(void *ctx, const uint8_t *data, size_t len)
{
    struct dir_ctx *d = ctx;
    struct mail *m = d->m;
    if (d->dir == PARSE_DIR_CLIENT) {
        m->s->bytes_client += len;
    } else {
        m->s->bytes_server += len;
    }
    if (m->is_parser_dead || m->s->is_parse_done) {
        return;
    }
    size_t consumed = 0;
    if (m->ops->feed(m->parser, d->dir, data, len, &consumed) == PARSE_ERROR) {
        m->is_parser_dead = true;
        d->ft->ps.not_protocol++;
    }
}

static void on_gap(void *ctx, uint64_t len)
{
    struct dir_ctx *d = ctx;
    struct mail *m = d->m;
    m->s->gaps++;
    m->s->gap_bytes += len;
    if (!m->is_parser_dead && !m->s->is_parse_done) {
        m->ops->gap(m->parser, d->dir, len);
    }
}

static void flush_dir(struct flow_table *ft, struct mail *m, enum parse_dir dir)
{
    struct dir_ctx d = { ft, m, dir };
    struct reasm_out out = { on_data, on_gap, &d };
    reasm_flush(&m->dir[dir], &ft->rc, &out);
}

/* Ends the mail session of f: flush, settle, emit, free. The entry stays (closed). */
static void end_session(struct flow_table *ft, struct flow *f, enum finding_end why)
{
    struct mail *m = f->m;
    if (m == NULL) {
        return;
    }
    /* The client's bytes first, so the server's last answers find their commands. */
    flush_dir(ft, m, PARSE_DIR_CLIENT);
    flush_dir(ft, m, PARSE_DIR_SERVER);
    m->ops->end(m->parser);
    m->s->end_reason = why;
    /* A flow the parser gave up on as not its protocol is no mail session, unless it had
     * already shown a credential. */
    bool is_mail = !m->is_parser_dead || m->s->n_creds > 0;
    if (m->s->bytes_client + m->s->bytes_server > 0 && is_mail) {
        ft->st.sessions_emitted++;
        ft->emit(ft->emit_ctx, m->s);
    } else {
        ft->st.sessions_empty++;
    }
    m->ops->free_parser(m->parser);
    reasm_free(&m->dir[0], &ft->rc);
    reasm_free(&m->dir[1], &ft->rc);
    finding_free(m->s);
    free(m);
    f->m = NULL;
    ft->mem_flows -= FLOW_MAIL_CHARGE;
    update_mem(ft);
}

static void release_undecided(struct flow_table *ft, struct undecided *u)
{
    size_t charge = sizeof *u + u->held_bytes + (u->cf != NULL ? classify_flow_size() : 0);
    for (size_t i = 0; i < u->n_held; i++) {
        free(u->held[i].copy);
    }
    classify_flow_free(u->cf);
    free(u);
    ft->mem_flows -= charge;
    update_mem(ft);
}

static void free_undecided(struct flow_table *ft, struct flow *f)
{
    if (f->u != NULL) {
        release_undecided(ft, f->u);
        f->u = NULL;
    }
}

static void close_flow(struct flow_table *ft, struct flow *f, enum finding_end why)
{
    end_session(ft, f, why);
    free_undecided(ft, f);
    if (f->state != FLOW_CLOSED) {
        list_remove(&ft->active, f);
        list_append(&ft->closed, f);
        f->state = FLOW_CLOSED;
        ft->st.flows_active--;
    }
}

/* Removes f from the table entirely (ending its session first if still active). */
static void destroy_flow(struct flow_table *ft, struct flow *f, enum finding_end why)
{
    end_session(ft, f, why);
    free_undecided(ft, f);
    size_t h = key_hash(ft, &f->key);
    struct flow **pp = &ft->buckets[h];
    while (*pp != NULL && *pp != f) {
        pp = &(*pp)->hnext;
    }
    if (*pp == f) {
        *pp = f->hnext;
    }
    if (f->state != FLOW_CLOSED) {
        list_remove(&ft->active, f);
        ft->st.flows_active--;
    } else {
        list_remove(&ft->closed, f);
    }
    free(f);
    ft->n_flows--;
    ft->mem_flows -= sizeof(struct flow);
    update_mem(ft);
}

static void evict_one(struct flow_table *ft)
{
    if (ft->closed.head != NULL) {
        destroy_flow(ft, ft->closed.head, FINDING_END_EVICTED);
    } else if (ft->active.head != NULL) {
        ft->st.flows_evicted++;
        destroy_flow(ft, ft->active.head, FINDING_END_EVICTED);
    }
}

/* Makes room for charge more bytes and one more entry: evicts the oldest flows, never keep
 * (the flow that asks; NULL for a flow about to be created). */
static void make_room(struct flow_table *ft, size_t charge, const struct flow *keep)
{
    size_t floor = keep != NULL ? 1 : 0;
    while ((ft->n_flows >= ft->cfg.max_flows + floor ||
            ft->mem_flows + ft->rc.mem_used + charge > ft->cfg.memcap_bytes) &&
           ft->n_flows > floor) {
        if (ft->closed.head == NULL && ft->active.head == keep) {
            if (keep->next == NULL) {
                break;
            }
            /* keep is the oldest: pass over it by moving it to the young end. */
            list_remove(&ft->active, (struct flow *)keep);
            list_append(&ft->active, (struct flow *)keep);
        }
        evict_one(ft);
    }
}

static struct flow *new_entry(struct flow_table *ft, const struct flow_key *k,
                              enum flow_state state)
{
    struct flow *f = xcalloc(1, sizeof *f);
    f->key = *k;
    f->state = state;
    size_t h = key_hash(ft, k);
    f->hnext = ft->buckets[h];
    ft->buckets[h] = f;
    list_append(&ft->active, f);
    ft->n_flows++;
    ft->mem_flows += sizeof(struct flow);
    ft->st.flows_created++;
    ft->st.flows_active++;
    if (ft->st.flows_active > ft->st.flows_active_max) {
        ft->st.flows_active_max = ft->st.flows_active;
    }
    update_mem(ft);
    return f;
}

/* Gives f a mail session, with sides taken from p, the flow's first packet. */
static void attach_mail(struct flow_table *ft, struct flow *f, const struct pkt *p,
                        const struct classify_result *cr)
{
    struct mail *m = xcalloc(1, sizeof *m);
    struct session *s = finding_new();
    f->m = m;
    f->state = FLOW_ACTIVE;
    m->s = s;
    m->ops = cr->ops;

    /* Client: the SYN sender; on a SYN-ACK the receiver; otherwise the side off the mail
     * port. */
    bool src_is_client;
    if ((p->tcp_flags & (DECODE_TCP_SYN | DECODE_TCP_ACK)) == DECODE_TCP_SYN) {
        src_is_client = true;
    } else if ((p->tcp_flags & (DECODE_TCP_SYN | DECODE_TCP_ACK)) ==
               (DECODE_TCP_SYN | DECODE_TCP_ACK)) {
        src_is_client = false;
    } else {
        src_is_client = cr->is_server_dst;
    }
    s->ip_version = p->ip_version;
    memcpy(s->client_ip, src_is_client ? p->src : p->dst, 16);
    memcpy(s->server_ip, src_is_client ? p->dst : p->src, 16);
    s->client_port = src_is_client ? p->sport : p->dport;
    s->server_port = src_is_client ? p->dport : p->sport;
    s->vlan = p->vlan;
    s->ts_start_usec = p->ts_usec;
    s->protocol = cr->protocol;
    if (cr->is_implicit_tls) {
        s->tls = FINDING_TLS_IMPLICIT;
        s->starttls = FINDING_STARTTLS_NA;
    }
    m->parser = m->ops->new_parser(s, &ft->ps, cr->is_implicit_tls ? PARSE_F_IMPLICIT_TLS : 0);
    reasm_init(&m->dir[0]);
    reasm_init(&m->dir[1]);
    ft->mem_flows += FLOW_MAIL_CHARGE;
    update_mem(ft);
}

static void decide(struct flow_table *ft, struct flow *f, enum classify_verdict v,
                   const struct classify_result *cr, const struct pkt *extra);

static void expire(struct flow_table *ft, uint64_t now)
{
    uint64_t idle = (uint64_t)ft->cfg.idle_sec * 1000000u;
    uint64_t linger = (uint64_t)FLOW_CLOSED_LINGER_SEC * 1000000u;
    while (ft->closed.head != NULL && ft->closed.head->last_usec + linger < now) {
        destroy_flow(ft, ft->closed.head, FINDING_END_IDLE);
    }
    while (ft->active.head != NULL && ft->active.head->last_usec + idle < now) {
        struct flow *f = ft->active.head;
        if (f->state == FLOW_UNDECIDED) {
            struct classify_result cr;
            memset(&cr, 0, sizeof cr);
            decide(ft, f, classify_giveup(ft->cls, f->u->cf, &cr), &cr, NULL);
        }
        if (f->state == FLOW_ACTIVE) {
            ft->st.flows_ended_idle++;
            close_flow(ft, f, FINDING_END_IDLE);
        } else {
            destroy_flow(ft, f, FINDING_END_IDLE);
        }
    }
}

void flow_expire(struct flow_table *ft, uint64_t now_usec)
{
    if (now_usec > ft->now_usec) {
        ft->now_usec = now_usec;
    }
    expire(ft, ft->now_usec);
}

/* One packet of a mail flow: reassembly, parser, end of the flow on RST or both FINs. */
static void mail_packet(struct flow_table *ft, struct flow *f, const struct pkt *p)
{
    struct mail *m = f->m;
    struct session *s = m->s;
    bool is_syn_only = (p->tcp_flags & (DECODE_TCP_SYN | DECODE_TCP_ACK)) == DECODE_TCP_SYN;
    s->packets++;
    if (p->ts_usec > s->ts_end_usec) {
        s->ts_end_usec = p->ts_usec;
    }
    bool from_client = memcmp(p->src, s->client_ip, 16) == 0 && p->sport == s->client_port;
    enum parse_dir dir = from_client ? PARSE_DIR_CLIENT : PARSE_DIR_SERVER;
    struct reasm *r = &m->dir[dir];
    struct dir_ctx d = { ft, m, dir };
    struct reasm_out out = { on_data, on_gap, &d };
    bool is_fin = (p->tcp_flags & DECODE_TCP_FIN) != 0;

    if (!s->is_parse_done) {
        if ((p->tcp_flags & DECODE_TCP_SYN) != 0) {
            if (from_client && is_syn_only && !m->has_client_syn) {
                m->has_client_syn = true;
                m->client_isn = p->seq;
            }
            reasm_syn(r, p->seq);
            if (p->seg_len > 0 || is_fin) {
                reasm_segment(r, &ft->rc, &out, p->seq + 1, p->payload, p->payload_len, p->seg_len,
                              is_fin);
            }
        } else if (p->seg_len > 0 || is_fin) {
            reasm_segment(r, &ft->rc, &out, p->seq, p->payload, p->payload_len, p->seg_len, is_fin);
        }
        if ((p->tcp_flags & DECODE_TCP_ACK) != 0) {
            struct dir_ctx dp = { ft, m,
                                  dir == PARSE_DIR_CLIENT ? PARSE_DIR_SERVER : PARSE_DIR_CLIENT };
            struct reasm_out outp = { on_data, on_gap, &dp };
            reasm_peer_ack(&m->dir[dp.dir], &ft->rc, &outp, p->ack);
        }
        update_mem(ft);
    }

    if ((p->tcp_flags & DECODE_TCP_RST) != 0) {
        ft->st.flows_ended_rst++;
        close_flow(ft, f, FINDING_END_RST);
        return;
    }
    if (is_fin) {
        m->fin_mask |= (uint8_t)(1u << dir);
        if (m->fin_mask == 3) {
            ft->st.flows_ended_fin++;
            close_flow(ft, f, FINDING_END_FIN);
        }
    }
}

/* Settles an undecided flow: on CLASSIFY_MAIL it becomes a mail flow and its held packets
 * are replayed, then extra (a packet that could not be held), if not NULL; otherwise it
 * becomes a not-mail tombstone. */
static void decide(struct flow_table *ft, struct flow *f, enum classify_verdict v,
                   const struct classify_result *cr, const struct pkt *extra)
{
    if (v != CLASSIFY_MAIL || f->u->n_held == 0) {
        free_undecided(ft, f);
        f->state = FLOW_NOT_MAIL;
        return;
    }
    /* The held packets stay ours while the replay may close (and so clean up) the flow. */
    struct undecided *u = f->u;
    f->u = NULL;
    struct classify_result r = *cr;
    const struct pkt *first = &u->held[0].p;
    /* With no SYN seen, the server is the side on the lower port. */
    r.is_server_dst = first->dport < first->sport;
    make_room(ft, FLOW_MAIL_CHARGE, f);
    attach_mail(ft, f, first, &r);
    ft->st.classified_mail++;
    for (size_t i = 0; i <= u->n_held; i++) {
        const struct pkt *p = i < u->n_held ? &u->held[i].p : extra;
        if (p == NULL) {
            break;
        }
        if (f->state != FLOW_ACTIVE) {
            ft->st.late_packets++;
            continue;
        }
        mail_packet(ft, f, p);
    }
    release_undecided(ft, u);
}

/* Charges bytes for flow f, evicting older flows to make room. Returns false when even
 * that leaves no room (then nothing was charged). */
static bool charge(struct flow_table *ft, const struct flow *f, size_t bytes)
{
    make_room(ft, bytes, f);
    if (ft->mem_flows + ft->rc.mem_used + bytes > ft->cfg.memcap_bytes) {
        return false;
    }
    ft->mem_flows += bytes;
    update_mem(ft);
    return true;
}

/* Keeps a copy of p for a replay. Returns false when the flow holds all it may. */
static bool hold(struct flow_table *ft, struct flow *f, const struct pkt *p)
{
    struct undecided *u = f->u;
    if (u->n_held == CLASSIFY_MAX_PACKETS || u->held_bytes + p->l3_len > CLASSIFY_MAX_BYTES ||
        !charge(ft, f, p->l3_len)) {
        return false;
    }
    struct held_pkt *h = &u->held[u->n_held++];
    h->p = *p;
    h->copy_len = p->l3_len;
    h->copy = xmalloc(p->l3_len);
    memcpy(h->copy, p->l3, p->l3_len);
    h->p.l3 = h->copy;
    /* The payload lies inside the l3 bytes (decode cut both to the same end). */
    size_t payload_off = (size_t)(p->payload - p->l3);
    h->p.payload = payload_off <= h->copy_len ? h->copy + payload_off : h->copy + h->copy_len;
    u->held_bytes += p->l3_len;
    return true;
}

static void undecided_packet(struct flow_table *ft, struct flow *f, const struct pkt *p)
{
    struct undecided *u = f->u;
    struct classify_result cr;
    memset(&cr, 0, sizeof cr);
    if (!hold(ft, f, p)) {
        ft->st.classify_gave_up++;
        decide(ft, f, classify_giveup(ft->cls, u->cf, &cr), &cr, p);
        return;
    }
    if (p->payload_len == 0 && u->cf == NULL) {
        return; /* nDPI starts with the first payload; the handshake is replayed to it then */
    }
    enum classify_verdict v = CLASSIFY_MORE;
    if (u->cf == NULL) {
        if (!charge(ft, f, classify_flow_size())) {
            ft->st.classify_gave_up++;
            decide(ft, f, CLASSIFY_NOT_MAIL, &cr, NULL);
            return;
        }
        u->cf = classify_flow_new(ft->cls);
        for (size_t i = 0; i < u->n_held && v == CLASSIFY_MORE; i++) {
            v = classify_packet(ft->cls, u->cf, &u->held[i].p, &cr);
        }
    } else {
        v = classify_packet(ft->cls, u->cf, p, &cr);
    }
    if (p->payload_len > 0) {
        u->data_packets++;
    }
    bool is_end = (p->tcp_flags & (DECODE_TCP_FIN | DECODE_TCP_RST)) != 0;
    if (v == CLASSIFY_MORE && (u->data_packets >= CLASSIFY_MAX_DATA_PACKETS || is_end)) {
        ft->st.classify_gave_up++;
        v = classify_giveup(ft->cls, u->cf, &cr);
    }
    if (v != CLASSIFY_MORE) {
        decide(ft, f, v, &cr, NULL);
    }
}

void flow_packet(struct flow_table *ft, const struct pkt *p)
{
    if (p->ts_usec > ft->now_usec) {
        ft->now_usec = p->ts_usec;
    }
    if (ft->now_usec >= ft->next_expire_usec) {
        expire(ft, ft->now_usec);
        ft->next_expire_usec = ft->now_usec + FLOW_EXPIRE_INTERVAL_USEC;
    }

    struct flow_key k;
    make_key(p, &k);
    size_t h = key_hash(ft, &k);
    struct flow *f = lookup(ft, &k, h);
    bool is_syn_only = (p->tcp_flags & (DECODE_TCP_SYN | DECODE_TCP_ACK)) == DECODE_TCP_SYN;

    if (f != NULL && f->state == FLOW_CLOSED) {
        if (!is_syn_only) {
            ft->st.late_packets++;
            return;
        }
        destroy_flow(ft, f, FINDING_END_IDLE); /* the port pair is reused by a new connection */
        f = NULL;
    } else if (f != NULL && f->state == FLOW_ACTIVE && is_syn_only && f->m->has_client_syn &&
               p->seq != f->m->client_isn) {
        ft->st.flows_ended_fin++;
        destroy_flow(ft, f, FINDING_END_FIN); /* a new connection on the same port pair */
        f = NULL;
    }
    if (f == NULL) {
        struct classify_result cr;
        if ((p->tcp_flags & DECODE_TCP_RST) != 0 && p->payload_len == 0) {
            ft->st.late_packets++; /* a stray reset starts nothing */
            return;
        }
        if (classify_port(p->sport, p->dport, &cr)) {
            make_room(ft, sizeof(struct flow) + FLOW_MAIL_CHARGE, NULL);
            f = new_entry(ft, &k, FLOW_ACTIVE);
            attach_mail(ft, f, p, &cr);
        } else if (ft->cls != NULL && classify_is_active(ft->cls)) {
            make_room(ft, sizeof(struct flow) + sizeof(struct undecided) + p->l3_len, NULL);
            f = new_entry(ft, &k, FLOW_UNDECIDED);
            f->u = xcalloc(1, sizeof *f->u);
            ft->mem_flows += sizeof(struct undecided);
        } else {
            ft->st.not_mail++;
            return;
        }
    }

    f->last_usec = ft->now_usec;
    list_remove(&ft->active, f);
    list_append(&ft->active, f);
    switch (f->state) {
    case FLOW_ACTIVE:
        mail_packet(ft, f, p);
        break;
    case FLOW_UNDECIDED:
        undecided_packet(ft, f, p);
        break;
    case FLOW_NOT_MAIL:
    case FLOW_CLOSED:
        ft->st.not_mail++;
        break;
    }
}

void flow_flush_all(struct flow_table *ft)
{
    while (ft->active.head != NULL) {
        struct flow *f = ft->active.head;
        if (f->state == FLOW_UNDECIDED) {
            struct classify_result cr;
            memset(&cr, 0, sizeof cr);
            decide(ft, f, classify_giveup(ft->cls, f->u->cf, &cr), &cr, NULL);
        }
        if (f->state == FLOW_ACTIVE) {
            close_flow(ft, f, FINDING_END_CAPTURE);
        } else {
            destroy_flow(ft, f, FINDING_END_CAPTURE);
        }
    }
}

void flow_table_free(struct flow_table *ft)
{
    if (ft == NULL) {
        return;
    }
    flow_flush_all(ft);
    while (ft->closed.head != NULL) {
        destroy_flow(ft, ft->closed.head, FINDING_END_CAPTURE);
    }
    free(ft->buckets);
    free(ft);
}

const struct flow_stats *flow_get_stats(const struct flow_table *ft)
{
    return &ft->st;
}

const struct reasm_stats *flow_get_reasm_stats(const struct flow_table *ft)
{
    return &ft->rc.st;
}

const struct parse_stats *flow_get_parse_stats(const struct flow_table *ft)
{
    return &ft->ps;
}
