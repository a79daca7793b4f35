/* flow.c - the bidirectional flow table: TCP segments to mail sessions.
 *
 * Flows are found by a seeded hash of the 5-tuple with both ends in a canonical order, so
 * both directions land on one entry and crafted tuples cannot pile into one chain. A flow on
 * a registry port is a mail flow from its first packet (classify_port). Any other flow is
 * undecided: classify holds its first packets and judges it (content, wrappers, nDPI); on a
 * verdict of mail the held packets are replayed here, otherwise the entry becomes a cheap
 * tombstone whose packets are counted and dropped. In --ports-only mode a packet on no
 * registry port is dropped before the lookup.
 *
 * A mail flow carries its session record, the parser, and one struct reasm per direction.
 * Ordered bytes flow reasm -> parser; gaps are passed on so the parser resynchronises.
 * When a flow ends (RST, FIN from both sides, idle, eviction, end of capture) both directions
 * are flushed, the parser settles its verdicts and the session is emitted, then the entry
 * lingers briefly as a tombstone so retransmissions and the last ACK do not start a phantom
 * session. Active and closed flows sit on two lists ordered by last packet time, so expiry
 * and eviction take the oldest in constant time.
 *
 * Memory: every entry, its session, parser, undecided state, reassembly queue and TLS sniffer
 * are counted against the cap, and so is what run's defrag holds (flow_mem_charge, which
 * evicts closed and cheap flows but never a mail session for it);
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
#include "ps.h"
#include "registry.h"
#include "tunables.h"

_Static_assert((FLOW_MIN_BUCKETS & (FLOW_MIN_BUCKETS - 1)) == 0,
               "the bucket array is indexed by masking the hash");
_Static_assert(FLOW_MIN_MEMCAP_BYTES / 16 >= 65535,
               "the reassembly floor of the smallest cap holds a full-size segment");

/* Bytes charged for a mail flow's parser state, as its parser declares it. */
#define FLOW_PARSER_CHARGE(ops) PS_HEAP_COST((ops)->state_size)
/* Bytes charged for a mail flow beyond its entry, before its parser exists. The parser is
 * made at the first byte of payload, so a flood of half-open connections to a mail port
 * costs a few hundred bytes each, not the parser's line buffers. */
#define FLOW_MAIL_CHARGE (PS_HEAP_COST(sizeof(struct mail)) + PS_HEAP_COST(sizeof(struct session)))
/* Bytes charged for a flow entry. */
#define FLOW_ENTRY_CHARGE PS_HEAP_COST(sizeof(struct flow))

struct flow_key {
    uint8_t a[16], b[16]; /* a:pa sorts before b:pb */
    uint16_t pa, pb;
    uint8_t ip_version;
    uint32_t zone; /* the outer layers --flow-key names, hashed; 0 by default */
};

/* A segment as duplicate detection compares it (flow.duplicates): 16 bytes, two per session. */
struct seg_sig {
    uint32_t seq, ack;
    uint32_t ts_low; /* capture time, microseconds, modulo 2^32 (wraps every 71 minutes) */
    uint16_t len;    /* seg_len; a longer segment (a reassembled IPv6 jumbogram) is not compared */
    uint8_t flags;
    bool is_set;
};

enum flow_state {
    FLOW_ACTIVE = 0, /* a mail session being parsed */
    FLOW_UNDECIDED,  /* not on a mail port: classify is looking at its first packets */
    FLOW_NOT_MAIL,   /* decided not mail: its packets are counted and dropped */
    FLOW_CLOSED,     /* session emitted; absorbing late packets until the linger time passes */
};

struct mail {
    struct session *s;
    const struct parser_ops *ops;
    void *parser;         /* NULL until the first byte of payload or gap */
    unsigned parse_flags; /* PARSE_F_* for new_parser */
    bool is_parser_dead;
    bool has_client_syn;
    uint32_t client_isn;
    uint8_t fin_mask;       /* bit 0: client sent FIN, bit 1: server sent FIN */
    struct seg_sig last[2]; /* per direction: the last segment with data or SYN/FIN/RST */
    struct reasm dir[2];
    size_t ctx_charged; /* the session's context fields as last charged (s->ctx_mem) */
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
    enum flow_list_id list;  /* the list it is on */
    struct mail *m;          /* FLOW_ACTIVE only */
    struct classify_flow *u; /* FLOW_UNDECIDED only */
};

