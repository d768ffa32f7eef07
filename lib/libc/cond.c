/*
 * Condition variables: a queue of waiting threads, first come first
 * served.  Each waiter puts a record on its own stack into the queue and
 * blocks on its thread's private notification until the record is marked
 * woken; signal takes the first record off the queue, marks it and signals
 * that thread's notification.  The mark is what the waiter trusts: the
 * notification keeps a signal that comes before the waiter blocks, and a
 * stale one left from an earlier wait only makes it look at the mark again.
 */
#include "sync.h"
#include "pith.h"
#include "tls.h"

struct pith_cond_waiter {
    struct pith_cond_waiter *next;
    uint64_t ntfn;
    int woken;                          /* atomic: set by the waker */
};

int pith_cond_init(pith_cond_t *c)
{
    c->head = c->tail = 0;
    return pith_mutex_init(&c->lock);
}

void pith_cond_wait(pith_cond_t *c, pith_mutex_t *m)
{
    struct pith_cond_waiter w = { 0, pith_tls_self()->ntfn, 0 };
    pith_mutex_lock(&c->lock);
    if (c->tail)
        c->tail->next = &w;
    else
        c->head = &w;
    c->tail = &w;
    pith_mutex_unlock(&c->lock);
    pith_mutex_unlock(m);
    while (!__atomic_load_n(&w.woken, __ATOMIC_ACQUIRE)) {
        struct pith_msg msg = { 0 };
        pith_recv(w.ntfn, &msg, 0);
    }
    pith_mutex_lock(m);
}

/* Wakes w; once woken is set the record may vanish with the waiter's stack. */
static void wake(struct pith_cond_waiter *w)
{
    uint64_t ntfn = w->ntfn;
    __atomic_store_n(&w->woken, 1, __ATOMIC_RELEASE);
    pith_signal(ntfn);
}

void pith_cond_signal(pith_cond_t *c)
{
    pith_mutex_lock(&c->lock);
    struct pith_cond_waiter *w = c->head;
    if (w && !(c->head = w->next))
        c->tail = 0;
    pith_mutex_unlock(&c->lock);
    if (w)
        wake(w);
}

void pith_cond_broadcast(pith_cond_t *c)
{
    pith_mutex_lock(&c->lock);
    struct pith_cond_waiter *w = c->head;
    c->head = c->tail = 0;
    pith_mutex_unlock(&c->lock);
    while (w) {
        struct pith_cond_waiter *next = w->next;
        wake(w);
        w = next;
    }
}
