/* test_line.c - unit tests for line.c: line splitting, the length limit, resync, words, tokens.
 *
 * Each table row is fed whole, byte by byte, split once at every offset and (for short rows)
 * split twice at every pair of offsets; every way must give the same lines, the same overlong
 * count and the same partial state. Lines end at LF (RFC 5321 2.3.8 CR LF, or a bare LF); the
 * length limit is checked exactly at LINE_MAX_LEN and one past it, with the CR LF split across
 * chunks at every point. */
#include "line.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

/* What a feed produced: the lines, each followed by LF (a line never holds an LF, so this
 * is unambiguous), and the counters. */
struct out {
    uint8_t *text;
    size_t len, cap;
    size_t n_lines;
    uint64_t overlong;
    bool has_partial;
    bool is_zero_copy_ok; /* every line pointed into the chunk or into the line_buf */
};

static void out_init(struct out *o)
{
    memset(o, 0, sizeof *o);
    o->is_zero_copy_ok = true;
}

static void out_add(struct out *o, const uint8_t *line, size_t len)
{
    if (o->len + len + 1 > o->cap) {
        o->cap = (o->len + len + 1) * 2;
        o->text = realloc(o->text, o->cap);
        if (o->text == NULL) {
            abort();
        }
    }
    if (len > 0) {
        memcpy(o->text + o->len, line, len);
    }
    o->len += len;
    o->text[o->len++] = '\n';
    o->n_lines++;
}

static void out_free(struct out *o)
{
    free(o->text);
    memset(o, 0, sizeof *o);
}

static bool points_into(const uint8_t *p, size_t len, const uint8_t *base, size_t base_len)
{
    uintptr_t a = (uintptr_t)p, b = (uintptr_t)base;
    return a >= b && a - b <= base_len && len <= base_len - (a - b);
}

/* Feeds one chunk; every line must come out of the chunk or out of lb. */
static void feed_chunk(struct line_buf *lb, const uint8_t *chunk, size_t n, struct out *o)
{
    const uint8_t *p = chunk;
    size_t left = n;

    for (;;) {
        const uint8_t *line = NULL;
        size_t line_len = 0;
        size_t before = left;
        enum line_status st = line_next(lb, &p, &left, &line, &line_len, &o->overlong);
        CHECK(left <= before);
        CHECK(p == chunk + (n - left));
        if (st == LINE_MORE) {
            CHECK_EQ_U(left, 0);
            break;
        }
        if (st == LINE_DROPPED) {
            continue;
        }
        CHECK(st == LINE_OK);
        CHECK(line_len <= LINE_MAX_LEN);
        if (!points_into(line, line_len, chunk, n) &&
            !points_into(line, line_len, lb->buf, lb->cap)) {
            o->is_zero_copy_ok = false;
        }
        CHECK(memchr(line, '\n', line_len) == NULL);
        out_add(o, line, line_len);
    }
}

/* Feeds in[0..len) cut at the given offsets (ascending, each in 0..len). */
static void feed_cuts(const uint8_t *in, size_t len, const size_t *cuts, size_t n_cuts,
                      struct out *o)
{
    struct line_buf *lb = malloc(sizeof *lb);
    if (lb == NULL) {
        abort();
    }
    line_open(lb, NULL);
    CHECK(!line_has_partial(lb));
    out_init(o);
    size_t off = 0;
    for (size_t i = 0; i <= n_cuts; i++) {
        size_t end = i < n_cuts ? cuts[i] : len;
        /* Each chunk in its own allocation, so ASan sees any read past it. */
        uint8_t *chunk = malloc(end - off + 1);
        if (chunk == NULL) {
            abort();
        }
        memcpy(chunk, in + off, end - off);
        feed_chunk(lb, chunk, end - off, o);
        free(chunk);
        off = end;
    }
    o->has_partial = line_has_partial(lb);
    line_close(lb);
    free(lb);
}

static bool out_same(const struct out *a, const struct out *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->text, b->text, a->len) == 0) &&
           a->n_lines == b->n_lines && a->overlong == b->overlong &&
           a->has_partial == b->has_partial && b->is_zero_copy_ok;
}

