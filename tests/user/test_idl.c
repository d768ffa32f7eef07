/*
 * Generated stubs and dispatch (tools/idlc) with the probe protocol
 * (probe.idl): every kind of argument through a round trip, and requests
 * and replies of the wrong shape, which get their documented errors while
 * the server keeps serving.
 */
#include "idltest.h"
#include "probe.h"
#include "lib/string.h"

static struct pith_server probe_srv;
static struct pith_client probe_cli;
static uint64_t probe_own_cap;                  /* what swap hands out */
static volatile uint64_t served, seen_cap_type, seen_d;
static volatile int64_t seen_h;

static long h_ints(void *ctx, uint8_t a, uint16_t b, uint32_t c, uint64_t d, int8_t e, int16_t f, int32_t g,
                   int64_t h, uint8_t *ra, uint16_t *rb, uint32_t *rc, uint64_t *rd, int8_t *re, int16_t *rf,
                   int32_t *rg, int64_t *rh)
{
    served++;
    seen_d = d;
    seen_h = h;
    *ra = (uint8_t)~a;
    *rb = (uint16_t)~b;
    *rc = ~c;
    *rd = ~d;
    *re = (int8_t)~e;
    *rf = (int16_t)~f;
    *rg = ~g;
    *rh = ~h;
    return PITH_OK;
}

static long h_flag(void *ctx, bool b, bool *not_b)
{
    served++;
    *not_b = !b;
    return PITH_OK;
}

static long h_text(void *ctx, const char *s, const uint8_t *raw, uint64_t raw_len, char *rs, uint8_t *rraw,
                   uint64_t *rraw_len)
{
    served++;
    uint64_t n = strlen(s);
    for (uint64_t i = 0; i < n; i++)
        rs[i] = s[n - 1 - i];
    rs[n] = 0;
    for (uint64_t i = 0; i < raw_len; i++)
        rraw[i] = (uint8_t)(raw[i] + 1);
    *rraw_len = raw_len;
    return PITH_OK;
}

static long h_swap(void *ctx, uint64_t given, uint64_t *back)
{
    served++;
    struct pith_msg m = { .w = { given } };
    pith_invoke(PITH_SLOT_CSPACE, PITH_CNODE_IDENTIFY, &m);
    seen_cap_type = m.w[0];
    *back = probe_own_cap;
    return PITH_OK;
}

static long h_check(void *ctx, uint32_t code)
{
    served++;
    if (code == 2)
        return PITH_E_INVALID_ARG;              /* not declared for check: the client must not see it */
    return code & 1 ? PROBE_E_ODD : PITH_OK;
}

static const struct probe_handlers probe_handlers = {
    .ints = h_ints, .flag = h_flag, .text = h_text, .swap = h_swap, .check = h_check,
};

static void probe_thread(uint64_t unused)
{
    probe_srv.buf = thread_buffer();
    probe_serve(&probe_srv, &probe_handlers, NULL);
}

/* One probe server for every test here (above our priority: each call completes at once). */
static void probe_start(void)
{
    if (probe_srv.ep)
        return;
    probe_srv.ep = make_object(PITH_OBJ_ENDPOINT, 0);
    probe_srv.reply = make_object(PITH_OBJ_REPLY, 0);
    probe_srv.cap_slot = pith_slot_alloc();
    probe_own_cap = make_object(PITH_OBJ_NOTIFICATION, 0);
    uint64_t t = make_thread(probe_thread, 0, 150);
    pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0);
    registry_set("probe", probe_srv.ep);
    pith_client_init(&probe_cli, "probe", &test_registry, pith_slot_alloc(),
                     (struct pith_ipc_buffer *)PITH_IPC_BUFFER_ADDR);
}

