/*
 * The messages for clients that never wait in the server (trysend,
 * status, connect_begin, release, watch: what the POSIX personality
 * uses), with node B's echo and over the loopback interface, and their
 * errors.
 */
#include "nettest.h"

#include <string.h>

/* status until the socket's handshake is over (CONNECTING gone), at most 3 s. */
static long settled(struct pith_client *c, uint32_t s, uint32_t *events, uint32_t *error)
{
    uint64_t t0 = now_ns();
    long err;
    while (!(err = socket_status(c, s, events, error)) && (*events & SOCKET_CONNECTING) &&
           now_ns() - t0 < 3000000000ull)
        pith_sleep_ns(5000000);
    return err;
}

static void remote(struct pith_client *c)
{
    uint32_t s, events = 0, error = 0, sent;
    uint8_t buf[SOCKET_RECV_DATA_MAX];
    uint64_t len;
    uint32_t addr;
    uint16_t port;
    socket_open(c, SOCKET_TCP, &s);
    check(socket_trysend(c, s, "x", 1, &sent) == SOCKET_E_NOT_CONNECTED, "nowait_trysend_unconnected", "no");
    check(socket_connect_begin(c, s, NODE_B, ECHO_PORT) == 0, "nowait_connect_begin", "refused");
    check(socket_connect_begin(c, s, NODE_B, ECHO_PORT) == SOCKET_E_BAD_STATE, "nowait_connect_begin_twice", "taken");
    long err = settled(c, s, &events, &error);
    check(!err && !error && (events & SOCKET_WRITABLE) && !(events & SOCKET_READABLE), "nowait_status_connected",
          "error %#lx, events %#x, connection error %#x", err, events, error);
    err = socket_trysend(c, s, "abc", 3, &sent);
    check(!err && sent == 3, "nowait_trysend", "error %#lx, sent %u", err, sent);
    err = socket_recv(c, s, 2000, buf, &len, &addr, &port);
    check(!err && len == 3 && !memcmp(buf, "abc", 3), "nowait_trysend_echoed", "error %#lx, %lu bytes", err, len);
    socket_close(c, s);

    socket_open(c, SOCKET_TCP, &s);
    check(socket_connect_begin(c, s, NODE_B, 9) == 0, "nowait_connect_begin_to_no_listener", "refused at once");
    err = settled(c, s, &events, &error);
    check(!err && error == SOCKET_E_REFUSED && (events & SOCKET_HANGUP), "nowait_status_refused",
          "error %#lx, events %#x, connection error %#x", err, events, error);
    socket_close(c, s);
    socket_open(c, SOCKET_TCP, &s);
    check(socket_connect_begin(c, s, SOCKET_IP(192, 168, 7, 7), 7) == SOCKET_E_UNREACHABLE,
          "nowait_connect_begin_unreachable", "no");
    socket_close(c, s);

    socket_open(c, SOCKET_UDP, &s);
    check(socket_trysend(c, s, "x", 1, &sent) == SOCKET_E_NOT_CONNECTED, "nowait_trysend_udp_unconnected", "no");
    check(!socket_status(c, s, &events, &error) && events == SOCKET_WRITABLE, "nowait_status_udp_idle",
          "events %#x", events);
    socket_connect_begin(c, s, NODE_B, ECHO_PORT);
    err = socket_trysend(c, s, "ping", 4, &sent);
    check(!err && sent == 4, "nowait_trysend_udp", "error %#lx", err);
    uint64_t t0 = now_ns();
    while (!socket_status(c, s, &events, &error) && !(events & SOCKET_READABLE) && now_ns() - t0 < 2000000000ull)
        pith_sleep_ns(5000000);
    check(events & SOCKET_READABLE, "nowait_status_udp_readable", "events %#x", events);
    socket_close(c, s);
    check(socket_status(c, s, &events, &error) == SOCKET_E_BAD_SOCKET &&
          socket_trysend(c, s, "x", 1, &sent) == SOCKET_E_BAD_SOCKET &&
          socket_connect_begin(c, s, NODE_B, 7) == SOCKET_E_BAD_SOCKET, "nowait_closed_socket_bad_socket", "taken");
}

