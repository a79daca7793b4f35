/* main.c - wiring and exit status: the only caller of exit().
 *
 * main reads the command line (cli.h), opens the live interface when there is one, opens the
 * outputs (sink.h) with the run's fingerprint key, drops root (priv.h), and hands over to the
 * run (run.h: the packet loops, statistics and the run record). Every finished mail session
 * goes to the database (unless -w none), the JSON lines, syslog and the console. plainsight merge
 * and plainsight prune (argv[1]) hand their database work to sink_sqlite and print its one
 * summary line.
 *
 * Exit status: 0 done, 1 usage, 2 an input, the interface or the database failed, 3 an input
 * was damaged part-way (what came before it was analysed and written). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "capture.h"
#include "cli.h"
#include "finding.h"
#include "keyfile.h"
#include "log.h"
#include "priv.h"
#include "ps.h"
#include "report.h"
#include "run.h"
#include "sink.h"
#include "sink_sqlite.h"

enum main_exit {
    MAIN_EXIT_OK = 0,
    MAIN_EXIT_USAGE = 1,
    MAIN_EXIT_FAIL = 2,
    MAIN_EXIT_DAMAGED = 3,
};

/* open_live's answer when the run is to go on (every exit status is >= 0). */
#define MAIN_GO_ON (-1)

static int exit_status(enum run_status st)
{
    switch (st) {
    case RUN_OK:
        return MAIN_EXIT_OK;
    case RUN_DAMAGED:
        return MAIN_EXIT_DAMAGED;
    case RUN_FAILED:
        break;
    }
    return MAIN_EXIT_FAIL;
}

/* -D: the interfaces, and exit. */
static int list_interfaces(void)
{
    char err[512];
    if (capture_list_interfaces(stdout, err, sizeof err) != PS_OK) {
        log_err("%s", err);
        return MAIN_EXIT_FAIL;
    }
    return MAIN_EXIT_OK;
}

/* A database command's exit status: a usage-like refusal (the target given as a source) is 1. */
static int admin_status(enum ps_err e, const char *err)
{
    if (e == PS_OK) {
        return MAIN_EXIT_OK;
    }
    log_err("%s", err);
    return e == PS_ERR_ARG ? MAIN_EXIT_USAGE : MAIN_EXIT_FAIL;
}

/* plainsight merge INTO FROM...: one summary line on stdout. */
static int admin_merge(const struct cli_admin *a)
{
    char err[1024];
    struct sink_sqlite_merge_stats st;
    enum ps_err e =
        sink_sqlite_merge(a->db, a->from, a->n_from, a->is_allow_mixed_keys, &st, err, sizeof err);
    if (e != PS_OK) {
        return admin_status(e, err);
    }
    char marked[160] = "";
    if (st.marked > 0) {
        snprintf(marked, sizeof marked,
                 "; %llu fingerprints under another key marked (credentials.fingerprint_key_id)",
                 (unsigned long long)st.marked);
    }
    printf("merged %zu database%s into %s: %llu sessions added (%llu already there), %llu "
           "credentials, %llu runs added (%llu already there)%s\n",
           a->n_from, a->n_from == 1 ? "" : "s", a->db, (unsigned long long)st.sessions,
           (unsigned long long)st.sessions_known, (unsigned long long)st.credentials,
           (unsigned long long)st.runs, (unsigned long long)st.runs_known, marked);
    return MAIN_EXIT_OK;
}

