/*
 * The hottest system calls answered in the kernel (docs/posix.md, "Calls
 * answered in the kernel"; decision 0019).  A fault program on our
 * endpoint (docs/extensions.md) runs before a Linux thread's system call
 * becomes a message: for getpid, gettid, getppid, getuid and its kin,
 * getpgrp, getpgid(0) and getsid(0) of a process's first thread (badge
 * FAULT_BADGE + slot) it reads the answer from a map, a word per call
 * and process slot, and returns it at once (PITH_EXT_RESULT); everything
 * else comes to us as before.  The kernel knows nothing of Linux: only
 * this program does.
 *
 * A word of the map is the answer + 1; 0 sends the call to us.  We
 * rewrite every running process's words before each answer we give
 * (fastcalls_refresh), from the process as it stands, rather than where
 * each field changes, so that none is forgotten; a slot's words are 0
 * from before a new process's thread runs until the refresh, and from
 * its end.  They are 0 too whenever the process must see us at its next
 * call: a signal pending and not blocked (delivered on a
 * call's answer), stopped, further threads (each has its own tid and
 * mask, in threads.c), a fork's child before its first fault, or a
 * process that asked for the server (PITH_POSIX_FASTCALLS=off in its
 * environment, make bench's pith.posix_getpid_server).
 */
#include "personality.h"

#include <pith/extension.h>
#include <stdio.h>

#define FAST_VA   0x610000000ull        /* the program's text, then the map */
#define SLOTS     64                    /* a column: a word per badge & 63 */
enum { COL_PID, COL_PPID, COL_UID, COL_PGID, COL_SID, COL_END };
_Static_assert(LPROC_MAX <= SLOTS && COL_END * SLOTS <= PITH_EXT_MAP_WORDS, "a column per call, a word per slot");

#define I PITH_EXT_INSN
#define K PITH_EXT_K
#define MOVK(d, imm)    I(PITH_EXT_MOV | K, d, 0, 0, imm)
#define LD(d, s, field) I(PITH_EXT_LDX64, d, s, (int16_t)__builtin_offsetof(struct pith_ext_fault_ctx, field), 0)
#define JEQ(r, v, to)   I(PITH_EXT_JEQ | K, r, 0, to, v)
#define NEXT_COLUMN     I(PITH_EXT_ADD | K, 2, 0, 0, SLOTS)
#define EXIT            I(PITH_EXT_EXIT, 0, 0, 0, 0)

/*
 * The map is column-major: word col * 64 + (badge & 63).  A process's
 * first thread has badge FAULT_BADGE + slot (slot < 16); a further
 * thread's, THREAD_BADGE + index, falls on words 16-63 of a column, which
 * stay 0, so its calls come to us (threads.c asserts the badges fit).
 * r4 the number, r2 the word: the badge, plus a column per ADD.  Jump
 * distances count from the next instruction: TAIL is instruction 23, PASS
 * 30.  getpid, the figure make bench watches, takes 13 instructions; a
 * call numbered below it (read, write, open, mmap...) 4 on its way to us.
 */
static const struct pith_ext_insn prog[] = {
    /*  0 */ LD(4, 1, addr), I(PITH_EXT_JLT | K, 4, 0, 28, 39),          /* read, write and the like: to us at once */
    /*  2 */ I(PITH_EXT_MOV, 6, 1, 0, 0), LD(2, 6, badge), I(PITH_EXT_AND | K, 2, 0, 0, SLOTS - 1),
    /*  5 */ JEQ(4, 39, 17), JEQ(4, 186, 16),                            /* getpid, gettid */
    /*  7 */ I(PITH_EXT_JLT | K, 4, 0, 22, 102), I(PITH_EXT_JGT | K, 4, 0, 21, 124),
    /*  9 */ NEXT_COLUMN, JEQ(4, 110, 12),                                /* getppid */
    /* 11 */ NEXT_COLUMN, JEQ(4, 102, 10), JEQ(4, 104, 9), JEQ(4, 107, 8), JEQ(4, 108, 7),   /* the uid calls */
    /* 16 */ NEXT_COLUMN, JEQ(4, 111, 5),                                /* getpgrp */
    /* 18 */ LD(5, 6, args[0]), I(PITH_EXT_JNE | K, 5, 0, 10, 0),        /* getpgid and getsid of ourselves */
    /* 20 */ JEQ(4, 121, 2), NEXT_COLUMN, I(PITH_EXT_JNE | K, 4, 0, 7, 124),
    /* 23 TAIL */ MOVK(1, 0), I(PITH_EXT_CALL, 0, 0, 0, PITH_EXT_MAP_READ),
    /* 25 */ JEQ(0, 0, 4), I(PITH_EXT_SUB | K, 0, 0, 0, 1),
    /* 27 */ I(PITH_EXT_STX64, 6, 0, (int16_t)__builtin_offsetof(struct pith_ext_fault_ctx, result), 0),
    /* 28 */ MOVK(0, PITH_EXT_RESULT), EXIT,
    /* 30 PASS */ MOVK(0, PITH_EXT_DELIVER), EXIT,
};

