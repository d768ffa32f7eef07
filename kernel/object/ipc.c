/*
 * Synchronous IPC.  An endpoint queues whichever side arrived first;
 * the other side completes the rendezvous by copying the message (tag and
 * four words, in registers) straight from one thread's saved registers to
 * the other's.  A call additionally parks the caller on the receiver's
 * reply object until someone answers through it.  Every way a rendezvous
 * can be broken (a thread destroyed or suspended, an endpoint or reply
 * object deleted) wakes the other side with a distinct error.
 */
#include "object/ipc.h"
#include "object/cnode.h"
#include "object/extension.h"
#include "object/port.h"
#include "core/sched.h"
#include "lib/string.h"
#include "core/log.h"
#include "core/panic.h"
#include <pith/fault.h>
#include <pith/ipc_buffer.h>
#include <pith/syscall.h>

/* ---- queues -------------------------------------------------------------- */

/*
 * Senders wait in priority order, first come first served within a
 * priority: insert after the last thread of equal or higher priority.
 */
static void enqueue_by_priority(struct tcb **head, struct tcb **tail, struct tcb *t)
{
    KASSERT(!t->on_ready_queue);        /* one queue at a time: they share the links */
    struct tcb *after = *tail;
    while (after && after->priority < t->priority)
        after = after->q_prev;
    t->q_prev = after;
    t->q_next = after ? after->q_next : *head;
    if (t->q_next)
        t->q_next->q_prev = t;
    else
        *tail = t;
    if (after)
        after->q_next = t;
    else
        *head = t;
}

/* A blocked thread's operation ends with `result`: it is ready, and may preempt us. */
void ipc_wake(struct tcb *t, uint64_t result)
{
    t->ctx.rax = result;
    t->blocked_on = NULL;
    sched_make_ready(t);
    sched_check_preempt(t);
}

/*
 * A thread blocked on behalf of its fault was not in a system call, so an
 * error cannot be returned to it: it is stopped and reported instead.
 */
static void fail_blocked(struct tcb *t, uint64_t error)
{
    if (!(t->ipc_flags & IPC_FAULT)) {
        ipc_wake(t, error);
        return;
    }
    t->ipc_flags = 0;
    t->blocked_on = NULL;
    t->state = TS_INACTIVE;
    kprintf("thread %p: its fault (kind %lu at %#lx) could not be handled (error %lu); suspended\n",
            (void *)t, t->fault_kind, t->fault_addr, error);
}

/* The kernel's message on behalf of a faulting thread. */
static void fault_message(struct tcb *from, struct tcb *to, uint64_t badge)
{
    to->ctx.rdi = badge;
    to->ctx.rsi = PITH_TAG(PITH_FAULT_LABEL, 4);
    to->ctx.rdx = from->fault_kind;
    to->ctx.r10 = from->fault_addr;
    to->ctx.r8 = from->fault_error;
    to->ctx.r9 = from->ctx.rip;
    struct pith_ipc_buffer *buf = tcb_ipc_buffer(to);
    if (!buf)
        return;
    const struct trap_frame *f = &from->ctx;
    struct pith_fault_regs r = {
        f->rip, f->rsp, f->rflags, f->rax, f->rbx, f->rcx, f->rdx, f->rsi, f->rdi, f->rbp,
        f->r8, f->r9, f->r10, f->r11, f->r12, f->r13, f->r14, f->r15,
    };
    memcpy(buf->msg, &r, sizeof r);
}

/*
 * The capability a message carries, copied (a child of the sender's) into
 * the slot the receiver named.  False if it cannot be: the sender's slot
 * emptied meanwhile, the receiver named no free slot, or the capability
 * may not be copied.
 */
static bool transfer_cap(struct tcb *from, struct tcb *to)
{
    struct pith_ipc_buffer *fb = tcb_ipc_buffer(from), *tb = tcb_ipc_buffer(to);
    struct slot *src, *dst;
    if (!fb || !tb || !tb->recv_slot)
        return false;
    if (cnode_lookup(&from->slots[TCB_SLOT_CSPACE].cap, fb->send_cap, PITH_OBJ_NULL, 0, &src) ||
        cnode_slot(&to->slots[TCB_SLOT_CSPACE].cap, tb->recv_slot, &dst) || !slot_empty(dst))
        return false;
    return cap_copy(src, dst, PITH_RIGHTS_ALL) == PITH_OK;
}

/* Words 4 and up, from the sender's IPC buffer to the receiver's; returns the length delivered. */
static uint64_t copy_long(struct tcb *from, struct tcb *to, uint64_t len)
{
    if (len <= PITH_MSG_REGS)
        return len;
    struct pith_ipc_buffer *fb = tcb_ipc_buffer(from), *tb = tcb_ipc_buffer(to);
    if (!fb || !tb)
        return PITH_MSG_REGS;           /* the tag tells the receiver it got four words */
    for (uint64_t i = PITH_MSG_REGS; i < len; i++)     /* whole words: much cheaper than bytes */
        tb->msg[i] = fb->msg[i];
    return len;
}

