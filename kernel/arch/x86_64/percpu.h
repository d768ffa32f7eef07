/*
 * Per-CPU data, reached through GS in the kernel (swapgs on every entry
 * from user mode).  The assembly entry paths use the offsets below, so the
 * layout is fixed; _Static_asserts keep the two in step.
 */
#ifndef PITH_ARCH_PERCPU_H
#define PITH_ARCH_PERCPU_H

#define PERCPU_SELF         0
#define PERCPU_USER_RSP     8       /* scratch: user rsp during syscall entry */
#define PERCPU_KSTACK_TOP   16      /* this CPU's kernel stack */
#define PERCPU_CTX_TOP      24      /* end of the current thread's saved registers */
#define PERCPU_HOLDS_BKL    32      /* this CPU holds the big kernel lock */
#define PERCPU_FAST_SHARED  33      /* this CPU runs the IPC fast path beside others (core/bkl.h) */
#define PERCPU_SIZE         128     /* each CPU's in lines of its own: the fast path writes it beside others' */

#ifndef __ASSEMBLER__
#include <stdint.h>

struct tcb;
struct cpu_sched;

struct percpu {
    struct percpu *self;
    uint64_t user_rsp;
    uint64_t kstack_top;
    uint64_t ctx_top;
    uint8_t holds_bkl;
    uint8_t fast_shared;            /* in the IPC fast path without the lock: holders wait for it */
    struct tcb *current;            /* the thread whose registers are live, or NULL (idle) */
    struct tcb *slice_owner;        /* whose time slice this CPU runs on (NULL: idle) */
    struct cpu_sched *sched;        /* this CPU's ready queues and switch state (sched.c) */
    unsigned cpu_number;
    uint64_t cr3;                   /* the page tables this CPU runs on (tlb.c targets by it) */
    int io_ranges;                  /* I/O-port ranges its TSS bitmap allows now (ioport.c) */
    uint64_t fast_path_hits;        /* IPC fast path hand-overs on this CPU */
    uint64_t __attribute__((aligned(1))) *tss_rsp0;  /* this CPU's TSS.rsp0 (the TSS packs it at offset 4) */
} __attribute__((aligned(64)));

/* Every CPU's, in CPU order (the entry paths' look at the others' fast_shared flags). */
extern struct percpu percpus[];

_Static_assert(__builtin_offsetof(struct percpu, user_rsp) == PERCPU_USER_RSP, "percpu layout");
_Static_assert(__builtin_offsetof(struct percpu, kstack_top) == PERCPU_KSTACK_TOP, "percpu layout");
_Static_assert(__builtin_offsetof(struct percpu, ctx_top) == PERCPU_CTX_TOP, "percpu layout");
_Static_assert(__builtin_offsetof(struct percpu, holds_bkl) == PERCPU_HOLDS_BKL, "percpu layout");
_Static_assert(__builtin_offsetof(struct percpu, fast_shared) == PERCPU_FAST_SHARED, "percpu layout");
_Static_assert(sizeof(struct percpu) == PERCPU_SIZE, "percpu layout");


static inline struct percpu *this_cpu(void)
{
    struct percpu *p;
    __asm__ volatile("mov %%gs:0, %0" : "=r"(p));
    return p;
}

/* One field of this CPU's data in one instruction (hot paths); PERCPU_SET writes one. */
#define PERCPU_SET(field, value) do {                                       \
    __typeof__(((struct percpu *)0)->field) v_ = (value);                   \
    __asm__ volatile("mov %0, %%gs:%c1" : : "r"(v_),                        \
                     "i"(__builtin_offsetof(struct percpu, field)) : "memory"); \
} while (0)

#define PERCPU_GET(field) ({                                                \
    __typeof__(((struct percpu *)0)->field) v_;                             \
    __asm__ volatile("mov %%gs:%c1, %0" : "=r"(v_)                          \
                     : "i"(__builtin_offsetof(struct percpu, field)));      \
    v_; })

struct percpu *percpu_of(unsigned n);
void percpu_init(unsigned n, uint64_t kstack_top);
void percpu_init_boot_cpu(void);

#endif
#endif
