/*
 * The extension verifier.  A program is accepted only if it is proven,
 * before it ever runs, to stop, to touch nothing but its context (the
 * writable fields for writes), its own stack and its maps (through
 * helpers), to call only the helpers of its event, and never to let a
 * kernel address out (in r0, a helper argument, memory, or a comparison).
 *
 * Jumps go forward only, so the instructions in order are a topological
 * order of the program's graph: one pass over them simulates every path at
 * once.  The state before an instruction is what falls through from the
 * one before it merged with what every jump to it carried; a jump's state
 * waits in a small table until its target comes.  Each register is
 * tracked as unset, a number (exactly known or not), or a pointer into the
 * context or the stack at a known offset; each stack byte as written or
 * not.  The work is bounded: a few hundred bytes of state per pending
 * jump, constant work per instruction.
 */
#include "ext/ext.h"

#define PENDING_MAX 8                   /* jump targets waiting at once */
#define PTR_OFF_MAX (1 << 20)           /* a pointer wandering further is surely a mistake */

enum kind { K_UNINIT, K_MIXED, K_SCALAR, K_CONST, K_CTX, K_STACK };

struct reg {
    uint8_t kind;
    int32_t off;                        /* K_CTX, K_STACK: from the context's start / the frame pointer */
    uint64_t val;                       /* K_CONST */
};

struct state {
    struct reg r[PITH_EXT_REGS];
    uint8_t stack_set[PITH_EXT_STACK / 8];      /* a bit per stack byte written, [0] lowest */
};

struct pending {
    uint32_t target;
    struct state st;
};

struct helper {
    uint8_t args;                       /* r1..r<args> */
    uint8_t map;                        /* r1 a map number, r2 an index into it */
    uint32_t events;                    /* 1 << event for each event that may call it */
};

#define ALL_EVENTS ((1u << PITH_EXT_EVENT_IPC) | (1u << PITH_EXT_EVENT_IRQ) | (1u << PITH_EXT_EVENT_FAULT))
static const struct helper helpers[PITH_EXT_HELPER_COUNT] = {
    [PITH_EXT_MAP_READ] = { 2, 1, ALL_EVENTS },
    [PITH_EXT_MAP_WRITE] = { 3, 1, ALL_EVENTS },
    [PITH_EXT_MAP_ADD] = { 3, 1, ALL_EVENTS },
    [PITH_EXT_MSG_WORD] = { 1, 0, 1u << PITH_EXT_EVENT_IPC },
};

static const char *const rule_texts[PITH_EXT_R_COUNT] = {
    [PITH_EXT_OK] = "accepted",
    [PITH_EXT_R_LENGTH] = "the program is empty or longer than 512 instructions",
    [PITH_EXT_R_EVENT] = "no such event",
    [PITH_EXT_R_OPCODE] = "unknown opcode",
    [PITH_EXT_R_REGISTER] = "register number beyond r10",
    [PITH_EXT_R_FIELD] = "an instruction field this opcode does not use is not zero",
    [PITH_EXT_R_WRITE_FP] = "r10, the frame pointer, is read-only",
    [PITH_EXT_R_BACK_EDGE] = "jump backwards or to itself: loops are not allowed",
    [PITH_EXT_R_JUMP_RANGE] = "jump past the end of the program",
    [PITH_EXT_R_FALLS_OFF] = "execution can run past the last instruction without EXIT",
    [PITH_EXT_R_UNREACHABLE] = "instruction reached by no path",
    [PITH_EXT_R_BRANCHES] = "more than 8 jump targets pending at once",
    [PITH_EXT_R_UNINIT] = "register read before it is set",
    [PITH_EXT_R_MIXED] = "register read that holds different kinds of value on joining paths",
    [PITH_EXT_R_PTR_ARITH] = "pointer arithmetic other than adding or subtracting a known constant",
    [PITH_EXT_R_PTR_COMPARE] = "pointer used in a jump's condition",
    [PITH_EXT_R_PTR_STORE] = "pointer stored to memory",
    [PITH_EXT_R_PTR_HELPER] = "pointer passed to a helper",
    [PITH_EXT_R_PTR_RETURN] = "pointer returned in r0",
    [PITH_EXT_R_NOT_PTR] = "memory access through a register that is not a pointer",
    [PITH_EXT_R_ALIGN] = "memory access not naturally aligned",
    [PITH_EXT_R_CTX_RANGE] = "context access out of bounds",
    [PITH_EXT_R_CTX_SIZE] = "context access other than a whole 8-byte word",
    [PITH_EXT_R_CTX_READONLY] = "write to a read-only context field",
    [PITH_EXT_R_STACK_RANGE] = "stack access out of bounds",
    [PITH_EXT_R_STACK_UNINIT] = "stack bytes read that are not written on every path",
    [PITH_EXT_R_HELPER] = "call of an unknown helper",
    [PITH_EXT_R_HELPER_EVENT] = "helper not allowed for this event",
    [PITH_EXT_R_MAP_ID] = "map argument not a known constant below 4",
    [PITH_EXT_R_MAP_INDEX] = "map index a known constant beyond the map's 512 words",
    [PITH_EXT_R_DIV_ZERO] = "division by the constant zero",
    [PITH_EXT_R_SHIFT] = "shift by a constant of 64 or more",
};

