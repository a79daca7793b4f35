/* run.c - one run: the packet loops, the clock, the run record and its statistics.
 *
 * Offline, each capture file is read in turn through one flow table (a session may span
 * files), in batches of CAPTURE_DISPATCH_MAX packets; the outputs get a tick every
 * RUN_COMMIT_PACKETS packets, so a long read keeps its findings on disk as it goes, and -c
 * stops the run after that many packets over all the files. On a terminal (and without -q) a
 * progress line on stderr is rewritten in place every RUN_PROGRESS_MSEC, the wall clock read
 * between batches, never per packet; it is taken off before any other line (a session on the
 * console, a message) and at the end. Its bytes come from capture_file_progress (the file
 * position, or the records' lengths on a pipe), its share from the files' sizes. Live, one
 * interface is read until SIGINT/SIGTERM or -c packets, in the same batches: a source that
 * filled its batch is read again at once, one that came up short waits in capture_wait (poll)
 * with the others until one has packets or the next tick is due. The loop keeps an array of
 * sources, so that more interfaces need no other loop. The clock ticks at least every
 * RUN_TICK_MSEC even on a quiet link: idle sessions are ended, the outputs ticked (the database
 * commits at least once a second while sessions arrive), the kernel's drop counters read; every
 * RUN_STATS_SEC the run's row is brought up to date, and the statistics line goes to stderr
 * when run_report_due says (every RUN_STATS_SEC, with -q every RUN_HEALTH_SEC, and soon after
 * drops start or rise). Time in the flow table is packet time; the clock here is the wall
 * clock. A run that could not see into most of its packets says why by name: at its end, and
 * on live capture in every statistics line.
 *
 * IP fragments: decode describes a fragment and stops; run hands it to defrag, and a datagram
 * defrag completes is decoded again from its IP header with the outer context of the fragment
 * that completed it. That datagram may hold a fragment in turn (an inner IP fragmented inside a
 * tunnel whose outer packet was fragmented too): the loop goes on, each round counted as a layer
 * against DECODE_MAX_ENCAP. defrag's memory is charged to the flow table's cap, up to its share
 * (DEFRAG_MEMCAP_DIV). */
#include "run.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "classify.h"
#include "counters.h"
#include "decode.h"
#include "defrag.h"
#include "finding.h"
#include "flow.h"
#include "log.h"
#include "sink.h"
#include "tunables.h"

_Static_assert(RUN_TICK_MSEC * 4 <= 1000, "the live clock ticks at least four times a second");
_Static_assert(CAPTURE_BUFFER_MSEC <= RUN_TICK_MSEC,
               "the kernel holds a packet back no longer than a tick of the live clock");
_Static_assert(RUN_STATS_SEC <= RUN_HEALTH_SEC && RUN_DROPS_LINE_SEC <= RUN_HEALTH_SEC,
               "quiet mode's health line is the rarest of the statistics lines");
_Static_assert(SINK_SQLITE_COMMIT_USEC <= PS_USEC_PER_SEC,
               "a live run commits its findings at least once a second");
_Static_assert(FLOW_MIN_MEMCAP_BYTES / DEFRAG_MEMCAP_DIV >=
                   DEFRAG_MAX_BYTES + DEFRAG_MAX_FRAGS * 8 + DEFRAG_BUCKETS * sizeof(void *) + 4096,
               "defrag's share of the smallest cap holds its table and a full-size datagram");

struct run {
    const struct run_config *cfg;
    struct sink_set *out;
    const struct finding_key *key;
    struct run_record rec;
    char *source; /* rec.source, owned */
    struct decode_stats ds;
    struct capture_stats cs;
    struct capture_stats live_cs[CAPTURE_WAIT_MAX]; /* each live source's last counters */
    char iface_text[CAPTURE_WAIT_MAX * 17];         /* name_interfaces: IFNAMSIZ names, commas */
    struct flow_table *ft;
    struct defrag *df;
    struct classify *cls;
    struct run_report_clock report; /* live: when the statistics lines are due */
    struct run_progress {
        bool is_on;           /* files, stderr a terminal, no -q */
        bool is_shown;        /* a line is on the terminal now */
        uint64_t period_usec; /* RUN_PROGRESS_MSEC, or PLAINSIGHT_PROGRESS_MSEC */
        uint64_t start_usec;  /* when reading began */
        uint64_t next_usec;   /* when the line is due again */
        uint64_t total_bytes; /* every file's size; 0 when one is unknown (stdin, a pipe) */
        uint64_t done_bytes;  /* the files read to their end */
        size_t width;         /* the terminal's columns: a longer line would wrap, and '\r'
                                 would then rewrite only its last row */
    } progress;
    struct ps_counter counters[COUNTERS_MAX];
};

