/* fork, wait4/waitpid statuses, ECHILD, pipes between parent and child, EPIPE, execve. */
#include "common.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc > 1) {                     /* run again by execve */
        setvbuf(stdout, NULL, _IONBF, 0);
        printf("exec'd with %s, fd 7 open: %s\n", argv[1], write(7, "", 0) == 0 ? "yes" : "no");
        return 42;
    }
    setvbuf(stdout, NULL, _IONBF, 0);   /* no buffered lines copied into the children */
    int st;
    errno = 0;
    printf("wait with no children: %s\n", wait(&st) < 0 ? errname(errno) : "ok");
    pid_t c = fork();
    if (c == 0)
        exit(7);
    pid_t w = waitpid(c, &st, 0);
    printf("child exited: %s, status %d\n", w == c && WIFEXITED(st) ? "yes" : "no", WEXITSTATUS(st));
    c = fork();
    if (c == 0) {
        *(volatile int *)8 = 1;
        return 0;
    }
    w = waitpid(-1, &st, 0);
    printf("child killed: %s, signal %d\n", w == c && WIFSIGNALED(st) ? "yes" : "no", WTERMSIG(st));
    int fds[2];
    CHECK("pipe", pipe(fds));
    c = fork();
    if (c == 0) {
        close(fds[0]);
        char msg[64];
        int n = snprintf(msg, sizeof msg, "hello from the child, ppid ok: %s", getppid() > 1 ? "yes" : "no");
        write(fds[1], msg, (size_t)n);
        exit(0);
    }
    close(fds[1]);
    char buf[128];
    size_t got = 0;
    for (long n; (n = read(fds[0], buf + got, sizeof buf - 1 - got)) > 0;)
        got += (size_t)n;
    buf[got] = 0;
    printf("parent read: %s\n", buf);
    printf("then EOF: %s\n", read(fds[0], buf, 1) == 0 ? "yes" : "no");
    waitpid(c, &st, 0);
    close(fds[0]);
    printf("WNOHANG with none running: %s\n", waitpid(-1, &st, WNOHANG) < 0 ? errname(errno) : "ok");
    CHECK("pipe2", pipe(fds));
    close(fds[0]);
    signal(SIGPIPE, SIG_IGN);
    errno = 0;
    printf("write to a pipe without readers: %s\n", write(fds[1], "x", 1) < 0 && errno == EPIPE ? "EPIPE" : "no");
    signal(SIGPIPE, SIG_DFL);
    c = fork();
    if (c == 0) {
        write(fds[1], "x", 1);
        exit(0);
    }
    waitpid(c, &st, 0);
    printf("the writer killed by SIGPIPE: %s\n", WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE ? "yes" : "no");
    close(fds[1]);
    int p2[2];
    pipe(p2);
    dup2(p2[1], 7);
    c = fork();
    if (c == 0) {
        char *args[] = { argv[0], "an argument", NULL };
        execve(argv[0], args, (char *[]){ NULL });
        exit(99);
    }
    waitpid(c, &st, 0);
    printf("exec'd child status %d\n", WEXITSTATUS(st));
    c = fork();
    if (c == 0) {
        execve("/posix/none", (char *[]){ "none", NULL }, (char *[]){ NULL });
        exit(errno == ENOENT ? 3 : 4);
    }
    waitpid(c, &st, 0);
    printf("exec of a missing file: %s\n", WEXITSTATUS(st) == 3 ? "ENOENT" : "other");
    /* Four children at once, each blocked on a pipe until the parent writes. */
    int go[2];
    pipe(go);
    pid_t kids[4];
    for (int i = 0; i < 4; i++)
        if ((kids[i] = fork()) == 0) {
            char b;
            close(go[1]);
            exit(read(go[0], &b, 1) == 1 ? 10 + i : 1);
        }
    close(go[0]);
    write(go[1], "abcd", 4);
    int sum = 0;
    for (int i = 0; i < 4; i++) {
        waitpid(kids[i], &st, 0);
        sum += WEXITSTATUS(st);
    }
    printf("four children at once, statuses sum: %d\n", sum);
    close(go[1]);
    printf("pgid is the pid's group: %s\n", getpgid(0) == getpgrp() ? "yes" : "no");
    CHECK("setpgid", setpgid(0, 0));
    printf("then leads it: %s\n", getpgrp() == getpid() ? "yes" : "no");
    return 0;
}
