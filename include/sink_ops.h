/* sink_ops.h - the interface every output implements: its settings, flags and ops table.
 *
 * Each output (SQLite, JSON lines, syslog, console) is one module that fills a struct sink_ops;
 * sink.c lists it in the registry and fans the run's calls out to the open ones. This header is the
 * contract between the two, kept apart from the registry so that a sink's header never
 * includes the module that includes it.
 *
 * Failures: an op returns a negative enum ps_err and writes a one-line message naming its file
 * into err; the sink's flags say whether the run stops (sink.h). */
#ifndef PLAINSIGHT_SINK_OPS_H
#define PLAINSIGHT_SINK_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "finding.h"
#include "ps.h"

struct run_record;
struct session;

/* The output settings of the command line; strings borrowed for the life of the set. */
struct sink_config {
    const char *db_path;       /* SQLite database (-w); NULL for none (-w none) */
    bool has_json;             /* --json given */
    const char *json_path;     /* its FILE: NULL or "-" for standard output */
    bool has_syslog;           /* --syslog given */
    const char *syslog_target; /* its TARGET (sink_syslog.h); NULL for the local socket */
    unsigned syslog_facility;  /* --syslog-facility, as its code */
    bool is_reveal;            /* --reveal-secrets: cleartext secrets in every output */
    bool is_quiet;             /* -q: no console lines */
    bool is_live;         /* a live run: a JSON failure does not stop it (SIGHUP may mend it) */
    const char *key_path; /* the fingerprint key's file, for messages */
    bool is_drop_old_key; /* --drop-old-key: a key an earlier release kept in the database is
                             deleted even when it is not the key file's */
};

/* What an existing output says of the fingerprint key before the run opens it (peek_key). */
struct sink_key_state {
    bool has_old_key;           /* an earlier release stored the key itself in the output */
    struct finding_key old_key; /* that key: the wiring moves it into the key file */
    bool has_key_id;            /* the output names the key it was written with */
    char key_id[FINDING_KEY_ID_HEX + 1];
    const char *name; /* the output that said so (a static string), for messages */
};

/* Flags of a sink, in its ops table. */
#define SINK_F_STOPS         0x1u /* any failure stops the run (the database) */
#define SINK_F_STOPS_OFFLINE 0x2u /* a failure stops an offline run; a live run goes on */
#define SINK_F_SKIP_FAILED   0x4u /* not written once the set has failed */

/* Each op gets the state its open returned (borrowed). err[0..errcap) receives a one-line
 * message on failure. Optional ops may be NULL. */

/* Opens the sink when cfg asks for it: PS_OK with *out set (owned, close with the close op),
 * PS_OK with *out NULL when cfg does not ask for this output, or an error. key (borrowed, set)
 * is the run's fingerprint key: an output that records which key wrote it checks and records
 * the key's id, never the key. */
typedef enum ps_err sink_open_fn(const struct sink_config *cfg, const struct finding_key *key,
                                 void **out, char *err, size_t errcap);
/* Looks at the output cfg names, if it exists, without changing it, and fills *ks (zeroed by
 * the caller) with what it says of the fingerprint key. Optional: outputs that keep nothing
 * of the key have none. */
typedef enum ps_err sink_peek_key_fn(const struct sink_config *cfg, struct sink_key_state *ks,
                                     char *err, size_t errcap);
/* The run starts (run borrowed). Optional. */
typedef enum ps_err sink_run_fn(void *st, const struct run_record *run, char *err, size_t errcap);
/* A credential event of a session still open (live runs): credential i of s (borrowed,
 * fingerprints made) is ready or has its result now. The session's own record follows at its
 * end (is_published set), and replaces what the events wrote. Optional. */
typedef enum ps_err sink_cred_fn(void *st, const struct session *s, size_t i, char *err,
                                 size_t errcap);
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
    const char *name; /* "sqlite", "json", "syslog", "console": for sink_set_failure */
    unsigned flags;   /* SINK_F_* */
    sink_open_fn *open;
    sink_peek_key_fn *peek_key;
    sink_run_fn *run_begin;
    sink_session_fn *session;
    sink_cred_fn *credential;
    sink_tick_fn *tick;
    sink_run_fn *run_update; /* the run's row brought up to date (counters, end, status) */
    sink_reopen_fn *reopen;
    sink_files_fn *files;
    sink_close_fn *close;
};

#endif
