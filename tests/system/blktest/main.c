/* The block protocol through every message and error (blktest.h). */
#include "blktest.h"
#include "names.h"
#include "pith.h"
#include "process.h"
#include "resolver.h"
#include "sync.h"
#include "thread.h"
#include "tls.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

uint64_t frames[PAGES];
uint64_t disk_sectors;
const char *me;
static int passed, failed;
static pith_mutex_t out, bindings_lock;

void check(bool ok, const char *name, const char *fmt, ...)
{
    char why[160] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    pith_mutex_lock(&out);
    if (ok) {
        passed++;
        printf("%s: PASS %s\n", me, name);
    } else {
        failed++;
        printf("%s: FAIL %s: %s\n", me, name, why);
    }
    pith_mutex_unlock(&out);
}

struct pith_client *blk_binding(void)
{
    static struct {
        struct pith_ipc_buffer *buf;
        struct pith_client c;
    } b[8];
    struct pith_ipc_buffer *buf = pith_tls_self()->ipc_buffer;
    pith_mutex_lock(&bindings_lock);
    int i = 0;
    while (i < 8 && b[i].buf && b[i].buf != buf)
        i++;
    if (i < 8 && !b[i].buf) {
        b[i].buf = buf;
        pith_client_init(&b[i].c, "/dev/blk0", &names_resolver, pith_slot_alloc(), buf);
    }
    pith_mutex_unlock(&bindings_lock);
    return i < 8 ? &b[i].c : NULL;
}

long attach_pages(struct pith_client *c, uint32_t first, uint32_t n)
{
    for (uint32_t p = first; p < first + n; p++) {
        long err = blk_attach(c, p, frames[p]);
        if (err)
            return err;
    }
    return 0;
}

static uint64_t word(uint64_t sector, uint32_t i, uint32_t seed)
{
    return (sector * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)seed << 40) ^ i;
}

void pattern_fill(uint32_t page, uint64_t sector, uint32_t n, uint32_t seed)
{
    uint64_t *w = (uint64_t *)(WINDOW_VA + page * 4096ull);
    for (uint32_t s = 0; s < n; s++)
        for (uint32_t i = 0; i < 64; i++)
            w[s * 64 + i] = word(sector + s, i, seed);
}

bool pattern_ok(uint32_t page, uint64_t sector, uint32_t n, uint32_t seed)
{
    const uint64_t *w = (const uint64_t *)(WINDOW_VA + page * 4096ull);
    for (uint32_t s = 0; s < n; s++)
        for (uint32_t i = 0; i < 64; i++)
            if (w[s * 64 + i] != word(sector + s, i, seed))
                return false;
    return true;
}

long io_retry(struct pith_client *c, bool write, uint64_t sector, uint32_t count, uint32_t page, int *reattached)
{
    uint32_t npages = (count * 512 + 4095) / 4096;
    for (int tries = 0;; tries++) {
        long err = write ? blk_write(c, sector, count, page) : blk_read(c, sector, count, page);
        if (err != BLK_E_NO_WINDOW || tries == 5)
            return err;
        if (reattached)
            (*reattached)++;
        if ((err = attach_pages(c, page, npages)))
            return err;
    }
}

/* The image's first sectors and its last carry "PITH%08u" (tests/system/storage.sh wrote them). */
static bool stamped(uint64_t va, uint64_t sector)
{
    char want[16];
    snprintf(want, sizeof want, "PITH%08lu", sector);
    return !memcmp((const void *)va, want, 12);
}

