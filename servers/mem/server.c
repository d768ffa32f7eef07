/*
 * The manager's requests and its pager (see memserver.h).  Every
 * request's caller is the badge of the endpoint capability it used: 0 is
 * the owner, client i has badge i + 1.  Quotas are charged when a region
 * is made, for all its pages, so a fault always finds memory.
 */
#include <pith/fault.h>
#include "memserver.h"
#include "lib/string.h"

#define PAGE 4096ull

struct mem_client *mem_caller(struct mem_state *st)
{
    uint64_t b = st->caller;
    if (b == 0 || b > MEM_CLIENTS || !st->client[b - 1].used)
        return NULL;
    return &st->client[b - 1];
}

static unsigned caller_id(const struct mem_state *st) { return (unsigned)st->caller - 1; }

long mem_charge(struct mem_state *st, struct mem_client *c, uint32_t n)
{
    if (n > c->quota - c->used_pages)
        return MEM_E_QUOTA;
    if (n > st->pool_pages - st->committed)
        return MEM_E_NO_MEMORY;
    c->used_pages += n;
    st->committed += n;
    return PITH_OK;
}

void mem_uncharge(struct mem_state *st, unsigned client, uint32_t n)
{
    st->client[client].used_pages -= n;
    st->committed -= n;
}

struct mem_region *mem_region_at(struct mem_state *st, unsigned client, uint64_t va, bool start_only)
{
    for (unsigned i = 0; i < MEM_REGIONS; i++) {
        struct mem_region *r = &st->region[i];
        if (r->kind == REGION_FREE || r->client != client)
            continue;
        if (start_only ? va == r->base : va - r->base < r->pages * PAGE)
            return r;
    }
    return NULL;
}

long mem_region_new(struct mem_state *st, unsigned client, uint64_t base, uint64_t pages,
                       struct mem_region **out)
{
    if ((base & (PAGE - 1)) || pages == 0 || pages > MEM_REGION_PAGES || base >= 0x7f8000000000ull ||
        base + pages * PAGE > 0x7f8000000000ull)
        return MEM_E_BAD_RANGE;
    struct mem_region *free = NULL;
    for (unsigned i = 0; i < MEM_REGIONS; i++) {
        struct mem_region *r = &st->region[i];
        if (r->kind == REGION_FREE) {
            if (!free)
                free = r;
        } else if (r->client == client && base < r->base + r->pages * PAGE && r->base < base + pages * PAGE) {
            return MEM_E_BAD_RANGE;
        }
    }
    if (!free)
        return MEM_E_FULL;
    memset(free, 0, sizeof *free);
    free->client = (uint8_t)client;
    free->base = base;
    free->pages = (uint32_t)pages;
    for (unsigned i = 0; i < pages; i++)
        free->e[i].frame = MEM_NONE;
    *out = free;
    return PITH_OK;
}


static void share_release_if_unused(struct mem_state *st, struct mem_share *s)
{
    if (!s->used || !s->destroyed || s->maps)
        return;
    for (unsigned i = 0; i < s->pages; i++)
        pool_unref(st, s->frame[i]);
    mem_uncharge(st, s->owner, s->pages);
    s->used = false;
}

long mem_region_free(struct mem_state *st, struct mem_region *r, bool force)
{
    uint32_t written;
    /* Dirty pages go home first; if the mapper does not take them, the region stays (unless forced). */
    long err = r->kind == REGION_SEGMENT ? segment_sync(st, r, &written) : PITH_OK;
    if (err && !force)
        return MEM_E_MAPPER;
    for (unsigned i = 0; i < r->pages; i++) {
        struct mem_entry *e = &r->e[i];
        if (e->slot)
            pool_unmap(st, e->slot);
        if (r->kind != REGION_SHARE && e->frame != MEM_NONE)
            pool_unref(st, e->frame);
    }
    if (r->kind == REGION_SEGMENT || r->kind == REGION_IMAGE)
        pith_invoke4(MEM_SLOT_CNODE, PITH_CNODE_DELETE, MEM_SLOT_MAPPER + (uint64_t)(r - st->region), 0, 0, 0);
    if (r->kind == REGION_IMAGE)
        cache_mapper_put(st, r->cached);
    if (r->kind != REGION_SHARE) {
        mem_uncharge(st, r->client, r->pages - r->evicted);
    } else {
        struct mem_share *s = &st->share[r->share];
        s->maps--;
        share_release_if_unused(st, s);
    }
    r->kind = REGION_FREE;
    return PITH_OK;
}

