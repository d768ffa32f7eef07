/*
 * The runtime of generated interface code: calls through a binding that
 * looks its server up again when it dies, and the byte-string helpers.
 */
#include "idl.h"
#include "lib/string.h"

void pith_client_init(struct pith_client *c, const char *name, const struct pith_resolver *r,
                      uint64_t ep_slot, struct pith_ipc_buffer *buf)
{
    c->name = name;
    c->resolver = r;
    c->ep_slot = ep_slot;
    c->buf = buf;
    c->bound = false;
    c->retries = PITH_IDL_DEFAULT_RETRIES;
    c->timeout_ns = 0;
    c->rebinds = 0;
}

void pith_idl_drop(uint64_t slot)
{
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, slot, 0, 0, 0);
}

/* Looks the name up into the binding's slot, waiting a little longer each time it is not there yet. */
static long bind(struct pith_client *c, unsigned *attempt)
{
    for (;;) {
        pith_idl_drop(c->ep_slot);
        if (c->resolver->lookup(c->resolver->ctx, c->name, c->ep_slot) == 0) {
            c->bound = true;
            return PITH_OK;
        }
        if (*attempt >= c->retries)
            return PITH_IDL_E_NO_SERVER;
        /* A restarting server registers again soon: 1 ms, 2 ms, 4 ms, ... */
        pith_sleep_ns(1000000ull << (*attempt < 10 ? *attempt : 10));
        ++*attempt;
    }
}

/* The request is kept in the binding while the resolver (which may do IPC of its own) runs. */
static void save(struct pith_client *c, const struct pith_msg *m)
{
    c->saved[0] = c->buf->send_cap;
    c->saved[1] = c->buf->recv_slot;
    for (unsigned i = PITH_MSG_REGS; i < PITH_TAG_LENGTH(m->tag); i++)
        c->saved[2 + i] = c->buf->msg[i];
}

static void restore(struct pith_client *c, const struct pith_msg *m)
{
    c->buf->send_cap = c->saved[0];
    c->buf->recv_slot = c->saved[1];
    for (unsigned i = PITH_MSG_REGS; i < PITH_TAG_LENGTH(m->tag); i++)
        c->buf->msg[i] = c->saved[2 + i];
}

static long bind_keeping(struct pith_client *c, const struct pith_msg *request, unsigned *attempt)
{
    save(c, request);
    long err = bind(c, attempt);
    restore(c, request);
    return err;
}

long pith_idl_call(struct pith_client *c, struct pith_msg *m, bool idempotent)
{
    unsigned attempt = 0;
    long err;
    struct pith_msg request = *m;       /* the registers come back changed even when a call fails */
    if (!c->bound && (err = bind_keeping(c, &request, &attempt)))
        return err;
    for (;;) {
        /* A timed call gives up waiting for a receiver and for the answer alike; a late answer finds nobody. */
        err = c->timeout_ns ? pith_syscall_timed(PITH_SYS_CALL_TIMED, c->ep_slot, m, 0, c->timeout_ns)
                            : pith_call(c->ep_slot, m);
        if (err == PITH_OK)
            return PITH_OK;
        bool undelivered = err == PITH_E_SLOT_EMPTY || err == PITH_E_WRONG_TYPE;
        if (!undelivered && err != PITH_E_PEER_DIED && err != PITH_E_CANCELLED)
            return err;                 /* not a server that went away: the caller's problem */
        c->bound = false;
        c->rebinds++;
        if (!idempotent && !undelivered)
            return PITH_IDL_E_RESTARTED;
        if (attempt >= c->retries)
            return PITH_IDL_E_NO_SERVER;
        attempt++;
        /* A failed call leaves our IPC buffer as it was: only an answer writes it. */
        if ((err = bind_keeping(c, &request, &attempt)))
            return err;
        *m = request;
    }
}

void pith_idl_put_bytes(struct pith_ipc_buffer *b, unsigned at, const void *src, uint64_t len)
{
    if (!len)
        return;
    b->msg[at + pith_idl_words(len) - 1] = 0;
    memcpy(&b->msg[at], src, len);
}

void pith_idl_get_bytes(const struct pith_ipc_buffer *b, unsigned at, void *dst, uint64_t len)
{
    if (len)
        memcpy(dst, &b->msg[at], len);
}

bool pith_idl_no_nul(const struct pith_ipc_buffer *b, unsigned at, uint64_t len)
{
    const char *s = (const char *)&b->msg[at];
    for (uint64_t i = 0; i < len; i++)
        if (!s[i])
            return false;
    return true;
}

uint64_t pith_idl_strlen(const char *s, uint64_t max)
{
    uint64_t n = 0;
    while (n <= max && s[n])
        n++;
    return n;
}

bool pith_idl_can_send(const struct pith_server *s, uint64_t slot)
{
    if (!slot || slot == s->cap_slot)
        return false;           /* the received one is deleted before the reply goes */
    struct pith_msg m = { .w = { slot } };
    return pith_invoke(PITH_SLOT_CSPACE, PITH_CNODE_IDENTIFY, &m) == PITH_OK && m.w[0] != PITH_OBJ_NULL;
}
