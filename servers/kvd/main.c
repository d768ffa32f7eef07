/*
 * The key-value store (servers/kv/) as a process of its own: publishes
 * /svc/kv and serves it.  Its table lives in this process, so a restart
 * begins empty; clients find the new incarnation through the name service.
 */
#include "idl.h"
#include "kvstore.h"
#include "resolver.h"
#include "tls.h"

#include <stdio.h>

static struct kv_store store;

int main(void)
{
    struct pith_server s = { .ep = pith_object_new(PITH_OBJ_ENDPOINT, 0),
                             .reply = pith_object_new(PITH_OBJ_REPLY, 0),
                             .buf = pith_tls_self()->ipc_buffer };
    long err = register_name("/svc/kv", s.ep);
    if (err) {
        printf("kv: cannot publish /svc/kv (error %#lx)\n", err);
        return 1;
    }
    err = kv_store_serve(&s, &store);
    printf("kv: stopped serving (error %ld)\n", err);
    return 1;
}
