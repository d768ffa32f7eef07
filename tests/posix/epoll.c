/*
 * epoll over pipes, a TCP socket on 127.0.0.1 and another epoll
 * instance: level-triggered, edge-triggered (EPOLLET) and one-shot
 * (EPOLLONESHOT) items, timeouts (0, 50 ms), a wait ended by a child's
 * write, one interrupted by a signal (EINTR), the interest list across
 * dup and close, and every error of epoll_create, epoll_create1,
 * epoll_ctl, epoll_wait and epoll_pwait.
 */
#define _GNU_SOURCE
#include "common.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
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

/* One wait: "N events: events/data ..." or the error. */
static void wait_show(const char *what, int ep, int max, int timeout)
{
    struct epoll_event ev[8];
    int n = epoll_wait(ep, ev, max, timeout);
    printf("%s: ", what);
    if (n < 0) {
        printf("%s\n", errname(errno));
        return;
    }
    printf("%d", n);
    for (int i = 0; i < n; i++)
        printf(" %#x/%llu", ev[i].events, (unsigned long long)ev[i].data.u64);
    printf("\n");
}

static int add(int ep, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event e = { .events = events, .data.u64 = data };
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
}

static volatile sig_atomic_t got_usr1;
static void on_usr1(int sig) { got_usr1 = sig; }

static void errors(void)
{
    int pfd[2], ep = epoll_create1(0), file = open("/etc/motd", O_RDONLY);
    struct epoll_event e = { .events = EPOLLIN }, out[2];
    pipe(pfd);
    printf("-- errors\n");
    CHECK("epoll_create(0)", syscall(SYS_epoll_create, 0));
    CHECK("epoll_create(-1)", syscall(SYS_epoll_create, -1));
    CHECK("epoll_create1(bad flags)", epoll_create1(0x1234));
    int c = epoll_create1(EPOLL_CLOEXEC);
    printf("epoll_create1(EPOLL_CLOEXEC) cloexec: %d\n", fcntl(c, F_GETFD) & FD_CLOEXEC);
    close(c);
    CHECK("ctl bad epfd", epoll_ctl(99, EPOLL_CTL_ADD, pfd[0], &e));
    CHECK("ctl bad fd", epoll_ctl(ep, EPOLL_CTL_ADD, 99, &e));
    CHECK("ctl regular file", epoll_ctl(ep, EPOLL_CTL_ADD, file, &e));
    CHECK("ctl epfd not epoll", epoll_ctl(pfd[1], EPOLL_CTL_ADD, pfd[0], &e));
    CHECK("ctl epfd on itself", epoll_ctl(ep, EPOLL_CTL_ADD, ep, &e));
    CHECK("ctl add", epoll_ctl(ep, EPOLL_CTL_ADD, pfd[0], &e));
    CHECK("ctl add again", epoll_ctl(ep, EPOLL_CTL_ADD, pfd[0], &e));
    CHECK("ctl mod absent", epoll_ctl(ep, EPOLL_CTL_MOD, pfd[1], &e));
    CHECK("ctl del absent", epoll_ctl(ep, EPOLL_CTL_DEL, pfd[1], &e));
    CHECK("ctl bad op", epoll_ctl(ep, 99, pfd[0], &e));
    CHECK("ctl bad event pointer", epoll_ctl(ep, EPOLL_CTL_MOD, pfd[0], (struct epoll_event *)8));
    CHECK("ctl del with no event", epoll_ctl(ep, EPOLL_CTL_DEL, pfd[0], NULL));
    e.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT;
    CHECK("ctl exclusive one-shot", epoll_ctl(ep, EPOLL_CTL_ADD, pfd[0], &e));
    CHECK("wait maxevents 0", epoll_wait(ep, out, 0, 0));
    CHECK("wait maxevents -1", epoll_wait(ep, out, -1, 0));
    CHECK("wait bad epfd", epoll_wait(99, out, 2, 0));
    CHECK("wait not epoll", epoll_wait(pfd[0], out, 2, 0));
    sigset_t set;
    sigemptyset(&set);
    CHECK("pwait bad sigsetsize", syscall(SYS_epoll_pwait, ep, out, 2, 0, &set, 4));
    add(ep, pfd[1], EPOLLOUT, 0);
    CHECK("wait bad events pointer", epoll_wait(ep, (struct epoll_event *)8, 2, 0));
    char b;
    CHECK("read of an epoll fd", read(ep, &b, 1));
    printf("lseek of an epoll fd: %ld\n", (long)lseek(ep, 0, SEEK_SET));
    close(ep), close(pfd[0]), close(pfd[1]), close(file);
}

