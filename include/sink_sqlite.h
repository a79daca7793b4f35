/* sink_sqlite.h - the SQLite database auditors query.
 *
 * The schema is sql/schema.sql, embedded at build time and applied at open; PRAGMA
 * user_version holds its version, and a database with a newer one is refused. WAL mode,
 * prepared statements, sessions batched into transactions. The file is created mode 0600.
 * The only module that includes sqlite3.h. */
#ifndef PLAINSIGHT_SINK_SQLITE_H
#define PLAINSIGHT_SINK_SQLITE_H

#include <stdbool.h>
#include <stdint.h>

#include "finding.h"
#include "ps.h"
#include "sink_ops.h"

struct sink_sqlite;

/* The schema version this build writes. */
/* 2: the fingerprint key left the meta table for a key file (meta keeps its id).
 * 3: credentials go with their session (ON DELETE CASCADE); runs.merged_from, merged_run_id;
 *    credentials.fingerprint_key_id (plainsight merge --allow-mixed-keys). */
#define SINK_SQLITE_SCHEMA_VERSION 3

/* The sink behind sink.h: opened when the configuration names a database (-w), every failure
 * stops the run, and it is not written again once the run has failed. */
extern const struct sink_ops sink_sqlite_ops;

/* The fingerprint key a database is opened with; all borrowed. */
struct sink_sqlite_key {
    const struct finding_key *key; /* the run's key (set): its id is recorded in meta */
    const char *key_path;          /* its file, for messages; may be NULL */
    bool is_drop_old_key;          /* delete an earlier release's key even when it differs */
};

/* Opens (creating if needed, mode 0600) the database at path and applies the schema. When
 * is_reveal, credentials keep their cleartext secret, challenge and response; otherwise those
 * columns stay NULL. The database records k's key id; it is refused when it names another key,
 * or holds an earlier release's key other than k's (unless is_drop_old_key); such a key, once
 * it is k's or dropped, is removed. On failure returns PS_ERR_DB or PS_ERR_SCHEMA with a
 * one-line reason naming the file in err. *out is owned (close with sink_sqlite_close). */
enum ps_err sink_sqlite_open(const char *path, bool is_reveal, const struct sink_sqlite_key *k,
                             struct sink_sqlite **out, char *err, size_t errcap);

/* Reads what the database at path (if it exists) says of its key into *ks, changing nothing:
 * an earlier release's key, or the id of the key it was written with. Always PS_OK: a file
 * that is no usable database says nothing here, and its open says why. */
enum ps_err sink_sqlite_peek_key(const char *path, struct sink_key_state *ks, char *err,
                                 size_t errcap);

/* Starts the run: inserts its row. */
enum ps_err sink_sqlite_run_begin(struct sink_sqlite *db, const struct run_record *run);

/* Writes one finished session and its credentials (borrowed) in the current batch. When a
 * credential event wrote its row (s->is_published), that row and its credentials are replaced
 * by the final ones. */
enum ps_err sink_sqlite_session(struct sink_sqlite *db, const struct session *s);

/* A credential event: writes s's row as it is so far (end reason "open"; made at the first
 * event, found by uid after) and credential i (made, or brought up to date), and commits at the
 * next tick whatever the batch. */
enum ps_err sink_sqlite_credential(struct sink_sqlite *db, const struct session *s, size_t i);

/* Commits the batch when SINK_SQLITE_BATCH sessions are pending or SINK_SQLITE_COMMIT_USEC
 * have passed since the last commit (now_usec: wall clock), or always when is_force. */
enum ps_err sink_sqlite_commit(struct sink_sqlite *db, uint64_t now_usec, bool is_force);

/* Updates the run's row (counters, end time, status) and commits. */
enum ps_err sink_sqlite_run_update(struct sink_sqlite *db, const struct run_record *run);

/* The library's last error text, for messages. */
const char *sink_sqlite_error(const struct sink_sqlite *db);

/* Commits what is pending, finalizes statements and closes. NULL does nothing. */
void sink_sqlite_close(struct sink_sqlite *db);

/* SQLite's version string. */
const char *sink_sqlite_lib_version(void);

/* What a merge did. */
struct sink_sqlite_merge_stats {
    uint64_t sessions;       /* added, with their credentials */
    uint64_t sessions_known; /* already in the target (the same uid): skipped */
    uint64_t credentials;    /* added */
    uint64_t runs;           /* added (runs.merged_from names their file) */
    uint64_t runs_known;     /* already in the target (the same start, process and source) */
    uint64_t marked;         /* credentials whose fingerprint is under another key: their
                                fingerprint_key_id names it (--allow-mixed-keys) */
    size_t mixed_files;      /* sources written with another fingerprint key */
};

/* plainsight merge: copies the runs, run counters, sessions and credentials of the plainsight
 * databases from[0..n_from) (borrowed paths, read only) into the database at into (created 0600
 * when missing; migrated when older), in one transaction: on any failure (a full disk included)
 * nothing is written and a target this call made is removed. A session whose uid the target has
 * (or, without a uid, the same times, endpoints and protocol) is skipped and counted, its
 * credentials with it; a run the target has is found again (same start, mode, source, version,
 * pid, host and sensor) rather than copied, so merging the same files twice adds nothing. Every
 * source is checked before anything is written: not a plainsight database, a newer schema, the
 * target itself, or (unless is_allow_mixed_keys) a fingerprint key other than the target's (or
 * the first source's, for a new target) refuse the merge. With is_allow_mixed_keys, a fingerprint
 * made under another key keeps that key's id in credentials.fingerprint_key_id. *st says what was
 * done. Returns PS_OK; PS_ERR_ARG (the target given as a source), PS_ERR_DB or PS_ERR_SCHEMA with
 * a one-line reason naming the file in err. */
enum ps_err sink_sqlite_merge(const char *into, const char *const *from, size_t n_from,
                              bool is_allow_mixed_keys, struct sink_sqlite_merge_stats *st,
                              char *err, size_t errcap);

/* What a prune did. */
struct sink_sqlite_prune_stats {
    uint64_t sessions;     /* removed */
    uint64_t credentials;  /* removed with their sessions */
    uint64_t runs;         /* removed: finished before the cutoff, no session left */
    uint64_t bytes_before; /* the database file and its WAL, before and after */
    uint64_t bytes_after;
    char cutoff[40]; /* the cutoff as written in ts_end; empty for days 0 (everything) */
};

/* plainsight prune: in the existing plainsight database at path, deletes in one transaction the
 * sessions whose last packet (ts_end) is older than now_usec (UTC wall clock) less days, their
 * credentials with them (ON DELETE CASCADE), then the runs that ended before that cutoff, are not
 * running and have no session left, with their counters; days 0 deletes every session. Then it
 * VACUUMs and empties the WAL, so the file shrinks. *st says what was done. Returns PS_OK;
 * PS_ERR_DB or PS_ERR_SCHEMA with a one-line reason naming the file in err (a failed VACUUM says
 * the deletion itself was committed). */
enum ps_err sink_sqlite_prune(const char *path, uint32_t days, uint64_t now_usec,
                              struct sink_sqlite_prune_stats *st, char *err, size_t errcap);

#endif
