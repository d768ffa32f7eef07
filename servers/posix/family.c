/*
 * Processes making processes: fork (vfork and clone in fork's form are
 * the same here) copies every region of the parent into a new process at
 * once (the stack only as far as it has grown; private writable memory,
 * data, bss, the heap and mappings, is shared copy-on-write from the pool
 * of shared.c when it was made there: decisions 0020 and 0021) and shares
 * its open file descriptions;
 * execve loads a new image into a fresh process that takes over the pid,
 * the descriptors without O_CLOEXEC and the rest of the identity; wait4
 * and waitid reap children, keeping the answer (like nanosleep) while
 * none has ended; process groups and sessions are recorded.
 */
#include "personality.h"
#include "posix.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#define CLONE_VM             0x00000100
#define CLONE_THREAD         0x00010000
#define CLONE_PARENT_SETTID  0x00100000
#define CLONE_CHILD_CLEARTID 0x00200000
#define CLONE_CHILD_SETTID   0x01000000
#define START_FAULT_VA       0x1000     /* nothing is ever mapped here: a new child faults at once */

/* ---- fork -------------------------------------------------------------------- */

static long fork_from(struct lproc *p, uint64_t flags, uint64_t stack, uint64_t ptid, uint64_t ctid)
{
    struct lproc *c;
    if (lproc_new(&c))
        return -EAGAIN;
    files_close_all(c);
    c->ppid = p->pid;
    c->pgid = p->pgid, c->sid = p->sid;
    if ((c->image = p->image) >= 0)
        image_get(c->image);            /* before any region: an early end puts it back */
    for (int i = 0; i < REGION_MAX; i++) {
        struct region *r = &p->regions[i];
        if (!r->used)
            continue;
        struct region *n;
        uint64_t len = r->end - r->start;
        /* The stack's pieces as any region: it grows on demand in the child too, below its lowest. */
        uint32_t page = r->shared ? shared_page(r->src + (r->start - r->origin) / PAGE) : 0;
        long err = r->cow ? mem_fork_cow(p, c, r, &n)
                  : r->shared ? mem_map_shared(c, r->start, len, r->rights, page, &n)
                  : r->src ? mem_map_from(c, r->start, len, r->rights, r->src + (r->start - r->origin) / PAGE, &n)
                           : mem_map(c, r->start, len, r->rights, r->kind, &n);
        if (err) {
            c->ppid = 1;                /* never ran: no SIGCHLD */
            lproc_end(c, 127, 0);
            lproc_reap(c);
            return -ENOMEM;
        }
        if (!r->src)                    /* a shared image's pages are the same frames */
            memcpy((void *)(n->alias + (r->start - n->origin)), (const void *)(r->alias + (r->start - r->origin)), len);
        n->prot = r->prot;
    }
    c->brk_start = p->brk_start, c->brk = p->brk, c->brk_mapped = p->brk_mapped;
    c->fs_base = p->fs_base, c->gs_base = p->gs_base;
    c->sigmask = p->sigmask;
    c->ss_sp = p->ss_sp, c->ss_size = p->ss_size, c->ss_flags = p->ss_flags;  /* the alternate stack: kept */
    c->no_fastcalls = p->no_fastcalls;
    meta_inherit(c, p);                 /* the umask and the resource limits */
    memcpy(c->sigact, p->sigact, sizeof c->sigact);
    strcpy(c->cwd, p->cwd);
    strcpy(c->exe, p->exe);
    strcpy(c->comm, p->comm);
    c->undumpable = p->undumpable, c->no_new_privs = p->no_new_privs;  /* (pdeathsig: not a fork's child's) */
    memcpy(c->cmdline, p->cmdline, p->cmdline_len);
    c->cmdline_len = p->cmdline_len;
    for (int fd = 0; fd < FD_MAX; fd++)
        if (p->fds[fd].of) {
            c->fds[fd] = p->fds[fd];
            c->fds[fd].of->refs++;
        }
    uint32_t pid = c->pid;
    if (flags & CLONE_CHILD_SETTID)
        mem_write(c, ctid, &pid, 4);
    if (flags & CLONE_PARENT_SETTID) {
        mem_write(c, ptid, &pid, 4);
        mem_write(p, ptid, &pid, 4);
    }
    if (flags & CLONE_CHILD_CLEARTID)
        c->clear_tid = ctid;
    c->fork_regs = cur_regs;
    c->fork_regs.rax = 0;
    if (stack)
        c->fork_regs.rsp = stack;
    c->fork_pending = true;
    if (pith_invoke4(c->tcb, PITH_TCB_SET_TLS, c->fs_base, c->gs_base, 0, 0) ||
        pith_invoke4(c->tcb, PITH_TCB_WRITE_REGISTERS, START_FAULT_VA, c->fork_regs.rsp, 0, 0) ||
        pith_invoke4(c->tcb, PITH_TCB_RESUME, 0, 0, 0, 0)) {
        c->ppid = 1;
        lproc_end(c, 127, 0);
        lproc_reap(c);
        return -EAGAIN;
    }
    return pid;
}

