/*
 * Time, sleeping and randomness for Linux programs: clocks from the time
 * page and clock.c's real-time base; a sleep keeps its thread's answer
 * and main.c's loop gives it when the time comes, so the server goes on.
 */
#include "personality.h"

#include <errno.h>
#include <time.h>

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
    if (thread_tid(p) != p->pid)
        return thread_sleep(p, wake);   /* a further thread's sleep: kept with its futex waits */
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


/* The CPU the calling thread runs on, as the kernel says (PITH_TCB_CPU); one NUMA node; tcache unused. */
SYSCALL(getcpu)
{
    struct pith_msg m = { 0 };
    if (pith_invoke(p->tcb, PITH_TCB_CPU, &m))
        return -EINVAL;
    uint32_t cpu = (uint32_t)m.w[0], node = 0;
    if ((a0 && mem_write(p, a0, &cpu, 4)) || (a1 && mem_write(p, a1, &node, 4)))
        return -EFAULT;
    return 0;
}

/*
 * sched_getaffinity and sched_setaffinity: the kernel keeps one CPU per
 * thread (PITH_TCB_SET_AFFINITY) and moves none by itself, so the mask
 * read is that one CPU, and a mask set moves the thread to its lowest
 * online CPU.  pid 0 or the caller's own is the calling thread; another
 * process's pid its first thread (another process's further threads are
 * not found: ESRCH).  The mask is one long: up to 64 CPUs.
 */
static uint64_t affinity_tcb(struct lproc *p, uint64_t pid)
{
    if (!pid || pid == p->pid)
        return p->tcb;
    struct lproc *q = (uint32_t)pid == pid ? lproc_by_pid((uint32_t)pid) : NULL;
    return q && q->state == LP_RUNNING ? q->tcb : 0;
}

SYSCALL(sched_getaffinity)
{
    uint64_t tcb = affinity_tcb(p, a0);
    if (!tcb)
        return -ESRCH;
    if (a1 < 8 || (a1 & 7))
        return -EINVAL;                 /* as Linux: whole longs, enough for every CPU */
    struct pith_msg m = { 0 };
    if (pith_invoke(tcb, PITH_TCB_CPU, &m) || m.w[0] >= 64)
        return -EINVAL;
    uint64_t mask = 1ull << m.w[0];
    return mem_write(p, a2, &mask, sizeof mask) ? -EFAULT : 8;
}

SYSCALL(sched_setaffinity)
{
    uint64_t tcb = affinity_tcb(p, a0), mask = 0;
    if (!tcb)
        return -ESRCH;
    if (mem_read(p, &mask, a2, a1 < 8 ? a1 : 8))
        return -EFAULT;
    /* The lowest CPU of the mask the kernel has online (it refuses the others). */
    for (; mask; mask &= mask - 1)
        if (!pith_invoke4(tcb, PITH_TCB_SET_AFFINITY, (uint64_t)__builtin_ctzll(mask), 0, 0, 0))
            return 0;
    return -EINVAL;
}

/*
 * getrusage and times: CPU time as the kernel counts it for the
 * process's threads (all of it user time: what the kernel does for a
 * call is too little to tell apart, and the servers' work is theirs),
 * the children's once waited for; the peak memory as its chunks.
 */
#define L_RUSAGE_SELF     0
#define L_RUSAGE_CHILDREN (-1)
#define L_RUSAGE_THREAD   1

SYSCALL(getrusage)
{
    struct lrusage r;
    switch ((int)a0) {
    case L_RUSAGE_SELF: rusage_fill(&r, lproc_cpu_ns(p), lproc_maxrss_kb(p)); break;
    case L_RUSAGE_CHILDREN: rusage_fill(&r, p->child_cpu_ns, p->child_maxrss_kb); break;
    case L_RUSAGE_THREAD: rusage_fill(&r, thread_cpu_ns(p->tcb), lproc_maxrss_kb(p)); break;
    default: return -EINVAL;
    }
    return mem_write(p, a1, &r, sizeof r);
}

/* times: in clock ticks of 100 Hz; the value, the monotonic clock in them. */
SYSCALL(times)
{
    if (a0) {
        const int64_t t[4] = { (int64_t)(lproc_cpu_ns(p) / 10000000), 0, (int64_t)(p->child_cpu_ns / 10000000), 0 };
        if (mem_write(p, a0, t, sizeof t))
            return -EFAULT;
    }
    return (long)(pith_clock_ns(time_page) / 10000000);
}
