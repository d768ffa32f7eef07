/* Thread operations: configure, registers, priority, suspend and resume. */
#include "object/tcb.h"
#include "arch/x86_64/ioport.h"
#include "arch/x86_64/layout.h"
#include "core/sched.h"
#include "core/log.h"
#include "arch/x86_64/serial.h"
#include "arch/x86_64/smp.h"
#include "object/cnode.h"
#include "object/ipc.h"
#include "arch/x86_64/fpu.h"
#include "lib/string.h"
#include <pith/errors.h>
#include <pith/fault.h>


/* Replaces the capability in one of the thread's own slots with a copy of src. */
static int set_slot(struct tcb *t, enum tcb_slot which, struct slot *src)
{
    struct slot *dst = &t->slots[which];
    int err = cap_delete(dst);
    if (err)
        return err;
    if (!src)
        return PITH_OK;
    return cap_copy(src, dst, PITH_RIGHTS_ALL);
}

int tcb_configure(struct tcb *t, struct slot *cspace, struct slot *vspace,
                  struct slot *ipc_buffer, struct slot *fault_ep)
{
    int err;
    sched_reload();
    if ((err = set_slot(t, TCB_SLOT_CSPACE, cspace)) ||
        (err = set_slot(t, TCB_SLOT_VSPACE, vspace)) ||
        (err = set_slot(t, TCB_SLOT_IPC_BUFFER, ipc_buffer)) ||
        (err = set_slot(t, TCB_SLOT_FAULT_EP, fault_ep)))
        return err;
    return PITH_OK;
}

static void set_registers(struct tcb *t, const uint64_t r[4])
{
    t->ctx.rip = r[0];
    t->ctx.rsp = r[1];
    t->ctx.rdi = r[2];
    t->ctx.rsi = r[3];
    t->ctx.vector = 0;                  /* resume with IRET: every register as set */
}

/*
 * The frame of a thread that runs on another CPU belongs to that CPU: it
 * pushes the thread's registers there as it enters the kernel and only
 * then waits for the big kernel lock, after which it reads what it pushed
 * (the vector of the interrupt it took, the system call's arguments).  A
 * write into that frame meanwhile would change the vector it dispatches
 * on (an interrupt handled as a fault, never acknowledged), or be
 * overwritten by the push.  So the write is kept in the TCB, the CPU is
 * told, and it puts the registers into the frame itself, once it holds
 * the thread in the kernel (tcb_apply_written_registers).
 */
int tcb_write_registers(struct tcb *t, uint64_t rip, uint64_t rsp, uint64_t rdi, uint64_t rsi)
{
    /* Never trusted: a non-canonical rip or rsp would fault inside the kernel's return. */
    if (rip >= USER_CANONICAL_END || rsp >= USER_CANONICAL_END)
        return PITH_E_INVALID_ARG;
    const uint64_t r[4] = { rip, rsp, rdi, rsi };
    if (!sched_running_elsewhere(t)) {
        set_registers(t, r);
        return PITH_OK;
    }
    for (int i = 0; i < 4; i++)
        t->written_regs[i] = r[i];
    t->regs_written = 1;
    sched_kick(t);
    return PITH_OK;
}

/* Called by the CPU running t, in the kernel, as it stops running t or resumes it. */
void tcb_apply_written_registers(struct tcb *t)
{
    if (!t->regs_written)
        return;
    t->regs_written = 0;
    set_registers(t, t->written_regs);
}

/* Registers as PITH_TCB_READ_REGISTERS reports them: a write not yet applied counts. */
uint64_t tcb_read_rip(const struct tcb *t)
{
    return t->regs_written ? t->written_regs[0] : t->ctx.rip;
}

uint64_t tcb_read_rsp(const struct tcb *t)
{
    return t->regs_written ? t->written_regs[1] : t->ctx.rsp;
}

/* Moves t to a new effective priority, keeping its place in the scheduler right. */
void tcb_set_effective_priority(struct tcb *t, uint8_t prio)
{
    if (t->priority == prio)
        return;
    bool queued = t->on_ready_queue;
    if (queued)
        sched_remove(t);
    t->priority = prio;
    if (queued)
        sched_make_ready(t);
    ipc_requeue_sender(t);
    /*
     * A running thread that now ranks below a ready one gives way on the
     * way out of the kernel (kernel_exit_prepare), not here: this runs in
     * the middle of IPC (a server's inherited priority falls as it answers,
     * and it is about to wait on its endpoint), and a thread must never be
     * on the ready queue and an IPC queue at once.
     */
    sched_kick(t);                      /* running elsewhere: that CPU looks again */
}

