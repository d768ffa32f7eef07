/*
 * The process manager (servers/init/procmgr.idl) and the supervisor, two
 * threads of init.  The supervisor is every started process's fault
 * handler: a fault (or the exit call, process.h) ends the process, and its
 * restart policy decides what follows: a restart, at once after a lone
 * crash and after a backoff in a crash loop (10 ms, 20 ms, ... at most
 * 2 s), until the manifest's limit, when it gives up; or nothing.  A page fault in memory
 * the memory manager pages for the process (manifest: pages=) goes to the
 * manager first, and only one it refuses ends the process.  The memory
 * manager itself is never restarted (memd.c).
 */
#include "init.h"
#include "idl.h"
#include "procmgr.h"
#include "process.h"
#include "thread.h"
#include "tls.h"

#include <pith/fault.h>
#include <stdio.h>
#include <string.h>

#define BACKOFF_FIRST_NS 10000000ull
#define BACKOFF_MAX_NS   2000000000ull
#define STABLE_NS        1000000000ull  /* ran this long: its next end is not part of a crash loop */

struct procmgr_ctx {
    struct pith_server srv;
    uint64_t badge;
};

/* The caller's index in procs, from its badge (-1: none). */
static int caller_index(uint64_t badge)
{
    return badge && badge <= PROC_MAX && procs[badge - 1].used ? (int)badge - 1 : -1;
}

/*
 * The entry named, if the caller may act on it (tree.c, proc_may_act).
 * Init is nobody's: it is the supervisor, and nothing could restart it.
 */
static long target(int caller, const char *name, struct proc **out)
{
    if (!strcmp(name, "init")) {
        printf("init: %s asked to act on init; refused: nothing could restart it\n",
               caller >= 0 ? procs[caller].cfg.name : "?");
        return PROCMGR_E_INIT;
    }
    struct proc *p = proc_find(name);
    if (!p)
        return PROCMGR_E_NO_SUCH;
    /* The memory manager holds every quota: never started, stopped, killed or restarted (docs/memory.md). */
    if (memd_is(p))
        return PROCMGR_E_VITAL;
    if (!proc_may_act(caller, p))
        return PROCMGR_E_DENIED;
    *out = p;
    return 0;
}

static long list(void *ctx, uint32_t index, char *name, uint32_t *pid, uint32_t *parent, uint8_t *state,
                 uint64_t *memory, uint64_t *used, uint64_t *cpu_ns, uint32_t *restarts, int64_t *status)
{
    long err = PROCMGR_E_NO_SUCH;
    pith_mutex_lock(&init_lock);
    for (int i = 0; i < PROC_MAX; i++) {
        struct proc *p = &procs[i];
        if (!p->used || index-- != 0)
            continue;
        strcpy(name, p->cfg.name);
        *pid = p->pid;
        *parent = p->parent;
        *state = (uint8_t)p->state;
        *memory = p->quota ? 1ull << p->quota_bits : 0;
        *used = *cpu_ns = 0;
        struct pith_msg m = { 0 };
        /* Quotas it keeps for children it removed are free to it, not used. */
        if (p->quota && pith_invoke(p->quota, PITH_UNTYPED_INFO, &m) == PITH_OK)
            *used = *memory - m.w[1] - tree_kept_bytes(i);
        if (p->state == PROC_RUNNING && pith_invoke(p->tcb, PITH_TCB_INFO, &m) == PITH_OK)
        {
            uint64_t hz = pith_bootinfo->tsc_hz;     /* in two steps, so nothing overflows */
            *cpu_ns = m.w[0] / hz * 1000000000u + m.w[0] % hz * 1000000000u / hz;
        }
        *restarts = p->restarts;
        *status = p->status;
        err = 0;
        break;
    }
    pith_mutex_unlock(&init_lock);
    return err;
}

/* A boot module started by hand becomes an entry of its own: the name without ".elf", defaults. */
static struct proc *entry_for_module(const char *name)
{
    char module[MANIFEST_MODULE_MAX + 1];
    uint64_t size;
    snprintf(module, sizeof module, "%s.elf", name);
    if (strlen(name) > MANIFEST_NAME_MAX || !module_find(module, &size))
        return NULL;
    struct manifest_entry e = { .priority = 100, .memory_mib = 16, .irq = -1, .restart = RESTART_NEVER };
    strcpy(e.name, name);
    strcpy(e.module, module);
    int i = proc_add(&e, -1);
    return i < 0 ? NULL : &procs[i];
}

