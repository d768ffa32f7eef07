// uses: kernel/mm/physmem.c
/*
 * kernel/mm/physmem.c: unit cases for add / reserve / alloc and the
 * table-full accounting, then a randomized test against a byte-per-page
 * model that also models the ranges dropped when the table is full.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "mm/physmem.h"

#define PG 4096ull
#define KiB 1024ull
#define MiB (1024ull * 1024)

static struct physmem pm;

static void reset(void)
{
    memset(&pm, 0, sizeof pm);
}

/* The table is sorted, disjoint, not adjacent, non-empty ranges, page aligned. */
static bool well_formed(const struct physmem *p)
{
    if (p->n < 0 || p->n > PHYSMEM_MAX_RANGES)
        return false;
    for (int i = 0; i < p->n; i++) {
        const struct phys_range *r = &p->r[i];
        if (r->base % PG || r->end % PG || r->base >= r->end)
            return false;
        if (i > 0 && p->r[i - 1].end >= r->base)
            return false;
    }
    return true;
}

/* The table holds exactly the given [base, end) pairs. */
static bool ranges_are(const uint64_t *pairs, int npairs)
{
    if (!well_formed(&pm) || pm.n != npairs) {
        printf("  table has %d ranges, want %d:", pm.n, npairs);
        for (int i = 0; i < pm.n; i++)
            printf(" [%#llx,%#llx)", (unsigned long long)pm.r[i].base,
                   (unsigned long long)pm.r[i].end);
        printf("\n");
        return false;
    }
    uint64_t total = 0;
    for (int i = 0; i < npairs; i++) {
        if (pm.r[i].base != pairs[2 * i] || pm.r[i].end != pairs[2 * i + 1]) {
            printf("  range %d is [%#llx,%#llx), want [%#llx,%#llx)\n", i,
                   (unsigned long long)pm.r[i].base, (unsigned long long)pm.r[i].end,
                   (unsigned long long)pairs[2 * i], (unsigned long long)pairs[2 * i + 1]);
            return false;
        }
        total += pairs[2 * i + 1] - pairs[2 * i];
    }
    return physmem_free_bytes(&pm) == total;
}

#define RANGES(...)                                                                 \
    do {                                                                            \
        static const uint64_t want_[] = { __VA_ARGS__ };                            \
        CHECK(ranges_are(want_, (int)(sizeof want_ / sizeof want_[0] / 2)));        \
    } while (0)
#define EMPTY() CHECK(pm.n == 0 && physmem_free_bytes(&pm) == 0 && well_formed(&pm))

/* ---- add --------------------------------------------------------------- */

TEST(add_single_range)
{
    reset();
    physmem_add(&pm, 0x100000, 0x200000);
    RANGES(0x100000, 0x200000);
    CHECK_EQ(physmem_free_bytes(&pm), 1 * MiB);
    CHECK_EQ(pm.dropped, 0);
}

TEST(add_shrinks_inwards_to_whole_pages)
{
    reset();
    physmem_add(&pm, 0x1001, 0x5fff);
    RANGES(0x2000, 0x5000);
    reset();
    physmem_add(&pm, 0x1fff, 0x3001);
    RANGES(0x2000, 0x3000);
    reset();
    physmem_add(&pm, 0x1001, 0x1fff);           /* no whole page inside */
    EMPTY();
    physmem_add(&pm, 0x1001, 0x2fff);           /* straddles one boundary only */
    EMPTY();
    physmem_add(&pm, 0x1000, 0x1fff);
    EMPTY();
    physmem_add(&pm, 0x1001, 0x2000);
    EMPTY();
    physmem_add(&pm, 0x3000, 0x3000);           /* empty */
    EMPTY();
    physmem_add(&pm, 0x5000, 0x3000);           /* reversed */
    EMPTY();
    CHECK_EQ(pm.dropped, 0);
}

TEST(add_at_top_of_address_space)
{
    reset();
    physmem_add(&pm, UINT64_MAX - 5000, UINT64_MAX);  /* rounds to nothing, no overflow */
    EMPTY();
    physmem_add(&pm, 0xffffffffffffd000ull, UINT64_MAX);
    RANGES(0xffffffffffffd000ull, 0xfffffffffffff000ull);
    physmem_add(&pm, 0xffffffffffffb001ull, 0xffffffffffffd000ull);
    RANGES(0xffffffffffffc000ull, 0xfffffffffffff000ull);
}

