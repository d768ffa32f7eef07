/*
 * The heap's pages: frames retyped from the heap's own untyped and mapped
 * read-write, one after another from HEAP_BASE.  The heap only grows; the
 * allocator (malloc.c) reuses what is freed.  Callers hold the malloc lock.
 */
#include "pith.h"
#include "heap.h"

static uint64_t heap_untyped;
static uint64_t heap_top = PITH_HEAP_BASE;      /* end of the pages handed out */
static uint64_t mapped_top = PITH_HEAP_BASE;    /* end of the pages mapped */
static int exhausted;

void pith_heap_init(uint64_t untyped)
{
    heap_untyped = untyped;
}

/* One more page at mapped_top; 0 on success. */
static int map_one(void)
{
    uint64_t frame = pith_retype(heap_untyped, PITH_OBJ_FRAME, 0);
    if (!frame)
        return -1;
    if (pith_map_page(frame, mapped_top, PITH_RIGHT_READ | PITH_RIGHT_WRITE, heap_untyped)) {
        pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, frame, 0, 0, 0);
        return -1;
    }
    mapped_top += PITH_PAGE;
    return 0;
}

/*
 * count more pages at mapped_top in one retype and as few maps as the
 * page tables allow; 0 on success.  Nothing is made unless all of them
 * can be (the retype is all or nothing), so the caller may go on a page
 * at a time after a failure.
 */
static int map_run(uint64_t count)
{
    uint64_t first = pith_retype_range(heap_untyped, PITH_OBJ_FRAME, 0, count);
    if (!first)
        return -1;
    if (pith_map_frames(PITH_SLOT_VSPACE, PITH_SLOT_CSPACE, first, mapped_top, count,
                        PITH_RIGHT_READ | PITH_RIGHT_WRITE, heap_untyped)) {
        for (uint64_t i = 0; i < count; i++) {     /* (deleting a frame capability unmaps it) */
            pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, first + i, 0, 0, 0);
            pith_slot_free(first + i);
        }
        return -1;
    }
    mapped_top += count * PITH_PAGE;
    return 0;
}

void *pith_heap_grow(size_t pages)
{
    if (pages > (PITH_HEAP_LIMIT - heap_top) / PITH_PAGE)
        return NULL;
    /*
     * Frames never go back to the untyped, so once it has run dry it stays
     * dry: remember that rather than spend a slot on every failed attempt.
     * Pages mapped before a failure stay for the next request.
     */
    /* Many pages at once (a block cache, lwIP's pools) in runs of at most PITH_MAP_MAX_PAGES. */
    while (!exhausted && mapped_top + PITH_PAGE < heap_top + pages * PITH_PAGE) {
        uint64_t want = (heap_top + pages * PITH_PAGE - mapped_top) / PITH_PAGE;
        if (map_run(want < PITH_MAP_MAX_PAGES ? want : PITH_MAP_MAX_PAGES))
            break;
    }
    while (!exhausted && mapped_top < heap_top + pages * PITH_PAGE)
        if (map_one())
            exhausted = 1;
    if (mapped_top < heap_top + pages * PITH_PAGE)
        return NULL;
    void *p = (void *)heap_top;
    heap_top += pages * PITH_PAGE;
    return p;
}
