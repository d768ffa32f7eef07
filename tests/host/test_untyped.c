// uses: kernel/object/cap.c kernel/object/cnode.c kernel/object/untyped.c kernel/lib/string.c
/*
 * kernel/object/untyped.c and cnode.c: object sizes, where retype puts
 * objects (alignment, the free index), every error with nothing changed
 * (exhaustion, a full destination slot, ranges, overflow), splitting an
 * untyped into smaller ones and retyping from those, revoke of an untyped
 * ending every object made from it (once each) and making all of its
 * memory reusable, and CNode slot lookup with its errors in order.
 *
 * The hooks: CNodes hold 2^bits slots, a TCB holds 4 slots at the start
 * of its memory; object_created / object_finalise keep a table of live
 * objects so that a double finalise, or one of something never made, is
 * caught.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "object/cap.h"
#include "object/cnode.h"
#include "object/untyped.h"

#define TCB_SLOTS 4

/* ---- memory ------------------------------------------------------------------ */

#define MAX_BLOCKS 16
static void *blocks[MAX_BLOCKS];
static int n_blocks;

static void free_blocks(void)
{
    for (int i = 0; i < n_blocks; i++)
        free(blocks[i]);
    n_blocks = 0;
}

/* Aligned to its size (a power of two), filled with `fill`. */
static void *block(size_t size, int fill)
{
    void *p = aligned_alloc(size, size);
    if (!p || n_blocks == MAX_BLOCKS) {
        fprintf(stderr, "out of test memory\n");
        exit(2);
    }
    memset(p, fill, size);
    blocks[n_blocks++] = p;
    return p;
}

__attribute__((destructor)) static void at_exit_free(void)
{
    free_blocks();
}

/* ---- hooks -------------------------------------------------------------------- */

static int hook_errors;
static long n_created, n_finalised, n_removed, created_of[PITH_OBJ_TYPE_COUNT];
static long preempt_every, preempt_left;

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

/* Live objects, keyed by (obj, type, size); only untypeds may share a key. */
#define LIVE_SIZE (1u << 16)
static struct live { uint64_t obj; uint32_t key; int32_t count; } live[LIVE_SIZE];

static struct live *live_find(uint8_t type, uint64_t obj, uint32_t bits, bool insert)
{
    uint32_t key = type | ((type == PITH_OBJ_UNTYPED || type == PITH_OBJ_CNODE) ? bits : 0) << 8;
    uint64_t h = (obj >> 6) * 0x9e3779b97f4a7c15ull ^ key;
    for (uint32_t i = 0; i < LIVE_SIZE; i++) {
        struct live *e = &live[(h + i) & (LIVE_SIZE - 1)];
        if (e->key == key && e->obj == obj)
            return e;
        if (e->key == 0) {
            if (!insert)
                return NULL;
            e->key = key;
            e->obj = obj;
            return e;
        }
    }
    fprintf(stderr, "live table full\n");
    exit(2);
}

static long n_alive(void)
{
    long n = 0;
    for (uint32_t i = 0; i < LIVE_SIZE; i++)
        n += live[i].count;
    return n;
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
    struct slot *slots;
    size_t n = object_slots(c, &slots);
    for (size_t i = 0; i < n; i++)
        if (!slot_empty(&slots[i]))
            hook_fail("finalise of type %u with slot %zu in use", c->type, i);
    struct live *e = live_find(c->type, c->obj, c->bits, false);
    if (!e || e->count == 0)
        hook_fail("finalise of type %u at %#llx: not alive", c->type, (unsigned long long)c->obj);
    else
        e->count--;
}

void object_created(const struct cap *c)
{
    n_created++;
    if (c->type < PITH_OBJ_TYPE_COUNT)
        created_of[c->type]++;
    struct live *e = live_find(c->type, c->obj, c->bits, true);
    if (e->count > 0 && c->type != PITH_OBJ_UNTYPED)
        hook_fail("type %u at %#llx made while it exists", c->type, (unsigned long long)c->obj);
    e->count++;
}

void cap_removed(struct cap *c)
{
    n_removed++;
    if (c->type == PITH_OBJ_NULL || c->type >= PITH_OBJ_ZOMBIE)
        hook_fail("cap_removed of type %u", c->type);
}

