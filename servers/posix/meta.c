/*
 * System calls on a file's metadata and its names beyond paths.c: the
 * umask, chmod, chown, utimensat and the older time calls, link,
 * symlink, truncate, fsync, sync, statfs.  Attributes change through
 * fs.idl's setattr on the file's handle, so lchown reaches a symbolic
 * link itself and fchmod a file whose name has gone.
 */
#include "personality.h"
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/time.h>

/* setattr's set bits (fs.idl). */
#define SET_MODE  1u
#define SET_UID   2u
#define SET_GID   4u
#define SET_ATIME 8u
#define SET_MTIME 16u

#define EXT2_SUPER_MAGIC 0xEF53
#define PROC_SUPER_MAGIC 0x9fa0

/* What a handle names, and its attributes as a call here needs them. */
struct handle {
    uint32_t ino, gen, mode, uid, gid, atime, mtime;
    uint64_t size;
};

static long by_path(const char *path, bool follow, struct handle *h)
{
    uint32_t nlink, ct;
    uint64_t blocks;
    if (proc_path(path) || device_of(path) >= 0)
        return -EPERM;                  /* /proc and the built-in devices are made by us, not kept anywhere */
    return fs_errno(fs_lookup(&fs, path, follow, &h->ino, &h->gen, &h->mode, &nlink, &h->uid, &h->gid, &h->size,
                              &h->atime, &h->mtime, &ct, &blocks));
}

/* A descriptor's file: only /fs files and directories have attributes to change. */
static long by_fd(struct lproc *p, uint64_t fd, struct handle *h)
{
    struct ofile *of = ofile_of(p, fd);
    uint32_t nlink, ct;
    uint64_t blocks;
    if (!of)
        return -EBADF;
    if (of->kind != FD_FILE && of->kind != FD_DIR)
        return -EINVAL;                 /* the console, pipes, sockets, /proc: nothing stored */
    h->ino = of->ino, h->gen = of->gen;
    return fs_errno(fs_stat(&fs, of->ino, of->gen, &h->mode, &nlink, &h->uid, &h->gid, &h->size, &h->atime,
                            &h->mtime, &ct, &blocks));
}

/* A path argument relative to dirfd, or with AT_EMPTY_PATH and "" the descriptor itself. */
static long by_at(struct lproc *p, int dirfd, uint64_t upath, bool empty_ok, bool follow, struct handle *h)
{
    char path[256];
    if (empty_ok) {
        char c;
        if (mem_read(p, &c, upath, 1))
            return -EFAULT;
        if (c == 0)
            return dirfd == AT_FDCWD ? by_path(p->cwd, true, h) : by_fd(p, (uint64_t)dirfd, h);
    }
    long err = path_resolve(p, upath, dirfd, path);
    return err ? err : by_path(path, follow, h);
}

static long set(const struct handle *h, uint32_t bits, uint32_t mode, uint32_t uid, uint32_t gid, uint32_t at,
                uint32_t mt)
{
    uint64_t epoch;
    return fs_errno(fs_setattr(&fs, h->ino, h->gen, bits, mode, uid, gid, at, mt, &epoch));
}

/* ---- umask ------------------------------------------------------------------- */

/* Kept XORed with 022 so that a new (zeroed) process has Linux's default. */
uint32_t umask_of(const struct lproc *p) { return p->umask_x ^ 022u; }

SYSCALL(umask)
{
    uint32_t old = umask_of(p);
    p->umask_x = (uint16_t)((a0 & 0777) ^ 022u);
    return old;
}

/* ---- chmod, chown ------------------------------------------------------------ */

static long chmod_h(struct handle *h, long err, uint64_t mode)
{
    return err ? err : set(h, SET_MODE, (uint32_t)mode & 07777, 0, 0, 0, 0);
}

SYSCALL(fchmodat)
{
    struct handle h;
    return chmod_h(&h, by_at(p, (int)a0, a1, false, true, &h), a2);
}
SYSCALL(chmod) { return sys_fchmodat(p, (uint64_t)AT_FDCWD, a0, a1, 0, 0, 0); }
SYSCALL(fchmod)
{
    struct handle h;
    return chmod_h(&h, by_fd(p, a0, &h), a1);
}

/* uid or gid -1: left as it is. */
static long chown_h(struct handle *h, long err, uint64_t uid, uint64_t gid)
{
    if (err)
        return err;
    uint32_t bits = ((uint32_t)uid != UINT32_MAX ? SET_UID : 0) | ((uint32_t)gid != UINT32_MAX ? SET_GID : 0);
    return bits ? set(h, bits, 0, (uint32_t)uid, (uint32_t)gid, 0, 0) : 0;
}

