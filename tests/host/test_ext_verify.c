// uses: kernel/ext/verify.c kernel/ext/interp.c
/*
 * kernel/ext/verify.c and interp.c: every verifier rule has a program it
 * rejects, at the instruction expected, with its own text; accepted
 * programs compute what the machine defines; programs that try to reach
 * outside their context are refused.
 */
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "ext/ext.h"

#define I PITH_EXT_INSN
#define K PITH_EXT_K
#define MOVK(d, imm) I(PITH_EXT_MOV | K, d, 0, 0, imm)
#define MOV(d, s) I(PITH_EXT_MOV, d, s, 0, 0)
#define EXIT I(PITH_EXT_EXIT, 0, 0, 0, 0)
#define CALL(h) I(PITH_EXT_CALL, 0, 0, 0, h)
#define LD64(d, s, off) I(PITH_EXT_LDX64, d, s, off, 0)
#define ST64K(d, off, imm) I(PITH_EXT_ST64, d, 0, off, imm)
#define STX64(d, s, off) I(PITH_EXT_STX64, d, s, off, 0)
#define N(p) ((uint32_t)(sizeof p / sizeof p[0]))

static const int IPC = PITH_EXT_EVENT_IPC, IRQ = PITH_EXT_EVENT_IRQ;

/* Whether prog is refused for `rule` at `insn`. */
static int refused(const struct pith_ext_insn *p, uint32_t n, int event, int rule, uint32_t insn)
{
    struct ext_verdict v = ext_verify(p, n, event);
    if (v.rule != rule || v.insn != insn)
        printf("  got rule %d (%s) at %u, expected %d (%s) at %u\n", v.rule, ext_rule_text(v.rule),
               v.insn, rule, ext_rule_text(rule), insn);
    return v.rule == rule && v.insn == insn;
}

static int accepted(const struct pith_ext_insn *p, uint32_t n, int event)
{
    return refused(p, n, event, PITH_EXT_OK, 0);
}

TEST(every_rule_has_its_own_text)
{
    for (int i = 0; i < PITH_EXT_R_COUNT; i++) {
        CHECK(ext_rule_text(i) != NULL && strlen(ext_rule_text(i)) > 5);
        for (int j = 0; j < i; j++)
            CHECK(strcmp(ext_rule_text(i), ext_rule_text(j)) != 0);
    }
    CHECK(strcmp(ext_rule_text(PITH_EXT_R_COUNT), "no such rule") == 0);
    CHECK(strcmp(ext_rule_text(-1), "no such rule") == 0);
}

TEST(rule_length)
{
    static struct pith_ext_insn big[PITH_EXT_MAX_INSNS + 1];
    struct pith_ext_insn p[] = { MOVK(0, 0), EXIT };
    CHECK(refused(p, 0, IPC, PITH_EXT_R_LENGTH, 0));
    for (uint32_t i = 0; i < N(big); i++)
        big[i] = MOVK(0, 0);
    big[PITH_EXT_MAX_INSNS - 1] = EXIT;
    CHECK(accepted(big, PITH_EXT_MAX_INSNS, IPC));
    big[PITH_EXT_MAX_INSNS] = EXIT;
    CHECK(refused(big, PITH_EXT_MAX_INSNS + 1, IPC, PITH_EXT_R_LENGTH, 0));
}

TEST(rule_event)
{
    struct pith_ext_insn p[] = { MOVK(0, 0), EXIT };
    CHECK(refused(p, N(p), 0, PITH_EXT_R_EVENT, 0));
    CHECK(refused(p, N(p), PITH_EXT_EVENT_COUNT, PITH_EXT_R_EVENT, 0));
    CHECK(accepted(p, N(p), IRQ));
}

TEST(rule_opcode)
{
    struct pith_ext_insn p[] = { MOVK(0, 0), I(14, 0, 0, 0, 0), EXIT };
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_OPCODE, 1));
    p[1] = I(0, 0, 0, 0, 0);
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_OPCODE, 1));
    p[1] = I(PITH_EXT_EXIT + 1, 0, 0, 0, 0);
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_OPCODE, 1));
}

TEST(rule_register)
{
    struct pith_ext_insn p[] = { MOVK(11, 0), EXIT };
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_REGISTER, 0));
    p[0] = MOV(0, 15);
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_REGISTER, 0));
}

