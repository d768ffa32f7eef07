#include "core/panic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/qemu.h"
#include "core/ksym.h"
#include "core/log.h"

#include <stdarg.h>

#define BACKTRACE_MAX 32

static int panicking;

static void print_frame(int n, uint64_t rip)
{
    uint64_t off;
    const char *name = ksym_lookup(rip, &off);
    if (name)
        kprintf("  #%-2d %016lx  %s+%#lx\n", n, rip, name, off);
    else
        kprintf("  #%-2d %016lx  ?\n", n, rip);
}

/*
 * Follows the chain of saved frame pointers (the kernel is built with
 * them).  Each step must move up the stack and point at mapped kernel
 * memory, so a corrupt chain ends the walk rather than faulting.
 */
void backtrace_print(uint64_t rip, uint64_t rbp)
{
    kprintf("backtrace:\n");
    print_frame(0, rip);
    for (int n = 1; n < BACKTRACE_MAX && rbp; n++) {
        if ((rbp & 7) || !paging_kernel_readable(rbp, 16))
            break;
        const uint64_t *frame = (const uint64_t *)rbp;
        uint64_t ret = frame[1];
        if (ret == 0)
            break;
        /* The return address points after the call: name the call itself. */
        print_frame(n, ret - 1);
        if (frame[0] <= rbp)
            break;
        rbp = frame[0];
    }
}

static _Noreturn void panic_common(int with_backtrace, const uint64_t *fp, const char *fmt, va_list ap)
{
    irq_disable();
    log_panic_mode();
    if (panicking++)
        kprintf("\nPANIC (nested): ");
    else
        kprintf("\nPANIC on CPU %u: ", apic_cpu_number());
    kvprintf(fmt, ap);
    kprintf("\n");
    /* Start at our caller: the function that panicked is frame #0. */
    if (with_backtrace && panicking == 1)
        backtrace_print(fp[1] - 1, fp[0]);
    kprintf("system halted\n");
    qemu_exit(QEMU_EXIT_PANIC);
    cpu_stop();
}

_Noreturn void panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    panic_common(1, __builtin_frame_address(0), fmt, ap);
}

_Noreturn void panic_after_report(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    panic_common(0, __builtin_frame_address(0), fmt, ap);
}
