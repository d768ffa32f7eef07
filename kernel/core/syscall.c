/*
 * System-call entry: decode, check, then act.  Every argument is checked
 * here (capability lookups, types, rights, ranges) before anything in the
 * kernel changes; the object files below do the work.  Results go back in
 * the calling thread's saved registers (rax = error, then the message
 * registers).  An operation that stops at a preemption point is restarted
 * by moving the thread back onto its SYSCALL instruction.
 */
#include <pith/abi.h>
#include <pith/fault.h>
#include <pith/invocation.h>
#include <pith/ipc_buffer.h>
#include <pith/syscall.h>
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/entry.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/qemu.h"
#include "arch/x86_64/time.h"
#include "arch/x86_64/vm.h"
#include "core/log.h"
#include "core/sched.h"
#include "core/bkl.h"
#include "arch/x86_64/tlb.h"
#include "core/syscall.h"
#include "object/cnode.h"
#include "object/extension.h"
#include "object/ipc.h"
#include "object/memmap.h"
#include "object/irq.h"
#include "object/port.h"
#include "object/tcb.h"
#include "object/untyped.h"
#include "lib/string.h"

#define SYSCALL_INSN_LEN 2

struct args {
    struct tcb *self;
    struct trap_frame *f;
    const struct cap *cspace;
    uint64_t label, w[PITH_MSG_REGS];
};

static int lookup(struct args *a, uint64_t index, uint8_t type, uint8_t rights, struct slot **out)
{
    return cnode_lookup(a->cspace, index, type, rights, out);
}

/* Optional slot argument: 0 means "none". */
static int lookup_opt(struct args *a, uint64_t index, uint8_t type, struct slot **out)
{
    *out = NULL;
    return index ? lookup(a, index, type, 0, out) : PITH_OK;
}

static void set_words(struct trap_frame *f, uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3)
{
    f->rdx = w0;
    f->r10 = w1;
    f->r8 = w2;
    f->r9 = w3;
}

/* ---- CNode ---------------------------------------------------------------- */

static int invoke_cnode(struct args *a, struct slot *target)
{
    struct slot *dst, *src;
    int err;
    switch (a->label) {
    case PITH_CNODE_COPY:
    case PITH_CNODE_MINT:
    case PITH_CNODE_MOVE:
        if ((err = cnode_slot(&target->cap, a->w[0], &dst)) ||
            (err = lookup(a, a->w[1], PITH_OBJ_NULL, 0, &src)))
            return err;
        if (a->label == PITH_CNODE_MOVE)
            return cap_move(src, dst);
        if (a->w[2] > 0xff)
            return PITH_E_INVALID_ARG;
        if (a->label == PITH_CNODE_COPY)
            return cap_copy(src, dst, (uint8_t)a->w[2]);
        return cap_mint(src, dst, (uint8_t)a->w[2], a->w[3]);
    case PITH_CNODE_DELETE:
    case PITH_CNODE_REVOKE:
        if ((err = cnode_slot(&target->cap, a->w[0], &dst)))
            return err;
        return a->label == PITH_CNODE_DELETE ? cap_delete(dst) : cap_revoke(dst);
    case PITH_CNODE_REVOKE_RANGE:
        if ((err = cnode_slot(&target->cap, a->w[0], &dst)))
            return err;
        if (a->w[1] == 0 || (a->w[2] & ~(uint64_t)PITH_REVOKE_UNMAP))
            return PITH_E_INVALID_ARG;
        if (a->w[1] > (1ull << target->cap.bits) - a->w[0])
            return PITH_E_SLOT_RANGE;
        return memmap_revoke_range(dst, a->w[1], a->w[2] & PITH_REVOKE_UNMAP);
    case PITH_CNODE_IDENTIFY:
        if ((err = cnode_slot(&target->cap, a->w[0], &dst)))
            return err;
        set_words(a->f, dst->cap.type, dst->cap.rights,
                  dst->cap.type == PITH_OBJ_ENDPOINT || dst->cap.type == PITH_OBJ_NOTIFICATION
                      ? dst->cap.w0 : 0,
                  dst->cap.bits);
        return PITH_OK;
    case PITH_CNODE_COMPARE: {
        /* Whether two capabilities reach one object: a server keeps one record per object it is handed. */
        struct slot *other;
        if ((err = cnode_slot(&target->cap, a->w[0], &dst)) || (err = cnode_slot(&target->cap, a->w[1], &other)))
            return err;
        bool same = cap_same_object(&dst->cap, &other->cap) &&
                    (dst->cap.type != PITH_OBJ_IO_PORTS ||
                     (dst->cap.w0 == other->cap.w0 && dst->cap.w1 == other->cap.w1));
        set_words(a->f, same, 0, 0, 0);
        return PITH_OK;
    }
    default:
        return PITH_E_BAD_INVOCATION;
    }
}

