/*
 * A Linux process's memory: regions of pages made whole when mapped (the
 * stack made on demand within its reserve, a region per growth: mem_stack,
 * stack_grow), each page a frame of the process's chunks, of a shared
 * image (read-only segments: image.c) or of the pool (shared.c: shared
 * mappings, and private writable memory, copy-on-write at fork) mapped
 * twice: in the process, with the rights its segment or mmap asks, and in
 * our own address space (its alias), read-write, so that system calls can
 * read and write the process's memory directly.  Both capabilities live in
 * the process's CNode (a region of n pages: ours in n slots, then its n,
 * one run taken from its slot map, slots.c), so unmapping a page is
 * deleting them, and its two slots are free again for the next region.
 * Our alias of a page is tied to its slot (region_make), so the aliases
 * and their page tables are reused with the slots.  A pool page's memory
 * comes back when its last mapping goes (shared.c); a frame of the
 * process's own chunks only when the process ends (its chunks are
 * reclaimed whole).
 */
#include "personality.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define BATCH 64                        /* pages made and mapped per invocation */
#define BRK_CHUNK (32 * PAGE)           /* the heap grows by at least this much */
#define STACK_GROW 4                    /* the stack grows by at least this many pages */

extern uint64_t temp_slots;             /* BATCH consecutive free slots of ours (main.c) */

/* Page tables down to va in vspace (ours or the process's), made from the process's memory. */
static long ensure_tables(struct lproc *p, uint64_t vspace, uint64_t va)
{
    for (int level = 0; level < 4; level++) {
        if (!p->spare_pt) {
            p->spare_pt = pith_slot_alloc();
            long err = lproc_retype(p, PITH_OBJ_PAGE_TABLE, p->spare_pt, 1);
            if (err) {
                pith_slot_free(p->spare_pt);
                p->spare_pt = 0;
                return -ENOMEM;
            }
        }
        /*
         * The kernel checks that the whole span of the missing table lies
         * below the ASID entry from the address given, so near the top of
         * the address space (the stack) the address must be aligned to that
         * span: try each table's span in turn (aligning keeps every index
         * above the missing level, so the same entry is filled).
         */
        long err = PITH_E_INVALID_ARG;
        for (int shift = 21; shift <= 39 && err == PITH_E_INVALID_ARG; shift += 9)
            err = pith_invoke4(p->spare_pt, PITH_PAGE_TABLE_MAP, vspace, va & ~((1ull << shift) - 1), 0, 0);
        if (err == PITH_E_MAPPED)
            return 0;                   /* every level is there; the spare waits for the next */
        if (err) {
            printf("posix: pid %u: no page table at %#lx (error %ld)\n", p->pid, va, err);
            return -EFAULT;
        }
        /* The table stays until the process ends (as its slot does): later regions there use it. */
        long s = slots_take(&p->slots, 1);
        if (s < 0)
            return -ENOMEM;
        if (pith_invoke4(p->cnode, PITH_CNODE_MOVE, (uint64_t)s, p->spare_pt, 0, 0)) {
            slots_give(&p->slots, (uint32_t)s, 1);
            return -ENOMEM;
        }
        pith_slot_free(p->spare_pt);
        p->spare_pt = 0;
    }
    return 0;
}

static long tables_for(struct lproc *p, uint64_t vspace, uint64_t va, uint64_t n)
{
    for (uint64_t at = va & ~((2ull << 20) - 1); at < va + n * PAGE; at += 2ull << 20) {
        long err = ensure_tables(p, vspace, at < va ? va : at);
        if (err)
            return err;
    }
    return 0;
}

static struct region *region_new(struct lproc *p)
{
    for (int i = 0; i < REGION_MAX; i++)
        if (!p->regions[i].used) {
            memset(&p->regions[i], 0, sizeof p->regions[i]);
            p->regions[i].used = true;
            return &p->regions[i];
        }
    return NULL;
}

struct region *mem_find(struct lproc *p, uint64_t addr)
{
    for (int i = 0; i < REGION_MAX; i++)
        if (p->regions[i].used && p->regions[i].start <= addr && addr < p->regions[i].end)
            return &p->regions[i];
    return NULL;
}

static bool overlaps(struct lproc *p, uint64_t start, uint64_t end)
{
    for (int i = 0; i < REGION_MAX; i++)
        if (p->regions[i].used && p->regions[i].start < end && start < p->regions[i].end)
            return true;
    return false;
}

static long map_pages(struct lproc *p, uint64_t start, uint64_t len, uint8_t rights, uint8_t kind, uint64_t src,
                      bool alias, struct region **out);

/* Zeroed pages at [start, start + len) (page-aligned), free before. */
long mem_map(struct lproc *p, uint64_t start, uint64_t len, uint8_t rights, uint8_t kind, struct region **out)
{
    return map_pages(p, start, len, rights, kind, 0, true, out);
}

