/* run.h - one run: the packet loops, the clock, the run record and its statistics.
 *
 * A run reads its capture files in turn, or one live interface, through decode and one flow
 * table; each finished session gets its fingerprints under the run's key and goes to the open
 * sinks. The run record (counters, times, status) is written at the start, every RUN_STATS_SEC
 * on live capture, and at the end. Live, a statistics line goes to stderr every RUN_STATS_SEC
 * (with -q every RUN_HEALTH_SEC), and at the next tick when kernel or interface drops start or
 * rise (at most once every RUN_DROPS_LINE_SEC). Signals only set flags that the loops check
 * between batches: SIGINT/SIGTERM end the run (open sessions are still written), SIGHUP reopens
 * the outputs. A fatal sink failure ends the run as a signal does, but as "failed". */
#ifndef PLAINSIGHT_RUN_H
#define PLAINSIGHT_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "ps.h"

struct capture;
struct finding_key;
struct sink_set;
struct run;

/* How a run ended; main turns it into the exit status. */
enum run_status {
    RUN_OK = 0,  /* done (also after SIGINT/SIGTERM or -c packets) */
    RUN_FAILED,  /* an input could not be opened or read, or an output failed */
    RUN_DAMAGED, /* an input was damaged part-way: what came before it was written */
};

/* What a run reads and how. Strings and objects borrowed for the life of the run. */
struct run_config {
    const char *const *files; /* capture files, read in turn ("-" is standard input) */
    size_t n_files;
    struct capture *const *live; /* the open live sources (n_live), or NULL to read files */
    size_t n_live;               /* at most CAPTURE_WAIT_MAX */
    const char *const *ifaces;   /* their names, in the same order */
    const char *iface;           /* the names joined by spaces: messages, the run's source */
    const char *bpf;             /* filter for the files, NULL for none (live: already installed) */
    const char *db_path;         /* the database (or, with -w none, the outputs), for messages */
    uint64_t max_packets;       /* stop after this many packets (-c), over all files; 0: no limit */
    size_t memcap_bytes;        /* flow state and reassembly (--memcap) */
    uint32_t idle_sec;          /* session idle timeout (--idle) */
    bool is_ports_only;         /* classify by port alone (--ports-only): no nDPI */
    bool is_quiet;              /* -q: the statistics line every RUN_HEALTH_SEC, not RUN_STATS_SEC;
                                   files: no progress line */
    uint16_t community_id_seed; /* --community-id-seed */
    const char *sensor;         /* --sensor, borrowed for the run */
    unsigned flow_key;          /* --flow-key: FLOW_KEY_* */
    uint32_t protocols;         /* --protocols: registry rows looked for (bits); 0 for all */
    struct decode_config decode; /* --vxlan-port, --geneve-port */
};

/* Which statistics line a live run owes stderr now (run_report_due). */
enum run_report {
    RUN_REPORT_NONE = 0,
    RUN_REPORT_STATS, /* the periodic line: "stats" */
    RUN_REPORT_DROPS, /* drops started or rose since the last line: "drops" */
};

/* When the statistics lines are due: the periodic one, and the one that reports new drops
 * without repeating itself more than once every RUN_DROPS_LINE_SEC. A small value type, set up
 * by run_report_init; its fields are the clock's own. */
struct run_report_clock {
    uint64_t period_usec;     /* between periodic lines */
    uint64_t next_usec;       /* the next periodic line */
    uint64_t drops_line_usec; /* the last line that reported new drops, 0 for none yet */
    uint64_t drops_shown;     /* the drops the last line showed */
};

/* Starts the clock at now_usec: the first periodic line one period later, every
 * RUN_STATS_SEC, or RUN_HEALTH_SEC when is_quiet. */
void run_report_init(struct run_report_clock *c, uint64_t now_usec, bool is_quiet);

/* Called on each tick with the run's drops so far (kernel and interface): returns the line due
 * now, or RUN_REPORT_NONE, and when one is due counts it as written (the next periodic line a
 * full period later). New drops are due at once, unless a line reported drops less than
 * RUN_DROPS_LINE_SEC ago; then when that much time has passed. */
enum run_report run_report_due(struct run_report_clock *c, uint64_t now_usec, uint64_t drops);

/* Sets the handlers: SIGINT and SIGTERM end the run, SIGHUP reopens outputs; SIGPIPE is
 * ignored (a closed JSON pipe is a write error, not death). */
void run_signals_install(void);

/* Starts a run: records it with the sinks (run_begin), then sets up classification and the flow
 * table. On failure logs why and returns NULL (the record may have been begun). Returns owned
 * (free with run_free). cfg, out and key are borrowed and must outlive the run. */
struct run *run_start(const struct run_config *cfg, struct sink_set *out,
                      const struct finding_key *key);

/* Reads the live interface until a signal, -c packets or a failure, or else every file in
 * turn. */
enum run_status run_read(struct run *r);

/* Ends the run after run_read returned st: writes every open session, settles the run's status
 * and row, the final statistics line (live), flushes every output, and logs the summary.
 * Returns the run's final status (RUN_FAILED when an output failed). */
enum run_status run_finish(struct run *r, enum run_status st);

/* Frees the flow table and classifier. NULL does nothing. */
void run_free(struct run *r);

#endif
