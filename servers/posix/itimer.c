/*
 * Interval timers: alarm, setitimer and getitimer's ITIMER_REAL, one per
 * process.  Its expiry is a time on the monotonic clock; main.c's loop
 * asks itimer_expire for the next one, receives with that deadline, and
 * SIGALRM goes through signals.c when the time comes.  ITIMER_VIRTUAL and
 * ITIMER_PROF answer EINVAL (docs/posix.md).
 */
#include "personality.h"

#include <errno.h>
#include <signal.h>
#include <sys/time.h>

#define NS 1000000000u

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

static struct kitimerval current(const struct lproc *p)
{
    uint64_t now = pith_clock_ns(time_page);
    uint64_t left = p->alarm_ns > now ? p->alarm_ns - now : p->alarm_ns ? 1000 : 0;  /* due: 1 us, as Linux */
    return (struct kitimerval){ tv_of(p->alarm_interval), tv_of(left) };
}

static void arm(struct lproc *p, uint64_t value, uint64_t interval)
{
    p->alarm_ns = value ? pith_clock_ns(time_page) + value : 0;
    p->alarm_interval = value ? interval : 0;
}

SYSCALL(getitimer)
{
    if (a0 != ITIMER_REAL)
        return -EINVAL;
    struct kitimerval it = current(p);
    return mem_write(p, a1, &it, sizeof it);
}

/* In Linux's order: the new value read, then checked, then set, then the old one written. */
SYSCALL(setitimer)
{
    struct kitimerval it = { 0 };
    uint64_t value, interval;
    if (a1 && mem_read(p, &it, a1, sizeof it))
        return -EFAULT;
    if (a0 != ITIMER_REAL || !ns_of(it.value, &value) || !ns_of(it.interval, &interval))
        return -EINVAL;
    struct kitimerval old = current(p);
    arm(p, value, interval);
    return a2 ? mem_write(p, a2, &old, sizeof old) : 0;
}

/* The seconds left of the previous one, rounded to the nearest, at least 1 if any (as Linux). */
SYSCALL(alarm)
{
    struct ktimeval left = current(p).value;
    long secs = (long)left.sec + ((!left.sec && left.usec) || left.usec >= 500000);
    arm(p, (uint64_t)(uint32_t)a0 * NS, 0);
    return secs;
}

/* SIGALRM to every process whose timer is due, re-armed by its interval; the time until the next (0: none). */
uint64_t itimer_expire(uint64_t now)
{
    uint64_t next = 0;
    for (int i = 0; i < LPROC_MAX; i++) {
        struct lproc *p = &lprocs[i];
        if (p->state != LP_RUNNING || !p->alarm_ns)
            continue;
        if (p->alarm_ns <= now) {
            /* Periods missed while late are one signal, as one pending SIGALRM is all Linux keeps. */
            uint64_t iv = p->alarm_interval;
            p->alarm_ns = iv ? p->alarm_ns + ((now - p->alarm_ns) / iv + 1) * iv : 0;
            signal_post(p, SIGALRM, 0x80, 0, 0);   /* SI_KERNEL */
            signal_wake(p);
            if (p->state != LP_RUNNING || !p->alarm_ns)
                continue;
        }
        if (!next || p->alarm_ns - now < next)
            next = p->alarm_ns - now;
    }
    return next;
}
