/*
 * Reading, writing, opening and seeking: files and directories are /fs
 * handles (inode and generation) with an offset, data moving through a
 * bounce buffer and the file server's window (fsio.c); the console is
 * tty.c's; /dev/console, /dev/tty, /dev/null, /dev/zero, /dev/random and
 * /dev/urandom are built in.  And getdents64 over fs.idl's readdir.
 */
#include "personality.h"
#include "console.h"
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>

#define BOUNCE (64 * 1024)
#define ZERO_MAX (16u << 20)            /* the most one read of /dev/zero gives */

static char bounce[BOUNCE];

/* The devices built in, none of them on /fs; an ofile's ino is its index here. */
static const struct device {
    const char *path;
    uint8_t kind;
    uint8_t major, minor;
    uint16_t mode;
} devices[] = {
    { "/dev/console", FD_CONSOLE, 5, 1, 0620 },
    { "/dev/tty", FD_CONSOLE, 5, 1, 0620 },     /* the console as the controlling terminal */
    { "/dev/null", FD_NULL, 1, 3, 0666 },
    { "/dev/zero", FD_NULL, 1, 5, 0666 },
    { "/dev/random", FD_NULL, 1, 8, 0666 },
    { "/dev/urandom", FD_NULL, 1, 9, 0666 },
};
#define DEVICES (int)(sizeof devices / sizeof devices[0])

int device_of(const char *path)
{
    for (int i = 0; i < DEVICES; i++)
        if (!strcmp(path, devices[i].path))
            return i;
    return -1;
}

void device_stat(int i, struct stat *st)
{
    const struct device *d = &devices[i >= 0 && i < DEVICES ? i : 0];
    stat_fill(st, 1 + (uint32_t)i, S_IFCHR | d->mode, 1, 0, 0, 0, 0, 0, 0, 0);
    st->st_rdev = (dev_t)(d->major << 8 | d->minor);
    st->st_dev = 5;
}

/* A read of a device that is not the console: nothing (null), zeros, or random bytes. */
static long device_read(struct lproc *p, const struct ofile *of, uint64_t buf, uint64_t n)
{
    uint8_t minor = devices[of->ino < (uint32_t)DEVICES ? of->ino : 0].minor;
    if (minor == 3)
        return 0;
    if (minor == 5) {                   /* zeros: the whole read, as Linux (dd bs=1M), up to ZERO_MAX */
        n = n < ZERO_MAX ? n : ZERO_MAX;
        memset(bounce, 0, BOUNCE);
        for (uint64_t done = 0; done < n; done += BOUNCE)
            if (mem_write(p, buf + done, bounce, n - done < BOUNCE ? n - done : BOUNCE))
                return -EFAULT;
        return (long)n;
    }
    n = n < BOUNCE ? n : BOUNCE;        /* a short read, as Linux's are for these too past a limit */
    random_bytes(bounce, n);
    return mem_write(p, buf, bounce, n) ? -EFAULT : (long)n;
}

static long transfer(struct lproc *p, uint64_t fd, uint64_t buf, uint64_t n, int64_t off, bool write)
{
    struct ofile *of = ofile_of(p, fd);
    if (!of)
        return -EBADF;
    uint32_t acc = of->flags & O_ACCMODE;
    if ((write && acc == O_RDONLY) || (!write && acc == O_WRONLY))
        return -EBADF;
    switch (of->kind) {
    case FD_CONSOLE:
        if (off >= 0)
            return -ESPIPE;
        return write ? console_out(p, buf, n) : console_in(p, of, buf, n);
    case FD_NULL:
        return write ? (long)n : device_read(p, of, buf, n);
    case FD_PIPE_R:
    case FD_PIPE_W:
        return off >= 0 ? -ESPIPE : pipe_transfer(p, of, buf, n, write);
    case FD_DIR:
    case FD_PROCDIR:
        return -EISDIR;
    case FD_PROCFILE:
        return write ? -EINVAL : off >= 0 ? -ESPIPE : proc_read(p, of, buf, n);
    case FD_SOCKET:
        return off >= 0 ? -ESPIPE : sock_transfer(p, fd, of, buf, n, write);
    case FD_UNIX:
        return off >= 0 ? -ESPIPE : unix_syscall(p);
    case FD_EPOLL:
        return -EINVAL;
    default:
        break;
    }
    uint64_t pos = off >= 0 ? (uint64_t)off : of->pos;
    if (write && off < 0 && (of->flags & O_APPEND)) {
        uint32_t mode, nlink, uid, gid, at, mt, ct;
        uint64_t blocks;
        long err = fs_stat(&fs, of->ino, of->gen, &mode, &nlink, &uid, &gid, &pos, &at, &mt, &ct, &blocks);
        if (err)
            return fs_errno(err);
    }
    uint64_t done = 0;
    while (done < n) {
        uint64_t k = n - done < BOUNCE ? n - done : BOUNCE, got = k;
        long err;
        if (write) {
            if (mem_read(p, bounce, buf + done, k))
                err = -EFAULT;
            else
                err = fsio_write(of->ino, of->gen, pos + done, bounce, k);
        } else {
            err = fsio_read(of->ino, of->gen, pos + done, bounce, k, &got);
            if (!err && mem_write(p, buf + done, bounce, got))
                err = -EFAULT;
        }
        if (err) {
            if (!done)
                return err;
            break;
        }
        done += got;
        if (got < k)
            break;
    }
    if (off < 0)
        of->pos = pos + done;
    return (long)done;
}