static volatile sig_atomic_t run_stop;
static volatile sig_atomic_t run_hup;

static void on_signal(int sig)
{
    if (sig == SIGHUP) {
        run_hup = 1;
    } else {
        run_stop = 1;
    }
}

void run_signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* A signal asked to stop, or an output failed for good. */
static bool is_stopped(const struct run *r)
{
    return run_stop || sink_set_has_failed(r->out);
}

static uint64_t wall_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * PS_USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t rss_bytes(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (uint64_t)ru.ru_maxrss * 1024u;
}

/* Takes the progress line off the terminal, so that the next line (a session on the console,
 * a message, the summary) starts on a clean line; it is drawn again when next due. */
static void progress_clear(struct run *r)
{
    if (r->progress.is_shown) {
        fputs("\r\033[K", stderr);
        r->progress.is_shown = false;
    }
}

/* Live: the names of the sources s's packets came from, into r's buffer (s borrows it for the
 * call). Reading files: none. */
static void name_interfaces(struct run *r, struct session *s)
{
    if (r->cfg->live == NULL) {
        return;
    }
    size_t used = 0;
    r->iface_text[0] = '\0';
    for (size_t i = 0; i < r->cfg->n_live && used < sizeof r->iface_text; i++) {
        if ((s->iface_mask & (1u << i)) != 0) {
            int n = snprintf(r->iface_text + used, sizeof r->iface_text - used, "%s%s",
                             used > 0 ? "," : "", r->cfg->ifaces[i]);
            used += n > 0 ? (size_t)n : 0;
        }
    }
    s->interfaces = r->iface_text[0] != '\0' ? r->iface_text : NULL;
}

/* The session is finished: fingerprints under the run's key, counted, to every output. A fatal
 * output failure shows in is_stopped. */
static void emit(void *ctx, struct session *s)
{
    struct run *r = ctx;
    progress_clear(r);
    name_interfaces(r, s);
    finding_finalize(s, r->key->bytes);
    r->rec.sessions++;
    if (finding_is_exposed(s)) {
        r->rec.exposed++;
    }
    sink_set_session(r->out, s);
}

/* A credential of a session still open is ready or has its result (live capture): written at
 * once, committed at the next tick. */
static void emit_credential(void *ctx, struct session *s, size_t i)
{
    struct run *r = ctx;
    name_interfaces(r, s);
    finding_finalize(s, r->key->bytes);
    sink_set_credential(r->out, s, i);
}

/* defrag's charges, against the flow table's cap. */
static bool defrag_charge(void *ctx, size_t bytes)
{
    return flow_mem_charge(ctx, bytes);
}

static void defrag_release(void *ctx, size_t bytes)
{
    flow_mem_release(ctx, bytes);
}

/* The run's source: the interface, or the files separated by spaces. Returns owned. */
static char *join_sources(const struct run_config *cfg)
{
    const char *one = cfg->iface;
    size_t n = one != NULL ? strlen(one) + 1 : 1;
    for (size_t i = 0; one == NULL && i < cfg->n_files; i++) {
        n += strlen(cfg->files[i]) + 1;
    }
    char *s = xmalloc(n);
    s[0] = '\0';
    if (one != NULL) {
        memcpy(s, one, n);
        return s;
    }
    for (size_t i = 0; i < cfg->n_files; i++) {
        if (i > 0) {
            strcat(s, " ");
        }
        strcat(s, cfg->files[i]);
    }
    return s;
}

