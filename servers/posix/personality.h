/*
 * The POSIX personality (docs/posix.md): one server thread serves both
 * its protocol (posix.idl: spawn, wait) and the Linux system calls of the
 * processes it runs, which reach it as fault messages on the same
 * endpoint, badged with the process.  So there are no locks: one request
 * at a time, like the file server.
 */
#ifndef POSIX_PERSONALITY_H
#define POSIX_PERSONALITY_H

#include "idl.h"
#include "pith.h"
#include "slots.h"

#include <pith/fault.h>

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <stdint.h>

#define LPROC_MAX     16                /* processes at once, at most (memory permitting) */
#define CHUNK_BITS    19                /* our memory for processes: untypeds of 512 KiB, taken as a process grows */
#define CHUNK_MAX     128               /* chunks in all */
#define PROC_CHUNKS   96                /* chunks one process may hold: 48 MiB */
#define REGION_MAX    256
#define FD_MAX        64
#define PAGE          ((uint64_t)4096)
#define SHARED_PAGES  12288             /* the pool of shared pages holds this many at most (shared.c): 48 MiB */
#define FAULT_BADGE   (1ull << 40)      /* + process slot; clients of the protocol have small badges */
#define THREAD_BADGE  (FAULT_BADGE + LPROC_MAX)   /* + thread index (threads.c) */
#define TTY_BADGE     (1ull << 41)      /* our console reader thread (tty.c) */

/* The Linux address space. */
#define STACK_TOP     0x7f7fff000000ull /* 16 MiB below 0x7f8000000000, where a VSpace keeps its ASID */
#define STACK_PAGES   64                /* 256 KiB at most, made on demand below the first pages */
#define STACK_INITIAL 4                 /* the pages made at the start (the arguments, the first frames) */
#define MMAP_BASE     0x7e0000000000ull /* mmap places regions upwards from here */
#define BRK_MAX       (64ull << 20)     /* how far the heap may grow (the memory runs out first) */
/* The vDSO (vdso.c): its data page, then its image, 64 KiB below the stack's reserve (the stack's page table). */
#define VDSO_PAGES    2
#define VDSO_BASE     (STACK_TOP - STACK_PAGES * PAGE - 0x10000)
/*
 * Our aliases of each process's pages: 512 GiB of our address space per
 * process slot, one top-level entry each, so that every page table under
 * it is made from that process's memory and goes with it, touching no
 * other process's aliases.
 */
#define ALIAS_BASE    0x100000000000ull
#define ALIAS_SPAN    0x8000000000ull

enum region_kind { R_IMAGE, R_BRK, R_STACK, R_MMAP };

/* A run of pages mapped in the process, each also mapped in ours (at alias + offset). */
struct region {
    uint64_t start, end;                /* Linux addresses, page-aligned; end exclusive */
    uint64_t origin;                    /* the start when it was mapped (a split keeps it) */
    uint64_t alias;                     /* where our mapping of origin is */
    uint32_t slot, span;                /* page i from origin: our capability in slot + i, its in slot + span + i;
                                           slot + i's alias is alias + i pages (memory.c: region_make) */
    uint8_t rights;                     /* PITH_RIGHT_* of the process's mapping */
    uint8_t prot;                       /* PROT_* as the program asked (mprotect records) */
    uint8_t kind;
    bool used;
    uint64_t src;                       /* a shared image's or the pool's pages: our slot of origin's frame (0: its own pages) */
    bool shared;                        /* src is the pool's (shared.c): counted */
    bool cow;                           /* and private: shared copy-on-write with forks (memory.c) */
    bool writable;                      /* cow: some page of the pool mapped writable in the process */
    bool unaliased;                     /* cow: our aliases not made yet (memory.c: alias_ready) */
};

enum fd_kind { FD_NONE, FD_CONSOLE, FD_FILE, FD_DIR, FD_NULL, FD_PIPE_R, FD_PIPE_W, FD_PROCDIR, FD_PROCFILE, FD_SOCKET,
               FD_EPOLL, FD_UNIX };

