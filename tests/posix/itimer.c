/*
 * alarm, setitimer and getitimer (ITIMER_REAL): SIGALRM at expiry, the
 * seconds left, re-arming by the interval, none in a fork's child, the
 * default action, and the errors.  No timing is printed, only facts.
 */
#include "common.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

static void nap(long ms)
{
    struct timespec ts = { ms / 1000, ms % 1000 * 1000000 };
    nanosleep(&ts, NULL);
}

static struct itimerval get(void)
{
    struct itimerval v;
    syscall(SYS_getitimer, ITIMER_REAL, &v);
    return v;
}

static int zero(struct itimerval v)
{
    return !v.it_value.tv_sec && !v.it_value.tv_usec && !v.it_interval.tv_sec && !v.it_interval.tv_usec;
}

static long set(long value_us, long interval_us, struct itimerval *old)
{
    struct itimerval v = { { interval_us / 1000000, interval_us % 1000000 }, { value_us / 1000000, value_us % 1000000 } };
    return syscall(SYS_setitimer, ITIMER_REAL, &v, old);
}

int main(void)
{
    struct sigaction sa = { .sa_handler = on_alarm };
    sigaction(SIGALRM, &sa, NULL);
    setvbuf(stdout, NULL, _IONBF, 0);

    /* alarm(1), SIGALRM blocked until sigsuspend waits for it. */
    sigset_t block, none;
    sigemptyset(&block);
    sigaddset(&block, SIGALRM);
    sigemptyset(&none);
    sigprocmask(SIG_BLOCK, &block, NULL);
    printf("alarm(1): %u\n", alarm(1));
    errno = 0;
    long n = sigsuspend(&none);
    printf("sigsuspend: %ld %s, handler ran %d\n", n, errname(errno), (int)alarms);
    sigprocmask(SIG_UNBLOCK, &block, NULL);

    /* pause: a 200 ms timer ends it (EINTR) once the handler has run. */
    set(200000, 0, NULL);
    errno = 0;
    n = pause();
    printf("pause: %ld %s, handler ran %d\n", n, errname(errno), (int)alarms);

    /* The seconds left of the previous alarm, then alarm(0) cancels. */
    alarm(10);
    printf("alarm(5) after alarm(10): %u\n", alarm(5));
    struct itimerval v = get();
    printf("getitimer: left in (0, 5 s]: %s, interval 0: %s\n",
           (v.it_value.tv_sec || v.it_value.tv_usec) && v.it_value.tv_sec < 5 + (v.it_value.tv_usec == 0) ? "yes" : "no",
           !v.it_interval.tv_sec && !v.it_interval.tv_usec ? "yes" : "no");
    printf("alarm(0): %u\n", alarm(0));
    printf("alarm(0) again: %u, getitimer zero: %s\n", alarm(0), zero(get()) ? "yes" : "no");

    /* 50 ms, every 50 ms: three SIGALRMs while sleeping, then cancelled with the old value read back. */
    alarms = 0;
    n = set(50000, 50000, NULL);
    for (int i = 0; i < 1000 && alarms < 3; i++)
        nap(10);
    struct itimerval old;
    long r = set(0, 0, &old);
    int got = alarms;
    printf("interval timer: set %ld, fired 3 times: %s, cancelled %ld, old interval 50 ms: %s\n", n,
           got >= 3 ? "yes" : "no", r, old.it_interval.tv_sec == 0 && old.it_interval.tv_usec == 50000 ? "yes" : "no");
    nap(150);
    printf("no more after cancel: %s, getitimer zero: %s\n", alarms == got ? "yes" : "no", zero(get()) ? "yes" : "no");

    /* getitimer: no more than was set. */
    set(2000000, 300000, NULL);
    v = get();
    printf("getitimer after 2 s: value <= set: %s, > 0: %s, interval 300 ms: %s\n",
           v.it_value.tv_sec < 2 || (v.it_value.tv_sec == 2 && v.it_value.tv_usec == 0) ? "yes" : "no",
           v.it_value.tv_sec || v.it_value.tv_usec ? "yes" : "no",
           v.it_interval.tv_sec == 0 && v.it_interval.tv_usec == 300000 ? "yes" : "no");

    /* A fork's child has no timer; the parent keeps its own. */
    pid_t c = fork();
    if (c == 0) {
        printf("child: getitimer zero: %s, alarm(0): %u\n", zero(get()) ? "yes" : "no", alarm(0));
        _exit(0);
    }
    waitpid(c, NULL, 0);
    printf("parent: timer kept: %s\n", zero(get()) ? "no" : "yes");
    set(0, 0, NULL);

    /* SIGALRM's default action ends the process. */
    c = fork();
    if (c == 0) {
        signal(SIGALRM, SIG_DFL);
        set(30000, 0, NULL);
        for (int i = 0; i < 500; i++)
            nap(10);
        _exit(0);
    }
    int st;
    waitpid(c, &st, 0);
    if (WIFSIGNALED(st))
        printf("child with SIGALRM's default action: killed by signal %d\n", WTERMSIG(st));
    else
        printf("child with SIGALRM's default action: exit %d\n", WEXITSTATUS(st));

    /* Errors. */
    struct itimerval bad = { { 0, 0 }, { 0, 1000000 } };
    CHECK("getitimer which 7", syscall(SYS_getitimer, 7, &v));
    CHECK("setitimer which 7", syscall(SYS_setitimer, 7, &bad, NULL));
    CHECK("setitimer tv_usec 1000000", syscall(SYS_setitimer, ITIMER_REAL, &bad, NULL));
    bad.it_value.tv_usec = -1;
    CHECK("setitimer tv_usec -1", syscall(SYS_setitimer, ITIMER_REAL, &bad, NULL));
    bad = (struct itimerval){ { 0, 1000000 }, { 1, 0 } };
    CHECK("setitimer interval tv_usec 1000000", syscall(SYS_setitimer, ITIMER_REAL, &bad, NULL));
    CHECK("getitimer bad address", syscall(SYS_getitimer, ITIMER_REAL, 8L));
    CHECK("setitimer bad new", syscall(SYS_setitimer, ITIMER_REAL, 8L, NULL));
    CHECK("setitimer bad old", syscall(SYS_setitimer, ITIMER_REAL, &(struct itimerval){ 0 }, 8L));
    printf("getitimer zero at the end: %s\n", zero(get()) ? "yes" : "no");
    return 0;
}