int tcb_set_priority(struct tcb *caller, struct tcb *t, uint64_t prio, uint64_t mcp)
{
    if (prio > caller->mcp || mcp > caller->mcp)
        return PITH_E_PRIORITY;
    t->base_priority = (uint8_t)prio;
    t->mcp = (uint8_t)mcp;
    ipc_inherit_priority(t);            /* its callers may keep it higher */
    return PITH_OK;
}

int tcb_resume(struct tcb *t)
{
    if (t->state != TS_INACTIVE)
        return PITH_OK;
    if (t->slots[TCB_SLOT_CSPACE].cap.type != PITH_OBJ_CNODE ||
        t->slots[TCB_SLOT_VSPACE].cap.type != PITH_OBJ_VSPACE)
        return PITH_E_STATE;            /* configure it first */
    if (!t->slice_left_us)
        t->slice_left_us = SCHED_SLICE_US;
    sched_make_ready(t);
    sched_check_preempt(t);
    return PITH_OK;
}

void tcb_suspend(struct tcb *t)
{
    ipc_cancel(t, PITH_E_CANCELLED);
    sched_remove(t);
    t->state = TS_INACTIVE;
    if (t == sched_current())
        sched_set_current(NULL);
    sched_kick(t);                      /* running on another CPU: it stops there */
}

/*
 * Suspends t only if it is ready: running (or about to run) its own code.
 * A thread blocked in a call is left alone, so a call on its way to a
 * server (a fault message queued) is never lost.  Returns the state found.
 */
uint64_t tcb_interrupt(struct tcb *t)
{
    uint8_t found = t->state;
    if (found == TS_READY)
        tcb_suspend(t);
    return found;
}

/*
 * Whether t's saved registers and FPU area are its whole state: it is not
 * ready, and no CPU runs it.  A thread suspended while it ran on another
 * CPU runs there until that CPU takes the reschedule interrupt and saves
 * it (WOULD_BLOCK: ask again).  A CPU that stops running a thread saves
 * its FPU state before it runs another or idles (sched.c), so the TCB's
 * area is current once the thread is current nowhere.
 */
static int stopped_state(const struct tcb *self, const struct tcb *t)
{
    if (t == self || t->state == TS_READY || !tcb_ipc_buffer(self))
        return PITH_E_STATE;
    return sched_running_elsewhere(t) ? PITH_E_WOULD_BLOCK : PITH_OK;
}

int tcb_read_all_registers(struct tcb *self, struct tcb *t)
{
    int err = stopped_state(self, t);
    if (err)
        return err;
    struct pith_thread_regs *out = (struct pith_thread_regs *)tcb_ipc_buffer(self)->msg;
    const struct trap_frame *f = &t->ctx;
    out->r = (struct pith_fault_regs){ .rip = tcb_read_rip(t), .rsp = tcb_read_rsp(t), .rflags = f->rflags,
                                       .rax = f->rax, .rbx = f->rbx, .rcx = f->rcx, .rdx = f->rdx,
                                       .rsi = f->rsi, .rdi = f->rdi, .rbp = f->rbp, .r8 = f->r8, .r9 = f->r9,
                                       .r10 = f->r10, .r11 = f->r11, .r12 = f->r12, .r13 = f->r13,
                                       .r14 = f->r14, .r15 = f->r15 };
    memcpy(out->fpu, tcb_fpu_area(t), sizeof out->fpu);
    fpu_read_avx(t, out->ymm_hi);
    out->avx = fpu_avx_kept();
    return PITH_OK;
}

_Static_assert(sizeof(struct pith_thread_regs) <= sizeof(((struct pith_ipc_buffer *)0)->msg), "fits the IPC buffer");

#define FXSAVE_MXCSR        24          /* offsets in the FXSAVE image */
#define FXSAVE_MXCSR_MASK   28