TEST(add_merges_adjacent_ranges)
{
    reset();
    physmem_add(&pm, 0x10000, 0x20000);
    physmem_add(&pm, 0x20000, 0x30000);         /* touches on the right */
    RANGES(0x10000, 0x30000);
    physmem_add(&pm, 0x8000, 0x10000);          /* touches on the left */
    RANGES(0x8000, 0x30000);
    /* Adjacent only after shrinking to pages. */
    physmem_add(&pm, 0x30000, 0x31fff);
    RANGES(0x8000, 0x31000);
    physmem_add(&pm, 0x6001, 0x8000);
    RANGES(0x7000, 0x31000);
    CHECK_EQ(pm.dropped, 0);
}

TEST(add_merges_overlapping_ranges)
{
    reset();
    physmem_add(&pm, 0x10000, 0x20000);
    physmem_add(&pm, 0x18000, 0x28000);
    RANGES(0x10000, 0x28000);
    physmem_add(&pm, 0x8000, 0x11000);
    RANGES(0x8000, 0x28000);
    physmem_add(&pm, 0x9000, 0x27000);          /* inside: no change */
    RANGES(0x8000, 0x28000);
    physmem_add(&pm, 0x8000, 0x28000);          /* identical */
    RANGES(0x8000, 0x28000);
    physmem_add(&pm, 0x4000, 0x30000);          /* covers */
    RANGES(0x4000, 0x30000);
}

TEST(add_keeps_disjoint_ranges_sorted)
{
    reset();
    physmem_add(&pm, 0x50000, 0x60000);
    physmem_add(&pm, 0x10000, 0x20000);
    physmem_add(&pm, 0x90000, 0xa0000);
    physmem_add(&pm, 0x30000, 0x40000);
    RANGES(0x10000, 0x20000, 0x30000, 0x40000, 0x50000, 0x60000, 0x90000, 0xa0000);
    CHECK_EQ(physmem_free_bytes(&pm), 4 * 0x10000);
}

TEST(add_bridges_several_ranges)
{
    reset();
    physmem_add(&pm, 0x10000, 0x20000);
    physmem_add(&pm, 0x30000, 0x40000);
    physmem_add(&pm, 0x50000, 0x60000);
    physmem_add(&pm, 0x80000, 0x90000);
    physmem_add(&pm, 0x20000, 0x50000);         /* touches the first, swallows, touches the third */
    RANGES(0x10000, 0x60000, 0x80000, 0x90000);
    physmem_add(&pm, 0x1000, 0xa0000);
    RANGES(0x1000, 0xa0000);
    CHECK_EQ(pm.dropped, 0);
}

/* ---- reserve ----------------------------------------------------------- */

TEST(reserve_splits_a_range)
{
    reset();
    physmem_add(&pm, 0x1000, 0x10000);
    physmem_reserve(&pm, 0x3000, 0x5000);
    RANGES(0x1000, 0x3000, 0x5000, 0x10000);
    CHECK_EQ(pm.dropped, 0);
}

TEST(reserve_grows_outwards_to_whole_pages)
{
    reset();
    physmem_add(&pm, 0x1000, 0x10000);
    physmem_reserve(&pm, 0x3001, 0x4fff);
    RANGES(0x1000, 0x3000, 0x5000, 0x10000);
    physmem_reserve(&pm, 0x8fff, 0x9001);       /* two bytes, two pages */
    RANGES(0x1000, 0x3000, 0x5000, 0x8000, 0xa000, 0x10000);
    physmem_reserve(&pm, 0xc000, 0xc001);       /* one byte, one page */
    RANGES(0x1000, 0x3000, 0x5000, 0x8000, 0xa000, 0xc000, 0xd000, 0x10000);
}

TEST(reserve_trims_either_end)
{
    reset();
    physmem_add(&pm, 0x10000, 0x20000);
    physmem_reserve(&pm, 0x8000, 0x12000);      /* overlaps the start */
    RANGES(0x12000, 0x20000);
    physmem_reserve(&pm, 0x1f000, 0x30000);     /* overlaps the end */
    RANGES(0x12000, 0x1f000);
    physmem_reserve(&pm, 0x12000, 0x13000);     /* exactly the first page */
    RANGES(0x13000, 0x1f000);
    physmem_reserve(&pm, 0x1e000, 0x1f000);     /* exactly the last page */
    RANGES(0x13000, 0x1e000);
}

