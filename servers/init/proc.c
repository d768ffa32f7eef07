/*
 * Processes from boot modules.  Each has a quota: an untyped from the
 * memory manager (quota.c; or from its parent's quota: tree.c), from which
 * everything of the process is made (its capability space, address
 * space, thread, program pages, stack) and half of which it receives as
 * its own untyped.  Ending a process is one revoke of the quota
 * (quota.c, tree.c): every object made from it goes, and every page comes
 * back (checked each time), and so does init's own capability to the
 * process's CNode, kept while it runs so the process manager can list
 * what it holds.  A program started lazily (manifest: lazy) has no program
 * pages of its quota: the memory manager maps its image and fills each
 * page from the boot module, which init serves it (mapper.c), when first
 * touched (docs/memory.md#programs-started-lazily).  Callers hold init_lock.
 */
#include "init.h"
#include "elfload.h"
#include "procmgr.h"
#include "process.h"
#include "tls.h"

#include <stdio.h>
#include <string.h>

#define CHILD_CNODE_BITS 12             /* 4096 slots, as init has, unless the manifest says cnode= */
#define CHILD_STACK_PAGES 8
#define CHILD_SETUP_FIRST PITH_SLOT_PROCESS_FREE  /* the child's slots for its program pages, stack, page tables */
#define CHILD_FIRST_FREE 512
#define SCRATCH_VA   0x600000000ull     /* where init fills a child's pages */

struct proc procs[PROC_MAX];
static uint32_t next_pid = 2;           /* init is 1 */

/* The quota's size for a manifest's memory in MiB (a power of two). */
static uint32_t log2_mib(unsigned mib)
{
    uint32_t bits = 20;
    while ((1u << (bits - 20)) < mib)
        bits++;
    return bits;
}

/* ---- the process table -------------------------------------------------- */

struct proc *proc_find(const char *name)
{
    for (int i = 0; i < PROC_MAX; i++)
        if (procs[i].used && !strcmp(procs[i].cfg.name, name))
            return &procs[i];
    return NULL;
}

static uint64_t mint(uint64_t ep, uint64_t badge)
{
    uint64_t slot = slot_get();
    if (pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_MINT, slot, ep, PITH_RIGHT_WRITE | PITH_RIGHT_GRANT, badge)) {
        slot_put(slot);
        return 0;
    }
    return slot;
}

/*
 * A table entry with its badged capabilities (kept across restarts); -1 if
 * the table is full.  up: its parent's index (-1: init).  Every process
 * gets the process manager: without procs it reaches only its own
 * descendants (proc_may_act).
 */
int proc_add(const struct manifest_entry *cfg, int up)
{
    for (int i = 0; i < PROC_MAX; i++) {
        struct proc *p = &procs[i];
        if (p->used)
            continue;
        memset(p, 0, sizeof *p);
        p->used = true;
        p->cfg = *cfg;
        p->parent = up < 0 ? 1 : procs[up].pid;
        p->up = up;
        p->state = PROC_STOPPED;
        p->tcb = slot_get();
        p->fault_ep = mint(supervisor_ep, (uint64_t)i + 1);
        p->names_ep = mint(names_ep, (uint64_t)i + 1);
        p->procs_ep = mint(procmgr_ep, (uint64_t)i + 1);
        return i;
    }
    return -1;
}

/* ---- building a process ------------------------------------------------- */

#define NOTED_MAX (CHILD_FIRST_FREE - CHILD_SETUP_FIRST)

/* What a start is building: the child's objects, still in init's slots. */
struct build {
    struct proc *p;
    uint64_t quota, cnode, vspace, ipc, bootinfo[2], stack[CHILD_STACK_PAGES], time;
    uint64_t next_setup;                /* the child's next slot for a page table */
    uint64_t noted[NOTED_MAX];          /* every slot of ours the start took (pith_slot_log_begin) */
    uint32_t nnoted;
    uint64_t emptied[2 * NOTED_MAX];    /* slots of ours emptied by the start, freed when it is over */
    uint32_t nemptied;
};

/*
 * A slot the start has emptied goes back to the pool only when the start
 * is over.  Freed at once, another of init's threads could take it and
 * fill it, and the start would then take that thread's capability for one
 * of the loader's and hand it to the child (build()'s last loop tells a
 * slot already given by its being empty).
 */
static void emptied(struct build *b, uint64_t slot)
{
    if (b->nemptied < 2 * NOTED_MAX)
        b->emptied[b->nemptied++] = slot;
}

