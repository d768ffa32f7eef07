/*
 * sysinfo and /proc's meminfo, uptime and loadavg: the figures differ
 * between machines, so what is printed is their shape and how they agree
 * with each other; and sysinfo's EFAULT.  getcpu as a system call (not
 * the vDSO's): the CPU sched_getcpu gives before and after it, node 0.
 */
#define _GNU_SOURCE
#include "common.h"

#include <stdlib.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <unistd.h>

static int slurp(const char *path, char *buf, size_t max)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, max - 1, f);
    buf[n] = 0;
    fclose(f);
    return (int)n;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    struct sysinfo si;
    CHECK("sysinfo(NULL)", sysinfo(NULL));
    CHECK("sysinfo", sysinfo(&si));
    printf("mem_unit: %u\n", si.mem_unit);
    printf("totalram > 0: %d\n", si.totalram > 0);
    printf("freeram <= totalram: %d\n", si.freeram <= si.totalram);
    printf("procs >= 1: %d\n", si.procs >= 1);

    char buf[4096];
    printf("meminfo read: %d\n", slurp("/proc/meminfo", buf, sizeof buf) > 0);
    unsigned long total = 0, free_kb = 0, avail = 0;
    char *t = strstr(buf, "MemTotal:"), *f = strstr(buf, "MemFree:"), *a = strstr(buf, "MemAvailable:");
    if (t && f && a) {
        total = strtoul(t + 9, NULL, 10), free_kb = strtoul(f + 8, NULL, 10), avail = strtoul(a + 13, NULL, 10);
        printf("MemTotal is sysinfo's: %d\n", total == si.totalram * si.mem_unit / 1024);
        printf("MemFree <= MemTotal: %d\n", free_kb <= total);
        printf("MemAvailable <= MemTotal: %d\n", avail <= total);
        printf("kB units: %d\n", strstr(t, " kB\n") != NULL);
    } else {
        printf("meminfo lacks MemTotal, MemFree or MemAvailable\n");
    }
    printf("SwapTotal present: %d\n", strstr(buf, "SwapTotal:") != NULL);

    double up = -1, idle = -1;
    if (slurp("/proc/uptime", buf, sizeof buf) > 0 && sscanf(buf, "%lf %lf", &up, &idle) == 2)
        printf("uptime: two figures, the first at least sysinfo's: %d\n", up + 1 >= (double)si.uptime);
    else
        printf("uptime: unreadable\n");
    double l1, l5, l15;
    int run, all, last;
    if (slurp("/proc/loadavg", buf, sizeof buf) > 0 &&
        sscanf(buf, "%lf %lf %lf %d/%d %d", &l1, &l5, &l15, &run, &all, &last) == 6)
        printf("loadavg: six fields, runnable <= total: %d\n", run <= all);
    else
        printf("loadavg: unreadable\n");
    /* Between two readings of sched_getcpu that agree (the host may move us: a few tries). */
    unsigned cpu = 9999, node = 9999;
    long r = -1;
    int agree = 0;
    for (int i = 0; i < 100 && !agree; i++) {
        int before = sched_getcpu();
        r = syscall(SYS_getcpu, &cpu, &node, NULL);
        agree = before >= 0 && before == sched_getcpu() && (unsigned)before == cpu;
    }
    printf("getcpu: %ld, the CPU sched_getcpu gives: %d, node %u\n", r, agree, node);
    CHECK("getcpu of nothing", syscall(SYS_getcpu, NULL, NULL, NULL));
    CHECK("getcpu into a bad address", syscall(SYS_getcpu, (void *)8, NULL, NULL));
    CHECK("getcpu's node into a bad address", syscall(SYS_getcpu, &cpu, (void *)8, NULL));
    return 0;
}
