/*
 * libpith: system-call stubs and start-up for native Pith programs.  Each
 * stub is one SYSCALL with the register convention of
 * include/pith/syscall.h.  The C library beneath programs is lib/libc/
 * (docs/runtime.md).
 */
#ifndef LIBPITH_PITH_H
#define LIBPITH_PITH_H

#include <stddef.h>
#include <stdint.h>
#include <pith/bootinfo.h>
#include <pith/errors.h>
#include <pith/invocation.h>
#include <pith/ipc_buffer.h>
#include <pith/objects.h>
#include <pith/syscall.h>
#include <pith/time.h>

/*
 * Every SYSCALL instruction in a native program is written with this
 * macro: it records the instruction's address in the non-loaded section
 * .pith.syscalls, and tools/check-syscalls.sh fails the build if a linked
 * program holds a SYSCALL (or SYSENTER, or INT 0x80) not recorded there, so
 * nothing from the C library can issue a Linux system call by accident.
 */
#define PITH_SYSCALL_INSN                                                   \
    "881: syscall\n\t"                                                     \
    ".pushsection .pith.syscalls, \"\", @progbits\n\t"                     \
    ".quad 881b\n\t"                                                       \
    ".popsection\n\t"

/* A message: tag and the four register words; badge on receive. */
struct pith_msg {
    uint64_t tag;
    uint64_t w[PITH_MSG_REGS];
    uint64_t badge;
};

static inline long pith_syscall_timed(long nr, uint64_t slot, struct pith_msg *m, uint64_t reply,
                                      uint64_t timeout_ns)
{
    register uint64_t rax __asm__("rax") = (uint64_t)nr;
    register uint64_t rdi __asm__("rdi") = slot;
    register uint64_t rsi __asm__("rsi") = m->tag;
    register uint64_t rdx __asm__("rdx") = m->w[0];
    register uint64_t r10 __asm__("r10") = m->w[1];
    register uint64_t r8 __asm__("r8") = m->w[2];
    register uint64_t r9 __asm__("r9") = m->w[3];
    register uint64_t r12 __asm__("r12") = reply;
    register uint64_t r13 __asm__("r13") = timeout_ns;
    __asm__ volatile(PITH_SYSCALL_INSN
                     : "+r"(rax), "+r"(rdi), "+r"(rsi), "+r"(rdx), "+r"(r10), "+r"(r8), "+r"(r9)
                     : "r"(r12), "r"(r13)
                     : "rcx", "r11", "memory");
    m->badge = rdi;
    m->tag = rsi;
    m->w[0] = rdx;
    m->w[1] = r10;
    m->w[2] = r8;
    m->w[3] = r9;
    return (long)rax;
}

/* Every Pith system call: the timeout register is simply 0 for the untimed ones. */
static inline long pith_syscall(long nr, uint64_t slot, struct pith_msg *m, uint64_t reply)
{
    return pith_syscall_timed(nr, slot, m, reply, 0);
}

/* Invoke a kernel object: label and up to four words; results come back in *m. */
static inline long pith_invoke(uint64_t slot, uint64_t label, struct pith_msg *m)
{
    m->tag = PITH_TAG(label, PITH_MSG_REGS);
    return pith_syscall(PITH_SYS_CALL, slot, m, 0);
}

static inline long pith_invoke4(uint64_t slot, uint64_t label, uint64_t a, uint64_t b,
                                uint64_t c, uint64_t d)
{
    struct pith_msg m = { .w = { a, b, c, d } };
    return pith_invoke(slot, label, &m);
}

static inline long pith_call(uint64_t ep, struct pith_msg *m) { return pith_syscall(PITH_SYS_CALL, ep, m, 0); }
static inline long pith_send(uint64_t ep, struct pith_msg *m) { return pith_syscall(PITH_SYS_SEND, ep, m, 0); }
static inline long pith_nbsend(uint64_t ep, struct pith_msg *m) { return pith_syscall(PITH_SYS_NBSEND, ep, m, 0); }
static inline long pith_recv(uint64_t ep, struct pith_msg *m, uint64_t reply) { return pith_syscall(PITH_SYS_RECV, ep, m, reply); }
static inline long pith_nbrecv(uint64_t ep, struct pith_msg *m, uint64_t reply) { return pith_syscall(PITH_SYS_NBRECV, ep, m, reply); }
static inline long pith_reply_recv(uint64_t ep, struct pith_msg *m, uint64_t reply) { return pith_syscall(PITH_SYS_REPLY_RECV, ep, m, reply); }

static inline long pith_yield(void)
{
    struct pith_msg m = { 0 };
    return pith_syscall(PITH_SYS_YIELD, 0, &m, 0);
}

