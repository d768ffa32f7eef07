/*
 * User-level benchmarks, run as init when the kernel command line says
 * "bench".  Each figure: ITERS samples after WARMUP, median/min/max of the
 * TSC (instructions under icount), in the format of docs/testing.md.
 */
#include "bench.h"
#include "pith.h"
#include "kvstore.h"
#include "stats.h"

#define WARMUP 1000
#define ITERS  10000

static uint64_t samples[ITERS];
static const char *unit;
static int icount;                  /* clock=icount: the TSC counts instructions */

static void report_n(const char *name, int n)
{
    bench_report(name, samples, n, unit);
}

static void report(const char *name)
{
    report_n(name, ITERS);
}



static void map(uint64_t vspace, uint64_t frame, uint64_t va, uint8_t rights)
{
    for (int i = 0; i < 4; i++) {
        long err = pith_invoke4(frame, PITH_FRAME_MAP, vspace, va, rights, 0);
        if (err == PITH_OK)
            return;
        if (err != PITH_E_NO_TABLE ||
            pith_invoke4(bench_make(PITH_OBJ_PAGE_TABLE, 0, 1), PITH_PAGE_TABLE_MAP, vspace, va, 0, 0)) {
            printf("bench: cannot map %#lx: %ld\n", va, err);
            pith_shutdown(0);
        }
    }
}

/* A thread in `vspace` (ours or another) with a stack at stack_va, running fn(arg). */
static uint64_t thread(uint64_t vspace, uint64_t stack_va, void (*fn)(uint64_t), uint64_t arg, unsigned prio)
{
    uint64_t tcb = bench_make(PITH_OBJ_TCB, 0, 1), stack = bench_make(PITH_OBJ_FRAME, 0, 1),
             buf = bench_make(PITH_OBJ_FRAME, 0, 1);
    map(vspace, stack, stack_va, PITH_RIGHT_READ | PITH_RIGHT_WRITE);
    map(vspace, buf, stack_va + 0x2000, PITH_RIGHT_READ | PITH_RIGHT_WRITE);
    pith_invoke4(tcb, PITH_TCB_CONFIGURE, PITH_SLOT_CSPACE, vspace, buf, 0);
    pith_invoke4(tcb, PITH_TCB_SET_PRIORITY, prio, prio, 0, 0);
    pith_invoke4(tcb, PITH_TCB_WRITE_REGISTERS, (uint64_t)fn, stack_va + 0x1000 - 8, arg, 0);
    return tcb;
}

/* ---- the figures ---- */

static void null_syscall(void)
{
    struct pith_msg m = { 0 };
    for (int i = 0; i < WARMUP + ITERS; i++) {
        uint64_t t0 = bench_clock();
        pith_syscall(PITH_SYS_INFO, 0, &m, 0);
        uint64_t t1 = bench_clock();
        if (i >= WARMUP)
            samples[i - WARMUP] = t1 - t0;
    }
    report("null_syscall");
}

/* Serves calls forever: answer, wait for the next.  Uses no globals (it may run in another address space). */
static void server(uint64_t slots)
{
    uint64_t ep = slots & 0xffff, reply = slots >> 16;
    struct pith_msg m = { 0 };
    pith_recv(ep, &m, reply);
    for (;;)
        pith_reply_recv(ep, &m, reply);
}

static uint64_t fast_path_hits(void)
{
    struct pith_msg m = { 0 };
    pith_syscall(PITH_SYS_INFO, 0, &m, 0);
    return m.w[3];
}

/* Fills the samples with ITERS timed calls on ep (after WARMUP), each with the tag given. */
static void time_calls(uint64_t ep, uint64_t tag, const uint64_t w[4])
{
    struct pith_msg m = { 0 };
    for (int i = 0; i < WARMUP + ITERS; i++) {
        m.tag = tag;
        for (int k = 0; k < 4; k++)
            m.w[k] = w[k];
        uint64_t t0 = bench_clock();
        pith_call(ep, &m);
        uint64_t t1 = bench_clock();
        if (i >= WARMUP)
            samples[i - WARMUP] = t1 - t0;
    }
}

