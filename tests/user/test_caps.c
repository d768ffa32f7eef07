/* Capabilities, CNodes and untyped memory, from user level: every error path. */
#include "utest.h"

UTEST(abi_version_reported)
{
    struct pith_msg m = { 0 };
    UT_EQ(pith_syscall(PITH_SYS_INFO, 0, &m, 0), PITH_OK);
    UT_EQ(m.w[0], pith_bootinfo->abi_major);
    UT_EQ(m.w[1], pith_bootinfo->abi_minor);
}

UTEST(bootinfo_is_complete)
{
    const struct pith_bootinfo *bi = pith_bootinfo;
    UT_EQ(bi->magic, PITH_BOOTINFO_MAGIC);
    UT_EQ(bi->version, PITH_BOOTINFO_VERSION);
    UT_ASSERT(bi->untyped.count > 0);
    UT_ASSERT(bi->nmodules >= 1);
    UT_ASSERT(bi->empty.count > 1000);
    uint64_t total = 0;
    for (uint64_t i = 0; i < bi->untyped.count; i++) {
        struct pith_msg m = { 0 };
        UT_EQ(pith_invoke(bi->untyped.first_slot + i, PITH_UNTYPED_INFO, &m), PITH_OK);
        UT_EQ(m.w[0], bi->untyped_list[i].size_bits);
        UT_EQ(m.w[2], bi->untyped_list[i].phys);    /* boot untyped carries the PHYS right */
        total += 1ull << m.w[0];
    }
    UT_ASSERT(total > (64ull << 20));
}

UTEST(lookup_errors)
{
    struct pith_msg m = { 0 };
    /* Out of range, empty, wrong type for the operation. */
    UT_EQ(pith_invoke4(1ull << 40, PITH_CNODE_COPY, 0, 0, 0, 0), PITH_E_SLOT_RANGE);
    uint64_t empty = pith_slot_alloc();
    UT_EQ(pith_invoke4(empty, PITH_CNODE_COPY, 0, 0, 0, 0), PITH_E_SLOT_EMPTY);
    UT_EQ(pith_invoke(PITH_SLOT_LOG, PITH_CNODE_COPY, &m), PITH_E_BAD_INVOCATION);
    /* A retype whose destination "CNode" is a thread. */
    UT_EQ(pith_invoke4(test_untyped ? test_untyped : pith_bootinfo->untyped.first_slot,
                       PITH_UNTYPED_RETYPE, PITH_OBJ_ENDPOINT, PITH_SLOT_TCB, empty, 1),
          PITH_E_WRONG_TYPE);
    UT_EQ(pith_syscall(PITH_SYS_RECV, PITH_SLOT_TCB, &m, 0), PITH_E_WRONG_TYPE);
}

UTEST(copy_mint_move_delete)
{
    uint64_t ep = make_object(PITH_OBJ_ENDPOINT, 0);
    UT_ASSERT(ep);
    uint64_t a = pith_slot_alloc(), b = pith_slot_alloc(), c = pith_slot_alloc();
    struct pith_msg m = { 0 };
    /* Copy with fewer rights; rights never grow back. */
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, a, ep, PITH_RIGHT_READ, 0), PITH_OK);
    m.w[0] = a;
    UT_EQ(pith_invoke(PITH_SLOT_CSPACE, PITH_CNODE_IDENTIFY, &m), PITH_OK);
    UT_EQ(m.w[0], PITH_OBJ_ENDPOINT);
    UT_EQ(m.w[1], PITH_RIGHT_READ);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, b, a, PITH_RIGHTS_ALL, 0), PITH_OK);
    m.w[0] = b;
    UT_EQ(pith_invoke(PITH_SLOT_CSPACE, PITH_CNODE_IDENTIFY, &m), PITH_OK);
    UT_EQ(m.w[1], PITH_RIGHT_READ);
    /* Sending needs the write right. */
    struct pith_msg s = { .tag = PITH_TAG(1, 0) };
    UT_EQ(pith_nbsend(b, &s), PITH_E_NO_RIGHTS);
    /* Mint a badge; a badge cannot be changed. */
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_MINT, c, ep, PITH_RIGHTS_ALL, 42), PITH_OK);
    m.w[0] = c;
    UT_EQ(pith_invoke(PITH_SLOT_CSPACE, PITH_CNODE_IDENTIFY, &m), PITH_OK);
    UT_EQ(m.w[2], 42);
    uint64_t d = pith_slot_alloc();
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_MINT, d, c, PITH_RIGHTS_ALL, 7), PITH_E_INVALID_ARG);
    /* Destination taken, then a move. */
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, a, ep, PITH_RIGHTS_ALL, 0), PITH_E_SLOT_FULL);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_MOVE, d, c, 0, 0), PITH_OK);
    m.w[0] = c;
    UT_EQ(pith_invoke(PITH_SLOT_CSPACE, PITH_CNODE_IDENTIFY, &m), PITH_OK);
    UT_EQ(m.w[0], PITH_OBJ_NULL);
    /* Revoking the original removes every copy, in any slot. */
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE, ep, 0, 0, 0), PITH_OK);
    for (uint64_t x = a; x <= d; x++) {
        m.w[0] = x;
        UT_EQ(pith_invoke(PITH_SLOT_CSPACE, PITH_CNODE_IDENTIFY, &m), PITH_OK);
        UT_EQ(m.w[0], PITH_OBJ_NULL);
    }
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, ep, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, ep, 0, 0, 0), PITH_OK);   /* already empty */
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, 1ull << 40, 0, 0, 0), PITH_E_SLOT_RANGE);
}

