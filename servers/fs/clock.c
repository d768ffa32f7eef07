/*
 * Wall-clock time for timestamps: the CMOS real-time clock (I/O ports
 * 0x70-0x71, the manifest's ports=) read once at start, then advanced by
 * the kernel's monotonic clock, so requests never touch the slow CMOS.
 * Without the ports the clock starts at the epoch (timestamps are then
 * seconds since boot) and says so.
 */
#include "volume.h"
#include "process.h"

#include <stdio.h>

#define TIME_PAGE ((const struct pith_time_page *)pith_bootinfo->time_page)

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

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), for y >= 1970. */
static uint64_t days_since_epoch(unsigned y, unsigned m, unsigned d)
{
    static const unsigned before[12] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };
    uint64_t days = (uint64_t)(y - 1970) * 365 + (y - 1969) / 4 - (y - 1901) / 100 + (y - 1601) / 400;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return days + before[m - 1] + (leap && m > 2) + d - 1;
}

void clock_start(void)
{
    base_ns = pith_clock_ns(TIME_PAGE);
    if (pith_invoke4(pith_tls_self()->tcb, PITH_TCB_SET_IO_PORTS, 0, PITH_SLOT_IO_PORTS, 0, 0)) {
        printf("fs: no CMOS clock ports: timestamps count from boot\n");
        return;
    }
    unsigned s, mi, h, d, mo, y;
    /* Read twice until equal, waiting out an update in progress: a torn read could be an hour off. */
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
    unsigned year = 2000 + from_bcd(y, bcd);
    mo = from_bcd(mo, bcd);
    d = from_bcd(d, bcd);
    if (mo < 1 || mo > 12 || d < 1 || d > 31) {
        printf("fs: the CMOS clock reads nonsense: timestamps count from boot\n");
        return;
    }
    base_seconds = days_since_epoch(year, mo, d) * 86400 + h * 3600 + from_bcd(mi, bcd) * 60 + from_bcd(s, bcd);
}

uint32_t clock_now(void)
{
    return (uint32_t)(base_seconds + (pith_clock_ns(TIME_PAGE) - base_ns) / 1000000000ull);
}
