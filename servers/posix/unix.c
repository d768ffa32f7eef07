/*
 * AF_UNIX sockets, kept whole in the personality (docs/posix.md#af_unix,
 * decision 0026): processes of one personality talk through it, no other
 * server involved.  A socket is an entry of socks[] named by its open
 * file description (FD_UNIX, ofile.ino its index), or, accepted but not
 * yet taken by accept, by its listener's queue.  Each socket has a
 * receive queue: a ring of bytes and a ring of messages over it (a
 * stream's writes join one message while no descriptors ride with
 * them), and descriptors passed with SCM_RIGHTS wait in flights[],
 * holding their open file descriptions, until recvmsg puts them in the
 * receiver's table.  Names: bound paths and abstract names live in
 * names[] (a path: resolved to an absolute one; no inode is made on
 * /fs), a path's entry staying until unlink as Linux's inode would.
 *
 * A call that would block keeps its thread's answer in the pipe's place
 * (pipe_reply, so signals, thread switches and a process's end treat it
 * as a pipe's) with the descriptor in pipe_fd and a stream send's
 * progress in pipe_n; whenever a socket moves, every kept call is made
 * again from the thread's saved registers (kick), as poll's are.
 */
#include "personality.h"
#include "fs.h"
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>

/* Linux's values (the personality's own headers are not Linux's). */
#define L_AF_UNIX       1
#define L_SOCK_STREAM   1
#define L_SOCK_DGRAM    2
#define L_SOCK_RAW      3
#define L_SOCK_SEQPACKET 5
#define L_SOCK_NONBLOCK 04000
#define L_SOCK_CLOEXEC  02000000
#define L_SOL_SOCKET    1
#define L_SO_REUSEADDR  2
#define L_SO_TYPE       3
#define L_SO_ERROR      4
#define L_SO_SNDBUF     7
#define L_SO_RCVBUF     8
#define L_SO_PASSCRED   16
#define L_SO_PEERCRED   17
#define L_SO_ACCEPTCONN 30
#define L_SO_PROTOCOL   38
#define L_SO_DOMAIN     39
#define L_SCM_RIGHTS    1
#define L_SCM_CREDENTIALS 2
#define L_MSG_PEEK      0x2
#define L_MSG_CTRUNC    0x8
#define L_MSG_TRUNC     0x20
#define L_MSG_DONTWAIT  0x40
#define L_MSG_EOR       0x80
#define L_MSG_WAITALL   0x100
#define L_MSG_NOSIGNAL  0x4000
#define L_MSG_CMSG_CLOEXEC 0x40000000
#define L_POLLIN        0x001
#define L_POLLOUT       0x004
#define L_POLLERR       0x008
#define L_POLLHUP       0x010
#define L_POLLRDNORM    0x040
#define L_POLLWRNORM    0x100
#define L_POLLRDHUP     0x2000

#define USOCK_MAX   32                  /* sockets at once, accepted ones waiting included */
#define UQ_BYTES    (32 * 1024)         /* a receive queue's bytes */
#define UQ_MSGS     32                  /* and messages */
#define BACKLOG_MAX 16                  /* connections waiting for accept, at most */
#define RIGHTS_MAX  16                  /* descriptors in one message */
#define FLIGHT_MAX  32                  /* messages with descriptors on their way */
#define NAME_MAX_U  32                  /* names bound */
#define CONTROL_MAX 1024                /* a sendmsg's control bytes */
#define DEFAULT_BUF 212992              /* what Linux reports for SO_SNDBUF, SO_RCVBUF (its default) */
#define WOULD_BLOCK (-200000l)
#define SUN_OFF     2                   /* sun_path's offset in struct sockaddr_un */
#define SUN_MAX     110                 /* sizeof (struct sockaddr_un) */
#define RING_VA     0x630000000ull      /* the sockets' rings, one after another by slot */

enum { U_CLOSED, U_LISTEN, U_CONN };   /* a connection's state (Linux's TCP_CLOSE, TCP_LISTEN, TCP_ESTABLISHED) */

/* A socket address as Linux's sockaddr_un: its bytes and length (2: unnamed). */
struct uaddr {
    uint8_t len;
    char b[SUN_MAX];
};

struct ucred_l {
    int32_t pid, uid, gid;
};

struct umsg {
    uint32_t start, len;                /* its unread bytes in the ring */
    uint32_t full;                      /* a datagram's whole length (MSG_TRUNC) */
    int16_t flight;                     /* descriptors riding with it (-1: none) */
    struct uaddr from;                  /* the sender's name */
};

struct usock {
    bool used;
    uint8_t type, state;
    bool rd_shut, wr_shut;              /* Linux's RCV_SHUTDOWN, SEND_SHUTDOWN */
    uint32_t gen;                       /* told apart from a later socket in the slot */
    struct ofile *of;                   /* NULL: accepted, waiting in its listener's queue */
    int peer;                           /* -1: none */
    uint32_t peer_gen;
    int error;                          /* SO_ERROR (ECONNRESET), read once */
    int backlog, pending[BACKLOG_MAX], npending;   /* a listener's connections waiting for accept */
    int name;                           /* names[] entry (-1: none) */
    struct uaddr addr, peer_addr;
    struct ucred_l cred, peer_cred;     /* its own (socketpair, listen, connect) and its peer's */
    bool has_peer_cred, passcred;
    uint32_t sndbuf, rcvbuf;
    uint32_t bytes, tail;               /* the ring: bytes queued, where the next goes */
    uint16_t mhead, nmsgs;
    struct umsg msgs[UQ_MSGS];
    char *ring;                         /* UQ_BYTES at RING_VA: made at the slot's first use, kept */
};

/* Descriptors passed with a message: their open file descriptions, one reference each. */
struct flight {
    bool used;
    int n;
    struct ofile *of[RIGHTS_MAX];
};

/* A bound name: an absolute path or an abstract name (key[0] 0), and its socket (-1: gone; a path stays).
 * As on Linux, each type of socket has its own abstract names. */
struct uname {
    bool used;
    uint8_t type;                       /* an abstract name's */
    uint16_t len;
    char key[256];
    int sock;
    uint32_t gen;
};

static struct usock socks[USOCK_MAX];
static struct flight flights[FLIGHT_MAX];
static struct uname names[NAME_MAX_U];
static uint32_t next_gen, autobind_next;