SYSCALL(fork) { return fork_from(p, 0, 0, 0, 0); }
SYSCALL(vfork) { return fork_from(p, 0, 0, 0, 0); }   /* a copy: the parent need not wait */

SYSCALL(clone)
{
    if (a0 & CLONE_THREAD)
        return thread_clone(p, a0, a1, a2, a3, a4);
    if ((a0 & CLONE_VM) && !a1)
        return -ENOSYS;                 /* a process sharing its parent's memory: not here */
    return fork_from(p, a0, a1, a2, a3);
}

/* ---- execve ------------------------------------------------------------------ */

/* The strings of a NULL-ended array of the process, NUL-separated, into out; their count or -errno. */
static long gather(struct lproc *p, uint64_t arr, char *out, uint64_t size, uint64_t *used, int max)
{
    *used = 0;
    if (!arr)
        return 0;
    for (int n = 0;; n++) {
        uint64_t ptr;
        if (mem_read(p, &ptr, arr + 8 * (uint64_t)n, 8))
            return -EFAULT;
        if (!ptr || n == max)
            return n;                   /* past max: the rest is left out */
        long len = mem_string(p, out + *used, ptr, size - *used);
        if (len < 0)
            return len == -ENAMETOOLONG ? -E2BIG : len;
        *used += (uint64_t)len + 1;
    }
}

static long errno_of(long posix_err)
{
    switch (posix_err) {
    case POSIX_E_NOT_FOUND: return -ENOENT;
    case POSIX_E_NOT_ELF: case POSIX_E_NOT_STATIC: return -ENOEXEC;
    case POSIX_E_TOO_BIG: return -ENOMEM;
    case POSIX_E_NO_ROOM: return -EAGAIN;
    case POSIX_E_INVALID: return -EINVAL;
    default: return -EIO;
    }
}

/* Everything of p goes, without a trace: its pid lives on in the process that replaces it. */
static void discard(struct lproc *p)
{
    threads_end(p);                     /* as Linux: execve ends the other threads */
    pith_invoke4(p->tcb, PITH_TCB_SUSPEND, 0, 0, 0, 0);
    files_close_all(p);
    pipe_cancel(p);
    if (p->sleeper)
        reply_give(p->sleeper);
    p->sleeper = 0;
    p->state = LP_ENDED;
    fastcalls_forget(p);
    p->waiter = 0;
    p->ppid = 0;
    uint32_t pid = p->pid;
    p->pid = 0;
    lproc_end_objects(p);
    p->state = LP_FREE;
    (void)pid;
}

