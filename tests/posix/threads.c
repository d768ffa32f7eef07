/*
 * Threads (musl's pthreads over clone, futex, set_tid_address, tkill):
 * create and join many, a mutex and a condition variable under
 * contention, thread-local storage, pthread_kill to a thread, detached
 * threads, timeouts; the futex calls' errors (EAGAIN, ETIMEDOUT, EINVAL,
 * EFAULT, ENOSYS, EINTR), tgkill to a thread that has ended (ESRCH);
 * exit_group from a thread, the main thread's pthread_exit.  Threads
 * kept waiting in calls of one kind at once (two pipe reads, a poll and a
 * read, two waitpids), a stop signal stopping every thread until SIGCONT,
 * a process-directed signal interrupting the one thread not blocking it.
 */
#include "common.h"

#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* musl's headers do not carry the futex operations: Linux's numbers. */
#define FUTEX_WAIT                0
#define FUTEX_WAKE                1
#define FUTEX_WAIT_BITSET         9
#define FUTEX_WAKE_BITSET         10
#define FUTEX_PRIVATE_FLAG        128
#define FUTEX_CLOCK_REALTIME      256
#define FUTEX_WAIT_PRIVATE        (FUTEX_WAIT | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAKE_PRIVATE        (FUTEX_WAKE | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAIT_BITSET_PRIVATE (FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAKE_BITSET_PRIVATE (FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG)
#define CLONE_VM     0x00000100
#define CLONE_THREAD 0x00010000

#define STACK (64 * 1024)               /* small stacks: a thread's memory comes back at the process's end */

static _Thread_local int local = 5;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long counter;
static pid_t tids[8];

/* errname with ETIMEDOUT, which only this test meets. */
static const char *ename(int e) { return e == ETIMEDOUT ? "ETIMEDOUT" : errname(e); }
#define TCHECK(name, call) do { errno = 0; long r_ = (long)(call); \
    printf("%s: %s\n", name, r_ < 0 ? ename(errno) : "ok"); } while (0)

static long futex(void *addr, int op, uint32_t val, const struct timespec *ts, uint32_t val3)
{
    return syscall(SYS_futex, addr, op, val, ts, NULL, val3);
}

static pthread_t start(void *(*fn)(void *), void *arg, int detached)
{
    pthread_attr_t a;
    pthread_t t;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, STACK);
    pthread_attr_setdetachstate(&a, detached ? PTHREAD_CREATE_DETACHED : PTHREAD_CREATE_JOINABLE);
    int err = pthread_create(&t, &a, fn, arg);
    if (err)
        printf("pthread_create: %s\n", errname(err));
    pthread_attr_destroy(&a);
    return t;
}

static void nap(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);
}

/* Each of 8 threads: its tid, its own thread-local copy, 1000 increments under the mutex. */
static void *worker(void *arg)
{
    long i = (long)arg;
    tids[i] = (pid_t)syscall(SYS_gettid);
    local = (int)i * 10;
    for (int n = 0; n < 1000; n++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
        if (n % 100 == 0)
            sched_yield();
    }
    return (void *)(long)(local == (int)i * 10 ? i * 2 : -1);
}

static void many(void)
{
    pthread_t t[8];
    for (long i = 0; i < 8; i++)
        t[i] = start(worker, (void *)i, 0);
    long sum = 0;
    for (int i = 0; i < 8; i++) {
        void *r;
        pthread_join(t[i], &r);
        sum += (long)r;
    }
    int distinct = 1;
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < i; j++)
            distinct &= tids[i] != tids[j] && tids[i] != getpid() && tids[i] > 0;
    printf("8 threads joined: results %ld, counter %ld, tids distinct %d, main's local %d\n", sum, counter, distinct,
           local);
    printf("tgkill to an ended thread: %s\n", syscall(SYS_tgkill, getpid(), tids[0], 0) < 0 ? errname(errno) : "ok");
}

/* A queue of one slot: 4 producers hand 200 items each to 2 consumers through the condition variable. */
static int slot_full, consumed;
static void *producer(void *arg)
{
    (void)arg;
    for (int n = 0; n < 200; n++) {
        pthread_mutex_lock(&lock);
        while (slot_full)
            pthread_cond_wait(&cond, &lock);
        slot_full = 1;
        pthread_cond_broadcast(&cond);
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}
static void *consumer(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&lock);
        while (!slot_full && consumed < 800)
            pthread_cond_wait(&cond, &lock);
        if (consumed == 800) {
            pthread_mutex_unlock(&lock);
            return NULL;
        }
        slot_full = 0;
        if (++consumed == 800)
            pthread_cond_broadcast(&cond);
        pthread_cond_broadcast(&cond);
        pthread_mutex_unlock(&lock);
    }
}