/* A start by hand: its restart count begins again; a failed start leaves it stopped. */
static long start_fresh(struct proc *p)
{
    p->restarts = 0;
    p->quick_ends = 0;
    long err = proc_start(p);
    if (err)
        p->state = PROC_STOPPED;
    return err;
}

static long start(void *ctx, const char *name)
{
    struct procmgr_ctx *c = ctx;
    pith_mutex_lock(&init_lock);
    int caller = caller_index(c->badge);
    struct proc *p = NULL;
    long err = target(caller, name, &p);
    /* A boot module started by name becomes init's child, its quota from the memory manager: only with procs. */
    if (err == PROCMGR_E_NO_SUCH && caller >= 0 && procs[caller].cfg.procs)
        err = (p = entry_for_module(name)) ? 0 : PROCMGR_E_NO_SUCH;
    if (!err)
        err = p->state == PROC_RUNNING ? PROCMGR_E_STATE : start_fresh(p);
    pith_mutex_unlock(&init_lock);
    return err;
}

/* Does op to the process the caller names, under init's lock, if the caller may act on it (target()). */
static long on_target(void *ctx, const char *name, long (*op)(struct proc *p))
{
    struct procmgr_ctx *c = ctx;
    pith_mutex_lock(&init_lock);
    struct proc *p = NULL;
    long err = target(caller_index(c->badge), name, &p);
    if (!err)
        err = op(p);
    pith_mutex_unlock(&init_lock);
    return err;
}

static long stop_one(struct proc *p)
{
    if (p->state == PROC_STOPPED)
        return PROCMGR_E_STATE;
    proc_end(p, PROC_STOPPED);
    return 0;
}

static long kill_one(struct proc *p)
{
    if (p->state != PROC_RUNNING)
        return PROCMGR_E_STATE;
    printf("init: %s (pid %u) killed on command\n", p->cfg.name, p->pid);
    p->status = -1;
    proc_end(p, PROC_STOPPED);
    supervise_after_end(p);
    return 0;
}

static long restart_one(struct proc *p)
{
    if (p->state == PROC_RUNNING)
        proc_end(p, PROC_STOPPED);
    return start_fresh(p);
}

static long remove_one(struct proc *p)
{
    proc_forget(p);
    return 0;
}

static long stop(void *ctx, const char *name) { return on_target(ctx, name, stop_one); }
static long restart(void *ctx, const char *name) { return on_target(ctx, name, restart_one); }
static long remove_proc(void *ctx, const char *name) { return on_target(ctx, name, remove_one); }

static long kill(void *ctx, const char *name)
{
    long err = on_target(ctx, name, kill_one);
    /* The supervisor keeps the timers: tell it one changed. */
    pith_signal(supervisor_ntfn);
    return err;
}

static long create(void *ctx, const char *name, const char *module, uint32_t memory_mib, uint32_t limit)
{
    struct procmgr_ctx *c = ctx;
    pith_mutex_lock(&init_lock);
    int caller = caller_index(c->badge);
    long err = caller < 0 ? PROCMGR_E_STATE : tree_create(caller, name, module, memory_mib, limit);
    pith_mutex_unlock(&init_lock);
    return err;
}


static long memory(void *ctx, uint64_t *total, uint64_t *free_bytes, uint64_t *slots, uint32_t *committed,
                   uint32_t *pages_free, uint64_t *pulls)
{
    pith_mutex_lock(&init_lock);
    long err = quota_totals(total, free_bytes);
    if (!err)
        err = quota_manager_stats(committed, pages_free);
    *slots = pith_slots_left();
    *pulls = mapper_pulls();
    pith_mutex_unlock(&init_lock);
    return err;
}

#define CAPS_SCAN 256              /* slots looked at per request, so none holds init_lock long */

