/*
 * Exception and interrupt dispatch.  A kernel exception is fatal unless
 * its rip is listed in the extable (the test probes); interrupts go to
 * the handler registered for their vector.  User-mode faults become
 * messages to fault handlers once threads exist (a later layer).
 */
#include "arch/x86_64/trap.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/entry.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/layout.h"
#include "core/log.h"
#include "core/panic.h"
#include "core/sched.h"
#include "core/bkl.h"
#include "object/ipc.h"
#include "object/tcb.h"

struct trap_record last_fault, last_nmi;

static irq_handler_fn irq_handlers[256];

struct extable_entry { uint64_t fault, fixup; };
extern const struct extable_entry __extable_start[], __extable_end[];
extern uint64_t probe_exec_target;
extern char probe_exec_fixup[];

static const char *const names[32] = {
    "divide error", "debug", "NMI", "breakpoint", "overflow", "bound range",
    "invalid opcode", "device not available", "double fault", "coprocessor overrun",
    "invalid TSS", "segment not present", "stack fault", "general protection",
    "page fault", "reserved 15", "x87 floating point", "alignment check",
    "machine check", "SIMD floating point", "virtualization", "control protection",
    "reserved 22", "reserved 23", "reserved 24", "reserved 25", "reserved 26",
    "reserved 27", "hypervisor injection", "VMM communication", "security", "reserved 31",
};

const char *trap_name(unsigned vector)
{
    return vector < 32 ? names[vector] : "interrupt";
}

void irq_register(unsigned vector, irq_handler_fn fn)
{
    KASSERT(vector >= VEC_FIRST_IRQ && vector < 256);
    KASSERT(vector != VEC_SPURIOUS);
    irq_handlers[vector] = fn;
}

static void record(struct trap_record *r, const struct trap_frame *f)
{
    r->vector = f->vector;
    r->error = f->error;
    r->cr2 = f->vector == VEC_PF ? read_cr2() : 0;
    r->rip = f->rip;
    r->rsp = f->rsp;
    r->frame = (uint64_t)f;
    r->count++;
}

/* A fault the kernel expected (a probe): resume at the fixup with rax = vector. */
static int try_fixup(struct trap_frame *f)
{
    if (probe_exec_target && f->rip == probe_exec_target) {
        record(&last_fault, f);
        f->rsp += 8;                    /* drop the return address of the call */
        f->rip = (uint64_t)probe_exec_fixup;
        f->rax = f->vector;
        return 1;
    }
    for (const struct extable_entry *e = __extable_start; e < __extable_end; e++) {
        if (e->fault == f->rip) {
            record(&last_fault, f);
            f->rip = e->fixup;
            f->rax = f->vector;
            return 1;
        }
    }
    return 0;
}

void trap_dump(const struct trap_frame *f)
{
    kprintf("%s (vector %lu, error %#lx) on CPU %u, %s mode\n", trap_name((unsigned)f->vector),
            f->vector, f->error, apic_cpu_number(), (f->cs & 3) ? "user" : "kernel");
    kprintf("  rip %016lx  rsp %016lx  rflags %016lx\n", f->rip, f->rsp, f->rflags);
    kprintf("  rax %016lx  rbx %016lx  rcx %016lx\n", f->rax, f->rbx, f->rcx);
    kprintf("  rdx %016lx  rsi %016lx  rdi %016lx\n", f->rdx, f->rsi, f->rdi);
    kprintf("  rbp %016lx  r8  %016lx  r9  %016lx\n", f->rbp, f->r8, f->r9);
    kprintf("  r10 %016lx  r11 %016lx  r12 %016lx\n", f->r10, f->r11, f->r12);
    kprintf("  r13 %016lx  r14 %016lx  r15 %016lx\n", f->r13, f->r14, f->r15);
    kprintf("  cs %04lx  ss %04lx  cr2 %016lx  cr3 %016lx\n", f->cs, f->ss, read_cr2(), read_cr3());
}

static _Noreturn void fatal(struct trap_frame *f)
{
    static int reporting;
    if (reporting++)
        panic("%s at %#lx while reporting an earlier fault", trap_name((unsigned)f->vector), f->rip);
    log_panic_mode();
    kprintf("\n*** kernel exception ***\n");
    trap_dump(f);
    backtrace_print(f->rip, f->rbp);
    panic_after_report("unhandled %s in the kernel at %#lx", trap_name((unsigned)f->vector), f->rip);
}

/*
 * A user thread faulted: the fault becomes a message to the thread's
 * fault handler (include/pith/fault.h).  Without one the thread is
 * suspended and reported on the log with its registers.
 */
static void user_fault(struct trap_frame *f)
{
    struct tcb *t = sched_current();
    uint64_t addr = f->vector == VEC_PF ? read_cr2() : f->rip;
    /* Stopped by another CPU as it faulted: it faults again when (if) it resumes. */
    if (!t || t->state != TS_READY)
        return;
    if (ipc_send_fault(t, f->vector, addr, f->error))
        return;
    kprintf("thread %p: %s at %#lx; no fault handler, suspended\n", (void *)t,
            trap_name((unsigned)f->vector), addr);
    trap_dump(f);
    tcb_suspend(t);
}

irq_handler_fn irq_handler(unsigned vector)
{
    return vector < 256 ? irq_handlers[vector] : NULL;
}

/*
 * An interrupt or exception in kernel mode.  Interrupts come only while a
 * CPU idles without the big kernel lock (or during boot, with it): take it
 * around the handler if this CPU does not hold it.
 */
void trap_dispatch_kernel(struct trap_frame *f)
{
    if (f->vector < VEC_FIRST_IRQ || this_cpu()->holds_bkl) {
        trap_dispatch(f);
        return;
    }
    bkl_lock();
    trap_dispatch(f);
    bkl_unlock();
}

void trap_dispatch(struct trap_frame *f)
{
    if (f->vector == VEC_NMI) {
        record(&last_nmi, f);
        return;
    }
    if (f->vector < VEC_FIRST_IRQ) {
        if (f->cs & 3) {
            user_fault(f);
            return;
        }
        if (try_fixup(f))
            return;
        fatal(f);
    }
    if (f->vector == VEC_SPURIOUS)
        return;                         /* spurious: no EOI */
    irq_handler_fn fn = irq_handlers[f->vector];
    if (fn)
        fn(f);
    else
        kprintf("trap: unexpected interrupt vector %lu\n", f->vector);
    apic_eoi();
}
