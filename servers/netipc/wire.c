/*
 * Requests: version, name length, name, label (8 bytes), word count, words (8 bytes each).
 * Replies:  version, status, label (8 bytes), word count, words.
 */
#include "wire.h"

#include <string.h>

static void put64(uint8_t *b, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *b)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
}

static size_t put_words(uint8_t *out, uint64_t label, const uint64_t *words, unsigned n)
{
    put64(out, label);
    out[8] = (uint8_t)n;
    for (unsigned i = 0; i < n; i++)
        put64(out + 9 + 8 * i, words[i]);
    return 9 + 8 * (size_t)n;
}

static bool get_words(const uint8_t *in, size_t len, uint64_t *label, uint64_t *words, unsigned *n)
{
    if (len < 9 || in[8] > WIRE_WORDS_MAX || len != 9 + 8 * (size_t)in[8])
        return false;
    *label = get64(in);
    *n = in[8];
    for (unsigned i = 0; i < *n; i++)
        words[i] = get64(in + 9 + 8 * i);
    return true;
}

size_t wire_request(uint8_t *out, size_t max, const char *name, uint64_t label, const uint64_t *words,
                    unsigned n)
{
    size_t nlen = strlen(name);
    if (nlen == 0 || nlen > WIRE_NAME_MAX || n > WIRE_WORDS_MAX || 2 + nlen + 9 + 8 * (size_t)n > max)
        return 0;
    out[0] = WIRE_VERSION;
    out[1] = (uint8_t)nlen;
    memcpy(out + 2, name, nlen);
    return 2 + nlen + put_words(out + 2 + nlen, label, words, n);
}

size_t wire_reply(uint8_t *out, size_t max, int status, uint64_t label, const uint64_t *words, unsigned n)
{
    if (status < WIRE_OK || status > WIRE_NO_SERVICE || n > WIRE_WORDS_MAX || 2 + 9 + 8 * (size_t)n > max)
        return 0;
    out[0] = WIRE_VERSION;
    out[1] = (uint8_t)status;
    return 2 + put_words(out + 2, label, words, n);
}

bool wire_parse_request(const uint8_t *in, size_t len, char name[WIRE_NAME_MAX + 1], uint64_t *label,
                        uint64_t words[WIRE_WORDS_MAX], unsigned *n)
{
    if (len < 2 || in[0] != WIRE_VERSION || in[1] == 0 || in[1] > WIRE_NAME_MAX || len < 2u + in[1])
        return false;
    size_t nlen = in[1];
    if (memchr(in + 2, '\0', nlen))
        return false;
    memcpy(name, in + 2, nlen);
    name[nlen] = '\0';
    return get_words(in + 2 + nlen, len - 2 - nlen, label, words, n);
}

bool wire_parse_reply(const uint8_t *in, size_t len, int *status, uint64_t *label, uint64_t words[WIRE_WORDS_MAX],
                      unsigned *n)
{
    if (len < 2 || in[0] != WIRE_VERSION || in[1] > WIRE_NO_SERVICE)
        return false;
    *status = in[1];
    return get_words(in + 2, len - 2, label, words, n);
}
