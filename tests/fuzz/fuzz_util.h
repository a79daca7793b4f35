/* fuzz_util.h - helpers shared by the libFuzzer targets: failing loudly, a file private to the
 * process, and a JSON Lines checker for what sink_json writes.
 *
 * A target that finds a broken contract calls fuzz_fail: it prints the reason and aborts, so
 * libFuzzer reports the crash and saves the input like any sanitizer finding. */
#ifndef PLAINSIGHT_FUZZ_UTIL_H
#define PLAINSIGHT_FUZZ_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sink_json;

/* On the harness's own byte loops (filling and checking payloads): coverage instrumentation
 * there only slows the run and tells libFuzzer nothing about the code under test. Not inlined,
 * or the caller's instrumentation would cover the loop anyway. */
#define FUZZ_NO_COVERAGE __attribute__((no_sanitize("coverage"), noinline))

/* Prints "fuzz: check failed: what" on stderr and aborts. */
_Noreturn void fuzz_fail(const char *what);

#define FUZZ_STR2(x) #x
#define FUZZ_STR(x)  FUZZ_STR2(x)
/* Aborts, naming the file, the line and the condition, when cond is false. */
#define FUZZ_CHECK(cond) ((cond) ? (void)0 : fuzz_fail(__FILE__ ":" FUZZ_STR(__LINE__) ": " #cond))

/* Reads every byte of p[0..len), so ASan checks that a view handed out is real memory. */
void fuzz_touch(const uint8_t *p, size_t len);

/* Returns the path of the file called name inside a directory private to this process (under
 * $TMPDIR, else /tmp), created on first use; every file named through here and the directory
 * are removed at exit. name must be short and contain no slash. Returns a static buffer, valid
 * until the next call. */
const char *fuzz_temp_path(const char *name);

/* Whether text[0..len) is zero or more lines, each an RFC 8259 JSON object followed by LF, in
 * valid UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF). */
bool fuzz_json_lines_valid(const uint8_t *text, size_t len);

/* A JSON sink (reveal on, so secrets are escaped too) writing into a private file, opened on
 * first use and kept for the life of the process. */
struct sink_json *fuzz_json_sink(void);

/* Flushes the sink, checks that what it wrote since the last call is valid JSON Lines
 * (fuzz_fail if not) and empties the file. Returns the number of lines checked. */
size_t fuzz_json_check(void);

#endif
