/*
 * The system-call fuzzer, run as init with "fuzz=N seed=S" on the kernel
 * command line (make fuzz N=... SEED=...; make test runs a million).
 *
 * An unprivileged task (its own capability space and address space, all
 * made from one untyped block) issues N random system calls: random
 * numbers, labels, capability slots and argument words, aimed half the
 * time at an object of the kind the label expects.  A watchdog thread
 * frees it whenever it blocks.  Afterwards the whole block is revoked and
 * retyped again in one piece, which only succeeds if the kernel destroyed
 * everything made from it (nothing leaked), and a bystander thread must
 * have kept running throughout.
 */
#include "pith.h"
#include <pith/extension.h>
#include <pith/fault.h>
#include <stddef.h>

#define SANDBOX_BITS    8
#define FUZZ_UT_BITS    24              /* 16 MiB for the fuzzer's objects */
#define SHARED_VA       0x60000000ull   /* the results pages, in both address spaces */
#define SHARED_PAGES    2
#define FUZZ_STACK_VA   0x40000000ull
#define EXT_TEXT_VA     0x62000000ull   /* ours: the sandbox frame, to write a program into */
/*
 * The fuzzer runs one priority above its own ceiling, so no thread it
 * makes (at most the ceiling) can starve it; if it lowers itself, the
 * watchdog puts it back.
 */
#define FUZZ_PRIORITY   60
#define FUZZ_MCP        59

/* Operations the fuzzer counts separately: every invocation label, then each system call. */
static const uint16_t labels[] = {
    PITH_CNODE_COPY, PITH_CNODE_MINT, PITH_CNODE_MOVE, PITH_CNODE_DELETE, PITH_CNODE_REVOKE,
    PITH_CNODE_IDENTIFY, PITH_UNTYPED_RETYPE, PITH_UNTYPED_INFO, PITH_TCB_CONFIGURE,
    PITH_TCB_SET_PRIORITY, PITH_TCB_WRITE_REGISTERS, PITH_TCB_READ_REGISTERS, PITH_TCB_RESUME,
    PITH_TCB_SUSPEND, PITH_TCB_BIND_NOTIFICATION, PITH_TCB_SET_TLS, PITH_TCB_INFO,
    PITH_FRAME_MAP, PITH_FRAME_UNMAP, PITH_FRAME_PHYS, PITH_PAGE_TABLE_MAP, PITH_PAGE_TABLE_UNMAP,
    PITH_IO_PORTS_CARVE, PITH_IO_PORTS_INFO, PITH_TCB_SET_IO_PORTS,
    PITH_IRQ_CONTROL_BIND, PITH_IRQ_CONTROL_INFO, PITH_IRQ_HANDLER_SET_NOTIFICATION,
    PITH_IRQ_HANDLER_ANSWER, PITH_IRQ_HANDLER_INFO,
    PITH_PORT_INFO, PITH_GROUP_ADD, PITH_GROUP_REMOVE, PITH_GROUP_SET_MODE,
    PITH_LOG_WRITE, PITH_LOG_READ, PITH_TCB_SET_AFFINITY, PITH_TCB_BUDGET, PITH_VSPACE_MAP,
    PITH_VSPACE_GRANT, PITH_VSPACE_AD_BITS, PITH_CNODE_REVOKE_RANGE, PITH_CNODE_COMPARE,
    PITH_EXT_LOAD, PITH_EXT_SET_MAP, PITH_EXT_ATTACH, PITH_EXT_DETACH, PITH_EXT_INFO, PITH_EXT_SET_POOL,
    PITH_TCB_INTERRUPT, PITH_TCB_READ_ALL_REGISTERS, PITH_TCB_WRITE_ALL_REGISTERS, PITH_VSPACE_MAP_FRAMES,
    PITH_TCB_CPU,
    0 /* no such label */,
};
#define NLABELS (sizeof labels / sizeof labels[0])
static const char *const label_names[NLABELS] = {
    "cnode_copy", "cnode_mint", "cnode_move", "cnode_delete", "cnode_revoke", "cnode_identify",
    "untyped_retype", "untyped_info", "tcb_configure", "tcb_set_priority", "tcb_write_registers",
    "tcb_read_registers", "tcb_resume", "tcb_suspend", "tcb_bind_notification", "tcb_set_tls",
    "tcb_info", "frame_map", "frame_unmap", "frame_phys", "page_table_map", "page_table_unmap",
    "io_ports_carve", "io_ports_info", "tcb_set_io_ports", "irq_control_bind", "irq_control_info",
    "irq_set_notification", "irq_answer", "irq_handler_info", "port_info", "group_add",
    "group_remove", "group_set_mode", "log_write", "log_read", "tcb_set_affinity", "tcb_budget",
    "vspace_map", "vspace_grant", "vspace_ad_bits", "cnode_revoke_range", "cnode_compare",
    "ext_load", "ext_set_map", "ext_attach", "ext_detach", "ext_info", "ext_set_pool",
    "tcb_interrupt", "tcb_read_all_registers", "tcb_write_all_registers", "vspace_map_frames", "bad_label",
};
/* The object kind each label is meant for (to aim at the right slot half the time). */
static const uint8_t label_type[NLABELS] = {
    PITH_OBJ_CNODE, PITH_OBJ_CNODE, PITH_OBJ_CNODE, PITH_OBJ_CNODE, PITH_OBJ_CNODE, PITH_OBJ_CNODE,
    PITH_OBJ_UNTYPED, PITH_OBJ_UNTYPED, PITH_OBJ_TCB, PITH_OBJ_TCB, PITH_OBJ_TCB, PITH_OBJ_TCB,
    PITH_OBJ_TCB, PITH_OBJ_TCB, PITH_OBJ_TCB, PITH_OBJ_TCB, PITH_OBJ_TCB, PITH_OBJ_FRAME,
    PITH_OBJ_FRAME, PITH_OBJ_FRAME, PITH_OBJ_PAGE_TABLE, PITH_OBJ_PAGE_TABLE,
    PITH_OBJ_IO_PORTS, PITH_OBJ_IO_PORTS, PITH_OBJ_TCB, PITH_OBJ_IRQ_CONTROL, PITH_OBJ_IRQ_CONTROL,
    PITH_OBJ_IRQ_HANDLER, PITH_OBJ_IRQ_HANDLER, PITH_OBJ_IRQ_HANDLER,
    PITH_OBJ_PORT, PITH_OBJ_PORT_GROUP, PITH_OBJ_PORT_GROUP, PITH_OBJ_PORT_GROUP,
    PITH_OBJ_LOG, PITH_OBJ_LOG, PITH_OBJ_TCB, PITH_OBJ_TCB, PITH_OBJ_VSPACE, PITH_OBJ_VSPACE,
    PITH_OBJ_VSPACE, PITH_OBJ_CNODE, PITH_OBJ_CNODE, PITH_OBJ_EXTENSION, PITH_OBJ_EXTENSION,
    PITH_OBJ_EXTENSION, PITH_OBJ_EXTENSION, PITH_OBJ_EXTENSION, PITH_OBJ_EXTENSION,
    PITH_OBJ_TCB, PITH_OBJ_TCB, PITH_OBJ_TCB, PITH_OBJ_VSPACE, PITH_OBJ_ENDPOINT,
};
#define NSYSCALLS 13                    /* -1..-12 and one unknown number */
#define NOPS (NLABELS + NSYSCALLS)
#define NRESULTS (PITH_E_COUNT + 1)     /* the last: a result outside the documented set */

