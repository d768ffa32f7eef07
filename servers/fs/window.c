/*
 * Clients' windows: pages of a client's own memory it shared with us
 * (fs.idl attach), mapped here so that read_window and write_window move
 * file data between them and the block cache with one copy.  A client is
 * known by the badge its capability to /fs carries (the name service
 * mints one per process).
 *
 * A client that ends takes its frames with it: the kernel removes our
 * copies and their mappings.  So a page is looked at (its slot still
 * holds the frame) right before each use, and an entry whose pages are
 * all gone is free for another client.
 */
#include "volume.h"

#include <string.h>

#define WINDOW_VA       0x640000000ull  /* docs/runtime.md: the file server's clients' windows */
#define MAX_CLIENTS     16

struct window {
    uint64_t badge;
    bool used;
    uint64_t slot[FS_WINDOW_PAGES];     /* 0: not attached */
};

static struct window windows[MAX_CLIENTS];

static uint8_t *page_va(unsigned client, unsigned page)
{
    return (uint8_t *)(WINDOW_VA + ((uint64_t)client * FS_WINDOW_PAGES + page) * 4096);
}

static bool slot_is_frame(uint64_t slot)
{
    struct pith_msg m = { .w = { slot } };
    return slot && pith_invoke(PITH_SLOT_CSPACE, PITH_CNODE_IDENTIFY, &m) == PITH_OK && m.w[0] == PITH_OBJ_FRAME;
}

static void drop(struct window *w, unsigned page)
{
    if (!w->slot[page])
        return;
    pith_invoke4(w->slot[page], PITH_FRAME_UNMAP, 0, 0, 0, 0);
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, w->slot[page], 0, 0, 0);
    pith_slot_free(w->slot[page]);
    w->slot[page] = 0;
}

/* An entry is stale when none of its pages is still a frame (its client ended). */
static bool stale(struct window *w)
{
    for (unsigned p = 0; p < FS_WINDOW_PAGES; p++)
        if (slot_is_frame(w->slot[p]))
            return false;
    return true;
}

static struct window *find(uint64_t badge, bool make)
{
    for (unsigned i = 0; i < MAX_CLIENTS; i++)
        if (windows[i].used && windows[i].badge == badge)
            return &windows[i];
    if (!make)
        return NULL;
    for (unsigned i = 0; i < MAX_CLIENTS; i++) {
        struct window *w = &windows[i];
        if (w->used && !stale(w))
            continue;
        for (unsigned p = 0; p < FS_WINDOW_PAGES; p++)
            drop(w, p);
        w->used = true;
        w->badge = badge;
        return w;
    }
    return NULL;
}

long window_attach(uint64_t badge, uint32_t page, uint64_t frame)
{
    struct pith_msg m = { .w = { frame } };
    if (page >= FS_WINDOW_PAGES || pith_invoke(PITH_SLOT_CSPACE, PITH_CNODE_IDENTIFY, &m) ||
        m.w[0] != PITH_OBJ_FRAME || (m.w[1] & (PITH_RIGHT_READ | PITH_RIGHT_WRITE)) != (PITH_RIGHT_READ | PITH_RIGHT_WRITE))
        return FS_E_BAD_WINDOW;
    struct window *w = find(badge, true);
    if (!w)
        return FS_E_BAD_WINDOW;
    drop(w, page);
    uint64_t slot = pith_slot_alloc();
    if (!slot)
        return FS_E_BAD_WINDOW;
    /* Keep the frame in a slot of our own: the received one is emptied after the handler. */
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_MOVE, slot, frame, 0, 0);
    unsigned client = (unsigned)(w - windows);
    if (pith_map_page(slot, (uint64_t)page_va(client, page), PITH_RIGHT_READ | PITH_RIGHT_WRITE, 0)) {
        pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, slot, 0, 0, 0);
        pith_slot_free(slot);
        return FS_E_BAD_WINDOW;
    }
    w->slot[page] = slot;
    return 0;
}

/* The address of len bytes of the caller's window from page on, or an error. */
long window_span(uint64_t badge, uint32_t page, uint32_t len, uint8_t **at)
{
    if (page >= FS_WINDOW_PAGES || len > (FS_WINDOW_PAGES - page) * 4096u)
        return FS_E_BAD_WINDOW;
    struct window *w = find(badge, false);
    if (!w)
        return FS_E_NO_WINDOW;
    for (uint32_t p = page; p < page + (len + 4095) / 4096; p++)
        if (!slot_is_frame(w->slot[p]))
            return FS_E_NO_WINDOW;
    *at = page_va((unsigned)(w - windows), page);
    return 0;
}
