/*
 * The virtio-blk driver (blk.idl, docs/blk.md): claims the disk from the
 * PCI server and serves it as /dev/blk0.  Several service threads take
 * requests from the one endpoint; each puts its request into the shared
 * virtqueue and sleeps until the interrupt thread (main) sees it used, so
 * as many requests are in flight as there are service threads.  Data goes
 * straight between the device and the pages the client shared (attach).
 */
#include "blk.h"
#include "blkdrv.h"
#include "idl.h"
#include "pci.h"
#include "process.h"
#include "resolver.h"
#include "thread.h"
#include "tls.h"

#include <stdio.h>
#include <string.h>

struct blk_state blk;

static long on_info(void *ctx, uint64_t *sectors, uint32_t *max_pages, uint32_t *read_only)
{
    struct blk_ctx *c = ctx;
    uint64_t sector = 0;
    *max_pages = BLK_WINDOW_PAGES;
    *read_only = blk.read_only;
    return partition_map(c->badge, &sector, 0, sectors);
}

static long on_attach(void *ctx, uint32_t page, uint64_t frame)
{
    struct blk_ctx *c = ctx;
    if (page >= BLK_WINDOW_PAGES)
        return BLK_E_BAD_WINDOW;
    struct pith_msg id = { .w = { frame } }, ph = { 0 };
    uint8_t need = PITH_RIGHT_READ | PITH_RIGHT_WRITE | PITH_RIGHT_PHYS;
    if (pith_invoke(PITH_SLOT_CSPACE, PITH_CNODE_IDENTIFY, &id) || id.w[0] != PITH_OBJ_FRAME ||
        (id.w[1] & need) != need || pith_invoke(frame, PITH_FRAME_PHYS, &ph))
        return BLK_E_BAD_WINDOW;
    return window_attach(c->badge, page, frame, ph.w[0]) ? 0 : BLK_E_BAD_WINDOW;
}

static long rw(struct blk_ctx *c, bool write, uint64_t sector, uint32_t count, uint32_t page)
{
    if (page >= BLK_WINDOW_PAGES || (uint64_t)count * 512 > (uint64_t)(BLK_WINDOW_PAGES - page) * 4096)
        return BLK_E_BAD_WINDOW;
    /* Through a partition's capability its sectors are checked and moved to the disk's; nothing else is known. */
    uint64_t size;
    long err = partition_map(c->badge, &sector, count, &size);
    if (err)
        return err;
    if (sector >= blk.sectors || count > blk.sectors - sector)
        return BLK_E_RANGE;
    if (write && blk.read_only)
        return BLK_E_READ_ONLY;
    if (!count)
        return 0;
    uint64_t phys[BLK_WINDOW_PAGES];
    uint32_t npages = (count * 512 + 4095) / 4096;
    if (!window_phys(c->badge, page, npages, phys))
        return BLK_E_NO_WINDOW;
    return request(write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, sector, count * 512, phys, npages) ? BLK_E_IO : 0;
}

static long on_read(void *ctx, uint64_t sector, uint32_t count, uint32_t page)
{
    return rw(ctx, false, sector, count, page);
}

static long on_write(void *ctx, uint64_t sector, uint32_t count, uint32_t page)
{
    return rw(ctx, true, sector, count, page);
}

static long on_flush(void *ctx)
{
    if (!blk.can_flush)
        return 0;                       /* no write cache to flush: what is written is on the medium */
    return request(VIRTIO_BLK_T_FLUSH, 0, 0, NULL, 0) ? BLK_E_IO : 0;
}

static long on_bind(void *ctx, uint64_t first, uint64_t count, uint32_t *id, uint64_t *part)
{
    struct blk_ctx *c = ctx;
    if (c->badge & BLK_PART_BADGE)
        return BLK_E_DENIED;            /* a partition's holder cannot carve the disk */
    return partition_bind(first, count, id, part);
}

