/*
 * Extension figures (docs/extensions.md), in one run so they compare:
 *   pith.ext_ipc_answer        a call answered in the kernel by an extension on the endpoint
 *   pith.ext_ipc_answer_user   the same request (word 0 + 1, label 70) answered by a
 *                              user-level server in another address space
 *   pith.ext_ipc_pass_xas      that server's round trip with a program attached that
 *                              counts the call in a map and passes it on (the slow path)
 */
#include "bench.h"
#include "pith.h"
#include <pith/extension.h>

#define WARMUP 1000
#define ITERS  10000
#define EXT_BENCH_VA 0x48000000ull      /* program text and the map, in our space */
#define SERVER_STACK 0x48100000ull      /* in the server's space */

static uint64_t samples[ITERS];

static void map(uint64_t vspace, uint64_t frame, uint64_t va, uint8_t rights)
{
    for (int i = 0; i < 4; i++) {
        long err = pith_invoke4(frame, PITH_FRAME_MAP, vspace, va, rights, 0);
        if (err == PITH_OK)
            return;
        if (err != PITH_E_NO_TABLE ||
            (err = pith_invoke4(bench_make(PITH_OBJ_PAGE_TABLE, 0, 1), PITH_PAGE_TABLE_MAP, vspace, va, 0, 0)))
            bench_die("ext: map", err);
    }
}

/* The user-level answer: word 0 + 1 under label 70.  No globals: it runs in another address space. */
static void answer_server(uint64_t slots)
{
    uint64_t ep = slots & 0xffff, reply = slots >> 16;
    struct pith_msg m = { 0 };
    pith_recv(ep, &m, reply);
    for (;;) {
        m.w[0] += 1;
        m.tag = PITH_TAG(70, 1);
        pith_reply_recv(ep, &m, reply);
    }
}

extern const char __text_start[], __text_end[];

/* A server thread in an address space of its own, on copies of our text pages. */
static uint64_t server_elsewhere(uint64_t ep, uint64_t reply)
{
    uint64_t vs = bench_make(PITH_OBJ_VSPACE, 0, 1);
    uint64_t text_pages = ((uint64_t)__text_end - (uint64_t)__text_start + 4095) / 4096;
    for (uint64_t i = 0; i < text_pages; i++) {
        uint64_t copy = pith_slot_alloc();
        pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, copy, pith_bootinfo->image_frames.first_slot + i,
                     PITH_RIGHT_READ | PITH_RIGHT_EXEC, 0);
        map(vs, copy, (uint64_t)__text_start + i * 4096, PITH_RIGHT_READ | PITH_RIGHT_EXEC);
    }
    uint64_t tcb = bench_make(PITH_OBJ_TCB, 0, 1), stack = bench_make(PITH_OBJ_FRAME, 0, 1),
             buf = bench_make(PITH_OBJ_FRAME, 0, 1);
    map(vs, stack, SERVER_STACK, PITH_RIGHT_READ | PITH_RIGHT_WRITE);
    map(vs, buf, SERVER_STACK + 0x2000, PITH_RIGHT_READ | PITH_RIGHT_WRITE);
    pith_invoke4(tcb, PITH_TCB_CONFIGURE, PITH_SLOT_CSPACE, vs, buf, 0);
    pith_invoke4(tcb, PITH_TCB_SET_PRIORITY, 150, 150, 0, 0);
    pith_invoke4(tcb, PITH_TCB_WRITE_REGISTERS, (uint64_t)answer_server, SERVER_STACK + 0x1000 - 8,
                 ep | reply << 16, 0);
    pith_invoke4(tcb, PITH_TCB_RESUME, 0, 0, 0, 0);
    return tcb;
}

/* ITERS timed calls (after WARMUP) of the request; every answer is checked. */
static void time_requests(uint64_t ep, const char *name, const char *unit)
{
    struct pith_msg m;
    for (int i = 0; i < WARMUP + ITERS; i++) {
        m = (struct pith_msg){ .tag = PITH_TAG(7, 1), .w = { (uint64_t)i } };
        uint64_t t0 = bench_clock();
        long err = pith_call(ep, &m);
        uint64_t t1 = bench_clock();
        if (err || m.w[0] != (uint64_t)i + 1 || PITH_TAG_LABEL(m.tag) != 70)
            bench_die("ext: a wrong answer", err);
        if (i >= WARMUP)
            samples[i - WARMUP] = t1 - t0;
    }
    bench_report(name, samples, ITERS, unit);
}