/* Maps a frame in the child, making page tables from the quota (moved into the child). */
static long child_map(struct build *b, uint64_t frame, uint64_t va, uint8_t rights)
{
    for (int level = 0; level < 4; level++) {
        long err = pith_invoke4(frame, PITH_FRAME_MAP, b->vspace, va, rights, 0);
        if (err != PITH_E_NO_TABLE)
            return err;
        uint64_t pt = slot_get();
        if ((err = retype_at(b->quota, PITH_OBJ_PAGE_TABLE, 0, pt)) ||
            (err = pith_invoke4(pt, PITH_PAGE_TABLE_MAP, b->vspace, va, 0, 0)) ||
            (err = pith_invoke4(b->cnode, PITH_CNODE_MOVE, b->next_setup++, pt, 0, 0))) {
            pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, pt, 0, 0, 0);
            emptied(b, pt);
            return err;
        }
        emptied(b, pt);
    }
    return PITH_E_NO_TABLE;
}

/* Moves a capability of ours into the child's slot; our slot goes back to the pool after the start. */
static long give(struct build *b, uint64_t ours, uint64_t theirs)
{
    long err = pith_invoke4(b->cnode, PITH_CNODE_MOVE, theirs, ours, 0, 0);
    if (!err)
        emptied(b, ours);
    return err;
}

static long copy_to(struct build *b, uint64_t ours, uint64_t theirs, uint8_t rights)
{
    return pith_invoke4(b->cnode, PITH_CNODE_COPY, theirs, ours, rights, 0);
}

/* The size of p's CNode, in bits: its manifest's cnode=, or the default. */
static unsigned cnode_bits(const struct proc *p)
{
    return p->cfg.cnode_bits ? p->cfg.cnode_bits : CHILD_CNODE_BITS;
}

/* The child's boot information: init's layout, our magic, its own slots. */
static long write_bootinfo(struct build *b)
{
    for (int i = 0; i < 2; i++) {
        long err = pith_map_page(b->bootinfo[i], SCRATCH_VA + i * 4096ull, PITH_RIGHT_READ | PITH_RIGHT_WRITE,
                                 b->quota);
        if (err)
            return err;
    }
    struct pith_bootinfo *bi = (struct pith_bootinfo *)SCRATCH_VA;
    const struct pith_bootinfo *ours = pith_bootinfo;
    bi->magic = PITH_PROCESS_MAGIC;
    bi->version = PITH_BOOTINFO_VERSION;
    bi->abi_major = ours->abi_major;
    bi->abi_minor = ours->abi_minor;
    bi->cspace_slot_bits = cnode_bits(b->p);
    bi->empty.first_slot = CHILD_FIRST_FREE;
    bi->empty.count = (1u << cnode_bits(b->p)) - CHILD_FIRST_FREE;
    bi->untyped.first_slot = PITH_SLOT_UNTYPED;
    bi->untyped.count = 1;
    bi->untyped_list[0].size_bits = (uint8_t)(b->p->quota_bits - 1);
    bi->io_ports.first_slot = PITH_SLOT_IO_PORTS;
    bi->io_ports.count = b->p->cfg.has_ports;
    if (b->p->cfg.pci)
        bi->empty.count = PITH_SLOT_DEVICE_FIRST - CHILD_FIRST_FREE;   /* the device memory's slots, above */
    bi->irq_lines = ours->irq_lines;
    bi->pci_ecam = ours->pci_ecam;
    bi->pci_bus_first = ours->pci_bus_first;
    bi->pci_bus_last = ours->pci_bus_last;
    bi->tsc_hz = ours->tsc_hz;
    bi->time_page = PITH_TIME_PAGE_ADDR;
    snprintf(bi->cmdline, sizeof bi->cmdline, "%s%s%s", b->p->cfg.name, b->p->cfg.args[0] ? " " : "",
             b->p->cfg.args);
    for (int i = 0; i < 2; i++)
        pith_invoke4(b->bootinfo[i], PITH_FRAME_UNMAP, 0, 0, 0, 0);
    return 0;
}

/* The I/O-port range of ours that holds [first, last], carved into the child's slot. */
static long give_ports(struct build *b)
{
    const struct pith_bootinfo *bi = pith_bootinfo;
    for (uint64_t i = 0; i < bi->io_ports.count; i++) {
        struct pith_msg m = { 0 };
        uint64_t range = bi->io_ports.first_slot + i;
        if (pith_invoke(range, PITH_IO_PORTS_INFO, &m) == PITH_OK && m.w[0] <= b->p->cfg.port_first &&
            b->p->cfg.port_last <= m.w[1])
            return pith_invoke4(range, PITH_IO_PORTS_CARVE, b->p->cfg.port_first, b->p->cfg.port_last, b->cnode,
                                PITH_SLOT_IO_PORTS);
    }
    return PITH_E_INVALID_ARG;
}

