/*
 * A small program the ELF-loader test (tests/user/test_elfload.c) loads
 * into a new address space and runs.  No runtime: it starts here with an
 * endpoint slot in rdi, proves its segments arrived (initialised data,
 * zeroed bss, read-only data, a write to data), answers, and waits.
 */
#include "pith.h"

static const char greeting[] = "loaded by lib/elfload";
static uint64_t table[4] = { 11, 22, 33, 44 };
static volatile uint64_t zeroes[600];           /* bss: more than a page */

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
    for (;;)
        pith_sleep_ns(1000000000000ull);
}
