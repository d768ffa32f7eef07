/*
 * The console as a Linux terminal.  While a session spawned through the
 * protocol runs, the console is in raw mode and this file is the line
 * discipline: a reader thread of ours waits for typed bytes
 * (console.idl's read_bytes) and hands them to the server loop as a
 * message (badge TTY_BADGE), so a read of the console keeps only its own
 * thread waiting, never the server.  The termios settings are Linux's:
 * ICANON (lines edited with erase and kill, ^D as end of file), ECHO,
 * ISIG (^C, ^\, ^Z to the foreground process group), ICRNL, VMIN; ioctl
 * reads and sets them, the foreground group and the window size.  With no
 * session the console is the native shell's again, in its line mode.
 */
#include "personality.h"
#include "console.h"
#include "resolver.h"
#include "thread.h"
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#define TCGETS     0x5401
#define TCSETS     0x5402
#define TCSETSW    0x5403
#define TCSETSF    0x5404
#define TIOCSCTTY  0x540e
#define TIOCGPGRP  0x540f
#define TIOCSPGRP  0x5410
#define TIOCGWINSZ 0x5413
#define TIOCSWINSZ 0x5414
#define FIONREAD   0x541b

/* Linux's termios bits this line discipline acts on. */
#define L_ISIG    0x0001
#define L_ICANON  0x0002
#define L_ECHO    0x0008
#define L_ECHOE   0x0010
#define L_ECHOCTL 0x0200
#define I_ICRNL   0x0100
#define I_IGNCR   0x0080
#define I_INLCR   0x0040
enum { V_INTR = 0, V_QUIT = 1, V_ERASE = 2, V_KILL = 3, V_EOF = 4, V_TIME = 5, V_MIN = 6, V_SUSP = 10 };

struct ltermios {
    uint32_t iflag, oflag, cflag, lflag;
    uint8_t line, cc[19];
};
_Static_assert(sizeof(struct ltermios) == 36, "Linux's struct termios (TCGETS)");

static const struct ltermios sane = {
    .iflag = 0x0500, .oflag = 0x0005, .cflag = 0x00bf, .lflag = 0x8a3b,
    .cc = { 3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22 },
};
static struct ltermios tio;
static uint16_t winsize[4] = { 24, 80, 0, 0 };
uint32_t tty_fg;                        /* the foreground process group (0: none set) */
static uint32_t tty_session;            /* the pid the console is in raw mode for (0: none) */
static bool raw_on;

/* Input ready for reads; EOF_MARK is a ^D in canonical mode (a read ends there, taking nothing). */
#define INQ 1024
#define EOF_MARK 0x100
static uint16_t inq[INQ];
static size_t inq_head, inq_len;
static char editing[256];               /* the canonical line being typed */
static size_t editing_len;
static uint64_t reader_kept;            /* our reader thread's call, kept while the console is not raw */

static void echo(const char *s, size_t n)
{
    if (n)
        console_write(&console, s, n);
}

static void queue(uint16_t c)
{
    if (inq_len < INQ)
        inq[(inq_head + inq_len++) % INQ] = c;
}

static void flush_input(void)
{
    inq_len = 0;
    editing_len = 0;
}

/* Bytes a read would get now: canonical, up to a line's end or an EOF mark; raw, what there is. */
static bool line_ready(void)
{
    if (!(tio.lflag & L_ICANON))
        return inq_len > 0;
    for (size_t i = 0; i < inq_len; i++) {
        uint16_t c = inq[(inq_head + i) % INQ];
        if (c == '\n' || c == EOF_MARK || (tio.cc[11] && c == tio.cc[11]))
            return true;
    }
    return false;
}

bool tty_readable(void) { return line_ready(); }

