/*
 * AF_INET sockets over loopback (127.0.0.1): socket's refusals; TCP
 * bind, listen, accept, accept4, connect (blocking, refused, non-blocking
 * with poll and SO_ERROR), 64 KiB through one send and recv loops,
 * MSG_WAITALL, MSG_PEEK, sendmsg and recvmsg with iovecs, shutdown and
 * EPIPE with and without SIGPIPE, dup, fcntl O_NONBLOCK, poll and
 * select; UDP sendto, recvfrom, connect, truncation and EMSGSIZE;
 * options; a process's sockets released when it ends; and the errors
 * of each call.  Ports 47001-47030.
 */
#define _GNU_SOURCE
#include "common.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define BIG 65536

static struct sockaddr_in at(int port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static int bind_to(int fd, int port)
{
    struct sockaddr_in a = at(port);
    return bind(fd, (struct sockaddr *)&a, sizeof a);
}

static int connect_to(int fd, int port)
{
    struct sockaddr_in a = at(port);
    return connect(fd, (struct sockaddr *)&a, sizeof a);
}

static int revents(int fd, short events, int timeout)
{
    struct pollfd p = { .fd = fd, .events = events };
    int n = poll(&p, 1, timeout);
    return n < 0 ? -errno : n ? p.revents : 0;
}

static int sockopt(int fd, int level, int name)
{
    int v = -1;
    socklen_t len = sizeof v;
    return getsockopt(fd, level, name, &v, &len) < 0 ? -errno : v;
}

static volatile sig_atomic_t got_pipe;
static void on_pipe(int sig) { got_pipe = sig; }

static unsigned char big[BIG], back[BIG];

static void refusals(void)
{
    int file = open("/etc/motd", O_RDONLY);
    struct sockaddr_in a = at(47001);
    CHECK("socket family 200", socket(200, SOCK_STREAM, 0));
    CHECK("socket stream udp", socket(AF_INET, SOCK_STREAM, IPPROTO_UDP));
    CHECK("socket dgram tcp", socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP));
    CHECK("socket seqpacket", socket(AF_INET, SOCK_SEQPACKET, 0));
    CHECK("socket type 99", socket(AF_INET, 99, 0));
    CHECK("socket bad flag", socket(AF_INET, SOCK_STREAM | O_APPEND, 0));
    CHECK("bind a file", bind(file, (struct sockaddr *)&a, sizeof a));
    CHECK("listen a file", listen(file, 1));
    CHECK("connect a file", connect(file, (struct sockaddr *)&a, sizeof a));
    CHECK("bind fd 99", bind(99, (struct sockaddr *)&a, sizeof a));
    CHECK("getsockname fd 99", getsockname(99, NULL, NULL));
    CHECK("setsockopt a file", setsockopt(file, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int)));
    close(file);
}

