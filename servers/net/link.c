/*
 * The interface: lwIP's netif over the driver's frame protocol
 * (netdev.idl).  Two pages of ours are the driver's window: frames lwIP
 * sends are copied into page 0 and sent; the receive thread asks for a
 * frame into page 1 and hands it to lwIP.  When the driver restarts its
 * window is gone (no_window): we attach the pages again and go on, and
 * the interface keeps its addresses, ARP table and connections, since
 * they live here.
 */
#include "lwip/dhcp.h"
#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/timeouts.h"
#include "net.h"
#include "netdev.h"
#include "netif/ethernet.h"
#include "pith.h"
#include "resolver.h"

#include <stdio.h>
#include <string.h>

#define WINDOW_VA 0x700000000ull
#define RECV_WAIT_MS 50                 /* the receive thread runs lwIP's timers at least this often */

struct netif net_if;
static struct net_thread *tx_thread;    /* whose binding sends frames now (set by net_enter) */
static uint64_t window_frame[2];
static uint64_t mac_addr;
static bool link_up;

static uint8_t *window(int p) { return (uint8_t *)(WINDOW_VA + 4096ull * (uint64_t)p); }

void net_enter(struct net_thread *t)
{
    pith_mutex_lock(&net_lock);
    tx_thread = t;
}

/* Packets lwIP looped back (to 127.0.0.1 or our own address) wait in a queue until polled:
 * delivered before the lock goes, so no call leaves them stranded. */
static void deliver_looped(void)
{
    if (tx_thread)
        netif_poll_all();
}

void net_leave(void)
{
    deliver_looped();
    tx_thread = NULL;
    pith_mutex_unlock(&net_lock);
}

bool net_wait(struct net_thread *t, uint64_t deadline)
{
    if (deadline && net_now_ns() >= deadline)
        return false;
    deliver_looped();
    pith_cond_wait(&net_changed, &net_lock);
    tx_thread = t;
    return true;
}

/* Shares our two pages with the driver (again, after it restarted); it gets copies of our capabilities. */
static long attach(struct pith_client *dev)
{
    long err = 0;
    for (int p = 0; p < 2 && !err; p++)
        err = netdev_attach(dev, (uint32_t)p, window_frame[p]);
    return err;
}

static err_t link_output(struct netif *nif, struct pbuf *p)
{
    if (!tx_thread || p->tot_len > 1514)
        return ERR_IF;
    pbuf_copy_partial(p, window(0), p->tot_len, 0);
    long err = netdev_send(&tx_thread->dev, p->tot_len);
    if (err == NETDEV_E_NO_WINDOW && !attach(&tx_thread->dev))
        err = netdev_send(&tx_thread->dev, p->tot_len);
    return err ? ERR_IF : ERR_OK;
}

static err_t link_init(struct netif *nif)
{
    nif->name[0] = 'e';
    nif->name[1] = 'n';
    nif->output = etharp_output;
    nif->linkoutput = link_output;
    nif->mtu = 1500;
    nif->hwaddr_len = 6;
    for (int i = 0; i < 6; i++)
        nif->hwaddr[i] = (uint8_t)(mac_addr >> (40 - 8 * i));
    nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
    return ERR_OK;
}

bool link_info(struct net_thread *t, uint64_t *mac, uint64_t *in, uint64_t *out)
{
    uint32_t mtu;
    return netdev_info(&t->dev, mac, &mtu, in, out) == 0;
}

bool net_routable(uint32_t addr)
{
    uint32_t ours = lwip_ntohl(ip4_addr_get_u32(netif_ip4_addr(&net_if)));
    uint32_t mask = lwip_ntohl(ip4_addr_get_u32(netif_ip4_netmask(&net_if)));
    uint32_t gw = ip4_addr_get_u32(netif_ip4_gw(&net_if));
    return (addr & mask) == (ours & mask) || addr == 0xffffffffu || gw != 0 || addr >> 24 == 127;
}

int link_start(const struct netcfg *cfg, struct net_thread *t)
{
    uint32_t mtu;
    uint64_t in, out;
    long err = netdev_info(&t->dev, &mac_addr, &mtu, &in, &out);
    if (err == PITH_IDL_E_NO_SERVER) {
        printf("net: no network device (/dev/net0 is not published)\n");
        return 1;
    }
    if (err) {
        printf("net: the network device does not answer (error %#lx)\n", err);
        return -1;
    }
    for (int p = 0; p < 2; p++) {
        window_frame[p] = pith_object_new(PITH_OBJ_FRAME, 0);
        if (!window_frame[p] || pith_map_page(window_frame[p], (uint64_t)window(p), PITH_RIGHT_READ | PITH_RIGHT_WRITE, 0)) {
            printf("net: no memory for the driver's window\n");
            return -1;
        }
    }
    if ((err = attach(&t->dev))) {
        printf("net: cannot share the window with the driver (error %#lx)\n", err);
        return -1;
    }
    link_up = true;
    net_enter(t);
    lwip_init();
    ip4_addr_t a, m, g;
    ip4_addr_set_u32(&a, lwip_htonl(cfg->addr));
    ip4_addr_set_u32(&m, lwip_htonl(cfg->netmask));
    ip4_addr_set_u32(&g, lwip_htonl(cfg->gateway));
    netif_add(&net_if, &a, &m, &g, NULL, link_init, ethernet_input);
    netif_set_default(&net_if);
    netif_set_up(&net_if);
    netif_set_link_up(&net_if);
    if (cfg->dhcp)
        dhcp_start(&net_if);
    net_leave();
    return 0;
}

_Noreturn void link_receive(struct net_thread *t)
{
    for (;;) {
        uint32_t len = 0;
        long err = netdev_recv(&t->dev, RECV_WAIT_MS, &len);
        if (err == NETDEV_E_NO_WINDOW && !attach(&t->dev))
            err = NETDEV_E_TIMEOUT;     /* the driver restarted and has our window again */
        net_enter(t);
        bool answers = !err || err == NETDEV_E_TIMEOUT;
        if (answers != link_up)
            printf(answers ? "net: the driver answers again; the interface goes on\n"
                           : "net: the driver does not answer (error %#lx); trying again\n", err);
        link_up = answers;
        if (!err && len) {
            struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
            if (p && (pbuf_take(p, window(1), (u16_t)len) != ERR_OK || net_if.input(p, &net_if) != ERR_OK))
                pbuf_free(p);
        }
        sys_check_timeouts();
        pith_cond_broadcast(&net_changed);
        net_leave();
        if (!answers)
            pith_sleep_ns(10000000);    /* the driver restarting: give it a moment */
    }
}
