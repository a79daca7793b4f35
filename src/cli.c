/* cli.c - the command line: one table of options, the usage text, and the checks.
 *
 * Options are as tcpdump users know them where tcpdump has one (-r, -i, -s, -B, -p, -c, -Z, -D,
 * the BPF expression as the remaining arguments). Each is a row of cli_opts_table, whose order
 * is the one getopt_long sees (it lists ambiguous abbreviations in that order), and a small
 * function that checks and stores its argument against the limits in tunables.h. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "classify.h"
#include "finding.h"
#include "keyfile.h"
#include "log.h"
#include "priv.h"
#include "sink.h"
#include "tunables.h"

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: plainsight -r FILE [-r FILE ...] [options] [BPF expression]\n"
            "       plainsight -i IFACE [options] [BPF expression]\n"
            "       plainsight -D\n"
            "\n"
            "Finds sessions of mail and the other cleartext-login protocols (plainsight(8) lists\n"
            "them) whose passwords or mail crossed the wire in the clear, and writes each to a\n"
            "SQLite database.\n"
            "\n"
            "Input:\n"
            "  -r, --read FILE        read a pcap or pcapng file; '-' reads standard input;\n"
            "                         repeat for more files (one run, sessions may span files)\n"
            "  -i, --interface IFACE  capture live on IFACE (a mirror/SPAN port) until SIGINT\n"
            "                         or SIGTERM\n"
            "  BPF expression         only packets matching it (as in tcpdump)\n"
            "\n"
            "Live capture:\n"
            "  -s, --snaplen BYTES    bytes kept per packet (default 65535: any IP packet)\n"
            "  -B, --buffer-size KIB  kernel capture buffer in KiB (default 65536); raise it\n"
            "                         when the statistics line shows kernel drops\n"
            "  -p, --no-promiscuous   do not put the interface into promiscuous mode\n"
            "  -c, --count N          stop after N packets\n"
            "  -Z, --user USER        drop to USER once the interface is open (default when\n"
            "                         started as root: '%s' if that user exists)\n"
            "  -D, --list-interfaces  list the interfaces to capture on, and exit\n"
            "\n"
            "Output:\n"
            "  -w, --write DB         SQLite database to create or add to (default plainsight.db)\n"
            "      --json[=FILE]      one JSON object per mail session, to FILE or stdout;\n"
            "                         SIGHUP reopens FILE (log rotation)\n"
            "      --reveal-secrets   keep cleartext passwords and challenge-response data in the\n"
            "                         outputs (default: only length and keyed fingerprint)\n"
            "  -q, --quiet            no console lines and no summary; errors still shown\n"
            "      --key-file FILE    the fingerprint key (made mode 0600 when missing; default:\n"
            "                         the database's name with .key for .db); sensors that share\n"
            "                         it give one password one fingerprint\n"
            "      --drop-old-key     delete a fingerprint key an earlier release kept in the\n"
            "                         database even when it is not the key file's\n"
            "\n"
            "Limits:\n"
            "      --memcap BYTES     memory for flows and reassembly (default %zu MiB); K, M, G\n"
            "      --idle SECONDS     end a session after this long without a packet (default %d)\n"
            "      --ports-only       classify by the mail ports alone; without it the first\n"
            "                         packets of TCP flows on other ports are looked at (the\n"
            "                         server's greeting, or nDPI for flows seen mid-stream)\n"
            "\n"
            "Identity:\n"
            "      --sensor NAME      this sensor's name in every record (default: the host\n"
            "                         name); up to %d printable characters, no spaces\n"
            "      --community-id-seed N  the seed of each session's Community ID (0 to 65535;\n"
            "                         default 0); give the one Zeek or Suricata use\n"
            "\n"
            "  -h, --help             this text\n"
            "  -V, --version          version and library versions\n"
            "\n"
            "Exit status: 0 done, 1 usage error, 2 an input, the interface or the database\n"
            "failed, 3 an input was damaged part-way (what came before the damage was analysed).\n",
            PRIV_DEFAULT_USER, FLOW_MEMCAP_BYTES >> 20, FLOW_IDLE_SEC, FINDING_MAX_SENSOR);
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v > max) {
        return false;
    }
    *out = v;
    return true;
}

static bool parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || s[0] == '-') {
        return false;
    }
    unsigned long long mul = 1;
    if (*end == 'K' || *end == 'k') {
        mul = 1024ull;
        end++;
    } else if (*end == 'M' || *end == 'm') {
        mul = 1024ull * 1024;
        end++;
    } else if (*end == 'G' || *end == 'g') {
        mul = 1024ull * 1024 * 1024;
        end++;
    }
    if (*end != '\0' || v > SIZE_MAX / mul) {
        return false;
    }
    *out = (size_t)(v * mul);
    return true;
}

static enum cli_action usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static enum cli_action usage_error(const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_err("%s", msg);
    fprintf(stderr, "Try 'plainsight --help'.\n");
    return CLI_EXIT_USAGE;
}

/* An option's action: CLI_RUN to go on, or what to do instead. */
typedef enum cli_action cli_opt_fn(struct cli_opts *o, const char *arg);

