/*
 * Capabilities and the derivation tree (see cap.h).
 *
 * Deleting an object that holds slots (a CNode, a thread) must first
 * delete what those slots hold, which may be the final capability of
 * another such object, and so on: a recursion as deep as the user likes.
 * As in seL4 it is done with zombies instead.  The object's final
 * capability becomes a ZOMBIE that remembers the object (obj, bits), its
 * type (w0), its capability's w0 (w2) and how far the emptying has come
 * (w1: every slot below that index is known empty).  Each step starts at
 * the zombie being deleted (the "top"), walks down through zombies found
 * in the objects' slots to the deepest one and does one piece of work
 * there: delete one capability, turn one more final capability into a
 * zombie, scan a bounded number of slots, or finish an object whose slots
 * are all empty.  The zombies keep all the state, so a step can be
 * followed by a preemption point and cap_delete(top) simply resumes.
 *
 * A zombie lives in exactly one slot and a slot in at most one object, so
 * the walk down can only come back to where it started: to the top slot,
 * when the top lies inside an object it is destroying.  The walk skips the
 * top.  If the top lies in the object being destroyed, it goes last.  If
 * it lies in a deeper object X (a cycle: A holds the final capability of
 * B, B that of A) and X is empty but for the top, the cycle is broken in
 * one of two ways, depending on how the caller will come back after a
 * preemption.  cap_delete's caller comes back with the slot: the
 * capabilities are rotated so that the top holds X's zombie and the
 * zombie the top held moves into an empty slot of X; X is then the top's
 * own object and is destroyed last, after everything else.  cap_revoke
 * comes back to the place in the tree (which moves with the capability),
 * so there the top's zombie and X's swap slots and X ends at once: the
 * top is empty, and the rest of the cycle hangs from the zombie, still in
 * the place the revoke deletes next.  (The swap is also the only way when
 * X has a single slot.)  Capabilities keep their place in the tree when
 * they change slots: a zombie always stays below the untyped its object
 * was made from, so that memory is never reused while it exists.
 *
 * Revoke deletes leaves, last descendant first: removing a leaf is O(1),
 * while removing a node with descendants renumbers all of them (which
 * would make revoking a deep chain of copies quadratic).  Finding the
 * last descendant means walking the subtree once; a one-entry cache,
 * valid while the tree's shape is unchanged (a generation count), keeps
 * that position across deletions and preemptions.
 */
#include "object/cap.h"
#include "lib/string.h"

/* Slots examined in one step of zombie deletion, list nodes walked between preemption checks by revoke. */
#define SCAN_BUDGET 1024u
#define WALK_BUDGET 4096u

/* Bumped by every change to the list's shape. */
static uint64_t mdb_generation;

/* The latest mdb_remove: which slot, the node before it, the generation after. */
static struct {
    const struct slot *slot;
    struct slot *prev;
    uint64_t generation;
} last_removal;

/* Bumped when zombie deletion rotates capabilities to break a cycle. */
static uint64_t zombie_rotations;

/* cap_revoke's position cache. */
static struct {
    const struct slot *s;       /* the slot being revoked */
    struct slot *pos;           /* walking: the node reached; else s's last descendant */
    uint64_t generation;        /* valid while mdb_generation equals this */
    bool walking;
} revoke_hint;

/* ---- the derivation tree ---------------------------------------------- */

void mdb_insert_child(struct slot *parent, struct slot *child, const struct cap *c)
{
    struct slot *next = parent->mdb.next;
    child->cap = *c;
    child->mdb.prev = parent;
    child->mdb.next = next;
    child->mdb.depth = parent->mdb.depth + 1;
    child->mdb.pad = 0;
    if (next)
        next->mdb.prev = child;
    parent->mdb.next = child;
    mdb_generation++;
}

/*
 * A root goes after the whole tree that `after` belongs to (the nodes that
 * follow it deeper than 0), so that it adopts none of their nodes.
 */
