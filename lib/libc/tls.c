/* Thread blocks (tls.h) and the stack-protector canary they carry. */
#include "tls.h"
#include "pith.h"

#include <stdlib.h>

static struct pith_tls main_block;
static uint64_t guard;

struct pith_tls *pith_tls_self(void)
{
    struct pith_tls *t;
    __asm__("mov %%fs:0, %0" : "=r"(t));
    return t;
}

static void fill(struct pith_tls *t, struct pith_ipc_buffer *ipc_buffer, uint64_t tcb)
{
    t->self = t;
    t->stack_guard = guard;
    t->ipc_buffer = ipc_buffer;
    t->tcb = tcb;
}

void pith_tls_init_main(struct pith_ipc_buffer *ipc_buffer, uint64_t tcb)
{
    /*
     * One canary for every thread, from the TSC at start; the low byte is
     * zero so a string overflow cannot copy it (the usual choice).
     */
    uint64_t t = pith_rdtsc();
    guard = (t * 0x9e3779b97f4a7c15ull ^ (t >> 29)) & ~0xffull;
    fill(&main_block, ipc_buffer, tcb);
    if (pith_invoke4(tcb, PITH_TCB_SET_TLS, (uint64_t)&main_block, 0, 0, 0))
        pith_end_task(1);
}

struct pith_tls *pith_tls_new(struct pith_ipc_buffer *ipc_buffer, uint64_t tcb)
{
    struct pith_tls *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    fill(t, ipc_buffer, tcb);
    t->ntfn = pith_object_new(PITH_OBJ_NOTIFICATION, 0);
    if (!t->ntfn) {
        free(t);
        return NULL;
    }
    return t;
}

/* Called by code built with the stack protector (musl's) when a canary changed. */
_Noreturn void __stack_chk_fail(void)
{
    puts_log("libc: stack overflow detected (canary changed)\n");
    abort();
}
