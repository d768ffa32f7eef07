/*
 * Revoking a derivation tree of 100,000 capabilities is preemptible: a
 * higher-priority thread that wakes in the middle runs in the middle.
 */
#include "utest.h"

#define COPIES 100000
#define BIG_CNODE_BITS 17

static uint64_t big_cnode;
static volatile int watcher_ran, saw_partial;
static volatile uint64_t seen_first, seen_last;

/*
 * Wakes every millisecond and looks at both ends of the tree until the
 * revoke has visibly started: it must catch it half done (one end gone,
 * the other still there), which it can only do if the revoke lets it run.
 */
static void watcher(uint64_t unused)
{
    (void)unused;
    for (int i = 0; i < 10000; i++) {
        pith_sleep_ns(1000000);
        struct pith_msg first = { .w = { 0 } }, last = { .w = { COPIES - 1 } };
        pith_invoke(big_cnode, PITH_CNODE_IDENTIFY, &first);
        pith_invoke(big_cnode, PITH_CNODE_IDENTIFY, &last);
        seen_first = first.w[0];
        seen_last = last.w[0];
        if (first.w[0] == PITH_OBJ_ENDPOINT && last.w[0] == PITH_OBJ_ENDPOINT)
            continue;                   /* not started yet */
        saw_partial = first.w[0] != last.w[0];
        break;
    }
    watcher_ran = 1;
}

UTEST(revoke_100k_is_preemptible)
{
    big_cnode = make_object(PITH_OBJ_CNODE, BIG_CNODE_BITS);
    uint64_t ep = make_object(PITH_OBJ_ENDPOINT, 0);
    UT_ASSERT(big_cnode && ep);
    for (uint64_t i = 0; i < COPIES; i++) {
        long err = pith_invoke4(big_cnode, PITH_CNODE_COPY, i, ep, PITH_RIGHTS_ALL, 0);
        if (err) {
            UT_EQ(err, PITH_OK);
        }
    }
    watcher_ran = saw_partial = 0;
    uint64_t w = make_thread(watcher, 0, 200);
    UT_EQ(pith_invoke4(w, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);     /* sleeps at once */
    UT_EQ(watcher_ran, 0);
    uint64_t t0 = pith_rdtsc();
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE, ep, 0, 0, 0), PITH_OK);
    uint64_t t1 = pith_rdtsc();
    UT_EQ(watcher_ran, 1);
    printf("  watcher saw slot 0 type %lu, slot %d type %lu\n", seen_first, COPIES - 1, seen_last);
    UT_EQ(saw_partial, 1);
    printf("  revoke of %d capabilities: %lu TSC ticks, watcher ran in the middle\n", COPIES, t1 - t0);
    struct pith_msg m = { .w = { 0 } };
    UT_EQ(pith_invoke(big_cnode, PITH_CNODE_IDENTIFY, &m), PITH_OK);
    UT_EQ(m.w[0], PITH_OBJ_NULL);
    /* The big CNode itself goes too, with everything it held. */
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, big_cnode, 0, 0, 0), PITH_OK);
}
