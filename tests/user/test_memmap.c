/*
 * Map, grant and unmap between address spaces (docs/memory.md): sharing
 * with fewer rights, unmap as a recursive revoke across three spaces,
 * grant, mappings passed in IPC, the accessed and dirty bits, and every
 * error of the three invocations.
 */
#include "utest.h"
#include <pith/fault.h>

#define MM_A    0x4000000000ull     /* our own view of the frames */
#define MM_B    0x4000200000ull     /* where other spaces (and we, again) see them */
#define PAGES   4
#define RW      (PITH_RIGHT_READ | PITH_RIGHT_WRITE)

/* count fresh frames in consecutive slots of ours, mapped read-write at va with a pattern. */
static uint64_t frames_at(uint64_t va, uint64_t count)
{
    uint64_t first = pith_slot_alloc_range(count);
    if (pith_invoke4(test_untyped ? test_untyped : (test_untyped = pith_biggest_untyped()),
                     PITH_UNTYPED_RETYPE, PITH_OBJ_FRAME, PITH_SLOT_CSPACE, first, count))
        return 0;
    for (uint64_t i = 0; i < count; i++) {
        if (map_frame(PITH_SLOT_VSPACE, first + i, va + i * 4096, RW))
            return 0;
        *(volatile uint64_t *)(va + i * 4096) = 0x1000 + i;
    }
    return first;
}

/* Page tables in vspace for count pages from va. */
static int tables_for(uint64_t vspace, uint64_t va, uint64_t count)
{
    for (uint64_t p = va; p < va + count * 4096; p = (p + 0x200000) & ~0x1fffffull)
        for (int i = 0; i < 3; i++) {
            uint64_t pt = make_object(PITH_OBJ_PAGE_TABLE, 0);
            long err = pith_invoke4(pt, PITH_PAGE_TABLE_MAP, vspace, p, 0, 0);
            if (err == PITH_E_MAPPED)
                break;
            if (err)
                return (int)err;
        }
    return PITH_OK;
}

static long vmap(uint64_t label, uint64_t vspace, uint64_t src, uint64_t va, uint64_t cnode,
                 uint64_t dst, uint64_t count, uint64_t rights)
{
    return pith_invoke4(vspace, label, src, va, cnode | dst << 32, count | rights << 16);
}

/* The mapped, accessed and dirty bitmaps of count pages (and clears A and D). */
static long ad_bits(uint64_t vspace, uint64_t va, uint64_t count, struct pith_msg *m)
{
    m->w[0] = va;
    m->w[1] = count;
    return pith_invoke(vspace, PITH_VSPACE_AD_BITS, m);
}

static uint64_t mapped(uint64_t vspace, uint64_t va, uint64_t count)
{
    struct pith_msg m = { 0 };
    return ad_bits(vspace, va, count, &m) ? ~0ull : m.w[0];
}

static uint64_t cap_type(uint64_t cnode, uint64_t slot, uint64_t *rights)
{
    struct pith_msg m = { .w = { slot } };
    pith_invoke(cnode, PITH_CNODE_IDENTIFY, &m);
    if (rights)
        *rights = m.w[1];
    return m.w[0];
}

/* ---- a thread whose faults come to us ---- */

static uint64_t fault_ep, fault_reply;
static volatile uint64_t wrote;

static void writer(uint64_t va)
{
    *(volatile uint64_t *)va = 0xbad;
    wrote = 1;
    for (;;)
        pith_sleep_ns(1000000000000ull);
}

static uint64_t faulting_thread(void (*fn)(uint64_t), uint64_t arg)
{
    fault_ep = make_object(PITH_OBJ_ENDPOINT, 0);
    fault_reply = make_object(PITH_OBJ_REPLY, 0);
    uint64_t t = make_thread(fn, arg, 150);
    uint64_t buf = make_object(PITH_OBJ_FRAME, 0);
    pith_invoke4(t, PITH_TCB_CONFIGURE, PITH_SLOT_CSPACE, PITH_SLOT_VSPACE, buf, fault_ep);
    return t;
}