/* Sandbox slots the parent fills; the rest are empty for the fuzzer to use. */
enum { S_CNODE = 1, S_UNTYPED, S_EP, S_NTFN, S_REPLY, S_FRAME, S_PT, S_TCB, S_VSPACE, S_VICTIM, S_BADGED_EP,
       S_PORTS, S_IRQ_CONTROL, S_IRQ_HANDLER, S_PORT, S_GROUP, S_EXT, S_FIRST_EMPTY };
static const uint8_t slot_of_type[PITH_OBJ_TYPE_COUNT + 1] = {
    [PITH_OBJ_CNODE] = S_CNODE, [PITH_OBJ_UNTYPED] = S_UNTYPED, [PITH_OBJ_TCB] = S_VICTIM,
    [PITH_OBJ_FRAME] = S_FRAME, [PITH_OBJ_PAGE_TABLE] = S_PT, [PITH_OBJ_ENDPOINT] = S_EP,
    [PITH_OBJ_VSPACE] = S_VSPACE,
    [PITH_OBJ_NOTIFICATION] = S_NTFN, [PITH_OBJ_REPLY] = S_REPLY, [PITH_OBJ_LOG] = 0,
    [PITH_OBJ_IO_PORTS] = S_PORTS, [PITH_OBJ_IRQ_CONTROL] = S_IRQ_CONTROL,
    [PITH_OBJ_IRQ_HANDLER] = S_IRQ_HANDLER, [PITH_OBJ_PORT] = S_PORT, [PITH_OBJ_PORT_GROUP] = S_GROUP,
    [PITH_OBJ_EXTENSION] = S_EXT,
};

struct shared {
    uint64_t rng, target, done, blocked;
    uint32_t counts[NOPS][NRESULTS];   /* must fit one page with the rest */
    uint8_t label_type[NLABELS];
    uint16_t labels[NLABELS];
    uint8_t slot_of_type[PITH_OBJ_TYPE_COUNT + 1];
};

_Static_assert(sizeof(struct shared) <= SHARED_PAGES * 4096, "the shared pages");

static uint64_t rnd(struct shared *s)
{
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    return s->rng;
}

static uint64_t arg(struct shared *s)
{
    switch (rnd(s) % 5) {
    case 0: return rnd(s) % 8;
    case 1: return rnd(s) % (1u << SANDBOX_BITS);
    case 2: return 1ull << (rnd(s) % 64);
    case 3: return (rnd(s) % 64) | (rnd(s) % 30) << 8;  /* a plausible retype word */
    default: return rnd(s);
    }
}

