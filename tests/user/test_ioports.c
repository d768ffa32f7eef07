/* I/O ports through the TSS bitmap: in range works, one past faults, none without a grant. */
#include "utest.h"
#include <pith/fault.h>

#define CMOS_INDEX 0x70
#define CMOS_DATA  0x71

static volatile uint64_t got_seconds, reached;

static void read_rtc(uint64_t unused)
{
    (void)unused;
    uint8_t v;
    __asm__ volatile("outb %0, %1" : : "a"((uint8_t)0x00), "Nd"((uint16_t)CMOS_INDEX));
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"((uint16_t)CMOS_DATA));
    got_seconds = v;
    reached = 1;
    /* One port past the range: must fault. */
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"((uint16_t)(CMOS_DATA + 1)));
    reached = 2;
}

UTEST(io_ports_in_range_and_just_outside)
{
    UT_ASSERT(pith_bootinfo->io_ports.count == 3);
    uint64_t all = pith_bootinfo->io_ports.first_slot;      /* 0x0000-0x00E8 */
    struct pith_msg m = { 0 };
    UT_EQ(pith_invoke(all, PITH_IO_PORTS_INFO, &m), PITH_OK);
    UT_EQ(m.w[0], 0);
    UT_EQ(m.w[1], 0xE8);
    /* Carve out the CMOS ports; not beyond our range, not backwards. */
    uint64_t cmos = pith_slot_alloc();
    UT_EQ(pith_invoke4(all, PITH_IO_PORTS_CARVE, CMOS_INDEX, 0x100, PITH_SLOT_CSPACE, cmos), PITH_E_INVALID_ARG);
    UT_EQ(pith_invoke4(all, PITH_IO_PORTS_CARVE, CMOS_DATA, CMOS_INDEX, PITH_SLOT_CSPACE, cmos), PITH_E_INVALID_ARG);
    UT_EQ(pith_invoke4(all, PITH_IO_PORTS_CARVE, CMOS_INDEX, CMOS_DATA, PITH_SLOT_CSPACE, cmos), PITH_OK);
    UT_EQ(pith_invoke4(all, PITH_IO_PORTS_CARVE, CMOS_INDEX, CMOS_DATA, PITH_SLOT_CSPACE, cmos), PITH_E_SLOT_FULL);

    uint64_t ep = make_object(PITH_OBJ_ENDPOINT, 0), reply = make_object(PITH_OBJ_REPLY, 0);
    uint64_t t = make_thread(read_rtc, 0, 150);
    uint64_t buf = make_object(PITH_OBJ_FRAME, 0);
    UT_EQ(pith_invoke4(t, PITH_TCB_CONFIGURE, PITH_SLOT_CSPACE, PITH_SLOT_VSPACE, buf, ep), PITH_OK);
    UT_EQ(pith_invoke4(t, PITH_TCB_SET_IO_PORTS, 2, cmos, 0, 0), PITH_E_INVALID_ARG);
    UT_EQ(pith_invoke4(t, PITH_TCB_SET_IO_PORTS, 0, PITH_SLOT_LOG, 0, 0), PITH_E_WRONG_TYPE);
    UT_EQ(pith_invoke4(t, PITH_TCB_SET_IO_PORTS, 0, cmos, 0, 0), PITH_OK);
    reached = 0;
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_EQ(reached, 1);                          /* read the RTC, then faulted on 0x72 */
    UT_ASSERT(got_seconds < 0x60);              /* BCD seconds */
    UT_EQ(pith_recv(ep, &m, reply), PITH_OK);
    UT_EQ(m.w[0], PITH_FAULT_PROTECTION);

    /* Revoking the carved range takes the ports away from the thread (its copy goes). */
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE, cmos, 0, 0, 0), PITH_OK);
    struct pith_fault_regs *r = (struct pith_fault_regs *)PITH_IPC_BUFFER_ADDR;
    r->rip = (uint64_t)read_rtc;                /* run it again from the start */
    m = (struct pith_msg){ .tag = PITH_TAG(PITH_FAULT_RESUME_REGS, 0) };
    reached = 0;
    UT_EQ(pith_send(reply, &m), PITH_OK);
    UT_EQ(reached, 0);                          /* the very first port access faulted */
    UT_EQ(pith_recv(ep, &m, reply), PITH_OK);
    UT_EQ(m.w[0], PITH_FAULT_PROTECTION);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, t, 0, 0, 0), PITH_OK);
}