TEST(rule_field)
{
    struct pith_ext_insn p[] = { I(PITH_EXT_MOV | K, 0, 0, 1, 0), EXIT };
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_FIELD, 0));
    p[0] = I(PITH_EXT_MOV | K, 0, 3, 0, 0);        /* a source register with an immediate */
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_FIELD, 0));
    p[0] = MOVK(0, 0);
    p[1] = I(PITH_EXT_EXIT, 0, 0, 0, 7);
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_FIELD, 1));
    p[1] = I(PITH_EXT_ST64 | K, 10, 0, -8, 0);
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_FIELD, 1));
}

TEST(rule_write_fp)
{
    struct pith_ext_insn p[] = { MOVK(10, 0), MOVK(0, 0), EXIT };
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_WRITE_FP, 0));
    p[0] = I(PITH_EXT_ADD | K, 10, 0, 0, -8);
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_WRITE_FP, 0));
    p[0] = LD64(10, 1, 0);
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_WRITE_FP, 0));
}

TEST(rule_back_edge)
{
    struct pith_ext_insn p[] = { MOVK(0, 0), I(PITH_EXT_JA, 0, 0, -1, 0), EXIT };
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_BACK_EDGE, 1));
    p[1] = I(PITH_EXT_JEQ | K, 0, 0, -2, 0);        /* a loop back to the start */
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_BACK_EDGE, 1));
}

TEST(rule_jump_range)
{
    struct pith_ext_insn p[] = { MOVK(0, 0), I(PITH_EXT_JA, 0, 0, 1, 0), EXIT };
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_JUMP_RANGE, 1));
    p[1] = I(PITH_EXT_JNE | K, 0, 0, 32767, 0);
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_JUMP_RANGE, 1));
}

TEST(rule_falls_off)
{
    struct pith_ext_insn p[] = { MOVK(0, 0) };
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_FALLS_OFF, 0));
    struct pith_ext_insn q[] = { MOVK(0, 0), I(PITH_EXT_JEQ | K, 0, 0, 1, 0), EXIT, MOVK(0, 1) };
    CHECK(refused(q, N(q), IPC, PITH_EXT_R_FALLS_OFF, 3));
}

TEST(rule_unreachable)
{
    struct pith_ext_insn p[] = { MOVK(0, 0), EXIT, MOVK(0, 1), EXIT };
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_UNREACHABLE, 2));
    struct pith_ext_insn q[] = { MOVK(0, 0), I(PITH_EXT_JA, 0, 0, 1, 0), MOVK(0, 1), EXIT };
    CHECK(refused(q, N(q), IPC, PITH_EXT_R_UNREACHABLE, 2));
}

TEST(rule_branches)
{
    /* Nine conditional jumps, each to its own later target, all pending at once. */
    struct pith_ext_insn p[30];
    p[0] = LD64(0, 1, 0);
    for (int i = 1; i <= 9; i++)
        p[i] = I(PITH_EXT_JEQ | K, 0, 0, 9 + i, i);        /* to 10 + 2i: 12, 14, ... 28 */
    for (int i = 10; i < 30; i++)
        p[i] = (i % 2) ? EXIT : MOVK(0, i);
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_BRANCHES, 9));
    p[9] = I(PITH_EXT_JEQ | K, 0, 0, 2, 9);                 /* to 12 as well: eight pending is allowed */
    CHECK(accepted(p, 28, IPC));
}

TEST(rule_uninit)
{
    struct pith_ext_insn p[] = { MOV(0, 2), EXIT };
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_UNINIT, 0));
    struct pith_ext_insn q[] = { EXIT };
    CHECK(refused(q, N(q), IPC, PITH_EXT_R_UNINIT, 0));            /* no verdict */
    /* A helper's argument registers are spent after the call. */
    struct pith_ext_insn r[] = { MOVK(1, 0), CALL(PITH_EXT_MSG_WORD), MOV(0, 1), EXIT };
    CHECK(refused(r, N(r), IPC, PITH_EXT_R_UNINIT, 2));
    /* Set on one path only. */
    struct pith_ext_insn s[] = { LD64(2, 1, 0), I(PITH_EXT_JEQ | K, 2, 0, 1, 0), MOVK(3, 1),
                                 MOV(0, 3), EXIT };
    CHECK(refused(s, N(s), IPC, PITH_EXT_R_UNINIT, 3));
}