/*
 * The FXSAVE image into t's FPU area.  Restoring it must never fault in
 * the kernel: MXCSR keeps only the bits this CPU supports (its mask, saved
 * with the state; 0 means the default 0xffbf).  With XSAVE the header
 * marks x87 and SSE as present, or XRSTOR would reset them instead.
 */
static void write_fpu(struct tcb *t, const uint8_t *img)
{
    uint8_t *area = tcb_fpu_area(t);
    uint32_t mask, mxcsr;
    memcpy(&mask, area + FXSAVE_MXCSR_MASK, 4);
    memcpy(area, img, 512);
    memcpy(&mxcsr, area + FXSAVE_MXCSR, 4);
    mxcsr &= mask ? mask : 0xffbf;
    memcpy(area + FXSAVE_MXCSR, &mxcsr, 4);
    memcpy(area + FXSAVE_MXCSR_MASK, &mask, 4);
    fpu_mark_present(t, 3);             /* x87 and SSE */
}

/* Registers from user level are checked as everywhere: canonical rip and rsp; the flags are sanitised on return. */
int tcb_write_all_registers(struct tcb *self, struct tcb *t, uint64_t parts)
{
    int err = stopped_state(self, t);
    if (err)
        return err;
    const struct pith_thread_regs *in = (const struct pith_thread_regs *)tcb_ipc_buffer(self)->msg;
    const struct pith_fault_regs *r = &in->r;
    if (!parts || (parts & ~(uint64_t)(PITH_REGS_GENERAL | PITH_REGS_FPU | PITH_REGS_AVX)) ||
        ((parts & PITH_REGS_AVX) && !fpu_avx_kept()))
        return PITH_E_INVALID_ARG;
    if ((parts & PITH_REGS_GENERAL) && (r->rip >= USER_CANONICAL_END || r->rsp >= USER_CANONICAL_END))
        return PITH_E_INVALID_ARG;
    if (parts & PITH_REGS_GENERAL) {
        struct trap_frame *f = &t->ctx;
        const uint64_t four[4] = { r->rip, r->rsp, r->rdi, r->rsi };
        set_registers(t, four);         /* resumed with IRET: rcx and r11 as written too */
        t->regs_written = 0;
        f->rflags = r->rflags;
        f->rax = r->rax, f->rbx = r->rbx, f->rcx = r->rcx, f->rdx = r->rdx, f->rbp = r->rbp;
        f->r8 = r->r8, f->r9 = r->r9, f->r10 = r->r10, f->r11 = r->r11;
        f->r12 = r->r12, f->r13 = r->r13, f->r14 = r->r14, f->r15 = r->r15;
    }
    if (parts & PITH_REGS_FPU)
        write_fpu(t, in->fpu);
    if (parts & PITH_REGS_AVX)
        fpu_write_avx(t, in->ymm_hi);
    return PITH_OK;
}

/* Moves the thread to another CPU (its affinity): it runs there from its next scheduling. */
int tcb_set_affinity(struct tcb *t, uint64_t cpu_number)
{
    if (cpu_number >= smp_ncpus)
        return PITH_E_INVALID_ARG;
    sched_migrate(t, (unsigned)cpu_number);
    return PITH_OK;
}

/*
 * Gives the thread the ports of an I/O-port capability (a copy in its
 * slot), or takes them away.  A copy covering COM1 is marked and counted
 * while it lasts: its thread drives the UART, so the kernel's log leaves
 * it (cap_removed gives it back when the copy goes, however it goes).
 */
int tcb_set_io_ports(struct tcb *t, unsigned which, struct slot *ports)
{
    struct slot *dst = &t->slots[TCB_SLOT_IO_PORTS_0 + which];
    bool com1 = ports && ports->cap.w0 <= SERIAL_COM1_LAST && ports->cap.w1 >= SERIAL_COM1_FIRST;
    /* Counted before the old copy goes, so swapping one COM1 range for another never hands the UART back. */
    if (com1)
        log_uart_taken();
    int err = set_slot(t, (enum tcb_slot)(TCB_SLOT_IO_PORTS_0 + which), ports);
    if (com1 && !err)
        dst->cap.flags |= CAP_FLAG_COM1;
    else if (com1)
        log_uart_given_back();
    if (dst->cap.type == PITH_OBJ_IO_PORTS)
        t->io_ports = 1;                /* (cleared by ioport_load once the slots hold none) */
    ioport_changed();
    return err;
}
