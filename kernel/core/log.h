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
 * The user-level console driver calls this (through a later system call)
 * when it takes COM1: from then on the log goes only to the ring and the
 * debug console.  Panics still write to COM1, polled.
 */
void log_release_uart(void);

/* Panic mode: bypass the ring's users and write straight to every device. */
void log_panic_mode(void);

const struct logring *log_ring(void);
bool log_has_debugcon(void);

#endif
