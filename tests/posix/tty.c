/*
 * The console as a terminal, through its ioctls: the line discipline's
 * settings (ICANON, ECHO, ISIG, VINTR, VMIN) read and set back, a read
 * in non-canonical mode with VMIN 0 (nothing typed: 0 at once), a read
 * with O_NONBLOCK (EAGAIN), poll with nothing typed, FIONREAD, the
 * window size set and read back, the foreground group (TIOCGPGRP,
 * TIOCSPGRP: ESRCH for a group with no process, EINVAL for a negative
 * one, ENOTTY on a pipe).  On the host it runs on a pseudo-terminal.
 */
#include "common.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    struct termios t, saved;
    CHECK("tcgetattr", tcgetattr(0, &t));
    saved = t;
    printf("canonical %d, echo %d, signals %d, VINTR %d, VMIN %d\n", !!(t.c_lflag & ICANON), !!(t.c_lflag & ECHO),
           !!(t.c_lflag & ISIG), t.c_cc[VINTR], t.c_cc[VMIN]);
    t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    CHECK("tcsetattr raw", tcsetattr(0, TCSANOW, &t));
    struct termios back;
    tcgetattr(0, &back);
    printf("raw read back: canonical %d, echo %d, VMIN %d\n", !!(back.c_lflag & ICANON), !!(back.c_lflag & ECHO),
           back.c_cc[VMIN]);
    char c;
    printf("read with VMIN 0, nothing typed: %ld\n", (long)read(0, &c, 1));
    int n = -1;
    CHECK("FIONREAD", ioctl(0, FIONREAD, &n));
    printf("bytes ready: %d\n", n);
    CHECK("tcsetattr back", tcsetattr(0, TCSAFLUSH, &saved));
    int fl = fcntl(0, F_GETFL);
    fcntl(0, F_SETFL, fl | O_NONBLOCK);
    CHECK("read with O_NONBLOCK, nothing typed", read(0, &c, 1));
    fcntl(0, F_SETFL, fl);
    struct pollfd p = { .fd = 0, .events = POLLIN };
    printf("poll for input, 20 ms: %d\n", poll(&p, 1, 20));
    p.events = POLLOUT;
    n = poll(&p, 1, 0);
    printf("poll for output: %d, revents %#x\n", n, p.revents);

    struct winsize w = { .ws_row = 30, .ws_col = 100 }, got = { 0 };
    CHECK("TIOCSWINSZ", ioctl(0, TIOCSWINSZ, &w));
    CHECK("TIOCGWINSZ", ioctl(0, TIOCGWINSZ, &got));
    printf("window %ux%u\n", got.ws_row, got.ws_col);

    pid_t fg = -1;
    CHECK("TIOCGPGRP", ioctl(0, TIOCGPGRP, &fg));
    printf("foreground group is mine: %s\n", fg == getpgrp() ? "yes" : "no");
    pid_t none = 999999, neg = -5, mine = getpgrp();
    CHECK("TIOCSPGRP to no such group", ioctl(0, TIOCSPGRP, &none));
    CHECK("TIOCSPGRP to a negative group", ioctl(0, TIOCSPGRP, &neg));
    CHECK("TIOCSPGRP to mine", ioctl(0, TIOCSPGRP, &mine));
    CHECK("TIOCGPGRP of a bad address", ioctl(0, TIOCGPGRP, (void *)8));
    int fds[2];
    pipe(fds);
    CHECK("TCGETS on a pipe", ioctl(fds[0], TCGETS, &t));
    CHECK("TCGETS on a closed descriptor", ioctl(40, TCGETS, &t));
    return 0;
}
