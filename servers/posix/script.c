/*
 * Scripts, as Linux's binfmt_script runs them: a file whose first line is
 * "#!INTERPRETER [ARGUMENT]" runs INTERPRETER with the argv
 * [INTERPRETER, ARGUMENT if any, the script's name as execve was given it,
 * argv[1..]], the environment unchanged.  The interpreter may be a script
 * itself, five deep at most (Linux's exec_binprm), then ELOOP.
 */
#include "personality.h"
#include "fs.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#define SCRIPT_LINE  256                /* Linux's BINPRM_BUF_SIZE: what it reads of the first line */
#define SCRIPT_DEPTH 5

/* The interpreter and its argument of a "#!" line (line NUL-ended); false if it names none. */
static bool parse_line(char *line, char **interp, char **arg)
{
    char *nl = strchr(line, '\n');
    if (nl)
        *nl = 0;
    char *s = line + 2;
    while (*s == ' ' || *s == '\t')
        s++;
    *interp = s;
    while (*s && *s != ' ' && *s != '\t')
        s++;
    if (s == *interp)
        return false;
    /* The argument: the rest of the line after the blanks, trailing blanks taken out. */
    if (*s)
        *s++ = 0;
    while (*s == ' ' || *s == '\t')
        s++;
    char *end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
        *--end = 0;
    *arg = *s ? s : NULL;
    return true;
}

/* Appends a NUL-ended string to out; false if it does not fit. */
static bool put(char *out, uint64_t *used, uint64_t size, const char *s)
{
    uint64_t n = strlen(s) + 1;
    if (*used + n > size)
        return false;
    memcpy(out + *used, s, n);
    *used += n;
    return true;
}

/*
 * path: the absolute path execve runs, given: its name as the caller gave
 * it; args (*alen bytes of NUL-ended strings, size at most): its argv.
 * Afterwards path is the program to load and args its argv; *script is
 * set if it was a script.  0 or -errno (the files must be executable).
 */
long script_resolve(struct lproc *p, char *path, const char *given, char *args, uint64_t *alen, uint64_t size,
                    bool *script)
{
    static char line[SCRIPT_LINE + 1], out[32768], name[256];
    *script = false;
    strcpy(name, given);
    for (int depth = 0;; depth++) {
        uint32_t ino, gen, mode, nlink, uid, gid, at, mt, ct;
        uint64_t fsize, blocks, got;
        long err = fs_lookup(&fs, path, true, &ino, &gen, &mode, &nlink, &uid, &gid, &fsize, &at, &mt, &ct, &blocks);
        if (err)
            return fs_errno(err);
        if (!S_ISREG(mode))
            return 0;                   /* the loader refuses it */
        if (!(mode & 0111))
            return -EACCES;             /* as Linux, even for root: one execute bit at least */
        if ((err = fsio_read(ino, gen, 0, line, fsize < SCRIPT_LINE ? fsize : SCRIPT_LINE, &got)))
            return err;
        if (got < 2 || line[0] != '#' || line[1] != '!')
            return 0;
        if (depth == SCRIPT_DEPTH)
            return -ELOOP;
        line[got] = 0;
        char *interp, *arg;
        if (!parse_line(line, &interp, &arg))
            return -ENOEXEC;
        /* argv[0] of the caller's goes; the rest follows the script's name. */
        uint64_t used = 0, first = *alen ? strlen(args) + 1 : 0;
        if (!put(out, &used, sizeof out, interp) || (arg && !put(out, &used, sizeof out, arg)) ||
            !put(out, &used, sizeof out, name))
            return -E2BIG;
        uint64_t rest = *alen > first ? *alen - first : 0;
        if (used + rest > size)
            return -E2BIG;
        memcpy(out + used, args + first, rest);
        memcpy(args, out, used + rest);
        *alen = used + rest;
        *script = true;
        strcpy(name, interp);           /* shorter than the line */
        if ((err = path_join(p->cwd, interp, path)))
            return err;
    }
}
