/*
 * A byte ring that keeps the newest LOGRING_SIZE bytes of the kernel log.
 * Writers never block and never fail: old bytes are overwritten.  Each
 * reader keeps its own position (bytes since boot); a reader that fell
 * behind is told how many bytes it lost instead of reading garbage.
 */
#ifndef PITH_CORE_LOGRING_H
#define PITH_CORE_LOGRING_H

#include <stddef.h>
#include <stdint.h>

#define LOGRING_SIZE (64 * 1024)        /* a power of two */

struct logring {
    uint64_t head;                      /* total bytes ever written */
    char buf[LOGRING_SIZE];
};

void logring_write(struct logring *r, const char *s, size_t n);

/*
 * Copies up to n bytes starting at *pos into out and advances *pos.
 * If *pos is older than the oldest byte kept, *lost gets the number of
 * bytes skipped and reading starts at the oldest byte.  Returns the
 * number of bytes copied (0 when the reader is up to date).
 */
size_t logring_read(const struct logring *r, uint64_t *pos, char *out, size_t n, uint64_t *lost);

#endif
