/*
 * The ELF loader shared by init, the process manager and the POSIX
 * personality: checks a static ELF64 x86-64 executable held in memory
 * (parse.c, pure C, also built for the host tests) and loads it into
 * another address space with frames from a given untyped (load.c).
 */
#ifndef ELFLOAD_ELFLOAD_H
#define ELFLOAD_ELFLOAD_H

#include <stddef.h>
#include <stdint.h>
#include <pith/elf64.h>

#define ELF_MAX_SEGMENTS 16
#define ELF_PAGE 4096ull
/*
 * Where a program may be placed: above the first 64 KiB (null pointers
 * fault) and below 0x7f8000000000, where a VSpace's entry 255 holds its
 * ASID and nothing can be mapped (docs/memory-layout.md).
 */
#define ELF_USER_START 0x10000ull
#define ELF_USER_END   0x7f8000000000ull


/* Every way an image can be refused or fail to load; each has one meaning. */
enum elf_error {
    ELF_OK = 0,
    ELF_E_TRUNCATED,        /* shorter than an ELF64 header */
    ELF_E_MAGIC,            /* does not start with \177ELF */
    ELF_E_CLASS,            /* not 64-bit (ELFCLASS64) */
    ELF_E_ENCODING,         /* not little-endian */
    ELF_E_VERSION,          /* ELF version not 1 */
    ELF_E_TYPE,             /* not an executable (ET_EXEC): a shared object, relocatable or core file */
    ELF_E_MACHINE,          /* not x86-64 */
    ELF_E_HEADER_SIZE,      /* header or program-header entry size is not ELF64's */
    ELF_E_PHDRS_OUTSIDE,    /* the program-header table is not inside the file */
    ELF_E_PHDRS_ALIGN,      /* the program-header table is not 8-byte aligned */
    ELF_E_DYNAMIC,          /* PT_INTERP or PT_DYNAMIC: it needs a dynamic linker */
    ELF_E_TOO_MANY,         /* more than ELF_MAX_SEGMENTS loadable segments */
    ELF_E_FILE_SIZE,        /* a segment's file size exceeds its memory size */
    ELF_E_SEGMENT_OUTSIDE,  /* a segment's bytes are not inside the file */
    ELF_E_SEGMENT_ALIGN,    /* alignment not a power of two of at least a page, or address and offset differ within a page */
    ELF_E_ADDRESS,          /* a segment is not within [ELF_USER_START, ELF_USER_END) */
    ELF_E_WX,               /* a segment is both writable and executable */
    ELF_E_OVERLAP,          /* two segments share a page */
    ELF_E_NO_SEGMENTS,      /* nothing to load */
    ELF_E_ENTRY,            /* the entry point is not in an executable segment */
    ELF_E_NO_MEMORY,        /* loading: the untyped has no room for a frame or page table (or no slots for the frames) */
    ELF_E_MAP,              /* loading: the kernel refused a mapping (not an address space, place taken) */
    ELF_E_COUNT
};

struct elf_segment {
    uint64_t vaddr, memsz, offset, filesz;
    uint32_t flags;                     /* ELF_PF_* */
};

struct elf_image {
    uint64_t entry;
    int nsegments;
    struct elf_segment segments[ELF_MAX_SEGMENTS];
};

/* Checks the image; fills img and returns ELF_OK, or the first problem found. */
enum elf_error elf_parse(const void *file, size_t size, struct elf_image *img);

/*
 * The same checks when only the first `head` bytes of a file of `size`
 * bytes are at hand (a pager that has read the first page of an image):
 * the program headers must lie within them (ELF_E_PHDRS_OUTSIDE if not);
 * segments are checked against the whole size.
 */
enum elf_error elf_parse_head(const void *file, size_t head, uint64_t size, struct elf_image *img);

/* A short description of an error code, for messages. */
const char *elf_strerror(enum elf_error e);

/*
 * Loads a checked image into the address space `vspace`: frames and page
 * tables come from `untyped`.  The frames are made in the CNode `cnode`
 * (a capability of ours; ours, or the new program's) from slot *slot on,
 * below slot_end, and *slot is advanced past them; page tables go in new
 * slots of ours.  Pages are filled through our own mapping at `scratch_va`
 * (a free 2 MiB-aligned region of 2 MiB in our address space) and then
 * mapped in the target with the segment's rights (always readable), a run
 * of up to PITH_MAP_MAX_PAGES at a time.  Returns ELF_OK and the entry
 * point, or an error (what was already mapped stays mapped); running out
 * of slots is ELF_E_NO_MEMORY.
 */
enum elf_error elf_load(const void *file, const struct elf_image *img, uint64_t vspace, uint64_t untyped,
                        uint64_t cnode, uint64_t *slot, uint64_t slot_end, uint64_t scratch_va, uint64_t *entry);

/*
 * Lazy loading (lazy.c, pure C, also built for the host tests): instead of
 * copying segments at load time, a pager fills each page of a checked
 * image when it is first touched.  The page at a page-aligned address of
 * a segment holds the file's bytes [file_off, file_off + len) at offset
 * `at`, and zeroes everywhere else: before the segment's start, past its
 * file size (the tail of the last data page, and bss).  len 0: nothing
 * from the file.  Because a segment's address and offset agree within a
 * page (elf_parse checks it), file_off - at is page-aligned: the bytes
 * all come from one page of the file, at the same place in it.
 */
struct elf_page {
    uint64_t file_off;
    uint32_t at, len;
};

/* The first page segment s touches; returns how many pages it touches. */
uint64_t elf_segment_pages(const struct elf_segment *s, uint64_t *first);

/* What the page at page_va (page-aligned, one of s's pages) holds. */
void elf_page_of(const struct elf_segment *s, uint64_t page_va, struct elf_page *p);

/*
 * Given a page holding the file's page at p->file_off - p->at (as a
 * mapper supplies it), zeroes what is not the segment's file bytes.
 */
void elf_page_clear(const struct elf_page *p, void *page);

#endif
