/*
 * Operations on kernel objects: PITH_SYS_CALL on a capability with the
 * label below in the message tag.  Words are the message words 0-3;
 * "slot" arguments are slots in the caller's capability space unless said
 * otherwise.  docs/kernel-abi.md gives every error each can return.
 */
#ifndef PITH_INVOCATION_H
#define PITH_INVOCATION_H

/* A thread's state, as PITH_TCB_INFO (w1) and PITH_TCB_READ_REGISTERS (w3) report it. */
enum pith_thread_state {
    PITH_THREAD_INACTIVE = 0,       /* made, or suspended: never scheduled */
    PITH_THREAD_READY,              /* runnable, or running */
    PITH_THREAD_BLOCKED_SEND,       /* waiting on an endpoint to send (or call) */
    PITH_THREAD_BLOCKED_RECV,       /* waiting on an endpoint (and its bound notification) */
    PITH_THREAD_BLOCKED_REPLY,      /* called; waiting for the reply */
    PITH_THREAD_BLOCKED_NOTIFY,     /* waiting on a notification */
    PITH_THREAD_SLEEPING,           /* waiting for a time */
    PITH_THREAD_BLOCKED_PORT,       /* waiting for a message on a port */
};

enum pith_invocation {
    /* CNode: dst is a slot in the invoked CNode; src in the caller's space. */
    PITH_CNODE_COPY = 1,        /* w0 dst, w1 src, w2 rights mask */
    PITH_CNODE_MINT,            /* w0 dst, w1 src, w2 rights mask, w3 badge */
    PITH_CNODE_MOVE,            /* w0 dst, w1 src */
    PITH_CNODE_DELETE,          /* w0 slot in the invoked CNode */
    PITH_CNODE_REVOKE,          /* w0 slot in the invoked CNode */
    PITH_CNODE_IDENTIFY,        /* w0 slot: returns w0 type, w1 rights, w2 badge, w3 size bits */
    PITH_CNODE_COMPARE,         /* w0, w1 slots: returns w0 1 if both name one object (any rights, badges), else 0 */

    /* Untyped */
    PITH_UNTYPED_RETYPE = 16,   /* w0 type | size bits << 8, w1 dest CNode, w2 dest slot, w3 count */
    PITH_UNTYPED_INFO,          /* returns w0 size bits, w1 bytes free, w2 physical address (PHYS right) */

    /* Thread */
    PITH_TCB_CONFIGURE = 32,    /* w0 cspace CNode, w1 vspace, w2 IPC-buffer frame, w3 fault endpoint (0: none) */
    PITH_TCB_SET_PRIORITY,      /* w0 priority, w1 maximum controlled priority; checked against the caller's */
    PITH_TCB_WRITE_REGISTERS,   /* w0 rip, w1 rsp, w2 rdi, w3 rsi */
    PITH_TCB_READ_REGISTERS,    /* returns w0 rip, w1 rsp, w2 rflags, w3 state */
    PITH_TCB_RESUME,
    PITH_TCB_SUSPEND,
    PITH_TCB_BIND_NOTIFICATION, /* w0 notification (0: unbind) */
    PITH_TCB_SET_TLS,           /* w0 fs base, w1 gs base */
    PITH_TCB_INFO,              /* returns w0 cpu time (TSC ticks), w1 state, w2 priority, w3 mcp */
    PITH_TCB_SET_IO_PORTS,      /* w0 which (0 or 1), w1 I/O-port range (0: none): the thread may use those ports */
    PITH_TCB_BUDGET,            /* returns w0 microseconds left of its own time slice, w1 1 if the CPU runs on that slice now */
    PITH_TCB_SET_AFFINITY,      /* w0 CPU number: the thread runs there from its next scheduling */
    PITH_TCB_INTERRUPT,         /* suspends the thread only if ready (running its own code); returns w0 the state found */
    PITH_TCB_READ_ALL_REGISTERS,    /* a stopped thread's struct pith_thread_regs into the caller's IPC buffer */
    PITH_TCB_WRITE_ALL_REGISTERS,   /* w0 PITH_REGS_* parts of struct pith_thread_regs from the caller's IPC buffer */
    PITH_TCB_CPU,               /* returns w0 the CPU the thread runs on (last ran on; after a move, runs on next) */

    /* Frame and page table */
    PITH_FRAME_MAP = 48,        /* w0 vspace, w1 address, w2 rights (READ, WRITE, EXEC) */
    PITH_FRAME_UNMAP,
    PITH_FRAME_PHYS,            /* returns w0 physical address; needs PITH_RIGHT_PHYS */
    PITH_PAGE_TABLE_MAP,        /* w0 vspace, w1 address: fills the first missing level */
    PITH_PAGE_TABLE_UNMAP,