bool preemption_pending(void)
{
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

/* ---- fixtures ---------------------------------------------------------------- */

struct cnode {
    struct slot *s;
    struct cap cap;
};

static struct cnode R;          /* root CNode, its capability held by "the kernel" */
static size_t r_slots;
static uint8_t *mem;            /* the root untyped's memory, in R[0] */
static size_t mem_size;

/* A root CNode of 2^root_bits slots; a root untyped of 2^ut_bits bytes (filled with 0xAA) in slot 0. */
static void setup(unsigned root_bits, unsigned ut_bits)
{
    free_blocks();
    memset(live, 0, sizeof live);
    hook_errors = 0;
    n_created = n_finalised = n_removed = 0;
    memset(created_of, 0, sizeof created_of);
    set_preempt(0);

    r_slots = (size_t)1 << root_bits;
    size_t rsize = sizeof(struct slot) << root_bits;
    R.s = block(rsize, 0);
    R.cap = (struct cap){ .type = PITH_OBJ_CNODE, .rights = PITH_RIGHTS_ALL, .bits = root_bits,
                          .obj = (uintptr_t)R.s };
    mem_size = (size_t)1 << ut_bits;
    mem = block(mem_size, 0xAA);
    struct cap u = { .type = PITH_OBJ_UNTYPED, .rights = PITH_RIGHTS_ALL, .bits = ut_bits,
                     .obj = (uintptr_t)mem };
    mdb_insert_root(NULL, &R.s[0], &u);
    live_find(PITH_OBJ_UNTYPED, u.obj, u.bits, true)->count++;
}

static int retype(struct slot *ut, uint8_t type, uint32_t bits, uint64_t index, uint64_t count)
{
    return untyped_retype(ut, type, bits, &R.cap, index, count);
}

static struct cnode cnode_of(const struct slot *s)
{
    return (struct cnode){ (struct slot *)(uintptr_t)s->cap.obj, s->cap };
}

static bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != v)
            return false;
    return true;
}

static size_t count_used(const struct slot *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += !slot_empty(&s[i]);
    return k;
}

static struct slot *parent_of(const struct slot *s)
{
    if (s->mdb.depth == 0)
        return NULL;
    struct slot *p = s->mdb.prev;
    while (p && p->mdb.depth >= s->mdb.depth)
        p = p->mdb.prev;
    return p;
}

/* A snapshot of everything a failed retype must leave alone. */
static struct slot snap_slots[1u << 7];
static uint8_t *snap_mem;
static long snap_created;

static void snapshot(void)
{
    memcpy(snap_slots, R.s, r_slots * sizeof(struct slot));
    free(snap_mem);
    snap_mem = malloc(mem_size);
    memcpy(snap_mem, mem, mem_size);
    snap_created = n_created;
}

static bool unchanged(void)
{
    return memcmp(snap_slots, R.s, r_slots * sizeof(struct slot)) == 0 &&
           memcmp(snap_mem, mem, mem_size) == 0 &&
           n_created == snap_created;
}

__attribute__((destructor)) static void free_snapshot(void)
{
    free(snap_mem);
}

/* ---- sizes ---------------------------------------------------------------------- */

TEST(object_sizes)
{
    CHECK_EQ(object_size_bits(PITH_OBJ_UNTYPED, PITH_UNTYPED_MIN_BITS - 1), -1);
    CHECK_EQ(object_size_bits(PITH_OBJ_UNTYPED, PITH_UNTYPED_MIN_BITS), PITH_UNTYPED_MIN_BITS);
    CHECK_EQ(object_size_bits(PITH_OBJ_UNTYPED, 20), 20);
    CHECK_EQ(object_size_bits(PITH_OBJ_UNTYPED, PITH_UNTYPED_MAX_BITS), PITH_UNTYPED_MAX_BITS);
    CHECK_EQ(object_size_bits(PITH_OBJ_UNTYPED, PITH_UNTYPED_MAX_BITS + 1), -1);
    CHECK_EQ(object_size_bits(PITH_OBJ_UNTYPED, UINT32_MAX), -1);
    CHECK_EQ(object_size_bits(PITH_OBJ_CNODE, 0), -1);
    CHECK_EQ(object_size_bits(PITH_OBJ_CNODE, PITH_CNODE_MIN_SLOTS_BITS),
             PITH_CNODE_MIN_SLOTS_BITS + PITH_SLOT_BITS);
    CHECK_EQ(object_size_bits(PITH_OBJ_CNODE, 10), 16);
    CHECK_EQ(object_size_bits(PITH_OBJ_CNODE, PITH_CNODE_MAX_SLOTS_BITS),
             PITH_CNODE_MAX_SLOTS_BITS + PITH_SLOT_BITS);
    CHECK_EQ(object_size_bits(PITH_OBJ_CNODE, PITH_CNODE_MAX_SLOTS_BITS + 1), -1);
    static const struct { uint8_t type; int bits; } fixed[] = {
        { PITH_OBJ_TCB, PITH_TCB_BITS }, { PITH_OBJ_VSPACE, PITH_VSPACE_BITS },
        { PITH_OBJ_PAGE_TABLE, PITH_PAGE_TABLE_BITS }, { PITH_OBJ_FRAME, PITH_FRAME_BITS },
        { PITH_OBJ_ENDPOINT, PITH_ENDPOINT_BITS }, { PITH_OBJ_NOTIFICATION, PITH_NOTIFICATION_BITS },
        { PITH_OBJ_REPLY, PITH_REPLY_BITS },
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        CHECK_EQ(object_size_bits(fixed[i].type, 0), fixed[i].bits);
        CHECK_EQ(object_size_bits(fixed[i].type, 99), fixed[i].bits);     /* bits ignored */
        CHECK_EQ(object_size_bits(fixed[i].type, UINT32_MAX), fixed[i].bits);
    }
    CHECK_EQ(object_size_bits(PITH_OBJ_NULL, 0), -1);
    CHECK_EQ(object_size_bits(PITH_OBJ_ZOMBIE, 0), -1);
    CHECK_EQ(object_size_bits(PITH_OBJ_TYPE_COUNT, 0), -1);
    CHECK_EQ(object_size_bits(255, 12), -1);
}

