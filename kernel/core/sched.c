/*
 * Ready queues: one doubly linked list per priority and a bitmap of the
 * non-empty ones, so picking the next thread is a few bit scans.  The
 * current thread is not on a queue while it runs; when it is preempted or
 * yields it goes to the tail of its queue (round-robin), and a thread that
 * is woken goes to the tail and preempts the current one if it has a
 * higher priority.
 *
 * Time slices: each thread has a budget (slice_left_us).  The CPU runs on
 * one thread's budget at a time, the slice owner's; the APIC timer is
 * armed for its end (or the next sleeper), and not at all when the CPU
 * idles with nothing to wake.  A call that hands the CPU to the server it
 * reached lends the caller's slice with it (protected control transfer):
 * the server's work on the caller's behalf is paid from the caller's
 * budget, along a chain of servers too, until the server answers.  CPU
 * time (cpu_time_tsc) is still counted to the thread that ran.
 */
#include "core/sched.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/fpu.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/ioport.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/time.h"
#include "arch/x86_64/vm.h"
#include "core/panic.h"
#include "object/irq.h"
#include "object/ipc.h"
#include <pith/errors.h>

static struct tcb *head[SCHED_PRIORITIES], *tail[SCHED_PRIORITIES];
static uint64_t bitmap[SCHED_PRIORITIES / 64];
static uint64_t bitmap_words;               /* bit w: bitmap[w] is not zero */
static uint64_t run_start_tsc;              /* when the current thread began to run */
struct tcb *sched_slice_owner;              /* whose budget the CPU runs on (NULL: idle) */
static uint64_t slice_end_tsc;              /* when that budget runs out */
static struct tcb *lend_to;                 /* a call reached this server: it may run on the caller's slice */
static uint64_t armed_deadline;             /* what the timer is set for (0: must set again) */
static struct tcb *loaded;                  /* whose address space, TLS and ports are live */
static uint64_t loaded_fs, loaded_gs;       /* the TLS bases in the MSRs now */
static struct tcb *fpu_owner;               /* whose state is in the FPU registers */
static struct tcb *sleepers;                /* sorted by wake_tsc, linked by t_next */

void sched_make_ready(struct tcb *t)
{
    if (t->timed)
        sched_timeout_remove(t);        /* whatever it waited for came first */
    t->state = TS_READY;
    if (t->on_ready_queue || t == sched_current())
        return;
    unsigned p = t->priority;
    tcbq_append(&head[p], &tail[p], t);
    bitmap[p / 64] |= 1ull << (p % 64);
    bitmap_words |= 1ull << (p / 64);
    t->on_ready_queue = 1;
}

void sched_remove(struct tcb *t)
{
    if (!t->on_ready_queue)
        return;
    unsigned p = t->priority;
    tcbq_remove(&head[p], &tail[p], t);
    if (!head[p]) {
        bitmap[p / 64] &= ~(1ull << (p % 64));
        if (!bitmap[p / 64])
            bitmap_words &= ~(1ull << (p / 64));
    }
    t->on_ready_queue = 0;
}

/* Two bit scans: the highest non-empty word, then the highest priority in it. */
static inline int highest_ready(void)
{
    if (!bitmap_words)
        return -1;
    int w = 63 - __builtin_clzll(bitmap_words);
    return w * 64 + 63 - __builtin_clzll(bitmap[w]);
}

bool sched_higher_ready(unsigned priority)
{
    return highest_ready() > (int)priority;
}

/* True if `t` is what the scheduler would pick once the current thread blocks. */
bool sched_would_pick(const struct tcb *t)
{
    return highest_ready() < (int)t->priority;
}

struct tcb *sched_pick(void)
{
    int p = highest_ready();
    if (p < 0)
        return NULL;
    struct tcb *t = head[p];
    sched_remove(t);
    return t;
}

/* Charges the running thread's CPU time up to now, and makes `t` the running thread. */
static uint64_t change_current(struct percpu *pc, struct tcb *t)
{
    uint64_t now = rdtsc();
    if (pc->current)
        pc->current->cpu_time_tsc += now - run_start_tsc;
    run_start_tsc = now;
    pc->current = t;
    return now;
}

static uint32_t slice_left_at(uint64_t now)
{
    return slice_end_tsc > now ? (uint32_t)(tsc_to_ns(slice_end_tsc - now) / 1000) : 0;
}

