/*
 * Mounting: the superblock and group descriptors are checked before
 * anything else is trusted; every later walk relies on those checks
 * (block and inode numbers in range, group metadata inside the device).
 */
#include "ext2_int.h"

/* Builds the reason string without stdio. */
static void say(char *why, size_t len, const char *msg, uint32_t num, bool hex)
{
    if (!why || !len)
        return;
    size_t i = 0;
    for (; msg[i] && i + 1 < len; i++)
        why[i] = msg[i];
    if (hex) {
        char digits[12];
        int n = 0;
        do {
            digits[n++] = "0123456789abcdef"[num & 15];
            num >>= 4;
        } while (num);
        const char *pre = " 0x";
        for (int k = 0; pre[k] && i + 1 < len; k++)
            why[i++] = pre[k];
        while (n && i + 1 < len)
            why[i++] = digits[--n];
    }
    why[i] = 0;
}

int e2_gd_get(struct ext2_fs *fs, uint32_t g, struct ext2_group_desc *gd)
{
    uint32_t per = fs->bs / 32;
    uint8_t *b;
    int rc = e2_bget(fs, fs->first_data + 1 + g / per, true, &b);
    if (rc)
        return rc;
    memcpy(gd, b + (g % per) * 32, 32);
    e2_bput(fs, b);
    return 0;
}

int e2_gd_put(struct ext2_fs *fs, uint32_t g, const struct ext2_group_desc *gd)
{
    uint32_t per = fs->bs / 32;
    uint8_t *b;
    int rc = e2_bget(fs, fs->first_data + 1 + g / per, true, &b);
    if (rc)
        return rc;
    memcpy(b + (g % per) * 32, gd, 32);
    e2_bdirty(fs, b, E2_META);
    e2_bput(fs, b);
    return 0;
}

/* The superblock always lives at byte 1024, whatever the block size, so
 * it is written straight to its two sectors rather than through the cache. */
int e2_sb_write(struct ext2_fs *fs)
{
    SB(fs)->s_wtime = fs->now;
    int rc = e2_dev_write(fs, EXT2_SB_OFFSET / 512, 2, fs->sb);
    if (rc == 0)
        fs->sb_dirty = false;
    return rc;
}

static int flush(struct ext2_fs *fs)
{
    if (fs->dev.flush && fs->dev.flush(fs->dev.ctx))
        return EXT2_EIO;
    return 0;
}

static int check_groups(struct ext2_fs *fs, char *why, size_t whylen)
{
    for (uint32_t g = 0; g < fs->groups; g++) {
        struct ext2_group_desc gd;
        int rc = e2_gd_get(fs, g, &gd);
        if (rc) {
            say(why, whylen, "cannot read group descriptors", 0, false);
            return rc;
        }
        /* Without flex_bg a group's metadata lies inside the group, as
         * Linux checks; with it, anywhere on the device after the table. */
        uint32_t lo = fs->first_data + 1 + fs->gdt_blocks, hi = fs->blocks;
        if (!fs->flex) {
            uint32_t start = fs->first_data + g * fs->bpg;
            if (start > lo)
                lo = start;
            if (start + fs->bpg < hi)
                hi = start + fs->bpg;
        }
        if (gd.bg_block_bitmap < lo || gd.bg_block_bitmap >= hi ||
            gd.bg_inode_bitmap < lo || gd.bg_inode_bitmap >= hi ||
            gd.bg_inode_table < lo || gd.bg_inode_table > hi ||
            hi - gd.bg_inode_table < fs->itb) {
            say(why, whylen, "group descriptor points outside its group, group", g, true);
            return EXT2_EUCLEAN;
        }
        if (gd.bg_free_blocks_count > fs->bpg || gd.bg_free_inodes_count > fs->ipg ||
            gd.bg_used_dirs_count > fs->ipg) {
            say(why, whylen, "group descriptor counts out of range, group", g, true);
            return EXT2_EUCLEAN;
        }
        fs->sum_free_blocks += gd.bg_free_blocks_count;
        fs->sum_free_inodes += gd.bg_free_inodes_count;
    }
    return 0;
}