/* ---- retype ---------------------------------------------------------------------- */

TEST(retype_makes_zeroed_objects_as_children)
{
    setup(6, 16);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, 1, 3), PITH_OK);
    for (int i = 0; i < 3; i++) {
        const struct cap *c = &R.s[1 + i].cap;
        CHECK_EQ(c->type, PITH_OBJ_ENDPOINT);
        CHECK_EQ(c->rights, PITH_RIGHTS_ALL);
        CHECK_EQ(c->obj, (uintptr_t)mem + 64u * (unsigned)i);
        CHECK_EQ(c->bits, 0);
        CHECK_EQ(c->flags | c->w0 | c->w1 | c->w2, 0);
        CHECK(parent_of(&R.s[1 + i]) == &R.s[0]);
        CHECK(cap_is_final(&R.s[1 + i]));
    }
    CHECK_EQ(R.s[0].cap.w0, 192);
    CHECK(all_bytes(mem, 192, 0));
    CHECK(all_bytes(mem + 192, mem_size - 192, 0xAA));      /* nothing else touched */
    CHECK_EQ(n_created, 3);

    CHECK_EQ(retype(&R.s[0], PITH_OBJ_CNODE, 4, 4, 1), PITH_OK);     /* 16 slots, 1 KiB */
    CHECK_EQ(R.s[4].cap.bits, 4);
    CHECK_EQ(R.s[4].cap.obj, (uintptr_t)mem + 1024);         /* aligned up from 192 */
    CHECK(all_bytes(mem + 192, 1024 - 192, 0xAA));           /* the gap stays as it was */
    CHECK(all_bytes(mem + 1024, 1024, 0));
    CHECK_EQ(R.s[0].cap.w0, 2048);
    struct cnode c = cnode_of(&R.s[4]);
    CHECK_EQ(count_used(c.s, 16), 0);

    CHECK_EQ(retype(&R.s[0], PITH_OBJ_UNTYPED, 12, 5, 2), PITH_OK);
    CHECK_EQ(R.s[5].cap.bits, 12);
    CHECK_EQ(R.s[5].cap.obj, (uintptr_t)mem + 4096);
    CHECK_EQ(R.s[6].cap.obj, (uintptr_t)mem + 8192);
    CHECK_EQ(R.s[5].cap.w0, 0);
    CHECK_EQ(R.s[0].cap.w0, 12288);

    CHECK_EQ(retype(&R.s[0], PITH_OBJ_TCB, 7, 7, 1), PITH_OK);
    CHECK_EQ(R.s[7].cap.bits, 0);
    CHECK_EQ(R.s[7].cap.obj, (uintptr_t)mem + 12288);
    CHECK(all_bytes(mem + 12288, 4096, 0));
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_FRAME, 0, 8, 1), PITH_OK);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_VSPACE, 0, 9, 1), PITH_OK);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_PAGE_TABLE, 0, 10, 1), PITH_OK);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_NOTIFICATION, 0, 11, 1), PITH_OK);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_REPLY, 0, 12, 1), PITH_OK);
    CHECK_EQ(R.s[8].cap.obj, (uintptr_t)mem + 16384);
    CHECK_EQ(R.s[9].cap.obj, (uintptr_t)mem + 20480);
    CHECK_EQ(R.s[10].cap.obj, (uintptr_t)mem + 24576);
    CHECK_EQ(R.s[11].cap.obj, (uintptr_t)mem + 28672);
    CHECK_EQ(R.s[12].cap.obj, (uintptr_t)mem + 28736);
    CHECK_EQ(R.s[0].cap.w0, 28800);
    CHECK(all_bytes(mem + 16384, 28800 - 16384, 0));
    for (int i = 1; i <= 12; i++)
        CHECK(parent_of(&R.s[i]) == &R.s[0]);
    CHECK_EQ(n_created, 12);
    CHECK_EQ(created_of[PITH_OBJ_UNTYPED], 2);
    CHECK_EQ(hook_errors, 0);
}

