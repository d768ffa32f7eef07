/* The big kernel lock: a ticket lock, and the IPC fast paths it waits for (see bkl.h). */
#include "core/bkl.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/tlb.h"

struct ticket_lock bkl;
bool bkl_needed;
uint64_t bkl_contended, bkl_wait_tsc;

/* Our ticket is not served yet: wait.  The holder may be waiting for us to flush our TLB. */
static void wait_for_ticket(uint32_t ticket)
{
    uint64_t start = rdtsc();
    while (__atomic_load_n(&bkl.owner, __ATOMIC_ACQUIRE) != ticket) {
        tlb_poll();
        cpu_relax();
    }
    bkl_contended++;
    bkl_wait_tsc += rdtsc() - start;
}

/*
 * A fast path that began before our ticket was drawn may still run on
 * another CPU: it saw the lock free.  One that begins later sees it taken
 * and backs off (syscall.S), so this ends, within one fast path's time.
 * The ticket's atomic add and each CPU's store of its flag, with the
 * fence after it, order the two checks: one side always sees the other.
 */
static void wait_for_fast_paths(void)
{
    for (unsigned i = 0; i < smp_ncpus; i++)       /* (ours is down: we are not in one) */
        while (__atomic_load_n(&percpus[i].fast_shared, __ATOMIC_ACQUIRE))
            cpu_relax();
}

/*
 * A fast path that found the lock busy (syscall.S): wait until nobody
 * holds it or waits for it, without queueing, flushing our TLB if the
 * holder asks.
 */
void bkl_wait_free(void)
{
    while (__atomic_load_n(&bkl.next, __ATOMIC_ACQUIRE) != __atomic_load_n(&bkl.owner, __ATOMIC_ACQUIRE)) {
        tlb_poll();
        cpu_relax();
    }
}

/* Our ticket drawn: the lock is ours once it is served and no other CPU is in a fast path. */
static inline __attribute__((always_inline)) void take(uint32_t ticket, bool served)
{
    if (!served)
        wait_for_ticket(ticket);
    wait_for_fast_paths();
    this_cpu()->holds_bkl = 1;
}

void bkl_lock(void)
{
    if (!bkl_needed)
        return;
    uint32_t ticket = __atomic_fetch_add(&bkl.next, 1, __ATOMIC_SEQ_CST);
    take(ticket, __atomic_load_n(&bkl.owner, __ATOMIC_ACQUIRE) == ticket);
}

/* The entry paths' slow cases (BKL_TAKE, entry.h): our ticket not yet served; or fast paths still running. */
void bkl_wait(uint32_t ticket) { take(ticket, false); }
void bkl_wait_fast_paths(void) { take(0, true); }

void bkl_unlock(void)
{
    if (!bkl_needed)
        return;
    this_cpu()->holds_bkl = 0;
    __atomic_store_n(&bkl.owner, bkl.owner + 1, __ATOMIC_RELEASE);
}