/* The superblock checks; fills fs's derived fields. */
static int check_super(struct ext2_fs *fs, char *why, size_t whylen)
{
    struct ext2_super *s = SB(fs);
    if (s->s_magic != EXT2_MAGIC) {
        say(why, whylen, "bad magic: not an ext2 file system", 0, false);
        return EXT2_EINVAL;
    }
    if (s->s_log_block_size > 2) {
        say(why, whylen, "unsupported block size (log)", s->s_log_block_size, true);
        return EXT2_EINVAL;
    }
    fs->bs = 1024u << s->s_log_block_size;
    fs->per = fs->bs / 4;
    if (s->s_rev_level > 1) {
        say(why, whylen, "unknown revision", s->s_rev_level, true);
        return EXT2_EINVAL;
    }
    uint32_t incompat = s->s_rev_level ? s->s_feature_incompat : 0;
    uint32_t ro_compat = s->s_rev_level ? s->s_feature_ro_compat : 0;
    if (incompat & EXT2_FEATURE_INCOMPAT_RECOVER) {
        say(why, whylen, "journal needs recovery", 0, false);
        return EXT2_EINVAL;
    }
    if (incompat & EXT2_FEATURE_INCOMPAT_EXTENTS) {
        say(why, whylen, "unsupported feature: extents", 0, false);
        return EXT2_EINVAL;
    }
    if (incompat & EXT2_FEATURE_INCOMPAT_64BIT) {
        say(why, whylen, "unsupported feature: 64bit", 0, false);
        return EXT2_EINVAL;
    }
    if (incompat & EXT2_FEATURE_INCOMPAT_META_BG) {
        say(why, whylen, "unsupported feature: meta_bg", 0, false);
        return EXT2_EINVAL;
    }
    if (incompat & ~EXT2_INCOMPAT_SUPPORTED) {
        say(why, whylen, "unsupported incompatible features", incompat & ~EXT2_INCOMPAT_SUPPORTED, true);
        return EXT2_EINVAL;
    }
    fs->filetype = incompat & EXT2_FEATURE_INCOMPAT_FILETYPE;
    fs->flex = incompat & EXT2_FEATURE_INCOMPAT_FLEX_BG;
    if (s->s_rev_level == 0) {
        fs->isz = EXT2_GOOD_OLD_INODE_SIZE;
        fs->first_ino = EXT2_GOOD_OLD_FIRST_INO;
    } else {
        fs->isz = s->s_inode_size;
        fs->first_ino = s->s_first_ino;
        if (fs->isz < 128 || fs->isz > fs->bs || (fs->isz & (fs->isz - 1))) {
            say(why, whylen, "bad inode size", fs->isz, true);
            return EXT2_EINVAL;
        }
    }
    if (s->s_first_data_block != (fs->bs == 1024 ? 1u : 0u)) {
        say(why, whylen, "first_data_block does not match the block size", s->s_first_data_block, true);
        return EXT2_EINVAL;
    }
    fs->first_data = s->s_first_data_block;
    fs->blocks = s->s_blocks_count;
    fs->inodes = s->s_inodes_count;
    fs->bpg = s->s_blocks_per_group;
    fs->ipg = s->s_inodes_per_group;
    if (fs->bpg == 0 || fs->bpg > 8 * fs->bs || fs->ipg == 0 || fs->ipg > 8 * fs->bs) {
        say(why, whylen, "bad blocks or inodes per group", 0, false);
        return EXT2_EINVAL;
    }
    if (fs->blocks <= fs->first_data + 1) {
        say(why, whylen, "bad block count", fs->blocks, true);
        return EXT2_EINVAL;
    }
    if ((uint64_t)fs->blocks * (fs->bs / 512) > fs->dev.sectors) {
        say(why, whylen, "device smaller than the file system (truncated?)", 0, false);
        return EXT2_EINVAL;
    }
    fs->groups = (fs->blocks - fs->first_data + fs->bpg - 1) / fs->bpg;
    if ((uint64_t)fs->groups * fs->ipg != fs->inodes) {
        say(why, whylen, "inode count does not match the group count", 0, false);
        return EXT2_EINVAL;
    }
    if (fs->first_ino < EXT2_GOOD_OLD_FIRST_INO || fs->first_ino >= fs->inodes) {
        say(why, whylen, "bad first inode", fs->first_ino, true);
        return EXT2_EINVAL;
    }
    fs->itb = (uint32_t)(((uint64_t)fs->ipg * fs->isz + fs->bs - 1) / fs->bs);
    fs->gdt_blocks = (fs->groups * 32 + fs->bs - 1) / fs->bs;
    if ((uint64_t)fs->first_data + 1 + fs->gdt_blocks >= fs->blocks) {
        say(why, whylen, "group descriptors past the end of the device", 0, false);
        return EXT2_EINVAL;
    }
    if (s->s_free_blocks_count > fs->blocks || s->s_free_inodes_count > fs->inodes ||
        s->s_r_blocks_count > fs->blocks) {
        say(why, whylen, "free counts larger than totals", 0, false);
        return EXT2_EINVAL;
    }
    if (ro_compat & ~EXT2_RO_COMPAT_SUPPORTED) {
        fs->ro = true;
        say(why, whylen, "mounted read-only: unknown read-only features",
            ro_compat & ~EXT2_RO_COMPAT_SUPPORTED, true);
    }
    return 0;
}