/* plainsight prune --older-than DAYS DB: one summary line on stdout. */
static int admin_prune(const struct cli_admin *a)
{
    char err[1024];
    struct sink_sqlite_prune_stats st;
    uint64_t now = (uint64_t)time(NULL) * PS_USEC_PER_SEC;
    enum ps_err e = sink_sqlite_prune(a->db, a->days, now, &st, err, sizeof err);
    if (e != PS_OK) {
        return admin_status(e, err);
    }
    char which[96];
    if (st.cutoff[0] != '\0') {
        snprintf(which, sizeof which, "ended before %s", st.cutoff);
    } else {
        snprintf(which, sizeof which, "every one");
    }
    printf("pruned %s (sessions: %s): %llu sessions, %llu credentials and %llu runs removed; "
           "%llu KiB before, %llu KiB after\n",
           a->db, which, (unsigned long long)st.sessions, (unsigned long long)st.credentials,
           (unsigned long long)st.runs, (unsigned long long)(st.bytes_before + 1023) / 1024,
           (unsigned long long)(st.bytes_after + 1023) / 1024);
    return MAIN_EXIT_OK;
}

/* Opens every interface: a wrong name or missing permission fails before any file is made. A
 * setting libpcap refuses is a usage error; a bad filter, like a missing device, a failure.
 * live[] gets the open ones (close them whatever the answer). */
static int open_live(const struct cli_opts *o, struct capture **live)
{
    char err[512];
    for (size_t i = 0; i < o->n_ifaces; i++) {
        enum ps_err e =
            capture_open_live(o->ifaces[i], &o->live, o->bpf, &live[i], err, sizeof err);
        if (e != PS_OK) {
            log_err("%s", err);
            return e == PS_ERR_ARG ? MAIN_EXIT_USAGE : MAIN_EXIT_FAIL;
        }
    }
    return MAIN_GO_ON;
}

/* The run's fingerprint key, from the key file; when the file is missing, the key an earlier
 * release kept in the database (moved out), or a new one; the file is made (0600) before any
 * output is opened, so nothing is ever written with a key that is not on disk. A database
 * written with a key whose file is missing is an error, never a reason for a new key. */
static bool prepare_key(const struct sink_config *cfg, struct finding_key *key)
{
    char err[512];
    bool is_missing = false;
    bool is_loose = false;
    if (keyfile_load(cfg->key_path, key, &is_missing, &is_loose, err, sizeof err) != PS_OK) {
        log_err("%s", err);
        return false;
    }
    if (is_loose) {
        log_warn("%s: other users may read the fingerprint key file (chmod 600 it)", cfg->key_path);
    }
    if (!is_missing) {
        return true;
    }
    struct sink_key_state ks;
    memset(&ks, 0, sizeof ks);
    sink_peek_key(cfg, &ks, err, sizeof err);
    if (ks.has_key_id) {
        log_err("%s: the fingerprint key file is missing, and the %s was written with the key "
                "%s; give its key file with --key-file",
                cfg->key_path, ks.name, ks.key_id);
        return false;
    }
    bool is_moved = ks.has_old_key && !cfg->is_drop_old_key;
    if (is_moved) {
        *key = ks.old_key;
    } else if (finding_key_random(key) != PS_OK) {
        log_err("cannot make a fingerprint key: %s", strerror(errno));
        return false;
    }
    finding_key_wipe(&ks.old_key);
    if (keyfile_create(cfg->key_path, key, err, sizeof err) != PS_OK) {
        /* Beside the database, as by default, the two fail together: say so for both. */
        if (cfg->db_path != NULL) {
            log_err("%s: cannot be written: %s", cfg->db_path, err);
        } else {
            log_err("%s", err);
        }
        return false;
    }
    /* A new key for a new database is made without a word, as the database itself is. */
    if (is_moved) {
        log_info("%s: the fingerprint key the %s kept is moved into this file", cfg->key_path,
                 ks.name);
    } else if (ks.has_old_key) {
        log_warn("%s: the fingerprint key an earlier release kept in the %s is dropped: its "
                 "fingerprints will not compare with new ones",
                 cfg->key_path, ks.name);
    }
    return true;
}

