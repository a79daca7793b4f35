/* ps.h - project-wide types: error codes, time units, allocation helpers, version. */
#ifndef PLAINSIGHT_PS_H
#define PLAINSIGHT_PS_H

#include <stddef.h>
#include <stdint.h>

#define PS_VERSION "0.1.0"

/* Environment failures. 0 is success; every failure is negative. Bad input is never one of
 * these: it is counted and skipped where it is found. */
enum ps_err {
    PS_OK = 0,
    PS_ERR_IO = -1,     /* a file or device could not be opened, read or written */
    PS_ERR_FORMAT = -2, /* an input is not what it claims (not a capture file, corrupt) */
    PS_ERR_DB = -3,     /* SQLite refused (locked, read-only, full, corrupt) */
    PS_ERR_ARG = -4,    /* a caller's argument is invalid (bad option) */
    PS_ERR_SCHEMA = -5, /* the database has a schema this build does not know */
    PS_ERR_FILTER = -6, /* a BPF filter expression does not compile or cannot be installed */
};

/* Time units: every time in plainsight is microseconds since the epoch (ts_usec). */
#define PS_USEC_PER_SEC  1000000u
#define PS_USEC_PER_MSEC 1000u

/* A named counter, for the run record: name is a static string, value a running total. */
struct ps_counter {
    const char *name;
    uint64_t value;
};

/* What an allocation of n bytes costs the heap: glibc adds an 8-byte header and rounds to 16.
 * Every charge against the memory cap goes through it, so the cap holds for the process, not
 * just for our structs. */
#define PS_HEAP_COST(n) ((((size_t)(n)) + 8 + 15) & ~(size_t)15)

/* Allocation that cannot fail: on out-of-memory these print a message and abort. The named
 * limits in tunables.h keep every table far from that point. Return owned (free with free). */
void *xmalloc(size_t len);
void *xcalloc(size_t n, size_t len);
void *xrealloc(void *p, size_t len);

/* FNV-1a's starting value; ps_fnv1a continues a hash over n more bytes. A cheap 32-bit hash for
 * telling byte strings apart (a fragment's bytes, a flow's outer layers), never for anything an
 * attacker must not collide: the tables it serves compare the full keys, or are seeded. */
#define PS_FNV1A_INIT 2166136261u
uint32_t ps_fnv1a(uint32_t h, const void *data, size_t n);

#endif
