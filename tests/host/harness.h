/*
 * Host unit tests: kernel sources built for the host with AddressSanitizer
 * and UBSan.  The first line of each test file names the kernel sources
 * it links ("// uses: kernel/lib/format.c ...").  Output matches the
 * in-system tests, so one runner parses both:
 *     TEST PASS <name>
 *     TEST FAIL <name>
 * A failed check prints its file, line and expression first.
 */
#ifndef PITH_HOST_HARNESS_H
#define PITH_HOST_HARNESS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct host_test {
    const char *name;
    void (*fn)(void);
};

#define HT_MAX 256
static struct host_test ht_tests[HT_MAX];
static int ht_count, ht_current_failed;

#define TEST(test_name)                                                     \
    static void test_name(void);                                            \
    __attribute__((constructor)) static void ht_register_##test_name(void)  \
    {                                                                       \
        if (ht_count == HT_MAX) {                                           \
            fprintf(stderr, "harness: more than %d tests\n", HT_MAX);       \
            exit(2);                                                        \
        }                                                                   \
        ht_tests[ht_count++] = (struct host_test){ #test_name, test_name }; \
    }                                                                       \
    static void test_name(void)

#define CHECK(cond)                                                         \
    do {                                                                    \
        if (!(cond)) {                                                      \
            printf("  %s:%d: expected %s\n", __FILE__, __LINE__, #cond);    \
            ht_current_failed = 1;                                          \
            return;                                                         \
        }                                                                   \
    } while (0)

#define CHECK_EQ(a, b)                                                      \
    do {                                                                    \
        unsigned long long ha_ = (unsigned long long)(a), hb_ = (unsigned long long)(b); \
        if (ha_ != hb_) {                                                   \
            printf("  %s:%d: expected %s == %s (%#llx != %#llx)\n",         \
                   __FILE__, __LINE__, #a, #b, ha_, hb_);                   \
            ht_current_failed = 1;                                          \
            return;                                                         \
        }                                                                   \
    } while (0)

int main(void)
{
    int failed = 0;
    for (int i = 0; i < ht_count; i++) {
        ht_current_failed = 0;
        ht_tests[i].fn();
        printf("TEST %s %s\n", ht_current_failed ? "FAIL" : "PASS", ht_tests[i].name);
        failed += ht_current_failed;
    }
    fflush(stdout);
    return failed ? 1 : 0;
}

#endif
