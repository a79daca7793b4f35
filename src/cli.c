/* cli.c - the command line: one table of options, the usage text, and the checks.
 *
 * Options are as tcpdump users know them where tcpdump has one (-r, -i, -s, -B, -p, -c, -Z, -D,
 * the BPF expression as the remaining arguments). Each is a row of cli_opts_table, whose order
 * is the one getopt_long sees (it lists ambiguous abbreviations in that order), and a small
 * function that checks and stores its argument against the limits in tunables.h. getopt's own
 * messages are off: unknown options and missing arguments are usage errors like the others,
 * starting with "plainsight:". Settings of live capture given with -r are warned about, once
 * each, and ignored; a bare --json followed by what looks like a file name is refused with how
 * to write it (--json=FILE), since the word would otherwise become the filter. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture.h"
#include "classify.h"
#include "finding.h"
#include "flow.h"
#include "keyfile.h"
#include "log.h"
#include "priv.h"
#include "ps.h"
#include "registry.h"
#include "report.h"
#include "sink.h"
#include "tunables.h"

static void usage_commands(FILE *f);

static void usage(FILE *f)
{
    fprintf(
        f,
        "Usage: plainsight -r FILE [-r FILE ...] [options] [BPF expression]\n"
        "       plainsight -i IFACE [options] [BPF expression]\n"
        "       plainsight -D\n"
        "       plainsight merge [--allow-mixed-keys] INTO.db FROM.db...\n"
        "       plainsight prune --older-than DAYS DB\n"
        "       plainsight report DB [-o FILE] [--format html|text|markdown] [--reveal-secrets]\n"
        "\n"
        "Finds sessions of mail and the other cleartext-login protocols (plainsight(8) lists\n"
        "them) whose passwords or mail crossed the wire in the clear, and writes each to a\n"
        "SQLite database.\n"
        "\n"
        "Input:\n"
        "  -r, --read FILE        read a pcap or pcapng file; '-' reads standard input;\n"
        "                         repeat for more files (one run, sessions may span files)\n"
        "  -i, --interface IFACE  capture live on IFACE (a mirror/SPAN port) until SIGINT\n"
        "                         or SIGTERM; repeat for more (a TAP's two ports): one\n"
        "                         flow table for all\n"
        "  BPF expression         only packets matching it (as in tcpdump)\n"
        "  -c, --count N          stop after N packets (over all -r files together)\n"
        "\n"
        "Live capture (ignored, with a warning, when reading files):\n"
        "  -s, --snaplen BYTES    bytes kept per packet (default 65535: any IP packet)\n"
        "  -B, --buffer-size KIB  kernel capture buffer in KiB (default 65536); raise it\n"
        "                         when the statistics line shows kernel drops\n"
        "  -p, --no-promiscuous   do not put the interface into promiscuous mode\n"
        "  -Z, --user USER        drop to USER once the interface is open (default when\n"
        "                         started as root: '%s' if that user exists)\n"
        "  -D, --list-interfaces  list the interfaces to capture on, and exit\n"
        "\n"
        "Output:\n"
        "  -w, --write DB         SQLite database to create or add to (default plainsight.db);\n"
        "                         'none' for no database (then --json or --syslog, and\n"
        "                         --key-file, are needed)\n"
        "      --json[=FILE]      one JSON object per mail session, to FILE or stdout;\n"
        "                         SIGHUP reopens FILE (log rotation); the '=' is needed\n"
        "      --syslog[=TARGET]  each JSON object as an RFC 5424 syslog message, to the\n"
        "                         local socket /dev/log, or TARGET: unix:///PATH,\n"
        "                         udp://HOST:PORT or tcp://HOST:PORT (RFC 6587 framing)\n"
        "      --syslog-facility NAME  the messages' facility (default local0)\n"
        "      --reveal-secrets   keep cleartext passwords and challenge-response data in the\n"
        "                         outputs (default: only length and keyed fingerprint)\n"
        "  -q, --quiet            no console lines, no progress line and no summary;\n"
        "                         errors and warnings still shown\n"
        "      --key-file FILE    the fingerprint key (made mode 0600 when missing; default:\n"
        "                         the database's name with .key for .db); sensors that share\n"
        "                         it give one password one fingerprint\n"
        "      --drop-old-key     delete a fingerprint key an earlier release kept in the\n"
        "                         database even when it is not the key file's\n"
        "\n",
        PRIV_DEFAULT_USER);
    fprintf(f,
            "Limits:\n"
            "      --memcap BYTES     memory for flows and reassembly (default %zu MiB); K, M, G\n"
            "      --idle SECONDS     end a session after this long without a packet (default %d)\n"
            "      --ports-only       classify by the mail ports alone; without it the first\n"
            "                         packets of TCP flows on other ports are looked at (the\n"
            "                         server's greeting, or nDPI for flows seen mid-stream)\n"
            "      --protocols LIST   only these protocols (comma-separated: smtp, pop3, imap,\n"
            "                         managesieve, ftp, ldap, nntp, xmpp, socks5,\n"
            "                         http-connect, http); default all\n"
            "      --flow-key LIST    what tells apart flows of one 5-tuple: 5tuple (the\n"
            "                         default: a mirror's copies of a packet are one flow),\n"
            "                         or vlan, tunnel, or vlan,tunnel where VLANs or tunnels\n"
            "                         (VNI, GRE key, ERSPAN session) separate address spaces\n"
            "      --vxlan-port PORT  peel VXLAN on this UDP port too (besides 4789, 8472);\n"
            "                         repeat for more\n"
            "      --geneve-port PORT peel Geneve on this UDP port too (besides 6081)\n"
            "\n",
            FLOW_MEMCAP_BYTES >> 20, FLOW_IDLE_SEC);
    fprintf(f,
            "Identity:\n"
            "      --sensor NAME      this sensor's name in every record (default: the host\n"
            "                         name); up to %d printable characters, no spaces\n"
            "      --community-id-seed N  the seed of each session's Community ID (0 to 65535;\n"
            "                         default 0); give the one Zeek or Suricata use\n"
            "\n"
            "  -h, --help             this text\n"
            "  -V, --version          version and library versions\n"
            "\n",
            FINDING_MAX_SENSOR);
    usage_commands(f);
}

/* The commands' part of usage: one string literal stays under the 4095 bytes C compilers must
 * take. */
