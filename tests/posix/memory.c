/* The heap (brk), anonymous and file-backed mmap, munmap, malloc: 1 MiB written and read back each. */
#define _GNU_SOURCE
#include "common.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MIB (1024 * 1024)

static int fill_and_check(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(i * 7 + seed + (i >> 12));
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(i * 7 + seed + (i >> 12)))
            return 0;
    return 1;
}

int main(void)
{
    /* brk directly: musl's brk() and sbrk(n) refuse by design. */
    uintptr_t start = (uintptr_t)syscall(SYS_brk, 0);
    printf("brk starts page-aligned: %s\n", start % 4096 == 0 ? "yes" : "no");
    uintptr_t grown = (uintptr_t)syscall(SYS_brk, start + MIB);
    printf("brk grows by 1 MiB: %s\n", grown == start + MIB ? "yes" : "no");
    int zero = 1;
    for (size_t i = 0; i < MIB; i++)
        zero &= ((unsigned char *)start)[i] == 0;
    printf("new heap is zeroed: %s\n", zero ? "yes" : "no");
    printf("heap 1 MiB written and read back: %s\n", fill_and_check((unsigned char *)start, MIB, 1) ? "yes" : "no");
    printf("brk shrinks: %s\n", (uintptr_t)syscall(SYS_brk, start + 4096) == start + 4096 ? "yes" : "no");
    printf("brk below its start is refused: %s\n",
           (uintptr_t)syscall(SYS_brk, start - 4096) == start + 4096 ? "yes" : "no");

    unsigned char *m = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("mmap 1 MiB: %s\n", m != MAP_FAILED ? "ok" : errname(errno));
    zero = 1;
    for (size_t i = 0; m != MAP_FAILED && i < MIB; i++)
        zero &= m[i] == 0;
    printf("mmap is zeroed: %s\n", zero ? "yes" : "no");
    printf("mmap 1 MiB written and read back: %s\n", fill_and_check(m, MIB, 2) ? "yes" : "no");
    unsigned char *m2 = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("a second mapping elsewhere: %s\n", m2 != MAP_FAILED && (m2 + 8192 <= m || m2 >= m + MIB) ? "yes" : "no");
    CHECK("mprotect read-only", mprotect(m2, 8192, PROT_READ));
    CHECK("munmap part", munmap(m + MIB / 2, MIB / 4));
    printf("the rest still holds its bytes: %s\n", m[0] == 2 && m[MIB - 1] == (unsigned char)((MIB - 1) * 7 + 2 + ((MIB - 1) >> 12)) ? "yes" : "no");
    CHECK("munmap", munmap(m, MIB));
    CHECK("munmap unaligned", munmap(m + 1, 4096));
    CHECK("mmap length 0", (long)mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    CHECK("mmap of a bad fd", (long)mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 77, 0));

    int fd = open("memfile", O_CREAT | O_RDWR | O_TRUNC, 0644);
    for (int i = 0; i < 3000; i++)
        dprintf(fd, "%04d\n", i);
    unsigned char *f = mmap(NULL, 15000, PROT_READ, MAP_PRIVATE, fd, 0);
    printf("file mmap: %s\n", f != MAP_FAILED ? "ok" : errname(errno));
    printf("file mmap bytes: %.4s %.4s %.4s\n", f, f + 5 * 1234, f + 5 * 2999);
    printf("file mmap past the end is zero: %s\n", f[15000] == 0 && f[16383] == 0 ? "yes" : "no");
    unsigned char *g = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 8192);
    printf("file mmap at an offset: %.4s\n", g + 3);
    g[0] = 'X';
    char c;
    pread(fd, &c, 1, 8192);
    printf("private writes stay private: %s\n", c != 'X' ? "yes" : "no");
    munmap(f, 15000);
    munmap(g, 4096);
    close(fd);
    unlink("memfile");

    size_t total = 0;
    void *blocks[64];
    for (int i = 0; i < 64; i++) {
        blocks[i] = malloc(1000 * (i + 1));
        total += blocks[i] ? 1000 * (i + 1) : 0;
        if (blocks[i])
            memset(blocks[i], i, 1000 * (i + 1));
    }
    int good = 1;
    for (int i = 0; i < 64; i++)
        good &= blocks[i] && ((unsigned char *)blocks[i])[1000 * (i + 1) - 1] == i;
    printf("malloc %zu bytes in 64 blocks: %s\n", total, good ? "ok" : "bad");
    for (int i = 0; i < 64; i++)
        free(blocks[i]);
    void *big = malloc(2 * MIB);
    printf("malloc 2 MiB: %s\n", big && fill_and_check(big, 2 * MIB, 3) ? "ok" : "bad");
    free(big);
    return 0;
}
