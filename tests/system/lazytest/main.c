/*
 * A program started with its image mapped lazily by the memory manager
 * (manifest: lazy, tests/system/base.sh).  It checks what the ELF loader
 * would have given it (initialised data with the file's values, read-only
 * data, bss zero), that a write to its data stays its own, that its image
 * is charged to its client's quota at the manager (when it is started
 * lazily; the scenario starts it eagerly too), and uses /svc/kv (kv
 * started lazily too).  Then it stays, so that a second instance of the
 * same module runs beside it and the scenario can look at what they share.
 */
#include "idl.h"
#include "kv.h"
#include "mem.h"
#include "process.h"
#include "resolver.h"
#include "tls.h"

#include <stdio.h>
#include <string.h>

static volatile unsigned long data_value = 0x1a2b3c4dul;        /* .data: the file's value */
static const char greeting[] = "read-only data from the image";  /* .rodata */
static volatile unsigned char zeroes[40000];                     /* .bss: ten pages, zero */

static long from_slot(void *ctx, const char *name, uint64_t dest)
{
    return pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, dest, PITH_SLOT_MEM, PITH_RIGHT_WRITE | PITH_RIGHT_GRANT, 0);
}
static const struct pith_resolver slot_resolver = { from_slot, NULL };

static int fail(const char *what, long err)
{
    printf("lazytest: FAIL %s (%#lx)\n", what, err);
    return 1;
}

int main(void)
{
    const char *me = pith_bootinfo->cmdline;
    if (data_value != 0x1a2b3c4dul)
        return fail("initialised data does not hold the file's value", (long)data_value);
    data_value = 0x5eed;                /* our own copy: another instance still sees the file's */
    if (data_value != 0x5eed)
        return fail("a write to data did not stay", (long)data_value);
    for (unsigned i = 0; i < sizeof zeroes; i++)
        if (zeroes[i])
            return fail("bss is not zero", (long)i);
    zeroes[sizeof zeroes - 1] = 1;
    if (strcmp(greeting, "read-only data from the image"))
        return fail("read-only data differs", 0);

    /* Started lazily it is the manager's client, its image charged to it; loaded by init it is none. */
    char how[64] = "loaded by init";
    struct pith_msg m = { .w = { PITH_SLOT_MEM } };
    long err = pith_invoke(PITH_SLOT_CSPACE, PITH_CNODE_IDENTIFY, &m);
    if (!err && m.w[0] != PITH_OBJ_NULL) {
        struct pith_client mm;
        uint32_t quota, used, pages_free, refused;
        uint64_t bytes;
        pith_client_init(&mm, "memory manager", &slot_resolver, pith_slot_alloc(), pith_tls_self()->ipc_buffer);
        err = mem_stats(&mm, &quota, &used, &pages_free, &bytes, &refused);
        if (err || used == 0 || used > quota)
            return fail("its image is not charged to its client", err ? err : (long)used);
        snprintf(how, sizeof how, "paged by memd, image %u of %u client pages", used, quota);
    }

    /* kv, started lazily as well, serves. */
    struct pith_client kv;
    char key[40], value[40];
    uint64_t len = sizeof value;
    snprintf(key, sizeof key, "lazy/%s", me);
    pith_client_init(&kv, "/svc/kv", &names_resolver, pith_slot_alloc(), pith_tls_self()->ipc_buffer);
    if ((err = kv_put(&kv, key, greeting, sizeof greeting)) || (err = kv_get(&kv, key, value, &len)) ||
        len != sizeof greeting || memcmp(value, greeting, len))
        return fail("/svc/kv did not keep a value", err);
    printf("lazytest: PASS %s: data, read-only data and bss as loaded, /svc/kv served; %s\n", me, how);
    for (;;)
        pith_sleep_ns(1000000000000ull);
}
