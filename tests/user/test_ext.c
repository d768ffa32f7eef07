/*
 * Extensions (docs/extensions.md) through the real system calls: every
 * invocation's errors, a program refused with its rule and instruction,
 * calls answered and refused in the kernel, counts in a map the user reads,
 * interrupts claimed in the kernel, detaching and revoking stopping the
 * program at once, and random programs loaded, attached and run.
 */
#include "utest.h"
#include <pith/extension.h>
#include <pith/fault.h>

#define EXT_VA  0x5e00000000ull         /* program text, then the maps */
#define I PITH_EXT_INSN
#define K PITH_EXT_K
#define MOVK(d, imm) I(PITH_EXT_MOV | K, d, 0, 0, imm)
#define EXIT I(PITH_EXT_EXIT, 0, 0, 0, 0)
#define CALL(h) I(PITH_EXT_CALL, 0, 0, 0, h)
#define LD64(d, s, off) I(PITH_EXT_LDX64, d, s, off, 0)
#define N(p) (sizeof p / sizeof p[0])

static uint64_t text_frame, map_frame0;
static struct pith_ext_insn *text;
static volatile uint64_t *map0;

/* The text frame and one map frame, mapped once for every test here. */
static void setup(void)
{
    if (text)
        return;
    text_frame = make_object(PITH_OBJ_FRAME, 0);
    map_frame0 = make_object(PITH_OBJ_FRAME, 0);
    map_frame(PITH_SLOT_VSPACE, text_frame, EXT_VA, PITH_RIGHT_READ | PITH_RIGHT_WRITE);
    map_frame(PITH_SLOT_VSPACE, map_frame0, EXT_VA + 0x1000, PITH_RIGHT_READ | PITH_RIGHT_WRITE);
    text = (struct pith_ext_insn *)EXT_VA;
    map0 = (volatile uint64_t *)(EXT_VA + 0x1000);
}

/* Loads n instructions for `event`; *rule and *insn get the verifier's answer. */
static long load(uint64_t ext, uint64_t event, const struct pith_ext_insn *p, uint64_t n, uint64_t *rule,
                 uint64_t *insn)
{
    for (uint64_t i = 0; i < n && i < PITH_EXT_MAX_INSNS; i++)
        text[i] = p[i];
    struct pith_msg m = { .w = { event, n, text_frame, 0 } };
    long err = pith_invoke(ext, PITH_EXT_LOAD, &m);
    if (rule)
        *rule = m.w[0];
    if (insn)
        *insn = m.w[1];
    return err;
}

/*
 * Answers label 7 with msg[0] + 1 (label 70), refuses label 9, passes the
 * rest; counts every message in map 0 at its label (run-time checked).
 */
static const struct pith_ext_insn answer_prog[] = {
    I(PITH_EXT_MOV, 7, 1, 0, 0), LD64(6, 7, 8),         /* r7 = the context (r1 is spent by calls), r6 = label */
    MOVK(1, 0), I(PITH_EXT_MOV, 2, 6, 0, 0), MOVK(3, 1), CALL(PITH_EXT_MAP_ADD),
    MOVK(1, 0), MOVK(2, 0), MOVK(3, 1), CALL(PITH_EXT_MAP_ADD),      /* word 0: every message */
    I(PITH_EXT_JEQ | K, 6, 0, 3, 9),
    I(PITH_EXT_JEQ | K, 6, 0, 4, 7),
    MOVK(0, PITH_EXT_PASS), EXIT,
    MOVK(0, PITH_EXT_DROP), EXIT,
    LD64(3, 7, 32), I(PITH_EXT_ADD | K, 3, 0, 0, 1), I(PITH_EXT_STX64, 7, 3, 80, 0),
    I(PITH_EXT_ST64, 7, 0, 72, 1), I(PITH_EXT_ST64, 7, 0, 64, 70), MOVK(0, PITH_EXT_REPLY), EXIT,
};

static uint64_t answering_extension(uint64_t ep)
{
    uint64_t ext = make_object(PITH_OBJ_EXTENSION, 0);
    if (load(ext, PITH_EXT_EVENT_IPC, answer_prog, N(answer_prog), NULL, NULL) != PITH_OK ||
        pith_invoke4(ext, PITH_EXT_SET_MAP, 0, map_frame0, 0, 0) != PITH_OK ||
        (ep && pith_invoke4(ext, PITH_EXT_ATTACH, ep, 0, 0, 0) != PITH_OK))
        return 0;
    return ext;
}

static long call7(uint64_t ep, uint64_t w0, struct pith_msg *m)
{
    *m = (struct pith_msg){ .tag = PITH_TAG(7, 1), .w = { w0 } };
    return pith_call(ep, m);
}

