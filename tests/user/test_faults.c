/* Faults as messages: every kind, resume with new registers, kill, system-call results, nesting. */
#include "utest.h"
#include <pith/fault.h>

static uint64_t fault_ep, fault_reply;
static volatile uint64_t recovered, syscall_result;

/* Where faulting threads are sent on to: records that they got there. */
static void recovery(uint64_t value)
{
    recovered = value;
    for (;;)
        pith_sleep_ns(1000000000000ull);
}

/* A thread whose faults go to fault_ep with badge `badge`. */
static uint64_t faulting_thread(void (*fn)(uint64_t), uint64_t badge)
{
    uint64_t t = make_thread(fn, 0, 150);
    uint64_t minted = pith_slot_alloc();
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_MINT, minted, fault_ep, PITH_RIGHTS_ALL, badge);
    struct pith_msg regs = { 0 };
    pith_invoke(t, PITH_TCB_READ_REGISTERS, &regs);
    /* Configure again, now with the fault endpoint; the IPC buffer moves with it. */
    uint64_t buf = make_object(PITH_OBJ_FRAME, 0);
    pith_invoke4(t, PITH_TCB_CONFIGURE, PITH_SLOT_CSPACE, PITH_SLOT_VSPACE, buf, minted);
    return t;
}

static void setup(void)
{
    fault_ep = make_object(PITH_OBJ_ENDPOINT, 0);
    fault_reply = make_object(PITH_OBJ_REPLY, 0);
    recovered = 0;
}

/* Waits for the next fault message; returns its words. */
static long next_fault(struct pith_msg *m)
{
    return pith_recv(fault_ep, m, fault_reply);
}

/* Answers a fault by moving the thread to recovery(value). */
static long redirect(uint64_t value)
{
    struct pith_fault_regs *r = (struct pith_fault_regs *)PITH_IPC_BUFFER_ADDR;
    r->rip = (uint64_t)recovery;
    r->rdi = value;
    r->rsp = (r->rsp & ~0xfull) - 8;
    struct pith_msg m = { .tag = PITH_TAG(PITH_FAULT_RESUME_REGS, 0) };
    return pith_send(fault_reply, &m);
}

static void do_ud(uint64_t u) { (void)u; __asm__ volatile("ud2"); }
static void do_int3(uint64_t u) { (void)u; __asm__ volatile("int3"); }
static void do_div0(uint64_t u) { (void)u; __asm__ volatile("xor %%ecx, %%ecx; div %%ecx" ::: "rax", "rcx", "rdx"); }
static void do_gp(uint64_t u) { (void)u; __asm__ volatile("cli"); }
static void do_pf(uint64_t u) { (void)u; *(volatile uint64_t *)0x12345000 = 1; }
static volatile int simd_not_raised;

static void do_simd(uint64_t u)
{
    (void)u;
    uint32_t mxcsr = 0x1F80 & ~(1u << 9);           /* unmask divide-by-zero */
    __asm__ volatile("ldmxcsr %0" : : "m"(mxcsr));
    __asm__ volatile("xorps %%xmm1, %%xmm1; movss %0, %%xmm0; divss %%xmm1, %%xmm0" : : "m"(mxcsr) : "xmm0", "xmm1");
    simd_not_raised = 1;                            /* the CPU did not raise #XM */
}
static void do_x87(uint64_t u)
{
    (void)u;
    uint16_t cw = 0x37F & ~(1u << 2);               /* unmask zero-divide */
    __asm__ volatile("fldcw %0; fld1; fldz; fdivrp; fwait" : : "m"(cw));
}

struct kind_case {
    void (*fn)(uint64_t);
    uint64_t kind;
};

