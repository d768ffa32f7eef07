/*
 * Program images mapped lazily by the memory manager (image_map,
 * docs/memory.md): the child program (tests/user/child/) started from its
 * ELF image, kept by a mapper thread here, in fresh address spaces whose
 * pages the manager supplies only when touched; writes to its data stay
 * private; malformed images get the documented errors; nothing leaks.
 */
#include "memtest.h"
#include "elf_cases.h"
#include "lib/string.h"

extern const unsigned char child_elf[], child_elf_end[];

#define IMG_KEY     0x1a6e
#define SCRATCH     0x5b00000000ull     /* where the mapper maps the page it is lent */
#define STACK_TOP   0x7000000000ull

/* What the mapper serves under IMG_KEY; the test changes it between requests. */
static const unsigned char *image;
static uint64_t image_size;
static volatile uint64_t pulls, pushes;
static uint64_t lent;

static long pull(void *ctx, uint64_t key, uint64_t offset, uint64_t page)
{
    if (key != IMG_KEY || offset % PAGE || offset >= image_size ||
        pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_MOVE, lent, page, 0, 0))
        return MAPPER_E_NO_DATA;
    if (map_frame(PITH_SLOT_VSPACE, lent, SCRATCH, PITH_RIGHT_READ | PITH_RIGHT_WRITE))
        return MAPPER_E_NO_DATA;
    uint64_t n = image_size - offset < PAGE ? image_size - offset : PAGE;
    memcpy((void *)SCRATCH, image + offset, n);
    /* Past the file's end: junk the manager must not let through. */
    memset((char *)SCRATCH + n, 0xee, PAGE - n);
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, lent, 0, 0, 0);
    pulls++;
    return PITH_OK;
}

static long push(void *ctx, uint64_t key, uint64_t offset, uint64_t page)
{
    pushes++;                   /* an image is never written back: counted to prove it */
    return MAPPER_E_NO_DATA;
}

static const struct mapper_handlers mapper = { .pull = pull, .push = push };
static struct pith_server mapper_srv;

static void mapper_thread(uint64_t unused)
{
    mapper_serve(&mapper_srv, &mapper, NULL);
}

static bool start_mapper(uint64_t *tcb)
{
    lent = pith_slot_alloc();
    pulls = pushes = 0;
    image = child_elf;
    image_size = (uint64_t)(child_elf_end - child_elf);
    mapper_srv = (struct pith_server){ .ep = make_object(PITH_OBJ_ENDPOINT, 0),
                                       .reply = make_object(PITH_OBJ_REPLY, 0), .cap_slot = pith_slot_alloc() };
    *tcb = make_thread(mapper_thread, 0, 160);
    if (!*tcb)
        return false;
    /* make_thread put its IPC buffer 0x2000 above its stack page. */
    struct pith_msg regs = { 0 };
    pith_invoke(*tcb, PITH_TCB_READ_REGISTERS, &regs);
    mapper_srv.buf = (struct pith_ipc_buffer *)((regs.w[1] & ~0x3fffull) + 0x2000);
    return pith_invoke4(*tcb, PITH_TCB_RESUME, 0, 0, 0, 0) == PITH_OK;
}

/* A client whose pages go into a fresh address space (*vs, ours too). */
static uint32_t space_client(struct mm *m, struct pith_client *c, const char *name, uint64_t *vs, uint64_t *ep)
{
    uint64_t copy = pith_slot_alloc();
    uint32_t id = 0;
    *vs = make_object(PITH_OBJ_VSPACE, 0);
    *ep = pith_slot_alloc();
    if (!*vs || pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, copy, *vs, PITH_RIGHTS_ALL, 0) ||
        mem_client_new(&m->owner, copy, 32, &id, *ep))
        return 0;
    registry_set(name, *ep);
    pith_client_init(c, name, &test_registry, pith_slot_alloc(), (struct pith_ipc_buffer *)PITH_IPC_BUFFER_ADDR);
    return id;
}