const char *ext_rule_text(int rule)
{
    if (rule < 0 || rule >= PITH_EXT_R_COUNT)
        return "no such rule";
    return rule_texts[rule];
}

uint32_t ext_ctx_size(uint32_t event)
{
    switch (event) {
    case PITH_EXT_EVENT_IPC: return sizeof(struct pith_ext_ipc_ctx);
    case PITH_EXT_EVENT_IRQ: return sizeof(struct pith_ext_irq_ctx);
    case PITH_EXT_EVENT_FAULT: return sizeof(struct pith_ext_fault_ctx);
    default: return 0;
    }
}

/* The writable fields of a context are the last ones: the verifier checks one bound. */
_Static_assert(__builtin_offsetof(struct pith_ext_ipc_ctx, reply_label) == PITH_EXT_IPC_WRITABLE_FROM, "ipc ctx");
_Static_assert(__builtin_offsetof(struct pith_ext_fault_ctx, frame) == PITH_EXT_FAULT_WRITABLE_FROM, "fault ctx");

uint32_t ext_ctx_writable_from(uint32_t event)
{
    switch (event) {
    case PITH_EXT_EVENT_IPC: return PITH_EXT_IPC_WRITABLE_FROM;
    case PITH_EXT_EVENT_FAULT: return PITH_EXT_FAULT_WRITABLE_FROM;
    default: return ext_ctx_size(event);
    }
}

/* ---- the abstract state ---------------------------------------------------- */

static int readable(const struct reg *r)
{
    if (r->kind == K_UNINIT)
        return PITH_EXT_R_UNINIT;
    if (r->kind == K_MIXED)
        return PITH_EXT_R_MIXED;
    return PITH_EXT_OK;
}

static int is_ptr(const struct reg *r) { return r->kind == K_CTX || r->kind == K_STACK; }
static int is_num(const struct reg *r) { return r->kind == K_SCALAR || r->kind == K_CONST; }

static struct reg merge_reg(struct reg a, struct reg b)
{
    if (a.kind == b.kind) {
        if (a.kind == K_CONST && a.val != b.val)
            a.kind = K_SCALAR;
        else if (is_ptr(&a) && a.off != b.off)
            a.kind = K_MIXED;
        return a;
    }
    if (is_num(&a) && is_num(&b))
        return (struct reg){ K_SCALAR, 0, 0 };
    if (a.kind == K_UNINIT || b.kind == K_UNINIT)
        return (struct reg){ K_UNINIT, 0, 0 };
    return (struct reg){ K_MIXED, 0, 0 };
}

static void merge(struct state *into, const struct state *from)
{
    for (int i = 0; i < PITH_EXT_REGS; i++)
        into->r[i] = merge_reg(into->r[i], from->r[i]);
    for (unsigned i = 0; i < sizeof into->stack_set; i++)
        into->stack_set[i] &= from->stack_set[i];
}

/* Stack bytes [off, off + size) below the frame pointer: off is negative. */
static int stack_bytes_set(const struct state *s, int32_t off, unsigned size)
{
    for (unsigned i = 0; i < size; i++) {
        unsigned b = (unsigned)(off + PITH_EXT_STACK) + i;
        if (!(s->stack_set[b / 8] & (1u << (b % 8))))
            return 0;
    }
    return 1;
}

