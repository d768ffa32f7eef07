/*
 * Endpoints, notifications and reply objects: synchronous IPC (L4, QNX)
 * with reply objects for at-most-once RPC with failure notification
 * (CHORUS), and notifications as words of signal bits.
 */
#ifndef PITH_OBJECT_IPC_H
#define PITH_OBJECT_IPC_H

#include <stdbool.h>
#include <stdint.h>
#include "object/tcb.h"

struct extension;

struct endpoint {
    struct tcb *head, *tail;            /* waiting threads, all senders or all receivers */
    struct extension *ext;              /* a program run on every send (NULL: none; docs/extensions.md) */
    uint8_t receivers;                  /* 1: the queue holds receivers */
    uint8_t lock;                       /* held by a fast path run beside other CPUs' (core/bkl.h) */
};

struct notification {
    uint64_t word;                      /* pending signal bits */
    struct tcb *head, *tail;            /* waiters */
    struct tcb *bound;                  /* thread that also waits for it on endpoints */
};

struct reply {
    struct tcb *caller;                 /* blocked in call, waiting for this reply */
    struct tcb *server;                 /* the thread that received the call */
    struct reply *next_held;            /* the server's list of calls it holds */
};

/* Operations on behalf of the current thread; they set its saved registers. */
void ipc_send(struct tcb *self, const struct cap *ep_cap, uint64_t tag, bool blocking, bool call);
void ipc_recv(struct tcb *self, const struct cap *cap, struct slot *reply_slot, bool blocking);
int ipc_reply(struct tcb *self, const struct cap *reply_cap);
void ipc_wake(struct tcb *t, uint64_t result);
bool ipc_send_fault(struct tcb *self, uint64_t kind, uint64_t addr, uint64_t error);
void ipc_inherit_priority(struct tcb *server);
void ipc_requeue_sender(struct tcb *t);
void notification_signal(struct notification *n, uint64_t bits);
int notification_bind(struct tcb *t, struct notification *n);

/*
 * Reply objects, shared by the slow and the fast path (ipc_fast.c): a
 * server holds every call it received and has not answered, and inherits
 * their callers' priorities while it holds them.
 */
static inline void reply_unhold(struct reply *r)
{
    struct tcb *s = r->server;
    if (!s)
        return;
    for (struct reply **pp = &s->held_replies; *pp; pp = &(*pp)->next_held) {
        if (*pp == r) {
            *pp = r->next_held;
            break;
        }
    }
    r->server = NULL;
    r->next_held = NULL;
    if (s->priority != s->base_priority)
        ipc_inherit_priority(s);        /* the call it served no longer lifts it */
}

/* Parks `caller` on reply object r, held by `server`. */
static inline void reply_bind(struct reply *r, struct tcb *caller, struct tcb *server)
{
    r->caller = caller;
    caller->reply = r;
    caller->state = TS_BLOCKED_REPLY;
    caller->blocked_on = r;
    r->server = server;
    r->next_held = server->held_replies;
    server->held_replies = r;
    if (caller->priority > server->priority)
        ipc_inherit_priority(server);
}

/*
 * The fast path (ipc_fast.c), from syscall_entry with the system call's
 * arguments (the capability, the tag, four words): it resumes the partner
 * with SYSRET itself when it did the whole operation, or returns having
 * changed nothing, and the full dispatch runs.
 */
extern bool fastpath_enabled;
void ipc_fastpath_call(uint64_t cptr, uint64_t tag, uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3);
void ipc_fastpath_reply_recv(uint64_t cptr, uint64_t tag, uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3);
/* The same, from a CPU that does not hold the big kernel lock while others run (core/bkl.h). */
void ipc_fastpath_call_shared(uint64_t cptr, uint64_t tag, uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3);
void ipc_fastpath_reply_recv_shared(uint64_t cptr, uint64_t tag, uint64_t w0, uint64_t w1, uint64_t w2,
                                    uint64_t w3);

/* Cancelling: a thread leaves whatever it waits on; objects release their waiters. */
void ipc_cancel(struct tcb *t, uint64_t error);
void endpoint_finalise(struct endpoint *ep);
void notification_finalise(struct notification *n);
void reply_finalise(struct reply *r);
void tcb_release_replies(struct tcb *t);

#endif