static void usage_commands(FILE *f)
{
    fprintf(
        f, "Report (plainsight report DB): the database, opened read-only, as one page\n"
           "  -o, --output FILE      write it to FILE (made mode 0600; default: stdout)\n"
           "      --format FORMAT    html (the default: one self-contained file), text or\n"
           "                         markdown\n"
           "      --reveal-secrets   show the secrets the database holds\n"
           "\n"
           "Databases (plainsight merge --help, plainsight prune --help):\n"
           "  merge INTO.db FROM.db...  fold sensors' databases into one, in one transaction;\n"
           "                         a session INTO has is skipped, so merging twice adds\n"
           "                         nothing; databases of another fingerprint key are refused\n"
           "  prune --older-than DAYS DB  delete the sessions whose last packet is older than\n"
           "                         DAYS days, with their credentials, and shrink the file;\n"
           "                         0 deletes them all\n"

           "\n"
           "Exit status: 0 done, 1 usage error, 2 an input, the interface or the database\n"
           "failed, 3 an input was damaged part-way (what came before the damage was analysed).\n");
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

/* -i, repeatable: a TAP's two ports, several SPAN ports, all into one flow table. */
static enum cli_action opt_interface(struct cli_opts *o, const char *arg)
{
    for (size_t i = 0; i < o->n_ifaces; i++) {
        if (strcmp(o->ifaces[i], arg) == 0) {
            return usage_error("-i %s given twice", arg);
        }
    }
    if (o->n_ifaces == CAPTURE_WAIT_MAX) {
        return usage_error("too many -i interfaces (at most %d)", CAPTURE_WAIT_MAX);
    }
    o->ifaces[o->n_ifaces++] = arg;
    size_t len = 0;
    for (size_t i = 0; i < o->n_ifaces; i++) {
        len += strlen(o->ifaces[i]) + 1;
    }
    char *joined = xmalloc(len);
    joined[0] = '\0';
    for (size_t i = 0; i < o->n_ifaces; i++) {
        if (i > 0) {
            strcat(joined, " ");
        }
        strcat(joined, o->ifaces[i]);
    }
    free(o->iface_owned);
    o->iface_owned = joined;
    o->iface = joined;
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

static enum cli_action opt_syslog(struct cli_opts *o, const char *arg)
{
    char err[256];
    if (!sink_check_syslog_target(arg, err, sizeof err)) {
        return usage_error("--syslog: %s", err);
    }
    o->out.has_syslog = true;
    o->out.syslog_target = arg;
    return CLI_RUN;
}

static enum cli_action opt_syslog_facility(struct cli_opts *o, const char *arg)
{
    int code = sink_facility_code(arg);
    if (code < 0) {
        return usage_error("--syslog-facility: '%s' is not a facility (kern, user, mail, daemon, "
                           "auth, syslog, lpr, news, uucp, cron, authpriv, ftp, local0 to local7)",
                           arg);
    }
    o->out.syslog_facility = (unsigned)code;
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

/* A UDP port for --vxlan-port or --geneve-port, added to ports[*n]. */
static enum cli_action add_port(const char *opt, const char *arg, uint16_t *ports, uint8_t *n)
{
    uint64_t v;
    if (!parse_u64(arg, UINT16_MAX, &v) || v == 0) {
        return usage_error("%s: '%s' is not a UDP port (1 to 65535)", opt, arg);
    }
    if (*n == DECODE_MAX_EXTRA_PORTS) {
        return usage_error("%s: at most %d ports", opt, DECODE_MAX_EXTRA_PORTS);
    }
    ports[(*n)++] = (uint16_t)v;
    return CLI_RUN;
}

static enum cli_action opt_vxlan_port(struct cli_opts *o, const char *arg)
{
    return add_port("--vxlan-port", arg, o->decode.vxlan_ports, &o->decode.n_vxlan);
}

static enum cli_action opt_geneve_port(struct cli_opts *o, const char *arg)
{
    return add_port("--geneve-port", arg, o->decode.geneve_ports, &o->decode.n_geneve);
}

/* --protocols LIST: "all", or registry names separated by commas. */
static enum cli_action opt_protocols(struct cli_opts *o, const char *arg)
{
    if (strcmp(arg, "all") == 0) {
        o->protocols = 0;
        return CLI_RUN;
    }
    uint32_t rows = 0;
    const char *p = arg;
    for (;;) {
        size_t len = strcspn(p, ",");
        size_t i = 0;
        while (i < registry_count() && (strlen(registry_at(i)->name) != len ||
                                        strncmp(registry_at(i)->name, p, len) != 0)) {
            i++;
        }
        if (i == registry_count()) {
            char names[256] = "";
            for (size_t k = 0; k < registry_count(); k++) {
                size_t used = strlen(names);
                snprintf(names + used, sizeof names - used, "%s%s", k > 0 ? ", " : "",
                         registry_at(k)->name);
            }
            return usage_error("--protocols: '%.*s' is none of: all, %s", (int)len, p, names);
        }
        rows |= 1u << i;
        if (p[len] == '\0') {
            break;
        }
        p += len + 1;
    }
    o->protocols = rows;
    return CLI_RUN;
}

/* --flow-key LIST: "5tuple", or a comma-separated list of "vlan" and "tunnel". */
static enum cli_action opt_flow_key(struct cli_opts *o, const char *arg)
{
    static const struct {
        const char *name;
        unsigned bits;
    } words[] = { { "5tuple", 0 }, { "vlan", FLOW_KEY_VLAN }, { "tunnel", FLOW_KEY_TUNNEL } };
    unsigned bits = 0;
    const char *p = arg;
    for (;;) {
        size_t len = strcspn(p, ",");
        size_t i = 0;
        while (i < sizeof words / sizeof words[0] &&
               (strlen(words[i].name) != len || strncmp(words[i].name, p, len) != 0)) {
            i++;
        }
        if (i == sizeof words / sizeof words[0]) {
            return usage_error("--flow-key: '%s' is not 5tuple, or a list of vlan and tunnel", arg);
        }
        bits |= words[i].bits;
        if (p[len] == '\0') {
            break;
        }
        p += len + 1;
    }
    o->flow_key = bits;
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
    const char *name;  /* long name */
    int has_arg;       /* no_argument, required_argument, optional_argument */
    char short_name;   /* the one-letter form, or 0 for a long option only */
    bool is_live_only; /* a setting of live capture: warned about, and ignored, with -r */
    cli_opt_fn *fn;
};

static const struct cli_opt cli_opts_table[] = {
    { "read", required_argument, 'r', false, opt_read },
    { "interface", required_argument, 'i', false, opt_interface },
    { "snaplen", required_argument, 's', true, opt_snaplen },
    { "buffer-size", required_argument, 'B', true, opt_buffer_size },
    { "no-promiscuous", no_argument, 'p', true, opt_no_promiscuous },
    { "count", required_argument, 'c', false, opt_count },
    { "user", required_argument, 'Z', true, opt_user },
    { "list-interfaces", no_argument, 'D', false, opt_list_interfaces },
    { "write", required_argument, 'w', false, opt_write },
    { "json", optional_argument, 0, false, opt_json },
    { "syslog", optional_argument, 0, false, opt_syslog },
    { "syslog-facility", required_argument, 0, false, opt_syslog_facility },
    { "reveal-secrets", no_argument, 0, false, opt_reveal_secrets },
    { "quiet", no_argument, 'q', false, opt_quiet },
    { "key-file", required_argument, 0, false, opt_key_file },
    { "drop-old-key", no_argument, 0, false, opt_drop_old_key },
    { "memcap", required_argument, 0, false, opt_memcap },
    { "idle", required_argument, 0, false, opt_idle },
    { "ports-only", no_argument, 0, false, opt_ports_only },
    { "sensor", required_argument, 0, false, opt_sensor },
    { "community-id-seed", required_argument, 0, false, opt_community_id_seed },
    { "flow-key", required_argument, 0, false, opt_flow_key },
    { "protocols", required_argument, 0, false, opt_protocols },
    { "vxlan-port", required_argument, 0, false, opt_vxlan_port },
    { "geneve-port", required_argument, 0, false, opt_geneve_port },
    { "help", no_argument, 'h', false, opt_help },
    { "version", no_argument, 'V', false, opt_version },
};

#define CLI_N_OPTS (sizeof cli_opts_table / sizeof cli_opts_table[0])
/* getopt_long's value for a long option only: past every char. */
#define CLI_LONG_VAL 256

/* getopt_long's tables, from cli_opts_table: longs[] (NULL-terminated) and the short letters. */
static void build_getopt(struct option *longs, char *shorts)
{
    size_t k = 0;
    /* A leading ':' makes a missing argument ':' rather than '?', so that both are told apart
     * and reported here, as every other error, starting with "plainsight:". */
    shorts[k++] = ':';
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

/* getopt's complaint, reported as a usage error: c is ':' (an argument is missing) or '?' (an
 * unknown or ambiguous option, or an argument given to one that takes none). getopt_long has
 * stepped past the word at fault: argv[optind - 1] for a long option; a short one is optopt,
 * since its word may be a cluster ("-qx"). */
static enum cli_action getopt_error(int c, char **argv)
{
    const char *word = optind > 0 ? argv[optind - 1] : "";
    bool is_long = strncmp(word, "--", 2) == 0;
    if (!is_long) {
        return c == ':' ? usage_error("-%c needs an argument", optopt)
                        : usage_error("unknown option -%c", optopt);
    }
    size_t len = strcspn(word + 2, "=");
    if (c == ':') {
        return usage_error("--%.*s needs an argument", (int)len, word + 2);
    }
    size_t n_match = 0;
    for (size_t i = 0; i < CLI_N_OPTS; i++) {
        const char *name = cli_opts_table[i].name;
        if (strncmp(name, word + 2, len) == 0) {
            if (name[len] == '\0') {
                return usage_error("--%s takes no argument", name);
            }
            n_match++;
        }
    }
    if (n_match > 1) {
        return usage_error("--%.*s is ambiguous: spell the option out", (int)len, word + 2);
    }
    return usage_error("unknown option --%.*s", (int)len, word + 2);
}

/* A word of BPF that is also an ordinary file name: a file by that name in the current
 * directory does not make "--json tcp port 25" a file name. */
static bool is_bpf_word(const char *w)
{
    static const char *const words[] = {
        "host",    "net",      "port",      "portrange", "src",     "dst",     "tcp",    "udp",
        "ip",      "ip6",      "arp",       "rarp",      "icmp",    "icmp6",   "ether",  "vlan",
        "mpls",    "not",      "and",       "or",        "less",    "greater", "proto",  "sctp",
        "inbound", "outbound", "broadcast", "multicast", "gateway", "pppoes",  "geneve",
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (strcmp(w, words[i]) == 0) {
            return true;
        }
    }
    return false;
}

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s);
    size_t t = strlen(tail);
    return n >= t && strcmp(s + n - t, tail) == 0;
}

/* Does the word after a bare --json look like the file the user meant, rather than the start of
 * a filter? It ends in .json or .jsonl, or names a path (a '/' that is not an address with a
 * prefix length, "10.0.0.0/8"), or is an existing file whose name is no BPF word. */
static bool looks_like_json_file(const char *w)
{
    if (ends_with(w, ".json") || ends_with(w, ".jsonl")) {
        return true;
    }
    if (strchr(w, '/') != NULL && w[strspn(w, "0123456789abcdefABCDEF.:/")] != '\0') {
        return true;
    }
    struct stat st;
    return !is_bpf_word(w) && stat(w, &st) == 0 && S_ISREG(st.st_mode);
}

/* -w none: no database, so another output must be asked for, and the key file named (its
 * default is the database's name). */
static enum cli_action check_outputs(struct cli_opts *o)
{
    if (strcmp(o->out.db_path, "none") != 0) {
        return CLI_RUN;
    }
    o->out.db_path = NULL;
    if (!o->out.has_json && !o->out.has_syslog) {
        return usage_error("-w none: nothing to write to; give --json or --syslog");
    }
    if (o->out.key_path == NULL) {
        return usage_error("-w none: give the fingerprint key's file with --key-file FILE "
                           "(made mode 0600 when missing; keep it for the next runs)");
    }
    return CLI_RUN;
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

static void merge_usage(FILE *f)
{
    fprintf(f, "Usage: plainsight merge [--allow-mixed-keys] INTO.db FROM.db...\n"
               "\n"
               "Copies the runs, sessions and credentials of each FROM database (plainsight's, of\n"
               "this release or an earlier one; read only) into INTO (made when missing), in one\n"
               "transaction: on any failure INTO is left as it was. Each row keeps its sensor; a\n"
               "session INTO has already (the same uid) is skipped and counted, so merging the\n"
               "same files again adds nothing. Copied runs name their file (runs.merged_from).\n"
               "\n"
               "      --allow-mixed-keys  merge databases written with another fingerprint key\n"
               "                         (refused without it: their fingerprints do not compare);\n"
               "                         such fingerprints keep their key's id in\n"
               "                         credentials.fingerprint_key_id\n"
               "  -h, --help             this text\n"
               "\n"
               "Exit status: 0 merged, 1 usage error, 2 nothing merged (a database is refused or\n"
               "a write failed).\n");
}

static void prune_usage(FILE *f)
{
    fprintf(f,
            "Usage: plainsight prune --older-than DAYS DB\n"
            "\n"
            "Deletes from DB the sessions whose last packet is more than DAYS days (of 24 hours,\n"
            "UTC) older than now, with their credentials, then the finished runs that ended\n"
            "before that and have no session left; 0 deletes every session. One transaction,\n"
            "then VACUUM: the file shrinks.\n"
            "\n"
            "      --older-than DAYS  0 to %d\n"
            "  -h, --help             this text\n"
            "\n"
            "Exit status: 0 pruned, 1 usage error, 2 the database is refused or failed.\n",
            CLI_MAX_PRUNE_DAYS);
}

/* plainsight merge|prune ARGS: argv[0] is the command's name. */
static enum cli_action parse_admin(int argc, char **argv, struct cli_admin *a)
{
    static const struct option longs[] = {
        { "allow-mixed-keys", no_argument, NULL, 'm' },
        { "older-than", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool is_merge = strcmp(argv[0], "merge") == 0;
    bool has_days = false;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longs, NULL)) != -1) {
        uint64_t v;
        if (c == 'h') {
            if (is_merge) {
                merge_usage(stdout);
            } else {
                prune_usage(stdout);
            }
            return CLI_EXIT_OK;
        } else if (c == 'm' && is_merge) {
            a->is_allow_mixed_keys = true;
        } else if (c == 'o' && !is_merge) {
            if (!parse_u64(optarg, CLI_MAX_PRUNE_DAYS, &v)) {
                return usage_error("prune --older-than: '%s' is not a number of days (0 to %d)",
                                   optarg, CLI_MAX_PRUNE_DAYS);
            }
            a->days = (uint32_t)v;
            has_days = true;
        } else if (c == ':') {
            return usage_error("%s: %s needs an argument", argv[0], argv[optind - 1]);
        } else {
            return usage_error("%s: unknown option %s", argv[0], argv[optind - 1]);
        }
    }
    int n = argc - optind;
    if (is_merge) {
        if (n < 2) {
            return usage_error("merge: give the database to merge into, then at least one to "
                               "merge from: plainsight merge INTO.db FROM.db...");
        }
        a->db = argv[optind];
        a->from = (const char *const *)(argv + optind + 1);
        a->n_from = (size_t)n - 1;
        return CLI_MERGE;
    }
    if (!has_days) {
        return usage_error("prune: --older-than DAYS is needed (0 removes every session)");
    }
    if (n != 1) {
        return usage_error("prune: give one database: plainsight prune --older-than DAYS DB");
    }
    a->db = argv[optind];
    return CLI_PRUNE;
}

/* An option of "report" with its argument: "--NAME ARG", "--NAME=ARG" or "-S ARG". Returns the
 * argument (NULL when missing, or when the option is another) and moves *i past it. */
static const char *report_arg(int argc, char **argv, int *i, const char *name, const char *shrt)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) == 0 && a[n] == '=') {
        return a + n + 1;
    }
    if ((strcmp(a, name) == 0 || (shrt != NULL && strcmp(a, shrt) == 0)) && *i + 1 < argc) {
        *i += 1;
        return argv[*i];
    }
    return NULL;
}