/* The slice in progress stops: its owner keeps what is left of it for next time. */
static void slice_put_back(uint64_t now)
{
    if (sched_slice_owner)
        sched_slice_owner->slice_left_us = slice_left_at(now);
    sched_slice_owner = NULL;
}

/* `t` runs on its own budget (a fresh slice when the last one was used up). */
static void slice_take(struct tcb *t, uint64_t now)
{
    if (t->slice_left_us == 0)
        t->slice_left_us = SCHED_SLICE_US;
    sched_slice_owner = t;
    slice_end_tsc = now + ns_to_tsc((uint64_t)t->slice_left_us * 1000);
}

void sched_set_current(struct tcb *t)
{
    uint64_t now = change_current(this_cpu(), t);
    if (!t)
        return;                         /* the slice waits for whoever runs next */
    bool lent = t == lend_to && sched_slice_owner;
    lend_to = NULL;
    if (t == sched_slice_owner || lent)
        return;                         /* its own slice goes on, or its caller's */
    slice_put_back(now);
    slice_take(t, now);
}

void sched_lend_slice(struct tcb *server)
{
    lend_to = server;
}

/* `replier` answered `caller`: if it ran on the caller's slice, from now on it runs on its own. */
void sched_answered(struct tcb *replier, struct tcb *caller)
{
    if (sched_slice_owner != caller || sched_current() != replier || replier == caller)
        return;
    uint64_t now = rdtsc();
    slice_put_back(now);
    slice_take(replier, now);
}

/* What is left of t's own budget, counting the slice in progress if it is t's. */
uint32_t sched_budget_left(const struct tcb *t)
{
    return t == sched_slice_owner ? slice_left_at(rdtsc()) : t->slice_left_us;
}



/* Something about `loaded` changed (TLS, address space, ports): load it afresh on the way out. */
void sched_reload(void)
{
    loaded = NULL;
}

void sched_yield(void)
{
    struct tcb *cur = sched_current();
    if (!cur)
        return;
    /* The rest of its slice is given up; a slice it runs on for a caller goes back to the caller. */
    if (sched_slice_owner == cur) {
        cur->slice_left_us = SCHED_SLICE_US;
        sched_slice_owner = NULL;
    } else {
        slice_put_back(rdtsc());
    }
    sched_set_current(NULL);
    sched_make_ready(cur);
}

void sched_check_preempt(struct tcb *woken)
{
    struct tcb *cur = sched_current();
    if (cur && cur->state == TS_READY && woken->priority > cur->priority) {
        sched_set_current(NULL);
        sched_make_ready(cur);
    }
}

/*
 * Timed waits: sleeping threads, and threads blocked in IPC with a
 * timeout, on one list sorted by wake time (linked by t_next, so a thread
 * can be on an endpoint's queue and here at once).
 */
void sched_timeout_add(struct tcb *t, uint64_t wake_tsc)
{
    sched_timeout_remove(t);
    t->wake_tsc = wake_tsc;
    t->timed = 1;
    struct tcb **pp = &sleepers;
    while (*pp && (*pp)->wake_tsc <= wake_tsc)
        pp = &(*pp)->t_next;
    t->t_next = *pp;
    *pp = t;
}

void sched_timeout_remove(struct tcb *t)
{
    if (!t->timed)
        return;
    for (struct tcb **pp = &sleepers; *pp; pp = &(*pp)->t_next) {
        if (*pp == t) {
            *pp = t->t_next;
            break;
        }
    }
    t->t_next = NULL;
    t->timed = 0;
}

void sched_sleep_until(struct tcb *t, uint64_t wake_tsc)
{
    t->state = TS_SLEEPING;
    sched_timeout_add(t, wake_tsc);
}

/* A sleep ends with success; a timed IPC wait ends with PITH_E_TIMEOUT. */
static void wake_sleepers(void)
{
    uint64_t now = rdtsc();
    while (sleepers && sleepers->wake_tsc <= now) {
        struct tcb *t = sleepers;
        sched_timeout_remove(t);
        if (t->state == TS_SLEEPING)
            t->ctx.rax = PITH_OK;
        else
            ipc_cancel(t, PITH_E_TIMEOUT);
        sched_make_ready(t);
        sched_check_preempt(t);
    }
}

/*
 * The next timer deadline: the end of the running slice, the first
 * sleeper, or an interrupt handler's answer deadline.  The timer is only
 * reprogrammed when that changes, which keeps it off the system-call path.
 */
