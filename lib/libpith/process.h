/*
 * What a process started by init's process manager finds (docs/manifest.md):
 * the same boot-information layout init gets from the kernel, at the same
 * addresses, with its own magic, and these capabilities by slot.  Slots
 * 1-9 mean what they mean for init (PITH_SLOT_*, pith/bootinfo.h); the
 * slots below exist only when the manifest grants them.
 */
#ifndef LIBPITH_PROCESS_H
#define LIBPITH_PROCESS_H

#include <stdint.h>

/* A started process's boot information carries this magic, not the kernel's. */
#define PITH_PROCESS_MAGIC      0x5049544850524f43ull   /* "PITHPROC" */

enum pith_process_slot {
    PITH_SLOT_NAMES = 10,       /* the name service, badged with what this process may register */
    PITH_SLOT_PROCS = 11,       /* the process manager: over its descendants (every process with procs) */
    PITH_SLOT_IO_PORTS = 12,    /* an I/O-port range (manifest: ports=) */
    PITH_SLOT_IRQ = 13,         /* an IRQ handler bound to its line (manifest: irq=) */
    PITH_SLOT_UNTYPED = 14,     /* its memory: the half of its quota not used to start it */
    PITH_SLOT_FAULT = 15,       /* its supervisor: every thread's fault endpoint */
    /* The memory manager (docs/memory.md#the-memory-manager-at-boot). */
    PITH_SLOT_MEM = 16,         /* its client capability (manifest: pages=); memd: the manager's endpoint */
    PITH_SLOT_MEMORY = 17,      /* memd: the manager's CNode, holding the system's memory */
    /* The PCI bus server (manifest: pci; docs/pci.md). */
    PITH_SLOT_PCI_IRQ_CONTROL = 18, /* IRQ control: binds handlers to interrupt lines */
    PITH_SLOT_PCI_PORTS = 19,       /* I/O ports 0xCF8-0xFFFF: configuration ports and PCI I/O space */
    PITH_SLOT_PROCESS_FREE = 20,
};

/*
 * With pci: the device memory (pith/bootinfo.h), each block init was given
 * as an untyped of the same place and size in one of these slots, lowest
 * first (UNTYPED_INFO tells where); the rest of the range is empty.
 */
#define PITH_SLOT_DEVICE_FIRST  4032
#define PITH_DEVICE_SLOTS       64

/*
 * A process ends by making this system call (not one of the kernel's), so
 * it reaches its fault handler, the supervisor, as a fault message with
 * the status in rdi: exit is a message, like any other end of a process.
 */
#define PITH_EXIT_SYSCALL       (-4096l)

/* 1 in init (the kernel's boot information), 0 in a started process. */
int pith_is_init(void);

#endif
