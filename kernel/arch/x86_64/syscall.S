/*
 * SYSCALL entry and the single way back to user mode.
 *
 * SYSCALL leaves the user rsp in place and does not switch stacks, so we
 * build the thread's struct trap_frame by hand at the end of its saved
 * register area (PERCPU_CTX_TOP), exactly as an interrupt would have, then
 * run C on this CPU's kernel stack.  No kernel state survives a return to
 * user mode: every entry starts at the top of the kernel stack.
 */
#include "arch/x86_64/entry.h"
#include "arch/x86_64/gdt.h"

/*
 * Enter the fast path beside other CPUs: raise this CPU's flag, then back
 * off to `busy` if the lock is held or waited for (next != owner).
 */
.macro FAST_SHARED_ENTER busy
        movb    $1, %gs:PERCPU_FAST_SHARED
        mfence
        mov     bkl(%rip), %ecx
        cmp     bkl+4(%rip), %ecx
        jne     \busy
.endm

        .text
        .code64

        .globl syscall_entry
syscall_entry:
        swapgs
        mov     %rsp, %gs:PERCPU_USER_RSP
        mov     %gs:PERCPU_CTX_TOP, %rsp
        pushq   $(SEL_UDATA | 3)                /* ss */
        pushq   %gs:PERCPU_USER_RSP             /* rsp */
        pushq   %r11                            /* rflags, saved by SYSCALL */
        pushq   $(SEL_UCODE | 3)                /* cs */
        pushq   %rcx                            /* rip, saved by SYSCALL */
        pushq   $0                              /* error code */
        pushq   $VEC_SYSCALL_FRAME
        PUSH_GPRS
        mov     %rsp, %rbx                      /* the frame (user rbx is saved in it) */
        mov     %gs:PERCPU_KSTACK_TOP, %rsp
        cmpb    $0, bkl_needed(%rip)
        jne     syscall_entry_smp
        /*
         * The IPC fast path (object/ipc_fast.c): it hands the CPU to the
         * partner itself and resumes the partner's frame, saved by
         * SYSCALL, with SYSRET at once (jumping to sysret_frame); or it
         * returns, and the full dispatch runs.  Its arguments are the
         * system call's, still in their registers (the C convention's
         * fourth in rcx, where SYSCALL's is r10), so it reads none of them
         * back from the frame.  It may use rbx (its file is built with the
         * callee-saved registers as scratch), so the frame is found again
         * from this CPU's saved register area.  With several CPUs we come
         * here holding the big kernel lock (below).
         */
syscall_entry_locked:
        cmp     $SYSCALL_NR_CALL, %rax
        je      2f
        cmp     $SYSCALL_NR_REPLY_RECV, %rax
        jne     3f
        mov     %r10, %rcx
        call    ipc_fastpath_reply_recv
        jmp     4f
2:      mov     %r10, %rcx
        call    ipc_fastpath_call
4:      mov     %gs:PERCPU_CTX_TOP, %rbx
        sub     $TF_SIZE, %rbx
syscall_entry_dispatch:
3:      mov     %rbx, %rdi
        call    syscall_dispatch
        /* fall through */

/*
 * kernel_exit: pick the thread to run (kernel_exit_prepare switches the
 * address space, TSS.rsp0, FS/GS bases and FPU state) and resume it.  A
 * frame saved by SYSCALL returns with SYSRET, which restores rip from rcx
 * and rflags from r11; any other frame (an interrupt, a fault, registers
 * set by another thread) with IRET, which restores everything.
 * kernel_exit_prepare only allows SYSRET for a canonical user rip.
 */
        .globl kernel_exit
kernel_exit:
        mov     %gs:PERCPU_KSTACK_TOP, %rsp
        call    kernel_exit_prepare             /* returns the frame to resume in rax */
        cmpq    $VEC_SYSCALL_FRAME, TF_VECTOR(%rax)
        jne     1f
/*
 * Resume a frame SYSCALL saved (rax points at it).  Its rip came from rcx
 * and lies below USER_TOP, so SYSRET cannot fault in the kernel; the user
 * flags are filtered here as trap_frame_sanitise would, interrupts on.
 * The big kernel lock goes just before: from here on only this thread's
 * own saved registers are read, and no other CPU frees a running thread.
 */
        .globl sysret_frame
sysret_frame:
        mov     %rax, %rsp
        BKL_UNLOCK
        /* Loads, not pops: rcx and r11 are skipped, SYSRET takes rip and rflags in them. */
        mov     0*8(%rsp), %r15
        mov     1*8(%rsp), %r14
        mov     2*8(%rsp), %r13
        mov     3*8(%rsp), %r12
        mov     5*8(%rsp), %r10
        mov     6*8(%rsp), %r9
        mov     7*8(%rsp), %r8
        mov     8*8(%rsp), %rbp
        mov     9*8(%rsp), %rdi
        mov     10*8(%rsp), %rsi
        mov     11*8(%rsp), %rdx
        mov     13*8(%rsp), %rbx
        mov     TF_RAX(%rsp), %rax
        mov     TF_RIP(%rsp), %rcx
        mov     TF_RFLAGS(%rsp), %r11
        and     $USER_RFLAGS, %r11
        or      $0x202, %r11                    /* IF, and bit 1 (always set) */
        mov     TF_RSP(%rsp), %rsp              /* user rsp */
        swapgs
        sysretq
1:      mov     %rax, %rsp
        BKL_UNLOCK
        POP_GPRS
        add     $16, %rsp
        swapgs
        iretq

/*
 * Several CPUs (core/bkl.h, decision 0030): a call or reply-and-receive
 * first tries the fast path beside the other CPUs, without the lock.  It
 * raises this CPU's flag, then looks at the lock: if anyone holds it or
 * waits for it, the flag comes down, and it waits for the lock to be free
 * (bkl_wait_free) and tries again.  It does not queue for the lock: two
 * CPUs that did would go on taking turns through it, each finding it busy
 * with the other, long after the one slow call that began it.  After
 * FAST_TRIES such waits it does queue, so it cannot be starved.  The
 * fence orders the flag's store before the lock's loads, as the ticket's
 * atomic add orders a taker's.  If the fast path's conditions fail, the
 * flag comes down and the full dispatch runs under the lock.
 */
#define FAST_TRIES 4
syscall_entry_smp:
        cmp     $SYSCALL_NR_CALL, %rax
        je      5f
        cmp     $SYSCALL_NR_REPLY_RECV, %rax
        jne     8f
5:      mov     $FAST_TRIES, %r13d              /* (user r13 is in the frame) */
6:      FAST_SHARED_ENTER 7f
        mov     %r10, %rcx
        cmp     $SYSCALL_NR_CALL, %rax
        je      2f
        call    ipc_fastpath_reply_recv_shared
        jmp     9f
2:      call    ipc_fastpath_call_shared
        /* Its conditions do not hold: the full dispatch, under the lock. */
9:      movb    $0, %gs:PERCPU_FAST_SHARED
        mov     %gs:PERCPU_CTX_TOP, %rbx
        sub     $TF_SIZE, %rbx
        BKL_TAKE
        jmp     syscall_entry_dispatch
        /* The lock is busy: wait until it is free and try again, or queue for it. */
7:      movb    $0, %gs:PERCPU_FAST_SHARED
        dec     %r13d
        jz      8f
        call    bkl_wait_free
        RELOAD_SYSCALL args=1
        jmp     6b
8:      BKL_TAKE args=1
        jmp     syscall_entry_locked
