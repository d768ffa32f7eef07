/*
 * Pages shared between processes (MAP_SHARED across fork, and private
 * writable memory shared copy-on-write by fork: memory.c): a pool whose frames
 * are made from chunks the pool holds itself, not from any process's,
 * so a page outlives whichever sharer ends first.  Each page has a share
 * count: the regions mapping it, one per process (a split region's parts
 * share its pages' counts; a copy-on-write page a process has copied
 * stays counted until it unmaps it).  The pool is made
 * of groups of one chunk each (128 pages), a group made when a page of
 * it is first wanted and its chunk given back when its last page is
 * free.  Each page's frame capability stays in a range of our slots set
 * aside at start; every mapping of it is a child of that capability in
 * a process's CNode, deleted by munmap or the process's end.
 *
 * MAP_SHARED file mappings take their pages from the pool too: a range
 * of a file (inode, generation, offset, pages) read into new pages at
 * its first mapping and recorded, so that a later shared mapping of the
 * same file lying inside that range maps the same pages; each page
 * remembers the range it belongs to until it is freed.  Mappers write
 * the pages back to the file server (msync, munmap, their end).
 */
#include "personality.h"

#include <stdio.h>
#include <string.h>

#define GROUP_PAGES   (1u << (CHUNK_BITS - 12))   /* the frames of one chunk */
#define SHARED_GROUPS (SHARED_PAGES / GROUP_PAGES)
#define SHARED_SLACK  512               /* our slots left for everything else after the pool's */
#define FILE_RANGES   16                /* file ranges mapped shared at once */
#define PRIVATE_SPARE 2                 /* chunks a group for private pages leaves free */

struct group {
    struct chunks mem;                  /* empty: the group is not made */
    uint32_t used;                      /* its pages with a count */
};

static struct group groups[SHARED_GROUPS];
static uint16_t count[SHARED_PAGES];   /* sharers of each page; 0: free */
static bool dirty[SHARED_PAGES];       /* used since its frame was made: zeroed before it is given again */
static int8_t owner[SHARED_PAGES];     /* the file range a page holds (ranges[]), -1: none */
static uint64_t slots;                  /* our slot of page 0's frame; page i in slots + i */

/* A file's range read into pages first.. of the pool. */
struct range {
    uint32_t ino, gen;
    uint64_t off;                       /* the file offset of page first */
    uint64_t bytes;                     /* how much of the file the range held when read: what goes back */
    uint32_t first, n;
    uint32_t live;                      /* its pages still its own; 0: free */
};

static struct range ranges[FILE_RANGES];
static uint32_t npages;                 /* the pool's size: as many groups as our slots allow */

void shared_start(void)
{
    uint32_t g = SHARED_GROUPS;
    while (g && pith_slots_left() < (uint64_t)g * GROUP_PAGES + SHARED_SLACK)
        g--;
    npages = g * GROUP_PAGES;
    memset(owner, -1, sizeof owner);
    if (npages)
        slots = pith_slot_alloc_range(npages);
    printf("posix: %u pages for sharing between processes\n", npages);
}

uint64_t shared_slot(uint32_t page) { return slots + page; }
uint32_t shared_page(uint64_t slot) { return (uint32_t)(slot - slots); }
uint32_t shared_count(uint32_t page) { return count[page]; }

/* The frames of group g made from a chunk of its own; false if no chunk is free. */
static bool group_make(uint32_t g)
{
    struct group *gr = &groups[g];
    for (uint32_t done = 0; done < GROUP_PAGES; done += 64)
        if (chunks_retype(&gr->mem, PITH_OBJ_FRAME, slots + g * GROUP_PAGES + done, 64)) {
            chunks_give_back(&gr->mem);
            return false;
        }
    for (uint32_t i = 0; i < GROUP_PAGES; i++)
        dirty[g * GROUP_PAGES + i] = false;   /* the kernel zeroed them */
    return true;
}

/*
 * n free pages in a row, their counts set to 1 and their groups made;
 * *zero: whether they were used before (the caller clears them through
 * its mapping).  -1: no such run, or no chunk for a group.  Private
 * memory (copy-on-write, which can be made of the process's own chunks
 * instead) makes a group only while PRIVATE_SPARE chunks stay free
 * after it: a group holds its chunk while any page of it is used, and a
 * new process needs a chunk of its own for its objects.
 */
