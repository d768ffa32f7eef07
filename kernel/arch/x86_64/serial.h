/* The 16550 UART on COM1, polled: the kernel's console until user level takes it. */
#ifndef PITH_ARCH_SERIAL_H
#define PITH_ARCH_SERIAL_H

void serial_init(void);
void serial_putc(char c);

#endif
