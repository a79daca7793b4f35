/* sink_sqlite.c - sessions, credentials and runs into the SQLite database auditors query.
 *
 * The schema text is embedded from sql/schema.sql and applied on open (every statement is
 * idempotent: CREATE ... IF NOT EXISTS). PRAGMA user_version records the version; a database
 * written by a newer plainsight is refused rather than half-understood. Sessions are inserted
 * through prepared statements inside a transaction that is committed every SINK_SQLITE_BATCH
 * sessions or SINK_SQLITE_COMMIT_USEC, so a crash loses at most that much. WAL mode lets
 * auditors read while a live capture writes. The file is created mode 0600 before SQLite opens
 * it: it holds what the network leaked. The fingerprint key is not in it (keyfile.h): meta
 * records only the key's id, and a database written with another key is refused, so that one
 * database never mixes fingerprints of two keys. A key an earlier release kept in meta
 * (schema version 1) is removed with secure_delete once the wiring has moved it to the key
 * file, and the WAL is emptied after, so no copy of its bytes is left in the files.
 *
 * Behind sink.h as sink_sqlite_ops: every failure stops the run (the database is the record
 * auditors rely on), and once the run has failed the database is left alone.
 *
 * The database commands live here too, as the only module that speaks SQLite: plainsight merge
 * (sink_sqlite_merge) reads its sources on connections of their own, by column name so that an
 * older schema reads as well, and writes the target in the same transaction as the target's
 * migration; plainsight prune (sink_sqlite_prune) deletes in one transaction and VACUUMs after.
 * Neither needs the fingerprint key: they copy or delete fingerprints, never make one. */
#include "sink_sqlite.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "schema_sql.h"

struct sink_sqlite {
    sqlite3 *db;
    char *path;
    bool is_reveal;
    bool in_txn;
    size_t pending;
    uint64_t last_commit_usec;
    int64_t run_id;
    bool has_cred_events; /* a credential event waits in the transaction: commit at the tick */
    uint64_t duplicates;  /* sessions whose uid the database had already: not written again */
    sqlite3_stmt *ins_session;
    sqlite3_stmt *upd_session;
    sqlite3_stmt *find_session;
    sqlite3_stmt *upsert_cred;
    sqlite3_stmt *del_creds;
    sqlite3_stmt *ins_cred;
    sqlite3_stmt *upd_run;
    sqlite3_stmt *ins_counter;
};

static const char sql_ins_session[] =
    "INSERT INTO sessions (run_id, ts_start, ts_end, client_ip, client_port, server_ip,"
    " server_port, vlan, protocol, tls, tls_version, tls_weak, starttls, exposure, end_reason,"
    " packets, bytes_client, bytes_server, gaps, gap_bytes, injected_commands,"
    " credentials_dropped, uid, community_id, sensor, tunnel, interface, banner, client_name,"
    " sni, cert_subject, cert_issuer, proxy_target)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,"
    " ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33)"
    " ON CONFLICT (uid) DO NOTHING";

/* The same columns into the row a credential event wrote (?1 is its id, not the run). */
static const char sql_upd_session[] =
    "UPDATE sessions SET ts_start = ?2, ts_end = ?3, client_ip = ?4, client_port = ?5,"
    " server_ip = ?6, server_port = ?7, vlan = ?8, protocol = ?9, tls = ?10, tls_version = ?11,"
    " tls_weak = ?12, starttls = ?13, exposure = ?14, end_reason = ?15, packets = ?16,"
    " bytes_client = ?17, bytes_server = ?18, gaps = ?19, gap_bytes = ?20,"
    " injected_commands = ?21, credentials_dropped = ?22, uid = ?23, community_id = ?24,"
    " sensor = ?25, tunnel = ?26, interface = ?27, banner = ?28, client_name = ?29, sni = ?30,"
    " cert_subject = ?31, cert_issuer = ?32, proxy_target = ?33 WHERE id = ?1";

static const char sql_find_session[] = "SELECT id FROM sessions WHERE uid = ?1";

static const char sql_del_creds[] = "DELETE FROM credentials WHERE session_id = ?1";

static const char sql_ins_cred[] =
    "INSERT INTO credentials (session_id, seq, mechanism, username, secret, secret_len,"
    " secret_fingerprint, challenge, response, result, truncated, anonymous, incomplete)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";

/* A credential event: the row for (session, seq), made or brought up to date. */
static const char sql_upsert_cred[] =
    "INSERT INTO credentials (session_id, seq, mechanism, username, secret, secret_len,"
    " secret_fingerprint, challenge, response, result, truncated, anonymous, incomplete)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
    " ON CONFLICT (session_id, seq) DO UPDATE SET mechanism = excluded.mechanism,"
    " username = excluded.username, secret = excluded.secret, secret_len = excluded.secret_len,"
    " secret_fingerprint = excluded.secret_fingerprint, challenge = excluded.challenge,"
    " response = excluded.response, result = excluded.result, truncated = excluded.truncated,"
    " anonymous = excluded.anonymous, incomplete = excluded.incomplete";

static const char sql_upd_run[] =
    "UPDATE runs SET status = ?2, ended = ?3, first_packet = ?4, last_packet = ?5,"
    " packets = ?6, bytes = ?7, sessions = ?8, exposed = ?9 WHERE id = ?1";

static const char sql_ins_counter[] =
    "INSERT OR REPLACE INTO run_counters (run_id, name, value) VALUES (?1, ?2, ?3)";

static void set_err(char *err, size_t errcap, const char *path, const char *what, const char *why)
{
    snprintf(err, errcap, "%s: %s: %s", path, what, why);
}

static int exec(struct sink_sqlite *db, const char *sql)
{
    return sqlite3_exec(db->db, sql, NULL, NULL, NULL);
}

/* Creates the file 0600 if it does not exist, so SQLite never makes it world-readable. */
static enum ps_err create_private(const char *path, char *err, size_t errcap)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        close(fd);
        return PS_OK;
    }
    if (errno == EEXIST) {
        return PS_OK;
    }
    set_err(err, errcap, path, "cannot create database", strerror(errno));
    return PS_ERR_DB;
}

/* Reads meta's value for name into out (cap bytes at most; *len its length). False when the row
 * is missing or its value is longer. */
static bool meta_get(sqlite3 *conn, const char *name, void *out, size_t cap, size_t *len)
{
    sqlite3_stmt *st = NULL;
    bool found = false;
    if (sqlite3_prepare_v2(conn, "SELECT value FROM meta WHERE key = ?1", -1, &st, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            int n = sqlite3_column_bytes(st, 0);
            const void *v = sqlite3_column_blob(st, 0);
            if (n >= 0 && (size_t)n <= cap && (v != NULL || n == 0)) {
                memcpy(out, v, (size_t)n);
                *len = (size_t)n;
                found = true;
            }
        }
    }
    sqlite3_finalize(st);
    return found;
}

/* What an earlier release left in meta: the key itself (schema version 1). */
#define SINK_SQLITE_OLD_KEY "fingerprint_key"
/* The id of the key the database is written with. */
#define SINK_SQLITE_KEY_ID "fingerprint_key_id"

/* Fills *ks from the database's meta table (conn open). */
static void read_key_state(sqlite3 *conn, struct sink_key_state *ks)
{
    uint8_t old[FINDING_KEY_LEN];
    size_t n = 0;
    if (meta_get(conn, SINK_SQLITE_OLD_KEY, old, sizeof old, &n) && n == FINDING_KEY_LEN) {
        finding_key_set(&ks->old_key, old);
        ks->has_old_key = true;
    }
    explicit_bzero(old, sizeof old);
    if (meta_get(conn, SINK_SQLITE_KEY_ID, ks->key_id, FINDING_KEY_ID_HEX, &n) &&
        n == FINDING_KEY_ID_HEX) {
        ks->key_id[FINDING_KEY_ID_HEX] = '\0';
        ks->has_key_id = true;
    }
    ks->name = "database";
}

/* Settles the fingerprint key inside the schema's transaction: the database is written with
 * key (the key file's), so it records key's id, refuses when it names another key, and
 * removes a key an earlier release stored in it (secure_delete overwrites its bytes; the
 * caller truncates the WAL after the commit). *is_key_removed says whether it did. */
static enum ps_err settle_key(struct sink_sqlite *db, const struct finding_key *key,
                              const char *key_path, bool is_drop_old_key, bool *is_key_removed,
                              char *err, size_t errcap)
{
    struct sink_key_state ks;
    memset(&ks, 0, sizeof ks);
    read_key_state(db->db, &ks);
    char id[FINDING_KEY_ID_HEX + 1];
    finding_key_id(key, id);
    char why[256];
    enum ps_err e = PS_OK;
    if (ks.has_key_id && strcmp(ks.key_id, id) != 0) {
        snprintf(why, sizeof why,
                 "written with the fingerprint key %s, not the key of %s (%s); give its key "
                 "file with --key-file",
                 ks.key_id, key_path != NULL ? key_path : "this run", id);
        set_err(err, errcap, db->path, "refused", why);
        e = PS_ERR_DB;
    } else if (ks.has_old_key && !is_drop_old_key &&
               memcmp(ks.old_key.bytes, key->bytes, FINDING_KEY_LEN) != 0) {
        snprintf(why, sizeof why,
                 "holds a fingerprint key of an earlier release, not the key of %s; "
                 "--drop-old-key deletes it (old and new fingerprints will not compare)",
                 key_path != NULL ? key_path : "this run");
        set_err(err, errcap, db->path, "refused", why);
        e = PS_ERR_DB;
    }
    finding_key_wipe(&ks.old_key);
    if (e != PS_OK) {
        return e;
    }
    sqlite3_stmt *st = NULL;
    int rc = SQLITE_OK;
    *is_key_removed = false;
    if (ks.has_old_key) {
        rc = exec(db, "PRAGMA secure_delete = ON");
        if (rc == SQLITE_OK) {
            rc = exec(db, "DELETE FROM meta WHERE key = '" SINK_SQLITE_OLD_KEY "'");
        }
        *is_key_removed = rc == SQLITE_OK;
    }
    if (rc == SQLITE_OK && !ks.has_key_id) {
        rc = sqlite3_prepare_v2(
            db->db, "INSERT INTO meta (key, value) VALUES ('" SINK_SQLITE_KEY_ID "', ?1)", -1, &st,
            NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_text(st, 1, id, FINDING_KEY_ID_HEX, SQLITE_STATIC);
            rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
        }
        sqlite3_finalize(st);
    }
    if (rc != SQLITE_OK) {
        set_err(err, errcap, db->path, "cannot record the fingerprint key's id",
                sqlite3_errmsg(db->db));
        return PS_ERR_DB;
    }
    return PS_OK;
}

