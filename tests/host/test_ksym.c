// uses: kernel/core/ksym.c
/* kernel/core/ksym.c: ksym_find on synthetic tables. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "core/ksym.h"

static const uint64_t addrs[] = { 0x1000, 0x1010, 0x1100, 0x2000, 0x2004 };
static const uint32_t offs[] = { 0, 6, 11, 15, 23 };
static const char names[] = "start\0init\0foo\0bar_baz\0last";
static const struct ksym_table table = { addrs, offs, names, 5, 0x3000 };

static bool finds(const struct ksym_table *t, uint64_t addr, const char *name, uint64_t off)
{
    uint64_t got_off = 0xdeadbeef;
    const char *got = ksym_find(t, addr, &got_off);
    if (!got || strcmp(got, name) != 0 || got_off != off) {
        printf("  ksym_find(%#llx) = %s+%#llx, want %s+%#llx\n", (unsigned long long)addr,
               got ? got : "NULL", (unsigned long long)got_off, name, (unsigned long long)off);
        return false;
    }
    return true;
}

static bool finds_nothing(const struct ksym_table *t, uint64_t addr)
{
    uint64_t off = 0x5a5a;
    const char *got = ksym_find(t, addr, &off);
    if (got) {
        printf("  ksym_find(%#llx) = %s, want NULL\n", (unsigned long long)addr, got);
        return false;
    }
    return off == 0x5a5a;       /* offset untouched */
}

TEST(below_first_symbol_is_null)
{
    CHECK(finds_nothing(&table, 0));
    CHECK(finds_nothing(&table, 1));
    CHECK(finds_nothing(&table, 0xfff));
}

TEST(exact_addresses_have_offset_0)
{
    CHECK(finds(&table, 0x1000, "start", 0));
    CHECK(finds(&table, 0x1010, "init", 0));
    CHECK(finds(&table, 0x1100, "foo", 0));
    CHECK(finds(&table, 0x2000, "bar_baz", 0));
    CHECK(finds(&table, 0x2004, "last", 0));
}

TEST(between_symbols_gives_lower_one)
{
    CHECK(finds(&table, 0x1001, "start", 1));
    CHECK(finds(&table, 0x100f, "start", 0xf));
    CHECK(finds(&table, 0x1011, "init", 1));
    CHECK(finds(&table, 0x10ff, "init", 0xef));
    CHECK(finds(&table, 0x1fff, "foo", 0xeff));
    CHECK(finds(&table, 0x2003, "bar_baz", 3));
    CHECK(finds(&table, 0x2005, "last", 1));
    CHECK(finds(&table, 0x2fff, "last", 0xffb));        /* last byte of text */
}

TEST(at_or_past_text_end_is_null)
{
    CHECK(finds_nothing(&table, 0x3000));
    CHECK(finds_nothing(&table, 0x3001));
    CHECK(finds_nothing(&table, UINT64_MAX));
    /* text_end on a symbol: that symbol is not code. */
    struct ksym_table t = table;
    t.text_end = 0x2004;
    CHECK(finds_nothing(&t, 0x2004));
    CHECK(finds(&t, 0x2003, "bar_baz", 3));
}

TEST(single_symbol_table)
{
    static const uint64_t a[] = { 0xffffffff80100000ull };
    static const uint32_t o[] = { 0 };
    struct ksym_table t = { a, o, "only", 1, 0xffffffff80200000ull };
    CHECK(finds_nothing(&t, 0xffffffff800fffffull));
    CHECK(finds(&t, 0xffffffff80100000ull, "only", 0));
    CHECK(finds(&t, 0xffffffff801fffffull, "only", 0xfffff));
    CHECK(finds_nothing(&t, 0xffffffff80200000ull));
    CHECK(finds_nothing(&t, 0));
}

TEST(empty_table)
{
    struct ksym_table t = { NULL, NULL, "", 0, UINT64_MAX };
    CHECK(finds_nothing(&t, 0));
    CHECK(finds_nothing(&t, 0x1000));
    CHECK(finds_nothing(&t, UINT64_MAX - 1));
}

TEST(symbol_at_address_0_and_text_end_max)
{
    static const uint64_t a[] = { 0, 0x10, UINT64_MAX - 1 };
    static const uint32_t o[] = { 0, 5, 10 };
    struct ksym_table t = { a, o, "zero\0tenx\0top", 3, UINT64_MAX };
    CHECK(finds(&t, 0, "zero", 0));
    CHECK(finds(&t, 0xf, "zero", 0xf));
    CHECK(finds(&t, 0x10, "tenx", 0));
    CHECK(finds(&t, UINT64_MAX - 2, "tenx", UINT64_MAX - 2 - 0x10));
    CHECK(finds(&t, UINT64_MAX - 1, "top", 0));
    CHECK(finds_nothing(&t, UINT64_MAX));
}

