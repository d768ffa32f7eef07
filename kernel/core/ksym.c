#include "core/ksym.h"

const char *ksym_find(const struct ksym_table *t, uint64_t addr, uint64_t *offset)
{
    if (t->count == 0 || addr < t->addr[0] || addr >= t->text_end)
        return NULL;
    /* Binary search for the last symbol at or below addr. */
    size_t lo = 0, hi = t->count;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->addr[mid] <= addr)
            lo = mid;
        else
            hi = mid;
    }
    *offset = addr - t->addr[lo];
    return t->names + t->name_off[lo];
}

#ifndef PITH_HOST_TEST
extern const uint64_t ksym_count;
extern const uint64_t ksym_addrs[];
extern const uint32_t ksym_name_offs[];
extern const char ksym_names[];
extern char __text_end[];

const char *ksym_lookup(uint64_t addr, uint64_t *offset)
{
    struct ksym_table t = {
        ksym_addrs, ksym_name_offs, ksym_names, (size_t)ksym_count, (uint64_t)__text_end,
    };
    return ksym_find(&t, addr, offset);
}
#endif