/* ---- Untyped ---------------------------------------------------------------- */

static int invoke_untyped(struct args *a, struct slot *ut)
{
    struct slot *dest;
    int err;
    switch (a->label) {
    case PITH_UNTYPED_RETYPE:
        if ((err = lookup(a, a->w[1], PITH_OBJ_CNODE, 0, &dest)))
            return err;
        if (a->w[0] >> 16)
            return PITH_E_INVALID_ARG;
        return untyped_retype(ut, (uint8_t)a->w[0], (uint32_t)(a->w[0] >> 8), &dest->cap,
                              a->w[2], a->w[3]);
    case PITH_UNTYPED_INFO: {
        uint64_t size = 1ull << ut->cap.bits;
        uint64_t phys = (ut->cap.rights & PITH_RIGHT_PHYS) ? vm_object_phys(&ut->cap) : 0;
        set_words(a->f, ut->cap.bits, size - ut->cap.w0, phys, 0);
        return PITH_OK;
    }
    default:
        return PITH_E_BAD_INVOCATION;
    }
}

/* ---- Thread -------------------------------------------------------------------- */

static int invoke_tcb(struct args *a, struct slot *target)
{
    struct tcb *t = (struct tcb *)target->cap.obj;
    struct slot *cs, *vs, *buf, *ep;
    int err;
    switch (a->label) {
    case PITH_TCB_CONFIGURE:
        if ((err = lookup(a, a->w[0], PITH_OBJ_CNODE, 0, &cs)) ||
            (err = lookup(a, a->w[1], PITH_OBJ_VSPACE, 0, &vs)) ||
            (err = lookup_opt(a, a->w[2], PITH_OBJ_FRAME, &buf)) ||
            (err = lookup_opt(a, a->w[3], PITH_OBJ_ENDPOINT, &ep)))
            return err;
        return tcb_configure(t, cs, vs, buf, ep);
    case PITH_TCB_SET_PRIORITY:
        if (a->w[0] >= SCHED_PRIORITIES || a->w[1] >= SCHED_PRIORITIES)
            return PITH_E_INVALID_ARG;
        return tcb_set_priority(a->self, t, a->w[0], a->w[1]);
    case PITH_TCB_WRITE_REGISTERS:
        if (t == a->self)
            return PITH_E_STATE;        /* our own registers are being used to answer */
        return tcb_write_registers(t, a->w[0], a->w[1], a->w[2], a->w[3]);
    case PITH_TCB_READ_REGISTERS:
        set_words(a->f, tcb_read_rip(t), tcb_read_rsp(t), t->ctx.rflags, t->state);
        return PITH_OK;
    case PITH_TCB_RESUME:
        return tcb_resume(t);
    case PITH_TCB_SUSPEND:
        tcb_suspend(t);
        return PITH_OK;
    case PITH_TCB_BIND_NOTIFICATION:
        if ((err = lookup_opt(a, a->w[0], PITH_OBJ_NOTIFICATION, &ep)))
            return err;
        return notification_bind(t, ep ? (struct notification *)ep->cap.obj : NULL);
    case PITH_TCB_SET_TLS:
        if (a->w[0] >= USER_CANONICAL_END || a->w[1] >= USER_CANONICAL_END)
            return PITH_E_INVALID_ARG;  /* a kernel-half base would be a trap for the unwary */
        t->fs_base = a->w[0];
        t->gs_base = a->w[1];
        sched_reload();
        return PITH_OK;
    case PITH_TCB_INFO:
        set_words(a->f, t->cpu_time_tsc, t->state, t->priority, t->mcp);
        return PITH_OK;
    case PITH_TCB_CPU:
        set_words(a->f, t->cpu, 0, 0, 0);
        return PITH_OK;
    case PITH_TCB_SET_IO_PORTS:
        if (a->w[0] > 1)
            return PITH_E_INVALID_ARG;
        if ((err = lookup_opt(a, a->w[1], PITH_OBJ_IO_PORTS, &cs)))
            return err;
        return tcb_set_io_ports(t, (unsigned)a->w[0], cs);
    case PITH_TCB_SET_AFFINITY:
        return tcb_set_affinity(t, a->w[0]);
    case PITH_TCB_BUDGET:
        set_words(a->f, sched_budget_left(t), sched_owns_slice(t), 0, 0);
        return PITH_OK;
    case PITH_TCB_INTERRUPT:
        if (t == a->self)
            return PITH_E_STATE;        /* it runs this call: never ready to be stopped */
        set_words(a->f, tcb_interrupt(t), 0, 0, 0);
        return PITH_OK;
    case PITH_TCB_READ_ALL_REGISTERS:
        return tcb_read_all_registers(a->self, t);
    case PITH_TCB_WRITE_ALL_REGISTERS:
        return tcb_write_all_registers(a->self, t, a->w[0]);
    default:
        return PITH_E_BAD_INVOCATION;
    }
}

