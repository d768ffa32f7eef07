// uses: servers/init/manifest.c
/*
 * servers/init/manifest.c: the boot manifest parser.  Every mistake it
 * knows is refused with its line and reason; a good manifest gives each
 * field and an order that starts every program after what it needs.
 */
#include <string.h>

#include "harness.h"
#include "../../servers/init/manifest.h"

static struct manifest m;

static int parse(const char *text)
{
    return manifest_parse(text, strlen(text), &m);
}

/* Refused at `line`, with `why` in the reason. */
static int refused(const char *text, int line, const char *why)
{
    if (parse(text) != -1)
        return 0;
    if (m.error_line != line || !strstr(m.error, why)) {
        printf("  got line %d: %s\n", m.error_line, m.error);
        return 0;
    }
    return 1;
}

static int position(const char *name)
{
    for (int k = 0; k < m.count; k++)
        if (!strcmp(m.e[m.order[k]].name, name))
            return k;
    return -1;
}

TEST(manifest_every_field)
{
    CHECK_EQ(parse("# a comment\n\n"
                   "console priority=200 memory=32 ports=0x3f8-0x3ff irq=4 register=/dev/console restart=never limit=3 cnode=14\n"
                   "  shell needs=console procs lazy pages=512 args=ip=10.0.0.1/24,gw=10.0.0.9   # trailing comment\n"), 0);
    CHECK_EQ(m.count, 2);
    const struct manifest_entry *c = &m.e[0], *s = &m.e[1];
    CHECK(!strcmp(c->name, "console") && !strcmp(c->module, "console.elf"));
    CHECK_EQ(c->priority, 200);
    CHECK_EQ(c->memory_mib, 32);
    CHECK(c->has_ports && c->port_first == 0x3f8 && c->port_last == 0x3ff);
    CHECK_EQ(c->irq, 4);
    CHECK(!strcmp(c->prefix, "/dev/console"));
    CHECK_EQ(c->restart, RESTART_NEVER);
    CHECK_EQ(c->limit, 3);
    CHECK_EQ(c->line, 3);
    CHECK(!c->procs && s->procs);
    CHECK(!c->lazy && s->lazy);
    CHECK(c->pages == 0 && s->pages == 512);
    CHECK(c->cnode_bits == 14 && s->cnode_bits == 0);   /* 0: init's default */
    CHECK(!strcmp(c->args, "") && !strcmp(s->args, "ip=10.0.0.1/24,gw=10.0.0.9"));
    /* The defaults. */
    CHECK_EQ(s->priority, 100);
    CHECK_EQ(s->memory_mib, 16);
    CHECK_EQ(s->irq, -1);
    CHECK(!s->has_ports && !s->prefix[0]);
    CHECK_EQ(s->restart, RESTART_ALWAYS);
    CHECK_EQ(s->limit, 5);
    CHECK_EQ(s->nneeds, 1);
    CHECK_EQ(s->needs[0], 0);
    CHECK_EQ(s->line, 4);
}

TEST(manifest_pci)
{
    CHECK_EQ(parse("pci pci ports=0xcf8-0xcff register=/dev/pci\nblk needs=pci\n"), 0);
    CHECK(m.e[0].pci && !m.e[1].pci);
    CHECK(m.e[0].has_ports && m.e[0].port_first == 0xcf8);
    CHECK(position("pci") < position("blk"));
}

TEST(manifest_arg)
{
    /* make run LOGIN=ash: the shell's line gains args=login=ash. */
    CHECK_EQ(parse("shell args=login=ash\nkv\n"), 0);
    CHECK(!strcmp(m.e[0].args, "login=ash") && !m.e[1].args[0]);
}

TEST(manifest_order_follows_needs)
{
    /* Listed backwards: each needs the next line's program. */
    CHECK_EQ(parse("d needs=c,b\nc needs=b\nb needs=a\na module=first.elf\ne\n"), 0);
    CHECK_EQ(m.count, 5);
    CHECK(!strcmp(m.e[3].module, "first.elf"));
    CHECK(position("a") < position("b"));
    CHECK(position("b") < position("c"));
    CHECK(position("c") < position("d"));
    CHECK(position("e") >= 0);
    int seen[MANIFEST_MAX] = { 0 };
    for (int k = 0; k < m.count; k++)
        seen[m.order[k]]++;
    for (int i = 0; i < m.count; i++)
        CHECK_EQ(seen[i], 1);
}