int ext2_mount(struct ext2_fs *fs, const struct ext2_blockdev *dev, void *cache_mem,
               size_t cache_bytes, uint32_t flags, uint32_t now, char *why, size_t whylen)
{
    if (why && whylen)
        why[0] = 0;
    memset(fs, 0, offsetof(struct ext2_fs, path));
    if (!dev || !dev->read || !dev->write) {
        say(why, whylen, "no device", 0, false);
        return EXT2_EINVAL;
    }
    fs->dev = *dev;
    fs->now = now;
    if (dev->sectors < 4) {
        say(why, whylen, "device too small for a superblock", 0, false);
        return EXT2_EINVAL;
    }
    if (e2_dev_read(fs, EXT2_SB_OFFSET / 512, 2, fs->sb)) {
        say(why, whylen, "cannot read the superblock", 0, false);
        return EXT2_EIO;
    }
    int rc = check_super(fs, why, whylen);
    if (rc)
        return rc;
    rc = e2_cache_init(fs, cache_mem, cache_bytes);
    if (rc) {
        say(why, whylen, "cache memory too small", 0, false);
        return rc;
    }
    rc = check_groups(fs, why, whylen);
    if (rc)
        return rc;
    if (flags & EXT2_MOUNT_RDONLY)
        fs->ro = true;
    struct ext2_super *s = SB(fs);
    /* At most a quarter of the cache may hold inode-table blocks that wait
     * for phase 2 (they cannot be evicted). */
    fs->icap = fs->ncache / 4 < EXT2_PEND_INODES ? fs->ncache / 4 : EXT2_PEND_INODES;
    fs->was_clean = (s->s_state & EXT2_VALID_FS) && !(s->s_state & EXT2_ERROR_FS);
    fs->mounted = true;
    if (fs->ro)
        return 0;
    /* Not clean on disk while writable, as Linux does: a crash leaves the
     * file system marked for checking. */
    s->s_state &= (uint16_t)~EXT2_VALID_FS;
    s->s_mnt_count++;
    /* Each mount hands out generations from its own range (the count is on
     * disk before anything is made), so an inode number a client learnt
     * before a crash does not pass for a file made after it. */
    fs->gen_next = (uint32_t)s->s_mnt_count << 20;
    /* The totals from the descriptors, as Linux does: a crash may have
     * left the superblock's behind. */
    s->s_free_blocks_count = fs->sum_free_blocks < fs->blocks ? fs->sum_free_blocks : fs->blocks;
    s->s_free_inodes_count = fs->sum_free_inodes < fs->inodes ? fs->sum_free_inodes : fs->inodes;
    s->s_mtime = now;
    rc = e2_sb_write(fs);
    if (rc == 0)
        rc = flush(fs);
    if (rc) {
        fs->mounted = false;
        say(why, whylen, "cannot write the superblock", 0, false);
    }
    return rc;
}

