/* counters.c - every module's counters as one list of names and values, for the run record.
 *
 * A module with a stats X-macro (CAPTURE_STATS, DECODE_STATS, REASM_STATS) is expanded here
 * into "<module>.<field>" entries, so adding a field there adds its run counter. flow, classify
 * and parse are listed by hand until their headers get an X-macro; their names differ from
 * their field names in places (flow.created is flows_created), and the run_counters rows must
 * keep the names they have. */
#include "counters.h"

#include <stdint.h>

#include "capture.h"
#include "classify.h"
#include "decode.h"
#include "flow.h"
#include "proto.h"
#include "reasm.h"

/* The modules whose headers have no X-macro yet: X(module, name, field) by hand, in the order
 * and with the names the run record has always had. */
#define COUNTERS_BY_HAND(X)                                                                        \
    X(flow, created, flows_created)                                                                \
    X(flow, active, flows_active)                                                                  \
    X(flow, active_max, flows_active_max)                                                          \
    X(flow, ended_fin, flows_ended_fin)                                                            \
    X(flow, ended_rst, flows_ended_rst)                                                            \
    X(flow, ended_idle, flows_ended_idle)                                                          \
    X(flow, evicted, flows_evicted)                                                                \
    X(flow, not_mail_segments, not_mail)                                                           \
    X(flow, late_packets, late_packets)                                                            \
    X(flow, sessions_emitted, sessions_emitted)                                                    \
    X(flow, sessions_empty, sessions_empty)                                                        \
    X(flow, classified_mail, classified_mail)                                                      \
    X(flow, classify_gave_up, classify_gave_up)                                                    \
    X(flow, classified_content, classified_content)                                                \
    X(flow, classify_client_first, classify_client_first)                                          \
    X(flow, classify_tls, classify_tls)                                                            \
    X(flow, classify_socks, classify_socks)                                                        \
    X(flow, mem_used, mem_used)                                                                    \
    X(flow, mem_used_max, mem_used_max)                                                            \
    X(classify, ndpi_flows, flows)                                                                 \
    X(classify, ndpi_packets, packets)                                                             \
    X(classify, ndpi_mail, mail)                                                                   \
    X(classify, ndpi_not_mail, not_mail)                                                           \
    X(classify, ndpi_unsupported, unsupported)                                                     \
    X(classify, ndpi_started, ndpi_started)                                                        \
    X(classify, ndpi_failed, ndpi_failed)
#define COUNTERS_PARSE_BY_HAND(X)                                                                  \
    X(parse, lines, lines)                                                                         \
    X(parse, overlong_lines, overlong_lines)                                                       \
    X(parse, gaps, gaps)                                                                           \
    X(parse, unknown_commands, unknown_commands)                                                   \
    X(parse, pending_overflow, pending_overflow)                                                   \
    X(parse, sasl_bad_base64, sasl_bad_base64)                                                     \
    X(parse, sasl_malformed, sasl_malformed)                                                       \
    X(parse, sasl_cancelled, sasl_cancelled)                                                       \
    X(parse, sasl_unsupported, sasl_unsupported)                                                   \
    X(parse, creds_dropped, creds_dropped)                                                         \
    X(parse, starttls_injection, starttls_injection)                                               \
    X(parse, smtp_bare_lf_dot, smtp_bare_lf_dot)                                                   \
    X(parse, auth_desync, auth_desync)                                                             \
    X(parse, midstream_unanswered, midstream_unanswered)                                           \
    X(parse, socks_tunnels, socks_tunnels)                                                         \
    X(parse, socks_not_mail, socks_not_mail)                                                       \
    X(parse, tls_not_found, tls_not_found)                                                         \
    X(parse, not_protocol, not_protocol)
/* One counter into out[n] when there is room; n counts them all. */
#define COUNTERS_PUT(name_, v)                                                                     \
    do {                                                                                           \
        if (n < cap) {                                                                             \
            out[n].name = (name_);                                                                 \
            out[n].value = (uint64_t)(v);                                                          \
        }                                                                                          \
        n++;                                                                                       \
    } while (0);
#define COUNTERS_CAPTURE(field, doc)        COUNTERS_PUT("capture." #field, src->capture->field)
#define COUNTERS_DECODE(field, doc)         COUNTERS_PUT("decode." #field, src->decode->field)
#define COUNTERS_REASM(field, doc)          COUNTERS_PUT("reasm." #field, src->reasm->field)
#define COUNTERS_HAND(mod, name, field)     COUNTERS_PUT(#mod "." #name, src->mod->field)
#define COUNTERS_ONE(field, doc)            +1
#define COUNTERS_HAND_ONE(mod, name, field) +1

enum {
    COUNTERS_N =
        0 CAPTURE_STATS(COUNTERS_ONE) DECODE_STATS(COUNTERS_ONE) COUNTERS_BY_HAND(COUNTERS_HAND_ONE)
            REASM_STATS(COUNTERS_ONE) COUNTERS_PARSE_BY_HAND(COUNTERS_HAND_ONE)
};
_Static_assert(COUNTERS_N <= COUNTERS_MAX, "COUNTERS_MAX holds every counter");

size_t counters_count(void)
{
    return COUNTERS_N;
}

size_t counters_collect(const struct counters_src *src, struct ps_counter *out, size_t cap)
{
    size_t n = 0;
    CAPTURE_STATS(COUNTERS_CAPTURE)
    DECODE_STATS(COUNTERS_DECODE)
    COUNTERS_BY_HAND(COUNTERS_HAND)
    REASM_STATS(COUNTERS_REASM)
    COUNTERS_PARSE_BY_HAND(COUNTERS_HAND)
    return n < cap ? n : cap;
}
