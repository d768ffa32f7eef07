/* Ports (asynchronous, buffered) and port groups. */
#include "utest.h"

static uint64_t make_port(uint32_t bits) { return make_object(PITH_OBJ_PORT, bits); }

static struct pith_ipc_buffer *buf(void) { return (struct pith_ipc_buffer *)PITH_IPC_BUFFER_ADDR; }

UTEST(port_send_message_wait_message_send_answer_wait_answer)
{
    uint64_t server = make_port(10), answer = make_port(8);
    UT_ASSERT(server && answer);
    struct pith_msg m = { 0 };
    UT_EQ(pith_invoke(server, PITH_PORT_INFO, &m), PITH_OK);
    UT_EQ(m.w[0], 0);
    UT_EQ(m.w[1], (1024 - 128) / 128);
    /* Send message, carrying our answer port. */
    buf()->send_cap = answer;
    struct pith_msg q = { .tag = PITH_TAG(7, 2) | PITH_TAG_CAP, .w = { 21, 2 } };
    UT_EQ(pith_send(server, &q), PITH_OK);
    /* Wait message (as the server would): the answer port arrives in our receive slot. */
    uint64_t got = pith_slot_alloc();
    buf()->recv_slot = got;
    struct pith_msg r = { 0 };
    UT_EQ(pith_recv(server, &r, 0), PITH_OK);
    UT_EQ(PITH_TAG_LABEL(r.tag), 7);
    UT_ASSERT(r.tag & PITH_TAG_CAP);
    UT_EQ(r.w[0] * r.w[1], 42);
    /* Send answer on it; wait answer. */
    struct pith_msg ans = { .tag = PITH_TAG(8, 1), .w = { 42 } };
    UT_EQ(pith_send(got, &ans), PITH_OK);
    buf()->recv_slot = 0;
    UT_EQ(pith_recv(answer, &r, 0), PITH_OK);
    UT_EQ(PITH_TAG_LABEL(r.tag), 8);
    UT_EQ(r.w[0], 42);
}

UTEST(port_full_rights_and_limits)
{
    uint64_t p = make_port(8);                  /* room for one message */
    struct pith_msg m = { .tag = PITH_TAG(1, 1), .w = { 5 } };
    UT_EQ(pith_send(p, &m), PITH_OK);
    UT_EQ(pith_send(p, &m), PITH_E_FULL);       /* never blocks */
    UT_EQ(pith_nbsend(p, &m), PITH_E_FULL);
    m.tag = PITH_TAG(1, 5);
    UT_EQ(pith_send(p, &m), PITH_E_TOO_LONG);
    /* A send-only capability cannot wait. */
    uint64_t send_only = pith_slot_alloc();
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, send_only, p, PITH_RIGHT_WRITE, 0), PITH_OK);
    UT_EQ(pith_recv(send_only, &m, 0), PITH_E_NO_RIGHTS);
    /* An answer capability needs the grant right. */
    buf()->send_cap = p;
    m.tag = PITH_TAG(1, 0) | PITH_TAG_CAP;
    UT_EQ(pith_send(send_only, &m), PITH_E_NO_RIGHTS);
    /* Sizes. */
    uint64_t s = pith_slot_alloc();
    UT_EQ(pith_invoke4(test_untyped, PITH_UNTYPED_RETYPE, PITH_OBJ_PORT | 7u << 8, PITH_SLOT_CSPACE, s, 1),
          PITH_E_INVALID_ARG);
    UT_EQ(pith_invoke4(test_untyped, PITH_UNTYPED_RETYPE, PITH_OBJ_PORT | 17u << 8, PITH_SLOT_CSPACE, s, 1),
          PITH_E_INVALID_ARG);
    /* Timed wait on an empty port. */
    struct pith_msg r = { 0 };
    UT_EQ(pith_recv(p, &r, 0), PITH_OK);
    UT_EQ(pith_syscall_timed(PITH_SYS_RECV_TIMED, p, &r, 0, 2000000), PITH_E_TIMEOUT);
    UT_EQ(pith_nbrecv(p, &r, 0), PITH_E_WOULD_BLOCK);
}

static uint64_t waited_port;
static volatile long waiter_result;

static void port_waiter(uint64_t unused)
{
    (void)unused;
    struct pith_msg m = { 0 };
    waiter_result = pith_recv(waited_port, &m, 0);
}

