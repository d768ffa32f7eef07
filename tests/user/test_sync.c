/* Mutexes and condition variables under contention: exact counts, producer and consumer. */
#include "utest.h"
#include "sync.h"
#include "thread.h"

#include <errno.h>
#include <stdint.h>

#define WORKERS 4
#define ROUNDS 3000

static pith_mutex_t count_lock;
static volatile uint64_t shared_count;

static void *add_under_lock(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        pith_mutex_lock(&count_lock);
        /* A read-modify-write that loses counts unless the lock excludes. */
        uint64_t v = shared_count;
        if (i % 64 == 0)
            pith_yield();                               /* let the others find it held */
        shared_count = v + 1;
        pith_mutex_unlock(&count_lock);
    }
    return 0;
}

UTEST(mutex_counts_exactly_under_contention)
{
    UT_EQ(pith_mutex_init(&count_lock), 0);
    shared_count = 0;
    pith_thread_t *t[WORKERS];
    for (int i = 0; i < WORKERS; i++)
        UT_EQ(pith_thread_create(&t[i], add_under_lock, 0), 0);
    for (int i = 0; i < WORKERS; i++)
        UT_EQ(pith_thread_join(t[i], 0), 0);
    UT_EQ(shared_count, WORKERS * ROUNDS);
    UT_ASSERT(count_lock.sleeps > 0);                   /* the slow path was taken */
    UT_EQ(count_lock.state, 0);
}

UTEST(uncontended_mutex_stays_out_of_the_kernel)
{
    pith_mutex_t m;
    UT_EQ(pith_mutex_init(&m), 0);
    for (int i = 0; i < 1000; i++) {
        pith_mutex_lock(&m);
        UT_EQ(pith_mutex_trylock(&m), EBUSY);
        pith_mutex_unlock(&m);
    }
    UT_EQ(m.sleeps, 0);
    /* Nobody was signalled either: the notification holds nothing. */
    struct pith_msg msg = { 0 };
    UT_EQ(pith_nbrecv(m.ntfn, &msg, 0), PITH_E_WOULD_BLOCK);
}

/* A bounded queue: producers wait while it is full, consumers while it is empty. */
#define SLOTS 4
#define ITEMS 400
static pith_mutex_t q_lock;
static pith_cond_t not_full, not_empty;
static uint64_t queue[SLOTS];
static unsigned q_head, q_count;

static void *produce(void *arg)
{
    uint64_t base = (uintptr_t)arg;
    for (uint64_t i = 1; i <= ITEMS; i++) {
        pith_mutex_lock(&q_lock);
        while (q_count == SLOTS)
            pith_cond_wait(&not_full, &q_lock);
        queue[(q_head + q_count++) % SLOTS] = base + i;
        pith_cond_signal(&not_empty);
        pith_mutex_unlock(&q_lock);
    }
    return 0;
}

static void *consume(void *arg)
{
    (void)arg;
    uint64_t sum = 0;
    for (int i = 0; i < ITEMS; i++) {
        pith_mutex_lock(&q_lock);
        while (q_count == 0)
            pith_cond_wait(&not_empty, &q_lock);
        sum += queue[q_head];
        q_head = (q_head + 1) % SLOTS;
        q_count--;
        pith_cond_signal(&not_full);
        pith_mutex_unlock(&q_lock);
    }
    return (void *)(uintptr_t)sum;
}

UTEST(condition_variables_producer_consumer)
{
    UT_EQ(pith_mutex_init(&q_lock), 0);
    UT_EQ(pith_cond_init(&not_full), 0);
    UT_EQ(pith_cond_init(&not_empty), 0);
    q_head = q_count = 0;
    pith_thread_t *p[2], *c[2];
    UT_EQ(pith_thread_create(&c[0], consume, 0), 0);
    UT_EQ(pith_thread_create(&c[1], consume, 0), 0);
    UT_EQ(pith_thread_create(&p[0], produce, (void *)0), 0);
    UT_EQ(pith_thread_create(&p[1], produce, (void *)100000), 0);
    uint64_t total = 0;
    for (int i = 0; i < 2; i++) {
        void *r;
        UT_EQ(pith_thread_join(p[i], 0), 0);
        UT_EQ(pith_thread_join(c[i], &r), 0);
        total += (uintptr_t)r;
    }
    /* Every item consumed exactly once: 2 * (1 + ... + ITEMS) + ITEMS * 100000. */
    UT_EQ(total, (uint64_t)ITEMS * (ITEMS + 1) + (uint64_t)ITEMS * 100000);
    UT_EQ(q_count, 0);
}

static pith_mutex_t gate_lock;
static pith_cond_t gate;
static int gate_open, waiting;

static void *wait_at_gate(void *arg)
{
    pith_mutex_lock(&gate_lock);
    waiting++;
    while (!gate_open)
        pith_cond_wait(&gate, &gate_lock);
    pith_mutex_unlock(&gate_lock);
    return arg;
}

UTEST(cond_broadcast_wakes_every_waiter)
{
    UT_EQ(pith_mutex_init(&gate_lock), 0);
    UT_EQ(pith_cond_init(&gate), 0);
    gate_open = waiting = 0;
    pith_thread_t *t[5];
    for (uintptr_t i = 0; i < 5; i++)
        UT_EQ(pith_thread_create(&t[i], wait_at_gate, (void *)i), 0);
    /* Let all five reach the wait (they run while we sleep). */
    for (int tries = 0; tries < 100 && waiting < 5; tries++)
        pith_sleep_ns(1000000);
    UT_EQ(waiting, 5);
    pith_cond_signal(&gate);                            /* one wakes, finds the gate shut, waits again */
    pith_mutex_lock(&gate_lock);
    gate_open = 1;
    pith_cond_broadcast(&gate);
    pith_mutex_unlock(&gate_lock);
    for (uintptr_t i = 0; i < 5; i++) {
        void *r;
        UT_EQ(pith_thread_join(t[i], &r), 0);
        UT_EQ((uintptr_t)r, i);
    }
}
