/*
 * Kernel micro-benchmarks, compiled into the kernel and run at boot when
 * the command line says "bench".  Each figure is printed in the format of
 * docs/benchmarks.md:
 *     bench pith.NAME median=N min=N max=N unit=UNIT iters=N
 * UNIT is insns under QEMU's icount mode (the TSC counts instructions),
 * cycles otherwise.
 */
#ifndef PITH_BENCH_H
#define PITH_BENCH_H

#include <stdint.h>

#define BENCH_MAX_SAMPLES 20000

/* Sorts samples[0..n) and prints the figure. */
void bench_report(const char *name, uint64_t *samples, int n);
void bench_run_all(uint64_t tsc_at_banner);

static inline uint64_t bench_clock(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi) :: "memory");
    return ((uint64_t)hi << 32) | lo;
}

#endif
