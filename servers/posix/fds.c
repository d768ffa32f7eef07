/*
 * File descriptors and open file descriptions: a process's table of 64
 * descriptors, each naming a description (kind, /fs handle, offset,
 * flags) shared by dup as Linux shares them.  0, 1 and 2 start as the
 * console.  The calls that work on descriptors alone: close, dup, dup2,
 * dup3, fcntl (its record locks: locks.c).
 */
#include "personality.h"
#include "console.h"
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#define OFILE_MAX 128

static struct ofile ofiles[OFILE_MAX];

struct ofile *ofile_new(uint8_t kind, uint32_t flags)
{
    for (int i = 0; i < OFILE_MAX; i++)
        if (!ofiles[i].refs) {
            memset(&ofiles[i], 0, sizeof ofiles[i]);
            ofiles[i].refs = 1;
            ofiles[i].kind = kind;
            ofiles[i].flags = flags;
            return &ofiles[i];
        }
    return NULL;
}

/* An open file description of the file ino/gen still in use, or NULL. */
struct ofile *ofile_of_file(uint32_t ino, uint32_t gen)
{
    for (int i = 0; i < OFILE_MAX; i++)
        if (ofiles[i].refs > 0 && ofiles[i].kind == FD_FILE && ofiles[i].ino == ino && ofiles[i].gen == gen)
            return &ofiles[i];
    return NULL;
}

/* Every open file description of ino/gen: its file unlinked while open (linked again: false), now at path. */
void ofile_unlinked(uint32_t ino, uint32_t gen, const char *path, bool unlinked)
{
    for (int i = 0; i < OFILE_MAX; i++)
        if (ofiles[i].refs > 0 && ofiles[i].kind == FD_FILE && ofiles[i].ino == ino && ofiles[i].gen == gen) {
            ofiles[i].unlinked = unlinked;
            strcpy(ofiles[i].path, path);
        }
}

void ofile_drop(struct ofile *of)
{
    if (!of || of->refs <= 0 || --of->refs)
        return;
    flock_drop(of);
    epoll_forget(of);
    if (of->kind == FD_PIPE_R || of->kind == FD_PIPE_W)
        pipe_end_closed(of);
    else if (of->kind == FD_SOCKET)
        sock_closed(of);
    else if (of->kind == FD_UNIX)
        unix_closed(of);
    else if (of->kind == FD_FILE && of->unlinked && !ofile_of_file(of->ino, of->gen))
        fs_unlink(&fs, of->path);       /* the last close of a file unlinked while open */
}

struct ofile *ofile_of(struct lproc *p, uint64_t fd)
{
    return fd < FD_MAX ? p->fds[fd].of : NULL;
}

long fd_new(struct lproc *p, struct ofile *of, int from, bool cloexec)
{
    for (int fd = from; fd < (int)fd_limit(p); fd++)
        if (!p->fds[fd].of) {
            p->fds[fd] = (struct fd){ .of = of, .cloexec = cloexec };
            return fd;
        }
    return -EMFILE;
}

void files_init(struct lproc *p)
{
    struct ofile *con = ofile_new(FD_CONSOLE, O_RDWR);
    if (!con)
        return;
    con->refs = 3;
    for (int fd = 0; fd < 3; fd++)
        p->fds[fd].of = con;
}

void files_close_all(struct lproc *p)
{
    locks_forget(p);
    for (int fd = 0; fd < FD_MAX; fd++) {
        locks_release(p, p->fds[fd].of);
        ofile_drop(p->fds[fd].of);
        p->fds[fd].of = NULL;
    }
}

static void fd_close(struct lproc *p, uint64_t fd, struct ofile *of)
{
    locks_release(p, of);               /* any descriptor of the file: POSIX locks go */
    ofile_drop(of);
    p->fds[fd].of = NULL;
}

static bool count_thread(struct lproc *p, void *n)
{
    (void)p;
    ++*(int *)n;
    return false;
}

SYSCALL(close)
{
    struct ofile *of = ofile_of(p, a0);
    if (!of)
        return -EBADF;
    fd_close(p, a0, of);
    return 0;
}

/*
 * close_range: every descriptor from first to last closed, or (with
 * CLOSE_RANGE_CLOEXEC) marked close-on-exec.  CLOSE_RANGE_UNSHARE asks
 * for a table of the caller's own first: a process alone in its table
 * has it already; one with further threads (which share the process's
 * table here, as with CLONE_FILES) gets EINVAL.
 */
#define L_CLOSE_RANGE_UNSHARE 2u
#define L_CLOSE_RANGE_CLOEXEC 4u

SYSCALL(close_range)
{
    uint32_t first = (uint32_t)a0, last = (uint32_t)a1, flags = (uint32_t)a2;
    if ((flags & ~(L_CLOSE_RANGE_UNSHARE | L_CLOSE_RANGE_CLOEXEC)) || first > last)
        return -EINVAL;
    int threads = 0;
    thread_each(p, count_thread, &threads);
    if ((flags & L_CLOSE_RANGE_UNSHARE) && threads > 1)
        return -EINVAL;
    for (uint64_t fd = first; fd <= last && fd < FD_MAX; fd++) {
        struct ofile *of = p->fds[fd].of;
        if (!of)
            continue;
        if (flags & L_CLOSE_RANGE_CLOEXEC)
            p->fds[fd].cloexec = true;
        else
            fd_close(p, fd, of);
    }
    return 0;
}

/* ---- descriptors ------------------------------------------------------------ */

SYSCALL(dup)
{
    struct ofile *of = ofile_of(p, a0);
    if (!of)
        return -EBADF;
    long fd = fd_new(p, of, 0, false);
    if (fd >= 0)
        of->refs++;
    return fd;
}

static long dup_to(struct lproc *p, uint64_t from, uint64_t to, bool cloexec)
{
    struct ofile *of = ofile_of(p, from);
    if (!of || to >= fd_limit(p))
        return -EBADF;
    if (from == to)
        return (long)to;
    locks_release(p, p->fds[to].of);
    ofile_drop(p->fds[to].of);
    p->fds[to] = (struct fd){ .of = of, .cloexec = cloexec };
    of->refs++;
    return (long)to;
}

SYSCALL(dup2) { return a0 == a1 ? (ofile_of(p, a0) ? (long)a0 : -EBADF) : dup_to(p, a0, a1, false); }

SYSCALL(dup3)
{
    if (a0 == a1 || (a2 & ~(uint64_t)O_CLOEXEC))
        return -EINVAL;
    return dup_to(p, a0, a1, a2 & O_CLOEXEC);
}

SYSCALL(fcntl)
{
    struct ofile *of = ofile_of(p, a0);
    if (!of)
        return -EBADF;
    switch (a1) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
        if (a2 >= fd_limit(p))
            return -EINVAL;
        long fd = fd_new(p, of, (int)a2, a1 == F_DUPFD_CLOEXEC);
        if (fd >= 0)
            of->refs++;
        return fd;
    }
    case F_GETFD:
        return p->fds[a0].cloexec ? FD_CLOEXEC : 0;
    case F_SETFD:
        p->fds[a0].cloexec = a2 & FD_CLOEXEC;
        return 0;
    case F_GETFL:
        return of->flags | (of->kind == FD_DIR ? O_DIRECTORY : 0);
    case F_SETFL:
        of->flags = (of->flags & O_ACCMODE) | ((uint32_t)a2 & (O_APPEND | O_NONBLOCK));
        return 0;
    case F_GETLK:
    case F_SETLK:
    case F_SETLKW:
        return fcntl_lock(p, a0, a1, a2);
    default:
        return -EINVAL;
    }
}

