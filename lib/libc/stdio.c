/*
 * Formatted output to the kernel log, on top of musl's vsnprintf.  There
 * are no stdio streams: printf formats into memory and writes through at
 * once, so nothing is buffered and exit has nothing to flush.
 */
#include "pith.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHORT_LINE 512

int vprintf(const char *fmt, va_list ap)
{
    char small[SHORT_LINE];
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    if (n < 0) {
        va_end(again);
        return n;
    }
    if ((size_t)n < sizeof small) {
        va_end(again);
        pith_log_write(small, (size_t)n);
        return n;
    }
    /* Longer than the stack buffer: format it whole on the heap, write it in pieces. */
    char *big = malloc((size_t)n + 1);
    if (!big) {
        va_end(again);
        pith_log_write(small, sizeof small - 1);
        printf(" [printf: out of memory, %d bytes not written]\n", n - (int)sizeof small + 1);
        return n;
    }
    vsnprintf(big, (size_t)n + 1, fmt, again);
    va_end(again);
    pith_log_write(big, (size_t)n);
    free(big);
    return n;
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

int puts(const char *s)
{
    pith_log_write(s, strlen(s));
    pith_log_write("\n", 1);
    return 1;
}

int putchar(int c)
{
    char ch = (char)c;
    pith_log_write(&ch, 1);
    return (unsigned char)c;
}

/*
 * musl internals that its formatting code refers to.  The only FILEs
 * here are the ones vsnprintf and sscanf make on their own stacks, which
 * are marked as never locked, so a call to __lockfile means a stream we do
 * not have: report it instead of pretending to lock.
 */
struct _IO_FILE;

int __lockfile(struct _IO_FILE *f)
{
    (void)f;
    puts_log("libc: stdio stream locking is not available\n");
    abort();
}

void __unlockfile(struct _IO_FILE *f)
{
    (void)f;
}

/* Called when a stream is first written or read: there are no streams to flush at exit. */
void __stdio_exit_needed(void)
{
}
