/*
 * Error codes returned by system calls and invocations (in rax; 0 is
 * success).  docs/kernel-abi.md lists which operation returns which.
 */
#ifndef PITH_ERRORS_H
#define PITH_ERRORS_H

enum pith_error {
    PITH_OK = 0,
    PITH_E_SLOT_RANGE = 1,      /* slot index beyond the capability space */
    PITH_E_SLOT_EMPTY = 2,      /* the slot holds no capability */
    PITH_E_WRONG_TYPE = 3,      /* the capability names the wrong kind of object */
    PITH_E_NO_RIGHTS = 4,       /* the capability lacks a right the operation needs */
    PITH_E_SLOT_FULL = 5,       /* a destination slot is already occupied */
    PITH_E_INVALID_ARG = 6,     /* an argument is out of range or malformed */
    PITH_E_NO_MEMORY = 7,       /* the untyped memory has no room left */
    PITH_E_BAD_INVOCATION = 8,  /* the object has no such operation */
    PITH_E_ALIGNMENT = 9,       /* an address or size is not suitably aligned */
    PITH_E_MAPPED = 10,         /* already mapped / the mapping slot is taken */
    PITH_E_NOT_MAPPED = 11,     /* nothing mapped there */
    PITH_E_NO_TABLE = 12,       /* a page table is missing on the way */
    PITH_E_PRIORITY = 13,       /* above the caller's maximum controlled priority */
    PITH_E_STATE = 14,          /* the object is not in a state that allows this */
    PITH_E_PEER_DIED = 15,      /* the server died or dropped the reply before answering */
    PITH_E_CANCELLED = 16,      /* the IPC was cancelled (object deleted, thread stopped) */
    PITH_E_WOULD_BLOCK = 17,    /* non-blocking operation found no partner */
    PITH_E_HAS_CHILDREN = 18,   /* the capability has derived capabilities; revoke first */
    PITH_E_NO_SYSCALL = 19,     /* no such system call (only without a fault handler) */
    PITH_E_PREEMPTED = 20,      /* kernel-internal: the operation is restarted, never returned */
    PITH_E_TOO_LONG = 21,       /* a message longer than PITH_MSG_MAX words */
    PITH_E_TIMEOUT = 22,        /* a timed wait ran out */
    PITH_E_FULL = 23,           /* the port's queue is full (send never blocks) */
    PITH_E_REFUSED = 24,        /* an extension on the endpoint refused the message */
    PITH_E_VERIFY = 25,         /* the extension's program failed verification (w0 rule, w1 instruction) */
    PITH_E_COUNT
};

#endif
