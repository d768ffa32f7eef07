// uses: kernel/lib/string.c
/*
 * kernel/lib/string.c, built under PITH_HOST_TEST as k_memcpy, k_memmove,
 * ..., compared with the host C library.  Comparisons are checked for
 * their sign only.
 */
#define _POSIX_C_SOURCE 200809L         /* strnlen */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"

void *k_memcpy(void *restrict dst, const void *restrict src, size_t n);
void *k_memmove(void *dst, const void *src, size_t n);
void *k_memset(void *dst, int c, size_t n);
int k_memcmp(const void *a, const void *b, size_t n);
size_t k_strlen(const char *s);
size_t k_strnlen(const char *s, size_t max);
int k_strcmp(const char *a, const char *b);
int k_strncmp(const char *a, const char *b, size_t n);
char *k_strstr(const char *haystack, const char *needle);

static int sign(int x)
{
    return (x > 0) - (x < 0);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void fill_random(unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)rnd();
}

/* ---- memcpy / memset --------------------------------------------------- */

TEST(memcpy_copies_exactly)
{
    enum { MAX = 300, PAD = 16 };
    static unsigned char src[MAX + 2 * PAD], got[MAX + 2 * PAD], want[MAX + 2 * PAD];
    for (size_t n = 0; n <= MAX; n++)
        for (size_t doff = 0; doff < 4; doff++) {
            size_t soff = (n + doff) % 8;
            fill_random(src, sizeof src);
            fill_random(got, sizeof got);
            memcpy(want, got, sizeof got);
            void *r = k_memcpy(got + PAD + doff, src + soff, n);
            memcpy(want + PAD + doff, src + soff, n);
            CHECK(r == got + PAD + doff);
            CHECK(memcmp(got, want, sizeof got) == 0);  /* and nothing around it */
        }
}

TEST(memcpy_heap_exact)
{
    /* Exact-size heap buffers: ASan catches a byte read or written past n. */
    for (size_t n = 1; n < 100; n++) {
        unsigned char *s = malloc(n), *d = malloc(n);
        CHECK(s && d);
        fill_random(s, n);
        CHECK(k_memcpy(d, s, n) == d);
        CHECK(memcmp(d, s, n) == 0);
        free(s);
        free(d);
    }
    CHECK(k_memcpy(NULL, NULL, 0) == NULL);
}

TEST(memset_fills_exactly)
{
    enum { MAX = 200, PAD = 16 };
    static unsigned char got[MAX + 2 * PAD], want[MAX + 2 * PAD];
    static const int values[] = { 0, 1, 0x7f, 0x80, 0xff, -1, 0x100, 0x1ab, -128, 0x12345678 };
    for (size_t n = 0; n <= MAX; n += (n < 40 ? 1 : 7))
        for (size_t v = 0; v < sizeof values / sizeof values[0]; v++)
            for (size_t off = 0; off < 3; off++) {
                fill_random(got, sizeof got);
                memcpy(want, got, sizeof got);
                CHECK(k_memset(got + PAD + off, values[v], n) == got + PAD + off);
                memset(want + PAD + off, values[v], n);
                CHECK(memcmp(got, want, sizeof got) == 0);
            }
}

/* ---- memmove ----------------------------------------------------------- */

TEST(memmove_overlapping_both_directions)
{
    enum { LEN = 128 };
    static unsigned char got[LEN], want[LEN];
    for (size_t n = 0; n <= 64; n++)
        for (size_t src = 0; src + n <= LEN; src += 3)
            for (size_t dst = 0; dst + n <= LEN; dst += 5) {
                fill_random(got, LEN);
                memcpy(want, got, LEN);
                CHECK(k_memmove(got + dst, got + src, n) == got + dst);
                memmove(want + dst, want + src, n);
                if (memcmp(got, want, LEN) != 0) {
                    printf("  memmove(+%zu, +%zu, %zu) differs\n", dst, src, n);
                    CHECK(0);
                }
            }
}

