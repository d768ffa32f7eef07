/*
 * A portable ext2 file-system library (docs/ext2.md).
 *
 * No allocation, no stdio, no clock: the caller supplies the disk (a
 * struct ext2_blockdev of 512-byte sectors), the memory (struct ext2_fs
 * and a block-cache buffer) and the time (ext2_set_time).  The library is
 * not thread-safe: the caller serialises every call on one struct ext2_fs.
 *
 * Every function returns 0 or a negative error code below (Linux errno
 * values).  Permission checks are the caller's: mode, uid and gid are
 * stored and returned as given.
 */
#ifndef PITH_EXT2_H
#define PITH_EXT2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EXT2_EPERM         (-1)
#define EXT2_ENOENT        (-2)
#define EXT2_EIO           (-5)
#define EXT2_EEXIST        (-17)
#define EXT2_EXDEV         (-18)
#define EXT2_ENOTDIR       (-20)
#define EXT2_EISDIR        (-21)
#define EXT2_EINVAL        (-22)
#define EXT2_EFBIG         (-27)
#define EXT2_ENOSPC        (-28)
#define EXT2_EROFS         (-30)
#define EXT2_EMLINK        (-31)
#define EXT2_ENAMETOOLONG  (-36)
#define EXT2_ENOTEMPTY     (-39)
#define EXT2_ELOOP         (-40)
#define EXT2_EBUSY         (-16)
#define EXT2_EUCLEAN       (-117)   /* an on-disk structure failed a check */

#define EXT2_ROOT_INO      2u
#define EXT2_NAME_MAX      255u
#define EXT2_PATH_MAX      4096u
#define EXT2_SYMLINK_HOPS  8u
#define EXT2_LINK_MAX      32000u
#define EXT2_CACHE_MIN     16u      /* fewest cache blocks mount accepts */

/* Mode bits (as in Linux's stat.h). */
#define EXT2_S_IFMT   0xF000u
#define EXT2_S_IFSOCK 0xC000u
#define EXT2_S_IFLNK  0xA000u
#define EXT2_S_IFREG  0x8000u
#define EXT2_S_IFBLK  0x6000u
#define EXT2_S_IFDIR  0x4000u
#define EXT2_S_IFCHR  0x2000u
#define EXT2_S_IFIFO  0x1000u

/* Directory entry types (ext2_dirent.type); 0 when the file system has no
 * filetype feature. */
enum { EXT2_FT_UNKNOWN, EXT2_FT_REG, EXT2_FT_DIR, EXT2_FT_CHR, EXT2_FT_BLK,
       EXT2_FT_FIFO, EXT2_FT_SOCK, EXT2_FT_SYMLINK };

/* The disk, in 512-byte sectors.  read and write return 0 or EXT2_EIO. */
struct ext2_blockdev {
    void *ctx;
    int (*read)(void *ctx, uint64_t sector, uint32_t count, void *buf);
    int (*write)(void *ctx, uint64_t sector, uint32_t count, const void *buf);
    int (*flush)(void *ctx);            /* may be NULL */
    uint64_t sectors;                   /* device size */
};

/* One cached block's bookkeeping (kept at the front of the cache memory). */
struct ext2_cbuf {
    uint64_t seq;                       /* when it became dirty in its class */
    uint32_t blk;
    uint32_t hnext;                     /* the next entry in its hash chain (ncache: none) */
    uint16_t pins;
    uint8_t valid, dirty;
    uint8_t ref;                        /* used since the clock hand last passed */
    uint8_t cls;                        /* write-back class (ext2_int.h) */
    uint8_t fresh;                      /* a directory block allocated since the last sync */
};

/* Frees waiting for the second phase of a sync (docs/ext2.md, "Crash
 * safety"): block runs, and inodes whose link count went down or that
 * were freed.  Private to the library. */
#define EXT2_PEND_RUNS   64u
#define EXT2_PEND_INODES 32u
struct ext2_pend_run { uint32_t start, count; };
struct ext2_pend_inode {
    uint32_t ino, blk;                  /* blk: its inode-table block */
    uint16_t off;                       /* its offset there */
    uint16_t links;                     /* the highest link count since the last sync */
    uint8_t free, dir;                  /* freed (the inode and its blocks go in phase 2) */
};

