/*
 * The big kernel lock (decision 0014): one ticket lock held by whichever
 * CPU runs kernel code.  Taken on every entry from user mode and around
 * interrupts that wake an idle CPU; given back on the way out to user mode
 * and while a CPU idles.  First come, first served, so no CPU starves.
 *
 * Two things run without it:
 *
 * - The TLB shoot-down: the CPU that unmaps holds the lock and waits for
 *   the others to flush, so they flush from the interrupt, or while they
 *   spin here for the lock.
 *
 * - The IPC fast path between two threads of one CPU (decision 0030), so
 *   that pairs of threads on different CPUs do not queue for each other.
 *   A CPU announces it in its per-CPU `fast_shared` flag and goes ahead
 *   only if the lock is free and nobody waits for it; whoever then takes
 *   the lock waits until every CPU's flag is clear.  The fast path reads
 *   and writes only its own CPU's threads and scheduler, and the endpoint,
 *   which it locks (struct endpoint's `lock`) since two CPUs may use one
 *   endpoint at once.  So the holder of this lock still sees every kernel
 *   object at rest, as with one lock and nothing else.
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

/* Takes the lock (when bkl_needed): waits for its ticket, then for every fast path in progress. */
void bkl_lock(void);
void bkl_unlock(void);
/* The entry paths' slow cases (entry.h): wait for the ticket and the fast paths, or the fast paths only. */
void bkl_wait(uint32_t ticket);
void bkl_wait_fast_paths(void);
/* Until the lock is free (a fast path that found it busy, syscall.S); takes nothing. */
void bkl_wait_free(void);

/* Kernel-entry statistics for the benchmark: how often a CPU waited, and how long. */
extern uint64_t bkl_contended, bkl_wait_tsc;

#endif
