/*
 * A process tree three deep (tests/system/base.sh).  One program in three
 * roles, by the name it was started under: the root (the manifest's
 * entry, 64 MiB) creates tree-mid (16 MiB of its quota), which creates
 * tree-leaf (4 MiB of the middle's).  Each checks what it may not do:
 * ask for more memory than it has, act on its parent or on init.  The
 * root then checks the parents in the listing, stops the middle (the
 * leaf must go too), starts it again, removes it (its quota comes back to
 * the root, exactly), creates it again with a restart limit and kills it
 * (the restarted middle builds its leaf again).  First it fills the
 * process table with small children (the scenario's manifest lists
 * enough programs for that) and checks that a full table refuses.  The children report
 * their checks on the kernel log, which the root reads.  Prints
 * "treetest: PASS ..." or "treetest: FAIL ..." and leaves the tree
 * running for the shell's ps.
 */
#include "idl.h"
#include "procmgr.h"
#include "process.h"
#include "resolver.h"
#include "tls.h"

#include <stdio.h>
#include <string.h>

#define MIB (1ull << 20)

static struct pith_client pm;
static const char *self;

static long procmgr_itself(void *ctx, const char *name, uint64_t dest_slot)
{
    return pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, dest_slot, PITH_SLOT_PROCS, PITH_RIGHTS_ALL, 0);
}

static const struct pith_resolver boot_capability = { .lookup = procmgr_itself };

static _Noreturn void fail(const char *what, long err)
{
    printf("treetest: FAIL (%s): %s (%ld)\n", self, what, err);
    for (;;)
        pith_sleep_ns(1000000000000ull);
}

static void expect(const char *what, long err, long want)
{
    if (err != want)
        fail(what, err);
}

struct entry {
    uint32_t pid, parent, restarts;
    uint8_t state;
    uint64_t memory, used;
};

/* The listing's entry for name; 0 if it is not listed. */
static int find(const char *name, struct entry *e)
{
    char n[PROCMGR_LIST_NAME_MAX + 1];
    uint64_t cpu;
    int64_t status;
    for (uint32_t i = 0; procmgr_list(&pm, i, n, &e->pid, &e->parent, &e->state, &e->memory, &e->used, &cpu,
                                      &e->restarts, &status) == 0; i++)
        if (!strcmp(n, name))
            return 1;
    return 0;
}

/* The kernel log since log_mark: where we read up to, and what came after. */
static uint64_t log_pos;
static char log_text[64 * 1024 + 1];
static size_t log_len;

static void log_read_new(void)
{
    struct pith_ipc_buffer *buf = pith_tls_self()->ipc_buffer;
    for (;;) {
        struct pith_msg m = { .w = { log_pos } };
        if (pith_invoke(PITH_SLOT_LOG, PITH_LOG_READ, &m) || m.w[0] == 0)
            break;
        if (log_len + m.w[0] >= sizeof log_text)
            fail("more kernel log since the mark than our buffer holds", (long)log_len);
        memcpy(log_text + log_len, buf->msg, m.w[0]);
        log_len += m.w[0];
        log_pos = m.w[1];
    }
    log_text[log_len] = 0;
}

/* From here on: what the log held before is not looked at. */
static void log_mark(void)
{
    log_read_new();
    log_len = 0;
}

/* Waits (at most 20 s) until the log holds line after the mark. */
static void wait_log(const char *line)
{
    for (int i = 0; i < 2000; i++) {
        log_read_new();
        if (strstr(log_text, line))
            return;
        pith_sleep_ns(10000000);
    }
    fail(line, 0);
}

static void leaf(void)
{
    expect("the leaf asks for more memory than it has", procmgr_create(&pm, "tree-x", "treetest.elf", 4, 0),
           PROCMGR_E_NO_MEMORY);
    expect("the leaf stops its parent", procmgr_stop(&pm, "tree-mid"), PROCMGR_E_DENIED);
    expect("the leaf removes the root", procmgr_remove(&pm, "treetest"), PROCMGR_E_DENIED);
    printf("tree-leaf: checks passed\n");
}

static void middle(void)
{
    expect("the middle asks for more memory than it has", procmgr_create(&pm, "tree-big", "treetest.elf", 16, 0),
           PROCMGR_E_NO_MEMORY);
    expect("the middle stops its parent", procmgr_stop(&pm, "treetest"), PROCMGR_E_DENIED);
    expect("the middle stops init", procmgr_stop(&pm, "init"), PROCMGR_E_INIT);
    expect("the middle creates the leaf", procmgr_create(&pm, "tree-leaf", "treetest.elf", 4, 0), 0);
    expect("the middle starts the leaf", procmgr_start(&pm, "tree-leaf"), 0);
    printf("tree-mid: checks passed\n");
}

/* Starts tree-mid and waits for both it and its leaf to have passed their checks. */
static void start_middle(void)
{
    log_mark();
    expect("start tree-mid", procmgr_start(&pm, "tree-mid"), 0);
    wait_log("tree-mid: checks passed");
    wait_log("tree-leaf: checks passed");
}