static enum cli_action opt_read(struct cli_opts *o, const char *arg)
{
    if (o->n_files == CLI_MAX_FILES) {
        return usage_error("too many -r files (at most %d)", CLI_MAX_FILES);
    }
    o->files[o->n_files++] = arg;
    return CLI_RUN;
}

static enum cli_action opt_interface(struct cli_opts *o, const char *arg)
{
    o->iface = arg;
    return CLI_RUN;
}

static enum cli_action opt_snaplen(struct cli_opts *o, const char *arg)
{
    uint64_t v;
    if (!parse_u64(arg, CAPTURE_MAX_SNAPLEN, &v)) {
        return usage_error("-s: '%s' is not a snap length (0 to %d)", arg, CAPTURE_MAX_SNAPLEN);
    }
    o->live.snaplen = (int)v;
    return CLI_RUN;
}

static enum cli_action opt_buffer_size(struct cli_opts *o, const char *arg)
{
    uint64_t v;
    if (!parse_u64(arg, CAPTURE_MAX_BUFFER_KIB, &v) || v == 0) {
        return usage_error("-B: '%s' is not a buffer size in KiB (1 to %u)", arg,
                           CAPTURE_MAX_BUFFER_KIB);
    }
    o->live.buffer_bytes = (int)(v * 1024);
    return CLI_RUN;
}

static enum cli_action opt_no_promiscuous(struct cli_opts *o, const char *arg)
{
    (void)arg;
    o->live.is_promisc = 0;
    return CLI_RUN;
}

static enum cli_action opt_count(struct cli_opts *o, const char *arg)
{
    if (!parse_u64(arg, UINT64_MAX, &o->max_packets) || o->max_packets == 0) {
        return usage_error("-c: '%s' is not a packet count", arg);
    }
    return CLI_RUN;
}

static enum cli_action opt_user(struct cli_opts *o, const char *arg)
{
    o->user = arg;
    return CLI_RUN;
}

static enum cli_action opt_list_interfaces(struct cli_opts *o, const char *arg)
{
    (void)arg;
    o->is_list = true;
    return CLI_RUN;
}

static enum cli_action opt_write(struct cli_opts *o, const char *arg)
{
    o->out.db_path = arg;
    return CLI_RUN;
}

static enum cli_action opt_json(struct cli_opts *o, const char *arg)
{
    o->out.has_json = true;
    o->out.json_path = arg;
    return CLI_RUN;
}

static enum cli_action opt_reveal_secrets(struct cli_opts *o, const char *arg)
{
    (void)arg;
    o->out.is_reveal = true;
    return CLI_RUN;
}

static enum cli_action opt_key_file(struct cli_opts *o, const char *arg)
{
    if (arg[0] == '\0') {
        return usage_error("--key-file: the file name is empty");
    }
    o->out.key_path = arg;
    return CLI_RUN;
}

static enum cli_action opt_drop_old_key(struct cli_opts *o, const char *arg)
{
    (void)arg;
    o->out.is_drop_old_key = true;
    return CLI_RUN;
}

static enum cli_action opt_quiet(struct cli_opts *o, const char *arg)
{
    (void)arg;
    o->out.is_quiet = true;
    return CLI_RUN;
}

