/*
 * Directories: linear lists of entries in whole blocks.  Every entry is
 * checked before it is used (rec_len a multiple of 4, at least 8 bytes
 * plus the name, inside the block; inode number in range), so every walk
 * ends at the block's end.  htree-indexed directories read the same way
 * (their index blocks look like empty entries); changing one clears its
 * index flag, as Linux's ext2 does, so the stale index is never trusted.
 */
#include "ext2_int.h"

struct entry {
    uint32_t ino, rec, nlen;
    uint8_t type;
};

static int check_entry(struct ext2_fs *fs, const uint8_t *b, uint32_t off, struct entry *e)
{
    if (off + 8 > fs->bs)
        return EXT2_EUCLEAN;
    e->ino = ld32(b + off);
    e->rec = ld16(b + off + 4);
    e->nlen = b[off + 6];
    e->type = fs->filetype ? b[off + 7] : 0;
    if (!fs->filetype && b[off + 7])
        return EXT2_EUCLEAN;            /* a name longer than 255 */
    if (e->rec < 8 || e->rec % 4 || e->rec > fs->bs - off || e->rec < EXT2_DIR_REC_LEN(e->nlen) ||
        e->ino > fs->inodes)
        return EXT2_EUCLEAN;
    return 0;
}

static void put_entry(struct ext2_fs *fs, uint8_t *b, uint32_t off, uint32_t ino, uint32_t rec,
                      const char *name, size_t len, uint8_t type)
{
    st32(b + off, ino);
    st16(b + off + 4, (uint16_t)rec);
    b[off + 6] = (uint8_t)len;
    b[off + 7] = fs->filetype ? type : 0;
    memcpy(b + off + 8, name, len);
}

static int open_dir(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *din)
{
    if (!fs->mounted)
        return EXT2_EINVAL;
    int rc = e2_inode_read(fs, ino, din);
    if (rc)
        return rc;
    if (din->i_links_count == 0)
        return EXT2_ENOENT;
    if (!is_dir(din))
        return EXT2_ENOTDIR;
    if (din->i_size % fs->bs)
        return EXT2_EUCLEAN;
    return 0;
}

/* A directory block; a hole inside a directory is corruption. */
static int dir_block(struct ext2_fs *fs, struct ext2_inode *din, uint32_t lblk, uint32_t *pblk,
                     uint8_t **b)
{
    int rc = e2_inode_bmap(fs, 0, din, lblk, false, pblk, NULL);
    if (rc)
        return rc;
    if (*pblk == 0)
        return EXT2_EUCLEAN;
    return e2_bget(fs, *pblk, true, b);
}

/* Where a name's entry is: its block, its offset and the previous
 * entry's offset (NO_PREV when it is the block's first). */
#define NO_PREV 0xFFFFFFFFu
struct slot {
    uint32_t pblk, off, prev, ino;
};

static int find_slot(struct ext2_fs *fs, struct ext2_inode *din, const char *name, size_t len,
                     struct slot *s)
{
    uint32_t nblocks = din->i_size / fs->bs;
    for (uint32_t l = 0; l < nblocks; l++) {
        uint8_t *b;
        uint32_t pblk;
        int rc = dir_block(fs, din, l, &pblk, &b);
        if (rc)
            return rc;
        uint32_t prev = NO_PREV;
        for (uint32_t off = 0; off < fs->bs;) {
            struct entry e;
            if ((rc = check_entry(fs, b, off, &e))) {
                e2_bput(fs, b);
                return rc;
            }
            if (e.ino && e.nlen == len && memcmp(b + off + 8, name, len) == 0) {
                *s = (struct slot){ pblk, off, prev, e.ino };
                e2_bput(fs, b);
                return 0;
            }
            prev = off;
            off += e.rec;
        }
        e2_bput(fs, b);
    }
    return EXT2_ENOENT;
}