/* An evicted mail flow, remembered by its key's hash so that its later segments do not start a
 * session mid-stream. */
struct tomb {
    uint64_t hash;
    uint64_t until_usec; /* forgotten after this (its last segment plus the idle time) */
};

struct flow_list {
    struct flow *head, *tail; /* head: least recently seen */
};

struct flow_table {
    struct flow_config cfg;
    flow_emit_fn *emit;
    flow_cred_fn *on_cred; /* NULL: no credential events */
    void *emit_ctx;
    struct flow **buckets;
    size_t n_buckets; /* a power of two */
    uint64_t seed;
    struct flow_list cheap, mail, closed; /* see enum flow_list_id */
    uint64_t n_flows;
    uint64_t now_usec;
    uint64_t next_expire_usec;
    size_t mem_flows; /* bytes of entries, sessions, parser states */
    size_t mem_ext;   /* bytes charged from outside (flow_mem_charge: IP fragments) */
    struct flow_stats st;
    struct reasm_ctx rc;
    struct parse_stats ps;
    struct classify *cls;       /* borrowed, or owned_cls */
    struct classify *owned_cls; /* made for a table given none (ports only) */
    bool is_ndpi;               /* cls looks at other ports */
    bool is_evicting;           /* make_room is at work */
    size_t budget;              /* the memory cap less the heap's own headroom */
    struct tomb *tombs;         /* n_tombs of them, made at the first mail eviction; or NULL */
    size_t n_tombs;             /* a power of two */
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

/* Bytes charged now: entries, sessions, parsers, undecided flows, reassembly queues, TLS
 * sniffers, line buffers, and what others charged (IP fragments). */
static size_t used(const struct flow_table *ft)
{
    return ft->mem_flows + ft->rc.mem_used + ft->ps.tls_mem + ft->ps.line_mem + ft->ps.tunnel_mem +
           ft->mem_ext;
}

static void update_mem(struct flow_table *ft)
{
    /* Reassembly queues get what the entries, sessions and parsers leave of the budget, and
     * never less than a sixteenth of it: when a flood of connection attempts fills the table,
     * a real session's reordered segment must still be held rather than become a gap. The
     * next flow made evicts cheap flows until the two fit the budget again, and the budget
     * itself keeps a sixteenth of the cap back, so the cap holds. */
    size_t held =
        ft->mem_flows + ft->ps.tls_mem + ft->ps.line_mem + ft->ps.tunnel_mem + ft->mem_ext;
    size_t left = ft->budget > held ? ft->budget - held : 0;
    size_t floor = ft->budget / 16;
    ft->rc.mem_cap = left > floor ? left : floor;
    ft->st.mem_used = used(ft);
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
    if (ft->cls == NULL) {
        ft->owned_cls = classify_new(false);
        ft->cls = ft->owned_cls;
    }
    ft->is_ndpi = classify_is_active(ft->cls);
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
    w[4] = (uint64_t)k->zone << 40 | (uint64_t)k->pa << 24 | (uint64_t)k->pb << 8 | k->ip_version;
    uint64_t h = ft->seed;
    for (size_t i = 0; i < 5; i++) {
        h = (h ^ w[i]) * 0x9e3779b97f4a7c15u;
        h ^= h >> 29;
    }
    return mix(h);
}

/* The zone of p's flow key: its outer layers that key_layers names (FLOW_KEY_*), hashed; 0
 * when there are none. Two copies of one packet that differ in those layers are two flows. */
static uint32_t key_zone(unsigned key_layers, const struct pkt *p)
{
    const struct decode_trail *t = &p->trail;
    if (key_layers == 0 || t->n == 0) {
        return 0;
    }
    uint32_t h = PS_FNV1A_INIT;
    bool any = false;
    for (size_t i = 0; i < t->n; i++) {
        const struct decode_layer *l = &t->l[i];
        bool is_vlan = l->kind == DECODE_LAYER_VLAN;
        if ((key_layers & (is_vlan ? FLOW_KEY_VLAN : FLOW_KEY_TUNNEL)) == 0) {
            continue;
        }
        any = true;
        h = ps_fnv1a(h, &l->kind, 1);
        h = ps_fnv1a(h, &l->id, sizeof l->id);
        if (!is_vlan) {
            /* The two directions of a flow cross a tunnel in opposite directions: the outer
             * addresses count as an unordered pair. */
            bool is_src_low = memcmp(l->src, l->dst, sizeof l->src) <= 0;
            h = ps_fnv1a(h, &l->ip_version, 1);
            h = ps_fnv1a(h, is_src_low ? l->src : l->dst, sizeof l->src);
            h = ps_fnv1a(h, is_src_low ? l->dst : l->src, sizeof l->dst);
        }
    }
    if (!any) {
        return 0;
    }
    return h != 0 ? h : 1; /* 0 is "no zone" */
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
           x->zone == y->zone && memcmp(x->a, y->a, 16) == 0 && memcmp(x->b, y->b, 16) == 0;
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
/* The flags of m's parser: known when it is made, and at the session's end. */
static unsigned parse_flags(const struct mail *m)
{
    return m->parse_flags | (m->has_client_syn ? 0u : PARSE_F_MIDSTREAM);
}

static void *parser_of(struct dir_ctx *d)
{
    struct mail *m = d->m;
    if (m->parser == NULL) {
        make_room(d->ft, FLOW_PARSER_CHARGE(m->ops), d->f);
        struct parse_ctx ctx = { m->s, &d->ft->ps, parse_flags(m), registry_parser_for_port,
                                 registry_wrapper_opening };
        m->parser = parse_open(m->ops, &ctx);
        d->ft->mem_flows += FLOW_PARSER_CHARGE(m->ops);
        update_mem(d->ft);
    }
    return m->parser;
}

/* A flow whose parser reads a session worth a record carries mail now: it leaves the cheap
 * list, whose flows are evicted first. One of a protocol recorded only with a login (HTTP) stays
 * there until it shows one, so that web traffic never pushes a mail session out. */
static void promote(struct dir_ctx *d)
{
    struct mail *m = d->m;
    if (d->f->list == FLOW_LIST_CHEAP && m->parser != NULL &&
        parse_is_recorded(m->ops, m->parser, m->s)) {
        move_to(d->ft, d->f, FLOW_LIST_MAIL);
    }
}

/* The session's uid and Community ID, made when it is first written (a credential event or its
 * end) from what attach_mail set: most sessions on a web port are never written, and the two
 * hashes cost more than the rest of such a session. */
static void identify(const struct flow_table *ft, struct session *s)
{
    if (s->uid[0] == '\0') {
        finding_set_uid(s, ft->cfg.sensor);
        finding_set_community_id(s, ft->cfg.community_id_seed);
    }
}

/* Credential events for what the parser just learnt: a credential now ready, or its result
 * changed. */
static void publish(struct flow_table *ft, struct mail *m)
{
    struct session *s = m->s;
    for (size_t i = 0; i < s->n_creds; i++) {
        struct credential *c = s->creds[i];
        if (!finding_credential_is_ready(c) ||
            (c->is_published && c->published_result == c->result) ||
            parse_is_provisional(m->ops, m->parser, parse_flags(m), c)) {
            continue;
        }
        c->is_published = true;
        c->published_result = c->result;
        s->is_published = true;
        identify(ft, s);
        ft->on_cred(ft->emit_ctx, s, i);
    }
}

void flow_set_cred_events(struct flow_table *ft, flow_cred_fn *fn)
{
    ft->on_cred = fn;
}

/* Brings the charge for the context fields the parser set (finding_set_context) up to date. */
static void charge_context(struct flow_table *ft, struct mail *m)
{
    if (m->s->ctx_mem != m->ctx_charged) {
        ft->mem_flows = ft->mem_flows - m->ctx_charged + m->s->ctx_mem;
        m->ctx_charged = m->s->ctx_mem;
        update_mem(ft);
    }
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
    promote(d);
    charge_context(d->ft, m);
    if (d->ft->on_cred != NULL && m->s->n_creds > 0) {
        publish(d->ft, m);
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
        promote(d);
        if (d->ft->on_cred != NULL && m->s->n_creds > 0) {
            publish(d->ft, m);
        }
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
    parse_end(m->ops, m->parser, m->s, parse_flags(m), &ft->ps);
    m->s->end_reason = why;

    /* A flow the parser gave up on as not its protocol is no mail session, nor is a SOCKS5
     * connection that never reached a mail server, unless either already showed a credential;
     * nor a session of a protocol recorded only with a login (HTTP) that showed none. */
    bool is_mail = ((!m->is_parser_dead && m->s->protocol != NULL) || m->s->n_creds > 0) &&
                   parse_is_recorded(m->ops, m->parser, m->s);
    if (m->s->bytes_client + m->s->bytes_server > 0 && is_mail) {
        identify(ft, m->s);
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
    if (m->s->tunnel != NULL) {
        ft->mem_flows -= PS_HEAP_COST(strlen(m->s->tunnel) + 1);
    }
    ft->mem_flows -= m->ctx_charged;
    finding_free(m->s);
    free(m);
    f->m = NULL;
    ft->mem_flows -= FLOW_MAIL_CHARGE;
    update_mem(ft);
}

static void free_undecided(struct flow_table *ft, struct flow *f)
{
    if (f->u != NULL) {
        ft->mem_flows -= classify_flow_charged(f->u);
        classify_flow_free(f->u);
        f->u = NULL;
        update_mem(ft);
    }
}

static void close_flow(struct flow_table *ft, struct flow *f, enum finding_end why)
{
    end_session(ft, f, why);
    free_undecided(ft, f);
    if (f->state != FLOW_CLOSED) {
        move_to(ft, f, FLOW_LIST_CLOSED);
        f->state = FLOW_CLOSED;
        ft->st.active--;
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
        ft->st.active--;
    }
    list_remove(list_of(ft, f->list), f);
    free(f);
    ft->n_flows--;
    ft->mem_flows -= FLOW_ENTRY_CHARGE;
    update_mem(ft);
}

/* True when f's session has a credential still awaiting its answer: a login in progress. */
static bool is_mid_login(const struct flow *f)
{
    if (f->state != FLOW_ACTIVE || f->m == NULL) {
        return false;
    }
    const struct session *s = f->m->s;
    for (size_t i = 0; i < s->n_creds; i++) {
        if (s->creds[i]->result == FINDING_RESULT_UNKNOWN) {
            return true;
        }
    }
    return false;
}

/* Remembers the evicted mail flow with hash h until it has been quiet for the idle time. The
 * tombstones are made at the first such eviction: FLOW_TOMBSTONES of them, or fewer under a
 * small cap (at most a sixteenth of the budget), and only when they fit it now. */
static void bury(struct flow_table *ft, uint64_t h)
{
    if (ft->tombs == NULL) {
        size_t n = FLOW_TOMBSTONES;
        while (n > 1 && n * sizeof *ft->tombs > ft->budget / 16) {
            n /= 2;
        }
        size_t cost = PS_HEAP_COST(n * sizeof *ft->tombs);
        if (used(ft) + cost > ft->budget) {
            return;
        }
        ft->tombs = xcalloc(n, sizeof *ft->tombs);
        ft->n_tombs = n;
        ft->mem_flows += cost;
    }
    struct tomb *t = &ft->tombs[h & (ft->n_tombs - 1)];
    t->hash = h;
    t->until_usec = ft->now_usec + (uint64_t)ft->cfg.idle_sec * PS_USEC_PER_SEC;
}

/* True when hash h names an evicted mail flow still remembered: its segment is dropped, and the
 * tombstone kept as long as segments come. A SYN (a new connection on the tuple) forgets it. */
static bool is_buried(struct flow_table *ft, uint64_t h, bool is_syn_only)
{
    struct tomb *t = ft->tombs != NULL ? &ft->tombs[h & (ft->n_tombs - 1)] : NULL;
    if (t == NULL || t->hash != h || t->until_usec < ft->now_usec) {
        return false;
    }
    if (is_syn_only) {
        t->until_usec = 0;
        return false;
    }
    t->until_usec = ft->now_usec + (uint64_t)ft->cfg.idle_sec * PS_USEC_PER_SEC;
    return true;
}

/* The flow to evict from list l: its oldest other than keep; on the mail list, the oldest of
 * the first FLOW_EVICT_SCAN that is not in the middle of a login, when one is not. */
static struct flow *evict_pick(struct flow_table *ft, enum flow_list_id l, const struct flow *keep)
{
    struct flow *oldest = NULL;
    size_t n = 0;
    for (struct flow *f = list_of(ft, l)->head; f != NULL && n < FLOW_EVICT_SCAN; f = f->next) {
        if (f == keep) {
            continue;
        }
        if (oldest == NULL) {
            oldest = f;
        }
        if (l != FLOW_LIST_MAIL || !is_mid_login(f)) {
            return f;
        }
        n++;
    }
    return oldest;
}

/* Evicts the oldest flow other than keep from the first n_lists of: closed ones, then the cheap
 * list, then the mail list (sparing sessions mid-login: evict_pick). Returns false when there
 * is nothing else to evict. */
static bool evict_from(struct flow_table *ft, const struct flow *keep, size_t n_lists)
{
    static const enum flow_list_id order[] = { FLOW_LIST_CLOSED, FLOW_LIST_CHEAP, FLOW_LIST_MAIL };
    for (size_t i = 0; i < n_lists && i < 3; i++) {
        struct flow *f = evict_pick(ft, order[i], keep);
        if (f == NULL) {
            continue;
        }
        if (f->state != FLOW_CLOSED) {
            ft->st.evicted++;
        }
        /* A session that carried mail bytes leaves a tombstone; a half-open one has nothing to
         * come back to. */
        bool is_buried = f->state == FLOW_ACTIVE && f->list == FLOW_LIST_MAIL;
        uint64_t h = f->hash;
        destroy_flow(ft, f, FINDING_END_EVICTED);
        if (is_buried) {
            bury(ft, h);
        }
        return true;
    }
    return false;
}

static bool evict_one(struct flow_table *ft, const struct flow *keep)
{
    return evict_from(ft, keep, 3);
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
    while ((ft->n_flows >= ft->cfg.max_flows + floor || used(ft) + charge > ft->budget) &&
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
    ft->st.created++;
    ft->st.active++;
    if (ft->st.active > ft->st.active_max) {
        ft->st.active_max = ft->st.active;
    }
    update_mem(ft);
    return f;
}

/* Records how the session's first packet arrived (trail NULL: unknown, as for a flow decided
 * only at its idle timeout, whose packets classify held without their outer layers). */
static void set_tunnel(struct flow_table *ft, struct mail *m, const struct decode_trail *trail)
{
    if (trail == NULL || trail->n == 0) {
        return;
    }
    char text[FLOW_MAX_TUNNEL_TEXT];
    decode_trail_format(trail, text, sizeof text);
    ft->mem_flows += PS_HEAP_COST(finding_set_tunnel(m->s, text));
}

/* Gives f a mail session, with sides taken from p, the flow's first packet, and its outer
 * layers from trail (p's own, unless p is a packet classify held). */
static void attach_mail(struct flow_table *ft, struct flow *f, const struct pkt *p,
                        const struct decode_trail *trail, const struct classify_result *cr)
{
    struct mail *m = xcalloc(1, sizeof *m);
    struct session *s = finding_new();
    f->m = m;
    f->state = FLOW_ACTIVE;
    m->s = s;
    m->ops = cr->proto->ops;

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
    /* A wrapper's session is of the protocol it carries, once it finds it. */
    s->protocol = cr->proto->is_wrapper ? NULL : cr->proto->name;
    m->parse_flags = cr->is_implicit_tls ? PARSE_F_IMPLICIT_TLS : 0u;
    reasm_init(&m->dir[0]);
    reasm_init(&m->dir[1]);
    ft->mem_flows += FLOW_MAIL_CHARGE;
    set_tunnel(ft, m, trail);
    update_mem(ft);
}

static void decide(struct flow_table *ft, struct flow *f, enum classify_verdict v,
                   const struct classify_result *cr, const struct pkt *extra,
                   const struct decode_trail *trail);

static void expire(struct flow_table *ft, uint64_t now)
{
    uint64_t idle = (uint64_t)ft->cfg.idle_sec * PS_USEC_PER_SEC;
    uint64_t linger = (uint64_t)FLOW_CLOSED_LINGER_SEC * PS_USEC_PER_SEC;
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
            decide(ft, f, classify_flow_giveup(ft->cls, f->u, &cr), &cr, NULL, NULL);
        }
        if (f->state == FLOW_ACTIVE) {
            ft->st.ended_idle++;
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

/* True when p repeats the last segment with data or SYN/FIN/RST of its direction within
 * FLOW_DUP_WINDOW_USEC: a mirror's second copy. Otherwise remembers p as that segment. Pure
 * ACKs are not compared: a receiver's duplicate ACKs repeat one another by design. */
static bool is_duplicate(struct seg_sig *last, const struct pkt *p)
{
    uint8_t marks = DECODE_TCP_SYN | DECODE_TCP_FIN | DECODE_TCP_RST;
    if ((p->seg_len == 0 && (p->tcp_flags & marks) == 0) || p->seg_len > UINT16_MAX) {
        return false;
    }
    uint16_t len = (uint16_t)p->seg_len;
    uint32_t now = (uint32_t)p->ts_usec;
    /* Either order: two mirror sessions' copies may arrive swapped in time. */
    uint32_t ahead = now - last->ts_low, behind = last->ts_low - now;
    if (last->is_set && last->seq == p->seq && last->ack == p->ack && last->len == len &&
        last->flags == p->tcp_flags &&
        (ahead <= FLOW_DUP_WINDOW_USEC || behind <= FLOW_DUP_WINDOW_USEC)) {
        return true;
    }
    *last = (struct seg_sig){ p->seq, p->ack, now, len, p->tcp_flags, true };
    return false;
}

/* One packet of a mail flow: reassembly, parser, end of the flow on RST or both FINs. */
static void mail_packet(struct flow_table *ft, struct flow *f, const struct pkt *p)
{
    struct mail *m = f->m;
    struct session *s = m->s;
    bool is_syn_only = (p->tcp_flags & (DECODE_TCP_SYN | DECODE_TCP_ACK)) == DECODE_TCP_SYN;
    bool from_client = memcmp(p->src, s->client_ip, 16) == 0 && p->sport == s->client_port;
    enum parse_dir dir = from_client ? PARSE_DIR_CLIENT : PARSE_DIR_SERVER;
    if (is_duplicate(&m->last[dir], p)) {
        ft->st.duplicates++;
        return;
    }
    s->packets++;
    s->iface_mask |= 1u << (p->iface & 31u);
    if (p->ts_usec > s->ts_end_usec) {
        s->ts_end_usec = p->ts_usec;
    }
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
        ft->st.ended_rst++;
        close_flow(ft, f, FINDING_END_RST);
        return;
    }
    if (is_fin) {
        m->fin_mask |= (uint8_t)(1u << dir);
        if (m->fin_mask == 3) {
            ft->st.ended_fin++;
            close_flow(ft, f, FINDING_END_FIN);
        }
    }
}

/* Settles an undecided flow: on CLASSIFY_MAIL it becomes a mail flow and its held packets
 * are replayed, then extra (a packet that could not be held), if not NULL; otherwise it
 * becomes a not-mail tombstone. */
static void decide(struct flow_table *ft, struct flow *f, enum classify_verdict v,
                   const struct classify_result *cr, const struct pkt *extra,
                   const struct decode_trail *trail)
{
    struct pkt first;
    size_t off = 0;
    if (v != CLASSIFY_MAIL || !classify_flow_held(f->u, &off, &first)) {
        free_undecided(ft, f);
        f->state = FLOW_NOT_MAIL;
        return;
    }
    /* The held packets stay ours while the replay may close (and so clean up) the flow. */
    struct classify_flow *u = f->u;
    f->u = NULL;
    make_room(ft, FLOW_MAIL_CHARGE, f);
    attach_mail(ft, f, &first, trail, cr);
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
        has_p = has_p && classify_flow_held(u, &off, &p);
    }
    ft->mem_flows -= classify_flow_charged(u);
    classify_flow_free(u);
    update_mem(ft);
}

/* Charges bytes for flow f, evicting older flows to make room. Returns false when even
 * that leaves no room (then nothing was charged). */
static bool charge(struct flow_table *ft, const struct flow *f, size_t bytes)
{
    make_room(ft, bytes, f);
    if (used(ft) + bytes > ft->budget) {
        return false;
    }
    ft->mem_flows += bytes;
    update_mem(ft);
    return true;
}

/* What classify charges an undecided flow's growth through. */
struct charge_ctx {
    struct flow_table *ft;
    const struct flow *f;
};

static bool charge_undecided(void *ctx, size_t bytes)
{
    const struct charge_ctx *c = ctx;
    return charge(c->ft, c->f, bytes);
}

static void undecided_packet(struct flow_table *ft, struct flow *f, const struct pkt *p)
{
    struct classify_result cr;
    struct charge_ctx cc = { ft, f };
    enum classify_verdict v =
        classify_flow_packet(ft->cls, f->u, p, is_from_a(&f->key, p), charge_undecided, &cc, &cr);
    if (v != CLASSIFY_MORE) {
        decide(ft, f, v, &cr, cr.is_pkt_held ? NULL : p, &p->trail);
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
    if (!ft->is_ndpi && !classify_is_mail_port(ft->cls, p->sport) &&
        !classify_is_mail_port(ft->cls, p->dport)) {
        ft->st.not_mail_segments++;
        return;
    }
    struct flow_key k;
    make_key(p, &k);
    k.zone = key_zone(ft->cfg.key_layers, p);
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
        ft->st.ended_fin++;
        destroy_flow(ft, f, FINDING_END_FIN); /* a new connection on the same port pair */
        f = NULL;
    }
    if (f == NULL) {
        struct classify_result cr;
        if ((p->tcp_flags & DECODE_TCP_RST) != 0 && p->payload_len == 0) {
            ft->st.late_packets++; /* a stray reset starts nothing */
            return;
        }
        if (is_buried(ft, h, is_syn_only)) {
            ft->st.evicted_late++;
            return;
        }
        if (classify_port(ft->cls, p->sport, p->dport, &cr)) {
            make_room(ft, FLOW_ENTRY_CHARGE + FLOW_MAIL_CHARGE, NULL);
            f = new_entry(ft, &k, h, FLOW_ACTIVE);
            attach_mail(ft, f, p, &p->trail, &cr);
        } else if (ft->is_ndpi) {
            size_t base = classify_flow_charge_new();
            make_room(ft, FLOW_ENTRY_CHARGE + base + PS_HEAP_COST(p->l3_len), NULL);
            f = new_entry(ft, &k, h, FLOW_UNDECIDED);
            f->u = classify_flow_new();
            ft->mem_flows += base;
        } else {
            ft->st.not_mail_segments++;
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
        ft->st.not_mail_segments++;
        /* Its end frees the entry sooner than the idle timeout would (after the linger). */
        if ((p->tcp_flags & (DECODE_TCP_FIN | DECODE_TCP_RST)) != 0) {
            close_flow(ft, f, FINDING_END_FIN);
        }
        break;
    case FLOW_CLOSED:
        ft->st.not_mail_segments++;
        break;
    }
}

void flow_flush_all(struct flow_table *ft)
{
    if (ft->tombs != NULL) { /* nothing more comes to them */
        ft->mem_flows -= PS_HEAP_COST(ft->n_tombs * sizeof *ft->tombs);
        free(ft->tombs);
        ft->tombs = NULL;
        ft->n_tombs = 0;
        update_mem(ft);
    }
    while (ft->cheap.head != NULL || ft->mail.head != NULL) {
        struct flow *f = ft->cheap.head != NULL ? ft->cheap.head : ft->mail.head;
        if (f->state == FLOW_UNDECIDED) {
            struct classify_result cr;
            memset(&cr, 0, sizeof cr);
            decide(ft, f, classify_flow_giveup(ft->cls, f->u, &cr), &cr, NULL, NULL);
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
    free(ft->tombs);
    classify_free(ft->owned_cls);
    free(ft);
}

bool flow_mem_charge(struct flow_table *ft, size_t bytes)
{
    /* Closed and cheap flows only: whatever floods the other charger, a session being parsed
     * keeps its memory. */
    if (!ft->is_evicting) {
        ft->is_evicting = true;
        while (used(ft) + bytes > ft->budget && evict_from(ft, NULL, 2)) {
        }
        ft->is_evicting = false;
    }
    if (used(ft) + bytes > ft->budget) {
        return false;
    }
    ft->mem_ext += bytes;
    update_mem(ft);
    return true;
}

void flow_mem_release(struct flow_table *ft, size_t bytes)
{
    assert(bytes <= ft->mem_ext);
    ft->mem_ext -= bytes;
    update_mem(ft);
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
