/*
 * The network IPC server (docs/network.md): one engine per configured
 * node identity.  An engine holds the transport state (lib/netipc), its
 * proxies (the endpoint published as PREFIX/NODE/svc/NAME for each
 * import, served by a few threads), and a receive thread that feeds
 * datagrams to lib/netipc, runs its timers and forwards requests from
 * peers to the local services the configuration exports.
 */
#ifndef NETIPC_SERVER_H
#define NETIPC_SERVER_H

#include "conf.h"
#include "netipc.h"
#include "sync.h"

#include <stdbool.h>
#include <stdint.h>

#define PROXY_THREADS   NETIPC_CALLS    /* calls in flight through one engine */
#define WORK_MAX        (NETIPC_SERVED * CONF_PEERS)
#define FRAME_ROOM      928             /* the socket protocol's largest datagram */

/* A proxy thread's call in flight: the reply callback fills it, sets done and signals the thread's notification. */
struct waiter {
    uint64_t ntfn;                      /* the proxy thread's own notification */
    int done;                           /* atomic: set last, after the rest */
    int status;
    uint8_t rep[NETIPC_MSG_MAX];
    size_t len;
};

/* A request from a peer, waiting for the receive thread to run it (its bytes stay in lib/netipc's table). */
struct work {
    struct netipc_peer *p;
    uint64_t id;
    const uint8_t *msg;
    size_t len;
};

/* The datagram transport: UDP through /svc/net (udp.c). */
struct udp_addr {
    uint32_t ip;
    uint16_t port;
};

struct engine {
    struct conf conf;
    struct netipc n;
    struct netipc_peer peers[CONF_PEERS];
    struct udp_addr addrs[CONF_PEERS];
    uint64_t down_until[CONF_PEERS];    /* a peer that just timed out fails calls at once until then */
    pith_mutex_t lock;                  /* over n, down_until, work */
    struct work work[WORK_MAX];
    unsigned nwork;
    uint64_t proxy_ep;
    uint32_t sock;                      /* the UDP socket */
    bool sock_lost;                     /* it went and could not be opened again yet */
    struct netipc_counters shown;       /* the counters as last logged */
    uint64_t shown_at;                  /* and when */
};

/* Starts the engine's threads; 0 or an error, said on the console. */
long engine_start(struct engine *e);

/* udp.c: opens and binds the engine's socket; sends a frame; waits for one. */
long udp_open(struct engine *e);
void udp_send(struct engine *e, struct netipc_peer *p, const uint8_t *frame, size_t len);
void udp_reopen(struct engine *e);
/* frame: room for FRAME_ROOM bytes (a datagram of the socket protocol); 0, or an error (a timeout). */
long udp_recv(struct engine *e, uint8_t *frame, size_t *len, uint64_t timeout_ns);

/* main.c: the clock and key material; wall_base_ns is the wall clock (RTC) at now_ns() == 0. */
extern uint64_t wall_base_ns;
uint64_t now_ns(void);
void random_fill(uint8_t *buf, size_t len);

#endif
