/* cli.h - the command line: options into a struct cli_opts, the usage text, the checks.
 *
 * Every option is one row of a table in cli.c; its limits come from tunables.h. A usage error
 * is reported here ("plainsight: error: ..." and a pointer to --help); main turns the answer
 * into the exit status. Output options fill the struct sink_config the outputs open with, so a
 * new output's option is a row here and a field there, and main does not change. */
#ifndef PLAINSIGHT_CLI_H
#define PLAINSIGHT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"
#include "decode.h"
#include "finding.h"
#include "report.h"
#include "sink.h"
#include "tunables.h"

/* What the command line asks for. */
enum cli_action {
    CLI_RUN = 0,    /* read files or an interface: the options are in struct cli_opts */
    CLI_LIST,       /* -D: list the interfaces */
    CLI_EXIT_OK,    /* --help or --version was printed */
    CLI_EXIT_USAGE, /* a usage error was reported */
    CLI_MERGE,      /* plainsight merge: the arguments are in struct cli_admin */
    CLI_PRUNE,      /* plainsight prune: likewise */
    CLI_REPORT,     /* "report DB": the options are in cli_opts.report */
};

/* The arguments of the database commands, plainsight merge and plainsight prune (argv[1]).
 * Strings borrow argv. */
struct cli_admin {
    const char *db;          /* merge: the target (INTO); prune: the database */
    const char *const *from; /* merge: the databases merged into it, n_from of them */
    size_t n_from;
    bool is_allow_mixed_keys; /* merge --allow-mixed-keys */
    uint32_t days;            /* prune --older-than DAYS: 0 removes every session */
};

/* The options. Strings borrow argv, except bpf. */
struct cli_opts {
    const char *files[CLI_MAX_FILES]; /* -r, in order */
    size_t n_files;
    const char *iface; /* the -i names joined by spaces (iface_owned), NULL without -i */
    const char *ifaces[CAPTURE_WAIT_MAX]; /* each -i, in order */
    size_t n_ifaces;
    char *iface_owned;
    bool is_ports_only;
    bool is_list;
    size_t memcap;               /* --memcap, bytes */
    uint32_t idle_sec;           /* --idle */
    uint64_t max_packets;        /* -c; 0 for no limit */
    uint16_t community_id_seed;  /* --community-id-seed; 0 by default, as Zeek and Suricata */
    uint32_t protocols;          /* --protocols: registry rows looked for (bits); 0 for all */
    unsigned flow_key;           /* --flow-key: FLOW_KEY_* (flow.h); 0, the 5-tuple alone */
    struct decode_config decode; /* --vxlan-port, --geneve-port */
    const char *sensor;          /* --sensor, or sensor_default */
    char sensor_default[FINDING_MAX_SENSOR + 1]; /* the host name, when --sensor is not given */
    struct capture_live_opts live;
    const char *user;          /* -Z */
    char *bpf;                 /* the remaining arguments joined by spaces (owned); NULL for none */
    struct sink_config out;    /* -w, --json, --syslog, --syslog-facility, --reveal-secrets, -q,
                                  --key-file, --drop-old-key; is_live set for -i */
    char *key_path_owned;      /* the default key file's name, when --key-file is not given */
    struct cli_admin admin;    /* plainsight merge, plainsight prune */
    struct report_opts report; /* "plainsight report": the database, output, format */
};

/* Parses argv into *o (zeroed by the caller), printing --help/--version and usage errors. When
 * argv[1] is "merge" or "prune", the rest is that command's (CLI_MERGE, CLI_PRUNE, o->admin);
 * otherwise the options of a run. Free with cli_free. */
enum cli_action cli_parse(int argc, char **argv, struct cli_opts *o);

/* Frees what cli_parse allocated (the filter). */
void cli_free(struct cli_opts *o);

#endif
