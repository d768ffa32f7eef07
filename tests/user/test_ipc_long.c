/* Long messages (up to 120 words, through the IPC buffers) and capabilities carried in messages. */
#include "utest.h"

#define THREAD_BUF(va) ((struct pith_ipc_buffer *)(va))

static uint64_t lep, lreply;
static volatile uint64_t server_sum, server_len, server_tag, server_slot_type;
static volatile long server_err;

/* The thread's own IPC buffer: make_thread maps it 0x2000 above the stack base. */
static struct pith_ipc_buffer *my_buffer(void)
{
    uint64_t sp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
    return THREAD_BUF((sp & ~0x3fffull) + 0x2000);
}

/* Receives one long call, checks it, answers with every word plus one. */
static void long_server(uint64_t unused)
{
    (void)unused;
    struct pith_ipc_buffer *b = my_buffer();
    b->recv_slot = 0;
    struct pith_msg m = { 0 };
    server_err = pith_recv(lep, &m, lreply);
    server_len = PITH_TAG_LENGTH(m.tag);
    uint64_t sum = m.w[0] + m.w[1] + m.w[2] + m.w[3];
    for (uint64_t i = 4; i < server_len; i++)
        sum += b->msg[i];
    server_sum = sum;
    for (uint64_t i = 4; i < server_len; i++)
        b->msg[i] += 1;
    for (int i = 0; i < 4; i++)
        m.w[i] += 1;
    m.tag = PITH_TAG(2, server_len);
    pith_send(lreply, &m);
}

UTEST(long_message_120_words_each_way)
{
    lep = make_object(PITH_OBJ_ENDPOINT, 0);
    lreply = make_object(PITH_OBJ_REPLY, 0);
    uint64_t t = make_thread(long_server, 0, 150);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    struct pith_ipc_buffer *b = (struct pith_ipc_buffer *)PITH_IPC_BUFFER_ADDR;
    uint64_t want = 0;
    struct pith_msg m = { .tag = PITH_TAG(1, PITH_MSG_MAX), .w = { 1, 2, 3, 4 } };
    want = 10;
    for (uint64_t i = 4; i < PITH_MSG_MAX; i++) {
        b->msg[i] = i * 1000003;
        want += i * 1000003;
    }
    UT_EQ(pith_call(lep, &m), PITH_OK);
    UT_EQ(server_err, PITH_OK);
    UT_EQ(server_len, PITH_MSG_MAX);
    UT_EQ(server_sum, want);
    UT_EQ(PITH_TAG_LENGTH(m.tag), PITH_MSG_MAX);
    UT_EQ(m.w[3], 5);
    for (uint64_t i = 4; i < PITH_MSG_MAX; i++)
        UT_EQ(b->msg[i], i * 1000003 + 1);
}

UTEST(message_too_long_and_buffer_rules)
{
    uint64_t e = make_object(PITH_OBJ_ENDPOINT, 0);
    struct pith_msg m = { .tag = PITH_TAG(1, PITH_MSG_MAX + 1) };
    UT_EQ(pith_nbsend(e, &m), PITH_E_TOO_LONG);
    UT_EQ(pith_call(e, &m), PITH_E_TOO_LONG);
    /* A capability needs the grant right on the endpoint. */
    uint64_t nogrant = pith_slot_alloc();
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, nogrant, e,
                       PITH_RIGHT_READ | PITH_RIGHT_WRITE, 0), PITH_OK);
    struct pith_ipc_buffer *b = (struct pith_ipc_buffer *)PITH_IPC_BUFFER_ADDR;
    b->send_cap = e;
    m.tag = PITH_TAG(1, 0) | PITH_TAG_CAP;
    UT_EQ(pith_nbsend(nogrant, &m), PITH_E_NO_RIGHTS);
    /* The capability to send must exist. */
    b->send_cap = pith_slot_alloc();
    UT_EQ(pith_nbsend(e, &m), PITH_E_SLOT_EMPTY);
    b->send_cap = 1ull << 40;
    UT_EQ(pith_nbsend(e, &m), PITH_E_SLOT_RANGE);
}

/* ---- capability transfer ---- */

static uint64_t recv_slot_for_server;

static void cap_server(uint64_t unused)
{
    (void)unused;
    struct pith_ipc_buffer *b = my_buffer();
    b->recv_slot = recv_slot_for_server;
    struct pith_msg m = { 0 };
    server_err = pith_recv(lep, &m, lreply);
    server_tag = m.tag;
    struct pith_msg id = { .w = { recv_slot_for_server } };
    pith_invoke(PITH_SLOT_CSPACE, PITH_CNODE_IDENTIFY, &id);
    server_slot_type = id.w[0];
    m.tag = PITH_TAG(3, 0);
    pith_send(lreply, &m);
}

UTEST(capability_travels_in_a_call)
{
    lep = make_object(PITH_OBJ_ENDPOINT, 0);
    lreply = make_object(PITH_OBJ_REPLY, 0);
    uint64_t gift = make_object(PITH_OBJ_NOTIFICATION, 0);
    recv_slot_for_server = pith_slot_alloc();
    uint64_t t = make_thread(cap_server, 0, 150);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    struct pith_ipc_buffer *b = (struct pith_ipc_buffer *)PITH_IPC_BUFFER_ADDR;
    b->send_cap = gift;
    struct pith_msg m = { .tag = PITH_TAG(1, 0) | PITH_TAG_CAP };
    UT_EQ(pith_call(lep, &m), PITH_OK);
    UT_EQ(server_err, PITH_OK);
    UT_ASSERT(server_tag & PITH_TAG_CAP);
    UT_EQ(server_tag & PITH_TAG_CAP_LOST, 0);
    UT_EQ(server_slot_type, PITH_OBJ_NOTIFICATION);
    /* It is derived from ours: revoking ours takes it back. */
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE, gift, 0, 0, 0), PITH_OK);
    struct pith_msg id = { .w = { recv_slot_for_server } };
    UT_EQ(pith_invoke(PITH_SLOT_CSPACE, PITH_CNODE_IDENTIFY, &id), PITH_OK);
    UT_EQ(id.w[0], PITH_OBJ_NULL);
}

UTEST(capability_lost_when_receiver_names_no_slot)
{
    lep = make_object(PITH_OBJ_ENDPOINT, 0);
    lreply = make_object(PITH_OBJ_REPLY, 0);
    uint64_t gift = make_object(PITH_OBJ_NOTIFICATION, 0);
    recv_slot_for_server = 0;                   /* the receiver takes no capability */
    uint64_t t = make_thread(cap_server, 0, 150);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    struct pith_ipc_buffer *b = (struct pith_ipc_buffer *)PITH_IPC_BUFFER_ADDR;
    b->send_cap = gift;
    struct pith_msg m = { .tag = PITH_TAG(1, 0) | PITH_TAG_CAP };
    UT_EQ(pith_call(lep, &m), PITH_OK);
    UT_EQ(server_err, PITH_OK);
    UT_EQ(server_tag & PITH_TAG_CAP, 0);
    UT_ASSERT(server_tag & PITH_TAG_CAP_LOST);  /* told, not silently dropped */
}