void mdb_insert_root(struct slot *after, struct slot *s, const struct cap *c)
{
    s->cap = *c;
    s->mdb.depth = 0;
    s->mdb.pad = 0;
    s->mdb.prev = NULL;
    s->mdb.next = NULL;
    if (after) {
        struct slot *p = after;
        while (p->mdb.next && p->mdb.next->mdb.depth > 0)
            p = p->mdb.next;
        s->mdb.prev = p;
        s->mdb.next = p->mdb.next;
        if (p->mdb.next)
            p->mdb.next->mdb.prev = s;
        p->mdb.next = s;
    }
    mdb_generation++;
}

void mdb_move(struct slot *src, struct slot *dst)
{
    if (src == dst)
        return;
    dst->cap = src->cap;
    dst->mdb = src->mdb;
    if (dst->mdb.prev)
        dst->mdb.prev->mdb.next = dst;
    if (dst->mdb.next)
        dst->mdb.next->mdb.prev = dst;
    memset(src, 0, sizeof *src);
    mdb_generation++;
}

void mdb_remove(struct slot *s)
{
    struct slot *prev = s->mdb.prev, *next = s->mdb.next;
    uint32_t depth = s->mdb.depth;

    for (struct slot *d = next; d && d->mdb.depth > depth; d = d->mdb.next)
        d->mdb.depth--;
    if (prev)
        prev->mdb.next = next;
    if (next)
        next->mdb.prev = prev;
    memset(s, 0, sizeof *s);
    mdb_generation++;
    last_removal.slot = s;
    last_removal.prev = prev;
    last_removal.generation = mdb_generation;
}

bool mdb_has_children(const struct slot *s)
{
    return mdb_first_child(s) != NULL;
}

struct slot *mdb_first_child(const struct slot *s)
{
    struct slot *next = s->mdb.next;
    if (slot_empty(s) || !next || next->mdb.depth <= s->mdb.depth)
        return NULL;
    return next;
}

static uint8_t object_type(const struct cap *c)
{
    return c->type == PITH_OBJ_ZOMBIE ? (uint8_t)c->w0 : c->type;
}

/*
 * Same obj and same type, a zombie counting as its original type.  Every
 * untyped capability is an object of its own: untyped capabilities are
 * never copied, and a child untyped made by retype may have its parent's
 * address and even its size.
 */
bool cap_same_object(const struct cap *a, const struct cap *b)
{
    uint8_t ta = object_type(a), tb = object_type(b);
    if (ta == PITH_OBJ_NULL || ta != tb || a->obj != b->obj)
        return false;
    return ta != PITH_OBJ_UNTYPED || a == b;
}

bool cap_is_final(const struct slot *s)
{
    if (slot_empty(s))
        return false;
    if (s->mdb.prev && cap_same_object(&s->mdb.prev->cap, &s->cap))
        return false;
    if (s->mdb.next && cap_same_object(&s->mdb.next->cap, &s->cap))
        return false;
    return true;
}

/* ---- deletion ------------------------------------------------------------- */

/* The zombie's capability as it was before: the type and w0 back, w1/w2 zero. */
static struct cap zombie_original(const struct cap *z)
{
    struct cap c = *z;
    c.type = (uint8_t)z->w0;
    c.w0 = z->w2;
    c.w1 = 0;
    c.w2 = 0;
    return c;
}

static void zombify(struct slot *s)
{
    struct cap *c = &s->cap;
    c->w2 = c->w0;
    c->w1 = 0;
    c->w0 = c->type;
    c->type = PITH_OBJ_ZOMBIE;
}

/* Takes the capability in s away for good (a zombie as its original self); returns it. */
static struct cap discard(struct slot *s)
{
    struct cap c;
    if (s->cap.type == PITH_OBJ_ZOMBIE) {
        c = zombie_original(&s->cap);
        cap_removed(&c);
    } else {
        cap_removed(&s->cap);
        c = s->cap;
    }
    mdb_remove(s);
    return c;
}

/* s holds the last capability to its object, whose slots are empty: both go. */
static void discard_and_finalise(struct slot *s)
{
    struct cap c = discard(s);
    object_finalise(&c);
}

