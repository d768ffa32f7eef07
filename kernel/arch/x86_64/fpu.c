/*
 * XCR0 enables x87, SSE and AVX when present, but only state components
 * that fit the TCB's 3 KiB area (AVX-512's 2.5 KiB more would not), so
 * the area size is checked against CPUID leaf 0xD at boot.
 */
#include "arch/x86_64/fpu.h"
#include "arch/x86_64/cpu.h"
#include "core/panic.h"
#include "lib/string.h"
#include "object/tcb.h"

#define CR0_MP          (1ul << 1)
#define CR0_EM          (1ul << 2)
#define CR0_TS          (1ul << 3)
#define CR0_NE          (1ul << 5)
#define CR4_OSXMMEXCPT  (1ul << 10)
#define CR4_OSXSAVE     (1ul << 18)
#define XCR0_X87        1u
#define XCR0_SSE        2u
#define XCR0_AVX        4u

uint64_t fpu_xcr0_value;
#define xcr0 fpu_xcr0_value
static uint32_t area_size = 512;
static uint32_t avx_offset;             /* the AVX component in the (standard) XSAVE area; 0: not kept */

#define XSAVE_XSTATE_BV 512             /* the XSAVE header's first word: the components present */
#define AVX_SIZE        256

static void xsetbv(uint32_t reg, uint64_t v)
{
    __asm__ volatile("xsetbv" : : "c"(reg), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

void fpu_init(void)
{
    struct cpuid_regs r;
    if (cpuid_leaf(1, 0, &r) && (r.ecx & (1u << 26))) {
        struct cpuid_regs d;
        cpuid_leaf(0xD, 0, &d);
        uint64_t supported = ((uint64_t)d.edx << 32) | d.eax;
        xcr0 = XCR0_X87 | XCR0_SSE | (supported & XCR0_AVX);
    }
    fpu_init_cpu();
    if (!xcr0)
        return;                                 /* no XSAVE: FXSAVE's 512 bytes */
    struct cpuid_regs d;
    cpuid_leaf(0xD, 0, &d);                     /* ebx: size for the enabled set */
    if (d.ebx > TCB_FPU_SIZE)
        panic("fpu: XSAVE area of %u bytes does not fit the TCB", d.ebx);
    area_size = d.ebx;
    if (xcr0 & XCR0_AVX) {
        cpuid_leaf(0xD, 2, &d);                 /* ebx: the component's offset, eax: its size */
        if (d.eax == AVX_SIZE && d.ebx + AVX_SIZE <= area_size)
            avx_offset = d.ebx;
    }
}

/* Each CPU: SSE on, and XSAVE with the state components fpu_init chose. */
void fpu_init_cpu(void)
{
    write_cr0((read_cr0() & ~(CR0_EM | CR0_TS)) | CR0_MP | CR0_NE);
    write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
    if (!xcr0)
        return;
    write_cr4(read_cr4() | CR4_OSXSAVE);
    xsetbv(0, xcr0);
}

uint64_t fpu_xcr0(void) { return xcr0; }
uint32_t fpu_area_size(void) { return area_size; }

/* FCW 0x37F and MXCSR 0x1F80: every exception masked, as C programs expect. */
void fpu_init_state(struct tcb *t)
{
    uint8_t *a = tcb_fpu_area(t);
    memset(a, 0, TCB_FPU_SIZE);
    uint16_t fcw = 0x37F;
    uint32_t mxcsr = 0x1F80;
    memcpy(a + 0, &fcw, 2);
    memcpy(a + 24, &mxcsr, 4);
}

/* With XSAVE, components written into t's area are marked present in its header, or XRSTOR would reset them. */
void fpu_mark_present(struct tcb *t, uint64_t components)
{
    if (!xcr0)
        return;
    uint8_t *area = tcb_fpu_area(t);
    uint64_t bv;
    memcpy(&bv, area + XSAVE_XSTATE_BV, 8);
    bv |= components;
    memcpy(area + XSAVE_XSTATE_BV, &bv, 8);
}

bool fpu_avx_kept(void) { return avx_offset != 0; }

/* t's saved YMM upper halves; zeros if the component is in its initial state (XSTATE_BV clear) or not kept. */
void fpu_read_avx(struct tcb *t, uint8_t out[256])
{
    const uint8_t *area = tcb_fpu_area(t);
    uint64_t bv;
    memcpy(&bv, area + XSAVE_XSTATE_BV, 8);
    if (avx_offset && (bv & XCR0_AVX))
        memcpy(out, area + avx_offset, AVX_SIZE);
    else
        memset(out, 0, AVX_SIZE);
}

/* Into t's area, marked present so that XRSTOR loads it (the caller checked fpu_avx_kept). */
void fpu_write_avx(struct tcb *t, const uint8_t in[256])
{
    memcpy(tcb_fpu_area(t) + avx_offset, in, AVX_SIZE);
    fpu_mark_present(t, XCR0_AVX);
}