/* Feeds in every way and checks each result against the whole feed; returns the whole feed's
 * result in *whole (free with out_free). */
static void feed_every_way(const uint8_t *in, size_t len, bool is_pairs, struct out *whole)
{
    feed_cuts(in, len, NULL, 0, whole);
    CHECK(whole->is_zero_copy_ok);

    /* Byte by byte. */
    size_t *cuts = malloc((len + 1) * sizeof *cuts);
    if (cuts == NULL) {
        abort();
    }
    for (size_t i = 0; i < len; i++) {
        cuts[i] = i + 1;
    }
    struct out o;
    feed_cuts(in, len, cuts, len > 0 ? len - 1 : 0, &o);
    CHECK(out_same(whole, &o));
    out_free(&o);
    free(cuts);

    /* One cut at every offset, including empty chunks at both ends. */
    for (size_t i = 0; i <= len; i++) {
        size_t cut = i;
        feed_cuts(in, len, &cut, 1, &o);
        if (!out_same(whole, &o)) {
            fprintf(stderr, "  differs when cut at %zu\n", i);
            test_case_failed = 1;
        }
        out_free(&o);
    }

    /* Two cuts at every pair of offsets. */
    if (is_pairs) {
        for (size_t i = 0; i <= len; i++) {
            for (size_t j = i; j <= len; j++) {
                size_t two[2] = { i, j };
                feed_cuts(in, len, two, 2, &o);
                if (!out_same(whole, &o)) {
                    fprintf(stderr, "  differs when cut at %zu and %zu\n", i, j);
                    test_case_failed = 1;
                }
                out_free(&o);
            }
        }
    }
}

#define BYTES(lit) (const uint8_t *)(lit), sizeof(lit) - 1

struct split_case {
    const char *name;
    const uint8_t *in;
    size_t in_len;
    const uint8_t *lines; /* each line followed by LF */
    size_t lines_len;
    uint64_t overlong;
    bool has_partial;
};

static const struct split_case split_cases[] = {
    { "empty input", BYTES(""), BYTES(""), 0, false },
    { "one CRLF line", BYTES("EHLO a\r\n"), BYTES("EHLO a\n"), 0, false },
    { "bare LF ends a line", BYTES("USER bob\nPASS x\n"), BYTES("USER bob\nPASS x\n"), 0, false },
    { "mixed endings", BYTES("a\r\nb\nc\r\n"), BYTES("a\nb\nc\n"), 0, false },
    { "empty lines", BYTES("\r\n\n\r\n"), BYTES("\n\n\n"), 0, false },
    { "CR inside a line is content", BYTES("a\rb\r\n"), BYTES("a\rb\n"), 0, false },
    { "only the last CR is stripped", BYTES("a\r\r\n"), BYTES("a\r\n"), 0, false },
    { "lone CR is not a line end", BYTES("a\rb"), BYTES(""), 0, true },
    { "CR at end waits for LF", BYTES("abc\r"), BYTES(""), 0, true },
    { "partial line kept", BYTES("a\r\nbc"), BYTES("a\n"), 0, true },
    { "NUL bytes are content", BYTES("a\0b\r\n\0\n"), BYTES("a\0b\n\0\n"), 0, false },
    { "LF CR", BYTES("a\n\rb\n"), BYTES("a\n\rb\n"), 0, false },
    { "high bytes", BYTES("\xff\xfe\r\n"), BYTES("\xff\xfe\n"), 0, false },
    { "many lines", BYTES("1\r\n22\r\n333\r\n4444\r\n\r\n55555\n"),
      BYTES("1\n22\n333\n4444\n\n55555\n"), 0, false },
};

static void test_split_table(void)
{
    for (size_t i = 0; i < sizeof split_cases / sizeof split_cases[0]; i++) {
        const struct split_case *c = &split_cases[i];
        struct out o;
        feed_every_way(c->in, c->in_len, true, &o);
        CHECK(o.len == c->lines_len &&
              memcmp(o.text == NULL ? (const uint8_t *)"" : o.text, c->lines, c->lines_len) == 0);
        CHECK_EQ_U(o.overlong, c->overlong);
        CHECK(o.has_partial == c->has_partial);
        out_free(&o);
        CASE_DONE(c->name);
    }
}

