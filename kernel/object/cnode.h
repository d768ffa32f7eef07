/* CNodes: tables of 2^bits capability slots.  A thread's capability space is one CNode. */
#ifndef PITH_OBJECT_CNODE_H
#define PITH_OBJECT_CNODE_H

#include "object/cap.h"

/*
 * The slot at index in the CNode named by cnode.  Errors:
 * PITH_E_WRONG_TYPE (cnode is not a CNode capability), PITH_E_SLOT_RANGE.
 */
int cnode_slot(const struct cap *cnode, uint64_t index, struct slot **out);

/*
 * As cnode_slot, and the slot must hold a capability of `type` (or any
 * type when type is PITH_OBJ_NULL) with every right in `rights`.  Further
 * errors: PITH_E_SLOT_EMPTY, PITH_E_WRONG_TYPE, PITH_E_NO_RIGHTS.
 */
int cnode_lookup(const struct cap *cnode, uint64_t index, uint8_t type, uint8_t rights,
                 struct slot **out);

#endif
