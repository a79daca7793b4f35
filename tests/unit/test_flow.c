/* test_flow.c - unit tests for flow: sides, endings, tombstones, timeouts, limits, memcap. */
/*
 * Packets are struct pkt values built by hand for POP3 connections (port 110); a struct conn
 * keeps each side's next sequence number so a scenario reads as the conversation it is. The
 * emit callback copies what a test checks, because flow frees the session after it returns,
 * and checks the table's limits while the table is in the middle of ending a flow. Every
 * scenario ends by checking that the counters agree with each other and with the sessions
 * the callback saw. Packets carry real IP and TCP header bytes (pkt.l3), so the nDPI cases can
 * run POP3 on port 8110 through the hold-classify-replay path. Seeded stress runs throw random
 * segments at a small table, with and without nDPI. Cases that once ended in a sanitizer
 * report run in a child process, so such a report fails the case, not the whole binary.
 * The binary is linked with malloc, calloc and realloc wrapped (the Makefile's
 * -Wl,--wrap), so test_no_alloc_per_packet can count what the library allocates.
 */
#include "flow.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "classify.h"
#include "decode.h"
#include "finding.h"
#include "test.h"
#include "tunables.h"

#define F_SYN  DECODE_TCP_SYN
#define F_SA   (DECODE_TCP_SYN | DECODE_TCP_ACK)
#define F_A    DECODE_TCP_ACK
#define F_PA   (DECODE_TCP_PSH | DECODE_TCP_ACK)
#define F_FA   (DECODE_TCP_FIN | DECODE_TCP_ACK)
#define F_R    DECODE_TCP_RST
#define F_RA   (DECODE_TCP_RST | DECODE_TCP_ACK)
#define USEC   1000000u
#define T0     ((uint64_t)1700000000 * USEC)
#define KEEP   64 /* sessions a sink copies; more are only counted */
#define BIGCAP ((size_t)64 * 1024 * 1024)

/* Allocations the library made through malloc, calloc and realloc (the linker sends its calls
 * here; see the Makefile's rule for this test). */
static uint64_t n_allocs;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);

void *__wrap_malloc(size_t n)
{
    n_allocs++;
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    n_allocs++;
    return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    n_allocs++;
    return __real_realloc(p, n);
}

/* What a test needs of an emitted session (the first credential only). */
struct got {
    enum finding_end end_reason;
    const char *protocol;
    enum finding_tls tls;
    uint8_t ip_version;
    uint16_t vlan;
    uint8_t client_ip[16], server_ip[16];
    uint16_t client_port, server_port;
    uint64_t ts_start_usec, ts_end_usec;
    uint64_t packets, bytes_client, bytes_server, gaps;
    size_t n_creds;
    char mech[FINDING_MAX_MECH];
    uint8_t user[64];
    size_t user_len;
    uint8_t secret[64];
    size_t secret_len;
    bool has_secret;
    enum finding_result result;
};

struct sink {
    struct got got[KEEP];
    size_t n; /* sessions emitted, kept or not */
    const struct flow_table *ft;
    size_t max_flows;     /* when > 0, flows_active is checked against it during emit */
    uint64_t bad_in_emit; /* emits that saw flows_active above max_flows or an empty session */
};

/* Credential events seen by a test. */
struct events {
    size_t n;
    size_t seq[8];
    enum finding_result result[8];
    char uid[8][FINDING_UID_LEN + 1];
    bool had_secret[8];
};
static struct events ev;

static void on_cred(void *ctx, struct session *s, size_t i)
{
    (void)ctx;
    if (ev.n < 8) {
        ev.seq[ev.n] = i;
        ev.result[ev.n] = s->creds[i]->result;
        ev.had_secret[ev.n] = s->creds[i]->secret != NULL;
        memcpy(ev.uid[ev.n], s->uid, sizeof ev.uid[ev.n]);
    }
    ev.n++;
}

static void on_emit(void *ctx, struct session *s)
{
    struct sink *k = ctx;
    if (k->ft != NULL && k->max_flows > 0 && flow_get_stats(k->ft)->active > k->max_flows) {
        k->bad_in_emit++;
    }
    if (s->bytes_client + s->bytes_server == 0) {
        k->bad_in_emit++;
    }
    if (k->n < KEEP) {
        struct got *g = &k->got[k->n];
        memset(g, 0, sizeof *g);
        g->end_reason = s->end_reason;
        g->protocol = s->protocol;
        g->tls = s->tls;
        g->vlan = s->vlan;
        g->ip_version = s->ip_version;
        memcpy(g->client_ip, s->client_ip, 16);
        memcpy(g->server_ip, s->server_ip, 16);
        g->client_port = s->client_port;
        g->server_port = s->server_port;
        g->ts_start_usec = s->ts_start_usec;
        g->ts_end_usec = s->ts_end_usec;
        g->packets = s->packets;
        g->bytes_client = s->bytes_client;
        g->bytes_server = s->bytes_server;
        g->gaps = s->gaps;
        g->n_creds = s->n_creds;
        if (s->n_creds > 0) {
            const struct credential *c = s->creds[0];
            memcpy(g->mech, c->mechanism, sizeof g->mech);
            g->user_len = c->username_len < sizeof g->user ? c->username_len : sizeof g->user;
            memcpy(g->user, c->username, g->user_len);
            g->has_secret = c->secret != NULL;
            if (c->secret != NULL) {
                g->secret_len = c->secret_len < sizeof g->secret ? c->secret_len : sizeof g->secret;
                memcpy(g->secret, c->secret, g->secret_len);
            }
            g->result = c->result;
        }
    }
    k->n++;
}

/* A table classifying by port alone (cls NULL), or with cls when given. */
static struct flow_table *table_new_cls(struct sink *k, size_t max_flows, size_t memcap,
                                        uint32_t idle_sec, struct classify *cls)
{
    struct flow_config cfg = { max_flows, memcap, idle_sec, cls, 0, NULL, 0 };
    memset(k, 0, sizeof *k);
    struct flow_table *ft = flow_table_new(&cfg, on_emit, k);
    k->ft = ft;
    k->max_flows = max_flows;
    return ft;
}

static struct flow_table *table_new(struct sink *k, size_t max_flows, size_t memcap,
                                    uint32_t idle_sec)
{
    return table_new_cls(k, max_flows, memcap, idle_sec, NULL);
}

/* What holds at any moment: every flow that is no longer active was ended exactly once and
 * either emitted or counted empty, and the sink saw every emitted session. flushed counts
 * flows ended by flow_flush_all, which has no counter of its own. */
static void check_consistent(const struct flow_table *ft, const struct sink *k, uint64_t flushed)
{
    const struct flow_stats *st = flow_get_stats(ft);
    CHECK_EQ_U(st->created - st->active,
               st->ended_fin + st->ended_rst + st->ended_idle + st->evicted + flushed);
    CHECK_EQ_U(st->sessions_emitted + st->sessions_empty, st->created - st->active);
    CHECK_EQ_U(st->sessions_emitted, k->n);
    CHECK(st->active <= st->active_max);
    CHECK(st->mem_used <= st->mem_used_max);
    CHECK_EQ_U(k->bad_in_emit, 0);
}

/* One TCP connection: each side's next sequence number and the next packet's time. */
struct conn {
    uint8_t ip_version;
    uint8_t cip[16], sip[16];
    uint16_t cport, sport;
    uint16_t vlan;
    uint32_t cnext, snext;
    uint64_t ts_usec;
};

static void conn_init(struct conn *c, uint8_t host, uint16_t cport, uint16_t sport, uint32_t cisn,
                      uint32_t sisn)
{
    memset(c, 0, sizeof *c);
    c->ip_version = 4;
    c->cip[0] = 192;
    c->cip[1] = 0;
    c->cip[2] = 2;
    c->cip[3] = host;
    c->sip[0] = 198;
    c->sip[1] = 51;
    c->sip[2] = 100;
    c->sip[3] = 1;
    c->cport = cport;
    c->sport = sport;
    c->cnext = cisn;
    c->snext = sisn;
    c->ts_usec = T0;
}

static void conn_init6(struct conn *c, uint16_t cport, uint32_t cisn, uint32_t sisn)
{
    static const uint8_t cip[16] = {
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10
    };
    static const uint8_t sip[16] = {
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01
    };
    conn_init(c, 0, cport, 110, cisn, sisn);
    c->ip_version = 6;
    memcpy(c->cip, cip, 16);
    memcpy(c->sip, sip, 16);
}

/* The last packet's bytes: IP header, TCP header, payload (flow copies what it keeps). */
static uint8_t wire[60 + 65536];

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v & 0xffffu);
}

/* One segment with every field given, with its IP and TCP headers built as decode would find
 * them (l3 points at them), so classifiers see a real packet. */
static void seg(struct flow_table *ft, const struct conn *c, bool from_client, uint8_t flags,
                uint32_t seq, uint32_t ack, const void *data, size_t len, uint64_t ts_usec)
{
    size_t ip_len = c->ip_version == 6 ? 40 : 20;
    const uint8_t *src = from_client ? c->cip : c->sip;
    const uint8_t *dst = from_client ? c->sip : c->cip;
    struct pkt p;
    memset(&p, 0, sizeof p);
    memset(wire, 0, ip_len + 20);
    if (len > sizeof wire - ip_len - 20) {
        len = sizeof wire - ip_len - 20;
    }
    if (c->ip_version == 6) {
        wire[0] = 0x60;
        put16(wire + 4, (uint32_t)(20 + len));
        wire[6] = 6;
        wire[7] = 64;
        memcpy(wire + 8, src, 16);
        memcpy(wire + 24, dst, 16);
    } else {
        wire[0] = 0x45;
        put16(wire + 2, (uint32_t)(ip_len + 20 + len));
        wire[8] = 64;
        wire[9] = 6;
        memcpy(wire + 12, src, 4);
        memcpy(wire + 16, dst, 4);
    }
    uint8_t *tcp = wire + ip_len;
    put16(tcp, from_client ? c->cport : c->sport);
    put16(tcp + 2, from_client ? c->sport : c->cport);
    put32(tcp + 4, seq);
    put32(tcp + 8, ack);
    tcp[12] = 5 << 4;
    tcp[13] = flags;
    put16(tcp + 14, 65535);
    if (len > 0) {
        memcpy(tcp + 20, data, len);
    }
    p.ts_usec = ts_usec;
    p.vlan = c->vlan;
    p.ip_version = c->ip_version;
    p.tcp_flags = flags;
    memcpy(p.src, src, 16);
    memcpy(p.dst, dst, 16);
    p.sport = from_client ? c->cport : c->sport;
    p.dport = from_client ? c->sport : c->cport;
    p.seq = seq;
    p.ack = ack;
    p.l3 = wire;
    p.l3_len = ip_len + 20 + len;
    p.payload = tcp + 20;
    p.payload_len = len;
    p.seg_len = len;
    flow_packet(ft, &p);
}

/* A segment from one side at its next sequence number, acknowledging all the other side sent;
 * SYN and FIN take a sequence number each. Time moves on by a millisecond. */
