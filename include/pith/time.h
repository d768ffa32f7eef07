/*
 * The time page: a page the kernel fills once at boot and gives init
 * read-only (slot PITH_SLOT_TIME, mapped at bootinfo->time_page).  Any
 * thread that maps it reads the monotonic clock without a system call:
 * the TSC is invariant, so the conversion below never changes and the
 * kernel never writes the page again (no sequence lock is needed).
 * Nanoseconds count from the kernel's start; sleeps and timeouts use the
 * same clock.
 */
#ifndef PITH_TIME_H
#define PITH_TIME_H

#include <stdint.h>

#define PITH_TIME_MAGIC     0x454d495448544950ull   /* "PITHTIME" */
#define PITH_TIME_VERSION   1

struct pith_time_page {
    uint64_t magic;             /* PITH_TIME_MAGIC */
    uint32_t version;           /* PITH_TIME_VERSION */
    uint32_t pad;
    uint64_t tsc_hz;            /* TSC ticks per second */
    uint64_t tsc_base;          /* the TSC at the clock's zero */
    uint64_t ns_mult;           /* nanoseconds per tick, times 2^32 (rounded up) */
};

/* Nanoseconds since the clock's zero at TSC value `tsc`. */
static inline uint64_t pith_time_ns(const struct pith_time_page *t, uint64_t tsc)
{
    return (uint64_t)(((unsigned __int128)(tsc - t->tsc_base) * t->ns_mult) >> 32);
}

#endif
