/*
 * The kernel's virtual memory layout.  Included from assembly too, so
 * only plain #defines here.  docs/memory-layout.md draws the picture.
 */
#ifndef PITH_ARCH_LAYOUT_H
#define PITH_ARCH_LAYOUT_H

#ifdef __ASSEMBLER__
#define _UL(x) x
#else
#define _UL(x) x##UL
#endif

/* The kernel image: linked in the top 2 GiB, loaded at 1 MiB physical. */
#define KERNEL_VMA          _UL(0xffffffff80000000)
#define KERNEL_LOAD_PHYS    _UL(0x100000)

/* All physical memory, mapped read-write, never executable. */
#define DIRECT_MAP_BASE     _UL(0xffff800000000000)
#define DIRECT_MAP_SIZE     _UL(0x0000100000000000)   /* 16 TiB */

/* Uncached device mappings made by the kernel (local APIC, IOAPIC). */
#define MMIO_BASE           _UL(0xffffffffc0000000)
#define MMIO_SIZE           _UL(0x0000000020000000)   /* 512 MiB */

/* User space is the lower half; the top page below it stays unmapped. */
#define USER_TOP            _UL(0x00007ffffffff000)
/* Where canonical lower-half addresses end: user rip and rsp must stay below. */
#define USER_CANONICAL_END  _UL(0x0000800000000000)

#define PAGE_SIZE           _UL(4096)
#define KERNEL_STACK_SIZE   (4 * 4096)
#define IST_STACK_SIZE      (2 * 4096)

#endif
