/*
 * A fault message from a Linux process's thread: a system call (Linux's
 * number in rax, arguments in rdi, rsi, rdx, r10, r8, r9) is served and
 * answered with its result in rax; any processor exception ends the
 * process with the signal Linux would deliver (handlers run only for
 * signals sent, not for exceptions), and the server carries on.  A signal
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
    if (m->w[0] != PITH_FAULT_SYSCALL) {
        int sig = signal_of(m->w[0]);
        printf("posix: pid %u (%s): %s at %#lx (ip %#lx, error %#lx): signal %d\n", p->pid, p->exe,
               m->w[0] == PITH_FAULT_PAGE ? "page fault" : "exception", m->w[1], m->w[3], m->w[2], sig);
        lproc_end(p, 0, sig);
        return false;
    }
    /* The registers are in our IPC buffer; take them before a call to a server overwrites it. */
    struct pith_fault_regs r = *(const struct pith_fault_regs *)pith_tls_self()->ipc_buffer->msg;
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