SYSCALL(read) { return transfer(p, a0, a1, a2, -1, false); }
SYSCALL(write) { return transfer(p, a0, a1, a2, -1, true); }
SYSCALL(pread64) { return (int64_t)a3 < 0 ? -EINVAL : transfer(p, a0, a1, a2, (int64_t)a3, false); }
SYSCALL(pwrite64) { return (int64_t)a3 < 0 ? -EINVAL : transfer(p, a0, a1, a2, (int64_t)a3, true); }

static long vector(struct lproc *p, uint64_t fd, uint64_t iov, uint64_t count, bool write)
{
    if (count > 1024)
        return -EINVAL;
    if (unix_fd(p, fd))
        return unix_syscall(p);         /* one message of all the iovecs */
    long total = 0;
    for (uint64_t i = 0; i < count; i++) {
        struct iovec v;
        if (mem_read(p, &v, iov + i * sizeof v, sizeof v))
            return total ? total : -EFAULT;
        if (!v.iov_len)
            continue;
        long n = transfer(p, fd, (uint64_t)v.iov_base, v.iov_len, -1, write);
        if (n == NO_ANSWER) {
            if (total && deferred) {
                /* Something moved already: answer that, not the wait. */
                pipe_cancel_keep(p);
                sock_cancel_keep(p);
                return total;
            }
            return n;
        }
        if (n < 0)
            return total ? total : n;
        total += n;
        if ((uint64_t)n < v.iov_len)
            break;
    }
    return total;
}

SYSCALL(readv) { return vector(p, a0, a1, a2, false); }
SYSCALL(writev) { return vector(p, a0, a1, a2, true); }

/* ---- opening and closing -------------------------------------------------- */

static long open_at(struct lproc *p, int dirfd, uint64_t upath, uint32_t flags, uint32_t mode)
{
    char path[256];
    long err = path_resolve(p, upath, dirfd, path);
    if (err)
        return err;
    bool cloexec = flags & O_CLOEXEC;
    if (proc_path(path)) {
        size_t len = strlen(path);
        /* /proc/PID/exe opens the program it names; anything else under /proc is ours. */
        if (len < 4 || strcmp(path + len - 4, "/exe"))
            return proc_open(p, path, flags, cloexec);
        char target[256];
        long n = proc_readlink(p, path, target, sizeof target);
        if (n < 0)
            return n;
        strcpy(path, target);
    }
    uint32_t keep = flags & (O_ACCMODE | O_APPEND | O_NONBLOCK);
    int dev = device_of(path);
    if (dev >= 0) {
        struct ofile *of = ofile_new(devices[dev].kind, keep);
        if (!of)
            return -ENFILE;
        of->ino = (uint32_t)dev;
        long fd = fd_new(p, of, 0, cloexec);
        if (fd < 0)
            ofile_drop(of);
        return fd;
    }
    uint32_t ino, gen, fmode, nlink, uid, gid, at, mt, ct;
    uint64_t size, blocks;
    err = fs_lookup(&fs, path, !(flags & O_NOFOLLOW), &ino, &gen, &fmode, &nlink, &uid, &gid, &size, &at, &mt, &ct,
                    &blocks);
    if (err == FS_E_NOT_FOUND && (flags & O_CREAT)) {
        err = fs_create(&fs, path, mode & 07777 & ~umask_of(p), &ino, &gen);
        fmode = S_IFREG;
        if (err)
            return fs_errno(err);
    } else if (err) {
        return fs_errno(err);
    } else if ((flags & O_CREAT) && (flags & O_EXCL)) {
        return -EEXIST;
    }
    if (S_ISFIFO(fmode))
        return fifo_open(p, ino, gen, flags, cloexec);    /* a pipe (pipe.c) */
    bool dir = S_ISDIR(fmode), writing = (flags & O_ACCMODE) != O_RDONLY;
    if (S_ISLNK(fmode))
        return -ELOOP;                  /* O_NOFOLLOW on a link */
    if (dir && writing)
        return -EISDIR;
    if (!dir && (flags & O_DIRECTORY))
        return -ENOTDIR;
    if (!dir && writing && (flags & O_TRUNC)) {
        uint64_t epoch;
        if ((err = fs_truncate(&fs, ino, gen, 0, &epoch)))
            return fs_errno(err);
    }
    struct ofile *of = ofile_new(dir ? FD_DIR : FD_FILE, keep);
    if (!of)
        return -ENFILE;
    of->ino = ino, of->gen = gen;
    strcpy(of->path, path);
    long fd = fd_new(p, of, 0, cloexec);
    if (fd < 0)
        ofile_drop(of);
    return fd;
}

