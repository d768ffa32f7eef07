/*
 * Interrupt lines and their handlers.
 *
 * An interrupt on a line is offered to its handlers in the order they
 * bound: the kernel signals the first handler's notification and waits
 * for its answer (PITH_IRQ_HANDLER_ANSWER): "handled" ends the offer,
 * "not mine" offers it to the next.  A handler that does not answer
 * within IRQ_ANSWER_NS is skipped.  An interrupt nobody claims is counted;
 * a line with STORM_COUNT unclaimed interrupts within STORM_NS is masked
 * and reported.  A level-triggered line stays masked from the interrupt
 * until the offer ends; an edge on a line whose offer is still running is
 * remembered and offered when it ends.
 */
#include "object/irq.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/time.h"
#include "arch/x86_64/trap.h"
#include "core/log.h"
#include "object/extension.h"
#include "object/ipc.h"
#include <pith/invocation.h>

#define IRQ_ANSWER_NS   10000000ull     /* 10 ms to say "handled" or "not mine" */
#define STORM_NS        100000000ull    /* unclaimed interrupts are counted over 100 ms */
#define STORM_COUNT     50

struct irq_line {
    struct irq_handler *head, *offering;
    uint64_t deadline;
    uint64_t count, unclaimed, window_start, window_unclaimed;
    uint8_t level, routed, storm_masked, pending;
};

static struct irq_line lines[IOAPIC_MAX_LINES];
unsigned irq_offers;                    /* lines with an offer running: the scheduler's shortcut */

static void set_offering(struct irq_line *l, struct irq_handler *h)
{
    irq_offers += (h != NULL) - (l->offering != NULL);
    l->offering = h;
}

static void finish_offer(unsigned g);

/* Offers line g's interrupt to h or the first handler after it that can be signalled. */
static void offer_from(unsigned g, struct irq_handler *h)
{
    struct irq_line *l = &lines[g];
    for (; h; h = h->next) {
        if (h->notification.cap.type != PITH_OBJ_NOTIFICATION)
            continue;
        /* Extension hook (docs/extensions.md): the program may settle the interrupt here. */
        int v = h->ext ? extension_on_irq(h->ext, g, l->count) : PITH_EXT_WAKE;
        if (v == PITH_EXT_WAKE || (v == PITH_EXT_CLAIM && l->level))
            break;                      /* (a level-triggered device needs its driver to quiet it) */
        if (v == PITH_EXT_CLAIM) {
            h->offered++;
            h->claimed++;
            l->window_unclaimed = 0;
            finish_offer(g);
            return;
        }
    }
    if (h) {
        set_offering(l, h);
        l->deadline = rdtsc() + ns_to_tsc(IRQ_ANSWER_NS);
        h->offered++;
        notification_signal((struct notification *)h->notification.cap.obj, h->bits);
        return;
    }
    /* Nobody claimed it. */
    set_offering(l, NULL);
    l->unclaimed++;
    uint64_t now = rdtsc();
    if (now - l->window_start > ns_to_tsc(STORM_NS)) {
        l->window_start = now;
        l->window_unclaimed = 0;
    }
    if (++l->window_unclaimed >= STORM_COUNT) {
        l->storm_masked = 1;
        ioapic_mask(g, true);
        kprintf("irq: line %u: %d interrupts in %llu ms claimed by no handler; masked\n", g,
                STORM_COUNT, STORM_NS / 1000000);
        return;
    }
    finish_offer(g);
}

static void finish_offer(unsigned g)
{
    struct irq_line *l = &lines[g];
    set_offering(l, NULL);
    if (l->storm_masked)
        return;
    if (l->pending) {
        l->pending = 0;
        offer_from(g, l->head);
        return;
    }
    if (l->level)
        ioapic_mask(g, false);
}

static void irq_arrived(struct trap_frame *f)
{
    unsigned g = (unsigned)(f->vector - VEC_IRQ_BASE);
    struct irq_line *l = &lines[g];
    l->count++;
    if (l->level)
        ioapic_mask(g, true);           /* until someone claims it */
    if (l->offering) {
        l->pending = 1;
        return;
    }
    offer_from(g, l->head);
}