/* Zero-copy: a line wholly inside the chunk is handed back in place; one spanning chunks
 * comes from the buffer. */
static void test_zero_copy(void)
{
    static const uint8_t in[] = "abc\r\ndef\r\n";
    struct line_buf lb;
    line_open(&lb, NULL);
    const uint8_t *p = in, *line = NULL;
    size_t len = sizeof in - 1, line_len = 0;
    uint64_t overlong = 0;

    line_init(&lb);
    CHECK(line_next(&lb, &p, &len, &line, &line_len, &overlong) == LINE_OK);
    CHECK(line == in);
    CHECK_MEM(line, line_len, "abc");
    CHECK(p == in + 5);
    CHECK_EQ_U(len, 5);
    CHECK(line_next(&lb, &p, &len, &line, &line_len, &overlong) == LINE_OK);
    CHECK(line == in + 5);
    CHECK_MEM(line, line_len, "def");
    CHECK_EQ_U(len, 0);
    CHECK(line_next(&lb, &p, &len, &line, &line_len, &overlong) == LINE_MORE);
    CHECK(!line_has_partial(&lb));

    /* "ab" then "c\n": the line comes from lb. */
    p = (const uint8_t *)"ab";
    len = 2;
    CHECK(line_next(&lb, &p, &len, &line, &line_len, &overlong) == LINE_MORE);
    CHECK(line_has_partial(&lb));
    p = (const uint8_t *)"c\nx";
    len = 3;
    CHECK(line_next(&lb, &p, &len, &line, &line_len, &overlong) == LINE_OK);
    CHECK(line == lb.buf);
    CHECK_MEM(line, line_len, "abc");
    CHECK_EQ_U(len, 1);
    CHECK(!line_has_partial(&lb));
    CHECK_EQ_U(overlong, 0);
    line_close(&lb);
}

/* A line of n content bytes ('x'), then the ending, then "ok\r\n". */
static uint8_t *make_long(size_t n, const char *ending, size_t *len)
{
    size_t el = strlen(ending);
    uint8_t *p = malloc(n + el + 4);
    if (p == NULL) {
        abort();
    }
    memset(p, 'x', n);
    memcpy(p + n, ending, el);
    memcpy(p + n + el, "ok\r\n", 4);
    *len = n + el + 4;
    return p;
}

struct limit_case {
    const char *name;
    size_t n;
    const char *ending;
    bool is_kept;
};

static const struct limit_case limit_cases[] = {
    { "limit: LINE_MAX_LEN - 1 with CR LF", LINE_MAX_LEN - 1, "\r\n", true },
    { "limit: LINE_MAX_LEN with CR LF", LINE_MAX_LEN, "\r\n", true },
    { "limit: LINE_MAX_LEN with LF", LINE_MAX_LEN, "\n", true },
    { "limit: LINE_MAX_LEN + 1 with CR LF", LINE_MAX_LEN + 1, "\r\n", false },
    { "limit: LINE_MAX_LEN + 1 with LF", LINE_MAX_LEN + 1, "\n", false },
    { "limit: LINE_MAX_LEN then CR CR LF", LINE_MAX_LEN, "\r\r\n", false },
    { "limit: LINE_MAX_LEN - 1 then CR CR LF", LINE_MAX_LEN - 1, "\r\r\n", true },
    { "limit: LINE_MAX_LEN then CR x LF", LINE_MAX_LEN, "\rx\n", false },
    { "limit: far past, LF", 3 * LINE_MAX_LEN + 7, "\n", false },
};

