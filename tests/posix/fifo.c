/*
 * FIFOs: mkfifo and mknod (S_IFIFO, S_IFREG; device nodes EPERM, a bad
 * type EINVAL, EEXIST, ENOENT), stat's S_IFIFO, and pipe semantics
 * between unrelated processes: a writer exec'd (this program again, with
 * an argument) by a forked child opens the FIFO by name; the reader's
 * open waits for it, data flows, EOF when it closes.  O_NONBLOCK opens
 * (a reader at once, a writer without a reader ENXIO), O_RDWR, EPIPE and
 * SIGPIPE without a reader, and poll on a FIFO.
 */
#define _GNU_SOURCE
#include "common.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#define DIR_ "/tmp/fifo-test"
#define F DIR_ "/f"

/* The writer, run by execve: opens the FIFO for writing (waiting for the reader), writes, closes. */
static int writer(void)
{
    int fd = open(F, O_WRONLY);
    if (fd < 0)
        return 10;
    const char *msg = "through the fifo\n";
    if (write(fd, msg, strlen(msg)) != (long)strlen(msg))
        return 11;
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1 && !strcmp(argv[1], "writer"))
        return writer();
    mkdir(DIR_, 0755);
    unlink(F);
    printf("-- making\n");
    CHECK("mkfifo", mkfifo(F, 0644));
    CHECK("mkfifo again", mkfifo(F, 0644));
    CHECK("mkfifo in a missing directory", mkfifo(DIR_ "/none/f", 0644));
    CHECK("mknod S_IFIFO", mknod(DIR_ "/g", S_IFIFO | 0600, 0));
    CHECK("mknod S_IFREG", mknod(DIR_ "/r", S_IFREG | 0600, 0));
    CHECK("mknod type 0", mknod(DIR_ "/z", 0600, 0));
    /* Device nodes: the host runs this as root, where Linux makes them; Pith refuses them (EPERM). */
    int d = mknod(DIR_ "/c", S_IFCHR | 0600, makedev(1, 3));
    printf("mknod S_IFCHR: %s\n", !d || errno == EPERM ? "made or EPERM" : errname(errno));
    d = mknod(DIR_ "/b", S_IFBLK | 0600, makedev(8, 0));
    printf("mknod S_IFBLK: %s\n", !d || errno == EPERM ? "made or EPERM" : errname(errno));
    CHECK("mknod S_IFDIR", mknod(DIR_ "/d", S_IFDIR | 0700, 0));
    CHECK("mknod bad type", mknod(DIR_ "/x", 0170000 | 0600, 0));
    CHECK("mknodat", mknodat(AT_FDCWD, DIR_ "/h", S_IFIFO | 0600, 0));
    struct stat st;
    stat(F, &st);
    printf("stat: fifo %d, mode %o, size %ld\n", S_ISFIFO(st.st_mode), (unsigned)(st.st_mode & 07777), (long)st.st_size);
    stat(DIR_ "/r", &st);
    printf("mknod S_IFREG: regular %d\n", S_ISREG(st.st_mode));
    stat(DIR_ "/z", &st);
    printf("mknod type 0: regular %d\n", S_ISREG(st.st_mode));

    printf("-- opening\n");
    errno = 0;
    int e = open(F, O_WRONLY | O_NONBLOCK);
    printf("write-only, no reader, O_NONBLOCK: %d %s\n", e, errno == ENXIO ? "ENXIO" : errname(errno));
    int r = open(F, O_RDONLY | O_NONBLOCK);
    printf("read-only, O_NONBLOCK: %s\n", r >= 0 ? "ok" : errname(errno));
    fstat(r, &st);
    printf("fstat: fifo %d\n", S_ISFIFO(st.st_mode));
    char buf[64];
    printf("read, no writer: %ld\n", (long)read(r, buf, sizeof buf));
    int w = open(F, O_WRONLY | O_NONBLOCK);
    printf("write-only with a reader, O_NONBLOCK: %s\n", w >= 0 ? "ok" : errname(errno));
    errno = 0;
    long n = read(r, buf, sizeof buf);
    printf("read, a writer, empty: %ld %s\n", n, errname(errno));
    write(w, "abc", 3);
    struct pollfd pf = { .fd = r, .events = POLLIN };
    int k = poll(&pf, 1, 0);
    printf("poll: %d %#x\n", k, pf.revents);
    n = read(r, buf, sizeof buf);
    printf("read: %ld %.3s\n", n, buf);
    close(w);
    printf("read after the writer closed: %ld\n", (long)read(r, buf, sizeof buf));
    close(r);
    int rw = open(F, O_RDWR);
    printf("O_RDWR: %s\n", rw >= 0 ? "ok" : errname(errno));
    write(rw, "xy", 2);
    printf("O_RDWR reads its own: %ld\n", (long)read(rw, buf, sizeof buf));
    close(rw);

    printf("-- between processes\n");
    pid_t c = fork();
    if (c == 0) {
        char *args[] = { argv[0], "writer", NULL };
        execv(argv[0], args);
        _exit(127);
    }
    r = open(F, O_RDONLY);             /* waits for the writer's open */
    printf("reader opened: %s\n", r >= 0 ? "ok" : errname(errno));
    size_t got = 0;
    while ((n = read(r, buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t)n;
    buf[got] = 0;
    printf("read %zu bytes: %s", got, buf);
    int status;
    waitpid(c, &status, 0);
    printf("writer: exit %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    close(r);

    printf("-- no reader\n");
    signal(SIGPIPE, SIG_IGN);
    r = open(F, O_RDONLY | O_NONBLOCK);
    w = open(F, O_WRONLY);             /* a reader is there: at once */
    close(r);
    errno = 0;
    n = write(w, "x", 1);
    printf("write without a reader: %ld %s\n", n, errname(errno));
    signal(SIGPIPE, SIG_DFL);
    c = fork();
    if (c == 0) {
        write(w, "x", 1);
        _exit(0);
    }
    waitpid(c, &status, 0);
    printf("SIGPIPE: %d\n", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    close(w);
    unlink(F), unlink(DIR_ "/g"), unlink(DIR_ "/h"), unlink(DIR_ "/r"), unlink(DIR_ "/z");
    unlink(DIR_ "/c"), unlink(DIR_ "/b");
    rmdir(DIR_);
    return 0;
}
