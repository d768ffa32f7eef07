/*
 * The scheduler, one per CPU.  Each thread belongs to one CPU (its
 * affinity, tcb->cpu, CPU 0 unless set) and is queued only there.  Ready
 * queues: one doubly linked list per priority and a two-level bitmap of
 * the non-empty ones, so picking the next thread is two bit scans.  The
 * current thread is not on a queue while it runs; when it is preempted or
 * yields it goes to the tail of its queue (round-robin), and a thread that
 * is woken goes to the tail and preempts the current one of its CPU if it
 * has a higher priority (by an interprocessor interrupt when that CPU is
 * another).  Everything here runs under the big kernel lock (core/bkl.h).
 *
 * Time slices: each thread has a budget (slice_left_us).  A CPU runs on
 * one thread's budget at a time, the slice owner's; its APIC timer is
 * armed for the end (or its next sleeper), and not at all when it idles
 * with nothing to wake.  A call that hands the CPU to the server it
 * reached lends the caller's slice with it (protected control transfer):
 * the server's work on the caller's behalf is paid from the caller's
 * budget, along a chain of servers too, until the server answers.  CPU
 * time (cpu_time_tsc) is still counted to the thread that ran.
 */
#include "core/sched_fast.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/fpu.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/ioport.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/time.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/vm.h"
#include "core/bkl.h"
#include "core/panic.h"
#include "object/irq.h"
#include "object/ipc.h"
#include <pith/errors.h>

struct cpu_sched cpu_scheds[SMP_MAX_CPUS];

static inline struct cpu_sched *here(void) { return sched_here(); }
static inline bool is_here(const struct tcb *t) { return sched_is_here(t); }

static inline struct cpu_sched *of_thread(const struct tcb *t)
{
    return &cpu_scheds[t->cpu];
}

void sched_init_cpu(unsigned n)
{
    percpu_of(n)->sched = &cpu_scheds[n];
}

/* Is `t` running on some CPU now (current there)?  Not always its own CPU, just after a move. */
static bool running(const struct tcb *t)
{
    for (unsigned c = 0; c < smp_ncpus; c++)
        if (percpu_of(c)->current == t)
            return true;
    return false;
}

/* Another CPU must look at its queues again: now, if what it runs is less urgent than `t`. */
static void nudge(const struct tcb *t)
{
    struct percpu *pc = percpu_of(t->cpu);
    if (!pc->current || pc->current->priority < t->priority || pc->current == t)
        apic_send_ipi(smp_apic_ids[t->cpu], VEC_RESCHEDULE);
}

void sched_make_ready(struct tcb *t)
{
    if (t->timed)
        sched_timeout_remove(t);        /* whatever it waited for came first */
    t->state = TS_READY;
    if (t->on_ready_queue || running(t))
        return;
    struct cpu_sched *cs = of_thread(t);
    unsigned p = t->priority;
    tcbq_append(&cs->head[p], &cs->tail[p], t);
    cs->bitmap[p / 64] |= 1ull << (p % 64);
    cs->bitmap_words |= 1ull << (p / 64);
    t->on_ready_queue = 1;
}

void sched_remove(struct tcb *t)
{
    if (!t->on_ready_queue)
        return;
    struct cpu_sched *cs = of_thread(t);
    unsigned p = t->priority;
    tcbq_remove(&cs->head[p], &cs->tail[p], t);
    if (!cs->head[p]) {
        cs->bitmap[p / 64] &= ~(1ull << (p % 64));
        if (!cs->bitmap[p / 64])
            cs->bitmap_words &= ~(1ull << (p / 64));
    }
    t->on_ready_queue = 0;
}

bool sched_higher_ready(unsigned priority)
{
    return sched_highest_ready(here()) > (int)priority;
}

static struct tcb *pick(struct cpu_sched *cs)
{
    int p = sched_highest_ready(cs);
    if (p < 0)
        return NULL;
    struct tcb *t = cs->head[p];
    sched_remove(t);
    return t;
}

static uint32_t slice_left_at(const struct cpu_sched *cs, uint64_t now)
{
    return cs->slice_end_tsc > now ? (uint32_t)(tsc_to_ns(cs->slice_end_tsc - now) / 1000) : 0;
}

