/*
 * Wide characters in the C locale, the only locale native programs have:
 * one byte per character (MB_CUR_MAX is 1).  Our own wcrtomb because
 * musl's asks its per-thread locale, which lives in musl's thread
 * structure.  As in musl's C locale, characters 0xdf80-0xdfff stand for
 * the bytes 0x80-0xff that are not ASCII.
 */
#include <errno.h>
#include <wchar.h>

size_t wcrtomb(char *restrict s, wchar_t wc, mbstate_t *restrict st)
{
    (void)st;
    if (!s)
        return 1;
    if ((unsigned)wc < 0x80) {
        *s = (char)wc;
        return 1;
    }
    if ((unsigned)wc - 0xdf80 < 0x80) {
        *s = (char)(wc & 0xff);
        return 1;
    }
    errno = EILSEQ;
    return (size_t)-1;
}
