/*
 * init: the first user task.  For now it reports what the kernel handed
 * it and waits; starting servers from a boot manifest comes with the base
 * system.
 */
#include "pith.h"

int main(void)
{
    const struct pith_bootinfo *bi = pith_bootinfo;
    uint64_t ram = 0, device = 0;
    for (uint64_t i = 0; i < bi->untyped.count; i++) {
        if (bi->untyped_list[i].is_device)
            device += 1ull << bi->untyped_list[i].size_bits;
        else
            ram += 1ull << bi->untyped_list[i].size_bits;
    }
    printf("init: ABI %u.%u, %lu MiB of memory and %lu MiB of device space as untyped (%lu blocks), "
           "%lu modules, %lu I/O-port ranges, %lu interrupt lines, %lu free slots\n",
           bi->abi_major, bi->abi_minor, ram >> 20, device >> 20, bi->untyped.count, bi->nmodules,
           bi->io_ports.count, bi->irq_lines, bi->empty.count);
    for (uint64_t i = 0; i < bi->nmodules; i++)
        printf("init: module %s, %lu bytes\n", bi->modules[i].name, bi->modules[i].size);
    printf("init: nothing more to start yet; waiting\n");
    for (;;)
        pith_sleep_ns(1000000000000ull);
}