UTEST(idl_integers_round_trip_at_extremes)
{
    probe_start();
    static const struct {
        uint8_t a; uint16_t b; uint32_t c; uint64_t d; int8_t e; int16_t f; int32_t g; int64_t h;
    } v[] = {
        { 0, 0, 0, 0, 0, 0, 0, 0 },
        { 0xff, 0xffff, 0xffffffffu, ~0ull, 127, 32767, 2147483647, 9223372036854775807ll },
        { 1, 2, 3, 4, -128, -32768, -2147483647 - 1, -9223372036854775807ll - 1 },
        { 0x80, 0x8000, 0x80000000u, 1ull << 63, -1, -1, -1, -1 },
    };
    for (unsigned i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t ra; uint16_t rb; uint32_t rc; uint64_t rd; int8_t re; int16_t rf; int32_t rg; int64_t rh;
        UT_EQ(probe_ints(&probe_cli, v[i].a, v[i].b, v[i].c, v[i].d, v[i].e, v[i].f, v[i].g, v[i].h,
                         &ra, &rb, &rc, &rd, &re, &rf, &rg, &rh), PITH_OK);
        UT_EQ(seen_d, v[i].d);
        UT_EQ(seen_h, v[i].h);
        UT_EQ(ra, (uint8_t)~v[i].a);
        UT_EQ(rb, (uint16_t)~v[i].b);
        UT_EQ(rc, ~v[i].c);
        UT_EQ(rd, ~v[i].d);
        UT_ASSERT(re == (int8_t)~v[i].e);
        UT_ASSERT(rf == (int16_t)~v[i].f);
        UT_ASSERT(rg == ~v[i].g);
        UT_ASSERT(rh == ~v[i].h);
    }
}

UTEST(idl_bool_round_trip)
{
    probe_start();
    bool r = true;
    UT_EQ(probe_flag(&probe_cli, true, &r), PITH_OK);
    UT_EQ(r, false);
    UT_EQ(probe_flag(&probe_cli, false, &r), PITH_OK);
    UT_EQ(r, true);
}

UTEST(idl_strings_at_maximum_and_empty)
{
    probe_start();
    char s[PROBE_TEXT_S_MAX + 2], rs[PROBE_TEXT_RS_MAX + 1];
    uint8_t raw[PROBE_TEXT_RAW_MAX + 1], rraw[PROBE_TEXT_RRAW_MAX];
    uint64_t rraw_len = 999;
    for (int i = 0; i < PROBE_TEXT_S_MAX; i++)
        s[i] = (char)('a' + i % 26);
    s[PROBE_TEXT_S_MAX] = 0;
    for (int i = 0; i <= PROBE_TEXT_RAW_MAX; i++)
        raw[i] = (uint8_t)(i * 7);                  /* includes zero bytes: a buffer may */
    UT_EQ(probe_text(&probe_cli, s, raw, PROBE_TEXT_RAW_MAX, rs, rraw, &rraw_len), PITH_OK);
    UT_EQ(strlen(rs), PROBE_TEXT_S_MAX);
    for (int i = 0; i < PROBE_TEXT_S_MAX; i++)
        UT_EQ(rs[i], s[PROBE_TEXT_S_MAX - 1 - i]);
    UT_EQ(rraw_len, PROBE_TEXT_RAW_MAX);
    for (int i = 0; i < PROBE_TEXT_RAW_MAX; i++)
        UT_EQ(rraw[i], (uint8_t)(i * 7 + 1));
    /* Empty, both. */
    rs[0] = 'x';
    UT_EQ(probe_text(&probe_cli, "", raw, 0, rs, rraw, &rraw_len), PITH_OK);
    UT_EQ(rs[0], 0);
    UT_EQ(rraw_len, 0);
    /* One byte too many never leaves the client. */
    uint64_t before = served;
    s[PROBE_TEXT_S_MAX] = 'z';
    s[PROBE_TEXT_S_MAX + 1] = 0;
    UT_EQ(probe_text(&probe_cli, s, raw, 0, rs, rraw, &rraw_len), PITH_IDL_E_ARG);
    UT_EQ(probe_text(&probe_cli, "", raw, PROBE_TEXT_RAW_MAX + 1, rs, rraw, &rraw_len), PITH_IDL_E_ARG);
    UT_EQ(served, before);
}

