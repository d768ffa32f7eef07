/*
 * idlc: the interface-definition compiler.  An .idl file (docs/idl.md) is
 * parsed into a struct idl_protocol; the emitter writes a header, client
 * stubs and a server dispatch loop from it.
 */
#ifndef IDLC_IDL_H
#define IDLC_IDL_H

#include <stdint.h>
#include <stdio.h>

#define IDL_NAME_MAX    32      /* identifiers, including the terminating NUL */
#define IDL_MAX_ARGS    16      /* per direction, per message */
#define IDL_MAX_ERRORS  32      /* declared by a protocol, and named by one message */
#define IDL_MAX_MSGS    64
#define IDL_MSG_WORDS   120     /* PITH_MSG_MAX: the longest message */
#define IDL_REG_WORDS   4       /* words carried in registers; strings start after them */

enum idl_kind {
    IDL_U8, IDL_U16, IDL_U32, IDL_U64,
    IDL_I8, IDL_I16, IDL_I32, IDL_I64,
    IDL_BOOL,
    IDL_STRING,                 /* text: bytes without NUL, at most max of them */
    IDL_BYTES,                  /* a buffer: any bytes, at most max of them */
    IDL_CAP,                    /* a capability (at most one each way) */
};

struct idl_arg {
    char name[IDL_NAME_MAX];
    enum idl_kind kind;
    uint32_t max;               /* strings and buffers: the most bytes */
};

struct idl_msg {
    char name[IDL_NAME_MAX];
    uint32_t label;
    int idempotent;
    int line;
    struct idl_arg in[IDL_MAX_ARGS], out[IDL_MAX_ARGS];
    int nin, nout;
    int errors[IDL_MAX_ERRORS]; /* indexes into the protocol's errors */
    int nerrors;
};

struct idl_error {
    char name[IDL_NAME_MAX];
    uint32_t number;            /* 1..0xffff; on the wire PITH_IDL_E_PROTOCOL(number) */
};

struct idl_protocol {
    char name[IDL_NAME_MAX];
    uint32_t version;
    struct idl_error errors[IDL_MAX_ERRORS];
    int nerrors;
    struct idl_msg msgs[IDL_MAX_MSGS];
    int nmsgs;
};

/*
 * Parses `text` (the contents of `file`).  Returns 0, or -1 with
 * "file:line: reason" in err.
 */
int idl_parse(const char *file, const char *text, struct idl_protocol *p, char *err, size_t errlen);

/* Words a direction of a message takes at most, and before its string data. */
unsigned idl_fixed_words(const struct idl_arg *args, int n);
unsigned idl_max_words(const struct idl_arg *args, int n);

/* The three outputs; `base` is the header's file name as the .c files include it. */
void idl_emit_header(FILE *f, const struct idl_protocol *p);
void idl_emit_client(FILE *f, const struct idl_protocol *p, const char *base);
void idl_emit_server(FILE *f, const struct idl_protocol *p, const char *base);

#endif
