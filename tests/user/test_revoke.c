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

/*
 * One try: 100,000 copies of a fresh endpoint, the watcher asleep, then the
 * revoke.  1 if the watcher ran in the middle and saw it half done, 0 if
 * it did not, -1 if an operation failed (said on the log).
 */
static int revoke_watched(void)
{
    uint64_t ep = make_object(PITH_OBJ_ENDPOINT, 0);
    if (!ep)
        return -1;
    for (uint64_t i = 0; i < COPIES; i++) {
        long err = pith_invoke4(big_cnode, PITH_CNODE_COPY, i, ep, PITH_RIGHTS_ALL, 0);
        if (err) {
            printf("  copy %lu: error %ld\n", i, err);
            return -1;
        }
    }
    watcher_ran = saw_partial = 0;
    uint64_t w = make_thread(watcher, 0, 200);
    if (!w || pith_invoke4(w, PITH_TCB_RESUME, 0, 0, 0, 0) != PITH_OK || watcher_ran) {
        printf("  the watcher did not start and sleep\n");
        return -1;
    }
    uint64_t t0 = pith_rdtsc();
    long err = pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE, ep, 0, 0, 0);
    uint64_t t1 = pith_rdtsc();
    int ran = watcher_ran;
    printf("  revoke of %d capabilities: %lu TSC ticks; watcher %s, saw slot 0 type %lu, slot %d type %lu\n",
           COPIES, t1 - t0, ran ? "ran in the middle" : "did not run in it", seen_first, COPIES - 1, seen_last);
    struct pith_msg m = { .w = { 0 } };
    if (err || pith_invoke(big_cnode, PITH_CNODE_IDENTIFY, &m) != PITH_OK || m.w[0] != PITH_OBJ_NULL) {
        printf("  the revoke failed (error %ld) or left slot 0 type %lu\n", err, m.w[0]);
        return -1;
    }
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, w, 0, 0, 0);
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, ep, 0, 0, 0);
    return ran && saw_partial;
}

/*
 * Up to three tries: under emulation on a busy host the timer's interrupt
 * can come late enough for the whole revoke to end before the watcher is
 * due; preemptibility shows when any try catches it half done.
 */
UTEST(revoke_100k_is_preemptible)
{
    big_cnode = make_object(PITH_OBJ_CNODE, BIG_CNODE_BITS);
    UT_ASSERT(big_cnode);
    int caught = 0;
    for (int attempt = 0; attempt < 3 && caught == 0; attempt++)
        caught = revoke_watched();
    UT_EQ(caught, 1);
    /* The big CNode itself goes too, with everything it held. */
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, big_cnode, 0, 0, 0), PITH_OK);
}
