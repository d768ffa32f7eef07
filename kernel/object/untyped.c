/*
 * Untyped memory (see untyped.h).  An untyped capability's obj is the
 * kernel address of its 2^bits bytes (aligned to its size) and w0 its free
 * index.  Retype validates everything before it changes anything, in this
 * order: the untyped capability's type, the destination's type, the object
 * type and size, the count, the destination range, that every destination
 * slot is empty, that the objects fit.
 *
 * Objects are zeroed, except child untypeds: their memory is zeroed when
 * objects are made from it, and zeroing it here would only cost time (up
 * to all of the parent's memory, without a preemption point).
 *
 * Device untyped (CAP_FLAG_DEVICE: device registers, not RAM) makes only
 * frames and smaller device untyped, never zeroed (writing to device
 * registers has effects), and its children are device memory too.
 */
#include "object/untyped.h"
#include "object/cnode.h"
#include "lib/string.h"

int object_size_bits(uint8_t type, uint32_t bits)
{
    switch (type) {
    case PITH_OBJ_UNTYPED:
        if (bits < PITH_UNTYPED_MIN_BITS || bits > PITH_UNTYPED_MAX_BITS)
            return -1;
        return (int)bits;
    case PITH_OBJ_CNODE:
        if (bits < PITH_CNODE_MIN_SLOTS_BITS || bits > PITH_CNODE_MAX_SLOTS_BITS)
            return -1;
        return (int)bits + PITH_SLOT_BITS;
    case PITH_OBJ_TCB:          return PITH_TCB_BITS;
    case PITH_OBJ_VSPACE:       return PITH_VSPACE_BITS;
    case PITH_OBJ_PAGE_TABLE:   return PITH_PAGE_TABLE_BITS;
    case PITH_OBJ_FRAME:        return PITH_FRAME_BITS;
    case PITH_OBJ_ENDPOINT:     return PITH_ENDPOINT_BITS;
    case PITH_OBJ_NOTIFICATION: return PITH_NOTIFICATION_BITS;
    case PITH_OBJ_REPLY:        return PITH_REPLY_BITS;
    case PITH_OBJ_IRQ_HANDLER:  return PITH_IRQ_HANDLER_BITS;
    case PITH_OBJ_EXTENSION:    return PITH_EXTENSION_BITS;
    case PITH_OBJ_PORT:
        return bits >= PITH_PORT_MIN_BITS && bits <= PITH_PORT_MAX_BITS ? (int)bits : -1;
    case PITH_OBJ_PORT_GROUP:
        return bits >= PITH_PORT_GROUP_MIN_BITS && bits <= PITH_PORT_GROUP_MAX_BITS ? (int)bits : -1;
    default:                    return -1;
    }
}

int untyped_retype(struct slot *ut, uint8_t type, uint32_t bits,
                   const struct cap *dest_cnode, uint64_t dest_index, uint64_t count)
{
    if (ut->cap.type != PITH_OBJ_UNTYPED || dest_cnode->type != PITH_OBJ_CNODE)
        return PITH_E_WRONG_TYPE;
    int size_bits = object_size_bits(type, bits);
    if (size_bits < 0)
        return PITH_E_INVALID_ARG;
    bool device = ut->cap.flags & CAP_FLAG_DEVICE;
    if (device && type != PITH_OBJ_FRAME && type != PITH_OBJ_UNTYPED)
        return PITH_E_INVALID_ARG;      /* kernel objects live in RAM */
    /* No CNode has more slots than this; it also keeps count << size_bits below 2^68. */
    if (count == 0 || count > (1ull << PITH_CNODE_MAX_SLOTS_BITS))
        return PITH_E_INVALID_ARG;

    struct slot *dest;
    if (cnode_slot(dest_cnode, dest_index, &dest) != PITH_OK ||
        count > (1ull << dest_cnode->bits) - dest_index)
        return PITH_E_SLOT_RANGE;
    for (uint64_t i = 0; i < count; i++)
        if (!slot_empty(&dest[i]))
            return PITH_E_SLOT_FULL;

    uint64_t limit = ut->cap.bits >= 64 ? UINT64_MAX : 1ull << ut->cap.bits;
    uint64_t align = 1ull << size_bits;
    uint64_t used = ut->cap.w0;
    if (used > limit)
        return PITH_E_NO_MEMORY;
    uint64_t start = (used + align - 1) & ~(align - 1);
    if (start < used || start > limit || count > (limit - start) >> size_bits)
        return PITH_E_NO_MEMORY;

    for (uint64_t i = 0; i < count; i++) {
        uint64_t obj = ut->cap.obj + start + (i << size_bits);
        if (type != PITH_OBJ_UNTYPED && !device)
            memset((void *)(uintptr_t)obj, 0, (size_t)align);
        struct cap c = {
            .type = type,
            .rights = PITH_RIGHTS_ALL,
            .flags = device ? CAP_FLAG_DEVICE : 0,
            .bits = (type == PITH_OBJ_UNTYPED || type == PITH_OBJ_CNODE || type == PITH_OBJ_PORT ||
                     type == PITH_OBJ_PORT_GROUP) ? bits : 0,
            .obj = obj,
        };
        mdb_insert_child(ut, &dest[i], &c);
        object_created(&dest[i].cap);
    }
    ut->cap.w0 = start + (count << size_bits);
    return PITH_OK;
}
