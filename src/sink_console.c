/* sink_console.c - one readable line per exposed session.
 *
 * The line says when, which protocol, who talked to whom, the TLS posture, and each
 * credential as mechanism, user, the secret's length (or, with --reveal-secrets, the whole
 * secret), the outcome and "anonymous" for an anonymous login. Every wire byte goes through
 * log_escape, so a user name cannot carry a terminal escape sequence to the operator's screen.
 *
 * Behind sink.h as sink_console_ops: on standard output, or on standard error when the JSON
 * lines take standard output; none with -q. Ticks flush it. Its writes are not checked: the
 * console is for a person watching, and a closed terminal must not stop the recording. */
#include "sink_console.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

/* Bytes escaped per log_escape call: each becomes at most 4 characters, so a chunk always fits
 * the buffer whole and log_escape never cuts it; any length is written chunk by chunk. */
#define CONSOLE_CHUNK 128

/* Writes p[0..len) escaped (as log_escape does) to out, whatever its length. */
static void put_escaped(FILE *out, const uint8_t *p, size_t len)
{
    char buf[4 * CONSOLE_CHUNK + 8];
    for (size_t off = 0; off < len; off += CONSOLE_CHUNK) {
        size_t n = len - off < CONSOLE_CHUNK ? len - off : CONSOLE_CHUNK;
        fputs(log_escape(buf, sizeof buf, p + off, n), out);
    }
    explicit_bzero(buf, sizeof buf); /* it may have held a secret */
}

void sink_console_session(FILE *out, const struct session *s, bool is_reveal)
{
    if (!finding_is_exposed(s)) {
        return;
    }
    char t[40], cip[64], sip[64], vbuf[16];
    const char *stls = finding_starttls_name(s->starttls);
    const char *tv = finding_tls_version_name(s->tls_version, vbuf, sizeof vbuf);
    finding_format_ip(s->ip_version, s->client_ip, cip, sizeof cip);
    finding_format_ip(s->ip_version, s->server_ip, sip, sizeof sip);
    const char *lb = s->ip_version == 6 ? "[" : "";
    const char *rb = s->ip_version == 6 ? "]" : "";
    char cend[80], send[80];
    snprintf(cend, sizeof cend, "%s%s%s:%u", lb, cip, rb, s->client_port);
    snprintf(send, sizeof send, "%s%s%s:%u", lb, sip, rb, s->server_port);

    fprintf(out, "%s %s %s -> %s %s tls=%s starttls=%s",
            finding_format_time(s->ts_start_usec, t, sizeof t), finding_proto_name(s->protocol),
            cend, send, finding_exposure(s), tv != NULL ? tv : finding_tls_name(s->tls),
            stls != NULL ? stls : "unknown");
    for (size_t i = 0; i < s->n_creds; i++) {
        const struct credential *c = s->creds[i];
        fprintf(out, " | %s user=\"", c->mechanism);
        if (c->has_username) {
            put_escaped(out, c->username, c->username_len);
        } else {
            fputc('?', out);
        }
        fputc('"', out);
        if (c->secret != NULL) {
            if (is_reveal) {
                fputs(" secret=\"", out);
                put_escaped(out, c->secret, c->secret_len);
                fputc('"', out);
            } else {
                fprintf(out, " secret=<%zu bytes>", c->secret_len);
            }
        }
        fprintf(out, " %s%s%s", finding_result_name(c->result), c->is_anonymous ? " anonymous" : "",
                finding_credential_is_incomplete(c) ? " incomplete" : "");
    }
    if (s->creds_dropped > 0) {
        fprintf(out, " | +%u more credentials", s->creds_dropped);
    }
    fputc('\n', out);
}

/* ---- the sink interface (sink.h) ---- */

struct console {
    FILE *out; /* borrowed: stdout or stderr */
    bool is_reveal;
};

static enum ps_err ops_open(const struct sink_config *cfg, const struct finding_key *key,
                            void **out, char *err, size_t errcap)
{
    (void)key;
    (void)err;
    (void)errcap;
    *out = NULL;
    if (cfg->is_quiet) {
        return PS_OK;
    }
    bool is_json_stdout =
        cfg->has_json && (cfg->json_path == NULL || strcmp(cfg->json_path, "-") == 0);
    struct console *c = xcalloc(1, sizeof *c);
    c->out = is_json_stdout ? stderr : stdout;
    c->is_reveal = cfg->is_reveal;
    *out = c;
    return PS_OK;
}

static enum ps_err ops_session(void *st, const struct session *s, char *err, size_t errcap)
{
    (void)err;
    (void)errcap;
    const struct console *c = st;
    sink_console_session(c->out, s, c->is_reveal);
    return PS_OK;
}

static enum ps_err ops_tick(void *st, uint64_t now_usec, bool is_force, char *err, size_t errcap)
{
    (void)now_usec;
    (void)is_force;
    (void)err;
    (void)errcap;
    const struct console *c = st;
    fflush(c->out);
    return PS_OK;
}

static void ops_close(void *st)
{
    struct console *c = st;
    fflush(c->out);
    free(c);
}

const struct sink_ops sink_console_ops = {
    .name = "console",
    .flags = 0,
    .open = ops_open,
    .run_begin = NULL,
    .session = ops_session,
    .tick = ops_tick,
    .run_update = NULL,
    .reopen = NULL,
    .files = NULL,
    .close = ops_close,
};
