// uses: lib/netipc/session.c lib/netipc/calls.c lib/netipc/crypto.c lib/bearssl/src/ec/ec_c25519_m31.c lib/bearssl/src/symcipher/chacha20_ct.c lib/bearssl/src/symcipher/poly1305_ctmul.c lib/bearssl/src/kdf/hkdf.c lib/bearssl/src/mac/hmac.c lib/bearssl/src/hash/sha2small.c lib/bearssl/src/codec/ccopy.c lib/bearssl/src/codec/dec32be.c lib/bearssl/src/codec/enc32be.c lib/bearssl/src/codec/dec32le.c lib/bearssl/src/codec/enc32le.c
/*
 * Network IPC's transport (lib/netipc/) between simulated nodes: frames
 * go through a queue the tests drop, corrupt, hold, repeat and reorder.
 * Handshake, both directions, wrong keys, tampered, replayed, truncated
 * and malformed frames (each dropped and counted), long messages, loss
 * and retransmission with each request run once, the bounded timeout, a
 * restarted peer, full tables, and the API's refusals.
 */
#include "harness.h"
#include "netipc.h"
#include "crypto.h"

#include <string.h>

#define MS (1000ull * 1000)

/* ---- a small network ---------------------------------------------------- */

struct node {
    struct netipc n;
    struct netipc_peer peers[2];
    uint64_t rng;
    int requests;                   /* requests that reached the server side */
    uint64_t last_id;
    struct netipc_peer *last_peer;
    uint8_t last_req[NETIPC_MSG_MAX];
    size_t last_req_len;
    int answer;                     /* answer requests at once: with the request reversed */
    int replies, last_status;       /* calls ended, and how */
    uint8_t last_rep[NETIPC_MSG_MAX];
    size_t last_rep_len;
    void *last_cookie;
    uint64_t replied_at;            /* the clock when the last call ended */
};

struct frame {
    struct node *to;
    uint8_t b[NETIPC_FRAME_MAX];
    size_t len;
};

#define QMAX 256
static struct frame queue[QMAX];
static int queued;
static uint64_t now;

static void net_reset(void)
{
    queued = 0;
    now = 1000 * MS;
}

static void on_send(void *ctx, struct netipc_peer *p, const uint8_t *f, size_t len)
{
    (void)ctx;
    if (queued == QMAX) {
        fprintf(stderr, "test network: queue full\n");
        exit(2);
    }
    queue[queued].to = p->addr;
    memcpy(queue[queued].b, f, len);
    queue[queued].len = len;
    queued++;
}

static void on_random(void *ctx, uint8_t *buf, size_t len)
{
    struct node *nd = ctx;
    for (size_t i = 0; i < len; i++) {
        nd->rng ^= nd->rng << 13;
        nd->rng ^= nd->rng >> 7;
        nd->rng ^= nd->rng << 17;
        buf[i] = (uint8_t)nd->rng;
    }
}

static void on_request(void *ctx, struct netipc_peer *p, uint64_t id, const uint8_t *msg, size_t len)
{
    struct node *nd = ctx;
    nd->requests++;
    nd->last_id = id;
    nd->last_peer = p;
    memcpy(nd->last_req, msg, len);
    nd->last_req_len = len;
    if (nd->answer) {
        uint8_t rev[NETIPC_MSG_MAX];
        for (size_t i = 0; i < len; i++)
            rev[i] = msg[len - 1 - i];
        if (netipc_reply(&nd->n, p, id, rev, len) != NETIPC_OK) {
            fprintf(stderr, "test network: reply refused\n");
            exit(2);
        }
    }
}

static void on_reply(void *ctx, void *cookie, int status, const uint8_t *msg, size_t len)
{
    struct node *nd = ctx;
    nd->replies++;
    nd->last_status = status;
    nd->last_cookie = cookie;
    nd->replied_at = now;
    if (msg)
        memcpy(nd->last_rep, msg, len);
    nd->last_rep_len = len;
}

static void secret_of(uint8_t s[32], uint64_t node)
{
    for (int i = 0; i < 32; i++)
        s[i] = (uint8_t)(node * 37 + i * 11 + 1);
}

