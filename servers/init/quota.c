/*
 * Init's capability slots and the programs' quotas.  Every quota comes
 * from the memory manager, memd (docs/memory.md#the-memory-manager-at-boot):
 * init, its owner, asks it for an untyped of the program's size, placed
 * in a slot of init's (quota_get in mem.idl), and gives it back when the
 * program ends (quota_put: the manager revokes it and says how much came
 * back).  The one quota init carves itself is memd's own, before it hands
 * the rest of its memory over (quota_hand_over).  Callers hold init_lock.
 */
#include "init.h"
#include "mem.h"
#include "memserver.h"
#include "procmgr.h"
#include "tls.h"

#include <stdio.h>

/* Slots emptied by moving a capability into a child go back to the runtime. */
uint64_t slot_get(void) { return pith_slot_alloc(); }
void slot_put(uint64_t slot) { pith_slot_free(slot); }

long retype_at(uint64_t untyped, uint8_t type, uint32_t bits, uint64_t slot)
{
    return pith_invoke4(untyped, PITH_UNTYPED_RETYPE, type | (uint64_t)bits << 8, PITH_SLOT_CSPACE, slot, 1);
}

static uint64_t owner_ep;               /* the manager's endpoint, unbadged: init is its owner */
static bool handed_over;                /* init's memory is the manager's */
static bool manager_up;                 /* cleared (atomically) when memd faults */

bool quota_manager_up(void) { return __atomic_load_n(&manager_up, __ATOMIC_ACQUIRE); }

/* The binding's resolver: the owner's capability while the manager runs, nothing after. */
static long resolve(void *ctx, const char *name, uint64_t dest)
{
    if (!quota_manager_up())
        return -1;
    return pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, dest, owner_ep, PITH_RIGHTS_ALL, 0);
}
static const struct pith_resolver owner_resolver = { resolve, NULL };

/* A binding for one call from this thread (no retries: a manager gone is not coming back). */
static void bind_manager(struct pith_client *c, uint64_t slot)
{
    pith_client_init(c, "memd", &owner_resolver, slot, pith_tls_self()->ipc_buffer);
    c->retries = 0;
}

static void unbind_manager(uint64_t slot)
{
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, slot, 0, 0, 0);
    slot_put(slot);
}

static uint64_t untyped_free(uint64_t slot)
{
    struct pith_msg m = { 0 };
    return pith_invoke(slot, PITH_UNTYPED_INFO, &m) ? 0 : m.w[1];
}


long quota_get(struct proc *p)
{
    uint64_t slot = slot_get();
    p->quota_id = 0;
    if (!handed_over) {
        if (pith_untyped_carve(p->quota_bits, PITH_SLOT_CSPACE, slot)) {
            slot_put(slot);
            return PROCMGR_E_NO_MEMORY;
        }
        p->quota = slot;
        return 0;
    }
    if (!quota_manager_up()) {
        printf("init: %s: no quota: the memory manager is not running\n", p->cfg.name);
        slot_put(slot);
        return PROCMGR_E_NO_MANAGER;
    }
    struct pith_client c;
    uint64_t ep = slot_get();
    bind_manager(&c, ep);
    long err = mem_quota_get(&c, p->quota_bits, PITH_SLOT_CSPACE, slot, &p->quota_id);
    unbind_manager(ep);
    if (err) {
        printf("init: %s: the memory manager gave no quota of %u MiB (error %#lx)\n", p->cfg.name,
               1u << (p->quota_bits - 20), err);
        slot_put(slot);
        return err == MEM_E_NO_MEMORY || err == MEM_E_FULL ? PROCMGR_E_NO_MEMORY : PROCMGR_E_NO_MANAGER;
    }
    p->quota = slot;
    return 0;
}

/*
 * Revokes the quota ourselves first (every object made from it goes, and
 * we check it is whole), then gives it back to the manager, which revokes
 * its parent, our capability with it.  Returns the bytes not given back (0).
 */
uint64_t quota_return(struct proc *p)
{
    uint64_t size = 1ull << p->quota_bits;
    quota_client_close(p);
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE, p->quota, 0, 0, 0);
    uint64_t back = untyped_free(p->quota);
    if (back != size)
        printf("init: %s: revoking its quota gave back %lu of %lu bytes\n", p->cfg.name, back, size);
    if (p->quota_id && quota_manager_up()) {
        struct pith_client c;
        uint64_t ep = slot_get(), manager_back = 0;
        bind_manager(&c, ep);
        long err = mem_quota_put(&c, p->quota_id, &manager_back);
        unbind_manager(ep);
        if (err || manager_back != size)
            printf("init: %s: the memory manager took its quota back with %lu of %lu bytes (error %#lx)\n",
                   p->cfg.name, manager_back, size, err);
    } else if (p->quota_id) {
        printf("init: %s: its quota stays with the memory manager, which is not running\n", p->cfg.name);
    }
    /* Init's own capability (memd's quota, or one the manager cannot take back now) goes by itself. */
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, p->quota, 0, 0, 0);
    slot_put(p->quota);
    p->quota = 0;
    p->quota_id = 0;
    return size - back;
}

