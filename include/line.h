/* line.h - splitting a byte stream into protocol lines, shared by the parsers.
 *
 * A struct line_buf belongs to one direction of one session. line_next takes bytes from the
 * caller's chunk until a line is complete and hands it back without its CR LF (a bare LF also
 * ends a line; is_crlf tells which ended it), zero-copy when the whole line lies in the chunk,
 * copied into the buffer when it spans chunks. A line longer than LINE_MAX_LEN is discarded up to
 * its LF and counted: the caller never sees part of one as if it were whole. */
#ifndef PLAINSIGHT_LINE_H
#define PLAINSIGHT_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tunables.h"

/* The gathering buffer's sizes: the first, doubled as a longer line needs it, and the
 * largest (+ 1: a line of exactly LINE_MAX_LEN bytes may end in a CR whose LF is in the next
 * chunk). */
#define LINE_FIRST_CAP 256u
#define LINE_BUF_MAX   (LINE_MAX_LEN + 1u)

struct line_buf {
    /* Owned; NULL until a line spans chunks. Most lines lie whole in one segment and are
     * handed back in place, so most sessions never make one, and a session's state stays a
     * few KiB instead of two LINE_MAX_LEN buffers. */
    uint8_t *buf;
    size_t cap;  /* allocated of buf */
    size_t *mem; /* the run's gauge of these buffers' heap cost (borrowed; NULL: none) */
    size_t len;
    size_t hwm;         /* bytes of buf ever written: what line_wipe must clear */
    bool is_discarding; /* inside an overlong line or after a gap: drop bytes up to LF */
    bool is_cr_last;    /* discarding: the last byte dropped was a CR */
    bool is_crlf;       /* the line just ended (LINE_OK or LINE_DROPPED) ended in CR LF rather
                           than a bare LF; after a resync, a CR that came before the resync
                           does not count */
};

enum line_status {
    LINE_MORE = 0, /* the chunk is used up; no complete line */
    LINE_OK,       /* *line, *line_len hold a complete line */
    LINE_DROPPED,  /* an overlong line (or the rest of one after a gap) was dropped up to its
                      LF; the chunk goes on after it: call again. Returned so a caller sees
                      every line boundary, whatever the chunking. */
};

/* Makes *lb (any bytes) an empty buffer with nothing allocated, whose growth is added to *mem
 * (when mem is not NULL; for the memory cap) and released by line_close. */
void line_open(struct line_buf *lb, size_t *mem);

/* Sets *lb empty and not discarding, keeping what it allocated. */
void line_init(struct line_buf *lb);

/* Wipes and frees what *lb allocated, releasing it from the gauge; *lb is then as line_open
 * left it. */
void line_close(struct line_buf *lb);

/* Consumes bytes from the front of *data / *len (advancing them) until one line is complete
 * or a dropped one ends (LINE_DROPPED). On LINE_OK *line points at the line (into the chunk or into
 * lb; valid until the next call on lb or until the chunk goes away) and *line_len is its length
 * without CR LF. On LINE_MORE the whole chunk was consumed and a partial line is buffered.
 * *overlong is incremented for every overlong line discarded. */
enum line_status line_next(struct line_buf *lb, const uint8_t **data, size_t *len,
                           const uint8_t **line, size_t *line_len, uint64_t *overlong);

/* Clears every byte the buffer ever held (a secret may have passed through it) and empties
 * it; cheaper than clearing the whole buffer when lines rarely span chunks. */
void line_wipe(struct line_buf *lb);

/* Frees a parser's state, size bytes at state holding its two line buffers at lb: closes the
 * buffers (clearing what they ever held) and clears every other byte of the state, then frees
 * it. */
void line_state_free(void *state, size_t size, struct line_buf lb[2]);

/* After a gap: drops the partial line and discards up to the next LF. */
void line_resync(struct line_buf *lb);

/* True when bytes of an unfinished line are buffered. */
static inline bool line_has_partial(const struct line_buf *lb)
{
    return lb->len > 0 || lb->is_discarding;
}

/* The ASCII upper case of c; other bytes unchanged. */
static inline uint8_t line_upper(uint8_t c)
{
    return c >= 'a' && c <= 'z' ? (uint8_t)(c - 'a' + 'A') : c;
}

enum line_prefix {
    LINE_PREFIX_NO = 0, /* p does not begin with w */
    LINE_PREFIX_SHORT,  /* p is a proper prefix of w: more bytes may make it begin with w */
    LINE_PREFIX_YES,    /* p begins with w */
};

/* ASCII case-insensitive: how p[0..len) compares with the literal w (NUL-terminated, letters
 * upper case; our own text, never wire bytes). The one prefix test of the parsers and of
 * classification. */
enum line_prefix line_prefix(const uint8_t *p, size_t len, const char *w);

/* True when p[0..len) begins with w, as line_prefix says it. */
static inline bool line_has_prefix(const uint8_t *p, size_t len, const char *w)
{
    return line_prefix(p, len, w) == LINE_PREFIX_YES;
}

/* ASCII case-insensitive: does line[0..len) start with the word w (a NUL-terminated upper-case
 * literal) followed by end of line or a space? */
bool line_is_word(const uint8_t *line, size_t len, const char *w);

/* Splits off the next space-separated token of line[*off..len): sets *tok, *tok_len and moves
 * *off past it and the following spaces. Returns false when no token is left. */
bool line_token(const uint8_t *line, size_t len, size_t *off, const uint8_t **tok, size_t *tok_len);

#endif