static enum cli_action report_format(const char *arg, struct report_opts *r)
{
    if (strcmp(arg, "html") == 0) {
        r->format = REPORT_HTML;
    } else if (strcmp(arg, "text") == 0) {
        r->format = REPORT_TEXT;
    } else if (strcmp(arg, "markdown") == 0 || strcmp(arg, "md") == 0) {
        r->format = REPORT_MARKDOWN;
    } else {
        return usage_error("--format: '%s' is not html, text or markdown", arg);
    }
    return CLI_REPORT;
}

/* "plainsight report DB [-o FILE] [--format F] [--reveal-secrets]": argv[0] is "report". */
static enum cli_action parse_report(int argc, char **argv, struct report_opts *r)
{
    r->format = REPORT_HTML;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return CLI_EXIT_OK;
        } else if (strcmp(a, "--reveal-secrets") == 0) {
            r->is_reveal = true;
        } else if ((v = report_arg(argc, argv, &i, "--output", "-o")) != NULL) {
            r->out_path = v;
        } else if ((v = report_arg(argc, argv, &i, "--format", NULL)) != NULL) {
            if (report_format(v, r) != CLI_REPORT) {
                return CLI_EXIT_USAGE;
            }
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage_error("report: unknown option or missing argument: %s", a);
        } else if (r->db_path != NULL) {
            return usage_error("report: one database only ('%s' and '%s')", r->db_path, a);
        } else {
            r->db_path = a;
        }
    }
    if (r->db_path == NULL) {
        return usage_error("report: give the database: plainsight report DB -o report.html");
    }
    return CLI_REPORT;
}