static void protocol_checks(struct pith_client *c)
{
    uint32_t max_pages = 0, ro = 9;
    long err = blk_info(c, &disk_sectors, &max_pages, &ro);
    check(!err && disk_sectors == 32768 && max_pages == PAGES && ro == 0, "info",
          "error %#lx, %lu sectors, %u pages, read-only %u", err, disk_sectors, max_pages, ro);
    err = blk_read(c, 0, 1, 0);
    check(err == BLK_E_NO_WINDOW, "read_before_attach_no_window", "error %#lx", err);
    /* attach refusals: a page past the window; frames without PHYS or WRITE; not a frame. */
    uint64_t nophys = pith_slot_alloc(), rdonly = pith_slot_alloc();
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, nophys, frames[0], PITH_RIGHT_READ | PITH_RIGHT_WRITE, 0);
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, rdonly, frames[0], PITH_RIGHT_READ | PITH_RIGHT_PHYS, 0);
    long e1 = blk_attach(c, PAGES, frames[0]), e2 = blk_attach(c, 0, nophys), e3 = blk_attach(c, 0, rdonly);
    long e4 = blk_attach(c, 0, pith_tls_self()->ntfn);
    check(e1 == BLK_E_BAD_WINDOW && e2 == BLK_E_BAD_WINDOW && e3 == BLK_E_BAD_WINDOW && e4 == BLK_E_BAD_WINDOW,
          "attach_refusals_bad_window", "page 64 %#lx, no PHYS %#lx, read-only %#lx, a notification %#lx", e1, e2,
          e3, e4);
    err = attach_pages(c, 0, PAGES);
    check(!err, "attach_whole_window", "error %#lx", err);
    /* The stamps the scenario wrote, one read of 32 sectors over 4 pages, and the last sector. */
    bool ok = !(err = blk_read(c, 0, 32, 0));
    for (uint32_t s = 0; ok && s < 32; s++)
        ok = stamped(WINDOW_VA + s * 512ull, s);
    check(ok, "read_known_sectors", "error %#lx", err);
    err = blk_read(c, disk_sectors - 1, 1, 5);
    check(!err && stamped(WINDOW_VA + 5 * 4096ull, disk_sectors - 1), "read_last_sector", "error %#lx", err);
    long r1 = blk_read(c, disk_sectors - 1, 2, 0), r2 = blk_read(c, disk_sectors, 1, 0);
    long r3 = blk_read(c, ~0ull, 1, 0), r4 = blk_write(c, disk_sectors - 3, 8, 0);
    check(r1 == BLK_E_RANGE && r2 == BLK_E_RANGE && r3 == BLK_E_RANGE && r4 == BLK_E_RANGE, "past_the_end_range",
          "straddling %#lx, at the end %#lx, far %#lx, write %#lx", r1, r2, r3, r4);
    long w1 = blk_read(c, 0, 1, PAGES), w2 = blk_read(c, 0, 9, PAGES - 1), w3 = blk_write(c, 0, PAGES * 8 + 1, 0);
    check(w1 == BLK_E_BAD_WINDOW && w2 == BLK_E_BAD_WINDOW && w3 == BLK_E_BAD_WINDOW, "past_the_window_bad_window",
          "page 64 %#lx, 9 sectors at page 63 %#lx, 513 sectors %#lx", w1, w2, w3);
    /* Write then read back: the whole window (512 sectors), and an odd count at an odd page. */
    pattern_fill(0, 4096, 512, 1);
    long a = blk_write(c, 4096, 512, 0);
    memset((void *)WINDOW_VA, 0, PAGES * 4096);
    long b = blk_read(c, 4096, 512, 0);
    check(!a && !b && pattern_ok(0, 4096, 512, 1), "write_read_512_sectors", "write %#lx, read %#lx", a, b);
    pattern_fill(3, 7777, 7, 2);
    a = blk_write(c, 7777, 7, 3);
    memset((void *)WINDOW_VA, 0, PAGES * 4096);
    b = blk_read(c, 7777, 7, 3);
    uint8_t after = *(volatile uint8_t *)(WINDOW_VA + 3 * 4096 + 7 * 512);
    check(!a && !b && pattern_ok(3, 7777, 7, 2) && after == 0, "write_read_7_sectors_at_page_3",
          "write %#lx, read %#lx, byte after %#x", a, b, after);
    a = blk_write(c, 100, 0, 0);
    check(!a, "zero_sectors_nothing_done", "error %#lx", a);
    err = blk_flush(c);
    check(!err, "flush", "error %#lx", err);
    /* A figure, not a check: 16 reads of the whole window (4 MiB) one after another. */
    const struct pith_time_page *clock = (const struct pith_time_page *)pith_bootinfo->time_page;
    uint64_t t0 = pith_clock_ns(clock);
    for (int i = 0; i < 16 && !err; i++)
        err = blk_read(c, (uint64_t)i * 512, 512, 0);
    uint64_t us = (pith_clock_ns(clock) - t0) / 1000;
    printf("%s: 16 reads of 256 KiB one at a time: %lu us (%lu KiB/s)\n", me, us, us ? (uint64_t)4096 * 1000000 / us : 0);
    /* Pages revoked by their owner are no longer attached: no_window, never a write into them. */
    uint64_t spare = pith_object_new(PITH_OBJ_FRAME, 0), copy = pith_slot_alloc();
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, copy, spare, PITH_RIGHTS_ALL, 0);
    a = blk_attach(c, 63, copy);
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE, spare, 0, 0, 0);
    b = blk_read(c, 0, 8, 63);
    long again = blk_attach(c, 63, frames[63]);
    check(!a && b == BLK_E_NO_WINDOW && !again, "revoked_page_no_window", "attach %#lx, read %#lx, again %#lx", a, b,
          again);
}

