/*
 * What the user-level benchmark files share: printing a figure in the
 * `bench` line format, giving up on a failed set-up, making objects, and
 * starting a memory manager of their own.
 */
#ifndef BENCH_USER_BENCH_H
#define BENCH_USER_BENCH_H

#include <stdint.h>

struct mem_state;

/* Sorts samples[0..n) and prints "bench pith.NAME median= min= max= unit= iters=". */
void bench_report(const char *name, uint64_t *samples, int n, const char *unit);
/* Says what failed and ends the run. */
void bench_die(const char *what, long err);
/* count objects of a type (bits: their size, where it has one) from the biggest untyped, in consecutive slots. */
uint64_t bench_make(uint8_t type, uint32_t bits, uint64_t count);
/* A resolver's lookup that hands out a copy of the endpoint in *(uint64_t *)ctx, whatever the name. */
long bench_lookup(void *ctx, const char *name, uint64_t dest);
/* A memory manager over 2^bits bytes, a thread of ours (pool at window, stack at stack); owner endpoint: *owner_ep. */
void bench_manager_start(struct mem_state *st, uint32_t bits, uint64_t window, uint64_t stack, uint64_t *owner_ep);

static inline uint64_t bench_clock(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi) :: "memory");
    return ((uint64_t)hi << 32) | lo;
}

/* The extension figures (ext.c): an IPC answered in the kernel and at user level. */
void ext_bench(const char *unit);

/* The memory figures (mm.c, image.c). */
void mm_bench(const char *unit);
void image_bench(const char *unit);
/* Visible revocation of bound frames, cooperative and forced (exo.c). */
void exo_bench(const char *unit);

#endif