struct run *run_start(const struct run_config *cfg, struct sink_set *out,
                      const struct finding_key *key)
{
    struct run *r = xcalloc(1, sizeof *r);
    r->cfg = cfg;
    r->out = out;
    r->key = key;
    r->source = join_sources(cfg);
    r->rec.source = r->source;
    r->rec.mode = cfg->live != NULL ? "live" : "offline";
    r->rec.sensor = cfg->sensor;
    r->rec.status = "running";
    r->rec.started_usec = wall_usec();
    if (sink_set_run_begin(out, &r->rec) != PS_OK) {
        run_free(r);
        return NULL;
    }
    /* Files: nDPI starts with the first flow that needs it. Live: at once, so the first flows
     * seen mid-stream do not wait on its start-up while the kernel buffer fills. */
    if (cfg->is_ports_only) {
        r->cls = classify_new(false);
    } else {
        r->cls = cfg->live != NULL ? classify_new(true) : classify_new_lazy();
    }
    if (r->cls == NULL) {
        log_err("cannot set up nDPI; --ports-only runs without it");
        run_free(r);
        return NULL;
    }
    if (cfg->protocols != 0) {
        classify_set_protocols(r->cls, cfg->protocols);
    }
    struct flow_config fc = {
        .max_flows = FLOW_MAX_FLOWS,
        .memcap_bytes = cfg->memcap_bytes,
        .idle_sec = cfg->idle_sec,
        .cls = r->cls,
        .community_id_seed = cfg->community_id_seed,
        .sensor = cfg->sensor,
        .key_layers = cfg->flow_key,
    };
    r->ft = flow_table_new(&fc, emit, r);
    struct defrag_config dc = { cfg->memcap_bytes / DEFRAG_MEMCAP_DIV, defrag_charge,
                                defrag_release, r->ft };
    r->df = defrag_new(&dc);
    /* Live, a login is written when it happens, not when its session ends hours later. Files
     * are read at once: each session is written whole, with the same rows in the end. */
    if (cfg->live != NULL) {
        flow_set_cred_events(r->ft, emit_credential);
    }
    return r;
}

void run_free(struct run *r)
{
    if (r == NULL) {
        return;
    }
    defrag_free(r->df); /* before the table it charges */
    flow_table_free(r->ft);
    classify_free(r->cls);
    free(r->source);
    free(r);
}

/* The live sources' kernel counters, summed into r->cs (a source that cannot say keeps its
 * last). Reading files: nothing. */
static void live_stats(struct run *r)
{
    if (r->cfg->live == NULL) {
        return;
    }
    struct capture_stats sum;
    memset(&sum, 0, sizeof sum);
    for (size_t i = 0; i < r->cfg->n_live; i++) {
        struct capture_stats one = r->live_cs[i];
        if (capture_live_stats(r->cfg->live[i], &one) == PS_OK) {
            r->live_cs[i] = one;
        }
        sum.kernel_received += r->live_cs[i].kernel_received;
        sum.kernel_dropped += r->live_cs[i].kernel_dropped;
        sum.interface_dropped += r->live_cs[i].interface_dropped;
    }
    r->cs = sum;
}

/* Every module's counters into the run record (and the live source's kernel counters into
 * r->cs, for the statistics line). */
static void collect_counters(struct run *r)
{
    live_stats(r);
    struct counters_src src = {
        .capture = &r->cs,
        .decode = &r->ds,
        .defrag = defrag_get_stats(r->df),
        .flow = flow_get_stats(r->ft),
        .classify = classify_get_stats(r->cls),
        .reasm = flow_get_reasm_stats(r->ft),
        .parse = flow_get_parse_stats(r->ft),
    };
    r->rec.counters = r->counters;
    r->rec.n_counters = counters_collect(&src, r->counters, COUNTERS_MAX);
}

/* The run's counters and its row brought up to date. */
static void update_record(struct run *r)
{
    collect_counters(r);
    r->rec.ended_usec = wall_usec();
    sink_set_run_update(r->out, &r->rec);
}

/* Never silently blind: when more than RUN_BLIND_WARN_PERCENT of the packets so far stopped in
 * decode for a reason the user can act on (decode_blind_reason), writes the warning's text
 * ("93% of packets were IP fragments never reassembled ...") into buf and returns true. */
static bool blind_warning(const struct run *r, char *buf, size_t cap)
{
    uint64_t count;
    uint64_t total;
    char phrase[160];
    const char *why = decode_blind_reason(&r->ds, defrag_get_stats(r->df)->fragments_used, &count,
                                          &total, phrase, sizeof phrase);
    uint64_t packets = r->ds.packets;
    if (why == NULL || packets == 0 || total * 100u <= packets * RUN_BLIND_WARN_PERCENT) {
        return false;
    }
    unsigned long long pct = (unsigned long long)(count * 100u / packets);
    if (total > count) {
        snprintf(buf, cap,
                 "%llu%% of packets %s (%llu%% not seen into for reasons like it; "
                 "see decode.* in run_counters)",
                 pct, why, (unsigned long long)(total * 100u / packets));
    } else {
        snprintf(buf, cap, "%llu%% of packets %s", pct, why);
    }
    return true;
}

/* The statistics line on stderr; what says which line it is ("stats", "drops", "final"). Reads
 * r->cs as the last collect_counters or capture_live_stats left it. */
