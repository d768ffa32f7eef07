/*
 * The page the vDSO reads (vdso.c beside this; servers/posix/vdso.c fills
 * it): the personality writes it once, at its start, before any Linux
 * process runs, and every process maps it read-only just below the vDSO's
 * image.  It holds the kernel's time page as it is (the kernel never
 * writes that again: include/pith/time.h) and the real-time clock's
 * offset from the monotonic clock, so the vDSO's clocks are the server's
 * to the nanosecond (time.c, clock.c).  Nothing else is in it.
 */
#ifndef POSIX_VDSO_H
#define POSIX_VDSO_H

#include <pith/time.h>

#include <stdint.h>

struct vdso_data {
    struct pith_time_page time;         /* a copy of the kernel's time page */
    uint64_t real_offset;               /* CLOCK_REALTIME - CLOCK_MONOTONIC in ns, modulo 2^64 */
};

#endif