    /* I/O ports */
    PITH_IO_PORTS_CARVE = 56,   /* w0 first, w1 last port (within ours), w2 dest CNode, w3 dest slot */
    PITH_IO_PORTS_INFO,         /* returns w0 first, w1 last */

    /* Interrupts (docs/interrupts.md) */
    PITH_IRQ_CONTROL_BIND = 72, /* w0 handler, w1 line, w2 flags (PITH_IRQ_*): adds the handler to the line */
    PITH_IRQ_CONTROL_INFO,      /* w0 line: returns w0 interrupts, w1 unclaimed, w2 1 if masked for storming, w3 handlers */
    PITH_IRQ_HANDLER_SET_NOTIFICATION = 80, /* w0 notification, w1 bits to signal (0: 1) */
    PITH_IRQ_HANDLER_ANSWER,    /* w0 1: handled, 0: not mine */
    PITH_IRQ_HANDLER_INFO,      /* returns w0 line, w1 times offered, w2 times claimed */

    /* Ports and port groups (docs/kernel-abi.md, Ports) */
    PITH_PORT_INFO = 88,        /* returns w0 messages queued, w1 capacity */
    PITH_GROUP_ADD = 96,        /* w0 port (needs the write right): returns w0 member index */
    PITH_GROUP_REMOVE,          /* w0 member index */
    PITH_GROUP_SET_MODE,        /* w0 PITH_GROUP_ONE (round-robin) or PITH_GROUP_ALL (broadcast) */

    /* The kernel log */
    PITH_LOG_WRITE = 64,        /* w0 length: bytes from the IPC buffer */
    PITH_LOG_READ,              /* w0 position: returns w0 bytes copied to the IPC buffer, w1 new position, w2 bytes lost */
    PITH_LOG_SHUTDOWN,          /* w0 1: success, 0: failure; ends the system (QEMU exits with the verdict); needs every right */

    /* User-level memory management (docs/memory.md): invoked on the destination VSpace */
    PITH_VSPACE_MAP = 104,      /* w0 first source frame slot, w1 address, w2 dest CNode slot | dest first slot << 32,
                                   w3 count | rights << 16: derives a child of each frame capability and maps it */
    PITH_VSPACE_GRANT,          /* as MAP, but the source capabilities move (their mappings are removed) */
    PITH_VSPACE_AD_BITS,        /* w0 address, w1 count (1-64): returns w0 mapped, w1 accessed, w2 dirty bitmaps; clears A and D */
    PITH_VSPACE_MAP_FRAMES,     /* w0 CNode slot | first frame slot << 32, w1 address, w2 count, w3 rights:
                                   maps the frame capabilities themselves, as FRAME_MAP maps one */
    PITH_CNODE_REVOKE_RANGE = 112, /* w0 first slot in the invoked CNode, w1 count, w2 PITH_REVOKE_*: revokes each */

    /* Extensions (docs/extensions.md); all but INFO need the write right */
    PITH_EXT_LOAD = 120,        /* w0 event, w1 instructions, w2 frame holding them: verified, or PITH_E_VERIFY */
    PITH_EXT_SET_MAP,           /* w0 map number, w1 frame (read and write rights; 0: none) */
    PITH_EXT_ATTACH,            /* w0 endpoint (read right) for IPC, IRQ handler for IRQ programs */
    PITH_EXT_DETACH,
    PITH_EXT_INFO,              /* returns w0 event, w1 instructions, w2 runs, w3 runs stopped by a check */
    PITH_EXT_SET_POOL,          /* w0 CNode of frames a fault program may map (0: none) */
};

/* PITH_TCB_WRITE_ALL_REGISTERS: which parts (struct pith_thread_regs, <pith/fault.h>) */
#define PITH_REGS_GENERAL   1u      /* rip, rsp, rflags and the 15 others */
#define PITH_REGS_FPU       2u      /* the FXSAVE image: x87, MXCSR, XMM0-15 */
#define PITH_REGS_AVX       4u      /* the upper halves of YMM0-15 (INVALID_ARG where avx reads 0) */

/* PITH_VSPACE_MAP / _GRANT / _MAP_FRAMES: the most pages one invocation maps */
#define PITH_MAP_MAX_PAGES  512

/* PITH_CNODE_REVOKE_RANGE flags */
#define PITH_REVOKE_UNMAP   1u      /* also remove the range's own mappings (frames and page tables) */


#define PITH_GROUP_ONE 0
#define PITH_GROUP_ALL 1

/* PITH_IRQ_CONTROL_BIND flags */
#define PITH_IRQ_ISA        1u      /* the line is an ISA IRQ: translated by the ACPI overrides */
#define PITH_IRQ_LEVEL      2u      /* level-triggered (non-ISA lines) */
#define PITH_IRQ_ACTIVE_LOW 4u      /* active low (non-ISA lines) */

#endif
