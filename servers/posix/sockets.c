/*
 * Linux sockets (AF_INET, stream and datagram) over the network server's
 * socket protocol (/svc/net, servers/net/socket.idl; docs/posix.md).  A
 * socket descriptor's open file description holds the network server's
 * socket number (ofile.ino); what Linux keeps that the protocol does not
 * (bound, listening, options, a failed connect's error, bytes received
 * but not yet read) is in socks[], indexed by that number.
 *
 * This server is one thread for every process, so it never waits inside
 * /svc/net: it asks with timeout 0 (recv, accept), trysend and
 * connect_begin, and reads readiness with status.  A call that would
 * block keeps its answer like nanosleep (the process's sleeper) and is
 * answered by making the process issue the same system call again (its
 * registers rewound over the syscall instruction) when the network
 * server signals the notification bound to our thread (socket.idl's
 * watch: one of our sockets may have changed), or after FALLBACK_NS in
 * case a signal was missed (RETRY_NS if the server took no watch); the
 * bytes already moved by a long send or a MSG_WAITALL receive are kept in
 * retries[] so the call goes on where it was.  Data moves at most 928
 * bytes per message, so longer sends and receives loop.
 */
#include "personality.h"
#include "netsock.h"
#include "resolver.h"
#include "socket.h"
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>

/* Linux's values (the personality's own headers are not Linux's). */
#define L_AF_UNIX       1
#define L_AF_INET       2
#define L_SOCK_STREAM   1
#define L_SOCK_DGRAM    2
#define L_SOCK_MAX      10
#define L_SOCK_NONBLOCK 04000
#define L_SOCK_CLOEXEC  02000000
#define L_IPPROTO_TCP   6
#define L_IPPROTO_UDP   17
#define L_SOL_SOCKET    1
#define L_SO_REUSEADDR  2
#define L_SO_TYPE       3
#define L_SO_ERROR      4
#define L_SO_BROADCAST  6
#define L_SO_SNDBUF     7
#define L_SO_RCVBUF     8
#define L_SO_KEEPALIVE  9
#define L_SO_ACCEPTCONN 30
#define L_TCP_NODELAY   1
#define L_MSG_PEEK      0x2
#define L_MSG_TRUNC     0x20
#define L_MSG_DONTWAIT  0x40
#define L_MSG_WAITALL   0x100
#define L_MSG_NOSIGNAL  0x4000
#define L_POLLIN        0x001
#define L_POLLOUT       0x004
#define L_POLLERR       0x008
#define L_POLLHUP       0x010
#define L_POLLRDNORM    0x040
#define L_POLLWRNORM    0x100

#define CHUNK     928                   /* data in one message of socket.idl */
#define SOCKS     64                    /* the network server's table (servers/net/net.h) */
#define RETRY_NS  2000000ull            /* without a watch: a blocked call, and kept polls over sockets, looked at again this often */
#define FALLBACK_NS 100000000ull        /* with one: the same, in case a signal was missed */
#define DEFAULT_BUF (16 * 1460)         /* the server's TCP window and send buffer (lwipopts.h) */

struct lsock {
    bool used, stream;
    bool bound, listening, connecting, connected, shut_wr, eof;
    bool told_inprogress;               /* connect said EINPROGRESS: the next connect reports the outcome */
    bool reuseaddr, keepalive, broadcast, nodelay;
    uint32_t sndbuf, rcvbuf;
    int error;                          /* SO_ERROR: a failed connect's errno, until read */
    uint8_t held[CHUNK];                /* received, not yet read: stream bytes, or one datagram (held_dgram) */
    uint32_t held_off, held_len;
    bool held_dgram;
    uint32_t held_addr;
    uint16_t held_port;
};

static struct lsock socks[SOCKS];
static int open_socks;

/* A call of process i kept to be made again: its reply object, number, descriptor and progress. */
static struct retry {
    uint64_t reply, nr, fd, done;
    bool again;
} retries[LPROC_MAX];

static struct pith_client net;
static bool net_ready;
static uint64_t wake_ntfn;              /* bound to our thread: the network server signals it (watch) */
static bool watching;                   /* the server took it: blocked calls wait for its signal */
static bool watch_due = true;           /* give it (again) before the next socket is made */

static struct pith_client *netc(void)
{
    if (!net_ready) {
        pith_client_init(&net, "/svc/net", &names_resolver, pith_slot_alloc(), pith_tls_self()->ipc_buffer);
        /* Every process waits while we do: a missing or stuck network server costs ms, not seconds. */
        net.retries = 3;
        net.timeout_ns = 1000000000ull;
        net_ready = true;
        /* Sockets a previous incarnation of this server left (the same badge) go now, and its watch. */
        uint32_t closed;
        socket_release(&net, &closed);
        watch_due = true;
    }
    return &net;
}