static void say(struct flow_table *ft, struct conn *c, bool from_client, uint8_t flags,
                const char *text)
{
    size_t len = text != NULL ? strlen(text) : 0;
    uint32_t *next = from_client ? &c->cnext : &c->snext;
    uint32_t ack = from_client ? c->snext : c->cnext;
    seg(ft, c, from_client, flags, *next, (flags & DECODE_TCP_ACK) != 0 ? ack : 0, text, len,
        c->ts_usec);
    *next += (uint32_t)len;
    if ((flags & (DECODE_TCP_SYN | DECODE_TCP_FIN)) != 0) {
        *next += 1;
    }
    c->ts_usec += 1000;
}

static void handshake(struct flow_table *ft, struct conn *c)
{
    say(ft, c, true, F_SYN, NULL);
    say(ft, c, false, F_SA, NULL);
    say(ft, c, true, F_A, NULL);
}

static void login(struct flow_table *ft, struct conn *c)
{
    say(ft, c, false, F_PA, "+OK POP3 ready\r\n");
    say(ft, c, true, F_PA, "USER alice\r\n");
    say(ft, c, false, F_PA, "+OK\r\n");
    say(ft, c, true, F_PA, "PASS s3cret\r\n");
    say(ft, c, false, F_PA, "+OK logged in\r\n");
}

/* FIN from the client, FIN from the server; the last ACK is left to the caller. */
static void teardown(struct flow_table *ft, struct conn *c)
{
    say(ft, c, true, F_FA, NULL);
    say(ft, c, false, F_FA, NULL);
}

static void check_sides(const struct got *g, const struct conn *c)
{
    CHECK_EQ_U(g->ip_version, c->ip_version);
    CHECK(memcmp(g->client_ip, c->cip, 16) == 0);
    CHECK(memcmp(g->server_ip, c->sip, 16) == 0);
    CHECK_EQ_U(g->client_port, c->cport);
    CHECK_EQ_U(g->server_port, c->sport);
}

static void check_alice(const struct got *g, enum finding_result result)
{
    CHECK(g->protocol != NULL && strcmp(g->protocol, "pop3") == 0);
    CHECK_EQ_U(g->n_creds, 1);
    CHECK(strcmp(g->mech, "USER/PASS") == 0);
    CHECK_MEM(g->user, g->user_len, "alice");
    CHECK(g->has_secret);
    CHECK_MEM(g->secret, g->secret_len, "s3cret");
    CHECK_EQ_U(g->result, result);
}

/* ---- whole connections ---- */

static void test_full_connection(void)
{
    struct sink k;
    struct flow_table *ft = table_new(&k, FLOW_MAX_FLOWS, BIGCAP, FLOW_IDLE_SEC);
    struct conn c;
    conn_init(&c, 10, 40000, 110, 1000, 5000);
    c.vlan = 42;
    handshake(ft, &c);
    login(ft, &c);
    say(ft, &c, true, F_FA, NULL);
    CHECK_EQ_U(k.n, 0); /* one FIN is not the end */
    say(ft, &c, false, F_FA, NULL);
    CHECK_EQ_U(k.n, 1);
    say(ft, &c, true, F_A, NULL); /* the last ACK: absorbed by the tombstone */

    const struct flow_stats *st = flow_get_stats(ft);
    CHECK_EQ_U(k.n, 1);
    check_sides(&k.got[0], &c);
    check_alice(&k.got[0], FINDING_RESULT_SUCCESS);
    CHECK_EQ_U(k.got[0].end_reason, FINDING_END_FIN);
    CHECK_EQ_U(k.got[0].vlan, 42);
    CHECK_EQ_U(k.got[0].tls, FINDING_TLS_NONE);
    CHECK_EQ_U(k.got[0].packets, 10);
    CHECK_EQ_U(k.got[0].bytes_client, strlen("USER alice\r\nPASS s3cret\r\n"));
    CHECK_EQ_U(k.got[0].bytes_server, strlen("+OK POP3 ready\r\n+OK\r\n+OK logged in\r\n"));
    CHECK_EQ_U(k.got[0].gaps, 0);
    CHECK_EQ_U(k.got[0].ts_start_usec, T0);
    CHECK_EQ_U(k.got[0].ts_end_usec, T0 + 9 * 1000);
    CHECK_EQ_U(st->created, 1);
    CHECK_EQ_U(st->active, 0);
    CHECK_EQ_U(st->active_max, 1);
    CHECK_EQ_U(st->ended_fin, 1);
    CHECK_EQ_U(st->ended_rst, 0);
    CHECK_EQ_U(st->ended_idle, 0);
    CHECK_EQ_U(st->evicted, 0);
    CHECK_EQ_U(st->late_packets, 1);
    CHECK_EQ_U(st->not_mail_segments, 0);
    CHECK_EQ_U(st->sessions_emitted, 1);
    CHECK_EQ_U(st->sessions_empty, 0);
    CHECK_EQ_U(flow_get_reasm_stats(ft)->gaps, 0);
    CHECK_EQ_U(flow_get_parse_stats(ft)->not_protocol, 0);
    check_consistent(ft, &k, 0);
    flow_table_free(ft);
    CHECK_EQ_U(k.n, 1);
}

/* No SYN seen: the first packet comes from the server, so its source is the mail port. */
static void test_midstream_server_first(void)
{
    struct sink k;
    struct flow_table *ft = table_new(&k, FLOW_MAX_FLOWS, BIGCAP, FLOW_IDLE_SEC);
    struct conn c;
    conn_init(&c, 11, 40001, 110, 77777, 88888);
    login(ft, &c);
    CHECK_EQ_U(flow_get_stats(ft)->active, 1);
    flow_flush_all(ft);
    CHECK_EQ_U(k.n, 1);
    check_sides(&k.got[0], &c);
    check_alice(&k.got[0], FINDING_RESULT_SUCCESS);
    CHECK_EQ_U(k.got[0].end_reason, FINDING_END_CAPTURE);
    check_consistent(ft, &k, 1);
    flow_table_free(ft);
    CHECK_EQ_U(k.n, 1);
}

static void test_midstream_client_first(void)
{
    struct sink k;
    struct flow_table *ft = table_new(&k, FLOW_MAX_FLOWS, BIGCAP, FLOW_IDLE_SEC);
    struct conn c;
    conn_init(&c, 12, 40002, 110, 0x80000000u, 0x7fffffffu);
    say(ft, &c, true, F_PA, "USER alice\r\n");
    say(ft, &c, false, F_PA, "+OK\r\n");
    say(ft, &c, true, F_PA, "PASS s3cret\r\n");
    say(ft, &c, false, F_PA, "-ERR denied\r\n");
    flow_flush_all(ft);
    CHECK_EQ_U(k.n, 1);
    check_sides(&k.got[0], &c);
    check_alice(&k.got[0], FINDING_RESULT_FAILURE);
    check_consistent(ft, &k, 1);
    flow_table_free(ft);
}

/* The SYN was missed; the SYN-ACK's receiver is the client. */
static void test_synack_first(void)
{
    struct sink k;
    struct flow_table *ft = table_new(&k, FLOW_MAX_FLOWS, BIGCAP, FLOW_IDLE_SEC);
    struct conn c;
    conn_init(&c, 13, 40003, 110, 1000, 5000);
    c.cnext = 1001; /* the SYN took 1000 */
    say(ft, &c, false, F_SA, NULL);
    say(ft, &c, true, F_A, NULL);
    login(ft, &c);
    teardown(ft, &c);
    CHECK_EQ_U(k.n, 1);
    check_sides(&k.got[0], &c);
    check_alice(&k.got[0], FINDING_RESULT_SUCCESS);
    CHECK_EQ_U(k.got[0].end_reason, FINDING_END_FIN);
    check_consistent(ft, &k, 0);
    flow_table_free(ft);
}

/* SYN and SYN-ACK decide even against the port rule: here the client sits on port 110 and
 * dials port 40004, so the side off the mail port would be wrong. */
static void test_syn_beats_port(void)
{
    test_case_failed = 0;
    for (int with_syn = 0; with_syn < 2; with_syn++) {
        struct sink k;
        struct flow_table *ft = table_new(&k, FLOW_MAX_FLOWS, BIGCAP, FLOW_IDLE_SEC);
        struct conn c;
        conn_init(&c, 14, 110, 40004, 1000, 5000);
        if (with_syn) {
            handshake(ft, &c);
        } else {
            c.cnext = 1001;
            say(ft, &c, false, F_SA, NULL);
            say(ft, &c, true, F_A, NULL);
        }
        login(ft, &c);
        teardown(ft, &c);
        CHECK_EQ_U(k.n, 1);
        check_sides(&k.got[0], &c);
        check_alice(&k.got[0], FINDING_RESULT_SUCCESS);
        check_consistent(ft, &k, 0);
        flow_table_free(ft);
        CASE_DONE(with_syn ? "syn beats port: SYN" : "syn beats port: SYN-ACK");
    }
}

static void test_rst(void)
{
    struct sink k;
    struct flow_table *ft = table_new(&k, FLOW_MAX_FLOWS, BIGCAP, FLOW_IDLE_SEC);
    struct conn c;
    conn_init(&c, 15, 40005, 110, 1000, 5000);
    handshake(ft, &c);
    say(ft, &c, false, F_PA, "+OK POP3 ready\r\n");
    say(ft, &c, true, F_PA, "USER alice\r\n");
    say(ft, &c, false, F_PA, "+OK\r\n");
    say(ft, &c, true, F_PA, "PASS s3cret\r\n");
    say(ft, &c, false, F_RA, NULL);
    CHECK_EQ_U(k.n, 1); /* at once, not at the end of the capture */
    CHECK_EQ_U(k.got[0].end_reason, FINDING_END_RST);
    check_sides(&k.got[0], &c);
    check_alice(&k.got[0], FINDING_RESULT_UNKNOWN);

    /* Late packets of the closed flow: absorbed, no second session. */
    say(ft, &c, true, F_PA, "QUIT\r\n");
    say(ft, &c, false, F_R, NULL);
    say(ft, &c, true, F_A, NULL);
    const struct flow_stats *st = flow_get_stats(ft);
    CHECK_EQ_U(st->late_packets, 3);
    CHECK_EQ_U(st->created, 1);
    CHECK_EQ_U(st->ended_rst, 1);
    CHECK_EQ_U(st->active, 0);
    flow_flush_all(ft);
    CHECK_EQ_U(k.n, 1);
    check_consistent(ft, &k, 0);
    flow_table_free(ft);
    CHECK_EQ_U(k.n, 1);
}

/* A reset with no flow behind it starts nothing. */
static void test_stray_rst(void)
{
    struct sink k;
    struct flow_table *ft = table_new(&k, FLOW_MAX_FLOWS, BIGCAP, FLOW_IDLE_SEC);
    struct conn c;
    conn_init(&c, 16, 40006, 110, 1000, 5000);
    say(ft, &c, false, F_R, NULL);
    say(ft, &c, true, F_RA, NULL);
    const struct flow_stats *st = flow_get_stats(ft);
    CHECK_EQ_U(st->created, 0);
    CHECK_EQ_U(st->active, 0);
    check_consistent(ft, &k, 0);
    flow_table_free(ft);
    CHECK_EQ_U(k.n, 0);
}

/* After FIN both ways, data retransmitted late is absorbed; a new SYN on the same port pair
 * starts a new session. */
