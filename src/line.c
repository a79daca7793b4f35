/* line.c - line splitting and word/token helpers shared by the SMTP, POP3 and IMAP parsers.
 *
 * Mail protocols end lines with CR LF (RFC 5321 section 2.3.8, RFC 1939 section 3, RFC 9051
 * section 2.2); real clients and servers also send a bare LF, so LF alone ends a line and a CR
 * is stripped only when it comes right before the LF (a CR elsewhere is line content). A line
 * lying wholly in the caller's chunk is handed back in place; one spanning chunks is gathered in
 * the line_buf. The limit LINE_MAX_LEN applies to the content without CR LF, whatever the
 * chunking: a longer line is counted once and dropped up to its LF, never handed on in pieces.
 * The buffer keeps one byte more than the limit so that a trailing CR can wait for its LF. */
#include "line.h"

#include <stdlib.h>
#include <string.h>

#include "ps.h"

void line_open(struct line_buf *lb, size_t *mem)
{
    memset(lb, 0, sizeof *lb);
    lb->mem = mem;
}

void line_close(struct line_buf *lb)
{
    if (lb->buf != NULL) {
        explicit_bzero(lb->buf, lb->hwm);
        free(lb->buf);
        if (lb->mem != NULL) {
            *lb->mem -= PS_HEAP_COST(lb->cap);
        }
    }
    line_open(lb, lb->mem);
}

/* Makes room for need bytes in the buffer (need <= LINE_BUF_MAX), growing it by doubling;
 * what was written is kept and the old block wiped. */
static void reserve(struct line_buf *lb, size_t need)
{
    if (need <= lb->cap) {
        return;
    }
    size_t cap = lb->cap > 0 ? lb->cap : LINE_FIRST_CAP;
    while (cap < need) {
        cap *= 2;
    }
    if (cap > LINE_BUF_MAX) {
        cap = LINE_BUF_MAX;
    }
    /* Not realloc: the old block may hold a secret, and is wiped before it goes back. */
    uint8_t *b = xmalloc(cap);
    if (lb->buf != NULL) {
        memcpy(b, lb->buf, lb->len);
        explicit_bzero(lb->buf, lb->hwm);
        free(lb->buf);
    }
    if (lb->mem != NULL) {
        *lb->mem += PS_HEAP_COST(cap) - (lb->cap > 0 ? PS_HEAP_COST(lb->cap) : 0);
    }
    lb->buf = b;
    lb->cap = cap;
    lb->hwm = lb->len;
}

void line_init(struct line_buf *lb)
{
    /* hwm stays: what the buffer held is still to be wiped when it is closed. */
    lb->len = 0;
    lb->is_discarding = false;
    lb->is_cr_last = false;
    lb->is_crlf = false;
}

void line_wipe(struct line_buf *lb)
{
    if (lb->buf != NULL) {
        explicit_bzero(lb->buf, lb->hwm);
    }
    lb->hwm = 0;
    line_init(lb);
}

void line_state_free(void *state, size_t size, struct line_buf lb[2])
{
    line_close(&lb[0]);
    line_close(&lb[1]);
    /* The rest of the state, around the buffers (which line_wipe cleared as far as used). */
    uint8_t *o = state;
    size_t before = (size_t)((uint8_t *)lb - o);
    size_t after = before + 2 * sizeof lb[0];
    explicit_bzero(o, before);
    explicit_bzero(o + after, size - after);
    free(state);
}

/* Length of the content of a raw line of len bytes (LF excluded): a final CR is not content. */
static size_t content_len(const uint8_t *p, size_t len)
{
    if (len > 0 && p[len - 1] == '\r') {
        return len - 1;
    }
    return len;
}

/* Switches to discarding the rest of an overlong line (up to its LF, unless that LF was
 * already consumed) and counts it. */
static void drop_overlong(struct line_buf *lb, bool is_lf_seen, uint64_t *overlong)
{
    lb->len = 0;
    lb->is_discarding = !is_lf_seen;
    (*overlong)++;
}

/* Whether the raw bytes before an LF, seg of them at p, end in CR; with none, whether the byte
 * before them did (prev_cr). */
