/*
 * The boot modules as a mapper (servers/mem/mapper.idl): the memory
 * manager pulls the pages of a program image started lazily (manifest:
 * lazy) from here, the key being the module's place in the boot
 * information.  A thread of its own that takes no lock: the supervisor
 * holds init_lock while it passes a fault to the manager, which then
 * calls us, so waiting for that lock (or being the supervisor) would
 * deadlock the three.  The modules never change after modules_map.
 */
#include "init.h"
#include "mapper.h"
#include "idl.h"
#include "thread.h"
#include "tls.h"

#include <stdio.h>
#include <string.h>

#define PAGE      4096ull
#define MAPPER_VA 0x680000000ull        /* where the lent page is mapped while we fill it */

uint64_t mapper_ep;
static struct pith_server srv;
static uint64_t pulls;

uint64_t mapper_pulls(void) { return __atomic_load_n(&pulls, __ATOMIC_RELAXED); }

/* The module's bytes at offset, the rest of the page zero. */
static long pull(void *ctx, uint64_t key, uint64_t offset, uint64_t page)
{
    uint64_t size;
    const unsigned char *file = module_of_key(key, &size);
    if (!file || offset % PAGE || offset >= size ||
        pith_invoke4(page, PITH_FRAME_MAP, PITH_SLOT_VSPACE, MAPPER_VA, PITH_RIGHT_READ | PITH_RIGHT_WRITE, 0))
        return MAPPER_E_NO_DATA;
    uint64_t n = size - offset < PAGE ? size - offset : PAGE;
    memcpy((void *)MAPPER_VA, file + offset, n);
    memset((char *)MAPPER_VA + n, 0, PAGE - n);
    pith_invoke4(page, PITH_FRAME_UNMAP, 0, 0, 0, 0);
    __atomic_add_fetch(&pulls, 1, __ATOMIC_RELAXED);
    return PITH_OK;
}

/* A program image is never written back: the manager keeps written data pages private. */
static long push(void *ctx, uint64_t key, uint64_t offset, uint64_t page)
{
    return MAPPER_E_NO_DATA;
}

static const struct mapper_handlers handlers = { .pull = pull, .push = push };

static void *serve(void *arg)
{
    srv.buf = pith_tls_self()->ipc_buffer;
    init_fault_if_asked(INIT_THREAD_MAPPER);
    mapper_serve(&srv, &handlers, NULL);
    printf("init: the image mapper stopped\n");
    return NULL;
}

/*
 * Everything the thread needs is made here, before it runs: its endpoint,
 * reply object, receive slot, and the page tables under MAPPER_VA (a page
 * mapped there once and taken away), so that a pull allocates nothing.
 */
void mapper_start(void)
{
    uint64_t frame = pith_object_new(PITH_OBJ_FRAME, 0);
    srv = (struct pith_server){ .ep = pith_object_new(PITH_OBJ_ENDPOINT, 0),
                                .reply = pith_object_new(PITH_OBJ_REPLY, 0), .cap_slot = pith_slot_alloc() };
    pith_thread_t *t;
    pith_init_thread_fault_ep = init_fault_cap(INIT_THREAD_MAPPER);
    if (!frame || !srv.ep || !srv.reply || pith_map_page(frame, MAPPER_VA, PITH_RIGHT_READ, 0) ||
        pith_invoke4(frame, PITH_FRAME_UNMAP, 0, 0, 0, 0) || pith_thread_create(&t, serve, NULL)) {
        printf("init: cannot start the image mapper: no program can be started lazily\n");
        return;
    }
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, frame, 0, 0, 0);
    pith_slot_free(frame);
    mapper_ep = srv.ep;
}