/* Runs the child in vs from entry, its faults going to fault_ep; its two messages in out[]. */
static long run_child(uint64_t vs, uint64_t fault_ep, uint64_t entry, struct pith_msg out[2], uint64_t *tcb)
{
    uint64_t ep = make_object(PITH_OBJ_ENDPOINT, 0);
    *tcb = make_object(PITH_OBJ_TCB, 0);
    long err;
    if (!ep || !*tcb)
        return PITH_E_NO_MEMORY;
    if ((err = pith_invoke4(*tcb, PITH_TCB_CONFIGURE, PITH_SLOT_CSPACE, vs, 0, fault_ep)) ||
        (err = pith_invoke4(*tcb, PITH_TCB_SET_PRIORITY, 100, 100, 0, 0)) ||
        (err = pith_invoke4(*tcb, PITH_TCB_WRITE_REGISTERS, entry, STACK_TOP - 8, ep, 0)) ||
        (err = pith_invoke4(*tcb, PITH_TCB_RESUME, 0, 0, 0, 0)))
        return err;
    for (int i = 0; i < 2 && !err; i++) {
        out[i] = (struct pith_msg){ 0 };
        err = pith_syscall_timed(PITH_SYS_RECV_TIMED, ep, &out[i], 0, 2000000000ull);
    }
    return err;
}

/* The first message: the same proofs the eager loader's test checks. */
static bool child_answered(const struct pith_msg *m)
{
    return PITH_TAG_LABEL(m->tag) == 0xe1f && m->w[0] == 11 + 22 + 33 + 44 && m->w[1] == 0 &&
           m->w[2] == sizeof "loaded by lib/elfload" - 1 && m->w[3] == (('l' << 8) | 1);
}

static uint32_t pages_free(struct pith_client *c)
{
    uint32_t q, used, pages = 0, refused;
    uint64_t bytes;
    mem_stats(c, &q, &used, &pages, &bytes, &refused);
    return pages;
}

/* Whether the page at va is mapped in vs (the accessed and dirty bits cleared on the way). */
static bool mapped(uint64_t vs, uint64_t va)
{
    struct pith_msg m = { .w = { va, 1 } };
    return pith_invoke(vs, PITH_VSPACE_AD_BITS, &m) == PITH_OK && (m.w[0] & 1);
}

UTEST(mem_image_runs_a_program_paged_in_on_touch)
{
    struct mm m;
    struct pith_client c;
    struct pith_msg got[2];
    struct elf_image img;
    uint64_t mt, vs, ep, tcb, entry = 0;
    UT_ASSERT(start_mapper(&mt));
    UT_EQ(elf_parse(child_elf, image_size, &img), ELF_OK);
    UT_EQ(mm_start(&m), PITH_OK);
    uint32_t id1 = space_client(&m, &c, "mem-c1", &vs, &ep);
    UT_ASSERT(id1);
    UT_EQ(mem_image_map(&c, mapper_srv.ep, IMG_KEY, image_size, &entry), PITH_OK);
    UT_EQ(entry, img.entry);
    /* Only the headers were read; no page is supplied yet. */
    UT_EQ(pulls, 1);
    UT_EQ(pages_free(&c), mm_state.pool_pages);
    UT_EQ(mem_anon(&c, STACK_TOP - PAGE, 1), PITH_OK);

    UT_EQ(run_child(vs, ep, entry, got, &tcb), PITH_OK);
    UT_ASSERT(child_answered(&got[0]));
    UT_EQ(PITH_TAG_LABEL(got[1].tag), 0xe20);
    UT_EQ(got[1].w[0], 0xfa + 0xff);                    /* read-only data from the file */

    /* Exactly the touched pages were supplied, and only those with file bytes were read. */
    uint64_t total = 0, present = 0, from_file = 0;
    for (int i = 0; i < img.nsegments; i++) {
        uint64_t first, n = elf_segment_pages(&img.segments[i], &first);
        total += n;
        for (uint64_t k = 0; k < n; k++) {
            struct elf_page p;
            if (!mapped(vs, first + k * PAGE))
                continue;
            elf_page_of(&img.segments[i], first + k * PAGE, &p);
            present++;
            from_file += p.len != 0;
        }
    }
    UT_EQ(present + 1, mm_state.pool_pages - pages_free(&c));      /* and the stack page */
    UT_EQ(pulls, 1 + from_file);
    UT_ASSERT(from_file < present);                     /* bss pages were touched, and never read */
    /* The untouched bss's whole pages were never supplied. */
    uint64_t lo = (got[1].w[2] + PAGE - 1) & ~(PAGE - 1), hi = (got[1].w[2] + got[1].w[3]) & ~(PAGE - 1);
    UT_ASSERT(hi - lo >= 4 * PAGE);
    for (uint64_t va = lo; va < hi; va += PAGE)
        UT_ASSERT(!mapped(vs, va));
    UT_ASSERT(present < total);
    printf("  %lu of %lu image pages supplied, %lu read from the image\n", present, total, from_file);

    end_thread(tcb);
    UT_EQ(mem_client_close(&m.owner, id1), PITH_OK);
    UT_EQ(pushes, 0);
    UT_ASSERT(mm_accounted(&m));
    UT_ASSERT(mm_stop(&m));
    end_thread(mt);
}

