/*
 * Calls over sessions: messages cut into fragments and put together
 * again, replies matched to calls, retransmission with a bounded total
 * time, and the receiving side's record of requests so that each runs at
 * most once (docs/network.md).
 *
 * Sealed payload: kind (request or reply), fragment index, fragment
 * count, 0, message length (16 bits), 0, 0, call id (64 bits), and for a
 * request the caller's watermark, its oldest call still open: requests
 * below it are answered and their kept replies can go.  Call ids start at
 * the caller's incarnation stamp and only grow, so a new incarnation's
 * calls never meet an old one's.
 */
#include "impl.h"
#include "crypto.h"

#include <string.h>

static unsigned frag_count(size_t len)
{
    return len == 0 ? 1 : (unsigned)((len + NETIPC_FRAG_DATA - 1) / NETIPC_FRAG_DATA);
}

static uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }

static uint64_t watermark(const struct netipc_peer *p)
{
    uint64_t w = UINT64_MAX;
    for (int i = 0; i < NETIPC_CALLS; i++)
        if (p->calls[i].state == CALL_SENT)
            w = min64(w, p->calls[i].id);
    return w;
}

static void send_msg(struct netipc *n, struct netipc_peer *p, int kind, uint64_t id, const struct netipc_msg *m)
{
    uint8_t plain[NETIPC_INNER_LEN + NETIPC_FRAG_DATA];
    unsigned count = frag_count(m->len);
    for (unsigned i = 0; i < count; i++) {
        size_t off = (size_t)i * NETIPC_FRAG_DATA, flen = min64(NETIPC_FRAG_DATA, m->len - off);
        memset(plain, 0, NETIPC_INNER_LEN);
        plain[0] = (uint8_t)kind;
        plain[1] = (uint8_t)i;
        plain[2] = (uint8_t)count;
        plain[4] = (uint8_t)m->len;
        plain[5] = (uint8_t)(m->len >> 8);
        put64(plain + 8, id);
        put64(plain + 16, kind == KIND_REQUEST ? watermark(p) : 0);
        memcpy(plain + NETIPC_INNER_LEN, m->data + off, flen);
        session_send(n, p, plain, NETIPC_INNER_LEN + flen);
    }
}

static void msg_clear(struct netipc_msg *m)
{
    m->len = m->have = m->frags = 0;
}

/* Adds one fragment: 1 when the message is whole, 0 when more are due, -1 if it contradicts the others. */
static int msg_add(struct netipc_msg *m, const uint8_t *plain, size_t len)
{
    unsigned frag = plain[1], count = plain[2];
    size_t total = (size_t)plain[4] | (size_t)plain[5] << 8;
    if (plain[3] || plain[6] || plain[7] || total > NETIPC_MSG_MAX || count != frag_count(total) || frag >= count)
        return -1;
    size_t off = (size_t)frag * NETIPC_FRAG_DATA;
    if (len - NETIPC_INNER_LEN != min64(NETIPC_FRAG_DATA, total - off))
        return -1;
    if (!m->frags) {
        m->frags = count;
        m->len = (uint32_t)total;
    } else if (m->frags != count || m->len != total) {
        return -1;
    }
    memcpy(m->data + off, plain + NETIPC_INNER_LEN, len - NETIPC_INNER_LEN);
    m->have |= 1u << frag;
    return m->have == (1u << count) - 1;
}

/* Ends a call.  The slot is free before the report, which may start the next call in it. */
static void finish(struct netipc *n, struct netipc_call *c, int status)
{
    c->state = CALL_FREE;
    n->cfg.reply(n->cfg.ctx, c->cookie, status, status == NETIPC_OK ? c->rep.data : NULL,
                 status == NETIPC_OK ? c->rep.len : 0);
}

static void send_request(struct netipc *n, struct netipc_peer *p, struct netipc_call *c, uint64_t now)
{
    if (c->sends)
        n->counters.retransmits += frag_count(c->req.len);
    c->sends++;
    c->sent_boot = p->boot;
    c->next_send = now + c->rto;
    c->rto = min64(c->rto * 2, NETIPC_RTO_MAX_NS);
    send_msg(n, p, KIND_REQUEST, c->id, &c->req);
}

