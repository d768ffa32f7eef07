/*
 * I/O-port access for user threads through the TSS I/O permission bitmap.
 * IOPL stays 0; a thread may use exactly the ports of the I/O-port
 * capabilities held in its TCB slots.  The bitmap is per CPU and rewritten
 * on a switch only where the outgoing or incoming thread has ports.
 */
#ifndef PITH_ARCH_IOPORT_H
#define PITH_ARCH_IOPORT_H

#include <stdint.h>
#include "object/tcb.h"
#include "arch/x86_64/percpu.h"

void ioport_load(struct tcb *t);

/* On every switch, so the common case (no ports on either side) is one test, inline. */
static inline void ioport_switch_to(struct tcb *t)
{
    if ((PERCPU_GET(io_ranges) | t->io_ports) == 0)
        return;
    ioport_load(t);
}

/* A capability in a TCB's port slot went away: the next switch reloads the bitmap. */
void ioport_changed(void);

#endif
