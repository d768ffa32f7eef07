/*
 * The name service (servers/names/names.idl), a thread of init.  A name
 * maps to an endpoint capability kept in one of init's slots.  Who may
 * publish where is decided by the badge of the capability the request came
 * through: process i's capability carries badge i + 1, and its manifest
 * entry says under which prefix it may publish.  Init itself (badge 0) may
 * publish anywhere.  A process's names go when it ends (names_forget).
 *
 * The table has a lock of its own, held only for a few instructions, and
 * never takes names_lock, which is held across whole process starts: a
 * server publishing its name must not wait for another process to load.
 */
#include "init.h"
#include "idl.h"
#include "names.h"
#include "thread.h"
#include "tls.h"

#include <string.h>

#define NAMES_MAX 32

static struct {
    bool used;
    char name[NAMES_LOOKUP_NAME_MAX + 1];
    int owner;                  /* process index, or -1 for init */
    char owner_name[MANIFEST_NAME_MAX + 1];
    uint64_t slot;              /* our capability to the endpoint */
} table[NAMES_MAX];
static pith_mutex_t names_lock;
static uint64_t published_ntfn;         /* signalled on every publish and end (names_wait_published) */

struct names_ctx {
    struct pith_server srv;
    uint64_t badge;             /* of the request being served */
};

static bool valid(const char *name)
{
    size_t n = strlen(name);
    return n >= 2 && name[0] == '/' && name[n - 1] != '/' && !strstr(name, "//");
}

static int find(const char *name)
{
    for (int i = 0; i < NAMES_MAX; i++)
        if (table[i].used && !strcmp(table[i].name, name))
            return i;
    return -1;
}

static void drop(int i)
{
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, table[i].slot, 0, 0, 0);
    pith_slot_free(table[i].slot);
    table[i].used = false;
}

/* The process behind a badge (-1: init itself); -2 if the badge names nobody.
 * A table entry's name and prefix never change once it is in use. */
static int caller(uint64_t badge)
{
    if (badge == 0)
        return -1;
    if (badge > PROC_MAX || !procs[badge - 1].used)
        return -2;
    return (int)badge - 1;
}

/*
 * A restarted server publishing its name again is serving again: the time
 * since it ended, and the part of it that was the supervisor's backoff
 * (make bench reports the rest as pith.server_restart).
 */
static void report_restart(struct proc *p)
{
    if (!__atomic_exchange_n(&p->timing_restart, false, __ATOMIC_ACQ_REL))
        return;
    uint64_t now = now_ns();
    printf("init: %s serving again %lu us after it ended (backoff %lu us)\n", p->cfg.name,
           (now - p->ended_at) / 1000, p->backoff / 1000);
}

static bool may_publish(int who, const char *name)
{
    return who == -1 || (who >= 0 && manifest_prefix_allows(procs[who].cfg.prefix, name));
}

static long publish(void *ctx, const char *name, uint64_t ep)
{
    struct names_ctx *c = ctx;
    if (!valid(name))
        return NAMES_E_BAD_NAME;
    int who = caller(c->badge);
    if (!may_publish(who, name))
        return NAMES_E_DENIED;
    pith_mutex_lock(&names_lock);
    long err = NAMES_E_FULL;
    int i = find(name);
    if (i >= 0 && table[i].owner != who)
        err = NAMES_E_DENIED;   /* a name under another's prefix cannot be ours (manifest checks overlap) */
    else {
        if (i >= 0)
            drop(i);
        for (i = 0; i < NAMES_MAX && table[i].used; i++)
            ;
        if (i < NAMES_MAX) {
            uint64_t slot = pith_slot_alloc();
            /* Keep the capability: the dispatch deletes whatever is left in cap_slot. */
            if (pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_MOVE, slot, ep, 0, 0) == PITH_OK) {
                table[i].used = true;
                strcpy(table[i].name, name);
                table[i].owner = who;
                if (who >= 0)
                    report_restart(&procs[who]);
                strcpy(table[i].owner_name, who < 0 ? "init" : procs[who].cfg.name);
                table[i].slot = slot;
                err = 0;
            } else {
                pith_slot_free(slot);
                err = NAMES_E_BAD_NAME;
            }
        }
    }
    pith_mutex_unlock(&names_lock);
    if (!err)
        pith_signal(published_ntfn);
    return err;
}

/* The reply's capability must outlive the handler: a copy kept until the next lookup. */
static uint64_t lookup_slot;

/*
 * A lookup hands out the endpoint badged with the caller (process i: i +
 * 1, the badge of its capability to us), unless the server published it
 * badged already: so a server knows its clients by something they cannot
 * forge (the PCI server its drivers, a block driver each client's buffer
 * window).  Init's own lookups (badge 0) get the plain capability.
 */