static void stack_bytes_mark(struct state *s, int32_t off, unsigned size)
{
    for (unsigned i = 0; i < size; i++) {
        unsigned b = (unsigned)(off + PITH_EXT_STACK) + i;
        s->stack_set[b / 8] |= (uint8_t)(1u << (b % 8));
    }
}

/* ---- checks of one instruction ---------------------------------------------- */

struct verifier {
    uint32_t event, n;
    struct state cur;
    struct pending pend[PENDING_MAX];
    unsigned npend;
};

static int op_known(uint8_t op)
{
    return (op >= PITH_EXT_ADD && op <= PITH_EXT_NEG) || (op >= PITH_EXT_JA && op <= PITH_EXT_JSET) ||
           (op >= PITH_EXT_LDX8 && op <= PITH_EXT_ST64) || op == PITH_EXT_CALL || op == PITH_EXT_EXIT;
}

/* The fields each kind of instruction leaves unused must be zero (room for later meanings). */
static int fields_ok(const struct pith_ext_insn *in)
{
    uint8_t op = in->op & 0x7f, k = in->op & PITH_EXT_K;
    unsigned dst = in->regs & 15, src = in->regs >> 4;
    if (op == PITH_EXT_NEG)
        return !k && !src && !in->off && !in->imm;
    if (op <= PITH_EXT_MOV)
        return !in->off && (k ? !src : !in->imm);
    if (op == PITH_EXT_JA)
        return !k && !dst && !src && !in->imm;
    if (op <= PITH_EXT_JSET)
        return k ? !src : !in->imm;
    if (op <= PITH_EXT_STX64)
        return !k && !in->imm;
    if (op <= PITH_EXT_ST64)
        return !k && !src;
    return !k && !in->regs && !in->off && (op == PITH_EXT_CALL || !in->imm);
}

static unsigned mem_size(uint8_t op)
{
    return 1u << ((op - PITH_EXT_LDX8) % 4);
}

/* A load or store of `size` bytes at ptr + off; store: 1 (writes), 0 (reads). */
static int check_mem(struct verifier *v, const struct reg *ptr, int16_t ioff, unsigned size, int store)
{
    int err = readable(ptr);
    if (err)
        return err;
    if (!is_ptr(ptr))
        return PITH_EXT_R_NOT_PTR;
    int32_t off = ptr->off + ioff;
    if (off % (int32_t)size)
        return PITH_EXT_R_ALIGN;
    if (ptr->kind == K_CTX) {
        if (size != 8)
            return PITH_EXT_R_CTX_SIZE;
        if (off < 0 || (uint32_t)off + 8 > ext_ctx_size(v->event))
            return PITH_EXT_R_CTX_RANGE;
        if (store && (uint32_t)off < ext_ctx_writable_from(v->event))
            return PITH_EXT_R_CTX_READONLY;
        return PITH_EXT_OK;
    }
    if (off < -PITH_EXT_STACK || off + (int32_t)size > 0)
        return PITH_EXT_R_STACK_RANGE;
    if (store)
        stack_bytes_mark(&v->cur, off, size);
    else if (!stack_bytes_set(&v->cur, off, size))
        return PITH_EXT_R_STACK_UNINIT;
    return PITH_EXT_OK;
}