TEST(duplicate_addresses)
{
    /* Aliases at one address: either name, offset 0; past them: one of them. */
    static const uint64_t a[] = { 0x100, 0x200, 0x200, 0x200, 0x300 };
    static const uint32_t o[] = { 0, 2, 4, 6, 8 };
    static const char n[] = "a\0b\0c\0d\0e";
    struct ksym_table t = { a, o, n, 5, 0x400 };
    for (uint64_t addr = 0x200; addr < 0x300; addr += 0x7f) {
        uint64_t off = 99;
        const char *s = ksym_find(&t, addr, &off);
        CHECK(s != NULL);
        CHECK(strcmp(s, "b") == 0 || strcmp(s, "c") == 0 || strcmp(s, "d") == 0);
        CHECK_EQ(off, addr - 0x200);
    }
    CHECK(finds(&t, 0x1ff, "a", 0xff));
    CHECK(finds(&t, 0x300, "e", 0));
    /* Every symbol at one address. */
    static const uint64_t same[] = { 0x500, 0x500, 0x500, 0x500 };
    struct ksym_table s4 = { same, o, n, 4, 0x600 };
    uint64_t off = 99;
    const char *s = ksym_find(&s4, 0x500, &off);
    CHECK(s != NULL && strlen(s) == 1 && s[0] >= 'a' && s[0] <= 'd');
    CHECK_EQ(off, 0);
    s = ksym_find(&s4, 0x5ff, &off);
    CHECK(s != NULL);
    CHECK_EQ(off, 0xff);
    CHECK(finds_nothing(&s4, 0x4ff));
}

/* ---- large random table against a linear search ---------------------- */

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Index of the last symbol at or below addr, or -1. */
static long linear(const uint64_t *a, size_t n, uint64_t addr)
{
    long best = -1;
    for (size_t i = 0; i < n && a[i] <= addr; i++)
        best = (long)i;
    return best;
}

static bool check_table(size_t n, uint64_t base, uint64_t max_gap, int probes)
{
    uint64_t *a = malloc((n ? n : 1) * sizeof *a);
    uint32_t *o = malloc((n ? n : 1) * sizeof *o);
    char *names_buf = malloc(n * 8 + 1);
    if (!a || !o || !names_buf)
        exit(2);
    uint64_t addr = base;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        addr += rnd() % (max_gap + 1);          /* gap 0: duplicate address */
        a[i] = addr;
        o[i] = (uint32_t)at;
        at += (size_t)sprintf(names_buf + at, "s%zu", i % 1000000) + 1;
    }
    uint64_t text_end = addr + 1 + rnd() % 64;
    struct ksym_table t = { a, o, names_buf, n, text_end };
    bool ok = true;
    for (int k = 0; ok && k < probes; k++) {
        uint64_t q;
        switch (rnd() % 4) {
        case 0: q = n ? a[rnd() % n] : base; break;                     /* exact */
        case 1: q = n ? a[rnd() % n] + rnd() % (max_gap + 1) : base; break;
        case 2: q = base - 32 + rnd() % 64; break;                       /* near the start */
        default: q = text_end - 32 + rnd() % 64; break;                  /* near the end */
        }
        uint64_t off = 0x5a5a;
        const char *got = ksym_find(&t, q, &off);
        long want = q >= text_end ? -1 : linear(a, n, q);
        if (want < 0) {
            ok = got == NULL && off == 0x5a5a;
        } else {
            /* Equal addresses: any of the aliases is right. */
            ok = got != NULL && got >= names_buf && got < names_buf + at;
            if (ok) {
                size_t gi = (size_t)strtoul(got + 1, NULL, 10);  /* names are "s<index>" */
                ok = got[0] == 's' && gi < n && names_buf + o[gi] == got && a[gi] == a[want]
                     && off == q - a[want];
            }
        }
        if (!ok)
            printf("  n=%zu probe %#llx: got %s+%#llx, want index %ld\n", n,
                   (unsigned long long)q, got ? got : "NULL", (unsigned long long)off, want);
    }
    free(a);
    free(o);
    free(names_buf);
    return ok;
}

TEST(random_tables_match_linear_search)
{
    CHECK(check_table(20000, 0xffffffff80100000ull, 0x400, 20000));
    CHECK(check_table(5000, 0x100000, 3, 20000));           /* many duplicates */
    for (size_t n = 1; n <= 40; n++)                         /* every small size */
        CHECK(check_table(n, 0x1000 * n, 16, 500));
    CHECK(check_table(1u << 16, 0x200000, 64, 20000));      /* a power of two */
    CHECK(check_table((1u << 16) + 1, 0x200000, 64, 5000));
}
