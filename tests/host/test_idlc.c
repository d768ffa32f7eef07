// uses: tools/idlc/parse.c tools/idlc/emit.c
/*
 * The interface-definition compiler (tools/idlc): the parser on a good
 * protocol and on every kind of mistake (each reported as file:line:
 * reason), the size limits, and the built idlc program's exit status and
 * output files.
 */
#define _POSIX_C_SOURCE 200809L         /* mkdtemp */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "../../tools/idlc/idl.h"

static struct idl_protocol proto;
static char err[512];

static const char good[] =
    "# a comment line\n"
    "protocol shop 7   # trailing comment\n"
    "error sold_out 3\n"
    "error closed 9\n"
    "\n"
    "message buy 1 idempotent\n"
    "\tin item string 16\n"
    "    in count u16\n"
    "    in voucher cap\n"
    "    out receipt bytes 200\n"
    "    out change i64\n"
    "    errors sold_out closed\n"
    "message ping 2\n";

TEST(good_protocol_parses)
{
    CHECK_EQ(idl_parse("shop.idl", good, &proto, err, sizeof err), 0);
    CHECK(!strcmp(proto.name, "shop"));
    CHECK_EQ(proto.version, 7);
    CHECK_EQ(proto.nerrors, 2);
    CHECK_EQ(proto.errors[1].number, 9);
    CHECK_EQ(proto.nmsgs, 2);
    const struct idl_msg *m = &proto.msgs[0];
    CHECK(!strcmp(m->name, "buy"));
    CHECK_EQ(m->label, 1);
    CHECK_EQ(m->idempotent, 1);
    CHECK_EQ(m->nin, 3);
    CHECK_EQ(m->in[0].kind, IDL_STRING);
    CHECK_EQ(m->in[0].max, 16);
    CHECK_EQ(m->in[1].kind, IDL_U16);
    CHECK_EQ(m->in[2].kind, IDL_CAP);
    CHECK_EQ(m->nout, 2);
    CHECK_EQ(m->out[0].kind, IDL_BYTES);
    CHECK_EQ(m->out[1].kind, IDL_I64);
    CHECK_EQ(m->nerrors, 2);
    CHECK_EQ(proto.msgs[1].idempotent, 0);
    CHECK_EQ(proto.msgs[1].nin + proto.msgs[1].nout, 0);
}

TEST(message_sizes)
{
    CHECK_EQ(idl_parse("shop.idl", good, &proto, err, sizeof err), 0);
    const struct idl_msg *m = &proto.msgs[0];
    /* Request: item length and count in words 0-1; item's 16 bytes from word 4. */
    CHECK_EQ(idl_fixed_words(m->in, m->nin), 2);
    CHECK_EQ(idl_max_words(m->in, m->nin), 4 + 2);
    /* Reply: receipt length and change; 200 bytes are 25 words. */
    CHECK_EQ(idl_max_words(m->out, m->nout), 4 + 25);
    CHECK_EQ(idl_max_words(proto.msgs[1].in, 0), 0);
}

/* Each mistake, the line it is on, and a piece of the reason. */
static const struct {
    const char *text;
    int line;
    const char *reason;
} bad[] = {
    { "", 1, "no 'protocol' line" },
    { "protocol p 1\n", 2, "has no messages" },
    { "message m 1\n", 1, "before the 'protocol' line" },
    { "protocol p 1\nprotocol q 1\n", 2, "a second 'protocol'" },
    { "protocol p\n", 1, "takes a name and a version" },
    { "protocol p 0\n", 1, "outside 1..65535" },
    { "protocol p 65536\n", 1, "outside 1..65535" },
    { "protocol p x1\n", 1, "is not a number" },
    { "protocol p 1x\n", 1, "is not a number" },
    { "protocol 9p 1\n", 1, "not a C identifier" },
    { "protocol p 1\nmessage register 1\n", 2, "name 'register' is a C keyword" },
    { "protocol p 1\nmessage m 1\n  in int u32\n", 3, "name 'int' is a C keyword" },
    { "protocol p 1\nfrobnicate\n", 2, "unknown statement" },
    { "protocol p 1\nin x u8\n", 2, "outside a message" },
    { "protocol p 1\nerrors e\n", 2, "outside a message" },
    { "protocol p 1\nmessage m 1\n  in x u7\n", 3, "unknown type 'u7'" },
    { "protocol p 1\nmessage m 1\n  in x\n", 3, "needs a name and a type" },
    { "protocol p 1\nmessage m 1\n  in x u8 extra\n", 3, "unexpected 'extra'" },
    { "protocol p 1\nmessage m 1\n  in x string\n", 3, "needs its maximum length" },
    { "protocol p 1\nmessage m 1\n  in x string 0\n", 3, "outside 1..928" },
    { "protocol p 1\nmessage m 1\n  in x bytes 929\n", 3, "outside 1..928" },
    { "protocol p 1\nmessage m 1\n  in x bytes 900\n  in y bytes 100\n", 4, "more than the 120" },
    { "protocol p 1\nmessage m 1\n  in x u8\n  out x u8\n", 4, "named twice" },
    { "protocol p 1\nmessage m 1\n  in a cap\n  in b cap\n", 4, "second in capability" },
    { "protocol p 1\nmessage m 1\n  out a cap\n  out b cap\n", 4, "second out capability" },
    { "protocol p 1\nmessage m 1\n  in idl_x u8\n", 3, "starts with idl_" },
    { "protocol p 1\nmessage m 1\n  in x_len u8\n", 3, "ends in _len" },
    { "protocol p 1\nmessage m 1\nmessage m 2\n", 3, "declared twice" },
    { "protocol p 1\nmessage m 1\nmessage n 1\n", 3, "label 1 used" },
    { "protocol p 1\nmessage m 0\n", 2, "outside 1..65535" },
    { "protocol p 1\nmessage dispatch 1\n", 2, "taken by generated code" },
    { "protocol p 1\nmessage e_full 1\n", 2, "taken by generated code" },
    { "protocol p 1\nmessage m 1 sometimes\n", 2, "only 'idempotent'" },
    { "protocol p 1\nmessage m 1\n  errors nope\n", 3, "'nope' is not declared" },
    { "protocol p 1\nerror e 1\nmessage m 1\n  errors e e\n", 4, "named twice" },
    { "protocol p 1\nerror e 1\nerror e 2\n", 3, "declared twice" },
    { "protocol p 1\nerror e 1\nerror f 1\n", 3, "number 1 used" },
    { "protocol p 1\nerror e 0\n", 2, "outside 1..65535" },
    { "protocol p 1\nmessage m 1\nerror e 1\n", 3, "before the first message" },
    { "protocol p 1\x01\n", 1, "control character" },
    { "protocol p 1\nmessage averyveryveryverylongmessagename_x 1\n", 2, "longer than 31" },
};

