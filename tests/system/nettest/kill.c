/*
 * The driver killed under traffic: a thread exchanges datagrams with node
 * B's echo while the driver is killed through the process manager; the
 * supervisor restarts it, the network server attaches again, and every
 * exchange completes (a datagram lost in the gap is sent again after its
 * timeout).  A TCP connection opened before the kill carries data after
 * it, and the interface keeps its address.
 */
#include "nettest.h"
#include "pith.h"
#include "procmgr.h"
#include "process.h"
#include "thread.h"
#include "tls.h"

#include <stdio.h>
#include <string.h>

#define ROUNDS 60

static volatile int rounds, resent, gave_up;
static volatile bool finished;

static void *exchanges(void *arg)
{
    struct pith_client c;
    net_bind(&c);
    uint32_t s;
    if (socket_open(&c, SOCKET_UDP, &s)) {
        gave_up = 1;
        finished = true;
        return NULL;
    }
    for (int i = 0; i < ROUNDS && !gave_up; i++) {
        char msg[32], back[SOCKET_RECV_DATA_MAX];
        int n = snprintf(msg, sizeof msg, "round %d", i);
        for (;;) {
            uint64_t len;
            uint32_t addr;
            uint16_t port;
            long err = socket_sendto(&c, s, NODE_B, ECHO_PORT, msg, (uint64_t)n);
            /* Stale answers from earlier tries are skipped: only this round's counts. */
            while (!err && !(err = socket_recv(&c, s, 300, back, &len, &addr, &port)) &&
                   (len != (uint64_t)n || memcmp(back, msg, (size_t)n)))
                ;
            if (!err)
                break;
            if (++resent > 200) {
                gave_up = 1;
                break;
            }
        }
        rounds++;
    }
    socket_close(&c, s);
    finished = true;
    return NULL;
}

static long procmgr_itself(void *ctx, const char *name, uint64_t dest_slot)
{
    return pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, dest_slot, PITH_SLOT_PROCS, PITH_RIGHTS_ALL, 0);
}

static const struct pith_resolver boot_capability = { .lookup = procmgr_itself };

void kill_checks(void)
{
    struct pith_client c, pm;
    net_bind(&c);
    pith_client_init(&pm, "procmgr", &boot_capability, pith_slot_alloc(), pith_tls_self()->ipc_buffer);
    uint32_t conn;
    long err = socket_open(&c, SOCKET_TCP, &conn);
    if (!err)
        err = socket_connect(&c, conn, NODE_B, ECHO_PORT, 5000);
    check(!err, "tcp_connect_before_kill", "error %#lx", err);
    pith_thread_t *t;
    if (pith_thread_create(&t, exchanges, NULL)) {
        check(false, "driver_killed_under_udp_traffic", "no thread");
        return;
    }
    while (rounds < 10 && !finished)
        pith_sleep_ns(1000000);
    uint64_t killed_at = now_ns();
    long k = procmgr_kill(&pm, "netdev");
    while (!finished)
        pith_sleep_ns(10000000);
    printf("nettest: killed the driver under UDP traffic: %d rounds, %d datagrams sent again, %lu ms to finish\n",
           rounds, resent, (now_ns() - killed_at) / 1000000);
    check(!k && rounds == ROUNDS && !gave_up, "driver_killed_under_udp_traffic", "kill %#lx, %d of %d rounds, %d resent",
          k, rounds, ROUNDS, resent);
    /* The connection made before the kill still carries data both ways. */
    char msg[] = "after the driver's restart", back[sizeof msg];
    uint32_t sent = 0, addr;
    uint16_t port;
    uint64_t len = 0;
    err = socket_send(&c, conn, msg, sizeof msg, &sent);
    if (!err)
        err = socket_recv(&c, conn, 10000, back, &len, &addr, &port);
    check(!err && sent == sizeof msg && len == sizeof msg && !memcmp(msg, back, sizeof msg),
          "tcp_connection_survives_driver_restart", "error %#lx sent %u got %lu", err, sent, len);
    socket_close(&c, conn);
    uint32_t a, mask, gw, up;
    uint64_t mac, in, out;
    err = socket_ifconfig(&c, &a, &mask, &gw, &mac, &up, &in, &out);
    check(!err && a == NODE_A && up == 1, "interface_keeps_address_after_driver_restart", "error %#lx addr %#x up %u",
          err, a, up);
}
