/* report.c - the audit report: the database, read-only, into an HTML, text or Markdown page.
 *
 * The queries read the tables (not the views, which a database written by another release may
 * lack) into a struct report of fixed-size rows, at most REPORT_MAX_ROWS per table, each with
 * the count of what was left out; the renderers then print that struct and nothing else, so
 * the page's size is bounded whatever the database holds. Every database string is escaped
 * (log_escape to printable ASCII, then HTML entities): a user name may be "<script>". The HTML
 * page loads nothing: its style is inline and its charts are SVG in the page. The order of the
 * tables is exposures first, most recent first. An unknown STARTTLS verdict (NULL) is shown as
 * "unknown", never as "no". */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "tunables.h"

struct report_server {
    char proto[16];
    char ip[64];
    int port;
    int64_t sessions, logins, succeeded, cr_logins, implicit;
    int64_t st_used, st_offered, st_refused, st_not_offered, st_unknown;
    char weakest[16];
    char last_seen[40];
};

struct report_account {
    char user[REPORT_MAX_FIELD];
    char proto[16];
    char ip[64];
    int port;
    char mechanisms[REPORT_MAX_FIELD];
    char kind[24];
    int64_t exposures, successes, failures;
    char last_seen[40];
    char secret[REPORT_MAX_FIELD];
    bool has_secret;
};

struct report_bar {
    char label[64];
    int64_t n;
};

struct report_bars {
    struct report_bar bar[REPORT_MAX_DAYS];
    size_t n;
};

/* A protocol whose logins crossed in the clear: the remedy names it. */
struct report_proto {
    char proto[16];
    int64_t logins;
};

struct report {
    int64_t sessions, accounts, servers, cr_accounts, runs;
    char first[40], last[40];
    char sensors[REPORT_MAX_FIELD];
    int64_t n_sensors;
    struct report_server server[REPORT_MAX_ROWS];
    size_t n_server;
    int64_t more_server;
    struct report_account account[REPORT_MAX_ROWS];
    size_t n_account;
    int64_t more_account;
    struct report_bars days, mechs, tls;
    struct report_proto proto[REPORT_MAX_BARS];
    size_t n_proto;
    int64_t offered_not_used, refused, not_offered, weak_tls, cr_logins;
};

/* ---- Reading ------------------------------------------------------------------------------ */

/* Database bytes as printable ASCII: 0x20..0x7e as themselves (a secret such as 'a"b\\c' shows
 * as it is), every other byte as \xHH; cut to cap (NUL-terminated). */
static void printable(char *out, size_t cap, const unsigned char *p, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        size_t need = p[i] >= 0x20 && p[i] < 0x7f ? 1 : 4;
        if (o + need + 1 > cap) {
            break;
        }
        if (need == 1) {
            out[o++] = (char)p[i];
        } else {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[p[i] >> 4];
            out[o++] = hex[p[i] & 0xf];
        }
    }
    out[o] = '\0';
}

static void col_text(sqlite3_stmt *st, int col, char *out, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    int n = sqlite3_column_bytes(st, col);
    if (t == NULL) {
        snprintf(out, cap, "%s", "");
        return;
    }
    printable(out, cap, t, (size_t)n);
}

static int64_t col_int(sqlite3_stmt *st, int col)
{
    return (int64_t)sqlite3_column_int64(st, col);
}

/* "ip:port", or "[ip]:port" for IPv6, into out. */
static const char *endpoint(const char *ip, int port, char *out, size_t cap)
{
    bool is_v6 = strchr(ip, ':') != NULL;
    snprintf(out, cap, "%s%s%s:%d", is_v6 ? "[" : "", ip, is_v6 ? "]" : "", port);
    return out;
}

/* Runs sql (our own text) with REPORT_MAX_ROWS bound to ?1; row() takes each row. */
typedef void report_row_fn(struct report *r, sqlite3_stmt *st);

