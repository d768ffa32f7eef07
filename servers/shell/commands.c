/*
 * The shell's commands.  Each checks its arguments and says what was
 * wrong; errors from the servers are turned into words.
 */
#include "shell.h"
#include "names.h"
#include "procmgr.h"
#include "resolver.h"

#include <stdlib.h>
#include <string.h>

/* A process's state, as procmgr.idl numbers them. */
enum { RUNNING, STOPPED, WAITING, GAVE_UP, EXITED };

static const char *state_name(uint8_t s)
{
    static const char *const names[] = { "running", "stopped", "waiting", "gave-up", "exited" };
    return s < sizeof names / sizeof names[0] ? names[s] : "?";
}

static const char *procmgr_error(long err)
{
    switch (err) {
    case PROCMGR_E_NO_SUCH: return "no such program";
    case PROCMGR_E_STATE: return "not in a state that allows it";
    case PROCMGR_E_NO_MEMORY: return "no memory for its quota";
    case PROCMGR_E_FAILED: return "it could not be started";
    case PROCMGR_E_DENIED: return "not ours to act on (neither a descendant nor procs)";
    case PROCMGR_E_INIT: return "that is init, the supervisor: nothing could restart it, so it is never ended";
    case PROCMGR_E_INVALID: return "a bad name or memory size";
    case PROCMGR_E_EXISTS: return "a program by that name is listed already";
    case PROCMGR_E_FULL: return "the process table is full";
    case PROCMGR_E_VITAL: return "the memory manager holds every quota: never started, stopped, killed or restarted by hand";
    case PROCMGR_E_NO_MANAGER: return "the memory manager is not running: no quota can be given";
    default: return "the process manager failed";
    }
}

/* One entry of the process manager's list (procmgr.idl, message list). */
struct entry {
    char name[PROCMGR_LIST_NAME_MAX + 1];
    uint32_t pid, parent, restarts;
    uint8_t state;
    uint64_t memory, used, cpu_ns;
    int64_t status;
};

/* The index-th entry; nonzero past the last. */
static long entry_get(uint32_t index, struct entry *e)
{
    return procmgr_list(&procmgr, index, e->name, &e->pid, &e->parent, &e->state, &e->memory, &e->used, &e->cpu_ns,
                        &e->restarts, &e->status);
}

static void ps(int argc, char **argv)
{
    say("%5s %6s %-8s %8s %8s %10s %8s  %s\n", "PID", "PARENT", "STATE", "MEM-KiB", "USED-KiB", "CPU-ms",
        "RESTARTS", "NAME");
    struct entry e;
    for (uint32_t i = 0; entry_get(i, &e) == 0; i++)
        say("%5u %6u %-8s %8lu %8lu %10lu %8u  %s\n", e.pid, e.parent, state_name(e.state), e.memory >> 10,
            e.used >> 10, e.cpu_ns / 1000000, e.restarts, e.name);
}

static void mem(int argc, char **argv)
{
    uint64_t total, free_bytes, slots, pulls;
    uint32_t committed, pages_free;
    long err = procmgr_memory(&procmgr, &total, &free_bytes, &slots, &committed, &pages_free, &pulls);
    if (err) {
        say("mem: %s\n", procmgr_error(err));
        return;
    }
    say("memory: %lu KiB in all, %lu KiB free, %lu KiB in use; init has %lu capability slots left\n",
        total >> 10, free_bytes >> 10, (total - free_bytes) >> 10, slots);
    say("paging: %u pages committed to clients, %u pages free; %lu image pages pulled from init\n", committed,
        pages_free, pulls);
    struct entry e;
    for (uint32_t i = 0; entry_get(i, &e) == 0; i++)
        if (e.memory)
            say("  %-12s quota %lu KiB, %lu KiB of it made into objects\n", e.name, e.memory >> 10, e.used >> 10);
}

static void names(int argc, char **argv)
{
    struct pith_client *c = names_client();
    char name[NAMES_LIST_NAME_MAX + 1], owner[NAMES_LIST_OWNER_MAX + 1];
    uint32_t i = 0;
    for (; c && names_list(c, i, name, owner) == 0; i++)
        say("%-24s %s\n", name, owner);
    if (i == 0)
        say("no names are registered\n");
}

