/*
 * Inodes and their block maps: 12 direct blocks, then single, double and
 * triple indirect blocks.  i_blocks counts every block the inode owns,
 * indirect ones included, in 512-byte units.
 */
#include "ext2_int.h"

static int locate(struct ext2_fs *fs, uint32_t ino, uint32_t *blk, uint32_t *off)
{
    if (ino == 0 || ino > fs->inodes)
        return EXT2_EINVAL;
    uint32_t g = (ino - 1) / fs->ipg, idx = (ino - 1) % fs->ipg;
    struct ext2_group_desc gd;
    int rc = e2_gd_get(fs, g, &gd);
    if (rc)
        return rc;
    uint64_t byte = (uint64_t)idx * fs->isz;
    *blk = gd.bg_inode_table + (uint32_t)(byte / fs->bs);
    *off = (uint32_t)(byte % fs->bs);
    return 0;
}

int e2_inode_read(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in)
{
    uint32_t blk, off;
    uint8_t *b;
    int rc = locate(fs, ino, &blk, &off);
    if (rc || (rc = e2_bget(fs, blk, true, &b)))
        return rc;
    memcpy(in, b + off, sizeof(*in));
    e2_bput(fs, b);
    return 0;
}

/* Writes the first 128 bytes; the rest of a larger inode stays as found. */
int e2_inode_write(struct ext2_fs *fs, uint32_t ino, const struct ext2_inode *in)
{
    uint32_t blk, off;
    uint8_t *b;
    int rc = locate(fs, ino, &blk, &off);
    if (rc || (rc = e2_bget(fs, blk, true, &b)))
        return rc;
    memcpy(b + off, in, sizeof(*in));
    e2_bdirty(fs, b, E2_INODE);
    e2_bput(fs, b);
    return 0;
}

/* A new inode: the whole on-disk record is written.  Large inodes get
 * i_extra_isize 32, as mke2fs and Linux give them. */
int e2_inode_init(struct ext2_fs *fs, uint32_t ino, const struct ext2_inode *in)
{
    uint32_t blk, off;
    uint8_t *b;
    int rc = locate(fs, ino, &blk, &off);
    if (rc || (rc = e2_bget(fs, blk, true, &b)))
        return rc;
    memset(b + off, 0, fs->isz);
    memcpy(b + off, in, sizeof(*in));
    if (fs->isz >= 160)
        st16(b + off + 128, 32);
    e2_bdirty(fs, b, E2_INODE_NEW);
    e2_bput(fs, b);
    return 0;
}

uint64_t e2_inode_size(const struct ext2_inode *in)
{
    if (is_reg(in))
        return (uint64_t)in->i_size_high << 32 | in->i_size;
    return in->i_size;
}

void e2_inode_set_size(struct ext2_inode *in, uint64_t size)
{
    in->i_size = (uint32_t)size;
    if (is_reg(in))
        in->i_size_high = (uint32_t)(size >> 32);
}

/* What the block map reaches, and what i_blocks (32 bits of 512-byte
 * units) can count; without large_file, 2 GiB - 1. */
uint64_t e2_inode_max_size(struct ext2_fs *fs)
{
    uint64_t p = fs->per;
    uint64_t blocks = EXT2_NDIR_BLOCKS + p + p * p + p * p * p;
    uint64_t max = blocks * fs->bs;
    uint64_t counted = ((uint64_t)1 << 32) * 512 - (uint64_t)fs->bs * (p * p + p + 4);
    if (counted < max)
        max = counted;
    if (!(SB(fs)->s_rev_level && (SB(fs)->s_feature_ro_compat & EXT2_FEATURE_RO_COMPAT_LARGE_FILE)) &&
        max > 0x7FFFFFFFu)
        max = 0x7FFFFFFFu;
    return max;
}

bool e2_inode_fast_symlink(struct ext2_fs *fs, const struct ext2_inode *in)
{
    uint32_t ea = in->i_file_acl ? fs->bs / 512 : 0;
    return is_lnk(in) && in->i_blocks - ea == 0;
}

