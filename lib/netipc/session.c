/*
 * Sessions: the handshake and sealed data frames (docs/network.md).
 *
 * The handshake is Noise's KK pattern over X25519, ChaCha20-Poly1305 and
 * SHA-256, with each frame's cleartext header mixed into the transcript:
 *     hello   (initiator):  e, es, ss   payload: stamp, responder node, boot
 *     welcome (responder):  e, ee, se   payload: boot
 * Both static keys are known beforehand (the known-peers list), so the
 * hello already proves the initiator (ss) and only the responder can
 * open it (es); the welcome proves the responder holds its ephemeral and
 * the initiator its static key.  A hello whose stamp is not newer than
 * the last one accepted from that node is a replay.  The session's two
 * keys come from the final chaining key; data frames use the sequence
 * number as nonce, and a 64-entry window refuses repeats.
 */
#include "impl.h"
#include "crypto.h"

#include <string.h>

static const char protocol_name[] = "Pith-netipc-1 KK 25519 ChaChaPoly SHA256";

#define HELLO_PAYLOAD   24
#define WELCOME_PAYLOAD 8
#define HELLO_LEN       NETIPC_HELLO_LEN
#define WELCOME_LEN     NETIPC_WELCOME_LEN
_Static_assert(HELLO_LEN == NETIPC_HDR_LEN + 32 + HELLO_PAYLOAD + NETIPC_TAG_LEN, "hello layout");
_Static_assert(WELCOME_LEN == NETIPC_HDR_LEN + 32 + WELCOME_PAYLOAD + NETIPC_TAG_LEN, "welcome layout");

static void hs_init(struct netipc_hs *hs, const uint8_t initiator[32], const uint8_t responder[32])
{
    nc_hash2(hs->h, protocol_name, sizeof protocol_name - 1, "", 0);
    memcpy(hs->ck, hs->h, 32);
    memset(hs->k, 0, 32);
    nc_hash2(hs->h, hs->h, 32, initiator, 32);
    nc_hash2(hs->h, hs->h, 32, responder, 32);
}

static void mix_hash(struct netipc_hs *hs, const void *data, size_t len)
{
    nc_hash2(hs->h, hs->h, 32, data, len);
}

/* Mixes a Diffie-Hellman result into the chaining key; false if it was all zero. */
static bool mix_dh(struct netipc_hs *hs, const uint8_t secret[32], const uint8_t public_key[32])
{
    uint8_t dh[32];
    bool ok = nc_x25519(dh, secret, public_key);
    nc_hkdf(hs->ck, hs->k, hs->ck, dh, sizeof dh);
    nc_wipe(dh, sizeof dh);
    return ok;
}

/* Seals len bytes in place (the tag follows them) under the transcript, then hashes the result in. */
static void encrypt_and_hash(struct netipc_hs *hs, uint8_t *data, size_t len)
{
    nc_seal(hs->k, 0, hs->h, 32, data, len, data + len);
    mix_hash(hs, data, len + NETIPC_TAG_LEN);
}

static bool decrypt_and_hash(struct netipc_hs *hs, uint8_t *data, size_t len)
{
    uint8_t next[32];
    nc_hash2(next, hs->h, 32, data, len + NETIPC_TAG_LEN);
    if (!nc_open(hs->k, 0, hs->h, 32, data, len, data + len))
        return false;
    memcpy(hs->h, next, 32);
    return true;
}

static void put_header(uint8_t *f, int type, uint32_t conn, uint64_t seq)
{
    f[0] = NETIPC_VERSION;
    f[1] = (uint8_t)type;
    f[2] = f[3] = 0;
    put32(f + 4, conn);
    put64(f + 8, seq);
}

/* A connection number names the peer in its low byte; the rest is random, new for every session. */
static uint32_t new_conn(struct netipc *n, struct netipc_peer *p)
{
    uint8_t r[4];
    n->cfg.random(n->cfg.ctx, r, sizeof r);
    uint32_t conn = (get32(r) & ~0xffu) | (uint32_t)(p - n->peers);
    if (conn == p->local_conn || conn == (uint32_t)(p - n->peers))
        conn ^= 0x100;
    return conn;
}

