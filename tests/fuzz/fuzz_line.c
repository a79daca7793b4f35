/* fuzz_line.c - libFuzzer target for line splitting (line_next) over chunks.
 *
 * Byte 0: low 3 bits give the number of chunk sizes that follow (1 + value), each one byte
 * (0..255; 0 means 256) used in turn, again and again, to cut the rest of the input; bit 3
 * scales every size by 64, so lines longer than LINE_MAX_LEN span few chunks too. Each chunk is
 * copied into a buffer of exactly its size, so ASan sees a read past it.
 *
 * line.h promises the same lines whatever the chunking, so the stream is split twice: in those
 * chunks and in one piece, and the lines (content and order, with the places where a dropped
 * line ended: LINE_DROPPED), the overlong count and whether a partial line is left must
 * agree. Every line must be at most LINE_MAX_LEN bytes and contain no
 * LF, and line_is_word / line_token run over each one. */
#include "line.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The length recorded for a LINE_DROPPED event. */
#define FUZZ_DROPPED ((size_t)-1)

/* The lines of one split, concatenated, each preceded by its length (FUZZ_DROPPED and no bytes
 * for a dropped line). */
struct lines {
    uint8_t *buf;
    size_t len, cap;
    size_t count;
    uint64_t overlong;
    bool has_partial;
};

static void lines_add(struct lines *l, const uint8_t *p, size_t n)
{
    size_t body = n == FUZZ_DROPPED ? 0 : n;
    size_t need = sizeof n + body;
    if (l->cap - l->len < need) {
        size_t cap = l->cap * 2 + need + 256;
        uint8_t *b = realloc(l->buf, cap);
        FUZZ_CHECK(b != NULL);
        l->buf = b;
        l->cap = cap;
    }
    memcpy(l->buf + l->len, &n, sizeof n);
    if (body > 0) {
        memcpy(l->buf + l->len + sizeof n, p, body);
    }
    l->len += need;
    l->count++;
}

static void check_line(const uint8_t *line, size_t len)
{
    FUZZ_CHECK(len <= LINE_MAX_LEN);
    FUZZ_CHECK(len == 0 || memchr(line, '\n', len) == NULL);
    static const char *const words[] = { "USER", "PASS", "AUTH", "STLS", "A" };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        (void)line_is_word(line, len, words[i]);
    }
    size_t off = 0, total = 0;
    const uint8_t *tok;
    size_t tok_len;
    while (line_token(line, len, &off, &tok, &tok_len)) {
        FUZZ_CHECK(tok_len > 0 && tok >= line && (size_t)(tok - line) + tok_len <= len);
        FUZZ_CHECK(memchr(tok, ' ', tok_len) == NULL);
        FUZZ_CHECK(off <= len);
        total += tok_len;
        FUZZ_CHECK(total <= len);
    }
    FUZZ_CHECK(off == len);
}

/* Splits stream[0..len) fed in chunks of the given sizes (n_sizes == 0: in one piece). */
static void split(const uint8_t *stream, size_t len, const uint8_t *sizes, size_t n_sizes,
                  size_t scale, struct lines *out)
{
    struct line_buf *lb = malloc(sizeof *lb);
    FUZZ_CHECK(lb != NULL);
    line_open(lb, NULL);
    FUZZ_CHECK(!line_has_partial(lb));
    size_t off = 0, i = 0;
    while (off < len) {
        size_t n = len - off;
        if (n_sizes > 0) {
            uint8_t b = sizes[i % n_sizes];
            i++;
            size_t want = (b != 0 ? b : 256) * scale;
            n = want < n ? want : n;
        }
        uint8_t *chunk = malloc(n);
        FUZZ_CHECK(chunk != NULL);
        memcpy(chunk, stream + off, n);
        const uint8_t *p = chunk;
        size_t left = n;
        for (;;) {
            const uint8_t *line = NULL;
            size_t line_len = 0;
            const uint8_t *before = p;
            size_t before_left = left;
            enum line_status ls = line_next(lb, &p, &left, &line, &line_len, &out->overlong);
            FUZZ_CHECK(p >= before && (size_t)(p - before) == before_left - left);
            if (ls == LINE_MORE) {
                FUZZ_CHECK(left == 0);
                break;
            }
            if (ls == LINE_DROPPED) {
                /* A line boundary without a line: recorded, so where drops end is compared. */
                FUZZ_CHECK(!line_has_partial(lb));
                lines_add(out, NULL, FUZZ_DROPPED);
                continue;
            }
            FUZZ_CHECK(ls == LINE_OK);
            check_line(line, line_len);
            lines_add(out, line, line_len);
        }
        free(chunk);
        off += n;
    }
    out->has_partial = line_has_partial(lb);
    line_resync(lb);
    FUZZ_CHECK(line_has_partial(lb));
    line_close(lb);
    free(lb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    size_t n_sizes = (size_t)(data[0] & 7u) + 1;
    size_t scale = (data[0] & 8u) != 0 ? 64 : 1;
    if (size - 1 < n_sizes) {
        return 0;
    }
    const uint8_t *stream = data + 1 + n_sizes;
    size_t len = size - 1 - n_sizes;

    struct lines chunked, whole;
    memset(&chunked, 0, sizeof chunked);
    memset(&whole, 0, sizeof whole);
    split(stream, len, data + 1, n_sizes, scale, &chunked);
    split(stream, len, NULL, 0, 1, &whole);

    FUZZ_CHECK(chunked.count == whole.count);
    FUZZ_CHECK(chunked.len == whole.len);
    FUZZ_CHECK(chunked.len == 0 || memcmp(chunked.buf, whole.buf, chunked.len) == 0);
    FUZZ_CHECK(chunked.overlong == whole.overlong);
    FUZZ_CHECK(chunked.has_partial == whole.has_partial);
    free(chunked.buf);
    free(whole.buf);
    return 0;
}