UTEST(mem_image_writes_stay_private)
{
    struct mm m;
    struct pith_client c1, c2;
    struct pith_msg got[2];
    uint64_t mt, vs1, vs2, ep1, ep2, t1, t2, entry;
    UT_ASSERT(start_mapper(&mt));
    UT_EQ(mm_start(&m), PITH_OK);
    uint32_t id1 = space_client(&m, &c1, "mem-c1", &vs1, &ep1);
    uint32_t id2 = space_client(&m, &c2, "mem-c2", &vs2, &ep2);
    UT_ASSERT(id1 && id2);
    UT_EQ(mem_image_map(&c1, mapper_srv.ep, IMG_KEY, image_size, &entry), PITH_OK);
    UT_EQ(mem_image_map(&c2, mapper_srv.ep, IMG_KEY, image_size, &entry), PITH_OK);
    UT_EQ(mem_anon(&c1, STACK_TOP - PAGE, 1), PITH_OK);
    UT_EQ(mem_anon(&c2, STACK_TOP - PAGE, 1), PITH_OK);
    /* The first stores its sum over table[0]; the second, started after, still sums the file's values. */
    UT_EQ(run_child(vs1, ep1, entry, got, &t1), PITH_OK);
    UT_ASSERT(child_answered(&got[0]));
    UT_EQ(run_child(vs2, ep2, entry, got, &t2), PITH_OK);
    UT_ASSERT(child_answered(&got[0]));
    end_thread(t1);
    end_thread(t2);
    UT_EQ(mem_client_close(&m.owner, id1), PITH_OK);
    UT_EQ(mem_client_close(&m.owner, id2), PITH_OK);
    UT_EQ(pushes, 0);                                   /* the image was never written */
    UT_ASSERT(mm_accounted(&m));
    UT_ASSERT(mm_stop(&m));
    end_thread(mt);
}

UTEST(mem_image_malformed_gets_its_error)
{
    struct mm m;
    struct pith_client c;
    uint64_t mt, vs, ep, entry = 0;
    UT_ASSERT(start_mapper(&mt));
    UT_EQ(mm_start(&m), PITH_OK);
    uint32_t id1 = space_client(&m, &c, "mem-c1", &vs, &ep);
    UT_ASSERT(id1);
    /* Every malformed case of the ELF parser's tests, served by the mapper. */
    static unsigned char work[CASE_SIZE];
    for (size_t i = 0; i < ELF_NCASES; i++) {
        if (elf_cases[i].want == ELF_OK)
            continue;
        case_valid(work);
        elf_cases[i].change(work);
        image = work;
        image_size = elf_cases[i].size ? elf_cases[i].size : CASE_SIZE;
        long err = mem_image_map(&c, mapper_srv.ep, IMG_KEY, image_size, &entry);
        if (err != MEM_E_BAD_IMAGE)
            printf("  case %s: %ld\n", elf_cases[i].name, err);
        UT_EQ(err, MEM_E_BAD_IMAGE);
    }
    image = child_elf;
    image_size = (uint64_t)(child_elf_end - child_elf);
    /* A size that leaves the segments outside the file; a key the mapper does not know. */
    UT_EQ(mem_image_map(&c, mapper_srv.ep, IMG_KEY, PAGE, &entry), MEM_E_BAD_IMAGE);
    UT_EQ(mem_image_map(&c, mapper_srv.ep, IMG_KEY + 1, image_size, &entry), MEM_E_NO_IMAGE);
    UT_EQ(mem_image_map(&c, mapper_srv.reply, IMG_KEY, image_size, &entry), MEM_E_BAD_MAPPER);
    UT_EQ(mem_image_map(&m.owner, mapper_srv.ep, IMG_KEY, image_size, &entry), MEM_E_DENIED);
    /* A region in the way of the data segment: nothing of the image stays behind. */
    struct elf_image img;
    UT_EQ(elf_parse(child_elf, image_size, &img), ELF_OK);
    uint64_t last = img.segments[img.nsegments - 1].vaddr & ~(PAGE - 1);
    UT_EQ(mem_anon(&c, last, 1), PITH_OK);
    UT_EQ(mem_image_map(&c, mapper_srv.ep, IMG_KEY, image_size, &entry), MEM_E_BAD_RANGE);
    UT_EQ(mem_free(&c, img.segments[0].vaddr & ~(PAGE - 1)), MEM_E_NO_REGION);
    UT_EQ(mem_free(&c, last), PITH_OK);
    UT_EQ(mem_image_map(&c, mapper_srv.ep, IMG_KEY, image_size, &entry), PITH_OK);
    UT_EQ(mem_image_map(&c, mapper_srv.ep, IMG_KEY, image_size, &entry), MEM_E_BAD_RANGE);
    UT_EQ(mem_client_close(&m.owner, id1), PITH_OK);
    /* A quota too small for the image. */
    struct pith_client small;
    uint64_t copy = pith_slot_alloc(), ep2 = pith_slot_alloc();
    uint32_t id;
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, copy, vs, PITH_RIGHTS_ALL, 0), PITH_OK);
    UT_EQ(mem_client_new(&m.owner, copy, 2, &id, ep2), PITH_OK);
    registry_set("mem-c2", ep2);
    pith_client_init(&small, "mem-c2", &test_registry, pith_slot_alloc(),
                     (struct pith_ipc_buffer *)PITH_IPC_BUFFER_ADDR);
    UT_EQ(mem_image_map(&small, mapper_srv.ep, IMG_KEY, image_size, &entry), MEM_E_QUOTA);
    UT_EQ(mem_client_close(&m.owner, id), PITH_OK);
    UT_ASSERT(mm_accounted(&m));
    UT_ASSERT(mm_stop(&m));
    end_thread(mt);
}

