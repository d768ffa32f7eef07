/*
 * Ports (RC 4000 message buffers, CHORUS ports): asynchronous, buffered
 * queues of messages.  Send never blocks; wait blocks until a message is
 * there.  A message is a tag and four words, and may carry one
 * answer-port capability, which the queue keeps in a slot of its own (so
 * the derivation tree tracks it).  The port's storage is the object's own
 * memory, made from its creator's untyped memory.
 */
#ifndef PITH_OBJECT_PORT_H
#define PITH_OBJECT_PORT_H

#include <stdbool.h>
#include <stdint.h>
#include "object/cap.h"

struct tcb;

struct port_msg {
    uint64_t tag, w[4], badge;
    uint64_t pad[2];
};

/* Layout: this header (128 bytes), capacity slots, capacity messages. */
struct port {
    uint32_t head, count, capacity, pad;
    struct tcb *wait_head, *wait_tail;  /* threads waiting for a message */
    uint64_t reserved[12];
};

_Static_assert(sizeof(struct port) == 128, "port header");
_Static_assert(sizeof(struct port_msg) == 64, "port message");

/* Group layout: header (64 bytes), then member slots. */
struct port_group {
    uint32_t mode, next, members, pad;
    uint64_t reserved[6];
};

void port_created(const struct cap *c);
size_t port_slots(const struct cap *c, struct slot **slots);
void port_finalise(const struct cap *c);
size_t group_slots(const struct cap *c, struct slot **slots);

/* The current thread's operations; results in its saved registers. */
int port_send(struct tcb *self, const struct cap *port, bool answer_cap);
void port_wait(struct tcb *self, const struct cap *port, bool blocking);
void port_cancel_wait(struct tcb *t);
void port_info(const struct cap *port, uint64_t *queued, uint64_t *capacity);
int group_add(const struct cap *group, struct slot *port, uint64_t *index);
int group_remove(const struct cap *group, uint64_t index);
int group_set_mode(const struct cap *group, uint64_t mode);
int group_send(struct tcb *self, const struct cap *group, bool answer_cap);

#endif
