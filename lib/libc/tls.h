/*
 * The thread block: every thread of a native program has one, and its FS
 * base points at it.  Two fields are fixed by the x86-64 conventions the
 * compilers (and so musl's code) follow: the block's own address at
 * %fs:0, and the stack-protector canary at %fs:0x28.  The rest is ours.
 */
#ifndef LIBC_TLS_H
#define LIBC_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <pith/ipc_buffer.h>

struct pith_thread;

struct pith_tls {
    struct pith_tls *self;              /* %fs:0 */
    uint64_t unused[4];
    uint64_t stack_guard;               /* %fs:0x28 */
    int errno_value;
    struct pith_ipc_buffer *ipc_buffer; /* this thread's IPC buffer, where mapped */
    uint64_t tcb;                       /* slot of this thread's TCB */
    uint64_t ntfn;                      /* slot of its private notification (condition variables) */
    struct pith_thread *thread;         /* NULL for threads the runtime did not start */
    uint64_t *slot_log;                 /* pith_slot_log_begin: where this thread's new slots are noted */
    uint32_t slot_log_count, slot_log_max;
};

_Static_assert(offsetof(struct pith_tls, stack_guard) == 0x28, "canary at %fs:0x28");

/* The calling thread's block (reads %fs:0). */
struct pith_tls *pith_tls_self(void);

/*
 * A block for a new thread: its IPC buffer and TCB slot, a new private
 * notification.  Returns NULL when memory or the notification runs out.
 * Hand the result to PITH_TCB_SET_TLS as the FS base.
 */
struct pith_tls *pith_tls_new(struct pith_ipc_buffer *ipc_buffer, uint64_t tcb);

/* Sets up the main thread's block; called first thing at start-up. */
void pith_tls_init_main(struct pith_ipc_buffer *ipc_buffer, uint64_t tcb);

#endif