static const uint64_t words[4] = { 1, 2, 3, 4 };

static void call_rtt(uint64_t ep, const char *name)
{
    uint64_t hits = fast_path_hits();
    time_calls(ep, PITH_TAG(1, 4), words);
    /* Proof of what was measured: each round trip is a call and a reply-receive. */
    printf("# pith.%s fast_path_hits=%lu of %d kernel entries\n", name, fast_path_hits() - hits,
           2 * (WARMUP + ITERS));
    report(name);
}

static void ipc_same(void)
{
    uint64_t ep = bench_make(PITH_OBJ_ENDPOINT, 0, 1), reply = bench_make(PITH_OBJ_REPLY, 0, 1);
    uint64_t t = thread(PITH_SLOT_VSPACE, 0x40000000, server, ep | reply << 16, 150);
    pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0);
    call_rtt(ep, "ipc_call_rtt_same");
    pith_invoke4(t, PITH_TCB_SUSPEND, 0, 0, 0, 0);
}

extern const char __text_start[], __text_end[];

/* The server in an address space of its own, running copies of our text pages. */
static void ipc_xas(void)
{
    uint64_t vs = bench_make(PITH_OBJ_VSPACE, 0, 1);
    const struct pith_bootinfo *bi = pith_bootinfo;
    uint64_t text_pages = ((uint64_t)__text_end - (uint64_t)__text_start + 4095) / 4096;
    for (uint64_t i = 0; i < text_pages; i++) {
        uint64_t copy = pith_slot_alloc();
        pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, copy, bi->image_frames.first_slot + i,
                     PITH_RIGHT_READ | PITH_RIGHT_EXEC, 0);
        map(vs, copy, (uint64_t)__text_start + i * 4096, PITH_RIGHT_READ | PITH_RIGHT_EXEC);
    }
    uint64_t ep = bench_make(PITH_OBJ_ENDPOINT, 0, 1), reply = bench_make(PITH_OBJ_REPLY, 0, 1);
    uint64_t t = thread(vs, 0x40000000, server, ep | reply << 16, 150);
    pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0);
    call_rtt(ep, "ipc_call_rtt_xas");
    pith_invoke4(t, PITH_TCB_SUSPEND, 0, 0, 0, 0);
}

/*
 * The same round trip through generated code (tools/idlc): the key-value
 * server (servers/kv/) in its own address space, its state on a page of
 * its own, called through kv_count's stub (a register-sized message, like
 * ipc_call_rtt_xas) and kv_get's (a key and a value in the IPC buffer).
 */
#define KV_BENCH_PAGE 0x58000000ull

struct kv_bench {
    struct pith_server srv;
    struct kv_store store;
};
_Static_assert(sizeof(struct kv_bench) <= 4096, "the server's state fits its page");

static void kv_bench_server(uint64_t page)
{
    struct kv_bench *b = (struct kv_bench *)page;
    kv_store_serve(&b->srv, &b->store);
}

static long kv_bench_lookup(void *ctx, const char *name, uint64_t dest)
{
    (void)name;
    return pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, dest, *(uint64_t *)ctx, PITH_RIGHTS_ALL, 0);
}

extern const char __rodata_end[];