static void test_late_then_new_syn(void)
{
    struct sink k;
    struct flow_table *ft = table_new(&k, FLOW_MAX_FLOWS, BIGCAP, FLOW_IDLE_SEC);
    struct conn c;
    conn_init(&c, 17, 40007, 110, 1000, 5000);
    handshake(ft, &c);
    login(ft, &c);
    teardown(ft, &c);
    CHECK_EQ_U(k.n, 1);
    /* A retransmission of PASS and of the server's FIN. */
    seg(ft, &c, true, F_PA, 1001 + 12, 5000, "PASS s3cret\r\n", 13, c.ts_usec);
    seg(ft, &c, false, F_FA, c.snext - 1, c.cnext, NULL, 0, c.ts_usec + 1000);
    c.ts_usec += 2000;
    CHECK_EQ_U(flow_get_stats(ft)->late_packets, 2);
    CHECK_EQ_U(flow_get_stats(ft)->created, 1);
    CHECK_EQ_U(k.n, 1);

    /* The same port pair, a new connection. */
    c.cnext = 900000;
    c.snext = 700000;
    handshake(ft, &c);
    say(ft, &c, false, F_PA, "+OK again\r\n");
    say(ft, &c, true, F_PA, "USER bob\r\n");
    say(ft, &c, false, F_PA, "+OK\r\n");
    say(ft, &c, true, F_PA, "PASS hunter2\r\n");
    say(ft, &c, false, F_PA, "+OK\r\n");
    teardown(ft, &c);
    const struct flow_stats *st = flow_get_stats(ft);
    CHECK_EQ_U(k.n, 2);
    CHECK_EQ_U(st->created, 2);
    CHECK_EQ_U(st->ended_fin, 2);
    CHECK_EQ_U(k.got[1].end_reason, FINDING_END_FIN);
    CHECK_EQ_U(k.got[1].n_creds, 1);
    CHECK_MEM(k.got[1].user, k.got[1].user_len, "bob");
    CHECK_MEM(k.got[1].secret, k.got[1].secret_len, "hunter2");
    CHECK_EQ_U(k.got[1].result, FINDING_RESULT_SUCCESS);
    CHECK_EQ_U(k.got[1].bytes_client, strlen("USER bob\r\nPASS hunter2\r\n"));
    check_sides(&k.got[1], &c);
    check_consistent(ft, &k, 0);
    flow_table_free(ft);
    CHECK_EQ_U(k.n, 2);
}

/* A SYN with a new initial sequence number on a flow that never closed: the old session ends
 * and a new one starts (the client reused the port after a close the capture missed). */
static void test_new_syn_on_open_flow(void)
{
    struct sink k;
    struct flow_table *ft = table_new(&k, FLOW_MAX_FLOWS, BIGCAP, FLOW_IDLE_SEC);
    struct conn c;
    conn_init(&c, 18, 40008, 110, 1000, 5000);
    handshake(ft, &c);
    login(ft, &c);
    /* A retransmitted SYN with the same ISN is the same connection. */
    seg(ft, &c, true, F_SYN, 1000, 0, NULL, 0, c.ts_usec);
    CHECK_EQ_U(k.n, 0);
    c.cnext = 2000000;
    c.snext = 3000000;
    handshake(ft, &c);
    CHECK_EQ_U(k.n, 1);
    check_alice(&k.got[0], FINDING_RESULT_SUCCESS);
    say(ft, &c, false, F_PA, "+OK\r\n");
    say(ft, &c, true, F_PA, "USER carol\r\n");
    flow_flush_all(ft);
    CHECK_EQ_U(k.n, 2);
    CHECK_EQ_U(k.got[1].end_reason, FINDING_END_CAPTURE);
    CHECK_EQ_U(k.got[1].n_creds, 0);
    CHECK_EQ_U(k.got[1].bytes_client, strlen("USER carol\r\n"));
    CHECK_EQ_U(flow_get_stats(ft)->created, 2);
    check_consistent(ft, &k, 1);
    flow_table_free(ft);
}

static void test_no_payload(void)
{
    struct sink k;
    struct flow_table *ft = table_new(&k, FLOW_MAX_FLOWS, BIGCAP, FLOW_IDLE_SEC);
    struct conn c;
    conn_init(&c, 19, 40009, 110, 1000, 5000);
    handshake(ft, &c);
    teardown(ft, &c);
    say(ft, &c, true, F_A, NULL);
    const struct flow_stats *st = flow_get_stats(ft);
    CHECK_EQ_U(k.n, 0);
    CHECK_EQ_U(st->sessions_empty, 1);
    CHECK_EQ_U(st->sessions_emitted, 0);
    CHECK_EQ_U(st->ended_fin, 1);
    CHECK_EQ_U(st->late_packets, 1);
    /* And one that is still open at the end. */
    struct conn d;
    conn_init(&d, 20, 40010, 110, 1000, 5000);
    handshake(ft, &d);
    flow_flush_all(ft);
    CHECK_EQ_U(k.n, 0);
    CHECK_EQ_U(st->sessions_empty, 2);
    check_consistent(ft, &k, 1);
    flow_table_free(ft);
    CHECK_EQ_U(k.n, 0);
}

static void test_not_mail(void)
{
    struct sink k;
    struct flow_table *ft = table_new(&k, FLOW_MAX_FLOWS, BIGCAP, FLOW_IDLE_SEC);
    size_t mem0 = flow_get_stats(ft)->mem_used;
    struct conn c;
    conn_init(&c, 21, 40011, 8000, 1000, 5000);
    handshake(ft, &c);
    login(ft, &c); /* POP3 words on no registry port: still not mail by port */
    teardown(ft, &c);
    const struct flow_stats *st = flow_get_stats(ft);
    CHECK_EQ_U(st->not_mail_segments, 10);
    CHECK_EQ_U(st->created, 0);
    CHECK_EQ_U(st->active, 0);
    CHECK_EQ_U(st->late_packets, 0);
    CHECK_EQ_U(st->mem_used, mem0);
    flow_flush_all(ft);
    CHECK_EQ_U(k.n, 0);
    CHECK_EQ_U(st->sessions_empty, 0);
    check_consistent(ft, &k, 0);
    flow_table_free(ft);
    CHECK_EQ_U(k.n, 0);
}

/* Segments of one stream out of order: PASS before USER still gives the credential. */
static void test_out_of_order(void)
{
    struct sink k;
    struct flow_table *ft = table_new(&k, FLOW_MAX_FLOWS, BIGCAP, FLOW_IDLE_SEC);
    struct conn c;
    conn_init(&c, 22, 40012, 110, 1000, 5000);
    handshake(ft, &c);
    say(ft, &c, false, F_PA, "+OK POP3 ready\r\n");
    uint32_t user_seq = c.cnext;
    uint32_t pass_seq = user_seq + 12;
    size_t mem_before = flow_get_stats(ft)->mem_used;
    seg(ft, &c, true, F_PA, pass_seq, c.snext, "PASS s3cret\r\n", 13, c.ts_usec);
    CHECK_EQ_U(flow_get_reasm_stats(ft)->ooo_queued, 1);
    CHECK(flow_get_stats(ft)->mem_used > mem_before); /* the queued copy is charged */
    seg(ft, &c, true, F_PA, user_seq, c.snext, "USER alice\r\n", 12, c.ts_usec + 1000);
    c.cnext = pass_seq + 13;
    c.ts_usec += 2000;
    say(ft, &c, false, F_PA, "+OK\r\n+OK logged in\r\n");
    teardown(ft, &c);
    CHECK_EQ_U(k.n, 1);
    check_alice(&k.got[0], FINDING_RESULT_SUCCESS);
    CHECK_EQ_U(k.got[0].gaps, 0);
    CHECK_EQ_U(k.got[0].bytes_client, 25);
    CHECK_EQ_U(flow_get_reasm_stats(ft)->gaps, 0);
    check_consistent(ft, &k, 0);
    flow_table_free(ft);
}

static void test_ipv6(void)
{
    struct sink k;
    struct flow_table *ft = table_new(&k, FLOW_MAX_FLOWS, BIGCAP, FLOW_IDLE_SEC);
    struct conn c;
    conn_init6(&c, 40013, 1000, 5000);
    handshake(ft, &c);
    login(ft, &c);
    teardown(ft, &c);
    CHECK_EQ_U(k.n, 1);
    check_sides(&k.got[0], &c);
    check_alice(&k.got[0], FINDING_RESULT_SUCCESS);
    CHECK_EQ_U(k.got[0].ip_version, 6);
    CHECK_EQ_U(k.got[0].end_reason, FINDING_END_FIN);
    /* An IPv4 flow with the same leading address bytes and ports is another flow. */
    struct conn d = c;
    d.ip_version = 4;
    memset(d.cip + 4, 0, 12);
    memset(d.sip + 4, 0, 12);
    d.cnext = 1;
    d.snext = 1;
    login(ft, &d);
    CHECK_EQ_U(flow_get_stats(ft)->created, 2);
    CHECK_EQ_U(flow_get_stats(ft)->late_packets, 0);
    flow_flush_all(ft);
    CHECK_EQ_U(k.n, 2);
    CHECK_EQ_U(k.got[1].ip_version, 4);
    check_consistent(ft, &k, 1);
    flow_table_free(ft);
}

/* Both directions' sequence numbers wrap past 2^32 inside the login. */
static void test_seq_wrap(void)
{
    struct sink k;
    struct flow_table *ft = table_new(&k, FLOW_MAX_FLOWS, BIGCAP, FLOW_IDLE_SEC);
    struct conn c;
    conn_init(&c, 23, 40014, 110, 0xfffffff5u, 0xfffffff0u);
    handshake(ft, &c);
    login(ft, &c);
    teardown(ft, &c);
    CHECK(c.cnext < 0x100u && c.snext < 0x100u); /* both wrapped */
    CHECK_EQ_U(k.n, 1);
    check_alice(&k.got[0], FINDING_RESULT_SUCCESS);
    CHECK_EQ_U(k.got[0].gaps, 0);
    CHECK_EQ_U(k.got[0].bytes_client, 25);
    CHECK_EQ_U(k.got[0].end_reason, FINDING_END_FIN);
    check_consistent(ft, &k, 0);
    flow_table_free(ft);
}

/* Port 995 speaks TLS from the first byte: a session, but nothing read as POP3. */
static void test_implicit_tls(void)
{
    static const uint8_t hello[] = { 0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x00, 0x00, 0x00 };
    struct sink k;
    struct flow_table *ft = table_new(&k, FLOW_MAX_FLOWS, BIGCAP, FLOW_IDLE_SEC);
    struct conn c;
    conn_init(&c, 28, 40019, 995, 1000, 5000);
    handshake(ft, &c);
    seg(ft, &c, true, F_PA, c.cnext, c.snext, hello, sizeof hello, c.ts_usec);
    c.cnext += (uint32_t)sizeof hello;
    c.ts_usec += 1000;
    say(ft, &c, true, F_PA, "USER alice\r\nPASS s3cret\r\n"); /* inside TLS: not a login */
    /* The server's first record starts the sniffer: its buffer is charged while it waits for
     * the rest of the ServerHello, and released when the session ends. */
    static const uint8_t part[] = { 0x16, 0x03, 0x03, 0x00, 0x40, 0x02 };
    size_t mem_before = flow_get_stats(ft)->mem_used;
    seg(ft, &c, false, F_PA, c.snext, c.cnext, part, sizeof part, c.ts_usec);
    c.snext += (uint32_t)sizeof part;
    c.ts_usec += 1000;
    CHECK(flow_get_parse_stats(ft)->tls_mem > TLSSNIFF_MAX_BYTES);
    CHECK(flow_get_stats(ft)->mem_used >= mem_before + TLSSNIFF_MAX_BYTES);
    teardown(ft, &c);
    CHECK_EQ_U(flow_get_parse_stats(ft)->tls_mem, 0);
    CHECK_EQ_U(k.n, 1);
    CHECK_EQ_U(k.got[0].tls, FINDING_TLS_IMPLICIT);
    CHECK_EQ_U(k.got[0].n_creds, 0);
    CHECK_EQ_U(k.got[0].server_port, 995);
    check_consistent(ft, &k, 0);
    flow_table_free(ft);
}

