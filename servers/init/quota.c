/*
 * Init's capability slots and the quotas it carves for programs: an
 * untyped of the program's size from init's memory.  A quota given back
 * (revoked, so whole again) is kept for the next program of that size.
 * Callers hold init_lock.
 */
#include "init.h"

#include <stdio.h>

/* Slots emptied by moving a capability into a child go back to the runtime. */
uint64_t slot_get(void) { return pith_slot_alloc(); }
void slot_put(uint64_t slot) { pith_slot_free(slot); }

long retype_at(uint64_t untyped, uint8_t type, uint32_t bits, uint64_t slot)
{
    return pith_invoke4(untyped, PITH_UNTYPED_RETYPE, type | (uint64_t)bits << 8, PITH_SLOT_CSPACE, slot, 1);
}

/* Quotas given back, kept whole for the next process of the same size. */
static struct { uint64_t slot; uint32_t bits; } spare[PROC_MAX * 2];
static int nspare;

uint64_t quota_get(uint32_t bits)
{
    for (int i = 0; i < nspare; i++)
        if (spare[i].bits == bits) {
            uint64_t slot = spare[i].slot;
            spare[i] = spare[--nspare];
            return slot;
        }
    const struct pith_bootinfo *bi = pith_bootinfo;
    uint64_t slot = slot_get();
    for (uint64_t i = 0; i < bi->untyped.count; i++)
        if (!bi->untyped_list[i].is_device && bi->untyped_list[i].size_bits >= bits &&
            retype_at(bi->untyped.first_slot + i, PITH_OBJ_UNTYPED, bits, slot) == PITH_OK)
            return slot;
    slot_put(slot);
    return 0;
}

static uint64_t untyped_free(uint64_t slot)
{
    struct pith_msg m = { 0 };
    return pith_invoke(slot, PITH_UNTYPED_INFO, &m) ? 0 : m.w[1];
}

void quota_totals(uint64_t *total, uint64_t *free_bytes)
{
    const struct pith_bootinfo *bi = pith_bootinfo;
    *total = *free_bytes = 0;
    for (uint64_t i = 0; i < bi->untyped.count; i++)
        if (!bi->untyped_list[i].is_device) {
            *total += 1ull << bi->untyped_list[i].size_bits;
            *free_bytes += untyped_free(bi->untyped.first_slot + i);
        }
    for (int i = 0; i < nspare; i++)
        *free_bytes += 1ull << spare[i].bits;
}

/* Revokes the quota: every object made from it goes.  Returns the bytes not given back (0). */
uint64_t quota_return(struct proc *p)
{
    uint64_t size = 1ull << p->quota_bits;
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE, p->quota, 0, 0, 0);
    uint64_t back = untyped_free(p->quota);
    if (back != size)
        printf("init: %s: revoking its quota gave back %lu of %lu bytes\n", p->cfg.name, back, size);
    if (nspare < (int)(sizeof spare / sizeof spare[0])) {
        spare[nspare].slot = p->quota;
        spare[nspare++].bits = p->quota_bits;
    }
    p->quota = 0;
    return size - back;
}