static void idl_xas(void)
{
    /* The server's space: our text and read-only data (the handler table), and the state page. */
    uint64_t vs = bench_make(PITH_OBJ_VSPACE, 0, 1), page = bench_make(PITH_OBJ_FRAME, 0, 1), page2 = pith_slot_alloc();
    const struct pith_bootinfo *bi = pith_bootinfo;
    uint64_t pages = ((uint64_t)__rodata_end - (uint64_t)__text_start + 4095) / 4096;
    for (uint64_t i = 0; i < pages; i++) {
        uint64_t va = (uint64_t)__text_start + i * 4096, copy = pith_slot_alloc();
        uint8_t r = va < (uint64_t)__text_end ? PITH_RIGHT_READ | PITH_RIGHT_EXEC : PITH_RIGHT_READ;
        pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, copy, bi->image_frames.first_slot + i, r, 0);
        map(vs, copy, va, r);
    }
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, page2, page, PITH_RIGHTS_ALL, 0);
    map(PITH_SLOT_VSPACE, page, KV_BENCH_PAGE, PITH_RIGHT_READ | PITH_RIGHT_WRITE);
    map(vs, page2, KV_BENCH_PAGE, PITH_RIGHT_READ | PITH_RIGHT_WRITE);
    struct kv_bench *b = (struct kv_bench *)KV_BENCH_PAGE;
    uint64_t ep = bench_make(PITH_OBJ_ENDPOINT, 0, 1);
    b->srv = (struct pith_server){ .ep = ep, .reply = bench_make(PITH_OBJ_REPLY, 0, 1), .cap_slot = 0,
                                   .buf = (struct pith_ipc_buffer *)(0x40050000ull + 0x2000) };
    uint64_t t = thread(vs, 0x40050000ull, kv_bench_server, KV_BENCH_PAGE, 150);
    pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0);

    const struct pith_resolver resolver = { kv_bench_lookup, &ep };
    static struct pith_client c;
    pith_client_init(&c, "kv", &resolver, pith_slot_alloc(), (struct pith_ipc_buffer *)PITH_IPC_BUFFER_ADDR);
    uint32_t keys;
    long err = kv_put(&c, "key", "a value of 24 bytes.....", 24);
    uint64_t hits = fast_path_hits();
    for (int i = 0; i < WARMUP + ITERS; i++) {
        uint64_t t0 = bench_clock();
        err |= kv_count(&c, &keys);
        uint64_t t1 = bench_clock();
        if (i >= WARMUP)
            samples[i - WARMUP] = t1 - t0;
    }
    printf("# pith.idl_call_rtt_xas fast_path_hits=%lu of %d kernel entries\n", fast_path_hits() - hits,
           2 * (WARMUP + ITERS));
    report("idl_call_rtt_xas");
    report("stub_rtt");                 /* the same round trip under its common name */
    char value[KV_GET_VALUE_MAX];
    uint64_t len;
    for (int i = 0; i < WARMUP + ITERS; i++) {
        uint64_t t0 = bench_clock();
        err |= kv_get(&c, "key", value, &len);
        uint64_t t1 = bench_clock();
        if (i >= WARMUP)
            samples[i - WARMUP] = t1 - t0;
    }
    report("idl_get_rtt_xas");
    if (err || keys != 1 || len != 24)
        printf("bench: the key-value server answered wrongly (error %ld)\n", err);
    pith_invoke4(t, PITH_TCB_SUSPEND, 0, 0, 0, 0);
}

/* Long messages: the server answers with the same 120 words. */
static void long_server(uint64_t slots)
{
    uint64_t ep = slots & 0xffff, reply = slots >> 16;
    struct pith_msg m = { 0 };
    pith_recv(ep, &m, reply);
    for (;;) {
        m.tag = PITH_TAG(1, PITH_MSG_MAX);
        pith_reply_recv(ep, &m, reply);
    }
}

static void ipc_long(void)
{
    uint64_t ep = bench_make(PITH_OBJ_ENDPOINT, 0, 1), reply = bench_make(PITH_OBJ_REPLY, 0, 1);
    uint64_t t = thread(PITH_SLOT_VSPACE, 0x40020000, long_server, ep | reply << 16, 150);
    pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0);
    time_calls(ep, PITH_TAG(1, PITH_MSG_MAX), words);
    report("ipc_call_rtt_long");
    pith_invoke4(t, PITH_TCB_SUSPEND, 0, 0, 0, 0);
}

