/* rd.h - the bounds-checked byte reader every wire parser reads through.
 *
 * A struct rd is a view of len bytes. Every read checks what remains; a read past the end
 * sets the sticky bad flag and returns 0, so a caller decodes a whole header and checks bad
 * once. Multi-byte values are built from bytes in the stated byte order: no casts of wire
 * pointers to wider types. */
#ifndef PLAINSIGHT_RD_H
#define PLAINSIGHT_RD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rd {
    const uint8_t *p; /* borrowed; valid while the caller's buffer is */
    size_t len;
    size_t off;
    bool bad;
};

static inline struct rd rd_make(const uint8_t *p, size_t len)
{
    struct rd r = { p, len, 0, false };
    return r;
}

static inline size_t rd_left(const struct rd *r)
{
    return r->bad ? 0 : r->len - r->off;
}

static inline bool rd_has(struct rd *r, size_t n)
{
    if (r->bad || n > r->len - r->off) {
        r->bad = true;
        return false;
    }
    return true;
}

static inline uint8_t rd_u8(struct rd *r)
{
    if (!rd_has(r, 1)) {
        return 0;
    }
    return r->p[r->off++];
}

static inline uint16_t rd_be16(struct rd *r)
{
    if (!rd_has(r, 2)) {
        return 0;
    }
    uint16_t v = (uint16_t)((uint16_t)r->p[r->off] << 8 | r->p[r->off + 1]);
    r->off += 2;
    return v;
}

static inline uint16_t rd_le16(struct rd *r)
{
    if (!rd_has(r, 2)) {
        return 0;
    }
    uint16_t v = (uint16_t)((uint16_t)r->p[r->off + 1] << 8 | r->p[r->off]);
    r->off += 2;
    return v;
}

static inline uint32_t rd_be24(struct rd *r)
{
    if (!rd_has(r, 3)) {
        return 0;
    }
    uint32_t v =
        (uint32_t)r->p[r->off] << 16 | (uint32_t)r->p[r->off + 1] << 8 | (uint32_t)r->p[r->off + 2];
    r->off += 3;
    return v;
}

static inline uint32_t rd_be32(struct rd *r)
{
    if (!rd_has(r, 4)) {
        return 0;
    }
    uint32_t v = (uint32_t)r->p[r->off] << 24 | (uint32_t)r->p[r->off + 1] << 16 |
                 (uint32_t)r->p[r->off + 2] << 8 | (uint32_t)r->p[r->off + 3];
    r->off += 4;
    return v;
}

static inline uint32_t rd_le32(struct rd *r)
{
    if (!rd_has(r, 4)) {
        return 0;
    }
    uint32_t v = (uint32_t)r->p[r->off + 3] << 24 | (uint32_t)r->p[r->off + 2] << 16 |
                 (uint32_t)r->p[r->off + 1] << 8 | (uint32_t)r->p[r->off];
    r->off += 4;
    return v;
}

/* Reads of a span the caller has already taken with rd_take (so its length is checked). */
static inline uint16_t rd_get_be16(const uint8_t *q)
{
    return (uint16_t)((uint16_t)q[0] << 8 | q[1]);
}

static inline uint32_t rd_get_be32(const uint8_t *q)
{
    return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | (uint32_t)q[3];
}

static inline void rd_skip(struct rd *r, size_t n)
{
    if (rd_has(r, n)) {
        r->off += n;
    }
}

/* Returns a pointer to the next n bytes and advances, or NULL (and bad) if fewer remain. */
static inline const uint8_t *rd_take(struct rd *r, size_t n)
{
    if (!rd_has(r, n)) {
        return NULL;
    }
    const uint8_t *q = r->p + r->off;
    r->off += n;
    return q;
}

#endif