int netipc_init(struct netipc *n, const struct netipc_config *cfg, struct netipc_peer *peers, size_t npeers,
                uint64_t now)
{
    if (npeers > 255)
        return NETIPC_E_PEER;
    memset(n, 0, sizeof *n);
    n->cfg = *cfg;
    if (!n->cfg.call_timeout_ns)
        n->cfg.call_timeout_ns = NETIPC_CALL_TIMEOUT_NS;
    netipc_public_key(n->public_key, cfg->secret_key);
    n->peers = peers;
    n->npeers = npeers;
    n->boot = cfg->wall_base + now;
    n->next_call_id = n->boot;
    return NETIPC_OK;
}

void netipc_public_key(uint8_t public_key[NETIPC_KEY_LEN], const uint8_t secret_key[NETIPC_KEY_LEN])
{
    nc_x25519_public(public_key, secret_key);
}

struct netipc_peer *netipc_peer(struct netipc *n, uint64_t node)
{
    for (size_t i = 0; i < n->npeers; i++)
        if (n->peers[i].node == node)
            return &n->peers[i];
    return NULL;
}

int netipc_call(struct netipc *n, struct netipc_peer *p, const uint8_t *msg, size_t len, void *cookie,
                uint64_t now)
{
    if (!p)
        return NETIPC_E_PEER;
    if (len > NETIPC_MSG_MAX)
        return NETIPC_E_TOO_LONG;
    struct netipc_call *c = NULL;
    for (int i = 0; i < NETIPC_CALLS && !c; i++)
        if (p->calls[i].state == CALL_FREE)
            c = &p->calls[i];
    if (!c)
        return NETIPC_E_BUSY;
    c->state = CALL_SENT;
    c->id = n->next_call_id++;
    c->cookie = cookie;
    memcpy(c->req.data, msg, len);
    c->req.len = (uint32_t)len;
    msg_clear(&c->rep);
    c->started = now;
    c->deadline = now + n->cfg.call_timeout_ns;
    c->sends = 0;
    c->rto = NETIPC_RTO_NS;
    c->next_send = now;
    if (p->state == PEER_ESTABLISHED)
        send_request(n, p, c, now);
    else if (p->state == PEER_IDLE)
        session_start(n, p, now);
    return NETIPC_OK;
}

int netipc_reply(struct netipc *n, struct netipc_peer *p, uint64_t id, const uint8_t *msg, size_t len)
{
    struct netipc_served *s = NULL;
    for (int i = 0; i < NETIPC_SERVED && !s; i++)
        if (p->served[i].state == SERVED_RUNNING && p->served[i].id == id)
            s = &p->served[i];
    if (!s)
        return NETIPC_E_STATE;
    if (len > NETIPC_MSG_MAX)
        return NETIPC_E_TOO_LONG;
    memcpy(s->rep.data, msg, len);
    s->rep.len = (uint32_t)len;
    s->state = SERVED_ANSWERED;
    /* Without a session now, the reply goes when the caller sends the request again. */
    if (p->state == PEER_ESTABLISHED)
        send_msg(n, p, KIND_REPLY, id, &s->rep);
    return NETIPC_OK;
}

/* Kept requests below the caller's watermark are answered and acknowledged: their room is free again. */
static void advance_watermark(struct netipc_peer *p, uint64_t w)
{
    if (w <= p->watermark)
        return;
    p->watermark = w;
    for (int i = 0; i < NETIPC_SERVED; i++) {
        struct netipc_served *s = &p->served[i];
        if (s->id < w && (s->state == SERVED_ANSWERED || s->state == SERVED_ASSEMBLING))
            s->state = SERVED_FREE;
    }
}

static void request_input(struct netipc *n, struct netipc_peer *p, const uint8_t *plain, size_t len)
{
    uint64_t id = get64(plain + 8);
    advance_watermark(p, get64(plain + 16));
    struct netipc_served *s = NULL, *free_one = NULL;
    for (int i = 0; i < NETIPC_SERVED; i++) {
        if (p->served[i].state == SERVED_FREE)
            free_one = free_one ? free_one : &p->served[i];
        else if (p->served[i].id == id)
            s = &p->served[i];
    }
    if (s && s->state == SERVED_ANSWERED) {
        /* Our reply was lost: send the kept one, never run the request twice. */
        n->counters.retransmits += frag_count(s->rep.len);
        send_msg(n, p, KIND_REPLY, id, &s->rep);
        return;
    }
    if (s && s->state == SERVED_RUNNING)
        return;
    if (!s) {
        if (id < p->watermark) {
            n->counters.stale++;
            return;
        }
        if (!free_one) {
            n->counters.busy++;
            return;
        }
        s = free_one;
        s->state = SERVED_ASSEMBLING;
        s->id = id;
        msg_clear(&s->req);
    }
    int whole = msg_add(&s->req, plain, len);
    if (whole < 0) {
        s->state = SERVED_FREE;
        n->counters.malformed++;
    } else if (whole) {
        s->state = SERVED_RUNNING;
        n->cfg.request(n->cfg.ctx, p, id, s->req.data, s->req.len);
    }
}

