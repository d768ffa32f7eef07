/*
 * Benchmark statistics shared by the kernel's and user level's figures:
 * sort the samples (heapsort: in place, no recursion, no allocation) and
 * report median, minimum and maximum.
 */
#ifndef PITH_BENCH_STATS_H
#define PITH_BENCH_STATS_H

#include <stdint.h>

static inline void bench_sift(uint64_t *a, int root, int n)
{
    while (2 * root + 1 < n) {
        int child = 2 * root + 1;
        if (child + 1 < n && a[child] < a[child + 1])
            child++;
        if (a[root] >= a[child])
            return;
        uint64_t t = a[root];
        a[root] = a[child];
        a[child] = t;
        root = child;
    }
}

static inline void bench_sort(uint64_t *a, int n)
{
    for (int i = n / 2 - 1; i >= 0; i--)
        bench_sift(a, i, n);
    for (int end = n - 1; end > 0; end--) {
        uint64_t t = a[0];
        a[0] = a[end];
        a[end] = t;
        bench_sift(a, 0, end);
    }
}

#endif