UTEST(ext_load_refuses_with_rule_and_instruction)
{
    setup();
    uint64_t ext = make_object(PITH_OBJ_EXTENSION, 0), rule, insn;
    UT_ASSERT(ext);
    struct pith_ext_insn loop[] = { MOVK(0, 0), I(PITH_EXT_JA, 0, 0, -2, 0), EXIT };
    UT_EQ(load(ext, PITH_EXT_EVENT_IPC, loop, N(loop), &rule, &insn), PITH_E_VERIFY);
    UT_EQ(rule, PITH_EXT_R_BACK_EDGE);
    UT_EQ(insn, 1);
    struct pith_ext_insn leak[] = { I(PITH_EXT_MOV, 0, 1, 0, 0), EXIT };
    UT_EQ(load(ext, PITH_EXT_EVENT_IPC, leak, N(leak), &rule, &insn), PITH_E_VERIFY);
    UT_EQ(rule, PITH_EXT_R_PTR_RETURN);
    struct pith_ext_insn out[] = { LD64(0, 1, 8 * 14), EXIT };
    UT_EQ(load(ext, PITH_EXT_EVENT_IPC, out, N(out), &rule, &insn), PITH_E_VERIFY);
    UT_EQ(rule, PITH_EXT_R_CTX_RANGE);
    UT_EQ(load(ext, PITH_EXT_EVENT_IPC, answer_prog, 0, &rule, &insn), PITH_E_VERIFY);
    UT_EQ(rule, PITH_EXT_R_LENGTH);
    UT_EQ(load(ext, PITH_EXT_EVENT_IPC, answer_prog, PITH_EXT_MAX_INSNS + 1, &rule, &insn), PITH_E_VERIFY);
    UT_EQ(rule, PITH_EXT_R_LENGTH);
    UT_EQ(load(ext, 0, answer_prog, N(answer_prog), &rule, &insn), PITH_E_VERIFY);
    UT_EQ(rule, PITH_EXT_R_EVENT);
    UT_EQ(load(ext, ~0ull, answer_prog, N(answer_prog), &rule, &insn), PITH_E_VERIFY);
    UT_EQ(rule, PITH_EXT_R_EVENT);
    /* Refused: nothing loaded, so nothing can be attached. */
    uint64_t ep = make_object(PITH_OBJ_ENDPOINT, 0);
    UT_EQ(pith_invoke4(ext, PITH_EXT_ATTACH, ep, 0, 0, 0), PITH_E_STATE);
    struct pith_msg m = { 0 };
    UT_EQ(pith_invoke(ext, PITH_EXT_INFO, &m), PITH_OK);
    UT_EQ(m.w[1], 0);
    UT_EQ(load(ext, PITH_EXT_EVENT_IPC, answer_prog, N(answer_prog), &rule, &insn), PITH_OK);
    UT_EQ(pith_invoke(ext, PITH_EXT_INFO, &m), PITH_OK);
    UT_EQ(m.w[0], PITH_EXT_EVENT_IPC);
    UT_EQ(m.w[1], N(answer_prog));
    UT_EQ(m.w[2], 0);
}

UTEST(ext_invocation_errors)
{
    setup();
    uint64_t ext = make_object(PITH_OBJ_EXTENSION, 0), ep = make_object(PITH_OBJ_ENDPOINT, 0);
    uint64_t ntfn = make_object(PITH_OBJ_NOTIFICATION, 0);
    /* Without the write right only INFO works. */
    uint64_t ro = pith_slot_alloc(), ro_frame = pith_slot_alloc(), send_only = pith_slot_alloc();
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, ro, ext, PITH_RIGHT_READ, 0), PITH_OK);
    UT_EQ(load(ro, PITH_EXT_EVENT_IPC, answer_prog, N(answer_prog), NULL, NULL), PITH_E_NO_RIGHTS);
    UT_EQ(pith_invoke4(ro, PITH_EXT_SET_MAP, 0, 0, 0, 0), PITH_E_NO_RIGHTS);
    UT_EQ(pith_invoke4(ro, PITH_EXT_ATTACH, ep, 0, 0, 0), PITH_E_NO_RIGHTS);
    UT_EQ(pith_invoke4(ro, PITH_EXT_DETACH, 0, 0, 0, 0), PITH_E_NO_RIGHTS);
    struct pith_msg m = { 0 };
    UT_EQ(pith_invoke(ro, PITH_EXT_INFO, &m), PITH_OK);
    UT_EQ(pith_invoke4(ext, PITH_EXT_SET_POOL + 1, 0, 0, 0, 0), PITH_E_BAD_INVOCATION);
    /* The text must be a frame we may read. */
    struct pith_msg lm = { .w = { PITH_EXT_EVENT_IPC, 2, ep, 0 } };
    UT_EQ(pith_invoke(ext, PITH_EXT_LOAD, &lm), PITH_E_WRONG_TYPE);
    lm = (struct pith_msg){ .w = { PITH_EXT_EVENT_IPC, 2, 4000, 0 } };
    UT_EQ(pith_invoke(ext, PITH_EXT_LOAD, &lm), PITH_E_SLOT_EMPTY);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, ro_frame, map_frame0, PITH_RIGHT_WRITE, 0), PITH_OK);
    lm = (struct pith_msg){ .w = { PITH_EXT_EVENT_IPC, 2, ro_frame, 0 } };
    UT_EQ(pith_invoke(ext, PITH_EXT_LOAD, &lm), PITH_E_NO_RIGHTS);
    /* Maps: a number below 4, a frame we may read and write. */
    UT_EQ(pith_invoke4(ext, PITH_EXT_SET_MAP, PITH_EXT_MAPS, map_frame0, 0, 0), PITH_E_INVALID_ARG);
    UT_EQ(pith_invoke4(ext, PITH_EXT_SET_MAP, 0, ro_frame, 0, 0), PITH_E_NO_RIGHTS);
    UT_EQ(pith_invoke4(ext, PITH_EXT_SET_MAP, 0, ep, 0, 0), PITH_E_WRONG_TYPE);
    UT_EQ(pith_invoke4(ext, PITH_EXT_SET_MAP, 1, map_frame0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(ext, PITH_EXT_SET_MAP, 1, 0, 0, 0), PITH_OK);         /* unbound again */
    /* Attach: something loaded, the right kind of object, the receiver's right, one per place. */
    UT_EQ(pith_invoke4(ext, PITH_EXT_DETACH, 0, 0, 0, 0), PITH_E_STATE);
    UT_EQ(load(ext, PITH_EXT_EVENT_IPC, answer_prog, N(answer_prog), NULL, NULL), PITH_OK);
    UT_EQ(pith_invoke4(ext, PITH_EXT_ATTACH, 4000, 0, 0, 0), PITH_E_SLOT_EMPTY);
    UT_EQ(pith_invoke4(ext, PITH_EXT_ATTACH, ntfn, 0, 0, 0), PITH_E_WRONG_TYPE);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, send_only, ep, PITH_RIGHT_WRITE, 0), PITH_OK);
    UT_EQ(pith_invoke4(ext, PITH_EXT_ATTACH, send_only, 0, 0, 0), PITH_E_NO_RIGHTS);
    UT_EQ(pith_invoke4(ext, PITH_EXT_ATTACH, ep, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(ext, PITH_EXT_ATTACH, ep, 0, 0, 0), PITH_E_STATE);
    uint64_t other = answering_extension(0);
    UT_ASSERT(other);
    UT_EQ(pith_invoke4(other, PITH_EXT_ATTACH, ep, 0, 0, 0), PITH_E_STATE);   /* taken */
    UT_EQ(load(ext, PITH_EXT_EVENT_IPC, answer_prog, N(answer_prog), NULL, NULL), PITH_E_STATE);
    /* An interrupt program goes on an IRQ handler only. */
    struct pith_ext_insn irq[] = { MOVK(0, PITH_EXT_WAKE), EXIT };
    UT_EQ(load(other, PITH_EXT_EVENT_IRQ, irq, N(irq), NULL, NULL), PITH_OK);
    UT_EQ(pith_invoke4(other, PITH_EXT_ATTACH, ep, 0, 0, 0), PITH_E_WRONG_TYPE);
    UT_EQ(pith_invoke4(ext, PITH_EXT_DETACH, 0, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(ext, PITH_EXT_DETACH, 0, 0, 0, 0), PITH_E_STATE);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, other, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, ext, 0, 0, 0), PITH_OK);
}