/* An open file description (shared by dup). */
struct ofile {
    int refs;
    uint8_t kind;
    uint32_t ino, gen, flags;           /* O_* flags (access mode, O_APPEND, O_NONBLOCK) */
    int pipe;                           /* pipes: which (pipe.c) */
    uint64_t pos;                       /* files: byte offset; directories: readdir cookie */
                                        /* (sockets: ino is the network server's socket number;
                                         * AF_UNIX ones: unix.c's socket) */
                                        /* (epoll instances: ino is the instance, epoll.c) */
    uint32_t moves;                     /* sockets: calls on it (epoll's edges; a pipe's are pipe_moves) */
    char path[256];
    bool unlinked;                      /* files: unlinked while open, now path in /.unlinked (paths.c) */
};

struct fd {
    struct ofile *of;
    bool cloexec;
};

struct sigact {
    uint64_t handler, flags, restorer, mask;
};

enum lproc_state { LP_FREE, LP_RUNNING, LP_ENDED };

/* Chunks of memory held by a process or a shared image; revoked together when it goes. */
struct chunks {
    uint64_t untyped;                   /* the chunk objects are made from now */
    uint8_t chunk[PROC_CHUNKS];         /* indices of the chunks held */
    int n;
    int elsewhere;                      /* a process's pool pages, in chunks (rounded up): n + this <= PROC_CHUNKS */
};

/*
 * A process.  Some fields are its thread's: those threads.c swaps in for
 * the thread served or visited (the TCB, TLS bases, mask, the call's
 * registers, and each kind of kept answer's place: sleeper, wait_*,
 * pipe_*, held_*, suspended, tty_*, poll_*), so each thread has its own.
 */
struct lproc {
    enum lproc_state state;
    uint32_t pid, ppid;
    int status, signal;                 /* when ended */
    bool core;                          /* ended by a signal whose default action dumps core */
    struct chunks mem;                  /* its memory: every object of it is made from these */
    int image;                          /* the shared image its read-only segments map (image.c), -1: none */
    uint64_t cnode, vspace, tcb, fault_ep;  /* our slots */
    struct slotmap slots;               /* its CNode's slots (slots.h) */
    uint64_t alias_base;                /* our alias of the page whose capability is in slot s: alias_base + s pages */
    uint64_t brk_start, brk, brk_mapped;  /* the heap: [brk_start, brk), pages mapped up to brk_mapped */
    uint64_t fs_base, gs_base;
    uint64_t clear_tid;
    uint64_t sigmask;
    struct sigact sigact[64];
    struct region regions[REGION_MAX];
    struct fd fds[FD_MAX];
    char cwd[256];
    char exe[256];
    char comm[16];                      /* its name (/proc/PID/stat, as Linux's comm): a script's or prctl's; "": its exe's */
    uint8_t pdeathsig;                  /* prctl: the signal it gets when its parent ends (0: none) */
    uint64_t cpu_gone_ns;               /* CPU time of its threads that ended, and of images before execve */
    uint64_t cpu_end_ns, end_rss_kb;    /* its CPU time in all and its memory, when it ended */
    uint64_t child_cpu_ns, child_maxrss_kb;  /* of its children waited for (and theirs), as getrusage counts */
    uint64_t wait_rusage;               /* where a wait puts the child's struct rusage (0: nowhere) */
    bool undumpable, no_new_privs;      /* prctl's flags (recorded: nothing here dumps or raises privileges) */
    char cmdline[400];                  /* its arguments, each ended by a NUL (/proc/PID/cmdline) */
    uint16_t cmdline_len;
    uint64_t waiter;                    /* a reply object holding a blocked wait (0: none) */
    uint64_t sleeper, wake_ns;          /* a reply object holding its thread's nanosleep, and when it ends */
    uint64_t alarm_ns, alarm_interval;  /* ITIMER_REAL: when it fires (0: disarmed), its period (itimer.c) */
    /* ITIMER_VIRTUAL and ITIMER_PROF: the process's CPU time (ns) at which each fires (0: disarmed), period */
    uint64_t cpu_timer_at[2], cpu_timer_interval[2];
    uint64_t spare_pt;                  /* a page table of its memory made but not needed yet (0: none) */
    uint32_t shared_pages;              /* pages of the pool it maps (shared.c), charged to its limit */
    uint64_t copied[SHARED_PAGES / 64]; /* bit k: its page of a cow region over pool page k is its own copy */
    uint32_t pgid, sid;
    bool orphan;                        /* its parent ended: nobody waits for it, reaped at its end */
    bool fork_pending;                  /* a new child: its first fault is answered with fork_regs */
    struct pith_fault_regs fork_regs;
    uint64_t wait_reply;                /* a reply object holding its thread's wait4/waitid (0: none) */
    int64_t wait_pid;                   /* what it waits for: wait4's pid */
    uint64_t wait_addr;                 /* where the status (wait4) or siginfo (waitid) goes */
    bool wait_siginfo;                  /* waitid */
    uint64_t pipe_reply;                /* a reply object holding its thread's pipe read or write, or its
                                         * call on an AF_UNIX socket (unix.c: pipe_fd, pipe_n) (0: none) */
    uint64_t pipe_fd, pipe_buf, pipe_n;
    bool pipe_write;
    uint64_t sigpending;                /* bit s-1: signal s pending */
    bool stopped;                       /* by a stop signal, until SIGCONT */
    bool suspended;                     /* stopped while running its own code: its thread suspended */
    uint64_t held_reply;                /* stopped in a call: its answer, kept until SIGCONT (0: none) */
    struct pith_fault_regs held_regs;
    bool held_full;
    int stop_sig;
    bool stop_report, cont_report;      /* a stop or a continue its parent's wait has not seen */
    uint64_t wait_options;              /* the kept wait4's or waitid's options */
    struct siginfo_small { int32_t code, pid, status; } siginfo[64];   /* what the frame's siginfo says */
    uint64_t tty_reply;                 /* a reply object holding its thread's console read (0: none) */
    uint64_t tty_buf, tty_n;
    uint64_t poll_reply;                /* a reply object holding its poll or select (0: none) */
    uint64_t poll_deadline;             /* when it answers 0 (UINT64_MAX: never) */
    uint64_t poll_oldmask;              /* ppoll's, pselect6's: the mask to restore */
    bool poll_masked;
    struct pith_fault_regs sys_regs;    /* the registers of its last system call (a kept answer's) */
    uint64_t sys_nr;                    /* and its number */
    uint64_t ss_sp, ss_size;            /* its thread's alternate signal stack (size 0: none) */
    uint32_t ss_flags;                  /* as sigaltstack set them (SS_AUTODISARM) */
    bool no_fastcalls;                  /* PITH_POSIX_FASTCALLS=off: every call to us (fastcalls.c) */
    uint16_t umask_x;                   /* the umask XOR 022 (meta.c's umask_of) */
    uint16_t rlim_set;                  /* bit r: rlim[r] set by setrlimit (limits.c), else the default */
    uint64_t rlim[16][2];               /* RLIM_NLIMITS of them: soft, hard */
};

