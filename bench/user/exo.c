/*
 * Visible revocation of bound frames (docs/exokernel.md), both ways in
 * the same run: a library paging 64 pages over 16 frames (lib/exopage),
 * 16 pages written, is asked for 8 frames back.
 *   exo_revoke_coop:   it cooperates: from the owner's reclaim to the
 *                      library having picked 8 frames by its policy,
 *                      written their pages to its store and returned them.
 *   exo_revoke_forced: it ignores the request and the deadline is 0 ms:
 *                      from the reclaim to the library having learned which
 *                      8 frames were taken (the abort protocol).  The wait
 *                      for a deadline is left out: this is the work.
 * The library then binds its frames again, outside the timing.
 */
#include "bench.h"
#include "pith.h"
#include "idl.h"
#include "thread.h"
#include "memserver.h"
#include "exopage.h"
#include <string.h>

#define ITERS   200
#define PAGES   64
#define FRAMES  16
#define ASKED   8
#define BASE    0x6000000000ull
#define XWINDOW 0x6100000000ull     /* the library's window on its frames */
#define MWINDOW 0x6200000000ull     /* the manager's pool */
#define MSTACK  0x6300000000ull

static uint8_t store[PAGES][4096] __attribute__((aligned(4096)));
static uint64_t samples[2][ITERS];
static uint64_t done_ntfn, go_ntfn, worked_ntfn;
static volatile uint64_t t_end, goal_returned, goal_taken;
static volatile bool recorded;

static long store_read(void *ctx, uint32_t page, void *buf)
{
    memcpy(buf, store[page], 4096);
    return 0;
}

static long store_write(void *ctx, uint32_t page, const void *buf)
{
    memcpy(store[page], buf, 4096);
    return 0;
}

/* In the library's thread, after each revocation it dealt with: the clock stops once it has done all of it. */
static void revoked(struct exopage *x, void *ctx)
{
    if (recorded || x->stats.returned < goal_returned || x->stats.taken < goal_taken)
        return;
    t_end = bench_clock();
    recorded = true;
    pith_signal(done_ntfn);
}

/* The application: on each signal writes the first 16 pages (each fault served by the library). */
static void *worker(void *arg)
{
    struct pith_msg m = { 0 };
    for (uint32_t round = 1;; round++) {
        pith_syscall(PITH_SYS_RECV, go_ntfn, &m, 0);
        for (uint32_t p = 0; p < FRAMES; p++)
            *(volatile uint64_t *)(BASE + p * 4096ull) = round;
        pith_signal(worked_ntfn);
    }
    return NULL;
}

static void wait_on(uint64_t ntfn)
{
    struct pith_msg m = { 0 };
    pith_syscall(PITH_SYS_RECV, ntfn, &m, 0);
}

void exo_bench(const char *unit)
{
    static struct mem_state st;
    static struct exopage x;
    static uint64_t owner_ep, client_ep;
    long err;
    bench_manager_start(&st, 22, MWINDOW, MSTACK, &owner_ep);
    struct pith_resolver owner_r = { bench_lookup, &owner_ep }, client_r = { bench_lookup, &client_ep };
    struct pith_client owner;
    struct pith_ipc_buffer *buf = (struct pith_ipc_buffer *)PITH_IPC_BUFFER_ADDR;
    pith_client_init(&owner, "owner", &owner_r, pith_slot_alloc(), buf);
    uint64_t space = pith_slot_alloc();
    uint32_t id;
    client_ep = pith_slot_alloc();
    if ((err = pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, space, PITH_SLOT_VSPACE, PITH_RIGHTS_ALL, 0)) ||
        (err = mem_client_new(&owner, space, FRAMES, &id, client_ep)))
        bench_die("memory client", err);
    done_ntfn = bench_make(PITH_OBJ_NOTIFICATION, 0, 1);
    go_ntfn = bench_make(PITH_OBJ_NOTIFICATION, 0, 1);
    worked_ntfn = bench_make(PITH_OBJ_NOTIFICATION, 0, 1);
    struct exopage_config cfg = { .resolver = &client_r, .mem_name = "client", .base = BASE, .pages = PAGES,
                                  .frames = FRAMES, .window = XWINDOW, .policy = EXOPAGE_CLOCK, .cooperate = true,
                                  .store = { NULL, store_read, store_write }, .on_revoke = revoked };
    if ((err = exopage_start(&x, &cfg)))
        bench_die("exopage", err);
    /* The worker's faults go to the library. */
    pith_thread_t *t;
    uint64_t saved = pith_init_thread_fault_ep;
    pith_init_thread_fault_ep = x.ep;
    if (pith_thread_create(&t, worker, NULL))
        bench_die("worker thread", PITH_E_NO_MEMORY);
    pith_init_thread_fault_ep = saved;
    for (int i = 0; i < 2 * ITERS; i++) {
        bool forced = i >= ITERS;
        x.cfg.cooperate = !forced;
        pith_signal(go_ntfn);
        wait_on(worked_ntfn);
        recorded = false;
        goal_returned = forced ? 0 : x.stats.returned + ASKED;
        goal_taken = forced ? x.stats.taken + ASKED : 0;
        uint64_t t0 = bench_clock();
        if ((err = mem_reclaim(&owner, id, FRAMES - ASKED, forced ? 0 : 1000)))
            bench_die("reclaim", err);
        wait_on(done_ntfn);
        samples[forced][i % ITERS] = t_end - t0;
        if ((err = exopage_rebind(&x)))
            bench_die("rebind", err);
    }
    bench_report("exo_revoke_coop", samples[0], ITERS, unit);
    bench_report("exo_revoke_forced", samples[1], ITERS, unit);
    printf("# pith.exo_revoke_*: the library served %lu faults, wrote back %lu pages, returned %lu frames, "
           "had %lu taken and lost %lu pages\n",
           x.stats.faults, x.stats.writebacks, x.stats.returned, x.stats.taken, x.stats.lost);
}
