/*
 * The configuration file's parser.  Lines:
 *     node N                      this node's number (1 and up)
 *     port P                      its UDP port
 *     secret HEX64                its X25519 secret key
 *     peer N A.B.C.D P HEX64      a known node: address, port, public key
 *     export /svc/NAME            a local service peers may call
 *     import N /svc/NAME          peer N's service, published as PREFIX/N/svc/NAME
 *     publish PREFIX              where imports are published (default /net)
 * '#' starts a comment; blank lines are ignored.
 */
#include "conf.h"

#include <stdio.h>
#include <string.h>

#define LINE_MAX_LEN 255
#define WORDS_MAX 6

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static bool parse_key(const char *s, uint8_t out[32])
{
    if (strlen(s) != 64)
        return false;
    for (int i = 0; i < 32; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

/* A decimal number from 1 to max. */
static bool parse_number(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s || strlen(s) > 19)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (v == 0 || v > max)
        return false;
    *out = v;
    return true;
}

static bool parse_ip(const char *s, uint32_t *out)
{
    uint32_t ip = 0;
    for (int part = 0; part < 4; part++) {
        unsigned v = 0, digits = 0;
        for (; *s >= '0' && *s <= '9'; s++, digits++)
            v = v * 10 + (unsigned)(*s - '0');
        if (digits == 0 || digits > 3 || v > 255)
            return false;
        ip = ip << 8 | v;
        if (part < 3 && *s++ != '.')
            return false;
    }
    if (*s)
        return false;
    *out = ip;
    return true;
}

/* A service name: /svc/... as the name service takes them, at most CONF_NAME_MAX bytes. */
static bool parse_service(const char *s)
{
    size_t len = strlen(s);
    if (len > CONF_NAME_MAX || strncmp(s, "/svc/", 5) || s[len - 1] == '/' || strstr(s, "//"))
        return false;
    return len > 5;
}

static int fail(char *why, size_t why_len, int line, const char *reason)
{
    snprintf(why, why_len, "%s", reason);
    return line;
}

static int parse_line(struct conf *c, char **w, int n, int line, char *why, size_t why_len, unsigned *seen)
{
    uint64_t v;
    if (!strcmp(w[0], "node") && n == 2) {
        if (*seen & 1)
            return fail(why, why_len, line, "node given twice");
        if (!parse_number(w[1], UINT64_MAX / 2, &c->node))
            return fail(why, why_len, line, "node is not a number from 1");
        *seen |= 1;
    } else if (!strcmp(w[0], "port") && n == 2) {
        if (*seen & 2)
            return fail(why, why_len, line, "port given twice");
        if (!parse_number(w[1], 65535, &v))
            return fail(why, why_len, line, "port is not 1-65535");
        c->port = (uint16_t)v;
        *seen |= 2;
    } else if (!strcmp(w[0], "secret") && n == 2) {
        if (*seen & 4)
            return fail(why, why_len, line, "secret given twice");
        if (!parse_key(w[1], c->secret_key))
            return fail(why, why_len, line, "secret is not 64 hexadecimal digits");
        *seen |= 4;
    } else if (!strcmp(w[0], "peer") && n == 5) {
        if (c->npeers == CONF_PEERS)
            return fail(why, why_len, line, "too many peers");
        struct conf_peer *p = &c->peers[c->npeers];
        if (!parse_number(w[1], UINT64_MAX / 2, &p->node))
            return fail(why, why_len, line, "peer node is not a number from 1");
        for (unsigned i = 0; i < c->npeers; i++)
            if (c->peers[i].node == p->node)
                return fail(why, why_len, line, "peer listed twice");
        if (!parse_ip(w[2], &p->ip))
            return fail(why, why_len, line, "peer address is not A.B.C.D");
        if (!parse_number(w[3], 65535, &v))
            return fail(why, why_len, line, "peer port is not 1-65535");
        p->port = (uint16_t)v;
        if (!parse_key(w[4], p->public_key))
            return fail(why, why_len, line, "peer key is not 64 hexadecimal digits");
        c->npeers++;
    } else if (!strcmp(w[0], "export") && n == 2) {
        if (c->nexports == CONF_EXPORTS)
            return fail(why, why_len, line, "too many exports");
        if (!parse_service(w[1]))
            return fail(why, why_len, line, "export is not a service name /svc/...");
        strcpy(c->exports[c->nexports++], w[1]);
    } else if (!strcmp(w[0], "import") && n == 3) {
        if (c->nimports == CONF_IMPORTS)
            return fail(why, why_len, line, "too many imports");
        struct conf_import *im = &c->imports[c->nimports];
        if (!parse_number(w[1], UINT64_MAX / 2, &im->node))
            return fail(why, why_len, line, "import node is not a number from 1");
        if (!parse_service(w[2]))
            return fail(why, why_len, line, "import is not a service name /svc/...");
        strcpy(im->name, w[2]);
        c->nimports++;
    } else if (!strcmp(w[0], "publish") && n == 2) {
        size_t plen = strlen(w[1]);
        if (w[1][0] != '/' || plen >= sizeof c->prefix || w[1][plen - 1] == '/' || strstr(w[1], "//"))
            return fail(why, why_len, line, "publish is not a name prefix such as /net");
        strcpy(c->prefix, w[1]);
    } else {
        return fail(why, why_len, line, "not one of: node N, port P, secret KEY, peer N ADDR PORT KEY, "
                                        "export NAME, import N NAME, publish PREFIX");
    }
    return 0;
}

int conf_parse(struct conf *c, const char *text, size_t len, char *why, size_t why_len)
{
    memset(c, 0, sizeof *c);
    unsigned seen = 0;
    int line = 0;
    size_t at = 0;
    while (at < len) {
        char buf[LINE_MAX_LEN + 1];
        size_t n = 0;
        line++;
        while (at < len && text[at] != '\n') {
            if (n == LINE_MAX_LEN)
                return fail(why, why_len, line, "line longer than 255 bytes");
            if (text[at] == '\0')
                return fail(why, why_len, line, "NUL byte");
            buf[n++] = text[at++];
        }
        at++;
        buf[n] = '\0';
        char *hash = strchr(buf, '#');
        if (hash)
            *hash = '\0';
        char *w[WORDS_MAX + 1];
        int words = 0;
        for (char *p = buf; *p;) {
            while (*p == ' ' || *p == '\t' || *p == '\r')
                *p++ = '\0';
            if (!*p)
                break;
            if (words == WORDS_MAX)
                return fail(why, why_len, line, "too many words");
            w[words++] = p;
            while (*p && *p != ' ' && *p != '\t' && *p != '\r')
                p++;
        }
        if (!words)
            continue;
        int err = parse_line(c, w, words, line, why, why_len, &seen);
        if (err)
            return err;
    }
    if (!c->prefix[0])
        strcpy(c->prefix, "/net");
    if ((seen & 7) != 7)
        return fail(why, why_len, -1, "node, port and secret are all needed");
    for (unsigned i = 0; i < c->npeers; i++)
        if (c->peers[i].node == c->node)
            return fail(why, why_len, -1, "a peer has this node's own number");
    for (unsigned i = 0; i < c->nimports; i++) {
        bool known = false;
        for (unsigned j = 0; j < c->npeers; j++)
            known |= c->peers[j].node == c->imports[i].node;
        if (!known)
            return fail(why, why_len, -1, "an import names a node that is not a peer");
    }
    return 0;
}

bool conf_exports(const struct conf *c, const char *name)
{
    for (unsigned i = 0; i < c->nexports; i++)
        if (!strcmp(c->exports[i], name))
            return true;
    return false;
}