/* Runs st to its end, then resets it for the next use. */
static int step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* The host name, for runs.host; false when the system gives none. */
static bool this_host(char *buf, size_t cap)
{
    if (gethostname(buf, cap) != 0) {
        return false;
    }
    buf[cap - 1] = '\0';
    return true;
}

/* True when the query (our own text) with text parameters a and b returns a row. */
static bool has_row(struct sink_sqlite *db, const char *sql, const char *a, const char *b)
{
    sqlite3_stmt *st = NULL;
    bool found = false;
    if (sqlite3_prepare_v2(db->db, sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
        found = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return found;
}

/* Version 1 had no sessions.uid, runs.pid or runs.host, and databases written before
 * credentials.anonymous, sessions.community_id, the sensor columns, the context columns (banner
 * to proxy_target) or version 3's columns have no such column: they are added before the
 * schema's text (whose indexes name them) is applied. A table that does not exist yet is made
 * whole by that text.
 *
 * Version 3 made a session's credentials go with it (ON DELETE CASCADE). SQLite cannot alter a
 * foreign key, so an older credentials table is renamed aside (its indexes dropped: their names
 * are the new table's, and the views naming it are dropped too, the schema's text making them
 * anew), the schema's text creates the table as it is now, and finish_migrate copies the rows over
 * and drops the old table: all inside the schema's transaction. *is_rebuilt says it began. */
static int migrate(struct sink_sqlite *db, bool *is_rebuilt)
{
    static const struct {
        const char *table, *column, *sql;
    } added[] = {
        { "sessions", "uid", "ALTER TABLE sessions ADD COLUMN uid TEXT" },
        { "runs", "pid", "ALTER TABLE runs ADD COLUMN pid INTEGER" },
        { "runs", "host", "ALTER TABLE runs ADD COLUMN host TEXT" },
        { "credentials", "anonymous",
          "ALTER TABLE credentials ADD COLUMN anonymous INTEGER NOT NULL DEFAULT 0" },
        { "sessions", "community_id", "ALTER TABLE sessions ADD COLUMN community_id TEXT" },
        { "sessions", "sensor", "ALTER TABLE sessions ADD COLUMN sensor TEXT" },
        { "runs", "sensor", "ALTER TABLE runs ADD COLUMN sensor TEXT" },
        { "sessions", "tunnel", "ALTER TABLE sessions ADD COLUMN tunnel TEXT" },
        { "credentials", "incomplete",
          "ALTER TABLE credentials ADD COLUMN incomplete INTEGER NOT NULL DEFAULT 0" },
        { "sessions", "interface", "ALTER TABLE sessions ADD COLUMN interface TEXT" },
        { "sessions", "banner", "ALTER TABLE sessions ADD COLUMN banner TEXT" },
        { "sessions", "client_name", "ALTER TABLE sessions ADD COLUMN client_name TEXT" },
        { "sessions", "sni", "ALTER TABLE sessions ADD COLUMN sni TEXT" },
        { "sessions", "cert_subject", "ALTER TABLE sessions ADD COLUMN cert_subject TEXT" },
        { "sessions", "cert_issuer", "ALTER TABLE sessions ADD COLUMN cert_issuer TEXT" },
        { "sessions", "proxy_target", "ALTER TABLE sessions ADD COLUMN proxy_target TEXT" },
        { "runs", "merged_from", "ALTER TABLE runs ADD COLUMN merged_from TEXT" },
        { "runs", "merged_run_id", "ALTER TABLE runs ADD COLUMN merged_run_id INTEGER" },
        { "credentials", "fingerprint_key_id",
          "ALTER TABLE credentials ADD COLUMN fingerprint_key_id TEXT" },
    };
    *is_rebuilt = false;
    for (size_t i = 0; i < sizeof added / sizeof added[0]; i++) {
        bool is_table =
            has_row(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                    added[i].table, NULL);
        bool is_column = has_row(db, "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2",
                                 added[i].table, added[i].column);
        if (is_table && !is_column && exec(db, added[i].sql) != SQLITE_OK) {
            return SQLITE_ERROR;
        }
    }
    if (!has_row(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                 "credentials", NULL) ||
        has_row(db,
                "SELECT 1 FROM pragma_foreign_key_list(?1) WHERE \"table\" = ?2"
                " AND on_delete = 'CASCADE'",
                "credentials", "sessions")) {
        return SQLITE_OK;
    }
    *is_rebuilt = true;
    return exec(db, "DROP VIEW IF EXISTS exposed_accounts;"
                    " DROP VIEW IF EXISTS cleartext_servers;"
                    " DROP VIEW IF EXISTS exposed_credentials;"
                    " ALTER TABLE credentials RENAME TO credentials_v2;"
                    " DROP INDEX IF EXISTS credentials_session_seq;"
                    " DROP INDEX IF EXISTS credentials_user");
}

/* The rebuild's second half, once the schema's text has made the new credentials table: the rows
 * move over with their ids, but for those whose session is gone (a DELETE made by hand with the
 * foreign keys off), which the new table's constraint would refuse. */
static int finish_migrate(struct sink_sqlite *db)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->db,
                                "INSERT INTO credentials (id, session_id, seq, mechanism, username,"
                                " secret, secret_len, secret_fingerprint, challenge, response,"
                                " result, truncated, anonymous, incomplete, fingerprint_key_id)"
                                " SELECT id, session_id, seq, mechanism, username, secret,"
                                " secret_len, secret_fingerprint, challenge, response, result,"
                                " truncated, anonymous, incomplete, fingerprint_key_id"
                                " FROM credentials_v2"
                                " WHERE session_id IN (SELECT id FROM sessions)",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = step_done(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK) {
        return rc;
    }
    int64_t copied = sqlite3_changes(db->db);
    int64_t total = -1;
    if (sqlite3_prepare_v2(db->db, "SELECT count(*) FROM credentials_v2", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        total = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    if (total > copied) {
        log_info("%s: %lld credentials whose session was deleted by hand are dropped", db->path,
                 (long long)(total - copied));
    }
    return exec(db, "DROP TABLE credentials_v2");
}

/* Whether a run left 'running' was left by a process that is gone: one of this host whose pid
 * no longer exists, or, written by an earlier release without pid, one whose row has not been
 * brought up to date for SINK_SQLITE_STALE_RUN_SEC (a live run updates it every minute). */
static bool is_run_gone(sqlite3_stmt *st, const char *host, const char *stale_before)
{
    if (sqlite3_column_type(st, 1) != SQLITE_NULL && sqlite3_column_type(st, 2) != SQLITE_NULL) {
        pid_t pid = (pid_t)sqlite3_column_int64(st, 1);
        const char *h = (const char *)sqlite3_column_text(st, 2);
        return host != NULL && h != NULL && strcmp(h, host) == 0 && pid > 0 && kill(pid, 0) != 0 &&
               errno == ESRCH;
    }
    const char *last = (const char *)sqlite3_column_text(st, 3);
    return last != NULL && strcmp(last, stale_before) < 0;
}

/* Marks the runs a killed process left 'running' as 'interrupted' (keeping the counters they
 * last committed), and says so. */
static void recover_runs(struct sink_sqlite *db)
{
    char host_buf[256], stale[40];
    const char *host = this_host(host_buf, sizeof host_buf) ? host_buf : NULL;
    uint64_t now = (uint64_t)time(NULL) * PS_USEC_PER_SEC;
    finding_format_time(now - (uint64_t)SINK_SQLITE_STALE_RUN_SEC * PS_USEC_PER_SEC, stale,
                        sizeof stale);
    sqlite3_stmt *st = NULL;
    sqlite3_stmt *upd = NULL;
    if (sqlite3_prepare_v2(db->db,
                           "SELECT id, pid, host, COALESCE(ended, started) FROM runs"
                           " WHERE status = 'running'",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db->db, "UPDATE runs SET status = 'interrupted' WHERE id = ?1", -1, &upd,
                           NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (!is_run_gone(st, host, stale)) {
            continue;
        }
        sqlite3_int64 id = sqlite3_column_int64(st, 0);
        sqlite3_bind_int64(upd, 1, id);
        if (step_done(upd) == SQLITE_OK) {
            log_info("%s: run %lld was left running by a process that is gone: marked "
                     "interrupted",
                     db->path, (long long)id);
        }
    }
    sqlite3_finalize(st);
    sqlite3_finalize(upd);
}

/* The database's PRAGMA user_version into *version; false (err set) when the file is no
 * database. A version newer than this build's is refused (PS_ERR_SCHEMA). */
static enum ps_err read_version(sqlite3 *conn, const char *path, int *version, char *err,
                                size_t errcap)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(conn, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        set_err(err, errcap, path, "not a usable SQLite database", sqlite3_errmsg(conn));
        return PS_ERR_DB;
    }
    *version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (*version > SINK_SQLITE_SCHEMA_VERSION) {
        char why[128];
        snprintf(why, sizeof why,
                 "schema version %d is newer than this plainsight's %d; use a newer plainsight "
                 "or another database file",
                 *version, SINK_SQLITE_SCHEMA_VERSION);
        set_err(err, errcap, path, "refused", why);
        return PS_ERR_SCHEMA;
    }
    return PS_OK;
}

/* Migrates the database and applies the schema's text in one transaction, then settles k's key
 * (k NULL: merge and prune, which write no fingerprint, settle none). The transaction is committed
 * unless is_keep_open, when the caller's work goes on inside it (merge and prune: a failure rolls
 * the migration back with the rest, and the file stays as it was). */
static enum ps_err apply_schema(struct sink_sqlite *db, const struct sink_sqlite_key *k,
                                bool is_keep_open, bool *is_key_removed, char *err, size_t errcap)
{
    int version = 0;
    enum ps_err e = read_version(db->db, db->path, &version, err, errcap);
    if (e != PS_OK) {
        return e;
    }
    char *msg = NULL;
    bool is_rebuilt = false;
    if (exec(db, "BEGIN IMMEDIATE") != SQLITE_OK || migrate(db, &is_rebuilt) != SQLITE_OK ||
        sqlite3_exec(db->db, schema_sql, NULL, NULL, &msg) != SQLITE_OK ||
        (is_rebuilt && finish_migrate(db) != SQLITE_OK)) {
        set_err(err, errcap, db->path, "cannot apply schema",
                msg != NULL ? msg : sqlite3_errmsg(db->db));
        sqlite3_free(msg);
        exec(db, "ROLLBACK");
        return PS_ERR_DB;
    }
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", SINK_SQLITE_SCHEMA_VERSION);
    if (exec(db, pragma) != SQLITE_OK) {
        set_err(err, errcap, db->path, "cannot set schema version", sqlite3_errmsg(db->db));
        e = PS_ERR_DB;
    }
    *is_key_removed = false;
    if (e == PS_OK && k != NULL) {
        e = settle_key(db, k->key, k->key_path, k->is_drop_old_key, is_key_removed, err, errcap);
    }
    if (e != PS_OK) {
        exec(db, "ROLLBACK");
        return e;
    }
    if (is_keep_open) {
        recover_runs(db);
        return PS_OK;
    }
    if (exec(db, "COMMIT") != SQLITE_OK) {
        set_err(err, errcap, db->path, "cannot commit schema", sqlite3_errmsg(db->db));
        return PS_ERR_DB;
    }
    if (is_rebuilt) {
        log_info("%s: brought to schema version %d (credentials go with their session)", db->path,
                 SINK_SQLITE_SCHEMA_VERSION);
    }
    recover_runs(db);
    return PS_OK;
}

/* A struct sink_sqlite for path with its connection open (read-write, WAL, foreign keys on), no
 * schema applied yet; the file is made 0600 first when is_create, and must exist otherwise. */
static enum ps_err connect_db(const char *path, bool is_create, struct sink_sqlite **out, char *err,
                              size_t errcap)
{
    *out = NULL;
    if (is_create) {
        enum ps_err e = create_private(path, err, errcap);
        if (e != PS_OK) {
            return e;
        }
    }
    struct sink_sqlite *db = xcalloc(1, sizeof *db);
    size_t plen = strlen(path);
    db->path = xmalloc(plen + 1);
    memcpy(db->path, path, plen + 1);
    db->run_id = -1;

    /* SQLite says "unable to open database file" for a read-only file or file system; the
     * system's own reason is clearer. */
    if (access(path, W_OK) != 0) {
        set_err(err, errcap, path, "cannot write database", strerror(errno));
        sink_sqlite_close(db);
        return PS_ERR_DB;
    }
    int rc = sqlite3_open_v2(path, &db->db, SQLITE_OPEN_READWRITE, NULL);
    if (rc != SQLITE_OK) {
        set_err(err, errcap, path, "cannot open database",
                db->db != NULL ? sqlite3_errmsg(db->db) : sqlite3_errstr(rc));
        sink_sqlite_close(db);
        return PS_ERR_DB;
    }
    sqlite3_extended_result_codes(db->db, 1);
    sqlite3_busy_timeout(db->db, SINK_SQLITE_BUSY_MSEC);

    /* journal_mode answers with a row; "wal" unless the file system cannot do it. */
    if (exec(db, "PRAGMA journal_mode = WAL") != SQLITE_OK ||
        exec(db, "PRAGMA synchronous = NORMAL") != SQLITE_OK ||
        exec(db, "PRAGMA foreign_keys = ON") != SQLITE_OK) {
        set_err(err, errcap, path, "cannot open database", sqlite3_errmsg(db->db));
        sink_sqlite_close(db);
        return PS_ERR_DB;
    }
    *out = db;
    return PS_OK;
}

enum ps_err sink_sqlite_open(const char *path, bool is_reveal, const struct sink_sqlite_key *k,
                             struct sink_sqlite **out, char *err, size_t errcap)
{
    *out = NULL;
    assert(k->key->is_set);
    struct sink_sqlite *db = NULL;
    enum ps_err e = connect_db(path, true, &db, err, errcap);
    if (e != PS_OK) {
        return e;
    }
    db->is_reveal = is_reveal;
    bool is_key_removed = false;
    e = apply_schema(db, k, false, &is_key_removed, err, errcap);
    if (e != PS_OK) {
        sink_sqlite_close(db);
        return e;
    }
    if (is_key_removed) {
        /* The old key's page may still stand in earlier frames of the WAL: empty it. */
        if (exec(db, "PRAGMA wal_checkpoint(TRUNCATE)") != SQLITE_OK) {
            log_warn("%s: cannot empty the write-ahead log after removing the old fingerprint "
                     "key: %s",
                     path, sqlite3_errmsg(db->db));
        }
        log_info("%s: the fingerprint key an earlier release kept in the database is removed; "
                 "the key is in %s only",
                 path, k->key_path != NULL ? k->key_path : "this run's memory");
    }
    if (sqlite3_prepare_v3(db->db, sql_ins_session, -1, SQLITE_PREPARE_PERSISTENT, &db->ins_session,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(db->db, sql_ins_cred, -1, SQLITE_PREPARE_PERSISTENT, &db->ins_cred,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(db->db, sql_upd_run, -1, SQLITE_PREPARE_PERSISTENT, &db->upd_run,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(db->db, sql_ins_counter, -1, SQLITE_PREPARE_PERSISTENT, &db->ins_counter,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(db->db, sql_upd_session, -1, SQLITE_PREPARE_PERSISTENT, &db->upd_session,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(db->db, sql_find_session, -1, SQLITE_PREPARE_PERSISTENT,
                           &db->find_session, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(db->db, sql_upsert_cred, -1, SQLITE_PREPARE_PERSISTENT, &db->upsert_cred,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(db->db, sql_del_creds, -1, SQLITE_PREPARE_PERSISTENT, &db->del_creds,
                           NULL) != SQLITE_OK) {
        set_err(err, errcap, path, "cannot prepare statements", sqlite3_errmsg(db->db));
        sink_sqlite_close(db);
        return PS_ERR_DB;
    }
    *out = db;
    return PS_OK;
}

const char *sink_sqlite_error(const struct sink_sqlite *db)
{
    return sqlite3_errmsg(db->db);
}

const char *sink_sqlite_lib_version(void)
{
    return sqlite3_libversion();
}

/* Binds a time as text; 0 (unknown) as NULL when is_optional, else as the epoch itself: a
 * capture may well carry zero timestamps, and a session is written whatever its time. */
static void bind_time(sqlite3_stmt *st, int col, uint64_t ts_usec, bool is_optional)
{
    char buf[40];
    if (ts_usec == 0 && is_optional) {
        sqlite3_bind_null(st, col);
        return;
    }
    sqlite3_bind_text(st, col, finding_format_time(ts_usec, buf, sizeof buf), -1, SQLITE_TRANSIENT);
}

static void bind_bytes_text(sqlite3_stmt *st, int col, const uint8_t *p, size_t len, bool has)
{
    if (!has || p == NULL) {
        sqlite3_bind_null(st, col);
        return;
    }
    /* Text exactly as sent: invalid UTF-8 and NUL bytes are kept (length-bounded). */
    sqlite3_bind_text64(st, col, len > 0 ? (const char *)p : "", len, SQLITE_TRANSIENT,
                        SQLITE_UTF8);
}

static enum ps_err begin(struct sink_sqlite *db)
{
    if (db->in_txn) {
        return PS_OK;
    }
    if (exec(db, "BEGIN") != SQLITE_OK) {
        return PS_ERR_DB;
    }
    db->in_txn = true;
    return PS_OK;
}

enum ps_err sink_sqlite_run_begin(struct sink_sqlite *db, const struct run_record *run)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->db,
                           "INSERT INTO runs (version, mode, source, status, started, pid, host,"
                           " sensor) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                           -1, &st, NULL) != SQLITE_OK) {
        return PS_ERR_DB;
    }
    sqlite3_bind_text(st, 1, PS_VERSION, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, run->mode, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, run->source, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, run->status, -1, SQLITE_TRANSIENT);
    bind_time(st, 5, run->started_usec, false);
    char host[256];
    sqlite3_bind_int64(st, 6, (sqlite3_int64)getpid());
    if (this_host(host, sizeof host)) {
        sqlite3_bind_text(st, 7, host, -1, SQLITE_TRANSIENT);
    } else {
        sqlite3_bind_null(st, 7);
    }
    if (run->sensor != NULL) {
        sqlite3_bind_text(st, 8, run->sensor, -1, SQLITE_TRANSIENT);
    } else {
        sqlite3_bind_null(st, 8);
    }
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        return PS_ERR_DB;
    }
    db->run_id = sqlite3_last_insert_rowid(db->db);
    return PS_OK;
}

/* Binds credential c as row seq of session_id to st (ins_cred or upsert_cred) and runs it. */
static enum ps_err put_credential(struct sink_sqlite *db, sqlite3_stmt *st, int64_t session_id,
                                  size_t seq, const struct credential *c)
{
    bool has_secret = c->secret != NULL;
    sqlite3_bind_int64(st, 1, session_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
    sqlite3_bind_text(st, 3, c->mechanism, -1, SQLITE_TRANSIENT);
    bind_bytes_text(st, 4, c->username, c->username_len, c->has_username);
    bind_bytes_text(st, 5, c->secret, c->secret_len, has_secret && db->is_reveal);
    if (has_secret) {
        sqlite3_bind_int64(st, 6, (sqlite3_int64)c->secret_len);
        sqlite3_bind_text(st, 7, c->fingerprint, -1, SQLITE_TRANSIENT);
    } else {
        sqlite3_bind_null(st, 6);
        sqlite3_bind_null(st, 7);
    }
    bind_bytes_text(st, 8, c->challenge, c->challenge_len, db->is_reveal);
    bind_bytes_text(st, 9, c->response, c->response_len, db->is_reveal);
    sqlite3_bind_text(st, 10, finding_result_name(c->result), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 11, c->is_truncated ? 1 : 0);
    sqlite3_bind_int(st, 12, c->is_anonymous ? 1 : 0);
    sqlite3_bind_int(st, 13, finding_credential_is_incomplete(c) ? 1 : 0);
    return step_done(st) == SQLITE_OK ? PS_OK : PS_ERR_DB;
}

/* Binds the session's columns to st (ins_session or upd_session; first the run's id or the
 * row's) and runs it; end as the end reason written. */
static enum ps_err put_session(sqlite3_stmt *st, int64_t first, const struct session *s,
                               enum finding_end end)
{
    char ip[64], vbuf[16];
    const char *tv = finding_tls_version_name(s->tls_version, vbuf, sizeof vbuf);
    const char *stls = finding_starttls_name(s->starttls);

    sqlite3_bind_int64(st, 1, first);
    bind_time(st, 2, s->ts_start_usec, false);
    bind_time(st, 3, s->ts_end_usec, false);
    sqlite3_bind_text(st, 4, finding_format_ip(s->ip_version, s->client_ip, ip, sizeof ip), -1,
                      SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 5, s->client_port);
    sqlite3_bind_text(st, 6, finding_format_ip(s->ip_version, s->server_ip, ip, sizeof ip), -1,
                      SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 7, s->server_port);
    if (s->vlan != 0) {
        sqlite3_bind_int(st, 8, s->vlan);
    } else {
        sqlite3_bind_null(st, 8);
    }
    sqlite3_bind_text(st, 9, finding_proto_name(s->protocol), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, finding_tls_name(s->tls), -1, SQLITE_STATIC);
    if (tv != NULL) {
        sqlite3_bind_text(st, 11, tv, -1, SQLITE_TRANSIENT);
    } else {
        sqlite3_bind_null(st, 11);
    }
    sqlite3_bind_int(st, 12, finding_tls_version_is_weak(s->tls_version) ? 1 : 0);
    if (stls != NULL) {
        sqlite3_bind_text(st, 13, stls, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, 13);
    }
    sqlite3_bind_text(st, 14, finding_exposure(s), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 15, finding_end_name(end), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 16, (sqlite3_int64)s->packets);
    sqlite3_bind_int64(st, 17, (sqlite3_int64)s->bytes_client);
    sqlite3_bind_int64(st, 18, (sqlite3_int64)s->bytes_server);
    sqlite3_bind_int64(st, 19, (sqlite3_int64)s->gaps);
    sqlite3_bind_int64(st, 20, (sqlite3_int64)s->gap_bytes);
    sqlite3_bind_int64(st, 21, (sqlite3_int64)s->injected_commands);
    sqlite3_bind_int64(st, 22, (sqlite3_int64)s->creds_dropped);
    if (s->uid[0] != '\0') {
        sqlite3_bind_text(st, 23, s->uid, -1, SQLITE_TRANSIENT);
    } else {
        sqlite3_bind_null(st, 23); /* a record made by hand (tests, tools): no uid */
    }
    if (s->community_id[0] != '\0') {
        sqlite3_bind_text(st, 24, s->community_id, -1, SQLITE_TRANSIENT);
    } else {
        sqlite3_bind_null(st, 24);
    }
    if (s->sensor != NULL) {
        sqlite3_bind_text(st, 25, s->sensor, -1, SQLITE_TRANSIENT);
    } else {
        sqlite3_bind_null(st, 25);
    }
    if (s->tunnel != NULL) {
        sqlite3_bind_text(st, 26, s->tunnel, -1, SQLITE_TRANSIENT);
    } else {
        sqlite3_bind_null(st, 26);
    }
    if (s->interfaces != NULL) {
        sqlite3_bind_text(st, 27, s->interfaces, -1, SQLITE_TRANSIENT);
    } else {
        sqlite3_bind_null(st, 27);
    }
    for (int i = 0; i < FINDING_CONTEXT_N; i++) {
        if (s->context[i] != NULL) {
            sqlite3_bind_text(st, 28 + i, s->context[i], -1, SQLITE_TRANSIENT);
        } else {
            sqlite3_bind_null(st, 28 + i);
        }
    }
    return step_done(st) == SQLITE_OK ? PS_OK : PS_ERR_DB;
}

/* The id of the row a credential event wrote for s, or -1. */
static int64_t find_session(struct sink_sqlite *db, const struct session *s)
{
    sqlite3_stmt *st = db->find_session;
    sqlite3_bind_text(st, 1, s->uid, -1, SQLITE_TRANSIENT);
    int64_t id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return id;
}

/* Writes s's row with end reason end: a new row, or, when a credential event wrote one, that
 * row brought up to date. Sets *id to it. */
static enum ps_err write_session(struct sink_sqlite *db, const struct session *s,
                                 enum finding_end end, int64_t *id)
{
    *id = s->is_published ? find_session(db, s) : -1;
    if (*id >= 0) {
        return put_session(db->upd_session, *id, s, end);
    }
    if (put_session(db->ins_session, db->run_id, s, end) != PS_OK) {
        return PS_ERR_DB;
    }
    /* The same session read before (the same capture again, or a sensor's and a capture's
     * view of one connection): its row is there already, and stays the only one. */
    *id = sqlite3_changes(db->db) > 0 ? sqlite3_last_insert_rowid(db->db) : -1;
    return PS_OK;
}

enum ps_err sink_sqlite_session(struct sink_sqlite *db, const struct session *s)
{
    int64_t sid = -1;
    if (begin(db) != PS_OK || write_session(db, s, s->end_reason, &sid) != PS_OK) {
        return PS_ERR_DB;
    }
    if (sid < 0) {
        db->duplicates++;
        return PS_OK;
    }
    if (s->is_published) {
        /* The final list replaces what the events wrote (a credential may have gone since). */
        sqlite3_bind_int64(db->del_creds, 1, sid);
        if (step_done(db->del_creds) != SQLITE_OK) {
            return PS_ERR_DB;
        }
    }
    for (size_t i = 0; i < s->n_creds; i++) {
        if (put_credential(db, db->ins_cred, sid, i, s->creds[i]) != PS_OK) {
            return PS_ERR_DB;
        }
    }
    db->pending++;
    return PS_OK;
}

enum ps_err sink_sqlite_credential(struct sink_sqlite *db, const struct session *s, size_t i)
{
    int64_t sid = -1;
    if (i >= s->n_creds || begin(db) != PS_OK ||
        write_session(db, s, FINDING_END_OPEN, &sid) != PS_OK) {
        return PS_ERR_DB;
    }
    if (sid < 0) {
        return PS_OK; /* a session the database had already */
    }
    if (put_credential(db, db->upsert_cred, sid, i, s->creds[i]) != PS_OK) {
        return PS_ERR_DB;
    }
    db->has_cred_events = true;
    return PS_OK;
}

enum ps_err sink_sqlite_commit(struct sink_sqlite *db, uint64_t now_usec, bool is_force)
{
    if (!db->in_txn) {
        db->last_commit_usec = now_usec;
        return PS_OK;
    }
    /* A credential event is committed at the next tick: a login on a session that stays open
     * is on disk within a tick, whatever the batch. */
    if (!is_force && !db->has_cred_events && db->pending < SINK_SQLITE_BATCH &&
        now_usec - db->last_commit_usec < SINK_SQLITE_COMMIT_USEC) {
        return PS_OK;
    }
    if (exec(db, "COMMIT") != SQLITE_OK) {
        return PS_ERR_DB;
    }
    db->in_txn = false;
    db->pending = 0;
    db->has_cred_events = false;
    db->last_commit_usec = now_usec;
    return PS_OK;
}

enum ps_err sink_sqlite_run_update(struct sink_sqlite *db, const struct run_record *run)
{
    if (db->run_id < 0 || begin(db) != PS_OK) {
        return PS_ERR_DB;
    }
    sqlite3_stmt *st = db->upd_run;
    sqlite3_bind_int64(st, 1, db->run_id);
    sqlite3_bind_text(st, 2, run->status, -1, SQLITE_TRANSIENT);
    bind_time(st, 3, run->ended_usec, true);
    bind_time(st, 4, run->first_pkt_usec, true);
    bind_time(st, 5, run->last_pkt_usec, true);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)run->packets);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)run->bytes);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)run->sessions);
    sqlite3_bind_int64(st, 9, (sqlite3_int64)run->exposed);
    if (step_done(st) != SQLITE_OK) {
        return PS_ERR_DB;
    }
    for (size_t i = 0; i < run->n_counters; i++) {
        st = db->ins_counter;
        sqlite3_bind_int64(st, 1, db->run_id);
        sqlite3_bind_text(st, 2, run->counters[i].name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)run->counters[i].value);
        if (step_done(st) != SQLITE_OK) {
            return PS_ERR_DB;
        }
    }
    return sink_sqlite_commit(db, run->ended_usec, true);
}

void sink_sqlite_close(struct sink_sqlite *db)
{
    if (db == NULL) {
        return;
    }
    if (db->in_txn) {
        exec(db, "COMMIT");
    }
    if (db->duplicates > 0) {
        log_info("%s: %llu sessions were in the database already (read before): not written "
                 "twice",
                 db->path, (unsigned long long)db->duplicates);
    }
    sqlite3_finalize(db->ins_session);
    sqlite3_finalize(db->ins_cred);
    sqlite3_finalize(db->upd_run);
    sqlite3_finalize(db->ins_counter);
    sqlite3_finalize(db->upd_session);
    sqlite3_finalize(db->find_session);
    sqlite3_finalize(db->upsert_cred);
    sqlite3_finalize(db->del_creds);
    if (db->db != NULL) {
        sqlite3_close(db->db);
    }
    free(db->path);
    free(db);
}

/* ---- plainsight merge and plainsight prune ---- */

/* The key id standing for fingerprints under no recorded key (a database made by hand). */
#define SINK_SQLITE_KEY_UNKNOWN "unknown"

/* What merge and prune need to know of a database before writing anything. */
struct admin_db {
    bool is_new;           /* no such file, or a file with no table (a merge's target only) */
    bool has_key_id;       /* meta names its key */
    bool has_old_key;      /* an earlier release's key is in meta */
    bool has_fingerprints; /* a credential has a fingerprint */
    /* The key its fingerprints are under: meta's id, the id of an earlier release's key,
     * SINK_SQLITE_KEY_UNKNOWN for fingerprints under no recorded key, or "" for none. */
    char key[FINDING_KEY_ID_HEX + 1];
};

static bool conn_has_row(sqlite3 *conn, const char *sql)
{
    sqlite3_stmt *st = NULL;
    bool found =
        sqlite3_prepare_v2(conn, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

/* The first column of the first row of sql (our own text) as an integer; -1 on failure. */
static int64_t conn_count(sqlite3 *conn, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2(conn, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return n;
}

/* The key state of an open plainsight database into *d. */
static void admin_key(sqlite3 *conn, struct admin_db *d)
{
    struct sink_key_state ks;
    memset(&ks, 0, sizeof ks);
    read_key_state(conn, &ks);
    d->has_key_id = ks.has_key_id;
    d->has_old_key = ks.has_old_key;
    if (ks.has_key_id) {
        memcpy(d->key, ks.key_id, sizeof d->key);
    } else if (ks.has_old_key) {
        finding_key_id(&ks.old_key, d->key);
    }
    finding_key_wipe(&ks.old_key);
    d->has_fingerprints =
        conn_has_row(conn, "SELECT 1 FROM credentials WHERE secret_fingerprint IS NOT NULL");
    if (d->key[0] == '\0' && d->has_fingerprints) {
        snprintf(d->key, sizeof d->key, "%s", SINK_SQLITE_KEY_UNKNOWN);
    }
}

/* Opens the database at path to read it only: query_only, on a read-write connection when the file
 * may be written, so that closing it tidies up as SQLite does (a read-only connection cannot
 * remove the -wal and -shm files it makes beside a WAL database). */
static int open_reading(const char *path, sqlite3 **conn)
{
    int flags = access(path, W_OK) == 0 ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY;
    int rc = sqlite3_open_v2(path, conn, flags, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(*conn, SINK_SQLITE_BUSY_MSEC);
        rc = sqlite3_exec(*conn, "PRAGMA query_only = ON", NULL, NULL, NULL);
    }
    return rc;
}

/* Reads what merge and prune need of the database at path into *d, writing nothing: refused
 * (err set) when it is missing (unless is_target), unreadable, no SQLite database, no plainsight
 * database, or of a newer schema. */
static enum ps_err check_db(const char *path, bool is_target, struct admin_db *d, char *err,
                            size_t errcap)
{
    memset(d, 0, sizeof *d);
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (errno == ENOENT && is_target) {
            d->is_new = true;
            return PS_OK;
        }
        set_err(err, errcap, path, "cannot read database", strerror(errno));
        return PS_ERR_DB;
    }
    if (!S_ISREG(sb.st_mode)) {
        set_err(err, errcap, path, "not a plainsight database", "not a regular file");
        return PS_ERR_DB;
    }
    if (sb.st_size == 0 && is_target) {
        d->is_new = true;
        return PS_OK;
    }
    if (access(path, R_OK) != 0) {
        set_err(err, errcap, path, "cannot read database", strerror(errno));
        return PS_ERR_DB;
    }
    sqlite3 *conn = NULL;
    if (open_reading(path, &conn) != SQLITE_OK) {
        set_err(err, errcap, path, "not a plainsight database", sqlite3_errmsg(conn));
        sqlite3_close(conn);
        return PS_ERR_DB;
    }
    int version = 0;
    enum ps_err e = read_version(conn, path, &version, err, errcap);
    if (e == PS_ERR_DB) {
        /* "file is not a database", or a file SQLite cannot read. */
        set_err(err, errcap, path, "not a plainsight database", sqlite3_errmsg(conn));
    } else if (e != PS_OK) {
        /* A newer schema: read_version said so. */
    } else if (is_target && conn_count(conn, "SELECT count(*) FROM sqlite_master") == 0) {
        d->is_new = true;
    } else if (conn_count(conn, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name"
                                " IN ('meta', 'runs', 'sessions', 'credentials')") != 4) {
        set_err(err, errcap, path, "not a plainsight database",
                "it has no meta, runs, sessions and credentials tables");
        e = PS_ERR_DB;
    } else {
        admin_key(conn, d);
    }
    sqlite3_close(conn);
    return e;
}

/* The run ids of a source and the target's ids for them, in the source's order (ascending). */
struct run_map {
    int64_t *from, *to;
    size_t n, cap;
};

static void run_map_add(struct run_map *m, int64_t from, int64_t to)
{
    if (m->n == m->cap) {
        m->cap = m->cap == 0 ? 64 : m->cap * 2;
        m->from = xrealloc(m->from, m->cap * sizeof *m->from);
        m->to = xrealloc(m->to, m->cap * sizeof *m->to);
    }
    m->from[m->n] = from;
    m->to[m->n] = to;
    m->n++;
}

/* The target's id for the source's run id, or -1. */
static int64_t run_map_find(const struct run_map *m, int64_t from)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->from[mid] == from) {
            return m->to[mid];
        }
        if (m->from[mid] < from) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return -1;
}

/* A source statement's columns found by name: idx[j] is the column named names[j], or -1 when
 * the source (an older schema) has none. */
static void map_columns(sqlite3_stmt *sel, const char *const *names, size_t n, int *idx)
{
    int n_cols = sqlite3_column_count(sel);
    for (size_t j = 0; j < n; j++) {
        idx[j] = -1;
        for (int c = 0; c < n_cols; c++) {
            const char *name = sqlite3_column_name(sel, c);
            if (name != NULL && strcmp(name, names[j]) == 0) {
                idx[j] = c;
            }
        }
    }
}

/* Binds the source row's column idx as parameter p of dst: NULL when the source has none. */
static void bind_col(sqlite3_stmt *dst, int p, sqlite3_stmt *sel, int idx)
{
    if (idx >= 0) {
        sqlite3_bind_value(dst, p, sqlite3_column_value(sel, idx));
    } else {
        sqlite3_bind_null(dst, p);
    }
}

/* One source being merged: its connection (read only) and the target's statements. */
struct merge_ctx {
    struct sink_sqlite *db; /* the target, inside the merge's transaction */
    sqlite3 *in;
    const char *path; /* the source as given, for messages */
    const char *real; /* its full name, for runs.merged_from */
    const struct admin_db *src;
    const char *ref_key; /* the target's key id ("" when no database has one) */
    struct run_map runs;
    struct sink_sqlite_merge_stats *st;
    char *err; /* the first failure's one line */
    size_t errcap;
};

/* rc from a call on conn (the source or the target): SQLITE_OK for success (a row or the end
 * too), else rc, with the first failure's message in m->err naming the file at fault. */
static int chk(struct merge_ctx *m, sqlite3 *conn, int rc)
{
    if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE) {
        return SQLITE_OK;
    }
    if (m->err[0] == '\0') {
        if (conn == m->db->db) {
            char why[512];
            snprintf(why, sizeof why, "%s; nothing was merged", sqlite3_errmsg(conn));
            set_err(m->err, m->errcap, m->db->path, "cannot write", why);
        } else {
            set_err(m->err, m->errcap, m->path, "cannot read database", sqlite3_errmsg(conn));
        }
    }
    return rc;
}

