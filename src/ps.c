/* ps.c - allocation that cannot fail.
 *
 * The named limits in tunables.h keep every table well below the machine's memory, so running
 * out is a bug or a misconfiguration, not input: say so and abort rather than limp on. */
#include "ps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t len)
{
    fprintf(stderr, "plainsight: error: out of memory allocating %zu bytes\n", len);
    abort();
}

void *xmalloc(size_t len)
{
    void *p = malloc(len ? len : 1);
    if (p == NULL) {
        oom(len);
    }
    return p;
}

void *xcalloc(size_t n, size_t len)
{
    void *p = calloc(n ? n : 1, len ? len : 1);
    if (p == NULL) {
        oom(n * len);
    }
    return p;
}

void *xrealloc(void *p, size_t len)
{
    void *q = realloc(p, len ? len : 1);
    if (q == NULL) {
        oom(len);
    }
    return q;
}

uint32_t ps_fnv1a(uint32_t h, const void *data, size_t n)
{
    const uint8_t *b = data;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ b[i]) * 16777619u;
    }
    return h;
}
