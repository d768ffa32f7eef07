/*
 * Signals (docs/posix.md, "Signals"): dispositions and the mask
 * (rt_sigaction, rt_sigprocmask), generation (kill, tkill, tgkill, a
 * child's end, SIGPIPE) and delivery.  A signal is delivered when its
 * process's thread comes back from a system call, or at once if the
 * thread is kept waiting in one (nanosleep, a pipe, wait4): the call is
 * interrupted with -EINTR, or restarted after the handler when the
 * handler has SA_RESTART.  A running thread that makes no system call
 * is interrupted for its handler (deliver_running); a default action that
 * ends the process ends it at once.  A handler runs on a Linux
 * rt_sigframe built on the thread's stack, or its alternate stack with
 * SA_ONSTACK (return address sa_restorer, the ucontext with the
 * registers, the FPU state and the mask, the siginfo); rt_sigreturn takes
 * them back.  A processor exception runs its signal's handler the same
 * way (signal_fault).
 */
#include "personality.h"

#include "tls.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>

#define LSA_RESTORER  0x04000000u
#define LSA_ONSTACK   0x08000000u
#define LSA_RESTART   0x10000000u
#define LSA_NODEFER   0x40000000u
#define LSA_RESETHAND 0x80000000u
#define BIT(s)        (1ull << ((s) - 1))
#define UNBLOCKABLE   (BIT(SIGKILL) | BIT(SIGSTOP))
#define USER_END      0x800000000000ull
#define NR_SYSCALL_LEN 2                /* the syscall instruction: 0f 05 */
#define LSS_ONSTACK    1
#define LSS_DISABLE    2
#define LSS_AUTODISARM (1u << 31)
#define LMINSIGSTKSZ   2048
#define FPSTATE_SIZE   512              /* the FXSAVE image: Linux's struct _fpstate without the XSAVE tail */
/*
 * With AVX, the FPU state in the frame is Linux's XSAVE layout: the FXSAVE
 * image, whose software-reserved bytes say what follows (magic, sizes,
 * features), the XSAVE header, the upper halves of YMM0-15 at 576, and a
 * second magic just past the state (as Linux's fpu/signal.c lays it out).
 */
#define XSTATE_SIZE    832              /* x87, SSE, AVX: 512 + header 64 + 256 */
#define XSTATE_FRAME   (XSTATE_SIZE + 4)
#define XSTATE_MAGIC1  0x46505853u
#define XSTATE_MAGIC2  0x46505845u
#define XSTATE_FEATURES 7u              /* x87, SSE, AVX */
#define SW_BYTES       464              /* struct fpx_sw in the FXSAVE image */
#define XSAVE_HEADER   512
#define XSAVE_YMM_HI   576
#define LUC_FP_XSTATE  1u               /* uc_flags: the frame's FPU state has the XSAVE tail */

/* Linux's struct _fpx_sw_bytes: what follows the FXSAVE image. */
struct fpx_sw {
    uint32_t magic1, extended_size;
    uint64_t xfeatures;
    uint32_t xstate_size, padding[7];
};
_Static_assert(sizeof(struct fpx_sw) == 48, "Linux's _fpx_sw_bytes");

/* Linux's x86-64 signal frame, as the kernel lays it out. */
struct lsigcontext {
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
    uint16_t cs, gs, fs, ss;
    uint64_t err, trapno, oldmask, cr2, fpstate, reserved[8];
};
struct lucontext {
    uint64_t flags, link;
    uint64_t ss_sp;
    int32_t ss_flags, pad;
    uint64_t ss_size;
    struct lsigcontext mc;
    uint64_t sigmask;
};
struct lsiginfo {
    int32_t signo, err, code, pad;
    int32_t pid, uid, status, pad2;
    uint8_t rest[96];
};
struct lframe {
    uint64_t pretcode;                  /* where the handler returns: sa_restorer */
    struct lucontext uc;
    struct lsiginfo info;
};
_Static_assert(sizeof(struct lsigcontext) == 256, "sigcontext");
_Static_assert(sizeof(struct lucontext) == 304, "ucontext");
_Static_assert(sizeof(struct lsiginfo) == 128, "siginfo");

struct lstack {
    uint64_t sp;
    int32_t flags, pad;
    uint64_t size;
};

struct pith_fault_regs resume_regs;
struct lproc *cur_proc;
bool signal_retry_due;

