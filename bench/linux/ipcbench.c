/*
 * ipcbench: the Linux side of `make bench`.  Runs as /init of a small
 * initramfs (see run.sh), measures the Linux counterparts of Pith's IPC and
 * fault figures, prints them in the project's benchmark format
 *
 *     bench linux.NAME median=N min=N max=N unit=insns|cycles iters=N
 *
 * and powers the machine off.  Every sample is one operation between two
 * `lfence; rdtsc; lfence` brackets, as in Pith's benchmarks; nothing is
 * subtracted.  The unit is `insns` when the kernel command line carries
 * pith_unit=insns (the runner adds it under QEMU icount), else `cycles`.
 *
 * Usage: ipcbench [SAMPLES]   (default 20000, after SAMPLES/10 warm-up)
 * It also runs on an ordinary Linux host, where it does not power off.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

/* musl's headers lack <linux/futex.h>; these values are the kernel ABI. */
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#ifndef MADV_NOHUGEPAGE
#define MADV_NOHUGEPAGE 15
#endif

static long samples = 20000, warmup = 2000;
static uint64_t *sample;
static const char *unit = "cycles";

static inline uint64_t tsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi) :: "memory");
    return (uint64_t)hi << 32 | lo;
}

static int cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void report(const char *name, long n)
{
    qsort(sample, n, sizeof *sample, cmp);
    printf("bench linux.%s median=%llu min=%llu max=%llu unit=%s iters=%ld\n", name,
           (unsigned long long)sample[n / 2], (unsigned long long)sample[0],
           (unsigned long long)sample[n - 1], unit, n);
    fflush(stdout);
}

static void fail(const char *what)
{
    printf("# linux.error %s: %m\n", what);
    fflush(stdout);
    exit(1);
}

static void pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0)
        fail("sched_setaffinity");
}

/* The raw instruction, not libc's wrapper: the cheapest kernel entry and exit. */
static void null_syscall(void)
{
    for (long i = -warmup; i < samples; i++) {
        long nr = SYS_getppid;
        uint64_t t0 = tsc();
        __asm__ volatile("syscall" : "+a"(nr) :: "rcx", "r11", "memory");
        uint64_t t1 = tsc();
        if (i >= 0)
            sample[i] = t1 - t0;
    }
    report("null_syscall", samples);
}

/* First write to each page of a fresh private anonymous mapping: the kernel
 * allocates a zeroed page and maps it.  Without MADV_NOHUGEPAGE one fault
 * could map 2 MiB and the other 511 writes would cost nothing. */
static void minor_fault(void)
{
    long pages = warmup + samples;
    char *m = mmap(NULL, pages * 4096, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        fail("mmap");
    madvise(m, pages * 4096, MADV_NOHUGEPAGE);
    for (long i = -warmup; i < samples; i++) {
        volatile char *p = m + (i + warmup) * 4096;
        uint64_t t0 = tsc();
        *p = 1;
        uint64_t t1 = tsc();
        if (i >= 0)
            sample[i] = t1 - t0;
    }
    munmap(m, pages * 4096);
    report("minor_fault", samples);
}

/* ---- ping-pong between two processes ------------------------------------
 * The client sends a request and waits for the answer; the server, a forked
 * child, answers each request until the client closes its end.  One sample
 * is one round trip. */

static int req[2], rsp[2];          /* pipes, or the two ends of a socket pair */
static size_t msg = 1;              /* bytes each way for pipes */
static char buf[4096];
static uint32_t *word;              /* futex words, shared with the child */

/* Pipes and sockets: read/write of `msg` bytes; 0 at end of file. */
static int get(int fd)
{
    for (size_t got = 0; got < msg;) {
        ssize_t r = read(fd, buf + got, msg - got);
        if (r <= 0)
            return 0;
        got += r;
    }
    return 1;
}
static void put(int fd)
{
    if (write(fd, buf, msg) != (ssize_t)msg)
        fail("write");
}
static void pipe_serve(void) { while (get(req[0])) put(rsp[1]); }
static void pipe_call(void)  { put(req[1]); if (!get(rsp[0])) fail("read"); }
static void pipe_stop(void)  { close(req[1]); }

/* Futex: word[0] carries the request number, word[16] (another cache line)
 * the answer; each side sleeps in FUTEX_WAIT until the other changes it.
 * The request number 0 tells the server to stop. */
static uint32_t seq;
static long futex(uint32_t *w, int op, uint32_t val)
{
    return syscall(SYS_futex, w, op, val, NULL, NULL, 0);
}
static void futex_serve(void)
{
    uint32_t last = 0, v;
    for (;;) {
        while ((v = __atomic_load_n(&word[0], __ATOMIC_ACQUIRE)) == last)
            futex(&word[0], FUTEX_WAIT, last);
        if (v == 0)
            return;
        last = v;
        __atomic_store_n(&word[16], v, __ATOMIC_RELEASE);
        futex(&word[16], FUTEX_WAKE, 1);
    }
}
static void futex_call(void)
{
    uint32_t s = ++seq, v;
    __atomic_store_n(&word[0], s, __ATOMIC_RELEASE);
    futex(&word[0], FUTEX_WAKE, 1);
    while ((v = __atomic_load_n(&word[16], __ATOMIC_ACQUIRE)) != s)
        futex(&word[16], FUTEX_WAIT, v);
}
static void futex_stop(void)
{
    __atomic_store_n(&word[0], 0, __ATOMIC_RELEASE);
    futex(&word[0], FUTEX_WAKE, 1);
}

enum kind { PIPE, PIPE_4K, FUTEX, UNIX };

static void pingpong(enum kind k, const char *name, int server_cpu)
{
    void (*serve)(void) = pipe_serve, (*call)(void) = pipe_call, (*stop)(void) = pipe_stop;
    msg = k == PIPE_4K ? 4096 : 1;
    if (k == FUTEX) {
        serve = futex_serve, call = futex_call, stop = futex_stop;
        word = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (word == MAP_FAILED)
            fail("mmap");
        seq = 0;
    } else if (k == UNIX) {
        /* One SOCK_SEQPACKET pair: the client uses end 0, the server end 1. */
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) != 0)
            fail("socketpair");
        req[0] = rsp[1] = sv[1];
        req[1] = rsp[0] = sv[0];
    } else if (pipe(req) != 0 || pipe(rsp) != 0) {
        fail("pipe");
    }

    fflush(stdout);
    pid_t child = fork();
    if (child < 0)
        fail("fork");
    if (child == 0) {
        pin(server_cpu);
        /* The server must not hold the client's ends, or it never sees EOF. */
        if (k != FUTEX) {
            close(req[1]);
            if (rsp[0] != req[1])
                close(rsp[0]);
        }
        serve();
        _exit(0);
    }
    pin(0);
    for (long i = -warmup; i < samples; i++) {
        uint64_t t0 = tsc();
        call();
        uint64_t t1 = tsc();
        if (i >= 0)
            sample[i] = t1 - t0;
    }
    stop();
    waitpid(child, NULL, 0);
    if (k == FUTEX) {
        munmap(word, 4096);
    } else if (k == UNIX) {
        close(req[0]);
    } else {
        close(req[0]), close(rsp[0]), close(rsp[1]);
    }
    report(name, samples);
}