static void root(void)
{
    struct entry me, mid, lf;
    /* Bad requests: refused, nothing created. */
    expect("stop init", procmgr_stop(&pm, "init"), PROCMGR_E_INIT);
    expect("kill init", procmgr_kill(&pm, "init"), PROCMGR_E_INIT);
    expect("stop a program not ours (no procs)", procmgr_stop(&pm, "shell"), PROCMGR_E_DENIED);
    expect("create with a bad name", procmgr_create(&pm, "Tree!", "treetest.elf", 16, 0), PROCMGR_E_INVALID);
    expect("create with 3 MiB", procmgr_create(&pm, "tree-x", "treetest.elf", 3, 0), PROCMGR_E_INVALID);
    expect("create named init", procmgr_create(&pm, "init", "treetest.elf", 16, 0), PROCMGR_E_INVALID);
    expect("create from no module", procmgr_create(&pm, "tree-x", "nosuch.elf", 16, 0), PROCMGR_E_NO_SUCH);
    expect("create with more than we have", procmgr_create(&pm, "tree-x", "treetest.elf", 64, 0),
           PROCMGR_E_NO_MEMORY);
    expect("create named like a program", procmgr_create(&pm, "shell", "treetest.elf", 16, 0), PROCMGR_E_EXISTS);
    expect("remove no such program", procmgr_remove(&pm, "tree-x"), PROCMGR_E_NO_SUCH);
    expect("remove init", procmgr_remove(&pm, "init"), PROCMGR_E_INIT);
    if (!find(self, &me) || me.parent != 1 || find("tree-x", &lf))
        fail("the root's entry (parent 1, nothing created yet)", me.parent);

    /*
     * Children of 4 MiB until refused: the scenario's manifest lists enough
     * programs that the process table fills before our quota runs out.
     */
    char name[16];
    int made = 0;
    long err;
    do {
        snprintf(name, sizeof name, "tree-f%d", made + 1);
        err = procmgr_create(&pm, name, "treetest.elf", 4, 0);
    } while (!err && ++made < 8);
    if (err != PROCMGR_E_FULL)
        fail("a full process table refuses create", err);
    while (made > 0) {
        snprintf(name, sizeof name, "tree-f%d", made--);
        expect("remove a child never started", procmgr_remove(&pm, name), 0);
    }

    /* Three deep; the parents in the listing. */
    expect("create tree-mid", procmgr_create(&pm, "tree-mid", "treetest.elf", 16, 0), 0);
    expect("create tree-mid twice", procmgr_create(&pm, "tree-mid", "treetest.elf", 16, 0), PROCMGR_E_EXISTS);
    if (!find("tree-mid", &mid) || mid.state != 1 || mid.parent != me.pid || mid.memory != 16 * MIB)
        fail("tree-mid listed stopped, our child, 16 MiB", mid.parent);
    start_middle();
    if (!find("tree-mid", &mid) || mid.state != 0 || mid.parent != me.pid || !find("tree-leaf", &lf) ||
        lf.state != 0 || lf.parent != mid.pid || lf.memory != 4 * MIB)
        fail("the tree's parents in the listing", lf.parent);
    printf("treetest: listed %s (pid %u, parent 1) > tree-mid (pid %u, parent %u) > tree-leaf (pid %u, parent %u)\n",
           self, me.pid, mid.pid, mid.parent, lf.pid, lf.parent);
    find(self, &me);
    uint64_t used = me.used;

    /* Stopping the middle ends the leaf with it; starting it again uses the same quota. */
    expect("stop tree-mid", procmgr_stop(&pm, "tree-mid"), 0);
    if (!find("tree-mid", &mid) || mid.state != 1 || find("tree-leaf", &lf))
        fail("tree-mid stopped and tree-leaf gone", mid.state);
    start_middle();
    if (!find(self, &me) || me.used != used)
        fail("our used memory after starting tree-mid again", (long)(me.used - used));

    /* Removing it: both gone, its quota ours again, and taken again whole by the next child. */
    expect("remove tree-mid", procmgr_remove(&pm, "tree-mid"), 0);
    if (find("tree-mid", &mid) || find("tree-leaf", &lf) || !find(self, &me) || me.used != used - 16 * MIB)
        fail("tree-mid removed with its leaf, its 16 MiB ours again", (long)(used - me.used));
    for (int round = 0; round < 3; round++) {
        expect("create tree-mid again", procmgr_create(&pm, "tree-mid", "treetest.elf", 16, round == 2), 0);
        if (!find(self, &me) || me.used != used)
            fail("our used memory after creating tree-mid again", (long)(me.used - used));
        start_middle();
        if (round < 2)
            expect("remove tree-mid again", procmgr_remove(&pm, "tree-mid"), 0);
    }

    /* Killed with a restart limit: the supervisor restarts it, and it builds its leaf again. */
    find("tree-mid", &mid);
    log_mark();
    expect("kill tree-mid", procmgr_kill(&pm, "tree-mid"), 0);
    wait_log("tree-leaf: checks passed");
    struct entry mid2;
    if (!find("tree-mid", &mid2) || mid2.state != 0 || mid2.pid == mid.pid || mid2.restarts != 1 ||
        !find("tree-leaf", &lf) || lf.parent != mid2.pid)
        fail("tree-mid restarted (a new pid) with a new leaf", mid2.restarts);
    if (!find(self, &me) || me.used != used)
        fail("our used memory after tree-mid's restart", (long)(me.used - used));
    printf("treetest: PASS (three deep, parents listed, more than we have refused, stopped and removed "
           "with its subtree, our quota's use the same throughout)\n");
}

int main(void)
{
    self = pith_bootinfo->cmdline;
    pith_client_init(&pm, "procmgr", &boot_capability, pith_slot_alloc(), pith_tls_self()->ipc_buffer);
    if (!strcmp(self, "tree-leaf"))
        leaf();
    else if (!strcmp(self, "tree-mid"))
        middle();
    else
        root();
    /* The tree stays, for the shell's ps. */
    for (;;)
        pith_sleep_ns(1000000000000ull);
}