static int check_alu(struct verifier *v, const struct pith_ext_insn *in)
{
    uint8_t op = in->op & 0x7f;
    struct reg *d = &v->cur.r[in->regs & 15];
    struct reg srcv = { K_CONST, 0, (uint64_t)(int64_t)in->imm };
    const struct reg *s = (in->op & PITH_EXT_K) ? &srcv : &v->cur.r[in->regs >> 4];
    int err;
    if ((in->regs & 15) == PITH_EXT_FP)
        return PITH_EXT_R_WRITE_FP;
    if (op != PITH_EXT_NEG && (err = readable(s)))
        return err;
    if (op == PITH_EXT_MOV) {
        *d = *s;
        return PITH_EXT_OK;
    }
    if ((err = readable(d)))
        return err;
    if (is_ptr(d)) {
        /* Only moving a pointer by a known distance: it stays a pointer of known offset. */
        if ((op != PITH_EXT_ADD && op != PITH_EXT_SUB) || s->kind != K_CONST)
            return PITH_EXT_R_PTR_ARITH;
        int64_t delta = (int64_t)s->val, off = d->off;
        if (delta > PTR_OFF_MAX || delta < -PTR_OFF_MAX)
            return PITH_EXT_R_PTR_ARITH;
        off += op == PITH_EXT_ADD ? delta : -delta;
        if (off > PTR_OFF_MAX || off < -PTR_OFF_MAX)
            return PITH_EXT_R_PTR_ARITH;
        d->off = (int32_t)off;
        return PITH_EXT_OK;
    }
    if (op != PITH_EXT_NEG && is_ptr(s))
        return PITH_EXT_R_PTR_ARITH;
    if ((op == PITH_EXT_DIV || op == PITH_EXT_MOD) && s->kind == K_CONST && s->val == 0)
        return PITH_EXT_R_DIV_ZERO;
    if ((op == PITH_EXT_LSH || op == PITH_EXT_RSH || op == PITH_EXT_ARSH) && s->kind == K_CONST &&
        s->val >= 64)
        return PITH_EXT_R_SHIFT;
    if (d->kind == K_CONST && (op == PITH_EXT_NEG || s->kind == K_CONST))
        d->val = ext_alu(op, d->val, op == PITH_EXT_NEG ? 0 : s->val);
    else
        *d = (struct reg){ K_SCALAR, 0, 0 };
    return PITH_EXT_OK;
}

/* The current state also goes to pc `target`: merged with what already waits there. */
static int add_pending(struct verifier *v, uint32_t target)
{
    for (unsigned i = 0; i < v->npend; i++) {
        if (v->pend[i].target == target) {
            merge(&v->pend[i].st, &v->cur);
            return PITH_EXT_OK;
        }
    }
    if (v->npend == PENDING_MAX)
        return PITH_EXT_R_BRANCHES;
    v->pend[v->npend].target = target;
    v->pend[v->npend].st = v->cur;
    v->npend++;
    return PITH_EXT_OK;
}

/* Returns a rule, and whether execution falls through to the next instruction. */
static int check_jump(struct verifier *v, const struct pith_ext_insn *in, uint32_t pc, int *falls)
{
    uint8_t op = in->op & 0x7f;
    int err;
    if (in->off < 0)
        return PITH_EXT_R_BACK_EDGE;
    uint32_t target = pc + 1 + (uint32_t)in->off;
    if (target >= v->n)
        return PITH_EXT_R_JUMP_RANGE;
    if (op != PITH_EXT_JA) {
        const struct reg *d = &v->cur.r[in->regs & 15];
        if ((err = readable(d)))
            return err;
        if (!(in->op & PITH_EXT_K)) {
            const struct reg *s = &v->cur.r[in->regs >> 4];
            if ((err = readable(s)))
                return err;
            if (is_ptr(s))
                return PITH_EXT_R_PTR_COMPARE;
        }
        /* Comparing a kernel address with numbers would let its bits out one by one. */
        if (is_ptr(d))
            return PITH_EXT_R_PTR_COMPARE;
    }
    *falls = op != PITH_EXT_JA;
    return add_pending(v, target);
}

static int check_call(struct verifier *v, const struct pith_ext_insn *in)
{
    if (in->imm <= 0 || in->imm >= PITH_EXT_HELPER_COUNT)
        return PITH_EXT_R_HELPER;
    const struct helper *h = &helpers[in->imm];
    if (!(h->events & (1u << v->event)))
        return PITH_EXT_R_HELPER_EVENT;
    for (unsigned i = 1; i <= h->args; i++) {
        const struct reg *a = &v->cur.r[i];
        int err = readable(a);
        if (err)
            return err;
        if (is_ptr(a))
            return PITH_EXT_R_PTR_HELPER;
    }
    if (h->map) {
        if (v->cur.r[1].kind != K_CONST || v->cur.r[1].val >= PITH_EXT_MAPS)
            return PITH_EXT_R_MAP_ID;
        if (v->cur.r[2].kind == K_CONST && v->cur.r[2].val >= PITH_EXT_MAP_WORDS)
            return PITH_EXT_R_MAP_INDEX;
    }
    /* The helper's arguments are spent: the registers are not readable afterwards. */
    for (unsigned i = 1; i <= 5; i++)
        v->cur.r[i] = (struct reg){ K_UNINIT, 0, 0 };
    v->cur.r[0] = (struct reg){ K_SCALAR, 0, 0 };
    return PITH_EXT_OK;
}

