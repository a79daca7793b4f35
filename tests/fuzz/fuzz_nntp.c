/* fuzz_nntp.c - libFuzzer target for the NNTP parser (RFC 3977, 4642, 4643).
 *
 * The input is a list of client and server segments, fed through proto.h as flow.c feeds them;
 * the format and the checks are those of the shared harness, fuzz_parser.c. */
#include "nntp.h"

#include <stddef.h>
#include <stdint.h>

#include "finding.h"
#include "fuzz_parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct fuzz_parser fp = { &nntp_parser_ops, "nntp", 119 };
    fuzz_parser_one(&fp, data, size);
    return 0;
}
