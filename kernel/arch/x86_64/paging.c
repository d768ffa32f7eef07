/*
 * Builds the kernel's own page tables and switches to them:
 *   - the kernel image at -2 GiB in 4 KiB pages: text read-execute,
 *     read-only data read-only, data and bss read-write, never both
 *     writable and executable; the page under the boot stack unmapped;
 *   - the direct map of physical memory at DIRECT_MAP_BASE, never
 *     executable, with the image's text and read-only data read-only there too;
 *   - an uncached window for device registers (paging_map_mmio).
 * Page tables come from boot.mem, the boot-time free list.
 */
#include "arch/x86_64/paging.h"
#include "arch/x86_64/cpu.h"
#include "core/boot.h"
#include "core/panic.h"
#include "lib/string.h"

extern char __image_start[], __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], __data_end[], __ksyms_start[], __load_end[];
extern char __bss_start[], __bss_end[], boot_stack_guard[];

#define LEVEL_SHIFT(l)  (12 + 9 * (l))          /* level 0 = PT ... 3 = PML4 */
#define INDEX(va, l)    (((va) >> LEVEL_SHIFT(l)) & 511)
#define EARLY_LIMIT     (1ull << 30)

static uint64_t *kernel_pml4;
static uint64_t kernel_pml4_phys;
static bool switched;                   /* the full direct map is live */
static uint64_t mmio_next = MMIO_BASE;

static uint64_t *alloc_table(void)
{
    uint64_t pa = physmem_alloc(&boot.mem, PAGE_SIZE, PAGE_SIZE, switched ? UINT64_MAX : EARLY_LIMIT);
    if (!pa)
        panic("paging: out of memory for page tables");
    uint64_t *t = phys_to_virt(pa);
    memset(t, 0, PAGE_SIZE);
    return t;
}

/* The entry for va at level `level`, creating intermediate tables on the way. */
static uint64_t *walk_create(uint64_t va, int level)
{
    uint64_t *table = kernel_pml4;
    for (int l = 3; l > level; l--) {
        uint64_t *e = &table[INDEX(va, l)];
        if (!(*e & PTE_P)) {
            uint64_t *next = alloc_table();
            *e = ((uint64_t)next - DIRECT_MAP_BASE) | PTE_P | PTE_W;
        }
        KASSERT(!(*e & PTE_PS));
        table = phys_to_virt(*e & PTE_ADDR);
    }
    return &table[INDEX(va, level)];
}

/*
 * Maps [va, va+size) to pa using the largest pages alignment allows.  The
 * table of the last entry is kept while the next is of the same size and
 * in the same table: a walk per table, not per page (thousands at boot).
 */
static void map_range(uint64_t va, uint64_t pa, uint64_t size, uint64_t flags)
{
    uint64_t *table = NULL;
    int table_level = -1;
    while (size) {
        int level = 0;
        for (int l = cpu.pdpe1gb ? 2 : 1; l > 0; l--) {
            uint64_t big = 1ull << LEVEL_SHIFT(l);
            if (!(va & (big - 1)) && !(pa & (big - 1)) && size >= big) {
                level = l;
                break;
            }
        }
        uint64_t step = 1ull << LEVEL_SHIFT(level);
        if (!table || level != table_level || !(va & ((1ull << LEVEL_SHIFT(level + 1)) - 1))) {
            table = walk_create(va, level) - INDEX(va, level);
            table_level = level;
        }
        table[INDEX(va, level)] = pa | flags | (level ? PTE_PS : 0);
        va += step;
        pa += step;
        size -= step;
    }
}

static uint64_t kphys(const char *sym) { return (uint64_t)sym - KERNEL_VMA; }

static void map_image(void)
{
    const uint64_t rw = PTE_P | PTE_W | PTE_G | PTE_NX;
    const uint64_t ro = PTE_P | PTE_G | PTE_NX;
    const uint64_t rx = PTE_P | PTE_G;
    uint64_t guard = (uint64_t)boot_stack_guard;

    map_range((uint64_t)__text_start, kphys(__text_start), __text_end - __text_start, rx);
    map_range((uint64_t)__rodata_start, kphys(__rodata_start), __rodata_end - __rodata_start, ro);
    map_range((uint64_t)__data_start, kphys(__data_start), __data_end - __data_start, rw);
    map_range((uint64_t)__ksyms_start, kphys(__ksyms_start), __load_end - __ksyms_start, ro);
    map_range((uint64_t)__bss_start, kphys(__bss_start), guard - (uint64_t)__bss_start, rw);
    map_range(guard + PAGE_SIZE, kphys((char *)guard) + PAGE_SIZE,
              (uint64_t)__bss_end - guard - PAGE_SIZE, rw);
}

