/*
 * Block and inode allocation.  Every change to a bitmap changes the
 * group's and the superblock's free counts with it, so e2fsck's summary
 * checks always agree.  Allocation sets bits at once; a free only goes on
 * the pending list (its bit stays set, so it cannot be handed out again)
 * and ext2_sync clears the bits once nothing on disk points at the blocks
 * (docs/ext2.md, "Crash safety").  Counts saturate, so that counts left
 * stale by a crash never wrap.
 */
#include "ext2_int.h"

/* First clear bit in [from, to) of bitmap b, or to. */
static uint32_t find_zero(const uint8_t *b, uint32_t from, uint32_t to)
{
    for (uint32_t i = from; i < to;) {
        if ((i & 7) == 0 && i + 8 <= to && b[i >> 3] == 0xFF) {
            i += 8;
            continue;
        }
        if (!(b[i >> 3] & (1u << (i & 7))))
            return i;
        i++;
    }
    return to;
}

static void sb_free_blocks(struct ext2_fs *fs, int delta)
{
    uint32_t *n = &SB(fs)->s_free_blocks_count;
    if (delta < 0 ? *n > 0 : *n < fs->blocks)
        *n += (uint32_t)delta;
    fs->sb_dirty = true;
}

static void sb_free_inodes(struct ext2_fs *fs, int delta)
{
    uint32_t *n = &SB(fs)->s_free_inodes_count;
    if (delta < 0 ? *n > 0 : *n < fs->inodes)
        *n += (uint32_t)delta;
    fs->sb_dirty = true;
}

/* A bitmap that says a group's own metadata is free is corrupt; handing
 * that block out would overwrite the metadata. */
static bool is_metadata(struct ext2_fs *fs, const struct ext2_group_desc *gd, uint32_t blk)
{
    if (blk <= fs->first_data + fs->gdt_blocks)
        return true;
    return blk == gd->bg_block_bitmap || blk == gd->bg_inode_bitmap ||
           (blk >= gd->bg_inode_table && blk - gd->bg_inode_table < fs->itb);
}

/* Out of space with frees still pending: a sync makes them real (safe
 * here: every pending block's last pointer has already been cleared in
 * the cache). */
static bool frees_pending(struct ext2_fs *fs)
{
    if (fs->phase2)
        return false;
    if (fs->nrun)
        return true;
    for (uint32_t k = 0; k < fs->npino; k++)
        if (fs->pino[k].free)
            return true;
    return false;
}

static int block_alloc(struct ext2_fs *fs, uint32_t goal, uint32_t *out);

int e2_block_alloc(struct ext2_fs *fs, uint32_t goal, uint32_t *out)
{
    int rc = block_alloc(fs, goal, out);
    if (rc == EXT2_ENOSPC && frees_pending(fs) && (rc = e2_sync(fs)) == 0)
        rc = block_alloc(fs, goal, out);
    return rc;
}

static int block_alloc(struct ext2_fs *fs, uint32_t goal, uint32_t *out)
{
    if (goal < fs->first_data || goal >= fs->blocks)
        goal = fs->first_data;
    uint32_t g0 = (goal - fs->first_data) / fs->bpg;
    for (uint32_t k = 0; k <= fs->groups; k++) {
        uint32_t g = (g0 + k) % fs->groups;
        struct ext2_group_desc gd;
        int rc = e2_gd_get(fs, g, &gd);
        if (rc)
            return rc;
        if (gd.bg_free_blocks_count == 0)
            continue;
        uint32_t base = fs->first_data + g * fs->bpg;
        uint32_t nbits = fs->blocks - base < fs->bpg ? fs->blocks - base : fs->bpg;
        uint32_t start = k == 0 ? (goal - base) % fs->bpg : 0;
        if (start >= nbits)
            start = 0;
        uint8_t *b;
        if ((rc = e2_bget(fs, gd.bg_block_bitmap, true, &b)))
            return rc;
        /* From the goal to the end of the group, then from its start. */
        uint32_t bit = find_zero(b, start, nbits);
        if (bit == nbits) {
            bit = find_zero(b, 0, start);
            if (bit == start)
                bit = nbits;
        }
        if (bit == nbits) {
            e2_bput(fs, b);
            continue;
        }
        uint32_t blk = base + bit;
        if (is_metadata(fs, &gd, blk)) {
            e2_bput(fs, b);
            return EXT2_EUCLEAN;
        }
        b[bit >> 3] |= (uint8_t)(1u << (bit & 7));
        e2_bdirty(fs, b, E2_BITMAP);
        e2_bput(fs, b);
        gd.bg_free_blocks_count--;
        if ((rc = e2_gd_put(fs, g, &gd)))
            return rc;
        sb_free_blocks(fs, -1);
        *out = blk;
        return 0;
    }
    return EXT2_ENOSPC;
}

