/*
 * The network server's command line (netcfg.h).  Words after the name,
 * separated by commas or blanks: ip=A.B.C.D/BITS, gw=A.B.C.D, dhcp.
 */
#include "netcfg.h"

#include <stdio.h>
#include <string.h>

bool netcfg_addr(const char *s, size_t len, uint32_t *addr)
{
    uint32_t a = 0;
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part && (i >= len || s[i++] != '.'))
            return false;
        unsigned v = 0, digits = 0;
        for (; i < len && s[i] >= '0' && s[i] <= '9' && digits < 4; i++, digits++)
            v = v * 10 + (unsigned)(s[i] - '0');
        if (!digits || digits > 3 || v > 255)
            return false;
        a = a << 8 | v;
    }
    *addr = a;
    return i == len;
}

static int word(const char *w, size_t n, struct netcfg *c, char *why, size_t why_len)
{
    if (n == 4 && !memcmp(w, "dhcp", 4)) {
        c->dhcp = true;
        return 0;
    }
    if (n > 3 && !memcmp(w, "ip=", 3)) {
        const char *slash = memchr(w, '/', n);
        unsigned bits = 0, digits = 0;
        for (const char *p = slash ? slash + 1 : w + n; p < w + n && *p >= '0' && *p <= '9' && digits < 3; p++, digits++)
            bits = bits * 10 + (unsigned)(*p - '0');
        if (!slash || !digits || slash + 1 + digits != w + n || bits < 1 || bits > 32 ||
            !netcfg_addr(w + 3, (size_t)(slash - w - 3), &c->addr)) {
            snprintf(why, why_len, "'%.*s' is not ip=A.B.C.D/BITS (BITS 1-32)", (int)n, w);
            return -1;
        }
        c->netmask = bits == 32 ? 0xffffffffu : ~(0xffffffffu >> bits);
        return 0;
    }
    if (n > 3 && !memcmp(w, "gw=", 3)) {
        if (!netcfg_addr(w + 3, n - 3, &c->gateway)) {
            snprintf(why, why_len, "'%.*s' is not gw=A.B.C.D", (int)n, w);
            return -1;
        }
        return 0;
    }
    snprintf(why, why_len, "unknown word '%.*s' (ip=A.B.C.D/BITS, gw=A.B.C.D, dhcp)", (int)n, w);
    return -1;
}

int netcfg_parse(const char *cmdline, struct netcfg *c, char *why, size_t why_len)
{
    memset(c, 0, sizeof *c);
    const char *p = cmdline + strcspn(cmdline, " ");        /* past the program's name */
    while (*p) {
        p += strspn(p, " ,");
        size_t n = strcspn(p, " ,");
        if (n && word(p, n, c, why, why_len))
            return -1;
        p += n;
    }
    if (c->dhcp && c->addr) {
        snprintf(why, why_len, "both dhcp and ip= given");
        return -1;
    }
    if (!c->addr && c->gateway) {
        snprintf(why, why_len, "gw= without ip=");
        return -1;
    }
    if (c->addr && c->gateway && (c->addr & c->netmask) != (c->gateway & c->netmask)) {
        snprintf(why, why_len, "the gateway is not on the network of ip=");
        return -1;
    }
    if (!c->addr)
        c->dhcp = true;                 /* nothing said: ask the network */
    return 0;
}
