/* ACPI: find the RSDP, walk the RSDT/XSDT, read the MADT (CPUs, IOAPICs, overrides), the MCFG (PCI ECAM) and the HPET table. */
#ifndef PITH_ARCH_ACPI_H
#define PITH_ARCH_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACPI_MAX_CPUS       64
#define ACPI_MAX_IOAPICS    8
#define ACPI_MAX_OVERRIDES  24

struct madt_info {
    uint32_t lapic_phys;
    int ncpus;                          /* enabled or online-capable processors */
    uint32_t apic_ids[ACPI_MAX_CPUS];
    int cpus_ignored;                   /* more than ACPI_MAX_CPUS: counted, not lost silently */
    int ioapics_ignored, overrides_ignored;     /* beyond the tables' size: counted */
    int nioapic;
    struct { uint8_t id; uint32_t phys, gsi_base; } ioapic[ACPI_MAX_IOAPICS];
    int noverride;
    struct { uint8_t irq; uint32_t gsi; uint16_t flags; } override[ACPI_MAX_OVERRIDES];
    bool has_8259;
};

/* PCI Express configuration space (ECAM) of segment 0, from the MCFG. */
struct mcfg_info {
    uint64_t base;                      /* physical address of bus 0's space */
    uint8_t bus_first, bus_last;
};

/* The HPET's register block, from the HPET table (time.c calibrates against it). */
struct hpet_info {
    uint64_t base;                      /* physical address of the 1 KiB register block */
};

struct acpi_info {
    uint64_t rsdp_phys;                 /* 0: no ACPI */
    int revision;
    char oem[7];
    bool madt_found;
    struct madt_info madt;
    bool mcfg_found;
    struct mcfg_info mcfg;
    bool hpet_found;
    struct hpet_info hpet;
};

extern struct acpi_info acpi;

/* Pure helpers (host-tested). */
bool acpi_checksum_ok(const void *p, size_t len);
long acpi_rsdp_scan(const uint8_t *area, size_t len);     /* offset of a valid RSDP, or -1 */
bool acpi_madt_parse(const void *table, size_t len, struct madt_info *out);
bool acpi_mcfg_parse(const void *table, size_t len, struct mcfg_info *out);
bool acpi_hpet_parse(const void *table, size_t len, struct hpet_info *out);

/* Finds and reads the tables; logs what is missing instead of failing. */
void acpi_init(void);

#endif
