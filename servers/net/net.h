/*
 * The network server's parts (docs/network.md): the interface, its link
 * to the driver and the receive thread (link.c), the socket table and
 * the service threads (sockets.c), UDP (udp.c), TCP (tcp.c), ping
 * (ping.c), the command line (config.c).
 *
 * lwIP runs NO_SYS: every call into it, and every lwIP callback, happens
 * under net_lock, taken with net_enter.  Threads that wait (a receive, an
 * accept, a connect) wait on net_changed, which lwIP's callbacks and the
 * receive thread broadcast (the latter at least every 50 ms, so waiters
 * can see their deadlines pass).
 */
#ifndef NET_NET_H
#define NET_NET_H

#include "idl.h"
#include "lwip/ip_addr.h"
#include "netcfg.h"
#include "sync.h"

#include <stdbool.h>
#include <stdint.h>

#define NET_SOCKETS   64
#define NET_DGRAMS    16                /* datagrams queued per UDP socket; more are dropped */
#define NET_BACKLOG   16
#define NET_DATA_MAX  928               /* bytes in one message (socket.idl) */
#define NET_WATCHES   16                /* clients with a notification given by watch */

/* One service thread's state: its server side and its own binding to the driver. */
struct net_thread {
    struct pith_server srv;
    uint64_t badge;                     /* of the request being served */
    struct pith_client dev;             /* /dev/net0, for frames sent while this thread holds the lock */
};

extern pith_mutex_t net_lock;
extern pith_cond_t net_changed;
extern struct netif net_if;

/* Takes the lock; frames lwIP sends now go through t's binding. */
void net_enter(struct net_thread *t);
void net_leave(void);
/* Waits for a change (lock held); false once the deadline (ns, 0: none) has passed. */
bool net_wait(struct net_thread *t, uint64_t deadline);
/* The deadline of a timeout in ms (0: now, SOCKET_FOREVER: none, as 0). */
uint64_t net_deadline(uint32_t timeout_ms);
uint64_t net_now_ns(void);

/* link.c */
/* 0; 1 if there is no driver at all (nothing to serve); -1 on a failure. */
int link_start(const struct netcfg *cfg, struct net_thread *t);
_Noreturn void link_receive(struct net_thread *t);
bool link_info(struct net_thread *t, uint64_t *mac, uint64_t *in, uint64_t *out);
/* Whether addr is on our network or we have a gateway towards it (lock held). */
bool net_routable(uint32_t addr);

/* Conversions between the protocol's host-order addresses and lwIP's. */
static inline ip_addr_t net_ip(uint32_t a)
{
    ip_addr_t ip;
    IP_ADDR4(&ip, a >> 24, a >> 16 & 0xff, a >> 8 & 0xff, a & 0xff);
    return ip;
}
static inline uint32_t net_u32(const ip_addr_t *ip) { return lwip_ntohl(ip_2_ip4(ip)->addr); }

/* The socket table (sockets.c). */
struct dgram {
    struct pbuf *p;
    uint32_t addr;
    uint16_t port;
};
struct sock {
    bool used, pending;                 /* pending: a connection not yet accepted */
    uint32_t type;                      /* SOCKET_UDP, SOCKET_TCP */
    uint64_t owner;                     /* the badge of the process that has it */
    struct udp_pcb *udp;
    struct tcp_pcb *tcp;                /* NULL once lwIP freed it (reset, error) */
    /* UDP: datagrams received, oldest first. */
    struct dgram q[NET_DGRAMS];
    int qhead, qlen;
    bool peer;                          /* connect gave a peer */
    /* TCP */
    struct pbuf *rx;                    /* bytes received, not yet read */
    bool listening, connecting, connected, eof, shut_wr;
    int err;                            /* lwIP's error from the error callback (0: none) */
    int backlog[NET_BACKLOG], nbacklog, maxbacklog;
};
extern struct sock net_sockets[NET_SOCKETS];
/* A free entry's index (lock held), or -1. */
int sock_alloc(uint64_t owner, uint32_t type);
void sock_free(int i);

/* Signals the notification owner gave by watch, if any (lock held): one of its sockets may have changed. */
void net_notify(uint64_t owner);

/* udp.c, tcp.c: the handlers for one socket type (lock held; s is the caller's). */
long usock_open(struct sock *s, int i);
long usock_bind(struct sock *s, uint32_t addr, uint16_t port);
long usock_connect(struct sock *s, uint32_t addr, uint16_t port);
long usock_sendto(struct sock *s, bool to_peer, uint32_t addr, uint16_t port, const uint8_t *data, uint64_t len);
long usock_recv(struct net_thread *t, struct sock *s, uint32_t timeout_ms, uint8_t *data, uint64_t *len,
              uint32_t *addr, uint16_t *port);
void usock_close(struct sock *s);

long tsock_open(struct sock *s, int i);
long tsock_bind(struct sock *s, uint32_t addr, uint16_t port);
/* begin: return once the SYN is sent (connect_begin), the outcome seen through tsock_status */
long tsock_connect(struct net_thread *t, struct sock *s, int i, uint32_t addr, uint16_t port, uint32_t timeout_ms,
                   bool begin);
long tsock_listen(struct sock *s, int i, uint32_t backlog);
long tsock_accept(struct net_thread *t, struct sock *s, uint32_t timeout_ms, uint32_t *conn, uint32_t *addr,
                    uint16_t *port);
/* wait: until something fits (send); else sent 0 when nothing does (trysend) */
long tsock_send(struct net_thread *t, struct sock *s, const uint8_t *data, uint64_t len, uint32_t *sent, bool wait);
/* status's events and error (netsock.h) */
void tsock_status(const struct sock *s, uint32_t *events, uint32_t *error);
long tsock_recv(struct net_thread *t, struct sock *s, uint32_t timeout_ms, uint8_t *data, uint64_t *len);
long tsock_shutdown(struct sock *s, uint32_t how);
void tsock_close(struct sock *s);

/* ping.c */
int ping_start(void);
long ping_once(struct net_thread *t, uint32_t addr, uint32_t timeout_ms, uint32_t *rtt_us);

#endif