static void test_limit_table(void)
{
    for (size_t i = 0; i < sizeof limit_cases / sizeof limit_cases[0]; i++) {
        const struct limit_case *c = &limit_cases[i];
        size_t len;
        uint8_t *in = make_long(c->n, c->ending, &len);
        struct out o;
        feed_every_way(in, len, false, &o);
        if (c->is_kept) {
            size_t el = strlen(c->ending);
            size_t content = c->n + el - 1 - (el >= 2 && c->ending[el - 2] == '\r' ? 1 : 0);
            CHECK_EQ_U(o.n_lines, 2);
            CHECK_EQ_U(o.overlong, 0);
            CHECK_EQ_U(o.len, content + 1 + 3);
            CHECK(o.len == content + 4 && memcmp(o.text, in, content) == 0 &&
                  memcmp(o.text + content, "\nok\n", 4) == 0);
        } else {
            CHECK_EQ_U(o.n_lines, 1);
            CHECK_EQ_U(o.overlong, 1);
            CHECK(o.len == 3 && memcmp(o.text, "ok\n", 3) == 0);
        }
        CHECK(!o.has_partial);
        out_free(&o);
        free(in);
        CASE_DONE(c->name);
    }
}

/* An overlong line with no LF yet is counted at once and discarded until the LF; it is
 * counted once however it is chunked, and an unfinished one is still partial. */
static void test_overlong_unfinished(void)
{
    size_t len = LINE_MAX_LEN + 2;
    uint8_t *in = malloc(len);
    if (in == NULL) {
        abort();
    }
    memset(in, 'y', len);
    struct out o;
    feed_every_way(in, len, false, &o);
    CHECK_EQ_U(o.n_lines, 0);
    CHECK_EQ_U(o.overlong, 1);
    CHECK(o.has_partial);
    out_free(&o);

    /* Exactly LINE_MAX_LEN + a CR, unfinished: not yet overlong. */
    in[LINE_MAX_LEN] = '\r';
    feed_every_way(in, LINE_MAX_LEN + 1, false, &o);
    CHECK_EQ_U(o.overlong, 0);
    CHECK(o.has_partial);
    out_free(&o);

    /* LINE_MAX_LEN + 1 content bytes, unfinished: overlong already. */
    in[LINE_MAX_LEN] = 'y';
    feed_every_way(in, LINE_MAX_LEN + 1, false, &o);
    CHECK_EQ_U(o.overlong, 1);
    out_free(&o);
    free(in);
}

/* Two overlong lines in a row, with a good line between and after. */
static void test_overlong_twice(void)
{
    size_t n = LINE_MAX_LEN + 1;
    size_t len = 2 * n + 10;
    uint8_t *in = malloc(len);
    if (in == NULL) {
        abort();
    }
    memset(in, 'z', n);
    memcpy(in + n, "\r\n", 2);
    memcpy(in + n + 2, "a\n", 2);
    memset(in + n + 4, 'z', n);
    memcpy(in + 2 * n + 4, "\r\nbb\r\n", 6);
    struct out o;
    feed_every_way(in, len, false, &o);
    CHECK_EQ_U(o.overlong, 2);
    CHECK(o.len == 5 && memcmp(o.text, "a\nbb\n", 5) == 0);
    CHECK(!o.has_partial);
    out_free(&o);
    free(in);
}