TEST(rule_mixed)
{
    struct pith_ext_insn p[] = { LD64(3, 1, 0), MOV(2, 1), I(PITH_EXT_JEQ | K, 3, 0, 1, 0), MOVK(2, 5),
                                 MOV(0, 2), EXIT };
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_MIXED, 4));
    /* A pointer to the context at two different offsets is no pointer either. */
    p[3] = I(PITH_EXT_ADD | K, 2, 0, 0, 8);
    p[4] = LD64(0, 2, 0);
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_MIXED, 4));
}

TEST(rule_ptr_arith)
{
    struct pith_ext_insn p[] = { MOV(2, 1), I(PITH_EXT_MUL | K, 2, 0, 0, 2), MOVK(0, 0), EXIT };
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_PTR_ARITH, 1));
    p[1] = I(PITH_EXT_NEG, 2, 0, 0, 0);
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_PTR_ARITH, 1));
    p[1] = I(PITH_EXT_XOR, 2, 1, 0, 0);
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_PTR_ARITH, 1));
    /* A pointer moved by an unknown amount. */
    struct pith_ext_insn q[] = { LD64(3, 1, 0), I(PITH_EXT_ADD, 1, 3, 0, 0), MOVK(0, 0), EXIT };
    CHECK(refused(q, N(q), IPC, PITH_EXT_R_PTR_ARITH, 1));
    /* A number plus a pointer (the pointer's bits into a number). */
    struct pith_ext_insn r[] = { MOVK(0, 0), I(PITH_EXT_ADD, 0, 1, 0, 0), EXIT };
    CHECK(refused(r, N(r), IPC, PITH_EXT_R_PTR_ARITH, 1));
    /* Wandering far away. */
    struct pith_ext_insn s[] = { I(PITH_EXT_ADD | K, 1, 0, 0, 0x7fffffff), MOVK(0, 0), EXIT };
    CHECK(refused(s, N(s), IPC, PITH_EXT_R_PTR_ARITH, 0));
}

TEST(rule_ptr_compare)
{
    struct pith_ext_insn p[] = { MOVK(0, 0), I(PITH_EXT_JGT | K, 1, 0, 0, 0x1000), EXIT };
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_PTR_COMPARE, 1));
    p[1] = I(PITH_EXT_JEQ, 0, 10, 0, 0);
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_PTR_COMPARE, 1));
}

TEST(rule_ptr_store)
{
    struct pith_ext_insn p[] = { STX64(10, 1, -8), MOVK(0, 0), EXIT };
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_PTR_STORE, 0));
    p[0] = STX64(1, 10, 64);            /* the stack's address into the answer */
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_PTR_STORE, 0));
}

TEST(rule_ptr_helper)
{
    struct pith_ext_insn p[] = { CALL(PITH_EXT_MSG_WORD), EXIT };
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_PTR_HELPER, 0));
    struct pith_ext_insn q[] = { MOVK(1, 0), MOVK(2, 0), MOV(3, 10), CALL(PITH_EXT_MAP_WRITE), EXIT };
    CHECK(refused(q, N(q), IPC, PITH_EXT_R_PTR_HELPER, 3));
}

TEST(rule_ptr_return)
{
    struct pith_ext_insn p[] = { MOV(0, 1), EXIT };
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_PTR_RETURN, 1));
    p[0] = MOV(0, 10);
    CHECK(refused(p, N(p), IRQ, PITH_EXT_R_PTR_RETURN, 1));
}

TEST(rule_not_ptr)
{
    struct pith_ext_insn p[] = { MOVK(2, 4096), LD64(0, 2, 0), EXIT };
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_NOT_PTR, 1));
    struct pith_ext_insn q[] = { LD64(2, 1, 0), ST64K(2, 0, 1), MOVK(0, 0), EXIT };
    CHECK(refused(q, N(q), IPC, PITH_EXT_R_NOT_PTR, 1));
}