SYSCALL(execve)
{
    char path[256];
    long err = path_resolve(p, a0, AT_FDCWD, path);
    if (err)
        return err;
    if (!strcmp(path, "/proc/self/exe"))
        strcpy(path, p->exe);
    /* 32 KiB of strings each: a shell's exported variables reach tens of KiB (busybox's testsuite: 10). */
    static char args[32768], envs[32768];
    uint64_t alen, elen;
    long argc = gather(p, a1, args, sizeof args, &alen, 255);
    if (argc < 0)
        return argc;
    long envc = gather(p, a2, envs, sizeof envs, &elen, 255 - (int)argc);
    if (envc < 0)
        return envc;
    char given[256];
    bool script;
    if (mem_string(p, given, a0, sizeof given) < 0 ||
        (err = script_resolve(p, path, given, args, &alen, sizeof args, &script)))
        return err ? err : -EFAULT;
    struct lproc *c;
    if (lproc_new(&c))
        return -EAGAIN;
    uint64_t entry, sp;
    strcpy(c->cwd, p->cwd);
    /* Linux names a process after the file execve was given: a script's name, not its interpreter's. */
    const char *base = strrchr(given, '/') ? strrchr(given, '/') + 1 : given;
    snprintf(c->comm, sizeof c->comm, "%s", script ? base : "");
    err = load_program(c, path, args, alen, envs, elen, &entry, &sp);
    if (err) {
        lproc_end(c, 127, 0);
        lproc_reap(c);
        return errno_of(err);
    }
    files_close_all(c);
    for (int fd = 0; fd < FD_MAX; fd++)
        if (p->fds[fd].of && !p->fds[fd].cloexec) {
            c->fds[fd] = p->fds[fd];
            p->fds[fd].of = NULL;
        }
    c->ppid = p->ppid, c->pgid = p->pgid, c->sid = p->sid, c->orphan = p->orphan;
    c->pdeathsig = p->pdeathsig, c->no_new_privs = p->no_new_privs;    /* kept by execve, as on Linux */
    c->sigmask = p->sigmask;
    meta_inherit(c, p);                 /* the umask and the resource limits */
    c->sigpending = p->sigpending;      /* pending signals survive the exec */
    memcpy(c->siginfo, p->siginfo, sizeof c->siginfo);
    for (int s = 0; s < 64; s++)        /* handlers go back to the default; ignored signals stay ignored */
        if (p->sigact[s].handler == (uint64_t)SIG_IGN)
            c->sigact[s].handler = (uint64_t)SIG_IGN;
    c->waiter = p->waiter;
    itimer_exec(c, p);                  /* the timers survive the exec (the alternate stack does not) */
    uint32_t pid = p->pid;
    discard(p);
    c->pid = pid;
    if (pith_invoke4(c->tcb, PITH_TCB_WRITE_REGISTERS, entry, sp, 0, 0) ||
        pith_invoke4(c->tcb, PITH_TCB_RESUME, 0, 0, 0, 0))
        lproc_end(c, 0, SIGSEGV);
    return NO_ANSWER;
}

/* ---- wait4, waitid ------------------------------------------------------------ */

static bool waits_for(const struct lproc *parent, const struct lproc *c, int64_t pid)
{
    if (c->state == LP_FREE || c->ppid != parent->pid || c->orphan)
        return false;
    if (pid > 0)
        return c->pid == (uint64_t)pid;
    if (pid == -1)
        return true;
    return c->pgid == (pid == 0 ? parent->pgid : (uint64_t)-pid);
}

void rusage_fill(struct lrusage *r, uint64_t cpu_ns, uint64_t maxrss_kb)
{
    memset(r, 0, sizeof *r);
    r->utime.sec = (int64_t)(cpu_ns / 1000000000), r->utime.usec = (int64_t)(cpu_ns % 1000000000 / 1000);
    r->maxrss = (int64_t)maxrss_kb;
}

/* Its memory, as getrusage's peak: its chunks (which only grow) and the pool pages it maps, in KiB. */
uint64_t lproc_maxrss_kb(const struct lproc *p)
{
    return (uint64_t)(p->mem.n + p->mem.elsewhere) << (CHUNK_BITS - 10);
}

/*
 * c's status to where the parent asked, c reaped: wait4's answer (its pid)
 * or waitid's (0).  Its CPU time, and that of the children it waited for,
 * count as the parent's children's; where the wait asked, c's rusage.
 */
