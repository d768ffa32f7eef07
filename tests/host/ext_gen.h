/*
 * Random extension programs, shared by the host fuzzer
 * (tests/host/test_ext_fuzz.c) and the in-kernel one (tests/user/test_ext.c):
 * mostly well-formed instructions aimed at plausible places, and mutants
 * of programs the verifier accepted.  The generator's state is ext_gen_seed.
 */
#ifndef PITH_TESTS_EXT_GEN_H
#define PITH_TESTS_EXT_GEN_H

#include <stdint.h>
#include <string.h>
#include <pith/extension.h>

#define EXT_GEN_I PITH_EXT_INSN
#define EXT_GEN_K PITH_EXT_K
#define EXT_GEN_MAXLEN 40

static uint64_t ext_gen_seed = 0x5EED5EEDull;

static uint64_t ext_rnd(void)
{
    ext_gen_seed ^= ext_gen_seed << 13;
    ext_gen_seed ^= ext_gen_seed >> 7;
    ext_gen_seed ^= ext_gen_seed << 17;
    return ext_gen_seed;
}

static const uint8_t ext_valid_ops[] = {
    PITH_EXT_ADD, PITH_EXT_SUB, PITH_EXT_MUL, PITH_EXT_DIV, PITH_EXT_MOD, PITH_EXT_AND, PITH_EXT_OR,
    PITH_EXT_XOR, PITH_EXT_LSH, PITH_EXT_RSH, PITH_EXT_ARSH, PITH_EXT_MOV, PITH_EXT_MOV, PITH_EXT_NEG,
    PITH_EXT_JA, PITH_EXT_JEQ, PITH_EXT_JNE, PITH_EXT_JGT, PITH_EXT_JGE, PITH_EXT_JLT, PITH_EXT_JLE,
    PITH_EXT_JSGT, PITH_EXT_JSGE, PITH_EXT_JSLT, PITH_EXT_JSLE, PITH_EXT_JSET,
    PITH_EXT_LDX8, PITH_EXT_LDX16, PITH_EXT_LDX32, PITH_EXT_LDX64, PITH_EXT_LDX64, PITH_EXT_LDX64,
    PITH_EXT_STX8, PITH_EXT_STX16, PITH_EXT_STX32, PITH_EXT_STX64, PITH_EXT_STX64,
    PITH_EXT_ST8, PITH_EXT_ST16, PITH_EXT_ST32, PITH_EXT_ST64, PITH_EXT_ST64,
    PITH_EXT_CALL, PITH_EXT_CALL, PITH_EXT_EXIT,
};

static unsigned ext_small_reg(void)
{
    return ext_rnd() % 20 ? (unsigned)(ext_rnd() % 11) : (unsigned)(ext_rnd() % 16);
}

/* An instruction that is often well-formed and aimed at plausible places. */
static struct pith_ext_insn ext_random_insn(uint32_t pc, uint32_t len)
{
    if (ext_rnd() % 50 == 0) {
        uint64_t x = ext_rnd();
        struct pith_ext_insn in;
        memcpy(&in, &x, sizeof in);
        return in;
    }
    uint8_t op = ext_valid_ops[ext_rnd() % sizeof ext_valid_ops];
    unsigned dst = ext_small_reg(), src = ext_small_reg();
    int16_t off = 0;
    int32_t imm = 0;
    int k = ext_rnd() % 2;
    if (op <= PITH_EXT_NEG || (op >= PITH_EXT_JEQ && op <= PITH_EXT_JSET)) {
        imm = ext_rnd() % 4 ? (int32_t)(ext_rnd() % 16) - 2 : (int32_t)ext_rnd();
        if (op == PITH_EXT_NEG)
            k = 0, src = 0, imm = 0;
        if (k)
            src = 0;
        else
            imm = 0;
    }
    if (op >= PITH_EXT_JA && op <= PITH_EXT_JSET) {
        uint32_t room = len > pc + 1 ? len - pc - 1 : 1;
        off = ext_rnd() % 10 ? (int16_t)(ext_rnd() % room) : (int16_t)ext_rnd();
        if (op == PITH_EXT_JA)
            dst = src = 0, k = 0;
    } else if (op >= PITH_EXT_LDX8 && op <= PITH_EXT_ST64) {
        k = 0;
        switch (ext_rnd() % 3) {
        case 0: off = (int16_t)(ext_rnd() % 16 * 8); break;                   /* a context word */
        case 1: off = (int16_t)(-(int)(ext_rnd() % 34) * 8 + (int)(ext_rnd() % 2) * 4); break;   /* the stack */
        default: off = (int16_t)((int)(ext_rnd() % 300) - 280); break;
        }
        if (op >= PITH_EXT_ST8)
            src = 0, imm = (int32_t)(ext_rnd() % 8);
    } else if (op == PITH_EXT_CALL) {
        dst = src = 0, k = 0, imm = (int32_t)(ext_rnd() % (PITH_EXT_HELPER_COUNT + 1));
    } else if (op == PITH_EXT_EXIT) {
        dst = src = 0, k = 0;
    }
    return EXT_GEN_I(op | (k ? EXT_GEN_K : 0), dst, src, off, imm);
}