static int query(sqlite3 *db, const char *sql, int64_t limit, struct report *r, report_row_fn *row)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        return rc;
    }
    if (sqlite3_bind_parameter_count(st) >= 1) {
        sqlite3_bind_int64(st, 1, limit);
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        row(r, st);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Credentials whose secret crossed the wire, not anonymous: what the report calls exposures. */
#define REPORT_EXPOSED "c.secret_len IS NOT NULL AND NOT c.anonymous"

static const char sql_headline[] =
    "SELECT (SELECT count(*) FROM sessions), (SELECT min(ts_start) FROM sessions),"
    " (SELECT max(ts_end) FROM sessions),"
    " (SELECT count(*) FROM (SELECT DISTINCT c.username, s.protocol, s.server_ip, s.server_port"
    "   FROM credentials c JOIN sessions s ON s.id = c.session_id WHERE " REPORT_EXPOSED ")),"
    " (SELECT count(*) FROM (SELECT DISTINCT s.protocol, s.server_ip, s.server_port"
    "   FROM credentials c JOIN sessions s ON s.id = c.session_id WHERE " REPORT_EXPOSED ")),"
    " (SELECT count(*) FROM (SELECT DISTINCT c.username, s.server_ip, s.server_port"
    "   FROM credentials c JOIN sessions s ON s.id = c.session_id"
    "   WHERE c.secret_len IS NULL AND NOT c.incomplete AND NOT c.anonymous)),"
    " (SELECT count(*) FROM runs),"
    " (SELECT count(DISTINCT coalesce(sensor, host)) FROM runs),"
    " (SELECT substr(group_concat(x, ', '), 1, 200) FROM"
    "   (SELECT DISTINCT coalesce(sensor, host) AS x FROM runs WHERE x IS NOT NULL LIMIT 20)),"
    " (SELECT count(*) FROM sessions WHERE starttls = 'offered-not-used'),"
    " (SELECT count(*) FROM sessions WHERE starttls = 'refused'),"
    " (SELECT count(*) FROM sessions WHERE starttls = 'not-offered'),"
    " (SELECT count(*) FROM sessions WHERE tls_weak = 1),"
    " (SELECT count(*) FROM credentials c WHERE c.secret_len IS NULL AND NOT c.incomplete"
    "   AND NOT c.anonymous)";

static void row_headline(struct report *r, sqlite3_stmt *st)
{
    r->sessions = col_int(st, 0);
    col_text(st, 1, r->first, sizeof r->first);
    col_text(st, 2, r->last, sizeof r->last);
    r->accounts = col_int(st, 3);
    r->servers = col_int(st, 4);
    r->cr_accounts = col_int(st, 5);
    r->runs = col_int(st, 6);
    r->n_sensors = col_int(st, 7);
    col_text(st, 8, r->sensors, sizeof r->sensors);
    r->offered_not_used = col_int(st, 9);
    r->refused = col_int(st, 10);
    r->not_offered = col_int(st, 11);
    r->weak_tls = col_int(st, 12);
    r->cr_logins = col_int(st, 13);
}

/* One row per server (protocol, address, port); the weakest TLS version by its rank. */
static const char sql_servers[] =
    "SELECT s.protocol, s.server_ip, s.server_port, count(*),"
    " coalesce(sum(c.n), 0), coalesce(sum(c.ok), 0), coalesce(sum(c.cr), 0),"
    " sum(s.tls = 'implicit'), sum(s.starttls = 'used'), sum(s.starttls = 'offered-not-used'),"
    " sum(s.starttls = 'refused'), sum(s.starttls = 'not-offered'),"
    " sum(s.starttls IS NULL AND s.tls != 'implicit'),"
    " CASE min(CASE s.tls_version WHEN 'SSLv3' THEN 0 WHEN 'TLSv1.0' THEN 1 WHEN 'TLSv1.1'"
    "   THEN 2 WHEN 'TLSv1.2' THEN 3 WHEN 'TLSv1.3' THEN 4 END)"
    "   WHEN 0 THEN 'SSLv3' WHEN 1 THEN 'TLSv1.0' WHEN 2 THEN 'TLSv1.1' WHEN 3 THEN 'TLSv1.2'"
    "   WHEN 4 THEN 'TLSv1.3' END,"
    " max(s.ts_end), count(*) OVER ()"
    " FROM sessions s LEFT JOIN (SELECT c.session_id, sum(" REPORT_EXPOSED ") AS n,"
    "   sum(" REPORT_EXPOSED " AND c.result = 'success') AS ok,"
    "   sum(c.secret_len IS NULL AND NOT c.incomplete AND NOT c.anonymous) AS cr"
    "   FROM credentials c GROUP BY c.session_id) c ON c.session_id = s.id"
    " GROUP BY s.protocol, s.server_ip, s.server_port"
    " ORDER BY coalesce(sum(c.n), 0) > 0 DESC, max(s.ts_end) DESC LIMIT ?1";

static void row_server(struct report *r, sqlite3_stmt *st)
{
    if (r->n_server >= REPORT_MAX_ROWS) {
        return;
    }
    struct report_server *v = &r->server[r->n_server++];
    col_text(st, 0, v->proto, sizeof v->proto);
    col_text(st, 1, v->ip, sizeof v->ip);
    v->port = sqlite3_column_int(st, 2);
    v->sessions = col_int(st, 3);
    v->logins = col_int(st, 4);
    v->succeeded = col_int(st, 5);
    v->cr_logins = col_int(st, 6);
    v->implicit = col_int(st, 7);
    v->st_used = col_int(st, 8);
    v->st_offered = col_int(st, 9);
    v->st_refused = col_int(st, 10);
    v->st_not_offered = col_int(st, 11);
    v->st_unknown = col_int(st, 12);
    col_text(st, 13, v->weakest, sizeof v->weakest);
    col_text(st, 14, v->last_seen, sizeof v->last_seen);
    r->more_server = col_int(st, 15) - (int64_t)REPORT_MAX_ROWS;
}

/* One row per account (user, protocol, server) and kind: a password or token, or a
 * challenge-response exchange (crackable offline). */
static const char sql_accounts[] =
    "SELECT c.username, s.protocol, s.server_ip, s.server_port,"
    " substr(group_concat(DISTINCT c.mechanism), 1, 200),"
    " CASE WHEN c.secret_len IS NULL THEN 'challenge-response' ELSE 'password' END AS kind,"
    " count(*), sum(c.result = 'success'), sum(c.result = 'failure'), max(s.ts_start),"
    " substr(group_concat(DISTINCT c.secret), 1, 200), count(*) OVER ()"
    " FROM credentials c JOIN sessions s ON s.id = c.session_id"
    " WHERE NOT c.anonymous AND NOT c.incomplete"
    " GROUP BY c.username, s.protocol, s.server_ip, s.server_port, kind"
    " ORDER BY kind = 'password' DESC, max(s.ts_start) DESC LIMIT ?1";

static void row_account(struct report *r, sqlite3_stmt *st)
{
    if (r->n_account >= REPORT_MAX_ROWS) {
        return;
    }
    struct report_account *a = &r->account[r->n_account++];
    if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
        snprintf(a->user, sizeof a->user, "(not shown)");
    } else {
        col_text(st, 0, a->user, sizeof a->user);
    }
    col_text(st, 1, a->proto, sizeof a->proto);
    col_text(st, 2, a->ip, sizeof a->ip);
    a->port = sqlite3_column_int(st, 3);
    col_text(st, 4, a->mechanisms, sizeof a->mechanisms);
    col_text(st, 5, a->kind, sizeof a->kind);
    a->exposures = col_int(st, 6);
    a->successes = col_int(st, 7);
    a->failures = col_int(st, 8);
    col_text(st, 9, a->last_seen, sizeof a->last_seen);
    a->has_secret = sqlite3_column_type(st, 10) != SQLITE_NULL;
    col_text(st, 10, a->secret, sizeof a->secret);
    r->more_account = col_int(st, 11) - (int64_t)REPORT_MAX_ROWS;
}

