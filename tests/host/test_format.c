// uses: kernel/lib/format.c
/*
 * kernel/lib/format.c against the host's vsnprintf (glibc): every case is
 * formatted into buffers of every size from 0 to two past the full length,
 * checking the return value, the truncated text, the terminating NUL and
 * that nothing is written past size (both with an exact-size heap buffer,
 * which ASan guards, and with a canary after the buffer).
 */
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "lib/format.h"

#define GUARD 16
#define CANARY 0xA5

static char want_buf[4096];

/* Kernel format_v through a wrapper without the printf attribute, so the
 * tests can hand it conversions the compiler would warn about. */
static int kfmt(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = format_v(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

/* Checks one format_v call into a buffer of the given size against want/wn. */
static int check_size(const char *fmt, va_list ap, size_t size, const char *want, int wn)
{
    va_list a;
    size_t keep = size && (size_t)wn >= size ? size - 1 : (size_t)wn;

    /* Exact-size heap buffer: ASan reports any write past size. */
    char *exact = malloc(size ? size : 1);
    if (!exact)
        return 0;
    va_copy(a, ap);
    int n = format_v(size ? exact : NULL, size, fmt, a);
    va_end(a);
    int ok = n == wn;
    if (ok && size)
        ok = memcmp(exact, want, keep) == 0 && exact[keep] == '\0';
    free(exact);

    /* Canary after the buffer. */
    char *canary = malloc(size + GUARD);
    if (!canary)
        return 0;
    memset(canary, CANARY, size + GUARD);
    va_copy(a, ap);
    int n2 = format_v(canary, size, fmt, a);
    va_end(a);
    ok = ok && n2 == wn;
    if (ok && size)
        ok = memcmp(canary, want, keep) == 0 && canary[keep] == '\0';
    for (size_t i = size; ok && i < size + GUARD; i++)
        ok = (unsigned char)canary[i] == CANARY;
    if (size == 0)
        ok = ok && (unsigned char)canary[0] == CANARY;
    free(canary);

    if (!ok)
        printf("  format(\"%s\") into %zu bytes: returned %d, want %d \"%s\"\n",
               fmt, size, n, wn, want);
    return ok;
}

/* The kernel and glibc agree on fmt with these arguments, at every buffer size. */
static int same(const char *fmt, ...)
{
    va_list ap, a;
    va_start(ap, fmt);
    va_copy(a, ap);
    int wn = vsnprintf(want_buf, sizeof want_buf, fmt, a);
    va_end(a);
    int ok = wn >= 0 && (size_t)wn < sizeof want_buf;
    if (!ok)
        printf("  host vsnprintf(\"%s\") failed: %d\n", fmt, wn);

    /* Full result in a big buffer first, for a readable message. */
    if (ok) {
        char got[sizeof want_buf];
        va_copy(a, ap);
        int n = format_v(got, sizeof got, fmt, a);
        va_end(a);
        if (n != wn || strcmp(got, want_buf) != 0) {
            printf("  format(\"%s\"): got %d \"%s\", want %d \"%s\"\n", fmt, n, got, wn, want_buf);
            ok = 0;
        }
    }
    for (size_t size = 0; ok && size <= (size_t)wn + 2; size++)
        ok = check_size(fmt, ap, size, want_buf, wn);
    va_end(ap);
    return ok;
}

/* The kernel alone produces want for fmt (cases where libc differs or C says UB). */
static int kernel_gives(const char *want, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int wn = (int)strlen(want);
    int ok = 1;
    for (size_t size = 0; ok && size <= (size_t)wn + 2; size++)
        ok = check_size(fmt, ap, size, want, wn);
    va_end(ap);
    return ok;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const int int_values[] = {
    0, 1, -1, 7, -7, 9, 10, -10, 42, -42, 99, 100, 127, 128, 255, 256, 4095, 4096,
    12345, -12345, 999999, 1000000, 0x7fffffff, INT_MAX - 1, INT_MIN, INT_MIN + 1,
    0x12345678, -0x12345678,
};
static const unsigned uint_values[] = {
    0, 1, 7, 9, 10, 15, 16, 255, 256, 0xabcdef, 0x80000000u, 0xdeadbeefu, UINT_MAX,
    UINT_MAX - 1, 1000000000u, 4294967295u,
};
static const long long ll_values[] = {
    0, 1, -1, 42, -42, INT_MAX, INT_MIN, (long long)INT_MAX + 1, (long long)INT_MIN - 1,
    1LL << 32, -(1LL << 32), 1LL << 40, 0x123456789abcdefLL, -0x123456789abcdefLL,
    999999999999999999LL, LLONG_MAX, LLONG_MAX - 1, LLONG_MIN, LLONG_MIN + 1,
};
static const unsigned long long ull_values[] = {
    0, 1, 15, 16, 0xffffffffull, 0x100000000ull, 0xfedcba9876543210ull,
    0x8000000000000000ull, ULLONG_MAX, ULLONG_MAX - 1, 10000000000000000000ull,
};

TEST(int_signed_conversions_match_libc)
{
    static const char *const fmts[] = {
        "%d", "%i", "%1d", "%2d", "%5d", "%-5d", "%05d", "%12d", "%-12d", "%012d",
        "%-012d", "%0-12d", "%011i", "%-1d", "%0d", "%00d", "[%d]", "x=%d;", "%20i",
        "%--8d", "%008d",
    };
    for (size_t f = 0; f < N(fmts); f++)
        for (size_t v = 0; v < N(int_values); v++)
            CHECK(same(fmts[f], int_values[v]));
}

TEST(int_unsigned_conversions_match_libc)
{
    static const char *const fmts[] = {
        "%u", "%x", "%X", "%#x", "%#X", "%5u", "%-5u", "%05u", "%12x", "%-12X", "%012x",
        "%#12x", "%#-12x", "%#012x", "%#012X", "%-#12X", "%0#12x", "%#1x", "%#3x",
        "%#0x", "%08X", "%3u", "%020u", "<%x>",
    };
    for (size_t f = 0; f < N(fmts); f++)
        for (size_t v = 0; v < N(uint_values); v++)
            CHECK(same(fmts[f], uint_values[v]));
}

TEST(negative_int_through_unsigned_conversions)
{
    /* %u and %x of a negative int print its 32-bit two's complement, not 64. */
    static const char *const fmts[] = { "%u", "%x", "%X", "%#x", "%12u" };
    for (size_t f = 0; f < N(fmts); f++)
        for (size_t v = 0; v < N(int_values); v++)
            CHECK(same(fmts[f], (unsigned)int_values[v]));
    char buf[32];
    CHECK_EQ(kfmt(buf, sizeof buf, "%x", -1), 8);
    CHECK(strcmp(buf, "ffffffff") == 0);
}

TEST(long_conversions_match_libc)
{
    static const char *const sfmts[] = {
        "%ld", "%li", "%20ld", "%-20ld", "%020ld", "%-021li", "%1ld", "%30ld",
    };
    static const char *const ufmts[] = {
        "%lu", "%lx", "%lX", "%#lx", "%#lX", "%#018lx", "%-#20lx", "%25lu", "%025lx",
    };
    for (size_t f = 0; f < N(sfmts); f++)
        for (size_t v = 0; v < N(ll_values); v++)
            CHECK(same(sfmts[f], (long)ll_values[v]));
    for (size_t f = 0; f < N(ufmts); f++)
        for (size_t v = 0; v < N(ull_values); v++)
            CHECK(same(ufmts[f], (unsigned long)ull_values[v]));
    CHECK(same("%ld %ld", LONG_MIN, LONG_MAX));
    CHECK(same("%lu %lx", ULONG_MAX, ULONG_MAX));
}

TEST(long_long_conversions_match_libc)
{
    static const char *const sfmts[] = {
        "%lld", "%lli", "%25lld", "%-25lld", "%025lld", "%-025lld", "(%lld)",
    };
    static const char *const ufmts[] = {
        "%llu", "%llx", "%llX", "%#llx", "%#llX", "%#020llx", "%24llu", "%-24llx",
    };
    for (size_t f = 0; f < N(sfmts); f++)
        for (size_t v = 0; v < N(ll_values); v++)
            CHECK(same(sfmts[f], ll_values[v]));
    for (size_t f = 0; f < N(ufmts); f++)
        for (size_t v = 0; v < N(ull_values); v++)
            CHECK(same(ufmts[f], ull_values[v]));
}

TEST(int64_min_and_extremes)
{
    char buf[64];
    CHECK_EQ(format(buf, sizeof buf, "%lld", (long long)INT64_MIN), 20);
    CHECK(strcmp(buf, "-9223372036854775808") == 0);
    CHECK_EQ(format(buf, sizeof buf, "%ld", (long)INT64_MIN), 20);
    CHECK(strcmp(buf, "-9223372036854775808") == 0);
    CHECK_EQ(format(buf, sizeof buf, "%llu", (unsigned long long)UINT64_MAX), 20);
    CHECK(strcmp(buf, "18446744073709551615") == 0);
    CHECK_EQ(format(buf, sizeof buf, "%llx", (unsigned long long)UINT64_MAX), 16);
    CHECK(strcmp(buf, "ffffffffffffffff") == 0);
    CHECK_EQ(format(buf, sizeof buf, "%d", INT_MIN), 11);
    CHECK(strcmp(buf, "-2147483648") == 0);
    CHECK(same("%lld|%lld|%llu", (long long)INT64_MIN, (long long)INT64_MAX,
               (unsigned long long)UINT64_MAX));
    CHECK(same("%025lld", (long long)INT64_MIN));
    CHECK(same("%-25lld|", (long long)INT64_MIN));
}

TEST(zero_values)
{
    char buf[32];
    CHECK_EQ(format(buf, sizeof buf, "%d", 0), 1);
    CHECK(strcmp(buf, "0") == 0);
    CHECK_EQ(format(buf, sizeof buf, "%#x", 0u), 1);         /* no 0x for zero */
    CHECK(strcmp(buf, "0") == 0);
    CHECK_EQ(format(buf, sizeof buf, "%#X", 0u), 1);
    CHECK(strcmp(buf, "0") == 0);
    CHECK(same("%d %i %u %x %X %#x %#X %ld %lld %zu", 0, 0, 0u, 0u, 0u, 0u, 0u, 0L, 0LL, (size_t)0));
    CHECK(same("%5d|%-5d|%05d|%#5x|%#05x|%-#5x", 0, 0, 0, 0u, 0u, 0u));
}

TEST(size_t_conversions_match_libc)
{
    static const size_t values[] = {
        0, 1, 4096, 65535, 0xffffffffu, (size_t)1 << 40, SIZE_MAX, SIZE_MAX / 2,
    };
    static const char *const fmts[] = { "%zu", "%zx", "%zX", "%#zx", "%22zu", "%-22zx", "%022zu" };
    for (size_t f = 0; f < N(fmts); f++)
        for (size_t v = 0; v < N(values); v++)
            CHECK(same(fmts[f], values[v]));
    static const ptrdiff_t svalues[] = { 0, 5, -5, PTRDIFF_MAX, PTRDIFF_MIN, -4096 };
    static const char *const sfmts[] = { "%zd", "%zi", "%25zd", "%-25zd", "%025zd" };
    for (size_t f = 0; f < N(sfmts); f++)
        for (size_t v = 0; v < N(svalues); v++)
            CHECK(same(sfmts[f], svalues[v]));
}

TEST(star_width_matches_libc)
{
    static const int vals[] = { 0, 5, -5, 12345, -12345, INT_MIN, INT_MAX };
    static const char *const fmts[] = { "%*d", "%-*d", "%0*d", "%*u", "%*x", "%#*x", "%0*x", "[%*i]" };
    for (int w = -25; w <= 25; w++)
        for (size_t f = 0; f < N(fmts); f++)
            for (size_t v = 0; v < N(vals); v++)
                CHECK(same(fmts[f], w, vals[v]));
    for (int w = -12; w <= 12; w++) {
        CHECK(same("%*s|", w, "abc"));
        CHECK(same("%-*s|", w, "abc"));
        CHECK(same("%*c|", w, 'z'));
        CHECK(same("%*ld|", w, -77L));
        CHECK(same("%*lld|", w, (long long)INT64_MIN));
        CHECK(same("%*zu|", w, (size_t)99));
        CHECK(same("%*s%*d", w, "q", -w, 3));
    }
}

TEST(negative_star_width_left_justifies)
{
    char buf[32];
    CHECK_EQ(format(buf, sizeof buf, "[%*d]", -6, 42), 8);
    CHECK(strcmp(buf, "[42    ]") == 0);
    CHECK_EQ(format(buf, sizeof buf, "[%0*d]", -6, 42), 8);  /* '0' loses to the implied '-' */
    CHECK(strcmp(buf, "[42    ]") == 0);
    CHECK_EQ(format(buf, sizeof buf, "[%*s]", -4, "ab"), 6);
    CHECK(strcmp(buf, "[ab  ]") == 0);
}

static const char *const strings[] = {
    "", "a", "ab", "hello", "hello, world", "with\ttab and\nnewline",
    "0123456789012345678901234567890123456789", "\x80\xff high bytes",
};

TEST(string_conversions_match_libc)
{
    static const char *const fmts[] = {
        "%s", "%1s", "%10s", "%-10s", "%.0s", "%.1s", "%.3s", "%.10s", "%.100s",
        "%10.3s", "%-10.3s", "%3.10s", "%-3.10s", "%50s", "%-50s", "<%s>", "%.s",
        "%-.2s|", "%0.5s",
    };
    for (size_t f = 0; f < N(fmts); f++)
        for (size_t v = 0; v < N(strings); v++)
            CHECK(same(fmts[f], strings[v]));
}

TEST(star_precision_for_strings)
{
    for (int p = -3; p <= 15; p++)
        for (size_t v = 0; v < N(strings); v++) {
            CHECK(same("%.*s|", p, strings[v]));
            CHECK(same("%8.*s|", p, strings[v]));
            CHECK(same("%-8.*s|", p, strings[v]));
            CHECK(same("%*.*s|", p - 6, p, strings[v]));
        }
    char buf[16];
    CHECK_EQ(format(buf, sizeof buf, "%.*s", 3, "abcdef"), 3);
    CHECK(strcmp(buf, "abc") == 0);
    /* The precision bounds the output: an unterminated array prints its prefix. */
    static const char unterminated[4] = { 'w', 'x', 'y', 'z' };
    CHECK_EQ(format(buf, sizeof buf, "%.3s|%.2s", unterminated, unterminated), 6);
    CHECK(strcmp(buf, "wxy|wx") == 0);
    /* Exactly the whole array: not one byte past it (ASan watches). */
    CHECK_EQ(format(buf, sizeof buf, "%.4s", unterminated), 4);
    CHECK(strcmp(buf, "wxyz") == 0);
}

TEST(huge_widths_are_clamped_not_overflowed)
{
    static char big[8192];
    /* Through variables, so the compiler's own format checker stays out of it. */
    const char *volatile star = "%*d", *volatile wide = "%99999999999d";
    const char *volatile prec = "%.99999999999s", *volatile starprec = "%.*s";
    /* INT_MIN as a '*' width: left-justified, clamped to 4096. */
    CHECK_EQ(format(big, sizeof big, star, -2147483647 - 1, 1), 4096);
    CHECK_EQ(big[0], '1');
    CHECK_EQ(format(big, sizeof big, wide, 7), 4096);
    CHECK_EQ(big[4095], '7');
    CHECK_EQ(format(big, sizeof big, prec, "abc"), 3);
    CHECK_EQ(format(big, sizeof big, starprec, -1, "abc"), 3);  /* negative: no precision */
}

TEST(null_string_prints_null)
{
    const char *null = NULL;
    CHECK(same("%s", null));
    CHECK(same("[%10s]", null));
    CHECK(same("[%-10s]", null));
    CHECK(same("[%3s]", null));
    CHECK(same("%s and %s", null, "x"));
    CHECK(kernel_gives("(null)", "%s", null));
    CHECK(kernel_gives("  (null)", "%8s", null));
}

TEST(char_conversions_match_libc)
{
    static const int chars[] = { 'a', 'Z', ' ', '~', '%', '0', '\n', 0x7f, 0x80, 0xe9, 0xff };
    static const char *const fmts[] = { "%c", "%1c", "%5c", "%-5c", "[%c]", "%c%c", "%3c|%-3c" };
    for (size_t f = 0; f < N(fmts); f++)
        for (size_t v = 0; v < N(chars); v++)
            CHECK(same(fmts[f], chars[v], chars[N(chars) - 1 - v]));
    /* A NUL character is printed like any other. */
    char nul[8];
    CHECK_EQ(format(nul, sizeof nul, "[%c]", 0), 3);
    CHECK(nul[0] == '[' && nul[1] == 0 && nul[2] == ']' && nul[3] == 0);
    CHECK(same("[%3c]", 0));
    /* %c takes an int and prints its low byte. */
    CHECK(same("%c", 0x141));
    CHECK(kernel_gives("A", "%c", 0x141));
}

TEST(pointer_conversions_match_libc)
{
    int local;
    void *ptrs[] = {
        (void *)1, (void *)0xf, (void *)0x1000, (void *)0xdeadbeef, &local, (void *)ptrs,
        (void *)(uintptr_t)0xffff800000000000ull, (void *)UINTPTR_MAX,
    };
    static const char *const fmts[] = { "%p", "%20p", "%-20p", "%1p", "[%p]", "%25p|%-25p" };
    for (size_t f = 0; f < N(fmts); f++)
        for (size_t v = 0; v < N(ptrs); v++)
            CHECK(same(fmts[f], ptrs[v], ptrs[N(ptrs) - 1 - v]));
    CHECK(kernel_gives("0xffffffffffffffff", "%p", (void *)UINTPTR_MAX));
    CHECK(kernel_gives("0x1000", "%p", (void *)0x1000));
}

TEST(null_pointer_prints_0x0)
{
    /* glibc prints "(nil)"; the kernel always prints 0x and hex digits. */
    CHECK(kernel_gives("0x0", "%p", (void *)NULL));
    CHECK(kernel_gives("      0x0", "%9p", (void *)NULL));
    CHECK(kernel_gives("0x0      |", "%-9p|", (void *)NULL));
}

TEST(percent_and_plain_text)
{
    CHECK(same("%%"));
    CHECK(same("100%%"));
    CHECK(same("%%d%%s%%%%"));
    CHECK(same("plain text without conversions"));
    CHECK(same(""));
    CHECK(same("%d%%%s", 5, "x"));
    CHECK(kernel_gives("%", "%%"));
    CHECK(kernel_gives("", ""));
}

TEST(mixed_conversions_match_libc)
{
    CHECK(same("%s=%d (%#x) %c%c %lu %lld %zu %p|%-6s|%06d|%%",
               "key", -17, 255u, 'o', 'k', 123456789UL, -9876543210LL, (size_t)77,
               (void *)0xabc, "ab", -5));
    CHECK(same("%d %d %d %d %d %d %d %d %d %d", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
    CHECK(same("%lld %s %lld %s", LLONG_MIN, "mid", LLONG_MAX, "end"));
    CHECK(same("cpu%u: apic %#x lapic at %p, %zu KiB free", 3u, 0x1fu, (void *)0xfee00000,
               (size_t)65536));
    CHECK(same("[%*d] [%-*s] [%.*s]", 6, 42, 8, "left", 2, "cut"));
}

TEST(unknown_conversions_are_echoed)
{
    CHECK(kernel_gives("%q", "%q"));
    CHECK(kernel_gives("a%qb", "a%qb"));
    CHECK(kernel_gives("%y%w", "%y%w"));
    CHECK(kernel_gives("%q 7", "%q %d", 7));    /* takes no argument */
    CHECK(kernel_gives("%h5", "%h%d", 5));      /* h is not supported */
    CHECK(kernel_gives("%o", "%o"));
    CHECK(kernel_gives("%f", "%f"));
}

TEST(format_ending_inside_a_conversion)
{
    /* A lone '%' (possibly with flags, width or length) at the end stops output. */
    CHECK(kernel_gives("abc", "abc%"));
    CHECK(kernel_gives("abc", "abc%-"));
    CHECK(kernel_gives("abc", "abc%05"));
    CHECK(kernel_gives("abc", "abc%l"));
    CHECK(kernel_gives("abc", "abc%ll"));
    CHECK(kernel_gives("abc", "abc%z"));
    CHECK(kernel_gives("abc", "abc%5."));
    CHECK(kernel_gives("", "%"));
}

TEST(long_output_truncates)
{
    /* Longer than any buffer used here: return the full length. */
    CHECK(same("%1000d", 7));
    CHECK(same("%-700s|", "left"));
    CHECK(same("%*s", 300, ""));
    char small[8];
    memset(small, CANARY, sizeof small);
    CHECK_EQ(format(small, 4, "%d", 1234567), 7);
    CHECK(strcmp(small, "123") == 0);
    CHECK_EQ((unsigned char)small[4], CANARY);
}

TEST(size_zero_and_null_buffer)
{
    char c = (char)CANARY;
    CHECK_EQ(format(NULL, 0, "%s %d", "hello", 12345), 11);
    CHECK_EQ(format(&c, 0, "%s %d", "hello", 12345), 11);
    CHECK_EQ((unsigned char)c, CANARY);
    CHECK_EQ(format(&c, 1, "%s", "hello"), 5);
    CHECK_EQ(c, '\0');
    CHECK_EQ(kfmt(NULL, 0, ""), 0);
}

TEST(exact_fit_and_one_short)
{
    char buf[8];
    memset(buf, CANARY, sizeof buf);
    CHECK_EQ(format(buf, 6, "%s", "hello"), 5);          /* exactly fits */
    CHECK(strcmp(buf, "hello") == 0);
    CHECK_EQ((unsigned char)buf[6], CANARY);
    memset(buf, CANARY, sizeof buf);
    CHECK_EQ(format(buf, 5, "%s", "hello"), 5);          /* one short */
    CHECK(strcmp(buf, "hell") == 0);
    CHECK_EQ((unsigned char)buf[5], CANARY);
    memset(buf, CANARY, sizeof buf);
    CHECK_EQ(format(buf, 3, "%5d", -1), 5);              /* padding truncated too */
    CHECK(strcmp(buf, "  ") == 0);
    CHECK_EQ((unsigned char)buf[3], CANARY);
}

static int via_format_v(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = format_v(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

TEST(format_v_equals_format)
{
    char a[64], b[64];
    int na = format(a, sizeof a, "%s-%d-%#llx-%c", "v", -3, 0xabcULL, 'q');
    int nb = via_format_v(b, sizeof b, "%s-%d-%#llx-%c", "v", -3, 0xabcULL, 'q');
    CHECK_EQ(na, nb);
    CHECK_EQ(na, 12);
    CHECK(strcmp(a, b) == 0);
    CHECK(strcmp(a, "v--3-0xabc-q") == 0);
}
