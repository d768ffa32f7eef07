/*
 * The memory manager (servers/mem/, docs/memory.md), started as a thread
 * with its own capability space over 1 MiB of its own: demand-zero pages,
 * quotas, copy-on-write under two writers, shared objects with fewer
 * rights, every error of its protocol, and a pager that dies (with
 * faults waiting for it, and with one in its hands).  After
 * every scenario the manager's free memory is back where it started, and
 * once it is gone its untyped is whole again.
 */
#include "memtest.h"

/* ---- demand-zero ---- */

static volatile uint64_t toucher_done, toucher_nonzero;

/* Reads then writes every page of the 8-page region at va. */
static void toucher(uint64_t va)
{
    for (uint64_t i = 0; i < 8; i++) {
        volatile uint64_t *p = (volatile uint64_t *)(va + i * PAGE);
        for (unsigned w = 0; w < PAGE / 8; w += 64)
            toucher_nonzero += p[w] != 0;
        p[1] = 0x5a00 + i;
    }
    toucher_done = 1;
}

UTEST(mem_demand_zero_pages)
{
    struct mm m;
    struct pith_client c;
    uint64_t ep;
    UT_EQ(mm_start(&m), PITH_OK);
    UT_ASSERT(mm_client(&m, &c, "mem-c1", 16, &ep));
    UT_EQ(mem_anon(&c, REGION_A, 8), PITH_OK);
    uint32_t q, used, pages, refused;
    uint64_t bytes;
    UT_EQ(mem_stats(&c, &q, &used, &pages, &bytes, &refused), PITH_OK);
    UT_EQ(q, 16);
    UT_EQ(used, 8);
    UT_EQ(pages, mm_state.pool_pages);         /* charged, not yet taken */
    toucher_done = toucher_nonzero = 0;
    uint64_t t = client_thread(toucher, REGION_A, ep, 150);
    UT_ASSERT(t);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_ASSERT(wait_for(&toucher_done, 1));
    UT_EQ(toucher_nonzero, 0);
    UT_EQ(mem_stats(&c, &q, &used, &pages, &bytes, &refused), PITH_OK);
    UT_EQ(pages, mm_state.pool_pages - 8);
    UT_EQ(refused, 0);
    /* The pages are in the client's space (ours): we see what the thread wrote. */
    for (uint64_t i = 0; i < 8; i++)
        UT_EQ(((volatile uint64_t *)(REGION_A + i * PAGE))[1], 0x5a00 + i);
    end_thread(t);
    UT_EQ(mem_free(&c, REGION_A), PITH_OK);
    struct pith_msg ad = { .w = { REGION_A, 8 } };
    UT_EQ(pith_invoke(PITH_SLOT_VSPACE, PITH_VSPACE_AD_BITS, &ad), PITH_OK);
    UT_EQ(ad.w[0], 0);                      /* unmapped again */
    /* Used again, the pages come back zeroed. */
    UT_EQ(mem_anon(&c, REGION_A, 8), PITH_OK);
    toucher_done = toucher_nonzero = 0;
    t = client_thread(toucher, REGION_A, ep, 150);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_ASSERT(wait_for(&toucher_done, 1));
    UT_EQ(toucher_nonzero, 0);
    end_thread(t);
    UT_EQ(mem_client_close(&m.owner, 1), PITH_OK);
    UT_ASSERT(mm_accounted(&m));
    UT_ASSERT(mm_stop(&m));
}

/* ---- quotas and every error ---- */

