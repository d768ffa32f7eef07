/*
 * Entry stubs for all 256 vectors.  Each pushes a zero error code when the
 * CPU does not push one, then its vector number, and jumps to the common
 * path, which saves the general registers as a struct trap_frame and calls
 * trap_dispatch.  Entries from user mode switch GS to the kernel's.
 */
        .text
        .code64

.macro STUB vec
        .balign 16
isr_stub_\vec:
.if (\vec == 8) || (\vec == 10) || (\vec == 11) || (\vec == 12) || (\vec == 13) || (\vec == 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
.else
        pushq   $0
.endif
        pushq   $\vec
        jmp     isr_common
.endm

.altmacro
.macro STUB_N n
        STUB %n
.endm
.set i, 0
.rept 256
        STUB_N %i
        .set i, i + 1
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
.macro ADDR_N n
        .quad isr_stub_\n
.endm
.set i, 0
.rept 256
        ADDR_N %i
        .set i, i + 1
.endr
