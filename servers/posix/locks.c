/*
 * fcntl's POSIX record locks (F_GETLK, F_SETLK, F_SETLKW) between the
 * processes of the personality.  A lock is a byte range of a file (its
 * /fs handle) held by a process: read locks of different processes may
 * overlap, a write lock overlaps no other process's lock.  A process's
 * own locks never conflict with each other; a new one replaces what it
 * held of that range (splitting a lock around it).  Closing any
 * descriptor of a file lets go every lock the process holds on it, and
 * so does the process's end; fork's child holds none.  F_SETLKW that
 * must wait is made again every 2 ms (sockets.c's retry) until the range
 * is free, a signal interrupts it (EINTR) or waiting would deadlock with
 * the holder, itself waiting for a lock of the caller (EDEADLK).
 */
#include "personality.h"
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#define LOCK_MAX 64
#define TO_END   UINT64_MAX             /* a range to the end of the file, however far it grows */

struct lock {
    uint32_t pid, ino, gen;             /* pid 0: a free entry */
    short type;                         /* F_RDLCK, F_WRLCK */
    uint64_t start, end;                /* bytes start..end, end included */
};

static struct lock locks[LOCK_MAX];
static uint32_t waits_for[LPROC_MAX];   /* process slot -> pid holding what its F_SETLKW waits for (0: none) */

/* The first lock of another process that a lock of this type over start..end would meet. */
static struct lock *conflict(const struct ofile *of, uint32_t pid, short type, uint64_t start, uint64_t end)
{
    for (int i = 0; i < LOCK_MAX; i++) {
        struct lock *l = &locks[i];
        if (l->pid && l->pid != pid && l->ino == of->ino && l->gen == of->gen && l->start <= end &&
            start <= l->end && (type == F_WRLCK || l->type == F_WRLCK))
            return l;
    }
    return NULL;
}

static struct lock *free_entry(void)
{
    for (int i = 0; i < LOCK_MAX; i++)
        if (!locks[i].pid)
            return &locks[i];
    return NULL;
}

/* Entries free, counting those of pid's own start..end would free, against the new one and a split's. */
static bool room_for(const struct ofile *of, uint32_t pid, short type, uint64_t start, uint64_t end)
{
    int free = 0, need = type != F_UNLCK;
    for (int i = 0; i < LOCK_MAX; i++) {
        const struct lock *l = &locks[i];
        bool mine = l->pid == pid && l->ino == of->ino && l->gen == of->gen;
        if (!l->pid || (mine && l->start >= start && l->end <= end))
            free++;
        else if (mine && l->start < start && l->end > end)
            need++;
    }
    return free >= need;
}

/* pid's locks over start..end of the file go (the parts outside stay). */
static void cut(const struct ofile *of, uint32_t pid, uint64_t start, uint64_t end)
{
    for (int i = 0; i < LOCK_MAX; i++) {
        struct lock *l = &locks[i];
        if (l->pid != pid || l->ino != of->ino || l->gen != of->gen || l->start > end || start > l->end)
            continue;
        if (l->start < start && l->end > end) {    /* the middle: the tail becomes a lock of its own */
            struct lock *tail = free_entry();      /* room_for made sure of one */
            *tail = *l;
            tail->start = end + 1;
            l->end = start - 1;
        } else if (l->start < start) {
            l->end = start - 1;
        } else if (l->end > end) {
            l->start = end + 1;
        } else {
            l->pid = 0;
        }
    }
}

void locks_release(struct lproc *p, const struct ofile *of)
{
    if (of && (of->kind == FD_FILE || of->kind == FD_DIR))
        cut(of, p->pid, 0, TO_END);
}

void locks_forget(struct lproc *p) { waits_for[p - lprocs] = 0; }

/* holder waits (or what it waits for waits, and so on) for caller: waiting for holder would close a circle. */
static bool deadlocks(uint32_t caller, uint32_t holder)
{
    for (int hops = 0; hops < LPROC_MAX && holder; hops++) {
        struct lproc *h = lproc_by_pid(holder);
        if (!h)
            return false;
        holder = waits_for[h - lprocs];
        if (holder == caller)
            return true;
    }
    return false;
}

/* struct flock's range as start..end; EINVAL for one starting before 0. */
static long range_of(const struct ofile *of, const struct flock *fl, uint64_t *start, uint64_t *end)
{
    int64_t base = 0;
    if (fl->l_whence == SEEK_CUR) {
        base = (int64_t)of->pos;
    } else if (fl->l_whence == SEEK_END) {
        uint32_t mode, nlink, uid, gid, at, mt, ct;
        uint64_t size, blocks;
        long err = fs_stat(&fs, of->ino, of->gen, &mode, &nlink, &uid, &gid, &size, &at, &mt, &ct, &blocks);
        if (err)
            return fs_errno(err);
        base = (int64_t)size;
    } else if (fl->l_whence != SEEK_SET) {
        return -EINVAL;
    }
    int64_t s = base + fl->l_start, len = fl->l_len;
    if (len < 0) {                      /* the len bytes before start */
        s += len;
        len = -len;
    }
    if (s < 0)
        return -EINVAL;
    *start = (uint64_t)s;
    *end = len ? (uint64_t)(s + len - 1) : TO_END;
    return 0;
}

