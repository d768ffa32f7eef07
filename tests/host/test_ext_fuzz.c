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
#include "ext_gen.h"

#define SAVED 64

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
    struct ext_env env = { .msg = msg, .msg_len = ext_rnd() % 129 };
    uint64_t regs[4];
    int stack_marker, ok = 1, aborted;
    for (int i = 0; i < PITH_EXT_MAPS; i++)
        env.maps[i] = ext_rnd() % 4 ? calloc(PITH_EXT_MAP_WORDS, sizeof(uint64_t)) : NULL;
    /* Numbers far from any address, so that an address coming out is recognisable. */
    for (uint32_t i = 0; i < size / 8; i++)
        ctx[i] = ext_rnd() % 3 ? ext_rnd() % 600 : ext_rnd() >> 24;
    for (int i = 0; i < 128; i++)
        msg[i] = ext_rnd() >> 24;
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
    static struct pith_ext_insn saved[SAVED][EXT_GEN_MAXLEN];
    static uint32_t saved_len[SAVED], saved_event[SAVED];
    unsigned nsaved = 0;
    uint64_t total = getenv("EXT_FUZZ_N") ? strtoull(getenv("EXT_FUZZ_N"), NULL, 0) : 1000000;
    ext_gen_seed = getenv("EXT_FUZZ_SEED") ? strtoull(getenv("EXT_FUZZ_SEED"), NULL, 0) : 0x5EED5EEDull;
    if (!ext_gen_seed)
        ext_gen_seed = 1;
    printf("  seed %#llx, %llu programs\n", (unsigned long long)ext_gen_seed, (unsigned long long)total);
    uint64_t accepted = 0, mutated_accepted = 0, by_rule[PITH_EXT_R_COUNT] = { 0 };
    for (uint64_t k = 0; k < total; k++) {
        struct pith_ext_insn p[EXT_GEN_MAXLEN];
        uint32_t n, event = 1 + (uint32_t)(ext_rnd() % 3);
        if (ext_rnd() % 1000 == 0)
            event = (uint32_t)(ext_rnd() % 2) * PITH_EXT_EVENT_COUNT;      /* no such event */
        int mutated = nsaved && ext_rnd() % 2;
        if (mutated) {
            unsigned from = (unsigned)(ext_rnd() % nsaved);
            n = saved_len[from];
            event = ext_rnd() % 8 ? saved_event[from] : event;
            memcpy(p, saved[from], n * sizeof *p);
            n = ext_mutate(p, n);
        } else {
            n = ext_random_program(p);
        }
        if (ext_rnd() % 1000 == 0)
            n = ext_rnd() % 2 ? 0 : PITH_EXT_MAX_INSNS + 1 + (uint32_t)(ext_rnd() % 10);  /* refused unread */
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
        unsigned slot = nsaved < SAVED ? nsaved++ : (unsigned)(ext_rnd() % SAVED);
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
        CHECK(rules_seen + 2 >= PITH_EXT_R_COUNT - 1);
    }
}
