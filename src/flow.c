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

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "classify.h"
#include "decode.h"
#include "finding.h"
#include "socks.h"
#include "tunables.h"

/* What an allocation of n bytes costs the heap: glibc adds an 8-byte header and rounds to
 * 16. Every charge goes through it, so the cap holds for the process, not just for our
 * structs. */
#define FLOW_HEAP(n) ((((size_t)(n)) + 8 + 15) & ~(size_t)15)
/* Bytes charged for a mail flow's parser state, as its parser declares it. */
#define FLOW_PARSER_CHARGE(ops) FLOW_HEAP((ops)->state_size)
/* Bytes charged for a mail flow beyond its entry, before its parser exists. The parser is
 * made at the first byte of payload, so a flood of half-open connections to a mail port
 * costs a few hundred bytes each, not the parser's line buffers. */
#define FLOW_MAIL_CHARGE (FLOW_HEAP(sizeof(struct mail)) + FLOW_HEAP(sizeof(struct session)))
/* Bytes charged for a flow entry. */
#define FLOW_ENTRY_CHARGE FLOW_HEAP(sizeof(struct flow))
/* Bytes charged for an undecided flow's state (its held bytes are charged as they grow). */
#define FLOW_UNDECIDED_CHARGE FLOW_HEAP(sizeof(struct undecided))

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

/* A packet of an undecided flow, replayed to the parser if the flow turns out to be mail, is
 * kept in the flow's one buffer as this header followed by its l3_len IP bytes, and decoded
 * again from them when it is needed: a handshake packet costs its header and its 40 to 80
 * bytes, not a whole struct pkt. The header is copied in and out with memcpy (no alignment). */
struct held_hdr {
    uint64_t ts_usec;
    uint32_t l3_len;
    uint16_t vlan;
};
#define FLOW_HELD_HDR sizeof(struct held_hdr)
/* The held buffer's first size, doubled as it fills: a SYN and its SYN-ACK fit. */
#define FLOW_HELD_FIRST_CAP 128u
/* The held buffer's largest size: CLASSIFY_MAX_BYTES of packets plus their headers. */
#define FLOW_HELD_MAX_CAP (CLASSIFY_MAX_BYTES + CLASSIFY_MAX_PACKETS * FLOW_HELD_HDR)

struct undecided {
    struct classify_flow *cf; /* nDPI's state, allocated when the content rules cannot tell */
    size_t n_held;            /* packets held in bytes */
    uint8_t *bytes;           /* the held packets, each a struct held_hdr and its IP bytes */
    size_t held_bytes;        /* used of bytes */
    size_t bytes_cap;         /* allocated (and charged) of bytes */
    uint32_t data_packets;
    bool has_sides;            /* the start was seen (SYN or SYN-ACK): the client is known */
    bool is_client_a;          /* the client is the key's "a" end */
    bool has_server;           /* the server spoke first with a greeting: it is known */
    bool is_server_a;          /* the server is the key's "a" end */
    bool is_smtp_wait;         /* "220" seen: the client's EHLO/HELO will tell SMTP from FTP */
    bool is_ndpi;              /* the content rules could not tell: nDPI decides */
    bool has_isn_a, has_isn_b; /* the SYN of that end was seen: its stream start is known */
    uint32_t isn_a, isn_b;
};

/* Bytes of each direction's stream start the content rules look at. */
#define FLOW_PREFIX_LEN 16

struct mail {
    struct session *s;
    const struct parser_ops *ops;
    void *parser;         /* NULL until the first byte of payload or gap */
    unsigned parse_flags; /* PARSE_F_* for new_parser */
    bool is_parser_dead;
    bool has_client_syn;
    uint32_t client_isn;
    uint8_t fin_mask; /* bit 0: client sent FIN, bit 1: server sent FIN */
    struct reasm dir[2];
};

