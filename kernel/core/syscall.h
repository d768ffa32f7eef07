#ifndef PITH_CORE_SYSCALL_H
#define PITH_CORE_SYSCALL_H

#include "arch/x86_64/trap.h"

struct tcb;

/* Called from syscall.S with the current thread's saved registers. */
void syscall_dispatch(struct trap_frame *f);
void syscall_unknown(struct tcb *self, struct trap_frame *f);

/* The SYSCALL MSRs on this CPU. */
void syscall_init(void);

#endif