/* The caller's bytes for a socket call: one buffer, or a msghdr's iovecs (sockets.c, unix.c). */
#define IOV_MAX_OURS 64
struct span {
    uint64_t base, len;
};
struct data {
    struct span v[IOV_MAX_OURS];
    int n;
    uint64_t total;
};
long data_iov(struct lproc *p, struct data *d, uint64_t iov, uint64_t count);
long data_copy(struct lproc *p, const struct data *d, uint64_t off, void *buf, uint64_t len, bool to_user);

/* The registers of the system call being served (fault.c). */
extern struct pith_fault_regs cur_regs;

extern struct lproc lprocs[LPROC_MAX];
extern struct pith_client fs, console;
extern const struct pith_time_page *time_page;

/* process.c */
struct lproc *lproc_by_pid(uint32_t pid);
long lproc_new(struct lproc **out);                  /* a free slot with its objects made; posix errors */
void lproc_end(struct lproc *p, int status, int signal);    /* stops and frees everything; answers a waiter */
void lproc_reap(struct lproc *p);
void lproc_end_objects(struct lproc *p);             /* thread stopped, objects and memory back */
long chunks_retype(struct chunks *h, uint64_t type_bits, uint64_t slot, uint64_t count);  /* taking one more if needed */
void chunks_give_back(struct chunks *h);
int chunks_free(void);                  /* chunks no process or group holds */
/* A process's objects and pages: its chunks and its pool pages together within PROC_CHUNKS (map_pool too). */
static inline long lproc_retype(struct lproc *p, uint64_t tb, uint64_t slot, uint64_t count)
{
    p->mem.elsewhere = (int)((p->shared_pages + (1u << (CHUNK_BITS - 12)) - 1) >> (CHUNK_BITS - 12));
    return chunks_retype(&p->mem, tb, slot, count);
}
extern int chunks_total;
long lproc_wait(uint32_t pid, bool nohang, uint32_t *status, uint32_t *signal, bool *deferred);

