/*
 * TCP ping-pong over loopback between two processes: the parent sends a
 * 64-byte message, the forked child answers it with each byte plus one,
 * N times with blocking recv, then N times waiting in poll before each
 * recv.  Every answer is checked; the mean round trip of each half is
 * printed (how soon a blocked socket call or poll wakes when its socket
 * becomes ready: docs/posix.md).  Not compared with Linux (the times
 * differ): tests/system/posix.sh checks the "ok" line and shows it.
 * Usage: tcprtt [N] (100 by default).  Port 47100.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PORT 47100
#define MSG  64

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000ll + t.tv_nsec;
}

/* Reads exactly n bytes (optionally waiting in poll first); 0, or -1 on an error or the end. */
static int get(int fd, unsigned char *buf, int n, int use_poll)
{
    for (int got = 0; got < n;) {
        if (use_poll) {
            struct pollfd p = { .fd = fd, .events = POLLIN };
            if (poll(&p, 1, 10000) != 1 || !(p.revents & POLLIN))
                return -1;
        }
        ssize_t k = recv(fd, buf + got, (size_t)(n - got), 0);
        if (k <= 0)
            return -1;
        got += (int)k;
    }
    return 0;
}

static int put(int fd, const unsigned char *buf, int n)
{
    return send(fd, buf, (size_t)n, 0) == n ? 0 : -1;
}

static int echo_child(int n)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a))
        return 2;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    unsigned char buf[MSG];
    for (int i = 0; i < 2 * n; i++) {
        if (get(fd, buf, MSG, i >= n))
            return 3;
        for (int k = 0; k < MSG; k++)
            buf[k]++;
        if (put(fd, buf, MSG))
            return 4;
    }
    close(fd);
    return 0;
}

/* n round trips on fd; the mean in microseconds, or -1 on a wrong or missing answer. */
static long long rounds(int fd, int n, int use_poll, int base)
{
    unsigned char out[MSG], in[MSG];
    long long t0 = now_ns();
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < MSG; k++)
            out[k] = (unsigned char)(base + i + k);
        if (put(fd, out, MSG) || get(fd, in, MSG, use_poll))
            return -1;
        for (int k = 0; k < MSG; k++)
            if (in[k] != (unsigned char)(out[k] + 1))
                return -1;
    }
    return (now_ns() - t0) / n / 1000;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 100, one = 1;
    if (n < 1 || n > 100000)
        n = 100;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 1)) {
        printf("tcprtt: cannot listen\n");
        return 1;
    }
    pid_t child = fork();
    if (child == 0)
        _exit(echo_child(n));
    int c = accept(l, NULL, NULL);
    if (c < 0) {
        printf("tcprtt: accept failed\n");
        return 1;
    }
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    long long blocking = rounds(c, n, 0, 0), polled = blocking < 0 ? -1 : rounds(c, n, 1, 7);
    close(c);
    close(l);
    int status = -1;
    waitpid(child, &status, 0);
    if (blocking < 0 || polled < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
        printf("tcprtt: FAILED (blocking %lld, poll %lld, child status %#x)\n", blocking, polled, status);
        return 1;
    }
    printf("tcprtt: %d round trips ok; mean round trip %lld us blocking in recv, %lld us waiting in poll\n", 2 * n,
           blocking, polled);
    return 0;
}
