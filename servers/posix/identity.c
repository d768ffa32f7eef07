/*
 * System calls about the process itself: exit, identity, uname,
 * the thread's FS and GS bases.
 */
#include "personality.h"

#include <errno.h>
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

SYSCALL(set_tid_address)
{
    p->clear_tid = a0;
    return thread_tid(p);
}
SYSCALL(set_robust_list) { return a1 == 24 ? 0 : -EINVAL; }    /* accepted: one thread, nothing to clean */
SYSCALL(rseq) { return -ENOSYS; }       /* glibc carries on without it */

/* Everyone is root with no supplementary groups (id prints its group from getgid). */
SYSCALL(getgroups) { return (int64_t)a0 < 0 ? -EINVAL : 0; }