/* The program the sandbox frame holds: refuses label 1, answers label 2, counts the rest in map 0. */
static const struct pith_ext_insn ext_text[] = {
    PITH_EXT_INSN(PITH_EXT_LDX64, 2, 1, 8, 0),
    PITH_EXT_INSN(PITH_EXT_JEQ | PITH_EXT_K, 2, 0, 7, 1),
    PITH_EXT_INSN(PITH_EXT_JEQ | PITH_EXT_K, 2, 0, 8, 2),
    PITH_EXT_INSN(PITH_EXT_AND | PITH_EXT_K, 2, 0, 0, 511),
    PITH_EXT_INSN(PITH_EXT_MOV | PITH_EXT_K, 1, 0, 0, 0),
    PITH_EXT_INSN(PITH_EXT_MOV | PITH_EXT_K, 3, 0, 0, 1),
    PITH_EXT_INSN(PITH_EXT_CALL, 0, 0, 0, PITH_EXT_MAP_ADD),
    PITH_EXT_INSN(PITH_EXT_MOV | PITH_EXT_K, 0, 0, 0, PITH_EXT_PASS),
    PITH_EXT_INSN(PITH_EXT_EXIT, 0, 0, 0, 0),
    PITH_EXT_INSN(PITH_EXT_MOV | PITH_EXT_K, 0, 0, 0, PITH_EXT_DROP),
    PITH_EXT_INSN(PITH_EXT_EXIT, 0, 0, 0, 0),
    PITH_EXT_INSN(PITH_EXT_MOV | PITH_EXT_K, 0, 0, 0, PITH_EXT_REPLY),
    PITH_EXT_INSN(PITH_EXT_EXIT, 0, 0, 0, 0),
};
#define EXT_TEXT_LEN (sizeof ext_text / sizeof ext_text[0])

/*
 * Half the time the words are shaped like the operation's real arguments
 * (a sandbox slot, a free slot, an object type, a user address, rights), so
 * that success paths are exercised as well as every error.
 */
