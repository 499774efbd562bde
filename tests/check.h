/* Minimal TAP-style checks for the C tests.
 *
 * Every check prints "ok N - what" or "not ok N - what"; tests/run.sh counts
 * those lines across all test programs, so a test program never decides the
 * totals itself.  A failed check prints both values, like libuv's ASSERT_EQ. */
#ifndef PS_CHECK_H
#define PS_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int check_n, check_failed;

#define CHECK(cond, ...) do {                                              \
    int ok_ = (cond) ? 1 : 0;                                              \
    printf("%s %d - ", ok_ ? "ok" : "not ok", ++check_n);                  \
    printf(__VA_ARGS__);                                                   \
    printf("\n");                                                          \
    if (!ok_) {                                                            \
        check_failed++;                                                    \
        printf("#   failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);     \
    }                                                                      \
    fflush(stdout);                                                        \
} while (0)

/* Compare two integers; on failure print both. */
#define CHECK_EQ(a, b, ...) do {                                           \
    long long a_ = (long long)(a), b_ = (long long)(b);                    \
    CHECK(a_ == b_, __VA_ARGS__);                                          \
    if (a_ != b_) printf("#   %s = %lld, %s = %lld\n", #a, a_, #b, b_);    \
} while (0)

/* Exit status of a test program: 0 only when every check passed. */
#define CHECK_DONE() (printf("# %d checks, %d failed\n", check_n, check_failed), \
                      check_failed ? 1 : 0)

#endif
