/*
 * System calls on paths: stat and friends, mkdir, unlink, rmdir, rename,
 * readlink (with /proc/self/exe), the working directory, access.  Every
 * process acts as root (uid 0): /fs holds the volume owner's authority.
 */
#include "personality.h"
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

void stat_fill(struct stat *st, uint32_t ino, uint32_t mode, uint32_t nlink, uint32_t uid, uint32_t gid,
               uint64_t size, uint32_t atime, uint32_t mtime, uint32_t ctime, uint64_t blocks)
{
    memset(st, 0, sizeof *st);
    st->st_dev = 0x801;
    st->st_ino = ino;
    st->st_mode = mode;
    st->st_nlink = nlink;
    st->st_uid = uid;
    st->st_gid = gid;
    st->st_size = (off_t)size;
    st->st_blksize = 4096;
    st->st_blocks = (blkcnt_t)blocks;
    st->st_atim.tv_sec = atime;
    st->st_mtim.tv_sec = mtime;
    st->st_ctim.tv_sec = ctime;
}

static long stat_path(struct lproc *p, const char *path, bool follow, struct stat *st)
{
    if (device_of(path) >= 0) {
        device_stat(device_of(path), st);
    } else if (proc_path(path)) {
        long err = proc_stat(p, path, follow, st);
        if (err)
            return err;
    } else if (unix_stat(p, path, st)) {
        /* a bound AF_UNIX path (unix.c) */
    } else {
        uint32_t ino, gen, mode, nlink, uid, gid, at, mt, ct;
        uint64_t size, blocks;
        long err = fs_lookup(&fs, path, follow, &ino, &gen, &mode, &nlink, &uid, &gid, &size, &at, &mt, &ct, &blocks);
        if (err)
            return fs_errno(err);
        stat_fill(st, ino, mode, nlink, uid, gid, size, at, mt, ct, blocks);
    }
    return 0;
}

static long stat_fd(struct lproc *p, uint64_t fd, struct stat *st)
{
    struct ofile *of = ofile_of(p, fd);
    if (!of)
        return -EBADF;
    if (of->kind == FD_CONSOLE || of->kind == FD_NULL) {
        device_stat((int)of->ino, st);
    } else if (of->kind == FD_PROCDIR || of->kind == FD_PROCFILE) {
        proc_stat(p, of->path, true, st);
    } else if ((of->kind == FD_PIPE_R || of->kind == FD_PIPE_W) && !of->ino) {   /* (a FIFO's is on /fs) */
        stat_fill(st, 0x1000 + (uint32_t)of->pipe, S_IFIFO | 0600, 1, 0, 0, 0, 0, 0, 0, 0);
    } else if (of->kind == FD_SOCKET || of->kind == FD_UNIX) {
        stat_fill(st, (of->kind == FD_SOCKET ? 0x2000 : 0x2100) + of->ino, S_IFSOCK | 0777, 1, 0, 0, 0, 0, 0, 0, 0);
    } else if (of->kind == FD_EPOLL) {
        stat_fill(st, 0x3000 + of->ino, 0600, 1, 0, 0, 0, 0, 0, 0, 0);     /* an anonymous inode, as Linux's */
    } else {
        uint32_t mode, nlink, uid, gid, at, mt, ct;
        uint64_t size, blocks;
        long err = fs_stat(&fs, of->ino, of->gen, &mode, &nlink, &uid, &gid, &size, &at, &mt, &ct, &blocks);
        if (err)
            return fs_errno(err);
        stat_fill(st, of->ino, mode, nlink, uid, gid, size, at, mt, ct, blocks);
    }
    return 0;
}

/* The *at calls' lookup: dirfd and path, AT_EMPTY_PATH (the descriptor itself) and AT_SYMLINK_NOFOLLOW. */
static long stat_at(struct lproc *p, int dirfd, uint64_t upath, uint64_t flags, struct stat *st)
{
    char path[256];
    if (flags & AT_EMPTY_PATH) {
        char c;
        if (mem_read(p, &c, upath, 1) == 0 && c == 0)
            return dirfd == AT_FDCWD ? stat_path(p, p->cwd, true, st) : stat_fd(p, (uint64_t)dirfd, st);
    }
    long err = path_resolve(p, upath, dirfd, path);
    return err ? err : stat_path(p, path, !(flags & AT_SYMLINK_NOFOLLOW), st);
}

