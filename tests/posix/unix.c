/*
 * AF_UNIX sockets (servers/posix/unix.c): socketpair of each type, a
 * bound path's server with a forked client, the abstract namespace,
 * SCM_RIGHTS, poll, shutdown and close, the error returns, and 1 MiB
 * through a stream.  Output compared with Linux (tests/system/posix.sh).
 */
#define _GNU_SOURCE
#include "common.h"

#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PATH1 "/tmp/unix-test.sock"
#define BIG   (1024 * 1024)

static volatile int sigpipes;
static void on_pipe(int s) { (void)s; sigpipes++; }

static void nap(long ms)
{
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000 };
    nanosleep(&t, NULL);
}

static socklen_t addr_of(struct sockaddr_un *a, const char *path, int abstract)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    if (abstract) {
        memcpy(a->sun_path + 1, path, strlen(path));
        return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(path));
    }
    strcpy(a->sun_path, path);
    return (socklen_t)sizeof *a;
}

static void errors(void)
{
    int sv[2];
    CHECK("socket SOCK_RDM", socket(AF_UNIX, SOCK_RDM, 0));
    CHECK("socket protocol 5", socket(AF_UNIX, SOCK_STREAM, 5));
    CHECK("socket bad flag", socket(AF_UNIX, SOCK_STREAM | 0x100, 0));
    CHECK("socketpair AF_INET", socketpair(AF_INET, SOCK_STREAM, 0, sv));
    int *volatile nowhere = (int *)8;   /* volatile: the compiler does not see through it */
    CHECK("socketpair EFAULT", socketpair(AF_UNIX, SOCK_STREAM, 0, nowhere));
    int s = socket(AF_UNIX, SOCK_STREAM, 0), d = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un a;
    char c = 'x';
    CHECK("listen unbound", listen(s, 1));
    CHECK("listen dgram", listen(d, 1));
    CHECK("accept not listening", accept(s, NULL, NULL));
    CHECK("accept dgram", accept(d, NULL, NULL));
    CHECK("read unconnected", read(s, &c, 1));
    CHECK("write unconnected", write(s, &c, 1));
    CHECK("send dgram unconnected", send(d, &c, 1, 0));
    CHECK("getpeername unconnected", getpeername(s, (struct sockaddr *)&a, &(socklen_t){ sizeof a }));
    CHECK("bind short", bind(s, (struct sockaddr *)&a, 1));
    a.sun_family = AF_INET;
    CHECK("bind wrong family", bind(s, (struct sockaddr *)&a, sizeof a));
    addr_of(&a, "/no/such/dir/sock", 0);
    CHECK("bind missing dir", bind(s, (struct sockaddr *)&a, sizeof a));
    CHECK("connect missing", connect(s, (struct sockaddr *)&a, sizeof a));
    addr_of(&a, "/etc/motd", 0);
    CHECK("bind existing file", bind(s, (struct sockaddr *)&a, sizeof a));
    CHECK("connect to a file", connect(s, (struct sockaddr *)&a, sizeof a));
    addr_of(&a, "pith-none", 1);
    CHECK("connect abstract none", connect(s, (struct sockaddr *)&a, addr_of(&a, "pith-none", 1)));
    CHECK("shutdown how 3", shutdown(s, 3));
    CHECK("setsockopt TCP level", setsockopt(s, 6, 1, &(int){ 1 }, sizeof(int)));
    CHECK("getsockopt unknown", getsockopt(s, SOL_SOCKET, 1000, &(int){ 0 }, &(socklen_t){ sizeof(int) }));
    CHECK("lseek", lseek(s, 0, SEEK_SET));
    struct stat st;
    fstat(s, &st);
    printf("fstat socket: %d\n", S_ISSOCK(st.st_mode));
    int type = 0;
    socklen_t len = sizeof type;
    getsockopt(d, SOL_SOCKET, SO_TYPE, &type, &len);
    printf("SO_TYPE dgram %d len %u\n", type, len);
    int buf = 8192;
    setsockopt(s, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    getsockopt(s, SOL_SOCKET, SO_SNDBUF, &buf, &len);
    printf("SO_SNDBUF after 8192: %d\n", buf);
    len = sizeof a;
    getsockname(s, (struct sockaddr *)&a, &len);
    printf("unbound name length %u\n", len);
    close(s), close(d);
}

static void pair_stream(void)
{
    int sv[2];
    char buf[64];
    CHECK("socketpair stream", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    write(sv[0], "hello", 5);
    write(sv[0], " world", 6);
    long n = read(sv[1], buf, sizeof buf);
    printf("read %ld: %.*s\n", n, (int)n, buf);
    struct ucred cr;
    socklen_t len = sizeof cr;
    getsockopt(sv[1], SOL_SOCKET, SO_PEERCRED, &cr, &len);
    printf("peercred pid is ours %d uid %d gid %d len %u\n", cr.pid == getpid(), cr.uid, cr.gid, len);
    struct iovec v[3] = { { "ab", 2 }, { "cde", 3 }, { "f", 1 } };
    printf("writev %ld\n", (long)writev(sv[1], v, 3));
    char x[2], y[10];
    struct iovec r[2] = { { x, 2 }, { y, sizeof y } };
    n = readv(sv[0], r, 2);
    printf("readv %ld: %.2s %.*s\n", n, x, (int)n - 2, y);
    write(sv[0], "peek", 4);
    n = recv(sv[1], buf, 2, MSG_PEEK);
    printf("peek %ld %.2s\n", n, buf);
    n = recv(sv[1], buf, sizeof buf, MSG_DONTWAIT);
    printf("recv %ld %.4s\n", n, buf);
    CHECK("recv empty MSG_DONTWAIT", recv(sv[1], buf, 1, MSG_DONTWAIT));
    CHECK("shutdown SHUT_WR", shutdown(sv[0], SHUT_WR));
    CHECK("read after peer SHUT_WR", read(sv[1], buf, 1));
    printf("read at EOF %ld\n", (long)read(sv[1], buf, 1));
    CHECK("write after SHUT_WR (MSG_NOSIGNAL)", send(sv[0], "z", 1, MSG_NOSIGNAL));
    printf("other way still open %ld\n", (long)write(sv[1], "ok", 2));
    printf("read it %ld\n", (long)read(sv[0], buf, 2));
    signal(SIGPIPE, on_pipe);
    close(sv[0]);
    CHECK("write to closed peer", write(sv[1], "z", 1));
    printf("SIGPIPE handled %d\n", sigpipes);
    close(sv[1]);

    /* A peer closed with bytes unread: a reset, once; then the end. */
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    write(sv[1], "unread", 6);
    close(sv[0]);
    CHECK("read after reset", read(sv[1], buf, 1));
    printf("then %ld\n", (long)read(sv[1], buf, 1));
    close(sv[1]);
}

static void pair_dgram(int type, const char *name)
{
    int sv[2];
    char buf[64];
    printf("-- %s\n", name);
    CHECK("socketpair", socketpair(AF_UNIX, type, 0, sv));
    send(sv[0], "one", 3, 0);
    send(sv[0], "three", 5, 0);
    send(sv[0], "x", 1, 0);
    printf("recv %ld\n", (long)recv(sv[1], buf, sizeof buf, 0));
    printf("recv MSG_TRUNC into 2: %ld\n", (long)recv(sv[1], buf, 2, MSG_TRUNC));
    struct iovec v = { buf, sizeof buf };
    struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1 };
    long k = recvmsg(sv[1], &m, 0);
    printf("recvmsg %ld flags %#x\n", k, m.msg_flags);
    send(sv[0], "longer", 6, 0);
    v.iov_len = 3;
    long n = recvmsg(sv[1], &m, 0);
    printf("recvmsg %ld truncated %d\n", n, !!(m.msg_flags & MSG_TRUNC));
    CHECK("recv empty MSG_DONTWAIT", recv(sv[1], buf, 1, MSG_DONTWAIT));
    int t = 0;
    getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &t, &(socklen_t){ sizeof t });
    printf("SO_TYPE %d\n", t);
    close(sv[0]);
    if (type == SOCK_SEQPACKET) {
        printf("after close: %ld\n", (long)recv(sv[1], buf, 1, 0));
        CHECK("send to closed", send(sv[1], "z", 1, MSG_NOSIGNAL));
    } else {
        CHECK("recv after close", recv(sv[1], buf, 1, MSG_DONTWAIT));
        CHECK("send to closed", send(sv[1], "z", 1, 0));
        CHECK("send again", send(sv[1], "z", 1, 0));
    }
    close(sv[1]);
}

