/*
 * nettest: "serve" (node B) or "check" (node A), from its command line
 * (the manifest's args=); "bench" only measures the UDP round trip;
 * "dhcp" checks the address QEMU's user network gives.  Lines "nettest: PASS name" and "nettest: FAIL
 * name: why", then "nettest: N passed, N failed".
 */
#include "nettest.h"
#include "pith.h"
#include "resolver.h"
#include "tls.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int passed, failed;

void net_bind(struct pith_client *c)
{
    pith_client_init(c, "/svc/net", &names_resolver, pith_slot_alloc(), pith_tls_self()->ipc_buffer);
}

void check(bool ok, const char *name, const char *fmt, ...)
{
    char why[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (ok) {
        passed++;
        printf("nettest: PASS %s\n", name);
    } else {
        failed++;
        printf("nettest: FAIL %s: %s\n", name, why);
    }
}

uint64_t now_ns(void)
{
    return pith_clock_ns((const struct pith_time_page *)pith_bootinfo->time_page);
}

int main(void)
{
    if (strstr(pith_bootinfo->cmdline, " serve"))
        serve();
    if (strstr(pith_bootinfo->cmdline, " dhcp")) {
        dhcp_checks();
        printf("nettest: %d passed, %d failed\n", passed, failed);
        return failed != 0;
    }
    if (strstr(pith_bootinfo->cmdline, " bench")) {
        /* make bench: only the round trip, once node B answers. */
        wait_for_b();
        bench_udp_rtt();
        printf("nettest: %d passed, %d failed\n", passed, failed);
        return failed != 0;
    }
    udp_checks();
    tcp_checks();
    nowait_checks();
    kill_checks();
    bench_udp_rtt();
    printf("nettest: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
