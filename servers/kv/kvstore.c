/*
 * The key-value server's handlers: no marshalling and no argument checks
 * here; the generated dispatch (kv_server.c) has done them.  Each handler
 * changes the table with one final store, so a server that dies inside a
 * handler leaves the table as it was or as it should be, never half-done.
 */
#include "kvstore.h"
#include "lib/string.h"

static struct kv_entry *find(struct kv_store *st, const char *key)
{
    for (int i = 0; i < KV_KEYS; i++)
        if (st->e[i].used && !strcmp(st->e[i].key, key))
            return &st->e[i];
    return NULL;
}

/* A free entry filled with key and value, not yet in the table (the caller sets used). */
static struct kv_entry *fresh(struct kv_store *st, const char *key, const void *value, uint64_t len)
{
    for (int i = 0; i < KV_KEYS; i++) {
        struct kv_entry *e = &st->e[i];
        if (!e->used) {
            memcpy(e->key, key, strlen(key) + 1);
            memcpy(e->value.bytes, value, len);
            e->len = len;
            return e;
        }
    }
    return NULL;
}

static long put(void *ctx, const char *key, const uint8_t *value, uint64_t value_len)
{
    struct kv_store *st = ctx;
    struct kv_entry *old = find(st, key), *e = fresh(st, key, value, value_len);
    if (!e)
        return KV_E_FULL;
    /* The new entry goes in as the old one goes out (one store each, new first: a lookup finds one of them). */
    e->used = true;
    if (old)
        old->used = false;
    return PITH_OK;
}

static long get(void *ctx, const char *key, uint8_t *value, uint64_t *value_len)
{
    struct kv_entry *e = find(ctx, key);
    if (!e)
        return KV_E_NOT_FOUND;
    memcpy(value, e->value.bytes, e->len);
    *value_len = e->len;
    return PITH_OK;
}

static long add(void *ctx, const char *key, int64_t delta, int64_t *total)
{
    struct kv_store *st = ctx;
    struct kv_entry *e = find(st, key);
    int64_t sum;
    if (e) {
        if (e->len != sizeof sum)
            return KV_E_NOT_COUNTER;
        sum = e->value.counter;
        /* Wraps like the hardware does, without the undefined behaviour of signed overflow. */
        sum = (int64_t)((uint64_t)sum + (uint64_t)delta);
        e->value.counter = sum;
    } else {
        sum = delta;
        if (!(e = fresh(st, key, &sum, sizeof sum)))
            return KV_E_FULL;
        e->used = true;
    }
    *total = sum;
    return PITH_OK;
}

static long remove_key(void *ctx, const char *key)
{
    struct kv_entry *e = find(ctx, key);
    if (!e)
        return KV_E_NOT_FOUND;
    e->used = false;
    return PITH_OK;
}

static long count(void *ctx, uint32_t *keys)
{
    struct kv_store *st = ctx;
    uint32_t n = 0;
    for (int i = 0; i < KV_KEYS; i++)
        n += st->e[i].used;
    *keys = n;
    return PITH_OK;
}

const struct kv_handlers kv_store_handlers = {
    .put = put, .get = get, .add = add, .remove = remove_key, .count = count,
};

long kv_store_serve(const struct pith_server *s, struct kv_store *store)
{
    return kv_serve(s, &kv_store_handlers, store);
}
