/*
 * Stopping and continuing: a child stopping itself (SIGSTOP) seen by
 * waitpid with WUNTRACED, continued (SIGCONT, WCONTINUED), then exiting;
 * a sleeping child stopped by SIGSTOP, a SIGTERM held while it is
 * stopped and acting once SIGCONT comes; waitid's CLD_STOPPED and
 * CLD_CONTINUED; SIGCHLD on a stop, and none with SA_NOCLDSTOP; SIGKILL
 * ending a stopped child; waitid with no state to wait for: EINVAL.
 */
#include "common.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t chld_code, chld_count;

static void on_chld(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)uc;
    chld_code = si->si_code;
    chld_count++;
}

static void nap(long ms)
{
    struct timespec d = { ms / 1000, (ms % 1000) * 1000000 };
    while (nanosleep(&d, &d) && errno == EINTR)
        ;
}

static void show(const char *what, int st)
{
    if (WIFSTOPPED(st))
        printf("%s: stopped by %d\n", what, WSTOPSIG(st));
    else if (WIFCONTINUED(st))
        printf("%s: continued\n", what);
    else if (WIFSIGNALED(st))
        printf("%s: killed by %d\n", what, WTERMSIG(st));
    else
        printf("%s: exited %d\n", what, WEXITSTATUS(st));
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    int st;
    pid_t c = fork();
    if (c == 0) {
        raise(SIGSTOP);
        nap(300);                       /* still there when the parent waits for the continue */
        _exit(4);
    }
    printf("waitpid WUNTRACED: %s\n", waitpid(c, &st, WUNTRACED) == c ? "ok" : errname(errno));
    show("child", st);
    printf("WNOHANG while stopped: %d\n", waitpid(c, &st, WNOHANG | WUNTRACED));
    kill(c, SIGCONT);
    printf("waitpid WCONTINUED: %s\n", waitpid(c, &st, WCONTINUED) == c ? "ok" : errname(errno));
    show("child", st);
    waitpid(c, &st, 0);
    show("child", st);

    c = fork();
    if (c == 0) {
        nap(10000);
        _exit(5);
    }
    nap(50);
    kill(c, SIGSTOP);
    waitpid(c, &st, WUNTRACED);
    show("sleeper", st);
    kill(c, SIGTERM);
    nap(50);
    printf("SIGTERM held while stopped: %s\n", waitpid(c, &st, WNOHANG) == 0 ? "yes" : "no");
    kill(c, SIGCONT);
    waitpid(c, &st, 0);
    show("sleeper after SIGCONT", st);

    struct sigaction sa = { .sa_sigaction = on_chld, .sa_flags = SA_SIGINFO | SA_RESTART };
    sigaction(SIGCHLD, &sa, NULL);
    c = fork();
    if (c == 0) {
        raise(SIGSTOP);
        nap(300);                       /* still there when the parent waits for the continue */
        _exit(6);
    }
    siginfo_t si = { 0 };
    printf("waitid WSTOPPED: %s\n", waitid(P_PID, (id_t)c, &si, WSTOPPED) == 0 ? "ok" : errname(errno));
    printf("code %s, status %d\n", si.si_code == CLD_STOPPED ? "CLD_STOPPED" : "other", si.si_status);
    nap(20);
    printf("SIGCHLD on the stop: %d, %s\n", (int)chld_count, chld_code == CLD_STOPPED ? "CLD_STOPPED" : "other");
    kill(c, SIGCONT);
    printf("waitid WCONTINUED: %s\n", waitid(P_PID, (id_t)c, &si, WCONTINUED) == 0 ? "ok" : errname(errno));
    printf("code %s, status %d\n", si.si_code == CLD_CONTINUED ? "CLD_CONTINUED" : "other", si.si_status);
    waitpid(c, &st, 0);
    show("child", st);

    sa.sa_flags |= SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);
    chld_count = 0;
    c = fork();
    if (c == 0) {
        raise(SIGSTOP);
        _exit(7);
    }
    waitpid(c, &st, WUNTRACED);
    nap(20);
    printf("SIGCHLD on a stop with SA_NOCLDSTOP: %d\n", (int)chld_count);
    kill(c, SIGKILL);
    waitpid(c, &st, 0);
    show("stopped child", st);
    errno = 0;
    printf("waitid with nothing to wait for: %s\n", waitid(P_ALL, 0, &si, WNOHANG) < 0 ? errname(errno) : "ok");
    return 0;
}
