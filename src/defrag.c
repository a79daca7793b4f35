/* defrag.c - IPv4 and IPv6 fragment reassembly (RFC 791, RFC 8200, RFC 5722).
 *
 * A datagram in progress is a struct dg in a seeded hash table (crafted keys cannot pile into
 * one chain) and on a list in order of its first fragment, so the oldest is found at once for
 * the timeout and for eviction. Its data is one buffer indexed by fragment offset, grown as
 * fragments come (doubling, up to DEFRAG_MAX_BYTES), and a sorted array of the byte ranges held.
 * Ranges never overlap (an overlap drops the datagram), so the datagram is complete when the
 * offset-0 fragment gave the header, the last fragment gave the end, and the bytes held add up
 * to that end. On completion the header and the data are copied into one new buffer, the IP
 * header's lengths set and the fragment fields cleared (IPv4: MF and offset; IPv6: the fragment
 * header left out, its next header written where the chain named it); checksums are left as they
 * are, since decode does not check them. The entry then keeps only its ranges, on a second list,
 * for DEFRAG_DUP_WINDOW_USEC, to tell copies of its fragments (duplicates) from a new datagram
 * reusing the identification (different ranges, or the same ranges with other bytes, as when a
 * sender picks identifications at random and cuts equal datagrams: the record is dropped and
 * the new one starts).
 *
 * Memory: each entry's struct, header copy, data buffer and range array are charged in
 * PS_HEAP_COST units against cfg.memcap_bytes and through cfg.charge (the flow table's cap).
 * When either says no, the oldest other datagrams are evicted (completed records first); a
 * datagram that still finds no room is dropped. */
#include "defrag.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "decode.h"
#include "ps.h"
#include "rd.h"
#include "tunables.h"

_Static_assert((DEFRAG_BUCKETS & (DEFRAG_BUCKETS - 1)) == 0,
               "the bucket array is indexed by masking the hash");

#define DEFRAG_IPV4_MF_OFFSET 0x3fffu /* MF and the offset in the IPv4 flags word */
#define DEFRAG_IPV6_HDR_LEN   40
#define DEFRAG_IPPROTO_TCP    6u
#define DEFRAG_IPPROTO_UDP    17u
#define DEFRAG_TCP_MIN_HDR    20
#define DEFRAG_UDP_HDR_LEN    8

struct range {
    uint32_t off, end; /* data bytes [off, end) */
    uint32_t sum;      /* FNV-1a of those bytes: a copy of the fragment has the same */
};

/* The sum a range of a completed datagram keeps of its bytes. */
static uint32_t data_sum(const uint8_t *p, size_t n)
{
    return ps_fnv1a(PS_FNV1A_INIT, p, n);
}

struct dg {
    struct dg *hnext;
    struct dg *prev, *next; /* on the progress or the done list */
    uint64_t hash;
    uint64_t since_usec; /* first fragment (in progress) or completion (done) */
    uint8_t src[16], dst[16];
    uint32_t id;
    uint8_t key_proto; /* IPv4's protocol; 0 for IPv6 (not in its key) */
    uint8_t ip_version;
    bool is_done;
    bool has_end;
    uint8_t proto;   /* from the offset-0 fragment */
    uint8_t *hdr;    /* the offset-0 fragment's unfragmentable part, NULL until it came */
    size_t hdr_len;  /* bytes of hdr */
    size_t nh_off;   /* IPv6: where in hdr the next header naming the fragment header is */
    uint8_t *data;   /* data bytes by offset */
    size_t data_cap; /* bytes of data allocated */
    struct range *ranges;
    size_t n_ranges, ranges_cap;
    uint32_t end;    /* the datagram's data length, once the last fragment came */
    size_t received; /* data bytes held: the sum of the ranges */
    size_t n_used;   /* fragments taken, duplicates too (fragments_used on completion) */
    size_t charged;  /* bytes charged for this entry */
};

struct dg_list {
    struct dg *head, *tail; /* head: oldest */
};

struct defrag {
    struct defrag_config cfg;
    struct dg **buckets; /* NULL until the first fragment */
    uint64_t seed;
    struct dg_list progress, done;
    size_t n_dgs;      /* entries, both lists */
    size_t n_progress; /* entries in progress */
    size_t mem;        /* bytes charged */
    uint64_t now_usec;
    struct defrag_stats st;
};

