/*
 * Extension objects (SPIN): a verified program, the frames it uses as
 * maps, and where it is attached (docs/extensions.md).  The program's text
 * lives in the object, which is made from untyped memory like any other.
 */
#ifndef PITH_OBJECT_EXTENSION_H
#define PITH_OBJECT_EXTENSION_H

#include <stdbool.h>
#include <stdint.h>
#include <pith/extension.h>
#include "object/cap.h"

struct tcb;

struct extension {
    struct slot maps[PITH_EXT_MAPS];    /* copies of frame capabilities: the maps */
    struct slot pool;                   /* a copy of a CNode of frames a fault program may map */
    struct extension **hook;            /* the attached object's pointer to us (NULL: detached) */
    uint32_t event;                     /* what the program was verified for */
    uint32_t n;                         /* its instructions (0: none loaded) */
    uint32_t uses_maps;                 /* it calls a map helper */
    uint64_t runs, aborts;
    struct pith_ext_insn text[PITH_EXT_MAX_INSNS];
};

_Static_assert(sizeof(struct extension) <= (1u << PITH_EXTENSION_BITS), "extension object size");
#define EXTENSION_SLOTS (PITH_EXT_MAPS + 1)     /* the maps and the pool, one array for the capability layer */
_Static_assert(__builtin_offsetof(struct extension, pool) ==
               __builtin_offsetof(struct extension, maps) + PITH_EXT_MAPS * sizeof(struct slot), "slots in a row");

/* Invocations, their arguments already looked up and checked (kernel/core/syscall.c). */
int extension_load(struct extension *e, uint64_t event, uint64_t count, const struct cap *text,
                   uint64_t out[2]);
int extension_set_map(struct extension *e, uint64_t index, struct slot *frame);
int extension_set_pool(struct extension *e, struct slot *cnode);
int extension_attach(struct extension *e, struct extension **hook);
int extension_detach(struct extension *e);

/* The attached object or the extension is going: they part at once. */
void extension_unhook(struct extension **hook);
void extension_finalise(struct extension *e);

/* Events.  IPC: true if the program settled the message (refused or answered it). */
bool extension_on_send(struct extension *e, struct tcb *self, uint64_t badge, uint64_t tag, bool call);
int extension_on_irq(struct extension *e, uint64_t line, uint64_t count);
/*
 * A fault on its way to the handler (badge: the fault endpoint's): true if
 * the program repaired it (the thread retries) or answered the system call
 * (the thread goes on with the result in rax).
 */
bool extension_on_fault(struct extension *e, struct tcb *self, uint64_t badge, uint64_t kind, uint64_t addr,
                        uint64_t error);

/*
 * The IPC fast path's call on an endpoint with an extension (self's frame
 * f, a message in registers): f to resume if the program settled the call,
 * else NULL, and the slow path delivers it without running the program again.
 */
struct trap_frame *extension_fastpath(struct extension *e, struct tcb *self, struct trap_frame *f, uint64_t badge);

#endif
