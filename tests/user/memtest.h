/*
 * Helpers of the memory-manager tests (test_mem*.c): a manager started as
 * a thread of ours over 1 MiB of its own, clients in our address space,
 * their threads, and the accounting check.
 */
#ifndef PITH_MEMTEST_H
#define PITH_MEMTEST_H

#include "idltest.h"
#include "memserver.h"

#define MEM_BYTES_BITS  20
#define REGION_A    0x5000000000ull     /* a GiB per client, so their page tables are their own */
#define REGION_B    0x5040000000ull
#define WINDOW      0x5800000000ull     /* the manager's view of its pool */
#define STACKS      0x5900000000ull
#define PAGE        4096ull

struct mm {
    uint64_t parent, ep, tcb;
    uint64_t start_bytes;
    struct pith_client owner;
};

/* The running manager's state (one at a time). */
extern struct mem_state mm_state;

/* A manager over a fresh 1 MiB, owned by us under the name "mem-owner". */
long mm_start(struct mm *m);
/* Its free memory is what it was at the start, every page free, nothing committed. */
bool mm_accounted(struct mm *m);
/* Ends it and takes its memory back: true if the untyped is whole again. */
bool mm_stop(struct mm *m);
/* A client with a quota, in our address space; its endpoint (in *ep) under `name`; returns its id. */
uint32_t mm_client(struct mm *m, struct pith_client *c, const char *name, uint32_t quota, uint64_t *ep);
/* A thread whose page faults go to ep. */
uint64_t client_thread(void (*fn)(uint64_t), uint64_t arg, uint64_t ep, unsigned prio);
uint64_t thread_state(uint64_t t);
/* Waits (up to two seconds) for *flag to reach n. */
bool wait_for(volatile uint64_t *flag, uint64_t n);
void end_thread(uint64_t t);

#endif