static uint32_t ext_random_program(struct pith_ext_insn *p)
{
    uint32_t len = 2 + (uint32_t)(ext_rnd() % (EXT_GEN_MAXLEN - 2));
    uint32_t pc = 0;
    if (ext_rnd() % 2)
        p[pc++] = EXT_GEN_I(PITH_EXT_MOV | EXT_GEN_K, 0, 0, 0, (int32_t)(ext_rnd() % 3));
    while (pc < len - 1) {
        p[pc] = ext_random_insn(pc, len);
        /* A helper call mostly gets its arguments set just before it: a map, an index, a value. */
        if (p[pc].op == PITH_EXT_CALL && pc + 4 < len && ext_rnd() % 4) {
            struct pith_ext_insn call = p[pc];
            p[pc++] = EXT_GEN_I(PITH_EXT_MOV | EXT_GEN_K, 1, 0, 0, (int32_t)(ext_rnd() % 5));
            p[pc++] = EXT_GEN_I(PITH_EXT_MOV | EXT_GEN_K, 2, 0, 0, (int32_t)(ext_rnd() % 4 ? ext_rnd() % 8 : 500 + ext_rnd() % 20));
            p[pc++] = EXT_GEN_I(PITH_EXT_MOV | EXT_GEN_K, 3, 0, 0, (int32_t)(ext_rnd() % 8));
            p[pc] = call;
        }
        pc++;
    }
    p[pc++] = EXT_GEN_I(PITH_EXT_EXIT, 0, 0, 0, 0);
    return pc;
}

/* One to three changes to a field, or an instruction inserted or removed. */
static uint32_t ext_mutate(struct pith_ext_insn *p, uint32_t n)
{
    int changes = 1 + (int)(ext_rnd() % 3);
    for (int c = 0; c < changes; c++) {
        uint32_t at = (uint32_t)(ext_rnd() % n);
        switch (ext_rnd() % 7) {
        case 0: p[at].op = (uint8_t)ext_rnd(); break;
        case 1: p[at].op ^= EXT_GEN_K; break;
        case 2: p[at].regs = (uint8_t)(ext_small_reg() | ext_small_reg() << 4); break;
        case 3: p[at].off = (int16_t)(p[at].off + (int)(ext_rnd() % 17) - 8); break;
        case 4: p[at].imm = ext_rnd() % 2 ? p[at].imm + (int32_t)(ext_rnd() % 5) - 2 : (int32_t)ext_rnd(); break;
        case 5:
            if (n < EXT_GEN_MAXLEN) {
                memmove(&p[at + 1], &p[at], (n - at) * sizeof *p);
                p[at] = ext_random_insn(at, n + 1);
                n++;
            }
            break;
        default:
            if (n > 1) {
                memmove(&p[at], &p[at + 1], (n - at - 1) * sizeof *p);
                n--;
            }
            break;
        }
    }
    return n;
}

#endif