TEST(rule_align)
{
    struct pith_ext_insn p[] = { LD64(0, 1, 4), EXIT };
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_ALIGN, 0));
    struct pith_ext_insn q[] = { I(PITH_EXT_ST32, 10, 0, -6, 1), MOVK(0, 0), EXIT };
    CHECK(refused(q, N(q), IPC, PITH_EXT_R_ALIGN, 0));
}

TEST(rule_ctx_range)
{
    struct pith_ext_insn p[] = { LD64(0, 1, (int16_t)sizeof(struct pith_ext_ipc_ctx)), EXIT };
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_CTX_RANGE, 0));
    p[0] = LD64(0, 1, -8);
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_CTX_RANGE, 0));
    p[0] = LD64(0, 1, 16);              /* in an IPC context, past an interrupt's */
    CHECK(accepted(p, N(p), IPC));
    CHECK(refused(p, N(p), IRQ, PITH_EXT_R_CTX_RANGE, 0));
}

#define FAULT_OFF(field) ((int16_t)__builtin_offsetof(struct pith_ext_fault_ctx, field))

TEST(fault_context_bounds)
{
    const int FAULT = PITH_EXT_EVENT_FAULT;
    struct pith_ext_insn p[] = { ST64K(1, FAULT_OFF(frame), 1), MOVK(0, PITH_EXT_MAP), EXIT };
    CHECK(accepted(p, N(p), FAULT));
    p[0] = ST64K(1, FAULT_OFF(result), -1);
    CHECK(accepted(p, N(p), FAULT));
    p[0] = ST64K(1, 24, 1);             /* rip */
    CHECK(refused(p, N(p), FAULT, PITH_EXT_R_CTX_READONLY, 0));
    /* The badge and every argument register: read, never written. */
    p[0] = ST64K(1, FAULT_OFF(badge), 1);
    CHECK(refused(p, N(p), FAULT, PITH_EXT_R_CTX_READONLY, 0));
    for (int i = 0; i < 6; i++) {
        p[0] = ST64K(1, (int16_t)(FAULT_OFF(args) + 8 * i), 1);
        CHECK(refused(p, N(p), FAULT, PITH_EXT_R_CTX_READONLY, 0));
        p[0] = LD64(2, 1, (int16_t)(FAULT_OFF(args) + 8 * i));
        CHECK(accepted(p, N(p), FAULT));
    }
    p[0] = LD64(2, 1, FAULT_OFF(badge));
    CHECK(accepted(p, N(p), FAULT));
    p[0] = LD64(2, 1, (int16_t)sizeof(struct pith_ext_fault_ctx));
    CHECK(refused(p, N(p), FAULT, PITH_EXT_R_CTX_RANGE, 0));
    p[0] = LD64(2, 1, 104);             /* in an IPC context, past a fault's */
    CHECK(refused(p, N(p), FAULT, PITH_EXT_R_CTX_RANGE, 0));
    CHECK(accepted(p, N(p), IPC));
    struct pith_ext_insn q[] = { MOVK(1, 0), CALL(PITH_EXT_MSG_WORD), EXIT };
    CHECK(refused(q, N(q), FAULT, PITH_EXT_R_HELPER_EVENT, 1));
    /* Run: the frame chosen from the address. */
    struct pith_ext_insn r[] = { LD64(2, 1, 8), I(PITH_EXT_RSH | K, 2, 0, 0, 12), I(PITH_EXT_AND | K, 2, 0, 0, 3),
                                 STX64(1, 2, FAULT_OFF(frame)), MOVK(0, PITH_EXT_MAP), EXIT };
    CHECK(accepted(r, N(r), FAULT));
    struct pith_ext_fault_ctx c = { .kind = 14, .addr = 0x7003123 };
    struct ext_env env = { .msg_len = 0 };
    int ab;
    CHECK_EQ(ext_run(r, N(r), &c, &env, &ab), PITH_EXT_MAP);
    CHECK_EQ(c.frame, 3);
    /* Run: a system call answered from its number, badge and last argument. */
    struct pith_ext_insn s[] = { LD64(2, 1, 8), LD64(3, 1, FAULT_OFF(badge)), I(PITH_EXT_ADD, 2, 3, 0, 0),
                                 LD64(3, 1, (int16_t)(FAULT_OFF(args) + 40)), I(PITH_EXT_ADD, 2, 3, 0, 0),
                                 STX64(1, 2, FAULT_OFF(result)), MOVK(0, PITH_EXT_RESULT), EXIT };
    CHECK(accepted(s, N(s), FAULT));
    c = (struct pith_ext_fault_ctx){ .kind = 256, .addr = 39, .badge = 1000, .args = { 1, 2, 3, 4, 5, 600 } };
    CHECK_EQ(ext_run(s, N(s), &c, &env, &ab), PITH_EXT_RESULT);
    CHECK_EQ(c.result, 1639);
    CHECK_EQ(c.badge, 1000);
}

