/*
 * Pipes: a buffer of 16 KiB in the server per pipe, its two ends open
 * file descriptions (FD_PIPE_R, FD_PIPE_W) whose counts of references
 * are the readers and writers.  A read of an empty pipe, or a write to a
 * full one, keeps its thread's answer (like nanosleep) and is tried again
 * whenever the other side moves; a read finds EOF once no writer is left,
 * a write to a pipe without readers fails with EPIPE and raises SIGPIPE
 * (signals.c), which ends the writer unless it ignores or handles it.
 *
 * A FIFO (mknod's S_IFIFO inode on /fs) is the same pipe, found by its
 * inode and generation at each open: every open is a description of its
 * own, so the ends are counts of descriptions.  An open for reading waits
 * until a writer has opened since (and one for writing until a reader
 * has), its answer kept like a read's; O_NONBLOCK reading opens at once,
 * O_NONBLOCK writing without a reader is ENXIO, O_RDWR is both ends and
 * never waits.  The pipe and its bytes go with the last description.
 */
#include "personality.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>

#define PIPE_MAX   32
#define PIPE_BYTES (16 * 1024)
#define WOULD_BLOCK (-200000l)
#define OPEN_WAIT   UINT64_MAX          /* a kept call's pipe_buf: a FIFO's open, not a transfer */

struct pipe {
    bool used;
    uint32_t readers, writers;          /* open descriptions of each end (an O_RDWR FIFO's: both) */
    uint32_t opened[2];                 /* FIFOs: readers, writers opened so far (what an open waits for) */
    uint32_t moved[2];                  /* epoll's edges of the read end (writes, a writer's close) and the write end */
    uint32_t ino, gen;                  /* a FIFO's inode on /fs (0: an anonymous pipe) */
    uint32_t head, len;
    char buf[PIPE_BYTES];
};

static struct pipe pipes[PIPE_MAX];

/* Opens of FIFOs kept waiting, their descriptors installed: closed if a signal took the wait. */
static struct opener {
    struct lproc *p;                    /* NULL: a free entry */
    uint32_t pid;                       /* (the slot may hold another process by the sweep) */
    uint64_t reply, fd;
    struct ofile *of;
} openers[LPROC_MAX];

static void sweep_openers(void);

/* A kept open answered: its entry goes (else the sweep would take it for one a signal took). */
static void opener_done(uint64_t reply)
{
    for (int i = 0; i < LPROC_MAX; i++)
        if (openers[i].p && openers[i].reply == reply)
            openers[i].p = NULL;
}

static long try_transfer(struct lproc *p, struct ofile *of, uint64_t buf, uint64_t n, bool write)
{
    struct pipe *pp = &pipes[of->pipe];
    if (!n)
        return 0;
    if (!write) {
        bool was_full = pp->len == PIPE_BYTES;
        if (!pp->len)
            return pp->writers ? ((of->flags & O_NONBLOCK) ? -EAGAIN : WOULD_BLOCK) : 0;
        uint64_t done = 0;
        while (done < n && pp->len) {
            uint32_t k = PIPE_BYTES - pp->head < pp->len ? PIPE_BYTES - pp->head : pp->len;
            if (k > n - done)
                k = (uint32_t)(n - done);
            if (mem_write(p, buf + done, pp->buf + pp->head, k))
                return done ? (long)done : -EFAULT;
            pp->head = (pp->head + k) % PIPE_BYTES, pp->len -= k, done += k;
        }
        if (was_full)
            pp->moved[1]++;             /* an edge for epoll on the write end, when Linux wakes it */
        return (long)done;
    }
    if (!pp->readers) {
        /* SIGPIPE through the signal path: the answer EPIPE delivers it (it ends the writer, runs
         * its handler or is ignored). */
        signal_post(p, SIGPIPE, 0, (int)p->pid, 0);
        return -EPIPE;
    }
    if (pp->len == PIPE_BYTES)
        return (of->flags & O_NONBLOCK) ? -EAGAIN : WOULD_BLOCK;
    uint64_t done = 0;
    while (done < n && pp->len < PIPE_BYTES) {
        uint32_t tail = (pp->head + pp->len) % PIPE_BYTES;
        uint32_t k = tail >= pp->head ? PIPE_BYTES - tail : pp->head - tail;
        if (k > PIPE_BYTES - pp->len)
            k = PIPE_BYTES - pp->len;
        if (k > n - done)
            k = (uint32_t)(n - done);
        if (mem_read(p, pp->buf + tail, buf + done, k))
            return done ? (long)done : -EFAULT;
        pp->len += k, done += k;
    }
    pp->moved[0]++;
    return (long)done;
}

