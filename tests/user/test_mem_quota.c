/*
 * The memory manager as memd runs it (servers/mem/quota.c, start.c's
 * given space): a capability space laid out by its starter with the pool,
 * the endpoint and a block for quotas; quotas given into the owner's
 * slot and taken back whole; every error; the published capability's
 * rights; and a fault of the manager's own reaching its fault endpoint
 * while a caller is released.
 */
#include <pith/fault.h>
#include "memtest.h"

#define Q_WINDOW    0x5c00000000ull     /* clear of the other tests' windows and scratch pages */
#define Q_STACKS    0x5d00000000ull
#define PARENT_BITS 22

struct bm {
    uint64_t parent, cn, ep, tcb;
    struct pith_client owner;
};

static struct mem_state qst;
static unsigned q_instances;

/* A manager started as memd starts one: the space made by us, with its pool, endpoint and a block. */
static long bm_start(struct bm *b, uint32_t block_bits, uint64_t fault_ep)
{
    static uint64_t parent;             /* one for every start: what is made from test_untyped stays made */
    long err;
    if (!test_untyped)
        test_untyped = pith_biggest_untyped();
    if (!parent && (err = pith_invoke4(test_untyped, PITH_UNTYPED_RETYPE, PITH_OBJ_UNTYPED | PARENT_BITS << 8,
                                       PITH_SLOT_CSPACE, parent = pith_slot_alloc(), 1)))
        return err;
    b->parent = parent;
    b->cn = pith_slot_alloc();
    b->ep = pith_slot_alloc();
    if ((err = pith_invoke4(b->parent, PITH_UNTYPED_RETYPE, PITH_OBJ_CNODE | MEM_CNODE_BITS << 8, PITH_SLOT_CSPACE,
                            b->cn, 1)) ||
        (err = pith_invoke4(b->parent, PITH_UNTYPED_RETYPE, PITH_OBJ_ENDPOINT, PITH_SLOT_CSPACE, b->ep, 1)) ||
        (err = pith_invoke4(b->parent, PITH_UNTYPED_RETYPE, PITH_OBJ_UNTYPED | 18 << 8, b->cn, MEM_SLOT_UNTYPED, 1)) ||
        (err = pith_invoke4(b->parent, PITH_UNTYPED_RETYPE, PITH_OBJ_UNTYPED | (uint64_t)block_bits << 8, b->cn,
                            MEM_SLOT_QUOTA_MEM, 1)) ||
        (err = pith_invoke4(b->cn, PITH_CNODE_COPY, MEM_SLOT_EP, b->ep, PITH_RIGHTS_ALL, 0)))
        return err;
    struct mem_start a = { .untyped = test_untyped, .stack = Q_STACKS + q_instances++ * 0x10000, .window = Q_WINDOW,
                           .priority = 200, .time = (const struct pith_time_page *)pith_bootinfo->time_page,
                           .cnode = b->cn, .ep = b->ep, .fault_ep = fault_ep };
    uint64_t ep;
    if ((err = mem_start(&qst, &a, &ep, &b->tcb)))
        return err;
    if (ep != b->ep)
        return PITH_E_INVALID_ARG;
    registry_set("mem-owner", b->ep);
    pith_client_init(&b->owner, "mem-owner", &test_registry, pith_slot_alloc(), thread_buffer());
    return PITH_OK;
}

/* Ends it and takes everything back: true if the parent is whole again. */
static bool bm_stop(struct bm *b)
{
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, b->tcb, 0, 0, 0);
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE, b->parent, 0, 0, 0);
    struct pith_msg info = { 0 };
    pith_invoke(b->parent, PITH_UNTYPED_INFO, &info);
    return info.w[1] == 1ull << PARENT_BITS;
}

static uint64_t kind(uint64_t slot)
{
    struct pith_msg m = { .w = { slot } };
    pith_invoke(PITH_SLOT_CSPACE, PITH_CNODE_IDENTIFY, &m);
    return m.w[0];
}

