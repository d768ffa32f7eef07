/*
 * Interrupts as notifications, from a device QEMU raises on demand: the
 * PIT (ISA IRQ 0, which the MADT routes to GSI 2), driven from user level
 * through its I/O ports.
 */
#include "utest.h"

#define PIT_CH0  0x40
#define PIT_CMD  0x43

static void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }

static int have_ports;

/* Our own thread may use the PIT's ports. */
static void pit_ports(void)
{
    if (have_ports)
        return;
    uint64_t pit = pith_slot_alloc();
    pith_invoke4(pith_bootinfo->io_ports.first_slot, PITH_IO_PORTS_CARVE, PIT_CH0, PIT_CMD, PITH_SLOT_CSPACE, pit);
    pith_invoke4(PITH_SLOT_TCB, PITH_TCB_SET_IO_PORTS, 0, pit, 0, 0);
    have_ports = 1;
}

/* Mode 0: one interrupt when the count runs out.  Mode 2: an interrupt every `count` ticks. */
static void pit_start(uint8_t mode, uint16_t count)
{
    outb(PIT_CMD, (uint8_t)(0x30 | (mode << 1)));
    outb(PIT_CH0, count & 0xff);
    outb(PIT_CH0, count >> 8);
}

static uint64_t handler(uint64_t ntfn)
{
    uint64_t h = make_object(PITH_OBJ_IRQ_HANDLER, 0);
    pith_invoke4(h, PITH_IRQ_HANDLER_SET_NOTIFICATION, ntfn, 0, 0, 0);
    return h;
}

static uint64_t line_info(uint64_t line, int word)
{
    struct pith_msg m = { .w = { line } };
    pith_invoke(PITH_SLOT_IRQ_CONTROL, PITH_IRQ_CONTROL_INFO, &m);
    return m.w[word];
}

UTEST(irq_delivered_as_notification)
{
    pit_ports();
    UT_ASSERT(pith_bootinfo->irq_lines >= 16);
    uint64_t n = make_object(PITH_OBJ_NOTIFICATION, 0);
    uint64_t h = handler(n);
    UT_EQ(pith_invoke4(PITH_SLOT_IRQ_CONTROL, PITH_IRQ_CONTROL_BIND, h, 16, PITH_IRQ_ISA, 0), PITH_E_INVALID_ARG);
    UT_EQ(pith_invoke4(PITH_SLOT_IRQ_CONTROL, PITH_IRQ_CONTROL_BIND, h, 0, PITH_IRQ_ISA, 0), PITH_OK);
    UT_EQ(pith_invoke4(PITH_SLOT_IRQ_CONTROL, PITH_IRQ_CONTROL_BIND, h, 0, PITH_IRQ_ISA, 0), PITH_E_STATE);
    struct pith_msg m = { 0 };
    UT_EQ(pith_invoke(h, PITH_IRQ_HANDLER_INFO, &m), PITH_OK);
    uint64_t gsi = m.w[0];
    UT_EQ(gsi, 2);                                  /* QEMU's override for the PIT */
    UT_EQ(pith_invoke4(h, PITH_IRQ_HANDLER_ANSWER, 1, 0, 0, 0), PITH_E_STATE);   /* nothing offered yet */
    uint64_t before = line_info(gsi, 0);
    pit_start(0, 1193);                             /* 1 ms */
    UT_EQ(pith_recv(n, &m, 0), PITH_OK);
    UT_EQ(m.badge, 1);
    UT_EQ(pith_invoke4(h, PITH_IRQ_HANDLER_ANSWER, 1, 0, 0, 0), PITH_OK);
    UT_ASSERT(line_info(gsi, 0) > before);
    UT_EQ(pith_invoke(h, PITH_IRQ_HANDLER_INFO, &m), PITH_OK);
    UT_EQ(m.w[2], 1);                               /* claimed once */
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, h, 0, 0, 0), PITH_OK);
}

