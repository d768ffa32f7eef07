/*
 * The console as a Linux terminal: reads take a line from /dev/console
 * (console.idl), writes go in pieces of its message size, and ioctl
 * answers as a terminal in canonical mode with a 24x80 window.
 */
#include "personality.h"
#include "console.h"
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

static char pending[CONSOLE_READ_LINE_MAX + 2];   /* the rest of a console line a read did not take */
static size_t pending_at, pending_len;

long console_in(struct lproc *p, uint64_t buf, uint64_t n)
{
    if (pending_at == pending_len) {
        char line[CONSOLE_READ_LINE_MAX + 1];
        long err = console_read(&console, line);
        if (err == CONSOLE_E_INTERRUPTED)
            return -EINTR;
        if (err)
            return -EIO;
        pending_len = (size_t)snprintf(pending, sizeof pending, "%s\n", line);
        pending_at = 0;
    }
    uint64_t k = pending_len - pending_at < n ? pending_len - pending_at : n;
    if (mem_write(p, buf, pending + pending_at, k))
        return -EFAULT;
    pending_at += k;
    return (long)k;
}

long console_out(struct lproc *p, uint64_t buf, uint64_t n)
{
    char text[CONSOLE_WRITE_TEXT_MAX];
    for (uint64_t done = 0; done < n;) {
        uint64_t k = n - done < sizeof text ? n - done : sizeof text;
        if (mem_read(p, text, buf + done, k))
            return done ? (long)done : -EFAULT;
        if (console_write(&console, text, k))
            return done ? (long)done : -EIO;
        done += k;
    }
    return (long)n;
}

/* Reads or writes at off (the description's offset when off is -1, moved on). */
#define TCGETS 0x5401
#define TCSETS 0x5402
#define TCSETSW 0x5403
#define TCSETSF 0x5404
#define TIOCGPGRP 0x540f
#define TIOCSPGRP 0x5410
#define TIOCGWINSZ 0x5413
#define TIOCSWINSZ 0x5414

SYSCALL(ioctl)
{
    struct ofile *of = ofile_of(p, a0);
    if (!of)
        return -EBADF;
    if (of->kind != FD_CONSOLE)
        return -ENOTTY;
    switch (a1) {
    case TCGETS: {
        /* Linux's struct termios: four flag words, the line discipline, 19 control characters. */
        struct { uint32_t iflag, oflag, cflag, lflag; uint8_t line, cc[19]; } t = {
            .iflag = 0x0500, .oflag = 0x0005, .cflag = 0x00bf, .lflag = 0x8a3b,
            .cc = { 3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22 },
        };
        return mem_write(p, a2, &t, 36);
    }
    case TCSETS: case TCSETSW: case TCSETSF: case TIOCSWINSZ: case TIOCSPGRP:
        return 0;                       /* accepted; the console keeps its own line discipline */
    case TIOCGWINSZ: {
        uint16_t ws[4] = { 24, 80, 0, 0 };
        return mem_write(p, a2, ws, sizeof ws);
    }
    case TIOCGPGRP: {
        int32_t pgrp = (int32_t)p->pid;
        return mem_write(p, a2, &pgrp, sizeof pgrp);
    }
    default:
        return -ENOTTY;
    }
}

