/* fuzz_socks.c - libFuzzer target for the SOCKS5 wrapper (RFC 1928, 1929) and the mail parser
 * it hands the tunnel to.
 *
 * The input is a list of client and server segments, fed through proto.h as flow.c feeds them;
 * the format and the checks are those of the shared harness, fuzz_parser.c (among them: how a
 * direction's bytes are chunked changes nothing, which the wrapper's handshake queues must
 * keep too). */
#include "socks.h"

#include <stddef.h>
#include <stdint.h>

#include "finding.h"
#include "fuzz_parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct fuzz_parser fp = { &socks_parser_ops, NULL, 1080 };
    fuzz_parser_one(&fp, data, size);
    return 0;
}
