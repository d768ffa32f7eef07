/* The benchmark files' shared helpers (bench.h). */
#include "bench.h"
#include "pith.h"
#include "stats.h"
#include "memserver.h"

void bench_report(const char *name, uint64_t *samples, int n, const char *unit)
{
    bench_sort(samples, n);
    printf("bench pith.%s median=%lu min=%lu max=%lu unit=%s iters=%d\n", name, samples[n / 2], samples[0],
           samples[n - 1], unit, n);
}

void bench_die(const char *what, long err)
{
    printf("bench: %s failed: %ld\n", what, err);
    pith_shutdown(0);
}

uint64_t bench_make(uint8_t type, uint32_t bits, uint64_t count)
{
    uint64_t slot = count == 1 ? pith_slot_alloc() : pith_slot_alloc_range(count);
    long err = pith_invoke4(pith_biggest_untyped(), PITH_UNTYPED_RETYPE, type | (uint64_t)bits << 8,
                            PITH_SLOT_CSPACE, slot, count);
    if (err)
        bench_die("retype", err);
    return slot;
}

long bench_lookup(void *ctx, const char *name, uint64_t dest)
{
    (void)name;
    return pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, dest, *(uint64_t *)ctx, PITH_RIGHTS_ALL, 0);
}

void bench_manager_start(struct mem_state *st, uint32_t bits, uint64_t window, uint64_t stack, uint64_t *owner_ep)
{
    uint64_t memory = pith_slot_alloc(), tcb = 0;
    long err = pith_invoke4(pith_biggest_untyped(), PITH_UNTYPED_RETYPE, PITH_OBJ_UNTYPED | (uint64_t)bits << 8,
                            PITH_SLOT_CSPACE, memory, 1);
    struct mem_start a = { .untyped = pith_biggest_untyped(), .memory = memory, .stack = stack,
                           .window = window, .priority = 200,
                           .time = (const struct pith_time_page *)pith_bootinfo->time_page };
    if (err || (err = mem_start(st, &a, owner_ep, &tcb)))
        bench_die("memory manager", err);
}
