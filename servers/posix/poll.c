/*
 * poll, ppoll, select, pselect6 (and epoll_wait, epoll_pwait, whose
 * evaluation is epoll.c's) over pipes, the console, files and
 * /dev/null.  Files and /dev/null are always ready; a pipe's read end is
 * ready with bytes in it or no writer left (POLLHUP), its write end with
 * room (POLLERR once no reader is left); the console is ready to write,
 * and to read once a line (or, raw, a byte) is typed.  With nothing ready
 * the answer is kept, like a pipe read's, with the call's registers: each
 * time a pipe moves or a key is typed every kept call is evaluated again
 * from them, and the server loop answers 0 when its time runs out.  A
 * signal interrupts it with EINTR (never restarted, as on Linux).
 */
#include "personality.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#define L_POLLIN   0x001
#define L_POLLPRI  0x002
#define L_POLLOUT  0x004
#define L_POLLERR  0x008
#define L_POLLHUP  0x010
#define L_POLLNVAL 0x020
#define L_POLLRDNORM 0x040
#define L_POLLWRNORM 0x100
#define NR_POLL    7
#define NR_SELECT  23
#define NR_PSELECT 270
#define NR_PPOLL   271
#define NR_SIGSUSPEND 130
#define NR_EPOLL_WAIT 232
#define NR_EPOLL_PWAIT 281
#define POLL_MAX   FD_MAX               /* RLIMIT_NOFILE as reported */
#define NO_DEADLINE UINT64_MAX

static int kept;                        /* calls kept waiting: the loop looks for timeouts only if any */

struct lpollfd {
    int32_t fd;
    int16_t events, revents;
};

static unsigned ready_of(const struct ofile *of)
{
    switch (of->kind) {
    case FD_EPOLL:
        return epoll_ready(of);
    case FD_CONSOLE:
        return L_POLLOUT | L_POLLWRNORM | (tty_readable() ? L_POLLIN | L_POLLRDNORM : 0);
    case FD_PIPE_R:
    case FD_PIPE_W:
        return pipe_ready(of);
    case FD_SOCKET:
        return sock_ready(of);
    case FD_UNIX:
        return unix_ready(of);
    default:
        return L_POLLIN | L_POLLOUT | L_POLLRDNORM | L_POLLWRNORM;
    }
}

/* The same for epoll.c, whose items are any description. */
unsigned poll_ready(const struct ofile *of) { return ready_of(of); }

/* poll's evaluation: the count of entries with events (revents written back), or -errno. */
static long eval_poll(struct lproc *p, uint64_t ufds, uint64_t nfds, bool write_back_empty)
{
    static struct lpollfd fds[POLL_MAX];
    if (nfds > POLL_MAX)
        return -EINVAL;
    if (nfds && mem_read(p, fds, ufds, nfds * sizeof fds[0]))
        return -EFAULT;
    long count = 0;
    for (uint64_t i = 0; i < nfds; i++) {
        if (fds[i].fd < 0) {
            fds[i].revents = 0;         /* as Linux: a caller reusing its array (busybox nc) must not see old events */
            continue;
        }
        struct ofile *of = ofile_of(p, (uint64_t)fds[i].fd);
        unsigned r = of ? ready_of(of) & ((unsigned)(uint16_t)fds[i].events | L_POLLERR | L_POLLHUP) : L_POLLNVAL;
        fds[i].revents = (int16_t)r;
        count += r != 0;
    }
    if ((count || write_back_empty) && nfds && mem_write(p, ufds, fds, nfds * sizeof fds[0]))
        return -EFAULT;
    return count;
}

/* select's: three bitmaps of nfds bits; the count of bits left set (written back), or -errno. */
static long eval_select(struct lproc *p, uint64_t nfds, const uint64_t sets[3], bool write_back_empty)
{
    uint64_t in[3] = { 0 }, out[3] = { 0 };
    if (nfds > POLL_MAX)
        nfds = POLL_MAX;                /* bits beyond our descriptors name none (EBADF if set, below) */
    uint64_t bytes = (nfds + 7) / 8;
    for (int s = 0; s < 3; s++)
        if (sets[s] && bytes && mem_read(p, &in[s], sets[s], bytes))
            return -EFAULT;
    long count = 0;
    for (uint64_t fd = 0; fd < nfds; fd++) {
        uint64_t bit = 1ull << fd;
        if (!((in[0] | in[1] | in[2]) & bit))
            continue;
        struct ofile *of = ofile_of(p, fd);
        if (!of)
            return -EBADF;
        unsigned r = ready_of(of);
        if ((in[0] & bit) && (r & (L_POLLIN | L_POLLHUP | L_POLLERR)))
            out[0] |= bit, count++;
        if ((in[1] & bit) && (r & (L_POLLOUT | L_POLLERR)))
            out[1] |= bit, count++;
        if ((in[2] & bit) && (r & L_POLLPRI))
            out[2] |= bit, count++;
    }
    if (count || write_back_empty)
        for (int s = 0; s < 3; s++)
            if (sets[s] && bytes && mem_write(p, sets[s], &out[s], bytes))
                return -EFAULT;
    return count;
}

