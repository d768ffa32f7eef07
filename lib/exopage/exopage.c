/*
 * A process's own paging over frames bound to it (exopage.h,
 * docs/exokernel.md).  One handler thread does everything: it receives
 * the page faults of the application's threads on its endpoint and the
 * manager's revocation signals on its notification, bound to it, so the
 * tables need no lock.  A page is mapped read-only first and made
 * writable at its first write fault, so "dirty" is exact without reading
 * the hardware's bits, and a frame taken by force is known to have held
 * the only copy of its page exactly when that page was writable.
 */
#include "exopage.h"
#include "mem.h"
#include "pith.h"
#include "tls.h"
#include <pith/fault.h>
#include <string.h>

#define PAGE        4096ull
#define BIT_ASKED   1
#define BIT_TAKEN   2
#define RO          PITH_RIGHT_READ
#define RW          (PITH_RIGHT_READ | PITH_RIGHT_WRITE)

static void *window(const struct exopage *x, uint32_t f)
{
    return (void *)(x->cfg.window + f * PAGE);
}

static uint64_t page_va(const struct exopage *x, uint32_t v)
{
    return x->cfg.base + v * PAGE;
}

/* The page in frame f leaves it: unmapped, written to the store if it was written. */
static long evict(struct exopage *x, uint32_t f)
{
    struct exopage_frame *fr = &x->frame[f];
    uint32_t v = fr->vpage;
    if (v == EXOPAGE_NONE)
        return PITH_OK;
    pith_invoke4(fr->cap, PITH_FRAME_UNMAP, 0, 0, 0, 0);
    if (x->state[v] & EXOPAGE_DIRTY) {
        long err = x->cfg.store.write(x->cfg.store.ctx, v, window(x, f));
        if (err)
            return err;             /* the page stays where it was, unmapped: the next touch maps it again */
        x->state[v] = (x->state[v] & ~EXOPAGE_DIRTY) | EXOPAGE_STORED;
        x->stats.writebacks++;
    }
    x->where[v] = EXOPAGE_NONE;
    fr->vpage = EXOPAGE_NONE;
    return PITH_OK;
}

/* Whether the hardware saw page v touched since we last asked (the bit is cleared). */
static bool accessed(const struct exopage *x, uint32_t v)
{
    struct pith_msg ad = { .w = { page_va(x, v), 1 } };
    return pith_invoke(PITH_SLOT_VSPACE, PITH_VSPACE_AD_BITS, &ad) == PITH_OK && (ad.w[1] & 1);
}

/* The policy's victim among the frames holding a page; EXOPAGE_NONE if none does. */
static uint32_t victim(struct exopage *x)
{
    uint32_t n = x->cfg.frames, best = EXOPAGE_NONE;
    if (x->cfg.policy == EXOPAGE_MRU) {
        for (uint32_t f = 0; f < n; f++)
            if (!x->frame[f].gone && x->frame[f].vpage != EXOPAGE_NONE &&
                (best == EXOPAGE_NONE || x->frame[f].loaded > x->frame[best].loaded))
                best = f;
        return best;
    }
    /* The clock: a page touched since the hand last passed gets a second chance; two turns find one. */
    for (uint32_t step = 0; step < 2 * n; step++) {
        uint32_t f = x->hand;
        x->hand = (x->hand + 1) % n;
        if (x->frame[f].gone || x->frame[f].vpage == EXOPAGE_NONE)
            continue;
        if (step < n && accessed(x, x->frame[f].vpage))
            continue;
        return f;
    }
    return EXOPAGE_NONE;
}

#define STALE (EXOPAGE_NONE - 1)

/* Whether frame f is still ours: the manager may have taken it before its signal reached us. */
static bool alive(const struct exopage *x, uint32_t f)
{
    struct pith_msg m = { .w = { x->frame[f].cap } };
    return pith_invoke(PITH_SLOT_CSPACE, PITH_CNODE_IDENTIFY, &m) == PITH_OK && m.w[0] == PITH_OBJ_FRAME;
}

/* A frame for a new page: a free one, else the policy's victim, emptied; STALE if one was taken unseen. */
static uint32_t frame_for_page(struct exopage *x)
{
    uint32_t f = EXOPAGE_NONE;
    for (uint32_t i = 0; i < x->cfg.frames && f == EXOPAGE_NONE; i++)
        if (!x->frame[i].gone && x->frame[i].vpage == EXOPAGE_NONE)
            f = i;
    bool evicting = f == EXOPAGE_NONE;
    if (evicting && (f = victim(x)) == EXOPAGE_NONE)
        return EXOPAGE_NONE;
    if (!alive(x, f))
        return STALE;                   /* its window copy is gone too: touching it would fault here */
    if (evicting) {
        if (evict(x, f))
            return EXOPAGE_NONE;
        x->stats.evictions++;
    }
    return f;
}

