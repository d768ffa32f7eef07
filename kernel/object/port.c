/*
 * Ports and port groups (see port.h).  A port is a ring of messages in
 * its own memory; the answer-port capability a message may carry sits in
 * the slot with the same index as the message.  A waiter blocks in
 * TS_BLOCKED_PORT and is handed the first message that arrives.
 */
#include "object/port.h"
#include "core/sched.h"
#include "lib/string.h"
#include "object/cnode.h"
#include "object/ipc.h"
#include "object/tcb.h"
#include <pith/invocation.h>
#include <pith/ipc_buffer.h>
#include <pith/syscall.h>

static struct port *port_of(const struct cap *c) { return (struct port *)c->obj; }
static struct slot *port_slot_array(struct port *p) { return (struct slot *)(p + 1); }
static struct port_msg *port_msgs(struct port *p)
{
    return (struct port_msg *)(port_slot_array(p) + p->capacity);
}

void port_created(const struct cap *c)
{
    struct port *p = port_of(c);
    p->capacity = (uint32_t)(((1ull << c->bits) - sizeof *p) / (sizeof(struct slot) + sizeof(struct port_msg)));
}

size_t port_slots(const struct cap *c, struct slot **slots)
{
    *slots = port_slot_array(port_of(c));
    return port_of(c)->capacity;
}

/* The sender's answer capability, copied into dst.  False if there is none to copy. */
static bool take_answer(struct tcb *self, struct slot *dst)
{
    struct pith_ipc_buffer *b = tcb_ipc_buffer(self);
    struct slot *src;
    if (!b || cnode_lookup(&self->slots[TCB_SLOT_CSPACE].cap, b->send_cap, PITH_OBJ_PORT, 0, &src))
        return false;
    return cap_copy(src, dst, PITH_RIGHTS_ALL) == PITH_OK;
}

/* Hands a message to a thread: registers, and the answer capability into its receive slot. */
static void deliver(struct tcb *t, const struct port_msg *m, struct slot *answer)
{
    uint64_t flags = 0;
    if (answer && !slot_empty(answer)) {
        struct pith_ipc_buffer *b = tcb_ipc_buffer(t);
        struct slot *dst;
        if (b && b->recv_slot && !cnode_slot(&t->slots[TCB_SLOT_CSPACE].cap, b->recv_slot, &dst) &&
            slot_empty(dst) && cap_move(answer, dst) == PITH_OK) {
            flags = PITH_TAG_CAP;
        } else {
            flags = PITH_TAG_CAP_LOST;
            cap_delete(answer);         /* a preempted delete finishes when the slot is next used */
        }
    }
    t->ctx.rdi = m->badge;
    t->ctx.rsi = (m->tag & ~(uint64_t)0xffff) | PITH_TAG_LENGTH(m->tag) | flags;
    t->ctx.rdx = m->w[0];
    t->ctx.r10 = m->w[1];
    t->ctx.r8 = m->w[2];
    t->ctx.r9 = m->w[3];
    t->ctx.rax = PITH_OK;
}

static void message_from(struct tcb *self, const struct cap *via, struct port_msg *m)
{
    m->tag = self->ctx.rsi & ~(uint64_t)(PITH_TAG_CAP | PITH_TAG_CAP_LOST);
    if (PITH_TAG_LENGTH(m->tag) > 4)
        m->tag = (m->tag & ~(uint64_t)0x7f) | 4;
    m->w[0] = self->ctx.rdx;
    m->w[1] = self->ctx.r10;
    m->w[2] = self->ctx.r8;
    m->w[3] = self->ctx.r9;
    m->badge = via->w0;
}

/* Puts one message on port p (or straight into a waiter).  PITH_E_FULL if there is no room. */
static int enqueue_message(struct tcb *self, const struct cap *port, const struct cap *via, bool answer)
{
    struct port *p = port_of(port);
    struct port_msg m;
    message_from(self, via, &m);
    struct tcb *w = p->wait_head;
    if (w) {
        /* A waiter takes it at once; its answer capability goes through a spare slot. */
        struct slot tmp;
        memset(&tmp, 0, sizeof tmp);
        tcbq_remove(&p->wait_head, &p->wait_tail, w);
        if (answer && !take_answer(self, &tmp))
            answer = false;
        deliver(w, &m, answer ? &tmp : NULL);
        if (!slot_empty(&tmp))
            cap_delete(&tmp);
        ipc_wake(w, PITH_OK);
        return PITH_OK;
    }
    if (p->count == p->capacity)
        return PITH_E_FULL;
    uint32_t i = (p->head + p->count) % p->capacity;
    struct slot *s = &port_slot_array(p)[i];
    if (!slot_empty(s) && (cap_delete(s) || !slot_empty(s)))
        return PITH_E_FULL;             /* its old answer capability is still being destroyed */
    port_msgs(p)[i] = m;
    if (answer && !take_answer(self, s))
        port_msgs(p)[i].tag |= PITH_TAG_CAP_LOST;
    p->count++;
    return PITH_OK;
}

