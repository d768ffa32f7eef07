/*
 * The memory manager (protocol in mem.idl, docs/memory.md): owns the
 * memory handed to it as one untyped block, gives it to clients as
 * regions within quotas, and is their default pager: demand-zero pages,
 * copy-on-write copies and shared objects, all mapped with
 * PITH_VSPACE_MAP from frame capabilities it keeps, so that taking a page
 * back is deleting one capability; segments kept by mappers (segment.c)
 * and visible revocation (reclaim.c).
 *
 * It runs as one thread in its starter's address space with a capability
 * space of its own (the MEM_SLOT_* layout below); its state is a struct
 * mem_state in that address space, which only the manager's thread
 * touches after the start.
 */
#ifndef SERVERS_MEM_MEMSERVER_H
#define SERVERS_MEM_MEMSERVER_H

#include <stdbool.h>
#include <stdint.h>
#include "mem.h"
#include "mapper.h"
#include "elfload.h"

#define MEM_CNODE_BITS      12
#define MEM_CLIENTS         8
#define MEM_REGIONS         32
#define MEM_REGION_PAGES    128     /* the longest region */
#define MEM_SHARES          8
#define MEM_SHARE_PAGES     32
#define MEM_MAX_POOL        1024    /* pages */
#define MEM_TABLES          64      /* page tables for clients' spaces and the window */
#define MEM_POOL_GROW       32      /* frames made at once when the pool has none free */
#define MEM_REPLY_BANK_BITS 12      /* 64 reply objects, one used up per refused fault */
#define MEM_CACHE_PAGES     128     /* read-only image pages kept for sharing (cache.c) */
#define MEM_CACHE_MAPPERS   4       /* distinct mappers whose images are cached */
#define MEM_NONE            0xffffu
/* How long the manager waits for a mapper's pull or push: then the call fails as if the mapper refused. */
#define MEM_MAPPER_TIMEOUT_NS 1000000000ull

/* The manager's capability space. */
enum {
    MEM_SLOT_CNODE = 1,             /* its own CNode (PITH_SLOT_CSPACE) */
    MEM_SLOT_VSPACE = 2,            /* the address space it runs in: the pool's window */
    MEM_SLOT_EP = 3,                /* requests and faults */
    MEM_SLOT_REPLY = 4,
    MEM_SLOT_UNTYPED = 5,           /* all its memory */
    MEM_SLOT_CAP = 6,               /* a capability arriving with a request */
    MEM_SLOT_REPLY_BANK = 7,        /* untyped for reply objects */
    MEM_SLOT_CLIENT_SPACE = 8,      /* + client: its address space */
    MEM_SLOT_CLIENT_EP = MEM_SLOT_CLIENT_SPACE + MEM_CLIENTS,   /* + client: its badged endpoint */
    MEM_SLOT_TABLE = MEM_SLOT_CLIENT_EP + MEM_CLIENTS,          /* + i: page tables */
    MEM_SLOT_MAPPER = MEM_SLOT_TABLE + MEM_TABLES,              /* + region: a segment's or image's mapper */
    MEM_SLOT_LEND = MEM_SLOT_MAPPER + MEM_REGIONS,              /* a page lent to a mapper for one call */
    MEM_SLOT_BIND = MEM_SLOT_LEND + 1,                          /* the mapper being called */
    MEM_SLOT_NOTIFY = MEM_SLOT_BIND + 1,                        /* + 2 client (+ 1): its notification, asked (taken) */
    MEM_SLOT_CACHE_MAPPER = MEM_SLOT_NOTIFY + 2 * MEM_CLIENTS,  /* + i: a mapper whose image pages are cached */
    MEM_SLOT_POOL = MEM_SLOT_CACHE_MAPPER + MEM_CACHE_MAPPERS,  /* + i: the pool's frames */
    MEM_SLOT_MAP = MEM_SLOT_POOL + MEM_MAX_POOL,                /* first slot for mappings */
};
/*
 * The system's memory (servers/memd/, quota.c) at the top of the space:
 * the blocks the starter hands over for quotas, and the quotas given out
 * (each the parent of the untyped its owner received).
 */