/* Gives the network server our notification (made and bound on first use); without it, we look every RETRY_NS. */
static void watch_give(void)
{
    if (!wake_ntfn) {
        uint64_t n = pith_object_new(PITH_OBJ_NOTIFICATION, 0);
        if (n && pith_invoke4(pith_tls_self()->tcb, PITH_TCB_BIND_NOTIFICATION, n, 0, 0, 0)) {
            pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, n, 0, 0, 0);
            n = 0;
        }
        wake_ntfn = n;
    }
    watching = wake_ntfn && !socket_watch(netc(), wake_ntfn);
    watch_due = false;
}

static uint64_t retry_ns(void)
{
    return watching ? FALLBACK_NS : RETRY_NS;
}

/* A socket.idl error as a negated errno, for calls with no more particular meaning. */
static long net_errno(long err)
{
    switch (err) {
    case 0: return 0;
    case SOCKET_E_BAD_ARGUMENT: return -EINVAL;
    case SOCKET_E_NO_SOCKETS: return -ENFILE;
    case SOCKET_E_NO_MEMORY: return -ENOBUFS;
    case SOCKET_E_IN_USE: return -EADDRINUSE;
    case SOCKET_E_BAD_STATE: return -EINVAL;
    case SOCKET_E_TIMEOUT: return -EAGAIN;
    case SOCKET_E_REFUSED: return -ECONNREFUSED;
    case SOCKET_E_CLOSED: return -EPIPE;
    case SOCKET_E_UNREACHABLE: return -ENETUNREACH;
    case SOCKET_E_NOT_CONNECTED: return -ENOTCONN;
    case SOCKET_E_BAD_SOCKET:
        watch_due = true;               /* the network server restarted: it has no watch either */
        return -ENETRESET;              /* ... and the socket is gone */
    default: return -ENETDOWN;                      /* no network server */
    }
}

/* ---- waiting: the call made again later ---------------------------------- */

static long block(struct lproc *p, uint64_t fd, uint64_t done)
{
    retries[p - lprocs] = (struct retry){ .reply = server_reply, .nr = p->sys_nr, .fd = fd, .done = done };
    p->sleeper = server_reply;
    /* A lock's retry_later (fd UINT64_MAX) has no signal to wait for: every RETRY_NS still. */
    p->wake_ns = pith_clock_ns(time_page) + (fd == UINT64_MAX ? RETRY_NS : retry_ns());
    deferred = true;
    return NO_ANSWER;
}

long retry_later(struct lproc *p) { return block(p, UINT64_MAX, 0); }

static bool holds(struct lproc *p, void *reply)
{
    return p->sleeper == *(uint64_t *)reply;
}

/* One of p's threads waits in a socket call: the retry's reply object is still some thread's sleeper. */
bool sock_blocked(struct lproc *p)
{
    uint64_t reply = retries[p - lprocs].reply;
    return reply && thread_each(p, holds, &reply);
}

bool sock_again(struct lproc *p, uint64_t reply)
{
    struct retry *r = &retries[p - lprocs];
    if (!reply || r->reply != reply || r->nr != p->sys_nr)
        return false;
    r->reply = 0;
    r->again = true;
    struct pith_fault_regs regs = p->sys_regs;
    regs.rip -= 2;                      /* the syscall instruction (0f 05), once more */
    regs.rax = p->sys_nr;
    signal_answer(p, &regs, true, reply, NULL);
    return true;
}

void sock_cancel_keep(struct lproc *p)
{
    if (p->sleeper && retries[p - lprocs].reply == p->sleeper) {
        retries[p - lprocs].reply = 0;
        p->sleeper = 0;
        deferred = false;
    }
}

/* Whether this call is one made again (and the bytes it had moved). */
static bool resumed(struct lproc *p, uint64_t fd, uint64_t *done)
{
    struct retry *r = &retries[p - lprocs];
    bool again = r->again && r->nr == p->sys_nr && r->fd == fd;
    r->again = false;
    if (done)
        *done = again ? r->done : 0;
    return again;
}

uint64_t sock_tick(uint64_t now)
{
    static uint64_t last;
    if (!open_socks)
        return 0;
    if (!poll_kept())
        return 0;
    /* Kept polls are evaluated again when pipes or the console move, and on the network server's
     * signal (sock_wake); in case one was missed, or there is no watch, look now and then. */
    if (now - last >= retry_ns()) {
        last = now;
        poll_kick();
    }
    return retry_ns();
}

