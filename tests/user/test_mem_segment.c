/*
 * Segments and mappers (CHORUS) through the memory manager: faults filled
 * by the mapper, dirty pages written back on sync and on unmap, the page
 * lent to the mapper only for the call, a mapper refusing, and the
 * protocol's errors.
 */
#include "memtest.h"
#include "lib/string.h"

#define SEG_PAGES   4
#define SEG_KEY     7
#define SCRATCH     0x5a00000000ull     /* where the mapper maps the page it is lent */

static uint64_t disk[SEG_PAGES][PAGE / 8];
static volatile uint64_t pulls, pushes;
static uint64_t kept;                   /* the mapper keeps the page it was lent here, mapped */

static long lent_page(uint64_t page, uint8_t rights)
{
    /* Keep the loan past the call, mapped: the manager's revoke must end both. */
    if (pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_MOVE, kept, page, 0, 0))
        return MAPPER_E_NO_DATA;
    return map_frame(PITH_SLOT_VSPACE, kept, SCRATCH, rights) ? MAPPER_E_NO_DATA : PITH_OK;
}

static long pull(void *ctx, uint64_t key, uint64_t offset, uint64_t page)
{
    if (key != SEG_KEY || offset >= SEG_PAGES * PAGE || lent_page(page, PITH_RIGHT_READ | PITH_RIGHT_WRITE))
        return MAPPER_E_NO_DATA;
    memcpy((void *)SCRATCH, disk[offset / PAGE], PAGE);
    pulls++;
    return PITH_OK;
}

static long push(void *ctx, uint64_t key, uint64_t offset, uint64_t page)
{
    if (key != SEG_KEY || offset >= SEG_PAGES * PAGE || lent_page(page, PITH_RIGHT_READ))
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

UTEST(mem_segment_mapper_fills_and_takes_back)
{
    struct mm m;
    struct pith_client c;
    uint64_t ep;
    uint32_t written;
    for (int i = 0; i < SEG_PAGES; i++) {
        memset(disk[i], 0, PAGE);
        disk[i][0] = 0xd15c00 + (uint64_t)i;
    }
    pulls = pushes = steps = 0;
    kept = pith_slot_alloc();
    mapper_srv = (struct pith_server){ .ep = make_object(PITH_OBJ_ENDPOINT, 0), .reply = make_object(PITH_OBJ_REPLY, 0),
                                       .cap_slot = pith_slot_alloc() };
    uint64_t mt = make_thread(mapper_thread, 0, 160);
    UT_ASSERT(mt);
    /* make_thread put its IPC buffer 0x2000 above its stack page. */
    struct pith_msg regs = { 0 };
    pith_invoke(mt, PITH_TCB_READ_REGISTERS, &regs);
    mapper_srv.buf = (struct pith_ipc_buffer *)((regs.w[1] & ~0x3fffull) + 0x2000);
    UT_EQ(pith_invoke4(mt, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);

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
