/*
 * Boot-time physical memory: the set of free page ranges, built from the
 * boot loader's memory map minus everything in use (the kernel image,
 * boot modules, boot-loader data, the first MiB).  The kernel takes its
 * few boot-time pages (page tables, per-CPU stacks) from here; what
 * remains is handed to user level as untyped memory and the kernel
 * never allocates again.
 */
#ifndef PITH_MM_PHYSMEM_H
#define PITH_MM_PHYSMEM_H

#include <stdbool.h>
#include <stdint.h>

#define PHYSMEM_MAX_RANGES 64

struct phys_range {
    uint64_t base, end;                 /* [base, end), page aligned */
};

struct physmem {
    struct phys_range r[PHYSMEM_MAX_RANGES];    /* sorted, disjoint, not adjacent */
    int n;
    uint64_t dropped;                   /* bytes lost because the table was full */
};

/* Add usable memory; shrunk inwards to whole pages, merged with neighbours. */
void physmem_add(struct physmem *pm, uint64_t base, uint64_t end);

/* Mark memory in use; grown outwards to whole pages. */
void physmem_reserve(struct physmem *pm, uint64_t base, uint64_t end);

/*
 * Take size bytes aligned to align (a power of two, at least a page),
 * entirely below limit, from the lowest place that fits.  Returns the
 * physical address, or 0 when nothing fits (page 0 is never free).
 */
uint64_t physmem_alloc(struct physmem *pm, uint64_t size, uint64_t align, uint64_t limit);

uint64_t physmem_free_bytes(const struct physmem *pm);

#endif
