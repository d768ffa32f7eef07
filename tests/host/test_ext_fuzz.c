// uses: kernel/ext/verify.c kernel/ext/interp.c
/*
 * A million programs, random and mutated from accepted ones, through the
 * verifier under AddressSanitizer and UBSan; every program it accepts is
 * run with its context, maps and message in allocations of exactly their
 * size, so a read or write one byte outside any of them stops the test.
 * After each run the read-only part of the context must be unchanged and
 * no value the program could leave behind (r0, the answer, the maps) may
 * be near a kernel (here: host) address it was never given as a number.
 * EXT_FUZZ_N and EXT_FUZZ_SEED override the count and the seed.
 */
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "ext/ext.h"

#define I PITH_EXT_INSN
#define K PITH_EXT_K
#define MAXLEN 40
#define SAVED 64

static uint64_t seed;

static uint64_t rnd(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
}

static const uint8_t valid_ops[] = {
    PITH_EXT_ADD, PITH_EXT_SUB, PITH_EXT_MUL, PITH_EXT_DIV, PITH_EXT_MOD, PITH_EXT_AND, PITH_EXT_OR,
    PITH_EXT_XOR, PITH_EXT_LSH, PITH_EXT_RSH, PITH_EXT_ARSH, PITH_EXT_MOV, PITH_EXT_MOV, PITH_EXT_NEG,
    PITH_EXT_JA, PITH_EXT_JEQ, PITH_EXT_JNE, PITH_EXT_JGT, PITH_EXT_JGE, PITH_EXT_JLT, PITH_EXT_JLE,
    PITH_EXT_JSGT, PITH_EXT_JSGE, PITH_EXT_JSLT, PITH_EXT_JSLE, PITH_EXT_JSET,
    PITH_EXT_LDX8, PITH_EXT_LDX16, PITH_EXT_LDX32, PITH_EXT_LDX64, PITH_EXT_LDX64, PITH_EXT_LDX64,
    PITH_EXT_STX8, PITH_EXT_STX16, PITH_EXT_STX32, PITH_EXT_STX64, PITH_EXT_STX64,
    PITH_EXT_ST8, PITH_EXT_ST16, PITH_EXT_ST32, PITH_EXT_ST64, PITH_EXT_ST64,
    PITH_EXT_CALL, PITH_EXT_CALL, PITH_EXT_EXIT,
};

static unsigned small_reg(void)
{
    return rnd() % 20 ? (unsigned)(rnd() % 11) : (unsigned)(rnd() % 16);
}

/* An instruction that is often well-formed and aimed at plausible places. */
static struct pith_ext_insn random_insn(uint32_t pc, uint32_t len)
{
    if (rnd() % 50 == 0) {
        uint64_t x = rnd();
        struct pith_ext_insn in;
        memcpy(&in, &x, sizeof in);
        return in;
    }
    uint8_t op = valid_ops[rnd() % sizeof valid_ops];
    unsigned dst = small_reg(), src = small_reg();
    int16_t off = 0;
    int32_t imm = 0;
    int k = rnd() % 2;
    if (op <= PITH_EXT_NEG || (op >= PITH_EXT_JEQ && op <= PITH_EXT_JSET)) {
        imm = rnd() % 4 ? (int32_t)(rnd() % 16) - 2 : (int32_t)rnd();
        if (op == PITH_EXT_NEG)
            k = 0, src = 0, imm = 0;
        if (k)
            src = 0;
        else
            imm = 0;
    }
    if (op >= PITH_EXT_JA && op <= PITH_EXT_JSET) {
        uint32_t room = len > pc + 1 ? len - pc - 1 : 1;
        off = rnd() % 10 ? (int16_t)(rnd() % room) : (int16_t)rnd();
        if (op == PITH_EXT_JA)
            dst = src = 0, k = 0;
    } else if (op >= PITH_EXT_LDX8 && op <= PITH_EXT_ST64) {
        k = 0;
        switch (rnd() % 3) {
        case 0: off = (int16_t)(rnd() % 16 * 8); break;                   /* a context word */
        case 1: off = (int16_t)(-(int)(rnd() % 34) * 8 + (int)(rnd() % 2) * 4); break;   /* the stack */
        default: off = (int16_t)((int)(rnd() % 300) - 280); break;
        }
        if (op >= PITH_EXT_ST8)
            src = 0, imm = (int32_t)(rnd() % 8);
    } else if (op == PITH_EXT_CALL) {
        dst = src = 0, k = 0, imm = (int32_t)(rnd() % (PITH_EXT_HELPER_COUNT + 1));
    } else if (op == PITH_EXT_EXIT) {
        dst = src = 0, k = 0;
    }
    return I(op | (k ? K : 0), dst, src, off, imm);
}