/* ---- sockets ----------------------------------------------------------------- */

static struct usock *sock_at(int i, uint32_t gen)
{
    return i >= 0 && i < USOCK_MAX && socks[i].used && socks[i].gen == gen ? &socks[i] : NULL;
}

static struct usock *peer_of(const struct usock *s)
{
    return sock_at(s->peer, s->peer_gen);
}

/*
 * The ring of socket slot i: UQ_BYTES of the memory for processes (a chunk
 * of our own, as a process holds its chunks) mapped at RING_VA,
 * made when the slot is first used and kept for its later sockets, so
 * that the personality's start makes none of it (a megabyte of zeroed
 * BSS is a million instructions of boot) and only slots in use cost it.
 */
static struct chunks ring_mem;          /* the rings' chunks, from the memory for processes */

static char *ring_make(int i)
{
    static uint64_t slots[USOCK_MAX];
    uint64_t pages = UQ_BYTES / PAGE, va = RING_VA + (uint64_t)i * UQ_BYTES;
    if (!slots[i] && !(slots[i] = pith_slot_alloc_range(pages)))
        return NULL;
    if (chunks_retype(&ring_mem, PITH_OBJ_FRAME, slots[i], pages))
        return NULL;
    for (uint64_t k = 0; k < pages; k++)
        if (pith_map_page(slots[i] + k, va + k * PAGE, PITH_RIGHT_READ | PITH_RIGHT_WRITE, ring_mem.untyped)) {
            for (uint64_t j = 0; j < pages; j++)            /* the slots free for a later try */
                pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, slots[i] + j, 0, 0, 0);
            return NULL;
        }
    return (char *)va;
}

/* A free socket slot with its ring; -1: none (all in use, or no memory for a ring). */
static int sock_alloc(uint8_t type, struct lproc *p)
{
    for (int i = 0; i < USOCK_MAX; i++)
        if (!socks[i].used) {
            struct usock *s = &socks[i];
            if (!s->ring && !(s->ring = ring_make(i)))
                return -1;
            memset(s, 0, offsetof(struct usock, ring));     /* the ring needs no clearing */
            s->used = true, s->type = type, s->gen = ++next_gen, s->peer = s->name = -1;
            s->addr.len = SUN_OFF, s->addr.b[0] = L_AF_UNIX;
            s->sndbuf = s->rcvbuf = DEFAULT_BUF;
            s->cred = (struct ucred_l){ (int32_t)p->pid, 0, 0 };
            return i;
        }
    return -1;
}

static void flight_drop(int f)
{
    if (f < 0)
        return;
    flights[f].used = false;
    for (int i = 0; i < flights[f].n; i++)
        ofile_drop(flights[f].of[i]);   /* may close a socket in flight: bounded by the sockets there are */
}

static void link_peers(int a, int b)
{
    socks[a].peer = b, socks[a].peer_gen = socks[b].gen, socks[a].state = U_CONN;
    socks[b].peer = a, socks[b].peer_gen = socks[a].gen, socks[b].state = U_CONN;
    socks[a].peer_addr = socks[b].addr, socks[b].peer_addr = socks[a].addr;
}

static void kick(void);
static bool busy, moved;                /* a call is being made (kick waits for its end); something moved */

/* A socket goes: its peer sees the end (EOF; ECONNRESET if this one left bytes unread or was never accepted). */
static void sock_free(int i, bool reset)
{
    struct usock *s = &socks[i];
    struct usock *q = peer_of(s);
    s->used = false;                    /* first: what is dropped below may come back here */
    if (q && q->type != L_SOCK_DGRAM && q->peer == i) {
        q->rd_shut = q->wr_shut = true;
        if (s->nmsgs || reset)
            q->error = ECONNRESET;
    }
    if (s->name >= 0 && names[s->name].sock == i) {
        names[s->name].sock = -1;
        if (!names[s->name].key[0])
            names[s->name].used = false;        /* an abstract name goes with its socket */
    }
    for (int k = 0; k < s->npending; k++) {
        struct usock *e = &socks[s->pending[k]];
        if (e->used)
            sock_free(s->pending[k], true);     /* a connection never accepted: its client sees a reset */
    }
    s->npending = 0;
    for (; s->nmsgs; s->nmsgs--, s->mhead = (s->mhead + 1) % UQ_MSGS)
        flight_drop(s->msgs[s->mhead].flight);
    moved = true;
}

void unix_closed(struct ofile *of)
{
    static int depth;                   /* a socket in flight closed as another goes: one kick at the end */
    if (of->ino < USOCK_MAX && socks[of->ino].used && socks[of->ino].of == of) {
        depth++;
        sock_free((int)of->ino, false);
        if (!--depth)
            kick();
    }
}

static struct ofile *new_ofile(int i, uint64_t flags)
{
    struct ofile *of = ofile_new(FD_UNIX, O_RDWR | (flags & L_SOCK_NONBLOCK ? O_NONBLOCK : 0));
    if (of) {
        of->ino = (uint32_t)i;
        socks[i].of = of;
    }
    return of;
}

/* A descriptor for socket i (which goes again if there is none). */
static long sock_fd(struct lproc *p, int i, uint64_t flags)
{
    struct ofile *of = new_ofile(i, flags);
    if (!of) {
        sock_free(i, false);
        return -ENFILE;
    }
    long fd = fd_new(p, of, 0, flags & L_SOCK_CLOEXEC);
    if (fd < 0)
        ofile_drop(of);                 /* the socket with it (unix_closed) */
    return fd;
}

static long check_type(uint64_t type, uint64_t protocol, uint8_t *base)
{
    uint64_t flags = type & ~0xfull;
    if (flags & ~(uint64_t)(L_SOCK_NONBLOCK | L_SOCK_CLOEXEC))
        return -EINVAL;
    *base = (uint8_t)(type & 0xf);
    if (*base == L_SOCK_RAW)
        *base = L_SOCK_DGRAM;           /* as Linux: a raw AF_UNIX socket is a datagram one */
    if (!*base || *base > 10)
        return -EINVAL;
    if (*base != L_SOCK_STREAM && *base != L_SOCK_DGRAM && *base != L_SOCK_SEQPACKET)
        return -ESOCKTNOSUPPORT;
    if (protocol && protocol != L_AF_UNIX)
        return -EPROTONOSUPPORT;
    return 0;
}