static void tcp(void)
{
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    printf("cloexec: %d\n", fcntl(l, F_GETFD) & FD_CLOEXEC);
    CHECK("SO_REUSEADDR", setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int)));
    printf("SO_REUSEADDR is %d, SO_TYPE %d, SO_ERROR %d\n", sockopt(l, SOL_SOCKET, SO_REUSEADDR),
           sockopt(l, SOL_SOCKET, SO_TYPE), sockopt(l, SOL_SOCKET, SO_ERROR));
    struct sockaddr_in a = at(47001);
    CHECK("bind short", bind(l, (struct sockaddr *)&a, 8));
    a.sin_family = AF_INET6;
    CHECK("bind family", bind(l, (struct sockaddr *)&a, sizeof a));
    CHECK("bind 47001", bind_to(l, 47001));
    CHECK("bind again", bind_to(l, 47002));
    int other = socket(AF_INET, SOCK_STREAM, 0);
    CHECK("listen", listen(l, 4));
    CHECK("bind in use", bind_to(other, 47001));
    close(other);
    printf("SO_ACCEPTCONN %d\n", sockopt(l, SOL_SOCKET, SO_ACCEPTCONN));
    struct sockaddr_in got;
    socklen_t len = sizeof got;
    CHECK("getsockname", getsockname(l, (struct sockaddr *)&got, &len));
    printf("listening on %s:%d (len %u)\n", inet_ntoa(got.sin_addr), ntohs(got.sin_port), len);
    fcntl(l, F_SETFL, O_NONBLOCK);
    CHECK("accept nonblocking", accept(l, NULL, NULL));
    fcntl(l, F_SETFL, 0);

    int c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK("getpeername unconnected", getpeername(c, (struct sockaddr *)&got, &len));
    CHECK("recv unconnected", recv(c, back, 1, 0));
    CHECK("send unconnected", send(c, "x", 1, MSG_NOSIGNAL));
    CHECK("shutdown unconnected", shutdown(c, SHUT_WR));
    CHECK("accept not listening", accept(c, NULL, NULL));
    CHECK("connect refused", connect_to(c, 47002));
    close(c);

    int s;
    c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK("TCP_NODELAY", setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int)));
    printf("TCP_NODELAY is %d\n", sockopt(c, IPPROTO_TCP, TCP_NODELAY));
    CHECK("connect", connect_to(c, 47001));
    CHECK("connect again", connect_to(c, 47001));
    CHECK("connect listening", connect_to(l, 47001));
    struct sockaddr_in peer, mine;
    len = sizeof peer;
    s = accept(l, (struct sockaddr *)&peer, &len);
    printf("accept: %s, from %s (len %u)\n", s >= 0 ? "ok" : errname(errno), inet_ntoa(peer.sin_addr), len);
    len = sizeof mine;
    getsockname(c, (struct sockaddr *)&mine, &len);
    printf("peer's port is the client's: %d\n", peer.sin_port == mine.sin_port);
    len = sizeof got;
    CHECK("getpeername", getpeername(c, (struct sockaddr *)&got, &len));
    printf("client's peer %s:%d\n", inet_ntoa(got.sin_addr), ntohs(got.sin_port));
    CHECK("lseek", lseek(s, 0, SEEK_SET));
    struct stat st;
    printf("fstat: %s, a socket: %d\n", fstat(s, &st) ? errname(errno) : "ok", S_ISSOCK(st.st_mode));
    CHECK("recv nothing, MSG_DONTWAIT", recv(s, back, 10, MSG_DONTWAIT));
    printf("poll idle: %#x, client out: %#x\n", revents(s, POLLIN, 0), revents(c, POLLOUT, 0));

    /* 64 KiB in one send from a child, taken by recv in a loop here (blocking both ways). */
    for (int i = 0; i < BIG; i++)
        big[i] = (unsigned char)(i * 7 + i / 256);
    pid_t child = fork();
    if (child == 0) {
        close(s);
        long n = send(c, big, BIG, 0);
        usleep(50000);
        write(c, big, 1000);
        usleep(50000);
        write(c, big + 1000, 2000);
        _exit(n == BIG ? 0 : 1);
    }
    long got_bytes = 0, calls = 0;
    while (got_bytes < BIG) {
        long n = recv(s, back + got_bytes, BIG - (size_t)got_bytes, 0);
        if (n <= 0)
            break;
        got_bytes += n, calls++;
    }
    printf("64 KiB received: %ld bytes, same: %d\n", got_bytes, memcmp(big, back, BIG) == 0);
    long n = recv(s, back, 3000, MSG_WAITALL);
    printf("MSG_WAITALL: %ld, same: %d\n", n, memcmp(big, back, 3000) == 0);
    int status;
    waitpid(child, &status, 0);
    printf("child's send of 64 KiB whole: %d\n", WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* iovecs both ways, MSG_PEEK, and poll and select seeing the data. */
    struct iovec out[3] = { { "abc", 3 }, { "defg", 4 }, { "hi", 2 } };
    struct msghdr m = { .msg_iov = out, .msg_iovlen = 3 };
    printf("sendmsg: %ld\n", (long)sendmsg(c, &m, 0));
    printf("poll data: %#x\n", revents(s, POLLIN, 1000));
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(s, &rd);
    struct timeval tv = { 1, 0 };
    printf("select: %d, set: %d\n", select(s + 1, &rd, NULL, NULL, &tv), FD_ISSET(s, &rd) != 0);
    char p1[4] = { 0 }, p2[16] = { 0 };
    printf("peek: %ld\n", (long)recv(s, p1, 3, MSG_PEEK));
    struct iovec in[2] = { { p1, 4 }, { p2, 10 } };
    struct msghdr mi = { .msg_iov = in, .msg_iovlen = 2 };
    printf("recvmsg: %ld '%.4s' '%s' flags %d\n", (long)recvmsg(s, &mi, 0), p1, p2, mi.msg_flags);

    /* dup, O_NONBLOCK through fcntl, the end of the stream, EPIPE. */
    int d = dup(s);
    close(s);
    CHECK("send to the dup", send(c, "dup", 3, 0));
    memset(p2, 0, sizeof p2);
    printf("recv from the dup: %ld '%s'\n", (long)recv(d, p2, sizeof p2, 0), p2);
    fcntl(d, F_SETFL, fcntl(d, F_GETFL) | O_NONBLOCK);
    printf("O_NONBLOCK: %d\n", (fcntl(d, F_GETFL) & O_NONBLOCK) != 0);
    CHECK("recv nonblocking", recv(d, p2, 1, 0));
    CHECK("shutdown how 7", shutdown(c, 7));
    CHECK("shutdown SHUT_WR", shutdown(c, SHUT_WR));
    printf("poll end: %#x\n", revents(d, POLLIN, 1000) & POLLIN);
    printf("recv at the end: %ld\n", (long)recv(d, p2, 1, 0));
    CHECK("send after SHUT_WR, MSG_NOSIGNAL", send(c, "x", 1, MSG_NOSIGNAL));
    signal(SIGPIPE, on_pipe);
    CHECK("write after SHUT_WR", write(c, "x", 1));
    printf("SIGPIPE: %d\n", got_pipe == SIGPIPE);
    CHECK("send the other way", send(d, "back", 4, 0));
    memset(p2, 0, sizeof p2);
    printf("client reads: %ld '%s'\n", (long)read(c, p2, sizeof p2), p2);
    close(c);
    close(d);

    /* Non-blocking connect: EINPROGRESS, POLLOUT, SO_ERROR 0, EISCONN; refused: POLLERR, ECONNREFUSED once. */
    c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK("connect nonblocking", connect_to(c, 47001));
    printf("poll connected: %#x\n", revents(c, POLLOUT, 1000) & (POLLOUT | POLLERR));
    printf("SO_ERROR %d\n", sockopt(c, SOL_SOCKET, SO_ERROR));
    CHECK("connect done", connect_to(c, 47001));
    printf("poll listener: %#x\n", revents(l, POLLIN, 1000));
    len = sizeof peer;
    s = accept4(l, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    printf("accept4: %s, nonblocking %d, cloexec %d\n", s >= 0 ? "ok" : errname(errno),
           (fcntl(s, F_GETFL) & O_NONBLOCK) != 0, fcntl(s, F_GETFD) & FD_CLOEXEC);
    CHECK("recv accept4's", recv(s, p2, 1, 0));
    close(s);
    close(c);
    c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK("connect nonblocking refused", connect_to(c, 47002));
    printf("poll refused: %#x\n", revents(c, POLLOUT, 1000) & (POLLOUT | POLLERR));
    int first = sockopt(c, SOL_SOCKET, SO_ERROR);
    printf("SO_ERROR %s, then %d\n", errname(first), sockopt(c, SOL_SOCKET, SO_ERROR));
    close(c);

    /* A blocking accept, the connection made by a child 50 ms later. */
    child = fork();
    if (child == 0) {
        usleep(50000);
        int k = socket(AF_INET, SOCK_STREAM, 0);
        _exit(connect_to(k, 47001) == 0 && send(k, "late", 4, 0) == 4 ? 0 : 1);
    }
    s = accept(l, NULL, NULL);
    memset(p2, 0, sizeof p2);
    printf("blocking accept: %s, reads '%s'\n", s >= 0 ? "ok" : errname(errno),
           recv(s, p2, 4, MSG_WAITALL) == 4 ? p2 : "?");
    waitpid(child, &status, 0);
    printf("child connected: %d\n", WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(s);
    close(l);
    CHECK("close again", close(l));
}

static void udp(void)
{
    int u = socket(AF_INET, SOCK_DGRAM, 0), v = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    CHECK("bind 47010", bind_to(u, 47010));
    CHECK("bind 47011", bind_to(v, 47011));
    CHECK("listen udp", listen(u, 1));
    CHECK("accept udp", accept(u, NULL, NULL));
    CHECK("send unconnected", send(u, "x", 1, 0));
    CHECK("getpeername unconnected", getpeername(u, NULL, NULL));
    CHECK("recvfrom nothing", recvfrom(v, back, 10, MSG_DONTWAIT, NULL, NULL));
    struct sockaddr_in to = at(47011), from;
    printf("sendto: %ld\n", (long)sendto(u, "hello", 5, 0, (struct sockaddr *)&to, sizeof to));
    printf("sendto 928: %ld\n", (long)sendto(u, big, 928, 0, (struct sockaddr *)&to, sizeof to));
    CHECK("sendto 65536", sendto(u, big, BIG, 0, (struct sockaddr *)&to, sizeof to));
    socklen_t len = sizeof from;
    char b[16] = { 0 };
    printf("poll datagram: %#x\n", revents(v, POLLIN, 1000) & POLLIN);
    long n = recvfrom(v, b, sizeof b, 0, (struct sockaddr *)&from, &len);
    printf("recvfrom: %ld '%s' from %s:%d\n", n, b, inet_ntoa(from.sin_addr), ntohs(from.sin_port));
    n = recv(v, back, 100, MSG_PEEK);
    /* (printf's arguments may be evaluated in any order: one call at a time) */
    printf("peek: %ld, then cut with MSG_TRUNC: %ld\n", n, (long)recv(v, back, 100, MSG_TRUNC));
    CHECK("connect udp", connect_to(u, 47011));
    CHECK("send connected", send(u, "0123456789", 10, 0));
    struct iovec in = { b, 4 };
    struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &in, .msg_iovlen = 1 };
    n = recvmsg(v, &m, 0);
    printf("recvmsg: %ld, truncated %d, name %u\n", n, (m.msg_flags & MSG_TRUNC) != 0, m.msg_namelen);
    CHECK("shutdown connected udp", shutdown(u, SHUT_RDWR));
    CHECK("SO_BROADCAST", setsockopt(u, SOL_SOCKET, SO_BROADCAST, &(int){ 1 }, sizeof(int)));
    printf("SO_BROADCAST %d, SO_TYPE %d\n", sockopt(u, SOL_SOCKET, SO_BROADCAST), sockopt(u, SOL_SOCKET, SO_TYPE));
    close(u);
    close(v);
    /* (Linux marks it shut down all the same: a socket of its own) */
    u = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK("shutdown unconnected", shutdown(u, SHUT_RDWR));
    close(u);
}

static void options(void)
{
    int t = socket(AF_INET, SOCK_STREAM, 0);
    CHECK("SO_RCVBUF 8192", setsockopt(t, SOL_SOCKET, SO_RCVBUF, &(int){ 8192 }, sizeof(int)));
    CHECK("SO_SNDBUF 8192", setsockopt(t, SOL_SOCKET, SO_SNDBUF, &(int){ 8192 }, sizeof(int)));
    printf("SO_RCVBUF %d, SO_SNDBUF %d\n", sockopt(t, SOL_SOCKET, SO_RCVBUF), sockopt(t, SOL_SOCKET, SO_SNDBUF));
    CHECK("setsockopt unknown", setsockopt(t, SOL_SOCKET, 9999, &(int){ 1 }, sizeof(int)));
    CHECK("setsockopt short", setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, 1));
    CHECK("setsockopt bad pointer", setsockopt(t, SOL_SOCKET, SO_REUSEADDR, (void *)8, sizeof(int)));
    CHECK("getsockopt unknown", getsockopt(t, SOL_SOCKET, 9999, &(int){ 0 }, &(socklen_t){ 4 }));
    close(t);
}