static void print_stats(const struct run *r, const char *what)
{
    const struct flow_stats *f = flow_get_stats(r->ft);
    char blind[256];
    bool is_blind = blind_warning(r, blind, sizeof blind); /* it ends the line */
    fprintf(stderr,
            "plainsight: %s: %llu packets (%llu bytes), kernel drops %llu, interface drops "
            "%llu, flows %llu active %llu evicted, sessions %llu (%llu exposed), memory "
            "%llu KiB (peak RSS %llu KiB)%s%s\n",
            what, (unsigned long long)r->rec.packets, (unsigned long long)r->rec.bytes,
            (unsigned long long)r->cs.kernel_dropped, (unsigned long long)r->cs.interface_dropped,
            (unsigned long long)f->active, (unsigned long long)f->evicted,
            (unsigned long long)r->rec.sessions, (unsigned long long)r->rec.exposed,
            (unsigned long long)(f->mem_used / 1024u), (unsigned long long)(rss_bytes() / 1024u),
            is_blind ? "; warning: " : "", is_blind ? blind : "");
}

void run_report_init(struct run_report_clock *c, uint64_t now_usec, bool is_quiet)
{
    c->period_usec = (uint64_t)(is_quiet ? RUN_HEALTH_SEC : RUN_STATS_SEC) * PS_USEC_PER_SEC;
    c->next_usec = now_usec + c->period_usec;
    c->drops_line_usec = 0;
    c->drops_shown = 0;
}

enum run_report run_report_due(struct run_report_clock *c, uint64_t now_usec, uint64_t drops)
{
    uint64_t gap_usec = (uint64_t)RUN_DROPS_LINE_SEC * PS_USEC_PER_SEC;
    /* A counter read as lower than before (it cannot go down) shows nothing new. */
    bool is_new = drops > c->drops_shown;
    bool may_tell = c->drops_line_usec == 0 || now_usec >= c->drops_line_usec + gap_usec;
    enum run_report rep = RUN_REPORT_NONE;
    if (is_new && may_tell) {
        rep = RUN_REPORT_DROPS;
        c->drops_line_usec = now_usec;
    } else if (now_usec >= c->next_usec) {
        rep = RUN_REPORT_STATS;
    } else {
        return RUN_REPORT_NONE;
    }
    /* A periodic line that comes while new drops wait their turn shows them too, but does not
     * count as telling them: the "drops" line still comes when its minute is up (possible only
     * when RUN_STATS_SEC is shorter than RUN_DROPS_LINE_SEC). */
    if (rep == RUN_REPORT_DROPS) {
        c->drops_shown = drops;
    }
    c->next_usec = now_usec + c->period_usec;
    return rep;
}

/* A fragment (borrowed) into defrag; a datagram it completes is decoded again and handed to
 * flow, or to defrag again when it holds a fragment itself. Each round is a layer more in the
 * decode depth, so the loop ends by DECODE_MAX_ENCAP. */
static void take_fragment(struct run *r, struct decode_frag *frag, uint64_t ts_usec, uint8_t iface)
{
    uint8_t *dg = NULL;
    for (;;) {
        uint8_t *done = NULL;
        size_t len = 0;
        /* frag may borrow dg: defrag copies it before dg is freed. */
        enum defrag_status ds = defrag_add(r->df, frag, ts_usec, &done, &len);
        defrag_datagram_free(dg);
        dg = done;
        if (ds != DEFRAG_DONE) {
            break;
        }
        struct decode_outer outer = frag->outer;
        struct pkt p;
        enum decode_status st = decode_frame(DECODE_LINK_RAW, dg, len, ts_usec, &outer, &p, frag,
                                             &r->ds, &r->cfg->decode);
        if (st == DECODE_OK) {
            p.iface = iface;
            flow_packet(r->ft, &p);
        }
        if (st != DECODE_FRAGMENT) {
            break;
        }
    }
    defrag_datagram_free(dg);
}

/* One captured packet into the pipeline. */
static void take_packet(struct run *r, enum decode_link link, uint8_t iface,
                        const struct capture_pkt *cp)
{
    r->rec.packets++;
    r->rec.bytes += cp->caplen;
    if (r->rec.first_pkt_usec == 0 || cp->ts_usec < r->rec.first_pkt_usec) {
        r->rec.first_pkt_usec = cp->ts_usec;
    }
    if (cp->ts_usec > r->rec.last_pkt_usec) {
        r->rec.last_pkt_usec = cp->ts_usec;
    }
    struct pkt p;
    struct decode_frag frag;
    enum decode_status st = decode_frame(link, cp->data, cp->caplen, cp->ts_usec, NULL, &p, &frag,
                                         &r->ds, &r->cfg->decode);
    if (st == DECODE_OK) {
        p.iface = iface;
        flow_packet(r->ft, &p);
    } else if (st == DECODE_FRAGMENT) {
        take_fragment(r, &frag, cp->ts_usec, iface);
    }
}

