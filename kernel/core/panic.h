/* Panic: report, backtrace, stop.  QEMU exits with a failure status. */
#ifndef PITH_CORE_PANIC_H
#define PITH_CORE_PANIC_H

#include <stdint.h>

_Noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* For a caller that already printed the register dump and backtrace (trap.c). */
_Noreturn void panic_after_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "  #n  0x... function+0xoff" lines, walking saved frame pointers from rbp. */
void backtrace_print(uint64_t rip, uint64_t rbp);

/* Where the kernel's invariants are checked in every build. */
#define KASSERT(cond)                                                       \
    do {                                                                    \
        if (!(cond))                                                        \
            panic("assertion failed: %s (%s:%d)", #cond, __FILE__, __LINE__); \
    } while (0)

#endif
