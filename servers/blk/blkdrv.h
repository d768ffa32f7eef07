/*
 * The virtio-blk driver's parts: the protocol and threads (main.c), the
 * request queue and the interrupt thread (queue.c), the clients' buffer
 * windows (window.c).
 */
#ifndef BLK_BLKDRV_H
#define BLK_BLKDRV_H

#include "idl.h"
#include "sync.h"
#include "virtio.h"

#include <stdbool.h>
#include <stdint.h>

#define BLK_WINDOW_PAGES    64          /* info's max_pages */
#define BLK_SERVICE_THREADS 4           /* requests in flight at most */
#define BLK_QUEUE_MAX       256
#define BLK_CLIENTS_MAX     16

enum { VIRTIO_BLK_T_IN = 0, VIRTIO_BLK_T_OUT = 1, VIRTIO_BLK_T_FLUSH = 4 };
#define VIRTIO_BLK_F_RO     5
#define VIRTIO_BLK_F_FLUSH  9

struct blk_state {
    struct virtio_dev dev;
    uint64_t sectors, ep;
    uint32_t read_only;
    bool can_flush;
};
extern struct blk_state blk;

struct blk_ctx {
    struct pith_server srv;
    uint64_t badge;                     /* of the request being served */
};

struct pith_client;
/* queue.c */
int device_start(struct pith_client *pci, uint32_t index, const char **why);
/* One request: header, the data pages (len bytes), status; sleeps until the device is done.  0 or -1 (error). */
int request(uint32_t type, uint64_t sector, uint32_t len, const uint64_t *phys, uint32_t npages);
_Noreturn void interrupts(uint64_t handler, uint64_t ntfn);

/* window.c */
void window_init(void);
bool window_attach(uint64_t badge, uint32_t page, uint64_t frame_slot, uint64_t phys);
/* The physical addresses of the client's pages [page, page + n); false if one is not attached (any more). */
bool window_phys(uint64_t badge, uint32_t page, uint32_t n, uint64_t *phys);

#endif
