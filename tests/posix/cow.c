/*
 * fork's memory: after fork the parent and the child each see only their
 * own writes, to the data segment, the heap, the stack, a private file
 * mapping and an anonymous mapping, whichever side writes, whichever ends
 * first, after an execve, through a system call (read into a buffer), and
 * in a fork of a fork; munmap and brk in one side leave the other's pages.
 * And the stack made on demand: deep frames, a system call's write into a
 * part of the stack never touched, a fork from deep down.
 * And big private mappings (512 KiB anonymous, 256 KiB of a file), which
 * Pith shares copy-on-write at fork: each side's writes its own while
 * the other runs, a read() into them, a fork of a fork, the parent
 * writing after its child ended, munmap, mprotect and mremap in the
 * child, a thread of the child writing, a child that writes and execs.
 * And the small private memory Pith shares copy-on-write too (data, bss,
 * the heap, the stack): the heap grown by brk in a child, a signal
 * handler run in a child right after fork (its frame on the shared stack)
 * writing the data, bss and heap, a read() into a heap buffer, the
 * child's stack grown deeper than the parent's.
 */
#define _GNU_SOURCE                     /* mremap */
#include "common.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define FILE_PATH "/tmp/cow.data"

static int data = 1;                    /* the data segment */
static char line[64];                   /* a buffer read() fills */
static int *heap;                       /* malloc: the heap */
static int *anon;                       /* an anonymous private mapping */
static char *file;                      /* a private file mapping */

static void show(const char *who, int stack)
{
    printf("%s: data %d heap %d stack %d anon %d file %c line '%s'\n", who, data, *heap, stack, *anon, file[0], line);
}

static void set_all(int v, int *stack)
{
    data = v, *heap = v, *stack = v, *anon = v;
    file[0] = (char)('a' + v);
    snprintf(line, sizeof line, "set %d", v);
}

