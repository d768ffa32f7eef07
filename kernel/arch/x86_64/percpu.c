/* Per-CPU data for the boot CPU, and the SYSCALL machinery. */
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/gdt.h"
#include "core/syscall.h"

extern char boot_stack_top[];
extern char syscall_entry[];

struct percpu boot_cpu;

void percpu_init_boot_cpu(void)
{
    boot_cpu.self = &boot_cpu;
    boot_cpu.kstack_top = (uint64_t)boot_stack_top;
    boot_cpu.cpu_number = 0;
    wrmsr(MSR_GS_BASE, (uint64_t)&boot_cpu);
    wrmsr(MSR_KERNEL_GS_BASE, 0);
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
