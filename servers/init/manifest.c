/*
 * Parsing the boot manifest (docs/manifest.md).  One program per line:
 * its name, then key=value words.  Any mistake stops the parse with the
 * line and the reason, so init never obeys half a manifest.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE     /* strtok_r, on the host too (the host tests) */
#endif
#include "manifest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(struct manifest *m, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    m->error_line = line;
    vsnprintf(m->error, sizeof m->error, fmt, ap);
    va_end(ap);
    return -1;
}

/* A whole word as an unsigned number (decimal, or hex with 0x) no larger than max. */
static bool number(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    if (!*s || *s == '-' || *s == '+')
        return false;
    unsigned long v = strtoul(s, &end, 0);
    if (*end || v > max)
        return false;
    *out = v;
    return true;
}

bool manifest_name_valid(const char *s)
{
    if (!*s || strlen(s) > MANIFEST_NAME_MAX)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
            return false;
    return true;
}

/* "/a/b": starts with '/', no empty part, no trailing '/'. */
static bool valid_path(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || n > MANIFEST_PREFIX_MAX || s[0] != '/' || s[n - 1] == '/' || strstr(s, "//"))
        return false;
    return true;
}

bool manifest_prefix_allows(const char *prefix, const char *name)
{
    size_t n = strlen(prefix);
    return n && !strncmp(prefix, name, n) && (name[n] == 0 || name[n] == '/');
}

static int find(const struct manifest *m, const char *name, int upto)
{
    for (int i = 0; i < upto; i++)
        if (!strcmp(m->e[i].name, name))
            return i;
    return -1;
}

/* needs= names are kept until every entry is known; this holds them. */
struct pending_needs {
    char names[MANIFEST_NEEDS_MAX][MANIFEST_NAME_MAX + 1];
};

static int option(struct manifest *m, struct manifest_entry *e, struct pending_needs *pn, char *word)
{
    unsigned long v;
    char *eq = strchr(word, '=');
    if (!strcmp(word, "procs")) {
        e->procs = true;
        return 0;
    }
    if (!strcmp(word, "pci")) {
        /* The PCI bus server's authority: device memory, IRQ control, configuration ports (docs/pci.md). */
        e->pci = true;
        return 0;
    }
    if (!strcmp(word, "lazy")) {
        /* Its program image paged in by the memory manager instead of loaded by init (docs/memory.md). */
        e->lazy = true;
        return 0;
    }
    if (!eq || eq == word || !eq[1])
        return fail(m, e->line, "'%s' is not key=value", word);
    *eq = 0;
    const char *key = word, *val = eq + 1;
    if (!strcmp(key, "module")) {
        if (!manifest_name_valid(val) || strlen(val) > MANIFEST_MODULE_MAX)
            return fail(m, e->line, "bad module name '%s'", val);
        strcpy(e->module, val);
    } else if (!strcmp(key, "priority")) {
        if (!number(val, 254, &v) || v == 0)
            return fail(m, e->line, "priority '%s' is not 1-254", val);
        e->priority = (unsigned)v;
    } else if (!strcmp(key, "memory")) {
        if (!number(val, 128, &v) || v < 16 || (v & (v - 1)))
            return fail(m, e->line, "memory '%s' is not a power of two from 16 to 128 (MiB)", val);
        e->memory_mib = (unsigned)v;
    } else if (!strcmp(key, "ports")) {
        char *dash = strchr(val, '-');
        unsigned long first, last;
        if (!dash)
            return fail(m, e->line, "ports '%s' is not FIRST-LAST", val);
        *dash = 0;
        if (!number(val, 0xffff, &first) || !number(dash + 1, 0xffff, &last) || first > last)
            return fail(m, e->line, "ports '%s-%s' is not a range within 0-0xffff", val, dash + 1);
        e->has_ports = true;
        e->port_first = (uint16_t)first;
        e->port_last = (uint16_t)last;
    } else if (!strcmp(key, "irq")) {
        if (!number(val, 15, &v))
            return fail(m, e->line, "irq '%s' is not an ISA line 0-15", val);
        e->irq = (int)v;
    } else if (!strcmp(key, "register")) {
        if (!valid_path(val))
            return fail(m, e->line, "register '%s' is not a name like /dev/console", val);
        strcpy(e->prefix, val);
    } else if (!strcmp(key, "restart")) {
        if (!strcmp(val, "always"))
            e->restart = RESTART_ALWAYS;
        else if (!strcmp(val, "never"))
            e->restart = RESTART_NEVER;
        else
            return fail(m, e->line, "restart '%s' is not always or never", val);
    } else if (!strcmp(key, "pages")) {
        /* Anonymous memory from the memory manager, which pages it (docs/memory.md). */
        if (!number(val, MANIFEST_PAGES_MAX, &v) || v == 0)
            return fail(m, e->line, "pages '%s' is not 1-%d", val, MANIFEST_PAGES_MAX);
        e->pages = (unsigned)v;
    } else if (!strcmp(key, "cnode")) {
        /* A bigger CSpace, made from its quota: a server holding many capabilities (the POSIX pool). */
        if (!number(val, MANIFEST_CNODE_MAX, &v) || v < MANIFEST_CNODE_MIN)
            return fail(m, e->line, "cnode '%s' is not %d-%d (bits)", val, MANIFEST_CNODE_MIN, MANIFEST_CNODE_MAX);
        e->cnode_bits = (unsigned)v;
    } else if (!strcmp(key, "args")) {
        /* Words for the program itself, after its name on its command line (bootinfo cmdline). */
        if (strlen(val) > MANIFEST_ARGS_MAX)
            return fail(m, e->line, "args longer than %d bytes", MANIFEST_ARGS_MAX);
        strcpy(e->args, val);
    } else if (!strcmp(key, "limit")) {
        if (!number(val, 100, &v))
            return fail(m, e->line, "limit '%s' is not 0-100", val);
        e->limit = (unsigned)v;
    } else if (!strcmp(key, "needs")) {
        char *save, *p = strtok_r(eq + 1, ",", &save);
        for (; p; p = strtok_r(NULL, ",", &save)) {
            if (e->nneeds == MANIFEST_NEEDS_MAX)
                return fail(m, e->line, "needs more than %d programs", MANIFEST_NEEDS_MAX);
            if (!manifest_name_valid(p))
                return fail(m, e->line, "bad program name '%s' in needs", p);
            strcpy(pn->names[e->nneeds++], p);
        }
    } else {
        return fail(m, e->line, "unknown key '%s'", key);
    }
    return 0;
}