/* The run columns, as the target's insert numbers them (?1..?17); then the source's own id. */
static const char *const merge_run_cols[] = {
    "version",      "mode",        "source",  "status",      "started",       "ended",
    "first_packet", "last_packet", "packets", "bytes",       "sessions",      "exposed",
    "pid",          "host",        "sensor",  "merged_from", "merged_run_id", "id",
};
#define MERGE_RUN_N_INS 17

/* A run's counters, copied under its new id (to). */
static int merge_counters(struct merge_ctx *m, int64_t from, int64_t to)
{
    sqlite3_stmt *sel = NULL, *ins = NULL;
    if (!conn_has_row(m->in, "SELECT 1 FROM sqlite_master WHERE name = 'run_counters'")) {
        return SQLITE_OK;
    }
    int rc = chk(m, m->in,
                 sqlite3_prepare_v2(m->in, "SELECT name, value FROM run_counters WHERE run_id = ?1",
                                    -1, &sel, NULL));
    if (rc == SQLITE_OK) {
        rc = chk(m, m->db->db,
                 sqlite3_prepare_v2(m->db->db,
                                    "INSERT OR IGNORE INTO run_counters (run_id, name, value)"
                                    " VALUES (?1, ?2, ?3)",
                                    -1, &ins, NULL));
    }
    sqlite3_bind_int64(sel, 1, from);
    int step = SQLITE_DONE;
    while (rc == SQLITE_OK && (step = sqlite3_step(sel)) == SQLITE_ROW) {
        sqlite3_bind_int64(ins, 1, to);
        bind_col(ins, 2, sel, 0);
        bind_col(ins, 3, sel, 1);
        rc = chk(m, m->db->db, step_done(ins));
    }
    if (rc == SQLITE_OK) {
        rc = chk(m, m->in, step);
    }
    sqlite3_finalize(sel);
    sqlite3_finalize(ins);
    return rc;
}

