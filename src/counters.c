/* counters.c - every module's counters as one list of names and values, for the run record.
 *
 * Each module's stats X-macro (CAPTURE_STATS, DECODE_STATS, DEFRAG_STATS, FLOW_STATS,
 * CLASSIFY_STATS, REASM_STATS, PARSE_STATS) is expanded here into "<module>.<field>" entries, so
 * adding a field there adds its run counter, with nothing else to edit. */
#include "counters.h"

#include <stdint.h>

#include "capture.h"
#include "classify.h"
#include "decode.h"
#include "defrag.h"
#include "flow.h"
#include "proto.h"
#include "reasm.h"

/* One counter into out[n] when there is room; n counts them all. */
#define COUNTERS_PUT(name_, v)                                                                     \
    do {                                                                                           \
        if (n < cap) {                                                                             \
            out[n].name = (name_);                                                                 \
            out[n].value = (uint64_t)(v);                                                          \
        }                                                                                          \
        n++;                                                                                       \
    } while (0);
#define COUNTERS_CAPTURE(field, doc)  COUNTERS_PUT("capture." #field, src->capture->field)
#define COUNTERS_DECODE(field, doc)   COUNTERS_PUT("decode." #field, src->decode->field)
#define COUNTERS_DEFRAG(field, doc)   COUNTERS_PUT("defrag." #field, src->defrag->field)
#define COUNTERS_REASM(field, doc)    COUNTERS_PUT("reasm." #field, src->reasm->field)
#define COUNTERS_FLOW(field, doc)     COUNTERS_PUT("flow." #field, src->flow->field)
#define COUNTERS_CLASSIFY(field, doc) COUNTERS_PUT("classify." #field, src->classify->field)
#define COUNTERS_PARSE(field, doc)    COUNTERS_PUT("parse." #field, src->parse->field)
#define COUNTERS_ONE(field, doc)      +1

enum {
    COUNTERS_N = 0 CAPTURE_STATS(COUNTERS_ONE) DECODE_STATS(COUNTERS_ONE) DEFRAG_STATS(COUNTERS_ONE)
        FLOW_STATS(COUNTERS_ONE) CLASSIFY_STATS(COUNTERS_ONE) REASM_STATS(COUNTERS_ONE)
            PARSE_STATS(COUNTERS_ONE)
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
    DEFRAG_STATS(COUNTERS_DEFRAG)
    FLOW_STATS(COUNTERS_FLOW)
    CLASSIFY_STATS(COUNTERS_CLASSIFY)
    REASM_STATS(COUNTERS_REASM)
    PARSE_STATS(COUNTERS_PARSE)
    return n < cap ? n : cap;
}