static void add_bar(struct report_bars *b, sqlite3_stmt *st)
{
    if (b->n >= REPORT_MAX_DAYS) {
        return;
    }
    col_text(st, 0, b->bar[b->n].label, sizeof b->bar[b->n].label);
    b->bar[b->n].n = col_int(st, 1);
    b->n++;
}

static void row_day(struct report *r, sqlite3_stmt *st)
{
    add_bar(&r->days, st);
}

static void row_mech(struct report *r, sqlite3_stmt *st)
{
    add_bar(&r->mechs, st);
}

static void row_tls(struct report *r, sqlite3_stmt *st)
{
    add_bar(&r->tls, st);
}

static void row_proto(struct report *r, sqlite3_stmt *st)
{
    if (r->n_proto >= REPORT_MAX_BARS) {
        return;
    }
    col_text(st, 0, r->proto[r->n_proto].proto, sizeof r->proto[r->n_proto].proto);
    r->proto[r->n_proto].logins = col_int(st, 1);
    r->n_proto++;
}

/* The most recent days first in the query; the chart puts them back in order. */
static const char sql_days[] =
    "SELECT * FROM (SELECT substr(s.ts_start, 1, 10) AS day, count(*)"
    " FROM credentials c JOIN sessions s ON s.id = c.session_id WHERE " REPORT_EXPOSED
    " GROUP BY day ORDER BY day DESC LIMIT ?1) ORDER BY day";
static const char sql_mechs[] =
    "SELECT mechanism, count(*) FROM credentials c WHERE NOT c.anonymous AND NOT c.incomplete"
    " GROUP BY mechanism ORDER BY count(*) DESC, mechanism LIMIT ?1";
static const char sql_tls[] = "SELECT coalesce(tls_version, CASE tls WHEN 'none' THEN 'no TLS'"
                              " ELSE 'TLS, version unseen' END) AS v, count(*) FROM sessions"
                              " GROUP BY v ORDER BY count(*) DESC, v LIMIT ?1";
static const char sql_protos[] =
    "SELECT s.protocol, count(*) FROM credentials c JOIN sessions s ON s.id = c.session_id"
    " WHERE " REPORT_EXPOSED " GROUP BY s.protocol ORDER BY count(*) DESC LIMIT ?1";

static int read_all(sqlite3 *db, struct report *r)
{
    int rc = query(db, sql_headline, 0, r, row_headline);
    if (rc == SQLITE_OK) {
        rc = query(db, sql_servers, REPORT_MAX_ROWS, r, row_server);
    }
    if (rc == SQLITE_OK) {
        rc = query(db, sql_accounts, REPORT_MAX_ROWS, r, row_account);
    }
    if (rc == SQLITE_OK) {
        rc = query(db, sql_days, REPORT_MAX_DAYS, r, row_day);
    }
    if (rc == SQLITE_OK) {
        rc = query(db, sql_mechs, REPORT_MAX_BARS, r, row_mech);
    }
    if (rc == SQLITE_OK) {
        rc = query(db, sql_tls, REPORT_MAX_BARS, r, row_tls);
    }
    if (rc == SQLITE_OK) {
        rc = query(db, sql_protos, REPORT_MAX_BARS, r, row_proto);
    }
    return rc;
}

