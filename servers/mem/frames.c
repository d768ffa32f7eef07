/*
 * Frames bound to a client (docs/exokernel.md): the exokernel's secure
 * binding of physical memory.  The client gets the frame capabilities
 * themselves, copies of the pool's, and maps them where it likes; the
 * manager checks only at bind time (quota, room, slots).  Taking one back
 * is revoking the pool frame's capability: the client's copy, and every
 * mapping and copy made from it, go at once.  A bound frame is named by
 * the client's slot it was placed in, both when the client gives it back
 * and when the manager says which it took by force.
 */
#include "memserver.h"
#include "lib/string.h"

/* The client's only bound-frame rights: no exec, no phys, no grant. */
#define FRAME_RIGHTS (PITH_RIGHT_READ | PITH_RIGHT_WRITE)

static unsigned client_id(const struct mem_state *st, const struct mem_client *c)
{
    return (unsigned)(c - st->client);
}

static int find_slot(const struct mem_client *c, uint64_t slot)
{
    for (int i = 0; i < MEM_BIND_FRAMES; i++)
        if (c->bound_slot[i] == slot && slot)
            return i;
    return -1;
}

/* Entry i's frame comes back: every capability the client made of it goes, then the frame is free. */
static void unbind(struct mem_state *st, struct mem_client *c, int i)
{
    uint32_t f = c->bound_frame[i];
    pith_invoke4(MEM_SLOT_CNODE, PITH_CNODE_REVOKE, MEM_SLOT_POOL + f, 0, 0, 0);
    pool_unref(st, f);
    mem_uncharge(st, client_id(st, c), 1);
    c->bound_slot[i] = 0;
    c->bound--;
}

long frames_bind(void *ctx, uint64_t cspace, uint64_t slot, uint32_t count)
{
    struct mem_state *st = ctx;
    struct mem_client *c = mem_caller(st);
    if (!c)
        return MEM_E_DENIED;
    struct pith_msg m = { .w = { cspace } };
    if (pith_invoke(MEM_SLOT_CNODE, PITH_CNODE_IDENTIFY, &m) || m.w[0] != PITH_OBJ_CNODE)
        return MEM_E_NOT_CNODE;
    if (count == 0 || slot == 0 || slot + count < slot)
        return MEM_E_BAD_RANGE;
    for (int i = 0; i < MEM_BIND_FRAMES; i++)
        if (c->bound_slot[i] && c->bound_slot[i] - slot < count)
            return MEM_E_BAD_RANGE;     /* the client names a frame it holds already */
    if (count > MEM_BIND_FRAMES - c->bound)
        return MEM_E_FULL;
    long err = mem_charge(st, c, count);
    if (err)
        return err;
    /* Each frame taken (committed, so there is one) and copied into its slot; all undone if a slot refuses. */
    int entry[MEM_BIND_FRAMES];
    uint32_t made = 0;
    bool no_frame = false;
    for (int i = 0; i < MEM_BIND_FRAMES && made < count; i++) {
        if (c->bound_slot[i])
            continue;
        uint32_t f = pool_alloc(st, true);  /* zeroed: the last user's data never reaches the next */
        if ((no_frame = f == MEM_NONE))
            break;                          /* cannot happen while the charge covers it; undone below */
        if (pith_invoke4(cspace, PITH_CNODE_COPY, slot + made, MEM_SLOT_POOL + f, FRAME_RIGHTS, 0)) {
            pool_unref(st, f);
            break;
        }
        c->bound_frame[i] = (uint16_t)f;
        c->bound_slot[i] = slot + made;
        c->bound++;
        entry[made++] = i;
    }
    if (made == count)
        return PITH_OK;
    mem_uncharge(st, client_id(st, c), count - made);
    while (made)
        unbind(st, c, entry[--made]);
    return no_frame ? MEM_E_NO_MEMORY : MEM_E_NOT_CNODE;
}

long frames_return(void *ctx, uint64_t slot)
{
    struct mem_state *st = ctx;
    struct mem_client *c = mem_caller(st);
    if (!c)
        return MEM_E_DENIED;
    int i = find_slot(c, slot);
    if (i < 0)
        return MEM_E_NO_FRAME;
    unbind(st, c, i);
    return PITH_OK;
}

long frames_status(void *ctx, uint32_t *bound, uint32_t *asked, uint64_t *deadline_ns, uint8_t *taken,
                   uint64_t *taken_len)
{
    struct mem_state *st = ctx;
    struct mem_client *c = mem_caller(st);
    if (!c)
        return MEM_E_DENIED;
    bool open = c->target != MEM_NO_TARGET;
    *bound = c->bound;
    *asked = open && c->used_pages > c->target ? c->used_pages - c->target : 0;
    *deadline_ns = open ? c->deadline_ns : 0;
    *taken_len = c->frames_taken_count * sizeof c->frames_taken[0];
    memcpy(taken, c->frames_taken, *taken_len);
    c->frames_taken_count = 0;
    return PITH_OK;
}

bool frames_take_one(struct mem_state *st, unsigned client)
{
    struct mem_client *c = &st->client[client];
    int victim = -1;
    for (int i = 0; i < MEM_BIND_FRAMES; i++)
        if (c->bound_slot[i] && (victim < 0 || c->bound_slot[i] > c->bound_slot[victim]))
            victim = i;
    if (victim < 0)
        return false;
    /* At most MEM_BIND_FRAMES are bound at once; a client that never reads the list loses only the oldest names. */
    if (c->frames_taken_count == MEM_BIND_FRAMES) {
        memmove(c->frames_taken, c->frames_taken + 1, sizeof c->frames_taken - sizeof c->frames_taken[0]);
        c->frames_taken_count--;
    }
    c->frames_taken[c->frames_taken_count++] = c->bound_slot[victim];
    unbind(st, c, victim);
    return true;
}

void frames_forget(struct mem_state *st, unsigned client)
{
    struct mem_client *c = &st->client[client];
    for (int i = 0; i < MEM_BIND_FRAMES; i++)
        if (c->bound_slot[i])
            unbind(st, c, i);
    c->frames_taken_count = 0;
}
