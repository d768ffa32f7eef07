/* The kernel log ring keeps what was printed; over-long lines are marked, not cut silently. */
#include "ktest.h"
#include "core/log.h"
#include "lib/string.h"

static int ring_contains(const char *needle)
{
    static char buf[LOGRING_SIZE + 1];
    uint64_t pos = 0, lost;
    size_t n = logring_read(log_ring(), &pos, buf, LOGRING_SIZE, &lost);
    buf[n] = 0;
    return strstr(buf, needle) != NULL;
}

KTEST(log_ring_holds_banner)
{
    KT_ASSERT(ring_contains("x86-64 microkernel"));
    KT_ASSERT(ring_contains("TEST BEGIN"));
}

KTEST(log_long_line_is_marked)
{
    static char longline[700];
    memset(longline, 'x', sizeof longline - 1);
    longline[sizeof longline - 1] = 0;
    kprintf("%s\n", longline);
    KT_ASSERT(ring_contains("[log line cut: 189 bytes lost]"));
}
