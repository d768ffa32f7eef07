/*
 * A file's metadata and names: umask, chmod, chown, the time calls, hard
 * and symbolic links, truncate, fsync, statfs, fcntl's record locks
 * between processes, and each call's errors.
 */
#define _GNU_SOURCE
#include "common.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

static void show(const char *what, const char *path, bool follow)
{
    struct stat st;
    if ((follow ? stat(path, &st) : lstat(path, &st)) < 0) {
        printf("%s: %s\n", what, errname(errno));
        return;
    }
    /* A directory's size is the volume's block size: not printed. */
    printf("%s: mode %o uid %u gid %u nlink %lu size %ld\n", what, st.st_mode, st.st_uid, st.st_gid,
           (unsigned long)st.st_nlink, S_ISDIR(st.st_mode) ? 0 : (long)st.st_size);
}

static void times_of(const char *what, const char *path, bool follow)
{
    struct stat st;
    if ((follow ? stat(path, &st) : lstat(path, &st)) < 0)
        printf("%s: %s\n", what, errname(errno));
    else
        printf("%s: atime %ld mtime %ld\n", what, (long)st.st_atim.tv_sec, (long)st.st_mtim.tv_sec);
}

static void modes_and_owners(void)
{
    umask(027);
    printf("umask was 027: %03o\n", (unsigned)umask(027));
    CHECK("mkdir meta", mkdir("meta", 0777));
    int fd = open("meta/f", O_CREAT | O_RDWR, 0666);
    printf("create under umask 027: %s\n", fd >= 0 ? "ok" : errname(errno));
    show("new file", "meta/f", true);
    show("new directory", "meta", true);
    CHECK("mkdir meta/sub", mkdir("meta/sub", 0777));
    show("new subdirectory", "meta/sub", true);
    umask(022);
    CHECK("chmod 0600", chmod("meta/f", 0600));
    show("after chmod", "meta/f", true);
    CHECK("chmod a missing file", chmod("meta/none", 0600));
    CHECK("chmod under a file", chmod("meta/f/x", 0600));
    CHECK("fchmod 0640", fchmod(fd, 0640));
    show("after fchmod", "meta/f", true);
    CHECK("fchmod a bad descriptor", fchmod(99, 0600));
    CHECK("fchmodat 04604", fchmodat(AT_FDCWD, "meta/f", 04604, 0));
    show("after fchmodat", "meta/f", true);
    CHECK("chmod a directory 0700", chmod("meta/sub", 0700));
    show("directory after chmod", "meta/sub", true);
    CHECK("chmod back 0644", chmod("meta/f", 0644));

    CHECK("chown 1000 100", chown("meta/f", 1000, 100));
    show("after chown", "meta/f", true);
    CHECK("chown -1 200", chown("meta/f", (uid_t)-1, 200));
    show("group only", "meta/f", true);
    CHECK("fchown 7 -1", fchown(fd, 7, (gid_t)-1));
    show("owner only", "meta/f", true);
    CHECK("fchown a bad descriptor", fchown(99, 0, 0));
    CHECK("chown a missing file", chown("meta/none", 0, 0));
    CHECK("symlink meta/l -> f", symlink("f", "meta/l"));
    CHECK("lchown the link 5 6", lchown("meta/l", 5, 6));
    show("the link itself", "meta/l", false);
    show("its target unchanged", "meta/l", true);
    CHECK("chown through the link 8 9", chown("meta/l", 8, 9));
    show("target after chown through the link", "meta/f", true);
    CHECK("fchownat nofollow", fchownat(AT_FDCWD, "meta/l", 11, 12, AT_SYMLINK_NOFOLLOW));
    show("the link after fchownat", "meta/l", false);
    CHECK("fchownat bad flags", fchownat(AT_FDCWD, "meta/l", 0, 0, 1));
    CHECK("fchownat empty path", fchownat(fd, "", 0, 0, AT_EMPTY_PATH));
    show("after fchownat of the descriptor", "meta/f", true);
    close(fd);
}