static void list_remove(struct dg_list *l, struct dg *g)
{
    if (g->prev != NULL) {
        g->prev->next = g->next;
    } else {
        l->head = g->next;
    }
    if (g->next != NULL) {
        g->next->prev = g->prev;
    } else {
        l->tail = g->prev;
    }
    g->prev = g->next = NULL;
}

static void list_append(struct dg_list *l, struct dg *g)
{
    g->next = NULL;
    g->prev = l->tail;
    if (l->tail != NULL) {
        l->tail->next = g;
    } else {
        l->head = g;
    }
    l->tail = g;
}

struct defrag *defrag_new(const struct defrag_config *cfg)
{
    struct defrag *d = xcalloc(1, sizeof *d);
    d->cfg = *cfg;
    if (getrandom(&d->seed, sizeof d->seed, GRND_NONBLOCK) != (ssize_t)sizeof d->seed) {
        d->seed = (uint64_t)(uintptr_t)d ^ 0x9e3779b97f4a7c15u;
    }
    return d;
}

/* Gives bytes back, to the table and its owner. */
static void release(struct defrag *d, size_t bytes)
{
    assert(bytes <= d->mem);
    d->mem -= bytes;
    if (d->cfg.release != NULL && bytes > 0) {
        d->cfg.release(d->cfg.ctx, bytes);
    }
}

/* Unlinks g from its bucket and list and frees it with its charge. */
static void destroy(struct defrag *d, struct dg *g)
{
    struct dg **pp = &d->buckets[g->hash & (DEFRAG_BUCKETS - 1)];
    while (*pp != NULL && *pp != g) {
        pp = &(*pp)->hnext;
    }
    assert(*pp == g);
    *pp = g->hnext;
    if (g->is_done) {
        list_remove(&d->done, g);
    } else {
        list_remove(&d->progress, g);
        d->n_progress--;
    }
    d->n_dgs--;
    release(d, g->charged);
    free(g->hdr);
    free(g->data);
    free(g->ranges);
    free(g);
}

/* Drops the oldest entry other than keep: a completed record first, then the oldest datagram in
 * progress (counted evicted). False when there is no other. */
static bool evict_one(struct defrag *d, const struct dg *keep)
{
    struct dg *g = d->done.head;
    if (g == keep && g != NULL) {
        g = g->next;
    }
    if (g == NULL) {
        g = d->progress.head;
        if (g == keep && g != NULL) {
            g = g->next;
        }
        if (g == NULL) {
            return false;
        }
        d->st.evicted++;
    }
    destroy(d, g);
    return true;
}

/* Charges bytes more for g (NULL: the buckets), evicting older entries while the table's share
 * or the owner's cap says no. False when there is no room even so (nothing charged). */
static bool charge(struct defrag *d, struct dg *g, size_t bytes)
{
    while (d->mem + bytes > d->cfg.memcap_bytes) {
        if (!evict_one(d, g)) {
            return false;
        }
    }
    while (d->cfg.charge != NULL && !d->cfg.charge(d->cfg.ctx, bytes)) {
        if (!evict_one(d, g)) {
            return false;
        }
    }
    d->mem += bytes;
    if (g != NULL) {
        g->charged += bytes;
    }
    if (d->mem > d->st.mem_used_max) {
        d->st.mem_used_max = d->mem;
    }
    return true;
}

static void expire(struct defrag *d)
{
    uint64_t timeout = (uint64_t)DEFRAG_TIMEOUT_SEC * PS_USEC_PER_SEC;
    while (d->progress.head != NULL && d->progress.head->since_usec + timeout < d->now_usec) {
        d->st.timed_out++;
        destroy(d, d->progress.head);
    }
    while (d->done.head != NULL &&
           d->done.head->since_usec + DEFRAG_DUP_WINDOW_USEC < d->now_usec) {
        destroy(d, d->done.head);
    }
}

void defrag_expire(struct defrag *d, uint64_t now_usec)
{
    if (now_usec > d->now_usec) {
        d->now_usec = now_usec;
    }
    if (d->buckets != NULL) {
        expire(d);
    }
}

void defrag_flush(struct defrag *d)
{
    while (d->progress.head != NULL) {
        d->st.incomplete_at_end++;
        destroy(d, d->progress.head);
    }
    while (d->done.head != NULL) {
        destroy(d, d->done.head);
    }
}

void defrag_free(struct defrag *d)
{
    if (d == NULL) {
        return;
    }
    defrag_flush(d);
    if (d->buckets != NULL) {
        release(d, PS_HEAP_COST(DEFRAG_BUCKETS * sizeof *d->buckets));
        free(d->buckets);
    }
    free(d);
}

