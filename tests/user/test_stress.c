/*
 * IPC stress: client threads in two other address spaces call one server
 * (us) with checksummed payloads, send a checksummed port message before
 * each call, and signal a notification after it.  The server checks every
 * message's checksum and each client's sequence on both paths: nothing
 * lost, nothing duplicated, nothing corrupted.  2 million messages.
 */
#include "utest.h"

#define CLIENTS     4
#define PER_CLIENT  250000
#define SHARED      0x58000000ull      /* parameters and results, mapped in every address space */

struct stress {
    uint64_t ep, port, ntfn, count;
    volatile uint64_t bad_replies[CLIENTS], done[CLIENTS];
};

static uint64_t mix(uint64_t id, uint64_t seq)
{
    uint64_t x = id * 0x9E3779B97F4A7C15ull ^ seq * 0xC2B2AE3D27D4EB4Full;
    x ^= x >> 29;
    return x * 0xBF58476D1CE4E5B9ull;
}

static uint64_t csum(uint64_t a, uint64_t b, uint64_t c) { return (a * 31 + b) * 31 + c + 7; }

/* A client: runs in its own address space on copies of our text; touches only the shared page and its stack. */
static void stress_client(uint64_t id)
{
    struct stress *st = (struct stress *)SHARED;
    for (uint64_t seq = 0; seq < st->count; seq++) {
        uint64_t p = mix(id, seq);
        struct pith_msg pm = { .tag = PITH_TAG(2, 4), .w = { id, seq, p, csum(id, seq, p) } };
        while (pith_send(st->port, &pm) == PITH_E_FULL)
            pith_yield();
        struct pith_msg m = { .tag = PITH_TAG(1, 4), .w = { id, seq, p, csum(id, seq, p) } };
        if (pith_call(st->ep, &m) != PITH_OK || m.w[0] != id || m.w[1] != seq || m.w[2] != ~p ||
            m.w[3] != csum(id, seq, ~p))
            st->bad_replies[id]++;
        pith_signal(st->ntfn);
    }
    st->done[id] = 1;
    for (;;)
        pith_sleep_ns(1000000000000ull);        /* nothing to return to */
}

extern const char __text_start[], __text_end[], __rodata_end[];

/* An address space running our code (text and read-only data copied in), with the shared page. */
static uint64_t client_space(uint64_t shared_frame)
{
    uint64_t vs = make_object(PITH_OBJ_VSPACE, 0);
    uint64_t pages = ((uint64_t)__rodata_end - (uint64_t)__text_start + 4095) / 4096;
    for (uint64_t i = 0; i < pages; i++) {
        uint64_t va = (uint64_t)__text_start + i * 4096;
        uint8_t r = va < (uint64_t)__text_end ? PITH_RIGHT_READ | PITH_RIGHT_EXEC : PITH_RIGHT_READ;
        uint64_t copy = pith_slot_alloc();
        pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, copy, pith_bootinfo->image_frames.first_slot + i, r, 0);
        if (map_frame(vs, copy, va, r))
            return 0;
    }
    uint64_t sh = pith_slot_alloc();
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, sh, shared_frame, PITH_RIGHTS_ALL, 0);
    return map_frame(vs, sh, SHARED, PITH_RIGHT_READ | PITH_RIGHT_WRITE) ? 0 : vs;
}

static uint64_t client_thread(uint64_t vs, uint64_t id)
{
    uint64_t tcb = make_object(PITH_OBJ_TCB, 0), stack = make_object(PITH_OBJ_FRAME, 0);
    uint64_t buf = make_object(PITH_OBJ_FRAME, 0);
    uint64_t va = 0x40000000ull + id * 0x4000;
    if (map_frame(vs, stack, va, PITH_RIGHT_READ | PITH_RIGHT_WRITE) ||
        map_frame(vs, buf, va + 0x2000, PITH_RIGHT_READ | PITH_RIGHT_WRITE) ||
        pith_invoke4(tcb, PITH_TCB_CONFIGURE, PITH_SLOT_CSPACE, vs, buf, 0) ||
        pith_invoke4(tcb, PITH_TCB_SET_PRIORITY, 90, 90, 0, 0) ||
        pith_invoke4(tcb, PITH_TCB_WRITE_REGISTERS, (uint64_t)stress_client, va + 0x1000 - 8, id, 0))
        return 0;
    return tcb;
}

