/* fuzz_util.c - helpers shared by the libFuzzer targets (see fuzz_util.h).
 *
 * The JSON checker is a strict recursive-descent reader of RFC 8259 (objects, arrays, strings
 * with their escapes, numbers, literals) over raw bytes, with a depth limit, plus an RFC 3629
 * UTF-8 check of every string byte: sink_json promises one valid JSON object per line whatever
 * the network sent, and this is the oracle for that promise. */
#include "fuzz_util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ps.h"
#include "sink_json.h"

/* Files named through fuzz_temp_path, removed at exit. */
#define FUZZ_MAX_TEMP_FILES 8
/* Deepest JSON nesting accepted; sink_json writes 3 levels. */
#define FUZZ_JSON_MAX_DEPTH 16

static char temp_dir[256];
static char temp_path[320];
static char temp_files[FUZZ_MAX_TEMP_FILES][320];
static size_t n_temp_files;

static struct sink_json *json_sink;
static int json_fd = -1;
static char json_path[320];

_Noreturn void fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz: check failed: %s\n", what);
    fflush(stderr);
    abort();
}

/* Where fuzz_touch leaves its result, so its reads are not optimised away. */
static volatile uint8_t touch_sink;

FUZZ_NO_COVERAGE void fuzz_touch(const uint8_t *p, size_t len)
{
    uint8_t x = 0;
    for (size_t i = 0; i < len; i++) {
        x = (uint8_t)(x ^ p[i]);
    }
    touch_sink = x;
}

static void temp_cleanup(void)
{
    for (size_t i = 0; i < n_temp_files; i++) {
        unlink(temp_files[i]);
    }
    if (temp_dir[0] != '\0') {
        rmdir(temp_dir);
    }
}

const char *fuzz_temp_path(const char *name)
{
    if (temp_dir[0] == '\0') {
        const char *base = getenv("TMPDIR");
        if (base == NULL || base[0] == '\0' || strlen(base) > 200) {
            base = "/tmp";
        }
        snprintf(temp_dir, sizeof temp_dir, "%s/plainsight-fuzz-XXXXXX", base);
        if (mkdtemp(temp_dir) == NULL) {
            perror("fuzz: mkdtemp");
            abort();
        }
        atexit(temp_cleanup);
    }
    snprintf(temp_path, sizeof temp_path, "%s/%s", temp_dir, name);
    for (size_t i = 0; i < n_temp_files; i++) {
        if (strcmp(temp_files[i], temp_path) == 0) {
            return temp_path;
        }
    }
    if (n_temp_files == FUZZ_MAX_TEMP_FILES) {
        fuzz_fail("too many temporary files");
    }
    snprintf(temp_files[n_temp_files++], sizeof temp_files[0], "%s", temp_path);
    return temp_path;
}

/* ---- JSON ---- */

struct jr {
    const uint8_t *p;
    size_t len, off;
};

static bool jr_more(const struct jr *j)
{
    return j->off < j->len;
}

static uint8_t jr_peek(const struct jr *j)
{
    return jr_more(j) ? j->p[j->off] : 0;
}

static void jr_ws(struct jr *j)
{
    /* RFC 8259 section 2: ws is space, tab, LF, CR; LF ends our lines, so it is not allowed. */
    while (jr_more(j) && (j->p[j->off] == ' ' || j->p[j->off] == '\t' || j->p[j->off] == '\r')) {
        j->off++;
    }
}

static bool jr_lit(struct jr *j, const char *lit)
{
    size_t n = strlen(lit);
    if (j->len - j->off < n || memcmp(j->p + j->off, lit, n) != 0) {
        return false;
    }
    j->off += n;
    return true;
}

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

static bool is_hex(uint8_t c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Length of the valid UTF-8 sequence at p[0..len) (RFC 3629 section 4), 0 if none. */
static size_t utf8_seq(const uint8_t *p, size_t len)
{
    uint8_t c = p[0];
    if (c < 0x80) {
        return 1;
    }
    size_t n;
    uint8_t lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c == 0xe0) {
        n = 3;
        lo = 0xa0;
    } else if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef) {
        n = 3;
    } else if (c == 0xed) {
        n = 3;
        hi = 0x9f;
    } else if (c == 0xf0) {
        n = 4;
        lo = 0x90;
    } else if (c >= 0xf1 && c <= 0xf3) {
        n = 4;
    } else if (c == 0xf4) {
        n = 4;
        hi = 0x8f;
    } else {
        return 0;
    }
    if (len < n || p[1] < lo || p[1] > hi) {
        return 0;
    }
    for (size_t i = 2; i < n; i++) {
        if (p[i] < 0x80 || p[i] > 0xbf) {
            return 0;
        }
    }
    return n;
}

static bool jr_string(struct jr *j)
{
    if (jr_peek(j) != '"') {
        return false;
    }
    j->off++;
    while (jr_more(j)) {
        uint8_t c = j->p[j->off];
        if (c == '"') {
            j->off++;
            return true;
        }
        if (c < 0x20) {
            return false;
        }
        if (c == '\\') {
            j->off++;
            if (!jr_more(j)) {
                return false;
            }
            uint8_t e = j->p[j->off++];
            if (e == 'u') {
                for (int i = 0; i < 4; i++) {
                    if (!jr_more(j) || !is_hex(j->p[j->off])) {
                        return false;
                    }
                    j->off++;
                }
            } else if (strchr("\"\\/bfnrt", e) == NULL || e == '\0') {
                return false;
            }
            continue;
        }
        size_t n = utf8_seq(j->p + j->off, j->len - j->off);
        if (n == 0) {
            return false;
        }
        j->off += n;
    }
    return false;
}