static void map_direct(uint64_t top)
{
    const uint64_t rw = PTE_P | PTE_W | PTE_G | PTE_NX;
    const uint64_t ro = PTE_P | PTE_G | PTE_NX;
    uint64_t text = kphys(__text_start), text_end = kphys(__rodata_end);
    uint64_t syms = kphys(__ksyms_start), syms_end = kphys(__load_end);

    map_range(DIRECT_MAP_BASE, 0, text, rw);
    map_range(DIRECT_MAP_BASE + text, text, text_end - text, ro);
    map_range(DIRECT_MAP_BASE + text_end, text_end, syms - text_end, rw);
    map_range(DIRECT_MAP_BASE + syms, syms, syms_end - syms, ro);
    map_range(DIRECT_MAP_BASE + syms_end, syms_end, top - syms_end, rw);
}

void paging_init(void)
{
    if (!cpu.nx)
        panic("paging: the CPU has no NX bit; Pith requires it");
    kernel_pml4 = alloc_table();
    kernel_pml4_phys = (uint64_t)kernel_pml4 - DIRECT_MAP_BASE;

    /* Map at least the low 4 GiB (firmware tables, devices), whole GiBs. */
    uint64_t top = boot.phys_top > (4ull << 30) ? boot.phys_top : (4ull << 30);
    top = (top + (1ull << 30) - 1) & ~((1ull << 30) - 1);
    if (top > DIRECT_MAP_SIZE)
        panic("paging: %lu GiB of physical address space exceed the direct map", top >> 30);

    map_image();
    map_direct(top);

    /* The device window's first page table now, while the kernel can still allocate. */
    walk_create(MMIO_BASE, 0);
    paging_init_cpu();
    switched = true;
}

/* Each CPU: write protection in ring 0, global pages, SMEP and SMAP, the kernel's tables. */
void paging_init_cpu(void)
{
    write_cr0(read_cr0() | CR0_WP);
    uint64_t cr4 = read_cr4();
    if (cpu.pge)
        cr4 |= CR4_PGE;
    if (cpu.smep)
        cr4 |= CR4_SMEP;
    if (cpu.smap)
        cr4 |= CR4_SMAP;
    write_cr4(cr4);
    write_cr3(kernel_pml4_phys);
}

uint64_t paging_query(uint64_t va)
{
    const uint64_t *table = phys_to_virt(read_cr3() & PTE_ADDR);
    uint64_t w = PTE_W, u = PTE_U, nx = 0;
    for (int l = 3; l >= 0; l--) {
        uint64_t e = table[INDEX(va, l)];
        if (!(e & PTE_P))
            return 0;
        w &= e;
        u &= e;
        nx |= e & PTE_NX;
        if (l == 0 || (e & PTE_PS))
            return PTE_P | w | u | nx | (e & (PTE_G | PTE_PCD));
        table = phys_to_virt(e & PTE_ADDR);
    }
    return 0;
}

bool paging_kernel_readable(uint64_t va, size_t len)
{
    if (va < DIRECT_MAP_BASE || va + len < va)
        return false;
    for (uint64_t p = va & ~(PAGE_SIZE - 1); p < va + len; p += PAGE_SIZE)
        if (!(paging_query(p) & PTE_P))
            return false;
    return true;
}

void *paging_map_mmio(uint64_t phys, size_t size)
{
    uint64_t off = phys & (PAGE_SIZE - 1);
    uint64_t len = (off + size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    /* 2 MiB of device registers fit the table made at boot; the kernel needs far less. */
    if (mmio_next + len > MMIO_BASE + (2ull << 20))
        panic("paging: MMIO window full");
    uint64_t va = mmio_next;
    for (uint64_t i = 0; i < len; i += PAGE_SIZE)
        *walk_create(va + i, 0) = ((phys - off) + i) | PTE_P | PTE_W | PTE_PCD | PTE_PWT | PTE_G | PTE_NX;
    mmio_next += len;
    return (void *)(va + off);
}
