/*
 * One of several processes writing to the console at once
 * (tests/system/base.sh): 20 numbered lines, each one write, so each
 * must come out whole.  Its name (the manifest's) is in the boot
 * information's command line.  It stays alive afterwards, so that init's
 * report of its end cannot land on the line between the others' lines
 * (the kernel's log still goes to COM1 too).
 */
#include "console.h"
#include "resolver.h"
#include "tls.h"

#include <stdio.h>
#include <string.h>

int main(void)
{
    struct pith_client con;
    pith_client_init(&con, "/dev/console", &names_resolver, pith_slot_alloc(), pith_tls_self()->ipc_buffer);
    const char *me = pith_bootinfo->cmdline;
    for (int i = 1; i <= 20; i++) {
        char line[96];
        int n = snprintf(line, sizeof line, "%s: line %02d of 20, written whole in one request\n", me, i);
        long err = console_write(&con, line, (uint64_t)n);
        if (err) {
            printf("%s: write %d failed (error %#lx)\n", me, i, err);
            return 1;
        }
        pith_yield();           /* let the other writers in between lines */
    }
    for (;;)
        pith_sleep_ns(1000000000000ull);
}
