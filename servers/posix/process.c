/*
 * Linux processes: each is built from chunks (512 KiB untypeds carved from
 * ours at start-up, main.c) it takes as it grows: its capability space (a
 * CNode that only stores the capabilities of its pages, since the program
 * never makes a Pith system call), address space, thread and every page
 * but a shared image's (image.c).  Its thread's fault endpoint is ours
 * badged with the process slot, so its Linux system calls and faults come
 * here.  Ending it revokes its chunks: every object goes, our aliases of
 * its pages with them.
 */
#include "personality.h"
#include "posix.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#define LINUX_PRIORITY 90               /* below ours, so we always get the CPU to answer */

struct lproc lprocs[LPROC_MAX];
static uint32_t next_pid = 100;
extern uint64_t chunk_cap[CHUNK_MAX], server_ep;
int chunks_total;
static bool chunk_busy[CHUNK_MAX];
void answer_wait(struct lproc *p);      /* main.c */

uint32_t lproc_next_pid(void) { return next_pid++; }   /* tids come from the same numbers */

struct lproc *lproc_by_pid(uint32_t pid)
{
    for (int i = 0; i < LPROC_MAX; i++)
        if (lprocs[i].state != LP_FREE && lprocs[i].pid == pid)
            return &lprocs[i];
    return NULL;
}

/* One more free chunk for h; false if none is left. */
static bool chunk_take(struct chunks *h)
{
    if (h->n + h->elsewhere >= PROC_CHUNKS)
        return false;
    for (int i = 0; i < chunks_total; i++)
        if (!chunk_busy[i]) {
            chunk_busy[i] = true;
            h->chunk[h->n++] = (uint8_t)i;
            h->untyped = chunk_cap[i];
            return true;
        }
    return false;
}

int chunks_free(void)
{
    int n = 0;
    for (int i = 0; i < chunks_total; i++)
        n += !chunk_busy[i];
    return n;
}

long chunks_retype(struct chunks *h, uint64_t type_bits, uint64_t slot, uint64_t count)
{
    long err = h->untyped ? pith_invoke4(h->untyped, PITH_UNTYPED_RETYPE, type_bits, PITH_SLOT_CSPACE, slot, count)
                          : PITH_E_NO_MEMORY;
    if (!err)
        return 0;
    if (count > 1) {                    /* the rest of this chunk first, then the next */
        uint64_t half = count / 2;
        err = chunks_retype(h, type_bits, slot, half);
        return err ? err : chunks_retype(h, type_bits, slot + half, count - half);
    }
    if (chunk_take(h))
        err = pith_invoke4(h->untyped, PITH_UNTYPED_RETYPE, type_bits, PITH_SLOT_CSPACE, slot, count);
    return err;
}

static long retype(struct lproc *p, uint8_t type, uint32_t bits, uint64_t slot)
{
    return lproc_retype(p, type | (uint64_t)bits << 8, slot, 1);
}

/* Every chunk of h revoked (its objects go) and free again. */
void chunks_give_back(struct chunks *h)
{
    for (int i = 0; i < h->n; i++) {
        pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE, chunk_cap[h->chunk[i]], 0, 0, 0);
        chunk_busy[h->chunk[i]] = false;
    }
    h->n = 0;
    h->untyped = 0;
}

long lproc_new(struct lproc **out)
{
    int i = 0;
    while (i < LPROC_MAX && lprocs[i].state != LP_FREE)
        i++;
    if (i == LPROC_MAX)
        return POSIX_E_NO_ROOM;
    struct lproc *p = &lprocs[i];
    uint64_t keep[4] = { p->cnode, p->vspace, p->tcb, p->fault_ep };
    memset(p, 0, sizeof *p);
    p->image = -1;
    p->cnode = keep[0], p->vspace = keep[1], p->tcb = keep[2], p->fault_ep = keep[3];
    if (!p->cnode) {
        /* Slots of ours kept for this process slot's whole life; emptied by each end's revoke. */
        p->cnode = pith_slot_alloc(), p->vspace = pith_slot_alloc(), p->tcb = pith_slot_alloc();
        p->fault_ep = pith_slot_alloc();
    }
    long err;
    if ((err = retype(p, PITH_OBJ_CNODE, LPROC_CNODE_BITS, p->cnode)) ||
        (err = retype(p, PITH_OBJ_VSPACE, 0, p->vspace)) ||
        (err = retype(p, PITH_OBJ_TCB, 0, p->tcb)) ||
        (err = pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_MINT, p->fault_ep, server_ep, PITH_RIGHT_WRITE,
                            FAULT_BADGE + (uint64_t)i)) ||
        (err = pith_invoke4(p->tcb, PITH_TCB_CONFIGURE, p->cnode, p->vspace, 0, p->fault_ep)) ||
        (err = pith_invoke4(p->tcb, PITH_TCB_SET_PRIORITY, LINUX_PRIORITY, LINUX_PRIORITY, 0, 0))) {
        printf("posix: cannot make a process (error %ld)\n", err);
        pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, p->fault_ep, 0, 0, 0);
        chunks_give_back(&p->mem);
        return POSIX_E_NO_ROOM;
    }
    fastcalls_begin(p);                 /* the slot's last process's answers gone before this one's thread runs */
    p->state = LP_RUNNING;
    p->pid = next_pid++;
    p->ppid = 1;
    p->pgid = p->sid = p->pid;
    p->image = -1;
    slots_init(&p->slots);
    p->alias_base = ALIAS_BASE + (uint64_t)i * ALIAS_SPAN;
    strcpy(p->cwd, "/");
    files_init(p);
    *out = p;
    return 0;
}

