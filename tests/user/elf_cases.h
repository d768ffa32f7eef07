/*
 * Malformed ELF images, one per error of lib/elfload/elfload.h, shared by the
 * host tests (tests/host/test_elfload.c, under ASan and UBSan) and the
 * in-system tests (tests/user/test_elfload.c).  Each case starts from the
 * same small valid image and changes one thing.
 */
#ifndef TESTS_ELF_CASES_H
#define TESTS_ELF_CASES_H

#include <stdint.h>
#include <string.h>

#include "../../lib/elfload/elfload.h"

#define CASE_SIZE 0x1100
#define CASE_PH(img) ((struct elf64_phdr *)((img) + sizeof(struct elf64_ehdr)))

/*
 * Text at 0x400000 (read, execute: the headers and code, one page) and
 * data at 0x401000 (read, write: 0x100 bytes from the file, two pages in
 * memory), entry 0x400100.
 */
static inline void case_valid(unsigned char *img)
{
    memset(img, 0, CASE_SIZE);
    struct elf64_ehdr *h = (struct elf64_ehdr *)img;
    memcpy(h->ident, "\177ELF\2\1\1", 7);
    h->type = 2;
    h->machine = 62;
    h->version = 1;
    h->entry = 0x400100;
    h->phoff = sizeof *h;
    h->ehsize = sizeof *h;
    h->phentsize = sizeof(struct elf64_phdr);
    h->phnum = 2;
    struct elf64_phdr *p = CASE_PH(img);
    p[0] = (struct elf64_phdr){ 1, ELF_PF_R | ELF_PF_X, 0, 0x400000, 0x400000, 0x1000, 0x1000, 0x1000 };
    p[1] = (struct elf64_phdr){ 1, ELF_PF_R | ELF_PF_W, 0x1000, 0x401000, 0x401000, 0x100, 0x2000, 0x1000 };
    for (int i = 0; i < 0x100; i++)
        img[0x1000 + i] = (unsigned char)i;
}

struct elf_case {
    const char *name;
    enum elf_error want;
    size_t size;                        /* 0: CASE_SIZE */
    void (*change)(unsigned char *img);
};

#define H(img) ((struct elf64_ehdr *)(img))
static inline void c_none(unsigned char *i) { (void)i; }
static inline void c_magic(unsigned char *i) { H(i)->ident[1] = 'X'; }
static inline void c_class(unsigned char *i) { H(i)->ident[4] = 1; }
static inline void c_encoding(unsigned char *i) { H(i)->ident[5] = 2; }
static inline void c_version(unsigned char *i) { H(i)->version = 2; }
static inline void c_type(unsigned char *i) { H(i)->type = 3; }
static inline void c_machine(unsigned char *i) { H(i)->machine = 3; }
static inline void c_phentsize(unsigned char *i) { H(i)->phentsize = 48; }
static inline void c_ehsize(unsigned char *i) { H(i)->ehsize = 52; }
static inline void c_phdrs_outside(unsigned char *i) { H(i)->phoff = CASE_SIZE - 10; }
static inline void c_phdrs_huge(unsigned char *i) { H(i)->phoff = ~0ull - 8; }
static inline void c_phdrs_align(unsigned char *i) { memmove(i + 68, i + 64, 112); H(i)->phoff = 68; }
static inline void c_interp(unsigned char *i) { CASE_PH(i)[1].type = 3; }
static inline void c_dynamic(unsigned char *i) { CASE_PH(i)[1].type = 2; }
static inline void c_too_many(unsigned char *i)
{
    H(i)->phnum = ELF_MAX_SEGMENTS + 1;
    for (int k = 0; k < ELF_MAX_SEGMENTS + 1; k++)
        CASE_PH(i)[k] = (struct elf64_phdr){ 1, ELF_PF_R, 0, 0x400000 + 0x1000ull * k, 0, 0x100, 0x100, 0x1000 };
}
static inline void c_file_size(unsigned char *i) { CASE_PH(i)[1].filesz = 0x3000; }
static inline void c_outside(unsigned char *i) { CASE_PH(i)[1].offset = 0x1080; }
static inline void c_offset_huge(unsigned char *i) { CASE_PH(i)[1].offset = ~0ull - 0x10; }
static inline void c_misaligned(unsigned char *i) { CASE_PH(i)[1].vaddr = 0x401010; }
static inline void c_align_bits(unsigned char *i) { CASE_PH(i)[1].align = 0x3000; }
static inline void c_low(unsigned char *i) { CASE_PH(i)[1].vaddr = 0x1000; }
static inline void c_high(unsigned char *i) { CASE_PH(i)[1].vaddr = ELF_USER_END - 0x1000; }
static inline void c_wrap(unsigned char *i) { CASE_PH(i)[1].memsz = ~0ull - 0x1000; }
static inline void c_wx(unsigned char *i) { CASE_PH(i)[1].flags = ELF_PF_R | ELF_PF_W | ELF_PF_X; }
static inline void c_overlap(unsigned char *i) { CASE_PH(i)[1].vaddr = 0x400000; }
static inline void c_no_segments(unsigned char *i) { CASE_PH(i)[0].type = CASE_PH(i)[1].type = 4; }
static inline void c_entry_data(unsigned char *i) { H(i)->entry = 0x401000; }
static inline void c_entry_past(unsigned char *i)
{
    CASE_PH(i)[0].filesz = CASE_PH(i)[0].memsz = 0x800;
    H(i)->entry = 0x400900;             /* in the text's page, past its end */
}
#undef H