static void times(void)
{
    struct timespec ts[2] = { { 1000000000, 0 }, { 1200000000, 0 } };
    CHECK("utimensat", utimensat(AT_FDCWD, "meta/f", ts, 0));
    times_of("after utimensat", "meta/f", true);
    ts[0].tv_nsec = UTIME_OMIT;
    ts[1].tv_sec = 1300000000;
    CHECK("utimensat atime omitted", utimensat(AT_FDCWD, "meta/f", ts, 0));
    times_of("only mtime changed", "meta/f", true);
    ts[1].tv_nsec = UTIME_OMIT;
    CHECK("utimensat both omitted, missing file", utimensat(AT_FDCWD, "meta/none", ts, 0));
    ts[0] = (struct timespec){ 1, 1000000000 };
    ts[1] = (struct timespec){ 1, 0 };
    CHECK("utimensat nanoseconds out of range", utimensat(AT_FDCWD, "meta/f", ts, 0));
    ts[0].tv_nsec = 0;
    CHECK("utimensat bad flags", utimensat(AT_FDCWD, "meta/f", ts, 1));
    CHECK("utimensat missing file", utimensat(AT_FDCWD, "meta/none", ts, 0));
    CHECK("utimensat bad address", syscall(SYS_utimensat, AT_FDCWD, "meta/f", 8L, 0));
    ts[0] = (struct timespec){ 1100000000, 0 };
    ts[1] = (struct timespec){ 1150000000, 0 };
    CHECK("utimensat the link itself", utimensat(AT_FDCWD, "meta/l", ts, AT_SYMLINK_NOFOLLOW));
    times_of("the link", "meta/l", false);
    times_of("its target", "meta/f", true);
    int fd = open("meta/f", O_RDONLY);
    ts[1] = (struct timespec){ 1250000000, 0 };
    CHECK("futimens", futimens(fd, ts));
    times_of("after futimens", "meta/f", true);
    CHECK("futimens a bad descriptor", futimens(99, ts));
    struct timeval fv[2] = { { 1260000000, 0 }, { 1270000000, 0 } };
    CHECK("futimesat of the descriptor", syscall(SYS_futimesat, fd, NULL, fv));
    times_of("after futimesat", "meta/f", true);
    close(fd);
    struct timeval tv[2] = { { 1400000000, 5 }, { 1500000000, 0 } };
    CHECK("utimes", utimes("meta/f", tv));
    times_of("after utimes", "meta/f", true);
    tv[0].tv_usec = 1000000;
    CHECK("utimes microseconds out of range", utimes("meta/f", tv));
    struct utimbuf ub = { 1600000000, 1700000000 };
    CHECK("utime", utime("meta/f", &ub));
    times_of("after utime", "meta/f", true);
    CHECK("utimensat now", utimensat(AT_FDCWD, "meta/f", NULL, 0));
    struct stat st;
    stat("meta/f", &st);
    long late = (long)time(NULL) - (long)st.st_mtim.tv_sec;
    printf("mtime is now: %s\n", late >= 0 && late <= 2 ? "yes" : "no");
}

