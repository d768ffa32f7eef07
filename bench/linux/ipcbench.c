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
 *
 * With pith_fs=1 on the kernel command line (the runner adds it when it
 * attaches an ext2 image as a virtio-blk disk) it then loads the kernel
 * modules listed in /modules/order, mounts /dev/vda as ext2 on /mnt and
 * measures 4 KiB file reads and writes there (fs_bench).  Any failure in
 * that chain is one `# linux.fs unavailable: REASON` line; the figures
 * before it stand.
 */
#define _GNU_SOURCE
#include <errno.h>
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
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* musl's headers lack <linux/futex.h>; these values are the kernel ABI. */
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE 4
#endif
#ifndef MADV_NOHUGEPAGE
#define MADV_NOHUGEPAGE 15
#endif

static long samples = 20000, warmup = 2000;
/* The file-system figures: as many samples as Pith's (fixed, not SAMPLES). */
#define FS_SAMPLES 2000
#define FS_WARMUP 200
#define FS_FILE (1024 * 1024)
#define FS_BLOCK 4096
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

/* clock_gettime(CLOCK_MONOTONIC) through the C library, which calls the
 * vDSO: answered in the process (Pith's pith.posix_clock_gettime is the same
 * call, bench/posix/clock.c). */
static void clock_gettime_libc(void)
{
    struct timespec ts;
    for (long i = -warmup; i < samples; i++) {
        uint64_t t0 = tsc();
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t t1 = tsc();
        if (i >= 0)
            sample[i] = t1 - t0;
    }
    report("clock_gettime", samples);
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

/* ---- the file-system figures ---------------------------------------------
 * The counterparts of Pith's fs_* figures: an ext2 volume on a virtio-blk
 * disk (/dev/vda, made fresh by the runner), mounted with the kernel's own
 * driver, files created here.  Nothing in this part may end the program:
 * a failure prints one `# linux.fs unavailable: REASON` line and returns. */

static char fs_why[256];

/* Records why (with errno's text) and returns -1. */
static int fs_fail(const char *fmt, const char *arg)
{
    int e = errno;
    char what[160];
    snprintf(what, sizeof what, fmt, arg);
    snprintf(fs_why, sizeof fs_why, "%s: %s", what, strerror(e));
    return -1;
}

/* The runner's /modules/order: one file name a line, dependencies first.
 * Names not ending in .ko are compressed, for the kernel to unpack. */
static int modules_loaded;
static int load_modules(void)
{
    FILE *f = fopen("/modules/order", "r");
    char name[128], path[160];
    if (!f)
        return errno == ENOENT ? 0 : fs_fail("%s", "/modules/order");
    while (fgets(name, sizeof name, f)) {
        name[strcspn(name, "\n")] = 0;
        if (!name[0])
            continue;
        size_t n = strlen(name);
        int flags = n > 3 && strcmp(name + n - 3, ".ko") == 0 ? 0 : MODULE_INIT_COMPRESSED_FILE;
        snprintf(path, sizeof path, "/modules/%s", name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            fclose(f);
            return fs_fail("open %s", path);
        }
        long r = syscall(SYS_finit_module, fd, "", flags);
        int e = errno;
        close(fd);
        if (r != 0 && e != EEXIST) {
            fclose(f);
            errno = e;
            return fs_fail("finit_module %s", name);
        }
        modules_loaded++;
    }
    fclose(f);
    return 0;
}

/* /dev/vda from devtmpfs once virtio_blk has probed the disk; should devtmpfs
 * be missing, the node is made from /sys/block/vda/dev. */
static int find_disk(void)
{
    struct stat st;
    mkdir("/sys", 0555);
    mount("sysfs", "/sys", "sysfs", 0, NULL);
    for (int i = 0; i < 500; i++) {
        if (stat("/dev/vda", &st) == 0 && S_ISBLK(st.st_mode))
            return 0;
        unsigned maj, min;
        FILE *f = fopen("/sys/block/vda/dev", "r");
        if (f) {
            int ok = fscanf(f, "%u:%u", &maj, &min) == 2;
            fclose(f);
            if (ok && mknod("/dev/vda", S_IFBLK | 0600, makedev(maj, min)) == 0)
                return 0;
        }
        usleep(10000);
    }
    char why[96];
    snprintf(why, sizeof why, "no /dev/vda (%d modules loaded from /modules/order)", modules_loaded);
    errno = ENODEV;
    return fs_fail("%s", why);
}

/* The fixed-seed LCG of both sides: Knuth's MMIX constants, state 1 at the
 * start, high bits used; one draw per operation, warm-up included. */
static uint64_t lcg = 1;
static unsigned lcg_block(void)
{
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned)(lcg >> 33) % (FS_FILE / FS_BLOCK);
}

enum fs_walk { FS_RANDOM, FS_SEQ };

static char fs_buf[FS_BLOCK] __attribute__((aligned(4096)));

/* One figure: FS_WARMUP + FS_SAMPLES preads or pwrites of one block, each
 * timed alone; the offset walks on through the warm-up. */
