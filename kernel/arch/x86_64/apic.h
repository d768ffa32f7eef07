/* The local APIC (xAPIC through MMIO, or x2APIC through MSRs) and its timer. */
#ifndef PITH_ARCH_APIC_H
#define PITH_ARCH_APIC_H

#include <stdbool.h>
#include <stdint.h>

void pic_disable(void);
void apic_init(void);
void apic_eoi(void);
bool apic_interrupt_pending(void);
unsigned apic_cpu_number(void);
uint32_t apic_id(void);
bool apic_is_x2(void);
void apic_send_nmi_self(void);

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
