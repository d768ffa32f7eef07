// uses: kernel/object/cap.c kernel/object/cnode.c kernel/object/untyped.c kernel/lib/string.c
/*
 * kernel/object/cap.c: copy, mint and move rules and their errors, final
 * capability detection, delete (finalise exactly once; zombies for objects
 * holding slots: deep chains, cycles, preemption at every step), revoke
 * of trees of 100,000 capabilities, deep and wide, preempted and resumed,
 * and a randomized run of thousands of operations over a few CNodes and a
 * thread, checked after each one against a model of the derivation tree
 * and of which objects must die.
 *
 * The hooks are fakes: CNodes hold 2^bits slots, a "thread" (TCB) holds 4
 * slots at the start of its memory, nothing else holds slots (unless a
 * test makes notifications hold one).  object_created / object_finalise
 * keep a table of live objects, so a second finalise, or a finalise of
 * something never made, is caught wherever it happens.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "object/cap.h"
#include "object/cnode.h"
#include "object/untyped.h"

#define TCB_SLOTS 4

/* ---- memory: every block is freed by the next test, or at exit ------------ */

#define MAX_BLOCKS 64

static struct block { struct slot *base; size_t nslots; } blocks[MAX_BLOCKS];
static int n_blocks;

static void free_blocks(void)
{
    for (int i = 0; i < n_blocks; i++)
        free(blocks[i].base);
    n_blocks = 0;
}

/* Zeroed, aligned to its size (a power of two, at least one slot); also where the checker looks for slots. */
static void *block(size_t size)
{
    if (size < sizeof(struct slot))
        size = sizeof(struct slot);
    void *p = aligned_alloc(size, size);
    if (!p || n_blocks == MAX_BLOCKS) {
        fprintf(stderr, "out of test memory\n");
        exit(2);
    }
    memset(p, 0, size);
    blocks[n_blocks++] = (struct block){ p, size / sizeof(struct slot) };
    return p;
}

/* ---- the hooks ------------------------------------------------------------- */

static int hook_errors;
static long n_created, n_finalised, n_removed, n_removed_mapped;
static long preempt_every, preempt_left, n_preempt_asked;
static bool one_slot_notifications;     /* notifications hold one slot (their 64 bytes) */

#define FIN_LOG_MAX 4096
static struct { uint8_t type; uint64_t obj; } fin_log[FIN_LOG_MAX];
static int fin_log_n;

static void hook_fail(const char *fmt, ...)
{
    if (hook_errors++ < 5) {
        va_list ap;
        va_start(ap, fmt);
        printf("  hook: ");
        vprintf(fmt, ap);
        printf("\n");
        va_end(ap);
    }
}

/* Live objects: (obj, type, size) -> how many exist (only untypeds may share a key). */
#define LIVE_BITS 19
static struct live { uint64_t obj; uint32_t key; int32_t count; } live[1u << LIVE_BITS];

static uint32_t live_key(const struct cap *c)
{
    uint32_t bits = (c->type == PITH_OBJ_UNTYPED || c->type == PITH_OBJ_CNODE) ? c->bits : 0;
    return c->type | bits << 8;
}

static struct live *live_find(const struct cap *c, bool insert)
{
    uint32_t key = live_key(c);
    uint64_t h = (c->obj >> 6) * 0x9e3779b97f4a7c15ull ^ key;
    for (uint32_t i = 0; i < (1u << LIVE_BITS); i++) {
        struct live *e = &live[(h + i) & ((1u << LIVE_BITS) - 1)];
        if (e->key == key && e->obj == c->obj)
            return e;
        if (e->key == 0) {
            if (!insert)
                return NULL;
            e->key = key;
            e->obj = c->obj;
            return e;
        }
    }
    fprintf(stderr, "live table full\n");
    exit(2);
}

static void live_add(const struct cap *c)
{
    struct live *e = live_find(c, true);
    if (e->count > 0 && c->type != PITH_OBJ_UNTYPED)
        hook_fail("object type %u at %#llx made while it exists", c->type, (unsigned long long)c->obj);
    e->count++;
}

static bool alive(uint8_t type, uint64_t obj, uint32_t bits)
{
    struct cap c = { .type = type, .obj = obj, .bits = bits };
    struct live *e = live_find(&c, false);
    return e && e->count > 0;
}

size_t object_slots(const struct cap *c, struct slot **slots)
{
    switch (c->type) {
    case PITH_OBJ_CNODE:
        *slots = (struct slot *)(uintptr_t)c->obj;
        return (size_t)1 << c->bits;
    case PITH_OBJ_TCB:
        *slots = (struct slot *)(uintptr_t)c->obj;
        return TCB_SLOTS;
    case PITH_OBJ_NOTIFICATION:
        if (!one_slot_notifications)
            return 0;
        *slots = (struct slot *)(uintptr_t)c->obj;
        return 1;
    case PITH_OBJ_ZOMBIE:
    case PITH_OBJ_NULL:
        hook_fail("object_slots of type %u", c->type);
        return 0;
    default:
        return 0;
    }
}

/* No thread runs on another CPU here: every object may go at once. */
int object_may_finalise(const struct cap *c)
{
    (void)c;
    return PITH_OK;
}

void object_finalise(const struct cap *c)
{
    n_finalised++;
    if (c->type == PITH_OBJ_NULL || c->type >= PITH_OBJ_ZOMBIE) {
        hook_fail("finalise of type %u", c->type);
        return;
    }
    struct slot *slots;
    size_t n = object_slots(c, &slots);
    for (size_t i = 0; i < n; i++)
        if (!slot_empty(&slots[i]))
            hook_fail("finalise of type %u with slot %zu in use", c->type, i);
    struct live *e = live_find(c, false);
    if (!e || e->count == 0)
        hook_fail("finalise of type %u at %#llx: not alive (twice?)", c->type,
                  (unsigned long long)c->obj);
    else
        e->count--;
    if (fin_log_n < FIN_LOG_MAX) {
        fin_log[fin_log_n].type = c->type;
        fin_log[fin_log_n].obj = c->obj;
        fin_log_n++;
    }
}

void object_created(const struct cap *c)
{
    n_created++;
    if (c->rights != PITH_RIGHTS_ALL || c->flags || c->w0 || c->w1 || c->w2)
        hook_fail("new capability of type %u not clean", c->type);
    int sb = object_size_bits(c->type, c->bits);
    if (sb < 0)
        hook_fail("made type %u bits %u", c->type, c->bits);
    else if (c->type != PITH_OBJ_UNTYPED) {
        const uint8_t *p = (const uint8_t *)(uintptr_t)c->obj;
        size_t n = (size_t)1 << sb;
        for (size_t i = 0; i < n; i += 8)
            if (p[i]) {
                hook_fail("object type %u not zeroed", c->type);
                break;
            }
    }
    live_add(c);
}

void cap_removed(struct cap *c)
{
    n_removed++;
    if (c->type == PITH_OBJ_NULL || c->type >= PITH_OBJ_ZOMBIE)
        hook_fail("cap_removed of type %u", c->type);
    if ((c->type == PITH_OBJ_FRAME || c->type == PITH_OBJ_PAGE_TABLE) && c->w0) {
        n_removed_mapped++;
        c->w0 = c->w1 = 0;      /* "unmapped" */
    }
}

bool preemption_pending(void)
{
    n_preempt_asked++;
    if (preempt_every == 0 || --preempt_left > 0)
        return false;
    preempt_left = preempt_every;
    return true;
}

static void set_preempt(long every)
{
    preempt_every = every;
    preempt_left = every;
}

static void begin(void)
{
    free_blocks();
    memset(live, 0, sizeof live);
    hook_errors = 0;
    n_created = n_finalised = n_removed = n_removed_mapped = n_preempt_asked = 0;
    fin_log_n = 0;
    set_preempt(0);
    one_slot_notifications = false;
}

__attribute__((destructor)) static void at_exit_free(void)
{
    free_blocks();
}

/* ---- fixtures ------------------------------------------------------------- */

struct cnode {
    struct slot *s;
    struct cap cap;
};

/* A CNode the "kernel" holds (its capability in no slot), e.g. a root. */
static struct cnode make_cnode(unsigned bits)
{
    struct cnode c;
    c.s = block(sizeof(struct slot) << bits);
    c.cap = (struct cap){ .type = PITH_OBJ_CNODE, .rights = PITH_RIGHTS_ALL, .bits = bits,
                          .obj = (uintptr_t)c.s };
    return c;
}

/* A root untyped capability to 2^bits fresh bytes, put into slot at. */
static void make_untyped(struct slot *at, unsigned bits)
{
    void *m = block((size_t)1 << bits);
    struct cap c = { .type = PITH_OBJ_UNTYPED, .rights = PITH_RIGHTS_ALL, .bits = bits,
                     .obj = (uintptr_t)m };
    mdb_insert_root(NULL, at, &c);
    live_add(&c);
}

static struct cnode cnode_of(const struct slot *s)
{
    return (struct cnode){ (struct slot *)(uintptr_t)s->cap.obj, s->cap };
}

static int retype(struct slot *ut, uint8_t type, uint32_t bits, struct cnode *dst, uint64_t index,
                  uint64_t count)
{
    return untyped_retype(ut, type, bits, &dst->cap, index, count);
}

/* Repeats an operation that may be preempted until it completes (or fails); counts the preemptions. */
static long n_preempted;

static int finish_delete(struct slot *s)
{
    int r;
    while ((r = cap_delete(s)) == PITH_E_PREEMPTED)
        n_preempted++;
    return r;
}

static int finish_revoke(struct slot *s)
{
    int r;
    while ((r = cap_revoke(s)) == PITH_E_PREEMPTED)
        n_preempted++;
    return r;
}

/* ---- the tree checker ---------------------------------------------------- */

static bool checker_failed;

