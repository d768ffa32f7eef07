/*
 * Resource limits: getrlimit, setrlimit, prlimit64.  Each process has
 * its own, inherited by fork and kept by execve, as on Linux.  Defaults
 * say what the personality gives: the stack made at the start, 64
 * descriptors, 16 processes; the rest unlimited.  RLIMIT_NOFILE is
 * enforced (a descriptor at or above its soft limit is refused) and its
 * hard limit cannot go above the 64 there are (EPERM, as Linux's
 * nr_open); the others are kept and reported, not enforced.
 */
#include "personality.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>

static struct rlimit default_of(int resource)
{
    uint64_t v = RLIM_INFINITY;
    if (resource == RLIMIT_STACK)
        v = STACK_PAGES * PAGE;
    else if (resource == RLIMIT_NOFILE)
        v = FD_MAX;
    else if (resource == RLIMIT_NPROC)
        v = LPROC_MAX;
    return (struct rlimit){ v, v };
}

static struct rlimit limit_of(const struct lproc *p, int resource)
{
    if (p->rlim_set & (1u << resource))
        return (struct rlimit){ p->rlim[resource][0], p->rlim[resource][1] };
    return default_of(resource);
}

uint32_t fd_limit(const struct lproc *p)
{
    struct rlimit r = limit_of(p, RLIMIT_NOFILE);
    return r.rlim_cur < FD_MAX ? (uint32_t)r.rlim_cur : FD_MAX;
}

/* A forked child's, or an exec'd image's: the umask and the limits go on. */
void meta_inherit(struct lproc *c, const struct lproc *p)
{
    c->umask_x = p->umask_x;
    c->rlim_set = p->rlim_set;
    memcpy(c->rlim, p->rlim, sizeof c->rlim);
}

SYSCALL(prlimit64)
{
    struct lproc *t = a0 ? lproc_by_pid((uint32_t)a0) : p;    /* the process whose limit it is */
    struct rlimit old, new;
    if (!t)
        return -ESRCH;
    if (a1 >= RLIM_NLIMITS)
        return -EINVAL;
    if (a2) {
        if (mem_read(p, &new, a2, sizeof new))
            return -EFAULT;
        if (new.rlim_cur > new.rlim_max)
            return -EINVAL;
        if (a1 == RLIMIT_NOFILE && new.rlim_max > FD_MAX)
            return -EPERM;
    }
    old = limit_of(t, (int)a1);
    if (a3 && mem_write(p, a3, &old, sizeof old))
        return -EFAULT;
    if (a2) {
        t->rlim[a1][0] = new.rlim_cur;
        t->rlim[a1][1] = new.rlim_max;
        t->rlim_set |= (uint16_t)(1u << a1);
    }
    return 0;
}
SYSCALL(getrlimit) { return sys_prlimit64(p, 0, a0, 0, a1, 0, 0); }
SYSCALL(setrlimit) { return sys_prlimit64(p, 0, a0, a1, 0, 0, 0); }