#define I PITH_EXT_INSN
#define K PITH_EXT_K

/* Answers label 7 with word 0 + 1 under label 70; passes anything else. */
static const struct pith_ext_insn answer_prog[] = {
    I(PITH_EXT_LDX64, 2, 1, 8, 0), I(PITH_EXT_JNE | K, 2, 0, 7, 7),
    I(PITH_EXT_LDX64, 3, 1, 32, 0), I(PITH_EXT_ADD | K, 3, 0, 0, 1), I(PITH_EXT_STX64, 1, 3, 80, 0),
    I(PITH_EXT_ST64, 1, 0, 72, 1), I(PITH_EXT_ST64, 1, 0, 64, 70),
    I(PITH_EXT_MOV | K, 0, 0, 0, PITH_EXT_REPLY), I(PITH_EXT_EXIT, 0, 0, 0, 0),
    I(PITH_EXT_MOV | K, 0, 0, 0, PITH_EXT_PASS), I(PITH_EXT_EXIT, 0, 0, 0, 0),
};

/* Counts every call in map 0 word 0 and passes it on. */
static const struct pith_ext_insn count_prog[] = {
    I(PITH_EXT_MOV | K, 1, 0, 0, 0), I(PITH_EXT_MOV | K, 2, 0, 0, 0), I(PITH_EXT_MOV | K, 3, 0, 0, 1),
    I(PITH_EXT_CALL, 0, 0, 0, PITH_EXT_MAP_ADD),
    I(PITH_EXT_MOV | K, 0, 0, 0, PITH_EXT_PASS), I(PITH_EXT_EXIT, 0, 0, 0, 0),
};

static uint64_t extension(uint64_t text_frame, const struct pith_ext_insn *p, uint64_t n, uint64_t map_frame)
{
    struct pith_ext_insn *text = (struct pith_ext_insn *)EXT_BENCH_VA;
    for (uint64_t i = 0; i < n; i++)
        text[i] = p[i];
    uint64_t ext = bench_make(PITH_OBJ_EXTENSION, 0, 1);
    long err = pith_invoke4(ext, PITH_EXT_LOAD, PITH_EXT_EVENT_IPC, n, text_frame, 0);
    if (!err)
        err = pith_invoke4(ext, PITH_EXT_SET_MAP, 0, map_frame, 0, 0);
    if (err)
        bench_die("ext: load", err);
    return ext;
}

void ext_bench(const char *unit)
{
    uint64_t text_frame = bench_make(PITH_OBJ_FRAME, 0, 1), map_frame = bench_make(PITH_OBJ_FRAME, 0, 1);
    map(PITH_SLOT_VSPACE, text_frame, EXT_BENCH_VA, PITH_RIGHT_READ | PITH_RIGHT_WRITE);
    map(PITH_SLOT_VSPACE, map_frame, EXT_BENCH_VA + 0x1000, PITH_RIGHT_READ | PITH_RIGHT_WRITE);
    volatile uint64_t *counts = (volatile uint64_t *)(EXT_BENCH_VA + 0x1000);

    /* In the kernel: nobody receives on this endpoint, the extension answers every call. */
    uint64_t ep_k = bench_make(PITH_OBJ_ENDPOINT, 0, 1);
    uint64_t answer = extension(text_frame, answer_prog, sizeof answer_prog / sizeof answer_prog[0], map_frame);
    if (pith_invoke4(answer, PITH_EXT_ATTACH, ep_k, 0, 0, 0))
        bench_die("ext: attach", 0);
    time_requests(ep_k, "ext_ipc_answer", unit);

    /* At user level: the same request to a server in another address space. */
    uint64_t ep = bench_make(PITH_OBJ_ENDPOINT, 0, 1), reply = bench_make(PITH_OBJ_REPLY, 0, 1);
    uint64_t server = server_elsewhere(ep, reply);
    time_requests(ep, "ext_ipc_answer_user", unit);

    /* The user-level server again, with a counting program on its endpoint. */
    uint64_t count = extension(text_frame, count_prog, sizeof count_prog / sizeof count_prog[0], map_frame);
    counts[0] = 0;
    if (pith_invoke4(count, PITH_EXT_ATTACH, ep, 0, 0, 0))
        bench_die("ext: attach", 0);
    time_requests(ep, "ext_ipc_pass_xas", unit);
    printf("# pith.ext_ipc_pass_xas: the program counted %lu calls\n", (unsigned long)counts[0]);
    pith_invoke4(server, PITH_TCB_SUSPEND, 0, 0, 0, 0);
}