/* Opens path read-only (never created, never changed) and reads it into r, in one read
 * transaction so that a live run's writes do not tear the page. */
static enum ps_err read_db(const char *path, struct report *r, char *err, size_t errcap)
{
    sqlite3 *db = NULL;
    struct stat sb;
    if (stat(path, &sb) != 0) {
        snprintf(err, errcap, "%s: cannot open database: %s", path, strerror(errno));
        return PS_ERR_DB;
    }
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, REPORT_BUSY_MSEC);
        rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    }
    if (rc == SQLITE_OK) {
        rc = read_all(db, r);
    }
    enum ps_err e = PS_OK;
    if (rc != SQLITE_OK) {
        const char *why = db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
        snprintf(err, errcap, "%s: not a readable plainsight database: %s", path, why);
        e = PS_ERR_DB;
    }
    sqlite3_close(db);
    return e;
}

/* ---- Remedies ----------------------------------------------------------------------------- */

/* What to do about logins in the clear, per protocol, in the words mail providers use. */
static const char *remedy_for(const char *proto)
{
    static const struct {
        const char *proto, *text;
    } remedies[] = {
        { "smtp", "Submission on 587 with STARTTLS required before AUTH, or 465 with implicit "
                  "TLS; no AUTH before TLS (Postfix smtpd_tls_auth_only = yes)." },
        { "imap", "IMAPS on 993, or STARTTLS required before LOGIN/AUTHENTICATE (Dovecot "
                  "disable_plaintext_auth = yes / auth_allow_cleartext = no)." },
        { "pop3", "POP3S on 995, or STLS required before USER/PASS (Dovecot "
                  "disable_plaintext_auth = yes / auth_allow_cleartext = no)." },
        { "managesieve", "Require STARTTLS before AUTHENTICATE (Dovecot disable_plaintext_auth "
                         "= yes)." },
        { "ftp", "FTPS: require AUTH TLS before USER/PASS (vsftpd force_local_logins_ssl=YES), "
                 "or replace FTP with SFTP." },
        { "ldap", "LDAPS on 636, or StartTLS required before bind; no simple bind in the clear "
                  "(OpenLDAP security simple_bind=128, AD LDAP signing and channel binding)." },
        { "nntp", "NNTPS on 563, or STARTTLS required before AUTHINFO." },
        { "xmpp", "Require STARTTLS before SASL (c2s_require_encryption = true), or direct TLS "
                  "on 5223." },
        { "http", "HTTPS only for Basic and Bearer authentication; redirect port 80 and set "
                  "HSTS." },
    };
    for (size_t i = 0; i < sizeof remedies / sizeof remedies[0]; i++) {
        if (strcmp(remedies[i].proto, proto) == 0) {
            return remedies[i].text;
        }
    }
    return "Require TLS (implicit or STARTTLS) before any login.";
}

/* One finding: its kind, how many, and its remedy. */
struct report_finding {
    char what[96];
    int64_t n;
    const char *remedy;
};

/* The findings in order of weight: logins in the clear per protocol first. Returns how many
 * were written into f (cap at least REPORT_MAX_BARS + 5). */
static size_t findings(const struct report *r, struct report_finding *f)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_proto; i++) {
        snprintf(f[n].what, sizeof f[n].what, "%s: passwords or tokens sent in the clear",
                 r->proto[i].proto);
        f[n].n = r->proto[i].logins;
        f[n].remedy = remedy_for(r->proto[i].proto);
        n++;
    }
    const struct report_finding more[] = {
        { "challenge-response logins in the clear (crackable offline)", r->cr_logins,
          "Move them inside TLS; prefer SCRAM with channel binding over CRAM-MD5, DIGEST-MD5, "
          "APOP or NTLM." },
        { "sessions where the server offered STARTTLS and the client did not use it",
          r->offered_not_used,
          "Configure the clients to require STARTTLS (or implicit TLS), and the server to refuse "
          "login before TLS." },
        { "sessions where STARTTLS was refused", r->refused,
          "Fix the server's TLS (certificate, key, protocols) so that STARTTLS succeeds." },
        { "sessions where the server did not offer STARTTLS", r->not_offered,
          "Enable TLS on the server: STARTTLS on the plain port, or implicit TLS on its TLS "
          "port." },
        { "sessions on SSLv3, TLS 1.0 or TLS 1.1", r->weak_tls,
          "Allow TLS 1.2 or newer only (Postfix smtpd_tls_protocols = >=TLSv1.2, Dovecot "
          "ssl_min_protocol = TLSv1.2)." },
    };
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++) {
        if (more[i].n > 0) {
            f[n++] = more[i];
        }
    }
    return n;
}

#define REPORT_MAX_FINDINGS (REPORT_MAX_BARS + 5)

/* ---- Rendering: shared ------------------------------------------------------------------- */