long mem_map_from(struct lproc *p, uint64_t start, uint64_t len, uint8_t rights, uint64_t src, struct region **out)
{
    return map_pages(p, start, len, rights, R_IMAGE, src, true, out);
}

/*
 * A process's pool pages count against the same limit as its chunks: each
 * sharer is charged for every shared page it maps, so that no process can
 * take the pool beyond what it could take of the memory anyway.
 */
static long map_pool(struct lproc *p, uint64_t start, uint64_t len, uint8_t rights, uint32_t first, bool alias,
                     struct region **out)
{
    uint64_t n = len / PAGE;
    if (((uint64_t)p->mem.n << (CHUNK_BITS - 12)) + p->shared_pages + n > (uint64_t)PROC_CHUNKS << (CHUNK_BITS - 12))
        return -ENOMEM;
    struct region *r;
    long err = map_pages(p, start, len, rights, R_MMAP, shared_slot(first), alias, &r);
    if (err)
        return err;
    r->shared = true;
    p->shared_pages += (uint32_t)n;
    shared_get(first, (uint32_t)n);
    if (out)
        *out = r;
    return 0;
}

long mem_map_shared(struct lproc *p, uint64_t start, uint64_t len, uint8_t rights, uint32_t first,
                    struct region **out)
{
    return map_pool(p, start, len, rights, first, true, out);
}

/*
 * Private writable memory (data, bss, the heap, mmap's): pool pages, so
 * that a fork shares them copy-on-write, or the process's own frames,
 * copied by a fork, when the pool has no run free (or no chunk for it).
 */
long mem_map_private(struct lproc *p, uint64_t start, uint64_t len, uint8_t rights, uint8_t kind, struct region **out)
{
    bool zero;
    long first = (rights & PITH_RIGHT_WRITE) ? shared_new((uint32_t)(len / PAGE), &zero, true) : -1;
    if (first < 0)
        return mem_map(p, start, len, rights, kind, out);
    struct region *r;
    long err = mem_map_shared(p, start, len, rights, (uint32_t)first, &r);
    shared_put((uint32_t)first, (uint32_t)(len / PAGE));   /* the mapping holds them now, or they are free again */
    if (err == -ENOMEM)
        return mem_map(p, start, len, rights, kind, out);   /* no room: as own frames, which may still fit */
    if (err)
        return err;
    r->kind = kind;
    r->cow = r->writable = true;
    if (zero)
        memset((void *)r->alias, 0, len);
    if (out)
        *out = r;
    return 0;
}

/* The pool page of r's page at va. */
static uint32_t pool_page(const struct region *r, uint64_t va)
{
    return shared_page(r->src) + (uint32_t)((va - r->origin) / PAGE);
}

/* [a, b) of r back to the file its pages hold, if r may write them (a shared file mapping). */
static long write_back(struct region *r, uint64_t a, uint64_t b)
{
    long err = 0;
    for (uint64_t va = a; va < b && r->shared && !r->cow && (r->rights & PITH_RIGHT_WRITE); va += PAGE) {
        long e = shared_file_write(pool_page(r, va), (const void *)(r->alias + (va - r->origin)));
        err = err ? err : e;
    }
    return err;
}

/* Its end (or execve): its file pages written back while its aliases are there, then its sharing ends. */
void mem_drop_shared(struct lproc *p)
{
    for (int i = 0; i < REGION_MAX; i++) {
        struct region *r = &p->regions[i];
        if (r->used && r->shared && r->end > r->start) {
            write_back(r, r->start, r->end);
            shared_put(pool_page(r, r->start), (uint32_t)((r->end - r->start) / PAGE));
        }
        r->shared = false;
    }
    p->shared_pages = 0;
    memset(p->copied, 0, sizeof p->copied);
}

/* ---- copy-on-write --------------------------------------------------------- */

/*
 * A cow region is private memory made of pool pages, so that a fork's
 * child can map the same pages until one side writes: each side maps
 * them read-only, and a write copies the page into a frame of the
 * writer's own chunks (cow_copy) or, if nobody else holds it, maps it
 * writable (cow_own).  A process keeps its count on a page it has copied
 * until it unmaps it, so the page is not given again while its region
 * covers it and copied[] names one page of it only.
 */
static bool copied(const struct lproc *p, uint32_t k) { return p->copied[k / 64] >> (k % 64) & 1; }

/*
 * A fork's child maps a cow region without our aliases of it (half the
 * mappings a fork makes and its end takes down): they are made here, the
 * whole region's, when we first read or write it for a system call or it
 * copies a page.  False if they cannot be.
 */