static bool bad(const char *what, const struct slot *s)
{
    if (!checker_failed)
        printf("  tree: %s (slot %p type %u depth %u)\n", what, (const void *)s,
               s ? s->cap.type : 0, s ? s->mdb.depth : 0);
    checker_failed = true;
    return false;
}

static bool in_universe(const struct slot *p)
{
    uintptr_t a = (uintptr_t)p;
    for (int i = 0; i < n_blocks; i++) {
        uintptr_t base = (uintptr_t)blocks[i].base;
        if (a >= base && a < base + blocks[i].nslots * sizeof(struct slot))
            return (a - base) % sizeof(struct slot) == 0;
    }
    return false;
}

static uint8_t real_type(const struct cap *c)
{
    return c->type == PITH_OBJ_ZOMBIE ? (uint8_t)c->w0 : c->type;
}

/*
 * Every slot in every test block: empty ones all zero; links consistent
 * both ways and inside the universe; a list starts at depth 0 and never
 * goes more than one level deeper per step; every list is finite and
 * together they hold every non-empty slot; the capabilities to one object
 * are contiguous.
 */
static bool tree_ok(bool zombies_allowed)
{
    static const struct slot zero;
    size_t used = 0;

    checker_failed = false;
    for (int b = 0; b < n_blocks; b++) {
        for (size_t i = 0; i < blocks[b].nslots; i++) {
            const struct slot *s = &blocks[b].base[i];
            if (slot_empty(s)) {
                if (memcmp(s, &zero, sizeof zero) != 0)
                    return bad("empty slot not zero", s);
                continue;
            }
            used++;
            if (s->cap.type >= PITH_OBJ_TYPE_COUNT)
                return bad("bad type", s);
            if (s->cap.type == PITH_OBJ_ZOMBIE && !zombies_allowed)
                return bad("zombie left", s);
            const struct slot *p = s->mdb.prev, *n = s->mdb.next;
            if (p && (!in_universe(p) || slot_empty(p) || p->mdb.next != s))
                return bad("prev link", s);
            if (!p && s->mdb.depth != 0)
                return bad("list head not at depth 0", s);
            if (n && (!in_universe(n) || slot_empty(n) || n->mdb.prev != s))
                return bad("next link", s);
            if (n && n->mdb.depth > s->mdb.depth + 1)
                return bad("depth jumps", s);
        }
    }

    /* walk every list from its head; objects seen in an earlier run are closed */
    size_t cap = 16;
    while (cap < 2 * used + 16)
        cap *= 2;
    struct { uint64_t obj; uint8_t type; } *closed = calloc(cap, sizeof *closed);
    size_t walked = 0;
    bool ok = true;
    for (int b = 0; b < n_blocks && ok; b++) {
        for (size_t i = 0; i < blocks[b].nslots && ok; i++) {
            const struct slot *h = &blocks[b].base[i];
            if (slot_empty(h) || h->mdb.prev)
                continue;
            const struct slot *run = NULL;
            for (const struct slot *s = h; s && ok; s = s->mdb.next) {
                if (++walked > used) {
                    ok = bad("a list loops", s);
                    break;
                }
                if (run && cap_same_object(&run->cap, &s->cap))
                    continue;
                if (run && real_type(&run->cap) != PITH_OBJ_UNTYPED) {
                    /* close the previous run's object */
                    uint64_t hh = (run->cap.obj >> 6) * 0x9e3779b97f4a7c15ull ^ real_type(&run->cap);
                    for (size_t k = 0;; k++) {
                        size_t j = (hh + k) & (cap - 1);
                        if (closed[j].type == 0) {
                            closed[j].type = real_type(&run->cap);
                            closed[j].obj = run->cap.obj;
                            break;
                        }
                    }
                }
                run = s;
                if (real_type(&s->cap) != PITH_OBJ_UNTYPED) {
                    uint64_t hh = (s->cap.obj >> 6) * 0x9e3779b97f4a7c15ull ^ real_type(&s->cap);
                    for (size_t k = 0;; k++) {
                        size_t j = (hh + k) & (cap - 1);
                        if (closed[j].type == 0)
                            break;
                        if (closed[j].type == real_type(&s->cap) && closed[j].obj == s->cap.obj) {
                            ok = bad("capabilities to one object not contiguous", s);
                            break;
                        }
                    }
                }
            }
        }
    }
    free(closed);
    if (ok && walked != used)
        return bad("a slot is on no list", NULL);
    return ok;
}

/* The parent in the tree: the nearest node before s one level up (NULL for a root). */
static struct slot *parent_of(const struct slot *s)
{
    if (s->mdb.depth == 0)
        return NULL;
    struct slot *p = s->mdb.prev;
    while (p && p->mdb.depth >= s->mdb.depth)
        p = p->mdb.prev;
    return p;
}

static size_t count_used(const struct slot *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += !slot_empty(&s[i]);
    return k;
}

static bool finalised_once(uint8_t type, uint64_t obj)
{
    int k = 0;
    for (int i = 0; i < fin_log_n; i++)
        k += fin_log[i].type == type && fin_log[i].obj == obj;
    return k == 1;
}

/* ---- a common setup: root CNode, untyped in slot 0 ------------------------- */

static struct cnode R;

static void setup(unsigned root_bits, unsigned ut_bits)
{
    begin();
    R = make_cnode(root_bits);
    make_untyped(&R.s[0], ut_bits);
}

/* ---- copy, mint, move --------------------------------------------------------- */

TEST(copy_masks_rights_and_becomes_child)
{
    setup(4, 16);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, &R, 1, 1), PITH_OK);
    CHECK_EQ(cap_copy(&R.s[1], &R.s[2], PITH_RIGHT_READ | PITH_RIGHT_WRITE), PITH_OK);
    CHECK_EQ(R.s[2].cap.type, PITH_OBJ_ENDPOINT);
    CHECK_EQ(R.s[2].cap.obj, R.s[1].cap.obj);
    CHECK_EQ(R.s[2].cap.rights, PITH_RIGHT_READ | PITH_RIGHT_WRITE);
    CHECK_EQ(R.s[1].cap.rights, PITH_RIGHTS_ALL);
    CHECK(mdb_first_child(&R.s[1]) == &R.s[2]);
    CHECK_EQ(R.s[2].mdb.depth, R.s[1].mdb.depth + 1);
    CHECK(parent_of(&R.s[2]) == &R.s[1]);

    /* rights never grow back */
    CHECK_EQ(cap_copy(&R.s[2], &R.s[3], PITH_RIGHTS_ALL), PITH_OK);
    CHECK_EQ(R.s[3].cap.rights, PITH_RIGHT_READ | PITH_RIGHT_WRITE);
    CHECK_EQ(cap_mint(&R.s[3], &R.s[4], 0xff, 0), PITH_OK);
    CHECK_EQ(R.s[4].cap.rights, PITH_RIGHT_READ | PITH_RIGHT_WRITE);
    CHECK_EQ(cap_copy(&R.s[4], &R.s[5], PITH_RIGHT_WRITE | PITH_RIGHT_GRANT), PITH_OK);
    CHECK_EQ(R.s[5].cap.rights, PITH_RIGHT_WRITE);
    CHECK_EQ(cap_copy(&R.s[5], &R.s[6], 0), PITH_OK);
    CHECK_EQ(R.s[6].cap.rights, 0);
    CHECK(parent_of(&R.s[6]) == &R.s[5]);
    CHECK(parent_of(&R.s[5]) == &R.s[4]);
    CHECK(parent_of(&R.s[3]) == &R.s[2]);
    /* a second copy of the same source goes first among its children */
    CHECK_EQ(cap_copy(&R.s[1], &R.s[7], PITH_RIGHTS_ALL), PITH_OK);
    CHECK(mdb_first_child(&R.s[1]) == &R.s[7]);
    CHECK(parent_of(&R.s[2]) == &R.s[1]);
    CHECK(tree_ok(false));
    CHECK_EQ(hook_errors, 0);
}

TEST(copy_and_mint_errors_change_nothing)
{
    setup(4, 16);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, &R, 1, 2), PITH_OK);
    struct slot before[16];
    memcpy(before, R.s, sizeof before);

    CHECK_EQ(cap_copy(&R.s[5], &R.s[6], PITH_RIGHTS_ALL), PITH_E_SLOT_EMPTY);
    CHECK_EQ(cap_copy(&R.s[5], &R.s[2], PITH_RIGHTS_ALL), PITH_E_SLOT_EMPTY);   /* src checked first */
    CHECK_EQ(cap_copy(&R.s[1], &R.s[2], PITH_RIGHTS_ALL), PITH_E_SLOT_FULL);
    CHECK_EQ(cap_copy(&R.s[1], &R.s[1], PITH_RIGHTS_ALL), PITH_E_SLOT_FULL);
    CHECK_EQ(cap_copy(&R.s[0], &R.s[6], PITH_RIGHTS_ALL), PITH_E_INVALID_ARG); /* untyped */
    CHECK_EQ(cap_copy(&R.s[0], &R.s[1], PITH_RIGHTS_ALL), PITH_E_SLOT_FULL);   /* dst before type */
    CHECK_EQ(cap_mint(&R.s[5], &R.s[6], PITH_RIGHTS_ALL, 1), PITH_E_SLOT_EMPTY);
    CHECK_EQ(cap_mint(&R.s[1], &R.s[2], PITH_RIGHTS_ALL, 1), PITH_E_SLOT_FULL);
    CHECK_EQ(cap_mint(&R.s[0], &R.s[6], PITH_RIGHTS_ALL, 0), PITH_E_INVALID_ARG);
    CHECK_EQ(cap_mint(&R.s[0], &R.s[6], PITH_RIGHTS_ALL, 9), PITH_E_INVALID_ARG);
    CHECK(memcmp(before, R.s, sizeof before) == 0);
    CHECK(tree_ok(false));
    CHECK_EQ(hook_errors, 0);
}

