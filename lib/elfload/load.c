/*
 * Loading a checked image into another address space (elf.h).  Page by
 * page: a zeroed frame from the untyped, filled through our scratch
 * mapping if it holds file bytes, mapped in the target.
 */
#include "elfload.h"
#include "pith.h"

#include <string.h>

/* Maps frame at va in vspace, making missing page tables from untyped. */
static enum elf_error map_in(uint64_t vspace, uint64_t frame, uint64_t va, uint8_t rights,
                             uint64_t untyped)
{
    for (int level = 0; level < 4; level++) {
        long err = pith_invoke4(frame, PITH_FRAME_MAP, vspace, va, rights, 0);
        if (err == PITH_OK)
            return ELF_OK;
        if (err != PITH_E_NO_TABLE)
            return ELF_E_MAP;
        uint64_t pt = pith_retype(untyped, PITH_OBJ_PAGE_TABLE, 0);
        if (!pt)
            return ELF_E_NO_MEMORY;
        if (pith_invoke4(pt, PITH_PAGE_TABLE_MAP, vspace, va, 0, 0))
            return ELF_E_MAP;
    }
    return ELF_E_MAP;
}

enum elf_error elf_load(const void *file, const struct elf_image *img, uint64_t vspace,
                        uint64_t untyped, uint64_t scratch_va, uint64_t *entry)
{
    for (int i = 0; i < img->nsegments; i++) {
        const struct elf_segment *s = &img->segments[i];
        uint8_t rights = PITH_RIGHT_READ;
        if (s->flags & ELF_PF_W)
            rights |= PITH_RIGHT_WRITE;
        if (s->flags & ELF_PF_X)
            rights |= PITH_RIGHT_EXEC;
        uint64_t first = s->vaddr & ~(ELF_PAGE - 1);
        for (uint64_t va = first; va < s->vaddr + s->memsz; va += ELF_PAGE) {
            uint64_t frame = pith_retype(untyped, PITH_OBJ_FRAME, 0);
            if (!frame)
                return ELF_E_NO_MEMORY;
            /*
             * Frames from untyped are zeroed: only the file's bytes need
             * copying, and a page with none (BSS) is not mapped here at all.
             */
            struct elf_page p;
            elf_page_of(s, va, &p);
            enum elf_error e = ELF_OK;
            if (p.len) {
                if ((e = map_in(PITH_SLOT_VSPACE, frame, scratch_va, PITH_RIGHT_READ | PITH_RIGHT_WRITE, untyped)))
                    return e;
                memcpy((char *)scratch_va + p.at, (const char *)file + p.file_off, p.len);
                pith_invoke4(frame, PITH_FRAME_UNMAP, 0, 0, 0, 0);
            }
            if ((e = map_in(vspace, frame, va, rights, untyped)))
                return e;
        }
    }
    *entry = img->entry;
    return ELF_OK;
}
