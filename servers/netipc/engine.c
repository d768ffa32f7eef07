/*
 * One node identity at work: proxies for the imported services, the
 * receive thread, and the forwarding of peers' requests to the exported
 * local services.
 *
 * A local client calls PREFIX/NODE/svc/NAME with the service's own
 * generated stub.  The proxy turns the message (label and words) into a
 * request, lib/netipc carries it to the node, whose server calls its
 * local service with the same words and sends back the answer, which the
 * proxy gives the client as the service's own reply.  Capabilities never
 * cross: a message carrying one is refused with PITH_IDL_E_CAP.  When the
 * remote service died holding the call, or the node cannot be reached
 * within the transport's deadline, the proxy ends the client's call as a
 * dying server does (it deletes the reply object: PITH_E_PEER_DIED), so
 * the client library reports it as it reports a local restart
 * (PITH_IDL_E_RESTARTED, or PITH_IDL_E_NO_SERVER after its retries).
 */
#include "server.h"
#include "idl.h"
#include "resolver.h"
#include "socket.h"
#include "thread.h"
#include "tls.h"
#include "wire.h"

#include <stdio.h>
#include <string.h>

/* How long a node that just timed out fails new calls at once (so a client's retries end quickly). */
#define DOWN_NS         (1000ull * 1000 * 1000)
/* A local service must answer a peer's request within this, well inside the caller's deadline. */
#define LOCAL_TIMEOUT_NS (1000ull * 1000 * 1000)
/* The receive thread wakes at least this often to run lib/netipc's timers. */
#define TICK_NS         (20ull * 1000 * 1000)
/* Dropped-frame counters reach the console at most this often (an attacker must not flood it). */
#define SHOW_NS         (1000ull * 1000 * 1000)

/* ---- lib/netipc's callbacks (always under e->lock) ----------------------- */

static void on_send(void *ctx, struct netipc_peer *p, const uint8_t *frame, size_t len)
{
    udp_send(ctx, p, frame, len);
}

static void on_random(void *ctx, uint8_t *buf, size_t len)
{
    random_fill(buf, len);
}

static void on_request(void *ctx, struct netipc_peer *p, uint64_t id, const uint8_t *msg, size_t len)
{
    struct engine *e = ctx;
    /* Room for every request lib/netipc keeps running, so this never overflows. */
    if (e->nwork < WORK_MAX)
        e->work[e->nwork++] = (struct work){ .p = p, .id = id, .msg = msg, .len = len };
}

static void on_reply(void *ctx, void *cookie, int status, const uint8_t *msg, size_t len)
{
    struct waiter *w = cookie;
    w->status = status;
    w->len = len;
    if (msg)
        memcpy(w->rep, msg, len);
    __atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
    pith_signal(w->ntfn);
}

/* ---- the proxies ---------------------------------------------------------- */

struct proxy {
    struct engine *e;
    uint64_t reply;
    struct waiter w;
};

/* Ends the caller's call as a dead server would: the reply object goes, and a new one serves on. */
static void fail_call(struct proxy *px)
{
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, px->reply, 0, 0, 0);
    pith_slot_free(px->reply);
    px->reply = pith_object_new(PITH_OBJ_REPLY, 0);
    /* Without one every call through this thread fails at once (PITH_E_PEER_DIED): say why. */
    if (!px->reply)
        printf("netipc: no memory for a proxy's reply object\n");
}