static uint32_t random_program(struct pith_ext_insn *p)
{
    uint32_t len = 2 + (uint32_t)(rnd() % (MAXLEN - 2));
    uint32_t pc = 0;
    if (rnd() % 2)
        p[pc++] = I(PITH_EXT_MOV | K, 0, 0, 0, (int32_t)(rnd() % 3));
    while (pc < len - 1) {
        p[pc] = random_insn(pc, len);
        /* A helper call mostly gets its arguments set just before it: a map, an index, a value. */
        if (p[pc].op == PITH_EXT_CALL && pc + 4 < len && rnd() % 4) {
            struct pith_ext_insn call = p[pc];
            p[pc++] = I(PITH_EXT_MOV | K, 1, 0, 0, (int32_t)(rnd() % 5));
            p[pc++] = I(PITH_EXT_MOV | K, 2, 0, 0, (int32_t)(rnd() % 4 ? rnd() % 8 : 500 + rnd() % 20));
            p[pc++] = I(PITH_EXT_MOV | K, 3, 0, 0, (int32_t)(rnd() % 8));
            p[pc] = call;
        }
        pc++;
    }
    p[pc++] = I(PITH_EXT_EXIT, 0, 0, 0, 0);
    return pc;
}

/* One to three changes to a field, or an instruction inserted or removed. */
static uint32_t mutate(struct pith_ext_insn *p, uint32_t n)
{
    int changes = 1 + (int)(rnd() % 3);
    for (int c = 0; c < changes; c++) {
        uint32_t at = (uint32_t)(rnd() % n);
        switch (rnd() % 7) {
        case 0: p[at].op = (uint8_t)rnd(); break;
        case 1: p[at].op ^= K; break;
        case 2: p[at].regs = (uint8_t)(small_reg() | small_reg() << 4); break;
        case 3: p[at].off = (int16_t)(p[at].off + (int)(rnd() % 17) - 8); break;
        case 4: p[at].imm = rnd() % 2 ? p[at].imm + (int32_t)(rnd() % 5) - 2 : (int32_t)rnd(); break;
        case 5:
            if (n < MAXLEN) {
                memmove(&p[at + 1], &p[at], (n - at) * sizeof *p);
                p[at] = random_insn(at, n + 1);
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

/* Whether v is within 16 MiB of address a: what a leaked pointer, moved a little, looks like. */
static int near(uint64_t v, const void *a)
{
    uint64_t x = (uint64_t)(uintptr_t)a;
    return v - x + (16u << 20) < (32u << 20);
}

static int leaks(uint64_t v, void *const *addrs, int naddrs)
{
    for (int i = 0; i < naddrs; i++)
        if (addrs[i] && near(v, addrs[i]))
            return 1;
    return 0;
}

/* Runs an accepted program in exact-size allocations; 0 if it misbehaved. */
static int run_checked(const struct pith_ext_insn *p, uint32_t n, uint32_t event)
{
    uint32_t size = ext_ctx_size(event), wfrom = ext_ctx_writable_from(event);
    uint64_t *ctx = malloc(size), *before = malloc(size), *msg = malloc(128 * sizeof *msg);
    struct ext_env env = { .msg = msg, .msg_len = rnd() % 129 };
    uint64_t regs[4];
    int stack_marker, ok = 1, aborted;
    for (int i = 0; i < PITH_EXT_MAPS; i++)
        env.maps[i] = rnd() % 4 ? calloc(PITH_EXT_MAP_WORDS, sizeof(uint64_t)) : NULL;
    /* Numbers far from any address, so that an address coming out is recognisable. */
    for (uint32_t i = 0; i < size / 8; i++)
        ctx[i] = rnd() % 3 ? rnd() % 600 : rnd() >> 24;
    for (int i = 0; i < 128; i++)
        msg[i] = rnd() >> 24;
    memcpy(regs, event == PITH_EXT_EVENT_IPC ? ctx + 4 : ctx, sizeof regs < size ? sizeof regs : size);
    env.msg_regs = regs;
    memcpy(before, ctx, size);
    uint64_t r0 = ext_run(p, n, ctx, &env, &aborted);
    void *addrs[] = { ctx, msg, env.maps[0], env.maps[1], env.maps[2], env.maps[3], &stack_marker, (void *)p };
    int naddrs = 8;
    if (memcmp(ctx, before, wfrom) != 0) {
        printf("  a read-only context field changed\n");
        ok = 0;
    }
    if (leaks(r0, addrs, naddrs)) {
        printf("  r0 %#llx looks like an address\n", (unsigned long long)r0);
        ok = 0;
    }
    for (uint32_t i = wfrom / 8; i < size / 8; i++)
        if (leaks(ctx[i], addrs, naddrs))
            ok = 0;
    for (int m = 0; m < PITH_EXT_MAPS; m++)
        for (int i = 0; env.maps[m] && i < PITH_EXT_MAP_WORDS; i++)
            if (leaks(env.maps[m][i], addrs, naddrs))
                ok = 0;
    for (int i = 0; i < PITH_EXT_MAPS; i++)
        free(env.maps[i]);
    free(ctx);
    free(before);
    free(msg);
    return ok;
}

static void dump(const struct pith_ext_insn *p, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        printf("    %2u: op %#x regs %#x off %d imm %d\n", i, p[i].op, p[i].regs, p[i].off, p[i].imm);
}

TEST(a_million_programs)
{
    static struct pith_ext_insn saved[SAVED][MAXLEN];
    static uint32_t saved_len[SAVED], saved_event[SAVED];
    unsigned nsaved = 0;
    uint64_t total = getenv("EXT_FUZZ_N") ? strtoull(getenv("EXT_FUZZ_N"), NULL, 0) : 1000000;
    seed = getenv("EXT_FUZZ_SEED") ? strtoull(getenv("EXT_FUZZ_SEED"), NULL, 0) : 0x5EED5EEDull;
    if (!seed)
        seed = 1;
    printf("  seed %#llx, %llu programs\n", (unsigned long long)seed, (unsigned long long)total);
    uint64_t accepted = 0, mutated_accepted = 0, by_rule[PITH_EXT_R_COUNT] = { 0 };
    for (uint64_t k = 0; k < total; k++) {
        struct pith_ext_insn p[MAXLEN];
        uint32_t n, event = 1 + (uint32_t)(rnd() % 2);
        if (rnd() % 1000 == 0)
            event = (uint32_t)(rnd() % 2) * PITH_EXT_EVENT_COUNT;      /* no such event */
        int mutated = nsaved && rnd() % 2;
        if (mutated) {
            unsigned from = (unsigned)(rnd() % nsaved);
            n = saved_len[from];
            event = rnd() % 8 ? saved_event[from] : event;
            memcpy(p, saved[from], n * sizeof *p);
            n = mutate(p, n);
        } else {
            n = random_program(p);
        }
        if (rnd() % 1000 == 0)
            n = rnd() % 2 ? 0 : PITH_EXT_MAX_INSNS + 1 + (uint32_t)(rnd() % 10);  /* refused unread */
        struct ext_verdict v = ext_verify(p, n, event);
        CHECK(v.rule >= 0 && v.rule < PITH_EXT_R_COUNT);
        CHECK(v.rule == PITH_EXT_OK || v.insn < n || n == 0);
        by_rule[v.rule]++;
        if (v.rule != PITH_EXT_OK)
            continue;
        accepted++;
        mutated_accepted += mutated;
        if (!run_checked(p, n, event)) {
            printf("  program %llu (event %u) misbehaved:\n", (unsigned long long)k, event);
            dump(p, n);
            CHECK(0);
        }
        unsigned slot = nsaved < SAVED ? nsaved++ : (unsigned)(rnd() % SAVED);
        memcpy(saved[slot], p, n * sizeof *p);
        saved_len[slot] = n;
        saved_event[slot] = event;
    }
    unsigned rules_seen = 0;
    for (int r = 1; r < PITH_EXT_R_COUNT; r++)
        rules_seen += by_rule[r] != 0;
    printf("  accepted %llu (%llu of them mutants), %u of %d rules broken at least once\n",
           (unsigned long long)accepted, (unsigned long long)mutated_accepted, rules_seen,
           PITH_EXT_R_COUNT - 1);
    for (int r = 1; r < PITH_EXT_R_COUNT; r++)
        printf("    rule %2d %8llu  %s\n", r, (unsigned long long)by_rule[r], ext_rule_text(r));
    /* Not vacuous: a good share runs, and the refusals cover most rules. */
    if (total >= 100000) {
        CHECK(accepted * 50 >= total);
        CHECK(rules_seen + 1 >= PITH_EXT_R_COUNT - 1);
    }
}
