/* The kernel log: a ring buffer plus the COM1 and debug-console sinks. */
#ifndef PITH_CORE_LOG_H
#define PITH_CORE_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/logring.h"

void log_init(void);
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char *fmt, va_list ap);
void log_write(const char *s, size_t n);

/*
 * COM1 belongs to the threads holding its I/O ports in their TCB
 * (PITH_TCB_SET_IO_PORTS): a console driver.  While one does, the log goes
 * only to the ring and the debug console.  When the last lets go (ports
 * taken away, thread deleted, range revoked) the kernel sets the UART up
 * again as at boot and writes its log there once more.  Panics write to
 * COM1 whoever holds it.
 */
void log_uart_taken(void);
void log_uart_given_back(void);

/* Panic mode: bypass the ring's users and write straight to every device. */
void log_panic_mode(void);

const struct logring *log_ring(void);
/* Command-line word logtime: each line on the debug console begins "[TSC] " (not the ring or COM1). */
void log_stamp_lines(bool on);
bool log_has_debugcon(void);

#endif