static void level_edge_oneshot(void)
{
    int pfd[2], ep = epoll_create(1);
    char buf[16];
    pipe(pfd);
    printf("-- level\n");
    add(ep, pfd[0], EPOLLIN, 42);
    wait_show("empty pipe", ep, 8, 0);
    write(pfd[1], "abc", 3);
    wait_show("data", ep, 8, 0);
    wait_show("data still", ep, 8, 0);
    read(pfd[0], buf, sizeof buf);
    wait_show("drained", ep, 8, 0);
    add(ep, pfd[1], EPOLLOUT, 43);
    wait_show("write end", ep, 8, 0);
    wait_show("maxevents 1", ep, 1, 0);
    struct epoll_event e = { .events = EPOLLIN | EPOLLOUT, .data.u64 = 44 };
    printf("mod: %d\n", epoll_ctl(ep, EPOLL_CTL_MOD, pfd[1], &e));
    wait_show("write end modified", ep, 8, 0);
    printf("del: %d\n", epoll_ctl(ep, EPOLL_CTL_DEL, pfd[1], NULL));
    struct pollfd pf = { .fd = ep, .events = POLLIN };
    printf("poll of the instance, nothing ready: %d\n", poll(&pf, 1, 0));
    write(pfd[1], "x", 1);
    int n = poll(&pf, 1, 0);
    printf("poll of the instance, ready: %d %#x\n", n, pf.revents);
    close(pfd[1]);
    wait_show("writer gone", ep, 8, 0);
    close(pfd[0]), close(ep);

    printf("-- edge\n");
    ep = epoll_create1(0);
    pipe(pfd);
    add(ep, pfd[0], EPOLLIN | EPOLLET, 7);
    add(ep, pfd[1], EPOLLOUT | EPOLLET, 8);
    wait_show("write end once", ep, 8, 0);
    wait_show("then nothing", ep, 8, 0);
    write(pfd[1], "a", 1);
    wait_show("a byte", ep, 8, 0);
    wait_show("no new edge", ep, 8, 0);
    write(pfd[1], "b", 1);
    wait_show("another byte", ep, 8, 0);
    read(pfd[0], buf, 1);
    wait_show("a partial read", ep, 8, 0);
    read(pfd[0], buf, 1);
    write(pfd[1], "c", 1);
    wait_show("drained then a byte", ep, 8, 0);
    close(pfd[1]);
    wait_show("writer gone", ep, 8, 0);
    wait_show("then nothing", ep, 8, 0);
    close(pfd[0]), close(ep);

    printf("-- one-shot\n");
    ep = epoll_create1(0);
    pipe(pfd);
    add(ep, pfd[0], EPOLLIN | EPOLLONESHOT, 9);
    write(pfd[1], "a", 1);
    wait_show("first", ep, 8, 0);
    wait_show("disabled", ep, 8, 0);
    write(pfd[1], "b", 1);
    wait_show("disabled still", ep, 8, 0);
    e = (struct epoll_event){ .events = EPOLLIN | EPOLLONESHOT, .data.u64 = 10 };
    printf("mod: %d\n", epoll_ctl(ep, EPOLL_CTL_MOD, pfd[0], &e));
    wait_show("re-armed", ep, 8, 0);
    wait_show("disabled again", ep, 8, 0);
    close(pfd[0]), close(pfd[1]), close(ep);
}

