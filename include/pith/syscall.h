/*
 * System calls.  The numbers are negative so they can never collide with
 * Linux's (0 and up): a Linux-numbered call from a POSIX program is not a
 * Pith system call and goes to the thread's fault handler.
 *
 * Registers (SYSCALL instruction; rcx and r11 are clobbered):
 *   in:  rax = number, rdi = capability slot, rsi = message tag,
 *        rdx, r10, r8, r9 = message words 0-3, r12 = reply-object slot
 *        (receive operations), r13 = timeout in nanoseconds (timed operations)
 *   out: rax = error (enum pith_error), rdi = sender's badge (receive),
 *        rsi = message tag, rdx, r10, r8, r9 = message words 0-3
 * Invoking a capability to a kernel object with PITH_SYS_CALL performs the
 * operation named by the tag's label (see pith/invocation.h).
 */
#ifndef PITH_SYSCALL_H
#define PITH_SYSCALL_H

#include <stdint.h>

enum pith_syscall {
    PITH_SYS_CALL = -1,         /* call an endpoint, or invoke a kernel object */
    PITH_SYS_SEND = -2,         /* send on an endpoint; signal a notification; answer a reply object */
    PITH_SYS_NBSEND = -3,       /* send only if a receiver waits */
    PITH_SYS_RECV = -4,         /* receive from an endpoint or wait on a notification */
    PITH_SYS_NBRECV = -5,       /* receive only if a sender waits; poll a notification */
    PITH_SYS_REPLY_RECV = -6,   /* answer the reply object in r12, then receive */
    PITH_SYS_YIELD = -7,        /* give up the rest of the time slice */
    PITH_SYS_INFO = -8,         /* rdx = ABI major, r10 = ABI minor */
    PITH_SYS_SLEEP = -9,        /* rdi = nanoseconds */
    PITH_SYS_CALL_TIMED = -10,  /* as CALL on an endpoint, giving up after r13 nanoseconds */
    PITH_SYS_SEND_TIMED = -11,  /* as SEND on an endpoint, ... */
    PITH_SYS_RECV_TIMED = -12,  /* as RECV, ... (0: do not wait at all) */
    PITH_SYS_FIRST = -12,
};

#define PITH_MSG_REGS 4             /* message words carried in registers */

/*
 * A receive that was satisfied by a notification (the endpoint's bound
 * one, or a notification waited on directly) returns this label, and the
 * notification's signal bits in rdi.
 */
#define PITH_NOTIFICATION_LABEL     0xffffffffffffull

/*
 * The message tag: label (what the message means, 48 bits), length in
 * words (up to PITH_MSG_MAX: words 0-3 in registers, the rest in the IPC
 * buffer), and whether a capability travels with it.  On delivery the
 * kernel sets PITH_TAG_CAP_LOST if the message carried a capability the
 * receiver had no free slot for (the message arrives without it).
 */
#define PITH_MSG_MAX                120
#define PITH_TAG_CAP                0x80u
#define PITH_TAG_CAP_LOST           0x100u
#define PITH_TAG(label, length)     (((uint64_t)(label) << 16) | ((length) & 0x7f))
#define PITH_TAG_LABEL(tag)         ((tag) >> 16)
#define PITH_TAG_LENGTH(tag)        ((tag) & 0x7f)

#endif
