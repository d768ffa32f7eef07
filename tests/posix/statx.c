/*
 * statx against fstatat on the same files: a regular file, a directory,
 * a symbolic link (followed and not), a descriptor (AT_EMPTY_PATH), a
 * pipe and /dev/null; the basic mask; and its errors: EINVAL (unknown
 * flags, both sync flags, the reserved mask bit), ENOENT, ENOTDIR,
 * EBADF, EFAULT.  Values that differ between machines (inode numbers,
 * times) are compared, not printed.
 */
#define _GNU_SOURCE
#include "common.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#ifndef STATX_BASIC_STATS
#define STATX_BASIC_STATS 0x7ffu
#endif

struct xtime { long long sec; unsigned nsec; int reserved; };
struct xstat {
    unsigned mask, blksize;
    unsigned long long attributes;
    unsigned nlink, uid, gid;
    unsigned short mode, spare0;
    unsigned long long ino, size, blocks, attributes_mask;
    struct xtime atime, btime, ctime, mtime;
    unsigned rdev_major, rdev_minor, dev_major, dev_minor;
    unsigned long long spare[14];
};

static long sx(int dirfd, const char *path, int flags, unsigned mask, struct xstat *x)
{
    return syscall(SYS_statx, dirfd, path, flags, mask, x);
}

/* statx of (dirfd, path, flags) against fstatat of the same: each field that both have. */
static void compare(const char *what, int dirfd, const char *path, int flags)
{
    struct xstat x;
    struct stat st;
    memset(&x, 0xee, sizeof x);
    long r = sx(dirfd, path, flags, STATX_BASIC_STATS, &x);
    long s = fstatat(dirfd, path, &st, flags & (AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW));
    if (r || s) {
        printf("%s: statx %ld %s, fstatat %ld\n", what, r, r ? errname(errno) : "ok", s);
        return;
    }
    int same = (x.mask & STATX_BASIC_STATS) == STATX_BASIC_STATS && x.mode == st.st_mode &&
               x.ino == st.st_ino && x.nlink == st.st_nlink && x.uid == st.st_uid && x.gid == st.st_gid &&
               x.size == (unsigned long long)st.st_size && x.blocks == (unsigned long long)st.st_blocks &&
               x.blksize == (unsigned)st.st_blksize && x.mtime.sec == st.st_mtim.tv_sec &&
               x.mtime.nsec == st.st_mtim.tv_nsec && x.ctime.sec == st.st_ctim.tv_sec &&
               x.atime.sec == st.st_atim.tv_sec && x.dev_major == major(st.st_dev) &&
               x.dev_minor == minor(st.st_dev) && x.rdev_major == major(st.st_rdev) &&
               x.rdev_minor == minor(st.st_rdev);
    printf("%s: type %o, size %llu, agrees with fstatat: %s\n", what, x.mode & S_IFMT,
           S_ISREG(x.mode) ? x.size : 0, same ? "yes" : "no");
}

static void error(const char *what, int dirfd, const char *path, int flags, unsigned mask)
{
    struct xstat x;
    long r = sx(dirfd, path, flags, mask, &x);
    printf("%s: %ld %s\n", what, r, r ? errname(errno) : "ok");
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    mkdir("/tmp", 0755);
    int fd = open("/tmp/statx-file", O_CREAT | O_TRUNC | O_RDWR, 0640);
    if (fd < 0 || write(fd, "twelve bytes", 12) != 12)
        return 1;
    unlink("/tmp/statx-link");
    symlink("/tmp/statx-file", "/tmp/statx-link");
    compare("file", AT_FDCWD, "/tmp/statx-file", 0);
    compare("directory", AT_FDCWD, "/tmp", 0);
    compare("link followed", AT_FDCWD, "/tmp/statx-link", 0);
    compare("link itself", AT_FDCWD, "/tmp/statx-link", AT_SYMLINK_NOFOLLOW);
    compare("descriptor", fd, "", AT_EMPTY_PATH);
    int dir = open("/tmp", O_RDONLY | O_DIRECTORY);
    compare("relative to a directory", dir, "statx-file", 0);
    compare("/dev/null", AT_FDCWD, "/dev/null", 0);
    int pfd[2];
    if (pipe(pfd) == 0)
        compare("pipe", pfd[0], "", AT_EMPTY_PATH);
    compare("sync flags: force", AT_FDCWD, "/tmp/statx-file", 0x2000);
    compare("sync flags: don't", AT_FDCWD, "/tmp/statx-file", 0x4000);

    error("unknown flag", AT_FDCWD, "/tmp/statx-file", 0x1, STATX_BASIC_STATS);
    error("both sync flags", AT_FDCWD, "/tmp/statx-file", 0x6000, STATX_BASIC_STATS);
    error("reserved mask bit", AT_FDCWD, "/tmp/statx-file", 0, 0x80000000u);
    error("missing", AT_FDCWD, "/tmp/statx-none", 0, STATX_BASIC_STATS);
    error("through a file", AT_FDCWD, "/tmp/statx-file/x", 0, STATX_BASIC_STATS);
    error("bad descriptor", 999, "statx-file", 0, STATX_BASIC_STATS);
    error("bad path", AT_FDCWD, (const char *)8, 0, STATX_BASIC_STATS);
    struct xstat *bad = (struct xstat *)8;
    long r = sx(AT_FDCWD, "/tmp/statx-file", 0, STATX_BASIC_STATS, bad);
    printf("bad buffer: %ld %s\n", r, r ? errname(errno) : "ok");
    unlink("/tmp/statx-link");
    unlink("/tmp/statx-file");
    return 0;
}
