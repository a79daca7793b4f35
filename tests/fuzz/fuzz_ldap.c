/* fuzz_ldap.c - libFuzzer target for the LDAP parser (RFC 4511 binds and StartTLS, RFC 4513).
 *
 * The input is a list of client and server segments, fed through proto.h as flow.c feeds them;
 * the format and the checks are those of the shared harness, fuzz_parser.c. */
#include "ldap.h"

#include <stddef.h>
#include <stdint.h>

#include "finding.h"
#include "fuzz_parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct fuzz_parser fp = { &ldap_parser_ops, "ldap", 389 };
    fuzz_parser_one(&fp, data, size);
    /* The content test on the same bytes: it must never read past them. */
    (void)ldap_opens(data, size);
    return 0;
}