static void path_server(void)
{
    struct sockaddr_un a, got;
    socklen_t len;
    char buf[64];
    unlink(PATH1);
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK("bind path", bind(l, (struct sockaddr *)&a, addr_of(&a, PATH1, 0)));
    CHECK("bind again", bind(l, (struct sockaddr *)&a, sizeof a));
    struct stat st;
    CHECK("stat bound path", stat(PATH1, &st));
    printf("is a socket %d\n", S_ISSOCK(st.st_mode));
    int other = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK("bind taken path", bind(other, (struct sockaddr *)&a, sizeof a));
    CHECK("connect before listen", connect(other, (struct sockaddr *)&a, sizeof a));
    int d = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK("listen", listen(l, 4));
    CHECK("connect dgram to stream", connect(d, (struct sockaddr *)&a, sizeof a));
    len = sizeof got;
    getsockname(l, (struct sockaddr *)&got, &len);
    printf("name %s length %u\n", got.sun_path, len);
    pid_t child = fork();
    if (!child) {
        int c = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(c, (struct sockaddr *)&a, sizeof a))
            _exit(1);
        struct ucred cr;
        getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &(socklen_t){ sizeof cr });
        write(c, "ping", 4);
        long n = read(c, buf, sizeof buf);
        printf("child: %.*s, server's pid %d\n", (int)n, buf, cr.pid == getppid());
        errno = 0;
        long r = connect(c, (struct sockaddr *)&a, sizeof a);
        printf("child: connect again: %s\n", r < 0 ? errname(errno) : "ok");
        len = sizeof got;
        getpeername(c, (struct sockaddr *)&got, &len);
        printf("child: peer %s\n", got.sun_path);
        fflush(stdout);
        _exit(0);
    }
    len = sizeof got;
    int s = accept(l, (struct sockaddr *)&got, &len);
    printf("accepted %d, client address length %u\n", s >= 0, len);
    struct ucred cr;
    getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &(socklen_t){ sizeof cr });
    printf("client's pid %d\n", cr.pid == child);
    long n = read(s, buf, sizeof buf);
    printf("server: %.*s\n", (int)n, buf);
    write(s, "pong", 4);
    int st2;
    waitpid(child, &st2, 0);
    printf("child status %d\n", WEXITSTATUS(st2));
    len = sizeof got;
    getsockname(s, (struct sockaddr *)&got, &len);
    printf("accepted socket's name %s\n", got.sun_path);
    printf("after the client's end: %ld\n", (long)read(s, buf, sizeof buf));
    close(s);

    /* A full backlog (0 lets one wait), nonblocking. */
    listen(l, 0);
    int c1 = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0), c2 = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK("connect 1", connect(c1, (struct sockaddr *)&a, sizeof a));
    CHECK("connect 2, backlog full", connect(c2, (struct sockaddr *)&a, sizeof a));
    CHECK("connect 1 again", connect(c1, (struct sockaddr *)&a, sizeof a));
    CHECK("sendto on a connected stream", sendto(c1, "x", 1, 0, (struct sockaddr *)&a, sizeof a));
    s = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    printf("accept4: nonblock %d cloexec %d\n", !!(fcntl(s, F_GETFL) & O_NONBLOCK), !!(fcntl(s, F_GETFD) & FD_CLOEXEC));
    CHECK("connect 2 now", connect(c2, (struct sockaddr *)&a, sizeof a));
    close(s), close(c1), close(c2);
    fcntl(l, F_SETFL, O_NONBLOCK);
    s = accept(l, NULL, NULL);          /* c2's, never accepted until now */
    printf("c2's connection: reads %ld\n", (long)read(s, buf, 1));
    close(s);
    CHECK("accept nothing waiting", accept(l, NULL, NULL));
    close(l);
    CHECK("connect to a closed socket's path", connect(other, (struct sockaddr *)&a, sizeof a));
    CHECK("bind a closed socket's path", bind(other, (struct sockaddr *)&a, sizeof a));
    CHECK("unlink", unlink(PATH1));
    CHECK("connect after unlink", connect(other, (struct sockaddr *)&a, sizeof a));
    CHECK("bind after unlink", bind(other, (struct sockaddr *)&a, sizeof a));
    close(other), close(d);
    unlink(PATH1);
}