UTEST(ext_answers_and_refuses_calls_in_the_kernel)
{
    setup();
    for (int i = 0; i < 16; i++)
        map0[i] = 0;
    uint64_t ep = make_object(PITH_OBJ_ENDPOINT, 0);
    uint64_t ext = answering_extension(ep);
    UT_ASSERT(ext);
    /* No server at all: the extension answers. */
    struct pith_msg m;
    for (uint64_t i = 0; i < 10; i++) {
        UT_EQ(call7(ep, 100 + i, &m), PITH_OK);
        UT_EQ(PITH_TAG_LABEL(m.tag), 70);
        UT_EQ(PITH_TAG_LENGTH(m.tag), 1);
        UT_EQ(m.w[0], 101 + i);
        UT_EQ(m.w[1], 0);
    }
    m = (struct pith_msg){ .tag = PITH_TAG(9, 0) };
    UT_EQ(pith_call(ep, &m), PITH_E_REFUSED);
    UT_EQ(pith_nbsend(ep, &m), PITH_E_REFUSED);
    /* Passed: the message goes on as usual (here: nobody is receiving). */
    m = (struct pith_msg){ .tag = PITH_TAG(5, 0) };
    UT_EQ(pith_nbsend(ep, &m), PITH_E_WOULD_BLOCK);
    /* A send (not a call) the program answers is simply taken. */
    m = (struct pith_msg){ .tag = PITH_TAG(7, 1), .w = { 1 } };
    UT_EQ(pith_nbsend(ep, &m), PITH_OK);
    /* The counts, read from the map by user level. */
    UT_EQ(map0[7], 11);
    UT_EQ(map0[9], 2);
    UT_EQ(map0[5], 1);
    UT_EQ(map0[0], 14);
    m = (struct pith_msg){ 0 };
    UT_EQ(pith_invoke(ext, PITH_EXT_INFO, &m), PITH_OK);
    UT_EQ(m.w[2], 14);
    UT_EQ(m.w[3], 0);
    /* A label beyond the map: the run-time check stops the program, and the message passes. */
    m = (struct pith_msg){ .tag = PITH_TAG(PITH_EXT_MAP_WORDS, 0) };
    UT_EQ(pith_nbsend(ep, &m), PITH_E_WOULD_BLOCK);
    UT_EQ(pith_invoke(ext, PITH_EXT_INFO, &m), PITH_OK);
    UT_EQ(m.w[3], 1);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, ext, 0, 0, 0), PITH_OK);
}

/* ---- passing to a server, and stopping at once ---- */

static uint64_t srv_ep, srv_reply;

/* Answers every call with its word 0 + 1000 (label 71). */
static void server(uint64_t unused)
{
    (void)unused;
    struct pith_msg m = { 0 };
    pith_recv(srv_ep, &m, srv_reply);
    for (;;) {
        m.w[0] += 1000;
        m.tag = PITH_TAG(71, 1);
        pith_reply_recv(srv_ep, &m, srv_reply);
    }
}