static void links(void)
{
    struct stat a, b;
    CHECK("link", link("meta/f", "meta/h"));
    stat("meta/f", &a);
    stat("meta/h", &b);
    printf("same inode: %s, links %lu\n", a.st_ino == b.st_ino ? "yes" : "no", (unsigned long)a.st_nlink);
    CHECK("link onto an existing name", link("meta/f", "meta/h"));
    CHECK("link a directory", link("meta/sub", "meta/d"));
    CHECK("link a missing file", link("meta/none", "meta/x"));
    CHECK("link into a missing directory", link("meta/f", "meta/none/x"));
    CHECK("linkat the link itself", linkat(AT_FDCWD, "meta/l", AT_FDCWD, "meta/l2", 0));
    show("a link to the symbolic link", "meta/l2", false);
    CHECK("linkat following", linkat(AT_FDCWD, "meta/l", AT_FDCWD, "meta/l3", AT_SYMLINK_FOLLOW));
    show("a link to its target", "meta/l3", false);
    CHECK("linkat bad flags", linkat(AT_FDCWD, "meta/f", AT_FDCWD, "meta/l4", 1));
    CHECK("unlink h", unlink("meta/h"));
    CHECK("unlink l2", unlink("meta/l2"));
    CHECK("unlink l3", unlink("meta/l3"));
    show("links back to one", "meta/f", true);

    char buf[512];
    memset(buf, 0, sizeof buf);
    long n = readlink("meta/l", buf, sizeof buf);
    printf("readlink: %ld \"%s\"\n", n, n > 0 ? buf : "");
    n = readlink("meta/l", buf, 0);
    printf("readlink into 0 bytes: %s\n", n < 0 ? errname(errno) : "ok");
    memset(buf, 0, sizeof buf);
    printf("readlink into 1 byte: %ld \"%s\"\n", (long)readlink("meta/l", buf, 1), buf);
    CHECK("readlink of a file", readlink("meta/f", buf, sizeof buf));
    CHECK("readlink of a missing file", readlink("meta/none", buf, sizeof buf));
    CHECK("symlink onto an existing name", symlink("x", "meta/l"));
    CHECK("symlink to an empty target", symlink("", "meta/e"));
    CHECK("symlink in a missing directory", symlink("x", "meta/none/x"));
    CHECK("symlink dangling", symlink("nowhere", "meta/dangling"));
    show("dangling, followed", "meta/dangling", true);
    show("dangling, itself", "meta/dangling", false);
    int dir = open("meta/sub", O_RDONLY | O_DIRECTORY);
    CHECK("symlinkat relative to a directory", symlinkat("../f", dir, "up"));
    memset(buf, 0, sizeof buf);
    n = readlinkat(dir, "up", buf, sizeof buf);
    printf("readlinkat: %ld \"%s\"\n", n, n > 0 ? buf : "");
    show("through the relative link", "meta/sub/up", true);
    close(dir);
    CHECK("symlink loop a", symlink("loopb", "meta/loopa"));
    CHECK("symlink loop b", symlink("loopa", "meta/loopb"));
    show("stat of a loop", "meta/loopa", true);
    CHECK("open of a loop", open("meta/loopa", O_RDONLY));
    char target[301];
    memset(target, 'a', 300);
    target[300] = 0;
    CHECK("symlink with a 300-byte target", symlink(target, "meta/long"));
    printf("its readlink: %ld\n", (long)readlink("meta/long", buf, sizeof buf));
    show("the long link", "meta/long", false);
    const char *gone[] = { "meta/dangling", "meta/sub/up", "meta/loopa", "meta/loopb", "meta/long" };
    for (unsigned i = 0; i < sizeof gone / sizeof gone[0]; i++)
        unlink(gone[i]);
}