static void plausible(struct shared *s, uint16_t label, uint64_t *w)
{
    uint64_t any_slot = rnd(s) % S_FIRST_EMPTY, free_slot = S_FIRST_EMPTY + rnd(s) % 64;
    uint64_t va = 0x70000000ull + (rnd(s) % 256) * 4096;
    switch (label) {
    case PITH_CNODE_COPY: case PITH_CNODE_MINT: case PITH_CNODE_MOVE:
        w[0] = free_slot; w[1] = any_slot; w[2] = rnd(s) % 32; w[3] = rnd(s) % 4;
        break;
    case PITH_CNODE_DELETE: case PITH_CNODE_REVOKE: case PITH_CNODE_IDENTIFY:
        w[0] = rnd(s) & 1 ? free_slot : any_slot;
        break;
    case PITH_CNODE_COMPARE:
        w[0] = any_slot; w[1] = rnd(s) & 1 ? free_slot : rnd(s) % S_FIRST_EMPTY;
        break;
    case PITH_UNTYPED_RETYPE:
        w[0] = (1 + rnd(s) % 16) | (rnd(s) % 20) << 8; w[1] = S_CNODE; w[2] = free_slot; w[3] = 1 + rnd(s) % 4;
        break;
    case PITH_TCB_CONFIGURE:
        w[0] = S_CNODE; w[1] = S_VSPACE; w[2] = rnd(s) & 1 ? S_FRAME : 0; w[3] = rnd(s) & 1 ? S_EP : 0;
        break;
    case PITH_TCB_SET_PRIORITY:
        w[0] = rnd(s) % 80; w[1] = rnd(s) % 80;
        break;
    case PITH_TCB_SET_AFFINITY:
        w[0] = rnd(s) % 5;              /* some CPUs online, some not */
        break;
    case PITH_TCB_WRITE_ALL_REGISTERS:
        w[0] = rnd(s) % 5;              /* no part, each, both, an unknown one */
        break;
    case PITH_TCB_WRITE_REGISTERS:
        w[0] = 0x400000 + rnd(s) % 0x4000; w[1] = va; w[2] = rnd(s); w[3] = rnd(s);
        break;
    case PITH_TCB_BIND_NOTIFICATION:
        w[0] = rnd(s) & 1 ? S_NTFN : 0;
        break;
    case PITH_FRAME_MAP:
        w[0] = S_VSPACE; w[1] = va; w[2] = rnd(s) % 8;
        break;
    case PITH_IO_PORTS_CARVE:
        w[0] = 0x80; w[1] = 0x80 + rnd(s) % 2; w[2] = S_CNODE; w[3] = free_slot;
        break;
    case PITH_TCB_SET_IO_PORTS:
        w[0] = rnd(s) % 3; w[1] = rnd(s) & 1 ? S_PORTS : 0;
        break;
    case PITH_IRQ_CONTROL_BIND:
        w[0] = S_IRQ_HANDLER; w[1] = rnd(s) % 30; w[2] = rnd(s) % 8;
        break;
    case PITH_IRQ_CONTROL_INFO:
        w[0] = rnd(s) % 30;
        break;
    case PITH_GROUP_ADD:
        w[0] = rnd(s) & 1 ? S_PORT : free_slot;
        break;
    case PITH_GROUP_REMOVE: case PITH_GROUP_SET_MODE:
        w[0] = rnd(s) % 4;
        break;
    case PITH_IRQ_HANDLER_SET_NOTIFICATION:
        w[0] = rnd(s) & 1 ? S_NTFN : 0; w[1] = rnd(s) % 16;
        break;
    case PITH_IRQ_HANDLER_ANSWER:
        w[0] = rnd(s) % 3;
        break;
    case PITH_PAGE_TABLE_MAP:
        w[0] = S_VSPACE; w[1] = va;
        break;
    case PITH_VSPACE_MAP: case PITH_VSPACE_GRANT:
        w[0] = rnd(s) & 1 ? S_FRAME : any_slot; w[1] = va; w[2] = S_CNODE | free_slot << 32;
        w[3] = 1 + rnd(s) % 2;
        w[3] |= (uint64_t)(rnd(s) % 4 ? PITH_RIGHT_READ | (rnd(s) % 2) * PITH_RIGHT_WRITE : rnd(s) % 32) << 16;
        break;
    case PITH_VSPACE_MAP_FRAMES:    /* a run of the sandbox's slots, any of them a frame or not */
        w[0] = (rnd(s) & 1 ? S_CNODE : any_slot) | (uint64_t)(rnd(s) & 1 ? S_FRAME : any_slot) << 32;
        w[1] = va; w[2] = rnd(s) % 8 ? rnd(s) % 4 : rnd(s) % 1024;
        w[3] = rnd(s) % 4 ? PITH_RIGHT_READ | (rnd(s) % 2) * PITH_RIGHT_WRITE : rnd(s) % 32;
        break;
    case PITH_VSPACE_AD_BITS:
        w[0] = va; w[1] = rnd(s) % 66;
        break;
    case PITH_CNODE_REVOKE_RANGE:
        w[0] = rnd(s) & 1 ? free_slot : any_slot; w[1] = rnd(s) % 20; w[2] = rnd(s) % 3;
        break;
    case PITH_EXT_LOAD:             /* the sandbox frame starts with a valid program of EXT_TEXT_LEN */
        w[0] = rnd(s) % 4; w[1] = rnd(s) % 4 ? EXT_TEXT_LEN : rnd(s) % 600; w[2] = rnd(s) & 1 ? S_FRAME : any_slot;
        break;
    case PITH_EXT_SET_MAP:
        w[0] = rnd(s) % 5; w[1] = rnd(s) & 1 ? S_FRAME : any_slot;
        break;
    case PITH_EXT_ATTACH:
        w[0] = rnd(s) % 2 ? S_EP : any_slot;
        break;
    case PITH_EXT_SET_POOL:
        w[0] = rnd(s) % 2 ? S_CNODE : any_slot;
        break;
    default:
        break;
    }
}

/* The fuzzer itself: runs in its own address space on our text pages, touching only *s and its stack. */
static void fuzz_loop(uint64_t shared_va)
{
    struct shared *s = (struct shared *)shared_va;
    while (s->done < s->target) {
        uint64_t pick = rnd(s) % (NLABELS + NSYSCALLS + 20);
        long nr;
        unsigned op;
        struct pith_msg m = { .w = { arg(s), arg(s), arg(s), arg(s) } };
        uint64_t slot = rnd(s) % (2u << SANDBOX_BITS);          /* half of them out of range */
        if (pick < NLABELS + 20) {
            op = (unsigned)(pick % NLABELS);                      /* invocations are most of it */
            nr = PITH_SYS_CALL;
            m.tag = PITH_TAG(s->labels[op], 4);
            if (rnd(s) & 1) {
                slot = s->slot_of_type[s->label_type[op]];
                plausible(s, s->labels[op], m.w);
            }
        } else {
            unsigned k = (unsigned)(pick - NLABELS - 20);
            op = NLABELS + k;
            nr = k < 12 ? -(long)(k + 1) : (long)(rnd(s) % 400); /* the last: a Linux number */
            m.tag = PITH_TAG(rnd(s) % 80, rnd(s) % 8);
            if (nr == PITH_SYS_SLEEP)
                slot %= 50000;                                    /* at most 50 us */
        }
        long r = pith_syscall_timed(nr, slot, &m, rnd(s) % (1u << SANDBOX_BITS), rnd(s) % 200000);
        unsigned res = (r >= 0 && r < PITH_E_COUNT && r != PITH_E_PREEMPTED) ? (unsigned)r : PITH_E_COUNT;
        if (op == NOPS - 1)
            res = 0;                    /* an unknown call's result is its fault handler's business */
        s->counts[op][res]++;
        s->done++;
    }
    for (;;)
        pith_sleep_ns(1000000000000ull);
}