UTEST(ext_detach_and_revoke_stop_it_at_once)
{
    setup();
    srv_ep = make_object(PITH_OBJ_ENDPOINT, 0);
    srv_reply = make_object(PITH_OBJ_REPLY, 0);
    uint64_t s = make_thread(server, 0, 150);
    UT_EQ(pith_invoke4(s, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    struct pith_msg m;
    UT_EQ(call7(srv_ep, 1, &m), PITH_OK);
    UT_EQ(m.w[0], 1001);                            /* the server */
    uint64_t ext = answering_extension(srv_ep);
    UT_ASSERT(ext);
    UT_EQ(call7(srv_ep, 1, &m), PITH_OK);
    UT_EQ(m.w[0], 2);                               /* the extension */
    m = (struct pith_msg){ .tag = PITH_TAG(3, 1), .w = { 5 } };
    UT_EQ(pith_call(srv_ep, &m), PITH_OK);
    UT_EQ(m.w[0], 1005);                            /* passed on to the server */
    UT_EQ(pith_invoke4(ext, PITH_EXT_DETACH, 0, 0, 0, 0), PITH_OK);
    UT_EQ(call7(srv_ep, 1, &m), PITH_OK);
    UT_EQ(m.w[0], 1001);                            /* detached: the server again */
    /* Deleting the only capability stops it. */
    UT_EQ(pith_invoke4(ext, PITH_EXT_ATTACH, srv_ep, 0, 0, 0), PITH_OK);
    UT_EQ(call7(srv_ep, 1, &m), PITH_OK);
    UT_EQ(m.w[0], 2);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, ext, 0, 0, 0), PITH_OK);
    UT_EQ(call7(srv_ep, 1, &m), PITH_OK);
    UT_EQ(m.w[0], 1001);
    /* Revoking the memory it was made from stops it. */
    uint64_t ut = pith_slot_alloc();
    UT_EQ(pith_invoke4(test_untyped, PITH_UNTYPED_RETYPE, PITH_OBJ_UNTYPED | 14u << 8, PITH_SLOT_CSPACE, ut, 1),
          PITH_OK);
    uint64_t ext2 = pith_slot_alloc();
    UT_EQ(pith_invoke4(ut, PITH_UNTYPED_RETYPE, PITH_OBJ_EXTENSION, PITH_SLOT_CSPACE, ext2, 1), PITH_OK);
    UT_EQ(load(ext2, PITH_EXT_EVENT_IPC, answer_prog, N(answer_prog), NULL, NULL), PITH_OK);
    UT_EQ(pith_invoke4(ext2, PITH_EXT_ATTACH, srv_ep, 0, 0, 0), PITH_OK);
    UT_EQ(call7(srv_ep, 1, &m), PITH_OK);
    UT_EQ(m.w[0], 2);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE, ut, 0, 0, 0), PITH_OK);
    UT_EQ(call7(srv_ep, 1, &m), PITH_OK);
    UT_EQ(m.w[0], 1001);
    /* The endpoint going first leaves the extension detached, free to go elsewhere. */
    uint64_t ep2 = make_object(PITH_OBJ_ENDPOINT, 0);
    uint64_t ext3 = answering_extension(ep2);
    UT_ASSERT(ext3);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, ep2, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(ext3, PITH_EXT_DETACH, 0, 0, 0, 0), PITH_E_STATE);
    UT_EQ(pith_invoke4(ext3, PITH_EXT_ATTACH, srv_ep, 0, 0, 0), PITH_OK);
    UT_EQ(call7(srv_ep, 1, &m), PITH_OK);
    UT_EQ(m.w[0], 2);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, ext3, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, s, 0, 0, 0), PITH_OK);
}

UTEST(ext_map_frame_revoked_under_it)
{
    setup();
    uint64_t ep = make_object(PITH_OBJ_ENDPOINT, 0);
    uint64_t f = make_object(PITH_OBJ_FRAME, 0);
    uint64_t ext = answering_extension(ep);
    UT_ASSERT(ext);
    UT_EQ(pith_invoke4(ext, PITH_EXT_SET_MAP, 0, f, 0, 0), PITH_OK);
    struct pith_msg m;
    UT_EQ(call7(ep, 1, &m), PITH_OK);
    /* The frame goes (its copy in the extension with it): the program runs on without a map. */
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, f, 0, 0, 0), PITH_OK);
    UT_EQ(call7(ep, 41, &m), PITH_OK);
    UT_EQ(m.w[0], 42);
    UT_EQ(pith_invoke(ext, PITH_EXT_INFO, &m), PITH_OK);
    UT_EQ(m.w[2], 2);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, ext, 0, 0, 0), PITH_OK);
}

UTEST(ext_reads_long_message_words)
{
    setup();
    uint64_t ep = make_object(PITH_OBJ_ENDPOINT, 0), ext = make_object(PITH_OBJ_EXTENSION, 0);
    /* Answers with the word the message's word 0 names. */
    struct pith_ext_insn p[] = {
        LD64(1, 1, 32), CALL(PITH_EXT_MSG_WORD), I(PITH_EXT_STX64, 10, 0, -8, 0),
        LD64(6, 10, -8), MOVK(7, 0), I(PITH_EXT_ADD, 7, 6, 0, 0), I(PITH_EXT_STX64, 1, 7, 80, 0),
        MOVK(0, PITH_EXT_REPLY), EXIT,
    };
    UT_EQ(load(ext, PITH_EXT_EVENT_IPC, p, N(p), NULL, NULL), PITH_E_VERIFY);     /* r1 spent by the call */
    p[6] = I(PITH_EXT_STX64, 10, 7, -16, 0);
    struct pith_ext_insn q[] = {
        I(PITH_EXT_MOV, 6, 1, 0, 0), LD64(1, 1, 32), CALL(PITH_EXT_MSG_WORD),
        I(PITH_EXT_STX64, 6, 0, 80, 0), I(PITH_EXT_ST64, 6, 0, 72, 1), MOVK(0, PITH_EXT_REPLY), EXIT,
    };
    UT_EQ(load(ext, PITH_EXT_EVENT_IPC, q, N(q), NULL, NULL), PITH_OK);
    UT_EQ(pith_invoke4(ext, PITH_EXT_ATTACH, ep, 0, 0, 0), PITH_OK);
    struct pith_ipc_buffer *buf = (struct pith_ipc_buffer *)PITH_IPC_BUFFER_ADDR;   /* the main thread's */
    for (int i = 4; i < 10; i++)
        buf->msg[i] = 0x100 + (uint64_t)i;
    struct pith_msg m = { .tag = PITH_TAG(1, 10), .w = { 6, 11, 12, 13 } };
    UT_EQ(pith_call(ep, &m), PITH_OK);
    UT_EQ(m.w[0], 0x106);
    m = (struct pith_msg){ .tag = PITH_TAG(1, 10), .w = { 2, 11, 12, 13 } };
    UT_EQ(pith_call(ep, &m), PITH_OK);
    UT_EQ(m.w[0], 12);
    m = (struct pith_msg){ .tag = PITH_TAG(1, 10), .w = { 10, 11, 12, 13 } };
    UT_EQ(pith_call(ep, &m), PITH_OK);
    UT_EQ(m.w[0], 0);                               /* beyond the message */
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, ext, 0, 0, 0), PITH_OK);
}