/* Node `id` knowing peers a and b (0: none) by their true keys; wall clock base `wall`. */
static void node_init(struct node *nd, uint64_t id, uint64_t wall, struct node *a, uint64_t a_id,
                      struct node *b, uint64_t b_id)
{
    memset(nd, 0, sizeof *nd);
    nd->rng = 0x9e3779b97f4a7c15ull * (id + wall);
    nd->answer = 1;
    struct netipc_config cfg = { .node = id, .wall_base = wall, .ctx = nd, .send = on_send,
                                 .random = on_random, .request = on_request, .reply = on_reply };
    secret_of(cfg.secret_key, id);
    uint8_t s[32];
    size_t count = 0;
    if (a) {
        nd->peers[count].node = a_id;
        secret_of(s, a_id);
        netipc_public_key(nd->peers[count].public_key, s);
        nd->peers[count++].addr = a;
    }
    if (b) {
        nd->peers[count].node = b_id;
        secret_of(s, b_id);
        netipc_public_key(nd->peers[count].public_key, s);
        nd->peers[count++].addr = b;
    }
    if (netipc_init(&nd->n, &cfg, nd->peers, count, now) != NETIPC_OK) {
        fprintf(stderr, "test network: init refused\n");
        exit(2);
    }
}

/* Decides each frame's fate: 0 deliver, 1 drop. */
typedef int (*filter_fn)(struct frame *f);

/* Delivers everything queued (and what that sends) through the filter; returns frames delivered. */
static int deliver(filter_fn filter)
{
    int delivered = 0;
    while (queued) {
        struct frame f = queue[0];
        memmove(queue, queue + 1, (size_t)(queued - 1) * sizeof queue[0]);
        queued--;
        if (filter && filter(&f))
            continue;
        netipc_input(&f.to->n, f.b, f.len, now);
        delivered++;
    }
    return delivered;
}

/* Advances the clock to the nodes' next deadline (at most `limit` ahead) and polls them. */
static void tick(struct node **nodes, int count, filter_fn filter, uint64_t limit)
{
    uint64_t next = UINT64_MAX;
    for (int i = 0; i < count; i++) {
        uint64_t t = netipc_poll(&nodes[i]->n, now);
        next = t < next ? t : next;
    }
    deliver(filter);
    if (next == UINT64_MAX || next > now + limit)
        next = now + limit;
    now = next > now ? next : now + 1;
}

static struct node A, B, C;

/* A (node 1) and B (node 2) know each other. */
static void pair(void)
{
    net_reset();
    node_init(&A, 1, 5000 * MS, &B, 2, NULL, 0);
    node_init(&B, 2, 7000 * MS, &A, 1, NULL, 0);
}

static uint64_t drops(const struct netipc_counters *c)
{
    return c->malformed + c->unknown_peer + c->unknown_conn + c->auth_failed + c->replayed + c->stale + c->busy;
}

/* ---- the primitives ----------------------------------------------------- */