/* Capability transfer: each call carries one; the server takes it into a slot and deletes it. */
#define CAP_SERVER_STACK 0x40030000ull
static uint64_t cap_recv_slot;

static void cap_server(uint64_t slots)
{
    uint64_t ep = slots & 0xffff, reply = slots >> 16;
    struct pith_ipc_buffer *b = (struct pith_ipc_buffer *)(CAP_SERVER_STACK + 0x2000);
    b->recv_slot = cap_recv_slot;
    struct pith_msg m = { 0 };
    pith_recv(ep, &m, reply);
    for (;;) {
        pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, cap_recv_slot, 0, 0, 0);
        m.tag = PITH_TAG(1, 0);
        pith_reply_recv(ep, &m, reply);
    }
}

static void ipc_cap(void)
{
    uint64_t ep = bench_make(PITH_OBJ_ENDPOINT, 0, 1), reply = bench_make(PITH_OBJ_REPLY, 0, 1),
             gift = bench_make(PITH_OBJ_NOTIFICATION, 0, 1);
    cap_recv_slot = pith_slot_alloc();
    uint64_t t = thread(PITH_SLOT_VSPACE, CAP_SERVER_STACK, cap_server, ep | reply << 16, 150);
    pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0);
    ((struct pith_ipc_buffer *)PITH_IPC_BUFFER_ADDR)->send_cap = gift;
    time_calls(ep, PITH_TAG(1, 0) | PITH_TAG_CAP, words);
    report("ipc_call_rtt_cap");
    pith_invoke4(t, PITH_TCB_SUSPEND, 0, 0, 0, 0);
}

/* Ports: send message (carrying the answer port), wait message, send answer, wait answer. */
#define PORT_SERVER_STACK 0x40040000ull
static uint64_t port_recv_slot;

static void port_server(uint64_t port)
{
    struct pith_ipc_buffer *b = (struct pith_ipc_buffer *)(PORT_SERVER_STACK + 0x2000);
    b->recv_slot = port_recv_slot;
    struct pith_msg m = { 0 };
    for (;;) {
        pith_recv(port, &m, 0);
        m.tag = PITH_TAG(2, 1);
        pith_send(port_recv_slot, &m);
        pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, port_recv_slot, 0, 0, 0);
    }
}

static void port_rtt(void)
{
    uint64_t sp = pith_slot_alloc(), ap = pith_slot_alloc();
    uint64_t ut = pith_biggest_untyped();
    pith_invoke4(ut, PITH_UNTYPED_RETYPE, PITH_OBJ_PORT | 10u << 8, PITH_SLOT_CSPACE, sp, 1);
    pith_invoke4(ut, PITH_UNTYPED_RETYPE, PITH_OBJ_PORT | 10u << 8, PITH_SLOT_CSPACE, ap, 1);
    port_recv_slot = pith_slot_alloc();
    uint64_t t = thread(PITH_SLOT_VSPACE, PORT_SERVER_STACK, port_server, sp, 150);
    pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0);
    ((struct pith_ipc_buffer *)PITH_IPC_BUFFER_ADDR)->send_cap = ap;
    struct pith_msg m = { 0 };
    for (int i = 0; i < WARMUP + ITERS; i++) {
        m.tag = PITH_TAG(1, 1) | PITH_TAG_CAP;
        uint64_t t0 = bench_clock();
        pith_send(sp, &m);
        pith_recv(ap, &m, 0);
        uint64_t t1 = bench_clock();
        if (i >= WARMUP)
            samples[i - WARMUP] = t1 - t0;
    }
    report("port_rtt");
    pith_invoke4(t, PITH_TCB_SUSPEND, 0, 0, 0, 0);
}

static volatile uint64_t woke_at;

static void waiter(uint64_t n)
{
    struct pith_msg m = { 0 };
    for (;;) {
        pith_recv(n, &m, 0);
        woke_at = bench_clock();
    }
}

