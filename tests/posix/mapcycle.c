/*
 * A long life of mapping and unmapping: 1 MiB pieces, odd-sized pieces
 * unmapped a middle first, then a head and a tail, mremap growing and
 * shrinking, MAP_FIXED over the middle of a mapping, 12 MiB at once, and
 * a fork amid it all; well over 64 MiB mapped in all, never more than a
 * few MiB at once.  Every page is checked zero when it is new, stamped,
 * and checked again before it goes; a hole is checked unmapped.
 */
#define _GNU_SOURCE
#include "common.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG     4096
#define WORDS  (PG / 8)
#define RING   6

static long mapped;                     /* pages mapped in all */
static long wrong;                      /* pages found not as they should be */

static unsigned char *map(size_t pages)
{
    void *m = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    mapped += (long)pages;
    return m;
}

/* Pages [from, to) of m: each checked all zero, then stamped tag + its index in its first and last word. */
static void stamp(unsigned char *m, size_t from, size_t to, uint64_t tag)
{
    for (size_t i = from; i < to; i++) {
        uint64_t *w = (uint64_t *)(m + i * PG);
        for (int j = 0; j < WORDS; j++)
            if (w[j]) {
                wrong++;
                break;
            }
        w[0] = tag + i;
        w[WORDS - 1] = ~(tag + i);
    }
}

/* Pages [from, to) of m still hold their stamps; the count of those that do not is added to wrong. */
static int kept(const unsigned char *m, size_t from, size_t to, uint64_t tag)
{
    long was = wrong;
    for (size_t i = from; i < to; i++) {
        const uint64_t *w = (const uint64_t *)(m + i * PG);
        if (w[0] != tag + i || w[WORDS - 1] != ~(tag + i) || w[1] != 0)
            wrong++;
    }
    return wrong == was;
}

static int unmapped(void *at) { return msync(at, PG, MS_ASYNC) == -1 && errno == ENOMEM; }

/* Pieces of 1 MiB mapped, stamped, checked and unmapped, one at a time. */
static int megabytes(int count, uint64_t tag)
{
    int ok = 1;
    for (int i = 0; i < count; i++) {
        unsigned char *m = map(256);
        if (!m)
            return 0;
        stamp(m, 0, 256, tag + (uint64_t)i * 1000);
        ok &= kept(m, 0, 256, tag + (uint64_t)i * 1000);
        ok &= munmap(m, 256 * PG) == 0;
    }
    return ok;
}

/* The ring of odd-sized pieces: an entry's middle is unmapped first, its head and tail at its next turn. */
static struct piece {
    unsigned char *m;
    size_t pages;
    uint64_t tag;
    int holed;
} ring[RING];

static int turn(struct piece *e, size_t pages, uint64_t tag)
{
    int ok = 1;
    if (e->m && !e->holed) {
        size_t a = e->pages / 3, b = e->pages - e->pages / 3;
        ok &= kept(e->m, 0, e->pages, e->tag);
        ok &= munmap(e->m + a * PG, (b - a) * PG) == 0;
        ok &= kept(e->m, 0, a, e->tag) && kept(e->m, b, e->pages, e->tag);
        ok &= unmapped(e->m + a * PG) && unmapped(e->m + (b - 1) * PG);
        e->holed = 1;
        return ok;
    }
    if (e->m) {
        size_t a = e->pages / 3, b = e->pages - e->pages / 3;
        ok &= kept(e->m, 0, a, e->tag) && kept(e->m, b, e->pages, e->tag);
        if (a)
            ok &= munmap(e->m, a * PG) == 0;
        ok &= munmap(e->m + b * PG, (e->pages - b) * PG) == 0;
    }
    e->m = map(pages);
    if (!e->m)
        return 0;
    e->pages = pages, e->tag = tag, e->holed = 0;
    stamp(e->m, 0, pages, tag);
    return ok;
}

static int ring_kept(void)
{
    int ok = 1;
    for (int i = 0; i < RING; i++) {
        struct piece *e = &ring[i];
        size_t a = e->holed ? e->pages / 3 : e->pages, b = e->holed ? e->pages - e->pages / 3 : e->pages;
        if (e->m)
            ok &= kept(e->m, 0, a, e->tag) && kept(e->m, b, e->pages, e->tag);
    }
    return ok;
}