char *report_html_escape(char *out, size_t cap, const char *s, size_t len)
{
    size_t o = 0;
    if (cap == 0) {
        return out;
    }
    for (size_t i = 0; i < len; i++) {
        char tmp[8];
        unsigned char b = (unsigned char)s[i];
        switch (b) {
        case '&':
            snprintf(tmp, sizeof tmp, "&amp;");
            break;
        case '<':
            snprintf(tmp, sizeof tmp, "&lt;");
            break;
        case '>':
            snprintf(tmp, sizeof tmp, "&gt;");
            break;
        case '"':
            snprintf(tmp, sizeof tmp, "&quot;");
            break;
        case '\'':
            snprintf(tmp, sizeof tmp, "&#39;");
            break;
        default:
            if (b >= 0x20 && b < 0x7f) {
                tmp[0] = (char)b;
                tmp[1] = '\0';
            } else {
                snprintf(tmp, sizeof tmp, "\\x%02x", b);
            }
        }
        size_t n = strlen(tmp);
        if (o + n + 1 > cap) {
            break;
        }
        memcpy(out + o, tmp, n);
        o += n;
    }
    out[o] = '\0';
    return out;
}

/* A database string (already printable ASCII) for the page: escaped for HTML, as is otherwise
 * (Markdown: '|' would cut a table cell). */
static const char *esc(enum report_format fmt, const char *s, char *buf, size_t cap)
{
    if (fmt == REPORT_HTML) {
        return report_html_escape(buf, cap, s, strlen(s));
    }
    if (fmt == REPORT_MARKDOWN && strchr(s, '|') != NULL) {
        size_t o = 0;
        for (size_t i = 0; s[i] != '\0' && o + 3 < cap; i++) {
            if (s[i] == '|') {
                buf[o++] = '\\';
            }
            buf[o++] = s[i];
        }
        buf[o] = '\0';
        return buf;
    }
    return s;
}

/* The STARTTLS cell: every verdict with its count; unknown is never "no". */
static void starttls_cell(const struct report_server *v, char *out, size_t cap)
{
    const struct {
        const char *name;
        int64_t n;
    } parts[] = {
        { "used", v->st_used },       { "offered, not used", v->st_offered },
        { "refused", v->st_refused }, { "not offered", v->st_not_offered },
        { "unknown", v->st_unknown },
    };
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof parts / sizeof parts[0] && o < cap; i++) {
        if (parts[i].n > 0) {
            int w = snprintf(out + o, cap - o, "%s%s %" PRId64, o > 0 ? ", " : "", parts[i].name,
                             parts[i].n);
            o += w > 0 ? (size_t)w : 0;
        }
    }
    if (out[0] == '\0') {
        snprintf(out, cap, "n/a");
    }
}

/* ---- Rendering: HTML ---------------------------------------------------------------------- */

static const char html_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
    "style-src 'unsafe-inline'\">\n"
    "<title>plainsight audit report</title>\n<style>\n"
    "body{font-family:sans-serif;margin:2em;color:#222}\n"
    "table{border-collapse:collapse;margin:1em 0}\n"
    "th,td{border:1px solid #bbb;padding:.25em .5em;text-align:left;vertical-align:top}\n"
    "td{white-space:nowrap}th{background:#eee}.bad{color:#a00;font-weight:bold}.num{text-align:"
    "right}\n"
    ".head{display:flex;flex-wrap:wrap;gap:1em}.head div{border:1px solid #bbb;padding:.5em 1em}\n"
    ".head b{display:block;font-size:1.6em}svg{margin:.5em 1em .5em 0}\n"
    "</style></head><body>\n<h1>plainsight audit report</h1>\n";

static void html_headline(FILE *f, const struct report *r)
{
    char b1[REPORT_MAX_FIELD * 6];
    fprintf(f, "<div class=\"head\">\n");
    fprintf(f, "<div><b>%" PRId64 "</b>exposed accounts</div>\n", r->accounts);
    fprintf(f, "<div><b>%" PRId64 "</b>servers accepting cleartext logins</div>\n", r->servers);
    fprintf(f, "<div><b>%" PRId64 "</b>sessions</div>\n", r->sessions);
    fprintf(f, "<div><b>%" PRId64 "</b>sensors</div>\n</div>\n", r->n_sensors);
    if (r->sessions > 0) {
        fprintf(f, "<p>Period covered: %s to %s.", r->first, r->last);
    } else {
        fprintf(f, "<p>No session was recorded.");
    }
    fprintf(f, " Runs: %" PRId64 ". Sensors: %s.</p>\n", r->runs,
            r->sensors[0] != '\0' ? esc(REPORT_HTML, r->sensors, b1, sizeof b1) : "none named");
    if (r->accounts == 0 && r->cr_accounts == 0) {
        fprintf(f, "<p><b>Nothing was found: no password, token or challenge-response crossed "
                   "the wire in the clear.</b></p>\n");
    }
}

