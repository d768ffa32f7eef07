/* Threads and scheduling: start, priorities, preemption, round-robin, limits. */
#include "utest.h"

static volatile uint64_t counter[4];
static volatile uint64_t order[8];
static volatile int order_n;

static void count_forever(uint64_t i)
{
    for (;;)
        counter[i]++;
}

static void record_and_stop(uint64_t id)
{
    order[order_n++] = id;
}

UTEST(thread_runs_and_higher_priority_preempts)
{
    order_n = 0;
    /* Our priority is 100: a thread at 150 runs the moment it is resumed. */
    uint64_t t = make_thread(record_and_stop, 7, 150);
    UT_ASSERT(t);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_EQ(order_n, 1);
    UT_EQ(order[0], 7);
    /* A lower-priority thread does not run until we block. */
    uint64_t low = make_thread(record_and_stop, 8, 50);
    UT_EQ(pith_invoke4(low, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_EQ(order_n, 1);
    /* It runs once we block (a sleep; again if the host let our timer run out first). */
    for (int i = 0; i < 500 && order_n < 2; i++)
        pith_sleep_ns(2000000);
    UT_EQ(order_n, 2);
    UT_EQ(order[1], 8);
}

UTEST(round_robin_within_a_priority)
{
    counter[0] = counter[1] = 0;
    uint64_t a = make_thread(count_forever, 0, 60);
    uint64_t b = make_thread(count_forever, 1, 60);
    UT_ASSERT(a && b);
    UT_EQ(pith_invoke4(a, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(b, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    /*
     * Both share the CPU while we sleep across several time slices.  Under
     * plain emulation guest time is host time, and a busy host can stop the
     * CPU for a whole 60 ms, so we look again (up to two seconds) until
     * both have run; one that never gets its turn still fails.
     */
    pith_sleep_ns(60000000);
    for (int i = 0; i < 100 && (counter[0] == 0 || counter[1] == 0); i++)
        pith_sleep_ns(20000000);
    UT_EQ(pith_invoke4(a, PITH_TCB_SUSPEND, 0, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(b, PITH_TCB_SUSPEND, 0, 0, 0, 0), PITH_OK);
    UT_ASSERT(counter[0] > 0);
    UT_ASSERT(counter[1] > 0);
    /* Suspended: they stay still. */
    uint64_t c0 = counter[0];
    pith_sleep_ns(20000000);
    UT_EQ(counter[0], c0);
    struct pith_msg m = { 0 };
    UT_EQ(pith_invoke(a, PITH_TCB_INFO, &m), PITH_OK);
    UT_ASSERT(m.w[0] > 0);                      /* it used CPU time */
}

static volatile long limited_results[4];
static uint64_t limited_target;

/* Runs with a maximum controlled priority of 120 and tries to exceed it. */
static void limited(uint64_t self_slot)
{
    limited_results[0] = pith_invoke4(limited_target, PITH_TCB_SET_PRIORITY, 121, 10, 0, 0);
    limited_results[1] = pith_invoke4(limited_target, PITH_TCB_SET_PRIORITY, 10, 121, 0, 0);
    limited_results[2] = pith_invoke4(self_slot, PITH_TCB_SET_PRIORITY, 200, 120, 0, 0);
    limited_results[3] = pith_invoke4(limited_target, PITH_TCB_SET_PRIORITY, 120, 120, 0, 0);
}

UTEST(no_priority_above_the_maximum)
{
    limited_target = make_thread(record_and_stop, 9, 10);
    UT_ASSERT(limited_target);
    UT_EQ(pith_invoke4(limited_target, PITH_TCB_SET_PRIORITY, 256, 20, 0, 0), PITH_E_INVALID_ARG);
    uint64_t t = make_thread(limited, 0, 150);
    UT_ASSERT(t);
    /* Its argument is its own slot: rewrite registers now that we know it. */
    UT_EQ(pith_invoke4(t, PITH_TCB_SET_PRIORITY, 150, 120, 0, 0), PITH_OK);
    for (int i = 0; i < 4; i++)
        limited_results[i] = -1;
    struct pith_msg regs = { 0 };
    UT_EQ(pith_invoke(t, PITH_TCB_READ_REGISTERS, &regs), PITH_OK);
    UT_EQ(pith_invoke4(t, PITH_TCB_WRITE_REGISTERS, regs.w[0], regs.w[1], (uint64_t)limited, t), PITH_OK);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);   /* 150 > 100: runs now */
    UT_EQ(limited_results[0], PITH_E_PRIORITY);
    UT_EQ(limited_results[1], PITH_E_PRIORITY);
    UT_EQ(limited_results[2], PITH_E_PRIORITY);
    UT_EQ(limited_results[3], PITH_OK);
}

UTEST(register_state_is_checked)
{
    uint64_t t = make_thread(record_and_stop, 1, 10);
    UT_ASSERT(t);
    /* A kernel or non-canonical rip is refused: it would fault inside the kernel's return. */
    UT_EQ(pith_invoke4(t, PITH_TCB_WRITE_REGISTERS, 0xffff800000000000ull, 0x1000, 0, 0), PITH_E_INVALID_ARG);
    UT_EQ(pith_invoke4(t, PITH_TCB_WRITE_REGISTERS, 0x0000800000000000ull, 0x1000, 0, 0), PITH_E_INVALID_ARG);
    UT_EQ(pith_invoke4(t, PITH_TCB_WRITE_REGISTERS, 0x401000, 0x8000000000000000ull, 0, 0), PITH_E_INVALID_ARG);
    UT_EQ(pith_invoke4(t, PITH_TCB_SET_TLS, 0xffff800000000000ull, 0, 0, 0), PITH_E_INVALID_ARG);
    UT_EQ(pith_invoke4(PITH_SLOT_TCB, PITH_TCB_WRITE_REGISTERS, 0x401000, 0x1000, 0, 0), PITH_E_STATE);
    /* An unconfigured thread cannot start. */
    uint64_t bare = make_object(PITH_OBJ_TCB, 0);
    UT_EQ(pith_invoke4(bare, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_E_STATE);
}

static volatile uint64_t flags_seen;

static void read_flags(uint64_t unused)
{
    (void)unused;
    uint64_t f;
    __asm__ volatile("pushfq; popq %0" : "=r"(f));
    flags_seen = f;
}

UTEST(user_rflags_forced)
{
    flags_seen = 0;
    uint64_t t = make_thread(read_flags, 0, 150);
    UT_ASSERT(t);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_ASSERT(flags_seen & (1u << 9));          /* interrupts on */
    UT_EQ(flags_seen & (3u << 12), 0);          /* IOPL 0 */
    UT_EQ(flags_seen & (1u << 14), 0);          /* NT clear */
    UT_EQ(flags_seen & (1u << 18), 0);          /* AC clear */
}
