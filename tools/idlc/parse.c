/*
 * The .idl parser: one statement per line, words separated by blanks,
 * '#' to the end of the line a comment.  Every mistake is reported as
 * "file:line: reason" and stops the parse (the first one is the one to fix).
 */
#include "idl.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_CHARS 256
#define WORDS_MAX 40

struct parser {
    const char *file;
    int line;
    char *err;
    size_t errlen;
    struct idl_protocol *p;
    struct idl_msg *msg;        /* the message being described, or NULL */
};

static int fail(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct parser *ps, const char *fmt, ...)
{
    int n = snprintf(ps->err, ps->errlen, "%s:%d: ", ps->file, ps->line);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < ps->errlen)
        vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static int is_ident(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return 0;
    return 1;
}

/* C11's keywords: a message named "register" would make a handler field of that name. */
static bool is_keyword(const char *s)
{
    static const char *const words[] = {
        "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum",
        "extern", "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return",
        "short", "signed", "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void",
        "volatile", "while", "_Alignas", "_Alignof", "_Atomic", "_Bool", "_Complex", "_Generic",
        "_Imaginary", "_Noreturn", "_Static_assert", "_Thread_local",
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (!strcmp(s, words[i]))
            return true;
    return false;
}

/* A name for generated C: an identifier that fits and does not start with the generator's own prefix. */
static int check_name(struct parser *ps, const char *what, const char *s, char *dst)
{
    if (!is_ident(s))
        return fail(ps, "%s name '%s' is not a C identifier", what, s);
    if (is_keyword(s))
        return fail(ps, "%s name '%s' is a C keyword", what, s);
    if (strlen(s) >= IDL_NAME_MAX)
        return fail(ps, "%s name '%s' is longer than %d characters", what, s, IDL_NAME_MAX - 1);
    if (strncmp(s, "idl_", 4) == 0)
        return fail(ps, "%s name '%s' starts with idl_, which generated code keeps for itself", what, s);
    size_t len = strlen(s);
    bool suffix = (len > 4 && !strcmp(s + len - 4, "_len")) || (len > 5 && !strcmp(s + len - 5, "_dest"));
    if (suffix && !strcmp(what, "argument"))
        return fail(ps, "%s name '%s' ends in _len or _dest, which generated code uses", what, s);
    strcpy(dst, s);
    return 0;
}

/* A decimal number in [lo, hi]. */
static int number(struct parser *ps, const char *what, const char *s, unsigned long lo, unsigned long hi,
                  uint32_t *out)
{
    char *end;
    if (*s < '0' || *s > '9')
        return fail(ps, "%s '%s' is not a number", what, s);
    unsigned long v = strtoul(s, &end, 10);
    if (*end)
        return fail(ps, "%s '%s' is not a number", what, s);
    if (v < lo || v > hi)
        return fail(ps, "%s %s is outside %lu..%lu", what, s, lo, hi);
    *out = (uint32_t)v;
    return 0;
}

static const char *const scalar_names[] = {
    [IDL_U8] = "u8", [IDL_U16] = "u16", [IDL_U32] = "u32", [IDL_U64] = "u64",
    [IDL_I8] = "i8", [IDL_I16] = "i16", [IDL_I32] = "i32", [IDL_I64] = "i64",
    [IDL_BOOL] = "bool",
};

/* "in NAME TYPE" or "out NAME TYPE": words[1] the name, words[2..] the type. */
static int argument(struct parser *ps, char **w, int n, int out)
{
    struct idl_msg *m = ps->msg;
    if (!m)
        return fail(ps, "'%s' outside a message", w[0]);
    if (n < 3)
        return fail(ps, "'%s' needs a name and a type", w[0]);
    struct idl_arg *list = out ? m->out : m->in;
    int *count = out ? &m->nout : &m->nin;
    if (*count == IDL_MAX_ARGS)
        return fail(ps, "more than %d %s arguments", IDL_MAX_ARGS, w[0]);
    struct idl_arg a = { 0 };
    if (check_name(ps, "argument", w[1], a.name))
        return -1;
    for (int i = 0; i < m->nin; i++)
        if (!strcmp(m->in[i].name, a.name))
            return fail(ps, "argument '%s' named twice in message '%s'", a.name, m->name);
    for (int i = 0; i < m->nout; i++)
        if (!strcmp(m->out[i].name, a.name))
            return fail(ps, "argument '%s' named twice in message '%s'", a.name, m->name);
    int words_needed = 3;
    if (!strcmp(w[2], "string") || !strcmp(w[2], "bytes")) {
        a.kind = w[2][0] == 's' ? IDL_STRING : IDL_BYTES;
        if (n < 4)
            return fail(ps, "%s '%s' needs its maximum length in bytes", w[2], a.name);
        if (number(ps, "maximum length", w[3], 1, (IDL_MSG_WORDS - IDL_REG_WORDS) * 8, &a.max))
            return -1;
        words_needed = 4;
    } else if (!strcmp(w[2], "cap")) {
        a.kind = IDL_CAP;
        for (int i = 0; i < *count; i++)
            if (list[i].kind == IDL_CAP)
                return fail(ps, "message '%s' has a second %s capability (at most one each way)", m->name, w[0]);
    } else {
        int k = -1;
        for (int i = 0; i <= IDL_BOOL; i++)
            if (!strcmp(w[2], scalar_names[i]))
                k = i;
        if (k < 0)
            return fail(ps, "unknown type '%s' (u8..u64, i8..i64, bool, string N, bytes N, cap)", w[2]);
        a.kind = (enum idl_kind)k;
    }
    if (n > words_needed)
        return fail(ps, "unexpected '%s' after the type of '%s'", w[words_needed], a.name);
    list[(*count)++] = a;
    if (idl_max_words(list, *count) > IDL_MSG_WORDS)
        return fail(ps, "message '%s' %s could take %u words, more than the %d a message holds", m->name,
                    out ? "reply" : "request", idl_max_words(list, *count), IDL_MSG_WORDS);
    return 0;
}

static int statement(struct parser *ps, char **w, int n)
{
    struct idl_protocol *p = ps->p;
    if (!strcmp(w[0], "protocol")) {
        if (p->name[0])
            return fail(ps, "a second 'protocol' line (one protocol per file)");
        if (n != 3)
            return fail(ps, "'protocol' takes a name and a version");
        return check_name(ps, "protocol", w[1], p->name) ||
               number(ps, "version", w[2], 1, 0xffff, &p->version) ? -1 : 0;
    }
    if (!p->name[0])
        return fail(ps, "'%s' before the 'protocol' line", w[0]);
    if (!strcmp(w[0], "error")) {
        if (ps->msg)
            return fail(ps, "'error' declarations come before the first message");
        if (n != 3)
            return fail(ps, "'error' takes a name and a number");
        if (p->nerrors == IDL_MAX_ERRORS)
            return fail(ps, "more than %d errors", IDL_MAX_ERRORS);
        struct idl_error *e = &p->errors[p->nerrors];
        if (check_name(ps, "error", w[1], e->name) || number(ps, "error number", w[2], 1, 0xffff, &e->number))
            return -1;
        for (int i = 0; i < p->nerrors; i++) {
            if (!strcmp(p->errors[i].name, e->name))
                return fail(ps, "error '%s' declared twice", e->name);
            if (p->errors[i].number == e->number)
                return fail(ps, "error number %u used by '%s' already", e->number, p->errors[i].name);
        }
        p->nerrors++;
        return 0;
    }
    if (!strcmp(w[0], "message")) {
        if (n < 3 || n > 4)
            return fail(ps, "'message' takes a name, a label and optionally 'idempotent'");
        if (p->nmsgs == IDL_MAX_MSGS)
            return fail(ps, "more than %d messages", IDL_MAX_MSGS);
        struct idl_msg *m = &p->msgs[p->nmsgs];
        memset(m, 0, sizeof *m);
        m->line = ps->line;
        if (check_name(ps, "message", w[1], m->name) || number(ps, "label", w[2], 1, 0xffff, &m->label))
            return -1;
        /* PROTO_dispatch, PROTO_serve, PROTO_VERSION and PROTO_E_* are the generator's. */
        if (!strcmp(m->name, "dispatch") || !strcmp(m->name, "serve") || !strcmp(m->name, "version") ||
            !strcmp(m->name, "VERSION") || (tolower((unsigned char)m->name[0]) == 'e' && m->name[1] == '_'))
            return fail(ps, "message name '%s' is taken by generated code (dispatch, serve, version, e_*)",
                        m->name);
        if (n == 4 && strcmp(w[3], "idempotent"))
            return fail(ps, "unexpected '%s' after the label (only 'idempotent' may follow)", w[3]);
        m->idempotent = n == 4;
        for (int i = 0; i < p->nmsgs; i++) {
            if (!strcmp(p->msgs[i].name, m->name))
                return fail(ps, "message '%s' declared twice", m->name);
            if (p->msgs[i].label == m->label)
                return fail(ps, "label %u used by message '%s' already", m->label, p->msgs[i].name);
        }
        p->nmsgs++;
        ps->msg = m;
        return 0;
    }
    if (!strcmp(w[0], "in") || !strcmp(w[0], "out"))
        return argument(ps, w, n, w[0][0] == 'o');
    if (!strcmp(w[0], "errors")) {
        if (!ps->msg)
            return fail(ps, "'errors' outside a message");
        if (n < 2)
            return fail(ps, "'errors' names at least one error");
        for (int i = 1; i < n; i++) {
            int found = -1;
            for (int e = 0; e < p->nerrors; e++)
                if (!strcmp(p->errors[e].name, w[i]))
                    found = e;
            if (found < 0)
                return fail(ps, "error '%s' is not declared", w[i]);
            for (int e = 0; e < ps->msg->nerrors; e++)
                if (ps->msg->errors[e] == found)
                    return fail(ps, "error '%s' named twice for message '%s'", w[i], ps->msg->name);
            ps->msg->errors[ps->msg->nerrors++] = found;
        }
        return 0;
    }
    return fail(ps, "unknown statement '%s' (protocol, error, message, in, out, errors)", w[0]);
}

int idl_parse(const char *file, const char *text, struct idl_protocol *p, char *err, size_t errlen)
{
    struct parser ps = { .file = file, .err = err, .errlen = errlen, .p = p };
    memset(p, 0, sizeof *p);
    err[0] = 0;
    while (*text) {
        ps.line++;
        const char *end = strchr(text, '\n');
        size_t len = end ? (size_t)(end - text) : strlen(text);
        if (len >= LINE_MAX_CHARS)
            return fail(&ps, "line longer than %d characters", LINE_MAX_CHARS - 1);
        char line[LINE_MAX_CHARS];
        memcpy(line, text, len);
        line[len] = 0;
        text += len + (end != NULL);
        for (size_t i = 0; i < len; i++)
            if ((unsigned char)line[i] < 0x20 && line[i] != '\t' && line[i] != '\r')
                return fail(&ps, "control character in the line");
        char *hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        char *w[WORDS_MAX];
        int n = 0;
        for (char *s = strtok(line, " \t\r"); s; s = strtok(NULL, " \t\r")) {
            if (n == WORDS_MAX)
                return fail(&ps, "more than %d words on a line", WORDS_MAX);
            w[n++] = s;
        }
        if (n && statement(&ps, w, n))
            return -1;
    }
    ps.line++;
    if (!p->name[0])
        return fail(&ps, "no 'protocol' line");
    if (!p->nmsgs)
        return fail(&ps, "protocol '%s' has no messages", p->name);
    return 0;
}

/* Scalars and capabilities' absence aside, each argument takes a word: its value, or a string's length. */
unsigned idl_fixed_words(const struct idl_arg *args, int n)
{
    unsigned words = 0;
    for (int i = 0; i < n; i++)
        words += args[i].kind != IDL_CAP;
    return words;
}

/* String data starts after the fixed words, and never before the first IPC-buffer word. */
unsigned idl_max_words(const struct idl_arg *args, int n)
{
    unsigned fixed = idl_fixed_words(args, n), data = 0;
    int strings = 0;
    for (int i = 0; i < n; i++)
        if (args[i].kind == IDL_STRING || args[i].kind == IDL_BYTES) {
            data += (args[i].max + 7) / 8;
            strings = 1;
        }
    if (!strings)
        return fixed;
    return (fixed > IDL_REG_WORDS ? fixed : IDL_REG_WORDS) + data;
}