/* ---- Frames and page tables ------------------------------------------------------ */

static int invoke_frame(struct args *a, struct slot *target)
{
    struct slot *vs;
    int err;
    switch (a->label) {
    case PITH_FRAME_MAP:
        if ((err = lookup(a, a->w[0], PITH_OBJ_VSPACE, 0, &vs)))
            return err;
        if (a->w[2] & ~(uint64_t)(PITH_RIGHT_READ | PITH_RIGHT_WRITE | PITH_RIGHT_EXEC))
            return PITH_E_INVALID_ARG;
        return vm_map_frame(&vs->cap, &target->cap, a->w[1], (uint8_t)a->w[2]);
    case PITH_FRAME_UNMAP:
        vm_unmap(&target->cap);
        return PITH_OK;
    case PITH_FRAME_PHYS:
        if (!(target->cap.rights & PITH_RIGHT_PHYS))
            return PITH_E_NO_RIGHTS;
        set_words(a->f, vm_object_phys(&target->cap), 0, 0, 0);
        return PITH_OK;
    default:
        return PITH_E_BAD_INVOCATION;
    }
}

/*
 * Map and grant: w0 first source slot (ours), w1 address, w2 destination
 * CNode slot (ours) | first destination slot << 32, w3 count | rights << 16.
 * Checked in this order: count and rights, the destination CNode and
 * slots, every source capability, then the address range.
 */
static int vspace_map(struct args *a, struct slot *vs, bool grant)
{
    uint64_t count = a->w[3] & 0xffff, rights = a->w[3] >> 16;
    uint64_t dst_index = a->w[2] >> 32;
    const uint64_t rwx = PITH_RIGHT_READ | PITH_RIGHT_WRITE | PITH_RIGHT_EXEC;
    struct slot *cn, *dst, *src;
    int err;
    if (count == 0 || count > PITH_MAP_MAX_PAGES || (rights & ~rwx) || !(rights & PITH_RIGHT_READ) ||
        (rights & PITH_RIGHT_WRITE && rights & PITH_RIGHT_EXEC))
        return PITH_E_INVALID_ARG;
    if ((err = lookup(a, a->w[2] & 0xffffffffu, PITH_OBJ_CNODE, 0, &cn)) ||
        (err = cnode_slot(&cn->cap, dst_index, &dst)))
        return err;
    if (count > (1ull << cn->cap.bits) - dst_index)
        return PITH_E_SLOT_RANGE;
    for (uint64_t i = 0; i < count; i++)
        if (!slot_empty(&dst[i]))
            return PITH_E_SLOT_FULL;
    if ((err = cnode_slot(a->cspace, a->w[0], &src)))
        return err;
    if (count > (1ull << a->cspace->bits) - a->w[0])
        return PITH_E_SLOT_RANGE;
    for (uint64_t i = 0; i < count; i++) {
        struct slot *s;
        if ((err = lookup(a, a->w[0] + i, PITH_OBJ_FRAME, (uint8_t)rights, &s)))
            return err;
    }
    return memmap_map(&vs->cap, src, dst, count, a->w[1], (uint8_t)rights, grant);
}

/*
 * Map frames in place: w0 CNode slot (ours) | first frame slot in it << 32,
 * w1 address, w2 count, w3 rights.  The frame capabilities themselves are
 * mapped, as PITH_FRAME_MAP maps one (no capability is made), so a run of
 * pages costs one invocation.  Checked in this order: count and rights,
 * the CNode and its slots, every frame, then the address range; nothing
 * is mapped unless all can be.
 */
