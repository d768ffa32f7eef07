/*
 * MAP_SHARED|MAP_ANONYMOUS across fork: parent and child see each other's
 * writes, whichever writes, through a system call too (read into the
 * mapping); the pages outlive the process that mapped them; munmap in one
 * side leaves the other's mapping; a region split by munmap is shared by a
 * fork as it is; pages freed by the last sharer come back, zeroed, for the
 * next mapping (many more mapped in turn than the personality's pool
 * holds at once).  And private mappings stay private beside them.
 * MAP_SHARED file mappings: writes through the map reach the file at
 * msync, munmap and exit; two processes mapping the same file, and a
 * part of it, see each other's writes; the file does not grow by its
 * mapping; read-only mappings stay read-only (EACCES, EFAULT).
 */
#include "common.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096

static int reap(pid_t c)
{
    int st;
    if (waitpid(c, &st, 0) != c)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static char *shared(size_t len)
{
    char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        printf("mmap shared: %s\n", errname(errno));
        exit(1);
    }
    return m;
}

/* A byte through a pipe: one side tells the other its write is done. */
static void tell(int fd) { char c = 1; if (write(fd, &c, 1) != 1) exit(2); }
static void hear(int fd) { char c; if (read(fd, &c, 1) != 1) exit(2); }

/* Both ways: the child's writes seen by the parent and the parent's by the child, while both run. */
static void both_ways(void)
{
    char *m = shared(2 * PG);
    int *priv = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int to_child[2], to_parent[2];
    if (pipe(to_child) || pipe(to_parent))
        exit(2);
    m[0] = 'p', m[PG] = 'p', *priv = 1;
    pid_t c = fork();
    if (c == 0) {
        printf("child sees %c %c\n", m[0], m[PG]);
        m[0] = 'c', *priv = 2;
        tell(to_parent[1]);
        hear(to_child[0]);
        printf("child sees the parent's write: %c, private %d\n", m[PG], *priv);
        /* A system call writing into the shared page: read() from a pipe. */
        if (read(to_child[0], m + 100, 5) != 5)
            _exit(2);
        tell(to_parent[1]);
        _exit(0);
    }
    hear(to_parent[0]);
    printf("parent sees the child's write: %c, private %d\n", m[0], *priv);
    m[PG] = 'q';
    tell(to_child[1]);
    if (write(to_child[1], "hello", 5) != 5)
        exit(2);
    hear(to_parent[0]);
    printf("parent sees the child's read(): %.5s\n", m + 100);
    printf("child: %d\n", reap(c));
    munmap(m, 2 * PG);
    munmap(priv, PG);
    close(to_child[0]), close(to_child[1]), close(to_parent[0]), close(to_parent[1]);
}

/* The pages outlive their mapper: a child maps them, forks a grandchild, writes and exits. */
static void after_mapper_exits(void)
{
    int out[2];
    if (pipe(out))
        exit(2);
    pid_t c = fork();
    if (c == 0) {
        char *m = shared(PG);
        int gone[2];
        if (pipe(gone))
            _exit(2);
        pid_t g = fork();
        if (g == 0) {
            close(gone[1]);
            char byte;
            if (read(gone[0], &byte, 1) != 0)   /* end of file: the mapper has exited */
                _exit(2);
            m[1] = 'g';
            if (write(out[1], m, 2) != 2)
                _exit(2);
            _exit(0);
        }
        m[0] = 'm';
        _exit(0);
    }
    close(out[1]);
    printf("mapper: %d\n", reap(c));
    char got[3] = { 0 };
    printf("grandchild after the mapper's exit: %zd '%s'\n", read(out[0], got, 2), got);
    close(out[0]);
}

/* munmap in one side: the other's mapping stays, and its writes still reach a sharer of the rest. */
static void munmap_one_side(void)
{
    char *m = shared(3 * PG);
    int to_child[2], to_parent[2];
    if (pipe(to_child) || pipe(to_parent))
        exit(2);
    pid_t c = fork();
    if (c == 0) {
        munmap(m, PG);                  /* the child drops the first page */
        tell(to_parent[1]);
        hear(to_child[0]);
        printf("child after the parent's munmap of the last page: %c %c\n", m[PG], m[2 * PG]);
        m[PG] = 'C';
        _exit(0);
    }
    hear(to_parent[0]);
    m[0] = 'P', m[PG] = 'P', m[2 * PG] = 'P';
    printf("parent's first page after the child's munmap: %c\n", m[0]);
    munmap(m + 2 * PG, PG);
    tell(to_child[1]);
    printf("child: %d\n", reap(c));
    printf("parent sees the child's write: %c\n", m[PG]);
    munmap(m, 2 * PG);
    close(to_child[0]), close(to_child[1]), close(to_parent[0]), close(to_parent[1]);
}

/* A region split by munmap, then forked: each part still shared, in a fork of a fork too. */
static void split_then_fork(void)
{
    char *m = shared(4 * PG);
    munmap(m + PG, PG);
    pid_t c = fork();
    if (c == 0) {
        pid_t g = fork();
        if (g == 0) {
            m[3 * PG] = 'g';
            _exit(0);
        }
        m[0] = 'c';
        _exit(reap(g));
    }
    printf("child: %d\n", reap(c));
    printf("split region after a fork of a fork: %c %c\n", m[0], m[3 * PG]);
    munmap(m, 4 * PG);
}

