/*
 * epoll: an instance is an open file description (FD_EPOLL, ino its index
 * here) holding an interest list of (file description, descriptor number)
 * pairs, as Linux keys them.  It shares dup, fork and close with every
 * other description; an item goes when its file description's last
 * descriptor closes (epoll_forget), the instance when its own does.
 *
 * epoll_wait is one more kind of poll (poll.c): its readiness is poll's
 * (poll_ready), evaluated from the call's registers when it starts and
 * each time something moves, kept with poll's reply object and deadline,
 * interrupted by a signal with EINTR.  Edge-triggered items (EPOLLET) are
 * reported when a bit of their readiness rises since the last report, or
 * when their file moved since then: a pipe end when the other end read,
 * wrote or closed, a socket when the process made a call on it (so
 * reading until EAGAIN re-arms it, as on Linux).  EPOLLONESHOT disables
 * an item once reported, until EPOLL_CTL_MOD.  An instance may watch
 * another that watches no instance; deeper nesting is ELOOP.
 */
#include "personality.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#define EPOLL_MAX    16                 /* instances in all */
#define EPOLL_ITEMS  64                 /* items of one instance */
#define L_EPOLLIN    0x001u
#define L_EPOLLERR   0x008u
#define L_EPOLLHUP   0x010u
#define L_EPOLLRDHUP 0x2000u
#define L_EPOLLEXCLUSIVE (1u << 28)
#define L_EPOLLWAKEUP    (1u << 29)
#define L_EPOLLONESHOT   (1u << 30)
#define L_EPOLLET        (1u << 31)
#define CTL_ADD 1
#define CTL_DEL 2
#define CTL_MOD 3
#define WAIT_MAX     EPOLL_ITEMS        /* events one wait gathers at most (more wait for the next) */

struct epoll_event_l {                  /* x86-64's struct epoll_event: packed */
    uint32_t events;
    uint64_t data;
} __attribute__((packed));

struct item {
    struct ofile *of;                   /* NULL: a free entry */
    int32_t fd;
    uint32_t events;                    /* as asked, with EPOLLERR and EPOLLHUP */
    uint64_t data;
    uint32_t seen, moves;               /* EPOLLET: readiness and the file's moves at the last report */
    bool off;                           /* EPOLLONESHOT: reported, until EPOLL_CTL_MOD */
};

static struct epoll {
    bool used;
    struct item items[EPOLL_ITEMS];
} epolls[EPOLL_MAX];

static long create(struct lproc *p, bool cloexec)
{
    int i = 0;
    while (i < EPOLL_MAX && epolls[i].used)
        i++;
    struct ofile *of = i < EPOLL_MAX ? ofile_new(FD_EPOLL, O_RDWR) : NULL;
    if (!of)
        return -ENFILE;
    of->ino = (uint32_t)i;
    long fd = fd_new(p, of, 0, cloexec);
    if (fd < 0) {
        of->refs = 0;
        return fd;
    }
    memset(&epolls[i], 0, sizeof epolls[i]);
    epolls[i].used = true;
    return fd;
}

SYSCALL(epoll_create) { return (int32_t)a0 <= 0 ? -EINVAL : create(p, false); }
SYSCALL(epoll_create1) { return a0 & ~(uint64_t)O_CLOEXEC ? -EINVAL : create(p, a0 & O_CLOEXEC); }

static struct item *find(struct epoll *ep, const struct ofile *of, int32_t fd)
{
    for (int i = 0; i < EPOLL_ITEMS; i++)
        if (ep->items[i].of == of && ep->items[i].fd == fd)
            return &ep->items[i];
    return NULL;
}

static bool watches_epoll(const struct epoll *ep)
{
    for (int i = 0; i < EPOLL_ITEMS; i++)
        if (ep->items[i].of && ep->items[i].of->kind == FD_EPOLL)
            return true;
    return false;
}

static bool watched(const struct ofile *of)
{
    for (int e = 0; e < EPOLL_MAX; e++)
        for (int i = 0; epolls[e].used && i < EPOLL_ITEMS; i++)
            if (epolls[e].items[i].of == of)
                return true;
    return false;
}

/* Nesting one level deep at most: so poll_ready of an instance never recurses further. */
static bool too_deep(const struct ofile *epof, const struct ofile *tof)
{
    return tof->kind == FD_EPOLL && (watches_epoll(&epolls[tof->ino]) || watched(epof));
}

