/*
 * Frames bound to a client by the memory manager (docs/exokernel.md): the
 * capabilities themselves, mapped where the client likes; every refusal
 * of the bind; giving back; visible revocation answered in time, and a
 * missed deadline where the manager takes frames (highest slot first,
 * before regions) and lists them; the accounting whole at the end.
 */
#include "memtest.h"

#define EXO_VA  0x6100000000ull     /* where this test maps its bound frames */

static uint64_t mapped(uint64_t va)
{
    struct pith_msg ad = { .w = { va, 1 } };
    pith_invoke(PITH_SLOT_VSPACE, PITH_VSPACE_AD_BITS, &ad);
    return ad.w[0];
}

static uint64_t slot_type(uint64_t slot)
{
    struct pith_msg m = { .w = { slot } };
    pith_invoke(PITH_SLOT_CSPACE, PITH_CNODE_IDENTIFY, &m);
    return m.w[0];
}

/* Waits on the notification up to `ms`; returns the bits (0: none came). */
static uint64_t wait_bits(uint64_t ntfn, uint64_t ms)
{
    struct pith_msg m = { 0 };
    if (pith_syscall_timed(PITH_SYS_RECV_TIMED, ntfn, &m, 0, ms * 1000000ull))
        return 0;
    return m.badge;
}

static uint32_t used_of(struct pith_client *c)
{
    uint32_t q, used = ~0u, pages, refused;
    uint64_t bytes;
    mem_stats(c, &q, &used, &pages, &bytes, &refused);
    return used;
}

UTEST(mem_frames_bind_refusals)
{
    struct mm m;
    struct pith_client c, big;
    uint64_t ep, ep2, ntfn = make_object(PITH_OBJ_NOTIFICATION, 0);
    uint64_t s = pith_slot_alloc_range(80);
    UT_EQ(mm_start(&m), PITH_OK);
    uint32_t id = mm_client(&m, &c, "exo-c1", 16, &ep);
    UT_ASSERT(id);
    UT_EQ(mem_frames_bind(&m.owner, PITH_SLOT_CSPACE, s, 1), MEM_E_DENIED);
    UT_EQ(mem_frames_bind(&c, ntfn, s, 1), MEM_E_NOT_CNODE);
    UT_EQ(mem_frames_bind(&c, PITH_SLOT_CSPACE, s, 0), MEM_E_BAD_RANGE);
    UT_EQ(mem_frames_bind(&c, PITH_SLOT_CSPACE, 0, 1), MEM_E_BAD_RANGE);
    UT_EQ(mem_frames_bind(&c, PITH_SLOT_CSPACE, s, 17), MEM_E_QUOTA);
    UT_EQ(mem_frames_bind(&c, PITH_SLOT_CSPACE, s, 8), PITH_OK);
    UT_EQ(used_of(&c), 8);
    /* Beyond the quota, over frames it holds, into a slot that is taken: refused, nothing changes. */
    UT_EQ(mem_frames_bind(&c, PITH_SLOT_CSPACE, s + 8, 9), MEM_E_QUOTA);
    UT_EQ(mem_frames_bind(&c, PITH_SLOT_CSPACE, s + 7, 2), MEM_E_BAD_RANGE);
    UT_EQ(mem_frames_bind(&c, PITH_SLOT_CSPACE, s - 1, 2), MEM_E_BAD_RANGE);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, s + 10, ntfn, PITH_RIGHTS_ALL, 0), PITH_OK);
    UT_EQ(mem_frames_bind(&c, PITH_SLOT_CSPACE, s + 8, 4), MEM_E_NOT_CNODE);
    UT_EQ(slot_type(s + 8), PITH_OBJ_NULL);         /* the two copies made before the taken slot were undone */
    UT_EQ(slot_type(s + 9), PITH_OBJ_NULL);
    UT_EQ(used_of(&c), 8);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, s + 10, 0, 0, 0), PITH_OK);
    /* Giving back: only a frame it holds, named by its slot; the owner may not. */
    UT_EQ(mem_frames_return(&c, s + 9), MEM_E_NO_FRAME);
    UT_EQ(mem_frames_return(&m.owner, s), MEM_E_DENIED);
    uint32_t bound, asked;
    uint64_t deadline, taken[64], len;
    UT_EQ(mem_frames_status(&m.owner, &bound, &asked, &deadline, taken, &len), MEM_E_DENIED);
    UT_EQ(mem_client_close(&m.owner, id), PITH_OK);
    UT_EQ(slot_type(s), PITH_OBJ_NULL);             /* closing the client took its frames */
    /* A client may hold 64 bound frames at once, whatever its quota. */
    uint32_t id2 = mm_client(&m, &big, "exo-c2", 100, &ep2);
    UT_ASSERT(id2);
    UT_EQ(mem_frames_bind(&big, PITH_SLOT_CSPACE, s, 64), PITH_OK);
    UT_EQ(mem_frames_bind(&big, PITH_SLOT_CSPACE, s + 64, 1), MEM_E_FULL);
    UT_EQ(mem_frames_status(&big, &bound, &asked, &deadline, taken, &len), PITH_OK);
    UT_EQ(bound, 64);
    UT_EQ(mem_client_close(&m.owner, id2), PITH_OK);
    /* Within the quota but beyond the manager's uncommitted pages. */
    uint32_t id3 = mm_client(&m, &big, "exo-c2b", 1000, &ep2);
    UT_ASSERT(id3);
    uint32_t rest = mm_state.pool_pages - 10 - MEM_REGION_PAGES;
    UT_EQ(mem_anon(&big, REGION_A, MEM_REGION_PAGES), PITH_OK);
    UT_EQ(mem_anon(&big, REGION_A + 0x1000000, rest), PITH_OK);
    UT_EQ(mem_frames_bind(&big, PITH_SLOT_CSPACE, s, 11), MEM_E_NO_MEMORY);
    UT_EQ(mem_frames_bind(&big, PITH_SLOT_CSPACE, s, 10), PITH_OK);
    UT_EQ(mem_client_close(&m.owner, id3), PITH_OK);
    UT_ASSERT(mm_accounted(&m));
    UT_ASSERT(mm_stop(&m));
}

