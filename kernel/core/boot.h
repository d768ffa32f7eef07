/* What the boot loader told us, in the kernel's own terms (filled by arch/x86_64/multiboot.c). */
#ifndef PITH_CORE_BOOT_H
#define PITH_CORE_BOOT_H

#include <stdint.h>
#include "mm/physmem.h"

#define BOOT_MAX_MODULES    32
#define BOOT_NAME_MAX       64
#define BOOT_CMDLINE_MAX    256

struct boot_module {
    uint64_t start, end;                /* physical, [start, end) */
    char name[BOOT_NAME_MAX];
};

struct boot_params {
    char loader[BOOT_NAME_MAX];
    char cmdline[BOOT_CMDLINE_MAX];
    struct boot_module mod[BOOT_MAX_MODULES];
    int nmod;
    struct physmem mem;                 /* free memory, shrinks as the kernel takes pages */
    struct phys_range ram[PHYSMEM_MAX_RANGES];  /* every RAM or firmware range in the map */
    int nram;
    uint64_t ram_bytes;                 /* usable RAM in the loader's map */
    uint64_t phys_top;                  /* end of the highest RAM or firmware range */
};

extern struct boot_params boot;

/* The C entry point, called from boot.S on the boot stack in 64-bit mode. */
void kmain(uint32_t magic, uint64_t info_phys);

void multiboot_parse(uint32_t magic, uint64_t info_phys);

/* Command-line words: "key" or "key=value" (cmdline.c). */
const char *cmdline_get(const char *key);
int cmdline_has(const char *key);
int cmdline_is(const char *key, const char *value);

#endif
