/*
 * The PCI bus server (pci.idl, docs/pci.md): enumerates the buses, lists
 * the devices, and hands a driver capabilities for exactly the device it
 * claimed.  Its authority comes from the manifest's pci: device memory
 * (untyped, process.h), IRQ control and the ports 0xCF8-0xFFFF.  Clients
 * are told apart by the badge of their capability to /dev/pci, which the
 * name service mints per process.
 */
#include "idl.h"
#include "pci.h"
#include "pcibus.h"
#include "pith.h"
#include "process.h"
#include "resolver.h"
#include "tls.h"

#include <stdio.h>

struct ctx {
    struct pith_server srv;
    uint64_t badge;             /* of the request being served */
    uint64_t out;               /* our copy of the capability in the last reply (deleted at the next) */
};

static uint64_t out_slot(struct ctx *c)
{
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, c->out, 0, 0, 0);
    return c->out;
}

static long mine(struct ctx *c, uint32_t index, struct pci_dev **d)
{
    if (index >= (uint32_t)pci_ndevs)
        return PCI_E_NOT_FOUND;
    *d = &pci_devs[index];
    return c->badge && (*d)->owner == c->badge ? 0 : PCI_E_NOT_CLAIMED;
}

static long on_device(void *ctx, uint32_t index, uint32_t *location, uint16_t *vendor, uint16_t *device,
                      uint32_t *class, uint32_t *gsi, bool *claimed)
{
    if (index >= (uint32_t)pci_ndevs)
        return PCI_E_NOT_FOUND;
    const struct pci_dev *d = &pci_devs[index];
    *location = (uint32_t)d->bus << 8 | (uint32_t)d->dev << 3 | d->fn;
    *vendor = d->vendor;
    *device = d->device;
    *class = d->class;
    *gsi = d->gsi;
    *claimed = d->owner != 0;
    return 0;
}

static long on_find(void *ctx, uint16_t vendor, uint16_t device, uint32_t nth, uint32_t *index)
{
    for (int i = 0; i < pci_ndevs; i++)
        if (pci_devs[i].vendor == vendor && pci_devs[i].device == device && nth-- == 0) {
            *index = (uint32_t)i;
            return 0;
        }
    return PCI_E_NOT_FOUND;
}

static long on_claim(void *ctx, uint32_t index)
{
    struct ctx *c = ctx;
    if (index >= (uint32_t)pci_ndevs)
        return PCI_E_NOT_FOUND;
    struct pci_dev *d = &pci_devs[index];
    if (!c->badge)
        return PCI_E_DENIED;
    if (d->owner && d->owner != c->badge)
        return PCI_E_BUSY;
    /* A claim again (a restarted driver): the handler made for the last one leaves the line. */
    if (d->handler) {
        pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE, d->handler, 0, 0, 0);
        pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, d->handler, 0, 0, 0);
        pith_slot_free(d->handler);
        d->handler = 0;
    }
    if (!d->owner)
        printf("pci: %02x:%02x.%x (%04x:%04x) claimed by client %lu\n", d->bus, d->dev, d->fn, d->vendor, d->device,
               c->badge);
    d->owner = c->badge;
    return 0;
}

static bool config_ok(uint32_t offset, uint32_t width)
{
    return (width == 1 || width == 2 || width == 4) && offset % width == 0 && offset + width <= 4096;
}

static long on_config_read(void *ctx, uint32_t index, uint32_t offset, uint32_t width, uint32_t *value)
{
    struct pci_dev *d;
    long err = mine(ctx, index, &d);
    if (err)
        return err;
    if (!config_ok(offset, width))
        return PCI_E_RANGE;
    *value = config_read(d, offset, width);
    return 0;
}

