/*
 * Linux processes: each is built from its own 8 MiB untyped, carved from
 * ours at start-up (main.c), which holds its capability space (a CNode
 * that only stores the capabilities of its pages, since the program never
 * makes a Pith system call), address space, thread and every page.  Its
 * thread's fault endpoint is ours badged with the process slot, so its
 * Linux system calls and faults come here.  Ending it is one revoke of
 * the untyped: every object goes, our aliases of its pages with them.
 */
#include "personality.h"
#include "posix.h"

#include <stdio.h>
#include <string.h>

#define LINUX_PRIORITY 90               /* below ours, so we always get the CPU to answer */

struct lproc lprocs[LPROC_MAX];
static uint32_t next_pid = 100;
extern uint64_t lproc_untyped[LPROC_MAX], server_ep;
void answer_wait(struct lproc *p);      /* main.c */

struct lproc *lproc_by_pid(uint32_t pid)
{
    for (int i = 0; i < LPROC_MAX; i++)
        if (lprocs[i].state != LP_FREE && lprocs[i].pid == pid)
            return &lprocs[i];
    return NULL;
}

static long retype(uint64_t ut, uint8_t type, uint32_t bits, uint64_t slot)
{
    return pith_invoke4(ut, PITH_UNTYPED_RETYPE, type | (uint64_t)bits << 8, PITH_SLOT_CSPACE, slot, 1);
}

long lproc_new(struct lproc **out)
{
    int i = 0;
    while (i < LPROC_MAX && (lprocs[i].state != LP_FREE || !lproc_untyped[i]))
        i++;
    if (i == LPROC_MAX)
        return POSIX_E_NO_ROOM;
    struct lproc *p = &lprocs[i];
    uint64_t keep[4] = { p->cnode, p->vspace, p->tcb, p->fault_ep };
    memset(p, 0, sizeof *p);
    p->cnode = keep[0], p->vspace = keep[1], p->tcb = keep[2], p->fault_ep = keep[3];
    if (!p->cnode) {
        /* Slots of ours kept for this process slot's whole life; emptied by each end's revoke. */
        p->cnode = pith_slot_alloc(), p->vspace = pith_slot_alloc(), p->tcb = pith_slot_alloc();
        p->fault_ep = pith_slot_alloc();
    }
    p->untyped = lproc_untyped[i];
    long err;
    if ((err = retype(p->untyped, PITH_OBJ_CNODE, LPROC_CNODE_BITS, p->cnode)) ||
        (err = retype(p->untyped, PITH_OBJ_VSPACE, 0, p->vspace)) ||
        (err = retype(p->untyped, PITH_OBJ_TCB, 0, p->tcb)) ||
        (err = pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_MINT, p->fault_ep, server_ep, PITH_RIGHT_WRITE,
                            FAULT_BADGE + (uint64_t)i)) ||
        (err = pith_invoke4(p->tcb, PITH_TCB_CONFIGURE, p->cnode, p->vspace, 0, p->fault_ep)) ||
        (err = pith_invoke4(p->tcb, PITH_TCB_SET_PRIORITY, LINUX_PRIORITY, LINUX_PRIORITY, 0, 0))) {
        printf("posix: cannot make a process (error %ld)\n", err);
        pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, p->fault_ep, 0, 0, 0);
        pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE, p->untyped, 0, 0, 0);
        return POSIX_E_TOO_BIG;
    }
    p->state = LP_RUNNING;
    p->pid = next_pid++;
    p->ppid = 1;
    p->next_slot = 1;
    p->alias_next = ALIAS_BASE + (uint64_t)i * ALIAS_SPAN;
    strcpy(p->cwd, "/");
    files_init(p);
    *out = p;
    return 0;
}

/* Stops the thread and takes back every object of the process; the entry stays until reaped. */
void lproc_end(struct lproc *p, int status, int signal)
{
    if (p->state != LP_RUNNING)
        return;
    pith_invoke4(p->tcb, PITH_TCB_SUSPEND, 0, 0, 0, 0);
    files_close_all(p);
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, p->fault_ep, 0, 0, 0);
    /* The CNode, VSpace, TCB, pages, page tables and our aliases were all made from it. */
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE, p->untyped, 0, 0, 0);
    if (p->spare_pt)
        pith_slot_free(p->spare_pt);    /* emptied by the revoke */
    p->spare_pt = 0;
    if (p->sleeper)
        reply_give(p->sleeper);
    p->sleeper = 0;
    p->state = LP_ENDED;
    p->status = status;
    p->signal = signal;
    if (signal)
        printf("posix: pid %u (%s) killed by signal %d\n", p->pid, p->exe, signal);
    if (p->waiter)
        answer_wait(p);
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
