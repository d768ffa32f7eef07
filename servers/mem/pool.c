/*
 * The manager's memory: the pool of frames (each mapped once in the
 * manager's own window, so it can be zeroed and copied), the capability
 * slots for mappings, and page tables for clients' spaces.  A page given
 * to a client is a child of the pool frame's capability, made by
 * PITH_VSPACE_MAP into a mapping slot; unmapping it is deleting that slot.
 */
#include "memserver.h"
#include "lib/string.h"

#define TABLE_FREE   0
#define TABLE_MAPPED 1
#define PAGE         4096ull

static long untyped_info(uint64_t *bits, uint64_t *free)
{
    struct pith_msg m = { 0 };
    long err = pith_invoke(MEM_SLOT_UNTYPED, PITH_UNTYPED_INFO, &m);
    *bits = m.w[0];
    *free = m.w[1];
    return err;
}

void *pool_page(const struct mem_state *st, uint32_t frame)
{
    return (void *)(st->window + frame * PAGE);
}

/* A page table, idle or new from the untyped; returns its index or MEM_TABLES. */
static long pool_grow(struct mem_state *st);

static unsigned table_get(struct mem_state *st)
{
    for (unsigned i = 0; i < st->tables_made; i++)
        if (st->table[i].state == TABLE_FREE)
            return i;
    /* The frames the pool has yet to make are the pool's: a table may not take them. */
    uint64_t bits, free;
    if (st->tables_made == MEM_TABLES || untyped_info(&bits, &free) ||
        free / PAGE < st->pool_pages - st->pool_made + 1 ||
        pith_invoke4(MEM_SLOT_UNTYPED, PITH_UNTYPED_RETYPE, PITH_OBJ_PAGE_TABLE, MEM_SLOT_CNODE,
                     MEM_SLOT_TABLE + st->tables_made, 1))
        return MEM_TABLES;
    return st->tables_made++;
}

/* Supplies the first missing page table on the way to va in a space (client MEM_CLIENTS: ours). */
static long table_for(struct mem_state *st, unsigned client, uint64_t va)
{
    unsigned t = table_get(st);
    if (t == MEM_TABLES)
        return PITH_E_NO_MEMORY;
    uint64_t space = client == MEM_CLIENTS ? MEM_SLOT_VSPACE : MEM_SLOT_CLIENT_SPACE + client;
    long err = pith_invoke4(MEM_SLOT_TABLE + t, PITH_PAGE_TABLE_MAP, space, va, 0, 0);
    if (err)
        return err;
    st->table[t].state = TABLE_MAPPED;
    st->table[t].client = (uint8_t)client;
    return PITH_OK;
}

void pool_release_tables(struct mem_state *st, unsigned client)
{
    /* Deepest first is not needed: an unmapped table is emptied, and its children were already unreachable. */
    for (unsigned i = 0; i < st->tables_made; i++)
        if (st->table[i].state == TABLE_MAPPED && st->table[i].client == client) {
            pith_invoke4(MEM_SLOT_TABLE + i, PITH_PAGE_TABLE_UNMAP, 0, 0, 0, 0);
            st->table[i].state = TABLE_FREE;
        }
}

/*
 * The window's page tables are made at start, for the whole pool, so that
 * the manager's free memory does not shrink as the pool grows: the first
 * frames made bring the first 2 MiB's, and each further 2 MiB gets its
 * table by mapping the first frame there for a moment.
 */
static long window_tables(struct mem_state *st)
{
    long err = pool_grow(st);
    for (uint64_t at = 512; !err && at < st->pool_pages; at += 512) {
        uint16_t slot = pool_map(st, MEM_CLIENTS, 0, st->window + at * PAGE, false, false, &err);
        if (slot)
            pool_unmap(st, slot);
    }
    return err;
}

/*
 * The pool's size is decided at start (every page of the untyped but 32
 * kept for page tables), but its frames are made, GROW at a time, when
 * none is free: a frame made is zeroed by the kernel, and most of the
 * pool is not used for long after boot, or at all.
 */
long pool_init(struct mem_state *st)
{
    uint64_t bits, free;
    long err = untyped_info(&bits, &free);
    if (err)
        return err;
    uint64_t pages = free / PAGE > 32 ? free / PAGE - 32 : 0;
    if (pages > MEM_MAX_POOL)
        pages = MEM_MAX_POOL;
    if (!pages)
        return PITH_E_NO_MEMORY;
    st->pool_pages = (uint32_t)pages;
    st->pool_made = 0;
    st->free_head = MEM_NONE;
    st->pages_free = (uint32_t)pages;   /* made or not */
    return window_tables(st);
}

