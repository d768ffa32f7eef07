/*
 * argc, argv, envp and the auxiliary vector as Linux's kernel lays them out;
 * then execve of itself with 200 arguments and a 20 KiB environment string
 * (a shell's exported variables), and a 200 KiB string refused (E2BIG).
 */
#include "common.h"

#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

extern char **environ;
extern char _start[];

#define BIG_ARGS 200
#define BIG_ENV (20 * 1024)
#define TOO_BIG (200 * 1024)            /* over Linux's 128 KiB a string and Pith's 32 KiB in all */

/* The image run with many arguments and a big environment: are they whole? */
static int big_run(int argc, char **argv)
{
    int whole = argc == BIG_ARGS;
    for (int i = 2; i < argc; i++)
        whole &= atoi(argv[i]) == i;
    const char *v = getenv("BIG");
    size_t len = v ? strlen(v) : 0;
    for (size_t i = 0; i < len; i++)
        whole &= v[i] == 'a' + (char)(i % 26);
    printf("execve with %d arguments and a %zu-byte environment string: %s\n", argc, len,
           whole && len == BIG_ENV ? "whole" : "damaged");
    return 0;
}

/* execve of itself: a string too big refused, then many arguments and a big environment. */
static void big_exec(const char *self)
{
    static char big[BIG_ENV + 5], too[TOO_BIG], nums[BIG_ARGS][8];
    static char *args[BIG_ARGS + 1], *envs[2];
    memcpy(big, "BIG=", 4);
    for (int i = 0; i < BIG_ENV; i++)
        big[4 + i] = 'a' + (char)(i % 26);
    memset(too, 'x', sizeof too - 1);
    args[0] = (char *)self;
    args[1] = "big";
    for (int i = 2; i < BIG_ARGS; i++) {
        snprintf(nums[i], sizeof nums[i], "%d", i);
        args[i] = nums[i];
    }
    envs[0] = too;
    printf("execve with a 200 KiB string: %s\n", execve(self, args, envs) < 0 && errno == E2BIG ? "E2BIG" : "?");
    envs[0] = big;
    fflush(stdout);
    execve(self, args, envs);
    printf("execve with a big environment failed: errno %d\n", errno);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "big"))
        return big_run(argc, argv);
    printf("argc %d\n", argc);
    printf("argv[0] %s\n", base_name(argv[0]));
    for (int i = 1; i < argc; i++)
        printf("argv[%d] %s\n", i, argv[i]);
    printf("argv[argc] is NULL: %s\n", argv[argc] ? "no" : "yes");
    for (char **e = environ; *e; e++)
        printf("env %s\n", *e);
    printf("AT_PAGESZ %lu\n", getauxval(AT_PAGESZ));
    printf("AT_PHENT %lu\n", getauxval(AT_PHENT));
    const Elf64_Phdr *ph = (const Elf64_Phdr *)getauxval(AT_PHDR);
    unsigned long n = getauxval(AT_PHNUM), loads = 0;
    for (unsigned long i = 0; ph && i < n; i++)
        loads += ph[i].p_type == PT_LOAD;
    printf("AT_PHDR holds %lu loadable segments of %lu headers: %s\n", loads, n, loads > 0 ? "yes" : "no");
    printf("AT_ENTRY is _start: %s\n", getauxval(AT_ENTRY) == (unsigned long)_start ? "yes" : "no");
    printf("AT_UID matches getuid: %s\n", getauxval(AT_UID) == getuid() ? "yes" : "no");
    printf("AT_EUID matches geteuid: %s\n", getauxval(AT_EUID) == geteuid() ? "yes" : "no");
    printf("AT_GID matches getgid: %s\n", getauxval(AT_GID) == getgid() ? "yes" : "no");
    printf("AT_EGID matches getegid: %s\n", getauxval(AT_EGID) == getegid() ? "yes" : "no");
    printf("AT_SECURE %lu\n", getauxval(AT_SECURE));
    printf("AT_CLKTCK %lu\n", getauxval(AT_CLKTCK));
    printf("AT_HWCAP has SSE2: %s\n", getauxval(AT_HWCAP) & (1ul << 26) ? "yes" : "no");
    const unsigned char *rnd = (const unsigned char *)getauxval(AT_RANDOM);
    int nonzero = 0;
    for (int i = 0; rnd && i < 16; i++)
        nonzero |= rnd[i];
    printf("AT_RANDOM 16 bytes, not all zero: %s\n", rnd && nonzero ? "yes" : "no");
    const char *fn = (const char *)getauxval(AT_EXECFN);
    printf("AT_EXECFN %s\n", fn ? base_name(fn) : "(none)");
    printf("stack aligned: %s\n", ((uintptr_t)__builtin_frame_address(0) & 7) == 0 ? "yes" : "no");
    fflush(stdout);
    big_exec(argv[0]);
    return 1;
}
