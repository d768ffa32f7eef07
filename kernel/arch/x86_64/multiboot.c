/*
 * Reads the Multiboot 1 information structure.  Called before the
 * kernel's own page tables exist, when only the first GiB of physical
 * memory is reachable through the direct map: everything the loader gives
 * must lie there (QEMU and GRUB put it in low memory).  Anything we cannot
 * represent is a boot configuration error and panics with the reason:
 * the kernel never drops a module or cuts a name silently.
 */
#include "arch/x86_64/layout.h"
#include "core/boot.h"
#include "core/panic.h"
#include "lib/string.h"

#define MB_BOOTLOADER_MAGIC 0x2BADB002
#define MB_INFO_MEM         (1u << 0)
#define MB_INFO_CMDLINE     (1u << 2)
#define MB_INFO_MODS        (1u << 3)
#define MB_INFO_MMAP        (1u << 6)
#define MB_INFO_LOADER      (1u << 9)
#define MB_MEM_AVAILABLE    1

struct mb_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr, drives_length, drives_addr, config_table, boot_loader_name;
} __attribute__((packed));

struct mb_module {
    uint32_t start, end, string, reserved;
} __attribute__((packed));

struct mb_mmap {
    uint32_t size;
    uint64_t addr, len;
    uint32_t type;
} __attribute__((packed));

#define EARLY_LIMIT (1ul << 30)         /* reachable before paging_init */

struct boot_params boot;

extern char __image_end[];

static const void *early_ptr(uint64_t phys, uint64_t len, const char *what)
{
    if (phys == 0 || phys + len > EARLY_LIMIT || phys + len < phys)
        panic("boot: %s at %#lx (+%lu) is outside the first GiB", what, phys, len);
    return (const void *)(DIRECT_MAP_BASE + phys);
}

static void copy_string(char *dst, size_t cap, uint64_t phys, const char *what)
{
    const char *s = early_ptr(phys, 1, what);
    size_t n = strnlen(s, cap);
    if (n == cap)
        panic("boot: %s is longer than %zu bytes", what, cap - 1);
    memcpy(dst, s, n + 1);
    physmem_reserve(&boot.mem, phys, phys + n + 1);
}

static void parse_mmap(const struct mb_info *mb)
{
    if (!(mb->flags & MB_INFO_MMAP))
        panic("boot: the boot loader gave no memory map");
    const uint8_t *p = early_ptr(mb->mmap_addr, mb->mmap_length, "memory map");
    const uint8_t *end = p + mb->mmap_length;
    while (p + sizeof(struct mb_mmap) <= end) {
        const struct mb_mmap *e = (const void *)p;
        uint64_t top = e->addr + e->len;
        if (top > boot.phys_top)
            boot.phys_top = top;
        /* Any range the map lists (RAM, ACPI, reserved) is not device memory. */
        if (boot.nram < PHYSMEM_MAX_RANGES)
            boot.ram[boot.nram++] = (struct phys_range){ e->addr, top };
        else
            panic("boot: more than %d ranges in the memory map", PHYSMEM_MAX_RANGES);
        if (e->type == MB_MEM_AVAILABLE) {
            boot.ram_bytes += e->len;
            physmem_add(&boot.mem, e->addr, top);
        }
        p += e->size + 4;
    }
}

/*
 * A module's string is its path followed by optional arguments (QEMU and
 * GRUB both work this way); its name is the last component of the path.
 */
static void module_name(struct boot_module *bm, uint64_t phys)
{
    char line[BOOT_CMDLINE_MAX];
    copy_string(line, sizeof line, phys, "module command line");
    size_t end = 0;
    while (line[end] && line[end] != ' ')
        end++;
    size_t start = end;
    while (start > 0 && line[start - 1] != '/')
        start--;
    if (end - start >= sizeof bm->name)
        panic("boot: module name '%s' is longer than %zu bytes", line, sizeof bm->name - 1);
    memcpy(bm->name, line + start, end - start);
    bm->name[end - start] = 0;
}

static void parse_modules(const struct mb_info *mb)
{
    if (!(mb->flags & MB_INFO_MODS))
        return;
    if (mb->mods_count > BOOT_MAX_MODULES)
        panic("boot: %u modules given, at most %d supported", mb->mods_count, BOOT_MAX_MODULES);
    const struct mb_module *m = early_ptr(mb->mods_addr, mb->mods_count * sizeof *m, "module list");
    for (uint32_t i = 0; i < mb->mods_count; i++) {
        struct boot_module *bm = &boot.mod[boot.nmod++];
        if (m[i].end < m[i].start)
            panic("boot: module %u ends before it starts", i);
        bm->start = m[i].start;
        bm->end = m[i].end;
        if (m[i].string)
            module_name(bm, m[i].string);
        physmem_reserve(&boot.mem, bm->start, bm->end);
    }
}

void multiboot_parse(uint32_t magic, uint64_t info_phys)
{
    if (magic != MB_BOOTLOADER_MAGIC)
        panic("boot: not started by a Multiboot loader (magic %#x)", magic);
    const struct mb_info *mb = early_ptr(info_phys, sizeof *mb, "boot information");

    parse_mmap(mb);
    /* Nothing below 1 MiB is handed out: BIOS data, EBDA, ROMs. */
    physmem_reserve(&boot.mem, 0, 0x100000);
    physmem_reserve(&boot.mem, KERNEL_LOAD_PHYS, (uint64_t)__image_end - KERNEL_VMA);
    physmem_reserve(&boot.mem, info_phys, info_phys + sizeof *mb);
    physmem_reserve(&boot.mem, mb->mmap_addr, (uint64_t)mb->mmap_addr + mb->mmap_length);
    if (mb->flags & MB_INFO_MODS)
        physmem_reserve(&boot.mem, mb->mods_addr,
                        (uint64_t)mb->mods_addr + mb->mods_count * sizeof(struct mb_module));

    if (mb->flags & MB_INFO_CMDLINE)
        copy_string(boot.cmdline, sizeof boot.cmdline, mb->cmdline, "kernel command line");
    if (mb->flags & MB_INFO_LOADER)
        copy_string(boot.loader, sizeof boot.loader, mb->boot_loader_name, "boot loader name");
    else
        memcpy(boot.loader, "unknown", 8);
    parse_modules(mb);
    if (boot.mem.dropped)
        panic("boot: memory map too fragmented: %lu bytes not tracked", boot.mem.dropped);
}