static void test_resync(void)
{
    struct line_buf lb;
    line_open(&lb, NULL);
    const uint8_t *p, *line = NULL;
    size_t len, line_len = 0;
    uint64_t overlong = 0;

    /* A partial line is dropped, and the rest of the line after the gap too. */
    line_init(&lb);
    p = (const uint8_t *)"USER al";
    len = 7;
    CHECK(line_next(&lb, &p, &len, &line, &line_len, &overlong) == LINE_MORE);
    line_resync(&lb);
    CHECK(line_has_partial(&lb));
    p = (const uint8_t *)"ice\r\nPASS s\r\n";
    len = 13;
    CHECK(line_next(&lb, &p, &len, &line, &line_len, &overlong) == LINE_DROPPED);
    CHECK(line_next(&lb, &p, &len, &line, &line_len, &overlong) == LINE_OK);
    CHECK_MEM(line, line_len, "PASS s");
    CHECK(!line_has_partial(&lb));

    /* With nothing buffered, resync still discards up to the next LF: the gap may have
     * eaten the start of this line. */
    line_resync(&lb);
    p = (const uint8_t *)"tail\nnext\n";
    len = 10;
    CHECK(line_next(&lb, &p, &len, &line, &line_len, &overlong) == LINE_DROPPED);
    CHECK(line_next(&lb, &p, &len, &line, &line_len, &overlong) == LINE_OK);
    CHECK_MEM(line, line_len, "next");

    /* Discarding across chunks, LF in a later chunk. */
    line_resync(&lb);
    p = (const uint8_t *)"aaaa";
    len = 4;
    CHECK(line_next(&lb, &p, &len, &line, &line_len, &overlong) == LINE_MORE);
    p = (const uint8_t *)"\r";
    len = 1;
    CHECK(line_next(&lb, &p, &len, &line, &line_len, &overlong) == LINE_MORE);
    p = (const uint8_t *)"\nz\r\n";
    len = 4;
    CHECK(line_next(&lb, &p, &len, &line, &line_len, &overlong) == LINE_DROPPED);
    CHECK_EQ_U(len, 3); /* the boundary is shown: "z" is next */
    CHECK(line_next(&lb, &p, &len, &line, &line_len, &overlong) == LINE_OK);
    CHECK_MEM(line, line_len, "z");
    CHECK_EQ_U(overlong, 0);

    /* Resync during an overlong discard: still one count. */
    line_init(&lb);
    overlong = 0;
    uint8_t big[LINE_MAX_LEN + 5];
    memset(big, 'q', sizeof big);
    p = big;
    len = sizeof big;
    CHECK(line_next(&lb, &p, &len, &line, &line_len, &overlong) == LINE_MORE);
    CHECK_EQ_U(overlong, 1);
    line_resync(&lb);
    p = (const uint8_t *)"q\nok\n";
    len = 5;
    CHECK(line_next(&lb, &p, &len, &line, &line_len, &overlong) == LINE_DROPPED);
    CHECK(line_next(&lb, &p, &len, &line, &line_len, &overlong) == LINE_OK);
    CHECK_MEM(line, line_len, "ok");
    CHECK_EQ_U(overlong, 1);
    line_close(&lb);
}

/* line_init also resets a buffer in any state. */
static void test_init_resets(void)
{
    struct line_buf lb;
    line_open(&lb, NULL);
    const uint8_t *p = (const uint8_t *)"abc", *line = NULL;
    size_t len = 3, line_len = 0;
    uint64_t overlong = 0;

    line_init(&lb);
    CHECK(line_next(&lb, &p, &len, &line, &line_len, &overlong) == LINE_MORE);
    line_init(&lb);
    CHECK(!line_has_partial(&lb));
    line_resync(&lb);
    line_init(&lb);
    p = (const uint8_t *)"d\n";
    len = 2;
    CHECK(line_next(&lb, &p, &len, &line, &line_len, &overlong) == LINE_OK);
    CHECK_MEM(line, line_len, "d");

    /* An empty chunk (even a NULL one) is LINE_MORE and changes nothing. */
    p = NULL;
    len = 0;
    CHECK(line_next(&lb, &p, &len, &line, &line_len, &overlong) == LINE_MORE);
    CHECK(!line_has_partial(&lb));
    line_close(&lb);
}

struct word_case {
    const char *line;
    const char *word;
    bool is_match;
};

static const struct word_case word_cases[] = {
    { "AUTH PLAIN", "AUTH", true },
    { "auth plain", "AUTH", true },
    { "AuTh", "AUTH", true },
    { "AUTH", "AUTH", true },
    { "AUTHX", "AUTH", false },
    { "AUT", "AUTH", false },
    { "", "AUTH", false },
    { "AUTH\tPLAIN", "AUTH", false },
    { " AUTH", "AUTH", false },
    { "MAIL FROM:<a@b>", "MAIL", true },
    { "STARTTLS", "STARTTLS", true },
    { "starttls ", "STARTTLS", true },
    { "X", "", false },
    { "", "", true },
    { " x", "", true },
    { "\xc1UTH", "AUTH", false }, /* no Latin-1 case folding */
    { "@UTH", "AUTH", false },    /* '@' is 'A' - 1: no off-by-one folding */
    { "[UTH", "AUTH", false },
};