UTEST(every_fault_kind_reaches_the_handler)
{
    static const struct kind_case cases[] = {
        { do_ud, PITH_FAULT_INVALID_OPCODE }, { do_int3, PITH_FAULT_BREAKPOINT },
        { do_div0, PITH_FAULT_DIVIDE }, { do_gp, PITH_FAULT_PROTECTION },
        { do_pf, PITH_FAULT_PAGE }, { do_simd, PITH_FAULT_SIMD }, { do_x87, PITH_FAULT_X87 },
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        setup();
        uint64_t t = faulting_thread(cases[i].fn, 100 + i);
        simd_not_raised = 0;
        UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
        if (simd_not_raised) {
            /* QEMU's TCG (7.2) never raises SIMD exceptions; real CPUs and KVM do. */
            printf("  note: this CPU does not raise SIMD floating-point exceptions; #XM untested here\n");
            pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, t, 0, 0, 0);
            continue;
        }
        struct pith_msg m = { 0 };
        UT_EQ(next_fault(&m), PITH_OK);
        UT_EQ(PITH_TAG_LABEL(m.tag), PITH_FAULT_LABEL);
        UT_EQ(m.badge, 100 + i);
        UT_EQ(m.w[0], cases[i].kind);
        const struct pith_fault_regs *r = (const struct pith_fault_regs *)PITH_IPC_BUFFER_ADDR;
        UT_EQ(r->rip, m.w[3]);
        if (cases[i].kind == PITH_FAULT_PAGE) {
            UT_EQ(m.w[1], 0x12345000);
            UT_EQ(m.w[2] & (PITH_PF_WRITE | PITH_PF_PRESENT), PITH_PF_WRITE);
        }
        /* Resume somewhere else: the thread runs on there. */
        UT_EQ(redirect(i + 1), PITH_OK);
        UT_EQ(recovered, i + 1);
        pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, t, 0, 0, 0);
    }
}

UTEST(handler_kills_the_thread)
{
    setup();
    uint64_t t = faulting_thread(do_pf, 1);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    struct pith_msg m = { 0 };
    UT_EQ(next_fault(&m), PITH_OK);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, t, 0, 0, 0), PITH_OK);
    /* Its pending answer has nobody to go to. */
    m.tag = PITH_TAG(PITH_FAULT_RESUME, 0);
    UT_EQ(pith_send(fault_reply, &m), PITH_E_PEER_DIED);
}