TEST(rule_ctx_size)
{
    struct pith_ext_insn p[] = { I(PITH_EXT_LDX32, 0, 1, 0, 0), EXIT };
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_CTX_SIZE, 0));
    p[0] = I(PITH_EXT_LDX8, 0, 1, 3, 0);
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_CTX_SIZE, 0));
}

TEST(rule_ctx_readonly)
{
    struct pith_ext_insn p[] = { ST64K(1, 0, 1), MOVK(0, 0), EXIT };
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_CTX_READONLY, 0));
    p[0] = ST64K(1, 56, 1);             /* msg[3], just below the answer */
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_CTX_READONLY, 0));
    p[0] = ST64K(1, 64, 1);
    CHECK(accepted(p, N(p), IPC));
    p[0] = ST64K(1, 8, 1);
    CHECK(refused(p, N(p), IRQ, PITH_EXT_R_CTX_READONLY, 0));
}

TEST(rule_stack_range)
{
    struct pith_ext_insn p[] = { ST64K(10, 0, 1), MOVK(0, 0), EXIT };
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_STACK_RANGE, 0));
    p[0] = ST64K(10, -PITH_EXT_STACK - 8, 1);
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_STACK_RANGE, 0));
    p[0] = ST64K(10, -PITH_EXT_STACK, 1);
    CHECK(accepted(p, N(p), IPC));
}

TEST(rule_stack_uninit)
{
    struct pith_ext_insn p[] = { LD64(0, 10, -8), EXIT };
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_STACK_UNINIT, 0));
    /* Written on one path only; and only half of it written. */
    struct pith_ext_insn q[] = { LD64(2, 1, 0), I(PITH_EXT_JEQ | K, 2, 0, 1, 0), ST64K(10, -8, 1),
                                 LD64(0, 10, -8), EXIT };
    CHECK(refused(q, N(q), IPC, PITH_EXT_R_STACK_UNINIT, 3));
    struct pith_ext_insn r[] = { I(PITH_EXT_ST32, 10, 0, -8, 1), LD64(0, 10, -8), EXIT };
    CHECK(refused(r, N(r), IPC, PITH_EXT_R_STACK_UNINIT, 1));
}

TEST(rule_helper)
{
    struct pith_ext_insn p[] = { CALL(PITH_EXT_HELPER_COUNT), EXIT };
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_HELPER, 0));
    p[0] = CALL(0);
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_HELPER, 0));
    p[0] = CALL(-1);
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_HELPER, 0));
}

TEST(rule_helper_event)
{
    struct pith_ext_insn p[] = { MOVK(1, 0), CALL(PITH_EXT_MSG_WORD), EXIT };
    CHECK(refused(p, N(p), IRQ, PITH_EXT_R_HELPER_EVENT, 1));
    CHECK(accepted(p, N(p), IPC));
}

TEST(rule_map_id)
{
    struct pith_ext_insn p[] = { LD64(1, 1, 0), MOVK(2, 0), CALL(PITH_EXT_MAP_READ), EXIT };
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_MAP_ID, 2));
    p[0] = MOVK(1, PITH_EXT_MAPS);
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_MAP_ID, 2));
    p[0] = MOVK(1, PITH_EXT_MAPS - 1);
    CHECK(accepted(p, N(p), IPC));
}

TEST(rule_map_index)
{
    struct pith_ext_insn p[] = { MOVK(1, 0), MOVK(2, PITH_EXT_MAP_WORDS), MOVK(3, 1),
                                 CALL(PITH_EXT_MAP_ADD), EXIT };
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_MAP_INDEX, 3));
    p[1] = MOVK(2, -1);
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_MAP_INDEX, 3));
    p[1] = MOVK(2, PITH_EXT_MAP_WORDS - 1);
    CHECK(accepted(p, N(p), IPC));
}