static int vspace_map_frames(struct args *a, struct slot *vs)
{
    uint64_t count = a->w[2], rights = a->w[3], first = a->w[0] >> 32;
    const uint64_t rwx = PITH_RIGHT_READ | PITH_RIGHT_WRITE | PITH_RIGHT_EXEC;
    struct slot *cn, *src;
    int err;
    if (count == 0 || count > PITH_MAP_MAX_PAGES || (rights & ~rwx) || !(rights & PITH_RIGHT_READ) ||
        (rights & PITH_RIGHT_WRITE && rights & PITH_RIGHT_EXEC))
        return PITH_E_INVALID_ARG;
    if ((err = lookup(a, a->w[0] & 0xffffffffu, PITH_OBJ_CNODE, 0, &cn)) ||
        (err = cnode_slot(&cn->cap, first, &src)))
        return err;
    if (count > (1ull << cn->cap.bits) - first)
        return PITH_E_SLOT_RANGE;
    /* (The slots are in range: cnode_lookup's checks, without its lookup, on each.) */
    for (uint64_t i = 0; i < count; i++) {
        const struct cap *c = &src[i].cap;
        if (slot_empty(&src[i]))
            return PITH_E_SLOT_EMPTY;
        if (c->type != PITH_OBJ_FRAME)
            return PITH_E_WRONG_TYPE;
        if ((c->rights & rights) != rights)
            return PITH_E_NO_RIGHTS;
        if (c->w1)
            return PITH_E_MAPPED;       /* a frame capability holds one mapping */
    }
    return memmap_map_frames(&vs->cap, src, count, a->w[1], (uint8_t)rights);
}

static int invoke_vspace(struct args *a, struct slot *target)
{
    uint64_t bits[3];
    int err;
    switch (a->label) {
    case PITH_VSPACE_MAP:
    case PITH_VSPACE_GRANT:
        return vspace_map(a, target, a->label == PITH_VSPACE_GRANT);
    case PITH_VSPACE_MAP_FRAMES:
        return vspace_map_frames(a, target);
    case PITH_VSPACE_AD_BITS:
        if (a->w[1] > 64)
            return PITH_E_INVALID_ARG;
        if ((err = vm_ad_bits(&target->cap, a->w[0], (unsigned)a->w[1], bits)))
            return err;
        set_words(a->f, bits[0], bits[1], bits[2], 0);
        return PITH_OK;
    default:
        return PITH_E_BAD_INVOCATION;
    }
}

static int invoke_page_table(struct args *a, struct slot *target)
{
    struct slot *vs;
    int err;
    switch (a->label) {
    case PITH_PAGE_TABLE_MAP:
        if ((err = lookup(a, a->w[0], PITH_OBJ_VSPACE, 0, &vs)))
            return err;
        return vm_map_table(&vs->cap, &target->cap, a->w[1]);
    case PITH_PAGE_TABLE_UNMAP:
        vm_unmap(&target->cap);
        return PITH_OK;
    default:
        return PITH_E_BAD_INVOCATION;
    }
}

/* ---- I/O ports ---------------------------------------------------------------------- */

static int invoke_io_ports(struct args *a, struct slot *target)
{
    struct slot *cn, *dst;
    int err;
    switch (a->label) {
    case PITH_IO_PORTS_CARVE: {
        /* A narrower range, derived from ours (so revoking ours revokes it). */
        if (a->w[0] > a->w[1] || a->w[0] < target->cap.w0 || a->w[1] > target->cap.w1)
            return PITH_E_INVALID_ARG;
        if ((err = lookup(a, a->w[2], PITH_OBJ_CNODE, 0, &cn)) ||
            (err = cnode_slot(&cn->cap, a->w[3], &dst)))
            return err;
        if (!slot_empty(dst))
            return PITH_E_SLOT_FULL;
        struct cap c = target->cap;
        c.w0 = a->w[0];
        c.w1 = a->w[1];
        mdb_insert_child(target, dst, &c);
        return PITH_OK;
    }
    case PITH_IO_PORTS_INFO:
        set_words(a->f, target->cap.w0, target->cap.w1, 0, 0);
        return PITH_OK;
    default:
        return PITH_E_BAD_INVOCATION;
    }
}

/* ---- Interrupts ----------------------------------------------------------------------- */

static int invoke_irq_control(struct args *a)
{
    struct slot *h;
    int err;
    uint64_t info[4];
    switch (a->label) {
    case PITH_IRQ_CONTROL_BIND:
        if ((err = lookup(a, a->w[0], PITH_OBJ_IRQ_HANDLER, 0, &h)))
            return err;
        return irq_bind((struct irq_handler *)h->cap.obj, a->w[1], a->w[2]);
    case PITH_IRQ_CONTROL_INFO:
        if ((err = irq_line_info(a->w[0], info)))
            return err;
        set_words(a->f, info[0], info[1], info[2], info[3]);
        return PITH_OK;
    default:
        return PITH_E_BAD_INVOCATION;
    }
}