static void sizes(void)
{
    int fd = open("meta/f", O_RDWR | O_TRUNC);
    char buf[16] = { 0 };
    printf("write: %ld\n", (long)write(fd, "abcdef", 6));
    CHECK("truncate to 10000", truncate("meta/f", 10000));
    show("grown", "meta/f", true);
    printf("pread at 5000: %ld, byte %d\n", (long)pread(fd, buf, 4, 5000), buf[0]);
    CHECK("truncate to 3", truncate("meta/f", 3));
    memset(buf, 0, sizeof buf);
    printf("pread after: %ld \"%s\"\n", (long)pread(fd, buf, sizeof buf, 0), buf);
    CHECK("truncate to -1", truncate("meta/f", -1));
    CHECK("truncate a directory", truncate("meta/sub", 0));
    CHECK("truncate a missing file", truncate("meta/none", 0));
    CHECK("truncate through a link", truncate("meta/l", 2));
    show("truncated through the link", "meta/f", true);
    CHECK("ftruncate to 5", ftruncate(fd, 5));
    show("ftruncated", "meta/f", true);
    CHECK("ftruncate to -1", ftruncate(fd, -1));
    CHECK("ftruncate a bad descriptor", ftruncate(99, 0));
    int ro = open("meta/f", O_RDONLY);
    CHECK("ftruncate a read-only descriptor", ftruncate(ro, 0));
    int p[2];
    pipe(p);
    CHECK("ftruncate a pipe", ftruncate(p[0], 0));
    CHECK("fsync", fsync(fd));
    CHECK("fdatasync", fdatasync(fd));
    CHECK("fsync a read-only descriptor", fsync(ro));
    CHECK("fsync a directory", fsync(open("meta", O_RDONLY | O_DIRECTORY)));
    CHECK("fsync a bad descriptor", fsync(99));
    CHECK("fsync a pipe", fsync(p[1]));
    sync();
    printf("sync: ok\n");
    struct statfs sf;
    CHECK("statfs /", statfs("/", &sf));
    printf("statfs sane: %s\n", sf.f_bsize > 0 && sf.f_blocks >= sf.f_bfree && sf.f_bfree >= sf.f_bavail &&
                                 sf.f_namelen == 255 ? "yes" : "no");
    CHECK("fstatfs", fstatfs(fd, &sf));
    CHECK("statfs a missing file", statfs("meta/none", &sf));
    CHECK("statfs bad address", syscall(SYS_statfs, "/", 8L));
    CHECK("fstatfs a bad descriptor", fstatfs(99, &sf));
    close(ro);
    close(fd);
    close(p[0]);
    close(p[1]);
}

static int lock(int fd, int cmd, short type, off_t start, off_t len)
{
    struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
    return fcntl(fd, cmd, &fl);
}

/* Record locks between a parent and its child; each waits for the other through a pipe. */
static void locks(void)
{
    int fd = open("meta/lk", O_CREAT | O_RDWR, 0644), p[2];
    char c;
    pipe(p);
    CHECK("parent: write lock 0-99", lock(fd, F_SETLK, F_WRLCK, 0, 100));
    CHECK("parent: its own lock again, read", lock(fd, F_SETLK, F_RDLCK, 0, 10));
    CHECK("lock a bad type", lock(fd, F_SETLK, 7, 0, 1));
    CHECK("lock before the start", lock(fd, F_SETLK, F_WRLCK, -5, 2));
    CHECK("lock a bad descriptor", lock(99, F_SETLK, F_WRLCK, 0, 1));
    CHECK("lock bad address", fcntl(fd, F_SETLK, (void *)8));
    int ro = open("meta/lk", O_RDONLY);
    CHECK("write lock on a read-only descriptor", lock(ro, F_SETLK, F_WRLCK, 200, 1));
    close(ro);                          /* lets go the parent's locks on the file: set them again */
    CHECK("parent: write lock 0-99 again", lock(fd, F_SETLK, F_WRLCK, 0, 100));
    pid_t child = fork();
    if (child == 0) {
        int cfd = open("meta/lk", O_RDWR);
        struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 50, .l_len = 1 };
        CHECK("child: write lock 50 (held)", lock(cfd, F_SETLK, F_WRLCK, 50, 1));
        CHECK("child: read lock 10-19 (held)", lock(cfd, F_SETLK, F_RDLCK, 10, 10));
        CHECK("child: read lock 100-109 (free)", lock(cfd, F_SETLK, F_RDLCK, 100, 10));
        CHECK("child: getlk", fcntl(cfd, F_GETLK, &fl));
        printf("child: held by the parent: type %s start %ld len %ld pid %s\n", fl.l_type == F_WRLCK ? "write" : "?",
               (long)fl.l_start, (long)fl.l_len, fl.l_pid == getppid() ? "parent" : "other");
        fl = (struct flock){ .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 500, .l_len = 0 };
        fcntl(cfd, F_GETLK, &fl);
        printf("child: getlk of a free range: %s\n", fl.l_type == F_UNLCK ? "unlocked" : "locked");
        write(p[1], "a", 1);
        CHECK("child: waits for 0-9", lock(cfd, F_SETLKW, F_WRLCK, 0, 10));
        printf("child: has 0-9\n");
        /* The parent's wait for 10-19 would then close a circle with ours for its 50-59. */
        CHECK("child: write lock 10-19", lock(cfd, F_SETLK, F_WRLCK, 10, 10));
        write(p[1], "b", 1);
        CHECK("child: waits for 50-59", lock(cfd, F_SETLKW, F_WRLCK, 50, 10));
        printf("child: has 50-59\n");
        _exit(0);
    }
    read(p[0], &c, 1);
    struct timespec ms100 = { 0, 100000000 };
    nanosleep(&ms100, NULL);
    printf("parent: unlocks 0-49\n");
    int unlocked = lock(fd, F_SETLK, F_UNLCK, 0, 50);     /* said once the child has gone on: no race */
    read(p[0], &c, 1);
    printf("parent: unlock 0-49: %s\n", unlocked ? errname(errno) : "ok");
    nanosleep(&ms100, NULL);
    CHECK("parent: waits for 10-19 (deadlock)", lock(fd, F_SETLKW, F_WRLCK, 10, 10));
    CHECK("parent: read lock 20-29", lock(fd, F_SETLK, F_RDLCK, 20, 10));
    CHECK("parent: unlock 60-69, splitting 50-99", lock(fd, F_SETLK, F_UNLCK, 60, 10));
    printf("parent: closes, letting go 50-59 and 70-99\n");
    close(fd);
    int status;
    waitpid(child, &status, 0);
    printf("child exit %d\n", WEXITSTATUS(status));
    fd = open("meta/lk", O_RDWR);
    CHECK("locks gone with the processes", lock(fd, F_SETLK, F_WRLCK, 0, 0));
    close(fd);
    unlink("meta/lk");
}

