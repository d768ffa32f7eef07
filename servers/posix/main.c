/*
 * The POSIX personality's server: publishes /svc/posix (posix.idl) and
 * serves, on the same endpoint and in one thread, its protocol and the
 * fault messages of the Linux processes it runs (badged FAULT_BADGE +
 * process slot).  An answer that must wait (wait for a running process,
 * nanosleep) keeps its reply object, and the loop receives with a fresh
 * one; the kept one is answered when the time comes.
 */
#include "personality.h"
#include "posix.h"
#include "console.h"
#include "fs.h"
#include "process.h"
#include "resolver.h"
#include "tls.h"

#include <pith/fault.h>
#include <stdio.h>
#include <string.h>

#define REPLY_POOL 8
#define SIGNAL_RETRY_NS 1000000u

struct pith_client fs, console;
const struct pith_time_page *time_page;
uint64_t chunk_cap[CHUNK_MAX], server_ep, temp_slots, server_reply;
bool deferred;
static struct pith_server server;
static uint64_t pool[REPLY_POOL];
static int pooled;

uint64_t reply_take(void)
{
    return pooled ? pool[--pooled] : pith_object_new(PITH_OBJ_REPLY, 0);
}

void reply_give(uint64_t reply)
{
    if (pooled < REPLY_POOL)
        pool[pooled++] = reply;
    else
        pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, reply, 0, 0, 0);
}

/* The answer to a wait kept waiting: the generated reply's layout (label 0, status, signal). */
void answer_wait(struct lproc *p)
{
    struct pith_msg m = { .tag = PITH_TAG(0, 2),
                          .w = { p->signal ? 128u + (uint64_t)p->signal : (uint64_t)p->status, (uint64_t)p->signal } };
    pith_send(p->waiter, &m);
    reply_give(p->waiter);
    p->waiter = 0;
    lproc_reap(p);
}

/* ---- the protocol ---- */

static long spawn(void *ctx, const char *path, const uint8_t *argv, uint64_t argv_len, const uint8_t *envp,
                  uint64_t envp_len, uint32_t *pid)
{
    struct lproc *p;
    long err = lproc_new(&p);
    if (err)
        return err;
    uint64_t entry, sp;
    err = load_program(p, path, (const char *)argv, argv_len, (const char *)envp, envp_len, &entry, &sp);
    if (!err && (pith_invoke4(p->tcb, PITH_TCB_WRITE_REGISTERS, entry, sp, 0, 0) ||
                 pith_invoke4(p->tcb, PITH_TCB_RESUME, 0, 0, 0, 0)))
        err = POSIX_E_NOT_STATIC;       /* an entry point the kernel refuses */
    if (err) {
        lproc_end(p, 127, 0);
        lproc_reap(p);
        return err;
    }
    *pid = p->pid;
    tty_session_begin(p);
    return 0;
}

static long wait_for(void *ctx, uint32_t pid, bool nohang, uint32_t *status, uint32_t *signal)
{
    bool later;
    long err = lproc_wait(pid, nohang, status, signal, &later);
    if (!err && later) {
        lproc_by_pid(pid)->waiter = server_reply;
        deferred = true;
    }
    return err;
}

static const struct posix_handlers handlers = { .spawn = spawn, .wait = wait_for };

/* ---- the loop ---- */

/* A thread's nanosleep (or socket call made again) whose time has come answered; arg: now, then the
 * time until the next (0: none). */
static bool wake_sleeper(struct lproc *p, void *arg)
{
    uint64_t *t = arg, now = t[0];
    if (!p->sleeper)
        return false;
    if (p->wake_ns <= now) {
        uint64_t reply = p->sleeper;
        p->sleeper = 0;
        if (!sock_again(p, reply))      /* a socket call that would block: made again */
            answer_syscall(p, reply, 0);
    } else if (!t[1] || p->wake_ns - now < t[1]) {
        t[1] = p->wake_ns - now;
    }
    return false;
}

/* Answers the sleepers and polls whose time has come; the time until the next one (0: none). */
static uint64_t wake_sleepers(void)
{
    uint64_t now = pith_clock_ns(time_page), next = poll_expire(now), futex_next = futex_expire(now);
    if (futex_next && (!next || futex_next < next))
        next = futex_next;
    uint64_t alarm_next = itimer_expire(now);
    if (alarm_next && (!next || alarm_next < next))
        next = alarm_next;
    /* A handler put off (its thread was in a call answered without it): tried again, and again in 1 ms. */
    if (signal_retry_due)
        signal_retry();
    if (signal_retry_due && (!next || next > SIGNAL_RETRY_NS))
        next = SIGNAL_RETRY_NS;
    uint64_t t[2] = { now, next };
    for (int i = 0; i < LPROC_MAX; i++)
        if (lprocs[i].state == LP_RUNNING)
            thread_each(&lprocs[i], wake_sleeper, t);
    next = t[1];
    uint64_t sock = sock_tick(now);
    return sock && (!next || sock < next) ? sock : next;
}

