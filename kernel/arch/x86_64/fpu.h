/*
 * User FPU/SSE/AVX state: saved eagerly on every thread switch (XSAVE, or
 * FXSAVE without it), into the 3 KiB area of the TCB.  The kernel itself
 * is compiled without SIMD, so it never disturbs the user state.
 */
#ifndef PITH_ARCH_FPU_H
#define PITH_ARCH_FPU_H

#include <stdbool.h>
#include <stdint.h>

struct tcb;

void fpu_init(void);                /* chooses the state components; sets up this CPU */
void fpu_init_cpu(void);            /* CR0/CR4/XCR0 on each further CPU */
void fpu_init_state(struct tcb *t); /* a new thread's clean state */
uint64_t fpu_xcr0(void);            /* 0 when XSAVE is not used */

/* Inline: they are on every thread switch, the IPC fast path's included. */
extern uint64_t fpu_xcr0_value;

static inline void fpu_save_area(void *a)
{
    uint64_t x = fpu_xcr0_value;
    if (x)
        __asm__ volatile("xsave64 (%0)" : : "r"(a), "a"((uint32_t)x), "d"((uint32_t)(x >> 32)) : "memory");
    else
        __asm__ volatile("fxsave64 (%0)" : : "r"(a) : "memory");
}

static inline void fpu_restore_area(void *a)
{
    uint64_t x = fpu_xcr0_value;
    if (x)
        __asm__ volatile("xrstor64 (%0)" : : "r"(a), "a"((uint32_t)x), "d"((uint32_t)(x >> 32)) : "memory");
    else
        __asm__ volatile("fxrstor64 (%0)" : : "r"(a) : "memory");
}
/* One thread's state out (if any), another's in: the common switch, XCR0 read once. */
static inline void fpu_switch_area(void *out, void *in)
{
    uint64_t x = fpu_xcr0_value;
    if (!x) {
        if (out)
            __asm__ volatile("fxsave64 (%0)" : : "r"(out) : "memory");
        __asm__ volatile("fxrstor64 (%0)" : : "r"(in) : "memory");
        return;
    }
    uint32_t lo = (uint32_t)x, hi = (uint32_t)(x >> 32);
    if (out)
        __asm__ volatile("xsave64 (%0)" : : "r"(out), "a"(lo), "d"(hi) : "memory");
    __asm__ volatile("xrstor64 (%0)" : : "r"(in), "a"(lo), "d"(hi) : "memory");
}

uint32_t fpu_area_size(void);
void fpu_mark_present(struct tcb *t, uint64_t components);  /* XSAVE's header: these were written */
/* The upper halves of YMM0-15 in a stopped thread's saved state (PITH_TCB_*_ALL_REGISTERS). */
bool fpu_avx_kept(void);
void fpu_read_avx(struct tcb *t, uint8_t out[256]);
void fpu_write_avx(struct tcb *t, const uint8_t in[256]);

#endif