/* A blocked socket call of p (not a lock's retry_later) is due at once. */
static bool wake_one(struct lproc *p, void *arg)
{
    struct retry *r = &retries[p - lprocs];
    if (p->sleeper && r->reply == p->sleeper && r->fd != UINT64_MAX)
        p->wake_ns = 0;
    return false;
}

void sock_wake(void)
{
    for (int i = 0; i < LPROC_MAX; i++)
        if (lprocs[i].state == LP_RUNNING)
            thread_each(&lprocs[i], wake_one, NULL);
    poll_kick();
}

/* ---- descriptors and addresses --------------------------------------------- */

static long sock_of(struct lproc *p, uint64_t fd, struct ofile **of, struct lsock **s)
{
    *of = ofile_of(p, fd);
    if (!*of)
        return -EBADF;
    if ((*of)->kind != FD_SOCKET)
        return -ENOTSOCK;
    *s = &socks[(*of)->ino];
    return 0;
}

/* An AF_UNIX socket's call goes to unix.c. */
#define SOCK_OR_RETURN(fd)                      \
    struct ofile *of;                           \
    struct lsock *s;                            \
    if (unix_fd(p, fd))                         \
        return unix_syscall(p);                 \
    {                                           \
        long e_ = sock_of(p, fd, &of, &s);      \
        if (e_)                                 \
            return e_;                          \
    }

struct lsockaddr_in {
    uint16_t family, port;              /* port and address in network order */
    uint32_t addr;
    uint8_t zero[8];
};

static long read_addr(struct lproc *p, uint64_t uaddr, uint64_t len, uint32_t *addr, uint16_t *port)
{
    struct lsockaddr_in sa;
    if ((uint32_t)len > 128)
        return -EINVAL;
    if ((uint32_t)len < sizeof sa)
        return -EINVAL;
    if (mem_read(p, &sa, uaddr, sizeof sa))
        return -EFAULT;
    if (sa.family != L_AF_INET)
        return -EAFNOSUPPORT;
    *addr = __builtin_bswap32(sa.addr);
    *port = __builtin_bswap16(sa.port);
    return 0;
}

/* Into the caller's sockaddr and its length (both optional as Linux has them), cut to its room. */
static long write_addr(struct lproc *p, uint64_t uaddr, uint64_t ulen, uint32_t addr, uint16_t port)
{
    if (!uaddr || !ulen)
        return 0;
    int32_t room;
    if (mem_read(p, &room, ulen, sizeof room))
        return -EFAULT;
    if (room < 0)
        return -EINVAL;
    struct lsockaddr_in sa = { .family = L_AF_INET, .port = __builtin_bswap16(port), .addr = __builtin_bswap32(addr) };
    uint32_t n = (uint32_t)room < sizeof sa ? (uint32_t)room : sizeof sa;
    int32_t full = sizeof sa;
    if ((n && mem_write(p, uaddr, &sa, n)) || mem_write(p, ulen, &full, sizeof full))
        return -EFAULT;
    return 0;
}

/* A new descriptor for the network server's socket n (closed again if there is no room). */
static long sock_fd(struct lproc *p, uint32_t n, bool stream, uint64_t flags)
{
    struct ofile *of = ofile_new(FD_SOCKET, O_RDWR | (flags & L_SOCK_NONBLOCK ? O_NONBLOCK : 0));
    if (!of || n >= SOCKS) {
        socket_close(netc(), n);
        if (of)
            of->refs = 0;
        return -ENFILE;
    }
    of->ino = n;
    socks[n] = (struct lsock){ .used = true, .stream = stream, .sndbuf = DEFAULT_BUF, .rcvbuf = DEFAULT_BUF };
    open_socks++;
    long fd = fd_new(p, of, 0, flags & L_SOCK_CLOEXEC);
    if (fd < 0)
        ofile_drop(of);                 /* closes it (sock_closed) */
    return fd;
}

void sock_closed(struct ofile *of)
{
    if (of->ino >= SOCKS || !socks[of->ino].used)
        return;
    socket_close(netc(), of->ino);
    socks[of->ino].used = false;
    open_socks--;
}

/* ---- making, naming, connecting ----------------------------------------------- */

