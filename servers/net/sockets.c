/*
 * The socket table and the socket protocol's handlers (socket.idl).  A
 * socket belongs to the process whose badge opened it: another process
 * naming its number gets bad_socket.  Each handler takes the lock, finds
 * the caller's socket and hands it to the UDP or TCP code.  A client
 * that never waits here (the POSIX personality) gives a notification by
 * watch; lwIP's callbacks signal it (net_notify) when one of its sockets
 * may have changed readiness, so it need not ask again and again.
 */
#include "lwip/tcp.h"
#include "lwip/udp.h"
#include "net.h"
#include "netsock.h"
#include "socket.h"

#include <string.h>

struct sock net_sockets[NET_SOCKETS];

/* The notifications clients gave by watch: a client's badge and our slot holding its notification. */
static struct watch {
    bool used;
    uint64_t badge, slot;               /* slot: allocated on first use, kept when the entry is freed */
} watches[NET_WATCHES];

static struct watch *watch_of(uint64_t badge)
{
    for (int i = 0; i < NET_WATCHES; i++)
        if (watches[i].used && watches[i].badge == badge)
            return &watches[i];
    return NULL;
}

static void watch_forget(struct watch *w)
{
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, w->slot, 0, 0, 0);
    w->used = false;
}

void net_notify(uint64_t owner)
{
    struct watch *w = watch_of(owner);
    /* A signal never waits; one that fails means the notification is gone (its client too): forgotten. */
    if (w && pith_signal(w->slot))
        watch_forget(w);
}

int sock_alloc(uint64_t owner, uint32_t type)
{
    for (int i = 0; i < NET_SOCKETS; i++)
        if (!net_sockets[i].used) {
            memset(&net_sockets[i], 0, sizeof net_sockets[i]);
            net_sockets[i].used = true;
            net_sockets[i].owner = owner;
            net_sockets[i].type = type;
            return i;
        }
    return -1;
}

void sock_free(int i)
{
    struct sock *s = &net_sockets[i];
    if (s->type == SOCKET_UDP)
        usock_close(s);
    else
        tsock_close(s);
    memset(s, 0, sizeof *s);
}

/* The caller's socket number sock (lock held), or NULL. */
static struct sock *mine(struct net_thread *t, uint32_t sock)
{
    struct sock *s = sock < NET_SOCKETS ? &net_sockets[sock] : NULL;
    return s && s->used && !s->pending && s->owner == t->badge ? s : NULL;
}

#define WITH_SOCK(t, sock, s)                   \
    net_enter(t);                               \
    struct sock *s = mine(t, sock);             \
    if (!s) {                                   \
        net_leave();                            \
        return SOCKET_E_BAD_SOCKET;             \
    }

static long on_open(void *ctx, uint32_t type, uint32_t *sock)
{
    struct net_thread *t = ctx;
    if (type != SOCKET_UDP && type != SOCKET_TCP)
        return SOCKET_E_BAD_ARGUMENT;
    net_enter(t);
    int i = sock_alloc(t->badge, type);
    long err = i < 0 ? SOCKET_E_NO_SOCKETS : type == SOCKET_UDP ? usock_open(&net_sockets[i], i) : tsock_open(&net_sockets[i], i);
    if (err && i >= 0)
        memset(&net_sockets[i], 0, sizeof net_sockets[i]);
    net_leave();
    *sock = (uint32_t)i;
    return err;
}

static long on_bind(void *ctx, uint32_t sock, uint32_t addr, uint16_t port)
{
    WITH_SOCK(ctx, sock, s);
    long err = s->type == SOCKET_UDP ? usock_bind(s, addr, port) : tsock_bind(s, addr, port);
    net_leave();
    return err;
}

static long on_connect(void *ctx, uint32_t sock, uint32_t addr, uint16_t port, uint32_t timeout_ms)
{
    WITH_SOCK(ctx, sock, s);
    long err = s->type == SOCKET_UDP ? usock_connect(s, addr, port)
                                     : tsock_connect(ctx, s, (int)sock, addr, port, timeout_ms, false);
    net_leave();
    return err;
}

static long on_listen(void *ctx, uint32_t sock, uint32_t backlog)
{
    WITH_SOCK(ctx, sock, s);
    long err = s->type == SOCKET_UDP ? SOCKET_E_BAD_STATE : tsock_listen(s, (int)sock, backlog);
    net_leave();
    return err;
}

static long on_accept(void *ctx, uint32_t sock, uint32_t timeout_ms, uint32_t *conn, uint32_t *addr, uint16_t *port)
{
    WITH_SOCK(ctx, sock, s);
    long err = s->type == SOCKET_UDP ? SOCKET_E_BAD_STATE : tsock_accept(ctx, s, timeout_ms, conn, addr, port);
    net_leave();
    return err;
}

