#include "core/logring.h"

void logring_write(struct logring *r, const char *s, size_t n)
{
    /* Only the last LOGRING_SIZE bytes of a huge write can survive anyway. */
    if (n > LOGRING_SIZE) {
        r->head += n - LOGRING_SIZE;
        s += n - LOGRING_SIZE;
        n = LOGRING_SIZE;
    }
    for (size_t i = 0; i < n; i++)
        r->buf[(r->head + i) & (LOGRING_SIZE - 1)] = s[i];
    r->head += n;
}

size_t logring_read(const struct logring *r, uint64_t *pos, char *out, size_t n, uint64_t *lost)
{
    uint64_t oldest = r->head > LOGRING_SIZE ? r->head - LOGRING_SIZE : 0;
    *lost = 0;
    if (*pos > r->head)                 /* a position from the future: clamp */
        *pos = r->head;
    if (*pos < oldest) {
        *lost = oldest - *pos;
        *pos = oldest;
    }
    size_t avail = (size_t)(r->head - *pos);
    if (n > avail)
        n = avail;
    for (size_t i = 0; i < n; i++)
        out[i] = r->buf[(*pos + i) & (LOGRING_SIZE - 1)];
    *pos += n;
    return n;
}