static long stat_out(struct lproc *p, long err, const struct stat *st, uint64_t buf)
{
    return err ? err : mem_write(p, buf, st, sizeof *st);
}

SYSCALL(stat) { struct stat st; return stat_out(p, stat_at(p, AT_FDCWD, a0, 0, &st), &st, a1); }
SYSCALL(lstat) { struct stat st; return stat_out(p, stat_at(p, AT_FDCWD, a0, AT_SYMLINK_NOFOLLOW, &st), &st, a1); }
SYSCALL(fstat) { struct stat st; return stat_out(p, stat_fd(p, a0, &st), &st, a1); }
SYSCALL(newfstatat) { struct stat st; return stat_out(p, stat_at(p, (int)a0, a1, a3, &st), &st, a2); }

/*
 * statx: the same lookup, Linux's struct statx out.  What ext2 and we
 * keep is STATX_BASIC_STATS (no birth time, no mount id, no direct-I/O
 * alignment): stx_mask says so whatever was asked, as Linux's does for a
 * file system without the rest.  The sync flags change nothing here (the
 * file server is the one copy).
 */
struct lstatx_time { int64_t sec; uint32_t nsec; int32_t reserved; };
struct lstatx {
    uint32_t mask, blksize;
    uint64_t attributes;
    uint32_t nlink, uid, gid;
    uint16_t mode, spare0;
    uint64_t ino, size, blocks, attributes_mask;
    struct lstatx_time atime, btime, ctime, mtime;
    uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
    uint64_t mnt_id;
    uint32_t dio_mem_align, dio_offset_align;
    uint64_t spare3[12];
};
_Static_assert(sizeof(struct lstatx) == 256, "Linux's struct statx");

#define L_STATX_BASIC_STATS   0x7ffu
#define L_STATX__RESERVED     0x80000000u
#define L_AT_NO_AUTOMOUNT     0x800
#define L_AT_STATX_SYNC_TYPE  0x6000

static uint32_t dev_major(uint64_t d) { return (uint32_t)(((d >> 8) & 0xfff) | ((d >> 32) & ~0xfffull)); }
static uint32_t dev_minor(uint64_t d) { return (uint32_t)((d & 0xff) | ((d >> 12) & ~0xffull)); }

SYSCALL(statx)
{
    uint64_t flags = a2, mask = a3;
    if ((flags & ~(uint64_t)(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | L_AT_NO_AUTOMOUNT | L_AT_STATX_SYNC_TYPE)) ||
        (flags & L_AT_STATX_SYNC_TYPE) == L_AT_STATX_SYNC_TYPE || (mask & L_STATX__RESERVED))
        return -EINVAL;
    struct stat st;
    long err = stat_at(p, (int)a0, a1, flags, &st);
    if (err)
        return err;
    struct lstatx x = {
        .mask = L_STATX_BASIC_STATS, .blksize = (uint32_t)st.st_blksize, .nlink = (uint32_t)st.st_nlink,
        .uid = st.st_uid, .gid = st.st_gid, .mode = (uint16_t)st.st_mode, .ino = st.st_ino,
        .size = (uint64_t)st.st_size, .blocks = (uint64_t)st.st_blocks,
        .atime = { st.st_atim.tv_sec, (uint32_t)st.st_atim.tv_nsec, 0 },
        .ctime = { st.st_ctim.tv_sec, (uint32_t)st.st_ctim.tv_nsec, 0 },
        .mtime = { st.st_mtim.tv_sec, (uint32_t)st.st_mtim.tv_nsec, 0 },
        .rdev_major = dev_major(st.st_rdev), .rdev_minor = dev_minor(st.st_rdev),
        .dev_major = dev_major(st.st_dev), .dev_minor = dev_minor(st.st_dev),
    };
    return mem_write(p, a4, &x, sizeof x);
}

SYSCALL(mkdirat)
{
    char path[256];
    uint32_t ino, gen;
    long err = path_resolve(p, a1, (int)a0, path);
    if (!err && !strcmp(path, "/"))
        return -EEXIST;                 /* the root has no name to make (mkdir -p starts there) */
    return err ? err : fs_errno(fs_mkdir(&fs, path, (uint32_t)a2 & 07777 & ~umask_of(p), &ino, &gen));
}
SYSCALL(mkdir) { return sys_mkdirat(p, (uint64_t)AT_FDCWD, a0, a1, 0, 0, 0); }

