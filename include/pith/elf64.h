/*
 * The ELF64 file format, as far as Pith reads it: the file header, the
 * program headers and the constants a static x86-64 executable uses.  Not
 * a kernel interface: one definition shared by the kernel's loader of init
 * (kernel/core/elf.c), the user-level loader (lib/elfload) and the tests.
 */
#ifndef PITH_ELF64_H
#define PITH_ELF64_H

#include <stdint.h>

struct elf64_ehdr {
    uint8_t ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

#define ET_EXEC     2
#define EM_X86_64   62
#define PT_LOAD     1
#define PT_DYNAMIC  2
#define PT_INTERP   3

/* Segment flags (elf64_phdr.flags). */
#define ELF_PF_X    1u
#define ELF_PF_W    2u
#define ELF_PF_R    4u

#endif
