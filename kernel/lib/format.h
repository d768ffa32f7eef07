/* printf-style formatting into a buffer: the kernel's only formatter. */
#ifndef PITH_LIB_FORMAT_H
#define PITH_LIB_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

/*
 * Supports %d %i %u %x %X %p %s %c %%, the flags '-', '0' and '#', a width
 * (number or '*'), a precision for %s, and the length modifiers l, ll, z.
 * Widths and precisions above 4096 are treated as 4096.
 * Returns the length the full result needs, like C's vsnprintf; writes at
 * most size bytes including the terminating NUL (nothing if size is 0).
 */
int format_v(char *buf, size_t size, const char *fmt, va_list ap);
int format(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
