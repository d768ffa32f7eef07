/* The kernel command line: space-separated words, some of the form key=value. */
#include "core/boot.h"
#include "lib/string.h"

/* Returns the value after "key=" (up to the next space), "" for a bare "key", or NULL. */
const char *cmdline_get(const char *key)
{
    size_t n = strlen(key);
    for (const char *p = boot.cmdline; *p;) {
        while (*p == ' ')
            p++;
        if (!strncmp(p, key, n) && (p[n] == '=' || p[n] == ' ' || p[n] == 0))
            return p[n] == '=' ? p + n + 1 : p + n;
        while (*p && *p != ' ')
            p++;
    }
    return NULL;
}

int cmdline_has(const char *word)
{
    return cmdline_get(word) != NULL;
}

/* True if the command line holds key=value exactly. */
int cmdline_is(const char *key, const char *value)
{
    const char *v = cmdline_get(key);
    size_t n = strlen(value);
    return v && !strncmp(v, value, n) && (v[n] == ' ' || v[n] == 0);
}