UTEST(mem_quota_given_and_taken_back_whole)
{
    struct bm b;
    uint64_t total, free_bytes, back;
    uint32_t id, again;
    UT_EQ(bm_start(&b, 21, 0), PITH_OK);
    UT_EQ(mem_quota_totals(&b.owner, &total, &free_bytes), PITH_OK);
    UT_EQ(total, 1ull << 21);
    UT_EQ(free_bytes, 1ull << 21);
    /* A quota arrives in our slot as an untyped of its size, all free. */
    uint64_t q = pith_slot_alloc(), frame = pith_slot_alloc();
    UT_EQ(mem_quota_get(&b.owner, 20, PITH_SLOT_CSPACE, q, &id), PITH_OK);
    struct pith_msg info = { 0 };
    UT_EQ(pith_invoke(q, PITH_UNTYPED_INFO, &info), PITH_OK);
    UT_EQ(info.w[0], 20);
    UT_EQ(info.w[1], 1ull << 20);
    UT_EQ(mem_quota_totals(&b.owner, &total, &free_bytes), PITH_OK);
    UT_EQ(free_bytes, 1ull << 20);
    /* What we made from it goes with it; the manager finds it whole and keeps it. */
    UT_EQ(pith_invoke4(q, PITH_UNTYPED_RETYPE, PITH_OBJ_FRAME, PITH_SLOT_CSPACE, frame, 1), PITH_OK);
    UT_EQ(mem_quota_put(&b.owner, id, &back), PITH_OK);
    UT_EQ(back, 1ull << 20);
    UT_EQ(kind(frame), PITH_OBJ_NULL);
    UT_EQ(kind(q), PITH_OBJ_NULL);
    UT_EQ(mem_quota_totals(&b.owner, &total, &free_bytes), PITH_OK);
    UT_EQ(free_bytes, 1ull << 21);
    /* Given again for the same size. */
    UT_EQ(mem_quota_get(&b.owner, 20, PITH_SLOT_CSPACE, q, &again), PITH_OK);
    UT_EQ(again, id);
    UT_EQ(mem_quota_put(&b.owner, id, &back), PITH_OK);
    UT_EQ(mem_quota_put(&b.owner, id, &back), MEM_E_NO_QUOTA);      /* given back already */
    UT_ASSERT(bm_stop(&b));
}

UTEST(mem_quota_every_error)
{
    struct bm b;
    uint64_t total, free_bytes, back;
    uint32_t id, spare, n = 0;
    UT_EQ(bm_start(&b, 21, 0), PITH_OK);
    uint64_t q = pith_slot_alloc(), other = pith_slot_alloc();
    UT_EQ(mem_quota_get(&b.owner, 15, PITH_SLOT_CSPACE, other, &id), MEM_E_BAD_RANGE);
    UT_EQ(mem_quota_get(&b.owner, 41, PITH_SLOT_CSPACE, other, &id), MEM_E_BAD_RANGE);
    UT_EQ(mem_quota_get(&b.owner, 22, PITH_SLOT_CSPACE, other, &id), MEM_E_NO_MEMORY);
    UT_EQ(mem_quota_get(&b.owner, 20, b.ep, other, &id), MEM_E_NOT_CNODE);
    UT_EQ(mem_quota_get(&b.owner, 16, PITH_SLOT_CSPACE, q, &id), PITH_OK);
    /* A slot already full: the quota made for it stays with the manager, not given. */
    UT_EQ(mem_quota_get(&b.owner, 16, PITH_SLOT_CSPACE, q, &spare), MEM_E_NOT_CNODE);
    UT_EQ(mem_quota_put(&b.owner, id + 1, &back), MEM_E_NO_QUOTA);
    UT_EQ(mem_quota_put(&b.owner, 0, &back), MEM_E_NO_QUOTA);
    UT_EQ(mem_quota_put(&b.owner, MEM_QUOTAS + 1, &back), MEM_E_NO_QUOTA);
    UT_EQ(kind(other), PITH_OBJ_NULL);
    /* Its table is full as its memory is used up: 32 quotas of 64 KiB, the first given above. */
    static uint64_t slots[MEM_QUOTAS];
    uint32_t ids[MEM_QUOTAS];
    long err = PITH_OK;
    while (err == PITH_OK && n < MEM_QUOTAS) {
        slots[n] = pith_slot_alloc();
        err = mem_quota_get(&b.owner, 16, PITH_SLOT_CSPACE, slots[n], &ids[n]);
        n += err == PITH_OK;
    }
    UT_EQ(err, MEM_E_FULL);
    UT_EQ(n, MEM_QUOTAS - 1);          /* the one made for the full slot is given now */
    for (uint32_t i = 0; i < n; i++) {
        UT_EQ(mem_quota_put(&b.owner, ids[i], &back), PITH_OK);
        UT_EQ(back, 1ull << 16);
        pith_slot_free(slots[i]);
    }
    UT_EQ(mem_quota_put(&b.owner, id, &back), PITH_OK);
    /* Only the owner: a client and the published capability are refused; the latter may read the figures. */
    struct pith_client c, pub;
    uint64_t space = pith_slot_alloc(), cep = pith_slot_alloc(), pep = pith_slot_alloc();
    uint32_t cid, u32;
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, space, PITH_SLOT_VSPACE, PITH_RIGHTS_ALL, 0), PITH_OK);
    UT_EQ(mem_client_new(&b.owner, space, 4, &cid, cep), PITH_OK);
    registry_set("mem-c1", cep);
    pith_client_init(&c, "mem-c1", &test_registry, pith_slot_alloc(), thread_buffer());
    UT_EQ(mem_quota_get(&c, 20, PITH_SLOT_CSPACE, other, &id), MEM_E_DENIED);
    UT_EQ(mem_quota_put(&c, 1, &back), MEM_E_DENIED);
    UT_EQ(mem_quota_totals(&c, &total, &free_bytes), MEM_E_DENIED);
    UT_EQ(mem_crash(&c), MEM_E_DENIED);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_MINT, pep, b.ep, PITH_RIGHT_WRITE | PITH_RIGHT_GRANT,
                       MEM_BADGE_PUBLIC), PITH_OK);
    registry_set("mem-c2", pep);
    pith_client_init(&pub, "mem-c2", &test_registry, pith_slot_alloc(), thread_buffer());
    UT_EQ(mem_quota_totals(&pub, &total, &free_bytes), PITH_OK);
    UT_EQ(total, 1ull << 21);
    UT_EQ(free_bytes, 1ull << 21);
    UT_EQ(mem_stats(&pub, &u32, &u32, &u32, &back, &u32), PITH_OK);
    UT_EQ(mem_quota_get(&pub, 20, PITH_SLOT_CSPACE, other, &id), MEM_E_DENIED);
    UT_EQ(mem_quota_put(&pub, 1, &back), MEM_E_DENIED);
    UT_EQ(mem_crash(&pub), MEM_E_DENIED);
    UT_EQ(mem_anon(&pub, REGION_A, 1), MEM_E_DENIED);
    UT_EQ(mem_client_close(&pub, cid), MEM_E_DENIED);
    UT_EQ(mem_client_close(&b.owner, cid), PITH_OK);
    UT_ASSERT(bm_stop(&b));
}

