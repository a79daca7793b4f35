/* log.h - messages to stderr for the operator, and escaping of wire bytes for display. */
#ifndef PLAINSIGHT_LOG_H
#define PLAINSIGHT_LOG_H

#include <stddef.h>
#include <stdint.h>

/* Print "plainsight: error: ..." (or warning/note) and a newline on stderr. Never called per
 * packet for bad input: bad input is counted. */
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Quiet mode drops log_info. */
void log_set_quiet(int is_quiet);

/* Writes bytes into out as printable ASCII: bytes 0x20..0x7e except backslash and double
 * quote as themselves, everything else as \xHH (backslash as \\), so escaped text can stand
 * between quotes without ending them early. Always NUL-terminates when cap > 0; truncates
 * (ending in "...") when out is too small. Returns out. Borrows both buffers. */
char *log_escape(char *out, size_t cap, const uint8_t *bytes, size_t len);

#endif