static void contention(void)
{
    pthread_t t[6];
    for (int i = 0; i < 6; i++)
        t[i] = start(i < 4 ? producer : consumer, NULL, 0);
    for (int i = 0; i < 6; i++)
        pthread_join(t[i], NULL);
    printf("condition variable: %d items consumed\n", consumed);
}

/* pthread_kill: the handler runs in the thread named. */
static volatile sig_atomic_t hit;
static volatile pid_t hit_tid;
static void on_usr1(int sig) { (void)sig; hit_tid = (pid_t)syscall(SYS_gettid); hit = 1; }
static pid_t target_tid;
static void *target(void *arg)
{
    (void)arg;
    target_tid = (pid_t)syscall(SYS_gettid);
    while (!hit)
        sched_yield();
    return (void *)(long)(hit_tid == target_tid);
}

/* A thread waiting on a futex nobody wakes, interrupted by a handler: EINTR. */
static int never;
static void *waits(void *arg)
{
    (void)arg;
    target_tid = (pid_t)syscall(SYS_gettid);
    long r = futex(&never, FUTEX_WAIT_PRIVATE, 0, NULL, 0);
    return (void *)(long)(r < 0 ? errno : 0);
}

static void signals(void)
{
    struct sigaction sa = { .sa_handler = on_usr1 };     /* no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    pthread_t t = start(target, NULL, 0);
    while (!target_tid)
        sched_yield();
    printf("pthread_kill: %s\n", errname(pthread_kill(t, SIGUSR1)));
    void *r;
    pthread_join(t, &r);
    printf("handler ran in the thread named: %ld\n", (long)r);
    target_tid = 0, hit = 0;
    t = start(waits, NULL, 0);
    while (!target_tid)
        sched_yield();
    nap(30);                            /* it is in its wait */
    pthread_kill(t, SIGUSR1);
    pthread_join(t, &r);
    printf("futex wait interrupted: %s, handler ran %d\n", errname((int)(long)r), (int)hit);
    printf("pthread_kill with signal 100: %s\n", errname(pthread_kill(pthread_self(), 100)));
}

/* Detached threads count up and post a semaphore; nobody joins them. */
static atomic_int detached_runs;
static sem_t done;
static void *detached(void *arg)
{
    (void)arg;
    atomic_fetch_add(&detached_runs, 1);
    sem_post(&done);
    return NULL;
}

static void timeouts(void)
{
    struct timespec at;
    clock_gettime(CLOCK_REALTIME, &at);
    at.tv_nsec += 30000000;
    if (at.tv_nsec >= 1000000000)
        at.tv_sec++, at.tv_nsec -= 1000000000;
    pthread_mutex_lock(&lock);
    printf("cond_timedwait: %s\n", ename(pthread_cond_timedwait(&cond, &lock, &at)));
    pthread_mutex_unlock(&lock);
    struct timespec rel = { 0, 20000000 }, bad = { 0, 1000000000 };
    uint32_t word = 1;
    TCHECK("futex wait, value differs (EAGAIN)", futex(&word, FUTEX_WAIT_PRIVATE, 2, NULL, 0));
    TCHECK("futex wait 20 ms (ETIMEDOUT)", futex(&word, FUTEX_WAIT_PRIVATE, 1, &rel, 0));
    TCHECK("futex wait, shared (ETIMEDOUT)", futex(&word, FUTEX_WAIT, 1, &rel, 0));
    TCHECK("futex wait, bad timeout (EINVAL)", futex(&word, FUTEX_WAIT_PRIVATE, 1, &bad, 0));
    TCHECK("futex wait, unaligned (EINVAL)", futex((char *)&word + 1, FUTEX_WAIT_PRIVATE, 1, NULL, 0));
    TCHECK("futex wait, bad address (EFAULT)", futex((void *)8, FUTEX_WAIT_PRIVATE, 1, NULL, 0));
    TCHECK("futex wait_bitset, bitset 0 (EINVAL)", futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 1, NULL, 0));
    TCHECK("futex wake_bitset, bitset 0 (EINVAL)", futex(&word, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, 0));
    TCHECK("futex op 99 (ENOSYS)", futex(&word, 99, 1, NULL, 0));
    printf("futex wake, nobody waits: %ld\n", futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL, 0));
    struct timespec past = { 1, 0 };
    TCHECK("futex wait_bitset, deadline passed (ETIMEDOUT)",
          futex(&word, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 1, &past, ~0u));
    TCHECK("clone CLONE_THREAD without CLONE_SIGHAND (EINVAL)", syscall(SYS_clone, CLONE_THREAD | CLONE_VM, 0, 0, 0, 0));
    TCHECK("tgkill, bad signal (EINVAL)", syscall(SYS_tgkill, getpid(), getpid(), 100));
}

