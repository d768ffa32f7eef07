/*
 * Node A's TCP checks: an echo through node B (20,000 bytes each way, the
 * end of the stream both ways), refusals, timeouts, and every error TCP
 * sockets return.
 */
#include "nettest.h"

#include <stdio.h>
#include <string.h>

#define TOTAL 20000

/* Sends all of buf; 0 or the error. */
static long send_all(struct pith_client *c, uint32_t s, const uint8_t *buf, uint64_t len)
{
    for (uint64_t at = 0; at < len;) {
        uint32_t sent = 0;
        uint64_t part = len - at < SOCKET_SEND_DATA_MAX ? len - at : SOCKET_SEND_DATA_MAX;
        long err = socket_send(c, s, buf + at, part, &sent);
        if (err)
            return err;
        at += sent;
    }
    return 0;
}

/* Receives exactly len bytes; 0 or the error (-1: the stream ended early). */
static long recv_all(struct pith_client *c, uint32_t s, uint8_t *buf, uint64_t len)
{
    for (uint64_t at = 0; at < len;) {
        uint8_t part[SOCKET_RECV_DATA_MAX];
        uint64_t got;
        uint32_t addr;
        uint16_t port;
        long err = socket_recv(c, s, 5000, part, &got, &addr, &port);
        if (err)
            return err;
        if (!got)
            return -1;
        if (got > len - at)
            got = len - at;
        memcpy(buf + at, part, got);
        at += got;
    }
    return 0;
}

static void echo(struct pith_client *c)
{
    static uint8_t out[TOTAL], back[TOTAL];
    for (int i = 0; i < TOTAL; i++)
        out[i] = (uint8_t)(i * 31 + i / 256);
    uint32_t s, addr;
    uint16_t port;
    long err = socket_open(c, SOCKET_TCP, &s);
    if (!err)
        err = socket_connect(c, s, NODE_B, ECHO_PORT, 5000);
    check(!err, "tcp_connect", "error %#lx", err);
    err = socket_getpeername(c, s, &addr, &port);
    check(!err && addr == NODE_B && port == ECHO_PORT, "tcp_getpeername", "error %#lx %#x:%u", err, addr, port);
    err = socket_getsockname(c, s, &addr, &port);
    check(!err && addr == NODE_A && port != 0, "tcp_getsockname", "error %#lx %#x:%u", err, addr, port);
    check(socket_setsockopt(c, s, SOCKET_OPT_NODELAY, 1) == 0, "tcp_setsockopt_nodelay", "refused");
    check(socket_connect(c, s, NODE_B, ECHO_PORT, 100) == SOCKET_E_BAD_STATE, "tcp_connect_twice_bad_state", "no");
    check(socket_sendto(c, s, NODE_B, ECHO_PORT, "x", 1) == SOCKET_E_BAD_STATE, "tcp_sendto_bad_state", "no");
    /* In pieces of 1000 bytes, each read back before the next: the windows never fill. */
    long e1 = 0, e2 = 0;
    for (int at = 0; at < TOTAL && !e1 && !e2; at += 1000) {
        e1 = send_all(c, s, out + at, 1000);
        e2 = e1 ? 0 : recv_all(c, s, back + at, 1000);
    }
    check(!e1 && !e2 && !memcmp(out, back, TOTAL), "tcp_echo_20000_bytes", "send %#lx recv %#lx%s", e1, e2,
          memcmp(out, back, TOTAL) ? ", bytes differ" : "");
    /* Our end of the stream: B ends its own, and recv says so with 0 bytes. */
    err = socket_shutdown(c, s, SOCKET_SHUT_WR);
    uint8_t buf[SOCKET_RECV_DATA_MAX];
    uint64_t len = 1;
    long r = err ? err : socket_recv(c, s, 5000, buf, &len, &addr, &port);
    check(!err && !r && len == 0, "tcp_end_of_stream_both_ways", "shutdown %#lx recv %#lx len %lu", err, r, len);
    uint32_t sent;
    check(socket_send(c, s, "x", 1, &sent) == SOCKET_E_CLOSED, "tcp_send_after_shutdown_closed", "no");
    check(socket_close(c, s) == 0, "tcp_close", "refused");
}

