/*
 * netipctest (tests/system/netipc.sh): network IPC between three machines.
 * "peer" (node 2) puts a key into node 1's kv through /net/1/svc/kv and
 * answers UDP echo for the benchmark; "intruder" (node 3, whose key is
 * not the one node 2 knows) checks its calls to /net/2/svc/kv get nowhere
 * within the bound; "check" (node 1) calls node 2's kv through
 * /net/2/svc/kv with kv's own stubs, checks that node 2 called it, that a
 * capability is refused, that a call to a service node 2 stopped is told
 * so within the bound, that calls get through again after node 2's
 * network server is killed, measures the remote
 * call beside the raw UDP round trip, and finally has the script kill
 * node 2 in the middle of calls.  Lines "netipctest: PASS name" or
 * "netipctest: FAIL name: why", then "netipctest: N passed, N failed".
 */
#include "idl.h"
#include "kv.h"
#include "netsock.h"
#include "pith.h"
#include "process.h"
#include "procmgr.h"
#include "resolver.h"
#include "socket.h"
#include "thread.h"
#include "tls.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ECHO_PORT   7007
#define NODE_2      SOCKET_IP(10, 0, 0, 2)
#define SECOND      (1000ull * 1000 * 1000)
/* A remote call gives up after lib/netipc's deadline (3 s); allow for a slow emulator. */
#define BOUND_NS    (3 * SECOND + SECOND / 2)
#define BENCH_ITERS 200
/* How long a machine waits for the others to boot (slow under a loaded host). */
#define BOOT_WAIT_NS (300 * SECOND)

static int passed, failed;

