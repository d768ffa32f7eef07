/*
 * Map, grant and unmap between address spaces, L4 style, with the
 * capability derivation tree as the mapping database (docs/memory.md).
 */
#ifndef PITH_OBJECT_MEMMAP_H
#define PITH_OBJECT_MEMMAP_H

#include "object/cap.h"

/*
 * Maps count frames, whose capabilities are in src[0..count), at vaddr in
 * the address space vspace names, with `rights` (READ, WRITE, EXEC).  Map:
 * each dst[i] (empty) receives a child of src[i] with the mapping rights
 * only; grant: src[i] moves to dst[i], unmapped first.  Everything is
 * checked before anything changes; the caller has checked the slots.
 */
int memmap_map(const struct cap *vspace, struct slot *src, struct slot *dst, uint64_t count,
               uint64_t vaddr, uint8_t rights, bool grant);

/*
 * Maps count frames, whose capabilities are src[0..count) (checked by the
 * caller: frames, with the rights, none mapped), at vaddr with `rights`,
 * each capability holding its own mapping as after PITH_FRAME_MAP.  The
 * address range is checked before anything is mapped.
 */
int memmap_map_frames(const struct cap *vspace, struct slot *src, uint64_t count, uint64_t vaddr,
                      uint8_t rights);

/*
 * Revokes each of count slots from first (empty ones are skipped); with
 * unmap, each capability's own mapping goes too.  Preemptible: returns
 * PITH_E_PREEMPTED and is simply called again (done slots are quick).
 */
int memmap_revoke_range(struct slot *first, uint64_t count, bool unmap);

#endif