TEST(memmove_classic_shifts)
{
    char b[32] = "abcdefghij";
    k_memmove(b + 1, b, 9);             /* forward overlap: dst above src */
    CHECK(memcmp(b, "aabcdefghi", 10) == 0);
    memcpy(b, "abcdefghij", 11);
    k_memmove(b, b + 1, 9);             /* backward overlap: dst below src */
    CHECK(memcmp(b, "bcdefghijj", 10) == 0);
    memcpy(b, "abcdefghij", 11);
    k_memmove(b, b, 10);                /* onto itself */
    CHECK(memcmp(b, "abcdefghij", 10) == 0);
    k_memmove(b + 5, b, 0);
    CHECK(memcmp(b, "abcdefghij", 10) == 0);
    memcpy(b, "abcdefghij", 11);
    k_memmove(b + 3, b, 7);
    CHECK(memcmp(b, "abcabcdefg", 10) == 0);
    memcpy(b, "abcdefghij", 11);
    k_memmove(b, b + 3, 7);
    CHECK(memcmp(b, "defghijhij", 10) == 0);
}

TEST(memmove_disjoint_heap_exact)
{
    for (size_t n = 1; n < 80; n++) {
        unsigned char *s = malloc(n), *d = malloc(n);
        CHECK(s && d);
        fill_random(s, n);
        CHECK(k_memmove(d, s, n) == d);
        CHECK(memcmp(d, s, n) == 0);
        CHECK(k_memmove(s, d, n) == s);
        CHECK(memcmp(d, s, n) == 0);
        free(s);
        free(d);
    }
}

/* ---- memcmp ------------------------------------------------------------ */

TEST(memcmp_sign_matches_libc)
{
    static const unsigned char bytes[] = { 0, 1, 0x41, 0x7f, 0x80, 0x81, 0xfe, 0xff };
    enum { NB = sizeof bytes };
    unsigned char a[8], b[8];
    /* Every pair of interesting bytes at every position of an 8-byte block. */
    for (int pos = 0; pos < 8; pos++)
        for (int x = 0; x < NB; x++)
            for (int y = 0; y < NB; y++) {
                memset(a, 0x55, sizeof a);
                memset(b, 0x55, sizeof b);
                a[pos] = bytes[x];
                b[pos] = bytes[y];
                for (size_t n = 0; n <= 8; n++)
                    CHECK_EQ(sign(k_memcmp(a, b, n)), sign(memcmp(a, b, n)));
            }
    /* Bytes >= 0x80 compare as unsigned: above everything below 0x80. */
    CHECK(k_memcmp("\x80", "\x7f", 1) > 0);
    CHECK(k_memcmp("\xff", "\x00", 1) > 0);
    CHECK(k_memcmp("\x01", "\xff", 1) < 0);
    CHECK_EQ(k_memcmp("abc", "abd", 2), 0);
    CHECK_EQ(k_memcmp("x", "y", 0), 0);
    /* The first difference decides, not a later one. */
    CHECK(k_memcmp("\x01\xff", "\x02\x00", 2) < 0);
    CHECK(k_memcmp("a\0b", "a\0a", 3) > 0);     /* NUL is not the end for mem* */
}

TEST(memcmp_random)
{
    unsigned char a[64], b[64];
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = rnd() % 65;
        fill_random(a, sizeof a);
        memcpy(b, a, sizeof b);
        if (n && rnd() % 4)
            b[rnd() % n] = (unsigned char)rnd();
        CHECK_EQ(sign(k_memcmp(a, b, n)), sign(memcmp(a, b, n)));
    }
}

/* ---- strlen / strnlen -------------------------------------------------- */

TEST(strlen_and_strnlen)
{
    static const char *const strs[] = {
        "", "a", "ab", "hello, world", "\x80\xff", "with\nnewline", "0123456789012345678901234567890123456789",
    };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        CHECK_EQ(k_strlen(strs[i]), strlen(strs[i]));
        for (size_t max = 0; max < 45; max++)
            CHECK_EQ(k_strnlen(strs[i], max), strnlen(strs[i], max));
        CHECK_EQ(k_strnlen(strs[i], SIZE_MAX), strlen(strs[i]));
    }
    CHECK_EQ(k_strlen("abc\0def"), 3);
}