static void copy_message(struct tcb *from, struct tcb *to, uint64_t badge)
{
    if (from->ipc_flags & IPC_FAULT) {
        fault_message(from, to, badge);
        return;
    }
    uint64_t tag = from->ctx.rsi;
    uint64_t len = copy_long(from, to, PITH_TAG_LENGTH(tag));
    uint64_t flags = 0;
    if (tag & PITH_TAG_CAP)
        flags = transfer_cap(from, to) ? PITH_TAG_CAP : PITH_TAG_CAP_LOST;
    to->ctx.rdi = badge;
    to->ctx.rsi = (tag & ~(uint64_t)0xffff) | len | flags;
    to->ctx.rdx = from->ctx.rdx;
    to->ctx.r10 = from->ctx.r10;
    to->ctx.r8 = from->ctx.r8;
    to->ctx.r9 = from->ctx.r9;
}

/* ---- priority inheritance ---------------------------------------------------- */

#define PI_CHAIN_MAX 32                 /* servers calling servers: bounded work */

/*
 * A server runs at least at the priority of every caller whose call it
 * holds (QNX), and passes that on along a chain of servers calling
 * servers: its effective priority is the highest of its own and its held
 * callers' effective priorities; when that changes and it is itself
 * waiting for another server's answer, that server is recomputed too.
 */
void ipc_inherit_priority(struct tcb *s)
{
    for (int depth = 0; s && depth < PI_CHAIN_MAX; depth++) {
        uint8_t eff = s->base_priority;
        for (struct reply *r = s->held_replies; r; r = r->next_held)
            if (r->caller && r->caller->priority > eff)
                eff = r->caller->priority;
        if (eff == s->priority)
            return;
        tcb_set_effective_priority(s, eff);
        /* Waiting on another server's answer: it serves us, so it inherits too. */
        s = (s->state == TS_BLOCKED_REPLY && s->reply) ? s->reply->server : NULL;
    }
}

/* A blocked sender whose priority changed takes its new place in the endpoint's queue. */
void ipc_requeue_sender(struct tcb *t)
{
    if (t->state != TS_BLOCKED_SEND || !t->blocked_on)
        return;
    struct endpoint *ep = t->blocked_on;
    tcbq_remove(&ep->head, &ep->tail, t);
    enqueue_by_priority(&ep->head, &ep->tail, t);
}

/* ---- reply objects --------------------------------------------------------- */

/* The call parked on r ends with `error` (the server died or dropped it). */
static void reply_fail(struct reply *r, uint64_t error)
{
    struct tcb *c = r->caller;
    reply_unhold(r);
    r->caller = NULL;
    if (c) {
        c->reply = NULL;
        fail_blocked(c, error);
    }
}

/* A call that reached a receiver: park the caller, or fail it if there is nowhere to reply. */
static void deliver_call(struct tcb *caller, struct tcb *receiver)
{
    struct reply *r = receiver->recv_reply;
    receiver->recv_reply = NULL;
    if (!r || r->caller) {
        fail_blocked(caller, PITH_E_PEER_DIED);
        return;
    }
    reply_bind(r, caller, receiver);
}

/* The handler's answer to a fault: resume as told.  Registers are checked like any from user level. */
static int answer_fault(struct tcb *self, struct tcb *c)
{
    uint64_t label = PITH_TAG_LABEL(self->ctx.rsi);
    struct trap_frame *f = &c->ctx;
    if (label == PITH_FAULT_RESUME_REGS) {
        struct pith_ipc_buffer *buf = tcb_ipc_buffer(self);
        if (!buf)
            return PITH_E_STATE;
        struct pith_fault_regs r;
        memcpy(&r, buf->msg, sizeof r);
        /* The same check as PITH_TCB_WRITE_REGISTERS, then the rest of the registers. */
        int err = tcb_write_registers(c, r.rip, r.rsp, r.rdi, r.rsi);
        if (err)
            return err;
        f->rflags = r.rflags;
        f->rax = r.rax; f->rbx = r.rbx; f->rcx = r.rcx; f->rdx = r.rdx;
        f->rbp = r.rbp;
        f->r8 = r.r8; f->r9 = r.r9; f->r10 = r.r10; f->r11 = r.r11;
        f->r12 = r.r12; f->r13 = r.r13; f->r14 = r.r14; f->r15 = r.r15;
    } else if (label == PITH_FAULT_SYSCALL_RESULT) {
        if (c->fault_kind != PITH_FAULT_SYSCALL)
            return PITH_E_STATE;
        f->rax = self->ctx.rdx;
    } else if (label != PITH_FAULT_RESUME) {
        return PITH_E_INVALID_ARG;
    }
    return PITH_OK;
}