/* The source's runs: each found in the target (the same start, mode, source, version, process
 * and sensor: merged before) or copied with its counters, runs.merged_from and merged_run_id
 * saying where it was first written. Fills m->runs. */
static int merge_runs(struct merge_ctx *m)
{
    sqlite3_stmt *sel = NULL, *find = NULL, *ins = NULL;
    int rc =
        chk(m, m->in, sqlite3_prepare_v2(m->in, "SELECT * FROM runs ORDER BY id", -1, &sel, NULL));
    if (rc == SQLITE_OK) {
        rc = sqlite3_prepare_v2(m->db->db,
                                "SELECT id FROM runs WHERE version = ?1 AND mode = ?2"
                                " AND source = ?3 AND started = ?5 AND pid IS ?13"
                                " AND host IS ?14 AND sensor IS ?15",
                                -1, &find, NULL);
        rc = chk(m, m->db->db, rc);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_prepare_v2(m->db->db,
                                "INSERT INTO runs (version, mode, source, status, started, ended,"
                                " first_packet, last_packet, packets, bytes, sessions, exposed,"
                                " pid, host, sensor, merged_from, merged_run_id)"
                                " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
                                " ?14, ?15, ?16, ?17)",
                                -1, &ins, NULL);
        rc = chk(m, m->db->db, rc);
    }
    enum {
        N = sizeof merge_run_cols / sizeof merge_run_cols[0]
    };
    int idx[N];
    if (rc == SQLITE_OK) {
        map_columns(sel, merge_run_cols, N, idx);
    }
    int step = SQLITE_DONE;
    while (rc == SQLITE_OK && (step = sqlite3_step(sel)) == SQLITE_ROW) {
        int64_t from = sqlite3_column_int64(sel, idx[N - 1]);
        for (int j = 0; j < 15; j++) {
            bind_col(find, j + 1, sel, idx[j]);
        }
        int64_t to = sqlite3_step(find) == SQLITE_ROW ? sqlite3_column_int64(find, 0) : -1;
        sqlite3_reset(find);
        sqlite3_clear_bindings(find);
        if (to >= 0) {
            m->st->runs_known++;
            run_map_add(&m->runs, from, to);
            continue;
        }
        for (int j = 0; j < MERGE_RUN_N_INS; j++) {
            bind_col(ins, j + 1, sel, idx[j]);
        }
        if (idx[15] < 0 || sqlite3_column_type(sel, idx[15]) == SQLITE_NULL) {
            sqlite3_bind_text(ins, 16, m->real, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(ins, 17, from);
        }
        rc = chk(m, m->db->db, step_done(ins));
        if (rc == SQLITE_OK) {
            to = sqlite3_last_insert_rowid(m->db->db);
            m->st->runs++;
            run_map_add(&m->runs, from, to);
            rc = merge_counters(m, from, to);
        }
    }
    if (rc == SQLITE_OK) {
        rc = chk(m, m->in, step);
    }
    sqlite3_finalize(sel);
    sqlite3_finalize(find);
    sqlite3_finalize(ins);
    return rc;
}

/* The session columns, as sql_ins_session numbers them (?1..?27); then the source's own id. */
static const char *const merge_session_cols[] = {
    "run_id",
    "ts_start",
    "ts_end",
    "client_ip",
    "client_port",
    "server_ip",
    "server_port",
    "vlan",
    "protocol",
    "tls",
    "tls_version",
    "tls_weak",
    "starttls",
    "exposure",
    "end_reason",
    "packets",
    "bytes_client",
    "bytes_server",
    "gaps",
    "gap_bytes",
    "injected_commands",
    "credentials_dropped",
    "uid",
    "community_id",
    "sensor",
    "tunnel",
    "interface",
    "banner",
    "client_name",
    "sni",
    "cert_subject",
    "cert_issuer",
    "proxy_target",
    "id",
};

/* The credential columns, as the target's insert numbers them (?1..?14). */
static const char *const merge_cred_cols[] = {
    "session_id",
    "seq",
    "mechanism",
    "username",
    "secret",
    "secret_len",
    "secret_fingerprint",
    "challenge",
    "response",
    "result",
    "truncated",
    "anonymous",
    "incomplete",
    "fingerprint_key_id",
};

/* Binds credential row sel's fingerprint key id as parameter 14 of ins: NULL when its fingerprint
 * is under the target's key (or it has none), else the id of the key it is under. */
static void bind_fingerprint_key(struct merge_ctx *m, sqlite3_stmt *ins, sqlite3_stmt *sel,
                                 const int *idx)
{
    if (idx[6] < 0 || sqlite3_column_type(sel, idx[6]) == SQLITE_NULL) {
        sqlite3_bind_null(ins, 14);
        return;
    }
    const char *key = NULL;
    if (idx[13] >= 0 && sqlite3_column_type(sel, idx[13]) != SQLITE_NULL) {
        key = (const char *)sqlite3_column_text(sel, idx[13]);
    }
    if (key == NULL) {
        key = m->src->key[0] != '\0' ? m->src->key : SINK_SQLITE_KEY_UNKNOWN;
    }
    if (strcmp(key, m->ref_key) == 0 && strcmp(key, SINK_SQLITE_KEY_UNKNOWN) != 0) {
        sqlite3_bind_null(ins, 14);
        return;
    }
    sqlite3_bind_text(ins, 14, key, -1, SQLITE_TRANSIENT);
    m->st->marked++;
}

/* The credentials of the source's session from, under the target's session to. */
static int merge_credentials(struct merge_ctx *m, sqlite3_stmt *sel, sqlite3_stmt *ins,
                             const int *idx, int64_t from, int64_t to)
{
    enum {
        N = sizeof merge_cred_cols / sizeof merge_cred_cols[0]
    };
    int rc = SQLITE_OK;
    int step = SQLITE_DONE;
    sqlite3_bind_int64(sel, 1, from);
    while (rc == SQLITE_OK && (step = sqlite3_step(sel)) == SQLITE_ROW) {
        sqlite3_bind_int64(ins, 1, to);
        for (int j = 1; j < N - 1; j++) {
            bind_col(ins, j + 1, sel, idx[j]);
        }
        if (idx[11] < 0) {
            sqlite3_bind_int(ins, 12, 0); /* anonymous: NOT NULL, 0 before it existed */
        }
        if (idx[12] < 0) {
            sqlite3_bind_int(ins, 13, 0); /* incomplete: NOT NULL, 0 before it existed */
        }
        bind_fingerprint_key(m, ins, sel, idx);
        rc = chk(m, m->db->db, step_done(ins));
        m->st->credentials += rc == SQLITE_OK ? 1 : 0;
    }
    if (rc == SQLITE_OK) {
        rc = chk(m, m->in, step);
    }
    sqlite3_reset(sel);
    return rc;
}

/* The statements merge_sessions uses: the source's sessions and credentials, and the target's
 * session lookup (no uid) and inserts. */
struct merge_stmts {
    sqlite3_stmt *sel, *find, *ins, *csel, *cins;
    int idx[sizeof merge_session_cols / sizeof merge_session_cols[0]];
    int cidx[sizeof merge_cred_cols / sizeof merge_cred_cols[0]];
};

static int merge_prepare(struct merge_ctx *m, struct merge_stmts *q)
{
    int rc =
        chk(m, m->in,
            sqlite3_prepare_v2(m->in, "SELECT * FROM sessions ORDER BY id", -1, &q->sel, NULL));
    if (rc == SQLITE_OK) {
        rc = chk(m, m->in,
                 sqlite3_prepare_v2(m->in,
                                    "SELECT * FROM credentials WHERE session_id = ?1 ORDER BY seq",
                                    -1, &q->csel, NULL));
    }
    if (rc == SQLITE_OK) {
        /* A session without uid (written before version 2) is known by its times, endpoints and
         * protocol among the others without one. */
        rc = sqlite3_prepare_v2(m->db->db,
                                "SELECT 1 FROM sessions WHERE uid IS NULL AND ts_start = ?2"
                                " AND ts_end = ?3 AND client_ip = ?4 AND client_port = ?5"
                                " AND server_ip = ?6 AND server_port = ?7 AND protocol = ?9",
                                -1, &q->find, NULL);
        rc = chk(m, m->db->db, rc);
    }
    if (rc == SQLITE_OK) {
        rc = chk(m, m->db->db, sqlite3_prepare_v2(m->db->db, sql_ins_session, -1, &q->ins, NULL));
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_prepare_v2(m->db->db,
                                "INSERT INTO credentials (session_id, seq, mechanism, username,"
                                " secret, secret_len, secret_fingerprint, challenge, response,"
                                " result, truncated, anonymous, incomplete, fingerprint_key_id)"
                                " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
                                " ?14)",
                                -1, &q->cins, NULL);
        rc = chk(m, m->db->db, rc);
    }
    if (rc == SQLITE_OK) {
        map_columns(q->sel, merge_session_cols, sizeof q->idx / sizeof q->idx[0], q->idx);
        map_columns(q->csel, merge_cred_cols, sizeof q->cidx / sizeof q->cidx[0], q->cidx);
    }
    return rc;
}

/* Writes the source's session row (sel's current row) into the target, its run id mapped: *to is
 * its new id, or -1 when the target had it. */
static int merge_one_session(struct merge_ctx *m, struct merge_stmts *q, int64_t *to)
{
    enum {
        N = sizeof merge_session_cols / sizeof merge_session_cols[0]
    };
    *to = -1;
    int64_t run = sqlite3_column_int64(q->sel, q->idx[0]);
    int64_t run_to = run_map_find(&m->runs, run);
    if (run_to < 0) {
        char why[160];
        snprintf(why, sizeof why, "session %lld names run %lld, which is not in it",
                 (long long)sqlite3_column_int64(q->sel, q->idx[N - 1]), (long long)run);
        set_err(m->err, m->errcap, m->path, "refused", why);
        return SQLITE_CONSTRAINT;
    }
    for (int j = 1; j < N - 1; j++) {
        bind_col(q->ins, j + 1, q->sel, q->idx[j]);
        bind_col(q->find, j + 1, q->sel, q->idx[j]);
    }
    sqlite3_bind_int64(q->ins, 1, run_to);
    bool is_known = false;
    int rc = SQLITE_OK;
    if (q->idx[22] < 0 || sqlite3_column_type(q->sel, q->idx[22]) == SQLITE_NULL) {
        rc = sqlite3_step(q->find);
        is_known = rc == SQLITE_ROW;
        rc = chk(m, m->db->db, rc);
    }
    sqlite3_reset(q->find);
    sqlite3_clear_bindings(q->find);
    if (is_known || rc != SQLITE_OK) {
        sqlite3_clear_bindings(q->ins);
        return rc;
    }
    rc = chk(m, m->db->db, step_done(q->ins));
    if (rc == SQLITE_OK && sqlite3_changes(m->db->db) > 0) {
        *to = sqlite3_last_insert_rowid(m->db->db);
    }
    return rc;
}

/* The source's sessions, in its order: each new one with its credentials, each the target has
 * (by uid) skipped and counted. */
static int merge_sessions(struct merge_ctx *m)
{
    enum {
        N = sizeof merge_session_cols / sizeof merge_session_cols[0]
    };
    struct merge_stmts q;
    memset(&q, 0, sizeof q);
    int rc = merge_prepare(m, &q);
    int step = SQLITE_DONE;
    while (rc == SQLITE_OK && (step = sqlite3_step(q.sel)) == SQLITE_ROW) {
        int64_t to = -1;
        rc = merge_one_session(m, &q, &to);
        if (rc != SQLITE_OK) {
            break;
        }
        if (to < 0) {
            m->st->sessions_known++;
            continue;
        }
        m->st->sessions++;
        rc = merge_credentials(m, q.csel, q.cins, q.cidx, sqlite3_column_int64(q.sel, q.idx[N - 1]),
                               to);
    }
    if (rc == SQLITE_OK) {
        rc = chk(m, m->in, step);
    }
    sqlite3_finalize(q.sel);
    sqlite3_finalize(q.find);
    sqlite3_finalize(q.ins);
    sqlite3_finalize(q.csel);
    sqlite3_finalize(q.cins);
    return rc;
}

/* Merges one checked source into the target (inside the merge's transaction). */
static enum ps_err merge_source(struct sink_sqlite *db, const char *path,
                                const struct admin_db *src, const char *ref_key,
                                struct sink_sqlite_merge_stats *st, char *err, size_t errcap)
{
    struct merge_ctx m = { .db = db,
                           .path = path,
                           .src = src,
                           .ref_key = ref_key,
                           .st = st,
                           .err = err,
                           .errcap = errcap };
    char *real = realpath(path, NULL);
    m.real = real != NULL ? real : path;
    err[0] = '\0';
    int rc = open_reading(path, &m.in);
    if (rc != SQLITE_OK) {
        set_err(err, errcap, path, "cannot open database",
                m.in != NULL ? sqlite3_errmsg(m.in) : sqlite3_errstr(rc));
    } else {
        /* One read transaction: the source is read as one snapshot, even while it is written. */
        rc = chk(&m, m.in, sqlite3_exec(m.in, "BEGIN", NULL, NULL, NULL));
    }
    if (rc == SQLITE_OK) {
        rc = merge_runs(&m);
    }
    if (rc == SQLITE_OK) {
        rc = merge_sessions(&m);
    }
    sqlite3_close_v2(m.in);
    free(m.runs.from);
    free(m.runs.to);
    free(real);
    return rc == SQLITE_OK ? PS_OK : PS_ERR_DB;
}

/* True when a and b name one file (both existing). */
static bool is_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/* Checks every source before anything is written, and settles the key the merged database is
 * under (*ref_key: the target's, else the first source's with one). Every source written with
 * another key is refused unless is_allow_mixed_keys, which warns and counts it. */
static enum ps_err merge_check(const char *into, const struct admin_db *target,
                               const char *const *from, size_t n_from, struct admin_db *src,
                               bool is_allow_mixed_keys, char *ref_key,
                               struct sink_sqlite_merge_stats *st, char *err, size_t errcap)
{
    memcpy(ref_key, target->key, FINDING_KEY_ID_HEX + 1);
    const char *ref_name = into; /* the database whose key is the merge's */
    for (size_t i = 0; i < n_from; i++) {
        if (is_same_file(into, from[i])) {
            set_err(err, errcap, from[i], "refused", "it is the target of the merge itself");
            return PS_ERR_ARG;
        }
        enum ps_err e = check_db(from[i], false, &src[i], err, errcap);
        if (e != PS_OK) {
            return e;
        }
        if (ref_key[0] == '\0') {
            memcpy(ref_key, src[i].key, FINDING_KEY_ID_HEX + 1);
            ref_name = from[i];
        }
    }
    for (size_t i = 0; i < n_from; i++) {
        const char *k = src[i].key;
        bool is_same =
            k[0] == '\0' || (strcmp(k, ref_key) == 0 && strcmp(k, SINK_SQLITE_KEY_UNKNOWN) != 0);
        if (is_same) {
            continue;
        }
        char why[400];
        if (!is_allow_mixed_keys) {
            snprintf(why, sizeof why,
                     "written with the fingerprint key %s, not %s's %s; nothing was merged "
                     "(--allow-mixed-keys merges it, its fingerprints marked with their key)",
                     k, ref_name, ref_key);
            set_err(err, errcap, from[i], "refused", why);
            return PS_ERR_DB;
        }
        st->mixed_files++;
        log_warn("%s: written with the fingerprint key %s, not %s: its fingerprints keep their "
                 "key's id in credentials.fingerprint_key_id and compare only among themselves",
                 from[i], k, ref_key);
    }
    return PS_OK;
}

/* Removes a target the failed merge made (and its WAL and shared-memory files). */
static void remove_new_target(const char *into)
{
    static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char path[4096];
        int n = snprintf(path, sizeof path, "%s%s", into, suffixes[i]);
        if (n > 0 && (size_t)n < sizeof path) {
            unlink(path);
        }
    }
}

