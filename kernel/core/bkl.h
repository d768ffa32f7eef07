/*
 * The big kernel lock (decision 0014): one ticket lock held by whichever
 * CPU runs kernel code.  Taken on every entry from user mode and around
 * interrupts that wake an idle CPU; given back on the way out to user mode
 * and while a CPU idles.  First come, first served, so no CPU starves.
 *
 * The one thing done without it is the TLB shoot-down: the CPU that
 * unmaps holds the lock and waits for the others to flush, so they flush
 * from the interrupt, or while they spin here for the lock.
 */
#ifndef PITH_CORE_BKL_H
#define PITH_CORE_BKL_H

#include <stdbool.h>
#include <stdint.h>

struct ticket_lock {
    uint32_t next;              /* the ticket the next CPU to ask draws */
    uint32_t owner;             /* the ticket being served */
};

extern struct ticket_lock bkl;

/*
 * False while only one CPU runs: then there is nobody to exclude, and the
 * lock is not touched at all.  smp_start_aps sets it, and takes the lock
 * for the boot CPU, before it starts another CPU.
 */
extern bool bkl_needed;

void bkl_lock(void);
void bkl_unlock(void);
void bkl_wait(uint32_t ticket);         /* the entry paths' slow case (entry.h) */

/* Kernel-entry statistics for the benchmark: how often a CPU waited, and how long. */
extern uint64_t bkl_contended, bkl_wait_tsc;

#endif