UTEST(mem_quota_and_every_error)
{
    struct mm m;
    struct pith_client c1, c2;
    uint64_t ep1, ep2, ep_slot = pith_slot_alloc();
    uint32_t id, key;
    UT_EQ(mm_start(&m), PITH_OK);
    UT_EQ(mm_client(&m, &c1, "mem-c1", 8, &ep1), 1);
    UT_EQ(mm_client(&m, &c2, "mem-c2", 1000, &ep2), 2);
    /* Quota: all or nothing, the error clean, nothing charged. */
    UT_EQ(mem_anon(&c1, REGION_A, 9), MEM_E_QUOTA);
    UT_EQ(mem_anon(&c1, REGION_A, 8), PITH_OK);
    UT_EQ(mem_anon(&c1, REGION_A + 0x100000, 1), MEM_E_QUOTA);
    UT_EQ(mem_share_create(&c1, 1, &key), MEM_E_QUOTA);
    UT_EQ(mem_cow(&c1, REGION_A, REGION_A + 0x100000), MEM_E_QUOTA);
    /* The manager's own memory: committed pages are never promised twice. */
    uint32_t regions = 0;
    long err = PITH_OK;
    while (err == PITH_OK && regions < 16)
        err = mem_anon(&c2, REGION_B + regions++ * 0x100000, MEM_REGION_PAGES);
    UT_EQ(err, MEM_E_NO_MEMORY);
    UT_EQ(regions, (mm_state.pool_pages - 8) / MEM_REGION_PAGES + 1);
    /* Ranges. */
    UT_EQ(mem_anon(&c1, REGION_A + 1, 1), MEM_E_BAD_RANGE);
    UT_EQ(mem_anon(&c1, REGION_A, 0), MEM_E_BAD_RANGE);
    UT_EQ(mem_anon(&c2, REGION_B + 0x2000000, MEM_REGION_PAGES + 1), MEM_E_BAD_RANGE);
    UT_EQ(mem_anon(&c2, 0x7f8000000000ull - PAGE, 2), MEM_E_BAD_RANGE);
    UT_EQ(mem_anon(&c2, REGION_B + PAGE, 1), MEM_E_BAD_RANGE);      /* overlaps */
    UT_EQ(mem_free(&c1, REGION_A + PAGE), MEM_E_NO_REGION);
    UT_EQ(mem_free(&c2, REGION_A), MEM_E_NO_REGION);                /* c1's, not c2's */
    UT_EQ(mem_cow(&c1, REGION_A + PAGE, REGION_A + 0x100000), MEM_E_NO_REGION);
    UT_EQ(mem_share_create(&c2, 0, &key), MEM_E_BAD_RANGE);
    UT_EQ(mem_share_create(&c2, MEM_SHARE_PAGES + 1, &key), MEM_E_BAD_RANGE);
    UT_EQ(mem_share_map(&c2, 0, REGION_B + 0x3000000, true), MEM_E_NO_SHARE);
    UT_EQ(mem_share_map(&c2, MEM_SHARES + 1, REGION_B + 0x3000000, true), MEM_E_NO_SHARE);
    UT_EQ(mem_share_destroy(&c2, 3), MEM_E_NO_SHARE);
    /* Owner and clients keep to their own messages. */
    UT_EQ(mem_anon(&m.owner, REGION_A, 1), MEM_E_DENIED);
    UT_EQ(mem_free(&m.owner, REGION_A), MEM_E_DENIED);
    UT_EQ(mem_client_close(&c1, 1), MEM_E_DENIED);
    uint64_t space = pith_slot_alloc();
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, space, PITH_SLOT_VSPACE, PITH_RIGHTS_ALL, 0), PITH_OK);
    UT_EQ(mem_client_new(&c1, space, 1, &id, ep_slot), MEM_E_DENIED);
    UT_EQ(mem_client_new(&m.owner, m.ep, 1, &id, ep_slot), MEM_E_NOT_SPACE);
    UT_EQ(mem_client_close(&m.owner, 0), MEM_E_NO_CLIENT);
    UT_EQ(mem_client_close(&m.owner, MEM_CLIENTS + 1), MEM_E_NO_CLIENT);
    UT_EQ(mem_client_close(&m.owner, 3), MEM_E_NO_CLIENT);
    /* Closing gives everything back; a closed client's endpoint is gone. */
    UT_EQ(mem_client_close(&m.owner, 1), PITH_OK);
    UT_EQ(mem_client_close(&m.owner, 2), PITH_OK);
    struct pith_msg idm = { .w = { ep1 } };
    UT_EQ(pith_invoke(PITH_SLOT_CSPACE, PITH_CNODE_IDENTIFY, &idm), PITH_OK);
    UT_EQ(idm.w[0], PITH_OBJ_NULL);
    UT_ASSERT(mm_accounted(&m));
    UT_ASSERT(mm_stop(&m));
}

