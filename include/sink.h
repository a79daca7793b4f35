/* sink.h - the outputs behind one interface: an ops table per sink, a registry, and the set of
 * open sinks the run writes to.
 *
 * Each output (SQLite, JSON lines, console) is one module that fills a struct sink_ops and is
 * listed once in sink.c's registry; the set opens every registered sink the configuration asks
 * for, in registry order, and fans each call out to them. A new output is its own file and
 * one registry line: the wiring and the run loop talk to the set only.
 *
 * Failures: a sink's op returns a negative enum ps_err and writes a one-line message naming
 * its file into err. The set logs every message, and a failure that the sink's flags make
 * fatal (SINK_F_STOPS, or SINK_F_STOPS_OFFLINE on an offline run, or any failure of a forced
 * tick at the end of the run, when nothing can be retried) marks the set failed: the call
 * returns the error, sink_set_failure tells which sink and why, and the caller stops the run.
 * A sink with SINK_F_SKIP_FAILED is not called again once the set has failed. */
#ifndef PLAINSIGHT_SINK_H
#define PLAINSIGHT_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ps.h"

struct finding_key;
struct run_record;
struct session;

/* The output settings of the command line; strings borrowed for the life of the set. */
struct sink_config {
    const char *db_path;   /* SQLite database (-w) */
    bool has_json;         /* --json given */
    const char *json_path; /* its FILE: NULL or "-" for standard output */
    bool is_reveal;        /* --reveal-secrets: cleartext secrets in every output */
    bool is_quiet;         /* -q: no console lines */
    bool is_live;          /* a live run: a JSON failure does not stop it (SIGHUP may mend it) */
};

/* Flags of a sink, in its ops table. */
#define SINK_F_STOPS         0x1u /* any failure stops the run (the database) */
#define SINK_F_STOPS_OFFLINE 0x2u /* a failure stops an offline run; a live run goes on */
#define SINK_F_SKIP_FAILED   0x4u /* not written once the set has failed */

/* Each op gets the state its open returned (borrowed). err[0..errcap) receives a one-line
 * message on failure. Optional ops may be NULL. */

/* Opens the sink when cfg asks for it: PS_OK with *out set (owned, close with the close op),
 * PS_OK with *out NULL when cfg does not ask for this output, or an error. key (borrowed) is
 * the run's fingerprint key: a sink that keeps one loads it into *key, or stores *key when it
 * has none (making it first if no earlier sink did). */
typedef enum ps_err sink_open_fn(const struct sink_config *cfg, struct finding_key *key, void **out,
                                 char *err, size_t errcap);
/* The run starts (run borrowed). Optional. */
typedef enum ps_err sink_run_fn(void *st, const struct run_record *run, char *err, size_t errcap);
/* One finished session (borrowed, fingerprints made). Required. */
typedef enum ps_err sink_session_fn(void *st, const struct session *s, char *err, size_t errcap);
/* The clock: commit or flush what is due at now_usec (wall clock), or everything when
 * is_force. Optional. */
typedef enum ps_err sink_tick_fn(void *st, uint64_t now_usec, bool is_force, char *err,
                                 size_t errcap);
/* SIGHUP: reopen files by their names (log rotation). Optional. */
typedef enum ps_err sink_reopen_fn(void *st, char *err, size_t errcap);
/* Called by sink_files_fn for each file the sink writes (path borrowed for the call);
 * is_optional when the file may not exist (then its absence is no failure). */
typedef void sink_file_fn(void *ctx, const char *path, bool is_optional);
/* Names every file the sink writes, through fn. Optional. */
typedef void sink_files_fn(void *st, sink_file_fn *fn, void *ctx);
/* Commits or flushes what is pending and frees the state. Required; never called with NULL. */
typedef void sink_close_fn(void *st);

struct sink_ops {
    const char *name; /* "sqlite", "json", "console": for sink_set_failure */
    unsigned flags;   /* SINK_F_* */
    sink_open_fn *open;
    sink_run_fn *run_begin;
    sink_session_fn *session;
    sink_tick_fn *tick;
    sink_run_fn *run_update; /* the run's row brought up to date (counters, end, status) */
    sink_reopen_fn *reopen;
    sink_files_fn *files;
    sink_close_fn *close;
};

/* The registered sinks, in the order they open, are written and (reversed) close. */
size_t sink_registry_count(void);
const struct sink_ops *sink_registry_get(size_t i);

struct sink_set;

/* Opens every registered sink cfg asks for, in registry order, with key (borrowed; see
 * sink_open_fn). On failure closes what it opened and returns the error with the failing
 * sink's message in err. *out is owned (close with sink_set_close). */
enum ps_err sink_set_open(const struct sink_config *cfg, struct finding_key *key,
                          struct sink_set **out, char *err, size_t errcap);

/* Like sink_set_open, for the given ops tables (borrowed, n of them) instead of the registry:
 * for tests and tools that want some outputs only. */
enum ps_err sink_set_open_ops(const struct sink_ops *const *ops, size_t n,
                              const struct sink_config *cfg, struct finding_key *key,
                              struct sink_set **out, char *err, size_t errcap);

/* The fan-out: each calls the op of every open sink (in order; skipped where the sink has
 * none, or has SINK_F_SKIP_FAILED and the set failed), logs each failure, and returns the
 * first fatal failure of this call (PS_OK when there was none). */
enum ps_err sink_set_run_begin(struct sink_set *set, const struct run_record *run);
enum ps_err sink_set_session(struct sink_set *set, const struct session *s);
enum ps_err sink_set_tick(struct sink_set *set, uint64_t now_usec, bool is_force);
enum ps_err sink_set_run_update(struct sink_set *set, const struct run_record *run);
enum ps_err sink_set_reopen(struct sink_set *set);

/* Names every file the open sinks write (see sink_files_fn). */
void sink_set_files(const struct sink_set *set, sink_file_fn *fn, void *ctx);

/* True once a fatal failure happened. */
bool sink_set_has_failed(const struct sink_set *set);

/* The first fatal failure's message (owned by the set), or NULL when there was none;
 * *name (if name is not NULL) is set to the failing sink's name. */
const char *sink_set_failure(const struct sink_set *set, const char **name);

/* The number of open sinks. */
size_t sink_set_count(const struct sink_set *set);

/* Closes every open sink in reverse order and frees the set. NULL does nothing. */
void sink_set_close(struct sink_set *set);

#endif