static long give_irq(struct build *b)
{
    uint64_t h = slot_get();
    long err = retype_at(b->quota, PITH_OBJ_IRQ_HANDLER, 0, h);
    if (!err)
        err = pith_invoke4(PITH_SLOT_IRQ_CONTROL, PITH_IRQ_CONTROL_BIND, h, (uint64_t)b->p->cfg.irq, PITH_IRQ_ISA, 0);
    if (!err)
        err = give(b, h, PITH_SLOT_IRQ);
    if (err) {
        pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, h, 0, 0, 0);
        emptied(b, h);
    }
    return err;
}

/*
 * The PCI bus server's authority (manifest: pci): IRQ control, the ports
 * 0xCF8-0xFFFF (configuration ports and PCI I/O space), and every block
 * of device memory as an untyped of its own place and size.  Device
 * untyped cannot be copied, so each block is retyped into a child
 * covering it whole; the revoke first takes back what the last
 * incarnation made of it (the frames it gave drivers go with it).
 */
static long give_pci(struct build *b)
{
    const struct pith_bootinfo *bi = pith_bootinfo;
    long err = copy_to(b, PITH_SLOT_IRQ_CONTROL, PITH_SLOT_PCI_IRQ_CONTROL, PITH_RIGHTS_ALL);
    for (uint64_t i = 0; !err && i < bi->io_ports.count; i++) {
        struct pith_msg m = { 0 };
        uint64_t range = bi->io_ports.first_slot + i;
        if (pith_invoke(range, PITH_IO_PORTS_INFO, &m) == PITH_OK && m.w[0] <= 0xcf8 && m.w[1] == 0xffff)
            err = pith_invoke4(range, PITH_IO_PORTS_CARVE, 0xcf8, 0xffff, b->cnode, PITH_SLOT_PCI_PORTS);
    }
    uint64_t n = 0;
    for (uint64_t i = 0; !err && i < bi->untyped.count; i++) {
        if (!bi->untyped_list[i].is_device)
            continue;
        if (n == PITH_DEVICE_SLOTS) {
            printf("init: %s: device memory past %#lx not given (more than %d blocks)\n", b->p->cfg.name,
                   bi->untyped_list[i].phys, PITH_DEVICE_SLOTS);
            break;
        }
        uint64_t slot = bi->untyped.first_slot + i;
        pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE, slot, 0, 0, 0);
        err = pith_invoke4(slot, PITH_UNTYPED_RETYPE, PITH_OBJ_UNTYPED | (uint64_t)bi->untyped_list[i].size_bits << 8,
                           b->cnode, PITH_SLOT_DEVICE_FIRST + n++, 1);
    }
    return err;
}

/*
 * Everything of the process made, mapped, configured, then handed over:
 * its program loaded (or, lazy, mapped by the memory manager from the
 * module of that key, size bytes).  0 or an error.
 */
