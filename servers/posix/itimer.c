/*
 * Interval timers: alarm, setitimer and getitimer, one of each kind per
 * process.  ITIMER_REAL's expiry is a time on the monotonic clock;
 * ITIMER_VIRTUAL's and ITIMER_PROF's a total of the process's CPU time,
 * its threads' as the kernel counts them (PITH_TCB_INFO), which does not
 * tell user from system time, so the two count alike.  main.c's loop asks
 * itimer_expire for the next one and receives with that deadline, and the
 * signal (SIGALRM, SIGVTALRM, SIGPROF) goes through signals.c when the
 * time comes: at once, even to a thread that makes no call.
 */
#include "personality.h"

#include <errno.h>
#include <signal.h>
#include <sys/time.h>

#define NS 1000000000u
#define CPU_CHECK_MIN_NS 1000000u       /* a CPU-time timer is looked at no more often than each 1 ms */

struct ktimeval { int64_t sec, usec; };
struct kitimerval { struct ktimeval interval, value; };

static struct ktimeval tv_of(uint64_t ns)
{
    return (struct ktimeval){ (int64_t)(ns / NS), (int64_t)(ns % NS / 1000) };
}

/* Valid as Linux has it: seconds not negative, microseconds in [0, 1000000). */
static bool ns_of(struct ktimeval tv, uint64_t *ns)
{
    if (tv.sec < 0 || tv.usec < 0 || tv.usec >= 1000000 || (uint64_t)tv.sec > UINT64_MAX / NS / 2)
        return false;
    *ns = (uint64_t)tv.sec * NS + (uint64_t)tv.usec * 1000;
    return true;
}

static uint64_t ticks_to_ns(uint64_t ticks)
{
    uint64_t hz = time_page->tsc_hz;
    return ticks / hz * NS + ticks % hz * NS / hz;
}

/* A thread's CPU time in nanoseconds (0 if it cannot be had). */
uint64_t thread_cpu_ns(uint64_t tcb)
{
    struct pith_msg m = { 0 };
    return pith_invoke(tcb, PITH_TCB_INFO, &m) ? 0 : ticks_to_ns(m.w[0]);
}

static bool add_cpu(struct lproc *p, void *ns)
{
    *(uint64_t *)ns += thread_cpu_ns(p->tcb);
    return false;
}

/* The process's CPU time in nanoseconds: its threads' now, and those that ended and images it left by execve. */
uint64_t lproc_cpu_ns(struct lproc *p)
{
    uint64_t ns = p->cpu_gone_ns;
    thread_each(p, add_cpu, &ns);
    return ns;
}

/* The clock a timer counts on: ITIMER_REAL (0) the monotonic clock, the two others the CPU time. */
static uint64_t clock_of(struct lproc *p, uint64_t which)
{
    return which == ITIMER_REAL ? pith_clock_ns(time_page) : lproc_cpu_ns(p);
}

static uint64_t *at_of(struct lproc *p, uint64_t which)
{
    return which == ITIMER_REAL ? &p->alarm_ns : &p->cpu_timer_at[which - 1];
}

static uint64_t *interval_of(struct lproc *p, uint64_t which)
{
    return which == ITIMER_REAL ? &p->alarm_interval : &p->cpu_timer_interval[which - 1];
}

static struct kitimerval current(struct lproc *p, uint64_t which)
{
    uint64_t at = *at_of(p, which), now = at ? clock_of(p, which) : 0;
    uint64_t left = at > now ? at - now : at ? 1000 : 0;        /* due: 1 us, as Linux */
    return (struct kitimerval){ tv_of(*interval_of(p, which)), tv_of(left) };
}

static void arm(struct lproc *p, uint64_t which, uint64_t value, uint64_t interval)
{
    *at_of(p, which) = value ? clock_of(p, which) + value : 0;
    *interval_of(p, which) = value ? interval : 0;
}

