/* The 16550 UART on COM1, polled: the kernel's console until user level takes it. */
#ifndef PITH_ARCH_SERIAL_H
#define PITH_ARCH_SERIAL_H

#define SERIAL_COM1_FIRST   0x3F8       /* its eight registers */
#define SERIAL_COM1_LAST    0x3FF

void serial_init(void);
void serial_putc(char c);

#endif