TEST(every_mistake_reported_with_its_line)
{
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (idl_parse("t.idl", bad[i].text, &proto, err, sizeof err) != -1) {
            printf("  case %u: accepted\n", i);
            CHECK(0);
        }
        char where[32];
        snprintf(where, sizeof where, "t.idl:%d: ", bad[i].line);
        if (strncmp(err, where, strlen(where)) || !strstr(err, bad[i].reason)) {
            printf("  case %u: got \"%s\", wanted \"%s...%s\"\n", i, err, where, bad[i].reason);
            CHECK(0);
        }
    }
}

TEST(long_line_refused)
{
    char text[400];
    memset(text, ' ', sizeof text);
    memcpy(text, "protocol p 1\n", 13);
    text[sizeof text - 1] = 0;
    CHECK_EQ(idl_parse("t.idl", text, &proto, err, sizeof err), -1);
    CHECK(strstr(err, "t.idl:2: line longer than") == err);
}

/* Runs the built idlc; returns its exit status, its stderr in `out`. */
static int run_idlc(const char *dir, const char *input, char *out, size_t outlen)
{
    const char *build = getenv("BUILD") ? getenv("BUILD") : "build";
    char path[512], cmd[2048];
    snprintf(path, sizeof path, "%s/in.idl", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(input, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s/tools/idlc %s %s/gen 2> %s/stderr", build, path, dir, dir);
    int status = system(cmd);
    snprintf(path, sizeof path, "%s/stderr", dir);
    out[0] = 0;
    if ((f = fopen(path, "r"))) {
        size_t n = fread(out, 1, outlen - 1, f);
        out[n] = 0;
        fclose(f);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int exists(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

TEST(idlc_exit_status_and_outputs)
{
    char dir[] = "/tmp/idlc-test-XXXXXX", out[1024];
    CHECK(mkdtemp(dir));
    CHECK_EQ(run_idlc(dir, "protocol p 1\nmessage m 1\n  in x u99\n", out, sizeof out), 1);
    char want[600];
    snprintf(want, sizeof want, "%s/in.idl:3: unknown type 'u99'", dir);
    CHECK(strstr(out, want) == out);
    CHECK(!exists(dir, "gen.h"));
    CHECK_EQ(run_idlc(dir, good, out, sizeof out), 0);
    CHECK_EQ(out[0], 0);
    CHECK(exists(dir, "gen.h"));
    CHECK(exists(dir, "gen_client.c"));
    CHECK(exists(dir, "gen_server.c"));
    char cmd[600];
    snprintf(cmd, sizeof cmd, "grep -q 'long shop_buy(struct pith_client' %s/gen.h && "
                              "grep -q 'void shop_dispatch' %s/gen_server.c", dir, dir);
    CHECK_EQ(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_EQ(system(cmd), 0);
}

/* The emitter under the sanitizers: every kind of argument, both directions. */
TEST(emitter_runs_clean)
{
    CHECK_EQ(idl_parse("shop.idl", good, &proto, err, sizeof err), 0);
    FILE *f = tmpfile();
    CHECK(f);
    idl_emit_header(f, &proto);
    idl_emit_client(f, &proto, "shop.h");
    idl_emit_server(f, &proto, "shop.h");
    long size = ftell(f);
    rewind(f);
    char *text = calloc(1, (size_t)size + 1);
    CHECK(text && fread(text, 1, (size_t)size, f) == (size_t)size);
    fclose(f);
    /* The stub sends the capability and the idempotent mark; the server checks the string's bound. */
    CHECK(strstr(text, "idl_m.tag = PITH_TAG(PITH_IDL_LABEL(7, 1), idl_at) | PITH_TAG_CAP;"));
    CHECK(strstr(text, "pith_idl_call(idl_c, &idl_m, true)"));
    CHECK(strstr(text, "if (idl_w_0 > 16) {\n        idl_err = PITH_IDL_E_ARG;"));
    CHECK(strstr(text, "SHOP_E_SOLD_OUT = PITH_IDL_E_PROTOCOL(3),"));
    free(text);
}
