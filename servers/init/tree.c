/*
 * Process trees.  Any process may create children (procmgr.idl, create):
 * a child's quota is an untyped carved from its parent's quota, so a
 * parent can give no more than it has, and the capability derivation
 * tree ties a child's memory to its parent's: revoking a quota revokes
 * every quota carved from it.  The table follows the same shape: when a
 * process ends, for whatever reason, its subtree is ended and forgotten
 * (proc_end), because it was made of the memory of the incarnation that
 * ended; a restarted process creates its children again.
 *
 * A child's quota is carved when the child is created and held while it
 * is listed (whole again whenever it is stopped), so starting it again
 * always finds its memory.  When the child is removed its quota is kept
 * for the parent's next child of the same size (kept[]): an untyped's
 * free index only grows until a revoke, so a quota deleted would be lost
 * to the parent until the parent ended.  Callers hold init_lock.
 */
#include "init.h"
#include "procmgr.h"

#include <stdio.h>
#include <string.h>

#define CHILD_MIB_MIN 4                 /* half of it for the program: its runtime needs 1 MiB */
#define CHILD_MIB_MAX 128

/* Quotas of removed children, each kept for its owner (the parent it was carved from). */
static struct { uint64_t slot; uint32_t bits; int owner; } kept[PROC_MAX * 2];
static int nkept;

static uint64_t untyped_free(uint64_t slot)
{
    struct pith_msg m = { 0 };
    return pith_invoke(slot, PITH_UNTYPED_INFO, &m) ? 0 : m.w[1];
}

/* A process acts on its own descendants; one holding the manifest's procs on every process. */
bool proc_may_act(int caller, const struct proc *p)
{
    if (caller < 0 || caller >= PROC_MAX || !procs[caller].used)
        return false;
    if (procs[caller].cfg.procs)
        return true;
    for (int up = p->up; up >= 0; up = procs[up].up)
        if (up == caller)
            return true;
    return false;
}

/* A quota of 2^bits bytes for a child of owner: one it kept, or carved from its quota; 0 if it has no room. */
static uint64_t quota_carve(int owner, uint32_t bits)
{
    for (int i = 0; i < nkept; i++)
        if (kept[i].owner == owner && kept[i].bits == bits) {
            uint64_t slot = kept[i].slot;
            kept[i] = kept[--nkept];
            return slot;
        }
    uint64_t slot = slot_get();
    if (retype_at(procs[owner].quota, PITH_OBJ_UNTYPED, bits, slot)) {
        slot_put(slot);
        return 0;
    }
    return slot;
}

/* Keeps a removed child's quota for its parent; deleted (lost to it until it ends) if the list is full. */
static void quota_keep(uint64_t slot, uint32_t bits, int owner)
{
    if (nkept < (int)(sizeof kept / sizeof kept[0])) {
        kept[nkept].slot = slot;
        kept[nkept].bits = bits;
        kept[nkept++].owner = owner;
        return;
    }
    printf("init: no room to keep a %u MiB quota for reuse; its parent has it back when it ends\n",
           1u << (bits - 20));
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, slot, 0, 0, 0);
    slot_put(slot);
}

/* The owner's quota was revoked: the quotas kept for it went with it. */
void tree_kept_drop(int owner)
{
    for (int i = 0; i < nkept;)
        if (kept[i].owner == owner) {
            pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, kept[i].slot, 0, 0, 0);
            slot_put(kept[i].slot);
            kept[i] = kept[--nkept];
        } else {
            i++;
        }
}

uint64_t tree_kept_bytes(int owner)
{
    uint64_t bytes = 0;
    for (int i = 0; i < nkept; i++)
        if (kept[i].owner == owner)
            bytes += 1ull << kept[i].bits;
    return bytes;
}

long tree_create(int caller, const char *name, const char *module, uint32_t mib, uint32_t limit)
{
    struct proc *parent = &procs[caller];
    if (parent->state != PROC_RUNNING)
        return PROCMGR_E_STATE;         /* ended while its request waited */
    if (!manifest_name_valid(name) || !strcmp(name, "init") || mib < CHILD_MIB_MIN || mib > CHILD_MIB_MAX ||
        (mib & (mib - 1)) || limit > 100)
        return PROCMGR_E_INVALID;
    if (proc_find(name))
        return PROCMGR_E_EXISTS;
    uint64_t size;
    if (strlen(module) > MANIFEST_MODULE_MAX || !module_find(module, &size))
        return PROCMGR_E_NO_SUCH;
    /* A full table refuses before any memory is carved. */
    int used = 0;
    for (int i = 0; i < PROC_MAX; i++)
        used += procs[i].used;
    if (used == PROC_MAX)
        return PROCMGR_E_FULL;
    uint32_t bits = 20;
    while ((1u << (bits - 20)) < mib)
        bits++;
    uint64_t quota = quota_carve(caller, bits);
    if (!quota) {
        printf("init: %s asked for %u MiB for %s; its quota has no room for that\n", parent->cfg.name, mib, name);
        return PROCMGR_E_NO_MEMORY;
    }
    /* Like the parent, at most its priority; supervised like any program. */
    struct manifest_entry e = { .priority = parent->cfg.priority, .memory_mib = mib, .irq = -1,
                                .restart = limit ? RESTART_ALWAYS : RESTART_NEVER, .limit = limit };
    strcpy(e.name, name);
    strcpy(e.module, module);
    int i = proc_add(&e, caller);
    if (i < 0) {
        quota_keep(quota, bits, caller);
        return PROCMGR_E_FULL;
    }
    procs[i].quota = quota;
    procs[i].quota_bits = bits;
    procs[i].parent = parent->pid;
    printf("init: %s (pid %u) created %s with %u MiB of its quota\n", parent->cfg.name, parent->pid, name, mib);
    return 0;
}

/* A child's quota, revoked and held for its next start.  Returns the bytes that did not come back (0). */
uint64_t tree_quota_revoke(struct proc *p)
{
    uint64_t size = 1ull << p->quota_bits;
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE, p->quota, 0, 0, 0);
    uint64_t back = untyped_free(p->quota);
    if (back != size)
        printf("init: %s: revoking its quota gave back %lu of %lu bytes\n", p->cfg.name, back, size);
    return size - back;
}

void tree_end_children(int index)
{
    for (int i = 0; i < PROC_MAX; i++)
        if (procs[i].used && procs[i].up == index)
            proc_forget(&procs[i]);
}

static void drop(uint64_t *slot)
{
    if (!*slot)
        return;
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, *slot, 0, 0, 0);
    slot_put(*slot);
    *slot = 0;
}

/* Ends it (if running) with its subtree, and forgets it: its quota goes back where it came from. */
void proc_forget(struct proc *p)
{
    if (p->state == PROC_RUNNING)
        proc_end(p, PROC_STOPPED);
    if (p->up >= 0 && p->quota)
        quota_keep(p->quota, p->quota_bits, p->up);
    p->quota = 0;
    printf("init: %s forgotten\n", p->cfg.name);
    drop(&p->fault_ep);
    drop(&p->names_ep);
    drop(&p->procs_ep);
    drop(&p->tcb);
    p->used = false;
}