TEST(reserve_swallows_whole_ranges)
{
    reset();
    physmem_add(&pm, 0x10000, 0x20000);
    physmem_add(&pm, 0x30000, 0x40000);
    physmem_add(&pm, 0x50000, 0x60000);
    physmem_add(&pm, 0x70000, 0x80000);
    physmem_reserve(&pm, 0x30000, 0x40000);     /* exactly one range */
    RANGES(0x10000, 0x20000, 0x50000, 0x60000, 0x70000, 0x80000);
    physmem_reserve(&pm, 0x18000, 0x78000);     /* trim, swallow, trim */
    RANGES(0x10000, 0x18000, 0x78000, 0x80000);
    physmem_reserve(&pm, 0, UINT64_MAX);        /* everything */
    EMPTY();
    CHECK_EQ(pm.dropped, 0);
}

TEST(reserve_swallows_consecutive_ranges)
{
    /* Removing a range while iterating must not skip the next one. */
    reset();
    for (uint64_t a = 0x10000; a < 0x100000; a += 0x10000)
        physmem_add(&pm, a, a + 0x8000);
    CHECK_EQ(pm.n, 15);
    physmem_reserve(&pm, 0x20000, 0xa0000);
    RANGES(0x10000, 0x18000, 0xa0000, 0xa8000, 0xb0000, 0xb8000, 0xc0000, 0xc8000,
           0xd0000, 0xd8000, 0xe0000, 0xe8000, 0xf0000, 0xf8000);
    physmem_reserve(&pm, 0x10000, 0xf8000);
    EMPTY();
}

TEST(reserve_outside_or_touching_changes_nothing)
{
    reset();
    physmem_add(&pm, 0x10000, 0x20000);
    physmem_add(&pm, 0x40000, 0x50000);
    physmem_reserve(&pm, 0x20000, 0x40000);     /* the gap exactly */
    physmem_reserve(&pm, 0, 0x10000);
    physmem_reserve(&pm, 0x50000, 0x90000);
    physmem_reserve(&pm, 0x21000, 0x3f000);
    physmem_reserve(&pm, 0x30000, 0x30000);     /* empty, aligned */
    physmem_reserve(&pm, 0x18000, 0x17000);     /* reversed */
    RANGES(0x10000, 0x20000, 0x40000, 0x50000);
    reset();
    physmem_reserve(&pm, 0x1000, 0x2000);       /* on an empty table */
    EMPTY();
}

TEST(reserve_then_add_back)
{
    reset();
    physmem_add(&pm, 0x100000, 0x200000);
    physmem_reserve(&pm, 0x150000, 0x160000);
    physmem_add(&pm, 0x150000, 0x160000);
    RANGES(0x100000, 0x200000);
}

/* ---- alloc ------------------------------------------------------------- */

TEST(alloc_takes_lowest_page)
{
    reset();
    physmem_add(&pm, 0x100000, 0x110000);
    physmem_add(&pm, 0x200000, 0x210000);
    CHECK_EQ(physmem_alloc(&pm, PG, PG, UINT64_MAX), 0x100000);
    CHECK_EQ(physmem_alloc(&pm, PG, PG, UINT64_MAX), 0x101000);
    RANGES(0x102000, 0x110000, 0x200000, 0x210000);
    CHECK_EQ(physmem_free_bytes(&pm), 0x1e000);
}

TEST(alloc_rounds_size_up_to_pages)
{
    reset();
    physmem_add(&pm, 0x10000, 0x20000);
    CHECK_EQ(physmem_alloc(&pm, 1, PG, UINT64_MAX), 0x10000);
    RANGES(0x11000, 0x20000);
    CHECK_EQ(physmem_alloc(&pm, PG + 1, PG, UINT64_MAX), 0x11000);
    RANGES(0x13000, 0x20000);
    CHECK_EQ(physmem_alloc(&pm, 3 * PG, PG, UINT64_MAX), 0x13000);
    RANGES(0x16000, 0x20000);
}

