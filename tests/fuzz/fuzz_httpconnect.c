/* fuzz_httpconnect.c - libFuzzer target for the HTTP CONNECT wrapper (RFC 9110 section 9.3.6,
 * RFC 7617) and the mail parser it hands the tunnel to.
 *
 * The input is a list of client and server segments, fed through proto.h as flow.c feeds them;
 * the format and the checks are those of the shared harness, fuzz_parser.c (among them: how a
 * direction's bytes are chunked changes nothing, which the wrapper's head queues, its line
 * reading and its skipping of a 407's body must keep too). */
#include "httpconnect.h"

#include <stddef.h>
#include <stdint.h>

#include "finding.h"
#include "fuzz_parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct fuzz_parser fp = { &httpconnect_parser_ops, NULL, 3128 };
    fuzz_parser_one(&fp, data, size);
    return 0;
}
