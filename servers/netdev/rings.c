/*
 * The receive queue (0) and transmit queue (1) of a virtio network
 * device.  Receive: NET_BUFS buffers of ours stay posted; a used one is
 * copied out to the client and posted again at once.  Transmit: a frame
 * is copied into a free buffer of ours and posted; used buffers are
 * taken back when the next frame wants one, so transmission never waits
 * for an interrupt (the device is asked not to raise them for queue 1).
 * Every buffer starts with the 12-byte virtio-net header, all zero: no
 * checksum offload, no segmentation.
 *
 * The interrupt thread reads the ISR status (which lowers the shared
 * line), wakes the receivers, and answers "not mine" when the ISR says
 * so.  It also wakes them every 50 ms, so a lost interrupt delays a frame
 * but never strands it, and waiting receivers can notice their deadline.
 */
#include "netdrv.h"
#include "pith.h"

#include <stdio.h>
#include <string.h>

#define POLL_NS 50000000ull
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

static uint8_t *rx_buf[NET_BUFS], *tx_buf[NET_BUFS];
static uint16_t tx_free[NET_BUFS], ntx_free;

/* NET_BUFS buffers in NET_BUFS / 2 pages of ours; their descriptors 0..NET_BUFS-1 of the queue. */
static int buffers(struct virtq *q, uint8_t **buf, uint16_t flags)
{
    for (int i = 0; i < NET_BUFS; i += 2) {
        uint64_t phys;
        uint8_t *page = dma_page(&phys);
        if (!page)
            return -1;
        for (int j = 0; j < 2; j++) {
            buf[i + j] = page + j * NET_BUF_SIZE;
            q->desc[i + j] = (struct virtq_desc){ .addr = phys + (uint64_t)j * NET_BUF_SIZE, .len = NET_BUF_SIZE,
                                                  .flags = flags };
        }
    }
    return 0;
}

int rings_start(struct pith_client *pci, uint32_t index, const char **why)
{
    struct virtio_dev *v = &net.dev;
    if (virtio_init(v, pci, index, 1ull << VIRTIO_NET_F_MAC, why) ||
        virtio_queue(v, 0, &net.rx, NET_BUFS, why) || virtio_queue(v, 1, &net.tx, NET_BUFS, why))
        return -1;
    if (net.rx.size < NET_BUFS || net.tx.size < NET_BUFS) {
        *why = "its queues are shorter than 64 entries";
        return -1;
    }
    if (buffers(&net.rx, rx_buf, VIRTQ_DESC_F_WRITE) || buffers(&net.tx, tx_buf, 0)) {
        *why = "no memory for frame buffers";
        return -1;
    }
    if (v->features & 1ull << VIRTIO_NET_F_MAC) {
        for (int i = 0; i < 6; i++)
            net.mac[i] = v->device[i];
    } else {
        /* A locally administered address of our own (the device has none to offer). */
        uint64_t t = pith_rdtsc();
        uint8_t mac[6] = { 0x02, 0x50, 0x49, (uint8_t)(t >> 16), (uint8_t)(t >> 8), (uint8_t)t };
        memcpy(net.mac, mac, 6);
    }
    for (uint16_t i = 0; i < NET_BUFS; i++) {
        virtq_post(&net.rx, i);
        tx_free[ntx_free++] = i;
    }
    net.tx.avail[0] = VIRTQ_AVAIL_F_NO_INTERRUPT;
    return 0;
}

void rings_go(void)
{
    virtio_ready(&net.dev);
    virtq_kick(&net.rx, 0);
}

int rx_take(uint8_t *dst)
{
    struct virtq *q = &net.rx;
    for (;;) {
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (q->last_used == q->used[1])
            return -1;
        volatile struct virtq_used_elem *e = virtq_used_elem(q, q->last_used++);
        uint16_t d = (uint16_t)e->id;
        uint32_t len = e->len;
        if (d >= NET_BUFS) {
            net.dropped++;
            continue;
        }
        int n = len > NET_HDR && len - NET_HDR <= NET_FRAME_MAX ? (int)(len - NET_HDR) : -1;
        if (n > 0)
            memcpy(dst, rx_buf[d] + NET_HDR, (size_t)n);
        virtq_post(q, d);               /* the buffer goes straight back to the device */
        virtq_kick(q, 0);
        if (n > 0) {
            net.frames_in++;
            return n;
        }
        net.dropped++;
    }
}

bool tx_put(const uint8_t *src, uint32_t len)
{
    struct virtq *q = &net.tx;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    while (q->last_used != q->used[1]) {
        uint16_t d = (uint16_t)virtq_used_elem(q, q->last_used++)->id;
        if (d < NET_BUFS)
            tx_free[ntx_free++] = d;
    }
    if (!ntx_free)
        return false;
    uint16_t d = tx_free[--ntx_free];
    memset(tx_buf[d], 0, NET_HDR);
    memcpy(tx_buf[d] + NET_HDR, src, len);
    q->desc[d].len = NET_HDR + len;
    virtq_post(q, d);
    virtq_kick(q, 1);
    net.frames_out++;
    return true;
}

_Noreturn void interrupts(uint64_t handler, uint64_t ntfn)
{
    uint64_t ours = 0, not_ours = 0, polled = 0;
    for (;;) {
        struct pith_msg m = { 0 };
        long err = pith_syscall_timed(PITH_SYS_RECV_TIMED, ntfn, &m, 0, POLL_NS);
        /* Reading the ISR lowers the line; the answer goes at once, since the kernel waits for it only 10 ms. */
        uint8_t isr = err == PITH_OK ? *net.dev.isr : 0;
        if (err == PITH_OK)
            pith_invoke4(handler, PITH_IRQ_HANDLER_ANSWER, isr & 1 ? 1 : 0, 0, 0, 0);
        pith_mutex_lock(&net.lock);
        if (err == PITH_OK) {
            ours += isr & 1;
            not_ours += !(isr & 1);
        } else if (net.rx.last_used != net.rx.used[1] && !polled++) {
            struct pith_msg info = { 0 };
            pith_invoke(handler, PITH_IRQ_HANDLER_INFO, &info);
            printf("netdev: a frame was found without its interrupt (%lu interrupts so far, %lu not ours; "
                   "the line offered %lu, claimed %lu)\n", ours, not_ours, info.w[1], info.w[2]);
        }
        pith_cond_broadcast(&net.arrived);
        pith_mutex_unlock(&net.lock);
    }
}
