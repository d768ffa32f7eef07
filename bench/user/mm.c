/*
 * Memory-management figures (docs/memory.md): map and unmap of 1 and 512
 * pages into another address space with the kernel's invocations, a page
 * fault served by the memory manager (demand-zero), and a copy-on-write
 * fault.  Same line format as main.c's.
 */
#include "bench.h"
#include "pith.h"
#include "idl.h"
#include "memserver.h"

#define FAULT_ITERS 10000
#define MAP_ITERS   1000
#define BATCH       MEM_REGION_PAGES
#define REGION      0x5000000000ull
#define COPY        0x5000100000ull
#define WINDOW      0x5800000000ull
#define STACK       0x5900000000ull
#define TARGET      0x5a00000000ull     /* where the map figures map, in another space */
#define RW          (PITH_RIGHT_READ | PITH_RIGHT_WRITE)

static uint64_t samples[FAULT_ITERS];
static const char *unit;

static void report(const char *name, int n)
{
    bench_report(name, samples, n, unit);
}




/* ---- map and unmap ---- */

static void map_figure(uint64_t frames, uint64_t vs, uint64_t cn, uint64_t pages)
{
    static uint64_t unmap[MAP_ITERS];
    for (int i = 0; i < MAP_ITERS; i++) {
        uint64_t t0 = bench_clock();
        long err = pith_invoke4(vs, PITH_VSPACE_MAP, frames, TARGET, cn, pages | (uint64_t)RW << 16);
        uint64_t t1 = bench_clock();
        err = err ? err : pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE_RANGE, frames, pages, 0, 0);
        uint64_t t2 = bench_clock();
        if (err)
            bench_die("map", err);
        samples[i] = t1 - t0;
        unmap[i] = t2 - t1;
    }
    report(pages == 1 ? "map_1" : "map_512", MAP_ITERS);
    for (int i = 0; i < MAP_ITERS; i++)
        samples[i] = unmap[i];
    report(pages == 1 ? "unmap_1" : "unmap_512", MAP_ITERS);
}

static void map_unmap(void)
{
    uint64_t frames = bench_make(PITH_OBJ_FRAME, 0, PITH_MAP_MAX_PAGES);
    uint64_t vs = bench_make(PITH_OBJ_VSPACE, 0, 1), cn = bench_make(PITH_OBJ_CNODE, 10, 1);
    /* One page table covers the 512 pages (TARGET is 2 MiB aligned): PDPT, PD and PT. */
    for (int i = 0; i < 3; i++) {
        long err = pith_invoke4(bench_make(PITH_OBJ_PAGE_TABLE, 0, 1), PITH_PAGE_TABLE_MAP, vs, TARGET, 0, 0);
        if (err)
            bench_die("page table", err);
    }
    map_figure(frames, vs, cn, 1);
    map_figure(frames, vs, cn, PITH_MAP_MAX_PAGES);
}

/* ---- faults served by the memory manager ---- */

static volatile uint64_t fault_samples_taken;
static uint64_t go, done;
static volatile int writes_copy;

/* The client's thread: on each signal, writes the first word of each page of a batch, timing each. */
static void toucher(uint64_t unused)
{
    (void)unused;
    struct pith_msg m = { 0 };
    for (;;) {
        pith_syscall(PITH_SYS_RECV, go, &m, 0);
        uint64_t base = writes_copy ? COPY : REGION;
        for (uint64_t i = 0; i < BATCH; i++) {
            volatile uint64_t *p = (volatile uint64_t *)(base + i * 4096);
            uint64_t t0 = bench_clock();
            *p = i + 1;
            uint64_t t1 = bench_clock();
            if (fault_samples_taken < FAULT_ITERS)
                samples[fault_samples_taken++] = t1 - t0;
        }
        pith_signal(done);
    }
}

static uint64_t thread(uint64_t fault_ep, uint64_t stack_va)
{
    uint64_t tcb = bench_make(PITH_OBJ_TCB, 0, 1), stack = bench_make(PITH_OBJ_FRAME, 0, 1);
    long err;
    if ((err = pith_map_page(stack, stack_va, RW, 0)) ||
        (err = pith_invoke4(tcb, PITH_TCB_CONFIGURE, PITH_SLOT_CSPACE, PITH_SLOT_VSPACE, 0, fault_ep)) ||
        (err = pith_invoke4(tcb, PITH_TCB_SET_PRIORITY, 150, 150, 0, 0)) ||
        (err = pith_invoke4(tcb, PITH_TCB_WRITE_REGISTERS, (uint64_t)toucher, stack_va + 0x1000 - 8, 0, 0)) ||
        (err = pith_invoke4(tcb, PITH_TCB_RESUME, 0, 0, 0, 0)))
        bench_die("thread", err);
    return tcb;
}


/* Runs batches until FAULT_ITERS samples are taken; cow: each batch writes a fresh copy-on-write copy. */
static void fault_figure(struct pith_client *c, bool cow, int iters)
{
    struct pith_msg m = { 0 };
    fault_samples_taken = 0;
    writes_copy = cow;
    while (fault_samples_taken < (uint64_t)iters) {
        long err = mem_anon(c, REGION, BATCH);
        if (!err && cow) {
            /* Fill the original (faults not timed), then copy it. */
            writes_copy = 0;
            uint64_t taken = fault_samples_taken;
            fault_samples_taken = FAULT_ITERS;
            pith_signal(go);
            pith_syscall(PITH_SYS_RECV, done, &m, 0);
            fault_samples_taken = taken;
            writes_copy = 1;
            err = mem_cow(c, REGION, COPY);
        }
        if (err)
            bench_die("mem request", err);
        pith_signal(go);
        pith_syscall(PITH_SYS_RECV, done, &m, 0);
        if ((err = mem_free(c, REGION)) || (cow && (err = mem_free(c, COPY))))
            bench_die("mem free", err);
    }
}

static void faults(void)
{
    static struct mem_state st;
    static uint64_t owner_ep, client_ep;
    long err;
    bench_manager_start(&st, 22, WINDOW, STACK, &owner_ep);
    struct pith_resolver owner_r = { bench_lookup, &owner_ep }, client_r = { bench_lookup, &client_ep };
    struct pith_client owner, client;
    struct pith_ipc_buffer *buf = (struct pith_ipc_buffer *)PITH_IPC_BUFFER_ADDR;
    pith_client_init(&owner, "owner", &owner_r, pith_slot_alloc(), buf);
    uint64_t space = pith_slot_alloc();
    uint32_t id;
    client_ep = pith_slot_alloc();
    if ((err = pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, space, PITH_SLOT_VSPACE, PITH_RIGHTS_ALL, 0)) ||
        (err = mem_client_new(&owner, space, 4 * BATCH, &id, client_ep)))
        bench_die("memory client", err);
    pith_client_init(&client, "client", &client_r, pith_slot_alloc(), buf);
    go = bench_make(PITH_OBJ_NOTIFICATION, 0, 1);
    done = bench_make(PITH_OBJ_NOTIFICATION, 0, 1);
    thread(client_ep, STACK + 0x10000);
    fault_figure(&client, false, FAULT_ITERS);
    report("pagefault_rtt", FAULT_ITERS);
    fault_figure(&client, true, MAP_ITERS * 2);
    report("cow_fault", MAP_ITERS * 2);
}

void mm_bench(const char *u)
{
    unit = u;
    map_unmap();
    faults();
    image_bench(u);
    exo_bench(u);
}
