/*
 * The vDSO of Linux processes (docs/posix.md, "The vDSO"; decision 0023):
 * clock_gettime, gettimeofday, time, clock_getres and getcpu answered in
 * the process, without a system call, from the data page the personality
 * maps just below this image (vdso.h).  What it cannot answer (the CPU-time
 * clocks, an unknown clock, gettimeofday's time zone) is the real system
 * call, as Linux's vDSO does, so its errors are the server's.
 *
 * Built position-independent with no dynamic relocations: nothing
 * relocates it, it is mapped as it is.  A pointer the caller gives is
 * written without a check, as Linux's vDSO does (a bad one is SIGSEGV).
 */
#include "vdso.h"

#include <stddef.h>

/* The data page, the page below the image (vdso.ld): reached PC-relative. */
extern const struct vdso_data vdso_data __attribute__((visibility("hidden")));

enum { L_CLOCK_REALTIME = 0, L_CLOCK_MONOTONIC = 1, L_CLOCK_MONOTONIC_RAW = 4, L_CLOCK_REALTIME_COARSE = 5,
       L_CLOCK_MONOTONIC_COARSE = 6, L_CLOCK_BOOTTIME = 7 };
enum { SYS_gettimeofday = 96, SYS_clock_gettime = 228, SYS_clock_getres = 229 };

struct l_timespec { int64_t sec, nsec; };
struct l_timeval { int64_t sec, usec; };

static long syscall2(long nr, long a, long b)
{
    long r = nr;
    __asm__ volatile("syscall" : "+a"(r) : "D"(a), "S"(b) : "rcx", "r11", "memory");
    return r;
}

static uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

/* Nanoseconds of the clock, the server's conversion (pith_clock_ns); false: not one of ours. */
static int clock_ns(long clock, uint64_t *ns)
{
    switch (clock) {
    case L_CLOCK_REALTIME:
    case L_CLOCK_REALTIME_COARSE:
        *ns = pith_time_ns(&vdso_data.time, rdtsc()) + vdso_data.real_offset;
        return 1;
    case L_CLOCK_MONOTONIC:
    case L_CLOCK_MONOTONIC_RAW:
    case L_CLOCK_MONOTONIC_COARSE:
    case L_CLOCK_BOOTTIME:
        *ns = pith_time_ns(&vdso_data.time, rdtsc());
        return 1;
    default:
        return 0;
    }
}

long __vdso_clock_gettime(long clock, struct l_timespec *ts)
{
    uint64_t ns;
    if (!clock_ns(clock, &ns))
        return syscall2(SYS_clock_gettime, clock, (long)ts);
    ts->sec = (int64_t)(ns / 1000000000u);
    ts->nsec = (int64_t)(ns % 1000000000u);
    return 0;
}

/* The server gives every clock a resolution of 1 ns (time.c). */
long __vdso_clock_getres(long clock, struct l_timespec *res)
{
    uint64_t ns;
    if (!clock_ns(clock, &ns))
        return syscall2(SYS_clock_getres, clock, (long)res);
    if (res)
        *res = (struct l_timespec){ 0, 1 };
    return 0;
}

/* A time zone asked for goes to the server, which leaves it as it is. */
long __vdso_gettimeofday(struct l_timeval *tv, void *tz)
{
    uint64_t ns;
    if (tz)
        return syscall2(SYS_gettimeofday, (long)tv, (long)tz);
    if (tv && clock_ns(L_CLOCK_REALTIME, &ns))
        *tv = (struct l_timeval){ (int64_t)(ns / 1000000000u), (int64_t)(ns % 1000000000u / 1000) };
    return 0;
}

long __vdso_time(int64_t *t)
{
    uint64_t ns;
    clock_ns(L_CLOCK_REALTIME, &ns);
    int64_t s = (int64_t)(ns / 1000000000u);
    if (t)
        *t = s;
    return s;
}

/* The CPU: the kernel keeps its number in TSC_AUX (pith_cpu_number); one node. */
long __vdso_getcpu(unsigned *cpu, unsigned *node, void *cache)
{
    uint32_t lo, hi, aux;
    (void)cache;
    __asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
    if (cpu)
        *cpu = aux;
    if (node)
        *node = 0;
    return 0;
}

/* Linux's vDSO exports each under its plain name too. */
long clock_gettime(long, struct l_timespec *) __attribute__((weak, alias("__vdso_clock_gettime")));
long clock_getres(long, struct l_timespec *) __attribute__((weak, alias("__vdso_clock_getres")));
long gettimeofday(struct l_timeval *, void *) __attribute__((weak, alias("__vdso_gettimeofday")));
long time(int64_t *) __attribute__((weak, alias("__vdso_time")));
long getcpu(unsigned *, unsigned *, void *) __attribute__((weak, alias("__vdso_getcpu")));