TEST(alloc_aligns)
{
    reset();
    physmem_add(&pm, 0x1000, 0x100000);
    CHECK_EQ(physmem_alloc(&pm, PG, 0x10000, UINT64_MAX), 0x10000);
    RANGES(0x1000, 0x10000, 0x11000, 0x100000);
    CHECK_EQ(physmem_alloc(&pm, 0x2000, 0x2000, UINT64_MAX), 0x2000);
    RANGES(0x1000, 0x2000, 0x4000, 0x10000, 0x11000, 0x100000);
    CHECK_EQ(physmem_alloc(&pm, 0x20000, 0x20000, UINT64_MAX), 0x20000);
    RANGES(0x1000, 0x2000, 0x4000, 0x10000, 0x11000, 0x20000, 0x40000, 0x100000);
    CHECK_EQ(physmem_alloc(&pm, PG, PG, UINT64_MAX), 0x1000);
    CHECK_EQ(physmem_alloc(&pm, 2 * MiB, 2 * MiB, UINT64_MAX), 0);   /* none aligned fits */
    RANGES(0x4000, 0x10000, 0x11000, 0x20000, 0x40000, 0x100000);
}

TEST(alloc_skips_ranges_too_small_after_alignment)
{
    reset();
    physmem_add(&pm, 0x1000, 0x3000);           /* 2 pages but misaligned for 8 KiB */
    physmem_add(&pm, 0x5000, 0x6000);           /* 1 page */
    physmem_add(&pm, 0x9000, 0x10000);
    CHECK_EQ(physmem_alloc(&pm, 0x2000, 0x2000, UINT64_MAX), 0xa000);
    RANGES(0x1000, 0x3000, 0x5000, 0x6000, 0x9000, 0xa000, 0xc000, 0x10000);
    CHECK_EQ(physmem_alloc(&pm, 0x2000, PG, UINT64_MAX), 0x1000);
    RANGES(0x5000, 0x6000, 0x9000, 0xa000, 0xc000, 0x10000);
}

TEST(alloc_respects_limit)
{
    reset();
    physmem_add(&pm, 0x1000, 0x4000);
    physmem_add(&pm, 0x10000, 0x20000);
    CHECK_EQ(physmem_alloc(&pm, 0x2000, PG, 0x2000), 0);            /* would end at 0x3000 */
    CHECK_EQ(physmem_alloc(&pm, 0x4000, PG, 0x13fff), 0);           /* fits only at 0x10000 */
    RANGES(0x1000, 0x4000, 0x10000, 0x20000);
    CHECK_EQ(physmem_alloc(&pm, 0x2000, PG, 0x3000), 0x1000);       /* ends exactly at limit */
    CHECK_EQ(physmem_alloc(&pm, 0x4000, PG, 0x14000), 0x10000);
    RANGES(0x3000, 0x4000, 0x14000, 0x20000);
    /* The size counts in whole pages against the limit too. */
    CHECK_EQ(physmem_alloc(&pm, 0x1001, PG, 0x15800), 0);
    CHECK_EQ(physmem_alloc(&pm, 0x1001, PG, 0x15fff), 0);
    RANGES(0x3000, 0x4000, 0x14000, 0x20000);
    CHECK_EQ(physmem_alloc(&pm, 0x1001, PG, 0x16000), 0x14000);
    RANGES(0x3000, 0x4000, 0x16000, 0x20000);
    CHECK_EQ(physmem_alloc(&pm, PG, PG, 0), 0);
    CHECK_EQ(physmem_alloc(&pm, PG, PG, 0x3fff), 0);
    CHECK_EQ(physmem_alloc(&pm, PG, PG, 0x4000), 0x3000);
    RANGES(0x16000, 0x20000);
}

TEST(alloc_returns_0_when_nothing_fits)
{
    reset();
    CHECK_EQ(physmem_alloc(&pm, PG, PG, UINT64_MAX), 0);            /* empty table */
    physmem_add(&pm, 0x10000, 0x12000);
    physmem_add(&pm, 0x20000, 0x23000);
    CHECK_EQ(physmem_alloc(&pm, 0x4000, PG, UINT64_MAX), 0);
    CHECK_EQ(physmem_alloc(&pm, UINT64_MAX, PG, UINT64_MAX), 0);
    CHECK_EQ(physmem_alloc(&pm, UINT64_MAX - PG, PG, UINT64_MAX), 0);
    RANGES(0x10000, 0x12000, 0x20000, 0x23000);
    CHECK_EQ(physmem_alloc(&pm, 0x3000, PG, UINT64_MAX), 0x20000);  /* the whole range */
    RANGES(0x10000, 0x12000);
    CHECK_EQ(physmem_alloc(&pm, 0x2000, PG, UINT64_MAX), 0x10000);
    EMPTY();
    CHECK_EQ(physmem_alloc(&pm, PG, PG, UINT64_MAX), 0);
}

