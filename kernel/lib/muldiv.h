/* a * b / c without overflow in the product, for clock conversions (no 128-bit libgcc calls). */
#ifndef PITH_LIB_MULDIV_H
#define PITH_LIB_MULDIV_H

#include <stdint.h>

/* The quotient must fit in 64 bits; callers keep their inputs in range. */
static inline uint64_t muldiv64(uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t hi, lo, q, r;
    __asm__("mulq %3" : "=a"(lo), "=d"(hi) : "a"(a), "rm"(b));
    if (hi >= c)
        return UINT64_MAX;              /* would not fit: saturate rather than trap */
    __asm__("divq %4" : "=a"(q), "=d"(r) : "a"(lo), "d"(hi), "rm"(c));
    (void)r;
    return q;
}

#endif