UTEST(shared_line_second_handler_claims)
{
    pit_ports();
    uint64_t n1 = make_object(PITH_OBJ_NOTIFICATION, 0), n2 = make_object(PITH_OBJ_NOTIFICATION, 0);
    uint64_t h1 = handler(n1), h2 = handler(n2);
    UT_EQ(pith_invoke4(PITH_SLOT_IRQ_CONTROL, PITH_IRQ_CONTROL_BIND, h1, 0, PITH_IRQ_ISA, 0), PITH_OK);
    UT_EQ(pith_invoke4(PITH_SLOT_IRQ_CONTROL, PITH_IRQ_CONTROL_BIND, h2, 0, PITH_IRQ_ISA, 0), PITH_OK);
    UT_EQ(line_info(2, 3), 2);
    pit_start(0, 1193);
    struct pith_msg m = { 0 };
    UT_EQ(pith_recv(n1, &m, 0), PITH_OK);           /* offered to the first */
    UT_EQ(pith_nbrecv(n2, &m, 0), PITH_E_WOULD_BLOCK);   /* not yet to the second */
    UT_EQ(pith_invoke4(h1, PITH_IRQ_HANDLER_ANSWER, 0, 0, 0, 0), PITH_OK);      /* not mine */
    UT_EQ(pith_nbrecv(n2, &m, 0), PITH_OK);         /* now the second has it */
    UT_EQ(pith_invoke4(h2, PITH_IRQ_HANDLER_ANSWER, 1, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke(h1, PITH_IRQ_HANDLER_INFO, &m), PITH_OK);
    UT_EQ(m.w[1], 1);
    UT_EQ(m.w[2], 0);
    UT_EQ(pith_invoke(h2, PITH_IRQ_HANDLER_INFO, &m), PITH_OK);
    UT_EQ(m.w[1], 1);
    UT_EQ(m.w[2], 1);

    /* A handler that never answers is skipped after its deadline. */
    pit_start(0, 1193);
    UT_EQ(pith_recv(n2, &m, 0), PITH_OK);           /* waits the first one's 10 ms out */
    UT_EQ(pith_invoke4(h2, PITH_IRQ_HANDLER_ANSWER, 1, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke(h1, PITH_IRQ_HANDLER_INFO, &m), PITH_OK);
    UT_EQ(m.w[1], 2);                               /* offered twice, never claimed */
    UT_EQ(m.w[2], 0);
    UT_EQ(pith_nbrecv(n1, &m, 0), PITH_OK);         /* its signal is there, unanswered */
    UT_EQ(pith_invoke4(h1, PITH_IRQ_HANDLER_ANSWER, 1, 0, 0, 0), PITH_E_STATE);   /* too late */
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, h1, 0, 0, 0), PITH_OK);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, h2, 0, 0, 0), PITH_OK);
    UT_EQ(line_info(2, 3), 0);
}

UTEST(unclaimed_storm_is_masked)
{
    pit_ports();
    uint64_t n = make_object(PITH_OBJ_NOTIFICATION, 0);
    uint64_t h = handler(n);
    UT_EQ(pith_invoke4(PITH_SLOT_IRQ_CONTROL, PITH_IRQ_CONTROL_BIND, h, 0, PITH_IRQ_ISA, 0), PITH_OK);
    uint64_t unclaimed = line_info(2, 1);
    pit_start(2, 200);                              /* about 6000 interrupts a second */
    struct pith_msg m = { 0 };
    int rounds = 0;
    while (!line_info(2, 2) && rounds < 1000) {
        if (pith_recv(n, &m, 0) == PITH_OK)
            pith_invoke4(h, PITH_IRQ_HANDLER_ANSWER, 0, 0, 0, 0);     /* never ours */
        rounds++;
    }
    pit_start(0, 0xffff);                           /* stop the rate generator */
    UT_EQ(line_info(2, 2), 1);                      /* masked for storming */
    UT_ASSERT(line_info(2, 1) - unclaimed >= 50);   /* and every one counted */
    /* Binding a new handler gives the line another chance. */
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, h, 0, 0, 0), PITH_OK);
    uint64_t h2 = handler(n);
    UT_EQ(pith_invoke4(PITH_SLOT_IRQ_CONTROL, PITH_IRQ_CONTROL_BIND, h2, 0, PITH_IRQ_ISA, 0), PITH_OK);
    UT_EQ(line_info(2, 2), 0);
    UT_EQ(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, h2, 0, 0, 0), PITH_OK);
}
