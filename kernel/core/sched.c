/*
 * Ready queues: one doubly linked list per priority and a bitmap of the
 * non-empty ones, so picking the next thread is a few bit scans.  The
 * current thread is not on a queue while it runs; when it is preempted or
 * yields it goes to the tail of its queue (round-robin), and a thread that
 * is woken goes to the tail and preempts the current one if it has a
 * higher priority.  Time slices are counted in microseconds of TSC time;
 * the APIC timer is armed for the end of the current slice (or the next
 * sleeper), and not at all when the CPU idles with nothing to wake.
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
static uint64_t slice_start_tsc;
static uint64_t slice_end_tsc;              /* when the current thread's slice runs out */
static uint64_t armed_deadline;             /* what the timer is set for (0: must set again) */
static struct tcb *loaded;                  /* whose address space, TLS and ports are live */
static uint64_t loaded_fs, loaded_gs;       /* the TLS bases in the MSRs now */
static bool donated;                        /* the fast path chose the next thread: nothing else changed */
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
    t->on_ready_queue = 1;
}

void sched_remove(struct tcb *t)
{
    if (!t->on_ready_queue)
        return;
    unsigned p = t->priority;
    tcbq_remove(&head[p], &tail[p], t);
    if (!head[p])
        bitmap[p / 64] &= ~(1ull << (p % 64));
    t->on_ready_queue = 0;
}

static int highest_ready(void)
{
    for (int w = SCHED_PRIORITIES / 64 - 1; w >= 0; w--)
        if (bitmap[w])
            return w * 64 + 63 - __builtin_clzll(bitmap[w]);
    return -1;
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
        pc->current->cpu_time_tsc += now - slice_start_tsc;
    slice_start_tsc = now;
    pc->current = t;
    return now;
}

void sched_set_current(struct tcb *t)
{
    uint64_t now = change_current(this_cpu(), t);
    if (t)
        slice_end_tsc = now + ns_to_tsc((uint64_t)t->slice_left_us * 1000);
}

/*
 * The IPC fast path: the current thread gives the CPU straight to `to`,
 * which runs on the rest of the current time slice (protected control
 * transfer); no ready-queue operations.
 */
void sched_donate(struct tcb *to)
{
    struct percpu *pc = this_cpu();
    change_current(pc, to);             /* slice_end_tsc stays: the slice goes with the CPU */
    pc->fast_path_hits++;
    donated = true;
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
    cur->slice_left_us = SCHED_SLICE_US;
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
    if (!cur)
        return;
    uint64_t used = tsc_to_ns(rdtsc() - slice_start_tsc) / 1000;
    if (used >= cur->slice_left_us) {
        /* Slice over: round-robin to the tail of its priority. */
        cur->slice_left_us = SCHED_SLICE_US;
        sched_set_current(NULL);
        sched_make_ready(cur);
    } else {
        cur->slice_left_us -= (uint32_t)used;
        slice_start_tsc = rdtsc();
        slice_end_tsc = slice_start_tsc + ns_to_tsc((uint64_t)cur->slice_left_us * 1000);
    }
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

/* Forget a thread that is being destroyed, so its FPU state is never saved into freed memory. */
void sched_forget(struct tcb *t)
{
    if (fpu_owner == t)
        fpu_owner = NULL;
    if (loaded == t)
        loaded = NULL;
    sched_remove(t);
    if (sched_current() == t)
        sched_set_current(NULL);
}

struct trap_frame *kernel_exit_prepare(void)
{
    /*
     * After a fast-path hand-over nothing else happened in this kernel entry:
     * the partner is the right thread and the timer is still right.
     */
    if (donated) {
        struct tcb *t = sched_current();
        donated = false;
        switch_to(t);
        trap_frame_sanitise(&t->ctx);
        return &t->ctx;
    }
    for (;;) {
        struct tcb *t = sched_current();
        if (t && t->state == TS_READY && !sched_higher_ready(t->priority)) {
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
            if (t->slice_left_us == 0)
                t->slice_left_us = SCHED_SLICE_US;
            sched_set_current(t);
            continue;
        }
        /* Nothing to run: idle until an interrupt makes something ready. */
        arm_timer(NULL);
        irq_enable();
        cpu_halt();
        irq_disable();
    }
}