TEST(alloc_rejects_size_0_and_bad_align)
{
    reset();
    physmem_add(&pm, 0x10000, 0x100000);
    static const uint64_t bad_align[] = {
        0, 1, 2, 8, 2048, PG - 1, PG + 1, 3 * PG, 0x3000, 0x10001, 0xffffffffffffffffull,
        (1ull << 63) + PG,
    };
    for (size_t i = 0; i < sizeof bad_align / sizeof bad_align[0]; i++)
        CHECK_EQ(physmem_alloc(&pm, PG, bad_align[i], UINT64_MAX), 0);
    CHECK_EQ(physmem_alloc(&pm, 0, PG, UINT64_MAX), 0);
    CHECK_EQ(physmem_alloc(&pm, 0, 0x10000, UINT64_MAX), 0);
    RANGES(0x10000, 0x100000);
}

TEST(alloc_huge_alignment_near_top)
{
    reset();
    physmem_add(&pm, 0x1000, 0x2000);
    physmem_add(&pm, 0x8000000000001000ull, 0x8000000000010000ull);
    physmem_add(&pm, 0xffffffff00000000ull, 0xfffffffffffff000ull);
    /*
     * Rounding a base above 2^63 up to a multiple of 2^63 wraps to 0: the
     * range is skipped, and nothing at address 0 upwards is taken instead.
     */
    CHECK_EQ(physmem_alloc(&pm, PG, 1ull << 63, UINT64_MAX), 0);
    CHECK_EQ(physmem_alloc(&pm, 0x2000, 1ull << 63, UINT64_MAX), 0);
    /* 2^62: too high for the first two ranges, wraps for the third. */
    CHECK_EQ(physmem_alloc(&pm, PG, 1ull << 62, UINT64_MAX), 0);
    RANGES(0x1000, 0x2000, 0x8000000000001000ull, 0x8000000000010000ull,
           0xffffffff00000000ull, 0xfffffffffffff000ull);
    physmem_add(&pm, 0x8000000000000000ull, 0x8000000000001000ull);
    CHECK_EQ(physmem_alloc(&pm, PG, 1ull << 63, UINT64_MAX), 0x8000000000000000ull);
    RANGES(0x1000, 0x2000, 0x8000000000001000ull, 0x8000000000010000ull,
           0xffffffff00000000ull, 0xfffffffffffff000ull);
    CHECK_EQ(physmem_alloc(&pm, PG, 0x1000, UINT64_MAX), 0x1000);
    CHECK_EQ(physmem_alloc(&pm, 0x1000, 1ull << 32, UINT64_MAX), 0xffffffff00000000ull);
    /* Everything up to the last page of the address space. */
    CHECK_EQ(physmem_alloc(&pm, 0xfffff000ull - 0x1000, PG, UINT64_MAX), 0xffffffff00001000ull);
    RANGES(0x8000000000001000ull, 0x8000000000010000ull);
}

/* ---- table full -------------------------------------------------------- */

/* Fills the table with PHYSMEM_MAX_RANGES one-page ranges at the odd pages 3, 5, .. 129. */
static void fill_table(void)
{
    reset();
    for (int i = 0; i < PHYSMEM_MAX_RANGES; i++)
        physmem_add(&pm, (uint64_t)(2 * i + 3) * PG, (uint64_t)(2 * i + 4) * PG);
}

TEST(full_table_drops_isolated_add)
{
    fill_table();
    CHECK_EQ(pm.n, PHYSMEM_MAX_RANGES);
    CHECK(well_formed(&pm));
    CHECK_EQ(pm.dropped, 0);
    uint64_t before = physmem_free_bytes(&pm);
    CHECK_EQ(before, PHYSMEM_MAX_RANGES * PG);
    physmem_add(&pm, 0x1000000, 0x1005000);     /* above everything */
    CHECK_EQ(pm.n, PHYSMEM_MAX_RANGES);
    CHECK_EQ(pm.dropped, 0x5000);
    CHECK_EQ(physmem_free_bytes(&pm), before);
    physmem_add(&pm, 0x1000000, 0x1005001);     /* shrunk first: drops 5 pages again */
    CHECK_EQ(pm.dropped, 0xa000);
    CHECK(well_formed(&pm));
    CHECK_EQ(pm.r[0].base, 3 * PG);
    CHECK_EQ(pm.r[PHYSMEM_MAX_RANGES - 1].end, (uint64_t)(2 * PHYSMEM_MAX_RANGES + 2) * PG);
}

