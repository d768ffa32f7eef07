/*
 * A process's own paging (docs/exokernel.md): a virtual region of many
 * pages backed by a few physical frames bound to the process by the
 * memory manager (mem.idl's frames_bind), with a replacement policy the
 * application chooses and a backing store it owns.  The manager is not
 * involved after the bind: a handler thread of this library serves the
 * page faults of the application's threads by mapping its frames itself.
 * It also answers the manager's visible revocation: asked for frames back,
 * it picks them by its own policy, writes them back and returns them (or,
 * told not to cooperate, ignores the request); told which frames were
 * taken by force at the deadline (the abort protocol), it forgets them
 * and marks the pages whose only copy they held as lost.
 */
#ifndef LIB_EXOPAGE_H
#define LIB_EXOPAGE_H

#include <stdbool.h>
#include <stdint.h>
#include "idl.h"
#include "thread.h"

#define EXOPAGE_MAX_FRAMES  64          /* the manager binds at most 64 frames to a client */
#define EXOPAGE_MAX_PAGES   1024
#define EXOPAGE_NONE        0xffffu

enum exopage_policy {
    EXOPAGE_CLOCK,      /* second chance by the hardware's accessed bits: least recently used, roughly */
    EXOPAGE_MRU,        /* the page brought in last goes first: for loops over more pages than frames */
};

/* The backing store the application owns: page i of the region, a whole page each way. 0 or an error. */
struct exopage_store {
    void *ctx;
    long (*read)(void *ctx, uint32_t page, void *buf);
    long (*write)(void *ctx, uint32_t page, const void *buf);
};

struct exopage;

struct exopage_config {
    const struct pith_resolver *resolver;   /* finds the memory manager under mem_name (our client capability) */
    const char *mem_name;
    uint64_t base;                          /* the paged region: pages pages from base */
    uint32_t pages;
    uint32_t frames;                        /* frames to bind */
    uint64_t window;                        /* where the library maps its frames to fill and write them (frames pages) */
    enum exopage_policy policy;
    bool cooperate;                         /* false: revocation requests are ignored (read at each; may change) */
    struct exopage_store store;
    /* Called in the handler thread after it dealt with a revocation (asked or taken); may be NULL. */
    void (*on_revoke)(struct exopage *x, void *ctx);
    void *on_revoke_ctx;
};

struct exopage_stats {
    uint64_t faults;        /* page faults served */
    uint64_t reads;         /* pages filled from the store */
    uint64_t writebacks;    /* dirty pages written to the store */
    uint64_t evictions;     /* pages that left a frame for another page */
    uint64_t returned;      /* frames given back when asked */
    uint64_t ignored;       /* requests not answered (cooperate false) */
    uint64_t taken;         /* frames taken by force (the abort protocol) */
    uint64_t lost;          /* pages whose only copy was in a frame taken by force */
    uint64_t refused;       /* faults not served: outside the region, or no frame left */
};

struct exopage_frame {
    uint64_t cap, win;          /* our capability (mapped at the page's address) and its copy in the window */
    uint32_t vpage;             /* the page it holds, EXOPAGE_NONE: free */
    uint32_t loaded;            /* when it was filled (MRU) */
    bool gone;                  /* returned, or taken */
};

struct exopage {
    struct exopage_config cfg;
    uint64_t first_slot, ep, ntfn, reply;
    uint32_t live;                          /* frames still held */
    uint32_t hand, clock;
    struct exopage_frame frame[EXOPAGE_MAX_FRAMES];
    uint16_t where[EXOPAGE_MAX_PAGES];      /* frame holding the page, or EXOPAGE_NONE */
    uint8_t state[EXOPAGE_MAX_PAGES];       /* EXOPAGE_STORED, _DIRTY, _LOST */
    struct exopage_stats stats;
    struct pith_client mem;                 /* the handler thread's binding to the manager */
    pith_thread_t *thread;
    volatile bool ready;
    volatile long thread_error;
};

enum { EXOPAGE_STORED = 1, EXOPAGE_DIRTY = 2, EXOPAGE_LOST = 4 };

/*
 * Binds the frames, maps them in the window, and starts the handler
 * thread; x->ep is then the fault endpoint to give the application's
 * threads that touch the region.  A memory-manager error (MEM_E_QUOTA
 * and the like), PITH_E_INVALID_ARG for a bad configuration, or
 * PITH_E_NO_MEMORY.
 */
long exopage_start(struct exopage *x, const struct exopage_config *cfg);

/*
 * Binds again the frames given back or taken (when the pressure has
 * passed), into the same slots; not while the handler deals with a
 * revocation.  A memory-manager error (then the frames bound so far stay).
 */
long exopage_rebind(struct exopage *x);

/* Ends the handler thread and gives every frame still held back. */
void exopage_stop(struct exopage *x);

/* Whether page i lost its data to a frame taken by force (its next touch finds zeroes). */
static inline bool exopage_lost(const struct exopage *x, uint32_t i)
{
    return x->state[i] & EXOPAGE_LOST;
}

#endif
