/* Exceptions are caught and reported with the right vector; NMI runs on its IST stack. */
#include "ktest.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/trap.h"

KTEST(trap_invalid_opcode)
{
    uint64_t before = last_fault.count;
    KT_EQ(probe_ud(), VEC_UD);
    KT_EQ(last_fault.count, before + 1);
    KT_EQ(last_fault.vector, VEC_UD);
    KT_EQ(last_fault.rip, (uint64_t)(uintptr_t)probe_ud);   /* ud2 is the first instruction */
}

KTEST(trap_breakpoint)
{
    KT_EQ(probe_int3(), VEC_BP);
    KT_EQ(last_fault.vector, VEC_BP);
    KT_EQ(last_fault.rip, (uint64_t)(uintptr_t)probe_int3 + 1);  /* a trap: after the int3 */
}

KTEST(trap_divide_error)
{
    KT_EQ(probe_div0(), VEC_DE);
    KT_EQ(last_fault.error, 0);
}

KTEST(trap_general_protection_has_error_code_slot)
{
    KT_EQ(probe_read((void *)0x8000000000000000ull), VEC_GP);
    KT_EQ(last_fault.vector, VEC_GP);
    KT_EQ(last_fault.error, 0);
}

KTEST(trap_probe_without_fault_returns_minus_one)
{
    static volatile uint8_t x = 5;
    uint64_t before = last_fault.count;
    KT_EQ(probe_read(&x), -1);
    KT_EQ(probe_write(&x), -1);
    KT_EQ(x, 5);
    KT_EQ(last_fault.count, before);
}

KTEST(trap_nmi_runs_on_its_ist_stack)
{
    uint64_t before = last_nmi.count;
    apic_send_nmi_self();
    for (int i = 0; i < 1000000 && last_nmi.count == before; i++)
        __asm__ volatile("pause");
    KT_EQ(last_nmi.count, before + 1);
    /* The frame the NMI pushed is on the NMI stack, not the boot stack. */
    KT_ASSERT(last_nmi.frame >= tss_info.ist_bottom[IST_NMI - 1]);
    KT_ASSERT(last_nmi.frame < tss_info.ist_top[IST_NMI - 1]);
    /* While an ordinary fault stays on the stack it happened on. */
    probe_ud();
    KT_ASSERT(last_fault.frame < last_nmi.frame - IST_STACK_SIZE || last_fault.frame > last_nmi.frame);
}

struct idt_gate_view {
    uint16_t off_lo, sel;
    uint8_t ist, type;
    uint16_t off_mid;
    uint32_t off_hi, zero;
} __attribute__((packed));

KTEST(trap_every_vector_has_a_gate)
{
    struct { uint16_t limit; uint64_t base; } __attribute__((packed)) ptr;
    __asm__ volatile("sidt %0" : "=m"(ptr));
    KT_EQ(ptr.limit, 256 * 16 - 1);
    const struct idt_gate_view *g = (const void *)ptr.base;
    for (int v = 0; v < 256; v++) {
        KT_EQ(g[v].type & 0x80, 0x80);              /* present */
        KT_EQ(g[v].sel, SEL_KCODE);
        /* DPL 0: int $n from ring 3 faults; int3 and into are for user code. */
        KT_EQ(g[v].type & 0x60, (v == VEC_BP || v == VEC_OF) ? 0x60 : 0);
    }
    KT_EQ(g[VEC_DF].ist, IST_DOUBLE_FAULT);
    KT_EQ(g[VEC_NMI].ist, IST_NMI);
    KT_EQ(g[VEC_MC].ist, IST_MACHINE_CHECK);
    KT_EQ(g[VEC_PF].ist, 0);
}
