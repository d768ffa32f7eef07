/*
 * ACPI tables.  Multiboot 1 passes no RSDP, so we search where the
 * specification says it lives: the first KiB of the EBDA, then the BIOS
 * ROM area 0xE0000-0xFFFFF, on 16-byte boundaries.  Tables that fail
 * their checksum or claim absurd lengths are ignored and reported.
 */
#include "arch/x86_64/acpi.h"
#include "lib/string.h"

struct rsdp {
    char sig[8];
    uint8_t checksum;
    char oem[6];
    uint8_t revision;
    uint32_t rsdt;
    uint32_t length;
    uint64_t xsdt;
    uint8_t ext_checksum, reserved[3];
} __attribute__((packed));

struct sdt_header {
    char sig[4];
    uint32_t length;
    uint8_t revision, checksum;
    char oem[6], oem_table[8];
    uint32_t oem_rev, creator, creator_rev;
} __attribute__((packed));

#define RSDP_V1_LEN 20
#define MAX_TABLE_LEN (1u << 20)

bool acpi_checksum_ok(const void *p, size_t len)
{
    const uint8_t *b = p;
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum += b[i];
    return sum == 0;
}

long acpi_rsdp_scan(const uint8_t *area, size_t len)
{
    for (size_t off = 0; off + RSDP_V1_LEN <= len; off += 16) {
        /* (The first byte alone rules out almost every place: 8192 of them in the BIOS area.) */
        if (area[off] != 'R' || memcmp(area + off, "RSD PTR ", 8) || !acpi_checksum_ok(area + off, RSDP_V1_LEN))
            continue;
        const struct rsdp *r = (const void *)(area + off);
        if (r->revision >= 2) {
            if (off + sizeof *r > len || r->length < sizeof *r || r->length > len - off
                || !acpi_checksum_ok(r, r->length))
                continue;
        }
        return (long)off;
    }
    return -1;
}

enum { MADT_LAPIC = 0, MADT_IOAPIC = 1, MADT_OVERRIDE = 2, MADT_X2APIC = 9 };
#define MADT_PCAT_COMPAT 1u
#define LAPIC_ENABLED 1u
#define LAPIC_ONLINE_CAPABLE 2u

static void add_cpu(struct madt_info *m, uint32_t id, uint32_t flags)
{
    if (!(flags & (LAPIC_ENABLED | LAPIC_ONLINE_CAPABLE)))
        return;
    if (m->ncpus == ACPI_MAX_CPUS) {
        m->cpus_ignored++;
        return;
    }
    m->apic_ids[m->ncpus++] = id;
}

bool acpi_madt_parse(const void *table, size_t len, struct madt_info *m)
{
    const uint8_t *t = table;
    memset(m, 0, sizeof *m);
    if (len < sizeof(struct sdt_header) + 8 || memcmp(t, "APIC", 4))
        return false;
    const struct sdt_header *h = table;
    if (h->length > len || h->length < sizeof *h + 8 || !acpi_checksum_ok(t, h->length))
        return false;
    memcpy(&m->lapic_phys, t + sizeof *h, 4);
    uint32_t flags;
    memcpy(&flags, t + sizeof *h + 4, 4);
    m->has_8259 = flags & MADT_PCAT_COMPAT;

    for (size_t off = sizeof *h + 8; off + 2 <= h->length;) {
        uint8_t type = t[off], elen = t[off + 1];
        if (elen < 2 || off + elen > h->length)
            return false;                       /* malformed entry: stop, report */
        const uint8_t *e = t + off;
        uint32_t u32;
        if (type == MADT_LAPIC && elen >= 8) {
            memcpy(&u32, e + 4, 4);
            add_cpu(m, e[3], u32);
        } else if (type == MADT_X2APIC && elen >= 16) {
            uint32_t id;
            memcpy(&id, e + 4, 4);
            memcpy(&u32, e + 8, 4);
            add_cpu(m, id, u32);
        } else if (type == MADT_IOAPIC && elen >= 12 && m->nioapic == ACPI_MAX_IOAPICS) {
            m->ioapics_ignored++;
        } else if (type == MADT_OVERRIDE && elen >= 10 && m->noverride == ACPI_MAX_OVERRIDES) {
            m->overrides_ignored++;
        } else if (type == MADT_IOAPIC && elen >= 12) {
            m->ioapic[m->nioapic].id = e[2];
            memcpy(&m->ioapic[m->nioapic].phys, e + 4, 4);
            memcpy(&m->ioapic[m->nioapic].gsi_base, e + 8, 4);
            m->nioapic++;
        } else if (type == MADT_OVERRIDE && elen >= 10) {
            m->override[m->noverride].irq = e[3];
            memcpy(&m->override[m->noverride].gsi, e + 4, 4);
            memcpy(&m->override[m->noverride].flags, e + 8, 2);
            m->noverride++;
        }
        off += elen;
    }
    return true;
}

/*
 * The MCFG: after its header and 8 reserved bytes, 16-byte allocations
 * (base, segment, first and last bus).  Only segment 0 is used (a PC has
 * one); its base is where bus 0's space would be even when the first bus
 * is not 0, so bus b's space is at base + (b << 20).
 */
