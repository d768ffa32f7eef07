/* Assembly helpers shared by isr.S and syscall.S: the struct trap_frame push order. */
#ifndef PITH_ARCH_ENTRY_H
#define PITH_ARCH_ENTRY_H

#include "arch/x86_64/percpu.h"

/* Offsets into struct trap_frame (arch/x86_64/trap.h). */
#define TF_RCX      (12 * 8)
#define TF_R11      (4 * 8)
#define TF_VECTOR   (15 * 8)
#define TF_RIP      (17 * 8)
#define TF_RFLAGS   (19 * 8)
#define TF_RSP      (20 * 8)
#define TF_SIZE     (22 * 8)

/* The flags a user thread may set for itself: CF PF AF ZF SF TF DF OF. */
#define USER_RFLAGS 0xCD5

/* The system calls syscall_entry offers to the IPC fast path (PITH_SYS_CALL, _REPLY_RECV). */
#define SYSCALL_NR_CALL         (-1)
#define SYSCALL_NR_REPLY_RECV   (-6)

/* The vector recorded for a frame saved by the SYSCALL instruction. */
#define VEC_SYSCALL_FRAME 0x100

#ifdef __ASSEMBLER__
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
