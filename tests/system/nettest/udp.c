/*
 * Node A's UDP and interface checks: ifconfig, ping, echo through node B,
 * and every error UDP sockets and ping can return.
 */
#include "nettest.h"
#include "pith.h"

#include <stdio.h>
#include <string.h>

#define OFF_NET SOCKET_IP(192, 168, 7, 7)       /* no route: node A has no gateway */
#define SILENT  SOCKET_IP(10, 0, 0, 99)         /* on the network, but nobody answers ARP */

/* One datagram to B's echo and its answer; 0, or the error. */
static long echo_once(struct pith_client *c, uint32_t s, const void *msg, uint64_t len, uint32_t timeout_ms)
{
    uint8_t back[SOCKET_RECV_DATA_MAX];
    uint64_t got;
    uint32_t addr;
    uint16_t port;
    long err = socket_sendto(c, s, NODE_B, ECHO_PORT, msg, len);
    if (!err)
        err = socket_recv(c, s, timeout_ms, back, &got, &addr, &port);
    if (!err && (got != len || memcmp(back, msg, len) || addr != NODE_B || port != ECHO_PORT))
        err = -1;
    return err;
}

bool wait_for_b(void)
{
    struct pith_client c;
    net_bind(&c);
    uint32_t rtt = 0;
    int tries = 0;
    long err;
    do
        err = socket_ping(&c, NODE_B, 1000, &rtt);
    while (err && ++tries < 90);
    printf("nettest: ping 10.0.0.2: %u us (after %d unanswered)\n", rtt, tries);
    return !err;
}

static void interface_and_ping(struct pith_client *c)
{
    uint32_t addr, mask, gw, up, rtt = 0;
    uint64_t mac, in, out;
    long err = socket_ifconfig(c, &addr, &mask, &gw, &mac, &up, &in, &out);
    check(!err && addr == NODE_A && mask == 0xffffff00u && gw == 0 && up == 1 && mac == 0x525400123401ull,
          "ifconfig_static_address", "error %#lx addr %#x mask %#x gw %#x up %u mac %#lx", err, addr, mask, gw, up, mac);
    check(wait_for_b(), "ping_node_b", "no answer in 90 s");
    err = socket_ping(c, NODE_B, 1000, &rtt);
    check(!err, "ping_again", "error %#lx", err);
    check(socket_ping(c, SILENT, 300, &rtt) == SOCKET_E_TIMEOUT, "ping_silent_host_timeout", "not timeout");
    check(socket_ping(c, OFF_NET, 300, &rtt) == SOCKET_E_UNREACHABLE, "ping_off_network_unreachable", "no");
    check(socket_ping(c, 0, 300, &rtt) == SOCKET_E_BAD_ARGUMENT && socket_ping(c, NODE_B, 0, &rtt) == SOCKET_E_BAD_ARGUMENT,
          "ping_bad_arguments", "address 0 or timeout 0 taken");
}

static void echo(struct pith_client *c)
{
    uint32_t s;
    long err = socket_open(c, SOCKET_UDP, &s);
    check(!err, "udp_open", "error %#lx", err);
    /* B's echo may start after its server: ask until it answers. */
    int tries = 0;
    while ((err = echo_once(c, s, "first", 5, 1000)) && ++tries < 30)
        ;
    check(!err, "udp_echo_first", "error %#lx after %d tries", err, tries);
    int bad = 0;
    for (int i = 0; i < 16; i++) {
        char msg[32];
        int n = snprintf(msg, sizeof msg, "datagram %d", i);
        bad += echo_once(c, s, msg, (uint64_t)n, 2000) != 0;
    }
    check(!bad, "udp_echo_16", "%d of 16 lost or wrong", bad);
    uint8_t big[SOCKET_SENDTO_DATA_MAX];
    for (unsigned i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7);
    err = echo_once(c, s, big, sizeof big, 2000);
    check(!err, "udp_echo_928_bytes", "error %#lx", err);
    uint32_t addr;
    uint16_t port;
    err = socket_getsockname(c, s, &addr, &port);
    check(!err && addr == 0 && port >= 0xc000, "udp_bound_to_a_free_port_by_sendto", "error %#lx %#x:%u", err, addr, port);
    socket_close(c, s);
}

