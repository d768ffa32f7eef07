/*
 * Both bindings at once (docs/exokernel.md): this process pages 64 pages
 * of its own over 8 frames a memory manager bound to it (lib/exopage,
 * MRU), with its backing store in the disk partition the driver bound to
 * it.  The manager is one of ours (servers/mem started as a thread, over
 * 256 KiB of our quota), as the user-level tests start theirs.
 */
#include "blktest.h"
#include "exopage.h"
#include "memserver.h"
#include "pith.h"
#include "process.h"
#include "tls.h"

#include <stdio.h>
#include <string.h>

#define MGR_WINDOW  0x7100000000ull     /* the manager's pool */
#define MGR_STACK   0x7200000000ull
#define PAGED       0x7300000000ull     /* the 64 paged pages */
#define LIB_WINDOW  0x7400000000ull     /* the library's view of its frames */
#define WORKER      0x7500000000ull     /* the worker's stack and IPC buffer */
#define NPAGES      64
#define NFRAMES     8
#define STORE_PAGE  (PAGES - 1)         /* the partition window's page the store goes through */

static struct mem_state st;
static uint64_t owner_ep, client_ep, part_cap;
static volatile uint64_t worker_done, worker_good;
static volatile uint64_t store_reads, store_writes;

static long copy_of(void *ctx, const char *name, uint64_t dest)
{
    return pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, dest, *(uint64_t *)ctx, PITH_RIGHTS_ALL, 0);
}

static const struct pith_resolver owner_r = { copy_of, &owner_ep }, client_r = { copy_of, &client_ep },
                                  part_r = { copy_of, &part_cap };

/* The store: page i is the partition's sectors 8i to 8i + 7, through the library thread's own binding. */
static struct pith_client *store_binding(void)
{
    static struct pith_client c;
    static bool made;
    if (!made) {
        pith_client_init(&c, "partition-store", &part_r, pith_slot_alloc(), pith_tls_self()->ipc_buffer);
        made = true;
    }
    return &c;
}

static long store_read(void *ctx, uint32_t page, void *buf)
{
    long err = blk_read(store_binding(), page * 8ull, 8, STORE_PAGE);
    if (!err)
        memcpy(buf, (const void *)(WINDOW_VA + STORE_PAGE * 4096ull), 4096);
    store_reads++;
    return err;
}

static long store_write(void *ctx, uint32_t page, const void *buf)
{
    memcpy((void *)(WINDOW_VA + STORE_PAGE * 4096ull), buf, 4096);
    store_writes++;
    return blk_write(store_binding(), page * 8ull, 8, STORE_PAGE);
}

/* The application's thread (no runtime: plain memory and system calls): writes every page, then checks them. */
static void worker(uint64_t round)
{
    for (uint64_t p = 0; p < NPAGES; p++)
        *(volatile uint64_t *)(PAGED + p * 4096 + 64) = round << 32 | p;
    uint64_t good = 0;
    for (uint64_t p = 0; p < NPAGES; p++)
        good += *(volatile uint64_t *)(PAGED + p * 4096 + 64) == (round << 32 | p);
    worker_good = good;
    worker_done = 1;
    for (;;)
        pith_sleep_ns(1000000000000ull);
}

/* A bare thread whose faults go to the library's endpoint (its stack and IPC buffer by round). */
static uint64_t worker_start(uint64_t fault_ep, uint64_t round)
{
    uint64_t tcb = pith_object_new(PITH_OBJ_TCB, 0), stack = pith_object_new(PITH_OBJ_FRAME, 0),
             buf = pith_object_new(PITH_OBJ_FRAME, 0);
    uint8_t rw = PITH_RIGHT_READ | PITH_RIGHT_WRITE;
    uint64_t at = WORKER + round * 0x10000;
    worker_done = 0;
    if (!tcb || !stack || !buf || pith_map_page(stack, at, rw, 0) || pith_map_page(buf, at + 0x2000, rw, 0) ||
        pith_invoke4(tcb, PITH_TCB_CONFIGURE, PITH_SLOT_CSPACE, PITH_SLOT_VSPACE, buf, fault_ep) ||
        pith_invoke4(tcb, PITH_TCB_SET_PRIORITY, 100, 100, 0, 0) ||
        pith_invoke4(tcb, PITH_TCB_WRITE_REGISTERS, (uint64_t)worker, at + 0x1000 - 8, round, 0) ||
        pith_invoke4(tcb, PITH_TCB_RESUME, 0, 0, 0, 0))
        return 0;
    return tcb;
}

static bool wait_done(void)
{
    for (int i = 0; i < 3000 && !worker_done; i++)
        pith_sleep_ns(1000000);
    return worker_done;
}

