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
    struct virtq q;                     /* the one request queue, queue 0 */
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

/* partition.c: exokernel partitions, a sector range bound to a capability badge of its own */
#define BLK_PARTS           8
#define BLK_PART_BADGE      (1ull << 62)    /* the name service's badges never have it */
void partition_init(void);
long partition_bind(uint64_t first, uint64_t count, uint32_t *id, uint64_t *slot);
long partition_unbind(uint32_t id);
/*
 * The request's range, through a partition's badge: the partition's
 * sector translated to the disk's, or its error (outside, no_partition).
 * A whole-disk badge passes unchanged.  *sectors is the size seen.
 */
long partition_map(uint64_t badge, uint64_t *sector, uint32_t count, uint64_t *sectors);

#endif