int ipc_reply(struct tcb *self, const struct cap *reply_cap)
{
    struct reply *r = (struct reply *)reply_cap->obj;
    struct tcb *c = r->caller;
    if (!c)
        return PITH_E_PEER_DIED;        /* the caller is gone: harmless */
    if (c->ipc_flags & IPC_FAULT) {
        /* A bad answer leaves the thread waiting, so the handler can answer again. */
        int err = answer_fault(self, c);
        if (err)
            return err;
    } else {
        copy_message(self, c, 0);
        c->ctx.rax = PITH_OK;
    }
    reply_unhold(r);
    r->caller = NULL;
    c->reply = NULL;
    c->ipc_flags = 0;
    c->blocked_on = NULL;
    sched_make_ready(c);
    sched_answered(self, c);
    sched_check_preempt(c);
    return PITH_OK;
}

/* ---- endpoints ----------------------------------------------------------------- */

void ipc_send(struct tcb *self, const struct cap *ep_cap, uint64_t tag, bool blocking, bool call)
{
    struct endpoint *ep = (struct endpoint *)ep_cap->obj;
    /* Extension hook (docs/extensions.md): the program may refuse or answer the message here. */
    if (ep->ext && extension_on_send(ep->ext, self, ep_cap->w0, tag, call))
        return;
    self->ipc_flags = call ? IPC_CALL : 0;
    if (ep->head && ep->receivers) {
        struct tcb *r = ep->head;
        tcbq_remove(&ep->head, &ep->tail, r);
        copy_message(self, r, ep_cap->w0);
        /* Block the caller before waking the receiver, which may preempt us. */
        self->ctx.rax = PITH_OK;
        if (call)
            deliver_call(self, r);
        if (self->state == TS_BLOCKED_REPLY)
            sched_lend_slice(r);        /* the server works on our time */
        ipc_wake(r, PITH_OK);
        return;
    }
    if (!blocking) {
        self->ctx.rax = PITH_E_WOULD_BLOCK;
        return;
    }
    ep->receivers = 0;
    self->ipc_badge = ep_cap->w0;
    self->ipc_flags = call ? IPC_CALL : 0;      /* never IPC_FAULT: that is ipc_send_fault */
    self->state = TS_BLOCKED_SEND;
    self->blocked_on = ep;
    enqueue_by_priority(&ep->head, &ep->tail, self);
}

/*
 * Sends the current thread's fault to its handler as a call made on its
 * behalf.  Returns false if it has no usable fault endpoint.
 */
bool ipc_send_fault(struct tcb *self, uint64_t kind, uint64_t addr, uint64_t error)
{
    const struct cap *ep = &self->slots[TCB_SLOT_FAULT_EP].cap;
    if (ep->type != PITH_OBJ_ENDPOINT || !(ep->rights & PITH_RIGHT_WRITE))
        return false;
    struct endpoint *e = (struct endpoint *)ep->obj;
    /* Extension hook (docs/extensions.md): the program may repair a page fault or answer a system call here. */
    if (e->ext && extension_on_fault(e->ext, self, ep->w0, kind, addr, error))
        return true;
    self->fault_kind = kind;
    self->fault_addr = addr;
    self->fault_error = error;
    self->ipc_flags = IPC_FAULT | IPC_CALL;
    if (e->head && e->receivers) {
        struct tcb *r = e->head;
        tcbq_remove(&e->head, &e->tail, r);
        copy_message(self, r, ep->w0);
        deliver_call(self, r);
        if (self->state == TS_BLOCKED_REPLY)
            sched_lend_slice(r);        /* the handler works on the faulting thread's time */
        ipc_wake(r, PITH_OK);
        return true;
    }
    e->receivers = 0;
    self->ipc_badge = ep->w0;
    self->state = TS_BLOCKED_SEND;
    self->blocked_on = e;
    enqueue_by_priority(&e->head, &e->tail, self);
    return true;
}

static bool take_notification(struct tcb *self, struct notification *n)
{
    if (!n || !n->word)
        return false;
    self->ctx.rdi = n->word;
    self->ctx.rsi = PITH_TAG(PITH_NOTIFICATION_LABEL, 0);
    self->ctx.rax = PITH_OK;
    n->word = 0;
    return true;
}

