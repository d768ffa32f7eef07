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

struct pith_ipc_buffer {
    uint64_t msg[PITH_IPC_BUFFER_WORDS];
};

#endif
