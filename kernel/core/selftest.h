/*
 * Boot-time self tests, chosen on the kernel command line:
 *   test                  run the kernel's in-system tests (tests/kernel/); then the
 *                         first module (the user-level suite) runs as init and ends the run
 *   selftest=panic        panic on purpose (the runner checks the report)
 *   selftest=fault        a kernel page fault: register dump, backtrace, panic
 *   selftest=doublefault  overflow the kernel stack: #DF on its IST stack
 *   selftest=shutdown     clean shutdown (QEMU exits with success)
 */
#ifndef PITH_CORE_SELFTEST_H
#define PITH_CORE_SELFTEST_H

void selftest_run_from_cmdline(void);

#endif