/* ---- the parent: set-up, watchdog, verdict ---- */

static void check(long err, const char *what)
{
    if (err) {
        printf("fuzz: setting up failed at %s: error %ld\n", what, err);
        pith_shutdown(0);
    }
}

static uint64_t make_from(uint64_t ut, uint8_t type, uint32_t bits, uint64_t cnode, uint64_t slot)
{
    check(pith_invoke4(ut, PITH_UNTYPED_RETYPE, type | (uint64_t)bits << 8, cnode, slot, 1), "retype");
    return slot;
}

static void map(uint64_t ut, uint64_t vspace, uint64_t frame, uint64_t va, uint8_t rights)
{
    for (int i = 0; i < 4; i++) {
        long err = pith_invoke4(frame, PITH_FRAME_MAP, vspace, va, rights, 0);
        if (err != PITH_E_NO_TABLE) {
            check(err, "map");
            return;
        }
        uint64_t pt = make_from(ut, PITH_OBJ_PAGE_TABLE, 0, PITH_SLOT_CSPACE, pith_slot_alloc());
        check(pith_invoke4(pt, PITH_PAGE_TABLE_MAP, vspace, va, 0, 0), "page table");
    }
}

static volatile uint64_t bystander_count;

static void bystander(uint64_t unused)
{
    (void)unused;
    for (;;) {
        bystander_count++;
        pith_sleep_ns(1000000);
    }
}

static uint64_t parse(const char *key, uint64_t dflt)
{
    const char *c = pith_bootinfo->cmdline;
    size_t n = 0;
    while (key[n])
        n++;
    for (; *c; c++) {
        int match = 1;
        for (size_t i = 0; i < n; i++)
            if (c[i] != key[i]) { match = 0; break; }
        if (match && c[n] == '=') {
            uint64_t v = 0;
            for (c += n + 1; *c >= '0' && *c <= '9'; c++)
                v = v * 10 + (uint64_t)(*c - '0');
            return v;
        }
    }
    return dflt;
}

extern const char __text_start[], __text_end[], __rodata_start[], __rodata_end[];

static uint64_t originals[S_FIRST_EMPTY];
static uint64_t parent_untyped;

/*
 * Puts a copy of each original back into its sandbox slot if the fuzzer
 * emptied it.  Untyped memory cannot be copied: a lost untyped is replaced
 * by a fresh 1 MiB block from ours while there is room.
 */
static void refill(uint64_t sandbox)
{
    struct pith_msg id = { .w = { S_UNTYPED } };
    if (pith_invoke(sandbox, PITH_CNODE_IDENTIFY, &id) == PITH_OK && id.w[0] == PITH_OBJ_NULL)
        pith_invoke4(parent_untyped, PITH_UNTYPED_RETYPE, PITH_OBJ_UNTYPED | 20u << 8, sandbox, S_UNTYPED, 1);
    for (uint64_t slot = 1; slot < S_FIRST_EMPTY; slot++) {
        if (!originals[slot])
            continue;
        if (slot == S_BADGED_EP)
            pith_invoke4(sandbox, PITH_CNODE_MINT, slot, originals[slot], PITH_RIGHTS_ALL, 7);
        else
            pith_invoke4(sandbox, PITH_CNODE_COPY, slot, originals[slot], PITH_RIGHTS_ALL, 0);
    }
}