long unix_socket(struct lproc *p, uint64_t type, uint64_t protocol)
{
    uint8_t base;
    long err = check_type(type, protocol, &base);
    if (err)
        return err;
    int i = sock_alloc(base, p);
    return i < 0 ? -ENFILE : sock_fd(p, i, type);
}

SYSCALL(socketpair)
{
    (void)a4, (void)a5;
    uint8_t base;
    if (a0 != L_AF_UNIX)
        return a0 == 2 || a0 == 10 ? -EOPNOTSUPP : -EAFNOSUPPORT;   /* AF_INET, AF_INET6 have none */
    long err = check_type(a1, a2, &base);
    if (err)
        return err;
    int a = sock_alloc(base, p), b = a < 0 ? -1 : sock_alloc(base, p);
    if (b < 0) {
        if (a >= 0)
            socks[a].used = false;
        return -ENFILE;
    }
    link_peers(a, b);
    socks[a].peer_cred = socks[a].cred, socks[b].peer_cred = socks[b].cred;
    socks[a].has_peer_cred = socks[b].has_peer_cred = true;
    long fa = sock_fd(p, a, a1);
    if (fa < 0) {
        sock_free(b, false);
        return fa;
    }
    long fb = sock_fd(p, b, a1);
    if (fb < 0) {
        ofile_drop(p->fds[fa].of);
        p->fds[fa].of = NULL;
        return fb;
    }
    int32_t two[2] = { (int32_t)fa, (int32_t)fb };
    if (mem_write(p, a3, two, sizeof two)) {
        ofile_drop(p->fds[fa].of), ofile_drop(p->fds[fb].of);
        p->fds[fa].of = p->fds[fb].of = NULL;
        return -EFAULT;
    }
    return 0;
}

/* ---- names ------------------------------------------------------------------- */

/* The caller's sockaddr_un (len: its length): into *a, and its key in names[] (*key, *klen). */
static long read_addr(struct lproc *p, uint64_t uaddr, uint64_t len, struct uaddr *a)
{
    if ((uint32_t)len <= SUN_OFF || (uint32_t)len > SUN_MAX)
        return -EINVAL;
    memset(a, 0, sizeof *a);
    if (mem_read(p, a->b, uaddr, len))
        return -EFAULT;
    if ((uint8_t)a->b[0] != L_AF_UNIX || a->b[1])
        return -EINVAL;
    a->len = (uint8_t)len;
    if (a->b[SUN_OFF])                  /* a path: up to its NUL, as Linux shortens it */
        a->len = (uint8_t)(SUN_OFF + strnlen(a->b + SUN_OFF, len - SUN_OFF) + 1);
    return 0;
}

/* The key of an address: an absolute path, or the abstract name's bytes. */
static long key_of(struct lproc *p, const struct uaddr *a, char *key, uint16_t *klen)
{
    if (!a->b[SUN_OFF]) {
        *klen = (uint16_t)(a->len - SUN_OFF);
        memcpy(key, a->b + SUN_OFF, *klen);
        return 0;
    }
    char rel[SUN_MAX];
    memcpy(rel, a->b + SUN_OFF, a->len - SUN_OFF);
    rel[a->len - SUN_OFF - 1] = 0;
    long err = path_join(p->cwd, rel, key);
    if (err)
        return err;
    *klen = (uint16_t)(strlen(key) + 1);
    return 0;
}

static int name_find(const char *key, uint16_t klen, uint8_t type)
{
    for (int i = 0; i < NAME_MAX_U; i++)
        if (names[i].used && names[i].len == klen && !memcmp(names[i].key, key, klen) &&
            (key[0] || names[i].type == type))
            return i;
    return -1;
}

/* Whether a path names something on /fs (0: no; 1: yes; or -errno for its directory). */
static long fs_has(const char *path, bool parent_only)
{
    char dir[256];
    uint32_t ino, gen, mode, nlink, uid, gid, at, mt, ct;
    uint64_t size, blocks;
    strcpy(dir, path);
    char *slash = strrchr(dir, '/');
    if (parent_only) {
        if (slash == dir)
            slash[1] = 0;
        else if (slash)
            *slash = 0;
    }
    long err = fs_lookup(&fs, dir, parent_only, &ino, &gen, &mode, &nlink, &uid, &gid, &size, &at,
                         &mt, &ct, &blocks);
    if (parent_only)
        return err ? fs_errno(err) : S_ISDIR(mode) ? 0 : -ENOTDIR;
    return err ? 0 : 1;
}

/* A new name for socket i; a path's must not exist (a name left by a closed socket may go if none is free). */
static long name_add(struct lproc *p, int i, const struct uaddr *a)
{
    static char key[256];
    uint16_t klen;
    long err = key_of(p, a, key, &klen);
    if (err)
        return err;
    int n = name_find(key, klen, socks[i].type);
    if (n >= 0)
        return -EADDRINUSE;
    if (key[0]) {
        if ((err = fs_has(key, true)))
            return err;
        if (fs_has(key, false) || proc_path(key) || device_of(key) >= 0)
            return -EADDRINUSE;
    }
    for (int k = 0; k < NAME_MAX_U && n < 0; k++)
        if (!names[k].used)
            n = k;
    for (int k = 0; k < NAME_MAX_U && n < 0; k++)
        if (names[k].sock < 0)
            n = k;                      /* every entry used: a path whose socket has gone is forgotten */
    if (n < 0)
        return -ENOSPC;
    names[n] = (struct uname){ .used = true, .type = socks[i].type, .len = klen, .sock = i, .gen = socks[i].gen };
    memcpy(names[n].key, key, klen);
    socks[i].name = n;
    socks[i].addr = *a;
    return 0;
}

/* The socket an address names, of the type wanted; -errno as Linux's unix_find_other. */
static long name_lookup(struct lproc *p, const struct uaddr *a, uint8_t type, int *out)
{
    static char key[256];
    uint16_t klen;
    long err = key_of(p, a, key, &klen);
    if (err)
        return err;
    int n = name_find(key, klen, type);
    if (n < 0) {
        if (!key[0])
            return -ECONNREFUSED;
        err = fs_has(key, true);
        return err ? err : fs_has(key, false) ? -ECONNREFUSED : -ENOENT;
    }
    struct usock *s = sock_at(names[n].sock, names[n].gen);
    if (!s)
        return -ECONNREFUSED;
    if (s->type != type)
        return -EPROTOTYPE;
    *out = names[n].sock;
    return 0;
}