uint8_t e2_mode_ftype(uint16_t mode)
{
    switch (mode & EXT2_S_IFMT) {
    case EXT2_S_IFREG:  return EXT2_FT_REG;
    case EXT2_S_IFDIR:  return EXT2_FT_DIR;
    case EXT2_S_IFCHR:  return EXT2_FT_CHR;
    case EXT2_S_IFBLK:  return EXT2_FT_BLK;
    case EXT2_S_IFIFO:  return EXT2_FT_FIFO;
    case EXT2_S_IFSOCK: return EXT2_FT_SOCK;
    case EXT2_S_IFLNK:  return EXT2_FT_SYMLINK;
    default:            return EXT2_FT_UNKNOWN;
    }
}

static bool valid_data_block(struct ext2_fs *fs, uint32_t b)
{
    return b > fs->first_data && b < fs->blocks;
}

/* Allocates a block near goal for in; a zeroed one when it will hold
 * block numbers. */
static int grab(struct ext2_fs *fs, struct ext2_inode *in, uint32_t goal, bool zero, uint32_t *out)
{
    int rc = e2_block_alloc(fs, goal, out);
    if (rc)
        return rc;
    in->i_blocks += fs->bs / 512;
    if (zero) {
        uint8_t *b;
        if ((rc = e2_bget(fs, *out, false, &b))) {
            e2_block_free_now(fs, *out);    /* never stored anywhere */
            in->i_blocks -= fs->bs / 512;
            return rc;
        }
        memset(b, 0, fs->bs);
        e2_bdirty(fs, b, E2_DATA);
        e2_bput(fs, b);
    }
    return 0;
}

/* The goal for a new block: after the inode's last known block, else the
 * start of the inode's group. */
static uint32_t goal_for(struct ext2_fs *fs, uint32_t ino, uint32_t near)
{
    if (near)
        return near + 1;
    return fs->first_data + ((ino - 1) / fs->ipg) * fs->bpg;
}

/* Maps logical block lblk of inode ino to *pblk (0: a hole).  With alloc,
 * fills holes (indirect blocks zeroed; *fresh says the data block is new
 * and holds garbage).  Changes in (i_block, i_blocks); the caller writes
 * the inode back. */
int e2_inode_bmap(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in, uint64_t lblk,
               bool alloc, uint32_t *pblk, bool *fresh)
{
    uint64_t p = fs->per;
    uint32_t idx[4];
    int depth, slot;
    if (fresh)
        *fresh = false;
    *pblk = 0;
    if (lblk < EXT2_NDIR_BLOCKS) {
        slot = (int)lblk;
        depth = 0;
    } else if ((lblk -= EXT2_NDIR_BLOCKS) < p) {
        slot = EXT2_IND_BLOCK;
        depth = 1;
        idx[0] = (uint32_t)lblk;
    } else if ((lblk -= p) < p * p) {
        slot = EXT2_DIND_BLOCK;
        depth = 2;
        idx[0] = (uint32_t)(lblk / p);
        idx[1] = (uint32_t)(lblk % p);
    } else if ((lblk -= p * p) < p * p * p) {
        slot = EXT2_TIND_BLOCK;
        depth = 3;
        idx[0] = (uint32_t)(lblk / (p * p));
        idx[1] = (uint32_t)(lblk / p % p);
        idx[2] = (uint32_t)(lblk % p);
    } else {
        return EXT2_EFBIG;
    }
    uint32_t cur = in->i_block[slot];
    int rc;
    if (cur == 0) {
        if (!alloc)
            return 0;
        uint32_t near = slot > 0 ? in->i_block[slot - 1] : 0;
        if ((rc = grab(fs, in, goal_for(fs, ino, near), depth > 0, &cur)))
            return rc;
        in->i_block[slot] = cur;
        if (depth == 0 && fresh)
            *fresh = true;
    } else if (!valid_data_block(fs, cur)) {
        return EXT2_EUCLEAN;
    }
    /* Down the indirect blocks, filling holes on the way when asked. */
    for (int level = 0; level < depth; level++) {
        uint8_t *b;
        if ((rc = e2_bget(fs, cur, true, &b)))
            return rc;
        uint32_t next = ld32(b + idx[level] * 4);
        if (next == 0) {
            if (!alloc) {
                e2_bput(fs, b);
                return 0;
            }
            uint32_t near = idx[level] ? ld32(b + (idx[level] - 1) * 4) : cur;
            if (!valid_data_block(fs, near))
                near = cur;
            if ((rc = grab(fs, in, goal_for(fs, ino, near), level + 1 < depth, &next))) {
                e2_bput(fs, b);
                return rc;
            }
            st32(b + idx[level] * 4, next);
            e2_bdirty(fs, b, E2_DATA);
            if (level + 1 == depth && fresh)
                *fresh = true;
        } else if (!valid_data_block(fs, next)) {
            e2_bput(fs, b);
            return EXT2_EUCLEAN;
        }
        e2_bput(fs, b);
        cur = next;
    }
    *pblk = cur;
    return 0;
}