static long reap_into(struct lproc *parent, struct lproc *c, uint64_t addr, bool siginfo)
{
    long pid = c->pid;
    uint64_t cpu = c->cpu_end_ns + c->child_cpu_ns;
    uint64_t rss = c->end_rss_kb > c->child_maxrss_kb ? c->end_rss_kb : c->child_maxrss_kb;
    parent->child_cpu_ns += cpu;
    if (rss > parent->child_maxrss_kb)
        parent->child_maxrss_kb = rss;
    if (parent->wait_rusage) {
        struct lrusage r;
        rusage_fill(&r, cpu, rss);
        mem_write(parent, parent->wait_rusage, &r, sizeof r);
    }
    if (siginfo) {
        struct { int32_t signo, err, code, pad, pid, uid, status, pad2; } si = {
            SIGCHLD, 0, c->signal ? (c->core ? 3 : 2) : 1, 0, (int32_t)c->pid, 0, c->signal ? c->signal : (c->status & 0xff), 0 };
        if (addr)
            mem_write(parent, addr, &si, sizeof si);
    } else if (addr) {
        int32_t st = c->signal ? (c->signal & 0x7f) | (c->core ? 0x80 : 0) : (c->status & 0xff) << 8;
        mem_write(parent, addr, &st, 4);
    }
    lproc_reap(c);
    return siginfo ? 0 : pid;
}

#define L_WNOHANG    1
#define L_WUNTRACED  2                  /* waitid: WSTOPPED */
#define L_WEXITED    4
#define L_WCONTINUED 8
#define L_WNOWAIT    0x01000000

/* A stop or a continue of c, if the options ask for it: its status where asked (c stays); -1 if not. */
static long report_change(struct lproc *parent, struct lproc *c, uint64_t addr, uint64_t options, bool siginfo)
{
    bool stopped = (options & L_WUNTRACED) && c->stopped && c->stop_report;
    bool continued = (options & L_WCONTINUED) && c->cont_report;
    if (c->state != LP_RUNNING || (!stopped && !continued))
        return -1;
    if (siginfo) {
        struct { int32_t signo, err, code, pad, pid, uid, status, pad2; } si = {
            SIGCHLD, 0, stopped ? 5 : 6, 0, (int32_t)c->pid, 0, stopped ? c->stop_sig : SIGCONT, 0 };
        if (addr)
            mem_write(parent, addr, &si, sizeof si);
    } else if (addr) {
        int32_t st = stopped ? 0x7f | c->stop_sig << 8 : 0xffff;
        mem_write(parent, addr, &st, 4);
    }
    if (!(siginfo && (options & L_WNOWAIT))) {
        if (stopped)
            c->stop_report = false;
        else
            c->cont_report = false;
    }
    return siginfo ? 0 : c->pid;
}

static long wait_common(struct lproc *p, int64_t pid, uint64_t addr, uint64_t options, bool siginfo)
{
    bool any = false;
    if (!siginfo)
        options |= L_WEXITED;           /* wait4 always waits for ends */
    for (int i = 0; i < LPROC_MAX; i++) {
        struct lproc *c = &lprocs[i];
        if (!waits_for(p, c, pid))
            continue;
        any = true;
        if (c->state == LP_ENDED && (options & L_WEXITED))
            return reap_into(p, c, addr, siginfo);
        long r = report_change(p, c, addr, options, siginfo);
        if (r >= 0)
            return r;
    }
    if (!any)
        return -ECHILD;
    if (options & 1) {                  /* WNOHANG */
        if (siginfo && addr) {
            static const char zero[32];
            mem_write(p, addr, zero, sizeof zero);
        }
        return 0;
    }
    p->wait_reply = server_reply;
    p->wait_pid = pid, p->wait_addr = addr, p->wait_siginfo = siginfo, p->wait_options = options;
    deferred = true;
    return NO_ANSWER;
}

/* Where a wait puts the rusage (0: nowhere): zeros now, an unwritable place EFAULT; the child's at its reaping. */
static long wait_rusage_at(struct lproc *p, uint64_t addr)
{
    static const struct lrusage zero;
    if (addr && mem_write(p, addr, &zero, sizeof zero))
        return -EFAULT;
    p->wait_rusage = addr;
    return 0;
}

SYSCALL(wait4)
{
    long err = wait_rusage_at(p, a3);
    return err ? err : wait_common(p, (int32_t)a0, a1, a2, false);
}

