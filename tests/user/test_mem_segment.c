/*
 * Segments and mappers (CHORUS) through the memory manager: faults filled
 * by the mapper, dirty pages written back on sync and on unmap, the page
 * lent to the mapper only for the call, a mapper refusing, a mapper that
 * never answers or answers too late, reclaim evicting pages by their
 * use, and the protocol's errors.
 */
#include "memtest.h"
#include "lib/string.h"

#define SEG_PAGES   4
#define DISK_PAGES  8
#define SEG_KEY     7
#define MB          0x100000ull
#define SCRATCH     0x5a00000000ull     /* where the mapper maps the page it is lent */

static uint64_t disk[DISK_PAGES][PAGE / 8];
static volatile uint64_t pulls, pushes;
static uint64_t kept;                   /* the mapper keeps the page it was lent here, mapped */
static volatile uint64_t delay_once;    /* ns the mapper sleeps before its next answer */
static volatile uint64_t late;          /* calls it answered after such a sleep */

/* A mapper that is slow once: the manager's call has timed out when it goes on. */
static void maybe_slow(void)
{
    uint64_t d = delay_once;
    if (!d)
        return;
    delay_once = 0;
    pith_sleep_ns(d);
    late++;
}

static long lent_page(uint64_t page, uint8_t rights)
{
    /* Keep the loan past the call, mapped: the manager's revoke must end both. */
    if (pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_MOVE, kept, page, 0, 0))
        return MAPPER_E_NO_DATA;
    return map_frame(PITH_SLOT_VSPACE, kept, SCRATCH, rights) ? MAPPER_E_NO_DATA : PITH_OK;
}

static long pull(void *ctx, uint64_t key, uint64_t offset, uint64_t page)
{
    maybe_slow();
    if (key != SEG_KEY || offset >= DISK_PAGES * PAGE || lent_page(page, PITH_RIGHT_READ | PITH_RIGHT_WRITE))
        return MAPPER_E_NO_DATA;
    memcpy((void *)SCRATCH, disk[offset / PAGE], PAGE);
    pulls++;
    return PITH_OK;
}

static long push(void *ctx, uint64_t key, uint64_t offset, uint64_t page)
{
    maybe_slow();
    if (key != SEG_KEY || offset >= DISK_PAGES * PAGE || lent_page(page, PITH_RIGHT_READ))
        return MAPPER_E_NO_DATA;
    memcpy(disk[offset / PAGE], (const void *)SCRATCH, PAGE);
    pushes++;
    return PITH_OK;
}

static const struct mapper_handlers mapper = { .pull = pull, .push = push };
static struct pith_server mapper_srv;

static void mapper_thread(uint64_t unused)
{
    mapper_serve(&mapper_srv, &mapper, NULL);
}

/* ---- the client's threads ---- */

static volatile uint64_t seen[SEG_PAGES], steps;

static void reader_writer(uint64_t va)
{
    for (int i = 0; i < SEG_PAGES; i++)
        seen[i] = *(volatile uint64_t *)(va + i * PAGE);
    ((volatile uint64_t *)(va + 1 * PAGE))[1] = 0xd1;
    ((volatile uint64_t *)(va + 3 * PAGE))[1] = 0xd3;
    steps++;
}

static void writer(uint64_t va)
{
    ((volatile uint64_t *)va)[1] = 0xd2;
    steps++;
}

static bool lent_pages_gone(void)
{
    struct pith_msg m = { .w = { kept } };
    pith_invoke(PITH_SLOT_CSPACE, PITH_CNODE_IDENTIFY, &m);
    struct pith_msg ad = { .w = { SCRATCH, 1 } };
    pith_invoke(PITH_SLOT_VSPACE, PITH_VSPACE_AD_BITS, &ad);
    return m.w[0] == PITH_OBJ_NULL && ad.w[0] == 0;
}

/* The disk filled afresh and the mapper's thread started; returns the thread (0: failed). */
static uint64_t start_mapper(void)
{
    for (int i = 0; i < DISK_PAGES; i++) {
        memset(disk[i], 0, PAGE);
        disk[i][0] = 0xd15c00 + (uint64_t)i;
    }
    pulls = pushes = steps = late = delay_once = 0;
    kept = pith_slot_alloc();
    mapper_srv = (struct pith_server){ .ep = make_object(PITH_OBJ_ENDPOINT, 0), .reply = make_object(PITH_OBJ_REPLY, 0),
                                       .cap_slot = pith_slot_alloc() };
    uint64_t mt = make_thread(mapper_thread, 0, 160);
    if (!mt)
        return 0;
    /* make_thread put its IPC buffer 0x2000 above its stack page. */
    struct pith_msg regs = { 0 };
    pith_invoke(mt, PITH_TCB_READ_REGISTERS, &regs);
    mapper_srv.buf = (struct pith_ipc_buffer *)((regs.w[1] & ~0x3fffull) + 0x2000);
    return pith_invoke4(mt, PITH_TCB_RESUME, 0, 0, 0, 0) ? 0 : mt;
}

