/*
 * What the kernel tells the first task (init): PITH_BOOTINFO_PAGES pages
 * mapped read-only at PITH_BOOTINFO_ADDR, its address also in rdi at start.  Every capability
 * init starts with is listed here by slot, in init's capability space.
 */
#ifndef PITH_BOOTINFO_H
#define PITH_BOOTINFO_H

#include <stdint.h>

#define PITH_BOOTINFO_MAGIC     0x50495448424f4f54ull   /* "PITHBOOT" */
#define PITH_BOOTINFO_VERSION   5
#define PITH_BOOTINFO_ADDR      0x7f0000000000ull
#define PITH_BOOTINFO_PAGES     2
#define PITH_IPC_BUFFER_ADDR    0x7f0000002000ull       /* init's IPC buffer */
#define PITH_TIME_PAGE_ADDR     0x7f0000003000ull       /* the time page, read-only */
#define PITH_INIT_STACK_TOP     0x7f0000100000ull
#define PITH_INIT_STACK_PAGES   16

/* Fixed slots in init's capability space; slot 0 is always empty. */
enum pith_init_slot {
    PITH_SLOT_NULL = 0,
    PITH_SLOT_CSPACE = 1,       /* init's own CNode */
    PITH_SLOT_VSPACE = 2,       /* init's address space */
    PITH_SLOT_TCB = 3,          /* init's thread */
    PITH_SLOT_LOG = 4,          /* the kernel log */
    PITH_SLOT_IPC_BUFFER = 5,   /* init's IPC buffer frame */
    PITH_SLOT_BOOTINFO = 6,     /* the first boot-info page (the second is in slot 9) */
    PITH_SLOT_IRQ_CONTROL = 7,  /* binds handlers to interrupt lines */
    PITH_SLOT_TIME = 8,         /* the time page's frame: read (and grant) only */
    PITH_SLOT_BOOTINFO_2 = 9,   /* the second boot-info page */
    PITH_SLOT_FIRST_FREE_FIXED = 16,
};

struct pith_bootinfo_range {
    uint64_t first_slot, count;
};

struct pith_bootinfo_untyped {
    uint64_t phys;
    uint8_t size_bits;
    uint8_t is_device;          /* device registers, not RAM: frames only, uncached */
    uint8_t pad[6];
};

#define PITH_BOOTINFO_MAX_UNTYPED 192
#define PITH_BOOTINFO_MAX_MODULES 32

struct pith_bootinfo_module {
    char name[64];
    uint64_t size;                      /* bytes */
    struct pith_bootinfo_range frames;  /* its pages, in order */
};

struct pith_bootinfo {
    uint64_t magic;
    uint32_t version;                   /* PITH_BOOTINFO_VERSION */
    uint16_t abi_major, abi_minor;
    uint64_t cspace_slot_bits;          /* init's CNode has 2^n slots */
    struct pith_bootinfo_range empty;   /* free slots for init to use */
    struct pith_bootinfo_range untyped;         /* RAM first, then device memory */
    struct pith_bootinfo_untyped untyped_list[PITH_BOOTINFO_MAX_UNTYPED];
    struct pith_bootinfo_range image_frames;   /* init's own program pages */
    struct pith_bootinfo_range io_ports;       /* I/O-port ranges: every port but the kernel's debug ones */
    uint64_t irq_lines;                 /* interrupt lines (GSIs) 0..n-1 */
    uint64_t nmodules;
    struct pith_bootinfo_module modules[PITH_BOOTINFO_MAX_MODULES];
    uint64_t tsc_hz;
    uint64_t time_page;                 /* where the time page is mapped (include/pith/time.h) */
    uint64_t cpus;                      /* CPUs online, numbered 0..cpus-1 (PITH_TCB_SET_AFFINITY) */
    char cmdline[256];                  /* the kernel command line */
    /* PCI Express configuration space (ACPI MCFG, segment 0); 0: none, use ports 0xCF8/0xCFC. */
    uint64_t pci_ecam;                  /* physical address of bus 0's space: bus b at + (b << 20) */
    uint8_t pci_bus_first, pci_bus_last;
    uint8_t pad2[6];
};

_Static_assert(sizeof(struct pith_bootinfo) <= PITH_BOOTINFO_PAGES * 4096, "boot info outgrew its pages");

#endif