static void linux_getpid(uint64_t u)
{
    (void)u;
    uint64_t rax = 39, rdi = 7, rsi = 8, rdx = 9;
    register uint64_t r10 __asm__("r10") = 10;
    register uint64_t r8 __asm__("r8") = 11;
    register uint64_t r9 __asm__("r9") = 12;
    /* Deliberately Linux's getpid, recorded so the build's system-call check allows it. */
    __asm__ volatile(PITH_SYSCALL_INSN : "+a"(rax) : "D"(rdi), "S"(rsi), "d"(rdx), "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
    syscall_result = rax;
}

UTEST(handler_sets_a_system_call_result)
{
    setup();
    syscall_result = 0;
    uint64_t t = faulting_thread(linux_getpid, 5);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    struct pith_msg m = { 0 };
    UT_EQ(next_fault(&m), PITH_OK);
    UT_EQ(m.w[0], PITH_FAULT_SYSCALL);
    UT_EQ(m.w[1], 39);
    const struct pith_fault_regs *r = (const struct pith_fault_regs *)PITH_IPC_BUFFER_ADDR;
    UT_EQ(r->rdi, 7);
    UT_EQ(r->rsi, 8);
    UT_EQ(r->rdx, 9);
    UT_EQ(r->r10, 10);
    UT_EQ(r->r8, 11);
    UT_EQ(r->r9, 12);
    /* Not a system-call result for another kind; a bad label: both refused, thread still waiting. */
    m = (struct pith_msg){ .tag = PITH_TAG(77, 1) };
    UT_EQ(pith_send(fault_reply, &m), PITH_E_INVALID_ARG);
    m = (struct pith_msg){ .tag = PITH_TAG(PITH_FAULT_SYSCALL_RESULT, 1), .w = { 4242 } };
    UT_EQ(pith_send(fault_reply, &m), PITH_OK);
    UT_EQ(syscall_result, 4242);
}

UTEST(bad_registers_in_an_answer_are_refused)
{
    setup();
    uint64_t t = faulting_thread(do_ud, 1);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    struct pith_msg m = { 0 };
    UT_EQ(next_fault(&m), PITH_OK);
    struct pith_fault_regs *r = (struct pith_fault_regs *)PITH_IPC_BUFFER_ADDR;
    r->rip = 0xffff800000001000ull;                  /* the kernel's half */
    m = (struct pith_msg){ .tag = PITH_TAG(PITH_FAULT_RESUME_REGS, 0) };
    UT_EQ(pith_send(fault_reply, &m), PITH_E_INVALID_ARG);
    UT_EQ(redirect(9), PITH_OK);                    /* a good answer still works */
    UT_EQ(recovered, 9);
}

/* ---- a fault in a fault handler goes to that handler's handler ---- */

static uint64_t inner_ep, inner_reply;
static volatile uint64_t handled_by_inner;

/* The first-level handler: touches a bad address before answering. */
static void clumsy_handler(uint64_t u)
{
    (void)u;
    struct pith_msg m = { 0 };
    pith_recv(inner_ep, &m, inner_reply);
    handled_by_inner = m.w[0];
    *(volatile uint64_t *)0x7654000 = 1;            /* faults: goes to our own handler */
    struct pith_fault_regs *r = (struct pith_fault_regs *)(0x40000000ull);   /* unused */
    (void)r;
    m = (struct pith_msg){ .tag = PITH_TAG(PITH_FAULT_RESUME, 0) };
    pith_send(inner_reply, &m);
}

UTEST(fault_in_a_fault_handler_goes_to_its_handler)
{
    setup();
    inner_ep = make_object(PITH_OBJ_ENDPOINT, 0);
    inner_reply = make_object(PITH_OBJ_REPLY, 0);
    handled_by_inner = 0;
    /* The clumsy handler's faults come to us (fault_ep, badge 2). */
    uint64_t h = faulting_thread(clumsy_handler, 2);
    UT_EQ(pith_invoke4(h, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);     /* waits on inner_ep */
    /* A worker whose faults go to the clumsy handler. */
    uint64_t w = make_thread(do_ud, 0, 140);
    uint64_t buf = make_object(PITH_OBJ_FRAME, 0);
    UT_EQ(pith_invoke4(w, PITH_TCB_CONFIGURE, PITH_SLOT_CSPACE, PITH_SLOT_VSPACE, buf, inner_ep), PITH_OK);
    UT_EQ(pith_invoke4(w, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_EQ(handled_by_inner, PITH_FAULT_INVALID_OPCODE);
    /* Now the handler's own page fault is ours. */
    struct pith_msg m = { 0 };
    UT_EQ(next_fault(&m), PITH_OK);
    UT_EQ(m.badge, 2);
    UT_EQ(m.w[0], PITH_FAULT_PAGE);
    UT_EQ(m.w[1], 0x7654000);
    UT_EQ(redirect(77), PITH_OK);
    UT_EQ(recovered, 77);
}

UTEST(fault_without_handler_suspends)
{
    uint64_t t = make_thread(do_ud, 0, 150);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    struct pith_msg m = { 0 };
    UT_EQ(pith_invoke(t, PITH_TCB_READ_REGISTERS, &m), PITH_OK);
    UT_EQ(m.w[3], 0);
}

UTEST(handler_gone_suspends_the_faulted_thread)
{
    setup();
    uint64_t t = faulting_thread(do_ud, 1);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);   /* queued on fault_ep: nobody receives */
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE, fault_ep, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, fault_ep, 0, 0, 0), PITH_OK);
    struct pith_msg m = { 0 };
    UT_EQ(pith_invoke(t, PITH_TCB_READ_REGISTERS, &m), PITH_OK);
    UT_EQ(m.w[3], 0);                               /* suspended, not woken with an error */
}
