/*
 * The resolver of lib/libpith/idl.h over the name service, for every
 * process init starts.  Generated stubs call it from whichever thread
 * uses them, and a binding holds no lock, so each thread (known by its
 * IPC buffer) gets a binding of its own to the name service.
 */
#include "resolver.h"
#include "names.h"
#include "process.h"
#include "tls.h"

#include <stdbool.h>

#define MAX_THREADS 16

/* The name service is init, which never restarts: its capability is the one we were given. */
static long names_itself(void *ctx, const char *name, uint64_t dest_slot)
{
    return pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, dest_slot, PITH_SLOT_NAMES, PITH_RIGHTS_ALL, 0);
}

static const struct pith_resolver boot_capability = { .lookup = names_itself };

static struct {
    struct pith_ipc_buffer *buf;
    struct pith_client c;
} bindings[MAX_THREADS];

struct pith_client *names_client(void)
{
    struct pith_ipc_buffer *buf = pith_tls_self()->ipc_buffer;
    for (int i = 0; i < MAX_THREADS; i++) {
        struct pith_ipc_buffer *seen = __atomic_load_n(&bindings[i].buf, __ATOMIC_ACQUIRE);
        if (seen == buf)
            return &bindings[i].c;
        if (!seen) {
            /* Set the binding up before publishing it: another thread may look at the entry. */
            struct pith_client c;
            pith_client_init(&c, "names", &boot_capability, pith_slot_alloc(), buf);
            struct pith_ipc_buffer *expect = NULL;
            if (__atomic_compare_exchange_n(&bindings[i].buf, &expect, (struct pith_ipc_buffer *)1, false,
                                            __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
                bindings[i].c = c;
                __atomic_store_n(&bindings[i].buf, buf, __ATOMIC_RELEASE);
                return &bindings[i].c;
            }
            pith_idl_drop(c.ep_slot);
        }
    }
    return NULL;
}

static long lookup(void *ctx, const char *name, uint64_t dest_slot)
{
    struct pith_client *c = names_client();
    if (!c)
        return PITH_E_FULL;
    return names_lookup(c, name, dest_slot);
}

const struct pith_resolver names_resolver = { .lookup = lookup };

long register_name(const char *name, uint64_t ep)
{
    struct pith_client *c = names_client();
    if (!c)
        return PITH_E_FULL;
    return names_publish(c, name, ep);
}