TEST(rule_div_zero)
{
    struct pith_ext_insn p[] = { MOVK(0, 5), I(PITH_EXT_DIV | K, 0, 0, 0, 0), EXIT };
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_DIV_ZERO, 1));
    struct pith_ext_insn q[] = { MOVK(0, 5), MOVK(2, 0), I(PITH_EXT_MOD, 0, 2, 0, 0), EXIT };
    CHECK(refused(q, N(q), IPC, PITH_EXT_R_DIV_ZERO, 2));
}

TEST(rule_shift)
{
    struct pith_ext_insn p[] = { MOVK(0, 1), I(PITH_EXT_LSH | K, 0, 0, 0, 64), EXIT };
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_SHIFT, 1));
    p[1] = I(PITH_EXT_ARSH | K, 0, 0, 0, -1);
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_SHIFT, 1));
    p[1] = I(PITH_EXT_RSH | K, 0, 0, 0, 63);
    CHECK(accepted(p, N(p), IPC));
}

/* ---- accepted programs do what the machine defines ---- */

static uint64_t run(const struct pith_ext_insn *p, uint32_t n, int event, void *ctx, uint64_t **maps,
                    int *aborted)
{
    struct ext_env env = { .msg_len = 0 };
    uint64_t regs[4] = { 0 };
    if (maps)
        for (int i = 0; i < PITH_EXT_MAPS; i++)
            env.maps[i] = maps[i];
    if (event == IPC) {
        struct pith_ext_ipc_ctx *c = ctx;
        memcpy(regs, c->msg, sizeof regs);
        env.msg_regs = regs;
        env.msg_len = c->length < 4 ? c->length : 4;
    }
    return ext_run(p, n, ctx, &env, aborted);
}

TEST(answer_program_runs)
{
    /* Answers label 7 with msg[0] + 1; refuses label 9; passes the rest. */
    struct pith_ext_insn p[] = {
        LD64(2, 1, 8),
        I(PITH_EXT_JEQ | K, 2, 0, 3, 9),
        I(PITH_EXT_JEQ | K, 2, 0, 4, 7),
        MOVK(0, PITH_EXT_PASS), EXIT,
        MOVK(0, PITH_EXT_DROP), EXIT,
        LD64(3, 1, 32), I(PITH_EXT_ADD | K, 3, 0, 0, 1), STX64(1, 3, 80), ST64K(1, 72, 1),
        ST64K(1, 64, 70), MOVK(0, PITH_EXT_REPLY), EXIT,
    };
    CHECK(accepted(p, N(p), IPC));
    struct pith_ext_ipc_ctx c = { .label = 7, .length = 1, .call = 1, .msg = { 41 } };
    int ab;
    CHECK_EQ(run(p, N(p), IPC, &c, NULL, &ab), PITH_EXT_REPLY);
    CHECK_EQ(ab, 0);
    CHECK_EQ(c.reply[0], 42);
    CHECK_EQ(c.reply_length, 1);
    CHECK_EQ(c.reply_label, 70);
    c.label = 9;
    CHECK_EQ(run(p, N(p), IPC, &c, NULL, &ab), PITH_EXT_DROP);
    c.label = 1;
    CHECK_EQ(run(p, N(p), IPC, &c, NULL, &ab), PITH_EXT_PASS);
}