static void errors(struct pith_client *c)
{
    uint32_t s, s2, addr;
    uint16_t port = 0;
    uint8_t buf[SOCKET_RECV_DATA_MAX];
    uint64_t len;
    check(socket_open(c, 3, &s) == SOCKET_E_BAD_ARGUMENT, "open_bad_type", "taken");
    socket_open(c, SOCKET_UDP, &s);
    socket_open(c, SOCKET_UDP, &s2);
    check(socket_bind(c, s, 0, 4000) == 0 && socket_getsockname(c, s, &addr, &port) == 0 && port == 4000,
          "udp_bind", "port %u", port);
    check(socket_bind(c, s2, 0, 4000) == SOCKET_E_IN_USE, "udp_bind_in_use", "not in_use");
    check(socket_bind(c, s, 0, 4001) == SOCKET_E_BAD_STATE, "udp_bind_twice_bad_state", "not bad_state");
    uint64_t t0 = now_ns();
    check(socket_recv(c, s, 0, buf, &len, &addr, &port) == SOCKET_E_TIMEOUT, "udp_recv_no_wait_timeout", "no");
    long err = socket_recv(c, s, 200, buf, &len, &addr, &port);
    uint64_t waited = (now_ns() - t0) / 1000000;
    check(err == SOCKET_E_TIMEOUT && waited >= 200 && waited < 2000, "udp_recv_timeout_200ms", "error %#lx after %lu ms",
          err, waited);
    uint32_t sent;
    check(socket_send(c, s, "x", 1, &sent) == SOCKET_E_NOT_CONNECTED, "udp_send_unconnected", "no");
    check(socket_getpeername(c, s, &addr, &port) == SOCKET_E_NOT_CONNECTED, "udp_getpeername_unconnected", "no");
    check(socket_sendto(c, s, 0, 7, "x", 1) == SOCKET_E_BAD_ARGUMENT &&
          socket_sendto(c, s, NODE_B, 0, "x", 1) == SOCKET_E_BAD_ARGUMENT, "udp_sendto_address_0", "taken");
    check(socket_connect(c, s, 0, 7, 0) == SOCKET_E_BAD_STATE, "udp_connect_address_0", "taken");
    check(socket_sendto(c, s, OFF_NET, 7, "x", 1) == SOCKET_E_UNREACHABLE, "udp_sendto_unreachable", "no");
    err = socket_connect(c, s2, NODE_B, ECHO_PORT, 0);
    check(!err && !socket_getpeername(c, s2, &addr, &port) && addr == NODE_B && port == ECHO_PORT,
          "udp_connect_sets_peer", "error %#lx %#x:%u", err, addr, port);
    err = socket_send(c, s2, "peer", 4, &sent);
    if (!err)
        err = socket_recv(c, s2, 2000, buf, &len, &addr, &port);
    check(!err && sent == 4 && len == 4 && !memcmp(buf, "peer", 4), "udp_send_recv_connected", "error %#lx", err);
    check(socket_listen(c, s, 1) == SOCKET_E_BAD_STATE, "udp_listen_bad_state", "no");
    check(socket_accept(c, s, 0, &s2, &addr, &port) == SOCKET_E_BAD_STATE, "udp_accept_bad_state", "no");
    check(socket_shutdown(c, s, 1) == SOCKET_E_BAD_STATE, "udp_shutdown_bad_state", "no");
    check(socket_shutdown(c, s, 0) == SOCKET_E_BAD_ARGUMENT && socket_shutdown(c, s, 4) == SOCKET_E_BAD_ARGUMENT,
          "shutdown_bad_how", "taken");
    check(socket_setsockopt(c, s, SOCKET_OPT_BROADCAST, 1) == 0, "udp_setsockopt_broadcast", "refused");
    check(socket_setsockopt(c, s, 99, 1) == SOCKET_E_BAD_ARGUMENT && socket_setsockopt(c, s, SOCKET_OPT_BROADCAST, 2) ==
          SOCKET_E_BAD_ARGUMENT && socket_setsockopt(c, s, SOCKET_OPT_NODELAY, 1) == SOCKET_E_BAD_ARGUMENT,
          "setsockopt_bad_option_or_value", "taken");
    socket_close(c, s2);
    check(socket_close(c, s) == 0 && socket_close(c, s) == SOCKET_E_BAD_SOCKET, "close_twice_bad_socket", "no");
    check(socket_bind(c, s, 0, 1) == SOCKET_E_BAD_SOCKET && socket_getsockname(c, 9999, &addr, &port) ==
          SOCKET_E_BAD_SOCKET && socket_recv(c, 64, 0, buf, &len, &addr, &port) == SOCKET_E_BAD_SOCKET,
          "unknown_socket_bad_socket", "taken");
    /* The table has 64 entries: open until it is full. */
    uint32_t open[70];
    int n = 0;
    while (n < 70 && !(err = socket_open(c, SOCKET_UDP, &open[n])))
        n++;
    check(err == SOCKET_E_NO_SOCKETS && n > 50, "open_until_no_sockets", "error %#lx after %d", err, n);
    for (int i = 0; i < n; i++)
        socket_close(c, open[i]);
    check(socket_open(c, SOCKET_UDP, &s) == 0 && socket_close(c, s) == 0, "open_after_closing_all", "no");
}

void udp_checks(void)
{
    struct pith_client c;
    net_bind(&c);
    interface_and_ping(&c);
    echo(&c);
    errors(&c);
}
