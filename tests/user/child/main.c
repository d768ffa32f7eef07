/*
 * A small program the ELF-loader test (tests/user/test_elfload.c) loads
 * into a new address space and runs, and which the memory manager maps
 * lazily (tests/user/test_mem_image.c, bench/user/mm.c).  No runtime: it
 * starts here with an endpoint slot in rdi, proves its segments arrived
 * (initialised data, zeroed bss, read-only data, a write to data),
 * answers; then times its first read of a page of read-only data it has
 * not touched before (a fault when mapped lazily) and says where its
 * untouched bss lies, in a second message; and waits.
 */
#include "pith.h"

static const char greeting[] = "loaded by lib/elfload";
static uint64_t table[4] = { 11, 22, 33, 44 };
static volatile uint64_t zeroes[600];           /* bss: more than a page */
static volatile uint64_t untouched[4096];       /* bss never touched: whole pages a lazy loader never fills */
/* Read-only data alone on its page, read through a volatile pointer so it is not folded away. */
static const uint64_t far_page[512] __attribute__((aligned(4096))) = { 0xfa, [511] = 0xff };

static inline uint64_t ticks(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi) :: "memory");
    return ((uint64_t)hi << 32) | lo;
}

_Noreturn void _start(uint64_t endpoint);

_Noreturn void _start(uint64_t endpoint)
{
    uint64_t sum = 0, nonzero = 0;
    for (int i = 0; i < 4; i++)
        sum += table[i];
    for (int i = 0; i < 600; i++)
        nonzero += zeroes[i] != 0;
    table[0] = sum;
    zeroes[599] = 1;
    struct pith_msg m = {
        .tag = PITH_TAG(0xe1f, 4),
        .w = { table[0], nonzero, sizeof greeting - 1, (uint64_t)greeting[0] << 8 | zeroes[599] },
    };
    pith_send(endpoint, &m);
    uint64_t t0 = ticks();
    const volatile uint64_t *far = far_page;
    uint64_t first = far[0];
    uint64_t t1 = ticks();
    m = (struct pith_msg){
        .tag = PITH_TAG(0xe20, 4),
        .w = { first + far[511], t1 - t0, (uint64_t)untouched, sizeof untouched },
    };
    pith_send(endpoint, &m);
    for (;;)
        pith_sleep_ns(1000000000000ull);
}
