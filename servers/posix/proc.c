/*
 * /proc, as much as busybox ps, df and applets by bare name need: the
 * directory of running processes (and "self"), each with stat, cmdline,
 * status, comm and the exe link; /proc/self is a link to the caller's pid;
 * mounts, the volume at / and /proc itself; meminfo, uptime and loadavg
 * for free and uptime (the memory is the personality's, for processes;
 * no load is tracked, so loadavg's averages read 0.00).
 * Nothing of it is on /fs: a path under /proc is answered here.  A file's
 * text is made anew at each read from the process as it is then (a
 * process gone reads as empty), so its offset is all an open file keeps.
 */
#include "personality.h"
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A process's files, then those of /proc itself from PF_MOUNTS on (mounts is both). */
enum { PF_STAT = 1, PF_CMDLINE, PF_STATUS, PF_COMM, PF_MOUNTS, PF_MEMINFO, PF_UPTIME, PF_LOADAVG, PF_LAST = PF_LOADAVG };
static const char *const file_names[] = { NULL, "stat", "cmdline", "status", "comm", "mounts", "meminfo", "uptime",
                                          "loadavg" };
#define PROC_INO 0x7f000000u            /* inode numbers of our own, far from /fs's */

/* "/proc/self..." with the caller's pid for "self"; false if path is not under /proc. */
static bool split(struct lproc *p, const char *path, uint32_t *pid, const char **rest)
{
    if (strncmp(path, "/proc", 5) || (path[5] && path[5] != '/'))
        return false;
    *pid = 0;
    *rest = "";
    const char *s = path + 5;
    if (!*s || !s[1])
        return true;
    s++;
    for (int i = PF_MOUNTS; i <= PF_LAST; i++)
        if (!strcmp(s, file_names[i])) {   /* a file of /proc itself */
            *rest = s;
            return true;
        }
    char *end;
    if (!strncmp(s, "self", 4) && (!s[4] || s[4] == '/')) {
        *pid = p->pid;
        end = (char *)s + 4;
    } else {
        unsigned long v = strtoul(s, &end, 10);
        if (end == s || (*end && *end != '/') || !v || v > UINT32_MAX) {
            *pid = UINT32_MAX;          /* no such entry */
            return true;
        }
        *pid = (uint32_t)v;
    }
    *rest = *end ? end + 1 : "";
    return true;
}

/* A file's index; a process's directory has those up to PF_MOUNTS only. */
static int file_of(uint32_t pid, const char *name)
{
    for (int i = PF_STAT; i <= (pid ? PF_MOUNTS : PF_LAST); i++)
        if (!strcmp(name, file_names[i]))
            return i;
    return 0;
}

static struct lproc *live(uint32_t pid)
{
    struct lproc *q = pid && pid != UINT32_MAX ? lproc_by_pid(pid) : NULL;
    return q && q->state != LP_FREE ? q : NULL;
}

bool proc_path(const char *path) { return !strncmp(path, "/proc", 5) && (!path[5] || path[5] == '/'); }

long proc_open(struct lproc *p, const char *path, uint32_t flags, bool cloexec)
{
    uint32_t pid;
    const char *rest;
    split(p, path, &pid, &rest);
    if (pid && !live(pid))
        return -ENOENT;
    if (!strcmp(rest, "exe"))
        return -ENOENT;                 /* opened through its target: the caller follows readlink */
    int file = *rest ? file_of(pid, rest) : 0;
    if (*rest && !file)
        return -ENOENT;
    if ((flags & O_ACCMODE) != O_RDONLY && !file)
        return -EISDIR;                 /* a file opens for writing (we are root), and writes fail */
    if (file && (flags & O_DIRECTORY))
        return -ENOTDIR;
    struct ofile *of = ofile_new(file ? FD_PROCFILE : FD_PROCDIR, flags & (O_ACCMODE | O_NONBLOCK));
    if (!of)
        return -ENFILE;
    of->ino = pid, of->gen = (uint32_t)file;
    strcpy(of->path, path);
    long fd = fd_new(p, of, 0, cloexec);
    if (fd < 0)
        ofile_drop(of);
    return fd;
}

/* /proc/mounts (and /proc/PID/mounts): the volume of /fs at the root, and ourselves. */
static size_t mounts_text(char *out, size_t max)
{
    bool mounted = false, ro = false;
    uint32_t bs;
    uint64_t blocks, free_blocks, inodes, free_inodes;
    char why[121];
    fs_info(&fs, &mounted, &ro, &bs, &blocks, &free_blocks, &inodes, &free_inodes, why);
    int n = snprintf(out, max, "%sproc /proc proc rw 0 0\n", !mounted ? "" : ro ? "/dev/root / ext2 ro 0 0\n"
                                                                                 : "/dev/root / ext2 rw 0 0\n");
    return n < 0 ? 0 : (size_t)n < max ? (size_t)n : max;
}

