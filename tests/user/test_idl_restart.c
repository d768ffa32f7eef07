/*
 * Client recovery: the key-value server (servers/kv/) is killed and
 * restarted while clients issue numbered requests through generated
 * stubs.  Idempotent requests (put) complete exactly once from the
 * client's view; non-idempotent ones (add) caught by a death report
 * PITH_IDL_E_RESTARTED; and the table, which each incarnation inherits,
 * agrees with exactly the requests that completed.
 */
#include "idltest.h"
#include "kvstore.h"
#include "lib/string.h"

#define CLIENTS  2
#define REQUESTS 24             /* per client: even numbers put, odd numbers add */

static struct kv_store store;   /* outlives every incarnation of the server */
static struct kv_handlers faulty;
static struct pith_server srv;
static uint64_t srv_tcb, hung;
/* This incarnation hangs in its nth put or add (0: never), before the handler changes anything. */
static volatile int hang_put, hang_add, puts_seen, adds_seen;
/* How often the table took each request: must be once for those that completed, never for the others. */
static volatile int applied[CLIENTS][REQUESTS];

static void hang(void)
{
    pith_signal(hung);
    for (;;)
        pith_sleep_ns(1000000000000ull);        /* until the supervisor deletes this thread */
}

static long faulty_put(void *ctx, const char *key, const uint8_t *value, uint64_t len)
{
    if (++puts_seen == hang_put)
        hang();
    long err = kv_store_handlers.put(ctx, key, value, len);
    if (!err && len == 2 && value[0] < CLIENTS && value[1] < REQUESTS)
        applied[value[0]][value[1]]++;
    return err;
}

/* An add's delta names its request: client << 8 | number, plus one so it is never 0. */
static long faulty_add(void *ctx, const char *key, int64_t delta, int64_t *total)
{
    if (++adds_seen == hang_add)
        hang();
    long err = kv_store_handlers.add(ctx, key, delta, total);
    uint64_t id = (uint64_t)(delta - 1) >> 8, n = (uint64_t)(delta - 1) & 0xff;
    if (!err && id < CLIENTS && n < REQUESTS)
        applied[id][n]++;
    return err;
}

static void server_thread(uint64_t unused)
{
    srv.buf = thread_buffer();
    kv_serve(&srv, &faulty, &store);
}

static void start_server(int put_n, int add_n)
{
    hang_put = put_n;
    hang_add = add_n;
    puts_seen = adds_seen = 0;
    srv.ep = make_object(PITH_OBJ_ENDPOINT, 0);
    srv.reply = make_object(PITH_OBJ_REPLY, 0);
    srv_tcb = make_thread(server_thread, 0, 150);
    pith_invoke4(srv_tcb, PITH_TCB_RESUME, 0, 0, 0, 0);
    registry_set("kv", srv.ep);
}

/* As a crash would: the name goes, the endpoint and every copy of it, then the thread. */
static void kill_server(void)
{
    registry_set("kv", 0);
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE, srv.ep, 0, 0, 0);
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, srv.ep, 0, 0, 0);    /* queued callers: CANCELLED */
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, srv_tcb, 0, 0, 0);   /* the held call: PEER_DIED */
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, srv.reply, 0, 0, 0);
}

static struct pith_client clients[CLIENTS];
static volatile long results[CLIENTS][REQUESTS];
static volatile int64_t totals[CLIENTS][REQUESTS];
static volatile int done[CLIENTS];

static void key_of(char *key, uint64_t id, int n)
{
    memcpy(key, "c0-k00", 7);
    key[1] = (char)('0' + id);
    key[4] = (char)('0' + n / 10);
    key[5] = (char)('0' + n % 10);
}

static void client_thread(uint64_t id)
{
    struct pith_client *c = &clients[id];
    pith_client_init(c, "kv", &test_registry, pith_slot_alloc(), thread_buffer());
    char sum_key[] = "c0-sum";
    sum_key[1] = (char)('0' + id);
    for (int n = 0; n < REQUESTS; n++) {
        if (n % 2 == 0) {
            char key[8];
            key_of(key, id, n);
            uint8_t value[2] = { (uint8_t)id, (uint8_t)n };
            results[id][n] = kv_put(c, key, value, sizeof value);
        } else {
            int64_t total = 0;
            results[id][n] = kv_add(c, sum_key, (int64_t)(id << 8 | (uint64_t)n) + 1, &total);
            totals[id][n] = total;
        }
    }
    done[id] = 1;
}