static void html_servers(FILE *f, const struct report *r)
{
    char b1[REPORT_MAX_FIELD * 6], b2[REPORT_MAX_FIELD * 6], st[160], ep[80];
    fprintf(f, "<h2>Servers</h2>\n");
    if (r->n_server == 0) {
        fprintf(f, "<p>No server was seen.</p>\n");
        return;
    }
    fprintf(f, "<table><tr><th>server</th><th>protocol</th><th>sessions</th>"
               "<th>cleartext logins accepted (succeeded)</th><th>challenge-response</th>"
               "<th>STARTTLS</th><th>implicit TLS</th><th>weakest TLS</th>"
               "<th>last seen</th></tr>\n");
    for (size_t i = 0; i < r->n_server; i++) {
        const struct report_server *v = &r->server[i];
        starttls_cell(v, st, sizeof st);
        fprintf(f,
                "<tr><td>%s</td><td>%s</td><td class=\"num\">%" PRId64 "</td>"
                "<td class=\"num%s\">%" PRId64 " (%" PRId64 ")</td><td class=\"num\">%" PRId64
                "</td><td>%s</td><td class=\"num\">%" PRId64 "</td><td>%s</td><td>%s</td></tr>\n",
                esc(REPORT_HTML, endpoint(v->ip, v->port, ep, sizeof ep), b1, sizeof b1),
                esc(REPORT_HTML, v->proto, b2, sizeof b2), v->sessions, v->logins > 0 ? " bad" : "",
                v->logins, v->succeeded, v->cr_logins, st, v->implicit,
                v->weakest[0] != '\0' ? v->weakest : "unseen", v->last_seen);
    }
    fprintf(f, "</table>\n");
    if (r->more_server > 0) {
        fprintf(f, "<p>and %" PRId64 " more servers.</p>\n", r->more_server);
    }
}

static void html_accounts(FILE *f, const struct report *r, bool is_reveal)
{
    char b1[REPORT_MAX_FIELD * 6], b2[REPORT_MAX_FIELD * 6], b3[REPORT_MAX_FIELD * 6], ep[80];
    fprintf(f, "<h2>Exposed accounts</h2>\n");
    if (r->n_account == 0) {
        fprintf(f, "<p>No account was exposed.</p>\n");
        return;
    }
    fprintf(f,
            "<table><tr><th>account</th><th>server</th><th>protocol</th><th>kind</th>"
            "<th>mechanisms</th><th>logins</th><th>succeeded</th><th>failed</th>"
            "<th>last seen</th>%s</tr>\n",
            is_reveal ? "<th>secret</th>" : "");
    for (size_t i = 0; i < r->n_account; i++) {
        const struct report_account *a = &r->account[i];
        fprintf(f,
                "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>"
                "<td class=\"num\">%" PRId64 "</td><td class=\"num\">%" PRId64
                "</td><td class=\"num\">%" PRId64 "</td><td>%s</td>",
                esc(REPORT_HTML, a->user, b1, sizeof b1),
                esc(REPORT_HTML, endpoint(a->ip, a->port, ep, sizeof ep), b2, sizeof b2), a->proto,
                a->kind, esc(REPORT_HTML, a->mechanisms, b3, sizeof b3), a->exposures, a->successes,
                a->failures, a->last_seen);
        if (is_reveal) {
            fprintf(f, "<td>%s</td>",
                    a->has_secret ? esc(REPORT_HTML, a->secret, b1, sizeof b1) : "(not kept)");
        }
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</table>\n");
    if (r->more_account > 0) {
        fprintf(f, "<p>and %" PRId64 " more accounts.</p>\n", r->more_account);
    }
    if (!is_reveal) {
        fprintf(f, "<p>Secrets are not shown (plainsight report --reveal-secrets shows those "
                   "the database holds).</p>\n");
    }
}

/* A horizontal bar chart as inline SVG: one bar per label, scaled to the largest. */
static void html_chart(FILE *f, const char *title, const struct report_bars *b)
{
    char b1[64 * 6];
    fprintf(f, "<figure><figcaption>%s</figcaption>\n", title);
    if (b->n == 0) {
        fprintf(f, "<p>none</p></figure>\n");
        return;
    }
    int64_t max = 1;
    for (size_t i = 0; i < b->n; i++) {
        max = b->bar[i].n > max ? b->bar[i].n : max;
    }
    unsigned h = 18u * (unsigned)b->n + 4u;
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"560\" height=\"%u\" "
            "role=\"img\" aria-label=\"%s\">\n",
            h, title);
    for (size_t i = 0; i < b->n; i++) {
        unsigned y = 18u * (unsigned)i + 2u;
        unsigned w = (unsigned)(b->bar[i].n * 300 / max);
        fprintf(f,
                "<text x=\"0\" y=\"%u\" font-size=\"12\">%s</text>"
                "<rect x=\"180\" y=\"%u\" width=\"%u\" height=\"14\" fill=\"#c0392b\"/>"
                "<text x=\"%u\" y=\"%u\" font-size=\"12\">%" PRId64 "</text>\n",
                y + 12, esc(REPORT_HTML, b->bar[i].label, b1, sizeof b1), y, w > 0 ? w : 1, 185 + w,
                y + 12, b->bar[i].n);
    }
    fprintf(f, "</svg></figure>\n");
}