UTEST(memmap_shares_with_fewer_rights)
{
    uint64_t f = frames_at(MM_A, PAGES), cn = make_object(PITH_OBJ_CNODE, 4);
    UT_ASSERT(f && cn);
    UT_EQ(tables_for(PITH_SLOT_VSPACE, MM_B, PAGES), PITH_OK);
    UT_EQ(vmap(PITH_VSPACE_MAP, PITH_SLOT_VSPACE, f, MM_B, cn, 3, PAGES, PITH_RIGHT_READ), PITH_OK);
    /* The same pages: what one view writes the other reads. */
    for (uint64_t i = 0; i < PAGES; i++) {
        UT_EQ(*(volatile uint64_t *)(MM_B + i * 4096), 0x1000 + i);
        *(volatile uint64_t *)(MM_A + i * 4096) = 0x2000 + i;
        UT_EQ(*(volatile uint64_t *)(MM_B + i * 4096), 0x2000 + i);
    }
    /* Children of ours, with the read right only (grant and phys stay). */
    uint64_t rights;
    for (uint64_t i = 0; i < PAGES; i++) {
        UT_EQ(cap_type(cn, 3 + i, &rights), PITH_OBJ_FRAME);
        UT_EQ(rights, PITH_RIGHT_READ | PITH_RIGHT_GRANT | PITH_RIGHT_PHYS);
    }
    /* Writing through the read-only view is a fault, present and write. */
    uint64_t t = faulting_thread(writer, MM_B + 4096);
    wrote = 0;
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    struct pith_msg m = { 0 };
    UT_EQ(pith_recv(fault_ep, &m, fault_reply), PITH_OK);
    UT_EQ(m.w[0], PITH_FAULT_PAGE);
    UT_EQ(m.w[1], MM_B + 4096);
    UT_EQ(m.w[2] & (PITH_PF_PRESENT | PITH_PF_WRITE), PITH_PF_PRESENT | PITH_PF_WRITE);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, t, 0, 0, 0), PITH_OK);
    UT_EQ(wrote, 0);
    /* Unmap: revoking ours takes the shared view away; our own stays. */
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE_RANGE, f, PAGES, 0, 0), PITH_OK);
    UT_EQ(mapped(PITH_SLOT_VSPACE, MM_B, PAGES), 0);
    UT_EQ(mapped(PITH_SLOT_VSPACE, MM_A, PAGES), 0xf);
    UT_EQ(cap_type(cn, 3, NULL), PITH_OBJ_NULL);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE_RANGE, f, PAGES, PITH_REVOKE_UNMAP, 0), PITH_OK);
    UT_EQ(mapped(PITH_SLOT_VSPACE, MM_A, PAGES), 0);
}

UTEST(memmap_unmap_revokes_across_three_spaces)
{
    uint64_t f = frames_at(MM_A + 0x10000, PAGES);
    uint64_t b = make_object(PITH_OBJ_VSPACE, 0), c = make_object(PITH_OBJ_VSPACE, 0);
    uint64_t mid = pith_slot_alloc_range(PAGES), cn = make_object(PITH_OBJ_CNODE, 4);
    UT_ASSERT(f && b && c && cn);
    UT_EQ(tables_for(b, MM_B, PAGES), PITH_OK);
    UT_EQ(tables_for(c, MM_B + 0x1000000, PAGES), PITH_OK);
    /* Ours to B read-write, B's on to C read-only. */
    UT_EQ(vmap(PITH_VSPACE_MAP, b, f, MM_B, PITH_SLOT_CSPACE, mid, PAGES, RW), PITH_OK);
    UT_EQ(vmap(PITH_VSPACE_MAP, c, mid, MM_B + 0x1000000, cn, 0, PAGES, PITH_RIGHT_READ), PITH_OK);
    UT_EQ(mapped(b, MM_B, PAGES), 0xf);
    UT_EQ(mapped(c, MM_B + 0x1000000, PAGES), 0xf);
    /* The third level is the same memory: mapped on once more, into our space, it reads what we wrote. */
    uint64_t view = pith_slot_alloc_range(PAGES);
    UT_EQ(tables_for(PITH_SLOT_VSPACE, MM_B + 0x2000000, PAGES), PITH_OK);
    UT_EQ(vmap(PITH_VSPACE_MAP, PITH_SLOT_VSPACE, mid, MM_B + 0x2000000, PITH_SLOT_CSPACE, view, PAGES,
               PITH_RIGHT_READ), PITH_OK);
    for (uint64_t i = 0; i < PAGES; i++)
        UT_EQ(*(volatile uint64_t *)(MM_B + 0x2000000 + i * 4096), 0x1000 + i);
    /* The middle level may not hand on more than it has. */
    uint64_t more = pith_slot_alloc_range(PAGES);
    UT_EQ(vmap(PITH_VSPACE_MAP, c, mid, MM_B + 0x1000000 + PAGES * 4096, PITH_SLOT_CSPACE, more, PAGES,
               PITH_RIGHT_READ | PITH_RIGHT_EXEC), PITH_E_NO_RIGHTS);
    /* Revoking the first level empties both others, in both spaces. */
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE_RANGE, f, PAGES, 0, 0), PITH_OK);
    UT_EQ(mapped(b, MM_B, PAGES), 0);
    UT_EQ(mapped(c, MM_B + 0x1000000, PAGES), 0);
    UT_EQ(mapped(PITH_SLOT_VSPACE, MM_B + 0x2000000, PAGES), 0);
    for (uint64_t i = 0; i < PAGES; i++) {
        UT_EQ(cap_type(PITH_SLOT_CSPACE, view + i, NULL), PITH_OBJ_NULL);
        UT_EQ(cap_type(PITH_SLOT_CSPACE, mid + i, NULL), PITH_OBJ_NULL);
        UT_EQ(cap_type(cn, i, NULL), PITH_OBJ_NULL);
    }
    UT_EQ(mapped(PITH_SLOT_VSPACE, MM_A + 0x10000, PAGES), 0xf);
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE_RANGE, f, PAGES, PITH_REVOKE_UNMAP, 0);
}

