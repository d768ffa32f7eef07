/*
 * Map, grant and unmap (see memmap.h).  A mapping made for another space
 * is a frame capability derived from the mapper's: the derivation tree is
 * the mapping database.  Revoking the mapper's capability deletes every
 * capability derived from it, in every capability space, and deleting a
 * mapped frame capability unmaps it, so unmap is revoke, recursively
 * through any number of spaces that mapped the page on.
 */
#include "object/memmap.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/vm.h"

#define RWX (PITH_RIGHT_READ | PITH_RIGHT_WRITE | PITH_RIGHT_EXEC)

int memmap_map(const struct cap *vspace, struct slot *src, struct slot *dst, uint64_t count,
               uint64_t vaddr, uint8_t rights, bool grant)
{
    int err = vm_range_check(vspace, vaddr, count);
    if (err)
        return err;
    /* The mapping rights are the most the new capability keeps: no remapping with more later. */
    uint8_t keep = (uint8_t)(~RWX | rights);
    for (uint64_t i = 0; i < count; i++) {
        struct slot *s = &src[i], *d = &dst[i];
        if (grant) {
            vm_unmap(&s->cap);
            mdb_move(s, d);
            d->cap.rights &= keep;
        } else {
            struct cap c = s->cap;
            c.rights &= keep;
            c.w0 = c.w1 = c.w2 = 0;     /* a child starts unmapped */
            mdb_insert_child(s, d, &c);
        }
        /* Checked above: the place is free and has its table, the rights are held. */
        err = vm_map_frame(vspace, &d->cap, vaddr + i * PAGE_SIZE, rights);
        if (err)
            return err;
    }
    return PITH_OK;
}

int memmap_map_frames(const struct cap *vspace, struct slot *src, uint64_t count, uint64_t vaddr,
                      uint8_t rights)
{
    int err = vm_range_check(vspace, vaddr, count);
    if (!err)
        vm_map_range(vspace, src, count, vaddr, rights);
    return err;
}

int memmap_revoke_range(struct slot *first, uint64_t count, bool unmap)
{
    for (uint64_t i = 0; i < count; i++) {
        struct slot *s = &first[i];
        if (slot_empty(s))
            continue;
        int err = cap_revoke(s);
        if (err)
            return err;
        if (unmap)
            vm_unmap(&s->cap);
    }
    return PITH_OK;
}
