#include "core/log.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/serial.h"
#include "lib/format.h"

static struct logring ring;
static unsigned uart_holders;       /* threads holding COM1's ports: none, the kernel writes there */
static bool debugcon;               /* QEMU's port 0xE9 console answers 0xE9 when read */
static bool panicking;
static bool stamp_lines, line_start = true;     /* debug console only: see log_stamp_lines */

#define DEBUGCON_PORT 0xE9

void log_init(void)
{
    serial_init();
    debugcon = inb(DEBUGCON_PORT) == DEBUGCON_PORT;
}

bool log_has_debugcon(void) { return debugcon; }
void log_stamp_lines(bool on) { stamp_lines = on; }

/* "[TSC] " before a line on the debug console: where boot time goes (docs/boot.md). */
static void debugcon_stamp(void)
{
    char stamp[24];
    int m = format(stamp, sizeof stamp, "[%lu] ", rdtsc());
    for (int i = 0; i < m; i++)
        outb(DEBUGCON_PORT, (uint8_t)stamp[i]);
}
const struct logring *log_ring(void) { return &ring; }
void log_uart_taken(void)
{
    /* Said on COM1 while it is still ours, so its reader knows where the log went. */
    if (!uart_holders)
        kprintf("log: a thread holds COM1's ports; the log goes on in the ring and the debug console\n");
    uart_holders++;
}

void log_uart_given_back(void)
{
    if (!uart_holders || --uart_holders)
        return;
    /* The driver may have left the UART any way (divisor latch open, interrupts on): as at boot. */
    serial_init();
    kprintf("log: no thread holds COM1's ports now; the log is back on it\n");
}

void log_panic_mode(void)
{
    /* A dying kernel must be heard: take COM1 back from its driver, in a known state. */
    if (!panicking && uart_holders)
        serial_init();
    panicking = true;
}

void log_write(const char *s, size_t n)
{
    uint64_t flags = read_rflags();
    irq_disable();
    if (!panicking)
        logring_write(&ring, s, n);
    for (size_t i = 0; i < n; i++) {
        if (!uart_holders || panicking) {
            if (s[i] == '\n')
                serial_putc('\r');
            serial_putc(s[i]);
        }
        if (debugcon) {
            if (stamp_lines && line_start)
                debugcon_stamp();
            outb(DEBUGCON_PORT, (uint8_t)s[i]);
            line_start = s[i] == '\n';
        }
    }
    if (flags & RFLAGS_IF)
        irq_enable();
}

void kvprintf(const char *fmt, va_list ap)
{
    char buf[512];
    int n = format_v(buf, sizeof buf, fmt, ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof buf) {
        log_write(buf, (size_t)n);
        return;
    }
    /* Never cut a message silently. */
    log_write(buf, sizeof buf - 1);
    char note[64];
    int m = format(note, sizeof note, " [log line cut: %d bytes lost]\n", n - (int)(sizeof buf - 1));
    log_write(note, (size_t)m);
}

void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
}
