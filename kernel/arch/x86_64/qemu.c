#include "arch/x86_64/qemu.h"
#include "arch/x86_64/cpu.h"
#include "core/log.h"

void qemu_exit(unsigned code)
{
    /*
     * Newer QEMUs (10.0, the pinned one) end the run some time after the
     * write, not at it: this CPU runs on, and a later write (the shutdown
     * that follows a failure) would replace the status.  The first
     * verdict is the one.
     */
    static bool sent;
    if (__atomic_exchange_n(&sent, true, __ATOMIC_RELAXED))
        return;
    /* Port 0xF4 means nothing on real hardware; only write it under QEMU. */
    if (log_has_debugcon())
        outl(QEMU_EXIT_PORT, code);
}

_Noreturn void system_shutdown(void)
{
    kprintf("shutdown: system halted; it is safe to power off\n");
    qemu_exit(QEMU_EXIT_SUCCESS);
    cpu_stop();
}