/* What capture_dispatch hands each packet of a file to. */
struct read_ctx {
    struct run *r;
    enum decode_link link;
    uint8_t iface; /* live: the source's index in cfg->live */
};

static void take_one(void *user, const struct capture_pkt *cp)
{
    const struct read_ctx *rc = user;
    take_packet(rc->r, rc->link, rc->iface, cp);
}

/* The progress line's clock, for a run over files: on only when stderr is a terminal and -q is
 * not given; the size of the input when every file's is known. */
static void progress_init(struct run *r)
{
    struct run_progress *pg = &r->progress;
    memset(pg, 0, sizeof *pg);
    pg->is_on = !r->cfg->is_quiet && isatty(STDERR_FILENO);
    if (!pg->is_on) {
        return;
    }
    uint64_t msec = RUN_PROGRESS_MSEC;
    const char *env = getenv("PLAINSIGHT_PROGRESS_MSEC");
    if (env != NULL && env[0] != '\0') {
        char *end;
        unsigned long v = strtoul(env, &end, 10);
        if (*end == '\0' && v <= RUN_PROGRESS_MAX_MSEC) {
            msec = v;
        }
    }
    pg->period_usec = msec * PS_USEC_PER_MSEC;
    struct winsize ws;
    pg->width = ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 ? ws.ws_col : 80u;
    pg->start_usec = wall_usec();
    pg->next_usec = pg->start_usec + pg->period_usec;
    for (size_t i = 0; i < r->cfg->n_files; i++) {
        struct stat st;
        if (strcmp(r->cfg->files[i], "-") == 0 || stat(r->cfg->files[i], &st) != 0 ||
            !S_ISREG(st.st_mode)) {
            pg->total_bytes = 0;
            return;
        }
        pg->total_bytes += (uint64_t)st.st_size;
    }
}

/* Rewrites the progress line when it is due: bytes read (and the share, with an ETA, when the
 * input's size is known), packets per second, sessions and exposed. Called between batches. */
static void progress_tick(struct run *r, const struct capture *cap)
{
    struct run_progress *pg = &r->progress;
    if (!pg->is_on) {
        return;
    }
    uint64_t now = wall_usec();
    if (now < pg->next_usec) {
        return;
    }
    pg->next_usec = now + pg->period_usec;
    uint64_t pos;
    uint64_t size;
    capture_file_progress(cap, &pos, &size);
    uint64_t done = pg->done_bytes + pos;
    uint64_t elapsed = now > pg->start_usec ? now - pg->start_usec : 1;
    double sec = (double)elapsed / (double)PS_USEC_PER_SEC;
    double mib = 1024.0 * 1024.0;
    char share[96] = "";
    char eta[48] = "";
    if (pg->total_bytes > 0 && done <= pg->total_bytes) {
        snprintf(share, sizeof share, " of %.1f MiB (%llu%%)", (double)pg->total_bytes / mib,
                 (unsigned long long)(done * 100u / pg->total_bytes));
        if (done > 0) {
            unsigned long long left =
                (unsigned long long)((double)(pg->total_bytes - done) * sec / (double)done);
            snprintf(eta, sizeof eta, ", ETA %llu:%02llu", left / 60u, left % 60u);
        }
    }
    char line[256];
    int n = snprintf(line, sizeof line,
                     "plainsight: %.1f MiB%s, %.0f packets/s, %llu sessions, %llu exposed%s",
                     (double)done / mib, share, (double)r->rec.packets / sec,
                     (unsigned long long)r->rec.sessions, (unsigned long long)r->rec.exposed, eta);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    if (len > pg->width - 1) {
        len = pg->width - 1; /* the last column left free: some terminals wrap on it */
    }
    fprintf(stderr, "\r%.*s\033[K", (int)len, line);
    pg->is_shown = true;
}

/* -c N reached. */
static bool is_count_reached(const struct run *r)
{
    return r->cfg->max_packets != 0 && r->rec.packets >= r->cfg->max_packets;
}

