/* Functions linked from musl: formatting, conversion, sorting, classes, maths, errno. */
#include "utest.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

UTEST(snprintf_formats_and_reports_length)
{
    char buf[64];
    UT_EQ(snprintf(buf, sizeof buf, "%d|%5s|%-4x|%.3f|%e", -42, "ab", 255, 3.14159, 1e10), 33);
    UT_EQ(strcmp(buf, "-42|   ab|ff  |3.142|1.000000e+10"), 0);
    UT_EQ(snprintf(buf, 4, "%s", "abcdef"), 6);          /* truncated, NUL-terminated, length told */
    UT_EQ(strcmp(buf, "abc"), 0);
    UT_EQ(snprintf(NULL, 0, "%lu", ULONG_MAX), 20);
}

static int by_value(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

UTEST(qsort_and_bsearch)
{
    static int v[1000];
    unsigned seed = 12345;
    for (int i = 0; i < 1000; i++) {
        seed = seed * 1103515245 + 12345;
        v[i] = (int)(seed >> 8) % 5000 - 2500;
    }
    qsort(v, 1000, sizeof v[0], by_value);
    for (int i = 1; i < 1000; i++)
        UT_ASSERT(v[i - 1] <= v[i]);
    int key = v[617];
    int *found = bsearch(&key, v, 1000, sizeof v[0], by_value);
    UT_ASSERT(found && *found == key);
}

UTEST(strtol_family_and_errno)
{
    char *end;
    UT_EQ(strtol("  -0x1f rest", &end, 0), -31);
    UT_EQ(strcmp(end, " rest"), 0);
    UT_EQ(strtoul("777", NULL, 8), 511);
    UT_EQ(strtoll("-9223372036854775808", NULL, 10), LLONG_MIN);
    errno = 0;
    UT_EQ(strtol("99999999999999999999", NULL, 10), LONG_MAX);
    UT_EQ(errno, ERANGE);
    UT_EQ(strcmp(strerror(ERANGE), "Result not representable"), 0);
    UT_EQ(atoi("123abc"), 123);
    UT_EQ((long)(strtod("2.5e3", NULL)), 2500);
}

UTEST(ctype_string_and_math)
{
    UT_ASSERT(isalpha('q') && !isalpha('1') && isdigit('7') && isspace('\t') && isxdigit('F'));
    UT_EQ(toupper('a'), 'A');
    UT_EQ(tolower('Z'), 'z');
    char s[32] = "hello";
    strcat(s, ", world");
    UT_EQ(strlen(s), 12);
    UT_EQ(strcmp(strchr(s, ','), ", world"), 0);
    UT_EQ(strncasecmp("HeLLo", "hello", 5), 0);
    UT_ASSERT(strstr(s, "wor") == s + 7);
    char *d = strdup(s);
    UT_ASSERT(d && strcmp(d, s) == 0);
    free(d);
    UT_EQ((long)sqrt(144.0), 12);
    UT_EQ((long)floor(-1.5), -2);
    UT_EQ((long)pow(2.0, 10.0), 1024);
    UT_EQ((long)(fmod(10.0, 4.0) * 10), 20);
}