/* The merge's one transaction on the open target: the schema (migration included), the key id
 * of a target that has none, and every source. Committed only when all of it is written. */
static enum ps_err merge_write(struct sink_sqlite *db, const struct admin_db *target,
                               const char *const *from, size_t n_from, const struct admin_db *src,
                               const char *ref_key, struct sink_sqlite_merge_stats *st, char *err,
                               size_t errcap)
{
    bool is_key_removed = false;
    enum ps_err e = apply_schema(db, NULL, true, &is_key_removed, err, errcap);
    if (e != PS_OK) {
        return e;
    }
    if (!target->has_key_id && ref_key[0] != '\0' &&
        strcmp(ref_key, SINK_SQLITE_KEY_UNKNOWN) != 0) {
        sqlite3_stmt *ins = NULL;
        int rc = sqlite3_prepare_v2(
            db->db, "INSERT INTO meta (key, value) VALUES ('" SINK_SQLITE_KEY_ID "', ?1)", -1, &ins,
            NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_text(ins, 1, ref_key, -1, SQLITE_TRANSIENT);
            rc = step_done(ins);
        }
        sqlite3_finalize(ins);
        if (rc != SQLITE_OK) {
            set_err(err, errcap, db->path, "cannot write", sqlite3_errmsg(db->db));
            e = PS_ERR_DB;
        }
    }
    for (size_t i = 0; e == PS_OK && i < n_from; i++) {
        e = merge_source(db, from[i], &src[i], ref_key, st, err, errcap);
    }
    if (e == PS_OK && exec(db, "COMMIT") != SQLITE_OK) {
        char why[512];
        snprintf(why, sizeof why, "%s; nothing was merged", sqlite3_errmsg(db->db));
        set_err(err, errcap, db->path, "cannot commit", why);
        e = PS_ERR_DB;
    }
    if (e != PS_OK) {
        exec(db, "ROLLBACK");
    }
    return e;
}

