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

/* The fast path: the partner's frame to resume if it did the whole operation, else NULL. */
extern bool fastpath_enabled;
struct trap_frame *ipc_fastpath(struct trap_frame *f);

/* Cancelling: a thread leaves whatever it waits on; objects release their waiters. */
void ipc_cancel(struct tcb *t, uint64_t error);
void endpoint_finalise(struct endpoint *ep);
void notification_finalise(struct notification *n);
void reply_finalise(struct reply *r);
void tcb_release_replies(struct tcb *t);

#endif