UTEST(idl_capability_in_and_out)
{
    probe_start();
    uint64_t gift = make_object(PITH_OBJ_PORT, 8), back = pith_slot_alloc();
    seen_cap_type = 0;
    UT_EQ(probe_swap(&probe_cli, gift, back), PITH_OK);
    UT_EQ(seen_cap_type, PITH_OBJ_PORT);
    struct pith_msg m = { .w = { back } };
    UT_EQ(pith_invoke(PITH_SLOT_CSPACE, PITH_CNODE_IDENTIFY, &m), PITH_OK);
    UT_EQ(m.w[0], PITH_OBJ_NOTIFICATION);
    UT_EQ(pith_signal(back), PITH_OK);          /* it works: it is the server's notification */
    UT_EQ(pith_nbrecv(probe_own_cap, &m, 0), PITH_OK);
    /* The server kept nothing it did not take: its receiving slot is empty again. */
    m = (struct pith_msg){ .w = { probe_srv.cap_slot } };
    UT_EQ(pith_invoke(PITH_SLOT_CSPACE, PITH_CNODE_IDENTIFY, &m), PITH_OK);
    UT_EQ(m.w[0], PITH_OBJ_NULL);
}

UTEST(idl_declared_and_undeclared_errors)
{
    probe_start();
    UT_EQ(probe_check(&probe_cli, 4), PITH_OK);
    UT_EQ(probe_check(&probe_cli, 5), PROBE_E_ODD);
    UT_EQ(PROBE_E_ODD, PITH_IDL_E_PROTOCOL(7));
    UT_EQ(probe_check(&probe_cli, 2), PITH_IDL_E_REPLY);    /* the handler broke the contract */
    UT_EQ(probe_check(&probe_cli, 0), PITH_OK);
}

/* Sends a hand-made request; returns the reply's label (the error), or the call's error with bit 32 set. */
static uint64_t raw_call(uint64_t label, uint64_t len, uint64_t w0, uint64_t w1, uint64_t extra)
{
    struct pith_msg m = { .tag = PITH_TAG(label, len) | extra, .w = { w0, w1, 0, 0 } };
    long err = pith_call(probe_cli.ep_slot, &m);
    return err ? (uint64_t)err | 1ull << 32 : PITH_TAG_LABEL(m.tag);
}