/* ---- the page cache: read-only pages shared ---- */

/* The frame the manager gave the client's image page at va (MEM_NONE: none). */
static uint32_t frame_at(uint32_t id, uint64_t va)
{
    for (unsigned i = 0; i < MEM_REGIONS; i++) {
        const struct mem_region *r = &mm_state.region[i];
        if (r->kind == REGION_IMAGE && r->client == id - 1 && va - r->base < r->pages * PAGE)
            return r->e[(va - r->base) / PAGE].frame;
    }
    return MEM_NONE;
}

static uint32_t cached_pages(void)
{
    uint32_t n = 0;
    for (unsigned k = 0; k < MEM_CACHE_PAGES; k++)
        n += mm_state.cache[k].used;
    return n;
}

/* Pages of the image mapped in vs: read-only ones with file bytes, writable ones with file bytes, all. */
static void image_pages(const struct elf_image *img, uint64_t vs, uint64_t *ro, uint64_t *data, uint64_t *all)
{
    *ro = *data = *all = 0;
    for (int i = 0; i < img->nsegments; i++) {
        uint64_t first, n = elf_segment_pages(&img->segments[i], &first);
        for (uint64_t k = 0; k < n; k++) {
            struct elf_page p;
            if (!mapped(vs, first + k * PAGE))
                continue;
            elf_page_of(&img->segments[i], first + k * PAGE, &p);
            ++*all;
            if (p.len && (img->segments[i].flags & ELF_PF_W))
                ++*data;
            else if (p.len)
                ++*ro;
        }
    }
}

static volatile uint64_t filled;

static void touch_pages(uint64_t pages)
{
    for (uint64_t i = 0; i < pages; i++)
        *(volatile uint64_t *)(REGION_A + i * PAGE) = i;
    filled++;
}

