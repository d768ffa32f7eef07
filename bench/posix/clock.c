/*
 * pith.posix_clock_gettime (make bench, docs/posix.md): a Linux program's
 * clock_gettime(CLOCK_MONOTONIC) through its C library (musl), answered in
 * the process by the personality's vDSO (docs/posix.md, "The vDSO").  Then
 * the program runs itself again with PITH_POSIX_VDSO=off in its
 * environment, which leaves the vDSO out, so musl makes the system call
 * and the server answers: pith.posix_clock_gettime_server.  The Linux
 * guest's linux.clock_gettime is the same call there (bench/linux/ipcbench.c).
 * 2000 samples after 200 to warm up, each timed alone with the TSC, in
 * make bench's format, unit=tsc (tools/bench.sh names the unit of the mode
 * it chose).  Given an argument it measures once ("server" names the figure
 * pith.posix_clock_gettime_server).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <time.h>
#include <unistd.h>

#define WARM 200
#define RUNS 2000

static unsigned long long rdtsc(void)
{
    unsigned lo, hi;
    __asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi));   /* as the Linux side's (ipcbench.c) */
    return (unsigned long long)hi << 32 | lo;
}

static int by_value(const void *a, const void *b)
{
    unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    static unsigned long long t[RUNS];
    const char *mode = argc > 1 ? argv[1] : "";
    struct timespec ts;
    /* Each figure says what it measures: a vDSO there or not. */
    if (!getauxval(AT_SYSINFO_EHDR) != !strcmp(mode, "server")) {
        printf("# pith.posix_clock_gettime%s: the vDSO is %s\n", *mode ? "_server" : "",
               *mode ? "there all the same" : "missing");
        return 1;
    }
    for (int i = 0; i < WARM; i++)
        clock_gettime(CLOCK_MONOTONIC, &ts);
    for (int i = 0; i < RUNS; i++) {
        unsigned long long a = rdtsc();
        clock_gettime(CLOCK_MONOTONIC, &ts);
        t[i] = rdtsc() - a;
    }
    qsort(t, RUNS, sizeof t[0], by_value);
    printf("bench pith.posix_clock_gettime%s median=%llu min=%llu max=%llu unit=tsc iters=%d\n",
           strcmp(mode, "server") ? "" : "_server", t[RUNS / 2], t[0], t[RUNS - 1], RUNS);
    fflush(stdout);
    if (*mode)
        return 0;
    /* The same calls through the server: its own process, without the vDSO. */
    char *args[] = { argv[0], "server", NULL }, *env[] = { "PITH_POSIX_VDSO=off", NULL };
    execve(argv[0], args, env);
    perror("bench-clock: execve");
    return 1;
}
