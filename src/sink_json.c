/* sink_json.c - one JSON object (RFC 8259) per mail session, one per line.
 *
 * Field names are the SQLite column names, so a query and a log search read alike. Wire bytes
 * (user names, secrets) are escaped: valid UTF-8 passes through, control characters become
 * \uXXXX, and each byte of an invalid UTF-8 sequence becomes \u00XX, so every line is valid
 * JSON whatever the network sent.
 *
 * Behind sink.h as sink_json_ops: a failed write stops an offline run (the JSON would be
 * incomplete) but not a live one, which goes on writing the database; SIGHUP reopens the file,
 * and a reopen that works brings the JSON back. */
#include "sink_json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct sink_json {
    FILE *f;    /* NULL after a failed reopen */
    char *path; /* the file (owned); NULL for standard output */
    char *name; /* for messages (owned): the path as given ("-" too), or "stdout" */
    bool is_stdout;
    bool is_reveal;
};

static FILE *open_append(const char *path, char *err, size_t errcap)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "a") : NULL;
    if (f == NULL) {
        snprintf(err, errcap, "%s: cannot open JSON output: %s", path, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
    }
    return f;
}

static char *copy_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *c = xmalloc(n);
    memcpy(c, s, n);
    return c;
}

enum ps_err sink_json_open(const char *path, bool is_reveal, struct sink_json **out, char *err,
                           size_t errcap)
{
    *out = NULL;
    struct sink_json *j = xcalloc(1, sizeof *j);
    j->is_reveal = is_reveal;
    if (path == NULL || strcmp(path, "-") == 0) {
        j->f = stdout;
        j->is_stdout = true;
    } else {
        j->f = open_append(path, err, errcap);
        if (j->f == NULL) {
            free(j);
            return PS_ERR_IO;
        }
        j->path = copy_str(path);
    }
    j->name = copy_str(path != NULL ? path : "stdout");
    *out = j;
    return PS_OK;
}