static uint64_t same(uint64_t x, uint64_t y)
{
    struct pith_msg m = { .w = { x, y } };
    return pith_invoke(PITH_SLOT_CSPACE, PITH_CNODE_COMPARE, &m) == PITH_OK ? m.w[0] : 99;
}

UTEST(compare_tells_one_object_from_another)
{
    uint64_t ep = make_object(PITH_OBJ_ENDPOINT, 0), other = make_object(PITH_OBJ_ENDPOINT, 0);
    uint64_t weak = pith_slot_alloc(), badged = pith_slot_alloc(), empty = pith_slot_alloc();
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, weak, ep, PITH_RIGHT_WRITE, 0), PITH_OK);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_MINT, badged, weak, PITH_RIGHT_WRITE, 9), PITH_OK);
    /* Rights and badges aside, copies reach the one endpoint; another endpoint is another. */
    UT_EQ(same(ep, ep), 1);
    UT_EQ(same(ep, weak), 1);
    UT_EQ(same(badged, ep), 1);
    UT_EQ(same(ep, other), 0);
    UT_EQ(same(badged, other), 0);
    /* An empty slot is no object; two I/O-port ranges (no kernel memory) differ by their range. */
    UT_EQ(same(ep, empty), 0);
    UT_EQ(same(empty, empty), 0);
    uint64_t ports = pith_bootinfo->io_ports.first_slot;
    UT_ASSERT(pith_bootinfo->io_ports.count >= 2);
    UT_EQ(same(ports, ports), 1);
    UT_EQ(same(ports, ports + 1), 0);
    struct pith_msg m = { .w = { ep, 1ull << 40 } };
    UT_EQ(pith_invoke(PITH_SLOT_CSPACE, PITH_CNODE_COMPARE, &m), PITH_E_SLOT_RANGE);
    m = (struct pith_msg){ .w = { 1ull << 40, ep } };
    UT_EQ(pith_invoke(PITH_SLOT_CSPACE, PITH_CNODE_COMPARE, &m), PITH_E_SLOT_RANGE);
    /* Once the endpoint is gone, its former copies are empty. */
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE, ep, 0, 0, 0), PITH_OK);
    UT_EQ(same(ep, weak), 0);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, ep, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, other, 0, 0, 0), PITH_OK);
}

UTEST(untyped_exhausted_then_revoked_and_reused)
{
    /* A 4 KiB untyped split off the big one: room for exactly 64 endpoints. */
    uint64_t small = make_object(PITH_OBJ_UNTYPED, 12);
    UT_ASSERT(small);
    uint64_t first = pith_slot_alloc();
    for (int i = 1; i < 64; i++)
        pith_slot_alloc();
    UT_EQ(pith_invoke4(small, PITH_UNTYPED_RETYPE, PITH_OBJ_ENDPOINT, PITH_SLOT_CSPACE, first, 64), PITH_OK);
    uint64_t extra = pith_slot_alloc();
    UT_EQ(pith_invoke4(small, PITH_UNTYPED_RETYPE, PITH_OBJ_ENDPOINT, PITH_SLOT_CSPACE, extra, 1),
          PITH_E_NO_MEMORY);
    struct pith_msg m = { 0 };
    UT_EQ(pith_invoke(small, PITH_UNTYPED_INFO, &m), PITH_OK);
    UT_EQ(m.w[1], 0);                           /* no bytes left */
    /* Revoke: every endpoint gone, the memory reusable. */
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE, small, 0, 0, 0), PITH_OK);
    m.w[0] = first + 10;
    UT_EQ(pith_invoke(PITH_SLOT_CSPACE, PITH_CNODE_IDENTIFY, &m), PITH_OK);
    UT_EQ(m.w[0], PITH_OBJ_NULL);
    UT_EQ(pith_invoke4(small, PITH_UNTYPED_RETYPE, PITH_OBJ_ENDPOINT, PITH_SLOT_CSPACE, first, 64), PITH_OK);
    /* Bad arguments. */
    UT_EQ(pith_invoke4(small, PITH_UNTYPED_RETYPE, PITH_OBJ_ZOMBIE, PITH_SLOT_CSPACE, extra, 1), PITH_E_INVALID_ARG);
    UT_EQ(pith_invoke4(small, PITH_UNTYPED_RETYPE, PITH_OBJ_ENDPOINT, PITH_SLOT_CSPACE, extra, 0), PITH_E_INVALID_ARG);
    UT_EQ(pith_invoke4(small, PITH_UNTYPED_RETYPE, PITH_OBJ_ENDPOINT, PITH_SLOT_CSPACE, 1ull << 40, 1), PITH_E_SLOT_RANGE);
    UT_EQ(pith_invoke4(small, PITH_UNTYPED_RETYPE, PITH_OBJ_ENDPOINT, PITH_SLOT_CSPACE, first, 1), PITH_E_SLOT_FULL);
}
