/* fuzz_ftp.c - libFuzzer target for the FTP control connection parser (RFC 959, 2228, 4217).
 *
 * The input is a list of client and server segments, fed through proto.h as flow.c feeds them;
 * the format and the checks are those of the shared harness, fuzz_parser.c. */
#include "ftp.h"

#include <stddef.h>
#include <stdint.h>

#include "finding.h"
#include "fuzz_parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct fuzz_parser fp = { &ftp_parser_ops, "ftp", 21 };
    fuzz_parser_one(&fp, data, size);
    return 0;
}
