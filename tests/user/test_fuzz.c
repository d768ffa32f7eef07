/*
 * Random system calls with random arguments from a thread that holds only
 * a small sandbox of capabilities: every call must come back with a
 * documented result and the kernel must carry on.  (The full fuzzer,
 * with a million calls and a leak check, is its own program.)
 */
#include "utest.h"

#define FUZZ_CALLS 20000
#define SANDBOX_BITS 6

static volatile uint64_t done, bad_results;
static volatile uint64_t results[PITH_E_COUNT];
static uint64_t seed = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
}

/* Small numbers most of the time, anything some of the time. */
static uint64_t arg(void)
{
    switch (rnd() % 4) {
    case 0: return rnd() % 8;
    case 1: return rnd() % 80;
    case 2: return 1ull << (rnd() % 64);
    default: return rnd();
    }
}

static void fuzz(uint64_t unused)
{
    (void)unused;
    while (done < FUZZ_CALLS) {
        long nr = -(long)(1 + rnd() % 9);       /* every Pith system call */
        struct pith_msg m = { .tag = PITH_TAG(rnd() % 72, rnd() % 8), .w = { arg(), arg(), arg(), arg() } };
        uint64_t slot = rnd() % 72;             /* some beyond the sandbox */
        if (nr == PITH_SYS_SLEEP)
            slot %= 100000;                     /* up to 0.1 ms: keep going */
        long r = pith_syscall(nr, slot, &m, rnd() % 72);
        if (r >= 0 && r < PITH_E_COUNT && r != PITH_E_PREEMPTED)
            results[r]++;
        else
            bad_results++;
        done++;
    }
}

static void give(uint64_t sandbox, uint64_t dst, uint64_t src)
{
    pith_invoke4(sandbox, PITH_CNODE_COPY, dst, src, PITH_RIGHTS_ALL, 0);
}

UTEST(random_system_calls_from_a_sandbox)
{
    uint64_t sandbox = make_object(PITH_OBJ_CNODE, SANDBOX_BITS);
    uint64_t ut = make_object(PITH_OBJ_UNTYPED, 16);
    uint64_t ep = make_object(PITH_OBJ_ENDPOINT, 0);
    uint64_t nt = make_object(PITH_OBJ_NOTIFICATION, 0);
    uint64_t rp = make_object(PITH_OBJ_REPLY, 0);
    uint64_t fr = make_object(PITH_OBJ_FRAME, 0);
    uint64_t pt = make_object(PITH_OBJ_PAGE_TABLE, 0);
    uint64_t t = make_thread(fuzz, 0, 50);
    UT_ASSERT(sandbox && ut && ep && nt && rp && fr && pt && t);
    /* The sandbox: itself, some objects, its own thread; nothing of ours. */
    give(sandbox, 1, sandbox);
    UT_EQ(pith_invoke4(sandbox, PITH_CNODE_MOVE, 2, ut, 0, 0), PITH_OK);
    give(sandbox, 3, ep);
    give(sandbox, 4, nt);
    give(sandbox, 5, rp);
    give(sandbox, 6, fr);
    give(sandbox, 7, pt);
    give(sandbox, 8, t);
    struct pith_msg regs = { 0 };
    UT_EQ(pith_invoke(t, PITH_TCB_READ_REGISTERS, &regs), PITH_OK);
    UT_EQ(pith_invoke4(t, PITH_TCB_CONFIGURE, sandbox, PITH_SLOT_VSPACE, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    /* Whenever it blocks or suspends itself, cancel that and let it go on. */
    for (int rounds = 0; done < FUZZ_CALLS && rounds < 20000; rounds++) {
        pith_sleep_ns(2000000);
        struct pith_msg m = { 0 };
        pith_invoke(t, PITH_TCB_READ_REGISTERS, &m);
        if (m.w[3] != 1) {                      /* not ready: blocked or suspended */
            pith_invoke4(t, PITH_TCB_SUSPEND, 0, 0, 0, 0);
            /* It may have rewired its own thread: put it back. */
            pith_invoke4(t, PITH_TCB_CONFIGURE, sandbox, PITH_SLOT_VSPACE, 0, 0);
            pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0);
        }
    }
    pith_invoke4(t, PITH_TCB_SUSPEND, 0, 0, 0, 0);
    UT_EQ(done, FUZZ_CALLS);
    UT_EQ(bad_results, 0);
    printf("  %d random calls:", FUZZ_CALLS);
    for (int i = 0; i < PITH_E_COUNT; i++)
        if (results[i])
            printf(" e%d=%lu", i, results[i]);
    printf("\n");
    /* The kernel is intact: everything still works. */
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, sandbox, 0, 0, 0), PITH_OK);
    struct pith_msg m = { 0 };
    UT_EQ(pith_syscall(PITH_SYS_INFO, 0, &m, 0), PITH_OK);
}