/* A bitset wake reaches only a waiter whose bitset it meets. */
static uint32_t bits_word;
static volatile int bits_woken;
static void *bits_waiter(void *arg)
{
    futex(&bits_word, FUTEX_WAIT_BITSET_PRIVATE, 0, NULL, (uint32_t)(long)arg);
    bits_woken |= (int)(long)arg;
    return NULL;
}

static void bitsets(void)
{
    pthread_t a = start(bits_waiter, (void *)1l, 0), b = start(bits_waiter, (void *)2l, 0);
    nap(30);
    long n = futex(&bits_word, FUTEX_WAKE_BITSET_PRIVATE, 2, NULL, 2);
    nap(30);
    printf("wake_bitset 2: woke %ld, woken set %d\n", n, bits_woken);
    n = futex(&bits_word, FUTEX_WAKE_PRIVATE, 2, NULL, 0);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("wake: woke %ld, woken set %d\n", n, bits_woken);
}

/* Three threads asleep at once, each woken at its own time. */
static void *sleeper(void *arg)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    nap((long)arg);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    return (void *)(long)(ms >= (long)arg);
}

static void sleepers(void)
{
    pthread_t t[3];
    for (long i = 0; i < 3; i++)
        t[i] = start(sleeper, (void *)(20 + 10 * i), 0);
    long ok = 0;
    for (int i = 0; i < 3; i++) {
        void *r;
        pthread_join(t[i], &r);
        ok += (long)r;
    }
    printf("threads asleep at once, each its time: %ld of 3\n", ok);
}

/* A thread reading one byte from the pipe given: what it read, or -errno. */
static void *reader(void *arg)
{
    char c;
    long r = read((int)(long)arg, &c, 1);
    return (void *)(r == 1 ? (long)c : r < 0 ? -(long)errno : 0);
}

static void *poller(void *arg)
{
    struct pollfd p = { .fd = (int)(long)arg, .events = POLLIN };
    long n = poll(&p, 1, -1);
    return (void *)(n == 1 && (p.revents & POLLIN) ? 1l : -1l);
}

static void *waiter(void *arg)
{
    int st;
    pid_t c = (pid_t)(long)arg;
    return (void *)(long)(waitpid(c, &st, 0) == c && WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* Threads kept waiting in calls of one kind at once, each answered when its own turn comes. */
static void kept_at_once(void)
{
    int a[2], b[2], c[2], d[2];
    pipe(a), pipe(b), pipe(c), pipe(d);
    pthread_t ta = start(reader, (void *)(long)a[0], 0), tb = start(reader, (void *)(long)b[0], 0);
    nap(30);                            /* both are in their reads */
    write(b[1], "b", 1);
    void *rb, *ra;
    pthread_join(tb, &rb);
    write(a[1], "a", 1);
    pthread_join(ta, &ra);
    printf("two threads blocked on two pipes: read '%c', then '%c'\n", (int)(long)rb, (int)(long)ra);
    pthread_t tp = start(poller, (void *)(long)c[0], 0), tr = start(reader, (void *)(long)d[0], 0);
    nap(30);
    write(d[1], "d", 1);
    void *rp, *rr;
    pthread_join(tr, &rr);
    write(c[1], "c", 1);
    pthread_join(tp, &rp);
    printf("one thread in poll, one in read: read '%c', poll %ld\n", (int)(long)rr, (long)rp);
    /* Two children, each ending when its pipe has a byte; a thread waits for each. */
    pid_t kid[2];
    int go[2][2];
    for (int i = 0; i < 2; i++) {
        pipe(go[i]);
        fflush(stdout);
        if ((kid[i] = fork()) == 0) {
            char ch;
            read(go[i][0], &ch, 1);
            _exit(3 + i);
        }
    }
    pthread_t w0 = start(waiter, (void *)(long)kid[0], 0), w1 = start(waiter, (void *)(long)kid[1], 0);
    nap(30);
    write(go[1][1], "x", 1);
    void *s0, *s1;
    pthread_join(w1, &s1);
    write(go[0][1], "x", 1);
    pthread_join(w0, &s0);
    printf("two threads in waitpid: statuses %ld and %ld\n", (long)s0, (long)s1);
    for (int i = 0; i < 2; i++)
        close(go[i][0]), close(go[i][1]);
    int all[] = { a[0], a[1], b[0], b[1], c[0], c[1], d[0], d[1] };
    for (int i = 0; i < 8; i++)
        close(all[i]);
}

/* In a child: a thread counting (in memory shared with the parent), the main thread in a read. */
static void *counting(void *arg)
{
    volatile long *n = arg;
    for (;;) {
        ++*n;
        if (*n % 64 == 0)
            sched_yield();
    }
    return NULL;
}

/* The count after it has advanced, waiting up to 5 s: 0 if it does not. */
static long advanced(volatile long *n, long from)
{
    for (int i = 0; i < 500 && *n <= from; i++)
        nap(10);
    return *n > from;
}

static void stop_all(void)
{
    volatile long *n = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int p[2];
    pipe(p);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        start(counting, (void *)n, 1);
        char ch;
        read(p[0], &ch, 1);             /* nobody writes: kept until the end */
        _exit(1);
    }
    int st;
    printf("the child's thread counts: %ld\n", advanced(n, 0));
    kill(c, SIGSTOP);
    printf("stopped: %d\n", waitpid(c, &st, WUNTRACED) == c && WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP);
    long at = *n;
    nap(100);
    printf("its thread stopped counting: %d\n", *n == at);
    kill(c, SIGCONT);
    printf("continued: %d\n", waitpid(c, &st, WCONTINUED) == c && WIFCONTINUED(st));
    printf("its thread counts again: %ld\n", advanced(n, at));
    kill(c, SIGKILL);
    printf("killed: %d\n", waitpid(c, &st, 0) == c && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    close(p[0]), close(p[1]);
    munmap((void *)n, 4096);
}

/* A process-directed signal, blocked by the main thread: it interrupts the other thread's read. */
static volatile pid_t usr2_tid;
static void on_usr2(int sig) { (void)sig; usr2_tid = (pid_t)syscall(SYS_gettid); }
static volatile pid_t unblocked_tid;
static void *unblocked_reader(void *arg)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2);
    pthread_sigmask(SIG_UNBLOCK, &s, NULL);
    unblocked_tid = (pid_t)syscall(SYS_gettid);
    return reader(arg);
}