SYSCALL(getitimer)
{
    if (a0 > ITIMER_PROF)
        return -EINVAL;
    struct kitimerval it = current(p, a0);
    return mem_write(p, a1, &it, sizeof it);
}

/* In Linux's order: the new value read, then checked, then set, then the old one written. */
SYSCALL(setitimer)
{
    struct kitimerval it = { 0 };
    uint64_t value, interval;
    if (a1 && mem_read(p, &it, a1, sizeof it))
        return -EFAULT;
    if (a0 > ITIMER_PROF || !ns_of(it.value, &value) || !ns_of(it.interval, &interval))
        return -EINVAL;
    struct kitimerval old = current(p, a0);
    arm(p, a0, value, interval);
    return a2 ? mem_write(p, a2, &old, sizeof old) : 0;
}

/* The seconds left of the previous one, rounded to the nearest, at least 1 if any (as Linux). */
SYSCALL(alarm)
{
    struct ktimeval left = current(p, ITIMER_REAL).value;
    long secs = (long)left.sec + ((!left.sec && left.usec) || left.usec >= 500000);
    arm(p, ITIMER_REAL, (uint64_t)(uint32_t)a0 * NS, 0);
    return secs;
}

/*
 * execve: the timers go on, and the CPU time: the new image's counts on
 * from the old one's (getrusage, times and the CPU-time timers see one
 * process), its waited-for children's too.
 */
void itimer_exec(struct lproc *c, struct lproc *p)
{
    c->alarm_ns = p->alarm_ns, c->alarm_interval = p->alarm_interval;
    c->cpu_gone_ns = lproc_cpu_ns(p);
    c->child_cpu_ns = p->child_cpu_ns, c->child_maxrss_kb = p->child_maxrss_kb;
    for (int k = 0; k < 2; k++) {
        c->cpu_timer_at[k] = p->cpu_timer_at[k];
        c->cpu_timer_interval[k] = p->cpu_timer_interval[k];
    }
}

/*
 * One timer of p: its signal if due, re-armed by its interval; the time
 * until it is due, on its clock (0: disarmed).  Periods missed while late
 * are one signal, as one pending signal is all Linux keeps.
 */
static uint64_t expire_one(struct lproc *p, uint64_t which, int sig, uint64_t now)
{
    uint64_t *at = at_of(p, which), iv = *interval_of(p, which);
    if (!*at)
        return 0;
    if (*at <= now) {
        *at = iv ? *at + ((now - *at) / iv + 1) * iv : 0;
        signal_post(p, sig, 0x80, 0, 0);   /* SI_KERNEL */
        signal_wake(p);
        if (p->state != LP_RUNNING || !*at)
            return 0;
    }
    return *at - now;
}

static uint64_t sooner(uint64_t a, uint64_t b)
{
    return a && (!b || a < b) ? a : b;
}

/*
 * The signals of every process whose timer is due; the time until the
 * next (0: none).  A CPU-time timer's wait is the CPU time it has left,
 * which its process can spend no faster than in that much real time per
 * thread running at once; it is looked at again then (at least 1 ms on),
 * so it fires late by up to that wait divided among the threads, and by
 * the loop's own delays.
 */
uint64_t itimer_expire(uint64_t now)
{
    uint64_t next = 0;
    for (int i = 0; i < LPROC_MAX; i++) {
        struct lproc *p = &lprocs[i];
        if (p->state != LP_RUNNING)
            continue;
        next = sooner(expire_one(p, ITIMER_REAL, SIGALRM, now), next);
        if (!p->cpu_timer_at[0] && !p->cpu_timer_at[1])
            continue;
        uint64_t cpu = lproc_cpu_ns(p);
        uint64_t left = expire_one(p, ITIMER_VIRTUAL, SIGVTALRM, cpu);
        if (p->state == LP_RUNNING)
            left = sooner(expire_one(p, ITIMER_PROF, SIGPROF, cpu), left);
        if (left)
            next = sooner(left < CPU_CHECK_MIN_NS ? CPU_CHECK_MIN_NS : left, next);
    }
    return next;
}
