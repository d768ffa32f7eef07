/*
 * The scheduler's part of the IPC fast path, inline: the per-CPU
 * scheduler state, "would the scheduler pick this thread", and the
 * hand-over of the CPU (core/sched.c).  Only sched.c and the fast path
 * (object/ipc_fast.c) include this; the rest goes through core/sched.h.
 * Inline because the fast path is a few hundred instructions in all, and
 * a call with its saved registers is a tenth of that.
 */
#ifndef PITH_CORE_SCHED_FAST_H
#define PITH_CORE_SCHED_FAST_H

#include "core/sched.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/fpu.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/ioport.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/vm.h"

struct cpu_sched {
    struct tcb *head[SCHED_PRIORITIES], *tail[SCHED_PRIORITIES];
    uint64_t bitmap[SCHED_PRIORITIES / 64];
    uint64_t bitmap_words;              /* bit w: bitmap[w] is not zero */
    uint64_t run_start_tsc;             /* when the current thread began to run */
    uint64_t slice_end_tsc;             /* when the slice owner's budget runs out */
    struct tcb *lend_to;                /* a call reached this server: it may run on the caller's slice */
    uint64_t armed_deadline;            /* what the timer is set for (0: must set again) */
    struct tcb *loaded;                 /* whose address space, TLS and ports are live */
    uint64_t loaded_fs, loaded_gs;      /* the TLS bases in the MSRs now */
    struct tcb *fpu_owner;              /* whose state is in the FPU registers: current, or none */
    struct tcb *sleepers;               /* sorted by wake_tsc, linked by t_next */
};

extern struct cpu_sched cpu_scheds[SMP_MAX_CPUS];

static inline struct cpu_sched *sched_here(void)
{
    return PERCPU_GET(sched);
}

static inline bool sched_is_here(const struct tcb *t)
{
    return t->cpu == PERCPU_GET(cpu_number);
}

/* Two bit scans: the highest non-empty word, then the highest priority in it. */
static inline int sched_highest_ready(const struct cpu_sched *cs)
{
    if (!cs->bitmap_words)
        return -1;
    int w = 63 - __builtin_clzll(cs->bitmap_words);
    return w * 64 + 63 - __builtin_clzll(cs->bitmap[w]);
}

/* True if `t` is on this CPU (cs: its scheduler) and is what it would pick once the current thread blocks. */
static inline bool sched_would_pick(const struct cpu_sched *cs, const struct tcb *t)
{
    return sched_is_here(t) && sched_highest_ready(cs) < (int)t->priority;
}

/* Registers another CPU wrote while t ran here take effect (the common case: none, one test). */
static inline void sched_apply_written(struct tcb *t)
{
    if (t->regs_written)
        tcb_apply_written_registers(t);
}

/* Charges the running thread's CPU time up to now, and makes `t` the running thread. */
static inline uint64_t sched_change_current(struct percpu *pc, struct cpu_sched *cs, struct tcb *t)
{
    uint64_t now = rdtsc();
    struct tcb *cur = pc->current;
    if (cur) {
        cur->cpu_time_tsc += now - cs->run_start_tsc;
        if (cur != t)
            sched_apply_written(cur);   /* written by another CPU while it ran */
    }
    cs->run_start_tsc = now;
    pc->current = t;
    return now;
}

/* Make t's state live on this CPU: address space, kernel entry point, TLS bases, FPU. */
static inline __attribute__((always_inline)) void sched_switch_to(struct cpu_sched *cs, struct tcb *t)
{
    if (t == cs->loaded)
        return;                         /* still live from the last exit */
    cs->loaded = t;
    uint64_t top = (uint64_t)&t->ctx + sizeof t->ctx;
    PERCPU_SET(ctx_top, top);
    tss_set_kernel_stack(top);
    vm_activate(t);
    ioport_switch_to(t);
    /* MSR writes are slow on real hardware: only when the bases differ. */
    /* (Each cache updated before its asm, whose memory clobber would reload the value.) */
    uint64_t fs = t->fs_base, gs = t->gs_base;
    if (fs != cs->loaded_fs) {
        cs->loaded_fs = fs;
        wrmsr(MSR_FS_BASE, fs);
    }
    if (gs != cs->loaded_gs) {
        cs->loaded_gs = gs;
        wrmsr(MSR_KERNEL_GS_BASE, gs);  /* becomes GS after swapgs */
    }
    struct tcb *owner = cs->fpu_owner;
    if (owner != t) {
        cs->fpu_owner = t;
        fpu_switch_area(owner ? tcb_fpu_area(owner) : NULL, tcb_fpu_area(t));
    }
}

/*
 * The IPC fast path: the current thread gives the CPU (cs: its
 * scheduler) straight to `to`, which runs on the rest of the current time
 * slice (protected control transfer), with no ready-queue operations.
 * Nothing else changed in this kernel entry, so the timer is still right.
 * Returns the frame to resume.
 */
static inline __attribute__((always_inline)) struct trap_frame *sched_switch_fast(struct cpu_sched *cs, struct tcb *from,
                                                                                   struct tcb *to)
{
    /* sched_change_current for from, the current thread, which is not to. */
    uint64_t now = rdtsc();
    from->cpu_time_tsc += now - cs->run_start_tsc;
    sched_apply_written(from);          /* written by another CPU while it ran */
    cs->run_start_tsc = now;            /* slice_end_tsc stays: the slice goes with the CPU */
    /* Per-CPU fields through GS, each one instruction: no load of this CPU's address first. */
    PERCPU_SET(current, to);
    __asm__ volatile("incq %%gs:%c0" : : "i"(__builtin_offsetof(struct percpu, fast_path_hits)));
    sched_switch_to(cs, to);
    return &to->ctx;
}

#endif
