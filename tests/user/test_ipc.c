/* Endpoints, reply objects and notifications, including every way a call can break. */
#include "utest.h"
#include "tls.h"
#include <stdbool.h>

static uint64_t ep, reply_obj, ntfn;
static volatile long server_result, caller_result;
static volatile uint64_t caller_badge_seen, server_got[4];

/* Serves one call: doubles each word and answers. */
static void echo_server(uint64_t unused)
{
    (void)unused;
    struct pith_msg m = { 0 };
    server_result = pith_recv(ep, &m, reply_obj);
    caller_badge_seen = m.badge;
    for (int i = 0; i < 4; i++)
        server_got[i] = m.w[i];
    for (int i = 0; i < 4; i++)
        m.w[i] *= 2;
    m.tag = PITH_TAG(99, 4);
    server_result = pith_send(reply_obj, &m);
}

UTEST(call_and_reply_with_badge)
{
    ep = make_object(PITH_OBJ_ENDPOINT, 0);
    reply_obj = make_object(PITH_OBJ_REPLY, 0);
    uint64_t badged = pith_slot_alloc();
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_MINT, badged, ep, PITH_RIGHTS_ALL, 0x5150), PITH_OK);
    uint64_t s = make_thread(echo_server, 0, 150);
    UT_EQ(pith_invoke4(s, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);    /* now blocked in recv */
    struct pith_msg m = { .tag = PITH_TAG(7, 4), .w = { 1, 2, 3, 4 } };
    UT_EQ(pith_call(badged, &m), PITH_OK);
    UT_EQ(PITH_TAG_LABEL(m.tag), 99);
    UT_EQ(m.w[0], 2);
    UT_EQ(m.w[3], 8);
    UT_EQ(caller_badge_seen, 0x5150);
    UT_EQ(server_got[2], 3);
    UT_EQ(server_result, PITH_OK);
}

UTEST(nonblocking_send_and_receive)
{
    uint64_t e = make_object(PITH_OBJ_ENDPOINT, 0);
    struct pith_msg m = { .tag = PITH_TAG(1, 0) };
    UT_EQ(pith_nbsend(e, &m), PITH_E_WOULD_BLOCK);
    UT_EQ(pith_nbrecv(e, &m, 0), PITH_E_WOULD_BLOCK);
}

/* ---- a server that dies while holding our call ---- */

static void hold_call(uint64_t unused)
{
    (void)unused;
    struct pith_msg m = { 0 };
    pith_recv(ep, &m, reply_obj);
    for (;;)
        pith_sleep_ns(1000000000000ull);        /* never answers */
}

static void calling(uint64_t unused)
{
    (void)unused;
    struct pith_msg m = { .tag = PITH_TAG(1, 0) };
    caller_result = pith_call(ep, &m);
}

