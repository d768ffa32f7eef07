/*
 * The network server (socket.idl, docs/network.md): lwIP over the
 * virtio-net driver's /dev/net0, published as /svc/net.  Its addresses
 * come from its command line (the manifest's args=, config.c).  The main
 * thread receives frames and runs lwIP's timers (link.c); four service
 * threads answer the socket protocol, so one client waiting for data
 * does not hold up the others.
 */
#include "net.h"
#include "pith.h"
#include "resolver.h"
#include "thread.h"
#include "tls.h"

#include <stdio.h>

#define SERVICE_THREADS 4

pith_mutex_t net_lock;
pith_cond_t net_changed;

uint64_t net_now_ns(void)
{
    return pith_clock_ns((const struct pith_time_page *)pith_bootinfo->time_page);
}

uint64_t net_deadline(uint32_t timeout_ms)
{
    if (timeout_ms == 0xffffffffu)
        return 0;
    return net_now_ns() + (uint64_t)timeout_ms * 1000000ull + 1;
}

/* lwIP's clock (NO_SYS): milliseconds. */
uint32_t sys_now(void);
uint32_t sys_now(void) { return (uint32_t)(net_now_ns() / 1000000ull); }

/* lwIP's random numbers (TCP's initial sequence numbers, DHCP's transaction ids): xorshift seeded by the TSC. */
uint32_t net_random(void)
{
    static uint64_t x;
    if (!x)
        x = pith_rdtsc() | 1;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return (uint32_t)(x >> 32);
}

static void thread_init(struct net_thread *t)
{
    t->srv = (struct pith_server){ .reply = pith_object_new(PITH_OBJ_REPLY, 0), .cap_slot = pith_slot_alloc(),
                                   .buf = pith_tls_self()->ipc_buffer };
    pith_client_init(&t->dev, "/dev/net0", &names_resolver, pith_slot_alloc(), t->srv.buf);
}

long sockets_serve(struct net_thread *t);

static uint64_t endpoint;

static void *service(void *arg)
{
    struct net_thread t;
    thread_init(&t);
    t.srv.ep = endpoint;
    long err = t.srv.reply ? sockets_serve(&t) : PITH_E_NO_MEMORY;
    printf("net: a service thread stopped (error %ld)\n", err);
    return NULL;
}

int main(void)
{
    struct netcfg cfg;
    char why[128];
    if (netcfg_parse(pith_bootinfo->cmdline, &cfg, why, sizeof why)) {
        printf("net: bad command line '%s': %s\n", pith_bootinfo->cmdline, why);
        return 0;                       /* restarting would not mend it */
    }
    static struct net_thread t;
    thread_init(&t);
    if (pith_mutex_init(&net_lock) || pith_cond_init(&net_changed))
        return 1;
    int up = link_start(&cfg, &t);
    if (up > 0)
        return 0;                       /* no device: not a failure, so not restarted */
    if (up < 0 || ping_start())
        return 1;
    endpoint = pith_object_new(PITH_OBJ_ENDPOINT, 0);
    for (int i = 0; i < SERVICE_THREADS; i++) {
        pith_thread_t *th;
        if (pith_thread_create(&th, service, NULL))
            printf("net: cannot start service thread %d\n", i);
    }
    long err = register_name("/svc/net", endpoint);
    if (err) {
        printf("net: cannot publish /svc/net (error %#lx)\n", err);
        return 1;
    }
    unsigned bits = 0;
    for (uint32_t m = cfg.netmask; m; m <<= 1)
        bits++;
    if (cfg.dhcp)
        printf("net: /svc/net: asking for an address by DHCP\n");
    else
        printf("net: /svc/net: %u.%u.%u.%u/%u gateway %u.%u.%u.%u\n", cfg.addr >> 24, cfg.addr >> 16 & 255,
               cfg.addr >> 8 & 255, cfg.addr & 255, bits, cfg.gateway >> 24,
               cfg.gateway >> 16 & 255, cfg.gateway >> 8 & 255, cfg.gateway & 255);
    link_receive(&t);
}
