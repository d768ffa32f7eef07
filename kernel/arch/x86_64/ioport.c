#include "arch/x86_64/ioport.h"
#include "arch/x86_64/gdt.h"
#include "core/sched.h"
#include "object/tcb.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/smp.h"

/* What each CPU's bitmap allows now (its count is percpu.io_ranges, read inline on switches). */
static struct {
    struct { uint16_t first, last; } range[2];
    const struct tcb *loaded_for;
    uint64_t generation;
} cpus[SMP_MAX_CPUS];
static uint64_t generation;

void ioport_changed(void)
{
    generation++;
    sched_reload();
}

void ioport_load(struct tcb *t)
{
    struct percpu *pc = this_cpu();
    __typeof__(cpus[0]) *my = &cpus[pc->cpu_number];
    if (t == my->loaded_for && generation == my->generation)
        return;
    for (int i = 0; i < pc->io_ranges; i++)
        tss_io_allow(my->range[i].first, my->range[i].last, 0);
    int n = 0;
    for (int s = TCB_SLOT_IO_PORTS_0; s <= TCB_SLOT_IO_PORTS_1; s++) {
        const struct cap *c = &t->slots[s].cap;
        if (c->type != PITH_OBJ_IO_PORTS)
            continue;
        my->range[n].first = (uint16_t)c->w0;
        my->range[n].last = (uint16_t)c->w1;
        tss_io_allow(my->range[n].first, my->range[n].last, 1);
        n++;
    }
    pc->io_ranges = n;
    t->io_ports = n > 0;
    my->loaded_for = t;
    my->generation = generation;
}
