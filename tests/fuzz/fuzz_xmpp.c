/* fuzz_xmpp.c - libFuzzer target for the XMPP parser (RFC 6120, XEP-0078).
 *
 * The input is a list of client and server segments, fed through proto.h as flow.c feeds them;
 * the format and the checks are those of the shared harness, fuzz_parser.c. */
#include "xmpp.h"

#include <stddef.h>
#include <stdint.h>

#include "finding.h"
#include "fuzz_parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct fuzz_parser fp = { &xmpp_parser_ops, "xmpp", 5222 };
    fuzz_parser_one(&fp, data, size);
    return 0;
}