static bool slot_within(const struct slot *s, const struct slot *slots, size_t n)
{
    uintptr_t p = (uintptr_t)s, base = (uintptr_t)slots;
    return p >= base && (p - base) / sizeof *slots < n;
}

/* Exchanges two non-empty slots' capabilities and places in the tree. */
static void slot_swap(struct slot *a, struct slot *b)
{
    struct slot t = *a;
    *a = *b;
    *b = t;
    /* neighbours of each other: the links now point at themselves */
    if (a->mdb.prev == a)
        a->mdb.prev = b;
    if (a->mdb.next == a)
        a->mdb.next = b;
    if (b->mdb.prev == b)
        b->mdb.prev = a;
    if (b->mdb.next == b)
        b->mdb.next = a;
    if (a->mdb.prev)
        a->mdb.prev->mdb.next = a;
    if (a->mdb.next)
        a->mdb.next->mdb.prev = a;
    if (b->mdb.prev)
        b->mdb.prev->mdb.next = b;
    if (b->mdb.next)
        b->mdb.next->mdb.prev = b;
    mdb_generation++;
}

/*
 * top lies among the n slots of zombie z's object, all the others empty,
 * and holds the zombie of an object whose destruction led down to z (see
 * the top of the file).  keep_place: the caller resumes by place in the
 * tree, not by slot.
 */
static void break_cycle(struct slot *top, struct slot *z, struct slot *slots, size_t n,
                        bool keep_place)
{
    zombie_rotations++;
    if (keep_place || n < 2) {
        slot_swap(top, z);
        discard_and_finalise(top);
        return;
    }
    size_t e = &slots[0] == top ? 1 : 0;
    if (!slot_empty(&slots[e])) {
        z->cap.w1 = 0;          /* something came back: rescan */
        return;
    }
    z->cap.w1 = e;
    mdb_move(top, &slots[e]);
    mdb_move(z, top);
}

/* One bounded piece of work on the zombie in top (see the top of the file). */
static void zombie_step(struct slot *top, bool keep_place)
{
    struct slot *z = top;
    unsigned budget = SCAN_BUDGET;

    for (;;) {
        struct cap orig = zombie_original(&z->cap);
        struct slot *slots = NULL;
        size_t n = object_slots(&orig, &slots);
        uint64_t i = z->cap.w1;
        struct slot *t = NULL;

        while (i < n) {
            if (&slots[i] != top && !slot_empty(&slots[i])) {
                t = &slots[i];
                break;
            }
            i++;
            if (--budget == 0)
                break;
        }
        z->cap.w1 = i;
        if (!t) {
            if (i < n)
                return;                             /* budget spent */
            if (z == top)
                discard_and_finalise(top);          /* all done */
            else if (slot_within(top, slots, n))
                break_cycle(top, z, slots, n, keep_place);
            else
                discard_and_finalise(z);
            return;
        }
        if (t->cap.type == PITH_OBJ_ZOMBIE) {
            z = t;
            continue;
        }
        if (!cap_is_final(t)) {
            /* other capabilities remain, or it names an object already dying */
            discard(t);
            return;
        }
        struct slot *inner;
        if (object_slots(&t->cap, &inner) == 0) {
            discard_and_finalise(t);
            return;
        }
        zombify(t);
        z = t;
    }
}

static int delete_cap(struct slot *s, bool keep_place)
{
    if (slot_empty(s))
        return PITH_OK;
    if (s->cap.type != PITH_OBJ_ZOMBIE) {
        if (!cap_is_final(s)) {
            discard(s);
            return PITH_OK;
        }
        int err = object_may_finalise(&s->cap);
        if (err)
            return err;
        struct slot *slots;
        if (object_slots(&s->cap, &slots) == 0) {
            discard_and_finalise(s);
            return PITH_OK;
        }
        zombify(s);
    }
    for (;;) {
        zombie_step(s, keep_place);
        if (slot_empty(s))
            return PITH_OK;
        if (preemption_pending())
            return PITH_E_PREEMPTED;
    }
}

