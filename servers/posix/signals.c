/*
 * Signals, as far as this slice goes: dispositions and the mask are
 * recorded (rt_sigaction, rt_sigprocmask) but no handler is ever run; a
 * signal a process sends itself ends it unless it ignores it (docs/posix.md).
 */
#include "personality.h"

#include <errno.h>
#include <signal.h>

SYSCALL(rt_sigaction)
{
    if (a0 < 1 || a0 > 64 || a3 != 8)
        return -EINVAL;
    struct sigact *s = &p->sigact[a0 - 1];
    if (a2 && mem_write(p, a2, s, sizeof *s))
        return -EFAULT;
    if (a1) {
        if (a0 == SIGKILL || a0 == SIGSTOP)
            return -EINVAL;
        if (mem_read(p, s, a1, sizeof *s))
            return -EFAULT;
    }
    return 0;
}

SYSCALL(rt_sigprocmask)
{
    if (a3 != 8)
        return -EINVAL;
    if (a2 && mem_write(p, a2, &p->sigmask, 8))
        return -EFAULT;
    if (a1) {
        uint64_t set;
        if (mem_read(p, &set, a1, 8))
            return -EFAULT;
        if (a0 == SIG_BLOCK)
            p->sigmask |= set;
        else if (a0 == SIG_UNBLOCK)
            p->sigmask &= ~set;
        else if (a0 == SIG_SETMASK)
            p->sigmask = set;
        else
            return -EINVAL;
        p->sigmask &= ~((1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1)));
    }
    return 0;
}

/* A signal to itself: ignored if the program ignores it, else it ends the process (no handlers run yet). */
static long signal_self(struct lproc *p, uint64_t sig)
{
    if (sig == 0)
        return 0;
    if (sig > 64)
        return -EINVAL;
    uint64_t h = p->sigact[sig - 1].handler;
    bool ignored_by_default = sig == SIGCHLD || sig == SIGURG || sig == SIGWINCH || sig == SIGCONT;
    if (h == (uint64_t)SIG_IGN || (h == (uint64_t)SIG_DFL && ignored_by_default))
        return 0;
    lproc_end(p, 0, (int)sig);
    return NO_ANSWER;
}

SYSCALL(kill) { return ((int64_t)a0 == p->pid || a0 == 0) ? signal_self(p, a1) : -ESRCH; }
SYSCALL(tkill) { return a0 == p->pid ? signal_self(p, a1) : -ESRCH; }
SYSCALL(tgkill) { return a0 == p->pid && a1 == p->pid ? signal_self(p, a2) : -ESRCH; }
