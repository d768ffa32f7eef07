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

#ifndef __ASSEMBLER__
#include <stdint.h>

struct tcb;

struct percpu {
    struct percpu *self;
    uint64_t user_rsp;
    uint64_t kstack_top;
    uint64_t ctx_top;
    struct tcb *current;            /* the thread whose registers are live, or NULL (idle) */
    unsigned cpu_number;
    uint64_t fast_path_hits;        /* later: IPC fast path */
};

_Static_assert(__builtin_offsetof(struct percpu, user_rsp) == PERCPU_USER_RSP, "percpu layout");
_Static_assert(__builtin_offsetof(struct percpu, kstack_top) == PERCPU_KSTACK_TOP, "percpu layout");
_Static_assert(__builtin_offsetof(struct percpu, ctx_top) == PERCPU_CTX_TOP, "percpu layout");


static inline struct percpu *this_cpu(void)
{
    struct percpu *p;
    __asm__ volatile("mov %%gs:0, %0" : "=r"(p));
    return p;
}

struct percpu *percpu_of(unsigned n);
void percpu_init(unsigned n, uint64_t kstack_top);
void percpu_init_boot_cpu(void);

#endif
#endif