void defrag_datagram_free(uint8_t *dg)
{
    free(dg);
}

size_t defrag_mem_used(const struct defrag *d)
{
    return d->mem;
}

const struct defrag_stats *defrag_get_stats(const struct defrag *d)
{
    return &d->st;
}

/* 64-bit mix (splitmix64 finaliser). */
static uint64_t mix(uint64_t h)
{
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9u;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebu;
    h ^= h >> 31;
    return h;
}

static uint64_t key_hash(const struct defrag *d, const struct decode_frag *f, uint8_t key_proto)
{
    uint64_t w[5];
    memcpy(&w[0], f->src, 8);
    memcpy(&w[1], f->src + 8, 8);
    memcpy(&w[2], f->dst, 8);
    memcpy(&w[3], f->dst + 8, 8);
    w[4] = (uint64_t)f->id << 16 | (uint64_t)key_proto << 8 | f->ip_version;
    uint64_t h = d->seed;
    for (size_t i = 0; i < 5; i++) {
        h = (h ^ w[i]) * 0x9e3779b97f4a7c15u;
        h ^= h >> 29;
    }
    return mix(h);
}

static struct dg *lookup(const struct defrag *d, const struct decode_frag *f, uint8_t key_proto,
                         uint64_t h)
{
    for (struct dg *g = d->buckets[h & (DEFRAG_BUCKETS - 1)]; g != NULL; g = g->hnext) {
        if (g->hash == h && g->id == f->id && g->key_proto == key_proto &&
            g->ip_version == f->ip_version && memcmp(g->src, f->src, 16) == 0 &&
            memcmp(g->dst, f->dst, 16) == 0) {
            return g;
        }
    }
    return NULL;
}

/* A new datagram in progress for f, or NULL when there is no room (counted). */
static struct dg *create(struct defrag *d, const struct decode_frag *f, uint8_t key_proto,
                         uint64_t h)
{
    while (d->n_dgs >= DEFRAG_MAX_DATAGRAMS) {
        if (!evict_one(d, NULL)) {
            break;
        }
    }
    if (!charge(d, NULL, PS_HEAP_COST(sizeof(struct dg)))) {
        d->st.no_memory++;
        return NULL;
    }
    struct dg *g = xcalloc(1, sizeof *g);
    g->charged = PS_HEAP_COST(sizeof *g);
    g->hash = h;
    g->since_usec = d->now_usec;
    memcpy(g->src, f->src, 16);
    memcpy(g->dst, f->dst, 16);
    g->id = f->id;
    g->key_proto = key_proto;
    g->ip_version = f->ip_version;
    size_t b = h & (DEFRAG_BUCKETS - 1);
    g->hnext = d->buckets[b];
    d->buckets[b] = g;
    list_append(&d->progress, g);
    d->n_dgs++;
    d->n_progress++;
    if (d->n_progress > d->st.active_max) {
        d->st.active_max = d->n_progress;
    }
    return g;
}

/* Drops g, counting the outcome in *counter; the fragment at hand goes with it. */
static enum defrag_status drop(struct defrag *d, struct dg *g, uint64_t *counter)
{
    (*counter)++;
    if (g != NULL) {
        destroy(d, g);
    }
    return DEFRAG_DROPPED;
}

