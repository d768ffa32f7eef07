/* A running thread interrupted: PITH_TCB_INTERRUPT, and all its registers read and written. */
#include "utest.h"
#include <pith/fault.h>
#include <stdbool.h>

#define FX_MXCSR 24                     /* offsets in the FXSAVE image */
#define FX_XMM0  160
#define FX_XMM1  176

static volatile uint64_t seen[5];       /* what landing() found: rbx, rcx, r11, r15, xmm1's low half */
static volatile uint32_t seen_mxcsr;

static volatile uint64_t spin_ready;    /* set by a spinning thread once its registers are all set */

/* Spins with known values in every register it can, xmm0 included. */
__attribute__((naked)) static void spin(uint64_t u)
{
    (void)u;
    __asm__ volatile("movabs $0x1111111111111111, %rbx\n"
                     "movabs $0x2222222222222222, %rcx\n"
                     "movabs $0x3333333333333333, %r11\n"
                     "movabs $0x4444444444444444, %r12\n"
                     "movabs $0x5555555555555555, %r15\n"
                     "movq %rbx, %xmm0\n"
                     "movq $1, spin_ready(%rip)\n"    /* every register set: the loop changes none */
                     "1: jmp 1b\n");
}

/* Where a written state sends the thread: records rbx, rcx, r11, r15, xmm1 and MXCSR, says so, then spins. */
__attribute__((naked)) static void landing(void)
{
    __asm__ volatile("mov %rbx, seen(%rip)\n"
                     "mov %rcx, seen+8(%rip)\n"
                     "mov %r11, seen+16(%rip)\n"
                     "mov %r15, seen+24(%rip)\n"
                     "movq %xmm1, seen+32(%rip)\n"
                     "stmxcsr seen_mxcsr(%rip)\n"
                     "movq $1, spin_ready(%rip)\n"
                     "1: pause\n"
                     "jmp 1b\n");
}

static struct pith_thread_regs *ipc_regs(void)
{
    return (struct pith_thread_regs *)((struct pith_ipc_buffer *)PITH_IPC_BUFFER_ADDR)->msg;
}

/* Reads t's state; on two CPUs the CPU it ran on may not have let it go yet (WOULD_BLOCK). */
static long read_all(uint64_t t)
{
    long err = PITH_E_WOULD_BLOCK;
    for (int i = 0; i < 1000 && err == PITH_E_WOULD_BLOCK; i++)
        if ((err = pith_invoke4(t, PITH_TCB_READ_ALL_REGISTERS, 0, 0, 0, 0)) == PITH_E_WOULD_BLOCK)
            pith_sleep_ns(10000);
    return err;
}

/*
 * Resumes t and waits (sleeping, so that it runs: it is below our
 * priority) until it has set its registers: a fixed wait could end, on a
 * loaded host under emulation, before it ran at all.
 */
static uint64_t start_spinning(uint64_t t)
{
    spin_ready = 0;
    if (!t || pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0))
        return 0;
    for (int i = 0; i < 5000 && !spin_ready; i++)
        pith_sleep_ns(1000000);
    return spin_ready ? t : 0;
}

static uint64_t spinning_thread(void)
{
    return start_spinning(make_thread(spin, 0, 10));
}

static volatile long waiter_woke = -1;

static void waiter(uint64_t u)
{
    (void)u;
    waiter_woke = pith_sleep_ns(1000000);
    for (;;)
        pith_sleep_ns(1000000000000ull);
}