static bool alias_ready(struct lproc *p, struct region *r)
{
    for (uint64_t va = r->start; r->unaliased && va < r->end; va += 64 * PAGE) {
        uint64_t i = (va - r->origin) / PAGE, k = (r->end - va) / PAGE < 64 ? (r->end - va) / PAGE : 64;
        long err = pith_invoke4(PITH_SLOT_VSPACE, PITH_VSPACE_MAP, r->src + i, r->alias + i * PAGE,
                                p->cnode | (r->slot + i) << 32, k | (uint64_t)(PITH_RIGHT_READ | PITH_RIGHT_WRITE) << 16);
        if (err) {
            printf("posix: pid %u: no alias of %#lx (error %ld)\n", p->pid, va, err);
            return false;
        }
    }
    r->unaliased = false;
    return true;
}

/* p's own copy of r's page at va, of the bytes at from (the page as it is, or a parent's own copy at fork). */
static long cow_copy(struct lproc *p, struct region *r, uint64_t va, const void *from)
{
    static char bounce[PAGE];
    uint64_t i = (va - r->origin) / PAGE, ours = r->slot + i, theirs = ours + r->span;
    uint32_t k = pool_page(r, va);
    if (!alias_ready(p, r) || lproc_retype(p, PITH_OBJ_FRAME, temp_slots, 1))
        return -ENOMEM;
    memcpy(bounce, from, PAGE);         /* from may be the alias that is remapped now */
    pith_invoke4(p->cnode, PITH_CNODE_DELETE, theirs, 0, 0, 0);
    pith_invoke4(p->cnode, PITH_CNODE_DELETE, ours, 0, 0, 0);
    long err = pith_invoke4(PITH_SLOT_VSPACE, PITH_VSPACE_MAP, temp_slots, r->alias + i * PAGE, p->cnode | ours << 32,
                            1 | (uint64_t)(PITH_RIGHT_READ | PITH_RIGHT_WRITE) << 16);
    if (!err)
        err = pith_invoke4(p->vspace, PITH_VSPACE_GRANT, temp_slots, va, p->cnode | theirs << 32,
                           1 | (uint64_t)r->rights << 16);
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, temp_slots, 0, 0, 0);
    if (err) {
        /* The pool's page back in both places (our alias must stay mapped); the process's read-only. */
        printf("posix: pid %u: copying the page at %#lx failed (error %ld)\n", p->pid, va, err);
        pith_invoke4(p->cnode, PITH_CNODE_DELETE, ours, 0, 0, 0);
        pith_invoke4(PITH_SLOT_VSPACE, PITH_VSPACE_MAP, shared_slot(k), r->alias + i * PAGE, p->cnode | ours << 32,
                     1 | (uint64_t)(PITH_RIGHT_READ | PITH_RIGHT_WRITE) << 16);
        pith_invoke4(p->vspace, PITH_VSPACE_MAP, shared_slot(k), va, p->cnode | theirs << 32,
                     1 | (uint64_t)PITH_RIGHT_READ << 16);
        return -ENOMEM;
    }
    memcpy((void *)(r->alias + i * PAGE), bounce, PAGE);
    p->copied[k / 64] |= 1ull << (k % 64);
    return 0;
}

/* r's pool page at va, held by p alone: mapped writable in p as it is. */
static long cow_own(struct lproc *p, struct region *r, uint64_t va)
{
    uint64_t theirs = r->slot + r->span + (va - r->origin) / PAGE;
    pith_invoke4(p->cnode, PITH_CNODE_DELETE, theirs, 0, 0, 0);
    r->writable = true;
    return pith_invoke4(p->vspace, PITH_VSPACE_MAP, shared_slot(pool_page(r, va)), va, p->cnode | theirs << 32,
                        1 | (uint64_t)r->rights << 16) ? -ENOMEM : 0;
}

/*
 * Before r's page at va is written: by the process (a write fault, so it
 * is mapped writable after), or by us through the alias (a system call's
 * answer, which must never write into a page another process sees).
 */
static long cow_write(struct lproc *p, struct region *r, uint64_t va, bool fault)
{
    uint32_t k = pool_page(r, va);
    if (copied(p, k))
        return 0;
    if (!alias_ready(p, r))
        return -ENOMEM;
    if (shared_count(k) > 1)
        return cow_copy(p, r, va, (const void *)(r->alias + (va - r->origin)));
    return fault ? cow_own(p, r, va) : 0;
}

/*
 * fork: the child maps r's pool pages read-only (one more count each),
 * the parent's become read-only again if any was made writable, and the
 * pages the parent has copied are copied into the child's own frames.
 */