/*
 * mknod: FIFOs (an S_IFIFO inode on /fs, opened as a pipe: pipe.c) and
 * empty regular files.  Device nodes are EPERM, as for a process without
 * CAP_MKNOD: /fs keeps no device numbers, and the devices there are are
 * built in (io.c).  Sockets' nodes are EPERM too (a bound AF_UNIX name is
 * the personality's own: unix.c).
 */
SYSCALL(mknodat)
{
    char path[256];
    uint32_t ino, gen, type = (uint32_t)a2 & S_IFMT, perm = (uint32_t)a2 & 07777 & ~umask_of(p);
    if (type == S_IFCHR || type == S_IFBLK || type == S_IFSOCK || type == S_IFDIR)
        return -EPERM;
    if (type && type != S_IFREG && type != S_IFIFO)
        return -EINVAL;
    long err = path_resolve(p, a1, (int)a0, path);
    if (err)
        return err;
    return fs_errno(fs_create(&fs, path, (type == S_IFIFO ? S_IFIFO : 0) | perm, &ino, &gen));
}
SYSCALL(mknod) { return sys_mknodat(p, (uint64_t)AT_FDCWD, a0, a1, a2, 0, 0); }

/*
 * Linux (busybox diff and sort unlink their temporary files at once): its
 * last name is moved to /.unlinked/INO-GEN, which the last close of it
 * removes (fds.c's ofile_drop).  Other files, and a name of a file with
 * more, are unlinked at once: 1.  0 if moved, or -errno.
 */
static long unlink_open_file(const char *path)
{
    uint32_t ino, gen, mode, nlink, uid, gid, at, mt, ct;
    uint64_t size, blocks;
    if (fs_lookup(&fs, path, false, &ino, &gen, &mode, &nlink, &uid, &gid, &size, &at, &mt, &ct, &blocks) ||
        !S_ISREG(mode) || nlink != 1 || !ofile_of_file(ino, gen))
        return 1;
    char hidden[64];
    snprintf(hidden, sizeof hidden, "/.unlinked/%u-%u", ino, gen);
    uint32_t dino, dgen;
    long err = fs_mkdir(&fs, "/.unlinked", 0700, &dino, &dgen);
    if (err && err != FS_E_EXISTS)
        return fs_errno(err);
    if ((err = fs_rename(&fs, path, hidden)))
        return fs_errno(err);
    ofile_unlinked(ino, gen, hidden, true);
    return 0;
}

SYSCALL(unlinkat)
{
    char path[256];
    if (a2 & ~(uint64_t)AT_REMOVEDIR)
        return -EINVAL;
    long err = path_resolve(p, a1, (int)a0, path);
    if (err)
        return err;
    if (a2 & AT_REMOVEDIR)
        return fs_errno(fs_rmdir(&fs, path));
    if (unix_unlink(path))
        return 0;                       /* a bound AF_UNIX path (unix.c) */
    if ((err = unlink_open_file(path)) <= 0)
        return err;
    return fs_errno(fs_unlink(&fs, path));
}
SYSCALL(unlink) { return sys_unlinkat(p, (uint64_t)AT_FDCWD, a0, 0, 0, 0, 0); }
SYSCALL(rmdir) { return sys_unlinkat(p, (uint64_t)AT_FDCWD, a0, AT_REMOVEDIR, 0, 0, 0); }