/* ---- requests ---- */

static long h_anon(void *ctx, uint64_t base, uint32_t pages)
{
    struct mem_state *st = ctx;
    struct mem_client *c = mem_caller(st);
    struct mem_region *r;
    if (!c)
        return MEM_E_DENIED;
    long err = mem_region_new(st, caller_id(st), base, pages, &r);
    if (err || (err = mem_charge(st, c, pages)))
        return err;
    r->kind = REGION_ANON;
    r->writable = 1;
    return PITH_OK;
}

static long h_free(void *ctx, uint64_t base)
{
    struct mem_state *st = ctx;
    if (!mem_caller(st))
        return MEM_E_DENIED;
    struct mem_region *r = mem_region_at(st, caller_id(st), base, true);
    if (!r)
        return MEM_E_NO_REGION;
    return mem_region_free(st, r, false);
}

/*
 * Both regions refer to the same frames, marked copy-on-write; the
 * source's writable mappings go (its next write faults and copies).
 */
static long h_cow(void *ctx, uint64_t src, uint64_t dst)
{
    struct mem_state *st = ctx;
    struct mem_client *c = mem_caller(st);
    if (!c)
        return MEM_E_DENIED;
    struct mem_region *s = mem_region_at(st, caller_id(st), src, true), *d;
    if (!s || s->kind != REGION_ANON)
        return MEM_E_NO_REGION;
    long err = mem_region_new(st, caller_id(st), dst, s->pages, &d);
    if (err || (err = mem_charge(st, c, s->pages)))
        return err;
    d->kind = REGION_ANON;
    d->writable = 1;
    for (unsigned i = 0; i < s->pages; i++) {
        struct mem_entry *e = &s->e[i];
        if (e->frame == MEM_NONE)
            continue;
        if (e->slot && e->writable) {
            pool_unmap(st, e->slot);
            e->slot = 0;
        }
        e->cow = 1;
        d->e[i].frame = e->frame;
        d->e[i].cow = 1;
        st->refs[e->frame]++;
    }
    return PITH_OK;
}

static long h_share_create(void *ctx, uint32_t pages, uint32_t *key)
{
    struct mem_state *st = ctx;
    struct mem_client *c = mem_caller(st);
    if (!c)
        return MEM_E_DENIED;
    if (pages == 0 || pages > MEM_SHARE_PAGES)
        return MEM_E_BAD_RANGE;
    struct mem_share *s = NULL;
    for (unsigned i = 0; i < MEM_SHARES && !s; i++)
        if (!st->share[i].used)
            s = &st->share[i];
    if (!s)
        return MEM_E_FULL;
    long err = mem_charge(st, c, pages);
    if (err)
        return err;
    memset(s, 0, sizeof *s);
    s->used = true;
    s->owner = (uint8_t)caller_id(st);
    s->pages = pages;
    for (unsigned i = 0; i < pages; i++)
        s->frame[i] = (uint16_t)pool_alloc(st, true);     /* committed: never MEM_NONE */
    *key = (uint32_t)(s - st->share) + 1;
    return PITH_OK;
}

static struct mem_share *share_by_key(struct mem_state *st, uint32_t key)
{
    if (key == 0 || key > MEM_SHARES || !st->share[key - 1].used || st->share[key - 1].destroyed)
        return NULL;
    return &st->share[key - 1];
}

static long h_share_map(void *ctx, uint32_t key, uint64_t base, bool writable)
{
    struct mem_state *st = ctx;
    if (!mem_caller(st))
        return MEM_E_DENIED;
    struct mem_share *s = share_by_key(st, key);
    struct mem_region *r;
    if (!s)
        return MEM_E_NO_SHARE;
    long err = mem_region_new(st, caller_id(st), base, s->pages, &r);
    if (err)
        return err;
    r->kind = REGION_SHARE;
    r->share = (uint8_t)(key - 1);
    r->writable = writable;
    for (unsigned i = 0; i < s->pages; i++)
        r->e[i].frame = s->frame[i];
    s->maps++;
    return PITH_OK;
}

static long h_share_destroy(void *ctx, uint32_t key)
{
    struct mem_state *st = ctx;
    if (!mem_caller(st))
        return MEM_E_DENIED;
    struct mem_share *s = share_by_key(st, key);
    if (!s || s->owner != caller_id(st))
        return MEM_E_NO_SHARE;
    s->destroyed = true;
    share_release_if_unused(st, s);
    return PITH_OK;
}