UTEST(interrupt_stops_only_a_ready_thread)
{
    uint64_t t = spinning_thread();
    UT_ASSERT(t);
    struct pith_msg m = { 0 };
    UT_EQ(pith_invoke(t, PITH_TCB_INTERRUPT, &m), PITH_OK);
    UT_EQ(m.w[0], PITH_THREAD_READY);                   /* it was running: suspended now */
    UT_EQ(pith_invoke(t, PITH_TCB_INTERRUPT, &m), PITH_OK);
    UT_EQ(m.w[0], PITH_THREAD_INACTIVE);                /* nothing to do the second time */
    UT_EQ(pith_invoke(PITH_SLOT_TCB, PITH_TCB_INTERRUPT, &m), PITH_E_STATE);    /* itself */
    pith_invoke4(t, PITH_TCB_SUSPEND, 0, 0, 0, 0);
    /* A thread waiting in a call is left waiting: its call is not cancelled. */
    uint64_t w = make_thread(waiter, 0, 150);
    UT_ASSERT(w);
    UT_EQ(pith_invoke4(w, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke(w, PITH_TCB_INTERRUPT, &m), PITH_OK);
    UT_EQ(m.w[0], PITH_THREAD_SLEEPING);
    UT_EQ(pith_invoke(w, PITH_TCB_INFO, &m), PITH_OK);
    UT_EQ(m.w[1], PITH_THREAD_SLEEPING);
    pith_sleep_ns(3000000);
    UT_EQ(waiter_woke, PITH_OK);                        /* its sleep ended as it would have */
    pith_invoke4(w, PITH_TCB_SUSPEND, 0, 0, 0, 0);
}

UTEST(all_registers_of_an_interrupted_thread)
{
    uint64_t t = spinning_thread();
    UT_ASSERT(t);
    struct pith_msg m = { 0 };
    UT_EQ(pith_invoke(t, PITH_TCB_INTERRUPT, &m), PITH_OK);
    UT_EQ(read_all(t), PITH_OK);
    struct pith_thread_regs *r = ipc_regs();
    UT_EQ(r->r.rbx, 0x1111111111111111ull);
    UT_EQ(r->r.rcx, 0x2222222222222222ull);             /* kept: it was interrupted, not in a call */
    UT_EQ(r->r.r11, 0x3333333333333333ull);
    UT_EQ(r->r.r12, 0x4444444444444444ull);
    UT_EQ(r->r.r15, 0x5555555555555555ull);
    uint64_t xmm0;
    __builtin_memcpy(&xmm0, r->fpu + FX_XMM0, 8);
    UT_EQ(xmm0, 0x1111111111111111ull);
    UT_ASSERT(r->r.rip >= (uint64_t)spin && r->r.rip < (uint64_t)spin + 96);
    /* Every register written, the FPU image too: MXCSR with bits no CPU has is trimmed, never a fault. */
    r->r.rip = (uint64_t)landing;
    r->r.rbx = 7, r->r.rcx = 8, r->r.r11 = 9, r->r.r15 = 10;
    uint64_t xmm1 = 0xabcdef0123456789ull;
    __builtin_memcpy(r->fpu + FX_XMM1, &xmm1, 8);
    uint32_t mxcsr = 0xffffffffu;
    __builtin_memcpy(r->fpu + FX_MXCSR, &mxcsr, 4);
    UT_EQ(pith_invoke4(t, PITH_TCB_WRITE_ALL_REGISTERS, PITH_REGS_GENERAL | PITH_REGS_FPU, 0, 0, 0), PITH_OK);
    UT_ASSERT(start_spinning(t));                       /* until landing() has looked */
    UT_EQ(seen[0], 7);
    UT_EQ(seen[1], 8);                                  /* rcx and r11 too: resumed with IRET */
    UT_EQ(seen[2], 9);
    UT_EQ(seen[3], 10);
    UT_EQ(seen[4], 0xabcdef0123456789ull);
    UT_ASSERT(seen_mxcsr != 0xffffffffu && (seen_mxcsr & 0xffbf) == 0xffbf);
    /* Read back: the trimmed MXCSR. */
    UT_EQ(pith_invoke(t, PITH_TCB_INTERRUPT, &m), PITH_OK);
    UT_EQ(read_all(t), PITH_OK);
    __builtin_memcpy(&mxcsr, ipc_regs()->fpu + FX_MXCSR, 4);
    UT_EQ(mxcsr, seen_mxcsr);
    pith_invoke4(t, PITH_TCB_SUSPEND, 0, 0, 0, 0);
}

UTEST(all_registers_errors)
{
    uint64_t t = spinning_thread();
    UT_ASSERT(t);
    /* Ready (running): refused both ways. */
    UT_EQ(pith_invoke4(t, PITH_TCB_READ_ALL_REGISTERS, 0, 0, 0, 0), PITH_E_STATE);
    UT_EQ(pith_invoke4(t, PITH_TCB_WRITE_ALL_REGISTERS, PITH_REGS_GENERAL, 0, 0, 0), PITH_E_STATE);
    /* Its own: refused. */
    UT_EQ(pith_invoke4(PITH_SLOT_TCB, PITH_TCB_READ_ALL_REGISTERS, 0, 0, 0, 0), PITH_E_STATE);
    UT_EQ(pith_invoke4(PITH_SLOT_TCB, PITH_TCB_WRITE_ALL_REGISTERS, PITH_REGS_GENERAL, 0, 0, 0), PITH_E_STATE);
    struct pith_msg m = { 0 };
    UT_EQ(pith_invoke(t, PITH_TCB_INTERRUPT, &m), PITH_OK);
    UT_EQ(read_all(t), PITH_OK);
    struct pith_thread_regs *r = ipc_regs();
    uint64_t rip = r->r.rip;
    /* No parts, or parts unknown. */
    UT_EQ(pith_invoke4(t, PITH_TCB_WRITE_ALL_REGISTERS, 0, 0, 0, 0), PITH_E_INVALID_ARG);
    UT_EQ(pith_invoke4(t, PITH_TCB_WRITE_ALL_REGISTERS, 8, 0, 0, 0), PITH_E_INVALID_ARG);
    /* A rip or rsp outside the user half: refused, nothing written. */
    r->r.rip = 0xffff800000001000ull;
    UT_EQ(pith_invoke4(t, PITH_TCB_WRITE_ALL_REGISTERS, PITH_REGS_GENERAL, 0, 0, 0), PITH_E_INVALID_ARG);
    r->r.rip = rip, r->r.rsp = 0x0000800000000000ull;
    UT_EQ(pith_invoke4(t, PITH_TCB_WRITE_ALL_REGISTERS, PITH_REGS_GENERAL | PITH_REGS_FPU, 0, 0, 0),
          PITH_E_INVALID_ARG);
    UT_EQ(read_all(t), PITH_OK);
    UT_EQ(ipc_regs()->r.rip, rip);
    pith_invoke4(t, PITH_TCB_SUSPEND, 0, 0, 0, 0);
}

/* ---- the upper halves of the AVX registers ---- */

static volatile uint64_t seen_hi[2];    /* what avx_landing() found in ymm1's upper half */

/* Spins with 0x6666... in the upper half of ymm0 (and 0x1111... in its lower). */
__attribute__((naked)) static void avx_spin(uint64_t u)
{
    (void)u;
    __asm__ volatile("movabs $0x6666666666666666, %rax\n"
                     "movq %rax, %xmm3\n"
                     "movabs $0x1111111111111111, %rax\n"
                     "movq %rax, %xmm0\n"
                     "vinsertf128 $1, %xmm3, %ymm0, %ymm0\n"
                     "movq $1, spin_ready(%rip)\n"
                     "1: jmp 1b\n");
}

/* Records ymm1's upper half, says so, then spins. */
__attribute__((naked)) static void avx_landing(void)
{
    __asm__ volatile("vextractf128 $1, %ymm1, %xmm2\n"
                     "movq %xmm2, seen_hi(%rip)\n"
                     "pextrq $1, %xmm2, seen_hi+8(%rip)\n"
                     "movq $1, spin_ready(%rip)\n"
                     "1: pause\n"
                     "jmp 1b\n");
}

static bool cpu_has_avx(void)
{
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
    return (c & (1u << 28)) && (c & (1u << 27));        /* AVX, and OSXSAVE: the kernel turned XSAVE on */
}

UTEST(all_registers_avx_upper_halves)
{
    if (!cpu_has_avx()) {
        printf("  no AVX: skipped\n");
        return;
    }
    uint64_t t = start_spinning(make_thread(avx_spin, 0, 10));
    UT_ASSERT(t);
    struct pith_msg m = { 0 };
    UT_EQ(pith_invoke(t, PITH_TCB_INTERRUPT, &m), PITH_OK);
    UT_EQ(read_all(t), PITH_OK);
    struct pith_thread_regs *r = ipc_regs();
    UT_EQ(r->avx, 1);
    uint64_t hi[2], lo;
    __builtin_memcpy(hi, r->ymm_hi, 16);                 /* ymm0's upper half: the component's first 16 bytes */
    __builtin_memcpy(&lo, r->fpu + FX_XMM0, 8);
    UT_EQ(hi[0], 0x6666666666666666ull);
    UT_EQ(lo, 0x1111111111111111ull);
    /* ymm1's upper half written alone: the thread finds it there. */
    hi[0] = 0x0123456789abcdefull, hi[1] = 0xfedcba9876543210ull;
    __builtin_memcpy(r->ymm_hi + 16, hi, 16);
    r->r.rip = (uint64_t)avx_landing;
    UT_EQ(pith_invoke4(t, PITH_TCB_WRITE_ALL_REGISTERS, PITH_REGS_GENERAL | PITH_REGS_AVX, 0, 0, 0), PITH_OK);
    UT_ASSERT(start_spinning(t));                       /* until avx_landing() has looked */
    UT_EQ(seen_hi[0], 0x0123456789abcdefull);
    UT_EQ(seen_hi[1], 0xfedcba9876543210ull);
    pith_invoke4(t, PITH_TCB_SUSPEND, 0, 0, 0, 0);
}

/* ---- a caller without an IPC buffer ---- */

static volatile long no_buffer_read = -1, no_buffer_write = -1;

static void no_buffer(uint64_t target)
{
    no_buffer_read = pith_invoke4(target, PITH_TCB_READ_ALL_REGISTERS, 0, 0, 0, 0);
    no_buffer_write = pith_invoke4(target, PITH_TCB_WRITE_ALL_REGISTERS, PITH_REGS_FPU, 0, 0, 0);
    for (;;)
        pith_sleep_ns(1000000000000ull);
}

UTEST(all_registers_need_the_callers_ipc_buffer)
{
    uint64_t t = spinning_thread();
    UT_ASSERT(t);
    struct pith_msg m = { 0 };
    UT_EQ(pith_invoke(t, PITH_TCB_INTERRUPT, &m), PITH_OK);
    UT_EQ(read_all(t), PITH_OK);                        /* stopped: we could */
    uint64_t c = make_thread(no_buffer, t, 150);
    UT_ASSERT(c);
    UT_EQ(pith_invoke4(c, PITH_TCB_CONFIGURE, PITH_SLOT_CSPACE, PITH_SLOT_VSPACE, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(c, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_EQ(no_buffer_read, PITH_E_STATE);
    UT_EQ(no_buffer_write, PITH_E_STATE);
    pith_invoke4(c, PITH_TCB_SUSPEND, 0, 0, 0, 0);
    pith_invoke4(t, PITH_TCB_SUSPEND, 0, 0, 0, 0);
}

/*
 * A thread interrupted while it runs on another CPU: its registers are
 * there until that CPU takes it off, so the first read may say
 * WOULD_BLOCK; asked again, they are the spinning thread's own.  (With
 * one CPU online the test says it skipped.)
 */
UTEST(all_registers_of_a_thread_on_another_cpu)
{
    if (pith_bootinfo->cpus < 2) {
        printf("  one CPU online: skipped\n");
        return;
    }
    uint64_t t = make_thread(spin, 0, 10);
    UT_ASSERT(t);
    UT_EQ(pith_invoke4(t, PITH_TCB_SET_AFFINITY, 1, 0, 0, 0), PITH_OK);
    UT_ASSERT(start_spinning(t));                       /* it spins on CPU 1, we wait on CPU 0 */
    struct pith_msg m = { 0 };
    UT_EQ(pith_invoke(t, PITH_TCB_INTERRUPT, &m), PITH_OK);
    UT_EQ(m.w[0], PITH_THREAD_READY);
    long first = pith_invoke4(t, PITH_TCB_READ_ALL_REGISTERS, 0, 0, 0, 0);
    UT_ASSERT(first == PITH_OK || first == PITH_E_WOULD_BLOCK);
    UT_EQ(read_all(t), PITH_OK);
    struct pith_thread_regs *r = ipc_regs();
    UT_EQ(r->r.rbx, 0x1111111111111111ull);
    UT_EQ(r->r.r15, 0x5555555555555555ull);
    uint64_t xmm0;
    __builtin_memcpy(&xmm0, r->fpu + FX_XMM0, 8);
    UT_EQ(xmm0, 0x1111111111111111ull);                 /* saved by CPU 1 as it let the thread go */
    UT_ASSERT(r->r.rip >= (uint64_t)spin && r->r.rip < (uint64_t)spin + 96);
    pith_invoke4(t, PITH_TCB_SUSPEND, 0, 0, 0, 0);
}