/* The slice in progress stops: its owner keeps what is left of it for next time. */
static void slice_put_back(struct percpu *pc, uint64_t now)
{
    if (pc->slice_owner)
        pc->slice_owner->slice_left_us = slice_left_at(pc->sched, now);
    pc->slice_owner = NULL;
}

/* `t` runs on its own budget (a fresh slice when the last one was used up). */
static void slice_take(struct percpu *pc, struct tcb *t, uint64_t now)
{
    if (t->slice_left_us == 0)
        t->slice_left_us = SCHED_SLICE_US;
    pc->slice_owner = t;
    pc->sched->slice_end_tsc = now + ns_to_tsc((uint64_t)t->slice_left_us * 1000);
}

void sched_set_current(struct tcb *t)
{
    struct percpu *pc = this_cpu();
    struct cpu_sched *cs = pc->sched;
    uint64_t now = sched_change_current(pc, cs, t);
    if (!t)
        return;                         /* the slice waits for whoever runs next */
    bool lent = t == cs->lend_to && pc->slice_owner;
    cs->lend_to = NULL;
    if (t == pc->slice_owner || lent)
        return;                         /* its own slice goes on, or its caller's */
    slice_put_back(pc, now);
    slice_take(pc, t, now);
}

void sched_lend_slice(struct tcb *server)
{
    if (is_here(server))
        here()->lend_to = server;
}

/* `replier` answered `caller`: if it ran on the caller's slice, from now on it runs on its own. */
void sched_answered(struct tcb *replier, struct tcb *caller)
{
    struct percpu *pc = this_cpu();
    if (pc->slice_owner != caller || pc->current != replier || replier == caller)
        return;
    uint64_t now = rdtsc();
    slice_put_back(pc, now);
    slice_take(pc, replier, now);
}

/* What is left of t's own budget, counting the slice in progress if it is t's. */
uint32_t sched_budget_left(const struct tcb *t)
{
    if (!sched_owns_slice(t))
        return t->slice_left_us;
    return slice_left_at(of_thread(t), rdtsc());
}

bool sched_owns_slice(const struct tcb *t)
{
    return percpu_of(t->cpu)->slice_owner == t;
}

/* Something about a thread changed (TLS, address space, ports): every CPU loads it afresh. */
void sched_reload(void)
{
    for (unsigned c = 0; c < smp_ncpus; c++)
        cpu_scheds[c].loaded = NULL;
}

void sched_yield(void)
{
    struct percpu *pc = this_cpu();
    struct tcb *cur = pc->current;
    if (!cur)
        return;
    /* The rest of its slice is given up; a slice it runs on for a caller goes back to the caller. */
    if (pc->slice_owner == cur) {
        cur->slice_left_us = SCHED_SLICE_US;
        pc->slice_owner = NULL;
    } else {
        slice_put_back(pc, rdtsc());
    }
    sched_set_current(NULL);
    sched_make_ready(cur);
}

/*
 * A thread became ready.  On this CPU nothing happens now: the way out of
 * the kernel (kernel_exit_prepare) runs the highest-priority thread, and
 * the current one goes to the tail of its queue if it is outranked.  It
 * must not be queued here: the system call in progress may still block it
 * (an answer that wakes a more urgent caller, then a receive), and a
 * thread is on the ready queue or an IPC queue, never both.  Another CPU
 * is told with an interrupt.
 */
void sched_check_preempt(struct tcb *woken)
{
    if (!is_here(woken))
        nudge(woken);
}

/* The CPU `t` runs on, if it is current on one that is not this one; -1 otherwise. */
static int running_elsewhere(const struct tcb *t)
{
    unsigned me = PERCPU_GET(cpu_number);
    for (unsigned c = 0; c < smp_ncpus; c++)
        if (c != me && percpu_of(c)->current == t)
            return (int)c;
    return -1;
}

/* `t`, running on another CPU, must stop there (suspended, lower priority, moved): tell it. */
void sched_kick(struct tcb *t)
{
    int c = running_elsewhere(t);
    if (c >= 0)
        apic_send_ipi(smp_apic_ids[c], VEC_RESCHEDULE);
}