UTEST(idl_malformed_requests_get_errors_and_server_goes_on)
{
    probe_start();
    bool r;
    UT_EQ(probe_flag(&probe_cli, true, &r), PITH_OK);       /* bound: the slot holds the endpoint */
    struct pith_ipc_buffer *b = (struct pith_ipc_buffer *)PITH_IPC_BUFFER_ADDR;
    uint64_t flag = PITH_IDL_LABEL(PROBE_VERSION, PROBE_FLAG), text = PITH_IDL_LABEL(PROBE_VERSION, PROBE_TEXT);
    uint64_t ints = PITH_IDL_LABEL(PROBE_VERSION, PROBE_INTS), swap = PITH_IDL_LABEL(PROBE_VERSION, PROBE_SWAP);
    UT_EQ(raw_call(flag, 1, 1, 0, 0), PITH_OK);             /* the shape the stub uses */
    UT_EQ(raw_call(PITH_IDL_LABEL(PROBE_VERSION - 1, PROBE_FLAG), 1, 1, 0, 0), PITH_IDL_E_VERSION);
    UT_EQ(raw_call(PITH_IDL_LABEL(PROBE_VERSION + 1, PROBE_FLAG), 1, 1, 0, 0), PITH_IDL_E_VERSION);
    UT_EQ(raw_call(PITH_IDL_LABEL(PROBE_VERSION, 99), 1, 1, 0, 0), PITH_IDL_E_LABEL);
    UT_EQ(raw_call(flag, 0, 1, 0, 0), PITH_IDL_E_LENGTH);
    UT_EQ(raw_call(flag, 2, 1, 0, 0), PITH_IDL_E_LENGTH);
    UT_EQ(raw_call(ints, 7, 0, 0, 0), PITH_IDL_E_LENGTH);
    UT_EQ(raw_call(flag, 1, 2, 0, 0), PITH_IDL_E_ARG);      /* a bool is 0 or 1 */
    for (int i = 4; i < 8; i++)
        b->msg[i] = 0;
    UT_EQ(raw_call(ints, 8, 0x100, 0, 0), PITH_IDL_E_ARG);  /* a u8 above 255 */
    b->msg[4] = 0x80;                                       /* an i8 of 128 */
    UT_EQ(raw_call(ints, 8, 0, 0, 0), PITH_IDL_E_ARG);
    b->msg[4] = (uint64_t)-128;                             /* -128 is fine */
    UT_EQ(raw_call(ints, 8, 0, 0, 0), PITH_OK);
    /* Strings: length words over the maximum, a NUL inside, data shorter than the lengths say. */
    UT_EQ(raw_call(text, 4 + 6 + 1, PROBE_TEXT_S_MAX + 1, 8, 0), PITH_IDL_E_ARG);
    memcpy(&b->msg[4], "abc\0efgh", 8);
    UT_EQ(raw_call(text, 5, 8, 0, 0), PITH_IDL_E_ARG);
    memcpy(&b->msg[4], "abcdefgh", 8);
    UT_EQ(raw_call(text, 5, 8, 0, 0), PITH_OK);
    UT_EQ(raw_call(text, 5, 9, 0, 0), PITH_IDL_E_LENGTH);
    UT_EQ(raw_call(text, 6, 8, 0, 0), PITH_IDL_E_LENGTH);
    UT_EQ(raw_call(text, 1, 0, 0, 0), PITH_IDL_E_LENGTH);
    /* Capabilities: missing where required, present where not (and then deleted). */
    UT_EQ(raw_call(swap, 0, 0, 0, 0), PITH_IDL_E_CAP);
    uint64_t gift = make_object(PITH_OBJ_NOTIFICATION, 0);
    b->send_cap = gift;
    b->recv_slot = 0;
    UT_EQ(raw_call(flag, 1, 1, 0, PITH_TAG_CAP), PITH_IDL_E_CAP);
    struct pith_msg m = { .w = { probe_srv.cap_slot } };
    UT_EQ(pith_invoke(PITH_SLOT_CSPACE, PITH_CNODE_IDENTIFY, &m), PITH_OK);
    UT_EQ(m.w[0], PITH_OBJ_NULL);
    /* The server is still there, and answers properly. */
    UT_EQ(probe_flag(&probe_cli, false, &r), PITH_OK);
    UT_EQ(r, true);
    uint64_t back = pith_slot_alloc();
    UT_EQ(probe_swap(&probe_cli, gift, back), PITH_OK);
}

/* ---- the client checks replies too: a server that answers with the wrong shape ---- */

static uint64_t liar_ep, liar_reply, liar_gift;

static void liar(uint64_t unused)
{
    struct pith_ipc_buffer *b = thread_buffer();
    static const uint64_t tags[] = {
        PITH_TAG(0, 0),                     /* flag: one word missing */
        PITH_TAG(0, 1),                     /* flag: the bool is 2 */
        PITH_TAG(PITH_IDL_E_PROTOCOL(9), 0),    /* check: an error it does not declare */
        PITH_TAG(PITH_IDL_E_LABEL, 1),      /* check: an error with words */
        PITH_TAG(0, 4 + 2),                 /* text: string length over the maximum */
        PITH_TAG(0, 0) | PITH_TAG_CAP,      /* check: a capability nobody asked for */
    };
    struct pith_msg m = { 0 };
    pith_recv(liar_ep, &m, liar_reply);
    for (unsigned i = 0;; i = (i + 1) % (sizeof tags / sizeof tags[0])) {
        m = (struct pith_msg){ .tag = tags[i], .w = { 2, PROBE_TEXT_RS_MAX + 1, 0, 0 } };
        b->send_cap = liar_gift;
        pith_reply_recv(liar_ep, &m, liar_reply);
    }
}

