/*
 * Enumeration: every function on bus 0 and on the buses behind bridges,
 * with its BARs (sized by writing ones, decoding switched off meanwhile)
 * and the GSI of its INTx pin.  Firmware (SeaBIOS) has placed the BARs
 * already; we leave them where they are.
 */
#include "pcibus.h"
#include "pith.h"

#include <stdio.h>

struct pci_dev pci_devs[PCI_DEVICES_MAX];
int pci_ndevs;
static uint8_t buses_seen[256 / 8];

/*
 * The IOAPIC line of INTx pin (0-3: INTA-INTD) of a device in this slot
 * of bus 0, on QEMU's q35 (hw/isa/lpc_ich9.c): ordinary slots go to PIRQ
 * E-H rotated by slot, (slot + pin) % 4 + 4 (ich9_cc_init); slot 30's
 * pins to PIRQ E-H in order; slots 25-29 and 31 (the chipset's own
 * devices) through the DnnIR registers, whose reset value sends INTA-D to
 * PIRQ A-D.  In APIC mode PIRQ n is GSI 16 + n (ich9_pirq_to_gsi).
 */
uint8_t pci_gsi_for(uint8_t slot, uint8_t pin)
{
    uint8_t pirq;
    if (slot == 30)
        pirq = (uint8_t)(pin + 4);
    else if (slot >= 25)
        pirq = pin;
    else
        pirq = (uint8_t)((slot + pin) % 4 + 4);
    return (uint8_t)(16 + pirq);
}

static void size_bars(struct pci_dev *d)
{
    int nbars = (d->header & 0x7f) == 0 ? 6 : (d->header & 0x7f) == 1 ? 2 : 0;
    uint32_t cmd = config_read(d, 4, 2);
    config_write(d, 4, 2, cmd & ~3u);   /* no decoding while a BAR holds all ones */
    for (int i = 0; i < nbars; i++) {
        uint32_t off = 0x10 + 4 * (uint32_t)i, lo = config_read(d, off, 4);
        config_write(d, off, 4, 0xffffffffu);
        uint32_t szlo = config_read(d, off, 4);
        config_write(d, off, 4, lo);
        struct pci_bar *b = &d->bar[i];
        if (lo & 1) {
            uint32_t mask = szlo & ~3u & 0xffff;
            if (mask) {
                b->io = true;
                b->phys = lo & ~3u;
                b->size = (~mask & 0xffff) + 1;
            }
            continue;
        }
        uint64_t mask = szlo & ~0xfu, phys = lo & ~0xfu;
        b->prefetch = lo & 8;
        if (((lo >> 1) & 3) == 2 && i + 1 < nbars) {
            uint32_t hi = config_read(d, off + 4, 4);
            config_write(d, off + 4, 4, 0xffffffffu);
            uint32_t szhi = config_read(d, off + 4, 4);
            config_write(d, off + 4, 4, hi);
            mask |= (uint64_t)szhi << 32;
            phys |= (uint64_t)hi << 32;
            b->wide = true;
            i++;
        } else if (mask) {
            mask |= 0xffffffff00000000ull;
        }
        if (mask) {
            b->phys = phys;
            b->size = ~mask + 1;
        }
    }
    config_write(d, 4, 2, cmd);
}

/* bus0_slot: the slot on bus 0 through which this bus is reached; rot: the pin swizzle so far. */
static void scan(uint8_t bus, int bus0_slot, int rot)
{
    buses_seen[bus / 8] |= (uint8_t)(1u << (bus % 8));
    for (uint8_t dev = 0; dev < 32; dev++) {
        if (config_read_at(bus, dev, 0, 0, 2) == 0xffff)
            continue;
        int nfn = config_read_at(bus, dev, 0, 0x0e, 1) & 0x80 ? 8 : 1;
        for (uint8_t fn = 0; fn < nfn; fn++) {
            uint16_t vendor = (uint16_t)config_read_at(bus, dev, fn, 0, 2);
            if (vendor == 0xffff)
                continue;
            if (pci_ndevs == PCI_DEVICES_MAX) {
                printf("pci: more than %d functions; %02x:%02x.%x and later not listed\n", PCI_DEVICES_MAX, bus,
                       dev, fn);
                return;
            }
            struct pci_dev *d = &pci_devs[pci_ndevs++];
            *d = (struct pci_dev){ .bus = bus, .dev = dev, .fn = fn, .vendor = vendor, .gsi = PCI_GSI_NONE };
            d->device = (uint16_t)config_read(d, 2, 2);
            d->class = config_read(d, 8, 4) >> 8;
            d->header = (uint8_t)config_read(d, 0x0e, 1);
            d->pin = (uint8_t)config_read(d, 0x3d, 1);
            if (d->pin >= 1 && d->pin <= 4) {
                /* Behind bridges the pin is swizzled by each device number on the way up. */
                int slot = bus0_slot < 0 ? dev : bus0_slot;
                int pin = bus0_slot < 0 ? d->pin - 1 : (d->pin - 1 + dev + rot) % 4;
                d->gsi = pci_gsi_for((uint8_t)slot, (uint8_t)pin);
                if (d->gsi >= pith_bootinfo->irq_lines)
                    d->gsi = PCI_GSI_NONE;
            }
            size_bars(d);
            if ((d->header & 0x7f) == 1) {
                uint8_t sec = (uint8_t)config_read(d, 0x19, 1);
                if (sec && !(buses_seen[sec / 8] & (1u << (sec % 8))))
                    scan(sec, bus0_slot < 0 ? dev : bus0_slot, bus0_slot < 0 ? 0 : (rot + dev) % 4);
            }
        }
    }
}

void pci_enumerate(uint8_t bus_first, uint8_t bus_last)
{
    (void)bus_last;
    scan(bus_first, -1, 0);
}
