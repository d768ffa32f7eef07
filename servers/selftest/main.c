/*
 * The self-test the shell's test command starts: checks an ordinary
 * process can make of the running system (the name service, the
 * key-value server, the C runtime's memory, threads and locks, faults of
 * its own threads, the clock).  One line per check on the console
 * (/dev/console; the kernel log if the console does not answer), then
 * "selftest: N passed, M failed", and exit status M.
 */
#include "console.h"
#include "idl.h"
#include "kv.h"
#include "names.h"
#include "resolver.h"
#include "sync.h"
#include "thread.h"
#include "tls.h"

#include <pith/fault.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEYS      16            /* numbered keys put and read back (the store holds 32) */
#define THREADS   4
#define ADDS      10000         /* each thread's increments under the mutex */
#define BLOCKS    200
#define HOLE_VA   0x500000000ull        /* unmapped until the fault check maps it (docs/runtime.md) */
#define FAULT_BADGE 0x5e1f

static struct pith_client console, kv;
static int passed, failed;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    char text[CONSOLE_WRITE_TEXT_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof text)       /* our lines are short; never cut one silently */
        n = snprintf(text, sizeof text, "selftest: (a line too long for the console)\n");
    if (console_write(&console, text, (uint64_t)n))
        printf("%s", text);
}

/* Records one check: ok, or FAIL with what was wrong. */
static void check(int ok, const char *what, const char *why, long err)
{
    if (ok) {
        passed++;
        say("selftest: ok   %s\n", what);
    } else {
        failed++;
        say("selftest: FAIL %s: %s (error %#lx)\n", what, why, err);
    }
}

static void names_check(void)
{
    struct pith_client *c = names_client();
    uint64_t slot = pith_slot_alloc();
    long err = c ? names_lookup(c, "/svc/kv", slot) : PITH_E_FULL;
    struct pith_msg m = { .w = { slot } };
    if (!err)
        err = pith_invoke(PITH_SLOT_CSPACE, PITH_CNODE_IDENTIFY, &m);
    check(!err && m.w[0] == PITH_OBJ_ENDPOINT, "names: /svc/kv resolves to an endpoint",
          err ? "the lookup failed" : "not an endpoint", err);
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, slot, 0, 0, 0);
    err = c ? names_lookup(c, "/selftest/no/such/name", slot) : PITH_E_FULL;
    check(err == NAMES_E_NOT_FOUND, "names: an unregistered name is not found", "the lookup answered", err);
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, slot, 0, 0, 0);
    pith_slot_free(slot);
}

static void kv_check(void)
{
    char key[32], value[64], got[KV_GET_VALUE_MAX];
    uint64_t len;
    long err = 0;
    int i;
    for (i = 0; i < KEYS && !err; i++) {
        snprintf(key, sizeof key, "selftest.%d", i);
        int n = snprintf(value, sizeof value, "value %d of the self-test: %d", i, i * 7919);
        if ((err = kv_put(&kv, key, value, (uint64_t)n)))
            break;
        if ((err = kv_get(&kv, key, got, &len)))
            break;
        if (len != (uint64_t)n || memcmp(got, value, len))
            err = -1;
    }
    check(!err, "kv: 16 numbered keys put and read back",
          err == -1 ? "a key did not come back as put" : "a request failed", err);
    for (i = 0, err = 0; i < KEYS && !err; i++) {
        snprintf(key, sizeof key, "selftest.%d", i);
        if (!(err = kv_remove(&kv, key)))
            err = kv_get(&kv, key, got, &len) == KV_E_NOT_FOUND ? 0 : -1;
    }
    check(!err, "kv: each removed key is gone", err == -1 ? "a removed key stayed" : "a removal failed", err);
    /* A counter from nothing: 1 + 2 + ... + 10, each total checked. */
    kv_remove(&kv, "selftest.count");
    int64_t total = 0, want = 0;
    for (i = 1, err = 0; i <= 10 && !err; i++) {
        want += i;
        if (!(err = kv_add(&kv, "selftest.count", i, &total)) && total != want)
            err = -1;
    }
    check(!err, "kv: a counter adds 1 to 10 to 55", err == -1 ? "a total was wrong" : "an add failed", err);
    kv_remove(&kv, "selftest.count");
}

/* Block i's size: 1 byte to 16 KiB, about 1.6 MiB in all (the heap has 4). */
static size_t block_size(int i) { return 1 + (size_t)i * 331 % 16384; }

static void malloc_check(void)
{
    static unsigned char *blocks[BLOCKS];
    int got = 0, bad = 0;
    for (; got < BLOCKS; got++) {
        if (!(blocks[got] = malloc(block_size(got))))
            break;
        memset(blocks[got], got & 0xff, block_size(got));
    }
    for (int i = 0; i < got; i++) {
        for (size_t k = 0; k < block_size(i); k += 97)
            bad |= blocks[i][k] != (i & 0xff);
        bad |= blocks[i][block_size(i) - 1] != (i & 0xff);
        free(blocks[i]);
    }
    check(got == BLOCKS && !bad, "malloc: 200 blocks of 1 byte to 16 KiB filled, checked, freed",
          got < BLOCKS ? "out of memory" : "a block was overwritten", got);
}

static pith_mutex_t lock;
static long counter;

