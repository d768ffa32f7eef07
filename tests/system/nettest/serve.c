/*
 * Node B: UDP echo (every datagram back to its sender) in one thread,
 * TCP echo (every byte back, then the end of the stream when the client
 * ends its own) in another, one connection at a time.  Port 9 has no
 * listener, so a connection there is refused.
 */
#include "nettest.h"
#include "pith.h"
#include "thread.h"

#include <stdio.h>

static void *udp_echo(void *arg)
{
    struct pith_client c;
    net_bind(&c);
    uint32_t s;
    long err = socket_open(&c, SOCKET_UDP, &s);
    if (!err)
        err = socket_bind(&c, s, 0, ECHO_PORT);
    if (err) {
        printf("nettest-serve: UDP echo cannot start (error %#lx)\n", err);
        return NULL;
    }
    for (;;) {
        uint8_t buf[SOCKET_RECV_DATA_MAX];
        uint64_t len;
        uint32_t addr;
        uint16_t port;
        if (!socket_recv(&c, s, SOCKET_FOREVER, buf, &len, &addr, &port))
            socket_sendto(&c, s, addr, port, buf, len);
    }
}

/* One connection: echoes until the client's end of stream, then ends its own. */
static void echo_conn(struct pith_client *c, uint32_t conn)
{
    uint8_t buf[SOCKET_RECV_DATA_MAX];
    uint64_t len;
    uint32_t addr;
    uint16_t port;
    while (!socket_recv(c, conn, 10000, buf, &len, &addr, &port) && len) {
        for (uint64_t at = 0; at < len;) {
            uint32_t sent = 0;
            if (socket_send(c, conn, buf + at, len - at, &sent))
                return;
            at += sent;
        }
    }
    socket_shutdown(c, conn, SOCKET_SHUT_WR);
}

_Noreturn void serve(void)
{
    pith_thread_t *t;
    if (pith_thread_create(&t, udp_echo, NULL))
        printf("nettest-serve: cannot start the UDP echo thread\n");
    struct pith_client c;
    net_bind(&c);
    uint32_t l;
    long err = socket_open(&c, SOCKET_TCP, &l);
    if (!err)
        err = socket_bind(&c, l, 0, ECHO_PORT);
    if (!err)
        err = socket_listen(&c, l, 4);
    printf("nettest-serve: echo on UDP and TCP port %d%s\n", ECHO_PORT, err ? " (TCP failed)" : "");
    for (;;) {
        uint32_t conn, addr;
        uint16_t port;
        if (socket_accept(&c, l, SOCKET_FOREVER, &conn, &addr, &port)) {
            pith_sleep_ns(100000000);
            continue;
        }
        echo_conn(&c, conn);
        socket_close(&c, conn);
    }
}
