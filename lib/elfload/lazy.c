/*
 * Lazy loading (elfload.h): what one page of a segment holds, so that a
 * pager can fill it on first touch.  No system calls: the host tests
 * build it, and the eager loader (load.c) fills its pages with it too, so
 * both loaders agree byte for byte.
 */
#include "elfload.h"

#include <string.h>

uint64_t elf_segment_pages(const struct elf_segment *s, uint64_t *first)
{
    *first = s->vaddr & ~(ELF_PAGE - 1);
    return (s->vaddr + s->memsz - *first + ELF_PAGE - 1) / ELF_PAGE;
}

void elf_page_of(const struct elf_segment *s, uint64_t page_va, struct elf_page *p)
{
    uint64_t from = s->vaddr > page_va ? s->vaddr : page_va;
    uint64_t file_end = s->vaddr + s->filesz;
    uint64_t to = file_end < page_va + ELF_PAGE ? file_end : page_va + ELF_PAGE;
    p->at = (uint32_t)(from - page_va);
    p->file_off = s->offset + (from - s->vaddr);
    p->len = from < to ? (uint32_t)(to - from) : 0;
}

void elf_page_clear(const struct elf_page *p, void *page)
{
    char *b = page;
    if (!p->len) {
        memset(b, 0, ELF_PAGE);
        return;
    }
    memset(b, 0, p->at);
    memset(b + p->at + p->len, 0, ELF_PAGE - p->at - p->len);
}
