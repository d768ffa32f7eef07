/*
 * Interrupts as notifications, with lines shared CHORUS-style: each
 * interrupt is offered to the line's handlers in turn until one claims it.
 */
#ifndef PITH_OBJECT_IRQ_H
#define PITH_OBJECT_IRQ_H

#include <stdint.h>
#include "object/cap.h"

/* An IRQ-handler object (2^PITH_IRQ_HANDLER_BITS bytes, from untyped). */
struct irq_handler {
    struct slot notification;           /* a copy of the notification to signal */
    struct irq_handler *next;           /* on its line */
    uint64_t bits;
    uint64_t offered, claimed;
    struct extension *ext;              /* a program deciding in the kernel (NULL: none; docs/extensions.md) */
    uint32_t line;
    uint8_t bound;
};

_Static_assert(sizeof(struct irq_handler) <= (1u << PITH_IRQ_HANDLER_BITS), "IRQ handler object size");

void irq_init(void);
int irq_bind(struct irq_handler *h, uint64_t line, uint64_t flags);
int irq_set_notification(struct irq_handler *h, struct slot *ntfn, uint64_t bits);
int irq_answer(struct irq_handler *h, int handled);
void irq_handler_finalise(struct irq_handler *h);
int irq_line_info(uint64_t line, uint64_t out[4]);

/* The scheduler's part: handlers that did not answer in time are skipped. */
void irq_check_deadlines(void);
uint64_t irq_next_deadline_scan(void);
extern unsigned irq_offers;             /* lines with an offer running */

/* TSC; UINT64_MAX if none.  On every exit to user mode: one test while no offer runs. */
static inline uint64_t irq_next_deadline(void)
{
    return irq_offers ? irq_next_deadline_scan() : UINT64_MAX;
}

#endif
