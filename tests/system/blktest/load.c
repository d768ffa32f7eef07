/*
 * Several requests at once: four threads of ours, each its own binding
 * and its own part of the window, write and read back their own sectors
 * at the same time (the driver logs the most it had in flight; the
 * scenario checks it).  Then the driver is killed under three of them:
 * every request completes, after attaching again, or fails with an
 * error; none hangs.
 */
#include "blktest.h"
#include "pith.h"
#include "procmgr.h"
#include "process.h"
#include "thread.h"
#include "tls.h"

#include <stdio.h>
#include <string.h>

#define THREADS 4
#define SLICE (PAGES / THREADS)         /* 16 pages, 128 sectors each */

struct worker {
    int n, rounds;
    volatile int done_rounds, errors, bad, reattached;
    volatile bool finished;
};

static volatile bool stop;

static void *work(void *arg)
{
    struct worker *w = arg;
    struct pith_client *c = blk_binding();
    uint32_t page = (uint32_t)w->n * SLICE;
    uint64_t sector = 8192 + (uint64_t)w->n * 2048;
    int reattached = 0;
    for (int r = 0; r < w->rounds && !stop; r++) {
        uint32_t seed = (uint32_t)(w->n << 16 | r);
        uint64_t at = sector + (uint64_t)(r % 8) * 128;
        pattern_fill(page, at, SLICE * 8, seed);
        long a = io_retry(c, true, at, SLICE * 8, page, &reattached);
        memset((void *)(WINDOW_VA + page * 4096ull), 0, SLICE * 4096);
        long b = a ? a : io_retry(c, false, at, SLICE * 8, page, &reattached);
        if (a || b)
            w->errors++;
        else if (!pattern_ok(page, at, SLICE * 8, seed))
            w->bad++;
        w->done_rounds++;
    }
    w->reattached = reattached;
    w->finished = true;
    return NULL;
}

static void run(struct worker *w, int n, int rounds)
{
    for (int i = 0; i < n; i++) {
        w[i] = (struct worker){ .n = i, .rounds = rounds };
        pith_thread_t *t;
        if (pith_thread_create(&t, work, &w[i]))
            w[i].finished = true;
    }
}

/* Waits up to secs for every worker to finish; how many did. */
static int wait_all(struct worker *w, int n, int secs)
{
    int fin = 0;
    for (int t = 0; t < secs * 10; t++) {
        fin = 0;
        for (int i = 0; i < n; i++)
            fin += w[i].finished;
        if (fin == n)
            break;
        pith_sleep_ns(100000000);
    }
    return fin;
}

void load_checks(void)
{
    static struct worker w[THREADS];
    run(w, THREADS, 12);
    int fin = wait_all(w, THREADS, 120), errors = 0, bad = 0;
    for (int i = 0; i < THREADS; i++) {
        errors += w[i].errors;
        bad += w[i].bad;
    }
    check(fin == THREADS && !errors && !bad, "threads_write_read_at_once", "%d of %d finished, %d errors, %d bad",
          fin, THREADS, errors, bad);
}

static long procmgr_itself(void *ctx, const char *name, uint64_t dest_slot)
{
    return pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, dest_slot, PITH_SLOT_PROCS, PITH_RIGHTS_ALL, 0);
}

static const struct pith_resolver boot_capability = { .lookup = procmgr_itself };

void kill_checks(void)
{
    static struct worker w[3];
    struct pith_client pm;
    pith_client_init(&pm, "procmgr", &boot_capability, pith_slot_alloc(), pith_tls_self()->ipc_buffer);
    run(w, 3, 40);
    while (w[0].done_rounds + w[1].done_rounds + w[2].done_rounds < 6)
        pith_sleep_ns(10000000);
    long err = procmgr_kill(&pm, "blk");
    int fin = wait_all(w, 3, 120), errors = 0, bad = 0, reattached = 0, rounds = 0;
    for (int i = 0; i < 3; i++) {
        errors += w[i].errors;
        bad += w[i].bad;
        reattached += w[i].reattached;
        rounds += w[i].done_rounds;
    }
    printf("blktest: killed the driver under 3 threads: %d rounds, %d attached again, %d failed with an error\n",
           rounds, reattached, errors);
    check(!err && fin == 3 && !bad && reattached >= 1, "driver_killed_requests_complete_or_fail",
          "kill %#lx, %d of 3 finished, %d bad, %d attached again", err, fin, bad, reattached);
    uint64_t sectors = 0;
    uint32_t pages, ro;
    struct pith_client *c = blk_binding();
    long a = blk_info(c, &sectors, &pages, &ro);
    int again = 0;
    long b = io_retry(c, false, disk_sectors - 1, 1, 0, &again);
    check(!a && sectors == disk_sectors && !b, "driver_serves_again_after_kill", "info %#lx, read %#lx", a, b);
}