/* A kept or new call evaluated from its registers (r: rdi, rsi, rdx, r10, r8 are its arguments). */
static long eval(struct lproc *p, uint64_t nr, const struct pith_fault_regs *r, bool empty)
{
    if (nr == NR_SIGSUSPEND)
        return 0;                       /* nothing is ever ready: only a signal ends it */
    /* Linux takes poll's count as an unsigned int and select's as an int: the upper half is not ours. */
    if (nr == NR_POLL || nr == NR_PPOLL)
        return eval_poll(p, r->rdi, (uint32_t)r->rsi, empty);
    if (nr == NR_EPOLL_WAIT || nr == NR_EPOLL_PWAIT)
        return epoll_eval(p, r->rdi, r->rsi, (int32_t)r->rdx);   /* epoll.c */
    const uint64_t sets[3] = { r->rsi, r->rdx, r->r10 };
    if ((int32_t)r->rdi < 0)
        return -EINVAL;
    return eval_select(p, (uint32_t)r->rdi, sets, empty);
}

/* The deadline of a timeout in ns (NO_DEADLINE: none), or -EINVAL / -EFAULT. */
static long deadline_of(struct lproc *p, uint64_t nr, const struct pith_fault_regs *r, uint64_t *when)
{
    uint64_t now = pith_clock_ns(time_page), ns;
    *when = NO_DEADLINE;
    if (nr == NR_POLL || nr == NR_EPOLL_WAIT || nr == NR_EPOLL_PWAIT) {
        int64_t ms = (int32_t)(nr == NR_POLL ? r->rdx : r->r10);
        if (ms >= 0)
            *when = now + (uint64_t)ms * 1000000;
        return 0;
    }
    uint64_t at = nr == NR_PPOLL ? r->rdx : r->r8;
    if (!at)
        return 0;
    int64_t t[2];
    if (mem_read(p, t, at, sizeof t))
        return -EFAULT;
    if (nr == NR_SELECT) {
        if (t[0] < 0 || t[1] < 0)       /* microseconds beyond a second count as seconds, as on Linux */
            return -EINVAL;
        ns = (uint64_t)t[0] * 1000000000 + (uint64_t)t[1] * 1000;
    } else {
        if (t[0] < 0 || t[1] < 0 || t[1] >= 1000000000)
            return -EINVAL;
        ns = (uint64_t)t[0] * 1000000000 + (uint64_t)t[1];
    }
    *when = now + ns;
    return 0;
}

/* ppoll's and pselect6's signal mask, for the time of the call: the old one back at the answer. */
static long swap_mask(struct lproc *p, uint64_t nr, const struct pith_fault_regs *r)
{
    uint64_t mask_at = 0, size = 8;
    if (nr == NR_PPOLL) {
        mask_at = r->r10, size = r->r8;
    } else if (nr == NR_EPOLL_PWAIT) {
        mask_at = r->r8, size = r->r9;
    } else if (nr == NR_PSELECT && r->r9) {
        uint64_t pair[2];               /* pselect6's sixth argument: { sigset pointer, its size } */
        if (mem_read(p, pair, r->r9, sizeof pair))
            return -EFAULT;
        mask_at = pair[0], size = pair[1];
    }
    if (!mask_at)
        return 0;
    if (size != 8)
        return -EINVAL;
    uint64_t set;
    if (mem_read(p, &set, mask_at, 8))
        return -EFAULT;
    p->poll_oldmask = p->sigmask;
    p->poll_masked = true;
    p->sigmask = set & ~((1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1)));
    return 0;
}

static void restore_mask(struct lproc *p)
{
    if (p->poll_masked)
        p->sigmask = p->poll_oldmask;
    p->poll_masked = false;
}

