/*
 * Visible revocation: the manager asks a client for pages back, waits
 * until a deadline, then takes them by force and says which.  The client
 * learns of both through a notification it gave (bit 1: asked, bit 2:
 * taken) and reads the details with reclaim_status.  Taking is freeing
 * whole regions, highest address first, until the client's use is down to
 * what was asked: pages are charged per region, so a region is the unit
 * that gives quota back.  Shared objects are never taken (others may map
 * them).  The serve loop waits with a timeout while a request is open.
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

/* The deadline passed: regions go, highest first, until the client is within its target. */
static void take(struct mem_state *st, unsigned client)
{
    struct mem_client *c = &st->client[client];
    while (c->used_pages > c->target) {
        struct mem_region *victim = NULL;
        for (unsigned i = 0; i < MEM_REGIONS; i++) {
            struct mem_region *r = &st->region[i];
            if (r->client == client && (r->kind == REGION_ANON || r->kind == REGION_SEGMENT) &&
                (!victim || r->base > victim->base))
                victim = r;
        }
        if (!victim)
            break;                      /* what is left is shared objects */
        if (c->taken_count < MEM_TAKEN_MAX)
            c->taken[c->taken_count++] = victim->base;
        mem_region_free(st, victim);
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