/* mremap: grown (moved if need be) and shrunk in turn, the kept part checked, the new part zero. */
static int remaps(int count)
{
    static const size_t sizes[] = { 300, 50, 700, 129, 1021, 3, 517 };
    size_t pages = 100;
    unsigned char *m = map(pages);
    if (!m)
        return 0;
    stamp(m, 0, pages, 7000000);
    int ok = 1;
    for (int i = 0; i < count; i++) {
        size_t want = sizes[i % (sizeof sizes / sizeof sizes[0])];
        unsigned char *n = mremap(m, pages * PG, want * PG, MREMAP_MAYMOVE);
        if (n == MAP_FAILED)
            return 0;
        ok &= kept(n, 0, want < pages ? want : pages, 7000000);
        if (want > pages) {
            mapped += (long)(want - pages);
            stamp(n, pages, want, 7000000);
        }
        m = n, pages = want;
    }
    return ok && munmap(m, pages * PG) == 0;
}

/* MAP_FIXED over 64 pages of a mapping of 512, again and again: the new pages zero, the rest kept. */
static int fixed_over(int count)
{
    unsigned char *m = map(512);
    if (!m)
        return 0;
    stamp(m, 0, 512, 9000000);
    int ok = 1;
    for (int i = 0; i < count; i++) {
        size_t at = (size_t)(i * 37 % 448);
        void *f = mmap(m + at * PG, 64 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        if (f != m + at * PG)
            return 0;
        mapped += 64;
        stamp(m, at, at + 64, 9000000);
        ok &= kept(m, 0, 512, 9000000);
    }
    return ok && munmap(m, 512 * PG) == 0;
}

int main(void)
{
    printf("64 pieces of 1 MiB: %s\n", megabytes(64, 1000000) ? "yes" : "no");

    static const size_t odd[] = { 5, 37, 101, 263, 389, 131, 11, 509 };
    int ok = 1, turns = 0;
    for (long goal = mapped + 64 * 256; mapped < goal && ok; turns++)   /* (a failed map ends it) */
        ok &= turn(&ring[turns % RING], odd[turns % 8], 2000000 + (uint64_t)turns * 10000);
    printf("odd pieces, middles unmapped first, over 64 MiB: %s (%d turns)\n", ok ? "yes" : "no", turns);

    printf("mremap grown and shrunk 21 times: %s\n", remaps(21) ? "yes" : "no");
    printf("MAP_FIXED over a mapping's middle 100 times: %s\n", fixed_over(100) ? "yes" : "no");

    unsigned char *big = map(3072);
    if (big) {
        stamp(big, 0, 3072, 8000000);
        ok = kept(big, 0, 3072, 8000000) && munmap(big, 3072 * PG) == 0;
    }
    printf("12 MiB at once: %s\n", big && ok ? "yes" : "no");

    /* A fork amid the ring's holes: the child sees the same pages, and its writes and maps are its own. */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int c = ring_kept();
        for (int i = 0; i < RING; i++)
            if (ring[i].m)
                ring[i].m[8] = 0x77;    /* copy-on-write: the parent's stays 0 */
        c &= megabytes(16, 5000000);
        for (int i = 0; i < RING; i++)
            c &= !ring[i].m || ring[i].m[8] == 0x77;
        _exit(c && !wrong ? 0 : 1);
    }
    int status = -1;
    waitpid(pid, &status, 0);
    int parent = ring_kept();
    for (int i = 0; i < RING; i++)
        parent &= !ring[i].m || ring[i].m[8] == 0;
    printf("fork amid the holes: child %s, parent's pages its own %s\n",
           WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "yes" : "no", parent ? "yes" : "no");

    ok = 1;
    for (int i = 0; i < RING; i++)      /* holes and all */
        ok &= munmap(ring[i].m, ring[i].pages * PG) == 0 && unmapped(ring[i].m);
    printf("the ring unmapped: %s\n", ok ? "yes" : "no");
    printf("mapped in all: %ld MiB, pages not as they should be: %ld\n", mapped / 256, wrong);
    return 0;
}