/* /proc/meminfo, /proc/uptime, /proc/loadavg: sysinfo's figures (identity.c) as Linux lays them out. */
static size_t system_text(int file, char *out, size_t max)
{
    struct system_figures f;
    system_figures(&f);
    int n = 0;
    if (file == PF_MEMINFO)
        n = snprintf(out, max,
                     "MemTotal:       %8lu kB\nMemFree:        %8lu kB\nMemAvailable:   %8lu kB\n"
                     "Buffers:        %8lu kB\nCached:         %8lu kB\nSwapCached:     %8lu kB\n"
                     "SwapTotal:      %8lu kB\nSwapFree:       %8lu kB\nShmem:          %8lu kB\n"
                     "SReclaimable:   %8lu kB\n",
                     f.total >> 10, f.free >> 10, f.free >> 10, 0ul, 0ul, 0ul, 0ul, 0ul, 0ul, 0ul);
    else if (file == PF_UPTIME)         /* the second figure, idle time, is not tracked: 0.00 */
        n = snprintf(out, max, "%lu.%02lu 0.00\n", f.uptime_ms / 1000, f.uptime_ms % 1000 / 10);
    else                                /* no load average is tracked; runnable/total, the last pid */
        n = snprintf(out, max, "0.00 0.00 0.00 1/%u %u\n", f.procs, f.last_pid);
    return n < 0 ? 0 : (size_t)n < max ? (size_t)n : max;
}

/* The text of a process's file, as Linux lays it out (fields we have no count of are 0). */
static size_t text(struct lproc *q, int file, char *out, size_t max)
{
    if (file == PF_MOUNTS)
        return mounts_text(out, max);
    if (file > PF_MOUNTS)
        return system_text(file, out, max);
    const char *comm = q->comm[0] ? q->comm : strrchr(q->exe, '/') ? strrchr(q->exe, '/') + 1 : q->exe;
    char state = q->state == LP_ENDED ? 'Z' : q->stopped ? 'T'
               : (q->sleeper || q->pipe_reply || q->wait_reply || q->tty_reply || q->poll_reply) ? 'S' : 'R';
    uint64_t ticks = 0;
    struct pith_msg m = { 0 };
    if (q->state == LP_RUNNING && !pith_invoke(q->tcb, PITH_TCB_INFO, &m))
        ticks = m.w[0] / (time_page->tsc_hz / 100);    /* CPU time in clock ticks of 100 Hz */
    int n = 0;
    switch (file) {
    case PF_STAT:
        n = snprintf(out, max,
                     "%u (%.15s) %c %u %u %u 1025 %d 4194304 0 0 0 0 %lu 0 0 0 20 0 1 0 0 %lu %lu "
                     "18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
                     q->pid, comm, state, q->ppid, q->pgid, q->sid, tty_fg ? (int)tty_fg : -1, ticks,
                     (uint64_t)q->mem.n << CHUNK_BITS, (uint64_t)q->mem.n << (CHUNK_BITS - 12));
        break;
    case PF_COMM:
        n = snprintf(out, max, "%.15s\n", comm);
        break;
    case PF_CMDLINE:                    /* a zombie's is empty, as on Linux */
        n = q->state == LP_ENDED ? 0 : (int)(q->cmdline_len < max ? q->cmdline_len : max);
        memcpy(out, q->cmdline, (size_t)n);
        break;
    case PF_STATUS:
        n = snprintf(out, max,
                     "Name:\t%.15s\nUmask:\t%04o\nState:\t%c (%s)\nTgid:\t%u\nNgid:\t0\nPid:\t%u\nPPid:\t%u\n"
                     "TracerPid:\t0\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t%d\nGroups:\t\n"
                     "VmRSS:\t%lu kB\nThreads:\t1\nSigPnd:\t%016lx\nSigBlk:\t%016lx\n",
                     comm, umask_of(q), state, state == 'Z' ? "zombie" : state == 'T' ? "stopped" : state == 'S' ? "sleeping" : "running", q->pid, q->pid,
                     q->ppid, FD_MAX, (uint64_t)q->mem.n << 10, q->sigpending, q->sigmask);
        break;
    }
    return n < 0 ? 0 : (size_t)n < max ? (size_t)n : max;
}

long proc_read(struct lproc *p, struct ofile *of, uint64_t buf, uint64_t n)
{
    static char t[1024];
    struct lproc *q = live(of->ino);
    size_t len = q || of->gen >= PF_MOUNTS ? text(q, (int)of->gen, t, sizeof t) : 0;
    if (of->pos >= len)
        return 0;
    uint64_t k = len - of->pos < n ? len - of->pos : n;
    if (mem_write(p, buf, t + of->pos, k))
        return -EFAULT;
    of->pos += k;
    return (long)k;
}