bool acpi_mcfg_parse(const void *table, size_t len, struct mcfg_info *out)
{
    const uint8_t *t = table;
    const struct sdt_header *h = table;
    if (len < sizeof *h + 8 || memcmp(t, "MCFG", 4) || h->length > len || h->length < sizeof *h + 8 ||
        !acpi_checksum_ok(t, h->length))
        return false;
    for (size_t off = sizeof *h + 8; off + 16 <= h->length; off += 16) {
        uint64_t base;
        uint16_t segment;
        memcpy(&base, t + off, 8);
        memcpy(&segment, t + off + 8, 2);
        if (segment != 0 || !base || (base & ((1ull << 20) - 1)) || t[off + 10] > t[off + 11])
            continue;
        out->base = base;
        out->bus_first = t[off + 10];
        out->bus_last = t[off + 11];
        return true;
    }
    return false;
}

/*
 * The HPET table: after its header, the event timer block id (4 bytes),
 * then the base address as a Generic Address Structure (address space,
 * bit width, bit offset, access size, 8-byte address).  Only a block in
 * memory space, page-aligned as the specification requires, is used.
 */
#define HPET_TABLE_LEN 56
bool acpi_hpet_parse(const void *table, size_t len, struct hpet_info *out)
{
    const uint8_t *t = table;
    const struct sdt_header *h = table;
    if (len < HPET_TABLE_LEN || memcmp(t, "HPET", 4) || h->length > len || h->length < HPET_TABLE_LEN ||
        !acpi_checksum_ok(t, h->length))
        return false;
    uint64_t base;
    memcpy(&base, t + sizeof *h + 8, 8);
    if (t[sizeof *h + 4] != 0 || !base || (base & 0xFFF))      /* space 0: system memory */
        return false;
    out->base = base;
    return true;
}

#ifndef PITH_HOST_TEST
#include "arch/x86_64/paging.h"
#include "core/log.h"

struct acpi_info acpi;

static const struct sdt_header *map_table(uint64_t phys)
{
    if (!paging_kernel_readable((uint64_t)phys_to_virt(phys), sizeof(struct sdt_header)))
        return NULL;
    const struct sdt_header *h = phys_to_virt(phys);
    if (h->length < sizeof *h || h->length > MAX_TABLE_LEN
        || !paging_kernel_readable((uint64_t)h, h->length) || !acpi_checksum_ok(h, h->length)) {
        kprintf("acpi: table at %#lx is damaged; ignored\n", phys);
        return NULL;
    }
    return h;
}

static uint64_t find_rsdp(void)
{
    uint16_t ebda_seg = *(const uint16_t *)phys_to_virt(0x40E);
    uint64_t ebda = (uint64_t)ebda_seg << 4;
    if (ebda >= 0x80000 && ebda < 0xA0000) {
        long off = acpi_rsdp_scan(phys_to_virt(ebda), 1024);
        if (off >= 0)
            return ebda + (uint64_t)off;
    }
    long off = acpi_rsdp_scan(phys_to_virt(0xE0000), 0x20000);
    return off >= 0 ? 0xE0000 + (uint64_t)off : 0;
}

void acpi_init(void)
{
    acpi.rsdp_phys = find_rsdp();
    if (!acpi.rsdp_phys) {
        kprintf("acpi: no RSDP found; assuming one CPU and no IOAPIC\n");
        return;
    }
    const struct rsdp *r = phys_to_virt(acpi.rsdp_phys);
    acpi.revision = r->revision;
    memcpy(acpi.oem, r->oem, 6);
    bool x = r->revision >= 2 && r->xsdt;
    const struct sdt_header *root = map_table(x ? r->xsdt : r->rsdt);
    if (!root)
        return;
    size_t entry = x ? 8 : 4;
    size_t n = (root->length - sizeof *root) / entry;
    for (size_t i = 0; i < n; i++) {
        uint64_t phys = 0;
        memcpy(&phys, (const uint8_t *)(root + 1) + i * entry, entry);
        const struct sdt_header *h = map_table(phys);
        if (h && !memcmp(h->sig, "APIC", 4)) {
            acpi.madt_found = acpi_madt_parse(h, h->length, &acpi.madt);
            if (!acpi.madt_found)
                kprintf("acpi: MADT is malformed; ignored\n");
        }
        if (h && !memcmp(h->sig, "MCFG", 4) && !acpi.mcfg_found) {
            acpi.mcfg_found = acpi_mcfg_parse(h, h->length, &acpi.mcfg);
            if (!acpi.mcfg_found)
                kprintf("acpi: MCFG has no usable segment 0 allocation; ignored\n");
        }
        if (h && !memcmp(h->sig, "HPET", 4) && !acpi.hpet_found) {
            acpi.hpet_found = acpi_hpet_parse(h, h->length, &acpi.hpet);
            if (!acpi.hpet_found)
                kprintf("acpi: HPET table has no usable memory-mapped block; ignored\n");
        }
    }
    if (acpi.madt.ioapics_ignored || acpi.madt.overrides_ignored)
        kprintf("acpi: %d IOAPICs and %d interrupt overrides beyond the supported %d and %d are not used\n",
                acpi.madt.ioapics_ignored, acpi.madt.overrides_ignored, ACPI_MAX_IOAPICS, ACPI_MAX_OVERRIDES);
    if (acpi.madt.cpus_ignored)
        kprintf("acpi: %d processors beyond the supported %d are not used\n",
                acpi.madt.cpus_ignored, ACPI_MAX_CPUS);
}
#endif
