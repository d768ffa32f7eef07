/* The time page and sleeping: a clock read without system calls, and sleeps that last as asked. */
#include "utest.h"
#include "lib/string.h"

static const struct pith_time_page *time_page(void)
{
    return (const struct pith_time_page *)pith_bootinfo->time_page;
}

UTEST(time_page_gives_a_monotonic_clock)
{
    const struct pith_time_page *t = time_page();
    UT_EQ(pith_bootinfo->time_page, PITH_TIME_PAGE_ADDR);
    UT_EQ(t->magic, PITH_TIME_MAGIC);
    UT_EQ(t->version, PITH_TIME_VERSION);
    UT_EQ(t->tsc_hz, pith_bootinfo->tsc_hz);
    struct pith_msg info = { 0 };
    UT_EQ(pith_syscall(PITH_SYS_INFO, 0, &info, 0), PITH_OK);
    UT_EQ(t->tsc_hz, info.w[2]);
    uint64_t last = pith_clock_ns(t);
    UT_ASSERT(last > 0);
    for (int i = 0; i < 10000; i++) {
        uint64_t now = pith_clock_ns(t);
        UT_ASSERT(now >= last);
        last = now;
    }
    /*
     * The multiplier is rounded up: the clock is never behind, and ahead by
     * less than a nanosecond per 2^32 ticks (under a microsecond an hour at
     * 1 GHz).
     */
    struct pith_time_page shifted = *t;
    shifted.tsc_base = 0;
    uint64_t second = pith_time_ns(&shifted, t->tsc_hz);
    UT_ASSERT(second >= 1000000000 && second <= 1000000001);
    uint64_t hour = pith_time_ns(&shifted, t->tsc_hz * 3600);
    UT_ASSERT(hour >= 3600000000000ull && hour <= 3600000000000ull + (t->tsc_hz * 3600 >> 32) + 1);
}

UTEST(time_page_is_read_only)
{
    uint64_t vaddr = 0x7e0000000000ull;
    UT_EQ(map_frame(PITH_SLOT_VSPACE, PITH_SLOT_TIME, vaddr, PITH_RIGHT_READ | PITH_RIGHT_WRITE),
          PITH_E_NO_RIGHTS);
    /* A copy may be mapped again, read-only, and shows the same clock. */
    uint64_t copy = pith_slot_alloc();
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, copy, PITH_SLOT_TIME, PITH_RIGHTS_ALL, 0),
          PITH_OK);
    UT_EQ(map_frame(PITH_SLOT_VSPACE, copy, vaddr, PITH_RIGHT_READ), PITH_OK);
    const struct pith_time_page *again = (const struct pith_time_page *)vaddr;
    UT_EQ(again->magic, PITH_TIME_MAGIC);
    UT_EQ(again->tsc_base, time_page()->tsc_base);
    UT_EQ(pith_invoke4(copy, PITH_FRAME_UNMAP, 0, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, copy, 0, 0, 0), PITH_OK);
}

/*
 * Sleeps never end early, and end late by at most SLEEP_LATE_NS: under
 * icount the clock counts instructions and an idle CPU skips to the timer,
 * so only the kernel's own path is late and the bound is tight; under
 * plain emulation the host schedules QEMU's timers (on a busy host a 30 ms
 * sleep has taken 154 ms), so there the bound only catches a lost or
 * misconverted timer.
 */
#define SLEEP_LATE_NS_ICOUNT    200000ull
#define SLEEP_LATE_NS_TCG       500000000ull

static int cmdline_has(const char *word)
{
    const char *c = pith_bootinfo->cmdline;
    size_t n = strlen(word);
    for (const char *p = c; *p; p++)
        if ((p == c || p[-1] == ' ') && !strncmp(p, word, n) && (p[n] == ' ' || p[n] == 0))
            return 1;
    return 0;
}

UTEST(sleep_lasts_as_long_as_asked)
{
    const struct pith_time_page *t = time_page();
    uint64_t late_max = cmdline_has("clock=icount") ? SLEEP_LATE_NS_ICOUNT : SLEEP_LATE_NS_TCG;
    static const uint64_t asked[] = { 100000, 1000000, 10000000, 30000000 };
    for (unsigned i = 0; i < sizeof asked / sizeof asked[0]; i++) {
        uint64_t start = pith_clock_ns(t);
        UT_EQ(pith_sleep_ns(asked[i]), PITH_OK);
        uint64_t slept = pith_clock_ns(t) - start;
        if (slept < asked[i] || slept > asked[i] + late_max)
            printf("  asked %lu ns, slept %lu ns\n", asked[i], slept);
        UT_ASSERT(slept >= asked[i]);
        UT_ASSERT(slept <= asked[i] + late_max);
    }
}
