/* fuzz_http.c - libFuzzer target for the HTTP parser (RFC 9112, RFC 9110 section 11) and the
 * authentication fields it reads (httpauth: Basic, Digest, Bearer, NTLM).
 *
 * The input is a list of client and server segments, fed through proto.h as flow.c feeds them;
 * the format and the checks are those of the shared harness, fuzz_parser.c (among them: how a
 * direction's bytes are chunked changes nothing, which the body counts, the chunk framing, the
 * obs-fold joining and a CONNECT-first session handed to the wrapper must keep too). */
#include "http.h"

#include <stddef.h>
#include <stdint.h>

#include "finding.h"
#include "fuzz_parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct fuzz_parser fp = { &http_parser_ops, "http", 80 };
    fuzz_parser_one(&fp, data, size);
    return 0;
}
