/*
 * Signals to a thread that makes no system call: a handler runs at once,
 * interrupting a pure loop (alarm, setitimer, a kill from another
 * process), every register and the SSE state kept across many of them;
 * ITIMER_VIRTUAL and ITIMER_PROF counting CPU time; sigaltstack, its
 * errors, SA_ONSTACK handlers (called and asynchronous), a stack overflow
 * handled on the alternate stack, fork keeping it and execve clearing it.
 * Each spinning case runs in a child watched by its parent: a handler
 * that never comes prints "stuck" instead of hanging.
 */
#include "common.h"

#include <pthread.h>
#include <signal.h>
#include <ucontext.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t flag, count;
static volatile int where, flags_inside, eperm_inside;
static volatile unsigned long spins;
static char *alt;                       /* the alternate stack */
#define ALT_SIZE (64 * 1024)

static void nap(long ms)
{
    struct timespec ts = { ms / 1000, ms % 1000 * 1000000 };
    nanosleep(&ts, NULL);
}

static void on_flag(int sig)
{
    (void)sig;
    flag = 1;
}

static void on_count(int sig)
{
    (void)sig;
    count++;
}

static void handle(int sig, void (*fn)(int), int flags)
{
    struct sigaction sa = { .sa_handler = fn, .sa_flags = flags };
    sigaction(sig, &sa, NULL);
}

static void timer(int which, long value_us, long interval_us)
{
    struct itimerval v = { { interval_us / 1000000, interval_us % 1000000 }, { value_us / 1000000, value_us % 1000000 } };
    setitimer(which, &v, NULL);
}

