/*
 * Modern virtio over PCI (the virtio 1.x specification, 4.1), shared by
 * the block and network drivers, with any number of queues: the
 * device's vendor capabilities (id 9) name a BAR, an offset and a length
 * for each configuration structure; we map the BARs they use, page by
 * page, from frames the PCI server gives the claimant.
 */
#include "virtio.h"
#include "pci.h"
#include "pith.h"

#include <stddef.h>
#include <string.h>

#define BAR_VA(bar) (0x500000000ull + (uint64_t)(bar) * 0x1000000ull)   /* 16 MiB per BAR */
#define DMA_VA      0x600000000ull
#define BAR_MAP_MAX (1u << 20)                                        /* we map at most 1 MiB of a BAR */

enum { CFG_COMMON = 1, CFG_NOTIFY = 2, CFG_ISR = 3, CFG_DEVICE = 4 };
enum { S_ACK = 1, S_DRIVER = 2, S_DRIVER_OK = 4, S_FEATURES_OK = 8, S_FAILED = 128 };

/* Common configuration (4.1.4.3). */
#define C_DFSELECT 0x00
#define C_DF       0x04
#define C_GFSELECT 0x08
#define C_GF       0x0c
#define C_STATUS   0x14
#define C_QSELECT  0x16
#define C_QSIZE    0x18
#define C_QMSIX    0x1a
#define C_QENABLE  0x1c
#define C_QNOFF    0x1e
#define C_QDESC    0x20
#define C_QDRIVER  0x28
#define C_QDEVICE  0x30

#define R8(p, o)  (*(volatile uint8_t *)((p) + (o)))
#define R16(p, o) (*(volatile uint16_t *)((p) + (o)))
#define R32(p, o) (*(volatile uint32_t *)((p) + (o)))

void *dma_page(uint64_t *phys)
{
    static uint64_t next = DMA_VA;
    uint64_t f = pith_object_new(PITH_OBJ_FRAME, 0);
    struct pith_msg m = { 0 };
    if (!f || pith_map_page(f, next, PITH_RIGHT_READ | PITH_RIGHT_WRITE, 0) ||
        pith_invoke(f, PITH_FRAME_PHYS, &m))
        return NULL;
    *phys = m.w[0];
    void *va = (void *)next;
    next += 4096;
    return va;
}

/* The BAR's pages mapped (once); its address, or NULL. */
static volatile uint8_t *map_bar(struct pith_client *pci, uint32_t index, uint32_t bar)
{
    static bool mapped[6];
    uint64_t phys, size;
    uint32_t flags;
    if (bar >= 6 || pci_bar_info(pci, index, bar, &phys, &size, &flags))
        return NULL;
    if (!mapped[bar]) {
        for (uint32_t p = 0; (uint64_t)p * 4096 < size && p * 4096u < BAR_MAP_MAX; p++) {
            uint64_t slot = pith_slot_alloc();
            if (pci_bar_page(pci, index, bar, p, slot) ||
                pith_map_page(slot, BAR_VA(bar) + p * 4096ull, PITH_RIGHT_READ | PITH_RIGHT_WRITE, 0))
                return NULL;
        }
        mapped[bar] = true;
    }
    return (volatile uint8_t *)BAR_VA(bar);
}

static int find_caps(struct virtio_dev *v, struct pith_client *pci, const char **why)
{
    uint32_t status = 0, at = 0;
    if (pci_config_read(pci, v->index, 6, 2, &status) || !(status & 0x10) ||
        pci_config_read(pci, v->index, 0x34, 1, &at)) {
        *why = "no capability list";
        return -1;
    }
    for (int guard = 0; at >= 0x40 && at < 256 && guard < 48; guard++) {
        uint32_t id, next, type, bar, off;
        if (pci_config_read(pci, v->index, at, 1, &id) || pci_config_read(pci, v->index, at + 1, 1, &next))
            break;
        if (id == 9 && !pci_config_read(pci, v->index, at + 3, 1, &type) &&
            !pci_config_read(pci, v->index, at + 4, 1, &bar) && !pci_config_read(pci, v->index, at + 8, 4, &off)) {
            volatile uint8_t *base = type >= CFG_COMMON && type <= CFG_DEVICE ? map_bar(pci, v->index, bar) : NULL;
            if (base && off < BAR_MAP_MAX) {
                if (type == CFG_COMMON && !v->common)
                    v->common = base + off;
                else if (type == CFG_NOTIFY && !v->notify &&
                         !pci_config_read(pci, v->index, at + 16, 4, &v->notify_mul))
                    v->notify = base + off;
                else if (type == CFG_ISR && !v->isr)
                    v->isr = base + off;
                else if (type == CFG_DEVICE && !v->device)
                    v->device = base + off;
            }
        }
        at = next & 0xfc;
    }
    if (!v->common || !v->notify || !v->isr || !v->device) {
        *why = "its virtio capabilities (common, notify, ISR, device) are not all usable";
        return -1;
    }
    return 0;
}