static int parse_line(struct manifest *m, char *text, int line, struct pending_needs *pn)
{
    char *hash = strchr(text, '#');
    if (hash)
        *hash = 0;
    char *save, *word = strtok_r(text, " \t\r", &save);
    if (!word)
        return 0;                       /* blank or comment */
    if (m->count == MANIFEST_MAX)
        return fail(m, line, "more than %d programs", MANIFEST_MAX);
    if (!manifest_name_valid(word))
        return fail(m, line, "bad program name '%s' (a-z, 0-9, '-', '_', '.'; at most %d)", word,
                    MANIFEST_NAME_MAX);
    if (!strcmp(word, "init"))
        return fail(m, line, "'init' names init itself; no program may take it");
    if (find(m, word, m->count) >= 0)
        return fail(m, line, "program '%s' is listed twice", word);
    struct manifest_entry *e = &m->e[m->count];
    memset(e, 0, sizeof *e);
    strcpy(e->name, word);
    snprintf(e->module, sizeof e->module, "%s.elf", word);
    e->priority = 100;
    e->memory_mib = 16;
    e->irq = -1;
    e->limit = 5;
    e->line = line;
    memset(&pn[m->count], 0, sizeof pn[m->count]);
    while ((word = strtok_r(NULL, " \t\r", &save)))
        if (option(m, e, &pn[m->count], word))
            return -1;
    m->count++;
    return 0;
}

/* Depth-first: an entry goes into the order after everything it needs. */
static int visit(struct manifest *m, int i, char *state, int *n)
{
    if (state[i] == 2)
        return 0;
    if (state[i] == 1)
        return fail(m, m->e[i].line, "'%s' needs itself through a cycle", m->e[i].name);
    state[i] = 1;
    for (int k = 0; k < m->e[i].nneeds; k++)
        if (visit(m, m->e[i].needs[k], state, n))
            return -1;
    state[i] = 2;
    m->order[(*n)++] = i;
    return 0;
}

int manifest_parse(const char *text, size_t len, struct manifest *m)
{
    static struct pending_needs pn[MANIFEST_MAX];
    char buf[256];
    int line = 0;
    memset(m, 0, sizeof *m);
    for (size_t at = 0; at < len;) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
        line++;
        if (memchr(text + at, 0, n))
            return fail(m, line, "a NUL byte in the line");
        if (n >= sizeof buf)
            return fail(m, line, "line longer than %zu bytes", sizeof buf - 1);
        memcpy(buf, text + at, n);
        buf[n] = 0;
        if (parse_line(m, buf, line, pn))
            return -1;
        at += n + 1;
    }
    if (m->count == 0)
        return fail(m, 0, "no programs listed");
    for (int i = 0; i < m->count; i++)
        for (int k = 0; k < m->e[i].nneeds; k++) {
            int j = find(m, pn[i].names[k], m->count);
            if (j < 0)
                return fail(m, m->e[i].line, "needs '%s', which is not listed", pn[i].names[k]);
            m->e[i].needs[k] = j;
        }
    for (int i = 0; i < m->count; i++)
        for (int j = 0; j < i; j++)
            if (m->e[i].prefix[0] && m->e[j].prefix[0] &&
                (manifest_prefix_allows(m->e[i].prefix, m->e[j].prefix) ||
                 manifest_prefix_allows(m->e[j].prefix, m->e[i].prefix)))
                return fail(m, m->e[i].line, "register '%s' overlaps '%s' (line %d)", m->e[i].prefix,
                            m->e[j].prefix, m->e[j].line);
    /* Device memory can be handed to one program only: the bus server that deals it out. */
    for (int i = 0; i < m->count; i++)
        for (int j = 0; j < i; j++)
            if (m->e[i].pci && m->e[j].pci)
                return fail(m, m->e[i].line, "pci is given to '%s' (line %d) already; only one program may have it",
                            m->e[j].name, m->e[j].line);
    char state[MANIFEST_MAX] = { 0 };
    int n = 0;
    for (int i = 0; i < m->count; i++)
        if (visit(m, i, state, &n))
            return -1;
    return 0;
}
