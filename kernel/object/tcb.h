/*
 * Threads (TCB objects, 4 KiB each, made from untyped memory).
 *
 * The saved user registers come first: TSS.rsp0 points at their end, so
 * an interrupt from user mode pushes its frame straight into the TCB.  The
 * FPU/SSE/AVX state is saved eagerly on every switch into a 64-byte
 * aligned XSAVE area.  A thread's capability space, address space, IPC
 * buffer frame and fault handler are capabilities held in the TCB's own
 * slots, so the derivation tree knows about them: deleting the address
 * space deletes the thread's copy, and the thread stops.
 */
#ifndef PITH_OBJECT_TCB_H
#define PITH_OBJECT_TCB_H

#include <stdint.h>
#include "arch/x86_64/trap.h"
#include "object/cap.h"
#include "core/panic.h"
#include <pith/invocation.h>
#include <pith/ipc_buffer.h>

enum tcb_slot {
    TCB_SLOT_CSPACE,
    TCB_SLOT_VSPACE,
    TCB_SLOT_IPC_BUFFER,
    TCB_SLOT_FAULT_EP,
    TCB_SLOT_IO_PORTS_0,        /* I/O-port ranges the thread may use (TSS bitmap) */
    TCB_SLOT_IO_PORTS_1,
    TCB_SLOT_COUNT
};

/* The ABI's values (include/pith/invocation.h): PITH_TCB_INFO reports them as they are. */
enum thread_state {
    TS_INACTIVE = PITH_THREAD_INACTIVE,         /* made, or suspended: never scheduled */
    TS_READY = PITH_THREAD_READY,               /* runnable (on a ready queue unless it is current) */
    TS_BLOCKED_SEND = PITH_THREAD_BLOCKED_SEND, /* waiting on an endpoint to send (or call) */
    TS_BLOCKED_RECV = PITH_THREAD_BLOCKED_RECV, /* waiting on an endpoint (and its bound notification) */
    TS_BLOCKED_REPLY = PITH_THREAD_BLOCKED_REPLY,   /* called; waiting for the reply */
    TS_BLOCKED_NOTIFY = PITH_THREAD_BLOCKED_NOTIFY, /* waiting on a notification */
    TS_SLEEPING = PITH_THREAD_SLEEPING,         /* waiting for a time */
    TS_BLOCKED_PORT = PITH_THREAD_BLOCKED_PORT, /* waiting for a message on a port */
};

#define IPC_CALL        1u              /* a blocked sender is calling */
#define IPC_FAULT       2u              /* ... on behalf of its fault (kernel-made message) */

#define TCB_FPU_OFFSET  1024
#define TCB_FPU_SIZE    3072

struct endpoint;
struct notification;
struct reply;

struct tcb {
    struct trap_frame ctx;              /* must stay first */
    uint8_t state;
    uint8_t priority;                   /* effective: base, raised by the callers it serves */
    uint8_t base_priority;              /* as set through PITH_TCB_SET_PRIORITY */
    uint8_t mcp;                        /* maximum controlled priority */
    uint8_t on_ready_queue;
    uint8_t cpu;                        /* the CPU it runs on (affinity): its queues and timers */
    uint32_t slice_left_us;
    struct tcb *q_next, *q_prev;        /* ready queue or IPC queue, never both */
    void *blocked_on;                   /* endpoint or notification while blocked */
    struct reply *reply;                /* as caller: the reply object our call waits on */
    struct reply *recv_reply;           /* as receiver: where a received call's reply goes */
    struct reply *held_replies;         /* as server: calls received and not yet answered */
    struct notification *bound;         /* notification bound for combined waits */
    uint64_t ipc_badge;                 /* what a blocked sender sends with */
    uint64_t wake_tsc;                  /* while sleeping or waiting with a timeout */
    struct tcb *t_next;                 /* on the timeout list (sched.c) */
    uint8_t timed;                      /* on the timeout list */
    uint64_t fs_base, gs_base;
    uint64_t cpu_time_tsc;              /* time spent running */
    uint32_t ipc_flags;                 /* the blocked operation's details (IPC_*) */
    uint32_t pad;
    uint64_t fault_kind, fault_addr, fault_error;   /* while IPC_FAULT */
    /*
     * PITH_TCB_WRITE_REGISTERS from another CPU while this thread ran:
     * rip, rsp, rdi, rsi, put into ctx by the CPU it runs on as soon as
     * it stops running it or resumes it (tcb_apply_written_registers).
     */
    uint64_t written_regs[4];
    uint8_t regs_written;
    /*
     * Set when an I/O-port capability goes into one of its port slots,
     * cleared by ioport_load when it finds none there: a switch to a
     * thread without it (and no ports open on the CPU) skips the bitmap.
     */
    uint8_t io_ports;
    struct slot slots[TCB_SLOT_COUNT];
};

_Static_assert(sizeof(struct tcb) <= TCB_FPU_OFFSET, "TCB fields overlap the FPU area");

static inline uint8_t *tcb_fpu_area(struct tcb *t) { return (uint8_t *)t + TCB_FPU_OFFSET; }

/* The thread's registered IPC buffer (the kernel's own mapping of the frame), or NULL. */
static inline struct pith_ipc_buffer *tcb_ipc_buffer(const struct tcb *t)
{
    const struct cap *c = &t->slots[TCB_SLOT_IPC_BUFFER].cap;
    return c->type == PITH_OBJ_FRAME ? (struct pith_ipc_buffer *)c->obj : NULL;
}

/*
 * Queues of threads (ready queues, endpoint and port waiters) through
 * q_next/q_prev: a thread is on at most one at a time.
 */
static inline void tcbq_append(struct tcb **head, struct tcb **tail, struct tcb *t)
{
    KASSERT(!t->on_ready_queue);        /* one queue at a time: they share the links */
    t->q_next = NULL;
    t->q_prev = *tail;
    if (*tail)
        (*tail)->q_next = t;
    else
        *head = t;
    *tail = t;
}

static inline void tcbq_remove(struct tcb **head, struct tcb **tail, struct tcb *t)
{
    if (t->q_prev)
        t->q_prev->q_next = t->q_next;
    else
        *head = t->q_next;
    if (t->q_next)
        t->q_next->q_prev = t->q_prev;
    else
        *tail = t->q_prev;
    t->q_next = t->q_prev = NULL;
}

/* Operations (tcb.c); each returns a pith_error. */
int tcb_configure(struct tcb *t, struct slot *cspace, struct slot *vspace,
                  struct slot *ipc_buffer, struct slot *fault_ep);
int tcb_write_registers(struct tcb *t, uint64_t rip, uint64_t rsp, uint64_t rdi, uint64_t rsi);
void tcb_apply_written_registers(struct tcb *t);
uint64_t tcb_read_rip(const struct tcb *t);
uint64_t tcb_read_rsp(const struct tcb *t);
int tcb_set_priority(struct tcb *caller, struct tcb *t, uint64_t prio, uint64_t mcp);
void tcb_set_effective_priority(struct tcb *t, uint8_t prio);
int tcb_resume(struct tcb *t);
void tcb_suspend(struct tcb *t);
uint64_t tcb_interrupt(struct tcb *t);
int tcb_read_all_registers(struct tcb *self, struct tcb *t);
int tcb_write_all_registers(struct tcb *self, struct tcb *t, uint64_t parts);
int tcb_set_io_ports(struct tcb *t, unsigned which, struct slot *ports);
int tcb_set_affinity(struct tcb *t, uint64_t cpu_number);

#endif

