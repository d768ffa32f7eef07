/*
 * malloc, free, calloc, realloc.  Every block starts with a 16-byte header
 * giving its size.  Small blocks (up to 2 KiB with the header) come in
 * power-of-two classes carved from whole pages, one free list per class.
 * Large blocks are runs of pages; free runs are kept in address order and
 * merged with their neighbours.  New pages come from the heap (pages.c).
 * One lock serialises it all.
 */
#include "heap.h"
#include "pith.h"
#include "sync.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HEADER      16
#define MIN_SHIFT   5                   /* 32-byte blocks */
#define MAX_SHIFT   11                  /* 2 KiB blocks */
#define CLASSES     (MAX_SHIFT - MIN_SHIFT + 1)
#define MAGIC       0x6d616c6c6f63ull   /* "malloc": catches frees of foreign pointers */

struct header {
    size_t size;                        /* of the whole block, header included */
    uint64_t magic;
};

struct free_block { struct free_block *next; };
struct run { size_t bytes; struct run *next; };

static pith_mutex_t lock;
static struct free_block *classes[CLASSES];
static struct run *runs;                /* free runs of pages, by address */

void pith_malloc_init(void)
{
    if (pith_mutex_init(&lock)) {
        puts_log("libc: no notification for the malloc lock\n");
        pith_end_task(1);
    }
}

/* Puts a run back, merging it with the free runs it touches. */
static void run_free(void *p, size_t bytes)
{
    struct run **link = &runs;
    while (*link && (uintptr_t)*link < (uintptr_t)p)
        link = &(*link)->next;
    struct run *r = p, *next = *link;
    r->bytes = bytes;
    r->next = next;
    if (next && (uintptr_t)r + r->bytes == (uintptr_t)next) {
        r->bytes += next->bytes;
        r->next = next->next;
    }
    *link = r;
    /* And with the one before, found again from the start (the list is short). */
    for (struct run *prev = runs; prev && prev != r; prev = prev->next)
        if (prev->next == r && (uintptr_t)prev + prev->bytes == (uintptr_t)r) {
            prev->bytes += r->bytes;
            prev->next = r->next;
            break;
        }
}

/* `pages` contiguous pages: the first free run that fits, else fresh ones. */
static void *run_alloc(size_t pages)
{
    size_t bytes = pages * PITH_PAGE;
    for (struct run **link = &runs; *link; link = &(*link)->next) {
        struct run *r = *link;
        if (r->bytes < bytes)
            continue;
        if (r->bytes == bytes) {
            *link = r->next;
        } else {
            struct run *rest = (struct run *)((char *)r + bytes);
            rest->bytes = r->bytes - bytes;
            rest->next = r->next;
            *link = rest;
        }
        return r;
    }
    return pith_heap_grow(pages);
}

static int class_of(size_t total)
{
    int c = 0;
    while (((size_t)1 << (MIN_SHIFT + c)) < total)
        c++;
    return c;
}

static void *alloc_locked(size_t n)
{
    if (n > SIZE_MAX - HEADER - PITH_PAGE)
        return NULL;
    size_t total = n + HEADER;
    struct header *h;
    if (total <= ((size_t)1 << MAX_SHIFT)) {
        int c = class_of(total);
        size_t size = (size_t)1 << (MIN_SHIFT + c);
        if (!classes[c]) {
            char *page = run_alloc(1);
            if (!page)
                return NULL;
            for (size_t off = 0; off < PITH_PAGE; off += size) {
                struct free_block *b = (struct free_block *)(page + off);
                b->next = classes[c];
                classes[c] = b;
            }
        }
        h = (struct header *)classes[c];
        classes[c] = classes[c]->next;
        h->size = size;
    } else {
        size_t pages = (total + PITH_PAGE - 1) / PITH_PAGE;
        if (!(h = run_alloc(pages)))
            return NULL;
        h->size = pages * PITH_PAGE;
    }
    h->magic = MAGIC;
    return h + 1;
}

static struct header *header_of(void *p)
{
    struct header *h = (struct header *)p - 1;
    if (h->magic != MAGIC) {
        puts_log("libc: free or realloc of a pointer malloc did not return (or freed twice)\n");
        abort();
    }
    return h;
}

void *malloc(size_t n)
{
    pith_mutex_lock(&lock);
    void *p = alloc_locked(n);
    pith_mutex_unlock(&lock);
    if (!p)
        errno = ENOMEM;
    return p;
}

void free(void *p)
{
    if (!p)
        return;
    struct header *h = header_of(p);
    pith_mutex_lock(&lock);
    h->magic = 0;
    if (h->size <= ((size_t)1 << MAX_SHIFT)) {
        int c = class_of(h->size);
        struct free_block *b = (struct free_block *)h;
        b->next = classes[c];
        classes[c] = b;
    } else {
        run_free(h, h->size);
    }
    pith_mutex_unlock(&lock);
}

void *calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = malloc(count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

void *realloc(void *p, size_t n)
{
    if (!p)
        return malloc(n);
    struct header *h = header_of(p);
    size_t have = h->size - HEADER;
    if (n <= have)
        return p;
    void *q = malloc(n);
    if (!q)
        return NULL;
    memcpy(q, p, have);
    free(p);
    return q;
}
