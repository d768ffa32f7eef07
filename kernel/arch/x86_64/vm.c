/*
 * User address spaces.  The top-level table of a VSpace keeps its ASID in
 * entry 255, marked not present (the CPU ignores it), which is why user
 * space ends at 0x7f8000000000 instead of 0x800000000000; entries 256-511
 * are the kernel's, copied when the VSpace is made.  The ASID table maps
 * an ASID to its live VSpace; a VSpace's ASID is freed when it is destroyed,
 * and mappings that name it are then known to be dead.
 */
#include "arch/x86_64/vm.h"
#include "arch/x86_64/tlb.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "core/panic.h"
#include "core/sched.h"
#include "lib/string.h"
#include "object/tcb.h"

#define ASID_ENTRY      255
#define LEVEL_SHIFT(l)  (12 + 9 * (l))
#define INDEX(va, l)    (((va) >> LEVEL_SHIFT(l)) & 511)
#define MAPPING_LEVEL(w0)   ((unsigned)((w0) & 7))
#define MAPPING_VADDR(w0)   ((w0) & ~0xfffull)

static uint64_t *asid_table[VM_ASID_MAX];      /* index 0: no ASID */
uint64_t vm_kernel_pml4;

void vm_init(void)
{
    vm_kernel_pml4 = read_cr3() & PTE_ADDR;
}


static uint32_t vspace_asid(const uint64_t *pml4)
{
    return (uint32_t)(pml4[ASID_ENTRY] >> 12);
}

int vm_vspace_created(struct cap *vs)
{
    uint64_t *pml4 = (uint64_t *)vs->obj;
    const uint64_t *kernel = phys_to_virt(vm_kernel_pml4);
    for (int i = 256; i < 512; i++)
        pml4[i] = kernel[i];
    for (uint32_t a = 1; a < VM_ASID_MAX; a++) {
        if (!asid_table[a]) {
            asid_table[a] = pml4;
            pml4[ASID_ENTRY] = (uint64_t)a << 12;  /* not present: only we read it */
            return PITH_OK;
        }
    }
    return PITH_E_NO_MEMORY;
}

void vm_vspace_finalise(const struct cap *vs)
{
    uint64_t *pml4 = (uint64_t *)vs->obj;
    uint32_t asid = vspace_asid(pml4);
    if (asid && asid < VM_ASID_MAX && asid_table[asid] == pml4)
        asid_table[asid] = NULL;
    if ((read_cr3() & PTE_ADDR) == vm_object_phys(vs))
        tlb_set_cr3(vm_kernel_pml4);
    tlb_shootdown(vm_object_phys(vs), true);    /* no CPU keeps it live */
    sched_reload();
}

static bool user_range(uint64_t vaddr, unsigned level)
{
    uint64_t size = 1ull << LEVEL_SHIFT(level + 1);
    return vaddr < 255ull << LEVEL_SHIFT(3) && vaddr + size <= 255ull << LEVEL_SHIFT(3);
}

/*
 * Walks from the top table towards `level`, stopping early at a missing
 * table.  Returns the entry at the deepest level reached and sets *reached.
 */
static uint64_t *walk(uint64_t *pml4, uint64_t vaddr, unsigned level, unsigned *reached)
{
    uint64_t *table = pml4;
    for (unsigned l = 3;; l--) {
        uint64_t *e = &table[INDEX(vaddr, l)];
        if (l == level || !(*e & PTE_P)) {
            *reached = l;
            return e;
        }
        table = phys_to_virt(*e & PTE_ADDR);
    }
}

/*
 * Every flush of one user page goes through here (unmap, the accessed and
 * dirty bits): out of this CPU's TLB, and out of every other CPU's that has
 * the address space live (arch/x86_64/tlb.c).
 */
void vm_flush_page(uint64_t *pml4, uint64_t vaddr)
{
    uint64_t phys = (uint64_t)pml4 - DIRECT_MAP_BASE;
    if ((read_cr3() & PTE_ADDR) == phys)
        invlpg(vaddr);
    tlb_shootdown(phys, false);
}

static void flush(uint64_t *pml4, uint64_t vaddr, unsigned level)
{
    if (level == 0) {
        vm_flush_page(pml4, vaddr);
        return;
    }
    uint64_t phys = (uint64_t)pml4 - DIRECT_MAP_BASE;
    if ((read_cr3() & PTE_ADDR) == phys)
        write_cr3(read_cr3());          /* a whole table went: flush everything */
    tlb_shootdown(phys, false);
}

