/*
 * mremap: shrinking in place, growing in place into free pages, growing
 * by moving (MREMAP_MAYMOVE) with the contents kept and the new part
 * zeroed, moving to a chosen address (MREMAP_FIXED); and the errors
 * ENOMEM (no room to grow in place), EFAULT (nothing mapped there),
 * EINVAL (unaligned, bad flags, FIXED without MAYMOVE, overlapping).
 */
#define _GNU_SOURCE
#include "common.h"

#include <stdint.h>
#include <sys/mman.h>

#define PG 4096

static int holds(const unsigned char *m, size_t from, size_t to, int v)
{
    for (size_t i = from; i < to; i++)
        if (m[i] != v)
            return 0;
    return 1;
}

int main(void)
{
    /* Three pages, the last given back: the second may grow into the hole. */
    unsigned char *a = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(a, 0x5a, 2 * PG);
    munmap(a + 2 * PG, PG);
    unsigned char *b = mremap(a, 2 * PG, 3 * PG, 0);
    printf("grown in place: %s, kept %s, new page zero %s\n", b == a ? "yes" : "no",
           holds(a, 0, 2 * PG, 0x5a) ? "yes" : "no", holds(a, 2 * PG, 3 * PG, 0) ? "yes" : "no");
    b = mremap(a, 3 * PG, PG, 0);
    printf("shrunk in place: %s, kept %s\n", b == a ? "yes" : "no", holds(a, 0, PG, 0x5a) ? "yes" : "no");

    /* Blocked above: in place fails, moving works. */
    unsigned char *c = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (int i = 0; i < 4 * PG; i++)
        c[i] = (unsigned char)(i * 7);
    errno = 0;
    void *r = mremap(c, PG, 2 * PG, 0);
    printf("grow into the mapping's own next page: %s\n", r == MAP_FAILED ? errname(errno) : "ok");
    /* Its first page, grown: the mapping's own second page is in the way, so it moves. */
    unsigned char *d = mremap(c, PG, 64 * PG, MREMAP_MAYMOVE);
    int same = d != MAP_FAILED;
    for (int i = 0; same && i < PG; i++)
        same = d[i] == (unsigned char)(i * 7);
    printf("moved: %s, kept %s, the rest zero %s\n", d != MAP_FAILED && d != c ? "yes" : "no",
           same ? "yes" : "no", d != MAP_FAILED && holds(d, PG, 64 * PG, 0) ? "yes" : "no");
    d[64 * PG - 1] = 1;
    printf("the old place unmapped: %s\n", mremap(c, PG, PG, 0) == MAP_FAILED && errno == EFAULT ? "yes" : "no");

    /* To a chosen address: whatever was there goes. */
    unsigned char *e = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(e, 0xee, 2 * PG);
    unsigned char *f = mremap(c + PG, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, e);
    printf("moved to the chosen address: %s, kept %s\n", f == e ? "yes" : "no",
           f == e && f[PG + 1] == (unsigned char)((2 * PG + 1) * 7) ? "yes" : "no");

    CHECK("mremap of nothing mapped", (long)mremap(c, PG, PG, 0) == -1 ? -1 : 0);
    CHECK("mremap unaligned", (long)mremap(a + 1, PG, PG, 0) == -1 ? -1 : 0);
    CHECK("mremap with bad flags", (long)mremap(a, PG, PG, 64) == -1 ? -1 : 0);
    CHECK("mremap to size 0", (long)mremap(a, PG, 0, MREMAP_MAYMOVE) == -1 ? -1 : 0);
    CHECK("MREMAP_FIXED without MAYMOVE", (long)mremap(a, PG, PG, MREMAP_FIXED, e) == -1 ? -1 : 0);
    CHECK("MREMAP_FIXED onto itself", (long)mremap(e, PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED, e) == -1 ? -1 : 0);
    return 0;
}
