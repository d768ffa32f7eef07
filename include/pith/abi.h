/*
 * The Pith kernel ABI: shared, unchanged, by the kernel and by user space.
 * Everything user space may rely on about the kernel is defined under
 * include/pith/.  docs/kernel-abi.md describes it.
 */
#ifndef PITH_ABI_H
#define PITH_ABI_H

/* Bumped on every incompatible change; the boot-info structure carries it. */
#define PITH_ABI_VERSION_MAJOR 0
#define PITH_ABI_VERSION_MINOR 4

#endif