UTEST(memmap_grant_moves_the_region)
{
    uint64_t f = frames_at(MM_A + 0x20000, PAGES);
    uint64_t b = make_object(PITH_OBJ_VSPACE, 0), cn = make_object(PITH_OBJ_CNODE, 4);
    uint64_t keep = pith_slot_alloc_range(PAGES);
    UT_ASSERT(f && b && cn);
    UT_EQ(tables_for(b, MM_B, PAGES), PITH_OK);
    /* A copy we keep, made before: grant moves the capability with its place in the tree. */
    for (uint64_t i = 0; i < PAGES; i++)
        UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, keep + i, f + i, PITH_RIGHTS_ALL, 0), PITH_OK);
    UT_EQ(vmap(PITH_VSPACE_GRANT, b, f, MM_B, cn, 8, PAGES, PITH_RIGHT_READ), PITH_OK);
    uint64_t rights;
    for (uint64_t i = 0; i < PAGES; i++) {
        UT_EQ(cap_type(PITH_SLOT_CSPACE, f + i, NULL), PITH_OBJ_NULL);
        UT_EQ(cap_type(cn, 8 + i, &rights), PITH_OBJ_FRAME);
        UT_EQ(rights & (RW | PITH_RIGHT_EXEC), PITH_RIGHT_READ);
    }
    UT_EQ(mapped(PITH_SLOT_VSPACE, MM_A + 0x20000, PAGES), 0);
    UT_EQ(mapped(b, MM_B, PAGES), 0xf);
    /* The copies still name the frames: the region moved, the memory did not. */
    UT_EQ(map_frame(PITH_SLOT_VSPACE, keep + 2, MM_A + 0x20000, PITH_RIGHT_READ), PITH_OK);
    UT_EQ(*(volatile uint64_t *)(MM_A + 0x20000), 0x1002);
    /* Granting again from the now-empty slots fails, and changes nothing. */
    UT_EQ(vmap(PITH_VSPACE_GRANT, b, f, MM_B + 0x10000, cn, 0, PAGES, PITH_RIGHT_READ), PITH_E_SLOT_EMPTY);
    /* Deleting the granted capabilities unmaps B. */
    UT_EQ(pith_invoke4(cn, PITH_CNODE_REVOKE_RANGE, 8, PAGES, PITH_REVOKE_UNMAP, 0), PITH_OK);
    for (uint64_t i = 0; i < PAGES; i++)
        UT_EQ(pith_invoke4(cn, PITH_CNODE_DELETE, 8 + i, 0, 0, 0), PITH_OK);
    UT_EQ(mapped(b, MM_B, PAGES), 0);
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE_RANGE, keep, PAGES, PITH_REVOKE_UNMAP, 0);
}

/* ---- a mapping passed in IPC, mapped on by the receiver, revoked by the sender ---- */

static uint64_t ipc_ep, ipc_reply, ipc_vspace, ipc_cn;

