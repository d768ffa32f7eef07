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

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static unsigned cmos(uint8_t reg)
{
    outb(0x70, reg);
    return inb(0x71);
}

static unsigned from_bcd(unsigned v, bool bcd) { return bcd ? (v & 15) + (v >> 4) * 10 : v; }

static uint64_t days_since_epoch(unsigned y, unsigned m, unsigned d)
{
    static const unsigned before[12] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };
    uint64_t days = (uint64_t)(y - 1970) * 365 + (y - 1969) / 4 - (y - 1901) / 100 + (y - 1601) / 400;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return days + before[m - 1] + (leap && m > 2) + d - 1;
}

void clock_start(void)
{
    base_ns = pith_clock_ns(time_page);
    if (pith_invoke4(pith_tls_self()->tcb, PITH_TCB_SET_IO_PORTS, 0, PITH_SLOT_IO_PORTS, 0, 0)) {
        printf("posix: no CMOS clock ports: the real-time clock counts from boot\n");
        return;
    }
    unsigned s = 0, mi = 0, h = 0, d = 0, mo = 0, y = 0;
    for (int tries = 0; tries < 1000; tries++) {
        while (cmos(0x0a) & 0x80)
            ;
        s = cmos(0), mi = cmos(2), h = cmos(4), d = cmos(7), mo = cmos(8), y = cmos(9);
        if (s == cmos(0) && mi == cmos(2) && h == cmos(4) && d == cmos(7) && mo == cmos(8) && y == cmos(9))
            break;
    }
    unsigned b = cmos(0x0b);
    bool bcd = !(b & 4), pm = !(b & 2) && (h & 0x80);
    h = from_bcd(h & 0x7f, bcd);
    if (pm)
        h = (h % 12) + 12;
    mo = from_bcd(mo, bcd);
    d = from_bcd(d, bcd);
    if (mo < 1 || mo > 12 || d < 1 || d > 31) {
        printf("posix: the CMOS clock reads nonsense: the real-time clock counts from boot\n");
        return;
    }
    base_seconds = days_since_epoch(2000 + from_bcd(y, bcd), mo, d) * 86400 + h * 3600 + from_bcd(mi, bcd) * 60 +
                   from_bcd(s, bcd);
    pith_invoke4(pith_tls_self()->tcb, PITH_TCB_SET_IO_PORTS, 0, 0, 0, 0);
}

uint64_t clock_realtime_ns(void)
{
    return base_seconds * 1000000000ull + (pith_clock_ns(time_page) - base_ns);
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