static int invoke_irq_handler(struct args *a, struct slot *target)
{
    struct irq_handler *h = (struct irq_handler *)target->cap.obj;
    struct slot *n;
    int err;
    switch (a->label) {
    case PITH_IRQ_HANDLER_SET_NOTIFICATION:
        if ((err = lookup_opt(a, a->w[0], PITH_OBJ_NOTIFICATION, &n)))
            return err;
        return irq_set_notification(h, n, a->w[1]);
    case PITH_IRQ_HANDLER_ANSWER:
        if (a->w[0] > 1)
            return PITH_E_INVALID_ARG;
        return irq_answer(h, (int)a->w[0]);
    case PITH_IRQ_HANDLER_INFO:
        set_words(a->f, h->bound ? h->line : ~0ull, h->offered, h->claimed, 0);
        return PITH_OK;
    default:
        return PITH_E_BAD_INVOCATION;
    }
}

/* ---- Ports and groups -------------------------------------------------------------------- */

static int invoke_port(struct args *a, struct slot *target)
{
    uint64_t q, c, idx;
    struct slot *p;
    int err;
    switch (target->cap.type == PITH_OBJ_PORT ? a->label : a->label | 0x10000) {
    case PITH_PORT_INFO:
        port_info(&target->cap, &q, &c);
        set_words(a->f, q, c, 0, 0);
        return PITH_OK;
    case PITH_GROUP_ADD | 0x10000:
        if ((err = lookup(a, a->w[0], PITH_OBJ_PORT, 0, &p)) ||
            (err = group_add(&target->cap, p, &idx)))
            return err;
        set_words(a->f, idx, 0, 0, 0);
        return PITH_OK;
    case PITH_GROUP_REMOVE | 0x10000:
        return group_remove(&target->cap, a->w[0]);
    case PITH_GROUP_SET_MODE | 0x10000:
        return group_set_mode(&target->cap, a->w[0]);
    default:
        return PITH_E_BAD_INVOCATION;
    }
}

/* ---- Extensions ------------------------------------------------------------------------- */

/* A frame whose memory the kernel reads (program text) or writes (a map): RAM, with these rights. */
static int ext_frame(struct args *a, uint64_t index, uint8_t rights, struct slot **out)
{
    int err = lookup(a, index, PITH_OBJ_FRAME, rights, out);
    if (!err && ((*out)->cap.flags & CAP_FLAG_DEVICE))
        return PITH_E_INVALID_ARG;
    return err;
}

static int invoke_extension(struct args *a, struct slot *target)
{
    struct extension *e = (struct extension *)target->cap.obj;
    struct slot *s = NULL;
    uint64_t out[2];
    int err;
    if (a->label >= PITH_EXT_LOAD && a->label <= PITH_EXT_SET_POOL && a->label != PITH_EXT_INFO &&
        !(target->cap.rights & PITH_RIGHT_WRITE))
        return PITH_E_NO_RIGHTS;
    switch (a->label) {
    case PITH_EXT_LOAD:
        if ((err = ext_frame(a, a->w[2], PITH_RIGHT_READ, &s)))
            return err;
        err = extension_load(e, a->w[0], a->w[1], &s->cap, out);
        if (err == PITH_E_VERIFY)
            set_words(a->f, out[0], out[1], 0, 0);
        return err;
    case PITH_EXT_SET_MAP:
        if (a->w[0] >= PITH_EXT_MAPS)
            return PITH_E_INVALID_ARG;
        if (a->w[1] && (err = ext_frame(a, a->w[1], PITH_RIGHT_READ | PITH_RIGHT_WRITE, &s)))
            return err;
        return extension_set_map(e, a->w[0], s);
    case PITH_EXT_ATTACH:
        if ((err = lookup(a, a->w[0], PITH_OBJ_NULL, 0, &s)))
            return err;
        if (!e->n)
            return PITH_E_STATE;
        /* IPC and fault programs go on an endpoint, and only its receiver (the server) may put them there. */
        if (e->event != PITH_EXT_EVENT_IRQ) {
            if (s->cap.type != PITH_OBJ_ENDPOINT)
                return PITH_E_WRONG_TYPE;
            if (!(s->cap.rights & PITH_RIGHT_READ))
                return PITH_E_NO_RIGHTS;
            return extension_attach(e, &((struct endpoint *)s->cap.obj)->ext);
        }
        if (s->cap.type != PITH_OBJ_IRQ_HANDLER)
            return PITH_E_WRONG_TYPE;
        return extension_attach(e, &((struct irq_handler *)s->cap.obj)->ext);
    case PITH_EXT_DETACH:
        return extension_detach(e);
    case PITH_EXT_INFO:
        set_words(a->f, e->event, e->n, e->runs, e->aborts);
        return PITH_OK;
    case PITH_EXT_SET_POOL:
        if ((err = lookup_opt(a, a->w[0], PITH_OBJ_CNODE, &s)))
            return err;
        return extension_set_pool(e, s);
    default:
        return PITH_E_BAD_INVOCATION;
    }
}

