/*
 * TCP sockets over lwIP's tcp_pcb and its callbacks.  Received bytes are
 * kept as lwIP's pbuf chain until recv takes them, and only then given
 * back to the window (tcp_recved), so a slow reader slows its sender.
 * lwIP frees a pcb itself when the connection is reset or fails (the
 * error callback): the socket then has no pcb and answers refused or
 * closed.  Connections made to a listening socket get a socket entry at
 * once, "pending" until accept hands it to the listener's owner.
 */
#include "lwip/tcp.h"
#include "net.h"
#include "netsock.h"
#include "socket.h"

#include <string.h>

static struct sock *of(void *arg) { return &net_sockets[(uintptr_t)arg]; }

static err_t received(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t e)
{
    struct sock *s = of(arg);
    if (!p)
        s->eof = true;                  /* the peer's end of the stream */
    else if (s->rx)
        pbuf_cat(s->rx, p);
    else
        s->rx = p;
    pith_cond_broadcast(&net_changed);
    net_notify(s->owner);
    return ERR_OK;
}

static err_t sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    pith_cond_broadcast(&net_changed);
    net_notify(of(arg)->owner);         /* room in the send buffer */
    return ERR_OK;
}

static void failed(void *arg, err_t e)
{
    struct sock *s = of(arg);
    s->tcp = NULL;                      /* lwIP has freed it */
    s->err = e ? e : ERR_ABRT;
    pith_cond_broadcast(&net_changed);
    net_notify(s->owner);
}

static void callbacks(struct tcp_pcb *pcb, int i)
{
    tcp_arg(pcb, (void *)(uintptr_t)i);
    tcp_recv(pcb, received);
    tcp_sent(pcb, sent);
    tcp_err(pcb, failed);
}

static err_t connected(void *arg, struct tcp_pcb *pcb, err_t e)
{
    struct sock *s = of(arg);
    s->connecting = false;
    s->connected = true;
    pith_cond_broadcast(&net_changed);
    net_notify(s->owner);
    return ERR_OK;
}

static err_t incoming(void *arg, struct tcp_pcb *pcb, err_t e)
{
    struct sock *l = of(arg);
    int i = e == ERR_OK && l->nbacklog < l->maxbacklog ? sock_alloc(l->owner, l->type) : -1;
    if (i < 0) {
        tcp_abort(pcb);                 /* no room: the peer sees a reset */
        return ERR_ABRT;
    }
    struct sock *s = &net_sockets[i];
    s->pending = true;
    s->tcp = pcb;
    s->connected = true;
    callbacks(pcb, i);
    l->backlog[l->nbacklog++] = i;
    pith_cond_broadcast(&net_changed);
    net_notify(l->owner);
    return ERR_OK;
}

static long gone(const struct sock *s)
{
    return s->err == ERR_RST || s->err == ERR_ABRT ? SOCKET_E_REFUSED : SOCKET_E_CLOSED;
}

long tsock_open(struct sock *s, int i)
{
    if (!(s->tcp = tcp_new()))
        return SOCKET_E_NO_MEMORY;
    callbacks(s->tcp, i);
    return 0;
}

long tsock_bind(struct sock *s, uint32_t addr, uint16_t port)
{
    if (!s->tcp)
        return gone(s);
    if (s->tcp->local_port || s->listening || s->connected || s->connecting)
        return SOCKET_E_BAD_STATE;
    ip_addr_t ip = net_ip(addr);
    err_t e = tcp_bind(s->tcp, &ip, port);
    return e == ERR_OK ? 0 : e == ERR_USE ? SOCKET_E_IN_USE : SOCKET_E_BAD_ARGUMENT;
}