TEST(retype_into_a_cnode_made_by_retype)
{
    setup(4, 16);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_CNODE, 3, 1, 1), PITH_OK);
    struct cnode c = cnode_of(&R.s[1]);
    CHECK_EQ(untyped_retype(&R.s[0], PITH_OBJ_NOTIFICATION, 0, &c.cap, 2, 6), PITH_OK);
    CHECK_EQ(count_used(c.s, 8), 6);
    CHECK(slot_empty(&c.s[0]) && slot_empty(&c.s[1]));
    CHECK_EQ(untyped_retype(&R.s[0], PITH_OBJ_NOTIFICATION, 0, &c.cap, 7, 2), PITH_E_SLOT_RANGE);
    CHECK_EQ(untyped_retype(&R.s[0], PITH_OBJ_NOTIFICATION, 0, &c.cap, 8, 1), PITH_E_SLOT_RANGE);
    CHECK_EQ(untyped_retype(&R.s[0], PITH_OBJ_NOTIFICATION, 0, &c.cap, 0, 2), PITH_OK);
    CHECK_EQ(count_used(c.s, 8), 8);
    CHECK(parent_of(&c.s[0]) == &R.s[0]);
    CHECK_EQ(hook_errors, 0);
}

TEST(retype_errors_change_nothing)
{
    setup(6, 14);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, 1, 1), PITH_OK);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_UNTYPED, 12, 2, 1), PITH_OK);
    snapshot();
    struct cap not_cnode = R.s[1].cap;

    /* the untyped capability's type */
    CHECK_EQ(retype(&R.s[1], PITH_OBJ_ENDPOINT, 0, 10, 1), PITH_E_WRONG_TYPE);
    CHECK_EQ(retype(&R.s[9], PITH_OBJ_ENDPOINT, 0, 10, 1), PITH_E_WRONG_TYPE);     /* empty */
    /* the destination's type, before the rest */
    CHECK_EQ(untyped_retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, &not_cnode, 10, 1), PITH_E_WRONG_TYPE);
    CHECK_EQ(untyped_retype(&R.s[0], PITH_OBJ_NULL, 0, &not_cnode, 999, 0), PITH_E_WRONG_TYPE);
    /* object type and size */
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_NULL, 0, 10, 1), PITH_E_INVALID_ARG);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_ZOMBIE, 0, 10, 1), PITH_E_INVALID_ARG);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_TYPE_COUNT, 0, 10, 1), PITH_E_INVALID_ARG);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_UNTYPED, 5, 10, 1), PITH_E_INVALID_ARG);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_UNTYPED, 48, 10, 1), PITH_E_INVALID_ARG);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_CNODE, 0, 10, 1), PITH_E_INVALID_ARG);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_CNODE, 21, 10, 1), PITH_E_INVALID_ARG);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_NULL, 0, 999, 1), PITH_E_INVALID_ARG);      /* before range */
    /* count */
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, 10, 0), PITH_E_INVALID_ARG);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, 10, (1ull << 20) + 1), PITH_E_INVALID_ARG);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, 10, UINT64_MAX), PITH_E_INVALID_ARG);
    /* destination range */
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, 64, 1), PITH_E_SLOT_RANGE);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, 60, 5), PITH_E_SLOT_RANGE);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, UINT64_MAX, 2), PITH_E_SLOT_RANGE);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, 1ull << 63, 1), PITH_E_SLOT_RANGE);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, 60, 1ull << 20), PITH_E_SLOT_RANGE);
    /* a full destination slot, before memory */
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, 0, 1), PITH_E_SLOT_FULL);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_FRAME, 0, 1, 10), PITH_E_SLOT_FULL);
    /* memory: 2^14 bytes, 4096 + 64 used */
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_UNTYPED, 15, 10, 1), PITH_E_NO_MEMORY);   /* bigger than it */
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_FRAME, 0, 10, 3), PITH_E_NO_MEMORY);      /* 8192 + 3*4096 */
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, 10, 50), PITH_OK);
    snapshot();
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_CNODE, 7, 60, 1), PITH_E_NO_MEMORY);      /* 8 KiB from 8192 */
    CHECK(unchanged());
    CHECK_EQ(hook_errors, 0);
}

