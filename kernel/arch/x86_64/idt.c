/* The IDT: every vector goes to its isr.S stub; NMI, #DF and #MC on IST stacks. */
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/trap.h"

struct idt_gate {
    uint16_t off_lo, sel;
    uint8_t ist, type;
    uint16_t off_mid;
    uint32_t off_hi, zero;
} __attribute__((packed));

static struct idt_gate idt[256];
extern const uint64_t isr_stub_table[256];

static void set_gate(unsigned vec, uint8_t ist, uint8_t dpl)
{
    uint64_t off = isr_stub_table[vec];
    idt[vec] = (struct idt_gate){
        .off_lo = (uint16_t)off, .sel = SEL_KCODE, .ist = ist,
        .type = (uint8_t)(0x8E | (dpl << 5)),       /* present, 64-bit interrupt gate */
        .off_mid = (uint16_t)(off >> 16), .off_hi = (uint32_t)(off >> 32),
    };
}

void idt_init(void)
{
    for (unsigned v = 0; v < 256; v++)
        set_gate(v, 0, 0);
    /* int3 and into are meant for user code: their gates allow ring 3. */
    set_gate(VEC_BP, 0, 3);
    set_gate(VEC_OF, 0, 3);
    set_gate(VEC_NMI, IST_NMI, 0);
    set_gate(VEC_DF, IST_DOUBLE_FAULT, 0);
    set_gate(VEC_MC, IST_MACHINE_CHECK, 0);
    idt_load();
}

void idt_load(void)
{
    struct { uint16_t limit; uint64_t base; } __attribute__((packed)) ptr = {
        sizeof idt - 1, (uint64_t)idt,
    };
    __asm__ volatile("lidt %0" : : "m"(ptr));
}