SYSCALL(socket)
{
    uint64_t base = a1 & 0xf, flags = a1 & ~0xfull;
    if (flags & ~(uint64_t)(L_SOCK_NONBLOCK | L_SOCK_CLOEXEC))
        return -EINVAL;
    if (a0 == L_AF_UNIX)
        return unix_socket(p, a1, a2);
    if (a0 != L_AF_INET)
        return -EAFNOSUPPORT;
    if (!base || base >= L_SOCK_MAX)
        return -EINVAL;
    if (base != L_SOCK_STREAM && base != L_SOCK_DGRAM)
        return -ESOCKTNOSUPPORT;
    bool stream = base == L_SOCK_STREAM;
    if (a2 && a2 != (stream ? L_IPPROTO_TCP : L_IPPROTO_UDP))
        return -EPROTONOSUPPORT;
    uint32_t n;
    if (watch_due || (!open_socks && watching))
        watch_give();                   /* also when none is open: the server may have restarted meanwhile */
    long err = socket_open(netc(), stream ? SOCKET_TCP : SOCKET_UDP, &n);
    if (err)
        return net_errno(err);
    return sock_fd(p, n, stream, flags);
}

SYSCALL(bind)
{
    SOCK_OR_RETURN(a0);
    uint32_t addr;
    uint16_t port;
    long err = read_addr(p, a1, a2, &addr, &port);
    if (err)
        return err;
    if (s->bound)
        return -EINVAL;
    err = net_errno(socket_bind(netc(), of->ino, addr, port));
    s->bound = !err;
    return err;
}

SYSCALL(listen)
{
    SOCK_OR_RETURN(a0);
    if (!s->stream)
        return -EOPNOTSUPP;
    if (s->listening)
        return 0;
    if (s->connected || s->connecting)
        return -EINVAL;
    int64_t backlog = (int32_t)a1;
    backlog = backlog < 1 ? 1 : backlog > 16 ? 16 : backlog;   /* the server's range; Linux caps it too */
    long err = s->bound ? 0 : socket_bind(netc(), of->ino, 0, 0);   /* Linux binds a free port */
    if (!err)
        err = socket_listen(netc(), of->ino, (uint32_t)backlog);
    if (err)
        return net_errno(err);
    s->bound = s->listening = true;
    return 0;
}

static long accept_call(struct lproc *p, uint64_t fd, uint64_t uaddr, uint64_t ulen, uint64_t flags)
{
    SOCK_OR_RETURN(fd);
    resumed(p, fd, NULL);
    if (flags & ~(uint64_t)(L_SOCK_NONBLOCK | L_SOCK_CLOEXEC))
        return -EINVAL;
    if (!s->stream)
        return -EOPNOTSUPP;
    if (!s->listening)
        return -EINVAL;
    uint32_t conn, addr;
    uint16_t port;
    long err = socket_accept(netc(), of->ino, 0, &conn, &addr, &port);
    if (err == SOCKET_E_TIMEOUT)
        return of->flags & O_NONBLOCK ? -EAGAIN : block(p, fd, 0);
    if (err)
        return net_errno(err);
    if (s->nodelay)
        socket_setsockopt(netc(), conn, SOCKET_OPT_NODELAY, 1);    /* inherited, as on Linux */
    long nfd = sock_fd(p, conn, true, flags);
    if (nfd < 0)
        return nfd;
    struct lsock *c = &socks[conn];
    c->bound = c->connected = true;
    c->nodelay = s->nodelay;
    err = write_addr(p, uaddr, ulen, addr, port);
    if (err) {
        ofile_drop(p->fds[nfd].of);
        p->fds[nfd].of = NULL;
        return err;
    }
    return nfd;
}

SYSCALL(accept) { return accept_call(p, a0, a1, a2, 0); }
SYSCALL(accept4) { return accept_call(p, a0, a1, a2, a3); }

/* A connection under way: connected, failed (its error kept for SO_ERROR), or still going. */
static void refresh(struct ofile *of, struct lsock *s)
{
    uint32_t events, error;
    if (!s->connecting || socket_status(netc(), of->ino, &events, &error))
        return;
    if (error) {
        s->connecting = false;
        s->error = (int)-net_errno(error);
    } else if (!(events & SOCKET_CONNECTING)) {
        s->connecting = false;
        s->connected = true;
    }
}

/* connect's answer for a connection under way: blocking, wait; else EINPROGRESS, then EALREADY. */
static long connect_progress(struct lproc *p, uint64_t fd, struct ofile *of, struct lsock *s, bool again, bool first)
{
    uint32_t events, error;
    /* Linux says EINPROGRESS even on loopback, where the handshake is over already. */
    if (first && (of->flags & O_NONBLOCK)) {
        s->told_inprogress = true;
        return -EINPROGRESS;
    }
    long err = socket_status(netc(), of->ino, &events, &error);
    if (err)
        return net_errno(err);
    if (error) {
        s->connecting = false;
        return net_errno(error);
    }
    if (!(events & SOCKET_CONNECTING)) {
        s->connecting = false;
        s->connected = true;
        return first || again ? 0 : -EISCONN;
    }
    if (of->flags & O_NONBLOCK)
        return first ? -EINPROGRESS : -EALREADY;
    return again || first ? block(p, fd, 0) : -EALREADY;
}