static void abstract(void)
{
    struct sockaddr_un a, b, got;
    socklen_t la = addr_of(&a, "pith-unix-test", 1), lb = addr_of(&b, "pith-unix-client", 1), len;
    char buf[64];
    int l = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    CHECK("bind abstract", bind(l, (struct sockaddr *)&a, la));
    int x = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK("bind abstract, another type", bind(x, (struct sockaddr *)&a, la));   /* each type has its own */
    int y = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    CHECK("bind abstract taken", bind(y, (struct sockaddr *)&a, la));
    close(y);
    listen(l, 2);
    CHECK("connect stream to seqpacket", connect(x, (struct sockaddr *)&a, la));
    int c = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    CHECK("connect abstract", connect(c, (struct sockaddr *)&a, la));
    int s = accept(l, NULL, NULL);
    len = sizeof got;
    getsockname(s, (struct sockaddr *)&got, &len);
    printf("abstract name length %u: %.*s\n", len, (int)(len - 3), got.sun_path + 1);
    send(c, "msg one", 7, 0);
    send(c, "two", 3, 0);
    printf("seqpacket %ld ", (long)recv(s, buf, sizeof buf, 0));
    printf("%ld\n", (long)recv(s, buf, sizeof buf, 0));
    close(c), close(s), close(l), close(x);
    l = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK("abstract name free after close", bind(l, (struct sockaddr *)&a, la));
    close(l);

    /* Datagrams by name: the sender's name comes with them; autobind. */
    int d = socket(AF_UNIX, SOCK_DGRAM, 0), e = socket(AF_UNIX, SOCK_DGRAM, 0);
    bind(d, (struct sockaddr *)&a, la);
    bind(e, (struct sockaddr *)&b, lb);
    sendto(e, "hi", 2, 0, (struct sockaddr *)&a, la);
    len = sizeof got;
    long n = recvfrom(d, buf, sizeof buf, 0, (struct sockaddr *)&got, &len);
    printf("recvfrom %ld from %.*s (length %u)\n", n, (int)(len - 3), got.sun_path + 1, len);
    int u = socket(AF_UNIX, SOCK_DGRAM, 0);
    sendto(u, "anon", 4, 0, (struct sockaddr *)&a, la);
    len = sizeof got;
    n = recvfrom(d, buf, sizeof buf, 0, (struct sockaddr *)&got, &len);
    printf("from an unnamed socket: %ld, address length %u\n", n, len);
    CHECK("autobind", bind(u, (struct sockaddr *)&(sa_family_t){ AF_UNIX }, sizeof(sa_family_t)));
    len = sizeof got;
    getsockname(u, (struct sockaddr *)&got, &len);
    printf("autobound name length %u, abstract %d\n", len, got.sun_path[0] == 0);
    CHECK("connect dgram", connect(u, (struct sockaddr *)&a, la));
    send(u, "conn", 4, 0);
    n = recv(d, buf, sizeof buf, 0);
    printf("connected dgram: %ld %.4s\n", n, buf);
    close(d), close(e), close(u);
}