/* One call through the proxy: true if *m (and the IPC buffer) now hold the answer to send. */
static bool proxy_call(struct proxy *px, struct pith_msg *m, struct pith_ipc_buffer *buf)
{
    struct engine *e = px->e;
    if (m->badge == 0 || m->badge > e->conf.nimports) {
        m->tag = PITH_TAG(PITH_IDL_E_LABEL, 0);
        return true;
    }
    const struct conf_import *im = &e->conf.imports[m->badge - 1];
    if (m->tag & (PITH_TAG_CAP | PITH_TAG_CAP_LOST)) {
        printf("netipc: a call to %s/%llu%s carried a capability: refused (capabilities do not cross nodes)\n",
               e->conf.prefix, (unsigned long long)im->node, im->name);
        m->tag = PITH_TAG(PITH_IDL_E_CAP, 0);
        return true;
    }
    uint64_t words[WIRE_WORDS_MAX], label;
    unsigned n = (unsigned)PITH_TAG_LENGTH(m->tag);
    for (unsigned i = 0; i < n; i++)
        words[i] = *pith_idl_word(m, buf, i);
    uint8_t req[NETIPC_MSG_MAX];
    size_t len = wire_request(req, sizeof req, im->name, PITH_TAG_LABEL(m->tag), words, n);
    struct netipc_peer *p = netipc_peer(&e->n, im->node);
    size_t pi = (size_t)(p - e->peers);

    pith_mutex_lock(&e->lock);
    uint64_t now = now_ns();
    int status = NETIPC_E_UNREACHABLE;
    if (now >= e->down_until[pi]) {
        __atomic_store_n(&px->w.done, 0, __ATOMIC_RELAXED);
        status = netipc_call(&e->n, p, req, len, &px->w, now);
    }
    pith_mutex_unlock(&e->lock);
    /* Waited for outside the lock: the receive thread fills w and signals us (lib/netipc ends
     * every call by its deadline), and we need not take the lock again to read it. */
    while (status == NETIPC_OK && !__atomic_load_n(&px->w.done, __ATOMIC_ACQUIRE)) {
        struct pith_msg msg = { 0 };
        pith_recv(px->w.ntfn, &msg, 0);
    }
    if (status == NETIPC_OK)
        status = px->w.status;
    if (status == NETIPC_E_UNREACHABLE) {
        pith_mutex_lock(&e->lock);
        e->down_until[pi] = now_ns() + DOWN_NS;
        pith_mutex_unlock(&e->lock);
    }

    int wstatus;
    if (status != NETIPC_OK || !wire_parse_reply(px->w.rep, px->w.len, &wstatus, &label, words, &n) ||
        wstatus != WIRE_OK) {
        fail_call(px);
        return false;
    }
    m->tag = PITH_TAG(label, n);
    for (unsigned i = 0; i < n; i++)
        *pith_idl_word(m, buf, i) = words[i];
    return true;
}

static void *proxy_main(void *arg)
{
    struct proxy *px = arg;
    struct pith_ipc_buffer *buf = pith_tls_self()->ipc_buffer;
    px->w.ntfn = pith_tls_self()->ntfn;
    struct pith_msg m;
    bool answer = false;
    for (;;) {
        /* A capability offered to us is not taken: it arrives as PITH_TAG_CAP_LOST and is refused. */
        buf->recv_slot = 0;
        buf->send_cap = 0;
        long err = answer ? pith_reply_recv(px->e->proxy_ep, &m, px->reply) : pith_recv(px->e->proxy_ep, &m, px->reply);
        answer = false;
        if (err == PITH_E_CANCELLED || err == PITH_E_SLOT_EMPTY || err == PITH_E_WRONG_TYPE) {
            printf("netipc: a proxy stopped (error %ld)\n", err);
            return NULL;
        }
        if (err)
            continue;       /* the caller went away before its answer: serve the next */
        answer = proxy_call(px, &m, buf);
    }
}

/* ---- peers' requests ------------------------------------------------------ */

struct binding {
    char name[CONF_NAME_MAX + 1];
    struct pith_client c;
};

/* The receive thread's bindings to the exported services, made on first use. */
static struct pith_client *export_client(struct engine *e, struct binding *b, const char *name)
{
    for (unsigned i = 0; i < e->conf.nexports; i++) {
        if (!strcmp(b[i].name, name))
            return &b[i].c;
        if (!b[i].name[0]) {
            strcpy(b[i].name, name);
            pith_client_init(&b[i].c, b[i].name, &names_resolver, pith_slot_alloc(), pith_tls_self()->ipc_buffer);
            b[i].c.timeout_ns = LOCAL_TIMEOUT_NS;
            return &b[i].c;
        }
    }
    return NULL;
}