static void uptime(int argc, char **argv)
{
    uint64_t ns = pith_clock_ns((const struct pith_time_page *)pith_bootinfo->time_page);
    say("up %lu.%03lu s\n", ns / 1000000000, ns / 1000000 % 1000);
}

/* The kernel log ring, read whole through our log capability; its last lines shown. */
static void log_cmd(int argc, char **argv)
{
    char *end;
    long lines = argc > 1 ? strtol(argv[1], &end, 10) : 20;
    if (argc > 1 && (*end || lines <= 0 || lines > 1000)) {
        say("log: '%s' is not a number of lines from 1 to 1000\n", argv[1]);
        return;
    }
    size_t cap = 65536, len = 0;
    char *text = malloc(cap);
    if (!text) {
        say("log: no memory\n");
        return;
    }
    struct pith_ipc_buffer *buf = console.buf;
    uint64_t pos = 0;
    for (;;) {
        struct pith_msg m = { .w = { pos } };
        if (pith_invoke(PITH_SLOT_LOG, PITH_LOG_READ, &m) || m.w[0] == 0)
            break;
        if (len + m.w[0] > cap)         /* keep the newest: drop the oldest half */
            memmove(text, text + cap / 2, len -= cap / 2);
        memcpy(text + len, buf->msg, m.w[0]);
        len += m.w[0];
        pos = m.w[1];
    }
    size_t from = len;
    for (long seen = 0; from > 0; from--)
        if (text[from - 1] == '\n' && from != len && ++seen == lines)
            break;
    for (size_t at = from; at < len; at += 400)
        say("%.*s", (int)(len - at < 400 ? len - at : 400), text + at);
    free(text);
}

/* A program named by its name, or by the pid of its current run: its name; NULL if none. */
static const char *program_name(const char *arg, char *name)
{
    char *end;
    unsigned long want = strtoul(arg, &end, 10);
    if (*arg < '0' || *arg > '9' || *end)
        return arg;
    struct entry e;
    for (uint32_t i = 0; entry_get(i, &e) == 0; i++)
        if (e.pid == want)
            return strcpy(name, e.name);
    return NULL;
}

static const char *type_name(uint8_t t)
{
    static const char *const names[] = {
        "null", "untyped", "cnode", "tcb", "vspace", "page-table", "frame", "endpoint", "notification",
        "reply", "zombie", "log", "io-ports", "irq-control", "irq-handler", "port", "port-group",
    };
    return t < sizeof names / sizeof names[0] ? names[t] : "?";
}

/* The capabilities a process holds, asked of the process manager a slot at a time (procmgr.idl). */
static void caps(int argc, char **argv)
{
    char buf[PROCMGR_LIST_NAME_MAX + 1];
    const char *name = program_name(argv[1], buf);
    if (!name) {
        say("caps: no process has pid %s\n", argv[1]);
        return;
    }
    uint8_t found, type, rights, bits;
    uint32_t from = 0, slot, slots, held = 0;
    uint64_t badge;
    do {
        long err = procmgr_caps(&procmgr, name, from, &found, &slot, &slots, &type, &rights, &badge, &bits);
        if (err == PITH_IDL_E_ARG) {
            say("caps: '%s' is too long for a program name\n", name);
            return;
        }
        if (err == PROCMGR_E_STATE) {
            say("caps: %s: not running, so it holds nothing\n", name);
            return;
        }
        if (err) {
            say("caps: %s: %s\n", name, procmgr_error(err));
            return;
        }
        if (from == 0)
            say("%5s %-12s %-6s %6s  %s\n", "SLOT", "TYPE", "RIGHTS", "BADGE", "SIZE");
        from = slot + found;
        if (!found)
            continue;
        char r[] = "-----";
        static const char letters[] = "rwgxp";     /* PITH_RIGHT_READ, WRITE, GRANT, EXEC, PHYS */
        for (int i = 0; i < 5; i++)
            if (rights & (1u << i))
                r[i] = letters[i];
        if (bits)
            say("%5u %-12s %-6s %6lu  2^%u %s\n", slot, type_name(type), r, badge, (unsigned)bits,
                type == PITH_OBJ_CNODE ? "slots" : "bytes");
        else
            say("%5u %-12s %-6s %6lu  -\n", slot, type_name(type), r, badge);
        held++;
    } while (from < slots);
    say("caps: %s holds %u capabilities in %u slots\n", name, held, slots);
}

