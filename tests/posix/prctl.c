/*
 * prctl's options programs use: the process's name (PR_SET_NAME, cut to
 * 15 bytes, seen in /proc/self/stat and comm), the dumpable and no-new-privileges
 * flags, the parent-death signal (not inherited by a fork's child, sent
 * when the parent ends), and EINVAL and EFAULT.
 */
#define _GNU_SOURCE
#include "common.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void show(const char *what, long r)
{
    printf("%s: %ld %s\n", what, r, r < 0 ? errname(errno) : "ok");
}

/* A /proc file's text into buf (NUL-ended); its length, or -1 if it cannot be opened. */
static long slurp(const char *path, char *buf, size_t max)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, max - 1, f);
    fclose(f);
    buf[n] = 0;
    return (long)n;
}

/* The comm field of /proc/self/stat: between the first '(' and the last ')'. */
static void stat_name(void)
{
    char buf[512];
    if (slurp("/proc/self/stat", buf, sizeof buf) < 0) {
        printf("no /proc/self/stat\n");
        return;
    }
    char *open = strchr(buf, '('), *close = strrchr(buf, ')');
    if (open && close && close > open) {
        *close = 0;
        printf("/proc/self/stat name: %s\n", open + 1);
    }
}

static void comm_file(void)
{
    char buf[64];
    long n = slurp("/proc/self/comm", buf, sizeof buf);
    if (n < 0)
        printf("no /proc/self/comm\n");
    else
        printf("/proc/self/comm: %ld bytes: %s", n, buf);
}

static int pipe_fd[2];

static void on_usr1(int sig)
{
    (void)sig;
    (void)!write(pipe_fd[1], "parent gone\n", 12);
    _exit(0);
}

/*
 * A child whose own child asks for SIGUSR1 when its parent ends; the
 * middle one then ends, and the grandchild says what came through the
 * pipe.
 */
static void death_signal(void)
{
    int ready[2];
    if (pipe(pipe_fd) || pipe(ready))
        return;
    pid_t mid = fork();
    if (mid == 0) {
        pid_t g = fork();
        if (g == 0) {
            signal(SIGUSR1, on_usr1);
            prctl(PR_SET_PDEATHSIG, SIGUSR1);
            (void)!write(ready[1], "r", 1);
            for (;;)
                pause();
        }
        char c;
        (void)!read(ready[0], &c, 1);
        _exit(3);                       /* the grandchild's parent ends */
    }
    int status;
    waitpid(mid, &status, 0);
    close(pipe_fd[1]);
    char buf[64] = { 0 };
    ssize_t n = read(pipe_fd[0], buf, sizeof buf - 1);
    printf("middle child: exit %d; grandchild: %s", WEXITSTATUS(status), n > 0 ? buf : "nothing\n");
    close(pipe_fd[0]);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    char name[32];
    show("PR_SET_NAME", prctl(PR_SET_NAME, "pith-test-name-that-is-long"));
    memset(name, 'x', sizeof name);
    show("PR_GET_NAME", prctl(PR_GET_NAME, name));
    printf("name: %s (%zu bytes, then %d)\n", name, strlen(name), name[16] == 'x');
    stat_name();
    comm_file();
    show("PR_SET_NAME short", prctl(PR_SET_NAME, "short"));
    prctl(PR_GET_NAME, name);
    printf("name: %s\n", name);
    show("PR_SET_NAME unreadable", prctl(PR_SET_NAME, (char *)8));
    show("PR_GET_NAME unwritable", prctl(PR_GET_NAME, (char *)8));

    show("PR_GET_DUMPABLE", prctl(PR_GET_DUMPABLE));
    show("PR_SET_DUMPABLE 0", prctl(PR_SET_DUMPABLE, 0));
    show("PR_GET_DUMPABLE", prctl(PR_GET_DUMPABLE));
    show("PR_SET_DUMPABLE 2", prctl(PR_SET_DUMPABLE, 2));
    show("PR_SET_DUMPABLE 1", prctl(PR_SET_DUMPABLE, 1));

    show("PR_GET_NO_NEW_PRIVS", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    show("PR_SET_NO_NEW_PRIVS 0", prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0));
    show("PR_SET_NO_NEW_PRIVS 1", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
    show("PR_GET_NO_NEW_PRIVS", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));

    int sig = -1;
    show("PR_GET_PDEATHSIG", prctl(PR_GET_PDEATHSIG, &sig));
    printf("pdeathsig: %d\n", sig);
    show("PR_SET_PDEATHSIG 65", prctl(PR_SET_PDEATHSIG, 65));
    show("PR_SET_PDEATHSIG SIGUSR2", prctl(PR_SET_PDEATHSIG, SIGUSR2));
    prctl(PR_GET_PDEATHSIG, &sig);
    printf("pdeathsig: %d\n", sig);
    show("PR_GET_PDEATHSIG unwritable", prctl(PR_GET_PDEATHSIG, (int *)8));
    pid_t c = fork();
    if (c == 0) {
        int s = -1;
        prctl(PR_GET_PDEATHSIG, &s);
        _exit(s == 0 ? 0 : 1);          /* not inherited */
    }
    int status;
    waitpid(c, &status, 0);
    printf("a fork's child's pdeathsig is 0: %s\n", WEXITSTATUS(status) == 0 ? "yes" : "no");
    prctl(PR_SET_PDEATHSIG, 0);
    death_signal();

    show("option 9999", prctl(9999, 0, 0, 0, 0));
    return 0;
}