/* Which list a flow is on. Eviction takes closed flows first, then flows that have carried
 * no mail bytes yet (undecided, not mail, half-open), and sessions being parsed last, so a
 * flood of connection attempts cannot push real sessions out. */
enum flow_list_id {
    FLOW_LIST_CHEAP = 0,
    FLOW_LIST_MAIL,
    FLOW_LIST_CLOSED,
};

struct flow {
    struct flow *hnext;
    struct flow *prev, *next; /* on the active or the closed list */
    struct flow_key key;
    uint64_t hash; /* key_hash of key; its bucket is hash & (n_buckets - 1) */
    uint64_t last_usec;
    enum flow_state state;
    enum flow_list_id list; /* the list it is on */
    struct mail *m;         /* FLOW_ACTIVE only */
    struct undecided *u;    /* FLOW_UNDECIDED only */
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
    struct flow_list cheap, mail, closed; /* see enum flow_list_id */
    uint64_t n_flows;
    uint64_t now_usec;
    uint64_t next_expire_usec;
    size_t mem_flows; /* bytes of entries, sessions, parser states */
    struct flow_stats st;
    struct reasm_ctx rc;
    struct parse_stats ps;
    struct classify *cls; /* borrowed; NULL: ports only */
    bool is_ndpi;         /* cls looks at other ports */
    bool is_evicting;     /* make_room is at work */
    size_t budget;        /* the memory cap less the heap's own headroom */
};

