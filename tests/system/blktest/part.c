/*
 * Exokernel partitions (docs/exokernel.md): sector ranges bound to
 * capabilities of their own, every refusal of the bind, requests checked
 * against the partition only (outside refused, nothing written past it),
 * and the library file system of lib/exofs running in this process over
 * its partition.
 */
#include "blktest.h"
#include "exofs.h"
#include "pith.h"
#include "tls.h"

#include <string.h>

#define A_FIRST 8192
#define A_COUNT 2048
#define B_FIRST (A_FIRST + A_COUNT)
#define B_COUNT 1024

static uint8_t data[200 * 1024], back[200 * 1024];

/* A binding whose "name" is the partition's capability in *ctx. */
static long by_cap(void *ctx, const char *name, uint64_t dest)
{
    return pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, dest, *(uint64_t *)ctx, PITH_RIGHTS_ALL, 0);
}

static void fill(uint64_t n, uint32_t seed)
{
    for (uint64_t i = 0; i < n; i++)
        data[i] = (uint8_t)(i * 131 + seed);
}

static bool file_is(struct exofs *fs, const char *name, uint64_t n, uint32_t seed)
{
    uint64_t size = ~0ull;
    fill(n, seed);
    memset(back, 0xee, sizeof back);
    return !exofs_read(fs, name, back, sizeof back, &size) && size == n && !memcmp(back, data, n);
}

static uint64_t start_of(const struct exofs *fs, const char *name)
{
    for (int i = 0; i < EXOFS_FILES; i++)
        if (!strcmp(fs->dir.e[i].name, name))
            return fs->dir.e[i].start;
    return ~0ull;
}

static void exofs_checks(struct pith_client *pc, struct pith_client *pbc)
{
    static struct exofs fs, again, other;
    void *w = (void *)WINDOW_VA;
    long err = exofs_format(&fs, pc, w, PAGES);
    check(!err && exofs_free(&fs) == A_COUNT - 8, "exofs_format", "error %#lx, %lu free", err, exofs_free(&fs));
    fill(100, 1);
    long a = exofs_write(&fs, "motd", data, 100);
    fill(sizeof data, 2);
    long b = exofs_write(&fs, "big", data, sizeof data);
    long c = exofs_write(&fs, "empty", data, 0);
    check(!a && !b && !c && file_is(&fs, "motd", 100, 1) && file_is(&fs, "big", sizeof data, 2) &&
              file_is(&fs, "empty", 0, 0) && exofs_free(&fs) == A_COUNT - 8 - 1 - 400,
          "exofs_files_written_and_read", "%#lx %#lx %#lx, %lu free", a, b, c, exofs_free(&fs));
    fill(5000, 3);
    a = exofs_write(&fs, "motd", data, 5000);
    check(!a && file_is(&fs, "motd", 5000, 3) && exofs_free(&fs) == A_COUNT - 8 - 10 - 400,
          "exofs_file_replaced", "%#lx, %lu free", a, exofs_free(&fs));
    a = exofs_remove(&fs, "big");
    uint64_t size;
    b = exofs_read(&fs, "big", back, sizeof back, &size);
    c = exofs_remove(&fs, "big");
    check(!a && b == EXOFS_E_NO_FILE && c == EXOFS_E_NO_FILE && exofs_free(&fs) == A_COUNT - 8 - 10,
          "exofs_file_removed_space_back", "%#lx %#lx %#lx, %lu free", a, b, c, exofs_free(&fs));
    char long_name[EXOFS_NAME + 2];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = 0;
    a = exofs_write(&fs, "", data, 1);
    b = exofs_write(&fs, long_name, data, 1);
    c = exofs_write(&fs, "huge", data, PAGES * 4096ull);
    long d = exofs_read(&fs, "motd", back, 4999, &size);
    check(a == EXOFS_E_NAME && b == EXOFS_E_NAME && c == EXOFS_E_TOO_BIG && d == EXOFS_E_TOO_BIG, "exofs_refusals",
          "empty name %#lx, long name %#lx, too big %#lx, small buffer %#lx", a, b, c, d);
    /* Mounted afresh: what was written is there; the other partition holds no file system of ours. */
    a = exofs_mount(&again, pc, w, PAGES);
    b = exofs_mount(&other, pbc, w, PAGES);
    check(!a && file_is(&again, "motd", 5000, 3) && file_is(&again, "empty", 0, 0) && b == EXOFS_E_NOT_EXOFS,
          "exofs_mounted_again", "mount %#lx, other partition %#lx", a, b);
    /* Filled up: 200 KiB files until no extent is left; the space between them is reused first fit. */
    int n = 0;
    char name[8] = "f0";
    fill(sizeof data, 4);
    for (err = 0; !err && n < 20; n++) {
        name[1] = (char)('a' + n);
        err = exofs_write(&again, name, data, sizeof data);
    }
    uint64_t hole = start_of(&again, "fb");
    a = exofs_remove(&again, "fb");
    b = exofs_write(&again, "fz", data, sizeof data);
    check(err == EXOFS_E_NO_SPACE && n == 6 && !a && !b && file_is(&again, "fz", sizeof data, 4) &&
              start_of(&again, "fz") == hole,
          "exofs_full_then_space_reused", "after %d files %#lx, remove %#lx, write %#lx", n, err, a, b);
    /* 63 files at most. */
    for (int i = 0; i < EXOFS_FILES; i++)
        if (again.dir.e[i].name[0])
            exofs_remove(&again, again.dir.e[i].name);
    err = 0;
    for (n = 0; !err && n < EXOFS_FILES + 1; n++) {
        name[0] = (char)('A' + n / 26);
        name[1] = (char)('a' + n % 26);
        err = exofs_write(&again, name, data, 0);
    }
    check(err == EXOFS_E_DIR_FULL && n == EXOFS_FILES + 1, "exofs_directory_full", "%#lx after %d", err, n);
}