/* The first occupied slot of its capability space at or after `from` (procmgr.idl). */
static long caps(void *ctx, const char *name, uint32_t from, uint8_t *found, uint32_t *slot, uint32_t *slots,
                 uint8_t *type, uint8_t *rights, uint64_t *badge, uint8_t *size_bits)
{
    pith_mutex_lock(&init_lock);
    struct proc *p = proc_find(name);
    long err = !p ? PROCMGR_E_NO_SUCH : p->state != PROC_RUNNING || !p->cnode ? PROCMGR_E_STATE : 0;
    struct pith_msg m = { .w = { p ? p->cnode : 0 } };
    if (!err && (err = pith_invoke(PITH_SLOT_CSPACE, PITH_CNODE_IDENTIFY, &m)))
        err = PROCMGR_E_STATE;
    *found = 0;
    if (!err) {
        uint64_t size = 1ull << m.w[3], end = from + (uint64_t)CAPS_SCAN < size ? from + CAPS_SCAN : size;
        *slots = (uint32_t)size;
        *slot = (uint32_t)end;
        for (uint64_t i = from; i < end; i++) {
            m = (struct pith_msg){ .w = { i } };
            if (pith_invoke(p->cnode, PITH_CNODE_IDENTIFY, &m) || m.w[0] == PITH_OBJ_NULL)
                continue;
            *found = 1;
            *slot = (uint32_t)i;
            *type = (uint8_t)m.w[0];
            *rights = (uint8_t)m.w[1];
            *badge = m.w[2];
            *size_bits = (uint8_t)m.w[3];
            break;
        }
    }
    pith_mutex_unlock(&init_lock);
    return err;
}

static const struct procmgr_handlers handlers = {
    .list = list, .start = start, .stop = stop, .kill = kill, .restart = restart, .memory = memory,
    .caps = caps,
    .create = create, .remove = remove_proc,
};

static void *serve(void *arg)
{
    struct procmgr_ctx c = { .srv = { .ep = procmgr_ep, .reply = pith_object_new(PITH_OBJ_REPLY, 0),
                                      .buf = pith_tls_self()->ipc_buffer } };
    struct pith_msg m = { 0 };
    long err = pith_recv(c.srv.ep, &m, c.srv.reply);
    while (err == PITH_OK) {
        c.badge = m.badge;
        procmgr_dispatch(&handlers, &c, &c.srv, &m);
        err = pith_reply_recv(c.srv.ep, &m, c.srv.reply);
    }
    printf("init: the process manager stopped (error %ld)\n", err);
    return NULL;
}

/* ---- the supervisor -------------------------------------------------------------- */

/* After a process ended by fault or kill: schedule its restart, or hold it, per policy. */
void supervise_after_end(struct proc *p)
{
    if (p->cfg.restart == RESTART_NEVER)
        return;
    if (p->restarts >= p->cfg.limit) {
        p->state = PROC_GAVE_UP;
        printf("init: %s: giving up after %u restarts\n", p->cfg.name, p->restarts);
        return;
    }
    /*
     * A lone crash costs its clients only the restart itself, so it is
     * restarted at once; a crash loop is throttled: each end sooner than
     * STABLE_NS after its start doubles the wait, from BACKOFF_FIRST_NS,
     * and one that ran longer starts the sequence over.
     */
    if (p->ended_at - p->started_at >= STABLE_NS)
        p->quick_ends = 0;
    unsigned step = p->quick_ends++;
    uint64_t backoff = step == 0 ? 0 : BACKOFF_FIRST_NS << (step - 1 < 8 ? step - 1 : 8);
    p->state = PROC_WAITING;
    p->backoff = backoff < BACKOFF_MAX_NS ? backoff : BACKOFF_MAX_NS;
    p->restart_at = now_ns() + p->backoff;
}

static const char *fault_name(uint64_t kind)
{
    switch (kind) {
    case PITH_FAULT_DIVIDE: return "divide error";
    case PITH_FAULT_INVALID_OPCODE: return "invalid opcode";
    case PITH_FAULT_PROTECTION: return "general protection fault";
    case PITH_FAULT_PAGE: return "page fault";
    case PITH_FAULT_SYSCALL: return "unknown system call";
    default: return "fault";
    }
}