/* ---- interrupts: the PIT (ISA IRQ 0, GSI 2), as in test_irq.c ---- */

static void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }

static void pit_one_shot(void)
{
    static int have_ports;
    if (!have_ports) {
        uint64_t pit = pith_slot_alloc();
        pith_invoke4(pith_bootinfo->io_ports.first_slot, PITH_IO_PORTS_CARVE, 0x40, 0x43, PITH_SLOT_CSPACE, pit);
        pith_invoke4(PITH_SLOT_TCB, PITH_TCB_SET_IO_PORTS, 0, pit, 0, 0);
        have_ports = 1;
    }
    outb(0x43, 0x30);                   /* channel 0, mode 0: one interrupt when the count runs out */
    outb(0x40, 1193 & 0xff);            /* 1 ms */
    outb(0x40, 1193 >> 8);
}

UTEST(ext_claims_interrupts_in_the_kernel)
{
    setup();
    uint64_t n = make_object(PITH_OBJ_NOTIFICATION, 0), h = make_object(PITH_OBJ_IRQ_HANDLER, 0);
    uint64_t ext = make_object(PITH_OBJ_EXTENSION, 0);
    UT_EQ(pith_invoke4(h, PITH_IRQ_HANDLER_SET_NOTIFICATION, n, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(PITH_SLOT_IRQ_CONTROL, PITH_IRQ_CONTROL_BIND, h, 0, PITH_IRQ_ISA, 0), PITH_OK);
    /* Counts in map 0 word 1, keeps the line in word 2, claims. */
    struct pith_ext_insn p[] = {
        LD64(6, 1, 0), MOVK(1, 0), MOVK(2, 1), MOVK(3, 1), CALL(PITH_EXT_MAP_ADD),
        MOVK(1, 0), MOVK(2, 2), I(PITH_EXT_MOV, 3, 6, 0, 0), CALL(PITH_EXT_MAP_WRITE),
        MOVK(0, PITH_EXT_CLAIM), EXIT,
    };
    UT_EQ(load(ext, PITH_EXT_EVENT_IRQ, p, N(p), NULL, NULL), PITH_OK);
    UT_EQ(pith_invoke4(ext, PITH_EXT_SET_MAP, 0, map_frame0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(ext, PITH_EXT_ATTACH, h, 0, 0, 0), PITH_OK);
    map0[1] = map0[2] = 0;
    pit_one_shot();
    pith_sleep_ns(20000000);
    UT_EQ(map0[1], 1);
    UT_EQ(map0[2], 2);
    struct pith_msg m = { 0 };
    UT_EQ(pith_nbrecv(n, &m, 0), PITH_E_WOULD_BLOCK);      /* the driver was not woken */
    UT_EQ(pith_invoke(h, PITH_IRQ_HANDLER_INFO, &m), PITH_OK);
    UT_EQ(m.w[1], 1);
    UT_EQ(m.w[2], 1);
    /* "Not mine" with nobody after it: unclaimed, and nobody woken. */
    p[9] = MOVK(0, PITH_EXT_NOT_MINE);
    UT_EQ(pith_invoke4(ext, PITH_EXT_DETACH, 0, 0, 0, 0), PITH_OK);
    UT_EQ(load(ext, PITH_EXT_EVENT_IRQ, p, N(p), NULL, NULL), PITH_OK);
    UT_EQ(pith_invoke4(ext, PITH_EXT_ATTACH, h, 0, 0, 0), PITH_OK);
    m = (struct pith_msg){ .w = { 2 } };
    UT_EQ(pith_invoke(PITH_SLOT_IRQ_CONTROL, PITH_IRQ_CONTROL_INFO, &m), PITH_OK);
    uint64_t unclaimed = m.w[1];
    pit_one_shot();
    pith_sleep_ns(20000000);
    UT_EQ(map0[1], 2);
    UT_EQ(pith_nbrecv(n, &m, 0), PITH_E_WOULD_BLOCK);
    m = (struct pith_msg){ .w = { 2 } };
    UT_EQ(pith_invoke(PITH_SLOT_IRQ_CONTROL, PITH_IRQ_CONTROL_INFO, &m), PITH_OK);
    UT_EQ(m.w[1], unclaimed + 1);
    /* Detached: the driver is woken as before, and the program no longer runs. */
    UT_EQ(pith_invoke4(ext, PITH_EXT_DETACH, 0, 0, 0, 0), PITH_OK);
    pit_one_shot();
    UT_EQ(pith_recv(n, &m, 0), PITH_OK);
    UT_EQ(pith_invoke4(h, PITH_IRQ_HANDLER_ANSWER, 1, 0, 0, 0), PITH_OK);
    UT_EQ(map0[1], 2);
    /* The handler going detaches it. */
    UT_EQ(pith_invoke4(ext, PITH_EXT_ATTACH, h, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, h, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(ext, PITH_EXT_DETACH, 0, 0, 0, 0), PITH_E_STATE);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, ext, 0, 0, 0), PITH_OK);
}

/* ---- random programs through the real system call ---- */

#include "../host/ext_gen.h"

#define KFUZZ_PROGRAMS 50000
#define KFUZZ_SAVED 32

UTEST(ext_random_programs_through_the_kernel)
{
    setup();
    static struct pith_ext_insn saved[KFUZZ_SAVED][EXT_GEN_MAXLEN];
    static uint32_t saved_len[KFUZZ_SAVED];
    unsigned nsaved = 0;
    uint64_t ep = make_object(PITH_OBJ_ENDPOINT, 0), ext = make_object(PITH_OBJ_EXTENSION, 0);
    uint64_t accepted = 0, bad = 0, ran = 0, by_result[PITH_E_COUNT] = { 0 };
    UT_EQ(pith_invoke4(ext, PITH_EXT_SET_MAP, 0, map_frame0, 0, 0), PITH_OK);
    ext_gen_seed = 0x1234567ull;
    for (int k = 0; k < KFUZZ_PROGRAMS; k++) {
        struct pith_ext_insn p[EXT_GEN_MAXLEN];
        uint32_t n;
        if (nsaved && ext_rnd() % 2) {
            unsigned from = (unsigned)(ext_rnd() % nsaved);
            memcpy(p, saved[from], saved_len[from] * sizeof *p);
            n = ext_mutate(p, saved_len[from]);
        } else {
            n = ext_random_program(p);
        }
        uint64_t rule, insn;
        long err = load(ext, PITH_EXT_EVENT_IPC, p, n, &rule, &insn);
        if (err == PITH_E_VERIFY) {
            bad += rule == 0 || rule >= PITH_EXT_R_COUNT || insn >= n;
            continue;
        }
        if (err != PITH_OK) {
            bad++;
            continue;
        }
        accepted++;
        unsigned slot = nsaved < KFUZZ_SAVED ? nsaved++ : (unsigned)(ext_rnd() % KFUZZ_SAVED);
        memcpy(saved[slot], p, n * sizeof *p);
        saved_len[slot] = n;
        /* Run it: as a call and as a send, with random words; nobody is receiving. */
        if (pith_invoke4(ext, PITH_EXT_ATTACH, ep, 0, 0, 0) != PITH_OK) {
            bad++;
            continue;
        }
        for (int i = 0; i < 2; i++) {
            struct pith_msg m = { .tag = PITH_TAG(ext_rnd() % 600, ext_rnd() % 5),
                                  .w = { ext_rnd() % 600, ext_rnd(), ext_rnd() % 8, ext_rnd() } };
            /* A passed call times out at once (nobody receives); a passed send would block. */
            long r = i ? pith_nbsend(ep, &m) : pith_syscall_timed(PITH_SYS_CALL_TIMED, ep, &m, 0, 1);
            if (r == PITH_OK || r == PITH_E_REFUSED || r == PITH_E_WOULD_BLOCK || r == PITH_E_TIMEOUT)
                by_result[r]++;
            else
                bad++;
            ran++;
        }
        if (pith_invoke4(ext, PITH_EXT_DETACH, 0, 0, 0, 0) != PITH_OK)
            bad++;
    }
    printf("ext fuzz: %d programs, %llu accepted, %llu runs: %llu answered, %llu refused, %llu passed\n",
           KFUZZ_PROGRAMS, (unsigned long long)accepted, (unsigned long long)ran,
           (unsigned long long)by_result[PITH_OK], (unsigned long long)by_result[PITH_E_REFUSED],
           (unsigned long long)(by_result[PITH_E_WOULD_BLOCK] + by_result[PITH_E_TIMEOUT]));
    UT_EQ(bad, 0);
    UT_ASSERT(accepted * 100 >= KFUZZ_PROGRAMS);
    /* The kernel is intact: an extension still answers, and the endpoint works without one. */
    struct pith_msg m;
    uint64_t good = answering_extension(ep);
    UT_ASSERT(good);
    UT_EQ(call7(ep, 1, &m), PITH_OK);
    UT_EQ(m.w[0], 2);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, good, 0, 0, 0), PITH_OK);
    m = (struct pith_msg){ .tag = PITH_TAG(1, 0) };
    UT_EQ(pith_nbsend(ep, &m), PITH_E_WOULD_BLOCK);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, ext, 0, 0, 0), PITH_OK);
}