static void reply_input(struct netipc *n, struct netipc_peer *p, const uint8_t *plain, size_t len)
{
    uint64_t id = get64(plain + 8);
    struct netipc_call *c = NULL;
    for (int i = 0; i < NETIPC_CALLS && !c; i++)
        if (p->calls[i].state == CALL_SENT && p->calls[i].id == id)
            c = &p->calls[i];
    if (!c) {
        n->counters.stale++;
        return;
    }
    int whole = msg_add(&c->rep, plain, len);
    if (whole < 0) {
        msg_clear(&c->rep);
        n->counters.malformed++;
    } else if (whole) {
        finish(n, c, NETIPC_OK);
    }
}

void calls_input(struct netipc *n, struct netipc_peer *p, const uint8_t *plain, size_t len)
{
    if (plain[0] == KIND_REQUEST)
        request_input(n, p, plain, len);
    else if (plain[0] == KIND_REPLY)
        reply_input(n, p, plain, len);
    else
        n->counters.malformed++;
}

void calls_session_up(struct netipc *n, struct netipc_peer *p, uint64_t boot, uint64_t now)
{
    if (p->boot && p->boot != boot) {
        /* The peer restarted: what it was sent before may or may not have run, and it forgot its replies. */
        for (int i = 0; i < NETIPC_CALLS; i++) {
            struct netipc_call *c = &p->calls[i];
            if (c->state == CALL_SENT && c->sends && c->sent_boot == p->boot)
                finish(n, c, NETIPC_E_RESTARTED);
        }
        for (int i = 0; i < NETIPC_SERVED; i++)
            if (p->served[i].state != SERVED_RUNNING)
                p->served[i].state = SERVED_FREE;
        p->watermark = 0;
    }
    p->boot = boot;
    for (int i = 0; i < NETIPC_CALLS; i++) {
        struct netipc_call *c = &p->calls[i];
        if (c->state == CALL_SENT && p->state == PEER_ESTABLISHED)
            send_request(n, p, c, now);
    }
}

void netipc_input(struct netipc *n, const uint8_t *frame, size_t len, uint64_t now)
{
    session_input(n, frame, len, now);
}

uint64_t netipc_poll(struct netipc *n, uint64_t now)
{
    uint64_t next = UINT64_MAX;
    for (size_t i = 0; i < n->npeers; i++) {
        struct netipc_peer *p = &n->peers[i];
        bool waiting = false;
        for (int j = 0; j < NETIPC_CALLS; j++) {
            struct netipc_call *c = &p->calls[j];
            if (c->state != CALL_SENT)
                continue;
            if (now >= c->deadline) {
                n->counters.timeouts++;
                finish(n, c, NETIPC_E_UNREACHABLE);
                continue;
            }
            waiting = true;
            next = min64(next, c->deadline);
            if (p->state != PEER_ESTABLISHED)
                continue;
            if (now >= c->next_send) {
                /* Nothing heard since the call began, three sends in: the session may be gone at the
                 * other end (a restart); make a new one, which also tells us whether it restarted. */
                if (c->sends >= 3 && p->heard <= c->started) {
                    p->state = PEER_IDLE;
                    continue;
                }
                send_request(n, p, c, now);
            }
            next = min64(next, c->next_send);
        }
        if (!waiting) {
            if (p->state == PEER_HELLO_SENT)
                p->state = PEER_IDLE;
            continue;
        }
        if (p->state == PEER_IDLE) {
            session_start(n, p, now);
        } else if (p->state == PEER_HELLO_SENT && now >= p->hello_next) {
            n->counters.retransmits++;
            session_hello_again(n, p, now);
        }
        if (p->state == PEER_HELLO_SENT)
            next = min64(next, p->hello_next);
    }
    return next;
}