int e2_dir_find(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len, uint32_t *ino)
{
    struct ext2_inode din;
    struct slot s;
    int rc = open_dir(fs, dir, &din);
    if (rc)
        return rc;
    if (len == 0 || len > EXT2_NAME_MAX)
        return len ? EXT2_ENAMETOOLONG : EXT2_ENOENT;
    if ((rc = find_slot(fs, &din, name, len, &s)))
        return rc;
    if (s.ino < EXT2_ROOT_INO)
        return EXT2_EUCLEAN;
    *ino = s.ino;
    return 0;
}

int ext2_lookup(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len, uint32_t *ino)
{
    return e2_dir_find(fs, dir, name, len, ino);
}

/* After a change: new times, and no index to go stale. */
static int dir_changed(struct ext2_fs *fs, uint32_t dir, struct ext2_inode *din)
{
    din->i_mtime = din->i_ctime = fs->now;
    din->i_flags &= ~EXT2_INDEX_FL;
    return e2_inode_write(fs, dir, din);
}

int e2_dir_add(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len, uint32_t ino,
            uint8_t type)
{
    struct ext2_inode din;
    int rc = open_dir(fs, dir, &din);
    if (rc)
        return rc;
    uint32_t need = EXT2_DIR_REC_LEN(len), nblocks = din.i_size / fs->bs;
    /* First fit: an unused entry big enough, or the slack after one. */
    for (uint32_t l = 0; l < nblocks; l++) {
        uint8_t *b;
        uint32_t pblk;
        if ((rc = dir_block(fs, &din, l, &pblk, &b)))
            return rc;
        for (uint32_t off = 0; off < fs->bs;) {
            struct entry e;
            if ((rc = check_entry(fs, b, off, &e))) {
                e2_bput(fs, b);
                return rc;
            }
            uint32_t used = e.ino ? EXT2_DIR_REC_LEN(e.nlen) : 0;
            if (e.rec - used >= need) {
                if (used) {
                    st16(b + off + 4, (uint16_t)used);
                    put_entry(fs, b, off + used, ino, e.rec - used, name, len, type);
                } else {
                    put_entry(fs, b, off, ino, e.rec, name, len, type);
                }
                e2_bdirty(fs, b, fs->dir_late ? E2_DIR_LATE : E2_DIR);
                e2_bput(fs, b);
                return dir_changed(fs, dir, &din);
            }
            off += e.rec;
        }
        e2_bput(fs, b);
    }
    /* No room: one more block, holding just this entry. */
    if ((uint64_t)din.i_size + fs->bs > 0x7FFFFFFFu)
        return EXT2_ENOSPC;
    uint32_t pblk;
    uint8_t *b;
    rc = e2_inode_bmap(fs, dir, &din, nblocks, true, &pblk, NULL);
    if (rc == 0 && (rc = e2_bget(fs, pblk, false, &b)) == 0) {
        memset(b, 0, fs->bs);
        put_entry(fs, b, 0, ino, fs->bs, name, len, type);
        e2_bfresh(fs, b);
        e2_bdirty(fs, b, fs->dir_late ? E2_DIR_LATE : E2_DIR);
        e2_bput(fs, b);
        din.i_size += fs->bs;
    }
    int wrc = dir_changed(fs, dir, &din);
    return rc ? rc : wrc;
}

int e2_dir_remove(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len)
{
    struct ext2_inode din;
    struct slot s;
    int rc = open_dir(fs, dir, &din);
    if (rc || (rc = find_slot(fs, &din, name, len, &s)))
        return rc;
    uint8_t *b;
    if ((rc = e2_bget(fs, s.pblk, true, &b)))
        return rc;
    /* The first entry of a block is only emptied; any other is merged
     * into the one before it. */
    if (s.prev == NO_PREV)
        st32(b + s.off, 0);
    else
        st16(b + s.prev + 4, (uint16_t)(ld16(b + s.prev + 4) + ld16(b + s.off + 4)));
    e2_bdirty(fs, b, fs->dir_late ? E2_DIR_LATE : E2_DIR);
    e2_bput(fs, b);
    return dir_changed(fs, dir, &din);
}

