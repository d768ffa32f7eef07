/* Kernel page tables: the image with W^X, the direct map, and uncached device windows. */
#ifndef PITH_ARCH_PAGING_H
#define PITH_ARCH_PAGING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "arch/x86_64/layout.h"

#define PTE_P       (1ull << 0)
#define PTE_W       (1ull << 1)
#define PTE_U       (1ull << 2)
#define PTE_PWT     (1ull << 3)
#define PTE_PCD     (1ull << 4)
#define PTE_A       (1ull << 5)
#define PTE_D       (1ull << 6)
#define PTE_PS      (1ull << 7)
#define PTE_G       (1ull << 8)
#define PTE_NX      (1ull << 63)
#define PTE_ADDR    0x000ffffffffff000ull

static inline void *phys_to_virt(uint64_t pa) { return (void *)(DIRECT_MAP_BASE + pa); }

void paging_init(void);
void paging_init_cpu(void);         /* the same settings on each further CPU */

/*
 * The effective permissions of the page holding va in the current address
 * space: PTE_P, PTE_W (writable at every level), PTE_U, PTE_NX (set at any
 * level), PTE_G and PTE_PCD of the leaf.  0 when not mapped.
 */
uint64_t paging_query(uint64_t va);
bool paging_kernel_readable(uint64_t va, size_t len);

/* Maps device registers uncached into the MMIO window; returns their virtual address. */
void *paging_map_mmio(uint64_t phys, size_t size);

#endif
