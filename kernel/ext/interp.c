/*
 * The extension interpreter.  It runs only programs the verifier
 * accepted, so it does not check what was proven (register kinds, context
 * and stack bounds, helper numbers); it checks what can only be known
 * while running: a map index computed at run time.  Jumps go forward, so
 * a run takes at most one step per instruction.
 */
#include "ext/ext.h"

typedef uint8_t __attribute__((may_alias)) u8a;
typedef uint16_t __attribute__((may_alias)) u16a;
typedef uint32_t __attribute__((may_alias)) u32a;
typedef uint64_t __attribute__((may_alias)) u64a;

uint64_t ext_alu(uint8_t op, uint64_t a, uint64_t b)
{
    switch (op) {
    case PITH_EXT_ADD: return a + b;
    case PITH_EXT_SUB: return a - b;
    case PITH_EXT_MUL: return a * b;
    case PITH_EXT_DIV: return b ? a / b : 0;
    case PITH_EXT_MOD: return b ? a % b : a;
    case PITH_EXT_AND: return a & b;
    case PITH_EXT_OR: return a | b;
    case PITH_EXT_XOR: return a ^ b;
    case PITH_EXT_LSH: return a << (b & 63);
    case PITH_EXT_RSH: return a >> (b & 63);
    case PITH_EXT_ARSH: /* an arithmetic shift without relying on signed >> */
        return (b & 63) ? (a >> (b & 63)) | ((a >> 63) ? ~(~0ull >> (b & 63)) : 0) : a;
    case PITH_EXT_MOV: return b;
    case PITH_EXT_NEG: return 0 - a;
    default: return 0;
    }
}

static int taken(uint8_t op, uint64_t a, uint64_t b)
{
    switch (op) {
    case PITH_EXT_JEQ: return a == b;
    case PITH_EXT_JNE: return a != b;
    case PITH_EXT_JGT: return a > b;
    case PITH_EXT_JGE: return a >= b;
    case PITH_EXT_JLT: return a < b;
    case PITH_EXT_JLE: return a <= b;
    case PITH_EXT_JSGT: return (int64_t)a > (int64_t)b;
    case PITH_EXT_JSGE: return (int64_t)a >= (int64_t)b;
    case PITH_EXT_JSLT: return (int64_t)a < (int64_t)b;
    case PITH_EXT_JSLE: return (int64_t)a <= (int64_t)b;
    case PITH_EXT_JSET: return (a & b) != 0;
    default: return 1;                  /* JA */
    }
}

static uint64_t load(uint64_t addr, uint8_t op)
{
    switch ((op - PITH_EXT_LDX8) % 4) {
    case 0: return *(const u8a *)(uintptr_t)addr;
    case 1: return *(const u16a *)(uintptr_t)addr;
    case 2: return *(const u32a *)(uintptr_t)addr;
    default: return *(const u64a *)(uintptr_t)addr;
    }
}

static void store(uint64_t addr, uint8_t op, uint64_t v)
{
    switch ((op - PITH_EXT_LDX8) % 4) {
    case 0: *(u8a *)(uintptr_t)addr = (uint8_t)v; break;
    case 1: *(u16a *)(uintptr_t)addr = (uint16_t)v; break;
    case 2: *(u32a *)(uintptr_t)addr = (uint32_t)v; break;
    default: *(u64a *)(uintptr_t)addr = v; break;
    }
}

/* A helper's work; *aborted when a run-time check fails. */
static uint64_t call(int32_t helper, const uint64_t *r, const struct ext_env *env, int *aborted)
{
    if (helper == PITH_EXT_MSG_WORD) {
        uint64_t i = r[1];
        if (i >= env->msg_len)
            return 0;
        if (i < 4)
            return env->msg_regs[i];
        return env->msg ? env->msg[i] : 0;
    }
    /* The map helpers: the map number was proven a constant below PITH_EXT_MAPS. */
    uint64_t *map = env->maps[r[1] % PITH_EXT_MAPS], idx = r[2];
    if (idx >= PITH_EXT_MAP_WORDS) {
        *aborted = 1;
        return 0;
    }
    if (!map)
        return 0;
    switch (helper) {
    case PITH_EXT_MAP_READ:
        return map[idx];
    case PITH_EXT_MAP_WRITE:
        map[idx] = r[3];
        return 0;
    default:                            /* PITH_EXT_MAP_ADD */
        return map[idx] += r[3];
    }
}

uint64_t ext_run(const struct pith_ext_insn *prog, uint32_t n, void *ctx, const struct ext_env *env,
                 int *aborted)
{
    uint64_t stack[PITH_EXT_STACK / 8];  /* never read before written: the verifier proved it */
    uint64_t r[PITH_EXT_REGS] = { 0 };
    r[1] = (uint64_t)(uintptr_t)ctx;
    r[PITH_EXT_FP] = (uint64_t)(uintptr_t)(stack + PITH_EXT_STACK / 8);
    *aborted = 0;
    for (uint32_t pc = 0; pc < n; pc++) {
        const struct pith_ext_insn *in = &prog[pc];
        uint8_t op = in->op & 0x7f;
        unsigned dst = in->regs & 15, src = in->regs >> 4;
        uint64_t s = (in->op & PITH_EXT_K) ? (uint64_t)(int64_t)in->imm : r[src];
        if (op <= PITH_EXT_NEG) {
            r[dst] = ext_alu(op, r[dst], s);
        } else if (op <= PITH_EXT_JSET) {
            if (taken(op, r[dst], s))
                pc += (uint32_t)in->off;
        } else if (op <= PITH_EXT_LDX64) {
            r[dst] = load(r[src] + (uint64_t)(int64_t)in->off, op);
        } else if (op <= PITH_EXT_STX64) {
            store(r[dst] + (uint64_t)(int64_t)in->off, op, r[src]);
        } else if (op <= PITH_EXT_ST64) {
            store(r[dst] + (uint64_t)(int64_t)in->off, op, (uint64_t)(int64_t)in->imm);
        } else if (op == PITH_EXT_CALL) {
            r[0] = call(in->imm, r, env, aborted);
            if (*aborted)
                return 0;
        } else {
            return r[0];                /* EXIT */
        }
    }
    return 0;                           /* not reached for a verified program */
}
