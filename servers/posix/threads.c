/*
 * Threads (clone with CLONE_THREAD), their ids, exit and futexes.  A
 * process's first thread is its struct lproc; each further thread is an
 * lthread: its own TCB in the process's address space, its own fault
 * endpoint (badged THREAD_BADGE + index), tid, TLS bases, signal mask and
 * thread-directed pending signals.
 *
 * The system-call handlers know one thread per process, so while one of
 * a thread's calls is served (or one of its kept answers given) its
 * per-thread fields are swapped into the lproc (enter); everything else of
 * the lproc (memory, descriptors, dispositions) is the process's.  A
 * futex wait keeps its answer here, one entry per waiting thread, so
 * only that thread waits.
 */
#include "personality.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define THREAD_MAX        48            /* the fast calls' map: 64 words a column, 16 for the process slots */
/* fastcalls.c: a further thread's badge & 63 falls past the process slots, on words the map never fills. */
_Static_assert(LPROC_MAX + THREAD_MAX <= 64, "thread badges below FAULT_BADGE + 64");
#define LINUX_PRIORITY    90            /* as process.c's */
#define START_FAULT_VA    0x1000        /* as family.c's: a new thread faults at once */
#define CLONE_VM             0x00000100
#define CLONE_SIGHAND        0x00000800
#define CLONE_SETTLS         0x00080000
#define CLONE_PARENT_SETTID  0x00100000
#define CLONE_CHILD_CLEARTID 0x00200000
#define CLONE_CHILD_SETTID   0x01000000

#define FUTEX_WAIT        0
#define FUTEX_WAKE        1
#define FUTEX_REQUEUE     3
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_PRIVATE     128
#define FUTEX_REALTIME    256
#define WAITER_MAX        (THREAD_MAX + LPROC_MAX)

/*
 * The fields of a thread that the lproc holds while it is the one served:
 * its registers and mask, and the places of its kept answers (a pipe's or
 * the console's read or write, wait4, poll, an answer held while stopped),
 * so that each thread may wait in a call of any kind at once.
 */
struct thread_fields {
    uint64_t tcb, fs_base, gs_base, clear_tid, sigmask, sys_nr;
    struct pith_fault_regs sys_regs;
    uint64_t pipe_reply, pipe_fd, pipe_buf, pipe_n;
    bool pipe_write;
    uint64_t tty_reply, tty_buf, tty_n;
    uint64_t poll_reply, poll_deadline, poll_oldmask;
    bool poll_masked;
    uint64_t wait_reply, wait_addr, wait_options;
    int64_t wait_pid;
    bool wait_siginfo;
    uint64_t held_reply;
    struct pith_fault_regs held_regs;
    bool held_full, suspended;
    uint64_t sleeper, wake_ns;
    uint64_t ss_sp, ss_size;
    uint32_t ss_flags;
};

struct lthread {
    bool used, started;
    struct lproc *proc;
    uint32_t tid;
    uint64_t fault_ep;                  /* our slot; the TCB's is in f.tcb while not entered */
    struct thread_fields f;
    uint64_t pending, merged;           /* thread-directed signals; those added to the process's while entered */
    struct pith_fault_regs start_regs;  /* its first fault resumes with these (the creator's, rax 0) */
};

/* A thread kept waiting in FUTEX_WAIT: its answer, address, bitset and deadline. */
struct waiter {
    struct lproc *proc;
    struct lthread *thread;             /* NULL: the process's first thread */
    uint64_t reply, addr, deadline, seq;   /* deadline UINT64_MAX: none */
    uint32_t bitset;
    long timeout;                       /* the answer at the deadline: -ETIMEDOUT, or 0 for a nanosleep */
};
#define SLEEP_ADDR 1                    /* a nanosleep's entry: no futex word has this address */