/* The mounted file system.  The caller allocates it (statically or
 * otherwise); its fields are private to the library. */
struct ext2_fs {
    struct ext2_blockdev dev;
    uint8_t sb[1024];                   /* the superblock, as on disk */
    uint32_t bs, per;                   /* block size; block numbers per block */
    uint32_t groups, ipg, bpg, isz, first_ino, itb;  /* itb: inode-table blocks per group */
    uint32_t blocks, inodes, first_data;
    uint32_t gdt_blocks;
    uint32_t now;
    uint32_t gen_next;                  /* the generation the next new inode gets */
    bool mounted, ro, sb_dirty, was_clean, filetype, flex;
    /* the cache */
    struct ext2_cbuf *cb;
    uint8_t *cdata;
    uint32_t ncache;
    uint32_t *hash;                     /* chain heads by block number (ncache: empty) */
    uint32_t hmask;                     /* buckets - 1 (a power of two) */
    uint32_t hand;                      /* the clock hand for eviction */
    uint64_t dseq;
    /* deferred frees and link-count decrements (applied by ext2_sync) */
    struct ext2_pend_run prun[EXT2_PEND_RUNS];
    struct ext2_pend_inode pino[EXT2_PEND_INODES];
    uint32_t nrun, npino, icap;
    uint32_t sum_free_blocks, sum_free_inodes;  /* the descriptors' totals at mount */
    bool phase2, dir_late;
    uint8_t scratch[4096];              /* a block as written (patched) by the write-back */
    /* path resolution scratch (no large buffers on the caller's stack) */
    char path[2][EXT2_PATH_MAX + 1];
};

/* Bytes of cache memory that hold n blocks of up to 4 KiB. */
#define EXT2_CACHE_BYTES(n) ((size_t)(n) * (4096 + sizeof(struct ext2_cbuf) + sizeof(uint32_t)) + 64)

struct ext2_stat {
    uint32_t ino;
    uint16_t mode, nlink;
    uint32_t uid, gid;
    uint64_t size;
    uint32_t atime, mtime, ctime;
    uint64_t blocks;                    /* 512-byte units, indirect blocks included */
    uint32_t generation;                /* differs between files that had the same inode number */
};

struct ext2_dirent {
    uint32_t ino;                       /* 0: end of directory */
    uint8_t type;                       /* EXT2_FT_* */
    uint8_t name_len;
    char name[EXT2_NAME_MAX + 1];       /* NUL-terminated */
};

struct ext2_statfs {
    uint32_t block_size;
    uint64_t blocks, free_blocks, reserved_blocks;
    uint64_t inodes, free_inodes;
    uint32_t name_max;
    bool read_only;
};

#define EXT2_MOUNT_RDONLY 1u

/* Mounts the file system on dev, caching blocks in cache_mem (at least
 * EXT2_CACHE_MIN blocks; see EXT2_CACHE_BYTES).  Refuses, with the reason
 * in why, anything it does not support or that fails a check.  Mounts
 * read-only (and says so in why) when asked, or when the file system has
 * read-only-compatible features this library does not know; otherwise why
 * is left empty.  A writable mount marks the file system not clean on disk
 * until ext2_unmount. */
int ext2_mount(struct ext2_fs *fs, const struct ext2_blockdev *dev, void *cache_mem,
               size_t cache_bytes, uint32_t flags, uint32_t now, char *why, size_t whylen);
/* Writes back every dirty block in a crash-safe order and flushes, then
 * applies the frees made since the last sync and writes and flushes again
 * (docs/ext2.md, "Crash safety").  On a write error the block stays dirty,
 * the later steps wait for the next sync and the error is returned. */
int ext2_sync(struct ext2_fs *fs);
/* Syncs, marks the file system clean (if it was at mount) and forgets it.
 * On an error the file system stays mounted. */
