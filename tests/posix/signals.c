/*
 * Signals: handlers that run and return, siginfo, the mask while a
 * handler runs, sigprocmask and delivery on unblock, EINTR and SA_RESTART
 * on a pipe read interrupted by a child's kill, SIGCHLD, default actions,
 * kill to a process group, SIGPIPE to a handler, a bad rt_sigreturn frame.
 */
#include "common.h"

#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t usr1, usr2, chld, pipes, blocked_inside, code, from_self;
static volatile int chld_pid, chld_status, chld_code;

static void on_usr1(int sig)
{
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    blocked_inside = sigismember(&now, sig);
    usr1++;
}

static void on_usr2(int sig) { (void)sig; usr2++; }
static void on_pipe(int sig) { (void)sig; pipes++; }

static void on_info(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    if (sig == SIGCHLD) {
        chld++;
        chld_pid = si->si_pid, chld_status = si->si_status, chld_code = si->si_code;
        return;
    }
    code = si->si_code;
    from_self = si->si_pid == getpid();
}

static void handle(int sig, void (*fn)(int), int flags)
{
    struct sigaction sa = { .sa_handler = fn, .sa_flags = flags };
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

static void handle_info(int sig)
{
    struct sigaction sa = { .sa_sigaction = on_info, .sa_flags = SA_SIGINFO };
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

static void nap(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);
}

/* A child that sends its parent SIGUSR1 while the parent reads an empty pipe, then maybe writes. */
static long read_interrupted(int flags, bool write_after)
{
    int fds[2];
    pipe(fds);
    handle(SIGUSR1, on_usr1, flags);
    pid_t c = fork();
    if (c == 0) {
        close(fds[0]);
        nap(200);
        kill(getppid(), SIGUSR1);
        nap(100);                       /* the write end stays open meanwhile: no EOF */
        if (write_after)
            write(fds[1], "x", 1);
        _exit(0);
    }
    close(fds[1]);
    char b;
    errno = 0;
    long n = read(fds[0], &b, 1);
    int e = errno;
    waitpid(c, NULL, 0);
    close(fds[0]);
    errno = e;
    return n;
}

static void status_of(const char *what, pid_t c)
{
    int st;
    waitpid(c, &st, 0);
    if (WIFSIGNALED(st))
        printf("%s: killed by signal %d\n", what, WTERMSIG(st));
    else
        printf("%s: exit %d\n", what, WEXITSTATUS(st));
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);

    handle(SIGUSR1, on_usr1, 0);
    raise(SIGUSR1);
    raise(SIGUSR1);
    printf("handler ran: %d times, its signal blocked inside: %s\n", (int)usr1,
           blocked_inside ? "yes" : "no");
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    printf("unblocked after the handler: %s\n", sigismember(&now, SIGUSR1) ? "no" : "yes");

    handle_info(SIGUSR2);
    kill(getpid(), SIGUSR2);
    printf("siginfo: code %d, from itself: %s\n", (int)code, from_self ? "yes" : "no");

    handle(SIGUSR2, on_usr2, 0);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, NULL);
    kill(getpid(), SIGUSR2);
    sigset_t pend;
    sigpending(&pend);
    printf("blocked: ran %d, pending: %s\n", (int)usr2, sigismember(&pend, SIGUSR2) ? "yes" : "no");
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    printf("unblocked: ran %d\n", (int)usr2);
    sigaddset(&set, SIGKILL);
    sigprocmask(SIG_BLOCK, &set, NULL);
    sigprocmask(SIG_BLOCK, NULL, &now);
    printf("SIGKILL blockable: %s\n", sigismember(&now, SIGKILL) ? "yes" : "no");
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    CHECK("sigaction SIGKILL", sigaction(SIGKILL, &(struct sigaction){ .sa_handler = on_usr2 }, NULL));

    usr1 = 0;
    long n = read_interrupted(0, false);
    printf("read interrupted: %ld %s, handler ran %d\n", n, n < 0 ? errname(errno) : "", (int)usr1);
    usr1 = 0;
    n = read_interrupted(SA_RESTART, true);
    printf("read with SA_RESTART: %ld, handler ran %d\n", n, (int)usr1);

    handle_info(SIGCHLD);
    pid_t c = fork();
    if (c == 0)
        _exit(3);
    status_of("child", c);
    printf("SIGCHLD: %d, pid ok: %s, code %d, status %d\n", (int)chld, chld_pid == c ? "yes" : "no", chld_code,
           chld_status);
    signal(SIGCHLD, SIG_DFL);

    c = fork();
    if (c == 0) {
        kill(getpid(), SIGTERM);
        _exit(0);
    }
    status_of("SIGTERM to itself", c);
    c = fork();
    if (c == 0)
        for (;;)
            ;
    nap(50);
    kill(c, SIGKILL);
    status_of("SIGKILL to a busy child", c);
    c = fork();
    if (c == 0) {
        signal(SIGINT, SIG_IGN);
        kill(getpid(), SIGINT);
        _exit(5);
    }
    status_of("ignored SIGINT", c);

    pid_t a = fork();
    if (a == 0) {
        setpgid(0, 0);
        for (;;)
            nap(10);
    }
    setpgid(a, a);
    pid_t b = fork();
    if (b == 0) {
        setpgid(0, a);
        for (;;)
            nap(10);
    }
    setpgid(b, a);
    nap(50);
    CHECK("kill to the group", kill(-a, SIGTERM));
    status_of("group member 1", a);
    status_of("group member 2", b);
    errno = 0;
    printf("kill to no such group: %s\n", kill(-a, SIGTERM) < 0 && errno == ESRCH ? "ESRCH" : "no");

    int fds[2];
    pipe(fds);
    close(fds[0]);
    handle(SIGPIPE, on_pipe, 0);
    errno = 0;
    n = write(fds[1], "x", 1);
    printf("SIGPIPE handled: %d, write %s\n", (int)pipes, n < 0 ? errname(errno) : "ok");
    close(fds[1]);

    c = fork();
    if (c == 0) {
        __asm__ volatile("mov $16, %%rsp\n\tmov $15, %%eax\n\tsyscall" ::: "memory");
        _exit(0);
    }
    status_of("bad rt_sigreturn frame", c);

    /* sigsuspend: SIGUSR2 blocked, then waited for with it unblocked; the mask back after. */
    handle(SIGUSR2, on_usr2, 0);
    usr2 = 0;
    sigset_t block, none;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR2);
    sigprocmask(SIG_BLOCK, &block, NULL);
    c = fork();
    if (c == 0) {
        nap(50);
        kill(getppid(), SIGUSR2);
        _exit(0);
    }
    sigemptyset(&none);
    errno = 0;
    n = sigsuspend(&none);
    sigprocmask(SIG_BLOCK, NULL, &now);
    printf("sigsuspend: %ld %s, handler ran %d, blocked again %s\n", (long)n, errname(errno), (int)usr2,
           sigismember(&now, SIGUSR2) ? "yes" : "no");
    waitpid(c, NULL, 0);
    kill(getpid(), SIGUSR2);            /* pending while blocked: sigsuspend returns at once */
    errno = 0;
    n = sigsuspend(&none);
    printf("sigsuspend with one pending: %ld %s, handler ran %d\n", (long)n, errname(errno), (int)usr2);
    CHECK("rt_sigsuspend with a bad size", syscall(SYS_rt_sigsuspend, &none, 4));
    CHECK("rt_sigsuspend bad address", syscall(SYS_rt_sigsuspend, 8L, 8));
    return 0;
}
