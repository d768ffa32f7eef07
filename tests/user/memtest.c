/* Helpers of the memory-manager tests (memtest.h). */
#include "memtest.h"


struct mem_state mm_state;
static unsigned instances;
static uint64_t spare_parent;           /* a stopped manager's memory, whole, for the next */

static struct pith_ipc_buffer *own_buf(void) { return (struct pith_ipc_buffer *)PITH_IPC_BUFFER_ADDR; }

/* A manager over a fresh 1 MiB, owned by us under the name "mem-owner". */
long mm_start(struct mm *m)
{
    if (!test_untyped)
        test_untyped = pith_biggest_untyped();
    uint64_t memory = pith_slot_alloc();
    long err = PITH_OK;
    /* The last manager's megabyte, whole again, serves the next: the test untyped gives nothing back. */
    m->parent = spare_parent;
    spare_parent = 0;
    if (!m->parent && (m->parent = pith_slot_alloc()))
        err = pith_invoke4(test_untyped, PITH_UNTYPED_RETYPE, PITH_OBJ_UNTYPED | MEM_BYTES_BITS << 8,
                           PITH_SLOT_CSPACE, m->parent, 1);
    if (err ||
        (err = pith_invoke4(m->parent, PITH_UNTYPED_RETYPE, PITH_OBJ_UNTYPED | MEM_BYTES_BITS << 8,
                            PITH_SLOT_CSPACE, memory, 1)))
        return err;
    struct mem_start a = { .untyped = test_untyped, .memory = memory, .stack = STACKS + instances * 0x10000,
                           .window = WINDOW, .priority = 200,
                           .time = (const struct pith_time_page *)pith_bootinfo->time_page };
    instances++;
    if ((err = mem_start(&mm_state, &a, &m->ep, &m->tcb)))
        return err;
    registry_set("mem-owner", m->ep);
    pith_client_init(&m->owner, "mem-owner", &test_registry, pith_slot_alloc(), own_buf());
    uint32_t q, used, pages, refused;
    return mem_stats(&m->owner, &q, &used, &pages, &m->start_bytes, &refused);
}

/* The manager's free memory is what it was at the start, every page free, nothing committed. */
bool mm_accounted(struct mm *m)
{
    uint32_t q, used, pages, refused;
    uint64_t bytes;
    if (mem_stats(&m->owner, &q, &used, &pages, &bytes, &refused))
        return false;
    if (bytes != m->start_bytes || pages != mm_state.pool_pages || used != 0)
        printf("  accounting: %lu bytes free of %lu, %u of %u pages, %u committed\n", bytes, m->start_bytes,
               pages, mm_state.pool_pages, used);
    return bytes == m->start_bytes && pages == mm_state.pool_pages && used == 0;
}

/* Ends the manager and takes its memory back: the untyped is whole again. */
bool mm_stop(struct mm *m)
{
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, m->tcb, 0, 0, 0);
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE, m->ep, 0, 0, 0);
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, m->ep, 0, 0, 0);
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE, m->parent, 0, 0, 0);
    struct pith_msg info = { 0 };
    pith_invoke(m->parent, PITH_UNTYPED_INFO, &info);
    if (info.w[1] != 1ull << MEM_BYTES_BITS)
        return false;
    spare_parent = m->parent;
    return true;
}

/* A client with a quota, working in our address space; its endpoint under `name`. */
uint32_t mm_client(struct mm *m, struct pith_client *c, const char *name, uint32_t quota, uint64_t *ep)
{
    uint64_t space = pith_slot_alloc();
    uint32_t id = 0;
    *ep = pith_slot_alloc();
    if (pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, space, PITH_SLOT_VSPACE, PITH_RIGHTS_ALL, 0) ||
        mem_client_new(&m->owner, space, quota, &id, *ep))
        return 0;
    registry_set(name, *ep);
    pith_client_init(c, name, &test_registry, pith_slot_alloc(), own_buf());
    return id;
}

/* A thread of the client: its page faults go to the manager. */
uint64_t client_thread(void (*fn)(uint64_t), uint64_t arg, uint64_t ep, unsigned prio)
{
    uint64_t t = make_thread(fn, arg, prio);
    if (t && pith_invoke4(t, PITH_TCB_CONFIGURE, PITH_SLOT_CSPACE, PITH_SLOT_VSPACE, 0, ep))
        return 0;
    return t;
}

uint64_t thread_state(uint64_t t)
{
    struct pith_msg m = { 0 };
    pith_invoke(t, PITH_TCB_INFO, &m);
    return m.w[1];
}

/* Waits (up to two seconds) for *flag to reach n. */
bool wait_for(volatile uint64_t *flag, uint64_t n)
{
    for (int i = 0; i < 2000 && *flag < n; i++)
        pith_sleep_ns(1000000);
    return *flag >= n;
}

void end_thread(uint64_t t)
{
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, t, 0, 0, 0);
}