static const struct elf_case elf_cases[] = {
    { "valid", ELF_OK, 0, c_none },
    { "truncated", ELF_E_TRUNCATED, 63, c_none },
    { "magic", ELF_E_MAGIC, 0, c_magic },
    { "class", ELF_E_CLASS, 0, c_class },
    { "encoding", ELF_E_ENCODING, 0, c_encoding },
    { "version", ELF_E_VERSION, 0, c_version },
    { "type", ELF_E_TYPE, 0, c_type },
    { "machine", ELF_E_MACHINE, 0, c_machine },
    { "phentsize", ELF_E_HEADER_SIZE, 0, c_phentsize },
    { "ehsize", ELF_E_HEADER_SIZE, 0, c_ehsize },
    { "phdrs_outside", ELF_E_PHDRS_OUTSIDE, 0, c_phdrs_outside },
    { "phdrs_huge", ELF_E_PHDRS_OUTSIDE, 0, c_phdrs_huge },
    { "phdrs_align", ELF_E_PHDRS_ALIGN, 0, c_phdrs_align },
    { "interp", ELF_E_DYNAMIC, 0, c_interp },
    { "dynamic", ELF_E_DYNAMIC, 0, c_dynamic },
    { "too_many", ELF_E_TOO_MANY, 0, c_too_many },
    { "file_size", ELF_E_FILE_SIZE, 0, c_file_size },
    { "outside", ELF_E_SEGMENT_OUTSIDE, 0, c_outside },
    { "offset_huge", ELF_E_SEGMENT_OUTSIDE, 0, c_offset_huge },
    { "misaligned", ELF_E_SEGMENT_ALIGN, 0, c_misaligned },
    { "align_bits", ELF_E_SEGMENT_ALIGN, 0, c_align_bits },
    { "low", ELF_E_ADDRESS, 0, c_low },
    { "high", ELF_E_ADDRESS, 0, c_high },
    { "wrap", ELF_E_ADDRESS, 0, c_wrap },
    { "wx", ELF_E_WX, 0, c_wx },
    { "overlap", ELF_E_OVERLAP, 0, c_overlap },
    { "no_segments", ELF_E_NO_SEGMENTS, 0, c_no_segments },
    { "entry_data", ELF_E_ENTRY, 0, c_entry_data },
    { "entry_past", ELF_E_ENTRY, 0, c_entry_past },
};

#define ELF_NCASES (sizeof elf_cases / sizeof elf_cases[0])

#endif