/* unlink of a bound path (paths.c): true if it was one, its name gone. */
bool unix_unlink(const char *path)
{
    int n = name_find(path, (uint16_t)(strlen(path) + 1), 0);
    if (n < 0 || !path[0])
        return false;
    struct usock *s = sock_at(names[n].sock, names[n].gen);
    if (s)
        s->name = -1;                   /* the socket keeps its address, unreachable by it now */
    names[n].used = false;
    return true;
}

/* stat of a bound path (paths.c): a socket's node. */
bool unix_stat(struct lproc *p, const char *path, struct stat *st)
{
    int n = name_find(path, (uint16_t)(strlen(path) + 1), 0);
    if (n < 0 || !path[0])
        return false;
    stat_fill(st, 0x3000 + (uint32_t)n, S_IFSOCK | (0777 & ~umask_of(p)), 1, 0, 0, 0, 0, 0, 0, 0);
    return true;
}

static long write_addr(struct lproc *p, uint64_t uaddr, uint64_t ulen, const struct uaddr *a)
{
    if (!uaddr || !ulen)
        return 0;
    int32_t room;
    if (mem_read(p, &room, ulen, sizeof room))
        return -EFAULT;
    if (room < 0)
        return -EINVAL;
    uint32_t n = (uint32_t)room < a->len ? (uint32_t)room : a->len;
    int32_t full = a->len;
    if ((n && mem_write(p, uaddr, a->b, n)) || mem_write(p, ulen, &full, sizeof full))
        return -EFAULT;
    return 0;
}

/* ---- the calls on one socket --------------------------------------------------- */

static long usock_of(struct lproc *p, uint64_t fd, struct usock **s)
{
    struct ofile *of = ofile_of(p, fd);
    if (!of)
        return -EBADF;
    if (of->kind != FD_UNIX)
        return -ENOTSOCK;
    *s = &socks[of->ino];
    return 0;
}

bool unix_fd(struct lproc *p, uint64_t fd)
{
    struct ofile *of = ofile_of(p, fd);
    return of && of->kind == FD_UNIX;
}

static bool nonblocking(struct lproc *p, uint64_t fd, uint64_t flags)
{
    struct ofile *of = ofile_of(p, fd);
    return (of && (of->flags & O_NONBLOCK)) || (flags & L_MSG_DONTWAIT);
}

static long u_bind(struct lproc *p, struct usock *s, uint64_t uaddr, uint64_t len)
{
    uint16_t family;
    if ((uint32_t)len == SUN_OFF && !mem_read(p, &family, uaddr, 2) && family == L_AF_UNIX) {
        /* Autobind: an abstract name of five hex digits, as Linux makes. */
        if (s->addr.len > SUN_OFF)
            return 0;
        struct uaddr a = { .len = SUN_OFF + 6, .b = { L_AF_UNIX } };
        for (int tries = 0; tries < 0x100000; tries++) {
            uint32_t v = autobind_next++ & 0xfffff;
            for (int k = 0; k < 5; k++)
                a.b[SUN_OFF + 1 + k] = "0123456789abcdef"[(v >> (16 - 4 * k)) & 0xf];
            long err = name_add(p, (int)(s - socks), &a);
            if (err != -EADDRINUSE)
                return err;
        }
        return -ENOSPC;
    }
    struct uaddr a;
    long err = read_addr(p, uaddr, len, &a);
    if (err)
        return err;
    if (a.b[SUN_OFF] && s->addr.len > SUN_OFF) {
        /* Linux makes the node first: a path taken says so before "bound already". */
        static char key[256];
        uint16_t klen;
        if (!key_of(p, &a, key, &klen) && (name_find(key, klen, 0) >= 0 || fs_has(key, false)))
            return -EADDRINUSE;
    }
    if (s->addr.len > SUN_OFF)
        return -EINVAL;
    return name_add(p, (int)(s - socks), &a);
}

static long u_listen(struct lproc *p, struct usock *s, uint64_t backlog)
{
    if (s->type == L_SOCK_DGRAM)
        return -EOPNOTSUPP;
    if (s->addr.len <= SUN_OFF)
        return -EINVAL;
    if (s->state == U_CONN)
        return -EINVAL;
    /* Linux takes it unsigned, capped by somaxconn; ours holds BACKLOG_MAX (one beyond the backlog). */
    uint32_t b = (uint32_t)backlog;
    s->backlog = b > BACKLOG_MAX - 1 ? BACKLOG_MAX - 1 : (int)b;
    s->state = U_LISTEN;
    s->cred = (struct ucred_l){ (int32_t)p->pid, 0, 0 };   /* what connect gives its client */
    moved = true;                       /* a connect waiting for room may go on */
    return 0;
}

/* connect of a stream or seqpacket socket: an accepted socket made for it, queued on the listener. */
static long connect_stream(struct lproc *p, uint64_t fd, struct usock *s, const struct uaddr *a)
{
    int li;
    long err = name_lookup(p, a, s->type, &li);
    if (err)
        return err;
    struct usock *l = &socks[li];
    if (l->state != U_LISTEN || l->rd_shut)
        return -ECONNREFUSED;
    if (l->npending > l->backlog)
        return nonblocking(p, fd, 0) ? -EAGAIN : WOULD_BLOCK;
    if (s->state == U_CONN)
        return -EISCONN;
    if (s->state != U_CLOSED)
        return -EINVAL;
    int e = sock_alloc(s->type, p);
    if (e < 0)
        return -ENOBUFS;
    int si = (int)(s - socks);
    l = &socks[li];
    link_peers(si, e);
    socks[e].addr = l->addr;            /* an accepted socket has its listener's name */
    socks[si].peer_addr = l->addr;
    socks[e].peer_cred = s->cred, socks[e].has_peer_cred = true;
    s->peer_cred = l->cred, s->has_peer_cred = true;
    l->pending[l->npending++] = e;
    moved = true;
    return 0;
}