static long on_config_write(void *ctx, uint32_t index, uint32_t offset, uint32_t width, uint32_t value)
{
    struct pci_dev *d;
    long err = mine(ctx, index, &d);
    if (err)
        return err;
    if (!config_ok(offset, width))
        return PCI_E_RANGE;
    /* The BARs stay where we checked them: moving one could point a driver's frames at another device. */
    if ((offset < 0x28 && offset + width > 0x10) || (offset < 0x34 && offset + width > 0x30))
        return PCI_E_DENIED;
    config_write(d, offset, width, value);
    return 0;
}

static long bar_of(struct ctx *c, uint32_t index, uint32_t bar, bool io, struct pci_dev **d, struct pci_bar **b)
{
    long err = mine(c, index, d);
    if (err)
        return err;
    if (bar >= 6 || !(*d)->bar[bar].size || (*d)->bar[bar].io != io)
        return PCI_E_NO_BAR;
    *b = &(*d)->bar[bar];
    return 0;
}

static long on_bar_info(void *ctx, uint32_t index, uint32_t bar, uint64_t *phys, uint64_t *size, uint32_t *flags)
{
    struct pci_dev *d;
    struct pci_bar *b;
    long err = bar_of(ctx, index, bar, false, &d, &b);
    if (err)
        return err;
    *phys = b->phys;
    *size = b->size;
    *flags = (b->prefetch ? 1u : 0) | (b->wide ? 2u : 0);
    return 0;
}

static long on_bar_page(void *ctx, uint32_t index, uint32_t bar, uint32_t page, uint64_t *frame)
{
    struct ctx *c = ctx;
    struct pci_dev *d;
    struct pci_bar *b;
    long err = bar_of(c, index, bar, false, &d, &b);
    if (err)
        return err;
    if ((uint64_t)page * 4096 >= b->size)
        return PCI_E_RANGE;
    if (!devmem_covers(b->phys, b->size)) {
        char where[256];
        devmem_describe(where, sizeof where);
        printf("pci: %02x:%02x.%x BAR%u at %#lx (%#lx bytes) lies outside the device memory the kernel gave (%s)\n",
               d->bus, d->dev, d->fn, bar, b->phys, b->size, where);
        return PCI_E_NOT_DEVICE_MEMORY;
    }
    uint64_t f = devmem_frame(b->phys + (uint64_t)page * 4096);
    if (!f)
        return PCI_E_NO_MEMORY;
    uint64_t s = out_slot(c);
    if (pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, s, f, PITH_RIGHT_READ | PITH_RIGHT_WRITE, 0))
        return PCI_E_NO_MEMORY;
    *frame = s;
    return 0;
}

static long on_bar_ports(void *ctx, uint32_t index, uint32_t bar, uint64_t *ports, uint32_t *first, uint32_t *count)
{
    struct ctx *c = ctx;
    struct pci_dev *d;
    struct pci_bar *b;
    long err = bar_of(c, index, bar, true, &d, &b);
    if (err)
        return err;
    if (!b->ports) {
        b->ports = pith_slot_alloc();
        if (pith_invoke4(PITH_SLOT_PCI_PORTS, PITH_IO_PORTS_CARVE, b->phys, b->phys + b->size - 1, PITH_SLOT_CSPACE,
                         b->ports)) {
            pith_slot_free(b->ports);
            b->ports = 0;
            return PCI_E_NO_MEMORY;
        }
    }
    uint64_t s = out_slot(c);
    if (pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, s, b->ports, PITH_RIGHTS_ALL, 0))
        return PCI_E_NO_MEMORY;
    *ports = s;
    *first = (uint32_t)b->phys;
    *count = (uint32_t)b->size;
    return 0;
}