/* Where the run writes, for its messages: the database, or with -w none the other outputs. */
static const char *describe_outputs(const struct sink_config *cfg, char *buf, size_t cap)
{
    if (cfg->db_path != NULL) {
        return cfg->db_path;
    }
    const char *json = cfg->json_path == NULL || strcmp(cfg->json_path, "-") == 0
                           ? "standard output"
                           : cfg->json_path;
    const char *sys =
        cfg->syslog_target == NULL || cfg->syslog_target[0] == '\0' ? "syslog" : cfg->syslog_target;
    snprintf(buf, cap, "%s%s%s", cfg->has_json ? json : "",
             cfg->has_json && cfg->has_syslog ? " and " : "", cfg->has_syslog ? sys : "");
    return buf;
}

/* Opens the outputs, drops root on live capture, and runs. Returns the exit status. */
static int wire_and_run(const struct cli_opts *o, struct capture *const *live)
{
    char err[512];
    char where[512];
    struct finding_key key = { .is_set = false };
    struct sink_set *out = NULL;
    if (!prepare_key(&o->out, &key)) {
        return MAIN_EXIT_FAIL;
    }
    if (sink_set_open(&o->out, &key, &out, err, sizeof err) != PS_OK) {
        log_err("%s", err);
        finding_key_wipe(&key);
        return MAIN_EXIT_FAIL;
    }
    int rc = MAIN_EXIT_FAIL;
    if (live == NULL || priv_drop(o->user, out, o->out.key_path)) {
        run_signals_install();
        struct run_config rc_cfg = {
            .files = o->files,
            .n_files = o->n_files,
            .live = live,
            .n_live = live != NULL ? o->n_ifaces : 0,
            .ifaces = o->ifaces,
            .iface = o->iface,
            .bpf = o->bpf,
            .db_path = describe_outputs(&o->out, where, sizeof where),
            .max_packets = o->max_packets,
            .memcap_bytes = o->memcap,
            .idle_sec = o->idle_sec,
            .is_ports_only = o->is_ports_only,
            .is_quiet = o->out.is_quiet,
            .community_id_seed = o->community_id_seed,
            .sensor = o->sensor,
            .flow_key = o->flow_key,
            .protocols = o->protocols,
            .decode = o->decode,
        };
        struct run *r = run_start(&rc_cfg, out, &key);
        if (r != NULL) {
            rc = exit_status(run_finish(r, run_read(r)));
        }
        run_free(r);
    }
    sink_set_close(out);
    finding_key_wipe(&key);
    return rc;
}

/* "plainsight report": the database (read-only) into one page. */
static int write_report(const struct report_opts *r)
{
    char err[512];
    if (report_write(r, err, sizeof err) != PS_OK) {
        log_err("%s", err);
        return MAIN_EXIT_FAIL;
    }
    return MAIN_EXIT_OK;
}

int main(int argc, char **argv)
{
    static struct cli_opts o;
    umask(077);
    switch (cli_parse(argc, argv, &o)) {
    case CLI_EXIT_OK:
        return MAIN_EXIT_OK;
    case CLI_EXIT_USAGE:
        return MAIN_EXIT_USAGE;
    case CLI_LIST:
        log_set_quiet(o.out.is_quiet);
        return list_interfaces();
    case CLI_MERGE:
        return admin_merge(&o.admin);
    case CLI_PRUNE:
        return admin_prune(&o.admin);
    case CLI_REPORT:
        return write_report(&o.report);
    case CLI_RUN:
        break;
    }
    log_set_quiet(o.out.is_quiet);
    int rc = MAIN_GO_ON;
    struct capture *live[CAPTURE_WAIT_MAX] = { NULL };
    if (o.n_ifaces > 0) {
        rc = open_live(&o, live);
    }
    if (rc == MAIN_GO_ON) {
        rc = wire_and_run(&o, o.n_ifaces > 0 ? live : NULL);
    }
    for (size_t i = 0; i < o.n_ifaces; i++) {
        capture_close(live[i]);
    }
    cli_free(&o);
    return rc;
}