static void refusals(struct pith_client *c)
{
    uint32_t s, s2, conn, addr;
    uint16_t port;
    uint8_t buf[SOCKET_RECV_DATA_MAX];
    uint64_t len;
    uint32_t sent;
    socket_open(c, SOCKET_TCP, &s);
    check(socket_connect(c, s, NODE_B, 9, 5000) == SOCKET_E_REFUSED, "tcp_connect_refused", "no");
    socket_close(c, s);
    socket_open(c, SOCKET_TCP, &s);
    uint64_t t0 = now_ns();
    long err = socket_connect(c, s, SOCKET_IP(10, 0, 0, 99), 7, 300);
    uint64_t ms = (now_ns() - t0) / 1000000;
    check(err == SOCKET_E_TIMEOUT && ms >= 300, "tcp_connect_timeout", "error %#lx after %lu ms", err, ms);
    err = socket_connect(c, s, SOCKET_IP(192, 168, 7, 7), 7, 300);
    check(err == SOCKET_E_UNREACHABLE, "tcp_connect_unreachable", "error %#lx", err);
    check(socket_connect(c, s, 0, 7, 300) == SOCKET_E_BAD_STATE, "tcp_connect_address_0", "taken");
    check(socket_send(c, s, "x", 1, &sent) == SOCKET_E_NOT_CONNECTED, "tcp_send_unconnected", "no");
    check(socket_recv(c, s, 0, buf, &len, &addr, &port) == SOCKET_E_NOT_CONNECTED, "tcp_recv_unconnected", "no");
    check(socket_shutdown(c, s, 2) == SOCKET_E_NOT_CONNECTED, "tcp_shutdown_unconnected", "no");
    check(socket_getpeername(c, s, &addr, &port) == SOCKET_E_NOT_CONNECTED, "tcp_getpeername_unconnected", "no");
    check(socket_listen(c, s, 2) == SOCKET_E_BAD_STATE, "tcp_listen_unbound_bad_state", "no");
    check(socket_bind(c, s, 0, 5000) == 0, "tcp_bind", "refused");
    socket_open(c, SOCKET_TCP, &s2);
    check(socket_bind(c, s2, 0, 5000) == SOCKET_E_IN_USE, "tcp_bind_in_use", "no");
    socket_close(c, s2);
    check(socket_listen(c, s, 0) == SOCKET_E_BAD_ARGUMENT && socket_listen(c, s, 17) == SOCKET_E_BAD_ARGUMENT,
          "tcp_listen_bad_backlog", "taken");
    check(socket_listen(c, s, 2) == 0, "tcp_listen", "refused");
    check(socket_listen(c, s, 2) == SOCKET_E_BAD_STATE, "tcp_listen_twice_bad_state", "no");
    check(socket_accept(c, s, 0, &conn, &addr, &port) == SOCKET_E_TIMEOUT, "tcp_accept_no_wait_timeout", "no");
    check(socket_accept(c, s, 100, &conn, &addr, &port) == SOCKET_E_TIMEOUT, "tcp_accept_timeout", "no");
    check(socket_connect(c, s, NODE_B, 7, 100) == SOCKET_E_BAD_STATE && socket_send(c, s, "x", 1, &sent) ==
          SOCKET_E_BAD_STATE && socket_recv(c, s, 0, buf, &len, &addr, &port) == SOCKET_E_BAD_STATE,
          "tcp_listening_refuses_connect_send_recv", "taken");
    check(socket_bind(c, s, 0, 5001) == SOCKET_E_BAD_STATE, "tcp_bind_listening_bad_state", "no");
    socket_open(c, SOCKET_TCP, &s2);
    check(socket_accept(c, s2, 0, &conn, &addr, &port) == SOCKET_E_BAD_STATE, "tcp_accept_not_listening", "no");
    socket_close(c, s2);
    check(socket_close(c, s) == 0, "tcp_close_listener", "refused");
}

void tcp_checks(void)
{
    struct pith_client c;
    net_bind(&c);
    echo(&c);
    refusals(&c);
}