/* One typed byte through the line discipline. */
static void typed(uint8_t c)
{
    if (c == '\r' && (tio.iflag & I_IGNCR))
        return;
    if (c == '\r' && (tio.iflag & I_ICRNL))
        c = '\n';
    else if (c == '\n' && (tio.iflag & I_INLCR))
        c = '\r';
    bool show = tio.lflag & L_ECHO;
    if (tio.lflag & L_ISIG) {
        /* A control character of 0 is disabled (_POSIX_VDISABLE), as ash's line editor sets VINTR. */
        int sig = c && c == tio.cc[V_INTR] ? SIGINT : c && c == tio.cc[V_QUIT] ? SIGQUIT
                : c && c == tio.cc[V_SUSP] ? SIGTSTP : 0;
        if (sig) {
            if (show && (tio.lflag & L_ECHOCTL)) {
                char s[3] = { '^', (char)(c + '@'), 0 };
                echo(s, 2);
            }
            flush_input();
            if (tty_fg)
                signal_group(tty_fg, sig);
            return;
        }
    }
    if (tio.lflag & L_ICANON) {
        if (c && (c == tio.cc[V_ERASE] || c == '\b')) {
            if (editing_len) {
                editing_len--;
                if (show)
                    echo("\b \b", 3);
            }
            return;
        }
        if (c && c == tio.cc[V_KILL]) {
            for (; editing_len; editing_len--)
                if (show)
                    echo("\b \b", 3);
            return;
        }
        bool eof = c && c == tio.cc[V_EOF];
        if (eof || c == '\n') {
            for (size_t i = 0; i < editing_len; i++)
                queue((uint8_t)editing[i]);
            queue(eof ? EOF_MARK : '\n');
            editing_len = 0;
            if (show && !eof)
                echo("\n", 1);
            return;
        }
        if (editing_len < sizeof editing)
            editing[editing_len++] = (char)c;
    } else {
        queue(c);
    }
    if (show)
        echo((const char *)&c, 1);
}

/* What a read of n bytes into buf takes now; -EAGAIN when it would wait. */
static long take(struct lproc *p, uint64_t buf, uint64_t n)
{
    if (!line_ready()) {
        if (!(tio.lflag & L_ICANON) && !tio.cc[V_MIN])
            return 0;                   /* VMIN 0: return what there is, nothing (VTIME not kept) */
        return -EAGAIN;
    }
    char out[INQ];
    uint64_t k = 0;
    bool canon = tio.lflag & L_ICANON;
    while (k < n && inq_len) {
        uint16_t c = inq[inq_head];
        if (canon && c == EOF_MARK) {
            if (!k) {                   /* the mark ends an empty read: end of file */
                inq_head = (inq_head + 1) % INQ, inq_len--;
            }
            break;
        }
        out[k++] = (char)c;
        inq_head = (inq_head + 1) % INQ, inq_len--;
        if (canon && c == '\n')
            break;
    }
    if (mem_write(p, buf, out, k))
        return -EFAULT;
    return (long)k;
}

long console_in(struct lproc *p, struct ofile *of, uint64_t buf, uint64_t n)
{
    if (!n)
        return 0;
    long r = take(p, buf, n);
    if (r != -EAGAIN || (of->flags & O_NONBLOCK))
        return r;
    /* Kept until a line (or a byte) is typed: the server goes on serving the others. */
    p->tty_reply = server_reply;
    p->tty_buf = buf, p->tty_n = n;
    deferred = true;
    return NO_ANSWER;
}

/* A thread of q kept reading, answered now if what was typed lets it go on. */
static bool kick_reader(struct lproc *q, void *arg)
{
    (void)arg;
    if (!line_ready())
        return true;
    if (!q->tty_reply)
        return false;
    long r = take(q, q->tty_buf, q->tty_n);
    if (r == -EAGAIN)
        return false;
    uint64_t reply = q->tty_reply;
    q->tty_reply = 0;
    answer_syscall(q, reply, r);
    return false;
}

/* Readers kept waiting, answered now if what was typed lets them go on. */
static void kick_readers(void)
{
    for (int i = 0; i < LPROC_MAX && line_ready(); i++)
        if (lprocs[i].state == LP_RUNNING)
            thread_each(&lprocs[i], kick_reader, NULL);
    poll_kick();
}

void tty_cancel(struct lproc *p)
{
    if (p->tty_reply)
        reply_give(p->tty_reply);
    p->tty_reply = 0;
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

/* ---- raw mode and the reader thread -------------------------------------------- */

static uint64_t tty_ep;

/* Waits for typed bytes and brings them to the server loop, 32 at a time (four message words). */
static void *reader(void *arg)
{
    (void)arg;
    struct pith_client c;
    pith_client_init(&c, "/dev/console", &names_resolver, pith_slot_alloc(), pith_tls_self()->ipc_buffer);
    for (;;) {
        uint8_t data[CONSOLE_READ_BYTES_DATA_MAX];
        uint64_t n = 0;
        long err = console_read_bytes(&c, data, &n);
        if (err && err != CONSOLE_E_INTERRUPTED)
            pith_sleep_ns(100000000);   /* the console restarting: try again shortly */
        uint64_t at = 0;
        do {
            uint64_t k = n - at < 32 ? n - at : 32;
            struct pith_msg m = { .tag = PITH_TAG(k, PITH_MSG_REGS) };
            memcpy(m.w, data + at, k);
            pith_call(tty_ep, &m);
            at += k;
        } while (at < n);
    }
    return NULL;
}

void tty_start(uint64_t server_ep)
{
    tio = sane;
    console_raw(&console, false);       /* a restarted personality: no session left in raw mode */
    tty_ep = pith_slot_alloc();
    pith_thread_t *t;
    if (pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_MINT, tty_ep, server_ep, PITH_RIGHT_WRITE, TTY_BADGE) ||
        pith_thread_create(&t, reader, NULL))
        printf("posix: no console reader thread: console reads will not be served\n");
}

