/* The 16550 UART on COM1, through the I/O-port capability in PITH_SLOT_IO_PORTS. */
#ifndef CONSOLE_UART_H
#define CONSOLE_UART_H

#include <stdbool.h>
#include <stdint.h>

/* Lets the calling thread use the UART's ports; 0 or an error. */
long uart_claim_ports(void);
/* Receive interrupts on, FIFOs on; the line settings are left as the firmware set them. */
void uart_init(void);
void uart_putc(char c);
/* The next received byte, or -1 if none is waiting. */
int uart_getc(void);

#endif