static void html_findings(FILE *f, const struct report *r)
{
    struct report_finding fs[REPORT_MAX_FINDINGS];
    size_t n = findings(r, fs);
    char b1[REPORT_MAX_FIELD * 6];
    fprintf(f, "<h2>Findings and remedies</h2>\n");
    if (n == 0) {
        fprintf(f, "<p>Nothing to remedy.</p>\n");
        return;
    }
    fprintf(f, "<table><tr><th>finding</th><th>count</th><th>remedy</th></tr>\n");
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "<tr><td>%s</td><td class=\"num\">%" PRId64 "</td><td>%s</td></tr>\n",
                esc(REPORT_HTML, fs[i].what, b1, sizeof b1), fs[i].n, fs[i].remedy);
    }
    fprintf(f, "</table>\n");
}

static void render_html(FILE *f, const struct report *r, bool is_reveal)
{
    fputs(html_head, f);
    html_headline(f, r);
    html_findings(f, r);
    html_servers(f, r);
    html_accounts(f, r, is_reveal);
    fprintf(f, "<h2>Charts</h2>\n");
    html_chart(f, "Exposures per day", &r->days);
    html_chart(f, "Login mechanisms", &r->mechs);
    html_chart(f, "TLS versions (sessions)", &r->tls);
    fprintf(f, "<p>Made by plainsight report.</p>\n</body></html>\n");
}

/* ---- Rendering: text and Markdown -------------------------------------------------------- */

static void text_heading(FILE *f, enum report_format fmt, const char *title)
{
    if (fmt == REPORT_MARKDOWN) {
        fprintf(f, "\n## %s\n\n", title);
    } else {
        fprintf(f, "\n%s\n", title);
        for (size_t i = 0; title[i] != '\0'; i++) {
            fputc('=', f);
        }
        fputc('\n', f);
    }
}

/* A table's header row: cells separated by " | "; Markdown adds its rule line. */
static void text_header(FILE *f, enum report_format fmt, const char *const *cells, size_t n)
{
    const char *edge = fmt == REPORT_MARKDOWN ? "| " : "";
    fputs(edge, f);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%s%s", i > 0 ? " | " : "", cells[i]);
    }
    fprintf(f, "%s\n", fmt == REPORT_MARKDOWN ? " |" : "");
    if (fmt == REPORT_MARKDOWN) {
        for (size_t i = 0; i < n; i++) {
            fputs("|---", f);
        }
        fputs("|\n", f);
    }
}

static void text_headline(FILE *f, enum report_format fmt, const struct report *r)
{
    fprintf(f, "%s\n",
            fmt == REPORT_MARKDOWN ? "# plainsight audit report" : "plainsight audit report");
    fprintf(f, "\n- exposed accounts: %" PRId64 "\n", r->accounts);
    fprintf(f, "- servers accepting cleartext logins: %" PRId64 "\n", r->servers);
    fprintf(f, "- sessions: %" PRId64 "\n", r->sessions);
    if (r->sessions > 0) {
        fprintf(f, "- period covered: %s to %s\n", r->first, r->last);
    }
    fprintf(f, "- sensors: %" PRId64 " (%s); runs: %" PRId64 "\n", r->n_sensors,
            r->sensors[0] != '\0' ? r->sensors : "none named", r->runs);
    if (r->accounts == 0 && r->cr_accounts == 0) {
        fprintf(f, "\nNothing was found: no password, token or challenge-response crossed the "
                   "wire in the clear.\n");
    }
}

static void text_findings(FILE *f, enum report_format fmt, const struct report *r)
{
    struct report_finding fs[REPORT_MAX_FINDINGS];
    size_t n = findings(r, fs);
    text_heading(f, fmt, "Findings and remedies");
    if (n == 0) {
        fprintf(f, "Nothing to remedy.\n");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "- %s: %" PRId64 ". Remedy: %s\n", fs[i].what, fs[i].n, fs[i].remedy);
    }
}

static void text_servers(FILE *f, enum report_format fmt, const struct report *r)
{
    static const char *const cols[] = { "server",
                                        "protocol",
                                        "sessions",
                                        "cleartext logins (succeeded)",
                                        "challenge-response",
                                        "STARTTLS",
                                        "implicit TLS",
                                        "weakest TLS",
                                        "last seen" };
    char st[160], ep[80];
    text_heading(f, fmt, "Servers");
    if (r->n_server == 0) {
        fprintf(f, "No server was seen.\n");
        return;
    }
    text_header(f, fmt, cols, sizeof cols / sizeof cols[0]);
    const char *edge = fmt == REPORT_MARKDOWN ? "| " : "";
    for (size_t i = 0; i < r->n_server; i++) {
        const struct report_server *v = &r->server[i];
        starttls_cell(v, st, sizeof st);
        fprintf(f,
                "%s%s | %s | %" PRId64 " | %" PRId64 " (%" PRId64 ") | %" PRId64 " | %s | %" PRId64
                " | %s | %s%s\n",
                edge, endpoint(v->ip, v->port, ep, sizeof ep), v->proto, v->sessions, v->logins,
                v->succeeded, v->cr_logins, st, v->implicit,
                v->weakest[0] != '\0' ? v->weakest : "unseen", v->last_seen,
                fmt == REPORT_MARKDOWN ? " |" : "");
    }
    if (r->more_server > 0) {
        fprintf(f, "\nand %" PRId64 " more servers.\n", r->more_server);
    }
}