/* A segment the snap length cut: the missing bytes are a gap, and the login after it is
 * still found. */
static void test_snaplen_cut(void)
{
    struct sink k;
    struct flow_table *ft = table_new(&k, FLOW_MAX_FLOWS, BIGCAP, FLOW_IDLE_SEC);
    struct conn c;
    conn_init(&c, 29, 40020, 110, 1000, 5000);
    handshake(ft, &c);
    say(ft, &c, false, F_PA, "+OK POP3 ready\r\n");
    /* 100 bytes on the wire, 10 captured. */
    static const char cut[] = "NOOP xxxxx";
    struct pkt p;
    memset(&p, 0, sizeof p);
    p.ts_usec = c.ts_usec;
    p.ip_version = 4;
    p.tcp_flags = F_PA;
    memcpy(p.src, c.cip, 16);
    memcpy(p.dst, c.sip, 16);
    p.sport = c.cport;
    p.dport = c.sport;
    p.seq = c.cnext;
    p.ack = c.snext;
    p.payload = (const uint8_t *)cut;
    p.payload_len = sizeof cut - 1;
    p.seg_len = 100;
    flow_packet(ft, &p);
    c.cnext += 100;
    c.ts_usec += 1000;
    say(ft, &c, true, F_PA, "\r\nUSER alice\r\n");
    say(ft, &c, false, F_PA, "+OK\r\n");
    say(ft, &c, true, F_PA, "PASS s3cret\r\n");
    say(ft, &c, false, F_PA, "+OK\r\n");
    teardown(ft, &c);
    CHECK_EQ_U(k.n, 1);
    CHECK_EQ_U(k.got[0].gaps, 1);
    CHECK_EQ_U(k.got[0].n_creds, 1);
    CHECK_MEM(k.got[0].user, k.got[0].user_len, "alice");
    CHECK_MEM(k.got[0].secret, k.got[0].secret_len, "s3cret");
    check_consistent(ft, &k, 0);
    flow_table_free(ft);
}

/* ---- time ---- */

static void test_idle_flow_expire(void)
{
    struct sink k;
    struct flow_table *ft = table_new(&k, FLOW_MAX_FLOWS, BIGCAP, FLOW_IDLE_SEC);
    struct conn c;
    conn_init(&c, 24, 40015, 110, 1000, 5000);
    say(ft, &c, true, F_PA, "USER alice\r\n");
    uint64_t last = c.ts_usec - 1000;
    /* Exactly idle_sec after the last packet is not yet idle; one microsecond more is. */
    flow_expire(ft, last + (uint64_t)FLOW_IDLE_SEC * USEC);
    CHECK_EQ_U(k.n, 0);
    CHECK_EQ_U(flow_get_stats(ft)->active, 1);
    flow_expire(ft, last + (uint64_t)FLOW_IDLE_SEC * USEC + 1);
    CHECK_EQ_U(k.n, 1);
    CHECK_EQ_U(k.got[0].end_reason, FINDING_END_IDLE);
    CHECK_EQ_U(k.got[0].bytes_client, 12);
    const struct flow_stats *st = flow_get_stats(ft);
    CHECK_EQ_U(st->ended_idle, 1);
    CHECK_EQ_U(st->active, 0);
    /* A clock that goes back changes nothing. */
    flow_expire(ft, T0);
    CHECK_EQ_U(k.n, 1);
    check_consistent(ft, &k, 0);
    flow_table_free(ft);
    CHECK_EQ_U(k.n, 1);
}

/* Packet time alone ends idle flows: another flow's packet is the clock. */
static void test_idle_packet_time(void)
{
    struct sink k;
    struct flow_table *ft = table_new(&k, FLOW_MAX_FLOWS, BIGCAP, 5);
    struct conn a, b;
    conn_init(&a, 25, 40016, 110, 1000, 5000);
    conn_init(&b, 26, 40017, 110, 1000, 5000);
    say(ft, &a, true, F_PA, "USER alice\r\n");
    b.ts_usec = T0 + 4 * USEC;
    say(ft, &b, true, F_PA, "USER bob\r\n");
    CHECK_EQ_U(k.n, 0);
    /* 5 s after a's packet plus expiry's own interval: a is gone, b is not. */
    b.ts_usec = T0 + 5 * USEC + FLOW_EXPIRE_INTERVAL_USEC + 1;
    say(ft, &b, false, F_PA, "+OK\r\n");
    CHECK_EQ_U(k.n, 1);
    CHECK_EQ_U(k.got[0].end_reason, FINDING_END_IDLE);
    CHECK_EQ_U(k.got[0].client_port, 40016);
    CHECK_EQ_U(flow_get_stats(ft)->ended_idle, 1);
    CHECK_EQ_U(flow_get_stats(ft)->active, 1);
    /* A non-mail packet moves time on as well. */
    struct conn web;
    conn_init(&web, 27, 40018, 8000, 1, 1);
    web.ts_usec = b.ts_usec + 10 * USEC;
    say(ft, &web, true, F_PA, "GET / HTTP/1.0\r\n");
    CHECK_EQ_U(k.n, 2);
    CHECK_EQ_U(k.got[1].end_reason, FINDING_END_IDLE);
    CHECK_EQ_U(k.got[1].client_port, 40017);
    CHECK_EQ_U(flow_get_stats(ft)->ended_idle, 2);
    CHECK_EQ_U(flow_get_stats(ft)->not_mail_segments, 1);
    /* a's port pair after the linger time: a new flow, not a late packet. */
    a.ts_usec = web.ts_usec + (uint64_t)FLOW_CLOSED_LINGER_SEC * USEC + 2 * USEC;
    say(ft, &a, true, F_PA, "PASS late\r\n");
    CHECK_EQ_U(flow_get_stats(ft)->created, 3);
    CHECK_EQ_U(flow_get_stats(ft)->late_packets, 0);
    check_consistent(ft, &k, 0);
    flow_table_free(ft);
    CHECK_EQ_U(k.n, 3);
    CHECK_EQ_U(k.got[2].end_reason, FINDING_END_CAPTURE);
}

/* ---- limits ---- */

static void test_max_flows(void)
{
    struct sink k;
    struct flow_table *ft = table_new(&k, 3, BIGCAP, FLOW_IDLE_SEC);
    struct conn c[5];
    const struct flow_stats *st = flow_get_stats(ft);
    for (int i = 0; i < 5; i++) {
        conn_init(&c[i], (uint8_t)(30 + i), (uint16_t)(41000 + i), 110, 1000, 5000);
        c[i].ts_usec = T0 + (uint64_t)i * 1000;
        say(ft, &c[i], true, F_PA, "USER alice\r\n");
        CHECK(st->active <= 3);
    }
    CHECK_EQ_U(st->created, 5);
    CHECK_EQ_U(st->evicted, 2);
    CHECK_EQ_U(st->active, 3);
    CHECK_EQ_U(st->active_max, 3);
    CHECK_EQ_U(k.n, 2);
    /* Least recently seen first. */
    CHECK_EQ_U(k.got[0].client_port, 41000);
    CHECK_EQ_U(k.got[1].client_port, 41001);
    CHECK_EQ_U(k.got[0].end_reason, FINDING_END_EVICTED);
    CHECK_EQ_U(k.got[1].end_reason, FINDING_END_EVICTED);
    CHECK_EQ_U(k.got[0].bytes_client, 12);
    check_consistent(ft, &k, 0);
    flow_flush_all(ft);
    CHECK_EQ_U(k.n, 5);
    for (size_t i = 2; i < 5; i++) {
        CHECK_EQ_U(k.got[i].end_reason, FINDING_END_CAPTURE);
    }
    check_consistent(ft, &k, 3);
    flow_table_free(ft);
}

/* The flow touched last is kept even if it was created first. */
static void test_max_flows_lru(void)
{
    struct sink k;
    struct flow_table *ft = table_new(&k, 3, BIGCAP, FLOW_IDLE_SEC);
    struct conn c[4];
    for (int i = 0; i < 4; i++) {
        conn_init(&c[i], (uint8_t)(40 + i), (uint16_t)(42000 + i), 110, 1000, 5000);
    }
    for (int i = 0; i < 3; i++) {
        c[i].ts_usec = T0 + (uint64_t)i * 1000;
        say(ft, &c[i], true, F_PA, "USER alice\r\n");
    }
    c[0].ts_usec = T0 + 10000;
    say(ft, &c[0], false, F_PA, "+OK\r\n");
    c[3].ts_usec = T0 + 20000;
    say(ft, &c[3], true, F_PA, "USER dave\r\n");
    CHECK_EQ_U(k.n, 1);
    CHECK_EQ_U(k.got[0].client_port, 42001);
    CHECK_EQ_U(k.got[0].end_reason, FINDING_END_EVICTED);
    CHECK_EQ_U(flow_get_stats(ft)->evicted, 1);
    check_consistent(ft, &k, 0);
    flow_table_free(ft);
    CHECK_EQ_U(k.n, 4);
}

/* Closed flows (tombstones) count against max_flows but go first, and silently. */
static void test_max_flows_tombstone_first(void)
{
    struct sink k;
    struct flow_table *ft = table_new(&k, 2, BIGCAP, FLOW_IDLE_SEC);
    struct conn a, b, c;
    conn_init(&a, 50, 43000, 110, 1000, 5000);
    conn_init(&b, 51, 43001, 110, 1000, 5000);
    conn_init(&c, 52, 43002, 110, 1000, 5000);
    b.ts_usec = T0 + 5000;
    c.ts_usec = T0 + 100000;
    say(ft, &b, true, F_PA, "USER bob\r\n");
    handshake(ft, &a);
    login(ft, &a);
    teardown(ft, &a); /* a is closed now, b is older but active */
    CHECK_EQ_U(k.n, 1);
    say(ft, &c, true, F_PA, "USER carol\r\n");
    const struct flow_stats *st = flow_get_stats(ft);
    CHECK_EQ_U(st->evicted, 0);
    CHECK_EQ_U(st->active, 2);
    CHECK_EQ_U(k.n, 1);
    check_consistent(ft, &k, 0);
    flow_table_free(ft);
    CHECK_EQ_U(k.n, 3);
}

/* Bytes one flow is charged, and the table's own floor (which depends on max_flows), from a
 * table with room to spare. */