static long build(struct build *b, const void *file, uint64_t size, int key, const struct elf_image *img)
{
    struct proc *p = b->p;
    uint64_t sub = slot_get(), entry = 0;
    long err;
    /* The child's own half first, so it lies at the quota's start and the rest packs after it. */
    if ((err = retype_at(b->quota, PITH_OBJ_UNTYPED, p->quota_bits - 1, sub)) ||
        (err = retype_at(b->quota, PITH_OBJ_CNODE, cnode_bits(p), b->cnode = slot_get())) ||
        (err = retype_at(b->quota, PITH_OBJ_VSPACE, 0, b->vspace = slot_get())) ||
        (err = retype_at(b->quota, PITH_OBJ_TCB, 0, p->tcb)) ||
        (err = retype_at(b->quota, PITH_OBJ_FRAME, 0, b->ipc = slot_get())) ||
        (err = retype_at(b->quota, PITH_OBJ_FRAME, 0, b->bootinfo[0] = slot_get())) ||
        (err = retype_at(b->quota, PITH_OBJ_FRAME, 0, b->bootinfo[1] = slot_get())))
        return err;
    for (int i = 0; i < CHILD_STACK_PAGES; i++)
        if ((err = retype_at(b->quota, PITH_OBJ_FRAME, 0, b->stack[i] = slot_get())))
            return err;
    /*
     * Anonymous memory paged by the memory manager (manifest: pages=): its
     * client, in PITH_SLOT_MEM below.  A lazy program is a client too, its
     * quota grown by its image's pages, which image_map charges to it.
     */
    uint32_t image_pages = 0;
    for (int i = 0; p->cfg.lazy && i < img->nsegments; i++) {
        uint64_t first;
        image_pages += (uint32_t)elf_segment_pages(&img->segments[i], &first);
    }
    if ((p->cfg.pages || p->cfg.lazy) && (err = quota_client_new(p, b->vspace, p->cfg.pages + image_pages)))
        return err;
    if (p->cfg.lazy) {
        /* The memory manager pages the image in from our mapper as the program touches it. */
        if ((err = quota_image_map(p, key, size, &entry)))
            return err;
    } else {
        /* The program's frames are made in its own CNode, in the slots set aside for its pages. */
        enum elf_error e = elf_load(file, img, b->vspace, b->quota, b->cnode, &b->next_setup, CHILD_FIRST_FREE,
                                    SCRATCH_VA, &entry);
        if (e) {
            printf("init: %s: %s\n", p->cfg.name, elf_strerror(e));
            return e == ELF_E_NO_MEMORY ? PITH_E_NO_MEMORY : PITH_E_INVALID_ARG;
        }
    }
    b->time = slot_get();
    uint64_t stack_bottom = PITH_INIT_STACK_TOP - CHILD_STACK_PAGES * 4096ull;
    if ((err = write_bootinfo(b)) ||
        (err = pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, b->time, PITH_SLOT_TIME,
                            PITH_RIGHT_READ | PITH_RIGHT_GRANT, 0)) ||
        (err = child_map(b, b->bootinfo[0], PITH_BOOTINFO_ADDR, PITH_RIGHT_READ)) ||
        (err = child_map(b, b->bootinfo[1], PITH_BOOTINFO_ADDR + 4096, PITH_RIGHT_READ)) ||
        (err = child_map(b, b->ipc, PITH_IPC_BUFFER_ADDR, PITH_RIGHT_READ | PITH_RIGHT_WRITE)) ||
        (err = child_map(b, b->time, PITH_TIME_PAGE_ADDR, PITH_RIGHT_READ)))
        return err;
    for (int i = 0; i < CHILD_STACK_PAGES; i++)
        if ((err = child_map(b, b->stack[i], stack_bottom + i * 4096ull, PITH_RIGHT_READ | PITH_RIGHT_WRITE)))
            return err;
    if ((err = pith_invoke4(p->tcb, PITH_TCB_CONFIGURE, b->cnode, b->vspace, b->ipc, p->fault_ep)) ||
        (err = pith_invoke4(p->tcb, PITH_TCB_SET_PRIORITY, p->cfg.priority, p->cfg.priority, 0, 0)) ||
        (err = pith_invoke4(p->tcb, PITH_TCB_WRITE_REGISTERS, entry, PITH_INIT_STACK_TOP, PITH_BOOTINFO_ADDR, 0)))
        return err;
    /* Its capabilities, in the slots process.h promises. */
    if ((err = copy_to(b, b->cnode, PITH_SLOT_CSPACE, PITH_RIGHTS_ALL)) ||
        (err = copy_to(b, p->tcb, PITH_SLOT_TCB, PITH_RIGHTS_ALL)) ||
        (err = copy_to(b, PITH_SLOT_LOG, PITH_SLOT_LOG, PITH_RIGHT_READ | PITH_RIGHT_WRITE)) ||
        (err = copy_to(b, p->names_ep, PITH_SLOT_NAMES, PITH_RIGHT_WRITE | PITH_RIGHT_GRANT)) ||
        (err = copy_to(b, p->fault_ep, PITH_SLOT_FAULT, PITH_RIGHT_WRITE | PITH_RIGHT_GRANT)) ||
        (p->procs_ep && (err = copy_to(b, p->procs_ep, PITH_SLOT_PROCS, PITH_RIGHT_WRITE | PITH_RIGHT_GRANT))) ||
        (p->mem_ep && (err = copy_to(b, p->mem_ep, PITH_SLOT_MEM, PITH_RIGHTS_ALL))) ||
        (p->memory_cnode && (err = copy_to(b, p->memory_cnode, PITH_SLOT_MEMORY, PITH_RIGHTS_ALL))) ||
        (p->cfg.has_ports && (err = give_ports(b))) ||
        (p->cfg.irq >= 0 && (err = give_irq(b))) ||
        (p->cfg.pci && (err = give_pci(b))) ||
        (err = give(b, sub, PITH_SLOT_UNTYPED)) ||
        (err = give(b, b->vspace, PITH_SLOT_VSPACE)) ||
        (err = give(b, b->ipc, PITH_SLOT_IPC_BUFFER)) ||
        (err = give(b, b->bootinfo[0], PITH_SLOT_BOOTINFO)) ||
        (err = give(b, b->bootinfo[1], PITH_SLOT_BOOTINFO_2)) ||
        (err = give(b, b->time, PITH_SLOT_TIME)))
        return err;
    for (int i = 0; i < CHILD_STACK_PAGES; i++)
        if ((err = give(b, b->stack[i], b->next_setup++)))
            return err;
    /* What the ELF loader and the runtime made in our slots (program pages, page tables) goes too. */
    b->nnoted = pith_tls_self()->slot_log_count;
    for (uint32_t i = 0; i < b->nnoted && i < NOTED_MAX; i++) {
        struct pith_msg m = { .w = { b->noted[i] } };
        if (b->noted[i] == b->cnode || pith_invoke(PITH_SLOT_CSPACE, PITH_CNODE_IDENTIFY, &m) ||
            m.w[0] == PITH_OBJ_NULL)
            continue;                   /* ours, or already given (and freed) */
        if (b->next_setup >= CHILD_FIRST_FREE)
            return PITH_E_SLOT_RANGE;   /* a program too big for the slots set aside */
        if ((err = give(b, b->noted[i], b->next_setup++)))
            return err;
    }
    /* We keep our capability to its CNode, so the process manager can list what it holds (caps). */
    return pith_invoke4(p->tcb, PITH_TCB_RESUME, 0, 0, 0, 0);
}