int vm_map_table(const struct cap *vs, struct cap *pt, uint64_t vaddr)
{
    if (vs->type != PITH_OBJ_VSPACE || pt->type != PITH_OBJ_PAGE_TABLE)
        return PITH_E_WRONG_TYPE;
    if (pt->w1)
        return PITH_E_MAPPED;
    if (!user_range(vaddr & ~(PAGE_SIZE - 1), 0))
        return PITH_E_INVALID_ARG;      /* never walk into the kernel's half */
    uint64_t *pml4 = (uint64_t *)vs->obj;
    uint32_t asid = vspace_asid(pml4);
    if (!asid)
        return PITH_E_NO_MEMORY;
    unsigned level;
    uint64_t *e = walk(pml4, vaddr, 0, &level);
    if (level == 0)
        return PITH_E_MAPPED;           /* every table on the way exists already */
    /* The new table serves level-1; it covers the range of one entry at `level`. */
    vaddr &= ~((1ull << LEVEL_SHIFT(level)) - 1);
    if (!user_range(vaddr, level - 1))
        return PITH_E_INVALID_ARG;
    *e = vm_object_phys(pt) | PTE_P | PTE_W | PTE_U;
    pt->w0 = vaddr | (level - 1);
    pt->w1 = asid;
    return PITH_OK;
}

/* The entry e for frame at vaddr, with the mapping's rights; the capability records the mapping. */
static void set_pte(uint64_t *e, struct cap *frame, uint64_t vaddr, uint8_t rights, uint32_t asid)
{
    uint64_t pte = vm_object_phys(frame) | PTE_P | PTE_U;
    if (rights & PITH_RIGHT_WRITE)
        pte |= PTE_W;
    if (!(rights & PITH_RIGHT_EXEC))
        pte |= PTE_NX;
    if (frame->flags & CAP_FLAG_DEVICE)
        pte |= PTE_PCD | PTE_PWT;       /* device registers: uncached */
    *e = pte;
    frame->w0 = vaddr;
    frame->w1 = asid;
}

int vm_map_frame(const struct cap *vs, struct cap *frame, uint64_t vaddr, uint8_t rights)
{
    if (vs->type != PITH_OBJ_VSPACE || frame->type != PITH_OBJ_FRAME)
        return PITH_E_WRONG_TYPE;
    if (vaddr & (PAGE_SIZE - 1))
        return PITH_E_ALIGNMENT;
    if (!user_range(vaddr, 0) || !(rights & PITH_RIGHT_READ))
        return PITH_E_INVALID_ARG;
    if ((rights & PITH_RIGHT_WRITE) && (rights & PITH_RIGHT_EXEC))
        return PITH_E_INVALID_ARG;      /* W^X for user pages too */
    if ((rights & frame->rights & (PITH_RIGHT_READ | PITH_RIGHT_WRITE | PITH_RIGHT_EXEC)) !=
        (rights & (PITH_RIGHT_READ | PITH_RIGHT_WRITE | PITH_RIGHT_EXEC)))
        return PITH_E_NO_RIGHTS;
    if (frame->w1)
        return PITH_E_MAPPED;
    uint64_t *pml4 = (uint64_t *)vs->obj;
    uint32_t asid = vspace_asid(pml4);
    if (!asid)
        return PITH_E_NO_MEMORY;
    unsigned level;
    uint64_t *e = walk(pml4, vaddr, 0, &level);
    if (level != 0)
        return PITH_E_NO_TABLE;
    if (*e & PTE_P)
        return PITH_E_MAPPED;
    set_pte(e, frame, vaddr, rights, asid);
    return PITH_OK;
}

/*
 * The last-level table entry of each page of a range, walked to once per
 * table rather than once per page: *pt is the table of the previous page
 * (NULL at first), kept while vaddr stays within its 2 MiB.  NULL if a
 * table on the way is missing.
 */
static uint64_t *range_entry(uint64_t *pml4, uint64_t vaddr, uint64_t **pt)
{
    if (!*pt || (vaddr & ((1ull << LEVEL_SHIFT(1)) - 1)) == 0) {
        unsigned level;
        uint64_t *e = walk(pml4, vaddr, 0, &level);
        *pt = level == 0 ? e - INDEX(vaddr, 0) : NULL;
        if (!*pt)
            return NULL;
    }
    return &(*pt)[INDEX(vaddr, 0)];
}