/* Length of the valid UTF-8 sequence at p[0..len), or 0 if it is not one (RFC 3629). */
static size_t utf8_len(const uint8_t *p, size_t len)
{
    uint8_t b = p[0];
    size_t n;
    uint32_t min;
    uint32_t cp;
    if (b < 0x80) {
        return 1;
    } else if (b >= 0xc2 && b <= 0xdf) {
        n = 2, min = 0x80, cp = b & 0x1fu;
    } else if (b >= 0xe0 && b <= 0xef) {
        n = 3, min = 0x800, cp = b & 0x0fu;
    } else if (b >= 0xf0 && b <= 0xf4) {
        n = 4, min = 0x10000, cp = b & 0x07u;
    } else {
        return 0;
    }
    if (n > len) {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = cp << 6 | (p[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return n;
}

static void put_str(FILE *f, const uint8_t *p, size_t len)
{
    fputc('"', f);
    size_t i = 0;
    while (i < len) {
        uint8_t b = p[i];
        if (b == '"' || b == '\\') {
            fputc('\\', f);
            fputc(b, f);
            i++;
        } else if (b == '\n') {
            fputs("\\n", f);
            i++;
        } else if (b == '\r') {
            fputs("\\r", f);
            i++;
        } else if (b == '\t') {
            fputs("\\t", f);
            i++;
        } else if (b < 0x20 || b == 0x7f) {
            fprintf(f, "\\u%04x", b);
            i++;
        } else {
            size_t n = utf8_len(p + i, len - i);
            if (n == 0) {
                fprintf(f, "\\u%04x", b);
                i++;
            } else {
                fwrite(p + i, 1, n, f);
                i += n;
            }
        }
    }
    fputc('"', f);
}

static void put_cstr(FILE *f, const char *s)
{
    if (s == NULL) {
        fputs("null", f);
    } else {
        put_str(f, (const uint8_t *)s, strlen(s));
    }
}

static void put_bytes_or_null(FILE *f, const uint8_t *p, size_t len, bool has)
{
    if (!has || p == NULL) {
        fputs("null", f);
    } else {
        put_str(f, p, len);
    }
}

static void put_credential(FILE *f, const struct credential *c, bool is_reveal)
{
    bool has_secret = c->secret != NULL;
    fputs("{\"mechanism\":", f);
    put_cstr(f, c->mechanism);
    fputs(",\"username\":", f);
    put_bytes_or_null(f, c->username, c->username_len, c->has_username);
    fputs(",\"secret\":", f);
    put_bytes_or_null(f, c->secret, c->secret_len, has_secret && is_reveal);
    if (has_secret) {
        fprintf(f, ",\"secret_len\":%zu,\"secret_fingerprint\":", c->secret_len);
        put_cstr(f, c->fingerprint);
    } else {
        fputs(",\"secret_len\":null,\"secret_fingerprint\":null", f);
    }
    fputs(",\"challenge\":", f);
    put_bytes_or_null(f, c->challenge, c->challenge_len, is_reveal);
    fputs(",\"response\":", f);
    put_bytes_or_null(f, c->response, c->response_len, is_reveal);
    fputs(",\"result\":", f);
    put_cstr(f, finding_result_name(c->result));
    fprintf(f, ",\"truncated\":%s,\"anonymous\":%s,\"incomplete\":%s}",
            c->is_truncated ? "true" : "false", c->is_anonymous ? "true" : "false",
            finding_credential_is_incomplete(c) ? "true" : "false");
}

enum ps_err sink_json_reopen(struct sink_json *j, char *err, size_t errcap)
{
    if (j->is_stdout) {
        return sink_json_flush(j);
    }
    if (j->f != NULL) {
        fclose(j->f);
    }
    j->f = open_append(j->path, err, errcap);
    return j->f != NULL ? PS_OK : PS_ERR_IO;
}

/* What every line starts with: the event, the session's uid and Community ID, the sensor that
 * saw it, times, endpoints, protocol. */
static void put_head(FILE *f, const char *event_type, const struct session *s)
{
    char buf[64];
    fputs("{\"event_type\":", f);
    put_cstr(f, event_type);
    fputs(",\"uid\":", f);
    put_cstr(f, s->uid[0] != '\0' ? s->uid : NULL); /* NULL: a record made by hand */
    fputs(",\"community_id\":", f);
    put_cstr(f, s->community_id[0] != '\0' ? s->community_id : NULL);
    fputs(",\"sensor\":", f);
    put_cstr(f, s->sensor);
    fputs(",\"ts_start\":", f);
    put_cstr(f, finding_format_time(s->ts_start_usec, buf, sizeof buf));
    fputs(",\"ts_end\":", f);
    put_cstr(f, finding_format_time(s->ts_end_usec, buf, sizeof buf));
    fputs(",\"client_ip\":", f);
    put_cstr(f, finding_format_ip(s->ip_version, s->client_ip, buf, sizeof buf));
    fprintf(f, ",\"client_port\":%u,\"server_ip\":", s->client_port);
    put_cstr(f, finding_format_ip(s->ip_version, s->server_ip, buf, sizeof buf));
    fprintf(f, ",\"server_port\":%u", s->server_port);
    if (s->vlan != 0) {
        fprintf(f, ",\"vlan\":%u", s->vlan);
    } else {
        fputs(",\"vlan\":null", f);
    }
    fputs(",\"tunnel\":", f);
    put_cstr(f, s->tunnel);
    fputs(",\"interface\":", f);
    put_cstr(f, s->interfaces);
    fputs(",\"protocol\":", f);
    put_cstr(f, finding_proto_name(s->protocol));
    for (size_t i = 0; i < FINDING_CONTEXT_N; i++) {
        fprintf(f, ",\"%s\":", finding_context_name((enum finding_context)i));
        put_cstr(f, s->context[i]);
    }
}

void sink_json_format_credential(FILE *f, const struct session *s, size_t i, bool is_reveal)
{
    put_head(f, "credential", s);
    fputs(",\"tls\":", f);
    put_cstr(f, finding_tls_name(s->tls));
    fprintf(f, ",\"seq\":%zu,\"credential\":", i);
    put_credential(f, s->creds[i], is_reveal);
    fputc('}', f);
}

enum ps_err sink_json_credential(struct sink_json *j, const struct session *s, size_t i)
{
    FILE *f = j->f;
    if (f == NULL) {
        return PS_ERR_IO;
    }
    sink_json_format_credential(f, s, i, j->is_reveal);
    fputc('\n', f);
    return ferror(f) ? PS_ERR_IO : PS_OK;
}

void sink_json_format_session(FILE *f, const struct session *s, bool is_reveal)
{
    char vbuf[16];

    put_head(f, "session", s);
    fputs(",\"tls\":", f);
    put_cstr(f, finding_tls_name(s->tls));
    fputs(",\"tls_version\":", f);
    put_cstr(f, finding_tls_version_name(s->tls_version, vbuf, sizeof vbuf));
    fprintf(f, ",\"tls_weak\":%s", finding_tls_version_is_weak(s->tls_version) ? "true" : "false");
    fputs(",\"starttls\":", f);
    put_cstr(f, finding_starttls_name(s->starttls));
    fputs(",\"exposure\":", f);
    put_cstr(f, finding_exposure(s));
    fputs(",\"end_reason\":", f);
    put_cstr(f, finding_end_name(s->end_reason));
    fprintf(f,
            ",\"packets\":%llu,\"bytes_client\":%llu,\"bytes_server\":%llu,\"gaps\":%llu,"
            "\"gap_bytes\":%llu,\"injected_commands\":%u,\"credentials_dropped\":%u",
            (unsigned long long)s->packets, (unsigned long long)s->bytes_client,
            (unsigned long long)s->bytes_server, (unsigned long long)s->gaps,
            (unsigned long long)s->gap_bytes, s->injected_commands, s->creds_dropped);
    fputs(",\"credentials\":[", f);
    for (size_t i = 0; i < s->n_creds; i++) {
        if (i > 0) {
            fputc(',', f);
        }
        put_credential(f, s->creds[i], is_reveal);
    }
    fputs("]}", f);
}

enum ps_err sink_json_session(struct sink_json *j, const struct session *s)
{
    FILE *f = j->f;
    if (f == NULL) {
        return PS_ERR_IO;
    }
    sink_json_format_session(f, s, j->is_reveal);
    fputc('\n', f);
    return ferror(f) ? PS_ERR_IO : PS_OK;
}

enum ps_err sink_json_flush(struct sink_json *j)
{
    if (j->f == NULL) {
        return PS_ERR_IO;
    }
    return fflush(j->f) == 0 && !ferror(j->f) ? PS_OK : PS_ERR_IO;
}

void sink_json_close(struct sink_json *j)
{
    if (j == NULL) {
        return;
    }
    if (j->is_stdout) {
        fflush(j->f);
    } else if (j->f != NULL) {
        fclose(j->f);
    }
    free(j->path);
    free(j->name);
    free(j);
}

/* ---- the sink interface (sink.h) ---- */

static enum ps_err ops_open(const struct sink_config *cfg, const struct finding_key *key,
                            void **out, char *err, size_t errcap)
{
    (void)key;
    *out = NULL;
    if (!cfg->has_json) {
        return PS_OK;
    }
    struct sink_json *j = NULL;
    enum ps_err e = sink_json_open(cfg->json_path, cfg->is_reveal, &j, err, errcap);
    *out = j;
    return e;
}

static enum ps_err ops_session(void *st, const struct session *s, char *err, size_t errcap)
{
    struct sink_json *j = st;
    if (sink_json_session(j, s) != PS_OK) {
        snprintf(err, errcap, "%s: cannot write JSON", j->name);
        return PS_ERR_IO;
    }
    return PS_OK;
}

static enum ps_err ops_credential(void *st, const struct session *s, size_t i, char *err,
                                  size_t errcap)
{
    struct sink_json *j = st;
    if (sink_json_credential(j, s, i) != PS_OK) {
        snprintf(err, errcap, "%s: cannot write JSON", j->name);
        return PS_ERR_IO;
    }
    return PS_OK;
}

/* Flushes the lines so a log shipper sees them within a tick. A failure of an ordinary tick is
 * not reported: the stream keeps its error and the next line's write reports it. The forced
 * tick at the end of the run reports it, since nothing comes after. */
static enum ps_err ops_tick(void *st, uint64_t now_usec, bool is_force, char *err, size_t errcap)
{
    (void)now_usec;
    if (sink_json_flush(st) != PS_OK && is_force) {
        snprintf(err, errcap, "cannot write JSON output");
        return PS_ERR_IO;
    }
    return PS_OK;
}

static enum ps_err ops_reopen(void *st, char *err, size_t errcap)
{
    return sink_json_reopen(st, err, errcap);
}

static void ops_files(void *st, sink_file_fn *fn, void *ctx)
{
    const struct sink_json *j = st;
    if (j->path != NULL) {
        fn(ctx, j->path, false);
    }
}

static void ops_close(void *st)
{
    sink_json_close(st);
}

const struct sink_ops sink_json_ops = {
    .name = "json",
    .flags = SINK_F_STOPS_OFFLINE,
    .open = ops_open,
    .run_begin = NULL,
    .session = ops_session,
    .credential = ops_credential,
    .tick = ops_tick,
    .run_update = NULL,
    .reopen = ops_reopen,
    .files = ops_files,
    .close = ops_close,
};
