/*
 * Start-up and the runtime's own kernel objects: the slot allocator, the
 * untyped memory the runtime carves for itself, mapping pages into our
 * address space, and the end of the task.
 */
#include "pith.h"
#include "process.h"
#include "heap.h"
#include "tls.h"

#include <stdlib.h>

const struct pith_bootinfo *pith_bootinfo;
static uint64_t next_slot;              /* atomic: threads take slots concurrently */
static uint64_t end_slot;
static uint64_t objects_untyped;

_Noreturn void pith_start(const struct pith_bootinfo *bi);
void pith_malloc_init(void);
void pith_threads_init(void);

_Noreturn void pith_shutdown(int success)
{
    pith_invoke4(PITH_SLOT_LOG, PITH_LOG_SHUTDOWN, success ? 1 : 0, 0, 0, 0);
    for (;;)
        pith_sleep_ns(1000000000ull);
}

int pith_is_init(void)
{
    return pith_bootinfo && pith_bootinfo->magic == PITH_BOOTINFO_MAGIC;
}

_Noreturn void pith_end_task(int status)
{
    /* Init holds the log capability and ends the system with its verdict. */
    if (pith_is_init())
        pith_shutdown(status == 0);
    /* A started process tells its supervisor (process.h); without one, the
     * unknown call suspends it, which ends it just as well. */
    if (pith_bootinfo && pith_bootinfo->magic == PITH_PROCESS_MAGIC) {
        struct pith_msg m = { 0 };
        pith_syscall(PITH_EXIT_SYSCALL, (uint64_t)status, &m, 0);
    }
    for (;;)
        pith_invoke4(PITH_SLOT_TCB, PITH_TCB_SUSPEND, 0, 0, 0, 0);
}

static int slot_loggers;                /* threads noting their slots: only then is TLS looked at */

/* Slots given back: a stack guarded by a spin lock (held for a few instructions). */
#define FREED_MAX 1024
static uint64_t freed[FREED_MAX];
static int nfreed, freed_lock;

void pith_slot_free(uint64_t slot)
{
    while (__atomic_exchange_n(&freed_lock, 1, __ATOMIC_ACQUIRE))
        ;
    if (nfreed < FREED_MAX)
        freed[nfreed++] = slot;
    __atomic_store_n(&freed_lock, 0, __ATOMIC_RELEASE);
}

static uint64_t take_freed(void)
{
    uint64_t slot = 0;
    if (!__atomic_load_n(&nfreed, __ATOMIC_RELAXED))
        return 0;
    while (__atomic_exchange_n(&freed_lock, 1, __ATOMIC_ACQUIRE))
        ;
    if (nfreed)
        slot = freed[--nfreed];
    __atomic_store_n(&freed_lock, 0, __ATOMIC_RELEASE);
    return slot;
}

/* Atomic: threads take slots concurrently (thread creation, the heap). */
uint64_t pith_slot_alloc(void)
{
    uint64_t slot = take_freed();
    if (!slot)
        slot = __atomic_fetch_add(&next_slot, 1, __ATOMIC_RELAXED);
    if (slot >= end_slot) {
        puts_log("libpith: out of capability slots\n");
        pith_end_task(1);
    }
    if (__atomic_load_n(&slot_loggers, __ATOMIC_RELAXED)) {
        struct pith_tls *t = pith_tls_self();
        if (t->slot_log && t->slot_log_count++ < t->slot_log_max)
            t->slot_log[t->slot_log_count - 1] = slot;
    }
    return slot;
}

uint64_t pith_slot_alloc_range(uint64_t n)
{
    uint64_t slot = __atomic_fetch_add(&next_slot, n, __ATOMIC_RELAXED);
    if (n == 0 || slot + n > end_slot) {
        puts_log("libpith: out of capability slots\n");
        pith_end_task(1);
    }
    return slot;
}

uint64_t pith_slots_left(void)
{
    uint64_t next = __atomic_load_n(&next_slot, __ATOMIC_RELAXED);
    return (next < end_slot ? end_slot - next : 0) + (uint64_t)__atomic_load_n(&nfreed, __ATOMIC_RELAXED);
}

void pith_slot_log_begin(uint64_t *slots, uint32_t max)
{
    struct pith_tls *t = pith_tls_self();
    t->slot_log_count = 0;
    t->slot_log_max = max;
    t->slot_log = slots;
    __atomic_fetch_add(&slot_loggers, 1, __ATOMIC_RELAXED);
}

uint32_t pith_slot_log_end(void)
{
    struct pith_tls *t = pith_tls_self();
    t->slot_log = NULL;
    __atomic_fetch_sub(&slot_loggers, 1, __ATOMIC_RELAXED);
    return t->slot_log_count;
}

uint64_t pith_biggest_untyped(void)
{
    const struct pith_bootinfo *bi = pith_bootinfo;
    uint64_t best = 0;
    for (uint64_t i = 1; i < bi->untyped.count; i++)
        if (!bi->untyped_list[i].is_device &&
            (bi->untyped_list[best].is_device ||
             bi->untyped_list[i].size_bits > bi->untyped_list[best].size_bits))
            best = i;
    return bi->untyped.first_slot + best;
}

uint64_t pith_retype(uint64_t untyped, uint8_t type, uint32_t bits)
{
    uint64_t slot = pith_slot_alloc();
    if (pith_invoke4(untyped, PITH_UNTYPED_RETYPE, type | (uint64_t)bits << 8, PITH_SLOT_CSPACE, slot, 1))
        return 0;
    return slot;
}