static long u_connect(struct lproc *p, uint64_t fd, struct usock *s, uint64_t uaddr, uint64_t len)
{
    if (s->type != L_SOCK_DGRAM) {
        struct uaddr a;
        long err = read_addr(p, uaddr, len, &a);
        return err ? err : connect_stream(p, fd, s, &a);
    }
    uint16_t family;
    if ((uint32_t)len >= 2 && !mem_read(p, &family, uaddr, 2) && family == 0) {
        s->peer = -1, s->state = U_CLOSED;      /* AF_UNSPEC: the default peer goes */
        return 0;
    }
    struct uaddr a;
    int t;
    long err = read_addr(p, uaddr, len, &a);
    if (!err)
        err = name_lookup(p, &a, s->type, &t);
    if (err)
        return err;
    s->peer = t, s->peer_gen = socks[t].gen, s->state = U_CONN;
    s->peer_addr = socks[t].addr;
    s->peer_cred = socks[t].cred, s->has_peer_cred = true;
    return 0;
}

static long u_accept(struct lproc *p, uint64_t fd, struct usock *s, uint64_t uaddr, uint64_t ulen, uint64_t flags)
{
    if (flags & ~(uint64_t)(L_SOCK_NONBLOCK | L_SOCK_CLOEXEC))
        return -EINVAL;
    if (s->type == L_SOCK_DGRAM)
        return -EOPNOTSUPP;
    if (s->state != U_LISTEN)
        return -EINVAL;
    if (!s->npending)
        return nonblocking(p, fd, 0) ? -EAGAIN : WOULD_BLOCK;
    int e = s->pending[0];
    long err = write_addr(p, uaddr, ulen, &socks[e].peer_addr);
    if (err)
        return err;
    s->npending--;
    memmove(s->pending, s->pending + 1, (size_t)s->npending * sizeof s->pending[0]);
    long nfd = sock_fd(p, e, flags);
    moved = true;                       /* room in the backlog: a connect may go on */
    return nfd;
}

static long u_shutdown(struct usock *s, uint64_t how)
{
    if (how > 2)
        return -EINVAL;
    bool rd = how != 1, wr = how != 0;
    s->rd_shut |= rd, s->wr_shut |= wr;
    struct usock *q = peer_of(s);
    if (q && s->type != L_SOCK_DGRAM) {
        q->wr_shut |= rd;               /* as Linux: the peer's half the other way */
        q->rd_shut |= wr;
    }
    moved = true;
    return 0;
}

static long u_name(struct lproc *p, struct usock *s, uint64_t uaddr, uint64_t ulen, bool peer)
{
    if (!peer)
        return write_addr(p, uaddr, ulen, &s->addr);
    if (s->state != U_CONN || (s->type == L_SOCK_DGRAM && !peer_of(s)))
        return -ENOTCONN;
    return write_addr(p, uaddr, ulen, &s->peer_addr);
}

static long u_setsockopt(struct lproc *p, struct usock *s, uint64_t level, uint64_t name, uint64_t val, uint64_t len)
{
    int32_t v;
    if (level != L_SOL_SOCKET)
        return -EOPNOTSUPP;             /* as Linux: AF_UNIX has no protocol level */
    if ((int32_t)len < (int32_t)sizeof v)
        return -EINVAL;
    if (mem_read(p, &v, val, sizeof v))
        return -EFAULT;
    switch (name) {
    case L_SO_REUSEADDR: return 0;
    case L_SO_PASSCRED: s->passcred = v != 0; return 0;
    /* Recorded as Linux reports them (doubled, with its floor); the queue's room is ours. */
    case L_SO_SNDBUF: s->sndbuf = v < 2304 ? 4608 : (uint32_t)v * 2; return 0;
    case L_SO_RCVBUF: s->rcvbuf = v < 1152 ? 2304 : (uint32_t)v * 2; return 0;
    default: return -ENOPROTOOPT;
    }
}

static long u_getsockopt(struct lproc *p, struct usock *s, uint64_t level, uint64_t name, uint64_t val, uint64_t ulen)
{
    int32_t room, v[3];
    uint32_t size = sizeof v[0];
    if (mem_read(p, &room, ulen, sizeof room))
        return -EFAULT;
    if (room < 0)
        return -EINVAL;
    if (level != L_SOL_SOCKET)
        return -EOPNOTSUPP;
    switch (name) {
    case L_SO_TYPE: v[0] = s->type; break;
    case L_SO_ERROR: v[0] = s->error, s->error = 0; break;
    case L_SO_REUSEADDR: v[0] = 0; break;
    case L_SO_PASSCRED: v[0] = s->passcred; break;
    case L_SO_SNDBUF: v[0] = (int32_t)s->sndbuf; break;
    case L_SO_RCVBUF: v[0] = (int32_t)s->rcvbuf; break;
    case L_SO_ACCEPTCONN: v[0] = s->state == U_LISTEN; break;
    case L_SO_PROTOCOL: v[0] = 0; break;
    case L_SO_DOMAIN: v[0] = L_AF_UNIX; break;
    case L_SO_PEERCRED:
        /* Linux's for no peer: pid 0, the overflow uid and gid. */
        v[0] = s->has_peer_cred ? s->peer_cred.pid : 0;
        v[1] = s->has_peer_cred ? s->peer_cred.uid : 65534;
        v[2] = s->has_peer_cred ? s->peer_cred.gid : 65534;
        size = sizeof v;
        break;
    default: return -ENOPROTOOPT;
    }
    uint32_t n = (uint32_t)room < size ? (uint32_t)room : size;
    int32_t len = (int32_t)n;
    if ((n && mem_write(p, val, v, n)) || mem_write(p, ulen, &len, sizeof len))
        return -EFAULT;
    return 0;
}

/* ---- data ------------------------------------------------------------------------ */

/* The same between the caller's bytes and a socket's ring at pos (it wraps). */
static long ring_copy(struct lproc *p, const struct data *d, uint64_t off, struct usock *s, uint32_t pos, uint32_t len,
                      bool to_user)
{
    uint32_t first = UQ_BYTES - pos < len ? UQ_BYTES - pos : len;
    if (data_copy(p, d, off, s->ring + pos, first, to_user))
        return -EFAULT;
    return len > first ? data_copy(p, d, off + first, s->ring, len - first, to_user) : 0;
}

static uint32_t room_of(const struct usock *s)
{
    return s->nmsgs == UQ_MSGS ? 0 : UQ_BYTES - s->bytes;
}