/* Runs fn in a child; its exit status, or -1 if it was still running after 20 s (then killed). */
static int watched(int (*fn)(void))
{
    flag = 0, count = 0, where = 0;
    pid_t pid = fork();
    if (pid == 0)
        _exit(fn());
    int status;
    for (int i = 0; i < 2000; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        nap(10);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

static void report(const char *what, int status)
{
    if (status < 0)
        printf("%s: stuck\n", what);
    else
        printf("%s: exit %d\n", what, status);
}

/* ---- a pure loop interrupted ---- */

static int alarm_in_a_loop(void)
{
    handle(SIGALRM, on_flag, 0);
    alarm(1);
    while (!flag)
        spins++;
    return 3;
}

static int itimer_in_a_loop(void)
{
    handle(SIGALRM, on_count, 0);
    timer(ITIMER_REAL, 50000, 50000);
    while (count < 3)
        spins++;
    timer(ITIMER_REAL, 0, 0);
    return count == 3 ? 4 : 5;
}

static int spin_until_flag(void)
{
    while (!flag)
        spins++;
    return 7;
}

static void kill_to_a_spinning_child(void)
{
    int fds[2];
    pipe(fds);
    handle(SIGUSR1, on_flag, 0);        /* the child's, from the fork */
    pid_t pid = fork();
    if (pid == 0) {
        write(fds[1], "r", 1);
        _exit(spin_until_flag());
    }
    handle(SIGUSR1, SIG_DFL, 0);
    char c;
    read(fds[0], &c, 1);
    nap(50);                            /* well into its loop */
    kill(pid, SIGUSR1);
    int status;
    waitpid(pid, &status, 0);
    printf("kill to a spinning child: exit %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    close(fds[0]);
    close(fds[1]);
}

/* ---- a further thread spinning ---- */

static volatile int thread_flag, spinner_done;

static void on_thread_flag(int sig)
{
    (void)sig;
    thread_flag = 1;
}

static void *spinner(void *arg)
{
    if (arg) {                          /* unblocks what its creator blocks */
        sigset_t usr1;
        sigemptyset(&usr1);
        sigaddset(&usr1, SIGUSR1);
        pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
    }
    while (!thread_flag)
        spins++;
    spinner_done = 1;
    return NULL;
}

/* pthread_kill to a spinning thread, then a kill to the process whose main thread blocks the signal. */
static int threads_spinning(void)
{
    handle(SIGUSR1, on_thread_flag, 0);
    pthread_t t;
    pthread_create(&t, NULL, spinner, NULL);
    nap(50);
    pthread_kill(t, SIGUSR1);
    pthread_join(t, NULL);
    int first = spinner_done;
    thread_flag = 0, spinner_done = 0;
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &usr1, NULL);
    pthread_create(&t, NULL, spinner, (void *)1);
    nap(50);
    kill(getpid(), SIGUSR1);
    pthread_join(t, NULL);
    return first && spinner_done ? 8 : 9;
}

/* ---- registers kept across asynchronous handlers ---- */

/* The handler disturbs what it may: caller-saved registers, SSE (double arithmetic), the flags. */
static void on_count_busy(int sig)
{
    (void)sig;
    volatile double x = 1.5;
    for (int i = 0; i < 100; i++)
        x = x * 1.000001 + 0.25;
    count++;
}

/*
 * Until 20 signals came: every general register but rsp (rcx and r11,
 * which a system call would lose, among them) steps by its own amount,
 * and xmm0 by (1, 2), each iteration; r15 counts them.  After, each must
 * be its start plus r15 times its step: any register an interruption
 * lost or changed breaks that.
 */
static int registers_kept(void)
{
    handle(SIGALRM, on_count_busy, 0);
    uint64_t out[16];
    timer(ITIMER_REAL, 2000, 2000);
    __asm__ volatile(
        "push %%rbp\n"
        "push %%rdi\n"                              /* out */
        "xor %%r15d, %%r15d\n"
        "mov $1, %%eax\n mov $2, %%ebx\n mov $3, %%ecx\n mov $4, %%edx\n"
        "mov $5, %%esi\n mov $6, %%edi\n mov $7, %%r8d\n mov $8, %%r9d\n"
        "mov $9, %%r10d\n mov $10, %%r11d\n mov $11, %%r12d\n mov $12, %%r13d\n mov $13, %%r14d\n"
        "mov $0x11, %%ebp\n"
        "pxor %%xmm0, %%xmm0\n"
        "mov $1, %%ebp\n movq %%rbp, %%xmm1\n mov $2, %%ebp\n movq %%rbp, %%xmm2\n punpcklqdq %%xmm2, %%xmm1\n"
        "mov $0x11, %%ebp\n"
        "1:\n"
        "add $1, %%rax\n add $2, %%rbx\n add $3, %%rcx\n add $4, %%rdx\n add $5, %%rsi\n add $6, %%rdi\n"
        "add $7, %%r8\n add $8, %%r9\n add $9, %%r10\n add $10, %%r11\n add $11, %%r12\n add $12, %%r13\n"
        "add $13, %%r14\n add $17, %%rbp\n paddq %%xmm1, %%xmm0\n"
        "inc %%r15\n"
        "cmpl $20, count(%%rip)\n"
        "jl 1b\n"
        "xchg %%rdi, (%%rsp)\n"                     /* out back, the loop's rdi kept on the stack */
        "mov %%rax, 0(%%rdi)\n mov %%rbx, 8(%%rdi)\n mov %%rcx, 16(%%rdi)\n mov %%rdx, 24(%%rdi)\n"
        "mov %%rsi, 32(%%rdi)\n mov %%r8, 48(%%rdi)\n mov %%r9, 56(%%rdi)\n mov %%r10, 64(%%rdi)\n"
        "mov %%r11, 72(%%rdi)\n mov %%r12, 80(%%rdi)\n mov %%r13, 88(%%rdi)\n mov %%r14, 96(%%rdi)\n"
        "mov %%r15, 104(%%rdi)\n mov %%rbp, 112(%%rdi)\n"
        "pop %%rax\n mov %%rax, 40(%%rdi)\n"
        "movq %%xmm0, %%rax\n mov %%rax, 120(%%rdi)\n"
        "pop %%rbp\n"
        :
        : "D"(out)
        : "rax", "rbx", "rcx", "rdx", "rsi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "xmm0", "xmm1",
          "xmm2", "memory", "cc");
    timer(ITIMER_REAL, 0, 0);
    uint64_t n = out[13];
    int bad = 0;
    for (int i = 0; i < 13; i++)
        if (out[i] != (uint64_t)(i + 1) + n * (uint64_t)(i + 1))
            bad++;
    if (out[14] != 0x11 + 17 * n || out[15] != n)
        bad++;
    return bad ? 10 + (bad > 9 ? 9 : bad) : count >= 20 ? 0 : 9;
}

/* ---- the upper halves of the AVX registers across handlers ---- */

static int avx_usable(void)
{
    unsigned a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
    if (!(c & (1u << 27)) || !(c & (1u << 28)))
        return 0;                       /* no OSXSAVE or no AVX */
    __asm__ volatile("xgetbv" : "=a"(a), "=d"(d) : "c"(0));
    return (a & 6) == 6;                /* the system saves SSE and AVX state */
}

static volatile int xstate_seen;        /* 1: the frame had Linux's XSAVE tail with AVX */

/* Wipes every YMM register, and looks at its frame's FPU state. */
static void on_count_avx(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    (void)si;
    ucontext_t *uc = ctx;
    const unsigned char *fp = (const unsigned char *)uc->uc_mcontext.fpregs;
    unsigned magic1 = 0;
    unsigned long long features = 0;
    if (fp) {
        __builtin_memcpy(&magic1, fp + 464, 4);
        __builtin_memcpy(&features, fp + 472, 8);
    }
    if ((uc->uc_flags & 1) && magic1 == 0x46505853u && (features & 4))
        xstate_seen = 1;
    __asm__ volatile("vzeroall" ::: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
                     "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
    count++;
}

/*
 * Until 20 signals came, every 2 ms: ymm5's upper half steps by 3 each
 * iteration (its lower half by 1), r15 counts them.  A handler that wipes
 * every YMM register must leave both as they were.
 */
static int ymm_kept(void)
{
    if (!avx_usable())
        return 0;                       /* nothing to keep (the same answer where there is no AVX) */
    struct sigaction sa = { .sa_sigaction = on_count_avx, .sa_flags = SA_SIGINFO };
    sigaction(SIGALRM, &sa, NULL);
    unsigned long long out[3];
    timer(ITIMER_REAL, 2000, 2000);
    __asm__ volatile(
        "xor %%r15d, %%r15d\n"
        "vpxor %%ymm5, %%ymm5, %%ymm5\n"
        "mov $1, %%eax\n movq %%rax, %%xmm6\n"
        "mov $3, %%eax\n movq %%rax, %%xmm7\n"
        "vinsertf128 $1, %%xmm7, %%ymm6, %%ymm6\n"  /* ymm6: 1 in the lower half, 3 in the upper */
        "1:\n"
        "vpaddq %%ymm6, %%ymm5, %%ymm5\n"
        "inc %%r15\n"
        "cmpl $20, count(%%rip)\n"
        "jl 1b\n"
        "movq %%xmm5, %%rax\n mov %%rax, 0(%%rdi)\n"
        "vextractf128 $1, %%ymm5, %%xmm7\n movq %%xmm7, %%rax\n mov %%rax, 8(%%rdi)\n"
        "mov %%r15, 16(%%rdi)\n"
        "vzeroupper\n"
        :
        : "D"(out)
        : "rax", "r15", "xmm5", "xmm6", "xmm7", "memory", "cc");
    timer(ITIMER_REAL, 0, 0);
    unsigned long long n = out[2];
    if (out[0] != n)
        return 30;
    if (out[1] != 3 * n)
        return 31;                      /* the upper half lost to a handler */
    if (!xstate_seen)
        return 32;
    return count >= 20 ? 0 : 9;
}

/* ---- ITIMER_VIRTUAL and ITIMER_PROF ---- */

static int cpu_timer_fires(int which, int sig)
{
    handle(sig, on_flag, 0);
    struct itimerval v;
    timer(which, 100000, 0);
    getitimer(which, &v);
    /* (Linux rounds a CPU-time timer up to its tick: 104000 at 250 Hz.) */
    if (v.it_value.tv_sec != 0 || v.it_value.tv_usec > 120000 || v.it_value.tv_usec <= 0)
        return 20;
    while (!flag)
        spins++;
    getitimer(which, &v);
    return v.it_value.tv_sec || v.it_value.tv_usec ? 21 : 0;   /* spent, not re-armed */
}

static int virtual_fires(void) { return cpu_timer_fires(ITIMER_VIRTUAL, SIGVTALRM); }
static int prof_fires(void) { return cpu_timer_fires(ITIMER_PROF, SIGPROF); }

/* Asleep, a process spends no CPU time: its virtual timer waits. */
static int virtual_waits_while_asleep(void)
{
    handle(SIGVTALRM, on_flag, 0);
    timer(ITIMER_VIRTUAL, 50000, 0);
    nap(300);
    if (flag)
        return 22;
    struct itimerval v;
    getitimer(ITIMER_VIRTUAL, &v);
    if (v.it_value.tv_usec == 0 && v.it_value.tv_sec == 0)
        return 23;
    while (!flag)                       /* and fires once it spins */
        spins++;
    return 0;
}

/* Three periods of ITIMER_PROF, then its default action, which ends the process. */
static int prof_interval_then_default(void)
{
    handle(SIGPROF, on_count, 0);
    timer(ITIMER_PROF, 20000, 20000);
    while (count < 3)
        spins++;
    handle(SIGPROF, SIG_DFL, 0);
    while (!flag)
        spins++;
    return 24;
}

/* ---- sigaltstack ---- */

static void show_altstack(const char *what)
{
    stack_t ss;
    sigaltstack(NULL, &ss);
    printf("%s: flags %d, %s, size %zu\n", what, ss.ss_flags,
           !ss.ss_sp ? "no stack" : ss.ss_sp == alt ? "our stack" : "another", ss.ss_size);
}

static int on_alt(const void *p)
{
    return (const char *)p >= alt && (const char *)p < alt + ALT_SIZE;
}

static void on_where(int sig)
{
    (void)sig;
    int local;
    where = on_alt(&local);
    stack_t ss, again = { .ss_sp = alt, .ss_size = ALT_SIZE };
    sigaltstack(NULL, &ss);
    flags_inside = ss.ss_flags;
    eperm_inside = sigaltstack(&again, NULL) < 0 ? errno : 0;
    flag = 1;
}

static void ss_call(const char *what, const stack_t *ss, stack_t *old)
{
    errno = 0;
    long r = syscall(SYS_sigaltstack, ss, old);
    printf("%s: %ld %s\n", what, r, errname(r < 0 ? errno : 0));
}

static int async_on_altstack(void)
{
    handle(SIGALRM, on_where, SA_ONSTACK);
    timer(ITIMER_REAL, 100000, 0);
    while (!flag)
        spins++;
    return where ? 30 : 31;
}

static volatile char *deep_sink;
static volatile int deeper = 1;         /* always: the compiler is not to know the recursion never ends */

static int deep(int n)
{
    volatile char frame[4096];
    frame[0] = (char)n;
    deep_sink = frame;
    return (deeper ? deep(n + 1) : 0) + frame[0];
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    int local;
    /* On the alternate stack, a mapping error at an address below the stack. */
    _exit(sig == SIGSEGV && on_alt(&local) && si->si_code == SEGV_MAPERR ? 40 : 41);
}

/* The stack's limit low enough that the host's overflow comes soon too. */
static void small_stack(void)
{
    struct rlimit rl = { 1 << 20, 1 << 20 };
    setrlimit(RLIMIT_STACK, &rl);
}

static int overflow_on_altstack(void)
{
    small_stack();
    struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO | SA_ONSTACK };
    sigaction(SIGSEGV, &sa, NULL);
    return deep(0) ? 42 : 43;
}

static int overflow_without_altstack(void)
{
    small_stack();
    stack_t off = { .ss_flags = SS_DISABLE };
    sigaltstack(&off, NULL);
    struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO | SA_ONSTACK };
    sigaction(SIGSEGV, &sa, NULL);
    return deep(0) ? 44 : 45;           /* no room for the frame: SIGSEGV's default action */
}

static int fork_keeps_altstack(void)
{
    stack_t ss;
    sigaltstack(NULL, &ss);
    return ss.ss_sp == alt && ss.ss_size == ALT_SIZE && ss.ss_flags == 0 ? 50 : 51;
}

static void altstack_cases(const char *self)
{
    stack_t ss;
    show_altstack("sigaltstack at start");
    alt = malloc(ALT_SIZE);
    ss = (stack_t){ .ss_sp = alt, .ss_size = 1000 };
    ss_call("sigaltstack size 1000", &ss, NULL);
    ss = (stack_t){ .ss_sp = alt, .ss_size = ALT_SIZE, .ss_flags = 5 };
    ss_call("sigaltstack flags 5", &ss, NULL);
    ss_call("sigaltstack unreadable", (const stack_t *)8, NULL);
    ss = (stack_t){ .ss_sp = alt, .ss_size = ALT_SIZE };
    ss_call("sigaltstack set", &ss, NULL);
    show_altstack("sigaltstack now");
    ss_call("sigaltstack old unwritable", &ss, (stack_t *)8);
    show_altstack("sigaltstack after");

    /* A handler called on the way back from a call: with SA_ONSTACK on it, without not. */
    handle(SIGUSR1, on_where, SA_ONSTACK);
    flag = 0;
    raise(SIGUSR1);
    printf("SA_ONSTACK handler: on the alternate stack %d, its flags %d, changing it %s\n", where, flags_inside,
           errname(eperm_inside));
    handle(SIGUSR1, on_where, 0);
    raise(SIGUSR1);
    printf("handler without SA_ONSTACK: on the alternate stack %d, its flags %d\n", where, flags_inside);
    report("SA_ONSTACK handler interrupting a loop", watched(async_on_altstack));
    report("stack overflow, SIGSEGV on the alternate stack", watched(overflow_on_altstack));
    report("stack overflow without one", watched(overflow_without_altstack));
    report("fork keeps the alternate stack", watched(fork_keeps_altstack));

    /* execve: the new image has none. */
    pid_t pid = fork();
    if (pid == 0) {
        execve(self, (char *[]){ (char *)self, "exec", NULL }, (char *[]){ NULL });
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    printf("exec'd child: exit %d\n", WEXITSTATUS(status));

    ss = (stack_t){ .ss_flags = SS_DISABLE };
    ss_call("sigaltstack disable", &ss, NULL);
    show_altstack("sigaltstack disabled");
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1) {                     /* run again by execve */
        stack_t ss;
        sigaltstack(NULL, &ss);
        return ss.ss_flags == SS_DISABLE && !ss.ss_sp && !ss.ss_size ? 60 : 61;
    }
    report("alarm(1) to a pure loop", watched(alarm_in_a_loop));
    report("setitimer to a pure loop, three times", watched(itimer_in_a_loop));
    kill_to_a_spinning_child();
    report("signals to a further thread spinning", watched(threads_spinning));
    report("registers across 20 asynchronous handlers", watched(registers_kept));
    report("AVX upper halves across 20 handlers that wipe them", watched(ymm_kept));
    report("ITIMER_VIRTUAL while spinning", watched(virtual_fires));
    report("ITIMER_PROF while spinning", watched(prof_fires));
    report("ITIMER_VIRTUAL while asleep, then spinning", watched(virtual_waits_while_asleep));
    report("ITIMER_PROF's default action", watched(prof_interval_then_default));
    altstack_cases(argv[0]);
    return 0;
}
