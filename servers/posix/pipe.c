/*
 * Pipes: a buffer of 16 KiB in the server per pipe, its two ends open
 * file descriptions (FD_PIPE_R, FD_PIPE_W) whose counts of references
 * are the readers and writers.  A read of an empty pipe, or a write to a
 * full one, keeps its thread's answer (like nanosleep) and is tried again
 * whenever the other side moves; a read finds EOF once no writer is left,
 * a write to a pipe without readers fails with EPIPE and raises SIGPIPE
 * (signals.c), which ends the writer unless it ignores or handles it.
 */
#include "personality.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>

#define PIPE_MAX   32
#define PIPE_BYTES (16 * 1024)
#define WOULD_BLOCK (-200000l)

struct pipe {
    bool used;
    struct ofile *r, *w;                /* the two ends (NULL once closed) */
    uint32_t head, len;
    char buf[PIPE_BYTES];
};

static struct pipe pipes[PIPE_MAX];

static long try_transfer(struct lproc *p, struct ofile *of, uint64_t buf, uint64_t n, bool write)
{
    struct pipe *pp = &pipes[of->pipe];
    if (!n)
        return 0;
    if (!write) {
        if (!pp->len)
            return pp->w ? ((of->flags & O_NONBLOCK) ? -EAGAIN : WOULD_BLOCK) : 0;
        uint64_t done = 0;
        while (done < n && pp->len) {
            uint32_t k = PIPE_BYTES - pp->head < pp->len ? PIPE_BYTES - pp->head : pp->len;
            if (k > n - done)
                k = (uint32_t)(n - done);
            if (mem_write(p, buf + done, pp->buf + pp->head, k))
                return done ? (long)done : -EFAULT;
            pp->head = (pp->head + k) % PIPE_BYTES, pp->len -= k, done += k;
        }
        return (long)done;
    }
    if (!pp->r) {
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
    if (of == pp->r)
        pp->r = NULL;
    if (of == pp->w)
        pp->w = NULL;
    if (!pp->r && !pp->w)
        pp->used = false;
    else
        kick(of->pipe);
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
    pipes[i] = (struct pipe){ .used = true, .r = r, .w = w };
    return 0;
}

SYSCALL(pipe) { return make_pipe(p, a0, 0); }
SYSCALL(pipe2) { return make_pipe(p, a0, a1); }

unsigned pipe_ready(const struct ofile *of)
{
    const struct pipe *pp = &pipes[of->pipe];
    if (of->kind == FD_PIPE_R)          /* POLLIN, POLLRDNORM; POLLHUP with no writer left */
        return (pp->len ? 0x041u : 0) | (pp->w ? 0 : 0x010u);
    return (pp->r ? 0 : 0x008u) | (pp->len < PIPE_BYTES ? 0x104u : 0);   /* POLLERR; POLLOUT, POLLWRNORM */
}

/* A readv or writev that moved something before it would wait: answered now after all. */
void pipe_cancel_keep(struct lproc *p)
{
    p->pipe_reply = 0;
    deferred = false;
}
