/* fuzz_pop3.c - libFuzzer target for the POP3 parser (RFC 1939, 2449, 2595, 5034).
 *
 * The input is a list of client and server segments, fed through proto.h as flow.c feeds them;
 * the format and the checks are those of the shared harness, fuzz_parser.c. */
#include "pop3.h"

#include <stddef.h>
#include <stdint.h>

#include "finding.h"
#include "fuzz_parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct fuzz_parser fp = { &pop3_parser_ops, "pop3", 110 };
    fuzz_parser_one(&fp, data, size);
    return 0;
}
