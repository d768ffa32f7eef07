/* Just enough ELF for the kernel to start init; user level has its own loader. */
#ifndef PITH_CORE_ELF_H
#define PITH_CORE_ELF_H

#include <stddef.h>
#include <stdint.h>
#include <pith/elf64.h>

#define ELF_MAX_SEGMENTS 16

struct elf_segment {
    uint64_t vaddr, memsz, offset, filesz;
    uint32_t flags;
};

struct elf_image {
    uint64_t entry;
    int nsegments;
    struct elf_segment segments[ELF_MAX_SEGMENTS];
};

/*
 * Checks a static x86-64 executable held in memory: header, program
 * headers and every loadable segment inside the file and in user space,
 * none both writable and executable, none overlapping.  Returns NULL and
 * fills img, or the reason it is unusable.
 */
const char *elf_check(const void *file, size_t size, struct elf_image *img);

#endif