#define MEM_QUOTA_BLOCKS    32
#define MEM_QUOTAS          32
#define MEM_SLOT_QUOTA_MEM  ((1u << MEM_CNODE_BITS) - MEM_QUOTA_BLOCKS - MEM_QUOTAS)
#define MEM_SLOT_QUOTA      (MEM_SLOT_QUOTA_MEM + MEM_QUOTA_BLOCKS)
/* A boot-time manager's paging pool: 4 MiB, 992 pool pages and 32 pages for page tables (pool.c). */
#define MEM_POOL_BITS       22
/* The published capability's badge: anyone may read the figures (stats, quota_totals). */
#define MEM_BADGE_PUBLIC    0xffffu
#define MEM_MAP_SLOTS (MEM_SLOT_QUOTA_MEM - MEM_SLOT_MAP)

enum mem_kind { REGION_FREE, REGION_ANON, REGION_SHARE, REGION_SEGMENT, REGION_IMAGE };

struct mem_entry {
    uint16_t frame;                 /* pool index, MEM_NONE: not yet (demand-zero) */
    uint16_t slot;                  /* the mapping's capability, 0: not mapped */
    uint8_t cow;                    /* shared copy-on-write: mapped read-only */
    uint8_t writable;               /* the mapping in place is writable */
    uint8_t ref;                    /* accessed since the clock last passed (the hardware's bit, read and kept) */
    uint8_t dirty;                  /* written and not yet given to the mapper (an image's page: written at all) */
    uint8_t evicted;                /* segment, image: the page was evicted and its charge given back */
};

struct mem_region {
    uint8_t kind, client, writable;
    uint8_t exec;                   /* REGION_IMAGE: an executable segment */
    uint8_t share;                  /* REGION_SHARE: the object's index */
    uint8_t cached;                 /* REGION_IMAGE, read-only: 1 + its mapper's index in the cache (0: not cached) */
    uint32_t pages;
    uint32_t evicted;               /* pages evicted: not charged */
    uint64_t base;
    uint64_t key;                   /* REGION_SEGMENT, REGION_IMAGE: the key at its mapper */
    struct elf_segment seg;         /* REGION_IMAGE: the program segment the region holds */
    struct mem_entry e[MEM_REGION_PAGES];
};

struct mem_share {
    bool used, destroyed;
    uint8_t owner;
    uint32_t pages, maps;           /* maps: regions mapping it */
    uint16_t frame[MEM_SHARE_PAGES];
};

#define MEM_TAKEN_MAX 32
#define MEM_NO_TARGET 0xffffffffu
#define MEM_BIND_FRAMES 64          /* frames bound to one client at once (frames.c) */

struct mem_client {
    bool used, notify;
    uint32_t quota, used_pages, refused;
    uint32_t target;                /* visible revocation: the use asked for, MEM_NO_TARGET: none */
    uint64_t deadline_ns;
    uint32_t taken_count;           /* regions taken by force, not yet reported */
    uint64_t taken[MEM_TAKEN_MAX];
    /* frames.c: bound frames, named by the client's slot (0: entry free), and those taken by force */
    uint32_t bound, frames_taken_count;
    uint16_t bound_frame[MEM_BIND_FRAMES];
    uint64_t bound_slot[MEM_BIND_FRAMES];
    uint64_t frames_taken[MEM_BIND_FRAMES];
};

/* A page of an image in the cache: the file's page at file_off, of which [at, at + len) is kept, the rest zero. */
struct mem_cache_page {
    bool used;
    uint8_t mapper;                 /* index of its mapper (MEM_SLOT_CACHE_MAPPER + mapper) */
    uint16_t frame;                 /* the cache holds one reference to it */
    uint32_t at, len;
    uint64_t key, file_off;
};

struct mem_cache_mapper {
    bool used;
    uint32_t regions;               /* image regions whose pages come from it */
};

struct mem_table {
    uint8_t state;                  /* TABLE_FREE (idle), TABLE_MAPPED */
    uint8_t client;                 /* MEM_CLIENTS: the manager's own window */
};

