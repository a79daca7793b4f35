/* log.c - operator messages on stderr, and escaping of wire bytes for display. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

static int log_quiet;

void log_set_quiet(int is_quiet)
{
    log_quiet = is_quiet;
}

static void log_v(const char *level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void log_v(const char *level, const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    fprintf(stderr, "plainsight: %s%s\n", level, msg);
}

void log_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_v("error: ", fmt, ap);
    va_end(ap);
}

void log_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_v("warning: ", fmt, ap);
    va_end(ap);
}

void log_info(const char *fmt, ...)
{
    if (log_quiet) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    log_v("", fmt, ap);
    va_end(ap);
}

char *log_escape(char *out, size_t cap, const uint8_t *bytes, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;

    if (cap == 0) {
        return out;
    }
    for (size_t i = 0; i < len; i++) {
        uint8_t b = bytes[i];
        char tmp[4];
        size_t n;
        if (b == '\\') {
            tmp[0] = '\\';
            tmp[1] = '\\';
            n = 2;
        } else if (b >= 0x20 && b < 0x7f && b != '"') {
            tmp[0] = (char)b;
            n = 1;
        } else {
            tmp[0] = '\\';
            tmp[1] = 'x';
            tmp[2] = hex[b >> 4];
            tmp[3] = hex[b & 0xf];
            n = 4;
        }
        /* Keep room for "..." and the NUL when more input remains. */
        if (o + n + 4 > cap && i + 1 < len) {
            size_t k = o;
            while (k + 4 > cap && k > 0) {
                k--;
            }
            for (size_t d = 0; d < 3 && k + 1 < cap; d++) {
                out[k++] = '.';
            }
            out[k] = '\0';
            return out;
        }
        if (o + n + 1 > cap) {
            break;
        }
        for (size_t k = 0; k < n; k++) {
            out[o++] = tmp[k];
        }
    }
    out[o] = '\0';
    return out;
}
