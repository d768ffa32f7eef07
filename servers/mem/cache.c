/*
 * The page cache: read-only pages of program images (text, read-only
 * data) are filled once and shared.  A page is named by its mapper, the
 * image's key there, and which bytes of which file page it holds (two
 * segments may keep different parts of one file page).  Mappers are the
 * same when their capabilities reach the same endpoint
 * (PITH_CNODE_COMPARE) with the same badge: a mapper may tell its clients
 * apart by badge and give each its own files under the same keys.  The
 * cache keeps its own copy of each mapper's capability, so a client that
 * goes cannot take the name away from the pages.
 *
 * The cache holds a reference to each frame it keeps; regions mapping the
 * page hold theirs.  A frame only the cache holds is idle: counted as
 * free memory, and the first to go when the pool runs out of frames.  A
 * writable page is never cached: data stays each process's own copy.
 */
#include "memserver.h"

#define PAGE 4096ull

static uint64_t badge_of(uint64_t slot)
{
    struct pith_msg m = { .w = { slot } };
    pith_invoke(MEM_SLOT_CNODE, PITH_CNODE_IDENTIFY, &m);
    return m.w[2];
}

static bool same_mapper(uint64_t a, uint64_t b)
{
    struct pith_msg m = { .w = { a, b } };
    return pith_invoke(MEM_SLOT_CNODE, PITH_CNODE_COMPARE, &m) == PITH_OK && m.w[0] == 1 &&
           badge_of(a) == badge_of(b);
}

/* Frees the cache's entries of mapper i (all idle: no region of it is left). */
static void forget_mapper(struct mem_state *st, unsigned i)
{
    for (unsigned k = 0; k < MEM_CACHE_PAGES; k++)
        if (st->cache[k].used && st->cache[k].mapper == i) {
            st->cache[k].used = false;
            pool_unref(st, st->cache[k].frame);
        }
    pith_invoke4(MEM_SLOT_CNODE, PITH_CNODE_DELETE, MEM_SLOT_CACHE_MAPPER + i, 0, 0, 0);
    st->cache_mapper[i].used = false;
}

uint8_t cache_mapper_get(struct mem_state *st, uint64_t mapper)
{
    unsigned free = MEM_CACHE_MAPPERS, unused = MEM_CACHE_MAPPERS;
    for (unsigned i = 0; i < MEM_CACHE_MAPPERS; i++) {
        struct mem_cache_mapper *cm = &st->cache_mapper[i];
        if (!cm->used) {
            free = free < i ? free : i;
        } else if (same_mapper(MEM_SLOT_CACHE_MAPPER + i, mapper)) {
            cm->regions++;
            return (uint8_t)(i + 1);
        } else if (!cm->regions) {
            unused = unused < i ? unused : i;
        }
    }
    /* A free record, else one no region uses (its pages are idle and go). */
    unsigned i = free < MEM_CACHE_MAPPERS ? free : unused;
    if (i == MEM_CACHE_MAPPERS)
        return 0;
    if (st->cache_mapper[i].used)
        forget_mapper(st, i);
    if (pith_invoke4(MEM_SLOT_CNODE, PITH_CNODE_COPY, MEM_SLOT_CACHE_MAPPER + i, mapper, PITH_RIGHTS_ALL, 0))
        return 0;
    st->cache_mapper[i] = (struct mem_cache_mapper){ .used = true, .regions = 1 };
    return (uint8_t)(i + 1);
}

void cache_mapper_put(struct mem_state *st, uint8_t cached)
{
    if (cached)
        st->cache_mapper[cached - 1].regions--;
}

static bool names(const struct mem_cache_page *c, const struct mem_region *r, const struct elf_page *p)
{
    return c->used && c->mapper == r->cached - 1 && c->key == r->key && c->file_off == p->file_off &&
           c->at == p->at && c->len == p->len;
}

uint32_t cache_find(struct mem_state *st, const struct mem_region *r, const struct elf_page *p)
{
    if (!r->cached || !p->len)
        return MEM_NONE;
    for (unsigned k = 0; k < MEM_CACHE_PAGES; k++)
        if (names(&st->cache[k], r, p))
            return st->cache[k].frame;
    return MEM_NONE;
}

void cache_add(struct mem_state *st, const struct mem_region *r, const struct elf_page *p, uint32_t frame)
{
    if (!r->cached || !p->len)
        return;                         /* bss is cheaper to clear than to look up */
    struct mem_cache_page *c = NULL;
    for (unsigned k = 0; k < MEM_CACHE_PAGES && !c; k++)
        if (!st->cache[k].used)
            c = &st->cache[k];
    /* Full: an idle page makes room; if every page is mapped, this one is simply not kept. */
    if (!c && cache_drop_idle(st))
        for (unsigned k = 0; k < MEM_CACHE_PAGES && !c; k++)
            if (!st->cache[k].used)
                c = &st->cache[k];
    if (!c)
        return;
    *c = (struct mem_cache_page){ .used = true, .mapper = (uint8_t)(r->cached - 1), .frame = (uint16_t)frame,
                                  .at = p->at, .len = p->len, .key = r->key, .file_off = p->file_off };
    st->refs[frame]++;
}

uint32_t cache_idle(const struct mem_state *st)
{
    uint32_t n = 0;
    for (unsigned k = 0; k < MEM_CACHE_PAGES; k++)
        n += st->cache[k].used && st->refs[st->cache[k].frame] == 1;
    return n;
}

bool cache_drop_idle(struct mem_state *st)
{
    /* Round the table from where the last one went: the oldest idle page goes first, roughly. */
    for (unsigned n = 0; n < MEM_CACHE_PAGES; n++) {
        unsigned k = (st->cache_hand + n) % MEM_CACHE_PAGES;
        struct mem_cache_page *c = &st->cache[k];
        if (c->used && st->refs[c->frame] == 1) {
            c->used = false;
            pool_unref(st, c->frame);
            st->cache_hand = (k + 1) % MEM_CACHE_PAGES;
            return true;
        }
    }
    return false;
}