static void recv_endpoint(struct tcb *self, struct endpoint *ep, struct reply *reply, bool blocking)
{
    if (take_notification(self, self->bound))
        return;
    if (ep->head && !ep->receivers) {
        struct tcb *s = ep->head;
        tcbq_remove(&ep->head, &ep->tail, s);
        copy_message(s, self, s->ipc_badge);
        self->ctx.rax = PITH_OK;
        if (s->ipc_flags & IPC_CALL) {
            self->recv_reply = reply;
            deliver_call(s, self);
        } else {
            ipc_wake(s, PITH_OK);
        }
        return;
    }
    if (!blocking) {
        self->ctx.rax = PITH_E_WOULD_BLOCK;
        return;
    }
    ep->receivers = 1;
    self->recv_reply = reply;
    self->state = TS_BLOCKED_RECV;
    self->blocked_on = ep;
    tcbq_append(&ep->head, &ep->tail, self);
}

static void recv_notification(struct tcb *self, struct notification *n, bool blocking)
{
    if (take_notification(self, n))
        return;
    if (!blocking) {
        self->ctx.rax = PITH_E_WOULD_BLOCK;
        return;
    }
    self->state = TS_BLOCKED_NOTIFY;
    self->blocked_on = n;
    tcbq_append(&n->head, &n->tail, self);
}

void ipc_recv(struct tcb *self, const struct cap *cap, struct slot *reply_slot, bool blocking)
{
    struct reply *reply = reply_slot ? (struct reply *)reply_slot->cap.obj : NULL;
    if (cap->type == PITH_OBJ_NOTIFICATION)
        recv_notification(self, (struct notification *)cap->obj, blocking);
    else
        recv_endpoint(self, (struct endpoint *)cap->obj, reply, blocking);
}

/* ---- notifications --------------------------------------------------------------- */

void notification_signal(struct notification *n, uint64_t bits)
{
    n->word |= bits;
    if (n->head) {
        struct tcb *t = n->head;
        tcbq_remove(&n->head, &n->tail, t);
        take_notification(t, n);
        ipc_wake(t, PITH_OK);
        return;
    }
    /* A bound thread waiting on an endpoint takes the signal instead. */
    struct tcb *b = n->bound;
    if (b && b->state == TS_BLOCKED_RECV) {
        struct endpoint *ep = b->blocked_on;
        tcbq_remove(&ep->head, &ep->tail, b);
        b->recv_reply = NULL;
        take_notification(b, n);
        ipc_wake(b, PITH_OK);
    }
}

int notification_bind(struct tcb *t, struct notification *n)
{
    if (t->bound) {
        t->bound->bound = NULL;
        t->bound = NULL;
    }
    if (!n)
        return PITH_OK;
    if (n->bound)
        return PITH_E_STATE;            /* one thread per notification */
    n->bound = t;
    t->bound = n;
    return PITH_OK;
}

/* ---- cancellation ------------------------------------------------------------------ */

void ipc_cancel(struct tcb *t, uint64_t error)
{
    switch (t->state) {
    case TS_BLOCKED_SEND:
    case TS_BLOCKED_RECV: {
        struct endpoint *ep = t->blocked_on;
        tcbq_remove(&ep->head, &ep->tail, t);
        t->recv_reply = NULL;
        break;
    }
    case TS_BLOCKED_NOTIFY: {
        struct notification *n = t->blocked_on;
        tcbq_remove(&n->head, &n->tail, t);
        break;
    }
    case TS_BLOCKED_REPLY: {
        struct reply *r = t->reply;
        if (r) {
            reply_unhold(r);
            r->caller = NULL;
        }
        t->reply = NULL;
        break;
    }
    case TS_BLOCKED_PORT:
        port_cancel_wait(t);
        break;
    case TS_SLEEPING:
        break;
    default:
        return;
    }
    sched_timeout_remove(t);
    t->blocked_on = NULL;
    /* A thread stopped while its fault was pending faults again when resumed. */
    if (!(t->ipc_flags & IPC_FAULT))
        t->ctx.rax = error;
    t->ipc_flags = 0;
    t->state = TS_INACTIVE;
}

void endpoint_finalise(struct endpoint *ep)
{
    while (ep->head) {
        struct tcb *t = ep->head;
        tcbq_remove(&ep->head, &ep->tail, t);
        t->recv_reply = NULL;
        fail_blocked(t, PITH_E_CANCELLED);
    }
}

void notification_finalise(struct notification *n)
{
    while (n->head) {
        struct tcb *t = n->head;
        tcbq_remove(&n->head, &n->tail, t);
        ipc_wake(t, PITH_E_CANCELLED);
    }
    if (n->bound) {
        n->bound->bound = NULL;
        n->bound = NULL;
    }
}

void reply_finalise(struct reply *r)
{
    reply_fail(r, PITH_E_PEER_DIED);
}

/* A server thread is going away: every call it holds fails. */
void tcb_release_replies(struct tcb *t)
{
    while (t->held_replies)
        reply_fail(t->held_replies, PITH_E_PEER_DIED);
}