/* memory.c */
long mem_map(struct lproc *p, uint64_t start, uint64_t len, uint8_t rights, uint8_t kind, struct region **out);
/* The same for private memory: pool pages shared copy-on-write by fork if the pool has room (memory.c). */
long mem_map_private(struct lproc *p, uint64_t start, uint64_t len, uint8_t rights, uint8_t kind, struct region **out);
/* The same, mapping the frames in our slots src.. (a shared image) instead of new ones. */
long mem_map_from(struct lproc *p, uint64_t start, uint64_t len, uint8_t rights, uint64_t src, struct region **out);

/* shared.c: the pool of pages shared between processes */
void shared_start(void);
uint64_t shared_slot(uint32_t page);            /* our slot of its frame */
uint32_t shared_page(uint64_t slot);            /* and back */
long shared_new(uint32_t n, bool *zero, bool private);   /* n free pages in a row, counted once; -1: none */
uint32_t shared_count(uint32_t page);
void shared_get(uint32_t first, uint32_t n);
void shared_put(uint32_t first, uint32_t n);
long shared_file_find(uint32_t ino, uint32_t gen, uint64_t off, uint32_t n);   /* first page, -1: none */
bool shared_file_add(uint32_t ino, uint32_t gen, uint64_t off, uint64_t bytes, uint32_t first, uint32_t n);
long shared_file_write(uint32_t page, const void *data);   /* a file's page back to it; 0 or -errno */

/* image.c: read-only segments shared by every process running one file */
void image_start(void);
int image_find(uint32_t ino, uint32_t gen, uint64_t size, uint32_t mtime);   /* -1: not there */
int image_new(uint32_t ino, uint32_t gen, uint64_t size, uint32_t mtime, uint32_t pages);  /* frames made; -1: no room */
uint64_t image_slot(int img, uint32_t page);    /* our slot of its page */
void image_ready(int img);
void image_get(int img);
void image_put(int img);
long mem_unmap(struct lproc *p, uint64_t start, uint64_t len);
/* Pages of the pool from page first (shared.c) mapped at start, one more sharer of each; posix errors. */
long mem_map_shared(struct lproc *p, uint64_t start, uint64_t len, uint8_t rights, uint32_t first,
                    struct region **out);
void mem_drop_shared(struct lproc *p);            /* its end: its sharing of the pool's pages ends */
long mem_stack(struct lproc *p, uint64_t pages, struct region **out);   /* the stack, its top pages made */
bool mem_fault(struct lproc *p, uint64_t addr, uint64_t error);   /* a page fault: true if served (stack, cow) */
long mem_fork_cow(struct lproc *p, struct lproc *c, struct region *r, struct region **out);   /* a cow region, to a child */
struct region *mem_find(struct lproc *p, uint64_t addr);
void *mem_ptr(struct lproc *p, uint64_t addr, uint64_t len);   /* our alias of [addr, addr+len) if in one region */
long mem_read(struct lproc *p, void *dst, uint64_t src, uint64_t len);      /* 0 or -EFAULT */
long mem_write(struct lproc *p, uint64_t dst, const void *src, uint64_t len);
long mem_string(struct lproc *p, char *dst, uint64_t src, uint64_t max);    /* length, -EFAULT, -ENAMETOOLONG */
uint64_t mem_gap(struct lproc *p, uint64_t len);                            /* a free range from MMAP_BASE up */

/* loader.c */
long load_program(struct lproc *p, const char *path, const char *argv, uint64_t argv_len, const char *envp,
                  uint64_t envp_len, uint64_t *entry, uint64_t *sp);

/* script.c: "#!" scripts for execve */
long script_resolve(struct lproc *p, char *path, const char *given, char *args, uint64_t *alen, uint64_t size,
                    bool *script);

