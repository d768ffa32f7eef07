/*
 * Modern virtio (1.x) over PCI, as much as a block driver needs
 * (virtio.c): the vendor capabilities that place the common, notify, ISR
 * and device configuration in the BARs, the status and feature
 * handshake, and one split virtqueue.
 */
#ifndef BLK_VIRTIO_H
#define BLK_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

#define VIRTIO_F_VERSION_1  32
#define VIRTQ_DESC_F_NEXT   1
#define VIRTQ_DESC_F_WRITE  2

struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
};

struct virtq_used_elem {
    uint32_t id, len;
};

struct virtio_dev {
    uint32_t index;                     /* the device's index at the PCI server */
    volatile uint8_t *common, *isr, *device, *notify;
    uint32_t notify_mul;
    uint64_t features;                  /* negotiated */
    /* Queue 0. */
    uint16_t qsize;
    struct virtq_desc *desc;
    volatile uint16_t *avail;           /* flags, idx, ring[qsize] */
    volatile uint16_t *used;            /* flags, idx, then elements */
    volatile uint16_t *qnotify;
};

static inline volatile struct virtq_used_elem *virtq_used_elem(const struct virtio_dev *v, uint16_t i)
{
    return (volatile struct virtq_used_elem *)(v->used + 2) + (i % v->qsize);
}

struct pith_client;
/*
 * Finds the capabilities, maps what they point at, resets the device,
 * offers `wanted` features (VERSION_1 is required) and sets queue 0 up
 * with at most max_queue entries.  0, or a message in *why.
 */
int virtio_init(struct virtio_dev *v, struct pith_client *pci, uint32_t index, uint64_t wanted, uint16_t max_queue,
                const char **why);
/* After the queue is up: DRIVER_OK. */
void virtio_ready(struct virtio_dev *v);
/* Tells the device queue 0 has new entries. */
static inline void virtio_kick(struct virtio_dev *v) { *v->qnotify = 0; }

/* A page of our memory for the device, with its physical address; NULL if none. */
void *dma_page(uint64_t *phys);

#endif
