// uses: servers/posix/slots.c
/*
 * servers/posix/slots.c: a process's CNode slots, taken first-fit in runs
 * and given back, checked against a plain array model under a long random
 * sequence of takes and gives (the pattern of mmap, munmap of a middle,
 * mremap), and at the edges: the null slot, a full map, runs across words.
 */
#include <string.h>

#include "harness.h"
#include "../../servers/posix/slots.h"

static struct slotmap m;
static unsigned char model[LPROC_SLOTS];    /* 1: taken */

/* The lowest run of n free slots in the model, as first fit must find it. */
static long model_first(uint32_t n)
{
    for (uint32_t s = 0, len = 0; s < LPROC_SLOTS; s++) {
        len = model[s] ? 0 : len + 1;
        if (len == n)
            return (long)(s + 1 - n);
    }
    return -1;
}

static uint32_t model_free(void)
{
    uint32_t n = 0;
    for (uint32_t s = 0; s < LPROC_SLOTS; s++)
        n += !model[s];
    return n;
}

static int agrees(void)
{
    for (uint32_t s = 0; s < LPROC_SLOTS; s++)
        if ((int)(m.used[s / 64] >> (s % 64) & 1) != model[s])
            return 0;
    return m.free == model_free();
}

static void reset(void)
{
    slots_init(&m);
    memset(model, 0, sizeof model);
    model[0] = 1;
}

TEST(slots_null_slot_never_given)
{
    reset();
    CHECK_EQ(m.free, LPROC_SLOTS - 1);
    CHECK_EQ(slots_take(&m, 1), 1);
    CHECK_EQ(slots_take(&m, 2), 2);
    slots_give(&m, 0, 4);               /* a give that names slot 0 leaves it taken */
    CHECK_EQ(m.free, LPROC_SLOTS - 1);
    CHECK_EQ(slots_take(&m, 3), 1);
    CHECK_EQ(slots_take(&m, 0), -1);
}

TEST(slots_full_and_whole)
{
    reset();
    CHECK_EQ(slots_take(&m, LPROC_SLOTS), -1);
    CHECK_EQ(slots_take(&m, LPROC_SLOTS - 1), 1);
    CHECK_EQ(m.free, 0);
    CHECK_EQ(slots_take(&m, 1), -1);
    slots_give(&m, 1, LPROC_SLOTS - 1);
    CHECK_EQ(m.free, LPROC_SLOTS - 1);
    slots_give(&m, LPROC_SLOTS - 1, 2); /* past the end: refused, nothing changes */
    slots_give(&m, LPROC_SLOTS, 1);
    CHECK_EQ(m.free, LPROC_SLOTS - 1);
}

/* Holes of every size: the first that fits is taken, across word boundaries. */
TEST(slots_first_fit_across_words)
{
    reset();
    CHECK_EQ(slots_take(&m, LPROC_SLOTS - 1), 1);
    slots_give(&m, 60, 3);              /* 60..62 */
    slots_give(&m, 100, 40);            /* 100..139: spans the words of 64 and 128 */
    slots_give(&m, 1000, 300);
    CHECK_EQ(m.free, 343);
    CHECK_EQ(slots_take(&m, 4), 100);
    CHECK_EQ(slots_take(&m, 3), 60);
    CHECK_EQ(slots_take(&m, 36), 104);
    CHECK_EQ(slots_take(&m, 37), 1000);
    CHECK_EQ(slots_take(&m, 264), -1);  /* 263 left in that hole */
    CHECK_EQ(slots_take(&m, 263), 1037);
    CHECK_EQ(m.free, 0);
}

/*
 * Regions made and unmapped whole or in part, at random, checked against
 * the model after every step: what the process's pages do for a long life.
 */
TEST(slots_random_against_model)
{
    reset();
    struct { uint32_t first, n; } held[256];
    int nheld = 0;
    uint32_t seed = 12345;
    for (int step = 0; step < 50000; step++) {
        seed = seed * 1103515245u + 12345u;
        uint32_t r = seed >> 8;
        if (nheld < 256 && (r & 1)) {
            uint32_t n = 1 + r / 2 % (r & 2 ? 600 : 40);
            long want = model_first(n), got = slots_take(&m, n);
            CHECK_EQ(got, want);
            if (got >= 0) {
                memset(model + got, 1, n);
                held[nheld].first = (uint32_t)got, held[nheld++].n = n;
            }
        } else if (nheld) {
            /* A piece of a held run back: its head, its tail, its middle or all of it. */
            int i = (int)(r / 2 % (uint32_t)nheld);
            uint32_t a = r / 7 % held[i].n, b = a + 1 + r / 11 % (held[i].n - a);
            slots_give(&m, held[i].first + a, b - a);
            memset(model + held[i].first + a, 0, b - a);
            if (b < held[i].n && nheld < 256)
                held[nheld].first = held[i].first + b, held[nheld++].n = held[i].n - b;
            if (a)
                held[i].n = a;
            else
                held[i] = held[--nheld];
        }
        CHECK(agrees());
    }
}
