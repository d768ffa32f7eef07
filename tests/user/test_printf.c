/* printf to the kernel log: long output arrives whole, split into pieces, never cut. */
#include "utest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LONG_LEN 9000

/* Reads the kernel log ring from the start into one string; NULL without memory. */
static char *read_log(size_t *len)
{
    size_t cap = 128 * 1024, n = 0;
    char *all = malloc(cap + 1);
    if (!all)
        return NULL;
    const char *buf = (const char *)PITH_IPC_BUFFER_ADDR;
    struct pith_msg m = { .w = { 0 } };
    uint64_t pos = 0;
    for (;;) {
        m.w[0] = pos;
        if (pith_invoke(PITH_SLOT_LOG, PITH_LOG_READ, &m) || m.w[0] == 0 || n + m.w[0] > cap)
            break;
        memcpy(all + n, buf, m.w[0]);
        n += m.w[0];
        pos = m.w[1];
    }
    all[n] = 0;
    *len = n;
    return all;
}

UTEST(printf_long_line_arrives_whole)
{
    char *s = malloc(LONG_LEN + 1);
    UT_ASSERT(s);
    for (int i = 0; i < LONG_LEN; i++)
        s[i] = (char)('a' + i % 26);
    s[LONG_LEN] = 0;
    unsigned tag = (unsigned)(pith_rdtsc() & 0xffffff);
    int n = printf("long-begin-%06x:%s:long-end-%06x\n", tag, s, tag);
    UT_EQ(n, LONG_LEN + strlen("long-begin-000000:") + strlen(":long-end-000000\n"));
    size_t len;
    char *log = read_log(&len);
    UT_ASSERT(log);
    char begin[32];
    snprintf(begin, sizeof begin, "long-begin-%06x:", tag);
    char *at = strstr(log, begin);
    UT_ASSERT(at);
    at += strlen(begin);
    /* The whole text, then the end marker: nothing cut, nothing lost between pieces. */
    UT_EQ(memcmp(at, s, LONG_LEN), 0);
    char end[32];
    snprintf(end, sizeof end, ":long-end-%06x\n", tag);
    UT_EQ(memcmp(at + LONG_LEN, end, strlen(end)), 0);
    free(log);
    free(s);
}