void irq_init(void)
{
    for (unsigned g = 0; g < ioapic_lines(); g++)
        irq_register(VEC_IRQ_BASE + g, irq_arrived);
}

int irq_bind(struct irq_handler *h, uint64_t line, uint64_t flags)
{
    bool level = flags & PITH_IRQ_LEVEL, low = flags & PITH_IRQ_ACTIVE_LOW;
    if (h->bound)
        return PITH_E_STATE;
    if (flags & ~(uint64_t)(PITH_IRQ_ISA | PITH_IRQ_LEVEL | PITH_IRQ_ACTIVE_LOW))
        return PITH_E_INVALID_ARG;
    if (flags & PITH_IRQ_ISA) {
        if (line >= 16)
            return PITH_E_INVALID_ARG;
        line = ioapic_isa_to_gsi((unsigned)line, &level, &low);
    }
    if (line >= ioapic_lines())
        return PITH_E_INVALID_ARG;
    struct irq_line *l = &lines[line];
    if (l->routed && l->level != level)
        return PITH_E_STATE;            /* every handler on a line agrees on its trigger */
    h->line = (uint32_t)line;
    h->bits = h->bits ? h->bits : 1;
    h->bound = 1;
    h->next = NULL;
    struct irq_handler **pp = &l->head;
    while (*pp)
        pp = &(*pp)->next;
    *pp = h;
    if (!l->routed) {
        ioapic_route((unsigned)line, level, low);
        l->routed = 1;
        l->level = level;
    }
    /* A new handler gets a storming line another chance. */
    l->storm_masked = 0;
    l->window_unclaimed = 0;
    if (!l->offering)
        ioapic_mask((unsigned)line, false);
    return PITH_OK;
}

int irq_set_notification(struct irq_handler *h, struct slot *ntfn, uint64_t bits)
{
    int err = cap_delete(&h->notification);
    if (err)
        return err;
    h->bits = bits ? bits : 1;
    return ntfn ? cap_copy(ntfn, &h->notification, PITH_RIGHTS_ALL) : PITH_OK;
}

int irq_answer(struct irq_handler *h, int handled)
{
    if (!h->bound)
        return PITH_E_STATE;
    struct irq_line *l = &lines[h->line];
    if (l->offering != h)
        return PITH_E_STATE;            /* nothing offered to this handler now */
    if (handled) {
        h->claimed++;
        l->window_unclaimed = 0;
        finish_offer(h->line);
    } else {
        offer_from(h->line, h->next);
    }
    return PITH_OK;
}

void irq_handler_finalise(struct irq_handler *h)
{
    if (!h->bound)
        return;
    struct irq_line *l = &lines[h->line];
    for (struct irq_handler **pp = &l->head; *pp; pp = &(*pp)->next) {
        if (*pp == h) {
            *pp = h->next;
            break;
        }
    }
    h->bound = 0;
    if (l->offering == h)
        offer_from(h->line, h->next);
    if (!l->head)
        ioapic_mask(h->line, true);
}

int irq_line_info(uint64_t line, uint64_t out[4])
{
    if (line >= ioapic_lines())
        return PITH_E_INVALID_ARG;
    struct irq_line *l = &lines[line];
    uint64_t n = 0;
    for (struct irq_handler *h = l->head; h; h = h->next)
        n++;
    out[0] = l->count;
    out[1] = l->unclaimed;
    out[2] = l->storm_masked;
    out[3] = n;
    return PITH_OK;
}

void irq_check_deadlines(void)
{
    if (!irq_offers)
        return;
    uint64_t now = rdtsc();
    for (unsigned g = 0; g < ioapic_lines(); g++)
        if (lines[g].offering && now >= lines[g].deadline)
            offer_from(g, lines[g].offering->next);     /* it did not answer: skip it */
}

uint64_t irq_next_deadline_scan(void)
{
    uint64_t d = UINT64_MAX;
    for (unsigned g = 0; g < ioapic_lines(); g++)
        if (lines[g].offering && lines[g].deadline < d)
            d = lines[g].deadline;
    return d;
}
