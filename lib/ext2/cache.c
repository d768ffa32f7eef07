/*
 * The block cache: a fixed number of blocks in the caller's memory,
 * least-recently-used replacement, write-back.  Dirty blocks reach the
 * disk only through e2_cache_writeback, which writes them class by class
 * in the order of ext2_int.h (docs/ext2.md, "Crash safety").  Eviction
 * takes the least recently used clean block; when every unpinned block is
 * dirty it first runs a whole write-back, so a block is never written out
 * of order.  A write that fails leaves its block dirty (and cached) and
 * the error is returned.
 */
#include "ext2_int.h"

int e2_dev_read(struct ext2_fs *fs, uint64_t sector, uint32_t count, void *buf)
{
    if (sector > fs->dev.sectors || count > fs->dev.sectors - sector)
        return EXT2_EIO;
    return fs->dev.read(fs->dev.ctx, sector, count, buf) ? EXT2_EIO : 0;
}

int e2_dev_write(struct ext2_fs *fs, uint64_t sector, uint32_t count, const void *buf)
{
    if (sector > fs->dev.sectors || count > fs->dev.sectors - sector)
        return EXT2_EIO;
    return fs->dev.write(fs->dev.ctx, sector, count, buf) ? EXT2_EIO : 0;
}

/* The bookkeeping array comes first, then the block data, 64-byte aligned. */
int e2_cache_init(struct ext2_fs *fs, void *mem, size_t bytes)
{
    uintptr_t start = ((uintptr_t)mem + 7) & ~(uintptr_t)7;
    if (!mem || bytes < (start - (uintptr_t)mem) + 64)
        return EXT2_EINVAL;
    bytes -= (start - (uintptr_t)mem) + 64;
    size_t n = bytes / (sizeof(struct ext2_cbuf) + sizeof(uint32_t) + fs->bs);
    if (n < EXT2_CACHE_MIN)
        return EXT2_EINVAL;
    if (n > 0x7FFFFFFFu)
        n = 0x7FFFFFFFu;
    /* Hash buckets: the largest power of two not above n (at most one word per block). */
    uint32_t buckets = 1;
    while ((size_t)buckets * 2 <= n)
        buckets *= 2;
    fs->cb = (struct ext2_cbuf *)start;
    fs->hash = (uint32_t *)(fs->cb + n);
    fs->cdata = (uint8_t *)(((uintptr_t)(fs->hash + buckets) + 63) & ~(uintptr_t)63);
    fs->ncache = (uint32_t)n;
    fs->hmask = buckets - 1;
    fs->hand = 0;
    memset(fs->cb, 0, n * sizeof(struct ext2_cbuf));
    for (uint32_t b = 0; b < buckets; b++)
        fs->hash[b] = fs->ncache;
    return 0;
}

/* Lookups go through a hash of block numbers, so a hit costs the same
 * whatever the cache's size. */
static uint32_t *bucket(struct ext2_fs *fs, uint32_t blk)
{
    return &fs->hash[(blk * 2654435761u) >> 7 & fs->hmask];
}

static uint32_t find(struct ext2_fs *fs, uint32_t blk)
{
    uint32_t i = *bucket(fs, blk);
    while (i != fs->ncache && fs->cb[i].blk != blk)
        i = fs->cb[i].hnext;
    return i;
}

static void unhash(struct ext2_fs *fs, uint32_t i)
{
    uint32_t *link = bucket(fs, fs->cb[i].blk);
    while (*link != i)
        link = &fs->cb[*link].hnext;
    *link = fs->cb[i].hnext;
}

static void rehash(struct ext2_fs *fs, uint32_t i)
{
    uint32_t *head = bucket(fs, fs->cb[i].blk);
    fs->cb[i].hnext = *head;
    *head = i;
}

static uint8_t *data_of(struct ext2_fs *fs, uint32_t i) { return fs->cdata + (size_t)i * fs->bs; }

static int write_raw(struct ext2_fs *fs, uint32_t i, const uint8_t *data)
{
    uint32_t spb = fs->bs / 512;
    return e2_dev_write(fs, (uint64_t)fs->cb[i].blk * spb, spb, data);
}

static int write_entry(struct ext2_fs *fs, uint32_t i)
{
    int rc = write_raw(fs, i, data_of(fs, i));
    if (rc == 0)
        fs->cb[i].dirty = 0;
    return rc;
}

/* An empty entry, or a clean unpinned block not used since the clock
 * hand last passed it (second chance: a used one loses its mark and
 * waits for the next round); ncache if two rounds find none. */