long mem_fork_cow(struct lproc *p, struct lproc *c, struct region *r, struct region **out)
{
    if (r->writable) {
        for (uint64_t va = r->start; va < r->end;) {
            /* A run of pool pages (not the parent's copies), remapped read-only 64 at a time at most. */
            uint64_t i = (va - r->origin) / PAGE, n = 0;
            while (va + n * PAGE < r->end && n < 64 && !copied(p, pool_page(r, va + n * PAGE)))
                pith_invoke4(p->cnode, PITH_CNODE_DELETE, r->slot + r->span + i + n++, 0, 0, 0);
            if (n && pith_invoke4(p->vspace, PITH_VSPACE_MAP, r->src + i, va, p->cnode | (r->slot + r->span + i) << 32,
                                  n | (uint64_t)PITH_RIGHT_READ << 16))
                return -ENOMEM;
            va += (n ? n : 1) * PAGE;
        }
        r->writable = false;
    }
    struct region *n;
    long err = map_pool(c, r->start, r->end - r->start, PITH_RIGHT_READ, pool_page(r, r->start), false, &n);
    if (err)
        return err;
    n->cow = true;
    n->rights = r->rights;
    n->kind = r->kind;
    for (uint64_t va = r->start; va < r->end && !err; va += PAGE)
        if (copied(p, pool_page(r, va)))
            err = cow_copy(c, n, va, (const void *)(r->alias + (va - r->origin)));
    *out = n;
    return err;
}

/*
 * Frames for the n pages of r from va, in the slots its runs keep for them
 * (counted from its origin), mapped in ours and in the process; *done: how
 * many were, from va up.
 */
static long fill(struct lproc *p, struct region *r, uint64_t va, uint64_t n, uint64_t *done)
{
    uint64_t first = (va - r->origin) / PAGE;
    for (*done = 0; *done < n; *done += BATCH) {
        uint64_t k = n - *done < BATCH ? n - *done : BATCH, i = first + *done;
        uint64_t ours = r->slot + i, theirs = r->slot + r->span + i, at = va + *done * PAGE;
        long kerr;
        if (r->src) {
            /* A shared image's or the pool's: both mappings derived from frames in our slots (ours maybe later). */
            if ((!r->unaliased &&
                 (kerr = pith_invoke4(PITH_SLOT_VSPACE, PITH_VSPACE_MAP, r->src + i, r->alias + i * PAGE,
                                      p->cnode | ours << 32, k | (uint64_t)(PITH_RIGHT_READ | PITH_RIGHT_WRITE) << 16))) ||
                (kerr = pith_invoke4(p->vspace, PITH_VSPACE_MAP, r->src + i, at, p->cnode | theirs << 32,
                                     k | (uint64_t)r->rights << 16))) {
                printf("posix: pid %u: mapping %lu shared pages at %#lx failed (error %ld)\n", p->pid, k, at, kerr);
                return -ENOMEM;
            }
            continue;
        }
        kerr = lproc_retype(p, PITH_OBJ_FRAME, temp_slots, k);
        if (kerr) {
            printf("posix: pid %u: no memory for %lu pages (error %ld)\n", p->pid, k, kerr);
            return -ENOMEM;
        }
        /* Ours first (children of the frames), then the frames themselves go to the process, mapped there. */
        if ((kerr = pith_invoke4(PITH_SLOT_VSPACE, PITH_VSPACE_MAP, temp_slots, r->alias + i * PAGE,
                                 p->cnode | ours << 32, k | (uint64_t)(PITH_RIGHT_READ | PITH_RIGHT_WRITE) << 16)) ||
            (kerr = pith_invoke4(p->vspace, PITH_VSPACE_GRANT, temp_slots, at, p->cnode | theirs << 32,
                                 k | (uint64_t)r->rights << 16)))
            printf("posix: pid %u: mapping %lu pages at %#lx failed (error %ld)\n", p->pid, k, at, kerr);
        for (uint64_t j = 0; j < k; j++)
            pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, temp_slots + j, 0, 0, 0);
        if (kerr)
            return -ENOMEM;
    }
    *done = n;
    return 0;
}

/*
 * Pages [i, j) of r (counted from its origin): both capabilities deleted,
 * which unmaps the page in the process and our alias of it, and their
 * slots free again, empty, for the next region.
 */
static void release(struct lproc *p, const struct region *r, uint64_t i, uint64_t j)
{
    for (uint64_t k = i; k < j; k++) {
        pith_invoke4(p->cnode, PITH_CNODE_DELETE, r->slot + r->span + k, 0, 0, 0);
        pith_invoke4(p->cnode, PITH_CNODE_DELETE, r->slot + k, 0, 0, 0);
    }
    slots_give(&p->slots, r->slot + (uint32_t)i, (uint32_t)(j - i));
    slots_give(&p->slots, r->slot + r->span + (uint32_t)i, (uint32_t)(j - i));
}

/*
 * A region of span pages from origin: a run of 2 * span free slots (ours,
 * then its) and the aliases of our half, its page tables made.  The alias
 * of the page in slot s is alias_base + s pages: a page's alias is used
 * again only with its slot, after the slot's capability is deleted, and
 * the alias range, with its page tables, is as bounded as the slots.  Our
 * half's aliases are followed by the unmapped ones of its half, so an
 * overrun of an alias faults in us, visibly.  A few slots stay free for
 * the page tables a region may need.
 */
