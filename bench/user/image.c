/*
 * pith.image_fault (docs/memory.md#lazy-program-images): a fault on a
 * page of a program image mapped lazily by the memory manager, served from
 * the image.  The tests' child program (tests/user/child/) is mapped with
 * image_map in a fresh address space, its file kept by a mapper thread
 * here; it times its own first read of a page of read-only data, which the
 * manager fills by pulling the file's page from the mapper.  Each run maps
 * the image afresh, under a key of its own (the mapper serves the same
 * file under every key), so the page is never in the manager's cache.
 *
 * pith.image_fault_cached: the same read when the image (same mapper and
 * key) was run before, so the page is in the manager's page cache: it is
 * mapped without a pull.  Same line format as main.c's.
 */
#include "bench.h"
#include "pith.h"
#include "idl.h"
#include "memserver.h"
#include "lib/string.h"

#define RUNS        200
#define IMG_KEY     1
#define WINDOW      0x5c00000000ull     /* clear of mm.c's manager */
#define STACK       0x5d00000000ull     /* the manager's, then the mapper's stack and IPC buffer */
#define SCRATCH     0x5e00000000ull     /* where the mapper maps the page it is lent */
#define CHILD_STACK 0x7000000000ull
#define RW          (PITH_RIGHT_READ | PITH_RIGHT_WRITE)

extern const unsigned char child_elf[], child_elf_end[];

static uint64_t samples[RUNS];
static uint64_t lent;



/* The mapper: the child's file, a page at a time. */
static long pull(void *ctx, uint64_t key, uint64_t offset, uint64_t page)
{
    uint64_t size = (uint64_t)(child_elf_end - child_elf);
    if (key < IMG_KEY || offset >= size || pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_MOVE, lent, page, 0, 0))
        return MAPPER_E_NO_DATA;
    long err = pith_map_page(lent, SCRATCH, RW, 0);
    if (!err)
        memcpy((void *)SCRATCH, child_elf + offset, size - offset < 4096 ? size - offset : 4096);
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, lent, 0, 0, 0);
    return err ? MAPPER_E_NO_DATA : PITH_OK;
}

static long push(void *ctx, uint64_t key, uint64_t offset, uint64_t page)
{
    return MAPPER_E_NO_DATA;        /* an image is never written back */
}

static const struct mapper_handlers handlers = { .pull = pull, .push = push };
static struct pith_server mapper_srv;

static void mapper_thread(uint64_t unused)
{
    mapper_serve(&mapper_srv, &handlers, NULL);
    for (;;)
        pith_sleep_ns(1000000000000ull);
}

static void start_mapper(void)
{
    uint64_t tcb = bench_make(PITH_OBJ_TCB, 0, 1), stack = bench_make(PITH_OBJ_FRAME, 0, 1),
             buf = bench_make(PITH_OBJ_FRAME, 0, 1);
    uint64_t top = STACK + 0x10000;
    lent = pith_slot_alloc();
    mapper_srv = (struct pith_server){ .ep = bench_make(PITH_OBJ_ENDPOINT, 0, 1),
                                       .reply = bench_make(PITH_OBJ_REPLY, 0, 1),
                                       .cap_slot = pith_slot_alloc(),
                                       .buf = (struct pith_ipc_buffer *)(top + 0x2000) };
    long err;
    if ((err = pith_map_page(stack, top, RW, 0)) || (err = pith_map_page(buf, top + 0x2000, RW, 0)) ||
        (err = pith_invoke4(tcb, PITH_TCB_CONFIGURE, PITH_SLOT_CSPACE, PITH_SLOT_VSPACE, buf, 0)) ||
        (err = pith_invoke4(tcb, PITH_TCB_SET_PRIORITY, 160, 160, 0, 0)) ||
        (err = pith_invoke4(tcb, PITH_TCB_WRITE_REGISTERS, (uint64_t)mapper_thread, top + 0x1000 - 8, 0, 0)) ||
        (err = pith_invoke4(tcb, PITH_TCB_RESUME, 0, 0, 0, 0)))
        bench_die("image mapper", err);
}


