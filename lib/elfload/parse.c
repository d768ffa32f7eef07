/* Checking an ELF64 x86-64 executable (elf.h).  No system calls: the host tests build it. */
#include "elfload.h"

#include <string.h>

/* head: the bytes at hand (the program headers must be among them); size: the whole file's. */
static enum elf_error check_header(const struct elf64_ehdr *h, size_t head)
{
    if (memcmp(h->ident, "\177ELF", 4))
        return ELF_E_MAGIC;
    if (h->ident[4] != 2)
        return ELF_E_CLASS;
    if (h->ident[5] != 1)
        return ELF_E_ENCODING;
    if (h->ident[6] != 1 || h->version != 1)
        return ELF_E_VERSION;
    if (h->type != ET_EXEC)
        return ELF_E_TYPE;
    if (h->machine != EM_X86_64)
        return ELF_E_MACHINE;
    if (h->ehsize != sizeof(struct elf64_ehdr) || h->phentsize != sizeof(struct elf64_phdr))
        return ELF_E_HEADER_SIZE;
    if (h->phoff > head || (uint64_t)h->phnum * sizeof(struct elf64_phdr) > head - h->phoff)
        return ELF_E_PHDRS_OUTSIDE;
    if (h->phoff % 8)
        return ELF_E_PHDRS_ALIGN;
    return ELF_OK;
}

/* The pages [first, last) a segment touches. */
static void page_span(const struct elf_segment *s, uint64_t *first, uint64_t *last)
{
    *first = s->vaddr & ~(ELF_PAGE - 1);
    *last = (s->vaddr + s->memsz + ELF_PAGE - 1) & ~(ELF_PAGE - 1);
}

static enum elf_error check_segment(const struct elf64_phdr *p, uint64_t size)
{
    if (p->filesz > p->memsz)
        return ELF_E_FILE_SIZE;
    if (p->offset > size || p->filesz > size - p->offset)
        return ELF_E_SEGMENT_OUTSIDE;
    if (p->align < ELF_PAGE || (p->align & (p->align - 1)) || (p->vaddr - p->offset) % ELF_PAGE)
        return ELF_E_SEGMENT_ALIGN;
    /* memsz is bounded first so that the sum cannot wrap. */
    if (p->vaddr < ELF_USER_START || p->memsz > ELF_USER_END - ELF_USER_START ||
        p->vaddr > ELF_USER_END - p->memsz)
        return ELF_E_ADDRESS;
    if ((p->flags & ELF_PF_W) && (p->flags & ELF_PF_X))
        return ELF_E_WX;
    return ELF_OK;
}

enum elf_error elf_parse(const void *file, size_t size, struct elf_image *img)
{
    return elf_parse_head(file, size, size, img);
}

enum elf_error elf_parse_head(const void *file, size_t head, uint64_t size, struct elf_image *img)
{
    struct elf64_ehdr h;
    if (head > size)
        head = (size_t)size;
    if (head < sizeof h)
        return ELF_E_TRUNCATED;
    memcpy(&h, file, sizeof h);
    enum elf_error e = check_header(&h, head);
    if (e)
        return e;
    memset(img, 0, sizeof *img);
    img->entry = h.entry;
    for (unsigned i = 0; i < h.phnum; i++) {
        struct elf64_phdr p;
        memcpy(&p, (const char *)file + h.phoff + i * sizeof p, sizeof p);
        if (p.type == PT_INTERP || p.type == PT_DYNAMIC)
            return ELF_E_DYNAMIC;
        if (p.type != PT_LOAD || p.memsz == 0)
            continue;
        if (img->nsegments == ELF_MAX_SEGMENTS)
            return ELF_E_TOO_MANY;
        if ((e = check_segment(&p, size)))
            return e;
        struct elf_segment s = { p.vaddr, p.memsz, p.offset, p.filesz, p.flags };
        uint64_t a0, a1, b0, b1;
        page_span(&s, &a0, &a1);
        for (int j = 0; j < img->nsegments; j++) {
            page_span(&img->segments[j], &b0, &b1);
            if (a0 < b1 && b0 < a1)
                return ELF_E_OVERLAP;
        }
        img->segments[img->nsegments++] = s;
    }
    if (img->nsegments == 0)
        return ELF_E_NO_SEGMENTS;
    for (int j = 0; j < img->nsegments; j++) {
        const struct elf_segment *s = &img->segments[j];
        if ((s->flags & ELF_PF_X) && img->entry >= s->vaddr && img->entry - s->vaddr < s->memsz)
            return ELF_OK;
    }
    return ELF_E_ENTRY;
}

const char *elf_strerror(enum elf_error e)
{
    static const char *const text[ELF_E_COUNT] = {
        [ELF_OK] = "ok",
        [ELF_E_TRUNCATED] = "shorter than an ELF header",
        [ELF_E_MAGIC] = "not an ELF file",
        [ELF_E_CLASS] = "not 64-bit",
        [ELF_E_ENCODING] = "not little-endian",
        [ELF_E_VERSION] = "unknown ELF version",
        [ELF_E_TYPE] = "not an executable",
        [ELF_E_MACHINE] = "not x86-64",
        [ELF_E_HEADER_SIZE] = "header sizes are not ELF64's",
        [ELF_E_PHDRS_OUTSIDE] = "program headers outside the file",
        [ELF_E_PHDRS_ALIGN] = "program headers misaligned",
        [ELF_E_DYNAMIC] = "needs a dynamic linker",
        [ELF_E_TOO_MANY] = "too many loadable segments",
        [ELF_E_FILE_SIZE] = "segment file size exceeds memory size",
        [ELF_E_SEGMENT_OUTSIDE] = "segment outside the file",
        [ELF_E_SEGMENT_ALIGN] = "segment misaligned",
        [ELF_E_ADDRESS] = "segment outside user space",
        [ELF_E_WX] = "segment writable and executable",
        [ELF_E_OVERLAP] = "segments share a page",
        [ELF_E_NO_SEGMENTS] = "nothing to load",
        [ELF_E_ENTRY] = "entry point not in an executable segment",
        [ELF_E_NO_MEMORY] = "out of memory while loading",
        [ELF_E_MAP] = "mapping refused while loading",
    };
    return (unsigned)e < ELF_E_COUNT ? text[e] : "unknown error";
}
