/*
 * The boot modules, mapped read-only into init once at start, so that
 * programs can be loaded from them (and the manifest read) by name.
 */
#include "init.h"

#include <string.h>

#define MODULES_VA 0x700000000ull

static const void *module_at[PITH_BOOTINFO_MAX_MODULES];

void modules_map(void)
{
    const struct pith_bootinfo *bi = pith_bootinfo;
    uint64_t va = MODULES_VA;
    for (uint64_t i = 0; i < bi->nmodules; i++) {
        module_at[i] = (const void *)va;
        uint64_t pages = bi->modules[i].frames.count;
        if (pith_map_frames(PITH_SLOT_VSPACE, PITH_SLOT_CSPACE, bi->modules[i].frames.first_slot, va, pages,
                            PITH_RIGHT_READ, 0)) {
            printf("init: cannot map module %s\n", bi->modules[i].name);
            module_at[i] = NULL;
        }
        va += pages * 4096;
    }
}

const void *module_find(const char *name, uint64_t *size)
{
    const struct pith_bootinfo *bi = pith_bootinfo;
    for (uint64_t i = 0; i < bi->nmodules; i++)
        if (!strcmp(bi->modules[i].name, name) && module_at[i]) {
            *size = bi->modules[i].size;
            return module_at[i];
        }
    return NULL;
}

/* A module's place in the boot information: its key when init serves it as a mapper (mapper.c); -1 if none. */
int module_key(const char *name)
{
    const struct pith_bootinfo *bi = pith_bootinfo;
    for (uint64_t i = 0; i < bi->nmodules; i++)
        if (!strcmp(bi->modules[i].name, name) && module_at[i])
            return (int)i;
    return -1;
}

const void *module_of_key(uint64_t key, uint64_t *size)
{
    if (key >= pith_bootinfo->nmodules || !module_at[key])
        return NULL;
    *size = pith_bootinfo->modules[key].size;
    return module_at[key];
}
