/*
 * File contents: read, write, truncate.  The bytes of a file's last block
 * past its size are kept zero (truncate clears them), so that growing a
 * file never exposes old data.
 */
#include "ext2_int.h"

int e2_file_read(struct ext2_fs *fs, struct ext2_inode *in, uint64_t off, void *buf,
              size_t len, size_t *done)
{
    uint64_t size = e2_inode_size(in);
    *done = 0;
    if (off >= size)
        return 0;
    if (len > size - off)
        len = (size_t)(size - off);
    uint8_t *dst = buf;
    while (*done < len) {
        uint64_t pos = off + *done;
        uint32_t in_blk = (uint32_t)(pos % fs->bs);
        size_t n = fs->bs - in_blk;
        if (n > len - *done)
            n = len - *done;
        uint32_t pblk;
        int rc = e2_inode_bmap(fs, 0, in, pos / fs->bs, false, &pblk, NULL);
        if (rc)
            return *done ? 0 : rc;
        if (pblk == 0) {
            memset(dst + *done, 0, n);
        } else {
            uint8_t *b;
            if ((rc = e2_bget(fs, pblk, true, &b)))
                return *done ? 0 : rc;
            memcpy(dst + *done, b + in_blk, n);
            e2_bput(fs, b);
        }
        *done += n;
    }
    return 0;
}

/* Writes without looking at the file type (symlink targets use it too). */
int e2_file_write(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in, uint64_t off,
               const void *buf, size_t len, size_t *done)
{
    uint64_t max = e2_inode_max_size(fs);
    *done = 0;
    if (off > max || len > max - off)
        return EXT2_EFBIG;
    const uint8_t *src = buf;
    int rc = 0;
    while (*done < len) {
        uint64_t pos = off + *done;
        uint32_t in_blk = (uint32_t)(pos % fs->bs);
        size_t n = fs->bs - in_blk;
        if (n > len - *done)
            n = len - *done;
        uint32_t pblk;
        bool fresh;
        if ((rc = e2_inode_bmap(fs, ino, in, pos / fs->bs, true, &pblk, &fresh)))
            break;
        /* A whole block, or a new one, need not be read first. */
        bool whole = n == fs->bs;
        uint8_t *b;
        if ((rc = e2_bget(fs, pblk, !(whole || fresh), &b))) {
            /* A new block that cannot be filled must not stay mapped. */
            if (fresh && e2_inode_free_range(fs, in, pos / fs->bs, pos / fs->bs + 1) == E2_AGAIN &&
                e2_sync(fs) == 0)
                e2_inode_free_range(fs, in, pos / fs->bs, pos / fs->bs + 1);
            break;
        }
        if (fresh && !whole)
            memset(b, 0, fs->bs);
        memcpy(b + in_blk, src + *done, n);
        e2_bdirty(fs, b, E2_DATA);
        e2_bput(fs, b);
        *done += n;
    }
    if (*done && off + *done > e2_inode_size(in))
        e2_inode_set_size(in, off + *done);
    if (*done)
        in->i_mtime = in->i_ctime = fs->now;
    int wrc = e2_inode_write(fs, ino, in);
    if (*done)
        return wrc;
    return rc ? rc : wrc;
}

static int open_file(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in, bool write)
{
    if (!fs->mounted)
        return EXT2_EINVAL;
    if (write && fs->ro)
        return EXT2_EROFS;
    int rc = e2_inode_read(fs, ino, in);
    if (rc)
        return rc;
    if (in->i_links_count == 0)
        return EXT2_ENOENT;
    if (is_dir(in))
        return EXT2_EISDIR;
    if (!is_reg(in))
        return EXT2_EINVAL;
    return 0;
}

int ext2_read(struct ext2_fs *fs, uint32_t ino, uint64_t off, void *buf, size_t len, size_t *done)
{
    struct ext2_inode in;
    *done = 0;
    int rc = open_file(fs, ino, &in, false);
    return rc ? rc : e2_file_read(fs, &in, off, buf, len, done);
}

int ext2_write(struct ext2_fs *fs, uint32_t ino, uint64_t off, const void *buf, size_t len,
               size_t *done)
{
    struct ext2_inode in;
    *done = 0;
    int rc = open_file(fs, ino, &in, true);
    return rc ? rc : e2_file_write(fs, ino, &in, off, buf, len, done);
}

int ext2_truncate(struct ext2_fs *fs, uint32_t ino, uint64_t size)
{
    struct ext2_inode in;
    int rc = open_file(fs, ino, &in, true);
    if (rc)
        return rc;
    if (size > e2_inode_max_size(fs))
        return EXT2_EFBIG;
    uint64_t old = e2_inode_size(&in);
    if (size < old) {
        /* Zero the kept block's tail, then free every block after it. */
        uint32_t tail = (uint32_t)(size % fs->bs);
        if (tail) {
            uint32_t pblk;
            if ((rc = e2_inode_bmap(fs, ino, &in, size / fs->bs, false, &pblk, NULL)))
                return rc;
            if (pblk) {
                uint8_t *b;
                if ((rc = e2_bget(fs, pblk, true, &b)))
                    return rc;
                memset(b + tail, 0, fs->bs - tail);
                e2_bdirty(fs, b, E2_DATA);
                e2_bput(fs, b);
            }
        }
        /* When the pending list fills, the inode as freed so far goes to
         * the cache and a sync makes room (the size stays the old one
         * meanwhile: the freed part reads as a hole). */
        while ((rc = e2_inode_free_range(fs, &in, (size + fs->bs - 1) / fs->bs, UINT64_MAX)) ==
               E2_AGAIN) {
            if ((rc = e2_inode_write(fs, ino, &in)) || (rc = e2_sync(fs)))
                break;
        }
    }
    e2_inode_set_size(&in, size);
    in.i_mtime = in.i_ctime = fs->now;
    int wrc = e2_inode_write(fs, ino, &in);
    return rc ? rc : wrc;
}
