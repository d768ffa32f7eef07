/*
 * TLB shoot-down.  A CPU that removes a mapping flushes its own TLB and
 * asks every other CPU that has the same address space live (its CR3)
 * to flush too, and waits until they have: only then may the page go to
 * someone else.  The others act from an interrupt (VEC_TLB_SHOOTDOWN)
 * that needs no lock, or while they spin for the big kernel lock.
 */
#ifndef PITH_ARCH_TLB_H
#define PITH_ARCH_TLB_H

#include <stdbool.h>
#include <stdint.h>
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/percpu.h"

/*
 * Every other CPU whose CR3 is `pml4_phys` flushes its TLB; with `drop`,
 * it also leaves that address space for the kernel's tables (the address
 * space is being destroyed).  Called with the big kernel lock held.
 */
void tlb_shootdown(uint64_t pml4_phys, bool drop);

/* This CPU's part: done if asked (the interrupt, and bkl_lock's wait loop). */
void tlb_poll(void);

/* Every CR3 write: the CPU's page tables, and the note others target shoot-downs by. */
static inline void tlb_set_cr3(uint64_t pml4_phys)
{
    write_cr3(pml4_phys);
    PERCPU_SET(cr3, pml4_phys);
}

extern uint64_t tlb_shootdowns;         /* requests sent, for the tests */

#endif