TEST(retype_exhaustion_changes_nothing)
{
    setup(7, 12);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, 1, 60), PITH_OK);
    snapshot();
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, 61, 5), PITH_E_NO_MEMORY);
    CHECK(unchanged());
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_NOTIFICATION, 0, 61, 4), PITH_OK);
    CHECK_EQ(R.s[0].cap.w0, 4096);
    snapshot();
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, 65, 1), PITH_E_NO_MEMORY);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_UNTYPED, 6, 65, 1), PITH_E_NO_MEMORY);
    CHECK(unchanged());
    CHECK_EQ(n_created, 64);
    CHECK_EQ(hook_errors, 0);
}

TEST(retype_with_one_destination_full_changes_nothing)
{
    setup(5, 16);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, 13, 1), PITH_OK);       /* in the way */
    snapshot();
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_FRAME, 0, 8, 8), PITH_E_SLOT_FULL);
    CHECK(unchanged());
    CHECK_EQ(count_used(R.s, 32), 2);
    CHECK_EQ(R.s[0].cap.w0, 64);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_FRAME, 0, 14, 8), PITH_OK);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_FRAME, 0, 13, 1), PITH_E_SLOT_FULL);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_FRAME, 0, 21, 1), PITH_E_SLOT_FULL);
    CHECK_EQ(count_used(R.s, 32), 10);
    CHECK_EQ(hook_errors, 0);
}

/* Sizes near 2^64 without the memory: only the checks run, and nothing wraps. */
TEST(retype_overflow_is_no_memory)
{
    setup(4, 12);
    struct slot *big = &R.s[8];
    struct cap c = { .type = PITH_OBJ_UNTYPED, .rights = PITH_RIGHTS_ALL,
                     .bits = PITH_UNTYPED_MAX_BITS, .obj = 0 };
    mdb_insert_root(NULL, big, &c);
    big->cap.w0 = (1ull << 47) - 64;
    CHECK_EQ(retype(big, PITH_OBJ_UNTYPED, 47, 1, 1), PITH_E_NO_MEMORY);
    /* count << 47 is 2^64 here: it must not wrap to 0 */
    struct slot *many = block(sizeof(struct slot) << 17, 0);
    struct cap many_cap = { .type = PITH_OBJ_CNODE, .rights = PITH_RIGHTS_ALL, .bits = 17,
                            .obj = (uintptr_t)many };
    big->cap.w0 = 0;
    CHECK_EQ(untyped_retype(big, PITH_OBJ_UNTYPED, 47, &many_cap, 0, 1u << 17), PITH_E_NO_MEMORY);
    CHECK_EQ(untyped_retype(big, PITH_OBJ_UNTYPED, 46, &many_cap, 0, 1u << 17), PITH_E_NO_MEMORY);
    CHECK_EQ(count_used(many, 1u << 17), 0);
    big->cap.w0 = (1ull << 47) - 64;
    CHECK_EQ(retype(big, PITH_OBJ_FRAME, 0, 1, 2), PITH_E_NO_MEMORY);
    big->cap.w0 = (1ull << 47) + 64;            /* beyond the end */
    CHECK_EQ(retype(big, PITH_OBJ_ENDPOINT, 0, 1, 1), PITH_E_NO_MEMORY);
    big->cap.w0 = UINT64_MAX - 10;
    CHECK_EQ(retype(big, PITH_OBJ_ENDPOINT, 0, 1, 1), PITH_E_NO_MEMORY);
    big->cap.w0 = 64;
    CHECK_EQ(retype(big, PITH_OBJ_UNTYPED, 46, 1, 2), PITH_E_NO_MEMORY);    /* one fits, at 2^46 */
    CHECK_EQ(untyped_retype(big, PITH_OBJ_UNTYPED, 46, &many_cap, 0, 3), PITH_E_NO_MEMORY);
    CHECK_EQ(count_used(R.s, 16), 2);
    CHECK_EQ(n_created, 0);
    mdb_remove(big);
    CHECK_EQ(hook_errors, 0);
}

/* ---- splitting, revoke ------------------------------------------------------------ */

