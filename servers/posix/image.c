/*
 * Shared images: the read-only segments (text, constants) of a program
 * file, loaded once and mapped into every process that runs it, whether
 * it was loaded again (spawn, execve of the same file: same inode,
 * generation, size and modification time) or forked.  The frames are
 * made from chunks of the image's own, so they outlive the process that
 * loaded them; the image goes when its last process does.  Its frame
 * capabilities stay in a range of our slots, set aside at start for each
 * image (the runtime's ranges are never given back).
 */
#include "personality.h"

#include <stdio.h>
#include <string.h>

#define IMAGE_MAX   4
#define IMAGE_PAGES 640                 /* 2.5 MiB of read-only segments at most */

struct image {
    int refs;                           /* processes mapping it; 0: free */
    bool ready;                         /* loaded whole (a failed load is never shared) */
    uint32_t ino, gen, mtime;
    uint64_t size;
    uint32_t pages;
    uint64_t slots;                     /* IMAGE_PAGES of ours */
    struct chunks mem;
};

static struct image images[IMAGE_MAX];
static int nimages;

void image_start(void)
{
    while (nimages < IMAGE_MAX && pith_slots_left() > IMAGE_PAGES + 1024)
        images[nimages++].slots = pith_slot_alloc_range(IMAGE_PAGES);
}

int image_find(uint32_t ino, uint32_t gen, uint64_t size, uint32_t mtime)
{
    for (int i = 0; i < nimages; i++) {
        struct image *m = &images[i];
        if (m->refs && m->ready && m->ino == ino && m->gen == gen && m->size == size && m->mtime == mtime)
            return i;
    }
    return -1;
}

int image_new(uint32_t ino, uint32_t gen, uint64_t size, uint32_t mtime, uint32_t pages)
{
    if (pages > IMAGE_PAGES)
        return -1;
    int i = 0;
    while (i < nimages && images[i].refs)
        i++;
    if (i == nimages)
        return -1;
    struct image *m = &images[i];
    m->mem = (struct chunks){ 0 };
    for (uint32_t done = 0; done < pages; done += 64) {
        uint32_t k = pages - done < 64 ? pages - done : 64;
        if (chunks_retype(&m->mem, PITH_OBJ_FRAME, m->slots + done, k)) {
            chunks_give_back(&m->mem);
            return -1;
        }
    }
    m->refs = 1, m->ready = false;
    m->ino = ino, m->gen = gen, m->size = size, m->mtime = mtime, m->pages = pages;
    return i;
}

uint64_t image_slot(int img, uint32_t page) { return images[img].slots + page; }
void image_ready(int img) { images[img].ready = true; }
void image_get(int img) { images[img].refs++; }

void image_put(int img)
{
    struct image *m = &images[img];
    if (m->refs > 0 && !--m->refs)
        chunks_give_back(&m->mem);      /* the frames and every mapping derived from them go */
}