static int reap(pid_t c)
{
    int st;
    if (waitpid(c, &st, 0) != c)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Frames of 16 KiB each, n deep, every byte written: the sum of their first bytes. */
static int deep(int n)
{
    volatile char frame[16384];
    for (size_t i = 0; i < sizeof frame; i++)
        frame[i] = (char)(n + i);
    return n ? frame[0] + deep(n - 1) : frame[0];
}

/* A 64 KiB buffer on the stack, below anything touched, filled by read() before the program touches it. */
static int read_deep(int fd)
{
    char buf[65536];
    ssize_t got = pread(fd, buf, sizeof buf, 0);
    printf("read into fresh stack: %zd bytes, first '%c', last '%c'\n", got, buf[0], buf[got - 1]);
    /* A fork from down here: the child has the deep buffer too, and its writes stay its own. */
    pid_t c = fork();
    if (c == 0) {
        int same = buf[0] == 'x' && buf[65535] == 'x';
        memset(buf, 'y', sizeof buf);
        _exit(same ? 0 : 1);
    }
    int st = reap(c);
    printf("child saw the deep buffer: %s; parent's after its write: '%c'\n", st == 0 ? "yes" : "no", buf[100]);
    return (int)got;
}

#define PG       4096
#define BIG      (512 * 1024)
#define BIG_FILE "/tmp/cow.big"
#define FILE_BIG (256 * 1024)

static char *big, *bigf;

/* Four bytes of each big mapping: its first page, its second, its last byte; the file's first. */
static void big_show(const char *who)
{
    printf("%s: big %c %c %c file %c %c\n", who, big[0], big[PG], big[BIG - 1], bigf[0], bigf[FILE_BIG - 1]);
}

static void *thread_writes(void *arg)
{
    big[PG] = *(char *)arg;
    return NULL;
}

static void big_cow(const char *self)
{
    static char fill[FILE_BIG];
    int fd = open(BIG_FILE, O_RDWR | O_CREAT | O_TRUNC, 0644);
    memset(fill, 'f', sizeof fill);
    if (fd < 0 || write(fd, fill, sizeof fill) != (ssize_t)sizeof fill)
        _exit(2);
    big = mmap(NULL, BIG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    bigf = mmap(NULL, FILE_BIG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (big == MAP_FAILED || bigf == MAP_FAILED) {
        printf("cannot map big: %s\n", errname(errno));
        _exit(2);
    }
    memset(big, 'a', BIG);
    big_show("big start");
    int go[2], p[2];
    if (pipe(go) || pipe(p))
        _exit(2);

    /* Each side writes while the other runs. */
    pid_t c = fork();
    if (c == 0) {
        big[0] = 'c', bigf[0] = 'c';
        big_show("big child wrote");
        char b;
        read(go[0], &b, 1);
        big_show("big child after the parent wrote");
        /* A system call writing into a page both share: read() from a pipe. */
        read(p[0], big + BIG - 1, 1);
        big_show("big child read");
        _exit(0);
    }
    big[PG] = 'p', bigf[FILE_BIG - 1] = 'p';
    write(go[1], "g", 1);
    write(p[1], "r", 1);
    printf("child status %d\n", reap(c));
    big_show("big parent");

    /* A fork of a fork; then the parent writes pages nobody else holds any more. */
    c = fork();
    if (c == 0) {
        pid_t g = fork();
        if (g == 0) {
            big[0] = 'g';
            big_show("big grandchild");
            _exit(0);
        }
        reap(g);
        big[BIG - 1] = 'd';
        big_show("big child after grandchild");
        _exit(0);
    }
    printf("child status %d\n", reap(c));
    big[0] = 'q', big[BIG - 1] = 'q', bigf[0] = 'q';
    big_show("big parent alone");

    /* munmap, mprotect, mremap and a thread in the child; the parent's pages stay. */
    c = fork();
    if (c == 0) {
        munmap(big + BIG / 2, BIG / 2);
        munmap(bigf, FILE_BIG);
        char *moved = mremap(big, BIG / 2, BIG, MREMAP_MAYMOVE);
        if (moved == MAP_FAILED)
            _exit(3);
        moved[BIG - 1] = 'm';
        printf("mprotect read-only: %d\n", mprotect(moved, PG, PROT_READ));
        printf("moved: %c %c %d %c\n", moved[0], moved[PG], moved[BIG / 2], moved[BIG - 1]);
        big = moved;
        char t = 't';
        pthread_t th;
        if (pthread_create(&th, NULL, thread_writes, &t) || pthread_join(th, NULL))
            _exit(4);
        printf("after the thread: %c\n", big[PG]);
        _exit(0);
    }
    printf("child status %d\n", reap(c));
    big_show("big parent after child unmapped");

    /* The child writes and execs. */
    c = fork();
    if (c == 0) {
        memset(big, 'x', BIG);
        execl(self, self, "again", (char *)NULL);
        _exit(127);
    }
    printf("child status %d\n", reap(c));
    big_show("big parent after exec");
    char first;
    pread(fd, &first, 1, 0);
    printf("the file itself: %c\n", first);
    munmap(big, BIG);
    munmap(bigf, FILE_BIG);
    close(go[0]), close(go[1]), close(p[0]), close(p[1]);
    close(fd);
    unlink(BIG_FILE);
}

static volatile int caught;             /* the data segment, written by a handler */

static void on_usr1(int sig)
{
    caught = sig;
    data = 10, *heap = 10;
    snprintf(line, sizeof line, "handler");
}

/* The heap, data and bss in a child: grown by brk, written by a signal handler, read() into. */
static void small_cow(void)
{
    int stack = 0;
    set_all(11, &stack);
    char *buf = malloc(256);            /* the heap, before the fork: shared with the child */
    int p[2];
    if (!buf || pipe(p))
        _exit(2);
    strcpy(buf, "parent's");
    signal(SIGUSR1, on_usr1);
    pid_t c = fork();
    if (c == 0) {
        raise(SIGUSR1);                 /* the first thing the child does: its frame, the handler's writes */
        printf("child after the handler: caught %d data %d heap %d line '%s'\n", caught, data, *heap, line);
        uintptr_t old = (uintptr_t)syscall(SYS_brk, 0);
        char *more = (char *)old;
        int grown = (uintptr_t)syscall(SYS_brk, old + 65536) == old + 65536;
        if (grown) {
            memset(more, 'b', 65536);
            *heap = 12;
        }
        printf("child grew the heap: %s, its end %c, heap %d\n", grown ? "yes" : "no", grown ? more[65535] : '-', *heap);
        ssize_t n = read(p[0], buf, 255);
        buf[n > 0 ? n : 0] = 0;
        printf("child read into the heap: '%s'\n", buf);
        /* Deeper than the parent's stack ever went: the child's stack grows below the pages it shares. */
        printf("child's deeper frames: %d, stack %d\n", deep(11), stack);
        _exit(0);
    }
    write(p[1], "from the pipe", 13);
    printf("child status %d\n", reap(c));
    printf("parent after: caught %d data %d heap %d line '%s' buf '%s'\n", caught, data, *heap, line, buf);
    signal(SIGUSR1, SIG_DFL);
    close(p[0]), close(p[1]);
    free(buf);
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        printf("exec'd: %s\n", argv[1]);
        return 3;
    }
    setvbuf(stdout, NULL, _IONBF, 0);   /* no buffered lines copied into the children */
    int fd = open(FILE_PATH, O_RDWR | O_CREAT | O_TRUNC, 0644);
    static char page[65536];
    memset(page, 'x', sizeof page);
    if (fd < 0 || write(fd, page, sizeof page) != (ssize_t)sizeof page) {
        printf("cannot write %s: %s\n", FILE_PATH, errname(errno));
        return 1;
    }
    heap = malloc(sizeof *heap);
    anon = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    file = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (!heap || anon == MAP_FAILED || file == MAP_FAILED) {
        printf("cannot map: %s\n", errname(errno));
        return 1;
    }
    int stack;
    set_all(1, &stack);
    show("start", stack);

    /* The child writes; the parent keeps its values. */
    pid_t c = fork();
    if (c == 0) {
        set_all(2, &stack);
        show("child wrote", stack);
        _exit(0);
    }
    printf("child status %d\n", reap(c));
    show("parent after child wrote", stack);

    /* The parent writes while the child waits; the child keeps its values. */
    int go[2];
    pipe(go);
    c = fork();
    if (c == 0) {
        char b;
        read(go[0], &b, 1);
        show("child after parent wrote", stack);
        _exit(0);
    }
    set_all(3, &stack);
    write(go[1], "g", 1);
    printf("child status %d\n", reap(c));
    show("parent wrote", stack);
    close(go[0]), close(go[1]);

    /* A system call writing into memory both share: read() in the child. */
    int p[2];
    pipe(p);
    c = fork();
    if (c == 0) {
        memset(line, 0, sizeof line);
        read(p[0], line, sizeof line - 1);
        show("child read", stack);
        _exit(0);
    }
    write(p[1], "from the pipe", 13);
    printf("child status %d\n", reap(c));
    show("parent after child read", stack);
    close(p[0]), close(p[1]);

    /* munmap and brk in the child leave the parent's pages. */
    c = fork();
    if (c == 0) {
        munmap(anon, 4096);
        munmap(file, 4096);
        free(heap);
        syscall(SYS_brk, (uintptr_t)syscall(SYS_brk, 0) - 4096);
        _exit(0);
    }
    printf("child status %d\n", reap(c));
    show("parent after child unmapped", stack);

    /* The parent ends first: its child (our grandchild) still has its own values. */
    int res[2], hold[2];
    pipe(res);
    pipe(hold);
    c = fork();
    if (c == 0) {
        close(res[0]);
        if (fork() == 0) {
            close(hold[1]);
            char b;
            while (read(hold[0], &b, 1) > 0)
                ;                       /* EOF: the middle one has ended and we hold the last writer no more */
            set_all(5, &stack);
            char out[64];
            int n = snprintf(out, sizeof out, "grandchild after its parent ended: %d %d %d %d %c\n", data, *heap,
                             stack, *anon, file[0]);
            write(res[1], out, (size_t)n);
            _exit(0);
        }
        set_all(4, &stack);
        _exit(0);
    }
    close(hold[0]), close(hold[1]), close(res[1]);
    printf("middle status %d\n", reap(c));
    char got[64] = { 0 };
    for (size_t n = 0; n < sizeof got - 1;) {
        ssize_t k = read(res[0], got + n, sizeof got - 1 - n);
        if (k <= 0)
            break;
        n += (size_t)k;
    }
    printf("%s", got);
    close(res[0]);
    show("parent after the grandchild", stack);

    /* A fork of a fork, each writing. */
    c = fork();
    if (c == 0) {
        pid_t g = fork();
        if (g == 0) {
            set_all(7, &stack);
            show("grandchild", stack);
            _exit(0);
        }
        reap(g);
        show("child after grandchild", stack);
        set_all(6, &stack);
        show("child", stack);
        _exit(0);
    }
    printf("child status %d\n", reap(c));
    show("parent after fork of fork", stack);

    /* The child execs: the parent's memory stays. */
    c = fork();
    if (c == 0) {
        set_all(8, &stack);
        execl(argv[0], argv[0], "again", (char *)NULL);
        _exit(127);
    }
    printf("child status %d\n", reap(c));
    show("parent after exec", stack);

    /* The stack on demand: a read into a fresh part of it, then 128 KiB of frames. */
    read_deep(fd);
    printf("deep frames: %d\n", deep(7));
    close(fd);
    unlink(FILE_PATH);
    small_cow();
    big_cow(argv[0]);
    return 0;
}