static void arm_timer(struct tcb *running)
{
    uint64_t deadline = running ? slice_end_tsc : UINT64_MAX;
    if (sleepers && sleepers->wake_tsc < deadline)
        deadline = sleepers->wake_tsc;
    uint64_t irq = irq_next_deadline();
    if (irq < deadline)
        deadline = irq;
    if (deadline == armed_deadline)
        return;
    armed_deadline = deadline;
    uint64_t now = rdtsc();
    if (deadline == UINT64_MAX)
        apic_timer_stop();
    else
        apic_timer_oneshot_ns(deadline > now ? tsc_to_ns(deadline - now) : 0);
}

void sched_timer_tick(void)
{
    armed_deadline = 0;                     /* it fired: whatever comes next must be set */
    wake_sleepers();
    irq_check_deadlines();
    struct tcb *cur = sched_current();
    if (!cur || rdtsc() < slice_end_tsc)
        return;
    /*
     * The slice is over: its owner gets a fresh one next time, and the
     * thread running on it (the owner, or a server working for it) goes to
     * the tail of its priority (round-robin).
     */
    if (sched_slice_owner)              /* NULL if its owner was destroyed meanwhile */
        sched_slice_owner->slice_left_us = SCHED_SLICE_US;
    sched_slice_owner = NULL;
    sched_set_current(NULL);
    sched_make_ready(cur);
}

/* Make t's state live on this CPU: address space, kernel entry point, TLS bases, FPU. */
static void switch_to(struct tcb *t)
{
    if (t == loaded)
        return;                         /* still live from the last exit */
    loaded = t;
    struct percpu *pc = this_cpu();
    uint64_t top = (uint64_t)&t->ctx + sizeof t->ctx;
    pc->ctx_top = top;
    tss_set_kernel_stack(top);
    vm_activate(t);
    ioport_switch_to(t);
    /* MSR writes are slow on real hardware: only when the bases differ. */
    if (t->fs_base != loaded_fs) {
        wrmsr(MSR_FS_BASE, t->fs_base);
        loaded_fs = t->fs_base;
    }
    if (t->gs_base != loaded_gs) {
        wrmsr(MSR_KERNEL_GS_BASE, t->gs_base);  /* becomes GS after swapgs */
        loaded_gs = t->gs_base;
    }
    if (fpu_owner != t) {
        if (fpu_owner)
            fpu_save_area(tcb_fpu_area(fpu_owner));
        fpu_restore_area(tcb_fpu_area(t));
        fpu_owner = t;
    }
}

/*
 * The IPC fast path: the current thread gives the CPU straight to `to`,
 * which runs on the rest of the current time slice (protected control
 * transfer), with no ready-queue operations.  Nothing else changed in this
 * kernel entry, so the timer is still right.  Returns the frame to resume.
 */
struct trap_frame *sched_switch_fast(struct tcb *to)
{
    struct percpu *pc = this_cpu();
    change_current(pc, to);             /* slice_end_tsc stays: the slice goes with the CPU */
    pc->fast_path_hits++;
    switch_to(to);
    return &to->ctx;
}

/* A further CPU joins: for now it only idles, with interrupts off. */
_Noreturn void sched_cpu_start(void)
{
    for (;;)
        cpu_halt();
}

/* Forget a thread that is being destroyed, so its FPU state is never saved into freed memory. */
void sched_forget(struct tcb *t)
{
    if (fpu_owner == t)
        fpu_owner = NULL;
    if (sched_slice_owner == t)
        sched_slice_owner = NULL;
    if (lend_to == t)
        lend_to = NULL;
    if (loaded == t)
        loaded = NULL;
    sched_remove(t);
    if (sched_current() == t)
        sched_set_current(NULL);
}

struct trap_frame *kernel_exit_prepare(void)
{
    for (;;) {
        struct tcb *t = sched_current();
        if (t && t->state == TS_READY && !sched_higher_ready(t->priority)) {
            lend_to = NULL;
            switch_to(t);
            arm_timer(t);
            trap_frame_sanitise(&t->ctx);
            return &t->ctx;
        }
        if (t) {
            sched_set_current(NULL);
            if (t->state == TS_READY)
                sched_make_ready(t);
        }
        t = sched_pick();
        if (t) {
            sched_set_current(t);
            continue;
        }
        /* Nothing to run: idle until an interrupt makes something ready. */
        slice_put_back(rdtsc());
        lend_to = NULL;
        arm_timer(NULL);
        irq_enable();
        cpu_halt();
        irq_disable();
    }
}