TEST(zombies_cannot_be_copied)
{
    setup(4, 16);
    /* a CNode with two endpoints in it, its deletion stopped after one step */
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_CNODE, 2, &R, 1, 1), PITH_OK);
    struct cnode c = cnode_of(&R.s[1]);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, &c, 0, 2), PITH_OK);
    set_preempt(1);
    CHECK_EQ(cap_delete(&R.s[1]), PITH_E_PREEMPTED);
    CHECK_EQ(R.s[1].cap.type, PITH_OBJ_ZOMBIE);
    CHECK_EQ(R.s[1].cap.w0, PITH_OBJ_CNODE);
    CHECK_EQ(R.s[1].cap.bits, 2);
    CHECK_EQ(R.s[1].cap.obj, (uintptr_t)c.s);
    CHECK(tree_ok(true));
    CHECK_EQ(cap_copy(&R.s[1], &R.s[2], PITH_RIGHTS_ALL), PITH_E_INVALID_ARG);
    CHECK_EQ(cap_mint(&R.s[1], &R.s[2], PITH_RIGHTS_ALL, 0), PITH_E_INVALID_ARG);
    CHECK(slot_empty(&R.s[2]));
    CHECK(cap_is_final(&R.s[1]));
    CHECK_EQ(cap_revoke(&R.s[1]), PITH_OK);         /* nothing below a zombie */
    set_preempt(0);
    CHECK_EQ(cap_delete(&R.s[1]), PITH_OK);
    CHECK(slot_empty(&R.s[1]));
    CHECK_EQ(n_finalised, 3);
    CHECK(finalised_once(PITH_OBJ_CNODE, (uintptr_t)c.s));
    CHECK(tree_ok(false));
    CHECK_EQ(hook_errors, 0);
}

TEST(copies_of_frames_and_tables_are_unmapped)
{
    setup(4, 16);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_FRAME, 0, &R, 1, 1), PITH_OK);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_PAGE_TABLE, 0, &R, 2, 1), PITH_OK);
    R.s[1].cap.w0 = 0x400000 | 1;       /* as if mapped */
    R.s[1].cap.w1 = 7;
    R.s[1].cap.w2 = 9;
    R.s[2].cap.w0 = 0x200000 | 2;
    R.s[2].cap.w1 = 7;
    uint64_t frame = R.s[1].cap.obj;
    CHECK_EQ(cap_copy(&R.s[1], &R.s[3], PITH_RIGHTS_ALL), PITH_OK);
    CHECK_EQ(cap_mint(&R.s[2], &R.s[4], PITH_RIGHT_READ, 0), PITH_OK);
    CHECK_EQ(R.s[3].cap.w0 | R.s[3].cap.w1 | R.s[3].cap.w2, 0);
    CHECK_EQ(R.s[4].cap.w0 | R.s[4].cap.w1 | R.s[4].cap.w2, 0);
    CHECK_EQ(R.s[4].cap.rights, PITH_RIGHT_READ);
    CHECK_EQ(R.s[3].cap.obj, R.s[1].cap.obj);
    CHECK_EQ(R.s[1].cap.w0, 0x400001);  /* the source keeps its mapping */
    CHECK_EQ(R.s[1].cap.w2, 9);
    /* no badge on frames */
    CHECK_EQ(cap_mint(&R.s[1], &R.s[5], PITH_RIGHTS_ALL, 3), PITH_E_INVALID_ARG);
    CHECK(slot_empty(&R.s[5]));
    /* every removal is reported; the mapped ones arrive mapped */
    long removed = n_removed;
    CHECK_EQ(cap_delete(&R.s[3]), PITH_OK);
    CHECK_EQ(n_removed_mapped, 0);
    CHECK_EQ(cap_delete(&R.s[1]), PITH_OK);
    CHECK_EQ(n_removed_mapped, 1);
    CHECK_EQ(n_removed, removed + 2);
    CHECK_EQ(n_finalised, 1);
    CHECK(finalised_once(PITH_OBJ_FRAME, frame));
    CHECK(tree_ok(false));
    CHECK_EQ(hook_errors, 0);
}

TEST(mint_badge_rules)
{
    setup(4, 16);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, &R, 1, 1), PITH_OK);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_NOTIFICATION, 0, &R, 2, 1), PITH_OK);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_CNODE, 1, &R, 3, 1), PITH_OK);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_TCB, 0, &R, 4, 1), PITH_OK);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_REPLY, 0, &R, 5, 1), PITH_OK);

    CHECK_EQ(cap_mint(&R.s[1], &R.s[6], PITH_RIGHT_WRITE, 42), PITH_OK);
    CHECK_EQ(R.s[6].cap.w0, 42);
    CHECK_EQ(R.s[6].cap.rights, PITH_RIGHT_WRITE);
    CHECK_EQ(R.s[1].cap.w0, 0);
    CHECK(parent_of(&R.s[6]) == &R.s[1]);
    /* a badge is set once */
    CHECK_EQ(cap_mint(&R.s[6], &R.s[7], PITH_RIGHTS_ALL, 43), PITH_E_INVALID_ARG);
    CHECK_EQ(cap_mint(&R.s[6], &R.s[7], PITH_RIGHTS_ALL, 42), PITH_E_INVALID_ARG);
    CHECK(slot_empty(&R.s[7]));
    /* copies and zero-badge mints keep it */
    CHECK_EQ(cap_mint(&R.s[6], &R.s[7], PITH_RIGHTS_ALL, 0), PITH_OK);
    CHECK_EQ(R.s[7].cap.w0, 42);
    CHECK_EQ(cap_copy(&R.s[7], &R.s[8], PITH_RIGHTS_ALL), PITH_OK);
    CHECK_EQ(R.s[8].cap.w0, 42);
    CHECK_EQ(R.s[8].cap.rights, PITH_RIGHT_WRITE);
    /* notifications too; a badge of all ones is a badge */
    CHECK_EQ(cap_mint(&R.s[2], &R.s[9], PITH_RIGHTS_ALL, UINT64_MAX), PITH_OK);
    CHECK_EQ(R.s[9].cap.w0, UINT64_MAX);
    /* other types: no badge, but a zero badge is a plain copy */
    CHECK_EQ(cap_mint(&R.s[3], &R.s[10], PITH_RIGHTS_ALL, 1), PITH_E_INVALID_ARG);
    CHECK_EQ(cap_mint(&R.s[4], &R.s[10], PITH_RIGHTS_ALL, 1), PITH_E_INVALID_ARG);
    CHECK_EQ(cap_mint(&R.s[5], &R.s[10], PITH_RIGHTS_ALL, 1), PITH_E_INVALID_ARG);
    CHECK(slot_empty(&R.s[10]));
    CHECK_EQ(cap_mint(&R.s[3], &R.s[10], PITH_RIGHT_READ, 0), PITH_OK);
    CHECK_EQ(R.s[10].cap.type, PITH_OBJ_CNODE);
    CHECK_EQ(R.s[10].cap.bits, 1);
    CHECK_EQ(R.s[10].cap.rights, PITH_RIGHT_READ);
    /* a badged copy names the same object: not final while the original lives */
    CHECK(!cap_is_final(&R.s[6]));
    CHECK(cap_same_object(&R.s[1].cap, &R.s[6].cap));
    CHECK(tree_ok(false));
    CHECK_EQ(hook_errors, 0);
}

TEST(move_rules_and_tree_position)
{
    setup(4, 16);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, &R, 1, 1), PITH_OK);
    CHECK_EQ(cap_copy(&R.s[1], &R.s[2], PITH_RIGHTS_ALL), PITH_OK);
    CHECK_EQ(cap_copy(&R.s[2], &R.s[3], PITH_RIGHTS_ALL), PITH_OK);

    CHECK_EQ(cap_move(&R.s[9], &R.s[10]), PITH_E_SLOT_EMPTY);
    CHECK_EQ(cap_move(&R.s[9], &R.s[9]), PITH_E_SLOT_EMPTY);
    CHECK_EQ(cap_move(&R.s[2], &R.s[2]), PITH_E_INVALID_ARG);
    CHECK_EQ(cap_move(&R.s[2], &R.s[3]), PITH_E_SLOT_FULL);
    CHECK(tree_ok(false));

    struct slot old = R.s[2];
    CHECK_EQ(cap_move(&R.s[2], &R.s[12]), PITH_OK);
    CHECK(slot_empty(&R.s[2]));
    struct slot zero;
    memset(&zero, 0, sizeof zero);
    CHECK(memcmp(&R.s[2], &zero, sizeof zero) == 0);
    CHECK(memcmp(&R.s[12].cap, &old.cap, sizeof old.cap) == 0);
    CHECK_EQ(R.s[12].mdb.depth, old.mdb.depth);
    CHECK(R.s[12].mdb.prev == &R.s[1]);
    CHECK(R.s[1].mdb.next == &R.s[12]);
    CHECK(mdb_first_child(&R.s[12]) == &R.s[3]);
    CHECK(parent_of(&R.s[3]) == &R.s[12]);
    /* untypeds move too, children and all */
    CHECK_EQ(cap_move(&R.s[0], &R.s[15]), PITH_OK);
    CHECK(parent_of(&R.s[1]) == &R.s[15]);
    CHECK_EQ(retype(&R.s[15], PITH_OBJ_ENDPOINT, 0, &R, 0, 1), PITH_OK);
    CHECK(parent_of(&R.s[0]) == &R.s[15]);
    CHECK(tree_ok(false));
    CHECK_EQ(n_finalised, 0);
    CHECK_EQ(hook_errors, 0);
}

