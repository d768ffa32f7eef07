/*
 * flock: shared and exclusive locks held by open file descriptions (two
 * opens of one file conflict, a dup or a fork's copy shares the lock,
 * the last close lets it go), conversion, LOCK_NB's EWOULDBLOCK, a wait
 * ended by the holder's unlock, one interrupted by a signal (EINTR),
 * independence from fcntl's record locks, and EBADF and EINVAL.
 */
#define _GNU_SOURCE
#include "common.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define F "/tmp/flock-test"

static void on_alarm(int sig) { (void)sig; }

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    int a = open(F, O_CREAT | O_RDWR | O_TRUNC, 0644), b = open(F, O_RDONLY);
    CHECK("bad fd", flock(99, LOCK_SH));
    CHECK("no operation", flock(a, 0));
    CHECK("shared and exclusive", flock(a, LOCK_SH | LOCK_EX));
    CHECK("only LOCK_NB", flock(a, LOCK_NB));
    CHECK("a: exclusive", flock(a, LOCK_EX));
    CHECK("a: exclusive again", flock(a, LOCK_EX | LOCK_NB));
    CHECK("b: exclusive", flock(b, LOCK_EX | LOCK_NB));
    printf("EWOULDBLOCK is EAGAIN: %d\n", EWOULDBLOCK == EAGAIN);
    CHECK("b: shared", flock(b, LOCK_SH | LOCK_NB));
    CHECK("a: unlock", flock(a, LOCK_UN));
    CHECK("b: unlock, holding none", flock(b, LOCK_UN));
    CHECK("a: shared", flock(a, LOCK_SH));
    CHECK("b: shared", flock(b, LOCK_SH | LOCK_NB));
    CHECK("b: to exclusive", flock(b, LOCK_EX | LOCK_NB));
    CHECK("a: to exclusive (b let go)", flock(a, LOCK_EX | LOCK_NB));
    CHECK("a: back to shared", flock(a, LOCK_SH | LOCK_NB));
    CHECK("b: shared", flock(b, LOCK_SH | LOCK_NB));
    flock(b, LOCK_UN);

    printf("-- dup and close\n");
    flock(a, LOCK_EX);
    int d = dup(a);
    close(a);
    CHECK("b: exclusive while a dup holds it", flock(b, LOCK_EX | LOCK_NB));
    close(d);
    CHECK("b: exclusive after the last close", flock(b, LOCK_EX | LOCK_NB));

    printf("-- fork\n");
    pid_t c = fork();
    if (c == 0) {
        CHECK("child: the shared description", flock(b, LOCK_EX | LOCK_NB));
        int e = open(F, O_RDONLY);
        CHECK("child: its own open", flock(e, LOCK_EX | LOCK_NB));
        _exit(0);
    }
    waitpid(c, NULL, 0);
    int e = open(F, O_RDONLY);
    CHECK("parent: the lock outlives the child", flock(e, LOCK_SH | LOCK_NB));
    close(e);

    printf("-- waiting\n");
    int pfd[2];
    pipe(pfd);
    c = fork();
    if (c == 0) {
        int f = open(F, O_RDONLY);
        write(pfd[1], "w", 1);
        CHECK("child: waited for the lock", flock(f, LOCK_SH));
        _exit(0);
    }
    char x;
    read(pfd[0], &x, 1);
    usleep(100000);
    printf("parent: unlocking\n");
    flock(b, LOCK_UN);
    waitpid(c, NULL, 0);
    flock(b, LOCK_EX);
    c = fork();
    if (c == 0) {
        struct sigaction sa = { .sa_handler = on_alarm };
        sigaction(SIGALRM, &sa, NULL);
        struct itimerval it = { .it_value = { 0, 100000 } };
        setitimer(ITIMER_REAL, &it, NULL);
        int f = open(F, O_RDONLY);
        CHECK("child: interrupted", flock(f, LOCK_EX));
        _exit(0);
    }
    waitpid(c, NULL, 0);

    printf("-- others\n");
    int w = open(F, O_RDWR);
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    CHECK("record lock beside a flock", fcntl(w, F_SETLK, &fl));
    CHECK("pipe: exclusive", flock(pfd[0], LOCK_EX | LOCK_NB));
    CHECK("pipe: other end", flock(pfd[1], LOCK_EX | LOCK_NB));
    close(w), close(b), close(pfd[0]), close(pfd[1]);
    unlink(F);
    return 0;
}
