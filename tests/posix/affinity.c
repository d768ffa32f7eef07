/*
 * sched_getaffinity and sched_setaffinity, and close_range.  CPU counts
 * differ between machines: what is printed is whether the mask holds the
 * CPU the thread runs on, and what setting a one-CPU mask does; errors
 * EINVAL, ESRCH, EFAULT.  close_range closes or marks close-on-exec a
 * range of descriptors, and refuses a range backwards and unknown flags.
 */
#define _GNU_SOURCE
#include "common.h"

#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static long raw_get(pid_t pid, size_t len, void *mask) { return syscall(SYS_sched_getaffinity, pid, len, mask); }

static void affinity(void)
{
    uint64_t mask = 0;
    long n = raw_get(0, sizeof mask, &mask);
    int cpu = sched_getcpu();
    printf("sched_getaffinity: %s bytes, holds our CPU: %s\n", n == 8 ? "8" : "other",
           cpu >= 0 && cpu < 64 && (mask >> cpu & 1) ? "yes" : "no");
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    printf("set to CPU 0: %d\n", sched_setaffinity(0, sizeof set, &set));
    mask = 0;
    raw_get(0, sizeof mask, &mask);
    printf("now the mask is CPU 0 alone: %s; we run on CPU %d\n", mask == 1 ? "yes" : "no", sched_getcpu());
    printf("our pid names us too: %s\n", raw_get(getpid(), sizeof mask, &mask) == 8 && mask == 1 ? "yes" : "no");
    long r = raw_get(0, 4, &mask);
    printf("length 4: %ld %s\n", r, errname(errno));
    r = raw_get(0, 12, &mask);
    printf("length 12: %ld %s\n", r, errname(errno));
    r = raw_get(999999, sizeof mask, &mask);
    printf("no such pid: %ld %s\n", r, errname(errno));
    r = raw_get(0, sizeof mask, (void *)8);
    printf("unwritable mask: %ld %s\n", r, errname(errno));
    mask = 0;
    r = syscall(SYS_sched_setaffinity, 0, sizeof mask, &mask);
    printf("set to no CPU: %ld %s\n", r, errname(errno));
    mask = 1ull << 63;
    r = syscall(SYS_sched_setaffinity, 0, sizeof mask, &mask);
    printf("set to CPU 63 only: %ld %s\n", r, errname(errno));
    r = syscall(SYS_sched_setaffinity, 0, sizeof mask, (void *)8);
    printf("unreadable mask: %ld %s\n", r, errname(errno));
}

static int is_open(int fd) { return fcntl(fd, F_GETFD) >= 0; }

static void ranges(void)
{
    int fds[6];
    for (int i = 0; i < 6; i++)
        fds[i] = open("/dev/null", O_RDONLY);
    /* Descriptors 3.. are ours in order (nothing else is open). */
    long r = syscall(SYS_close_range, fds[1], fds[2], 0);
    printf("close_range of two: %ld; open: %d %d %d %d\n", r, is_open(fds[0]), is_open(fds[1]), is_open(fds[2]),
           is_open(fds[3]));
    r = syscall(SYS_close_range, fds[3], ~0u, 4);   /* CLOSE_RANGE_CLOEXEC */
    printf("close_range CLOEXEC to the end: %ld; flags: %d %d, still open: %d\n", r, fcntl(fds[3], F_GETFD),
           fcntl(fds[5], F_GETFD), is_open(fds[5]));
    pid_t c = fork();
    if (c == 0) {
        execl("/proc/self/exe", "affinity", "child", (char *)0);
        _exit(99);
    }
    int status;
    waitpid(c, &status, 0);
    printf("an exec'd child sees them closed: %s\n", WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "yes" : "no");
    r = syscall(SYS_close_range, 10, 5, 0);
    printf("backwards: %ld %s\n", r, errname(errno));
    r = syscall(SYS_close_range, 3, 4, 1);
    printf("unknown flag: %ld %s\n", r, errname(errno));
    r = syscall(SYS_close_range, fds[0], ~0u, 2);   /* CLOSE_RANGE_UNSHARE: alone in our table */
    printf("close_range UNSHARE to the end: %ld; open: %d %d\n", r, is_open(fds[0]), is_open(fds[5]));
    r = syscall(SYS_close_range, 3, ~0u, 0);
    printf("nothing left to close: %ld\n", r);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    (void)argv;
    if (argc > 1)                       /* exec'd by ranges(): 6 and 8 were marked close-on-exec */
        return is_open(6) || is_open(8) ? 1 : 0;
    affinity();
    ranges();
    return 0;
}