/* fsio.c: the file server, with our window of 16 pages */
#define WINDOW_PAGES 16
#define WINDOW_VA    0x600000000ull
long fsio_start(void);
long fsio_read(uint32_t ino, uint32_t gen, uint64_t off, void *dst, uint64_t len, uint64_t *done);
long fsio_write(uint32_t ino, uint32_t gen, uint64_t off, const void *src, uint64_t len);
long fs_errno(long err);                                  /* a negated Linux errno for an fs.idl error */
long path_resolve(struct lproc *p, uint64_t upath, int dirfd, char *out);   /* absolute path, or -errno */
long path_join(const char *cwd, const char *path, char *out);
/* io.c: the devices built in (/dev/console, /dev/tty, /dev/null, /dev/zero, /dev/random, /dev/urandom) */
int device_of(const char *path);                /* its index, -1 if path is none of them */
void device_stat(int index, struct stat *st);

/* fds.c: descriptors and open file descriptions */
void files_init(struct lproc *p);
void files_close_all(struct lproc *p);
struct ofile *ofile_new(uint8_t kind, uint32_t flags);
void ofile_drop(struct ofile *of);
struct ofile *ofile_of_file(uint32_t ino, uint32_t gen);
void ofile_unlinked(uint32_t ino, uint32_t gen, const char *path, bool unlinked);
long fd_new(struct lproc *p, struct ofile *of, int from, bool cloexec);

/* pipe.c */
long pipe_transfer(struct lproc *p, struct ofile *of, uint64_t buf, uint64_t n, bool write);
void pipe_end_closed(struct ofile *of);
void pipe_cancel(struct lproc *p);
void pipe_cancel_keep(struct lproc *p);
unsigned pipe_ready(const struct ofile *of);   /* poll's events of a pipe end */
uint32_t pipe_moves(const struct ofile *of);   /* epoll's edges of the end */
long fifo_open(struct lproc *p, uint32_t ino, uint32_t gen, uint32_t flags, bool cloexec);   /* a FIFO of /fs */

/* poll.c: poll, ppoll, select, pselect6 */
void poll_kick(void);                   /* kept calls evaluated again: something moved */
uint64_t poll_expire(uint64_t now);     /* timed-out ones answered; ns until the next (0: none) */
uint64_t poll_interrupt(struct lproc *p);   /* its reply object, taken for a signal's EINTR (mask kept) */
void poll_cancel(struct lproc *p);
bool poll_kept(void);                   /* some thread waits in a poll or select */
unsigned poll_ready(const struct ofile *of);    /* poll's events of a description */

/* epoll.c: epoll instances, waited for through poll.c */
long epoll_eval(struct lproc *p, uint64_t epfd, uint64_t events, int32_t max);
unsigned epoll_ready(const struct ofile *of);
void epoll_forget(const struct ofile *of);      /* its last close: its items (or the instance) go */

/* family.c */
void family_child_ended(struct lproc *c);      /* answers a parent waiting for it */
void family_parent_ends(struct lproc *p);      /* its children orphaned, its zombies reaped */
void family_child_changed(struct lproc *c);    /* stopped or continued: a parent's wait answered */

/* tty.c: the console as a terminal; its line discipline */
long console_in(struct lproc *p, struct ofile *of, uint64_t buf, uint64_t n);
long console_out(struct lproc *p, uint64_t buf, uint64_t n);
bool tty_readable(void);
void tty_cancel(struct lproc *p);
void tty_start(uint64_t server_ep);
void tty_message(const struct pith_msg *m);   /* bytes typed, from our reader thread */
void tty_session_begin(struct lproc *p);       /* a spawned process: the console is its */
void tty_session_check(void);                  /* raw mode while the session lives */
extern uint32_t tty_fg;

/* proc.c: /proc (ofile: ino the pid, 0 for /proc itself; gen which file) */
bool proc_path(const char *path);
long proc_open(struct lproc *p, const char *path, uint32_t flags, bool cloexec);
long proc_read(struct lproc *p, struct ofile *of, uint64_t buf, uint64_t n);
long proc_getdents(struct lproc *p, struct ofile *of, uint64_t buf, uint64_t n);
long proc_stat(struct lproc *p, const char *path, bool follow, struct stat *st);
long proc_readlink(struct lproc *p, const char *path, char *out, size_t max);

