/*
 * The block cache: a fixed number of blocks in the caller's memory,
 * least-recently-used replacement, write-back.  A dirty block reaches the
 * disk when it is evicted or at e2_cache_writeback; if that write fails the
 * block stays dirty (and cached) and the error is returned.
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
    size_t n = bytes / (sizeof(struct ext2_cbuf) + fs->bs);
    if (n < EXT2_CACHE_MIN)
        return EXT2_EINVAL;
    if (n > 0xFFFFFFFFu)
        n = 0xFFFFFFFFu;
    fs->cb = (struct ext2_cbuf *)start;
    fs->cdata = (uint8_t *)(((uintptr_t)(fs->cb + n) + 63) & ~(uintptr_t)63);
    fs->ncache = (uint32_t)n;
    fs->stamp = 0;
    memset(fs->cb, 0, n * sizeof(struct ext2_cbuf));
    return 0;
}

static uint8_t *data_of(struct ext2_fs *fs, uint32_t i) { return fs->cdata + (size_t)i * fs->bs; }

static int write_entry(struct ext2_fs *fs, uint32_t i)
{
    uint32_t spb = fs->bs / 512;
    int rc = e2_dev_write(fs, (uint64_t)fs->cb[i].blk * spb, spb, data_of(fs, i));
    if (rc == 0)
        fs->cb[i].dirty = 0;
    return rc;
}

/* Block numbers are checked here, once for every path that reads the
 * disk: block 0 and blocks past the end are never metadata or data. */
int e2_bget(struct ext2_fs *fs, uint32_t blk, bool fill, uint8_t **out)
{
    if (blk == 0 || blk >= fs->blocks)
        return EXT2_EUCLEAN;
    uint32_t victim = fs->ncache;
    for (uint32_t i = 0; i < fs->ncache; i++) {
        struct ext2_cbuf *c = &fs->cb[i];
        if (c->valid && c->blk == blk) {
            c->pins++;
            c->used = ++fs->stamp;
            *out = data_of(fs, i);
            return 0;
        }
        if (c->pins)
            continue;
        if (victim == fs->ncache || !c->valid ||
            (fs->cb[victim].valid && c->used < fs->cb[victim].used))
            victim = i;
    }
    if (victim == fs->ncache)
        return EXT2_EIO;               /* every block pinned: a library bug */
    struct ext2_cbuf *c = &fs->cb[victim];
    if (c->valid && c->dirty) {
        int rc = write_entry(fs, victim);
        if (rc)
            return rc;
    }
    c->valid = 0;
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
    c->used = ++fs->stamp;
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

void e2_bdirty(struct ext2_fs *fs, uint8_t *p)
{
    fs->cb[index_of(fs, p)].dirty = 1;
}

/* Tries every dirty block even after a failure, so that one bad sector
 * does not hold back the rest; returns the first error. */
int e2_cache_writeback(struct ext2_fs *fs)
{
    int first = 0;
    for (uint32_t i = 0; i < fs->ncache; i++) {
        if (fs->cb[i].valid && fs->cb[i].dirty) {
            int rc = write_entry(fs, i);
            if (rc && !first)
                first = rc;
        }
    }
    return first;
}