/* k bytes of the caller's (from off) into q's queue as a message, or joining its last (a stream's). */
static long enqueue(struct lproc *p, struct usock *q, const struct data *d, uint64_t off, uint32_t k,
                    const struct uaddr *from, int flight)
{
    struct umsg *last = q->nmsgs ? &q->msgs[(q->mhead + q->nmsgs - 1) % UQ_MSGS] : NULL;
    if (ring_copy(p, d, off, q, q->tail, k, false))
        return -EFAULT;
    if (q->type == L_SOCK_STREAM && last && last->flight < 0 && flight < 0 &&
               (last->start + last->len) % UQ_BYTES == q->tail) {
        last->len += k, last->full += k;
    } else {
        q->msgs[(q->mhead + q->nmsgs) % UQ_MSGS] = (struct umsg){ .start = q->tail, .len = k, .full = k,
                                                                 .flight = (int16_t)flight, .from = *from };
        q->nmsgs++;
    }
    q->tail = (q->tail + k) % UQ_BYTES;
    q->bytes += k;
    if (q->of)
        q->of->moves++;                 /* new data is a new edge for EPOLLET (epoll.c) */
    return 0;
}

static long broken_pipe(struct lproc *p, uint64_t flags)
{
    if (!(flags & L_MSG_NOSIGNAL))
        signal_post(p, SIGPIPE, 0, (int)p->pid, 0);
    return -EPIPE;
}

/* SCM_RIGHTS of a sendmsg's control bytes: the descriptors' files in a new flight (-1: none). */
static long take_rights(struct lproc *p, uint64_t control, uint64_t len, int *flight)
{
    static uint8_t buf[CONTROL_MAX];
    *flight = -1;
    if (!control || !len)
        return 0;
    if (len > CONTROL_MAX)
        return -ENOBUFS;
    if (mem_read(p, buf, control, len))
        return -EFAULT;
    struct ofile *ofs[RIGHTS_MAX];
    int n = 0;
    for (uint64_t at = 0; at + 16 <= len;) {
        uint64_t clen;
        int32_t level, type;
        memcpy(&clen, buf + at, 8), memcpy(&level, buf + at + 8, 4), memcpy(&type, buf + at + 12, 4);
        if (clen < 16 || clen > len - at)
            return -EINVAL;
        if (level != L_SOL_SOCKET || (type != L_SCM_RIGHTS && type != L_SCM_CREDENTIALS))
            return -EINVAL;
        for (uint64_t k = 16; type == L_SCM_RIGHTS && k + 4 <= clen; k += 4) {
            int32_t fd;
            memcpy(&fd, buf + at + k, 4);
            struct ofile *of = fd < 0 ? NULL : ofile_of(p, (uint64_t)fd);
            if (!of)
                return -EBADF;
            if (n == RIGHTS_MAX)
                return -EINVAL;
            ofs[n++] = of;
        }
        at += (clen + 7) & ~7ull;
    }
    if (!n)
        return 0;
    int f = 0;
    while (f < FLIGHT_MAX && flights[f].used)
        f++;
    if (f == FLIGHT_MAX)
        return -ENOBUFS;
    flights[f].used = true, flights[f].n = n;
    for (int i = 0; i < n; i++)
        flights[f].of[i] = ofs[i], ofs[i]->refs++;
    *flight = f;
    return 0;
}

/* The socket a send goes to: the peer, or the one named (datagrams). */
static long send_target(struct lproc *p, struct usock *s, const struct uaddr *to, struct usock **out)
{
    if (s->type == L_SOCK_STREAM) {
        if (to)
            return s->state == U_CONN ? -EISCONN : -EOPNOTSUPP;
        if (s->state != U_CONN)
            return -ENOTCONN;
    }
    if (s->type == L_SOCK_SEQPACKET && s->state != U_CONN)
        return -ENOTCONN;
    if (s->type == L_SOCK_DGRAM && to) {
        int t;
        long err = name_lookup(p, to, L_SOCK_DGRAM, &t);
        if (err)
            return err;
        *out = &socks[t];
        return 0;
    }
    *out = peer_of(s);
    if (!*out && s->type == L_SOCK_DGRAM) {
        if (s->state != U_CONN)
            return -ENOTCONN;
        s->state = U_CLOSED;            /* its peer has gone: refused once, then not connected */
        return -ECONNREFUSED;
    }
    return 0;
}

/* A send: a stream's bytes (as many as fit, then waiting: *done its progress), or one message. */
static long u_send(struct lproc *p, uint64_t fd, struct usock *s, const struct data *d, uint64_t flags,
                   const struct uaddr *to, uint64_t control, uint64_t clen, uint64_t *done)
{
    struct usock *q;
    long err = send_target(p, s, s->type == L_SOCK_SEQPACKET ? NULL : to, &q);
    if (err)
        return *done ? (long)*done : err;
    if (s->wr_shut || (s->type != L_SOCK_DGRAM && (!q || q->rd_shut)))
        return *done ? (long)*done : broken_pipe(p, flags);
    bool nb = nonblocking(p, fd, flags);
    if (s->type != L_SOCK_STREAM) {
        if (d->total > UQ_BYTES)
            return -EMSGSIZE;
        if (q->rd_shut && s->type == L_SOCK_DGRAM)
            return -EPIPE;
        if (room_of(q) < d->total)
            return nb ? -EAGAIN : WOULD_BLOCK;
        int f;
        if ((err = take_rights(p, control, clen, &f)))
            return err;
        if ((err = enqueue(p, q, d, 0, (uint32_t)d->total, &s->addr, f))) {
            flight_drop(f);
            return err;
        }
        moved = true;
        return (long)d->total;
    }
    int f = -1;
    uint64_t before = *done;
    while (*done < d->total) {
        uint32_t room = room_of(q);
        if (!room)
            break;
        uint32_t k = d->total - *done < room ? (uint32_t)(d->total - *done) : room;
        if (!*done && (err = take_rights(p, control, clen, &f)))
            return err;
        if ((err = enqueue(p, q, d, *done, k, &s->addr, f))) {
            flight_drop(f);
            return *done ? (long)*done : err;
        }
        f = -1;
        *done += k;
    }
    if (*done != before)
        moved = true;
    if (*done == d->total)
        return (long)d->total;
    if (nb)
        return *done ? (long)*done : -EAGAIN;
    return WOULD_BLOCK;
}

