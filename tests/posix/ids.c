/*
 * getpid, gettid, getppid, getpgrp, getpgid, getsid and the uid calls
 * (answered in Pith's kernel from the personality's map, docs/posix.md)
 * against what the personality itself says (wait's pid, getpgid and
 * getsid of a pid, which the map never answers): in a process, a forked
 * child, after execve, a child whose parent ends (reparented: getppid 1
 * under Pith, away from the dead parent on any Linux), a further thread;
 * and signals still reach a process that makes no call but getpid: a
 * handler's, a stop and a continue.
 */
#include "common.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long sys0(long nr) { return syscall(nr); }

static const char *yes(int c) { return c ? "yes" : "no"; }

/* Every identity call of this process agrees with the server's answers. */
static int ids_agree(pid_t pid)
{
    return sys0(SYS_getpid) == pid && sys0(SYS_gettid) == pid && syscall(SYS_getpgid, 0) == syscall(SYS_getpgid, pid) &&
           sys0(SYS_getpgrp) == syscall(SYS_getpgid, pid) && syscall(SYS_getsid, 0) == syscall(SYS_getsid, pid) &&
           sys0(SYS_getuid) == (long)getuid() && sys0(SYS_geteuid) == sys0(SYS_getuid) &&
           sys0(SYS_getgid) == sys0(SYS_getegid);
}

static volatile sig_atomic_t got_usr1;
static void on_usr1(int sig) { (void)sig; got_usr1 = 1; }

static void *thread_ids(void *arg)
{
    long *out = arg;
    out[0] = sys0(SYS_getpid), out[1] = sys0(SYS_gettid), out[2] = sys0(SYS_getppid);
    return NULL;
}

static void pause_ms(long ms)
{
    struct timespec ts = { 0, ms * 1000000 };
    nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc == 3) {                    /* run again by execve: the pid and parent it had before */
        pid_t pid = (pid_t)atoi(argv[1]), ppid = (pid_t)atoi(argv[2]);
        return sys0(SYS_getpid) == pid && sys0(SYS_getppid) == ppid && ids_agree(pid) ? 42 : 1;
    }
    struct utsname u;
    uname(&u);
    int pith = strstr(u.release, "pith") != NULL;
    pid_t me = getpid();
    printf("ids agree: %s\n", yes(ids_agree(me)));
    printf("getpid twice the same: %s\n", yes(sys0(SYS_getpid) == sys0(SYS_getpid)));

    /* A forked child: its pid is what wait returns, its parent us. */
    int fds[2], st;
    CHECK("pipe", pipe(fds));
    pid_t c = fork();
    if (c == 0) {
        long v[3] = { sys0(SYS_getpid), sys0(SYS_getppid), ids_agree(getpid()) };
        write(fds[1], v, sizeof v);
        _exit(0);
    }
    long v[3];
    read(fds[0], v, sizeof v);
    pid_t w = waitpid(c, &st, 0);
    printf("child: pid is wait's %s, parent us %s, ids agree %s\n", yes(v[0] == w && w == c), yes(v[1] == me),
           yes(v[2] == 1));

    /* After execve: the same pid and parent. */
    c = fork();
    if (c == 0) {
        char a[16], b[16];
        snprintf(a, sizeof a, "%d", (int)getpid());
        snprintf(b, sizeof b, "%d", (int)getppid());
        char *args[] = { argv[0], a, b, NULL };
        execv(argv[0], args);
        _exit(2);
    }
    waitpid(c, &st, 0);
    printf("after execve: ids kept %s\n", yes(WIFEXITED(st) && WEXITSTATUS(st) == 42));

    /* A grandchild whose parent ends: reparented. */
    c = fork();
    if (c == 0) {
        pid_t parent = getpid(), g = fork();
        if (g == 0) {
            while (sys0(SYS_getppid) == parent)
                pause_ms(5);
            long ppid = sys0(SYS_getppid);
            char r = ppid != parent && (!pith || ppid == 1) && ids_agree(getpid()) ? 'y' : 'n';
            write(fds[1], &r, 1);
            _exit(0);
        }
        _exit(0);
    }
    waitpid(c, &st, 0);
    char r = 0;
    read(fds[0], &r, 1);
    printf("orphan reparented: %s\n", yes(r == 'y'));

    /* A further thread: its own tid, the process's pid and parent. */
    pthread_t t;
    long tv[3] = { 0 };
    pthread_create(&t, NULL, thread_ids, tv);
    pthread_join(t, NULL);
    printf("thread: pid %s, own tid %s, parent %s\n", yes(tv[0] == me), yes(tv[1] != me && tv[1] > 0),
           yes(tv[2] == getppid()));
    printf("after the thread: ids agree %s\n", yes(ids_agree(me)));

    /* A child making no call but getpid: a handler's signal, a stop and a continue reach it. */
    c = fork();
    if (c == 0) {
        signal(SIGUSR1, on_usr1);
        write(fds[1], "r", 1);
        while (!got_usr1)
            sys0(SYS_getpid);
        _exit(42);
    }
    read(fds[0], &r, 1);
    kill(c, SIGSTOP);
    w = waitpid(c, &st, WUNTRACED);
    printf("spinning child stopped: %s\n", yes(w == c && WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP));
    kill(c, SIGCONT);
    kill(c, SIGUSR1);
    w = waitpid(c, &st, 0);
    printf("spinning child's handler ran: %s, status %d\n", yes(w == c && WIFEXITED(st)), WEXITSTATUS(st));

    /* And a signal whose default action ends it. */
    c = fork();
    if (c == 0) {
        write(fds[1], "r", 1);
        for (;;)
            sys0(SYS_getppid);
    }
    read(fds[0], &r, 1);
    kill(c, SIGTERM);
    w = waitpid(c, &st, 0);
    printf("spinning child terminated: %s, signal %d\n", yes(w == c && WIFSIGNALED(st)), WTERMSIG(st));
    return 0;
}