int cap_delete(struct slot *s)
{
    return delete_cap(s, false);
}

/* ---- revoke --------------------------------------------------------------- */

static void revoke_hint_set(const struct slot *s, struct slot *pos, bool walking)
{
    revoke_hint.s = s;
    revoke_hint.pos = pos;
    revoke_hint.walking = walking;
    revoke_hint.generation = mdb_generation;
}

int cap_revoke(struct slot *s)
{
    for (;;) {
        if (slot_empty(s) || !mdb_has_children(s))
            break;
        if (revoke_hint.s != s || revoke_hint.generation != mdb_generation)
            revoke_hint_set(s, s->mdb.next, true);
        if (revoke_hint.walking) {
            /* to the last descendant: the last node deeper than s */
            struct slot *p = revoke_hint.pos;
            unsigned budget = WALK_BUDGET;
            while (p->mdb.next && p->mdb.next->mdb.depth > s->mdb.depth) {
                p = p->mdb.next;
                if (--budget == 0) {
                    budget = WALK_BUDGET;
                    if (preemption_pending()) {
                        revoke_hint_set(s, p, true);
                        return PITH_E_PREEMPTED;
                    }
                }
            }
            revoke_hint_set(s, p, false);
        }

        struct slot *last = revoke_hint.pos;
        uint64_t rotations = zombie_rotations;
        revoke_hint.s = NULL;
        int r = delete_cap(last, true);
        bool moved = rotations != zombie_rotations;     /* then find the end again */
        if (r != PITH_OK) {
            if (!moved)
                revoke_hint_set(s, last, false);    /* still a zombie, still the last */
            return r;
        }
        /* When last went last of all, the node before it is the new last. */
        if (!moved && last_removal.slot == last && last_removal.generation == mdb_generation)
            revoke_hint_set(s, last_removal.prev, false);
        if (slot_empty(s) || !mdb_has_children(s))
            break;
        if (preemption_pending())
            return PITH_E_PREEMPTED;
    }
    if (revoke_hint.s == s)
        revoke_hint.s = NULL;
    if (s->cap.type == PITH_OBJ_UNTYPED)
        s->cap.w0 = 0;
    return PITH_OK;
}

/* ---- copy, mint, move ---------------------------------------------------- */

static int derive(struct slot *src, struct slot *dst, uint8_t rights_mask, uint64_t badge)
{
    if (slot_empty(src))
        return PITH_E_SLOT_EMPTY;
    if (!slot_empty(dst))
        return PITH_E_SLOT_FULL;
    uint8_t type = src->cap.type;
    if (type == PITH_OBJ_UNTYPED || type == PITH_OBJ_ZOMBIE)
        return PITH_E_INVALID_ARG;
    struct cap c = src->cap;
    c.rights &= rights_mask;
    if (type == PITH_OBJ_FRAME || type == PITH_OBJ_PAGE_TABLE)
        c.w0 = c.w1 = c.w2 = 0;     /* a copy is not mapped */
    if (badge) {
        if (type != PITH_OBJ_ENDPOINT && type != PITH_OBJ_NOTIFICATION)
            return PITH_E_INVALID_ARG;
        if (c.w0)
            return PITH_E_INVALID_ARG;      /* badged once, for good */
        c.w0 = badge;
    }
    mdb_insert_child(src, dst, &c);
    return PITH_OK;
}

int cap_copy(struct slot *src, struct slot *dst, uint8_t rights_mask)
{
    return derive(src, dst, rights_mask, 0);
}

int cap_mint(struct slot *src, struct slot *dst, uint8_t rights_mask, uint64_t badge)
{
    return derive(src, dst, rights_mask, badge);
}

int cap_move(struct slot *src, struct slot *dst)
{
    if (slot_empty(src))
        return PITH_E_SLOT_EMPTY;
    if (src == dst)
        return PITH_E_INVALID_ARG;
    if (!slot_empty(dst))
        return PITH_E_SLOT_FULL;
    mdb_move(src, dst);
    return PITH_OK;
}