/* Runs one request against the local service and answers it: the service's reply, or why there is none. */
static void serve(struct engine *e, struct binding *b, const struct work *w)
{
    char name[WIRE_NAME_MAX + 1];
    uint64_t words[WIRE_WORDS_MAX], label;
    unsigned n;
    int status = WIRE_NO_SERVICE;
    uint8_t rep[NETIPC_MSG_MAX];
    struct pith_client *c;
    if (wire_parse_request(w->msg, w->len, name, &label, words, &n) && conf_exports(&e->conf, name) &&
        (c = export_client(e, b, name))) {
        struct pith_ipc_buffer *buf = c->buf;
        struct pith_msg m = { .tag = PITH_TAG(label, n) };
        for (unsigned i = 0; i < n; i++)
            *pith_idl_word(&m, buf, i) = words[i];
        buf->recv_slot = 0;
        /* Not idempotent as far as we know: a service that died holding it is reported, not asked again. */
        long err = pith_idl_call(c, &m, false);
        status = WIRE_OK;
        if (err) {
            status = WIRE_DIED;
            label = (uint64_t)err;
            n = 0;
        } else if (m.tag & (PITH_TAG_CAP | PITH_TAG_CAP_LOST)) {
            label = PITH_IDL_E_CAP;     /* a capability in the answer cannot cross either */
            n = 0;
        } else {
            label = PITH_TAG_LABEL(m.tag);
            n = (unsigned)PITH_TAG_LENGTH(m.tag);
            for (unsigned i = 0; i < n; i++)
                words[i] = *pith_idl_word(&m, buf, i);
        }
    } else {
        label = 0;
        n = 0;
    }
    size_t len = wire_reply(rep, sizeof rep, status, label, words, n);
    pith_mutex_lock(&e->lock);
    netipc_reply(&e->n, w->p, w->id, rep, len);
    pith_mutex_unlock(&e->lock);
}

/* Says on the console when frames were dropped, by reason (the tests read these lines), at most once a second. */
static void show_counters(struct engine *e, uint64_t now)
{
    struct netipc_counters *c = &e->n.counters, *s = &e->shown;
    if (now < e->shown_at + SHOW_NS || !memcmp(c, s, sizeof *c))
        return;
    printf("netipc: node %llu: dropped auth_failed=%llu replayed=%llu malformed=%llu unknown_peer=%llu "
           "unknown_conn=%llu stale=%llu busy=%llu; calls timed out=%llu; frames sent again=%llu\n",
           (unsigned long long)e->conf.node, (unsigned long long)c->auth_failed, (unsigned long long)c->replayed,
           (unsigned long long)c->malformed, (unsigned long long)c->unknown_peer,
           (unsigned long long)c->unknown_conn, (unsigned long long)c->stale, (unsigned long long)c->busy,
           (unsigned long long)c->timeouts, (unsigned long long)c->retransmits);
    *s = *c;
    e->shown_at = now;
}

static void *receive_main(void *arg)
{
    struct engine *e = arg;
    static uint8_t frame[FRAME_ROOM];
    struct binding bindings[CONF_EXPORTS];
    struct work todo[WORK_MAX];
    memset(bindings, 0, sizeof bindings);
    for (;;) {
        pith_mutex_lock(&e->lock);
        uint64_t now = now_ns(), next = netipc_poll(&e->n, now);
        show_counters(e, now);
        pith_mutex_unlock(&e->lock);
        uint64_t wait = next > now ? next - now : 1;
        size_t len;
        long err = udp_recv(e, frame, &len, wait < TICK_NS ? wait : TICK_NS);
        if (err == SOCKET_E_TIMEOUT)
            continue;
        if (err) {
            /* Not a timeout: the network server restarted and our socket went with it. */
            pith_sleep_ns(TICK_NS * 5);
            pith_mutex_lock(&e->lock);
            udp_reopen(e);
            pith_mutex_unlock(&e->lock);
            continue;
        }
        pith_mutex_lock(&e->lock);
        netipc_input(&e->n, frame, len, now_ns());
        unsigned count = e->nwork;
        memcpy(todo, e->work, count * sizeof todo[0]);
        e->nwork = 0;
        pith_mutex_unlock(&e->lock);
        /* Requests run here, outside the lock; their bytes stay put while lib/netipc holds them running. */
        for (unsigned i = 0; i < count; i++)
            serve(e, bindings, &todo[i]);
    }
    return NULL;
}

