/*
 * make bench's pith.net_udp_rtt (and a line of every net test run): the
 * round trip of a 64-byte UDP datagram from node A's program through its
 * network server, driver and the QEMU socket link to node B's echo
 * program and back.  Nanoseconds of the guest's clock (TCG).
 */
#include "nettest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WARM 20
#define ITERS 200

static int by_value(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

void bench_udp_rtt(void)
{
    static uint64_t t[ITERS];
    struct pith_client c;
    net_bind(&c);
    uint32_t s, addr;
    uint16_t port;
    uint8_t msg[64], back[SOCKET_RECV_DATA_MAX];
    uint64_t len;
    memset(msg, 'u', sizeof msg);
    long err = socket_open(&c, SOCKET_UDP, &s);
    int done = 0;
    for (int i = 0; !err && i < WARM + ITERS; i++) {
        uint64_t t0 = now_ns();
        err = socket_sendto(&c, s, NODE_B, ECHO_PORT, msg, sizeof msg);
        if (!err)
            err = socket_recv(&c, s, 2000, back, &len, &addr, &port);
        if (!err && i >= WARM)
            t[done++] = now_ns() - t0;
    }
    socket_close(&c, s);
    check(!err && done == ITERS, "udp_round_trips_measured", "error %#lx after %d", err, done);
    if (done != ITERS)
        return;
    qsort(t, ITERS, sizeof t[0], by_value);
    printf("bench pith.net_udp_rtt median=%lu min=%lu max=%lu unit=ns iters=%d\n", t[ITERS / 2], t[0], t[ITERS - 1],
           ITERS);
}
