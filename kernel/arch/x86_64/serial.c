#include "arch/x86_64/serial.h"
#include "arch/x86_64/cpu.h"

#define COM1 SERIAL_COM1_FIRST
enum { DATA = 0, IER = 1, FCR = 2, LCR = 3, MCR = 4, LSR = 5 };
#define LSR_THR_EMPTY 0x20

static int present;

void serial_init(void)
{
    outb(COM1 + IER, 0x00);             /* no interrupts: the kernel polls */
    outb(COM1 + LCR, 0x80);             /* divisor latch */
    outb(COM1 + DATA, 0x01);            /* 115200 baud */
    outb(COM1 + IER, 0x00);
    outb(COM1 + LCR, 0x03);             /* 8N1 */
    outb(COM1 + FCR, 0xC7);             /* FIFOs on, cleared */
    outb(COM1 + MCR, 0x03);             /* DTR, RTS */
    /* A missing UART reads back 0xFF from every register. */
    present = inb(COM1 + LSR) != 0xFF;
}

void serial_putc(char c)
{
    if (!present)
        return;
    /* Bounded wait: a stuck UART must not hang the kernel forever. */
    for (int i = 0; i < 100000 && !(inb(COM1 + LSR) & LSR_THR_EMPTY); i++)
        cpu_relax();
    outb(COM1 + DATA, (uint8_t)c);
}
