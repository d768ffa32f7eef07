/*
 * Threads of a native program: each has its own TCB, stack, IPC buffer and
 * thread block, all made from the runtime's untyped, and runs in our
 * address space and capability space at the creator's priority.
 */
#ifndef LIBC_THREAD_H
#define LIBC_THREAD_H

#include <stdint.h>

typedef struct pith_thread pith_thread_t;

/* Starts fn(arg) in a new thread.  0, or ENOMEM when objects or memory run out. */
int pith_thread_create(pith_thread_t **t, void *(*fn)(void *), void *arg);

/* Waits for t to end, stores what it returned (or passed to pith_thread_exit); 0 or EINVAL. */
int pith_thread_join(pith_thread_t *t, void **result);

/* Ends the calling thread (the main thread: the task, with status 0). */
_Noreturn void pith_thread_exit(void *result);

/* The calling thread; NULL for the main thread and threads the runtime did not start. */
pith_thread_t *pith_thread_self(void);

/* The slot of t's TCB (for priorities and the like). */
uint64_t pith_thread_tcb(pith_thread_t *t);

/*
 * Init's threads have no fault handler unless init names one here (a slot
 * of its own; 0, the default: none): threads it creates after take it.  A
 * started process's threads always report to its supervisor (process.h).
 */
extern uint64_t pith_init_thread_fault_ep;

#endif