static uint32_t pick_victim(struct ext2_fs *fs)
{
    for (uint32_t steps = 0; steps < 2 * fs->ncache; steps++) {
        uint32_t i = fs->hand;
        fs->hand = i + 1 == fs->ncache ? 0 : i + 1;
        struct ext2_cbuf *c = &fs->cb[i];
        if (!c->valid)
            return i;
        if (c->pins || c->dirty)
            continue;
        if (!c->ref)
            return i;
        c->ref = 0;
    }
    return fs->ncache;
}

/* Block numbers are checked here, once for every path that reads the
 * disk: block 0 and blocks past the end are never metadata or data. */
int e2_bget(struct ext2_fs *fs, uint32_t blk, bool fill, uint8_t **out)
{
    if (blk == 0 || blk >= fs->blocks)
        return EXT2_EUCLEAN;
    uint32_t hit = find(fs, blk);
    if (hit != fs->ncache) {
        fs->cb[hit].pins++;
        fs->cb[hit].ref = 1;
        *out = data_of(fs, hit);
        return 0;
    }
    uint32_t victim = pick_victim(fs);
    if (victim == fs->ncache) {
        /* Every unpinned block is dirty: write them all back, in order. */
        int rc = e2_cache_writeback(fs);
        if (rc)
            return rc;
        victim = pick_victim(fs);
        if (victim == fs->ncache)
            return EXT2_EIO;           /* every block pinned: a library bug */
    }
    struct ext2_cbuf *c = &fs->cb[victim];
    if (c->valid)
        unhash(fs, victim);
    c->valid = 0;
    c->fresh = 0;
    if (fill) {
        uint32_t spb = fs->bs / 512;
        int rc = e2_dev_read(fs, (uint64_t)blk * spb, spb, data_of(fs, victim));
        if (rc)
            return rc;
    }
    c->valid = 1;
    c->dirty = 0;
    c->blk = blk;
    c->pins = 1;
    c->ref = 1;
    rehash(fs, victim);
    *out = data_of(fs, victim);
    return 0;
}

static uint32_t index_of(struct ext2_fs *fs, uint8_t *p)
{
    return (uint32_t)((size_t)(p - fs->cdata) / fs->bs);
}

void e2_bput(struct ext2_fs *fs, uint8_t *p)
{
    struct ext2_cbuf *c = &fs->cb[index_of(fs, p)];
    if (c->pins)
        c->pins--;
}

/* Records what the block is, for the order of write-back.  A block that
 * gets a later class (an inode-table block that now holds a new inode)
 * keeps the later one. */
void e2_bdirty(struct ext2_fs *fs, uint8_t *p, int cls)
{
    struct ext2_cbuf *c = &fs->cb[index_of(fs, p)];
    if (!c->dirty || cls > c->cls) {
        c->cls = (uint8_t)cls;
        c->seq = ++fs->dseq;
    }
    c->dirty = 1;
}

/* A directory block just allocated: until its entries' inodes are on disk
 * it is written with only "." and ".." (see write_template). */
void e2_bfresh(struct ext2_fs *fs, uint8_t *p)
{
    fs->cb[index_of(fs, p)].fresh = 1;
}

/* A freed block's contents no longer matter: it is never written. */
void e2_bforget(struct ext2_fs *fs, uint32_t blk)
{
    uint32_t i = find(fs, blk);
    if (i == fs->ncache)
        return;
    struct ext2_cbuf *c = &fs->cb[i];
    c->dirty = 0;
    c->fresh = 0;
    if (!c->pins) {
        unhash(fs, i);
        c->valid = 0;
    }
}

/* A new directory block as first written, before the inodes it names are
 * on disk: "." and ".." are kept, every other entry is folded into the
 * entry before it (or emptied, when first in the block).  The directory
 * may point at this block as soon as its inode is written; the real
 * entries follow in the directory pass.  Returns whether anything was
 * left out. */
static bool template_of(struct ext2_fs *fs, const uint8_t *src, uint8_t *dst)
{
    memcpy(dst, src, fs->bs);
    bool masked = false;
    uint32_t prev = 0xFFFFFFFFu;
    for (uint32_t off = 0; off + 8 <= fs->bs;) {
        uint32_t rec = ld16(dst + off + 4), nlen = dst[off + 6];
        if (rec < 8 || rec % 4 || rec > fs->bs - off)
            break;                      /* not ours to judge: left as it is */
        const char *n = (const char *)dst + off + 8;
        bool dot = nlen <= 2 && nlen >= 1 && n[0] == '.' && (nlen == 1 || n[1] == '.');
        if (ld32(dst + off) && !dot) {
            masked = true;
            if (prev != 0xFFFFFFFFu) {
                st16(dst + prev + 4, (uint16_t)(ld16(dst + prev + 4) + rec));
                off += rec;
                continue;
            }
            st32(dst + off, 0);
        }
        prev = off;
        off += rec;
    }
    return masked;
}

