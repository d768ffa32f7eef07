/* Untyped memory: the only source of kernel objects. */
#ifndef PITH_OBJECT_UNTYPED_H
#define PITH_OBJECT_UNTYPED_H

#include "object/cap.h"

/*
 * log2 of the bytes one object of `type` takes; `bits` is the size for
 * UNTYPED (bytes) and the slot count for CNODE.  Returns -1 for a type that
 * cannot be made by retype or a size out of range.
 */
int object_size_bits(uint8_t type, uint32_t bits);

/*
 * Carves `count` objects of `type` out of the untyped capability in ut,
 * at its free index rounded up to the object size, zeroed, and puts a
 * capability to each (all rights, child of ut) into `count` consecutive
 * slots of dest_cnode starting at dest_index.  Nothing changes unless all
 * succeed.  Errors: PITH_E_WRONG_TYPE (ut not untyped, dest not a CNode),
 * PITH_E_INVALID_ARG (bad type or size, count 0 or too large),
 * PITH_E_SLOT_RANGE, PITH_E_SLOT_FULL, PITH_E_NO_MEMORY.
 */
int untyped_retype(struct slot *ut, uint8_t type, uint32_t bits,
                   const struct cap *dest_cnode, uint64_t dest_index, uint64_t count);

/* Hook: a new object was made (zeroed already); the kernel initialises it. */
void object_created(const struct cap *c);

#endif