TEST(tree_primitives)
{
    begin();
    struct slot *s = block(16 * sizeof(struct slot));
    struct cap a = { .type = PITH_OBJ_ENDPOINT, .obj = 0x1000 };
    struct cap b = { .type = PITH_OBJ_ENDPOINT, .obj = 0x2000 };
    mdb_insert_root(NULL, &s[0], &a);
    CHECK(s[0].mdb.prev == NULL && s[0].mdb.next == NULL && s[0].mdb.depth == 0);
    mdb_insert_child(&s[0], &s[1], &a);
    mdb_insert_child(&s[1], &s[2], &a);
    mdb_insert_child(&s[0], &s[3], &a);     /* 0 { 3, 1 { 2 } } */
    CHECK(s[0].mdb.next == &s[3] && s[3].mdb.next == &s[1] && s[1].mdb.next == &s[2]);
    CHECK_EQ(s[2].mdb.depth, 2);
    CHECK(mdb_has_children(&s[0]) && mdb_has_children(&s[1]) && !mdb_has_children(&s[3]));
    CHECK(mdb_first_child(&s[2]) == NULL);
    /* a new root after 0 goes after 0's whole tree */
    mdb_insert_root(&s[0], &s[4], &b);
    CHECK(s[2].mdb.next == &s[4] && s[4].mdb.prev == &s[2] && s[4].mdb.depth == 0);
    CHECK(!mdb_has_children(&s[4]));
    /* ... also when `after` is inside a tree */
    mdb_insert_root(&s[3], &s[5], &b);
    CHECK(s[2].mdb.next == &s[5] && s[5].mdb.next == &s[4]);
    mdb_insert_child(&s[4], &s[6], &b);
    CHECK(tree_ok(false));
    /* removing 1 lifts 2 */
    mdb_remove(&s[1]);
    CHECK(slot_empty(&s[1]) && s[1].mdb.prev == NULL && s[1].mdb.next == NULL);
    CHECK(s[3].mdb.next == &s[2]);
    CHECK_EQ(s[2].mdb.depth, 1);
    CHECK(parent_of(&s[2]) == &s[0]);
    CHECK(tree_ok(false));
    /* moving keeps the place */
    mdb_move(&s[0], &s[8]);
    CHECK(s[8].mdb.prev == NULL && s[8].mdb.next == &s[3] && s[3].mdb.prev == &s[8]);
    CHECK(slot_empty(&s[0]));
    mdb_move(&s[6], &s[9]);
    CHECK(s[4].mdb.next == &s[9] && s[9].mdb.next == NULL);
    CHECK(tree_ok(false));
    /* removing a root makes its children roots */
    mdb_remove(&s[8]);
    CHECK_EQ(s[3].mdb.depth, 0);
    CHECK_EQ(s[2].mdb.depth, 0);
    CHECK(s[3].mdb.prev == NULL);
    CHECK(tree_ok(false));
}

/* ---- final capabilities, delete --------------------------------------------- */

TEST(final_capability_detection)
{
    setup(4, 16);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, &R, 1, 2), PITH_OK);
    CHECK(cap_is_final(&R.s[1]));
    CHECK(cap_is_final(&R.s[2]));           /* siblings, other objects */
    CHECK(!cap_same_object(&R.s[1].cap, &R.s[2].cap));
    CHECK(!cap_is_final(&R.s[5]));          /* empty */
    CHECK_EQ(cap_copy(&R.s[1], &R.s[3], PITH_RIGHTS_ALL), PITH_OK);
    CHECK(!cap_is_final(&R.s[1]));
    CHECK(!cap_is_final(&R.s[3]));
    CHECK_EQ(cap_copy(&R.s[3], &R.s[4], PITH_RIGHTS_ALL), PITH_OK);
    CHECK_EQ(cap_delete(&R.s[3]), PITH_OK);
    CHECK(!cap_is_final(&R.s[4]));
    CHECK_EQ(cap_delete(&R.s[1]), PITH_OK);
    CHECK(cap_is_final(&R.s[4]));           /* the last one, wherever it sits */
    CHECK_EQ(n_finalised, 0);
    /* an untyped and its child untyped of the same address and size: each its own object */
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_UNTYPED, 12, &R, 5, 1), PITH_OK);
    CHECK_EQ(retype(&R.s[5], PITH_OBJ_UNTYPED, 12, &R, 6, 1), PITH_OK);
    CHECK_EQ(R.s[5].cap.obj, R.s[6].cap.obj);
    CHECK(!cap_same_object(&R.s[5].cap, &R.s[6].cap));
    CHECK(cap_same_object(&R.s[5].cap, &R.s[5].cap));
    CHECK(cap_is_final(&R.s[5]) && cap_is_final(&R.s[6]));
    /* same address, other type: other object */
    CHECK_EQ(retype(&R.s[6], PITH_OBJ_FRAME, 0, &R, 7, 1), PITH_OK);
    CHECK_EQ(R.s[7].cap.obj, R.s[6].cap.obj);
    CHECK(!cap_same_object(&R.s[6].cap, &R.s[7].cap));
    /* a zombie is the object it destroys */
    struct cap z = { .type = PITH_OBJ_ZOMBIE, .obj = 0x5000, .w0 = PITH_OBJ_CNODE, .bits = 3 };
    struct cap c = { .type = PITH_OBJ_CNODE, .obj = 0x5000, .bits = 3 };
    struct cap t = { .type = PITH_OBJ_TCB, .obj = 0x5000 };
    CHECK(cap_same_object(&z, &c) && cap_same_object(&c, &z) && !cap_same_object(&z, &t));
    CHECK(tree_ok(false));
    CHECK_EQ(hook_errors, 0);
}

TEST(delete_finalises_the_last_capability_once)
{
    setup(4, 16);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_NOTIFICATION, 0, &R, 1, 1), PITH_OK);
    uint64_t obj = R.s[1].cap.obj;
    CHECK_EQ(cap_copy(&R.s[1], &R.s[2], PITH_RIGHTS_ALL), PITH_OK);
    CHECK_EQ(cap_mint(&R.s[1], &R.s[3], PITH_RIGHTS_ALL, 5), PITH_OK);
    CHECK_EQ(cap_copy(&R.s[2], &R.s[4], PITH_RIGHT_READ), PITH_OK);
    CHECK_EQ(cap_delete(&R.s[9]), PITH_OK);     /* empty: nothing happens */
    CHECK_EQ(n_removed, 0);
    CHECK_EQ(cap_delete(&R.s[1]), PITH_OK);     /* the original first */
    CHECK_EQ(cap_delete(&R.s[4]), PITH_OK);
    CHECK_EQ(cap_delete(&R.s[2]), PITH_OK);
    CHECK_EQ(n_finalised, 0);
    CHECK(alive(PITH_OBJ_NOTIFICATION, obj, 0));
    CHECK(cap_is_final(&R.s[3]));
    CHECK_EQ(cap_delete(&R.s[3]), PITH_OK);
    CHECK_EQ(n_finalised, 1);
    CHECK_EQ(n_removed, 4);
    CHECK(finalised_once(PITH_OBJ_NOTIFICATION, obj));
    CHECK(!alive(PITH_OBJ_NOTIFICATION, obj, 0));
    CHECK_EQ(cap_delete(&R.s[3]), PITH_OK);
    CHECK_EQ(n_finalised, 1);
    CHECK(tree_ok(false));
    CHECK_EQ(hook_errors, 0);
}

TEST(delete_lifts_children)
{
    setup(4, 16);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, &R, 1, 1), PITH_OK);
    CHECK_EQ(cap_copy(&R.s[1], &R.s[2], PITH_RIGHTS_ALL), PITH_OK);
    CHECK_EQ(cap_copy(&R.s[2], &R.s[3], PITH_RIGHTS_ALL), PITH_OK);
    CHECK_EQ(cap_copy(&R.s[2], &R.s[4], PITH_RIGHTS_ALL), PITH_OK);
    CHECK_EQ(cap_copy(&R.s[4], &R.s[5], PITH_RIGHTS_ALL), PITH_OK);
    CHECK_EQ(cap_delete(&R.s[2]), PITH_OK);
    CHECK(parent_of(&R.s[3]) == &R.s[1]);
    CHECK(parent_of(&R.s[4]) == &R.s[1]);
    CHECK(parent_of(&R.s[5]) == &R.s[4]);
    CHECK(tree_ok(false));
    /* the untyped's final capability goes: its objects stay, now roots */
    CHECK_EQ(cap_delete(&R.s[0]), PITH_OK);
    CHECK_EQ(n_finalised, 1);
    CHECK_EQ(fin_log[0].type, PITH_OBJ_UNTYPED);
    CHECK_EQ(R.s[1].mdb.depth, 0);
    CHECK(parent_of(&R.s[5]) == &R.s[4]);
    CHECK(tree_ok(false));
    CHECK_EQ(hook_errors, 0);
}

TEST(delete_cnode_empties_it)
{
    setup(4, 16);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, &R, 1, 1), PITH_OK);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_CNODE, 3, &R, 2, 1), PITH_OK);
    struct cnode c = cnode_of(&R.s[2]);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_NOTIFICATION, 0, &c, 0, 3), PITH_OK);    /* final, inside */
    CHECK_EQ(cap_copy(&R.s[1], &c.s[5], PITH_RIGHTS_ALL), PITH_OK);              /* not final */
    CHECK_EQ(cap_copy(&c.s[1], &R.s[3], PITH_RIGHTS_ALL), PITH_OK);              /* keeps 1 alive */
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_TCB, 0, &c, 7, 1), PITH_OK);
    struct slot *t = (struct slot *)(uintptr_t)c.s[7].cap.obj;
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, &R, 4, 1), PITH_OK);
    CHECK_EQ(cap_move(&R.s[4], &t[2]), PITH_OK);                                /* final, in the thread */
    uint64_t n1 = c.s[0].cap.obj, n2 = c.s[1].cap.obj, n3 = c.s[2].cap.obj, ep = t[2].cap.obj;
    uint64_t tcb = c.s[7].cap.obj;

    CHECK_EQ(cap_delete(&R.s[2]), PITH_OK);
    CHECK_EQ(count_used(c.s, 8), 0);
    CHECK_EQ(count_used(t, TCB_SLOTS), 0);
    CHECK_EQ(n_finalised, 5);
    CHECK(finalised_once(PITH_OBJ_CNODE, (uintptr_t)c.s));
    CHECK(finalised_once(PITH_OBJ_NOTIFICATION, n1));
    CHECK(finalised_once(PITH_OBJ_NOTIFICATION, n3));
    CHECK(finalised_once(PITH_OBJ_TCB, tcb));
    CHECK(finalised_once(PITH_OBJ_ENDPOINT, ep));
    CHECK(alive(PITH_OBJ_NOTIFICATION, n2, 0));
    CHECK(alive(PITH_OBJ_ENDPOINT, R.s[1].cap.obj, 0));
    CHECK(cap_is_final(&R.s[3]) && cap_is_final(&R.s[1]));
    CHECK_EQ(n_removed, 7);
    CHECK(tree_ok(false));
    CHECK_EQ(hook_errors, 0);
}

