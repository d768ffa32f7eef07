/* TLB shoot-down between CPUs (tlb.h). */
#include "arch/x86_64/tlb.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/entry.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/vm.h"

enum { TLB_NONE, TLB_FLUSH, TLB_DROP };

static struct {
    uint64_t drop_cr3;                  /* with TLB_DROP: leave this one */
    uint32_t request;                   /* TLB_*, cleared by the CPU when done */
} __attribute__((aligned(64))) cpus[SMP_MAX_CPUS];

uint64_t tlb_shootdowns;


void tlb_poll(void)
{
    unsigned me = PERCPU_GET(cpu_number);
    uint32_t r = __atomic_load_n(&cpus[me].request, __ATOMIC_ACQUIRE);
    if (r == TLB_NONE)
        return;
    if (r == TLB_DROP && PERCPU_GET(cr3) == cpus[me].drop_cr3)
        tlb_set_cr3(vm_kernel_pml4_phys());
    else
        write_cr3(read_cr3());          /* every non-global entry goes */
    __atomic_store_n(&cpus[me].request, TLB_NONE, __ATOMIC_RELEASE);
}

void tlb_shootdown(uint64_t pml4_phys, bool drop)
{
    unsigned me = PERCPU_GET(cpu_number);
    bool asked[SMP_MAX_CPUS] = { false };
    for (unsigned c = 0; c < smp_ncpus; c++) {
        if (c == me || percpu_of(c)->cr3 != pml4_phys)
            continue;
        cpus[c].drop_cr3 = pml4_phys;
        __atomic_store_n(&cpus[c].request, drop ? TLB_DROP : TLB_FLUSH, __ATOMIC_RELEASE);
        apic_send_ipi(smp_apic_ids[c], VEC_TLB_SHOOTDOWN);
        asked[c] = true;
        tlb_shootdowns++;
    }
    for (unsigned c = 0; c < smp_ncpus; c++)
        while (asked[c] && __atomic_load_n(&cpus[c].request, __ATOMIC_ACQUIRE) != TLB_NONE)
            cpu_relax();
}

/* The interrupt: from user mode or an idle CPU, without the big kernel lock (isr.S). */
void tlb_interrupt(void);
void tlb_interrupt(void)
{
    tlb_poll();
    apic_eoi();
}