/* At most CAPTURE_DISPATCH_MAX packets, and no more than -c leaves. */
static size_t batch_max(const struct run *r)
{
    size_t max = CAPTURE_DISPATCH_MAX;
    if (r->cfg->max_packets != 0 && r->cfg->max_packets - r->rec.packets < max) {
        max = (size_t)(r->cfg->max_packets - r->rec.packets);
    }
    return max;
}

static void warn_link(const struct capture *cap, const char *name)
{
    if (capture_link(cap) == DECODE_LINK_UNKNOWN) {
        log_warn("%s: link type %s is not supported; its packets are counted and skipped", name,
                 capture_link_name(cap));
    }
}

/* Reads one file through decode into the flow table. Returns RUN_OK, RUN_FAILED (cannot open:
 * nothing read) or RUN_DAMAGED (read up to the damage). */
static enum run_status read_file(struct run *r, const char *path)
{
    char err[512];
    struct capture *cap = NULL;
    if (capture_open_file(path, r->cfg->bpf, &cap, err, sizeof err) != PS_OK) {
        progress_clear(r);
        log_err("%s", err);
        return RUN_FAILED;
    }
    progress_clear(r);
    warn_link(cap, path);
    enum run_status st = RUN_OK;
    uint64_t n = 0;
    uint64_t next_tick = RUN_COMMIT_PACKETS;
    enum capture_status cs = CAPTURE_PACKET;
    struct read_ctx rc = { r, capture_link(cap), 0 };
    while (!is_stopped(r) && !is_count_reached(r) && cs == CAPTURE_PACKET) {
        size_t got = 0;
        cs = capture_dispatch(cap, batch_max(r), take_one, &rc, &got);
        n += got;
        if (n >= next_tick) {
            sink_set_tick(r->out, wall_usec(), false);
            next_tick = n + RUN_COMMIT_PACKETS;
        }
        progress_tick(r, cap);
    }
    uint64_t pos;
    uint64_t size;
    capture_file_progress(cap, &pos, &size);
    r->progress.done_bytes += pos;
    progress_clear(r);
    if (!is_stopped(r) && cs == CAPTURE_DAMAGED) {
        log_err("%s: damaged after packet %llu: %s (the packets before it were analysed)", path,
                (unsigned long long)n, capture_error(cap));
        st = RUN_DAMAGED;
    }
    capture_close(cap);
    return st;
}

static enum run_status read_files(struct run *r)
{
    enum run_status st = RUN_OK;
    progress_init(r);
    for (size_t i = 0; i < r->cfg->n_files && !is_stopped(r) && !is_count_reached(r); i++) {
        enum run_status one = read_file(r, r->cfg->files[i]);
        if (one == RUN_DAMAGED) {
            r->cs.damaged_files++;
            if (st == RUN_OK) {
                st = one;
            }
        } else if (one == RUN_FAILED) {
            return one;
        }
    }
    return st;
}

/* The live clock's tick at now: idle sessions ended, the outputs ticked, the kernel's counters
 * read; the run's row every RUN_STATS_SEC (*next_row_usec), and the statistics line when due. */
static void live_tick(struct run *r, uint64_t now, uint64_t *next_row_usec)
{
    flow_expire(r->ft, now);
    defrag_expire(r->df, now);
    sink_set_tick(r->out, now, false);
    if (now >= *next_row_usec) {
        update_record(r);
        *next_row_usec = now + (uint64_t)RUN_STATS_SEC * PS_USEC_PER_SEC;
    } else {
        live_stats(r);
    }
    switch (run_report_due(&r->report, now, r->cs.kernel_dropped + r->cs.interface_dropped)) {
    case RUN_REPORT_STATS:
        print_stats(r, "stats");
        break;
    case RUN_REPORT_DROPS:
        print_stats(r, "drops");
        break;
    case RUN_REPORT_NONE:
        break;
    }
}