/* One directory entry into the caller's buffer: its length, 0 if it does not fit, -EFAULT. */
static long dirent(struct lproc *p, uint64_t at, uint64_t room, uint64_t ino, uint64_t next, uint8_t type,
                   const char *name)
{
    size_t nlen = strlen(name);
    uint64_t reclen = (19 + nlen + 1 + 7) & ~7ull;
    if (reclen > room)
        return 0;
    char rec[64] = { 0 };
    struct { uint64_t ino; int64_t off; uint16_t reclen; uint8_t type; } __attribute__((packed)) d = {
        ino, (int64_t)next, (uint16_t)reclen, type };
    memcpy(rec, &d, 19);
    memcpy(rec + 19, name, nlen);
    return mem_write(p, at, rec, reclen) ? -EFAULT : (long)reclen;
}

/* /proc: ".", "..", "self", its files from mounts on, then a directory per process slot in use; /proc/PID: its files. */
long proc_getdents(struct lproc *p, struct ofile *of, uint64_t buf, uint64_t n)
{
    uint64_t used = 0;
    for (;;) {
        uint64_t i = of->pos;
        char name[16];
        uint8_t type = 4;               /* DT_DIR */
        uint64_t ino = PROC_INO + i;
        if (i == 0) {
            strcpy(name, ".");
        } else if (i == 1) {
            strcpy(name, "..");
        } else if (!of->ino) {
            if (i == 2) {
                strcpy(name, "self"), type = 10;    /* DT_LNK */
            } else if (i - 3 <= PF_LAST - PF_MOUNTS) {
                strcpy(name, file_names[PF_MOUNTS + i - 3]), type = 8;   /* DT_REG */
            } else if (i - 4 - (PF_LAST - PF_MOUNTS) < LPROC_MAX) {
                struct lproc *q = &lprocs[i - 4 - (PF_LAST - PF_MOUNTS)];
                of->pos++;
                if (q->state == LP_FREE || !q->pid)
                    continue;
                snprintf(name, sizeof name, "%u", q->pid);
                of->pos--;
            } else {
                break;
            }
        } else if (i - 2 < 5) {         /* stat, cmdline, status, comm, exe */
            strcpy(name, i == 6 ? "exe" : file_names[i - 1]);
            type = i == 6 ? 10 : 8;     /* DT_LNK, DT_REG */
        } else {
            break;
        }
        long r = dirent(p, buf + used, n - used, ino, i + 1, type, name);
        if (r < 0)
            return r;
        if (!r) {
            if (!used)
                return -EINVAL;
            break;
        }
        used += (uint64_t)r;
        of->pos = i + 1;
    }
    return (long)used;
}

/* stat of a /proc path (follow: /proc/self as the directory it names), into *st; -ENOENT if none. */
long proc_stat(struct lproc *p, const char *path, bool follow, struct stat *st)
{
    uint32_t pid;
    const char *rest;
    split(p, path, &pid, &rest);
    if (pid && !live(pid))
        return -ENOENT;
    bool self = !strncmp(path, "/proc/self", 10) && !path[10];
    int file = *rest ? file_of(pid, rest) : 0;
    if (*rest && !file && strcmp(rest, "exe"))
        return -ENOENT;
    if ((self && !follow) || !strcmp(rest, "exe"))
        stat_fill(st, PROC_INO + 2, S_IFLNK | 0777, 1, 0, 0, 0, 0, 0, 0, 0);
    else if (file)
        stat_fill(st, PROC_INO + 64 + pid * 4 + (uint32_t)file, S_IFREG | 0444, 1, 0, 0, 0, 0, 0, 0, 0);
    else
        stat_fill(st, PROC_INO + 64 + pid * 4, S_IFDIR | 0555, 2, 0, 0, 0, 0, 0, 0, 0);
    st->st_dev = 4;                     /* a file system of its own, as proc is */
    return 0;
}

/* readlink of /proc/self (the pid) and /proc/PID/exe (the program); -EINVAL for a path not a link. */
long proc_readlink(struct lproc *p, const char *path, char *out, size_t max)
{
    uint32_t pid;
    const char *rest;
    split(p, path, &pid, &rest);
    struct lproc *q = live(pid);
    if (pid && !q)
        return -ENOENT;
    if (!strcmp(path, "/proc/self"))
        return snprintf(out, max, "%u", p->pid);
    if (q && !strcmp(rest, "exe"))
        return snprintf(out, max, "%s", q->exe);
    if (*rest && !file_of(pid, rest))
        return -ENOENT;
    return -EINVAL;
}