UTEST(mem_segment_mapper_fills_and_takes_back)
{
    struct mm m;
    struct pith_client c;
    uint64_t ep;
    uint32_t written;
    uint64_t mt = start_mapper();
    UT_ASSERT(mt);

    UT_EQ(mm_start(&m), PITH_OK);
    UT_ASSERT(mm_client(&m, &c, "mem-c1", 8, &ep));
    /* Errors first: the mapper must be an endpoint we may call and pass pages through. */
    uint64_t no_grant = pith_slot_alloc();
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, no_grant, mapper_srv.ep, PITH_RIGHT_WRITE, 0), PITH_OK);
    UT_EQ(mem_segment_map(&c, no_grant, SEG_KEY, REGION_A, SEG_PAGES), MEM_E_BAD_MAPPER);
    UT_EQ(mem_segment_map(&c, mapper_srv.reply, SEG_KEY, REGION_A, SEG_PAGES), MEM_E_BAD_MAPPER);
    UT_EQ(mem_segment_map(&c, mapper_srv.ep, SEG_KEY, REGION_A, 9), MEM_E_QUOTA);
    UT_EQ(mem_segment_map(&c, mapper_srv.ep, SEG_KEY, REGION_A + 1, 1), MEM_E_BAD_RANGE);
    UT_EQ(mem_segment_map(&m.owner, mapper_srv.ep, SEG_KEY, REGION_A, 1), MEM_E_DENIED);
    UT_EQ(mem_segment_sync(&c, REGION_A, &written), MEM_E_NO_REGION);
    UT_EQ(mem_segment_map(&c, mapper_srv.ep, SEG_KEY, REGION_A, SEG_PAGES), PITH_OK);
    UT_EQ(mem_anon(&c, REGION_A + 0x100000, 1), PITH_OK);
    UT_EQ(mem_segment_sync(&c, REGION_A + 0x100000, &written), MEM_E_NO_REGION);     /* not a segment */
    UT_EQ(mem_segment_sync(&m.owner, REGION_A, &written), MEM_E_DENIED);

    /* Faults are filled from the segment; two pages are written. */
    uint64_t t = client_thread(reader_writer, REGION_A, ep, 150);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_ASSERT(wait_for(&steps, 1));
    end_thread(t);
    UT_EQ(pulls, SEG_PAGES);
    for (int i = 0; i < SEG_PAGES; i++)
        UT_EQ(seen[i], 0xd15c00 + (uint64_t)i);
    UT_ASSERT(lent_pages_gone());
    /* Sync writes exactly the dirty pages back, once. */
    UT_EQ(mem_segment_sync(&c, REGION_A, &written), PITH_OK);
    UT_EQ(written, 2);
    UT_EQ(pushes, 2);
    UT_EQ(disk[1][1], 0xd1);
    UT_EQ(disk[3][1], 0xd3);
    UT_EQ(disk[0][1], 0);
    UT_EQ(disk[2][1], 0);
    UT_ASSERT(lent_pages_gone());
    UT_EQ(mem_segment_sync(&c, REGION_A, &written), PITH_OK);
    UT_EQ(written, 0);
    /* Unmapping writes back what is dirty. */
    t = client_thread(writer, REGION_A + 2 * PAGE, ep, 150);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_ASSERT(wait_for(&steps, 2));
    end_thread(t);
    UT_EQ(mem_free(&c, REGION_A), PITH_OK);
    UT_EQ(pushes, 3);
    UT_EQ(disk[2][1], 0xd2);
    UT_EQ(disk[2][0], 0xd15c02);

    /* A segment the mapper does not know: the fault is refused and the thread stopped. */
    UT_EQ(mem_segment_map(&c, mapper_srv.ep, SEG_KEY + 1, REGION_A, 2), PITH_OK);
    t = client_thread(writer, REGION_A, ep, 150);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    pith_sleep_ns(20000000);
    UT_EQ(steps, 2);
    UT_EQ(thread_state(t), 0);
    uint32_t q, used, pages, refused;
    uint64_t bytes;
    UT_EQ(mem_stats(&c, &q, &used, &pages, &bytes, &refused), PITH_OK);
    UT_EQ(refused, 1);
    UT_EQ(pages, mm_state.pool_pages);      /* the frame taken for the fill went back */
    end_thread(t);
    UT_EQ(mem_free(&c, REGION_A), PITH_OK);
    UT_EQ(mem_client_close(&m.owner, 1), PITH_OK);
    UT_ASSERT(mm_accounted(&m));
    UT_ASSERT(mm_stop(&m));
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, mt, 0, 0, 0);
}

