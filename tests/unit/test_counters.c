/* test_counters.c - unit tests for counters: the run record's counter names, their order and
 * their values, as the run_counters table has always had them. */
#include "counters.h"

#include <stdint.h>
#include <string.h>

#include "capture.h"
#include "classify.h"
#include "decode.h"
#include "defrag.h"
#include "flow.h"
#include "proto.h"
#include "reasm.h"
#include "test.h"

/* Every run counter, in order: the names the run_counters rows carry (audits query them). */
static const char *const want_names[] = {
    "capture.damaged_files",
    "capture.kernel_received",
    "capture.kernel_dropped",
    "capture.interface_dropped",
    "decode.tcp",
    "decode.not_ip",
    "decode.not_tcp",
    "decode.unknown_link",
    "decode.bad_link",
    "decode.vlan_too_deep",
    "decode.bad_ipv4",
    "decode.bad_ipv6",
    "decode.ip_fragments",
    "decode.bad_tcp",
    "decode.encap_too_deep",
    "decode.encap_unsupported",
    "decode.mpls_too_deep",
    "decode.bad_mpls",
    "decode.bad_pppoe",
    "decode.bad_gre",
    "decode.bad_erspan",
    "decode.bad_udp",
    "decode.bad_vxlan",
    "decode.bad_geneve",
    "decode.bad_teredo",
    "decode.truncated",
    "decode.ipv4_len_zero",
    "decode.encap_vlan",
    "decode.encap_mpls",
    "decode.encap_mpls_pw",
    "decode.encap_pppoe",
    "decode.encap_gre",
    "decode.encap_gre_udp",
    "decode.encap_pptp",
    "decode.encap_erspan1",
    "decode.encap_erspan2",
    "decode.encap_erspan3",
    "decode.encap_vxlan",
    "decode.encap_geneve",
    "decode.encap_ipip",
    "decode.encap_teredo",
    "decode.udp_tunnel_like",
    "decode.reassembled",
    "defrag.fragments",
    "defrag.fragments_used",
    "defrag.reassembled",
    "defrag.duplicates",
    "defrag.overlaps",
    "defrag.too_big",
    "defrag.too_many_frags",
    "defrag.bad_offsets",
    "defrag.bad_fragments",
    "defrag.truncated",
    "defrag.tiny_first",
    "defrag.tiny_first_v6",
    "defrag.timed_out",
    "defrag.evicted",
    "defrag.no_memory",
    "defrag.incomplete_at_end",
    "defrag.active_max",
    "defrag.mem_used_max",
    "flow.created",
    "flow.active",
    "flow.active_max",
    "flow.ended_fin",
    "flow.ended_rst",
    "flow.ended_idle",
    "flow.evicted",
    "flow.evicted_late",
    "flow.not_mail_segments",
    "flow.late_packets",
    "flow.duplicates",
    "flow.sessions_emitted",
    "flow.sessions_empty",
    "flow.classified_mail",
    "flow.mem_used",
    "flow.mem_used_max",
    "classify.ndpi_flows",
    "classify.ndpi_packets",
    "classify.ndpi_mail",
    "classify.ndpi_not_mail",
    "classify.ndpi_started",
    "classify.ndpi_failed",
    "classify.gave_up",
    "classify.by_content",
    "classify.client_first",
    "classify.socks",
    "classify.tls_midstream",
    "reasm.segments",
    "reasm.bytes_delivered",
    "reasm.retrans_segs",
    "reasm.retrans_bytes",
    "reasm.overlap_bytes",
    "reasm.ooo_queued",
    "reasm.ooo_limit",
    "reasm.gaps",
    "reasm.gap_bytes",
    "reasm.after_fin_bytes",
    "parse.lines",
    "parse.overlong_lines",
    "parse.gaps",
    "parse.unknown_commands",
    "parse.pending_overflow",
    "parse.sasl_bad_base64",
    "parse.sasl_malformed",
    "parse.sasl_cancelled",
    "parse.sasl_unsupported",
    "parse.creds_dropped",
    "parse.starttls_injection",
    "parse.smtp_bare_lf_dot",
    "parse.auth_desync",
    "parse.midstream_unanswered",
    "parse.socks_tunnels",
    "parse.socks_not_mail",
    "parse.httpconnect_tunnels",
    "parse.httpconnect_not_mail",
    "parse.httpconnect_overlong",
    "parse.httpconnect_bad_auth",
    "parse.ldap_messages",
    "parse.ldap_overlong",
    "parse.ldap_bad_ber",
    "parse.http_bad_auth",
    "parse.http_field_overlong",
    "parse.http_resync",
    "parse.http_unframed",
    "parse.http_tunnels",
    "parse.tls_not_found",
    "parse.xmpp_overlong",
    "parse.not_protocol",
};