/* Reads the live sources until a signal, -c packets, or a failure. */
static enum run_status read_live(struct run *r)
{
    struct capture *const *srcs = r->cfg->live;
    size_t n_srcs = r->cfg->n_live;
    struct read_ctx ctx[CAPTURE_WAIT_MAX];
    /* A source is drained when its last read came up short: it is polled before the next. */
    bool is_drained[CAPTURE_WAIT_MAX];
    bool is_ready[CAPTURE_WAIT_MAX];
    for (size_t i = 0; i < n_srcs; i++) {
        warn_link(srcs[i], r->cfg->ifaces[i]);
        ctx[i] = (struct read_ctx){ r, capture_link(srcs[i]), (uint8_t)i };
        is_drained[i] = false;
    }
    uint64_t tick_usec = (uint64_t)RUN_TICK_MSEC * PS_USEC_PER_MSEC;
    uint64_t now = wall_usec();
    uint64_t next_tick = now + tick_usec;
    uint64_t next_row = now + (uint64_t)RUN_STATS_SEC * PS_USEC_PER_SEC;
    run_report_init(&r->report, now, r->cfg->is_quiet);
    while (!is_stopped(r)) {
        if (run_hup) {
            run_hup = 0;
            sink_set_reopen(r->out);
        }
        size_t n_drained = 0;
        for (size_t i = 0; i < n_srcs; i++) {
            n_drained += is_drained[i] ? 1u : 0u;
        }
        if (n_drained > 0) {
            /* All drained: sleep until one has packets or the tick is due. Some still busy:
             * only look, so that they are not held up. */
            int wait_ms = 0;
            if (n_drained == n_srcs && next_tick > now) {
                wait_ms = (int)((next_tick - now + PS_USEC_PER_MSEC - 1) / PS_USEC_PER_MSEC);
            }
            if (capture_wait(srcs, n_srcs, wait_ms, is_ready) == CAPTURE_DAMAGED) {
                for (size_t i = 0; i < n_srcs; i++) {
                    if (is_ready[i]) {
                        log_err("%s: capture failed: %s", r->cfg->ifaces[i],
                                capture_error(srcs[i]));
                    }
                }
                return RUN_FAILED;
            }
            for (size_t i = 0; i < n_srcs; i++) {
                is_drained[i] = is_drained[i] && !is_ready[i];
            }
        }
        for (size_t i = 0; i < n_srcs && !is_stopped(r); i++) {
            if (is_drained[i]) {
                continue;
            }
            size_t max = batch_max(r);
            size_t got = 0;
            enum capture_status cs = capture_dispatch(srcs[i], max, take_one, &ctx[i], &got);
            if (cs == CAPTURE_DAMAGED) {
                log_err("%s: capture failed: %s", r->cfg->ifaces[i], capture_error(srcs[i]));
                return RUN_FAILED;
            }
            is_drained[i] = got < max;
            if (is_count_reached(r)) {
                return RUN_OK;
            }
        }
        now = wall_usec();
        if (now >= next_tick) {
            live_tick(r, now, &next_row);
            next_tick = now + tick_usec;
        }
    }
    return RUN_OK;
}

/* Several live sources (a TAP's two ports, each direction on its own): packets go to the flow
 * table in timestamp order across the sources, since a parser pairs each command with its
 * answer. One packet per source waits (libpcap keeps its bytes until that source's next read,
 * so nothing is copied); the oldest is taken when every source has one waiting, or once it is
 * RUN_MERGE_WAIT_MSEC old, because the kernel hands a source's packets over in blocks and one
 * with nothing yet may still deliver older ones. */
struct merge {
    struct capture_pkt head[CAPTURE_WAIT_MAX];
    bool has[CAPTURE_WAIT_MAX];
    size_t n_has;
};

/* Reads one packet for each source that has none waiting. False on a capture failure. */
static bool merge_fill(struct run *r, struct merge *m)
{
    for (size_t i = 0; i < r->cfg->n_live; i++) {
        if (m->has[i]) {
            continue;
        }
        enum capture_status cs = capture_next(r->cfg->live[i], &m->head[i]);
        if (cs == CAPTURE_DAMAGED) {
            log_err("%s: capture failed: %s", r->cfg->ifaces[i], capture_error(r->cfg->live[i]));
            return false;
        }
        if (cs == CAPTURE_PACKET) {
            m->has[i] = true;
            m->n_has++;
        }
    }
    return true;
}

/* Waits until a source without a waiting packet has some, or wait_ms passes. False when a
 * source failed. */
static bool merge_wait(struct run *r, const struct merge *m, int wait_ms)
{
    struct capture *empty[CAPTURE_WAIT_MAX];
    bool is_ready[CAPTURE_WAIT_MAX];
    size_t n = 0;
    for (size_t i = 0; i < r->cfg->n_live; i++) {
        if (!m->has[i]) {
            empty[n++] = r->cfg->live[i];
        }
    }
    if (n == 0 || capture_wait(empty, n, wait_ms, is_ready) != CAPTURE_DAMAGED) {
        return true;
    }
    for (size_t i = 0; i < n; i++) {
        if (is_ready[i]) {
            log_err("capture failed: %s", capture_error(empty[i]));
        }
    }
    return false;
}