void paged_checks(uint64_t partition)
{
    part_cap = partition;
    /* 1 MiB of the runtime's memory: the manager's objects (its 4096-slot CNode is 256 KiB) and a 256 KiB pool. */
    uint64_t mine = pith_object_new(PITH_OBJ_UNTYPED, 20), memory = pith_slot_alloc(), tcb = 0;
    struct mem_start a = { .untyped = mine, .memory = memory, .stack = MGR_STACK, .window = MGR_WINDOW,
                           .priority = 120, .time = (const struct pith_time_page *)pith_bootinfo->time_page };
    long err = mine ? pith_invoke4(mine, PITH_UNTYPED_RETYPE, PITH_OBJ_UNTYPED | 18 << 8, PITH_SLOT_CSPACE, memory, 1)
                    : PITH_E_NO_MEMORY;
    if (!err)
        err = mem_start(&st, &a, &owner_ep, &tcb);
    struct pith_client owner;
    struct pith_ipc_buffer *buf = pith_tls_self()->ipc_buffer;
    pith_client_init(&owner, "mem-owner", &owner_r, pith_slot_alloc(), buf);
    uint64_t space = pith_slot_alloc();
    uint32_t id = 0;
    client_ep = pith_slot_alloc();
    if (!err && !(err = pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, space, PITH_SLOT_VSPACE, PITH_RIGHTS_ALL, 0)))
        err = mem_client_new(&owner, space, 16, &id, client_ep);
    check(!err, "paged_manager_started", "error %#lx", err);
    if (err)
        return;
    static struct exopage x;
    struct exopage_config cfg = { .resolver = &client_r, .mem_name = "mem-client", .base = PAGED, .pages = NPAGES,
                                  .frames = NFRAMES, .window = LIB_WINDOW, .policy = EXOPAGE_MRU, .cooperate = true,
                                  .store = { NULL, store_read, store_write } };
    err = exopage_start(&x, &cfg);
    uint64_t t = err ? 0 : worker_start(x.ep, 7);
    bool done = t && wait_done();
    /* What the store wrote is on the partition: under MRU page 7 is the first to leave its frame. */
    struct pith_client part;
    pith_client_init(&part, "partition", &part_r, pith_slot_alloc(), buf);
    long r = blk_read(&part, 7 * 8, 8, 0);
    uint64_t on_disk = *(volatile uint64_t *)(WINDOW_VA + 64);
    check(!err && done && worker_good == NPAGES && x.stats.writebacks >= NPAGES - NFRAMES &&
              store_writes == x.stats.writebacks && store_reads == x.stats.reads && x.stats.refused == 0 && !r &&
              on_disk == (7ull << 32 | 7),
          "paged_over_a_partition", "start %#lx, done %d, %lu good, %lu written back, %lu read, %lu refused, "
          "read %#lx: %#lx", err, done, worker_good, x.stats.writebacks, x.stats.reads, x.stats.refused, r, on_disk);
    printf("%s: 64 pages over 8 frames, store on the partition: %lu faults, %lu written back, %lu read back\n", me,
           x.stats.faults, x.stats.writebacks, x.stats.reads);
    /* Asked for 3 frames, the library writes their pages to the partition and gives them back. */
    uint64_t before = store_writes;
    err = mem_reclaim(&owner, id, NFRAMES - 3, 500);
    for (int i = 0; i < 2000 && x.stats.returned < 3; i++)
        pith_sleep_ns(1000000);
    uint32_t q, used = 0, pages, refused;
    uint64_t bytes;
    mem_stats(&owner, &q, &used, &pages, &bytes, &refused);
    check(!err && x.stats.returned == 3 && x.live == NFRAMES - 3 && store_writes - before <= 3 && used == NFRAMES - 3,
          "paged_frames_given_back", "reclaim %#lx, %lu returned, %u live, %lu written, %u used", err,
          x.stats.returned, x.live, store_writes - before, used);
    /* Every page written and read again through the 5 frames left: nothing was lost on the way. */
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, t, 0, 0, 0);
    t = worker_start(x.ep, 8);
    done = t && wait_done();
    check(done && worker_good == NPAGES && x.stats.refused == 0, "paged_again_through_fewer_frames",
          "done %d, %lu good, %lu refused", done, worker_good, x.stats.refused);
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, t, 0, 0, 0);
    exopage_stop(&x);
    err = mem_client_close(&owner, id);
    check(!err && x.live == 0, "paged_stopped", "close %#lx, %u live", err, x.live);
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, tcb, 0, 0, 0);
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE, owner_ep, 0, 0, 0);
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, owner_ep, 0, 0, 0);
}