long fcntl_lock(struct lproc *p, uint64_t fd, uint64_t cmd, uint64_t arg)
{
    struct ofile *of = ofile_of(p, fd);
    struct flock fl;
    uint64_t start = 0, end = 0;
    waits_for[p - lprocs] = 0;
    if (!of)
        return -EBADF;
    if (mem_read(p, &fl, arg, sizeof fl))
        return -EFAULT;
    if (of->kind != FD_FILE && of->kind != FD_DIR)
        return -EINVAL;
    if (fl.l_type != F_RDLCK && fl.l_type != F_WRLCK && fl.l_type != F_UNLCK)
        return -EINVAL;
    long err = range_of(of, &fl, &start, &end);
    if (err)
        return err;
    if (cmd == F_GETLK) {
        if (fl.l_type == F_UNLCK)
            return -EINVAL;
        struct lock *l = conflict(of, p->pid, fl.l_type, start, end);
        if (!l) {
            fl.l_type = F_UNLCK;
        } else {
            fl = (struct flock){ .l_type = l->type, .l_whence = SEEK_SET, .l_start = (off_t)l->start,
                                 .l_len = l->end == TO_END ? 0 : (off_t)(l->end - l->start + 1), .l_pid = (pid_t)l->pid };
        }
        return mem_write(p, arg, &fl, sizeof fl);
    }
    /* A read lock needs a descriptor open for reading, a write lock one open for writing. */
    uint32_t acc = of->flags & O_ACCMODE;
    if ((fl.l_type == F_RDLCK && acc == O_WRONLY) || (fl.l_type == F_WRLCK && acc == O_RDONLY))
        return -EBADF;
    if (fl.l_type != F_UNLCK) {
        struct lock *l = conflict(of, p->pid, fl.l_type, start, end);
        if (l && cmd == F_SETLK)
            return -EAGAIN;
        if (l) {
            if (deadlocks(p->pid, l->pid))
                return -EDEADLK;
            waits_for[p - lprocs] = l->pid;
            return retry_later(p);
        }
    }
    if (!room_for(of, p->pid, fl.l_type, start, end))
        return -ENOLCK;
    cut(of, p->pid, start, end);
    if (fl.l_type != F_UNLCK)
        *free_entry() = (struct lock){ .pid = p->pid, .ino = of->ino, .gen = of->gen, .type = fl.l_type,
                                       .start = start, .end = end };
    return 0;
}

/*
 * flock: a whole-file lock held by an open file description, not by a
 * process, so that dup and fork share it and only the description's last
 * close lets it go (flock_drop).  A description holds one lock, shared
 * or exclusive; asking again converts it (dropped first, as Linux does,
 * so a conversion that must wait holds nothing meanwhile).  Files are
 * known by their /fs handle, a pipe's two ends are one file; any other
 * description (a socket, the console) is a file of its own that no
 * other description shares, so its lock never meets another.  LOCK_EX or LOCK_SH that must wait is
 * made again every 2 ms, as F_SETLKW is, until the file is free or a
 * signal interrupts it (EINTR).
 */
#define FLOCK_MAX 64
#define L_LOCK_SH 1
#define L_LOCK_EX 2
#define L_LOCK_NB 4
#define L_LOCK_UN 8

struct flock_entry {
    const struct ofile *of;             /* NULL: a free entry */
    bool exclusive;
};

static struct flock_entry flocks[FLOCK_MAX];

static bool is_pipe(const struct ofile *of) { return of->kind == FD_PIPE_R || of->kind == FD_PIPE_W; }

static bool same_file(const struct ofile *a, const struct ofile *b)
{
    bool fa = a->kind == FD_FILE || a->kind == FD_DIR, fb = b->kind == FD_FILE || b->kind == FD_DIR;
    return a == b || (fa && fb && a->ino == b->ino && a->gen == b->gen) ||
           (is_pipe(a) && is_pipe(b) && a->pipe == b->pipe);   /* a pipe's two ends are one inode */
}

static struct flock_entry *flock_held(const struct ofile *of)
{
    for (int i = 0; i < FLOCK_MAX; i++)
        if (flocks[i].of == of)
            return &flocks[i];
    return NULL;
}

void flock_drop(const struct ofile *of)
{
    struct flock_entry *f = flock_held(of);
    if (f)
        f->of = NULL;
}

SYSCALL(flock)
{
    struct ofile *of = ofile_of(p, a0);
    if (!of)
        return -EBADF;
    uint64_t op = a1 & ~(uint64_t)L_LOCK_NB;
    if (op == L_LOCK_UN) {
        flock_drop(of);
        return 0;
    }
    if (op != L_LOCK_SH && op != L_LOCK_EX)
        return -EINVAL;
    bool exclusive = op == L_LOCK_EX;
    struct flock_entry *mine = flock_held(of), *slot = mine;
    for (int i = 0; i < FLOCK_MAX; i++) {
        struct flock_entry *f = &flocks[i];
        if (f->of && f != mine && same_file(f->of, of) && (exclusive || f->exclusive)) {
            flock_drop(of);             /* a conversion lets go what it held while it waits */
            return (a1 & L_LOCK_NB) ? -EWOULDBLOCK : retry_later(p);
        }
        if (!slot && !f->of)
            slot = f;
    }
    if (!slot)
        return -ENOLCK;
    *slot = (struct flock_entry){ .of = of, .exclusive = exclusive };
    return 0;
}