/* ---- The kernel log ----------------------------------------------------------------- */

/*
 * The log: writing needs the write right, reading the read right, and
 * ending the system the capability with every right, as init received it
 * (programs get copies with fewer).
 */
static int invoke_log(struct args *a, struct slot *target)
{
    uint8_t rights = target->cap.rights;
    uint8_t need = a->label == PITH_LOG_WRITE ? PITH_RIGHT_WRITE
                 : a->label == PITH_LOG_READ ? PITH_RIGHT_READ
                 : a->label == PITH_LOG_SHUTDOWN ? PITH_RIGHTS_ALL : 0;
    if ((rights & need) != need)
        return PITH_E_NO_RIGHTS;
    char *bytes = (char *)tcb_ipc_buffer(a->self);
    if (!bytes)
        return PITH_E_STATE;            /* no IPC buffer registered */
    switch (a->label) {
    case PITH_LOG_WRITE:
        if (a->w[0] > sizeof(struct pith_ipc_buffer))
            return PITH_E_INVALID_ARG;
        log_write(bytes, a->w[0]);
        return PITH_OK;
    case PITH_LOG_READ: {
        uint64_t pos = a->w[0], lost;
        size_t n = logring_read(log_ring(), &pos, bytes, sizeof(struct pith_ipc_buffer), &lost);
        set_words(a->f, n, pos, lost, 0);
        return PITH_OK;
    }
    case PITH_LOG_SHUTDOWN:
        kprintf("shutdown requested by user level (%s)\n", a->w[0] ? "success" : "failure");
        if (bkl_needed)
            kprintf("bkl: %lu waits for the big kernel lock, %lu us waiting in all, %lu TLB shoot-downs\n",
                    bkl_contended, tsc_to_ns(bkl_wait_tsc) / 1000, tlb_shootdowns);
        if (!a->w[0])
            qemu_exit(QEMU_EXIT_TESTFAIL);
        system_shutdown();
    default:
        return PITH_E_BAD_INVOCATION;
    }
}

/* ---- dispatch ------------------------------------------------------------------------- */

static int invoke(struct args *a, struct slot *target)
{
    switch (target->cap.type) {
    case PITH_OBJ_CNODE:
        return invoke_cnode(a, target);
    case PITH_OBJ_UNTYPED:
        return invoke_untyped(a, target);
    case PITH_OBJ_TCB:
        return invoke_tcb(a, target);
    case PITH_OBJ_FRAME:
        return invoke_frame(a, target);
    case PITH_OBJ_PAGE_TABLE:
        return invoke_page_table(a, target);
    case PITH_OBJ_VSPACE:
        return invoke_vspace(a, target);
    case PITH_OBJ_LOG:
        return invoke_log(a, target);
    case PITH_OBJ_IO_PORTS:
        return invoke_io_ports(a, target);
    case PITH_OBJ_IRQ_CONTROL:
        return invoke_irq_control(a);
    case PITH_OBJ_PORT:
    case PITH_OBJ_PORT_GROUP:
        return invoke_port(a, target);
    case PITH_OBJ_IRQ_HANDLER:
        return invoke_irq_handler(a, target);
    case PITH_OBJ_EXTENSION:
        return invoke_extension(a, target);
    default:
        return PITH_E_BAD_INVOCATION;
    }
}

/*
 * A message about to be sent: at most PITH_MSG_MAX words; an IPC buffer if
 * it is longer than the registers or carries a capability; for a
 * capability, the grant right on what it is sent through (endpoints) and a
 * capability in the slot the buffer names.
 */
static int check_message(struct args *a, const struct cap *via)
{
    uint64_t tag = a->f->rsi;
    const struct pith_ipc_buffer *buf = tcb_ipc_buffer(a->self);
    if (PITH_TAG_LENGTH(tag) > PITH_MSG_MAX)
        return PITH_E_TOO_LONG;
    bool cap = tag & PITH_TAG_CAP;
    if ((PITH_TAG_LENGTH(tag) > PITH_MSG_REGS || cap) && !buf)
        return PITH_E_STATE;
    if (!cap)
        return PITH_OK;
    if (via->type != PITH_OBJ_REPLY && !(via->rights & PITH_RIGHT_GRANT))
        return PITH_E_NO_RIGHTS;
    struct slot *s;
    return lookup(a, buf->send_cap, PITH_OBJ_NULL, 0, &s);
}