/* ---- page faults repaired in the kernel from a pool of frames ---- */

static volatile uint64_t toucher_done;

/* Writes to two pages with nothing mapped, then to a third the program cannot repair (its pool slot is empty). */
static void toucher(uint64_t unused)
{
    (void)unused;
    *(volatile uint64_t *)(EXT_VA + 0x2000) = 0x1234;
    *(volatile uint64_t *)(EXT_VA + 0x3008) = 0x5678;
    toucher_done = 1;
    *(volatile uint64_t *)(EXT_VA + 0x4000) = 1;
    toucher_done = 2;
}

UTEST(ext_repairs_page_faults_from_a_pool)
{
    setup();
    uint64_t fault_ep = make_object(PITH_OBJ_ENDPOINT, 0), reply = make_object(PITH_OBJ_REPLY, 0);
    uint64_t ext = make_object(PITH_OBJ_EXTENSION, 0), pool = make_object(PITH_OBJ_CNODE, 2);
    /* Two frames in the pool's slots 2 and 3 (for pages 0x2000 and 0x3000 of EXT_VA). */
    UT_EQ(pith_invoke4(test_untyped, PITH_UNTYPED_RETYPE, PITH_OBJ_FRAME, pool, 2, 2), PITH_OK);
    /* Counts faults in map 0 word 3; maps pool slot (addr >> 12) & 3. */
    struct pith_ext_insn p[] = {
        I(PITH_EXT_MOV, 6, 1, 0, 0),
        MOVK(1, 0), MOVK(2, 3), MOVK(3, 1), CALL(PITH_EXT_MAP_ADD),
        LD64(2, 6, 8), I(PITH_EXT_RSH | K, 2, 0, 0, 12), I(PITH_EXT_AND | K, 2, 0, 0, 3),
        I(PITH_EXT_STX64, 6, 2, (int16_t)__builtin_offsetof(struct pith_ext_fault_ctx, frame), 0),
        MOVK(0, PITH_EXT_MAP), EXIT,
    };
    UT_EQ(load(ext, PITH_EXT_EVENT_FAULT, p, N(p), NULL, NULL), PITH_OK);
    UT_EQ(pith_invoke4(ext, PITH_EXT_SET_MAP, 0, map_frame0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(ext, PITH_EXT_SET_POOL, fault_ep, 0, 0, 0), PITH_E_WRONG_TYPE);
    UT_EQ(pith_invoke4(ext, PITH_EXT_SET_POOL, pool, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(ext, PITH_EXT_ATTACH, fault_ep, 0, 0, 0), PITH_OK);
    /* A fault program on an endpoint lets messages through untouched. */
    struct pith_msg m = { .tag = PITH_TAG(1, 0) };
    UT_EQ(pith_nbsend(fault_ep, &m), PITH_E_WOULD_BLOCK);
    map0[3] = 0;
    toucher_done = 0;
    uint64_t t = make_thread(toucher, 0, 150);
    UT_ASSERT(t);
    UT_EQ(pith_invoke4(t, PITH_TCB_CONFIGURE, PITH_SLOT_CSPACE, PITH_SLOT_VSPACE, 0, fault_ep), PITH_OK);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    /* It ran until the third page: pool slot 0 is empty, so that fault goes to its handler. */
    UT_EQ(toucher_done, 1);
    UT_EQ(map0[3], 3);
    UT_EQ(*(volatile uint64_t *)(EXT_VA + 0x2000), 0x1234);     /* the pool's frames, in our space */
    UT_EQ(*(volatile uint64_t *)(EXT_VA + 0x3008), 0x5678);
    m = (struct pith_msg){ 0 };
    UT_EQ(pith_nbrecv(fault_ep, &m, reply), PITH_OK);
    UT_EQ(PITH_TAG_LABEL(m.tag), PITH_FAULT_LABEL);
    UT_EQ(m.w[0], PITH_FAULT_PAGE);
    UT_EQ(m.w[1], EXT_VA + 0x4000);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, t, 0, 0, 0), PITH_OK);
    /* The pool let go, then deleted (its frames unmapped); a copy without the write right cannot set one. */
    UT_EQ(pith_invoke4(ext, PITH_EXT_SET_POOL, 0, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, pool, 0, 0, 0), PITH_OK);     /* unmaps them */
    uint64_t ro = pith_slot_alloc();
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, ro, ext, PITH_RIGHT_READ, 0), PITH_OK);
    UT_EQ(pith_invoke4(ro, PITH_EXT_SET_POOL, 0, 0, 0, 0), PITH_E_NO_RIGHTS);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, ext, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, ro, 0, 0, 0), PITH_OK);
}