UTEST(call_to_server_that_dies_fails)
{
    ep = make_object(PITH_OBJ_ENDPOINT, 0);
    reply_obj = make_object(PITH_OBJ_REPLY, 0);
    caller_result = -1;
    uint64_t server = make_thread(hold_call, 0, 150);
    UT_EQ(pith_invoke4(server, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    uint64_t caller = make_thread(calling, 0, 140);
    UT_EQ(pith_invoke4(caller, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_EQ(caller_result, -1);                   /* blocked, waiting for the reply */
    /* The server dies (its thread is destroyed): the caller hears of it. */
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, server, 0, 0, 0), PITH_OK);
    UT_EQ(caller_result, PITH_E_PEER_DIED);
}

UTEST(call_fails_when_reply_object_dropped)
{
    ep = make_object(PITH_OBJ_ENDPOINT, 0);
    reply_obj = make_object(PITH_OBJ_REPLY, 0);
    caller_result = -1;
    uint64_t server = make_thread(hold_call, 0, 150);
    UT_EQ(pith_invoke4(server, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    uint64_t caller = make_thread(calling, 0, 140);
    UT_EQ(pith_invoke4(caller, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, reply_obj, 0, 0, 0), PITH_OK);
    UT_EQ(caller_result, PITH_E_PEER_DIED);
}

/* ---- a caller that dies before the answer ---- */

UTEST(reply_to_dead_caller_is_harmless)
{
    ep = make_object(PITH_OBJ_ENDPOINT, 0);
    reply_obj = make_object(PITH_OBJ_REPLY, 0);
    uint64_t server = make_thread(hold_call, 0, 150);
    UT_EQ(pith_invoke4(server, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    uint64_t caller = make_thread(calling, 0, 140);
    UT_EQ(pith_invoke4(caller, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, caller, 0, 0, 0), PITH_OK);
    /* We answer in the server's place, through the reply object it holds. */
    struct pith_msg m = { .tag = PITH_TAG(1, 0) };
    UT_EQ(pith_send(reply_obj, &m), PITH_E_PEER_DIED);
}

/* ---- threads blocked in IPC are destroyed or stopped cleanly ---- */

static void wait_forever(uint64_t unused)
{
    (void)unused;
    struct pith_msg m = { 0 };
    server_result = pith_recv(ep, &m, 0);
}

UTEST(delete_thread_blocked_in_receive)
{
    ep = make_object(PITH_OBJ_ENDPOINT, 0);
    uint64_t t = make_thread(wait_forever, 0, 150);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    struct pith_msg m = { 0 };
    UT_EQ(pith_invoke(t, PITH_TCB_READ_REGISTERS, &m), PITH_OK);
    UT_EQ(m.w[3], 3);                           /* TS_BLOCKED_RECV */
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, t, 0, 0, 0), PITH_OK);
    /* Nobody waits on the endpoint any more. */
    m.tag = PITH_TAG(1, 0);
    UT_EQ(pith_nbsend(ep, &m), PITH_E_WOULD_BLOCK);
}

UTEST(suspend_cancels_blocked_receive)
{
    ep = make_object(PITH_OBJ_ENDPOINT, 0);
    server_result = -1;
    uint64_t t = make_thread(wait_forever, 0, 150);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(t, PITH_TCB_SUSPEND, 0, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);   /* runs on: its recv failed */
    UT_EQ(server_result, PITH_E_CANCELLED);
}

UTEST(endpoint_deleted_under_waiter)
{
    ep = make_object(PITH_OBJ_ENDPOINT, 0);
    server_result = -1;
    uint64_t t = make_thread(wait_forever, 0, 150);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, ep, 0, 0, 0), PITH_OK);
    UT_EQ(server_result, PITH_E_CANCELLED);
}

/* ---- notifications ---- */

static volatile uint64_t ntfn_bits;

static void wait_notification(uint64_t unused)
{
    (void)unused;
    struct pith_msg m = { 0 };
    server_result = pith_recv(ntfn, &m, 0);
    ntfn_bits = m.badge;
}

UTEST(notification_signal_wait_poll)
{
    ntfn = make_object(PITH_OBJ_NOTIFICATION, 0);
    uint64_t b4 = pith_slot_alloc(), b1 = pith_slot_alloc();
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_MINT, b4, ntfn, PITH_RIGHTS_ALL, 4), PITH_OK);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_MINT, b1, ntfn, PITH_RIGHTS_ALL, 1), PITH_OK);
    struct pith_msg m = { 0 };
    UT_EQ(pith_nbrecv(ntfn, &m, 0), PITH_E_WOULD_BLOCK);        /* poll: nothing yet */
    UT_EQ(pith_signal(b4), PITH_OK);                            /* never blocks */
    UT_EQ(pith_signal(b1), PITH_OK);
    UT_EQ(pith_nbrecv(ntfn, &m, 0), PITH_OK);
    UT_EQ(m.badge, 5);
    UT_EQ(PITH_TAG_LABEL(m.tag), PITH_NOTIFICATION_LABEL);
    /* A waiter is woken by a signal. */
    ntfn_bits = 0;
    uint64_t t = make_thread(wait_notification, 0, 150);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_EQ(ntfn_bits, 0);
    UT_EQ(pith_signal(b4), PITH_OK);
    UT_EQ(ntfn_bits, 4);
    UT_EQ(server_result, PITH_OK);
}