/* is_crlf after each line, whatever the chunking: CR LF, bare LF, a CR and its LF in two
 * chunks, an overlong line dropped with either ending, and the end of a resync. */
static void test_is_crlf(void)
{
    static uint8_t big[LINE_MAX_LEN + 10];
    memset(big, 'x', sizeof big);
    struct {
        const char *chunk; /* NULL: big, the overlong line's bytes */
        enum line_status want;
        bool want_crlf;
    } steps[] = {
        { "a\r\n", LINE_OK, true }, { "b\n", LINE_OK, false },     { "c\r", LINE_MORE, false },
        { "\n", LINE_OK, true },    { NULL, LINE_MORE, false },    { "\r\n", LINE_DROPPED, true },
        { NULL, LINE_MORE, false }, { "\r", LINE_MORE, false },    { "\n", LINE_DROPPED, true },
        { NULL, LINE_MORE, false }, { "\n", LINE_DROPPED, false }, { "d\n", LINE_OK, false },
    };
    struct line_buf lb;
    line_open(&lb, NULL);
    line_init(&lb);
    uint64_t overlong = 0;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        const uint8_t *p = steps[i].chunk != NULL ? (const uint8_t *)steps[i].chunk : big;
        size_t n = steps[i].chunk != NULL ? strlen(steps[i].chunk) : sizeof big;
        const uint8_t *line = NULL;
        size_t line_len = 0;
        enum line_status st = line_next(&lb, &p, &n, &line, &line_len, &overlong);
        CHECK_EQ_U(st, steps[i].want);
        if (st != LINE_MORE) {
            CHECK_EQ_U(lb.is_crlf, steps[i].want_crlf);
        }
    }
    CHECK_EQ_U(overlong, 3);
    /* After a resync the line's end is read from what follows it. */
    line_resync(&lb);
    const uint8_t *p = (const uint8_t *)"tail\r";
    size_t n = 5;
    const uint8_t *line = NULL;
    size_t line_len = 0;
    CHECK_EQ_U(line_next(&lb, &p, &n, &line, &line_len, &overlong), LINE_MORE);
    p = (const uint8_t *)"\n";
    n = 1;
    CHECK_EQ_U(line_next(&lb, &p, &n, &line, &line_len, &overlong), LINE_DROPPED);
    CHECK(lb.is_crlf);
    line_close(&lb);
}

static void test_is_word(void)
{
    for (size_t i = 0; i < sizeof word_cases / sizeof word_cases[0]; i++) {
        const struct word_case *c = &word_cases[i];
        size_t len = strlen(c->line);
        uint8_t *copy = malloc(len + 1); /* exact size: ASan catches a read past it */
        if (copy == NULL) {
            abort();
        }
        memcpy(copy, c->line, len);
        if (line_is_word(copy, len, c->word) != c->is_match) {
            fprintf(stderr, "  line_is_word(\"%s\", \"%s\")\n", c->line, c->word);
            test_case_failed = 1;
        }
        free(copy);
    }
    /* The word may be a prefix of a longer buffer: only len bytes count. */
    CHECK(line_is_word((const uint8_t *)"QUITX", 4, "QUIT"));
    CHECK(!line_is_word((const uint8_t *)"QUIT", 3, "QUIT"));
}

struct token_case {
    const char *line;
    const char *tokens; /* expected tokens, each followed by '|' */
};

static const struct token_case token_cases[] = {
    { "a b c", "a|b|c|" },
    { "  a   b  ", "a|b|" },
    { "", "" },
    { "   ", "" },
    { "one", "one|" },
    { "A1 LOGIN \"x y\" z", "A1|LOGIN|\"x|y\"|z|" },
    { "tab\tis not space", "tab\tis|not|space|" },
};