static volatile uint64_t *map;          /* NULL: not running (the server answers everything) */

void fastcalls_start(uint64_t ep)
{
    uint64_t text = pith_object_new(PITH_OBJ_FRAME, 0), frame = pith_object_new(PITH_OBJ_FRAME, 0);
    uint64_t ext = pith_object_new(PITH_OBJ_EXTENSION, 0);
    long err = !text || !frame || !ext ? PITH_E_NO_MEMORY : 0;
    if (!err)
        err = pith_map_page(text, FAST_VA, PITH_RIGHT_READ | PITH_RIGHT_WRITE, 0);
    if (!err)
        err = pith_map_page(frame, FAST_VA + PAGE, PITH_RIGHT_READ | PITH_RIGHT_WRITE, 0);
    if (!err) {
        __builtin_memcpy((void *)FAST_VA, prog, sizeof prog);
        struct pith_msg m = { .w = { PITH_EXT_EVENT_FAULT, sizeof prog / sizeof prog[0], text, 0 } };
        err = pith_invoke(ext, PITH_EXT_LOAD, &m);
        if (err == PITH_E_VERIFY)
            printf("posix: the fast-call program is refused: rule %lu at %lu\n", m.w[0], m.w[1]);
    }
    if (!err)
        err = pith_invoke4(ext, PITH_EXT_SET_MAP, 0, frame, 0, 0);
    if (!err)
        err = pith_invoke4(ext, PITH_EXT_ATTACH, ep, 0, 0, 0);
    if (err) {
        printf("posix: no calls answered in the kernel (error %ld): the server answers all\n", err);
        return;
    }
    map = (volatile uint64_t *)(FAST_VA + PAGE);
}

/* Whether p's first thread's next call may be answered from the map. */
static bool answerable(const struct lproc *p)
{
    return p->state == LP_RUNNING && !p->no_fastcalls && !p->fork_pending && !p->stopped && !p->suspended &&
           !p->held_reply && !(p->sigpending & ~p->sigmask) && !thread_group(p);
}

static bool live[LPROC_MAX];             /* the slot's words may be non-zero */
static uint32_t running;                /* bit i: slot i holds a running process (fastcalls_begin) */
_Static_assert(LPROC_MAX <= 32, "a bit per slot");

static void forget(int slot)
{
    for (int c = 0; c < COL_END; c++)
        map[c * SLOTS + slot] = 0;
    live[slot] = false;
}

void fastcalls_begin(const struct lproc *p)
{
    if (!map)
        return;
    forget((int)(p - lprocs));
    running |= 1u << (p - lprocs);
}

void fastcalls_forget(const struct lproc *p)
{
    if (!map)
        return;
    forget((int)(p - lprocs));
    running &= ~(1u << (p - lprocs));
}

/* Every running process's words from the process as it stands; the other slots' are 0 already. */
void fastcalls_refresh(void)
{
    for (uint32_t m = running; m; m &= m - 1) {
        int i = __builtin_ctz(m);
        const struct lproc *p = &lprocs[i];
        if (!answerable(p)) {
            if (live[i])
                forget(i);
            continue;
        }
        map[COL_PID * SLOTS + i] = (uint64_t)p->pid + 1;
        map[COL_PPID * SLOTS + i] = (uint64_t)p->ppid + 1;
        map[COL_UID * SLOTS + i] = 0 + 1;               /* everyone is root (identity.c) */
        map[COL_PGID * SLOTS + i] = (uint64_t)p->pgid + 1;
        map[COL_SID * SLOTS + i] = (uint64_t)p->sid + 1;
        live[i] = true;
    }
}
