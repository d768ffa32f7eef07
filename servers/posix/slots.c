/*
 * First fit over a bitmap of a process's CNode slots (slots.h).  A run
 * is looked for word by word: a full word ends any run, an empty word
 * adds 64 slots, only a mixed word is walked bit by bit; so a search is
 * at most LPROC_SLOTS steps, whatever the fragmentation.
 */
#include "slots.h"

#include <string.h>

static int taken(const struct slotmap *m, uint32_t s) { return (int)(m->used[s / 64] >> (s % 64) & 1); }

static void mark(struct slotmap *m, uint32_t first, uint32_t n, int used)
{
    for (uint32_t s = first; s < first + n; s++) {
        if (used)
            m->used[s / 64] |= 1ull << (s % 64);
        else
            m->used[s / 64] &= ~(1ull << (s % 64));
    }
}

void slots_init(struct slotmap *m)
{
    memset(m->used, 0, sizeof m->used);
    m->used[0] = 1;                     /* slot 0 stays empty: a capability address of 0 names nothing */
    m->free = LPROC_SLOTS - 1;
}

long slots_take(struct slotmap *m, uint32_t n)
{
    if (!n || n > m->free)
        return -1;
    uint32_t start = 0, len = 0;        /* the free run being measured */
    for (uint32_t s = 0; s < LPROC_SLOTS;) {
        uint64_t w = m->used[s / 64];
        if (s % 64 == 0 && w == ~0ull) {
            len = 0, s += 64;
            continue;
        }
        if (s % 64 == 0 && w == 0) {
            if (!len)
                start = s;
            len += 64, s += 64;
        } else {
            if (taken(m, s))
                len = 0;
            else if (!len++)
                start = s;
            s++;
        }
        if (len >= n) {
            mark(m, start, n, 1);
            m->free -= n;
            return start;
        }
    }
    return -1;
}

void slots_give(struct slotmap *m, uint32_t first, uint32_t n)
{
    if (first >= LPROC_SLOTS || n > LPROC_SLOTS - first)
        return;
    for (uint32_t s = first; s < first + n; s++)
        m->free += (uint32_t)taken(m, s);
    mark(m, first, n, 0);
    if (first == 0) {                   /* never the null slot */
        m->used[0] |= 1;
        m->free--;
    }
}