static void measure(size_t max_flows, size_t *floor_out, size_t *charge_out)
{
    struct sink k;
    struct flow_table *ft = table_new(&k, max_flows, BIGCAP, FLOW_IDLE_SEC);
    *floor_out = flow_get_stats(ft)->mem_used;
    struct conn c;
    conn_init(&c, 60, 44000, 110, 1000, 5000);
    say(ft, &c, true, F_PA, "USER alice\r\n");
    *charge_out = flow_get_stats(ft)->mem_used - *floor_out;
    flow_table_free(ft);
}

/* Sends n out-of-order client segments of len bytes each, ahead of a hole. */
static void send_ooo(struct flow_table *ft, struct conn *c, int n, size_t len, size_t cap,
                     uint64_t *over)
{
    static uint8_t junk[1400];
    memset(junk, 'x', sizeof junk);
    for (int i = 0; i < n; i++) {
        uint32_t seq = c->cnext + 100 + (uint32_t)((size_t)i * (len + 10));
        seg(ft, c, true, F_PA, seq, c->snext, junk, len, c->ts_usec);
        c->ts_usec += 1000;
        if (flow_get_stats(ft)->mem_used > cap) {
            (*over)++;
        }
    }
}

/* mem_used never passes memcap_bytes, whatever takes the memory: flow state or queues. */
static void test_memcap(void)
{
    size_t floor = 0, charge = 0;
    measure(FLOW_MAX_FLOWS, &floor, &charge);
    CHECK(charge > 0);
    size_t cap = floor + 3 * charge + charge / 2;

    struct sink k;
    struct flow_table *ft = table_new(&k, FLOW_MAX_FLOWS, cap, FLOW_IDLE_SEC);
    const struct flow_stats *st = flow_get_stats(ft);
    CHECK_EQ_U(st->mem_used, floor);
    struct conn c[8];
    uint64_t over = 0;
    for (int i = 0; i < 8; i++) {
        conn_init(&c[i], (uint8_t)(70 + i), (uint16_t)(45000 + i), 110, 1000, 5000);
        c[i].ts_usec = T0 + (uint64_t)i * USEC;
        say(ft, &c[i], true, F_PA, "USER alice\r\n");
        if (st->mem_used > cap) {
            over++;
        }
        send_ooo(ft, &c[i], 20, 1000, cap, &over);
        CHECK(st->active <= 3);
    }
    CHECK_EQ_U(over, 0);
    CHECK(st->mem_used_max <= cap);
    CHECK(st->evicted >= 5);
    CHECK_EQ_U(st->created, 8);
    CHECK_EQ_U(k.n, st->evicted);
    for (size_t i = 0; i < k.n && i < KEEP; i++) {
        CHECK_EQ_U(k.got[i].end_reason, FINDING_END_EVICTED);
    }
    check_consistent(ft, &k, 0);

    uint64_t active = st->active;
    flow_flush_all(ft);
    check_consistent(ft, &k, active);
    /* What is left: the table and the tombstones, which go after the linger time. */
    CHECK(st->mem_used < floor + charge);
    flow_expire(ft, c[7].ts_usec + (uint64_t)FLOW_CLOSED_LINGER_SEC * USEC + USEC);
    CHECK_EQ_U(st->mem_used, floor);
    flow_table_free(ft);
}

/* A cap below what a single flow needs: still no crash, and the counters stay right. */
static void test_memcap_tiny(void)
{
    struct sink k;
    struct flow_table *ft = table_new(&k, FLOW_MAX_FLOWS, 1, FLOW_IDLE_SEC);
    struct conn c[3];
    for (int i = 0; i < 3; i++) {
        conn_init(&c[i], (uint8_t)(80 + i), (uint16_t)(46000 + i), 110, 1000, 5000);
        say(ft, &c[i], true, F_PA, "USER alice\r\n");
        CHECK(flow_get_stats(ft)->active <= 1);
    }
    CHECK_EQ_U(flow_get_stats(ft)->evicted, 2);
    check_consistent(ft, &k, 0);
    flow_table_free(ft);
    CHECK_EQ_U(k.n, 3);
}

static void test_table_free_emits(void)
{
    struct sink k;
    struct flow_table *ft = table_new(&k, FLOW_MAX_FLOWS, BIGCAP, FLOW_IDLE_SEC);
    struct conn a, b;
    conn_init(&a, 90, 47000, 110, 1000, 5000);
    conn_init(&b, 91, 47001, 110, 1000, 5000);
    handshake(ft, &a);
    login(ft, &a);
    handshake(ft, &b);
    login(ft, &b);
    teardown(ft, &b);
    CHECK_EQ_U(k.n, 1);
    CHECK_EQ_U(k.got[0].end_reason, FINDING_END_FIN);
    flow_table_free(ft);
    CHECK_EQ_U(k.n, 2);
    CHECK_EQ_U(k.got[1].end_reason, FINDING_END_CAPTURE);
    CHECK_EQ_U(k.got[1].client_port, 47000);
    check_alice(&k.got[1], FINDING_RESULT_SUCCESS);
    flow_table_free(NULL);
}

/* ---- stress ---- */

static uint64_t rng_state;

static uint64_t rng(void)
{
    /* xorshift64*: fixed seed, so a failure reproduces. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static uint32_t rnd(uint32_t n)
{
    return (uint32_t)(rng() % n);
}

#define STRESS_TUPLES  3000
#define STRESS_PACKETS 60000
#define STRESS_FLOWS   40

static size_t pop3ish(uint8_t *buf, size_t cap)
{
    static const char *const words[] = {
        "USER alice\r\n",
        "PASS s3cret\r\n",
        "+OK\r\n",
        "-ERR no\r\n",
        "+OK ready\r\n",
        "CAPA\r\n",
        "STLS\r\n",
        ".\r\n",
        "AUTH PLAIN\r\n",
        "+ \r\n",
        "AGFsaWNlAHB3\r\n",
        "APOP a 0123\r\n",
        "RETR 1\r\n",
        "QUIT\r\n",
        "\r\n",
        "PASS ",
    };
    size_t len = 0;
    if (rnd(20) == 0) {
        size_t n = rnd((uint32_t)cap);
        for (size_t i = 0; i < n; i++) {
            buf[i] = (uint8_t)rng();
        }
        return n;
    }
    size_t want = rnd(600);
    while (len < want) {
        const char *w = words[rnd(sizeof words / sizeof words[0])];
        size_t n = strlen(w);
        if (n > cap - len) {
            break;
        }
        memcpy(buf + len, w, n);
        len += n;
    }
    return len;
}

/* Random segments on a small table. With nDPI (cls active) some flows are on other ports and
 * may be held, named or given up on; those end without a counter of their own, so the exact
 * bookkeeping identity is checked in port-only mode. */
static void stress_run(struct classify *cls, uint32_t n_packets, uint64_t seed)
{
    static const uint8_t flag_set[] = { F_SYN, F_SA, F_A, F_PA, F_PA, F_PA, F_PA, F_FA, F_R, F_RA };
    static const uint16_t other_ports[] = { 995, 8080, 8110, 9999 };
    bool is_ndpi = cls != NULL && classify_is_active(cls);
    struct conn *tup = calloc(STRESS_TUPLES, sizeof *tup);
    CHECK(tup != NULL);
    if (tup == NULL) {
        return;
    }
    size_t floor = 0, charge = 0;
    measure(STRESS_FLOWS, &floor, &charge);
    size_t cap = floor + 12 * charge;
    rng_state = seed;
    for (uint32_t i = 0; i < STRESS_TUPLES; i++) {
        uint16_t sport = rnd(5) == 0 ? other_ports[rnd(4)] : 110;
        conn_init(&tup[i], (uint8_t)(i % 200 + 1), (uint16_t)(1024 + i), sport, (uint32_t)rng(),
                  (uint32_t)rng());
        tup[i].cip[2] = (uint8_t)(i / 200);
        if (rnd(8) == 0) {
            tup[i].ip_version = 6;
            tup[i].cip[15] = 0x77;
        }
    }

    struct sink k;
    struct flow_table *ft = table_new_cls(&k, STRESS_FLOWS, cap, 20, cls);
    const struct flow_stats *st = flow_get_stats(ft);
    uint64_t now = T0;
    uint64_t over_cap = 0, over_flows = 0, inconsistent = 0;
    uint8_t buf[1500];
    uint32_t hot = 0;
    for (uint32_t n = 0; n < n_packets; n++) {
        if (rnd(50) == 0) {
            hot = rnd(STRESS_TUPLES - 30);
        }
        struct conn *c = &tup[rnd(4) == 0 ? rnd(STRESS_TUPLES) : hot + rnd(30)];
        bool from_client = rnd(2) == 0;
        uint8_t flags = rnd(10) == 0 ? (uint8_t)(rng() & 0x3f) : flag_set[rnd(sizeof flag_set)];
        size_t len = (flags & (DECODE_TCP_SYN | DECODE_TCP_RST)) != 0 && rnd(4) != 0
                         ? 0
                         : pop3ish(buf, sizeof buf);
        uint32_t *next = from_client ? &c->cnext : &c->snext;
        uint32_t seq = *next;
        uint32_t r = rnd(20);
        if (r < 3) {
            seq += rnd(5000); /* ahead: a hole */
        } else if (r < 5) {
            seq -= rnd(3000); /* behind: retransmission or overlap */
        } else if (r == 5) {
            seq = (uint32_t)rng();
        } else {
            *next += (uint32_t)len;
        }
        uint32_t ack = rnd(10) == 0 ? (uint32_t)rng() : (from_client ? c->snext : c->cnext);
        now += rnd(100) == 0 ? (uint64_t)rnd(60) * USEC : rnd(20000);
        uint64_t ts = rnd(50) == 0 ? now - rnd(5000000) : now; /* sometimes from the past */
        seg(ft, c, from_client, flags, seq, ack, buf, len, ts);
        if (rnd(500) == 0) {
            flow_expire(ft, now);
        }
        if (st->mem_used > cap) {
            over_cap++;
        }
        if (st->active > STRESS_FLOWS) {
            over_flows++;
        }
        uint64_t ended = st->created - st->active;
        if (st->sessions_emitted != k.n || st->sessions_emitted + st->sessions_empty > ended ||
            (!is_ndpi && (ended != st->ended_fin + st->ended_rst + st->ended_idle + st->evicted ||
                          st->sessions_emitted + st->sessions_empty != ended))) {
            inconsistent++;
        }
    }
    CHECK_EQ_U(over_cap, 0);
    CHECK_EQ_U(over_flows, 0);
    CHECK_EQ_U(inconsistent, 0);
    CHECK(st->created > 1000);
    CHECK(st->evicted > 0);
    CHECK(st->ended_rst > 0);
    CHECK(st->late_packets > 0);
    CHECK(st->sessions_emitted > 0);
    CHECK(flow_get_reasm_stats(ft)->ooo_queued > 0);
    CHECK(st->active_max <= STRESS_FLOWS);
    CHECK(is_ndpi || st->not_mail_segments > 0);
    uint64_t active = st->active;
    flow_flush_all(ft);
    CHECK_EQ_U(st->active, 0);
    if (!is_ndpi) {
        check_consistent(ft, &k, active);
    }
    flow_expire(ft, now + (uint64_t)FLOW_CLOSED_LINGER_SEC * USEC + 10 * USEC);
    CHECK_EQ_U(st->mem_used, floor);
    uint64_t emitted = k.n;
    flow_table_free(ft);
    CHECK_EQ_U(k.n, emitted);
    free(tup);
}

static void test_stress(void)
{
    stress_run(NULL, STRESS_PACKETS, 0x5eed5eed12345678ull);
}

/* ---- nDPI: mail on other ports ---- */

/* Runs one case in a child process, so that a sanitizer report (which ends the process) fails
 * that case instead of ending the binary before its summary line. */
static void run_isolated(void (*fn)(void), const char *name)
{
    fflush(stdout);
    fflush(stderr);
    test_case_failed = 0;
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        test_case_failed = 1;
    } else if (pid == 0) {
        fn();
        exit(test_case_failed ? 1 : 0);
    } else {
        int status = 0;
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "%s: the child process failed (status 0x%x)\n", name, (unsigned)status);
            test_case_failed = 1;
        }
    }
    CASE_DONE(name);
}

