/*
 * User FPU/SSE/AVX state: saved eagerly on every thread switch (XSAVE, or
 * FXSAVE without it), into the 3 KiB area of the TCB.  The kernel itself
 * is compiled without SIMD, so it never disturbs the user state.
 */
#ifndef PITH_ARCH_FPU_H
#define PITH_ARCH_FPU_H

#include <stdint.h>

struct tcb;

void fpu_init(void);                /* CR0/CR4/XCR0 on this CPU */
void fpu_init_state(struct tcb *t); /* a new thread's clean state */
void fpu_save(struct tcb *t);
void fpu_restore(struct tcb *t);
uint64_t fpu_xcr0(void);            /* 0 when XSAVE is not used */
uint32_t fpu_area_size(void);

#endif
