/*
 * Capabilities, slots and the derivation tree (the "mapping database").
 *
 * A slot holds one capability and its place in the derivation tree.  The
 * tree is kept as one doubly linked list in pre-order with a depth per
 * node (as in seL4): the descendants of a slot are exactly the slots that
 * follow it in the list with a greater depth.  Every capability made from
 * another (copy, mint, retype) becomes its child, so revoking a capability
 * deletes everything derived from it, in every capability space, and all
 * capabilities to one object are contiguous in the list (the original
 * made by retype, then its descendants): a capability is the object's last
 * one ("final") when neither list neighbour names the same object.
 *
 * This layer is pure data-structure code with no architecture dependence;
 * it is host-tested (tests/host/test_cap.c).
 */
#ifndef PITH_OBJECT_CAP_H
#define PITH_OBJECT_CAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pith/errors.h>
#include <pith/objects.h>

struct slot;

/* 40 bytes.  The meaning of w0..w2 depends on the type (see below). */
struct cap {
    uint8_t type;                       /* enum pith_object_type */
    uint8_t rights;                     /* PITH_RIGHT_* */
    uint16_t flags;                     /* type-specific */
    uint32_t bits;                      /* untyped: size bits; cnode: slot-count bits */
    uint64_t obj;                       /* kernel address of the object */
    uint64_t w0, w1, w2;                /* type-specific words */
};
/*
 *   UNTYPED       w0 = free index: bytes already handed out (the watermark)
 *   ENDPOINT, NOTIFICATION
 *                 w0 = badge (0: none; a badge is set once, by mint)
 *   IO_PORTS      w0 = first port, w1 = last port
 *   FRAME, PAGE_TABLE
 *                 w0 = mapped address | level, w1/w2 = links in the address
 *                 space's list of mappings (kernel/object/vspace.c)
 *   ZOMBIE        obj = the object being destroyed, bits its original size
 *                 bits, w0 its original type, w1 how many of its slots have
 *                 been emptied, w2 the original w0; only the kernel makes these
 */

/* cap.flags bits */
#define CAP_FLAG_DEVICE 0x1u        /* untyped or frame over device memory: never zeroed, mapped uncached */
#define CAP_FLAG_COM1   0x2u        /* I/O ports in a thread's slot covering COM1: counted (core/log.c) */

struct mdb_node {
    struct slot *prev, *next;
    uint32_t depth;
    uint32_t pad;
};

/* 64 bytes: 2^PITH_SLOT_BITS. */
struct slot {
    struct cap cap;
    struct mdb_node mdb;
};

_Static_assert(sizeof(struct slot) == (1u << PITH_SLOT_BITS), "slot size");

static inline bool slot_empty(const struct slot *s) { return s->cap.type == PITH_OBJ_NULL; }

/* ---- the derivation tree ---------------------------------------------- */

/* Places child (empty before) directly after parent, one level deeper. */
void mdb_insert_child(struct slot *parent, struct slot *child, const struct cap *c);

/* Places a new root capability (made by the kernel at boot) after `after`, or alone. */
void mdb_insert_root(struct slot *after, struct slot *s, const struct cap *c);

/* Moves the capability and its tree position from src to dst (empty). */
void mdb_move(struct slot *src, struct slot *dst);

/* Unlinks s from the tree and empties it; children move up one level. */
void mdb_remove(struct slot *s);

bool mdb_has_children(const struct slot *s);
struct slot *mdb_first_child(const struct slot *s);   /* NULL if none */
bool cap_same_object(const struct cap *a, const struct cap *b);
bool cap_is_final(const struct slot *s);

/* ---- hooks the layer calls (the kernel defines them; host tests fake them) ---- */

/*
 * Objects that contain slots (CNodes, threads): their slots must be
 * emptied before the object can go.  Returns the slot array and count,
 * or 0 when the object holds none.
 */
size_t object_slots(const struct cap *c, struct slot **slots);

/* The last capability to an object is gone and its slots are empty: end it. */
void object_finalise(const struct cap *c);
int object_may_finalise(const struct cap *c);   /* PITH_E_PREEMPTED: try again later */

/*
 * A capability is about to leave its slot for good (cap_delete, and so
 * cap_revoke, call it for every one they remove, final or not, before
 * object_finalise): e.g. a mapped frame or page table is unmapped.  A
 * zombie is reported with its original type.  Not called for moves.
 */
void cap_removed(struct cap *c);

/* True when the kernel should stop a long operation and let others run. */
bool preemption_pending(void);

/* ---- operations ---------------------------------------------------------- */

/*
 * Deletes the capability in s.  If it is the object's final capability the
 * object is destroyed: one that holds slots first becomes a zombie and its
 * slots are emptied one by one (which may destroy further objects).
 * Returns PITH_OK when s is empty, or PITH_E_PREEMPTED when it stopped at a
 * preemption point; calling again continues where it stopped.
 */
int cap_delete(struct slot *s);

/*
 * Deletes every capability derived from s (not s itself), with the same
 * preemption rule.  An untyped capability whose children are all gone has
 * its free index reset to 0: the memory is reusable.
 */
int cap_revoke(struct slot *s);

/* Copy with rights masked (never added); badge only for ENDPOINT/NOTIFICATION. */
int cap_copy(struct slot *src, struct slot *dst, uint8_t rights_mask);
int cap_mint(struct slot *src, struct slot *dst, uint8_t rights_mask, uint64_t badge);
int cap_move(struct slot *src, struct slot *dst);

#endif
