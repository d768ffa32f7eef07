/*
 * A server that crashes (tests/system/base.sh): publishes /test/crash,
 * then touches an unmapped address.  Its supervisor restarts it per the
 * manifest until the limit; each start publishes the name again.
 */
#include "process.h"
#include "resolver.h"

#include <stdio.h>

int main(void)
{
    uint64_t ep = pith_object_new(PITH_OBJ_ENDPOINT, 0);
    long err = register_name("/test/crash", ep);
    printf("crasher: published /test/crash (%ld); crashing in 200 ms\n", err);
    pith_sleep_ns(200000000);
    volatile uintptr_t unmapped = 0x10;    /* volatile: the compiler cannot see it is bad */
    *(volatile int *)unmapped = 1;
    return 0;
}