UTEST(idl_server_restarted_mid_stream)
{
    hung = make_object(PITH_OBJ_NOTIFICATION, 0);
    memset(&store, 0, sizeof store);
    faulty = kv_store_handlers;
    faulty.put = faulty_put;
    faulty.add = faulty_add;
    start_server(3, 0);                 /* the first incarnation dies in its third put */
    for (uint64_t id = 0; id < CLIENTS; id++) {
        uint64_t t = make_thread(client_thread, id, 120);
        UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    }
    /* The clients and the server run above us; we get the CPU when the server hangs. */
    struct pith_msg m = { 0 };
    UT_EQ(pith_syscall_timed(PITH_SYS_RECV_TIMED, hung, &m, 0, 2000000000ull), PITH_OK);
    kill_server();
    start_server(0, 4);                 /* the second dies in its fourth add */
    UT_EQ(pith_syscall_timed(PITH_SYS_RECV_TIMED, hung, &m, 0, 2000000000ull), PITH_OK);
    kill_server();
    start_server(0, 0);
    for (int i = 0; i < 2000 && !(done[0] && done[1]); i++)
        pith_sleep_ns(1000000);
    UT_ASSERT(done[0] && done[1]);

    int restarted = 0;
    uint64_t rebinds = 0;
    uint32_t keys_expected = 0, keys = 0;
    static struct pith_client checker;
    pith_client_init(&checker, "kv", &test_registry, pith_slot_alloc(), (struct pith_ipc_buffer *)PITH_IPC_BUFFER_ADDR);
    for (uint64_t id = 0; id < CLIENTS; id++) {
        int64_t sum = 0;
        UT_ASSERT(clients[id].rebinds >= 1);    /* each client saw at least one death */
        for (int n = 0; n < REQUESTS; n++) {
            if (n % 2 == 0) {
                /* Every put completed, and the table took it once, however often it was sent. */
                UT_EQ(results[id][n], PITH_OK);
                UT_EQ(applied[id][n], 1);
                char key[8];
                uint8_t value[KV_GET_VALUE_MAX];
                uint64_t len = 0;
                key_of(key, id, n);
                UT_EQ(kv_get(&checker, key, value, &len), PITH_OK);
                UT_EQ(len, 2);
                UT_EQ(value[0], id);
                UT_EQ(value[1], n);
                keys_expected++;
            } else if (results[id][n] == PITH_OK) {
                /* A completed add happened once, and its total counts exactly the adds before it that completed. */
                UT_EQ(applied[id][n], 1);
                sum += (int64_t)(id << 8 | (uint64_t)n) + 1;
                UT_EQ(totals[id][n], sum);
            } else {
                UT_EQ(results[id][n], PITH_IDL_E_RESTARTED);
                UT_EQ(applied[id][n], 0);
                restarted++;
            }
        }
        char sum_key[] = "c0-sum";
        sum_key[1] = (char)('0' + id);
        union { uint8_t bytes[KV_GET_VALUE_MAX]; int64_t n; } counter = { .n = -1 };
        uint64_t len = 0;
        long err = kv_get(&checker, sum_key, counter.bytes, &len);
        if (sum) {
            UT_EQ(err, PITH_OK);
            UT_EQ(len, 8);
            UT_EQ(counter.n, sum);
            keys_expected++;
        } else {
            UT_EQ(err, KV_E_NOT_FOUND);
        }
        rebinds += clients[id].rebinds;
    }
    UT_EQ(kv_count(&checker, &keys), PITH_OK);
    UT_EQ(keys, keys_expected);
    UT_ASSERT(restarted >= 1);          /* the add the second incarnation died in */
    UT_ASSERT(rebinds >= 2);
    kill_server();
}

/* A client whose capability was revoked while it was idle: the request never went out, so even an add is sent again. */
UTEST(idl_stale_capability_retried_even_when_not_idempotent)
{
    faulty = kv_store_handlers;
    memset(&store, 0, sizeof store);
    start_server(0, 0);
    static struct pith_client c;
    pith_client_init(&c, "kv", &test_registry, pith_slot_alloc(), (struct pith_ipc_buffer *)PITH_IPC_BUFFER_ADDR);
    int64_t total = 0;
    UT_EQ(kv_add(&c, "n", 5, &total), PITH_OK);
    kill_server();
    start_server(0, 0);
    UT_EQ(kv_add(&c, "n", 6, &total), PITH_OK);
    UT_EQ(total, 11);
    UT_EQ(c.rebinds, 1);
    kill_server();
}
