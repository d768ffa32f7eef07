/*
 * Builds the first user task, init, from the first boot module (an ELF
 * executable), then hands all remaining memory to it as untyped memory.
 *
 * Init's own objects (its CNode, thread, address space, page tables and
 * frames) are made the ordinary way, by retyping a boot untyped block, so
 * they are capabilities like any other.  What init starts with is listed
 * in the boot-info page (include/pith/bootinfo.h).  After this the kernel
 * never allocates memory again.
 */
#include <pith/abi.h>
#include <pith/bootinfo.h>
#include "arch/x86_64/paging.h"
#include "arch/x86_64/time.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/vm.h"
#include "arch/x86_64/acpi.h"
#include "arch/x86_64/ioapic.h"
#include "core/boot.h"
#include "core/elf.h"
#include "core/log.h"
#include "core/panic.h"
#include "core/rootserver.h"
#include "lib/string.h"
#include "object/cnode.h"
#include "object/tcb.h"
#include "object/untyped.h"

#define INIT_CNODE_BITS 12
#define INIT_PRIORITY   100

static struct slot *slots;              /* init's CNode */
static uint64_t next_free = PITH_SLOT_FIRST_FREE_FIXED;
static struct slot *boot_ut;            /* where init's own objects come from */
static struct pith_bootinfo *bi;

static uint64_t take_slot(void)
{
    if (next_free >= (1u << INIT_CNODE_BITS))
        panic("init: its %u capability slots are not enough for the boot objects", 1u << INIT_CNODE_BITS);
    return next_free++;
}

static void root_cap(uint64_t slot, uint8_t type, uint8_t rights, uint64_t obj, uint32_t bits)
{
    struct cap c = { .type = type, .rights = rights, .bits = bits, .obj = obj };
    mdb_insert_root(NULL, &slots[slot], &c);
}

/* One object from the boot untyped, its capability into `slot`. */
static void make(uint8_t type, uint32_t bits, uint64_t slot)
{
    int err = untyped_retype(boot_ut, type, bits, &slots[PITH_SLOT_CSPACE].cap, slot, 1);
    if (err)
        panic("init: cannot make a type-%u object: error %d", type, err);
}

/* Maps the frame in `slot` at vaddr, making page tables as needed. */
static void map(uint64_t slot, uint64_t vaddr, uint8_t rights)
{
    const struct cap *vs = &slots[PITH_SLOT_VSPACE].cap;
    for (int tries = 0; tries < 4; tries++) {
        int err = vm_map_frame(vs, &slots[slot].cap, vaddr, rights);
        if (err == PITH_OK)
            return;
        if (err != PITH_E_NO_TABLE)
            panic("init: cannot map %#lx: error %d", vaddr, err);
        uint64_t pt = take_slot();
        make(PITH_OBJ_PAGE_TABLE, 0, pt);
        if ((err = vm_map_table(vs, &slots[pt].cap, vaddr)))
            panic("init: cannot map a page table at %#lx: error %d", vaddr, err);
    }
    panic("init: page tables for %#lx never completed", vaddr);
}

static uint64_t new_frame_at(uint64_t s, uint64_t vaddr, uint8_t rights)
{
    make(PITH_OBJ_FRAME, 0, s);
    map(s, vaddr, rights);
    return s;
}

static uint64_t new_frame(uint64_t vaddr, uint8_t rights)
{
    return new_frame_at(take_slot(), vaddr, rights);
}

static uint64_t segment_pages(const struct elf_segment *sg)
{
    uint64_t start = sg->vaddr & ~(PAGE_SIZE - 1);
    return (sg->vaddr + sg->memsz - start + PAGE_SIZE - 1) / PAGE_SIZE;
}

static uint8_t segment_rights(uint32_t flags)
{
    uint8_t r = PITH_RIGHT_READ;
    if (flags & ELF_PF_W)
        r |= PITH_RIGHT_WRITE;
    if (flags & ELF_PF_X)
        r |= PITH_RIGHT_EXEC;
    return r;
}