/*
 * 1000 CNodes of 2 slots, each holding the final capability of the next
 * in slot 0 and an endpoint's in slot 1; the first's capability in R[1].
 */
#define CHAIN 1000

static void build_cnode_chain(struct slot **cnodes)
{
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_CNODE, 1, &R, 1, 1), PITH_OK);
    struct slot *prev = &R.s[1];
    for (int i = 0; i < CHAIN; i++) {
        struct cnode c = cnode_of(prev);
        cnodes[i] = c.s;
        CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, &c, 1, 1), PITH_OK);
        if (i + 1 < CHAIN)
            CHECK_EQ(retype(&R.s[0], PITH_OBJ_CNODE, 1, &c, 0, 1), PITH_OK);
        prev = &c.s[0];
    }
}

static bool chain_gone(struct slot **cnodes)
{
    for (int i = 0; i < CHAIN; i++) {
        if (count_used(cnodes[i], 2) != 0 || alive(PITH_OBJ_CNODE, (uintptr_t)cnodes[i], 1))
            return false;
        if (!finalised_once(PITH_OBJ_CNODE, (uintptr_t)cnodes[i]))
            return false;
    }
    return n_finalised == 2 * CHAIN && fin_log_n == 2 * CHAIN;
}

TEST(delete_deep_chain_of_cnodes)
{
    static struct slot *cnodes[CHAIN];
    setup(2, 20);
    build_cnode_chain(cnodes);
    CHECK_EQ(n_created, 2 * CHAIN);
    CHECK(tree_ok(false));
    CHECK_EQ(cap_delete(&R.s[1]), PITH_OK);
    CHECK(slot_empty(&R.s[1]));
    CHECK(chain_gone(cnodes));
    CHECK(!mdb_has_children(&R.s[0]));
    CHECK(tree_ok(false));
    CHECK_EQ(hook_errors, 0);
}

TEST(delete_deep_chain_preempted_at_every_step)
{
    static struct slot *cnodes[CHAIN];
    setup(2, 20);
    build_cnode_chain(cnodes);
    set_preempt(1);
    long steps = 0;
    int r;
    while ((r = cap_delete(&R.s[1])) == PITH_E_PREEMPTED) {
        steps++;
        CHECK_EQ(R.s[1].cap.type, PITH_OBJ_ZOMBIE);
        if (steps % 97 == 0)
            CHECK(tree_ok(true));
        CHECK(steps < 100 * CHAIN);
    }
    CHECK_EQ(r, PITH_OK);
    CHECK(steps >= 2 * CHAIN - 1);      /* every capability went at its own step */
    CHECK(chain_gone(cnodes));
    CHECK(!mdb_has_children(&R.s[0]));
    CHECK(tree_ok(false));
    CHECK_EQ(hook_errors, 0);
}

/* A CNode holding its own (final) capability, and two endpoints. */
TEST(delete_cnode_holding_its_own_capability)
{
    for (int every = 0; every <= 1; every++) {
        setup(2, 16);
        CHECK_EQ(retype(&R.s[0], PITH_OBJ_CNODE, 2, &R, 1, 1), PITH_OK);
        struct cnode c = cnode_of(&R.s[1]);
        CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, &c, 0, 1), PITH_OK);
        CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, &c, 3, 1), PITH_OK);
        CHECK_EQ(cap_move(&R.s[1], &c.s[2]), PITH_OK);
        CHECK(cap_is_final(&c.s[2]));
        set_preempt(every);
        n_preempted = 0;
        CHECK_EQ(finish_delete(&c.s[2]), PITH_OK);
        CHECK(every == 0 || n_preempted >= 2);
        CHECK_EQ(count_used(c.s, 4), 0);
        CHECK_EQ(n_finalised, 3);
        CHECK(finalised_once(PITH_OBJ_CNODE, (uintptr_t)c.s));
        CHECK(tree_ok(false));
        CHECK_EQ(hook_errors, 0);
    }
}

/* The same, found by revoking the untyped it came from. */
TEST(revoke_reaches_self_holding_cnode)
{
    setup(2, 16);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_CNODE, 1, &R, 1, 1), PITH_OK);
    struct cnode c = cnode_of(&R.s[1]);
    CHECK_EQ(cap_move(&R.s[1], &c.s[1]), PITH_OK);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, &c, 0, 1), PITH_OK);
    set_preempt(1);
    CHECK_EQ(finish_revoke(&R.s[0]), PITH_OK);
    CHECK_EQ(n_finalised, 2);
    CHECK(finalised_once(PITH_OBJ_CNODE, (uintptr_t)c.s));
    CHECK_EQ(count_used(c.s, 2), 0);
    CHECK_EQ(R.s[0].cap.w0, 0);
    CHECK(tree_ok(false));
    CHECK_EQ(hook_errors, 0);
}

/*
 * Cycles through several objects: A holds B's final capability, B holds
 * T's (a thread), T holds A's; each also holds an endpoint.  Deleting the
 * capability in A's slot destroys all of them: the deletion comes back
 * round to the slot it started from.
 */
static void build_cycle(int len, struct slot **held, uint64_t *objs)
{
    /* objects: CNodes, every third one a thread; made in a scratch CNode */
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_CNODE, 3, &R, 1, 1), PITH_OK);
    struct slot *home[8];
    for (int i = 0; i < len; i++) {
        uint8_t type = i % 3 == 2 ? PITH_OBJ_TCB : PITH_OBJ_CNODE;
        struct cnode tmp = cnode_of(&R.s[1]);
        CHECK_EQ(retype(&R.s[0], type, 2, &tmp, (uint64_t)i, 1), PITH_OK);
        objs[i] = tmp.s[i].cap.obj;
        home[i] = &tmp.s[i];
    }
    for (int i = 0; i < len; i++) {
        struct slot *in = (struct slot *)(uintptr_t)objs[i];
        /* an endpoint in slot 3 of each */
        struct cnode tmp = cnode_of(&R.s[1]);
        CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, &tmp, 7, 1), PITH_OK);
        CHECK_EQ(cap_move(&tmp.s[7], &in[3]), PITH_OK);
        /* object i holds object i+1's capability in slot 1 */
        CHECK_EQ(cap_move(home[(i + 1) % len], &in[1]), PITH_OK);
    }
    *held = &((struct slot *)(uintptr_t)objs[0])[1];
    CHECK_EQ(cap_delete(&R.s[1]), PITH_OK);         /* the scratch CNode */
}

static bool cycle_gone(int len, const uint64_t *objs)
{
    for (int i = 0; i < len; i++) {
        uint8_t type = i % 3 == 2 ? PITH_OBJ_TCB : PITH_OBJ_CNODE;
        if (!finalised_once(type, objs[i]) || count_used((struct slot *)(uintptr_t)objs[i], 4))
            return false;
    }
    return n_finalised == 2 * len + 1;      /* + the scratch CNode */
}

TEST(delete_cycles_of_objects)
{
    for (int len = 1; len <= 5; len++) {
        for (int every = 0; every <= 2; every++) {
            struct slot *held;
            uint64_t objs[8];
            setup(2, 18);
            build_cycle(len, &held, objs);
            CHECK_EQ(n_finalised, 1);
            CHECK(tree_ok(false));
            set_preempt(every);
            n_preempted = 0;
            CHECK_EQ(finish_delete(held), PITH_OK);
            CHECK(every != 1 || n_preempted >= len);
            CHECK(cycle_gone(len, objs));
            CHECK(!mdb_has_children(&R.s[0]));
            CHECK(tree_ok(false));
            CHECK_EQ(hook_errors, 0);
        }
    }
}

TEST(revoke_destroys_cycles_of_objects)
{
    for (int len = 1; len <= 5; len++) {
        for (int every = 0; every <= 1; every++) {
            struct slot *held;
            uint64_t objs[8];
            setup(2, 18);
            build_cycle(len, &held, objs);
            set_preempt(every);
            CHECK_EQ(finish_revoke(&R.s[0]), PITH_OK);
            CHECK(cycle_gone(len, objs));
            CHECK_EQ(R.s[0].cap.w0, 0);
            CHECK(tree_ok(false));
            CHECK_EQ(hook_errors, 0);
        }
    }
}

/*
 * A cycle across two untypeds: A (from U1) holds B's final capability, B
 * (from U2) holds A's.  Revoking U1 deletes A's capability, which lies in
 * B, so B goes too; the cycle is broken by moving capabilities around,
 * and what U2 and U1 hold otherwise is left alone or deleted as it should.
 */