static void hex(uint8_t *out, const char *s)
{
    for (int i = 0; s[2 * i]; i++) {
        unsigned v;
        sscanf(s + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

TEST(x25519_matches_rfc7748)
{
    uint8_t a[32], b[32], ap[32], bp[32], want_ap[32], want_bp[32], want[32], k1[32], k2[32];
    hex(a, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    hex(b, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    hex(want_ap, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    hex(want_bp, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    hex(want, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    nc_x25519_public(ap, a);
    nc_x25519_public(bp, b);
    CHECK(!memcmp(ap, want_ap, 32));
    CHECK(!memcmp(bp, want_bp, 32));
    CHECK(nc_x25519(k1, a, bp));
    CHECK(nc_x25519(k2, b, ap));
    CHECK(!memcmp(k1, want, 32));
    CHECK(!memcmp(k2, want, 32));
    /* A low-order point (zero) gives an all-zero secret: refused. */
    uint8_t zero[32] = { 0 };
    CHECK(!nc_x25519(k1, a, zero));
}

TEST(aead_opens_only_what_was_sealed)
{
    uint8_t key[32], data[40], orig[40], tag[16], ad[8] = "header!";
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)i;
    for (int i = 0; i < 40; i++)
        orig[i] = data[i] = (uint8_t)(i * 3);
    nc_seal(key, 7, ad, sizeof ad, data, sizeof data, tag);
    CHECK(memcmp(data, orig, sizeof data));
    uint8_t sealed[40];
    memcpy(sealed, data, sizeof data);
    /* Wrong nonce, changed data, changed tag, changed associated data: refused, data as it came. */
    CHECK(!nc_open(key, 8, ad, sizeof ad, data, sizeof data, tag));
    CHECK(!memcmp(data, sealed, sizeof data));
    data[5] ^= 1;
    CHECK(!nc_open(key, 7, ad, sizeof ad, data, sizeof data, tag));
    data[5] ^= 1;
    tag[15] ^= 0x80;
    CHECK(!nc_open(key, 7, ad, sizeof ad, data, sizeof data, tag));
    tag[15] ^= 0x80;
    ad[0] ^= 1;
    CHECK(!nc_open(key, 7, ad, sizeof ad, data, sizeof data, tag));
    ad[0] ^= 1;
    CHECK(!memcmp(data, sealed, sizeof data));
    CHECK(nc_open(key, 7, ad, sizeof ad, data, sizeof data, tag));
    CHECK(!memcmp(data, orig, sizeof data));
}

/* ---- handshake and calls ------------------------------------------------ */

TEST(handshake_then_call_and_reply)
{
    pair();
    struct node *all[] = { &A, &B };
    const uint8_t req[] = "get counter";
    CHECK_EQ(netipc_call(&A.n, netipc_peer(&A.n, 2), req, sizeof req, (void *)0x1234, now), NETIPC_OK);
    CHECK_EQ(queued, 1);                        /* the hello */
    CHECK_EQ(queue[0].b[1], NETIPC_HELLO);
    deliver(NULL);
    CHECK_EQ(B.requests, 1);
    CHECK_EQ(B.last_req_len, sizeof req);
    CHECK(!memcmp(B.last_req, req, sizeof req));
    CHECK_EQ(A.replies, 1);
    CHECK_EQ(A.last_status, NETIPC_OK);
    CHECK(A.last_cookie == (void *)0x1234);
    CHECK_EQ(A.last_rep_len, sizeof req);
    CHECK_EQ(A.last_rep[0], req[sizeof req - 1]);
    CHECK_EQ(A.n.counters.handshakes, 1);
    CHECK_EQ(B.n.counters.handshakes, 1);
    CHECK_EQ(drops(&A.n.counters) + drops(&B.n.counters), 0);
    /* A second call uses the session: one frame out, one back. */
    CHECK_EQ(netipc_call(&A.n, netipc_peer(&A.n, 2), req, 3, NULL, now), NETIPC_OK);
    CHECK_EQ(queued, 1);
    CHECK_EQ(queue[0].b[1], NETIPC_DATA);
    CHECK_EQ(deliver(NULL), 2);
    CHECK_EQ(A.replies, 2);
    CHECK_EQ(A.n.counters.handshakes, 1);
    /* Nothing due any more: poll says so and sends nothing. */
    CHECK_EQ(netipc_poll(&A.n, now), UINT64_MAX);
    tick(all, 2, NULL, 10 * MS);
    CHECK_EQ(queued, 0);
}

TEST(both_call_each_other_at_once)
{
    pair();
    const uint8_t ra[] = "from A", rb[] = "from B, longer";
    CHECK_EQ(netipc_call(&A.n, netipc_peer(&A.n, 2), ra, sizeof ra, NULL, now), NETIPC_OK);
    CHECK_EQ(netipc_call(&B.n, netipc_peer(&B.n, 1), rb, sizeof rb, NULL, now), NETIPC_OK);
    CHECK_EQ(queued, 2);                        /* two hellos cross */
    deliver(NULL);
    CHECK_EQ(A.replies, 1);
    CHECK_EQ(B.replies, 1);
    CHECK_EQ(A.last_status, NETIPC_OK);
    CHECK_EQ(B.last_status, NETIPC_OK);
    CHECK_EQ(A.requests, 1);
    CHECK_EQ(B.requests, 1);
    CHECK(!memcmp(A.last_req, rb, sizeof rb));
    CHECK(!memcmp(B.last_req, ra, sizeof ra));
    /* One session: the lower node's handshake went on, B's gave way. */
    CHECK_EQ(A.n.counters.handshakes, 1);
    CHECK_EQ(B.n.counters.handshakes, 1);
    CHECK_EQ(drops(&A.n.counters) + drops(&B.n.counters), 0);
}

TEST(long_messages_travel_in_fragments)
{
    pair();
    uint8_t big[NETIPC_MSG_MAX];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7 + 3);
    size_t lens[] = { NETIPC_MSG_MAX, NETIPC_FRAG_DATA, NETIPC_FRAG_DATA + 1, 0, 1 };
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        int before = A.replies;
        CHECK_EQ(netipc_call(&A.n, netipc_peer(&A.n, 2), big, lens[k], NULL, now), NETIPC_OK);
        deliver(NULL);
        CHECK_EQ(A.replies, before + 1);
        CHECK_EQ(A.last_status, NETIPC_OK);
        CHECK_EQ(B.last_req_len, lens[k]);
        CHECK(!memcmp(B.last_req, big, lens[k]));
        CHECK_EQ(A.last_rep_len, lens[k]);
        for (size_t i = 0; i < lens[k]; i++)
            CHECK_EQ(A.last_rep[i], big[lens[k] - 1 - i]);
    }
    /* Three frames each way for the longest. */
    CHECK_EQ(netipc_call(&A.n, netipc_peer(&A.n, 2), big, NETIPC_MSG_MAX, NULL, now), NETIPC_OK);
    CHECK_EQ(queued, NETIPC_FRAGS_MAX);
    CHECK_EQ(deliver(NULL), 2 * NETIPC_FRAGS_MAX);
    CHECK_EQ(netipc_call(&A.n, netipc_peer(&A.n, 2), big, NETIPC_MSG_MAX + 1, NULL, now), NETIPC_E_TOO_LONG);
    CHECK_EQ(queued, 0);
    CHECK_EQ(drops(&A.n.counters) + drops(&B.n.counters), 0);
}

/* ---- refusals ----------------------------------------------------------- */

TEST(wrong_key_is_refused_and_counted)
{
    pair();
    struct node *all[] = { &A, &B, &C };
    /* C claims to be node 1 but has another secret: B knows node 1's real key. */
    node_init(&C, 3, 9000 * MS, &B, 2, NULL, 0);
    struct netipc_config cfg = C.n.cfg;
    cfg.node = 1;
    struct netipc_peer cp = { .node = 2, .addr = &B };
    memcpy(cp.public_key, C.peers[0].public_key, 32);
    C.peers[0] = cp;
    CHECK_EQ(netipc_init(&C.n, &cfg, C.peers, 1, now), NETIPC_OK);
    const uint8_t req[] = "let me in";
    CHECK_EQ(netipc_call(&C.n, netipc_peer(&C.n, 2), req, sizeof req, NULL, now), NETIPC_OK);
    uint64_t start = now;
    while (C.replies == 0 && now < start + 10000 * MS)
        tick(all, 3, NULL, 1000 * MS);
    CHECK_EQ(C.replies, 1);
    CHECK_EQ(C.last_status, NETIPC_E_UNREACHABLE);
    CHECK_EQ(C.replied_at, start + NETIPC_CALL_TIMEOUT_NS);
    CHECK_EQ(B.requests, 0);
    CHECK(B.n.counters.auth_failed >= 3);       /* every hello it sent again */
    CHECK_EQ(B.n.counters.handshakes, 0);
    /* A node B does not know at all: counted apart. */
    node_init(&C, 3, 9000 * MS, &B, 2, NULL, 0);
    CHECK_EQ(netipc_call(&C.n, netipc_peer(&C.n, 2), req, sizeof req, NULL, now), NETIPC_OK);
    deliver(NULL);
    CHECK_EQ(B.n.counters.unknown_peer, 1);
    CHECK_EQ(B.requests, 0);
    /* The real node 1 still gets in. */
    CHECK_EQ(netipc_call(&A.n, netipc_peer(&A.n, 2), req, sizeof req, NULL, now), NETIPC_OK);
    deliver(NULL);
    CHECK_EQ(A.last_status, NETIPC_OK);
    CHECK_EQ(B.requests, 1);
}

/* The frame the tamper filter changes, and how. */
static int tamper_at, tampered;

static int tamper(struct frame *f)
{
    if (!tampered && f->b[1] == NETIPC_DATA && tamper_at < (int)f->len) {
        f->b[tamper_at] ^= 0x20;
        tampered = 1;
    }
    return 0;
}

TEST(tampered_frames_are_dropped_and_counted)
{
    pair();
    struct node *all[] = { &A, &B };
    const uint8_t req[] = "tamper with me";
    CHECK_EQ(netipc_call(&A.n, netipc_peer(&A.n, 2), req, sizeof req, NULL, now), NETIPC_OK);
    deliver(NULL);
    /* The header (connection number aside), the sealed body and the tag. */
    int places[] = { 9, NETIPC_HDR_LEN + 1, NETIPC_HDR_LEN + NETIPC_INNER_LEN + 2, -1 };
    for (int k = 0; k < 4; k++) {
        int requests = B.requests, replies = A.replies;
        uint64_t auth = B.n.counters.auth_failed;
        CHECK_EQ(netipc_call(&A.n, netipc_peer(&A.n, 2), req, sizeof req, NULL, now), NETIPC_OK);
        CHECK_EQ(queued, 1);
        tamper_at = places[k] >= 0 ? places[k] : (int)queue[0].len - 1;
        tampered = 0;
        deliver(tamper);
        CHECK_EQ(B.n.counters.auth_failed, auth + 1);
        CHECK_EQ(B.requests, requests);
        /* The retransmission gets through, and the request runs once. */
        while (A.replies == replies)
            tick(all, 2, NULL, 100 * MS);
        CHECK_EQ(A.last_status, NETIPC_OK);
        CHECK_EQ(B.requests, requests + 1);
    }
    /* A tampered hello: auth failure, then the handshake goes on. */
    pair();
    CHECK_EQ(netipc_call(&A.n, netipc_peer(&A.n, 2), req, sizeof req, NULL, now), NETIPC_OK);
    queue[0].b[NETIPC_HDR_LEN + 40] ^= 1;
    deliver(NULL);
    CHECK_EQ(B.n.counters.auth_failed, 1);
    while (A.replies == 0)
        tick(all, 2, NULL, 100 * MS);
    CHECK_EQ(A.last_status, NETIPC_OK);
    /* A frame for another connection number: not ours. */
    CHECK_EQ(netipc_call(&A.n, netipc_peer(&A.n, 2), req, sizeof req, NULL, now), NETIPC_OK);
    queue[0].b[5] ^= 1;
    deliver(NULL);
    CHECK_EQ(B.n.counters.unknown_conn, 1);
}

TEST(replayed_frames_are_dropped_and_counted)
{
    pair();
    const uint8_t req[] = "once only";
    CHECK_EQ(netipc_call(&A.n, netipc_peer(&A.n, 2), req, sizeof req, NULL, now), NETIPC_OK);
    struct frame hello = queue[0];
    deliver(NULL);
    CHECK_EQ(netipc_call(&A.n, netipc_peer(&A.n, 2), req, sizeof req, NULL, now), NETIPC_OK);
    struct frame data = queue[0];
    deliver(NULL);
    CHECK_EQ(B.requests, 2);
    /* The same data frame again: a replay. */
    netipc_input(&B.n, data.b, data.len, now);
    CHECK_EQ(B.n.counters.replayed, 1);
    CHECK_EQ(queued, 0);
    /* The hello of the session again: answered with the same welcome, no new session. */
    netipc_input(&B.n, hello.b, hello.len, now);
    CHECK_EQ(B.n.counters.replayed, 1);
    CHECK_EQ(B.n.counters.handshakes, 1);
    CHECK_EQ(queued, 1);
    CHECK_EQ(queue[0].b[1], NETIPC_WELCOME);
    deliver(NULL);
    CHECK_EQ(A.n.counters.unknown_conn, 1);     /* A has its session already */
    CHECK_EQ(netipc_call(&A.n, netipc_peer(&A.n, 2), req, sizeof req, NULL, now), NETIPC_OK);
    deliver(NULL);
    CHECK_EQ(B.requests, 3);
    /* Once A has made a newer session (it restarted), the old hello is a replay. */
    now += 1000 * MS;
    node_init(&A, 1, 5000 * MS, &B, 2, NULL, 0);
    CHECK_EQ(netipc_call(&A.n, netipc_peer(&A.n, 2), req, sizeof req, NULL, now), NETIPC_OK);
    deliver(NULL);
    CHECK_EQ(A.last_status, NETIPC_OK);
    CHECK_EQ(B.n.counters.handshakes, 2);
    netipc_input(&B.n, hello.b, hello.len, now);
    CHECK_EQ(B.n.counters.replayed, 2);
    CHECK_EQ(queued, 0);
    CHECK_EQ(B.requests, 4);
    /* Out of order within the window is fine; behind the window is a replay. */
    struct frame held[NETIPC_WINDOW + 2];
    for (int i = 0; i < NETIPC_WINDOW + 2; i++) {
        CHECK_EQ(netipc_call(&A.n, netipc_peer(&A.n, 2), req, 1, NULL, now), NETIPC_OK);
        held[i] = queue[0];
        queued = 0;
        /* The call's slot is needed again: end it by its reply. */
        A.n.peers[0].calls[0].state = 0;
    }
    netipc_input(&B.n, held[NETIPC_WINDOW + 1].b, held[NETIPC_WINDOW + 1].len, now);
    netipc_input(&B.n, held[2].b, held[2].len, now);    /* 63 behind: inside */
    netipc_input(&B.n, held[0].b, held[0].len, now);    /* 65 behind: outside */
    netipc_input(&B.n, held[2].b, held[2].len, now);    /* again */
    CHECK_EQ(B.n.counters.replayed, 4);
    /* The one inside the window passed it, but its call is older than the caller's watermark. */
    CHECK_EQ(B.n.counters.stale, 1);
    CHECK_EQ(B.requests, 5);
}

TEST(truncated_and_malformed_frames_are_dropped_and_counted)
{
    pair();
    const uint8_t req[] = "shape";
    CHECK_EQ(netipc_call(&A.n, netipc_peer(&A.n, 2), req, sizeof req, NULL, now), NETIPC_OK);
    struct frame hello = queue[0];
    deliver(NULL);
    CHECK_EQ(netipc_call(&A.n, netipc_peer(&A.n, 2), req, sizeof req, NULL, now), NETIPC_OK);
    struct frame data = queue[0];
    queued = 0;
    uint8_t f[NETIPC_FRAME_MAX + 8];
    uint64_t before = B.n.counters.malformed;
    int cases = 0;
    /* Too short for a header; a header alone; data cut short of its tag; one byte short. */
    size_t cuts[] = { 0, 1, NETIPC_HDR_LEN - 1, NETIPC_HDR_LEN, NETIPC_HDR_LEN + NETIPC_INNER_LEN + 15 };
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++, cases++)
        netipc_input(&B.n, data.b, cuts[k], now);
    /* Version, type, zero bytes. */
    int bytes[] = { 0, 1, 2, 3 };
    for (int k = 0; k < 4; k++, cases++) {
        memcpy(f, data.b, data.len);
        f[bytes[k]] ^= 0x40;
        netipc_input(&B.n, f, data.len, now);
    }
    /* Longer than any frame; a hello of the wrong length; a welcome of the wrong length. */
    memset(f, 0, sizeof f);
    memcpy(f, data.b, data.len);
    netipc_input(&B.n, f, NETIPC_FRAME_MAX + 1, now), cases++;
    netipc_input(&B.n, hello.b, hello.len - 1, now), cases++;
    memcpy(f, hello.b, hello.len);
    f[1] = NETIPC_WELCOME;
    netipc_input(&B.n, f, hello.len, now), cases++;
    CHECK_EQ(B.n.counters.malformed, before + (uint64_t)cases);
    /* One byte short still fails its seal (the tag moves): counted as authentication. */
    netipc_input(&B.n, data.b, data.len - 1, now);
    CHECK_EQ(B.n.counters.auth_failed, 1);
    CHECK_EQ(B.requests, 1);
    /* The intact frame still goes through afterwards. */
    netipc_input(&B.n, data.b, data.len, now);
    CHECK_EQ(B.requests, 2);
}

/* ---- loss, retransmission, timeouts ------------------------------------- */

static int drop_count, drop_pattern;

/* Drops frames by their position: bit i of drop_pattern drops the i-th frame seen. */
static int lossy(struct frame *f)
{
    (void)f;
    int i = drop_count++;
    return i < 31 && (drop_pattern >> i & 1);
}

TEST(lost_frames_are_sent_again_and_requests_run_once)
{
    struct node *all[] = { &A, &B };
    uint8_t big[NETIPC_MSG_MAX];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i ^ 0x5a);
    /* Each pattern drops a different set among: hello, welcome, request fragments, reply fragments. */
    int patterns[] = { 0x1, 0x2, 0x4, 0x8, 0x10, 0x20, 0x3, 0xc, 0x30, 0x55, 0xff };
    for (size_t k = 0; k < sizeof patterns / sizeof patterns[0]; k++) {
        pair();
        drop_count = 0;
        drop_pattern = patterns[k];
        CHECK_EQ(netipc_call(&A.n, netipc_peer(&A.n, 2), big, sizeof big, NULL, now), NETIPC_OK);
        uint64_t start = now;
        while (A.replies == 0)
            tick(all, 2, lossy, 1000 * MS);
        CHECK_EQ(A.last_status, NETIPC_OK);
        CHECK(A.replied_at < start + NETIPC_CALL_TIMEOUT_NS);
        CHECK_EQ(B.requests, 1);
        CHECK_EQ(A.last_rep_len, sizeof big);
        CHECK_EQ(A.last_rep[0], big[sizeof big - 1]);
        CHECK(A.n.counters.retransmits + B.n.counters.retransmits > 0);
    }
}

TEST(a_lost_welcome_is_answered_again_without_a_second_session)
{
    pair();
    struct node *all[] = { &A, &B };
    const uint8_t req[] = "hello?";
    CHECK_EQ(netipc_call(&A.n, netipc_peer(&A.n, 2), req, sizeof req, NULL, now), NETIPC_OK);
    drop_count = 0;
    drop_pattern = 0x2;                         /* the welcome */
    while (A.replies == 0)
        tick(all, 2, lossy, 1000 * MS);
    CHECK_EQ(A.last_status, NETIPC_OK);
    CHECK_EQ(A.n.counters.handshakes, 1);
    CHECK_EQ(B.n.counters.handshakes, 1);
    CHECK_EQ(B.requests, 1);
    CHECK(A.n.counters.retransmits >= 1);
    CHECK_EQ(drops(&A.n.counters) + drops(&B.n.counters), 0);
}

TEST(a_silent_peer_ends_the_call_unreachable_at_its_deadline)
{
    pair();
    struct node *all[] = { &A, &B };
    const uint8_t req[] = "anyone?";
    /* No session yet: hellos go unanswered. */
    drop_count = 0;
    drop_pattern = 0x7fffffff;
    CHECK_EQ(netipc_call(&A.n, netipc_peer(&A.n, 2), req, sizeof req, NULL, now), NETIPC_OK);
    uint64_t deadline = now + NETIPC_CALL_TIMEOUT_NS;
    int sends = 0;
    while (A.replies == 0) {
        CHECK(now <= deadline);
        int before = drop_count;
        tick(all, 2, lossy, 10000 * MS);
        sends += drop_count - before;
    }
    CHECK_EQ(A.replied_at, deadline);
    CHECK_EQ(A.last_status, NETIPC_E_UNREACHABLE);
    CHECK_EQ(A.n.counters.timeouts, 1);
    CHECK(sends >= 4 && sends <= 12);           /* backed off, not flooding */
    /* With a session: the peer dies after it; its calls end the same way, as bounded. */
    pair();
    CHECK_EQ(netipc_call(&A.n, netipc_peer(&A.n, 2), req, sizeof req, NULL, now), NETIPC_OK);
    deliver(NULL);
    CHECK_EQ(netipc_call(&A.n, netipc_peer(&A.n, 2), req, sizeof req, (void *)7, now), NETIPC_OK);
    deadline = now + NETIPC_CALL_TIMEOUT_NS;
    drop_count = 0;
    while (A.replies == 1)
        tick(all, 2, lossy, 10000 * MS);
    CHECK_EQ(A.last_status, NETIPC_E_UNREACHABLE);
    CHECK(A.last_cookie == (void *)7);
    CHECK_EQ(A.replied_at, deadline);
    CHECK_EQ(A.n.counters.timeouts, 1);
}

TEST(a_restarted_peer_reports_calls_it_held_as_restarted)
{
    pair();
    struct node *all[] = { &A, &B };
    const uint8_t req[] = "add 1";
    CHECK_EQ(netipc_call(&A.n, netipc_peer(&A.n, 2), req, sizeof req, NULL, now), NETIPC_OK);
    deliver(NULL);
    /* B takes the next request and dies holding it; it comes back with a later wall clock. */
    B.answer = 0;
    CHECK_EQ(netipc_call(&A.n, netipc_peer(&A.n, 2), req, sizeof req, NULL, now), NETIPC_OK);
    deliver(NULL);
    CHECK_EQ(B.requests, 2);
    node_init(&B, 2, 7000 * MS + now, &A, 1, NULL, 0);
    uint64_t start = now;
    while (A.replies == 1)
        tick(all, 2, NULL, 1000 * MS);
    CHECK_EQ(A.last_status, NETIPC_E_RESTARTED);
    CHECK(A.replied_at < start + NETIPC_CALL_TIMEOUT_NS);
    CHECK_EQ(B.requests, 0);                   /* not run again by the new incarnation */
    CHECK(B.n.counters.unknown_conn > 0);      /* the old session's frames */
    /* The next call goes to the new incarnation. */
    CHECK_EQ(netipc_call(&A.n, netipc_peer(&A.n, 2), req, sizeof req, NULL, now), NETIPC_OK);
    deliver(NULL);
    CHECK_EQ(A.last_status, NETIPC_OK);
    CHECK_EQ(B.requests, 1);
}

TEST(a_lost_reply_is_sent_again_without_running_twice)
{
    pair();
    struct node *all[] = { &A, &B };
    const uint8_t req[] = "add 1";
    CHECK_EQ(netipc_call(&A.n, netipc_peer(&A.n, 2), req, sizeof req, NULL, now), NETIPC_OK);
    deliver(NULL);
    CHECK_EQ(netipc_call(&A.n, netipc_peer(&A.n, 2), req, sizeof req, NULL, now), NETIPC_OK);
    drop_count = 0;
    drop_pattern = 0x2;                         /* the reply */
    while (A.replies == 1)
        tick(all, 2, lossy, 1000 * MS);
    CHECK_EQ(A.last_status, NETIPC_OK);
    CHECK_EQ(B.requests, 2);
    CHECK(B.n.counters.retransmits >= 1);
    /* The first sending held back until after the retransmission was answered: B sends its kept
     * reply again, which finds the call ended (stale), and the request does not run again. */
    CHECK_EQ(netipc_call(&A.n, netipc_peer(&A.n, 2), req, sizeof req, NULL, now), NETIPC_OK);
    CHECK_EQ(queued, 1);
    struct frame late = queue[0];
    queued = 0;
    while (A.replies == 2)
        tick(all, 2, NULL, 100 * MS);
    CHECK_EQ(B.requests, 3);
    netipc_input(&B.n, late.b, late.len, now);
    CHECK_EQ(B.requests, 3);
    CHECK_EQ(queued, 1);
    deliver(NULL);
    CHECK_EQ(A.n.counters.stale, 1);
    CHECK_EQ(A.replies, 3);
}

TEST(full_tables_refuse_and_recover)
{
    pair();
    struct node *all[] = { &A, &B };
    const uint8_t req[] = "x";
    struct netipc_peer *ab = netipc_peer(&A.n, 2);
    /* Calls in flight to one peer are bounded. */
    B.answer = 0;
    for (int i = 0; i < NETIPC_CALLS; i++)
        CHECK_EQ(netipc_call(&A.n, ab, req, 1, NULL, now), NETIPC_OK);
    CHECK_EQ(netipc_call(&A.n, ab, req, 1, NULL, now), NETIPC_E_BUSY);
    deliver(NULL);
    CHECK_EQ(B.requests, NETIPC_CALLS);
    /* B answers all but the first: its kept replies and the running one fill its table. */
    struct netipc_peer *ba = netipc_peer(&B.n, 1);
    for (int i = 1; i < NETIPC_CALLS; i++)
        CHECK_EQ(netipc_reply(&B.n, ba, ba->served[i].id, req, 1), NETIPC_OK);
    deliver(NULL);
    CHECK_EQ(A.replies, NETIPC_CALLS - 1);
    B.answer = 1;
    now += 1000 * MS;                           /* later calls outlive the first */
    for (int i = 0; i < NETIPC_SERVED - NETIPC_CALLS; i++) {
        CHECK_EQ(netipc_call(&A.n, ab, req, 1, NULL, now), NETIPC_OK);
        deliver(NULL);
    }
    int served = B.requests;
    CHECK_EQ(netipc_call(&A.n, ab, req, 1, NULL, now), NETIPC_OK);
    deliver(NULL);
    CHECK_EQ(B.n.counters.busy, 1);
    CHECK_EQ(B.requests, served);
    /* The first call times out; the watermark moves past it and room comes back. */
    while (B.requests == served)
        tick(all, 2, NULL, 1000 * MS);
    CHECK_EQ(B.requests, served + 1);
    CHECK(A.n.counters.timeouts >= 1);
}

TEST(api_refusals)
{
    pair();
    const uint8_t req[] = "x";
    CHECK_EQ(netipc_call(&A.n, NULL, req, 1, NULL, now), NETIPC_E_PEER);
    CHECK(netipc_peer(&A.n, 99) == NULL);
    struct netipc_peer *ab = netipc_peer(&A.n, 2);
    CHECK_EQ(netipc_reply(&A.n, ab, 12345, req, 1), NETIPC_E_STATE);
    B.answer = 0;
    CHECK_EQ(netipc_call(&A.n, ab, req, 1, NULL, now), NETIPC_OK);
    deliver(NULL);
    uint8_t big[NETIPC_MSG_MAX + 1] = { 0 };
    CHECK_EQ(netipc_reply(&B.n, B.last_peer, B.last_id, big, sizeof big), NETIPC_E_TOO_LONG);
    CHECK_EQ(netipc_reply(&B.n, B.last_peer, B.last_id, big, 4), NETIPC_OK);
    CHECK_EQ(netipc_reply(&B.n, B.last_peer, B.last_id, big, 4), NETIPC_E_STATE);
    static struct netipc_peer many[256];
    struct netipc_config cfg = A.n.cfg;
    CHECK_EQ(netipc_init(&C.n, &cfg, many, 256, now), NETIPC_E_PEER);
    CHECK_EQ(netipc_init(&C.n, &cfg, many, 255, now), NETIPC_OK);
}