TEST(strnlen_stops_at_max)
{
    /* No terminator within the buffer: strnlen must not look past max bytes. */
    for (size_t n = 0; n < 40; n++) {
        char *p = malloc(n ? n : 1);
        CHECK(p != NULL);
        memset(p, 'x', n ? n : 1);
        CHECK_EQ(k_strnlen(p, n), n);
        if (n)
            CHECK_EQ(k_strnlen(p, n - 1), n - 1);
        free(p);
    }
}

TEST(strlen_heap_exact)
{
    for (size_t n = 1; n < 60; n++) {
        char *p = malloc(n);
        CHECK(p != NULL);
        memset(p, 'a' + (int)(n % 26), n - 1);
        p[n - 1] = '\0';
        CHECK_EQ(k_strlen(p), n - 1);
        CHECK_EQ(k_strnlen(p, n + 100), n - 1);
        free(p);
    }
}

/* ---- strcmp / strncmp -------------------------------------------------- */

static const char *const cmp_strs[] = {
    "", "a", "b", "A", "ab", "abc", "abd", "abcd", "abc\x80", "abc\xff", "abc\x7f",
    "\x80", "\xff", "\x7f", "\x01", "hello", "hellO", "hello world", "\xe9t\xe9",
    "\xc3\xa9", "zz", "a\x80", "a\x01",
};
#define NSTR (sizeof cmp_strs / sizeof cmp_strs[0])

TEST(strcmp_sign_matches_libc)
{
    for (size_t i = 0; i < NSTR; i++)
        for (size_t j = 0; j < NSTR; j++) {
            int k = sign(k_strcmp(cmp_strs[i], cmp_strs[j]));
            int l = sign(strcmp(cmp_strs[i], cmp_strs[j]));
            if (k != l) {
                printf("  strcmp(#%zu, #%zu): %d, libc %d\n", i, j, k, l);
                CHECK(0);
            }
        }
    CHECK(k_strcmp("\x80", "a") > 0);   /* unsigned: 0x80 above 'a' */
    CHECK(k_strcmp("abc", "abc\x80") < 0);
    CHECK(k_strcmp("abc\xff", "abc") > 0);
    CHECK_EQ(k_strcmp("", ""), 0);
}

TEST(strncmp_sign_matches_libc)
{
    for (size_t i = 0; i < NSTR; i++)
        for (size_t j = 0; j < NSTR; j++)
            for (size_t n = 0; n < 14; n++) {
                int k = sign(k_strncmp(cmp_strs[i], cmp_strs[j], n));
                int l = sign(strncmp(cmp_strs[i], cmp_strs[j], n));
                if (k != l) {
                    printf("  strncmp(#%zu, #%zu, %zu): %d, libc %d\n", i, j, n, k, l);
                    CHECK(0);
                }
            }
    CHECK_EQ(k_strncmp("abcX", "abcY", 3), 0);
    CHECK(k_strncmp("abcX", "abcY", 4) < 0);
    CHECK_EQ(k_strncmp("abc", "abc", SIZE_MAX), 0);
    CHECK_EQ(k_strncmp("a\0x", "a\0y", 3), 0);  /* stops at the terminator */
    CHECK(k_strncmp("\xff", "\x01", 1) > 0);
}

TEST(strncmp_bounded_read)
{
    /* Unterminated exact-size buffers: n bounds the read. */
    char *a = malloc(4), *b = malloc(4);
    CHECK(a && b);
    memcpy(a, "abcd", 4);
    memcpy(b, "abce", 4);
    CHECK_EQ(k_strncmp(a, b, 3), 0);
    CHECK(k_strncmp(a, b, 4) < 0);
    memcpy(b, "abcd", 4);
    CHECK_EQ(k_strncmp(a, b, 4), 0);
    free(a);
    free(b);
}

