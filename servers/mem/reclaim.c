/*
 * Visible revocation: the manager asks a client for pages back, waits
 * until a deadline, then takes them by force and says which.  The client
 * learns of both through a notification it gave (bit 1: asked, bit 2:
 * taken) and reads the details with reclaim_status.
 *
 * Taking goes in two steps.  First pages that can be fetched again are
 * evicted one by one (a segment's, written back first if dirty; an
 * image's that were never written), least recently used first: a clock
 * over the client's pages whose accessed bits were cleared when the
 * request came, so a page touched since gets a second chance.  Each
 * evicted page gives its charge back, and a later touch fetches it again.
 * Then frames bound to the client (frames.c), highest slot first, each
 * listed for it (the abort protocol of docs/exokernel.md).
 * Then, if the client is still above the target, whole regions go,
 * highest address first (anonymous memory has no backing store, and is
 * charged per region); those are listed for the client.  Shared objects
 * are never taken (others may map them).  The serve loop waits with a
 * timeout while a request is open.
 */
#include "memserver.h"
#include "lib/string.h"

#define BIT_ASKED 1
#define BIT_TAKEN 2

static uint64_t now_ns(const struct mem_state *st)
{
    return pith_clock_ns(st->time);
}

static void tell(const struct mem_state *st, unsigned client, unsigned which)
{
    if (st->client[client].notify)
        pith_signal(MEM_SLOT_NOTIFY + 2 * client + which);
}

void reclaim_forget(struct mem_state *st, unsigned client)
{
    pith_invoke4(MEM_SLOT_CNODE, PITH_CNODE_DELETE, MEM_SLOT_NOTIFY + 2 * client, 0, 0, 0);
    pith_invoke4(MEM_SLOT_CNODE, PITH_CNODE_DELETE, MEM_SLOT_NOTIFY + 2 * client + 1, 0, 0, 0);
    st->client[client].notify = false;
}

long reclaim_notify_on(void *ctx, uint64_t ntfn)
{
    struct mem_state *st = ctx;
    struct mem_client *c = mem_caller(st);
    if (!c)
        return MEM_E_DENIED;
    /* Unbadged, so we can mint the two bits from it; the write right to signal it. */
    struct pith_msg m = { .w = { ntfn } };
    if (pith_invoke(MEM_SLOT_CNODE, PITH_CNODE_IDENTIFY, &m) || m.w[0] != PITH_OBJ_NOTIFICATION ||
        !(m.w[1] & PITH_RIGHT_WRITE) || m.w[2])
        return MEM_E_NOT_NOTIFICATION;
    unsigned id = (unsigned)(c - st->client);
    reclaim_forget(st, id);
    if (pith_invoke4(MEM_SLOT_CNODE, PITH_CNODE_MINT, MEM_SLOT_NOTIFY + 2 * id, ntfn, PITH_RIGHT_WRITE, BIT_ASKED) ||
        pith_invoke4(MEM_SLOT_CNODE, PITH_CNODE_MINT, MEM_SLOT_NOTIFY + 2 * id + 1, ntfn, PITH_RIGHT_WRITE, BIT_TAKEN)) {
        reclaim_forget(st, id);
        return MEM_E_NOT_NOTIFICATION;
    }
    c->notify = true;
    return PITH_OK;
}

long reclaim_request(void *ctx, uint32_t id, uint32_t pages, uint32_t deadline_ms)
{
    struct mem_state *st = ctx;
    if (st->caller)
        return MEM_E_DENIED;
    if (id == 0 || id > MEM_CLIENTS || !st->client[id - 1].used)
        return MEM_E_NO_CLIENT;
    struct mem_client *c = &st->client[id - 1];
    c->target = pages;
    c->deadline_ns = now_ns(st) + (uint64_t)deadline_ms * 1000000;
    /* The clock starts now: what the client touches before the deadline is kept longest. */
    for (unsigned i = 0; i < MEM_REGIONS; i++) {
        struct mem_region *r = &st->region[i];
        if (r->client != id - 1 || (r->kind != REGION_SEGMENT && r->kind != REGION_IMAGE))
            continue;
        for (unsigned first = 0; first < r->pages; first += 64)
            region_scan(st, r, first, r->pages - first < 64 ? r->pages - first : 64);
        for (unsigned k = 0; k < r->pages; k++)
            r->e[k].ref = 0;
    }
    tell(st, id - 1, 0);
    return PITH_OK;
}

