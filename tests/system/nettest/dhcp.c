/*
 * "nettest dhcp": one machine on QEMU's user network, whose built-in DHCP
 * server gives 10.0.2.15/24 with the gateway 10.0.2.2; the network server
 * was started without addresses, so it asks by DHCP.
 */
#include "nettest.h"
#include "pith.h"

#include <stdio.h>

void dhcp_checks(void)
{
    struct pith_client c;
    net_bind(&c);
    uint32_t addr = 0, mask = 0, gw = 0, up = 0, rtt = 0;
    uint64_t mac, in, out;
    long err = 0;
    uint64_t t0 = now_ns();
    for (int i = 0; i < 300 && !err && !addr; i++) {
        err = socket_ifconfig(&c, &addr, &mask, &gw, &mac, &up, &in, &out);
        if (!addr)
            pith_sleep_ns(100000000);
    }
    printf("nettest: DHCP gave %u.%u.%u.%u after %lu ms\n", addr >> 24, addr >> 16 & 255, addr >> 8 & 255, addr & 255,
           (now_ns() - t0) / 1000000);
    check(!err && addr == SOCKET_IP(10, 0, 2, 15) && mask == 0xffffff00u && gw == SOCKET_IP(10, 0, 2, 2),
          "dhcp_address_netmask_gateway", "error %#lx addr %#x mask %#x gw %#x", err, addr, mask, gw);
    err = socket_ping(&c, SOCKET_IP(10, 0, 2, 2), 2000, &rtt);
    check(!err, "dhcp_ping_gateway", "error %#lx", err);
}