/* A process's sockets go when it ends: its listening port is free again; and sockets never run out. */
static void lifetime(void)
{
    pid_t child = fork();
    if (child == 0) {
        int l = socket(AF_INET, SOCK_STREAM, 0);
        _exit(bind_to(l, 47020) == 0 && listen(l, 1) == 0 ? 0 : 1);
    }
    int status;
    waitpid(child, &status, 0);
    printf("child listened: %d\n", WIFEXITED(status) && WEXITSTATUS(status) == 0);
    int l = socket(AF_INET, SOCK_STREAM, 0);
    CHECK("bind its port after its end", bind_to(l, 47020));
    close(l);
    int opened = 0;
    for (int round = 0; round < 3; round++) {
        int fds[40];
        for (int i = 0; i < 40; i++)
            opened += (fds[i] = socket(AF_INET, i % 2 ? SOCK_DGRAM : SOCK_STREAM, 0)) >= 0;
        for (int i = 0; i < 40; i++)
            close(fds[i]);
    }
    printf("120 sockets opened and closed: %d\n", opened);
}

/* The accepting side closes first: its port's end of the connection waits in TIME-WAIT, which
 * only SO_REUSEADDR (busybox nc -l sets it) lets a new socket bind past. */
static void time_wait(void)
{
    int on = 1, l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    bind_to(l, 47030);
    listen(l, 1);
    connect_to(c, 47030);
    int a = accept(l, NULL, NULL);
    close(l);
    close(a);                           /* first: the FIN is ours */
    char b;
    printf("the other end reads the end: %ld\n", (long)read(c, &b, 1));
    close(c);
    int n = socket(AF_INET, SOCK_STREAM, 0);
    CHECK("bind in TIME-WAIT without SO_REUSEADDR", bind_to(n, 47030));
    close(n);
    n = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(n, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    CHECK("bind in TIME-WAIT with SO_REUSEADDR", bind_to(n, 47030));
    CHECK("listen there", listen(n, 1));
    close(n);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    refusals();
    tcp();
    udp();
    options();
    lifetime();
    time_wait();
    return 0;
}