long reclaim_status(void *ctx, uint32_t *target, uint64_t *deadline_ns, uint8_t *taken, uint64_t *taken_len)
{
    struct mem_state *st = ctx;
    struct mem_client *c = mem_caller(st);
    if (!c)
        return MEM_E_DENIED;
    *target = c->target;
    *deadline_ns = c->target == MEM_NO_TARGET ? 0 : c->deadline_ns;
    *taken_len = c->taken_count * sizeof c->taken[0];
    memcpy(taken, c->taken, *taken_len);
    c->taken_count = 0;
    return PITH_OK;
}

/* Page i of r goes if it can be fetched again: written back first if dirty. */
static bool evict(struct mem_state *st, struct mem_region *r, unsigned i)
{
    struct mem_entry *e = &r->e[i];
    if (e->dirty && (r->kind == REGION_IMAGE || segment_push(st, r, i)))
        return false;                   /* an image's written page has no copy elsewhere; a failed push keeps it */
    e->dirty = 0;
    if (e->slot)
        pool_unmap(st, e->slot);
    pool_unref(st, e->frame);
    e->slot = 0;
    e->frame = MEM_NONE;
    e->evicted = 1;
    r->evicted++;
    mem_uncharge(st, r->client, 1);
    return true;
}

/*
 * The clock (second chance): from the hand, the client's next resident
 * segment or image page; one accessed since the hand last passed loses
 * its mark and is passed over, one that was not is evicted.  Two turns
 * find one if there is any.
 */
static bool evict_one(struct mem_state *st, unsigned client)
{
    const unsigned total = MEM_REGIONS * MEM_REGION_PAGES;
    /* A client with no segment or image region has nothing to evict: spare the two turns of the whole table. */
    bool any = false;
    for (unsigned i = 0; i < MEM_REGIONS && !any; i++)
        any = st->region[i].client == client &&
              (st->region[i].kind == REGION_SEGMENT || st->region[i].kind == REGION_IMAGE);
    if (!any)
        return false;
    for (unsigned step = 0; step < 2 * total; step++) {
        unsigned pos = st->clock_hand;
        st->clock_hand = (pos + 1) % total;
        struct mem_region *r = &st->region[pos / MEM_REGION_PAGES];
        unsigned i = pos % MEM_REGION_PAGES;
        if (r->client != client || (r->kind != REGION_SEGMENT && r->kind != REGION_IMAGE) || i >= r->pages ||
            r->e[i].frame == MEM_NONE)
            continue;
        region_scan(st, r, i, 1);
        if (r->e[i].ref) {
            r->e[i].ref = 0;
            continue;
        }
        if (evict(st, r, i))
            return true;
    }
    return false;
}

/* The deadline passed: pages that can be fetched again go, then regions, highest first, until the client is within its target. */
static void take(struct mem_state *st, unsigned client)
{
    struct mem_client *c = &st->client[client];
    while (c->used_pages > c->target && evict_one(st, client))
        ;
    /* Bound frames next, one page at a time, so no more is taken than is missing (frames.c lists them). */
    while (c->used_pages > c->target && frames_take_one(st, client))
        ;
    uint32_t tried = 0;                 /* regions whose write-back failed: they stay */
    while (c->used_pages > c->target) {
        struct mem_region *victim = NULL;
        for (unsigned i = 0; i < MEM_REGIONS; i++) {
            struct mem_region *r = &st->region[i];
            if (r->client == client && (r->kind == REGION_ANON || r->kind == REGION_SEGMENT) &&
                !(tried >> i & 1) && (!victim || r->base > victim->base))
                victim = r;
        }
        if (!victim)
            break;                      /* what is left is shared objects, images, or regions whose mapper failed */
        tried |= 1u << (victim - st->region);
        uint64_t base = victim->base;
        if (mem_region_free(st, victim, false))
            continue;
        if (c->taken_count < MEM_TAKEN_MAX)
            c->taken[c->taken_count++] = base;
    }
    c->target = MEM_NO_TARGET;
    tell(st, client, 1);
}

uint64_t reclaim_check(struct mem_state *st)
{
    uint64_t now = 0, next = 0;
    for (unsigned i = 0; i < MEM_CLIENTS; i++) {
        struct mem_client *c = &st->client[i];
        if (!c->used || c->target == MEM_NO_TARGET)
            continue;
        if (!now)
            now = now_ns(st);           /* only when a request is open: this runs for every message */
        if (c->used_pages <= c->target) {
            c->target = MEM_NO_TARGET;  /* given back in time */
        } else if (now >= c->deadline_ns) {
            take(st, i);
        } else if (!next || c->deadline_ns - now < next) {
            next = c->deadline_ns - now;
        }
    }
    return next;
}