long tsock_connect(struct net_thread *t, struct sock *s, int i, uint32_t addr, uint16_t port, uint32_t timeout_ms,
                   bool begin)
{
    if (!s->tcp)
        return gone(s);
    if (s->listening || s->connected || s->connecting || !addr || !port)
        return SOCKET_E_BAD_STATE;
    /* lwIP would send the SYN, fail to route it and retry for a minute: say so now. */
    if (!net_routable(addr))
        return SOCKET_E_UNREACHABLE;
    ip_addr_t ip = net_ip(addr);
    err_t e = tcp_connect(s->tcp, &ip, port, connected);
    if (e != ERR_OK)
        return e == ERR_MEM || e == ERR_BUF ? SOCKET_E_NO_MEMORY : e == ERR_RTE ? SOCKET_E_UNREACHABLE
             : e == ERR_USE ? SOCKET_E_IN_USE : SOCKET_E_BAD_STATE;
    s->connecting = true;
    if (begin)
        return 0;                       /* connect_begin: status tells the outcome */
    uint64_t deadline = net_deadline(timeout_ms);
    while (s->connecting && s->tcp)
        if (!timeout_ms || !net_wait(t, deadline))
            break;
    if (s->connected)
        return 0;
    if (!s->tcp)
        return SOCKET_E_REFUSED;        /* a reset, or lwIP gave up retrying */
    /* Timed out: the attempt is abandoned and the socket can try again. */
    tcp_abort(s->tcp);                  /* calls failed(), which clears s->tcp */
    s->connecting = false;
    s->err = 0;
    s->tcp = tcp_new();
    if (s->tcp)
        callbacks(s->tcp, i);
    return SOCKET_E_TIMEOUT;
}

long tsock_listen(struct sock *s, int i, uint32_t backlog)
{
    if (backlog < 1 || backlog > NET_BACKLOG)
        return SOCKET_E_BAD_ARGUMENT;
    if (!s->tcp || s->listening || s->connected || s->connecting || !s->tcp->local_port)
        return SOCKET_E_BAD_STATE;
    struct tcp_pcb *l = tcp_listen_with_backlog(s->tcp, (u8_t)backlog);
    if (!l)
        return SOCKET_E_NO_MEMORY;      /* the old pcb is kept */
    s->tcp = l;                         /* tcp_listen freed the old one */
    s->listening = true;
    s->maxbacklog = (int)backlog;
    tcp_arg(l, (void *)(uintptr_t)i);
    tcp_accept(l, incoming);
    return 0;
}

long tsock_accept(struct net_thread *t, struct sock *s, uint32_t timeout_ms, uint32_t *conn, uint32_t *addr,
                    uint16_t *port)
{
    if (!s->listening)
        return SOCKET_E_BAD_STATE;
    uint64_t deadline = net_deadline(timeout_ms);
    while (!s->nbacklog)
        if (!timeout_ms || !net_wait(t, deadline))
            return SOCKET_E_TIMEOUT;
        else if (!s->used || !s->listening)
            return SOCKET_E_BAD_SOCKET;
    int i = s->backlog[0];
    memmove(s->backlog, s->backlog + 1, sizeof s->backlog[0] * (size_t)--s->nbacklog);
    struct sock *c = &net_sockets[i];
    c->pending = false;
    *conn = (uint32_t)i;
    *addr = c->tcp ? net_u32(&c->tcp->remote_ip) : 0;
    *port = c->tcp ? c->tcp->remote_port : 0;
    return 0;
}

long tsock_send(struct net_thread *t, struct sock *s, const uint8_t *data, uint64_t len, uint32_t *n, bool wait)
{
    *n = 0;
    if (s->listening)
        return SOCKET_E_BAD_STATE;
    if (!s->connected)
        return s->tcp ? SOCKET_E_NOT_CONNECTED : gone(s);
    /* Waits until some of it fits in lwIP's send buffer, or the connection goes. */
    for (;;) {
        if (!s->tcp || s->shut_wr)
            return s->tcp ? SOCKET_E_CLOSED : gone(s);
        uint32_t room = tcp_sndbuf(s->tcp);
        if (!len)
            return 0;
        if (room && tcp_sndqueuelen(s->tcp) < TCP_SND_QUEUELEN) {
            uint32_t part = len < room ? (uint32_t)len : room;
            err_t e = tcp_write(s->tcp, data, (u16_t)part, TCP_WRITE_FLAG_COPY);
            if (e == ERR_OK) {
                tcp_output(s->tcp);
                *n = part;
                return 0;
            }
            if (e != ERR_MEM)
                return SOCKET_E_CLOSED;
        }
        if (!wait)
            return 0;                   /* trysend: nothing fits now */
        net_wait(t, 0);
    }
}