SYSCALL(waitid)
{
    int64_t pid;
    switch (a0) {
    case 0: pid = -1; break;                        /* P_ALL */
    case 1: pid = (int32_t)a1; break;               /* P_PID */
    case 2: pid = a1 ? -(int64_t)a1 : 0; break;     /* P_PGID */
    default: return -EINVAL;
    }
    if (!(a3 & (L_WEXITED | L_WUNTRACED | L_WCONTINUED)))     /* nothing to wait for */
        return -EINVAL;
    long err = wait_rusage_at(p, a4);   /* (Linux's waitid has a fifth argument: the rusage) */
    return err ? err : wait_common(p, pid, a2, a3, true);
}

/* A thread of parent waiting for child c (arg) told of its stop or continuing. */
static bool changed_one(struct lproc *parent, void *arg)
{
    struct lproc *c = arg;
    if (!parent->wait_reply || !waits_for(parent, c, parent->wait_pid))
        return false;
    long r = report_change(parent, c, parent->wait_addr, parent->wait_options, parent->wait_siginfo);
    if (r < 0)
        return false;
    uint64_t reply = parent->wait_reply;
    parent->wait_reply = 0;
    answer_syscall(parent, reply, r);
    return true;
}

void family_child_changed(struct lproc *c)
{
    struct lproc *parent = c->ppid > 1 ? lproc_by_pid(c->ppid) : NULL;
    if (parent && parent->state == LP_RUNNING)
        thread_each(parent, changed_one, c);
}

/* A thread of parent waiting for child c (arg), which ended, given it (reaped). */
static bool ended_one(struct lproc *parent, void *arg)
{
    struct lproc *c = arg;
    if (!parent->wait_reply || !waits_for(parent, c, parent->wait_pid) || !(parent->wait_options & L_WEXITED))
        return false;
    long r = reap_into(parent, c, parent->wait_addr, parent->wait_siginfo);
    uint64_t reply = parent->wait_reply;
    parent->wait_reply = 0;
    answer_syscall(parent, reply, r);
    return true;
}

void family_child_ended(struct lproc *c)
{
    struct lproc *parent = c->ppid > 1 ? lproc_by_pid(c->ppid) : NULL;
    if (parent && parent->state == LP_RUNNING)
        thread_each(parent, ended_one, c);
}

void family_parent_ends(struct lproc *p)
{
    if (p->wait_reply)
        reply_give(p->wait_reply);
    p->wait_reply = 0;
    for (int i = 0; i < LPROC_MAX; i++) {
        struct lproc *c = &lprocs[i];
        if (c == p || c->state == LP_FREE || c->ppid != p->pid)
            continue;
        if (c->pdeathsig && c->state == LP_RUNNING && !c->orphan) {
            signal_post(c, c->pdeathsig, 0, (int)p->pid, 0);    /* prctl(PR_SET_PDEATHSIG), SI_USER */
            signal_wake(c);
        }
        c->ppid = 1;
        c->orphan = true;
        if (c->state == LP_ENDED)
            lproc_reap(c);
    }
}

/* ---- groups and sessions (recorded) ------------------------------------------- */

static struct lproc *target(struct lproc *p, uint64_t pid)
{
    return pid ? lproc_by_pid((uint32_t)pid) : p;
}

SYSCALL(setpgid)
{
    struct lproc *t = target(p, a0);
    if (!t || t->state != LP_RUNNING)
        return -ESRCH;
    if ((int64_t)a1 < 0)
        return -EINVAL;
    t->pgid = a1 ? (uint32_t)a1 : t->pid;
    return 0;
}

SYSCALL(getpgid)
{
    struct lproc *t = target(p, a0);
    return t ? (long)t->pgid : -ESRCH;
}

SYSCALL(getpgrp) { return p->pgid; }

SYSCALL(getsid)
{
    struct lproc *t = target(p, a0);
    return t ? (long)t->sid : -ESRCH;
}

SYSCALL(setsid)
{
    if (p->pgid == p->pid)
        return -EPERM;                  /* already a group leader */
    p->sid = p->pgid = p->pid;
    return p->pid;
}