void partition_checks(struct pith_client *c)
{
    static uint64_t pa, pb;
    uint32_t ida = 0, idb = 0, id;
    pa = pith_slot_alloc();
    pb = pith_slot_alloc();
    long a = blk_bind(c, A_FIRST, A_COUNT, &ida, pa), b = blk_bind(c, B_FIRST, B_COUNT, &idb, pb);
    check(!a && !b && ida && idb && ida != idb, "partitions_bound", "%#lx %#lx", a, b);
    uint64_t spare = pith_slot_alloc();
    long e1 = blk_bind(c, A_FIRST + 100, 10, &id, spare), e2 = blk_bind(c, A_FIRST - 10, 20, &id, spare);
    long e3 = blk_bind(c, A_FIRST - 10, A_COUNT + B_COUNT + 20, &id, spare);
    long e4 = blk_bind(c, disk_sectors - 8, 16, &id, spare), e5 = blk_bind(c, 100, 0, &id, spare);
    check(e1 == BLK_E_OVERLAP && e2 == BLK_E_OVERLAP && e3 == BLK_E_OVERLAP && e4 == BLK_E_RANGE &&
              e5 == BLK_E_RANGE, "partition_bind_refusals",
          "inside %#lx, straddling %#lx, around both %#lx, past the disk %#lx, empty %#lx", e1, e2, e3, e4, e5);
    struct pith_resolver ra = { by_cap, &pa }, rb = { by_cap, &pb };
    static struct pith_client pc, pbc;
    pith_client_init(&pc, "partition-a", &ra, pith_slot_alloc(), pith_tls_self()->ipc_buffer);
    pith_client_init(&pbc, "partition-b", &rb, pith_slot_alloc(), pith_tls_self()->ipc_buffer);
    uint64_t sectors = 0;
    uint32_t max_pages, ro;
    a = blk_info(&pc, &sectors, &max_pages, &ro);
    b = blk_bind(&pc, 20000, 10, &id, spare);
    long u = blk_unbind(&pc, idb);
    check(!a && sectors == A_COUNT && b == BLK_E_DENIED && u == BLK_E_DENIED, "partition_info_and_no_carving",
          "info %#lx (%lu sectors), bind %#lx, unbind %#lx", a, sectors, b, u);
    /* The partition's window is its own: attached through its capability. */
    a = attach_pages(&pc, 0, PAGES);
    b = attach_pages(&pbc, 0, PAGES);
    /* Its sector 0 is the disk's A_FIRST, its last the disk's A_FIRST + A_COUNT - 1. */
    pattern_fill(0, A_FIRST, 1, 7);
    long w = blk_write(c, A_FIRST, 1, 0);
    memset((void *)WINDOW_VA, 0, 4096);
    long r = blk_read(&pc, 0, 1, 0);
    bool first_ok = pattern_ok(0, A_FIRST, 1, 7);
    pattern_fill(0, A_FIRST + A_COUNT - 1, 1, 8);
    long w2 = blk_write(&pc, A_COUNT - 1, 1, 0);
    memset((void *)WINDOW_VA, 0, 4096);
    long r2 = blk_read(c, A_FIRST + A_COUNT - 1, 1, 0);
    check(!a && !b && !w && !r && first_ok && !w2 && !r2 && pattern_ok(0, A_FIRST + A_COUNT - 1, 1, 8),
          "partition_sectors_are_the_disks", "attach %#lx %#lx, %#lx %#lx %d %#lx %#lx", a, b, w, r, first_ok, w2, r2);
    /* Outside the partition: refused, and the next partition's first sector stays as it was. */
    pattern_fill(0, B_FIRST, 1, 9);
    w = blk_write(c, B_FIRST, 1, 0);
    pattern_fill(0, 0, 16, 10);
    long o1 = blk_read(&pc, A_COUNT, 1, 0), o2 = blk_read(&pc, A_COUNT - 1, 2, 0), o3 = blk_read(&pc, ~0ull, 1, 0);
    long o4 = blk_write(&pc, A_COUNT - 8, 16, 0), o5 = blk_write(&pbc, B_COUNT, 1, 0);
    memset((void *)WINDOW_VA, 0, 4096);
    r = blk_read(c, B_FIRST, 1, 0);
    check(!w && o1 == BLK_E_OUTSIDE && o2 == BLK_E_OUTSIDE && o3 == BLK_E_OUTSIDE && o4 == BLK_E_OUTSIDE &&
              o5 == BLK_E_OUTSIDE && !r && pattern_ok(0, B_FIRST, 1, 9),
          "partition_outside_refused", "past %#lx, straddling %#lx, far %#lx, write %#lx, other %#lx, next intact %d",
          o1, o2, o3, o4, o5, pattern_ok(0, B_FIRST, 1, 9));
    exofs_checks(&pc, &pbc);
    paged_checks(pb);
    /* Unbound: every copy of the capability goes; its sectors may be bound again. */
    a = blk_unbind(c, ida);
    struct pith_msg idm = { .w = { pa } };
    pith_invoke(PITH_SLOT_CSPACE, PITH_CNODE_IDENTIFY, &idm);
    r = blk_read(&pc, 0, 1, 0);
    b = blk_unbind(c, ida);
    long b2 = blk_unbind(c, 99);
    long again = blk_bind(c, A_FIRST, A_COUNT, &id, spare);
    long gone = blk_unbind(c, id) || blk_unbind(c, idb);
    check(!a && idm.w[0] == PITH_OBJ_NULL && r != 0 && b == BLK_E_NO_PARTITION && b2 == BLK_E_NO_PARTITION &&
              !again && !gone,
          "partition_unbound", "unbind %#lx, type %lu, read %#lx, again %#lx, 99 %#lx, rebind %#lx, unbind %ld", a,
          idm.w[0], r, b, b2, again, gone);
}