/* ---- the manager's own fault ---- */

static struct pith_client crash_client;
static volatile uint64_t crash_done;
static long crash_err;

static void crash_caller(uint64_t slot)
{
    pith_client_init(&crash_client, "mem-owner", &test_registry, slot, thread_buffer());
    crash_err = mem_crash(&crash_client);
    crash_done = 1;
    for (;;)
        pith_sleep_ns(1000000000000ull);
}

/*
 * What init's supervisor relies on: the fault reaches the manager's fault
 * endpoint, and deleting its reply object releases the call it was
 * serving with "the server died" (for a call that is not idempotent).
 */
UTEST(mem_manager_fault_reported_caller_released)
{
    struct bm b;
    uint64_t fault_ep = make_object(PITH_OBJ_ENDPOINT, 0), reply = make_object(PITH_OBJ_REPLY, 0);
    UT_EQ(bm_start(&b, 21, fault_ep), PITH_OK);
    crash_done = 0;
    uint64_t t = make_thread(crash_caller, pith_slot_alloc(), 150);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    struct pith_msg m = { 0 };
    UT_EQ(pith_syscall_timed(PITH_SYS_RECV_TIMED, fault_ep, &m, reply, 2000000000ull), PITH_OK);
    UT_EQ(PITH_TAG_LABEL(m.tag), PITH_FAULT_LABEL);
    UT_EQ(m.w[0], PITH_FAULT_PAGE);
    UT_EQ(m.w[1], 0x10);
    UT_EQ(crash_done, 0);
    UT_EQ(pith_invoke4(b.cn, PITH_CNODE_DELETE, MEM_SLOT_REPLY, 0, 0, 0), PITH_OK);
    UT_ASSERT(wait_for(&crash_done, 1));
    UT_EQ(crash_err, PITH_IDL_E_RESTARTED);
    end_thread(t);
    UT_ASSERT(bm_stop(&b));
}
