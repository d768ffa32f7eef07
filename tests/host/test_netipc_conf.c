// uses: servers/netipc/conf.c servers/netipc/wire.c
/*
 * The network IPC server's configuration parser and its wire format
 * (servers/netipc/): a full file, every mistake with its line, and
 * requests and replies round trip and refuse malformed bytes.
 */
#include "harness.h"
#include "conf.h"
#include "wire.h"

#include <string.h>

#define KEY_A "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define KEY_B "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"

static struct conf c;
static char why[128];

static int parse(const char *text)
{
    return conf_parse(&c, text, strlen(text), why, sizeof why);
}

TEST(a_full_file_parses)
{
    const char *text = "# node A\n"
                       "node 1\n"
                       "port 7700   # UDP\n"
                       "secret " KEY_A "\n"
                       "\n"
                       "peer 2 10.0.0.2 7701 " KEY_B "\n"
                       "\tpeer 3 192.168.1.254 1 " KEY_A "\r\n"
                       "export /svc/kv\n"
                       "import 2 /svc/kv\n"
                       "import 3 /svc/other/deeper";      /* no final newline */
    CHECK_EQ(parse(text), 0);
    CHECK_EQ(c.node, 1);
    CHECK_EQ(c.port, 7700);
    CHECK_EQ(c.secret_key[0], 0x00);
    CHECK_EQ(c.secret_key[31], 0xff);
    CHECK_EQ(c.npeers, 2);
    CHECK_EQ(c.peers[0].node, 2);
    CHECK_EQ(c.peers[0].ip, 0x0a000002);
    CHECK_EQ(c.peers[0].port, 7701);
    CHECK_EQ(c.peers[0].public_key[0], 0xff);
    CHECK_EQ(c.peers[1].ip, 0xc0a801fe);
    CHECK_EQ(c.nexports, 1);
    CHECK(conf_exports(&c, "/svc/kv"));
    CHECK(!conf_exports(&c, "/svc/k"));
    CHECK_EQ(c.nimports, 2);
    CHECK_EQ(c.imports[1].node, 3);
    CHECK(!strcmp(c.imports[1].name, "/svc/other/deeper"));
    CHECK(!strcmp(c.prefix, "/net"));
    CHECK_EQ(parse("node 5\nport 9\nsecret " KEY_A "\npublish /net/other\n"), 0);
    CHECK(!strcmp(c.prefix, "/net/other"));
}