static bool default_ignored(int sig)
{
    return sig == SIGCHLD || sig == SIGURG || sig == SIGWINCH || sig == SIGCONT;
}

static bool is_stop(int sig)
{
    return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* ---- stopping and continuing (job control) ---- */

#define LSA_NOCLDSTOP 1
#define CLD_STOPPED_CODE   5
#define CLD_CONTINUED_CODE 6

static void tell_parent(struct lproc *t, int code, int sig)
{
    struct lproc *parent = t->ppid > 1 && !t->orphan ? lproc_by_pid(t->ppid) : NULL;
    if (!parent || parent->state != LP_RUNNING)
        return;
    if (!(parent->sigact[SIGCHLD - 1].flags & LSA_NOCLDSTOP))
        signal_post(parent, SIGCHLD, code, (int)t->pid, sig);
    family_child_changed(t);
    signal_wake(parent);
}

/*
 * Stops t, every thread of it.  A thread in a call is not suspended: the
 * call goes on (a pipe read may take its bytes, a nanosleep its time), and
 * its answer, when it comes, is kept until SIGCONT (signal_answer, in the
 * thread's own place), so the thread runs none of its own code meanwhile.
 * A thread running its own code is suspended; one whose call is on its way
 * to us is left to make it, and its answer kept likewise (suspending it
 * would lose the call: its thread would go on past the syscall instruction
 * as if answered).  arg: the tid of the thread served (0: none of t's).
 */
static bool suspend_one(struct lproc *t, void *arg)
{
    bool in_call = t->sleeper || t->pipe_reply || t->wait_reply || t->tty_reply || t->poll_reply ||
                   thread_tid(t) == *(uint32_t *)arg;
    struct pith_msg m = { 0 };
    if (!in_call && !pith_invoke(t->tcb, PITH_TCB_INTERRUPT, &m) && m.w[0] == PITH_THREAD_READY)
        t->suspended = true;            /* suspended only if running its own code: checked and done at once */
    return false;
}

static void stop(struct lproc *t, int sig)
{
    uint32_t served = thread_served(t);
    t->stopped = true;
    thread_each(t, suspend_one, &served);
    t->stop_sig = sig;
    t->stop_report = true, t->cont_report = false;
    tell_parent(t, CLD_STOPPED_CODE, sig);
}

/* A thread of a stopped process goes on: resumed, or the answer it was kept from given now. */
static bool resume_one(struct lproc *t, void *arg)
{
    (void)arg;
    if (t->suspended)
        pith_invoke4(t->tcb, PITH_TCB_RESUME, 0, 0, 0, 0);
    t->suspended = false;
    if (t->held_reply) {
        uint64_t reply = t->held_reply;
        struct pith_fault_regs regs = t->held_regs;
        t->held_reply = 0;
        signal_answer(t, &regs, t->held_full, reply, NULL);
    }
    return t->stopped;                  /* stopped again by a signal its answer delivered: the rest stay */
}

static void cont(struct lproc *t)
{
    t->stopped = false;
    t->cont_report = true, t->stop_report = false;
    thread_each(t, resume_one, NULL);
    if (t->state == LP_RUNNING)
        tell_parent(t, CLD_CONTINUED_CODE, SIGCONT);
}

bool signal_dumps_core(int sig)
{
    return sig == SIGQUIT || sig == SIGILL || sig == SIGTRAP || sig == SIGABRT || sig == SIGBUS || sig == SIGFPE ||
           sig == SIGSEGV || sig == SIGXCPU || sig == SIGXFSZ || sig == SIGSYS;
}

static bool ignored(const struct lproc *t, int sig)
{
    uint64_t h = t->sigact[sig - 1].handler;
    return sig != SIGKILL && (h == (uint64_t)SIG_IGN || (h == (uint64_t)SIG_DFL && default_ignored(sig)));
}

void signal_post(struct lproc *t, int sig, int code, int pid, int status)
{
    if (t->state != LP_RUNNING || sig < 1 || sig > 64)
        return;
    /* SIGCONT continues whatever its disposition, and cancels pending stops; a stop cancels SIGCONT. */
    if (sig == SIGCONT) {
        t->sigpending &= ~(BIT(SIGSTOP) | BIT(SIGTSTP) | BIT(SIGTTIN) | BIT(SIGTTOU));
        if (t->stopped)
            cont(t);
    } else if (is_stop(sig)) {
        t->sigpending &= ~BIT(SIGCONT);
    }
    /* An ignored signal is dropped, unless blocked: the disposition may change before it is unblocked. */
    if (ignored(t, sig) && !(t->sigmask & BIT(sig)))
        return;
    t->sigpending |= BIT(sig);
    t->siginfo[sig - 1] = (struct siginfo_small){ code, pid, status };
}

/* The signals of t that would act now: pending, not blocked, not ignored (those are dropped). */
static uint64_t due(struct lproc *t)
{
    uint64_t d = t->sigpending & ~t->sigmask;
    if (t->stopped)
        d &= BIT(SIGKILL);              /* the rest wait for SIGCONT */
    for (uint64_t rest = d; rest; rest &= rest - 1) {
        int sig = __builtin_ctzll(rest) + 1;
        if (ignored(t, sig)) {
            t->sigpending &= ~BIT(sig);
            d &= ~BIT(sig);
        }
    }
    return d;
}

static void regs_to_mc(const struct pith_fault_regs *r, struct lsigcontext *mc)
{
    *mc = (struct lsigcontext){ .r8 = r->r8, .r9 = r->r9, .r10 = r->r10, .r11 = r->r11, .r12 = r->r12,
                                .r13 = r->r13, .r14 = r->r14, .r15 = r->r15, .rdi = r->rdi, .rsi = r->rsi,
                                .rbp = r->rbp, .rbx = r->rbx, .rdx = r->rdx, .rax = r->rax, .rcx = r->rcx,
                                .rsp = r->rsp, .rip = r->rip, .eflags = r->rflags, .cs = 0x33, .ss = 0x2b };
}

static void mc_to_regs(const struct lsigcontext *mc, struct pith_fault_regs *r)
{
    *r = (struct pith_fault_regs){ .rip = mc->rip, .rsp = mc->rsp, .rflags = mc->eflags, .rax = mc->rax,
                                   .rbx = mc->rbx, .rcx = mc->rcx, .rdx = mc->rdx, .rsi = mc->rsi, .rdi = mc->rdi,
                                   .rbp = mc->rbp, .r8 = mc->r8, .r9 = mc->r9, .r10 = mc->r10, .r11 = mc->r11,
                                   .r12 = mc->r12, .r13 = mc->r13, .r14 = mc->r14, .r15 = mc->r15 };
}

/* On the alternate stack now (sp), as Linux's on_sig_stack: never while it is disarmed by SS_AUTODISARM. */
static bool on_altstack(const struct lproc *p, uint64_t sp)
{
    return !(p->ss_flags & LSS_AUTODISARM) && p->ss_size && sp > p->ss_sp && sp - p->ss_sp <= p->ss_size;
}

/* sigaltstack's flags for a thread at sp: SS_DISABLE (none), SS_ONSTACK (on it) or 0, and SS_AUTODISARM. */
static int32_t altstack_flags(const struct lproc *p, uint64_t sp)
{
    int32_t f = !p->ss_size ? LSS_DISABLE : on_altstack(p, sp) ? LSS_ONSTACK : 0;
    return f | (int32_t)(p->ss_flags & LSS_AUTODISARM);
}

/*
 * The thread's FPU state, for the frame, and its size: the thread is
 * stopped (in a call to us, or interrupted), so the kernel gives it.  With
 * AVX kept, in Linux's XSAVE layout (XSTATE_FRAME bytes), else the FXSAVE
 * image alone.  0: not to be had (the frame's fpstate is then 0, and
 * rt_sigreturn leaves the FPU as is).
 */
static uint32_t fpu_of(struct lproc *p, uint8_t fpu[XSTATE_FRAME])
{
    struct pith_thread_regs *st = (struct pith_thread_regs *)pith_tls_self()->ipc_buffer->msg;
    if (pith_invoke4(p->tcb, PITH_TCB_READ_ALL_REGISTERS, 0, 0, 0, 0))
        return 0;
    memcpy(fpu, st->fpu, FPSTATE_SIZE);
    if (!st->avx)
        return FPSTATE_SIZE;
    memset(fpu + FPSTATE_SIZE, 0, XSTATE_FRAME - FPSTATE_SIZE);
    const struct fpx_sw sw = { .magic1 = XSTATE_MAGIC1, .extended_size = XSTATE_FRAME,
                               .xfeatures = XSTATE_FEATURES, .xstate_size = XSTATE_SIZE };
    memcpy(fpu + SW_BYTES, &sw, sizeof sw);
    memcpy(fpu + XSAVE_HEADER, &sw.xfeatures, 8);        /* xstate_bv: all three present */
    memcpy(fpu + XSAVE_YMM_HI, st->ymm_hi, sizeof st->ymm_hi);
    const uint32_t magic2 = XSTATE_MAGIC2;
    memcpy(fpu + XSTATE_SIZE, &magic2, 4);
    return XSTATE_FRAME;
}

/*
 * The frame's FPU state back into st: the FXSAVE image, and the upper
 * halves of YMM0-15 if the frame has Linux's XSAVE tail with AVX (as
 * Linux, a tail whose magic or sizes do not match is ignored, and an AVX
 * component marked absent in the header is the initial state, zeros).
 * The parts to write; 0: the frame cannot be read.
 */
static uint64_t fpu_from_frame(struct lproc *p, uint64_t at, struct pith_thread_regs *st)
{
    if (mem_read(p, st->fpu, at, FPSTATE_SIZE))
        return 0;
    struct fpx_sw sw;
    memcpy(&sw, st->fpu + SW_BYTES, sizeof sw);
    uint32_t size = sw.xstate_size, magic2 = 0;
    if (!st->avx || sw.magic1 != XSTATE_MAGIC1 || size < XSTATE_SIZE || sw.extended_size != size + 4 ||
        !(sw.xfeatures & 4) || mem_read(p, &magic2, at + size, 4) || magic2 != XSTATE_MAGIC2)
        return PITH_REGS_FPU;
    uint64_t bv;
    if (mem_read(p, &bv, at + XSAVE_HEADER, 8))
        return 0;
    if (!(bv & 4))
        memset(st->ymm_hi, 0, sizeof st->ymm_hi);
    else if (mem_read(p, st->ymm_hi, at + XSAVE_YMM_HI, sizeof st->ymm_hi))
        return 0;
    return PITH_REGS_FPU | PITH_REGS_AVX;
}

/*
 * The frame for sig's handler on p's stack (its alternate stack with
 * SA_ONSTACK, as Linux chooses it), regs turned into the handler's entry;
 * false: no room, no restorer.  Laid out as Linux does: below the red
 * zone, the FPU state 64-byte aligned, the frame under it with rsp + 8
 * 16-byte aligned.  addr: a fault's address for the siginfo (0: none).
 */
static bool build_frame(struct lproc *p, struct pith_fault_regs *regs, int sig, uint64_t addr)
{
    struct sigact *a = &p->sigact[sig - 1];
    if (!(a->flags & LSA_RESTORER) || !a->restorer)
        return false;
    static struct lframe f;
    static uint8_t fpu[XSTATE_FRAME];
    memset(&f, 0, sizeof f);
    f.pretcode = a->restorer;
    regs_to_mc(regs, &f.uc.mc);
    /* Interrupting ppoll or pselect6: the handler returns to the mask from before the call. */
    f.uc.mc.oldmask = f.uc.sigmask = p->poll_masked ? p->poll_oldmask : p->sigmask;
    p->poll_masked = false;
    const struct siginfo_small *si = &p->siginfo[sig - 1];
    f.info.signo = sig, f.info.code = si->code, f.info.pid = si->pid, f.info.status = si->status;
    if (addr)
        memcpy(&f.info.pid, &addr, sizeof addr);        /* si_addr shares the place of si_pid and si_uid */
    f.uc.ss_sp = p->ss_sp, f.uc.ss_size = p->ss_size, f.uc.ss_flags = altstack_flags(p, regs->rsp);
    uint64_t sp = regs->rsp - 128;                      /* below the red zone */
    bool entering = false;
    if ((a->flags & LSA_ONSTACK) && altstack_flags(p, sp) == 0) {
        sp = p->ss_sp + p->ss_size;
        entering = true;
    }
    uint32_t fpu_size = fpu_of(p, fpu);
    if (fpu_size) {
        sp = (sp - fpu_size) & ~63ull;
        f.uc.mc.fpstate = sp;
    }
    if (fpu_size == XSTATE_FRAME)
        f.uc.flags |= LUC_FP_XSTATE;
    sp = ((sp - sizeof f) & ~15ull) - 8;                /* as after a call: rsp + 8 is 16-aligned */
    /* A frame that does not fit the alternate stack is a SIGSEGV, as on Linux. */
    if (entering && sp <= p->ss_sp)
        return false;
    if ((fpu_size && mem_write(p, f.uc.mc.fpstate, fpu, fpu_size)) || mem_write(p, sp, &f, sizeof f))
        return false;
    if (entering && (p->ss_flags & LSS_AUTODISARM))
        p->ss_sp = 0, p->ss_size = 0, p->ss_flags = 0;
    regs->rip = a->handler;
    regs->rsp = sp;
    regs->rdi = (uint64_t)sig;
    regs->rsi = sp + offsetof(struct lframe, info);
    regs->rdx = sp + offsetof(struct lframe, uc);
    regs->rax = 0;
    p->sigmask |= a->mask | ((a->flags & LSA_NODEFER) ? 0 : BIT(sig));
    p->sigmask &= ~UNBLOCKABLE;
    if (a->flags & LSA_RESETHAND)
        a->handler = (uint64_t)SIG_DFL;
    return true;
}

bool signal_answer(struct lproc *p, struct pith_fault_regs *regs, bool full, uint64_t reply, struct pith_msg *m)
{
    uint64_t d = due(p);
    if (p->stopped && !d) {
        /* Stopped: the answer waits for SIGCONT (cont), with its reply object (the loop's, taken). */
        p->held_reply = reply ? reply : server_reply;
        p->held_regs = *regs;
        p->held_full = full;
        if (!reply)
            deferred = true;
        return false;
    }
    if (d) {
        int sig = __builtin_ctzll(d) + 1;
        p->sigpending &= ~BIT(sig);
        if (is_stop(sig) && p->sigact[sig - 1].handler == (uint64_t)SIG_DFL) {
            stop(p, sig);
            return signal_answer(p, regs, full, reply, m);  /* stopped now: the answer is kept */
        } else if (p->sigact[sig - 1].handler == (uint64_t)SIG_DFL || !build_frame(p, regs, sig, 0)) {
            if (reply)
                reply_give(reply);
            lproc_end(p, 0, p->sigact[sig - 1].handler == (uint64_t)SIG_DFL ? sig : SIGSEGV);
            return false;
        }
        full = true;
    }
    struct pith_msg a = full ? (struct pith_msg){ .tag = PITH_TAG(PITH_FAULT_RESUME_REGS, 0) }
                             : (struct pith_msg){ .tag = PITH_TAG(PITH_FAULT_SYSCALL_RESULT, 1), .w = { regs->rax } };
    if (!reply) {
        if (full)
            resume_regs = *regs;        /* main.c puts them in the IPC buffer as it answers */
        *m = a;
        return true;
    }
    if (full)
        *(struct pith_fault_regs *)pith_tls_self()->ipc_buffer->msg = *regs;
    pith_send(reply, &a);
    reply_give(reply);
    return true;
}

void answer_syscall(struct lproc *p, uint64_t reply, long result)
{
    struct pith_fault_regs regs = p->sys_regs;
    regs.rax = (uint64_t)result;
    signal_answer(p, &regs, false, reply, NULL);
}

/*
 * The thread's stopped state, asked again while the CPU it ran on lets it
 * go (WOULD_BLOCK: the kernel says so only for a few microseconds).
 */
static long read_stopped(struct lproc *t)
{
    long err = PITH_E_WOULD_BLOCK;
    for (int i = 0; i < 1000 && err == PITH_E_WOULD_BLOCK; i++)
        if ((err = pith_invoke4(t->tcb, PITH_TCB_READ_ALL_REGISTERS, 0, 0, 0, 0)) == PITH_E_WOULD_BLOCK)
            pith_sleep_ns(1000);
    return err;
}

/*
 * sig's handler for the entered thread of t, which runs its own code and
 * makes no call (Linux delivers at once, so we interrupt it): suspended by
 * the kernel only if it still runs its own code, its registers read, the
 * frame built as on a call's answer (the FPU state in it), the handler's
 * registers written, resumed.  A thread found in a call (its fault message
 * on its way to us, or answered without the signal, as a page fault is)
 * or not started yet gets it later: the loop tries again (signal_retry).
 */
static bool deliver_running(struct lproc *t, int sig)
{
    struct pith_msg m = { 0 };
    if (!thread_started(t)) {
        signal_retry_due = true;
        return false;
    }
    if (pith_invoke(t->tcb, PITH_TCB_INTERRUPT, &m) || m.w[0] != PITH_THREAD_READY) {
        /* In a call: it is ours soon. Suspended (a first thread that exited): another thread takes it. */
        signal_retry_due |= m.w[0] != PITH_THREAD_INACTIVE;
        return false;
    }
    if (read_stopped(t)) {
        pith_invoke4(t->tcb, PITH_TCB_RESUME, 0, 0, 0, 0);
        signal_retry_due = true;
        return false;
    }
    struct pith_thread_regs *st = (struct pith_thread_regs *)pith_tls_self()->ipc_buffer->msg;
    struct pith_fault_regs regs = st->r;
    t->sigpending &= ~BIT(sig);
    if (!build_frame(t, &regs, sig, 0)) {
        lproc_end(t, 0, SIGSEGV);       /* no room for the frame, as on a call's answer */
        return true;
    }
    st->r = regs;
    if (pith_invoke4(t->tcb, PITH_TCB_WRITE_ALL_REGISTERS, PITH_REGS_GENERAL, 0, 0, 0) ||
        pith_invoke4(t->tcb, PITH_TCB_RESUME, 0, 0, 0, 0))
        lproc_end(t, 0, SIGSEGV);
    return true;
}

static bool due_somewhere(struct lproc *t, void *arg)
{
    (void)arg;
    return due(t) != 0;
}

/* Deliveries put off by deliver_running: each process with a signal due to a thread is woken again. */
void signal_retry(void)
{
    signal_retry_due = false;
    for (int i = 0; i < LPROC_MAX; i++)
        if (lprocs[i].state == LP_RUNNING && thread_each(&lprocs[i], due_somewhere, NULL))
            signal_wake(&lprocs[i]);
}

/*
 * A processor exception (sig) of the entered thread of p, with a handler:
 * the handler runs on a frame made from the faulting registers, the
 * fault's address and code in its siginfo.  As Linux's forced signals:
 * blocked, ignored or default, the process ends with it.  True: answer
 * with *m.
 */
bool signal_fault(struct lproc *p, int sig, int code, uint64_t addr, const struct pith_fault_regs *regs,
                  struct pith_msg *m)
{
    uint64_t h = p->sigact[sig - 1].handler;
    struct pith_fault_regs r = *regs;
    p->siginfo[sig - 1] = (struct siginfo_small){ code, 0, 0 };
    if (h == (uint64_t)SIG_DFL || h == (uint64_t)SIG_IGN || (p->sigmask & BIT(sig)) ||
        !build_frame(p, &r, sig, addr)) {
        lproc_end(p, 0, sig);
        return false;
    }
    resume_regs = r;                    /* main.c puts them in the IPC buffer as it answers */
    *m = (struct pith_msg){ .tag = PITH_TAG(PITH_FAULT_RESUME_REGS, 0) };
    return true;
}

/*
 * A signal due to the entered thread of t acts on it now: a stop stops the
 * process, a kept call of the thread is interrupted (EINTR, or made again
 * after the handler), a default action ends the process.  False if it
 * does nothing (nothing due, or a handler and no call kept): another
 * thread may take it.  arg: the tid of the thread served, which takes its
 * signals as its call returns (0: none of t's).
 */
static bool interrupt_one(struct lproc *t, void *arg)
{
    if (thread_tid(t) == *(uint32_t *)arg)
        return false;
    uint64_t d = due(t);
    if (!d)
        return false;
    int sig = __builtin_ctzll(d) + 1;
    bool handler = t->sigact[sig - 1].handler != (uint64_t)SIG_DFL;
    if (is_stop(sig) && !handler) {
        t->sigpending &= ~BIT(sig);
        stop(t, sig);                   /* running or kept waiting: stopped now */
        return true;
    }
    bool restart = handler && (t->sigact[sig - 1].flags & LSA_RESTART);
    uint64_t reply = 0;
    if (t->sleeper) {
        reply = t->sleeper, t->sleeper = 0, restart = false;     /* nanosleep: EINTR whatever the flags */
    } else if (t->pipe_reply) {
        reply = t->pipe_reply, t->pipe_reply = 0;
    } else if (t->wait_reply) {
        reply = t->wait_reply, t->wait_reply = 0;
    } else if (t->tty_reply) {
        reply = t->tty_reply, t->tty_reply = 0;
    } else if (t->poll_reply) {
        reply = poll_interrupt(t), restart = false;     /* poll and select: EINTR whatever the flags */
    } else if ((reply = futex_interrupt(t))) {
        restart = false;                /* a futex wait or a further thread's sleep: EINTR */
    } else {
        if (handler)
            return deliver_running(t, sig);     /* running its own code: interrupted for its handler */
        lproc_end(t, 0, sig);           /* a default action ends it now */
        return true;
    }
    struct pith_fault_regs regs = t->sys_regs;
    if (restart) {
        regs.rip -= NR_SYSCALL_LEN;     /* the call again, once the handler returns */
        regs.rax = t->sys_nr;
    } else {
        regs.rax = (uint64_t)-EINTR;
    }
    signal_answer(t, &regs, restart, reply, NULL);
    if (t->state == LP_RUNNING && t->poll_masked)   /* no handler ran: ppoll's mask goes as the call ends */
        t->sigmask = t->poll_oldmask;
    t->poll_masked = false;
    return true;
}

/*
 * A signal made pending for t acts now if it can.  As on Linux, a
 * process-directed one goes to one thread not blocking it: the thread
 * served if it takes it (as its call returns), else the first of the
 * others, first thread first, that waits in a kept call.
 */
static bool takes_it(struct lproc *t, void *served)
{
    return thread_tid(t) == *(uint32_t *)served && due(t);
}

void signal_wake(struct lproc *t)
{
    if (t->state != LP_RUNNING)
        return;
    uint32_t served = thread_served(t);
    if (served && thread_each(t, takes_it, &served))
        return;
    thread_each(t, interrupt_one, &served);
}

/* The same for the thread of t entered now only (a signal made its own by tkill). */
void signal_wake_thread(struct lproc *t)
{
    uint32_t none = 0;
    interrupt_one(t, &none);
}

void signal_group(uint32_t pgid, int sig)
{
    for (int i = 0; i < LPROC_MAX; i++) {
        struct lproc *t = &lprocs[i];
        if (t->state == LP_RUNNING && t->pgid == pgid) {
            signal_post(t, sig, 0x80, 0, 0);     /* SI_KERNEL: from the terminal */
            signal_wake(t);
        }
    }
}

SYSCALL(rt_sigaction)
{
    if (a0 < 1 || a0 > 64 || a3 != 8)
        return -EINVAL;
    struct sigact *s = &p->sigact[a0 - 1];
    if (a2 && mem_write(p, a2, s, sizeof *s))
        return -EFAULT;
    if (a1) {
        if (a0 == SIGKILL || a0 == SIGSTOP)
            return -EINVAL;
        if (mem_read(p, s, a1, sizeof *s))
            return -EFAULT;
        s->mask &= ~UNBLOCKABLE;
        if (ignored(p, (int)a0))
            p->sigpending &= ~BIT(a0);  /* a pending signal now ignored is dropped */
    }
    return 0;
}

SYSCALL(rt_sigprocmask)
{
    if (a3 != 8)
        return -EINVAL;
    uint64_t old = p->sigmask;
    if (a1) {
        uint64_t set;
        if (mem_read(p, &set, a1, 8))
            return -EFAULT;
        if (a0 == SIG_BLOCK)
            p->sigmask |= set;
        else if (a0 == SIG_UNBLOCK)
            p->sigmask &= ~set;
        else if (a0 == SIG_SETMASK)
            p->sigmask = set;
        else
            return -EINVAL;
        p->sigmask &= ~UNBLOCKABLE;
    }
    if (a2 && mem_write(p, a2, &old, 8))
        return -EFAULT;
    return 0;                           /* a signal unblocked now is delivered on the way back (fault.c) */
}

SYSCALL(rt_sigpending)
{
    if (a1 > 8)
        return -EINVAL;
    uint64_t set = p->sigpending & p->sigmask;
    return mem_write(p, a0, &set, a1) ? -EFAULT : 0;
}

/* sigaltstack's change, checked as Linux's do_sigaltstack (sp: the thread's stack pointer now). */
static long set_altstack(struct lproc *p, const struct lstack *ss, uint64_t sp)
{
    if (on_altstack(p, sp))
        return -EPERM;
    uint32_t mode = (uint32_t)ss->flags & ~LSS_AUTODISARM;
    if (mode != LSS_DISABLE && mode != LSS_ONSTACK && mode != 0)
        return -EINVAL;
    if (mode == LSS_DISABLE) {
        p->ss_sp = 0, p->ss_size = 0, p->ss_flags = (uint32_t)ss->flags;
        return 0;
    }
    if (ss->size < LMINSIGSTKSZ)
        return -ENOMEM;
    p->ss_sp = ss->sp, p->ss_size = ss->size, p->ss_flags = (uint32_t)ss->flags;
    return 0;
}

/* In Linux's order: the new one read (EFAULT), the old one taken, the new one set, the old one written. */
SYSCALL(sigaltstack)
{
    struct lstack ss, old = { p->ss_sp, altstack_flags(p, cur_regs.rsp), 0, p->ss_size };
    if (a0 && mem_read(p, &ss, a0, sizeof ss))
        return -EFAULT;
    long err = a0 ? set_altstack(p, &ss, cur_regs.rsp) : 0;
    if (!err && a1 && mem_write(p, a1, &old, sizeof old))
        return -EFAULT;
    return err;
}

/* The frame the handler's restorer points at: rsp is just past its return address. */
SYSCALL(rt_sigreturn)
{
    struct lucontext uc;
    if (mem_read(p, &uc, cur_regs.rsp, sizeof uc) || uc.mc.rip >= USER_END || uc.mc.rsp >= USER_END ||
        !uc.mc.rip) {
        lproc_end(p, 0, SIGSEGV);       /* a bad frame, as Linux: SIGSEGV */
        return NO_ANSWER;
    }
    /* The FPU state the frame saved, if it did (a bad one: SIGSEGV too). */
    if (uc.mc.fpstate) {
        struct pith_thread_regs *st = (struct pith_thread_regs *)pith_tls_self()->ipc_buffer->msg;
        uint64_t parts = pith_invoke4(p->tcb, PITH_TCB_READ_ALL_REGISTERS, 0, 0, 0, 0) ? 0
                       : fpu_from_frame(p, uc.mc.fpstate, st);
        if (!parts || pith_invoke4(p->tcb, PITH_TCB_WRITE_ALL_REGISTERS, parts, 0, 0, 0)) {
            lproc_end(p, 0, SIGSEGV);
            return NO_ANSWER;
        }
    }
    /* The alternate stack as it was (an error, such as EPERM while still on it, is ignored, as Linux does). */
    set_altstack(p, &(struct lstack){ uc.ss_sp, uc.ss_flags, 0, uc.ss_size }, cur_regs.rsp);
    mc_to_regs(&uc.mc, &resume_regs);
    p->sigmask = uc.sigmask & ~UNBLOCKABLE;
    return RESUME_FULL;
}

/* kill's targets: pid > 0 that process, 0 the caller's group, -1 every other, < -1 the group -pid. */
static long send_to(struct lproc *p, int64_t pid, uint64_t sig, int code, bool exact)
{
    if (sig > 64)
        return -EINVAL;
    bool found = false;
    for (int i = 0; i < LPROC_MAX; i++) {
        struct lproc *t = &lprocs[i];
        if (t->state == LP_FREE)
            continue;
        bool match = pid > 0 ? t->pid == (uint64_t)pid
                   : exact   ? false
                   : pid == 0 ? t->pgid == p->pgid
                   : pid == -1 ? t != p
                               : t->pgid == (uint64_t)-pid;
        if (!match)
            continue;
        found = true;
        if (sig && t->state == LP_RUNNING) {
            signal_post(t, (int)sig, code, (int)p->pid, 0);
            signal_wake(t);
        }
    }
    return found ? 0 : -ESRCH;
}

#define SI_USER  0
#define SI_TKILL (-6)

SYSCALL(kill) { return send_to(p, (int32_t)a0, a1, SI_USER, false); }
SYSCALL(tkill)
{
    long r = (int32_t)a0 <= 0 ? -EINVAL : thread_kill(p, 0, (uint32_t)a0, a1);
    return r != 1 ? r : send_to(p, (int32_t)a0, a1, SI_TKILL, true);
}
SYSCALL(tgkill)
{
    if ((int32_t)a0 <= 0 || (int32_t)a1 <= 0)
        return -EINVAL;
    long r = thread_kill(p, (uint32_t)a0, (uint32_t)a1, a2);    /* a further thread of a0 */
    return r != 1 ? r : a0 != a1 ? -ESRCH : send_to(p, (int32_t)a1, a2, SI_TKILL, true);
}
