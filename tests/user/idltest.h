/*
 * Helpers of the interface-definition tests: a name registry standing in
 * for the name service (it implements the resolver interface of
 * lib/libpith/idl.h), and the IPC buffer of a test thread.
 */
#ifndef PITH_IDLTEST_H
#define PITH_IDLTEST_H

#include "idl.h"
#include "utest.h"

/* Registers ep under name (0: the name is gone); lookups copy it with write and grant rights. */
void registry_set(const char *name, uint64_t ep);
extern const struct pith_resolver test_registry;

/* The calling thread's IPC buffer: init's, or where make_thread mapped it (0x2000 above the stack). */
static inline struct pith_ipc_buffer *thread_buffer(void)
{
    uint64_t sp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
    if (sp > PITH_INIT_STACK_TOP - PITH_INIT_STACK_PAGES * 4096ull && sp <= PITH_INIT_STACK_TOP)
        return (struct pith_ipc_buffer *)PITH_IPC_BUFFER_ADDR;
    return (struct pith_ipc_buffer *)((sp & ~0x3fffull) + 0x2000);
}

#endif
