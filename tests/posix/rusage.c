/*
 * getrusage, times and the rusage of wait4 and waitid: CPU time that
 * grows while the process spins, a child's counted when it is waited for
 * (its own waited-for child's too), the peak memory, and EINVAL and
 * EFAULT.  Times differ between machines: what is printed is whether each
 * agrees with the spinning done (at least a tenth of the wall time spun).
 */
#define _GNU_SOURCE
#include "common.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long ms_of(struct timeval tv) { return tv.tv_sec * 1000 + tv.tv_usec / 1000; }

static void spin_ms(long ms)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    volatile unsigned long x = 0;
    do {
        for (int i = 0; i < 10000; i++)
            x += (unsigned long)i;
        clock_gettime(CLOCK_MONOTONIC, &b);
    } while ((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < ms);
}

static long self_ms(void)
{
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return ms_of(r.ru_utime) + ms_of(r.ru_stime);
}

static long children_ms(void)
{
    struct rusage r;
    getrusage(RUSAGE_CHILDREN, &r);
    return ms_of(r.ru_utime) + ms_of(r.ru_stime);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    long before = self_ms();
    spin_ms(200);
    printf("our CPU time grew by a tenth of 200 ms spun: %s\n", self_ms() - before >= 20 ? "yes" : "no");
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    printf("peak memory above 0: %s\n", r.ru_maxrss > 0 ? "yes" : "no");
    getrusage(RUSAGE_THREAD, &r);
    printf("this thread's CPU time too: %s\n", ms_of(r.ru_utime) + ms_of(r.ru_stime) >= 20 ? "yes" : "no");
    printf("children's before any: %ld ms\n", children_ms());

    /* A child that spins 200 ms, and whose own child spins 200 ms and is waited for. */
    pid_t c = fork();
    if (c == 0) {
        pid_t g = fork();
        if (g == 0) {
            spin_ms(200);
            _exit(0);
        }
        waitpid(g, NULL, 0);
        spin_ms(200);
        _exit(7);
    }
    int status;
    struct rusage cr;
    memset(&cr, 0xff, sizeof cr);
    pid_t w = wait4(c, &status, 0, &cr);
    printf("wait4: the child, status %d\n", w == c && WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    long child = ms_of(cr.ru_utime) + ms_of(cr.ru_stime);
    printf("its rusage counts it and its child (a tenth of 400 ms): %s\n", child >= 40 ? "yes" : "no");
    printf("our children's is that: %s\n", children_ms() >= child && children_ms() >= 40 ? "yes" : "no");

    struct tms t;
    clock_t now = times(&t);
    printf("times: ours a tenth of 200 ms: %s, children's: %s, its value moves: ", t.tms_utime + t.tms_stime >= 2 ? "yes" : "no",
           t.tms_cutime + t.tms_cstime >= 4 ? "yes" : "no");
    spin_ms(50);
    printf("%s\n", times(NULL) > now ? "yes" : "no");

    /* waitid's fifth argument: a child that ends at once. */
    c = fork();
    if (c == 0)
        _exit(3);
    siginfo_t si;
    memset(&cr, 0xff, sizeof cr);
    long rc = syscall(SYS_waitid, P_PID, c, &si, WEXITED, &cr);
    printf("waitid: %ld, status %d, rusage written: %s\n", rc, si.si_status, cr.ru_maxrss != -1 ? "yes" : "no");

    long e = getrusage(5, &r);
    printf("getrusage(5): %ld %s\n", e, errname(errno));
    e = syscall(SYS_getrusage, RUSAGE_SELF, (void *)8);
    printf("getrusage unwritable: %ld %s\n", e, errname(errno));
    e = syscall(SYS_times, (void *)8);
    printf("times unwritable: %ld %s\n", e, errname(errno));
    c = fork();
    if (c == 0)
        _exit(0);
    e = syscall(SYS_wait4, c, NULL, 0, (void *)8);
    printf("wait4 with an unwritable rusage: %ld %s\n", e, errname(errno));
    waitpid(c, NULL, 0);
    return 0;
}
