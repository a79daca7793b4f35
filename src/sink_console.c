/* sink_console.c - one readable line per exposed session.
 *
 * The line says when, which protocol, who talked to whom, the TLS posture, and each
 * credential as mechanism, user, the secret's length (or the secret with --reveal-secrets)
 * and the outcome. Every wire byte goes through log_escape, so a user name cannot carry a
 * terminal escape sequence to the operator's screen. */
#include "sink_console.h"

#include "log.h"

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
        char user[4 * FINDING_MAX_USER + 8];
        if (c->has_username) {
            log_escape(user, sizeof user, c->username, c->username_len);
        } else {
            snprintf(user, sizeof user, "?");
        }
        fprintf(out, " | %s user=\"%s\"", c->mechanism, user);
        if (c->secret != NULL) {
            if (is_reveal) {
                char secret[512];
                log_escape(secret, sizeof secret, c->secret, c->secret_len);
                fprintf(out, " secret=\"%s\"", secret);
            } else {
                fprintf(out, " secret=<%zu bytes>", c->secret_len);
            }
        }
        fprintf(out, " %s", finding_result_name(c->result));
    }
    if (s->creds_dropped > 0) {
        fprintf(out, " | +%u more credentials", s->creds_dropped);
    }
    fputc('\n', out);
}