static struct netipc_peer *peer_by_conn(struct netipc *n, uint32_t conn)
{
    size_t i = conn & 0xff;
    if (i >= n->npeers || n->peers[i].local_conn != conn)
        return NULL;
    return &n->peers[i];
}

static void establish(struct netipc_peer *p, uint32_t local, uint32_t remote, const uint8_t send_key[32],
                      const uint8_t recv_key[32], uint64_t now)
{
    p->local_conn = local;
    p->remote_conn = remote;
    memcpy(p->send_key, send_key, 32);
    memcpy(p->recv_key, recv_key, 32);
    p->send_seq = 0;
    p->recv_top = 0;
    p->recv_bits = 0;
    p->heard = now;
    p->hello_rto = 0;
    p->state = PEER_ESTABLISHED;
    nc_wipe(p->eph_secret, sizeof p->eph_secret);
    nc_wipe(&p->hs, sizeof p->hs);
}

void session_start(struct netipc *n, struct netipc_peer *p, uint64_t now)
{
    p->state = PEER_HELLO_SENT;
    p->local_conn = new_conn(n, p);
    n->cfg.random(n->cfg.ctx, p->eph_secret, sizeof p->eph_secret);
    nc_x25519_public(p->eph_public, p->eph_secret);
    /* Stamps only grow, across restarts too (the wall clock), so a recorded hello is refused. */
    uint64_t stamp = n->cfg.wall_base + now;
    if (stamp <= n->last_stamp)
        stamp = n->last_stamp + 1;
    n->last_stamp = stamp;

    uint8_t *f = n->frame, *payload = f + NETIPC_HDR_LEN + 32;
    put_header(f, NETIPC_HELLO, p->local_conn, n->cfg.node);
    memcpy(f + NETIPC_HDR_LEN, p->eph_public, 32);
    put64(payload, stamp);
    put64(payload + 8, p->node);
    put64(payload + 16, n->boot);
    hs_init(&p->hs, n->public_key, p->public_key);
    mix_hash(&p->hs, f, NETIPC_HDR_LEN);
    mix_hash(&p->hs, p->eph_public, 32);
    bool ok = mix_dh(&p->hs, p->eph_secret, p->public_key);
    ok &= mix_dh(&p->hs, n->cfg.secret_key, p->public_key);
    encrypt_and_hash(&p->hs, payload, HELLO_PAYLOAD);
    /* A peer key of low order can never be agreed with: nothing is sent, its calls time out. */
    memcpy(p->hello, f, HELLO_LEN);
    p->hello_rto = 0;
    if (ok)
        session_hello_again(n, p, now);
    else
        p->hello[0] = 0;
}

/*
 * The same hello again, until a welcome comes: the responder answers a
 * hello it already took with the welcome it sent, so a lost welcome does
 * not make a second session (and a hello crossing ours does not either).
 */
void session_hello_again(struct netipc *n, struct netipc_peer *p, uint64_t now)
{
    p->hello_rto = p->hello_rto ? p->hello_rto * 2 : NETIPC_RTO_NS;
    if (p->hello_rto > NETIPC_RTO_MAX_NS)
        p->hello_rto = NETIPC_RTO_MAX_NS;
    p->hello_next = now + p->hello_rto;
    if (p->hello[0] == NETIPC_VERSION)
        n->cfg.send(n->cfg.ctx, p, p->hello, HELLO_LEN);
}

