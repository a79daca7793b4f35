/* test_run.c - the live run's statistics clock (run_report_due): the periodic line every
 * RUN_STATS_SEC, with -q every RUN_HEALTH_SEC; new drops at once, and no more than once every
 * RUN_DROPS_LINE_SEC. The loop itself runs in tests/e2e/test_live.py. */
#include "run.h"

#include <stdint.h>

#include "ps.h"
#include "test.h"
#include "tunables.h"

#define T0  ((uint64_t)1700000000 * PS_USEC_PER_SEC)
#define SEC ((uint64_t)PS_USEC_PER_SEC)

/* Steps the clock from `from` to `to` (exclusive) in ticks of RUN_TICK_MSEC with a fixed drop
 * count, and counts the lines of each kind. */
static void walk(struct run_report_clock *c, uint64_t from, uint64_t to, uint64_t drops,
                 unsigned *n_stats, unsigned *n_drops)
{
    uint64_t tick = (uint64_t)RUN_TICK_MSEC * PS_USEC_PER_MSEC;
    for (uint64_t t = from; t < to; t += tick) {
        enum run_report rep = run_report_due(c, t, drops);
        *n_stats += rep == RUN_REPORT_STATS ? 1u : 0u;
        *n_drops += rep == RUN_REPORT_DROPS ? 1u : 0u;
    }
}

/* With -q and nothing dropped: one health line every RUN_HEALTH_SEC, none before. */
static void test_quiet_health_period(void)
{
    struct run_report_clock c;
    run_report_init(&c, T0, true);
    CHECK_EQ_U(run_report_due(&c, T0, 0), RUN_REPORT_NONE);
    CHECK_EQ_U(run_report_due(&c, T0 + RUN_HEALTH_SEC * SEC - 1, 0), RUN_REPORT_NONE);
    CHECK_EQ_U(run_report_due(&c, T0 + RUN_HEALTH_SEC * SEC, 0), RUN_REPORT_STATS);
    CHECK_EQ_U(run_report_due(&c, T0 + RUN_HEALTH_SEC * SEC + 1, 0), RUN_REPORT_NONE);
    unsigned n_stats = 0, n_drops = 0;
    walk(&c, T0 + RUN_HEALTH_SEC * SEC + 1, T0 + 4 * RUN_HEALTH_SEC * SEC + SEC, 0, &n_stats,
         &n_drops);
    CHECK_EQ_U(n_stats, 3);
    CHECK_EQ_U(n_drops, 0);
}

/* Without -q: the line every RUN_STATS_SEC, as before. */
static void test_stats_period(void)
{
    struct run_report_clock c;
    run_report_init(&c, T0, false);
    unsigned n_stats = 0, n_drops = 0;
    walk(&c, T0, T0 + 10 * RUN_STATS_SEC * SEC + 1, 0, &n_stats, &n_drops);
    CHECK_EQ_U(n_stats, 10);
    CHECK_EQ_U(n_drops, 0);
}

/* The first drops are told at the tick that sees them, in both modes. */
static void test_first_drops_at_once(void)
{
    for (int is_quiet = 0; is_quiet <= 1; is_quiet++) {
        struct run_report_clock c;
        run_report_init(&c, T0, is_quiet != 0);
        CHECK_EQ_U(run_report_due(&c, T0 + SEC, 0), RUN_REPORT_NONE);
        CHECK_EQ_U(run_report_due(&c, T0 + 2 * SEC, 1), RUN_REPORT_DROPS);
        CHECK_EQ_U(run_report_due(&c, T0 + 2 * SEC + 1, 1), RUN_REPORT_NONE);
    }
}

/* Drops that keep rising: a "drops" line once every RUN_DROPS_LINE_SEC, not at every tick; the
 * periodic lines go on in between. */
