/*
 * Extensions (SPIN): small programs in a verified bytecode that the kernel
 * runs on an event, checked when loaded (docs/extensions.md).
 *
 * The machine: eleven 64-bit registers r0-r10, a 256-byte stack below r10
 * (the frame pointer, read-only), instructions of 8 bytes.  On entry r1
 * points to the event's context (below) and r10 to the top of the stack;
 * the program ends with EXIT and r0 is its verdict.  Jumps go forward
 * only, so a program runs at most one pass over its instructions.
 */
#ifndef PITH_EXTENSION_H
#define PITH_EXTENSION_H

#include <stdint.h>

#define PITH_EXT_MAX_INSNS  512         /* 4 KiB of text: one frame */
#define PITH_EXT_REGS       11          /* r0-r9, and r10 the frame pointer */
#define PITH_EXT_FP         10
#define PITH_EXT_STACK      256         /* bytes */
#define PITH_EXT_MAPS       4           /* frames bound as maps: arrays of u64 */
#define PITH_EXT_MAP_WORDS  512         /* words in a map (one 4 KiB frame) */

struct pith_ext_insn {
    uint8_t op;                         /* enum pith_ext_op, | PITH_EXT_K for an immediate source */
    uint8_t regs;                       /* dst | src << 4 */
    int16_t off;                        /* memory offset, or jump distance (from the next instruction) */
    int32_t imm;                        /* immediate (sign-extended to 64 bits), or helper number */
};

enum pith_ext_op {
    /* dst = dst OP src (or OP imm): 64-bit arithmetic; x / 0 = 0, x % 0 = x; shifts use the low 6 bits */
    PITH_EXT_ADD = 1, PITH_EXT_SUB, PITH_EXT_MUL, PITH_EXT_DIV, PITH_EXT_MOD,
    PITH_EXT_AND, PITH_EXT_OR, PITH_EXT_XOR, PITH_EXT_LSH, PITH_EXT_RSH, PITH_EXT_ARSH,
    PITH_EXT_MOV, PITH_EXT_NEG,         /* NEG: dst = -dst, no source */
    /* Jumps: pc += 1 + off when the condition holds (JA: always); off >= 0 */
    PITH_EXT_JA = 16, PITH_EXT_JEQ, PITH_EXT_JNE, PITH_EXT_JGT, PITH_EXT_JGE, PITH_EXT_JLT,
    PITH_EXT_JLE, PITH_EXT_JSGT, PITH_EXT_JSGE, PITH_EXT_JSLT, PITH_EXT_JSLE, PITH_EXT_JSET,
    /* Memory: LDX dst = *(src + off); STX *(dst + off) = src; ST *(dst + off) = imm; 1, 2, 4, 8 bytes */
    PITH_EXT_LDX8 = 32, PITH_EXT_LDX16, PITH_EXT_LDX32, PITH_EXT_LDX64,
    PITH_EXT_STX8, PITH_EXT_STX16, PITH_EXT_STX32, PITH_EXT_STX64,
    PITH_EXT_ST8, PITH_EXT_ST16, PITH_EXT_ST32, PITH_EXT_ST64,
    /* r0 = helper imm (r1-r5); r1-r5 are unreadable afterwards */
    PITH_EXT_CALL = 48,
    PITH_EXT_EXIT,
};
#define PITH_EXT_K 0x80u                /* the source is imm, not a register */

#define PITH_EXT_INSN(op, dst, src, off, imm) \
    ((struct pith_ext_insn){ (uint8_t)(op), (uint8_t)((dst) | (src) << 4), (int16_t)(off), (int32_t)(imm) })

/* Events a program is loaded for (PITH_EXT_LOAD w0). */
enum pith_ext_event {
    PITH_EXT_EVENT_IPC = 1,             /* a send or call on an endpoint */
    PITH_EXT_EVENT_IRQ = 2,             /* an interrupt offered to an IRQ handler */
    PITH_EXT_EVENT_FAULT = 3,           /* a fault sent to a fault endpoint */
    PITH_EXT_EVENT_COUNT
};

/* Context of PITH_EXT_EVENT_IPC: read-only but for the answer fields. */
struct pith_ext_ipc_ctx {
    uint64_t badge;                     /*  0 the sender's capability's badge */
    uint64_t label;                     /*  8 */
    uint64_t length;                    /* 16 message words */
    uint64_t call;                      /* 24 1: a call (it can be answered here), 0: a send */
    uint64_t msg[4];                    /* 32 words 0-3 */
    uint64_t reply_label;               /* 64 writable: the answer's label */
    uint64_t reply_length;              /* 72 writable: its words (at most 4) */
    uint64_t reply[4];                  /* 80 writable: its words 0-3 */
};
#define PITH_EXT_IPC_WRITABLE_FROM 64

/* IPC verdicts (r0); any other value is PASS. */
#define PITH_EXT_PASS   0               /* deliver the message as usual */
#define PITH_EXT_DROP   1               /* refuse it: the sender gets PITH_E_REFUSED */
#define PITH_EXT_REPLY  2               /* answer a call from the context's reply fields, in the kernel */

/* Context of PITH_EXT_EVENT_IRQ: read-only. */
struct pith_ext_irq_ctx {
    uint64_t line;                      /* 0 the interrupt line (global system interrupt) */
    uint64_t count;                     /* 8 interrupts on the line so far, this one included */
};