bool sched_running_elsewhere(const struct tcb *t)
{
    return running_elsewhere(t) >= 0;
}

/*
 * Timed waits: sleeping threads, and threads blocked in IPC with a
 * timeout, on their CPU's list sorted by wake time (linked by t_next, so a
 * thread can be on an endpoint's queue and here at once).
 */
void sched_timeout_add(struct tcb *t, uint64_t wake_tsc)
{
    sched_timeout_remove(t);
    t->wake_tsc = wake_tsc;
    t->timed = 1;
    struct tcb **pp = &of_thread(t)->sleepers;
    while (*pp && (*pp)->wake_tsc <= wake_tsc)
        pp = &(*pp)->t_next;
    t->t_next = *pp;
    *pp = t;
    if (!is_here(t))
        apic_send_ipi(smp_apic_ids[t->cpu], VEC_RESCHEDULE);   /* to arm its timer */
}

void sched_timeout_remove(struct tcb *t)
{
    if (!t->timed)
        return;
    for (struct tcb **pp = &of_thread(t)->sleepers; *pp; pp = &(*pp)->t_next) {
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
static void wake_sleepers(struct cpu_sched *cs)
{
    uint64_t now = rdtsc();
    while (cs->sleepers && cs->sleepers->wake_tsc <= now) {
        struct tcb *t = cs->sleepers;
        sched_timeout_remove(t);
        if (t->state == TS_SLEEPING)
            t->ctx.rax = PITH_OK;
        else
            ipc_cancel(t, PITH_E_TIMEOUT);
        sched_make_ready(t);
        sched_check_preempt(t);
    }
}

/* The timer is set for `deadline` (TSC; UINT64_MAX: stopped). */
static __attribute__((noinline)) void set_timer(struct cpu_sched *cs, uint64_t deadline)
{
    cs->armed_deadline = deadline;
    uint64_t now = rdtsc();
    if (deadline == UINT64_MAX)
        apic_timer_stop();
    else
        apic_timer_oneshot_ns(deadline > now ? tsc_to_ns(deadline - now) : 0);
}

/*
 * The next timer deadline: the end of the running slice, the first
 * sleeper, or (on the boot CPU, which takes the device interrupts) an
 * interrupt handler's answer deadline.  The timer is only reprogrammed
 * when that changes, which keeps it off the system-call path.
 * On every exit to user mode, so inline.
 */
static inline void arm_timer(struct cpu_sched *cs, struct tcb *running_now)
{
    uint64_t deadline = running_now ? cs->slice_end_tsc : UINT64_MAX;
    if (cs->sleepers && cs->sleepers->wake_tsc < deadline)
        deadline = cs->sleepers->wake_tsc;
    if (cs == &cpu_scheds[0]) {
        uint64_t irq = irq_next_deadline();
        if (irq < deadline)
            deadline = irq;
    }
    if (deadline != cs->armed_deadline)
        set_timer(cs, deadline);
}

void sched_timer_tick(void)
{
    struct percpu *pc = this_cpu();
    struct cpu_sched *cs = pc->sched;
    cs->armed_deadline = 0;             /* it fired: whatever comes next must be set */
    wake_sleepers(cs);
    if (cs == &cpu_scheds[0])
        irq_check_deadlines();
    struct tcb *cur = pc->current;
    if (!cur || rdtsc() < cs->slice_end_tsc)
        return;
    /*
     * The slice is over: its owner gets a fresh one next time, and the
     * thread running on it (the owner, or a server working for it) goes to
     * the tail of its priority (round-robin).
     */
    if (pc->slice_owner)                /* NULL if its owner was destroyed meanwhile */
        pc->slice_owner->slice_left_us = SCHED_SLICE_US;
    pc->slice_owner = NULL;
    /*
     * Stopped (suspended) or moved by another CPU while it ran here, and
     * the IPI that says so not handled yet: kernel_exit_prepare lets it go
     * as that requires (queued again only if ready, its FPU state handed
     * over if moved).  Queueing it here would undo the suspension.
     */
    if (cur->state != TS_READY || !is_here(cur))
        return;
    sched_set_current(NULL);
    sched_make_ready(cur);
}

/*
 * Moves `t` to another CPU.  Its state must not stay live on the old one:
 * a thread running there is told, and its exit path (kernel_exit_prepare)
 * saves it and queues it on the new CPU; a thread that only ran there
 * last is forgotten by it.
 */
void sched_migrate(struct tcb *t, unsigned to)
{
    if (t->cpu == to)
        return;
    sched_kick(t);
    bool queued = t->on_ready_queue;
    bool timed = t->timed;
    uint64_t wake = t->wake_tsc;
    if (queued)
        sched_remove(t);
    if (timed)
        sched_timeout_remove(t);
    struct cpu_sched *old = of_thread(t);
    if (old->loaded == t)
        old->loaded = NULL;
    if (old->lend_to == t)
        old->lend_to = NULL;
    t->cpu = (uint8_t)to;
    if (timed)
        sched_timeout_add(t, wake);
    if (queued) {
        sched_make_ready(t);
        sched_check_preempt(t);
    }
}

/* Forget a thread that is being destroyed, so its FPU state is never saved into freed memory. */
void sched_forget(struct tcb *t)
{
    for (unsigned c = 0; c < smp_ncpus; c++) {
        struct cpu_sched *cs = &cpu_scheds[c];
        struct percpu *pc = percpu_of(c);
        if (cs->fpu_owner == t)
            cs->fpu_owner = NULL;
        if (pc->slice_owner == t)
            pc->slice_owner = NULL;
        if (cs->lend_to == t)
            cs->lend_to = NULL;
        if (cs->loaded == t)
            cs->loaded = NULL;
    }
    sched_remove(t);
    sched_timeout_remove(t);
    if (sched_current() == t)
        sched_set_current(NULL);
}

/*
 * Nothing to run: the FPU state goes back to its thread (which may be
 * moved to another CPU meanwhile), the lock is given up, and the CPU
 * halts until an interrupt.  STI's one-instruction delay covers the HLT,
 * so an interrupt sent after the unlock wakes it.  No interrupt handler
 * is in progress here, so none may be in service in the local APIC: one
 * that was never acknowledged would block the timer and the reschedule
 * interrupt for good, and the CPU would sleep with work ready.
 */
static void idle(struct percpu *pc, struct cpu_sched *cs)
{
    unsigned stuck = apic_highest_in_service();
    if (stuck)
        panic("sched: CPU %u idles with interrupt vector %u in service, never acknowledged",
              pc->cpu_number, stuck);
    slice_put_back(pc, rdtsc());
    cs->lend_to = NULL;
    arm_timer(cs, NULL);
    if (cs->fpu_owner) {
        fpu_save_area(tcb_fpu_area(cs->fpu_owner));
        cs->fpu_owner = NULL;
        cs->loaded = NULL;
    }
    bkl_unlock();
    irq_enable();
    cpu_halt();
    irq_disable();
    bkl_lock();
}

struct trap_frame *kernel_exit_prepare(void)
{
    struct percpu *pc = this_cpu();
    struct cpu_sched *cs = pc->sched;
    for (;;) {
        struct tcb *t = pc->current;
        if (t && t->state == TS_READY && is_here(t) && !sched_higher_ready(t->priority)) {
            cs->lend_to = NULL;
            sched_switch_to(cs, t);
            arm_timer(cs, t);
            sched_apply_written(t);             /* written by another CPU while it ran */
            trap_frame_sanitise(&t->ctx);
            return &t->ctx;
        }
        if (t) {
            sched_set_current(NULL);
            if (!is_here(t)) {
                /* Moved away while it ran here: its state leaves with it. */
                if (cs->fpu_owner == t) {
                    fpu_save_area(tcb_fpu_area(t));
                    cs->fpu_owner = NULL;
                }
                cs->loaded = NULL;
            }
            if (t->state == TS_READY) {
                sched_make_ready(t);
                sched_check_preempt(t);
            }
        }
        t = pick(cs);
        if (t) {
            sched_set_current(t);
            continue;
        }
        idle(pc, cs);
    }
}

/* A further CPU joins: the big kernel lock, then whatever its queues hold (nothing, at first). */
_Noreturn void sched_cpu_start(void)
{
    bkl_lock();
    kernel_exit();
}
