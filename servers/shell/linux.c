/*
 * The shell's linux command: runs a static Linux program from /fs through
 * the POSIX personality (/svc/posix, servers/posix/posix.idl) and waits
 * for it; says its exit status when it is not 0.  The program writes on
 * the console itself.
 */
#include "shell.h"
#include "posix.h"
#include "resolver.h"
#include "tls.h"

#include <string.h>

static const char env[] = "HOME=/\0PATH=/bin:/usr/bin\0TERM=vt100\0";

static const char *posix_error(long err)
{
    switch (err) {
    case POSIX_E_NOT_FOUND: return "no such file or directory";
    case POSIX_E_NOT_ELF: return "not an ELF executable";
    case POSIX_E_NOT_STATIC: return "not a static x86-64 Linux executable";
    case POSIX_E_TOO_BIG: return "too big for a process's memory";
    case POSIX_E_NO_ROOM: return "too many Linux processes at once";
    case POSIX_E_INVALID: return "invalid path or arguments";
    case POSIX_E_FS: return "the file server failed";
    case PITH_IDL_E_ARG: return "arguments too long";
    case PITH_IDL_E_NO_SERVER: return "the POSIX personality (/svc/posix) does not answer";
    default: return "failed";
    }
}

static struct pith_client posix;

static void posix_ready(void)
{
    static bool ready;
    if (!ready) {
        pith_client_init(&posix, "/svc/posix", &names_resolver, pith_slot_alloc(), pith_tls_self()->ipc_buffer);
        ready = true;
    }
}

void linux_login(const char *which)
{
    static const char ash[] = "-ash";  /* busybox's applet, '-': a login shell */
    if (strncmp(which, "ash", 3) || (which[3] && which[3] != ' ')) {
        say("login: '%.16s' is not a login shell this shell knows (ash)\n", which);
        return;
    }
    posix_ready();
    uint32_t pid, status, signal;
    long err;
    /* The personality starts after the file server, maybe after us: wait for it, 20 s at most. */
    for (int tries = 0; (err = posix_spawn(&posix, "/bin/busybox", ash, sizeof ash, env, sizeof env - 1, &pid)) ==
                            PITH_IDL_E_NO_SERVER && tries < 100; tries++)
        pith_sleep_ns(200000000);
    if (err) {
        say("login: /bin/busybox: %s\n", posix_error(err));
        return;
    }
    if ((err = posix_wait(&posix, pid, false, &status, &signal))) {
        say("login: lost track of ash (error %#lx)\n", err);
        return;
    }
    say("login: ash ended (status %u)\n", status);
}

void linux_cmd(int argc, char **argv)
{
    posix_ready();
    char args[POSIX_SPAWN_ARGV_MAX];
    size_t len = 0;
    for (int i = 1; i < argc; i++) {
        size_t n = strlen(argv[i]) + 1;
        if (len + n > sizeof args) {
            say("linux: arguments too long (%zu bytes at most)\n", sizeof args);
            return;
        }
        memcpy(args + len, argv[i], n);
        len += n;
    }
    uint32_t pid, status, signal;
    long err = posix_spawn(&posix, argv[1], args, len, env, sizeof env - 1, &pid);
    if (err) {
        say("linux: %s: %s\n", argv[1], posix_error(err));
        return;
    }
    if ((err = posix_wait(&posix, pid, false, &status, &signal))) {
        say("linux: %s: lost track of pid %u (error %#lx)\n", argv[1], pid, err);
        return;
    }
    if (signal)
        say("linux: %s: killed by signal %u (status %u)\n", argv[1], signal, status);
    else if (status)
        say("linux: %s: exit status %u\n", argv[1], status);
}