TEST(every_mistake_names_its_line)
{
    static const struct {
        const char *text;
        int line;
        const char *why;
    } cases[] = {
        { "node 0\n", 1, "node is not a number from 1" },
        { "node x\n", 1, "node is not a number from 1" },
        { "node 1\nnode 2\n", 2, "node given twice" },
        { "port 65536\n", 1, "port is not 1-65535" },
        { "port 1\nport 2\n", 2, "port given twice" },
        { "secret abc\n", 1, "secret is not 64 hexadecimal digits" },
        { "secret " KEY_A "0\n", 1, "secret is not 64 hexadecimal digits" },
        { "secret 0g112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n", 1,
          "secret is not 64 hexadecimal digits" },
        { "secret " KEY_A "\nsecret " KEY_A "\n", 2, "secret given twice" },
        { "peer 2 10.0.0 7 " KEY_B "\n", 1, "peer address is not A.B.C.D" },
        { "peer 2 10.0.0.256 7 " KEY_B "\n", 1, "peer address is not A.B.C.D" },
        { "peer 2 10.0.0.1. 7 " KEY_B "\n", 1, "peer address is not A.B.C.D" },
        { "peer 0 10.0.0.1 7 " KEY_B "\n", 1, "peer node is not a number from 1" },
        { "peer 2 10.0.0.1 0 " KEY_B "\n", 1, "peer port is not 1-65535" },
        { "peer 2 10.0.0.1 7 xyz\n", 1, "peer key is not 64 hexadecimal digits" },
        { "peer 2 10.0.0.1 7 " KEY_B "\npeer 2 10.0.0.3 7 " KEY_B "\n", 2, "peer listed twice" },
        { "peer 2 1.1.1.1 7 " KEY_B "\npeer 3 1.1.1.1 7 " KEY_B "\npeer 4 1.1.1.1 7 " KEY_B
          "\npeer 5 1.1.1.1 7 " KEY_B "\npeer 6 1.1.1.1 7 " KEY_B "\n", 5, "too many peers" },
        { "export kv\n", 1, "export is not a service name /svc/..." },
        { "export /svc/\n", 1, "export is not a service name /svc/..." },
        { "export /svc/a//b\n", 1, "export is not a service name /svc/..." },
        { "export /svc/a/\n", 1, "export is not a service name /svc/..." },
        { "import 2 /dev/console\n", 1, "import is not a service name /svc/..." },
        { "import x /svc/kv\n", 1, "import node is not a number from 1" },
        { "publish net\n", 1, "publish is not a name prefix such as /net" },
        { "publish /net/\n", 1, "publish is not a name prefix such as /net" },
        { "\n\nfrobnicate 1\n", 3, "not one of" },
        { "node\n", 1, "not one of" },
        { "node 1 2\n", 1, "not one of" },
        { "a b c d e f g\n", 1, "too many words" },
        { "node 1\nport 1\n", -1, "node, port and secret are all needed" },
        { "node 1\nport 1\nsecret " KEY_A "\npeer 1 1.2.3.4 5 " KEY_B "\n", -1, "a peer has this node's own number" },
        { "node 1\nport 1\nsecret " KEY_A "\nimport 2 /svc/kv\n", -1, "an import names a node that is not a peer" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int line = parse(cases[i].text);
        if (line != cases[i].line || strncmp(why, cases[i].why, strlen(cases[i].why))) {
            printf("  case %zu: line %d '%s'\n", i, line, why);
            CHECK(0);
        }
    }
    /* Too many exports and imports, a line too long, a NUL byte. */
    char text[4096] = "";
    for (int i = 0; i < CONF_EXPORTS + 1; i++)
        strcat(text, "export /svc/x\n");
    CHECK_EQ(parse(text), CONF_EXPORTS + 1);
    CHECK(!strcmp(why, "too many exports"));
    text[0] = '\0';
    strcat(text, "peer 2 1.1.1.1 7 " KEY_B "\n");
    for (int i = 0; i < CONF_IMPORTS + 1; i++)
        strcat(text, "import 2 /svc/x\n");
    CHECK_EQ(parse(text), CONF_IMPORTS + 2);
    CHECK(!strcmp(why, "too many imports"));
    memset(text, 'a', 300);
    text[300] = '\0';
    CHECK_EQ(parse(text), 1);
    CHECK(!strcmp(why, "line longer than 255 bytes"));
    CHECK_EQ(conf_parse(&c, "node 1\0", 7, why, sizeof why), 1);
    CHECK(!strcmp(why, "NUL byte"));
}

TEST(requests_and_replies_round_trip)
{
    uint64_t words[WIRE_WORDS_MAX], got[WIRE_WORDS_MAX], label;
    uint8_t buf[2048];
    char name[WIRE_NAME_MAX + 1];
    unsigned n;
    int status;
    for (unsigned i = 0; i < WIRE_WORDS_MAX; i++)
        words[i] = 0x0102030405060708ull * (i + 1);
    unsigned counts[] = { 0, 1, 4, 5, WIRE_WORDS_MAX };
    for (size_t k = 0; k < 5; k++) {
        size_t len = wire_request(buf, sizeof buf, "/svc/kv", 0x10002, words, counts[k]);
        CHECK_EQ(len, 2 + 7 + 9 + 8 * counts[k]);
        CHECK(wire_parse_request(buf, len, name, &label, got, &n));
        CHECK(!strcmp(name, "/svc/kv"));
        CHECK_EQ(label, 0x10002);
        CHECK_EQ(n, counts[k]);
        CHECK(!memcmp(got, words, 8 * n));
        len = wire_reply(buf, sizeof buf, WIRE_DIED, 0x106, words, counts[k]);
        CHECK_EQ(len, 2 + 9 + 8 * counts[k]);
        CHECK(wire_parse_reply(buf, len, &status, &label, got, &n));
        CHECK_EQ(status, WIRE_DIED);
        CHECK_EQ(label, 0x106);
        CHECK_EQ(n, counts[k]);
        CHECK(!memcmp(got, words, 8 * n));
    }
}

TEST(malformed_wire_messages_are_refused)
{
    uint64_t words[WIRE_WORDS_MAX + 1] = { 0 }, label;
    uint8_t buf[2048];
    char name[WIRE_NAME_MAX + 1];
    unsigned n;
    int status;
    char long_name[WIRE_NAME_MAX + 2];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    /* Encoding: empty or over-long name, too many words, no room, unknown status. */
    CHECK_EQ(wire_request(buf, sizeof buf, "", 1, words, 0), 0);
    CHECK_EQ(wire_request(buf, sizeof buf, long_name, 1, words, 0), 0);
    CHECK_EQ(wire_request(buf, sizeof buf, "/svc/kv", 1, words, WIRE_WORDS_MAX + 1), 0);
    CHECK_EQ(wire_request(buf, 17, "/svc/kv", 1, words, 0), 0);
    CHECK_EQ(wire_reply(buf, sizeof buf, 3, 1, words, 0), 0);
    CHECK_EQ(wire_reply(buf, sizeof buf, -1, 1, words, 0), 0);
    CHECK_EQ(wire_reply(buf, 10, 0, 1, words, 0), 0);
    /* Decoding: every cut, a wrong version, a NUL in the name, a count beyond the bytes or the maximum. */
    size_t len = wire_request(buf, sizeof buf, "/svc/kv", 1, words, 3);
    for (size_t cut = 0; cut < len; cut++)
        CHECK(!wire_parse_request(buf, cut, name, &label, words, &n));
    CHECK(!wire_parse_request(buf, len + 1, name, &label, words, &n));
    buf[0] = 2;
    CHECK(!wire_parse_request(buf, len, name, &label, words, &n));
    buf[0] = WIRE_VERSION;
    buf[3] = '\0';
    CHECK(!wire_parse_request(buf, len, name, &label, words, &n));
    buf[3] = 's';
    buf[1] = 0;
    CHECK(!wire_parse_request(buf, len, name, &label, words, &n));
    buf[1] = 7;
    CHECK(wire_parse_request(buf, len, name, &label, words, &n));
    len = wire_reply(buf, sizeof buf, WIRE_OK, 0, words, 2);
    for (size_t cut = 0; cut < len; cut++)
        CHECK(!wire_parse_reply(buf, cut, &status, &label, words, &n));
    buf[1] = 3;
    CHECK(!wire_parse_reply(buf, len, &status, &label, words, &n));
    buf[1] = 0;
    buf[10] = WIRE_WORDS_MAX + 1;
    CHECK(!wire_parse_reply(buf, 11 + 8 * (WIRE_WORDS_MAX + 1), &status, &label, words, &n));
    buf[10] = 2;
    CHECK(wire_parse_reply(buf, len, &status, &label, words, &n));
}