static long on_unbind(void *ctx, uint32_t id)
{
    struct blk_ctx *c = ctx;
    if (c->badge & BLK_PART_BADGE)
        return BLK_E_DENIED;
    return partition_unbind(id);
}

static const struct blk_handlers handlers = {
    .info = on_info, .attach = on_attach, .read = on_read, .write = on_write, .flush = on_flush,
    .bind = on_bind, .unbind = on_unbind,
};

/* One service thread; the generated loop does not show handlers the badge, this one keeps it. */
static void *serve(void *arg)
{
    struct blk_ctx c = { .srv = { .ep = blk.ep, .reply = pith_object_new(PITH_OBJ_REPLY, 0),
                                  .cap_slot = pith_slot_alloc(), .buf = pith_tls_self()->ipc_buffer } };
    struct pith_msg m = { 0 };
    c.srv.buf->recv_slot = c.srv.cap_slot;
    long err = c.srv.reply ? pith_recv(c.srv.ep, &m, c.srv.reply) : PITH_E_NO_MEMORY;
    while (err == PITH_OK) {
        c.badge = m.badge;
        blk_dispatch(&handlers, &c, &c.srv, &m);
        c.srv.buf->recv_slot = c.srv.cap_slot;
        err = pith_reply_recv(c.srv.ep, &m, c.srv.reply);
    }
    printf("blk: a service thread stopped (error %ld)\n", err);
    return NULL;
}

static struct pith_client pci;

/* The first modern (1042) or transitional (1001) virtio block device. */
static long find_disk(uint32_t *index)
{
    long err = pci_find(&pci, 0x1af4, 0x1042, 0, index);
    if (err == PCI_E_NOT_FOUND)
        err = pci_find(&pci, 0x1af4, 0x1001, 0, index);
    return err;
}

int main(void)
{
    pith_client_init(&pci, "/dev/pci", &names_resolver, pith_slot_alloc(), pith_tls_self()->ipc_buffer);
    uint32_t index;
    long err = find_disk(&index);
    if (err == PCI_E_NOT_FOUND) {
        printf("blk: no virtio-blk device\n");
        return 0;                       /* nothing to drive: not a failure, so not restarted */
    }
    const char *why = NULL;
    if (err || (err = pci_claim(&pci, index))) {
        printf("blk: cannot claim the virtio-blk device (error %#lx)\n", err);
        return 1;
    }
    uint64_t handler = pith_slot_alloc(), ntfn = pith_object_new(PITH_OBJ_NOTIFICATION, 0);
    uint32_t gsi = 0;
    if ((err = pci_irq(&pci, index, handler, &gsi)) ||
        (err = pith_invoke4(handler, PITH_IRQ_HANDLER_SET_NOTIFICATION, ntfn, 1, 0, 0))) {
        printf("blk: no interrupt for the device (error %#lx)\n", err);
        return 1;
    }
    if (device_start(&pci, index, &why)) {
        printf("blk: the device cannot be used: %s\n", why);
        return 1;
    }
    window_init();
    partition_init();
    blk.ep = pith_object_new(PITH_OBJ_ENDPOINT, 0);
    for (int i = 0; i < BLK_SERVICE_THREADS; i++) {
        pith_thread_t *t;
        if (pith_thread_create(&t, serve, NULL))
            printf("blk: cannot start service thread %d\n", i);
    }
    if ((err = register_name("/dev/blk0", blk.ep))) {
        printf("blk: cannot publish /dev/blk0 (error %#lx)\n", err);
        return 1;
    }
    printf("blk: /dev/blk0: %lu sectors (%lu MiB)%s%s, queue of %u, GSI %u, %d service threads\n", blk.sectors,
           blk.sectors >> 11, blk.read_only ? ", read-only" : "", blk.can_flush ? ", flush" : "", blk.q.size, gsi,
           BLK_SERVICE_THREADS);
    interrupts(handler, ntfn);
    return 1;
}