/* ---- system calls answered in the kernel (the POSIX personality's hot calls) ---- */

#define FOFF(field) ((int16_t)__builtin_offsetof(struct pith_ext_fault_ctx, field))
static volatile uint64_t sys_results[3];

/* A system call that is not Pith's, with six arguments. */
static uint64_t foreign_syscall(uint64_t nr, uint64_t a0)
{
    uint64_t rax = nr, rdi = a0, rsi = 2, rdx = 3;
    register uint64_t r10 __asm__("r10") = 4;
    register uint64_t r8 __asm__("r8") = 5;
    register uint64_t r9 __asm__("r9") = 6;
    /* Deliberately not Pith's number, recorded so the build's system-call check allows it. */
    __asm__ volatile(PITH_SYSCALL_INSN : "+a"(rax) : "D"(rdi), "S"(rsi), "d"(rdx), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return rax;
}

/* 0x1000 answered in the kernel, 0x1001 delivered, 0x1002 an unknown verdict; then a page fault. */
static void syscaller(uint64_t unused)
{
    (void)unused;
    sys_results[0] = foreign_syscall(0x1000, 1);
    sys_results[1] = foreign_syscall(0x1001, 1);
    sys_results[2] = foreign_syscall(0x1002, 1);
    *(volatile uint64_t *)(EXT_VA + 0x5000) = 1;
}

UTEST(ext_answers_system_calls_in_the_kernel)
{
    setup();
    uint64_t ep = make_object(PITH_OBJ_ENDPOINT, 0), reply = make_object(PITH_OBJ_REPLY, 0);
    uint64_t ext = make_object(PITH_OBJ_EXTENSION, 0), fault_ep = pith_slot_alloc();
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_MINT, fault_ep, ep, PITH_RIGHT_WRITE, 0x42), PITH_OK);
    /*
     * 0x1000: the result is the badge and the six arguments, a byte each
     * (every field read, in order); 0x1002: verdict 77; anything else
     * delivered; a fault not a system call answered RESULT, which the
     * kernel must not honour.
     */
    struct pith_ext_insn p[] = {
        I(PITH_EXT_MOV, 6, 1, 0, 0), LD64(2, 6, 0),
        I(PITH_EXT_JNE | K, 2, 0, 29, PITH_FAULT_SYSCALL),
        LD64(2, 6, 8),
        I(PITH_EXT_JEQ | K, 2, 0, 5, 0x1000),
        I(PITH_EXT_JEQ | K, 2, 0, 2, 0x1002),
        MOVK(0, PITH_EXT_DELIVER), EXIT,
        MOVK(0, 77), EXIT,
        LD64(0, 6, FOFF(badge)),
#define ARG(i) I(PITH_EXT_LSH | K, 0, 0, 0, 8), LD64(3, 6, (int16_t)(FOFF(args) + 8 * (i))), I(PITH_EXT_OR, 0, 3, 0, 0)
        ARG(0), ARG(1), ARG(2), ARG(3), ARG(4), ARG(5),
#undef ARG
        I(PITH_EXT_STX64, 6, 0, FOFF(result), 0), MOVK(0, PITH_EXT_RESULT), EXIT,
        I(PITH_EXT_ST64, 6, 0, FOFF(result), 5), MOVK(0, PITH_EXT_RESULT), EXIT,
    };
    UT_EQ(load(ext, PITH_EXT_EVENT_FAULT, p, N(p), NULL, NULL), PITH_OK);
    UT_EQ(pith_invoke4(ext, PITH_EXT_ATTACH, ep, 0, 0, 0), PITH_OK);
    sys_results[0] = sys_results[1] = sys_results[2] = 0;
    uint64_t t = make_thread(syscaller, 0, 150);
    UT_ASSERT(t);
    UT_EQ(pith_invoke4(t, PITH_TCB_CONFIGURE, PITH_SLOT_CSPACE, PITH_SLOT_VSPACE, 0, fault_ep), PITH_OK);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    /* The first call answered without a message; the second waits for its handler. */
    UT_EQ(sys_results[0], 0x42010203040506ull);
    UT_EQ(sys_results[1], 0);
    struct pith_msg m = { 0 };
    UT_EQ(pith_nbrecv(ep, &m, reply), PITH_OK);
    UT_EQ(PITH_TAG_LABEL(m.tag), PITH_FAULT_LABEL);
    UT_EQ(m.badge, 0x42);
    UT_EQ(m.w[0], PITH_FAULT_SYSCALL);
    UT_EQ(m.w[1], 0x1001);
    m = (struct pith_msg){ .tag = PITH_TAG(PITH_FAULT_SYSCALL_RESULT, 1), .w = { 11 } };
    UT_EQ(pith_send(reply, &m), PITH_OK);
    UT_EQ(sys_results[1], 11);
    /* An unknown verdict delivers too. */
    m = (struct pith_msg){ 0 };
    UT_EQ(pith_nbrecv(ep, &m, reply), PITH_OK);
    UT_EQ(m.w[1], 0x1002);
    m = (struct pith_msg){ .tag = PITH_TAG(PITH_FAULT_SYSCALL_RESULT, 1), .w = { 12 } };
    UT_EQ(pith_send(reply, &m), PITH_OK);
    UT_EQ(sys_results[2], 12);
    /* RESULT for a page fault: delivered as a page fault, the thread untouched. */
    m = (struct pith_msg){ 0 };
    UT_EQ(pith_nbrecv(ep, &m, reply), PITH_OK);
    UT_EQ(PITH_TAG_LABEL(m.tag), PITH_FAULT_LABEL);
    UT_EQ(m.w[0], PITH_FAULT_PAGE);
    UT_EQ(m.w[1], EXT_VA + 0x5000);
    UT_EQ(pith_invoke(ext, PITH_EXT_INFO, &m), PITH_OK);
    UT_EQ(m.w[2], 4);                   /* four runs: three calls and the page fault */
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, t, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, ext, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, fault_ep, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, ep, 0, 0, 0), PITH_OK);
}