static void receiver(uint64_t slot)
{
    /* make_thread put our IPC buffer 0x2000 above the stack page */
    struct pith_ipc_buffer *b = (struct pith_ipc_buffer *)(((uint64_t)__builtin_frame_address(0) & ~0x3fffull) + 0x2000);
    for (;;) {
        struct pith_msg m = { 0 };
        b->recv_slot = slot;
        if (pith_recv(ipc_ep, &m, ipc_reply))
            return;
        /* Map what came on into another space, from the slot it arrived in. */
        long err = vmap(PITH_VSPACE_MAP, ipc_vspace, slot, MM_B, ipc_cn, 0, 1, PITH_RIGHT_READ);
        struct pith_msg r = { .tag = PITH_TAG(0, 1), .w = { (uint64_t)err } };
        pith_send(ipc_reply, &r);
    }
}

UTEST(memmap_mapping_passed_in_ipc_is_revoked_recursively)
{
    uint64_t f = frames_at(MM_A + 0x30000, 1);
    ipc_ep = make_object(PITH_OBJ_ENDPOINT, 0);
    ipc_reply = make_object(PITH_OBJ_REPLY, 0);
    ipc_vspace = make_object(PITH_OBJ_VSPACE, 0);
    ipc_cn = make_object(PITH_OBJ_CNODE, 2);
    uint64_t arrived = pith_slot_alloc();
    UT_ASSERT(f && ipc_cn);
    UT_EQ(tables_for(ipc_vspace, MM_B, 1), PITH_OK);
    uint64_t t = make_thread(receiver, arrived, 150);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    struct pith_ipc_buffer *buf = (struct pith_ipc_buffer *)PITH_IPC_BUFFER_ADDR;
    buf->send_cap = f;
    struct pith_msg m = { .tag = PITH_TAG(1, 0) | PITH_TAG_CAP };
    UT_EQ(pith_call(ipc_ep, &m), PITH_OK);
    UT_EQ(m.w[0], PITH_OK);
    UT_EQ(cap_type(PITH_SLOT_CSPACE, arrived, NULL), PITH_OBJ_FRAME);
    UT_EQ(mapped(ipc_vspace, MM_B, 1), 1);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE_RANGE, f, 1, PITH_REVOKE_UNMAP, 0), PITH_OK);
    UT_EQ(cap_type(PITH_SLOT_CSPACE, arrived, NULL), PITH_OBJ_NULL);
    UT_EQ(cap_type(ipc_cn, 0, NULL), PITH_OBJ_NULL);
    UT_EQ(mapped(ipc_vspace, MM_B, 1), 0);
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, t, 0, 0, 0);
}

UTEST(memmap_accessed_and_dirty_bits)
{
    uint64_t f = frames_at(MM_A + 0x40000, PAGES);
    UT_ASSERT(f);
    struct pith_msg m = { 0 };
    UT_EQ(ad_bits(PITH_SLOT_VSPACE, MM_A + 0x40000, PAGES + 1, &m), PITH_OK);
    UT_EQ(m.w[0], 0xf);             /* the fifth page is not mapped */
    UT_EQ(m.w[1], 0xf);             /* frames_at wrote every page */
    UT_EQ(m.w[2], 0xf);
    UT_EQ(ad_bits(PITH_SLOT_VSPACE, MM_A + 0x40000, PAGES, &m), PITH_OK);
    UT_EQ(m.w[1], 0);
    UT_EQ(m.w[2], 0);
    /* Read page 1, write page 2: the CPU sets the bits again (the entries were flushed). */
    (void)*(volatile uint64_t *)(MM_A + 0x41000);
    *(volatile uint64_t *)(MM_A + 0x42000) = 7;
    UT_EQ(ad_bits(PITH_SLOT_VSPACE, MM_A + 0x40000, PAGES, &m), PITH_OK);
    UT_EQ(m.w[0], 0xf);
    UT_EQ(m.w[1], 0x6);
    UT_EQ(m.w[2], 0x4);
    /* Errors. */
    UT_EQ(ad_bits(PITH_SLOT_VSPACE, MM_A + 1, 1, &m), PITH_E_ALIGNMENT);
    UT_EQ(ad_bits(PITH_SLOT_VSPACE, MM_A, 0, &m), PITH_E_INVALID_ARG);
    UT_EQ(ad_bits(PITH_SLOT_VSPACE, MM_A, 65, &m), PITH_E_INVALID_ARG);
    UT_EQ(ad_bits(PITH_SLOT_VSPACE, 0x7f8000000000ull - 4096, 2, &m), PITH_E_INVALID_ARG);
    UT_EQ(ad_bits(PITH_SLOT_VSPACE, 0xffff800000000000ull, 1, &m), PITH_E_INVALID_ARG);
    UT_EQ(ad_bits(f, MM_A, 1, &m), PITH_E_BAD_INVOCATION);
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE_RANGE, f, PAGES, PITH_REVOKE_UNMAP, 0);
}