#define RUN_ISOLATED(fn) run_isolated(fn, #fn)

static struct classify *ndpi_new(void)
{
    struct classify *cls = classify_new(true);
    CHECK(cls != NULL);
    CHECK(cls == NULL || classify_is_active(cls));
    return cls;
}

/* POP3 on port 8110: held while nDPI looks, replayed into a session when it names POP3. */
static void test_ndpi_pop3_other_port(void)
{
    struct classify *cls = ndpi_new();
    if (cls == NULL) {
        return;
    }
    struct sink k;
    struct flow_table *ft = table_new_cls(&k, FLOW_MAX_FLOWS, BIGCAP, FLOW_IDLE_SEC, cls);
    struct conn c;
    conn_init(&c, 100, 48000, 8110, 1000, 5000);
    handshake(ft, &c);
    login(ft, &c);
    CHECK_EQ_U(flow_get_stats(ft)->classified_mail, 1);
    CHECK_EQ_U(k.n, 0);
    teardown(ft, &c);
    CHECK_EQ_U(k.n, 1);
    check_sides(&k.got[0], &c);
    check_alice(&k.got[0], FINDING_RESULT_SUCCESS);
    CHECK_EQ_U(k.got[0].end_reason, FINDING_END_FIN);
    CHECK_EQ_U(k.got[0].packets, 10); /* the replayed ones too */
    CHECK_EQ_U(k.got[0].ts_start_usec, T0);
    CHECK_EQ_U(k.got[0].bytes_client, strlen("USER alice\r\nPASS s3cret\r\n"));
    const struct flow_stats *st = flow_get_stats(ft);
    CHECK_EQ_U(st->created, 1);
    CHECK_EQ_U(st->ended_fin, 1);
    CHECK_EQ_U(st->sessions_emitted, 1);
    CHECK_EQ_U(st->not_mail_segments, 0);
    CHECK_EQ_U(classify_get_stats(cls)->gave_up, 0);
    flow_table_free(ft);
    CHECK_EQ_U(k.n, 1);
    classify_free(cls);
}

/* A flow seen mid-stream whose first payload is a TLS record is not mail, decided without
 * nDPI (a lazy classifier never starts it); one whose first payload is text still goes to
 * nDPI. */
static void test_midstream_tls_skips_ndpi(void)
{
    struct classify *cls = classify_new_lazy();
    struct sink k;
    struct flow_table *ft = table_new_cls(&k, FLOW_MAX_FLOWS, BIGCAP, FLOW_IDLE_SEC, cls);
    struct conn c;
    conn_init(&c, 111, 48011, 8443, 1000, 5000);
    static const char record[] = "\x17\x03\x03\x01\x20 ciphertext bytes";
    say(ft, &c, true, F_PA, record);
    say(ft, &c, false, F_PA, record);
    const struct flow_stats *st = flow_get_stats(ft);
    CHECK_EQ_U(classify_get_stats(cls)->tls_midstream, 1);
    CHECK_EQ_U(st->created, 1);
    CHECK(st->not_mail_segments >= 1);
    CHECK_EQ_U(classify_get_stats(cls)->ndpi_started, 0);
    conn_init(&c, 112, 48012, 8443, 1000, 5000);
    say(ft, &c, true, F_PA, "\x15 not a record");
    CHECK_EQ_U(classify_get_stats(cls)->tls_midstream, 1);
    CHECK_EQ_U(classify_get_stats(cls)->ndpi_started, 1);
    flow_table_free(ft);
    CHECK_EQ_U(k.n, 0);
    classify_free(cls);
}

/* Begun before the capture: a credential the server never took part in (no challenge, no
 * verdict) may be message text read as a command and is not reported; one whose exchange the
 * server answered with a challenge is, its result unknown. */
static void test_midstream_unanswered(void)
{
    struct sink k;
    struct flow_table *ft = table_new(&k, FLOW_MAX_FLOWS, BIGCAP, FLOW_IDLE_SEC);
    struct conn c;
    conn_init(&c, 113, 48013, 25, 1000, 5000);
    say(ft, &c, true, F_PA, "Subject: notes\r\n\r\nAUTH PLAIN AGFsaWNlAHMzY3JldA==\r\n");
    teardown(ft, &c);
    conn_init(&c, 114, 48014, 25, 1000, 5000);
    say(ft, &c, true, F_PA, "AUTH LOGIN\r\n");
    say(ft, &c, false, F_PA, "334 VXNlcm5hbWU6\r\n");
    say(ft, &c, true, F_PA, "YWxpY2U=\r\n");
    say(ft, &c, false, F_PA, "334 UGFzc3dvcmQ6\r\n");
    say(ft, &c, true, F_PA, "czNjcmV0\r\n");
    teardown(ft, &c);
    CHECK_EQ_U(k.n, 2);
    CHECK_EQ_U(k.got[0].n_creds, 0);
    CHECK_EQ_U(k.got[1].n_creds, 1);
    CHECK(strcmp(k.got[1].mech, "LOGIN") == 0);
    CHECK_MEM(k.got[1].user, k.got[1].user_len, "alice");
    CHECK_EQ_U(k.got[1].result, FINDING_RESULT_UNKNOWN);
    CHECK_EQ_U(flow_get_parse_stats(ft)->midstream_unanswered, 1);
    flow_table_free(ft);
}

/* SMTP on another port whose greeting and EHLO come a few bytes per segment: the greeting
 * rules wait for them (more segments than nDPI is given) and the session is found. */
static void test_smtp_greeting_in_pieces(void)
{
    struct classify *cls = classify_new_lazy();
    struct sink k;
    struct flow_table *ft = table_new_cls(&k, FLOW_MAX_FLOWS, BIGCAP, FLOW_IDLE_SEC, cls);
    struct conn c;
    conn_init(&c, 110, 48010, 10025, 1000, 5000);
    handshake(ft, &c);
    static const char *const greeting[] = { "220 mail.", "exam", "ple.n", "et ES", "MTP P", "ost",
                                            "fix (",     "Deb",  "ian)",  "\r",    "\n" };
    for (size_t i = 0; i < sizeof greeting / sizeof greeting[0]; i++) {
        say(ft, &c, false, F_PA, greeting[i]);
    }
    say(ft, &c, true, F_PA, "EH");
    say(ft, &c, true, F_PA, "LO lapt");
    say(ft, &c, true, F_PA, "op\r\n");
    CHECK_EQ_U(flow_get_stats(ft)->classified_mail, 1);
    say(ft, &c, false, F_PA, "250-mail.example.net\r\n250 AUTH PLAIN LOGIN\r\n");
    say(ft, &c, true, F_PA, "AUTH PLAIN AGFsaWNlAHMzY3JldA==\r\n");
    say(ft, &c, false, F_PA, "235 2.7.0 Authentication successful\r\n");
    teardown(ft, &c);
    CHECK_EQ_U(k.n, 1);
    CHECK(k.got[0].protocol != NULL && strcmp(k.got[0].protocol, "smtp") == 0);
    CHECK(strcmp(k.got[0].mech, "PLAIN") == 0);
    CHECK_MEM(k.got[0].user, k.got[0].user_len, "alice");
    CHECK_EQ_U(k.got[0].result, FINDING_RESULT_SUCCESS);
    CHECK_EQ_U(classify_get_stats(cls)->gave_up, 0);
    flow_table_free(ft);
    classify_free(cls);
}

/* A lazy classifier leaves nDPI alone while the port and the greeting rules judge every flow
 * (POP3 on 110, POP3 on 8110 with its handshake seen), and starts it for the first flow seen
 * mid-stream, which it then names POP3. */
static void test_ndpi_lazy(void)
{
    struct classify *cls = classify_new_lazy();
    CHECK(cls != NULL && classify_is_active(cls));
    struct sink k;
    struct flow_table *ft = table_new_cls(&k, FLOW_MAX_FLOWS, BIGCAP, FLOW_IDLE_SEC, cls);
    struct conn c;
    conn_init(&c, 107, 48007, 110, 1000, 5000);
    handshake(ft, &c);
    login(ft, &c);
    teardown(ft, &c);
    conn_init(&c, 108, 48008, 8110, 1000, 5000);
    handshake(ft, &c);
    login(ft, &c);
    teardown(ft, &c);
    CHECK_EQ_U(k.n, 2);
    CHECK_EQ_U(classify_get_stats(cls)->ndpi_started, 0);
    CHECK_EQ_U(classify_get_stats(cls)->ndpi_flows, 0);

    conn_init(&c, 109, 48009, 8110, 1000, 5000);
    login(ft, &c); /* no handshake: only nDPI can judge */
    teardown(ft, &c);
    CHECK_EQ_U(classify_get_stats(cls)->ndpi_started, 1);
    CHECK_EQ_U(classify_get_stats(cls)->ndpi_failed, 0);
    CHECK_EQ_U(classify_get_stats(cls)->ndpi_mail, 1);
    CHECK_EQ_U(k.n, 3);
    check_alice(&k.got[2], FINDING_RESULT_SUCCESS);
    flow_table_free(ft);
    classify_free(cls);
}

/* The packet on which nDPI decides carries RST: the held packets are replayed, and the last
 * one ends the session in the middle of the replay. The capture starts mid-stream (no
 * handshake), so the greeting rules cannot judge and nDPI does. */
static void test_ndpi_rst_while_undecided(void)
{
    struct classify *cls = ndpi_new();
    if (cls == NULL) {
        return;
    }
    struct sink k;
    struct flow_table *ft = table_new_cls(&k, FLOW_MAX_FLOWS, BIGCAP, FLOW_IDLE_SEC, cls);
    struct conn c;
    conn_init(&c, 101, 48001, 8110, 1000, 5000);
    say(ft, &c, false, F_PA, "+OK POP3 ready\r\n");
    say(ft, &c, true, F_PA, "USER alice\r\n");
    say(ft, &c, false, F_PA, "+OK\r\n");
    CHECK_EQ_U(flow_get_stats(ft)->classified_mail, 0);
    say(ft, &c, true, F_PA | DECODE_TCP_RST, "PASS s3cret\r\n");
    CHECK_EQ_U(flow_get_stats(ft)->classified_mail, 1);
    CHECK_EQ_U(k.n, 1);
    CHECK_EQ_U(k.got[0].end_reason, FINDING_END_RST);
    check_sides(&k.got[0], &c);
    check_alice(&k.got[0], FINDING_RESULT_UNKNOWN);
    CHECK_EQ_U(flow_get_stats(ft)->ended_rst, 1);
    say(ft, &c, false, F_PA, "+OK logged in\r\n");
    CHECK_EQ_U(flow_get_stats(ft)->late_packets, 1);
    flow_table_free(ft);
    CHECK_EQ_U(k.n, 1);
    classify_free(cls);
}