TEST(revoke_cycle_across_untypeds)
{
    for (int every = 0; every <= 1; every++) {
        begin();
        R = make_cnode(4);
        make_untyped(&R.s[0], 14);
        make_untyped(&R.s[1], 14);
        CHECK_EQ(retype(&R.s[0], PITH_OBJ_CNODE, 1, &R, 2, 1), PITH_OK);      /* A */
        CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, &R, 3, 1), PITH_OK);   /* E1 */
        CHECK_EQ(retype(&R.s[1], PITH_OBJ_CNODE, 1, &R, 4, 1), PITH_OK);      /* B */
        CHECK_EQ(retype(&R.s[1], PITH_OBJ_ENDPOINT, 0, &R, 5, 1), PITH_OK);   /* E2 */
        CHECK_EQ(retype(&R.s[1], PITH_OBJ_ENDPOINT, 0, &R, 6, 1), PITH_OK);   /* E3 */
        struct slot *a = (struct slot *)(uintptr_t)R.s[2].cap.obj;
        struct slot *b = (struct slot *)(uintptr_t)R.s[4].cap.obj;
        uint64_t e1 = R.s[3].cap.obj;
        CHECK_EQ(cap_move(&R.s[4], &a[1]), PITH_OK);
        CHECK_EQ(cap_move(&R.s[2], &b[1]), PITH_OK);
        CHECK(tree_ok(false));
        set_preempt(every);
        CHECK_EQ(finish_revoke(&R.s[0]), PITH_OK);
        CHECK_EQ(n_finalised, 3);
        CHECK(finalised_once(PITH_OBJ_CNODE, (uintptr_t)a));
        CHECK(finalised_once(PITH_OBJ_CNODE, (uintptr_t)b));
        CHECK(finalised_once(PITH_OBJ_ENDPOINT, e1));
        CHECK(!mdb_has_children(&R.s[0]));
        CHECK(!slot_empty(&R.s[5]) && !slot_empty(&R.s[6]));
        CHECK(parent_of(&R.s[5]) == &R.s[1] && parent_of(&R.s[6]) == &R.s[1]);
        CHECK_EQ(count_used(R.s, 16), 4);
        CHECK(tree_ok(false));
        CHECK_EQ(hook_errors, 0);
    }
}

/*
 * An object with one slot in a cycle: the notification's slot holds the
 * CNode's final capability and the CNode holds the notification's.  There
 * is no free slot to rotate through, so the slot being deleted and the
 * CNode's slot swap, the notification ends (its slot empty), and the
 * CNode is left a zombie holding itself, below its untyped: revoking that
 * ends it, once.
 */
TEST(delete_cycle_through_one_slot_object)
{
    for (int every = 0; every <= 1; every++) {
        setup(2, 16);
        one_slot_notifications = true;
        CHECK_EQ(retype(&R.s[0], PITH_OBJ_NOTIFICATION, 0, &R, 1, 1), PITH_OK);
        CHECK_EQ(retype(&R.s[0], PITH_OBJ_CNODE, 1, &R, 2, 1), PITH_OK);
        struct slot *n = (struct slot *)(uintptr_t)R.s[1].cap.obj;
        struct cnode c = cnode_of(&R.s[2]);
        uint64_t nobj = R.s[1].cap.obj;
        CHECK_EQ(cap_move(&R.s[2], n), PITH_OK);
        CHECK_EQ(cap_move(&R.s[1], &c.s[0]), PITH_OK);
        set_preempt(every);
        CHECK_EQ(finish_delete(n), PITH_OK);
        CHECK(slot_empty(n));
        CHECK_EQ(n_finalised, 1);
        CHECK(finalised_once(PITH_OBJ_NOTIFICATION, nobj));
        CHECK_EQ(c.s[0].cap.type, PITH_OBJ_ZOMBIE);
        CHECK_EQ(c.s[0].cap.w0, PITH_OBJ_CNODE);
        CHECK(parent_of(&c.s[0]) == &R.s[0]);
        CHECK(tree_ok(true));
        CHECK_EQ(finish_revoke(&R.s[0]), PITH_OK);
        CHECK_EQ(n_finalised, 2);
        CHECK(finalised_once(PITH_OBJ_CNODE, (uintptr_t)c.s));
        CHECK(slot_empty(&c.s[0]));
        CHECK(tree_ok(false));
        CHECK_EQ(hook_errors, 0);
    }
}

/* The same found by revoke: the cycle is broken by the swap, nothing is left. */
TEST(revoke_cycle_through_one_slot_object)
{
    setup(2, 16);
    one_slot_notifications = true;
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_NOTIFICATION, 0, &R, 1, 1), PITH_OK);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_CNODE, 1, &R, 2, 1), PITH_OK);
    struct slot *n = (struct slot *)(uintptr_t)R.s[1].cap.obj;
    struct cnode c = cnode_of(&R.s[2]);
    CHECK_EQ(cap_move(&R.s[2], n), PITH_OK);
    CHECK_EQ(cap_move(&R.s[1], &c.s[0]), PITH_OK);
    set_preempt(1);
    CHECK_EQ(finish_revoke(&R.s[0]), PITH_OK);
    CHECK_EQ(n_finalised, 2);
    CHECK(finalised_once(PITH_OBJ_CNODE, (uintptr_t)c.s));
    CHECK(slot_empty(n) && slot_empty(&c.s[0]));
    CHECK(tree_ok(false));
    CHECK_EQ(hook_errors, 0);
}

TEST(delete_big_sparse_cnode_in_bounded_steps)
{
    setup(2, 22);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_CNODE, 15, &R, 1, 1), PITH_OK);     /* 32768 slots */
    struct cnode c = cnode_of(&R.s[1]);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, &c, 30000, 1), PITH_OK);
    set_preempt(1);
    n_preempted = 0;
    CHECK_EQ(finish_delete(&R.s[1]), PITH_OK);
    CHECK(n_preempted >= 29);          /* the empty slots were scanned in bounded pieces */
    CHECK_EQ(n_finalised, 2);
    CHECK(tree_ok(false));
    CHECK_EQ(hook_errors, 0);
}

/* ---- revoke ------------------------------------------------------------------ */

TEST(revoke_deletes_exactly_the_descendants)
{
    setup(4, 16);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, &R, 1, 2), PITH_OK);
    /* 1 { 3 { 5, 6 { 7 } }, 4 }   2 { 8 } */
    CHECK_EQ(cap_copy(&R.s[1], &R.s[4], PITH_RIGHTS_ALL), PITH_OK);
    CHECK_EQ(cap_copy(&R.s[1], &R.s[3], PITH_RIGHTS_ALL), PITH_OK);
    CHECK_EQ(cap_copy(&R.s[3], &R.s[6], PITH_RIGHTS_ALL), PITH_OK);
    CHECK_EQ(cap_copy(&R.s[3], &R.s[5], PITH_RIGHTS_ALL), PITH_OK);
    CHECK_EQ(cap_copy(&R.s[6], &R.s[7], PITH_RIGHTS_ALL), PITH_OK);
    CHECK_EQ(cap_copy(&R.s[2], &R.s[8], PITH_RIGHTS_ALL), PITH_OK);
    CHECK_EQ(cap_revoke(&R.s[3]), PITH_OK);
    CHECK(!slot_empty(&R.s[3]) && slot_empty(&R.s[5]) && slot_empty(&R.s[6]) && slot_empty(&R.s[7]));
    CHECK(!slot_empty(&R.s[1]) && !slot_empty(&R.s[4]) && !slot_empty(&R.s[8]));
    CHECK(!mdb_has_children(&R.s[3]));
    CHECK(parent_of(&R.s[4]) == &R.s[1]);
    CHECK_EQ(n_finalised, 0);
    CHECK_EQ(n_removed, 3);
    CHECK_EQ(cap_revoke(&R.s[3]), PITH_OK);         /* nothing left: no-op */
    CHECK_EQ(cap_revoke(&R.s[9]), PITH_OK);         /* empty slot */
    CHECK_EQ(cap_revoke(&R.s[1]), PITH_OK);
    CHECK(slot_empty(&R.s[3]) && slot_empty(&R.s[4]) && !slot_empty(&R.s[8]));
    CHECK(cap_is_final(&R.s[1]));
    CHECK_EQ(n_finalised, 0);
    CHECK(tree_ok(false));
    /* revoking the untyped: every object made from it ends */
    CHECK_EQ(cap_revoke(&R.s[0]), PITH_OK);
    CHECK_EQ(n_finalised, 2);
    CHECK_EQ(count_used(R.s, 16), 1);
    CHECK_EQ(R.s[0].cap.w0, 0);
    CHECK(tree_ok(false));
    CHECK_EQ(hook_errors, 0);
}

#define BIG 100000

/*
 * CPU seconds since the test began: a revoke of BIG capabilities takes a
 * few milliseconds; a quadratic one takes minutes.
 */
static clock_t t0;

static double cpu_seconds(void)
{
    return (double)(clock() - t0) / CLOCKS_PER_SEC;
}

/* A root CNode of 2^17 slots holding an untyped of 2^ut_bits bytes in slot 0. */
static void big_setup(unsigned ut_bits)
{
    setup(17, ut_bits);
    t0 = clock();
}

TEST(revoke_100k_wide)
{
    big_setup(23);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, &R, 1, BIG), PITH_OK);
    CHECK_EQ(n_created, BIG);
    CHECK(tree_ok(false));
    set_preempt(1000);
    n_preempted = 0;
    CHECK_EQ(finish_revoke(&R.s[0]), PITH_OK);
    CHECK(n_preempted >= BIG / 1000 - 1);
    CHECK_EQ(n_finalised, BIG);
    CHECK_EQ(n_removed, BIG);
    CHECK_EQ(count_used(R.s, 1u << 17), 1);
    for (int i = 1; i <= BIG; i++)
        CHECK(!alive(PITH_OBJ_ENDPOINT, R.s[0].cap.obj + (uint64_t)(i - 1) * 64, 0));
    CHECK_EQ(R.s[0].cap.w0, 0);
    CHECK(tree_ok(false));
    /* all of the memory again */
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, &R, 1, 1u << 17), PITH_E_SLOT_RANGE);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, &R, 1, (1u << 17) - 1), PITH_OK);
    CHECK(cpu_seconds() < 5);
    CHECK_EQ(hook_errors, 0);
}