static void limits(void)
{
    struct rlimit r;
    CHECK("getrlimit nofile", getrlimit(RLIMIT_NOFILE, &r));
    printf("nofile sane: %s\n", r.rlim_cur > 3 && r.rlim_cur <= r.rlim_max ? "yes" : "no");
    CHECK("getrlimit 99", syscall(SYS_getrlimit, 99, &r));
    CHECK("getrlimit bad address", syscall(SYS_getrlimit, RLIMIT_STACK, 8L));
    r = (struct rlimit){ 64, 32 };
    CHECK("setrlimit soft above hard", setrlimit(RLIMIT_NOFILE, &r));
    CHECK("setrlimit 99", syscall(SYS_setrlimit, 99, &r));
    CHECK("setrlimit bad address", syscall(SYS_setrlimit, RLIMIT_NOFILE, 8L));
    /* In a child, which inherits the limit: descriptors stop at its soft limit. */
    pid_t child = fork();
    if (child == 0) {
        r = (struct rlimit){ 20, 40 };
        CHECK("setrlimit nofile 20 40", setrlimit(RLIMIT_NOFILE, &r));
        if (fork() == 0) {
            getrlimit(RLIMIT_NOFILE, &r);
            printf("grandchild inherits: %ld %ld\n", (long)r.rlim_cur, (long)r.rlim_max);
            int last = -1, fd;
            while ((fd = dup(1)) >= 0)
                last = fd;
            printf("dup stops after %d: %s\n", last, errname(errno));
            CHECK("dup2 to the limit", dup2(1, 20));
            CHECK("F_DUPFD from the limit", fcntl(1, F_DUPFD, 20));
            _exit(0);
        }
        wait(NULL);
        r = (struct rlimit){ RLIM_INFINITY, RLIM_INFINITY };
        CHECK("setrlimit stack unlimited", setrlimit(RLIMIT_STACK, &r));
        getrlimit(RLIMIT_STACK, &r);
        printf("stack unlimited: %s\n", r.rlim_cur == RLIM_INFINITY ? "yes" : "no");
        _exit(0);
    }
    waitpid(child, NULL, 0);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    modes_and_owners();
    times();
    links();
    sizes();
    locks();
    limits();
    CHECK("unlink f", unlink("meta/f"));
    CHECK("unlink l", unlink("meta/l"));
    CHECK("rmdir sub", rmdir("meta/sub"));
    CHECK("rmdir meta", rmdir("meta"));
    return 0;
}