static void hello_input(struct netipc *n, uint8_t *f, size_t len, uint64_t now)
{
    if (len != HELLO_LEN) {
        n->counters.malformed++;
        return;
    }
    struct netipc_peer *p = netipc_peer(n, get64(f + 8));
    if (!p) {
        n->counters.unknown_peer++;
        return;
    }
    /* Both sides started at once: the lower node number's handshake goes on, the other gives way. */
    if (p->state == PEER_HELLO_SENT && n->cfg.node < p->node)
        return;
    struct netipc_hs hs;
    const uint8_t *their_eph = f + NETIPC_HDR_LEN;
    uint8_t *payload = f + NETIPC_HDR_LEN + 32;
    hs_init(&hs, p->public_key, n->public_key);
    mix_hash(&hs, f, NETIPC_HDR_LEN);
    mix_hash(&hs, their_eph, 32);
    bool ok = mix_dh(&hs, n->cfg.secret_key, their_eph);
    ok &= mix_dh(&hs, n->cfg.secret_key, p->public_key);
    if (!ok || !decrypt_and_hash(&hs, payload, HELLO_PAYLOAD)) {
        n->counters.auth_failed++;
        return;
    }
    uint64_t stamp = get64(payload), to = get64(payload + 8), boot = get64(payload + 16);
    if (to != n->cfg.node) {
        n->counters.malformed++;
        return;
    }
    if (stamp == p->last_hello_stamp && p->state == PEER_ESTABLISHED &&
        !memcmp(their_eph, p->answered_eph, 32)) {
        /* Our welcome was lost: the same one again, the session stays. */
        n->cfg.send(n->cfg.ctx, p, p->welcome, WELCOME_LEN);
        return;
    }
    if (stamp <= p->last_hello_stamp) {
        n->counters.replayed++;
        return;
    }
    p->last_hello_stamp = stamp;

    uint8_t eph_secret[32], eph_public[32], k1[32], k2[32];
    n->cfg.random(n->cfg.ctx, eph_secret, sizeof eph_secret);
    nc_x25519_public(eph_public, eph_secret);
    uint32_t conn = new_conn(n, p);
    uint8_t *w = n->frame;
    put_header(w, NETIPC_WELCOME, get32(f + 4), conn);
    memcpy(w + NETIPC_HDR_LEN, eph_public, 32);
    put64(w + NETIPC_HDR_LEN + 32, n->boot);
    mix_hash(&hs, w, NETIPC_HDR_LEN);
    mix_hash(&hs, eph_public, 32);
    ok = mix_dh(&hs, eph_secret, their_eph);
    ok &= mix_dh(&hs, eph_secret, p->public_key);
    nc_wipe(eph_secret, sizeof eph_secret);
    if (!ok) {
        n->counters.auth_failed++;
        return;
    }
    encrypt_and_hash(&hs, w + NETIPC_HDR_LEN + 32, WELCOME_PAYLOAD);
    nc_hkdf(k1, k2, hs.ck, "", 0);
    establish(p, conn, get32(f + 4), k2, k1, now);
    nc_wipe(k1, sizeof k1);
    nc_wipe(k2, sizeof k2);
    memcpy(p->answered_eph, their_eph, 32);
    memcpy(p->welcome, w, WELCOME_LEN);
    n->counters.handshakes++;
    n->cfg.send(n->cfg.ctx, p, w, WELCOME_LEN);
    calls_session_up(n, p, boot, now);
}

static void welcome_input(struct netipc *n, uint8_t *f, size_t len, uint64_t now)
{
    if (len != WELCOME_LEN || get64(f + 8) > UINT32_MAX) {
        n->counters.malformed++;
        return;
    }
    struct netipc_peer *p = peer_by_conn(n, get32(f + 4));
    if (!p || p->state != PEER_HELLO_SENT) {
        n->counters.unknown_conn++;
        return;
    }
    struct netipc_hs hs = p->hs;
    const uint8_t *their_eph = f + NETIPC_HDR_LEN;
    uint8_t *payload = f + NETIPC_HDR_LEN + 32, k1[32], k2[32];
    mix_hash(&hs, f, NETIPC_HDR_LEN);
    mix_hash(&hs, their_eph, 32);
    bool ok = mix_dh(&hs, p->eph_secret, their_eph);
    ok &= mix_dh(&hs, n->cfg.secret_key, their_eph);
    if (!ok || !decrypt_and_hash(&hs, payload, WELCOME_PAYLOAD)) {
        nc_wipe(&hs, sizeof hs);
        n->counters.auth_failed++;
        return;
    }
    nc_hkdf(k1, k2, hs.ck, "", 0);
    nc_wipe(&hs, sizeof hs);
    establish(p, p->local_conn, (uint32_t)get64(f + 8), k1, k2, now);
    nc_wipe(k1, sizeof k1);
    nc_wipe(k2, sizeof k2);
    n->counters.handshakes++;
    calls_session_up(n, p, get64(payload), now);
}