/* ---- copy-on-write ---- */

#define COW_PAGES 16
static volatile uint64_t cow_done;

static void fill(uint64_t va)
{
    for (uint64_t i = 0; i < COW_PAGES; i++)
        *(volatile uint64_t *)(va + i * PAGE) = 0xc000 + i;
    cow_done++;
}

/* Writes word 1 of its pages (all, or the even ones) with its mark, yielding between pages. */
static void cow_writer(uint64_t arg)
{
    uint64_t va = arg & ~0xfffull, mark = arg & 0xfff;
    for (uint64_t i = 0; i < COW_PAGES; i++) {
        if (mark == 0xb && (i & 1))
            continue;
        ((volatile uint64_t *)(va + i * PAGE))[1] = mark << 12 | i;
        pith_yield();
    }
    cow_done++;
}

static uint64_t cow_seen[COW_PAGES][4];

/* Words 0 and 1 of every page of the original, then of the copy. */
static void cow_reader(uint64_t va)
{
    for (uint64_t i = 0; i < COW_PAGES; i++)
        for (int k = 0; k < 2; k++) {
            cow_seen[i][k] = ((volatile uint64_t *)(va + i * PAGE))[k];
            cow_seen[i][2 + k] = ((volatile uint64_t *)(va + 0x100000 + i * PAGE))[k];
        }
    cow_done++;
}