UTEST(stress_two_million_checksummed_messages)
{
    uint64_t shared = make_object(PITH_OBJ_FRAME, 0);
    UT_EQ(map_frame(PITH_SLOT_VSPACE, shared, SHARED, PITH_RIGHT_READ | PITH_RIGHT_WRITE), PITH_OK);
    struct stress *st = (struct stress *)SHARED;
    st->ep = make_object(PITH_OBJ_ENDPOINT, 0);
    st->port = make_object(PITH_OBJ_PORT, 12);
    st->ntfn = make_object(PITH_OBJ_NOTIFICATION, 0);
    st->count = PER_CLIENT;
    uint64_t reply = make_object(PITH_OBJ_REPLY, 0);
    uint64_t spaces[2] = { client_space(shared), client_space(shared) };
    UT_ASSERT(spaces[0] && spaces[1]);
    uint64_t tcbs[CLIENTS];
    for (uint64_t id = 0; id < CLIENTS; id++) {
        tcbs[id] = client_thread(spaces[id % 2], id);
        UT_ASSERT(tcbs[id]);
        UT_EQ(pith_invoke4(tcbs[id], PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    }
    uint64_t next_call[CLIENTS] = { 0 }, next_port[CLIENTS] = { 0 };
    uint64_t bad = 0, calls = 0, port_msgs = 0, stray_bits = 0;
    while (calls < CLIENTS * PER_CLIENT) {
        struct pith_msg m = { 0 };
        if (pith_recv(st->ep, &m, reply) != PITH_OK) {
            bad++;
            continue;
        }
        uint64_t id = m.w[0];
        if (id >= CLIENTS || m.w[1] != next_call[id] || m.w[2] != mix(id, m.w[1]) ||
            m.w[3] != csum(id, m.w[1], m.w[2]))
            bad++;
        else
            next_call[id]++;
        calls++;
        struct pith_msg r = { .tag = PITH_TAG(1, 4), .w = { id, m.w[1], ~m.w[2], csum(id, m.w[1], ~m.w[2]) } };
        pith_send(reply, &r);
        /* Drain the port: every client's messages in its own order. */
        struct pith_msg p = { 0 };
        while (pith_nbrecv(st->port, &p, 0) == PITH_OK) {
            uint64_t pid = p.w[0];
            if (pid >= CLIENTS || p.w[1] != next_port[pid] || p.w[2] != mix(pid, p.w[1]) ||
                p.w[3] != csum(pid, p.w[1], p.w[2]))
                bad++;
            else
                next_port[pid]++;
            port_msgs++;
        }
        struct pith_msg n = { 0 };
        if (pith_nbrecv(st->ntfn, &n, 0) == PITH_OK && n.badge != 1)
            stray_bits++;
    }
    /* The last port messages may still be queued. */
    struct pith_msg p = { 0 };
    while (pith_nbrecv(st->port, &p, 0) == PITH_OK) {
        uint64_t pid = p.w[0];
        if (pid < CLIENTS && p.w[1] == next_port[pid] && p.w[3] == csum(pid, p.w[1], p.w[2]))
            next_port[pid]++;
        else
            bad++;
        port_msgs++;
    }
    /* Let the clients finish their last signal (they run below us). */
    uint64_t done = 0;
    for (int tries = 0; tries < 1000 && done < CLIENTS; tries++) {
        pith_sleep_ns(1000000);
        done = 0;
        for (int i = 0; i < CLIENTS; i++)
            done += st->done[i];
    }
    uint64_t bad_replies = 0;
    for (int i = 0; i < CLIENTS; i++) {
        bad_replies += st->bad_replies[i];
        UT_EQ(next_call[i], PER_CLIENT);
        UT_EQ(next_port[i], PER_CLIENT);
    }
    printf("  %lu calls and %lu port messages checked; %lu bad, %lu bad replies\n",
           calls, port_msgs, bad, bad_replies);
    UT_EQ(bad, 0);
    UT_EQ(bad_replies, 0);
    UT_EQ(stray_bits, 0);
    UT_EQ(done, CLIENTS);
    UT_EQ(port_msgs, (uint64_t)CLIENTS * PER_CLIENT);
    for (int i = 0; i < CLIENTS; i++)
        pith_invoke4(tcbs[i], PITH_TCB_SUSPEND, 0, 0, 0, 0);
}
