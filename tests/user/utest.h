/*
 * User-level in-system tests: run as init when the kernel command line
 * says "test".  Same output as the kernel's own tests ("TEST PASS name"),
 * so the runner parses both; UTEST(name) registers one.
 */
#ifndef PITH_UTEST_H
#define PITH_UTEST_H

#include "pith.h"

struct utest {
    const char *name;
    void (*fn)(void);
};

#define UTEST(test_name)                                                    \
    static void test_name(void);                                            \
    static const struct utest utest_desc_##test_name                        \
        __attribute__((section("utests"), used, aligned(8))) = { #test_name, test_name }; \
    static void test_name(void)

void utest_fail(const char *file, int line, const char *what, uint64_t a, uint64_t b, int show);

#define UT_ASSERT(cond)                                                     \
    do {                                                                    \
        if (!(cond)) {                                                      \
            utest_fail(__FILE__, __LINE__, #cond, 0, 0, 0);                 \
            return;                                                         \
        }                                                                   \
    } while (0)

#define UT_EQ(a, b)                                                         \
    do {                                                                    \
        uint64_t ua_ = (uint64_t)(a), ub_ = (uint64_t)(b);                  \
        if (ua_ != ub_) {                                                   \
            utest_fail(__FILE__, __LINE__, #a " == " #b, ua_, ub_, 1);      \
            return;                                                         \
        }                                                                   \
    } while (0)

/* ---- helpers (util.c) ---- */

/* A new object of `type` from the test untyped; returns its slot. */
uint64_t make_object(uint8_t type, uint32_t bits);

/* A thread in our own address space and capability space, ready to run fn(arg). */
uint64_t make_thread(void (*fn)(uint64_t), uint64_t arg, unsigned priority);

/* Maps a frame at vaddr in an address space, making the page tables it needs. */
int map_frame(uint64_t vspace, uint64_t frame, uint64_t vaddr, uint8_t rights);

/* The slot of the biggest untyped block, which the tests take objects from. */
extern uint64_t test_untyped;

#endif