UTEST(mem_copy_on_write_two_writers)
{
    struct mm m;
    struct pith_client c;
    uint64_t ep;
    UT_EQ(mm_start(&m), PITH_OK);
    UT_ASSERT(mm_client(&m, &c, "mem-c1", 64, &ep));
    UT_EQ(mem_anon(&c, REGION_A, COW_PAGES), PITH_OK);
    cow_done = 0;
    uint64_t t = client_thread(fill, REGION_A, ep, 150);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_ASSERT(wait_for(&cow_done, 1));
    end_thread(t);
    UT_EQ(mem_cow(&c, REGION_A, REGION_A + 0x100000), PITH_OK);
    uint32_t q, used, pages, refused;
    uint64_t bytes;
    UT_EQ(mem_stats(&c, &q, &used, &pages, &bytes, &refused), PITH_OK);
    UT_EQ(used, 2 * COW_PAGES);
    UT_EQ(pages, mm_state.pool_pages - COW_PAGES);     /* shared until written */
    /* Two threads at one priority, taking turns: one writes every page of the original, one the even pages of the copy. */
    cow_done = 0;
    uint64_t t1 = client_thread(cow_writer, REGION_A | 0xa, ep, 150);
    uint64_t t2 = client_thread(cow_writer, (REGION_A + 0x100000) | 0xb, ep, 150);
    UT_EQ(pith_invoke4(t1, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(t2, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_ASSERT(wait_for(&cow_done, 2));
    /* Read back by a thread of the client (pages it never wrote may be unmapped). */
    uint64_t t3 = client_thread(cow_reader, REGION_A, ep, 150);
    UT_EQ(pith_invoke4(t3, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_ASSERT(wait_for(&cow_done, 3));
    end_thread(t3);
    for (uint64_t i = 0; i < COW_PAGES; i++) {
        UT_EQ(cow_seen[i][0], 0xc000 + i);
        UT_EQ(cow_seen[i][2], 0xc000 + i);
        UT_EQ(cow_seen[i][1], 0xa000 + i);
        UT_EQ(cow_seen[i][3], (i & 1) ? 0 : 0xb000 + i);
    }
    /* Every page was written on one side at least: each has two frames now. */
    UT_EQ(mem_stats(&c, &q, &used, &pages, &bytes, &refused), PITH_OK);
    UT_EQ(pages, mm_state.pool_pages - 2 * COW_PAGES);
    end_thread(t1);
    end_thread(t2);
    UT_EQ(mem_free(&c, REGION_A), PITH_OK);
    UT_EQ(mem_free(&c, REGION_A + 0x100000), PITH_OK);
    UT_EQ(mem_client_close(&m.owner, 1), PITH_OK);
    UT_ASSERT(mm_accounted(&m));
    UT_ASSERT(mm_stop(&m));
}

/* ---- shared objects ---- */

static volatile uint64_t share_done, share_seen;

static void share_writer(uint64_t va)
{
    *(volatile uint64_t *)(va + PAGE) = 0x5ade;
    share_done++;
}

static void share_reader(uint64_t va)
{
    share_seen = *(volatile uint64_t *)(va + PAGE);
    share_done++;
    *(volatile uint64_t *)va = 1;           /* read-only here: refused, the thread stops */
    share_done++;
}

UTEST(mem_shared_object_with_fewer_rights)
{
    struct mm m;
    struct pith_client c1, c2;
    uint64_t ep1, ep2;
    uint32_t key, q, used, pages, refused;
    uint64_t bytes;
    UT_EQ(mm_start(&m), PITH_OK);
    UT_ASSERT(mm_client(&m, &c1, "mem-c1", 8, &ep1));
    UT_ASSERT(mm_client(&m, &c2, "mem-c2", 8, &ep2));
    UT_EQ(mem_share_create(&c1, 4, &key), PITH_OK);
    UT_EQ(mem_share_map(&c1, key, REGION_A, true), PITH_OK);
    UT_EQ(mem_share_map(&c2, key, REGION_B, false), PITH_OK);
    UT_EQ(mem_stats(&c1, &q, &used, &pages, &bytes, &refused), PITH_OK);
    UT_EQ(used, 4);
    UT_EQ(mem_stats(&c2, &q, &used, &pages, &bytes, &refused), PITH_OK);
    UT_EQ(used, 0);                         /* the creator pays */
    share_done = share_seen = 0;
    uint64_t w = client_thread(share_writer, REGION_A, ep1, 150);
    UT_EQ(pith_invoke4(w, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_ASSERT(wait_for(&share_done, 1));
    uint64_t r = client_thread(share_reader, REGION_B, ep2, 150);
    UT_EQ(pith_invoke4(r, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_ASSERT(wait_for(&share_done, 2));
    UT_EQ(share_seen, 0x5ade);
    /* The write through the read-only mapping is refused: the kernel suspends the thread. */
    pith_sleep_ns(20000000);
    UT_EQ(share_done, 2);
    UT_EQ(thread_state(r), 0);
    UT_EQ(mem_stats(&c2, &q, &used, &pages, &bytes, &refused), PITH_OK);
    UT_EQ(refused, 1);
    /* Only the creator destroys it; its pages stay while mapped. */
    UT_EQ(mem_share_destroy(&c2, key), MEM_E_NO_SHARE);
    UT_EQ(mem_share_destroy(&c1, key), PITH_OK);
    UT_EQ(mem_share_map(&c2, key, REGION_B + 0x100000, true), MEM_E_NO_SHARE);
    UT_EQ(((volatile uint64_t *)REGION_B)[PAGE / 8], 0x5ade);
    UT_EQ(mem_stats(&c1, &q, &used, &pages, &bytes, &refused), PITH_OK);
    UT_EQ(used, 4);
    UT_EQ(mem_free(&c1, REGION_A), PITH_OK);
    UT_EQ(mem_free(&c2, REGION_B), PITH_OK);
    UT_EQ(mem_stats(&c1, &q, &used, &pages, &bytes, &refused), PITH_OK);
    UT_EQ(used, 0);
    end_thread(w);
    end_thread(r);
    UT_EQ(mem_client_close(&m.owner, 1), PITH_OK);
    UT_EQ(mem_client_close(&m.owner, 2), PITH_OK);
    UT_ASSERT(mm_accounted(&m));
    UT_ASSERT(mm_stop(&m));
}

/* ---- the pager dies ---- */

static volatile uint64_t orphan_done;

static void orphan(uint64_t va)
{
    *(volatile uint64_t *)va = 1;
    orphan_done++;
}

UTEST(mem_pager_dies_with_faults_waiting)
{
    struct mm m;
    struct pith_client c;
    uint64_t ep;
    UT_EQ(mm_start(&m), PITH_OK);
    UT_ASSERT(mm_client(&m, &c, "mem-c1", 8, &ep));
    UT_EQ(mem_anon(&c, REGION_A, 4), PITH_OK);
    /* The pager stops; two threads fault and wait on its endpoint. */
    UT_EQ(pith_invoke4(m.tcb, PITH_TCB_SUSPEND, 0, 0, 0, 0), PITH_OK);
    orphan_done = 0;
    uint64_t t1 = client_thread(orphan, REGION_A, ep, 150), t2 = client_thread(orphan, REGION_A + PAGE, ep, 150);
    UT_EQ(pith_invoke4(t1, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(t2, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    pith_sleep_ns(5000000);
    UT_ASSERT(thread_state(t1) != 0 && thread_state(t2) != 0);      /* blocked in their faults */
    /* It dies: the faults end, the threads are suspended (and reported), nothing hangs. */
    UT_ASSERT(mm_stop(&m));
    UT_EQ(thread_state(t1), 0);
    UT_EQ(thread_state(t2), 0);
    UT_EQ(orphan_done, 0);
    /* A call to it fails at once. */
    registry_set("mem-c1", 0);
    uint32_t q, used, pages, refused;
    uint64_t bytes;
    c.retries = 0;
    UT_ASSERT(mem_stats(&c, &q, &used, &pages, &bytes, &refused) != PITH_OK);
    end_thread(t1);
    end_thread(t2);
}

/* ---- the pager dies holding a fault ---- */

static uint64_t mute_ep, mute_reply;
static volatile uint64_t mute_called;

/* A mapper that takes one call and never answers: the manager waits in it, holding the fault. */
static void mute_mapper(uint64_t unused)
{
    struct pith_msg m = { 0 };
    pith_recv(mute_ep, &m, mute_reply);
    mute_called = 1;
    for (;;)
        pith_sleep_ns(1000000000000ull);
}

UTEST(mem_pager_dies_holding_a_fault)
{
    struct mm m;
    struct pith_client c;
    uint64_t ep;
    mute_ep = make_object(PITH_OBJ_ENDPOINT, 0);
    mute_reply = make_object(PITH_OBJ_REPLY, 0);
    mute_called = 0;
    uint64_t mapper = make_thread(mute_mapper, 0, 160);
    UT_EQ(pith_invoke4(mapper, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_EQ(mm_start(&m), PITH_OK);
    UT_ASSERT(mm_client(&m, &c, "mem-c1", 8, &ep));
    UT_EQ(mem_segment_map(&c, mute_ep, 1, REGION_A, 2), PITH_OK);
    orphan_done = 0;
    uint64_t t = client_thread(orphan, REGION_A, ep, 150);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_ASSERT(wait_for(&mute_called, 1));
    UT_ASSERT(thread_state(t) != 0);        /* its fault is held by the manager, which waits */
    /* The manager is destroyed with the fault in its hands: the thread is suspended, not left waiting. */
    UT_ASSERT(mm_stop(&m));
    UT_EQ(thread_state(t), 0);
    UT_EQ(orphan_done, 0);
    end_thread(t);
    end_thread(mapper);
}