/* Returns true when the thread is to be resumed: a page fault the memory manager served. */
static bool on_fault(struct proc *p, const struct pith_msg *m, const struct pith_ipc_buffer *buf)
{
    /* Memory the memory manager pages (manifest: pages=): it maps the page and the thread goes on. */
    if (m->w[0] == PITH_FAULT_PAGE && quota_client_fault(p, m->w[1], m->w[2]))
        return true;
    if (m->w[0] == PITH_FAULT_SYSCALL && (long)m->w[1] == PITH_EXIT_SYSCALL) {
        const struct pith_fault_regs *r = (const struct pith_fault_regs *)buf->msg;
        p->status = (int64_t)r->rdi;
        printf("init: %s (pid %u) exited with status %ld\n", p->cfg.name, p->pid, (long)p->status);
        proc_end(p, PROC_EXITED);
        if (p->status != 0)
            supervise_after_end(p);
        return false;
    }
    printf("init: %s (pid %u): %s (vector %lu) at %#lx, address %#lx\n", p->cfg.name, p->pid,
           fault_name(m->w[0]), m->w[0], m->w[3], m->w[1]);
    p->status = (int64_t)m->w[0];
    /* The memory manager holds every quota: ending it would end them all.  It is held instead (memd.c). */
    if (memd_is(p)) {
        printf("init: memd held, not restarted: running programs keep their memory; new starts fail\n");
        p->state = PROC_GAVE_UP;
        p->ended_at = now_ns();
        names_forget((int)(p - procs));
        return false;
    }
    proc_end(p, PROC_STOPPED);
    supervise_after_end(p);
    return false;
}

/* Restarts what is due; returns the time until the next one (0: none waiting). */
static uint64_t restart_due(void)
{
    uint64_t now = now_ns(), next = 0;
    for (int i = 0; i < PROC_MAX; i++) {
        struct proc *p = &procs[i];
        if (!p->used || p->state != PROC_WAITING)
            continue;
        if (p->restart_at <= now) {
            p->restarts++;
            printf("init: restarting %s (restart %u of at most %u)\n", p->cfg.name, p->restarts, p->cfg.limit);
            if (proc_start(p)) {
                p->state = PROC_STOPPED;
                supervise_after_end(p);
            } else {
                printf("init: %s restarted (pid %u)\n", p->cfg.name, p->pid);
                p->timing_restart = p->cfg.prefix[0] != 0;
            }
        }
        if (p->state == PROC_WAITING && (!next || p->restart_at - now < next))
            next = p->restart_at > now ? p->restart_at - now : 1;
    }
    return next;
}

static void *supervise(void *arg)
{
    uint64_t reply = pith_object_new(PITH_OBJ_REPLY, 0);
    struct pith_ipc_buffer *buf = pith_tls_self()->ipc_buffer;
    pith_invoke4(pith_tls_self()->tcb, PITH_TCB_BIND_NOTIFICATION, supervisor_ntfn, 0, 0, 0);
    init_fault_if_asked(INIT_THREAD_SUPERVISOR);
    uint64_t wait = 0;
    for (;;) {
        struct pith_msg m = { 0 };
        long err = wait ? pith_syscall_timed(PITH_SYS_RECV_TIMED, supervisor_ep, &m, reply, wait)
                        : pith_recv(supervisor_ep, &m, reply);
        if (err == PITH_OK && PITH_TAG_LABEL(m.tag) == PITH_FAULT_LABEL)
            memd_fault(m.badge);        /* before the lock: a thread holding it may be waiting on memd */
        pith_mutex_lock(&init_lock);
        if (err == PITH_OK && PITH_TAG_LABEL(m.tag) == PITH_FAULT_LABEL && m.badge && m.badge <= PROC_MAX &&
            procs[m.badge - 1].state == PROC_RUNNING && on_fault(&procs[m.badge - 1], &m, buf)) {
            struct pith_msg resume = { .tag = PITH_TAG(PITH_FAULT_RESUME, 0) };
            pith_send(reply, &resume);
        }
        wait = restart_due();
        pith_mutex_unlock(&init_lock);
    }
    return NULL;
}

void procmgr_start_threads(void)
{
    pith_thread_t *t;
    pith_init_thread_fault_ep = init_fault_cap(INIT_THREAD_PROCMGR);
    bool bad = pith_thread_create(&t, serve, NULL);
    pith_init_thread_fault_ep = init_fault_cap(INIT_THREAD_SUPERVISOR);
    if (bad || pith_thread_create(&t, supervise, NULL))
        printf("init: cannot start the process manager threads\n");
}