int main(void)
{
    uint64_t n = parse("fuzz", 1000000), seed = parse("seed", 0);
    if (!seed)
        seed = pith_rdtsc() | 1;
    printf("fuzz: seed=%lu calls=%lu (replay: make fuzz N=%lu SEED=%lu)\n", seed, n, n, seed);

    /*
     * The fuzzer's memory: U_p is ours to revoke at the end.  From it come
     * U_f, the untyped the fuzzer may retype, revoke or lose as it likes,
     * and apart from U_f everything the fuzzer runs on (its capability
     * space, address space, thread, stack), so that it cannot destroy
     * itself by revoking its own untyped.
     */
    uint64_t up = make_from(pith_biggest_untyped(), PITH_OBJ_UNTYPED, FUZZ_UT_BITS + 1, PITH_SLOT_CSPACE, pith_slot_alloc());
    uint64_t uf = make_from(up, PITH_OBJ_UNTYPED, FUZZ_UT_BITS - 1, PITH_SLOT_CSPACE, pith_slot_alloc());
    uint64_t sandbox = make_from(up, PITH_OBJ_CNODE, SANDBOX_BITS, PITH_SLOT_CSPACE, pith_slot_alloc());
    uint64_t vs = make_from(up, PITH_OBJ_VSPACE, 0, PITH_SLOT_CSPACE, pith_slot_alloc());
    uint64_t tcb = make_from(up, PITH_OBJ_TCB, 0, PITH_SLOT_CSPACE, pith_slot_alloc());
    uint64_t stack = make_from(up, PITH_OBJ_FRAME, 0, PITH_SLOT_CSPACE, pith_slot_alloc());
    uint64_t ipcbuf = make_from(up, PITH_OBJ_FRAME, 0, PITH_SLOT_CSPACE, pith_slot_alloc());
    uint64_t fault_ep = make_from(up, PITH_OBJ_ENDPOINT, 0, PITH_SLOT_CSPACE, pith_slot_alloc());

    /*
     * Its address space: copies of our text (read, execute) and read-only
     * data pages (the fuzzer's code uses jump tables there), a stack, the
     * shared page.  The image's frames are listed in address order.
     */
    const struct pith_bootinfo *bi = pith_bootinfo;
    uint64_t image = (uint64_t)__text_start;
    uint64_t pages = ((uint64_t)__rodata_end - image + 4095) / 4096;
    for (uint64_t i = 0; i < pages; i++) {
        uint64_t va = image + i * 4096;
        uint8_t rights = va < (uint64_t)__text_end ? PITH_RIGHT_READ | PITH_RIGHT_EXEC : PITH_RIGHT_READ;
        uint64_t copy = pith_slot_alloc();
        check(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, copy, bi->image_frames.first_slot + i,
                           rights, 0), "copy image");
        map(up, vs, copy, va, rights);
    }
    map(up, vs, stack, FUZZ_STACK_VA, PITH_RIGHT_READ | PITH_RIGHT_WRITE);
    map(up, vs, ipcbuf, FUZZ_STACK_VA + 0x2000, PITH_RIGHT_READ | PITH_RIGHT_WRITE);
    for (uint64_t i = 0; i < SHARED_PAGES; i++) {
        uint64_t page = make_from(up, PITH_OBJ_FRAME, 0, PITH_SLOT_CSPACE, pith_slot_alloc());
        uint64_t here = pith_slot_alloc();
        map(up, vs, page, SHARED_VA + i * 4096, PITH_RIGHT_READ | PITH_RIGHT_WRITE);
        check(pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, here, page, PITH_RIGHTS_ALL, 0), "copy shared");
        map(pith_biggest_untyped(), PITH_SLOT_VSPACE, here, SHARED_VA + i * 4096, PITH_RIGHT_READ | PITH_RIGHT_WRITE);
    }
    struct shared *s = (struct shared *)SHARED_VA;
    s->rng = seed;
    s->target = n;
    for (unsigned i = 0; i < NLABELS; i++) {
        s->labels[i] = labels[i];
        s->label_type[i] = label_type[i];
    }
    for (unsigned i = 0; i <= PITH_OBJ_TYPE_COUNT; i++)
        s->slot_of_type[i] = slot_of_type[i];

    /*
     * The sandbox: a few objects of every kind, its own thread, nothing of
     * ours.  We keep the originals, so the watchdog can put back what the
     * fuzzer deletes and success paths stay reachable all along.
     */
    originals[S_CNODE] = sandbox;
    originals[S_EP] = make_from(up, PITH_OBJ_ENDPOINT, 0, PITH_SLOT_CSPACE, pith_slot_alloc());
    originals[S_NTFN] = make_from(up, PITH_OBJ_NOTIFICATION, 0, PITH_SLOT_CSPACE, pith_slot_alloc());
    originals[S_REPLY] = make_from(up, PITH_OBJ_REPLY, 0, PITH_SLOT_CSPACE, pith_slot_alloc());
    originals[S_FRAME] = make_from(up, PITH_OBJ_FRAME, 0, PITH_SLOT_CSPACE, pith_slot_alloc());
    /* The frame holds an extension program, so loads and attaches can succeed. */
    map(up, PITH_SLOT_VSPACE, originals[S_FRAME], EXT_TEXT_VA, PITH_RIGHT_READ | PITH_RIGHT_WRITE);
    for (unsigned i = 0; i < EXT_TEXT_LEN; i++)
        ((struct pith_ext_insn *)EXT_TEXT_VA)[i] = ext_text[i];
    originals[S_EXT] = make_from(up, PITH_OBJ_EXTENSION, 0, PITH_SLOT_CSPACE, pith_slot_alloc());
    originals[S_PT] = make_from(up, PITH_OBJ_PAGE_TABLE, 0, PITH_SLOT_CSPACE, pith_slot_alloc());
    originals[S_VICTIM] = make_from(up, PITH_OBJ_TCB, 0, PITH_SLOT_CSPACE, pith_slot_alloc());
    originals[S_TCB] = tcb;
    /*
     * An address space of its own to map into and to run threads in, but
     * not the one the fuzzer runs in: threads it starts with random
     * registers would otherwise run our code against the results page.
     */
    originals[S_VSPACE] = make_from(up, PITH_OBJ_VSPACE, 0, PITH_SLOT_CSPACE, pith_slot_alloc());
    originals[S_BADGED_EP] = fault_ep;
    originals[S_IRQ_CONTROL] = PITH_SLOT_IRQ_CONTROL;
    originals[S_PORT] = make_from(up, PITH_OBJ_PORT, 9, PITH_SLOT_CSPACE, pith_slot_alloc());
    originals[S_GROUP] = make_from(up, PITH_OBJ_PORT_GROUP, 8, PITH_SLOT_CSPACE, pith_slot_alloc());
    originals[S_IRQ_HANDLER] = make_from(up, PITH_OBJ_IRQ_HANDLER, 0, PITH_SLOT_CSPACE, pith_slot_alloc());
    /* One harmless port (0x80, the POST diagnostic port), carved from ours. */
    originals[S_PORTS] = pith_slot_alloc();
    check(pith_invoke4(bi->io_ports.first_slot, PITH_IO_PORTS_CARVE, 0x80, 0x80, PITH_SLOT_CSPACE,
                       originals[S_PORTS]), "ports");
    refill(sandbox);
    check(pith_invoke4(sandbox, PITH_CNODE_MOVE, S_UNTYPED, uf, 0, 0), "sandbox untyped");
    parent_untyped = up;                /* refills of the untyped slot from now on */

    check(pith_invoke4(tcb, PITH_TCB_CONFIGURE, sandbox, vs, ipcbuf, fault_ep), "configure");
    check(pith_invoke4(tcb, PITH_TCB_SET_PRIORITY, FUZZ_PRIORITY, FUZZ_MCP, 0, 0), "priority");
    check(pith_invoke4(tcb, PITH_TCB_WRITE_REGISTERS, (uint64_t)fuzz_loop, FUZZ_STACK_VA + 0x1000 - 8,
                       SHARED_VA, 0), "registers");

    /* Another task that must keep running whatever the fuzzer does. */
    uint64_t by_tcb = make_from(pith_biggest_untyped(), PITH_OBJ_TCB, 0, PITH_SLOT_CSPACE, pith_slot_alloc());
    uint64_t by_stack = make_from(pith_biggest_untyped(), PITH_OBJ_FRAME, 0, PITH_SLOT_CSPACE, pith_slot_alloc());
    map(pith_biggest_untyped(), PITH_SLOT_VSPACE, by_stack, 0x50000000, PITH_RIGHT_READ | PITH_RIGHT_WRITE);
    check(pith_invoke4(by_tcb, PITH_TCB_CONFIGURE, PITH_SLOT_CSPACE, PITH_SLOT_VSPACE, 0, 0), "bystander");
    check(pith_invoke4(by_tcb, PITH_TCB_SET_PRIORITY, 40, 40, 0, 0), "bystander priority");
    check(pith_invoke4(by_tcb, PITH_TCB_WRITE_REGISTERS, (uint64_t)bystander, 0x50001000 - 8, 0, 0), "bystander regs");
    check(pith_invoke4(by_tcb, PITH_TCB_RESUME, 0, 0, 0, 0), "bystander resume");

    uint64_t t0 = pith_rdtsc();
    check(pith_invoke4(tcb, PITH_TCB_RESUME, 0, 0, 0, 0), "resume");
    /* Watchdog: whenever the fuzzer is not runnable (blocked, suspended, faulted), set it going again. */
    uint64_t last = 0, stuck = 0;
    while (s->done < n) {
        pith_sleep_ns(1000000);
        struct pith_msg m = { 0 };
        pith_invoke(tcb, PITH_TCB_READ_REGISTERS, &m);
        if (m.w[3] != 1) {
            s->blocked++;
            pith_invoke4(tcb, PITH_TCB_SUSPEND, 0, 0, 0, 0);
            pith_invoke4(tcb, PITH_TCB_CONFIGURE, sandbox, vs, ipcbuf, fault_ep);
            pith_invoke4(tcb, PITH_TCB_SET_PRIORITY, FUZZ_PRIORITY, FUZZ_MCP, 0, 0);
            pith_invoke4(tcb, PITH_TCB_RESUME, 0, 0, 0, 0);
        }
        if (s->done / 2000 != last / 2000)
            refill(sandbox);
        stuck = s->done == last ? stuck + 1 : 0;
        /*
         * No progress: a thread the fuzzer started is spinning above it
         * (the fuzzer lowered itself), or has rewritten the fuzzer's
         * registers.  Stop the victim thread, destroy every thread the
         * fuzzer made (their capabilities are all in the sandbox, so
         * deleting them there is final), and start the fuzzer's loop
         * afresh; its state is all in the shared page.
         */
        if (stuck && stuck % 20 == 0) {
            pith_invoke4(originals[S_VICTIM], PITH_TCB_SUSPEND, 0, 0, 0, 0);
            for (uint64_t slot = 1; slot < (1u << SANDBOX_BITS); slot++) {
                struct pith_msg id = { .w = { slot } };
                if (slot != S_TCB && pith_invoke(sandbox, PITH_CNODE_IDENTIFY, &id) == PITH_OK &&
                    id.w[0] == PITH_OBJ_TCB)
                    pith_invoke4(sandbox, PITH_CNODE_DELETE, slot, 0, 0, 0);
            }
            pith_invoke4(tcb, PITH_TCB_SUSPEND, 0, 0, 0, 0);
            pith_invoke4(tcb, PITH_TCB_CONFIGURE, sandbox, vs, ipcbuf, fault_ep);
            pith_invoke4(tcb, PITH_TCB_SET_PRIORITY, FUZZ_PRIORITY, FUZZ_MCP, 0, 0);
            pith_invoke4(tcb, PITH_TCB_SET_TLS, 0, 0, 0, 0);
            pith_invoke4(tcb, PITH_TCB_WRITE_REGISTERS, (uint64_t)fuzz_loop, FUZZ_STACK_VA + 0x1000 - 8,
                         SHARED_VA, 0);
            pith_invoke4(tcb, PITH_TCB_RESUME, 0, 0, 0, 0);
            s->blocked++;
        }
        last = s->done;
        if (stuck > 5000) {
            struct pith_msg st = { 0 }, info = { 0 };
            pith_invoke(tcb, PITH_TCB_READ_REGISTERS, &st);
            pith_invoke(tcb, PITH_TCB_INFO, &info);
            printf("fuzz: no progress for 5 s at call %lu: fuzzer rip %#lx rsp %#lx state %lu priority %lu\n",
                   s->done, st.w[0], st.w[1], st.w[3], info.w[2]);
            pith_shutdown(0);
        }
    }
    uint64_t t1 = pith_rdtsc();
    pith_invoke4(tcb, PITH_TCB_SUSPEND, 0, 0, 0, 0);
    uint64_t by_before = bystander_count;
    uint64_t done = s->done, restarts = s->blocked;

    for (unsigned op = 0; op < NOPS; op++) {
        static const char *const sys[NSYSCALLS] = {
            "sys_call", "sys_send", "sys_nbsend", "sys_recv", "sys_nbrecv", "sys_reply_recv",
            "sys_yield", "sys_info", "sys_sleep", "sys_call_timed", "sys_send_timed", "sys_recv_timed",
            "sys_unknown(faults)",
        };
        printf("fuzz: %-22s", op < NLABELS ? label_names[op] : sys[op - NLABELS]);
        for (unsigned r = 0; r < NRESULTS; r++) {
            if (!s->counts[op][r])
                continue;
            if (r == 0)
                printf(" ok=%u", s->counts[op][r]);
            else if (r == PITH_E_COUNT)
                printf(" UNDOCUMENTED=%u", s->counts[op][r]);
            else
                printf(" e%u=%u", r, s->counts[op][r]);
        }
        printf("\n");
    }
    uint64_t undocumented = 0;
    for (unsigned op = 0; op < NOPS; op++)
        undocumented += s->counts[op][PITH_E_COUNT];
    /* (The results pages are the fuzzer's memory too: they go with the revoke below.) */

    /* Intact: revoke everything made from the fuzzer's memory, then take all of it again. */
    long rev = pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE, up, 0, 0, 0);
    struct pith_msg info = { 0 };
    pith_invoke(up, PITH_UNTYPED_INFO, &info);
    long again = pith_invoke4(up, PITH_UNTYPED_RETYPE, PITH_OBJ_UNTYPED | (uint64_t)(FUZZ_UT_BITS + 1) << 8,
                              PITH_SLOT_CSPACE, pith_slot_alloc(), 1);
    /*
     * The bystander sleeps 1 ms a turn.  Under plain emulation guest time
     * is host time, and a busy host can stop the CPU past a 5 ms sleep, so
     * we look again (up to two seconds) before calling it stopped.
     */
    for (int i = 0; i < 400 && bystander_count == by_before; i++)
        pith_sleep_ns(5000000);
    int bystander_ok = bystander_count > by_before && by_before > 0;
    struct pith_msg v = { 0 };
    int syscalls_ok = pith_syscall(PITH_SYS_INFO, 0, &v, 0) == PITH_OK && v.w[0] == bi->abi_major;
    int ok = rev == PITH_OK && info.w[1] == (1ull << (FUZZ_UT_BITS + 1)) && again == PITH_OK &&
             bystander_ok && syscalls_ok && undocumented == 0;
    printf("fuzz: %lu calls in %lu TSC ticks, watchdog restarted it %lu times; revoke %ld, "
           "free after revoke %lu of %lu bytes, retype all %ld, bystander %s\n",
           done, t1 - t0, restarts, rev, info.w[1], 1ul << (FUZZ_UT_BITS + 1), again,
           bystander_ok ? "ran" : "STOPPED");
    if (undocumented)
        printf("fuzz: %lu results outside the documented error codes\n", undocumented);
    printf("fuzz syscalls=%lu kernel_ok=%d\n", done, ok);
    return ok ? 0 : 1;
}