/* sockets.c: AF_INET sockets over /svc/net */
bool sock_blocked(struct lproc *p);        /* one of its threads waits in a socket call */
long sock_transfer(struct lproc *p, uint64_t fd, struct ofile *of, uint64_t buf, uint64_t n, bool write);
unsigned sock_ready(const struct ofile *of);  /* poll's events */
void sock_closed(struct ofile *of);            /* its last descriptor went */
bool sock_again(struct lproc *p, uint64_t reply);   /* a sleeper woken: a blocked socket call made again */
uint64_t sock_tick(uint64_t now);
void sock_wake(void);                   /* the network server's signal: blocked socket calls and kept polls looked at */
void sock_cancel_keep(struct lproc *p);        /* a readv or writev answered after all (io.c) */              /* kept polls over sockets looked at; ns until the next (0: none) */

/* unix.c: AF_UNIX sockets, kept in the personality */
bool unix_fd(struct lproc *p, uint64_t fd);    /* an AF_UNIX socket's descriptor */
long unix_socket(struct lproc *p, uint64_t type, uint64_t protocol);
long unix_syscall(struct lproc *p);            /* the call served (cur_regs) on an AF_UNIX socket */
void unix_closed(struct ofile *of);            /* its last descriptor went */
unsigned unix_ready(const struct ofile *of);   /* poll's events */
bool unix_unlink(const char *path);            /* a bound path's name gone (true: it was one) */
bool unix_stat(struct lproc *p, const char *path, struct stat *st);   /* a bound path's node */

long retry_later(struct lproc *p);             /* kept, and made again 2 ms later (fcntl's F_SETLKW) */
/* meta.c: metadata calls; locks.c: fcntl's record locks */
uint32_t umask_of(const struct lproc *p);
long fcntl_lock(struct lproc *p, uint64_t fd, uint64_t cmd, uint64_t arg);
void locks_release(struct lproc *p, const struct ofile *of);   /* a descriptor of it closed */
void locks_forget(struct lproc *p);
void flock_drop(const struct ofile *of);         /* its last close: its flock goes */
/* limits.c: resource limits */
uint32_t fd_limit(const struct lproc *p);      /* RLIMIT_NOFILE's soft limit, at most FD_MAX */
void meta_inherit(struct lproc *c, const struct lproc *p);     /* fork's and execve's: umask, limits */
/* clock.c */
void clock_start(void);
uint64_t clock_realtime_ns(void);
uint64_t clock_real_offset(void);      /* CLOCK_REALTIME - CLOCK_MONOTONIC, ns modulo 2^64 */
/* vdso.c: the vDSO and its data page */
void vdso_start(void);                 /* after clock_start */
long vdso_map(struct lproc *p, uint64_t *ehdr);   /* *ehdr: AT_SYSINFO_EHDR (0: none); -errno */

/* syscalls.c: the table; each takes the six arguments */
typedef long (*syscall_fn)(struct lproc *p, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                           uint64_t a5);
long syscall_dispatch(struct lproc *p, uint64_t nr, const uint64_t args[6]);
#define SYSCALL(name) long sys_##name(struct lproc *p, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, \
                                      uint64_t a4, uint64_t a5)
/* Returned by a call that gives no answer now: the process ended, or its thread waits (deferred). */
#define NO_ANSWER (-100000l)
struct ofile *ofile_of(struct lproc *p, uint64_t fd);
void stat_fill(struct stat *st, uint32_t ino, uint32_t mode, uint32_t nlink, uint32_t uid, uint32_t gid,
               uint64_t size, uint32_t atime, uint32_t mtime, uint32_t ctime, uint64_t blocks);
void random_bytes(void *dst, size_t n);

/* identity.c: sysinfo's figures, /proc's too */
struct system_figures { uint64_t total, free, uptime_ms; uint32_t procs, last_pid; };
void system_figures(struct system_figures *f);

/* itimer.c */
uint64_t lproc_cpu_ns(struct lproc *p);        /* its CPU time, ns: threads live, ended, images before execve */
uint64_t thread_cpu_ns(uint64_t tcb);
uint64_t lproc_maxrss_kb(const struct lproc *p);
/* Linux's struct rusage: the times and the peak memory; the counts we keep none of are 0. */
struct lrusage {
    struct { int64_t sec, usec; } utime, stime;
    int64_t maxrss, rest[13];
};
void rusage_fill(struct lrusage *r, uint64_t cpu_ns, uint64_t maxrss_kb);
uint64_t itimer_expire(uint64_t now);  /* SIGALRMs, SIGVTALRMs and SIGPROFs due sent; the time until the next (0: none) */
void itimer_exec(struct lproc *c, struct lproc *p);    /* execve: p's timers go on in c */

