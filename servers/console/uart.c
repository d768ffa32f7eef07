/*
 * The 16550 UART on COM1, from user level: its eight ports are ours
 * through an I/O-port capability (each thread that touches them asks for
 * them on its own TCB), its interrupt comes as a notification.
 */
#include "uart.h"
#include "pith.h"
#include "process.h"
#include "tls.h"

#define COM1 0x3f8
#define RBR  (COM1 + 0)         /* receive buffer (read) / transmit holding (write) */
#define IER  (COM1 + 1)         /* interrupt enable */
#define FCR  (COM1 + 2)         /* FIFO control (write) */
#define MCR  (COM1 + 4)         /* modem control: OUT2 gates the interrupt on PCs */
#define LSR  (COM1 + 5)         /* line status */
#define LSR_DATA  0x01
#define LSR_EMPTY 0x20

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

long uart_claim_ports(void)
{
    return pith_invoke4(pith_tls_self()->tcb, PITH_TCB_SET_IO_PORTS, 0, PITH_SLOT_IO_PORTS, 0, 0);
}

void uart_init(void)
{
    outb(FCR, 0x07);            /* FIFOs on, both cleared */
    outb(MCR, 0x0b);            /* DTR, RTS, OUT2 */
    outb(IER, 0x01);            /* interrupt when data arrives */
    while (inb(LSR) & LSR_DATA) /* anything typed before we were here */
        (void)inb(RBR);
}

void uart_putc(char c)
{
    while (!(inb(LSR) & LSR_EMPTY))
        ;
    outb(RBR, (uint8_t)c);
}

int uart_getc(void)
{
    return inb(LSR) & LSR_DATA ? inb(RBR) : -1;
}