TEST(split_an_untyped_and_retype_from_the_parts)
{
    setup(6, 16);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_UNTYPED, 14, 1, 4), PITH_OK);      /* four quotas */
    CHECK_EQ(R.s[0].cap.w0, 1u << 16);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, 10, 1), PITH_E_NO_MEMORY);
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(R.s[1 + i].cap.obj, (uintptr_t)mem + ((uint64_t)i << 14));
        CHECK_EQ(R.s[1 + i].cap.bits, 14);
        CHECK_EQ(R.s[1 + i].cap.w0, 0);
        CHECK(parent_of(&R.s[1 + i]) == &R.s[0]);
    }
    CHECK(all_bytes(mem, mem_size, 0xAA));      /* untyped memory is not zeroed when split */
    /* each part has its own free index */
    CHECK_EQ(retype(&R.s[1], PITH_OBJ_FRAME, 0, 10, 4), PITH_OK);
    CHECK_EQ(retype(&R.s[1], PITH_OBJ_FRAME, 0, 14, 1), PITH_E_NO_MEMORY);
    CHECK_EQ(retype(&R.s[2], PITH_OBJ_UNTYPED, 12, 14, 2), PITH_OK);
    CHECK_EQ(retype(&R.s[14], PITH_OBJ_TCB, 0, 16, 1), PITH_OK);
    CHECK_EQ(retype(&R.s[14], PITH_OBJ_ENDPOINT, 0, 17, 1), PITH_E_NO_MEMORY);
    CHECK_EQ(retype(&R.s[15], PITH_OBJ_ENDPOINT, 0, 17, 40), PITH_OK);
    CHECK_EQ(R.s[10].cap.obj, (uintptr_t)mem);
    CHECK_EQ(R.s[13].cap.obj, (uintptr_t)mem + 3 * 4096);
    CHECK_EQ(R.s[16].cap.obj, (uintptr_t)mem + (1u << 14));
    CHECK_EQ(R.s[17].cap.obj, (uintptr_t)mem + (1u << 14) + 4096);
    CHECK(parent_of(&R.s[16]) == &R.s[14]);
    CHECK(parent_of(&R.s[14]) == &R.s[2]);
    CHECK(parent_of(&R.s[17]) == &R.s[15]);
    CHECK(all_bytes(mem + (1u << 14) + 8192, (1u << 14) - 8192, 0xAA));  /* part 2's unused half */

    /* revoking one part ends what was made from it, and only that */
    long fin = n_finalised;
    CHECK_EQ(cap_revoke(&R.s[2]), PITH_OK);
    CHECK_EQ(n_finalised - fin, 2 + 1 + 40);
    CHECK_EQ(R.s[2].cap.w0, 0);
    CHECK_EQ(count_used(&R.s[14], 50), 0);
    CHECK_EQ(count_used(&R.s[10], 4), 4);
    CHECK_EQ(R.s[1].cap.w0, 4u << 12);
    /* and its memory is there again, all of it */
    CHECK_EQ(retype(&R.s[2], PITH_OBJ_CNODE, 8, 14, 1), PITH_OK);
    CHECK_EQ(R.s[14].cap.obj, (uintptr_t)mem + (1u << 14));
    CHECK_EQ(R.s[2].cap.w0, 1u << 14);
    CHECK_EQ(hook_errors, 0);
}

/* Everything one kind of each, some of them holding capabilities, some made from a part. */
static void make_everything(void)
{
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_CNODE, 3, 1, 1), PITH_OK);
    struct cnode c = cnode_of(&R.s[1]);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_TCB, 0, 2, 1), PITH_OK);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_VSPACE, 0, 3, 1), PITH_OK);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_PAGE_TABLE, 0, 4, 1), PITH_OK);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_FRAME, 0, 5, 2), PITH_OK);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, 7, 1), PITH_OK);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_NOTIFICATION, 0, 8, 1), PITH_OK);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_REPLY, 0, 9, 1), PITH_OK);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_UNTYPED, 13, 10, 1), PITH_OK);
    CHECK_EQ(retype(&R.s[10], PITH_OBJ_ENDPOINT, 0, 11, 20), PITH_OK);
    CHECK_EQ(retype(&R.s[10], PITH_OBJ_CNODE, 2, 31, 1), PITH_OK);
    /* capabilities inside the objects, and copies */
    struct slot *t = (struct slot *)(uintptr_t)R.s[2].cap.obj;
    CHECK_EQ(cap_copy(&R.s[1], &t[0], PITH_RIGHTS_ALL), PITH_OK);
    CHECK_EQ(cap_copy(&R.s[3], &t[1], PITH_RIGHTS_ALL), PITH_OK);
    CHECK_EQ(cap_move(&R.s[2], &c.s[0]), PITH_OK);          /* the thread's only capability */
    CHECK_EQ(cap_mint(&R.s[7], &c.s[1], PITH_RIGHT_WRITE, 77), PITH_OK);
    CHECK_EQ(cap_move(&R.s[31], &c.s[2]), PITH_OK);
    CHECK_EQ(cap_move(&R.s[12], &c.s[3]), PITH_OK);
    CHECK_EQ(cap_copy(&c.s[1], &R.s[40], PITH_RIGHT_WRITE), PITH_OK);
}

