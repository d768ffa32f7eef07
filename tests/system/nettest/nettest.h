/*
 * The network's in-system test (tests/system/net.sh): two machines on one
 * QEMU socket network.  "nettest serve" on node B answers UDP and TCP
 * echo on port 7 (serve.c); "nettest check" on node A drives the socket
 * protocol through every message and error against it (udp.c, tcp.c,
 * nowait.c, the loopback interface too),
 * kills the driver under traffic, and measures the UDP round trip.
 */
#ifndef NETTEST_H
#define NETTEST_H

#include "idl.h"
#include "netsock.h"
#include "socket.h"

#include <stdbool.h>
#include <stdint.h>

#define ECHO_PORT 7
#define NODE_A SOCKET_IP(10, 0, 0, 1)
#define NODE_B SOCKET_IP(10, 0, 0, 2)

/* A binding to /svc/net for the calling thread (one per thread). */
void net_bind(struct pith_client *c);
void check(bool ok, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
uint64_t now_ns(void);

_Noreturn void serve(void);
/* Pings node B until it answers (it boots beside us); whether it did. */
bool wait_for_b(void);
void udp_checks(void);
void tcp_checks(void);
void nowait_checks(void);
void kill_checks(void);
void bench_udp_rtt(void);
void dhcp_checks(void);

#endif