static struct lthread threads[THREAD_MAX];
static struct lthread *entered[LPROC_MAX];     /* which thread's fields each lproc holds (NULL: its first's) */
static struct waiter waiters[WAITER_MAX];
static uint64_t waiter_seq;
static struct { int count; bool first_gone; } groups[LPROC_MAX];   /* threads beyond the first; it exited */
static bool exiting;                    /* the thread served has made exit */
static struct lthread *serving;         /* the further thread whose call is served (NULL: none, or a first) */
extern uint64_t server_ep;
uint32_t lproc_next_pid(void);          /* process.c */

static int slot_of(const struct lproc *p) { return (int)(p - lprocs); }

static void swap_bytes(void *a, void *b, size_t n)
{
    unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = x[i];
        x[i] = y[i], y[i] = c;
    }
}

#define SWAP(field) swap_bytes(&p->field, &t->f.field, sizeof p->field)

static void swap_fields(struct lproc *p, struct lthread *t)
{
    SWAP(tcb), SWAP(fs_base), SWAP(gs_base), SWAP(clear_tid), SWAP(sigmask), SWAP(sys_nr), SWAP(sys_regs);
    SWAP(pipe_reply), SWAP(pipe_fd), SWAP(pipe_buf), SWAP(pipe_n), SWAP(pipe_write);
    SWAP(tty_reply), SWAP(tty_buf), SWAP(tty_n);
    SWAP(poll_reply), SWAP(poll_deadline), SWAP(poll_oldmask), SWAP(poll_masked);
    SWAP(wait_reply), SWAP(wait_addr), SWAP(wait_options), SWAP(wait_pid), SWAP(wait_siginfo);
    SWAP(held_reply), SWAP(held_regs), SWAP(held_full), SWAP(suspended), SWAP(sleeper), SWAP(wake_ns);
    SWAP(ss_sp), SWAP(ss_size), SWAP(ss_flags);
}

/* Makes t (NULL: the first thread) the thread whose fields p holds; returns the one it held. */
static struct lthread *enter(struct lproc *p, struct lthread *t)
{
    struct lthread *was = entered[slot_of(p)];
    if (was == t)
        return was;
    if (was) {
        swap_fields(p, was);
        was->pending &= p->sigpending;  /* its own signals still pending stay its */
        p->sigpending &= ~was->merged;
    }
    if (t) {
        swap_fields(p, t);
        t->merged = t->pending & ~p->sigpending;
        p->sigpending |= t->pending;
    }
    entered[slot_of(p)] = t;
    return was;
}

static struct lthread *thread_by_tid(uint32_t tid)
{
    for (int i = 0; i < THREAD_MAX; i++)
        if (threads[i].used && threads[i].tid == tid && threads[i].proc->state == LP_RUNNING)
            return &threads[i];
    return NULL;
}

bool thread_group(const struct lproc *p)
{
    return groups[slot_of(p)].count || groups[slot_of(p)].first_gone || entered[slot_of(p)];
}

uint32_t thread_tid(struct lproc *p)
{
    struct lthread *t = entered[slot_of(p)];
    return t ? t->tid : p->pid;
}

bool thread_started(struct lproc *p)
{
    struct lthread *t = entered[slot_of(p)];
    return t ? t->started : !p->fork_pending;
}

uint32_t thread_served(struct lproc *p)
{
    return p != cur_proc ? 0 : serving && serving->proc == p ? serving->tid : p->pid;
}

/*
 * fn for each thread of p, first thread first, that thread's fields
 * entered in turn (a kept answer's place is its thread's); the thread
 * entered before is entered again after.  Stops once fn returns true
 * (returning true) or p ends.
 */
bool thread_each(struct lproc *p, bool (*fn)(struct lproc *p, void *arg), void *arg)
{
    struct lthread *was = entered[slot_of(p)];
    bool done = false;
    int last = groups[slot_of(p)].count ? THREAD_MAX : 0;     /* a process of one thread: no walk */
    for (int i = -1; i < last && !done && p->state == LP_RUNNING; i++) {
        if (i >= 0 && (!threads[i].used || threads[i].proc != p))
            continue;
        enter(p, i < 0 ? NULL : &threads[i]);
        done = fn(p, arg);
    }
    if (p->state == LP_RUNNING)
        enter(p, was);
    return done;
}