SYSCALL(renameat2)
{
    char from[256], to[256];
    if (a4)
        return -EINVAL;                 /* RENAME_NOREPLACE, _EXCHANGE: not yet */
    long err = path_resolve(p, a1, (int)a0, from);
    if (!err)
        err = path_resolve(p, a3, (int)a2, to);
    if (err)
        return err;
    /*
     * A file replaced while open lives on as an unlinked one (Linux: its
     * descriptors still read it).  Only if the rename can be done: from is
     * there, is not a directory and is not the same file as to; if the
     * rename fails after all, to gets its file back.
     */
    uint32_t ino, gen, mode, nlink, uid, gid, at, mt, ct, tino, tgen;
    uint64_t size, blocks;
    if ((err = fs_lookup(&fs, from, false, &ino, &gen, &mode, &nlink, &uid, &gid, &size, &at, &mt, &ct, &blocks)))
        return fs_errno(err);
    bool aside = false;
    if (!S_ISDIR(mode) &&
        !fs_lookup(&fs, to, false, &tino, &tgen, &mode, &nlink, &uid, &gid, &size, &at, &mt, &ct, &blocks)) {
        if (tino == ino && tgen == gen)
            return 0;                   /* two names of one file: Linux does nothing */
        if ((err = unlink_open_file(to)) < 0)
            return err;
        aside = err == 0;
    }
    if ((err = fs_rename(&fs, from, to)) && aside) {
        char hidden[64];
        snprintf(hidden, sizeof hidden, "/.unlinked/%u-%u", tino, tgen);
        if (!fs_rename(&fs, hidden, to))
            ofile_unlinked(tino, tgen, to, false);
    }
    return fs_errno(err);
}
SYSCALL(renameat) { return sys_renameat2(p, a0, a1, a2, a3, 0, 0); }
SYSCALL(rename) { return sys_renameat2(p, (uint64_t)AT_FDCWD, a0, (uint64_t)AT_FDCWD, a1, 0, 0); }

SYSCALL(readlinkat)
{
    char path[256], target[FS_READLINK_TARGET_MAX + 1];
    if ((int64_t)a3 <= 0)
        return -EINVAL;
    long err = path_resolve(p, a1, (int)a0, path);
    if (err)
        return err;
    if (proc_path(path)) {
        long n = proc_readlink(p, path, target, sizeof target);
        if (n < 0)
            return n;
    } else if ((err = fs_readlink(&fs, path, target)))
        return fs_errno(err);
    uint64_t n = strlen(target) < a3 ? strlen(target) : a3;
    return mem_write(p, a2, target, n) ? -EFAULT : (long)n;
}
SYSCALL(readlink) { return sys_readlinkat(p, (uint64_t)AT_FDCWD, a0, a1, a2, 0, 0); }

SYSCALL(getcwd)
{
    uint64_t n = strlen(p->cwd) + 1;
    if (a1 < n)
        return -ERANGE;
    return mem_write(p, a0, p->cwd, n) ? -EFAULT : (long)n;
}

static long change_dir(struct lproc *p, const char *path)
{
    uint32_t ino, gen, mode, nlink, uid, gid, at, mt, ct;
    uint64_t size, blocks;
    long err = fs_lookup(&fs, path, true, &ino, &gen, &mode, &nlink, &uid, &gid, &size, &at, &mt, &ct, &blocks);
    if (err)
        return fs_errno(err);
    if (!S_ISDIR(mode))
        return -ENOTDIR;
    strcpy(p->cwd, path);
    return 0;
}

SYSCALL(chdir)
{
    char path[256];
    long err = path_resolve(p, a0, AT_FDCWD, path);
    return err ? err : change_dir(p, path);
}

SYSCALL(fchdir)
{
    struct ofile *of = ofile_of(p, a0);
    if (!of)
        return -EBADF;
    return of->kind == FD_DIR ? change_dir(p, of->path) : -ENOTDIR;
}

SYSCALL(faccessat)
{
    char path[256];
    if (a2 & ~7ull)
        return -EINVAL;
    long err = path_resolve(p, a1, (int)a0, path);
    if (err)
        return err;
    if (device_of(path) >= 0)
        return 0;
    uint32_t ino, gen, mode, nlink, uid, gid, at, mt, ct;
    uint64_t size, blocks;
    if ((err = fs_lookup(&fs, path, true, &ino, &gen, &mode, &nlink, &uid, &gid, &size, &at, &mt, &ct, &blocks)))
        return fs_errno(err);
    /* Root may read and write anything; it may execute what has an execute bit (or is a directory). */
    if ((a2 & X_OK) && !S_ISDIR(mode) && !(mode & 0111))
        return -EACCES;
    return 0;
}
SYSCALL(access) { return sys_faccessat(p, (uint64_t)AT_FDCWD, a0, a1, 0, 0, 0); }
SYSCALL(faccessat2) { return sys_faccessat(p, a0, a1, a2, 0, 0, 0); }