static long lookup(void *ctx, const char *name, uint64_t *ep)
{
    struct names_ctx *c = ctx;
    if (!valid(name))
        return NAMES_E_BAD_NAME;
    pith_mutex_lock(&names_lock);
    long err = NAMES_E_NOT_FOUND;
    int i = find(name);
    if (i >= 0) {
        pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, lookup_slot, 0, 0, 0);
        struct pith_msg id = { .w = { table[i].slot } };
        bool badged = pith_invoke(PITH_SLOT_CSPACE, PITH_CNODE_IDENTIFY, &id) != PITH_OK || id.w[2] != 0;
        uint64_t op = c->badge && !badged ? PITH_CNODE_MINT : PITH_CNODE_COPY;
        if (pith_invoke4(PITH_SLOT_CSPACE, op, lookup_slot, table[i].slot,
                         PITH_RIGHT_WRITE | PITH_RIGHT_GRANT, op == PITH_CNODE_MINT ? c->badge : 0) == PITH_OK) {
            *ep = lookup_slot;
            err = 0;
        }
    }
    pith_mutex_unlock(&names_lock);
    return err;
}

static long withdraw(void *ctx, const char *name)
{
    struct names_ctx *c = ctx;
    if (!valid(name))
        return NAMES_E_BAD_NAME;
    pith_mutex_lock(&names_lock);
    int i = find(name), who = caller(c->badge);
    long err = i < 0 ? NAMES_E_NOT_FOUND : table[i].owner != who && who != -1 ? NAMES_E_DENIED : 0;
    if (!err)
        drop(i);
    pith_mutex_unlock(&names_lock);
    return err;
}

static long list(void *ctx, uint32_t index, char *name, char *owner)
{
    pith_mutex_lock(&names_lock);
    long err = NAMES_E_NOT_FOUND;
    for (int i = 0; i < NAMES_MAX; i++)
        if (table[i].used && index-- == 0) {
            strcpy(name, table[i].name);
            strcpy(owner, table[i].owner_name);
            err = 0;
            break;
        }
    pith_mutex_unlock(&names_lock);
    return err;
}

/* Called as a process ends: a waiter for its name (names_wait_published) looks again at once. */
void names_forget(int owner)
{
    pith_mutex_lock(&names_lock);
    for (int i = 0; i < NAMES_MAX; i++)
        if (table[i].used && table[i].owner == owner)
            drop(i);
    pith_mutex_unlock(&names_lock);
    pith_signal(published_ntfn);
}

/*
 * Waits at most max_ns or until a name is published or a process ends,
 * whichever is first: init's main thread waiting for a program's name is
 * woken by the publish itself, or by the program's end without one; it
 * still looks again every max_ns.
 */
void names_wait_published(uint64_t max_ns)
{
    struct pith_msg m = { 0 };
    pith_syscall_timed(PITH_SYS_RECV_TIMED, published_ntfn, &m, 0, max_ns);
}

bool names_has_prefix(const char *prefix)
{
    bool found = false;
    pith_mutex_lock(&names_lock);
    for (int i = 0; i < NAMES_MAX && !found; i++)
        found = table[i].used && manifest_prefix_allows(prefix, table[i].name);
    pith_mutex_unlock(&names_lock);
    return found;
}

static const struct names_handlers handlers = {
    .publish = publish, .lookup = lookup, .withdraw = withdraw, .list = list,
};

/* The generated serve loop does not show handlers the badge; this one keeps it for them. */
static void *serve(void *arg)
{
    struct names_ctx c = { .srv = { .ep = names_ep, .reply = pith_object_new(PITH_OBJ_REPLY, 0),
                                    .cap_slot = pith_slot_alloc(), .buf = pith_tls_self()->ipc_buffer } };
    lookup_slot = pith_slot_alloc();
    struct pith_msg m = { 0 };
    c.srv.buf->recv_slot = c.srv.cap_slot;
    long err = pith_recv(c.srv.ep, &m, c.srv.reply);
    while (err == PITH_OK) {
        c.badge = m.badge;
        names_dispatch(&handlers, &c, &c.srv, &m);
        c.srv.buf->recv_slot = c.srv.cap_slot;
        err = pith_reply_recv(c.srv.ep, &m, c.srv.reply);
    }
    printf("init: the name service stopped (error %ld)\n", err);
    return NULL;
}

void names_start(void)
{
    pith_thread_t *t;
    pith_mutex_init(&names_lock);
    published_ntfn = pith_object_new(PITH_OBJ_NOTIFICATION, 0);
    if (pith_thread_create(&t, serve, NULL))
        printf("init: cannot start the name service thread\n");
}
