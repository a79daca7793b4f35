/* sink.h - the outputs behind one interface (sink_ops.h): the registry of sinks, and the set of
 * open sinks the run writes to.
 *
 * Each output (SQLite, JSON lines, syslog, console) is one module that fills a struct sink_ops and
 * is listed once in sink.c's registry; the set opens every registered sink the configuration asks
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
#include "sink_ops.h"

struct finding_key;
struct run_record;
struct session;

/* The registered sinks, in the order they open, are written and (reversed) close. */
size_t sink_registry_count(void);
const struct sink_ops *sink_registry_get(size_t i);

struct sink_set;

/* Opens every registered sink cfg asks for, in registry order, with key (borrowed; see
 * sink_open_fn). On failure closes what it opened and returns the error with the failing
 * sink's message in err. *out is owned (close with sink_set_close). */
enum ps_err sink_set_open(const struct sink_config *cfg, const struct finding_key *key,
                          struct sink_set **out, char *err, size_t errcap);

/* Asks each registered output cfg names what it already says of the fingerprint key
 * (sink_peek_key_fn), before any is opened; *ks (zeroed by the caller) holds the first that
 * says something. */
enum ps_err sink_peek_key(const struct sink_config *cfg, struct sink_key_state *ks, char *err,
                          size_t errcap);

/* Like sink_set_open, for the given ops tables (borrowed, n of them) instead of the registry:
 * for tests and tools that want some outputs only. */
enum ps_err sink_set_open_ops(const struct sink_ops *const *ops, size_t n,
                              const struct sink_config *cfg, const struct finding_key *key,
                              struct sink_set **out, char *err, size_t errcap);

/* The fan-out: each calls the op of every open sink (in order; skipped where the sink has
 * none, or has SINK_F_SKIP_FAILED and the set failed), logs each failure, and returns the
 * first fatal failure of this call (PS_OK when there was none). */
enum ps_err sink_set_run_begin(struct sink_set *set, const struct run_record *run);
enum ps_err sink_set_session(struct sink_set *set, const struct session *s);
enum ps_err sink_set_credential(struct sink_set *set, const struct session *s, size_t i);
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

/* Checks a --syslog target before the run: false with the reason in err when it is none
 * (sink_syslog.h says what one is). */
bool sink_check_syslog_target(const char *target, char *err, size_t errcap);

/* A syslog facility's code for its name (kern ... local7), or -1. */
int sink_facility_code(const char *name);

/* The version of the database library the SQLite sink uses, for -V. */
const char *sink_db_lib_version(void);

/* The number of open sinks. */
size_t sink_set_count(const struct sink_set *set);

/* Closes every open sink in reverse order and frees the set. NULL does nothing. */
void sink_set_close(struct sink_set *set);

#endif