/*
 * Pages freed by their last sharer come back zeroed: far more mapped in
 * turn than the pool holds at once, each round by a new child (which
 * shares them with a grandchild), so that no one process maps them all.
 * (Pith's pool: 1024 pages at most, docs/posix.md.)
 */
static void reuse(void)
{
    int bad = 0, zero = 1;
    char *keep = shared(PG);            /* held throughout: the pages after it are used again, not made again */
    keep[0] = 1;
    for (int round = 0; round < 16; round++) {
        pid_t c = fork();
        if (c == 0) {
            size_t len = 128 * PG;
            char *m = shared(len);
            int z = 1;
            for (size_t i = 0; i < len; i += PG)
                z &= m[i] == 0 && m[i + PG - 1] == 0;
            pid_t g = fork();
            if (g == 0) {
                for (size_t i = 0; i < len; i += PG)
                    m[i] = m[i + PG - 1] = (char)(round + 1);
                _exit(0);
            }
            int st = reap(g);
            for (size_t i = 0; i < len; i += PG)
                st |= m[i] != (char)(round + 1) || m[i + PG - 1] != (char)(round + 1);
            _exit(st ? 1 : z ? 0 : 2);
        }
        int st = reap(c);
        bad |= st != 0 && st != 2;
        zero &= st != 2;
    }
    munmap(keep, PG);
    printf("16 rounds of 512 KiB shared by a child and a grandchild: %s, fresh pages zeroed: %s\n",
           bad ? "wrong" : "ok", zero ? "yes" : "no");
}

/* A child writes and execs: its exec drops its sharing; the parent's pages stay, with its write. */
static void exec_after_fork(const char *self)
{
    char *m = shared(PG);
    m[0] = 'x';
    pid_t c = fork();
    if (c == 0) {
        m[0] = 'y';
        execl(self, self, "exec", (char *)NULL);
        _exit(9);
    }
    int st = reap(c);
    printf("exec'd child: %d, page after its write and exec: %c\n", st, m[0]);
    munmap(m, PG);
}

#define FILE_PATH "/tmp/shared.data"
#define FILE_SIZE 6000

static void file_says(int fd, const char *when)
{
    char buf[5] = { 0 };
    struct stat st;
    if (pread(fd, buf, 4, 0) != 4 || fstat(fd, &st))
        exit(2);
    printf("file %s: %s, %ld bytes\n", when, buf, (long)st.st_size);
}

static void files(void)
{
    int fd = open(FILE_PATH, O_RDWR | O_CREAT | O_TRUNC, 0644);
    char fill[FILE_SIZE];
    memset(fill, '.', sizeof fill);
    memcpy(fill, "0123", 4);
    if (fd < 0 || write(fd, fill, sizeof fill) != FILE_SIZE)
        exit(2);
    char *m = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    printf("map the file: %s, sees %.4s, past its end %d\n", m == MAP_FAILED ? errname(errno) : "ok", m,
           m[FILE_SIZE + 10]);
    m[0] = 'A';
    CHECK("msync", msync(m, 2 * PG, MS_SYNC));
    file_says(fd, "after msync");
    m[1] = 'B';
    m[FILE_SIZE + 100] = 'x';           /* past the end: never written to the file */
    /* A part of the file mapped again: the same page. */
    char *part = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, PG);
    part[0] = 'p';
    printf("the whole mapping sees the part's write: %c\n", m[PG]);
    munmap(part, PG);
    /* Another process maps the file on its own, and a child shares the mapping by fork. */
    int to_parent[2], to_child[2];
    if (pipe(to_parent) || pipe(to_child))
        exit(2);
    pid_t c = fork();
    if (c == 0) {
        int fd2 = open(FILE_PATH, O_RDWR);
        char *mine = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
        printf("second mapper sees %.2s\n", mine);
        mine[2] = 'C';
        m[3] = 'D';                     /* the inherited mapping */
        tell(to_parent[1]);
        hear(to_child[0]);
        printf("second mapper sees the first's write: %c\n", mine[4]);
        mine[5] = 'E';
        _exit(0);                       /* no munmap: its end writes the pages back */
    }
    hear(to_parent[0]);
    printf("first mapper sees %.4s\n", m);
    m[4] = 'F';
    tell(to_child[1]);
    printf("child: %d\n", reap(c));
    printf("first mapper sees the second's last write: %c\n", m[5]);
    munmap(m, 2 * PG);
    file_says(fd, "after munmap");
    char back[8] = { 0 };
    pread(fd, back, 6, 0);
    printf("file: %s\n", back);
    /* Read-only: a writable shared mapping of a file open read-only is refused; a read into one faults. */
    int ro = open(FILE_PATH, O_RDONLY);
    CHECK("map read-only file writable and shared", mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0));
    char *r = mmap(NULL, PG, PROT_READ, MAP_SHARED, ro, 0);
    printf("map it read-only: %s, sees %.3s\n", r == MAP_FAILED ? errname(errno) : "ok", r);
    CHECK("pread() into it", pread(fd, r, 1, 0));
    CHECK("msync of nothing mapped", msync(r + 64 * PG, PG, MS_SYNC));
    CHECK("msync unaligned", msync(r + 1, PG, MS_SYNC));
    munmap(r, PG);
    close(ro);
    close(fd);
    close(to_child[0]), close(to_child[1]), close(to_parent[0]), close(to_parent[1]);
    unlink(FILE_PATH);
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        printf("exec'd\n");
        return 3;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    both_ways();
    after_mapper_exits();
    munmap_one_side();
    split_then_fork();
    reuse();
    exec_after_fork(argv[0]);
    files();
    return 0;
}
