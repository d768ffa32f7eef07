#include "core/selftest.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/qemu.h"
#include "arch/x86_64/serial.h"
#include "core/boot.h"
#include "core/log.h"
#include "core/panic.h"
#include "ktest.h"

/* noinline: the runner looks for these names in the backtrace. */
__attribute__((noinline)) static void selftest_panic_here(void)
{
    panic("deliberate panic requested on the command line");
}

__attribute__((noinline)) static void selftest_fault_here(void)
{
    volatile uintptr_t bad = 0x10;      /* page 0 is never mapped */
    *(volatile uint64_t *)bad = 1;
}

/* Each frame is big and the recursion unbounded: it must hit the guard page. */
__attribute__((noinline)) static uint64_t selftest_recurse(volatile uint64_t depth)
{
    volatile uint64_t pad[64];
    if (depth == UINT64_MAX)
        return 0;
    pad[0] = depth;
    return selftest_recurse(depth + 1) + pad[0];
}

void selftest_run_from_cmdline(void)
{
    if (cmdline_has("test")) {
        /* Kernel-internal tests first; the user-level suite then runs as init. */
        if (ktest_run_all()) {
            qemu_exit(QEMU_EXIT_TESTFAIL);
            panic("in-system tests failed");
        }
        if (boot.nmod == 0)
            system_shutdown();
        return;
    }
    const char *what = cmdline_get("selftest");
    if (!what)
        return;
    if (cmdline_is("selftest", "panic"))
        selftest_panic_here();
    else if (cmdline_is("selftest", "fault"))
        selftest_fault_here();
    else if (cmdline_is("selftest", "doublefault"))
        kprintf("selftest: unreachable %lu\n", selftest_recurse(0));
    else if (cmdline_is("selftest", "shutdown"))
        system_shutdown();
    else if (cmdline_is("selftest", "panic_com1_held")) {
        /*
         * As if a driver held COM1 and left its divisor latch open: the log
         * leaves COM1, and a panic must still be heard there.
         */
        log_uart_taken();
        kprintf("selftest: COM1 is a driver's now\n");
        outb(SERIAL_COM1_FIRST + 3, 0x80);    /* line control: divisor latch */
        selftest_panic_here();
    }
    panic("selftest: unknown or failed self test '%s'", what);
}
