/*
 * Loading a checked image into another address space (elf.h).  A run of
 * pages at a time (at most PITH_MAP_MAX_PAGES): zeroed frames retyped from
 * the untyped into consecutive slots in one invocation, those holding
 * file bytes mapped at our scratch address and filled with one copy, then
 * all of them mapped in the target in place (PITH_VSPACE_MAP_FRAMES):
 * a handful of system calls per run rather than several per page.
 */
#include "elfload.h"
#include "pith.h"

#include <string.h>

/* One run: count pages from va of segment s, frames made at slot first of cnode. */
static enum elf_error load_run(const void *file, const struct elf_segment *s, uint64_t vspace, uint64_t untyped,
                               uint64_t cnode, uint64_t first, uint64_t va, uint64_t count, uint64_t scratch_va,
                               uint8_t rights)
{
    long rerr = pith_invoke4(untyped, PITH_UNTYPED_RETYPE, PITH_OBJ_FRAME, cnode, first, count);
    if (rerr)
        return rerr == PITH_E_NO_MEMORY ? ELF_E_NO_MEMORY : ELF_E_MAP;
    /* The file's bytes in this run, [from, to): frames are zeroed, so nothing else needs writing. */
    uint64_t end = va + count * ELF_PAGE, file_end = s->vaddr + s->filesz;
    uint64_t from = s->vaddr > va ? s->vaddr : va, to = file_end < end ? file_end : end;
    if (from < to) {
        uint64_t skip = (from - va) / ELF_PAGE, pages = (to - va + ELF_PAGE - 1) / ELF_PAGE - skip;
        int err = pith_map_frames(PITH_SLOT_VSPACE, cnode, first + skip, scratch_va, pages,
                                  PITH_RIGHT_READ | PITH_RIGHT_WRITE, untyped);
        if (err)
            return err == PITH_E_NO_MEMORY ? ELF_E_NO_MEMORY : ELF_E_MAP;
        memcpy((char *)scratch_va + (from - va - skip * ELF_PAGE), (const char *)file + s->offset + (from - s->vaddr),
               to - from);
        pith_invoke4(cnode, PITH_CNODE_REVOKE_RANGE, first + skip, pages, PITH_REVOKE_UNMAP, 0);
    }
    int err = pith_map_frames(vspace, cnode, first, va, count, rights, untyped);
    if (err)
        return err == PITH_E_NO_MEMORY ? ELF_E_NO_MEMORY : ELF_E_MAP;
    return ELF_OK;
}

enum elf_error elf_load(const void *file, const struct elf_image *img, uint64_t vspace, uint64_t untyped,
                        uint64_t cnode, uint64_t *slot, uint64_t slot_end, uint64_t scratch_va, uint64_t *entry)
{
    for (int i = 0; i < img->nsegments; i++) {
        const struct elf_segment *s = &img->segments[i];
        uint8_t rights = PITH_RIGHT_READ;
        if (s->flags & ELF_PF_W)
            rights |= PITH_RIGHT_WRITE;
        if (s->flags & ELF_PF_X)
            rights |= PITH_RIGHT_EXEC;
        uint64_t va;
        uint64_t left = elf_segment_pages(s, &va);
        while (left) {
            uint64_t count = left < PITH_MAP_MAX_PAGES ? left : PITH_MAP_MAX_PAGES;
            if (*slot > slot_end || count > slot_end - *slot)
                return ELF_E_NO_MEMORY;
            enum elf_error e = load_run(file, s, vspace, untyped, cnode, *slot, va, count, scratch_va, rights);
            if (e)
                return e;
            *slot += count;
            va += count * ELF_PAGE;
            left -= count;
        }
    }
    *entry = img->entry;
    return ELF_OK;
}
