/*
 * The PCI server's refusals, as a client that claimed nothing of the disk:
 * the driver's device is busy, and none of its BARs, interrupt or
 * configuration space is ours; a device we claim gives us its own and
 * nothing out of bounds.
 */
#include "blktest.h"
#include "pci.h"
#include "pith.h"
#include "resolver.h"
#include "tls.h"

#include <stdio.h>

void pci_checks(void)
{
    static struct pith_client pc;
    struct pith_client *c = &pc;
    pith_client_init(c, "/dev/pci", &names_resolver, pith_slot_alloc(), pith_tls_self()->ipc_buffer);
    uint32_t disk = 0, bridge = 0, nic = 0, v = 0, loc = 0, class = 0, gsi = 0, first = 0, count = 0;
    uint16_t vendor = 0, device = 0;
    bool claimed = false;
    uint64_t slot = pith_slot_alloc(), s1 = pith_slot_alloc(), s2 = pith_slot_alloc(), phys = 0, size = 0;
    long err = pci_find(c, 0x1af4, 0x1042, 0, &disk);
    if (!err)
        err = pci_device(c, disk, &loc, &vendor, &device, &class, &gsi, &claimed);
    check(!err && claimed && class >> 8 == 0x0100 && gsi == 23, "pci_lists_the_disk_claimed",
          "error %#lx, claimed %d, class %#x, GSI %u", err, claimed, class, gsi);
    long e1 = pci_claim(c, disk), e2 = pci_bar_page(c, disk, 4, 0, slot), e3 = pci_config_read(c, disk, 0, 2, &v);
    long e4 = pci_config_write(c, disk, 4, 2, 0), e5 = pci_irq(c, disk, slot, &gsi);
    long e6 = pci_bar_info(c, disk, 4, &phys, &size, &v), e7 = pci_bar_ports(c, disk, 0, slot, &first, &count);
    check(e1 == PCI_E_BUSY && e2 == PCI_E_NOT_CLAIMED && e3 == PCI_E_NOT_CLAIMED && e4 == PCI_E_NOT_CLAIMED &&
          e5 == PCI_E_NOT_CLAIMED && e6 == PCI_E_NOT_CLAIMED && e7 == PCI_E_NOT_CLAIMED,
          "pci_another_clients_device_refused",
          "claim %#lx, BAR page %#lx, config read %#lx, write %#lx, irq %#lx, BAR info %#lx, ports %#lx", e1, e2, e3,
          e4, e5, e6, e7);
    e1 = pci_device(c, 999, &loc, &vendor, &device, &class, &gsi, &claimed);
    e2 = pci_find(c, 0xdead, 0xbeef, 0, &v);
    e3 = pci_claim(c, 999);
    e4 = pci_config_read(c, 999, 0, 4, &v);
    check(e1 == PCI_E_NOT_FOUND && e2 == PCI_E_NOT_FOUND && e3 == PCI_E_NOT_FOUND && e4 == PCI_E_NOT_FOUND,
          "pci_no_such_device_not_found", "device %#lx, find %#lx, claim %#lx, config %#lx", e1, e2, e3, e4);
    /* Unclaimed, even a device nobody has is not ours: the host bridge (00:00.0, index 0). */
    e1 = pci_config_read(c, bridge, 0, 2, &v);
    e2 = pci_claim(c, bridge);
    uint32_t id = 0;
    e3 = pci_config_read(c, bridge, 0, 2, &id);
    e4 = pci_config_write(c, bridge, 0x10, 4, 0xfe000000);
    e5 = pci_config_write(c, bridge, 0x30, 4, 0);
    long e8 = pci_config_read(c, bridge, 4096, 1, &v), e9 = pci_config_read(c, bridge, 3, 2, &v);
    long e10 = pci_config_read(c, bridge, 0, 3, &v);
    e6 = pci_bar_info(c, bridge, 0, &phys, &size, &v);
    e7 = pci_irq(c, bridge, slot, &gsi);
    check(e1 == PCI_E_NOT_CLAIMED && !e2 && !e3 && id == 0x8086 && e4 == PCI_E_DENIED && e5 == PCI_E_DENIED &&
          e8 == PCI_E_RANGE && e9 == PCI_E_RANGE && e10 == PCI_E_RANGE && e6 == PCI_E_NO_BAR && e7 == PCI_E_NO_IRQ,
          "pci_claimed_device_bounds",
          "unclaimed %#lx, claim %#lx, read %#lx (%#x), BAR write %#lx, ROM write %#lx, offsets %#lx %#lx %#lx, "
          "BAR %#lx, irq %#lx", e1, e2, e3, id, e4, e5, e8, e9, e10, e6, e7);
    /* The network card: its memory BAR page by page, its I/O BAR as ports, nothing past either. */
    err = pci_find(c, 0x8086, 0x10d3, 0, &nic);
    if (!err)
        err = pci_claim(c, nic);
    e1 = pci_bar_info(c, nic, 0, &phys, &size, &v);
    e2 = pci_bar_page(c, nic, 0, 0, slot);
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, slot, 0, 0, 0);
    e3 = pci_bar_page(c, nic, 0, (uint32_t)(size / 4096), slot);
    e4 = pci_bar_page(c, nic, 6, 0, slot);
    e5 = pci_bar_ports(c, nic, 2, slot, &first, &count);
    e6 = pci_bar_ports(c, nic, 0, s1, &first, &count);
    e7 = pci_bar_page(c, nic, 2, 0, s1);
    check(!err && !e1 && !e2 && e3 == PCI_E_RANGE && e4 == PCI_E_NO_BAR && !e5 && count == 0x20 &&
          e6 == PCI_E_NO_BAR && e7 == PCI_E_NO_BAR, "pci_claimed_device_bars",
          "claim %#lx, info %#lx, page %#lx, past %#lx, BAR 6 %#lx, ports %#lx (%u), memory as ports %#lx, "
          "ports as memory %#lx", err, e1, e2, e3, e4, e5, count, e6, e7);
    e1 = pci_irq(c, nic, s2, &gsi);
    check(!e1 && gsi == 22, "pci_claimed_device_irq", "error %#lx, GSI %u", e1, gsi);
}