static long h_segment_map(void *ctx, uint64_t mapper, uint64_t key, uint64_t base, uint32_t pages)
{
    struct mem_state *st = ctx;
    struct mem_client *c = mem_caller(st);
    struct mem_region *r;
    if (!c)
        return MEM_E_DENIED;
    if (!mapper_usable(mapper))
        return MEM_E_BAD_MAPPER;
    long err = mem_region_new(st, caller_id(st), base, pages, &r);
    if (err || (err = mem_charge(st, c, pages)))
        return err;
    if (pith_invoke4(MEM_SLOT_CNODE, PITH_CNODE_MOVE, MEM_SLOT_MAPPER + (uint64_t)(r - st->region), mapper, 0, 0)) {
        mem_uncharge(st, caller_id(st), pages);
        return MEM_E_FULL;
    }
    r->kind = REGION_SEGMENT;
    r->writable = 1;
    r->key = key;
    return PITH_OK;
}

static long h_segment_sync(void *ctx, uint64_t base, uint32_t *written)
{
    struct mem_state *st = ctx;
    if (!mem_caller(st))
        return MEM_E_DENIED;
    struct mem_region *r = mem_region_at(st, caller_id(st), base, true);
    if (!r || r->kind != REGION_SEGMENT)
        return MEM_E_NO_REGION;
    /* A mapper that failed (or did not answer in time) leaves the rest dirty, for the next sync. */
    return segment_sync(st, r, written) ? MEM_E_MAPPER : PITH_OK;
}

static long h_stats(void *ctx, uint32_t *quota, uint32_t *used, uint32_t *pages_free, uint64_t *bytes_free,
                    uint32_t *refused)
{
    struct mem_state *st = ctx;
    struct mem_client *c = mem_caller(st);
    if (!c && st->caller && st->caller != MEM_BADGE_PUBLIC)
        return MEM_E_DENIED;
    *quota = c ? c->quota : st->pool_pages;
    *used = c ? c->used_pages : st->committed;
    *refused = 0;
    if (c) {
        *refused = c->refused;
    } else {
        for (unsigned i = 0; i < MEM_CLIENTS; i++)
            *refused += st->client[i].refused;
    }
    *pages_free = st->pages_free + cache_idle(st);      /* idle cached pages are free memory */
    *bytes_free = pool_bytes_free(st);
    return PITH_OK;
}

static long h_client_new(void *ctx, uint64_t space, uint32_t quota, uint32_t *id, uint64_t *ep)
{
    struct mem_state *st = ctx;
    if (st->caller)
        return MEM_E_DENIED;
    struct pith_msg m = { .w = { space } };
    if (pith_invoke(MEM_SLOT_CNODE, PITH_CNODE_IDENTIFY, &m) || m.w[0] != PITH_OBJ_VSPACE)
        return MEM_E_NOT_SPACE;
    unsigned i = 0;
    while (i < MEM_CLIENTS && st->client[i].used)
        i++;
    if (i == MEM_CLIENTS)
        return MEM_E_FULL;
    /* Its address space, kept; its badged endpoint, ours: revoking it takes the client's copies back. */
    if (pith_invoke4(MEM_SLOT_CNODE, PITH_CNODE_MOVE, MEM_SLOT_CLIENT_SPACE + i, space, 0, 0) ||
        pith_invoke4(MEM_SLOT_CNODE, PITH_CNODE_MINT, MEM_SLOT_CLIENT_EP + i, MEM_SLOT_EP,
                     PITH_RIGHT_WRITE | PITH_RIGHT_GRANT, i + 1))
        return MEM_E_FULL;
    st->client[i] = (struct mem_client){ .used = true, .quota = quota, .target = MEM_NO_TARGET };
    *id = i + 1;
    *ep = MEM_SLOT_CLIENT_EP + i;
    return PITH_OK;
}