/* ---- futexes ---- */

/* A kept answer given to thread t of p (NULL: the first), its fields entered while it is. */
static void answer_thread(struct lproc *p, struct lthread *t, uint64_t reply, long result)
{
    struct lthread *was = enter(p, t);
    answer_syscall(p, reply, result);
    if (p->state == LP_RUNNING)
        enter(p, was);
}

/* Wakes up to n waiters of p on addr whose bitset meets bits (oldest first); how many. */
static long futex_wake(struct lproc *p, uint64_t addr, uint64_t n, uint32_t bits)
{
    long woken = 0;
    while ((uint64_t)woken < n) {
        struct waiter *w = NULL;
        for (int i = 0; i < WAITER_MAX; i++) {
            struct waiter *c = &waiters[i];
            if (c->reply && c->proc == p && c->addr == addr && (c->bitset & bits) && (!w || c->seq < w->seq))
                w = c;
        }
        if (!w)
            break;
        struct waiter gone = *w;
        w->reply = 0;
        answer_thread(gone.proc, gone.thread, gone.reply, 0);
        woken++;
        if (p->state != LP_RUNNING)
            break;
    }
    return woken;
}

/* The thread served waits: its answer kept until a wake, a signal or the deadline (then timeout). */
static long keep(struct lproc *p, uint64_t addr, uint32_t bits, uint64_t deadline, long timeout)
{
    for (int i = 0; i < WAITER_MAX; i++)
        if (!waiters[i].reply) {
            waiters[i] = (struct waiter){ .proc = p, .thread = entered[slot_of(p)], .reply = server_reply,
                                          .addr = addr, .deadline = deadline, .seq = waiter_seq++, .bitset = bits,
                                          .timeout = timeout };
            deferred = true;            /* main.c keeps the reply object: only this thread waits */
            return NO_ANSWER;
        }
    return -ENOMEM;                     /* cannot happen: one entry per thread */
}

/* The deadline of a futex timeout (monotonic ns), or -errno. */
static long deadline_of(struct lproc *p, uint64_t uts, bool absolute, bool realtime, uint64_t *deadline)
{
    *deadline = UINT64_MAX;
    if (!uts)
        return 0;
    int64_t ts[2];
    if (mem_read(p, ts, uts, sizeof ts))
        return -EFAULT;
    if (ts[0] < 0 || ts[1] < 0 || ts[1] >= 1000000000)
        return -EINVAL;
    uint64_t ns = (uint64_t)ts[0] * 1000000000u + (uint64_t)ts[1], now = pith_clock_ns(time_page);
    if (!absolute)
        *deadline = now + ns;
    else if (realtime)                  /* the realtime clock runs with the monotonic one (clock.c) */
        *deadline = ns > clock_realtime_ns() - now ? ns - (clock_realtime_ns() - now) : 0;
    else
        *deadline = ns;
    return 0;
}

static long futex_wait(struct lproc *p, uint64_t addr, uint32_t val, uint64_t uts, uint32_t bits, bool absolute,
                       bool realtime)
{
    uint64_t deadline;
    long err = deadline_of(p, uts, absolute, realtime, &deadline);
    if (err)
        return err;
    uint32_t now_val;
    if (mem_read(p, &now_val, addr, 4))
        return -EFAULT;
    if (now_val != val)
        return -EAGAIN;
    if (deadline <= pith_clock_ns(time_page))
        return -ETIMEDOUT;
    return keep(p, addr, bits, deadline, -ETIMEDOUT);
}