#define N_WANT (sizeof want_names / sizeof want_names[0])

struct all_stats {
    struct capture_stats cs;
    struct decode_stats ds;
    struct defrag_stats dfs;
    struct flow_stats fs;
    struct classify_stats cls;
    struct reasm_stats rs;
    struct parse_stats ps;
};

static struct counters_src src_of(struct all_stats *a)
{
    memset(a, 0, sizeof *a);
    struct counters_src src = { &a->cs, &a->ds, &a->dfs, &a->fs, &a->cls, &a->rs, &a->ps };
    return src;
}

static uint64_t value_of(const struct ps_counter *c, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(c[i].name, name) == 0) {
            return c[i].value;
        }
    }
    return UINT64_MAX;
}

static void test_names_in_order(void)
{
    struct all_stats a;
    struct counters_src src = src_of(&a);
    struct ps_counter out[COUNTERS_MAX];
    CHECK_EQ_U(counters_count(), N_WANT);
    size_t n = counters_collect(&src, out, COUNTERS_MAX);
    CHECK_EQ_U(n, N_WANT);
    for (size_t i = 0; i < n && i < N_WANT; i++) {
        if (strcmp(out[i].name, want_names[i]) != 0) {
            fprintf(stderr, "counter %zu: %s, want %s\n", i, out[i].name, want_names[i]);
            CHECK(strcmp(out[i].name, want_names[i]) == 0);
        }
        CHECK_EQ_U(out[i].value, 0);
    }
}

/* A field of each module shows under its name, renamed ones included. */
static void test_values(void)
{
    struct all_stats a;
    struct counters_src src = src_of(&a);
    a.cs.damaged_files = 1;
    a.cs.interface_dropped = 2;
    a.ds.tcp = 3;
    a.ds.ipv4_len_zero = 4;
    a.ds.packets = 99; /* not a run counter */
    a.fs.created = 5;
    a.fs.not_mail_segments = 6;
    a.fs.mem_used_max = 7;
    a.cls.ndpi_flows = 8;
    a.rs.segments = 9;
    a.rs.after_fin_bytes = 10;
    a.ps.lines = 11;
    a.ps.not_protocol = 12;
    a.dfs.overlaps = 13;
    struct ps_counter out[COUNTERS_MAX];
    size_t n = counters_collect(&src, out, COUNTERS_MAX);
    CHECK_EQ_U(value_of(out, n, "capture.damaged_files"), 1);
    CHECK_EQ_U(value_of(out, n, "capture.interface_dropped"), 2);
    CHECK_EQ_U(value_of(out, n, "decode.tcp"), 3);
    CHECK_EQ_U(value_of(out, n, "decode.ipv4_len_zero"), 4);
    CHECK_EQ_U(value_of(out, n, "decode.packets"), UINT64_MAX);
    CHECK_EQ_U(value_of(out, n, "flow.created"), 5);
    CHECK_EQ_U(value_of(out, n, "flow.not_mail_segments"), 6);
    CHECK_EQ_U(value_of(out, n, "flow.mem_used_max"), 7);
    CHECK_EQ_U(value_of(out, n, "classify.ndpi_flows"), 8);
    CHECK_EQ_U(value_of(out, n, "reasm.segments"), 9);
    CHECK_EQ_U(value_of(out, n, "reasm.after_fin_bytes"), 10);
    CHECK_EQ_U(value_of(out, n, "parse.lines"), 11);
    CHECK_EQ_U(value_of(out, n, "parse.not_protocol"), 12);
    CHECK_EQ_U(value_of(out, n, "defrag.overlaps"), 13);
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        sum += out[i].value;
    }
    CHECK_EQ_U(sum, 91); /* 1 + ... + 13: no field counted twice */
}

/* A short array gets the first counters and no more. */
static void test_short_array(void)
{
    struct all_stats a;
    struct counters_src src = src_of(&a);
    struct ps_counter out[5];
    memset(out, 0, sizeof out);
    CHECK_EQ_U(counters_collect(&src, out, 4), 4);
    CHECK(strcmp(out[3].name, "capture.interface_dropped") == 0);
    CHECK(out[4].name == NULL);
    CHECK_EQ_U(counters_collect(&src, out, 0), 0);
}

int main(void)
{
    RUN(test_names_in_order);
    RUN(test_values);
    RUN(test_short_array);
    return TEST_SUMMARY();
}
