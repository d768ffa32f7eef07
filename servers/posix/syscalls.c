/*
 * The Linux system-call table: number, name, handler.  A number without a
 * handler answers -ENOSYS and is logged once (the first time any process
 * makes it), never more, so a program probing for features does not flood
 * the log.  docs/posix.md lists every call and its status.
 */
#include "personality.h"

#include <errno.h>
#include <stdio.h>

#define S(name) long sys_##name(struct lproc *, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);
#define CALLS(X) \
    X(0, read) X(1, write) X(2, open) X(3, close) X(4, stat) X(5, fstat) X(6, lstat) X(8, lseek) \
    X(9, mmap) X(10, mprotect) X(11, munmap) X(12, brk) X(13, rt_sigaction) X(14, rt_sigprocmask) X(15, rt_sigreturn) X(127, rt_sigpending) \
    X(16, ioctl) X(17, pread64) X(18, pwrite64) X(19, readv) X(20, writev) X(21, access) X(24, sched_yield) X(28, madvise) \
    X(32, dup) X(33, dup2) X(35, nanosleep) X(39, getpid) X(60, exit) X(62, kill) X(63, uname) X(72, fcntl) \
    X(79, getcwd) X(80, chdir) X(81, fchdir) X(82, rename) X(83, mkdir) X(84, rmdir) X(85, creat) \
    X(87, unlink) X(89, readlink) X(95, umask) X(96, gettimeofday) X(97, getrlimit) X(102, getuid) \
    X(104, getuid) X(107, getuid) X(108, getuid) X(110, getppid) X(111, getpgrp) X(121, getpgid) \
    X(124, getsid) X(109, setpgid) X(112, setsid) X(56, clone) X(57, fork) X(58, vfork) X(59, execve) \
    X(61, wait4) X(247, waitid) X(22, pipe) X(293, pipe2) X(158, arch_prctl) X(157, prctl) X(160, setrlimit) X(186, gettid) X(200, tkill) X(201, time) \
    X(217, getdents64) X(218, set_tid_address) X(228, clock_gettime) X(229, clock_getres) \
    X(230, clock_nanosleep) X(231, exit_group) X(234, tgkill) X(257, openat) X(258, mkdirat) \
    X(262, newfstatat) X(332, statx) X(263, unlinkat) X(264, renameat) X(267, readlinkat) X(269, faccessat) \
    X(273, set_robust_list) X(292, dup3) X(302, prlimit64) X(316, renameat2) X(318, getrandom) \
    X(334, rseq) X(202, futex) X(439, faccessat2) \
    X(7, poll) X(23, select) X(270, pselect6) X(271, ppoll) X(25, mremap) \
    X(41, socket) X(42, connect) X(43, accept) X(44, sendto) X(45, recvfrom) X(46, sendmsg) X(47, recvmsg) \
    X(48, shutdown) X(49, bind) X(50, listen) X(51, getsockname) X(52, getpeername) X(54, setsockopt) \
    X(55, getsockopt) X(288, accept4) \
    X(26, msync) \
    X(88, symlink) X(266, symlinkat) X(90, chmod) X(91, fchmod) X(268, fchmodat) X(92, chown) X(93, fchown) \
    X(94, lchown) X(260, fchownat) X(280, utimensat) X(235, utimes) X(261, futimesat) X(132, utime) \
    X(86, link) X(265, linkat) X(76, truncate) X(77, ftruncate) X(74, fsync) X(75, fdatasync) X(162, sync) \
    X(306, syncfs) X(137, statfs) X(138, fstatfs) X(115, getgroups) X(130, rt_sigsuspend) X(34, pause) \
    X(36, getitimer) X(37, alarm) X(38, setitimer) \
    X(53, socketpair) \
    X(73, flock) X(99, sysinfo) X(203, sched_setaffinity) X(204, sched_getaffinity) X(436, close_range) X(98, getrusage) X(100, times) X(213, epoll_create) X(291, epoll_create1) X(233, epoll_ctl) X(232, epoll_wait) \
    X(281, epoll_pwait) X(133, mknod) X(259, mknodat) \
    X(309, getcpu) \
    X(131, sigaltstack)

#define DECLARE(nr, name) S(name)
CALLS(DECLARE)

#define NR_MAX 512

static const struct { syscall_fn fn; const char *name; } table[NR_MAX] = {
#define ENTRY(nr, name) [nr] = { sys_##name, #name },
    CALLS(ENTRY)
};

static uint64_t logged[NR_MAX / 64];
static uint64_t logged_high[16];        /* numbers beyond the table, logged once each (the first 16) */

static void log_unknown(struct lproc *p, uint64_t nr)
{
    if (nr < NR_MAX) {
        if (logged[nr / 64] & (1ull << (nr % 64)))
            return;
        logged[nr / 64] |= 1ull << (nr % 64);
    } else {
        for (int i = 0; i < 16; i++) {
            if (logged_high[i] == nr + 1)
                return;
            if (!logged_high[i]) {
                logged_high[i] = nr + 1;
                break;
            }
        }
    }
    printf("posix: system call %lu not supported (pid %u, %s): ENOSYS\n", nr, p->pid, p->exe);
}

long syscall_dispatch(struct lproc *p, uint64_t nr, const uint64_t a[6])
{
    if (nr < NR_MAX && table[nr].fn)
        return table[nr].fn(p, a[0], a[1], a[2], a[3], a[4], a[5]);
    log_unknown(p, nr);
    return -ENOSYS;
}