static void wait_endpoint_or_notification(uint64_t unused)
{
    (void)unused;
    struct pith_msg m = { 0 };
    server_result = pith_recv(ep, &m, 0);
    ntfn_bits = PITH_TAG_LABEL(m.tag) == PITH_NOTIFICATION_LABEL ? m.badge : 0;
}

UTEST(bound_notification_wakes_endpoint_receiver)
{
    ep = make_object(PITH_OBJ_ENDPOINT, 0);
    ntfn = make_object(PITH_OBJ_NOTIFICATION, 0);
    uint64_t t = make_thread(wait_endpoint_or_notification, 0, 150);
    UT_EQ(pith_invoke4(t, PITH_TCB_BIND_NOTIFICATION, ntfn, 0, 0, 0), PITH_OK);
    ntfn_bits = 0;
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_EQ(pith_signal(ntfn), PITH_OK);
    UT_EQ(ntfn_bits, 1);
    UT_EQ(server_result, PITH_OK);
}

/* ---- a server keeps several calls pending and answers them later ---- */

static volatile long results[2];
static volatile uint64_t answers[2];

static void caller_n(uint64_t i)
{
    struct pith_msg m = { .tag = PITH_TAG(1, 1), .w = { i } };
    results[i] = pith_call(ep, &m);
    answers[i] = m.w[0];
}