void ext2_set_time(struct ext2_fs *fs, uint32_t now)
{
    fs->now = now;
}

/* The two phases (docs/ext2.md, "Crash safety").  Phase 1 writes every
 * dirty block in the order of the classes (ext2_int.h), with freed inodes
 * and lowered link counts still shown as they were, and the superblock;
 * then, with the disk flushed, phase 2 frees the pending blocks and
 * inodes and writes the dead inodes, the true counts, then the bitmaps,
 * descriptors and superblock.  A crash between the two leaves only
 * leaks. */
int e2_sync(struct ext2_fs *fs)
{
    int rc = e2_cache_writeback(fs);
    if (rc)
        return rc;
    if ((rc = e2_sb_write(fs)) || (rc = flush(fs)))
        return rc;
    if (!fs->nrun && !fs->npino)
        return 0;
    fs->phase2 = true;
    rc = e2_pending_blocks_apply(fs);
    if (!rc)
        rc = e2_pending_inodes_apply(fs);
    int wrc = e2_cache_writeback(fs);
    fs->phase2 = false;
    if (rc || (rc = wrc))
        return rc;
    if ((rc = e2_sb_write(fs)) == 0)
        rc = flush(fs);
    return rc;
}

int ext2_sync(struct ext2_fs *fs)
{
    if (!fs->mounted)
        return EXT2_EINVAL;
    if (fs->ro)
        return 0;
    return e2_sync(fs);
}

int ext2_unmount(struct ext2_fs *fs)
{
    if (!fs->mounted)
        return EXT2_EINVAL;
    if (!fs->ro) {
        int rc = e2_sync(fs);
        if (rc)
            return rc;
        if (fs->was_clean)
            SB(fs)->s_state |= EXT2_VALID_FS;
        rc = e2_sb_write(fs);
        if (rc == 0)
            rc = flush(fs);
        if (rc) {
            SB(fs)->s_state &= (uint16_t)~EXT2_VALID_FS;
            return rc;
        }
    }
    fs->mounted = false;
    return 0;
}

int ext2_statfs(struct ext2_fs *fs, struct ext2_statfs *st)
{
    if (!fs->mounted)
        return EXT2_EINVAL;
    struct ext2_super *s = SB(fs);
    st->block_size = fs->bs;
    st->blocks = fs->blocks;
    st->free_blocks = s->s_free_blocks_count;
    st->reserved_blocks = s->s_r_blocks_count;
    st->inodes = fs->inodes;
    st->free_inodes = s->s_free_inodes_count;
    /* Frees waiting for the next sync count as free (an extended-attribute
     * block still shared with another file is counted too). */
    for (uint32_t k = 0; k < fs->nrun; k++)
        st->free_blocks += fs->prun[k].count;
    for (uint32_t k = 0; k < fs->npino; k++) {
        struct ext2_inode in;
        if (!fs->pino[k].free || e2_inode_read(fs, fs->pino[k].ino, &in))
            continue;
        st->free_inodes++;
        if (!e2_inode_fast_symlink(fs, &in))
            st->free_blocks += in.i_blocks / (fs->bs / 512);
    }
    st->name_max = EXT2_NAME_MAX;
    st->read_only = fs->ro;
    return 0;
}