/* One try at page v: 1 served, 0 refused, -1 a frame it needed was taken before we were told. */
static int serve(struct exopage *x, uint32_t v, bool write)
{
    uint32_t f = x->where[v];
    if (f != EXOPAGE_NONE) {
        /* Resident, mapped read-only: the first write makes it writable, and dirty. */
        if (!alive(x, f))
            return -1;
        pith_invoke4(x->frame[f].cap, PITH_FRAME_UNMAP, 0, 0, 0, 0);
    } else {
        if ((f = frame_for_page(x)) == EXOPAGE_NONE || f == STALE)
            return f == STALE ? -1 : 0;
        if (x->state[v] & EXOPAGE_LOST) {
            /* Its data went with a frame taken by force; the store's copy is older than what was lost. */
            memset(window(x, f), 0, PAGE);
            x->state[v] = 0;
        } else if (x->state[v] & EXOPAGE_STORED) {
            if (x->cfg.store.read(x->cfg.store.ctx, v, window(x, f)))
                return 0;
            x->stats.reads++;
        } else {
            memset(window(x, f), 0, PAGE);
        }
        x->where[v] = (uint16_t)f;
        x->frame[f].vpage = v;
        x->frame[f].loaded = ++x->clock;
    }
    bool rw = write || (x->state[v] & EXOPAGE_DIRTY);
    if (pith_map_page(x->frame[f].cap, page_va(x, v), rw ? RW : RO, 0))
        return 0;
    if (write)
        x->state[v] |= EXOPAGE_DIRTY;  /* only once mapped writable: a refused write dirtied nothing */
    x->stats.faults++;
    return 1;
}

static void revocation(struct exopage *x, uint64_t bits);

/* Serves a page fault at va; false if it cannot (then the thread is left stopped). */
static bool fault(struct exopage *x, uint64_t va, bool write)
{
    if (va < x->cfg.base || va - x->cfg.base >= x->cfg.pages * PAGE)
        return false;
    uint32_t v = (uint32_t)((va - x->cfg.base) / PAGE);
    int r = serve(x, v, write);
    if (r < 0) {
        revocation(x, 0);               /* learn which frames went (the abort protocol), then again */
        r = serve(x, v, write);
    }
    return r > 0;
}

/* Frame f was given back or taken: its capabilities are gone with the manager's revoke. */
static void forget(struct exopage *x, uint32_t f)
{
    x->frame[f].gone = true;
    x->live--;
}

/* Asked for frames back: the free ones first, then the policy's victims, written back. */
static void give_back(struct exopage *x, uint32_t asked)
{
    while (asked && x->live) {
        uint32_t f = EXOPAGE_NONE;
        for (uint32_t i = 0; i < x->cfg.frames && f == EXOPAGE_NONE; i++)
            if (!x->frame[i].gone && x->frame[i].vpage == EXOPAGE_NONE)
                f = i;
        if (f == EXOPAGE_NONE && ((f = victim(x)) == EXOPAGE_NONE || evict(x, f)))
            return;                 /* nothing we can give without losing data: the deadline decides */
        if (mem_frames_return(&x->mem, x->first_slot + f))
            return;
        forget(x, f);
        x->stats.returned++;
        asked--;
    }
}

/* The abort protocol: frames taken by force; a page written since it was stored lost its data. */
static void taken(struct exopage *x, const uint64_t *slots, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        uint64_t f = slots[i] - x->first_slot;
        if (f >= x->cfg.frames || x->frame[f].gone)
            continue;
        uint32_t v = x->frame[f].vpage;
        if (v != EXOPAGE_NONE) {
            x->where[v] = EXOPAGE_NONE;
            if (x->state[v] & EXOPAGE_DIRTY) {
                x->state[v] = (x->state[v] & ~EXOPAGE_DIRTY) | EXOPAGE_LOST;
                x->stats.lost++;
            }
        }
        x->frame[f].vpage = EXOPAGE_NONE;
        forget(x, f);
        x->stats.taken++;
    }
}

static void revocation(struct exopage *x, uint64_t bits)
{
    uint32_t bound, asked;
    uint64_t deadline, slots[EXOPAGE_MAX_FRAMES], len = 0;
    if (mem_frames_status(&x->mem, &bound, &asked, &deadline, slots, &len))
        return;
    taken(x, slots, (uint32_t)(len / sizeof slots[0]));
    if ((bits & BIT_ASKED) && asked) {
        if (x->cfg.cooperate)
            give_back(x, asked);
        else
            x->stats.ignored++;
    }
    if (x->cfg.on_revoke)
        x->cfg.on_revoke(x, x->cfg.on_revoke_ctx);
}