static void *adder(void *arg)
{
    for (int i = 0; i < ADDS; i++) {
        pith_mutex_lock(&lock);
        long v = counter;
        if ((i & 63) == 0)
            pith_yield();               /* invite the others in while we hold it */
        counter = v + 1;
        pith_mutex_unlock(&lock);
    }
    return arg;
}

static void threads_check(void)
{
    pith_thread_t *t[THREADS];
    int started = 0, joined = 0;
    if (pith_mutex_init(&lock)) {
        check(0, "threads: 4 threads count to 40000 under a mutex", "no mutex", 0);
        return;
    }
    for (; started < THREADS; started++)
        if (pith_thread_create(&t[started], adder, (void *)(long)(started + 1)))
            break;
    for (int i = 0; i < started; i++) {
        void *r;
        joined += pith_thread_join(t[i], &r) == 0 && r == (void *)(long)(i + 1);
    }
    check(started == THREADS && joined == THREADS && counter == (long)THREADS * ADDS,
          "threads: 4 threads count to 40000 under a mutex", "a thread or an increment went missing", counter);
}

/* A thread of our own, without the runtime: writes to the hole, then waits for ever. */
static void toucher(uint64_t hole)
{
    *(volatile uint64_t *)hole = 0x5e1f7e57;
    for (;;)
        pith_sleep_ns(1000000000ull);
}

/*
 * Our own thread faults, and the fault comes here as a message (not to the
 * supervisor, which would end us): we see the address, map a page there
 * and let the thread run on; its write must land in the page.
 */
static void fault_check(void)
{
    static uint64_t stack[512] __attribute__((aligned(16)));
    const char *what = "fault: our thread's page fault seen, served and resumed";
    uint64_t ep = pith_object_new(PITH_OBJ_ENDPOINT, 0), reply = pith_object_new(PITH_OBJ_REPLY, 0);
    uint64_t tcb = pith_object_new(PITH_OBJ_TCB, 0), page = pith_object_new(PITH_OBJ_FRAME, 0);
    uint64_t fault_ep = pith_slot_alloc();
    struct pith_msg info = { 0 }, m = { 0 };
    long err = !ep || !reply || !tcb || !page ? PITH_E_NO_MEMORY : 0;
    if (!err)
        err = pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_MINT, fault_ep, ep, PITH_RIGHT_WRITE | PITH_RIGHT_GRANT,
                           FAULT_BADGE);
    if (!err)
        err = pith_invoke(PITH_SLOT_TCB, PITH_TCB_INFO, &info);
    if (err || (err = pith_invoke4(tcb, PITH_TCB_CONFIGURE, PITH_SLOT_CSPACE, PITH_SLOT_VSPACE, 0, fault_ep)) ||
        (err = pith_invoke4(tcb, PITH_TCB_SET_PRIORITY, info.w[2], info.w[3], 0, 0)) ||
        (err = pith_invoke4(tcb, PITH_TCB_WRITE_REGISTERS, (uint64_t)toucher, (uint64_t)&stack[511], HOLE_VA, 0)) ||
        (err = pith_invoke4(tcb, PITH_TCB_RESUME, 0, 0, 0, 0))) {
        check(0, what, "cannot start the thread", err);
        return;
    }
    err = pith_syscall_timed(PITH_SYS_RECV_TIMED, ep, &m, reply, 2000000000ull);
    int seen = !err && PITH_TAG_LABEL(m.tag) == PITH_FAULT_LABEL && m.badge == FAULT_BADGE &&
               m.w[0] == PITH_FAULT_PAGE && m.w[1] == HOLE_VA && (m.w[2] & PITH_PF_WRITE);
    if (seen && !(err = pith_map_page(page, HOLE_VA, PITH_RIGHT_READ | PITH_RIGHT_WRITE, 0))) {
        m = (struct pith_msg){ .tag = PITH_TAG(PITH_FAULT_RESUME, 0) };
        err = pith_send(reply, &m);
    }
    /* The thread writes and goes to sleep; give it a few chances to run. */
    for (int i = 0; i < 100 && !err && *(volatile uint64_t *)HOLE_VA != 0x5e1f7e57; i++)
        pith_sleep_ns(1000000);
    int landed = seen && !err && *(volatile uint64_t *)HOLE_VA == 0x5e1f7e57;
    pith_invoke4(tcb, PITH_TCB_SUSPEND, 0, 0, 0, 0);
    check(landed, what, !seen ? "no page-fault message for the hole" : "its write did not land", err);
}

static void clock_check(void)
{
    const struct pith_time_page *t = (const struct pith_time_page *)pith_bootinfo->time_page;
    uint64_t before = pith_clock_ns(t);
    long err = pith_sleep_ns(10000000);
    uint64_t slept = pith_clock_ns(t) - before;
    check(!err && slept >= 10000000 && slept < 5000000000ull, "clock: a 10 ms sleep lasts at least 10 ms",
          "the clock disagrees", (long)slept);
}

int main(void)
{
    struct pith_ipc_buffer *buf = pith_tls_self()->ipc_buffer;
    pith_client_init(&console, "/dev/console", &names_resolver, pith_slot_alloc(), buf);
    pith_client_init(&kv, "/svc/kv", &names_resolver, pith_slot_alloc(), buf);
    say("selftest: checking what an ordinary process can do\n");
    names_check();
    kv_check();
    malloc_check();
    threads_check();
    fault_check();
    clock_check();
    say("selftest: %d passed, %d failed\n", passed, failed);
    return failed;
}