SYSCALL(epoll_ctl)
{
    struct epoll_event_l ev = { 0 };
    if (a1 != CTL_DEL && mem_read(p, &ev, a3, sizeof ev))
        return -EFAULT;
    struct ofile *epof = ofile_of(p, a0), *tof = ofile_of(p, a2);
    if (!epof || !tof)
        return -EBADF;
    /* Files and devices that are always ready cannot be waited for: Linux's EPERM. */
    if (tof->kind == FD_FILE || tof->kind == FD_DIR || tof->kind == FD_NULL || tof->kind == FD_PROCFILE ||
        tof->kind == FD_PROCDIR)
        return -EPERM;
    if (epof->kind != FD_EPOLL || epof == tof)
        return -EINVAL;
    if ((ev.events & L_EPOLLEXCLUSIVE) && (a1 == CTL_MOD || (ev.events & L_EPOLLONESHOT) || tof->kind == FD_EPOLL))
        return -EINVAL;
    struct epoll *ep = &epolls[epof->ino];
    struct item *it = find(ep, tof, (int32_t)a2);
    switch (a1) {
    case CTL_ADD:
        if (it)
            return -EEXIST;
        if (too_deep(epof, tof))
            return -ELOOP;
        for (int i = 0; !it && i < EPOLL_ITEMS; i++)
            it = ep->items[i].of ? NULL : &ep->items[i];
        if (!it)
            return -ENOSPC;
        *it = (struct item){ .of = tof, .fd = (int32_t)a2 };
        break;
    case CTL_MOD:
        if (!it)
            return -ENOENT;
        break;
    case CTL_DEL:
        if (!it)
            return -ENOENT;
        it->of = NULL;
        return 0;
    default:
        return -EINVAL;
    }
    it->events = ev.events | L_EPOLLERR | L_EPOLLHUP;
    it->data = ev.data;
    it->seen = 0;
    it->off = false;
    poll_kick();                        /* a thread of ours waiting on this instance may have events now */
    return 0;
}

/* The file's moves: a pipe end's (pipe.c), a socket's (sockets.c). */
static uint32_t moves_of(const struct ofile *of)
{
    return of->kind == FD_PIPE_R || of->kind == FD_PIPE_W ? pipe_moves(of) : of->moves;
}

/* An item's events to report now (0: none); EPOLLET's memory of what it saw kept up to date. */
static uint32_t item_events(struct item *it)
{
    if (!it->of || it->off)
        return 0;
    uint32_t r = poll_ready(it->of);
    if (it->of->kind == FD_SOCKET && (r & L_EPOLLHUP))
        r |= L_EPOLLRDHUP;              /* the peer is gone: it sends no more */
    r &= it->events;
    if (!(it->events & L_EPOLLET))
        return r;
    it->seen &= r;                      /* a bit that fell may rise again: an edge */
    if (!r || (!(r & ~it->seen) && moves_of(it->of) == it->moves))
        return 0;
    return r;
}

/* poll.c's evaluation of a kept or new epoll_wait: events written, their count, or -errno. */
long epoll_eval(struct lproc *p, uint64_t epfd, uint64_t events, int32_t max)
{
    static struct epoll_event_l out[WAIT_MAX];
    if (max <= 0 || (uint32_t)max > 0x7fffffffu / sizeof out[0])
        return -EINVAL;
    struct ofile *epof = ofile_of(p, epfd);
    if (!epof)
        return -EBADF;
    if (epof->kind != FD_EPOLL)
        return -EINVAL;
    struct epoll *ep = &epolls[epof->ino];
    int n = 0;
    for (int i = 0; i < EPOLL_ITEMS && n < max && n < WAIT_MAX; i++) {
        struct item *it = &ep->items[i];
        uint32_t r = item_events(it);
        if (!r)
            continue;
        out[n++] = (struct epoll_event_l){ .events = r, .data = it->data };
        it->seen = r;
        it->moves = moves_of(it->of);
        it->off = (it->events & L_EPOLLONESHOT) != 0;
    }
    if (n && mem_write(p, events, out, (uint64_t)n * sizeof out[0]))
        return -EFAULT;
    return n;
}

/* poll's readiness of an instance: readable while one of its items is ready (level, nothing changed). */
unsigned epoll_ready(const struct ofile *of)
{
    const struct epoll *ep = &epolls[of->ino];
    for (int i = 0; i < EPOLL_ITEMS; i++) {
        const struct item *it = &ep->items[i];
        if (it->of && !it->off && (poll_ready(it->of) & it->events))
            return L_EPOLLIN | 0x040u;  /* POLLIN, POLLRDNORM */
    }
    return 0;
}

/* A file description's last descriptor closed: its items go; an instance goes itself. */
void epoll_forget(const struct ofile *of)
{
    if (of->kind == FD_EPOLL)
        epolls[of->ino].used = false;
    for (int e = 0; e < EPOLL_MAX; e++)
        for (int i = 0; epolls[e].used && i < EPOLL_ITEMS; i++)
            if (epolls[e].items[i].of == of)
                epolls[e].items[i].of = NULL;
}
