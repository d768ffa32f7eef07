/*
 * Program images mapped lazily (image_map in mem.idl): an ELF executable
 * kept by a mapper, whose segments become regions of the client with
 * nothing in them yet.  A fault fills a page from the file the way the
 * ELF loader would have at load time (lib/elfload's elf_page_of says what
 * the page holds): the file's page pulled from the mapper into a new
 * frame, and what is not the segment's file bytes zeroed; a page of bss
 * never asks the mapper.  A page of a writable segment is the client's own
 * frame, so writes to data stay private to the process and the image is
 * never written; a page of a read-only segment comes from the page cache
 * (cache.c) when another client's fault filled it already.
 */
#include "memserver.h"
#include "lib/string.h"

#define PAGE 4096ull

/* Reads the image's first page through the mapper and checks it. */
static long read_headers(struct mem_state *st, uint64_t mapper, uint64_t key, uint64_t size,
                         struct elf_image *img)
{
    /* Borrowed for the request only: it goes back before any fault can want it. */
    uint32_t f = pool_alloc(st, true);
    if (f == MEM_NONE)
        return MEM_E_NO_MEMORY;
    long err = mapper_call(st, mapper, key, 0, f, false);
    enum elf_error e = err ? ELF_OK : elf_parse_head(pool_page(st, f), PAGE, size, img);
    pool_unref(st, f);
    if (err)
        return MEM_E_NO_IMAGE;
    return e == ELF_OK ? PITH_OK : MEM_E_BAD_IMAGE;
}

static void drop(struct mem_state *st, struct mem_region *r)
{
    cache_mapper_put(st, r->cached);
    pith_invoke4(MEM_SLOT_CNODE, PITH_CNODE_DELETE, MEM_SLOT_MAPPER + (uint64_t)(r - st->region), 0, 0, 0);
    r->kind = REGION_FREE;
}

long image_map(void *ctx, uint64_t mapper, uint64_t key, uint64_t size, uint64_t *entry)
{
    struct mem_state *st = ctx;
    struct mem_client *c = mem_caller(st);
    struct elf_image img;
    if (!c)
        return MEM_E_DENIED;
    if (!mapper_usable(mapper))
        return MEM_E_BAD_MAPPER;
    long err = read_headers(st, mapper, key, size, &img);
    if (err)
        return err;
    unsigned client = (unsigned)(c - st->client);
    struct mem_region *made[ELF_MAX_SEGMENTS];
    uint32_t total = 0;
    int n = 0;
    for (; n < img.nsegments; n++) {
        const struct elf_segment *s = &img.segments[n];
        uint64_t first, pages = elf_segment_pages(s, &first);
        struct mem_region *r;
        if ((err = mem_region_new(st, client, first, pages, &r)))
            break;
        /* Each region keeps its own copy of the mapper, as a segment region does. */
        if (pith_invoke4(MEM_SLOT_CNODE, PITH_CNODE_COPY, MEM_SLOT_MAPPER + (uint64_t)(r - st->region), mapper,
                         PITH_RIGHTS_ALL, 0)) {
            err = MEM_E_FULL;
            break;
        }
        /* Taken now, so that the next segment's region_new neither reuses nor overlaps it. */
        r->kind = REGION_IMAGE;
        r->writable = (s->flags & ELF_PF_W) != 0;
        r->exec = (s->flags & ELF_PF_X) != 0;
        r->key = key;
        r->seg = *s;
        /* Read-only pages are the same for every client of this mapper and key: shared through the cache. */
        r->cached = r->writable ? 0 : cache_mapper_get(st, mapper);
        made[n] = r;
        total += (uint32_t)pages;
    }
    if (!err)
        err = mem_charge(st, c, total);
    if (err) {
        while (n--)
            drop(st, made[n]);
        return err;
    }
    *entry = img.entry;
    return PITH_OK;
}

long image_fill(struct mem_state *st, struct mem_region *r, unsigned i)
{
    struct elf_page p;
    elf_page_of(&r->seg, r->base + i * PAGE, &p);
    uint32_t frame = cache_find(st, r, &p);
    if (frame != MEM_NONE) {
        st->refs[frame]++;              /* another client filled it: no pull */
        r->e[i].frame = (uint16_t)frame;
        return PITH_OK;
    }
    if ((frame = pool_alloc(st, false)) == MEM_NONE)
        return MEM_E_NO_MEMORY;
    if (p.len) {
        long err = mapper_call(st, MEM_SLOT_MAPPER + (uint64_t)(r - st->region), r->key, p.file_off - p.at,
                               frame, false);
        if (err) {
            pool_unref(st, frame);
            return err;
        }
    }
    elf_page_clear(&p, pool_page(st, frame));
    r->e[i].frame = (uint16_t)frame;
    cache_add(st, r, &p, frame);
    return PITH_OK;
}
