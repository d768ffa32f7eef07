#include "mm/physmem.h"

#define PAGE 4096ull

static uint64_t page_down(uint64_t a) { return a & ~(PAGE - 1); }
static uint64_t page_up(uint64_t a)
{
    return a > UINT64_MAX - (PAGE - 1) ? page_down(UINT64_MAX) : page_down(a + PAGE - 1);
}

static void remove_at(struct physmem *pm, int i)
{
    for (int j = i; j + 1 < pm->n; j++)
        pm->r[j] = pm->r[j + 1];
    pm->n--;
}

/* Insert [base, end) at index i; when the table is full, count the loss instead. */
static void insert_at(struct physmem *pm, int i, uint64_t base, uint64_t end)
{
    if (pm->n == PHYSMEM_MAX_RANGES) {
        pm->dropped += end - base;
        return;
    }
    for (int j = pm->n; j > i; j--)
        pm->r[j] = pm->r[j - 1];
    pm->r[i] = (struct phys_range){ base, end };
    pm->n++;
}

void physmem_add(struct physmem *pm, uint64_t base, uint64_t end)
{
    base = page_up(base);
    end = page_down(end);
    if (base >= end)
        return;
    /* Merge with every range that overlaps or touches [base, end). */
    int i = 0;
    while (i < pm->n && pm->r[i].end < base)
        i++;
    while (i < pm->n && pm->r[i].base <= end) {
        if (pm->r[i].base < base)
            base = pm->r[i].base;
        if (pm->r[i].end > end)
            end = pm->r[i].end;
        remove_at(pm, i);
    }
    insert_at(pm, i, base, end);
}

void physmem_reserve(struct physmem *pm, uint64_t base, uint64_t end)
{
    base = page_down(base);
    end = page_up(end);
    if (base >= end)
        return;
    for (int i = 0; i < pm->n; i++) {
        struct phys_range *r = &pm->r[i];
        if (r->end <= base || r->base >= end)
            continue;
        if (r->base < base && r->end > end) {       /* split in two */
            uint64_t tail_end = r->end;
            r->end = base;
            insert_at(pm, i + 1, end, tail_end);
            return;
        }
        if (r->base >= base && r->end <= end) {     /* swallowed whole */
            remove_at(pm, i);
            i--;
        } else if (r->base < base) {
            r->end = base;
        } else {
            r->base = end;
        }
    }
}

uint64_t physmem_alloc(struct physmem *pm, uint64_t size, uint64_t align, uint64_t limit)
{
    if (size == 0 || align < PAGE || (align & (align - 1)))
        return 0;
    size = page_up(size);
    for (int i = 0; i < pm->n; i++) {
        uint64_t base = (pm->r[i].base + align - 1) & ~(align - 1);
        if (base < pm->r[i].base)               /* wrapped */
            continue;
        if (base >= pm->r[i].end || pm->r[i].end - base < size)
            continue;
        if (base + size > limit)
            return 0;                           /* ranges are sorted: nothing lower fits */
        physmem_reserve(pm, base, base + size);
        return base;
    }
    return 0;
}

uint64_t physmem_free_bytes(const struct physmem *pm)
{
    uint64_t total = 0;
    for (int i = 0; i < pm->n; i++)
        total += pm->r[i].end - pm->r[i].base;
    return total;
}