UTEST(no_io_ports_without_a_grant)
{
    uint64_t ep = make_object(PITH_OBJ_ENDPOINT, 0), reply = make_object(PITH_OBJ_REPLY, 0);
    uint64_t t = make_thread(read_rtc, 0, 150);
    uint64_t buf = make_object(PITH_OBJ_FRAME, 0);
    UT_EQ(pith_invoke4(t, PITH_TCB_CONFIGURE, PITH_SLOT_CSPACE, PITH_SLOT_VSPACE, buf, ep), PITH_OK);
    reached = 0;
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_EQ(reached, 0);
    struct pith_msg m = { 0 };
    UT_EQ(pith_recv(ep, &m, reply), PITH_OK);
    UT_EQ(m.w[0], PITH_FAULT_PROTECTION);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, t, 0, 0, 0), PITH_OK);
}

/*
 * COM1 belongs to the threads holding its ports: while one does, the
 * kernel's log leaves the serial line for the ring and the debug console;
 * when the last lets go, the log is back on COM1.  The runner checks where
 * each marker below landed (tools/run-tests.sh, com1_log): "quiet" ones on
 * the debug console only, "heard" ones on both.
 */
static uint64_t com1_range(void)
{
    /* The boot ranges leave out the kernel's debug ports: find the one holding COM1's. */
    for (uint64_t i = 0; i < pith_bootinfo->io_ports.count; i++) {
        struct pith_msg m = { 0 };
        uint64_t r = pith_bootinfo->io_ports.first_slot + i;
        if (pith_invoke(r, PITH_IO_PORTS_INFO, &m) == PITH_OK && m.w[0] <= 0x3F8 && m.w[1] >= 0x3FF)
            return r;
    }
    return 0;
}

UTEST(com1_log_follows_who_holds_its_ports)
{
    uint64_t from = com1_range(), com1 = pith_slot_alloc(), part = pith_slot_alloc(), cmos = pith_slot_alloc();
    UT_ASSERT(from);
    UT_EQ(pith_invoke4(from, PITH_IO_PORTS_CARVE, 0x3F8, 0x3FF, PITH_SLOT_CSPACE, com1), PITH_OK);
    UT_EQ(pith_invoke4(from, PITH_IO_PORTS_CARVE, 0x3FD, 0x3FD, PITH_SLOT_CSPACE, part), PITH_OK);
    UT_EQ(pith_invoke4(pith_bootinfo->io_ports.first_slot, PITH_IO_PORTS_CARVE, CMOS_INDEX, CMOS_DATA,
                       PITH_SLOT_CSPACE, cmos), PITH_OK);
    /* Never resumed: they only hold ports. */
    uint64_t a = make_thread(read_rtc, 0, 50), b = make_thread(read_rtc, 0, 50);
    UT_ASSERT(a && b);

    /* Other ports leave COM1 to the kernel. */
    UT_EQ(pith_invoke4(a, PITH_TCB_SET_IO_PORTS, 1, cmos, 0, 0), PITH_OK);
    printf("utest-com1-heard-other-ports\n");

    /* Two holders (one with a single register of it): the line stays quiet until both let go. */
    UT_EQ(pith_invoke4(a, PITH_TCB_SET_IO_PORTS, 0, com1, 0, 0), PITH_OK);
    printf("utest-com1-quiet-held\n");
    UT_EQ(pith_invoke4(b, PITH_TCB_SET_IO_PORTS, 0, part, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(a, PITH_TCB_SET_IO_PORTS, 0, com1, 0, 0), PITH_OK);     /* the same again: still held */
    printf("utest-com1-quiet-replaced\n");
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, a, 0, 0, 0), PITH_OK);
    printf("utest-com1-quiet-one-holder-gone\n");
    /* Taken away with "none": nobody holds it. */
    UT_EQ(pith_invoke4(b, PITH_TCB_SET_IO_PORTS, 0, 0, 0, 0), PITH_OK);
    printf("utest-com1-heard-taken-away\n");

    /* Revoking the range the thread's copy came from gives it back too. */
    UT_EQ(pith_invoke4(b, PITH_TCB_SET_IO_PORTS, 1, com1, 0, 0), PITH_OK);
    printf("utest-com1-quiet-held-again\n");
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE, com1, 0, 0, 0), PITH_OK);
    printf("utest-com1-heard-revoked\n");

    /* And deleting the holding thread. */
    UT_EQ(pith_invoke4(b, PITH_TCB_SET_IO_PORTS, 0, part, 0, 0), PITH_OK);
    printf("utest-com1-quiet-last\n");
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, b, 0, 0, 0), PITH_OK);
    printf("utest-com1-heard-thread-deleted\n");
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, com1, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, part, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, cmos, 0, 0, 0), PITH_OK);
}
