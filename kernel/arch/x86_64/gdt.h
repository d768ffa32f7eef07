#ifndef PITH_ARCH_GDT_H
#define PITH_ARCH_GDT_H

#define SEL_KCODE   0x08
#define SEL_KDATA   0x10
#define SEL_UDATA   0x18    /* used with RPL 3: 0x1b */
#define SEL_UCODE   0x20    /* used with RPL 3: 0x23 */
#define SEL_TSS     0x28

/* Interrupt stack table slots (1-based in the IDT, 0-based in tss_view). */
#define IST_DOUBLE_FAULT    1
#define IST_NMI             2
#define IST_MACHINE_CHECK   3
#define IST_COUNT           3

#ifndef __ASSEMBLER__
#include <stdint.h>
#include "arch/x86_64/percpu.h"

/* Where the IST stacks are, so tests and the backtrace can recognise them. */
struct tss_view {
    uint64_t ist_bottom[IST_COUNT], ist_top[IST_COUNT];
};
extern struct tss_view tss_info;

void gdt_init(unsigned cpu);
void gdt_cpu_ready(unsigned cpu);      /* once per-CPU data exists: where its TSS is */
void tss_io_allow(uint16_t first, uint16_t last, int allow);

/* The stack an interrupt from user mode lands on: the end of the thread's saved registers. */
static inline void tss_set_kernel_stack(uint64_t rsp0)
{
    *PERCPU_GET(tss_rsp0) = rsp0;
}
#endif

#endif
