/* ACPI tables found by scanning, and the MADT describes this machine. */
#include "ktest.h"
#include "arch/x86_64/acpi.h"
#include "arch/x86_64/apic.h"
#include "core/boot.h"

KTEST(acpi_rsdp_found_by_scan)
{
    KT_ASSERT(acpi.rsdp_phys != 0);
    KT_ASSERT(acpi.rsdp_phys >= 0x80000 && acpi.rsdp_phys < 0x100000);
    KT_EQ(acpi.rsdp_phys & 15, 0);
}

KTEST(acpi_madt_matches_machine)
{
    KT_ASSERT(acpi.madt_found);
    KT_ASSERT(acpi.madt.ncpus >= 1);
    const char *want = cmdline_get("expect_cpus");
    if (want) {
        int n = 0;
        while (*want >= '0' && *want <= '9')
            n = n * 10 + (*want++ - '0');
        KT_EQ(acpi.madt.ncpus, n);
    }
    /* The boot CPU is one of them. */
    int found = 0;
    for (int i = 0; i < acpi.madt.ncpus; i++)
        found |= acpi.madt.apic_ids[i] == apic_id();
    KT_ASSERT(found);
    KT_EQ(acpi.madt.lapic_phys, 0xFEE00000u);
    KT_ASSERT(acpi.madt.nioapic >= 1);
}

/* QEMU routes the PIT (ISA IRQ 0) to IOAPIC input 2 and says so with an override. */
KTEST(acpi_madt_has_timer_override)
{
    int found = 0;
    for (int i = 0; i < acpi.madt.noverride; i++)
        if (acpi.madt.override[i].irq == 0 && acpi.madt.override[i].gsi == 2)
            found = 1;
    KT_ASSERT(found);
}