/* Frees the tree under *slot (depth 0: a data block) for the logical
 * blocks in [first, end); base is the first logical block *slot maps,
 * span how many it maps.  Clears *slot when nothing under it is left. */
static int free_tree(struct ext2_fs *fs, struct ext2_inode *in, uint32_t *slot, int depth,
                     uint64_t base, uint64_t span, uint64_t first, uint64_t end)
{
    uint32_t blk = *slot;
    if (blk == 0 || base + span <= first || base >= end)
        return 0;
    if (!valid_data_block(fs, blk))
        return EXT2_EUCLEAN;
    if (depth > 0) {
        uint64_t child = span / fs->per;
        uint8_t *b;
        int rc = e2_bget(fs, blk, true, &b);
        if (rc)
            return rc;
        bool any = false;
        for (uint32_t i = 0; i < fs->per; i++) {
            uint32_t c = ld32(b + i * 4);
            if (c) {
                rc = free_tree(fs, in, &c, depth - 1, base + i * child, child, first, end);
                if (rc) {
                    e2_bput(fs, b);
                    return rc;
                }
                if (c != ld32(b + i * 4)) {
                    st32(b + i * 4, c);
                    e2_bdirty(fs, b, E2_DATA);
                }
            }
            any |= c != 0;
        }
        e2_bput(fs, b);
        if (any)
            return 0;
    } else if (base < first || base >= end) {
        return 0;
    }
    int rc = e2_block_free(fs, blk);
    if (rc)
        return rc;
    in->i_blocks -= in->i_blocks >= fs->bs / 512 ? fs->bs / 512 : in->i_blocks;
    *slot = 0;
    return 0;
}

/* Frees the blocks of in that map logical blocks [first, end) (and the
 * indirect blocks left empty).  The caller writes the inode back.  Returns
 * E2_AGAIN when the pending list filled: what was freed so far is
 * recorded in in and in the indirect blocks; the caller writes the inode,
 * syncs and calls again. */
int e2_inode_free_range(struct ext2_fs *fs, struct ext2_inode *in, uint64_t first, uint64_t end)
{
    uint64_t p = fs->per;
    int rc = 0;
    for (uint32_t i = 0; i < EXT2_NDIR_BLOCKS && !rc; i++)
        rc = free_tree(fs, in, &in->i_block[i], 0, i, 1, first, end);
    uint64_t base = EXT2_NDIR_BLOCKS;
    if (!rc)
        rc = free_tree(fs, in, &in->i_block[EXT2_IND_BLOCK], 1, base, p, first, end);
    base += p;
    if (!rc)
        rc = free_tree(fs, in, &in->i_block[EXT2_DIND_BLOCK], 2, base, p * p, first, end);
    base += p * p;
    if (!rc)
        rc = free_tree(fs, in, &in->i_block[EXT2_TIND_BLOCK], 3, base, p * p * p, first, end);
    return rc;
}

/* Drops one reference to an extended-attribute block. */
static int release_xattr(struct ext2_fs *fs, struct ext2_inode *in)
{
    uint32_t blk = in->i_file_acl;
    in->i_file_acl = 0;
    if (!valid_data_block(fs, blk))
        return EXT2_EUCLEAN;
    uint8_t *b;
    int rc = e2_bget(fs, blk, true, &b);
    if (rc)
        return rc;
    uint32_t magic = ld32(b), refs = ld32(b + 4);
    if (magic != EXT2_XATTR_MAGIC) {
        e2_bput(fs, b);
        return EXT2_EUCLEAN;
    }
    if (refs > 1) {
        st32(b + 4, refs - 1);
        e2_bdirty(fs, b, E2_DATA);
        e2_bput(fs, b);
    } else {
        e2_bput(fs, b);
        if ((rc = e2_block_free(fs, blk)))
            return rc;
    }
    in->i_blocks -= in->i_blocks >= fs->bs / 512 ? fs->bs / 512 : in->i_blocks;
    return 0;
}