long quota_totals(uint64_t *total, uint64_t *free_bytes)
{
    *total = *free_bytes = 0;
    if (!quota_manager_up())
        return PROCMGR_E_NO_MANAGER;
    struct pith_client c;
    uint64_t ep = slot_get();
    bind_manager(&c, ep);
    long err = mem_quota_totals(&c, total, free_bytes);
    unbind_manager(ep);
    return err ? PROCMGR_E_NO_MANAGER : 0;
}

/*
 * Init's memory goes to the manager's space `cnode`: first its paging
 * pool (MEM_POOL_BITS, quota_pool), then, once memd's own quota is carved,
 * every piece of 2^QUOTA_MIN_BITS or more: whole blocks as they are, and
 * what is free of a block init's runtime or memd's quota was carved from,
 * as the biggest untypeds that fit.  What is left (pieces too small for a
 * quota, and init's runtime) is init's reserve.
 */
long quota_pool(uint64_t cnode)
{
    return pith_untyped_carve(MEM_POOL_BITS, cnode, MEM_SLOT_UNTYPED);
}

void quota_hand_over(uint64_t cnode, uint64_t ep)
{
    const struct pith_bootinfo *bi = pith_bootinfo;
    unsigned given = 0;
    uint64_t bytes = 0, kept = 0;
    for (uint64_t i = 0; i < bi->untyped.count; i++) {
        uint64_t slot = bi->untyped.first_slot + i, size = 1ull << bi->untyped_list[i].size_bits;
        if (bi->untyped_list[i].is_device)
            continue;
        if (untyped_free(slot) == size && size >= 1ull << QUOTA_MIN_BITS && given < MEM_QUOTA_BLOCKS &&
            !pith_invoke4(cnode, PITH_CNODE_MOVE, MEM_SLOT_QUOTA_MEM + given, slot, 0, 0)) {
            given++;
            bytes += size;
            continue;
        }
        for (uint32_t bits = bi->untyped_list[i].size_bits - 1; bits >= QUOTA_MIN_BITS && given < MEM_QUOTA_BLOCKS;)
            if (!pith_invoke4(slot, PITH_UNTYPED_RETYPE, PITH_OBJ_UNTYPED | (uint64_t)bits << 8, cnode,
                              MEM_SLOT_QUOTA_MEM + given, 1)) {
                given++;
                bytes += 1ull << bits;
            } else {
                bits--;
            }
        kept += untyped_free(slot);
    }
    owner_ep = ep;
    handed_over = true;
    __atomic_store_n(&manager_up, true, __ATOMIC_RELEASE);
    printf("init: the memory manager gets %lu MiB in %u pieces for quotas and %u KiB for paging; "
           "init keeps %lu KiB free\n", bytes >> 20, given, (1u << MEM_POOL_BITS) >> 10, kept >> 10);
}

/* The manager faulted: nothing more is asked of it. */
void quota_manager_down(void)
{
    __atomic_store_n(&manager_up, false, __ATOMIC_RELEASE);
}

/* For the tests: the owner's request that makes the manager fault (mem.idl crash). */
long quota_crash_manager(void)
{
    pith_mutex_lock(&init_lock);
    uint64_t ep = slot_get();
    pith_mutex_unlock(&init_lock);
    struct pith_client c;
    bind_manager(&c, ep);
    long err = mem_crash(&c);
    pith_mutex_lock(&init_lock);
    unbind_manager(ep);
    pith_mutex_unlock(&init_lock);
    return err;
}

/* ---- programs paged by the manager (manifest: pages=) ---- */

/* The program becomes the manager's client: its address space, a quota of pages; its capability in p->mem_ep. */
long quota_client_new(struct proc *p, uint64_t vspace, uint32_t pages)
{
    if (!quota_manager_up()) {
        printf("init: %s: no pages: the memory manager is not running\n", p->cfg.name);
        return PITH_E_INVALID_ARG;      /* (proc_start: "could not be started") */
    }
    /* Called while a start notes the slots it takes for the child (proc.c): these stay ours. */
    struct pith_tls *t = pith_tls_self();
    uint64_t *noting = t->slot_log;
    t->slot_log = NULL;
    struct pith_client c;
    uint64_t ep = slot_get(), client_ep = slot_get();
    bind_manager(&c, ep);
    long err = mem_client_new(&c, vspace, pages, &p->mem_client_id, client_ep);
    unbind_manager(ep);
    t->slot_log = noting;
    if (err) {
        printf("init: %s: the memory manager took no client (error %#lx)\n", p->cfg.name, err);
        slot_put(client_ep);
        p->mem_client_id = 0;
        return err == MEM_E_FULL ? PITH_E_NO_MEMORY : PITH_E_INVALID_ARG;     /* as build()'s errors */
    }
    p->mem_ep = client_ep;
    return 0;
}