/* Sets the result, or rewinds the thread onto its SYSCALL to run it again later. */
static void finish(struct args *a, int err)
{
    if (err == PITH_E_PREEMPTED) {
        a->f->rip -= SYSCALL_INSN_LEN;
        a->f->rax = (uint64_t)(int64_t)PITH_SYS_CALL;
        return;
    }
    a->f->rax = (uint64_t)err;
}

static void sys_call(struct args *a)
{
    struct slot *s;
    int err = lookup(a, a->f->rdi, PITH_OBJ_NULL, 0, &s);
    if (err) {
        a->f->rax = (uint64_t)err;
        return;
    }
    if (s->cap.type == PITH_OBJ_ENDPOINT) {
        if (!(s->cap.rights & PITH_RIGHT_WRITE))
            err = PITH_E_NO_RIGHTS;
        else
            err = check_message(a, &s->cap);
        if (err) {
            a->f->rax = (uint64_t)err;
            return;
        }
        ipc_send(a->self, &s->cap, a->f->rsi, true, true);
        return;
    }
    finish(a, invoke(a, s));
}

static void sys_send(struct args *a, bool blocking)
{
    struct slot *s;
    int err = lookup(a, a->f->rdi, PITH_OBJ_NULL, 0, &s);
    if (!err && !(s->cap.rights & PITH_RIGHT_WRITE) && s->cap.type != PITH_OBJ_REPLY)
        err = PITH_E_NO_RIGHTS;
    if (!err && s->cap.type != PITH_OBJ_NOTIFICATION)
        err = check_message(a, &s->cap);
    if (err) {
        a->f->rax = (uint64_t)err;
        return;
    }
    switch (s->cap.type) {
    case PITH_OBJ_ENDPOINT:
        ipc_send(a->self, &s->cap, a->f->rsi, blocking, false);
        return;
    case PITH_OBJ_NOTIFICATION:
        notification_signal((struct notification *)s->cap.obj, s->cap.w0 ? s->cap.w0 : 1);
        a->f->rax = PITH_OK;
        return;
    case PITH_OBJ_REPLY:
        a->f->rax = (uint64_t)ipc_reply(a->self, &s->cap);
        return;
    case PITH_OBJ_PORT:
    case PITH_OBJ_PORT_GROUP: {
        /* Asynchronous: never blocks; a message fits the registers. */
        if (PITH_TAG_LENGTH(a->f->rsi) > PITH_MSG_REGS) {
            a->f->rax = PITH_E_TOO_LONG;
            return;
        }
        bool answer = a->f->rsi & PITH_TAG_CAP;
        a->f->rax = (uint64_t)(s->cap.type == PITH_OBJ_PORT ? port_send(a->self, &s->cap, answer)
                                                             : group_send(a->self, &s->cap, answer));
        return;
    }
    default:
        a->f->rax = PITH_E_WRONG_TYPE;
    }
}

static void sys_recv(struct args *a, bool blocking)
{
    struct slot *s, *reply = NULL;
    int err = lookup(a, a->f->rdi, PITH_OBJ_NULL, PITH_RIGHT_READ, &s);
    if (!err && s->cap.type != PITH_OBJ_ENDPOINT && s->cap.type != PITH_OBJ_NOTIFICATION &&
        s->cap.type != PITH_OBJ_PORT)
        err = PITH_E_WRONG_TYPE;
    if (!err && s->cap.type == PITH_OBJ_ENDPOINT)
        err = lookup_opt(a, a->f->r12, PITH_OBJ_REPLY, &reply);
    if (err) {
        a->f->rax = (uint64_t)err;
        return;
    }
    if (s->cap.type == PITH_OBJ_PORT)
        port_wait(a->self, &s->cap, blocking);
    else
        ipc_recv(a->self, &s->cap, reply, blocking);
}

static void sys_reply_recv(struct args *a)
{
    struct slot *reply;
    int err = lookup(a, a->f->r12, PITH_OBJ_REPLY, 0, &reply);
    if (err) {
        a->f->rax = (uint64_t)err;
        return;
    }
    /* A bad answer, or a caller that died meanwhile, is no reason not to receive the next request. */
    if (check_message(a, &reply->cap) == PITH_OK)
        ipc_reply(a->self, &reply->cap);
    sys_recv(a, true);
}