static void to_ns(void);

/*
 * A notification signalled here until its waiter runs on `cpu`: at once on
 * this CPU (the waiter outranks us), or on another one, idle until then.
 */
static void wake_figure(uint64_t cpu, uint64_t stack_va, const char *name)
{
    uint64_t n = bench_make(PITH_OBJ_NOTIFICATION, 0, 1);
    uint64_t t = thread(PITH_SLOT_VSPACE, stack_va, waiter, n, 150);
    pith_invoke4(t, PITH_TCB_SET_AFFINITY, cpu, 0, 0, 0);
    pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0);
    for (int i = 0; i < WARMUP + ITERS; i++) {
        woke_at = 0;
        uint64_t t0 = bench_clock();
        pith_signal(n);
        /* pause: under icount QEMU runs the CPUs in turns, and a pause ends this one's */
        while (!woke_at)
            __asm__ volatile("pause" ::: "memory");
        if (i >= WARMUP)
            samples[i - WARMUP] = woke_at - t0;
    }
    if (cpu != 0)
        to_ns();
    report(name);
    pith_invoke4(t, PITH_TCB_SUSPEND, 0, 0, 0, 0);
}

/*
 * A device interrupt until its user-level handler runs: the PIT (ISA IRQ 0)
 * in one-shot mode, armed for COUNT ticks; QEMU counts from the moment of
 * the port write, so the interrupt is due COUNT / 1.193182 MHz after it.
 * The handler thread outranks us, so it runs the moment the kernel has
 * turned the interrupt into a signal of its notification.
 */
#define PIT_HZ      1193182u
#define PIT_COUNT   597u                /* half a millisecond */
#define IRQ_ITERS   200

static void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }

static volatile uint64_t irq_seen_at;
static uint64_t irq_handler_slot;

static void irq_waiter(uint64_t n)
{
    struct pith_msg m = { 0 };
    for (;;) {
        pith_recv(n, &m, 0);
        irq_seen_at = bench_clock();
        pith_invoke4(irq_handler_slot, PITH_IRQ_HANDLER_ANSWER, 1, 0, 0, 0);
    }
}

static void irq_latency(void)
{
    uint64_t ports = pith_slot_alloc();
    if (pith_invoke4(pith_bootinfo->io_ports.first_slot, PITH_IO_PORTS_CARVE, 0x40, 0x43, PITH_SLOT_CSPACE, ports) ||
        pith_invoke4(PITH_SLOT_TCB, PITH_TCB_SET_IO_PORTS, 0, ports, 0, 0)) {
        printf("# pith.irq_latency unavailable: no PIT ports\n");
        return;
    }
    uint64_t n = bench_make(PITH_OBJ_NOTIFICATION, 0, 1);
    irq_handler_slot = bench_make(PITH_OBJ_IRQ_HANDLER, 0, 1);
    pith_invoke4(irq_handler_slot, PITH_IRQ_HANDLER_SET_NOTIFICATION, n, 0, 0, 0);
    if (pith_invoke4(PITH_SLOT_IRQ_CONTROL, PITH_IRQ_CONTROL_BIND, irq_handler_slot, 0, PITH_IRQ_ISA, 0)) {
        printf("# pith.irq_latency unavailable: cannot bind ISA IRQ 0\n");
        return;
    }
    uint64_t t = thread(PITH_SLOT_VSPACE, 0x40060000, irq_waiter, n, 200);
    pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0);
    uint64_t due = (uint64_t)PIT_COUNT * pith_bootinfo->tsc_hz / PIT_HZ;
    for (int i = 0; i < 10 + IRQ_ITERS; i++) {
        irq_seen_at = 0;
        outb(0x43, 0x30);               /* channel 0, low then high byte, mode 0 */
        outb(0x40, PIT_COUNT & 0xff);
        uint64_t t0 = bench_clock();
        outb(0x40, PIT_COUNT >> 8);     /* counting starts with this write */
        while (!irq_seen_at)
            ;
        /* Early only where the TSC and the PIT run on different clocks (not icount). */
        int64_t late = (int64_t)(irq_seen_at - t0 - due);
        if (i >= 10)
            samples[i - 10] = late > 0 ? (uint64_t)late : 0;
    }
    report_n("irq_latency", IRQ_ITERS);
    pith_invoke4(t, PITH_TCB_SUSPEND, 0, 0, 0, 0);
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, irq_handler_slot, 0, 0, 0);
}

