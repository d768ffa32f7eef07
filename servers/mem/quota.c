/*
 * The system's memory (a boot-time manager, servers/memd/): the blocks its
 * starter handed over at MEM_SLOT_QUOTA_MEM, from which it makes quotas
 * for the owner's processes.  A quota is a parent untyped kept here at
 * MEM_SLOT_QUOTA + i and one child of the same size placed in the owner's
 * slot; taking it back is one revoke of the parent, after which its bytes
 * free must be the whole quota.  A quota given back stays made, whole, for
 * the next quota of its size (a block's memory is not reused otherwise:
 * the kernel gives an untyped's memory back only when all of it is free).
 */
#include "memserver.h"

enum { QUOTA_GIVEN = 1, QUOTA_SPARE = 2 };

static bool owner(const struct mem_state *st) { return st->caller == 0; }

/* w0 size bits, w1 bytes free; false if the slot holds no untyped. */
static bool untyped_info(uint64_t slot, uint64_t *bits, uint64_t *free)
{
    struct pith_msg m = { 0 };
    if (pith_invoke(slot, PITH_UNTYPED_INFO, &m))
        return false;
    *bits = m.w[0];
    *free = m.w[1];
    return true;
}

/* A quota parent of 2^bits: a spare one, else a new one from the first block with room; MEM_QUOTAS if none. */
static unsigned quota_make(struct mem_state *st, uint32_t bits, long *err)
{
    unsigned empty = MEM_QUOTAS;
    for (unsigned i = 0; i < MEM_QUOTAS; i++) {
        if (st->quota_state[i] == QUOTA_SPARE && st->quota_bits[i] == bits)
            return i;
        if (!st->quota_bits[i] && empty == MEM_QUOTAS)
            empty = i;
    }
    *err = MEM_E_FULL;
    if (empty == MEM_QUOTAS)
        return MEM_QUOTAS;
    *err = MEM_E_NO_MEMORY;
    for (unsigned b = 0; b < MEM_QUOTA_BLOCKS; b++)
        if (!pith_invoke4(MEM_SLOT_QUOTA_MEM + b, PITH_UNTYPED_RETYPE, PITH_OBJ_UNTYPED | (uint64_t)bits << 8,
                          MEM_SLOT_CNODE, MEM_SLOT_QUOTA + empty, 1)) {
            st->quota_bits[empty] = (uint8_t)bits;
            st->quota_state[empty] = QUOTA_SPARE;
            return empty;
        }
    return MEM_QUOTAS;
}

long quota_give(void *ctx, uint32_t bits, uint64_t cspace, uint64_t slot, uint32_t *id)
{
    struct mem_state *st = ctx;
    if (!owner(st))
        return MEM_E_DENIED;
    if (bits < 16 || bits > 40)
        return MEM_E_BAD_RANGE;
    struct pith_msg m = { .w = { cspace } };
    if (pith_invoke(MEM_SLOT_CNODE, PITH_CNODE_IDENTIFY, &m) || m.w[0] != PITH_OBJ_CNODE)
        return MEM_E_NOT_CNODE;
    long err;
    unsigned i = quota_make(st, bits, &err);
    if (i == MEM_QUOTAS)
        return err;
    /* The owner's untyped is a child of ours: revoking ours takes it, and all made from it, back. */
    if (pith_invoke4(MEM_SLOT_QUOTA + i, PITH_UNTYPED_RETYPE, PITH_OBJ_UNTYPED | (uint64_t)bits << 8, cspace, slot,
                     1))
        return MEM_E_NOT_CNODE;         /* the slot is taken or out of range; the quota stays spare */
    st->quota_state[i] = QUOTA_GIVEN;
    *id = i + 1;
    return PITH_OK;
}

long quota_take(void *ctx, uint32_t id, uint64_t *back)
{
    struct mem_state *st = ctx;
    if (!owner(st))
        return MEM_E_DENIED;
    if (id == 0 || id > MEM_QUOTAS || st->quota_state[id - 1] != QUOTA_GIVEN)
        return MEM_E_NO_QUOTA;
    uint64_t slot = MEM_SLOT_QUOTA + id - 1, bits = 0;
    pith_invoke4(MEM_SLOT_CNODE, PITH_CNODE_REVOKE, slot, 0, 0, 0);
    *back = 0;
    untyped_info(slot, &bits, back);
    /* Kept for reuse only when whole; a quota that is not (never seen) goes out of use. */
    st->quota_state[id - 1] = *back == 1ull << st->quota_bits[id - 1] ? QUOTA_SPARE : 0;
    return PITH_OK;
}

long quota_count(void *ctx, uint64_t *total, uint64_t *free)
{
    struct mem_state *st = ctx;
    if (!owner(st) && st->caller != MEM_BADGE_PUBLIC)
        return MEM_E_DENIED;
    *total = *free = 0;
    for (unsigned b = 0; b < MEM_QUOTA_BLOCKS; b++) {
        uint64_t bits, bytes;
        if (untyped_info(MEM_SLOT_QUOTA_MEM + b, &bits, &bytes)) {
            *total += 1ull << bits;
            *free += bytes;
        }
    }
    for (unsigned i = 0; i < MEM_QUOTAS; i++)
        if (st->quota_state[i] == QUOTA_SPARE)
            *free += 1ull << st->quota_bits[i];
    return PITH_OK;
}

long quota_crash(void *ctx)
{
    struct mem_state *st = ctx;
    if (!owner(st))
        return MEM_E_DENIED;
    volatile uintptr_t bad = 0x10;      /* volatile: the compiler cannot see it is bad */
    *(volatile int *)bad = 1;
    return PITH_OK;
}