TEST(full_table_still_merges)
{
    fill_table();
    physmem_add(&pm, 4 * PG, 5 * PG);           /* bridges pages 3 and 5 */
    CHECK_EQ(pm.n, PHYSMEM_MAX_RANGES - 1);
    CHECK_EQ(pm.r[0].base, 3 * PG);
    CHECK_EQ(pm.r[0].end, 6 * PG);
    CHECK_EQ(pm.dropped, 0);
    physmem_add(&pm, 0x1000000, 0x1001000);     /* room again */
    CHECK_EQ(pm.n, PHYSMEM_MAX_RANGES);
    CHECK_EQ(pm.dropped, 0);
    uint64_t before = physmem_free_bytes(&pm);
    physmem_add(&pm, 0x1001000, 0x1003000);     /* adjacent while full: merged */
    CHECK_EQ(pm.n, PHYSMEM_MAX_RANGES);
    CHECK_EQ(pm.dropped, 0);
    CHECK_EQ(physmem_free_bytes(&pm), before + 0x2000);
    physmem_add(&pm, 7 * PG, 8 * PG);           /* already free while full: no change */
    CHECK_EQ(pm.dropped, 0);
    CHECK_EQ(physmem_free_bytes(&pm), before + 0x2000);
    CHECK(well_formed(&pm));
}

TEST(full_table_split_drops_the_tail)
{
    fill_table();
    physmem_add(&pm, 3 * PG, 4 * PG + 0x10000);   /* range 0 becomes pages 3 .. 19 */
    CHECK_EQ(pm.n, PHYSMEM_MAX_RANGES - 8);       /* swallowed 8 one-page ranges */
    while (pm.n < PHYSMEM_MAX_RANGES)
        physmem_add(&pm, 0x1000000 + (uint64_t)pm.n * 2 * PG, 0x1000000 + (uint64_t)pm.n * 2 * PG + PG);
    CHECK_EQ(pm.n, PHYSMEM_MAX_RANGES);
    uint64_t r0_end = pm.r[0].end;
    uint64_t before = physmem_free_bytes(&pm);
    CHECK_EQ(r0_end, 20 * PG);
    physmem_reserve(&pm, 5 * PG, 6 * PG);       /* splits range 0; the tail has no slot */
    CHECK_EQ(pm.n, PHYSMEM_MAX_RANGES);
    CHECK_EQ(pm.r[0].base, 3 * PG);
    CHECK_EQ(pm.r[0].end, 5 * PG);
    CHECK_EQ(pm.dropped, r0_end - 6 * PG);
    CHECK_EQ(physmem_free_bytes(&pm), before - PG - pm.dropped);
    CHECK(well_formed(&pm));
    /* Trimming does not need a slot: nothing more dropped. */
    physmem_reserve(&pm, 4 * PG, 5 * PG);
    CHECK_EQ(pm.dropped, r0_end - 6 * PG);
    CHECK_EQ(pm.r[0].end, 4 * PG);
}

TEST(full_table_alloc_split_drops_the_tail)
{
    fill_table();
    physmem_reserve(&pm, 3 * PG, 4 * PG);       /* one slot free */
    physmem_add(&pm, 0x100000, 0x200000);
    CHECK_EQ(pm.n, PHYSMEM_MAX_RANGES);
    /* The first 64 KiB aligned page is then 0x110000, inside the last range. */
    physmem_reserve(&pm, 0x100000, 0x101000);
    CHECK_EQ(pm.r[PHYSMEM_MAX_RANGES - 1].base, 0x101000);
    uint64_t a = physmem_alloc(&pm, PG, 0x10000, UINT64_MAX);
    CHECK_EQ(a, 0x110000);
    CHECK_EQ(pm.n, PHYSMEM_MAX_RANGES);
    CHECK_EQ(pm.r[PHYSMEM_MAX_RANGES - 1].base, 0x101000);
    CHECK_EQ(pm.r[PHYSMEM_MAX_RANGES - 1].end, 0x110000);
    CHECK_EQ(pm.dropped, 0x200000 - 0x111000);
    CHECK(well_formed(&pm));
}

/* ---- randomized model test --------------------------------------------- */

#define NPAGES 4096
#define TOP ((uint64_t)NPAGES * PG)

static uint8_t model[NPAGES + 1];       /* 1: free; model[NPAGES] stays 0 */
static uint64_t model_dropped;
static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static uint64_t below(uint64_t n)
{
    return n ? rnd() % n : 0;
}