/* A client that speaks first with no wrapper's opening nor a request line (Redis on 6379):
 * no mail without asking nDPI; the flow becomes a small tombstone, nothing is emitted. */
static void test_client_first_not_mail(void)
{
    struct classify *cls = ndpi_new();
    if (cls == NULL) {
        return;
    }
    struct sink k;
    struct flow_table *ft = table_new_cls(&k, FLOW_MAX_FLOWS, BIGCAP, FLOW_IDLE_SEC, cls);
    struct conn c;
    conn_init(&c, 102, 48002, 6379, 1000, 5000);
    handshake(ft, &c);
    say(ft, &c, true, F_PA, "PING\r\n");
    say(ft, &c, false, F_PA, "+PONG\r\n");
    teardown(ft, &c);
    const struct flow_stats *st = flow_get_stats(ft);
    CHECK_EQ_U(st->classified_mail, 0);
    CHECK_EQ_U(classify_get_stats(cls)->client_first, 1);
    CHECK_EQ_U(classify_get_stats(cls)->ndpi_flows, 0);
    CHECK_EQ_U(st->sessions_emitted, 0);
    flow_table_free(ft);
    CHECK_EQ_U(k.n, 0);
    classify_free(cls);
}

/* HTTP on port 8000 from its start: the request line names it, its held packets are replayed to
 * the HTTP parser; without a login the session is no record, with one it is. */