static void waits(void)
{
    int pfd[2], ep = epoll_create1(0);
    struct epoll_event ev[2];
    struct timespec t0;
    pipe(pfd);
    add(ep, pfd[0], EPOLLIN, 5);
    printf("-- waits\n");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int n = epoll_wait(ep, ev, 2, 50);
    printf("50 ms timeout: %d, waited enough: %d\n", n, ms_since(&t0) >= 45);
    pid_t c = fork();
    if (c == 0) {
        usleep(50000);
        write(pfd[1], "x", 1);
        _exit(0);
    }
    n = epoll_wait(ep, ev, 2, -1);
    printf("woken by a child's write: %d %#x/%llu\n", n, n > 0 ? ev[0].events : 0,
           n > 0 ? (unsigned long long)ev[0].data.u64 : 0ull);
    waitpid(c, NULL, 0);
    char b;
    read(pfd[0], &b, 1);
    struct sigaction sa = { .sa_handler = on_usr1 };
    sigaction(SIGUSR1, &sa, NULL);
    pid_t parent = getpid();
    c = fork();
    if (c == 0) {
        usleep(50000);
        kill(parent, SIGUSR1);
        _exit(0);
    }
    errno = 0;
    n = epoll_wait(ep, ev, 2, 5000);
    printf("interrupted: %d %s, handler ran: %d\n", n, errname(errno), got_usr1 == SIGUSR1);
    waitpid(c, NULL, 0);
    /* epoll_pwait with SIGUSR1 blocked: the signal waits, the call times out. */
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    got_usr1 = 0;
    kill(getpid(), SIGUSR1);
    printf("handled at once: %d\n", got_usr1 == SIGUSR1);
    got_usr1 = 0;
    sigprocmask(SIG_BLOCK, &block, NULL);
    kill(getpid(), SIGUSR1);
    sigset_t none;
    sigemptyset(&none);
    errno = 0;
    n = epoll_pwait(ep, ev, 2, 1000, &none);
    printf("pwait unblocks the pending one: %d %s, handler ran: %d\n", n, errname(errno), got_usr1 == SIGUSR1);
    sigprocmask(SIG_UNBLOCK, &block, NULL);

    printf("-- close and fork\n");
    int d = dup(pfd[0]);
    write(pfd[1], "y", 1);
    close(pfd[0]);
    wait_show("a dup keeps the item", ep, 2, 0);
    CHECK("del through the dup", epoll_ctl(ep, EPOLL_CTL_DEL, d, NULL));
    c = fork();
    if (c == 0) {
        wait_show("child sees the instance", ep, 2, 0);
        _exit(0);
    }
    waitpid(c, NULL, 0);
    close(d);
    wait_show("file gone: item gone", ep, 2, 0);
    int q[2];
    pipe(q);
    add(ep, q[0], EPOLLIN, 6);
    close(q[0]);
    CHECK("the closed fd deleted", epoll_ctl(ep, EPOLL_CTL_DEL, q[0], NULL));
    close(q[1]), close(pfd[1]);

    printf("-- nested\n");
    int inner = epoll_create1(0), r[2];
    pipe(r);
    add(inner, r[0], EPOLLIN, 1);
    CHECK("inner added", add(ep, inner, EPOLLIN, 77));
    wait_show("inner empty", ep, 2, 0);
    write(r[1], "z", 1);
    wait_show("inner ready", ep, 2, 0);
    close(r[0]), close(r[1]), close(inner), close(ep);
}

static void sockets(void)
{
    printf("-- socket\n");
    int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(47321), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 4)) {
        printf("no listening socket: %s\n", errname(errno));
        return;
    }
    int ep = epoll_create1(0);
    add(ep, l, EPOLLIN, 1);
    wait_show("listening, nobody", ep, 4, 0);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    connect(c, (struct sockaddr *)&a, sizeof a);
    wait_show("a connection to accept", ep, 4, 2000);
    int s = accept4(l, NULL, NULL, SOCK_NONBLOCK);
    epoll_ctl(ep, EPOLL_CTL_DEL, l, NULL);
    add(ep, s, EPOLLIN | EPOLLET, 2);
    wait_show("accepted, no data", ep, 4, 0);
    send(c, "hello", 5, 0);
    wait_show("data", ep, 4, 2000);
    wait_show("no new edge", ep, 4, 0);
    char buf[16];
    long n = recv(s, buf, sizeof buf, 0);
    errno = 0;
    long m = recv(s, buf, sizeof buf, 0);
    printf("read %ld then %ld %s\n", n, m, errname(errno));
    send(c, "again", 5, 0);
    wait_show("more data", ep, 4, 2000);
    struct epoll_event e = { .events = EPOLLIN | EPOLLOUT, .data.u64 = 3 };
    epoll_ctl(ep, EPOLL_CTL_MOD, s, &e);
    wait_show("level: readable and writable", ep, 4, 0);
    wait_show("level: still", ep, 4, 0);
    close(c), close(s), close(l), close(ep);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    errors();
    level_edge_oneshot();
    waits();
    sockets();
    return 0;
}
