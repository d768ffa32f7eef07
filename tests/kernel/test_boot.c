/* The boot loader's information arrived whole: modules, memory map, command line. */
#include "ktest.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/paging.h"
#include "core/boot.h"
#include "lib/string.h"

extern char __image_start[], __image_end[];

static const struct boot_module *find_module(const char *name)
{
    for (int i = 0; i < boot.nmod; i++)
        if (!strcmp(boot.mod[i].name, name))
            return &boot.mod[i];
    return NULL;
}

KTEST(boot_module_bytes_intact)
{
    const struct boot_module *m = find_module("testdata.bin");
    KT_ASSERT(m != NULL);
    KT_EQ(m->end - m->start, 10000);
    KT_EQ(m->start & (PAGE_SIZE - 1), 0);           /* we asked for page-aligned modules */
    const uint8_t *p = phys_to_virt(m->start);
    for (uint64_t i = 0; i < 10000; i++)
        KT_EQ(p[i], (i * 7 + 3) & 0xff);
}

static int overlaps_free(uint64_t base, uint64_t end)
{
    for (int i = 0; i < boot.mem.n; i++)
        if (boot.mem.r[i].base < end && base < boot.mem.r[i].end)
            return 1;
    return 0;
}

KTEST(boot_memory_in_use_is_not_free)
{
    KT_ASSERT(boot.ram_bytes >= 64ull << 20);
    KT_ASSERT(physmem_free_bytes(&boot.mem) < boot.ram_bytes);
    KT_ASSERT(physmem_free_bytes(&boot.mem) > boot.ram_bytes / 2);
    KT_ASSERT(!overlaps_free(0, 0x100000));
    KT_ASSERT(!overlaps_free((uint64_t)__image_start - KERNEL_VMA, (uint64_t)__image_end - KERNEL_VMA));
    for (int i = 0; i < boot.nmod; i++)
        KT_ASSERT(!overlaps_free(boot.mod[i].start, boot.mod[i].end));
    KT_EQ(boot.mem.dropped, 0);
}

KTEST(boot_free_ranges_sorted_and_aligned)
{
    for (int i = 0; i < boot.mem.n; i++) {
        KT_EQ(boot.mem.r[i].base & (PAGE_SIZE - 1), 0);
        KT_EQ(boot.mem.r[i].end & (PAGE_SIZE - 1), 0);
        KT_ASSERT(boot.mem.r[i].base < boot.mem.r[i].end);
        if (i > 0)
            KT_ASSERT(boot.mem.r[i - 1].end < boot.mem.r[i].base);
    }
}

KTEST(boot_cmdline_parsed)
{
    KT_ASSERT(cmdline_has("test"));
    KT_ASSERT(!cmdline_has("tes"));
    KT_ASSERT(!cmdline_has("no-such-word"));
    KT_ASSERT(boot.loader[0] != 0);
}
