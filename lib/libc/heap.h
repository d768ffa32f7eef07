/* The heap's address range and page source (pages.c), beneath malloc. */
#ifndef LIBC_HEAP_H
#define LIBC_HEAP_H

#include <stddef.h>
#include <stdint.h>

#define PITH_PAGE       4096ull
#define PITH_HEAP_BASE  0x100000000ull      /* 4 GiB: far above the program image */
#define PITH_HEAP_LIMIT 0x200000000ull      /* where thread stacks begin */

void pith_heap_init(uint64_t untyped);

/* `pages` fresh zeroed pages, contiguous after the previous ones; NULL when memory runs out. */
void *pith_heap_grow(size_t pages);

#endif