static int model_runs(void)
{
    int runs = 0;
    for (int p = 0; p < NPAGES; p++)
        if (model[p] && (p == 0 || !model[p - 1]))
            runs++;
    return runs;
}

static void model_add(uint64_t base, uint64_t end)
{
    uint64_t b = (base + PG - 1) / PG, e = end / PG;
    if (b >= e)
        return;
    bool touches = false;
    for (uint64_t p = b ? b - 1 : 0; p <= e && p < NPAGES; p++)
        touches |= model[p];
    if (!touches && model_runs() == PHYSMEM_MAX_RANGES) {
        model_dropped += (e - b) * PG;
        return;
    }
    memset(model + b, 1, e - b);
}

static void model_reserve_pages(uint64_t b, uint64_t e)
{
    if (b >= e)
        return;
    if (e > NPAGES)
        e = NPAGES;
    if (b >= e)
        return;
    /* A split happens when one free run covers pages b-1 .. e. */
    bool split = b > 0 && e < NPAGES;
    for (uint64_t p = b ? b - 1 : 0; split && p <= e; p++)
        split = model[p];
    if (split && model_runs() == PHYSMEM_MAX_RANGES) {
        uint64_t t = e;
        while (t < NPAGES && model[t])
            t++;
        model_dropped += (t - e) * PG;
        e = t;
    }
    memset(model + b, 0, e - b);
}

static void model_reserve(uint64_t base, uint64_t end)
{
    uint64_t b = base / PG, e = (end + PG - 1) / PG;
    model_reserve_pages(b, e);
}

#define NO_FIT UINT64_MAX

/*
 * Brute force: the lowest address, a multiple of align, where the size
 * rounded up to pages is free and ends at or below limit; NO_FIT if none.
 */
static uint64_t model_fit(uint64_t size, uint64_t align, uint64_t limit)
{
    if (size == 0 || align < PG || (align & (align - 1)))
        return NO_FIT;
    uint64_t sz = (size + PG - 1) / PG, al = align / PG;
    for (uint64_t a = 0; a + sz <= NPAGES; a += al) {
        bool fits = (a + sz) * PG <= limit;
        for (uint64_t p = a; fits && p < a + sz; p++)
            fits = model[p];
        if (fits)
            return a * PG;
    }
    return NO_FIT;
}

static bool matches_model(void)
{
    if (!well_formed(&pm)) {
        printf("  table is malformed\n");
        return false;
    }
    static uint8_t seen[NPAGES];
    memset(seen, 0, sizeof seen);
    uint64_t count = 0;
    for (int i = 0; i < pm.n; i++) {
        if (pm.r[i].end > TOP) {
            printf("  range past the model\n");
            return false;
        }
        for (uint64_t p = pm.r[i].base / PG; p < pm.r[i].end / PG; p++)
            seen[p] = 1;
    }
    for (int p = 0; p < NPAGES; p++) {
        if (seen[p] != model[p]) {
            printf("  page %d: table says %s, model says %s\n", p, seen[p] ? "free" : "used",
                   model[p] ? "free" : "used");
            return false;
        }
        count += model[p];
    }
    if (pm.n != model_runs() || physmem_free_bytes(&pm) != count * PG) {
        printf("  %d ranges / %d runs\n", pm.n, model_runs());
        return false;
    }
    if (pm.dropped != model_dropped) {
        printf("  dropped %llu, model %llu\n", (unsigned long long)pm.dropped,
               (unsigned long long)model_dropped);
        return false;
    }
    return true;
}

/* A random byte address in the model, sometimes page aligned. */
static uint64_t rand_addr(void)
{
    uint64_t a = below(TOP + 1);
    return below(3) == 0 ? a & ~(PG - 1) : a;
}

struct model_stats {
    int drops, full_ops, allocs_ok, allocs_failed, max_ranges;
};