SYSCALL(futex)
{
    uint64_t cmd = a1 & ~(uint64_t)(FUTEX_PRIVATE | FUTEX_REALTIME);
    bool realtime = a1 & FUTEX_REALTIME;
    if (a0 & 3)
        return -EINVAL;
    /* Every process's memory is its own (fork copies it), so shared futexes are private ones. */
    switch (cmd) {
    case FUTEX_WAIT:
        if (realtime)
            return -ENOSYS;             /* as Linux: only the bitset wait takes a clock */
        return futex_wait(p, a0, (uint32_t)a2, a3, ~0u, false, false);
    case FUTEX_WAIT_BITSET:
        if (!(uint32_t)a5)
            return -EINVAL;
        return futex_wait(p, a0, (uint32_t)a2, a3, (uint32_t)a5, true, realtime);
    case FUTEX_WAKE:
        return futex_wake(p, a0, (uint32_t)a2, ~0u);
    case FUTEX_WAKE_BITSET:
        if (!(uint32_t)a5)
            return -EINVAL;
        return futex_wake(p, a0, (uint32_t)a2, (uint32_t)a5);
    case FUTEX_CMP_REQUEUE:
    case FUTEX_REQUEUE: {
        if ((int32_t)a2 < 0 || (int32_t)a3 < 0 || (a4 & 3))
            return -EINVAL;
        if (cmd == FUTEX_CMP_REQUEUE) {
            uint32_t now_val;
            if (mem_read(p, &now_val, a0, 4))
                return -EFAULT;
            if (now_val != (uint32_t)a5)
                return -EAGAIN;
        }
        long woken = futex_wake(p, a0, (uint32_t)a2, ~0u), moved = 0;
        /* The rest (up to val2, the timeout argument's place) now wait on the second address. */
        for (int i = 0; i < WAITER_MAX && moved < (int32_t)a3; i++)
            if (waiters[i].reply && waiters[i].proc == p && waiters[i].addr == a0)
                waiters[i].addr = a4, moved++;
        return woken + moved;
    }
    default:
        return -ENOSYS;
    }
}

uint64_t futex_expire(uint64_t now)
{
    uint64_t next = 0;
    for (int i = 0; i < WAITER_MAX; i++) {
        struct waiter *w = &waiters[i];
        if (!w->reply || w->deadline == UINT64_MAX)
            continue;
        if (w->deadline <= now) {
            struct waiter gone = *w;
            w->reply = 0;
            answer_thread(gone.proc, gone.thread, gone.reply, gone.timeout);
        } else if (!next || w->deadline - now < next) {
            next = w->deadline - now;
        }
    }
    return next;
}

/* A further thread's nanosleep, kept here like its futex waits (the lproc's sleeper is the first thread's). */
long thread_sleep(struct lproc *p, uint64_t wake)
{
    return wake <= pith_clock_ns(time_page) ? 0 : keep(p, SLEEP_ADDR, 0, wake, 0);
}

/*
 * A blocking socket call is made again later from the process's one
 * place for it (sockets.c's retry): while one thread's is kept, another
 * thread's socket call that may block gets EAGAIN instead of waiting.
 * True if p's call nr (first argument a0) is such a one.
 */
bool thread_kept_busy(struct lproc *p, uint64_t nr, uint64_t a0)
{
    if (!groups[slot_of(p)].count || !sock_blocked(p))
        return false;
    switch (nr) {
    case 0: case 1: case 17: case 18: case 19: case 20: case 43: case 44: case 45: case 46: case 47: case 288: {
        struct ofile *of = ofile_of(p, a0);
        return of && of->kind == FD_SOCKET;
    }
    case 42:
        return true;                    /* connect */
    default:
        return false;
    }
}

/* The entered thread's futex wait (or nanosleep) taken for a signal's EINTR (0: it waits in none). */
uint64_t futex_interrupt(struct lproc *p)
{
    for (int i = 0; i < WAITER_MAX; i++)
        if (waiters[i].reply && waiters[i].proc == p && waiters[i].thread == entered[slot_of(p)]) {
            uint64_t reply = waiters[i].reply;
            waiters[i].reply = 0;
            return reply;
        }
    return 0;
}

/* ---- clone, exit ---- */