/* Frees a block now: its bit, the counts.  For blocks nothing on disk can
 * point at (just allocated and never stored, or in phase 2 of a sync). */
int e2_block_free_now(struct ext2_fs *fs, uint32_t blk)
{
    if (blk <= fs->first_data || blk >= fs->blocks)
        return EXT2_EUCLEAN;
    uint32_t g = (blk - fs->first_data) / fs->bpg, bit = (blk - fs->first_data) % fs->bpg;
    struct ext2_group_desc gd;
    int rc = e2_gd_get(fs, g, &gd);
    if (rc)
        return rc;
    if (is_metadata(fs, &gd, blk))
        return EXT2_EUCLEAN;
    uint8_t *b;
    if ((rc = e2_bget(fs, gd.bg_block_bitmap, true, &b)))
        return rc;
    if (!(b[bit >> 3] & (1u << (bit & 7)))) {
        e2_bput(fs, b);
        return EXT2_EUCLEAN;            /* freeing a free block */
    }
    b[bit >> 3] &= (uint8_t)~(1u << (bit & 7));
    e2_bdirty(fs, b, E2_BITMAP);
    e2_bput(fs, b);
    e2_bforget(fs, blk);
    if (gd.bg_free_blocks_count < fs->bpg)
        gd.bg_free_blocks_count++;
    if ((rc = e2_gd_put(fs, g, &gd)))
        return rc;
    sb_free_blocks(fs, 1);
    return 0;
}

/* Frees a block at the next sync (at once in its phase 2).  Returns
 * E2_AGAIN, changing nothing, when the pending list is full. */
int e2_block_free(struct ext2_fs *fs, uint32_t blk)
{
    if (fs->phase2)
        return e2_block_free_now(fs, blk);
    if (blk <= fs->first_data || blk >= fs->blocks)
        return EXT2_EUCLEAN;
    /* The checks of a free now, so that phase 2 cannot fail on them. */
    uint32_t g = (blk - fs->first_data) / fs->bpg, bit = (blk - fs->first_data) % fs->bpg;
    struct ext2_group_desc gd;
    uint8_t *b;
    int rc = e2_gd_get(fs, g, &gd);
    if (rc)
        return rc;
    if (is_metadata(fs, &gd, blk))
        return EXT2_EUCLEAN;
    if ((rc = e2_bget(fs, gd.bg_block_bitmap, true, &b)))
        return rc;
    bool set = b[bit >> 3] & (1u << (bit & 7));
    e2_bput(fs, b);
    if (!set)
        return EXT2_EUCLEAN;
    for (uint32_t k = 0; k < fs->nrun; k++)
        if (blk - fs->prun[k].start < fs->prun[k].count)
            return EXT2_EUCLEAN;        /* freeing a free block */
    struct ext2_pend_run *last = fs->nrun ? &fs->prun[fs->nrun - 1] : NULL;
    if (last && blk == last->start + last->count) {
        last->count++;
    } else if (last && blk + 1 == last->start) {
        last->start--;
        last->count++;
    } else if (fs->nrun < EXT2_PEND_RUNS) {
        fs->prun[fs->nrun++] = (struct ext2_pend_run){ blk, 1 };
    } else {
        return E2_AGAIN;
    }
    e2_bforget(fs, blk);
    return 0;
}

/* Phase 2: the pending blocks' bits are cleared. */
int e2_pending_blocks_apply(struct ext2_fs *fs)
{
    while (fs->nrun) {
        struct ext2_pend_run *r = &fs->prun[fs->nrun - 1];
        while (r->count) {
            int rc = e2_block_free_now(fs, r->start + r->count - 1);
            if (rc)
                return rc;
            r->count--;
        }
        fs->nrun--;
    }
    return 0;
}

