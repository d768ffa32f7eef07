/*
 * TSC and APIC-timer calibration.  The TSC frequency comes from CPUID
 * leaf 0x15 (or 0x16) when the CPU reports it; otherwise it is measured,
 * with the APIC timer's rate, against the HPET when ACPI lists one, and
 * against the PIT when not.  QEMU under TCG offers neither leaf, and q35
 * has an HPET, so the HPET path is the one tested (decision 0005).  Under
 * icount both references run on virtual time, one nanosecond per
 * instruction, so the TSC measures 1000 MHz.
 */
#include "arch/x86_64/time.h"
#include "arch/x86_64/acpi.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "core/log.h"
#include "core/panic.h"
#include "lib/muldiv.h"

#define PIT_HZ          1193182u
#define PIT_CH2         0x42
#define PIT_CMD         0x43
#define PIT_GATE        0x61
#define CALIB_MS        10
#define CALIB_ROUNDS    3

#define HPET_CAP        0x000           /* bits 63:32 the period in fs; bit 13 a 64-bit counter */
#define HPET_CONF       0x010           /* bit 0: the main counter runs */
#define HPET_COUNTER    0x0F0
#define HPET_MAX_FS     100000000ull    /* the specification's slowest: 10 MHz */
#define HPET_MIN_NS     100000ull       /* the window: at least 100 us ... */
#define HPET_MAX_NS     20000000ull     /* ... at most 20 ms */
#define HPET_PPM        100             /* ... until the reads' uncertainty (TSC and APIC timer) is within this */
#define FS_PER_S        1000000000000000ull

uint64_t tsc_hz_value;                 /* tsc_hz() */
static uint64_t boot_tsc;                   /* the monotonic clock's zero */
static const char *source = "none";
static uint32_t uncertainty_ppm;           /* of a measured frequency (0: from CPUID) */

const char *tsc_source(void) { return source; }
uint32_t tsc_uncertainty_ppm(void) { return uncertainty_ppm; }

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

/* The PIT's measure: best of a few 10 ms rounds (the shortest is the one least disturbed by the host). */
void time_measure_pit(uint64_t *tsc, uint64_t *apic)
{
    uint64_t best_tsc = UINT64_MAX;
    uint32_t best_apic = 0;
    for (int i = 0; i < CALIB_ROUNDS; i++) {
        uint32_t a;
        uint64_t t = pit_measure(&a);
        if (t < best_tsc) {
            best_tsc = t;
            best_apic = a;
        }
    }
    uint64_t pit_ticks = PIT_HZ / (1000 / CALIB_MS);
    *tsc = best_tsc * PIT_HZ / pit_ticks;
    *apic = (uint64_t)best_apic * PIT_HZ / pit_ticks;
}

/* One reading of the HPET and the APIC timer, bracketed by the TSC; the narrowest bracket of a few tries. */
struct hpet_sample {
    uint64_t tsc, width, count;
    uint32_t apic;
};

static struct hpet_sample hpet_sample(volatile uint64_t *hpet)
{
    struct hpet_sample best = { .width = UINT64_MAX };
    for (int i = 0; i < 4; i++) {
        uint64_t t0 = rdtsc();
        uint64_t c = hpet[HPET_COUNTER / 8];
        uint32_t a = apic_timer_current();
        uint64_t t1 = rdtsc();
        if (t1 - t0 < best.width)
            best = (struct hpet_sample){ .tsc = t0 + (t1 - t0) / 2, .width = t1 - t0, .count = c, .apic = a };
    }
    return best;
}

/*
 * The HPET's measure: one window, from a reading to a reading.  Only the
 * two readings' brackets are uncertain (the host may stop the CPU inside
 * the window without harm, as both clocks run on), so the window lasts
 * until their uncertainty and the HPET's one-count resolution (and, for
 * the APIC timer's rate, one count of it) are within HPET_PPM: about
 * 0.37 ms under QEMU.  Returns false when the HPET is unusable.
 */
static bool hpet_calibrate(uint64_t *tsc, uint64_t *apic)
{
    volatile uint64_t *hpet = paging_map_mmio(acpi.hpet.base, PAGE_SIZE);
    uint64_t cap = hpet[HPET_CAP / 8];
    uint64_t period_fs = cap >> 32;
    if (period_fs == 0 || period_fs > HPET_MAX_FS) {
        kprintf("time: the HPET's period of %lu fs is out of range; calibrating against the PIT\n", period_fs);
        return false;
    }
    uint64_t mask = (cap & (1u << 13)) ? UINT64_MAX : UINT32_MAX;
    uint64_t conf = hpet[HPET_CONF / 8];
    hpet[HPET_CONF / 8] = conf | 1;
    apic_timer_start_count();
    struct hpet_sample a = hpet_sample(hpet), b = a;
    uint64_t fs = 0, dt = 0;
    bool ok = false;
    /* Bounded: a counter that has not moved in a million readings is not running. */
    for (uint64_t polls = 0; polls < 100000000ull && (polls < 1000000 || b.count != a.count); polls++) {
        b = hpet_sample(hpet);
        fs = ((b.count - a.count) & mask) * period_fs;
        dt = b.tsc - a.tsc;
        if (fs >= HPET_MIN_NS * 1000000 && dt > 0) {
            /* Parts per million: half of each bracket, and one count of the HPET. */
            uint64_t ppm = muldiv64((a.width + b.width) / 2, 1000000, dt) + muldiv64(period_fs, 1000000, fs) + 1;
            /* The APIC timer's rate, from the same readings, is one of its counts less sure. */
            uint32_t counts = a.apic - b.apic;
            uint64_t apic_ppm = ppm + (counts ? 1000000 / counts : 1000000);
            if (apic_ppm <= HPET_PPM || fs >= HPET_MAX_NS * 1000000) {
                uncertainty_ppm = (uint32_t)(ppm < UINT32_MAX ? ppm : UINT32_MAX);
                ok = true;
                break;
            }
        }
    }
    hpet[HPET_CONF / 8] = conf;         /* as the firmware left it */
    if (!ok) {
        kprintf("time: the HPET did not count; calibrating against the PIT\n");
        return false;
    }
    *tsc = muldiv64(dt, FS_PER_S, fs);
    *apic = muldiv64(a.apic - b.apic, FS_PER_S, fs);
    source = "HPET";
    return true;
}

void time_init(void)
{
    boot_tsc = rdtsc();
    uint64_t measured = 0, apic_hz = 0;
    if (!acpi.hpet_found || !hpet_calibrate(&measured, &apic_hz)) {
        time_measure_pit(&measured, &apic_hz);
        /* Polling OUT2 through a port costs about a microsecond a read on hardware: 1 us in 10 ms. */
        uncertainty_ppm = 1000000 / (CALIB_MS * 1000);
        source = "PIT";
    }
    tsc_hz_value = measured;
    if (cpu.tsc_den && cpu.tsc_num && cpu.crystal_hz) {
        tsc_hz_value = (uint64_t)cpu.crystal_hz * cpu.tsc_num / cpu.tsc_den;
        source = "CPUID 0x15";
        uncertainty_ppm = 0;
    } else if (cpu.base_mhz) {
        tsc_hz_value = (uint64_t)cpu.base_mhz * 1000000u;
        source = "CPUID 0x16";
        uncertainty_ppm = 0;
    }
    if (tsc_hz_value == 0)
        panic("time: TSC frequency measured as zero");
    apic_timer_set_hz(apic_hz);
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
