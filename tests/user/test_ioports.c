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