SYSCALL(connect)
{
    SOCK_OR_RETURN(a0);
    bool again = resumed(p, a0, NULL);
    uint32_t addr;
    uint16_t port;
    long err = read_addr(p, a1, a2, &addr, &port);
    if (err)
        return err;
    if (!s->stream) {
        err = net_errno(socket_connect_begin(netc(), of->ino, addr, port));
        if (!err)
            s->connected = s->bound = true;
        return err;
    }
    if (s->told_inprogress) {
        /* As Linux: after EINPROGRESS, connect reports the outcome once (0 or the error), then EISCONN. */
        refresh(of, s);
        if (s->connected || s->error) {
            s->told_inprogress = false;
            int e = s->error;
            s->error = 0;
            return -e;
        }
    }
    if (s->listening || s->connected)
        return -EISCONN;
    if (s->connecting)
        return connect_progress(p, a0, of, s, again, false);
    err = socket_connect_begin(netc(), of->ino, addr, port);
    if (err == SOCKET_E_BAD_STATE)
        return -EINVAL;                 /* address or port 0 */
    if (err)
        return net_errno(err);
    s->connecting = s->bound = true;
    if (s->nodelay)
        socket_setsockopt(netc(), of->ino, SOCKET_OPT_NODELAY, 1);
    /* On loopback the handshake is over already; elsewhere this waits or says EINPROGRESS. */
    return connect_progress(p, a0, of, s, false, true);
}

SYSCALL(shutdown)
{
    SOCK_OR_RETURN(a0);
    if (a1 > 2)
        return -EINVAL;
    if (!s->connected)
        return -ENOTCONN;
    if (!s->stream)
        return 0;                       /* a connected datagram socket: nothing to end */
    long err = socket_shutdown(netc(), of->ino, (uint32_t)a1 + 1);
    if (err && err != SOCKET_E_NOT_CONNECTED)
        return net_errno(err);
    if (a1 != 1) {                      /* SHUT_RD, SHUT_RDWR: what was received and not read goes too */
        s->eof = true;
        s->held_len = 0;
    }
    if (a1 != 0)
        s->shut_wr = true;
    return 0;
}

static long name_call(struct lproc *p, uint64_t fd, uint64_t uaddr, uint64_t ulen, bool peer)
{
    SOCK_OR_RETURN(fd);
    uint32_t addr;
    uint16_t port;
    long err = peer ? socket_getpeername(netc(), of->ino, &addr, &port) : socket_getsockname(netc(), of->ino, &addr, &port);
    if (err)
        return net_errno(err);
    return write_addr(p, uaddr, ulen, addr, port);
}

SYSCALL(getsockname) { return name_call(p, a0, a1, a2, false); }
SYSCALL(getpeername) { return name_call(p, a0, a1, a2, true); }

/* ---- options ------------------------------------------------------------------- */

SYSCALL(setsockopt)
{
    SOCK_OR_RETURN(a0);
    int32_t v;
    if ((int32_t)a4 < (int32_t)sizeof v)
        return -EINVAL;
    if (mem_read(p, &v, a3, sizeof v))
        return -EFAULT;
    if (a1 == L_SOL_SOCKET) {
        switch (a2) {
        case L_SO_REUSEADDR:
            /* So a port in TIME-WAIT binds again, as busybox nc -l expects; a socket whose
             * connection has gone has nothing to set, and Linux says 0 all the same. */
            s->reuseaddr = v != 0;
            socket_setsockopt(netc(), of->ino, SOCKET_OPT_REUSEADDR, v != 0);
            return 0;
        case L_SO_KEEPALIVE: s->keepalive = v != 0; return 0;
        /* Recorded as Linux reports them (doubled, with its floor); the server's buffers are fixed. */
        case L_SO_SNDBUF: s->sndbuf = v < 2304 ? 4608 : (uint32_t)v * 2; return 0;
        case L_SO_RCVBUF: s->rcvbuf = v < 1152 ? 2304 : (uint32_t)v * 2; return 0;
        case L_SO_BROADCAST:
            if (!s->stream) {
                long err = socket_setsockopt(netc(), of->ino, SOCKET_OPT_BROADCAST, v != 0);
                if (err)
                    return net_errno(err);
            }
            s->broadcast = v != 0;
            return 0;
        default: return -ENOPROTOOPT;
        }
    }
    if (a1 == L_IPPROTO_TCP && s->stream && a2 == L_TCP_NODELAY) {
        /* A listening socket's pcb takes no options: accepted sockets get it (accept_call). */
        if (!s->listening) {
            long err = socket_setsockopt(netc(), of->ino, SOCKET_OPT_NODELAY, v != 0);
            if (err)
                return net_errno(err);
        }
        s->nodelay = v != 0;
        return 0;
    }
    return -ENOPROTOOPT;
}

