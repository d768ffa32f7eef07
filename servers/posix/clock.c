/*
 * Time and randomness for Linux programs.  The monotonic clock is the
 * kernel's time page; the real-time clock is the CMOS clock (ports
 * 0x70-0x71, the manifest's ports=, as the file server reads it) read
 * once at start, then advanced by the monotonic clock.  Random bytes mix
 * RDRAND, where the CPU has it, with the TSC through a 64-bit mixer.
 */
#include "personality.h"
#include "process.h"
#include "tls.h"

#include <stdio.h>
#include <string.h>

static uint64_t base_seconds, base_ns;

void clock_start(void)
{
    base_ns = pith_clock_ns(time_page);
    if (pith_invoke4(pith_tls_self()->tcb, PITH_TCB_SET_IO_PORTS, 0, PITH_SLOT_IO_PORTS, 0, 0)) {
        printf("posix: no CMOS clock ports: the real-time clock counts from boot\n");
        return;
    }
    if (pith_rtc_seconds(&base_seconds))
        printf("posix: the CMOS clock reads nonsense: the real-time clock counts from boot\n");
    pith_invoke4(pith_tls_self()->tcb, PITH_TCB_SET_IO_PORTS, 0, 0, 0, 0);
}

/* Both are fixed at start, so the real-time clock is the monotonic clock plus one offset (the vDSO's too). */
uint64_t clock_real_offset(void)
{
    return base_seconds * 1000000000ull - base_ns;
}

uint64_t clock_realtime_ns(void)
{
    return pith_clock_ns(time_page) + clock_real_offset();
}

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static bool have_rdrand(void)
{
    uint32_t a = 1, b, c = 0, d;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    return c & (1u << 30);
}

void random_bytes(void *dst, size_t n)
{
    static uint64_t state;
    static int rdrand = -1;
    if (rdrand < 0)
        rdrand = have_rdrand();
    for (size_t at = 0; at < n; at += 8) {
        uint64_t hw = 0;
        unsigned char ok = 0;
        if (rdrand)
            __asm__ volatile("rdrand %0; setc %1" : "=r"(hw), "=qm"(ok));
        state = mix(state ^ pith_rdtsc() ^ (ok ? hw : 0));
        memcpy((char *)dst + at, &state, n - at < 8 ? n - at : 8);
    }
}