static void *handler(void *arg)
{
    struct exopage *x = arg;
    struct pith_tls *self = pith_tls_self();
    pith_client_init(&x->mem, x->cfg.mem_name, x->cfg.resolver, pith_slot_alloc(), self->ipc_buffer);
    x->thread_error = pith_invoke4(self->tcb, PITH_TCB_BIND_NOTIFICATION, x->ntfn, 0, 0, 0);
    x->ready = true;
    struct pith_msg m = { 0 };
    long err = x->thread_error ? x->thread_error : pith_recv(x->ep, &m, x->reply);
    while (!err) {
        bool answer = false;
        if (PITH_TAG_LABEL(m.tag) == PITH_NOTIFICATION_LABEL) {
            revocation(x, m.badge);
        } else if (PITH_TAG_LABEL(m.tag) == PITH_FAULT_LABEL && m.w[0] == PITH_FAULT_PAGE &&
                   fault(x, m.w[1], m.w[2] & PITH_PF_WRITE)) {
            answer = true;
        } else {
            /* Not ours to serve: the thread stays stopped; a fresh reply object drops its call. */
            x->stats.refused++;
            pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, x->reply, 0, 0, 0);
            pith_slot_free(x->reply);
            if (!(x->reply = pith_object_new(PITH_OBJ_REPLY, 0)))
                break;
        }
        if (answer) {
            m.tag = PITH_TAG(PITH_FAULT_RESUME, 0);
            err = pith_reply_recv(x->ep, &m, x->reply);
        } else {
            err = pith_recv(x->ep, &m, x->reply);
        }
    }
    /* Stopping (our endpoint went): every frame still held goes back. */
    for (uint32_t f = 0; f < x->cfg.frames; f++)
        if (!x->frame[f].gone && !mem_frames_return(&x->mem, x->first_slot + f))
            forget(x, f);
    pith_invoke4(self->tcb, PITH_TCB_BIND_NOTIFICATION, 0, 0, 0, 0);
    return NULL;
}

long exopage_start(struct exopage *x, const struct exopage_config *cfg)
{
    memset(x, 0, sizeof *x);
    x->cfg = *cfg;
    if (!cfg->frames || cfg->frames > EXOPAGE_MAX_FRAMES || !cfg->pages || cfg->pages > EXOPAGE_MAX_PAGES ||
        (cfg->base | cfg->window) & (PAGE - 1) || !cfg->store.read || !cfg->store.write)
        return PITH_E_INVALID_ARG;
    memset(x->where, 0xff, sizeof x->where);
    struct pith_client mem;
    pith_client_init(&mem, cfg->mem_name, cfg->resolver, pith_slot_alloc(), pith_tls_self()->ipc_buffer);
    x->first_slot = pith_slot_alloc_range(cfg->frames);
    x->ep = pith_object_new(PITH_OBJ_ENDPOINT, 0);
    x->ntfn = pith_object_new(PITH_OBJ_NOTIFICATION, 0);
    x->reply = pith_object_new(PITH_OBJ_REPLY, 0);
    if (!x->first_slot || !x->ep || !x->ntfn || !x->reply)
        return PITH_E_NO_MEMORY;
    long err = mem_frames_bind(&mem, PITH_SLOT_CSPACE, x->first_slot, cfg->frames);
    if (err) {
        pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, mem.ep_slot, 0, 0, 0);
        pith_slot_free(mem.ep_slot);
        return err;
    }
    /* Each frame's copy stays mapped in the window, where we fill and write back the pages it holds. */
    for (uint32_t f = 0; f < cfg->frames; f++) {
        x->frame[f] = (struct exopage_frame){ .cap = x->first_slot + f, .win = pith_slot_alloc(),
                                              .vpage = EXOPAGE_NONE };
        if ((err = pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, x->frame[f].win, x->frame[f].cap, RW, 0)) ||
            (err = pith_map_page(x->frame[f].win, cfg->window + f * PAGE, RW, 0)))
            break;
    }
    x->live = cfg->frames;
    if (!err)
        err = mem_notify_on(&mem, x->ntfn);
    if (!err && pith_thread_create(&x->thread, handler, x))
        err = PITH_E_NO_MEMORY;
    while (!err && !x->ready)
        pith_yield();
    if (!err)
        err = x->thread_error;
    if (err && !x->thread) {
        for (uint32_t f = 0; f < cfg->frames; f++)
            mem_frames_return(&mem, x->first_slot + f);
    }
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, mem.ep_slot, 0, 0, 0);
    pith_slot_free(mem.ep_slot);
    return err;
}

long exopage_rebind(struct exopage *x)
{
    struct pith_client mem;
    long err = PITH_OK;
    pith_client_init(&mem, x->cfg.mem_name, x->cfg.resolver, pith_slot_alloc(), pith_tls_self()->ipc_buffer);
    for (uint32_t f = 0; f < x->cfg.frames && !err; f++) {
        if (!x->frame[f].gone)
            continue;
        /* The same slots as before: the manager emptied them when it took the frames back. */
        if ((err = mem_frames_bind(&mem, PITH_SLOT_CSPACE, x->frame[f].cap, 1)) ||
            (err = pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, x->frame[f].win, x->frame[f].cap, RW, 0)) ||
            (err = pith_map_page(x->frame[f].win, x->cfg.window + f * PAGE, RW, 0)))
            break;
        x->frame[f].gone = false;
        x->frame[f].vpage = EXOPAGE_NONE;
        x->live++;
    }
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, mem.ep_slot, 0, 0, 0);
    pith_slot_free(mem.ep_slot);
    return err;
}

void exopage_stop(struct exopage *x)
{
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, x->ep, 0, 0, 0);
    if (x->thread)
        pith_thread_join(x->thread, NULL);
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, x->ntfn, 0, 0, 0);
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, x->reply, 0, 0, 0);
}
