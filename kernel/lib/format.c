#include "lib/format.h"

#include <stdbool.h>
#include <stdint.h>

struct out {
    char *buf;
    size_t size;
    size_t len;     /* characters produced so far, even past size */
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void pad(struct out *o, int n, char c)
{
    while (n-- > 0)
        put(o, c);
}

struct spec {
    bool left, zero, alt;
    int width, precision;   /* precision < 0: none */
};

static void put_str(struct out *o, const struct spec *sp, const char *s)
{
    if (!s)
        s = "(null)";
    int n = 0;
    while ((sp->precision < 0 || n < sp->precision) && s[n])
        n++;
    if (!sp->left)
        pad(o, sp->width - n, ' ');
    for (int i = 0; i < n; i++)
        put(o, s[i]);
    if (sp->left)
        pad(o, sp->width - n, ' ');
}

static void put_num(struct out *o, const struct spec *sp, uint64_t v, bool neg,
                    unsigned base, bool upper, const char *prefix)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v);

    int plen = 0;
    while (prefix[plen])
        plen++;
    int total = n + plen + (neg ? 1 : 0);
    if (!sp->left && !sp->zero)
        pad(o, sp->width - total, ' ');
    if (neg)
        put(o, '-');
    for (int i = 0; i < plen; i++)
        put(o, prefix[i]);
    if (!sp->left && sp->zero)
        pad(o, sp->width - total, '0');
    while (n)
        put(o, tmp[--n]);
    if (sp->left)
        pad(o, sp->width - total, ' ');
}

/* Widths and precisions beyond this are clamped: no integer overflow, no silly padding. */
#define FIELD_MAX 4096

static int clamp_field(long v)
{
    return v > FIELD_MAX ? FIELD_MAX : (int)v;
}

static const char *parse_spec(const char *f, struct spec *sp, va_list *ap)
{
    sp->left = sp->zero = sp->alt = false;
    sp->width = 0;
    sp->precision = -1;
    for (;; f++) {
        if (*f == '-')
            sp->left = true;
        else if (*f == '0')
            sp->zero = true;
        else if (*f == '#')
            sp->alt = true;
        else
            break;
    }
    if (*f == '*') {
        long w = va_arg(*ap, int);
        if (w < 0) {
            sp->left = true;
            w = -w;
        }
        sp->width = clamp_field(w);
        f++;
    } else {
        while (*f >= '0' && *f <= '9')
            sp->width = clamp_field(sp->width * 10L + (*f++ - '0'));
    }
    if (*f == '.') {
        f++;
        sp->precision = 0;
        if (*f == '*') {
            int p = va_arg(*ap, int);
            sp->precision = p < 0 ? -1 : clamp_field(p);    /* negative: as if none */
            f++;
        } else {
            while (*f >= '0' && *f <= '9')
                sp->precision = clamp_field(sp->precision * 10L + (*f++ - '0'));
        }
    }
    return f;
}

int format_v(char *buf, size_t size, const char *fmt, va_list ap_in)
{
    struct out o = { buf, size, 0 };
    va_list ap;
    va_copy(ap, ap_in);

    for (const char *f = fmt; *f; f++) {
        if (*f != '%') {
            put(&o, *f);
            continue;
        }
        struct spec sp;
        f = parse_spec(f + 1, &sp, &ap);
        int lng = 0;                    /* 0: int, 1: long, 2: long long, 3: size_t */
        if (*f == 'l') {
            lng = 1;
            if (*++f == 'l') {
                lng = 2;
                f++;
            }
        } else if (*f == 'z') {
            lng = 3;
            f++;
        }

        uint64_t u;
        int64_t s;
        switch (*f) {
        case 'd':
        case 'i':
            s = lng == 0 ? va_arg(ap, int) : lng == 1 ? va_arg(ap, long)
              : lng == 2 ? va_arg(ap, long long) : (int64_t)va_arg(ap, size_t);
            u = s < 0 ? (uint64_t)0 - (uint64_t)s : (uint64_t)s;
            put_num(&o, &sp, u, s < 0, 10, false, "");
            break;
        case 'u':
        case 'x':
        case 'X':
            u = lng == 0 ? va_arg(ap, unsigned) : lng == 1 ? va_arg(ap, unsigned long)
              : lng == 2 ? va_arg(ap, unsigned long long) : va_arg(ap, size_t);
            put_num(&o, &sp, u, false, *f == 'u' ? 10 : 16, *f == 'X',
                    sp.alt && u && *f != 'u' ? (*f == 'X' ? "0X" : "0x") : "");
            break;
        case 'p':
            put_num(&o, &sp, (uintptr_t)va_arg(ap, void *), false, 16, false, "0x");
            break;
        case 's':
            put_str(&o, &sp, va_arg(ap, const char *));
            break;
        case 'c':                       /* also a NUL character, like C's printf */
            if (!sp.left)
                pad(&o, sp.width - 1, ' ');
            put(&o, (char)va_arg(ap, int));
            if (sp.left)
                pad(&o, sp.width - 1, ' ');
            break;
        case '%':
            put(&o, '%');
            break;
        case '\0':
            f--;                        /* a lone '%' at the end: stop */
            break;
        default:                        /* unknown conversion: show it as is */
            put(&o, '%');
            put(&o, *f);
            break;
        }
    }
    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    va_end(ap);
    return (int)o.len;
}

int format(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = format_v(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
