/* The little runtime: start-up, log output, a slot allocator. */
#include "pith.h"
#include "lib/format.h"

#include <stdarg.h>

const struct pith_bootinfo *pith_bootinfo;
static uint64_t next_slot, end_slot;

_Noreturn void pith_start(const struct pith_bootinfo *bi);

static void log_bytes(const char *s, uint64_t n)
{
    struct pith_ipc_buffer *buf = (struct pith_ipc_buffer *)PITH_IPC_BUFFER_ADDR;
    while (n) {
        uint64_t chunk = n < sizeof *buf ? n : sizeof *buf;
        char *dst = (char *)buf->msg;
        for (uint64_t i = 0; i < chunk; i++)
            dst[i] = s[i];
        pith_invoke4(PITH_SLOT_LOG, PITH_LOG_WRITE, chunk, 0, 0, 0);
        s += chunk;
        n -= chunk;
    }
}

void puts_log(const char *s)
{
    uint64_t n = 0;
    while (s[n])
        n++;
    log_bytes(s, n);
}

int printf(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = format_v(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return n;
    log_bytes(buf, (uint64_t)n < sizeof buf ? (uint64_t)n : sizeof buf - 1);
    if ((size_t)n >= sizeof buf)
        puts_log(" [printf: line cut]\n");
    return n;
}

_Noreturn void pith_shutdown(int success)
{
    pith_invoke4(PITH_SLOT_LOG, PITH_LOG_SHUTDOWN, success ? 1 : 0, 0, 0, 0);
    for (;;)
        pith_sleep_ns(1000000000ull);
}

uint64_t pith_slot_alloc(void)
{
    if (next_slot >= end_slot) {
        printf("libpith: out of capability slots\n");
        pith_shutdown(0);
    }
    return next_slot++;
}

uint64_t pith_biggest_untyped(void)
{
    const struct pith_bootinfo *bi = pith_bootinfo;
    uint64_t best = 0;
    for (uint64_t i = 1; i < bi->untyped.count; i++)
        if (!bi->untyped_list[i].is_device &&
            (bi->untyped_list[best].is_device ||
             bi->untyped_list[i].size_bits > bi->untyped_list[best].size_bits))
            best = i;
    return bi->untyped.first_slot + best;
}

_Noreturn void pith_start(const struct pith_bootinfo *bi)
{
    pith_bootinfo = bi;
    next_slot = bi->empty.first_slot;
    end_slot = bi->empty.first_slot + bi->empty.count;
    int status = main();
    pith_shutdown(status == 0);
}
