#include "utest.h"
#include "tls.h"

uint64_t test_untyped;

uint64_t make_object(uint8_t type, uint32_t bits)
{
    if (!test_untyped)
        test_untyped = pith_biggest_untyped();
    uint64_t slot = pith_slot_alloc();
    long err = pith_invoke4(test_untyped, PITH_UNTYPED_RETYPE, type | (uint64_t)bits << 8,
                            PITH_SLOT_CSPACE, slot, 1);
    if (err) {
        printf("make_object: retype type %u failed: %ld\n", type, err);
        return 0;
    }
    return slot;
}

/* Stacks for test threads live in our own address space, above the test image. */
#define THREAD_STACK_BASE 0x40000000ull
static uint64_t next_stack = THREAD_STACK_BASE;

int map_frame(uint64_t vspace, uint64_t frame, uint64_t vaddr, uint8_t rights)
{
    for (int i = 0; i < 4; i++) {
        long err = pith_invoke4(frame, PITH_FRAME_MAP, vspace, vaddr, rights, 0);
        if (err != PITH_E_NO_TABLE)
            return (int)err;
        uint64_t pt = make_object(PITH_OBJ_PAGE_TABLE, 0);
        if ((err = pith_invoke4(pt, PITH_PAGE_TABLE_MAP, vspace, vaddr, 0, 0)))
            return (int)err;
    }
    return PITH_E_NO_TABLE;
}

static int map_page(uint64_t frame, uint64_t vaddr)
{
    return map_frame(PITH_SLOT_VSPACE, frame, vaddr, PITH_RIGHT_READ | PITH_RIGHT_WRITE);
}

static void thread_entry(uint64_t fn, uint64_t arg) __attribute__((noreturn, used));
static void thread_entry(uint64_t fn, uint64_t arg)
{
    ((void (*)(uint64_t))fn)(arg);
    /* Returning ends the thread: it suspends itself and waits forever. */
    for (;;)
        pith_sleep_ns(1000000000000ull);
}

uint64_t make_thread(void (*fn)(uint64_t), uint64_t arg, unsigned priority)
{
    uint64_t tcb = make_object(PITH_OBJ_TCB, 0);
    uint64_t stack_frame = make_object(PITH_OBJ_FRAME, 0);
    uint64_t ipcbuf = make_object(PITH_OBJ_FRAME, 0);
    uint64_t stack_va = next_stack;
    next_stack += 0x4000;                   /* a page of stack, a guard, the IPC buffer, a guard */
    if (!tcb || !stack_frame || !ipcbuf || map_page(stack_frame, stack_va) ||
        map_page(ipcbuf, stack_va + 0x2000))
        return 0;
    /* A thread block, so the thread may use the C library (printf, errno, the canary). */
    struct pith_tls *tls = pith_tls_new((struct pith_ipc_buffer *)(stack_va + 0x2000), tcb);
    if (!tls || pith_invoke4(tcb, PITH_TCB_CONFIGURE, PITH_SLOT_CSPACE, PITH_SLOT_VSPACE, ipcbuf, 0) ||
        pith_invoke4(tcb, PITH_TCB_SET_PRIORITY, priority, priority, 0, 0) ||
        pith_invoke4(tcb, PITH_TCB_SET_TLS, (uint64_t)tls, 0, 0, 0))
        return 0;
    /* rip, rsp, rdi, rsi: thread_entry(fn, arg) on a 16-byte aligned stack less a return slot. */
    if (pith_invoke4(tcb, PITH_TCB_WRITE_REGISTERS, (uint64_t)thread_entry,
                     stack_va + 0x1000 - 8, (uint64_t)fn, arg))
        return 0;
    return tcb;
}
