/* main.c - options, wiring and exit status: the only caller of exit().
 *
 * Offline, it reads each capture file in turn through one flow table (a session may span
 * files). Live, it reads one interface until SIGINT/SIGTERM or -c packets, on a clock that
 * ticks at least four times a second even on a quiet link: idle sessions are ended, the
 * database is committed at least once a second while sessions arrive, and every 60 seconds a
 * statistics line goes to stderr and the run's row is brought up to date. Every finished mail
 * session goes to the database, the JSON lines and the console. When started as root for live
 * capture, it drops to an unprivileged user once the interface and the output files are open.
 *
 * Exit status: 0 done, 1 usage, 2 an input, the interface or the database failed, 3 an input
 * was damaged part-way (what came before it was analysed and written). */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "classify.h"
#include "decode.h"
#include "finding.h"
#include "flow.h"
#include "log.h"
#include "ps.h"
#include "sink_console.h"
#include "sink_json.h"
#include "sink_sqlite.h"
#include "tunables.h"

enum main_exit {
    MAIN_EXIT_OK = 0,
    MAIN_EXIT_USAGE = 1,
    MAIN_EXIT_FAIL = 2,
    MAIN_EXIT_DAMAGED = 3,
};

#define MAIN_MAX_FILES 1024
/* Live: how often the clock ticks when no packet comes, milliseconds. */
#define MAIN_TICK_MSEC 250
/* Live: seconds between statistics lines and updates of the run's row. */
#define MAIN_STATS_SEC 60
/* Files: packets between commits, so a long read keeps its findings on disk as it goes. */
#define MAIN_COMMIT_PACKETS 65536u
/* The unprivileged user live capture drops to by default, when it exists. */
#define MAIN_DEFAULT_USER "plainsight"

struct opts {
    const char *files[MAIN_MAX_FILES];
    size_t n_files;
    const char *iface;
    const char *db_path;
    bool has_json;
    const char *json_path;
    bool is_reveal;
    bool is_quiet;
    bool is_ports_only;
    bool is_list;
    size_t memcap;
    uint32_t idle_sec;
    uint64_t max_packets; /* -c; 0 for no limit */
    struct capture_live_opts live;
    const char *user; /* -Z */
    char *bpf;
};

struct app {
    struct opts o;
    struct sink_sqlite *db;
    struct sink_json *json;
    FILE *console;
    bool has_db_error;
    struct run_record run;
    struct decode_stats ds;
    struct flow_table *ft;
    struct classify *cls;
    struct capture *live;
    uint64_t damaged;
    struct ps_counter counters[96];
};

static volatile sig_atomic_t main_stop;
static volatile sig_atomic_t main_hup;

static void on_signal(int sig)
{
    if (sig == SIGHUP) {
        main_hup = 1;
    } else {
        main_stop = 1;
    }
}

