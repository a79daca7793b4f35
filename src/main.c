/* main.c - options, wiring and exit status: the only caller of exit().
 *
 * Reads each capture in turn through one flow table (a session may span files), writes every
 * finished mail session to the database, the JSON lines and the console, and records the run
 * with every module's counters. Exit status: 0 done, 1 usage, 2 an input or the database
 * failed, 3 an input was damaged part-way (what came before it was analysed and written). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

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

struct opts {
    const char *files[MAIN_MAX_FILES];
    size_t n_files;
    const char *db_path;
    bool has_json;
    const char *json_path;
    bool is_reveal;
    bool is_quiet;
    bool is_ports_only;
    size_t memcap;
    uint32_t idle_sec;
    char *bpf;
};

struct app {
    struct opts o;
    struct sink_sqlite *db;
    struct sink_json *json;
    FILE *console;
    bool has_db_error;
    struct run_record run;
};

static volatile sig_atomic_t main_stop;

static void on_signal(int sig)
{
    (void)sig;
    main_stop = 1;
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
            "\n"
            "Finds mail sessions (POP3 for now; SMTP and IMAP to come) whose passwords or mail\n"
            "crossed the wire in the clear, and writes each to a SQLite database.\n"
            "\n"
            "Input:\n"
            "  -r, --read FILE        read a pcap or pcapng file; '-' reads standard input;\n"
            "                         repeat for more files (one run, sessions may span files)\n"
            "  BPF expression         only packets matching it (as in tcpdump)\n"
            "\n"
            "Output:\n"
            "  -w, --write DB         SQLite database to create or add to (default plainsight.db)\n"
            "      --json[=FILE]      one JSON object per mail session, to FILE or stdout\n"
            "      --reveal-secrets   keep cleartext passwords and challenge-response data in the\n"
            "                         outputs (default: only length and keyed fingerprint)\n"
            "  -q, --quiet            no console lines and no summary; errors still shown\n"
            "\n"
            "Limits:\n"
            "      --memcap BYTES     memory for flows and reassembly (default %zu MiB); K, M, G\n"
            "      --idle SECONDS     end a session after this long without a packet (default %d)\n"
            "      --ports-only       classify by the mail ports alone; without it nDPI looks at\n"
            "                         the first packets of TCP flows on other ports\n"
            "\n"
            "  -h, --help             this text\n"
            "  -V, --version          version and library versions\n"
            "\n"
            "Exit status: 0 done, 1 usage error, 2 an input or the database failed,\n"
            "3 an input was damaged part-way (what came before the damage was analysed).\n",
            FLOW_MEMCAP_BYTES >> 20, FLOW_IDLE_SEC);
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

/* Returns -1 to go on, or an exit status. */
static int parse_opts(int argc, char **argv, struct opts *o)
{
    static const struct option longs[] = {
        { "read", required_argument, NULL, 'r' },
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
    int c;
    while ((c = getopt_long(argc, argv, "r:w:qhV", longs, NULL)) != -1) {
        switch (c) {
        case 'r':
            if (o->n_files == MAIN_MAX_FILES) {
                log_err("too many -r files (at most %d)", MAIN_MAX_FILES);
                return MAIN_EXIT_USAGE;
            }
            o->files[o->n_files++] = optarg;
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
                log_err("--memcap: '%s' is not a size of at least 1M", optarg);
                return MAIN_EXIT_USAGE;
            }
            break;
        case 'I': {
            size_t v;
            if (!parse_size(optarg, &v) || v == 0 || v > 86400u * 7) {
                log_err("--idle: '%s' is not a number of seconds (1 to 604800)", optarg);
                return MAIN_EXIT_USAGE;
            }
            o->idle_sec = (uint32_t)v;
            break;
        }
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
    if (o->n_files == 0) {
        log_err("no input: give a capture file with -r FILE (or -r - for standard input)");
        fprintf(stderr, "Try 'plainsight --help'.\n");
        return MAIN_EXIT_USAGE;
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
        log_err("%s: cannot write JSON", a->o.json_path != NULL ? a->o.json_path : "stdout");
        sink_json_close(a->json);
        a->json = NULL;
        a->has_db_error = true;
        main_stop = 1;
    }
    if (a->console != NULL) {
        sink_console_session(a->console, s, a->o.is_reveal);
    }
}

#define COUNTER(name, v)                                                                           \
    {                                                                                              \
        name, (uint64_t)(v)                                                                        \
    }

/* Collects every module's counters under stable names. Returns how many. */
static size_t collect_counters(struct ps_counter *c, size_t cap, const struct decode_stats *d,
                               const struct flow_table *ft, const struct classify *cls,
                               uint64_t damaged_files)
{
    const struct classify_stats *cs = classify_get_stats(cls);
    const struct flow_stats *f = flow_get_stats(ft);
    const struct reasm_stats *r = flow_get_reasm_stats(ft);
    const struct parse_stats *p = flow_get_parse_stats(ft);
    const struct ps_counter all[] = {
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
        COUNTER("flow.created", f->flows_created),
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
        COUNTER("flow.classify_gave_up", f->classify_gave_up),
        COUNTER("classify.ndpi_flows", cs->flows),
        COUNTER("classify.ndpi_packets", cs->packets),
        COUNTER("classify.ndpi_mail", cs->mail),
        COUNTER("classify.ndpi_not_mail", cs->not_mail),
        COUNTER("classify.ndpi_unsupported", cs->unsupported),
        COUNTER("flow.mem_used_max", f->mem_used_max),
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
        COUNTER("parse.tls_not_found", p->tls_not_found),
        COUNTER("parse.not_protocol", p->not_protocol),
        COUNTER("capture.damaged_files", damaged_files),
    };
    size_t n = sizeof all / sizeof all[0];
    if (n > cap) {
        n = cap;
    }
    memcpy(c, all, n * sizeof *c);
    return n;
}

static char *join_sources(const struct opts *o)
{
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

/* Reads one file through decode into the flow table. Returns MAIN_EXIT_OK, _FAIL (cannot open:
 * nothing read) or _DAMAGED (read up to the damage). */
static int read_file(struct app *a, const char *path, struct flow_table *ft,
                     struct decode_stats *ds)
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
    struct capture_pkt cp;
    enum capture_status cs = CAPTURE_END;
    while (!main_stop && (cs = capture_next(cap, &cp)) == CAPTURE_PACKET) {
        n++;
        a->run.packets++;
        a->run.bytes += cp.caplen;
        if (a->run.first_pkt_usec == 0 || cp.ts_usec < a->run.first_pkt_usec) {
            a->run.first_pkt_usec = cp.ts_usec;
        }
        if (cp.ts_usec > a->run.last_pkt_usec) {
            a->run.last_pkt_usec = cp.ts_usec;
        }
        struct pkt p;
        if (decode_packet(link, cp.data, cp.caplen, cp.wirelen, cp.ts_usec, &p, ds) == DECODE_OK) {
            flow_packet(ft, &p);
        }
        if ((n & 0xffff) == 0 && !a->has_db_error) {
            if (sink_sqlite_commit(a->db, wall_usec(), false) != PS_OK) {
                log_err("%s: cannot commit: %s", a->o.db_path, sink_sqlite_error(a->db));
                a->has_db_error = true;
                main_stop = 1;
            }
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

int main(int argc, char **argv)
{
    struct app a;
    memset(&a, 0, sizeof a);
    umask(077);
    int rc = parse_opts(argc, argv, &a.o);
    if (rc >= 0) {
        return rc;
    }
    log_set_quiet(a.o.is_quiet);

    char err[512];
    if (sink_sqlite_open(a.o.db_path, a.o.is_reveal, &a.db, err, sizeof err) != PS_OK) {
        log_err("%s", err);
        free(a.o.bpf);
        return MAIN_EXIT_FAIL;
    }
    if (a.o.has_json &&
        sink_json_open(a.o.json_path, a.o.is_reveal, &a.json, err, sizeof err) != PS_OK) {
        log_err("%s", err);
        sink_sqlite_close(a.db);
        free(a.o.bpf);
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

    char *sources = join_sources(&a.o);
    a.run.source = sources;
    a.run.mode = "offline";
    a.run.status = "running";
    a.run.started_usec = wall_usec();
    if (sink_sqlite_run_begin(a.db, &a.run) != PS_OK) {
        log_err("%s: cannot record the run: %s", a.o.db_path, sink_sqlite_error(a.db));
        sink_json_close(a.json);
        sink_sqlite_close(a.db);
        free(sources);
        free(a.o.bpf);
        return MAIN_EXIT_FAIL;
    }

    struct classify *cls = classify_new(!a.o.is_ports_only);
    if (cls == NULL) {
        log_err("cannot set up nDPI; --ports-only runs without it");
        sink_json_close(a.json);
        sink_sqlite_close(a.db);
        free(sources);
        free(a.o.bpf);
        return MAIN_EXIT_FAIL;
    }
    struct flow_config fc = { FLOW_MAX_FLOWS, a.o.memcap, a.o.idle_sec, cls };
    struct flow_table *ft = flow_table_new(&fc, emit, &a);
    struct decode_stats ds;
    memset(&ds, 0, sizeof ds);
    rc = MAIN_EXIT_OK;
    uint64_t damaged = 0;
    for (size_t i = 0; i < a.o.n_files && !main_stop; i++) {
        int r = read_file(&a, a.o.files[i], ft, &ds);
        if (r == MAIN_EXIT_DAMAGED) {
            damaged++;
            if (rc == MAIN_EXIT_OK) {
                rc = r;
            }
        } else if (r == MAIN_EXIT_FAIL) {
            rc = r;
            break;
        }
    }
    flow_flush_all(ft);

    struct ps_counter counters[64];
    a.run.counters = counters;
    a.run.n_counters = collect_counters(counters, 64, &ds, ft, cls, damaged);
    a.run.ended_usec = wall_usec();
    a.run.status = main_stop && !a.has_db_error ? "interrupted"
                   : rc == MAIN_EXIT_FAIL       ? "failed"
                   : rc == MAIN_EXIT_DAMAGED    ? "damaged"
                                                : "ok";
    if (!a.has_db_error && sink_sqlite_run_update(a.db, &a.run) != PS_OK) {
        log_err("%s: cannot record the run: %s", a.o.db_path, sink_sqlite_error(a.db));
        a.has_db_error = true;
    }
    if (a.has_db_error) {
        rc = MAIN_EXIT_FAIL;
    }
    if (a.json != NULL && sink_json_flush(a.json) != PS_OK) {
        log_err("cannot write JSON output");
        rc = MAIN_EXIT_FAIL;
    }
    const struct flow_stats *fs = flow_get_stats(ft);
    if (a.console != NULL) {
        fflush(a.console); /* the session lines before the summary */
    }
    if (rc != MAIN_EXIT_FAIL) {
        log_info("%llu packets, %llu mail sessions, %llu exposed; written to %s",
                 (unsigned long long)a.run.packets, (unsigned long long)a.run.sessions,
                 (unsigned long long)a.run.exposed, a.o.db_path);
    }
    if (fs->flows_evicted > 0) {
        log_warn("%llu flows evicted by the memory or flow limit (raise --memcap)",
                 (unsigned long long)fs->flows_evicted);
    }
    flow_table_free(ft);
    classify_free(cls);
    sink_json_close(a.json);
    sink_sqlite_close(a.db);
    free(sources);
    free(a.o.bpf);
    return rc;
}
