/* Frames and page tables: mapping rules, W^X, rights, and revoke of mapped frames. */
#include "utest.h"

#define TEST_VA 0x50000000ull

static volatile uint64_t touched;
static volatile uint64_t *touch_addr;

static void toucher(uint64_t unused)
{
    (void)unused;
    touched = *touch_addr;
    touched = 1;
}

static int map_rw(uint64_t frame, uint64_t va)
{
    return map_frame(PITH_SLOT_VSPACE, frame, va, PITH_RIGHT_READ | PITH_RIGHT_WRITE);
}

UTEST(frame_map_rules)
{
    uint64_t f = make_object(PITH_OBJ_FRAME, 0);
    UT_ASSERT(f);
    /* Unaligned, kernel half, W+X, nothing readable. */
    UT_EQ(pith_invoke4(f, PITH_FRAME_MAP, PITH_SLOT_VSPACE, TEST_VA + 1, PITH_RIGHT_READ, 0), PITH_E_ALIGNMENT);
    UT_EQ(pith_invoke4(f, PITH_FRAME_MAP, PITH_SLOT_VSPACE, 0xffff800000000000ull, PITH_RIGHT_READ, 0), PITH_E_INVALID_ARG);
    UT_EQ(pith_invoke4(f, PITH_FRAME_MAP, PITH_SLOT_VSPACE, TEST_VA,
                       PITH_RIGHT_READ | PITH_RIGHT_WRITE | PITH_RIGHT_EXEC, 0), PITH_E_INVALID_ARG);
    UT_EQ(pith_invoke4(f, PITH_FRAME_MAP, PITH_SLOT_VSPACE, TEST_VA, 0, 0), PITH_E_INVALID_ARG);
    UT_EQ(pith_invoke4(f, PITH_FRAME_MAP, PITH_SLOT_TCB, TEST_VA, PITH_RIGHT_READ, 0), PITH_E_WRONG_TYPE);
    /* Mapped once, then not again, and not on top of something else. */
    UT_EQ(map_rw(f, TEST_VA), PITH_OK);
    UT_EQ(pith_invoke4(f, PITH_FRAME_MAP, PITH_SLOT_VSPACE, TEST_VA + 0x1000, PITH_RIGHT_READ, 0), PITH_E_MAPPED);
    uint64_t g = make_object(PITH_OBJ_FRAME, 0);
    UT_EQ(pith_invoke4(g, PITH_FRAME_MAP, PITH_SLOT_VSPACE, TEST_VA, PITH_RIGHT_READ, 0), PITH_E_MAPPED);
    /* Memory from untyped is zeroed, and now ours. */
    volatile uint64_t *p = (volatile uint64_t *)TEST_VA;
    UT_EQ(p[0], 0);
    p[1] = 0x1234;
    UT_EQ(p[1], 0x1234);
    /* A read-only copy cannot be mapped writable. */
    uint64_t ro = pith_slot_alloc();
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, ro, g, PITH_RIGHT_READ, 0), PITH_OK);
    UT_EQ(pith_invoke4(ro, PITH_FRAME_MAP, PITH_SLOT_VSPACE, TEST_VA + 0x1000,
                       PITH_RIGHT_READ | PITH_RIGHT_WRITE, 0), PITH_E_NO_RIGHTS);
    /* The physical address needs its own right. */
    struct pith_msg m = { 0 };
    UT_EQ(pith_invoke(ro, PITH_FRAME_PHYS, &m), PITH_E_NO_RIGHTS);
    UT_EQ(pith_invoke(f, PITH_FRAME_PHYS, &m), PITH_OK);
    UT_ASSERT(m.w[0] != 0 && (m.w[0] & 0xfff) == 0);
    UT_EQ(pith_invoke4(f, PITH_FRAME_UNMAP, 0, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(f, PITH_FRAME_UNMAP, 0, 0, 0, 0), PITH_OK);  /* harmless twice */
}

