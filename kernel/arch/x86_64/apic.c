/*
 * The local APIC.  x2APIC (MSR access) and TSC-deadline are used when the
 * CPU has them; the xAPIC MMIO path with the count-down timer is the one
 * QEMU's TCG exercises, so it is the tested one.
 */
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/time.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/smp.h"
#include "core/panic.h"

enum {
    REG_ID = 0x20, REG_EOI = 0xB0, REG_SVR = 0xF0, REG_ICR_LO = 0x300, REG_ICR_HI = 0x310,
    REG_LVT_TIMER = 0x320, REG_TIMER_INIT = 0x380, REG_TIMER_CUR = 0x390, REG_TIMER_DIV = 0x3E0,
};

#define APIC_BASE_EN        (1ull << 11)
#define APIC_BASE_X2        (1ull << 10)
#define SVR_ENABLE          (1u << 8)
#define LVT_MASKED          (1u << 16)
#define LVT_TSC_DEADLINE    (2u << 17)
#define ICR_NMI             (4u << 8)
#define ICR_INIT            (5u << 8)
#define ICR_STARTUP         (6u << 8)
#define ICR_PENDING         (1u << 12)
#define ICR_ASSERT          (1u << 14)
#define ICR_LEVEL           (1u << 15)
#define TIMER_DIV_16        0x3

static volatile uint32_t *mmio;
static bool x2;
static bool ready;
static bool deadline_mode;
static uint64_t timer_hz;               /* count-down ticks per second (after the divider) */

static uint32_t rd(uint32_t reg)
{
    return x2 ? (uint32_t)rdmsr(0x800 + (reg >> 4)) : mmio[reg / 4];
}

static void wr(uint32_t reg, uint32_t v)
{
    if (x2)
        wrmsr(0x800 + (reg >> 4), v);
    else
        mmio[reg / 4] = v;
}

/* The 8259 PICs: remapped away from the exception vectors, then fully masked. */
void pic_disable(void)
{
    outb(0x20, 0x11); outb(0xA0, 0x11);     /* ICW1: init, ICW4 follows */
    outb(0x21, 0xF0); outb(0xA1, 0xF8);     /* ICW2: vectors 0xF0..0xFF */
    outb(0x21, 0x04); outb(0xA1, 0x02);     /* ICW3: cascade on IRQ2 */
    outb(0x21, 0x01); outb(0xA1, 0x01);     /* ICW4: 8086 mode */
    outb(0x21, 0xFF); outb(0xA1, 0xFF);     /* mask everything */
}

void apic_init(void)
{
    if (!cpu.apic)
        panic("apic: this CPU has no local APIC");
    uint64_t base = rdmsr(MSR_APIC_BASE);
    x2 = cpu.x2apic;
    if (x2) {
        wrmsr(MSR_APIC_BASE, base | APIC_BASE_EN | APIC_BASE_X2);
    } else {
        wrmsr(MSR_APIC_BASE, base | APIC_BASE_EN);
        mmio = paging_map_mmio(base & 0xFFFFF000u, PAGE_SIZE);
    }
    deadline_mode = cpu.tsc_deadline;
    ready = true;
    apic_init_cpu();
}

/* Each CPU's own local APIC: enabled, in the mode the boot CPU chose, timer masked. */
void apic_init_cpu(void)
{
    uint64_t base = rdmsr(MSR_APIC_BASE);
    wrmsr(MSR_APIC_BASE, base | APIC_BASE_EN | (x2 ? APIC_BASE_X2 : 0));
    wr(REG_SVR, SVR_ENABLE | VEC_SPURIOUS);
    wr(REG_LVT_TIMER, LVT_MASKED | VEC_APIC_TIMER);
}

bool apic_is_x2(void) { return x2; }

uint32_t apic_id(void)
{
    if (!ready)
        return 0;
    return x2 ? rd(REG_ID) : rd(REG_ID) >> 24;
}

/* By the APIC ID, so it works before per-CPU data does (panics, early faults). */
unsigned apic_cpu_number(void)
{
    return smp_cpu_of_apic(apic_id());
}


