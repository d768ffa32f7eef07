/*
 * Extension objects (docs/extensions.md).  A program is copied into the
 * object before it is verified, so the user cannot change it afterwards;
 * only a verified program can be attached.  Attaching sets one pointer in
 * the endpoint or IRQ handler (the "hook"); the event's code calls in only
 * when that pointer is set, so an object without an extension pays one
 * test.  Detaching, deleting either side, or revoking the memory either
 * came from clears the pointer there and then: under the big kernel lock
 * no run can start after that, and none is in progress (runs finish
 * within the kernel entry that began them).
 */
#include "object/extension.h"
#include "ext/ext.h"
#include "object/cnode.h"
#include "object/tcb.h"
#include "arch/x86_64/vm.h"
#include <pith/fault.h>
#include "lib/string.h"
#include <pith/ipc_buffer.h>
#include <pith/syscall.h>

int extension_load(struct extension *e, uint64_t event, uint64_t count, const struct cap *text,
                   uint64_t out[2])
{
    if (e->hook)
        return PITH_E_STATE;            /* detach first: a running program is never replaced */
    e->n = 0;
    struct ext_verdict v = { PITH_EXT_R_LENGTH, 0 };
    if (count && count <= PITH_EXT_MAX_INSNS) {
        memcpy(e->text, (const void *)(uintptr_t)text->obj, (size_t)count * sizeof e->text[0]);
        v = ext_verify(e->text, (uint32_t)count, event < PITH_EXT_EVENT_COUNT ? (uint32_t)event : 0);
    }
    if (v.rule != PITH_EXT_OK) {
        out[0] = (uint64_t)v.rule;
        out[1] = v.insn;
        return PITH_E_VERIFY;
    }
    e->n = (uint32_t)count;
    e->event = (uint32_t)event;
    /* Runs of a program that calls no map helper need not look the maps up. */
    e->uses_maps = 0;
    for (uint32_t i = 0; i < e->n; i++)
        if (e->text[i].op == PITH_EXT_CALL && e->text[i].imm != PITH_EXT_MSG_WORD)
            e->uses_maps = 1;
    e->runs = e->aborts = 0;
    return PITH_OK;
}

int extension_set_map(struct extension *e, uint64_t index, struct slot *frame)
{
    int err = cap_delete(&e->maps[index]);
    if (err)
        return err;
    return frame ? cap_copy(frame, &e->maps[index], PITH_RIGHTS_ALL) : PITH_OK;
}

int extension_set_pool(struct extension *e, struct slot *cnode)
{
    int err = cap_delete(&e->pool);
    if (err)
        return err;
    return cnode ? cap_copy(cnode, &e->pool, PITH_RIGHTS_ALL) : PITH_OK;
}

int extension_attach(struct extension *e, struct extension **hook)
{
    if (!e->n || e->hook || *hook)
        return PITH_E_STATE;            /* nothing verified, attached already, or the place is taken */
    e->hook = hook;
    *hook = e;
    return PITH_OK;
}

int extension_detach(struct extension *e)
{
    if (!e->hook)
        return PITH_E_STATE;
    *e->hook = NULL;
    e->hook = NULL;
    return PITH_OK;
}

void extension_unhook(struct extension **hook)
{
    if (*hook)
        extension_detach(*hook);
}

void extension_finalise(struct extension *e)
{
    if (e->hook)
        extension_detach(e);
}

/* One run: the maps are whichever frames the slots hold now. */
static uint64_t run(struct extension *e, void *ctx, struct ext_env *env)
{
    int aborted;
    for (int i = 0; e->uses_maps && i < PITH_EXT_MAPS; i++)
        env->maps[i] = e->maps[i].cap.type == PITH_OBJ_FRAME ? (uint64_t *)(uintptr_t)e->maps[i].cap.obj : NULL;
    e->runs++;
    uint64_t verdict = ext_run(e->text, e->n, ctx, env, &aborted);
    e->aborts += (uint64_t)aborted;
    return verdict;
}

/*
 * A call the fast path saw first and the program passed on: the slow path
 * that follows in the same kernel entry (the fast path checked everything
 * it checks, so it reaches ipc_send) must not run the program again.  One
 * for the whole kernel: it runs under the big kernel lock.
 */
static const struct tcb *passed_by_fastpath;

