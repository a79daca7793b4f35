/* fuzz_tlshello.c - libFuzzer target for the client's ClientHello reader and the X.509 name
 * reader, the two readers tlssniff added for the session's context.
 *
 * Byte 0 gives the number of chunk sizes that follow (1 + its low 3 bits); the sizes (0..255,
 * a 0 feeds an empty chunk) cut the rest of the input, the client's byte stream, as in
 * fuzz_tlssniff. Each chunk is copied into a buffer of exactly its size, so ASan sees a read past
 * it. The same rest is then read as a DER certificate (tlssniff_cert_names) and as a DER Name
 * (tlssniff_dn_format), from exact-size copies.
 *
 * Checked besides memory safety: the client's verdict and its server_name do not depend on the
 * chunking; a name is at most TLSSNIFF_MAX_SNI bytes; rendered names are NUL-terminated,
 * printable ASCII and no longer than their cap. */
#include "tlssniff.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "tunables.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An exact-size copy of data[0..len) (free it). */
static uint8_t *copy_of(const uint8_t *data, size_t len)
{
    uint8_t *copy = malloc(len > 0 ? len : 1);
    FUZZ_CHECK(copy != NULL);
    if (len > 0) {
        memcpy(copy, data, len);
    }
    return copy;
}

static enum tlssniff_status feed_copy(struct tlssniff *t, const uint8_t *data, size_t len)
{
    uint8_t *copy = copy_of(data, len);
    uint16_t v = 0;
    enum tlssniff_status ts = tlssniff_feed(t, copy, len, &v);
    free(copy);
    FUZZ_CHECK(ts == TLSSNIFF_MORE || ts == TLSSNIFF_DONE || ts == TLSSNIFF_NOT_TLS);
    return ts;
}

/* out holds printable ASCII, NUL-terminated within cap. */
static void check_text(const char *out, size_t cap)
{
    size_t n = 0;
    while (n < cap && out[n] != '\0') {
        FUZZ_CHECK(out[n] >= 0x20 && out[n] < 0x7f);
        n++;
    }
    FUZZ_CHECK(n < cap);
}

static void names(const uint8_t *p, size_t len)
{
    char subject[TLSSNIFF_MAX_DN + 1], issuer[TLSSNIFF_MAX_DN + 1];
    uint8_t *copy = copy_of(p, len);
    if (tlssniff_cert_names(copy, len, subject, issuer, sizeof subject)) {
        check_text(subject, sizeof subject);
        check_text(issuer, sizeof issuer);
    }
    char small[8];
    if (tlssniff_dn_format(copy, len, small, sizeof small)) {
        check_text(small, sizeof small);
    }
    if (tlssniff_dn_format(copy, len, subject, sizeof subject)) {
        check_text(subject, sizeof subject);
    }
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    size_t n_sizes = (size_t)(data[0] & 7u) + 1;
    if (size - 1 < n_sizes) {
        return 0;
    }
    const uint8_t *sizes = data + 1;
    const uint8_t *stream = data + 1 + n_sizes;
    size_t len = size - 1 - n_sizes;

    struct tlssniff *t = tlssniff_new_client();
    enum tlssniff_status verdict = TLSSNIFF_MORE;
    size_t off = 0;
    size_t i = 0;
    size_t empty_run = 0;
    while (off < len) {
        size_t n = sizes[i++ % n_sizes];
        if (n > len - off) {
            n = len - off;
        }
        empty_run = n == 0 ? empty_run + 1 : 0;
        if (empty_run > n_sizes) {
            n = 1;
            empty_run = 0;
        }
        enum tlssniff_status ts = feed_copy(t, stream + off, n);
        FUZZ_CHECK(verdict == TLSSNIFF_MORE || ts == verdict);
        verdict = ts;
        off += n;
    }
    struct tlssniff *whole = tlssniff_new_client();
    FUZZ_CHECK(feed_copy(whole, stream, len) == verdict);
    const uint8_t *a = NULL, *b = NULL;
    size_t na = tlssniff_sni(t, &a);
    size_t nb = tlssniff_sni(whole, &b);
    FUZZ_CHECK(na == nb && na <= TLSSNIFF_MAX_SNI);
    FUZZ_CHECK(na == 0 || memcmp(a, b, na) == 0);
    tlssniff_free(whole);
    tlssniff_free(t);

    names(stream, len);
    return 0;
}