static struct region *region_make(struct lproc *p, uint64_t origin, uint64_t span, uint8_t rights, uint8_t kind,
                                  uint64_t src, bool alias)
{
    if (2 * span + 8 > p->slots.free)
        return NULL;
    struct region *r = region_new(p);
    if (!r)
        return NULL;
    long slot = slots_take(&p->slots, 2 * (uint32_t)span);
    if (slot < 0) {
        r->used = false;
        return NULL;
    }
    *r = (struct region){ .start = origin, .end = origin, .origin = origin,
                          .alias = p->alias_base + (uint64_t)slot * PAGE,
                          .slot = (uint32_t)slot, .span = (uint32_t)span,
                          .rights = rights, .kind = kind, .used = true, .src = src, .unaliased = !alias,
                          .prot = PROT_READ | (rights & PITH_RIGHT_WRITE ? PROT_WRITE : 0) |
                                  (rights & PITH_RIGHT_EXEC ? PROT_EXEC : 0) };
    if (tables_for(p, PITH_SLOT_VSPACE, r->alias, span) || tables_for(p, p->vspace, origin, span)) {
        slots_give(&p->slots, r->slot, 2 * r->span);   /* nothing in them yet */
        r->used = false;
        return NULL;
    }
    return r;
}

static long map_pages(struct lproc *p, uint64_t start, uint64_t len, uint8_t rights, uint8_t kind, uint64_t src,
                      bool alias, struct region **out)
{
    uint64_t n = len / PAGE;
    if (!n || start < 0x10000 || start + len > STACK_TOP || start + len < start)
        return -EINVAL;
    if (overlaps(p, start, start + len))
        return -EEXIST;
    struct region *r = region_make(p, start, n, rights, kind, src, alias);
    if (!r)
        return -ENOMEM;
    uint64_t done;
    long err = fill(p, r, start, n, &done);
    r->end = start + done * PAGE;
    if (err) {
        /* The pages made unmapped as any; the rest's slots (the failed batch's capabilities too) released. */
        struct region was = *r;
        if (r->end > r->start)
            mem_unmap(p, r->start, r->end - r->start);
        else
            r->used = false;
        release(p, &was, done, n);
        return err;
    }
    if (out)
        *out = r;
    return 0;
}

/*
 * The stack: its top pages made at the start, the rest of its reserve
 * (STACK_PAGES below STACK_TOP) made on demand, down from its lowest page
 * (stack_grow), each piece a private region of its own, so that a fork
 * shares them copy-on-write as any private memory.
 */
long mem_stack(struct lproc *p, uint64_t pages, struct region **out)
{
    uint64_t start = STACK_TOP - pages * PAGE;
    if (!pages || pages > STACK_PAGES || overlaps(p, start, STACK_TOP))
        return -ENOMEM;
    return mem_map_private(p, start, pages * PAGE, PITH_RIGHT_READ | PITH_RIGHT_WRITE, R_STACK, out);
}

/*
 * addr lies below the stack but within its reserve (a fault there, or a
 * system call's access): the stack made down to it, STACK_GROW pages at
 * least, as a new piece.  NULL if addr is not there, or the pages cannot
 * be made (a mapping put in the reserve with MAP_FIXED, no memory): a
 * fault is then the process's SIGSEGV, an access EFAULT.
 */
static struct region *stack_grow(struct lproc *p, uint64_t addr)
{
    uint64_t bottom = STACK_TOP - STACK_PAGES * PAGE, lowest = STACK_TOP;
    for (int i = 0; i < REGION_MAX; i++)
        if (p->regions[i].used && p->regions[i].kind == R_STACK && p->regions[i].start < lowest)
            lowest = p->regions[i].start;
    if (lowest == STACK_TOP || addr < bottom || addr >= lowest)
        return NULL;
    uint64_t low = addr & ~(PAGE - 1);
    if (lowest - low < STACK_GROW * PAGE)
        low = lowest - bottom < STACK_GROW * PAGE ? bottom : lowest - STACK_GROW * PAGE;
    struct region *r;
    if (overlaps(p, low, lowest) ||
        mem_map_private(p, low, lowest - low, PITH_RIGHT_READ | PITH_RIGHT_WRITE, R_STACK, &r))
        return NULL;
    return r;
}

bool mem_fault(struct lproc *p, uint64_t addr, uint64_t error)
{
    if (stack_grow(p, addr))
        return true;
    struct region *r = mem_find(p, addr);
    if (!r || !r->cow || !(error & PITH_PF_WRITE) || !(r->rights & PITH_RIGHT_WRITE) ||
        copied(p, pool_page(r, addr)))
        return false;                   /* not a copy-on-write page of its: SIGSEGV */
    return cow_write(p, r, addr & ~(PAGE - 1), true) == 0;
}

/* The region holding addr, the stack grown to it if it lies in the stack's reserve. */
static struct region *mem_at(struct lproc *p, uint64_t addr)
{
    struct region *r = mem_find(p, addr);
    return r ? r : stack_grow(p, addr);
}

/* Deletes the pages of [start, end) of every region they touch, splitting regions. */
long mem_unmap(struct lproc *p, uint64_t start, uint64_t len)
{
    uint64_t end = start + len;
    for (int i = 0; i < REGION_MAX; i++) {
        struct region *r = &p->regions[i];
        if (!r->used || r->end <= start || end <= r->start)
            continue;
        uint64_t a = start > r->start ? start : r->start, b = end < r->end ? end : r->end;
        write_back(r, a, b);            /* a shared file mapping's pages, while they are mapped */
        release(p, r, (a - r->origin) / PAGE, (b - r->origin) / PAGE);
        if (r->shared) {                /* its mappings gone first: a page freed has none left */
            for (uint64_t va = a; va < b && r->cow; va += PAGE)
                p->copied[pool_page(r, va) / 64] &= ~(1ull << (pool_page(r, va) % 64));
            shared_put(pool_page(r, a), (uint32_t)((b - a) / PAGE));
            p->shared_pages -= (uint32_t)((b - a) / PAGE);
        }
        struct region right = *r;
        right.start = b;                /* what is left above the hole */
        if (a > r->start) {
            r->end = a;                 /* what is left below */
            if (b < right.end) {
                struct region *n = region_new(p);
                if (n)
                    *n = right;         /* (a full table loses track of the rest: it stays mapped) */
            }
        } else if (b < right.end) {
            *r = right;
        } else {
            r->used = false;
        }
    }
    return 0;
}

long mem_read(struct lproc *p, void *dst, uint64_t src, uint64_t len)
{
    char *d = dst;
    while (len) {
        struct region *r = mem_at(p, src);
        if (!r || !alias_ready(p, r))
            return -EFAULT;
        uint64_t n = r->end - src < len ? r->end - src : len;
        memcpy(d, (const char *)(r->alias + (src - r->origin)), n);
        d += n, src += n, len -= n;
    }
    return 0;
}

long mem_write(struct lproc *p, uint64_t dst, const void *src, uint64_t len)
{
    const char *s = src;
    while (len) {
        struct region *r = mem_at(p, dst);
        if (!r || (r->src && !r->shared) || (r->shared && !(r->rights & PITH_RIGHT_WRITE)) || !alias_ready(p, r))
            return -EFAULT;             /* a shared image's pages are read-only for everyone, as a file's mapped so */
        uint64_t n = r->end - dst < len ? r->end - dst : len;
        for (uint64_t va = dst & ~(PAGE - 1); r->cow && va < dst + n; va += PAGE)
            if (cow_write(p, r, va, false))
                return -EFAULT;
        memcpy((char *)(r->alias + (dst - r->origin)), s, n);
        s += n, dst += n, len -= n;
    }
    return 0;
}

void *mem_ptr(struct lproc *p, uint64_t addr, uint64_t len)
{
    struct region *r = mem_at(p, addr);
    if (!r || r->end - addr < len || !alias_ready(p, r))
        return NULL;
    return (void *)(r->alias + (addr - r->origin));
}

long mem_string(struct lproc *p, char *dst, uint64_t src, uint64_t max)
{
    for (uint64_t i = 0; i < max; i++) {
        if (mem_read(p, &dst[i], src + i, 1))
            return -EFAULT;
        if (!dst[i])
            return (long)i;
    }
    return -ENAMETOOLONG;
}

uint64_t mem_gap(struct lproc *p, uint64_t len)
{
    uint64_t at = MMAP_BASE;
    for (bool moved = true; moved;) {
        moved = false;
        for (int i = 0; i < REGION_MAX; i++) {
            struct region *r = &p->regions[i];
            if (r->used && r->start < at + len && at < r->end) {
                at = r->end;
                moved = true;
            }
        }
    }
    return at + len <= STACK_TOP - STACK_PAGES * PAGE ? at : 0;
}

/* ---- the system calls ------------------------------------------------------ */

static long brk_to(struct lproc *p, uint64_t addr)
{
    if (addr < p->brk_start || addr > p->brk_start + BRK_MAX)
        return (long)p->brk;
    uint64_t want = (addr + PAGE - 1) & ~(PAGE - 1);
    if (want > p->brk_mapped) {
        uint64_t len = want - p->brk_mapped;
        len = (len + BRK_CHUNK - 1) / BRK_CHUNK * BRK_CHUNK;
        if (mem_map_private(p, p->brk_mapped, len, PITH_RIGHT_READ | PITH_RIGHT_WRITE, R_BRK, NULL)) {
            len = want - p->brk_mapped; /* no room for the chunk: exactly what was asked */
            if (mem_map_private(p, p->brk_mapped, len, PITH_RIGHT_READ | PITH_RIGHT_WRITE, R_BRK, NULL))
                return (long)p->brk;    /* Linux: the old break means failure */
        }
        p->brk_mapped += len;
    }
    if (addr < p->brk) {
        /* Shrinking keeps the pages but clears them, so growing again finds zeroes as Linux gives. */
        static const char zero[256];
        for (uint64_t a = addr; a < p->brk; a += (p->brk - a < sizeof zero ? p->brk - a : sizeof zero))
            mem_write(p, a, zero, p->brk - a < sizeof zero ? p->brk - a : sizeof zero);
    }
    p->brk = addr;
    return (long)addr;
}

static long map_anywhere(struct lproc *p, uint64_t addr, uint64_t len, int prot, int flags, int fd, uint64_t off)
{
    if (!len || (off & (PAGE - 1)) || (addr & (PAGE - 1) && (flags & MAP_FIXED)))
        return -EINVAL;
    struct ofile *of = NULL;
    if (!(flags & MAP_ANONYMOUS)) {
        if (fd < 0 || fd >= FD_MAX || !(of = p->fds[fd].of) || of->kind != FD_FILE)
            return -EBADF;
        /* As Linux: the file open for reading, and for writing too if a shared mapping may write. */
        if ((of->flags & O_ACCMODE) == O_WRONLY ||
            ((flags & MAP_SHARED) && (prot & PROT_WRITE) && (of->flags & O_ACCMODE) != O_RDWR))
            return -EACCES;
    }
    len = (len + PAGE - 1) & ~(PAGE - 1);
    if (len > BRK_MAX)
        return -ENOMEM;                 /* more than a process may hold */
    if (flags & MAP_FIXED)
        mem_unmap(p, addr, len);
    else if (!addr || overlaps(p, addr, addr + len) || addr < MMAP_BASE)
        addr = mem_gap(p, len);
    if (!addr)
        return -ENOMEM;
    uint8_t rights = PITH_RIGHT_READ;
    if ((prot & PROT_EXEC) && !(prot & PROT_WRITE))
        rights |= PITH_RIGHT_EXEC;
    else if (!of || !(flags & MAP_SHARED) || (prot & PROT_WRITE))
        rights |= PITH_RIGHT_WRITE;     /* PROT_NONE and read-only too: mprotect only records (docs/posix.md) */
    struct region *r;
    long err;
    if (flags & MAP_SHARED) {
        /* Pages of the pool, which a fork's child maps too; a file's shared with its other mappers (shared.c). */
        uint32_t n = (uint32_t)(len / PAGE);
        long first = of ? shared_file_find(of->ino, of->gen, off, n) : -1;
        bool zero = false, fresh = first < 0;
        if (fresh && (first = shared_new(n, &zero, false)) < 0)
            return -ENOMEM;
        err = mem_map_shared(p, addr, len, rights, (uint32_t)first, &r);
        if (err) {
            if (fresh)
                shared_put((uint32_t)first, n);
            return err == -EEXIST ? -ENOMEM : err;
        }
        if (fresh && zero)
            memset((void *)r->alias, 0, len);
        if (fresh && of) {
            /* Read once, at the first mapping: zeroes past the file's end. */
            uint64_t got = 0;
            if (!(err = fsio_read(of->ino, of->gen, off, (void *)r->alias, len, &got)) &&
                !shared_file_add(of->ino, of->gen, off, got, (uint32_t)first, n))
                err = -ENOMEM;          /* no room to record the range: its other mappers could not find it */
            if (err)
                r->rights &= (uint8_t)~PITH_RIGHT_WRITE;   /* so its unmap writes nothing back */
        }
        if (fresh)
            shared_put((uint32_t)first, n);   /* the mapping holds the pages now */
        if (err) {
            mem_unmap(p, addr, len);
            return err;
        }
        r->prot = (uint8_t)prot;
        return (long)addr;
    }
    err = mem_map_private(p, addr, len, rights, R_MMAP, &r);
    if (err)
        return err == -EEXIST ? -ENOMEM : err;
    r->prot = (uint8_t)prot;
    if (of) {
        /* A private file mapping: a copy of the file's bytes, zeroes past its end. */
        uint64_t done;
        err = fsio_read(of->ino, of->gen, off, (void *)r->alias, len, &done);
        if (err) {
            mem_unmap(p, addr, len);
            return err;
        }
    }
    return (long)addr;
}

static long unmap(struct lproc *p, uint64_t addr, uint64_t len)
{
    if ((addr & (PAGE - 1)) || !len)
        return -EINVAL;
    return mem_unmap(p, addr, (len + PAGE - 1) & ~(PAGE - 1));
}

