/*
 * bench: figures the shell measures itself, here and now.  Each operation
 * runs WARMUP times untimed, then ITERS times timed one by one with the
 * TSC (lfence on both sides, so the read is not reordered around the
 * operation); ticks become nanoseconds through the time page's factor.
 * Printed: median, quartiles, minimum and maximum.  Under emulation the
 * whole run takes well under a second.
 */
#include "shell.h"
#include "kv.h"
#include "resolver.h"
#include "thread.h"

#include <stdlib.h>

#define WARMUP 200
#define ITERS  2000
#define BENCH_PAGE_VA 0x400000000ull    /* above the thread windows (docs/runtime.md) */

static uint64_t samples[ITERS];

static inline uint64_t tsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi) :: "memory");
    return ((uint64_t)hi << 32) | lo;
}

static int by_value(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *name)
{
    const struct pith_time_page *t = (const struct pith_time_page *)pith_bootinfo->time_page;
    for (int i = 0; i < ITERS; i++)
        samples[i] = (uint64_t)(((unsigned __int128)samples[i] * t->ns_mult) >> 32);
    qsort(samples, ITERS, sizeof samples[0], by_value);
    say("  %-14s median %6lu ns  quartiles %lu-%lu  min %lu  max %lu  (%d runs)\n", name, samples[ITERS / 2],
        samples[ITERS / 4], samples[ITERS * 3 / 4], samples[0], samples[ITERS - 1], ITERS);
}

/* Times ITERS runs of op() after WARMUP; any error ends the figure with a line saying so. */
static void measure(const char *name, long (*op)(void *), void *arg)
{
    for (int i = 0; i < WARMUP + ITERS; i++) {
        uint64_t t0 = tsc();
        long err = op(arg);
        uint64_t t1 = tsc();
        if (err) {
            say("  %-14s failed: %s (error %#lx)\n", name,
                err == PITH_IDL_E_NO_SERVER ? "nothing serves its name" : "the operation returned an error", err);
            return;
        }
        if (i >= WARMUP)
            samples[i - WARMUP] = t1 - t0;
    }
    report(name);
}

static long null_syscall(void *arg)
{
    struct pith_msg m = { 0 };
    return pith_syscall(PITH_SYS_INFO, 0, &m, 0);
}

/* The other end of the IPC figure: a thread of ours answering every call on the endpoint. */
static uint64_t echo_ep, echo_reply;

static void *echo(void *arg)
{
    struct pith_msg m = { 0 };
    pith_recv(echo_ep, &m, echo_reply);
    for (;;)
        pith_reply_recv(echo_ep, &m, echo_reply);
    return NULL;
}

static long ipc_call(void *arg)
{
    struct pith_msg m = { .tag = PITH_TAG(1, 4), .w = { 1, 2, 3, 4 } };
    return pith_call(echo_ep, &m);
}

static long kv_call(void *arg)
{
    uint32_t keys;
    return kv_count(arg, &keys);
}

static uint64_t bench_frame;

static long map_unmap(void *arg)
{
    long err = pith_invoke4(bench_frame, PITH_FRAME_MAP, PITH_SLOT_VSPACE, BENCH_PAGE_VA,
                            PITH_RIGHT_READ | PITH_RIGHT_WRITE, 0);
    if (!err)
        err = pith_invoke4(bench_frame, PITH_FRAME_UNMAP, 0, 0, 0, 0);
    return err;
}

/* The objects every run uses, made on the first: untyped memory is not handed back piecemeal. */
static long bench_setup(void)
{
    static int ready;
    pith_thread_t *t;
    if (ready)
        return 0;
    if (!echo_ep && !(echo_ep = pith_object_new(PITH_OBJ_ENDPOINT, 0)))
        return PITH_E_NO_MEMORY;
    if (!echo_reply && !(echo_reply = pith_object_new(PITH_OBJ_REPLY, 0)))
        return PITH_E_NO_MEMORY;
    if (!bench_frame && !(bench_frame = pith_object_new(PITH_OBJ_FRAME, 0)))
        return PITH_E_NO_MEMORY;
    /* The first map makes the page tables on the way; the timed ones find them. */
    long err = pith_map_page(bench_frame, BENCH_PAGE_VA, PITH_RIGHT_READ | PITH_RIGHT_WRITE, 0);
    if (err)
        return err;
    pith_invoke4(bench_frame, PITH_FRAME_UNMAP, 0, 0, 0, 0);
    if (pith_thread_create(&t, echo, NULL))
        return PITH_E_NO_MEMORY;
    ready = 1;
    return 0;
}

void bench(int argc, char **argv)
{
    long err = bench_setup();
    if (err) {
        say("bench: cannot set up (error %#lx)\n", err);
        return;
    }
    say("bench: %d runs each after %d to warm up, in ns:\n", ITERS, WARMUP);
    measure("null-syscall", null_syscall, NULL);
    measure("ipc-roundtrip", ipc_call, NULL);
    static struct pith_client kv;
    static int kv_bound;
    if (!kv_bound) {
        pith_client_init(&kv, "/svc/kv", &names_resolver, pith_slot_alloc(), console.buf);
        kv_bound = 1;
    }
    measure("kv-count", kv_call, &kv);
    measure("map-unmap", map_unmap, NULL);
}