int e2_dir_set(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len, uint32_t ino,
            uint8_t type)
{
    struct ext2_inode din;
    struct slot s;
    int rc = open_dir(fs, dir, &din);
    if (rc || (rc = find_slot(fs, &din, name, len, &s)))
        return rc;
    uint8_t *b;
    if ((rc = e2_bget(fs, s.pblk, true, &b)))
        return rc;
    st32(b + s.off, ino);
    if (fs->filetype)
        b[s.off + 7] = type;
    e2_bdirty(fs, b, fs->dir_late ? E2_DIR_LATE : E2_DIR);
    e2_bput(fs, b);
    return dir_changed(fs, dir, &din);
}

int e2_dir_empty(struct ext2_fs *fs, uint32_t dir, bool *empty)
{
    struct ext2_inode din;
    int rc = open_dir(fs, dir, &din);
    if (rc)
        return rc;
    *empty = true;
    uint32_t nblocks = din.i_size / fs->bs;
    for (uint32_t l = 0; l < nblocks && *empty; l++) {
        uint8_t *b;
        uint32_t pblk;
        if ((rc = dir_block(fs, &din, l, &pblk, &b)))
            return rc;
        for (uint32_t off = 0; off < fs->bs;) {
            struct entry e;
            if ((rc = check_entry(fs, b, off, &e))) {
                e2_bput(fs, b);
                return rc;
            }
            const char *n = (const char *)b + off + 8;
            bool dot = (e.nlen == 1 && n[0] == '.') || (e.nlen == 2 && n[0] == '.' && n[1] == '.');
            if (e.ino && !dot)
                *empty = false;
            off += e.rec;
        }
        e2_bput(fs, b);
    }
    return 0;
}

/* A new directory's first block: "." and "..". */
int e2_dir_init(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in, uint32_t parent)
{
    uint32_t pblk;
    uint8_t *b;
    int rc = e2_inode_bmap(fs, ino, in, 0, true, &pblk, NULL);
    if (rc || (rc = e2_bget(fs, pblk, false, &b)))
        return rc;
    memset(b, 0, fs->bs);
    put_entry(fs, b, 0, ino, 12, ".", 1, EXT2_FT_DIR);
    put_entry(fs, b, 12, parent, fs->bs - 12, "..", 2, EXT2_FT_DIR);
    e2_bfresh(fs, b);
    e2_bdirty(fs, b, fs->dir_late ? E2_DIR_LATE : E2_DIR);
    e2_bput(fs, b);
    in->i_size = fs->bs;
    return 0;
}

int ext2_readdir(struct ext2_fs *fs, uint32_t dir, uint64_t *cookie, struct ext2_dirent *out)
{
    struct ext2_inode din;
    int rc = open_dir(fs, dir, &din);
    if (rc)
        return rc;
    out->ino = 0;
    out->name_len = 0;
    out->name[0] = 0;
    uint32_t nblocks = din.i_size / fs->bs;
    /* The cookie is a byte offset; an entry is found again by walking its
     * block from the start, so a stale cookie cannot land mid-entry. */
    while (*cookie / fs->bs < nblocks) {
        uint32_t l = (uint32_t)(*cookie / fs->bs), from = (uint32_t)(*cookie % fs->bs);
        uint8_t *b;
        uint32_t pblk;
        if ((rc = dir_block(fs, &din, l, &pblk, &b)))
            return rc;
        for (uint32_t off = 0; off < fs->bs;) {
            struct entry e;
            if ((rc = check_entry(fs, b, off, &e))) {
                e2_bput(fs, b);
                return rc;
            }
            if (off >= from && e.ino) {
                out->ino = e.ino;
                out->type = e.type;
                out->name_len = (uint8_t)e.nlen;
                memcpy(out->name, b + off + 8, e.nlen);
                out->name[e.nlen] = 0;
                *cookie = (uint64_t)l * fs->bs + off + e.rec;
                e2_bput(fs, b);
                return 0;
            }
            off += e.rec;
        }
        e2_bput(fs, b);
        *cookie = (uint64_t)(l + 1) * fs->bs;
    }
    return 0;
}
