/*
 * Frames as UDP datagrams through the network server's socket protocol
 * (/svc/net, servers/net/socket.idl).  Any thread may send (each with its
 * own binding); the engine's receive thread receives.  A datagram from an
 * address that is not a known peer's still goes to lib/netipc, which
 * believes only what authenticates.
 */
#include "server.h"
#include "idl.h"
#include "netsock.h"
#include "resolver.h"
#include "socket.h"
#include "tls.h"

#include <stdio.h>

_Static_assert(FRAME_ROOM == SOCKET_RECV_DATA_MAX, "a frame buffer holds any datagram");
_Static_assert(NETIPC_FRAME_MAX <= SOCKET_SEND_DATA_MAX, "a frame fits one datagram");

#define MAX_THREADS 16
/* Longer than any wait the receive thread asks of socket_recv (TICK_NS in engine.c). */
#define NET_TIMEOUT_NS (1000ull * 1000 * 1000)

/* The calling thread's binding to /svc/net, made on first use (threads known by their IPC buffer). */
static struct pith_client *net_client(void)
{
    static struct {
        struct pith_ipc_buffer *buf;
        struct pith_client c;
    } bindings[MAX_THREADS];
    static pith_mutex_t lock;
    static bool lock_ready;
    struct pith_ipc_buffer *buf = pith_tls_self()->ipc_buffer;
    if (!__atomic_load_n(&lock_ready, __ATOMIC_ACQUIRE)) {
        /* The first thread to use it is main's, before any other starts. */
        pith_mutex_init(&lock);
        __atomic_store_n(&lock_ready, true, __ATOMIC_RELEASE);
    }
    pith_mutex_lock(&lock);
    struct pith_client *found = NULL;
    for (int i = 0; i < MAX_THREADS && !found; i++) {
        if (bindings[i].buf == buf) {
            found = &bindings[i].c;
        } else if (!bindings[i].buf) {
            bindings[i].buf = buf;
            pith_client_init(&bindings[i].c, "/svc/net", &names_resolver, pith_slot_alloc(), buf);
            /* A hung network server must not hang us (we may hold the engine's lock): calls give up. */
            bindings[i].c.timeout_ns = NET_TIMEOUT_NS;
            found = &bindings[i].c;
        }
    }
    pith_mutex_unlock(&lock);
    return found;
}

long udp_open(struct engine *e)
{
    struct pith_client *c = net_client();
    long err = c ? socket_open(c, SOCKET_UDP, &e->sock) : PITH_E_FULL;
    if (!err)
        err = socket_bind(c, e->sock, 0, e->conf.port);
    if (err)
        printf("netipc: node %llu: cannot open UDP port %u (error %#lx)\n", (unsigned long long)e->conf.node,
               e->conf.port, err);
    return err;
}

/*
 * The socket went (the network server restarted: its sockets are gone):
 * open the port again.  Called under the engine's lock, so no thread sends
 * meanwhile; said on the console when it fails first and when it works again.
 */
void udp_reopen(struct engine *e)
{
    struct pith_client *c = net_client();
    if (c)
        socket_close(c, e->sock);
    long err = c ? socket_open(c, SOCKET_UDP, &e->sock) : PITH_E_FULL;
    if (!err && (err = socket_bind(c, e->sock, 0, e->conf.port)))
        socket_close(c, e->sock);
    if (err && !e->sock_lost)
        printf("netipc: node %llu: UDP port %u lost (error %#lx); trying again\n", (unsigned long long)e->conf.node,
               e->conf.port, err);
    else if (!err)
        printf("netipc: node %llu: UDP port %u open again\n", (unsigned long long)e->conf.node, e->conf.port);
    e->sock_lost = err != 0;
}

void udp_send(struct engine *e, struct netipc_peer *p, const uint8_t *frame, size_t len)
{
    const struct udp_addr *a = p->addr;
    struct pith_client *c = net_client();
    /* A datagram that cannot go is a loss: lib/netipc sends again or gives up in time. */
    if (c)
        socket_sendto(c, e->sock, a->ip, a->port, frame, len);
}

long udp_recv(struct engine *e, uint8_t *frame, size_t *len, uint64_t timeout_ns)
{
    struct pith_client *c = net_client();
    uint64_t got = 0;
    uint32_t addr;
    uint16_t port;
    if (!c)
        return PITH_E_FULL;
    uint32_t ms = (uint32_t)((timeout_ns + 999999) / 1000000);
    long err = socket_recv(c, e->sock, ms, frame, &got, &addr, &port);
    *len = (size_t)got;
    return err;
}
