/*
 * Entry stubs for all 256 vectors.  Each pushes a zero error code when the
 * CPU does not push one, then its vector number, and jumps to the common
 * path, which saves the general registers as a struct trap_frame and calls
 * trap_dispatch.  Entries from user mode switch GS to the kernel's.
 */
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

isr_common:
        testb   $3, 24(%rsp)                    /* CS of the interrupted context */
        jz      1f
        swapgs
1:      pushq   %rax
        pushq   %rbx
        pushq   %rcx
        pushq   %rdx
        pushq   %rsi
        pushq   %rdi
        pushq   %rbp
        pushq   %r8
        pushq   %r9
        pushq   %r10
        pushq   %r11
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        cld
        mov     %rsp, %rdi
        call    trap_dispatch
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %r11
        popq    %r10
        popq    %r9
        popq    %r8
        popq    %rbp
        popq    %rdi
        popq    %rsi
        popq    %rdx
        popq    %rcx
        popq    %rbx
        popq    %rax
        testb   $3, 24(%rsp)
        jz      2f
        swapgs
2:      add     $16, %rsp                       /* vector and error code */
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