static enum run_status read_live_merged(struct run *r)
{
    struct merge m;
    memset(&m, 0, sizeof m);
    size_t n = r->cfg->n_live;
    for (size_t i = 0; i < n; i++) {
        warn_link(r->cfg->live[i], r->cfg->ifaces[i]);
    }
    uint64_t tick_usec = (uint64_t)RUN_TICK_MSEC * PS_USEC_PER_MSEC;
    uint64_t merge_usec = (uint64_t)RUN_MERGE_WAIT_MSEC * PS_USEC_PER_MSEC;
    uint64_t now = wall_usec();
    uint64_t next_tick = now + tick_usec;
    uint64_t next_row = now + (uint64_t)RUN_STATS_SEC * PS_USEC_PER_SEC;
    run_report_init(&r->report, now, r->cfg->is_quiet);
    while (!is_stopped(r)) {
        if (run_hup) {
            run_hup = 0;
            sink_set_reopen(r->out);
        }
        if (!merge_fill(r, &m)) {
            return RUN_FAILED;
        }
        now = wall_usec();
        size_t pick = n;
        for (size_t i = 0; i < n; i++) {
            if (m.has[i] && (pick == n || m.head[i].ts_usec < m.head[pick].ts_usec)) {
                pick = i;
            }
        }
        if (pick < n && (m.n_has == n || m.head[pick].ts_usec + merge_usec <= now)) {
            take_packet(r, capture_link(r->cfg->live[pick]), (uint8_t)pick, &m.head[pick]);
            m.has[pick] = false;
            m.n_has--;
            if (is_count_reached(r)) {
                return RUN_OK;
            }
        } else {
            uint64_t until = next_tick;
            if (pick < n && m.head[pick].ts_usec + merge_usec < until) {
                until = m.head[pick].ts_usec + merge_usec;
            }
            int wait_ms =
                until > now ? (int)((until - now + PS_USEC_PER_MSEC - 1) / PS_USEC_PER_MSEC) : 0;
            if (!merge_wait(r, &m, wait_ms)) {
                return RUN_FAILED;
            }
            now = wall_usec();
        }
        if (now >= next_tick) {
            live_tick(r, now, &next_row);
            next_tick = now + tick_usec;
        }
    }
    return RUN_OK;
}

enum run_status run_read(struct run *r)
{
    if (r->cfg->live == NULL) {
        return read_files(r);
    }
    for (size_t i = 0; i < r->cfg->n_live && !r->cfg->is_quiet; i++) {
        log_info("listening on %s (%s), writing to %s", r->cfg->ifaces[i],
                 capture_link_name(r->cfg->live[i]), r->cfg->db_path);
    }
    return r->cfg->n_live > 1 ? read_live_merged(r) : read_live(r);
}

enum run_status run_finish(struct run *r, enum run_status st)
{
    /* Every open session is written, also on SIGINT/SIGTERM; fragments never completed are
     * counted. */
    defrag_flush(r->df);
    flow_flush_all(r->ft);
    bool has_failed = sink_set_has_failed(r->out);
    r->rec.status = is_stopped(r) && !has_failed ? "interrupted"
                    : st == RUN_FAILED           ? "failed"
                    : st == RUN_DAMAGED          ? "damaged"
                                                 : "ok";
    update_record(r);
    /* The last line; with -q only when something was dropped (the health lines said the
     * rest). */
    if (r->cfg->live != NULL &&
        (!r->cfg->is_quiet || r->cs.kernel_dropped > 0 || r->cs.interface_dropped > 0)) {
        print_stats(r, "final");
    }
    if (sink_set_has_failed(r->out)) {
        st = RUN_FAILED;
    }
    /* The last tick forces every output out; the console's lines come before the summary. */
    if (sink_set_tick(r->out, wall_usec(), true) != PS_OK) {
        st = RUN_FAILED;
    }
    if (st != RUN_FAILED) {
        log_info("%llu packets, %llu mail sessions, %llu exposed; written to %s",
                 (unsigned long long)r->rec.packets, (unsigned long long)r->rec.sessions,
                 (unsigned long long)r->rec.exposed, r->cfg->db_path);
    }
    char blind[256];
    if (blind_warning(r, blind, sizeof blind)) {
        log_warn("%s", blind);
    }
    const struct flow_stats *fs = flow_get_stats(r->ft);
    if (fs->evicted > 0) {
        log_warn("%llu flows evicted by the memory or flow limit (raise --memcap)",
                 (unsigned long long)fs->evicted);
    }
    return st;
}
