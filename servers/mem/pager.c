/*
 * The pager: a page fault of a client's thread arrives as a message on
 * the manager's endpoint (docs/faults.md), with the client's badge; the
 * manager maps the page as the region says and the thread is resumed.
 * A page of a program image is filled from its file (image.c).
 */
#include <pith/fault.h>
#include "memserver.h"
#include "lib/string.h"

#define PAGE 4096ull

/* Maps entry i of r as it should be now; a write to a shared copy-on-write page copies it first. */
static long fault_entry(struct mem_state *st, struct mem_region *r, unsigned i, bool write)
{
    struct mem_entry *e = &r->e[i];
    uint64_t va = r->base + i * PAGE;
    long err = PITH_OK;
    if (write && !r->writable)
        return MEM_E_DENIED;                    /* a read-only share */
    if (e->frame == MEM_NONE) {
        /* An evicted page is charged again before it comes back (the quota may have no room by now). */
        if (e->evicted && (err = mem_charge(st, &st->client[r->client], 1)))
            return err;
        /* Demand-zero; committed, so there is one.  An image page comes from the cache or its file. */
        if (r->kind == REGION_IMAGE) {
            err = image_fill(st, r, i);
        } else if ((e->frame = (uint16_t)pool_alloc(st, true)) == MEM_NONE) {
            err = MEM_E_NO_MEMORY;
        } else if (r->kind == REGION_SEGMENT && (err = segment_pull(st, r, i))) {
            pool_unref(st, e->frame);
        }
        if (err) {
            e->frame = MEM_NONE;
            if (e->evicted)
                mem_uncharge(st, r->client, 1);
            return err;
        }
        if (e->evicted) {
            e->evicted = 0;
            r->evicted--;
        }
        e->ref = 1;
        e->dirty = 0;
    } else if (write && e->cow) {
        if (st->refs[e->frame] > 1) {
            uint32_t copy = pool_alloc(st, false);
            if (copy == MEM_NONE)
                return MEM_E_NO_MEMORY;
            memcpy(pool_page(st, copy), pool_page(st, e->frame), PAGE);
            pool_unref(st, e->frame);
            e->frame = (uint16_t)copy;
        }
        e->cow = 0;                             /* the last one keeps the page */
    }
    /*
     * Mapped already: another thread's fault served it meanwhile, or the
     * client's own page tables changed under it.  Mapping it again is
     * right in every case.
     */
    bool writable = r->writable && !e->cow;
    if (e->slot)
        pool_unmap(st, e->slot);
    e->slot = pool_map(st, r->client, e->frame, va, writable, r->exec, &err);
    e->writable = writable;
    return e->slot ? PITH_OK : err;
}

/* A fault message from a client's thread: true if the page is now there. */
bool mem_fault(struct mem_state *st, const struct pith_msg *m)
{
    struct mem_client *c = mem_caller(st);
    if (!c || m->w[0] != PITH_FAULT_PAGE)
        return false;
    struct mem_region *r = mem_region_at(st, (unsigned)(c - st->client), m->w[1], false);
    if (r && fault_entry(st, r, (unsigned)((m->w[1] - r->base) / PAGE), m->w[2] & PITH_PF_WRITE) == PITH_OK)
        return true;
    c->refused++;
    return false;
}

/*
 * A fault the manager cannot serve is left unanswered: its reply object
 * is deleted, so the kernel suspends the thread and reports it, and the
 * manager takes a fresh reply object from its bank.
 */
long mem_new_reply(struct mem_state *st)
{
    pith_invoke4(MEM_SLOT_CNODE, PITH_CNODE_DELETE, MEM_SLOT_REPLY, 0, 0, 0);
    if (st->replies_made == 1u << (MEM_REPLY_BANK_BITS - PITH_REPLY_BITS)) {
        pith_invoke4(MEM_SLOT_CNODE, PITH_CNODE_REVOKE, MEM_SLOT_REPLY_BANK, 0, 0, 0);
        st->replies_made = 0;
    }
    st->replies_made++;
    return pith_invoke4(MEM_SLOT_REPLY_BANK, PITH_UNTYPED_RETYPE, PITH_OBJ_REPLY, MEM_SLOT_CNODE, MEM_SLOT_REPLY, 1);
}