int ext2_unmount(struct ext2_fs *fs);
/* The clock used for timestamps from now on (seconds since 1970). */
void ext2_set_time(struct ext2_fs *fs, uint32_t now);

int ext2_statfs(struct ext2_fs *fs, struct ext2_statfs *st);
int ext2_stat(struct ext2_fs *fs, uint32_t ino, struct ext2_stat *st);

/* Finds name (len bytes, no '/') in directory dir. */
int ext2_lookup(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len, uint32_t *ino);
/* Resolves an absolute path from the root; symlinks are followed (at most
 * EXT2_SYMLINK_HOPS, then ELOOP), the last one only if follow_last. */
int ext2_resolve(struct ext2_fs *fs, const char *path, bool follow_last, uint32_t *ino);
/* Resolves all of path but its last component: *dir is that component's
 * directory; *name and *len point into path.  The last component is not
 * looked up (it may not exist); "/" alone gives EINVAL. */
int ext2_resolve_parent(struct ext2_fs *fs, const char *path, uint32_t *dir,
                        const char **name, size_t *len);

/* Regular files.  Reads past the end give fewer bytes (*done); holes read
 * as zeros.  Writes extend the file and may leave holes; a write that
 * stops early (ENOSPC, EIO) returns 0 with *done < len if it wrote
 * anything.  atime is never updated (to save writes). */
int ext2_read(struct ext2_fs *fs, uint32_t ino, uint64_t off, void *buf, size_t len, size_t *done);
int ext2_write(struct ext2_fs *fs, uint32_t ino, uint64_t off, const void *buf, size_t len,
               size_t *done);
int ext2_truncate(struct ext2_fs *fs, uint32_t ino, uint64_t size);

/* Making names.  mode's permission bits (07777) are used; the type comes
 * from the call (ext2_create: a regular file, or a FIFO if mode's type
 * bits say EXT2_S_IFIFO).  name must not exist (EEXIST). */
int ext2_create(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len, uint16_t mode,
                uint32_t uid, uint32_t gid, uint32_t *ino);
int ext2_mkdir(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len, uint16_t mode,
               uint32_t uid, uint32_t gid, uint32_t *ino);
/* target: 1..EXT2_PATH_MAX-1 bytes (and less than a block); under 60 bytes
 * it is kept in the inode (a fast symlink). */
int ext2_symlink(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len,
                 const char *target, size_t target_len, uint32_t uid, uint32_t gid, uint32_t *ino);
/* Copies the target (not NUL-terminated) into buf; *done is its length. */
int ext2_readlink(struct ext2_fs *fs, uint32_t ino, char *buf, size_t size, size_t *done);
/* A new name for a file that is not a directory (EPERM for directories). */
int ext2_link(struct ext2_fs *fs, uint32_t ino, uint32_t dir, const char *name, size_t len);

/* Removing names.  unlink refuses directories (EISDIR); rmdir refuses
 * non-directories (ENOTDIR), non-empty ones (ENOTEMPTY) and "." (EINVAL).
 * A file whose last name goes is freed at once: keeping open files alive
 * is the caller's business. */
int ext2_unlink(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len);
int ext2_rmdir(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len);
/* Renames, replacing an existing file, or an empty directory when the
 * source is a directory.  Moving a directory into its own subtree is
 * EINVAL; "." and ".." are EINVAL. */
int ext2_rename(struct ext2_fs *fs, uint32_t olddir, const char *oldname, size_t oldlen,
                uint32_t newdir, const char *newname, size_t newlen);

/* One entry per call (".", ".." included), from *cookie (0 to start),
 * which it advances.  At the end it returns 0 with out->ino == 0. */
int ext2_readdir(struct ext2_fs *fs, uint32_t dir, uint64_t *cookie, struct ext2_dirent *out);

int ext2_chmod(struct ext2_fs *fs, uint32_t ino, uint16_t mode);  /* bits 07777 */
int ext2_chown(struct ext2_fs *fs, uint32_t ino, uint32_t uid, uint32_t gid);
int ext2_utimes(struct ext2_fs *fs, uint32_t ino, uint32_t atime, uint32_t mtime);

#endif
