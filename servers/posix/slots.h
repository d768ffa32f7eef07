/*
 * A process's CNode slots (memory.c): a region of n pages holds its 2n
 * capabilities in one run of consecutive slots, a page table one slot.
 * Slots are taken first-fit from a bitmap and given back when the pages
 * go (munmap, mremap, MAP_FIXED over them), so a process may map and
 * unmap for as long as it likes; only what it holds at once is bounded.
 * Plain C without Pith's headers, so the host tests build it too.
 */
#ifndef POSIX_SLOTS_H
#define POSIX_SLOTS_H

#include <stdint.h>

/*
 * 8192 slots, a CNode of 512 KiB (64 bytes a slot): one whole chunk of
 * a process's memory (CHUNK_BITS), the most one chunk can hold.  Two
 * per page, so about 16 MiB mapped at once (docs/posix.md).
 */
#define LPROC_CNODE_BITS 13
#define LPROC_SLOTS      (1u << LPROC_CNODE_BITS)

struct slotmap {
    uint64_t used[LPROC_SLOTS / 64];    /* bit s: slot s holds (or is kept for) a capability */
    uint32_t free;                      /* slots free in all */
};

void slots_init(struct slotmap *m);                         /* all free but slot 0 (the null slot) */
long slots_take(struct slotmap *m, uint32_t n);             /* the first of the lowest n free in a row; -1: none */
void slots_give(struct slotmap *m, uint32_t first, uint32_t n);   /* free again (each must be taken) */

#endif