int port_send(struct tcb *self, const struct cap *port, bool answer)
{
    return enqueue_message(self, port, port, answer);
}

void port_wait(struct tcb *self, const struct cap *port, bool blocking)
{
    struct port *p = port_of(port);
    if (p->count) {
        uint32_t i = p->head;
        struct port_msg m = port_msgs(p)[i];
        p->head = (p->head + 1) % p->capacity;
        p->count--;
        deliver(self, &m, &port_slot_array(p)[i]);
        if (m.tag & PITH_TAG_CAP_LOST)
            self->ctx.rsi |= PITH_TAG_CAP_LOST;
        return;
    }
    if (!blocking) {
        self->ctx.rax = PITH_E_WOULD_BLOCK;
        return;
    }
    self->state = TS_BLOCKED_PORT;
    self->blocked_on = p;
    tcbq_append(&p->wait_head, &p->wait_tail, self);
}

/* A waiter leaves the port (cancelled, timed out, destroyed). */
void port_cancel_wait(struct tcb *t)
{
    struct port *p = t->blocked_on;
    tcbq_remove(&p->wait_head, &p->wait_tail, t);
}

void port_finalise(const struct cap *c)
{
    struct port *p = port_of(c);
    while (p->wait_head) {
        struct tcb *t = p->wait_head;
        port_cancel_wait(t);
        ipc_wake(t, PITH_E_CANCELLED);
    }
}

void port_info(const struct cap *port, uint64_t *queued, uint64_t *capacity)
{
    *queued = port_of(port)->count;
    *capacity = port_of(port)->capacity;
}

/* ---- groups ---------------------------------------------------------------- */

static struct port_group *group_of(const struct cap *c) { return (struct port_group *)c->obj; }
static struct slot *members(const struct cap *c) { return (struct slot *)c->obj + 1; }
static uint64_t nmembers(const struct cap *c) { return (1ull << (c->bits - PITH_SLOT_BITS)) - 1; }

size_t group_slots(const struct cap *c, struct slot **slots)
{
    *slots = members(c);
    return (size_t)nmembers(c);
}

int group_add(const struct cap *g, struct slot *port, uint64_t *index)
{
    if (!(port->cap.rights & PITH_RIGHT_WRITE))
        return PITH_E_NO_RIGHTS;
    for (uint64_t i = 0; i < nmembers(g); i++) {
        if (slot_empty(&members(g)[i])) {
            int err = cap_copy(port, &members(g)[i], PITH_RIGHT_WRITE | PITH_RIGHT_GRANT);
            if (err)
                return err;
            group_of(g)->members++;
            *index = i;
            return PITH_OK;
        }
    }
    return PITH_E_FULL;
}

int group_remove(const struct cap *g, uint64_t index)
{
    if (index >= nmembers(g) || slot_empty(&members(g)[index]))
        return PITH_E_INVALID_ARG;
    int err = cap_delete(&members(g)[index]);
    if (!err)
        group_of(g)->members--;
    return err;
}

int group_set_mode(const struct cap *g, uint64_t mode)
{
    if (mode != PITH_GROUP_ONE && mode != PITH_GROUP_ALL)
        return PITH_E_INVALID_ARG;
    group_of(g)->mode = (uint32_t)mode;
    return PITH_OK;
}

/*
 * One: the next member (round-robin) with room; PITH_E_FULL if none has.
 * All: every member with room; rdx = how many received it, r10 = how many
 * were full.  No members: PITH_E_STATE.
 */
int group_send(struct tcb *self, const struct cap *g, bool answer)
{
    struct port_group *grp = group_of(g);
    uint64_t n = nmembers(g), sent = 0, full = 0;
    if (!grp->members)
        return PITH_E_STATE;
    for (uint64_t k = 0; k < n; k++) {
        uint64_t i = (grp->next + k) % n;
        struct slot *m = &members(g)[i];
        if (m->cap.type != PITH_OBJ_PORT)
            continue;
        if (enqueue_message(self, &m->cap, g, answer) == PITH_OK) {
            sent++;
            if (grp->mode == PITH_GROUP_ONE) {
                grp->next = (uint32_t)((i + 1) % n);
                self->ctx.rdx = 1;
                self->ctx.r10 = full;
                return PITH_OK;
            }
        } else {
            full++;
        }
    }
    self->ctx.rdx = sent;
    self->ctx.r10 = full;
    return sent ? PITH_OK : PITH_E_FULL;
}