/* ---- start-up ------------------------------------------------------------- */

static long publish_imports(struct engine *e)
{
    e->proxy_ep = pith_object_new(PITH_OBJ_ENDPOINT, 0);
    if (!e->proxy_ep)
        return PITH_E_NO_MEMORY;
    for (unsigned i = 0; i < e->conf.nimports; i++) {
        const struct conf_import *im = &e->conf.imports[i];
        char name[CONF_NAME_MAX + 1];
        int len = snprintf(name, sizeof name, "%s/%llu%s", e->conf.prefix, (unsigned long long)im->node, im->name);
        if (len < 0 || len >= (int)sizeof name) {
            printf("netipc: %s/%llu%s: name too long\n", e->conf.prefix, (unsigned long long)im->node, im->name);
            return PITH_E_INVALID_ARG;
        }
        /* Each import is the one endpoint under its own badge, which tells the proxy where to go. */
        uint64_t slot = pith_slot_alloc();
        long err = pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_MINT, slot, e->proxy_ep, PITH_RIGHTS_ALL, i + 1);
        if (!err)
            err = register_name(name, slot);
        if (err) {
            printf("netipc: cannot publish %s (error %#lx)\n", name, err);
            return err;
        }
    }
    return 0;
}

long engine_start(struct engine *e)
{
    pith_mutex_init(&e->lock);
    struct netipc_config cfg = { .node = e->conf.node, .ctx = e, .send = on_send, .random = on_random,
                                 .request = on_request, .reply = on_reply };
    memcpy(cfg.secret_key, e->conf.secret_key, sizeof cfg.secret_key);
    /* Stamps and call ids must grow across restarts: the wall clock (RTC) plus the monotonic one. */
    cfg.wall_base = wall_base_ns;
    for (unsigned i = 0; i < e->conf.npeers; i++) {
        e->addrs[i] = (struct udp_addr){ .ip = e->conf.peers[i].ip, .port = e->conf.peers[i].port };
        e->peers[i] = (struct netipc_peer){ .node = e->conf.peers[i].node, .addr = &e->addrs[i] };
        memcpy(e->peers[i].public_key, e->conf.peers[i].public_key, 32);
    }
    netipc_init(&e->n, &cfg, e->peers, e->conf.npeers, now_ns());
    long err = udp_open(e);
    if (!err)
        err = publish_imports(e);
    if (err)
        return err;
    static struct proxy proxies[PROXY_THREADS];
    pith_thread_t *t;
    if (pith_thread_create(&t, receive_main, e)) {
        printf("netipc: cannot start the receive thread\n");
        return PITH_E_NO_MEMORY;
    }
    for (int i = 0; i < PROXY_THREADS; i++) {
        proxies[i].e = e;
        proxies[i].reply = pith_object_new(PITH_OBJ_REPLY, 0);
        if (!proxies[i].reply || pith_thread_create(&t, proxy_main, &proxies[i])) {
            printf("netipc: cannot start proxy thread %d\n", i);
            return PITH_E_NO_MEMORY;
        }
    }
    uint8_t pub[32];
    netipc_public_key(pub, e->conf.secret_key);
    printf("netipc: node %llu on UDP port %u, %u peers, %u exports, %u imports; public key ",
           (unsigned long long)e->conf.node, e->conf.port, e->conf.npeers, e->conf.nexports, e->conf.nimports);
    for (int i = 0; i < 32; i++)
        printf("%02x", pub[i]);
    printf("\n");
    return 0;
}
