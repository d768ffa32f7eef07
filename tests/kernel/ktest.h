/*
 * In-system tests: functions compiled into the kernel and run at boot
 * when the command line says "test".  Each prints one line the runner
 * parses:
 *     TEST PASS <name>
 *     TEST FAIL <name>: <file>:<line>: <what>
 * and the run ends with "TEST SUMMARY passed=N failed=N".
 */
#ifndef PITH_KTEST_H
#define PITH_KTEST_H

#include <stdint.h>

struct ktest {
    const char *name;
    void (*fn)(void);
};

#define KTEST(test_name)                                                    \
    static void test_name(void);                                            \
    static const struct ktest ktest_desc_##test_name                        \
        __attribute__((section(".ktests"), used, aligned(8))) = { #test_name, test_name }; \
    static void test_name(void)

void ktest_fail(const char *file, int line, const char *what, uint64_t a, uint64_t b, int show);
int ktest_failed_now(void);
int ktest_run_all(void);

/* Stops the test at the first broken expectation. */
#define KT_ASSERT(cond)                                                     \
    do {                                                                    \
        if (!(cond)) {                                                      \
            ktest_fail(__FILE__, __LINE__, #cond, 0, 0, 0);                 \
            return;                                                         \
        }                                                                   \
    } while (0)

#define KT_CMP(a, op, b)                                                    \
    do {                                                                    \
        uint64_t ka_ = (uint64_t)(a), kb_ = (uint64_t)(b);                  \
        if (!(ka_ op kb_)) {                                                \
            ktest_fail(__FILE__, __LINE__, #a " " #op " " #b, ka_, kb_, 1); \
            return;                                                         \
        }                                                                   \
    } while (0)

#define KT_EQ(a, b) KT_CMP(a, ==, b)

#endif
