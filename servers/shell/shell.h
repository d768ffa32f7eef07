/* The shell (servers/shell/): commands over the console, the process manager and the name service. */
#ifndef SHELL_SHELL_H
#define SHELL_SHELL_H

#include "idl.h"

extern struct pith_client console, procmgr;

/* Formatted output on the console (long output is split, never cut). */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runs one command line: argv[0] the command, argc >= 1. */
void run_command(int argc, char **argv);

/* bench.c: the bench command. */
void bench(int argc, char **argv);

/* files.c: the file commands over /fs. */
void ls(int argc, char **argv);
void cat(int argc, char **argv);
void write_cmd(int argc, char **argv);
void mkdir_cmd(int argc, char **argv);
void rm(int argc, char **argv);
void mv(int argc, char **argv);
void df(int argc, char **argv);
void sync_cmd(int argc, char **argv);

/* net.c: the network through /svc/net. */
void ifconfig(int argc, char **argv);
void ping(int argc, char **argv);

/* linux.c: static Linux programs through /svc/posix. */
void linux_cmd(int argc, char **argv);
void linux_login(const char *which);   /* the login shell (manifest args=login=ash) */

#endif
