/*
 * Talking to QEMU's test devices.  isa-debug-exit at port 0xF4 makes QEMU
 * exit with status (value << 1) | 1; the runner (tools/qemu-run.sh) maps
 * QEMU_EXIT_SUCCESS to success and every other status to failure.
 */
#ifndef PITH_ARCH_QEMU_H
#define PITH_ARCH_QEMU_H

#define QEMU_EXIT_PORT      0xF4
#define QEMU_EXIT_SUCCESS   0x10    /* QEMU exits with 33 */
#define QEMU_EXIT_PANIC     0x11    /* 35 */
#define QEMU_EXIT_TESTFAIL  0x12    /* 37 */

/* Exits QEMU when running under it (the debug console answers); returns
 * otherwise, and at once after the first call. */
void qemu_exit(unsigned code);

/* Ends the system cleanly: QEMU exits with success, real hardware halts. */
_Noreturn void system_shutdown(void);

#endif