bool extension_on_send(struct extension *e, struct tcb *self, uint64_t badge, uint64_t tag, bool call)
{
    struct trap_frame *f = &self->ctx;
    if (passed_by_fastpath == self) {
        passed_by_fastpath = NULL;
        return false;
    }
    if (e->event != PITH_EXT_EVENT_IPC)
        return false;                   /* a fault program on this endpoint: messages pass */
    struct pith_ext_ipc_ctx c = {
        .badge = badge, .label = PITH_TAG_LABEL(tag), .length = PITH_TAG_LENGTH(tag), .call = call,
        .msg = { f->rdx, f->r10, f->r8, f->r9 },
    };
    /* Words past the registers are in the IPC buffer (check_message saw to it that there is one). */
    const struct pith_ipc_buffer *buf = c.length > PITH_MSG_REGS ? tcb_ipc_buffer(self) : NULL;
    struct ext_env env = { .msg = buf ? buf->msg : NULL, .msg_len = c.length, .msg_regs = c.msg };
    switch (run(e, &c, &env)) {
    case PITH_EXT_DROP:
        f->rax = PITH_E_REFUSED;
        return true;
    case PITH_EXT_REPLY: {
        /* Answered here: the sender goes on as if the server had replied, without a switch. */
        uint64_t len = c.reply_length < PITH_MSG_REGS ? c.reply_length : PITH_MSG_REGS;
        self->ipc_flags = 0;
        f->rax = PITH_OK;
        if (!call)
            return true;
        f->rdi = 0;
        f->rsi = PITH_TAG(c.reply_label & 0xffffffffffffull, len);
        f->rdx = len > 0 ? c.reply[0] : 0;
        f->r10 = len > 1 ? c.reply[1] : 0;
        f->r8 = len > 2 ? c.reply[2] : 0;
        f->r9 = len > 3 ? c.reply[3] : 0;
        return true;
    }
    default:
        return false;
    }
}

struct trap_frame *extension_fastpath(struct extension *e, struct tcb *self, struct trap_frame *f, uint64_t badge)
{
    passed_by_fastpath = NULL;
    if (extension_on_send(e, self, badge, f->rsi, true))
        return f;                       /* answered or refused: the caller resumes at once */
    passed_by_fastpath = self;
    return NULL;
}

bool extension_on_fault(struct extension *e, struct tcb *self, uint64_t badge, uint64_t kind, uint64_t addr,
                        uint64_t error)
{
    if (e->event != PITH_EXT_EVENT_FAULT)
        return false;                   /* an IPC program on this endpoint: faults pass */
    struct trap_frame *f = &self->ctx;
    struct pith_ext_fault_ctx c = { .kind = kind, .addr = addr, .error = error, .rip = f->rip, .badge = badge };
    if (kind == PITH_FAULT_SYSCALL) {
        c.args[0] = f->rdi, c.args[1] = f->rsi, c.args[2] = f->rdx;
        c.args[3] = f->r10, c.args[4] = f->r8, c.args[5] = f->r9;
    }
    struct ext_env env = { .msg_len = 0 };
    struct slot *frame;
    uint64_t verdict = run(e, &c, &env);
    if (verdict == PITH_EXT_RESULT && kind == PITH_FAULT_SYSCALL) {
        /* Answered here, as a PITH_FAULT_SYSCALL_RESULT reply would: rax, and the thread goes on. */
        f->rax = c.result;
        return true;
    }
    if (verdict != PITH_EXT_MAP || kind != PITH_FAULT_PAGE)
        return false;
    /* The pool's frame, mapped where the thread faulted; anything amiss and the handler hears of it. */
    if (e->pool.cap.type != PITH_OBJ_CNODE || cnode_slot(&e->pool.cap, c.frame, &frame) ||
        frame->cap.type != PITH_OBJ_FRAME || (frame->cap.flags & CAP_FLAG_DEVICE) ||
        (frame->cap.rights & (PITH_RIGHT_READ | PITH_RIGHT_WRITE)) != (PITH_RIGHT_READ | PITH_RIGHT_WRITE))
        return false;
    return vm_map_frame(&self->slots[TCB_SLOT_VSPACE].cap, &frame->cap, addr & ~0xfffull,
                        PITH_RIGHT_READ | PITH_RIGHT_WRITE) == PITH_OK;
}

int extension_on_irq(struct extension *e, uint64_t line, uint64_t count)
{
    struct pith_ext_irq_ctx c = { .line = line, .count = count };
    struct ext_env env = { .msg_len = 0 };
    uint64_t v = run(e, &c, &env);
    return v == PITH_EXT_CLAIM || v == PITH_EXT_NOT_MINE ? (int)v : PITH_EXT_WAKE;
}
