/* fuzz_tlssniff.c - libFuzzer target for the ServerHello sniffer, fed in chunks.
 *
 * Byte 0 gives the number of chunk sizes that follow (1 + its low 3 bits); the sizes (0..255,
 * a 0 feeds an empty chunk) are used in turn, again and again, to cut the rest of the input,
 * the server's byte stream. Each chunk is copied into a buffer of exactly its size, so ASan
 * sees a read past it.
 *
 * Checked besides memory safety: a verdict, once given, is returned again by every later call
 * with the same version (tlssniff.h); a DONE version lies in 0x0300..0x0304; the verdict does
 * not depend on the chunking (the same stream fed whole to a second sniffer agrees); after a
 * gap an undecided sniffer says NOT_TLS and a decided one keeps its verdict; a certificate's
 * subject, once read, is the same however the stream was cut, printable ASCII, and bounded. */
#include "tlssniff.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "tunables.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Feeds data[0..len) from an exact-size copy. */
static enum tlssniff_status feed_copy(struct tlssniff *t, const uint8_t *data, size_t len,
                                      uint16_t *version)
{
    uint8_t *copy = malloc(len > 0 ? len : 1);
    FUZZ_CHECK(copy != NULL);
    if (len > 0) {
        memcpy(copy, data, len);
    }
    enum tlssniff_status ts = tlssniff_feed(t, copy, len, version);
    free(copy);
    FUZZ_CHECK(ts == TLSSNIFF_MORE || ts == TLSSNIFF_DONE || ts == TLSSNIFF_NOT_TLS);
    return ts;
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

    struct tlssniff *t = tlssniff_new();
    enum tlssniff_status verdict = TLSSNIFF_MORE;
    uint16_t version = 0;
    size_t off = 0;
    size_t i = 0;
    size_t empty_run = 0;
    while (off < len) {
        size_t n = sizes[i++ % n_sizes];
        if (n > len - off) {
            n = len - off;
        }
        /* Only empty chunks in the size list would never end. */
        empty_run = n == 0 ? empty_run + 1 : 0;
        if (empty_run > n_sizes) {
            n = 1;
            empty_run = 0;
        }
        uint16_t v = 0;
        enum tlssniff_status ts = feed_copy(t, stream + off, n, &v);
        if (verdict != TLSSNIFF_MORE) {
            FUZZ_CHECK(ts == verdict);
            FUZZ_CHECK(ts != TLSSNIFF_DONE || v == version);
        } else if (ts != TLSSNIFF_MORE) {
            verdict = ts;
            version = v;
        }
        if (ts == TLSSNIFF_DONE) {
            FUZZ_CHECK(v >= 0x0300 && v <= 0x0304);
        }
        off += n;
    }

    /* The same stream in one piece. */
    struct tlssniff *whole = tlssniff_new();
    uint16_t whole_version = 0;
    enum tlssniff_status whole_verdict = feed_copy(whole, stream, len, &whole_version);
    FUZZ_CHECK(whole_verdict == verdict);
    FUZZ_CHECK(verdict != TLSSNIFF_DONE || whole_version == version);
    /* The certificate's names too, once both have read all they will. */
    if (!tlssniff_wants_cert(t) && !tlssniff_wants_cert(whole)) {
        const char *a = tlssniff_cert_subject(t);
        const char *b = tlssniff_cert_subject(whole);
        FUZZ_CHECK((a == NULL) == (b == NULL));
        FUZZ_CHECK(a == NULL || strcmp(a, b) == 0);
        for (size_t k = 0; a != NULL && a[k] != '\0'; k++) {
            FUZZ_CHECK(a[k] >= 0x20 && a[k] < 0x7f && k < TLSSNIFF_MAX_DN);
        }
    }
    tlssniff_free(whole);

    /* A gap: framing lost unless decided. */
    tlssniff_gap(t);
    uint16_t v = 0;
    enum tlssniff_status after = feed_copy(t, stream, len, &v);
    if (verdict == TLSSNIFF_MORE) {
        FUZZ_CHECK(after == TLSSNIFF_NOT_TLS);
    } else {
        FUZZ_CHECK(after == verdict);
        FUZZ_CHECK(after != TLSSNIFF_DONE || v == version);
    }
    tlssniff_free(t);
    tlssniff_free(NULL);
    return 0;
}