/* Copies each loadable segment into new frames; returns the entry point. */
static uint64_t load_image(const struct boot_module *m)
{
    struct elf_image img;
    const char *why = elf_check(phys_to_virt(m->start), m->end - m->start, &img);
    if (why)
        panic("init: %s is not a usable ELF executable: %s", m->name, why);
    /* The image's frames get consecutive slots, in address order; page tables go after. */
    uint64_t pages = 0;
    for (int i = 0; i < img.nsegments; i++)
        pages += segment_pages(&img.segments[i]);
    bi->image_frames.first_slot = next_free;
    bi->image_frames.count = pages;
    for (uint64_t i = 0; i < pages; i++)
        take_slot();
    uint64_t frame_slot = bi->image_frames.first_slot;
    for (int i = 0; i < img.nsegments; i++) {
        const struct elf_segment *sg = &img.segments[i];
        uint64_t start = sg->vaddr & ~(PAGE_SIZE - 1);
        for (uint64_t va = start; va < sg->vaddr + sg->memsz; va += PAGE_SIZE) {
            uint64_t s = new_frame_at(frame_slot++, va, segment_rights(sg->flags));
            uint8_t *page = (uint8_t *)slots[s].cap.obj;
            /* The part of this page that the file supplies; the rest stays zero. */
            uint64_t lo = va > sg->vaddr ? va : sg->vaddr;
            uint64_t hi = va + PAGE_SIZE;
            if (hi > sg->vaddr + sg->filesz)
                hi = sg->vaddr + sg->filesz;
            if (lo < hi)
                memcpy(page + (lo - va), (const uint8_t *)phys_to_virt(m->start) + sg->offset +
                       (lo - sg->vaddr), hi - lo);
        }
    }
    return img.entry;
}

/*
 * Every I/O port except QEMU's debug console (0xE9) and exit device
 * (0xF4), which carry the kernel's log and verdict, in three ranges.
 */
static void give_io_ports(void)
{
    static const uint16_t ranges[][2] = { { 0x0000, 0x00E8 }, { 0x00EA, 0x00F3 }, { 0x00F5, 0xFFFF } };
    bi->io_ports.first_slot = next_free;
    for (unsigned i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
        struct cap c = { .type = PITH_OBJ_IO_PORTS, .rights = PITH_RIGHTS_ALL,
                         .w0 = ranges[i][0], .w1 = ranges[i][1] };
        mdb_insert_root(NULL, &slots[take_slot()], &c);
    }
    bi->io_ports.count = next_free - bi->io_ports.first_slot;
}

/* Each boot module's pages become frame capabilities. */
static void give_modules(void)
{
    for (int i = 0; i < boot.nmod; i++) {
        struct pith_bootinfo_module *bm = &bi->modules[bi->nmodules++];
        memcpy(bm->name, boot.mod[i].name, sizeof bm->name);
        bm->size = boot.mod[i].end - boot.mod[i].start;
        bm->frames.first_slot = next_free;
        for (uint64_t pa = boot.mod[i].start; pa < boot.mod[i].end; pa += PAGE_SIZE)
            root_cap(take_slot(), PITH_OBJ_FRAME, PITH_RIGHT_READ | PITH_RIGHT_WRITE |
                     PITH_RIGHT_GRANT | PITH_RIGHT_PHYS, (uint64_t)phys_to_virt(pa), 0);
        bm->frames.count = next_free - bm->frames.first_slot;
    }
}

static void add_untyped(uint64_t slot, uint64_t phys, unsigned bits, bool device)
{
    if (bi->untyped.count == PITH_BOOTINFO_MAX_UNTYPED)
        panic("init: more than %d untyped blocks; the boot-info page cannot list them",
              PITH_BOOTINFO_MAX_UNTYPED);
    struct cap c = { .type = PITH_OBJ_UNTYPED, .rights = PITH_RIGHTS_ALL, .bits = bits,
                     .flags = device ? CAP_FLAG_DEVICE : 0, .obj = (uint64_t)phys_to_virt(phys) };
    mdb_insert_root(NULL, &slots[slot], &c);
    bi->untyped_list[bi->untyped.count].phys = phys;
    bi->untyped_list[bi->untyped.count].size_bits = (uint8_t)bits;
    bi->untyped_list[bi->untyped.count].is_device = device;
    bi->untyped.count++;
}

/* [base, end) cut into naturally aligned power-of-two blocks. */
static void give_range(uint64_t base, uint64_t end, bool device)
{
    while (end > base && end - base >= PAGE_SIZE) {
        unsigned bits = 12;
        while (bits < PITH_UNTYPED_MAX_BITS && !(base & ((1ull << (bits + 1)) - 1)) &&
               base + (1ull << (bits + 1)) <= end)
            bits++;
        add_untyped(take_slot(), base, bits, device);
        base += 1ull << bits;
    }
}