/* The replay window: recv_top is one past the newest sequence accepted; bit i of recv_bits is recv_top - 1 - i. */
static bool window_fresh(const struct netipc_peer *p, uint64_t seq)
{
    if (seq >= p->recv_top)
        return true;
    uint64_t back = p->recv_top - 1 - seq;
    return back < NETIPC_WINDOW && !(p->recv_bits >> back & 1);
}

static void window_mark(struct netipc_peer *p, uint64_t seq)
{
    if (seq >= p->recv_top) {
        uint64_t shift = seq + 1 - p->recv_top;
        p->recv_bits = shift >= NETIPC_WINDOW ? 0 : p->recv_bits << shift;
        p->recv_bits |= 1;
        p->recv_top = seq + 1;
    } else {
        p->recv_bits |= 1ull << (p->recv_top - 1 - seq);
    }
}

static void data_input(struct netipc *n, uint8_t *f, size_t len, uint64_t now)
{
    uint64_t seq = get64(f + 8);
    if (len < NETIPC_HDR_LEN + NETIPC_INNER_LEN + NETIPC_TAG_LEN || seq == UINT64_MAX) {
        n->counters.malformed++;
        return;
    }
    struct netipc_peer *p = peer_by_conn(n, get32(f + 4));
    if (!p || p->state != PEER_ESTABLISHED) {
        n->counters.unknown_conn++;
        return;
    }
    if (!window_fresh(p, seq)) {
        n->counters.replayed++;
        return;
    }
    size_t body = len - NETIPC_HDR_LEN - NETIPC_TAG_LEN;
    if (!nc_open(p->recv_key, seq, f, NETIPC_HDR_LEN, f + NETIPC_HDR_LEN, body, f + len - NETIPC_TAG_LEN)) {
        n->counters.auth_failed++;
        return;
    }
    window_mark(p, seq);
    p->heard = now;
    calls_input(n, p, f + NETIPC_HDR_LEN, body);
}

void session_send(struct netipc *n, struct netipc_peer *p, const uint8_t *plain, size_t len)
{
    uint8_t *f = n->frame;
    uint64_t seq = p->send_seq++;
    put_header(f, NETIPC_DATA, p->remote_conn, seq);
    memcpy(f + NETIPC_HDR_LEN, plain, len);
    nc_seal(p->send_key, seq, f, NETIPC_HDR_LEN, f + NETIPC_HDR_LEN, len, f + NETIPC_HDR_LEN + len);
    n->cfg.send(n->cfg.ctx, p, f, NETIPC_HDR_LEN + len + NETIPC_TAG_LEN);
}

void session_input(struct netipc *n, const uint8_t *frame, size_t len, uint64_t now)
{
    if (len < NETIPC_HDR_LEN || len > NETIPC_FRAME_MAX || frame[0] != NETIPC_VERSION || frame[2] || frame[3]) {
        n->counters.malformed++;
        return;
    }
    /* Opened in a copy: the caller's datagram stays as it came. */
    uint8_t f[NETIPC_FRAME_MAX];
    memcpy(f, frame, len);
    switch (frame[1]) {
    case NETIPC_HELLO:
        hello_input(n, f, len, now);
        break;
    case NETIPC_WELCOME:
        welcome_input(n, f, len, now);
        break;
    case NETIPC_DATA:
        data_input(n, f, len, now);
        break;
    default:
        n->counters.malformed++;
    }
}
