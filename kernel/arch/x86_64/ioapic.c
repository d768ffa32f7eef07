/*
 * IOAPIC driver: every line starts masked; a line is routed to vector
 * VEC_IRQ_BASE + GSI on the boot CPU when a handler binds to it.
 * Interrupt source overrides from the MADT translate ISA IRQs (QEMU
 * routes the PIT's IRQ 0 to GSI 2, for instance).
 */
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/acpi.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/paging.h"
#include "core/log.h"

#define IOREGSEL 0x00
#define IOWIN    0x10
#define REG_VER  0x01
#define REDIR(n) (0x10 + 2 * (n))
#define RED_MASKED     (1u << 16)
#define RED_LEVEL      (1u << 15)
#define RED_ACTIVE_LOW (1u << 13)

struct ioapic {
    volatile uint32_t *mmio;
    unsigned gsi_base, count;
};

static struct ioapic chips[ACPI_MAX_IOAPICS];
static unsigned nchips, nlines;
static uint32_t redir_low[IOAPIC_MAX_LINES];

static uint32_t rd(struct ioapic *c, uint32_t reg)
{
    c->mmio[IOREGSEL / 4] = reg;
    return c->mmio[IOWIN / 4];
}

static void wr(struct ioapic *c, uint32_t reg, uint32_t v)
{
    c->mmio[IOREGSEL / 4] = reg;
    c->mmio[IOWIN / 4] = v;
}

static struct ioapic *chip_for(unsigned gsi, unsigned *pin)
{
    for (unsigned i = 0; i < nchips; i++) {
        if (gsi >= chips[i].gsi_base && gsi < chips[i].gsi_base + chips[i].count) {
            *pin = gsi - chips[i].gsi_base;
            return &chips[i];
        }
    }
    return NULL;
}

void ioapic_init(void)
{
    for (int i = 0; i < acpi.madt.nioapic; i++) {
        struct ioapic *c = &chips[nchips];
        c->mmio = paging_map_mmio(acpi.madt.ioapic[i].phys, 0x20);
        c->gsi_base = acpi.madt.ioapic[i].gsi_base;
        c->count = ((rd(c, REG_VER) >> 16) & 0xff) + 1;
        nchips++;
        for (unsigned pin = 0; pin < c->count; pin++) {
            wr(c, REDIR(pin), RED_MASKED);
            wr(c, REDIR(pin) + 1, 0);
            unsigned gsi = c->gsi_base + pin;
            if (gsi < IOAPIC_MAX_LINES && gsi + 1 > nlines)
                nlines = gsi + 1;
        }
    }
    if (!nchips)
        kprintf("ioapic: none in the MADT; no device interrupts\n");
}

unsigned ioapic_lines(void) { return nlines; }

void ioapic_route(unsigned gsi, bool level, bool active_low)
{
    unsigned pin;
    struct ioapic *c = chip_for(gsi, &pin);
    if (!c || gsi >= IOAPIC_MAX_LINES)
        return;
    redir_low[gsi] = (VEC_IRQ_BASE + gsi) | RED_MASKED | (level ? RED_LEVEL : 0) |
                     (active_low ? RED_ACTIVE_LOW : 0);
    wr(c, REDIR(pin) + 1, apic_id() << 24);        /* physical destination: this CPU */
    wr(c, REDIR(pin), redir_low[gsi]);
}

void ioapic_mask(unsigned gsi, bool masked)
{
    unsigned pin;
    struct ioapic *c = chip_for(gsi, &pin);
    if (!c || gsi >= IOAPIC_MAX_LINES)
        return;
    redir_low[gsi] = masked ? redir_low[gsi] | RED_MASKED : redir_low[gsi] & ~RED_MASKED;
    wr(c, REDIR(pin), redir_low[gsi]);
}

unsigned ioapic_isa_to_gsi(unsigned irq, bool *level, bool *active_low)
{
    *level = false;
    *active_low = false;
    for (int i = 0; i < acpi.madt.noverride; i++) {
        if (acpi.madt.override[i].irq != irq)
            continue;
        uint16_t f = acpi.madt.override[i].flags;
        /* MPS INTI flags: polarity bits 0-1 (3 = low), trigger bits 2-3 (3 = level). */
        *active_low = (f & 3) == 3;
        *level = ((f >> 2) & 3) == 3;
        return acpi.madt.override[i].gsi;
    }
    return irq;
}
