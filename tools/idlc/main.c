/*
 * idlc: reads one .idl file and writes PREFIX.h, PREFIX_client.c and
 * PREFIX_server.c.  A malformed file is reported as "file:line: reason"
 * with exit status 1; nothing is written then.
 *     idlc FILE.idl PREFIX
 */
#include "idl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FILE_MAX (1 << 20)

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: cannot open\n", path);
        return NULL;
    }
    char *text = malloc(FILE_MAX + 1);
    size_t n = text ? fread(text, 1, FILE_MAX + 1, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (!text || bad) {
        fprintf(stderr, "%s: cannot read\n", path);
        free(text);
        return NULL;
    }
    if (n > FILE_MAX) {
        fprintf(stderr, "%s: longer than %d bytes\n", path, FILE_MAX);
        free(text);
        return NULL;
    }
    text[n] = 0;
    if (strlen(text) != n) {
        int line = 1;
        for (const char *s = text; *s; s++)
            line += *s == '\n';
        fprintf(stderr, "%s:%d: NUL byte in the file\n", path, line);
        free(text);
        return NULL;
    }
    return text;
}

static int write_one(const char *prefix, const char *suffix, const struct idl_protocol *p,
                     void (*emit)(FILE *, const struct idl_protocol *, const char *), const char *base)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s%s", prefix, suffix) >= (int)sizeof path) {
        fprintf(stderr, "idlc: output name too long\n");
        return -1;
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "%s: cannot create\n", path);
        return -1;
    }
    emit(f, p, base);
    if (fclose(f)) {
        fprintf(stderr, "%s: cannot write\n", path);
        remove(path);
        return -1;
    }
    return 0;
}

static void emit_header(FILE *f, const struct idl_protocol *p, const char *base)
{
    (void)base;
    idl_emit_header(f, p);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: idlc FILE.idl OUTPUT-PREFIX\n");
        return 2;
    }
    char *text = read_file(argv[1]);
    if (!text)
        return 1;
    static struct idl_protocol p;
    char err[512];
    int bad = idl_parse(argv[1], text, &p, err, sizeof err);
    free(text);
    if (bad) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    /* The .c files include the header by its own name: it sits beside them. */
    const char *slash = strrchr(argv[2], '/');
    char base[256];
    if (snprintf(base, sizeof base, "%s.h", slash ? slash + 1 : argv[2]) >= (int)sizeof base) {
        fprintf(stderr, "idlc: output name too long\n");
        return 1;
    }
    if (write_one(argv[2], ".h", &p, emit_header, base) ||
        write_one(argv[2], "_client.c", &p, idl_emit_client, base) ||
        write_one(argv[2], "_server.c", &p, idl_emit_server, base))
        return 1;
    return 0;
}
