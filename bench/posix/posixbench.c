/*
 * The POSIX comparison (make bench, docs/posix.md): one static Linux
 * program run both under Pith's POSIX personality and in the Linux guest
 * (bench/linux/), printing the same figures in make bench's format:
 *
 *   SIDE.posix_pipe_rtt        one byte to a forked child and back over two pipes
 *   SIDE.posix_fork_exit_wait  fork, the child _exits at once, waitpid
 *   SIDE.posix_fork_exec_wait  fork, the child execve's this program (which exits at once), waitpid
 *   SIDE.posix_read_4k         a 4 KiB pread of a 1 MiB file walked from offset 0
 *   SIDE.posix_fork_big_exit_wait  fork_exit_wait with 2 MiB of private anonymous memory written
 *
 * Each sample is one operation between rdtsc reads.  Usage:
 * posixbench SIDE DIR [UNIT]: SIDE names the figures (pith, linux), DIR
 * is where the file is made, UNIT what the TSC counts (tsc by default).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define FILE_BYTES (1 << 20)
#define BLOCK      4096
#define BIG_BYTES  (2 << 20)            /* what a process takes whole on Pith's side: parent and child fit in 7 MiB */

static const char *side, *unit = "tsc";
static unsigned long long sample[2000];

static unsigned long long rdtsc(void)
{
    unsigned lo, hi;
    __asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi));
    return (unsigned long long)hi << 32 | lo;
}

static int by_value(const void *a, const void *b)
{
    unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *name, int n)
{
    qsort(sample, (size_t)n, sizeof sample[0], by_value);
    printf("bench %s.posix_%s median=%llu min=%llu max=%llu unit=%s iters=%d\n", side, name, sample[n / 2], sample[0],
           sample[n - 1], unit, n);
    fflush(stdout);
}

static void die(const char *what)
{
    printf("# %s.posix: %s failed\n", side, what);
    exit(1);
}

static void pipe_rtt(int warm, int runs)
{
    int req[2], rsp[2];
    char c = 'x';
    if (pipe(req) || pipe(rsp))
        die("pipe");
    pid_t child = fork();
    if (child < 0)
        die("fork");
    if (child == 0) {
        close(req[1]), close(rsp[0]);   /* so the parent's close ends the loop */
        while (read(req[0], &c, 1) == 1)
            write(rsp[1], &c, 1);
        _exit(0);
    }
    for (int i = -warm; i < runs; i++) {
        unsigned long long t = rdtsc();
        if (write(req[1], &c, 1) != 1 || read(rsp[0], &c, 1) != 1)
            die("pipe round trip");
        if (i >= 0)
            sample[i] = rdtsc() - t;
    }
    close(req[1]);
    waitpid(child, NULL, 0);
    close(req[0]), close(rsp[0]), close(rsp[1]);
    report("pipe_rtt", runs);
}

static void fork_wait(const char *name, const char *self, int warm, int runs)
{
    for (int i = -warm; i < runs; i++) {
        unsigned long long t = rdtsc();
        pid_t child = fork();
        if (child == 0) {
            if (self) {
                char *args[] = { (char *)self, "exit", NULL }, *env[] = { NULL };
                execve(self, args, env);
            }
            _exit(0);
        }
        int status;
        if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status))
            die(name);
        if (i >= 0)
            sample[i] = rdtsc() - t;
    }
    report(name, runs);
}

static void read_4k(const char *dir, int warm, int runs)
{
    static char buf[BLOCK];
    char path[256];
    snprintf(path, sizeof path, "%s/posixbench.data", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        die("create the file");
    for (int b = 0; b < FILE_BYTES / BLOCK; b++) {
        memset(buf, 'a' + b % 26, sizeof buf);
        if (write(fd, buf, sizeof buf) != (long)sizeof buf)
            die("write the file");
    }
    for (int i = -warm; i < runs; i++) {
        off_t at = (off_t)(((unsigned)(i + warm) % (FILE_BYTES / BLOCK)) * BLOCK);
        unsigned long long t = rdtsc();
        if (pread(fd, buf, BLOCK, at) != BLOCK)
            die("pread");
        if (i >= 0)
            sample[i] = rdtsc() - t;
    }
    close(fd);
    unlink(path);
    report("read_4k", runs);
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "exit"))
        return 0;                       /* the fork_exec_wait child */
    if (argc < 3) {
        fprintf(stderr, "usage: posixbench SIDE DIR [UNIT]\n");
        return 2;
    }
    side = argv[1];
    if (argc > 3)
        unit = argv[3];
    setvbuf(stdout, NULL, _IOLBF, 0);
    pipe_rtt(200, 2000);
    fork_wait("fork_exit_wait", NULL, 20, 200);
    fork_wait("fork_exec_wait", argv[0], 10, 100);
    read_4k(argv[2], 200, 2000);
    /* Last, so the other figures fork a small process: a fork of one with much written memory. */
    char *big = mmap(NULL, BIG_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (big == MAP_FAILED)
        die("mmap");
    memset(big, 1, BIG_BYTES);
    fork_wait("fork_big_exit_wait", NULL, 2, 30);
    return 0;
}