static void give_free_memory(void)
{
    for (int i = 0; i < boot.mem.n; i++)
        give_range(boot.mem.r[i].base, boot.mem.r[i].end, false);
    boot.mem.n = 0;                     /* from now on the kernel allocates nothing */
}

/*
 * Device memory: the hole below 4 GiB between the end of RAM and the
 * interrupt controllers (PCI devices' registers live there), as device
 * untyped.  The IOAPIC, HPET and local APIC pages above 0xFEC00000 stay
 * the kernel's.
 */
/*
 * The PCI Express configuration space the ACPI MCFG names, when it lies
 * below the hole (firmware lists it as reserved): device memory too, for
 * the PCI bus server.  Given only if no range of the memory map overlaps
 * it without lying wholly inside it (RAM never does).
 */
static void give_ecam(uint64_t low_top, uint64_t hole_end)
{
    if (!acpi.mcfg_found)
        return;
    uint64_t base = acpi.mcfg.base + ((uint64_t)acpi.mcfg.bus_first << 20);
    uint64_t end = acpi.mcfg.base + (((uint64_t)acpi.mcfg.bus_last + 1) << 20);
    if (end > low_top || end > hole_end)
        return;                         /* in the hole already, or not below it */
    for (int i = 0; i < boot.nram; i++)
        if (boot.ram[i].base < end && boot.ram[i].end > base &&
            (boot.ram[i].base < base || boot.ram[i].end > end)) {
            kprintf("rootserver: the PCI configuration space %#lx-%#lx overlaps memory %#lx-%#lx; not given\n",
                    base, end - 1, boot.ram[i].base, boot.ram[i].end - 1);
            return;
        }
    give_range(base, end, true);
}

static void give_device_memory(void)
{
    const uint64_t hole_end = 0xFEC00000ull;
    uint64_t low_top = 0;
    for (int i = 0; i < boot.nram; i++)
        if (boot.ram[i].end <= hole_end && boot.ram[i].end > low_top)
            low_top = boot.ram[i].end;
    low_top = (low_top + (1ull << 20) - 1) & ~((1ull << 20) - 1);
    give_range(low_top, hole_end, true);
    give_ecam(low_top, hole_end);
}

static unsigned log2_up(uint64_t n)
{
    unsigned b = 0;
    while ((1ull << b) < n)
        b++;
    return b;
}