TEST(manifest_mistakes_refused_with_line)
{
    CHECK(refused("a\nb prio=3\n", 2, "unknown key 'prio'"));
    CHECK(refused("a lazy=yes\n", 1, "unknown key 'lazy'"));
    CHECK(refused("a pci=yes\n", 1, "unknown key 'pci'"));
    CHECK(refused("a pci\nb\nc pci\n", 3, "pci is given to 'a' (line 1) already"));
    CHECK(refused("a priority\n", 1, "'priority' is not key=value"));
    CHECK(refused("a priority=\n", 1, "is not key=value"));
    CHECK(refused("a priority=0\n", 1, "priority '0' is not 1-254"));
    CHECK(refused("a priority=255\n", 1, "priority '255'"));
    CHECK(refused("a priority=12x\n", 1, "priority '12x'"));
    CHECK(refused("a priority=-1\n", 1, "priority '-1'"));
    CHECK(refused("a memory=24\n", 1, "memory '24' is not a power of two"));
    CHECK(refused("a memory=8\n", 1, "memory '8'"));
    CHECK(refused("a memory=256\n", 1, "memory '256'"));
    CHECK(refused("a pages=0\n", 1, "pages '0' is not 1-512"));
    CHECK(refused("a pages=513\n", 1, "pages '513'"));
    CHECK(refused("a pages=many\n", 1, "pages 'many'"));
    CHECK(refused("a ports=0x3f8\n", 1, "is not FIRST-LAST"));
    CHECK(refused("a ports=0x3ff-0x3f8\n", 1, "is not a range"));
    CHECK(refused("a ports=1-0x10000\n", 1, "is not a range"));
    CHECK(refused("a irq=16\n", 1, "irq '16' is not an ISA line"));
    CHECK(refused("a register=dev\n", 1, "register 'dev' is not a name"));
    CHECK(refused("a register=/dev/\n", 1, "register '/dev/'"));
    CHECK(refused("a register=/a//b\n", 1, "register '/a//b'"));
    CHECK(refused("a restart=sometimes\n", 1, "restart 'sometimes'"));
    CHECK(refused("a limit=101\n", 1, "limit '101'"));
    CHECK(refused("a cnode=11\n", 1, "cnode '11' is not 12-16"));
    CHECK(refused("a cnode=17\n", 1, "cnode '17' is not 12-16"));
    CHECK(refused("a module=Bad!\n", 1, "bad module name 'Bad!'"));
    CHECK(refused("a args=\n", 1, "'args=' is not key=value"));
    char longargs[200];
    snprintf(longargs, sizeof longargs, "a args=%0128d\n", 0);
    CHECK(refused(longargs, 1, "args longer than 127 bytes"));
    CHECK(refused("\n\nBad\n", 3, "bad program name 'Bad'"));
    CHECK(refused("a\nb\na\n", 3, "program 'a' is listed twice"));
    CHECK(refused("a\ninit\n", 2, "'init' names init itself; no program may take it"));
    CHECK(refused("a needs=zz\n", 1, "needs 'zz', which is not listed"));
    CHECK(refused("a needs=b,c,d,e,f\nb\nc\nd\ne\nf\n", 1, "needs more than 4"));
    CHECK(refused("a needs=b\nb needs=c\nc needs=a\n", 1, "needs itself through a cycle"));
    CHECK(refused("a needs=a\n", 1, "cycle"));
    CHECK(refused("a register=/svc\nb register=/svc/kv\n", 2, "overlaps '/svc' (line 1)"));
    CHECK(refused("# only a comment\n", 0, "no programs listed"));
    CHECK(refused("", 0, "no programs listed"));
}

TEST(manifest_limits_refused)
{
    char text[1024] = "";
    for (int i = 0; i <= MANIFEST_MAX; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "p%d\n", i);
    CHECK(refused(text, MANIFEST_MAX + 1, "more than 16 programs"));
    char line[400];
    memset(line, 'x', sizeof line);
    memcpy(line, "a ", 2);
    line[sizeof line - 1] = 0;
    CHECK(refused(line, 1, "line longer than"));
    static const char nul[] = "a\nb\0c\n";
    CHECK_EQ(manifest_parse(nul, sizeof nul - 1, &m), -1);
    CHECK_EQ(m.error_line, 2);
    CHECK(strstr(m.error, "NUL"));
    CHECK(refused("abcdefghijklmnopqrstuvwxyz0123456\n", 1, "bad program name"));
}

TEST(manifest_prefixes)
{
    CHECK(manifest_prefix_allows("/svc/kv", "/svc/kv"));
    CHECK(manifest_prefix_allows("/svc/kv", "/svc/kv/admin"));
    CHECK(!manifest_prefix_allows("/svc/kv", "/svc/kvx"));
    CHECK(!manifest_prefix_allows("/svc/kv", "/svc"));
    CHECK(!manifest_prefix_allows("", "/svc"));
}