static uint64_t wall_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: plainsight -r FILE [-r FILE ...] [options] [BPF expression]\n"
            "       plainsight -i IFACE [options] [BPF expression]\n"
            "       plainsight -D\n"
            "\n"
            "Finds mail sessions (SMTP, POP3, IMAP) whose passwords or mail crossed the wire in\n"
            "the clear, and writes each to a SQLite database.\n"
            "\n"
            "Input:\n"
            "  -r, --read FILE        read a pcap or pcapng file; '-' reads standard input;\n"
            "                         repeat for more files (one run, sessions may span files)\n"
            "  -i, --interface IFACE  capture live on IFACE (a mirror/SPAN port) until SIGINT\n"
            "                         or SIGTERM\n"
            "  BPF expression         only packets matching it (as in tcpdump)\n"
            "\n"
            "Live capture:\n"
            "  -s, --snaplen BYTES    bytes kept per packet (default 65535: any IP packet)\n"
            "  -B, --buffer-size KIB  kernel capture buffer in KiB (default 65536); raise it\n"
            "                         when the statistics line shows kernel drops\n"
            "  -p, --no-promiscuous   do not put the interface into promiscuous mode\n"
            "  -c, --count N          stop after N packets\n"
            "  -Z, --user USER        drop to USER once the interface is open (default when\n"
            "                         started as root: '%s' if that user exists)\n"
            "  -D, --list-interfaces  list the interfaces to capture on, and exit\n"
            "\n"
            "Output:\n"
            "  -w, --write DB         SQLite database to create or add to (default plainsight.db)\n"
            "      --json[=FILE]      one JSON object per mail session, to FILE or stdout;\n"
            "                         SIGHUP reopens FILE (log rotation)\n"
            "      --reveal-secrets   keep cleartext passwords and challenge-response data in the\n"
            "                         outputs (default: only length and keyed fingerprint)\n"
            "  -q, --quiet            no console lines and no summary; errors still shown\n"
            "\n"
            "Limits:\n"
            "      --memcap BYTES     memory for flows and reassembly (default %zu MiB); K, M, G\n"
            "      --idle SECONDS     end a session after this long without a packet (default %d)\n"
            "      --ports-only       classify by the mail ports alone; without it the first\n"
            "                         packets of TCP flows on other ports are looked at (the\n"
            "                         server's greeting, or nDPI for flows seen mid-stream)\n"
            "\n"
            "  -h, --help             this text\n"
            "  -V, --version          version and library versions\n"
            "\n"
            "Exit status: 0 done, 1 usage error, 2 an input, the interface or the database\n"
            "failed, 3 an input was damaged part-way (what came before the damage was analysed).\n",
            MAIN_DEFAULT_USER, FLOW_MEMCAP_BYTES >> 20, FLOW_IDLE_SEC);
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v > max) {
        return false;
    }
    *out = v;
    return true;
}

static bool parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || s[0] == '-') {
        return false;
    }
    unsigned long long mul = 1;
    if (*end == 'K' || *end == 'k') {
        mul = 1024ull;
        end++;
    } else if (*end == 'M' || *end == 'm') {
        mul = 1024ull * 1024;
        end++;
    } else if (*end == 'G' || *end == 'g') {
        mul = 1024ull * 1024 * 1024;
        end++;
    }
    if (*end != '\0' || v > SIZE_MAX / mul) {
        return false;
    }
    *out = (size_t)(v * mul);
    return true;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_err("%s", msg);
    fprintf(stderr, "Try 'plainsight --help'.\n");
    return MAIN_EXIT_USAGE;
}