static enum cli_action opt_memcap(struct cli_opts *o, const char *arg)
{
    if (!parse_size(arg, &o->memcap) || o->memcap < FLOW_MIN_MEMCAP_BYTES) {
        return usage_error("--memcap: '%s' is not a size of at least 1M", arg);
    }
    return CLI_RUN;
}

static enum cli_action opt_idle(struct cli_opts *o, const char *arg)
{
    uint64_t v;
    if (!parse_u64(arg, FLOW_MAX_IDLE_SEC, &v) || v == 0) {
        return usage_error("--idle: '%s' is not a number of seconds (1 to %u)", arg,
                           FLOW_MAX_IDLE_SEC);
    }
    o->idle_sec = (uint32_t)v;
    return CLI_RUN;
}

static enum cli_action opt_ports_only(struct cli_opts *o, const char *arg)
{
    (void)arg;
    o->is_ports_only = true;
    return CLI_RUN;
}

static enum cli_action opt_sensor(struct cli_opts *o, const char *arg)
{
    if (!finding_sensor_is_valid(arg)) {
        return usage_error("--sensor: the name must be 1 to %d printable ASCII characters "
                           "without spaces",
                           FINDING_MAX_SENSOR);
    }
    o->sensor = arg;
    return CLI_RUN;
}

static enum cli_action opt_community_id_seed(struct cli_opts *o, const char *arg)
{
    uint64_t v;
    if (!parse_u64(arg, UINT16_MAX, &v)) {
        return usage_error("--community-id-seed: '%s' is not a seed (0 to 65535)", arg);
    }
    o->community_id_seed = (uint16_t)v;
    return CLI_RUN;
}

static enum cli_action opt_help(struct cli_opts *o, const char *arg)
{
    (void)o;
    (void)arg;
    usage(stdout);
    return CLI_EXIT_OK;
}

static enum cli_action opt_version(struct cli_opts *o, const char *arg)
{
    (void)o;
    (void)arg;
    printf("plainsight %s\n%s\nSQLite %s\nnDPI %s\n", PS_VERSION, capture_lib_version(),
           sink_db_lib_version(), classify_lib_version());
    return CLI_EXIT_OK;
}

/* One command-line option. The table's order is getopt_long's (it lists ambiguous
 * abbreviations in this order). */
struct cli_opt {
    const char *name; /* long name */
    int has_arg;      /* no_argument, required_argument, optional_argument */
    char short_name;  /* the one-letter form, or 0 for a long option only */
    cli_opt_fn *fn;
};

static const struct cli_opt cli_opts_table[] = {
    { "read", required_argument, 'r', opt_read },
    { "interface", required_argument, 'i', opt_interface },
    { "snaplen", required_argument, 's', opt_snaplen },
    { "buffer-size", required_argument, 'B', opt_buffer_size },
    { "no-promiscuous", no_argument, 'p', opt_no_promiscuous },
    { "count", required_argument, 'c', opt_count },
    { "user", required_argument, 'Z', opt_user },
    { "list-interfaces", no_argument, 'D', opt_list_interfaces },
    { "write", required_argument, 'w', opt_write },
    { "json", optional_argument, 0, opt_json },
    { "reveal-secrets", no_argument, 0, opt_reveal_secrets },
    { "quiet", no_argument, 'q', opt_quiet },
    { "key-file", required_argument, 0, opt_key_file },
    { "drop-old-key", no_argument, 0, opt_drop_old_key },
    { "memcap", required_argument, 0, opt_memcap },
    { "idle", required_argument, 0, opt_idle },
    { "ports-only", no_argument, 0, opt_ports_only },
    { "sensor", required_argument, 0, opt_sensor },
    { "community-id-seed", required_argument, 0, opt_community_id_seed },
    { "help", no_argument, 'h', opt_help },
    { "version", no_argument, 'V', opt_version },
};

#define CLI_N_OPTS (sizeof cli_opts_table / sizeof cli_opts_table[0])
/* getopt_long's value for a long option only: past every char. */
#define CLI_LONG_VAL 256

