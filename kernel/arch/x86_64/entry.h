/* Assembly helpers shared by isr.S and syscall.S: the struct trap_frame push order. */
#ifndef PITH_ARCH_ENTRY_H
#define PITH_ARCH_ENTRY_H

#include "arch/x86_64/percpu.h"

/* Offsets into struct trap_frame (arch/x86_64/trap.h). */
#define TF_RAX      (14 * 8)
#define TF_RCX      (12 * 8)
#define TF_RDX      (11 * 8)
#define TF_RSI      (10 * 8)
#define TF_RDI      (9 * 8)
#define TF_R8       (7 * 8)
#define TF_R9       (6 * 8)
#define TF_R10      (5 * 8)
#define TF_R11      (4 * 8)
#define TF_VECTOR   (15 * 8)
#define TF_RIP      (17 * 8)
#define TF_RFLAGS   (19 * 8)
#define TF_RSP      (20 * 8)
#define TF_SIZE     (22 * 8)

/* The TLB shoot-down interrupt (arch/x86_64/tlb.h): isr.S runs it without the lock. */
#define VEC_TLB_SHOOTDOWN 34

/* The flags a user thread may set for itself: CF PF AF ZF SF TF DF OF. */
#define USER_RFLAGS 0xCD5

/* The system calls syscall_entry offers to the IPC fast path (PITH_SYS_CALL, _REPLY_RECV). */
#define SYSCALL_NR_CALL         (-1)
#define SYSCALL_NR_REPLY_RECV   (-6)

/* The vector recorded for a frame saved by the SYSCALL instruction. */
#define VEC_SYSCALL_FRAME 0x100

#ifdef __ASSEMBLER__
/* Kernel data selectors in DS, ES and SS; FS and GS null (their bases come from MSRs). */
.macro LOAD_KERNEL_DATA_SEGMENTS
        mov     $0x10, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        xor     %eax, %eax
        mov     %ax, %fs
        mov     %ax, %gs
.endm

/*
 * The big kernel lock (core/bkl.h) from the entry paths, when more than
 * one CPU runs (bkl_needed): draw a ticket; if it is served at once and
 * no CPU's fast_shared flag is up, that is all; else wait in C (bkl_wait,
 * bkl_wait_fast_paths).  Clobbers rcx and r11, and when it has to wait
 * the caller-saved registers except rax, and with args=1 the system
 * call's arguments (rdi, rsi, rdx, r10, r8, r9), which it reloads from
 * the frame (in rbx on every entry path).
 */
.macro BKL_LOCK args=0
        cmpb    $0, bkl_needed(%rip)
        je      98f
        BKL_TAKE \args
98:
.endm

.macro BKL_TAKE args=0
        mov     $1, %ecx
        lock xaddl %ecx, bkl(%rip)
        cmpl    bkl+4(%rip), %ecx
        jne     90f
        /* Served at once: no CPU may still be in a fast path (r11: SYSCALL's rflags, in the frame). */
        mov     smp_ncpus(%rip), %ecx
        lea     percpus+PERCPU_FAST_SHARED(%rip), %r11
91:     cmpb    $0, (%r11)
        jne     92f
        add     $PERCPU_SIZE, %r11
        dec     %ecx
        jnz     91b
        movb    $1, %gs:PERCPU_HOLDS_BKL
        jmp     93f
90:     mov     %ecx, %edi
        call    bkl_wait                        /* our ticket, then the fast paths; holds_bkl set */
        RELOAD_SYSCALL \args
        jmp     93f
92:     call    bkl_wait_fast_paths             /* holds_bkl set */
        RELOAD_SYSCALL \args
93:
.endm

/* rax, and with args=1 the system call's arguments, again from the frame in rbx. */
.macro RELOAD_SYSCALL args=0
        mov     TF_RAX(%rbx), %rax
.if \args
        mov     TF_RDI(%rbx), %rdi
        mov     TF_RSI(%rbx), %rsi
        mov     TF_RDX(%rbx), %rdx
        mov     TF_R10(%rbx), %r10
        mov     TF_R8(%rbx), %r8
        mov     TF_R9(%rbx), %r9
.endif
.endm

/*
 * Leaving for user mode: serve the next ticket (only the holder writes
 * the owner field), or, after a fast path run beside other CPUs', clear
 * this CPU's flag, which a CPU taking the lock waits for.
 */
.macro BKL_UNLOCK
        cmpb    $0, bkl_needed(%rip)
        je      99f
        cmpb    $0, %gs:PERCPU_HOLDS_BKL
        je      96f
        movb    $0, %gs:PERCPU_HOLDS_BKL
        incl    bkl+4(%rip)
        jmp     99f
96:     movb    $0, %gs:PERCPU_FAST_SHARED
99:
.endm

.macro PUSH_GPRS
        pushq   %rax
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
.endm

.macro POP_GPRS
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
.endm
#endif

#endif
