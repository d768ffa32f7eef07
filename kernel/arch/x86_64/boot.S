/*
 * Multiboot 1 entry: a 32-bit stub that checks for long mode, builds
 * temporary page tables, enters 64-bit mode and jumps to the higher half.
 *
 * The kernel is linked at KERNEL_VMA + physical address.  This file runs
 * before paging, so every symbol it touches is converted to its physical
 * address with PHYS().  The multiboot header uses the "a.out kludge"
 * address fields (flag bit 16): QEMU's -kernel refuses 64-bit ELF files,
 * and with these fields both QEMU and GRUB load the flat image as is.
 * docs/decisions/0001-multiboot-flat-image.md explains the choice.
 */
#include "arch/x86_64/layout.h"
#include "arch/x86_64/entry.h"

#define PHYS(x) ((x) - KERNEL_VMA)

#define MB_MAGIC        0x1BADB002
#define MB_FLAGS        ((1 << 0) | (1 << 1) | (1 << 16))  /* align modules, mem info, address fields */
#define MB_CHECKSUM     (-(MB_MAGIC + MB_FLAGS))

#define CR0_PG          (1 << 31)
#define CR0_WP          (1 << 16)
#define CR4_PAE         (1 << 5)
#define MSR_EFER        0xC0000080
#define EFER_LME        (1 << 8)
#define EFER_NXE        (1 << 11)

        .section .multiboot, "a"
        .align 4
multiboot_header:
        .long MB_MAGIC
        .long MB_FLAGS
        .long MB_CHECKSUM
        .long PHYS(multiboot_header)    /* header_addr */
        .long PHYS(__image_start)       /* load_addr */
        .long PHYS(__load_end)          /* load_end_addr */
        .long PHYS(__bss_end)           /* bss_end_addr */
        .long PHYS(_start32)            /* entry_addr */

        .section .boot.text, "ax"
        .code32
        .globl _start32
_start32:
        cli
        cld
        mov     %eax, %edi                      /* multiboot magic */
        mov     %ebx, %esi                      /* multiboot info (physical) */
        mov     $PHYS(boot_stack_top), %esp

        /* Long mode needs CPUID leaf 0x80000001 EDX bit 29. */
        mov     $0x80000000, %eax
        cpuid
        cmp     $0x80000001, %eax
        jb      no_long_mode
        mov     $0x80000001, %eax
        cpuid
        test    $(1 << 29), %edx
        jz      no_long_mode
        mov     %edx, %ebp                      /* keep: bit 20 = NX */

        /*
         * Temporary tables: one page directory of 2 MiB pages maps the
         * first 1 GiB, seen at three places: identity (to survive the
         * switch), the direct map and the kernel's -2 GiB window.
         */
        mov     $PHYS(boot_pd), %ebx
        xor     %ecx, %ecx
1:      mov     %ecx, %eax
        shl     $21, %eax
        or      $0x83, %eax                     /* present, writable, 2 MiB */
        mov     %eax, (%ebx, %ecx, 8)
        movl    $0, 4(%ebx, %ecx, 8)
        inc     %ecx
        cmp     $512, %ecx
        jne     1b

        mov     $(PHYS(boot_pd) + 3), %eax
        mov     %eax, PHYS(boot_pdpt_low)
        mov     %eax, PHYS(boot_pdpt_high) + 510 * 8
        mov     $(PHYS(boot_pdpt_low) + 3), %eax
        mov     %eax, PHYS(boot_pml4)
        mov     %eax, PHYS(boot_pml4) + 256 * 8
        mov     $(PHYS(boot_pdpt_high) + 3), %eax
        mov     %eax, PHYS(boot_pml4) + 511 * 8

        mov     %cr4, %eax
        or      $CR4_PAE, %eax
        mov     %eax, %cr4
        mov     $PHYS(boot_pml4), %eax
        mov     %eax, %cr3

        mov     $MSR_EFER, %ecx
        rdmsr
        or      $EFER_LME, %eax
        test    $(1 << 20), %ebp
        jz      2f
        or      $EFER_NXE, %eax
2:      wrmsr

        mov     %cr0, %eax
        or      $(CR0_PG | CR0_WP), %eax
        mov     %eax, %cr0

        lgdt    PHYS(boot_gdt_ptr)
        ljmp    $0x08, $PHYS(start64_low)

/* Without long mode there is nothing we can do: say so on COM1 and stop. */
no_long_mode:
        mov     $PHYS(no_lm_msg), %ebx
1:      movb    (%ebx), %al
        test    %al, %al
        jz      3f
        mov     $0x3FD, %dx
2:      inb     %dx, %al
        test    $0x20, %al
        jz      2b
        movb    (%ebx), %al
        mov     $0x3F8, %dx
        outb    %al, %dx
        inc     %ebx
        jmp     1b
3:      hlt
        jmp     3b

        .code64
start64_low:
        movabs  $start64_high, %rax
        jmp     *%rax

        .section .boot.data, "aw"
        .align 16
boot_gdt:
        .quad 0
        .quad 0x00209A0000000000                /* 0x08: 64-bit kernel code */
        .quad 0x0000920000000000                /* 0x10: kernel data */
boot_gdt_end:
boot_gdt_ptr:
        .word boot_gdt_end - boot_gdt - 1
        .long PHYS(boot_gdt)
no_lm_msg:
        .asciz "Pith: this CPU has no 64-bit long mode; halting.\r\n"

        .text
        .code64
start64_high:
        movabs  $boot_stack_top, %rsp
        xor     %ebp, %ebp
        LOAD_KERNEL_DATA_SEGMENTS
        /* rdi = magic, rsi = info (physical): the first two C arguments. */
        call    kmain
1:      cli
        hlt
        jmp     1b

        .section .bss.pagetables, "aw", @nobits
        .align 4096
        .globl boot_pml4
boot_pml4:      .skip 4096
boot_pdpt_low:  .skip 4096
boot_pdpt_high: .skip 4096
boot_pd:        .skip 4096

/*
 * The boot stack sits on its own pages; the page below it is left
 * unmapped by the kernel page tables so an overflow faults (and lands on
 * the double-fault IST stack) instead of silently corrupting memory.
 */
        .section .bss.stack, "aw", @nobits
        .align 4096
        .globl boot_stack_guard, boot_stack_bottom, boot_stack_top
boot_stack_guard:
        .skip 4096
boot_stack_bottom:
        .skip KERNEL_STACK_SIZE
boot_stack_top:
