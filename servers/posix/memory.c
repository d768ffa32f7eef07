/*
 * A Linux process's memory: regions of pages made whole when mapped (no
 * demand paging yet), each page a frame of the process's chunks (or of a
 * shared image, for read-only segments: image.c) mapped
 * twice: in the process, with the rights its segment or mmap asks, and in
 * our own address space (its alias), read-write, so that system calls can
 * read and write the process's memory directly.  Both capabilities live in
 * the process's CNode (a region of n pages: ours in n slots, then its n),
 * so unmapping a page
 * is deleting them; the frame's memory comes back only when the process
 * ends (its chunks are reclaimed whole).
 */
#include "personality.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define BATCH 64                        /* pages made and mapped per invocation */
#define BRK_CHUNK (32 * PAGE)           /* the heap grows by at least this much */

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
        if ((1u << LPROC_CNODE_BITS) - p->next_slot < 1)
            return -ENOMEM;
        if (pith_invoke4(p->cnode, PITH_CNODE_MOVE, p->next_slot++, p->spare_pt, 0, 0))
            return -ENOMEM;
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
                      struct region **out);

/* Zeroed pages at [start, start + len) (page-aligned), free before. */
long mem_map(struct lproc *p, uint64_t start, uint64_t len, uint8_t rights, uint8_t kind, struct region **out)
{
    return map_pages(p, start, len, rights, kind, 0, out);
}

long mem_map_from(struct lproc *p, uint64_t start, uint64_t len, uint8_t rights, uint64_t src, struct region **out)
{
    return map_pages(p, start, len, rights, R_IMAGE, src, out);
}

static long map_pages(struct lproc *p, uint64_t start, uint64_t len, uint8_t rights, uint8_t kind, uint64_t src,
                      struct region **out)
{
    uint64_t n = len / PAGE;
    if (!n || start < 0x10000 || start + len > STACK_TOP || start + len < start)
        return -EINVAL;
    if (overlaps(p, start, start + len))
        return -EEXIST;
    if (p->next_slot + 2 * n + 8 > (1u << LPROC_CNODE_BITS))
        return -ENOMEM;
    struct region *r = region_new(p);
    if (!r)
        return -ENOMEM;
    *r = (struct region){ .start = start, .end = start, .origin = start, .alias = p->alias_next,
                          .slot = p->next_slot, .span = (uint32_t)n,
                          .rights = rights, .kind = kind, .used = true, .src = src,
                          .prot = PROT_READ | (rights & PITH_RIGHT_WRITE ? PROT_WRITE : 0) |
                                  (rights & PITH_RIGHT_EXEC ? PROT_EXEC : 0) };
    p->alias_next += len + PAGE;        /* a hole between aliases: an overrun faults in us, visibly */
    p->next_slot += 2 * (uint32_t)n;
    long err = tables_for(p, PITH_SLOT_VSPACE, r->alias, n);
    if (!err)
        err = tables_for(p, p->vspace, start, n);
    for (uint64_t done = 0; !err && done < n; done += BATCH) {
        uint64_t k = n - done < BATCH ? n - done : BATCH;
        uint64_t ours = r->slot + done, theirs = r->slot + n + done;
        long kerr;
        if (src) {
            /* A shared image: both mappings derived from the image's frames, which stay in our slots. */
            if ((kerr = pith_invoke4(PITH_SLOT_VSPACE, PITH_VSPACE_MAP, src + done, r->alias + done * PAGE,
                                     p->cnode | ours << 32, k | (uint64_t)(PITH_RIGHT_READ | PITH_RIGHT_WRITE) << 16)) ||
                (kerr = pith_invoke4(p->vspace, PITH_VSPACE_MAP, src + done, start + done * PAGE,
                                     p->cnode | theirs << 32, k | (uint64_t)rights << 16))) {
                printf("posix: pid %u: mapping %lu shared pages at %#lx failed (error %ld)\n", p->pid, k,
                       start + done * PAGE, kerr);
                err = -ENOMEM;
            } else
                r->end += k * PAGE;
            continue;
        }
        kerr = lproc_retype(p, PITH_OBJ_FRAME, temp_slots, k);
        if (kerr) {
            printf("posix: pid %u: no memory for %lu pages (error %ld)\n", p->pid, k, kerr);
            err = -ENOMEM;
            break;
        }
        /* Ours first (children of the frames), then the frames themselves go to the process, mapped there. */
        if ((kerr = pith_invoke4(PITH_SLOT_VSPACE, PITH_VSPACE_MAP, temp_slots, r->alias + done * PAGE,
                                 p->cnode | ours << 32, k | (uint64_t)(PITH_RIGHT_READ | PITH_RIGHT_WRITE) << 16)) ||
            (kerr = pith_invoke4(p->vspace, PITH_VSPACE_GRANT, temp_slots, start + done * PAGE,
                                 p->cnode | theirs << 32, k | (uint64_t)rights << 16))) {
            printf("posix: pid %u: mapping %lu pages at %#lx failed (error %ld)\n", p->pid, k, start + done * PAGE, kerr);
            err = -ENOMEM;
        } else
            r->end += k * PAGE;
        for (uint64_t j = 0; j < k; j++)
            pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, temp_slots + j, 0, 0, 0);
    }
    if (err) {
        if (r->end > r->start)
            mem_unmap(p, r->start, r->end - r->start);
        else
            r->used = false;
        return err;
    }
    if (out)
        *out = r;
    return 0;
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
        for (uint64_t va = a; va < b; va += PAGE) {
            uint64_t s = r->slot + (va - r->origin) / PAGE;
            pith_invoke4(p->cnode, PITH_CNODE_DELETE, s + r->span, 0, 0, 0);
            pith_invoke4(p->cnode, PITH_CNODE_DELETE, s, 0, 0, 0);
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
        struct region *r = mem_find(p, src);
        if (!r)
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
        struct region *r = mem_find(p, dst);
        if (!r || r->src)
            return -EFAULT;             /* a shared image's pages are read-only for everyone */
        uint64_t n = r->end - dst < len ? r->end - dst : len;
        memcpy((char *)(r->alias + (dst - r->origin)), s, n);
        s += n, dst += n, len -= n;
    }
    return 0;
}

void *mem_ptr(struct lproc *p, uint64_t addr, uint64_t len)
{
    struct region *r = mem_find(p, addr);
    if (!r || r->end - addr < len)
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
        if (mem_map(p, p->brk_mapped, len, PITH_RIGHT_READ | PITH_RIGHT_WRITE, R_BRK, NULL)) {
            len = want - p->brk_mapped; /* no room for the chunk: exactly what was asked */
            if (mem_map(p, p->brk_mapped, len, PITH_RIGHT_READ | PITH_RIGHT_WRITE, R_BRK, NULL))
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
    if ((flags & MAP_SHARED) && !(flags & MAP_ANONYMOUS))
        return -ENODEV;                 /* shared file mappings: not yet (docs/posix.md) */
    len = (len + PAGE - 1) & ~(PAGE - 1);
    if (flags & MAP_FIXED)
        mem_unmap(p, addr, len);
    else if (!addr || overlaps(p, addr, addr + len) || addr < MMAP_BASE)
        addr = mem_gap(p, len);
    if (!addr)
        return -ENOMEM;
    uint8_t rights = PITH_RIGHT_READ;
    if ((prot & PROT_EXEC) && !(prot & PROT_WRITE))
        rights |= PITH_RIGHT_EXEC;
    else
        rights |= PITH_RIGHT_WRITE;     /* PROT_NONE and read-only too: mprotect only records (docs/posix.md) */
    struct region *r;
    long err = mem_map(p, addr, len, rights, R_MMAP, &r);
    if (err)
        return err == -EEXIST ? -ENOMEM : err;
    r->prot = (uint8_t)prot;
    if (!(flags & MAP_ANONYMOUS)) {
        /* A private file mapping: a copy of the file's bytes, zeroes past its end. */
        if (fd < 0 || fd >= FD_MAX || !p->fds[fd].of || p->fds[fd].of->kind != FD_FILE) {
            mem_unmap(p, addr, len);
            return -EBADF;
        }
        uint64_t done;
        err = fsio_read(p->fds[fd].of->ino, p->fds[fd].of->gen, off, (void *)r->alias, len, &done);
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
 * old pages' memory, like munmap's, comes back at the process's end.
 */
static long remap(struct lproc *p, uint64_t old, uint64_t old_len, uint64_t new_len, uint64_t flags, uint64_t to)
{
    if ((old & (PAGE - 1)) || !new_len || (flags & ~(uint64_t)(L_MREMAP_MAYMOVE | L_MREMAP_FIXED)) ||
        ((flags & L_MREMAP_FIXED) && (!(flags & L_MREMAP_MAYMOVE) || (to & (PAGE - 1)))) || !old_len)
        return -EINVAL;
    old_len = (old_len + PAGE - 1) & ~(PAGE - 1);
    new_len = (new_len + PAGE - 1) & ~(PAGE - 1);
    struct region *r = mem_find(p, old);
    if (!r || r->src || r->kind == R_STACK)
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
        long err = mem_map(p, old + old_len, new_len - old_len, rights, R_MMAP, &n);
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
    long err = mem_map(p, to, new_len, rights, R_MMAP, &n);
    if (err)
        return err == -EEXIST ? -ENOMEM : err;
    n->prot = prot;
    mem_read(p, (void *)n->alias, old, old_len < new_len ? old_len : new_len);
    mem_unmap(p, old, old_len);
    return (long)to;
}

SYSCALL(mremap) { return remap(p, a0, a1, a2, a3, a4); }
SYSCALL(brk) { return brk_to(p, a0); }
SYSCALL(mmap) { return map_anywhere(p, a0, a1, (int)a2, (int)a3, (int)a4, a5); }
SYSCALL(munmap) { return unmap(p, a0, a1); }
SYSCALL(mprotect) { return protect(p, a0, a1, (int)a2); }
SYSCALL(madvise) { return (a0 & (PAGE - 1)) ? -EINVAL : 0; }   /* advice taken and not acted on */