static long start(struct lproc *p, uint64_t nr)
{
    const struct pith_fault_regs *r = &cur_regs;
    uint64_t when;
    long err = deadline_of(p, nr, r, &when);
    if (err)
        return err;
    /* Written back only when answered: select's sets must stay as asked while the call is kept. */
    long n = eval(p, nr, r, false);
    if (n)
        return n;
    if (when <= pith_clock_ns(time_page))
        return eval(p, nr, r, true);
    if ((err = swap_mask(p, nr, r)))
        return err;
    if (p->sigpending & ~p->sigmask)
        return -EINTR;                  /* the call's mask lets one through: delivered as this answer goes back */
    p->poll_reply = server_reply;
    p->poll_deadline = when;
    kept++;
    deferred = true;
    return NO_ANSWER;
}

SYSCALL(poll) { return start(p, NR_POLL); }
SYSCALL(ppoll) { return start(p, NR_PPOLL); }
SYSCALL(select) { return start(p, NR_SELECT); }
SYSCALL(pselect6) { return start(p, NR_PSELECT); }
SYSCALL(epoll_wait) { return start(p, NR_EPOLL_WAIT); }
SYSCALL(epoll_pwait) { return a4 && a5 != 8 ? -EINVAL : start(p, NR_EPOLL_PWAIT); }

/*
 * rt_sigsuspend: a ppoll of nothing, without a timeout, under the mask
 * given, which only a signal ends: -EINTR, the handler run on the way
 * back and the mask from before the call back when it returns.  ash's
 * wait builtin waits for SIGCHLD this way.
 */
SYSCALL(rt_sigsuspend)
{
    uint64_t set;
    if (a1 != 8)
        return -EINVAL;
    if (mem_read(p, &set, a0, 8))
        return -EFAULT;
    p->poll_oldmask = p->sigmask;
    p->poll_masked = true;
    p->sigmask = set & ~((1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1)));
    if (p->sigpending & ~p->sigmask)
        return -EINTR;                  /* one is due already: delivered as this answer goes back */
    p->poll_reply = server_reply;
    p->poll_deadline = NO_DEADLINE;
    kept++;
    deferred = true;
    return NO_ANSWER;
}

/* pause: rt_sigsuspend under the mask the process has. */
SYSCALL(pause)
{
    p->poll_oldmask = p->sigmask;
    p->poll_masked = true;
    if (p->sigpending & ~p->sigmask)
        return -EINTR;
    p->poll_reply = server_reply;
    p->poll_deadline = NO_DEADLINE;
    kept++;
    deferred = true;
    return NO_ANSWER;
}

static void answer(struct lproc *p, long r)
{
    uint64_t reply = p->poll_reply;
    p->poll_reply = 0;
    kept--;
    restore_mask(p);
    answer_syscall(p, reply, r);
}

static bool kick_one(struct lproc *q, void *arg)
{
    (void)arg;
    long n = q->poll_reply ? eval(q, q->sys_nr, &q->sys_regs, false) : 0;
    if (n)
        answer(q, n);
    return false;
}

void poll_kick(void)
{
    for (int i = 0; i < LPROC_MAX && kept; i++)
        if (lprocs[i].state == LP_RUNNING)
            thread_each(&lprocs[i], kick_one, NULL);
}

/* A thread of q whose poll's time has come answered; arg: now, then the time until the next (0: none). */
static bool expire_one(struct lproc *q, void *arg)
{
    uint64_t *t = arg, now = t[0];
    if (!q->poll_reply || q->poll_deadline == NO_DEADLINE)
        return false;
    if (q->poll_deadline <= now)
        answer(q, eval(q, q->sys_nr, &q->sys_regs, true));  /* nothing (or, just now, something) ready */
    else if (!t[1] || q->poll_deadline - now < t[1])
        t[1] = q->poll_deadline - now;
    return false;
}

uint64_t poll_expire(uint64_t now)
{
    if (!kept)
        return 0;                       /* the common case: a getpid costs no walk of the table */
    uint64_t t[2] = { now, 0 };
    for (int i = 0; i < LPROC_MAX; i++)
        if (lprocs[i].state == LP_RUNNING)
            thread_each(&lprocs[i], expire_one, t);
    return t[1];
}

/* Whether some thread waits in a poll or select. */
bool poll_kept(void)
{
    return kept > 0;
}

/* A signal interrupts it (signals.c): its reply object.  The mask stays ppoll's until the
 * signal's frame is built, which saves the one from before the call (signals.c). */
uint64_t poll_interrupt(struct lproc *p)
{
    uint64_t reply = p->poll_reply;
    p->poll_reply = 0;
    kept -= reply != 0;
    return reply;
}

void poll_cancel(struct lproc *p)
{
    if (p->poll_reply) {
        reply_give(p->poll_reply);
        kept--;
    }
    p->poll_reply = 0;
    p->poll_masked = false;
}