/* Its thread stopped, its objects and memory taken back (fault endpoint, chunks, the spare table). */
void lproc_end_objects(struct lproc *p)
{
    pith_invoke4(p->tcb, PITH_TCB_SUSPEND, 0, 0, 0, 0);
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, p->fault_ep, 0, 0, 0);
    mem_drop_shared(p);                 /* its file pages written back through our aliases; the pool's freed if last */
    /* The CNode, VSpace, TCB, pages, page tables and our aliases were all made from its chunks. */
    chunks_give_back(&p->mem);
    if (p->image >= 0)
        image_put(p->image);
    p->image = -1;
    if (p->spare_pt)
        pith_slot_free(p->spare_pt);    /* emptied by the revoke */
    p->spare_pt = 0;
    p->fork_pending = false;
}

/* Stops the thread and takes back every object of the process; the entry stays until reaped. */
void lproc_end(struct lproc *p, int status, int signal)
{
    if (p->state != LP_RUNNING)
        return;
    fastcalls_forget(p);
    threads_end(p);                     /* its further threads first: its own fields back in p */
    pith_invoke4(p->tcb, PITH_TCB_SUSPEND, 0, 0, 0, 0);
    p->cpu_end_ns = lproc_cpu_ns(p);    /* (its threads' times, before they go) */
    p->end_rss_kb = lproc_maxrss_kb(p);
    p->state = LP_ENDED;                /* before its pipes wake anyone: nothing answers it now */
    files_close_all(p);
    lproc_end_objects(p);
    if (p->sleeper)
        reply_give(p->sleeper);
    p->sleeper = 0;
    pipe_cancel(p);
    tty_cancel(p);
    poll_cancel(p);
    if (p->held_reply)
        reply_give(p->held_reply);      /* an answer kept while it was stopped */
    p->held_reply = 0;
    tty_session_check();                /* the console back to the native shell when the session ends */
    family_parent_ends(p);
    p->status = status;
    p->signal = signal;
    p->core = signal && signal_dumps_core(signal);
    /* SIGCHLD to the parent, pending before its wait is answered so the answer delivers it. */
    struct lproc *parent = p->ppid > 1 && !p->orphan ? lproc_by_pid(p->ppid) : NULL;
    if (parent && parent->state == LP_RUNNING)
        signal_post(parent, SIGCHLD, signal ? (p->core ? 3 : 2) : 1, (int)p->pid, signal ? signal : status & 0xff);
    else
        parent = NULL;
    if (signal)
        printf("posix: pid %u (%s) killed by signal %d\n", p->pid, p->exe, signal);
    if (p->waiter)
        answer_wait(p);
    else if (p->orphan)
        lproc_reap(p);
    else
        family_child_ended(p);
    if (parent)
        signal_wake(parent);            /* interrupting another kept call of the parent's */
}

void lproc_reap(struct lproc *p)
{
    p->state = LP_FREE;
}

long lproc_wait(uint32_t pid, bool nohang, uint32_t *status, uint32_t *signal, bool *deferred)
{
    struct lproc *p = lproc_by_pid(pid);
    *deferred = false;
    if (!p || p->waiter)
        return POSIX_E_NO_SUCH;
    if (p->state == LP_RUNNING) {
        if (nohang)
            return POSIX_E_RUNNING;
        *deferred = true;               /* main.c keeps the reply object; lproc_end answers it */
        return 0;
    }
    *status = p->signal ? 128u + (uint32_t)p->signal : (uint32_t)p->status;
    *signal = (uint32_t)p->signal;
    lproc_reap(p);
    return 0;
}
