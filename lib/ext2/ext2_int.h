/* Internal interfaces between the files of lib/ext2/ (prefixed e2_ so
 * that they cannot clash with the program the library is linked into). */
#ifndef PITH_EXT2_INT_H
#define PITH_EXT2_INT_H

#include <string.h>

#include "ext2.h"
#include "ext2_format.h"

#define SB(fs) ((struct ext2_super *)(void *)(fs)->sb)

static inline uint32_t ld32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint16_t ld16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline void st32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void st16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }

static inline bool is_dir(const struct ext2_inode *in) { return (in->i_mode & EXT2_S_IFMT) == EXT2_S_IFDIR; }
static inline bool is_reg(const struct ext2_inode *in) { return (in->i_mode & EXT2_S_IFMT) == EXT2_S_IFREG; }
static inline bool is_lnk(const struct ext2_inode *in) { return (in->i_mode & EXT2_S_IFMT) == EXT2_S_IFLNK; }

/* Write-back classes, in the order the first phase of a sync writes them
 * (docs/ext2.md, "Crash safety"): nothing on disk may point at an object
 * before the object itself is there. */
enum {
    E2_BITMAP,          /* allocation bitmaps (bits are only set before phase 2) */
    E2_DATA,            /* file data, indirect blocks, xattr blocks */
    E2_INODE,           /* inode-table blocks changed in place */
    E2_INODE_NEW,       /* inode-table blocks holding inodes made since the last sync */
    E2_DIR,             /* directory blocks */
    E2_DIR_LATE,        /* directory blocks naming a directory moved by rename */
    E2_META,            /* group descriptors (the superblock is written last) */
    E2_NCLASS
};

/* Returned (positive) by e2_block_free when the pending list is full: the
 * caller writes back what it holds, syncs and tries again. */
#define E2_AGAIN 1

/* cache.c: blocks are pinned between e2_bget and e2_bput. */
int  e2_cache_init(struct ext2_fs *fs, void *mem, size_t bytes);
int  e2_bget(struct ext2_fs *fs, uint32_t blk, bool fill, uint8_t **out);
void e2_bput(struct ext2_fs *fs, uint8_t *p);
void e2_bdirty(struct ext2_fs *fs, uint8_t *p, int cls);
void e2_bfresh(struct ext2_fs *fs, uint8_t *p);
void e2_bforget(struct ext2_fs *fs, uint32_t blk);
int  e2_cache_writeback(struct ext2_fs *fs);
int  e2_dev_read(struct ext2_fs *fs, uint64_t sector, uint32_t count, void *buf);
int  e2_dev_write(struct ext2_fs *fs, uint64_t sector, uint32_t count, const void *buf);

/* super.c */
int  e2_gd_get(struct ext2_fs *fs, uint32_t g, struct ext2_group_desc *gd);
int  e2_gd_put(struct ext2_fs *fs, uint32_t g, const struct ext2_group_desc *gd);
int  e2_sb_write(struct ext2_fs *fs);
int  e2_sync(struct ext2_fs *fs);

/* bitmap.c */
int  e2_block_alloc(struct ext2_fs *fs, uint32_t goal, uint32_t *out);
int  e2_block_free(struct ext2_fs *fs, uint32_t blk);
int  e2_block_free_now(struct ext2_fs *fs, uint32_t blk);
int  e2_pending_blocks_apply(struct ext2_fs *fs);
int  e2_inode_alloc(struct ext2_fs *fs, uint32_t parent, bool dir, uint32_t *out);
int  e2_inode_free(struct ext2_fs *fs, uint32_t ino, bool dir);

/* inode.c */
int  e2_inode_read(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in);
int  e2_inode_write(struct ext2_fs *fs, uint32_t ino, const struct ext2_inode *in);
int  e2_inode_init(struct ext2_fs *fs, uint32_t ino, const struct ext2_inode *in);
int  e2_inode_bmap(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in, uint64_t lblk,
                bool alloc, uint32_t *pblk, bool *fresh);
int  e2_inode_free_range(struct ext2_fs *fs, struct ext2_inode *in, uint64_t first, uint64_t end);
int  e2_inode_release(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in);
bool e2_inode_fast_symlink(struct ext2_fs *fs, const struct ext2_inode *in);
uint64_t e2_inode_size(const struct ext2_inode *in);
void e2_inode_set_size(struct ext2_inode *in, uint64_t size);
uint64_t e2_inode_max_size(struct ext2_fs *fs);
int  e2_inode_nlink(struct ext2_fs *fs, uint32_t ino, int delta);
int  e2_pending_inodes_apply(struct ext2_fs *fs);
uint8_t e2_mode_ftype(uint16_t mode);

/* file.c */
int  e2_file_write(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in, uint64_t off,
                const void *buf, size_t len, size_t *done);
int  e2_file_read(struct ext2_fs *fs, struct ext2_inode *in, uint64_t off, void *buf,
               size_t len, size_t *done);

/* dir.c */
int  e2_dir_find(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len, uint32_t *ino);
int  e2_dir_add(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len, uint32_t ino,
             uint8_t type);
int  e2_dir_remove(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len);
int  e2_dir_set(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len, uint32_t ino,
             uint8_t type);
int  e2_dir_empty(struct ext2_fs *fs, uint32_t dir, bool *empty);
int  e2_dir_init(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in, uint32_t parent);

#endif