static void text_accounts(FILE *f, enum report_format fmt, const struct report *r, bool is_reveal)
{
    static const char *const cols[] = { "account",    "server", "protocol",  "kind",
                                        "mechanisms", "logins", "succeeded", "failed",
                                        "last seen",  "secret" };
    char b1[REPORT_MAX_FIELD * 2], b2[REPORT_MAX_FIELD * 2], b3[REPORT_MAX_FIELD * 2], ep[80];
    text_heading(f, fmt, "Exposed accounts");
    if (r->n_account == 0) {
        fprintf(f, "No account was exposed.\n");
        return;
    }
    text_header(f, fmt, cols, sizeof cols / sizeof cols[0] - (is_reveal ? 0 : 1));
    const char *edge = fmt == REPORT_MARKDOWN ? "| " : "";
    for (size_t i = 0; i < r->n_account; i++) {
        const struct report_account *a = &r->account[i];
        fprintf(f, "%s%s | %s | %s | %s | %s | %" PRId64 " | %" PRId64 " | %" PRId64 " | %s", edge,
                esc(fmt, a->user, b1, sizeof b1), endpoint(a->ip, a->port, ep, sizeof ep), a->proto,
                a->kind, esc(fmt, a->mechanisms, b2, sizeof b2), a->exposures, a->successes,
                a->failures, a->last_seen);
        if (is_reveal) {
            fprintf(f, " | %s", a->has_secret ? esc(fmt, a->secret, b3, sizeof b3) : "(not kept)");
        }
        fprintf(f, "%s\n", fmt == REPORT_MARKDOWN ? " |" : "");
    }
    if (r->more_account > 0) {
        fprintf(f, "\nand %" PRId64 " more accounts.\n", r->more_account);
    }
    if (!is_reveal) {
        fprintf(f, "\nSecrets are not shown (--reveal-secrets shows those the database holds).\n");
    }
}

static void text_chart(FILE *f, enum report_format fmt, const char *title,
                       const struct report_bars *b)
{
    text_heading(f, fmt, title);
    if (b->n == 0) {
        fprintf(f, "none\n");
        return;
    }
    for (size_t i = 0; i < b->n; i++) {
        fprintf(f, "- %s: %" PRId64 "\n", b->bar[i].label, b->bar[i].n);
    }
}

static void render_text(FILE *f, enum report_format fmt, const struct report *r, bool is_reveal)
{
    text_headline(f, fmt, r);
    text_findings(f, fmt, r);
    text_servers(f, fmt, r);
    text_accounts(f, fmt, r, is_reveal);
    text_chart(f, fmt, "Exposures per day", &r->days);
    text_chart(f, fmt, "Login mechanisms", &r->mechs);
    text_chart(f, fmt, "TLS versions (sessions)", &r->tls);
}

/* ---- The report --------------------------------------------------------------------------- */

/* The output: the file made (or truncated) mode 0600, never through a symbolic link. */
static FILE *open_out(const char *path, char *err, size_t errcap)
{
    if (path == NULL) {
        return stdout;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 || fchmod(fd, 0600) != 0) {
        snprintf(err, errcap, "%s: cannot write the report: %s", path, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return NULL;
    }
    FILE *f = fdopen(fd, "w");
    if (f == NULL) {
        snprintf(err, errcap, "%s: cannot write the report: %s", path, strerror(errno));
        close(fd);
    }
    return f;
}

enum ps_err report_write(const struct report_opts *o, char *err, size_t errcap)
{
    struct report *r = xcalloc(1, sizeof *r);
    enum ps_err e = read_db(o->db_path, r, err, errcap);
    FILE *f = e == PS_OK ? open_out(o->out_path, err, errcap) : NULL;
    if (e == PS_OK && f == NULL) {
        e = PS_ERR_IO;
    }
    if (f != NULL) {
        if (o->format == REPORT_HTML) {
            render_html(f, r, o->is_reveal);
        } else {
            render_text(f, o->format, r, o->is_reveal);
        }
        bool is_bad = ferror(f) != 0;
        is_bad = (f == stdout ? fflush(f) : fclose(f)) != 0 || is_bad;
        if (is_bad) {
            snprintf(err, errcap, "%s: cannot write the report: %s",
                     o->out_path != NULL ? o->out_path : "standard output", strerror(errno));
            e = PS_ERR_IO;
        }
    }
    free(r);
    return e;
}
