/*
 * Segments and mappers (CHORUS): a region whose pages hold a segment's
 * data, kept by a mapper the client named.  A fault on an untouched page
 * calls the mapper's pull with the new frame; a sync, and freeing the
 * region, call push for each page the hardware marked dirty.  The frame
 * is lent for the call only: the manager gives the mapper a child of a
 * capability it revokes when the call returns, so whatever the mapper
 * made of it (mappings, copies) goes too.
 *
 * The manager waits for the mapper's answer for MEM_MAPPER_TIMEOUT_NS at
 * most (the kernel's timed call: waiting to be taken and waiting for the
 * answer).  A mapper that is gone fails the call at once (no retries), one
 * that does not answer in time fails it then; either way the fault is
 * refused, or the page stays dirty for a later write-back.  A late answer
 * finds no caller: the kernel ended the call, and the loan is revoked.
 */
#include "memserver.h"

#define PAGE 4096ull

static long bind_mapper(void *ctx, const char *name, uint64_t dest)
{
    (void)name;
    return pith_invoke4(MEM_SLOT_CNODE, PITH_CNODE_COPY, dest, *(const uint64_t *)ctx, PITH_RIGHTS_ALL, 0);
}

bool mapper_usable(uint64_t cap)
{
    struct pith_msg m = { .w = { cap } };
    const uint64_t need = PITH_RIGHT_WRITE | PITH_RIGHT_GRANT;
    return pith_invoke(MEM_SLOT_CNODE, PITH_CNODE_IDENTIFY, &m) == PITH_OK && m.w[0] == PITH_OBJ_ENDPOINT &&
           (m.w[1] & need) == need;
}

long mapper_call(struct mem_state *st, uint64_t mapper, uint64_t key, uint64_t offset, uint32_t frame, bool push)
{
    struct pith_resolver resolver = { bind_mapper, &mapper };
    struct pith_client c;
    uint8_t rights = PITH_RIGHT_READ | (push ? 0 : PITH_RIGHT_WRITE);
    long err = pith_invoke4(MEM_SLOT_CNODE, PITH_CNODE_COPY, MEM_SLOT_LEND, MEM_SLOT_POOL + frame, rights, 0);
    if (err)
        return err;
    pith_client_init(&c, "mapper", &resolver, MEM_SLOT_BIND, st->buf);
    c.retries = 0;
    c.timeout_ns = MEM_MAPPER_TIMEOUT_NS;
    err = push ? mapper_push(&c, key, offset, MEM_SLOT_LEND) : mapper_pull(&c, key, offset, MEM_SLOT_LEND);
    /* The loan ends: the mapper's copies of the page, and any mappings of them, go. */
    pith_invoke4(MEM_SLOT_CNODE, PITH_CNODE_REVOKE, MEM_SLOT_LEND, 0, 0, 0);
    pith_invoke4(MEM_SLOT_CNODE, PITH_CNODE_DELETE, MEM_SLOT_LEND, 0, 0, 0);
    pith_invoke4(MEM_SLOT_CNODE, PITH_CNODE_DELETE, MEM_SLOT_BIND, 0, 0, 0);
    return err;
}

static long page_call(struct mem_state *st, const struct mem_region *r, unsigned i, bool push)
{
    return mapper_call(st, MEM_SLOT_MAPPER + (uint64_t)(r - st->region), r->key, i * PAGE, r->e[i].frame, push);
}

long segment_pull(struct mem_state *st, const struct mem_region *r, unsigned i)
{
    return page_call(st, r, i, false);
}

long segment_push(struct mem_state *st, const struct mem_region *r, unsigned i)
{
    return page_call(st, r, i, true);
}

long region_scan(struct mem_state *st, struct mem_region *r, unsigned first, unsigned n)
{
    struct pith_msg m = { .w = { r->base + first * PAGE, n } };
    long err = pith_invoke(MEM_SLOT_CLIENT_SPACE + r->client, PITH_VSPACE_AD_BITS, &m);
    if (err)
        return err;
    for (unsigned k = 0; k < n; k++) {
        /* Only pages mapped from this region: the client may have mapped others there itself. */
        struct mem_entry *e = &r->e[first + k];
        if (!e->slot)
            continue;
        e->ref |= m.w[1] >> k & 1;
        e->dirty |= m.w[2] >> k & 1;
    }
    return PITH_OK;
}

long segment_sync(struct mem_state *st, struct mem_region *r, uint32_t *written)
{
    *written = 0;
    /* The bits are kept in the entries first, so a write-back that fails half-way loses none. */
    for (unsigned first = 0; first < r->pages; first += 64) {
        long err = region_scan(st, r, first, r->pages - first < 64 ? r->pages - first : 64);
        if (err)
            return err;
    }
    for (unsigned i = 0; i < r->pages; i++) {
        struct mem_entry *e = &r->e[i];
        if (!e->dirty || !e->slot)
            continue;
        long err = segment_push(st, r, i);
        if (err)
            return err;             /* this page and the rest stay dirty: the next sync tries again */
        e->dirty = 0;
        ++*written;
    }
    return PITH_OK;
}
