/* The local APIC (xAPIC through MMIO, or x2APIC through MSRs) and its timer. */
#ifndef PITH_ARCH_APIC_H
#define PITH_ARCH_APIC_H

#include <stdbool.h>
#include <stdint.h>

void pic_disable(void);
void apic_init(void);
void apic_eoi(void);
bool apic_interrupt_pending(void);
bool apic_in_service(unsigned vector);
unsigned apic_highest_in_service(void);
unsigned apic_cpu_number(void);
uint32_t apic_id(void);
bool apic_is_x2(void);
void apic_send_nmi_self(void);
void apic_init_cpu(void);                   /* each CPU's own, after apic_init on the boot CPU */
void apic_send_ipi(uint32_t apic, uint8_t vector);
void apic_send_init(uint32_t apic);
void apic_send_startup(uint32_t apic, uint32_t page);

/* The timer: calibrated at boot, then one-shot (TSC-deadline when the CPU has it). */
void apic_timer_set_hz(uint64_t hz);      /* from time.c's calibration */
void apic_timer_oneshot_ns(uint64_t ns);
void apic_timer_stop(void);
uint64_t apic_timer_hz(void);
bool apic_timer_uses_deadline(void);

/* Raw counter access for calibration. */
void apic_timer_start_count(void);
uint32_t apic_timer_current(void);

#endif