/* Returns -1 to go on, or an exit status. */
static int parse_opts(int argc, char **argv, struct opts *o)
{
    static const struct option longs[] = {
        { "read", required_argument, NULL, 'r' },
        { "interface", required_argument, NULL, 'i' },
        { "snaplen", required_argument, NULL, 's' },
        { "buffer-size", required_argument, NULL, 'B' },
        { "no-promiscuous", no_argument, NULL, 'p' },
        { "count", required_argument, NULL, 'c' },
        { "user", required_argument, NULL, 'Z' },
        { "list-interfaces", no_argument, NULL, 'D' },
        { "write", required_argument, NULL, 'w' },
        { "json", optional_argument, NULL, 'j' },
        { "reveal-secrets", no_argument, NULL, 'R' },
        { "quiet", no_argument, NULL, 'q' },
        { "memcap", required_argument, NULL, 'm' },
        { "idle", required_argument, NULL, 'I' },
        { "ports-only", no_argument, NULL, 'P' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    o->db_path = "plainsight.db";
    o->memcap = FLOW_MEMCAP_BYTES;
    o->idle_sec = FLOW_IDLE_SEC;
    o->live.is_promisc = 1;
    o->live.timeout_ms = MAIN_TICK_MSEC;
    int c;
    uint64_t v;
    while ((c = getopt_long(argc, argv, "r:i:s:B:pc:Z:Dw:qhV", longs, NULL)) != -1) {
        switch (c) {
        case 'r':
            if (o->n_files == MAIN_MAX_FILES) {
                return usage_error("too many -r files (at most %d)", MAIN_MAX_FILES);
            }
            o->files[o->n_files++] = optarg;
            break;
        case 'i':
            o->iface = optarg;
            break;
        case 's':
            if (!parse_u64(optarg, 262144, &v)) {
                return usage_error("-s: '%s' is not a snap length (0 to 262144)", optarg);
            }
            o->live.snaplen = (int)v;
            break;
        case 'B':
            if (!parse_u64(optarg, 2u * 1024 * 1024, &v) || v == 0) {
                return usage_error("-B: '%s' is not a buffer size in KiB (1 to 2097152)", optarg);
            }
            o->live.buffer_bytes = (int)(v * 1024);
            break;
        case 'p':
            o->live.is_promisc = 0;
            break;
        case 'c':
            if (!parse_u64(optarg, UINT64_MAX, &o->max_packets) || o->max_packets == 0) {
                return usage_error("-c: '%s' is not a packet count", optarg);
            }
            break;
        case 'Z':
            o->user = optarg;
            break;
        case 'D':
            o->is_list = true;
            break;
        case 'w':
            o->db_path = optarg;
            break;
        case 'j':
            o->has_json = true;
            o->json_path = optarg;
            break;
        case 'R':
            o->is_reveal = true;
            break;
        case 'q':
            o->is_quiet = true;
            break;
        case 'P':
            o->is_ports_only = true;
            break;
        case 'm':
            if (!parse_size(optarg, &o->memcap) || o->memcap < ((size_t)1 << 20)) {
                return usage_error("--memcap: '%s' is not a size of at least 1M", optarg);
            }
            break;
        case 'I':
            if (!parse_u64(optarg, 86400u * 7, &v) || v == 0) {
                return usage_error("--idle: '%s' is not a number of seconds (1 to 604800)", optarg);
            }
            o->idle_sec = (uint32_t)v;
            break;
        case 'h':
            usage(stdout);
            return MAIN_EXIT_OK;
        case 'V':
            printf("plainsight %s\n%s\nSQLite %s\nnDPI %s\n", PS_VERSION, capture_lib_version(),
                   sink_sqlite_lib_version(), classify_lib_version());
            return MAIN_EXIT_OK;
        default:
            fprintf(stderr, "Try 'plainsight --help'.\n");
            return MAIN_EXIT_USAGE;
        }
    }
    if (o->is_list) {
        return -1;
    }
    if (o->n_files == 0 && o->iface == NULL) {
        return usage_error("no input: give a capture file with -r FILE (or -r - for standard "
                           "input), or an interface with -i");
    }
    if (o->n_files > 0 && o->iface != NULL) {
        return usage_error("-r and -i do not go together: one run reads files or an "
                           "interface");
    }
    /* The rest of the command line is the filter, as tcpdump takes it. */
    size_t n = 0;
    for (int i = optind; i < argc; i++) {
        n += strlen(argv[i]) + 1;
    }
    if (n > 0) {
        o->bpf = xmalloc(n);
        o->bpf[0] = '\0';
        for (int i = optind; i < argc; i++) {
            if (i > optind) {
                strcat(o->bpf, " ");
            }
            strcat(o->bpf, argv[i]);
        }
    }
    return -1;
}

static void emit(void *ctx, struct session *s)
{
    struct app *a = ctx;
    finding_finalize(s, sink_sqlite_key(a->db));
    a->run.sessions++;
    if (finding_is_exposed(s)) {
        a->run.exposed++;
    }
    if (!a->has_db_error && sink_sqlite_session(a->db, s) != PS_OK) {
        log_err("%s: cannot write session: %s", a->o.db_path, sink_sqlite_error(a->db));
        a->has_db_error = true;
        main_stop = 1;
    }
    if (a->json != NULL && sink_json_session(a->json, s) != PS_OK) {
        /* A live run keeps going on the database; a reopen (SIGHUP) may bring JSON back. */
        log_err("%s: cannot write JSON", a->o.json_path != NULL ? a->o.json_path : "stdout");
        if (a->live == NULL) {
            a->has_db_error = true;
            main_stop = 1;
        }
    }
    if (a->console != NULL) {
        sink_console_session(a->console, s, a->o.is_reveal);
    }
}

#define COUNTER(name, v)                                                                           \
    {                                                                                              \
        name, (uint64_t)(v)                                                                        \
    }

/* Collects every module's counters under stable names into a->counters. */
static void collect_counters(struct app *a)
{
    const struct decode_stats *d = &a->ds;
    const struct flow_stats *f = flow_get_stats(a->ft);
    const struct reasm_stats *r = flow_get_reasm_stats(a->ft);
    const struct parse_stats *p = flow_get_parse_stats(a->ft);
    const struct classify_stats *cs = classify_get_stats(a->cls);
    struct capture_live_stats ls;
    memset(&ls, 0, sizeof ls);
    if (a->live != NULL) {
        capture_live_stats(a->live, &ls);
    }
    const struct ps_counter all[] = {
        COUNTER("capture.damaged_files", a->damaged),
        COUNTER("capture.kernel_received", ls.received),
        COUNTER("capture.kernel_dropped", ls.dropped),
        COUNTER("capture.interface_dropped", ls.if_dropped),
        COUNTER("decode.tcp", d->tcp),
        COUNTER("decode.not_ip", d->not_ip),
        COUNTER("decode.not_tcp", d->not_tcp),
        COUNTER("decode.unknown_link", d->unknown_link),
        COUNTER("decode.bad_link", d->bad_link),
        COUNTER("decode.vlan_too_deep", d->vlan_too_deep),
        COUNTER("decode.bad_ipv4", d->bad_ipv4),
        COUNTER("decode.bad_ipv6", d->bad_ipv6),
        COUNTER("decode.ip_fragments", d->ip_fragments),
        COUNTER("decode.bad_tcp", d->bad_tcp),
        COUNTER("decode.truncated", d->truncated),
        COUNTER("decode.ipv4_len_zero", d->ipv4_len_zero),
        COUNTER("flow.created", f->flows_created),
        COUNTER("flow.active", f->flows_active),
        COUNTER("flow.active_max", f->flows_active_max),
        COUNTER("flow.ended_fin", f->flows_ended_fin),
        COUNTER("flow.ended_rst", f->flows_ended_rst),
        COUNTER("flow.ended_idle", f->flows_ended_idle),
        COUNTER("flow.evicted", f->flows_evicted),
        COUNTER("flow.not_mail_segments", f->not_mail),
        COUNTER("flow.late_packets", f->late_packets),
        COUNTER("flow.sessions_emitted", f->sessions_emitted),
        COUNTER("flow.sessions_empty", f->sessions_empty),
        COUNTER("flow.classified_mail", f->classified_mail),
        COUNTER("flow.mem_used", f->mem_used),
        COUNTER("flow.mem_used_max", f->mem_used_max),
        COUNTER("classify.ndpi_flows", cs->flows),
        COUNTER("classify.ndpi_packets", cs->packets),
        COUNTER("classify.ndpi_mail", cs->mail),
        COUNTER("classify.ndpi_not_mail", cs->not_mail),
        COUNTER("classify.ndpi_started", cs->ndpi_started),
        COUNTER("classify.ndpi_failed", cs->ndpi_failed),
        COUNTER("classify.gave_up", cs->gave_up),
        COUNTER("classify.by_content", cs->by_content),
        COUNTER("classify.client_first", cs->client_first),
        COUNTER("classify.tls_midstream", cs->tls_midstream),
        COUNTER("classify.socks", cs->socks),
        COUNTER("reasm.segments", r->segments),
        COUNTER("reasm.bytes_delivered", r->bytes_delivered),
        COUNTER("reasm.retrans_segs", r->retrans_segs),
        COUNTER("reasm.retrans_bytes", r->retrans_bytes),
        COUNTER("reasm.overlap_bytes", r->overlap_bytes),
        COUNTER("reasm.ooo_queued", r->ooo_queued),
        COUNTER("reasm.ooo_limit", r->ooo_limit),
        COUNTER("reasm.gaps", r->gaps),
        COUNTER("reasm.gap_bytes", r->gap_bytes),
        COUNTER("reasm.after_fin_bytes", r->after_fin_bytes),
        COUNTER("parse.lines", p->lines),
        COUNTER("parse.overlong_lines", p->overlong_lines),
        COUNTER("parse.gaps", p->gaps),
        COUNTER("parse.unknown_commands", p->unknown_commands),
        COUNTER("parse.pending_overflow", p->pending_overflow),
        COUNTER("parse.sasl_bad_base64", p->sasl_bad_base64),
        COUNTER("parse.sasl_malformed", p->sasl_malformed),
        COUNTER("parse.sasl_cancelled", p->sasl_cancelled),
        COUNTER("parse.sasl_unsupported", p->sasl_unsupported),
        COUNTER("parse.creds_dropped", p->creds_dropped),
        COUNTER("parse.starttls_injection", p->starttls_injection),
        COUNTER("parse.smtp_bare_lf_dot", p->smtp_bare_lf_dot),
        COUNTER("parse.auth_desync", p->auth_desync),
        COUNTER("parse.midstream_unanswered", p->midstream_unanswered),
        COUNTER("parse.socks_tunnels", p->socks_tunnels),
        COUNTER("parse.socks_not_mail", p->socks_not_mail),
        COUNTER("parse.tls_not_found", p->tls_not_found),
        COUNTER("parse.not_protocol", p->not_protocol),
    };
    size_t n = sizeof all / sizeof all[0];
    _Static_assert(sizeof all / sizeof all[0] <= sizeof a->counters / sizeof a->counters[0],
                   "room for every counter");
    memcpy(a->counters, all, sizeof all);
    a->run.counters = a->counters;
    a->run.n_counters = n;
}

static char *join_sources(const struct opts *o)
{
    if (o->iface != NULL) {
        size_t n = strlen(o->iface) + 1;
        char *s = xmalloc(n);
        memcpy(s, o->iface, n);
        return s;
    }
    size_t n = 1;
    for (size_t i = 0; i < o->n_files; i++) {
        n += strlen(o->files[i]) + 1;
    }
    char *s = xmalloc(n);
    s[0] = '\0';
    for (size_t i = 0; i < o->n_files; i++) {
        if (i > 0) {
            strcat(s, " ");
        }
        strcat(s, o->files[i]);
    }
    return s;
}

/* One captured packet into the pipeline. */
static void take_packet(struct app *a, enum decode_link link, const struct capture_pkt *cp)
{
    a->run.packets++;
    a->run.bytes += cp->caplen;
    if (a->run.first_pkt_usec == 0 || cp->ts_usec < a->run.first_pkt_usec) {
        a->run.first_pkt_usec = cp->ts_usec;
    }
    if (cp->ts_usec > a->run.last_pkt_usec) {
        a->run.last_pkt_usec = cp->ts_usec;
    }
    struct pkt p;
    if (decode_packet(link, cp->data, cp->caplen, cp->wirelen, cp->ts_usec, &p, &a->ds) ==
        DECODE_OK) {
        flow_packet(a->ft, &p);
    }
}

/* What capture_dispatch hands each packet of a file to. */
struct read_ctx {
    struct app *a;
    enum decode_link link;
};

static void take_one(void *user, const struct capture_pkt *cp)
{
    const struct read_ctx *r = user;
    take_packet(r->a, r->link, cp);
}

static void commit(struct app *a, uint64_t now, bool is_force)
{
    if (!a->has_db_error && sink_sqlite_commit(a->db, now, is_force) != PS_OK) {
        log_err("%s: cannot commit: %s", a->o.db_path, sink_sqlite_error(a->db));
        a->has_db_error = true;
        main_stop = 1;
    }
}

/* Reads one file through decode into the flow table. Returns MAIN_EXIT_OK, _FAIL (cannot open:
 * nothing read) or _DAMAGED (read up to the damage). */
static int read_file(struct app *a, const char *path)
{
    char err[512];
    struct capture *cap = NULL;
    enum ps_err e = capture_open_file(path, a->o.bpf, &cap, err, sizeof err);
    if (e != PS_OK) {
        log_err("%s", err);
        return MAIN_EXIT_FAIL;
    }
    enum decode_link link = capture_link(cap);
    if (link == DECODE_LINK_UNKNOWN) {
        log_warn("%s: link type %s is not supported; its packets are counted and skipped", path,
                 capture_link_name(cap));
    }
    int rc = MAIN_EXIT_OK;
    uint64_t n = 0;
    uint64_t next_commit = MAIN_COMMIT_PACKETS;
    enum capture_status cs = CAPTURE_PACKET;
    struct read_ctx rc_ctx = { a, link };
    while (!main_stop && cs == CAPTURE_PACKET) {
        size_t got = 0;
        cs = capture_dispatch(cap, CAPTURE_DISPATCH_MAX, take_one, &rc_ctx, &got);
        n += got;
        if (n >= next_commit) {
            commit(a, wall_usec(), false);
            next_commit = n + MAIN_COMMIT_PACKETS;
        }
    }
    if (!main_stop && cs == CAPTURE_DAMAGED) {
        log_err("%s: damaged after packet %llu: %s (the packets before it were analysed)", path,
                (unsigned long long)n, capture_error(cap));
        rc = MAIN_EXIT_DAMAGED;
    }
    capture_close(cap);
    return rc;
}

static uint64_t rss_bytes(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (uint64_t)ru.ru_maxrss * 1024u;
}

/* The statistics line on stderr, and the run's row brought up to date. */
static void report_stats(struct app *a, bool is_final)
{
    collect_counters(a);
    a->run.ended_usec = wall_usec();
    if (!a->has_db_error && sink_sqlite_run_update(a->db, &a->run) != PS_OK) {
        log_err("%s: cannot record the run: %s", a->o.db_path, sink_sqlite_error(a->db));
        a->has_db_error = true;
        main_stop = 1;
    }
    if (a->live == NULL) {
        return;
    }
    const struct flow_stats *f = flow_get_stats(a->ft);
    struct capture_live_stats ls;
    memset(&ls, 0, sizeof ls);
    capture_live_stats(a->live, &ls);
    if (!a->o.is_quiet || ls.dropped > 0 || ls.if_dropped > 0) {
        fprintf(stderr,
                "plainsight: %s: %llu packets (%llu bytes), kernel drops %llu, interface drops "
                "%llu, flows %llu active %llu evicted, sessions %llu (%llu exposed), memory "
                "%llu KiB (peak RSS %llu KiB)\n",
                is_final ? "final" : "stats", (unsigned long long)a->run.packets,
                (unsigned long long)a->run.bytes, (unsigned long long)ls.dropped,
                (unsigned long long)ls.if_dropped, (unsigned long long)f->flows_active,
                (unsigned long long)f->flows_evicted, (unsigned long long)a->run.sessions,
                (unsigned long long)a->run.exposed, (unsigned long long)(f->mem_used / 1024u),
                (unsigned long long)(rss_bytes() / 1024u));
    }
}

static void reopen_json(struct app *a)
{
    char err[512];
    if (a->json != NULL && sink_json_reopen(a->json, err, sizeof err) != PS_OK) {
        log_err("%s", err);
    }
}

/* Reads the live interface until a signal, -c packets, or a failure. */
static int read_live(struct app *a)
{
    enum decode_link link = capture_link(a->live);
    if (link == DECODE_LINK_UNKNOWN) {
        log_warn("%s: link type %s is not supported; its packets are counted and skipped",
                 a->o.iface, capture_link_name(a->live));
    }
    uint64_t tick_usec = (uint64_t)MAIN_TICK_MSEC * 1000u;
    uint64_t now = wall_usec();
    uint64_t next_tick = now + tick_usec;
    uint64_t next_stats = now + (uint64_t)MAIN_STATS_SEC * 1000000u;
    int rc = MAIN_EXIT_OK;
    while (!main_stop) {
        if (main_hup) {
            main_hup = 0;
            reopen_json(a);
        }
        struct capture_pkt cp;
        enum capture_status cs = capture_next(a->live, &cp);
        if (cs == CAPTURE_PACKET) {
            take_packet(a, link, &cp);
            if (a->o.max_packets != 0 && a->run.packets >= a->o.max_packets) {
                break;
            }
        } else if (cs != CAPTURE_TIMEOUT) {
            log_err("%s: capture failed: %s", a->o.iface, capture_error(a->live));
            rc = MAIN_EXIT_FAIL;
            break;
        }
        now = wall_usec();
        if (now >= next_tick) {
            flow_expire(a->ft, now);
            commit(a, now, false);
            if (a->json != NULL) {
                sink_json_flush(a->json);
            }
            if (a->console != NULL) {
                fflush(a->console);
            }
            next_tick = now + tick_usec;
        }
        if (now >= next_stats) {
            report_stats(a, false);
            next_stats = now + (uint64_t)MAIN_STATS_SEC * 1000000u;
        }
    }
    return rc;
}

/* Gives the output files to uid:gid so the process can still write, rotate and checkpoint
 * them after dropping root. */
static void chown_outputs(const struct app *a, uid_t uid, gid_t gid)
{
    const char *suffixes[] = { "", "-wal", "-shm" };
    for (size_t i = 0; i < 3; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s%s", a->o.db_path, suffixes[i]);
        if (chown(path, uid, gid) != 0 && errno != ENOENT) {
            log_warn("%s: cannot hand over to the unprivileged user: %s", path, strerror(errno));
        }
    }
    if (a->o.json_path != NULL && strcmp(a->o.json_path, "-") != 0 &&
        chown(a->o.json_path, uid, gid) != 0) {
        log_warn("%s: cannot hand over to the unprivileged user: %s", a->o.json_path,
                 strerror(errno));
    }
}

/* When root: drops to -Z USER, or to MAIN_DEFAULT_USER if it exists. Returns false when a
 * drop that was asked for fails (then the run must not go on as root). */
static bool drop_privileges(const struct app *a)
{
    if (geteuid() != 0) {
        return true;
    }
    const char *name = a->o.user != NULL ? a->o.user : MAIN_DEFAULT_USER;
    if (strcmp(name, "root") == 0) {
        return true;
    }
    struct passwd *pw = getpwnam(name);
    if (pw == NULL) {
        if (a->o.user != NULL) {
            log_err("-Z %s: no such user", name);
            return false;
        }
        log_warn("running as root: user '%s' does not exist (create it, or name another "
                 "with -Z)",
                 MAIN_DEFAULT_USER);
        return true;
    }
    chown_outputs(a, pw->pw_uid, pw->pw_gid);
    if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
        log_err("cannot drop privileges to %s: %s", name, strerror(errno));
        return false;
    }
    if (setuid(0) == 0) {
        log_err("cannot drop privileges to %s: root could be regained", name);
        return false;
    }
    log_info("running as %s", name);
    return true;
}

static void cleanup(struct app *a, char *sources)
{
    flow_table_free(a->ft);
    classify_free(a->cls);
    capture_close(a->live);
    sink_json_close(a->json);
    sink_sqlite_close(a->db);
    free(sources);
    free(a->o.bpf);
}

int main(int argc, char **argv)
{
    static struct app a;
    umask(077);
    int rc = parse_opts(argc, argv, &a.o);
    if (rc >= 0) {
        return rc;
    }
    log_set_quiet(a.o.is_quiet);
    char err[512];
    if (a.o.is_list) {
        if (capture_list_interfaces(stdout, err, sizeof err) != PS_OK) {
            log_err("%s", err);
            return MAIN_EXIT_FAIL;
        }
        return MAIN_EXIT_OK;
    }

    /* The interface first: a wrong name or missing permission fails before any file is
     * made. */
    if (a.o.iface != NULL) {
        enum ps_err e = capture_open_live(a.o.iface, &a.o.live, a.o.bpf, &a.live, err, sizeof err);
        if (e != PS_OK) {
            log_err("%s", err);
            free(a.o.bpf);
            return e == PS_ERR_ARG && strstr(err, "filter") == NULL ? MAIN_EXIT_USAGE
                                                                    : MAIN_EXIT_FAIL;
        }
    }
    if (sink_sqlite_open(a.o.db_path, a.o.is_reveal, &a.db, err, sizeof err) != PS_OK) {
        log_err("%s", err);
        cleanup(&a, NULL);
        return MAIN_EXIT_FAIL;
    }
    if (a.o.has_json &&
        sink_json_open(a.o.json_path, a.o.is_reveal, &a.json, err, sizeof err) != PS_OK) {
        log_err("%s", err);
        cleanup(&a, NULL);
        return MAIN_EXIT_FAIL;
    }
    if (a.live != NULL && !drop_privileges(&a)) {
        cleanup(&a, NULL);
        return MAIN_EXIT_FAIL;
    }
    bool json_on_stdout =
        a.o.has_json && (a.o.json_path == NULL || strcmp(a.o.json_path, "-") == 0);
    a.console = a.o.is_quiet ? NULL : json_on_stdout ? stderr : stdout;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    char *sources = join_sources(&a.o);
    a.run.source = sources;
    a.run.mode = a.live != NULL ? "live" : "offline";
    a.run.status = "running";
    a.run.started_usec = wall_usec();
    if (sink_sqlite_run_begin(a.db, &a.run) != PS_OK) {
        log_err("%s: cannot record the run: %s", a.o.db_path, sink_sqlite_error(a.db));
        cleanup(&a, sources);
        return MAIN_EXIT_FAIL;
    }
    /* Files: nDPI starts with the first flow that needs it. Live: at once, so the first flows
     * seen mid-stream do not wait on its start-up while the kernel buffer fills. */
    if (a.o.is_ports_only) {
        a.cls = classify_new(false);
    } else {
        a.cls = a.live != NULL ? classify_new(true) : classify_new_lazy();
    }
    if (a.cls == NULL) {
        log_err("cannot set up nDPI; --ports-only runs without it");
        cleanup(&a, sources);
        return MAIN_EXIT_FAIL;
    }
    struct flow_config fc = { FLOW_MAX_FLOWS, a.o.memcap, a.o.idle_sec, a.cls };
    a.ft = flow_table_new(&fc, emit, &a);

    rc = MAIN_EXIT_OK;
    if (a.live != NULL) {
        if (!a.o.is_quiet) {
            log_info("listening on %s (%s), writing to %s", a.o.iface, capture_link_name(a.live),
                     a.o.db_path);
        }
        rc = read_live(&a);
    }
    for (size_t i = 0; i < a.o.n_files && !main_stop; i++) {
        int r = read_file(&a, a.o.files[i]);
        if (r == MAIN_EXIT_DAMAGED) {
            a.damaged++;
            if (rc == MAIN_EXIT_OK) {
                rc = r;
            }
        } else if (r == MAIN_EXIT_FAIL) {
            rc = r;
            break;
        }
    }
    /* Every open session is written, also on SIGINT/SIGTERM. */
    flow_flush_all(a.ft);
    a.run.status = main_stop && !a.has_db_error ? "interrupted"
                   : rc == MAIN_EXIT_FAIL       ? "failed"
                   : rc == MAIN_EXIT_DAMAGED    ? "damaged"
                                                : "ok";
    report_stats(&a, true);
    if (a.has_db_error) {
        rc = MAIN_EXIT_FAIL;
    }
    if (a.json != NULL && sink_json_flush(a.json) != PS_OK) {
        log_err("cannot write JSON output");
        rc = MAIN_EXIT_FAIL;
    }
    if (a.console != NULL) {
        fflush(a.console); /* the session lines before the summary */
    }
    const struct flow_stats *fs = flow_get_stats(a.ft);
    if (rc != MAIN_EXIT_FAIL) {
        log_info("%llu packets, %llu mail sessions, %llu exposed; written to %s",
                 (unsigned long long)a.run.packets, (unsigned long long)a.run.sessions,
                 (unsigned long long)a.run.exposed, a.o.db_path);
    }
    if (fs->flows_evicted > 0) {
        log_warn("%llu flows evicted by the memory or flow limit (raise --memcap)",
                 (unsigned long long)fs->flows_evicted);
    }
    cleanup(&a, sources);
    return rc;
}
