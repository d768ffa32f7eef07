/*
 * The CMOS real-time clock (ports 0x70-0x71): seconds since 1970, read
 * once by the servers that keep wall-clock time (the file server's
 * timestamps, the POSIX personality's CLOCK_REALTIME) and then advanced
 * by the monotonic clock.  The caller's thread must hold the ports.
 */
#include "pith.h"

#include <stdbool.h>

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

long pith_rtc_seconds(uint64_t *seconds)
{
    unsigned s = 0, mi = 0, h = 0, d = 0, mo = 0, y = 0;
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
    mo = from_bcd(mo, bcd);
    d = from_bcd(d, bcd);
    if (mo < 1 || mo > 12 || d < 1 || d > 31)
        return PITH_E_INVALID_ARG;
    *seconds = days_since_epoch(2000 + from_bcd(y, bcd), mo, d) * 86400 + h * 3600 + from_bcd(mi, bcd) * 60 +
               from_bcd(s, bcd);
    return PITH_OK;
}