static long send_either(void *ctx, uint32_t sock, const uint8_t *data, uint64_t len, uint32_t *sent, bool wait)
{
    WITH_SOCK(ctx, sock, s);
    long err;
    if (s->type == SOCKET_TCP) {
        err = tsock_send(ctx, s, data, len, sent, wait);
    } else {
        err = s->peer ? usock_sendto(s, true, 0, 0, data, len) : SOCKET_E_NOT_CONNECTED;
        *sent = err ? 0 : (uint32_t)len;
    }
    net_leave();
    return err;
}

static long on_send(void *ctx, uint32_t sock, const uint8_t *data, uint64_t len, uint32_t *sent)
{
    return send_either(ctx, sock, data, len, sent, true);
}

static long on_trysend(void *ctx, uint32_t sock, const uint8_t *data, uint64_t len, uint32_t *sent)
{
    return send_either(ctx, sock, data, len, sent, false);
}

static long on_sendto(void *ctx, uint32_t sock, uint32_t addr, uint16_t port, const uint8_t *data, uint64_t len)
{
    WITH_SOCK(ctx, sock, s);
    long err = s->type == SOCKET_TCP ? SOCKET_E_BAD_STATE : usock_sendto(s, false, addr, port, data, len);
    net_leave();
    return err;
}

static long on_recv(void *ctx, uint32_t sock, uint32_t timeout_ms, uint8_t *data, uint64_t *len, uint32_t *addr,
                    uint16_t *port)
{
    WITH_SOCK(ctx, sock, s);
    long err;
    if (s->type == SOCKET_UDP) {
        err = usock_recv(ctx, s, timeout_ms, data, len, addr, port);
    } else {
        err = tsock_recv(ctx, s, timeout_ms, data, len);
        *addr = 0;
        *port = 0;
        if (!err && s->tcp) {
            *addr = net_u32(&s->tcp->remote_ip);
            *port = s->tcp->remote_port;
        }
    }
    net_leave();
    return err;
}

static long on_shutdown(void *ctx, uint32_t sock, uint32_t how)
{
    WITH_SOCK(ctx, sock, s);
    long err = how < 1 || how > 3 ? SOCKET_E_BAD_ARGUMENT : s->type == SOCKET_UDP ? SOCKET_E_BAD_STATE : tsock_shutdown(s, how);
    if (!err)
        net_notify(s->owner);           /* another caller of the client's may wait on this socket's end */
    net_leave();
    return err;
}

static long on_close(void *ctx, uint32_t sock)
{
    WITH_SOCK(ctx, sock, s);
    (void)s;
    sock_free((int)sock);
    net_leave();
    return 0;
}

static long on_getsockname(void *ctx, uint32_t sock, uint32_t *addr, uint16_t *port)
{
    WITH_SOCK(ctx, sock, s);
    *addr = 0;
    *port = 0;
    if (s->udp) {
        *addr = net_u32(&s->udp->local_ip);
        *port = s->udp->local_port;
    } else if (s->tcp) {
        *addr = net_u32(&s->tcp->local_ip);
        *port = s->tcp->local_port;
    }
    net_leave();
    return 0;
}

static long on_getpeername(void *ctx, uint32_t sock, uint32_t *addr, uint16_t *port)
{
    WITH_SOCK(ctx, sock, s);
    long err = 0;
    if (s->udp && s->peer) {
        *addr = net_u32(&s->udp->remote_ip);
        *port = s->udp->remote_port;
    } else if (s->tcp && s->connected) {
        *addr = net_u32(&s->tcp->remote_ip);
        *port = s->tcp->remote_port;
    } else {
        err = SOCKET_E_NOT_CONNECTED;
    }
    net_leave();
    return err;
}

static long on_setsockopt(void *ctx, uint32_t sock, uint32_t option, uint32_t value)
{
    WITH_SOCK(ctx, sock, s);
    long err = 0;
    if (value > 1)
        err = SOCKET_E_BAD_ARGUMENT;
    else if (option == SOCKET_OPT_NODELAY && s->type == SOCKET_TCP && s->tcp && !s->listening) {
        if (value)
            tcp_nagle_disable(s->tcp);
        else
            tcp_nagle_enable(s->tcp);
    } else if (option == SOCKET_OPT_REUSEADDR && (s->tcp || s->udp)) {
        if (s->tcp && value)
            ip_set_option(s->tcp, SOF_REUSEADDR);
        else if (s->tcp)
            ip_reset_option(s->tcp, SOF_REUSEADDR);
        else if (value)
            ip_set_option(s->udp, SOF_REUSEADDR);
        else
            ip_reset_option(s->udp, SOF_REUSEADDR);
    } else if (option == SOCKET_OPT_BROADCAST && s->udp) {
        if (value)
            ip_set_option(s->udp, SOF_BROADCAST);
        else
            ip_reset_option(s->udp, SOF_BROADCAST);
    } else
        err = SOCKET_E_BAD_ARGUMENT;
    net_leave();
    return err;
}