/* As PID 1 nothing is mounted: /proc for the command line, /dev for the
 * console if the kernel could not open one for us. */
static void init_setup(void)
{
    mkdir("/proc", 0555);
    mount("proc", "/proc", "proc", 0, NULL);
    mkdir("/dev", 0755);
    mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
    if (fcntl(1, F_GETFD) < 0) {
        int fd = open("/dev/console", O_RDWR);
        if (fd >= 0)
            dup2(fd, 0), dup2(fd, 1), dup2(fd, 2);
    }
}

/* pith_unit=insns among the words of /proc/cmdline. */
static int icount_mode(void)
{
    char line[4096], *w, *save;
    FILE *f = fopen("/proc/cmdline", "r");
    int found = 0;
    if (!f)
        return 0;
    if (fgets(line, sizeof line, f))
        for (w = strtok_r(line, " \n", &save); w; w = strtok_r(NULL, " \n", &save))
            found |= strcmp(w, "pith_unit=insns") == 0;
    fclose(f);
    return found;
}

int main(int argc, char **argv)
{
    int init = getpid() == 1;
    if (init)
        init_setup();
    if (argc > 1 && atol(argv[1]) > 0)
        samples = atol(argv[1]);
    warmup = samples / 10;
    if (icount_mode())
        unit = "insns";

    sample = calloc(samples, sizeof *sample);
    if (!sample)
        fail("calloc");
    /* Touch the sample array now, so its page faults land in no sample. */
    memset(sample, 1, samples * sizeof *sample);

    cpu_set_t online;
    int cpus = sched_getaffinity(0, sizeof online, &online) == 0 ? CPU_COUNT(&online) : 1;
    struct utsname u;
    uname(&u);
    /* A leading newline: the kernel's console output may end mid-line. */
    printf("\n# linux.info kernel=%s cpus=%d samples=%ld warmup=%ld\n", u.release, cpus,
           samples, warmup);

    pin(0);
    null_syscall();
    minor_fault();
    static const struct { enum kind k; const char *name; } ipc[] = {
        { PIPE, "pipe_rtt" }, { FUTEX, "futex_rtt" }, { UNIX, "unix_rtt" }, { PIPE_4K, "pipe_4k_rtt" },
    };
    char name[64];
    for (size_t i = 0; i < sizeof ipc / sizeof ipc[0]; i++) {
        snprintf(name, sizeof name, "%s_same_cpu", ipc[i].name);
        pingpong(ipc[i].k, name, 0);
        /* Only where a second CPU exists (icount on QEMU < 8.1 gives one). */
        if (cpus > 1) {
            snprintf(name, sizeof name, "%s_xcpu", ipc[i].name);
            pingpong(ipc[i].k, name, 1);
        }
    }
    printf("# linux.done\n");
    fflush(stdout);
    if (init) {
        sync();
        reboot(RB_POWER_OFF);
    }
    return 0;
}
