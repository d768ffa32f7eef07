// uses: lib/elfload/parse.c lib/elfload/lazy.c
/*
 * Lazy loading (lib/elfload/lazy.c) on the host under ASan and UBSan:
 * every page of a segment, filled the way a pager fills it (the file's
 * page as a mapper supplies it, then elf_page_clear) and the way the
 * eager loader fills it (elf_page_of's bytes copied into a zeroed page),
 * must equal the page computed byte by byte from the ELF rules; and
 * parsing from the first bytes of a file only (elf_parse_head).
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "../user/elf_cases.h"

#define FILE_SIZE 0x6123u               /* ends within a page, as real files do */
#define PAGE ELF_PAGE

static unsigned char file[FILE_SIZE];

/* Byte a of memory by the rules: the file's within [vaddr, vaddr + filesz), zero elsewhere. */
static unsigned char reference(const struct elf_segment *s, uint64_t a)
{
    return a >= s->vaddr && a - s->vaddr < s->filesz ? file[s->offset + (a - s->vaddr)] : 0;
}

/* Fills every page of s both ways and compares; returns how many pages held file bytes. */
static int check_segment(const struct elf_segment *s, uint64_t want_pages)
{
    uint64_t first, n = elf_segment_pages(s, &first);
    int with_file = 0;
    if (n != want_pages || first % PAGE || first > s->vaddr || first + n * PAGE < s->vaddr + s->memsz) {
        printf("  segment at %#llx: %llu pages from %#llx\n", (unsigned long long)s->vaddr,
               (unsigned long long)n, (unsigned long long)first);
        return -1;
    }
    for (uint64_t i = 0; i < n; i++) {
        uint64_t va = first + i * PAGE;
        struct elf_page p;
        elf_page_of(s, va, &p);
        if (p.at + p.len > PAGE || (p.len && ((p.file_off - p.at) % PAGE || p.file_off + p.len > FILE_SIZE)))
            return -1;
        /* The pager's way: the mapper's copy of the file page (zero past the file's end), cleared. */
        unsigned char *lazy = malloc(PAGE), *eager = calloc(1, PAGE);
        memset(lazy, 0xa5, PAGE);
        if (p.len) {
            uint64_t from = p.file_off - p.at, have = FILE_SIZE - from < PAGE ? FILE_SIZE - from : PAGE;
            memcpy(lazy, file + from, have);
            memset(lazy + have, 0, PAGE - have);
        }
        elf_page_clear(&p, lazy);
        /* The eager loader's way, into a page fresh from untyped (zero). */
        if (p.len)              /* file_off means nothing without bytes: it may point past the file */
            memcpy(eager + p.at, file + p.file_off, p.len);
        int bad = 0;
        for (uint64_t k = 0; k < PAGE; k++)
            bad |= lazy[k] != reference(s, va + k) || eager[k] != reference(s, va + k);
        free(lazy);
        free(eager);
        if (bad) {
            printf("  segment at %#llx, page %#llx differs\n", (unsigned long long)s->vaddr,
                   (unsigned long long)va);
            return -1;
        }
        with_file += p.len != 0;
    }
    return with_file;
}

static void fill_file(void)
{
    for (unsigned i = 0; i < FILE_SIZE; i++)
        file[i] = (unsigned char)(i * 7 + (i >> 8) + 1);   /* never zero where it matters */
}

TEST(text_pages_come_whole_from_the_file)
{
    fill_file();
    struct elf_segment s = { 0x400000, 0x2000, 0, 0x2000, ELF_PF_R | ELF_PF_X };
    CHECK_EQ(check_segment(&s, 2), 2);
}

TEST(segment_not_page_aligned)
{
    fill_file();
    /* Starts 0x234 into a page: that page's head is zero, its file bytes at 0x234. */
    struct elf_segment s = { 0x401234, 0x1800, 0x1234, 0x1800, ELF_PF_R };
    CHECK_EQ(check_segment(&s, 2), 2);
    struct elf_page p;
    elf_page_of(&s, 0x401000, &p);
    CHECK_EQ(p.at, 0x234);
    CHECK_EQ(p.len, 0x1000 - 0x234);
    CHECK_EQ(p.file_off, 0x1234);
}

TEST(file_size_below_memory_size_within_one_page)
{
    fill_file();
    struct elf_segment s = { 0x403010, 0x100, 0x3010, 0x20, ELF_PF_R | ELF_PF_W };
    CHECK_EQ(check_segment(&s, 1), 1);
    struct elf_page p;
    elf_page_of(&s, 0x403000, &p);
    CHECK_EQ(p.at, 0x10);
    CHECK_EQ(p.len, 0x20);
}

TEST(bss_spanning_pages_is_never_read_from_the_file)
{
    fill_file();
    /* 0x80 bytes of data at the end of a page, then bss over three more pages. */
    struct elf_segment s = { 0x404f00, 0x3000, 0x4f00, 0x80, ELF_PF_R | ELF_PF_W };
    CHECK_EQ(check_segment(&s, 4), 1);
    struct elf_page p;
    elf_page_of(&s, 0x406000, &p);
    CHECK_EQ(p.len, 0);
    /* Only bss. */
    struct elf_segment b = { 0x410000, 0x1001, 0x6000, 0, ELF_PF_R | ELF_PF_W };
    CHECK_EQ(check_segment(&b, 2), 0);
}

TEST(data_ending_with_the_file_mid_page)
{
    fill_file();
    struct elf_segment s = { 0x405000, 0x2000, 0x5000, FILE_SIZE - 0x5000, ELF_PF_R | ELF_PF_W };
    CHECK_EQ(check_segment(&s, 2), 2);
}

TEST(headers_parsed_from_the_first_bytes_only)
{
    static unsigned char work[CASE_SIZE];
    struct elf_image whole, head;
    case_valid(work);
    CHECK_EQ(elf_parse(work, CASE_SIZE, &whole), ELF_OK);
    /* ELF header and two program headers: 64 + 2 * 56 bytes are enough (exact copies: ASan watches). */
    static const size_t cut[] = { 176, 175, 63, 176, 176 };
    static const uint64_t size[] = { CASE_SIZE, CASE_SIZE, CASE_SIZE, 0x1080, 100 };
    enum elf_error got[5];
    for (int i = 0; i < 5; i++) {
        unsigned char *first = malloc(cut[i]);
        memcpy(first, work, cut[i]);
        got[i] = elf_parse_head(first, cut[i], size[i], &head);
        free(first);
        if (i == 0) {
            CHECK_EQ(got[0], ELF_OK);
            CHECK_EQ(head.entry, whole.entry);
            CHECK_EQ(head.nsegments, whole.nsegments);
            for (int j = 0; j < whole.nsegments; j++) {
                const struct elf_segment *a = &whole.segments[j], *b = &head.segments[j];
                CHECK(a->vaddr == b->vaddr && a->memsz == b->memsz && a->offset == b->offset &&
                      a->filesz == b->filesz && a->flags == b->flags);
            }
        }
    }
    CHECK_EQ(got[1], ELF_E_PHDRS_OUTSIDE);
    CHECK_EQ(got[2], ELF_E_TRUNCATED);
    /* Segments are checked against the whole file's size, not the bytes at hand. */
    CHECK_EQ(got[3], ELF_E_SEGMENT_OUTSIDE);
    /* More at hand than the file holds counts as the file. */
    CHECK_EQ(got[4], ELF_E_PHDRS_OUTSIDE);
}