static int send_fds(int s, const int *fds, int n)
{
    char cbuf[CMSG_SPACE(4 * sizeof(int))];
    memset(cbuf, 0, sizeof cbuf);
    struct iovec v = { "F", 1 };
    struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1, .msg_control = cbuf,
                        .msg_controllen = CMSG_SPACE(n * sizeof(int)) };
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET, c->cmsg_type = SCM_RIGHTS, c->cmsg_len = CMSG_LEN(n * sizeof(int));
    memcpy(CMSG_DATA(c), fds, n * sizeof(int));
    return (int)sendmsg(s, &m, 0);
}

/* A recvmsg with room for the control bytes given: the descriptors received (count), its flags. */
static int recv_fds(int s, int *fds, size_t room, int *flags, size_t *clen)
{
    char cbuf[CMSG_SPACE(4 * sizeof(int))], c1;
    struct iovec v = { &c1, 1 };
    struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1, .msg_control = room ? cbuf : NULL, .msg_controllen = room };
    if (recvmsg(s, &m, 0) < 0)
        return -1;
    *flags = m.msg_flags, *clen = m.msg_controllen;
    int n = 0;
    for (struct cmsghdr *c = room ? CMSG_FIRSTHDR(&m) : NULL; c; c = CMSG_NXTHDR(&m, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
            for (size_t k = 0; k < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); k++)
                memcpy(&fds[n++], CMSG_DATA(c) + k * sizeof(int), sizeof(int));
    return n;
}