#define SELFTEST_WAIT_S 60

/* The process manager's entry for a name: its pid, state and status; nonzero if it has none. */
static int find_entry(const char *want, uint32_t *pid, uint8_t *state, int64_t *status)
{
    struct entry e;
    for (uint32_t i = 0; entry_get(i, &e) == 0; i++)
        if (!strcmp(e.name, want)) {
            *pid = e.pid;
            *state = e.state;
            *status = e.status;
            return 0;
        }
    return -1;
}

/*
 * The self-test program (servers/selftest/), started through the process
 * manager like any boot module; it writes its checks on the console.  We
 * wait until the process manager lists it ended, then say how it went.
 */
static void selftest(int argc, char **argv)
{
    long err = procmgr_start(&procmgr, "selftest");
    if (err == PROCMGR_E_STATE) {
        say("test: the self-test is running already\n");
        return;
    }
    if (err) {
        say("test: cannot start selftest: %s\n", procmgr_error(err));
        return;
    }
    uint32_t pid, now_pid;
    uint8_t state = 0;
    int64_t status = 0;
    if (find_entry("selftest", &pid, &state, &status)) {
        say("test: selftest started, but the process manager does not list it\n");
        return;
    }
    const struct pith_time_page *t = (const struct pith_time_page *)pith_bootinfo->time_page;
    uint64_t deadline = pith_clock_ns(t) + SELFTEST_WAIT_S * 1000000000ull;
    while (state == RUNNING && pith_clock_ns(t) < deadline) {
        pith_sleep_ns(20000000);
        if (find_entry("selftest", &now_pid, &state, &status) || now_pid != pid) {
            say("test: selftest (pid %u) vanished from the process list\n", pid);
            return;
        }
    }
    if (state == RUNNING)
        say("test: selftest (pid %u) has not ended after %d s; stop selftest ends it\n", pid, SELFTEST_WAIT_S);
    else if (state == EXITED && status == 0)
        say("test: selftest (pid %u) exited with status 0: every check passed\n", pid);
    else if (state == EXITED)
        say("test: selftest (pid %u) exited with status %ld: %ld checks failed\n", pid, (long)status,
            (long)status);
    else
        say("test: selftest (pid %u) did not exit: it is %s (status %ld: a fault's kind, -1 if killed)\n", pid,
            state_name(state), (long)status);
}

static void help(int argc, char **argv);

/* The commands that take one program name. */
static void on_program(int argc, char **argv)
{
    long err;
    const char *name = argv[1];
    if (!strcmp(argv[0], "start"))
        err = procmgr_start(&procmgr, name);
    else if (!strcmp(argv[0], "stop"))
        err = procmgr_stop(&procmgr, name);
    else if (!strcmp(argv[0], "kill"))
        err = procmgr_kill(&procmgr, name);
    else
        err = procmgr_restart(&procmgr, name);
    if (err == PITH_IDL_E_ARG)
        say("%s: '%s' is too long for a program name\n", argv[0], name);
    else if (err)
        say("%s: %s: %s\n", argv[0], name, procmgr_error(err));
    else
        say("%s: %s: done\n", argv[0], name);
}

/* create NAME MODULE MIB [LIMIT]: a child of the shell, its quota carved from the shell's own. */
static void create(int argc, char **argv)
{
    char *end;
    unsigned long mib = strtoul(argv[3], &end, 10);
    unsigned long limit = argc > 4 ? strtoul(argv[4], &end, 10) : 0;
    if (*argv[3] < '0' || *argv[3] > '9' || (argc > 4 && (*argv[4] < '0' || *argv[4] > '9' || *end)) ||
        mib > UINT32_MAX || limit > UINT32_MAX) {
        say("create: MIB and LIMIT are numbers: create NAME MODULE MIB [LIMIT]\n");
        return;
    }
    long err = procmgr_create(&procmgr, argv[1], argv[2], (uint32_t)mib, (uint32_t)limit);
    if (err == PITH_IDL_E_ARG)
        say("create: '%s' or '%s' is too long for a program or module name\n", argv[1], argv[2]);
    else if (err)
        say("create: %s: %s\n", argv[1], procmgr_error(err));
    else
        say("create: %s: done\n", argv[1]);
}

