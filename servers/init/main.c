/*
 * init: the first user task.  It serves names and processes (names.c,
 * procmgr.c), reads the boot manifest (the boot module "manifest",
 * docs/manifest.md), starts the memory manager (memd.c), then starts what
 * the manifest lists, each after what it needs.
 * A manifest with any mistake is reported, line and reason, and nothing of
 * it is started.
 */
#include "init.h"
#include "thread.h"

#include <pith/fault.h>
#include <stdio.h>
#include <string.h>

pith_mutex_t init_lock;
uint64_t supervisor_ep, names_ep, procmgr_ep, supervisor_ntfn;
const struct pith_time_page *clock_page;

static struct manifest manifest;

/* ---- init's last resort ------------------------------------------------- */
/*
 * Init cannot be restarted: it is the supervisor, with nothing above it,
 * and it holds every program's quota, names and table entry.  A fault in
 * one of its threads would leave that thread suspended (docs/faults.md)
 * and the system running on without a supervisor, name service or process
 * manager, saying nothing more.  So each of init's threads reports its
 * faults here, badged with which thread it is, and this thread says so
 * and ends the system with a failure status.  It has no fault handler
 * itself: a fault of its own is reported by the kernel, which suspends it.
 */
static const char *const thread_names[] = { "?", "main", "names", "procmgr", "supervisor", "mapper" };
static uint64_t last_resort_ep;

static void *last_resort(void *arg)
{
    uint64_t reply = pith_object_new(PITH_OBJ_REPLY, 0);
    struct pith_msg m = { 0 };
    while (pith_recv(last_resort_ep, &m, reply) != PITH_OK || PITH_TAG_LABEL(m.tag) != PITH_FAULT_LABEL ||
           !m.badge || m.badge > INIT_THREAD_MAPPER)
        m = (struct pith_msg){ 0 };
    /* Not printf: the thread that faulted may hold stdout's lock. */
    char line[256];
    snprintf(line, sizeof line,
             "init: its %s thread faulted (vector %lu at %#lx, address %#lx)\n"
             "init: init is the supervisor and nothing can restart it: ending the system\n",
             thread_names[m.badge], m.w[0], m.w[3], m.w[1]);
    puts_log(line);
    pith_shutdown(0);
}

/* The fault endpoint for one of init's threads, badged with which. */
uint64_t init_fault_cap(int which)
{
    uint64_t slot = pith_slot_alloc();
    if (!last_resort_ep ||
        pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_MINT, slot, last_resort_ep, PITH_RIGHT_WRITE | PITH_RIGHT_GRANT,
                     (uint64_t)which))
        return 0;
    return slot;
}

/*
 * The boot scenarios' way to see the above happen: the kernel command
 * line word init.fault=THREAD (main, names, procmgr, supervisor, mapper) makes
 * that thread of init touch an unmapped address as it starts.
 */
void init_fault_if_asked(int which)
{
    char word[32];
    snprintf(word, sizeof word, "init.fault=%s", thread_names[which]);
    const char *at = strstr(pith_bootinfo->cmdline, word), *end = at ? at + strlen(word) : NULL;
    if (!at || (at != pith_bootinfo->cmdline && at[-1] != ' ') || (*end && *end != ' '))
        return;
    printf("init: %s: faulting the %s thread on purpose\n", word, thread_names[which]);
    volatile uintptr_t unmapped = 0x10;     /* volatile: the compiler cannot see it is bad */
    *(volatile int *)unmapped = 1;
}