TEST(revoke_untyped_ends_everything_and_frees_the_memory)
{
    for (int every = 0; every <= 1; every++) {
        setup(6, 16);
        for (int round = 0; round < 3; round++) {
            make_everything();
            CHECK_EQ(n_alive(), 31 + 1);
            uint64_t used = R.s[0].cap.w0;
            CHECK(used > 0);
            set_preempt(every);
            int r, calls = 0;
            while ((r = cap_revoke(&R.s[0])) == PITH_E_PREEMPTED) {
                calls++;
                CHECK_EQ(R.s[0].cap.w0, used);      /* not free until everything is gone */
            }
            set_preempt(0);
            CHECK_EQ(r, PITH_OK);
            CHECK(every == 0 || calls >= 31);
            CHECK_EQ(n_alive(), 1);                 /* the root untyped alone */
            CHECK_EQ(n_finalised, (long)(round + 1) * 31);
            CHECK_EQ(count_used(R.s, 64), 1);
            CHECK(!mdb_has_children(&R.s[0]));
            CHECK_EQ(R.s[0].cap.w0, 0);
            CHECK_EQ(hook_errors, 0);
        }
        /* all of the memory, in one piece and in the smallest pieces */
        CHECK_EQ(retype(&R.s[0], PITH_OBJ_UNTYPED, 16, 1, 1), PITH_OK);
        CHECK_EQ(R.s[1].cap.obj, (uintptr_t)mem);
        CHECK_EQ(cap_revoke(&R.s[0]), PITH_OK);
        CHECK_EQ(cap_revoke(&R.s[0]), PITH_OK);
        CHECK_EQ(retype(&R.s[0], PITH_OBJ_FRAME, 0, 1, 16), PITH_OK);
        CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, 17, 1), PITH_E_NO_MEMORY);
        CHECK_EQ(hook_errors, 0);
    }
}

/* Deleting a part (not revoking it) keeps its objects, and its memory stays used. */
TEST(delete_of_a_part_keeps_its_objects)
{
    setup(5, 16);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_UNTYPED, 14, 1, 1), PITH_OK);
    CHECK_EQ(retype(&R.s[1], PITH_OBJ_ENDPOINT, 0, 2, 3), PITH_OK);
    CHECK_EQ(cap_delete(&R.s[1]), PITH_OK);
    CHECK_EQ(n_finalised, 1);                               /* the part only */
    for (int i = 2; i <= 4; i++)
        CHECK(parent_of(&R.s[i]) == &R.s[0]);
    CHECK_EQ(R.s[0].cap.w0, 1u << 14);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_UNTYPED, 14, 1, 1), PITH_OK);
    CHECK_EQ(R.s[1].cap.obj, (uintptr_t)mem + (1u << 14));   /* not over the endpoints */
    CHECK_EQ(cap_revoke(&R.s[0]), PITH_OK);
    CHECK_EQ(n_finalised, 1 + 3 + 1);
    CHECK_EQ(R.s[0].cap.w0, 0);
    CHECK_EQ(hook_errors, 0);
}

/* ---- CNode lookup ------------------------------------------------------------------- */