/* Directories go to the group with the most free inodes, to spread them;
 * files start in their parent's group, to keep them near it. */
static uint32_t first_group(struct ext2_fs *fs, uint32_t parent, bool dir)
{
    uint32_t best = (parent - 1) / fs->ipg;
    if (!dir)
        return best;
    uint32_t most = 0;
    for (uint32_t g = 0; g < fs->groups; g++) {
        struct ext2_group_desc gd;
        if (e2_gd_get(fs, g, &gd))
            break;
        if (gd.bg_free_inodes_count > most) {
            most = gd.bg_free_inodes_count;
            best = g;
        }
    }
    return best;
}

static int inode_alloc(struct ext2_fs *fs, uint32_t parent, bool dir, uint32_t *out);

int e2_inode_alloc(struct ext2_fs *fs, uint32_t parent, bool dir, uint32_t *out)
{
    int rc = inode_alloc(fs, parent, dir, out);
    if (rc == EXT2_ENOSPC && frees_pending(fs) && (rc = e2_sync(fs)) == 0)
        rc = inode_alloc(fs, parent, dir, out);
    return rc;
}

static int inode_alloc(struct ext2_fs *fs, uint32_t parent, bool dir, uint32_t *out)
{
    if (parent == 0 || parent > fs->inodes)
        parent = EXT2_ROOT_INO;
    uint32_t g0 = first_group(fs, parent, dir);
    for (uint32_t k = 0; k < fs->groups; k++) {
        uint32_t g = (g0 + k) % fs->groups;
        struct ext2_group_desc gd;
        int rc = e2_gd_get(fs, g, &gd);
        if (rc)
            return rc;
        if (gd.bg_free_inodes_count == 0)
            continue;
        uint8_t *b;
        if ((rc = e2_bget(fs, gd.bg_inode_bitmap, true, &b)))
            return rc;
        /* The reserved inodes (below first_ino) are never handed out. */
        uint32_t start = g == 0 ? fs->first_ino - 1 : 0;
        uint32_t bit = start < fs->ipg ? find_zero(b, start, fs->ipg) : fs->ipg;
        if (bit == fs->ipg) {
            e2_bput(fs, b);
            continue;
        }
        b[bit >> 3] |= (uint8_t)(1u << (bit & 7));
        e2_bdirty(fs, b, E2_BITMAP);
        e2_bput(fs, b);
        gd.bg_free_inodes_count--;
        if (dir && gd.bg_used_dirs_count < fs->ipg)
            gd.bg_used_dirs_count++;
        if ((rc = e2_gd_put(fs, g, &gd)))
            return rc;
        sb_free_inodes(fs, -1);
        *out = g * fs->ipg + bit + 1;
        return 0;
    }
    return EXT2_ENOSPC;
}

/* Phase 2 of a sync: the inode's bit and counts. */
int e2_inode_free(struct ext2_fs *fs, uint32_t ino, bool dir)
{
    if (ino < fs->first_ino || ino > fs->inodes)
        return EXT2_EUCLEAN;
    uint32_t g = (ino - 1) / fs->ipg, bit = (ino - 1) % fs->ipg;
    struct ext2_group_desc gd;
    int rc = e2_gd_get(fs, g, &gd);
    if (rc)
        return rc;
    uint8_t *b;
    if ((rc = e2_bget(fs, gd.bg_inode_bitmap, true, &b)))
        return rc;
    if (!(b[bit >> 3] & (1u << (bit & 7)))) {
        e2_bput(fs, b);
        return EXT2_EUCLEAN;
    }
    b[bit >> 3] &= (uint8_t)~(1u << (bit & 7));
    e2_bdirty(fs, b, E2_BITMAP);
    e2_bput(fs, b);
    if (gd.bg_free_inodes_count < fs->ipg)
        gd.bg_free_inodes_count++;
    if (dir && gd.bg_used_dirs_count)
        gd.bg_used_dirs_count--;
    if ((rc = e2_gd_put(fs, g, &gd)))
        return rc;
    sb_free_inodes(fs, 1);
    return 0;
}