static bool jr_number(struct jr *j)
{
    if (jr_peek(j) == '-') {
        j->off++;
    }
    if (jr_peek(j) == '0') {
        j->off++;
    } else if (is_digit(jr_peek(j))) {
        while (is_digit(jr_peek(j))) {
            j->off++;
        }
    } else {
        return false;
    }
    if (jr_peek(j) == '.') {
        j->off++;
        if (!is_digit(jr_peek(j))) {
            return false;
        }
        while (is_digit(jr_peek(j))) {
            j->off++;
        }
    }
    if (jr_peek(j) == 'e' || jr_peek(j) == 'E') {
        j->off++;
        if (jr_peek(j) == '+' || jr_peek(j) == '-') {
            j->off++;
        }
        if (!is_digit(jr_peek(j))) {
            return false;
        }
        while (is_digit(jr_peek(j))) {
            j->off++;
        }
    }
    return true;
}

static bool jr_value(struct jr *j, int depth);

static bool jr_object(struct jr *j, int depth)
{
    j->off++; /* { */
    jr_ws(j);
    if (jr_peek(j) == '}') {
        j->off++;
        return true;
    }
    for (;;) {
        jr_ws(j);
        if (!jr_string(j)) {
            return false;
        }
        jr_ws(j);
        if (jr_peek(j) != ':') {
            return false;
        }
        j->off++;
        if (!jr_value(j, depth + 1)) {
            return false;
        }
        jr_ws(j);
        if (jr_peek(j) == ',') {
            j->off++;
            continue;
        }
        if (jr_peek(j) == '}') {
            j->off++;
            return true;
        }
        return false;
    }
}

static bool jr_array(struct jr *j, int depth)
{
    j->off++; /* [ */
    jr_ws(j);
    if (jr_peek(j) == ']') {
        j->off++;
        return true;
    }
    for (;;) {
        if (!jr_value(j, depth + 1)) {
            return false;
        }
        jr_ws(j);
        if (jr_peek(j) == ',') {
            j->off++;
            continue;
        }
        if (jr_peek(j) == ']') {
            j->off++;
            return true;
        }
        return false;
    }
}

static bool jr_value(struct jr *j, int depth)
{
    if (depth > FUZZ_JSON_MAX_DEPTH) {
        return false;
    }
    jr_ws(j);
    switch (jr_peek(j)) {
    case '{':
        return jr_object(j, depth);
    case '[':
        return jr_array(j, depth);
    case '"':
        return jr_string(j);
    case 't':
        return jr_lit(j, "true");
    case 'f':
        return jr_lit(j, "false");
    case 'n':
        return jr_lit(j, "null");
    default:
        return jr_number(j);
    }
}

bool fuzz_json_lines_valid(const uint8_t *text, size_t len)
{
    size_t off = 0;
    while (off < len) {
        const uint8_t *lf = memchr(text + off, '\n', len - off);
        if (lf == NULL) {
            return false; /* every line ends in LF */
        }
        struct jr j = { text + off, (size_t)(lf - (text + off)), 0 };
        jr_ws(&j);
        if (jr_peek(&j) != '{' || !jr_object(&j, 0)) {
            return false;
        }
        jr_ws(&j);
        if (jr_more(&j)) {
            return false;
        }
        off = (size_t)(lf - text) + 1;
    }
    return true;
}

struct sink_json *fuzz_json_sink(void)
{
    if (json_sink == NULL) {
        snprintf(json_path, sizeof json_path, "%s", fuzz_temp_path("sessions.json"));
        char err[512];
        if (sink_json_open(json_path, true, &json_sink, err, sizeof err) != PS_OK) {
            fprintf(stderr, "fuzz: %s\n", err);
            abort();
        }
        json_fd = open(json_path, O_RDWR | O_CLOEXEC);
        if (json_fd < 0) {
            perror("fuzz: open");
            abort();
        }
    }
    return json_sink;
}

size_t fuzz_json_check(void)
{
    if (json_sink == NULL) {
        return 0;
    }
    FUZZ_CHECK(sink_json_flush(json_sink) == PS_OK);
    struct stat sb;
    if (fstat(json_fd, &sb) != 0) {
        perror("fuzz: fstat");
        abort();
    }
    size_t len = (size_t)sb.st_size;
    if (len == 0) {
        return 0;
    }
    uint8_t *buf = malloc(len);
    FUZZ_CHECK(buf != NULL);
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(json_fd, buf + got, len - got, (off_t)got);
        if (n <= 0) {
            perror("fuzz: pread");
            abort();
        }
        got += (size_t)n;
    }
    if (!fuzz_json_lines_valid(buf, len)) {
        fwrite(buf, 1, len, stderr);
        fuzz_fail("sink_json wrote a line that is not one valid JSON object");
    }
    size_t lines = 0;
    for (size_t i = 0; i < len; i++) {
        lines += buf[i] == '\n';
    }
    free(buf);
    /* The sink's stream is flushed and appends, so it writes at the new end. */
    if (ftruncate(json_fd, 0) != 0) {
        perror("fuzz: ftruncate");
        abort();
    }
    return lines;
}