UTEST(port_deleted_under_waiter_and_waiter_woken_by_send)
{
    waited_port = make_port(9);
    waiter_result = -1;
    uint64_t t = make_thread(port_waiter, 0, 150);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_EQ(waiter_result, -1);
    struct pith_msg m = { .tag = PITH_TAG(1, 0) };
    UT_EQ(pith_send(waited_port, &m), PITH_OK);     /* straight to the waiter */
    UT_EQ(waiter_result, PITH_OK);
    waiter_result = -1;
    t = make_thread(port_waiter, 0, 150);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, waited_port, 0, 0, 0), PITH_OK);
    UT_EQ(waiter_result, PITH_E_CANCELLED);
}

static volatile uint64_t migrated_got[3];
static volatile long migrated_err;

/* Runs in another capability space, where the port's receive right now sits in slot 3. */
static void migrated_receiver(uint64_t unused)
{
    (void)unused;
    for (int i = 0; i < 3; i++) {
        struct pith_msg m = { 0 };
        migrated_err = pith_nbrecv(3, &m, 0);
        migrated_got[i] = m.w[0];
    }
}

UTEST(port_migrates_with_its_messages)
{
    uint64_t p = make_port(10);
    for (uint64_t i = 0; i < 3; i++) {
        struct pith_msg m = { .tag = PITH_TAG(1, 1), .w = { 100 + i } };
        UT_EQ(pith_send(p, &m), PITH_OK);
    }
    /* Move the receive right into another capability space: the queue goes with it. */
    uint64_t other = make_object(PITH_OBJ_CNODE, 4);
    UT_EQ(pith_invoke4(other, PITH_CNODE_MOVE, 3, p, 0, 0), PITH_OK);
    struct pith_msg m = { 0 };
    UT_EQ(pith_nbrecv(p, &m, 0), PITH_E_SLOT_EMPTY);    /* no longer ours */
    uint64_t t = make_thread(migrated_receiver, 0, 150);
    uint64_t b = make_object(PITH_OBJ_FRAME, 0);
    UT_EQ(pith_invoke4(t, PITH_TCB_CONFIGURE, other, PITH_SLOT_VSPACE, b, 0), PITH_OK);
    migrated_err = -1;
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_EQ(migrated_err, PITH_OK);
    for (uint64_t i = 0; i < 3; i++)
        UT_EQ(migrated_got[i], 100 + i);                 /* every message, in order */
}

UTEST(port_group_one_all_and_empty)
{
    uint64_t g = make_object(PITH_OBJ_PORT_GROUP, 8);   /* three members */
    struct pith_msg m = { .tag = PITH_TAG(1, 1) };
    UT_EQ(pith_send(g, &m), PITH_E_STATE);              /* no members */
    uint64_t p[3];
    for (int i = 0; i < 3; i++) {
        p[i] = make_port(i == 2 ? 8 : 10);              /* the last holds one message */
        struct pith_msg r = { .w = { p[i] } };
        UT_EQ(pith_invoke(g, PITH_GROUP_ADD, &r), PITH_OK);
    }
    struct pith_msg r = { .w = { p[0] } };
    UT_EQ(pith_invoke(g, PITH_GROUP_ADD, &r), PITH_E_FULL);   /* no room for a fourth */
    /* One: round-robin over the members. */
    for (uint64_t i = 0; i < 3; i++) {
        m.w[0] = i;
        UT_EQ(pith_send(g, &m), PITH_OK);
    }
    for (int i = 0; i < 3; i++) {
        struct pith_msg x = { 0 };
        UT_EQ(pith_nbrecv(p[i], &x, 0), PITH_OK);
        UT_EQ(x.w[0], (uint64_t)i);
    }
    /* All: every member with room; one is full. */
    m.w[0] = 9;
    UT_EQ(pith_send(p[2], &m), PITH_OK);                /* fill the small one */
    UT_EQ(pith_invoke4(g, PITH_GROUP_SET_MODE, PITH_GROUP_ALL, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(g, PITH_GROUP_SET_MODE, 7, 0, 0, 0), PITH_E_INVALID_ARG);
    m.w[0] = 77;
    UT_EQ(pith_send(g, &m), PITH_OK);
    UT_EQ(m.w[0], 2);                                   /* received by two */
    UT_EQ(m.w[1], 1);                                   /* one was full */
    for (int i = 0; i < 2; i++) {
        struct pith_msg x = { 0 };
        UT_EQ(pith_nbrecv(p[i], &x, 0), PITH_OK);
        UT_EQ(x.w[0], 77);
    }
    UT_EQ(pith_invoke4(g, PITH_GROUP_REMOVE, 5, 0, 0, 0), PITH_E_INVALID_ARG);
    for (uint64_t i = 0; i < 3; i++)
        UT_EQ(pith_invoke4(g, PITH_GROUP_REMOVE, i, 0, 0, 0), PITH_OK);
    UT_EQ(pith_send(g, &m), PITH_E_STATE);
}