static void directed(void)
{
    struct sigaction sa = { .sa_handler = on_usr2 };     /* no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR2, &sa, NULL);
    sigset_t s, old;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &s, &old);
    int p[2];
    pipe(p);
    pthread_t t = start(unblocked_reader, (void *)(long)p[0], 0);
    while (!unblocked_tid)
        sched_yield();
    nap(30);                            /* it is in its read */
    kill(getpid(), SIGUSR2);
    void *r;
    pthread_join(t, &r);
    printf("kill to the process, main blocking it: the other thread's read %s, handler in it %d\n",
           errname(-(int)(long)r), usr2_tid == unblocked_tid);
    usr2_tid = 0, unblocked_tid = 0;
    t = start(unblocked_reader, (void *)(long)p[0], 0);
    while (!unblocked_tid)
        sched_yield();
    nap(30);
    pthread_kill(t, SIGUSR2);
    pthread_join(t, &r);
    printf("pthread_kill to a thread in a pipe read: %s, handler in it %d\n", errname(-(int)(long)r),
           usr2_tid == unblocked_tid);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(p[0]), close(p[1]);
}

/* In a child: a thread ends the whole process with _exit while main waits in a join. */
static void *ender(void *arg) { (void)arg; nap(20); _exit(6); }
static void *outliver(void *arg)
{
    (void)arg;
    nap(30);
    printf("a thread outlived main's pthread_exit\n");
    fflush(stdout);
    return NULL;
}

/* The forked child's main thread has no clear-tid word (musl sets it at start only), so it execs us again. */
static void endings(const char *self)
{
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        pthread_join(start(ender, NULL, 0), NULL);
        _exit(1);
    }
    int st;
    waitpid(c, &st, 0);
    printf("exit_group from a thread: status %d\n", WEXITSTATUS(st));
    c = fork();
    if (c == 0) {
        execve(self, (char *[]){ (char *)self, "pthread_exit", NULL }, (char *[]){ NULL });
        _exit(1);
    }
    waitpid(c, &st, 0);
    printf("main's pthread_exit: status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1) {                     /* run again by endings() */
        start(outliver, NULL, 0);
        pthread_exit(NULL);
    }
    printf("gettid is the pid: %d\n", syscall(SYS_gettid) == getpid());
    many();
    contention();
    signals();
    sem_init(&done, 0, 0);
    for (int i = 0; i < 4; i++)
        start(detached, NULL, 1);
    for (int i = 0; i < 4; i++)
        sem_wait(&done);
    printf("detached threads ran: %d\n", atomic_load(&detached_runs));
    timeouts();
    bitsets();
    sleepers();
    kept_at_once();
    stop_all();
    directed();
    endings(argv[0]);
    return 0;
}
