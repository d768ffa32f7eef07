/*
 * poll, ppoll, select, pselect6 over pipes and a file: the
 * events of each end (data, room, hang-up, error), timeouts (0, 50 ms),
 * a wait ended by a child's write, a wait interrupted by a signal (EINTR,
 * ppoll's mask given back), and the errors EFAULT, EINVAL, EBADF and
 * POLLNVAL.
 */
#define _GNU_SOURCE
#include "common.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static int poll1(int fd, short events, int timeout)
{
    struct pollfd p = { .fd = fd, .events = events };
    int n = poll(&p, 1, timeout);
    return n < 0 ? -errno : n ? p.revents : 0;
}

static volatile sig_atomic_t got_usr1;
static void on_usr1(int sig) { got_usr1 = sig; }

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    int fds[2];
    CHECK("pipe", pipe(fds));
    printf("empty read end, 0 ms: %#x\n", poll1(fds[0], POLLIN, 0));
    printf("write end: %#x\n", poll1(fds[1], POLLOUT, 0));
    write(fds[1], "abc", 3);
    printf("read end with data: %#x\n", poll1(fds[0], POLLIN, 0));
    printf("read end, POLLOUT asked: %#x\n", poll1(fds[0], POLLOUT, 0));
    close(fds[1]);
    printf("data, no writer: %#x\n", poll1(fds[0], POLLIN, 0));
    char buf[8];
    read(fds[0], buf, sizeof buf);
    printf("empty, no writer: %#x\n", poll1(fds[0], POLLIN, -1));
    close(fds[0]);
    printf("closed descriptor: %#x\n", poll1(fds[0], POLLIN, 0));
    struct pollfd neg = { .fd = -1, .events = POLLIN, .revents = 7 };
    printf("negative descriptor: %d, revents %d\n", poll(&neg, 1, 0), neg.revents);

    CHECK("pipe", pipe(fds));
    close(fds[0]);
    signal(SIGPIPE, SIG_IGN);
    printf("write end, no reader: %#x\n", poll1(fds[1], POLLOUT, 0));
    close(fds[1]);

    int f = open("/etc/motd", O_RDONLY);       /* (the host's chroot has no /dev/null to compare) */
    printf("file: %#x\n", poll1(f, POLLIN | POLLOUT, 0));

    /* A timeout runs out. */
    CHECK("pipe", pipe(fds));
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    printf("poll 50 ms: %d\n", poll1(fds[0], POLLIN, 50));
    printf("waited at least 50 ms: %s\n", ms_since(&t0) >= 50 ? "yes" : "no");

    /* A child's write ends the wait. */
    pid_t c = fork();
    if (c == 0) {
        struct timespec d = { 0, 100000000 };
        nanosleep(&d, NULL);
        write(fds[1], "x", 1);
        _exit(0);
    }
    printf("poll until the child writes: %#x\n", poll1(fds[0], POLLIN, 5000));
    waitpid(c, NULL, 0);
    read(fds[0], buf, 1);

    /* select: the same ends as bitmaps. */
    fd_set r, w;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_SET(fds[0], &r);
    FD_SET(fds[1], &w);
    struct timeval tv = { 0, 0 };
    int n = select(fds[1] + 1, &r, &w, NULL, &tv);
    printf("select: %d, read %d, write %d\n", n, FD_ISSET(fds[0], &r), FD_ISSET(fds[1], &w));
    FD_ZERO(&r);
    FD_SET(fds[0], &r);
    tv = (struct timeval){ 0, 50000 };
    clock_gettime(CLOCK_MONOTONIC, &t0);
    n = select(fds[0] + 1, &r, NULL, NULL, &tv);
    printf("select 50 ms: %d, read %d, waited: %s\n", n, FD_ISSET(fds[0], &r), ms_since(&t0) >= 50 ? "yes" : "no");
    c = fork();
    if (c == 0) {
        struct timespec d = { 0, 50000000 };
        nanosleep(&d, NULL);
        write(fds[1], "y", 1);
        _exit(0);
    }
    FD_ZERO(&r);
    FD_SET(fds[0], &r);
    n = select(fds[0] + 1, &r, NULL, NULL, NULL);
    printf("select until the child writes: %d, read %d\n", n, FD_ISSET(fds[0], &r));
    waitpid(c, NULL, 0);
    read(fds[0], buf, 1);
    struct timespec ts = { 0, 20000000 };
    FD_ZERO(&r);
    FD_SET(fds[0], &r);
    printf("pselect 20 ms: %d\n", pselect(fds[0] + 1, &r, NULL, NULL, &ts, NULL));

    /* Errors. */
    FD_ZERO(&r);
    FD_SET(f + 10, &r);
    tv = (struct timeval){ 0, 0 };
    CHECK("select on a closed descriptor", select(f + 11, &r, NULL, NULL, &tv));
    CHECK("select with negative nfds", syscall(SYS_select, -1, NULL, NULL, NULL, &tv));
    tv = (struct timeval){ 0, 1000000 };
    CHECK("select with 1000000 us", select(1, NULL, NULL, NULL, &tv));
    CHECK("poll of a bad address", syscall(SYS_poll, (void *)8, 1, 0));
    CHECK("select of a bad set", syscall(SYS_select, 1, (void *)8, NULL, NULL, NULL));
    struct timespec bad = { 0, 1000000000 };
    struct pollfd pf = { .fd = fds[0], .events = POLLIN };
    CHECK("ppoll with 10^9 ns", syscall(SYS_ppoll, &pf, 1, &bad, NULL, 8));
    CHECK("ppoll of a bad timeout", syscall(SYS_ppoll, &pf, 1, (void *)8, NULL, 8));
    sigset_t none;
    sigemptyset(&none);
    CHECK("ppoll with a mask of 4 bytes", syscall(SYS_ppoll, &pf, 1, NULL, &none, 4));

    /* A signal interrupts a wait: EINTR; ppoll's mask lets it in for the call only. */
    struct sigaction sa = { .sa_handler = on_usr1 };
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t usr1, old, now;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, &old);
    c = fork();
    if (c == 0) {
        struct timespec d = { 0, 50000000 };
        nanosleep(&d, NULL);
        kill(getppid(), SIGUSR1);
        _exit(0);
    }
    errno = 0;
    n = ppoll(&pf, 1, NULL, &none);
    printf("ppoll interrupted: %d %s, handler ran: %s\n", n, errname(errno), got_usr1 == SIGUSR1 ? "yes" : "no");
    sigprocmask(SIG_SETMASK, NULL, &now);
    printf("SIGUSR1 blocked again after: %s\n", sigismember(&now, SIGUSR1) ? "yes" : "no");
    waitpid(c, NULL, 0);
    sigprocmask(SIG_SETMASK, &old, NULL);
    got_usr1 = 0;
    c = fork();
    if (c == 0) {
        struct timespec d = { 0, 50000000 };
        nanosleep(&d, NULL);
        kill(getppid(), SIGUSR1);
        _exit(0);
    }
    errno = 0;
    n = poll(&pf, 1, -1);
    printf("poll interrupted: %d %s, handler ran: %s\n", n, errname(errno), got_usr1 == SIGUSR1 ? "yes" : "no");
    waitpid(c, NULL, 0);
    return 0;
}
