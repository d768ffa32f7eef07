/* Output to the kernel log through the log capability, from any thread. */
#include "pith.h"
#include "tls.h"

#include <string.h>

void pith_log_write(const char *s, size_t n)
{
    /* Each thread has its own IPC buffer: the kernel copies from the caller's. */
    struct pith_ipc_buffer *buf = pith_tls_self()->ipc_buffer;
    while (n) {
        size_t chunk = n < sizeof *buf ? n : sizeof *buf;
        memcpy(buf->msg, s, chunk);
        pith_invoke4(PITH_SLOT_LOG, PITH_LOG_WRITE, chunk, 0, 0, 0);
        s += chunk;
        n -= chunk;
    }
}

void puts_log(const char *s)
{
    pith_log_write(s, strlen(s));
}