UTEST(mem_image_read_only_pages_shared)
{
    struct mm m;
    struct pith_client c1, c2, c3;
    struct pith_msg got[2];
    struct elf_image img;
    uint64_t mt, vs1, vs2, vs3, ep1, ep2, ep3, t1, t2, t3, entry, ro1, data1, all1, ro2, data2, all2;
    UT_ASSERT(start_mapper(&mt));
    UT_EQ(elf_parse(child_elf, image_size, &img), ELF_OK);
    UT_EQ(mm_start(&m), PITH_OK);
    uint32_t id1 = space_client(&m, &c1, "mem-c1", &vs1, &ep1);
    uint32_t id2 = space_client(&m, &c2, "mem-c2", &vs2, &ep2);
    UT_ASSERT(id1 && id2);
    UT_EQ(mem_image_map(&c1, mapper_srv.ep, IMG_KEY, image_size, &entry), PITH_OK);
    UT_EQ(mem_anon(&c1, STACK_TOP - PAGE, 1), PITH_OK);
    UT_EQ(run_child(vs1, ep1, entry, got, &t1), PITH_OK);
    UT_ASSERT(child_answered(&got[0]));
    /* Every read-only page the first touched is in the cache now. */
    image_pages(&img, vs1, &ro1, &data1, &all1);
    UT_ASSERT(ro1 >= 2);                                /* text and read-only data at least */
    UT_EQ(cached_pages(), ro1);

    /* The second client of the image (the same mapper, another capability to it): no pull for read-only pages. */
    uint64_t copy = pith_slot_alloc();
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, copy, mapper_srv.ep, PITH_RIGHT_WRITE | PITH_RIGHT_GRANT, 0),
          PITH_OK);
    UT_EQ(mem_image_map(&c2, copy, IMG_KEY, image_size, &entry), PITH_OK);
    UT_EQ(mem_anon(&c2, STACK_TOP - PAGE, 1), PITH_OK);
    uint64_t before = pulls;
    UT_EQ(run_child(vs2, ep2, entry, got, &t2), PITH_OK);
    UT_ASSERT(child_answered(&got[0]));                 /* its own data: the first's writes are not seen */
    image_pages(&img, vs2, &ro2, &data2, &all2);
    UT_EQ(ro2, ro1);
    UT_EQ(pulls - before, data2);                       /* only pages of the data segment were read */
    UT_ASSERT(data2 >= 1);
    /* The same frames for read-only pages, each its own for data. */
    for (int i = 0; i < img.nsegments; i++) {
        uint64_t first, n = elf_segment_pages(&img.segments[i], &first);
        for (uint64_t k = 0; k < n; k++) {
            uint32_t f1 = frame_at(id1, first + k * PAGE), f2 = frame_at(id2, first + k * PAGE);
            struct elf_page p;
            elf_page_of(&img.segments[i], first + k * PAGE, &p);
            if (f1 == MEM_NONE || f2 == MEM_NONE)
                continue;
            if (p.len && !(img.segments[i].flags & ELF_PF_W))
                UT_EQ(f1, f2);
            else
                UT_ASSERT(f1 != f2);
        }
    }
    UT_EQ(mm_state.pool_pages - pages_free(&c1), all1 + all2 - ro1 + 2);   /* and the two stacks */
    printf("  %lu read-only pages shared, %lu data pages pulled for the second\n", ro1, data2);
    end_thread(t1);
    end_thread(t2);
    UT_EQ(mem_client_close(&m.owner, id1), PITH_OK);
    UT_EQ(mem_client_close(&m.owner, id2), PITH_OK);
    UT_EQ(pushes, 0);
    /* Both gone: the cached frames are kept, idle, and counted as free memory. */
    UT_EQ(cached_pages(), ro1);
    UT_EQ(mm_state.pages_free, mm_state.pool_pages - ro1);
    UT_ASSERT(mm_accounted(&m));

    /* A third client later: its read-only pages still come from the cache. */
    uint32_t id3 = space_client(&m, &c3, "mem-c1", &vs3, &ep3);     /* the first's name, free again */
    UT_ASSERT(id3);
    UT_EQ(mem_image_map(&c3, mapper_srv.ep, IMG_KEY, image_size, &entry), PITH_OK);
    UT_EQ(mem_anon(&c3, STACK_TOP - PAGE, 1), PITH_OK);
    before = pulls;
    UT_EQ(run_child(vs3, ep3, entry, got, &t3), PITH_OK);
    UT_ASSERT(child_answered(&got[0]));
    UT_EQ(pulls - before, data2);
    end_thread(t3);
    UT_EQ(mem_client_close(&m.owner, id3), PITH_OK);

    /* A client that needs every frame gets them: the idle cached pages are taken back first. */
    struct pith_client big;
    uint64_t big_ep;
    uint32_t id = mm_client(&m, &big, "mem-c2", mm_state.pool_pages, &big_ep);
    UT_ASSERT(id);
    uint32_t first = MEM_REGION_PAGES, rest = mm_state.pool_pages - first;
    UT_EQ(mem_anon(&big, REGION_A, first), PITH_OK);
    UT_EQ(mem_anon(&big, REGION_A + first * PAGE, rest), PITH_OK);
    filled = 0;
    uint64_t t = client_thread(touch_pages, mm_state.pool_pages, big_ep, 150);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_ASSERT(wait_for(&filled, 1));
    end_thread(t);
    UT_EQ(cached_pages(), 0);
    UT_EQ(mm_state.pages_free, 0);
    UT_EQ(mem_client_close(&m.owner, id), PITH_OK);
    UT_ASSERT(mm_accounted(&m));
    UT_ASSERT(mm_stop(&m));
    end_thread(mt);
}