static void remove_cmd(int argc, char **argv)
{
    long err = procmgr_remove(&procmgr, argv[1]);
    if (err == PITH_IDL_E_ARG)
        say("remove: '%s' is too long for a program name\n", argv[1]);
    else if (err)
        say("remove: %s: %s\n", argv[1], procmgr_error(err));
    else
        say("remove: %s: done\n", argv[1]);
}

static const struct command {
    const char *name, *args, *what;
    int min_args, max_args;
    void (*run)(int argc, char **argv);
} commands[] = {
    { "help", "", "this list", 0, 0, help },
    { "ps", "", "processes: pid, parent, state, memory, CPU time, restarts", 0, 0, ps },
    { "start", "NAME", "start a stopped program, or a boot module", 1, 1, on_program },
    { "stop", "NAME", "end a program and return its memory; it stays stopped", 1, 1, on_program },
    { "kill", "NAME", "end a program as if it crashed: its supervisor restarts it", 1, 1, on_program },
    { "restart", "NAME", "end a program and start it again", 1, 1, on_program },
    { "create", "NAME MODULE MIB [LIMIT]", "a child of the shell from a boot module, its quota from the shell's",
      3, 4, create },
    { "remove", "NAME", "end a program with its children and forget it", 1, 1, remove_cmd },
    { "mem", "", "memory in all, free, each program's quota; the memory manager's pages", 0, 0, mem },
    { "names", "", "the registered names and who registered them", 0, 0, names },
    { "log", "[LINES]", "the last lines of the kernel log (default 20)", 0, 1, log_cmd },
    { "uptime", "", "time since boot", 0, 0, uptime },
    { "caps", "NAME|PID", "the capabilities a process holds: slot, type, rights, badge", 1, 1, caps },
    { "bench", "", "time system calls, IPC, a key-value call and mapping, here and now", 0, 0, bench },
    { "test", "", "run the self-test program and report its outcome", 0, 0, selftest },
    { "ls", "[PATH]", "a directory's entries (or a file): mode, links, owner, size, name", 0, 1, ls },
    { "cat", "PATH", "a file's contents", 1, 1, cat },
    { "write", "PATH TEXT...", "make the file hold the text and a newline (created if missing)", 1, 15, write_cmd },
    { "mkdir", "PATH", "a new directory", 1, 1, mkdir_cmd },
    { "rm", "PATH", "remove a file, a symbolic link or an empty directory", 1, 1, rm },
    { "mv", "FROM TO", "rename or move, replacing a file or empty directory at TO", 2, 2, mv },
    { "df", "", "the volume's size, use and free inodes", 0, 0, df },
    { "sync", "", "write every change to the disk now", 0, 0, sync_cmd },
    { "linux", "PATH [ARGS...]", "run a static Linux program through the POSIX personality", 1, 15, linux_cmd },
    { "ifconfig", "", "the network interface: addresses, station address, frames", 0, 0, ifconfig },
    { "ping", "ADDR [N]", "N ICMP echo requests (default 4) through the network server", 1, 2, ping },
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void help(int argc, char **argv)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        say("  %-8s %-8s %s\n", commands[i].name, commands[i].args, commands[i].what);
}

void run_command(int argc, char **argv)
{
    for (size_t i = 0; i < NCOMMANDS; i++) {
        const struct command *c = &commands[i];
        if (strcmp(c->name, argv[0]))
            continue;
        if (argc - 1 < c->min_args || argc - 1 > c->max_args)
            say("%s: usage: %s %s\n", c->name, c->name, c->args);
        else
            c->run(argc, argv);
        return;
    }
    say("shell: unknown command '%s'; type help for the list\n", argv[0]);
}
