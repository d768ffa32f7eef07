/* malloc, free, calloc, realloc: sizes, reuse, merging, exhaustion. */
#include "utest.h"
#include "heap.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

UTEST(malloc_sizes_are_aligned_and_disjoint)
{
    static const size_t sizes[] = { 0, 1, 15, 16, 17, 100, 1000, 2032, 2033, 4096, 5000, 70000 };
    enum { N = sizeof sizes / sizeof sizes[0] };
    unsigned char *p[N];
    for (int i = 0; i < N; i++) {
        p[i] = malloc(sizes[i]);
        UT_ASSERT(p[i]);
        UT_EQ((uintptr_t)p[i] % 16, 0);
        UT_ASSERT((uintptr_t)p[i] >= PITH_HEAP_BASE && (uintptr_t)p[i] < PITH_HEAP_LIMIT);
        memset(p[i], i + 1, sizes[i]);
    }
    /* Every block still holds its own pattern: none overlaps another. */
    for (int i = 0; i < N; i++)
        for (size_t j = 0; j < sizes[i]; j++)
            UT_EQ(p[i][j], i + 1);
    for (int i = 0; i < N; i++)
        free(p[i]);
    free(NULL);
}

UTEST(malloc_reuses_what_was_freed)
{
    void *a = malloc(100);
    free(a);
    UT_EQ((uintptr_t)malloc(100), (uintptr_t)a);        /* same class: the block just freed */
    free(a);
    void *big = malloc(3 * 4096);
    UT_ASSERT(big);
    free(big);
    void *again = malloc(3 * 4096);
    UT_EQ((uintptr_t)again, (uintptr_t)big);
    free(again);
}

UTEST(calloc_zeroes_and_checks_overflow)
{
    unsigned char *p = malloc(256);
    UT_ASSERT(p);
    memset(p, 0xee, 256);
    free(p);
    unsigned char *q = calloc(16, 16);                  /* very likely the same block */
    UT_ASSERT(q);
    for (int i = 0; i < 256; i++)
        UT_EQ(q[i], 0);
    free(q);
    errno = 0;
    UT_ASSERT(calloc(SIZE_MAX / 2, 4) == NULL);
    UT_EQ(errno, ENOMEM);
    UT_ASSERT(malloc(SIZE_MAX - 8) == NULL);
}

UTEST(realloc_keeps_the_contents)
{
    char *p = realloc(NULL, 10);
    UT_ASSERT(p);
    memcpy(p, "0123456789", 10);
    for (size_t n = 20; n <= 40960; n *= 2) {
        p = realloc(p, n);
        UT_ASSERT(p);
        UT_EQ(memcmp(p, "0123456789", 10), 0);
    }
    char *same = realloc(p, 5);                         /* shrinking keeps the block */
    UT_EQ((uintptr_t)same, (uintptr_t)p);
    free(same);
}

#define CHUNK (64 * 1024)
#define MAX_CHUNKS ((1u << PITH_RUNTIME_HEAP_BITS) / CHUNK + 1)

UTEST(malloc_exhaustion_returns_null_then_recovers)
{
    static void *chunks[MAX_CHUNKS];
    unsigned n = 0;
    errno = 0;
    while (n < MAX_CHUNKS && (chunks[n] = malloc(CHUNK)))
        memset(chunks[n++], 0x5a, 64);
    /* The heap's untyped ran dry before the loop's bound, and said so. */
    UT_ASSERT(n < MAX_CHUNKS);
    UT_ASSERT(n > MAX_CHUNKS / 2);
    UT_EQ(errno, ENOMEM);
    UT_ASSERT(malloc(CHUNK) == NULL);
    /* Small blocks may still come from a partly used page; nothing crashes either way. */
    for (unsigned i = 0; i < n; i++)
        free(chunks[i]);
    /* Freed runs merge: one block of half the memory fits where only chunks were. */
    void *half = malloc((size_t)(n / 2) * CHUNK);
    UT_ASSERT(half);
    free(half);
    for (unsigned i = 0; i < n; i++)
        UT_ASSERT((chunks[i] = malloc(CHUNK)));
    for (unsigned i = 0; i < n; i++)
        free(chunks[i]);
}