UTEST(mem_frames_revoked_visibly)
{
    struct mm m;
    struct pith_client c;
    uint64_t ep, ntfn = make_object(PITH_OBJ_NOTIFICATION, 0);
    uint64_t s = pith_slot_alloc_range(8);
    uint32_t bound, asked;
    uint64_t deadline, taken[64], len;
    UT_EQ(mm_start(&m), PITH_OK);
    uint32_t id = mm_client(&m, &c, "exo-c3", 16, &ep);
    UT_ASSERT(id);
    UT_EQ(mem_notify_on(&c, ntfn), PITH_OK);
    UT_EQ(mem_frames_bind(&c, PITH_SLOT_CSPACE, s, 8), PITH_OK);
    /* The frames are ours: read and write, zeroed, mapped where we like, nothing more. */
    struct pith_msg idm = { .w = { s } };
    UT_EQ(pith_invoke(PITH_SLOT_CSPACE, PITH_CNODE_IDENTIFY, &idm), PITH_OK);
    UT_EQ(idm.w[0], PITH_OBJ_FRAME);
    UT_EQ(idm.w[1], PITH_RIGHT_READ | PITH_RIGHT_WRITE);
    for (int i = 0; i < 8; i++) {
        uint64_t va = EXO_VA + (uint64_t)i * PAGE;
        UT_EQ(map_frame(PITH_SLOT_VSPACE, s + i, va, PITH_RIGHT_READ | PITH_RIGHT_WRITE), PITH_OK);
        UT_EQ(*(volatile uint64_t *)(va + 8), 0);
        *(volatile uint64_t *)va = 100 + i;
    }
    uint64_t copy = pith_slot_alloc();
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, copy, s, PITH_RIGHTS_ALL, 0), PITH_OK);
    UT_EQ(map_frame(PITH_SLOT_VSPACE, copy, EXO_VA + 64 * PAGE, PITH_RIGHT_READ | PITH_RIGHT_EXEC), PITH_E_NO_RIGHTS);
    UT_EQ(pith_invoke(copy, PITH_FRAME_PHYS, &idm), PITH_E_NO_RIGHTS);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, copy, 0, 0, 0), PITH_OK);
    /* Given back: its mapping goes with it, and its charge. */
    UT_EQ(mem_frames_return(&c, s + 1), PITH_OK);
    UT_EQ(mapped(EXO_VA + PAGE), 0);
    UT_EQ(slot_type(s + 1), PITH_OBJ_NULL);
    UT_EQ(mem_frames_return(&c, s + 1), MEM_E_NO_FRAME);
    UT_EQ(used_of(&c), 7);

    /*
     * Asked for two pages back in time: the client picks which (the first
     * two left) and nothing is taken.  The deadline is 400 ms so that a
     * busy host cannot make the answer late; it must be 400 ms after the
     * request, whenever the manager received it.
     */
    const struct pith_time_page *clock = (const struct pith_time_page *)pith_bootinfo->time_page;
    uint64_t asked_at = pith_clock_ns(clock);
    UT_EQ(mem_reclaim(&m.owner, id, 5, 400), PITH_OK);
    UT_EQ(wait_bits(ntfn, 1000), 1);
    UT_EQ(mem_frames_status(&c, &bound, &asked, &deadline, taken, &len), PITH_OK);
    UT_EQ(bound, 7);
    UT_EQ(asked, 2);
    UT_ASSERT(deadline >= asked_at + 400000000ull);
    UT_ASSERT(deadline <= pith_clock_ns(clock) + 400000000ull);
    UT_EQ(mem_frames_return(&c, s), PITH_OK);
    UT_EQ(mem_frames_return(&c, s + 2), PITH_OK);
    UT_EQ(wait_bits(ntfn, 500), 0);                 /* the deadline passes: nothing taken */
    UT_EQ(mem_frames_status(&c, &bound, &asked, &deadline, taken, &len), PITH_OK);
    UT_EQ(bound, 5);
    UT_EQ(asked, 0);
    UT_EQ(deadline, 0);
    UT_EQ(len, 0);
    UT_EQ(*(volatile uint64_t *)(EXO_VA + 7 * PAGE), 107);

    /* Missed: 3 pages missing; bound frames go before the anonymous region, highest slot first, and are listed. */
    UT_EQ(mem_anon(&c, REGION_A, 4), PITH_OK);
    UT_EQ(used_of(&c), 9);
    UT_EQ(mem_reclaim(&m.owner, id, 6, 20), PITH_OK);
    UT_EQ(wait_bits(ntfn, 1000), 1);
    UT_EQ(wait_bits(ntfn, 1000), 2);
    UT_EQ(mem_frames_status(&c, &bound, &asked, &deadline, taken, &len), PITH_OK);
    UT_EQ(bound, 2);
    UT_EQ(len, 3 * sizeof taken[0]);
    UT_EQ(taken[0], s + 7);
    UT_EQ(taken[1], s + 6);
    UT_EQ(taken[2], s + 5);
    for (int i = 5; i < 8; i++) {
        UT_EQ(mapped(EXO_VA + (uint64_t)i * PAGE), 0);      /* the mappings vanished with the capabilities */
        UT_EQ(slot_type(s + i), PITH_OBJ_NULL);
    }
    UT_EQ(*(volatile uint64_t *)(EXO_VA + 4 * PAGE), 104);  /* what was not taken is untouched */
    uint32_t target;
    uint64_t rtaken[32], rlen;
    UT_EQ(mem_reclaim_status(&c, &target, &deadline, rtaken, &rlen), PITH_OK);
    UT_EQ(rlen, 0);                                 /* the region stayed */
    UT_EQ(used_of(&c), 6);
    UT_EQ(mem_frames_status(&c, &bound, &asked, &deadline, taken, &len), PITH_OK);
    UT_EQ(len, 0);                                  /* read once */

    /* Asked for everything and ignoring it: the frames, then the region. */
    UT_EQ(mem_reclaim(&m.owner, id, 0, 10), PITH_OK);
    UT_EQ(wait_bits(ntfn, 1000), 1);
    UT_EQ(wait_bits(ntfn, 1000), 2);
    UT_EQ(mem_frames_status(&c, &bound, &asked, &deadline, taken, &len), PITH_OK);
    UT_EQ(bound, 0);
    UT_EQ(len, 2 * sizeof taken[0]);
    UT_EQ(taken[0], s + 4);
    UT_EQ(taken[1], s + 3);
    UT_EQ(mem_reclaim_status(&c, &target, &deadline, rtaken, &rlen), PITH_OK);
    UT_EQ(rlen, 8);
    UT_EQ(rtaken[0], REGION_A);
    UT_EQ(used_of(&c), 0);
    UT_EQ(mem_client_close(&m.owner, id), PITH_OK);
    UT_ASSERT(mm_accounted(&m));
    UT_ASSERT(mm_stop(&m));
}