/* Descriptors of a flight into p's table, as much as control's room takes (MSG_CTRUNC beyond). */
static long give_rights(struct lproc *p, int f, uint64_t control, uint64_t *clen, bool cloexec, uint32_t *mflags)
{
    struct flight *fl = &flights[f];
    uint64_t room = control ? *clen : 0;
    int fit = room < 16 ? 0 : (int)((room - 16) / 4);
    int32_t fds[RIGHTS_MAX];
    int i = 0;
    for (; i < fl->n && i < fit; i++) {
        long fd = fd_new(p, fl->of[i], 0, cloexec);
        if (fd < 0)
            break;
        fds[i] = (int32_t)fd;
        fl->of[i] = NULL;               /* its reference is the descriptor's now */
    }
    if (i < fl->n)
        *mflags |= L_MSG_CTRUNC;
    for (int k = i; k < fl->n; k++)
        ofile_drop(fl->of[k]);
    fl->used = false;
    *clen = 0;
    if (!i)
        return 0;
    struct {
        uint64_t len;
        int32_t level, type;
    } h = { 16 + 4 * (uint64_t)i, L_SOL_SOCKET, L_SCM_RIGHTS };
    if (mem_write(p, control, &h, sizeof h) || mem_write(p, control + 16, fds, 4 * (uint64_t)i))
        return -EFAULT;
    uint64_t space = 16 + ((4 * (uint64_t)i + 7) & ~7ull);
    *clen = space < room ? space : room;
    return 0;
}

/* The first message's bytes consumed: k of it, or all (a datagram); its descriptors handed over. */
static void consume(struct usock *s, uint32_t k, bool whole)
{
    struct umsg *m = &s->msgs[s->mhead];
    if (whole)
        k = m->len;
    m->start = (m->start + k) % UQ_BYTES, m->len -= k, s->bytes -= k;
    if (!m->len) {
        s->mhead = (s->mhead + 1) % UQ_MSGS;
        s->nmsgs--;
    }
    struct usock *writer = peer_of(s);
    if (writer && writer->of)
        writer->of->moves++;            /* room for the peer's writes: its EPOLLOUT edge */
}

/* A receive: *mflags gets MSG_TRUNC or MSG_CTRUNC; control and *clen the descriptors; *part what a
 * stream's MSG_WAITALL receive has taken so far. */
static long u_recv(struct lproc *p, uint64_t fd, struct usock *s, const struct data *d, uint64_t flags, uint64_t uaddr,
                   uint64_t ulen, uint64_t control, uint64_t *clen, uint32_t *mflags, uint64_t *part)
{
    bool peek = flags & L_MSG_PEEK, nb = nonblocking(p, fd, flags);
    bool waitall = (flags & L_MSG_WAITALL) && !peek && s->type == L_SOCK_STREAM;
    uint64_t room = *clen;
    if (s->type == L_SOCK_STREAM && s->state != U_CONN)
        return -EINVAL;
    if (s->type == L_SOCK_SEQPACKET && s->state != U_CONN)
        return s->state == U_LISTEN ? -EINVAL : -ENOTCONN;
    *clen = 0;
    if (!s->nmsgs) {
        if (*part)                      /* MSG_WAITALL: what it has, at the end or an error, else more */
            return s->error || s->rd_shut ? (long)*part : WOULD_BLOCK;
        if (s->error) {
            int e = s->error;
            s->error = 0;
            return -e;
        }
        if (s->rd_shut)
            return 0;
        return nb ? -EAGAIN : WOULD_BLOCK;
    }
    struct uaddr from = s->msgs[s->mhead].from;
    long got = 0;
    int f = -1;
    if (s->type != L_SOCK_STREAM) {
        struct umsg *m = &s->msgs[s->mhead];
        uint32_t n = m->len < d->total ? m->len : (uint32_t)d->total;
        if (ring_copy(p, d, 0, s, m->start, n, true))
            return -EFAULT;
        if (n < m->len)
            *mflags |= L_MSG_TRUNC;
        got = flags & L_MSG_TRUNC ? (long)m->len : (long)n;
        if (!peek) {
            f = m->flight;
            consume(s, 0, true);
        }
    } else {
        uint64_t done = *part;
        for (int i = 0; done < d->total && i < s->nmsgs && f < 0; i++) {
            struct umsg *m = &s->msgs[(s->mhead + (peek ? i : 0)) % UQ_MSGS];
            uint32_t k = m->len < d->total - done ? m->len : (uint32_t)(d->total - done);
            if (ring_copy(p, d, done, s, m->start, k, true))
                return done ? (long)done : -EFAULT;
            done += k;
            if (peek)
                continue;
            f = m->flight;              /* descriptors end the read with their message's bytes */
            m->flight = -1;
            consume(s, k, false);
            i = -1;
        }
        got = (long)done;
        if (waitall && done < d->total && f < 0 && !s->rd_shut && !nb) {
            *part = done;
            moved = true;
            return WOULD_BLOCK;
        }
    }
    if (f >= 0) {
        *clen = room;
        long err = give_rights(p, f, control, clen, flags & L_MSG_CMSG_CLOEXEC, mflags);
        if (err)
            return err;
    }
    if (from.len <= SUN_OFF)
        from.len = 0;                   /* as Linux: an unnamed sender gives no address at all */
    long err = write_addr(p, uaddr, ulen, &from);
    if (err)
        return err;
    if (!peek)
        moved = true;
    return got;
}

/* ---- the calls, from their registers ---------------------------------------------- */

struct lmsghdr {
    uint64_t name;
    uint32_t namelen, pad;
    uint64_t iov, iovlen, control, controllen;
    int32_t flags, pad2;
};

static long send_call(struct lproc *p, uint64_t fd, struct usock *s, const struct data *d, uint64_t flags,
                      uint64_t uaddr, uint64_t alen, uint64_t control, uint64_t clen, uint64_t *done)
{
    struct uaddr to;
    if (uaddr && alen) {
        long err = read_addr(p, uaddr, alen, &to);
        if (err)
            return err;
    }
    return u_send(p, fd, s, d, flags, uaddr && alen ? &to : NULL, control, clen, done);
}

