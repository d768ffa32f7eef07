/* Ending the task: exit, _Exit, abort and failed assertions. */
#include "pith.h"

#include <stdio.h>
#include <stdlib.h>

#define MAX_AT_EXIT 32

static void (*at_exit[MAX_AT_EXIT])(void);
static int n_at_exit;

/* Not locked: functions are registered while a program sets itself up. */
int atexit(void (*fn)(void))
{
    if (n_at_exit == MAX_AT_EXIT)
        return -1;
    at_exit[n_at_exit++] = fn;
    return 0;
}

/* Nothing to flush: printf writes through at once.  Any thread may call it. */
_Noreturn void exit(int status)
{
    while (n_at_exit > 0)
        at_exit[--n_at_exit]();
    pith_end_task(status);
}

_Noreturn void _Exit(int status)
{
    pith_end_task(status);
}

_Noreturn void abort(void)
{
    puts_log("libc: abort\n");
    pith_end_task(127);
}

/* What musl's <assert.h> calls when an assertion fails. */
_Noreturn void __assert_fail(const char *expr, const char *file, int line, const char *func)
{
    printf("assertion failed: %s (%s:%d, %s)\n", expr, file, line, func);
    abort();
}