/* signals.c: generation, delivery on the way back from a call, rt_sigreturn */
void signal_post(struct lproc *t, int sig, int code, int pid, int status);  /* pending only */
void signal_wake(struct lproc *t);
void signal_wake_thread(struct lproc *t);      /* only the thread entered now */
void signal_group(uint32_t pgid, int sig);     /* the terminal's: to every process of the group */
bool signal_dumps_core(int sig);     /* a kept call interrupted, or the process ended, if a signal is due */
/* A processor exception of p's thread entered (regs: its registers): its handler run, or p ended. */
bool signal_fault(struct lproc *p, int sig, int code, uint64_t addr, const struct pith_fault_regs *regs,
                  struct pith_msg *m);
void signal_retry(void);                       /* deliveries put off (a thread in a call answered without them) */
extern bool signal_retry_due;
/* The answer to a system call of p, result in regs->rax (full: resume with all of regs), a pending
 * signal delivered on the way: sent through reply, or (reply 0) made into *m; false: p ended. */
bool signal_answer(struct lproc *p, struct pith_fault_regs *regs, bool full, uint64_t reply, struct pith_msg *m);
void answer_syscall(struct lproc *p, uint64_t reply, long result);          /* a kept answer, given now */
extern struct pith_fault_regs resume_regs;     /* registers of the answer in hand, PITH_FAULT_RESUME_REGS */
extern struct lproc *cur_proc;                 /* the process whose call is being served (NULL: none) */
#define RESUME_FULL (-100001l)                 /* a call's result: resume with resume_regs (rt_sigreturn) */

/* fastcalls.c: getpid and its kin answered in the kernel from a map we keep */
void fastcalls_start(uint64_t ep);
void fastcalls_refresh(void);                   /* every running process's words, before each answer */
void fastcalls_begin(const struct lproc *p);    /* a new process in the slot: its words 0 until the refresh */
void fastcalls_forget(const struct lproc *p);   /* it ends: its words 0, every call to us */

/* threads.c: further threads of a process, futexes */
long thread_clone(struct lproc *p, uint64_t flags, uint64_t stack, uint64_t ptid, uint64_t ctid, uint64_t tls);
long thread_exit(struct lproc *p, int status);
long thread_kill(struct lproc *p, uint32_t tgid, uint32_t tid, uint64_t sig);   /* 1: tid is no thread of ours */
uint32_t thread_tid(struct lproc *p);           /* the tid of the thread entered (served, or visited) */
uint32_t thread_served(struct lproc *p);        /* the tid of p's thread whose call is served (0: none) */
bool thread_group(const struct lproc *p);       /* it has further threads, or its first is gone */
bool thread_started(struct lproc *p);           /* the thread entered runs its own code (its first fault answered) */
bool thread_fault(uint64_t i, struct pith_msg *m);
void threads_end(struct lproc *p);
long thread_sleep(struct lproc *p, uint64_t wake);   /* a further thread's nanosleep */
bool thread_kept_busy(struct lproc *p, uint64_t nr, uint64_t a0);   /* a socket call, the retry's place taken */
uint64_t futex_expire(uint64_t now);            /* timed-out waits answered; ns until the next (0: none) */
uint64_t futex_interrupt(struct lproc *p);      /* the entered thread's futex wait taken for EINTR (0: none) */
/* fn for each thread of p, its fields (kept answers' places among them) entered in turn; true: fn's stop. */
bool thread_each(struct lproc *p, bool (*fn)(struct lproc *p, void *arg), void *arg);

/* fault.c: a fault message of process p; true if it is to be answered with *m */
bool fault_serve(struct lproc *p, struct pith_msg *m);

/* main.c: reply objects for answers given later (wait, nanosleep) */
uint64_t reply_take(void);
void reply_give(uint64_t reply);
extern uint64_t server_reply;           /* the reply object the next receive uses */
extern bool deferred;                   /* set by a handler that keeps server_reply's caller waiting */

#endif