/* getopt_long's tables, from cli_opts_table: longs[] (NULL-terminated) and the short letters. */
static void build_getopt(struct option *longs, char *shorts)
{
    size_t k = 0;
    for (size_t i = 0; i < CLI_N_OPTS; i++) {
        const struct cli_opt *m = &cli_opts_table[i];
        longs[i] = (struct option){ m->name, m->has_arg, NULL,
                                    m->short_name != 0 ? m->short_name : CLI_LONG_VAL + (int)i };
        if (m->short_name != 0) {
            shorts[k++] = m->short_name;
            if (m->has_arg == required_argument) {
                shorts[k++] = ':';
            }
        }
    }
    longs[CLI_N_OPTS] = (struct option){ NULL, 0, NULL, 0 };
    shorts[k] = '\0';
}

/* The table entry for what getopt_long returned, or NULL for an unknown option. */
static const struct cli_opt *find_opt(int c)
{
    for (size_t i = 0; i < CLI_N_OPTS; i++) {
        if (c == (cli_opts_table[i].short_name != 0 ? cli_opts_table[i].short_name
                                                    : CLI_LONG_VAL + (int)i)) {
            return &cli_opts_table[i];
        }
    }
    return NULL;
}

/* The rest of the command line is the filter, as tcpdump takes it: joined into o->bpf. */
static void join_filter(struct cli_opts *o, int argc, char **argv)
{
    size_t n = 0;
    for (int i = optind; i < argc; i++) {
        n += strlen(argv[i]) + 1;
    }
    if (n == 0) {
        return;
    }
    o->bpf = xmalloc(n);
    o->bpf[0] = '\0';
    for (int i = optind; i < argc; i++) {
        if (i > optind) {
            strcat(o->bpf, " ");
        }
        strcat(o->bpf, argv[i]);
    }
}

/* The host name as the sensor's name; "unknown" (with a warning) when the system gives none
 * that is valid as one. */
static void default_sensor(struct cli_opts *o)
{
    if (gethostname(o->sensor_default, sizeof o->sensor_default) != 0) {
        o->sensor_default[0] = '\0';
    }
    o->sensor_default[sizeof o->sensor_default - 1] = '\0';
    if (!finding_sensor_is_valid(o->sensor_default)) {
        log_warn("the host name is no sensor name; the sensor is 'unknown' (give --sensor)");
        snprintf(o->sensor_default, sizeof o->sensor_default, "unknown");
    }
    o->sensor = o->sensor_default;
}

enum cli_action cli_parse(int argc, char **argv, struct cli_opts *o)
{
    o->out.db_path = "plainsight.db";
    o->memcap = FLOW_MEMCAP_BYTES;
    o->idle_sec = FLOW_IDLE_SEC;
    o->live.is_promisc = 1;
    struct option longs[CLI_N_OPTS + 1];
    char shorts[2 * CLI_N_OPTS + 1];
    build_getopt(longs, shorts);
    int c;
    while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        const struct cli_opt *m = find_opt(c);
        if (m == NULL) {
            fprintf(stderr, "Try 'plainsight --help'.\n");
            return CLI_EXIT_USAGE;
        }
        enum cli_action act = m->fn(o, optarg);
        if (act != CLI_RUN) {
            return act;
        }
    }
    if (o->is_list) {
        return CLI_LIST;
    }
    if (o->n_files == 0 && o->iface == NULL) {
        return usage_error("no input: give a capture file with -r FILE (or -r - for standard "
                           "input), or an interface with -i");
    }
    if (o->n_files > 0 && o->iface != NULL) {
        return usage_error("-r and -i do not go together: one run reads files or an "
                           "interface");
    }
    join_filter(o, argc, argv);
    if (o->sensor == NULL) {
        default_sensor(o);
    }
    o->out.is_live = o->iface != NULL;
    if (o->out.key_path == NULL) {
        o->key_path_owned = keyfile_default_path(o->out.db_path);
        o->out.key_path = o->key_path_owned;
    }
    return CLI_RUN;
}

void cli_free(struct cli_opts *o)
{
    free(o->bpf);
    o->bpf = NULL;
    free(o->key_path_owned);
    o->key_path_owned = NULL;
}
