/* fuzz_parser.h - the harness shared by the protocol parser targets (see fuzz_parser.c). */
#ifndef PLAINSIGHT_FUZZ_PARSER_H
#define PLAINSIGHT_FUZZ_PARSER_H

#include <stddef.h>
#include <stdint.h>

#include "finding.h"

struct parser_ops;

/* The parser under test and what its session record says about the server. */
struct fuzz_parser {
    const struct parser_ops *ops;
    const char *protocol; /* the registry's name; NULL for a wrapper */
    uint16_t server_port;
};

/* Runs one input (the segment list described in fuzz_parser.c) through the parser, twice, and
 * checks the results; aborts through fuzz_fail on a broken contract. */
void fuzz_parser_one(const struct fuzz_parser *fp, const uint8_t *data, size_t size);

#endif
