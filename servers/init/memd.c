/*
 * The memory manager, memd (servers/memd/, docs/memory.md#the-memory-manager-at-boot),
 * started before anything in the manifest.  Init makes the manager's
 * capability space and endpoint, puts the paging pool in it, starts memd
 * (its quota the last init carves itself), then hands over the rest of
 * its memory.  memd is never stopped, killed or restarted: every quota is
 * made from memory it holds.  If it faults the supervisor holds it; what
 * runs keeps its memory, and new starts fail with a clear error.
 */
#include "init.h"
#include "memserver.h"

#include <stdio.h>

#define MEMD_PRIORITY 254               /* above every program it pages (init alone is higher) */
#define MEMD_MIB      32                /* its runtime's 8 MiB, and the manager thread's space and stack */

struct proc *memd;

bool memd_is(const struct proc *p) { return memd && p == memd; }

long memd_start(void)
{
    uint64_t size;
    if (!module_find("memd.elf", &size)) {
        printf("init: no boot module memd.elf: no memory manager, so no quotas\n");
        return -1;
    }
    struct manifest_entry e = { .name = "memd", .module = "memd.elf", .priority = MEMD_PRIORITY,
                                .memory_mib = MEMD_MIB, .irq = -1, .prefix = "/svc/mem", .restart = RESTART_NEVER };
    pith_mutex_lock(&init_lock);
    long err = PITH_E_NO_MEMORY;
    int i = proc_add(&e, -1);
    if (i >= 0) {
        memd = &procs[i];
        memd->mem_ep = pith_object_new(PITH_OBJ_ENDPOINT, 0);
        memd->memory_cnode = pith_object_new(PITH_OBJ_CNODE, MEM_CNODE_BITS);
        if (memd->mem_ep && memd->memory_cnode &&
            !(err = pith_invoke4(memd->memory_cnode, PITH_CNODE_COPY, MEM_SLOT_EP, memd->mem_ep, PITH_RIGHTS_ALL, 0)) &&
            !(err = quota_pool(memd->memory_cnode)) && !(err = proc_start(memd)))
            quota_hand_over(memd->memory_cnode, memd->mem_ep);
    }
    pith_mutex_unlock(&init_lock);
    if (err) {
        printf("init: the memory manager did not start (error %ld)\n", err);
        return err;
    }
    printf("init: started memd (pid %u, priority %u, %u MiB)\n", memd->pid, MEMD_PRIORITY, MEMD_MIB);
    /* Programs may look it up by name from their first instruction: wait for it (at most 5 s). */
    for (uint64_t until = now_ns() + 5000000000ull; !names_has_prefix("/svc/mem");) {
        pith_mutex_lock(&init_lock);
        bool running = memd->state == PROC_RUNNING;
        pith_mutex_unlock(&init_lock);
        if (!running || now_ns() > until) {
            printf("init: memd has not published /svc/mem\n");
            return -1;
        }
        names_wait_published(2000000);
    }
    return 0;
}

/*
 * Called by the supervisor for every fault message, before it takes
 * init_lock: a thread of init's may hold the lock while it waits for the
 * manager.  A fault of memd's takes the manager out of use: its reply
 * object goes (a call it was serving ends with "the server died"), and so
 * does its endpoint (calls waiting for it are cancelled).
 */
bool memd_fault(uint64_t badge)
{
    if (!memd || badge != (uint64_t)(memd - procs) + 1 || !quota_manager_up())
        return false;
    quota_manager_down();
    pith_invoke4(memd->memory_cnode, PITH_CNODE_DELETE, MEM_SLOT_REPLY, 0, 0, 0);
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE, memd->mem_ep, 0, 0, 0);
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, memd->mem_ep, 0, 0, 0);
    return true;
}