/*
 * RUNS runs of the child, the image mapped afresh each time under key
 * (first_key + 1 + run for a fresh key each run, when first_key is not
 * IMG_KEY); prints the figure as `name` (NULL: one untimed run).
 */
static void run_child(struct pith_client *client, uint64_t child, uint64_t ep, const struct elf_image *img,
                      uint64_t first_key, const char *name, const char *unit)
{
    uint64_t size = (uint64_t)(child_elf_end - child_elf), entry;
    long err;
    int runs = name ? RUNS : 1;
    for (int i = 0; i < runs; i++) {
        struct pith_msg m = { 0 };
        uint64_t key = first_key == IMG_KEY ? IMG_KEY : first_key + (uint64_t)i;
        if ((err = mem_image_map(client, mapper_srv.ep, key, size, &entry)) ||
            (err = pith_invoke4(child, PITH_TCB_WRITE_REGISTERS, entry, CHILD_STACK - 8, ep, 0)) ||
            (err = pith_invoke4(child, PITH_TCB_RESUME, 0, 0, 0, 0)) ||
            (err = pith_syscall(PITH_SYS_RECV, ep, &m, 0)) ||
            (err = pith_syscall(PITH_SYS_RECV, ep, &m, 0)) ||
            (err = pith_invoke4(child, PITH_TCB_SUSPEND, 0, 0, 0, 0)))
            bench_die("image run", err);
        if (PITH_TAG_LABEL(m.tag) != 0xe20 || m.w[0] != 0xfa + 0xff)
            bench_die("image child's answer", -1);
        samples[i] = m.w[1];
        for (int s = 0; s < img->nsegments; s++)
            if ((err = mem_free(client, img->segments[s].vaddr & ~4095ull)))
                bench_die("image free", err);
    }
    if (!name)
        return;
    bench_report(name, samples, RUNS, unit);
}

void image_bench(const char *unit)
{
    static struct mem_state st;
    static uint64_t owner_ep, client_ep;
    long err;
    bench_manager_start(&st, 20, WINDOW, STACK, &owner_ep);
    start_mapper();
    struct pith_resolver owner_r = { bench_lookup, &owner_ep }, client_r = { bench_lookup, &client_ep };
    struct pith_client owner, client;
    struct pith_ipc_buffer *buf = (struct pith_ipc_buffer *)PITH_IPC_BUFFER_ADDR;
    pith_client_init(&owner, "owner", &owner_r, pith_slot_alloc(), buf);
    /* The child's own address space, its pages all from the manager. */
    uint64_t vs = bench_make(PITH_OBJ_VSPACE, 0, 1), copy = pith_slot_alloc();
    uint32_t id;
    client_ep = pith_slot_alloc();
    if ((err = pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, copy, vs, PITH_RIGHTS_ALL, 0)) ||
        (err = mem_client_new(&owner, copy, 32, &id, client_ep)))
        bench_die("image memory client", err);
    pith_client_init(&client, "client", &client_r, pith_slot_alloc(), buf);
    struct elf_image img;
    uint64_t size = (uint64_t)(child_elf_end - child_elf);
    if (elf_parse(child_elf, size, &img) != ELF_OK || (err = mem_anon(&client, CHILD_STACK - 4096, 1)))
        bench_die("image child", err);
    uint64_t ep = bench_make(PITH_OBJ_ENDPOINT, 0, 1), child = bench_make(PITH_OBJ_TCB, 0, 1);
    if ((err = pith_invoke4(child, PITH_TCB_CONFIGURE, PITH_SLOT_CSPACE, vs, 0, client_ep)) ||
        (err = pith_invoke4(child, PITH_TCB_SET_PRIORITY, 100, 100, 0, 0)))
        bench_die("image child thread", err);
    run_child(&client, child, ep, &img, IMG_KEY + 1, "image_fault", unit);
    /* Run once untimed, so that its read-only pages are in the cache for the timed runs. */
    run_child(&client, child, ep, &img, IMG_KEY, NULL, unit);
    run_child(&client, child, ep, &img, IMG_KEY, "image_fault_cached", unit);
}