enum cli_action cli_parse(int argc, char **argv, struct cli_opts *o)
{
    if (argc > 1 && (strcmp(argv[1], "merge") == 0 || strcmp(argv[1], "prune") == 0)) {
        return parse_admin(argc - 1, argv + 1, &o->admin);
    }
    if (argc > 1 && strcmp(argv[1], "report") == 0) {
        return parse_report(argc - 1, argv + 1, &o->report);
    }
    o->out.db_path = "plainsight.db";
    o->out.syslog_facility = SINK_SYSLOG_FACILITY_DEFAULT;
    o->memcap = FLOW_MEMCAP_BYTES;
    o->idle_sec = FLOW_IDLE_SEC;
    o->live.is_promisc = 1;
    struct option longs[CLI_N_OPTS + 1];
    char shorts[2 * CLI_N_OPTS + 2];
    build_getopt(longs, shorts);
    /* getopt's own messages start with argv[0], the binary's full path: ours say
     * "plainsight:". */
    opterr = 0;
    const struct cli_opt *live_only[CLI_N_OPTS];
    size_t n_live_only = 0;
    bool is_bare_json = false;
    bool is_bare_syslog = false;
    int c;
    while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        const struct cli_opt *m = c == '?' || c == ':' ? NULL : find_opt(c);
        if (m == NULL) {
            return getopt_error(c, argv);
        }
        enum cli_action act = m->fn(o, optarg);
        if (act != CLI_RUN) {
            return act;
        }
        bool is_listed = false;
        for (size_t i = 0; i < n_live_only; i++) {
            is_listed = is_listed || live_only[i] == m;
        }
        if (m->is_live_only && !is_listed) {
            live_only[n_live_only++] = m; /* once each: at most CLI_N_OPTS */
        }
        if (m->fn == opt_json) {
            is_bare_json = optarg == NULL;
        } else if (m->fn == opt_syslog) {
            is_bare_syslog = optarg == NULL;
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
    /* "--json out.json": getopt takes an optional argument only after '=', so the file name
     * would become the filter. Guessing which was meant could write a file the user never
     * named or drop a filter they typed; saying how to write it costs one retyped word. */
    if (is_bare_json && optind < argc && looks_like_json_file(argv[optind])) {
        return usage_error("--json takes its file after '=': write --json=%s (a bare --json "
                           "writes to standard output, and what follows is the filter)",
                           argv[optind]);
    }
    if (is_bare_syslog && optind < argc && strstr(argv[optind], "://") != NULL) {
        return usage_error("--syslog takes its target after '=': write --syslog=%s (a bare "
                           "--syslog writes to /dev/log, and what follows is the filter)",
                           argv[optind]);
    }
    if (check_outputs(o) != CLI_RUN) {
        return CLI_EXIT_USAGE;
    }
    if (o->n_files > 0) {
        for (size_t i = 0; i < n_live_only; i++) {
            log_warn("-%c (--%s) is for live capture (-i): ignored when reading files",
                     live_only[i]->short_name, live_only[i]->name);
        }
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
    free(o->iface_owned);
    o->iface_owned = NULL;
    o->iface = NULL;
}