struct mem_state {
    /* set by the starter */
    uint64_t window;                /* where the pool's frames are mapped for zeroing and copying */
    const struct pith_time_page *time;  /* the clock, for reclaim deadlines */
    struct pith_ipc_buffer *buf;    /* the manager thread's IPC buffer */
    uint32_t pool_pages;            /* the pool's size: its frames are made as they are first needed */
    /* the manager's own */
    uint32_t pool_made;             /* frames made and mapped so far: pool slots 0 .. pool_made - 1 */
    uint64_t caller;                /* badge of the request being served */
    uint32_t free_head, pages_free, committed, tables_made, replies_made;
    uint32_t clock_hand;            /* reclaim's clock: region * MEM_REGION_PAGES + page */
    uint32_t cache_hand;            /* the next cache entry to look at when one must go */
    struct mem_cache_page cache[MEM_CACHE_PAGES];
    struct mem_cache_mapper cache_mapper[MEM_CACHE_MAPPERS];
    uint16_t next_free[MEM_MAX_POOL];
    uint16_t refs[MEM_MAX_POOL];
    uint32_t fresh[MEM_MAX_POOL / 32];  /* made and not yet used: still zero from the kernel */
    uint32_t map_used[MEM_MAP_SLOTS / 32];
    struct mem_table table[MEM_TABLES];
    struct mem_client client[MEM_CLIENTS];
    struct mem_share share[MEM_SHARES];
    struct mem_region region[MEM_REGIONS];
    long init_error;                /* nonzero: the manager could not start */
    bool started;                   /* init_error is set */
    /* quota.c: the quotas made from the blocks at MEM_SLOT_QUOTA_MEM */
    uint8_t quota_bits[MEM_QUOTAS]; /* 0: slot empty */
    uint8_t quota_state[MEM_QUOTAS];    /* QUOTA_GIVEN, QUOTA_SPARE (whole, kept for reuse) */
};

/* The manager thread's body: sets itself up, then serves until its endpoint goes; returns then. */
void mem_main(uint64_t state);

/* ---- pool.c: frames, slots, page tables, mapping ---- */

long pool_init(struct mem_state *st);
/* A frame, zeroed if asked (a copy is filled anyway), refs 1; MEM_NONE if none. */
uint32_t pool_alloc(struct mem_state *st, bool zero);
void pool_unref(struct mem_state *st, uint32_t frame);
void *pool_page(const struct mem_state *st, uint32_t frame);
/* Maps frame at va in the client's space; returns the mapping's slot (0: failed, *err says why). */
uint16_t pool_map(struct mem_state *st, unsigned client, uint32_t frame, uint64_t va, bool writable, bool exec,
                  long *err);
void pool_unmap(struct mem_state *st, uint16_t slot);
void pool_release_tables(struct mem_state *st, unsigned client);
uint64_t pool_bytes_free(const struct mem_state *st);

/* ---- server.c, for the other parts ---- */

struct mem_client *mem_caller(struct mem_state *st);       /* NULL for the owner or an unknown badge */
/*
 * The region goes (a segment's dirty pages written back first).  If that
 * write-back fails the region stays as it was and the error is returned,
 * unless `force` (the client is closing): then it goes anyway.
 */
long mem_region_free(struct mem_state *st, struct mem_region *r, bool force);
/* A free region record for [base, base + pages) of the client (its kind still free), or an error. */
long mem_region_new(struct mem_state *st, unsigned client, uint64_t base, uint64_t pages, struct mem_region **out);
/* Charges n pages to the client: its quota, then the manager's uncommitted pages. */
long mem_charge(struct mem_state *st, struct mem_client *c, uint32_t n);
void mem_uncharge(struct mem_state *st, unsigned client, uint32_t n);
/* The client's region holding va (start_only: starting at va), or NULL. */
struct mem_region *mem_region_at(struct mem_state *st, unsigned client, uint64_t va, bool start_only);

/* ---- pager.c ---- */

/* Serves a fault message; false when it is refused (then its reply object must go). */
bool mem_fault(struct mem_state *st, const struct pith_msg *m);
/* A fresh reply object in MEM_SLOT_REPLY, the old one deleted: its held call is dropped. */
long mem_new_reply(struct mem_state *st);

/* ---- reclaim.c: visible revocation ---- */

long reclaim_notify_on(void *ctx, uint64_t ntfn);
long reclaim_request(void *ctx, uint32_t id, uint32_t pages, uint32_t deadline_ms);
long reclaim_status(void *ctx, uint32_t *target, uint64_t *deadline_ns, uint8_t *taken, uint64_t *taken_len);
/* Ends satisfied requests, enforces expired ones; returns ns until the next deadline (0: none). */
uint64_t reclaim_check(struct mem_state *st);
/* A client is closing: its notification capabilities go. */
void reclaim_forget(struct mem_state *st, unsigned client);

/* ---- frames.c: frames bound to a client (the exokernel binding) ---- */

long frames_bind(void *ctx, uint64_t cspace, uint64_t slot, uint32_t count);
long frames_return(void *ctx, uint64_t slot);
long frames_status(void *ctx, uint32_t *bound, uint32_t *asked, uint64_t *deadline_ns, uint8_t *taken,
                   uint64_t *taken_len);