static void test_http_by_request_line(void)
{
    struct classify *cls = ndpi_new();
    if (cls == NULL) {
        return;
    }
    struct sink k;
    struct flow_table *ft = table_new_cls(&k, FLOW_MAX_FLOWS, BIGCAP, FLOW_IDLE_SEC, cls);
    struct conn c;
    conn_init(&c, 102, 48002, 8000, 1000, 5000);
    handshake(ft, &c);
    say(ft, &c, true, F_PA, "GET / HTTP/1.1\r\nHost: example.org\r\n\r\n");
    say(ft, &c, false, F_PA, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    teardown(ft, &c);
    struct conn d;
    conn_init(&d, 103, 48003, 8000, 1000, 5000);
    handshake(ft, &d);
    say(ft, &d, true, F_PA, "GET / HTTP/1.1\r\nAuthorization: Basic YWxpY2U6czNjcmV0\r\n\r\n");
    say(ft, &d, false, F_PA, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    teardown(ft, &d);
    const struct flow_stats *st = flow_get_stats(ft);
    CHECK_EQ_U(st->classified_mail, 2);
    CHECK_EQ_U(classify_get_stats(cls)->by_content, 2);
    CHECK_EQ_U(classify_get_stats(cls)->ndpi_flows, 0);
    CHECK_EQ_U(st->sessions_emitted, 1);
    CHECK_EQ_U(st->sessions_empty, 1);
    CHECK_EQ_U(k.n, 1);
    if (k.n == 1) {
        CHECK(strcmp(k.got[0].protocol, "http") == 0);
        CHECK_EQ_U(k.got[0].server_port, 8000);
        CHECK(strcmp(k.got[0].mech, "BASIC") == 0);
        CHECK_EQ_U(k.got[0].result, FINDING_RESULT_SUCCESS);
    }
    flow_table_free(ft);
    classify_free(cls);
}

/* Web sessions without a login are evicted before a mail session, however recently they were
 * seen: a busy link's web traffic never pushes mail out of the table. One that shows a login is
 * a session like any other. */
static void test_http_evicted_first(void)
{
    struct sink k;
    struct flow_table *ft = table_new(&k, 3, BIGCAP, FLOW_IDLE_SEC);
    struct conn c;
    conn_init(&c, 30, 40030, 110, 1000, 5000);
    handshake(ft, &c);
    say(ft, &c, false, F_PA, "+OK ready\r\n");
    say(ft, &c, true, F_PA, "USER alice\r\n");
    struct conn w[3];
    for (size_t i = 0; i < 3; i++) {
        conn_init(&w[i], (uint8_t)(31 + i), (uint16_t)(40031 + i), 80, 1000, 5000);
        handshake(ft, &w[i]);
        say(ft, &w[i], true, F_PA,
            i == 1 ? "GET / HTTP/1.1\r\nAuthorization: Basic YTpi\r\n\r\n"
                   : "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        say(ft, &w[i], false, F_PA, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    }
    /* w[0] made room for w[2]: the oldest flow without a login, not the POP3 session. */
    CHECK_EQ_U(flow_get_stats(ft)->evicted, 1);
    CHECK_EQ_U(k.n, 0);
    flow_table_free(ft);
    CHECK_EQ_U(k.n, 2);
    for (size_t i = 0; i < k.n && i < 2; i++) {
        CHECK_EQ_U(k.got[i].end_reason, FINDING_END_CAPTURE);
        CHECK(k.got[i].server_port == 110 || k.got[i].client_port == 40032);
    }
}

/* HTTP on port 8000 seen mid-stream: nDPI names it, and the HTTP parser reads it; without a
 * login nothing is emitted. */
static void test_ndpi_http(void)
{
    struct classify *cls = ndpi_new();
    if (cls == NULL) {
        return;
    }
    struct sink k;
    struct flow_table *ft = table_new_cls(&k, FLOW_MAX_FLOWS, BIGCAP, FLOW_IDLE_SEC, cls);
    struct conn c;
    conn_init(&c, 102, 48002, 8000, 1000, 5000);
    say(ft, &c, true, F_PA, "GET / HTTP/1.1\r\nHost: example.org\r\n\r\n");
    say(ft, &c, false, F_PA, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    teardown(ft, &c);
    const struct flow_stats *st = flow_get_stats(ft);
    CHECK_EQ_U(st->classified_mail, 1);
    CHECK_EQ_U(st->created, 1);
    CHECK_EQ_U(st->sessions_emitted, 0);
    CHECK_EQ_U(classify_get_stats(cls)->ndpi_mail, 1);
    CHECK_EQ_U(classify_get_stats(cls)->ndpi_not_mail, 0);
    flow_flush_all(ft);
    CHECK_EQ_U(st->active, 0);
    CHECK_EQ_U(st->sessions_empty, 1);
    flow_table_free(ft);
    CHECK_EQ_U(k.n, 0);
    classify_free(cls);
}

/* Once a flow is set up, its packets allocate nothing: a flow off the mail ports in port-only
 * mode, a flow nDPI has judged not mail, and a mail session in order, line after line. */
static void test_no_alloc_per_packet(void)
{
    enum {
        N = 2000
    };
    struct classify *cls = ndpi_new();
    struct sink k;
    struct conn c;

    uint64_t at_start = n_allocs;
    struct flow_table *ft = table_new(&k, FLOW_MAX_FLOWS, BIGCAP, FLOW_IDLE_SEC);
    CHECK(n_allocs > at_start); /* the wrapping is in place: the table itself was counted */
    conn_init(&c, 104, 48004, 443, 1000, 5000);
    handshake(ft, &c);
    uint64_t before = n_allocs;
    for (size_t i = 0; i < N; i++) {
        say(ft, &c, i % 3 == 0, F_PA, "\x17\x03\x03 opaque application data");
    }
    CHECK_EQ_U(n_allocs - before, 0);

    conn_init(&c, 105, 48005, 110, 1000, 5000);
    handshake(ft, &c);
    login(ft, &c);
    say(ft, &c, true, F_PA, "STAT\r\n");
    say(ft, &c, false, F_PA, "+OK 1 120\r\n");
    before = n_allocs;
    for (size_t i = 0; i < N; i++) {
        say(ft, &c, true, F_PA, "NOOP\r\n");
        say(ft, &c, false, F_PA, "+OK\r\n");
    }
    CHECK_EQ_U(n_allocs - before, 0);
    teardown(ft, &c);
    flow_table_free(ft);
    CHECK_EQ_U(k.n, 1);

    if (cls == NULL) {
        return;
    }
    ft = table_new_cls(&k, FLOW_MAX_FLOWS, BIGCAP, FLOW_IDLE_SEC, cls);
    conn_init(&c, 106, 48006, 6379, 1000, 5000);
    handshake(ft, &c);
    say(ft, &c, true, F_PA, "PING\r\n");
    CHECK_EQ_U(classify_get_stats(cls)->client_first, 1);
    before = n_allocs;
    for (size_t i = 0; i < N; i++) {
        say(ft, &c, i % 3 == 0, F_PA, "bytes of a download");
    }
    CHECK_EQ_U(n_allocs - before, 0);
    /* An HTTP download: its body is skipped by its count, with no allocation either. */
    struct conn w;
    conn_init(&w, 107, 48007, 80, 1000, 5000);
    handshake(ft, &w);
    say(ft, &w, true, F_PA, "GET /big HTTP/1.1\r\nHost: example.org\r\n\r\n");
    say(ft, &w, false, F_PA, "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n");
    before = n_allocs;
    for (size_t i = 0; i < N; i++) {
        say(ft, &w, false, F_PA, "bytes of a download");
    }
    CHECK_EQ_U(n_allocs - before, 0);
    flow_table_free(ft);
    classify_free(cls);
}

/* A classifier in port-only mode: POP3 on 8110 is not looked at. */
static void test_ports_only_classifier(void)
{
    struct classify *cls = classify_new(false);
    CHECK(cls != NULL && !classify_is_active(cls));
    if (cls == NULL) {
        return;
    }
    struct sink k;
    struct flow_table *ft = table_new_cls(&k, FLOW_MAX_FLOWS, BIGCAP, FLOW_IDLE_SEC, cls);
    struct conn c;
    conn_init(&c, 103, 48003, 8110, 1000, 5000);
    handshake(ft, &c);
    login(ft, &c);
    teardown(ft, &c);
    CHECK_EQ_U(flow_get_stats(ft)->not_mail_segments, 10);
    CHECK_EQ_U(flow_get_stats(ft)->created, 0);
    flow_table_free(ft);
    CHECK_EQ_U(k.n, 0);
    classify_free(cls);
}

static void fill_noise(uint8_t *buf, size_t len, uint32_t salt)
{
    uint32_t x = 0x9e3779b9u ^ salt;
    for (size_t i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 24);
    }
}

/* Flows nDPI is still looking at hold copies of their packets: those count against the cap
 * like everything else. */
static void test_ndpi_memcap_undecided(void)
{
    struct classify *cls = ndpi_new();
    if (cls == NULL) {
        return;
    }
    static uint8_t noise[1400];
    struct sink k;
    struct conn c;

    /* One undecided flow with one packet held: the unit of the cap below. */
    struct flow_table *ft = table_new_cls(&k, 64, BIGCAP, FLOW_IDLE_SEC, cls);
    size_t floor = flow_get_stats(ft)->mem_used;
    conn_init(&c, 104, 49000, 9999, 1000, 5000);
    fill_noise(noise, sizeof noise, 1);
    seg(ft, &c, true, F_PA, c.cnext, c.snext, noise, sizeof noise, c.ts_usec);
    size_t one = flow_get_stats(ft)->mem_used - floor;
    CHECK_EQ_U(flow_get_stats(ft)->active, 1);
    flow_table_free(ft);

    size_t cap = floor + 4 * one;
    ft = table_new_cls(&k, 64, cap, FLOW_IDLE_SEC, cls);
    const struct flow_stats *st = flow_get_stats(ft);
    uint64_t over = 0;
    for (uint32_t i = 0; i < 10; i++) {
        conn_init(&c, (uint8_t)(110 + i), (uint16_t)(49100 + i), 9999, 1000, 5000);
        c.ts_usec = T0 + (uint64_t)i * USEC;
        for (uint32_t n = 0; n < CLASSIFY_MAX_DATA_PACKETS - 1; n++) {
            fill_noise(noise, sizeof noise, i * 100 + n);
            seg(ft, &c, true, F_PA, c.cnext, c.snext, noise, sizeof noise, c.ts_usec);
            c.cnext += (uint32_t)sizeof noise;
            c.ts_usec += 1000;
            if (st->mem_used > cap) {
                over++;
            }
        }
    }
    CHECK_EQ_U(over, 0);
    CHECK(st->mem_used_max <= cap);
    CHECK_EQ_U(st->classified_mail, 0);
    flow_flush_all(ft);
    flow_expire(ft, c.ts_usec + (uint64_t)FLOW_CLOSED_LINGER_SEC * USEC + USEC);
    CHECK_EQ_U(st->active, 0);
    CHECK_EQ_U(st->mem_used, floor);
    flow_table_free(ft);
    CHECK_EQ_U(k.n, 0);
    classify_free(cls);
}

/* POP3 flows on another port under a cap that holds about three mail flows: held packets,
 * nDPI state, the sessions they turn into and their queues all stay within it. */
static void test_ndpi_memcap_mail(void)
{
    struct classify *cls = ndpi_new();
    if (cls == NULL) {
        return;
    }
    size_t floor = 0, charge = 0;
    measure(64, &floor, &charge);
    size_t cap = floor + 3 * charge;
    struct sink k;
    struct flow_table *ft = table_new_cls(&k, 64, cap, FLOW_IDLE_SEC, cls);
    const struct flow_stats *st = flow_get_stats(ft);
    struct conn c[6];
    for (uint32_t i = 0; i < 6; i++) {
        conn_init(&c[i], (uint8_t)(120 + i), (uint16_t)(49200 + i), 8110, 1000 * i, 5000 * i);
    }
    uint64_t over = 0;
    static const char *const lines[] = { "+OK POP3 ready\r\n", "USER alice\r\n", "+OK\r\n",
                                         "PASS s3cret\r\n", "+OK logged in\r\n" };
    for (int step = 0; step < 3 + 5; step++) {
        for (uint32_t i = 0; i < 6; i++) {
            c[i].ts_usec = T0 + (uint64_t)step * 10000 + i;
            if (step == 0) {
                say(ft, &c[i], true, F_SYN, NULL);
            } else if (step == 1) {
                say(ft, &c[i], false, F_SA, NULL);
            } else if (step == 2) {
                say(ft, &c[i], true, F_A, NULL);
            } else {
                say(ft, &c[i], (step - 3) % 2 == 1, F_PA, lines[step - 3]);
            }
            if (st->mem_used > cap) {
                over++;
            }
        }
    }
    CHECK_EQ_U(over, 0);
    CHECK(st->mem_used_max <= cap);
    CHECK(st->active <= 6);
    flow_table_free(ft);
    CHECK(k.n > 0);
    classify_free(cls);
}

/* The stress run with nDPI looking at the flows on other ports. */
static void test_ndpi_stress(void)
{
    struct classify *cls = ndpi_new();
    if (cls == NULL) {
        return;
    }
    stress_run(cls, STRESS_PACKETS / 2, 0x0dd5eed5eed0dd5eull);
    classify_free(cls);
}

/* A flood of connection attempts while a real session is open: the attempts are evicted, not
 * the session, and its reordered segment is still held (a gap would lose the password). */
static void test_flood_spares_sessions(void)
{
    struct sink k;
    struct flow_table *ft = table_new(&k, FLOW_MAX_FLOWS, (size_t)1 << 20, FLOW_IDLE_SEC);
    struct conn c;
    conn_init(&c, 7, 40000, 110, 1000, 5000);
    handshake(ft, &c);
    say(ft, &c, false, F_PA, "+OK POP3 ready\r\n");
    say(ft, &c, true, F_PA, "USER alice\r\n");
    say(ft, &c, false, F_PA, "+OK\r\n");
    for (unsigned i = 0; i < 20000; i++) {
        struct conn x;
        conn_init(&x, (uint8_t)(1 + i % 200), (uint16_t)(1024 + i), 110, 77, 0);
        x.ts_usec = c.ts_usec;
        say(ft, &x, true, F_SYN, NULL);
    }
    uint32_t start = c.cnext;
    seg(ft, &c, true, F_PA, start + 5, c.snext, "s3cret\r\n", 8, c.ts_usec);
    seg(ft, &c, true, F_PA, start, c.snext, "PASS ", 5, c.ts_usec);
    c.cnext = start + 13;
    say(ft, &c, false, F_PA, "+OK logged in\r\n");
    teardown(ft, &c);
    CHECK(flow_get_stats(ft)->evicted > 1000);
    CHECK_EQ_U(flow_get_reasm_stats(ft)->gaps, 0);
    CHECK_EQ_U(k.n, 1);
    if (k.n == 1) {
        CHECK_EQ_U(k.got[0].end_reason, FINDING_END_FIN);
        check_alice(&k.got[0], FINDING_RESULT_SUCCESS);
    }
    flow_table_free(ft);
}

/* Live: a login is told as soon as its secret is there, again when the server answers, not
 * at the session's end; a login the mid-session rule may still drop waits for its answer. */
static void test_credential_events(void)
{
    struct sink k;
    struct flow_table *ft = table_new(&k, FLOW_MAX_FLOWS, BIGCAP, FLOW_IDLE_SEC);
    flow_set_cred_events(ft, on_cred);
    memset(&ev, 0, sizeof ev);
    struct conn c;
    conn_init(&c, 10, 40000, 110, 1000, 5000);
    handshake(ft, &c);
    say(ft, &c, false, F_PA, "+OK POP3 ready\r\n");
    say(ft, &c, true, F_PA, "USER alice\r\n");
    CHECK_EQ_U(ev.n, 0); /* a user name alone is no login yet */
    say(ft, &c, false, F_PA, "+OK\r\n");
    say(ft, &c, true, F_PA, "PASS s3cret\r\n");
    CHECK_EQ_U(ev.n, 1);
    CHECK(ev.seq[0] == 0 && ev.result[0] == FINDING_RESULT_UNKNOWN && ev.had_secret[0]);
    CHECK(ev.uid[0][0] == 'C' && strlen(ev.uid[0]) == FINDING_UID_LEN);
    say(ft, &c, false, F_PA, "+OK logged in\r\n");
    CHECK_EQ_U(ev.n, 2);
    CHECK_EQ_U(ev.result[1], FINDING_RESULT_SUCCESS);
    say(ft, &c, true, F_PA, "STAT\r\n");
    say(ft, &c, false, F_PA, "+OK 0 0\r\n");
    CHECK_EQ_U(ev.n, 2); /* nothing new to tell */
    CHECK_EQ_U(k.n, 0);  /* the session is still open */
    teardown(ft, &c);
    CHECK_EQ_U(k.n, 1);
    CHECK_EQ_U(ev.n, 2);

    /* Begun before the capture, SMTP (the client sends message text): the login waits for
     * the server's part, then is told. */
    memset(&ev, 0, sizeof ev);
    conn_init(&c, 114, 48014, 25, 1000, 5000);
    say(ft, &c, true, F_PA, "AUTH PLAIN AGFsaWNlAHMzY3JldA==\r\n");
    CHECK_EQ_U(ev.n, 0);
    say(ft, &c, false, F_PA, "235 2.7.0 Authentication successful\r\n");
    CHECK_EQ_U(ev.n, 1);
    CHECK_EQ_U(ev.result[0], FINDING_RESULT_SUCCESS);
    teardown(ft, &c);

    /* No events unless asked: the session comes whole at its end. */
    flow_set_cred_events(ft, NULL);
    memset(&ev, 0, sizeof ev);
    conn_init(&c, 11, 40001, 110, 1000, 5000);
    handshake(ft, &c);
    login(ft, &c);
    teardown(ft, &c);
    CHECK_EQ_U(ev.n, 0);
    flow_table_free(ft);
}

/* The uid: the same for the same first packet and endpoints, another for another port. */
static void test_uid(void)
{
    struct session *a = finding_new(), *b = finding_new();
    a->ts_start_usec = b->ts_start_usec = T0;
    a->ip_version = b->ip_version = 4;
    a->client_port = b->client_port = 40000;
    a->server_port = 110;
    b->server_port = 110;
    finding_set_uid(a, NULL);
    finding_set_uid(b, NULL);
    CHECK(strcmp(a->uid, b->uid) == 0);
    b->client_port = 40001;
    finding_set_uid(b, NULL);
    CHECK(strcmp(a->uid, b->uid) != 0);
    for (size_t i = 1; i < FINDING_UID_LEN; i++) {
        char ch = a->uid[i];
        CHECK((ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z'));
    }
    finding_free(a);
    finding_free(b);
}

int main(void)
{
    RUN(test_full_connection);
    RUN(test_credential_events);
    RUN(test_uid);
    RUN(test_midstream_server_first);
    RUN(test_midstream_client_first);
    RUN(test_synack_first);
    test_syn_beats_port();
    RUN(test_rst);
    RUN(test_stray_rst);
    RUN(test_late_then_new_syn);
    RUN(test_new_syn_on_open_flow);
    RUN(test_no_payload);
    RUN(test_not_mail);
    RUN(test_out_of_order);
    RUN(test_ipv6);
    RUN(test_seq_wrap);
    RUN(test_implicit_tls);
    RUN(test_snaplen_cut);
    RUN(test_idle_flow_expire);
    RUN(test_idle_packet_time);
    RUN(test_max_flows);
    RUN(test_max_flows_lru);
    RUN(test_max_flows_tombstone_first);
    RUN(test_memcap);
    RUN(test_memcap_tiny);
    RUN(test_table_free_emits);
    RUN(test_stress);
    RUN(test_ndpi_pop3_other_port);
    RUN(test_ndpi_lazy);
    RUN(test_smtp_greeting_in_pieces);
    RUN(test_midstream_tls_skips_ndpi);
    RUN(test_midstream_unanswered);
    RUN_ISOLATED(test_ndpi_rst_while_undecided);
    RUN(test_ndpi_http);
    RUN(test_http_by_request_line);
    RUN(test_http_evicted_first);
    RUN(test_client_first_not_mail);
    RUN(test_flood_spares_sessions);
    RUN(test_ports_only_classifier);
    RUN(test_no_alloc_per_packet);
    RUN(test_ndpi_memcap_undecided);
    RUN(test_ndpi_memcap_mail);
    RUN_ISOLATED(test_ndpi_stress);
    return TEST_SUMMARY();
}
