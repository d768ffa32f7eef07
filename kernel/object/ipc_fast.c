/*
 * The IPC fast path: call and reply-and-receive in the common case (L4,
 * seL4): a message in registers, the partner waiting, and the partner the
 * thread the scheduler would pick anyway once the current one blocks
 * (nothing else ready at or above its priority), so the semantics are
 * exactly the slow path's (ipc.c).  The current thread hands the CPU
 * straight to the partner (which runs on the rest of the same time slice),
 * with no ready-queue operations, and resumes the partner with SYSRET at
 * once (sysret_frame): the partner must be waiting in a system call, its
 * frame as SYSCALL saved it.  Anything else returns untouched, and the
 * slow path, with the same semantics, does it.  Both start from a lookup
 * that mirrors cnode_lookup.
 *
 * This file holds nothing else: with gcc it is compiled with the
 * callee-saved registers as scratch (Makefile), since its two entry points
 * are called only by syscall_entry, which keeps nothing in them, and on
 * success never return.  That saves the prologue's pushes on every call.
 */
#include "object/ipc.h"
#include "arch/x86_64/entry.h"
#include "object/cnode.h"
#include "object/extension.h"
#include "core/sched_fast.h"
#include <pith/syscall.h>

bool fastpath_enabled = true;

_Static_assert(SYSCALL_NR_CALL == PITH_SYS_CALL && SYSCALL_NR_REPLY_RECV == PITH_SYS_REPLY_RECV,
               "syscall_entry's fast-path numbers");

/*
 * syscall.S: the SYSCALL frame in rax resumed with SYSRET, the kernel
 * stack dropped.  Not declared noreturn: gcc would take the paths that end
 * here for cold ones and stop inlining the switch into them.
 */
static inline __attribute__((always_inline)) void resume(struct trap_frame *f)
{
    __asm__ volatile("jmp sysret_frame" : : "a"(f) : "memory");
}

static inline struct slot *fast_slot(struct tcb *self, uint64_t index, uint8_t type, uint8_t right)
{
    const struct cap *cs = &self->slots[TCB_SLOT_CSPACE].cap;
    if (cs->type != PITH_OBJ_CNODE || (index >> cs->bits))
        return NULL;
    struct slot *s = (struct slot *)cs->obj + index;
    if (s->cap.type != type || (s->cap.rights & right) != right)
        return NULL;
    return s;
}

/* A message of registers only: what copy_message does when there is nothing else. */
static inline void copy_registers(struct trap_frame *to, uint64_t badge, uint64_t tag,
                                  uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3)
{
    to->rax = PITH_OK;
    to->rdi = badge;
    to->rsi = tag & ~(uint64_t)(0xffff & ~0x7f);        /* the label and length only */
    to->rdx = w0;
    to->r10 = w1;
    to->r8 = w2;
    to->r9 = w3;
}

/* Waiting in a system call on this CPU (cs: its scheduler), and what the scheduler would pick anyway. */
static inline bool fast_partner(const struct cpu_sched *cs, const struct tcb *t)
{
    return t->ctx.vector == VEC_SYSCALL_FRAME && sched_would_pick(cs, t);
}

/* The current thread, if it may use the fast path at all (another CPU may have stopped it). */
static inline struct tcb *fast_self(void)
{
    struct tcb *self = PERCPU_GET(current);
    return fastpath_enabled && self->state == TS_READY ? self : NULL;
}

/*
 * At most PITH_MSG_REGS words and no capability: the length is bits 0-6
 * and PITH_TAG_CAP bit 7, so both are one test of the low byte.
 */
static inline bool fast_tag(uint64_t tag)
{
    return (uint8_t)tag <= PITH_MSG_REGS;
}

_Static_assert(PITH_TAG_LENGTH(0xffu) == 0x7f && PITH_TAG_CAP == 0x80 && PITH_MSG_REGS < 0x80, "fast_tag");

/*
 * With several CPUs the fast path also runs without the big kernel lock,
 * beside other CPUs' (`shared`, core/bkl.h): then the endpoint is locked
 * from the first look at its queue to the last change, since another CPU
 * may be taking a receiver from it or queueing one; the threads and the
 * reply object are this CPU's alone (each partner must run here).  What a
 * shared run does not do it leaves to the slow path, under the lock: an
 * extension (its program and state are the kernel's, one at a time), and
 * a server's inherited priority falling (it reads other threads').
 */
static inline void ep_lock(struct endpoint *ep)
{
    while (__atomic_exchange_n(&ep->lock, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&ep->lock, __ATOMIC_RELAXED))
            cpu_relax();
}

static inline void ep_unlock(struct endpoint *ep)
{
    __atomic_store_n(&ep->lock, 0, __ATOMIC_RELEASE);
}

/* The receiver a call on ep goes straight to, or NULL. */
static inline struct tcb *fast_receiver(struct endpoint *ep, const struct tcb *self, const struct cpu_sched *cs)
{
    struct tcb *r = ep->head;
    if (!r || !ep->receivers || r->priority < self->priority || !fast_partner(cs, r))
        return NULL;
    struct reply *rp = r->recv_reply;
    return rp && !rp->caller ? r : NULL;
}