/* The binding's resolver for a call as the client: the program's own capability (ctx: the proc). */
static long resolve_client(void *ctx, const char *name, uint64_t dest)
{
    const struct proc *p = ctx;
    if (!quota_manager_up() || !p->mem_ep)
        return -1;
    return pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, dest, p->mem_ep, PITH_RIGHTS_ALL, 0);
}

static const char *image_error(long err)
{
    switch (err) {
    case MEM_E_BAD_IMAGE: return "the memory manager finds it no program (bad_image)";
    case MEM_E_NO_IMAGE: return "the memory manager could not read it from init's mapper (no_image)";
    case MEM_E_QUOTA: return "its image does not fit the client's quota (quota)";
    case MEM_E_NO_MEMORY: return "the memory manager has no memory to commit to it (no_memory)";
    case MEM_E_BAD_RANGE: return "its segments overlap or are too long for a region (bad_range)";
    case MEM_E_FULL: return "the memory manager's region table is full (full)";
    case PITH_E_TIMEOUT: return "the memory manager did not answer in time";
    default: return "the memory manager refused it";
    }
}

/*
 * The program's image (the boot module of that key, size bytes) mapped
 * lazily in its address space (image_map in mem.idl), asked as the client
 * itself since image regions are the caller's; the entry point in *entry.
 * Timed like a fault passed on: if the manager faults meanwhile, its fault
 * may wait for this very thread (the supervisor restarting a program).
 */
#define CLIENT_FAULT_TIMEOUT_NS 5000000000ull     /* longer than a mapper call may take (1 s), a few of them queued */

long quota_image_map(struct proc *p, int key, uint64_t size, uint64_t *entry)
{
    if (!mapper_ep) {
        printf("init: %s: no image mapper: it cannot be started lazily\n", p->cfg.name);
        return PITH_E_INVALID_ARG;
    }
    /* Called while a start notes the slots it takes for the child (proc.c): these stay ours. */
    struct pith_tls *t = pith_tls_self();
    uint64_t *noting = t->slot_log;
    t->slot_log = NULL;
    const struct pith_resolver r = { resolve_client, p };
    struct pith_client c;
    uint64_t ep = slot_get();
    pith_client_init(&c, p->cfg.name, &r, ep, t->ipc_buffer);
    c.retries = 0;
    c.timeout_ns = CLIENT_FAULT_TIMEOUT_NS;
    long err = mem_image_map(&c, mapper_ep, (uint64_t)key, size, entry);
    unbind_manager(ep);
    t->slot_log = noting;
    if (err) {
        printf("init: %s: its image %s was not mapped: %s (error %#lx)\n", p->cfg.name, p->cfg.module,
               image_error(err), err);
        return err == MEM_E_QUOTA || err == MEM_E_NO_MEMORY ? PITH_E_NO_MEMORY : PITH_E_INVALID_ARG;
    }
    return 0;
}

/* The pages the manager has committed to all clients, and its free pages (idle cached ones included). */
long quota_manager_stats(uint32_t *committed, uint32_t *pages_free)
{
    *committed = *pages_free = 0;
    if (!quota_manager_up())
        return PROCMGR_E_NO_MANAGER;
    struct pith_client c;
    uint32_t quota, refused;
    uint64_t bytes, ep = slot_get();
    bind_manager(&c, ep);
    long err = mem_stats(&c, &quota, committed, pages_free, &bytes, &refused);
    unbind_manager(ep);
    return err ? PROCMGR_E_NO_MANAGER : 0;
}

/* Before its quota goes (its address space with it): the manager unmaps and frees everything of the client. */
void quota_client_close(struct proc *p)
{
    if (!p->mem_client_id)
        return;
    if (quota_manager_up()) {
        struct pith_client c;
        uint64_t ep = slot_get();
        bind_manager(&c, ep);
        long err = mem_client_close(&c, p->mem_client_id);
        unbind_manager(ep);
        if (err)
            printf("init: %s: the memory manager did not close its client (error %#lx)\n", p->cfg.name, err);
    }
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, p->mem_ep, 0, 0, 0);
    slot_put(p->mem_ep);
    p->mem_ep = 0;
    p->mem_client_id = 0;
}

/*
 * A page fault of a client's thread, passed on to the manager (client_fault
 * in mem.idl); true if the page is mapped now.  The call is timed: if the
 * manager faults meanwhile, its fault waits for this very thread.
 */
bool quota_client_fault(struct proc *p, uint64_t addr, uint64_t flags)
{
    if (!p->mem_client_id || !quota_manager_up())
        return false;
    uint64_t ep = slot_get();
    long err = pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, ep, owner_ep, PITH_RIGHTS_ALL, 0);
    struct pith_msg m = { .tag = PITH_TAG(PITH_IDL_LABEL(MEM_VERSION, 24), 3), .w = { p->mem_client_id, addr, flags } };
    if (!err)
        err = pith_syscall_timed(PITH_SYS_CALL_TIMED, ep, &m, 0, CLIENT_FAULT_TIMEOUT_NS);
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, ep, 0, 0, 0);
    slot_put(ep);
    return err == PITH_OK && PITH_TAG_LABEL(m.tag) == 0;
}
