/*
 * The first instructions of every other CPU.  smp.c copies this code to
 * SMP_TRAMPOLINE (below 1 MiB) and points each CPU's Startup IPI at it;
 * the CPU starts there in 16-bit real mode and climbs to 64-bit mode on
 * boot.S's page tables, which map the low 1 GiB at 0 (where this code
 * runs) and the kernel's window, then jumps to ap_entry64 in the kernel
 * proper on the stack smp.c left in smp_ap_stack.
 */
#include "arch/x86_64/layout.h"
#include "arch/x86_64/entry.h"
#include "arch/x86_64/smp.h"

#define PHYS(x)         ((x) - KERNEL_VMA)
#define HERE(x)         (SMP_TRAMPOLINE + (x) - smp_trampoline)    /* address once copied */
#define CR0_PE          (1 << 0)
#define CR0_WP          (1 << 16)
#define CR0_PG          (1 << 31)
#define CR4_PAE         (1 << 5)
#define MSR_EFER        0xC0000080
#define EFER_LME        (1 << 8)
#define EFER_NXE        (1 << 11)

        .section .rodata
        .globl smp_trampoline, smp_trampoline_end
        .code16
smp_trampoline:
        cli
        cld
        xor     %ax, %ax
        mov     %ax, %ds
        lgdtl   HERE(tramp_gdt_ptr)
        mov     %cr0, %eax
        or      $CR0_PE, %eax
        mov     %eax, %cr0
        ljmpl   $0x08, $HERE(tramp32)

        .code32
tramp32:
        mov     $0x10, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     %cr4, %eax
        or      $CR4_PAE, %eax
        mov     %eax, %cr4
        mov     $PHYS(boot_pml4), %eax
        mov     %eax, %cr3
        mov     $MSR_EFER, %ecx
        rdmsr
        or      $(EFER_LME | EFER_NXE), %eax    /* the boot CPU checked both exist */
        wrmsr
        mov     %cr0, %eax
        or      $(CR0_PG | CR0_WP), %eax
        mov     %eax, %cr0
        ljmp    $0x18, $HERE(tramp64)

        .code64
tramp64:
        movabs  $ap_entry64, %rax
        jmp     *%rax

        .balign 8
tramp_gdt:
        .quad 0
        .quad 0x00CF9A000000FFFF                /* 0x08: 32-bit code, flat */
        .quad 0x00CF92000000FFFF                /* 0x10: data, flat */
        .quad 0x00209A0000000000                /* 0x18: 64-bit code */
tramp_gdt_end:
tramp_gdt_ptr:
        .word   tramp_gdt_end - tramp_gdt - 1
        .long   HERE(tramp_gdt)
smp_trampoline_end:

/* In the kernel proper: the stack the boot CPU chose, then C. */
        .text
        .globl ap_entry64
ap_entry64:
        mov     smp_ap_stack(%rip), %rsp
        xor     %ebp, %ebp
        LOAD_KERNEL_DATA_SEGMENTS
        call    ap_main
1:      cli
        hlt
        jmp     1b
