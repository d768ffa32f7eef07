/*
 * The socket protocol's constants for clients (socket.idl, docs/network.md).
 */
#ifndef NET_NETSOCK_H
#define NET_NETSOCK_H

#include <stdint.h>

#define SOCKET_UDP 1
#define SOCKET_TCP 2
#define SOCKET_FOREVER 0xffffffffu      /* a timeout that never ends */
#define SOCKET_OPT_NODELAY   1
#define SOCKET_OPT_BROADCAST 2
#define SOCKET_OPT_REUSEADDR 3
#define SOCKET_SHUT_RD   1
#define SOCKET_SHUT_WR   2
#define SOCKET_SHUT_RDWR 3
/* status's events */
#define SOCKET_READABLE   1             /* data, a datagram, a connection to accept, or the end of the stream */
#define SOCKET_WRITABLE   2             /* TCP connected with room in the send buffer; UDP always */
#define SOCKET_HANGUP     4             /* the peer ended the stream, or the connection is gone */
#define SOCKET_CONNECTING 8             /* connect_begin's handshake under way */

/* An IPv4 address in the protocol's host order: SOCKET_IP(10, 0, 0, 2). */
#define SOCKET_IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

#endif