static long on_ifconfig(void *ctx, uint32_t *addr, uint32_t *netmask, uint32_t *gateway, uint64_t *mac,
                        uint32_t *up, uint64_t *in, uint64_t *out)
{
    struct net_thread *t = ctx;
    *up = link_info(t, mac, in, out);   /* the driver's own answer, outside the lock */
    net_enter(t);
    *addr = lwip_ntohl(ip4_addr_get_u32(netif_ip4_addr(&net_if)));
    *netmask = lwip_ntohl(ip4_addr_get_u32(netif_ip4_netmask(&net_if)));
    *gateway = lwip_ntohl(ip4_addr_get_u32(netif_ip4_gw(&net_if)));
    if (!*up) {
        *mac = 0;
        for (int i = 0; i < 6; i++)
            *mac = *mac << 8 | net_if.hwaddr[i];
    }
    net_leave();
    return 0;
}

static long on_ping(void *ctx, uint32_t addr, uint32_t timeout_ms, uint32_t *rtt_us)
{
    net_enter(ctx);
    long err = ping_once(ctx, addr, timeout_ms, rtt_us);
    net_leave();
    return err;
}

static long on_status(void *ctx, uint32_t sock, uint32_t *events, uint32_t *error)
{
    WITH_SOCK(ctx, sock, s);
    *error = 0;
    if (s->type == SOCKET_UDP)
        *events = SOCKET_WRITABLE | (s->qlen ? SOCKET_READABLE : 0);
    else
        tsock_status(s, events, error);
    net_leave();
    return 0;
}

static long on_connect_begin(void *ctx, uint32_t sock, uint32_t addr, uint16_t port)
{
    WITH_SOCK(ctx, sock, s);
    long err = s->type == SOCKET_UDP ? usock_connect(s, addr, port)
                                     : tsock_connect(ctx, s, (int)sock, addr, port, 0, true);
    net_leave();
    return err;
}

static long on_release(void *ctx, uint32_t *closed)
{
    struct net_thread *t = ctx;
    *closed = 0;
    net_enter(t);
    for (int i = 0; i < NET_SOCKETS; i++)
        if (net_sockets[i].used && !net_sockets[i].pending && net_sockets[i].owner == t->badge) {
            sock_free(i);               /* a listener frees its connections never accepted with it */
            ++*closed;
        }
    struct watch *w = watch_of(t->badge);
    if (w)
        watch_forget(w);                /* a restarted client gives its own again */
    net_leave();
    return 0;
}

static long on_watch(void *ctx, uint64_t ntfn)
{
    struct net_thread *t = ctx;
    struct pith_msg id = { .w = { ntfn } };
    if (pith_invoke(PITH_SLOT_CSPACE, PITH_CNODE_IDENTIFY, &id) || id.w[0] != PITH_OBJ_NOTIFICATION ||
        !(id.w[1] & PITH_RIGHT_WRITE))
        return SOCKET_E_BAD_ARGUMENT;   /* no capability came, or not one we can signal */
    net_enter(t);
    struct watch *w = watch_of(t->badge);
    for (int i = 0; !w && i < NET_WATCHES; i++)
        if (!watches[i].used)
            w = &watches[i];
    long err = w ? 0 : SOCKET_E_NO_MEMORY;
    if (w && !w->slot && !(w->slot = pith_slot_alloc()))
        err = SOCKET_E_NO_MEMORY;
    if (!err) {
        /* The client's earlier notification goes; the new one is ours (the dispatch deletes what is left). */
        pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, w->slot, 0, 0, 0);
        w->used = false;
        if (pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_MOVE, w->slot, ntfn, 0, 0))
            err = SOCKET_E_NO_MEMORY;
        else
            *w = (struct watch){ .used = true, .badge = t->badge, .slot = w->slot };
    }
    /* Readiness may have changed before the watch: the client looks once at once. */
    if (!err)
        net_notify(t->badge);
    net_leave();
    return err;
}

static const struct socket_handlers handlers = {
    .open = on_open, .bind = on_bind, .connect = on_connect, .listen = on_listen, .accept = on_accept,
    .send = on_send, .sendto = on_sendto, .recv = on_recv, .shutdown = on_shutdown, .close = on_close,
    .getsockname = on_getsockname, .getpeername = on_getpeername, .setsockopt = on_setsockopt,
    .ifconfig = on_ifconfig, .ping = on_ping, .trysend = on_trysend, .status = on_status,
    .connect_begin = on_connect_begin, .release = on_release, .watch = on_watch,
};

/* The generated loop does not show handlers the badge; this one keeps it for them. */
long sockets_serve(struct net_thread *t)
{
    struct pith_msg m = { 0 };
    t->srv.buf->recv_slot = t->srv.cap_slot;
    long err = pith_recv(t->srv.ep, &m, t->srv.reply);
    while (err == PITH_OK) {
        t->badge = m.badge;
        socket_dispatch(&handlers, t, &t->srv, &m);
        t->srv.buf->recv_slot = t->srv.cap_slot;
        err = pith_reply_recv(t->srv.ep, &m, t->srv.reply);
    }
    return err;
}