SYSCALL(fchownat)
{
    struct handle h;
    if (a4 & ~(uint64_t)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    return chown_h(&h, by_at(p, (int)a0, a1, a4 & AT_EMPTY_PATH, !(a4 & AT_SYMLINK_NOFOLLOW), &h), a2, a3);
}
SYSCALL(chown) { return sys_fchownat(p, (uint64_t)AT_FDCWD, a0, a1, a2, 0, 0); }
SYSCALL(lchown) { return sys_fchownat(p, (uint64_t)AT_FDCWD, a0, a1, a2, AT_SYMLINK_NOFOLLOW, 0); }
SYSCALL(fchown)
{
    struct handle h;
    return chown_h(&h, by_fd(p, a0, &h), a1, a2);
}

/* ---- times ------------------------------------------------------------------- */

/*
 * Two times, each "now", "leave it" or seconds: the volume keeps whole
 * seconds (ext2), so nanoseconds are checked and dropped.
 */
struct times {
    bool omit[2];
    uint32_t sec[2];
};

static long utimens_get(struct lproc *p, uint64_t uts, struct times *t)
{
    struct timespec ts[2];
    uint32_t now = (uint32_t)(clock_realtime_ns() / 1000000000u);
    if (!uts) {
        *t = (struct times){ .sec = { now, now } };
        return 0;
    }
    if (mem_read(p, ts, uts, sizeof ts))
        return -EFAULT;
    for (int i = 0; i < 2; i++) {
        t->omit[i] = ts[i].tv_nsec == UTIME_OMIT;
        t->sec[i] = ts[i].tv_nsec == UTIME_NOW ? now : (uint32_t)ts[i].tv_sec;
        if (!t->omit[i] && ts[i].tv_nsec != UTIME_NOW && (ts[i].tv_nsec < 0 || ts[i].tv_nsec > 999999999))
            return -EINVAL;
    }
    return 0;
}

static long times_h(struct handle *h, long err, const struct times *t)
{
    if (err)
        return err;
    uint32_t bits = (t->omit[0] ? 0 : SET_ATIME) | (t->omit[1] ? 0 : SET_MTIME);
    return set(h, bits, 0, 0, 0, t->sec[0], t->sec[1]);
}

SYSCALL(utimensat)
{
    struct times t;
    struct handle h;
    long err = utimens_get(p, a2, &t);
    if (err)
        return err;
    if (t.omit[0] && t.omit[1])
        return 0;                       /* as Linux: nothing to do, the path not even looked at */
    if (!a1) {                          /* futimens: the descriptor itself */
        if ((int)a0 == AT_FDCWD)
            return -EFAULT;
        return a3 ? -EINVAL : times_h(&h, by_fd(p, a0, &h), &t);
    }
    if (a3 & ~(uint64_t)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    return times_h(&h, by_at(p, (int)a0, a1, a3 & AT_EMPTY_PATH, !(a3 & AT_SYMLINK_NOFOLLOW), &h), &t);
}

/* utimes and futimesat: timevals (microseconds), NULL for now. */
SYSCALL(futimesat)
{
    struct times t = { 0 };
    struct handle h;
    if (a2) {
        struct timeval tv[2];
        if (mem_read(p, tv, a2, sizeof tv))
            return -EFAULT;
        for (int i = 0; i < 2; i++) {
            if (tv[i].tv_usec < 0 || tv[i].tv_usec > 999999)
                return -EINVAL;
            t.sec[i] = (uint32_t)tv[i].tv_sec;
        }
    } else {
        utimens_get(p, 0, &t);
    }
    if (!a1)                            /* no path: the descriptor itself, as Linux does */
        return (int)a0 == AT_FDCWD ? -EFAULT : times_h(&h, by_fd(p, a0, &h), &t);
    return times_h(&h, by_at(p, (int)a0, a1, false, true, &h), &t);
}
SYSCALL(utimes) { return sys_futimesat(p, (uint64_t)AT_FDCWD, a0, a1, 0, 0, 0); }

SYSCALL(utime)
{
    struct times t = { 0 };
    struct handle h;
    if (a1) {
        int64_t tb[2];                  /* struct utimbuf: actime, modtime */
        if (mem_read(p, tb, a1, sizeof tb))
            return -EFAULT;
        t.sec[0] = (uint32_t)tb[0], t.sec[1] = (uint32_t)tb[1];
    } else {
        utimens_get(p, 0, &t);
    }
    return times_h(&h, by_at(p, AT_FDCWD, a0, false, true, &h), &t);
}

/* ---- link, symlink ----------------------------------------------------------- */

SYSCALL(linkat)
{
    char from[256], to[256];
    if (a4 & ~(uint64_t)(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    long err = path_resolve(p, a1, (int)a0, from);
    if (!err)
        err = path_resolve(p, a3, (int)a2, to);
    if (err)
        return err;
    if (proc_path(from) || proc_path(to))
        return -EXDEV;                  /* another file system on Linux */
    return fs_errno(fs_link(&fs, from, to, a4 & AT_SYMLINK_FOLLOW));
}
SYSCALL(link) { return sys_linkat(p, (uint64_t)AT_FDCWD, a0, (uint64_t)AT_FDCWD, a1, 0, 0); }

SYSCALL(symlinkat)
{
    char target[FS_SYMLINK_TARGET_MAX + 1], path[256];
    long n = mem_string(p, target, a0, sizeof target);   /* the target is kept as given, not resolved */
    if (n < 0)
        return n;
    if (n == 0)
        return -ENOENT;
    long err = path_resolve(p, a2, (int)a1, path);
    if (err)
        return err;
    if (proc_path(path))
        return -EPERM;
    return fs_errno(fs_symlink(&fs, path, target));
}
SYSCALL(symlink) { return sys_symlinkat(p, a0, (uint64_t)AT_FDCWD, a1, 0, 0, 0); }

/* ---- truncate, fsync --------------------------------------------------------- */

static long truncate_h(struct handle *h, long err, uint64_t len)
{
    uint64_t epoch;
    if (err)
        return err;
    if (S_ISDIR(h->mode))
        return -EISDIR;
    if (!S_ISREG(h->mode))
        return -EINVAL;
    return fs_errno(fs_truncate(&fs, h->ino, h->gen, len, &epoch));
}

SYSCALL(truncate)
{
    char path[256];
    struct handle h;
    long err = path_resolve(p, a0, AT_FDCWD, path);
    if (!err && (int64_t)a1 < 0)
        return -EINVAL;
    return truncate_h(&h, err ? err : by_path(path, true, &h), a1);
}

SYSCALL(ftruncate)
{
    struct ofile *of = ofile_of(p, a0);
    struct handle h;
    if ((int64_t)a1 < 0)
        return -EINVAL;
    if (!of)
        return -EBADF;
    if (of->kind != FD_FILE || (of->flags & O_ACCMODE) == O_RDONLY)
        return -EINVAL;                 /* as Linux: not a regular file open for writing */
    return truncate_h(&h, by_fd(p, a0, &h), a1);
}

/* Every change the file server holds reaches the disk: it has no finer grain than the volume. */
static long sync_volume(void)
{
    uint64_t epoch;
    return fs_errno(fs_sync(&fs, &epoch));
}

SYSCALL(fsync)
{
    struct ofile *of = ofile_of(p, a0);
    if (!of)
        return -EBADF;
    if (of->kind != FD_FILE && of->kind != FD_DIR)
        return -EINVAL;                 /* as Linux for pipes, sockets, the console */
    return sync_volume();
}
SYSCALL(fdatasync) { return sys_fsync(p, a0, 0, 0, 0, 0, 0); }
SYSCALL(sync) { sync_volume(); return 0; }
SYSCALL(syncfs) { return ofile_of(p, a0) ? sync_volume() : -EBADF; }

/* ---- statfs ------------------------------------------------------------------ */

static long statfs_fill(struct lproc *p, bool proc, uint64_t buf)
{
    struct statfs st;
    memset(&st, 0, sizeof st);
    st.f_namelen = 255;
    st.f_bsize = st.f_frsize = 4096;
    if (proc) {
        st.f_type = PROC_SUPER_MAGIC;
    } else {
        bool mounted, ro;
        uint32_t bs;
        uint64_t blocks, free_blocks, inodes, free_inodes;
        char why[121];
        long err = fs_info(&fs, &mounted, &ro, &bs, &blocks, &free_blocks, &inodes, &free_inodes, why);
        if (err)
            return fs_errno(err);
        if (!mounted)
            return -EIO;
        st.f_type = EXT2_SUPER_MAGIC;
        st.f_bsize = st.f_frsize = bs;
        st.f_blocks = blocks;
        st.f_bfree = st.f_bavail = free_blocks;     /* the reserved blocks are root's, and everyone is root */
        st.f_files = inodes;
        st.f_ffree = free_inodes;
        st.f_fsid.__val[0] = 0x801;                 /* st_dev of every file (paths.c) */
        st.f_flags = ro ? ST_RDONLY : 0;
    }
    return mem_write(p, buf, &st, sizeof st);
}

SYSCALL(statfs)
{
    char path[256];
    struct handle h;
    long err = path_resolve(p, a0, AT_FDCWD, path);
    if (err)
        return err;
    bool proc = proc_path(path);
    if (!proc && (err = by_path(path, true, &h)) && err != -EPERM)
        return err;                     /* (a built-in device: on the root's volume, as Linux's /dev is not) */
    return statfs_fill(p, proc, a1);
}

SYSCALL(fstatfs)
{
    struct ofile *of = ofile_of(p, a0);
    if (!of)
        return -EBADF;
    return statfs_fill(p, of->kind == FD_PROCDIR || of->kind == FD_PROCFILE, a1);
}