/* The deadline passed: takes the client's bound frame with the highest slot, listing it; false if it holds none. */
bool frames_take_one(struct mem_state *st, unsigned client);
/* A client is closing: its bound frames come back. */
void frames_forget(struct mem_state *st, unsigned client);

/* ---- segment.c: regions backed by a mapper (CHORUS) ---- */

/* Fills the new frame of page i from the segment; an error of the mapper's or the call's. */
long segment_pull(struct mem_state *st, const struct mem_region *r, unsigned i);
/* Writes the region's dirty pages back; *written counts them.  A page the mapper did not take stays dirty. */
long segment_sync(struct mem_state *st, struct mem_region *r, uint32_t *written);
/* Reads (and clears) the hardware's accessed and dirty bits of pages [first, first + n), n <= 64, into r's entries. */
long region_scan(struct mem_state *st, struct mem_region *r, unsigned first, unsigned n);
/* Page i of a segment region goes to its mapper: the lent frame's write-back. */
long segment_push(struct mem_state *st, const struct mem_region *r, unsigned i);
/* Whether cap (in the manager's space) is an endpoint one may call and pass pages through. */
bool mapper_usable(uint64_t cap);
/* Lends the pool frame to the mapper in `mapper` for one pull (or push) at offset of key. */
long mapper_call(struct mem_state *st, uint64_t mapper, uint64_t key, uint64_t offset, uint32_t frame, bool push);

/* ---- image.c: program images mapped lazily ---- */

long image_map(void *ctx, uint64_t mapper, uint64_t key, uint64_t size, uint64_t *entry);
/* Supplies page i of an image region (its entry's frame): from the page cache, or a new frame filled from the file. */
long image_fill(struct mem_state *st, struct mem_region *r, unsigned i);

/* ---- cache.c: read-only image pages shared between clients ---- */

/* The cache's record of the mapper in slot `mapper` (1 + index, counted as one more region), or 0 if none is free. */
uint8_t cache_mapper_get(struct mem_state *st, uint64_t mapper);
/* An image region of the mapper went. */
void cache_mapper_put(struct mem_state *st, uint8_t cached);
/* The cached frame holding that page of r's image, or MEM_NONE. */
uint32_t cache_find(struct mem_state *st, const struct mem_region *r, const struct elf_page *p);
/* Keeps the frame just filled for that page (one more reference), if there is room. */
void cache_add(struct mem_state *st, const struct mem_region *r, const struct elf_page *p, uint32_t frame);
/* Cached frames no region maps: free memory, taken back first. */
uint32_t cache_idle(const struct mem_state *st);
/* Frees one such frame; false if there is none. */
bool cache_drop_idle(struct mem_state *st);

/* ---- quota.c: the system's memory, quotas for the owner's processes ---- */

long quota_give(void *ctx, uint32_t bits, uint64_t cspace, uint64_t slot, uint32_t *id);
long quota_take(void *ctx, uint32_t id, uint64_t *back);
long quota_count(void *ctx, uint64_t *total, uint64_t *free);
long quota_crash(void *ctx);

/* ---- the starter's side (start.c) ---- */

struct mem_start {
    uint64_t untyped;       /* the starter's untyped to make the manager's objects from */
    uint64_t memory;        /* the starter's untyped the manager gets as its memory (moved to it) */
    uint64_t stack;         /* where its stack (a page, a guard, then its IPC buffer) goes in our space */
    uint64_t window;        /* where it maps its pool in our space (pool_pages pages, 2 MiB aligned) */
    const struct pith_time_page *time;  /* the time page, mapped in our space */
    unsigned priority;
    /*
     * A boot-time manager (servers/memd/): a CNode already laid out as
     * the manager's space, with its endpoint (MEM_SLOT_EP), its memory
     * (MEM_SLOT_UNTYPED; `memory` is then 0) and blocks for quotas; `ep`
     * our capability to that endpoint; `fault_ep` its thread's fault
     * endpoint.  All 0: a fresh space and endpoint, no fault endpoint.
     */
    uint64_t cnode, ep, fault_ep;
};

/*
 * Starts a manager over `memory` (moved into its capability space) in our
 * address space; st must stay alive while it runs.  Sets *ep (the
 * owner's endpoint capability) and *tcb (its thread) in our capability
 * space; returns an error code.
 */
long mem_start(struct mem_state *st, const struct mem_start *a, uint64_t *ep, uint64_t *tcb);

#endif