/* An inode-table block as written in the first phase: an inode whose link
 * count went down (or that was freed) since the last sync still shows the
 * highest count it had, alive, until the directory entries that named it
 * are gone from the disk.  Returns whether anything was changed. */
static bool patch_inodes(struct ext2_fs *fs, uint32_t blk, const uint8_t *src, uint8_t *dst)
{
    bool any = false;
    for (uint32_t k = 0; k < fs->npino; k++) {
        struct ext2_pend_inode *e = &fs->pino[k];
        if (e->blk != blk)
            continue;
        if (!any)
            memcpy(dst, src, fs->bs);
        any = true;
        uint8_t *in = dst + e->off;
        if (ld16(in + offsetof(struct ext2_inode, i_links_count)) < e->links)
            st16(in + offsetof(struct ext2_inode, i_links_count), e->links);
        if (e->free)
            st32(in + offsetof(struct ext2_inode, i_dtime), 0);
    }
    return any;
}

/* Writes every dirty block of class cls; in the first phase fresh
 * directory blocks go as templates in the data pass and inode-table
 * blocks are patched.  Blocks of the class that holds new inodes go in the
 * order they were dirtied (a directory made inside a directory made in the
 * same interval follows its parent).  Tries every block of the class even
 * after a failure; returns the first error and, in *wrote, whether
 * anything was written. */
static int write_class(struct ext2_fs *fs, int cls, bool *wrote)
{
    int first = 0;
    bool phase1 = !fs->phase2;
    uint64_t after = 0;
    for (;;) {
        uint32_t pick = fs->ncache;
        for (uint32_t i = 0; i < fs->ncache; i++) {
            struct ext2_cbuf *c = &fs->cb[i];
            if (!c->valid || !c->dirty)
                continue;
            bool mine = c->cls == cls ||
                        (phase1 && cls == E2_DATA && c->fresh && c->cls >= E2_DIR && c->cls <= E2_DIR_LATE);
            if (!mine || c->seq <= after)
                continue;
            if (cls != E2_INODE_NEW) {
                pick = i;
                break;
            }
            if (pick == fs->ncache || c->seq < fs->cb[pick].seq)
                pick = i;
        }
        if (pick == fs->ncache)
            return first;
        struct ext2_cbuf *c = &fs->cb[pick];
        int rc;
        if (cls == E2_INODE_NEW)
            after = c->seq;
        else
            c->seq = 0;                 /* done for this pass (seq 0 is never "after") */
        if (cls == E2_DATA && c->cls != E2_DATA) {
            bool masked = template_of(fs, data_of(fs, pick), fs->scratch);
            rc = write_raw(fs, pick, fs->scratch);
            if (rc == 0) {
                c->fresh = 0;
                if (!masked)
                    c->dirty = 0;
            }
        } else if (phase1 && (cls == E2_INODE || cls == E2_INODE_NEW) &&
                   patch_inodes(fs, c->blk, data_of(fs, pick), fs->scratch)) {
            rc = write_raw(fs, pick, fs->scratch);  /* stays dirty for phase 2 */
        } else {
            rc = write_entry(fs, pick);
        }
        if (rc && !first)
            first = rc;
        if (rc == 0)
            *wrote = true;
    }
}

static int flush_dev(struct ext2_fs *fs)
{
    if (fs->dev.flush && fs->dev.flush(fs->dev.ctx))
        return EXT2_EIO;
    return 0;
}

/* One ordered pass over the dirty blocks, flushing the device between
 * classes so that no later class can reach the disk before an earlier
 * one.  A class that fails stops the pass: what depends on it waits. */
int e2_cache_writeback(struct ext2_fs *fs)
{
    static const uint8_t order1[] = { E2_BITMAP, E2_DATA, E2_INODE, E2_INODE_NEW, E2_DIR,
                                      E2_DIR_LATE, E2_META };
    /* Phase 2 frees: the inodes (dead now) before the bitmaps. */
    static const uint8_t order2[] = { E2_DATA, E2_INODE, E2_INODE_NEW, E2_DIR, E2_DIR_LATE,
                                      E2_BITMAP, E2_META };
    const uint8_t *order = fs->phase2 ? order2 : order1;
    for (int k = 0; k < E2_NCLASS; k++) {
        /* seq 0 marks "written in this pass"; give the others back a stamp */
        bool wrote = false;
        int rc = write_class(fs, order[k], &wrote);
        for (uint32_t i = 0; i < fs->ncache; i++)
            if (fs->cb[i].valid && fs->cb[i].dirty && fs->cb[i].seq == 0)
                fs->cb[i].seq = ++fs->dseq;
        if (rc)
            return rc;
        if (wrote && (rc = flush_dev(fs)))
            return rc;
    }
    return 0;
}
