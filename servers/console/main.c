/*
 * The console (console.idl): COM1 from user level.  The main thread
 * takes the UART's interrupts and edits the line being typed (backspace,
 * ^U erases the line, ^C abandons it); server threads answer writes from
 * any number of clients and hand finished lines to the one reader.  In
 * raw mode typed bytes bypass the editor and go, unechoed, to the one
 * reader of bytes (the POSIX personality, which is the terminal's line
 * discipline for its programs).
 */
#include "console.h"
#include "idl.h"
#include "pith.h"
#include "process.h"
#include "resolver.h"
#include "sync.h"
#include "thread.h"
#include "tls.h"
#include "uart.h"

#include <stdio.h>
#include <string.h>

#define SERVER_THREADS 4        /* readers waiting (a line, raw bytes) must not hold up writers */
#define QUEUED_LINES 8

static pith_mutex_t out_lock;   /* one write (or echo) at a time on the wire */
static pith_mutex_t lock;       /* the fields below */
static pith_cond_t line_ready;
static char editing[CONSOLE_READ_LINE_MAX + 1];
static size_t editing_len;
static char queued[QUEUED_LINES][CONSOLE_READ_LINE_MAX + 1];
static int queued_head, queued_count;
static bool reader_waiting, interrupted;
static bool raw_mode, raw_waiting, raw_off;
static char raw[256];           /* bytes typed in raw mode, not read yet */
static size_t raw_len;
static uint64_t endpoint;

static void put_locked(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            uart_putc('\r');
        uart_putc(s[i]);
    }
}

static void echo(const char *s)
{
    pith_mutex_lock(&out_lock);
    put_locked(s, strlen(s));
    pith_mutex_unlock(&out_lock);
}

/* One typed byte through the line discipline (called with lock held). */
static void typed(char c, bool *after_cr)
{
    if (raw_mode) {
        if (raw_len < sizeof raw)
            raw[raw_len++] = c;
        pith_cond_broadcast(&line_ready);
        return;
    }
    bool was_cr = *after_cr;
    *after_cr = c == '\r';
    if (c == '\n' && was_cr)
        return;                 /* CR LF is one end of line */
    if (c == '\r' || c == '\n') {
        echo("\n");
        if (queued_count < QUEUED_LINES) {
            int at = (queued_head + queued_count++) % QUEUED_LINES;
            memcpy(queued[at], editing, editing_len);
            queued[at][editing_len] = 0;
            pith_cond_broadcast(&line_ready);
        }
        editing_len = 0;
    } else if (c == 0x7f || c == '\b') {
        if (editing_len) {
            editing_len--;
            echo("\b \b");
        }
    } else if (c == 0x15) {     /* ^U */
        for (; editing_len; editing_len--)
            echo("\b \b");
    } else if (c == 0x03) {     /* ^C */
        echo("^C\n");
        editing_len = 0;
        if (reader_waiting) {
            interrupted = true;
            pith_cond_broadcast(&line_ready);
        }
    } else if (c >= 0x20 && c < 0x7f && editing_len < CONSOLE_READ_LINE_MAX) {
        editing[editing_len++] = c;
        char s[2] = { c, 0 };
        echo(s);
    }
}

static long on_write(void *ctx, const uint8_t *text, uint64_t len)
{
    pith_mutex_lock(&out_lock);
    put_locked((const char *)text, len);
    pith_mutex_unlock(&out_lock);
    return 0;
}

static long on_read(void *ctx, char *line)
{
    pith_mutex_lock(&lock);
    if (reader_waiting) {
        pith_mutex_unlock(&lock);
        return CONSOLE_E_BUSY;
    }
    reader_waiting = true;
    interrupted = false;
    while (!queued_count && !interrupted)
        pith_cond_wait(&line_ready, &lock);
    long err = 0;
    if (queued_count) {
        strcpy(line, queued[queued_head]);
        queued_head = (queued_head + 1) % QUEUED_LINES;
        queued_count--;
    } else {
        err = CONSOLE_E_INTERRUPTED;
    }
    reader_waiting = false;
    pith_mutex_unlock(&lock);
    return err;
}

static long on_raw(void *ctx, bool on)
{
    pith_mutex_lock(&lock);
    if (raw_mode && !on) {
        raw_off = true;         /* a byte reader waiting gives up */
        raw_len = 0;
        pith_cond_broadcast(&line_ready);
    }
    raw_mode = on;
    pith_mutex_unlock(&lock);
    return 0;
}

static long on_read_bytes(void *ctx, uint8_t *data, uint64_t *len)
{
    pith_mutex_lock(&lock);
    if (raw_waiting) {
        pith_mutex_unlock(&lock);
        return CONSOLE_E_BUSY;
    }
    raw_waiting = true;
    raw_off = false;
    while (raw_mode && !raw_len && !raw_off)
        pith_cond_wait(&line_ready, &lock);
    long err = CONSOLE_E_INTERRUPTED;
    if (raw_mode && raw_len) {
        size_t n = raw_len < CONSOLE_READ_BYTES_DATA_MAX ? raw_len : CONSOLE_READ_BYTES_DATA_MAX;
        memcpy(data, raw, n);
        memmove(raw, raw + n, raw_len - n);
        raw_len -= n;
        *len = n;
        err = 0;
    }
    raw_waiting = false;
    pith_mutex_unlock(&lock);
    return err;
}

static const struct console_handlers handlers = { .write = on_write, .read = on_read, .raw = on_raw,
                                                  .read_bytes = on_read_bytes };

static void *serve(void *arg)
{
    struct pith_server s = { .ep = endpoint, .reply = pith_object_new(PITH_OBJ_REPLY, 0),
                             .buf = pith_tls_self()->ipc_buffer };
    if (uart_claim_ports() == PITH_OK && s.reply)
        console_serve(&s, &handlers, NULL);
    printf("console: a server thread stopped\n");
    return NULL;
}

int main(void)
{
    uint64_t ntfn = pith_object_new(PITH_OBJ_NOTIFICATION, 0);
    endpoint = pith_object_new(PITH_OBJ_ENDPOINT, 0);
    long err = uart_claim_ports();
    if (!err)
        err = pith_invoke4(PITH_SLOT_IRQ, PITH_IRQ_HANDLER_SET_NOTIFICATION, ntfn, 1, 0, 0);
    if (err || !ntfn || !endpoint) {
        printf("console: no UART ports or interrupt (error %ld)\n", err);
        return 1;
    }
    pith_mutex_init(&out_lock);
    pith_mutex_init(&lock);
    pith_cond_init(&line_ready);
    uart_init();
    for (int i = 0; i < SERVER_THREADS; i++) {
        pith_thread_t *t;
        if (pith_thread_create(&t, serve, NULL))
            printf("console: cannot start server thread %d\n", i);
    }
    if ((err = register_name("/dev/console", endpoint))) {
        printf("console: cannot publish /dev/console (error %#lx)\n", err);
        return 1;
    }
    bool after_cr = false;
    for (;;) {
        struct pith_msg m = { 0 };
        pith_recv(ntfn, &m, 0);
        bool any = false;
        int c;
        pith_mutex_lock(&lock);
        while ((c = uart_getc()) >= 0) {
            typed((char)c, &after_cr);
            any = true;
        }
        pith_mutex_unlock(&lock);
        pith_invoke4(PITH_SLOT_IRQ, PITH_IRQ_HANDLER_ANSWER, any ? 1 : 0, 0, 0, 0);
    }
}