TEST(revoke_100k_wide_copies_preempted_every_deletion)
{
    big_setup(12);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, &R, 1, 1), PITH_OK);
    for (int i = 2; i <= BIG + 1; i++)
        CHECK_EQ(cap_copy(&R.s[1], &R.s[i], PITH_RIGHTS_ALL), PITH_OK);
    set_preempt(1);
    n_preempted = 0;
    long calls = 0;
    int r;
    while ((r = cap_revoke(&R.s[1])) == PITH_E_PREEMPTED) {
        calls++;
        if (calls == BIG / 2) {
            /* something else changes the tree in between: still right */
            CHECK_EQ(cap_copy(&R.s[BIG + 1], &R.s[BIG + 2], PITH_RIGHT_READ), PITH_OK);
            CHECK(tree_ok(false));
        }
    }
    CHECK_EQ(r, PITH_OK);
    CHECK(calls >= BIG - 1);
    CHECK_EQ(count_used(R.s, 1u << 17), 2);
    CHECK(cap_is_final(&R.s[1]));
    CHECK_EQ(n_finalised, 0);
    CHECK_EQ(n_removed, BIG + 1);
    CHECK(tree_ok(false));
    CHECK(cpu_seconds() < 5);
    CHECK_EQ(hook_errors, 0);
}

static void build_deep_chain(void)
{
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, &R, 1, 1), PITH_OK);
    for (int i = 1; i <= BIG; i++)
        CHECK_EQ(cap_copy(&R.s[i], &R.s[i + 1], PITH_RIGHTS_ALL), PITH_OK);
}

TEST(revoke_100k_deep_chain_preempted_every_deletion)
{
    big_setup(12);
    build_deep_chain();
    CHECK_EQ(R.s[BIG + 1].mdb.depth, BIG + 1);
    CHECK(tree_ok(false));
    set_preempt(1);
    long calls = 0;
    int r;
    while ((r = cap_revoke(&R.s[1])) == PITH_E_PREEMPTED) {
        calls++;
        CHECK(calls <= BIG + 100);          /* + the walk to the end, in pieces */
        if (calls % 25000 == 0)
            CHECK(tree_ok(false));
    }
    CHECK_EQ(r, PITH_OK);
    CHECK(calls >= BIG - 1);
    CHECK_EQ(count_used(R.s, 1u << 17), 2);
    CHECK(cap_is_final(&R.s[1]));
    CHECK_EQ(n_finalised, 0);
    CHECK(tree_ok(false));
    CHECK(cpu_seconds() < 5);
    CHECK_EQ(hook_errors, 0);
}

TEST(revoke_100k_deep_chain_from_the_untyped)
{
    big_setup(12);
    build_deep_chain();
    uint64_t ep = R.s[1].cap.obj;
    set_preempt(7);
    n_preempted = 0;
    CHECK_EQ(finish_revoke(&R.s[0]), PITH_OK);
    CHECK(n_preempted >= BIG / 7 - 1);
    CHECK_EQ(count_used(R.s, 1u << 17), 1);
    CHECK_EQ(n_finalised, 1);
    CHECK(finalised_once(PITH_OBJ_ENDPOINT, ep));
    CHECK_EQ(n_removed, BIG + 1);
    CHECK_EQ(R.s[0].cap.w0, 0);
    CHECK(tree_ok(false));
    CHECK(cpu_seconds() < 5);
    CHECK_EQ(hook_errors, 0);
}

/* 50,000 notifications, 200 of them with a chain of 250 copies below, and a CNode holding a copy of its own capability. */
TEST(revoke_100k_mixed_tree_of_objects)
{
    big_setup(24);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_NOTIFICATION, 0, &R, 1, 50000), PITH_OK);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_CNODE, 1, &R, 50001, 1), PITH_OK);
    struct cnode c = cnode_of(&R.s[50001]);
    CHECK_EQ(cap_copy(&R.s[50001], &c.s[0], PITH_RIGHTS_ALL), PITH_OK);    /* holds itself */
    int at = 50002;
    for (int k = 0; k < 200; k++) {
        CHECK_EQ(cap_copy(&R.s[1 + k], &R.s[at], PITH_RIGHTS_ALL), PITH_OK);
        at++;
        for (int j = 1; j < 250; j++, at++)
            CHECK_EQ(cap_copy(&R.s[at - 1], &R.s[at], PITH_RIGHTS_ALL), PITH_OK);
    }
    CHECK(at == 100002);
    CHECK(tree_ok(false));
    set_preempt(3);
    CHECK_EQ(finish_revoke(&R.s[0]), PITH_OK);
    CHECK_EQ(n_finalised, 50001);
    CHECK(!alive(PITH_OBJ_CNODE, (uintptr_t)c.s, 1));
    CHECK(!alive(PITH_OBJ_NOTIFICATION, R.s[0].cap.obj, 0));
    CHECK_EQ(count_used(R.s, 1u << 17), 1);
    CHECK_EQ(count_used(c.s, 2), 0);
    CHECK(tree_ok(false));
    CHECK(cpu_seconds() < 5);
    CHECK_EQ(hook_errors, 0);
}

/* ---- randomized: operations against a model ---------------------------------- */

/*
 * Slots: R[0..47] (R[0] the untyped U, never touched but by the reset),
 * then CNode A's 8, CNode B's 8, thread T's 4, CNode C's 8.  Objects,
 * made from U: A, B, T, endpoints E1 E2, notification N, frame F, untyped
 * V; made from V: endpoint E3 and CNode C.  The model tracks each slot's
 * object, rights, badge and parent; deletion follows the rules (final
 * capability of an object with slots: its slots are emptied first,
 * skipping what is being deleted already), children move up, revoke
 * deletes the descendants.  Every outcome is independent of the order
 * the kernel deletes in, except a revoke that destroys its own slot
 * (V moved into C, V revoked): that one is checked for a sound tree and
 * followed by a reset.
 */
#define M_R 48
#define M_SLOTS (M_R + 8 + 8 + TCB_SLOTS + 8)
enum { O_U, O_A, O_B, O_T, O_C, O_E1, O_E2, O_N, O_F, O_V, O_E3, O_COUNT };

struct mslot { int obj; uint8_t rights; uint64_t badge; int parent; };
struct model {
    struct mslot s[M_SLOTS];
    bool alive[O_COUNT];
    bool died[O_COUNT];
};

static struct mobj { uint8_t type; uint32_t bits; uint64_t obj; int first, n; } mo[O_COUNT];
static struct model M;

static struct slot *mslot_ptr(int id)
{
    if (id < M_R)
        return &R.s[id];
    for (int o = O_A; o <= O_C; o++)
        if (id >= mo[o].first && id < mo[o].first + mo[o].n)
            return (struct slot *)(uintptr_t)mo[o].obj + (id - mo[o].first);
    return NULL;
}

static int mslot_id(const struct slot *p)
{
    if (!p)
        return -1;
    for (int id = 0; id < M_SLOTS; id++)
        if (mslot_ptr(id) == p)
            return id;
    return -2;
}

static bool m_final(const struct model *m, int x)
{
    int o = m->s[x].obj;
    if (mo[o].type == PITH_OBJ_UNTYPED)
        return true;
    for (int y = 0; y < M_SLOTS; y++)
        if (y != x && m->s[y].obj == o)
            return false;
    return true;
}

static void m_remove(struct model *m, int x)
{
    for (int y = 0; y < M_SLOTS; y++)
        if (m->s[y].obj >= 0 && m->s[y].parent == x)
            m->s[y].parent = m->s[x].parent;
    m->s[x] = (struct mslot){ .obj = -1, .parent = -1 };
}

static void m_delete(struct model *m, int x, bool *busy)
{
    if (m->s[x].obj < 0)
        return;
    int o = m->s[x].obj;
    bool fin = m_final(m, x);
    if (fin && mo[o].n) {
        busy[x] = true;
        for (int k = 0; k < mo[o].n; k++)
            if (!busy[mo[o].first + k])
                m_delete(m, mo[o].first + k, busy);
        busy[x] = false;
    }
    m_remove(m, x);
    if (fin) {
        m->alive[o] = false;
        m->died[o] = true;
    }
}

static bool m_descends(const struct model *m, int y, int x)
{
    for (int p = m->s[y].parent, n = 0; p >= 0 && n <= M_SLOTS; p = m->s[p].parent, n++)
        if (p == x)
            return true;
    return false;
}

static void m_revoke(struct model *m, int x)
{
    bool busy[M_SLOTS] = { false };
    int desc[M_SLOTS], nd = 0;
    for (int y = 0; y < M_SLOTS; y++)
        if (m->s[y].obj >= 0 && m_descends(m, y, x))
            desc[nd++] = y;
    for (int i = 0; i < nd; i++)
        m_delete(m, desc[i], busy);
}

static bool m_usable(const struct model *m, int id)
{
    for (int o = O_A; o <= O_C; o++)
        if (id >= mo[o].first && id < mo[o].first + mo[o].n)
            return m->alive[o];
    return id < M_R;
}

static void m_set(struct model *m, int id, int o, int parent)
{
    m->s[id] = (struct mslot){ .obj = o, .rights = PITH_RIGHTS_ALL, .parent = parent };
    m->alive[o] = true;
}

