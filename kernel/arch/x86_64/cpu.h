/* Thin wrappers over x86-64 instructions: CPUID, MSRs, control registers, ports. */
#ifndef PITH_ARCH_CPU_H
#define PITH_ARCH_CPU_H

#include <stdint.h>
#include <stdbool.h>

#define MSR_APIC_BASE       0x1B
#define MSR_TSC_DEADLINE    0x6E0
#define MSR_EFER            0xC0000080
#define MSR_STAR            0xC0000081
#define MSR_LSTAR           0xC0000082
#define MSR_FMASK           0xC0000084
#define MSR_FS_BASE         0xC0000100
#define MSR_GS_BASE         0xC0000101
#define MSR_KERNEL_GS_BASE  0xC0000102
#define MSR_TSC_AUX         0xC0000103

#define EFER_SCE            (1u << 0)
#define EFER_LME            (1u << 8)
#define EFER_NXE            (1u << 11)

#define CR0_WP              (1ul << 16)
#define CR4_PGE             (1ul << 7)
#define CR4_OSFXSR          (1ul << 9)
#define CR4_SMEP            (1ul << 20)
#define CR4_SMAP            (1ul << 21)

#define RFLAGS_IF           (1ul << 9)
#define RFLAGS_AC           (1ul << 18)

struct cpuid_regs { uint32_t eax, ebx, ecx, edx; };

/* What this CPU offers, read once at boot; every leaf checked against the maximum. */
struct cpu_features {
    uint32_t max_leaf, max_ext_leaf;
    char vendor[13];
    char brand[49];
    bool nx, smep, smap, pge, pdpe1gb, x2apic, tsc_deadline, invariant_tsc, pcid, apic, rdtscp;
    uint32_t tsc_num, tsc_den, crystal_hz;  /* leaf 0x15, when present */
    uint32_t base_mhz;                      /* leaf 0x16, when present */
};

extern struct cpu_features cpu;

void cpu_detect(void);
bool cpuid_leaf(uint32_t leaf, uint32_t subleaf, struct cpuid_regs *r);

static inline void cpuid_raw(uint32_t leaf, uint32_t sub, struct cpuid_regs *r)
{
    __asm__ volatile("cpuid" : "=a"(r->eax), "=b"(r->ebx), "=c"(r->ecx), "=d"(r->edx)
                     : "a"(leaf), "c"(sub));
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static inline uint64_t rdtsc(void)
{
    /* rdtsc clears the upper halves of rax and rdx: no zero extension needed. */
    uint64_t v;
    __asm__ volatile("rdtsc\n\tshl $32, %%rdx\n\tor %%rdx, %%rax" : "=a"(v) : : "rdx");
    return v;
}

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

#define DEFINE_CR(n)                                                        \
    static inline uint64_t read_cr##n(void)                                 \
    { uint64_t v; __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v)); return v; } \
    static inline void write_cr##n(uint64_t v)                              \
    { __asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory"); }
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

static inline uint64_t read_rflags(void)
{
    uint64_t v;
    __asm__ volatile("pushfq; popq %0" : "=r"(v));
    return v;
}

static inline void irq_enable(void)  { __asm__ volatile("sti" ::: "memory"); }
static inline void irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void cpu_halt(void)    { __asm__ volatile("hlt" ::: "memory"); }
static inline void cpu_relax(void)   { __asm__ volatile("pause" ::: "memory"); }
static inline void invlpg(uintptr_t va) { __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory"); }

/* Stop this CPU for good, interrupts off. */
_Noreturn void cpu_stop(void);

#endif