/* A thread of q kept waiting on pipe *arg: tried again, answered if it can go on (true: it moved the pipe). */
static bool kick_one(struct lproc *q, void *arg)
{
    if (!q->pipe_reply)
        return false;
    struct ofile *of = ofile_of(q, q->pipe_fd);
    if (!of || (of->kind != FD_PIPE_R && of->kind != FD_PIPE_W) || of->pipe != *(int *)arg)
        return false;
    uint64_t reply = q->pipe_reply;
    if (q->pipe_buf == OPEN_WAIT) {     /* a FIFO's open: answered once the other end has opened since */
        if (pipes[of->pipe].opened[q->pipe_write ? 0 : 1] == q->pipe_n)
            return false;
        q->pipe_reply = 0;
        opener_done(reply);
        answer_syscall(q, reply, (long)q->pipe_fd);
        return false;
    }
    long r = try_transfer(q, of, q->pipe_buf, q->pipe_n, q->pipe_write);
    if (r == WOULD_BLOCK || q->state != LP_RUNNING)
        return false;                   /* (SIGPIPE ended it: lproc_end gave the reply back) */
    q->pipe_reply = 0;
    answer_syscall(q, reply, r);
    return true;
}

/* The threads kept waiting on pipe `which`: tried again, answered if they can go on. */
static void kick(int which)
{
    sweep_openers();
    for (bool again = true; again;) {
        again = false;
        for (int i = 0; i < LPROC_MAX; i++)
            if (lprocs[i].state == LP_RUNNING && thread_each(&lprocs[i], kick_one, &which))
                again = true;           /* it moved the pipe: others may go on now */
    }
    poll_kick();
}

long pipe_transfer(struct lproc *p, struct ofile *of, uint64_t buf, uint64_t n, bool write)
{
    long r = try_transfer(p, of, buf, n, write);
    if (r == WOULD_BLOCK) {
        /* The fd of this call is the one fault.c's registers name: rdi. */
        p->pipe_reply = server_reply;
        p->pipe_fd = cur_regs.rdi, p->pipe_buf = buf, p->pipe_n = n, p->pipe_write = write;
        deferred = true;
        return NO_ANSWER;
    }
    if (r > 0)
        kick(of->pipe);
    return r;
}

void pipe_end_closed(struct ofile *of)
{
    struct pipe *pp = &pipes[of->pipe];
    bool rd = of->kind == FD_PIPE_R, wr = !rd || (of->flags & O_ACCMODE) == O_RDWR;
    pp->readers -= rd, pp->writers -= wr;
    if (!pp->readers && !pp->writers) {
        pp->used = false;
    } else {
        pp->moved[0] += wr, pp->moved[1] += rd;
        kick(of->pipe);
    }
}

void pipe_cancel(struct lproc *p)
{
    if (p->pipe_reply)
        reply_give(p->pipe_reply);
    p->pipe_reply = 0;
}

static long make_pipe(struct lproc *p, uint64_t fds, uint64_t flags)
{
    if (flags & ~(uint64_t)(O_CLOEXEC | O_NONBLOCK))
        return -EINVAL;
    int i = 0;
    while (i < PIPE_MAX && pipes[i].used)
        i++;
    if (i == PIPE_MAX)
        return -ENFILE;
    struct ofile *r = ofile_new(FD_PIPE_R, O_RDONLY | (flags & O_NONBLOCK)), *w = NULL;
    if (!r || !(w = ofile_new(FD_PIPE_W, O_WRONLY | (flags & O_NONBLOCK)))) {
        if (r)
            r->refs = 0;
        return -ENFILE;
    }
    r->pipe = w->pipe = i;
    long a = fd_new(p, r, 0, flags & O_CLOEXEC), b = a < 0 ? a : fd_new(p, w, 0, flags & O_CLOEXEC);
    if (a < 0 || b < 0) {
        if (a >= 0)
            p->fds[a].of = NULL;
        r->refs = w->refs = 0;
        return -EMFILE;
    }
    int32_t two[2] = { (int32_t)a, (int32_t)b };
    if (mem_write(p, fds, two, sizeof two)) {
        p->fds[a].of = p->fds[b].of = NULL;
        r->refs = w->refs = 0;
        return -EFAULT;
    }
    pipes[i] = (struct pipe){ .used = true, .readers = 1, .writers = 1 };
    return 0;
}

