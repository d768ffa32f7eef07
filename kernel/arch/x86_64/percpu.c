/* Per-CPU data, and the SYSCALL machinery each CPU sets up for itself. */
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/smp.h"
#include "core/syscall.h"
#include "core/sched.h"

extern char boot_stack_top[];
extern char syscall_entry[];

struct percpu percpus[SMP_MAX_CPUS];

struct percpu *percpu_of(unsigned n)
{
    return &percpus[n];
}

/*
 * GS points at this CPU's struct percpu in the kernel.  TSC_AUX holds the
 * CPU number, so user code learns where it runs with RDTSCP (as on Linux).
 */
void percpu_init(unsigned n, uint64_t kstack_top)
{
    struct percpu *pc = &percpus[n];
    pc->self = pc;
    pc->kstack_top = kstack_top;
    pc->cpu_number = n;
    gdt_cpu_ready(n);
    sched_init_cpu(n);
    wrmsr(MSR_GS_BASE, (uint64_t)pc);
    wrmsr(MSR_KERNEL_GS_BASE, 0);
    pc->cr3 = read_cr3() & ~0xfffull;   /* set by paging_init_cpu: only noted, not loaded again */
    if (cpu.rdtscp)
        wrmsr(MSR_TSC_AUX, n);
}

void percpu_init_boot_cpu(void)
{
    percpu_init(0, (uint64_t)boot_stack_top);
}

/*
 * SYSRET loads CS from STAR[63:48] + 16 and SS from STAR[63:48] + 8, which
 * is why the GDT has user data before user code.  FMASK clears IF (the
 * kernel runs with interrupts off), TF, DF, AC and NT on entry.
 */
void syscall_init(void)
{
    wrmsr(MSR_STAR, ((uint64_t)(SEL_UDATA - 8) | 3) << 48 | (uint64_t)SEL_KCODE << 32);
    wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
    wrmsr(MSR_FMASK, RFLAGS_IF | (1u << 8) | (1u << 10) | RFLAGS_AC | (1u << 14));
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
}
