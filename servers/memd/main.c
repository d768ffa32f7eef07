/*
 * memd: the memory manager (servers/mem/) as the process init starts
 * first at boot (docs/memory.md#the-memory-manager-at-boot).  Init hands
 * it a capability space laid out as the manager's (process.h's
 * PITH_SLOT_MEMORY) holding the system's free memory, and the manager's
 * endpoint (PITH_SLOT_MEM), whose unbadged capability init keeps as the
 * owner.  The manager runs as a thread of this process; this thread
 * publishes a capability anyone may read the figures through, /svc/mem.
 */
#include "memserver.h"
#include "process.h"
#include "resolver.h"

#include <stdio.h>

#define WINDOW 0x5800000000ull          /* the pool, mapped once for zeroing and copying */
#define STACK  0x5900000000ull          /* the manager thread's stack, a guard page, its IPC buffer */

static struct mem_state st;

int main(void)
{
    const struct pith_bootinfo *bi = pith_bootinfo;
    struct pith_msg m = { 0 };
    unsigned priority = 254;
    if (pith_invoke(PITH_SLOT_TCB, PITH_TCB_INFO, &m) == PITH_OK && m.w[3])
        priority = (unsigned)m.w[3];     /* its own: the manifest's */
    struct mem_start a = { .untyped = PITH_SLOT_UNTYPED, .stack = STACK, .window = WINDOW,
                           .time = (const struct pith_time_page *)bi->time_page, .priority = priority,
                           .cnode = PITH_SLOT_MEMORY, .ep = PITH_SLOT_MEM, .fault_ep = PITH_SLOT_FAULT };
    uint64_t ep, tcb;
    long err = mem_start(&st, &a, &ep, &tcb);
    if (err) {
        printf("memd: the manager could not start (error %ld)\n", err);
        return 1;
    }
    uint64_t pub = pith_slot_alloc();
    if ((err = pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_MINT, pub, ep, PITH_RIGHT_WRITE, MEM_BADGE_PUBLIC)) ||
        (err = register_name("/svc/mem", pub))) {
        printf("memd: cannot publish /svc/mem (error %ld)\n", err);
        return 1;
    }
    printf("memd: serving /svc/mem: a paging pool of %u pages\n", st.pool_pages);
    for (;;)
        pith_sleep_ns(1000000000000ull);
}