static void serve(void)
{
    struct pith_msg m = { 0 };
    bool answer = false;
    server_reply = reply_take();
    for (;;) {
        uint64_t sleep = wake_sleepers();
        fastcalls_refresh();            /* before any answer: what the kernel answers for us is up to date */
        long err;
        if (answer && PITH_TAG_LABEL(m.tag) == PITH_FAULT_RESUME_REGS)
            *(struct pith_fault_regs *)server.buf->msg = resume_regs;   /* after any other answer used it */
        if (answer && !sleep) {
            err = pith_reply_recv(server_ep, &m, server_reply);     /* the fast path, when nobody sleeps */
        } else {
            if (answer)
                pith_send(server_reply, &m);
            m = (struct pith_msg){ 0 };
            err = sleep ? pith_syscall_timed(PITH_SYS_RECV_TIMED, server_ep, &m, server_reply, sleep)
                        : pith_recv(server_ep, &m, server_reply);
        }
        answer = false;
        if (err == PITH_E_TIMEOUT)
            continue;
        if (err) {
            printf("posix: receive failed (error %ld)\n", err);
            pith_sleep_ns(10000000);
            continue;
        }
        if (PITH_TAG_LABEL(m.tag) == PITH_NOTIFICATION_LABEL) {
            sock_wake();                /* the network server's signal (bound notification): no one to answer */
            continue;
        }
        deferred = false;
        if (m.badge >= FAULT_BADGE && m.badge < FAULT_BADGE + LPROC_MAX &&
            PITH_TAG_LABEL(m.tag) == PITH_FAULT_LABEL) {
            struct lproc *p = &lprocs[m.badge - FAULT_BADGE];
            answer = p->state == LP_RUNNING && fault_serve(p, &m);
        } else if (m.badge >= THREAD_BADGE && m.badge < TTY_BADGE && PITH_TAG_LABEL(m.tag) == PITH_FAULT_LABEL) {
            answer = thread_fault(m.badge - THREAD_BADGE, &m);
        } else if (m.badge == TTY_BADGE) {
            tty_message(&m);
            m = (struct pith_msg){ .tag = PITH_TAG(0, 0) };
            answer = true;
        } else {
            posix_dispatch(&handlers, NULL, &server, &m);
            answer = true;
        }
        if (deferred) {
            answer = false;             /* its caller waits on the reply object we keep */
            server_reply = reply_take();
        }
        server.reply = server_reply;
    }
}

int main(void)
{
    struct pith_ipc_buffer *buf = pith_tls_self()->ipc_buffer;
    time_page = (const struct pith_time_page *)pith_bootinfo->time_page;
    clock_start();
    vdso_start();
    pith_client_init(&fs, "/fs", &names_resolver, pith_slot_alloc(), buf);
    pith_client_init(&console, "/dev/console", &names_resolver, pith_slot_alloc(), buf);
    temp_slots = pith_slot_alloc_range(64);
    server_ep = pith_object_new(PITH_OBJ_ENDPOINT, 0);
    server = (struct pith_server){ .ep = server_ep, .buf = buf };
    image_start();
    shared_start();
    tty_start(server_ep);
    fastcalls_start(server_ep);
    for (int i = 0; i < REPLY_POOL; i++)
        reply_give(pith_object_new(PITH_OBJ_REPLY, 0));  /* made before the processes' memory is carved */
    long err = fsio_start();
    if (err)
        printf("posix: no window on /fs yet (error %#lx); trying again on first use\n", err);
    /* The processes' memory: chunks of 512 KiB of ours, all but a reserve for our own objects
     * (made last, after our window and endpoint). */
    struct pith_msg info = { 0 };
    uint64_t free_bytes = pith_invoke(PITH_SLOT_UNTYPED, PITH_UNTYPED_INFO, &info) ? 0 : info.w[1];
    uint64_t want = free_bytes > (1ull << CHUNK_BITS) ? (free_bytes - (256u << 10)) >> CHUNK_BITS : 0;
    while (chunks_total < CHUNK_MAX && (uint64_t)chunks_total < want) {
        uint64_t slot = pith_slot_alloc();
        if (pith_invoke4(PITH_SLOT_UNTYPED, PITH_UNTYPED_RETYPE, PITH_OBJ_UNTYPED | CHUNK_BITS << 8, PITH_SLOT_CSPACE,
                         slot, 1)) {
            pith_slot_free(slot);
            break;
        }
        chunk_cap[chunks_total++] = slot;
    }
    if ((err = register_name("/svc/posix", server_ep))) {
        printf("posix: cannot publish /svc/posix (error %#lx)\n", err);
        return 1;
    }
    printf("posix: serving /svc/posix: %d MiB for processes (%lu TSC ticks after reset)\n",
           (chunks_total << CHUNK_BITS) >> 20, pith_rdtsc());
    serve();
    return 1;
}