static void test_rising_drops_rate_limited(void)
{
    struct run_report_clock c;
    run_report_init(&c, T0, true);
    uint64_t tick = (uint64_t)RUN_TICK_MSEC * PS_USEC_PER_MSEC;
    uint64_t drops = 0;
    unsigned n_drops = 0, n_stats = 0;
    uint64_t last_drops_line = 0;
    uint64_t end = T0 + 10 * RUN_DROPS_LINE_SEC * SEC;
    for (uint64_t t = T0 + tick; t < end; t += tick) {
        drops += 3;
        enum run_report rep = run_report_due(&c, t, drops);
        if (rep == RUN_REPORT_DROPS) {
            CHECK(last_drops_line == 0 || t - last_drops_line >= RUN_DROPS_LINE_SEC * SEC);
            last_drops_line = t;
            n_drops++;
        }
        n_stats += rep == RUN_REPORT_STATS ? 1u : 0u;
    }
    CHECK_EQ_U(n_drops, 10);
    CHECK_EQ_U(n_stats, 0); /* with -q, the drops lines come more often than the health line */
}

/* Drops that rise again within the minute after a "drops" line: told when the minute is up,
 * even though nothing rises then; a rise after that is at once again. */
static void test_rise_within_the_minute(void)
{
    struct run_report_clock c;
    run_report_init(&c, T0, true);
    CHECK_EQ_U(run_report_due(&c, T0 + 10 * SEC, 5), RUN_REPORT_DROPS);
    CHECK_EQ_U(run_report_due(&c, T0 + 20 * SEC, 9), RUN_REPORT_NONE);
    CHECK_EQ_U(run_report_due(&c, T0 + (10 + RUN_DROPS_LINE_SEC) * SEC - 1, 9), RUN_REPORT_NONE);
    CHECK_EQ_U(run_report_due(&c, T0 + (10 + RUN_DROPS_LINE_SEC) * SEC, 9), RUN_REPORT_DROPS);
    CHECK_EQ_U(run_report_due(&c, T0 + (11 + RUN_DROPS_LINE_SEC) * SEC, 9), RUN_REPORT_NONE);
    uint64_t later = T0 + (10 + 3 * RUN_DROPS_LINE_SEC) * SEC;
    CHECK_EQ_U(run_report_due(&c, later, 10), RUN_REPORT_DROPS);
}

/* After a drops line, the next periodic line is a full period later; drops that stay where they
 * are tell nothing more. */
static void test_drops_then_steady(void)
{
    struct run_report_clock c;
    run_report_init(&c, T0, true);
    CHECK_EQ_U(run_report_due(&c, T0 + 100 * SEC, 7), RUN_REPORT_DROPS);
    unsigned n_stats = 0, n_drops = 0;
    walk(&c, T0 + 100 * SEC + 1, T0 + (100 + RUN_HEALTH_SEC) * SEC, 7, &n_stats, &n_drops);
    CHECK_EQ_U(n_stats, 0);
    CHECK_EQ_U(n_drops, 0);
    CHECK_EQ_U(run_report_due(&c, T0 + (100 + RUN_HEALTH_SEC) * SEC, 7), RUN_REPORT_STATS);
}

/* Without -q the periodic line and the drops line have the same minute: when both are due,
 * the line says "drops", and it is one line, not two. */
static void test_drops_and_periodic_together(void)
{
    struct run_report_clock c;
    run_report_init(&c, T0, false);
    uint64_t first = T0 + 10 * SEC;
    CHECK_EQ_U(run_report_due(&c, first, 1), RUN_REPORT_DROPS);
    CHECK_EQ_U(run_report_due(&c, first + 20 * SEC, 2), RUN_REPORT_NONE);
    uint64_t both = first + RUN_DROPS_LINE_SEC * SEC;
    CHECK(both >= first + RUN_STATS_SEC * SEC);
    CHECK_EQ_U(run_report_due(&c, both, 2), RUN_REPORT_DROPS);
    CHECK_EQ_U(run_report_due(&c, both + 1, 2), RUN_REPORT_NONE);
}

int main(void)
{
    RUN(test_quiet_health_period);
    RUN(test_stats_period);
    RUN(test_first_drops_at_once);
    RUN(test_rising_drops_rate_limited);
    RUN(test_rise_within_the_minute);
    RUN(test_drops_then_steady);
    RUN(test_drops_and_periodic_together);
    return TEST_SUMMARY();
}