int virtio_init(struct virtio_dev *v, struct pith_client *pci, uint32_t index, uint64_t wanted, const char **why)
{
    memset(v, 0, sizeof *v);
    v->index = index;
    if (find_caps(v, pci, why))
        return -1;
    uint32_t cmd = 0;
    /* Memory decoding and bus mastering: the device reads and writes our memory. */
    if (pci_config_read(pci, index, 4, 2, &cmd) || pci_config_write(pci, index, 4, 2, (cmd | 6) & ~0x400u)) {
        *why = "cannot enable bus mastering";
        return -1;
    }
    volatile uint8_t *c = v->common;
    R8(c, C_STATUS) = 0;                /* reset; the device is quiet once it reads back 0 */
    while (R8(c, C_STATUS))
        pith_yield();
    R8(c, C_STATUS) = S_ACK;
    R8(c, C_STATUS) = S_ACK | S_DRIVER;
    R32(c, C_DFSELECT) = 0;
    uint64_t offered = R32(c, C_DF);
    R32(c, C_DFSELECT) = 1;
    offered |= (uint64_t)R32(c, C_DF) << 32;
    v->features = offered & (wanted | 1ull << VIRTIO_F_VERSION_1);
    if (!(v->features & 1ull << VIRTIO_F_VERSION_1)) {
        R8(c, C_STATUS) = S_FAILED;
        *why = "the device does not offer VIRTIO_F_VERSION_1";
        return -1;
    }
    R32(c, C_GFSELECT) = 0;
    R32(c, C_GF) = (uint32_t)v->features;
    R32(c, C_GFSELECT) = 1;
    R32(c, C_GF) = (uint32_t)(v->features >> 32);
    R8(c, C_STATUS) = S_ACK | S_DRIVER | S_FEATURES_OK;
    if (!(R8(c, C_STATUS) & S_FEATURES_OK)) {
        R8(c, C_STATUS) = S_FAILED;
        *why = "the device refused our features";
        return -1;
    }
    return 0;
}

int virtio_queue(struct virtio_dev *v, uint16_t n, struct virtq *q, uint16_t max, const char **why)
{
    volatile uint8_t *c = v->common;
    memset(q, 0, sizeof *q);
    R16(c, C_QSELECT) = n;
    uint16_t size = R16(c, C_QSIZE);
    if (!size) {
        *why = "the device lacks a queue";
        return -1;
    }
    while (size > max || size > 256)
        size /= 2;                      /* split queues: a power of two */
    q->size = size;
    uint64_t pdesc, pavail, pused;
    q->desc = dma_page(&pdesc);
    q->avail = dma_page(&pavail);
    q->used = dma_page(&pused);
    if (!q->desc || !q->avail || !q->used) {
        *why = "no memory for a queue";
        return -1;
    }
    R16(c, C_QSIZE) = size;
    R16(c, C_QMSIX) = 0xffff;           /* no MSI-X: the INTx line and the ISR */
    *(volatile uint64_t *)(c + C_QDESC) = pdesc;
    *(volatile uint64_t *)(c + C_QDRIVER) = pavail;
    *(volatile uint64_t *)(c + C_QDEVICE) = pused;
    q->notify = (volatile uint16_t *)(v->notify + (uint64_t)R16(c, C_QNOFF) * v->notify_mul);
    R16(c, C_QENABLE) = 1;
    return 0;
}

void virtq_post(struct virtq *q, uint16_t head)
{
    q->avail[2 + q->avail_idx % q->size] = head;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    q->avail[1] = ++q->avail_idx;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void virtio_ready(struct virtio_dev *v)
{
    R8(v->common, C_STATUS) = S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK;
}