/*
 * ---- across CPUs (a boot with several CPUs) ----
 * Under icount (QEMU 8.1 and later run several CPUs so) the TSC counts
 * instructions, which stay the unit; under plain emulation or KVM the
 * CPUs' TSCs tick in host time, so the figures are given in ns.
 */

static void to_ns(void)
{
    if (icount)
        return;
    uint64_t hz = pith_bootinfo->tsc_hz;
    for (int i = 0; i < ITERS; i++)
        samples[i] = samples[i] * 1000000000ull / hz;
    unit = "ns";
}

static void ipc_xcpu(void)
{
    uint64_t ep = bench_make(PITH_OBJ_ENDPOINT, 0, 1), reply = bench_make(PITH_OBJ_REPLY, 0, 1);
    uint64_t t = thread(PITH_SLOT_VSPACE, 0x40070000, server, ep | reply << 16, 150);
    pith_invoke4(t, PITH_TCB_SET_AFFINITY, 1, 0, 0, 0);
    pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0);
    time_calls(ep, PITH_TAG(1, 4), words);
    to_ns();
    report("ipc_call_rtt_xcpu");
    pith_invoke4(t, PITH_TCB_SUSPEND, 0, 0, 0, 0);
}



/*
 * Scaling: two client/server pairs, one on each CPU, calling at the same
 * time, against one pair alone (the other CPU idle).  Only where the CPUs
 * really run at once (plain emulation, a host thread each; KVM): under
 * icount QEMU runs them in turns, so no figure there.  The figure is the
 * two pairs' calls per second together in percent of one pair's alone,
 * per round: 200 would be each pair at its one-CPU rate.
 */
#define SCALE_CALLS  20000
#define SCALE_ROUNDS 11

static uint64_t scale_ep[2], scale_go, scale_done;
static volatile uint64_t scale_time1;

static uint64_t timed_run(uint64_t ep)
{
    struct pith_msg m = { 0 };
    uint64_t t0 = bench_clock();
    for (int i = 0; i < SCALE_CALLS; i++) {
        m.tag = PITH_TAG(1, 4);
        pith_call(ep, &m);
    }
    return bench_clock() - t0;
}

/* The second pair's client, on CPU 1: a run of calls each time it is signalled. */
static void scale_client(uint64_t unused)
{
    (void)unused;
    struct pith_msg m = { 0 };
    for (;;) {
        pith_recv(scale_go, &m, 0);
        scale_time1 = timed_run(scale_ep[1]);
        pith_signal(scale_done);
    }
}

/* Both pairs at once; the times each took, *t0 ours. */
static void both_runs(uint64_t *t0, uint64_t *t1)
{
    struct pith_msg m = { 0 };
    pith_signal(scale_go);
    *t0 = timed_run(scale_ep[0]);
    pith_recv(scale_done, &m, 0);
    *t1 = scale_time1;
}