/* SO_ERROR: a failed connection's error, read once. */
static int take_error(struct ofile *of, struct lsock *s)
{
    refresh(of, s);
    int e = s->error;
    s->error = 0;
    return e;
}

SYSCALL(getsockopt)
{
    SOCK_OR_RETURN(a0);
    int32_t room, v;
    if (mem_read(p, &room, a4, sizeof room))
        return -EFAULT;
    if (room < 0)
        return -EINVAL;
    if (a1 == L_SOL_SOCKET) {
        switch (a2) {
        case L_SO_TYPE: v = s->stream ? L_SOCK_STREAM : L_SOCK_DGRAM; break;
        case L_SO_ERROR: v = take_error(of, s); break;
        case L_SO_REUSEADDR: v = s->reuseaddr; break;
        case L_SO_KEEPALIVE: v = s->keepalive; break;
        case L_SO_BROADCAST: v = s->broadcast; break;
        case L_SO_SNDBUF: v = (int32_t)s->sndbuf; break;
        case L_SO_RCVBUF: v = (int32_t)s->rcvbuf; break;
        case L_SO_ACCEPTCONN: v = s->listening; break;
        default: return -ENOPROTOOPT;
        }
    } else if (a1 == L_IPPROTO_TCP && s->stream && a2 == L_TCP_NODELAY) {
        v = s->nodelay;
    } else {
        return -ENOPROTOOPT;
    }
    uint32_t n = (uint32_t)room < sizeof v ? (uint32_t)room : sizeof v;
    int32_t len = (int32_t)n;
    if ((n && mem_write(p, a3, &v, n)) || mem_write(p, a4, &len, sizeof len))
        return -EFAULT;
    return 0;
}

/* ---- data ------------------------------------------------------------------------ */

/* The caller's iovecs into d: -EMSGSIZE beyond IOV_MAX_OURS, -EFAULT, -EINVAL for a negative length. */
long data_iov(struct lproc *p, struct data *d, uint64_t iov, uint64_t count)
{
    if (count > IOV_MAX_OURS)
        return -EMSGSIZE;
    d->n = (int)count;
    d->total = 0;
    if (count && mem_read(p, d->v, iov, count * sizeof d->v[0]))
        return -EFAULT;
    for (int i = 0; i < d->n; i++) {
        if ((int64_t)d->v[i].len < 0)
            return -EINVAL;
        d->total += d->v[i].len;
    }
    return 0;
}

/* Copies len bytes at offset off of the caller's bytes out (to_user false) or in. */
long data_copy(struct lproc *p, const struct data *d, uint64_t off, void *buf, uint64_t len, bool to_user)
{
    uint8_t *b = buf;
    for (int i = 0; i < d->n && len; i++) {
        if (off >= d->v[i].len) {
            off -= d->v[i].len;
            continue;
        }
        uint64_t k = d->v[i].len - off < len ? d->v[i].len - off : len;
        long err = to_user ? mem_write(p, d->v[i].base + off, b, k) : mem_read(p, b, d->v[i].base + off, k);
        if (err)
            return -EFAULT;
        b += k, len -= k, off = 0;
    }
    return 0;
}

static long broken_pipe(struct lproc *p, uint64_t flags)
{
    if (!(flags & L_MSG_NOSIGNAL))
        signal_post(p, SIGPIPE, 0, (int)p->pid, 0);
    return -EPIPE;
}