static void check(bool ok, const char *name, const char *fmt, ...)
{
    char why[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (ok) {
        passed++;
        printf("netipctest: PASS %s\n", name);
    } else {
        failed++;
        printf("netipctest: FAIL %s: %s\n", name, why);
    }
}

static uint64_t now_ns(void)
{
    return pith_clock_ns((const struct pith_time_page *)pith_bootinfo->time_page);
}

static void bind_to(struct pith_client *c, const char *name)
{
    pith_client_init(c, name, &names_resolver, pith_slot_alloc(), pith_tls_self()->ipc_buffer);
}

/* Calls until the remote kv answers (its machine may still be starting); the error of the last try. */
static long wait_for(struct pith_client *c, uint64_t limit_ns)
{
    uint64_t start = now_ns();
    uint32_t keys;
    long err;
    while ((err = kv_count(c, &keys)) && now_ns() - start < limit_ns)
        pith_sleep_ns(SECOND / 2);
    return err;
}

/* ---- node 2 ---------------------------------------------------------------- */

static void *echo_main(void *arg)
{
    struct pith_client c;
    bind_to(&c, "/svc/net");
    uint32_t s;
    long err = socket_open(&c, SOCKET_UDP, &s);
    if (!err)
        err = socket_bind(&c, s, 0, ECHO_PORT);
    if (err) {
        printf("netipctest-peer: UDP echo cannot start (error %#lx)\n", err);
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

static long procmgr_itself(void *ctx, const char *name, uint64_t dest_slot)
{
    return pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, dest_slot, PITH_SLOT_PROCS, PITH_RIGHTS_ALL, 0);
}

static const struct pith_resolver boot_capability = { .lookup = procmgr_itself };

/* Node 1 asks (the key stop-kv in our kv) for our kv to be stopped a while: a remote service gone. */
static void stop_kv_when_asked(void)
{
    struct pith_client local, pm;
    bind_to(&local, "/svc/kv");
    pith_client_init(&pm, "procmgr", &boot_capability, pith_slot_alloc(), pith_tls_self()->ipc_buffer);
    uint8_t back[KV_GET_VALUE_MAX];
    uint64_t len;
    while (kv_get(&local, "stop-kv", back, &len))
        pith_sleep_ns(SECOND / 4);
    long err = procmgr_stop(&pm, "kv");
    printf("netipctest-peer: kv stopped (error %#lx)\n", err);
    pith_sleep_ns(6 * SECOND);
    err = procmgr_start(&pm, "kv");
    printf("netipctest-peer: kv started again (error %#lx)\n", err);
    /* Then (the key kill-net) our network server is killed: its sockets go, netipc must open its port again. */
    while (kv_get(&local, "kill-net", back, &len))
        pith_sleep_ns(SECOND / 4);
    err = procmgr_kill(&pm, "net");
    printf("netipctest-peer: network server killed (error %#lx)\n", err);
}

static _Noreturn void peer(void)
{
    pith_thread_t *t;
    if (pith_thread_create(&t, echo_main, NULL))
        printf("netipctest-peer: cannot start the echo thread\n");
    struct pith_client c;
    bind_to(&c, "/net/1/svc/kv");
    long err = wait_for(&c, BOOT_WAIT_NS);
    const char value[] = "hello from node 2";
    if (!err)
        err = kv_put(&c, "from-2", value, sizeof value);
    printf("netipctest-peer: put from-2 into node 1's kv: %s (error %#lx)\n", err ? "failed" : "done", err);
    stop_kv_when_asked();
    for (;;)
        pith_sleep_ns(10 * SECOND);
}

/* ---- node 1 ---------------------------------------------------------------- */

static void calls(struct pith_client *remote, struct pith_client *local)
{
    uint8_t value[KV_PUT_VALUE_MAX], back[KV_GET_VALUE_MAX];
    uint64_t len = 0;
    int64_t total = 0;
    char key[KV_PUT_KEY_MAX + 1];
    memset(key, 'k', KV_PUT_KEY_MAX);
    key[KV_PUT_KEY_MAX] = '\0';
    for (size_t i = 0; i < sizeof value; i++)
        value[i] = (uint8_t)(i * 13 + 1);
    /* The longest put kv has: a 32-byte key and a 64-byte value, in the IPC buffer. */
    long err = kv_put(remote, key, value, sizeof value);
    long err2 = err ? err : kv_get(remote, key, back, &len);
    check(!err2 && len == sizeof value && !memcmp(back, value, len), "remote_put_get_long",
          "put %#lx, get %#lx, %llu bytes", err, err2, (unsigned long long)len);
    err = kv_get(local, key, back, &len);
    check(err == KV_E_NOT_FOUND, "remote_is_not_local", "local get gave %#lx", err);
    err = kv_add(remote, "netipc-counter", 5, &total);
    err2 = err ? err : kv_add(remote, "netipc-counter", 7, &total);
    check(!err2 && total == 12, "remote_add_not_idempotent", "add %#lx %#lx, total %lld", err, err2,
          (long long)total);
    err = kv_get(remote, "no-such-key", back, &len);
    check(err == KV_E_NOT_FOUND, "remote_declared_error", "got %#lx", err);
    err = kv_remove(remote, key);
    err2 = kv_get(remote, key, back, &len);
    check(!err && err2 == KV_E_NOT_FOUND, "remote_remove", "remove %#lx, get after %#lx", err, err2);
}

/* A message carrying a capability is refused, with the interface-definition error for it. */
static void capability_refused(struct pith_client *remote)
{
    struct pith_ipc_buffer *buf = pith_tls_self()->ipc_buffer;
    struct pith_msg m = { .tag = PITH_TAG(PITH_IDL_LABEL(KV_VERSION, KV_COUNT), 0) | PITH_TAG_CAP };
    buf->send_cap = PITH_SLOT_TIME;
    long err = pith_call(remote->ep_slot, &m);
    buf->send_cap = 0;
    check(!err && PITH_TAG_LABEL(m.tag) == PITH_IDL_E_CAP, "capability_refused", "call %ld, label %#llx", err,
          (unsigned long long)PITH_TAG_LABEL(m.tag));
}

static void peer_called_us(struct pith_client *local)
{
    char back[KV_GET_VALUE_MAX + 1] = "";
    uint64_t len = 0, start = now_ns();
    long err;
    while ((err = kv_get(local, "from-2", back, &len)) == KV_E_NOT_FOUND && now_ns() - start < BOOT_WAIT_NS)
        pith_sleep_ns(SECOND / 4);
    check(!err && !strcmp(back, "hello from node 2"), "peer_called_our_kv", "get %#lx", err);
}

/* Node 3, with the wrong key (node 2 knows another): its handshakes are refused, its callers told within the bound. */
static void wrong_key(void)
{
    struct pith_client c;
    bind_to(&c, "/net/2/svc/kv");
    uint8_t back[KV_GET_VALUE_MAX];
    uint64_t len, start = now_ns();
    long err = kv_get(&c, "anything", back, &len);
    uint64_t took = now_ns() - start;
    printf("netipctest: wrong key: kv_get ended %#lx after %llu ms\n", err, (unsigned long long)(took / 1000000));
    check(err == PITH_IDL_E_NO_SERVER && took <= BOUND_NS, "wrong_key_refused_get", "error %#lx after %llu ms",
          err, (unsigned long long)(took / 1000000));
    int64_t total;
    pith_sleep_ns(3 * SECOND / 2);      /* past the fail-fast window: the network is tried again */
    start = now_ns();
    err = kv_add(&c, "anything", 1, &total);
    took = now_ns() - start;
    printf("netipctest: wrong key: kv_add ended %#lx after %llu ms\n", err, (unsigned long long)(took / 1000000));
    check(err == PITH_IDL_E_RESTARTED && took <= BOUND_NS, "wrong_key_refused_add", "error %#lx after %llu ms",
          err, (unsigned long long)(took / 1000000));
}

/* The remote service stopped (node 2 stops its kv when asked): a call is told, within the bound, then it is back. */
static void remote_service_stopped(struct pith_client *remote)
{
    long err = kv_put(remote, "stop-kv", "1", 1);
    check(!err, "remote_service_stop_asked", "put %#lx", err);
    uint64_t begin = now_ns(), start = begin, took = 0;
    int64_t total;
    int done = 0;
    while (!err && now_ns() - begin < 30 * SECOND) {
        start = now_ns();
        err = kv_add(remote, "netipc-counter", 1, &total);
        took = now_ns() - start;
        if (!err)
            done++;
        pith_sleep_ns(SECOND / 10);
    }
    printf("netipctest: service stopped: kv_add ended %#lx after %llu ms\n", err, (unsigned long long)(took / 1000000));
    check(err == PITH_IDL_E_RESTARTED && took <= BOUND_NS, "remote_service_stopped_reported",
          "after %d calls: error %#lx after %llu ms", done, err, (unsigned long long)(took / 1000000));
    err = wait_for(remote, 60 * SECOND);
    check(!err, "remote_service_back", "kv_count %#lx", err);
}

/* Waits until node 2's UDP echo answers; 0, or the last error. */
static long udp_echo_ready(uint64_t limit_ns)
{
    struct pith_client net;
    bind_to(&net, "/svc/net");
    uint32_t s, addr;
    uint16_t port;
    uint8_t back[SOCKET_RECV_DATA_MAX];
    uint64_t got, start = now_ns();
    long err = socket_open(&net, SOCKET_UDP, &s);
    while (!err) {
        err = socket_sendto(&net, s, NODE_2, ECHO_PORT, "up?", 3);
        if (!err)
            err = socket_recv(&net, s, 1000, back, &got, &addr, &port);
        if (!err || now_ns() - start > limit_ns)
            break;
        err = 0;
    }
    socket_close(&net, s);
    return err;
}

static int compare(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t report(const char *name, uint64_t *t, int n)
{
    qsort(t, (size_t)n, sizeof t[0], compare);
    printf("bench pith.%s median=%llu min=%llu max=%llu unit=ns iters=%d\n", name, (unsigned long long)t[n / 2],
           (unsigned long long)t[0], (unsigned long long)t[n - 1], n);
    return t[n / 2];
}

/*
 * The remote call's round trip beside the raw UDP round trip between the
 * same machines, same run: interleaved, one of each per iteration, so a
 * change in the host's load weighs on both alike.
 */
static void bench(struct pith_client *remote)
{
    static uint64_t udp_t[BENCH_ITERS], call_t[BENCH_ITERS];
    struct pith_client net;
    bind_to(&net, "/svc/net");
    uint32_t s, keys, addr;
    uint16_t port;
    uint8_t buf[64] = "ping", back[SOCKET_RECV_DATA_MAX];
    uint64_t got;
    long err = socket_open(&net, SOCKET_UDP, &s), cerr = 0;
    int n = 0;
    for (int i = 0; i < BENCH_ITERS + 20 && !err && !cerr; i++) {
        uint64_t start = now_ns();
        err = socket_sendto(&net, s, NODE_2, ECHO_PORT, buf, 48);
        if (!err)
            err = socket_recv(&net, s, 2000, back, &got, &addr, &port);
        uint64_t mid = now_ns();
        cerr = err ? 0 : kv_count(remote, &keys);
        if (!err && !cerr && i >= 20) {
            udp_t[n] = mid - start;
            call_t[n++] = now_ns() - mid;
        }
    }
    socket_close(&net, s);
    check(!err, "bench_udp", "error %#lx", err);
    check(!cerr, "bench_remote_call", "error %#lx", cerr);
    if (err || cerr)
        return;
    uint64_t udp = report("netipc_udp_rtt", udp_t, n), call = report("netipc_call_rtt", call_t, n);
    printf("# netipc remote kv_count / raw UDP round trip: %llu.%02llu (goal: at most 2)\n",
           (unsigned long long)(call / udp), (unsigned long long)(call * 100 / udp % 100));
}

/* Node 2's network server killed (its sockets go with it): calls get through again once it is back. */
static void remote_network_restarted(struct pith_client *remote)
{
    long err = kv_put(remote, "kill-net", "1", 1);
    check(!err, "remote_network_kill_asked", "put %#lx", err);
    pith_sleep_ns(2 * SECOND);
    uint64_t start = now_ns();
    err = wait_for(remote, 60 * SECOND);
    printf("netipctest: network server restarted: calls through again after %llu ms\n",
           (unsigned long long)((now_ns() - start) / 1000000));
    check(!err, "remote_network_server_restarted", "kv_count %#lx", err);
}

/* The script kills node 2's machine when it reads the line; a call under way must end within the bound. */
static void node_killed(struct pith_client *remote)
{
    printf("netipctest: kill node 2 now\n");
    uint64_t begin = now_ns(), start = begin, took = 0;
    int64_t total;
    long err = 0;
    int done = 0;
    while (now_ns() - begin < 60 * SECOND) {
        start = now_ns();
        err = kv_add(remote, "netipc-counter", 1, &total);
        took = now_ns() - start;
        if (err)
            break;
        done++;
    }
    printf("netipctest: node killed: kv_add ended %#lx after %llu ms\n", err, (unsigned long long)(took / 1000000));
    check(err == PITH_IDL_E_RESTARTED && took <= BOUND_NS, "node_killed_mid_call_reported",
          "after %d calls: error %#lx after %llu ms", done, err, (unsigned long long)(took / 1000000));
    /* While it is down, an idempotent call is told at once (NO_SERVER), not after another timeout each. */
    start = now_ns();
    uint32_t keys;
    err = kv_count(remote, &keys);
    took = now_ns() - start;
    printf("netipctest: node down: kv_count ended %#lx after %llu ms\n", err, (unsigned long long)(took / 1000000));
    check(err == PITH_IDL_E_NO_SERVER && took <= BOUND_NS, "dead_node_idempotent_call", "error %#lx after %llu ms",
          err, (unsigned long long)(took / 1000000));
}

int main(void)
{
    if (strstr(pith_bootinfo->cmdline, " peer"))
        peer();
    if (strstr(pith_bootinfo->cmdline, " intruder")) {
        /* Node 2 must be up (its UDP echo answers) for a refusal to mean anything. */
        long err = udp_echo_ready(BOOT_WAIT_NS);
        check(!err, "intruder_sees_node_2", "UDP echo of node 2: %#lx", err);
        if (!err)
            wrong_key();
        printf("netipctest: %d passed, %d failed\n", passed, failed);
        return failed != 0;
    }
    struct pith_client remote, local;
    bind_to(&remote, "/net/2/svc/kv");
    bind_to(&local, "/svc/kv");
    long err = wait_for(&remote, BOOT_WAIT_NS);
    check(!err, "remote_reachable", "kv_count through /net/2/svc/kv: %#lx", err);
    if (!err) {
        calls(&remote, &local);
        capability_refused(&remote);
        peer_called_us(&local);
        remote_service_stopped(&remote);
        bench(&remote);
        remote_network_restarted(&remote);
        node_killed(&remote);
    }
    printf("netipctest: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