UTEST(idl_client_rejects_replies_of_the_wrong_shape)
{
    liar_ep = make_object(PITH_OBJ_ENDPOINT, 0);
    liar_reply = make_object(PITH_OBJ_REPLY, 0);
    liar_gift = make_object(PITH_OBJ_NOTIFICATION, 0);
    uint64_t t = make_thread(liar, 0, 150);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    registry_set("liar", liar_ep);
    static struct pith_client c;
    pith_client_init(&c, "liar", &test_registry, pith_slot_alloc(), (struct pith_ipc_buffer *)PITH_IPC_BUFFER_ADDR);
    bool r;
    char rs[PROBE_TEXT_RS_MAX + 1];
    uint8_t rraw[PROBE_TEXT_RRAW_MAX];
    uint64_t rlen;
    UT_EQ(probe_flag(&c, true, &r), PITH_IDL_E_REPLY);
    UT_EQ(probe_flag(&c, true, &r), PITH_IDL_E_REPLY);
    UT_EQ(probe_check(&c, 0), PITH_IDL_E_REPLY);
    UT_EQ(probe_check(&c, 0), PITH_IDL_E_REPLY);
    UT_EQ(probe_text(&c, "x", rraw, 0, rs, rraw, &rlen), PITH_IDL_E_REPLY);
    UT_EQ(probe_check(&c, 0), PITH_IDL_E_REPLY);
    pith_invoke4(t, PITH_TCB_SUSPEND, 0, 0, 0, 0);
}

UTEST(idl_unknown_name_gives_no_server)
{
    static struct pith_client c;
    pith_client_init(&c, "nobody", &test_registry, pith_slot_alloc(), (struct pith_ipc_buffer *)PITH_IPC_BUFFER_ADDR);
    c.retries = 2;                              /* waits 1 + 2 ms */
    bool r;
    UT_EQ(probe_flag(&c, true, &r), PITH_IDL_E_NO_SERVER);
    UT_EQ(c.bound, false);
}

/* ---- a resolver that does IPC of its own overwrites the IPC buffer; the request must survive ---- */

static long scribbling_lookup(void *ctx, const char *name, uint64_t dest_slot)
{
    struct pith_ipc_buffer *b = thread_buffer();
    for (int i = 0; i < PITH_MSG_MAX; i++)
        b->msg[i] = 0x5a5a5a5a5a5a5a5aull;
    b->send_cap = b->recv_slot = 0x5a;
    return test_registry.lookup(ctx, name, dest_slot);
}

UTEST(idl_request_survives_a_resolver_that_uses_the_buffer)
{
    probe_start();
    static const struct pith_resolver scribbler = { scribbling_lookup, NULL };
    static struct pith_client c;
    pith_client_init(&c, "probe", &scribbler, pith_slot_alloc(), (struct pith_ipc_buffer *)PITH_IPC_BUFFER_ADDR);
    char rs[PROBE_TEXT_RS_MAX + 1];
    uint8_t raw[3] = { 1, 2, 3 }, rraw[PROBE_TEXT_RRAW_MAX];
    uint64_t rlen = 0;
    UT_EQ(probe_text(&c, "abc", raw, 3, rs, rraw, &rlen), PITH_OK);     /* the first lookup */
    UT_ASSERT(!strcmp(rs, "cba"));
    UT_EQ(rlen, 3);
    UT_EQ(rraw[2], 4);
    /* Our capability goes: the call fails unsent, the lookup scribbles, the request goes again intact. */
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, c.ep_slot, 0, 0, 0), PITH_OK);
    UT_EQ(probe_text(&c, "xyz!", raw, 2, rs, rraw, &rlen), PITH_OK);
    UT_EQ(c.rebinds, 1);
    UT_ASSERT(!strcmp(rs, "!zyx"));
    UT_EQ(rlen, 2);
    UT_EQ(rraw[1], 3);
}
