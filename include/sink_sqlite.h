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
/* 2: the fingerprint key left the meta table for a key file (meta keeps its id). */
#define SINK_SQLITE_SCHEMA_VERSION 2

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

#endif
