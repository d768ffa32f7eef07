/*
 * The key-value server in an address space of its own (our code and
 * read-only data copied in, its state on one shared page): generated code
 * needs no globals.  Every kv message and error through the stubs.
 */
#include "idltest.h"
#include "kvstore.h"
#include "lib/string.h"

#define KV_PAGE     0x59000000ull      /* the server's state, mapped in both spaces */
#define KV_STACK    0x40000000ull      /* in the server's space: stack, guard, IPC buffer */

struct kv_page {
    struct pith_server srv;
    struct kv_store store;
};
_Static_assert(sizeof(struct kv_page) <= 4096, "the server's state fits its page");

static void kv_xas_thread(uint64_t page)
{
    struct kv_page *p = (struct kv_page *)page;
    kv_store_serve(&p->srv, &p->store);
}

extern const char __text_start[], __text_end[], __rodata_end[];

/* A new address space with our text and read-only data, and `page` at KV_PAGE. */
static uint64_t server_space(uint64_t page)
{
    uint64_t vs = make_object(PITH_OBJ_VSPACE, 0);
    uint64_t pages = ((uint64_t)__rodata_end - (uint64_t)__text_start + 4095) / 4096;
    for (uint64_t i = 0; i < pages; i++) {
        uint64_t va = (uint64_t)__text_start + i * 4096, copy = pith_slot_alloc();
        uint8_t r = va < (uint64_t)__text_end ? PITH_RIGHT_READ | PITH_RIGHT_EXEC : PITH_RIGHT_READ;
        if (pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, copy, pith_bootinfo->image_frames.first_slot + i, r, 0) ||
            map_frame(vs, copy, va, r))
            return 0;
    }
    uint64_t copy = pith_slot_alloc();
    if (pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, copy, page, PITH_RIGHTS_ALL, 0) ||
        map_frame(vs, copy, KV_PAGE, PITH_RIGHT_READ | PITH_RIGHT_WRITE))
        return 0;
    return vs;
}

static uint64_t server_thread_in(uint64_t vs)
{
    uint64_t tcb = make_object(PITH_OBJ_TCB, 0), stack = make_object(PITH_OBJ_FRAME, 0);
    uint64_t buf = make_object(PITH_OBJ_FRAME, 0);
    if (map_frame(vs, stack, KV_STACK, PITH_RIGHT_READ | PITH_RIGHT_WRITE) ||
        map_frame(vs, buf, KV_STACK + 0x2000, PITH_RIGHT_READ | PITH_RIGHT_WRITE) ||
        pith_invoke4(tcb, PITH_TCB_CONFIGURE, PITH_SLOT_CSPACE, vs, buf, 0) ||
        pith_invoke4(tcb, PITH_TCB_SET_PRIORITY, 150, 150, 0, 0) ||
        pith_invoke4(tcb, PITH_TCB_WRITE_REGISTERS, (uint64_t)kv_xas_thread, KV_STACK + 0x1000 - 8, KV_PAGE, 0))
        return 0;
    return tcb;
}

UTEST(idl_kv_server_in_another_address_space)
{
    uint64_t page = make_object(PITH_OBJ_FRAME, 0);
    UT_EQ(map_frame(PITH_SLOT_VSPACE, page, KV_PAGE, PITH_RIGHT_READ | PITH_RIGHT_WRITE), PITH_OK);
    struct kv_page *p = (struct kv_page *)KV_PAGE;
    p->srv = (struct pith_server){ .ep = make_object(PITH_OBJ_ENDPOINT, 0), .reply = make_object(PITH_OBJ_REPLY, 0),
                                   .buf = (struct pith_ipc_buffer *)(KV_STACK + 0x2000) };
    uint64_t vs = server_space(page);
    UT_ASSERT(vs);
    uint64_t t = server_thread_in(vs);
    UT_ASSERT(t);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    registry_set("kv-xas", p->srv.ep);
    static struct pith_client c;
    pith_client_init(&c, "kv-xas", &test_registry, pith_slot_alloc(), (struct pith_ipc_buffer *)PITH_IPC_BUFFER_ADDR);

    uint8_t value[KV_GET_VALUE_MAX];
    uint64_t len = 0;
    uint32_t keys = 99;
    int64_t total = 0;
    UT_EQ(kv_count(&c, &keys), PITH_OK);
    UT_EQ(keys, 0);
    UT_EQ(kv_get(&c, "absent", value, &len), KV_E_NOT_FOUND);
    UT_EQ(kv_remove(&c, "absent"), KV_E_NOT_FOUND);
    UT_EQ(kv_put(&c, "greeting", "hello", 5), PITH_OK);
    UT_EQ(kv_put(&c, "greeting", "hello, world", 12), PITH_OK);        /* replaces */
    UT_EQ(kv_get(&c, "greeting", value, &len), PITH_OK);
    UT_EQ(len, 12);
    UT_EQ(memcmp(value, "hello, world", 12), 0);
    UT_EQ(kv_add(&c, "greeting", 1, &total), KV_E_NOT_COUNTER);
    UT_EQ(kv_add(&c, "n", -5, &total), PITH_OK);
    UT_EQ(kv_add(&c, "n", 7, &total), PITH_OK);
    UT_EQ(total, 2);
    UT_EQ(kv_count(&c, &keys), PITH_OK);
    UT_EQ(keys, 2);
    UT_EQ(kv_remove(&c, "greeting"), PITH_OK);
    UT_EQ(kv_get(&c, "greeting", value, &len), KV_E_NOT_FOUND);
    /* Fill the table: the 33rd key finds no room. */
    char key[4] = "k00";
    for (int i = 0; i < KV_KEYS - 1; i++) {
        key[1] = (char)('0' + i / 10);
        key[2] = (char)('0' + i % 10);
        UT_EQ(kv_put(&c, key, key, 3), PITH_OK);
    }
    UT_EQ(kv_put(&c, "one too many", "", 0), KV_E_FULL);
    UT_EQ(kv_count(&c, &keys), PITH_OK);
    UT_EQ(keys, KV_KEYS);
    /* The server's state is on the page both spaces see: every entry in use. */
    for (int i = 0; i < KV_KEYS; i++)
        UT_ASSERT(p->store.e[i].used);
    pith_invoke4(t, PITH_TCB_SUSPEND, 0, 0, 0, 0);
}
