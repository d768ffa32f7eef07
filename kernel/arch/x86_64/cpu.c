/* CPU feature detection.  Every leaf is checked against the highest one the CPU reports. */
#include "arch/x86_64/cpu.h"
#include "lib/string.h"

struct cpu_features cpu;

bool cpuid_leaf(uint32_t leaf, uint32_t subleaf, struct cpuid_regs *r)
{
    uint32_t max = leaf >= 0x80000000u ? cpu.max_ext_leaf : cpu.max_leaf;
    if (leaf > max) {
        memset(r, 0, sizeof *r);
        return false;
    }
    cpuid_raw(leaf, subleaf, r);
    return true;
}

static void read_brand(void)
{
    struct cpuid_regs r;
    char *p = cpu.brand;
    for (uint32_t leaf = 0x80000002u; leaf <= 0x80000004u; leaf++) {
        if (!cpuid_leaf(leaf, 0, &r))
            return;
        memcpy(p, &r, 16);
        p += 16;
    }
    cpu.brand[48] = 0;
}

void cpu_detect(void)
{
    struct cpuid_regs r;

    cpuid_raw(0, 0, &r);
    cpu.max_leaf = r.eax;
    memcpy(cpu.vendor + 0, &r.ebx, 4);
    memcpy(cpu.vendor + 4, &r.edx, 4);
    memcpy(cpu.vendor + 8, &r.ecx, 4);
    cpu.vendor[12] = 0;
    cpuid_raw(0x80000000u, 0, &r);
    cpu.max_ext_leaf = r.eax >= 0x80000000u ? r.eax : 0;

    if (cpuid_leaf(1, 0, &r)) {
        cpu.apic = r.edx & (1u << 9);
        cpu.pge = r.edx & (1u << 13);
        cpu.pcid = r.ecx & (1u << 17);
        cpu.x2apic = r.ecx & (1u << 21);
        cpu.tsc_deadline = r.ecx & (1u << 24);
    }
    if (cpuid_leaf(7, 0, &r)) {
        cpu.smep = r.ebx & (1u << 7);
        cpu.smap = r.ebx & (1u << 20);
    }
    if (cpuid_leaf(0x15, 0, &r)) {
        cpu.tsc_den = r.eax;
        cpu.tsc_num = r.ebx;
        cpu.crystal_hz = r.ecx;
    }
    if (cpuid_leaf(0x16, 0, &r))
        cpu.base_mhz = r.eax & 0xffff;
    if (cpuid_leaf(0x80000001u, 0, &r)) {
        cpu.nx = r.edx & (1u << 20);
        cpu.pdpe1gb = r.edx & (1u << 26);
        cpu.rdtscp = r.edx & (1u << 27);
    }
    if (cpuid_leaf(0x80000007u, 0, &r))
        cpu.invariant_tsc = r.edx & (1u << 8);
    read_brand();
}

_Noreturn void cpu_stop(void)
{
    for (;;) {
        irq_disable();
        cpu_halt();
    }
}
