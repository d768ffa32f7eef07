/*
 * User address spaces: VSpace objects (the top-level table), page tables,
 * and frames mapped into them, on behalf of the capability invocations.
 *
 * A mapped frame or page-table capability records where it is mapped:
 * w0 = virtual address | level, w1 = the address space's ASID (0: not
 * mapped).  ASIDs name address spaces indirectly, so a mapping whose
 * address space was destroyed is recognised as dead instead of followed
 * into freed memory.  Unmapping a page table clears its entries, so a
 * table is always empty when it is mapped again.
 */
#ifndef PITH_ARCH_VM_H
#define PITH_ARCH_VM_H

#include <stdint.h>
#include "object/cap.h"
#include "object/tcb.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/tlb.h"

#define VM_ASID_MAX 4096        /* address spaces alive at once (decision 0011) */

struct tcb;

void vm_init(void);
int vm_vspace_created(struct cap *vspace);     /* assigns an ASID, copies the kernel half */
void vm_vspace_finalise(const struct cap *vspace);

/* Page-table levels: 3 = PML4 (the VSpace), 2 = PDPT, 1 = PD, 0 = PT. */
int vm_map_table(const struct cap *vspace, struct cap *table, uint64_t vaddr);
int vm_map_frame(const struct cap *vspace, struct cap *frame, uint64_t vaddr, uint8_t rights);
void vm_unmap(struct cap *c);                   /* frame or page table; harmless if unmapped */

/*
 * Ranges of pages (docs/memory.md).  vm_range_check: count (1 to
 * PITH_MAP_MAX_PAGES) pages from vaddr could each take a frame now
 * (PITH_E_ALIGNMENT, _INVALID_ARG, _NO_MEMORY, _NO_TABLE, _MAPPED).
 * vm_ad_bits: out[0] mapped, out[1] accessed, out[2] dirty, one bit per
 * page (count 1-64); A and D are cleared.
 */
int vm_range_check(const struct cap *vspace, uint64_t vaddr, uint64_t count);
/* Maps count frames (checked: frames, unmapped, with the rights) on a range vm_range_check passed. */
void vm_map_range(const struct cap *vspace, struct slot *frames, uint64_t count, uint64_t vaddr, uint8_t rights);
int vm_ad_bits(const struct cap *vspace, uint64_t vaddr, unsigned count, uint64_t out[3]);

/* Drops one user page's TLB entry wherever the address space may be cached. */
void vm_flush_page(uint64_t *pml4, uint64_t vaddr);

/* The physical address of a frame or table object. */
static inline uint64_t vm_object_phys(const struct cap *c)
{
    return c->obj - DIRECT_MAP_BASE;
}

extern uint64_t vm_kernel_pml4;         /* physical */
static inline uint64_t vm_kernel_pml4_phys(void) { return vm_kernel_pml4; }

/* Loads the thread's address space (the kernel's own if it has none): on every switch, inline. */
static inline void vm_activate(struct tcb *t)
{
    const struct cap *vs = &t->slots[TCB_SLOT_VSPACE].cap;
    uint64_t want = vs->type == PITH_OBJ_VSPACE ? vm_object_phys(vs) : vm_kernel_pml4;
    if (PERCPU_GET(cr3) != want)
        tlb_set_cr3(want);
}

#endif