long tsock_recv(struct net_thread *t, struct sock *s, uint32_t timeout_ms, uint8_t *data, uint64_t *len)
{
    *len = 0;
    if (s->listening)
        return SOCKET_E_BAD_STATE;
    if (!s->connected && !s->rx)
        return s->tcp ? SOCKET_E_NOT_CONNECTED : gone(s);
    uint64_t deadline = net_deadline(timeout_ms);
    while (!s->rx && !s->eof) {
        if (!s->tcp)
            return gone(s);
        if (!timeout_ms || !net_wait(t, deadline))
            return SOCKET_E_TIMEOUT;
        if (!s->used)
            return SOCKET_E_BAD_SOCKET;
    }
    if (!s->rx)
        return 0;                       /* the end of the stream */
    uint16_t n = pbuf_copy_partial(s->rx, data, NET_DATA_MAX, 0);
    s->rx = pbuf_free_header(s->rx, n);
    if (s->tcp)
        tcp_recved(s->tcp, n);
    *len = n;
    return 0;
}

void tsock_status(const struct sock *s, uint32_t *events, uint32_t *error)
{
    uint32_t ev = 0;
    if (s->listening)
        ev |= s->nbacklog ? SOCKET_READABLE : 0;
    else if (s->rx || s->eof)
        ev |= SOCKET_READABLE;
    if (s->eof)
        ev |= SOCKET_HANGUP;
    if (s->tcp && s->connected && !s->shut_wr && tcp_sndbuf(s->tcp) && tcp_sndqueuelen(s->tcp) < TCP_SND_QUEUELEN)
        ev |= SOCKET_WRITABLE;
    if (s->tcp && s->connecting)
        ev |= SOCKET_CONNECTING;
    *error = 0;
    if (!s->tcp && s->err && s->err != ERR_CLSD) {
        ev |= SOCKET_HANGUP | SOCKET_READABLE;
        *error = (uint32_t)gone(s);
    }
    *events = ev;
}

static void detach(struct tcp_pcb *pcb)
{
    tcp_arg(pcb, NULL);
    tcp_recv(pcb, NULL);                /* lwIP's default: data after close is dropped */
    tcp_sent(pcb, NULL);
    tcp_err(pcb, NULL);
}

long tsock_shutdown(struct sock *s, uint32_t how)
{
    if (!s->tcp)
        return s->connected ? gone(s) : SOCKET_E_NOT_CONNECTED;
    if (!s->connected || s->listening)
        return SOCKET_E_NOT_CONNECTED;
    if (how & 1) {
        s->eof = true;
        if (s->rx)
            pbuf_free(s->rx);
        s->rx = NULL;
    }
    if (how & 2)
        s->shut_wr = true;
    if (how == 3) {
        /* Both ways is a close for lwIP, which may free the pcb: it is no longer ours. */
        struct tcp_pcb *pcb = s->tcp;
        s->tcp = NULL;
        s->err = ERR_CLSD;
        detach(pcb);
        if (tcp_close(pcb) != ERR_OK)
            tcp_abort(pcb);
        return 0;
    }
    return tcp_shutdown(s->tcp, how & 1, (how & 2) != 0) == ERR_OK ? 0 : SOCKET_E_BAD_STATE;
}

void tsock_close(struct sock *s)
{
    if (s->rx)
        pbuf_free(s->rx);
    s->rx = NULL;
    for (int k = 0; k < s->nbacklog; k++)
        sock_free(s->backlog[k]);       /* connections never accepted */
    s->nbacklog = 0;
    if (!s->tcp)
        return;
    struct tcp_pcb *pcb = s->tcp;
    s->tcp = NULL;
    if (s->listening)
        tcp_arg(pcb, NULL);
    else
        detach(pcb);
    if (tcp_close(pcb) != ERR_OK)
        tcp_abort(pcb);
}
