/*
 * Starting a memory manager from its owner's side: its capability space
 * (the MEM_SLOT_* layout), a thread in our address space with a stack and
 * an IPC buffer, and its memory.
 */
#include "memserver.h"
#include "lib/string.h"

static void mem_thread(uint64_t state)
{
    mem_main(state);
    /* Its endpoint went: nothing more to do. */
    for (;;)
        pith_sleep_ns(1000000000000ull);
}

static uint64_t make(uint64_t untyped, uint8_t type, uint32_t bits, uint64_t cnode, uint64_t slot)
{
    if (!slot)
        slot = pith_slot_alloc();
    if (pith_invoke4(untyped, PITH_UNTYPED_RETYPE, type | (uint64_t)bits << 8, cnode, slot, 1))
        return 0;
    return slot;
}

long mem_start(struct mem_state *st, const struct mem_start *a, uint64_t *ep, uint64_t *tcb)
{
    const uint8_t rw = PITH_RIGHT_READ | PITH_RIGHT_WRITE;
    if (!a->time)
        return PITH_E_INVALID_ARG;      /* reclaim deadlines need the clock */
    memset(st, 0, sizeof *st);
    st->window = a->window;
    st->time = a->time;
    st->buf = (struct pith_ipc_buffer *)(a->stack + 0x2000);
    /* A boot-time manager's space comes made, with its endpoint and memory in it (memserver.h). */
    bool given = a->cnode != 0;
    uint64_t cn = given ? a->cnode : make(a->untyped, PITH_OBJ_CNODE, MEM_CNODE_BITS, PITH_SLOT_CSPACE, 0);
    *ep = given ? a->ep : make(a->untyped, PITH_OBJ_ENDPOINT, 0, PITH_SLOT_CSPACE, 0);
    *tcb = make(a->untyped, PITH_OBJ_TCB, 0, PITH_SLOT_CSPACE, 0);
    uint64_t stack = make(a->untyped, PITH_OBJ_FRAME, 0, PITH_SLOT_CSPACE, 0);
    uint64_t buf = make(a->untyped, PITH_OBJ_FRAME, 0, PITH_SLOT_CSPACE, 0);
    if (!cn || !*ep || !*tcb || !stack || !buf)
        return PITH_E_NO_MEMORY;
    long err;
    if ((err = pith_invoke4(cn, PITH_CNODE_COPY, MEM_SLOT_CNODE, cn, PITH_RIGHTS_ALL, 0)) ||
        (err = pith_invoke4(cn, PITH_CNODE_COPY, MEM_SLOT_VSPACE, PITH_SLOT_VSPACE, PITH_RIGHTS_ALL, 0)) ||
        (!given && (err = pith_invoke4(cn, PITH_CNODE_COPY, MEM_SLOT_EP, *ep, PITH_RIGHTS_ALL, 0))) ||
        (!given && (err = pith_invoke4(cn, PITH_CNODE_MOVE, MEM_SLOT_UNTYPED, a->memory, 0, 0))) ||
        !make(a->untyped, PITH_OBJ_UNTYPED, MEM_REPLY_BANK_BITS, cn, MEM_SLOT_REPLY_BANK) ||
        (err = pith_map_page(stack, a->stack, rw, a->untyped)) ||
        (err = pith_map_page(buf, a->stack + 0x2000, rw, a->untyped)))
        return err ? err : PITH_E_NO_MEMORY;
    /* Without a fault endpoint a fault of the manager's own is reported by the kernel. */
    if ((err = pith_invoke4(*tcb, PITH_TCB_CONFIGURE, cn, PITH_SLOT_VSPACE, buf, a->fault_ep)) ||
        (err = pith_invoke4(*tcb, PITH_TCB_SET_PRIORITY, a->priority, a->priority, 0, 0)) ||
        (err = pith_invoke4(*tcb, PITH_TCB_WRITE_REGISTERS, (uint64_t)mem_thread, a->stack + 0x1000 - 8,
                            (uint64_t)st, 0)) ||
        (err = pith_invoke4(*tcb, PITH_TCB_RESUME, 0, 0, 0, 0)))
        return err;
    /* It sets itself up first thing; wait for that (it may run at a lower priority than ours). */
    while (!__atomic_load_n(&st->started, __ATOMIC_ACQUIRE))
        pith_yield();
    return st->init_error;
}
