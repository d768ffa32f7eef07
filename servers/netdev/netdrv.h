/*
 * The virtio-net driver's parts: the protocol, the window and the threads
 * (main.c), the receive and transmit queues and the interrupt thread
 * (rings.c).
 */
#ifndef NETDEV_NETDRV_H
#define NETDEV_NETDRV_H

#include "sync.h"
#include "virtio.h"

#include <stdbool.h>
#include <stdint.h>

#define NET_BUFS       64               /* receive buffers posted, and transmit buffers */
#define NET_BUF_SIZE   2048             /* two per page */
#define NET_HDR        12               /* struct virtio_net_hdr with num_buffers (VERSION_1) */
#define NET_FRAME_MAX  1514             /* 1500 + the Ethernet header */
#define VIRTIO_NET_F_MAC 5

struct net_state {
    struct virtio_dev dev;
    struct virtq rx, tx;
    uint8_t mac[6];
    pith_mutex_t lock;                  /* the queues, the window, the counters */
    pith_cond_t arrived;                /* a frame arrived, or a poll tick passed */
    uint64_t frames_in, frames_out, dropped;
};
extern struct net_state net;

struct pith_client;
/* rings.c */
/* Resets the device (which lowers its line) and sets the queues up, the device still stopped. */
int rings_start(struct pith_client *pci, uint32_t index, const char **why);
/* DRIVER_OK: the device may receive and interrupt from now on. */
void rings_go(void);
/* Under the lock: the next received frame copied to dst (NET_FRAME_MAX bytes), its length; -1 if none. */
int rx_take(uint8_t *dst);
/* Under the lock: queues len bytes for transmission; false if every transmit buffer is in use. */
bool tx_put(const uint8_t *src, uint32_t len);
_Noreturn void interrupts(uint64_t handler, uint64_t ntfn);

#endif
