/*
 * The PCI bus server's parts (docs/pci.md): configuration space access
 * (config.c: ECAM from the ACPI MCFG, or ports 0xCF8/0xCFC), device
 * memory carved into frames (devmem.c), the devices found (enum.c), and
 * the protocol (main.c).  One thread does everything, so nothing here
 * takes a lock.
 */
#ifndef PCI_PCIBUS_H
#define PCI_PCIBUS_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_DEVICES_MAX 64
#define PCI_GSI_NONE 255

struct pci_bar {
    uint64_t phys, size;        /* size 0: no BAR */
    bool io, prefetch, wide;    /* wide: 64-bit (the next BAR register holds the high half) */
    uint64_t ports;             /* our slot of its I/O-port range once asked for (0: none) */
};

struct pci_dev {
    uint8_t bus, dev, fn, header;
    uint16_t vendor, device;
    uint32_t class;             /* class << 16 | subclass << 8 | prog-if */
    uint8_t pin;                /* 1-4: INTA-INTD; 0: none */
    uint8_t gsi;                /* PCI_GSI_NONE: none or unknown */
    struct pci_bar bar[6];
    uint64_t owner;             /* the claiming client's badge; 0: nobody */
    uint64_t handler;           /* our slot of the IRQ handler made for the claim (0: none) */
};

extern struct pci_dev pci_devs[PCI_DEVICES_MAX];
extern int pci_ndevs;

/* config.c */
bool config_init(void);         /* ECAM if the kernel found one we can map, else ports; false: neither */
const char *config_how(void);
uint32_t config_read(const struct pci_dev *d, uint32_t off, uint32_t width);
void config_write(const struct pci_dev *d, uint32_t off, uint32_t width, uint32_t v);
uint32_t config_read_at(uint8_t bus, uint8_t dev, uint8_t fn, uint32_t off, uint32_t width);

/* devmem.c: the device memory init gave us (process.h's PITH_SLOT_DEVICE_FIRST...) */
int devmem_init(void);          /* blocks found */
bool devmem_covers(uint64_t phys, uint64_t size);
uint64_t devmem_frame(uint64_t phys);  /* our slot of the frame at phys (made once); 0: outside or no room */
void devmem_describe(char *buf, int len);

/* enum.c */
void pci_enumerate(uint8_t bus_first, uint8_t bus_last);
uint8_t pci_gsi_for(uint8_t slot, uint8_t pin);

#endif
