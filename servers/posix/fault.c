/*
 * A fault message from a Linux process's thread: a system call (Linux's
 * number in rax, arguments in rdi, rsi, rdx, r10, r8, r9) is served and
 * answered with its result in rax; a processor exception is the signal
 * Linux would deliver: its handler runs (on the alternate stack with
 * SA_ONSTACK: a stack overflow), or the process ends with it.  A signal
 * due when a call returns is delivered then (signals.c).
 */
#include "personality.h"

#include "tls.h"

#include <errno.h>
#include <pith/fault.h>
#include <signal.h>
#include <stdio.h>

static int signal_of(uint64_t kind)
{
    switch (kind) {
    case PITH_FAULT_DIVIDE: case PITH_FAULT_X87: case PITH_FAULT_SIMD: return SIGFPE;
    case PITH_FAULT_DEBUG: case PITH_FAULT_BREAKPOINT: return SIGTRAP;
    case PITH_FAULT_INVALID_OPCODE: return SIGILL;
    case PITH_FAULT_ALIGNMENT: return SIGBUS;
    default: return SIGSEGV;            /* page faults, protection, stack, overflow, bound */
    }
}

/* The siginfo's code and address for an exception, as Linux gives them. */
static int code_of(const struct pith_msg *m, uint64_t *addr)
{
    *addr = m->w[3];                    /* the instruction, for most */
    switch (m->w[0]) {
    case PITH_FAULT_PAGE:
        *addr = m->w[1];
        return m->w[2] & PITH_PF_PRESENT ? 2 : 1;       /* SEGV_ACCERR, SEGV_MAPERR */
    case PITH_FAULT_INVALID_OPCODE: return 2;           /* ILL_ILLOPN */
    case PITH_FAULT_DIVIDE: return 1;                   /* FPE_INTDIV */
    case PITH_FAULT_BREAKPOINT: return 0x80;            /* SI_KERNEL */
    default:
        *addr = 0;
        return 0x80;                    /* SI_KERNEL: a protection fault, and the rest */
    }
}

struct pith_fault_regs cur_regs;

bool fault_serve(struct lproc *p, struct pith_msg *m)
{
    if (p->fork_pending) {
        /* A forked child's first fault (it starts at an unmapped address): it goes on as its parent's copy. */
        p->fork_pending = false;
        resume_regs = p->fork_regs;     /* main.c puts them in the IPC buffer as it answers */
        *m = (struct pith_msg){ .tag = PITH_TAG(PITH_FAULT_RESUME_REGS, 0) };
        return true;
    }
    if (m->w[0] == PITH_FAULT_PAGE && mem_fault(p, m->w[1], m->w[2])) {
        /* The stack grew to it, or a copy-on-write page was copied: the instruction runs again. */
        *m = (struct pith_msg){ .tag = PITH_TAG(PITH_FAULT_RESUME, 0) };
        return true;
    }
    /* The registers are in our IPC buffer; take them before a call to a server overwrites it. */
    struct pith_fault_regs r = *(const struct pith_fault_regs *)pith_tls_self()->ipc_buffer->msg;
    if (m->w[0] != PITH_FAULT_SYSCALL) {
        int sig = signal_of(m->w[0]);
        uint64_t h = p->sigact[sig - 1].handler;
        if (h == (uint64_t)SIG_DFL || h == (uint64_t)SIG_IGN || (p->sigmask & (1ull << (sig - 1))))
            printf("posix: pid %u (%s): %s at %#lx (ip %#lx, error %#lx): signal %d\n", p->pid, p->exe,
                   m->w[0] == PITH_FAULT_PAGE ? "page fault" : "exception", m->w[1], m->w[3], m->w[2], sig);
        uint64_t addr;
        int code = code_of(m, &addr);
        return signal_fault(p, sig, code, addr, &r, m);      /* its handler, or the process ends */
    }
    cur_regs = r;
    p->sys_regs = r;                    /* for an answer kept for later, or a call interrupted */
    p->sys_nr = m->w[1];
    const uint64_t args[6] = { r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9 };
    cur_proc = p;
    /* Another thread of the process waits in a socket call, whose retry has one place: EAGAIN (threads.c). */
    long result = thread_kept_busy(p, m->w[1], r.rdi) ? -EAGAIN : syscall_dispatch(p, m->w[1], args);
    cur_proc = NULL;
    if (result == NO_ANSWER || p->state != LP_RUNNING)
        return false;
    bool full = result == RESUME_FULL;  /* rt_sigreturn: every register from the frame */
    if (full)
        r = resume_regs;
    else
        r.rax = (uint64_t)result;
    /* A signal due now is delivered on the way back: the answer resumes the thread in its handler. */
    return signal_answer(p, &r, full, 0, m);
}