/* ---- a mapper that never answers ---- */

static uint64_t mute_ep, mute_reply;
static volatile uint64_t mute_calls, anon_done;

/* Takes one call and never answers; never takes another. */
static void mute_mapper(uint64_t unused)
{
    struct pith_msg m = { 0 };
    pith_recv(mute_ep, &m, mute_reply);
    mute_calls++;
    for (;;)
        pith_sleep_ns(1000000000000ull);
}

static void anon_writer(uint64_t va)
{
    *(volatile uint64_t *)va = 5;
    anon_done++;
}

static uint64_t now_ns(void)
{
    return pith_clock_ns((const struct pith_time_page *)pith_bootinfo->time_page);
}

static uint32_t refused_of(struct pith_client *c)
{
    uint32_t q, used, pages, refused;
    uint64_t bytes;
    return mem_stats(c, &q, &used, &pages, &bytes, &refused) ? ~0u : refused;
}

UTEST(mem_segment_mapper_never_answers)
{
    struct mm m;
    struct pith_client c1, c2;
    uint64_t ep1, ep2;
    mute_ep = make_object(PITH_OBJ_ENDPOINT, 0);
    mute_reply = make_object(PITH_OBJ_REPLY, 0);
    mute_calls = anon_done = steps = 0;
    uint64_t mute = make_thread(mute_mapper, 0, 160);
    UT_EQ(pith_invoke4(mute, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_EQ(mm_start(&m), PITH_OK);
    UT_ASSERT(mm_client(&m, &c1, "mem-c1", 8, &ep1));
    UT_ASSERT(mm_client(&m, &c2, "mem-c2", 8, &ep2));
    UT_EQ(mem_segment_map(&c1, mute_ep, 1, REGION_A, 2), PITH_OK);
    UT_EQ(mem_anon(&c2, REGION_B, 1), PITH_OK);

    /* The manager calls the mapper, which takes the call and says nothing; another client faults meanwhile. */
    uint64_t t0 = now_ns();
    uint64_t t1 = client_thread(writer, REGION_A, ep1, 150);
    UT_EQ(pith_invoke4(t1, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_ASSERT(wait_for(&mute_calls, 1));
    uint64_t t2 = client_thread(anon_writer, REGION_B, ep2, 150);
    UT_EQ(pith_invoke4(t2, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    /* It is served once the call has timed out; the first fault is refused then. */
    for (int i = 0; i < 300 && !anon_done; i++)
        pith_sleep_ns(10000000);
    uint64_t waited = now_ns() - t0;
    UT_EQ(anon_done, 1);
    UT_ASSERT(waited >= MEM_MAPPER_TIMEOUT_NS && waited < 3 * MEM_MAPPER_TIMEOUT_NS);
    UT_EQ(steps, 0);
    UT_EQ(thread_state(t1), 0);
    UT_EQ(refused_of(&c1), 1);
    UT_EQ(refused_of(&c2), 0);

    /* A second fault: the mapper never takes the call now, and waiting to be taken ends the same way. */
    uint64_t t3 = client_thread(writer, REGION_A + PAGE, ep1, 150);
    UT_EQ(pith_invoke4(t3, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    pith_sleep_ns(10000000);
    t0 = now_ns();
    UT_EQ(refused_of(&c1), 2);              /* answered after the manager gave up on the mapper */
    UT_ASSERT(now_ns() - t0 >= MEM_MAPPER_TIMEOUT_NS / 2);
    UT_EQ(thread_state(t3), 0);
    UT_EQ(steps, 0);
    UT_EQ(mute_calls, 1);
    end_thread(t1);
    end_thread(t2);
    end_thread(t3);
    UT_EQ(mem_free(&c1, REGION_A), PITH_OK);        /* nothing was filled: nothing to write back */
    UT_EQ(mem_client_close(&m.owner, 1), PITH_OK);
    UT_EQ(mem_client_close(&m.owner, 2), PITH_OK);
    UT_ASSERT(mm_accounted(&m));
    UT_ASSERT(mm_stop(&m));
    end_thread(mute);
}

/* ---- a mapper that answers after the manager gave up ---- */

static void read_one(uint64_t va)
{
    seen[0] = *(volatile uint64_t *)va;
    steps++;
}

UTEST(mem_segment_mapper_answers_late)
{
    struct mm m;
    struct pith_client c;
    uint64_t ep;
    uint32_t written, q, used, pages, refused;
    uint64_t bytes;
    uint64_t mt = start_mapper();
    UT_ASSERT(mt);
    UT_EQ(mm_start(&m), PITH_OK);
    UT_ASSERT(mm_client(&m, &c, "mem-c1", 8, &ep));
    UT_EQ(mem_segment_map(&c, mapper_srv.ep, SEG_KEY, REGION_A, 2), PITH_OK);
    uint64_t t = client_thread(writer, REGION_A, ep, 150);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_ASSERT(wait_for(&steps, 1));
    end_thread(t);
    UT_EQ(pulls, 1);

    /* The write-back times out: sync says so, and the page stays dirty. */
    delay_once = MEM_MAPPER_TIMEOUT_NS * 3 / 2;
    UT_EQ(mem_segment_sync(&c, REGION_A, &written), MEM_E_MAPPER);
    UT_ASSERT(wait_for(&late, 1));          /* its answer found nobody */
    UT_EQ(pushes, 0);
    UT_ASSERT(lent_pages_gone());
    UT_EQ(mem_segment_sync(&c, REGION_A, &written), PITH_OK);
    UT_EQ(written, 1);
    UT_EQ(pushes, 1);
    UT_EQ(disk[0][1], 0xd2);
    /* Written again; freeing times out: the region stays, then goes with its page written. */
    disk[0][1] = 0;
    steps = 0;
    t = client_thread(writer, REGION_A, ep, 150);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_ASSERT(wait_for(&steps, 1));
    end_thread(t);
    delay_once = MEM_MAPPER_TIMEOUT_NS * 3 / 2;
    UT_EQ(mem_free(&c, REGION_A), MEM_E_MAPPER);
    UT_ASSERT(wait_for(&late, 2));
    UT_EQ(mem_stats(&c, &q, &used, &pages, &bytes, &refused), PITH_OK);
    UT_EQ(used, 2);
    UT_EQ(mem_free(&c, REGION_A), PITH_OK);
    UT_EQ(pushes, 2);
    UT_EQ(disk[0][1], 0xd2);

    /* A pull that times out: the fault is refused; touched again, the page is filled right. */
    UT_EQ(mem_segment_map(&c, mapper_srv.ep, SEG_KEY, REGION_A, 2), PITH_OK);
    delay_once = MEM_MAPPER_TIMEOUT_NS * 3 / 2;
    steps = 0;
    t = client_thread(read_one, REGION_A + PAGE, ep, 150);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_ASSERT(wait_for(&late, 3));
    UT_EQ(steps, 0);
    UT_EQ(thread_state(t), 0);
    UT_EQ(refused_of(&c), 1);
    end_thread(t);
    seen[0] = 0;
    t = client_thread(read_one, REGION_A + PAGE, ep, 150);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_ASSERT(wait_for(&steps, 1));
    end_thread(t);
    UT_EQ(seen[0], 0xd15c01);
    UT_EQ(pulls, 2);
    UT_EQ(mem_free(&c, REGION_A), PITH_OK);
    UT_EQ(mem_client_close(&m.owner, 1), PITH_OK);
    UT_ASSERT(mm_accounted(&m));
    UT_ASSERT(mm_stop(&m));
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, mt, 0, 0, 0);
}

/* ---- reclaim evicts segment pages, least recently used first ---- */

#define RECLAIM_PAGES 8

static void touch_all(uint64_t va)
{
    for (int i = 0; i < RECLAIM_PAGES; i++)
        seen[i % SEG_PAGES] = *(volatile uint64_t *)(va + i * PAGE);
    ((volatile uint64_t *)(va + 1 * PAGE))[1] = 0xe1;
    ((volatile uint64_t *)(va + 5 * PAGE))[1] = 0xe5;
    *(volatile uint64_t *)(va + MB) = 0xa;          /* the anonymous region */
    steps++;
}

static void touch_first_half(uint64_t va)
{
    for (int i = 0; i < RECLAIM_PAGES / 2; i++)
        seen[i] = *(volatile uint64_t *)(va + i * PAGE);
    steps++;
}

static void read_back(uint64_t va)
{
    seen[0] = ((volatile uint64_t *)(va + 5 * PAGE))[1];
    seen[1] = ((volatile uint64_t *)(va + 4 * PAGE))[0];
    steps++;
}

static uint32_t used_of(struct pith_client *c)
{
    uint32_t q, used, pages, refused;
    uint64_t bytes;
    return mem_stats(c, &q, &used, &pages, &bytes, &refused) ? ~0u : used;
}

UTEST(mem_reclaim_evicts_segment_pages_by_use)
{
    struct mm m;
    struct pith_client c;
    uint64_t ep, taken[32], taken_len, deadline;
    uint32_t target;
    uint64_t mt = start_mapper();
    UT_ASSERT(mt);
    UT_EQ(mm_start(&m), PITH_OK);
    uint32_t id = mm_client(&m, &c, "mem-c1", 16, &ep);
    UT_ASSERT(id);
    UT_EQ(mem_segment_map(&c, mapper_srv.ep, SEG_KEY, REGION_A, RECLAIM_PAGES), PITH_OK);
    UT_EQ(mem_anon(&c, REGION_A + MB, 2), PITH_OK);
    /* Every page in, two of them written. */
    uint64_t t = client_thread(touch_all, REGION_A, ep, 150);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_ASSERT(wait_for(&steps, 1));
    end_thread(t);
    UT_EQ(pulls, RECLAIM_PAGES);
    UT_EQ(used_of(&c), 10);

    /* Asked for 4 pages back; the client touches only the first half before the deadline. */
    UT_EQ(mem_reclaim(&m.owner, id, 6, 200), PITH_OK);
    t = client_thread(touch_first_half, REGION_A, ep, 150);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_ASSERT(wait_for(&steps, 2));
    end_thread(t);
    for (int i = 0; i < 300 && used_of(&c) != 6; i++)
        pith_sleep_ns(10000000);
    /* The untouched half went, page by page (the dirty one written back first); no region was taken. */
    UT_EQ(used_of(&c), 6);
    struct pith_msg ad = { .w = { REGION_A, RECLAIM_PAGES } };
    UT_EQ(pith_invoke(PITH_SLOT_VSPACE, PITH_VSPACE_AD_BITS, &ad), PITH_OK);
    UT_EQ(ad.w[0], 0x0f);
    UT_EQ(pushes, 1);
    UT_EQ(disk[5][1], 0xe5);
    UT_EQ(disk[1][1], 0);
    UT_EQ(mem_reclaim_status(&c, &target, &deadline, (uint8_t *)taken, &taken_len), PITH_OK);
    UT_EQ(target, MEM_NO_TARGET);
    UT_EQ(taken_len, 0);
    UT_EQ(mm_state.pages_free, mm_state.pool_pages - 4 - 1);

    /* Touched again, evicted pages come back from the mapper with what was written; charged again. */
    steps = 0;
    t = client_thread(read_back, REGION_A, ep, 150);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_ASSERT(wait_for(&steps, 1));
    end_thread(t);
    UT_EQ(seen[0], 0xe5);
    UT_EQ(seen[1], 0xd15c04);
    UT_EQ(pulls, RECLAIM_PAGES + 2);
    UT_EQ(used_of(&c), 8);

    /*
     * Asked for everything: every segment page goes first (the dirty one
     * written back), then the anonymous region, which is listed.  The
     * segment region, charged for nothing now, stays.
     */
    UT_EQ(mem_reclaim(&m.owner, id, 0, 10), PITH_OK);
    for (int i = 0; i < 300 && used_of(&c) != 0; i++)
        pith_sleep_ns(10000000);
    UT_EQ(used_of(&c), 0);
    UT_EQ(pushes, 2);
    UT_EQ(disk[1][1], 0xe1);
    UT_EQ(mem_reclaim_status(&c, &target, &deadline, (uint8_t *)taken, &taken_len), PITH_OK);
    UT_EQ(taken_len, 8);
    UT_EQ(taken[0], REGION_A + MB);
    ad = (struct pith_msg){ .w = { REGION_A, RECLAIM_PAGES } };
    UT_EQ(pith_invoke(PITH_SLOT_VSPACE, PITH_VSPACE_AD_BITS, &ad), PITH_OK);
    UT_EQ(ad.w[0], 0);
    UT_EQ(mm_state.pages_free, mm_state.pool_pages);
    UT_EQ(mem_client_close(&m.owner, id), PITH_OK);
    UT_ASSERT(mm_accounted(&m));
    UT_ASSERT(mm_stop(&m));
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, mt, 0, 0, 0);
}
