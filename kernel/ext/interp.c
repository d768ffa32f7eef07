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

/* Both forms of a two-operand instruction: register source and immediate. */
#define ALU(OP, EXPR)                                                       \
    case OP: { uint64_t a = r[dst], b = r[src]; r[dst] = (EXPR); break; }   \
    case OP | PITH_EXT_K: { uint64_t a = r[dst], b = imm; r[dst] = (EXPR); break; }
#define JMP(OP, COND)                                                       \
    case OP: { uint64_t a = r[dst], b = r[src]; if (COND) pc += (uint32_t)in->off; break; } \
    case OP | PITH_EXT_K: { uint64_t a = r[dst], b = imm; if (COND) pc += (uint32_t)in->off; break; }

/*
 * One switch on the whole opcode byte: a jump table, a few instructions
 * per bytecode.  Pointers are real kernel addresses in the registers;
 * the verifier proved where they can point.
 */
uint64_t ext_run(const struct pith_ext_insn *prog, uint32_t n, void *ctx, const struct ext_env *env,
                 int *aborted)
{
    uint64_t stack[PITH_EXT_STACK / 8];  /* never read before written: the verifier proved it */
    uint64_t r[PITH_EXT_REGS];          /* never read before set, but for r1 and r10 */
    r[1] = (uint64_t)(uintptr_t)ctx;
    r[PITH_EXT_FP] = (uint64_t)(uintptr_t)(stack + PITH_EXT_STACK / 8);
    *aborted = 0;
    for (uint32_t pc = 0; pc < n; pc++) {
        const struct pith_ext_insn *in = &prog[pc];
        unsigned dst = in->regs & 15, src = in->regs >> 4;
        uint64_t imm = (uint64_t)(int64_t)in->imm;
        switch (in->op) {
        ALU(PITH_EXT_ADD, a + b)
        ALU(PITH_EXT_SUB, a - b)
        ALU(PITH_EXT_MUL, a * b)
        ALU(PITH_EXT_DIV, b ? a / b : 0)
        ALU(PITH_EXT_MOD, b ? a % b : a)
        ALU(PITH_EXT_AND, a & b)
        ALU(PITH_EXT_OR, a | b)
        ALU(PITH_EXT_XOR, a ^ b)
        ALU(PITH_EXT_LSH, a << (b & 63))
        ALU(PITH_EXT_RSH, a >> (b & 63))
        ALU(PITH_EXT_ARSH, ext_alu(PITH_EXT_ARSH, a, b))
        ALU(PITH_EXT_MOV, ((void)a, b))
        case PITH_EXT_NEG:
            r[dst] = 0 - r[dst];
            break;
        case PITH_EXT_JA:
            pc += (uint32_t)in->off;
            break;
        JMP(PITH_EXT_JEQ, a == b)
        JMP(PITH_EXT_JNE, a != b)
        JMP(PITH_EXT_JGT, a > b)
        JMP(PITH_EXT_JGE, a >= b)
        JMP(PITH_EXT_JLT, a < b)
        JMP(PITH_EXT_JLE, a <= b)
        JMP(PITH_EXT_JSGT, (int64_t)a > (int64_t)b)
        JMP(PITH_EXT_JSGE, (int64_t)a >= (int64_t)b)
        JMP(PITH_EXT_JSLT, (int64_t)a < (int64_t)b)
        JMP(PITH_EXT_JSLE, (int64_t)a <= (int64_t)b)
        JMP(PITH_EXT_JSET, (a & b) != 0)
        /* Memory: the address is a register plus the offset (both proven in bounds). */
#define ADDR(reg) (r[reg] + (uint64_t)(int64_t)in->off)
        case PITH_EXT_LDX8: r[dst] = *(const u8a *)(uintptr_t)ADDR(src); break;
        case PITH_EXT_LDX16: r[dst] = *(const u16a *)(uintptr_t)ADDR(src); break;
        case PITH_EXT_LDX32: r[dst] = *(const u32a *)(uintptr_t)ADDR(src); break;
        case PITH_EXT_LDX64: r[dst] = *(const u64a *)(uintptr_t)ADDR(src); break;
        case PITH_EXT_STX8: *(u8a *)(uintptr_t)ADDR(dst) = (uint8_t)r[src]; break;
        case PITH_EXT_STX16: *(u16a *)(uintptr_t)ADDR(dst) = (uint16_t)r[src]; break;
        case PITH_EXT_STX32: *(u32a *)(uintptr_t)ADDR(dst) = (uint32_t)r[src]; break;
        case PITH_EXT_STX64: *(u64a *)(uintptr_t)ADDR(dst) = r[src]; break;
        case PITH_EXT_ST8: *(u8a *)(uintptr_t)ADDR(dst) = (uint8_t)imm; break;
        case PITH_EXT_ST16: *(u16a *)(uintptr_t)ADDR(dst) = (uint16_t)imm; break;
        case PITH_EXT_ST32: *(u32a *)(uintptr_t)ADDR(dst) = (uint32_t)imm; break;
        case PITH_EXT_ST64: *(u64a *)(uintptr_t)ADDR(dst) = imm; break;
#undef ADDR
        case PITH_EXT_CALL:
            r[0] = call(in->imm, r, env, aborted);
            if (*aborted)
                return 0;
            break;
        default:                        /* EXIT: the verifier admits no other opcode */
            return r[0];
        }
    }
    return 0;                           /* not reached for a verified program */
}
