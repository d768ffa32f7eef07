/*
 * System calls about the process itself: exit, identity, uname, limits,
 * the thread's FS and GS bases, signals (recorded, not delivered yet),
 * time, sleeping, randomness.
 */
#include "personality.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>

SYSCALL(exit_group)
{
    lproc_end(p, (int)(a0 & 0xff), 0);
    return NO_ANSWER;
}
SYSCALL(exit) { return sys_exit_group(p, a0, 0, 0, 0, 0, 0); }   /* one thread: the process ends */

SYSCALL(getpid) { return p->pid; }
SYSCALL(gettid) { return p->pid; }
SYSCALL(getppid) { return p->ppid; }
SYSCALL(getuid) { return 0; }           /* also geteuid, getgid, getegid: everyone is root */
SYSCALL(getpgrp) { return p->pid; }     /* also getpgid, getsid: each process leads its own */
SYSCALL(umask) { return 022; }

SYSCALL(uname)
{
    struct utsname u;
    memset(&u, 0, sizeof u);
    strcpy(u.sysname, "Linux");         /* what programs test for; the release is new enough for glibc */
    strcpy(u.nodename, "pith");
    strcpy(u.release, "6.1.0-pith");
    strcpy(u.version, "#1 Pith POSIX personality");
    strcpy(u.machine, "x86_64");
    strcpy(u.__domainname, "(none)");
    return mem_write(p, a0, &u, sizeof u);
}

static void limit_of(struct lproc *p, uint64_t resource, struct rlimit *r)
{
    r->rlim_cur = r->rlim_max = RLIM_INFINITY;
    if (resource == RLIMIT_STACK)
        r->rlim_cur = r->rlim_max = STACK_PAGES * PAGE;
    else if (resource == RLIMIT_NOFILE)
        r->rlim_cur = r->rlim_max = FD_MAX;
    else if (resource == RLIMIT_NPROC)
        r->rlim_cur = r->rlim_max = LPROC_MAX;
}

SYSCALL(prlimit64)
{
    if (a0 && a0 != p->pid)
        return -ESRCH;
    if (a1 >= RLIM_NLIMITS)
        return -EINVAL;
    struct rlimit r;
    limit_of(p, a1, &r);
    if (a3 && mem_write(p, a3, &r, sizeof r))
        return -EFAULT;
    return 0;                           /* a new limit is accepted and not enforced */
}
SYSCALL(getrlimit) { return sys_prlimit64(p, 0, a0, 0, a1, 0, 0); }
SYSCALL(setrlimit) { return a0 >= RLIM_NLIMITS ? -EINVAL : 0; }

#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define ARCH_GET_GS 0x1004

SYSCALL(arch_prctl)
{
    switch (a0) {
    case ARCH_SET_FS:
    case ARCH_SET_GS: {
        uint64_t fs_base = a0 == ARCH_SET_FS ? a1 : p->fs_base, gs_base = a0 == ARCH_SET_GS ? a1 : p->gs_base;
        if (pith_invoke4(p->tcb, PITH_TCB_SET_TLS, fs_base, gs_base, 0, 0))
            return -EPERM;              /* not a lower-half address */
        p->fs_base = fs_base, p->gs_base = gs_base;
        return 0;
    }
    case ARCH_GET_FS:
        return mem_write(p, a1, &p->fs_base, 8);
    case ARCH_GET_GS:
        return mem_write(p, a1, &p->gs_base, 8);
    default:
        return -EINVAL;
    }
}

SYSCALL(set_tid_address)
{
    p->clear_tid = a0;
    return p->pid;
}
SYSCALL(set_robust_list) { return a1 == 24 ? 0 : -EINVAL; }    /* accepted: one thread, nothing to clean */
SYSCALL(rseq) { return -ENOSYS; }       /* glibc carries on without it */

/* ---- signals: recorded, not delivered (docs/posix.md) ---- */

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

/* ---- time ---- */

static long clock_ns(struct lproc *p, uint64_t clock, uint64_t *ns)
{
    switch (clock) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
        *ns = clock_realtime_ns();
        return 0;
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME:
        *ns = pith_clock_ns(time_page);
        return 0;
    case CLOCK_PROCESS_CPUTIME_ID:
    case CLOCK_THREAD_CPUTIME_ID: {
        struct pith_msg m = { 0 };
        if (pith_invoke(p->tcb, PITH_TCB_INFO, &m))
            return -EINVAL;
        *ns = m.w[0] / time_page->tsc_hz * 1000000000u + m.w[0] % time_page->tsc_hz * 1000000000u / time_page->tsc_hz;
        return 0;
    }
    default:
        return -EINVAL;
    }
}

SYSCALL(clock_gettime)
{
    uint64_t ns;
    long err = clock_ns(p, a0, &ns);
    if (err)
        return err;
    struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u) };
    return mem_write(p, a1, &ts, sizeof ts);
}

SYSCALL(clock_getres)
{
    uint64_t ns;
    long err = clock_ns(p, a0, &ns);
    struct timespec ts = { 0, 1 };
    return err ? err : a1 ? mem_write(p, a1, &ts, sizeof ts) : 0;
}

SYSCALL(gettimeofday)
{
    uint64_t ns = clock_realtime_ns();
    struct { int64_t sec, usec; } tv = { (int64_t)(ns / 1000000000u), (int64_t)(ns % 1000000000u / 1000) };
    return a0 ? mem_write(p, a0, &tv, sizeof tv) : 0;
}

SYSCALL(time)
{
    int64_t t = (int64_t)(clock_realtime_ns() / 1000000000u);
    if (a0 && mem_write(p, a0, &t, sizeof t))
        return -EFAULT;
    return t;
}

/* The thread waits with its answer held (main.c answers it when the time comes). */
static long sleep_until(struct lproc *p, uint64_t wake)
{
    if (wake <= pith_clock_ns(time_page))
        return 0;
    p->sleeper = server_reply;
    p->wake_ns = wake;
    deferred = true;
    return NO_ANSWER;
}

static long sleep_for(struct lproc *p, uint64_t clock, uint64_t flags, uint64_t req)
{
    struct timespec ts;
    if (mem_read(p, &ts, req, sizeof ts))
        return -EFAULT;
    if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
        return -EINVAL;
    uint64_t ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec, now;
    if (flags & TIMER_ABSTIME) {
        long err = clock_ns(p, clock, &now);
        if (err)
            return err;
        ns = ns > now ? ns - now : 0;
    }
    return sleep_until(p, pith_clock_ns(time_page) + ns);
}

SYSCALL(nanosleep) { return sleep_for(p, CLOCK_MONOTONIC, 0, a0); }
SYSCALL(clock_nanosleep)
{
    long r = sleep_for(p, a0, a1, a2);
    return r < 0 && r != NO_ANSWER ? -r : r;   /* clock_nanosleep returns the error number itself */
}

SYSCALL(sched_yield) { return 0; }

SYSCALL(getrandom)
{
    char buf[256];
    for (uint64_t done = 0; done < a1;) {
        uint64_t k = a1 - done < sizeof buf ? a1 - done : sizeof buf;
        random_bytes(buf, k);
        if (mem_write(p, a0 + done, buf, k))
            return done ? (long)done : -EFAULT;
        done += k;
    }
    return (long)a1;
}