static long recvmsg_call(struct lproc *p, uint64_t fd, struct usock *s, uint64_t um, uint64_t flags, uint64_t *done)
{
    struct lmsghdr m;
    static struct data d;
    if (mem_read(p, &m, um, sizeof m))
        return -EFAULT;
    long err = data_iov(p, &d, m.iov, m.iovlen);
    if (err)
        return err;
    uint32_t mflags = 0;
    uint64_t clen = m.controllen;
    /* The name's length is written back at msg_namelen, as recvfrom's socklen. */
    long n = u_recv(p, fd, s, &d, flags, m.name, m.name ? um + 8 : 0, m.control, &clen, &mflags, done);
    if (n < 0)
        return n;
    if (mem_write(p, um + 40, &clen, sizeof clen) || mem_write(p, um + 48, &mflags, sizeof mflags))
        return -EFAULT;
    return n;
}

/* Call nr of p with its arguments (a kept one: made again, *done its progress); WOULD_BLOCK: it waits. */
static long call(struct lproc *p, uint64_t nr, const uint64_t a[6], uint64_t *done)
{
    struct usock *s;
    long err = usock_of(p, a[0], &s);
    if (err)
        return err;
    static struct data d;
    d = (struct data){ .v = { { a[1], a[2] } }, .n = 1, .total = a[2] };
    uint32_t mflags = 0;
    uint64_t clen = 0;
    switch (nr) {
    case 0: return u_recv(p, a[0], s, &d, 0, 0, 0, 0, &clen, &mflags, done);             /* read */
    case 1: return u_send(p, a[0], s, &d, 0, NULL, 0, 0, done);                    /* write */
    case 19:                                                                         /* readv */
    case 20:                                                                         /* writev */
        if (a[2] > 1024)
            return -EINVAL;
        if ((err = data_iov(p, &d, a[1], a[2])))
            return err;
        return nr == 19 ? u_recv(p, a[0], s, &d, 0, 0, 0, 0, &clen, &mflags, done) : u_send(p, a[0], s, &d, 0, NULL, 0, 0, done);
    case 42: return u_connect(p, a[0], s, a[1], a[2]);
    case 43: return u_accept(p, a[0], s, a[1], a[2], 0);
    case 288: return u_accept(p, a[0], s, a[1], a[2], a[3]);
    case 44: return send_call(p, a[0], s, &d, a[3], a[4], a[5], 0, 0, done);     /* sendto */
    case 45: return u_recv(p, a[0], s, &d, a[3], a[4], a[5], 0, &clen, &mflags, done);  /* recvfrom */
    case 46: {                                                                       /* sendmsg */
        struct lmsghdr m;
        if (mem_read(p, &m, a[1], sizeof m))
            return -EFAULT;
        if ((err = data_iov(p, &d, m.iov, m.iovlen)))
            return err;
        return send_call(p, a[0], s, &d, a[2], m.name, m.namelen, m.control, m.controllen, done);
    }
    case 47: return recvmsg_call(p, a[0], s, a[1], a[2], done);
    case 48: return u_shutdown(s, a[1]);
    case 49: return u_bind(p, s, a[1], a[2]);
    case 50: return u_listen(p, s, a[1]);
    case 51: return u_name(p, s, a[1], a[2], false);
    case 52: return u_name(p, s, a[1], a[2], true);
    case 54: return u_setsockopt(p, s, a[1], a[2], a[3], a[4]);
    case 55: return u_getsockopt(p, s, a[1], a[2], a[3], a[4]);
    default: return -ENOSYS;
    }
}

/* The call served (its registers: cur_regs) on an AF_UNIX descriptor (sockets.c, io.c): answered, or
 * kept until it can go on. */
long unix_syscall(struct lproc *p)
{
    const struct pith_fault_regs *g = &cur_regs;
    const uint64_t a[6] = { g->rdi, g->rsi, g->rdx, g->r10, g->r8, g->r9 };
    uint64_t done = 0;
    busy = true;
    long r = call(p, p->sys_nr, a, &done);
    busy = false;
    if (r == WOULD_BLOCK) {
        /* Kept before the kick: what this call moved may let another go on that lets this one go on. */
        p->pipe_reply = server_reply;
        p->pipe_fd = a[0], p->pipe_n = done, p->pipe_buf = 0, p->pipe_write = false;
        deferred = true;
        r = NO_ANSWER;
    }
    if (moved)
        kick();
    return r;
}

/* A thread of q kept in a call on an AF_UNIX socket: made again, answered if it can go on. */
static bool kick_one(struct lproc *q, void *arg)
{
    (void)arg;
    struct ofile *of = q->pipe_reply ? ofile_of(q, q->pipe_fd) : NULL;
    if (!of || of->kind != FD_UNIX)
        return false;
    const struct pith_fault_regs *r = &q->sys_regs;
    const uint64_t a[6] = { r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9 };
    uint64_t reply = q->pipe_reply, done = q->pipe_n;
    long res = call(q, q->sys_nr, a, &done);
    if (q->state != LP_RUNNING)
        return false;
    q->pipe_n = done;
    if (res == WOULD_BLOCK)
        return false;
    q->pipe_reply = 0;
    answer_syscall(q, reply, res);
    return false;
}

/* Every kept call on an AF_UNIX socket tried again until nothing moves, then kept polls. */
static void kick(void)
{
    if (busy)
        return;                         /* within a call, or the loop: it goes round once more */
    busy = true;
    while (moved) {
        moved = false;
        for (int i = 0; i < LPROC_MAX; i++)
            if (lprocs[i].state == LP_RUNNING)
                thread_each(&lprocs[i], kick_one, NULL);
    }
    busy = false;
    poll_kick();
}

/* ---- readiness (poll, select) ------------------------------------------------------- */

unsigned unix_ready(const struct ofile *of)
{
    const struct usock *s = &socks[of->ino];
    const struct usock *q = peer_of(s);
    unsigned r = 0;
    if (s->error)
        r |= L_POLLERR;
    if (s->rd_shut && s->wr_shut)
        r |= L_POLLHUP;
    if (s->rd_shut)
        r |= L_POLLRDHUP | L_POLLIN | L_POLLRDNORM;
    if (s->nmsgs || (s->state == U_LISTEN && s->npending))
        r |= L_POLLIN | L_POLLRDNORM;
    if (s->type != L_SOCK_DGRAM && s->state == U_CLOSED)
        r |= L_POLLHUP;
    /* Writable: room in the peer's queue (or, as Linux, nothing to wait for: no peer, or it has gone). */
    if (s->state != U_LISTEN && (!q || room_of(q) > 0 || q->rd_shut))
        r |= L_POLLOUT | L_POLLWRNORM;
    return r;
}