TEST(arithmetic_as_defined)
{
    uint8_t ops[] = { PITH_EXT_ADD, PITH_EXT_SUB, PITH_EXT_MUL, PITH_EXT_DIV, PITH_EXT_MOD, PITH_EXT_AND,
                      PITH_EXT_OR, PITH_EXT_XOR, PITH_EXT_LSH, PITH_EXT_RSH, PITH_EXT_ARSH };
    uint64_t a = 0x8000000000001234ull, b = 5;
    uint64_t want[] = { a + 5, a - 5, a * 5, a / 5, a % 5, a & 5, a | 5, a ^ 5, a << 5, a >> 5,
                        0xfc00000000000091ull };
    for (unsigned i = 0; i < sizeof ops; i++) {
        /* a from the message (not a known constant), b in a register */
        struct pith_ext_insn p[] = { LD64(0, 1, 32), MOVK(2, (int32_t)b), I(ops[i], 0, 2, 0, 0), EXIT };
        struct pith_ext_ipc_ctx c = { .msg = { a } };
        int ab;
        CHECK(accepted(p, N(p), IPC));
        CHECK_EQ(run(p, N(p), IPC, &c, NULL, &ab), want[i]);
        CHECK_EQ(ext_alu(ops[i], a, b), want[i]);
    }
    CHECK_EQ(ext_alu(PITH_EXT_DIV, 7, 0), 0);
    CHECK_EQ(ext_alu(PITH_EXT_MOD, 7, 0), 7);
    CHECK_EQ(ext_alu(PITH_EXT_ARSH, a, 0), a);
    CHECK_EQ(ext_alu(PITH_EXT_ARSH, 0x40, 3), 8);
    CHECK_EQ(ext_alu(PITH_EXT_NEG, 1, 0), ~0ull);
    /* Division by a zero known only at run time gives 0. */
    struct pith_ext_insn p[] = { LD64(0, 1, 32), LD64(2, 1, 40), I(PITH_EXT_DIV, 0, 2, 0, 0), EXIT };
    struct pith_ext_ipc_ctx c = { .msg = { 9, 0 } };
    int ab;
    CHECK(accepted(p, N(p), IPC));
    CHECK_EQ(run(p, N(p), IPC, &c, NULL, &ab), 0);
}

TEST(jumps_as_defined)
{
    uint8_t ops[] = { PITH_EXT_JEQ, PITH_EXT_JNE, PITH_EXT_JGT, PITH_EXT_JGE, PITH_EXT_JLT, PITH_EXT_JLE,
                      PITH_EXT_JSGT, PITH_EXT_JSGE, PITH_EXT_JSLT, PITH_EXT_JSLE, PITH_EXT_JSET };
    uint64_t a = (uint64_t)-3, b = 2;   /* unsigned: a > b; signed: a < b; a & b = 0 */
    int want[] = { 0, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0 };
    for (unsigned i = 0; i < sizeof ops; i++) {
        struct pith_ext_insn p[] = { LD64(2, 1, 32), LD64(3, 1, 40), MOVK(0, 0),
                                     I(ops[i], 2, 3, 1, 0), EXIT, MOVK(0, 1), EXIT };
        struct pith_ext_ipc_ctx c = { .msg = { a, b } };
        int ab;
        CHECK(accepted(p, N(p), IPC));
        CHECK_EQ(run(p, N(p), IPC, &c, NULL, &ab), want[i]);
    }
}

TEST(stack_and_maps)
{
    static uint64_t m0[PITH_EXT_MAP_WORDS], m1[PITH_EXT_MAP_WORDS];
    uint64_t *maps[PITH_EXT_MAPS] = { m0, m1, NULL, NULL };
    /* Spill the badge, count the message in map 0 at its label, keep the badge in map 1 word 3. */
    struct pith_ext_insn p[] = {
        LD64(2, 1, 0), STX64(10, 2, -16), I(PITH_EXT_STX8, 10, 2, -1, 0),
        LD64(2, 1, 8), MOVK(1, 0), MOVK(3, 1), CALL(PITH_EXT_MAP_ADD),
        LD64(3, 10, -16), MOVK(1, 1), MOVK(2, 3), CALL(PITH_EXT_MAP_WRITE),
        MOVK(1, 2), MOVK(2, 3), CALL(PITH_EXT_MAP_READ),             /* no map there: reads 0 */
        I(PITH_EXT_LDX8, 0, 10, -1, 0), EXIT,
    };
    CHECK(accepted(p, N(p), IPC));
    struct pith_ext_ipc_ctx c = { .badge = 0x1ff, .label = 5 };
    int ab;
    CHECK_EQ(run(p, N(p), IPC, &c, maps, &ab), 0xff);
    CHECK_EQ(run(p, N(p), IPC, &c, maps, &ab), 0xff);
    CHECK_EQ(m0[5], 2);
    CHECK_EQ(m1[3], 0x1ff);
    /* An index beyond the map, known only at run time, stops the program. */
    c.label = PITH_EXT_MAP_WORDS;
    CHECK_EQ(run(p, N(p), IPC, &c, maps, &ab), 0);
    CHECK_EQ(ab, 1);
    CHECK_EQ(m1[3], 0x1ff);
}