TEST(cnode_slot_and_lookup)
{
    setup(4, 16);
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_ENDPOINT, 0, 3, 1), PITH_OK);
    CHECK_EQ(cap_copy(&R.s[3], &R.s[15], PITH_RIGHT_READ | PITH_RIGHT_GRANT), PITH_OK);
    struct slot *s = NULL;

    CHECK_EQ(cnode_slot(&R.cap, 0, &s), PITH_OK);
    CHECK(s == &R.s[0]);
    CHECK_EQ(cnode_slot(&R.cap, 15, &s), PITH_OK);
    CHECK(s == &R.s[15]);
    CHECK_EQ(cnode_slot(&R.cap, 7, &s), PITH_OK);           /* empty is fine here */
    CHECK(s == &R.s[7]);
    CHECK_EQ(cnode_slot(&R.cap, 16, &s), PITH_E_SLOT_RANGE);
    CHECK(s == NULL);
    CHECK_EQ(cnode_slot(&R.cap, UINT64_MAX, &s), PITH_E_SLOT_RANGE);
    CHECK_EQ(cnode_slot(&R.cap, 1ull << 32, &s), PITH_E_SLOT_RANGE);
    CHECK_EQ(cnode_slot(&R.s[3].cap, 0, &s), PITH_E_WRONG_TYPE);
    CHECK_EQ(cnode_slot(&R.s[3].cap, 99, &s), PITH_E_WRONG_TYPE);   /* type before range */

    CHECK_EQ(cnode_lookup(&R.cap, 3, PITH_OBJ_ENDPOINT, PITH_RIGHTS_ALL, &s), PITH_OK);
    CHECK(s == &R.s[3]);
    CHECK_EQ(cnode_lookup(&R.cap, 3, PITH_OBJ_NULL, 0, &s), PITH_OK);
    CHECK_EQ(cnode_lookup(&R.cap, 0, PITH_OBJ_NULL, 0, &s), PITH_OK);
    CHECK(s == &R.s[0]);
    CHECK_EQ(cnode_lookup(&R.cap, 15, PITH_OBJ_ENDPOINT, PITH_RIGHT_READ, &s), PITH_OK);
    CHECK_EQ(cnode_lookup(&R.cap, 15, PITH_OBJ_ENDPOINT, PITH_RIGHT_READ | PITH_RIGHT_GRANT, &s),
             PITH_OK);
    CHECK(s == &R.s[15]);
    /* errors, in order: the CNode's type, range, empty, type, rights */
    CHECK_EQ(cnode_lookup(&R.s[3].cap, 99, PITH_OBJ_TCB, PITH_RIGHTS_ALL, &s), PITH_E_WRONG_TYPE);
    CHECK(s == NULL);
    CHECK_EQ(cnode_lookup(&R.cap, 16, PITH_OBJ_ENDPOINT, 0, &s), PITH_E_SLOT_RANGE);
    CHECK_EQ(cnode_lookup(&R.cap, 16, PITH_OBJ_TCB, PITH_RIGHTS_ALL, &s), PITH_E_SLOT_RANGE);
    s = &R.s[1];
    CHECK_EQ(cnode_lookup(&R.cap, 7, PITH_OBJ_ENDPOINT, 0, &s), PITH_E_SLOT_EMPTY);
    CHECK(s == NULL);
    CHECK_EQ(cnode_lookup(&R.cap, 7, PITH_OBJ_NULL, 0, &s), PITH_E_SLOT_EMPTY);
    CHECK_EQ(cnode_lookup(&R.cap, 7, PITH_OBJ_TCB, PITH_RIGHTS_ALL, &s), PITH_E_SLOT_EMPTY);
    CHECK_EQ(cnode_lookup(&R.cap, 3, PITH_OBJ_NOTIFICATION, 0, &s), PITH_E_WRONG_TYPE);
    CHECK_EQ(cnode_lookup(&R.cap, 0, PITH_OBJ_CNODE, 0, &s), PITH_E_WRONG_TYPE);
    CHECK_EQ(cnode_lookup(&R.cap, 15, PITH_OBJ_TCB, PITH_RIGHT_WRITE, &s), PITH_E_WRONG_TYPE);
    CHECK_EQ(cnode_lookup(&R.cap, 15, PITH_OBJ_ENDPOINT, PITH_RIGHT_WRITE, &s), PITH_E_NO_RIGHTS);
    CHECK_EQ(cnode_lookup(&R.cap, 15, PITH_OBJ_NULL, PITH_RIGHT_READ | PITH_RIGHT_WRITE, &s),
             PITH_E_NO_RIGHTS);
    CHECK(s == NULL);

    /* a CNode made by retype, named by its capability in a slot */
    CHECK_EQ(retype(&R.s[0], PITH_OBJ_CNODE, 1, 4, 1), PITH_OK);
    struct cnode c = cnode_of(&R.s[4]);
    CHECK_EQ(cnode_slot(&R.s[4].cap, 1, &s), PITH_OK);
    CHECK(s == &c.s[1]);
    CHECK_EQ(cnode_slot(&R.s[4].cap, 2, &s), PITH_E_SLOT_RANGE);
    CHECK_EQ(cap_copy(&R.s[4], &R.s[5], PITH_RIGHT_READ), PITH_OK);
    CHECK_EQ(cnode_lookup(&R.cap, 5, PITH_OBJ_CNODE, PITH_RIGHT_READ, &s), PITH_OK);
    CHECK_EQ(cnode_lookup(&R.cap, 5, PITH_OBJ_CNODE, PITH_RIGHT_WRITE, &s), PITH_E_NO_RIGHTS);
    CHECK_EQ(hook_errors, 0);
}