long shared_new(uint32_t n, bool *zero, bool private)
{
    uint32_t run = 0, first = 0;
    for (uint32_t i = 0; i < npages && run < n; i++) {
        if (count[i]) {
            run = 0;
            continue;
        }
        if (!run)
            first = i;
        run++;
    }
    if (!n || run < n)
        return -1;
    for (uint32_t g = first / GROUP_PAGES; g <= (first + n - 1) / GROUP_PAGES; g++)
        if (!groups[g].mem.n && ((private && chunks_free() <= PRIVATE_SPARE) || !group_make(g))) {
            for (uint32_t h = first / GROUP_PAGES; h < g; h++)   /* those made just now, unused */
                if (!groups[h].used)
                    chunks_give_back(&groups[h].mem);
            return -1;
        }
    *zero = false;
    for (uint32_t i = first; i < first + n; i++) {
        *zero |= dirty[i];
        dirty[i] = true;
        count[i] = 1;
        groups[i / GROUP_PAGES].used++;
    }
    return first;
}

/* One more sharer of pages [first, first + n) (a fork's copy of a region). */
void shared_get(uint32_t first, uint32_t n)
{
    for (uint32_t i = first; i < first + n; i++)
        count[i]++;
}

/* One sharer fewer; a page free at 0, its group's chunk given back when the group has none left. */
void shared_put(uint32_t first, uint32_t n)
{
    for (uint32_t i = first; i < first + n && i < npages; i++) {
        if (!count[i] || --count[i])
            continue;
        if (owner[i] >= 0)
            ranges[owner[i]].live--;    /* the range has a hole now: never found again, freed at 0 */
        owner[i] = -1;
        struct group *gr = &groups[i / GROUP_PAGES];
        if (!--gr->used)
            chunks_give_back(&gr->mem);   /* its frames go; no mapping of them is left */
    }
}

/*
 * The pool's first page for [off, off + n pages) of a file: a range
 * recorded before that holds it whole, every page of it still the
 * range's.  -1: none (the caller reads it into new pages, shared_file_add).
 */
long shared_file_find(uint32_t ino, uint32_t gen, uint64_t off, uint32_t n)
{
    for (int e = 0; e < FILE_RANGES; e++) {
        struct range *f = &ranges[e];
        if (!f->live || f->ino != ino || f->gen != gen || off < f->off || off + (uint64_t)n * PAGE > f->off + (uint64_t)f->n * PAGE)
            continue;
        uint32_t first = f->first + (uint32_t)((off - f->off) / PAGE), i = first;
        while (i < first + n && owner[i] == e)
            i++;
        if (i == first + n)
            return first;
    }
    return -1;
}

/* Pages first.. (counted) now hold the file's range read from off, of which bytes came from the file. */
bool shared_file_add(uint32_t ino, uint32_t gen, uint64_t off, uint64_t bytes, uint32_t first, uint32_t n)
{
    for (int e = 0; e < FILE_RANGES; e++)
        if (!ranges[e].live) {
            ranges[e] = (struct range){ .ino = ino, .gen = gen, .off = off, .bytes = bytes, .first = first,
                                        .n = n, .live = n };
            for (uint32_t i = first; i < first + n; i++)
                owner[i] = (int8_t)e;
            return true;
        }
    return false;
}

/*
 * A page of a file range back to the file server from data (the page
 * as a mapper sees it), as much of it as lay within the file when the
 * range was read: the file does not grow by its mappings, as on Linux.
 * 0 if the page holds no file's bytes.
 */
long shared_file_write(uint32_t page, const void *data)
{
    if (page >= npages || owner[page] < 0)
        return 0;
    const struct range *f = &ranges[owner[page]];
    uint64_t at = (uint64_t)(page - f->first) * PAGE;
    if (at >= f->bytes)
        return 0;
    return fsio_write(f->ino, f->gen, f->off + at, data, f->bytes - at < PAGE ? f->bytes - at : PAGE);
}