/* Is any interrupt waiting to be delivered (IRR bits for vectors 32-255)? */
bool apic_interrupt_pending(void)
{
    if (!ready)
        return false;
    for (uint32_t i = 1; i < 8; i++)
        if (rd(0x200 + i * 0x10))
            return true;
    return false;
}

/* Is `vector` in service here: taken by this CPU and not acknowledged yet (its ISR bit)? */
bool apic_in_service(unsigned vector)
{
    if (!ready || vector > 255)
        return false;
    return rd(0x100 + (vector / 32) * 0x10) & (1u << (vector % 32));
}

/* The highest vector in service here (32-255), or 0 if none is. */
unsigned apic_highest_in_service(void)
{
    if (!ready)
        return 0;
    for (uint32_t i = 7; i >= 1; i--) {
        uint32_t isr = rd(0x100 + i * 0x10);
        if (isr)
            return i * 32 + 31 - (unsigned)__builtin_clz(isr);
    }
    return 0;
}

void apic_eoi(void)
{
    if (ready)
        wr(REG_EOI, 0);
}

/* One interprocessor interrupt; the xAPIC's is sent once its pending bit clears. */
static void send_icr(uint32_t apic, uint32_t command)
{
    if (x2) {
        wrmsr(0x830, ((uint64_t)apic << 32) | command);
        return;
    }
    wr(REG_ICR_HI, apic << 24);
    wr(REG_ICR_LO, command);
    for (int i = 0; i < 1000000 && (rd(REG_ICR_LO) & ICR_PENDING); i++)
        cpu_relax();
}

void apic_send_nmi_self(void)
{
    send_icr(apic_id(), ICR_NMI);
}

void apic_send_ipi(uint32_t apic, uint8_t vector)
{
    send_icr(apic, vector);
}

/* The start-up sequence's two messages (Intel SDM vol. 3, "MP initialization"). */
void apic_send_init(uint32_t apic)
{
    send_icr(apic, ICR_INIT | ICR_ASSERT | ICR_LEVEL);
}

void apic_send_startup(uint32_t apic, uint32_t page)
{
    send_icr(apic, ICR_STARTUP | ICR_ASSERT | (page >> 12));
}

/* Calibration: a count-down from the maximum while time.c watches the PIT. */
void apic_timer_start_count(void)
{
    wr(REG_TIMER_DIV, TIMER_DIV_16);
    wr(REG_LVT_TIMER, LVT_MASKED | VEC_APIC_TIMER);
    wr(REG_TIMER_INIT, 0xFFFFFFFFu);
}

uint32_t apic_timer_current(void)
{
    return rd(REG_TIMER_CUR);
}

void apic_timer_set_hz(uint64_t hz)
{
    if (hz == 0)
        panic("apic: timer calibration measured nothing");
    timer_hz = hz;
    wr(REG_TIMER_INIT, 0);
}

uint64_t apic_timer_hz(void) { return timer_hz; }
bool apic_timer_uses_deadline(void) { return deadline_mode; }

void apic_timer_oneshot_ns(uint64_t ns)
{
    if (deadline_mode) {
        wr(REG_LVT_TIMER, LVT_TSC_DEADLINE | VEC_APIC_TIMER);
        wrmsr(MSR_TSC_DEADLINE, rdtsc() + ns_to_tsc(ns));
        return;
    }
    /* One-shot count-down; a delay past the 32-bit counter fires early and the caller re-arms. */
    uint64_t ticks = ns * (timer_hz / 1000) / 1000000;
    if (ticks == 0)
        ticks = 1;
    if (ticks > 0xFFFFFFFFu)
        ticks = 0xFFFFFFFFu;
    wr(REG_TIMER_DIV, TIMER_DIV_16);
    wr(REG_LVT_TIMER, VEC_APIC_TIMER);
    wr(REG_TIMER_INIT, (uint32_t)ticks);
}

void apic_timer_stop(void)
{
    if (deadline_mode)
        wrmsr(MSR_TSC_DEADLINE, 0);
    else
        wr(REG_TIMER_INIT, 0);
    wr(REG_LVT_TIMER, LVT_MASKED | VEC_APIC_TIMER);
}