static void thread_free(struct lthread *t)
{
    pith_invoke4(t->f.tcb, PITH_TCB_SUSPEND, 0, 0, 0, 0);
    t->proc->cpu_gone_ns += thread_cpu_ns(t->f.tcb);   /* still the process's CPU time */
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, t->f.tcb, 0, 0, 0);
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, t->fault_ep, 0, 0, 0);
    for (int i = 0; i < WAITER_MAX; i++)
        if (waiters[i].reply && waiters[i].thread == t) {
            reply_give(waiters[i].reply);
            waiters[i].reply = 0;
        }
    t->used = false;
    groups[slot_of(t->proc)].count--;
}

long thread_clone(struct lproc *p, uint64_t flags, uint64_t stack, uint64_t ptid, uint64_t ctid, uint64_t tls)
{
    if (!(flags & CLONE_SIGHAND) || !(flags & CLONE_VM))
        return -EINVAL;                 /* as Linux: a thread shares the handlers, which share the memory */
    int i = 0;
    while (i < THREAD_MAX && threads[i].used)
        i++;
    if (i == THREAD_MAX)
        return -EAGAIN;
    struct lthread *t = &threads[i];
    if (!t->fault_ep)                   /* our slots, kept for this entry's whole life */
        t->f.tcb = pith_slot_alloc(), t->fault_ep = pith_slot_alloc();
    uint64_t tcb = t->f.tcb, ep = t->fault_ep;
    *t = (struct lthread){ .used = true, .proc = p, .fault_ep = ep, .f.tcb = tcb };
    t->f.fs_base = (flags & CLONE_SETTLS) ? tls : p->fs_base;
    t->f.gs_base = p->gs_base;
    t->f.sigmask = p->sigmask;          /* the creating thread's */
    t->start_regs = cur_regs;
    t->start_regs.rax = 0;
    t->start_regs.rsp = stack ? stack : cur_regs.rsp;
    if (lproc_retype(p, PITH_OBJ_TCB, tcb, 1) ||
        pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_MINT, ep, server_ep, PITH_RIGHT_WRITE, THREAD_BADGE + (uint64_t)i) ||
        pith_invoke4(tcb, PITH_TCB_CONFIGURE, p->cnode, p->vspace, 0, ep) ||
        pith_invoke4(tcb, PITH_TCB_SET_PRIORITY, LINUX_PRIORITY, LINUX_PRIORITY, 0, 0) ||
        pith_invoke4(tcb, PITH_TCB_SET_TLS, t->f.fs_base, t->f.gs_base, 0, 0)) {
        pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, tcb, 0, 0, 0);
        pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, ep, 0, 0, 0);
        t->used = false;
        return (flags & CLONE_SETTLS) && tls >> 47 ? -EPERM : -EAGAIN;
    }
    t->tid = lproc_next_pid();
    groups[slot_of(p)].count++;
    if (flags & CLONE_PARENT_SETTID)
        mem_write(p, ptid, &t->tid, 4);
    if (flags & CLONE_CHILD_SETTID)
        mem_write(p, ctid, &t->tid, 4);
    if (flags & CLONE_CHILD_CLEARTID)
        t->f.clear_tid = ctid;
    if (pith_invoke4(tcb, PITH_TCB_WRITE_REGISTERS, START_FAULT_VA, t->start_regs.rsp, 0, 0) ||
        pith_invoke4(tcb, PITH_TCB_RESUME, 0, 0, 0, 0)) {
        thread_free(t);
        return -EAGAIN;
    }
    return t->tid;
}

/*
 * exit: the thread ends, its clear-tid word zeroed and woken (how a join
 * learns of it).  The last thread's exit ends the process; the first
 * thread's exit while others run only stops it.
 */