static inline __attribute__((always_inline)) void fast_call(uint64_t cptr, uint64_t tag, uint64_t w0, uint64_t w1,
                                                            uint64_t w2, uint64_t w3, bool shared)
{
    struct tcb *self = fast_self();
    if (!self)
        return;
    struct slot *s = fast_slot(self, cptr, PITH_OBJ_ENDPOINT, PITH_RIGHT_WRITE);
    if (!s || !fast_tag(tag))
        return;
    struct endpoint *ep = (struct endpoint *)s->cap.obj;
    /* Extension hook (docs/extensions.md): a call answered or refused here, or the slow path. */
    if (ep->ext) {
        if (shared)
            return;
        struct trap_frame *done = extension_fastpath(ep->ext, self, &self->ctx, s->cap.w0);
        if (done)
            resume(done);
        return;
    }
    struct cpu_sched *cs = sched_here();
    if (shared)
        ep_lock(ep);
    struct tcb *r = fast_receiver(ep, self, cs);
    if (!r) {
        if (shared)
            ep_unlock(ep);
        return;
    }
    struct reply *rp = r->recv_reply;
    /* tcbq_remove of the head: r has no predecessor (and, one server thread, most often no successor). */
    ep->head = r->q_next;
    if (__builtin_expect(ep->head != NULL, 0))
        ep->head->q_prev = NULL;
    else
        ep->tail = NULL;
    r->q_next = NULL;
    copy_registers(&r->ctx, s->cap.w0, tag, w0, w1, w2, w3);
    self->ipc_flags = IPC_CALL;
    r->recv_reply = NULL;
    reply_bind(rp, self, r);            /* (r's priority is at least ours: nothing to inherit) */
    r->blocked_on = NULL;
    r->state = TS_READY;
    if (shared)
        ep_unlock(ep);                  /* (after reply_bind: another receiver may wait with the same reply) */
    resume(sched_switch_fast(cs, self, r));
}

static inline __attribute__((always_inline)) void fast_reply_recv(uint64_t cptr, uint64_t tag, uint64_t w0,
                                                                  uint64_t w1, uint64_t w2, uint64_t w3, bool shared)
{
    struct tcb *self = fast_self();
    if (!self)
        return;
    struct slot *es = fast_slot(self, cptr, PITH_OBJ_ENDPOINT, PITH_RIGHT_READ);
    struct slot *rs = fast_slot(self, self->ctx.r12, PITH_OBJ_REPLY, 0);    /* the reply capability */
    if (!es || !rs || !fast_tag(tag))
        return;
    struct reply *rp = (struct reply *)rs->cap.obj;
    struct tcb *c = rp->caller;
    struct endpoint *ep = (struct endpoint *)es->cap.obj;
    if (!c || (c->ipc_flags & IPC_FAULT))
        return;
    struct cpu_sched *cs = sched_here();
    if (!fast_partner(cs, c) || PERCPU_GET(slice_owner) != c)
        return;                         /* (the caller resumes on its own slice only) */
    if (shared) {
        if (rp->server != self || self->held_replies != rp || self->priority != self->base_priority)
            return;
        ep_lock(ep);
    }
    if ((ep->head && !ep->receivers) || (self->bound && self->bound->word)) {
        if (shared)
            ep_unlock(ep);
        return;                         /* a message is waiting: receive it the slow way */
    }
    /* reply_unhold; the common case is the call this server took last, its list's head. */
    if (__builtin_expect(rp->server == self && self->held_replies == rp, 1)) {
        self->held_replies = rp->next_held;
        rp->server = NULL;
        rp->next_held = NULL;
        if (self->priority != self->base_priority)
            ipc_inherit_priority(self); /* the call it served no longer lifts it */
    } else {
        reply_unhold(rp);
    }
    rp->caller = NULL;
    c->reply = NULL;
    copy_registers(&c->ctx, 0, tag, w0, w1, w2, w3);
    c->ipc_flags = 0;
    c->blocked_on = NULL;
    c->state = TS_READY;
    ep->receivers = 1;
    self->recv_reply = rp;
    self->state = TS_BLOCKED_RECV;
    self->blocked_on = ep;
    tcbq_append(&ep->head, &ep->tail, self);
    if (shared)
        ep_unlock(ep);
    resume(sched_switch_fast(cs, self, c));
}

void ipc_fastpath_call(uint64_t cptr, uint64_t tag, uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3)
{
    fast_call(cptr, tag, w0, w1, w2, w3, false);
}

void ipc_fastpath_reply_recv(uint64_t cptr, uint64_t tag, uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3)
{
    fast_reply_recv(cptr, tag, w0, w1, w2, w3, false);
}

void ipc_fastpath_call_shared(uint64_t cptr, uint64_t tag, uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3)
{
    fast_call(cptr, tag, w0, w1, w2, w3, true);
}

void ipc_fastpath_reply_recv_shared(uint64_t cptr, uint64_t tag, uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3)
{
    fast_reply_recv(cptr, tag, w0, w1, w2, w3, true);
}