void rootserver_create(void)
{
    if (boot.nmod == 0)
        panic("init: no boot modules; the first module must be init");
    const struct boot_module *init = &boot.mod[0];

    /* The CNode first, holding its own capability in slot 1. */
    uint64_t cnode_bytes = 1ull << (INIT_CNODE_BITS + PITH_SLOT_BITS);
    uint64_t pa = physmem_alloc(&boot.mem, cnode_bytes, cnode_bytes, UINT64_MAX);
    if (!pa)
        panic("init: no memory for its capability space");
    memset(phys_to_virt(pa), 0, cnode_bytes);
    slots = phys_to_virt(pa);
    root_cap(PITH_SLOT_CSPACE, PITH_OBJ_CNODE, PITH_RIGHTS_ALL, (uint64_t)slots, INIT_CNODE_BITS);

    /* A block for init's own objects: the image, stack, tables, and some to spare. */
    uint64_t pages = (init->end - init->start) / PAGE_SIZE * 2 + PITH_INIT_STACK_PAGES + 64;
    unsigned bits = log2_up(pages * PAGE_SIZE);
    pa = physmem_alloc(&boot.mem, 1ull << bits, 1ull << bits, UINT64_MAX);
    if (!pa)
        panic("init: no memory for its %lu pages", pages);
    bi = NULL;
    uint64_t ut_slot = take_slot();
    root_cap(ut_slot, PITH_OBJ_UNTYPED, PITH_RIGHTS_ALL, (uint64_t)phys_to_virt(pa), bits);
    boot_ut = &slots[ut_slot];

    make(PITH_OBJ_VSPACE, 0, PITH_SLOT_VSPACE);
    make(PITH_OBJ_TCB, 0, PITH_SLOT_TCB);
    /* Two frames made one after the other from one untyped block are adjacent. */
    make(PITH_OBJ_FRAME, 0, PITH_SLOT_BOOTINFO);
    make(PITH_OBJ_FRAME, 0, PITH_SLOT_BOOTINFO_2);
    if (slots[PITH_SLOT_BOOTINFO_2].cap.obj != slots[PITH_SLOT_BOOTINFO].cap.obj + PAGE_SIZE)
        panic("init: the boot-info pages are not adjacent");
    make(PITH_OBJ_FRAME, 0, PITH_SLOT_IPC_BUFFER);
    root_cap(PITH_SLOT_LOG, PITH_OBJ_LOG, PITH_RIGHTS_ALL, 0, 0);
    root_cap(PITH_SLOT_IRQ_CONTROL, PITH_OBJ_IRQ_CONTROL, PITH_RIGHTS_ALL, 0, 0);
    bi = (struct pith_bootinfo *)slots[PITH_SLOT_BOOTINFO].cap.obj;
    map(PITH_SLOT_BOOTINFO, PITH_BOOTINFO_ADDR, PITH_RIGHT_READ);
    map(PITH_SLOT_BOOTINFO_2, PITH_BOOTINFO_ADDR + PAGE_SIZE, PITH_RIGHT_READ);
    map(PITH_SLOT_IPC_BUFFER, PITH_IPC_BUFFER_ADDR, PITH_RIGHT_READ | PITH_RIGHT_WRITE);
    /* The clock: filled once, then init and whoever it shares it with may only read it. */
    make(PITH_OBJ_FRAME, 0, PITH_SLOT_TIME);
    time_page_fill((struct pith_time_page *)slots[PITH_SLOT_TIME].cap.obj);
    slots[PITH_SLOT_TIME].cap.rights = PITH_RIGHT_READ | PITH_RIGHT_GRANT;
    map(PITH_SLOT_TIME, PITH_TIME_PAGE_ADDR, PITH_RIGHT_READ);

    uint64_t entry = load_image(init);
    for (int i = 1; i <= PITH_INIT_STACK_PAGES; i++)
        new_frame(PITH_INIT_STACK_TOP - (uint64_t)i * PAGE_SIZE, PITH_RIGHT_READ | PITH_RIGHT_WRITE);

    bi->untyped.first_slot = next_free;
    give_free_memory();
    give_device_memory();
    give_modules();
    give_io_ports();

    bi->magic = PITH_BOOTINFO_MAGIC;
    bi->version = PITH_BOOTINFO_VERSION;
    bi->abi_major = PITH_ABI_VERSION_MAJOR;
    bi->abi_minor = PITH_ABI_VERSION_MINOR;
    bi->cspace_slot_bits = INIT_CNODE_BITS;
    bi->empty.first_slot = next_free;
    bi->empty.count = (1ull << INIT_CNODE_BITS) - next_free;
    bi->tsc_hz = tsc_hz();
    bi->time_page = PITH_TIME_PAGE_ADDR;
    bi->cpus = smp_ncpus;
    bi->irq_lines = ioapic_lines();
    memcpy(bi->cmdline, boot.cmdline, sizeof bi->cmdline);
    if (acpi.mcfg_found) {
        bi->pci_ecam = acpi.mcfg.base;
        bi->pci_bus_first = acpi.mcfg.bus_first;
        bi->pci_bus_last = acpi.mcfg.bus_last;
    }

    struct tcb *t = (struct tcb *)slots[PITH_SLOT_TCB].cap.obj;
    int err = tcb_configure(t, &slots[PITH_SLOT_CSPACE], &slots[PITH_SLOT_VSPACE],
                            &slots[PITH_SLOT_IPC_BUFFER], NULL);
    if (!err)
        err = tcb_write_registers(t, entry, PITH_INIT_STACK_TOP, PITH_BOOTINFO_ADDR, 0);
    if (err)
        panic("init: cannot configure its thread: error %d", err);
    t->priority = t->base_priority = INIT_PRIORITY;
    t->mcp = 255;
    if ((err = tcb_resume(t)))
        panic("init: cannot start its thread: error %d", err);
    kprintf("init: %s started, entry %#lx, %lu untyped blocks, %lu free slots\n",
            init->name, entry, bi->untyped.count, bi->empty.count);
}
