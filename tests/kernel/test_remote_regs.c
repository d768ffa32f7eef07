/*
 * PITH_TCB_WRITE_REGISTERS aimed at a thread that runs on another CPU, in
 * the interleaving that once left a reschedule interrupt unacknowledged:
 * that CPU took an interrupt in the thread's user mode and pushed the
 * thread's frame (vector included) into its TCB, and waits for the big
 * kernel lock; meanwhile the lock's holder writes the thread's registers;
 * then that CPU dispatches the frame.  The write must leave the frame
 * alone, so the dispatch still sees the interrupt and acknowledges it,
 * and reach the thread once its CPU lets go of it or resumes it.
 *
 * Run on the boot CPU before the others start, playing both parts: a
 * fake "CPU 1" runs the thread, and its kick (the reschedule interrupt)
 * is sent to ourselves, so it is really in service in the local APIC
 * while the thread's frame is dispatched.
 */
#include "ktest.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/trap.h"
#include "core/sched.h"
#include "object/tcb.h"
#include <pith/errors.h>

static struct tcb thread;               /* only its frame and written registers are used */
static volatile int kicks, in_service_during, acknowledged_by_frame;

/*
 * The kick arrives: this is the other CPU, in the kernel with the lock at
 * last, dispatching the frame it pushed before it waited (isr.S, from
 * user mode: trap_dispatch on the thread's frame).
 */
static void on_kick(struct trap_frame *f)
{
    (void)f;
    if (kicks++)
        return;                         /* the nested dispatch of the thread's frame */
    in_service_during = apic_in_service(VEC_RESCHEDULE);
    trap_dispatch(&thread.ctx);
    acknowledged_by_frame = !apic_in_service(VEC_RESCHEDULE);
}

KTEST(remote_register_write_leaves_the_entry_frame_and_its_interrupt)
{
    KT_EQ(smp_ncpus, 1);                /* before the other CPUs start */
    irq_handler_fn saved_handler = irq_handler(VEC_RESCHEDULE);
    uint32_t saved_apic = smp_apic_ids[1];
    struct percpu *other = percpu_of(1);

    /* "CPU 1" runs the thread and has just pushed its frame for a reschedule interrupt. */
    thread.ctx = (struct trap_frame){ 0 };
    thread.ctx.vector = VEC_RESCHEDULE;
    thread.ctx.cs = SEL_UCODE | 3;
    thread.ctx.ss = SEL_UDATA | 3;
    thread.ctx.rip = 0x401000;
    thread.ctx.rsp = 0x7000;
    thread.ctx.rdi = 1;
    thread.ctx.rsi = 2;
    thread.regs_written = 0;
    kicks = in_service_during = acknowledged_by_frame = 0;
    irq_register(VEC_RESCHEDULE, on_kick);
    smp_apic_ids[1] = apic_id();        /* its kick comes to us */
    other->current = &thread;
    smp_ncpus = 2;

    /* The lock's holder writes its registers, interrupts off so the kick waits. */
    irq_disable();
    int err = tcb_write_registers(&thread, 0x402000, 0x8000, 3, 4);
    uint64_t vector_after = thread.ctx.vector, rip_after = thread.ctx.rip;
    uint64_t read_rip = tcb_read_rip(&thread), read_rsp = tcb_read_rsp(&thread);
    irq_enable();                       /* the kick is taken: on_kick */
    for (int i = 0; i < 1000000 && !kicks; i++)
        cpu_relax();
    irq_disable();

    smp_ncpus = 1;
    other->current = NULL;
    smp_apic_ids[1] = saved_apic;
    irq_register(VEC_RESCHEDULE, saved_handler);
    irq_enable();

    KT_EQ(err, PITH_OK);
    KT_EQ(vector_after, VEC_RESCHEDULE); /* the frame still says what was taken */
    KT_EQ(rip_after, 0x401000);
    KT_EQ(read_rip, 0x402000);           /* but a read sees the write */
    KT_EQ(read_rsp, 0x8000);
    KT_EQ(kicks, 2);                     /* the kick, then the frame's own dispatch */
    KT_ASSERT(in_service_during);
    KT_ASSERT(acknowledged_by_frame);    /* dispatching the frame acknowledged it */
    KT_ASSERT(!apic_in_service(VEC_RESCHEDULE));

    /* "CPU 1" lets go of the thread (or resumes it): now the write lands. */
    KT_EQ(thread.regs_written, 1);
    tcb_apply_written_registers(&thread);
    KT_EQ(thread.regs_written, 0);
    KT_EQ(thread.ctx.rip, 0x402000);
    KT_EQ(thread.ctx.rsp, 0x8000);
    KT_EQ(thread.ctx.rdi, 3);
    KT_EQ(thread.ctx.rsi, 4);
    KT_EQ(thread.ctx.vector, 0);         /* resumed with IRET, every register as set */

    /* Not running anywhere else: written at once. */
    err = tcb_write_registers(&thread, 0x403000, 0x9000, 5, 6);
    KT_EQ(err, PITH_OK);
    KT_EQ(thread.regs_written, 0);
    KT_EQ(thread.ctx.rip, 0x403000);
}