/* Makes the objects again from U (all of it free); R[1..10] must be empty. */
static bool m_make_objects(void)
{
    static const struct { uint8_t type; uint32_t bits; int obj; } order[] = {
        { PITH_OBJ_CNODE, 3, O_A }, { PITH_OBJ_CNODE, 3, O_B }, { PITH_OBJ_TCB, 0, O_T },
        { PITH_OBJ_ENDPOINT, 0, O_E1 }, { PITH_OBJ_ENDPOINT, 0, O_E2 },
        { PITH_OBJ_NOTIFICATION, 0, O_N }, { PITH_OBJ_FRAME, 0, O_F }, { PITH_OBJ_UNTYPED, 12, O_V },
    };
    for (int i = 0; i < 8; i++) {
        if (retype(&R.s[0], order[i].type, order[i].bits, &R, (uint64_t)i + 1, 1) != PITH_OK)
            return false;
        m_set(&M, i + 1, order[i].obj, 0);
    }
    if (retype(&R.s[8], PITH_OBJ_ENDPOINT, 0, &R, 9, 1) != PITH_OK)
        return false;
    m_set(&M, 9, O_E3, 8);
    if (retype(&R.s[8], PITH_OBJ_CNODE, 3, &R, 10, 1) != PITH_OK)
        return false;
    m_set(&M, 10, O_C, 8);
    for (int i = 1; i <= 10; i++) {
        int o = M.s[i].obj;
        mo[o].type = R.s[i].cap.type;
        mo[o].bits = R.s[i].cap.bits;
        mo[o].obj = R.s[i].cap.obj;
    }
    return true;
}

/* The kernel's slots equal the model's: contents and parents. */
static bool m_matches(void)
{
    for (int id = 0; id < M_SLOTS; id++) {
        if (!m_usable(&M, id))
            continue;
        const struct slot *s = mslot_ptr(id);
        const struct mslot *m = &M.s[id];
        if (m->obj < 0) {
            if (!slot_empty(s)) {
                printf("  slot %d: expected empty, holds type %u\n", id, s->cap.type);
                return false;
            }
            continue;
        }
        const struct mobj *o = &mo[m->obj];
        bool badged = o->type == PITH_OBJ_ENDPOINT || o->type == PITH_OBJ_NOTIFICATION;
        if (s->cap.type != o->type || s->cap.obj != o->obj || s->cap.rights != m->rights ||
            (badged && s->cap.w0 != m->badge) ||
            ((o->type == PITH_OBJ_CNODE || o->type == PITH_OBJ_UNTYPED) && s->cap.bits != o->bits)) {
            printf("  slot %d: holds type %u rights %#x w0 %#llx, expected object %d rights %#x badge %#llx\n",
                   id, s->cap.type, s->cap.rights, (unsigned long long)s->cap.w0, m->obj, m->rights,
                   (unsigned long long)m->badge);
            return false;
        }
        int p = mslot_id(parent_of(s));
        if (p != m->parent) {
            printf("  slot %d: parent %d, expected %d\n", id, p, m->parent);
            return false;
        }
    }
    for (int o = 0; o < O_COUNT; o++) {
        if (alive(mo[o].type, mo[o].obj, mo[o].bits) != M.alive[o]) {
            printf("  object %d: alive %d, expected %d\n", o, !M.alive[o], M.alive[o]);
            return false;
        }
        if (M.died[o] != finalised_once(mo[o].type, mo[o].obj)) {
            printf("  object %d: finalised %d times this step\n", o, M.died[o] ? 0 : 2);
            return false;
        }
    }
    int died = 0;
    for (int o = 0; o < O_COUNT; o++)
        died += M.died[o];
    if (died != fin_log_n) {
        printf("  %d finalised this step, expected %d\n", fin_log_n, died);
        return false;
    }
    return true;
}

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static int pick_slot(void)
{
    for (;;) {
        int id = 1 + (int)(rnd() % (M_SLOTS - 1));
        if (m_usable(&M, id))
            return id;
    }
}

/* A slot that holds something (most of the time). */
static int pick_used(void)
{
    for (int tries = 0; tries < 50; tries++) {
        int id = pick_slot();
        if (M.s[id].obj >= 0)
            return id;
    }
    return pick_slot();
}

static int run_preemptible(int (*op)(struct slot *), struct slot *s, long *preemptions)
{
    set_preempt(rnd() % 3 == 0 ? 1 + (long)(rnd() % 4) : 0);
    int r;
    while ((r = op(s)) == PITH_E_PREEMPTED) {
        (*preemptions)++;
        if (!tree_ok(true))
            return -1;
    }
    set_preempt(0);
    return r;
}

TEST(randomized_operations_against_a_model)
{
    setup(6, 15);      /* 64 slots in R, the first M_R used */
    for (int id = 0; id < M_SLOTS; id++)
        M.s[id] = (struct mslot){ .obj = -1, .parent = -1 };
    memset(M.alive, 0, sizeof M.alive);
    mo[O_U] = (struct mobj){ PITH_OBJ_UNTYPED, 15, R.s[0].cap.obj, 0, 0 };
    M.s[0] = (struct mslot){ .obj = O_U, .rights = PITH_RIGHTS_ALL, .parent = -1 };
    M.alive[O_U] = true;
    CHECK(m_make_objects());
    mo[O_A].first = M_R, mo[O_A].n = 8;
    mo[O_B].first = M_R + 8, mo[O_B].n = 8;
    mo[O_T].first = M_R + 16, mo[O_T].n = TCB_SLOTS;
    mo[O_C].first = M_R + 16 + TCB_SLOTS, mo[O_C].n = 8;
    CHECK(tree_ok(false));
    CHECK(m_matches());

    long counts[8] = { 0 }, errors = 0, preemptions = 0, self_destroying = 0;
    for (int step = 0; step < 6000; step++) {
        memset(M.died, 0, sizeof M.died);
        fin_log_n = 0;
        int op = (int)(rnd() % 100);
        int a = pick_used(), b = pick_slot();
        struct slot *sa = mslot_ptr(a), *sb = mslot_ptr(b);
        struct mslot ma = M.s[a];
        int r, want;

        if (op < 25 || (op < 40 && rnd() % 2)) {            /* copy or mint */
            bool mint = op >= 25;
            uint8_t mask = (uint8_t)(rnd() % 4 == 0 ? 0xff : rnd());
            uint64_t badge = mint && rnd() % 2 ? 1 + rnd() % 1000 : 0;
            uint8_t type = ma.obj >= 0 ? mo[ma.obj].type : 0;
            bool badgeable = type == PITH_OBJ_ENDPOINT || type == PITH_OBJ_NOTIFICATION;
            if (ma.obj < 0)
                want = PITH_E_SLOT_EMPTY;
            else if (M.s[b].obj >= 0)
                want = PITH_E_SLOT_FULL;
            else if (type == PITH_OBJ_UNTYPED)
                want = PITH_E_INVALID_ARG;
            else if (badge && (!badgeable || ma.badge))
                want = PITH_E_INVALID_ARG;
            else
                want = PITH_OK;
            r = mint ? cap_mint(sa, sb, mask, badge) : cap_copy(sa, sb, mask);
            counts[mint]++;
            if (want == PITH_OK) {
                M.s[b] = (struct mslot){ .obj = ma.obj, .rights = ma.rights & mask,
                                         .badge = badge ? badge : ma.badge, .parent = a };
            }
        } else if (op < 60) {                               /* move */
            if (ma.obj < 0)
                want = PITH_E_SLOT_EMPTY;
            else if (a == b)
                want = PITH_E_INVALID_ARG;
            else if (M.s[b].obj >= 0)
                want = PITH_E_SLOT_FULL;
            else
                want = PITH_OK;
            r = cap_move(sa, sb);
            counts[2]++;
            if (want == PITH_OK) {
                M.s[b] = ma;
                M.s[a] = (struct mslot){ .obj = -1, .parent = -1 };
                for (int y = 0; y < M_SLOTS; y++)
                    if (M.s[y].obj >= 0 && M.s[y].parent == a)
                        M.s[y].parent = b;
            }
        } else if (op < 80) {                               /* delete */
            want = PITH_OK;
            r = run_preemptible(cap_delete, sa, &preemptions);
            counts[3]++;
            bool busy[M_SLOTS] = { false };
            m_delete(&M, a, busy);
        } else if (op < 98) {                               /* revoke */
            struct model trial = M;
            m_revoke(&trial, a);
            want = PITH_OK;
            r = run_preemptible(cap_revoke, sa, &preemptions);
            counts[4]++;
            if (trial.s[a].obj != ma.obj) {
                /*
                 * It destroys itself midway (the untyped V lies in the CNode
                 * made from it): what is left depends on the order.  Check
                 * the tree, then revoke everything and start again.
                 */
                self_destroying++;
                CHECK_EQ(r, PITH_OK);
                CHECK(slot_empty(sa));
                CHECK(tree_ok(true));
                CHECK_EQ(run_preemptible(cap_revoke, &R.s[0], &preemptions), PITH_OK);
                for (int id = 1; id < M_SLOTS; id++)
                    M.s[id] = (struct mslot){ .obj = -1, .parent = -1 };
                memset(M.alive, 0, sizeof M.alive);
                M.alive[O_U] = true;
                memset(M.died, 0, sizeof M.died);
                fin_log_n = 0;
                CHECK(tree_ok(false));
                CHECK(m_matches());
                CHECK(m_make_objects());
                continue;
            }
            M = trial;
        } else {                                            /* revoke everything, make it again */
            want = PITH_OK;
            r = run_preemptible(cap_revoke, &R.s[0], &preemptions);
            counts[5]++;
            m_revoke(&M, 0);
            CHECK_EQ(R.s[0].cap.w0, 0);
            if (r == PITH_OK) {
                CHECK(m_matches());
                memset(M.died, 0, sizeof M.died);
                fin_log_n = 0;
                CHECK(m_make_objects());
            }
        }
        if (r != want || !tree_ok(false) || !m_matches()) {
            printf("  step %d: op %d a=%d b=%d: returned %d, expected %d\n", step, op, a, b, r, want);
            CHECK(0);
        }
        errors += r != PITH_OK;
        CHECK_EQ(hook_errors, 0);
    }
    printf("  copy %ld mint %ld move %ld delete %ld revoke %ld reset %ld; "
           "%ld errors, %ld preemptions, %ld revokes that destroyed themselves\n",
           counts[0], counts[1], counts[2], counts[3], counts[4], counts[5], errors, preemptions,
           self_destroying);
    CHECK(counts[5] > 10 && preemptions > 100 && errors > 500);
}