static inline long pith_sleep_ns(uint64_t ns)
{
    struct pith_msg m = { 0 };
    return pith_syscall(PITH_SYS_SLEEP, ns, &m, 0);
}

static inline long pith_signal(uint64_t ntfn)
{
    struct pith_msg m = { 0 };
    return pith_syscall(PITH_SYS_SEND, ntfn, &m, 0);
}

static inline uint64_t pith_rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* The CPU this thread runs on now: the kernel keeps its number in TSC_AUX, which RDTSCP reads. */
static inline unsigned pith_cpu_number(void)
{
    uint32_t lo, hi, aux;
    __asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
    (void)lo;
    (void)hi;
    return aux;
}

/* The monotonic clock in nanoseconds, read from the time page without a system call. */
static inline uint64_t pith_clock_ns(const struct pith_time_page *t)
{
    return pith_time_ns(t, pith_rdtsc());
}

/* ---- the runtime (runtime.c, log.c) ---- */

extern const struct pith_bootinfo *pith_bootinfo;

/*
 * Memory the runtime carves for itself at start-up from the biggest
 * untyped block: one child untyped for its kernel objects (threads,
 * notifications, page tables, stacks) and one for the heap's pages.
 */
#define PITH_RUNTIME_OBJECTS_BITS 22    /* 4 MiB */
#define PITH_RUNTIME_HEAP_BITS    22    /* 4 MiB: a page costs a capability slot */

/* Formatted output to the kernel log (lib/libc/stdio.c); long output is split, never cut. */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Raw bytes to the kernel log, from any thread with an IPC buffer. */
void pith_log_write(const char *s, size_t n);
void puts_log(const char *s);

/* Ends the system (init only: needs the log capability). */
_Noreturn void pith_shutdown(int success);

/* Ends the task: init shuts the system down with the verdict (status 0: success). */
_Noreturn void pith_end_task(int status);

/* Slot allocator over the boot-info's free range (thread-safe). */
uint64_t pith_slot_alloc(void);
/* n consecutive free slots; returns the first. */
uint64_t pith_slot_alloc_range(uint64_t n);

/*
 * Notes every slot pith_slot_alloc hands the calling thread (up to max of
 * them) until pith_slot_log_end, which returns how many it handed out
 * (more than max: the rest were not noted).  For code that must learn
 * which slots a library call took, to reuse them later.
 */
void pith_slot_log_begin(uint64_t *slots, uint32_t max);
uint32_t pith_slot_log_end(void);

/* Gives back an empty slot for pith_slot_alloc to hand out again. */
void pith_slot_free(uint64_t slot);

/* How many slots pith_slot_alloc can still hand out. */
uint64_t pith_slots_left(void);

/* The slot of the largest block of untyped RAM (not device memory) init was given. */
uint64_t pith_biggest_untyped(void);

/*
 * A child untyped of 2^bits bytes into cnode's slot, from the smallest of
 * the boot information's blocks of RAM that has room (leaving the big ones
 * whole); PITH_E_NO_MEMORY if none has.
 */
long pith_untyped_carve(uint32_t bits, uint64_t cnode, uint64_t slot);

/* One object from an untyped into a new slot; 0 if the untyped has no room. */
uint64_t pith_retype(uint64_t untyped, uint8_t type, uint32_t bits);

/*
 * count objects from an untyped (0: the runtime's) into new consecutive
 * slots in one invocation: the first slot, or 0 if the untyped has no
 * room for them all (then nothing is made and the slots are given back).
 */
uint64_t pith_retype_range(uint64_t untyped, uint8_t type, uint32_t bits, uint64_t count);

/* One object from the runtime's own untyped; 0 if it has no room. */
uint64_t pith_object_new(uint8_t type, uint32_t bits);

/* Maps a frame at va in our address space, page tables from untyped (0: the
 * runtime's); returns an error code. */
int pith_map_page(uint64_t frame, uint64_t va, uint8_t rights, uint64_t untyped);

/*
 * Maps the count frames of slots first.. of cnode (a CNode of ours) at va
 * in vspace, the capabilities themselves (PITH_VSPACE_MAP_FRAMES): one
 * invocation per run within a 2 MiB region, missing page tables made from
 * untyped (0: the runtime's) into new slots of ours.  Returns an error code.
 */
int pith_map_frames(uint64_t vspace, uint64_t cnode, uint64_t first, uint64_t va, uint64_t count,
                    uint8_t rights, uint64_t untyped);

/*
 * Seconds since 1970 from the CMOS real-time clock (rtc.c); the calling
 * thread must hold ports 0x70-0x71.  PITH_E_INVALID_ARG if the clock
 * reads nonsense.
 */
long pith_rtc_seconds(uint64_t *seconds);

int main(void);

#endif