static long protect(struct lproc *p, uint64_t addr, uint64_t len, int prot)
{
    if (addr & (PAGE - 1))
        return -EINVAL;
    for (uint64_t a = addr; a < addr + len; a += PAGE) {
        struct region *r = mem_find(p, a);
        if (!r)
            return -ENOMEM;
        r->prot = (uint8_t)prot;        /* recorded; the mapping keeps its rights (docs/posix.md) */
    }
    return 0;
}

#define L_MREMAP_MAYMOVE 1
#define L_MREMAP_FIXED   2

/*
 * mremap of anonymous or private memory: shrinking unmaps the tail; growing
 * maps the pages after it if they are free, or (MREMAP_MAYMOVE) makes a new
 * region elsewhere (MREMAP_FIXED: at new_addr, whatever was there unmapped),
 * copies the old pages into it through our aliases and unmaps them.  The
 * old pages' slots, like munmap's, are free again at once (release).
 */
static long remap(struct lproc *p, uint64_t old, uint64_t old_len, uint64_t new_len, uint64_t flags, uint64_t to)
{
    if ((old & (PAGE - 1)) || !new_len || (flags & ~(uint64_t)(L_MREMAP_MAYMOVE | L_MREMAP_FIXED)) ||
        ((flags & L_MREMAP_FIXED) && (!(flags & L_MREMAP_MAYMOVE) || (to & (PAGE - 1)))) || !old_len)
        return -EINVAL;
    old_len = (old_len + PAGE - 1) & ~(PAGE - 1);
    new_len = (new_len + PAGE - 1) & ~(PAGE - 1);
    struct region *r = mem_find(p, old);
    if (!r || (r->src && !r->cow) || r->kind == R_STACK)
        return -EFAULT;
    for (uint64_t a = old; a < old + old_len; a += PAGE)   /* one run of mapped pages, as Linux asks */
        if (!mem_find(p, a))
            return -EFAULT;
    uint8_t rights = r->rights, prot = r->prot;
    if (flags & L_MREMAP_FIXED) {
        if (to < old + old_len && old < to + new_len)
            return -EINVAL;             /* the two ranges may not overlap */
    } else if (new_len <= old_len) {
        mem_unmap(p, old + new_len, old_len - new_len);
        return (long)old;
    } else if (!overlaps(p, old + old_len, old + new_len) && old + new_len <= STACK_TOP - STACK_PAGES * PAGE) {
        struct region *n;
        long err = mem_map_private(p, old + old_len, new_len - old_len, rights, R_MMAP, &n);
        if (err)
            return err == -EEXIST ? -ENOMEM : err;
        n->prot = prot;
        return (long)old;
    } else if (!(flags & L_MREMAP_MAYMOVE)) {
        return -ENOMEM;
    }
    if (flags & L_MREMAP_FIXED)
        mem_unmap(p, to, new_len);
    else if (!(to = mem_gap(p, new_len)))
        return -ENOMEM;
    struct region *n;
    long err = mem_map_private(p, to, new_len, rights, R_MMAP, &n);
    if (err)
        return err == -EEXIST ? -ENOMEM : err;
    n->prot = prot;
    mem_read(p, (void *)n->alias, old, old_len < new_len ? old_len : new_len);
    mem_unmap(p, old, old_len);
    return (long)to;
}

/* msync: the shared file pages of [addr, addr + len) written back now; ENOMEM if a page is not mapped. */
static long sync_range(struct lproc *p, uint64_t addr, uint64_t len, uint64_t flags)
{
    if ((addr & (PAGE - 1)) || (flags & ~(uint64_t)(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) ||
        ((flags & MS_ASYNC) && (flags & MS_SYNC)))
        return -EINVAL;
    uint64_t end = addr + ((len + PAGE - 1) & ~(PAGE - 1));
    long err = 0;
    for (uint64_t a = addr; a < end;) {
        struct region *r = mem_find(p, a);
        if (!r)
            return -ENOMEM;
        uint64_t b = r->end < end ? r->end : end;
        long e = write_back(r, a, b);
        err = err ? err : e;
        a = b;
    }
    return err;
}

SYSCALL(msync) { return sync_range(p, a0, a1, a2); }
SYSCALL(mremap) { return remap(p, a0, a1, a2, a3, a4); }
SYSCALL(brk) { return brk_to(p, a0); }
SYSCALL(mmap) { return map_anywhere(p, a0, a1, (int)a2, (int)a3, (int)a4, a5); }
SYSCALL(munmap) { return unmap(p, a0, a1); }
SYSCALL(mprotect) { return protect(p, a0, a1, (int)a2); }
SYSCALL(madvise) { return (a0 & (PAGE - 1)) ? -EINVAL : 0; }   /* advice taken and not acted on */
