/*
 * Multiprocessor start-up: the boot CPU starts every other CPU the ACPI
 * MADT lists (INIT, then two Startup IPIs pointing at a trampoline below
 * 1 MiB); each runs ap_main, sets itself up like the boot CPU did, and
 * joins the scheduler.  CPUs are numbered 0 (boot) .. smp_ncpus - 1.
 */
#ifndef PITH_ARCH_SMP_H
#define PITH_ARCH_SMP_H

#define SMP_MAX_CPUS        32
#define SMP_TRAMPOLINE      0x8000      /* physical; below 1 MiB, page-aligned */

#ifndef __ASSEMBLER__
#include <stdint.h>

extern unsigned smp_ncpus;                  /* CPUs online */
extern uint32_t smp_apic_ids[SMP_MAX_CPUS]; /* local APIC ID of each CPU number */

void smp_start_aps(void);
unsigned smp_cpu_of_apic(uint32_t apic_id);
#endif

#endif