static bool run_model(uint64_t seed, int ops, int add_weight, uint64_t max_add_pages,
                      uint64_t max_reserve_pages, struct model_stats *st)
{
    reset();
    memset(model, 0, sizeof model);
    model_dropped = 0;
    rng_state = seed;
    for (int op = 0; op < ops; op++) {
        uint64_t before_dropped = model_dropped;
        int kind = (int)below(100);
        if (pm.n == PHYSMEM_MAX_RANGES)
            st->full_ops++;
        if (kind < add_weight) {
            uint64_t base = rand_addr(), len = below((below(2) ? max_add_pages / 16 : max_add_pages) * PG);
            if (base == 0)
                base = 1;       /* page 0 is never free: alloc's 0 means failure */
            uint64_t end = base + len > TOP ? TOP : base + len;
            if (below(20) == 0)
                end = base - below(base + 1);   /* empty or reversed */
            physmem_add(&pm, base, end);
            model_add(base, end);
        } else if (kind < add_weight + (100 - add_weight) / 2) {
            uint64_t base = rand_addr(), len = below(max_reserve_pages * PG);
            uint64_t end = base + len > TOP ? TOP : base + len;
            physmem_reserve(&pm, base, end);
            model_reserve(base, end);
        } else {
            static const uint64_t aligns[] = {
                PG, PG, PG, 2 * PG, 4 * PG, 16 * PG, 256 * PG, 0, 1, 2048, 3 * PG, PG + 1,
            };
            uint64_t size = below(4) ? below(8 * PG) : below(64 * PG);
            uint64_t align = aligns[below(sizeof aligns / sizeof aligns[0])];
            uint64_t limit;
            switch (below(4)) {
            case 0: limit = UINT64_MAX; break;
            case 1: limit = rand_addr(); break;
            default: {
                /* Around the end of the lowest fit, where the limit matters. */
                uint64_t fit = model_fit(size, align, UINT64_MAX);
                uint64_t fit_end = fit == NO_FIT ? TOP : fit + (size + PG - 1) / PG * PG;
                limit = fit_end + below(2 * PG) - PG;
            }
            }
            uint64_t want = model_fit(size, align, limit);
            uint64_t got = physmem_alloc(&pm, size, align, limit);
            if (want == NO_FIT)
                want = 0;
            else
                model_reserve_pages(want / PG, want / PG + (size + PG - 1) / PG);
            if (got != want) {
                printf("  seed %#llx op %d: alloc(%#llx, %#llx, %#llx) = %#llx, want %#llx\n",
                       (unsigned long long)seed, op, (unsigned long long)size,
                       (unsigned long long)align, (unsigned long long)limit,
                       (unsigned long long)got, (unsigned long long)want);
                return false;
            }
            if (got)
                st->allocs_ok++;
            else
                st->allocs_failed++;
        }
        if (model_dropped != before_dropped)
            st->drops++;
        if (pm.n > st->max_ranges)
            st->max_ranges = pm.n;
        if (!matches_model()) {
            printf("  seed %#llx: mismatch after op %d\n", (unsigned long long)seed, op);
            return false;
        }
    }
    return true;
}

TEST(random_ops_match_model_sparse_table)
{
    /* Mostly large adds and small reserves: the table rarely fills. */
    struct model_stats st = { 0 };
    for (uint64_t seed = 1; seed <= 6; seed++)
        CHECK(run_model(0x9e3779b97f4a7c15ull * seed, 3000, 40, 1024, 8, &st));
    CHECK(st.allocs_ok > 1000);
    CHECK(st.allocs_failed > 100);
    CHECK(st.max_ranges > 8);
    CHECK(st.max_ranges < PHYSMEM_MAX_RANGES);
    CHECK_EQ(st.drops, 0);
}

TEST(random_ops_match_model_near_full_table)
{
    /* In between: the table fills and empties again. */
    struct model_stats st = { 0 };
    for (uint64_t seed = 1; seed <= 6; seed++)
        CHECK(run_model(0x2545f4914f6cdd1dull * seed, 4000, 45, 256, 4, &st));
    CHECK_EQ(st.max_ranges, PHYSMEM_MAX_RANGES);
    CHECK(st.full_ops > 50);
    CHECK(st.full_ops < 6 * 4000 / 4);
    CHECK(st.drops > 10);
    CHECK(st.allocs_ok > 1000);
}

TEST(random_ops_match_model_full_table)
{
    /* Many small holes: the table runs full and drops are modelled exactly. */
    struct model_stats st = { 0 };
    for (uint64_t seed = 1; seed <= 6; seed++)
        CHECK(run_model(0xd1b54a32d192ed03ull * seed, 4000, 50, 48, 3, &st));
    CHECK_EQ(st.max_ranges, PHYSMEM_MAX_RANGES);
    CHECK(st.full_ops > 1000);
    CHECK(st.drops > 20);
    CHECK(st.allocs_ok > 500);
}
