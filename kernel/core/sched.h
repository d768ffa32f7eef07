/*
 * The scheduler: 256 fixed priorities (255 highest), round-robin within a
 * priority with a time slice, preemptive; one set of ready queues per CPU,
 * each thread on the queues of its CPU (tcb->cpu).
 */
#ifndef PITH_CORE_SCHED_H
#define PITH_CORE_SCHED_H

#include <stdbool.h>
#include "arch/x86_64/percpu.h"
#include "object/tcb.h"

#define SCHED_PRIORITIES    256
#define SCHED_SLICE_US      5000

void sched_make_ready(struct tcb *t);       /* append to its priority's queue */
void sched_remove(struct tcb *t);           /* take off the ready queue if on it */
struct tcb *sched_pick(void);               /* the highest-priority ready thread, dequeued */
bool sched_higher_ready(unsigned priority); /* is anything above `priority` ready? */
static inline struct tcb *sched_current(void) { return this_cpu()->current; }

/*
 * Changes what runs: `t` becomes current (NULL: idle).  The previous
 * thread, if still ready, goes back on its queue by the caller's choice.
 */
void sched_set_current(struct tcb *t);

/* A CPU other than the boot CPU enters the scheduler (never returns). */
_Noreturn void sched_cpu_start(void);

/* Leaves the kernel into whichever thread should run (syscall.S). */
_Noreturn void kernel_exit(void);

/* Called by kernel_exit: choose the thread to resume and make its state live. */
struct trap_frame *kernel_exit_prepare(void);

/* Timer interrupt: slice accounting and sleepers. */
void sched_timer_tick(void);

/* The current thread gives up the rest of its slice. */
void sched_yield(void);

/* A thread that became ready may preempt the current one. */
void sched_check_preempt(struct tcb *woken);

/* Sleeping: woken by the timer with rax = PITH_OK. */
void sched_sleep_until(struct tcb *t, uint64_t wake_tsc);
void sched_timeout_add(struct tcb *t, uint64_t wake_tsc);     /* an IPC wait that ends with PITH_E_TIMEOUT */
void sched_timeout_remove(struct tcb *t);

/*
 * Time slices lent along calls: the caller blocked in a call that reached
 * `server`; if the server runs next it runs on the caller's slice.
 * sched_answered ends the loan when the server answers and runs on.
 */
void sched_lend_slice(struct tcb *server);
void sched_answered(struct tcb *replier, struct tcb *caller);
uint32_t sched_budget_left(const struct tcb *t);   /* microseconds of t's own slice left */
bool sched_owns_slice(const struct tcb *t);         /* its CPU runs on t's budget now */

/* Per CPU: set up its scheduler; moving threads; stopping one that runs elsewhere. */
void sched_init_cpu(unsigned n);
void sched_migrate(struct tcb *t, unsigned to);
void sched_kick(struct tcb *t);                     /* IPI its CPU if it runs there */
bool sched_running_elsewhere(const struct tcb *t);


/* The running thread's TLS bases, address space or ports changed: reload them on exit. */
void sched_reload(void);

/* A thread is being destroyed: drop every reference the scheduler holds. */
void sched_forget(struct tcb *t);

#endif