UTEST(several_calls_pending_answered_in_any_order)
{
    ep = make_object(PITH_OBJ_ENDPOINT, 0);
    uint64_t r0 = make_object(PITH_OBJ_REPLY, 0), r1 = make_object(PITH_OBJ_REPLY, 0);
    results[0] = results[1] = -1;
    uint64_t c0 = make_thread(caller_n, 0, 140), c1 = make_thread(caller_n, 1, 140);
    UT_EQ(pith_invoke4(c0, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(c1, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    /* Both callers wait on the endpoint; we take both calls, one reply object each. */
    struct pith_msg m0 = { 0 }, m1 = { 0 };
    UT_EQ(pith_recv(ep, &m0, r0), PITH_OK);
    UT_EQ(pith_recv(ep, &m1, r1), PITH_OK);
    UT_EQ(m0.w[0] + m1.w[0], 1);                /* one from each */
    UT_EQ(results[0], -1);
    UT_EQ(results[1], -1);
    /* While we hold their calls we run at their priority (inheritance). */
    struct pith_msg info = { 0 };
    UT_EQ(pith_invoke(PITH_SLOT_TCB, PITH_TCB_INFO, &info), PITH_OK);
    UT_EQ(info.w[2], 140);
    /* Answer the second first; still serving the first, we keep 140 and nobody preempts us. */
    struct pith_msg a = { .tag = PITH_TAG(2, 1), .w = { 100 + m1.w[0] } };
    UT_EQ(pith_send(r1, &a), PITH_OK);
    a.w[0] = 100 + m0.w[0];
    UT_EQ(pith_send(r0, &a), PITH_OK);
    /* Back at 100: both callers have run. */
    UT_EQ(pith_invoke(PITH_SLOT_TCB, PITH_TCB_INFO, &info), PITH_OK);
    UT_EQ(info.w[2], 100);
    UT_EQ(results[0], PITH_OK);
    UT_EQ(results[1], PITH_OK);
    UT_EQ(answers[0], 100);
    UT_EQ(answers[1], 101);
    /* An answered reply object has nothing to answer. */
    UT_EQ(pith_send(r0, &a), PITH_E_PEER_DIED);
}

/* The fast path counter moves for a plain call and reply-receive (unless the boot said nofastpath). */
static void fast_server(uint64_t slots)
{
    uint64_t e = slots & 0xffff, r = slots >> 16;
    struct pith_msg m = { 0 };
    pith_recv(e, &m, r);
    for (;;) {
        m.w[0] += 1;
        pith_reply_recv(e, &m, r);
    }
}

UTEST(fast_path_taken_when_it_can_be)
{
    uint64_t e = make_object(PITH_OBJ_ENDPOINT, 0), r = make_object(PITH_OBJ_REPLY, 0);
    uint64_t t = make_thread(fast_server, e | r << 16, 150);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    struct pith_msg info = { 0 };
    pith_syscall(PITH_SYS_INFO, 0, &info, 0);
    uint64_t before = info.w[3];
    for (uint64_t i = 0; i < 100; i++) {
        struct pith_msg m = { .tag = PITH_TAG(1, 1), .w = { i } };
        UT_EQ(pith_call(e, &m), PITH_OK);
        UT_EQ(m.w[0], i + 1);
    }
    pith_syscall(PITH_SYS_INFO, 0, &info, 0);
    int off = 0;
    for (const char *c = pith_bootinfo->cmdline; *c; c++)
        if (c[0] == 'n' && c[1] == 'o' && c[2] == 'f' && c[3] == 'a' && c[4] == 's' && c[5] == 't')
            off = 1;
    if (off)
        UT_EQ(info.w[3], before);               /* every call took the slow path */
    else
        UT_ASSERT(info.w[3] - before >= 199);   /* calls and replies: the first receive is slow */
    pith_invoke4(t, PITH_TCB_SUSPEND, 0, 0, 0, 0);
}

/* ---- waiting senders are served by priority, first come first served within one ---- */

static void sender_n(uint64_t id)
{
    struct pith_msg m = { .tag = PITH_TAG(1, 1), .w = { id } };
    pith_send(ep, &m);
}

UTEST(senders_served_in_priority_order)
{
    ep = make_object(PITH_OBJ_ENDPOINT, 0);
    /* Resumed in this order; all block at once (above our priority, nobody receives). */
    static const struct { uint64_t id; unsigned prio; } s[] = {
        { 1, 110 }, { 2, 130 }, { 3, 110 }, { 4, 120 }, { 5, 130 },
    };
    for (unsigned i = 0; i < 5; i++) {
        uint64_t t = make_thread(sender_n, s[i].id, s[i].prio);
        UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    }
    uint64_t order[5];
    for (int i = 0; i < 5; i++) {
        struct pith_msg m = { 0 };
        UT_EQ(pith_nbrecv(ep, &m, 0), PITH_OK);
        order[i] = m.w[0];
    }
    /* 130s first (2 then 5), then 120 (4), then 110s (1 then 3). */
    UT_EQ(order[0], 2);
    UT_EQ(order[1], 5);
    UT_EQ(order[2], 4);
    UT_EQ(order[3], 1);
    UT_EQ(order[4], 3);
}

/* ---- timeouts ---- */

static void never_replies(uint64_t unused)
{
    (void)unused;
    struct pith_msg m = { 0 };
    pith_recv(ep, &m, reply_obj);
    for (;;)
        pith_sleep_ns(1000000000000ull);
}

static void answers_late(uint64_t unused)
{
    (void)unused;
    struct pith_msg m = { .tag = PITH_TAG(4, 1), .w = { 44 } };
    pith_sleep_ns(2000000);
    pith_send(ep, &m);
}

UTEST(timeouts_expire_and_leave_nothing_behind)
{
    ep = make_object(PITH_OBJ_ENDPOINT, 0);
    struct pith_msg m = { .tag = PITH_TAG(1, 0) };
    /* Receive and send with nobody on the other side. */
    uint64_t t0 = pith_rdtsc();
    UT_EQ(pith_syscall_timed(PITH_SYS_RECV_TIMED, ep, &m, 0, 5000000), PITH_E_TIMEOUT);
    uint64_t waited = pith_rdtsc() - t0;
    UT_ASSERT(waited >= pith_bootinfo->tsc_hz / 1000 * 4);     /* at least ~5 ms */
    UT_EQ(pith_syscall_timed(PITH_SYS_SEND_TIMED, ep, &m, 0, 3000000), PITH_E_TIMEOUT);
    UT_EQ(pith_nbrecv(ep, &m, 0), PITH_E_WOULD_BLOCK);          /* the sender left the queue */
    UT_EQ(pith_syscall_timed(PITH_SYS_RECV_TIMED, ep, &m, 0, 0), PITH_E_WOULD_BLOCK);   /* 0: poll */
    UT_EQ(pith_syscall_timed(PITH_SYS_CALL_TIMED, ep, &m, 0, 0), PITH_E_INVALID_ARG);
    UT_EQ(pith_syscall_timed(PITH_SYS_CALL_TIMED, PITH_SLOT_TCB, &m, 0, 1000),
          PITH_E_WRONG_TYPE);
    /* A call whose server never answers: the caller gives up; the late answer finds nobody. */
    reply_obj = make_object(PITH_OBJ_REPLY, 0);
    uint64_t s = make_thread(never_replies, 0, 150);
    UT_EQ(pith_invoke4(s, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_EQ(pith_syscall_timed(PITH_SYS_CALL_TIMED, ep, &m, 0, 3000000), PITH_E_TIMEOUT);
    m.tag = PITH_TAG(1, 0);
    UT_EQ(pith_send(reply_obj, &m), PITH_E_PEER_DIED);
    /* A wait that succeeds in time: no stray timeout later. */
    uint64_t late = make_thread(answers_late, 0, 150);
    UT_EQ(pith_invoke4(late, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_EQ(pith_syscall_timed(PITH_SYS_RECV_TIMED, ep, &m, 0, 500000000), PITH_OK);
    UT_EQ(m.w[0], 44);
    UT_EQ(pith_syscall_timed(PITH_SYS_RECV_TIMED, ep, &m, 0, 20000000), PITH_E_TIMEOUT);
}

/* ---- priority inheritance along a chain of three servers ---- */

static uint64_t pi_ep1, pi_ep2, pi_r1, pi_r2, pi_s1_tcb, pi_s2_tcb;
static volatile uint64_t s1_seen, s2_seen, s1_seen_by_s2;

static uint64_t priority_of(uint64_t tcb)
{
    struct pith_msg m = { 0 };
    pith_invoke(tcb, PITH_TCB_INFO, &m);
    return m.w[2];
}

/* The last server: notes the priorities it and the middle one run at. */
static void pi_s2(uint64_t unused)
{
    (void)unused;
    struct pith_msg m = { 0 };
    pith_recv(pi_ep2, &m, pi_r2);
    s2_seen = priority_of(pi_s2_tcb);
    s1_seen_by_s2 = priority_of(pi_s1_tcb);
    m.tag = PITH_TAG(1, 0);
    pith_send(pi_r2, &m);
}

/* The middle server: serving our call, it calls the last one. */
static void pi_s1(uint64_t unused)
{
    (void)unused;
    struct pith_msg m = { 0 };
    pith_recv(pi_ep1, &m, pi_r1);
    s1_seen = priority_of(pi_s1_tcb);
    struct pith_msg c = { .tag = PITH_TAG(1, 0) };
    pith_call(pi_ep2, &c);
    m.tag = PITH_TAG(1, 0);
    pith_send(pi_r1, &m);
}

static volatile long client_done;

/* Waits (up to two seconds) until the thread is blocked in a receive. */
static bool wait_until_receiving(uint64_t tcb)
{
    for (int i = 0; i < 2000; i++) {
        struct pith_msg m = { 0 };
        if (pith_invoke(tcb, PITH_TCB_INFO, &m) == PITH_OK && m.w[1] == PITH_THREAD_BLOCKED_RECV)
            return true;
        pith_sleep_ns(1000000);
    }
    return false;
}

static void pi_client(uint64_t unused)
{
    (void)unused;
    struct pith_msg m = { .tag = PITH_TAG(1, 0) };
    client_done = pith_call(pi_ep1, &m);
}

UTEST(priority_inherited_along_a_chain_of_three)
{
    pi_ep1 = make_object(PITH_OBJ_ENDPOINT, 0);
    pi_ep2 = make_object(PITH_OBJ_ENDPOINT, 0);
    pi_r1 = make_object(PITH_OBJ_REPLY, 0);
    pi_r2 = make_object(PITH_OBJ_REPLY, 0);
    pi_s2_tcb = make_thread(pi_s2, 0, 30);
    pi_s1_tcb = make_thread(pi_s1, 0, 50);
    s1_seen = s2_seen = s1_seen_by_s2 = 0;
    client_done = -1;
    /* The servers are below us: they only get to their receives when we sleep (however long that takes). */
    UT_EQ(pith_invoke4(pi_s2_tcb, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(pi_s1_tcb, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_ASSERT(wait_until_receiving(pi_s1_tcb) && wait_until_receiving(pi_s2_tcb));
    UT_EQ(priority_of(pi_s1_tcb), 50);
    /* A client at 200 calls: the whole chain runs at 200 until it is answered. */
    uint64_t c = make_thread(pi_client, 0, 200);
    UT_EQ(pith_invoke4(c, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_EQ(client_done, PITH_OK);                /* done before we (at 100) ran again */
    UT_EQ(s1_seen, 200);
    UT_EQ(s2_seen, 200);
    UT_EQ(s1_seen_by_s2, 200);
    /* Answered: back to their own priorities. */
    UT_EQ(priority_of(pi_s1_tcb), 50);
    UT_EQ(priority_of(pi_s2_tcb), 30);
}

UTEST(sender_requeued_when_its_priority_changes)
{
    ep = make_object(PITH_OBJ_ENDPOINT, 0);
    uint64_t a = make_thread(sender_n, 1, 110), b = make_thread(sender_n, 2, 120);
    UT_EQ(pith_invoke4(a, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(b, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    /* Both wait, 2 ahead of 1; raising 1 above 2 moves it to the front. */
    UT_EQ(pith_invoke4(a, PITH_TCB_SET_PRIORITY, 130, 130, 0, 0), PITH_OK);
    struct pith_msg m = { 0 };
    UT_EQ(pith_nbrecv(ep, &m, 0), PITH_OK);
    UT_EQ(m.w[0], 1);
    UT_EQ(pith_nbrecv(ep, &m, 0), PITH_OK);
    UT_EQ(m.w[0], 2);
}

/* Answers with five words (the slow path), then waits again in the same system call. */
static void answer_long_then_wait(uint64_t unused)
{
    (void)unused;
    struct pith_ipc_buffer *buf = pith_tls_self()->ipc_buffer;
    struct pith_msg m = { 0 };
    pith_recv(ep, &m, reply_obj);
    for (;;) {
        buf->msg[4] = m.w[0] * 2;
        m.tag = PITH_TAG(0, 5);
        m.w[0] += 1;
        pith_reply_recv(ep, &m, reply_obj);
    }
}

/*
 * A low-priority server answers a more urgent caller and then waits on its
 * endpoint, in one system call: the answer makes the caller the one to run,
 * and the server must end up waiting on the endpoint only, never also
 * queued as ready (the two queues share a thread's links).
 */
UTEST(answer_to_a_more_urgent_caller_then_wait)
{
    ep = make_object(PITH_OBJ_ENDPOINT, 0);
    reply_obj = make_object(PITH_OBJ_REPLY, 0);
    uint64_t s = make_thread(answer_long_then_wait, 0, 50);
    UT_ASSERT(s);
    UT_EQ(pith_invoke4(s, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    struct pith_ipc_buffer *buf = (struct pith_ipc_buffer *)PITH_IPC_BUFFER_ADDR;
    for (uint64_t i = 0; i < 200; i++) {
        struct pith_msg m = { .tag = PITH_TAG(1, 1), .w = { i } };
        UT_EQ(pith_call(ep, &m), PITH_OK);
        UT_EQ(PITH_TAG_LENGTH(m.tag), 5);
        UT_EQ(m.w[0], i + 1);
        UT_EQ(buf->msg[4], i * 2);
    }
    struct pith_msg regs = { 0 };
    UT_EQ(pith_invoke(s, PITH_TCB_READ_REGISTERS, &regs), PITH_OK);
    UT_EQ(regs.w[3], 3);                        /* TS_BLOCKED_RECV: waiting, and only that */
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, s, 0, 0, 0), PITH_OK);
}
