/* Interrupt and exception entry: the saved register frame and the dispatcher. */
#ifndef PITH_ARCH_TRAP_H
#define PITH_ARCH_TRAP_H

#include <stdint.h>
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/entry.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/layout.h"

/* Laid out by isr.S: general registers, then vector and error code, then the CPU's frame. */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;
};

enum {
    VEC_DE = 0, VEC_DB = 1, VEC_NMI = 2, VEC_BP = 3, VEC_OF = 4, VEC_BR = 5, VEC_UD = 6,
    VEC_NM = 7, VEC_DF = 8, VEC_TS = 10, VEC_NP = 11, VEC_SS = 12, VEC_GP = 13,
    VEC_PF = 14, VEC_MF = 16, VEC_AC = 17, VEC_MC = 18, VEC_XM = 19, VEC_VE = 20,
    VEC_CP = 21,
    VEC_FIRST_IRQ = 32,
    VEC_APIC_TIMER = 32,
    VEC_RESCHEDULE = 33,        /* another CPU made a thread of ours ready, or stopped ours */
    /* VEC_TLB_SHOOTDOWN (34, entry.h): flush the TLB; handled without the lock */
    VEC_SPURIOUS = 255,
};

#define PF_PRESENT  (1u << 0)
#define PF_WRITE    (1u << 1)
#define PF_USER     (1u << 2)
#define PF_FETCH    (1u << 4)

typedef void (*irq_handler_fn)(struct trap_frame *f);


void idt_init(void);
void idt_load(void);                /* each further CPU: the same table */
void trap_dispatch(struct trap_frame *f);
void trap_dispatch_kernel(struct trap_frame *f);
void irq_register(unsigned vector, irq_handler_fn fn);
irq_handler_fn irq_handler(unsigned vector);
void trap_dump(const struct trap_frame *f);
const char *trap_name(unsigned vector);

/*
 * What the last recovered kernel fault was (see extable in probe.S): the
 * in-system tests read this after a probe to check the CPU reported the
 * vector, error code and address they expected.
 */
struct trap_record {
    uint64_t vector, error, cr2, rip, rsp;
    uint64_t frame;                     /* where the handler's trap_frame was: which stack */
    uint64_t count;
};
extern struct trap_record last_fault, last_nmi;

/* Probes: run one instruction that may fault; return -1 if it did not, else the vector. */
long probe_read(const volatile void *addr);
long probe_write(volatile void *addr);      /* rewrites the byte already there */
long probe_exec(const void *addr);          /* calls addr; it must hold a 'ret' */
long probe_ud(void);
long probe_int3(void);
long probe_div0(void);

/* The offsets syscall.S and isr.S use (arch/x86_64/entry.h). */
_Static_assert(__builtin_offsetof(struct trap_frame, rax) == TF_RAX, "trap_frame layout");
_Static_assert(__builtin_offsetof(struct trap_frame, rcx) == TF_RCX, "trap_frame layout");
_Static_assert(__builtin_offsetof(struct trap_frame, r11) == TF_R11, "trap_frame layout");
_Static_assert(__builtin_offsetof(struct trap_frame, vector) == TF_VECTOR, "trap_frame layout");
_Static_assert(__builtin_offsetof(struct trap_frame, rip) == TF_RIP, "trap_frame layout");
_Static_assert(__builtin_offsetof(struct trap_frame, rflags) == TF_RFLAGS, "trap_frame layout");
_Static_assert(__builtin_offsetof(struct trap_frame, rsp) == TF_RSP, "trap_frame layout");
_Static_assert(sizeof(struct trap_frame) == TF_SIZE, "trap_frame layout");

/*
 * Returning to user mode: registers from user level are never trusted.
 * Selectors are fixed, RFLAGS keeps only the arithmetic flags, TF and DF
 * (IOPL 0, interrupts on, no NT, AC or VM), and a frame that cannot be
 * resumed with SYSRET (non-canonical rip: the SYSRET-in-ring-0 hole) is
 * resumed with IRET instead.  On every exit, so inline.
 */
static inline void trap_frame_sanitise(struct trap_frame *f)
{
    /*
     * A frame SYSCALL saved, with a rip it came from: SYSRET sets the
     * selectors itself, and syscall.S filters the flags as below on its way.
     */
    if (f->vector == VEC_SYSCALL_FRAME && f->rip < USER_TOP)
        return;
    f->rflags = (f->rflags & USER_RFLAGS) | RFLAGS_IF | 0x2;
    f->cs = SEL_UCODE | 3;
    f->ss = SEL_UDATA | 3;
    f->vector = 0;                      /* resume with IRET */
    if (f->rip >= USER_CANONICAL_END || f->rsp >= USER_CANONICAL_END) {
        f->rip = 0;                     /* unreachable by construction; fault in user mode if ever */
        f->rsp = 0;
    }
}

#endif