static void test_token(void)
{
    for (size_t i = 0; i < sizeof token_cases / sizeof token_cases[0]; i++) {
        const struct token_case *c = &token_cases[i];
        size_t len = strlen(c->line);
        char got[64] = "";
        size_t got_len = 0, off = 0;
        const uint8_t *tok = NULL;
        size_t tok_len = 0;
        size_t n = 0;
        while (line_token((const uint8_t *)c->line, len, &off, &tok, &tok_len)) {
            CHECK(tok_len > 0);
            CHECK(tok >= (const uint8_t *)c->line &&
                  tok + tok_len <= (const uint8_t *)c->line + len);
            CHECK(off <= len);
            if (got_len + tok_len + 2 <= sizeof got) {
                memcpy(got + got_len, tok, tok_len);
                got_len += tok_len;
                got[got_len++] = '|';
                got[got_len] = '\0';
            }
            if (++n > len) {
                break;
            }
        }
        CHECK_EQ_U(off, len);
        if (strcmp(got, c->tokens) != 0) {
            fprintf(stderr, "  line_token(\"%s\") gave \"%s\"\n", c->line, got);
            test_case_failed = 1;
        }
    }
    /* off moves past the token and the spaces after it, so the rest is the argument. */
    const uint8_t *line = (const uint8_t *)"AUTH  PLAIN  dGVzdA==";
    size_t off = 0, tok_len = 0;
    const uint8_t *tok = NULL;
    CHECK(line_token(line, 21, &off, &tok, &tok_len));
    CHECK_MEM(tok, tok_len, "AUTH");
    CHECK_EQ_U(off, 6);
    CHECK(line_token(line, 21, &off, &tok, &tok_len));
    CHECK_MEM(tok, tok_len, "PLAIN");
    CHECK_EQ_U(off, 13);
    /* An offset at or past the end: nothing left. */
    off = 21;
    CHECK(!line_token(line, 21, &off, &tok, &tok_len));
    off = 30;
    CHECK(!line_token(line, 21, &off, &tok, &tok_len));
}

/* The buffer is made only when a line spans chunks, grows no further than a line needs, and
 * its heap cost is in the gauge until it is closed. */
static void test_buffer_on_demand(void)
{
    size_t gauge = 0;
    struct line_buf lb;
    line_open(&lb, &gauge);
    const uint8_t *p = (const uint8_t *)"a whole line\r\n", *line = NULL;
    size_t len = 14, line_len = 0;
    uint64_t overlong = 0;
    CHECK(line_next(&lb, &p, &len, &line, &line_len, &overlong) == LINE_OK);
    CHECK(lb.buf == NULL && gauge == 0); /* whole in its chunk: nothing made */
    p = (const uint8_t *)"PASS s3";
    len = 7;
    CHECK(line_next(&lb, &p, &len, &line, &line_len, &overlong) == LINE_MORE);
    CHECK(lb.buf != NULL && lb.cap == LINE_FIRST_CAP && gauge > LINE_FIRST_CAP);
    p = (const uint8_t *)"cret\r\n";
    len = 6;
    CHECK(line_next(&lb, &p, &len, &line, &line_len, &overlong) == LINE_OK);
    CHECK_MEM(line, line_len, "PASS s3cret");
    /* A long line spanning chunks grows it, to the limit at most. */
    static uint8_t big[LINE_MAX_LEN];
    memset(big, 'x', sizeof big);
    p = big;
    len = sizeof big;
    CHECK(line_next(&lb, &p, &len, &line, &line_len, &overlong) == LINE_MORE);
    CHECK(lb.cap >= LINE_MAX_LEN && lb.cap <= LINE_BUF_MAX);
    p = (const uint8_t *)"\n";
    len = 1;
    CHECK(line_next(&lb, &p, &len, &line, &line_len, &overlong) == LINE_OK);
    CHECK_EQ_U(line_len, LINE_MAX_LEN);
    line_close(&lb);
    CHECK_EQ_U(gauge, 0);
    CHECK(lb.buf == NULL && lb.cap == 0);
    line_close(&lb); /* twice is harmless */
    CHECK_EQ_U(gauge, 0);
}

int main(void)
{
    RUN(test_buffer_on_demand);
    test_split_table();
    RUN(test_zero_copy);
    test_limit_table();
    RUN(test_overlong_unfinished);
    RUN(test_overlong_twice);
    RUN(test_resync);
    RUN(test_init_resets);
    RUN(test_is_crlf);
    RUN(test_is_word);
    RUN(test_token);
    return TEST_SUMMARY();
}