static void rights(void)
{
    int sv[2], pp[2], got[4], flags;
    size_t clen;
    char buf[32];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    pipe(pp);
    pid_t child = fork();
    if (!child) {
        close(pp[1]);
        int n = recv_fds(sv[1], got, CMSG_SPACE(sizeof(int)), &flags, &clen);
        printf("child: %d descriptor, flags %#x, controllen %zu\n", n, flags, clen);
        long w = n == 1 ? write(got[0], "through the pipe", 16) : -1;
        printf("child: wrote %ld\n", w);
        fflush(stdout);
        _exit(0);
    }
    CHECK("sendmsg a pipe's end", send_fds(sv[0], &pp[1], 1));
    close(pp[1]);
    waitpid(child, NULL, 0);
    long n = read(pp[0], buf, sizeof buf);
    printf("parent read %ld: %.*s\n", n, (int)n, buf);
    printf("then EOF %ld\n", (long)read(pp[0], buf, sizeof buf));
    close(pp[0]);

    /* Too little room: MSG_CTRUNC, the rest closed. */
    pipe(pp);
    int two[2] = { pp[0], pp[1] };
    send_fds(sv[0], two, 2);
    n = recv_fds(sv[1], got, CMSG_LEN(sizeof(int)), &flags, &clen);
    printf("room for one: %ld, ctrunc %d, controllen %zu\n", n, !!(flags & MSG_CTRUNC), clen);
    send_fds(sv[0], two, 2);
    n = recv_fds(sv[1], got + 1, 0, &flags, &clen);
    printf("no room: %ld, ctrunc %d\n", n, !!(flags & MSG_CTRUNC));
    send_fds(sv[0], two, 2);
    n = recv_fds(sv[1], got + 1, CMSG_SPACE(2 * sizeof(int)), &flags, &clen);
    printf("room for two: %ld, ctrunc %d, controllen %zu\n", n, !!(flags & MSG_CTRUNC), clen);
    close(pp[0]), close(pp[1]);
    write(got[2], "xy", 2);
    printf("received ends work: %ld\n", (long)read(got[1], buf, 2));
    close(got[0]), close(got[1]), close(got[2]);
    int bad = 999;
    CHECK("sendmsg a bad descriptor", send_fds(sv[0], &bad, 1));
    close(sv[0]), close(sv[1]);
}