static void ipc_scaling(void)
{
    const uint64_t stacks[2] = { 0x40090000, 0x400a0000 };
    for (uint64_t cpu = 0; cpu < 2; cpu++) {
        uint64_t reply = bench_make(PITH_OBJ_REPLY, 0, 1);
        scale_ep[cpu] = bench_make(PITH_OBJ_ENDPOINT, 0, 1);
        uint64_t s = thread(PITH_SLOT_VSPACE, stacks[cpu], server, scale_ep[cpu] | reply << 16, 150);
        pith_invoke4(s, PITH_TCB_SET_AFFINITY, cpu, 0, 0, 0);
        pith_invoke4(s, PITH_TCB_RESUME, 0, 0, 0, 0);
    }
    scale_go = bench_make(PITH_OBJ_NOTIFICATION, 0, 1);
    scale_done = bench_make(PITH_OBJ_NOTIFICATION, 0, 1);
    uint64_t c = thread(PITH_SLOT_VSPACE, 0x400b0000, scale_client, 0, 100);
    pith_invoke4(c, PITH_TCB_SET_AFFINITY, 1, 0, 0, 0);
    pith_invoke4(c, PITH_TCB_RESUME, 0, 0, 0, 0);
    uint64_t t0, t1, hits = fast_path_hits();
    both_runs(&t0, &t1);                /* warm-up */
    static uint64_t mine[SCALE_ROUNDS], theirs[SCALE_ROUNDS], alone_ns[SCALE_ROUNDS];
    for (int r = 0; r < SCALE_ROUNDS; r++) {
        uint64_t alone = timed_run(scale_ep[0]);
        both_runs(&t0, &t1);
        mine[r] = 100 * alone / t0;
        theirs[r] = 100 * alone / t1;
        samples[r] = mine[r] + theirs[r];
        alone_ns[r] = alone * 1000000000ull / pith_bootinfo->tsc_hz / SCALE_CALLS;
    }
    /* Proof that the fast path carried the calls (the count is this CPU's). */
    printf("# pith.ipc_scaling_2cpu fast_path_hits=%lu of %d kernel entries on CPU 0\n", fast_path_hits() - hits,
           2 * SCALE_CALLS * (2 * SCALE_ROUNDS + 1));
    bench_sort(mine, SCALE_ROUNDS);
    bench_sort(theirs, SCALE_ROUNDS);
    bench_sort(alone_ns, SCALE_ROUNDS);
    printf("# pith.ipc_scaling_2cpu each pair beside the other, percent of one pair alone: "
           "CPU 0 median %lu, CPU 1 median %lu; one pair alone median %lu ns per call\n",
           mine[SCALE_ROUNDS / 2], theirs[SCALE_ROUNDS / 2], alone_ns[SCALE_ROUNDS / 2]);
    bench_report("ipc_scaling_2cpu", samples, SCALE_ROUNDS, "percent");
}


static int cmdline_word(const char *w)
{
    const char *c = pith_bootinfo->cmdline;
    size_t n = 0;
    while (w[n])
        n++;
    for (const char *p = c; *p; p++) {
        if (p != c && p[-1] != ' ')
            continue;
        size_t i = 0;
        while (i < n && p[i] == w[i])
            i++;
        if (i == n && (p[n] == ' ' || p[n] == 0 || p[n] == '='))
            return 1;
    }
    return 0;
}

int main(void)
{
    icount = cmdline_word("clock");
    unit = icount ? "insns" : "cycles";
    if (cmdline_word("scaling")) {
        if (pith_bootinfo->cpus < 2)
            printf("# pith: one CPU online, no scaling figure\n");
        else
            ipc_scaling();
        printf("bench-done\n");
        return 0;
    }
    if (cmdline_word("smp")) {
        if (pith_bootinfo->cpus < 2) {
            printf("# pith: one CPU online, no cross-CPU figures\n");
        } else {
            ipc_xcpu();
            wake_figure(1, 0x40080000, "wake_latency");
        }
        printf("bench-done\n");
        return 0;
    }
    null_syscall();
    ipc_same();
    ipc_xas();
    ext_bench(unit);
    idl_xas();
    ipc_long();
    ipc_cap();
    port_rtt();
    wake_figure(0, 0x40010000, "notify_wake");
    irq_latency();
    mm_bench(unit);
    printf("bench-done\n");
    return 0;
}
