/*
 * Threads.  Each thread owns a window of STACK_WINDOW bytes above
 * PITH_STACKS_BASE: a guard page, STACK_PAGES of stack, a guard page, its
 * IPC buffer, and unmapped space after.  A joined thread's TCB, pages and
 * notifications go back to a pool and are reused by the next thread, since
 * kernel objects cannot be given back to the runtime's untyped one by one.
 */
#include "thread.h"
#include "heap.h"
#include "pith.h"
#include "process.h"
#include "sync.h"
#include "tls.h"

#include <errno.h>
#include <stdlib.h>

uint64_t pith_init_thread_fault_ep;

#define PITH_STACKS_BASE PITH_HEAP_LIMIT
#define STACK_WINDOW    0x20000ull
#define STACK_PAGES     8
#define IPC_OFFSET      ((STACK_PAGES + 2) * PITH_PAGE)

struct pith_thread {
    uint64_t tcb, done_ntfn, window;
    struct pith_tls *tls;
    void *(*fn)(void *);
    void *arg, *result;
    int done;                           /* atomic: set by the thread as it ends */
    struct pith_thread *next_free;
};

static pith_mutex_t pool_lock;
static struct pith_thread *pool;
static uint64_t windows;

void pith_threads_init(void)
{
    if (pith_mutex_init(&pool_lock)) {
        puts_log("libc: no notification for the thread pool\n");
        pith_end_task(1);
    }
}

/* A thread's kernel objects and pages, made once; NULL when memory runs out. */
static struct pith_thread *make_kit(void)
{
    struct pith_thread *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    pith_mutex_lock(&pool_lock);
    t->window = PITH_STACKS_BASE + windows++ * STACK_WINDOW;
    pith_mutex_unlock(&pool_lock);
    uint64_t ipc = pith_object_new(PITH_OBJ_FRAME, 0);
    t->tcb = pith_object_new(PITH_OBJ_TCB, 0);
    t->done_ntfn = pith_object_new(PITH_OBJ_NOTIFICATION, 0);
    int bad = !ipc || !t->tcb || !t->done_ntfn;
    /* The stack's frames in one retype, mapped in one invocation (two, across a 2 MiB line). */
    uint64_t stack = bad ? 0 : pith_retype_range(0, PITH_OBJ_FRAME, 0, STACK_PAGES);
    bad = bad || !stack || pith_map_frames(PITH_SLOT_VSPACE, PITH_SLOT_CSPACE, stack, t->window + PITH_PAGE,
                                           STACK_PAGES, PITH_RIGHT_READ | PITH_RIGHT_WRITE, 0);
    bad = bad || pith_map_page(ipc, t->window + IPC_OFFSET, PITH_RIGHT_READ | PITH_RIGHT_WRITE, 0);
    bad = bad || !(t->tls = pith_tls_new((struct pith_ipc_buffer *)(t->window + IPC_OFFSET), t->tcb));
    /* In a started process every thread's faults go to the supervisor, as the main thread's do. */
    uint64_t fault = !pith_bootinfo ? 0 : pith_is_init() ? pith_init_thread_fault_ep : PITH_SLOT_FAULT;
    bad = bad || pith_invoke4(t->tcb, PITH_TCB_CONFIGURE, PITH_SLOT_CSPACE, PITH_SLOT_VSPACE, ipc, fault);
    if (bad) {
        /* The objects already made stay unused: untyped memory cannot be handed back piecemeal. */
        free(t);
        return NULL;
    }
    t->tls->thread = t;
    return t;
}

static void thread_start(struct pith_thread *t) __attribute__((noreturn, used));
static void thread_start(struct pith_thread *t)
{
    pith_thread_exit(t->fn(t->arg));
}

int pith_thread_create(pith_thread_t **out, void *(*fn)(void *), void *arg)
{
    pith_mutex_lock(&pool_lock);
    struct pith_thread *t = pool;
    if (t)
        pool = t->next_free;
    pith_mutex_unlock(&pool_lock);
    if (!t && !(t = make_kit()))
        return ENOMEM;
    t->fn = fn;
    t->arg = arg;
    t->result = 0;
    t->done = 0;
    t->tls->errno_value = 0;
    /* At our own priority, with our own ceiling. */
    struct pith_msg info = { 0 };
    pith_invoke(pith_tls_self()->tcb, PITH_TCB_INFO, &info);
    uint64_t top = t->window + (STACK_PAGES + 1) * PITH_PAGE;
    if (pith_invoke4(t->tcb, PITH_TCB_SET_PRIORITY, info.w[2], info.w[3], 0, 0) ||
        pith_invoke4(t->tcb, PITH_TCB_SET_TLS, (uint64_t)t->tls, 0, 0, 0) ||
        /* rip, rsp (16-byte aligned less the return slot, as after a call), rdi */
        pith_invoke4(t->tcb, PITH_TCB_WRITE_REGISTERS, (uint64_t)thread_start, top - 8, (uint64_t)t, 0) ||
        pith_invoke4(t->tcb, PITH_TCB_RESUME, 0, 0, 0, 0)) {
        pith_mutex_lock(&pool_lock);
        t->next_free = pool;
        pool = t;
        pith_mutex_unlock(&pool_lock);
        return EAGAIN;
    }
    *out = t;
    return 0;
}

_Noreturn void pith_thread_exit(void *result)
{
    struct pith_thread *t = pith_tls_self()->thread;
    if (!t)
        exit(0);
    t->result = result;
    __atomic_store_n(&t->done, 1, __ATOMIC_RELEASE);
    pith_signal(t->done_ntfn);
    /* The joiner suspends us; until then, wait without using the CPU. */
    for (;;)
        pith_sleep_ns(1000000000000ull);
}

int pith_thread_join(pith_thread_t *t, void **result)
{
    if (!t || t == pith_thread_self())
        return EINVAL;
    while (!__atomic_load_n(&t->done, __ATOMIC_ACQUIRE)) {
        struct pith_msg m = { 0 };
        pith_recv(t->done_ntfn, &m, 0);
    }
    /* Stopped for good before its stack and TCB are handed to another thread. */
    pith_invoke4(t->tcb, PITH_TCB_SUSPEND, 0, 0, 0, 0);
    if (result)
        *result = t->result;
    pith_mutex_lock(&pool_lock);
    t->next_free = pool;
    pool = t;
    pith_mutex_unlock(&pool_lock);
    return 0;
}

pith_thread_t *pith_thread_self(void)
{
    return pith_tls_self()->thread;
}

uint64_t pith_thread_tcb(pith_thread_t *t)
{
    return t->tcb;
}
