#include "arch/x86_64/ioport.h"
#include "arch/x86_64/gdt.h"
#include "core/sched.h"
#include "object/tcb.h"

/* What the bitmap allows now (one CPU for now; per CPU with SMP). */
static struct { uint16_t first, last; } loaded[2];
static int nloaded;
static const struct tcb *loaded_for;
static uint64_t generation, loaded_generation;

void ioport_changed(void)
{
    generation++;
    sched_reload();
}

void ioport_switch_to(struct tcb *t)
{
    int wants = t->slots[TCB_SLOT_IO_PORTS_0].cap.type == PITH_OBJ_IO_PORTS ||
                t->slots[TCB_SLOT_IO_PORTS_1].cap.type == PITH_OBJ_IO_PORTS;
    if (!wants && nloaded == 0)
        return;                         /* the common case: nothing to do */
    if (t == loaded_for && generation == loaded_generation)
        return;
    for (int i = 0; i < nloaded; i++)
        tss_io_allow(loaded[i].first, loaded[i].last, 0);
    nloaded = 0;
    for (int s = TCB_SLOT_IO_PORTS_0; s <= TCB_SLOT_IO_PORTS_1; s++) {
        const struct cap *c = &t->slots[s].cap;
        if (c->type != PITH_OBJ_IO_PORTS)
            continue;
        loaded[nloaded].first = (uint16_t)c->w0;
        loaded[nloaded].last = (uint16_t)c->w1;
        tss_io_allow(loaded[nloaded].first, loaded[nloaded].last, 1);
        nloaded++;
    }
    loaded_for = t;
    loaded_generation = generation;
}
