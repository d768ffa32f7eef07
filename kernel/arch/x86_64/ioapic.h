/* The IOAPICs: global system interrupt (GSI) lines routed to vectors. */
#ifndef PITH_ARCH_IOAPIC_H
#define PITH_ARCH_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define IOAPIC_MAX_LINES    48          /* GSIs 0..47 -> vectors VEC_IRQ_BASE.. */
#define VEC_IRQ_BASE        48

void ioapic_init(void);
unsigned ioapic_lines(void);            /* GSIs present */
void ioapic_route(unsigned gsi, bool level, bool active_low);
void ioapic_mask(unsigned gsi, bool masked);

/* ISA IRQ -> GSI with the polarity and trigger the MADT overrides give (default: same number, edge, high). */
unsigned ioapic_isa_to_gsi(unsigned irq, bool *level, bool *active_low);

#endif
