/*
 * Buffer windows: each client (known by its badge) shares up to
 * BLK_WINDOW_PAGES pages of its own memory, one attach per page.  We keep
 * its frame capability (a copy derived from the client's), so when the
 * client ends, or revokes the page, our copy goes too and the page is no
 * longer attached: the device never writes into memory that stopped being
 * the client's between two requests.
 */
#include "blkdrv.h"
#include "pith.h"

#include <string.h>

static struct window {
    bool used;
    uint64_t badge;
    uint64_t slot[BLK_WINDOW_PAGES];    /* 0: not attached */
    uint64_t phys[BLK_WINDOW_PAGES];
} windows[BLK_CLIENTS_MAX];
static pith_mutex_t lock;

static bool present(uint64_t slot)
{
    struct pith_msg m = { .w = { slot } };
    return slot && pith_invoke(PITH_SLOT_CSPACE, PITH_CNODE_IDENTIFY, &m) == PITH_OK && m.w[0] == PITH_OBJ_FRAME;
}

static struct window *find(uint64_t badge, bool make)
{
    for (int i = 0; i < BLK_CLIENTS_MAX; i++)
        if (windows[i].used && windows[i].badge == badge)
            return &windows[i];
    if (!make)
        return NULL;
    /* A new client takes a free entry, or one whose pages have all gone (its client ended). */
    for (int i = 0; i < BLK_CLIENTS_MAX; i++) {
        struct window *w = &windows[i];
        bool any = false;
        for (int p = 0; w->used && p < BLK_WINDOW_PAGES && !any; p++)
            any = present(w->slot[p]);
        if (any)
            continue;
        for (int p = 0; w->used && p < BLK_WINDOW_PAGES; p++)
            if (w->slot[p]) {
                pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, w->slot[p], 0, 0, 0);
                pith_slot_free(w->slot[p]);
            }
        memset(w, 0, sizeof *w);
        w->used = true;
        w->badge = badge;
        return w;
    }
    return NULL;
}

void window_init(void)
{
    pith_mutex_init(&lock);
}

bool window_attach(uint64_t badge, uint32_t page, uint64_t frame_slot, uint64_t phys)
{
    pith_mutex_lock(&lock);
    struct window *w = find(badge, true);
    bool ok = false;
    if (w) {
        uint64_t slot = w->slot[page] ? w->slot[page] : pith_slot_alloc();
        pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, slot, 0, 0, 0);
        /* Ours now: the dispatch deletes what is left in its cap_slot. */
        ok = pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_MOVE, slot, frame_slot, 0, 0) == PITH_OK;
        w->slot[page] = slot;
        w->phys[page] = ok ? phys : 0;
    }
    pith_mutex_unlock(&lock);
    return ok;
}

bool window_phys(uint64_t badge, uint32_t page, uint32_t n, uint64_t *phys)
{
    pith_mutex_lock(&lock);
    struct window *w = find(badge, false);
    bool ok = w != NULL;
    for (uint32_t i = 0; ok && i < n; i++) {
        ok = present(w->slot[page + i]);
        phys[i] = w->phys[page + i];
    }
    pith_mutex_unlock(&lock);
    return ok;
}