static long sock_send(struct lproc *p, uint64_t fd, struct ofile *of, struct lsock *s, const struct data *d,
                      uint64_t flags, bool to, uint32_t addr, uint16_t port)
{
    static uint8_t buf[CHUNK];
    of->moves++;                        /* a call on it: an edge for epoll (epoll.c) */
    bool nonblock = (of->flags & O_NONBLOCK) || (flags & L_MSG_DONTWAIT);
    if (!s->stream) {
        if (d->total > CHUNK)
            return -EMSGSIZE;           /* a datagram is one message */
        if (data_copy(p, d, 0, buf, d->total, false))
            return -EFAULT;
        uint32_t sent;
        long err;
        if (to)
            err = socket_sendto(netc(), of->ino, addr, port, buf, d->total);
        else if (!s->connected)
            return -EDESTADDRREQ;
        else
            err = socket_trysend(netc(), of->ino, buf, d->total, &sent);
        s->bound = s->bound || !err;
        return err ? net_errno(err) : (long)d->total;
    }
    uint64_t done;
    resumed(p, fd, &done);
    refresh(of, s);
    if (s->shut_wr || (!s->connected && !s->connecting))
        return broken_pipe(p, flags);
    if (s->connecting)
        return nonblock ? -EAGAIN : block(p, fd, 0);
    while (done < d->total) {
        uint64_t k = d->total - done < CHUNK ? d->total - done : CHUNK;
        if (data_copy(p, d, done, buf, k, false))
            return done ? (long)done : -EFAULT;
        uint32_t sent = 0;
        long err = socket_trysend(netc(), of->ino, buf, k, &sent);
        if (err) {
            if (done)
                return (long)done;
            if (err == SOCKET_E_REFUSED)
                return -ECONNRESET;
            return err == SOCKET_E_CLOSED || err == SOCKET_E_NOT_CONNECTED ? broken_pipe(p, flags) : net_errno(err);
        }
        if (!sent)
            break;                      /* the send buffer is full */
        done += sent;
    }
    if (done == d->total)
        return (long)done;
    if (nonblock)
        return done ? (long)done : -EAGAIN;
    return block(p, fd, done);
}

/* A datagram: one, kept for MSG_PEEK; cut to the room given (MSG_TRUNC in *mflags). */
static long recv_dgram(struct lproc *p, uint64_t fd, struct ofile *of, struct lsock *s, const struct data *d,
                       uint64_t flags, uint64_t uaddr, uint64_t ulen, uint32_t *mflags)
{
    bool nonblock = (of->flags & O_NONBLOCK) || (flags & L_MSG_DONTWAIT);
    resumed(p, fd, NULL);
    if (!s->held_dgram) {
        uint64_t len = 0;
        long err = socket_recv(netc(), of->ino, 0, s->held, &len, &s->held_addr, &s->held_port);
        if (err == SOCKET_E_TIMEOUT)
            return nonblock ? -EAGAIN : block(p, fd, 0);
        if (err)
            return net_errno(err);
        s->held_dgram = true;
        s->held_len = (uint32_t)len;
    }
    uint64_t n = s->held_len < d->total ? s->held_len : d->total;
    if (data_copy(p, d, 0, s->held, n, true))
        return -EFAULT;
    long err = write_addr(p, uaddr, ulen, s->held_addr, s->held_port);
    if (err)
        return err;
    long len = s->held_len;
    if (n < (uint64_t)len)
        *mflags |= L_MSG_TRUNC;
    if (!(flags & L_MSG_PEEK))
        s->held_dgram = false, s->held_len = 0;
    return flags & L_MSG_TRUNC ? len : (long)n;
}

static long sock_recv(struct lproc *p, uint64_t fd, struct ofile *of, struct lsock *s, const struct data *d,
                      uint64_t flags, uint64_t uaddr, uint64_t ulen, uint32_t *mflags)
{
    of->moves++;                        /* a call on it: an edge for epoll (epoll.c) */
    if (!s->stream)
        return recv_dgram(p, fd, of, s, d, flags, uaddr, ulen, mflags);
    bool nonblock = (of->flags & O_NONBLOCK) || (flags & L_MSG_DONTWAIT);
    bool peek = flags & L_MSG_PEEK, waitall = (flags & L_MSG_WAITALL) && !peek;
    uint64_t done;
    resumed(p, fd, &done);
    refresh(of, s);
    if (s->listening || (!s->connected && !s->connecting))
        return -ENOTCONN;
    if (s->connecting)
        return nonblock ? -EAGAIN : block(p, fd, 0);
    while (done < d->total) {
        if (s->held_len) {
            uint64_t k = s->held_len < d->total - done ? s->held_len : d->total - done;
            if (data_copy(p, d, done, s->held + s->held_off, k, true))
                return done ? (long)done : -EFAULT;
            done += k;
            if (peek)
                break;
            s->held_off += (uint32_t)k;
            s->held_len -= (uint32_t)k;
            continue;
        }
        if (s->eof)
            break;
        uint64_t len = 0;
        uint32_t a;
        uint16_t pt;
        long err = socket_recv(netc(), of->ino, 0, s->held, &len, &a, &pt);
        if (err == SOCKET_E_TIMEOUT)
            break;
        if (err == SOCKET_E_CLOSED || (!err && !len)) {
            s->eof = true;              /* the end of the stream (or a connection gone without a reset) */
            break;
        }
        if (err) {
            if (done)
                break;
            return err == SOCKET_E_REFUSED ? -ECONNRESET : net_errno(err);
        }
        s->held_off = 0;
        s->held_len = (uint32_t)len;
    }
    if (done == d->total || s->eof || (done && !waitall))
        return (long)done;
    if (nonblock)
        return done ? (long)done : -EAGAIN;
    return block(p, fd, done);
}

