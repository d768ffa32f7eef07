/*
 * kmain: the boot sequence, in order.  docs/boot.md tells the story;
 * each step below depends on the ones before it.
 */
#include <pith/abi.h>
#include "arch/x86_64/acpi.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/qemu.h"
#include "arch/x86_64/time.h"
#include "arch/x86_64/trap.h"
#include "core/boot.h"
#include "core/log.h"
#include "core/panic.h"
#include "core/rootserver.h"
#include "core/sched.h"
#include "core/selftest.h"
#include "core/syscall.h"
#include "arch/x86_64/fpu.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/gdt.h"
#include "core/bkl.h"
#include "arch/x86_64/vm.h"
#include "arch/x86_64/ioapic.h"
#include "object/irq.h"
#include "object/ipc.h"
#include "bench.h"
#include "lib/string.h"

static void banner(uint64_t tsc_at_entry, uint64_t tsc_at_banner)
{
    uint64_t ms = tsc_to_ns(tsc_at_banner) / 1000000;
    int cpus = acpi.madt_found ? acpi.madt.ncpus : 1;

    kprintf("\nPith %d.%d  x86-64 microkernel\n", PITH_ABI_VERSION_MAJOR, PITH_ABI_VERSION_MINOR);
    kprintf("  cpu:     %s (%s), %d in ACPI MADT, 1 running\n",
            cpu.brand[0] ? cpu.brand : "unknown", cpu.vendor, cpus);
    kprintf("  memory:  %lu MiB usable, %lu MiB free for user level\n",
            boot.ram_bytes >> 20, physmem_free_bytes(&boot.mem) >> 20);
    kprintf("  tsc:     %lu.%03lu MHz (%s", tsc_hz() / 1000000, (tsc_hz() / 1000) % 1000, tsc_source());
    if (tsc_uncertainty_ppm())
        kprintf(", within %u ppm", tsc_uncertainty_ppm());
    kprintf(")%s\n", cpu.invariant_tsc ? ", invariant" : "");
    kprintf("  timer:   local APIC %s, %s, %lu kHz count-down\n",
            apic_is_x2() ? "x2APIC" : "xAPIC",
            apic_timer_uses_deadline() ? "TSC-deadline" : "one-shot", apic_timer_hz() / 1000);
    kprintf("  cpu:     NX %s, SMEP %s, SMAP %s\n", cpu.nx ? "on" : "absent",
            cpu.smep ? "on" : "absent", cpu.smap ? "on" : "absent");
    kprintf("  acpi:    %s\n", acpi.rsdp_phys ? "RSDP found by scanning the BIOS areas" : "none");
    kprintf("  loader:  %s; modules: %d\n", boot.loader, boot.nmod);
    for (int i = 0; i < boot.nmod; i++)
        kprintf("    %-24s %8lu bytes at %#lx\n", boot.mod[i].name,
                boot.mod[i].end - boot.mod[i].start, boot.mod[i].start);
    if (cmdline_is("clock", "icount"))
        kprintf("  boot:    reset to banner %lu ms, %lu instructions (icount), %lu of them before kmain\n", ms,
                tsc_at_banner, tsc_at_entry);
    else
        kprintf("  boot:    reset to banner %lu ms (%lu TSC ticks, %lu before kmain)\n", ms, tsc_at_banner,
                tsc_at_entry);
}

static void timer_interrupt(struct trap_frame *f)
{
    (void)f;
    sched_timer_tick();
}

/* Another CPU changed our queues: the way out (kernel_exit) looks at them again. */
static void reschedule_interrupt(struct trap_frame *f)
{
    (void)f;
}

void kmain(uint32_t magic, uint64_t info_phys)
{
    uint64_t tsc_at_entry = rdtsc();    /* the firmware's and loader's share of the boot */
    log_init();
    cpu_detect();
    gdt_init(0);
    percpu_init_boot_cpu();
    idt_init();
    multiboot_parse(magic, info_phys);
    log_stamp_lines(cmdline_has("logtime"));
    paging_init();
    acpi_init();
    pic_disable();
    apic_init();
    time_init();
    irq_enable();

    uint64_t tsc_at_banner = rdtsc();
    banner(tsc_at_entry, tsc_at_banner);

    selftest_run_from_cmdline();
    /* Kernel figures first; the user-level ones come from the first module, started as init. */
    if (cmdline_has("bench")) {
        bench_run_all(tsc_at_banner);
        if (boot.nmod == 0)
            system_shutdown();
    }

    /* User level: the first boot module becomes init. */
    fastpath_enabled = !cmdline_has("nofastpath");
    if (!fastpath_enabled)
        kprintf("ipc: fast path off (nofastpath)\n");
    fpu_init();
    syscall_init();
    irq_register(VEC_RESCHEDULE, reschedule_interrupt);
    smp_start_aps();
    vm_init();
    irq_register(VEC_APIC_TIMER, timer_interrupt);
    ioapic_init();
    irq_init();
    if (boot.nmod == 0) {
        kprintf("\nNo boot modules, so no init: the kernel idles.  Quit QEMU with Ctrl-A x.\n");
        for (;;)
            cpu_halt();
    }
    rootserver_create();
    irq_disable();
    kernel_exit();
}
