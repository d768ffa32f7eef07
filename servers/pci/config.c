/*
 * Configuration space.  With an ECAM (the kernel read the ACPI MCFG and
 * put its base in the boot information) each function's 4 KiB page is
 * carved from the device memory and mapped (uncached) the first time it
 * is touched; without one, or when the ECAM lies outside the device
 * memory we were given, the legacy ports 0xCF8/0xCFC reach the first 256
 * bytes of each function.
 */
#include "pcibus.h"
#include "pith.h"
#include "process.h"
#include "tls.h"

#include <stdio.h>
#include <string.h>

#define ECAM_VA 0x500000000ull          /* bus b, device d, function f at + (b << 20 | d << 15 | f << 12) */

static uint64_t ecam;                   /* 0: ports */
static uint8_t bus_first, bus_last;
static uint8_t mapped[65536 / 8];       /* which functions' pages are mapped */
static const char *how = "none";

static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

bool config_init(void)
{
    const struct pith_bootinfo *bi = pith_bootinfo;
    bool ports = pith_invoke4(pith_tls_self()->tcb, PITH_TCB_SET_IO_PORTS, 0, PITH_SLOT_PCI_PORTS, 0, 0) == PITH_OK;
    /* Named pci-legacy in the manifest, the server uses the ports even with an ECAM (the fallback's test). */
    bool legacy = !strcmp(bi->cmdline, "pci-legacy");
    if (bi->pci_ecam && !legacy) {
        uint64_t size = (uint64_t)(bi->pci_bus_last + 1) << 20;
        if (devmem_covers(bi->pci_ecam + ((uint64_t)bi->pci_bus_first << 20),
                          size - ((uint64_t)bi->pci_bus_first << 20))) {
            ecam = bi->pci_ecam;
            bus_first = bi->pci_bus_first;
            bus_last = bi->pci_bus_last;
            how = "ECAM";
            return true;
        }
        printf("pci: the ECAM at %#lx lies outside the device memory we were given; using ports 0xCF8/0xCFC\n",
               bi->pci_ecam);
    }
    if (!ports)
        return false;
    how = legacy || !bi->pci_ecam ? "ports 0xCF8/0xCFC" : "ports 0xCF8/0xCFC (ECAM unusable)";
    return true;
}

const char *config_how(void) { return how; }

/* The function's mapped page, or NULL (no ECAM, outside its buses, or no frame). */
static volatile uint8_t *page(uint8_t bus, uint8_t dev, uint8_t fn)
{
    if (!ecam || bus < bus_first || bus > bus_last)
        return NULL;
    uint32_t id = (uint32_t)bus << 8 | (uint32_t)dev << 3 | fn;
    uint64_t off = (uint64_t)id << 12;
    if (!(mapped[id / 8] & (1u << (id % 8)))) {
        uint64_t f = devmem_frame(ecam + off);
        if (!f || pith_map_page(f, ECAM_VA + off, PITH_RIGHT_READ | PITH_RIGHT_WRITE, 0) != PITH_OK)
            return NULL;
        mapped[id / 8] |= (uint8_t)(1u << (id % 8));
    }
    return (volatile uint8_t *)(ECAM_VA + off);
}

uint32_t config_read_at(uint8_t bus, uint8_t dev, uint8_t fn, uint32_t off, uint32_t width)
{
    if (ecam) {
        volatile uint8_t *p = page(bus, dev, fn);
        if (!p)
            return 0xffffffffu >> (32 - 8 * width);
        switch (width) {
        case 1: return p[off];
        case 2: return *(volatile uint16_t *)(p + off);
        default: return *(volatile uint32_t *)(p + off);
        }
    }
    if (off >= 256)
        return 0xffffffffu >> (32 - 8 * width);
    outl(0xcf8, 0x80000000u | (uint32_t)bus << 16 | (uint32_t)dev << 11 | (uint32_t)fn << 8 | (off & 0xfc));
    return (inl(0xcfc) >> (8 * (off & 3))) & (0xffffffffu >> (32 - 8 * width));
}

uint32_t config_read(const struct pci_dev *d, uint32_t off, uint32_t width)
{
    return config_read_at(d->bus, d->dev, d->fn, off, width);
}

void config_write(const struct pci_dev *d, uint32_t off, uint32_t width, uint32_t v)
{
    if (ecam) {
        volatile uint8_t *p = page(d->bus, d->dev, d->fn);
        if (!p)
            return;
        if (width == 1)
            p[off] = (uint8_t)v;
        else if (width == 2)
            *(volatile uint16_t *)(p + off) = (uint16_t)v;
        else
            *(volatile uint32_t *)(p + off) = v;
        return;
    }
    if (off >= 256)
        return;
    /* Ports move whole dwords: a narrower write merges into what is there. */
    uint32_t shift = 8 * (off & 3), mask = (0xffffffffu >> (32 - 8 * width)) << shift;
    uint32_t addr = 0x80000000u | (uint32_t)d->bus << 16 | (uint32_t)d->dev << 11 | (uint32_t)d->fn << 8 | (off & 0xfc);
    outl(0xcf8, addr);
    uint32_t old = width == 4 ? 0 : inl(0xcfc);
    outl(0xcf8, addr);
    outl(0xcfc, (old & ~mask) | ((v << shift) & mask));
}