static int fs_figure(const char *name, int fd, enum fs_walk walk, int writing)
{
    uint64_t pos = 0;
    for (long i = -FS_WARMUP; i < FS_SAMPLES; i++) {
        off_t off;
        if (walk == FS_RANDOM) {
            off = (off_t)lcg_block() * FS_BLOCK;
        } else {
            off = pos;
            pos = (pos + FS_BLOCK) % FS_FILE;
        }
        uint64_t t0 = tsc();
        ssize_t r = writing ? pwrite(fd, fs_buf, FS_BLOCK, off) : pread(fd, fs_buf, FS_BLOCK, off);
        uint64_t t1 = tsc();
        if (r != FS_BLOCK) {
            if (r >= 0)
                errno = EIO;
            return fs_fail(writing ? "pwrite (%s)" : "pread (%s)", name);
        }
        if (i >= 0)
            sample[i] = t1 - t0;
    }
    report(name, FS_SAMPLES);
    return 0;
}

static int fs_run(void)
{
    if (load_modules() != 0 || find_disk() != 0)
        return -1;
    mkdir("/mnt", 0755);
    if (mount("/dev/vda", "/mnt", "ext2", 0, NULL) != 0)
        return fs_fail("%s", "mount -t ext2 /dev/vda /mnt");
    int rc = -1, fd = -1, wfd = -1;
    if (mkdir("/mnt/bench", 0755) != 0 && errno != EEXIST) {
        fs_fail("%s", "mkdir /mnt/bench");
        goto out;
    }
    /* /bench/data: 1 MiB written (each block marked with its number) and synced. */
    fd = open("/mnt/bench/data", O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        fs_fail("%s", "create /mnt/bench/data");
        goto out;
    }
    for (unsigned b = 0; b < FS_FILE / FS_BLOCK; b++) {
        memset(fs_buf, 'a' + b % 26, sizeof fs_buf);
        memcpy(fs_buf, &b, sizeof b);
        if (pwrite(fd, fs_buf, FS_BLOCK, (off_t)b * FS_BLOCK) != FS_BLOCK) {
            fs_fail("%s", "write /mnt/bench/data");
            goto out;
        }
    }
    if (fsync(fd) != 0) {
        fs_fail("%s", "fsync /mnt/bench/data");
        goto out;
    }
    /* One block read back: the file holds what was written. */
    unsigned got = 0;
    if (pread(fd, fs_buf, FS_BLOCK, 77 * FS_BLOCK) != FS_BLOCK ||
        (memcpy(&got, fs_buf, sizeof got), got != 77) || fs_buf[FS_BLOCK - 1] != 'a' + 77 % 26) {
        errno = EIO;
        fs_fail("%s", "/mnt/bench/data reads back wrong");
        goto out;
    }
    if (fs_figure("fs_read_4k_random", fd, FS_RANDOM, 0) != 0 ||
        fs_figure("fs_read_4k_seq", fd, FS_SEQ, 0) != 0)
        goto out;
    /* /bench/w: starts empty; the first 256 writes extend it, then they overwrite. */
    wfd = open("/mnt/bench/w", O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (wfd < 0) {
        fs_fail("%s", "create /mnt/bench/w");
        goto out;
    }
    memset(fs_buf, 'w', sizeof fs_buf);
    if (fs_figure("fs_write_4k_seq", wfd, FS_SEQ, 1) != 0)
        goto out;
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (wfd >= 0)
        close(wfd);
    /* Writes back the written blocks: the image is left whole. */
    if (umount("/mnt") != 0 && rc == 0)
        rc = fs_fail("%s", "umount /mnt");
    return rc;
}

static void fs_bench(void)
{
    pin(0);
    if (fs_run() != 0)
        printf("# linux.fs unavailable: %s\n", fs_why);
    fflush(stdout);
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

/* /posixbench (bench/posix/posixbench.c), the program Pith's POSIX personality
 * runs too: its linux.posix_* figures, its file in /tmp of the initramfs. */
static void posix_bench(void)
{
    if (access("/posixbench", X_OK) != 0)
        return;
    mkdir("/tmp", 01777);
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        char *args[] = { "/posixbench", "linux", "/tmp", (char *)unit, NULL }, *env[] = { NULL };
        execve("/posixbench", args, env);
        _exit(127);
    }
    int status = 0;
    if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status))
        printf("# linux.posix unavailable: posixbench failed (status %#x)\n", status);
    fflush(stdout);
}

/* `word` among the words of /proc/cmdline. */
static int cmdline_has(const char *word)
{
    char line[4096], *w, *save;
    FILE *f = fopen("/proc/cmdline", "r");
    int found = 0;
    if (!f)
        return 0;
    if (fgets(line, sizeof line, f))
        for (w = strtok_r(line, " \n", &save); w; w = strtok_r(NULL, " \n", &save))
            found |= strcmp(w, word) == 0;
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
    if (cmdline_has("pith_unit=insns"))
        unit = "insns";

    long slots = samples > FS_SAMPLES ? samples : FS_SAMPLES;
    sample = calloc(slots, sizeof *sample);
    if (!sample)
        fail("calloc");
    /* Touch the sample array now, so its page faults land in no sample. */
    memset(sample, 1, slots * sizeof *sample);

    cpu_set_t online;
    int cpus = sched_getaffinity(0, sizeof online, &online) == 0 ? CPU_COUNT(&online) : 1;
    struct utsname u;
    uname(&u);
    /* A leading newline: the kernel's console output may end mid-line. */
    printf("\n# linux.info kernel=%s cpus=%d samples=%ld warmup=%ld\n", u.release, cpus,
           samples, warmup);

    pin(0);
    null_syscall();
    clock_gettime_libc();
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
    posix_bench();
    if (cmdline_has("pith_fs=1"))
        fs_bench();
    printf("# linux.done\n");
    fflush(stdout);
    if (init) {
        sync();
        reboot(RB_POWER_OFF);
    }
    return 0;
}
