/*
 * Visible revocation through the memory manager: a client asked for pages
 * back gives them in time and keeps the rest; a client that does not has
 * regions taken at the deadline and is told which; the errors.
 */
#include "memtest.h"

#define MB 0x100000ull

static volatile uint64_t touched;

/* Writes a page of each of three regions a megabyte apart. */
static void touch3(uint64_t va)
{
    for (int i = 0; i < 3; i++)
        *(volatile uint64_t *)(va + i * MB) = 1;
    touched++;
}

static volatile uint64_t after;

static void touch_taken(uint64_t va)
{
    *(volatile uint64_t *)va = 1;           /* its region was taken: refused, the thread stops */
    after++;
}

/* Waits on the notification up to a second; returns the bits (0: none came). */
static uint64_t wait_bits(uint64_t ntfn)
{
    struct pith_msg m = { 0 };
    if (pith_syscall_timed(PITH_SYS_RECV_TIMED, ntfn, &m, 0, 1000000000ull))
        return 0;
    return m.badge;
}

static uint64_t mapped(uint64_t va)
{
    struct pith_msg ad = { .w = { va, 1 } };
    pith_invoke(PITH_SLOT_VSPACE, PITH_VSPACE_AD_BITS, &ad);
    return ad.w[0];
}

UTEST(mem_reclaim_asks_then_takes)
{
    struct mm m;
    struct pith_client c;
    uint64_t ep, ntfn = make_object(PITH_OBJ_NOTIFICATION, 0), ep_copy = pith_slot_alloc();
    uint32_t target, q, used, pages, refused;
    uint64_t deadline, bytes, taken[32], taken_len;
    UT_EQ(mm_start(&m), PITH_OK);
    uint32_t id = mm_client(&m, &c, "mem-c1", 16, &ep);
    UT_ASSERT(id);
    /* Errors. */
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, ep_copy, ep, PITH_RIGHTS_ALL, 0), PITH_OK);
    UT_EQ(mem_notify_on(&c, ep_copy), MEM_E_NOT_NOTIFICATION);
    UT_EQ(mem_notify_on(&m.owner, ntfn), MEM_E_DENIED);
    UT_EQ(mem_reclaim(&c, id, 0, 10), MEM_E_DENIED);
    UT_EQ(mem_reclaim(&m.owner, id + 1, 0, 10), MEM_E_NO_CLIENT);
    UT_EQ(mem_reclaim_status(&m.owner, &target, &deadline, taken, &taken_len), MEM_E_DENIED);
    UT_EQ(mem_notify_on(&c, ntfn), PITH_OK);
    UT_EQ(mem_reclaim_status(&c, &target, &deadline, taken, &taken_len), PITH_OK);
    UT_EQ(target, MEM_NO_TARGET);
    UT_EQ(taken_len, 0);

    /* Three regions of four pages, a page of each in use. */
    for (int i = 0; i < 3; i++)
        UT_EQ(mem_anon(&c, REGION_A + i * MB, 4), PITH_OK);
    uint64_t t = client_thread(touch3, REGION_A, ep, 150);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_ASSERT(wait_for(&touched, 1));
    end_thread(t);

    /*
     * Asked for 8 pages, the client frees a region in time: nothing is
     * taken.  400 ms, so that a busy host cannot make the answer late;
     * the deadline is 400 ms after the request, whenever memd got it.
     */
    const struct pith_time_page *clock = (const struct pith_time_page *)pith_bootinfo->time_page;
    uint64_t asked_at = pith_clock_ns(clock);
    UT_EQ(mem_reclaim(&m.owner, id, 8, 400), PITH_OK);
    UT_EQ(wait_bits(ntfn), 1);
    UT_EQ(mem_reclaim_status(&c, &target, &deadline, taken, &taken_len), PITH_OK);
    UT_EQ(target, 8);
    UT_ASSERT(deadline >= asked_at + 400000000ull);
    UT_ASSERT(deadline <= pith_clock_ns(clock) + 400000000ull);
    UT_EQ(mem_free(&c, REGION_A + 2 * MB), PITH_OK);
    UT_EQ(wait_bits(ntfn), 0);              /* a second passes: no taking */
    UT_EQ(mem_reclaim_status(&c, &target, &deadline, taken, &taken_len), PITH_OK);
    UT_EQ(target, MEM_NO_TARGET);
    UT_EQ(taken_len, 0);
    UT_EQ(mapped(REGION_A) | mapped(REGION_A + MB) << 1, 3);

    /* Asked for everything, the client does nothing: at the deadline both regions go, highest first. */
    UT_EQ(mem_reclaim(&m.owner, id, 0, 20), PITH_OK);
    UT_EQ(wait_bits(ntfn), 1);
    UT_EQ(wait_bits(ntfn), 2);
    UT_EQ(mem_reclaim_status(&c, &target, &deadline, taken, &taken_len), PITH_OK);
    UT_EQ(target, MEM_NO_TARGET);
    UT_EQ(taken_len, 16);
    UT_EQ(taken[0], REGION_A + MB);
    UT_EQ(taken[1], REGION_A);
    UT_EQ(mapped(REGION_A) | mapped(REGION_A + MB), 0);
    UT_EQ(mem_stats(&c, &q, &used, &pages, &bytes, &refused), PITH_OK);
    UT_EQ(used, 0);
    /* The list was read once: reading again gives nothing new. */
    UT_EQ(mem_reclaim_status(&c, &target, &deadline, taken, &taken_len), PITH_OK);
    UT_EQ(taken_len, 0);
    /* Touching a taken region is a fault the manager refuses. */
    t = client_thread(touch_taken, REGION_A, ep, 150);
    after = 0;
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    pith_sleep_ns(20000000);
    UT_EQ(after, 0);
    UT_EQ(thread_state(t), 0);
    end_thread(t);
    UT_EQ(mem_client_close(&m.owner, id), PITH_OK);
    UT_ASSERT(mm_accounted(&m));
    UT_ASSERT(mm_stop(&m));
}