/* The pending entry for ino, made if need be (after a sync, when the list
 * is full).  A new entry remembers the link count the inode has now: the
 * first phase of a sync writes at least that until the entries that
 * named the inode are gone from the disk. */
static int pending_inode(struct ext2_fs *fs, uint32_t ino, struct ext2_pend_inode **out)
{
    for (uint32_t k = 0; k < fs->npino; k++) {
        if (fs->pino[k].ino == ino) {
            *out = &fs->pino[k];
            return 0;
        }
    }
    int rc;
    if (fs->npino >= fs->icap && (rc = e2_sync(fs)))
        return rc;
    uint32_t blk, off;
    struct ext2_inode in;
    if ((rc = locate(fs, ino, &blk, &off)) || (rc = e2_inode_read(fs, ino, &in)))
        return rc;
    struct ext2_pend_inode *e = &fs->pino[fs->npino++];
    *e = (struct ext2_pend_inode){ .ino = ino, .blk = blk, .off = (uint16_t)off,
                                   .links = in.i_links_count };
    *out = e;
    return 0;
}

/* Frees an inode whose last link went.  Nothing is freed yet: the inode
 * is marked dead in the cache (links 0, dtime) with its blocks still
 * mapped, and phase 2 of the next sync frees its blocks and its number
 * (e2_pending_inodes_apply), once the entries that named it are off the
 * disk. */
int e2_inode_release(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in)
{
    if (ino < fs->first_ino || ino > fs->inodes)
        return EXT2_EUCLEAN;
    struct ext2_pend_inode *e;
    int rc = pending_inode(fs, ino, &e);
    if (rc)
        return rc;
    in->i_links_count = 0;
    in->i_dtime = fs->now ? fs->now : 1;
    if ((rc = e2_inode_write(fs, ino, in)))
        return rc;
    e->free = 1;
    e->dir = is_dir(in);
    return 0;
}

/* Phase 2: a freed inode's blocks, then the inode (written dead) and its
 * number. */
static int reap(struct ext2_fs *fs, uint32_t ino, bool dir)
{
    struct ext2_inode in;
    int rc = e2_inode_read(fs, ino, &in);
    if (rc)
        return rc;
    if (!e2_inode_fast_symlink(fs, &in) && (is_reg(&in) || is_dir(&in) || is_lnk(&in)))
        rc = e2_inode_free_range(fs, &in, 0, UINT64_MAX);
    if (!rc && in.i_file_acl)
        rc = release_xattr(fs, &in);
    e2_inode_set_size(&in, 0);
    int wrc = e2_inode_write(fs, ino, &in);
    if (rc || (rc = wrc))
        return rc;
    return e2_inode_free(fs, ino, dir);
}

/* Phase 2: frees the freed inodes; forgets the link-count entries (their
 * inodes are written with their real counts from now on). */
int e2_pending_inodes_apply(struct ext2_fs *fs)
{
    while (fs->npino) {
        struct ext2_pend_inode e = fs->pino[fs->npino - 1];
        if (e.free) {
            int rc = reap(fs, e.ino, e.dir);
            if (rc)
                return rc;
        }
        fs->npino--;
    }
    return 0;
}

/* Changes ino's link count by delta; frees it when it reaches 0.  A drop
 * is recorded (pending_inode) so that the disk does not see it before
 * the entries that named the inode are gone. */
int e2_inode_nlink(struct ext2_fs *fs, uint32_t ino, int delta)
{
    struct ext2_inode in;
    struct ext2_pend_inode *e;
    int rc;
    if (delta < 0 && (rc = pending_inode(fs, ino, &e)))
        return rc;
    if ((rc = e2_inode_read(fs, ino, &in)))
        return rc;
    int n = (int)in.i_links_count + delta;
    if (n < 0)
        return EXT2_EUCLEAN;
    in.i_links_count = (uint16_t)n;
    in.i_ctime = fs->now;
    if (n == 0)
        return e2_inode_release(fs, ino, &in);
    return e2_inode_write(fs, ino, &in);
}