TEST(strcmp_random)
{
    char a[24], b[24];
    static const char alphabet[] = "ab\x7f\x80\xff";
    for (int iter = 0; iter < 20000; iter++) {
        size_t la = rnd() % 8, lb = rnd() % 8;
        for (size_t i = 0; i < la; i++)
            a[i] = alphabet[rnd() % 5];
        for (size_t i = 0; i < lb; i++)
            b[i] = alphabet[rnd() % 5];
        a[la] = b[lb] = '\0';
        CHECK_EQ(sign(k_strcmp(a, b)), sign(strcmp(a, b)));
        size_t n = rnd() % 10;
        CHECK_EQ(sign(k_strncmp(a, b, n)), sign(strncmp(a, b, n)));
    }
}

/* ---- strstr ------------------------------------------------------------ */

TEST(strstr_matches_libc)
{
    static const char *const hay[] = {
        "", "a", "aa", "aaa", "ab", "abc", "abcabc", "aababcabcd", "hello, world",
        "mississippi", "\x80\xff\x80", "xyz", "abababab",
    };
    static const char *const needles[] = {
        "", "a", "b", "c", "ab", "abc", "abcd", "aab", "ss", "issip", "ippi", "pp",
        "world", "hello, world", "hello, world!", "\xff", "\x80\x80", "\xff\x80", "z", "bab",
        "mississippi", "abababab", "ababababa",
    };
    for (size_t h = 0; h < sizeof hay / sizeof hay[0]; h++)
        for (size_t n = 0; n < sizeof needles / sizeof needles[0]; n++) {
            char *k = k_strstr(hay[h], needles[n]);
            char *l = strstr(hay[h], needles[n]);
            if (k != l) {
                printf("  strstr(\"%s\", \"%s\"): offset %td, libc %td\n", hay[h], needles[n],
                       k ? k - hay[h] : -1, l ? l - hay[h] : -1);
                CHECK(0);
            }
        }
}

TEST(strstr_empty_needle)
{
    const char *h = "abc";
    CHECK(k_strstr(h, "") == h);
    const char *e = "";
    CHECK(k_strstr(e, "") == e);
    CHECK(k_strstr(e, "a") == NULL);
}

TEST(strstr_first_and_last_positions)
{
    const char *h = "needle in a haystack with a needle";
    CHECK(k_strstr(h, "needle") == h);
    CHECK(k_strstr(h + 1, "needle") == h + 28);
    CHECK(k_strstr(h, "le") == h + 4);
    CHECK(k_strstr(h, "k") == h + 19);
    CHECK(k_strstr(h, "e a") == NULL);
    CHECK(k_strstr(h, "needle!") == NULL);
    CHECK(k_strstr(h, "dle") == h + 3);
    CHECK(k_strstr("x", "xx") == NULL);
}

TEST(strstr_random)
{
    char hay[40], nee[6];
    for (int iter = 0; iter < 20000; iter++) {
        size_t lh = rnd() % 40, ln = rnd() % 6;
        for (size_t i = 0; i < lh; i++)
            hay[i] = "ab\x80"[rnd() % 3];
        for (size_t i = 0; i < ln; i++)
            nee[i] = "ab\x80"[rnd() % 3];
        hay[lh] = nee[ln] = '\0';
        CHECK(k_strstr(hay, nee) == strstr(hay, nee));
    }
}

TEST(strstr_heap_exact)
{
    /* Exact-size heap strings: no read past either terminator. */
    for (size_t lh = 1; lh < 20; lh++)
        for (size_t ln = 1; ln < 8; ln++) {
            char *h = malloc(lh), *n = malloc(ln);
            CHECK(h && n);
            memset(h, 'a', lh - 1);
            h[lh - 1] = '\0';
            memset(n, 'a', ln - 1);
            n[ln - 1] = '\0';
            if (ln > 1)
                n[ln - 2] = 'b';
            char *k = k_strstr(h, n);
            char *l = strstr(h, n);
            free(h);
            free(n);
            CHECK(k == l);
        }
}