/* Makes up to MEM_POOL_GROW more frames, maps them in our window and frees them to the list. */
static long pool_grow(struct mem_state *st)
{
    uint32_t first = st->pool_made, n = st->pool_pages - first;
    if (!n)
        return PITH_E_NO_MEMORY;
    if (n > MEM_POOL_GROW)
        n = MEM_POOL_GROW;
    long err = pith_invoke4(MEM_SLOT_UNTYPED, PITH_UNTYPED_RETYPE, PITH_OBJ_FRAME, MEM_SLOT_CNODE,
                            MEM_SLOT_POOL + first, n);
    if (err)
        return err;
    /* Made: a window table made below must not count them as still the pool's to make. */
    st->pool_made = first + n;
    for (uint32_t i = first; i < first + n; i++) {
        uint64_t va = st->window + i * PAGE;
        for (int tries = 0;; tries++) {
            err = pith_invoke4(MEM_SLOT_POOL + i, PITH_FRAME_MAP, MEM_SLOT_VSPACE, va,
                               PITH_RIGHT_READ | PITH_RIGHT_WRITE, 0);
            if (err != PITH_E_NO_TABLE || tries == 3)
                break;
            if ((err = table_for(st, MEM_CLIENTS, va)))
                break;
        }
        if (err) {
            /* The frames not mapped are lost to the pool (the untyped does not take them back). */
            for (uint32_t k = i; k < first + n; k++)
                pith_invoke4(MEM_SLOT_CNODE, PITH_CNODE_DELETE, MEM_SLOT_POOL + k, 0, 0, 0);
            st->pages_free -= first + n - i;
            n = i - first;
            break;
        }
    }
    /* Pushed highest first, so the list hands them out in order. */
    for (uint32_t i = first + n; i-- > first;) {
        st->next_free[i] = (uint16_t)st->free_head;
        st->free_head = i;
        st->fresh[i / 32] |= 1u << (i % 32);
    }
    return n ? PITH_OK : err;
}

uint32_t pool_alloc(struct mem_state *st, bool zero)
{
    /* No free frame: more are made while the pool has them, else a cached page no one maps is taken back. */
    if (st->free_head == MEM_NONE && st->pages_free && st->pool_made < st->pool_pages)
        pool_grow(st);
    if ((st->free_head == MEM_NONE || !st->pages_free) && !cache_drop_idle(st))
        return MEM_NONE;
    uint32_t f = st->free_head;
    st->free_head = st->next_free[f];
    st->pages_free--;
    st->refs[f] = 1;
    /* A frame never used is still the kernel's zeroes. */
    bool fresh = st->fresh[f / 32] & (1u << (f % 32));
    st->fresh[f / 32] &= ~(1u << (f % 32));
    if (zero && !fresh)
        memset(pool_page(st, f), 0, PAGE);
    return f;
}

void pool_unref(struct mem_state *st, uint32_t frame)
{
    if (--st->refs[frame])
        return;
    st->next_free[frame] = (uint16_t)st->free_head;
    st->free_head = frame;
    st->pages_free++;
}

static uint16_t slot_alloc(struct mem_state *st)
{
    for (unsigned w = 0; w < MEM_MAP_SLOTS / 32; w++)
        if (st->map_used[w] != ~0u) {
            unsigned b = (unsigned)__builtin_ctz(~st->map_used[w]);
            st->map_used[w] |= 1u << b;
            return (uint16_t)(MEM_SLOT_MAP + w * 32 + b);
        }
    return 0;
}

static void slot_free(struct mem_state *st, uint16_t slot)
{
    unsigned i = slot - MEM_SLOT_MAP;
    st->map_used[i / 32] &= ~(1u << (i % 32));
}

uint16_t pool_map(struct mem_state *st, unsigned client, uint32_t frame, uint64_t va, bool writable, bool exec,
                  long *err)
{
    uint16_t slot = slot_alloc(st);
    if (!slot) {
        *err = PITH_E_FULL;
        return 0;
    }
    uint64_t rights = PITH_RIGHT_READ | (writable ? PITH_RIGHT_WRITE : 0) | (exec ? PITH_RIGHT_EXEC : 0);
    uint64_t space = client == MEM_CLIENTS ? MEM_SLOT_VSPACE : MEM_SLOT_CLIENT_SPACE + client;
    for (int tries = 0;; tries++) {
        *err = pith_invoke4(space, PITH_VSPACE_MAP, MEM_SLOT_POOL + frame, va,
                            MEM_SLOT_CNODE | (uint64_t)slot << 32, 1 | rights << 16);
        if (*err != PITH_E_NO_TABLE || tries == 3)
            break;
        if ((*err = table_for(st, client, va)))
            break;
    }
    if (*err) {
        slot_free(st, slot);
        return 0;
    }
    return slot;
}

void pool_unmap(struct mem_state *st, uint16_t slot)
{
    pith_invoke4(MEM_SLOT_CNODE, PITH_CNODE_DELETE, slot, 0, 0, 0);
    slot_free(st, slot);
}

uint64_t pool_bytes_free(const struct mem_state *st)
{
    uint64_t bits, free;
    untyped_info(&bits, &free);
    uint64_t idle = 0;
    for (unsigned i = 0; i < st->tables_made; i++)
        idle += st->table[i].state == TABLE_FREE;
    /* pages_free counts the frames not yet made, which the untyped's free bytes hold too. */
    return free - (uint64_t)(st->pool_pages - st->pool_made) * PAGE + (st->pages_free + cache_idle(st) + idle) * PAGE;
}
