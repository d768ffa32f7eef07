/* Kernel page tables: W^X on the image and everywhere else, NX, guard page, SMEP/SMAP on. */
#include "ktest.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/trap.h"
#include "core/boot.h"

extern char __text_start[], __rodata_start[], __data_start[], __ksyms_start[];
extern char __bss_start[], boot_stack_guard[], boot_stack_bottom[];

static uint8_t data_page[4096] __attribute__((aligned(4096)));

/* Any address inside the kernel's text. */
static uint64_t text_addr(void)
{
    return (uint64_t)(uintptr_t)&kmain;
}

KTEST(paging_image_permissions)
{
    uint64_t text = paging_query(text_addr());
    KT_ASSERT(text & PTE_P);
    KT_ASSERT(!(text & PTE_W));
    KT_ASSERT(!(text & PTE_NX));
    uint64_t ro = paging_query((uint64_t)__rodata_start);
    KT_ASSERT((ro & PTE_P) && !(ro & PTE_W) && (ro & PTE_NX));
    uint64_t syms = paging_query((uint64_t)__ksyms_start);
    KT_ASSERT((syms & PTE_P) && !(syms & PTE_W) && (syms & PTE_NX));
    uint64_t data = paging_query((uint64_t)__data_start);
    KT_ASSERT((data & PTE_P) && (data & PTE_W) && (data & PTE_NX));
    uint64_t bss = paging_query((uint64_t)data_page);
    KT_ASSERT((bss & PTE_P) && (bss & PTE_W) && (bss & PTE_NX));
    KT_ASSERT(!(text & PTE_U) && !(data & PTE_U));
}

/* Walk every present leaf of the kernel half: none may be both writable and executable. */
KTEST(paging_no_writable_executable_page_anywhere)
{
    const uint64_t *pml4 = phys_to_virt(read_cr3() & PTE_ADDR);
    uint64_t leaves = 0, bad = 0;
    for (int i4 = 256; i4 < 512; i4++) {
        if (!(pml4[i4] & PTE_P))
            continue;
        const uint64_t *pdpt = phys_to_virt(pml4[i4] & PTE_ADDR);
        for (int i3 = 0; i3 < 512; i3++) {
            uint64_t e3 = pdpt[i3];
            if (!(e3 & PTE_P))
                continue;
            if (e3 & PTE_PS) {
                leaves++;
                bad += (e3 & PTE_W) && !(e3 & PTE_NX);
                continue;
            }
            const uint64_t *pd = phys_to_virt(e3 & PTE_ADDR);
            for (int i2 = 0; i2 < 512; i2++) {
                uint64_t e2 = pd[i2];
                if (!(e2 & PTE_P))
                    continue;
                if (e2 & PTE_PS) {
                    leaves++;
                    bad += (e2 & PTE_W) && !(e2 & PTE_NX);
                    continue;
                }
                const uint64_t *pt = phys_to_virt(e2 & PTE_ADDR);
                for (int i1 = 0; i1 < 512; i1++) {
                    uint64_t e1 = pt[i1];
                    if (!(e1 & PTE_P))
                        continue;
                    leaves++;
                    bad += (e1 & PTE_W) && !(e1 & PTE_NX);
                    KT_ASSERT(!(e1 & PTE_U));
                }
            }
        }
    }
    KT_ASSERT(leaves > 100);
    KT_EQ(bad, 0);
    /* And nothing at all in the user half yet. */
    for (int i4 = 0; i4 < 256; i4++)
        KT_EQ(pml4[i4] & PTE_P, 0);
}

KTEST(paging_write_to_text_faults)
{
    uint64_t before = last_fault.count;
    KT_EQ(probe_write((void *)text_addr()), VEC_PF);
    KT_EQ(last_fault.count, before + 1);
    KT_EQ(last_fault.error & (PF_PRESENT | PF_WRITE | PF_USER), PF_PRESENT | PF_WRITE);
    KT_EQ(last_fault.cr2, text_addr());
}

KTEST(paging_text_alias_in_direct_map_is_read_only)
{
    void *alias = phys_to_virt(text_addr() - KERNEL_VMA);
    KT_EQ(probe_read(alias), -1);
    KT_EQ(probe_write(alias), VEC_PF);
    KT_EQ(probe_write((void *)__rodata_start), VEC_PF);
}

KTEST(paging_data_is_not_executable)
{
    data_page[0] = 0xC3;                            /* ret */
    KT_EQ(probe_exec(data_page), VEC_PF);
    KT_ASSERT(last_fault.error & PF_FETCH);
    KT_EQ(last_fault.cr2, (uint64_t)data_page);
    /* The same bytes through the direct map: also never executable. */
    KT_EQ(probe_exec(phys_to_virt((uint64_t)data_page - KERNEL_VMA)), VEC_PF);
    KT_ASSERT(last_fault.error & PF_FETCH);
}

KTEST(paging_stack_guard_unmapped)
{
    KT_EQ(paging_query((uint64_t)boot_stack_guard), 0);
    KT_EQ(probe_read(boot_stack_guard), VEC_PF);
    KT_EQ(last_fault.error & PF_PRESENT, 0);
    KT_ASSERT(paging_query((uint64_t)boot_stack_bottom) & PTE_P);
}

KTEST(paging_null_and_noncanonical)
{
    KT_EQ(probe_read((void *)0), VEC_PF);
    KT_EQ(probe_read((void *)0x0000800000000000ull), VEC_GP);
    KT_EQ(probe_read((void *)0xffff7fffffffffffull), VEC_GP);
}

KTEST(paging_protection_bits_enabled)
{
    KT_ASSERT(read_cr0() & CR0_WP);
    KT_ASSERT(rdmsr(MSR_EFER) & EFER_NXE);
    if (cpu.smep)
        KT_ASSERT(read_cr4() & CR4_SMEP);
    if (cpu.smap)
        KT_ASSERT(read_cr4() & CR4_SMAP);
}

KTEST(paging_mmio_is_uncached)
{
    void *p = paging_map_mmio(0xFEC00000, 16);      /* the IOAPIC page */
    uint64_t q = paging_query((uint64_t)p);
    KT_ASSERT(q & PTE_P);
    KT_ASSERT(q & PTE_PCD);
    KT_ASSERT(q & PTE_NX);
}