UTEST(memmap_every_error)
{
    uint64_t f = frames_at(MM_A + 0x50000, 2), b = make_object(PITH_OBJ_VSPACE, 0);
    uint64_t cn = make_object(PITH_OBJ_CNODE, 2), ep = make_object(PITH_OBJ_ENDPOINT, 0);
    uint64_t ro = pith_slot_alloc_range(2), tail = pith_slot_alloc_range(2);
    UT_ASSERT(f && b && cn && ep);
    UT_EQ(tables_for(b, MM_B, 2), PITH_OK);
    for (uint64_t i = 0; i < 2; i++)
        UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, ro + i, f + i, PITH_RIGHT_READ, 0), PITH_OK);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, tail, f, PITH_RIGHTS_ALL, 0), PITH_OK);
    uint64_t cnode_slots = 1ull << pith_bootinfo->cspace_slot_bits;
    const uint64_t R = PITH_RIGHT_READ;
    struct { uint64_t label, vs, src, va, cn, dst, count, rights; long err; } cases[] = {
        { PITH_VSPACE_MAP, b, f, MM_B, cn, 0, 0, R, PITH_E_INVALID_ARG },                 /* no pages */
        { PITH_VSPACE_MAP, b, f, MM_B, cn, 0, PITH_MAP_MAX_PAGES + 1, R, PITH_E_INVALID_ARG },
        { PITH_VSPACE_MAP, b, f, MM_B, cn, 0, 2, PITH_RIGHT_WRITE, PITH_E_INVALID_ARG }, /* no read */
        { PITH_VSPACE_MAP, b, f, MM_B, cn, 0, 2, RW | PITH_RIGHT_EXEC, PITH_E_INVALID_ARG },
        { PITH_VSPACE_MAP, b, f, MM_B, cn, 0, 2, R | PITH_RIGHT_GRANT, PITH_E_INVALID_ARG },
        { PITH_VSPACE_MAP, b, f, MM_B, 0, 0, 2, R, PITH_E_SLOT_EMPTY },                  /* dest CNode */
        { PITH_VSPACE_MAP, b, f, MM_B, ep, 0, 2, R, PITH_E_WRONG_TYPE },
        { PITH_VSPACE_MAP, b, f, MM_B, cnode_slots, 0, 2, R, PITH_E_SLOT_RANGE },
        { PITH_VSPACE_MAP, b, f, MM_B, cn, 4, 1, R, PITH_E_SLOT_RANGE },                 /* dest slots */
        { PITH_VSPACE_MAP, b, f, MM_B, cn, 3, 2, R, PITH_E_SLOT_RANGE },
        { PITH_VSPACE_MAP, b, f, MM_B, PITH_SLOT_CSPACE, tail, 2, R, PITH_E_SLOT_FULL },
        { PITH_VSPACE_MAP, b, cnode_slots - 1, MM_B, cn, 0, 2, R, PITH_E_SLOT_RANGE },   /* sources */
        { PITH_VSPACE_MAP, b, tail + 1, MM_B, cn, 0, 1, R, PITH_E_SLOT_EMPTY },
        { PITH_VSPACE_MAP, b, ep, MM_B, cn, 0, 1, R, PITH_E_WRONG_TYPE },
        { PITH_VSPACE_MAP, b, ro, MM_B, cn, 0, 2, RW, PITH_E_NO_RIGHTS },
        { PITH_VSPACE_MAP, b, f, MM_B + 8, cn, 0, 2, R, PITH_E_ALIGNMENT },              /* address */
        { PITH_VSPACE_MAP, b, f, 0x7f8000000000ull - 4096, cn, 0, 2, R, PITH_E_INVALID_ARG },
        { PITH_VSPACE_MAP, b, f, 0xffff800000000000ull, cn, 0, 1, R, PITH_E_INVALID_ARG },
        { PITH_VSPACE_MAP, b, f, MM_B + 0x40000000, cn, 0, 2, R, PITH_E_NO_TABLE },
        { PITH_VSPACE_GRANT, b, f, MM_B + 0x40000000, cn, 0, 2, R, PITH_E_NO_TABLE },
        { PITH_VSPACE_MAP, f, f, MM_B, cn, 0, 2, R, PITH_E_BAD_INVOCATION },
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        long err = vmap(cases[i].label, cases[i].vs, cases[i].src, cases[i].va, cases[i].cn, cases[i].dst,
                        cases[i].count, cases[i].rights);
        if (err != cases[i].err)
            printf("  case %u\n", i);
        UT_EQ(err, cases[i].err);
    }
    /* Nothing changed on any failure: the first map succeeds, the second finds the place taken. */
    UT_EQ(cap_type(cn, 0, NULL), PITH_OBJ_NULL);
    UT_EQ(vmap(PITH_VSPACE_MAP, b, f, MM_B, cn, 0, 2, R), PITH_OK);
    UT_EQ(vmap(PITH_VSPACE_MAP, b, ro, MM_B + 4096, cn, 2, 2, R), PITH_E_MAPPED);
    UT_EQ(cap_type(cn, 2, NULL), PITH_OBJ_NULL);
    UT_EQ(vmap(PITH_VSPACE_GRANT, b, ro, MM_B, cn, 2, 2, R), PITH_E_MAPPED);
    UT_EQ(cap_type(PITH_SLOT_CSPACE, ro, NULL), PITH_OBJ_FRAME);
    /* Revoking a range. */
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE_RANGE, f, 0, 0, 0), PITH_E_INVALID_ARG);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE_RANGE, f, 1, 2, 0), PITH_E_INVALID_ARG);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE_RANGE, cnode_slots - 1, 2, 0, 0), PITH_E_SLOT_RANGE);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE_RANGE, cnode_slots, 1, 0, 0), PITH_E_SLOT_RANGE);
    UT_EQ(pith_invoke4(cn, PITH_CNODE_REVOKE_RANGE, 0, 5, 0, 0), PITH_E_SLOT_RANGE);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE_RANGE, f, 2, PITH_REVOKE_UNMAP, 0), PITH_OK);
    UT_EQ(mapped(b, MM_B, 2), 0);
    UT_EQ(cap_type(PITH_SLOT_CSPACE, ro, NULL), PITH_OBJ_NULL);
}

