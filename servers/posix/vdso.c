/*
 * The vDSO of Linux processes (docs/posix.md, "The vDSO"; decision 0023):
 * the shared object built from vdso/ (carried in our image), which Linux
 * programs' C libraries find through AT_SYSINFO_EHDR and call for the
 * clocks instead of a system call, and the data page it reads (vdso/vdso.h).
 * Both are frames of ours, filled once here at start and mapped read-only
 * into every process at its exec, the data page at VDSO_BASE and the image
 * on the page after it; a fork's child maps the same frames (family.c).
 */
#include "personality.h"
#include "process.h"
#include "vdso/vdso.h"

#include <stdio.h>
#include <string.h>

#define VDSO_FILL_VA 0x620000000ull     /* where we map the pages to fill them, once */

/* The image, from the build (the Makefile's VDSO_IMAGE). */
__asm__(".section .rodata\n.balign 16\nvdso_image:\n.incbin \"" VDSO_IMAGE "\"\nvdso_image_end:\n.previous");
extern const char vdso_image[] __asm__("vdso_image"), vdso_image_end[] __asm__("vdso_image_end");

static uint64_t frames;                 /* VDSO_PAGES frames of ours: the data page, then the image; 0: none */

void vdso_start(void)
{
    uint64_t size = (uint64_t)(vdso_image_end - vdso_image), slots = pith_slot_alloc_range(VDSO_PAGES);
    if (size > (VDSO_PAGES - 1) * PAGE ||
        pith_invoke4(PITH_SLOT_UNTYPED, PITH_UNTYPED_RETYPE, PITH_OBJ_FRAME, PITH_SLOT_CSPACE, slots, VDSO_PAGES)) {
        printf("posix: no vDSO (%lu bytes): every clock is a system call\n", size);
        return;
    }
    for (uint64_t i = 0; i < VDSO_PAGES; i++)
        if (pith_map_page(slots + i, VDSO_FILL_VA + i * PAGE, PITH_RIGHT_READ | PITH_RIGHT_WRITE, 0)) {
            printf("posix: cannot map the vDSO's pages: every clock is a system call\n");
            return;
        }
    struct vdso_data *d = (struct vdso_data *)VDSO_FILL_VA;
    d->time = *time_page;
    d->real_offset = clock_real_offset();
    memcpy((void *)(VDSO_FILL_VA + PAGE), vdso_image, size);
    /* Written for good: what the processes map are children of these, read-only. */
    for (uint64_t i = 0; i < VDSO_PAGES; i++)
        pith_invoke4(slots + i, PITH_FRAME_UNMAP, 0, 0, 0, 0);
    frames = slots;
}

/* Maps the data page and the image; *ehdr: the image's address for AT_SYSINFO_EHDR (0: none). */
long vdso_map(struct lproc *p, uint64_t *ehdr)
{
    *ehdr = 0;
    if (!frames)
        return 0;
    long err = mem_map_from(p, VDSO_BASE, PAGE, PITH_RIGHT_READ, frames, NULL);
    if (!err)
        err = mem_map_from(p, VDSO_BASE + PAGE, (VDSO_PAGES - 1) * PAGE, PITH_RIGHT_READ | PITH_RIGHT_EXEC, frames + 1,
                           NULL);
    if (!err)
        *ehdr = VDSO_BASE + PAGE;
    return err;
}
