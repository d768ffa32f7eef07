/*
 * A program with anonymous memory from the memory manager (manifest:
 * pages=, tests/system/base.sh).  It maps a region, finds every page zero
 * at its first touch (each touch a page fault its supervisor passes to
 * the manager), writes and reads it back, checks the quota's limit, frees
 * the region; then touches the freed region: the manager refuses that
 * fault, so the supervisor ends the program and restarts it per its
 * policy.
 */
#include "mem.h"
#include "process.h"
#include "tls.h"

#include <stdio.h>

#define BASE   0x5000000000ull
#define PAGES  8

/* The manager is the capability in PITH_SLOT_MEM, not a name. */
static long from_slot(void *ctx, const char *name, uint64_t dest)
{
    return pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, dest, PITH_SLOT_MEM, PITH_RIGHT_WRITE | PITH_RIGHT_GRANT, 0);
}
static const struct pith_resolver slot_resolver = { from_slot, NULL };

static int fail(const char *what, long err)
{
    printf("anontest: FAIL %s (error %#lx)\n", what, err);
    return 1;
}

int main(void)
{
    struct pith_client mm;
    pith_client_init(&mm, "memory manager", &slot_resolver, pith_slot_alloc(), pith_tls_self()->ipc_buffer);
    uint32_t quota, used, pages_free, refused;
    uint64_t bytes;
    long err;
    if ((err = mem_stats(&mm, &quota, &used, &pages_free, &bytes, &refused)))
        return fail("stats", err);
    if ((err = mem_anon(&mm, BASE, quota + 1)) != MEM_E_QUOTA)
        return fail("a region above the quota was not refused", err);
    if ((err = mem_anon(&mm, BASE, PAGES)))
        return fail("anon", err);
    volatile uint64_t *w = (volatile uint64_t *)BASE;
    for (unsigned i = 0; i < PAGES * 512; i++)
        if (w[i] != 0)
            return fail("a page was not zero at its first touch", (long)i);
    for (unsigned i = 0; i < PAGES * 512; i++)
        w[i] = i * 7 + 1;
    for (unsigned i = 0; i < PAGES * 512; i++)
        if (w[i] != i * 7 + 1)
            return fail("a page did not keep what was written", (long)i);
    if ((err = mem_stats(&mm, &quota, &used, &pages_free, &bytes, &refused)) || used != PAGES)
        return fail("stats after the region", err ? err : (long)used);
    if ((err = mem_free(&mm, BASE)))
        return fail("free", err);
    printf("anontest: PASS %u pages demand-zero from the memory manager (quota %u pages); touching freed memory now\n",
           PAGES, quota);
    w[0] = 1;                           /* no region: the manager refuses, the supervisor ends us */
    printf("anontest: FAIL a touch of freed memory went on\n");
    return 1;
}
