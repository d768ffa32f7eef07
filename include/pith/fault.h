/*
 * Faults as messages.  When a user thread faults, or makes a system call
 * that is not Pith's, the kernel sends a call on the thread's fault
 * endpoint (PITH_TCB_CONFIGURE, word 3) on the thread's behalf; the thread
 * waits as a caller.  The handler receives it with a reply object:
 *
 *   tag label PITH_FAULT_LABEL, length 4; badge: the fault endpoint's
 *   w0 kind (enum pith_fault_kind), w1 address (page fault: the address
 *   touched; system call: its number; otherwise the instruction),
 *   w2 error code (page faults: PITH_PF_* bits), w3 the instruction pointer;
 *   and, in the handler's IPC buffer if it has one, struct pith_fault_regs.
 *
 * The handler answers through the reply object.  The answer's label says
 * what happens (the thread resumes in each case):
 *   PITH_FAULT_RESUME           registers unchanged (a faulting instruction runs again)
 *   PITH_FAULT_RESUME_REGS      registers from the handler's IPC buffer,
 *                               struct pith_fault_regs, checked like any
 *                               register state from user level
 *   PITH_FAULT_SYSCALL_RESULT   a system-call fault returns w0 in rax
 * To kill the thread the handler deletes or suspends it instead.  A
 * thread without a fault endpoint, or whose handler goes away, is
 * suspended and reported on the kernel log.
 */
#ifndef PITH_FAULT_H
#define PITH_FAULT_H

#include <stdint.h>

#define PITH_FAULT_LABEL 0xfa17

enum pith_fault_kind {
    PITH_FAULT_DIVIDE = 0,
    PITH_FAULT_DEBUG = 1,
    PITH_FAULT_BREAKPOINT = 3,
    PITH_FAULT_OVERFLOW = 4,
    PITH_FAULT_BOUND = 5,
    PITH_FAULT_INVALID_OPCODE = 6,
    PITH_FAULT_STACK = 12,
    PITH_FAULT_PROTECTION = 13,
    PITH_FAULT_PAGE = 14,
    PITH_FAULT_X87 = 16,
    PITH_FAULT_ALIGNMENT = 17,
    PITH_FAULT_SIMD = 19,
    PITH_FAULT_SYSCALL = 256,       /* an unknown system call */
};

enum pith_fault_reply {
    PITH_FAULT_RESUME = 0,
    PITH_FAULT_RESUME_REGS = 1,
    PITH_FAULT_SYSCALL_RESULT = 2,
};

#define PITH_PF_PRESENT 0x1u
#define PITH_PF_WRITE   0x2u
#define PITH_PF_FETCH   0x10u

/* The faulting thread's registers, in the handler's IPC buffer. */
struct pith_fault_regs {
    uint64_t rip, rsp, rflags;
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};

/*
 * A stopped thread's whole user state, as PITH_TCB_READ_ALL_REGISTERS and
 * PITH_TCB_WRITE_ALL_REGISTERS carry it in the caller's IPC buffer: the
 * registers, the FPU state in the FXSAVE layout (x87, MXCSR, XMM0-15),
 * and the upper halves of YMM0-15, 16 bytes each (XSAVE's AVX component),
 * which a read gives as zeros where the kernel keeps no AVX state (avx 0).
 */
struct pith_thread_regs {
    struct pith_fault_regs r;
    uint8_t fpu[512];
    uint8_t ymm_hi[256];
    uint64_t avx;                       /* read: 1 if the kernel keeps AVX state (PITH_REGS_AVX may be written) */
};

#endif
