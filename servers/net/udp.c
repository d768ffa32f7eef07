/*
 * UDP sockets over lwIP's udp_pcb.  Datagrams that arrive wait in the
 * socket's queue (NET_DGRAMS of them; more are dropped, as a full socket
 * buffer drops them anywhere) until recv takes them.
 */
#include "lwip/udp.h"
#include "net.h"
#include "socket.h"

#include <string.h>

static long from_lwip(err_t e)
{
    switch (e) {
    case ERR_OK: return 0;
    case ERR_MEM: case ERR_BUF: return SOCKET_E_NO_MEMORY;
    case ERR_RTE: return SOCKET_E_UNREACHABLE;
    case ERR_USE: return SOCKET_E_IN_USE;
    case ERR_VAL: return SOCKET_E_BAD_ARGUMENT;
    default: return SOCKET_E_BAD_STATE;
    }
}

static void arrived(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port)
{
    struct sock *s = &net_sockets[(uintptr_t)arg];
    if (!s->used || s->udp != pcb || s->qlen == NET_DGRAMS) {
        pbuf_free(p);
        return;
    }
    s->q[(s->qhead + s->qlen++) % NET_DGRAMS] = (struct dgram){ .p = p, .addr = net_u32(addr), .port = port };
    pith_cond_broadcast(&net_changed);
    net_notify(s->owner);
}

long usock_open(struct sock *s, int i)
{
    if (!(s->udp = udp_new()))
        return SOCKET_E_NO_MEMORY;
    udp_recv(s->udp, arrived, (void *)(uintptr_t)i);
    return 0;
}

long usock_bind(struct sock *s, uint32_t addr, uint16_t port)
{
    if (s->udp->local_port)
        return SOCKET_E_BAD_STATE;      /* bound already */
    ip_addr_t ip = net_ip(addr);
    return from_lwip(udp_bind(s->udp, &ip, port));
}

long usock_connect(struct sock *s, uint32_t addr, uint16_t port)
{
    ip_addr_t ip = net_ip(addr);
    if (!addr || !port)
        return SOCKET_E_BAD_STATE;
    long err = from_lwip(udp_connect(s->udp, &ip, port));
    s->peer = !err;
    return err;
}

long usock_sendto(struct sock *s, bool to_peer, uint32_t addr, uint16_t port, const uint8_t *data, uint64_t len)
{
    if (!to_peer && (!addr || !port))
        return SOCKET_E_BAD_ARGUMENT;
    struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
    if (!p)
        return SOCKET_E_NO_MEMORY;
    memcpy(p->payload, data, len);
    ip_addr_t ip = net_ip(addr);
    err_t e = to_peer ? udp_send(s->udp, p) : udp_sendto(s->udp, p, &ip, port);
    pbuf_free(p);
    return from_lwip(e);
}

long usock_recv(struct net_thread *t, struct sock *s, uint32_t timeout_ms, uint8_t *data, uint64_t *len,
              uint32_t *addr, uint16_t *port)
{
    uint64_t deadline = net_deadline(timeout_ms);
    while (!s->qlen)
        if (!timeout_ms || !net_wait(t, deadline))
            return SOCKET_E_TIMEOUT;
        else if (!s->used)
            return SOCKET_E_BAD_SOCKET;     /* closed by another thread while we waited */
    struct dgram *d = &s->q[s->qhead];
    s->qhead = (s->qhead + 1) % NET_DGRAMS;
    s->qlen--;
    *len = pbuf_copy_partial(d->p, data, NET_DATA_MAX, 0);      /* longer ones are cut */
    *addr = d->addr;
    *port = d->port;
    pbuf_free(d->p);
    return 0;
}

void usock_close(struct sock *s)
{
    while (s->qlen) {
        pbuf_free(s->q[s->qhead].p);
        s->qhead = (s->qhead + 1) % NET_DGRAMS;
        s->qlen--;
    }
    if (s->udp)
        udp_remove(s->udp);
    s->udp = NULL;
}
