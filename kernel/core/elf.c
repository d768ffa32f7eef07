#include "core/elf.h"
#include "lib/string.h"

/* User space for init: below the boot-info page, above the first MiB. */
#define USER_LOW    0x100000ull
#define USER_HIGH   0x7f0000000000ull

static int in_user(uint64_t va, uint64_t len)
{
    return va >= USER_LOW && len <= USER_HIGH && va <= USER_HIGH - len;
}

const char *elf_check(const void *file, size_t size, struct elf_image *img)
{
    const struct elf64_ehdr *h = file;
    if (size < sizeof *h || memcmp(h->ident, "\177ELF", 4))
        return "no ELF header";
    if (h->ident[4] != 2 || h->ident[5] != 1)
        return "not 64-bit little-endian";
    if (h->type != ET_EXEC || h->machine != EM_X86_64)
        return "not a static x86-64 executable";
    if (h->phentsize != sizeof(struct elf64_phdr) || h->phoff > size ||
        (uint64_t)h->phnum * sizeof(struct elf64_phdr) > size - h->phoff)
        return "program headers outside the file";
    memset(img, 0, sizeof *img);
    img->entry = h->entry;
    const struct elf64_phdr *ph = (const void *)((const uint8_t *)file + h->phoff);
    for (int i = 0; i < h->phnum; i++) {
        if (ph[i].type != PT_LOAD || ph[i].memsz == 0)
            continue;
        if (img->nsegments == ELF_MAX_SEGMENTS)
            return "too many loadable segments";
        if (ph[i].filesz > ph[i].memsz || ph[i].offset > size || ph[i].filesz > size - ph[i].offset)
            return "segment outside the file";
        if (!in_user(ph[i].vaddr, ph[i].memsz))
            return "segment outside user space";
        if ((ph[i].flags & ELF_PF_W) && (ph[i].flags & ELF_PF_X))
            return "segment both writable and executable";
        for (int j = 0; j < img->nsegments; j++) {
            const struct elf_segment *o = &img->segments[j];
            uint64_t a0 = ph[i].vaddr & ~0xfffull, a1 = (ph[i].vaddr + ph[i].memsz + 0xfff) & ~0xfffull;
            uint64_t b0 = o->vaddr & ~0xfffull, b1 = (o->vaddr + o->memsz + 0xfff) & ~0xfffull;
            if (a0 < b1 && b0 < a1)
                return "segments share a page";
        }
        img->segments[img->nsegments++] = (struct elf_segment){
            ph[i].vaddr, ph[i].memsz, ph[i].offset, ph[i].filesz, ph[i].flags,
        };
    }
    if (img->nsegments == 0)
        return "nothing to load";
    int entry_ok = 0;
    for (int j = 0; j < img->nsegments; j++)
        if ((img->segments[j].flags & ELF_PF_X) && img->entry >= img->segments[j].vaddr &&
            img->entry < img->segments[j].vaddr + img->segments[j].memsz)
            entry_ok = 1;
    return entry_ok ? NULL : "entry point not in an executable segment";
}
