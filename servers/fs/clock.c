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

void clock_start(void)
{
    base_ns = pith_clock_ns(TIME_PAGE);
    if (pith_invoke4(pith_tls_self()->tcb, PITH_TCB_SET_IO_PORTS, 0, PITH_SLOT_IO_PORTS, 0, 0)) {
        printf("fs: no CMOS clock ports: timestamps count from boot\n");
        return;
    }
    if (pith_rtc_seconds(&base_seconds))
        printf("fs: the CMOS clock reads nonsense: timestamps count from boot\n");
    pith_invoke4(pith_tls_self()->tcb, PITH_TCB_SET_IO_PORTS, 0, 0, 0, 0);   /* never read again */
}

uint32_t clock_now(void)
{
    return (uint32_t)(base_seconds + (pith_clock_ns(TIME_PAGE) - base_ns) / 1000000000ull);
}