TEST(message_words_through_the_helper)
{
    uint64_t longmsg[128] = { 0 };
    longmsg[6] = 66;
    struct pith_ext_insn p[] = { LD64(1, 1, 40), CALL(PITH_EXT_MSG_WORD), EXIT };
    CHECK(accepted(p, N(p), IPC));
    uint64_t regs[4] = { 10, 11, 12, 13 };
    struct ext_env env = { .msg = longmsg, .msg_len = 7, .msg_regs = regs };
    struct pith_ext_ipc_ctx c = { .msg = { 0, 6 } };
    int ab;
    CHECK_EQ(ext_run(p, N(p), &c, &env, &ab), 66);
    c.msg[1] = 2;
    CHECK_EQ(ext_run(p, N(p), &c, &env, &ab), 12);
    c.msg[1] = 7;                       /* beyond the length */
    CHECK_EQ(ext_run(p, N(p), &c, &env, &ab), 0);
    env.msg = NULL;
    c.msg[1] = 6;
    CHECK_EQ(ext_run(p, N(p), &c, &env, &ab), 0);
}

/* ---- adversarial: ways out of the context ---- */

TEST(no_way_out_of_the_context)
{
    /* Walk the pointer to the end and back: still in bounds, accepted. */
    struct pith_ext_insn ok[] = { I(PITH_EXT_ADD | K, 1, 0, 0, 1000), I(PITH_EXT_SUB | K, 1, 0, 0, 1000),
                                  LD64(0, 1, 8), EXIT };
    CHECK(accepted(ok, N(ok), IPC));
    /* One word too far, reached by steps. */
    struct pith_ext_insn p[] = { I(PITH_EXT_ADD | K, 1, 0, 0, 64), I(PITH_EXT_ADD | K, 1, 0, 0, 48),
                                 LD64(0, 1, 0), EXIT };
    CHECK(refused(p, N(p), IPC, PITH_EXT_R_CTX_RANGE, 2));
    /* Below the start through a negative offset in the instruction. */
    struct pith_ext_insn q[] = { I(PITH_EXT_ADD | K, 1, 0, 0, 8), LD64(0, 1, -16), EXIT };
    CHECK(refused(q, N(q), IPC, PITH_EXT_R_CTX_RANGE, 1));
    /* The stack pointer passed off as the context. */
    struct pith_ext_insn r[] = { MOV(1, 10), LD64(0, 1, 8), EXIT };
    CHECK(refused(r, N(r), IPC, PITH_EXT_R_STACK_RANGE, 1));
    /* A pointer laundered through the stack. */
    struct pith_ext_insn s[] = { STX64(10, 1, -8), LD64(2, 10, -8), LD64(0, 2, 0), EXIT };
    CHECK(refused(s, N(s), IPC, PITH_EXT_R_PTR_STORE, 0));
    /* A pointer laundered through a helper's answer. */
    struct pith_ext_insn t[] = { MOVK(1, 0), MOVK(2, 0), CALL(PITH_EXT_MAP_READ), LD64(0, 0, 0), EXIT };
    CHECK(refused(t, N(t), IPC, PITH_EXT_R_NOT_PTR, 3));
    /* Offset overflow: adding near 2^31 twice. */
    struct pith_ext_insn u[] = { I(PITH_EXT_ADD | K, 1, 0, 0, 0x40000000), I(PITH_EXT_ADD | K, 1, 0, 0, 0x40000000),
                                 LD64(0, 1, 0), EXIT };
    CHECK(refused(u, N(u), IPC, PITH_EXT_R_PTR_ARITH, 0));
    /* The pointer's bits read by shifting it. */
    struct pith_ext_insn v[] = { MOV(0, 1), I(PITH_EXT_RSH | K, 0, 0, 0, 12), EXIT };
    CHECK(refused(v, N(v), IPC, PITH_EXT_R_PTR_ARITH, 1));
    /* Narrow reads of the pointer through the stack are refused by the store. */
    struct pith_ext_insn w[] = { STX64(10, 10, -8), I(PITH_EXT_LDX8, 0, 10, -8, 0), EXIT };
    CHECK(refused(w, N(w), IPC, PITH_EXT_R_PTR_STORE, 0));
}