enum ps_err sink_sqlite_merge(const char *into, const char *const *from, size_t n_from,
                              bool is_allow_mixed_keys, struct sink_sqlite_merge_stats *st,
                              char *err, size_t errcap)
{
    memset(st, 0, sizeof *st);
    struct admin_db target;
    enum ps_err e = check_db(into, true, &target, err, errcap);
    if (e != PS_OK) {
        return e;
    }
    if (target.has_old_key) {
        set_err(err, errcap, into, "refused",
                "it holds the fingerprint key of an earlier release: let plainsight -w move it "
                "into its key file first");
        return PS_ERR_DB;
    }
    bool is_made = access(into, F_OK) != 0;
    struct admin_db *src = xcalloc(n_from > 0 ? n_from : 1, sizeof *src);
    char ref_key[FINDING_KEY_ID_HEX + 1];
    e = merge_check(into, &target, from, n_from, src, is_allow_mixed_keys, ref_key, st, err,
                    errcap);
    struct sink_sqlite *db = NULL;
    if (e == PS_OK) {
        e = connect_db(into, true, &db, err, errcap);
    }
    if (e == PS_OK) {
        e = merge_write(db, &target, from, n_from, src, ref_key, st, err, errcap);
    }
    sink_sqlite_close(db);
    if (e != PS_OK && is_made) {
        remove_new_target(into);
    }
    free(src);
    return e;
}

