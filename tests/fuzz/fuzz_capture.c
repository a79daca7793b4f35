/* fuzz_capture.c - libFuzzer target for the whole offline pipeline, from a capture file's bytes.
 *
 * The input is a capture file (pcap or pcapng). capture.h opens files by path only, so each
 * input is written to a file in a directory private to the process (removed at exit), then
 * read as main.c reads it: capture_open_file, capture_dispatch, decode_packet, flow_packet into a
 * flow table, flow_table_free. The table has a small memory cap and flow limit so eviction and
 * the reassembly cap are reached; classification is by port only (no nDPI, whose own state
 * would make runs depend on earlier inputs). Each emitted session is finalised with a fixed
 * key and written by sink_json, whose output must be valid JSON, one line per session.
 *
 * Checked besides memory safety: the counters agree (decode's per-packet totals, one JSON line
 * per emitted session), and a damaged file gives an error text. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "decode.h"
#include "finding.h"
#include "flow.h"
#include "fuzz_util.h"
#include "sink_json.h"

/* Flow table limits: a few flows and a quarter of a MiB, so both limits are reached. */
#define FUZZ_MAX_FLOWS    8
#define FUZZ_MEMCAP_BYTES ((size_t)256 * 1024)
#define FUZZ_IDLE_SEC     60
/* Packets per capture_dispatch call: small, so a file takes several calls. */
#define FUZZ_BATCH 3

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct emit_ctx {
    size_t sessions;
};

static void emit(void *ctx, struct session *s)
{
    struct emit_ctx *e = ctx;
    static const uint8_t key[FINDING_KEY_LEN] = "plainsight fuzz fingerprint key";
    e->sessions++;
    FUZZ_CHECK(s->n_creds <= FINDING_MAX_CREDS);
    FUZZ_CHECK(s->ip_version == 4 || s->ip_version == 6);
    finding_finalize(s, key);
    (void)finding_exposure(s);
    (void)finding_is_exposed(s);
    FUZZ_CHECK(sink_json_session(fuzz_json_sink(), s) == PS_OK);
}

static bool write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        return false;
    }
    bool ok = size == 0 || fwrite(data, 1, size, f) == size;
    return fclose(f) == 0 && ok;
}

/* What capture_dispatch hands each packet to: the pipeline main.c runs. */
struct pipe_ctx {
    enum decode_link link;
    struct flow_table *ft;
    struct decode_stats ds;
    uint64_t packets, ok;
};

static void take(void *user, const struct capture_pkt *cp)
{
    struct pipe_ctx *pc = user;
    pc->packets++;
    struct pkt p;
    if (decode_packet(pc->link, cp->data, cp->caplen, cp->wirelen, cp->ts_usec, &p, &pc->ds) ==
        DECODE_OK) {
        pc->ok++;
        flow_packet(pc->ft, &p);
    }
}

/* Counts the packets of the file at path read with capture_next; returns how the read ended. */
static enum capture_status read_by_next(const char *path, size_t *n)
{
    struct capture *cap = NULL;
    char err[512];
    FUZZ_CHECK(capture_open_file(path, NULL, &cap, err, sizeof err) == PS_OK);
    struct capture_pkt cp;
    enum capture_status cs;
    while ((cs = capture_next(cap, &cp)) == CAPTURE_PACKET) {
        fuzz_touch(cp.data, cp.caplen);
        (*n)++;
    }
    capture_close(cap);
    return cs;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy: fuzz_temp_path's buffer is reused when the JSON sink names its file. */
    char path[512];
    snprintf(path, sizeof path, "%s", fuzz_temp_path("input.pcap"));
    if (!write_file(path, data, size)) {
        perror("fuzz_capture: cannot write the input file");
        abort();
    }

    struct capture *cap = NULL;
    char err[512];
    err[0] = '\0';
    enum ps_err rc = capture_open_file(path, NULL, &cap, err, sizeof err);
    if (rc != PS_OK) {
        FUZZ_CHECK(cap == NULL);
        FUZZ_CHECK(rc == PS_ERR_FORMAT || rc == PS_ERR_IO);
        FUZZ_CHECK(err[0] != '\0');
        return 0;
    }
    FUZZ_CHECK(cap != NULL);
    enum decode_link link = capture_link(cap);
    FUZZ_CHECK(capture_link_name(cap) != NULL);

    struct flow_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.max_flows = FUZZ_MAX_FLOWS;
    cfg.memcap_bytes = FUZZ_MEMCAP_BYTES;
    cfg.idle_sec = FUZZ_IDLE_SEC;
    struct emit_ctx ec = { 0 };
    struct flow_table *ft = flow_table_new(&cfg, emit, &ec);

    struct pipe_ctx pc = { link, ft, { 0 }, 0, 0 };
    enum capture_status cs = CAPTURE_PACKET;
    while (cs == CAPTURE_PACKET) {
        size_t got = 0;
        cs = capture_dispatch(cap, FUZZ_BATCH, take, &pc, &got);
        FUZZ_CHECK(got <= FUZZ_BATCH);
        FUZZ_CHECK(cs != CAPTURE_PACKET || got > 0);
        FUZZ_CHECK(cs != CAPTURE_TIMEOUT);
    }
    FUZZ_CHECK(cs == CAPTURE_END || cs == CAPTURE_DAMAGED);
    if (cs == CAPTURE_DAMAGED) {
        FUZZ_CHECK(capture_error(cap) != NULL);
    }
    capture_close(cap);
    /* The same file read packet by packet gives the same packets and the same end. */
    size_t next_packets = 0;
    enum capture_status next_cs = read_by_next(path, &next_packets);
    FUZZ_CHECK(next_packets == pc.packets);
    FUZZ_CHECK(next_cs == cs);
    struct decode_stats ds = pc.ds;
    uint64_t packets = pc.packets, ok = pc.ok;
    FUZZ_CHECK(ds.packets == packets);
    FUZZ_CHECK(ds.tcp == ok);

    flow_flush_all(ft);
    const struct flow_stats *fs = flow_get_stats(ft);
    FUZZ_CHECK(fs->active == 0);
    FUZZ_CHECK(fs->sessions_emitted == ec.sessions);
    FUZZ_CHECK(fs->mem_used <= FUZZ_MEMCAP_BYTES || fs->created == 0);
    (void)flow_get_reasm_stats(ft);
    (void)flow_get_parse_stats(ft);
    flow_table_free(ft);
    FUZZ_CHECK(fuzz_json_check() == ec.sessions);
    return 0;
}
