/* The ELF loader in the system: every malformed case, loading errors, and a real program run. */
#include "utest.h"
#include "elfload.h"
#include "elf_cases.h"

#include <stdlib.h>

extern const unsigned char child_elf[], child_elf_end[];

#define SCRATCH_VA 0x300000000ull
#define CHILD_STACK_TOP 0x7000000000ull

UTEST(elf_parse_every_case)
{
    unsigned char *work = malloc(CASE_SIZE);
    UT_ASSERT(work);
    for (size_t i = 0; i < ELF_NCASES; i++) {
        struct elf_image img;
        case_valid(work);
        elf_cases[i].change(work);
        enum elf_error e = elf_parse(work, elf_cases[i].size ? elf_cases[i].size : CASE_SIZE, &img);
        if (e != elf_cases[i].want)
            printf("  case %s: got %d (%s)\n", elf_cases[i].name, e, elf_strerror(e));
        UT_EQ(e, elf_cases[i].want);
    }
    free(work);
}

/* The pages of the image's segments: a frame each. */
static uint64_t image_pages(const struct elf_image *img)
{
    uint64_t n = 0, first;
    for (int i = 0; i < img->nsegments; i++)
        n += elf_segment_pages(&img->segments[i], &first);
    return n;
}

/* A fresh address space, and an untyped of 2^bits bytes for the loader. */
static int fresh_space(uint64_t *vspace, uint64_t *untyped, uint32_t bits)
{
    *vspace = make_object(PITH_OBJ_VSPACE, 0);
    *untyped = make_object(PITH_OBJ_UNTYPED, bits);
    return *vspace && *untyped;
}

UTEST(elf_load_runs_a_real_program)
{
    size_t size = (size_t)(child_elf_end - child_elf);
    struct elf_image img;
    UT_EQ(elf_parse(child_elf, size, &img), ELF_OK);
    UT_ASSERT(img.nsegments >= 2);
    uint64_t vspace, untyped, entry = 0;
    UT_ASSERT(fresh_space(&vspace, &untyped, 20));
    uint64_t pages = image_pages(&img), first = pith_slot_alloc_range(pages), slot = first;
    UT_EQ(elf_load(child_elf, &img, vspace, untyped, PITH_SLOT_CSPACE, &slot, first + pages, SCRATCH_VA, &entry),
          ELF_OK);
    UT_EQ(entry, img.entry);
    UT_EQ(slot, first + pages);                         /* every page's frame in the slots given */
    /* A stack page, a thread in that space sharing our capabilities, an endpoint to answer on. */
    uint64_t stack = pith_retype(untyped, PITH_OBJ_FRAME, 0);
    UT_ASSERT(stack);
    UT_EQ(map_frame(vspace, stack, CHILD_STACK_TOP - 0x1000, PITH_RIGHT_READ | PITH_RIGHT_WRITE), PITH_OK);
    uint64_t ep = make_object(PITH_OBJ_ENDPOINT, 0);
    uint64_t tcb = make_object(PITH_OBJ_TCB, 0);
    UT_ASSERT(ep && tcb);
    UT_EQ(pith_invoke4(tcb, PITH_TCB_CONFIGURE, PITH_SLOT_CSPACE, vspace, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(tcb, PITH_TCB_SET_PRIORITY, 100, 100, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(tcb, PITH_TCB_WRITE_REGISTERS, entry, CHILD_STACK_TOP - 8, ep, 0), PITH_OK);
    UT_EQ(pith_invoke4(tcb, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    struct pith_msg m = { 0 };
    UT_EQ(pith_syscall_timed(PITH_SYS_RECV_TIMED, ep, &m, 0, 2000000000ull), PITH_OK);
    UT_EQ(PITH_TAG_LABEL(m.tag), 0xe1f);
    UT_EQ(m.w[0], 11 + 22 + 33 + 44);                   /* data from the file, and writable */
    UT_EQ(m.w[1], 0);                                   /* bss zeroed, past the file's end */
    UT_EQ(m.w[2], sizeof "loaded by lib/elfload" - 1);
    UT_EQ(m.w[3], ('l' << 8) | 1);                      /* read-only data; bss writable */
    UT_EQ(pith_invoke4(tcb, PITH_TCB_SUSPEND, 0, 0, 0, 0), PITH_OK);
}

UTEST(elf_load_errors)
{
    size_t size = (size_t)(child_elf_end - child_elf);
    struct elf_image img;
    uint64_t vspace, untyped, entry = 0;
    UT_EQ(elf_parse(child_elf, size, &img), ELF_OK);
    uint64_t pages = image_pages(&img), first = pith_slot_alloc_range(3 * pages), slot = first;
    /* 8 KiB of untyped: a frame and a page table at most, not the whole program. */
    UT_ASSERT(fresh_space(&vspace, &untyped, 13));
    UT_EQ(elf_load(child_elf, &img, vspace, untyped, PITH_SLOT_CSPACE, &slot, first + pages, SCRATCH_VA + 0x200000,
                   &entry), ELF_E_NO_MEMORY);
    /* Slots for all but the last page. */
    UT_ASSERT(fresh_space(&vspace, &untyped, 20));
    slot = first + pages;
    UT_EQ(elf_load(child_elf, &img, vspace, untyped, PITH_SLOT_CSPACE, &slot, first + 2 * pages - 1,
                   SCRATCH_VA + 0x400000, &entry), ELF_E_NO_MEMORY);
    /* A target that is not an address space. */
    uint64_t not_a_space = make_object(PITH_OBJ_NOTIFICATION, 0);
    UT_ASSERT(fresh_space(&vspace, &untyped, 20));
    slot = first + 2 * pages;
    UT_EQ(elf_load(child_elf, &img, not_a_space, untyped, PITH_SLOT_CSPACE, &slot, first + 3 * pages,
                   SCRATCH_VA + 0x600000, &entry), ELF_E_MAP);
    UT_EQ(entry, 0);
}
