/* test.h - the unit-test harness: checks that print file:line, cases, and the summary line. */
#ifndef PLAINSIGHT_TEST_H
#define PLAINSIGHT_TEST_H

#include <stdio.h>
#include <string.h>

static int test_passed, test_failed, test_case_failed;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
            test_case_failed = 1;                                                                  \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_U(a, b)                                                                           \
    do {                                                                                           \
        unsigned long long check_a_ = (unsigned long long)(a);                                     \
        unsigned long long check_b_ = (unsigned long long)(b);                                     \
        if (check_a_ != check_b_) {                                                                \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%llu != %llu)\n", __FILE__, __LINE__,  \
                    #a, #b, check_a_, check_b_);                                                   \
            test_case_failed = 1;                                                                  \
        }                                                                                          \
    } while (0)

#define CHECK_MEM(p, len, lit) CHECK((len) == sizeof(lit) - 1 && memcmp((p), (lit), (len)) == 0)

/* Runs one case: fn is a void function of no arguments. */
#define RUN(fn)                                                                                    \
    do {                                                                                           \
        test_case_failed = 0;                                                                      \
        fn();                                                                                      \
        if (test_case_failed) {                                                                    \
            fprintf(stderr, "FAIL %s\n", #fn);                                                     \
            test_failed++;                                                                         \
        } else {                                                                                   \
            test_passed++;                                                                         \
        }                                                                                          \
    } while (0)

/* For table-driven cases: call after each row with the row's name. */
#define CASE_DONE(name)                                                                            \
    do {                                                                                           \
        if (test_case_failed) {                                                                    \
            fprintf(stderr, "FAIL %s\n", (name));                                                  \
            test_failed++;                                                                         \
        } else {                                                                                   \
            test_passed++;                                                                         \
        }                                                                                          \
        test_case_failed = 0;                                                                      \
    } while (0)

#define TEST_SUMMARY()                                                                             \
    (printf("%d passed, %d failed\n", test_passed, test_failed), test_failed ? 1 : 0)

#endif