static void polling(void)
{
    struct sockaddr_un a;
    socklen_t la = addr_of(&a, "pith-unix-poll", 1);
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    bind(l, (struct sockaddr *)&a, la);
    listen(l, 4);
    struct pollfd p = { l, POLLIN, 0 };
    printf("poll listening, none: %d\n", poll(&p, 1, 0));
    pid_t child = fork();
    if (!child) {
        nap(50);
        int c = socket(AF_UNIX, SOCK_STREAM, 0);
        connect(c, (struct sockaddr *)&a, la);
        nap(50);
        write(c, "late", 4);
        nap(50);
        _exit(0);
    }
    int r = poll(&p, 1, 5000);
    printf("poll listening: %d revents %#x\n", r, p.revents);
    int s = accept(l, NULL, NULL);
    char buf[8];
    long n;
    n = read(s, buf, sizeof buf);       /* blocks until the child writes */
    printf("blocking read %ld %.4s\n", n, buf);
    p = (struct pollfd){ s, POLLIN | POLLOUT, 0 };
    r = poll(&p, 1, 5000);
    printf("poll connected: %d revents %#x\n", r, p.revents);
    p.events = POLLIN;
    r = poll(&p, 1, 5000);              /* wakes when the child ends */
    printf("poll after the peer's end: %d revents %#x\n", r, p.revents);
    waitpid(child, NULL, 0);
    close(s);

    /* A blocking accept of a later connection, and a fresh socket's readiness. */
    child = fork();
    if (!child) {
        nap(50);
        int c = socket(AF_UNIX, SOCK_STREAM, 0);
        connect(c, (struct sockaddr *)&a, la);
        _exit(0);
    }
    s = accept(l, NULL, NULL);
    printf("blocking accept %d\n", s >= 0);
    waitpid(child, NULL, 0);
    close(s), close(l);
    /* MSG_WAITALL across writes 50 ms apart, and cut short by the end. */
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    child = fork();
    if (!child) {
        write(sv[1], "abc", 3);
        nap(50);
        write(sv[1], "defg", 4);
        nap(50);
        write(sv[1], "hi", 2);
        _exit(0);
    }
    close(sv[1]);
    n = recv(sv[0], buf, 7, MSG_WAITALL);
    printf("MSG_WAITALL %ld %.7s\n", n, buf);
    n = recv(sv[0], buf, sizeof buf, MSG_WAITALL);
    printf("MSG_WAITALL to the end %ld %.2s\n", n, buf);
    waitpid(child, NULL, 0);
    close(sv[0]);
    s = socket(AF_UNIX, SOCK_STREAM, 0);
    p = (struct pollfd){ s, POLLIN | POLLOUT, 0 };
    r = poll(&p, 1, 0);
    printf("fresh socket: %d revents %#x\n", r, p.revents);
    close(s);
}

static void big(void)
{
    int sv[2];
    CHECK("socketpair for 1 MiB", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    pid_t child = fork();
    if (!child) {
        close(sv[0]);
        static unsigned char data[BIG];
        for (int i = 0; i < BIG; i++)
            data[i] = (unsigned char)(i * 7 + i / 4096);
        /* Nonblocking, waiting in poll when full: writes cut short. */
        fcntl(sv[1], F_SETFL, O_NONBLOCK);
        long off = 0, partial = 0;
        while (off < BIG) {
            long w = write(sv[1], data + off, BIG - off);
            if (w < 0 && errno == EAGAIN) {
                struct pollfd p = { sv[1], POLLOUT, 0 };
                poll(&p, 1, 5000);
                continue;
            }
            if (w <= 0)
                _exit(2);
            partial += w < BIG - off;
            off += w;
        }
        /* And blocking: one write of it all. */
        fcntl(sv[1], F_SETFL, 0);
        long w = write(sv[1], data, BIG);
        printf("child: partial writes %d, blocking write %ld\n", partial > 0, w);
        fflush(stdout);
        _exit(0);
    }
    close(sv[1]);
    static unsigned char got[2 * BIG];
    long total = 0, n;
    while ((n = read(sv[0], got + total, sizeof got - total)) > 0)
        total += n;
    uint32_t sum = 0, want = 0;
    for (long i = 0; i < 2 * BIG; i++) {
        sum = sum * 31 + got[i];
        want = want * 31 + (unsigned char)((i % BIG) * 7 + (i % BIG) / 4096);
    }
    waitpid(child, NULL, 0);
    printf("received %ld, checksum %s\n", total, sum == want ? "ok" : "wrong");
    close(sv[0]);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    errors();
    pair_stream();
    pair_dgram(SOCK_DGRAM, "dgram");
    pair_dgram(SOCK_SEQPACKET, "seqpacket");
    path_server();
    abstract();
    rights();
    polling();
    big();
    return 0;
}
