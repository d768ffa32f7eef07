/*
 * Mutexes and condition variables for native programs.  An uncontended
 * lock and unlock are one atomic instruction each, without entering the
 * kernel; a thread that must wait blocks on a notification
 * (docs/runtime.md explains why no wake-up is lost).
 */
#ifndef LIBC_SYNC_H
#define LIBC_SYNC_H

#include <stdint.h>

typedef struct {
    int state;                      /* 0 free, 1 held, 2 held and someone may wait */
    uint64_t ntfn;                  /* where waiters block */
    uint64_t sleeps;                /* times a locker blocked (statistics, tests) */
} pith_mutex_t;

/* 0, or ENOMEM when no notification can be made. */
int pith_mutex_init(pith_mutex_t *m);
void pith_mutex_lock(pith_mutex_t *m);
/* 0 if taken, EBUSY if held. */
int pith_mutex_trylock(pith_mutex_t *m);
void pith_mutex_unlock(pith_mutex_t *m);

struct pith_cond_waiter;

typedef struct {
    pith_mutex_t lock;              /* guards the queue */
    struct pith_cond_waiter *head, *tail;
} pith_cond_t;

int pith_cond_init(pith_cond_t *c);
/* Releases m, waits for a signal or broadcast, takes m again. */
void pith_cond_wait(pith_cond_t *c, pith_mutex_t *m);
/* Wakes the longest waiter, if any. */
void pith_cond_signal(pith_cond_t *c);
/* Wakes every thread waiting now. */
void pith_cond_broadcast(pith_cond_t *c);

#endif
