/*
 * Entry stubs for all 256 vectors.  Each pushes a zero error code when the
 * CPU does not push one, then its vector number, and jumps to the common
 * path, which saves the general registers as a struct trap_frame and calls
 * trap_dispatch.  Entries from user mode switch GS to the kernel's.
 */
#include "arch/x86_64/entry.h"

        .text
        .code64

.macro STUB hi, lo
        .balign 16
isr_stub_\hi\()_\lo:
.if ((\hi*16+\lo) == 8) || ((\hi*16+\lo) == 10) || ((\hi*16+\lo) == 11) || ((\hi*16+\lo) == 12) || ((\hi*16+\lo) == 13) || ((\hi*16+\lo) == 14) || ((\hi*16+\lo) == 17) || ((\hi*16+\lo) == 21) || ((\hi*16+\lo) == 29) || ((\hi*16+\lo) == 30)
.else
        pushq   $0
.endif
        pushq   $(\hi*16+\lo)
        jmp     isr_common
.endm

/* Vector hi*16+lo; nested loops because the assemblers share no better counter. */
.irp hi, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
.irp lo, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
        STUB \hi, \lo
.endr
.endr

/*
 * From user mode the CPU has pushed its frame at TSS.rsp0, which is the end
 * of the current thread's saved-register area (struct trap_frame in the
 * TCB), so the pushes below complete the thread's frame in place; then we
 * move to this CPU's kernel stack and leave through kernel_exit, which
 * resumes whichever thread should run next.  From kernel mode (an
 * exception in the kernel, or an interrupt while idle) everything stays on
 * the current stack and returns to where it was.
 */
isr_common:
        cmpq    $VEC_TLB_SHOOTDOWN, (%rsp)
        je      isr_tlb
        testb   $3, 24(%rsp)                    /* CS of the interrupted context */
        jz      isr_from_kernel
        swapgs
        PUSH_GPRS
        cld
        mov     %rsp, %rbx
        mov     %gs:PERCPU_KSTACK_TOP, %rsp
        BKL_LOCK
        mov     %rbx, %rdi
        call    trap_dispatch
        jmp     kernel_exit

/* In the kernel: trap_dispatch_kernel takes the lock if this CPU was idle without it. */
isr_from_kernel:
        PUSH_GPRS
        cld
        mov     %rsp, %rdi
        call    trap_dispatch_kernel
        POP_GPRS
        add     $16, %rsp                       /* vector and error code */
        iretq

/*
 * The TLB shoot-down interrupt: flush and go straight back to whatever
 * ran, without the big kernel lock (the CPU that sent it holds the lock
 * and waits for us).  From user mode the registers are saved in the
 * thread's frame and C runs on this CPU's kernel stack.
 */
isr_tlb:
        testb   $3, 24(%rsp)
        jz      2f
        swapgs
        PUSH_GPRS
        mov     %rsp, %rbx
        mov     %gs:PERCPU_KSTACK_TOP, %rsp
        call    tlb_interrupt
        mov     %rbx, %rsp
        POP_GPRS
        add     $16, %rsp
        swapgs
        iretq
2:      PUSH_GPRS
        call    tlb_interrupt
        POP_GPRS
        add     $16, %rsp
        iretq

/* The table idt.c reads: the address of each stub. */
        .section .rodata
        .balign 8
        .globl isr_stub_table
isr_stub_table:
.irp hi, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
.irp lo, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
        .quad isr_stub_\hi\()_\lo
.endr
.endr