/* Checks one reachable instruction against the current state; *falls: control goes on to pc + 1. */
static int check_insn(struct verifier *v, const struct pith_ext_insn *in, uint32_t pc, int *falls)
{
    uint8_t op = in->op & 0x7f;
    unsigned dst = in->regs & 15, src = in->regs >> 4;
    int err;
    *falls = 1;
    if (!op_known(op))
        return PITH_EXT_R_OPCODE;
    if (dst >= PITH_EXT_REGS || src >= PITH_EXT_REGS)
        return PITH_EXT_R_REGISTER;
    if (!fields_ok(in))
        return PITH_EXT_R_FIELD;
    if (op <= PITH_EXT_NEG)
        return check_alu(v, in);
    if (op <= PITH_EXT_JSET)
        return check_jump(v, in, pc, falls);
    if (op <= PITH_EXT_LDX64) {
        if (dst == PITH_EXT_FP)
            return PITH_EXT_R_WRITE_FP;
        if ((err = check_mem(v, &v->cur.r[src], in->off, mem_size(op), 0)))
            return err;
        v->cur.r[dst] = (struct reg){ K_SCALAR, 0, 0 };
        return PITH_EXT_OK;
    }
    if (op <= PITH_EXT_STX64) {
        const struct reg *s = &v->cur.r[src];
        if ((err = readable(s)))
            return err;
        if (is_ptr(s))
            return PITH_EXT_R_PTR_STORE;
        return check_mem(v, &v->cur.r[dst], in->off, mem_size(op), 1);
    }
    if (op <= PITH_EXT_ST64)
        return check_mem(v, &v->cur.r[dst], in->off, mem_size(op), 1);
    if (op == PITH_EXT_CALL)
        return check_call(v, in);
    /* EXIT: the verdict must be a number. */
    *falls = 0;
    if ((err = readable(&v->cur.r[0])))
        return err;
    return is_ptr(&v->cur.r[0]) ? PITH_EXT_R_PTR_RETURN : PITH_EXT_OK;
}

struct ext_verdict ext_verify(const struct pith_ext_insn *prog, uint32_t n, uint32_t event)
{
    struct verifier v;
    if (n == 0 || n > PITH_EXT_MAX_INSNS)
        return (struct ext_verdict){ PITH_EXT_R_LENGTH, 0 };
    if (!ext_ctx_size(event))
        return (struct ext_verdict){ PITH_EXT_R_EVENT, 0 };
    v.event = event;
    v.n = n;
    v.npend = 0;
    for (int i = 0; i < PITH_EXT_REGS; i++)
        v.cur.r[i] = (struct reg){ K_UNINIT, 0, 0 };
    for (unsigned i = 0; i < sizeof v.cur.stack_set; i++)
        v.cur.stack_set[i] = 0;
    v.cur.r[1] = (struct reg){ K_CTX, 0, 0 };
    v.cur.r[PITH_EXT_FP] = (struct reg){ K_STACK, 0, 0 };
    int live = 1;                       /* the current state reaches this pc by falling through */
    for (uint32_t pc = 0; pc < n; pc++) {
        for (unsigned i = 0; i < v.npend; i++) {
            if (v.pend[i].target != pc)
                continue;
            if (live)
                merge(&v.cur, &v.pend[i].st);
            else
                v.cur = v.pend[i].st;
            live = 1;
            v.pend[i] = v.pend[--v.npend];
            break;
        }
        if (!live)
            return (struct ext_verdict){ PITH_EXT_R_UNREACHABLE, pc };
        int err = check_insn(&v, &prog[pc], pc, &live);
        if (err)
            return (struct ext_verdict){ err, pc };
    }
    if (live)
        return (struct ext_verdict){ PITH_EXT_R_FALLS_OFF, n - 1 };
    return (struct ext_verdict){ PITH_EXT_OK, 0 };
}
