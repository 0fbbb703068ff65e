/* SPDX-License-Identifier: MIT */
/*
 * check.h - the whole test "framework": CHECK-style assertions that report file:line and
 * count failures, and a main() helper. Each tests/unit/test_*.c is one ctest test that
 * exits non-zero when any check failed. Header-only, no dependencies.
 */
#ifndef KB_CHECK_H
#define KB_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        check_count++;                                                                   \
        if (!(cond)) {                                                                   \
            check_failures++;                                                            \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);     \
        }                                                                                \
    } while (0)

#define CHECK_INT(a, b)                                                                  \
    do {                                                                                 \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);                  \
        check_count++;                                                                   \
        if (check_a_ != check_b_) {                                                      \
            check_failures++;                                                            \
            fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__,        \
                    __LINE__, #a, check_a_, #b, check_b_);                               \
        }                                                                                \
    } while (0)

#define CHECK_STR(a, b)                                                                  \
    do {                                                                                 \
        const char *check_a_ = (a), *check_b_ = (b);                                     \
        check_count++;                                                                   \
        if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_) != 0) {                 \
            check_failures++;                                                            \
            fprintf(stderr, "%s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__,          \
                    __LINE__, #a, check_a_ ? check_a_ : "(null)",                        \
                    check_b_ ? check_b_ : "(null)");                                     \
        }                                                                                \
    } while (0)

/* a contains b */
#define CHECK_HAS(a, b)                                                                  \
    do {                                                                                 \
        const char *check_a_ = (a), *check_b_ = (b);                                     \
        check_count++;                                                                   \
        if (!check_a_ || !strstr(check_a_, check_b_)) {                                  \
            check_failures++;                                                            \
            fprintf(stderr, "%s:%d: %s is \"%.300s\", expected to contain \"%s\"\n",     \
                    __FILE__, __LINE__, #a, check_a_ ? check_a_ : "(null)", check_b_);   \
        }                                                                                \
    } while (0)

/* Call at the end of main(): prints a summary line and returns the exit status. */
static inline int check_done(const char *name)
{
    printf("%s: %d checks, %d failed\n", name, check_count, check_failures);
    return check_failures ? 1 : 0;
}

#endif