long thread_exit(struct lproc *p, int status)
{
    int g = slot_of(p);
    if (p->clear_tid) {
        uint32_t zero = 0;
        if (!mem_write(p, p->clear_tid, &zero, 4))
            futex_wake(p, p->clear_tid, 1, ~0u);
    }
    bool first = !entered[g];
    if (!groups[g].count || (!first && groups[g].count == 1 && groups[g].first_gone)) {
        lproc_end(p, status, 0);        /* the last thread */
        return NO_ANSWER;
    }
    if (first) {
        pith_invoke4(p->tcb, PITH_TCB_SUSPEND, 0, 0, 0, 0);
        groups[g].first_gone = true;
    } else {
        exiting = true;                 /* thread_fault frees it once its fields are back */
    }
    return NO_ANSWER;
}

/* Every further thread of p goes (exit_group, a fatal signal, execve), its kept answers with it;
 * the first thread's fields back in p. */
void threads_end(struct lproc *p)
{
    for (int i = 0; i < THREAD_MAX; i++)
        if (threads[i].used && threads[i].proc == p) {
            enter(p, &threads[i]);
            pipe_cancel(p);
            tty_cancel(p);
            poll_cancel(p);
            if (p->wait_reply)
                reply_give(p->wait_reply);
            if (p->held_reply)
                reply_give(p->held_reply);
            if (p->sleeper)
                reply_give(p->sleeper);
            p->wait_reply = p->held_reply = p->sleeper = 0;
        }
    enter(p, NULL);
    for (int i = 0; i < THREAD_MAX; i++)
        if (threads[i].used && threads[i].proc == p)
            thread_free(&threads[i]);
    for (int i = 0; i < WAITER_MAX; i++)
        if (waiters[i].reply && waiters[i].proc == p) {
            reply_give(waiters[i].reply);
            waiters[i].reply = 0;
        }
    groups[slot_of(p)].count = 0;
    groups[slot_of(p)].first_gone = false;
}

/* A fault message from thread i: its first (it starts as its creator's copy), or a call or exception. */
bool thread_fault(uint64_t i, struct pith_msg *m)
{
    if (i >= THREAD_MAX || !threads[i].used || threads[i].proc->state != LP_RUNNING)
        return false;
    struct lthread *t = &threads[i];
    if (!t->started) {
        t->started = true;
        resume_regs = t->start_regs;
        *m = (struct pith_msg){ .tag = PITH_TAG(PITH_FAULT_RESUME_REGS, 0) };
        return true;
    }
    struct lproc *p = t->proc;
    exiting = false;
    enter(p, t);
    serving = t;
    bool answer = fault_serve(p, m);
    serving = NULL;
    if (p->state != LP_RUNNING)
        return false;
    enter(p, NULL);
    if (exiting)
        thread_free(t);
    return answer && !exiting;
}

/*
 * tkill and tgkill to a further thread (tgid 0: any process): a signal
 * with a handler is the thread's own, run as its call returns, or now if
 * it waits in a kept call or runs its own code; any other acts on the
 * whole process.  1: not one of
 * ours (the caller treats tid as a process).
 */
long thread_kill(struct lproc *p, uint32_t tgid, uint32_t tid, uint64_t sig)
{
    struct lthread *t = thread_by_tid(tid);
    if (!t)
        return 1;
    struct lproc *q = t->proc;
    if (tgid && q->pid != tgid)
        return -ESRCH;
    if (sig > 64)
        return -EINVAL;
    if (!sig)
        return 0;
    uint64_t bit = 1ull << (sig - 1);
    bool was = q->sigpending & bit;
    signal_post(q, (int)sig, -6, (int)p->pid, 0);   /* SI_TKILL */
    if (entered[slot_of(q)] == t)
        return 0;                       /* to itself: delivered as this call returns */
    uint64_t h = q->sigact[sig - 1].handler;
    if (h <= 1 || !(q->sigpending & bit)) { /* SIG_DFL, SIG_IGN: the process's, as the process's */
        signal_wake(q);
        return 0;
    }
    if (!was)
        q->sigpending &= ~bit;
    t->pending |= bit;
    /* If it waits in a kept call and does not block it, the call is interrupted; the handler runs as it returns. */
    struct lthread *before = enter(q, t);
    signal_wake_thread(q);
    if (q->state == LP_RUNNING)
        enter(q, before);
    return 0;
}