static long on_irq(void *ctx, uint32_t index, uint64_t *handler, uint32_t *gsi)
{
    struct ctx *c = ctx;
    struct pci_dev *d;
    long err = mine(c, index, &d);
    if (err)
        return err;
    if (d->gsi == PCI_GSI_NONE)
        return PCI_E_NO_IRQ;
    if (!d->handler) {
        uint64_t h = pith_object_new(PITH_OBJ_IRQ_HANDLER, 0);
        if (!h)
            return PCI_E_NO_MEMORY;
        err = pith_invoke4(PITH_SLOT_PCI_IRQ_CONTROL, PITH_IRQ_CONTROL_BIND, h, d->gsi,
                           PITH_IRQ_LEVEL | PITH_IRQ_ACTIVE_LOW, 0);
        if (err) {
            printf("pci: cannot bind a handler to GSI %u (error %ld)\n", d->gsi, err);
            pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, h, 0, 0, 0);
            pith_slot_free(h);
            return PCI_E_NO_IRQ;
        }
        d->handler = h;
    }
    uint64_t s = out_slot(c);
    if (pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, s, d->handler, PITH_RIGHTS_ALL, 0))
        return PCI_E_NO_MEMORY;
    *handler = s;
    *gsi = d->gsi;
    return 0;
}

static const struct pci_handlers handlers = {
    .device = on_device, .find = on_find, .claim = on_claim, .config_read = on_config_read,
    .config_write = on_config_write, .bar_info = on_bar_info, .bar_page = on_bar_page,
    .bar_ports = on_bar_ports, .irq = on_irq,
};

static void list(void)
{
    for (int i = 0; i < pci_ndevs; i++) {
        const struct pci_dev *d = &pci_devs[i];
        char line[256];
        int at = snprintf(line, sizeof line, "pci: %02x:%02x.%x %04x:%04x class %06x", d->bus, d->dev, d->fn,
                          d->vendor, d->device, d->class);
        if (d->gsi != PCI_GSI_NONE)
            at += snprintf(line + at, sizeof line - (size_t)at, " INT%c GSI %u", 'A' + d->pin - 1, d->gsi);
        for (int b = 0; b < 6 && at < (int)sizeof line; b++) {
            const struct pci_bar *r = &d->bar[b];
            if (r->size)
                at += snprintf(line + at, sizeof line - (size_t)at, " BAR%d %s %#lx+%#lx%s", b,
                               r->io ? "io" : "mem", r->phys, r->size,
                               r->io || devmem_covers(r->phys, r->size) ? "" : " (outside device memory)");
        }
        printf("%s\n", line);
    }
}

int main(void)
{
    const struct pith_bootinfo *bi = pith_bootinfo;
    int blocks = devmem_init();
    if (!config_init()) {
        printf("pci: no way to configuration space (no ECAM in device memory, no ports 0xCF8-0xCFF)\n");
        return 1;
    }
    uint8_t first = bi->pci_bus_first;
    pci_enumerate(config_how()[0] == 'E' ? first : 0, bi->pci_bus_last);
    char where[256];
    devmem_describe(where, sizeof where);
    printf("pci: %d functions through %s; device memory %d blocks: %s\n", pci_ndevs, config_how(), blocks, where);
    list();
    struct ctx c = { .srv = { .ep = pith_object_new(PITH_OBJ_ENDPOINT, 0), .reply = pith_object_new(PITH_OBJ_REPLY, 0),
                              .cap_slot = 0, .buf = pith_tls_self()->ipc_buffer },
                     .out = pith_slot_alloc() };
    long err = register_name("/dev/pci", c.srv.ep);
    if (err) {
        printf("pci: cannot publish /dev/pci (error %#lx)\n", err);
        return 1;
    }
    /* The generated loop does not show handlers the badge; this one keeps it for them. */
    struct pith_msg m = { 0 };
    err = pith_recv(c.srv.ep, &m, c.srv.reply);
    while (err == PITH_OK) {
        c.badge = m.badge;
        pci_dispatch(&handlers, &c, &c.srv, &m);
        err = pith_reply_recv(c.srv.ep, &m, c.srv.reply);
    }
    printf("pci: stopped serving (error %ld)\n", err);
    return 1;
}
