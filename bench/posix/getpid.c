/*
 * pith.posix_getpid (make bench, docs/posix.md): a Linux getpid through the
 * POSIX personality, the whole round trip: the SYSCALL, and the answer the
 * personality's fault program gives in the kernel (docs/posix.md, "Calls
 * answered in the kernel").  Then the program runs itself again with
 * PITH_POSIX_FASTCALLS=off in its environment, which sends every call of
 * that process to the server: pith.posix_getpid_server, the kernel's fault
 * message to the personality, its table, the answer.  A static Linux
 * program (musl-gcc); 2000 samples after 200 to warm up, each timed alone
 * with the TSC.  Printed in make bench's format, unit=tsc (tools/bench.sh
 * names the unit of the mode it chose).  Given an argument it measures
 * once ("server" names the figure pith.posix_getpid_server).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WARM 200
#define RUNS 2000

static unsigned long long rdtsc(void)
{
    unsigned lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (unsigned long long)hi << 32 | lo;
}

static long getpid_raw(void)
{
    long r = 39;                        /* getpid */
    __asm__ volatile("syscall" : "+a"(r) : : "rcx", "r11", "memory");
    return r;
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
    for (int i = 0; i < WARM; i++)
        getpid_raw();
    for (int i = 0; i < RUNS; i++) {
        unsigned long long a = rdtsc();
        getpid_raw();
        t[i] = rdtsc() - a;
    }
    qsort(t, RUNS, sizeof t[0], by_value);
    printf("bench pith.posix_getpid%s median=%llu min=%llu max=%llu unit=tsc iters=%d\n",
           strcmp(mode, "server") ? "" : "_server", t[RUNS / 2], t[0], t[RUNS - 1], RUNS);
    fflush(stdout);
    if (*mode)
        return 0;
    /* The same calls through the server: its own process, asking for it when it starts. */
    char *args[] = { argv[0], "server", NULL }, *env[] = { "PITH_POSIX_FASTCALLS=off", NULL };
    execve(argv[0], args, env);
    perror("bench-getpid: execve");
    return 1;
}