long sock_transfer(struct lproc *p, uint64_t fd, struct ofile *of, uint64_t buf, uint64_t n, bool write)
{
    struct lsock *s = &socks[of->ino];
    struct data d = { .v = { { buf, n } }, .n = 1, .total = n };
    uint32_t mflags = 0;
    return write ? sock_send(p, fd, of, s, &d, 0, false, 0, 0) : sock_recv(p, fd, of, s, &d, 0, 0, 0, &mflags);
}

SYSCALL(sendto)
{
    SOCK_OR_RETURN(a0);
    struct data d = { .v = { { a1, a2 } }, .n = 1, .total = a2 };
    uint32_t addr = 0;
    uint16_t port = 0;
    bool to = a4 && !s->stream;         /* a stream socket's peer is the connection's */
    if (to) {
        long err = read_addr(p, a4, a5, &addr, &port);
        if (err)
            return err;
    }
    return sock_send(p, a0, of, s, &d, a3, to, addr, port);
}

SYSCALL(recvfrom)
{
    SOCK_OR_RETURN(a0);
    struct data d = { .v = { { a1, a2 } }, .n = 1, .total = a2 };
    uint32_t mflags = 0;
    return sock_recv(p, a0, of, s, &d, a3, a4, a5, &mflags);
}

/* Linux's struct msghdr. */
struct lmsghdr {
    uint64_t name;
    uint32_t namelen, pad;
    uint64_t iov, iovlen, control, controllen;
    int32_t flags, pad2;
};

/* The message header at addr and the data its iovecs name, for sendmsg and recvmsg. */
static long read_msghdr(struct lproc *p, uint64_t addr, struct lmsghdr *m, struct data *d)
{
    if (mem_read(p, m, addr, sizeof *m))
        return -EFAULT;
    return data_iov(p, d, m->iov, m->iovlen);
}

SYSCALL(sendmsg)
{
    SOCK_OR_RETURN(a0);
    struct lmsghdr m;
    static struct data d;
    long err = read_msghdr(p, a1, &m, &d);
    if (err)
        return err;
    uint32_t addr = 0;
    uint16_t port = 0;
    bool to = m.name && !s->stream;
    if (to && (err = read_addr(p, m.name, m.namelen, &addr, &port)))
        return err;
    return sock_send(p, a0, of, s, &d, a2, to, addr, port);
}

SYSCALL(recvmsg)
{
    SOCK_OR_RETURN(a0);
    struct lmsghdr m;
    static struct data d;
    long err = read_msghdr(p, a1, &m, &d);
    if (err)
        return err;
    uint32_t mflags = 0;
    /* The name's length is written back at msg_namelen, as recvfrom's socklen. */
    long n = sock_recv(p, a0, of, s, &d, a2, m.name, m.name ? a1 + 8 : 0, &mflags);
    if (n < 0)
        return n;
    uint64_t zero = 0;
    if (mem_write(p, a1 + 40, &zero, sizeof zero) || mem_write(p, a1 + 48, &mflags, sizeof mflags))
        return -EFAULT;
    return n;
}

/* ---- readiness (poll, select) --------------------------------------------------- */

unsigned sock_ready(const struct ofile *of)
{
    const struct lsock *s = &socks[of->ino];
    uint32_t events = 0, error = 0;
    if (socket_status(netc(), of->ino, &events, &error))
        return L_POLLERR | L_POLLHUP;
    unsigned r = 0;
    if (s->held_len || s->held_dgram || (events & SOCKET_READABLE) || (s->stream && s->eof))
        r |= L_POLLIN | L_POLLRDNORM;
    if (events & SOCKET_WRITABLE && !s->shut_wr)
        r |= L_POLLOUT | L_POLLWRNORM;
    if (error)
        r |= L_POLLOUT | L_POLLERR | L_POLLHUP;     /* as Linux has a refused connection */
    /* A stream socket neither connected nor on its way: Linux says writable and hung up. */
    if (s->stream && !s->listening && !s->connected && !s->connecting)
        r |= L_POLLOUT | L_POLLWRNORM | L_POLLHUP;
    return r;
}
