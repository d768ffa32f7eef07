/*
 * Mutexes: a word and a notification.  The word says free (0), held (1),
 * or held with possible waiters (2).  Lock: one compare-and-swap from 0 to
 * 1 when free.  Otherwise the locker swaps in 2, and while what it swapped
 * out was not 0 it waits on the notification and swaps again.  Unlock:
 * one decrement; only if the word was 2 does it store 0 and signal.
 *
 * No wake-up is lost: a notification keeps a signal that arrives before
 * its waiter blocks, so a waiter that saw the lock held and then waits
 * returns at once if the holder unlocked in between.  A stale signal only
 * costs a waiter one more swap.
 */
#include "sync.h"
#include "pith.h"

#include <errno.h>

int pith_mutex_init(pith_mutex_t *m)
{
    m->state = 0;
    m->sleeps = 0;
    m->ntfn = pith_object_new(PITH_OBJ_NOTIFICATION, 0);
    return m->ntfn ? 0 : ENOMEM;
}

void pith_mutex_lock(pith_mutex_t *m)
{
    int expected = 0;
    if (__atomic_compare_exchange_n(&m->state, &expected, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return;
    while (__atomic_exchange_n(&m->state, 2, __ATOMIC_ACQUIRE) != 0) {
        struct pith_msg msg = { 0 };
        __atomic_fetch_add(&m->sleeps, 1, __ATOMIC_RELAXED);
        pith_recv(m->ntfn, &msg, 0);
    }
}

int pith_mutex_trylock(pith_mutex_t *m)
{
    int expected = 0;
    return __atomic_compare_exchange_n(&m->state, &expected, 1, 0, __ATOMIC_ACQUIRE,
                                       __ATOMIC_RELAXED) ? 0 : EBUSY;
}

void pith_mutex_unlock(pith_mutex_t *m)
{
    if (__atomic_fetch_sub(&m->state, 1, __ATOMIC_RELEASE) != 1) {
        __atomic_store_n(&m->state, 0, __ATOMIC_RELEASE);
        pith_signal(m->ntfn);
    }
}
