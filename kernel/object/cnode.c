/*
 * CNodes (see cnode.h).  A CNode capability's obj is the address of its
 * slot array and its bits the log2 of the slot count.  Errors are checked
 * in this order: the CNode capability's type, the index's range, then (for
 * lookup) an empty slot, the capability's type, its rights.  *out is set
 * on success only, and to NULL on an error.
 */
#include "object/cnode.h"

int cnode_slot(const struct cap *cnode, uint64_t index, struct slot **out)
{
    *out = NULL;
    if (cnode->type != PITH_OBJ_CNODE)
        return PITH_E_WRONG_TYPE;
    if (cnode->bits >= 64 || (index >> cnode->bits) != 0)
        return PITH_E_SLOT_RANGE;
    *out = (struct slot *)(uintptr_t)cnode->obj + index;
    return PITH_OK;
}

int cnode_lookup(const struct cap *cnode, uint64_t index, uint8_t type, uint8_t rights,
                 struct slot **out)
{
    struct slot *s;
    int r = cnode_slot(cnode, index, &s);
    *out = NULL;
    if (r != PITH_OK)
        return r;
    if (slot_empty(s))
        return PITH_E_SLOT_EMPTY;
    if (type != PITH_OBJ_NULL && s->cap.type != type)
        return PITH_E_WRONG_TYPE;
    if ((s->cap.rights & rights) != rights)
        return PITH_E_NO_RIGHTS;
    *out = s;
    return PITH_OK;
}