/* The reader's message: the bytes typed.  Answered at once in raw mode, else kept until it is on. */
void tty_message(const struct pith_msg *m)
{
    uint64_t n = PITH_TAG_LABEL(m->tag);
    const uint8_t *b = (const uint8_t *)m->w;
    for (uint64_t i = 0; i < n && i < 32; i++)
        typed(b[i]);
    if (n)
        kick_readers();
    else if (raw_on)
        console_raw(&console, true);    /* nothing, though raw: a restarted console, in line mode again */
    if (!raw_on) {
        reader_kept = server_reply;
        deferred = true;
    }
}

/* Raw mode on while the session spawned last runs (execve keeps its pid), off when it ends. */
void tty_session_check(void)
{
    struct lproc *s = tty_session ? lproc_by_pid(tty_session) : NULL;
    bool want = s && s->state == LP_RUNNING;
    if (want == raw_on)
        return;
    raw_on = want;
    console_raw(&console, want);
    if (!want) {
        flush_input();
        tty_session = 0;
        tty_fg = 0;
    } else {
        tio = sane;
        if (reader_kept) {
            struct pith_msg m = { .tag = PITH_TAG(0, 0) };
            pith_send(reader_kept, &m);
            reply_give(reader_kept);
            reader_kept = 0;
        }
    }
}

/* A process spawned through the protocol: the console's session, in the foreground. */
void tty_session_begin(struct lproc *p)
{
    if (tty_session) {
        struct lproc *s = lproc_by_pid(tty_session);
        if (s && s->state == LP_RUNNING)
            return;                     /* one session at a time: the first keeps the terminal */
    }
    tty_session = p->pid;
    tty_fg = p->pgid;
    tty_session_check();
}

/* ---- ioctl ---------------------------------------------------------------------- */

static bool group_exists(uint32_t pgid)
{
    for (int i = 0; i < LPROC_MAX; i++)
        if (lprocs[i].state == LP_RUNNING && lprocs[i].pgid == pgid)
            return true;
    return false;
}

SYSCALL(ioctl)
{
    struct ofile *of = ofile_of(p, a0);
    if (!of)
        return -EBADF;
    if (of->kind != FD_CONSOLE)
        return -ENOTTY;
    switch (a1) {
    case TCGETS:
        return mem_write(p, a2, &tio, sizeof tio);
    case TCSETS: case TCSETSW: case TCSETSF: {
        struct ltermios t;
        if (mem_read(p, &t, a2, sizeof t))
            return -EFAULT;
        if (a1 == TCSETSF)
            flush_input();
        /* Leaving canonical mode makes the line typed so far readable, as Linux does. */
        if ((tio.lflag & L_ICANON) && !(t.lflag & L_ICANON)) {
            for (size_t i = 0; i < editing_len; i++)
                queue((uint8_t)editing[i]);
            editing_len = 0;
        }
        tio = t;
        kick_readers();
        return 0;
    }
    case TIOCGWINSZ:
        return mem_write(p, a2, winsize, sizeof winsize);
    case TIOCSWINSZ:
        return mem_read(p, winsize, a2, sizeof winsize) ? -EFAULT : 0;
    case TIOCGPGRP: {
        int32_t pgrp = (int32_t)(tty_fg ? tty_fg : p->pgid);
        return mem_write(p, a2, &pgrp, sizeof pgrp);
    }
    case TIOCSPGRP: {
        int32_t pgrp;
        if (mem_read(p, &pgrp, a2, sizeof pgrp))
            return -EFAULT;
        if (pgrp <= 0)
            return -EINVAL;
        if (!group_exists((uint32_t)pgrp))
            return -ESRCH;              /* no process in it (Linux: ESRCH; EPERM for another session's) */
        tty_fg = (uint32_t)pgrp;
        return 0;
    }
    case TIOCSCTTY:
        return 0;                       /* the console is every process's controlling terminal already */
    case FIONREAD: {
        int32_t k = 0;
        for (size_t i = 0; i < inq_len; i++)
            k += inq[(inq_head + i) % INQ] != EOF_MARK;
        return mem_write(p, a2, &k, sizeof k);
    }
    default:
        return -ENOTTY;
    }
}
