/* fuzz_imap.c - libFuzzer target for the IMAP parser (RFC 9051, 3501, 7888, 4959, 2595).
 *
 * The input is a list of client and server segments, fed through proto.h as flow.c feeds them;
 * the format and the checks are those of the shared harness, fuzz_parser.c. */
#include "imap.h"

#include <stddef.h>
#include <stdint.h>

#include "finding.h"
#include "fuzz_parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct fuzz_parser fp = { &imap_parser_ops, "imap", 143 };
    fuzz_parser_one(&fp, data, size);
    return 0;
}
