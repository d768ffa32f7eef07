/* Files and directories through /fs: the calls and their error returns. */
#define _GNU_SOURCE
#include "common.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The directory's entries through getdents64 itself, sorted (their order is the file system's). */
static void list(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    char buf[512], *names[32];
    int n = 0;
    long got;
    while ((got = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0)
        for (long at = 0; at < got;) {
            struct { unsigned long ino; long off; unsigned short reclen; unsigned char type; char name[]; } *d =
                (void *)(buf + at);
            if (n < 32)
                names[n++] = strdup(d->name);
            at += d->reclen;
        }
    qsort(names, n, sizeof names[0], by_name);
    printf("%s holds:", path);
    for (int i = 0; i < n; i++)
        printf(" %s", names[i]);
    printf("\n");
    close(fd);
}

int main(void)
{
    char buf[64];
    struct stat st;
    CHECK("mkdir work", mkdir("work", 0755));
    CHECK("mkdir work again", mkdir("work", 0755));
    int fd = open("work/a.txt", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    printf("open for writing: %s\n", fd >= 0 ? "ok" : errname(errno));
    printf("write: %ld\n", (long)write(fd, "hello file\n", 11));
    CHECK("read from a write-only file", read(fd, buf, 1));
    CHECK("close", close(fd));
    fd = open("work/a.txt", O_RDONLY);
    memset(buf, 0, sizeof buf);
    printf("read: %ld \"%.10s\"\n", (long)read(fd, buf, sizeof buf - 1), buf);
    printf("read at the end: %ld\n", (long)read(fd, buf, sizeof buf));
    printf("lseek set 6: %ld\n", (long)lseek(fd, 6, SEEK_SET));
    memset(buf, 0, sizeof buf);
    printf("read 4: %ld \"%s\"\n", (long)read(fd, buf, 4), buf);
    printf("lseek cur 0: %ld\n", (long)lseek(fd, 0, SEEK_CUR));
    printf("lseek end 0: %ld\n", (long)lseek(fd, 0, SEEK_END));
    CHECK("lseek before the start", lseek(fd, -20, SEEK_SET));
    CHECK("fstat", fstat(fd, &st));
    printf("fstat: regular %d, size %ld, mode %o\n", S_ISREG(st.st_mode), (long)st.st_size, st.st_mode & 0777);
    memset(buf, 0, sizeof buf);
    printf("pread at 0: %ld \"%.5s\"\n", (long)pread(fd, buf, 5, 0), buf);
    CHECK("write to a read-only file", write(fd, "x", 1));
    close(fd);
    fd = open("work/a.txt", O_WRONLY | O_APPEND);
    printf("append: %ld\n", (long)write(fd, "more\n", 5));
    close(fd);
    fd = open("work/a.txt", O_WRONLY);
    printf("pwrite at 0: %ld\n", (long)pwrite(fd, "J", 1, 0));
    close(fd);
    CHECK("stat", stat("work/a.txt", &st));
    printf("stat: size %ld\n", (long)st.st_size);
    fd = open("work/a.txt", O_RDONLY);
    memset(buf, 0, sizeof buf);
    read(fd, buf, sizeof buf - 1);
    printf("contents: %s", buf);
    close(fd);
    CHECK("open missing", open("work/missing", O_RDONLY));
    CHECK("open a directory for writing", open("work", O_WRONLY));
    CHECK("open under a file", open("work/a.txt/x", O_RDONLY));
    CHECK("open O_CREAT|O_EXCL existing", open("work/a.txt", O_CREAT | O_EXCL | O_WRONLY, 0644));
    CHECK("O_DIRECTORY on a file", open("work/a.txt", O_RDONLY | O_DIRECTORY));
    CHECK("read bad fd", read(99, buf, 1));
    CHECK("close bad fd", close(99));
    CHECK("fstat bad fd", fstat(42, &st));
    CHECK("rename", rename("work/a.txt", "work/b.txt"));
    CHECK("stat old name", stat("work/a.txt", &st));
    CHECK("stat new name", stat("work/b.txt", &st));
    CHECK("rename missing", rename("work/none", "work/c"));
    CHECK("mkdir sub", mkdir("work/sub", 0755));
    CHECK("mkdir under missing", mkdir("work/none/sub", 0755));
    list("work");
    CHECK("rmdir non-empty", rmdir("work"));
    CHECK("unlink a directory", unlink("work/sub"));
    CHECK("rmdir a file", rmdir("work/b.txt"));
    CHECK("chdir work", chdir("work"));
    char cwd[256];
    printf("getcwd ends in: %s\n", getcwd(cwd, sizeof cwd) ? base_name(cwd) : errname(errno));
    CHECK("stat relative", stat("b.txt", &st));
    CHECK("chdir to a file", chdir("b.txt"));
    CHECK("chdir ..", chdir(".."));
    int dfd = open("work", O_RDONLY | O_DIRECTORY);
    CHECK("openat relative to a directory", close(openat(dfd, "b.txt", O_RDONLY)));
    CHECK("fstatat", fstatat(dfd, "sub", &st, 0));
    printf("fstatat: directory %d\n", S_ISDIR(st.st_mode));
    CHECK("read a directory", read(dfd, buf, 1));
    close(dfd);
    fd = dup(1);
    printf("dup: %s\n", fd > 2 ? "ok" : "bad");
    CHECK("dup2", dup2(fd, 10));
    CHECK("fcntl F_GETFD", fcntl(10, F_GETFD));
    CHECK("fcntl F_SETFD", fcntl(10, F_SETFD, FD_CLOEXEC));
    printf("cloexec now: %d\n", fcntl(10, F_GETFD) & FD_CLOEXEC);
    fflush(stdout);
    struct iovec v[2] = { { "writev ", 7 }, { "through a dup\n", 14 } };
    printf("writev: %ld\n", (long)writev(10, v, 2));
    close(10);
    close(fd);
    fd = open("work/b.txt", O_WRONLY);
    printf("F_GETFL access mode: %d\n", fcntl(fd, F_GETFL) & O_ACCMODE);
    CHECK("F_SETFL O_APPEND", fcntl(fd, F_SETFL, O_APPEND));
    printf("F_GETFL has O_APPEND: %d\n", (fcntl(fd, F_GETFL) & O_APPEND) != 0);
    CHECK("ioctl TIOCGWINSZ on a file", ioctl(fd, TIOCGWINSZ, &(struct winsize){ 0 }));
    close(fd);
    char target[64] = { 0 };
    printf("readlink motd: %ld %s\n", (long)readlink("motd", target, sizeof target - 1), target);
    CHECK("lstat a link", lstat("motd", &st));
    printf("lstat: link %d\n", S_ISLNK(st.st_mode));
    CHECK("stat through a link", stat("motd", &st));
    printf("stat: regular %d\n", S_ISREG(st.st_mode));
    CHECK("readlink a file", readlink("work/b.txt", target, sizeof target));
    CHECK("access existing", access("work/b.txt", R_OK));
    CHECK("access missing", access("work/zzz", F_OK));
    CHECK("unlink", unlink("work/b.txt"));
    CHECK("unlink again", unlink("work/b.txt"));
    CHECK("rmdir sub", rmdir("work/sub"));
    list("work");
    CHECK("rmdir work", rmdir("work"));
    CHECK("stat removed", stat("work", &st));
    return 0;
}