/* Index of the first range of g starting at or after off. */
static size_t range_at(const struct dg *g, uint32_t off)
{
    size_t lo = 0;
    size_t hi = g->n_ranges;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (g->ranges[mid].off < off) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* Whether [off, end) is exactly a range of g (a duplicate), and, for a completed datagram's
 * record, with the same bytes (sum). Sets *is_overlap when it overlaps a range otherwise. An
 * empty fragment (a last one of no data) overlaps nothing. */
static bool find_dup(const struct dg *g, uint32_t off, uint32_t end, uint32_t sum, bool *is_overlap)
{
    size_t i = range_at(g, off);
    *is_overlap = false;
    if (i < g->n_ranges && g->ranges[i].off == off && g->ranges[i].end == end) {
        if (g->is_done && g->ranges[i].sum != sum) {
            *is_overlap = true; /* other bytes: not a copy */
            return false;
        }
        return true;
    }
    if (off == end) {
        return false;
    }
    if (i > 0 && g->ranges[i - 1].end > off) {
        *is_overlap = true;
    }
    if (i < g->n_ranges && g->ranges[i].off < end) {
        *is_overlap = true;
    }
    return false;
}

/* Grows *buf (of *cap elements of size elem) to hold need elements, doubling up to max,
 * charging the difference for g. False when there is no room. */
static bool grow(struct defrag *d, struct dg *g, void **buf, size_t *cap, size_t need, size_t max,
                 size_t elem)
{
    if (need <= *cap) {
        return true;
    }
    size_t n = *cap * 2;
    if (n < need) {
        n = need;
    }
    if (n > max) {
        n = max;
    }
    assert(n >= need);
    size_t old_cost = *cap > 0 ? PS_HEAP_COST(*cap * elem) : 0;
    if (!charge(d, g, PS_HEAP_COST(n * elem) - old_cost)) {
        return false;
    }
    *buf = xrealloc(*buf, n * elem);
    *cap = n;
    return true;
}

/* Puts the completed datagram g together into an owned buffer; g becomes a done record. */
static uint8_t *assemble(struct defrag *d, struct dg *g, size_t *out_len)
{
    size_t len = g->hdr_len + g->end;
    uint8_t *out = xmalloc(len);
    memcpy(out, g->hdr, g->hdr_len);
    if (g->end > 0) {
        memcpy(out + g->hdr_len, g->data, g->end);
    }
    if (g->ip_version == 4) {
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
        uint16_t flags = (uint16_t)(rd_get_be16(out + 6) & ~DEFRAG_IPV4_MF_OFFSET);
        out[6] = (uint8_t)(flags >> 8);
        out[7] = (uint8_t)flags;
    } else {
        size_t payload = len - DEFRAG_IPV6_HDR_LEN;
        out[4] = (uint8_t)(payload >> 8);
        out[5] = (uint8_t)payload;
        out[g->nh_off] = g->proto;
    }
    *out_len = len;

    d->st.reassembled++;
    d->st.fragments_used += g->n_used;
    /* Keep the ranges only, for DEFRAG_DUP_WINDOW_USEC. */
    size_t keep = PS_HEAP_COST(sizeof *g) + PS_HEAP_COST(g->ranges_cap * sizeof *g->ranges);
    assert(keep <= g->charged);
    release(d, g->charged - keep);
    g->charged = keep;
    free(g->hdr);
    free(g->data);
    g->hdr = NULL;
    g->data = NULL;
    g->data_cap = 0;
    list_remove(&d->progress, g);
    d->n_progress--;
    g->is_done = true;
    g->since_usec = d->now_usec;
    list_append(&d->done, g);
    return out;
}

/* The fragment's own checks, before any datagram is looked up. */
static bool fragment_ok(struct defrag *d, const struct decode_frag *f)
{
    if (f->data_len < f->data_claim) {
        d->st.truncated++;
        return false;
    }
    if (f->is_more && (f->data_claim == 0 || f->data_claim % 8 != 0)) {
        d->st.bad_fragments++;
        return false;
    }
    return true;
}

/* What a fragment ending at end tells of the datagram's end: the last one (!is_more) sets it,
 * any other must lie before it. False when it contradicts what was held. */
static bool settle_end(struct dg *g, bool is_more, uint32_t end)
{
    if (!is_more) {
        if ((g->has_end && g->end != end) ||
            (g->n_ranges > 0 && g->ranges[g->n_ranges - 1].end > end)) {
            return false;
        }
        g->has_end = true;
        g->end = end;
        return true;
    }
    return !(g->has_end && end > g->end);
}

/* Keeps the first fragment's header (its unfragmentable part) for the datagram. Returns NULL,
 * or the counter of the reason to drop the datagram. */
static uint64_t *keep_header(struct defrag *d, struct dg *g, const struct decode_frag *f)
{
    size_t need = f->proto == DEFRAG_IPPROTO_TCP   ? DEFRAG_TCP_MIN_HDR
                  : f->proto == DEFRAG_IPPROTO_UDP ? DEFRAG_UDP_HDR_LEN
                                                   : 0;
    if (f->data_claim < need) {
        if (f->ip_version == 6) {
            return &d->st.tiny_first_v6; /* RFC 7112: the whole header chain comes first */
        }
        d->st.tiny_first++;
    }
    if (!charge(d, g, PS_HEAP_COST(f->unfrag_len))) {
        return &d->st.no_memory;
    }
    g->hdr = xmalloc(f->unfrag_len);
    memcpy(g->hdr, f->l3, f->unfrag_len);
    g->hdr_len = f->unfrag_len;
    g->nh_off = f->nh_off;
    g->proto = f->proto;
    return NULL;
}

/* Stores the fragment's range [off, end) and its bytes. False when memory refuses. */
static bool store(struct defrag *d, struct dg *g, const struct decode_frag *f, uint32_t off,
                  uint32_t end)
{
    void *buf = g->ranges;
    bool is_room =
        grow(d, g, &buf, &g->ranges_cap, g->n_ranges + 1, DEFRAG_MAX_FRAGS, sizeof *g->ranges);
    g->ranges = buf;
    if (is_room && end > 0) {
        buf = g->data;
        is_room = grow(d, g, &buf, &g->data_cap, end, DEFRAG_MAX_BYTES, 1);
        g->data = buf;
    }
    if (!is_room) {
        return false;
    }
    size_t i = range_at(g, off);
    memmove(g->ranges + i + 1, g->ranges + i, (g->n_ranges - i) * sizeof *g->ranges);
    g->ranges[i].off = off;
    g->ranges[i].end = end;
    g->ranges[i].sum = data_sum(f->data, end - off);
    g->n_ranges++;
    if (end > off) {
        memcpy(g->data + off, f->data, end - off);
    }
    g->received += end - off;
    g->n_used++;
    return true;
}

enum defrag_status defrag_add(struct defrag *d, const struct decode_frag *f, uint64_t ts_usec,
                              uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    d->st.fragments++;
    if (ts_usec > d->now_usec) {
        d->now_usec = ts_usec;
    }
    if (d->buckets == NULL) {
        if (!charge(d, NULL, PS_HEAP_COST(DEFRAG_BUCKETS * sizeof *d->buckets))) {
            d->st.no_memory++;
            return DEFRAG_DROPPED;
        }
        d->buckets = xcalloc(DEFRAG_BUCKETS, sizeof *d->buckets);
    }
    expire(d);
    if (!fragment_ok(d, f)) {
        return DEFRAG_DROPPED;
    }
    uint8_t key_proto = f->ip_version == 4 ? f->proto : 0;
    uint64_t h = key_hash(d, f, key_proto);
    struct dg *g = lookup(d, f, key_proto, h);
    /* Checked in 64 bits: offset and claim each fit 32, their sum may not. */
    uint64_t end64 = (uint64_t)f->offset + f->data_claim;
    if (end64 > DEFRAG_MAX_BYTES) {
        return drop(d, g != NULL && !g->is_done ? g : NULL, &d->st.too_big);
    }
    uint32_t off = f->offset;
    uint32_t end = (uint32_t)end64;
    bool is_overlap;

    /* Only a completed datagram's record compares bytes: in progress, an exact duplicate
     * keeps the first copy's bytes whatever the second holds. */
    uint32_t sum = g != NULL && g->is_done ? data_sum(f->data, end - off) : 0;
    if (g != NULL && g->is_done) {
        if (find_dup(g, off, end, sum, &is_overlap)) {
            d->st.duplicates++;
            d->st.fragments_used++;
            return DEFRAG_HELD;
        }
        destroy(d, g); /* the identification reused by a new datagram */
        g = NULL;
    }
    if (g == NULL) {
        g = create(d, f, key_proto, h);
        if (g == NULL) {
            return DEFRAG_DROPPED;
        }
    }
    if (find_dup(g, off, end, sum, &is_overlap)) {
        d->st.duplicates++;
        g->n_used++;
        return DEFRAG_HELD;
    }
    if (is_overlap) {
        return drop(d, g, &d->st.overlaps);
    }
    if (!settle_end(g, f->is_more, end)) {
        return drop(d, g, &d->st.bad_offsets);
    }
    if (g->n_ranges >= DEFRAG_MAX_FRAGS) {
        return drop(d, g, &d->st.too_many_frags);
    }
    uint64_t *why = off == 0 ? keep_header(d, g, f) : NULL;
    if (why != NULL) {
        return drop(d, g, why);
    }
    if (!store(d, g, f, off, end)) {
        return drop(d, g, &d->st.no_memory);
    }

    if (g->hdr == NULL || !g->has_end || g->received != g->end) {
        return DEFRAG_HELD;
    }
    /* Complete: the whole must fit the length field of its header. */
    size_t total =
        g->ip_version == 4 ? g->hdr_len + g->end : g->hdr_len - DEFRAG_IPV6_HDR_LEN + g->end;
    if (total > DEFRAG_MAX_BYTES) {
        return drop(d, g, &d->st.too_big);
    }
    *out = assemble(d, g, out_len);
    return DEFRAG_DONE;
}