static bool ends_in_cr(const uint8_t *p, size_t seg, bool prev_cr)
{
    return seg > 0 ? p[seg - 1] == '\r' : prev_cr;
}

enum line_status line_next(struct line_buf *lb, const uint8_t **data, size_t *len,
                           const uint8_t **line, size_t *line_len, uint64_t *overlong)
{
    while (*len > 0) {
        const uint8_t *p = *data;
        const uint8_t *lf = memchr(p, '\n', *len);
        size_t seg = lf != NULL ? (size_t)(lf - p) : *len; /* bytes before the LF */
        size_t used = lf != NULL ? seg + 1 : seg;

        *data += used;
        *len -= used;

        if (lb->is_discarding) {
            if (lf != NULL) {
                lb->is_discarding = false;
                lb->is_crlf = ends_in_cr(p, seg, lb->is_cr_last);
                return LINE_DROPPED;
            }
            lb->is_cr_last = ends_in_cr(p, seg, lb->is_cr_last);
            continue;
        }

        if (lb->len == 0 && lf != NULL) {
            /* The whole line is in the chunk: no copy. */
            size_t n = content_len(p, seg);
            lb->is_crlf = n < seg;
            if (n > LINE_MAX_LEN) {
                drop_overlong(lb, true, overlong);
                return LINE_DROPPED;
            }
            *line = p;
            *line_len = n;
            return LINE_OK;
        }

        /* The line spans chunks: gather it. The buffer holds raw bytes (a final CR included),
         * at most LINE_MAX_LEN + 1 of them. */
        if (seg > LINE_BUF_MAX - lb->len) {
            drop_overlong(lb, lf != NULL, overlong);
            lb->is_cr_last = ends_in_cr(p, seg, false);
            if (lf != NULL) {
                lb->is_crlf = lb->is_cr_last;
                return LINE_DROPPED;
            }
            continue;
        }
        reserve(lb, lb->len + seg);
        if (seg > 0) {
            memcpy(lb->buf + lb->len, p, seg);
        }
        lb->len += seg;
        if (lb->len > lb->hwm) {
            lb->hwm = lb->len;
        }

        if (lf == NULL) {
            /* Only a CR may sit in the extra byte; anything else already passes the limit. */
            if (lb->len > LINE_MAX_LEN && lb->buf[lb->len - 1] != '\r') {
                drop_overlong(lb, false, overlong);
                lb->is_cr_last = false; /* its last byte is not a CR, or it would be kept */
            }
            continue;
        }

        size_t n = content_len(lb->buf, lb->len);
        lb->is_crlf = n < lb->len;
        lb->len = 0;
        if (n > LINE_MAX_LEN) {
            drop_overlong(lb, true, overlong);
            return LINE_DROPPED;
        }
        *line = lb->buf;
        *line_len = n;
        return LINE_OK;
    }
    return LINE_MORE;
}

void line_resync(struct line_buf *lb)
{
    lb->len = 0;
    lb->is_discarding = true;
    lb->is_cr_last = false;
}

enum line_prefix line_prefix(const uint8_t *p, size_t len, const char *w)
{
    size_t i = 0;
    for (; w[i] != '\0'; i++) {
        if (i == len) {
            return LINE_PREFIX_SHORT;
        }
        if (line_upper(p[i]) != (uint8_t)w[i]) {
            return LINE_PREFIX_NO;
        }
    }
    return LINE_PREFIX_YES;
}

bool line_is_word(const uint8_t *line, size_t len, const char *w)
{
    /* w is our own NUL-terminated literal, never wire bytes. */
    size_t wl = strlen(w);

    if (!line_has_prefix(line, len, w)) {
        return false;
    }
    return len == wl || line[wl] == ' ';
}

bool line_token(const uint8_t *line, size_t len, size_t *off, const uint8_t **tok, size_t *tok_len)
{
    size_t i = *off;

    while (i < len && line[i] == ' ') {
        i++;
    }
    if (i >= len) {
        *off = len;
        return false;
    }
    size_t start = i;
    while (i < len && line[i] != ' ') {
        i++;
    }
    *tok = line + start;
    *tok_len = i - start;
    while (i < len && line[i] == ' ') {
        i++;
    }
    *off = i;
    return true;
}
