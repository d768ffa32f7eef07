/*
 * The key-value server: a worked example of a server written with idlc
 * (protocol in kv.idl, docs/idl.md).  Its table lives in a struct kv_store
 * that whoever starts the server provides; handing the same store to a new
 * incarnation is how a restart keeps the data.
 */
#ifndef SERVERS_KV_KVSTORE_H
#define SERVERS_KV_KVSTORE_H

#include "kv.h"

#define KV_KEYS 32

struct kv_entry {
    union {
        uint8_t bytes[KV_GET_VALUE_MAX];
        int64_t counter;        /* a counter changes with one store */
    } value;
    uint64_t len;
    char key[KV_GET_KEY_MAX + 1];
    bool used;                  /* set last: an entry being filled is not yet in the table */
};

struct kv_store {
    struct kv_entry e[KV_KEYS];
};

extern const struct kv_handlers kv_store_handlers;

/* Serves `store` on s until a receive fails (the endpoint went away); returns that error. */
long kv_store_serve(const struct pith_server *s, struct kv_store *store);

#endif
