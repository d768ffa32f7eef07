/* Internal interfaces between the files of lib/ext2/. */
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

/* cache.c: blocks are pinned between bget and bput. */
int  cache_init(struct ext2_fs *fs, void *mem, size_t bytes);
int  bget(struct ext2_fs *fs, uint32_t blk, bool fill, uint8_t **out);
void bput(struct ext2_fs *fs, uint8_t *p);
void bdirty(struct ext2_fs *fs, uint8_t *p);
int  cache_writeback(struct ext2_fs *fs);
int  dev_read(struct ext2_fs *fs, uint64_t sector, uint32_t count, void *buf);
int  dev_write(struct ext2_fs *fs, uint64_t sector, uint32_t count, const void *buf);

/* super.c */
int  gd_get(struct ext2_fs *fs, uint32_t g, struct ext2_group_desc *gd);
int  gd_put(struct ext2_fs *fs, uint32_t g, const struct ext2_group_desc *gd);
int  sb_write(struct ext2_fs *fs);

/* bitmap.c */
int  block_alloc(struct ext2_fs *fs, uint32_t goal, uint32_t *out);
int  block_free(struct ext2_fs *fs, uint32_t blk);
int  inode_alloc(struct ext2_fs *fs, uint32_t parent, bool dir, uint32_t *out);
int  inode_free(struct ext2_fs *fs, uint32_t ino, bool dir);

/* inode.c */
int  inode_read(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in);
int  inode_write(struct ext2_fs *fs, uint32_t ino, const struct ext2_inode *in);
int  inode_init(struct ext2_fs *fs, uint32_t ino, const struct ext2_inode *in);
int  inode_bmap(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in, uint64_t lblk,
                bool alloc, uint32_t *pblk, bool *fresh);
int  inode_free_range(struct ext2_fs *fs, struct ext2_inode *in, uint64_t first, uint64_t end);
int  inode_release(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in);
bool inode_fast_symlink(struct ext2_fs *fs, const struct ext2_inode *in);
uint64_t inode_size(const struct ext2_inode *in);
void inode_set_size(struct ext2_inode *in, uint64_t size);
uint64_t inode_max_size(struct ext2_fs *fs);
int  inode_nlink(struct ext2_fs *fs, uint32_t ino, int delta);
uint8_t mode_ftype(uint16_t mode);

/* file.c */
int  file_write(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in, uint64_t off,
                const void *buf, size_t len, size_t *done);
int  file_read(struct ext2_fs *fs, struct ext2_inode *in, uint64_t off, void *buf,
               size_t len, size_t *done);

/* dir.c */
int  dir_find(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len, uint32_t *ino);
int  dir_add(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len, uint32_t ino,
             uint8_t type);
int  dir_remove(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len);
int  dir_set(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len, uint32_t ino,
             uint8_t type);
int  dir_empty(struct ext2_fs *fs, uint32_t dir, bool *empty);
int  dir_init(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in, uint32_t parent);

#endif