UTEST(revoke_while_mapped_unmaps_every_copy)
{
    uint64_t f = make_object(PITH_OBJ_FRAME, 0);
    uint64_t copy = pith_slot_alloc();
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, copy, f, PITH_RIGHTS_ALL, 0), PITH_OK);
    UT_EQ(map_rw(copy, TEST_VA + 0x10000), PITH_OK);
    volatile uint64_t *p = (volatile uint64_t *)(TEST_VA + 0x10000);
    p[0] = 42;
    /* Revoke the original: the copy goes, and with it the mapping. */
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE, f, 0, 0, 0), PITH_OK);
    uint64_t g = make_object(PITH_OBJ_FRAME, 0);
    UT_EQ(map_rw(g, TEST_VA + 0x10000), PITH_OK);  /* the place is free again */
    UT_EQ(p[0], 0);                                  /* and holds the new, zeroed frame */
    /* A thread touching an unmapped page is stopped and reported, not the kernel. */
    UT_EQ(pith_invoke4(g, PITH_FRAME_UNMAP, 0, 0, 0, 0), PITH_OK);
    touch_addr = p;
    touched = 0;
    uint64_t t = make_thread(toucher, 0, 150);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_EQ(touched, 0);
    struct pith_msg m = { 0 };
    UT_EQ(pith_invoke(t, PITH_TCB_READ_REGISTERS, &m), PITH_OK);
    UT_EQ(m.w[3], 0);                            /* TS_INACTIVE: suspended by its fault */
}

UTEST(page_table_rules)
{
    uint64_t pt = make_object(PITH_OBJ_PAGE_TABLE, 0);
    UT_EQ(pith_invoke4(pt, PITH_PAGE_TABLE_MAP, PITH_SLOT_VSPACE, 0xffff800000000000ull, 0, 0), PITH_E_INVALID_ARG);
    UT_EQ(pith_invoke4(pt, PITH_PAGE_TABLE_MAP, PITH_SLOT_VSPACE, 0x7f8000000000ull, 0, 0), PITH_E_INVALID_ARG);
    /* Our image's tables all exist: nothing left to map at its address. */
    UT_EQ(pith_invoke4(pt, PITH_PAGE_TABLE_MAP, PITH_SLOT_VSPACE, 0x400000, 0, 0), PITH_E_MAPPED);
    UT_EQ(pith_invoke4(pt, PITH_PAGE_TABLE_MAP, PITH_SLOT_VSPACE, 0x600000000000ull, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(pt, PITH_PAGE_TABLE_MAP, PITH_SLOT_VSPACE, 0x600000000000ull, 0, 0), PITH_E_MAPPED);
    UT_EQ(pith_invoke4(pt, PITH_PAGE_TABLE_UNMAP, 0, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(pt, PITH_PAGE_TABLE_MAP, PITH_SLOT_VSPACE, 0x600000000000ull, 0, 0), PITH_OK);
}

UTEST(device_memory_makes_only_uncached_frames)
{
    const struct pith_bootinfo *bi = pith_bootinfo;
    uint64_t dev = 0;
    for (uint64_t i = 0; i < bi->untyped.count; i++)
        if (bi->untyped_list[i].is_device && bi->untyped_list[i].size_bits >= 16) {
            dev = bi->untyped.first_slot + i;
            UT_ASSERT(bi->untyped_list[i].phys >= 0x1000000);      /* above RAM, in the PCI hole */
            UT_ASSERT(bi->untyped_list[i].phys < 0xFEC00000);
            break;
        }
    UT_ASSERT(dev);
    uint64_t slot = pith_slot_alloc();
    /* No kernel objects in device memory. */
    UT_EQ(pith_invoke4(dev, PITH_UNTYPED_RETYPE, PITH_OBJ_TCB, PITH_SLOT_CSPACE, slot, 1), PITH_E_INVALID_ARG);
    UT_EQ(pith_invoke4(dev, PITH_UNTYPED_RETYPE, PITH_OBJ_ENDPOINT, PITH_SLOT_CSPACE, slot, 1), PITH_E_INVALID_ARG);
    /* Frames, yes: mapped, with their physical address for DMA. */
    UT_EQ(pith_invoke4(dev, PITH_UNTYPED_RETYPE, PITH_OBJ_FRAME, PITH_SLOT_CSPACE, slot, 1), PITH_OK);
    UT_EQ(map_rw(slot, TEST_VA + 0x40000), PITH_OK);
    struct pith_msg m = { 0 };
    UT_EQ(pith_invoke(slot, PITH_FRAME_PHYS, &m), PITH_OK);
    UT_ASSERT(m.w[0] >= 0x1000000 && m.w[0] < 0xFEC00000);
    (void)*(volatile uint32_t *)(TEST_VA + 0x40000);     /* nothing decodes there: reads, harmlessly */
    UT_EQ(pith_invoke4(slot, PITH_FRAME_UNMAP, 0, 0, 0, 0), PITH_OK);
}
