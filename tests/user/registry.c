/* The tests' name registry: a few names, each naming an endpoint slot of ours. */
#include "idltest.h"
#include "lib/string.h"

#define REGISTRY_MAX 32

static struct {
    const char *name;
    uint64_t ep;
} entries[REGISTRY_MAX];

void registry_set(const char *name, uint64_t ep)
{
    int free_entry = -1;
    for (int i = 0; i < REGISTRY_MAX; i++) {
        if (entries[i].name && !strcmp(entries[i].name, name)) {
            entries[i].ep = ep;
            return;
        }
        if (!entries[i].name && free_entry < 0)
            free_entry = i;
    }
    if (free_entry < 0) {
        /* The test that asked fails here, rather than later for a name it never got. */
        printf("registry: full: %s not registered\n", name);
        utest_fail(__FILE__, __LINE__, "registry has room", 0, 0, 0);
        return;
    }
    entries[free_entry].name = name;
    entries[free_entry].ep = ep;
}

static long lookup(void *ctx, const char *name, uint64_t dest_slot)
{
    (void)ctx;
    for (int i = 0; i < REGISTRY_MAX; i++)
        if (entries[i].name && entries[i].ep && !strcmp(entries[i].name, name))
            return pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, dest_slot, entries[i].ep,
                                PITH_RIGHT_WRITE | PITH_RIGHT_GRANT, 0);
    return PITH_E_SLOT_EMPTY;
}

const struct pith_resolver test_registry = { .lookup = lookup, .ctx = NULL };