/* 127.0.0.1: a whole handshake and an exchange, each over before the call returns. */
static void loopback(struct pith_client *c)
{
    uint32_t l, s, conn, addr, events = 0, error = 0, sent, rtt;
    uint16_t port;
    uint8_t buf[SOCKET_RECV_DATA_MAX];
    uint64_t len;
    const uint32_t lo = SOCKET_IP(127, 0, 0, 1);
    check(socket_ping(c, lo, 1000, &rtt) == 0, "loopback_ping", "no answer");
    socket_open(c, SOCKET_TCP, &l);
    socket_bind(c, l, lo, 6000);
    socket_listen(c, l, 2);
    socket_open(c, SOCKET_TCP, &s);
    long err = socket_connect_begin(c, s, lo, 6000);
    uint32_t lev = 0;
    socket_status(c, l, &lev, &error);
    check(!err && !socket_status(c, s, &events, &error) && !(events & SOCKET_CONNECTING) &&
          (events & SOCKET_WRITABLE) && (lev & SOCKET_READABLE), "loopback_handshake_done_at_once",
          "error %#lx, events %#x, listener %#x", err, events, lev);
    err = socket_accept(c, l, 0, &conn, &addr, &port);
    check(!err && addr == lo, "loopback_accept", "error %#lx, from %#x", err, addr);
    socket_trysend(c, s, "loop", 4, &sent);
    err = socket_recv(c, conn, 0, buf, &len, &addr, &port);
    check(!err && len == 4 && !memcmp(buf, "loop", 4), "loopback_data_at_once", "error %#lx, %lu bytes", err, len);
    socket_getsockname(c, s, &addr, &port);
    check(addr == lo, "loopback_local_address", "%#x", addr);
}

/* release closes every socket of ours (the loopback ones above included). */
static void release(struct pith_client *c)
{
    uint32_t a, b, closed = 0, events = 0, error = 0;
    socket_open(c, SOCKET_UDP, &a);
    socket_open(c, SOCKET_TCP, &b);
    check(socket_release(c, &closed) == 0 && closed >= 5, "release_closes_ours", "%u closed", closed);
    check(socket_status(c, a, &events, &error) == SOCKET_E_BAD_SOCKET &&
          socket_close(c, b) == SOCKET_E_BAD_SOCKET, "release_sockets_gone", "still there");
    check(socket_release(c, &closed) == 0 && closed == 0, "release_nothing_left", "%u closed", closed);
}

/* Whether notification n was signalled within ms (its word cleared). */
static bool signalled(uint64_t n, uint64_t ms)
{
    struct pith_msg m = { 0 };
    return pith_syscall_timed(PITH_SYS_RECV_TIMED, n, &m, 0, ms * 1000000ull) == PITH_OK;
}

/* watch: refusals; the notification signalled at once, on a connection and on data; release forgets it. */
static void watch(struct pith_client *c)
{
    uint64_t n = pith_object_new(PITH_OBJ_NOTIFICATION, 0), ep = pith_object_new(PITH_OBJ_ENDPOINT, 0);
    uint64_t ro = pith_slot_alloc();
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, ro, n, PITH_RIGHT_READ | PITH_RIGHT_GRANT, 0);
    check(socket_watch(c, ep) == SOCKET_E_BAD_ARGUMENT, "watch_refuses_an_endpoint", "taken");
    check(socket_watch(c, ro) == SOCKET_E_BAD_ARGUMENT, "watch_refuses_without_write", "taken");
    check(!signalled(n, 0), "watch_refused_not_signalled", "signalled");
    long err = socket_watch(c, n);
    check(!err && signalled(n, 1000), "watch_signalled_at_once", "error %#lx or no signal", err);
    const uint32_t lo = SOCKET_IP(127, 0, 0, 1);
    uint32_t l, s, conn, addr, sent;
    uint16_t port;
    uint8_t buf[SOCKET_RECV_DATA_MAX];
    uint64_t len;
    socket_open(c, SOCKET_TCP, &l);
    socket_bind(c, l, lo, 6001);
    socket_listen(c, l, 2);
    socket_open(c, SOCKET_TCP, &s);
    socket_connect_begin(c, s, lo, 6001);
    check(signalled(n, 1000), "watch_signalled_on_a_connection", "no signal");
    socket_accept(c, l, 0, &conn, &addr, &port);
    while (signalled(n, 20)) {}        /* acknowledgements may signal a little later: all taken */
    socket_trysend(c, s, "w", 1, &sent);
    check(signalled(n, 1000), "watch_signalled_on_data", "no signal");
    err = socket_recv(c, conn, 0, buf, &len, &addr, &port);
    check(!err && len == 1, "watch_data_there", "error %#lx, %lu bytes", err, len);
    uint32_t closed;
    socket_release(c, &closed);
    while (signalled(n, 20)) {}
    socket_open(c, SOCKET_TCP, &l);
    socket_bind(c, l, lo, 6002);
    socket_listen(c, l, 2);
    socket_open(c, SOCKET_TCP, &s);
    socket_connect_begin(c, s, lo, 6002);
    check(!signalled(n, 200), "watch_forgotten_by_release", "signalled");
    socket_release(c, &closed);
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, ro, 0, 0, 0);
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, ep, 0, 0, 0);
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, n, 0, 0, 0);
}

void nowait_checks(void)
{
    struct pith_client c;
    net_bind(&c);
    remote(&c);
    loopback(&c);
    release(&c);
    watch(&c);
}
