/* counters.h - every module's counters as one list of names and values, for the run record.
 *
 * The list is made from each module's stats X-macro (CAPTURE_STATS, DECODE_STATS, DEFRAG_STATS,
 * FLOW_STATS, CLASSIFY_STATS, REASM_STATS, PARSE_STATS): a field added there is a run counter named
 * "<module>.<field>" with nothing else to edit. The run_counters table, the statistics line and
 * the tests read this one list. */
#ifndef PLAINSIGHT_COUNTERS_H
#define PLAINSIGHT_COUNTERS_H

#include <stddef.h>

#include "ps.h"

struct capture_stats;
struct classify_stats;
struct decode_stats;
struct defrag_stats;
struct flow_stats;
struct parse_stats;
struct reasm_stats;

/* Room for every counter (counters_collect asserts it). */
#define COUNTERS_MAX 160

/* Where the counters are read from; every pointer is borrowed and must be set. */
struct counters_src {
    const struct capture_stats *capture;
    const struct decode_stats *decode;
    const struct defrag_stats *defrag;
    const struct flow_stats *flow;
    const struct classify_stats *classify;
    const struct reasm_stats *reasm;
    const struct parse_stats *parse;
};

/* Writes every counter, in the run record's order (capture, decode, defrag, flow, classify,
 * reasm, parse), into out[0..cap) and returns how many were written: counters_count() when cap is
 * enough, else cap (the rest are left out). Names are static strings. */
size_t counters_collect(const struct counters_src *src, struct ps_counter *out, size_t cap);

/* The number of counters counters_collect writes. */
size_t counters_count(void);

#endif
