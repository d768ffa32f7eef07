/*
 * The IPC buffer: one frame per thread, registered with the thread
 * (PITH_TCB_CONFIGURE) and mapped where the thread likes.  The kernel
 * reaches it through its own mapping of the frame, never through the
 * thread's address space.
 */
#ifndef PITH_IPC_BUFFER_H
#define PITH_IPC_BUFFER_H

#include <stdint.h>

#define PITH_IPC_BUFFER_WORDS 512       /* 4 KiB */

/*
 * Message words 4 and up of a long message are in msg[4..]; words 0-3
 * travel in registers (msg[0..3] are not used for them).  A message that
 * carries a capability names it in send_cap; a receiver says where a
 * capability may go in recv_slot (0: nowhere).  The log operations use
 * the whole page as bytes, and fault messages put the registers in msg[].
 */
struct pith_ipc_buffer {
    uint64_t msg[128];
    uint64_t send_cap;                  /* slot (in the sender's space) of the capability to send */
    uint64_t recv_slot;                 /* slot (in the receiver's space) for a received capability */
    uint64_t reserved[PITH_IPC_BUFFER_WORDS - 130];
};

_Static_assert(sizeof(struct pith_ipc_buffer) == 4096, "the IPC buffer is one page");

#endif
