/*
 * GDT and TSS, one of each per CPU.  The selector order suits SYSCALL/SYSRET
 * (kernel code, kernel data, then user data before user code).  The TSS
 * gives the double fault, NMI and machine check their own stacks (IST), so
 * they run even when the kernel stack is exhausted or in an unknown state;
 * its I/O bitmap is per CPU too.
 */
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/smp.h"
#include "lib/string.h"

/*
 * The TSS with a full I/O permission bitmap (one bit per port, 1 = denied)
 * and the trailing 0xFF byte the CPU may read past the last port.
 */
struct tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
    uint8_t iomap[8192];
    uint8_t iomap_end;
} __attribute__((packed));

static uint64_t gdts[SMP_MAX_CPUS][7];
static struct tss tsses[SMP_MAX_CPUS];
static uint8_t ist_stacks[SMP_MAX_CPUS][IST_COUNT][IST_STACK_SIZE] __attribute__((aligned(16)));

struct tss_view tss_info;               /* the boot CPU's */

static struct tss *this_tss(void)
{
    return &tsses[this_cpu()->cpu_number];
}

static void set_tss_descriptor(uint64_t *slot, uint64_t base, uint32_t limit)
{
    slot[0] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40)
            | ((uint64_t)((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    slot[1] = base >> 32;
}

void gdt_init(unsigned cpu)
{
    uint64_t *gdt = gdts[cpu];
    struct tss *tss = &tsses[cpu];
    gdt[0] = 0;
    gdt[SEL_KCODE >> 3] = 0x00209A0000000000ull;    /* present, ring 0, code, long mode */
    gdt[SEL_KDATA >> 3] = 0x0000920000000000ull;    /* present, ring 0, data */
    gdt[SEL_UDATA >> 3] = 0x0000F20000000000ull;    /* present, ring 3, data */
    gdt[SEL_UCODE >> 3] = 0x0020FA0000000000ull;    /* present, ring 3, code, long mode */

    memset(tss, 0, sizeof *tss);
    for (int i = 0; i < IST_COUNT; i++) {
        tss->ist[i] = (uint64_t)&ist_stacks[cpu][i][IST_STACK_SIZE];
        if (cpu == 0) {
            tss_info.ist_bottom[i] = (uint64_t)&ist_stacks[cpu][i][0];
            tss_info.ist_top[i] = tss->ist[i];
        }
    }
    tss->iomap_base = __builtin_offsetof(struct tss, iomap);
    memset(tss->iomap, 0xff, sizeof tss->iomap);    /* every port denied in ring 3 */
    tss->iomap_end = 0xff;
    set_tss_descriptor(&gdt[SEL_TSS >> 3], (uint64_t)tss, sizeof *tss - 1);

    struct { uint16_t limit; uint64_t base; } __attribute__((packed)) ptr = {
        sizeof gdts[cpu] - 1, (uint64_t)gdt,
    };
    __asm__ volatile(
        "lgdt %0\n\t"
        "pushq %1\n\t"
        "leaq 1f(%%rip), %%rax\n\t"
        "pushq %%rax\n\t"
        "lretq\n"
        "1:\n\t"
        "movw %w2, %%ax\n\t"
        "movw %%ax, %%ds\n\t"
        "movw %%ax, %%es\n\t"
        "movw %%ax, %%ss\n\t"
        "xorl %%eax, %%eax\n\t"
        "movw %%ax, %%fs\n\t"
        "movw %%ax, %%gs\n\t"
        "ltr %w3\n\t"
        : : "m"(ptr), "i"((uint64_t)SEL_KCODE), "r"((uint32_t)SEL_KDATA), "r"((uint32_t)SEL_TSS)
        : "rax", "memory");
}

void gdt_cpu_ready(unsigned cpu)
{
    percpu_of(cpu)->tss_rsp0 = (void *)((uint8_t *)&tsses[cpu] + __builtin_offsetof(struct tss, rsp));
}

/* Allows (or denies again) ports first..last in ring 3 on this CPU. */
static void io_bit(struct tss *tss, uint32_t p, int allow)
{
    if (allow)
        tss->iomap[p / 8] &= (uint8_t)~(1u << (p % 8));
    else
        tss->iomap[p / 8] |= (uint8_t)(1u << (p % 8));
}

/*
 * Bit by bit up to a byte boundary, whole bytes through the middle, bit
 * by bit after: the PCI server's range is 62,000 ports, rewritten on
 * every switch to or from it (a bit at a time, over a million
 * instructions a switch).
 */
void tss_io_allow(uint16_t first, uint16_t last, int allow)
{
    struct tss *tss = this_tss();
    uint32_t p = first, end = (uint32_t)last + 1;
    for (; p < end && p % 8; p++)
        io_bit(tss, p, allow);
    uint32_t bytes = (end - p) / 8;
    if (bytes) {
        memset(&tss->iomap[p / 8], allow ? 0 : 0xff, bytes);
        p += bytes * 8;
    }
    for (; p < end; p++)
        io_bit(tss, p, allow);
}
