/* The big kernel lock: a ticket lock (see bkl.h). */
#include "core/bkl.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/tlb.h"

struct ticket_lock bkl;
bool bkl_needed;
uint64_t bkl_contended, bkl_wait_tsc;

/* Our ticket is not served yet: wait.  The holder may be waiting for us to flush our TLB. */
void bkl_wait(uint32_t ticket)
{
    uint64_t start = rdtsc();
    while (__atomic_load_n(&bkl.owner, __ATOMIC_ACQUIRE) != ticket) {
        tlb_poll();
        cpu_relax();
    }
    bkl_contended++;
    bkl_wait_tsc += rdtsc() - start;
}

void bkl_lock(void)
{
    if (!bkl_needed)
        return;
    uint32_t ticket = __atomic_fetch_add(&bkl.next, 1, __ATOMIC_ACQUIRE);
    if (__atomic_load_n(&bkl.owner, __ATOMIC_ACQUIRE) != ticket)
        bkl_wait(ticket);
    this_cpu()->holds_bkl = 1;
}

void bkl_unlock(void)
{
    if (!bkl_needed)
        return;
    this_cpu()->holds_bkl = 0;
    __atomic_store_n(&bkl.owner, bkl.owner + 1, __ATOMIC_RELEASE);
}