uint64_t pith_retype_range(uint64_t untyped, uint8_t type, uint32_t bits, uint64_t count)
{
    uint64_t first = pith_slot_alloc_range(count);
    if (!pith_invoke4(untyped ? untyped : objects_untyped, PITH_UNTYPED_RETYPE, type | (uint64_t)bits << 8,
                      PITH_SLOT_CSPACE, first, count))
        return first;
    for (uint64_t i = 0; i < count; i++)
        pith_slot_free(first + i);
    return 0;
}

uint64_t pith_object_new(uint8_t type, uint32_t bits)
{
    return pith_retype(objects_untyped, type, bits);
}

int pith_map_page(uint64_t frame, uint64_t va, uint8_t rights, uint64_t untyped)
{
    if (!untyped)
        untyped = objects_untyped;
    /* Up to three missing levels of page tables on the way to va. */
    for (int i = 0; i < 4; i++) {
        long err = pith_invoke4(frame, PITH_FRAME_MAP, PITH_SLOT_VSPACE, va, rights, 0);
        if (err != PITH_E_NO_TABLE)
            return (int)err;
        uint64_t pt = pith_retype(untyped, PITH_OBJ_PAGE_TABLE, 0);
        if (!pt)
            return PITH_E_NO_MEMORY;
        if ((err = pith_invoke4(pt, PITH_PAGE_TABLE_MAP, PITH_SLOT_VSPACE, va, 0, 0)))
            return (int)err;
    }
    return PITH_E_NO_TABLE;
}

int pith_map_frames(uint64_t vspace, uint64_t cnode, uint64_t first, uint64_t va, uint64_t count,
                    uint8_t rights, uint64_t untyped)
{
    if (!untyped)
        untyped = objects_untyped;
    while (count) {
        /* A run that stays within one page table's 2 MiB: one table makes room for all of it. */
        uint64_t run = (0x200000 - (va & 0x1fffff)) / 4096;
        if (run > count)
            run = count;
        /* Up to three missing levels of page tables on the way. */
        for (int level = 0;; level++) {
            long err = pith_invoke4(vspace, PITH_VSPACE_MAP_FRAMES, cnode | first << 32, va, run, rights);
            if (err == PITH_OK)
                break;
            if (err != PITH_E_NO_TABLE || level == 3)
                return (int)err;
            uint64_t pt = pith_retype(untyped, PITH_OBJ_PAGE_TABLE, 0);
            if (!pt)
                return PITH_E_NO_MEMORY;
            if ((err = pith_invoke4(pt, PITH_PAGE_TABLE_MAP, vspace, va, 0, 0)))
                return (int)err;
        }
        count -= run;
        first += run;
        va += run * 4096;
    }
    return PITH_OK;
}

long pith_untyped_carve(uint32_t bits, uint64_t cnode, uint64_t slot)
{
    const struct pith_bootinfo *bi = pith_bootinfo;
    for (uint32_t size = bits; size < 64; size++)
        for (uint64_t i = 0; i < bi->untyped.count; i++)
            if (!bi->untyped_list[i].is_device && bi->untyped_list[i].size_bits == size &&
                !pith_invoke4(bi->untyped.first_slot + i, PITH_UNTYPED_RETYPE,
                              PITH_OBJ_UNTYPED | (uint64_t)bits << 8, cnode, slot, 1))
                return PITH_OK;
    return PITH_E_NO_MEMORY;
}

/* The runtime's parts come from the smallest blocks, leaving the big ones whole for the program; 0: none. */
static uint64_t carve(uint32_t bits)
{
    uint64_t slot = pith_slot_alloc();
    if (pith_untyped_carve(bits, PITH_SLOT_CSPACE, slot) == PITH_OK)
        return slot;
    pith_slot_free(slot);
    return 0;
}

_Noreturn void pith_start(const struct pith_bootinfo *bi)
{
    pith_bootinfo = bi;
    next_slot = bi->empty.first_slot;
    end_slot = bi->empty.first_slot + bi->empty.count;
    /* The thread block first: musl's code reads its canary through FS. */
    pith_tls_init_main((struct pith_ipc_buffer *)PITH_IPC_BUFFER_ADDR, PITH_SLOT_TCB);
    /*
     * A small process (a child given under 16 MiB by its parent, whose own
     * half is under 8 MiB) gives the runtime a quarter of its memory for
     * each part, keeping half for the program.
     */
    uint32_t objects_bits = PITH_RUNTIME_OBJECTS_BITS, heap_bits = PITH_RUNTIME_HEAP_BITS;
    uint32_t have = bi->untyped.count ? bi->untyped_list[pith_biggest_untyped() - bi->untyped.first_slot].size_bits : 0;
    if (have && have < PITH_RUNTIME_OBJECTS_BITS + 1 && have >= PITH_UNTYPED_MIN_BITS + 2)
        objects_bits = heap_bits = have - 2;
    objects_untyped = carve(objects_bits);
    uint64_t heap = carve(heap_bits);
    if (!objects_untyped || !heap) {
        puts_log("libpith: no memory for the runtime\n");
        pith_end_task(1);
    }
    pith_tls_self()->ntfn = pith_object_new(PITH_OBJ_NOTIFICATION, 0);
    pith_heap_init(heap);
    pith_malloc_init();
    pith_threads_init();
    exit(main());
}