struct dir_ctx {
    struct flow_table *ft;
    struct flow *f;
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

static struct flow_list *list_of(struct flow_table *ft, enum flow_list_id id)
{
    switch (id) {
    case FLOW_LIST_MAIL:
        return &ft->mail;
    case FLOW_LIST_CLOSED:
        return &ft->closed;
    case FLOW_LIST_CHEAP:
        break;
    }
    return &ft->cheap;
}

/* Puts f at the young end of list id (its own list, to refresh its place). */
static void move_to(struct flow_table *ft, struct flow *f, enum flow_list_id id)
{
    list_remove(list_of(ft, f->list), f);
    f->list = id;
    list_append(list_of(ft, id), f);
}

static void update_mem(struct flow_table *ft)
{
    /* Reassembly queues get what the entries, sessions and parsers leave of the budget, and
     * never less than a sixteenth of it: when a flood of connection attempts fills the table,
     * a real session's reordered segment must still be held rather than become a gap. The
     * next flow made evicts cheap flows until the two fit the budget again, and the budget
     * itself keeps a sixteenth of the cap back, so the cap holds. */
    size_t left = ft->budget > ft->mem_flows ? ft->budget - ft->mem_flows : 0;
    size_t floor = ft->budget / 16;
    ft->rc.mem_cap = left > floor ? left : floor;
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
    /* A sixteenth of the cap is left to what the charges cannot see: free lists and
     * fragmentation of the heap, SQLite's page cache. */
    ft->budget = ft->cfg.memcap_bytes - ft->cfg.memcap_bytes / 16;
    ft->cls = cfg->cls;
    ft->is_ndpi = cfg->cls != NULL && classify_is_active(cfg->cls);
    /* Small to start (a few cache lines' worth of lookups); doubled as flows come. */
    ft->n_buckets = FLOW_MIN_BUCKETS;
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

/* The key's words, each multiplied into the seeded state, then one full mix. The words are
 * loaded in host order: a hash needs no byte order, only the same one each time. */
static uint64_t key_hash(const struct flow_table *ft, const struct flow_key *k)
{
    uint64_t w[5];
    memcpy(&w[0], k->a, 8);
    memcpy(&w[1], k->a + 8, 8);
    memcpy(&w[2], k->b, 8);
    memcpy(&w[3], k->b + 8, 8);
    w[4] = (uint64_t)k->pa << 24 | (uint64_t)k->pb << 8 | k->ip_version;
    uint64_t h = ft->seed;
    for (size_t i = 0; i < 5; i++) {
        h = (h ^ w[i]) * 0x9e3779b97f4a7c15u;
        h ^= h >> 29;
    }
    return mix(h);
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

/* True when p was sent by the key's "a" end. */
static bool is_from_a(const struct flow_key *k, const struct pkt *p)
{
    return p->sport == k->pa && memcmp(p->src, k->a, 16) == 0;
}

static bool key_eq(const struct flow_key *x, const struct flow_key *y)
{
    return x->pa == y->pa && x->pb == y->pb && x->ip_version == y->ip_version &&
           memcmp(x->a, y->a, 16) == 0 && memcmp(x->b, y->b, 16) == 0;
}

static struct flow *lookup(struct flow_table *ft, const struct flow_key *k, uint64_t h)
{
    for (struct flow *f = ft->buckets[h & (ft->n_buckets - 1)]; f != NULL; f = f->hnext) {
        if (key_eq(&f->key, k)) {
            return f;
        }
    }
    return NULL;
}

static void make_room(struct flow_table *ft, size_t charge, const struct flow *keep);

/* Makes the parser when the first byte (or gap) arrives, evicting older flows to pay for it. */
static void *parser_of(struct dir_ctx *d)
{
    struct mail *m = d->m;
    if (m->parser == NULL) {
        make_room(d->ft, FLOW_PARSER_CHARGE(m->ops), d->f);
        unsigned flags = m->parse_flags | (m->has_client_syn ? 0u : PARSE_F_MIDSTREAM);
        m->parser = m->ops->new_parser(m->s, &d->ft->ps, flags);
        d->ft->mem_flows += FLOW_PARSER_CHARGE(m->ops);
        update_mem(d->ft);
        if (d->f->list == FLOW_LIST_CHEAP) {
            move_to(d->ft, d->f, FLOW_LIST_MAIL); /* it carries mail now */
        }
    }
    return m->parser;
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
    if (m->ops->feed(parser_of(d), d->dir, data, len, &consumed) == PARSE_ERROR) {
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
        m->ops->gap(parser_of(d), d->dir, len);
    }
}

static void flush_dir(struct flow_table *ft, struct flow *f, struct mail *m, enum parse_dir dir)
{
    struct dir_ctx d = { ft, f, m, dir };
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
    flush_dir(ft, f, m, PARSE_DIR_CLIENT);
    flush_dir(ft, f, m, PARSE_DIR_SERVER);
    if (m->parser != NULL) {
        m->ops->end(m->parser);
    }
    m->s->end_reason = why;
    if (!m->has_client_syn) {
        /* Begun before the capture, the parser may have come in on message text (an APPEND
         * literal, a DATA body whose end it did not see) and read a login-like line in it as
         * a command. A real login gets an answer (a challenge or a verdict); one the server
         * never took part in is not reported. */
        for (size_t i = m->s->n_creds; i > 0; i--) {
            struct credential *c = m->s->creds[i - 1];
            if (c->result == FINDING_RESULT_UNKNOWN && !c->is_answered) {
                finding_drop_credential(m->s, c);
                ft->ps.midstream_unanswered++;
            }
        }
    }

    /* A flow the parser gave up on as not its protocol is no mail session, nor is a SOCKS5
     * connection that never reached a mail server, unless either already showed a credential. */
    bool is_mail =
        (!m->is_parser_dead && m->s->protocol != FINDING_PROTO_UNKNOWN) || m->s->n_creds > 0;
    if (m->s->bytes_client + m->s->bytes_server > 0 && is_mail) {
        ft->st.sessions_emitted++;
        ft->emit(ft->emit_ctx, m->s);
    } else {
        ft->st.sessions_empty++;
    }
    if (m->parser != NULL) {
        m->ops->free_parser(m->parser);
        ft->mem_flows -= FLOW_PARSER_CHARGE(m->ops);
    }
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
    size_t charge = FLOW_UNDECIDED_CHARGE + (u->bytes_cap > 0 ? FLOW_HEAP(u->bytes_cap) : 0) +
                    (u->cf != NULL ? FLOW_HEAP(classify_flow_size()) : 0);
    free(u->bytes);
    classify_flow_free(u->cf);
    free(u);
    ft->mem_flows -= charge;
    update_mem(ft);
}

/* The held packet at *off into *p, decoded again from its IP bytes (they decoded once, so they
 * do again, to the same view); *off moves to the next. Returns false past the last. *p
 * borrows u's buffer: valid until it grows or is freed. */
static bool held_next(const struct undecided *u, size_t *off, struct pkt *p)
{
    if (*off + FLOW_HELD_HDR > u->held_bytes) {
        return false;
    }
    struct held_hdr h;
    memcpy(&h, u->bytes + *off, sizeof h);
    const uint8_t *l3 = u->bytes + *off + FLOW_HELD_HDR;
    struct decode_stats scratch;
    memset(&scratch, 0, sizeof scratch);
    enum decode_status ds =
        decode_packet(DECODE_LINK_RAW, l3, h.l3_len, h.l3_len, h.ts_usec, p, &scratch);
    assert(ds == DECODE_OK);
    if (ds != DECODE_OK) {
        *off = u->held_bytes;
        return false;
    }
    p->vlan = h.vlan;
    *off += FLOW_HELD_HDR + h.l3_len;
    return true;
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
        move_to(ft, f, FLOW_LIST_CLOSED);
        f->state = FLOW_CLOSED;
        ft->st.flows_active--;
    }
}

/* Removes f from the table entirely (ending its session first if still active). */
static void destroy_flow(struct flow_table *ft, struct flow *f, enum finding_end why)
{
    end_session(ft, f, why);
    free_undecided(ft, f);
    struct flow **pp = &ft->buckets[f->hash & (ft->n_buckets - 1)];
    while (*pp != NULL && *pp != f) {
        pp = &(*pp)->hnext;
    }
    if (*pp == f) {
        *pp = f->hnext;
    }
    if (f->state != FLOW_CLOSED) {
        ft->st.flows_active--;
    }
    list_remove(list_of(ft, f->list), f);
    free(f);
    ft->n_flows--;
    ft->mem_flows -= FLOW_ENTRY_CHARGE;
    update_mem(ft);
}

/* Evicts the oldest flow other than keep: closed ones first, then the cheap list, then the
 * mail list. Returns false when there is nothing else to evict. */
static bool evict_one(struct flow_table *ft, const struct flow *keep)
{
    static const enum flow_list_id order[] = { FLOW_LIST_CLOSED, FLOW_LIST_CHEAP, FLOW_LIST_MAIL };
    for (size_t i = 0; i < 3; i++) {
        struct flow *f = list_of(ft, order[i])->head;
        if (f == keep && f != NULL) {
            f = f->next;
        }
        if (f == NULL) {
            continue;
        }
        if (f->state != FLOW_CLOSED) {
            ft->st.flows_evicted++;
        }
        destroy_flow(ft, f, FINDING_END_EVICTED);
        return true;
    }
    return false;
}

/* Makes room for charge more bytes and one more entry: evicts the oldest flows, never keep
 * (the flow that asks; NULL for a flow about to be created). */
static void make_room(struct flow_table *ft, size_t charge, const struct flow *keep)
{
    /* An evicted flow's flush may make its parser, which asks for room again: that must not
     * evict in turn (recursion without bound); the parser is freed a moment later anyway. */
    if (ft->is_evicting) {
        return;
    }
    ft->is_evicting = true;
    size_t floor = keep != NULL ? 1 : 0;
    while ((ft->n_flows >= ft->cfg.max_flows + floor ||
            ft->mem_flows + ft->rc.mem_used + charge > ft->budget) &&
           ft->n_flows > floor && evict_one(ft, keep)) {
    }
    ft->is_evicting = false;
}

/* Doubles the bucket array once the flows outnumber it (load factor 1), up to the limit. */
static void grow(struct flow_table *ft)
{
    size_t max = ft->cfg.max_flows < FLOW_MIN_BUCKETS ? FLOW_MIN_BUCKETS : ft->cfg.max_flows;
    if (ft->n_flows < ft->n_buckets || ft->n_buckets >= max) {
        return;
    }
    size_t n = ft->n_buckets * 2;
    struct flow **b = xcalloc(n, sizeof *b);
    for (size_t i = 0; i < ft->n_buckets; i++) {
        struct flow *f = ft->buckets[i];
        while (f != NULL) {
            struct flow *next = f->hnext;
            size_t j = f->hash & (n - 1);
            f->hnext = b[j];
            b[j] = f;
            f = next;
        }
    }
    free(ft->buckets);
    ft->mem_flows += (n - ft->n_buckets) * sizeof *b;
    ft->buckets = b;
    ft->n_buckets = n;
    update_mem(ft);
}

static struct flow *new_entry(struct flow_table *ft, const struct flow_key *k, uint64_t h,
                              enum flow_state state)
{
    grow(ft);
    struct flow *f = xcalloc(1, sizeof *f);
    f->key = *k;
    f->hash = h;
    f->state = state;
    size_t b = h & (ft->n_buckets - 1);
    f->hnext = ft->buckets[b];
    ft->buckets[b] = f;
    f->list = FLOW_LIST_CHEAP;
    list_append(&ft->cheap, f);
    ft->n_flows++;
    ft->mem_flows += FLOW_ENTRY_CHARGE;
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
    m->parse_flags = cr->is_implicit_tls ? PARSE_F_IMPLICIT_TLS : 0u;
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
    for (;;) {
        struct flow *f = ft->cheap.head;
        struct flow *g = ft->mail.head;
        if (f == NULL || (g != NULL && g->last_usec < f->last_usec)) {
            f = g;
        }
        if (f == NULL || f->last_usec + idle >= now) {
            break;
        }
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
    struct dir_ctx d = { ft, f, m, dir };
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
            struct dir_ctx dp = { ft, f, m,
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
    struct pkt first;
    size_t off = 0;
    if (v != CLASSIFY_MAIL || !held_next(f->u, &off, &first)) {
        free_undecided(ft, f);
        f->state = FLOW_NOT_MAIL;
        return;
    }
    /* The held packets stay ours while the replay may close (and so clean up) the flow. */
    struct undecided *u = f->u;
    f->u = NULL;
    struct classify_result r = *cr;
    if (u->has_server) {
        r.is_server_dst = is_from_a(&f->key, &first) != u->is_server_a;
    } else if (u->has_sides) {
        r.is_server_dst = is_from_a(&f->key, &first) == u->is_client_a;
    } else {
        r.is_server_dst = first.dport < first.sport; /* mid-stream: the lower port serves */
    }
    make_room(ft, FLOW_MAIL_CHARGE, f);
    attach_mail(ft, f, &first, &r);
    ft->st.classified_mail++;
    struct pkt p = first;
    bool has_p = true;
    while (has_p || extra != NULL) {
        const struct pkt *q = &p;
        if (!has_p) {
            q = extra;
            extra = NULL;
        }
        if (f->state != FLOW_ACTIVE) {
            ft->st.late_packets++;
        } else {
            mail_packet(ft, f, q);
        }
        has_p = has_p && held_next(u, &off, &p);
    }
    release_undecided(ft, u);
}

/* Charges bytes for flow f, evicting older flows to make room. Returns false when even
 * that leaves no room (then nothing was charged). */
static bool charge(struct flow_table *ft, const struct flow *f, size_t bytes)
{
    make_room(ft, bytes, f);
    if (ft->mem_flows + ft->rc.mem_used + bytes > ft->budget) {
        return false;
    }
    ft->mem_flows += bytes;
    update_mem(ft);
    return true;
}

/* A new undecided state, empty. */
static struct undecided *undecided_new(void)
{
    struct undecided *u = xmalloc(sizeof *u);
    u->cf = NULL;
    u->n_held = 0;
    u->bytes = NULL;
    u->held_bytes = 0;
    u->bytes_cap = 0;
    u->data_packets = 0;
    u->has_sides = false;
    u->is_client_a = false;
    u->has_server = false;
    u->is_server_a = false;
    u->is_smtp_wait = false;
    u->is_ndpi = false;
    u->has_isn_a = false;
    u->has_isn_b = false;
    u->isn_a = 0;
    u->isn_b = 0;
    return u;
}

/* Keeps a copy of p for a replay. Returns false when the flow holds all it may. */
static bool hold(struct flow_table *ft, struct flow *f, const struct pkt *p)
{
    struct undecided *u = f->u;
    size_t l3_held = u->held_bytes - u->n_held * FLOW_HELD_HDR;
    if (u->n_held == CLASSIFY_MAX_PACKETS || l3_held + p->l3_len > CLASSIFY_MAX_BYTES) {
        return false;
    }
    size_t need = u->held_bytes + FLOW_HELD_HDR + p->l3_len;
    if (need > u->bytes_cap) {
        /* Grow by doubling, never past the limit; the growth is what is charged. */
        size_t cap = u->bytes_cap > 0 ? 2 * u->bytes_cap : FLOW_HELD_FIRST_CAP;
        while (cap < need) {
            cap *= 2;
        }
        if (cap > FLOW_HELD_MAX_CAP) {
            cap = FLOW_HELD_MAX_CAP;
        }
        if (!charge(ft, f, FLOW_HEAP(cap) - (u->bytes_cap > 0 ? FLOW_HEAP(u->bytes_cap) : 0))) {
            return false;
        }
        u->bytes = xrealloc(u->bytes, cap);
        u->bytes_cap = cap;
    }
    struct held_hdr h = { p->ts_usec, (uint32_t)p->l3_len, p->vlan };
    memcpy(u->bytes + u->held_bytes, &h, sizeof h);
    memcpy(u->bytes + u->held_bytes + FLOW_HELD_HDR, p->l3, p->l3_len);
    u->held_bytes = need;
    u->n_held++;
    return true;
}

/* The first bytes of the stream the key's end from_a sent, put in order from the held packets
 * (a greeting split into segments that arrive out of order still reads as one). Writes up to
 * FLOW_PREFIX_LEN bytes into out and returns how many lie contiguous from the stream's start;
 * when that end's SYN was not seen, the payload of p stands in for the start. */
static size_t stream_prefix(const struct flow *f, const struct pkt *p, bool from_a,
                            uint8_t out[FLOW_PREFIX_LEN])
{
    const struct undecided *u = f->u;
    bool has_isn = from_a ? u->has_isn_a : u->has_isn_b;
    if (!has_isn) {
        size_t n = p->payload_len < FLOW_PREFIX_LEN ? p->payload_len : FLOW_PREFIX_LEN;
        memcpy(out, p->payload, n);
        return n;
    }
    uint32_t start = (from_a ? u->isn_a : u->isn_b) + 1;
    bool have[FLOW_PREFIX_LEN] = { false };
    struct pkt h;
    size_t at = 0;
    while (held_next(u, &at, &h)) {
        if (h.payload_len == 0 || is_from_a(&f->key, &h) != from_a) {
            continue;
        }
        /* Modulo 2^32: a segment from before the start lands far past the prefix. */
        uint32_t off = h.seq - start;
        if (off >= FLOW_PREFIX_LEN) {
            continue;
        }
        for (size_t k = 0; k < h.payload_len && off + k < FLOW_PREFIX_LEN; k++) {
            if (!have[off + k]) {
                out[off + k] = h.payload[k];
                have[off + k] = true;
            }
        }
    }
    size_t n = 0;
    while (n < FLOW_PREFIX_LEN && have[n]) {
        n++;
    }
    return n;
}

/* The content rules, for a flow whose start was seen: mail servers speak first, with a
 * greeting of a known form. Returns the verdict, or CLASSIFY_MORE to wait, and sets
 * u->is_ndpi when they cannot tell (the capture started mid-stream). */
static enum classify_verdict by_content(struct flow_table *ft, struct flow *f, const struct pkt *p,
                                        struct classify_result *cr)
{
    struct undecided *u = f->u;
    bool from_a = is_from_a(&f->key, p);
    if (!u->has_sides) {
        u->is_ndpi = true;
        return CLASSIFY_MORE;
    }
    uint8_t prefix[FLOW_PREFIX_LEN];
    size_t n = stream_prefix(f, p, from_a, prefix);
    if (u->is_smtp_wait) {
        if (from_a == u->is_server_a) {
            return CLASSIFY_MORE; /* more greeting lines */
        }
        if (n < 4) {
            return CLASSIFY_MORE;
        }
        if (classify_is_smtp_hello(prefix, n) && classify_for_protocol(FINDING_PROTO_SMTP, cr)) {
            ft->st.classified_content++;
            return CLASSIFY_MAIL;
        }
        return CLASSIFY_NOT_MAIL;
    }
    if (from_a == u->is_client_a) {
        /* The client spoke first: cleartext SMTP, POP3 and IMAP never do, but a SOCKS5
         * client does, and its tunnel may lead to a mail server. */
        if (socks_is_greeting(prefix, n)) {
            ft->st.classify_socks++;
            classify_for_socks(cr);
            return CLASSIFY_MAIL;
        }
        ft->st.classify_client_first++;
        return CLASSIFY_NOT_MAIL;
    }
    enum finding_proto proto = FINDING_PROTO_UNKNOWN;
    switch (classify_greeting(prefix, n)) {
    case CLASSIFY_GREETING_SHORT:
        return CLASSIFY_MORE;
    case CLASSIFY_GREETING_POP3:
        proto = FINDING_PROTO_POP3;
        break;
    case CLASSIFY_GREETING_IMAP:
        proto = FINDING_PROTO_IMAP;
        break;
    case CLASSIFY_GREETING_SMTP:
        u->has_server = true;
        u->is_server_a = from_a;
        u->is_smtp_wait = true;
        return CLASSIFY_MORE;
    case CLASSIFY_GREETING_NONE:
        return CLASSIFY_NOT_MAIL;
    }
    u->has_server = true;
    u->is_server_a = from_a;
    if (!classify_for_protocol(proto, cr)) {
        return CLASSIFY_NOT_MAIL;
    }
    ft->st.classified_content++;
    return CLASSIFY_MAIL;
}

/* nDPI for a flow the content rules cannot judge. */
static enum classify_verdict by_ndpi(struct flow_table *ft, struct flow *f, const struct pkt *p,
                                     struct classify_result *cr)
{
    struct undecided *u = f->u;
    enum classify_verdict v = CLASSIFY_MORE;
    if (u->cf == NULL) {
        if (!charge(ft, f, FLOW_HEAP(classify_flow_size()))) {
            return CLASSIFY_NOT_MAIL;
        }
        u->cf = classify_flow_new(ft->cls);
        struct pkt h;
        size_t at = 0;
        while (v == CLASSIFY_MORE && held_next(u, &at, &h)) {
            v = classify_packet(ft->cls, u->cf, &h, cr);
        }
        return v;
    }
    return classify_packet(ft->cls, u->cf, p, cr);
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
    uint8_t syn_ack = p->tcp_flags & (DECODE_TCP_SYN | DECODE_TCP_ACK);
    if ((p->tcp_flags & DECODE_TCP_SYN) != 0) {
        if (!u->has_sides && u->data_packets == 0) {
            u->has_sides = true;
            u->is_client_a = is_from_a(&f->key, p) == (syn_ack == DECODE_TCP_SYN);
        }
        if (is_from_a(&f->key, p)) {
            u->has_isn_a = true;
            u->isn_a = p->seq;
        } else {
            u->has_isn_b = true;
            u->isn_b = p->seq;
        }
    }
    if (p->payload_len == 0) {
        return; /* the handshake is held, and replayed to nDPI or the parser later */
    }
    u->data_packets++;
    if (!u->has_sides && u->cf == NULL && classify_is_tls_record(p->payload, p->payload_len)) {
        /* Seen mid-stream inside TLS: nothing in the clear to read, and nDPI's TLS dissector
         * (fingerprints of each hello) is its costliest. */
        ft->st.classify_tls++;
        decide(ft, f, CLASSIFY_NOT_MAIL, &cr, NULL);
        return;
    }
    enum classify_verdict v = u->is_ndpi ? CLASSIFY_MORE : by_content(ft, f, p, &cr);
    if (u->is_ndpi) {
        v = by_ndpi(ft, f, p, &cr);
    }
    bool is_end = (p->tcp_flags & (DECODE_TCP_FIN | DECODE_TCP_RST)) != 0;
    if (v == CLASSIFY_MORE &&
        ((u->is_ndpi && u->data_packets >= CLASSIFY_MAX_DATA_PACKETS) || is_end)) {
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

    /* Ports only: a packet off the mail ports can belong to no entry; skip the lookup. */
    if (!ft->is_ndpi && !classify_is_mail_port(p->sport) && !classify_is_mail_port(p->dport)) {
        ft->st.not_mail++;
        return;
    }
    struct flow_key k;
    make_key(p, &k);
    uint64_t h = key_hash(ft, &k);
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
            make_room(ft, FLOW_ENTRY_CHARGE + FLOW_MAIL_CHARGE, NULL);
            f = new_entry(ft, &k, h, FLOW_ACTIVE);
            attach_mail(ft, f, p, &cr);
        } else if (ft->is_ndpi) {
            make_room(ft, FLOW_ENTRY_CHARGE + FLOW_UNDECIDED_CHARGE + FLOW_HEAP(p->l3_len), NULL);
            f = new_entry(ft, &k, h, FLOW_UNDECIDED);
            f->u = undecided_new();
            ft->mem_flows += FLOW_UNDECIDED_CHARGE;
        } else {
            ft->st.not_mail++;
            return;
        }
    }

    /* Keep the list in last-seen order. A flow known not to be mail is moved at most once a
     * second: its packets are most of a link's, and the move touches two neighbours. */
    if (f->state != FLOW_NOT_MAIL || ft->now_usec - f->last_usec >= FLOW_EXPIRE_INTERVAL_USEC) {
        f->last_usec = ft->now_usec;
        move_to(ft, f, f->list);
    }
    switch (f->state) {
    case FLOW_ACTIVE:
        mail_packet(ft, f, p);
        break;
    case FLOW_UNDECIDED:
        undecided_packet(ft, f, p);
        break;
    case FLOW_NOT_MAIL:
        ft->st.not_mail++;
        /* Its end frees the entry sooner than the idle timeout would (after the linger). */
        if ((p->tcp_flags & (DECODE_TCP_FIN | DECODE_TCP_RST)) != 0) {
            close_flow(ft, f, FINDING_END_FIN);
        }
        break;
    case FLOW_CLOSED:
        ft->st.not_mail++;
        break;
    }
}

void flow_flush_all(struct flow_table *ft)
{
    while (ft->cheap.head != NULL || ft->mail.head != NULL) {
        struct flow *f = ft->cheap.head != NULL ? ft->cheap.head : ft->mail.head;
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