/*
 * The timed variants: the same operation, and if it left the thread
 * waiting, a deadline after which the wait ends with PITH_E_TIMEOUT.
 */
static void sys_timed(struct args *a, long nr)
{
    struct slot *s;
    uint64_t ns = a->f->r13;
    if (nr == PITH_SYS_RECV_TIMED) {
        sys_recv(a, ns != 0);
    } else {
        int err = ns ? lookup(a, a->f->rdi, PITH_OBJ_ENDPOINT, 0, &s) : PITH_E_INVALID_ARG;
        if (err) {
            a->f->rax = (uint64_t)err;
            return;
        }
        if (nr == PITH_SYS_CALL_TIMED)
            sys_call(a);
        else
            sys_send(a, true);
    }
    if (a->self->state != TS_READY && a->self->state != TS_INACTIVE) {
        uint64_t now = rdtsc(), ticks = ns_to_tsc(ns);
        sched_timeout_add(a->self, ticks > UINT64_MAX - now ? UINT64_MAX : now + ticks);
    }
}

/* The system calls that take arguments: decoded here, once. */
static __attribute__((noinline)) void dispatch_args(struct tcb *self, struct trap_frame *f)
{
    struct args a = {
        .self = self, .f = f, .cspace = &self->slots[TCB_SLOT_CSPACE].cap,
        .label = PITH_TAG_LABEL(f->rsi),
        .w = { f->rdx, f->r10, f->r8, f->r9 },
    };
    switch ((int64_t)f->rax) {
    case PITH_SYS_CALL:
        sys_call(&a);
        break;
    case PITH_SYS_SEND:
        sys_send(&a, true);
        break;
    case PITH_SYS_NBSEND:
        sys_send(&a, false);
        break;
    case PITH_SYS_RECV:
        sys_recv(&a, true);
        break;
    case PITH_SYS_NBRECV:
        sys_recv(&a, false);
        break;
    case PITH_SYS_REPLY_RECV:
        sys_reply_recv(&a);
        break;
    default:                            /* the timed ones */
        sys_timed(&a, (long)(int64_t)f->rax);
        break;
    }
}

static __attribute__((noinline)) void sys_sleep(struct tcb *self, struct trap_frame *f)
{
    uint64_t now = rdtsc(), ticks = ns_to_tsc(f->rdi);
    f->rax = PITH_OK;
    sched_set_current(NULL);
    sched_sleep_until(self, ticks > UINT64_MAX - now ? UINT64_MAX : now + ticks);
}

/* Every case a call at its end, or none: the dispatch itself saves no registers. */
void syscall_dispatch(struct trap_frame *f)
{
    struct tcb *self = sched_current();
    if (self->state != TS_READY) {
        /* Stopped by another CPU on its way in: it makes the call again if resumed. */
        f->rip -= SYSCALL_INSN_LEN;
        return;
    }
    /* Those without arguments here; the others decode them (a null call stays short). */
    switch ((int64_t)f->rax) {
    case PITH_SYS_CALL:
    case PITH_SYS_SEND:
    case PITH_SYS_NBSEND:
    case PITH_SYS_RECV:
    case PITH_SYS_NBRECV:
    case PITH_SYS_REPLY_RECV:
    case PITH_SYS_CALL_TIMED:
    case PITH_SYS_SEND_TIMED:
    case PITH_SYS_RECV_TIMED:
        dispatch_args(self, f);
        break;
    case PITH_SYS_YIELD:
        f->rax = PITH_OK;
        sched_yield();
        break;
    case PITH_SYS_INFO:
        f->rax = PITH_OK;
        set_words(f, PITH_ABI_VERSION_MAJOR, PITH_ABI_VERSION_MINOR, tsc_hz(), this_cpu()->fast_path_hits);
        break;
    case PITH_SYS_SLEEP:
        sys_sleep(self, f);
        break;
    default:
        syscall_unknown(self, f);
        break;
    }
}

/*
 * Not a Pith system call (a Linux program, or garbage): a fault message to
 * the thread's handler, which may answer with the result (the POSIX
 * personality works this way).  Without a handler the thread is
 * suspended and reported.
 */
void syscall_unknown(struct tcb *self, struct trap_frame *f)
{
    if (ipc_send_fault(self, PITH_FAULT_SYSCALL, f->rax, 0))
        return;
    kprintf("thread %p: unknown system call %ld; suspended\n", (void *)self, (long)f->rax);
    trap_dump(f);
    f->rax = PITH_E_NO_SYSCALL;
    tcb_suspend(self);
}
