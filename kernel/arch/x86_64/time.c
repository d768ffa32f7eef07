/*
 * TSC and APIC-timer calibration.  The TSC frequency comes from CPUID
 * leaf 0x15 (or 0x16) when the CPU reports it, and otherwise from the PIT:
 * channel 2 counts down a known interval while we read the TSC and the
 * APIC timer.  QEMU under TCG offers neither leaf, so the PIT path is the
 * tested one.  Under icount the PIT runs on virtual time, one nanosecond
 * per instruction, so the TSC measures 1000 MHz exactly.
 */
#include "arch/x86_64/time.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "core/panic.h"
#include "lib/muldiv.h"

#define PIT_HZ          1193182u
#define PIT_CH2         0x42
#define PIT_CMD         0x43
#define PIT_GATE        0x61
#define CALIB_MS        10
#define CALIB_ROUNDS    3

uint64_t tsc_hz_value;                 /* tsc_hz() */
static uint64_t boot_tsc;                   /* the monotonic clock's zero */
static const char *source = "none";

const char *tsc_source(void) { return source; }

uint64_t ns_to_tsc(uint64_t ns)
{
    return muldiv64(ns, tsc_hz_value, 1000000000u);
}

uint64_t tsc_to_ns(uint64_t ticks)
{
    return muldiv64(ticks, 1000000000u, tsc_hz_value);
}

void delay_ns(uint64_t ns)
{
    uint64_t end = rdtsc() + ns_to_tsc(ns);
    while (rdtsc() < end)
        cpu_relax();
}

/* One PIT interval: returns TSC ticks and sets *apic_ticks. */
static uint64_t pit_measure(uint32_t *apic_ticks)
{
    uint16_t latch = (uint16_t)(PIT_HZ / (1000 / CALIB_MS));
    outb(PIT_GATE, (uint8_t)((inb(PIT_GATE) & ~0x02) | 0x01));  /* gate on, speaker off */
    outb(PIT_CMD, 0xB0);                                        /* ch 2, lo/hi, mode 0 */
    outb(PIT_CH2, latch & 0xff);
    outb(PIT_CH2, latch >> 8);
    apic_timer_start_count();
    uint32_t a0 = apic_timer_current();
    uint64_t t0 = rdtsc();
    uint64_t polls = 0;
    while (!(inb(PIT_GATE) & 0x20)) {                           /* OUT2 goes high at zero */
        if (++polls > 100000000ull)
            panic("time: the PIT never counted down; cannot calibrate the TSC");
    }
    uint64_t t1 = rdtsc();
    *apic_ticks = a0 - apic_timer_current();
    return t1 - t0;
}

void time_init(void)
{
    boot_tsc = rdtsc();
    uint64_t best_tsc = UINT64_MAX;
    uint32_t best_apic = 0;
    /* The shortest of a few rounds is the one least disturbed by the host. */
    for (int i = 0; i < CALIB_ROUNDS; i++) {
        uint32_t a;
        uint64_t t = pit_measure(&a);
        if (t < best_tsc) {
            best_tsc = t;
            best_apic = a;
        }
    }
    uint64_t pit_ticks = PIT_HZ / (1000 / CALIB_MS);
    tsc_hz_value = best_tsc * PIT_HZ / pit_ticks;
    source = "PIT";
    if (cpu.tsc_den && cpu.tsc_num && cpu.crystal_hz) {
        tsc_hz_value = (uint64_t)cpu.crystal_hz * cpu.tsc_num / cpu.tsc_den;
        source = "CPUID 0x15";
    } else if (cpu.base_mhz) {
        tsc_hz_value = (uint64_t)cpu.base_mhz * 1000000u;
        source = "CPUID 0x16";
    }
    if (tsc_hz_value == 0)
        panic("time: TSC frequency measured as zero");
    apic_timer_set_hz((uint64_t)best_apic * PIT_HZ / pit_ticks);
}

/* The user-readable clock (include/pith/time.h): rounded up, it never runs behind the kernel's. */
void time_page_fill(struct pith_time_page *t)
{
    t->magic = PITH_TIME_MAGIC;
    t->version = PITH_TIME_VERSION;
    t->tsc_hz = tsc_hz_value;
    t->tsc_base = boot_tsc;
    t->ns_mult = ((1000000000ull << 32) + tsc_hz_value - 1) / tsc_hz_value;     /* fits: 1e9 << 32 < 2^62 */
}