/* IRQ verdicts (r0); any other value is WAKE. */
#define PITH_EXT_WAKE     0             /* signal the handler's driver as usual */
#define PITH_EXT_CLAIM    1             /* handled in the kernel: the driver is not woken */
#define PITH_EXT_NOT_MINE 2             /* offer the interrupt to the line's next handler */

/*
 * Context of PITH_EXT_EVENT_FAULT: read-only but for the two answer
 * fields at the end.  For a system-call fault (kind PITH_FAULT_SYSCALL)
 * addr is the number (rax) and args the six argument registers; for any
 * other fault args are 0.
 */
struct pith_ext_fault_ctx {
    uint64_t kind;                      /*  0 enum pith_fault_kind */
    uint64_t addr;                      /*  8 the address (page fault), the number (system call), else rip */
    uint64_t error;                     /* 16 the error code (PITH_PF_* for a page fault) */
    uint64_t rip;                       /* 24 */
    uint64_t badge;                     /* 32 the fault endpoint's badge (the faulting thread's capability) */
    uint64_t args[6];                   /* 40 system call: rdi, rsi, rdx, r10, r8, r9 */
    uint64_t frame;                     /* 88 writable: for PITH_EXT_MAP, the slot in the pool */
    uint64_t result;                    /* 96 writable: for PITH_EXT_RESULT, the system call's result */
};
#define PITH_EXT_FAULT_WRITABLE_FROM 88

/* Fault verdicts (r0); any other value is DELIVER. */
#define PITH_EXT_DELIVER 0              /* send the fault to the handler as usual */
#define PITH_EXT_MAP     1              /* page fault: map the pool's frame `frame` there, read-write, and resume */
#define PITH_EXT_RESULT  2              /* system call: return `result` in rax at once, as a PITH_FAULT_SYSCALL_RESULT answer */

/* Helpers (CALL imm).  A map index out of range at run time stops the program with verdict 0. */
enum pith_ext_helper {
    PITH_EXT_MAP_READ = 1,              /* (map, index) -> word */
    PITH_EXT_MAP_WRITE,                 /* (map, index, value) -> 0 */
    PITH_EXT_MAP_ADD,                   /* (map, index, delta) -> the new word */
    PITH_EXT_MSG_WORD,                  /* IPC only: (i) -> word i of the message (0 beyond its length) */
    PITH_EXT_HELPER_COUNT
};

/*
 * Verifier rules: PITH_EXT_LOAD fails with PITH_E_VERIFY, w0 the rule
 * broken and w1 the instruction (docs/extensions.md has the text of each).
 */
enum pith_ext_rule {
    PITH_EXT_OK = 0,
    PITH_EXT_R_LENGTH,                  /* empty, or more than PITH_EXT_MAX_INSNS */
    PITH_EXT_R_EVENT,                   /* unknown event */
    PITH_EXT_R_OPCODE,                  /* unknown opcode */
    PITH_EXT_R_REGISTER,                /* register beyond r10 */
    PITH_EXT_R_FIELD,                   /* an unused field not zero */
    PITH_EXT_R_WRITE_FP,                /* r10 written */
    PITH_EXT_R_BACK_EDGE,               /* a jump backwards or to itself */
    PITH_EXT_R_JUMP_RANGE,              /* a jump past the end */
    PITH_EXT_R_FALLS_OFF,               /* execution can run past the last instruction */
    PITH_EXT_R_UNREACHABLE,             /* an instruction no path reaches */
    PITH_EXT_R_BRANCHES,                /* too many jump targets pending at once */
    PITH_EXT_R_UNINIT,                  /* an unset register read */
    PITH_EXT_R_MIXED,                   /* a register of different kinds on joining paths read */
    PITH_EXT_R_PTR_ARITH,               /* pointer arithmetic beyond +/- a known constant */
    PITH_EXT_R_PTR_COMPARE,             /* a pointer in a jump's condition */
    PITH_EXT_R_PTR_STORE,               /* a pointer stored to memory */
    PITH_EXT_R_PTR_HELPER,              /* a pointer passed to a helper */
    PITH_EXT_R_PTR_RETURN,              /* a pointer in r0 at exit */
    PITH_EXT_R_NOT_PTR,                 /* memory accessed through a number */
    PITH_EXT_R_ALIGN,                   /* memory access not naturally aligned */
    PITH_EXT_R_CTX_RANGE,               /* context access out of bounds */
    PITH_EXT_R_CTX_SIZE,                /* context access other than a whole word */
    PITH_EXT_R_CTX_READONLY,            /* a read-only context field written */
    PITH_EXT_R_STACK_RANGE,             /* stack access out of bounds */
    PITH_EXT_R_STACK_UNINIT,            /* stack bytes read before being written on every path */
    PITH_EXT_R_HELPER,                  /* no such helper */
    PITH_EXT_R_HELPER_EVENT,            /* helper not allowed for this event */
    PITH_EXT_R_MAP_ID,                  /* map argument not a known constant below PITH_EXT_MAPS */
    PITH_EXT_R_MAP_INDEX,               /* map index a known constant beyond the map */
    PITH_EXT_R_DIV_ZERO,                /* division by the constant 0 */
    PITH_EXT_R_SHIFT,                   /* shift by a constant of 64 or more */
    PITH_EXT_R_COUNT
};

#endif
