/*
 * The shell: reads lines from the console, splits them into words and
 * runs the command (commands.c).  It reaches the console by name
 * (/dev/console) and the process manager through the capability the
 * manifest gave it (procs), so either can restart under it.
 */
#include "shell.h"
#include "console.h"
#include "process.h"
#include "resolver.h"
#include "tls.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORDS 16

struct pith_client console, procmgr;

/* The process manager is init, which never restarts: the capability we were given. */
static long procmgr_itself(void *ctx, const char *name, uint64_t dest_slot)
{
    return pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, dest_slot, PITH_SLOT_PROCS, PITH_RIGHTS_ALL, 0);
}

static const struct pith_resolver boot_capability = { .lookup = procmgr_itself };

void say(const char *fmt, ...)
{
    char small[CONSOLE_WRITE_TEXT_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    char *text = small;
    if ((size_t)n >= sizeof small) {
        if (!(text = malloc((size_t)n + 1)))
            return;
        va_start(ap, fmt);
        vsnprintf(text, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    for (int at = 0; at < n; at += CONSOLE_WRITE_TEXT_MAX) {
        int chunk = n - at < CONSOLE_WRITE_TEXT_MAX ? n - at : CONSOLE_WRITE_TEXT_MAX;
        console_write(&console, text + at, (uint64_t)chunk);
    }
    if (text != small)
        free(text);
}

int main(void)
{
    struct pith_ipc_buffer *buf = pith_tls_self()->ipc_buffer;
    pith_client_init(&console, "/dev/console", &names_resolver, pith_slot_alloc(), buf);
    pith_client_init(&procmgr, "procmgr", &boot_capability, pith_slot_alloc(), buf);
    /* make run LOGIN=ash: the manifest's args=login=ash; the Pith shell comes back when ash ends. */
    const char *login = strstr(pith_bootinfo->cmdline, " login=");
    if (login)
        linux_login(login + 7);
    say("\nPith shell. Type help for the commands.\n");
    char line[CONSOLE_READ_LINE_MAX + 1];
    bool first = true;
    for (;;) {
        say("pith> ");
        /* The TSC counts from reset (instructions under icount): make bench's pith.boot_to_shell. */
        if (first)
            printf("shell: first prompt %lu TSC ticks after reset\n", pith_rdtsc());
        first = false;
        long err = console_read(&console, line);
        if (err == CONSOLE_E_INTERRUPTED || err == PITH_IDL_E_RESTARTED)
            continue;
        if (err) {
            printf("shell: the console does not answer (error %#lx)\n", err);
            pith_sleep_ns(100000000);
            continue;
        }
        char *words[MAX_WORDS], *save, *w;
        int n = 0;
        for (w = strtok_r(line, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
            if (n == MAX_WORDS) {
                say("shell: more than %d words\n", MAX_WORDS);
                break;
            }
            words[n++] = w;
        }
        if (n > 0 && n <= MAX_WORDS && !w)
            run_command(n, words);
    }
}