/* The size of the file at path, 0 when there is none. */
static uint64_t file_bytes(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

/* The database file's size and its WAL's. */
static uint64_t db_bytes(const char *path)
{
    char wal[4096];
    int n = snprintf(wal, sizeof wal, "%s-wal", path);
    return file_bytes(path) + (n > 0 && (size_t)n < sizeof wal ? file_bytes(wal) : 0);
}

/* Runs sql (our own text) with the cutoff as ?1 (NULL for everything); *changes is how many rows
 * it changed, or its first column's value when it answers with a row. */
static int prune_step(struct sink_sqlite *db, const char *sql, const char *cutoff,
                      uint64_t *changes)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        if (cutoff[0] != '\0') {
            sqlite3_bind_text(st, 1, cutoff, -1, SQLITE_TRANSIENT);
        }
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *changes = (uint64_t)sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            *changes = (uint64_t)sqlite3_changes(db->db);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* The prune's one transaction: migration, then the sessions (their credentials cascading), then
 * the finished runs before the cutoff that no session names any more, with their counters. A run
 * still running is never removed; a run is timed by the wall clock (ended), a session by its
 * packets (ts_end), so a run that analysed an old capture today stays while its sessions go. */
static enum ps_err prune_write(struct sink_sqlite *db, const char *cutoff,
                               struct sink_sqlite_prune_stats *st, char *err, size_t errcap)
{
    bool is_key_removed = false;
    enum ps_err e = apply_schema(db, NULL, true, &is_key_removed, err, errcap);
    if (e != PS_OK) {
        return e;
    }
    uint64_t unused = 0;
    int rc = prune_step(db,
                        "SELECT count(*) FROM credentials WHERE session_id IN"
                        " (SELECT id FROM sessions WHERE ?1 IS NULL OR ts_end < ?1)",
                        cutoff, &st->credentials);
    if (rc == SQLITE_OK) {
        rc = prune_step(db, "DELETE FROM sessions WHERE ?1 IS NULL OR ts_end < ?1", cutoff,
                        &st->sessions);
    }
    if (rc == SQLITE_OK) {
        rc = prune_step(db,
                        "DELETE FROM run_counters WHERE run_id IN (SELECT id FROM runs"
                        " WHERE status <> 'running' AND (?1 IS NULL OR coalesce(ended, started)"
                        " < ?1) AND id NOT IN (SELECT run_id FROM sessions))",
                        cutoff, &unused);
    }
    if (rc == SQLITE_OK) {
        rc = prune_step(db,
                        "DELETE FROM runs WHERE status <> 'running' AND (?1 IS NULL OR"
                        " coalesce(ended, started) < ?1) AND id NOT IN"
                        " (SELECT run_id FROM sessions)",
                        cutoff, &st->runs);
    }
    if (rc == SQLITE_OK) {
        rc = exec(db, "COMMIT");
    }
    if (rc != SQLITE_OK) {
        char why[512];
        snprintf(why, sizeof why, "%s; nothing was removed", sqlite3_errmsg(db->db));
        set_err(err, errcap, db->path, "cannot prune", why);
        exec(db, "ROLLBACK");
        return PS_ERR_DB;
    }
    return PS_OK;
}

enum ps_err sink_sqlite_prune(const char *path, uint32_t days, uint64_t now_usec,
                              struct sink_sqlite_prune_stats *st, char *err, size_t errcap)
{
    memset(st, 0, sizeof *st);
    struct admin_db d;
    enum ps_err e = check_db(path, false, &d, err, errcap);
    if (e != PS_OK) {
        return e;
    }
    if (days > 0) {
        uint64_t span = (uint64_t)days * 86400u * PS_USEC_PER_SEC;
        finding_format_time(now_usec > span ? now_usec - span : 0, st->cutoff, sizeof st->cutoff);
    }
    st->bytes_before = db_bytes(path);
    struct sink_sqlite *db = NULL;
    e = connect_db(path, false, &db, err, errcap);
    if (e == PS_OK) {
        e = prune_write(db, st->cutoff, st, err, errcap);
    }
    /* Space goes back to the file system only when the file is rewritten (VACUUM, through the
     * WAL) and the WAL emptied. Skipped when nothing was removed and nothing is free. */
    bool is_vacuum = e == PS_OK && (st->sessions > 0 || st->runs > 0 ||
                                    conn_count(db->db, "PRAGMA freelist_count") > 0);
    if (is_vacuum && (exec(db, "VACUUM") != SQLITE_OK ||
                      exec(db, "PRAGMA wal_checkpoint(TRUNCATE)") != SQLITE_OK)) {
        char why[512];
        snprintf(why, sizeof why,
                 "%s; the %llu sessions are removed, but their space is not given back (run "
                 "plainsight prune again when there is room)",
                 sqlite3_errmsg(db->db), (unsigned long long)st->sessions);
        set_err(err, errcap, path, "cannot VACUUM", why);
        e = PS_ERR_DB;
    }
    sink_sqlite_close(db);
    st->bytes_after = db_bytes(path);
    return e;
}

/* ---- the sink interface (sink.h) ---- */

static enum ps_err ops_open(const struct sink_config *cfg, const struct finding_key *key,
                            void **out, char *err, size_t errcap)
{
    *out = NULL;
    if (cfg->db_path == NULL) {
        return PS_OK;
    }
    struct sink_sqlite *db = NULL;
    struct sink_sqlite_key k = { key, cfg->key_path, cfg->is_drop_old_key };
    enum ps_err e = sink_sqlite_open(cfg->db_path, cfg->is_reveal, &k, &db, err, errcap);
    *out = db;
    return e;
}

enum ps_err sink_sqlite_peek_key(const char *path, struct sink_key_state *ks, char *err,
                                 size_t errcap)
{
    (void)err;
    (void)errcap;
    if (access(path, F_OK) != 0) {
        return PS_OK; /* a new database: nothing to say */
    }
    sqlite3 *conn = NULL;
    if (sqlite3_open_v2(path, &conn, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(conn, SINK_SQLITE_BUSY_MSEC);
        /* Not a plainsight database, or not one at all: open says so, with its reasons. */
        read_key_state(conn, ks);
    }
    sqlite3_close(conn);
    return PS_OK;
}

static enum ps_err ops_peek_key(const struct sink_config *cfg, struct sink_key_state *ks, char *err,
                                size_t errcap)
{
    return cfg->db_path == NULL ? PS_OK : sink_sqlite_peek_key(cfg->db_path, ks, err, errcap);
}

/* The message for a failed write: the file, what failed, SQLite's text. */
static enum ps_err write_failed(const struct sink_sqlite *db, const char *what, char *err,
                                size_t errcap)
{
    set_err(err, errcap, db->path, what, sink_sqlite_error(db));
    return PS_ERR_DB;
}

static enum ps_err ops_run_begin(void *st, const struct run_record *run, char *err, size_t errcap)
{
    struct sink_sqlite *db = st;
    return sink_sqlite_run_begin(db, run) == PS_OK
               ? PS_OK
               : write_failed(db, "cannot record the run", err, errcap);
}

static enum ps_err ops_credential(void *st, const struct session *s, size_t i, char *err,
                                  size_t errcap)
{
    struct sink_sqlite *db = st;
    return sink_sqlite_credential(db, s, i) == PS_OK
               ? PS_OK
               : write_failed(db, "cannot write a credential", err, errcap);
}

static enum ps_err ops_session(void *st, const struct session *s, char *err, size_t errcap)
{
    struct sink_sqlite *db = st;
    return sink_sqlite_session(db, s) == PS_OK
               ? PS_OK
               : write_failed(db, "cannot write session", err, errcap);
}

static enum ps_err ops_tick(void *st, uint64_t now_usec, bool is_force, char *err, size_t errcap)
{
    struct sink_sqlite *db = st;
    return sink_sqlite_commit(db, now_usec, is_force) == PS_OK
               ? PS_OK
               : write_failed(db, "cannot commit", err, errcap);
}

static enum ps_err ops_run_update(void *st, const struct run_record *run, char *err, size_t errcap)
{
    struct sink_sqlite *db = st;
    return sink_sqlite_run_update(db, run) == PS_OK
               ? PS_OK
               : write_failed(db, "cannot record the run", err, errcap);
}

/* The database and its WAL and shared-memory files (these two may not exist yet). */
static void ops_files(void *st, sink_file_fn *fn, void *ctx)
{
    const struct sink_sqlite *db = st;
    static const char *const suffixes[] = { "", "-wal", "-shm" };
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s%s", db->path, suffixes[i]);
        fn(ctx, path, true);
    }
}

static void ops_close(void *st)
{
    sink_sqlite_close(st);
}

const struct sink_ops sink_sqlite_ops = {
    .name = "sqlite",
    .flags = SINK_F_STOPS | SINK_F_SKIP_FAILED,
    .open = ops_open,
    .peek_key = ops_peek_key,
    .run_begin = ops_run_begin,
    .session = ops_session,
    .credential = ops_credential,
    .tick = ops_tick,
    .run_update = ops_run_update,
    .reopen = NULL,
    .files = ops_files,
    .close = ops_close,
};
