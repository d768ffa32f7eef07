#include "bench.h"
#include "stats.h"
#include "arch/x86_64/acpi.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/time.h"
#include "arch/x86_64/trap.h"
#include "core/boot.h"
#include "core/log.h"

#define WARMUP 1000
#define ITERS  10000

static uint64_t samples[BENCH_MAX_SAMPLES];

static const char *unit(void)
{
    return cmdline_is("clock", "icount") ? "insns" : "cycles";
}

void bench_report(const char *name, uint64_t *s, int n)
{
    bench_sort(s, n);
    kprintf("bench pith.%s median=%lu min=%lu max=%lu unit=%s iters=%d\n",
            name, s[n / 2], s[0], s[n - 1], unit(), n);
}

/* The empty bracket: what every other figure includes. */
static void bench_clock_overhead(void)
{
    for (int i = 0; i < WARMUP + ITERS; i++) {
        uint64_t t0 = bench_clock();
        uint64_t t1 = bench_clock();
        if (i >= WARMUP)
            samples[i - WARMUP] = t1 - t0;
    }
    bench_report("tsc_overhead", samples, ITERS);
}

/* A kernel exception and back: int3, the trap path, the extable fixup, iretq. */
static void bench_trap_rtt(void)
{
    for (int i = 0; i < WARMUP + ITERS; i++) {
        uint64_t t0 = bench_clock();
        probe_int3();
        uint64_t t1 = bench_clock();
        if (i >= WARMUP)
            samples[i - WARMUP] = t1 - t0;
    }
    bench_report("kernel_trap_rtt", samples, ITERS);
}

void bench_run_all(uint64_t tsc_at_banner)
{
    kprintf("bench-cpu model=\"%s\" tsc_mhz=%lu cpus=%d\n", cpu.brand,
            (tsc_hz() + 500000) / 1000000, acpi.madt_found ? acpi.madt.ncpus : 1);
    /* One boot, one sample: the script boots several times for a spread. */
    kprintf("bench-sample pith.boot_to_banner %lu %s\n", tsc_at_banner, unit());
    bench_clock_overhead();
    bench_trap_rtt();
    kprintf("bench-done\n");
}