static long h_client_close(void *ctx, uint32_t id)
{
    struct mem_state *st = ctx;
    if (st->caller)
        return MEM_E_DENIED;
    if (id == 0 || id > MEM_CLIENTS || !st->client[id - 1].used)
        return MEM_E_NO_CLIENT;
    unsigned c = id - 1;
    for (unsigned i = 0; i < MEM_REGIONS; i++)
        if (st->region[i].kind != REGION_FREE && st->region[i].client == c)
            mem_region_free(st, &st->region[i], true);     /* what the mapper does not take is lost with the client */
    for (unsigned i = 0; i < MEM_SHARES; i++)
        if (st->share[i].used && st->share[i].owner == c) {
            st->share[i].destroyed = true;
            share_release_if_unused(st, &st->share[i]);
        }
    frames_forget(st, c);
    pool_release_tables(st, c);
    reclaim_forget(st, c);
    pith_invoke4(MEM_SLOT_CNODE, PITH_CNODE_REVOKE, MEM_SLOT_CLIENT_EP + c, 0, 0, 0);
    pith_invoke4(MEM_SLOT_CNODE, PITH_CNODE_DELETE, MEM_SLOT_CLIENT_EP + c, 0, 0, 0);
    pith_invoke4(MEM_SLOT_CNODE, PITH_CNODE_DELETE, MEM_SLOT_CLIENT_SPACE + c, 0, 0, 0);
    st->client[c].used = false;
    return PITH_OK;
}

/* A client's page fault its owner passes on (the owner is the thread's fault handler). */
static long h_client_fault(void *ctx, uint32_t id, uint64_t addr, uint64_t flags)
{
    struct mem_state *st = ctx;
    if (st->caller)
        return MEM_E_DENIED;
    if (id == 0 || id > MEM_CLIENTS || !st->client[id - 1].used)
        return MEM_E_NO_CLIENT;
    struct pith_msg m = { .tag = PITH_TAG(PITH_FAULT_LABEL, 4), .w = { PITH_FAULT_PAGE, addr, flags } };
    st->caller = id;                    /* served as the client's own */
    bool served = mem_fault(st, &m);
    st->caller = 0;
    return served ? PITH_OK : MEM_E_NO_REGION;
}

static const struct mem_handlers handlers = {
    .anon = h_anon, .free = h_free, .cow = h_cow, .share_create = h_share_create,
    .share_map = h_share_map, .share_destroy = h_share_destroy, .stats = h_stats,
    .client_new = h_client_new, .client_close = h_client_close,
    .segment_map = h_segment_map, .segment_sync = h_segment_sync,
    .notify_on = reclaim_notify_on, .reclaim = reclaim_request, .reclaim_status = reclaim_status,
    .image_map = image_map,
    .quota_get = quota_give, .quota_put = quota_take, .quota_totals = quota_count, .crash = quota_crash,
    .client_fault = h_client_fault,
    .frames_bind = frames_bind, .frames_return = frames_return, .frames_status = frames_status,
};

void mem_main(uint64_t state)
{
    struct mem_state *st = (struct mem_state *)state;
    const struct pith_server srv = { .ep = MEM_SLOT_EP, .reply = MEM_SLOT_REPLY, .cap_slot = MEM_SLOT_CAP,
                                     .buf = st->buf };
    long err = mem_new_reply(st);
    if (!err)
        err = pool_init(st);
    st->init_error = err;
    __atomic_store_n(&st->started, true, __ATOMIC_RELEASE);
    if (err)
        return;
    /*
     * Answer and wait in one call, except while a reclaim request is open:
     * then the wait ends at its deadline (there is no timed reply-and-wait).
     */
    struct pith_msg m = { 0 };
    bool answer = false;
    for (;;) {
        uint64_t wait_ns = reclaim_check(st);
        st->buf->recv_slot = MEM_SLOT_CAP;
        if (answer && !wait_ns) {
            err = pith_reply_recv(MEM_SLOT_EP, &m, MEM_SLOT_REPLY);
        } else {
            if (answer)
                pith_send(MEM_SLOT_REPLY, &m);      /* a caller gone meanwhile is no matter */
            st->buf->recv_slot = MEM_SLOT_CAP;
            err = pith_syscall_timed(wait_ns ? PITH_SYS_RECV_TIMED : PITH_SYS_RECV, MEM_SLOT_EP, &m,
                                     MEM_SLOT_REPLY, wait_ns);
        }
        answer = false;
        if (err == PITH_E_TIMEOUT)
            continue;
        if (err)
            return;
        st->caller = m.badge;
        if (PITH_TAG_LABEL(m.tag) == PITH_FAULT_LABEL) {
            if (!mem_fault(st, &m)) {
                if (mem_new_reply(st))
                    return;
                continue;
            }
            m.tag = PITH_TAG(PITH_FAULT_RESUME, 0);
        } else {
            mem_dispatch(&handlers, st, &srv, &m);
        }
        answer = true;
    }
}
