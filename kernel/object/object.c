/*
 * The kernel's side of the capability layer's hooks: what each object
 * type needs when it is made, when a capability to it goes away, and when
 * its last capability goes (kernel/object/cap.c calls these).
 */
#include "object/cap.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/fpu.h"
#include "arch/x86_64/ioport.h"
#include "arch/x86_64/vm.h"
#include "core/log.h"
#include "core/sched.h"
#include "object/extension.h"
#include "object/ipc.h"
#include "object/irq.h"
#include "object/port.h"
#include "object/tcb.h"
#include "object/untyped.h"

size_t object_slots(const struct cap *c, struct slot **slots)
{
    switch (c->type) {
    case PITH_OBJ_CNODE:
        *slots = (struct slot *)c->obj;
        return (size_t)1 << c->bits;
    case PITH_OBJ_TCB:
        *slots = ((struct tcb *)c->obj)->slots;
        return TCB_SLOT_COUNT;
    case PITH_OBJ_IRQ_HANDLER:
        *slots = &((struct irq_handler *)c->obj)->notification;
        return 1;
    case PITH_OBJ_PORT:
        return port_slots(c, slots);
    case PITH_OBJ_PORT_GROUP:
        return group_slots(c, slots);
    case PITH_OBJ_EXTENSION:
        *slots = ((struct extension *)c->obj)->maps;
        return EXTENSION_SLOTS;
    default:
        return 0;
    }
}

void object_created(const struct cap *c)
{
    switch (c->type) {
    case PITH_OBJ_TCB: {
        struct tcb *t = (struct tcb *)c->obj;
        t->state = TS_INACTIVE;
        fpu_init_state(t);
        break;
    }
    case PITH_OBJ_VSPACE:
        /* Failure (no ASID free) is reported when the space is first used. */
        vm_vspace_created((struct cap *)c);
        break;
    case PITH_OBJ_PORT:
        port_created(c);
        break;
    default:
        break;
    }
}

/* Every capability that goes, final or not: a mapped frame or table is unmapped. */
void cap_removed(struct cap *c)
{
    if (c->type == PITH_OBJ_FRAME || c->type == PITH_OBJ_PAGE_TABLE)
        vm_unmap(c);
    else if (c->type == PITH_OBJ_IO_PORTS) {
        ioport_changed();               /* a thread may have lost its ports */
        if (c->flags & CAP_FLAG_COM1)
            log_uart_given_back();      /* a thread's copy of COM1's ports: the log may have it back */
    }
    else if (c->type == PITH_OBJ_VSPACE)
        sched_reload();                 /* a thread may have lost its address space */
}

/*
 * Before an object's last capability goes: a thread running on another
 * CPU is stopped first, and the deletion is restarted once that CPU has
 * let go of it (its registers and kernel entry point live in the TCB).
 */
int object_may_finalise(const struct cap *c)
{
    if (c->type != PITH_OBJ_TCB)
        return PITH_OK;
    struct tcb *t = (struct tcb *)c->obj;
    if (!sched_running_elsewhere(t))
        return PITH_OK;
    tcb_suspend(t);
    return PITH_E_PREEMPTED;
}

static void tcb_finalise(struct tcb *t)
{
    ipc_cancel(t, PITH_E_CANCELLED);
    tcb_release_replies(t);
    notification_bind(t, NULL);
    sched_forget(t);
    ioport_changed();
    t->state = TS_INACTIVE;
}

void object_finalise(const struct cap *c)
{
    switch (c->type) {
    case PITH_OBJ_TCB:
        tcb_finalise((struct tcb *)c->obj);
        break;
    case PITH_OBJ_VSPACE:
        vm_vspace_finalise(c);
        break;
    case PITH_OBJ_ENDPOINT:
        extension_unhook(&((struct endpoint *)c->obj)->ext);
        endpoint_finalise((struct endpoint *)c->obj);
        break;
    case PITH_OBJ_NOTIFICATION:
        notification_finalise((struct notification *)c->obj);
        break;
    case PITH_OBJ_REPLY:
        reply_finalise((struct reply *)c->obj);
        break;
    case PITH_OBJ_IRQ_HANDLER:
        extension_unhook(&((struct irq_handler *)c->obj)->ext);
        irq_handler_finalise((struct irq_handler *)c->obj);
        break;
    case PITH_OBJ_EXTENSION:
        extension_finalise((struct extension *)c->obj);
        break;
    case PITH_OBJ_PORT:
        port_finalise(c);
        break;
    default:
        break;
    }
}

/*
 * Long operations (revoke, delete of a big CNode) stop when an interrupt
 * is waiting: the system call is restarted after it has been handled,
 * and a higher-priority thread it woke runs first.
 */
bool preemption_pending(void)
{
    return apic_interrupt_pending();
}
