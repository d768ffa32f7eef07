/*
 * The virtio-net driver (netdev.idl, docs/network.md): claims the first
 * virtio network device from the PCI server and serves its frames as
 * /dev/net0 to one client, the network server.  The client's window is
 * two pages of its own, mapped here: frames are copied between them and
 * the driver's own DMA buffers (rings.c).  Three service threads take
 * requests, so a receive waiting for a frame does not hold up sends; the
 * main thread takes the interrupts.
 *
 * Restarted by the supervisor, it claims the device again (same badge),
 * resets it and serves with no window: the network server attaches again
 * and keeps its addresses, so the interface goes on as it was.
 */
#include "idl.h"
#include "netdev.h"
#include "netdrv.h"
#include "pci.h"
#include "resolver.h"
#include "thread.h"
#include "tls.h"

#include <stdio.h>
#include <string.h>

#define SERVICE_THREADS 3
#define WINDOW_VA 0x700000000ull        /* page 0 (transmit), page 1 (receive) */

struct net_state net;
static uint64_t window_slot[2];         /* our copy of the client's frame; 0: none */
static uint64_t ep;

static const struct pith_time_page *clock_page(void)
{
    return (const struct pith_time_page *)pith_bootinfo->time_page;
}

/*
 * Whether page p is attached and still the client's: our copy is derived
 * from its capability, so when it revokes the page or ends, the copy goes
 * and with it the mapping.  (Lock held.)
 */
static bool window_ok(int p)
{
    struct pith_msg m = { .w = { window_slot[p] } };
    return window_slot[p] && pith_invoke(PITH_SLOT_CSPACE, PITH_CNODE_IDENTIFY, &m) == PITH_OK &&
           m.w[0] == PITH_OBJ_FRAME;
}

static uint8_t *window(int p) { return (uint8_t *)(WINDOW_VA + 4096ull * (uint64_t)p); }

static long on_info(void *ctx, uint64_t *mac, uint32_t *mtu, uint64_t *in, uint64_t *out)
{
    *mac = 0;
    for (int i = 0; i < 6; i++)
        *mac = *mac << 8 | net.mac[i];
    *mtu = NET_FRAME_MAX - 14;
    pith_mutex_lock(&net.lock);
    *in = net.frames_in;
    *out = net.frames_out;
    pith_mutex_unlock(&net.lock);
    return 0;
}

static long on_attach(void *ctx, uint32_t page, uint64_t frame)
{
    struct pith_msg id = { .w = { frame } };
    uint8_t need = PITH_RIGHT_READ | PITH_RIGHT_WRITE;
    if (page > 1 || pith_invoke(PITH_SLOT_CSPACE, PITH_CNODE_IDENTIFY, &id) || id.w[0] != PITH_OBJ_FRAME ||
        (id.w[1] & need) != need)
        return NETDEV_E_BAD_WINDOW;
    pith_mutex_lock(&net.lock);
    if (!window_slot[page])
        window_slot[page] = pith_slot_alloc();
    /* Deleting the old copy unmaps it; the new one is ours (the dispatch deletes what is left in its slot). */
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, window_slot[page], 0, 0, 0);
    long err = pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_MOVE, window_slot[page], frame, 0, 0);
    if (!err)
        err = pith_map_page(window_slot[page], (uint64_t)window(page), need, 0);
    if (err)
        pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, window_slot[page], 0, 0, 0);
    pith_mutex_unlock(&net.lock);
    return err ? NETDEV_E_BAD_WINDOW : 0;
}

static long on_send(void *ctx, uint32_t len)
{
    if (len > NET_FRAME_MAX)
        return NETDEV_E_TOO_BIG;
    pith_mutex_lock(&net.lock);
    long err = window_ok(0) ? 0 : NETDEV_E_NO_WINDOW;
    /* Every buffer in flight: the device sends quickly; give it a moment, then count the frame dropped. */
    for (int tries = 0; !err && !tx_put(window(0), len); tries++) {
        if (tries == 1000) {
            net.dropped++;
            break;
        }
        pith_mutex_unlock(&net.lock);
        pith_yield();
        pith_mutex_lock(&net.lock);
        err = window_ok(0) ? 0 : NETDEV_E_NO_WINDOW;
    }
    pith_mutex_unlock(&net.lock);
    return err;
}