SYSCALL(pipe) { return make_pipe(p, a0, 0); }
SYSCALL(pipe2) { return make_pipe(p, a0, a1); }

unsigned pipe_ready(const struct ofile *of)
{
    const struct pipe *pp = &pipes[of->pipe];
    unsigned r = 0;
    if (of->kind == FD_PIPE_R)          /* POLLIN, POLLRDNORM; POLLHUP with no writer left */
        r = (pp->len ? 0x041u : 0) | (pp->writers ? 0 : 0x010u);
    if (of->kind == FD_PIPE_W || (of->flags & O_ACCMODE) == O_RDWR)
        r |= (pp->readers ? 0 : 0x008u) | (pp->len < PIPE_BYTES ? 0x104u : 0);   /* POLLERR; POLLOUT, POLLWRNORM */
    return r;
}

/* epoll's edges (epoll.c): what moved the end's readiness so far. */
uint32_t pipe_moves(const struct ofile *of) { return pipes[of->pipe].moved[of->kind == FD_PIPE_W]; }

/* ---- FIFOs ------------------------------------------------------------------ */

static bool holds(struct lproc *p, void *reply) { return p->pipe_reply == *(uint64_t *)reply; }

/* Kept opens a signal took (EINTR, or made again by SA_RESTART): their descriptors closed. */
static void sweep_openers(void)
{
    for (int i = 0; i < LPROC_MAX; i++) {
        struct opener *o = &openers[i];
        if (!o->p)
            continue;
        bool same = o->p->state == LP_RUNNING && o->p->pid == o->pid;
        if (same && thread_each(o->p, holds, &o->reply))
            continue;                   /* still waiting */
        struct lproc *p = o->p;
        o->p = NULL;
        if (same && p->fds[o->fd].of == o->of) {
            p->fds[o->fd].of = NULL;
            ofile_drop(o->of);          /* may kick: the entry is free already */
        }
    }
}

long fifo_open(struct lproc *p, uint32_t ino, uint32_t gen, uint32_t flags, bool cloexec)
{
    uint32_t acc = flags & O_ACCMODE;
    if (acc == O_ACCMODE)
        return -EINVAL;
    sweep_openers();
    int i = 0, free = -1;
    for (; i < PIPE_MAX && !(pipes[i].used && pipes[i].ino == ino && pipes[i].gen == gen); i++)
        if (!pipes[i].used && free < 0)
            free = i;
    if (i == PIPE_MAX) {
        if (free < 0)
            return -ENFILE;
        i = free;
        pipes[i] = (struct pipe){ .ino = ino, .gen = gen };
    }
    struct pipe *pp = &pipes[i];
    bool rd = acc != O_WRONLY, wr = acc != O_RDONLY;
    if (acc == O_WRONLY && !pp->readers && (flags & O_NONBLOCK))
        return -ENXIO;
    bool waits = acc != O_RDWR && !(flags & O_NONBLOCK) && !(rd ? pp->writers : pp->readers);
    int k = 0;
    while (waits && k < LPROC_MAX && openers[k].p)
        k++;
    if (k == LPROC_MAX)
        return -ENFILE;
    struct ofile *of = ofile_new(rd ? FD_PIPE_R : FD_PIPE_W, flags & (O_ACCMODE | O_NONBLOCK));
    if (!of)
        return -ENFILE;
    of->pipe = i, of->ino = ino, of->gen = gen;
    long fd = fd_new(p, of, 0, cloexec);
    if (fd < 0) {
        of->refs = 0;
        return fd;
    }
    pp->used = true;
    pp->readers += rd, pp->writers += wr;
    pp->opened[0] += rd, pp->opened[1] += wr;
    kick(i);                            /* openers of the other end go on */
    if (!waits)
        return fd;
    openers[k] = (struct opener){ .p = p, .pid = p->pid, .reply = server_reply, .fd = (uint64_t)fd, .of = of };
    p->pipe_reply = server_reply;
    p->pipe_fd = (uint64_t)fd, p->pipe_buf = OPEN_WAIT, p->pipe_n = pp->opened[rd ? 1 : 0], p->pipe_write = wr;
    deferred = true;
    return NO_ANSWER;
}

/* A readv or writev that moved something before it would wait: answered now after all. */
void pipe_cancel_keep(struct lproc *p)
{
    p->pipe_reply = 0;
    deferred = false;
}