void vm_map_range(const struct cap *vs, struct slot *frames, uint64_t count, uint64_t vaddr, uint8_t rights)
{
    uint64_t *pml4 = (uint64_t *)vs->obj, *pt = NULL;
    uint32_t asid = vspace_asid(pml4);
    for (uint64_t i = 0; i < count; i++) {
        uint64_t va = vaddr + i * PAGE_SIZE;
        set_pte(range_entry(pml4, va, &pt), &frames[i].cap, va, rights, asid);
    }
}

void vm_unmap(struct cap *c)
{
    if ((c->type != PITH_OBJ_FRAME && c->type != PITH_OBJ_PAGE_TABLE) || !c->w1)
        return;
    uint32_t asid = (uint32_t)c->w1;
    uint64_t *pml4 = asid < VM_ASID_MAX ? asid_table[asid] : NULL;
    unsigned level = MAPPING_LEVEL(c->w0);
    uint64_t vaddr = MAPPING_VADDR(c->w0);
    if (pml4) {
        /* Clear the entry only if it still points at this object. */
        unsigned parent = c->type == PITH_OBJ_FRAME ? 0 : level + 1;
        unsigned reached;
        uint64_t *e = walk(pml4, vaddr, parent, &reached);
        if (reached == parent && (*e & PTE_P) && (*e & PTE_ADDR) == vm_object_phys(c)) {
            *e = 0;
            flush(pml4, vaddr, parent);
        }
    }
    /* A table is always empty when it is mapped again. */
    if (c->type == PITH_OBJ_PAGE_TABLE)
        memset((void *)c->obj, 0, PAGE_SIZE);
    c->w0 = c->w1 = 0;
}


/* ---- ranges of pages (user-level memory management, docs/memory.md) ---- */

int vm_range_check(const struct cap *vs, uint64_t vaddr, uint64_t count)
{
    if (vs->type != PITH_OBJ_VSPACE)
        return PITH_E_WRONG_TYPE;
    if (vaddr & (PAGE_SIZE - 1))
        return PITH_E_ALIGNMENT;
    /* count is at most PITH_MAP_MAX_PAGES: no overflow */
    if (!user_range(vaddr, 0) || !user_range(vaddr + (count - 1) * PAGE_SIZE, 0))
        return PITH_E_INVALID_ARG;
    uint64_t *pml4 = (uint64_t *)vs->obj, *pt = NULL;
    if (!vspace_asid(pml4))
        return PITH_E_NO_MEMORY;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t *e = range_entry(pml4, vaddr + i * PAGE_SIZE, &pt);
        if (!e)
            return PITH_E_NO_TABLE;
        if (*e & PTE_P)
            return PITH_E_MAPPED;
    }
    return PITH_OK;
}

/*
 * Reads and clears the accessed and dirty bits of count pages.  A cleared
 * entry is flushed, or the CPU would go on using its cached copy and never
 * set the bits again.
 */
int vm_ad_bits(const struct cap *vs, uint64_t vaddr, unsigned count, uint64_t out[3])
{
    if (vs->type != PITH_OBJ_VSPACE)
        return PITH_E_WRONG_TYPE;
    if (vaddr & (PAGE_SIZE - 1))
        return PITH_E_ALIGNMENT;
    if (count == 0 || count > 64 || !user_range(vaddr, 0) ||
        !user_range(vaddr + (uint64_t)(count - 1) * PAGE_SIZE, 0))
        return PITH_E_INVALID_ARG;
    uint64_t *pml4 = (uint64_t *)vs->obj;
    out[0] = out[1] = out[2] = 0;
    for (unsigned i = 0; i < count; i++) {
        uint64_t va = vaddr + (uint64_t)i * PAGE_SIZE;
        unsigned level;
        uint64_t *e = walk(pml4, va, 0, &level);
        if (level != 0 || !(*e & PTE_P))
            continue;
        uint64_t pte = __atomic_fetch_and(e, ~(PTE_A | PTE_D), __ATOMIC_SEQ_CST);
        out[0] |= 1ull << i;
        if (pte & PTE_A)
            out[1] |= 1ull << i;
        if (pte & PTE_D)
            out[2] |= 1ull << i;
        if (pte & (PTE_A | PTE_D))
            vm_flush_page(pml4, va);
    }
    return PITH_OK;
}