static void last_resort_start(void)
{
    pith_thread_t *t;
    last_resort_ep = pith_object_new(PITH_OBJ_ENDPOINT, 0);
    if (!last_resort_ep || pith_thread_create(&t, last_resort, NULL)) {
        printf("init: cannot start its last resort; a fault in init will only be reported by the kernel\n");
        return;
    }
    uint64_t main_ep = init_fault_cap(INIT_THREAD_MAIN);
    if (!main_ep || pith_invoke4(PITH_SLOT_TCB, PITH_TCB_CONFIGURE, PITH_SLOT_CSPACE, PITH_SLOT_VSPACE,
                                 PITH_SLOT_IPC_BUFFER, main_ep))
        printf("init: cannot give its main thread a fault handler\n");
}
/* Waits (up to 5 s) until the program has published a name under its prefix. */
static void wait_published(const struct manifest_entry *e)
{
    uint64_t until = now_ns() + 5000000000ull;
    for (;;) {
        pith_mutex_lock(&init_lock);
        bool done = proc_find(e->name)->state != PROC_RUNNING;
        pith_mutex_unlock(&init_lock);
        done = done || names_has_prefix(e->prefix);
        if (done)
            return;
        if (now_ns() > until) {
            printf("init: %s has published nothing under %s after 5 s; going on\n", e->name, e->prefix);
            return;
        }
        names_wait_published(2000000);
    }
}

/* Whether the command line holds `word`, alone. */
static bool has_word(const char *line, const char *word)
{
    size_t n = strlen(word);
    for (const char *at = line; (at = strstr(at, word)); at += n)
        if ((at == line || at[-1] == ' ') && (at[n] == ' ' || at[n] == 0))
            return true;
    return false;
}

static bool needed(int i)
{
    for (int k = 0; k < manifest.count; k++)
        for (int n = 0; n < manifest.e[k].nneeds; n++)
            if (manifest.e[k].needs[n] == i)
                return true;
    return false;
}

static void start_all(void)
{
    for (int k = 0; k < manifest.count; k++) {
        int i = manifest.order[k];
        const struct manifest_entry *e = &manifest.e[i];
        pith_mutex_lock(&init_lock);
        int slot = proc_add(e, -1);
        long err = slot < 0 ? -1 : proc_start(&procs[slot]);
        pith_mutex_unlock(&init_lock);
        if (err) {
            printf("init: %s did not start (error %ld)\n", e->name, err);
            continue;
        }
        printf("init: started %s (pid %u, priority %u, %u MiB)\n", e->name, procs[slot].pid, e->priority,
               e->memory_mib);
        if (e->prefix[0] && needed(i))
            wait_published(e);
    }
}

int main(void)
{
    const struct pith_bootinfo *bi = pith_bootinfo;
    clock_page = (const struct pith_time_page *)bi->time_page;
    printf("init: ABI %u.%u, %lu modules\n", bi->abi_major, bi->abi_minor, bi->nmodules);
    pith_mutex_init(&init_lock);
    /*
     * Init's threads (made after this, at this priority) run above every
     * program it starts (at most 254): starting a program never preempts
     * init, and the supervisor always gets to a faulted program.
     */
    pith_invoke4(PITH_SLOT_TCB, PITH_TCB_SET_PRIORITY, 255, 255, 0, 0);
    supervisor_ep = pith_object_new(PITH_OBJ_ENDPOINT, 0);
    names_ep = pith_object_new(PITH_OBJ_ENDPOINT, 0);
    procmgr_ep = pith_object_new(PITH_OBJ_ENDPOINT, 0);
    supervisor_ntfn = pith_object_new(PITH_OBJ_NOTIFICATION, 0);
    last_resort_start();
    modules_map();
    mapper_start();
    pith_init_thread_fault_ep = init_fault_cap(INIT_THREAD_NAMES);
    names_start();
    procmgr_start_threads();
    init_fault_if_asked(INIT_THREAD_MAIN);

    uint64_t size;
    const char *text = module_find("manifest", &size);
    if (!text)
        printf("init: no boot module named manifest: nothing to start\n");
    else if (manifest_parse(text, size, &manifest))
        printf("init: manifest line %d: %s; nothing started\n", manifest.error_line, manifest.error);
    else if (memd_start())              /* first: every program's quota comes from it */
        printf("init: no memory manager: nothing of the manifest started\n");
    else
        start_all();
    /* For the tests (tests/system/base.sh): the kernel command-line word memd-fault makes the manager fault. */
    if (memd && quota_manager_up() && has_word(bi->cmdline, "memd-fault")) {
        printf("init: memd-fault: asking the memory manager to fault\n");
        long err = quota_crash_manager();
        printf("init: the memory manager's answer: error %#lx\n", err);
    }
    for (;;)
        pith_sleep_ns(1000000000000ull);
}