static long on_recv(void *ctx, uint32_t timeout_ms, uint32_t *len)
{
    uint64_t deadline = pith_clock_ns(clock_page()) + (uint64_t)timeout_ms * 1000000ull;
    long err = NETDEV_E_TIMEOUT;
    pith_mutex_lock(&net.lock);
    for (;;) {
        if (!window_ok(1)) {
            err = NETDEV_E_NO_WINDOW;
            break;
        }
        int n = rx_take(window(1));
        if (n >= 0) {
            *len = (uint32_t)n;
            err = 0;
            break;
        }
        if (pith_clock_ns(clock_page()) >= deadline)
            break;
        pith_cond_wait(&net.arrived, &net.lock);   /* a frame, or the 50 ms tick */
    }
    pith_mutex_unlock(&net.lock);
    return err;
}

static const struct netdev_handlers handlers = {
    .info = on_info, .attach = on_attach, .send = on_send, .recv = on_recv,
};

static void *serve(void *arg)
{
    struct pith_server s = { .ep = ep, .reply = pith_object_new(PITH_OBJ_REPLY, 0), .cap_slot = pith_slot_alloc(),
                             .buf = pith_tls_self()->ipc_buffer };
    long err = s.reply ? netdev_serve(&s, &handlers, NULL) : PITH_E_NO_MEMORY;
    printf("netdev: a service thread stopped (error %ld)\n", err);
    return NULL;
}

int main(void)
{
    static struct pith_client pci;
    pith_client_init(&pci, "/dev/pci", &names_resolver, pith_slot_alloc(), pith_tls_self()->ipc_buffer);
    uint32_t index;
    long err = pci_find(&pci, 0x1af4, 0x1041, 0, &index);
    if (err == PCI_E_NOT_FOUND)
        err = pci_find(&pci, 0x1af4, 0x1000, 0, &index);   /* transitional */
    if (err == PCI_E_NOT_FOUND) {
        printf("netdev: no virtio-net device\n");
        return 0;                       /* nothing to drive: not a failure, so not restarted */
    }
    if (err || (err = pci_claim(&pci, index))) {
        printf("netdev: cannot claim the virtio-net device (error %#lx)\n", err);
        return 1;
    }
    /*
     * The device is reset before its interrupt is bound, and started after
     * the handler has its notification: a line still raised by the device
     * a dead incarnation left, or by a frame arriving in between, would be
     * offered to a handler that cannot answer, and the kernel masks a line
     * whose interrupts nobody claims.
     */
    const char *why = NULL;
    if (pith_mutex_init(&net.lock) || pith_cond_init(&net.arrived) || rings_start(&pci, index, &why)) {
        printf("netdev: the device cannot be used: %s\n", why ? why : "no memory for locks");
        return 1;
    }
    uint64_t handler = pith_slot_alloc(), ntfn = pith_object_new(PITH_OBJ_NOTIFICATION, 0);
    uint32_t gsi = 0;
    if ((err = pci_irq(&pci, index, handler, &gsi)) ||
        (err = pith_invoke4(handler, PITH_IRQ_HANDLER_SET_NOTIFICATION, ntfn, 1, 0, 0))) {
        printf("netdev: no interrupt for the device (error %#lx)\n", err);
        return 1;
    }
    rings_go();
    ep = pith_object_new(PITH_OBJ_ENDPOINT, 0);
    for (int i = 0; i < SERVICE_THREADS; i++) {
        pith_thread_t *t;
        if (pith_thread_create(&t, serve, NULL))
            printf("netdev: cannot start service thread %d\n", i);
    }
    if ((err = register_name("/dev/net0", ep))) {
        printf("netdev: cannot publish /dev/net0 (error %#lx)\n", err);
        return 1;
    }
    printf("netdev: /dev/net0: %02x:%02x:%02x:%02x:%02x:%02x, queues of %u, GSI %u\n", net.mac[0], net.mac[1],
           net.mac[2], net.mac[3], net.mac[4], net.mac[5], net.rx.size, gsi);
    interrupts(handler, ntfn);
}