/*
 * The second client (blktest-b): its window is its own, though the first
 * (which publishes /test/blka once its pages are attached) has attached
 * all of its own.  Alone (blktest-solo) it does the same without waiting.
 */
static void second_client(struct pith_client *c, bool wait_first)
{
    struct pith_client *names = names_client();
    uint64_t slot = pith_slot_alloc();
    for (int i = 0; wait_first && i < 600 && names_lookup(names, "/test/blka", slot); i++)
        pith_sleep_ns(100000000);
    long err = blk_read(c, 0, 1, 0);
    check(err == BLK_E_NO_WINDOW, "second_client_has_its_own_window", "error %#lx", err);
    int reattached = 0;
    bool ok = true;
    for (uint32_t round = 0; round < 20 && ok; round++) {
        pattern_fill(0, 20000, 64, 100 + round);
        long a = io_retry(c, true, 20000, 64, 0, &reattached);
        memset((void *)WINDOW_VA, 0, 8 * 4096);
        long b = io_retry(c, false, 20000, 64, 0, &reattached);
        ok = !a && !b && pattern_ok(0, 20000, 64, 100 + round);
    }
    check(ok && reattached >= 1, "second_client_writes_reads_concurrently", "reattached %d", reattached);
}

int main(void)
{
    me = pith_bootinfo->cmdline;
    pith_mutex_init(&out);
    pith_mutex_init(&bindings_lock);
    for (int p = 0; p < PAGES; p++)
        if (!(frames[p] = pith_object_new(PITH_OBJ_FRAME, 0)) ||
            pith_map_page(frames[p], WINDOW_VA + p * 4096ull, PITH_RIGHT_READ | PITH_RIGHT_WRITE, 0)) {
            printf("%s: FAIL setup: no memory for the window\n", me);
            return 1;
        }
    struct pith_client *c = blk_binding();
    if (!strcmp(me, "blktest-b") || !strcmp(me, "blktest-solo")) {
        second_client(c, !strcmp(me, "blktest-b"));
    } else {
        protocol_checks(c);
        partition_checks(c);
        register_name("/test/blka", pith_object_new(PITH_OBJ_ENDPOINT, 0));
        pci_checks();
        load_checks();
        kill_checks();
    }
    printf("%s: %d passed, %d failed\n", me, passed, failed);
    return failed;
}
