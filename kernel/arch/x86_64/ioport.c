#include "arch/x86_64/ioport.h"
#include "arch/x86_64/gdt.h"
#include "core/sched.h"
#include "object/tcb.h"

/* What the bitmap allows now (one CPU for now; per CPU with SMP). */
static struct { uint16_t first, last; } loaded[2];
int ioport_nloaded;
static const struct tcb *loaded_for;
static uint64_t generation, loaded_generation;

void ioport_changed(void)
{
    generation++;
    sched_reload();
}

void ioport_load(struct tcb *t)
{
    if (t == loaded_for && generation == loaded_generation)
        return;
    for (int i = 0; i < ioport_nloaded; i++)
        tss_io_allow(loaded[i].first, loaded[i].last, 0);
    ioport_nloaded = 0;
    for (int s = TCB_SLOT_IO_PORTS_0; s <= TCB_SLOT_IO_PORTS_1; s++) {
        const struct cap *c = &t->slots[s].cap;
        if (c->type != PITH_OBJ_IO_PORTS)
            continue;
        loaded[ioport_nloaded].first = (uint16_t)c->w0;
        loaded[ioport_nloaded].last = (uint16_t)c->w1;
        tss_io_allow(loaded[ioport_nloaded].first, loaded[ioport_nloaded].last, 1);
        ioport_nloaded++;
    }
    loaded_for = t;
    loaded_generation = generation;
}
