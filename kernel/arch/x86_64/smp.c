/*
 * Starting the other CPUs (Intel SDM vol. 3, "Multiple-processor
 * management"): for each processor in the MADT, an INIT IPI, a 10 ms
 * pause, then up to two Startup IPIs whose vector names the trampoline's
 * page.  The CPU climbs to 64-bit mode (trampoline.S) and runs ap_main on
 * the stack chosen here; one CPU starts at a time, so the hand-over needs
 * nothing more than two variables.
 */
#include "arch/x86_64/smp.h"
#include "arch/x86_64/acpi.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/fpu.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/time.h"
#include "arch/x86_64/trap.h"
#include "core/bkl.h"
#include "core/log.h"
#include "core/sched.h"
#include "core/syscall.h"
#include "lib/string.h"

extern const char smp_trampoline[], smp_trampoline_end[];

unsigned smp_ncpus = 1;
uint32_t smp_apic_ids[SMP_MAX_CPUS];
uint64_t smp_ap_stack;                      /* read by ap_entry64 */
static unsigned booting;                    /* the CPU number being started */
static volatile int started;                /* it reached C */
static uint8_t ap_stacks[SMP_MAX_CPUS][KERNEL_STACK_SIZE] __attribute__((aligned(16)));

unsigned smp_cpu_of_apic(uint32_t apic_id)
{
    for (unsigned i = 0; i < smp_ncpus; i++)
        if (smp_apic_ids[i] == apic_id)
            return i;
    return 0;                               /* before numbering: the boot CPU */
}

static uint64_t stack_top(unsigned n)
{
    return (uint64_t)&ap_stacks[n][KERNEL_STACK_SIZE];
}

/* A started CPU: the same set-up as the boot CPU's, then the scheduler. */
void ap_main(void);
void ap_main(void)
{
    unsigned n = booting;
    paging_init_cpu();
    gdt_init(n);
    percpu_init(n, stack_top(n));
    idt_load();
    apic_init_cpu();
    fpu_init_cpu();
    syscall_init();
    __atomic_store_n(&started, 1, __ATOMIC_RELEASE);
    sched_cpu_start();
}

static bool wait_started(uint64_t ns)
{
    uint64_t end = rdtsc() + ns_to_tsc(ns);
    while (!__atomic_load_n(&started, __ATOMIC_ACQUIRE))
        if (rdtsc() > end)
            return false;
    return true;
}

static bool start_one(uint32_t apic, unsigned n)
{
    booting = n;
    smp_ap_stack = stack_top(n);
    started = 0;
    apic_send_init(apic);
    delay_ns(10000000);
    /*
     * Hardware starts a CPU within microseconds of the startup IPI.  Under
     * plain emulation each CPU is a host thread that a busy host may not
     * run for a while, so the second wait is long (it costs nothing when
     * the CPU starts, and a CPU that starts after we gave up would run
     * unaccounted for).
     */
    for (int i = 0; i < 2; i++) {
        apic_send_startup(apic, SMP_TRAMPOLINE);
        if (wait_started(i == 0 ? 1000000 : 2000000000))
            return true;
    }
    return false;
}

void smp_start_aps(void)
{
    smp_apic_ids[0] = apic_id();
    if (!acpi.madt_found)
        return;
    memcpy(phys_to_virt(SMP_TRAMPOLINE), smp_trampoline, (size_t)(smp_trampoline_end - smp_trampoline));
    int listed = acpi.madt.ncpus;
    if (listed < 2)
        return;
    /* From here on kernel code runs under the big kernel lock; kernel_exit gives it up. */
    bkl_needed = true;
    bkl_lock();
    for (int i = 0; i < listed; i++) {
        uint32_t apic = acpi.madt.apic_ids[i];
        if (apic == smp_apic_ids[0])
            continue;
        if (smp_ncpus == SMP_MAX_CPUS) {
            kprintf("smp: %d CPUs listed, at most %d used\n", listed, SMP_MAX_CPUS);
            break;
        }
        smp_apic_ids[smp_ncpus] = apic;
        if (start_one(apic, smp_ncpus))
            smp_ncpus++;
        else
            kprintf("smp: the CPU with APIC ID %u did not start\n", apic);
    }
    kprintf("smp: %u of %d CPUs online\n", smp_ncpus, listed);
}
