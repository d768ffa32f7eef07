/*
 * System calls about the process itself: exit, identity, uname,
 * the thread's FS and GS bases; and sysinfo, about the system.
 */
#include "personality.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

SYSCALL(exit_group)
{
    lproc_end(p, (int)(a0 & 0xff), 0);
    return NO_ANSWER;
}
SYSCALL(exit) { return thread_exit(p, (int)(a0 & 0xff)); }     /* the last thread's ends the process */

SYSCALL(getpid) { return p->pid; }
SYSCALL(gettid) { return thread_tid(p); }
SYSCALL(getppid) { return p->ppid; }
SYSCALL(getuid) { return 0; }           /* also geteuid, getgid, getegid: everyone is root */

SYSCALL(uname)
{
    struct utsname u;
    memset(&u, 0, sizeof u);
    strcpy(u.sysname, "Linux");         /* what programs test for; the release is new enough for glibc */
    strcpy(u.nodename, "pith");
    strcpy(u.release, "6.1.0-pith");
    strcpy(u.version, "#1 Pith POSIX personality");
    strcpy(u.machine, "x86_64");
    strcpy(u.__domainname, "(none)");
    return mem_write(p, a0, &u, sizeof u);
}

/*
 * The figures of sysinfo and /proc's meminfo, uptime and loadavg: the
 * memory is what the personality has for processes (its chunks, those no
 * process holds free), the time since boot is the clock's, the processes
 * are our slots in use.  No load average or swap is tracked: 0.
 */
void system_figures(struct system_figures *f)
{
    *f = (struct system_figures){ .total = (uint64_t)chunks_total << CHUNK_BITS,
                                  .free = (uint64_t)chunks_free() << CHUNK_BITS,
                                  .uptime_ms = pith_clock_ns(time_page) / 1000000 };
    for (int i = 0; i < LPROC_MAX; i++)
        if (lprocs[i].state != LP_FREE) {
            f->procs++;
            f->last_pid = lprocs[i].pid > f->last_pid ? lprocs[i].pid : f->last_pid;
        }
}

/* Linux's struct sysinfo on x86-64: 112 bytes (the C library's may be larger: musl's is). */
struct lsysinfo {
    int64_t uptime;
    uint64_t loads[3];
    uint64_t totalram, freeram, sharedram, bufferram, totalswap, freeswap;
    uint16_t procs, pad;
    uint64_t totalhigh, freehigh;
    uint32_t mem_unit;
};
_Static_assert(sizeof(struct lsysinfo) == 112, "Linux's layout");

SYSCALL(sysinfo)
{
    struct system_figures f;
    struct lsysinfo si;
    system_figures(&f);
    memset(&si, 0, sizeof si);
    si.uptime = (int64_t)(f.uptime_ms / 1000);
    si.totalram = f.total;
    si.freeram = f.free;
    si.procs = (unsigned short)f.procs;
    si.mem_unit = 1;
    return mem_write(p, a0, &si, sizeof si);
}

#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define ARCH_GET_GS 0x1004

SYSCALL(arch_prctl)
{
    switch (a0) {
    case ARCH_SET_FS:
    case ARCH_SET_GS: {
        uint64_t fs_base = a0 == ARCH_SET_FS ? a1 : p->fs_base, gs_base = a0 == ARCH_SET_GS ? a1 : p->gs_base;
        if (pith_invoke4(p->tcb, PITH_TCB_SET_TLS, fs_base, gs_base, 0, 0))
            return -EPERM;              /* not a lower-half address */
        p->fs_base = fs_base, p->gs_base = gs_base;
        return 0;
    }
    case ARCH_GET_FS:
        return mem_write(p, a1, &p->fs_base, 8);
    case ARCH_GET_GS:
        return mem_write(p, a1, &p->gs_base, 8);
    default:
        return -EINVAL;
    }
}

/*
 * prctl: the options programs use at start-up.  PR_SET_NAME names the
 * process in /proc (15 bytes, until its next execve); PR_SET_PDEATHSIG's
 * signal comes when its parent ends (not to a fork's child; kept by
 * execve); the dumpable and no-new-privileges flags are kept and read
 * back (nothing in the personality dumps core files or raises
 * privileges).  Any other option: EINVAL, as Linux says for one it lacks.
 */
#define PR_SET_PDEATHSIG    1
#define PR_GET_PDEATHSIG    2
#define PR_GET_DUMPABLE     3
#define PR_SET_DUMPABLE     4
#define PR_SET_NAME         15
#define PR_GET_NAME         16
#define PR_SET_NO_NEW_PRIVS 38
#define PR_GET_NO_NEW_PRIVS 39

SYSCALL(prctl)
{
    switch (a0) {
    case PR_SET_PDEATHSIG:
        if (a1 > 64)
            return -EINVAL;
        p->pdeathsig = (uint8_t)a1;
        return 0;
    case PR_GET_PDEATHSIG: {
        int32_t sig = p->pdeathsig;
        return mem_write(p, a1, &sig, sizeof sig);
    }
    case PR_GET_DUMPABLE:
        return !p->undumpable;
    case PR_SET_DUMPABLE:
        if (a1 > 1)
            return -EINVAL;
        p->undumpable = !a1;
        return 0;
    case PR_SET_NAME: {
        char name[16];
        long n = mem_string(p, name, a1, sizeof name);
        if (n == -EFAULT)
            return -EFAULT;
        name[sizeof name - 1] = 0;      /* longer names are cut to 15 bytes, as Linux does */
        memcpy(p->comm, name, sizeof name);
        return 0;
    }
    case PR_GET_NAME: {
        char name[16] = { 0 };
        const char *exe = strrchr(p->exe, '/') ? strrchr(p->exe, '/') + 1 : p->exe;
        snprintf(name, sizeof name, "%s", p->comm[0] ? p->comm : exe);
        return mem_write(p, a1, name, sizeof name);
    }
    case PR_SET_NO_NEW_PRIVS:
        if (a1 != 1 || a2 || a3 || a4)
            return -EINVAL;
        p->no_new_privs = true;
        return 0;
    case PR_GET_NO_NEW_PRIVS:
        if (a1 || a2 || a3 || a4)
            return -EINVAL;
        return p->no_new_privs;
    default:
        return -EINVAL;
    }
}

SYSCALL(set_tid_address)
{
    p->clear_tid = a0;
    return thread_tid(p);
}
SYSCALL(set_robust_list) { return a1 == 24 ? 0 : -EINVAL; }    /* accepted: one thread, nothing to clean */
SYSCALL(rseq) { return -ENOSYS; }       /* glibc carries on without it */

/* Everyone is root with no supplementary groups (id prints its group from getgid). */
SYSCALL(getgroups) { return (int64_t)a0 < 0 ? -EINVAL : 0; }