long proc_start(struct proc *p)
{
    uint64_t size;
    const void *file = module_find(p->cfg.module, &size);
    if (!file) {
        printf("init: %s: no boot module %s\n", p->cfg.name, p->cfg.module);
        return PROCMGR_E_NO_SUCH;
    }
    struct elf_image img;
    enum elf_error e = elf_parse(file, size, &img);
    if (e) {
        printf("init: %s: %s is not a program: %s\n", p->cfg.name, p->cfg.module, elf_strerror(e));
        return PROCMGR_E_FAILED;
    }
    /* A child's quota was carved from its parent's when it was created, and is held (whole) for it. */
    bool child = p->up >= 0;
    p->quota_bits = log2_mib(p->cfg.memory_mib);
    if (!child) {
        long qerr = quota_get(p);
        if (qerr)
            return qerr;
    }
    static struct build b;              /* big; starts are one at a time (init_lock) */
    b = (struct build){ .p = p, .quota = p->quota, .next_setup = CHILD_SETUP_FIRST };
    /* Note the slots the loader takes, so its pages can be handed to the child and the slots reused. */
    pith_slot_log_begin(b.noted, NOTED_MAX);
    long err = build(&b, file, size, module_key(p->cfg.module), &img);
    pith_slot_log_end();
    for (uint32_t i = 0; i < b.nemptied; i++)
        slot_put(b.emptied[i]);
    if (err) {
        printf("init: %s: could not start it (error %ld)\n", p->cfg.name, err);
        if (child)
            tree_quota_revoke(p);
        else
            quota_return(p);
        /* Anything still in our slots was made from the quota and went with it. */
        return err == PITH_E_NO_MEMORY ? PROCMGR_E_NO_MEMORY : PROCMGR_E_FAILED;
    }
    p->cnode = b.cnode;
    p->pid = next_pid++;
    p->state = PROC_RUNNING;
    p->started_at = now_ns();
    return 0;
}

/*
 * Ends it, whatever the reason: its subtree first (made of its quota, so
 * it cannot outlive it), then one revoke of its quota.
 */
void proc_end(struct proc *p, enum proc_state state)
{
    int index = (int)(p - procs);
    p->ended_at = now_ns();
    tree_end_children(index);
    if (p->state == PROC_RUNNING) {
        uint64_t lost = p->up >= 0 ? tree_quota_revoke(p) : quota_return(p);
        tree_kept_drop(index);
        printf("init: %s (pid %u) ended; %s\n", p->cfg.name, p->pid,
               lost ? "its quota did not all come back" : "every page of its quota came back");
    }
    /* Our capability to its CNode was made from the quota, so the revoke took it; the slot comes back. */
    if (p->cnode) {
        slot_put(p->cnode);
        p->cnode = 0;
    }
    names_forget(index);
    p->state = state;
}