static long map_frames(uint64_t vspace, uint64_t cnode, uint64_t first, uint64_t va, uint64_t count,
                       uint64_t rights)
{
    return pith_invoke4(vspace, PITH_VSPACE_MAP_FRAMES, cnode | first << 32, va, count, rights);
}

/*
 * Frames mapped in place, a run per invocation: the capabilities (here in
 * another CNode) hold the mappings themselves, as after PITH_FRAME_MAP,
 * and every error, nothing mapped on any of them.
 */
UTEST(memmap_map_frames_in_place)
{
    uint64_t b = make_object(PITH_OBJ_VSPACE, 0), cn = make_object(PITH_OBJ_CNODE, 3);
    uint64_t ep = make_object(PITH_OBJ_ENDPOINT, 0), spare = make_object(PITH_OBJ_FRAME, 0);
    uint64_t mine = frames_at(MM_A + 0x60000, 1);
    UT_ASSERT(b && cn && ep && spare && mine);
    /* cn: 0-1 frames, 2 a read-only frame, 3 an endpoint, 4-7 empty. */
    UT_EQ(pith_invoke4(test_untyped, PITH_UNTYPED_RETYPE, PITH_OBJ_FRAME, cn, 0, 2), PITH_OK);
    UT_EQ(pith_invoke4(cn, PITH_CNODE_COPY, 2, spare, PITH_RIGHT_READ, 0), PITH_OK);
    UT_EQ(pith_invoke4(cn, PITH_CNODE_COPY, 3, ep, PITH_RIGHTS_ALL, 0), PITH_OK);
    UT_EQ(tables_for(b, MM_B, 4), PITH_OK);
    uint64_t cnode_slots = 1ull << pith_bootinfo->cspace_slot_bits;
    const uint64_t R = PITH_RIGHT_READ;
    struct { uint64_t vs, cn, first, va, count, rights; long err; } cases[] = {
        { b, cn, 0, MM_B, 0, R, PITH_E_INVALID_ARG },                          /* no pages */
        { b, cn, 0, MM_B, PITH_MAP_MAX_PAGES + 1, R, PITH_E_INVALID_ARG },
        { b, cn, 0, MM_B, 2, PITH_RIGHT_WRITE, PITH_E_INVALID_ARG },           /* no read */
        { b, cn, 0, MM_B, 2, RW | PITH_RIGHT_EXEC, PITH_E_INVALID_ARG },
        { b, cn, 0, MM_B, 2, R | PITH_RIGHT_GRANT, PITH_E_INVALID_ARG },
        { b, 0, 0, MM_B, 2, R, PITH_E_SLOT_EMPTY },                            /* the CNode */
        { b, ep, 0, MM_B, 2, R, PITH_E_WRONG_TYPE },
        { b, cnode_slots, 0, MM_B, 2, R, PITH_E_SLOT_RANGE },
        { b, cn, 8, MM_B, 1, R, PITH_E_SLOT_RANGE },                           /* its slots */
        { b, cn, 7, MM_B, 2, R, PITH_E_SLOT_RANGE },
        { b, cn, 4, MM_B, 1, R, PITH_E_SLOT_EMPTY },                           /* the frames */
        { b, cn, 0, MM_B, 4, R, PITH_E_WRONG_TYPE },
        { b, cn, 2, MM_B, 1, RW, PITH_E_NO_RIGHTS },
        { b, PITH_SLOT_CSPACE, mine, MM_B, 1, R, PITH_E_MAPPED },               /* already mapped */
        { b, cn, 0, MM_B + 8, 2, R, PITH_E_ALIGNMENT },                        /* the address */
        { b, cn, 0, 0x7f8000000000ull - 4096, 2, R, PITH_E_INVALID_ARG },
        { b, cn, 0, 0xffff800000000000ull, 1, R, PITH_E_INVALID_ARG },
        { b, cn, 0, MM_B + 0x40000000, 2, R, PITH_E_NO_TABLE },
        { spare, cn, 0, MM_B, 2, R, PITH_E_BAD_INVOCATION },
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        long err = map_frames(cases[i].vs, cases[i].cn, cases[i].first, cases[i].va, cases[i].count,
                              cases[i].rights);
        if (err != cases[i].err)
            printf("  case %u\n", i);
        UT_EQ(err, cases[i].err);
    }
    UT_EQ(mapped(b, MM_B, 4), 0);
    /* Two pages in one invocation; a third where one is taken maps nothing. */
    UT_EQ(map_frames(b, cn, 0, MM_B, 2, RW), PITH_OK);
    UT_EQ(mapped(b, MM_B, 4), 0x3);
    UT_EQ(map_frames(b, cn, 0, MM_B + 2 * 4096, 2, R), PITH_E_MAPPED);   /* the capabilities hold mappings */
    UT_EQ(map_frames(b, cn, 2, MM_B + 4096, 1, R), PITH_E_MAPPED);       /* the place is taken */
    UT_EQ(map_frames(b, cn, 2, MM_B + 2 * 4096, 1, R), PITH_OK);
    UT_EQ(mapped(b, MM_B, 4), 0x7);
    /* In our own space too: what one page holds is the frame's. */
    UT_EQ(tables_for(PITH_SLOT_VSPACE, MM_B + 0x3000000, 1), PITH_OK);
    UT_EQ(map_frames(PITH_SLOT_VSPACE, PITH_SLOT_CSPACE, spare, MM_B + 0x3000000, 1, RW), PITH_OK);
    *(volatile uint64_t *)(MM_B + 0x3000000) = 0x5a5a;
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE_RANGE, spare, 1, PITH_REVOKE_UNMAP, 0), PITH_OK);
    UT_EQ(mapped(PITH_SLOT_VSPACE, MM_B + 0x3000000, 1), 0);
    UT_EQ(mapped(b, MM_B + 2 * 4096, 1), 0);                             /* its copy in cn: revoked */
    /* Unmapping the range in cn lets the frames be mapped again. */
    UT_EQ(pith_invoke4(cn, PITH_CNODE_REVOKE_RANGE, 0, 2, PITH_REVOKE_UNMAP, 0), PITH_OK);
    UT_EQ(mapped(b, MM_B, 4), 0);
    UT_EQ(map_frames(b, cn, 0, MM_B + 4096, 2, R), PITH_OK);
    UT_EQ(mapped(b, MM_B, 4), 0x6);
}