/* The kernel reads a program's text and writes its maps: never device memory, where that has effects. */
UTEST(ext_refuses_device_memory)
{
    setup();
    const struct pith_bootinfo *bi = pith_bootinfo;
    uint64_t dev = 0;
    for (uint64_t i = 0; i < bi->untyped.count && !dev; i++)
        if (bi->untyped_list[i].is_device && bi->untyped_list[i].size_bits >= 16)
            dev = bi->untyped.first_slot + i;
    UT_ASSERT(dev);
    uint64_t frame = pith_slot_alloc(), ext = make_object(PITH_OBJ_EXTENSION, 0);
    UT_EQ(pith_invoke4(dev, PITH_UNTYPED_RETYPE, PITH_OBJ_EXTENSION, PITH_SLOT_CSPACE, pith_slot_alloc(), 1),
          PITH_E_INVALID_ARG);
    UT_EQ(pith_invoke4(dev, PITH_UNTYPED_RETYPE, PITH_OBJ_FRAME, PITH_SLOT_CSPACE, frame, 1), PITH_OK);
    struct pith_msg m = { .w = { PITH_EXT_EVENT_IPC, 2, frame, 0 } };
    UT_EQ(pith_invoke(ext, PITH_EXT_LOAD, &m), PITH_E_INVALID_ARG);
    UT_EQ(pith_invoke4(ext, PITH_EXT_SET_MAP, 0, frame, 0, 0), PITH_E_INVALID_ARG);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, frame, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, ext, 0, 0, 0), PITH_OK);
}