SYSCALL(open) { return open_at(p, AT_FDCWD, a0, (uint32_t)a1, (uint32_t)a2); }
SYSCALL(openat) { return open_at(p, (int)a0, a1, (uint32_t)a2, (uint32_t)a3); }
SYSCALL(creat) { return open_at(p, AT_FDCWD, a0, O_CREAT | O_WRONLY | O_TRUNC, (uint32_t)a1); }

SYSCALL(lseek)
{
    struct ofile *of = ofile_of(p, a0);
    int64_t off = (int64_t)a1, base = 0;
    if (!of)
        return -EBADF;
    if (of->kind == FD_CONSOLE || of->kind == FD_PIPE_R || of->kind == FD_PIPE_W || of->kind == FD_SOCKET ||
        of->kind == FD_UNIX)
        return -ESPIPE;
    if (of->kind == FD_EPOLL)
        return 0;                       /* Linux's noop_llseek: the offset stays 0 */
    if (of->kind == FD_DIR || of->kind == FD_PROCDIR) {
        if (a2 != SEEK_SET || off != 0)
            return -EINVAL;
        of->pos = 0;                    /* rewinddir */
        return 0;
    }
    if (a2 == SEEK_CUR) {
        base = (int64_t)of->pos;
    } else if (a2 == SEEK_END) {
        uint32_t mode, nlink, uid, gid, at, mt, ct;
        uint64_t size = 0, blocks;
        long err = of->kind == FD_FILE
                       ? fs_stat(&fs, of->ino, of->gen, &mode, &nlink, &uid, &gid, &size, &at, &mt, &ct, &blocks)
                       : 0;
        if (err)
            return fs_errno(err);
        base = (int64_t)size;
    } else if (a2 != SEEK_SET) {
        return -EINVAL;
    }
    if (base + off < 0)
        return -EINVAL;
    of->pos = (uint64_t)(base + off);
    return (long)of->pos;
}

/* ---- directories ------------------------------------------------------------ */

SYSCALL(getdents64)
{
    struct ofile *of = ofile_of(p, a0);
    if (!of)
        return -EBADF;
    if (of->kind == FD_PROCDIR)
        return proc_getdents(p, of, a1, a2);
    if (of->kind != FD_DIR)
        return -ENOTDIR;
    static const uint8_t dtype[8] = { 0, 8, 4, 2, 6, 1, 12, 10 };   /* ext2's file types as DT_* */
    uint64_t used = 0;
    while (of->pos != UINT64_MAX) {
        uint64_t next;
        uint32_t entry;
        uint8_t type;
        char name[FS_READDIR_NAME_MAX + 1];
        long err = fs_readdir(&fs, of->ino, of->gen, of->pos, &next, &entry, &type, name);
        if (err)
            return used ? (long)used : fs_errno(err);
        if (!entry) {
            of->pos = UINT64_MAX;       /* the end */
            break;
        }
        size_t nlen = strlen(name);
        uint64_t reclen = (19 + nlen + 1 + 7) & ~7ull;
        if (used + reclen > a2) {
            if (!used)
                return -EINVAL;
            break;
        }
        struct { uint64_t ino; int64_t off; uint16_t reclen; uint8_t type; } __attribute__((packed)) d = {
            entry, (int64_t)next, (uint16_t)reclen, type < 8 ? dtype[type] : 0 };
        char rec[19 + 256 + 8] = { 0 };
        memcpy(rec, &d, 19);
        memcpy(rec + 19, name, nlen);
        if (mem_write(p, a1 + used, rec, reclen))
            return -EFAULT;
        used += reclen;
        of->pos = next;
    }
    return (long)used;
}

