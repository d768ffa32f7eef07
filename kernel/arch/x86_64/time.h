/* Time: the TSC as the clock, its frequency from CPUID or measured against the HPET or the PIT. */
#ifndef PITH_ARCH_TIME_H
#define PITH_ARCH_TIME_H

#include <stdint.h>
#include <pith/time.h>

void time_init(void);
/* The fallback measure (best of three 10 ms PIT rounds), in Hz; a test compares it with the HPET's. */
void time_measure_pit(uint64_t *tsc_hz, uint64_t *apic_hz);
extern uint64_t tsc_hz_value;
static inline uint64_t tsc_hz(void) { return tsc_hz_value; }
const char *tsc_source(void);
uint32_t tsc_uncertainty_ppm(void);      /* of a measured frequency; 0: from CPUID */
uint64_t ns_to_tsc(uint64_t ns);
uint64_t tsc_to_ns(uint64_t ticks);
void delay_ns(uint64_t ns);
void time_page_fill(struct pith_time_page *t);

#endif
