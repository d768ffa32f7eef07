/*
 * Modern virtio (1.x) over PCI, as much as the block and network drivers need
 * (virtio.c): the vendor capabilities that place the common, notify, ISR
 * and device configuration in the BARs, the status and feature
 * handshake, and several split virtqueues.
 */
#ifndef PITH_VIRTIO_H
#define PITH_VIRTIO_H

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
};

struct virtq {
    uint16_t size;
    struct virtq_desc *desc;
    volatile uint16_t *avail;           /* flags, idx, ring[size] */
    volatile uint16_t *used;            /* flags, idx, then elements */
    volatile uint16_t *notify;
    uint16_t avail_idx, last_used;      /* ours: the next avail slot, the next used entry to look at */
};

static inline volatile struct virtq_used_elem *virtq_used_elem(const struct virtq *q, uint16_t i)
{
    return (volatile struct virtq_used_elem *)(q->used + 2) + (i % q->size);
}

struct pith_client;
/*
 * Finds the capabilities, maps what they point at, resets the device and
 * offers `wanted` features (VERSION_1 is required).  0, or a message in *why.
 */
int virtio_init(struct virtio_dev *v, struct pith_client *pci, uint32_t index, uint64_t wanted, const char **why);
/* Sets queue n up with at most max entries (at most 256).  0, or a message in *why. */
int virtio_queue(struct virtio_dev *v, uint16_t n, struct virtq *q, uint16_t max, const char **why);
/* After the queues are up: DRIVER_OK. */
void virtio_ready(struct virtio_dev *v);
/* Puts descriptor chain `head` on the queue's available ring (the caller kicks). */
void virtq_post(struct virtq *q, uint16_t head);
/* Tells the device the queue has new entries. */
static inline void virtq_kick(struct virtq *q, uint16_t n) { *q->notify = n; }

/* A page of our memory for the device, with its physical address; NULL if none. */
void *dma_page(uint64_t *phys);

#endif
